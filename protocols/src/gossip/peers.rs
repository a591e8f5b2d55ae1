//! Peer selection: whom a node contacts in a round.
//!
//! Owns the three views: the full view (every other node, the random phone-call model of
//! Karp et al. 2000 and Demers et al. 1987's uniform spatial distribution), a fixed random
//! k-out graph drawn from the seed, and a ring. Partial views are computed from a hash of
//! `(view seed, node, slot)` instead of being stored, so they cost no bytes per node.
//! Invariant: a node never picks itself.

use super::PeerView;
use sim::NodeId;
use sim::rng::{NodeRng, index, splitmix64};

/// The `slot`-th out-neighbour of `me` in the k-out graph drawn from `seed` (never `me`;
/// two slots may name the same neighbour, as in the usual random k-out model).
pub fn k_out_neighbour(seed: u64, me: u32, slot: u32, n: u32) -> u32 {
    let h = splitmix64(seed ^ splitmix64((u64::from(me) << 32) | u64::from(slot)));
    // A uniform draw among the n - 1 other nodes by multiply-shift, then skip `me`.
    let x = ((u128::from(h) * u128::from(n - 1)) >> 64) as u32;
    if x >= me { x + 1 } else { x }
}

/// The `slot`-th neighbour of `me` on a ring where each node sees `radius` nodes each side.
pub fn ring_neighbour(me: u32, slot: u32, radius: u32, n: u32) -> u32 {
    let step = slot / 2 + 1;
    debug_assert!(step <= radius);
    if slot.is_multiple_of(2) {
        (me + step) % n
    } else {
        (me + n - step % n) % n
    }
}

/// The number of entries in a node's view.
pub fn view_len(view: PeerView, n: u32) -> u32 {
    match view {
        PeerView::Full => n - 1,
        PeerView::KOut(k) => k,
        PeerView::Ring(r) => 2 * r,
    }
}

/// One partner drawn uniformly from `me`'s view (draws are independent, so with a fanout
/// above one a round may call the same partner twice, as in the phone-call model).
pub fn pick(view: PeerView, seed: u64, me: NodeId, n: u32, rng: &mut NodeRng) -> NodeId {
    let len = view_len(view, n) as usize;
    let slot = index(rng, len) as u32;
    NodeId(match view {
        PeerView::Full => {
            if slot >= me.0 {
                slot + 1
            } else {
                slot
            }
        }
        PeerView::KOut(_) => k_out_neighbour(seed, me.0, slot, n),
        PeerView::Ring(r) => ring_neighbour(me.0, slot, r, n),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn partners_are_never_self_and_stay_in_the_view() {
        let mut rng = NodeRng::seed_from_u64(1);
        for view in [PeerView::Full, PeerView::KOut(3), PeerView::Ring(2)] {
            for me in 0..20 {
                for _ in 0..50 {
                    let p = pick(view, 9, NodeId(me), 20, &mut rng);
                    assert_ne!(p.0, me);
                    assert!(p.0 < 20);
                    if let PeerView::Ring(_) = view {
                        let d = (p.0 + 20 - me) % 20;
                        assert!(matches!(d, 1 | 2 | 18 | 19), "{me} -> {p:?}");
                    }
                    if let PeerView::KOut(k) = view {
                        assert!((0..k).any(|s| k_out_neighbour(9, me, s, 20) == p.0));
                    }
                }
            }
        }
    }
}
