//! Frames in and out of a bridged node or client, over `madsim::net::Endpoint`.
//!
//! Receiving: a task per endpoint takes every frame off it and queues it, so the node's
//! loop can wait for "a frame or my next timer" without losing a frame to a timeout.
//!
//! madsim's network model, as measured here: `send_to` and `recv_from` each sleep for a
//! random 0-5 us, which its timers round up to their minimum step, 1 ms. So a datagram
//! takes 1 ms + its latency draw + 1 ms; and a receiver takes at most one frame per
//! millisecond. Frames are therefore sent from tasks of their own and received by a pool of
//! [`RECEIVERS`] tasks, so neither step holds up the node or the other frames, and
//! [`crate::madsim_run::Plan`] takes the 2 ms off madsim's latency range.
//!
//! Sending under madsim: a task per frame (see above). In
//! std mode (real TCP through madsim's `Endpoint`) every destination has its own queue, task
//! and sending endpoint: a slow or dead peer holds up only its own frames, a frame that
//! cannot be sent is dropped (the protocol sees a lost message), and the sending endpoint is
//! replaced after a failure so the next frame reconnects to a restarted peer.

#[cfg(not(madsim))]
use crate::wire::MAX_FRAME;
use crate::wire::TAG;
#[cfg(not(madsim))]
use futures::channel::mpsc::UnboundedSender;
use futures::channel::mpsc::{UnboundedReceiver, unbounded};
use madsim::net::Endpoint;
use std::io;
use std::net::SocketAddr;

/// Receivers per endpoint under madsim: frames one endpoint can take in the same
/// millisecond of virtual time without waiting for one another.
#[cfg(madsim)]
pub const RECEIVERS: usize = 16;

/// Binds `addr` and starts the task(s) that queue every frame received on it.
pub async fn listen(addr: SocketAddr) -> io::Result<(Endpoint, UnboundedReceiver<Vec<u8>>)> {
    let ep = Endpoint::bind(addr).await?;
    let (tx, rx) = unbounded();
    // madsim's `recv_from` sleeps 1 ms (its minimum timer step) after taking a frame: a pool
    // of receivers takes up to `RECEIVERS` frames in the same millisecond instead of one.
    #[cfg(madsim)]
    for _ in 0..RECEIVERS {
        let (rx_ep, tx) = (ep.clone(), tx.clone());
        madsim::task::spawn_local(async move {
            // The simulator hands over the sender's buffer itself: no copy, no receive buffer.
            while let Ok((payload, _)) = rx_ep.recv_from_raw(TAG).await {
                let Ok(frame) = payload.downcast::<Vec<u8>>() else {
                    continue;
                };
                if tx.unbounded_send(*frame).is_err() {
                    break;
                }
            }
        });
    }
    #[cfg(not(madsim))]
    {
        let rx_ep = ep.clone();
        madsim::task::spawn_local(async move {
            let mut buf = vec![0u8; MAX_FRAME];
            while let Ok((n, _)) = rx_ep.recv_from(TAG, &mut buf).await {
                if n < MAX_FRAME && tx.unbounded_send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
    }
    Ok((ep, rx))
}

/// Where a node's or client's frames go out.
pub struct Outbox {
    #[cfg(madsim)]
    ep: Endpoint,
    #[cfg(not(madsim))]
    links: std::collections::BTreeMap<SocketAddr, UnboundedSender<Vec<u8>>>,
}

impl Outbox {
    /// Sends through `ep` (the simulator), or through one endpoint per destination (std).
    pub fn new(ep: &Endpoint) -> Outbox {
        #[cfg(madsim)]
        return Outbox { ep: ep.clone() };
        #[cfg(not(madsim))]
        {
            let _ = ep;
            Outbox {
                links: Default::default(),
            }
        }
    }

    /// Sends one frame; an undeliverable frame is lost, as on a real network.
    pub fn send(&mut self, dst: SocketAddr, frame: Vec<u8>) {
        // madsim's `send_to` sleeps 1 ms before it hands the frame to the network: in a task of
        // its own, so that the sender goes on.
        #[cfg(madsim)]
        {
            let ep = self.ep.clone();
            madsim::task::spawn_local(async move {
                let _ = ep.send_to(dst, TAG, &frame).await;
            });
        }
        #[cfg(not(madsim))]
        {
            let link = self.links.entry(dst).or_insert_with(|| {
                let (tx, rx) = unbounded();
                madsim::task::spawn_local(link(dst, rx));
                tx
            });
            let _ = link.unbounded_send(frame);
        }
    }
}

/// std mode: sends the frames queued for `dst`, in order, each within a second.
#[cfg(not(madsim))]
async fn link(dst: SocketAddr, mut frames: UnboundedReceiver<Vec<u8>>) {
    use futures::StreamExt;
    use std::time::Duration;
    let mut ep: Option<Endpoint> = None;
    while let Some(frame) = frames.next().await {
        if ep.is_none() {
            let local = if dst.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
            ep = Endpoint::bind(local).await.ok();
        }
        let Some(sender) = ep.clone() else { continue };
        // madsim's std endpoint panics on a refused connection or a closed one: a task of its
        // own turns that into an error here.
        let send = madsim::task::spawn(async move { sender.send_to(dst, TAG, &frame).await });
        let sent = madsim::time::timeout(Duration::from_secs(1), send).await;
        if !matches!(sent, Ok(Ok(Ok(())))) {
            ep = None;
        }
    }
}
