//! The nodes of one bridged run, as the engine's monitors see them.
//!
//! A [`Cluster`] owns every node's [`Host`] (volatile state, durable storage, random
//! stream), the run's metrics and the monitors that judge it. A node's task borrows the
//! cluster for one synchronous step at a time ([`Cluster::step`]): the node reacts, its
//! durable state is written (to a file per node in std mode) before anything it asked for is
//! carried out, and every monitor sees the step — the same `Monitor` code, with the same
//! view, that judges a run of the engine. In std mode a process hosts one node of the
//! cluster and keeps no monitors; the others stay unstarted.

use crate::Bridged;
use sim::Violation;
use sim::{Action, Call, Check, EventInfo, EventKind, Host, Metrics, Monitor, NodeId, Time, View};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

/// A cluster shared by the tasks of one runtime thread.
pub type Shared<P> = Rc<RefCell<Cluster<P>>>;

/// Every node of a bridged run, and its judges.
pub struct Cluster<P: Bridged> {
    /// The protocol configuration.
    pub cfg: P::Config,
    /// Node `i` is `hosts[i]`.
    pub hosts: Vec<Host<P>>,
    /// What the nodes and monitors counted and sampled.
    pub metrics: Metrics,
    /// The judges: called after every step and every fault.
    pub monitors: Vec<Box<dyn Monitor<P>>>,
    /// Steps and faults seen.
    pub events: u64,
    /// Protocol messages handed to nodes.
    pub delivered: u64,
    /// The first invariant a monitor found broken.
    pub violation: Option<Violation>,
    /// Whether node `i` has started before (a later start recovers from durable state).
    pub started: Vec<bool>,
    /// Time zero of the run (true time, as nodes and monitors read it).
    pub epoch: madsim::time::Instant,
    /// std mode: the directory of the nodes' durable files (`node-<i>.state`).
    pub store: Option<PathBuf>,
}

impl<P: Bridged> Cluster<P> {
    /// `nodes` unstarted nodes whose random streams are seeded from `seed`.
    pub fn new(cfg: P::Config, nodes: usize, seed: u64) -> Cluster<P> {
        Cluster {
            cfg,
            hosts: (0..nodes as u32)
                .map(|i| Host::new(NodeId(i), nodes, seed))
                .collect(),
            metrics: Metrics::default(),
            monitors: Vec::new(),
            events: 0,
            delivered: 0,
            violation: None,
            started: vec![false; nodes],
            epoch: madsim::time::Instant::now(),
            store: None,
        }
    }

    /// Shares it between tasks.
    pub fn shared(self) -> Shared<P> {
        Rc::new(RefCell::new(self))
    }

    /// True time since the run began.
    pub fn now(&self) -> Time {
        Time(self.epoch.elapsed().as_nanos() as u64)
    }

    /// Starts node `i`: a first start on empty storage, or a recovery from what it persisted
    /// (in memory, or its file in std mode).
    pub fn boot(&mut self, i: usize) -> std::io::Result<Vec<Action<P>>> {
        let mut recover = self.started[i];
        if let Some(path) = self.state_file(i)
            && path.exists()
        {
            let bytes = std::fs::read(&path)?;
            let (durable, disk): (P::Durable, sim::storage::DiskImage) =
                crate::wire::decode(&bytes).map_err(|e| {
                    std::io::Error::other(format!("{}: not a node state: {e}", path.display()))
                })?;
            *self.hosts[i].durable_mut() = durable;
            *self.hosts[i].disk_mut() = sim::Disk::from_image(disk);
            recover = true;
        }
        self.started[i] = true;
        self.step(i, EventKind::Start, None, |h, call| h.boot(call, recover))
    }

    /// One step of node `i`: `f` calls into its host. Durable state written in the step is
    /// saved before the node's actions are returned; then the monitors see the step.
    pub fn step(
        &mut self,
        i: usize,
        kind: EventKind,
        peer: Option<NodeId>,
        f: impl FnOnce(&mut Host<P>, Call<'_, P>),
    ) -> std::io::Result<Vec<Action<P>>> {
        let now = self.now();
        let mut actions = Vec::new();
        let writes = self.metrics.counter("storage.writes");
        f(
            &mut self.hosts[i],
            Call {
                cfg: &self.cfg,
                now,
                metrics: &mut self.metrics,
                actions: &mut actions,
            },
        );
        if self.metrics.counter("storage.writes") != writes {
            self.persist(i)?;
        }
        self.observe(now, kind, Some(NodeId(i as u32)), peer);
        Ok(actions)
    }

    /// Node `i` was killed: its volatile state is gone (its durable state stays).
    pub fn crash(&mut self, i: usize) {
        self.hosts[i].crash();
        let now = self.now();
        self.observe(now, EventKind::Fault, Some(NodeId(i as u32)), None);
    }

    /// A fault that changed no node's state (a partition, a heal): monitors see it.
    pub fn fault(&mut self) {
        let now = self.now();
        self.observe(now, EventKind::Fault, None, None);
    }

    /// The end of the run: every monitor's end-of-run check, then their reports.
    pub fn finish(&mut self) {
        let now = self.now();
        if self.violation.is_none() {
            let view = View::of_hosts(&self.hosts, &self.cfg, now, &self.metrics);
            for m in &mut self.monitors {
                if let Check::Violated(v) = m.finish(&view) {
                    self.violation = Some(stamp(v, now, 0));
                    break;
                }
            }
        }
        for m in &self.monitors {
            m.report(&mut self.metrics);
        }
        self.metrics.settle();
    }

    fn observe(&mut self, now: Time, kind: EventKind, node: Option<NodeId>, peer: Option<NodeId>) {
        self.events += 1;
        if self.violation.is_some() || self.monitors.is_empty() {
            return;
        }
        let view = View::of_hosts(&self.hosts, &self.cfg, now, &self.metrics);
        let info = EventInfo {
            number: self.events,
            time: now,
            kind,
            node,
            peer,
        };
        for m in &mut self.monitors {
            if let Check::Violated(v) = m.on_event(&view, &info) {
                self.violation = Some(stamp(v, now, self.events));
                return;
            }
        }
    }

    fn state_file(&self, i: usize) -> Option<PathBuf> {
        self.store
            .as_ref()
            .map(|d| d.join(format!("node-{i}.state")))
    }

    /// std mode: writes node `i`'s durable state to its file (a new file, synced, renamed
    /// over the old one), so a crash leaves either the old state or the new one.
    fn persist(&self, i: usize) -> std::io::Result<()> {
        let Some(path) = self.state_file(i) else {
            return Ok(());
        };
        let tmp = path.with_extension("tmp");
        let host = &self.hosts[i];
        let disk = host.disk().map(sim::Disk::image).unwrap_or_default();
        let bytes = crate::wire::encode(&(host.durable(), disk));
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)
    }
}

fn stamp(mut v: Violation, time: Time, event: u64) -> Violation {
    v.time = time;
    v.event = event;
    v
}

#[cfg(all(test, not(madsim)))]
mod tests {
    use super::*;
    use protocols::raft::{Raft, RaftConfig, Timer};

    #[test]
    fn a_node_recovers_what_it_wrote_to_its_file_before_acting() {
        let dir = std::env::temp_dir().join(format!("faultline-cluster-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut c = Cluster::<Raft>::new(RaftConfig::default(), 3, 1);
        c.store = Some(dir.clone());
        c.boot(1).unwrap();
        // The election timer fires: the node votes for itself in a new term, durably, and only
        // then asks for votes.
        let actions = c
            .step(1, EventKind::Timer, None, |h, call| {
                h.fire(call, Timer::Election)
            })
            .unwrap();
        assert!(actions.iter().any(|a| matches!(a, Action::Send { .. })));
        let term = c.hosts[1].node().unwrap().term;
        assert_eq!(term, 1);
        assert!(dir.join("node-1.state").exists());
        // A new process on the same directory: the node recovers the term and its vote.
        let mut again = Cluster::<Raft>::new(RaftConfig::default(), 3, 2);
        again.store = Some(dir.clone());
        again.boot(1).unwrap();
        let recovered = again.hosts[1].node().unwrap();
        assert_eq!(recovered.term, term);
        assert_eq!(recovered.voted_for, Some(NodeId(1)));
        // A corrupt file is an error, not a panic.
        std::fs::write(dir.join("node-2.state"), [0xff; 3]).unwrap();
        let err = again.boot(2).unwrap_err().to_string();
        assert!(err.contains("not a node state"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
