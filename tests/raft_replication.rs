//! Raft's replication cost, from the table `faultline bench` prints: with optimistic
//! pipelining every entry reaches every follower once, so without batching an entry costs
//! 2(n-1) messages (AppendEntries and reply per follower), and batching only lowers that.
//! Message counts, not time: deterministic for the fixed scenarios and seeds.

use faultline::bench::raft_replication;

/// 2(n-1) for the benchmark's 5 servers.
const UNBATCHED: f64 = 8.0;

#[test]
fn every_entry_reaches_each_follower_once_at_every_load() {
    let rows = raft_replication();
    assert_eq!(rows.len(), 8);
    for r in &rows {
        let what = format!(
            "{} clients x {} ops/s, batch {}: {r:?}",
            r.clients, r.rate, r.max_entries
        );
        assert!(r.committed > 20, "{what}: too few entries to judge");
        // Before pipelining, the window was resent: 18-20 copies per entry and follower.
        assert!(r.copies_per_entry <= 1.02, "{what}: entries resent");
        assert!(
            r.msgs_per_entry <= UNBATCHED * 1.1,
            "{what}: more than 2(n-1) messages per entry"
        );
        if r.max_entries == 1 {
            assert!(
                (r.msgs_per_entry - UNBATCHED).abs() <= 0.1 * UNBATCHED,
                "{what}: one entry per message should cost 2(n-1) messages"
            );
        }
    }
    // At the heaviest load batching shares messages between entries.
    let heavy = rows
        .iter()
        .find(|r| r.max_entries == 64 && r.clients == 16)
        .expect("the 16-client row");
    assert!(heavy.msgs_per_entry < UNBATCHED * 0.75, "{heavy:?}");
}
