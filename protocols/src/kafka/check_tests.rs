//! Tests of the queue checker (`check.rs`): one hand-built history per anomaly that shows
//! exactly that anomaly, a valid history with every legal oddity (indeterminate and failed
//! sends, empty polls, a consumer restart that re-reads), and the edge cases of each definition.

use super::*;

/// Builds a history op by op; op `i` is the `i`-th call, as the checker's messages number them.
#[derive(Default)]
struct Build(QueueHistory);

impl Build {
    fn send(mut self, process: u64, partition: u32, value: u64, result: SendResult) -> Build {
        let t = self.0.ops.len() as u64 * 10;
        self.0.send(process, (t, t + 5), partition, value, result);
        self
    }

    fn poll(mut self, process: u64, partition: u32, session: u64, records: &[(u64, u64)]) -> Build {
        let t = self.0.ops.len() as u64 * 10;
        self.0
            .poll(process, (t, t + 5), partition, session, records.to_vec());
        self
    }

    fn drained(mut self) -> Build {
        self.0.drained = true;
        self
    }

    fn done(self) -> QueueHistory {
        self.0
    }
}

fn ok(offset: u64) -> SendResult {
    SendResult::Ok(offset)
}

fn fail(reason: &str) -> SendResult {
    SendResult::Fail(reason.to_string())
}

/// The invariants `check` reports, in order.
fn kinds(history: &QueueHistory) -> Vec<Invariant> {
    check(history).iter().map(|a| a.invariant).collect()
}

/// Asserts `check` reports exactly one anomaly, of `invariant`; returns its message.
fn only(history: &QueueHistory, invariant: Invariant) -> String {
    let found = check(history);
    assert_eq!(
        found.iter().map(|a| a.invariant).collect::<Vec<_>>(),
        vec![invariant],
        "{found:#?}"
    );
    found[0].message.clone()
}

/// Three acknowledged sends to partition 0, values 1, 2, 3 at offsets 0, 1, 2 (ops 0–2).
fn three_sends() -> Build {
    Build::default()
        .send(1, 0, 1, ok(0))
        .send(1, 0, 2, ok(1))
        .send(1, 0, 3, ok(2))
}

#[test]
fn kinds_are_distinct_and_cover_the_kafka_queue_invariants() {
    let distinct: BTreeSet<Invariant> = KINDS.into_iter().collect();
    assert_eq!(distinct.len(), KINDS.len());
    assert_eq!(KINDS[0], Invariant::LOST_WRITE);
    assert_eq!(KINDS[7], Invariant::ABORTED_READ);
}

#[test]
fn a_valid_history_has_no_anomalies() {
    // Two producers (1, 2), two partitions, two consumers (10, 11); consumer 10 restarts.
    let h = Build::default()
        .send(1, 0, 1, ok(0)) // op 0
        .send(2, 1, 2, ok(0)) // op 1
        .send(1, 0, 3, ok(1)) // op 2
        .send(2, 0, 4, fail("NotEnoughReplicas")) // op 3: never written, never read
        .send(2, 1, 5, SendResult::Info) // op 4: indeterminate, never read
        .poll(10, 0, 0, &[]) // op 5: empty poll
        .poll(10, 0, 0, &[(0, 1), (1, 3)]) // op 6
        .send(1, 0, 6, ok(2)) // op 7
        .send(2, 1, 7, SendResult::Sent) // op 8: acks=0, read below at offset 1
        .poll(11, 1, 0, &[(0, 2)]) // op 9
        .poll(10, 0, 0, &[]) // op 10: empty poll between two non-empty ones
        .poll(10, 0, 0, &[(2, 6)]) // op 11
        .send(2, 0, 9, SendResult::Info) // op 12: indeterminate, but it was written
        .poll(10, 0, 1, &[(1, 3), (2, 6)]) // op 13: restarted, re-reads from offset 1
        .poll(10, 0, 1, &[(3, 9)]) // op 14
        .poll(11, 1, 0, &[(1, 7)]) // op 15
        .send(1, 1, 8, ok(2)) // op 16: producer 1's first send to partition 1
        .poll(11, 1, 0, &[(2, 8)]) // op 17
        .poll(11, 0, 0, &[(0, 1), (1, 3), (2, 6), (3, 9)]) // op 18: a second reader of 0
        .drained()
        .done();
    assert_eq!(check(&h), vec![]);
    // Acknowledged: values 1, 2, 3, 6, 8 (Ok) and 7 (Sent); every one was read.
    assert_eq!(unread_acknowledged(&h), (6, 0));
}

#[test]
fn an_empty_history_has_no_anomalies() {
    assert_eq!(check(&QueueHistory::default()), vec![]);
    assert_eq!(check(&Build::default().drained().done()), vec![]);
    assert_eq!(unread_acknowledged(&QueueHistory::default()), (0, 0));
}

#[test]
fn lost_write_is_an_unread_send_below_the_highest_offset_read() {
    // Consumer 10 reads offset 0; consumer 11 starts later at offset 2 (its first read, so no
    // skip). Value 2 at offset 1 was acknowledged and nobody read it.
    let h = three_sends()
        .poll(10, 0, 0, &[(0, 1)])
        .poll(11, 0, 0, &[(2, 3)])
        .done();
    assert_eq!(
        only(&h, Invariant::LOST_WRITE),
        "1 acknowledged send lost: op 1 sent value 2 to partition 0, acknowledged at offset 1, \
         but no consumer read it although consumers read partition 0 up to offset 2"
    );
}

#[test]
fn an_unread_send_above_the_highest_offset_read_is_not_lost() {
    // Offset 2 may simply not have been polled yet.
    let h = three_sends().poll(10, 0, 0, &[(0, 1), (1, 2)]).done();
    assert_eq!(check(&h), vec![]);
    // Nor is a send to a partition nobody read.
    let h = Build::default().send(1, 3, 1, ok(0)).done();
    assert_eq!(check(&h), vec![]);
}

#[test]
fn lost_write_counts_every_case_and_names_three() {
    let mut b = Build::default();
    for v in 0..6 {
        b = b.send(1, 0, v, ok(v));
    }
    // Only offset 5 is read, by a consumer starting there: offsets 0–4 are lost.
    let h = b.poll(10, 0, 0, &[(5, 5)]).done();
    let message = only(&h, Invariant::LOST_WRITE);
    assert!(
        message.starts_with("5 acknowledged sends lost: op 0 sent value 0"),
        "{message}"
    );
    assert!(
        message.contains("; op 2 sent value 2 to partition 0"),
        "{message}"
    );
    assert!(!message.contains("op 3 sent"), "{message}");
    assert!(message.ends_with("up to offset 5; and 2 more"), "{message}");
}

#[test]
fn unseen_is_an_acknowledged_send_never_read_after_draining() {
    let h = Build::default()
        .send(1, 0, 1, ok(0)) // op 0: acknowledged, never read
        .send(1, 0, 2, SendResult::Sent) // op 1: acks=0, never read
        .send(1, 0, 3, SendResult::Info) // op 2: indeterminate: may be absent
        .send(1, 0, 4, fail("NotLeaderForPartition")) // op 3: definitely absent
        .send(2, 1, 5, ok(0)) // op 4: read
        .poll(10, 1, 0, &[(0, 5)])
        .drained()
        .done();
    assert_eq!(
        only(&h, Invariant::UNSEEN),
        "2 acknowledged sends never read although the consumers drained every partition: \
         op 0 sent value 1 to partition 0, acknowledged at offset 0; \
         op 1 sent value 2 to partition 0 (acks=0, no offset)"
    );
    // Acknowledged: values 1, 2, 5; unread: 1, 2.
    assert_eq!(unread_acknowledged(&h), (3, 2));
}

#[test]
fn unseen_is_not_judged_unless_drained() {
    let mut h = Build::default()
        .send(1, 0, 1, ok(0))
        .send(1, 0, 2, SendResult::Sent)
        .done();
    assert_eq!(check(&h), vec![]);
    // The counts for metrics do not depend on draining.
    assert_eq!(unread_acknowledged(&h), (2, 2));
    h.drained = true;
    assert_eq!(kinds(&h), vec![Invariant::UNSEEN]);
}

#[test]
fn a_lost_write_is_also_unseen_when_drained() {
    let h = three_sends()
        .poll(10, 0, 0, &[(0, 1)])
        .poll(11, 0, 0, &[(2, 3)])
        .drained()
        .done();
    assert_eq!(kinds(&h), vec![Invariant::LOST_WRITE, Invariant::UNSEEN]);
    let unseen = &check(&h)[1].message;
    assert!(
        unseen.starts_with("1 acknowledged send never read"),
        "{unseen}"
    );
    assert!(unseen.contains("op 1 sent value 2 to partition 0, acknowledged at offset 1"));
}

#[test]
fn duplicate_is_one_value_at_two_offsets() {
    // Value 1 was appended twice (a retried send): it sits at offsets 0 and 2.
    let h = Build::default()
        .send(1, 0, 1, ok(0))
        .send(1, 0, 2, ok(1))
        .poll(10, 0, 0, &[(0, 1), (1, 2), (2, 1)])
        .done();
    assert_eq!(
        only(&h, Invariant::DUPLICATE),
        "1 value observed at more than one offset: \
         value 1 at partition 0 offset 0 (op 0), partition 0 offset 2 (op 2)"
    );
}

#[test]
fn duplicate_across_partitions() {
    let h = Build::default()
        .send(1, 0, 7, ok(4))
        .poll(10, 0, 0, &[(4, 7)])
        .poll(11, 1, 0, &[(0, 7)])
        .done();
    let message = only(&h, Invariant::DUPLICATE);
    assert!(
        message.contains("value 7 at partition 0 offset 4 (op 0), partition 1 offset 0 (op 2)"),
        "{message}"
    );
}

#[test]
fn reading_a_value_twice_at_its_offset_is_not_a_duplicate() {
    let h = Build::default()
        .send(1, 0, 1, ok(0))
        .poll(10, 0, 0, &[(0, 1)])
        .poll(11, 0, 0, &[(0, 1)])
        .poll(10, 0, 1, &[(0, 1)])
        .drained()
        .done();
    assert_eq!(check(&h), vec![]);
}

#[test]
fn inconsistent_offsets_is_two_values_at_one_offset() {
    // Two producers were both acknowledged at offset 0 (two leaders at once).
    let h = Build::default()
        .send(1, 0, 1, ok(0))
        .send(2, 0, 2, ok(0))
        .done();
    assert_eq!(
        only(&h, Invariant::INCONSISTENT_OFFSETS),
        "1 offset observed with more than one value: \
         partition 0 offset 0 holds value 1 (op 0), value 2 (op 1)"
    );
}

#[test]
fn inconsistent_offsets_between_a_send_and_a_poll() {
    // The log diverged: offset 0 was acknowledged holding value 1, a consumer read value 2
    // there (an indeterminate send), and value 1 is lost.
    let h = Build::default()
        .send(1, 0, 1, ok(0))
        .send(2, 0, 2, SendResult::Info)
        .poll(10, 0, 0, &[(0, 2)])
        .done();
    assert_eq!(
        kinds(&h),
        vec![Invariant::LOST_WRITE, Invariant::INCONSISTENT_OFFSETS]
    );
    let message = &check(&h)[1].message;
    assert!(
        message.contains("partition 0 offset 0 holds value 1 (op 0), value 2 (op 2)"),
        "{message}"
    );
}

#[test]
fn nonmonotonic_send_is_a_producer_acknowledged_lower_than_before() {
    let h = Build::default()
        .send(1, 0, 1, ok(1))
        .send(1, 0, 2, ok(0))
        .done();
    assert_eq!(
        only(&h, Invariant::NONMONOTONIC_SEND),
        "1 send acknowledged at an offset not above the producer's previous one: process 1 \
         sent value 2 to partition 0, acknowledged at offset 0 (op 1), after its previous send \
         there was acknowledged at offset 1 (op 0)"
    );
}

#[test]
fn send_order_is_per_producer_and_partition() {
    // Producer 1 at offset 5 of partition 0, then offset 0 of partition 1; producer 2 at
    // offset 3 of partition 0 after producer 1's offset 5; failed and indeterminate sends have
    // no offset to compare.
    let h = Build::default()
        .send(1, 0, 1, ok(5))
        .send(1, 1, 2, ok(0))
        .send(2, 0, 3, ok(3))
        .send(1, 0, 4, fail("NotLeaderForPartition"))
        .send(1, 0, 5, SendResult::Info)
        .send(1, 0, 6, ok(6))
        .done();
    assert_eq!(check(&h), vec![]);
}

#[test]
fn nonmonotonic_poll_is_a_repeated_offset_in_one_session() {
    // The third poll (after an empty one) re-reads offset 1 in the same session.
    let h = Build::default()
        .send(1, 0, 1, ok(0))
        .send(1, 0, 2, ok(1))
        .poll(10, 0, 0, &[(0, 1), (1, 2)])
        .poll(10, 0, 0, &[])
        .poll(10, 0, 0, &[(1, 2)])
        .done();
    assert_eq!(
        only(&h, Invariant::NONMONOTONIC_POLL),
        "1 read at an offset not above the previous read in the same session: process 10 session 0 \
         read partition 0 offset 1 (value 2, op 4) after offset 1 (value 2, op 2)"
    );
}

#[test]
fn nonmonotonic_poll_within_one_poll() {
    let h = Build::default()
        .send(1, 0, 1, ok(0))
        .send(1, 0, 2, ok(1))
        .poll(10, 0, 0, &[(1, 2), (0, 1)])
        .done();
    let message = only(&h, Invariant::NONMONOTONIC_POLL);
    assert!(
        message.contains("offset 0 (value 1, op 2) after offset 1 (value 2, op 2)"),
        "{message}"
    );
}

#[test]
fn reading_backwards_in_a_new_session_is_fine() {
    // Consumer 10 restarts (session 1) and resumes from an earlier committed offset; consumer
    // 11 uses the same session number independently; partitions are independent too.
    let h = three_sends()
        .send(1, 1, 4, ok(0))
        .poll(10, 0, 0, &[(0, 1), (1, 2), (2, 3)])
        .poll(10, 0, 1, &[(0, 1), (1, 2)])
        .poll(10, 1, 1, &[(0, 4)])
        .poll(11, 0, 1, &[(1, 2)])
        .poll(10, 0, 1, &[(2, 3)])
        .drained()
        .done();
    assert_eq!(check(&h), vec![]);
}

#[test]
fn poll_skip_is_a_jump_over_an_offset_holding_a_record() {
    // Consumer 10 reads offset 0, then offset 2: offset 1 holds value 2 (consumer 11 read it).
    let h = three_sends()
        .poll(10, 0, 0, &[(0, 1)])
        .poll(10, 0, 0, &[(2, 3)])
        .poll(11, 0, 0, &[(0, 1), (1, 2), (2, 3)])
        .done();
    assert_eq!(
        only(&h, Invariant::POLL_SKIP),
        "1 read that skipped offsets holding records: process 10 session 0 read partition 0 \
         offset 0 (op 3) then offset 2 (op 4), skipping offset 1"
    );
}

#[test]
fn poll_skip_names_up_to_three_skipped_offsets() {
    let mut b = Build::default();
    for v in 0..6 {
        b = b.send(1, 0, v, ok(v));
    }
    let h = b
        .poll(10, 0, 0, &[(0, 0), (5, 5)]) // op 6: skips 1–4 within one poll
        .poll(11, 0, 0, &[(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5)])
        .done();
    let message = only(&h, Invariant::POLL_SKIP);
    assert!(
        message
            .ends_with("offset 0 (op 6) then offset 5 (op 6), skipping offsets 1, 2, 3 and 1 more"),
        "{message}"
    );
}

#[test]
fn gaps_nobody_observed_are_not_skips() {
    // Offsets 1 and 2 hold nothing anyone saw (compaction, transaction markers, failed
    // appends): jumping from 0 to 3 skips no record.
    let h = Build::default()
        .send(1, 0, 1, ok(0))
        .send(1, 0, 2, ok(3))
        .poll(10, 0, 0, &[(0, 1)])
        .poll(10, 0, 0, &[(3, 2)])
        .drained()
        .done();
    assert_eq!(check(&h), vec![]);
}

#[test]
fn aborted_read_is_a_read_of_a_definitely_failed_send() {
    let h = Build::default()
        .send(1, 0, 1, fail("NotLeaderForPartition"))
        .poll(10, 0, 0, &[(0, 1)])
        .done();
    assert_eq!(
        only(&h, Invariant::ABORTED_READ),
        "1 read of a definitely failed send's value: op 1 read value 1 at partition 0 \
         offset 0, but its send (op 0) definitely failed: NotLeaderForPartition"
    );
}

#[test]
fn reading_an_indeterminate_send_is_not_an_aborted_read() {
    let h = Build::default()
        .send(1, 0, 1, SendResult::Info)
        .poll(10, 0, 0, &[(0, 1)])
        .drained()
        .done();
    assert_eq!(check(&h), vec![]);
}

#[test]
fn anomalies_come_in_the_order_of_kinds() {
    // Several anomalies at once, recorded in the reverse of report order.
    let h = Build::default()
        .send(1, 0, 9, fail("OutOfOrderSequence")) // op 0
        .send(1, 0, 1, ok(0)) // op 1
        .send(1, 0, 2, ok(1)) // op 2
        .send(1, 0, 3, ok(2)) // op 3
        .poll(10, 0, 0, &[(0, 1), (2, 3)]) // skip of offset 1, which is lost
        .poll(10, 0, 0, &[(1, 9)]) // aborted read, back in offsets, a second value at 1
        .send(1, 0, 4, ok(1)) // op 6: back in offsets, a third value at offset 1
        .poll(11, 1, 0, &[(0, 1)]) // value 1 also at partition 1: duplicate
        .drained()
        .done();
    assert_eq!(kinds(&h), KINDS.to_vec());
}
