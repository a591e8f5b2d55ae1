//! Scenario files on madsim's simulator (`--cfg madsim` builds only).
//!
//! [`Plan::of`] translates what a scenario asks for into what madsim can express, or refuses
//! with every reason at once: madsim draws each message's latency uniformly from one range
//! and loses messages with one probability; its links are datagrams (each message takes its
//! own latency, so they reorder; it holds each for its 1 ms minimum timer step when sent and
//! again when received, so latency must be at least 2 ms), cuts are clogged links (checked when a message is sent),
//! a crash kills the node's tasks, a restart re-runs its first task, a pause freezes them;
//! every node reads the same clock. So a scenario runs here when its latency is `Constant`
//! or `Uniform`, it has no duplication, reordering probability, per-link overrides or
//! separate client latency, its links are `Datagram`, its clocks are ideal
//! (`max_drift_ppm: 0`, no offsets), and its faults (nemesis included) are crashes,
//! restarts, pauses, resumes, partitions, isolations, one-way and two-way cuts, bridges
//! and heals.
//!
//! [`run_scenario`] then runs the family's own protocol code, clients of its `Kv` workload
//! ([`crate::client`]) and its own monitors ([`crate::cluster`]), and checks the clients'
//! history with the same linearizability checker as a run of the engine. The same scenario
//! and seed give the same [`Report::digest`].

use crate::Bridged;
use crate::client::{Clients, run_client};
use crate::cluster::{Cluster, Shared};
use crate::node::run_node;
use faultline::scenario::Scenario;
use faultline::scenario::WorkloadSpec;
use protocols::checks::{Checks, Expect, Invariant};
use protocols::family::{Family, Setup};
use protocols::kv::KvWorkloadConfig;
use protocols::linearizability::{self, Budget, CheckResult, History, Outcome};
use sim::rng::{self, Purpose, StreamRng};
use sim::{Fault, Latency, LinkKind, Metrics, NodeId, Target, Time, Violation};
use std::any::Any;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// What madsim adds to every datagram besides its latency draw: its minimum timer step (1
/// ms) when sending and again when receiving (see [`crate::net`]).
const SEND_STEP_NS: u64 = 2_000_000;

/// The port every simulated node listens on.
const PORT: u16 = 7000;

/// Node `i`'s address on the simulated network (10.0.0.1, 10.0.0.2, ...).
pub fn node_addr(i: usize) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::from(0x0A00_0001 + i as u32), PORT))
}

/// The client machine's address (clients listen on consecutive ports of it).
fn client_ip() -> Ipv4Addr {
    Ipv4Addr::new(10, 255, 0, 1)
}

/// Why a scenario cannot run on madsim: every reason found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused(pub Vec<String>);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "madsim cannot express this scenario:")?;
        for r in &self.0 {
            writeln!(f, "  - {r}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Refused {}

/// A scenario as madsim runs it.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Cluster size.
    pub nodes: usize,
    /// The root seed (madsim's and the nodes').
    pub seed: u64,
    /// Run length, in virtual time.
    pub duration: Duration,
    /// madsim draws every datagram's latency from this range (besides its 2 ms of steps).
    pub latency: Range<Duration>,
    /// Every message is lost with this probability.
    pub loss: f64,
    /// Faults with their times, nemesis included.
    pub faults: Vec<(Time, Fault)>,
    /// What the family's checks need.
    pub setup: Setup,
}

impl Plan {
    /// Translates `scenario` run with `seed`, or says everything madsim cannot express.
    pub fn of(scenario: &Scenario, seed: u64) -> Result<Plan, Refused> {
        let prepared = scenario.prepare(seed, false, None);
        let mut why = Vec::new();
        let net = &prepared.sim.network;
        let link = &net.default;
        // madsim holds every datagram 1 ms when it is sent and 1 ms when it is received (see
        // `crate::net`): the range drawn from is the scenario's less those 2 ms.
        let (lo, hi) = match link.latency {
            Latency::Constant(ns) => (ns, ns),
            Latency::Uniform(lo, hi) => (lo, hi),
            ref other => {
                why.push(format!(
                    "latency {other:?}: madsim draws latency uniformly from one range; use Constant or Uniform"
                ));
                (SEND_STEP_NS, SEND_STEP_NS)
            }
        };
        if lo < SEND_STEP_NS {
            why.push(format!(
                "latency below 2 ms ({:?}): madsim delays every datagram by at least 2 ms",
                Duration::from_nanos(lo)
            ));
        }
        let latency = Duration::from_nanos(lo.saturating_sub(SEND_STEP_NS))
            ..Duration::from_nanos(hi.saturating_sub(SEND_STEP_NS) + 1);
        if link.kind != LinkKind::Datagram {
            why.push(
                "links: Stream: madsim's endpoints deliver each message after its own latency \
                 draw, so they reorder; add `links: Datagram` to the network"
                    .into(),
            );
        }
        if link.duplicate > 0.0 {
            why.push("duplicate: madsim never duplicates a message".into());
        }
        if link.reorder > 0.0 {
            why.push("reorder: madsim has no reordering probability (uniform latency reorders on its own)".into());
        }
        if !net.links.is_empty() {
            why.push(
                "per-link overrides: madsim's network has one latency range and one loss rate"
                    .into(),
            );
        }
        if scenario.network.client_latency.is_some() {
            why.push("client_latency: madsim's clients are nodes of the same network".into());
        }
        if !scenario.storage.is_default() {
            why.push(
                "storage: the bridge's disk syncs at once; remove the `storage` section".into(),
            );
        }
        if !scenario.processing.is_default() {
            why.push(
                "processing: the bridge's nodes handle events at madsim's speed, with no \
                 processing-time model; remove the `processing` section"
                    .into(),
            );
        }
        if scenario.topology.is_some() {
            why.push(
                "topology: madsim's network has one latency range for every link, so it has no \
                 zones; remove the `topology` section (and the faults aimed at zones)"
                    .into(),
            );
        }
        let clocks = &scenario.clocks;
        if clocks.max_drift_ppm != 0
            || clocks.max_offset.0 > Duration::ZERO
            || !clocks.nodes.is_empty()
        {
            why.push(
                "clocks: every madsim node reads the same clock; set `clocks: (max_drift_ppm: 0)`"
                    .into(),
            );
        }
        for (at, fault) in &prepared.faults {
            if let Fault::Slow { .. } = fault {
                why.push(format!(
                    "the fault at {at} ({fault:?}): the bridge has no processing-time model to slow down"
                ));
            }
            if let Fault::Degrade { .. } = fault {
                why.push(format!(
                    "the fault at {at} ({fault:?}): madsim has no per-link latency or loss to degrade"
                ));
            }
            if fault
                .targets()
                .iter()
                .any(|t| matches!(t, sim::Target::Zone(_)))
            {
                why.push(format!(
                    "the fault at {at} ({fault:?}): madsim has no zones to aim at"
                ));
            }
            if let Fault::DelaySpike { .. } | Fault::ClockJump { .. } | Fault::SetDrift { .. } =
                fault
            {
                why.push(format!(
                    "the fault at {at} ({fault:?}): madsim has no delay spikes and no per-node clocks"
                ));
            }
            if let Fault::TornWrite(_)
            | Fault::Corrupt(_)
            | Fault::ReadError(_)
            | Fault::FsyncFail(_)
            | Fault::SlowDisk { .. } = fault
            {
                why.push(format!(
                    "the fault at {at} ({fault:?}): the bridge's disk syncs at once and has no faults"
                ));
            }
        }
        if !why.is_empty() {
            return Err(Refused(why));
        }
        Ok(Plan {
            nodes: scenario.nodes,
            seed,
            duration: scenario.duration.0,
            latency,
            loss: link.loss,
            faults: prepared.faults,
            setup: prepared.setup,
        })
    }
}

/// What a run on madsim found.
#[derive(Debug)]
pub struct Report {
    /// The first invariant broken, by a monitor or by the history.
    pub violation: Option<Violation>,
    /// The linearizability check's answer, when the scenario asks for it.
    pub linearizable: Option<CheckResult>,
    /// The clients' operations (`summary` counts them; `to_edn`, `to_jsonl` export them).
    pub operations: History,
    /// What the nodes, monitors and clients recorded.
    pub metrics: Metrics,
    /// Protocol messages delivered to nodes.
    pub delivered: u64,
    /// Node steps and faults.
    pub events: u64,
    /// Virtual time run.
    pub virtual_time: Duration,
    /// A hash of the history and the delivery count: the same scenario and seed give the
    /// same digest.
    pub digest: u64,
}

impl Report {
    /// Whether the run showed what the scenario expects: every check holding, or the named
    /// invariant broken.
    pub fn matches(&self, expect: Expect) -> bool {
        match (expect, &self.violation) {
            (Expect::Holds, None) => true,
            (Expect::Violates(inv), Some(v)) => v.invariant == inv.name(),
            _ => false,
        }
    }

    /// A few lines for a terminal: the verdict, the history, the traffic and the counters.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let verdict = match &self.violation {
            None => "every check holds".to_string(),
            Some(v) => format!("VIOLATED {v}"),
        };
        let h = self.operations.summary();
        let lin = match &self.linearizable {
            None => "not checked".to_string(),
            Some(CheckResult::Linearizable) => "linearizable".to_string(),
            Some(CheckResult::NotLinearizable { key, .. }) => {
                format!("NOT linearizable (key {key})")
            }
            Some(CheckResult::Unknown { reason }) => format!("unknown ({reason})"),
        };
        out += &format!("  verdict             {verdict}\n");
        out += &format!(
            "  history             {} ops: {} ok, {} fail, {} info; {lin}\n",
            h.ops, h.ok, h.fail, h.info
        );
        out += &format!(
            "  virtual time        {:.3} s, {} events, {} messages delivered\n",
            self.virtual_time.as_secs_f64(),
            self.events,
            self.delivered
        );
        for name in self.metrics.counters.keys() {
            out += &format!("  {name:<19} {}\n", self.metrics.counter(name));
        }
        for name in [
            "kv.latency_ms",
            "raft.election_time_ms",
            "raft.first_leader_ms",
        ] {
            if let Some(s) = sim::Summary::of(&self.metrics.values(name)) {
                out += &format!(
                    "  {name:<19} mean {:.1}  p50 {:.1}  max {:.1}  n {}\n",
                    s.mean, s.p50, s.max, s.count
                );
            }
        }
        out += &format!("  digest              {:016x}\n", self.digest);
        out
    }
}

/// Runs a scenario of a built-in family on madsim: Raft and Failover with their `Kv` clients,
/// Gossip without clients (`workload: Idle`: its update injection is not bridged).
pub fn run_scenario(scenario: &Scenario, seed: u64) -> Result<Report, Refused> {
    let plan = Plan::of(scenario, seed)?;
    match scenario.protocol.name() {
        "Raft" => Ok(run_family(&protocols::raft::RaftFamily, scenario, &plan)),
        "Failover" => Ok(run_family(
            &protocols::failover::FailoverFamily,
            scenario,
            &plan,
        )),
        "Gossip" if matches!(scenario.workload, WorkloadSpec::Idle) => Ok(run_family(
            &protocols::gossip::GossipFamily,
            scenario,
            &plan,
        )),
        "Gossip" => Err(Refused(vec![
            "Gossip's update injection is not bridged: run it with `workload: Idle`".into(),
        ])),
        other => Err(Refused(vec![format!(
            "protocol {other}: the madsim runner knows Raft, Failover and Gossip"
        )])),
    }
}

/// Runs `plan` for `family` with the scenario's protocol settings, checks and (when they are
/// `Kv` clients) clients.
pub fn run_family<F>(family: &F, scenario: &Scenario, plan: &Plan) -> Report
where
    F: Family,
    F::Protocol: Bridged,
{
    let cfg = scenario
        .protocol
        .config_as::<F::Config>()
        .expect("the scenario's protocol is this family")
        .clone();
    let resolved = scenario.workload.resolve(&*scenario.protocol.family);
    let workload = resolved
        .as_any()
        .downcast_ref::<F::Workload>()
        .expect("the family's workload")
        .clone();
    let kv = resolved
        .as_any()
        .downcast_ref::<KvWorkloadConfig>()
        .cloned();
    let checks = scenario.checks();
    let built = family.build(&plan.setup, &cfg, &workload, &checks);
    let mut cluster = Cluster::<F::Protocol>::new(built.config, plan.nodes, plan.seed);
    cluster.monitors = built.monitors;
    run_cluster(cluster, plan, kv, &checks)
}

thread_local! {
    /// The cluster of the run on this thread, for madsim's node start functions (which must
    /// be `Send`, so cannot capture it).
    static CLUSTER: RefCell<Option<Rc<dyn Any>>> = const { RefCell::new(None) };
    /// The clients' shared state.
    static CLIENTS: RefCell<Option<Rc<Clients>>> = const { RefCell::new(None) };
}

fn this_cluster<P: Bridged>() -> Shared<P> {
    CLUSTER.with(|c| {
        c.borrow()
            .clone()
            .expect("a bridged run on this thread")
            .downcast::<RefCell<Cluster<P>>>()
            .unwrap_or_else(|_| panic!("the run's cluster is of another protocol"))
    })
}

/// Runs `cluster` on madsim for `plan`, with `Kv` clients if given (the nodes must take
/// `KvRequest`s then); `checks` says whether the history is checked.
pub fn run_cluster<P: Bridged>(
    cluster: Cluster<P>,
    plan: &Plan,
    workload: Option<KvWorkloadConfig>,
    checks: &Checks,
) -> Report {
    let mut config = madsim::Config::default();
    config.net.send_latency = plan.latency.clone();
    config.net.packet_loss_rate = plan.loss;
    let rt = madsim::runtime::Runtime::with_seed_and_config(plan.seed, config);
    let plan = plan.clone();
    let checks = checks.clone();
    rt.block_on(async move { drive(cluster, plan, workload, checks).await })
}

async fn drive<P: Bridged>(
    mut cluster: Cluster<P>,
    plan: Plan,
    workload: Option<KvWorkloadConfig>,
    checks: Checks,
) -> Report {
    let handle = madsim::runtime::Handle::current();
    let epoch = madsim::time::Instant::now();
    cluster.epoch = epoch;
    let n = plan.nodes;
    let shared = cluster.shared();
    CLUSTER.with(|c| *c.borrow_mut() = Some(shared.clone() as Rc<dyn Any>));
    let addrs: Arc<Vec<SocketAddr>> = Arc::new((0..n).map(node_addr).collect());
    let ids: Vec<_> = (0..n)
        .map(|i| {
            let addrs = addrs.clone();
            handle
                .create_node()
                .name(format!("n{i}"))
                .ip(addrs[i].ip())
                .init(move || {
                    let addrs = Rc::new(addrs.to_vec());
                    async move { run_node(this_cluster::<P>(), NodeId(i as u32), addrs).await }
                })
                .build()
                .id()
        })
        .collect();
    let history = Rc::new(RefCell::new(History::new()));
    if let Some(wl) = workload.clone().filter(|w| w.clients > 0 && w.rate > 0.0) {
        CLIENTS.with(|c| {
            *c.borrow_mut() = Some(Rc::new(Clients {
                nodes: Rc::new(addrs.to_vec()),
                epoch,
                history: history.clone(),
                next_value: std::cell::Cell::new(1),
            }))
        });
        let (seed, until) = (plan.seed, plan.duration);
        handle
            .create_node()
            .name("clients")
            .ip(client_ip().into())
            .init(move || {
                let wl = wl.clone();
                async move {
                    let shared = CLIENTS.with(|c| c.borrow().clone().expect("clients"));
                    for i in 0..wl.clients {
                        let bind = SocketAddr::from((client_ip(), 20_000 + i as u16));
                        let rng = rng::stream(seed, Purpose::Other(0xC1_1E47 + u64::from(i)));
                        madsim::task::spawn_local(run_client(
                            i,
                            wl.clone(),
                            shared.clone(),
                            bind,
                            rng,
                            until,
                        ));
                    }
                    std::future::pending::<()>().await
                }
            })
            .build();
    }
    let mut faults = Faults {
        handle: handle.clone(),
        ids,
        rng: rng::stream(plan.seed, Purpose::Faults),
        paused: BTreeSet::new(),
        clogged: BTreeSet::new(),
    };
    let end = epoch + plan.duration;
    let mut pending = plan.faults.iter().peekable();
    // Wake at every fault and at least every 100 ms to stop early on a violation.
    loop {
        let next = pending
            .peek()
            .map_or(end, |(t, _)| epoch + Duration::from_nanos(t.0))
            .min(end)
            .min(madsim::time::Instant::now() + Duration::from_millis(100));
        madsim::time::sleep_until(next).await;
        while let Some((t, f)) = pending
            .next_if(|(t, _)| epoch + Duration::from_nanos(t.0) <= madsim::time::Instant::now())
        {
            let _ = t;
            faults.apply(&shared, f);
        }
        if madsim::time::Instant::now() >= end || shared.borrow().violation.is_some() {
            break;
        }
    }
    let virtual_time = epoch.elapsed();
    let mut c = shared.borrow_mut();
    c.finish();
    let history = history.borrow();
    // The clients' latency, as the engine's clients record it.
    for op in history.operations() {
        if let Some(done) = op
            .completion
            .filter(|d| matches!(d.outcome, Outcome::Ok(_)))
        {
            let ms = (done.time_ns - op.invoke_ns) as f64 / 1e6;
            c.metrics.sample("kv.latency_ms", Time(done.time_ns), ms);
        }
    }
    let linearizable = (workload.is_some() && checks.has(Invariant::LINEARIZABLE)).then(|| {
        let budget = workload.as_ref().map_or(2_000_000, |w| w.check_budget);
        linearizability::check(&history, Budget::steps(budget))
    });
    if c.violation.is_none()
        && let Some(CheckResult::NotLinearizable { explanation, .. }) = &linearizable
    {
        let mut v = Violation::new(Invariant::LINEARIZABLE.name(), explanation.clone());
        v.time = Time::ZERO + virtual_time;
        c.violation = Some(v);
    }
    let digest = {
        let mut h = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&history.to_jsonl(), &mut h);
        std::hash::Hash::hash(&c.delivered, &mut h);
        std::hash::Hash::hash(&c.events, &mut h);
        std::hash::Hasher::finish(&h)
    };
    CLUSTER.with(|x| *x.borrow_mut() = None);
    CLIENTS.with(|x| *x.borrow_mut() = None);
    Report {
        violation: c.violation.clone(),
        linearizable,
        operations: history.clone(),
        metrics: std::mem::take(&mut c.metrics),
        delivered: c.delivered,
        events: c.events,
        virtual_time,
        digest,
    }
}

/// Applies faults with madsim's node controls and clogged links.
struct Faults {
    handle: madsim::runtime::Handle,
    ids: Vec<madsim::task::NodeId>,
    rng: StreamRng,
    paused: BTreeSet<usize>,
    clogged: BTreeSet<(usize, usize)>,
}

impl Faults {
    fn resolve<P: Bridged>(&mut self, c: &Cluster<P>, t: &Target) -> Vec<usize> {
        let n = c.hosts.len();
        let up = |i: &usize| c.hosts[*i].is_up();
        match t {
            Target::Node(id) => vec![id.index()],
            Target::Nodes(ids) => ids.iter().map(|id| id.index()).collect(),
            Target::Range(a, b) => (a.index().min(b.index())..=a.index().max(b.index())).collect(),
            Target::All => (0..n).collect(),
            Target::Crashed => (0..n).filter(|i| !up(i)).collect(),
            Target::Paused => self.paused.iter().copied().collect(),
            Target::Leader => {
                let mut best: Option<(u64, usize)> = None;
                for i in 0..n {
                    if let Some(term) = c.hosts[i].node().and_then(sim::Protocol::leader_term)
                        && best.is_none_or(|(t, _)| term > t)
                    {
                        best = Some((term, i));
                    }
                }
                best.map(|(_, i)| i).into_iter().collect()
            }
            Target::Follower | Target::Random => {
                let only_followers = matches!(t, Target::Follower);
                let candidates: Vec<usize> = (0..n)
                    .filter(|i| {
                        c.hosts[*i]
                            .node()
                            .is_some_and(|p| !only_followers || p.leader_term().is_none())
                    })
                    .collect();
                if candidates.is_empty() {
                    vec![]
                } else {
                    vec![candidates[rng::index(&mut self.rng, candidates.len())]]
                }
            }
            // Refused by `Plan::of`.
            Target::Zone(_) => unreachable!("refused when the plan was made"),
        }
    }

    fn clog(&mut self, from: &[usize], to: &[usize]) {
        let net = madsim::net::NetSim::current();
        for &a in from {
            for &b in to {
                if a != b && self.clogged.insert((a, b)) {
                    net.clog_link(self.ids[a], self.ids[b]);
                }
            }
        }
    }

    fn apply<P: Bridged>(&mut self, shared: &Shared<P>, fault: &Fault) {
        let n = shared.borrow().hosts.len();
        let resolve = |me: &mut Self, t: &Target| me.resolve(&shared.borrow(), t);
        match fault {
            Fault::Crash(t) => {
                for i in resolve(self, t) {
                    if shared.borrow().hosts[i].is_up() {
                        self.handle.kill(self.ids[i]);
                        self.paused.remove(&i);
                        shared.borrow_mut().crash(i);
                    }
                }
                return;
            }
            Fault::Restart(t) => {
                for i in resolve(self, t) {
                    if !shared.borrow().hosts[i].is_up() {
                        // The node's first task runs again and recovers from durable state.
                        self.handle.restart(self.ids[i]);
                    }
                }
                return;
            }
            Fault::Pause(t) => {
                for i in resolve(self, t) {
                    if shared.borrow().hosts[i].is_up() && self.paused.insert(i) {
                        self.handle.pause(self.ids[i]);
                    }
                }
            }
            Fault::Resume(t) => {
                for i in resolve(self, t) {
                    if self.paused.remove(&i) {
                        self.handle.resume(self.ids[i]);
                    }
                }
            }
            Fault::Partition(groups) => {
                let mut groups: Vec<Vec<usize>> = groups
                    .iter()
                    .map(|g| g.iter().flat_map(|t| resolve(self, t)).collect())
                    .collect();
                let named: BTreeSet<usize> = groups.iter().flatten().copied().collect();
                groups.push((0..n).filter(|i| !named.contains(i)).collect());
                for (x, a) in groups.iter().enumerate() {
                    for (y, b) in groups.iter().enumerate() {
                        if x != y {
                            self.clog(a, b);
                        }
                    }
                }
            }
            Fault::Isolate(t) => {
                let hit = resolve(self, t);
                let rest: Vec<usize> = (0..n).filter(|i| !hit.contains(i)).collect();
                self.clog(&hit, &rest);
                self.clog(&rest, &hit);
            }
            Fault::OneWay { from, to } => {
                let (a, b) = (resolve(self, from), resolve(self, to));
                self.clog(&a, &b);
            }
            Fault::CutLink(a, b) => {
                let (a, b) = (resolve(self, a), resolve(self, b));
                self.clog(&a, &b);
                self.clog(&b, &a);
            }
            Fault::Bridge(via) => {
                let via = resolve(self, via);
                let rest: Vec<usize> = (0..n).filter(|i| !via.contains(i)).collect();
                let (low, high) = rest.split_at(rest.len().div_ceil(2));
                if !via.is_empty() && !low.is_empty() && !high.is_empty() {
                    let (low, high) = (low.to_vec(), high.to_vec());
                    self.clog(&low, &high);
                    self.clog(&high, &low);
                }
            }
            Fault::Heal => {
                let net = madsim::net::NetSim::current();
                for (a, b) in std::mem::take(&mut self.clogged) {
                    net.unclog_link(self.ids[a], self.ids[b]);
                }
            }
            // Refused by `Plan::of`.
            Fault::DelaySpike { .. }
            | Fault::ClockJump { .. }
            | Fault::SetDrift { .. }
            | Fault::TornWrite(_)
            | Fault::Corrupt(_)
            | Fault::ReadError(_)
            | Fault::FsyncFail(_)
            | Fault::SlowDisk { .. }
            | Fault::Slow { .. }
            | Fault::Degrade { .. } => {
                unreachable!("refused when the plan was made")
            }
        }
        shared.borrow_mut().fault();
    }
}
