//! # gossip — epidemic dissemination of a versioned key-value map
//!
//! One family with switches, after Demers et al. 1987 ("Epidemic Algorithms for Replicated
//! Database Maintenance"), Karp et al. 2000 ("Randomized Rumor Spreading") and Pittel 1987:
//!
//! | switch | values |
//! |---|---|
//! | `style` | `AntiEntropy` (digest exchange every round, forever) · `RumorMongering` (hot rumors only, until they die) |
//! | `direction` | `Push` · `Pull` · `PushPull` |
//! | `interest` (rumors) | `Feedback` (only unnecessary contacts count) · `Blind` (every contact counts) |
//! | `stop` (rumors) | `Counter` (dies after `k` counted contacts) · `Coin` (dies with probability 1/`k` per counted contact) |
//! | `counter` (feedback counters) | `Demers` (consecutive unnecessary contacts, judged at the cycle's start: Demers' Table 1) · `Cumulative` (all unnecessary contacts, judged on arrival) |
//! | `fanout`, `period` | partners per round, round length |
//! | `rounds` | `Synchronous` (every timer fires at k·period) · `Unsynchronized(jitter: "10ms")` (random phase, period ± jitter) |
//! | `view` | `Full` · `KOut(k)` (a fixed random k-out graph drawn from the seed) · `Ring(r)` (r neighbours each side) |
//! | `persist` | the store survives a crash (default) or a restarted node comes back empty |
//! | `bug` | known-bug variants: `OverwriteOlder`, `VersionOnly`, `DigestKeysOnly`, `ForgetOnRestart` |
//!
//! Files: `store.rs` (the versioned map, compact containers, merge rule), `peers.rs` (views),
//! `node.rs` (the protocol), `workload.rs` (update injection), `monitor.rs` (invariants and
//! metrics), `theory.rs` (closed forms the tests compare against).
//!
//! ## The model (what the theory tests assume)
//!
//! - **Node state** is a map key -> (version, value). A client update goes to one node, which
//!   assigns version `(counter + 1) << 32 | node id` (counter = the highest it has seen for the
//!   key): versions of a key are unique and totally ordered; the higher one wins a merge.
//! - **Who acts in a round**: every live node, once per round, calls `fanout` partners drawn
//!   independently and uniformly from its view (never itself; the same partner may be drawn
//!   twice). In anti-entropy every node calls, informed or not; in push rumor mongering only
//!   nodes with a hot rumor call; with pull, every node calls (pull requests in a quiescent
//!   system are wasted, as Demers notes).
//! - **Synchronous rounds**: every node's round timer fires at exactly k·period (ideal clocks).
//!   A node shows others its state *at the start of the round*: entries it learned during the
//!   current round are neither sent nor offered in digests until the next round. So a node
//!   informed in round r first spreads in round r+1, as in the phone-call model. This needs
//!   every exchange of a round to finish within the round: latency < period / 3 (anti-entropy
//!   push takes three legs: Digest, DigestReply with the wanted keys, Entries).
//! - **What counts as a contact**: one call from a caller to a partner. A rumor's contact is
//!   *unnecessary* when the partner already held that version (push: the partner's feedback
//!   reply says so; pull: the caller's digest says so). With `Feedback` only unnecessary
//!   contacts count toward loss of interest; with `Blind` every push (and every pull answered
//!   while hot) counts, decided when the message is sent.
//! - **What a feedback counter counts** ([`CounterRule`]): `Demers` (default) counts
//!   consecutive unnecessary contacts (a useful one resets it) and, in synchronous rounds,
//!   judges a push against the partner's state at the start of the cycle; this reproduces
//!   Demers' Table 1. `Cumulative` never resets and judges on arrival. The coin is memoryless
//!   and judges on arrival. docs/gossip.md has the measured tables.
//! - **Anti-entropy exchanges digests** (key, version) first and then only the entries one side
//!   lacks; a contact that finds nothing to exchange ends after the digest.
//! - **Informed**: a node is informed of update (key, v) when it holds version ≥ v of the key
//!   (a newer write supersedes). Fractions are over all n nodes, crashed ones included (their
//!   store is durable). Rounds are counted on the true timeline: an update written in round r0
//!   and reaching a threshold in round r took r - r0 rounds.
//!
//! ## Durability
//!
//! The store is the node's `Durable` state: with `persist: true` (the default) a restarted
//! node keeps every entry it had, and only its hot rumors (volatile) are lost; so a crash
//! can leave a rumor dead early, and anti-entropy repairs it. With `persist: false` a
//! restarted node comes back empty (amnesia) and must be refilled by anti-entropy.
//!
//! ## Metrics (names in `sim::Metrics`)
//!
//! Counters from nodes: `gossip.messages`, `gossip.bytes` (estimated: 16-byte header, 12 per
//! digest item, 20 per entry, 4 per key), `gossip.entry_messages` (received messages carrying
//! entries), `gossip.redundant_messages` (of those, ones that taught nothing),
//! `gossip.entries_received`, `gossip.entries_adopted`, `gossip.updates_written`; from the
//! workload `gossip.updates_submitted`; from the monitor `gossip.updates`,
//! `gossip.updates_fully_spread`, `gossip.invented`.
//! Samples from the monitor: `gossip.informed_fraction` (mean over updates so far, one sample
//! per round boundary: the convergence curve), `gossip.informed_fraction.latest` (the newest
//! update), per update `gossip.update.rounds_to_99`, `gossip.update.rounds_to_100`,
//! `gossip.update.time_to_99_ms`, `gossip.update.time_to_100_ms`, `gossip.update.residue`
//! (fraction never informed at the end); overall `gossip.residue`, `gossip.messages_per_node`,
//! `gossip.bytes_per_node`, `gossip.entry_messages_per_node` (Demers' traffic m),
//! `gossip.redundant_ratio`.
//!
//! ## Known bugs
//!
//! - `OverwriteOlder`: merge by arrival instead of by version (VersionsMonotonic catches it
//!   when two nodes write the same key).
//! - `VersionOnly`: a merge bumps the version but keeps the old value (NoInventedValues).
//! - `DigestKeysOnly`: digests compared by key only, so an update of a key the peer already
//!   has never travels (ConvergedWithin).

mod monitor;
mod node;
mod peers;
mod store;
pub mod theory;
mod workload;

pub use monitor::{GossipMonitor, MonitorOptions};
pub use node::{
    DigestReplyBody, GossipNode, HEADER_BYTES, Hot, Message, Round, RumorBody, RumorReplyBody,
    Update, round_of,
};
pub use peers::{k_out_neighbour, pick, ring_neighbour};
pub use store::{Applied, Digest, Entry, Small, Store, StoreExt, next_version};
pub use workload::UpdateWorkload;

use crate::checks::{Checks, Invariant, InvariantInfo};
use crate::family::{Built, Family, MetricInfo, Setup, WorkloadConfig};
use crate::units::Dur;
use serde::{Deserialize, Serialize};
use sim::Time;

/// Anti-entropy or rumor mongering.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Style {
    /// Every round, every node reconciles with partners by digest (Demers §1.3).
    #[default]
    AntiEntropy,
    /// Nodes spread hot rumors until they lose interest (Demers §1.4).
    RumorMongering,
}

/// Who sends updates in a contact.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Direction {
    /// The caller sends what the partner lacks.
    Push,
    /// The partner sends what the caller lacks.
    Pull,
    /// Both.
    #[default]
    PushPull,
}

impl Direction {
    /// Whether the caller sends.
    pub fn pushes(self) -> bool {
        matches!(self, Direction::Push | Direction::PushPull)
    }

    /// Whether the partner sends.
    pub fn pulls(self) -> bool {
        matches!(self, Direction::Pull | Direction::PushPull)
    }
}

/// Which contacts count toward losing interest in a rumor.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Interest {
    /// Only unnecessary contacts (the partner already knew).
    #[default]
    Feedback,
    /// Every contact, whatever the partner knew.
    Blind,
}

/// How a rumor dies once contacts count.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Stop {
    /// After `k` counted contacts.
    #[default]
    Counter,
    /// With probability 1/`k` at each counted contact.
    Coin,
}

/// What a feedback counter (`interest: Feedback, stop: Counter`) counts.
///
/// Demers et al. 1987 Table 1 (feedback + counter, 1000 sites) is reproduced only by
/// [`CounterRule::Demers`]: see docs/gossip.md, "Which variant matches which table". Blind
/// counters count every contact at send time under either rule, and coins are memoryless.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CounterRule {
    /// Consecutive unnecessary contacts: a useful contact (the partner did not know the rumor)
    /// resets the counter to 0. In synchronous rounds a contact is judged against the partner's
    /// state at the start of the cycle, so two callers that reach the same uninformed node in
    /// one cycle both find it useful. (Unsynchronized rounds have no common cycle: there the
    /// partner's state when the push arrives decides.)
    #[default]
    Demers,
    /// Every unnecessary contact of the rumor's life, never reset, judged against the
    /// partner's state when the push arrives: the second of two callers reaching a node in the
    /// same cycle counts an unnecessary contact. Faultline's rule before issue 15; it leaves a
    /// larger residue (0.20, 0.060, 0.020 for k = 1, 2, 3 on 1000 nodes).
    Cumulative,
}

/// Round timers.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rounds {
    /// Every node's timer fires at k·period; contacts see the state at the round's start.
    #[default]
    Synchronous,
    /// A random phase per node, then period ± `jitter` (uniform).
    Unsynchronized {
        /// The largest deviation from the period.
        jitter: Dur,
    },
}

/// Whom a node may call.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PeerView {
    /// Every other node (the complete graph).
    #[default]
    Full,
    /// A fixed random k-out graph drawn from the seed.
    KOut(u32),
    /// A ring: `r` neighbours on each side.
    Ring(u32),
}

/// Known-bug variants (config switches that re-create a bug).
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// Merge by arrival: any different version replaces the held one.
    OverwriteOlder,
    /// A merge takes the newer version but keeps the old value.
    VersionOnly,
    /// Digests compared by key only: updates to keys the peer has never travel.
    DigestKeysOnly,
    /// The store is never synced: a restarted node comes back empty even with
    /// `persist: true`.
    ForgetOnRestart,
}

/// The `protocol: Gossip((...))` section of a scenario.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct GossipConfig {
    /// Anti-entropy or rumor mongering.
    pub style: Style,
    /// Push, pull or push-pull.
    pub direction: Direction,
    /// Rumors: feedback or blind.
    pub interest: Interest,
    /// Rumors: counter or coin.
    pub stop: Stop,
    /// Rumors, feedback counters: what the counter counts.
    pub counter: CounterRule,
    /// Rumors: the counter limit, or 1/probability of the coin.
    pub k: u32,
    /// Partners called per round.
    pub fanout: u32,
    /// Round length.
    pub period: Dur,
    /// Synchronous or unsynchronized rounds.
    pub rounds: Rounds,
    /// Full or partial view.
    pub view: PeerView,
    /// Whether the store survives a crash.
    pub persist: bool,
    /// A known-bug variant, if any.
    pub bug: Option<Bug>,
}

impl Default for GossipConfig {
    fn default() -> Self {
        GossipConfig {
            style: Style::AntiEntropy,
            direction: Direction::PushPull,
            interest: Interest::Feedback,
            stop: Stop::Counter,
            counter: CounterRule::Demers,
            k: 2,
            fanout: 1,
            period: Dur::ms(100),
            rounds: Rounds::Synchronous,
            view: PeerView::Full,
            persist: true,
            bug: None,
        }
    }
}

impl GossipConfig {
    /// Checks the config against the cluster size.
    pub fn validate(&self, nodes: usize) -> Result<(), String> {
        use crate::limits;
        limits::period("period", self.period)?;
        limits::count("k", u64::from(self.k), 1, 1_000_000)?;
        limits::count("fanout", u64::from(self.fanout), 1, u64::from(MAX_FANOUT))?;
        if let Rounds::Unsynchronized { jitter } = self.rounds
            && jitter >= self.period
        {
            return Err(format!(
                "Unsynchronized jitter ({jitter}) must be below the period ({})",
                self.period
            ));
        }
        match self.view {
            PeerView::KOut(k) if k == 0 || k as usize >= nodes || k > MAX_FANOUT => {
                return Err(format!(
                    "KOut({k}) needs 1 <= k < nodes ({nodes}) and k <= {MAX_FANOUT}"
                ));
            }
            PeerView::Ring(r) if r == 0 || 2 * r as usize >= nodes || r > MAX_FANOUT => {
                return Err(format!(
                    "Ring({r}) needs 1 <= r, 2r < nodes ({nodes}) and r <= {MAX_FANOUT}"
                ));
            }
            _ => {}
        }
        // Every node calls `fanout` partners per round; a contact is at most three messages.
        let estimate =
            nodes as f64 * (1.0 + 3.0 * f64::from(self.fanout)) / self.period.0.as_secs_f64();
        limits::event_rate(estimate, "nodes x fanout x 3 messages per round")
    }
}

/// The largest fanout (and partial-view degree): partners called per round.
pub const MAX_FANOUT: u32 = 1024;

/// The engine-side config every node shares: the scenario's config plus what `build` derives.
#[derive(Clone, Debug)]
pub struct Params {
    /// The scenario's config.
    pub cfg: GossipConfig,
    /// The seed of the partial view's random graph.
    pub view_seed: u64,
    /// `cfg.period` in nanoseconds.
    pub period_ns: u64,
}

impl Params {
    /// Derives the node config; the partial view is drawn from `seed`.
    pub fn new(cfg: GossipConfig, seed: u64) -> Params {
        Params {
            period_ns: cfg.period.nanos().max(1),
            view_seed: sim::rng::derive_seed(seed, sim::rng::Purpose::Other(0x0060_551b)),
            cfg,
        }
    }
}

/// One update at a fixed time.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UpdateAt {
    /// When the client sends it (true time).
    pub at: Dur,
    /// To which node (`None`: a random node).
    #[serde(default)]
    pub node: Option<u32>,
    /// The key written.
    #[serde(default)]
    pub key: u32,
}

/// The `workload: Updates((...))` section of a scenario.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct UpdatesConfig {
    /// Updates at fixed times.
    pub updates: Vec<UpdateAt>,
    /// Updates per second between `start` and `stop` (0: none).
    pub rate: f64,
    /// Keys drawn uniformly in `0..keys` for rate updates.
    pub keys: u32,
    /// When rate updates begin.
    pub start: Dur,
    /// When rate updates end.
    pub stop: Dur,
    /// The node rate updates go to (`None`: a random node each time).
    pub node: Option<u32>,
    /// End the run early once the spread is complete (see [`MonitorOptions::stop_when_done`]).
    pub stop_when_spread: bool,
}

impl Default for UpdatesConfig {
    fn default() -> Self {
        UpdatesConfig {
            updates: vec![UpdateAt {
                at: Dur::ms(0),
                node: Some(0),
                key: 0,
            }],
            rate: 0.0,
            keys: 1,
            start: Dur::ms(0),
            stop: Dur::ms(0),
            node: None,
            stop_when_spread: false,
        }
    }
}

/// The gossip family: `protocol: Gossip((...))` in a scenario, with update clients.
#[derive(Clone, Copy, Debug, Default)]
pub struct GossipFamily;

impl Family for GossipFamily {
    type Protocol = GossipNode;
    type Config = GossipConfig;
    type Workload = UpdatesConfig;

    fn name(&self) -> &'static str {
        "Gossip"
    }

    fn about(&self) -> &'static str {
        "epidemic dissemination: anti-entropy and rumor mongering, push / pull / push-pull"
    }

    fn invariants(&self) -> Vec<InvariantInfo> {
        use InvariantInfo as I;
        vec![
            I::safety(
                Invariant::NO_INVENTED_VALUES,
                "no node holds a (key, version, value) that no client wrote",
            ),
            I::safety(
                Invariant::VERSIONS_MONOTONIC,
                "while a node is up, its version of a key never goes back",
            ),
            I::safety(
                Invariant::UPDATES_SURVIVE_RESTART,
                "with persist: true, a restarted node still holds each key at the version it had (or newer)",
            ),
            I::within(
                Invariant::CONVERGED_WITHIN,
                "anti-entropy: all live nodes hold identical data within T after the last fault and the last update",
            ),
        ]
    }

    fn coverage(&self) -> Vec<MetricInfo> {
        let m = MetricInfo::new;
        vec![
            m(
                "gossip.restart.store_kept",
                "a node restarted with its persisted store",
            ),
            m(
                "gossip.restart.store_lost",
                "a node restarted without its store (amnesia)",
            ),
            m(
                "gossip.digest.newer_sent",
                "a digest answered with newer entries (pull)",
            ),
            m(
                "gossip.digest.older_requested",
                "a digest answered by asking for entries (push)",
            ),
            m(
                "gossip.entries.all_adopted",
                "every entry a message carried was new",
            ),
            m(
                "gossip.entries.partly_adopted",
                "some of the entries a message carried were new",
            ),
            m(
                "gossip.entries.all_redundant",
                "none of the entries a message carried was new",
            ),
        ]
    }

    fn metrics(&self) -> Vec<MetricInfo> {
        let m = MetricInfo::new;
        vec![
            m("gossip.messages", "messages sent"),
            m("gossip.bytes", "estimated bytes sent"),
            m(
                "gossip.entry_messages",
                "received messages carrying entries",
            ),
            m(
                "gossip.redundant_messages",
                "entry messages that taught nothing",
            ),
            m("gossip.entries_received", "entries received"),
            m("gossip.entries_adopted", "entries received that were new"),
            m("gossip.updates_written", "client updates written at a node"),
            m("gossip.updates", "updates the monitor tracked"),
            m(
                "gossip.updates_fully_spread",
                "updates that reached every node",
            ),
            m("gossip.invented", "values held that nobody wrote"),
            m(
                "gossip.informed_fraction",
                "mean informed fraction, one sample per round",
            ),
            m(
                "gossip.informed_fraction.latest",
                "informed fraction of the newest update, per round",
            ),
            m(
                "gossip.update.rounds_to_99",
                "per update: rounds until 99% of nodes hold it",
            ),
            m(
                "gossip.update.rounds_to_100",
                "per update: rounds until every node holds it",
            ),
            m(
                "gossip.update.time_to_99_ms",
                "per update: time until 99% hold it (ms)",
            ),
            m(
                "gossip.update.time_to_100_ms",
                "per update: time until every node holds it (ms)",
            ),
            m(
                "gossip.update.residue",
                "per update: fraction never informed",
            ),
            m(
                "gossip.residue",
                "fraction of nodes never informed, over updates",
            ),
            m("gossip.messages_per_node", "messages sent per node"),
            m("gossip.bytes_per_node", "estimated bytes sent per node"),
            m(
                "gossip.entry_messages_per_node",
                "entry messages per node (Demers' traffic m)",
            ),
            m(
                "gossip.redundant_ratio",
                "redundant entry messages / entry messages",
            ),
        ]
    }

    fn check(
        &self,
        setup: &Setup,
        config: &GossipConfig,
        workload: &UpdatesConfig,
        _checks: &Checks,
    ) -> Result<(), String> {
        config.validate(setup.nodes)?;
        workload
            .validate(setup.nodes, setup.duration)
            .map_err(|e| format!("workload: {e}"))
    }

    fn build(
        &self,
        setup: &Setup,
        config: &GossipConfig,
        workload: &UpdatesConfig,
        checks: &Checks,
    ) -> Built<GossipNode> {
        let opt = monitor_options(setup, config, workload, checks);
        Built {
            config: Params::new(config.clone(), setup.seed),
            workload: Box::new(UpdateWorkload::new(workload.clone(), setup.nodes)),
            monitors: vec![Box::new(GossipMonitor::new(opt, setup.nodes))],
        }
    }
}

impl WorkloadConfig for UpdatesConfig {
    const NAME: &'static str = "Updates";
    const ABOUT: &'static str =
        "client updates injected at nodes: an explicit list and/or a steady rate";

    fn idle() -> Self {
        UpdatesConfig {
            updates: vec![],
            rate: 0.0,
            ..UpdatesConfig::default()
        }
    }

    fn reductions() -> Vec<crate::family::Reduction<Self>> {
        vec![|w: &UpdatesConfig| {
            if w.rate <= 0.0 {
                return vec![];
            }
            [8.0, 4.0, 2.0]
                .into_iter()
                .map(|div| {
                    let rate = w.rate / div;
                    let what = format!("update rate {} -> {rate}", w.rate);
                    (what, UpdatesConfig { rate, ..w.clone() })
                })
                .collect()
        }]
    }
}

/// The monitor options `build` derives from a scenario (exposed for tests that run
/// `sim::Simulation` directly).
pub fn monitor_options(
    setup: &Setup,
    config: &GossipConfig,
    workload: &UpdatesConfig,
    checks: &Checks,
) -> MonitorOptions {
    let period = config.period.0;
    let quiet = setup.quiet_from.max(Time::ZERO + workload.last_update());
    MonitorOptions {
        no_invented: checks.has(Invariant::NO_INVENTED_VALUES),
        monotonic: checks.has(Invariant::VERSIONS_MONOTONIC),
        survive_restart: checks.has(Invariant::UPDATES_SURVIVE_RESTART) && config.persist,
        converge_deadline: checks
            .deadline(Invariant::CONVERGED_WITHIN)
            .map(|t| quiet + t.0),
        stop_when_done: workload.stop_when_spread,
        // Two rounds after the last update: its request has arrived and been counted.
        done_after: quiet + 2 * period,
        period_ns: config.period.nanos().max(1),
        rumor: config.style == Style::RumorMongering,
    }
}
