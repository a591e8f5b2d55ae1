//! The `workload: Queue((...))` section: producers (rate, acks, idempotence) and consumers
//! (polling, committing, restarting), its checks against the run, its shrinking steps and
//! the metrics the workload records.

use super::metric;
use super::node::Acks;
use crate::family::{MetricInfo, Setup, WorkloadConfig};
use crate::units::Dur;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The `workload: Queue((...))` section of a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueWorkloadConfig {
    /// Producers.
    pub producers: u32,
    /// Sends per second per producer (think time uniform in `[0, 2/rate]`).
    pub rate: f64,
    /// The producers' acks mode.
    pub acks: Acks,
    /// Idempotent producers (sequence numbers, deduplicated retries). Kafka allows it only
    /// with acks=all; unset means "when acks is All".
    pub idempotent: Option<bool>,
    /// Consumers (each reads every partition).
    pub consumers: u32,
    /// A consumer's pause between requests.
    pub poll_interval: Dur,
    /// At most this many records per poll.
    pub poll_max: u32,
    /// How often a consumer commits its positions.
    pub commit_interval: Dur,
    /// Mean time between a consumer's restarts (it resumes from its committed offsets);
    /// `"0s"` never restarts.
    pub restart_interval: Dur,
    /// How long one attempt waits for an answer.
    pub timeout: Dur,
    /// The pause before retrying after an error.
    pub backoff: Dur,
    /// How long after its invocation a send is given up.
    pub give_up: Dur,
    /// When the clients start (the controller is elected first).
    pub start: Dur,
    /// Producers stop this long before the end, so that consumers can read everything.
    pub drain: Dur,
}

impl Default for QueueWorkloadConfig {
    fn default() -> Self {
        QueueWorkloadConfig {
            producers: 3,
            rate: 20.0,
            acks: Acks::All,
            idempotent: None,
            consumers: 2,
            poll_interval: Dur::ms(20),
            poll_max: 100,
            commit_interval: Dur::ms(500),
            restart_interval: Dur::secs(0),
            timeout: Dur::ms(300),
            backoff: Dur::ms(20),
            give_up: Dur::secs(3),
            start: Dur::secs(1),
            drain: Dur::secs(3),
        }
    }
}

impl QueueWorkloadConfig {
    /// Whether the producers are idempotent.
    pub fn idempotent(&self) -> bool {
        self.idempotent.unwrap_or(self.acks == Acks::All)
    }
}

impl WorkloadConfig for QueueWorkloadConfig {
    const NAME: &'static str = "Queue";
    const ABOUT: &'static str = "producers (acks 0/1/all, idempotent) and consumers (poll, commit, restart) with a queue history";

    fn idle() -> Self {
        QueueWorkloadConfig {
            producers: 0,
            consumers: 0,
            ..QueueWorkloadConfig::default()
        }
    }

    fn validate(&self, setup: &Setup) -> Result<(), String> {
        use crate::limits::{self, MAX_CLIENT_RATE};
        limits::count("producers", u64::from(self.producers), 0, 1000)?;
        limits::count("consumers", u64::from(self.consumers), 0, 1000)?;
        limits::number("rate", self.rate, 0.0, MAX_CLIENT_RATE)?;
        if self.idempotent() && self.acks != Acks::All {
            return Err(format!(
                "idempotent producers need acks: All (Kafka's rule); with acks: {:?} set idempotent: false",
                self.acks
            ));
        }
        for (field, d) in [
            ("poll_interval", self.poll_interval),
            ("commit_interval", self.commit_interval),
            ("timeout", self.timeout),
            ("backoff", self.backoff),
            ("give_up", self.give_up),
        ] {
            limits::period(field, d)?;
        }
        limits::count("poll_max", u64::from(self.poll_max), 1, 100_000)?;
        for (field, d) in [
            ("restart_interval", self.restart_interval),
            ("start", self.start),
            ("drain", self.drain),
        ] {
            limits::duration(field, d, Duration::ZERO)?;
        }
        if self.start.0 + self.drain.0 > setup.duration {
            return Err(format!(
                "start ({}) plus drain ({}) leave no time to produce in a {} run",
                self.start,
                self.drain,
                Dur(setup.duration)
            ));
        }
        Ok(())
    }

    fn reductions() -> Vec<crate::family::Reduction<Self>> {
        vec![fewer_clients]
    }

    fn metrics() -> Vec<MetricInfo> {
        let m = MetricInfo::new;
        vec![
            m("kafka.sends", "sends invoked"),
            m("kafka.acked", "sends acknowledged (acks=0: sent)"),
            m("kafka.failed", "sends that definitely failed"),
            m("kafka.info", "sends given up on (indeterminate)"),
            m("kafka.attempts", "produce requests, retries included"),
            m("kafka.polls", "polls answered with records"),
            m(
                metric::PRODUCE_MS_ACKS0,
                "acks=0 produce latency (ms; zero by definition)",
            ),
            m(metric::PRODUCE_MS_ACKS1, "acks=1 produce latency (ms)"),
            m(metric::PRODUCE_MS_ACKS_ALL, "acks=all produce latency (ms)"),
            m(
                "kafka.produce_p50_ms",
                "median produce latency of acknowledged sends (ms)",
            ),
            m(
                "kafka.produce_p99_ms",
                "99th percentile produce latency (ms)",
            ),
            m(
                metric::END_TO_END_MS,
                "from a send's invocation to its first read (ms)",
            ),
            m(
                metric::UNAVAILABLE_MS,
                "windows with no acknowledgement for a partition's producers (ms)",
            ),
            m(
                metric::THROUGHPUT,
                "acknowledged sends per second of virtual time",
            ),
            m(
                metric::LOSS_RATE,
                "fraction of acknowledged sends never read",
            ),
            m("kafka.acked_unread", "acknowledged sends never read"),
            m(
                "kafka.drained",
                "1 if the consumers read every partition to its high watermark after the last send (Unseen is judged only then)",
            ),
            m(
                metric::ACKED_MISSING,
                "acknowledged sends missing from the final log (read or not)",
            ),
        ]
    }
}

/// Shrinking: one producer and one consumer, or half of each.
fn fewer_clients(w: &QueueWorkloadConfig) -> Vec<(String, QueueWorkloadConfig)> {
    let mut out = Vec::new();
    for (p, c) in [(1, 1), (w.producers.div_ceil(2), w.consumers.div_ceil(2))] {
        let (p, c) = (p.min(w.producers), c.min(w.consumers));
        if (p, c) != (w.producers, w.consumers)
            && !out
                .iter()
                .any(|o: &(String, QueueWorkloadConfig)| o.1.producers == p && o.1.consumers == c)
        {
            let what = format!(
                "producers {} -> {p}, consumers {} -> {c}",
                w.producers, w.consumers
            );
            out.push((
                what,
                QueueWorkloadConfig {
                    producers: p,
                    consumers: c,
                    ..w.clone()
                },
            ));
        }
    }
    out
}
