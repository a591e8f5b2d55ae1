//! The KV clients: closed-loop sessions issuing put/get/cas, finding the leader by redirects
//! and by trying nodes, retrying with the same sequence number, and recording every
//! operation straight into the linearizability checker's [`History`] for the checks at the end
//! of the run. Invocations and completions are recorded as they happen, in each client's own
//! order, so two events at the same nanosecond keep the order the clients saw them in.
//!
//! Each client has one operation outstanding (Knossos/Jepsen "process" semantics). An
//! attempt that gets no answer within `timeout` is re-sent, same `(client, seq)`, to the next
//! node; `give_up` after its invocation the operation is recorded as `info` (indeterminate)
//! and the client continues as a new process, as Knossos requires after an indeterminate
//! result.

use super::{KvReply, KvRequest, KvResult, Op};
use crate::checks::{Checks, Invariant};
use crate::family::{MetricInfo, WorkloadConfig};
use crate::linearizability::{self, Budget, CheckResult, History, OpId, Outcome};
use crate::units::Dur;
use serde::{Deserialize, Serialize};
use sim::rng::{chance, index, uniform_u64};
use sim::{ClientId, Metrics, NodeId, Protocol, Time, View, Violation, Workload, WorkloadCtx};
use std::cell::RefCell;
use std::rc::Rc;

/// Draws a client's next operation under `cfg`: its key, and a get, a cas or a put; a put or
/// cas writes `*next_value` and advances it, so every written value is unique. The engine's
/// clients and the bridge's draw their operations here, in the same order of draws.
pub fn draw_op<R: rand::Rng + ?Sized>(
    rng: &mut R,
    cfg: &KvWorkloadConfig,
    next_value: &mut u64,
) -> (u64, Op) {
    let key = uniform_u64(rng, 0, cfg.keys.max(1) - 1);
    let op = if chance(rng, cfg.reads) {
        Op::Get
    } else if chance(rng, cfg.cas / (1.0 - cfg.reads).max(1e-9)) {
        // Expect a recent value half the time so that some swaps succeed.
        let expected = next_value.saturating_sub(uniform_u64(rng, 1, 4));
        *next_value += 1;
        Op::Cas {
            expected,
            new: *next_value - 1,
        }
    } else {
        *next_value += 1;
        Op::Put(*next_value - 1)
    };
    (key, op)
}

/// The `workload: Kv((...))` section of a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KvWorkloadConfig {
    /// Number of client sessions.
    pub clients: u32,
    /// Operations per second **per client**, as think time between one completion and the
    /// next invocation (uniform in `[0, 2/rate]`, so the mean is `1/rate`). 0 disables clients.
    pub rate: f64,
    /// Keys, drawn uniformly from `0..keys`.
    pub keys: u64,
    /// Fraction of operations that are reads.
    pub reads: f64,
    /// Fraction of operations that are compare-and-set (the rest are puts).
    pub cas: f64,
    /// How long one attempt waits for a reply before the client re-sends to another node.
    pub timeout: Dur,
    /// How long a client waits before trying another node after "not leader, no hint".
    pub backoff: Dur,
    /// How long after its invocation an unanswered operation is given up and recorded as
    /// indeterminate (`info`); redirects and timeouts retry until then.
    pub give_up: Dur,
    /// When clients start (gives the cluster time to elect a first leader).
    pub start: Dur,
    /// Search budget of the linearizability checker, in model steps.
    pub check_budget: u64,
}

impl Default for KvWorkloadConfig {
    fn default() -> Self {
        KvWorkloadConfig {
            clients: 4,
            rate: 20.0,
            keys: 8,
            reads: 0.5,
            cas: 0.2,
            timeout: Dur::ms(500),
            backoff: Dur::ms(20),
            give_up: Dur::secs(5),
            start: Dur::ms(0),
            check_budget: 2_000_000,
        }
    }
}

impl WorkloadConfig for KvWorkloadConfig {
    const NAME: &'static str = "Kv";
    const ABOUT: &'static str =
        "closed-loop key-value clients (put / get / cas) with sessions, retries and a history";

    fn idle() -> Self {
        KvWorkloadConfig {
            clients: 0,
            ..KvWorkloadConfig::default()
        }
    }

    fn reductions() -> Vec<crate::family::Reduction<Self>> {
        vec![fewer_clients, lower_rate]
    }

    fn validate(&self, setup: &crate::family::Setup) -> Result<(), String> {
        use crate::limits::{self, MAX_CLIENT_RATE, MAX_CLIENTS, MAX_KEYS};
        limits::count(
            "clients",
            u64::from(self.clients),
            0,
            u64::from(MAX_CLIENTS),
        )?;
        limits::number("rate", self.rate, 0.0, MAX_CLIENT_RATE)?;
        if f64::from(self.clients) * self.rate > MAX_CLIENT_RATE {
            return Err(format!(
                "{} clients at {} ops/s each make {:.0} ops/s; at most {MAX_CLIENT_RATE:.0} over all clients",
                self.clients,
                self.rate,
                f64::from(self.clients) * self.rate
            ));
        }
        limits::count("keys", self.keys, 1, MAX_KEYS)?;
        limits::number("reads", self.reads, 0.0, 1.0)?;
        limits::number("cas", self.cas, 0.0, 1.0)?;
        if self.reads + self.cas > 1.0 {
            return Err(format!(
                "reads ({}) and cas ({}) are fractions of the operations and add up to more than 1",
                self.reads, self.cas
            ));
        }
        limits::period("timeout", self.timeout)?;
        limits::period("backoff", self.backoff)?;
        limits::period("give_up", self.give_up)?;
        limits::duration("start", self.start, std::time::Duration::ZERO)?;
        if self.start.0 > setup.duration {
            return Err(format!(
                "start ({}) is after the end of the run ({})",
                self.start,
                Dur(setup.duration)
            ));
        }
        limits::count("check_budget", self.check_budget, 1, 1_000_000_000)
    }

    fn metrics() -> Vec<MetricInfo> {
        vec![
            MetricInfo::new("kv.ops", "operations invoked"),
            MetricInfo::new("kv.ok", "operations that completed ok"),
            MetricInfo::new("kv.fail", "operations that definitely did not happen"),
            MetricInfo::new(
                "kv.info",
                "operations given up on (indeterminate, Jepsen's info)",
            ),
            MetricInfo::new("kv.attempts", "requests sent, retries included"),
            MetricInfo::new("kv.latency_ms", "client latency of each ok operation (ms)"),
            MetricInfo::new("kv.latency_p50_ms", "median client latency (ms)"),
            MetricInfo::new("kv.latency_p90_ms", "90th percentile client latency (ms)"),
            MetricInfo::new("kv.latency_p99_ms", "99th percentile client latency (ms)"),
        ]
    }
}

/// Shrinking: one client, a quarter or half of them.
fn fewer_clients(w: &KvWorkloadConfig) -> Vec<(String, KvWorkloadConfig)> {
    [1, w.clients / 4, w.clients / 2]
        .into_iter()
        .filter(|&c| c >= 1 && c < w.clients)
        .map(|c| {
            let what = format!("clients {} -> {c}", w.clients);
            (
                what,
                KvWorkloadConfig {
                    clients: c,
                    ..w.clone()
                },
            )
        })
        .collect()
}

/// Shrinking: an eighth, a quarter or half the operation rate.
fn lower_rate(w: &KvWorkloadConfig) -> Vec<(String, KvWorkloadConfig)> {
    if w.rate <= 0.0 {
        return vec![];
    }
    [8.0, 4.0, 2.0]
        .into_iter()
        .map(|div| {
            let rate = w.rate / div;
            let what = format!("rate {} -> {rate} ops/s per client", w.rate);
            (what, KvWorkloadConfig { rate, ..w.clone() })
        })
        .collect()
}

/// What a client is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wait {
    /// Thinking before the next operation.
    Think,
    /// A reply to attempt number `.0` of the current operation.
    Reply,
    /// Backing off before trying another node.
    Backoff,
}

/// One client session.
#[derive(Clone, Debug)]
struct Client {
    id: ClientId,
    process: u64,
    seq: u64,
    target: NodeId,
    /// The current operation: request, history id, attempts so far.
    current: Option<(KvRequest, OpId, u32)>,
    wait: Wait,
    /// Bumped on every state change, so stale timers are ignored.
    generation: u64,
}

/// The KV client workload, generic over any protocol that serves [`KvRequest`]s.
pub struct KvWorkload {
    cfg: KvWorkloadConfig,
    clients: Vec<Client>,
    history: Rc<RefCell<History>>,
    next_process: u64,
    next_value: u64,
    check_linearizable: bool,
    ops_within: Option<Dur>,
    quiet_from: Time,
    latencies_ms: Vec<f64>,
}

impl KvWorkload {
    /// Clients per `cfg`; `checks` selects what `finish` checks (`Linearizable`,
    /// `OpsCompleteWithin`), with liveness deadlines counted from `quiet_from`.
    pub fn new(cfg: KvWorkloadConfig, checks: &Checks, quiet_from: Time) -> KvWorkload {
        let ops_within = checks.deadline(Invariant::OPS_COMPLETE_WITHIN);
        KvWorkload {
            clients: Vec::new(),
            history: Rc::default(),
            next_process: 0,
            next_value: 1,
            check_linearizable: checks.has(Invariant::LINEARIZABLE),
            ops_within,
            quiet_from,
            latencies_ms: Vec::new(),
            cfg,
        }
    }

    /// A handle on the history, readable after the run (for export and tests).
    pub fn history(&self) -> Rc<RefCell<History>> {
        Rc::clone(&self.history)
    }

    fn token(c: &Client, i: usize) -> u64 {
        (c.generation << 16) | i as u64
    }

    fn think<P: Protocol>(&mut self, ctx: &mut WorkloadCtx<'_, P>, i: usize) {
        let mean_ns = (1e9 / self.cfg.rate) as u64;
        let after = uniform_u64(ctx.rng(), 0, 2 * mean_ns);
        let c = &mut self.clients[i];
        c.wait = Wait::Think;
        c.generation += 1;
        ctx.set_timer(std::time::Duration::from_nanos(after), Self::token(c, i));
    }

    fn invoke<P: Protocol<Request = KvRequest>>(&mut self, ctx: &mut WorkloadCtx<'_, P>, i: usize) {
        let (key, op) = draw_op(ctx.rng(), &self.cfg, &mut self.next_value);
        let now = ctx.now().as_nanos();
        let c = &mut self.clients[i];
        c.seq += 1;
        let req = KvRequest {
            client: c.id,
            seq: c.seq,
            op,
            key,
        };
        let id = self.history.borrow_mut().invoke(c.process, key, op, now);
        c.current = Some((req, id, 0));
        self.send(ctx, i);
    }

    fn send<P: Protocol<Request = KvRequest>>(&mut self, ctx: &mut WorkloadCtx<'_, P>, i: usize) {
        let c = &mut self.clients[i];
        let (req, _, attempts) = c.current.as_mut().expect("send without an operation");
        *attempts += 1;
        let req = *req;
        c.wait = Wait::Reply;
        c.generation += 1;
        ctx.submit(c.target, c.id, req);
        ctx.count("kv.attempts", 1);
        ctx.set_timer(self.cfg.timeout.0, Self::token(c, i));
    }

    fn complete<P: Protocol>(&mut self, ctx: &mut WorkloadCtx<'_, P>, i: usize, outcome: Outcome) {
        let now = ctx.now().as_nanos();
        let c = &mut self.clients[i];
        let (_, id, _) = c.current.take().expect("complete without an operation");
        let invoked = self.history.borrow().get(id).invoke_ns;
        self.history.borrow_mut().complete(id, outcome, now);
        match outcome {
            Outcome::Ok(_) => {
                ctx.count("kv.ok", 1);
                let ms = (now - invoked) as f64 / 1e6;
                ctx.sample("kv.latency_ms", ms);
                self.latencies_ms.push(ms);
            }
            Outcome::Fail => ctx.count("kv.fail", 1),
            Outcome::Info => {
                ctx.count("kv.info", 1);
                // Knossos: a process with an indeterminate op never runs another one.
                c.process = self.next_process;
                self.next_process += 1;
            }
        }
        self.think(ctx, i);
    }

    /// Whether the current operation has waited `give_up` since its invocation.
    fn expired(&self, now: Time, i: usize) -> bool {
        let Some((_, id, _)) = self.clients[i].current else {
            return false;
        };
        let invoked = self.history.borrow().get(id).invoke_ns;
        now.as_nanos().saturating_sub(invoked) >= self.cfg.give_up.nanos()
    }

    fn next_node(&mut self, n: usize, i: usize) {
        let c = &mut self.clients[i];
        c.target = NodeId((c.target.0 + 1) % n as u32);
    }
}

impl<P: Protocol<Request = KvRequest, Reply = KvReply>> Workload<P> for KvWorkload {
    fn start(&mut self, ctx: &mut WorkloadCtx<'_, P>) {
        if self.cfg.rate <= 0.0 {
            return;
        }
        let n = ctx.node_count();
        for i in 0..self.cfg.clients as usize {
            self.clients.push(Client {
                id: i as ClientId + 1,
                process: i as u64,
                seq: 0,
                target: NodeId(index(ctx.rng(), n) as u32),
                current: None,
                wait: Wait::Think,
                generation: 0,
            });
        }
        self.next_process = self.cfg.clients as u64;
        for i in 0..self.clients.len() {
            let c = &mut self.clients[i];
            c.generation += 1;
            let jitter = uniform_u64(ctx.rng(), 0, (1e9 / self.cfg.rate) as u64);
            ctx.set_timer(
                self.cfg.start.0 + std::time::Duration::from_nanos(jitter),
                Self::token(&self.clients[i], i),
            );
        }
    }

    fn on_reply(
        &mut self,
        ctx: &mut WorkloadCtx<'_, P>,
        from: NodeId,
        client: ClientId,
        reply: KvReply,
    ) {
        let i = (client - 1) as usize;
        let Some(c) = self.clients.get_mut(i) else {
            return;
        };
        let Some((req, _, _)) = c.current else {
            return;
        };
        if reply.seq != req.seq || c.wait == Wait::Think {
            return; // A late answer to an earlier operation.
        }
        match reply.result {
            KvResult::Ok(ret) => {
                c.target = from;
                self.complete(ctx, i, Outcome::Ok(ret));
            }
            KvResult::Fail => self.complete(ctx, i, Outcome::Fail),
            KvResult::NotLeader { hint } => {
                if c.wait != Wait::Reply {
                    return;
                }
                if self.expired(ctx.now(), i) {
                    self.complete(ctx, i, Outcome::Info);
                    return;
                }
                match hint {
                    Some(h) if h != from => {
                        self.clients[i].target = h;
                        self.send(ctx, i);
                    }
                    _ => {
                        self.next_node(ctx.node_count(), i);
                        let c = &mut self.clients[i];
                        c.wait = Wait::Backoff;
                        c.generation += 1;
                        ctx.set_timer(self.cfg.backoff.0, Self::token(c, i));
                    }
                }
            }
        }
    }

    /// Which client, and what it waits for: `think` (the next operation), `reply` (a timeout
    /// on the attempt in flight) or `backoff` (before trying another node); `stale` for a
    /// timer an earlier wait set, which is ignored.
    fn describe_timer(&self, token: u64) -> Option<serde_json::Value> {
        let c = self.clients.get((token & 0xffff) as usize)?;
        let waits_for = match c.wait {
            _ if token >> 16 != c.generation => "stale",
            Wait::Think => "think",
            Wait::Reply => "reply",
            Wait::Backoff => "backoff",
        };
        Some(serde_json::json!({ "client": c.id, "waits_for": waits_for }))
    }

    fn on_timer(&mut self, ctx: &mut WorkloadCtx<'_, P>, token: u64) {
        let i = (token & 0xffff) as usize;
        let Some(c) = self.clients.get(i) else { return };
        if token >> 16 != c.generation {
            return;
        }
        match c.wait {
            Wait::Think => self.invoke(ctx, i),
            Wait::Backoff => self.send(ctx, i),
            Wait::Reply => {
                if self.expired(ctx.now(), i) {
                    self.complete(ctx, i, Outcome::Info);
                } else {
                    self.next_node(ctx.node_count(), i);
                    self.send(ctx, i);
                }
            }
        }
    }

    fn finish(&mut self, view: &View<'_, P>) -> sim::Check {
        let end = view.now().as_nanos();
        let history = self.history.borrow();
        if let Some(d) = self.ops_within
            && let Some(v) =
                ops_complete_within(&history, self.quiet_from.as_nanos(), d.nanos(), end)
        {
            return sim::Check::Violated(v);
        }
        if self.check_linearizable {
            let budget = Budget {
                steps_max: self.cfg.check_budget,
                deadline: view.wall_deadline(),
                ..Budget::default()
            };
            match check_linearizable(&history, budget) {
                Linearity::Linearizable => {}
                Linearity::Not(msg) => {
                    return sim::Check::Violated(Violation::new(
                        Invariant::LINEARIZABLE.name(),
                        msg,
                    ));
                }
                Linearity::Unknown(msg) => {
                    return sim::Check::Unknown(Violation::new(
                        Invariant::LINEARIZABLE.name(),
                        msg,
                    ));
                }
            }
        }
        sim::Check::Ok
    }

    fn exports(&self) -> Vec<(&'static str, String)> {
        let history = self.history.borrow();
        vec![("jsonl", history.to_jsonl()), ("edn", history.to_edn())]
    }

    fn report(&self, metrics: &mut Metrics) {
        metrics.count("kv.ops", self.history.borrow().len() as u64);
        if let Some(s) = sim::Summary::of(&self.latencies_ms) {
            // Quantiles of client-observed latency of ok operations (ms), as samples at 0.
            for (name, v) in [
                ("kv.latency_p50_ms", s.p50),
                ("kv.latency_p90_ms", s.p90),
                ("kv.latency_p99_ms", s.p99),
            ] {
                metrics.sample(name, Time::ZERO, v);
            }
        }
    }
}

/// The linearizability check's answer, with a readable reason when it is not a pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Linearity {
    Linearizable,
    /// Not linearizable: which key and why.
    Not(String),
    /// The checker ran out of budget (steps, memory or time): neither a pass nor a
    /// violation.
    Unknown(String),
}

/// Checks a history within `budget`.
pub fn check_linearizable(h: &History, budget: Budget) -> Linearity {
    match linearizability::check(h, budget) {
        CheckResult::Linearizable => Linearity::Linearizable,
        CheckResult::NotLinearizable { key, explanation } => {
            Linearity::Not(format!("key {key} has no linearization: {explanation}"))
        }
        CheckResult::Unknown { reason } => Linearity::Unknown(format!(
            "the history is not known to be linearizable: {reason}"
        )),
    }
}

/// `OpsCompleteWithin(d)`: after the faults stop, every operation completes (`ok` or
/// `fail`) within `d` of the later of its invocation and `quiet_from`. Operations that
/// finished before `quiet_from` are exempt, and so are those whose deadline falls after the
/// end of the run. An operation that ends `info` (the client gave up) or is still pending at
/// its deadline violates the check.
pub fn ops_complete_within(
    h: &History,
    quiet_ns: u64,
    d_ns: u64,
    end_ns: u64,
) -> Option<Violation> {
    for r in h.operations() {
        let completed = r.completion.map(|c| c.time_ns);
        if completed.is_some_and(|t| t < quiet_ns) {
            continue;
        }
        let deadline = r.invoke_ns.max(quiet_ns) + d_ns;
        if deadline > end_ns {
            continue;
        }
        let met = matches!(r.outcome(), Outcome::Ok(_) | Outcome::Fail)
            && completed.is_some_and(|t| t <= deadline);
        if !met {
            let state = match r.completion {
                None => "still pending".to_string(),
                Some(c) => format!("{:?} at {:.3}s", c.outcome, c.time_ns as f64 / 1e9),
            };
            return Some(Violation::new(
                Invariant::OPS_COMPLETE_WITHIN.name(),
                format!(
                    "op {} ({:?} key {} by process {}, invoked at {:.3}s) was {state} at its deadline {:.3}s",
                    r.id.0,
                    r.op,
                    r.key,
                    r.process,
                    r.invoke_ns as f64 / 1e9,
                    deadline as f64 / 1e9
                ),
            ));
        }
    }
    None
}
