//! Seeded random streams, one per purpose.
//!
//! A run has one root seed. Every purpose (network, faults, workload, each node) gets its own
//! stream derived from the root seed and a purpose label, so adding a fault or a node does not
//! reshuffle the draws of every other purpose; that is what makes shrinking and what-if edits
//! meaningful. Purpose streams are ChaCha8 (`rand_chacha`); per-node streams are PCG-64 MCG
//! (`rand_pcg`, 16 bytes) seeded from a derived key, because a million-node gossip run cannot
//! afford a 300-byte ChaCha buffer per node. Both algorithms are fixed and portable.
//!
//! Floats drawn here use our own 53-bit conversion, so values do not depend on the `rand`
//! version's distribution code.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_pcg::Pcg64Mcg;

/// The RNG type behind every purpose stream.
pub type StreamRng = ChaCha8Rng;
/// The RNG a protocol node draws from (`Context::rng`).
pub type NodeRng = Pcg64Mcg;

/// What a random stream is used for; each purpose has an independent stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Latency, loss, duplication and reordering draws.
    Network,
    /// Random fault targets and the nemesis.
    Faults,
    /// Client operations and update injection.
    Workload,
    /// Clock offsets and drifts drawn at start.
    Clocks,
    /// Node `i`'s own stream (`Context::rng`).
    Node(u32),
    /// Disks: sync latencies, what a crash keeps of unsynced writes, which record a storage
    /// fault hits.
    Storage,
    /// Processing times of node events (slow nodes, `crate::processing`): drawn only when the
    /// run has a processing model, so runs without one draw nothing from it.
    Processing,
    /// Any other use, keyed by a caller-chosen label (for example sweeps or swarm knobs).
    Other(u64),
}

impl Purpose {
    fn label(self) -> u64 {
        match self {
            Purpose::Network => 1,
            Purpose::Faults => 2,
            Purpose::Workload => 3,
            Purpose::Clocks => 4,
            Purpose::Node(i) => (5 << 32) | u64::from(i),
            Purpose::Other(x) => splitmix64(6 ^ splitmix64(x)),
            Purpose::Storage => 7,
            Purpose::Processing => 8,
        }
    }
}

/// SplitMix64's finaliser: a bijective mixer used to derive independent seeds.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of a purpose's stream under a root seed.
pub fn derive_seed(root: u64, purpose: Purpose) -> u64 {
    splitmix64(splitmix64(root) ^ splitmix64(purpose.label()))
}

/// A ChaCha8 stream for one purpose.
pub fn stream(root: u64, purpose: Purpose) -> StreamRng {
    ChaCha8Rng::seed_from_u64(derive_seed(root, purpose))
}

/// Node `i`'s stream.
pub fn node_rng(root: u64, node: u32) -> NodeRng {
    Pcg64Mcg::seed_from_u64(derive_seed(root, Purpose::Node(node)))
}

/// A uniform float in [0, 1) from the top 53 bits of one draw.
pub fn unit_f64<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform float in (0, 1]: safe to take the logarithm of.
pub fn open_unit_f64<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// True with probability `p` (0 and 1 are exact; draws nothing when `p` is 0).
pub fn chance<R: Rng + ?Sized>(rng: &mut R, p: f64) -> bool {
    if p <= 0.0 {
        return false;
    }
    if p >= 1.0 {
        return true;
    }
    unit_f64(rng) < p
}

/// A uniform integer in `[lo, hi]` (inclusive), without modulo bias.
pub fn uniform_u64<R: Rng + ?Sized>(rng: &mut R, lo: u64, hi: u64) -> u64 {
    assert!(lo <= hi, "empty range {lo}..={hi}");
    let span = hi - lo;
    if span == u64::MAX {
        return rng.next_u64();
    }
    let n = span + 1;
    // Lemire's multiply-shift with rejection: the accepted zone is an exact multiple of n.
    let zone = u64::MAX - (u64::MAX - n + 1) % n;
    loop {
        let x = rng.next_u64();
        if x <= zone {
            return lo + ((u128::from(x) * u128::from(n)) >> 64) as u64;
        }
    }
}

/// A uniform index in `0..len` (`len` > 0).
pub fn index<R: Rng + ?Sized>(rng: &mut R, len: usize) -> usize {
    assert!(len > 0, "index into an empty range");
    uniform_u64(rng, 0, len as u64 - 1) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent_and_reproducible() {
        let mut a = stream(7, Purpose::Network);
        let mut b = stream(7, Purpose::Network);
        let mut c = stream(7, Purpose::Faults);
        let mut d = stream(8, Purpose::Network);
        let xa: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let xb: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        let xc: Vec<u64> = (0..4).map(|_| c.next_u64()).collect();
        let xd: Vec<u64> = (0..4).map(|_| d.next_u64()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
        assert_ne!(xa, xd);
        assert_ne!(node_rng(7, 0).next_u64(), node_rng(7, 1).next_u64());
    }

    #[test]
    fn pinned_first_draws() {
        // Pins the derivation: if this changes, every recorded trace hash changes with it.
        let mut a = stream(1, Purpose::Network);
        let mut n = node_rng(1, 3);
        assert_eq!(derive_seed(1, Purpose::Network), 0xe220_a839_7b1d_cdaf);
        assert_eq!(a.next_u64(), 0x94b4_533f_341b_e12d);
        assert_eq!(n.next_u64(), 0x9216_ad45_74dc_946a);
    }

    #[test]
    fn uniform_and_chance_cover_their_ranges() {
        let mut r = stream(3, Purpose::Workload);
        let mut seen = [0u32; 5];
        for _ in 0..5000 {
            let v = uniform_u64(&mut r, 10, 14);
            seen[(v - 10) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| (900..1100).contains(&c)), "{seen:?}");
        assert!(!chance(&mut r, 0.0));
        assert!(chance(&mut r, 1.0));
        let hits = (0..10_000).filter(|_| chance(&mut r, 0.25)).count();
        assert!((2300..2700).contains(&hits), "{hits}");
        for _ in 0..1000 {
            let u = open_unit_f64(&mut r);
            assert!(u > 0.0 && u <= 1.0);
        }
    }
}
