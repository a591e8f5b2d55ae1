//! Applying faults: resolving targets at the moment a fault fires, then crashing, restarting,
//! pausing, resuming, cutting, healing, slowing links and skewing clocks.
//!
//! Crash semantics (docs/architecture.md): a crash drops the node's volatile state; its pending timers
//! and the messages in flight to it are lost (they were scheduled before the crash: their
//! sequence numbers are below the node's `crash_seq`); its durable storage is kept. Restart rebuilds the node with `Protocol::recover`. Pause freezes the node:
//! its events are held in arrival order and handled the moment it resumes.

use super::{NodeStatus, Simulation};
use crate::NodeId;
use crate::fault::{Fault, Target};
use crate::monitor::{EventInfo, EventKind};
use crate::network::{Degrade, Spike};
use crate::partition::Cut;
use crate::protocol::Protocol;
use crate::rng;

/// Checks named ids exist. Scenario files validate ids before a run; this catches a bad id
/// from code that builds faults directly, with a message instead of an index panic later.
fn existing(ids: Vec<NodeId>, n: u32) -> Vec<NodeId> {
    if let Some(bad) = ids.iter().find(|id| id.0 >= n) {
        panic!(
            "a fault targets {bad}, but the cluster has nodes n0 to n{}",
            n - 1
        );
    }
    ids
}

impl<P: Protocol> Simulation<P> {
    /// Resolves a target to node ids, now.
    pub(crate) fn resolve(&mut self, target: &Target) -> Vec<NodeId> {
        let n = self.slots.len() as u32;
        let all = (0..n).map(NodeId);
        match target {
            Target::Node(id) => existing(vec![*id], n),
            Target::Nodes(ids) => existing(ids.clone(), n),
            Target::Range(a, b) => existing((a.0.min(b.0)..=a.0.max(b.0)).map(NodeId).collect(), n),
            Target::All => all.collect(),
            Target::Zone(name) => match self.core.net.zones().get(name) {
                Some(z) => z.ids().collect(),
                None => {
                    let names: Vec<&str> = self
                        .core
                        .net
                        .zones()
                        .list()
                        .iter()
                        .map(|z| z.name.as_str())
                        .collect();
                    panic!("a fault targets zone {name:?}, but the network's zones are {names:?}")
                }
            },
            Target::Crashed => all
                .filter(|id| self.core.meta[id.index()].status == NodeStatus::Crashed)
                .collect(),
            Target::Paused => all
                .filter(|id| self.core.meta[id.index()].status == NodeStatus::Paused)
                .collect(),
            Target::Leader => {
                // The highest term wins; ties (impossible when Election Safety holds) go to
                // the lowest id, so resolution stays deterministic even in a buggy run.
                let mut best: Option<(u64, NodeId)> = None;
                for (i, s) in self.slots.iter().enumerate() {
                    if let Some(term) = s.state.as_ref().and_then(P::leader_term)
                        && best.is_none_or(|(t, _)| term > t)
                    {
                        best = Some((term, NodeId(i as u32)));
                    }
                }
                best.map(|(_, id)| id).into_iter().collect()
            }
            Target::Follower | Target::Random => {
                let followers_only = matches!(target, Target::Follower);
                let candidates: Vec<NodeId> = self
                    .slots
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| match &s.state {
                        None => false,
                        Some(p) => !followers_only || p.leader_term().is_none(),
                    })
                    .map(|(i, _)| NodeId(i as u32))
                    .collect();
                if candidates.is_empty() {
                    vec![]
                } else {
                    vec![candidates[rng::index(&mut self.fault_rng, candidates.len())]]
                }
            }
        }
    }

    /// The fault with every role target (`Leader`, `Follower`, `Random`, `Crashed`, `Paused`)
    /// and every zone replaced by `Nodes` of what it resolves to now. Targets are resolved
    /// once each, in the order they appear, so `Random` draws are the same whether or not
    /// anything reads the result. Applying the pinned fault has the same effect as applying
    /// the original now.
    pub(crate) fn pin(&mut self, fault: &Fault) -> Fault {
        fault
            .clone()
            .filter_map_targets(|t| {
                Some(if t.is_role() || matches!(t, Target::Zone(_)) {
                    Target::Nodes(self.resolve(&t))
                } else {
                    t
                })
            })
            .expect("pinning keeps every target")
    }

    /// Applies one fault and returns its event. Role targets are pinned first (see
    /// [`Self::pin`]); the pinned fault is what the run report lists as applied.
    pub(crate) fn apply_fault(&mut self, original: Fault) -> EventInfo {
        let fault = self.pin(&original);
        let n = self.slots.len();
        let mut hit: Vec<NodeId> = Vec::new();
        match &fault {
            Fault::Crash(t) | Fault::TornWrite(t) => {
                let torn = matches!(fault, Fault::TornWrite(_));
                for id in self.resolve(t) {
                    let meta = &mut self.core.meta[id.index()];
                    if meta.status != NodeStatus::Crashed {
                        meta.status = NodeStatus::Crashed;
                        meta.crash_seq = self.core.seq;
                        let slot = &mut self.slots[id.index()];
                        slot.state = None;
                        if let Some(disk) = slot.disk.as_deref_mut() {
                            disk.crash(&mut self.core.storage_rng, torn);
                        }
                        self.core.deferred.remove(&id.0);
                        // Events waiting for it to finish the one it was handling are lost
                        // with it.
                        if let Some(p) = self.core.processing.as_deref_mut() {
                            p.take(id);
                        }
                        hit.push(id);
                    }
                }
            }
            Fault::Corrupt(t) | Fault::ReadError(t) => {
                let corrupt = matches!(fault, Fault::Corrupt(_));
                for id in self.resolve(t) {
                    let rng = &mut self.core.storage_rng;
                    if let Some(disk) = self.slots[id.index()].disk.as_deref_mut()
                        && (if corrupt {
                            disk.corrupt(rng)
                        } else {
                            disk.lose_sector(rng)
                        })
                    {
                        hit.push(id);
                    }
                }
            }
            Fault::FsyncFail(t) => {
                for id in self.resolve(t) {
                    let disk = self.slots[id.index()]
                        .disk
                        .get_or_insert_with(Default::default);
                    disk.fail_next_sync();
                    hit.push(id);
                }
            }
            Fault::SlowDisk {
                target,
                extra,
                duration,
            } => {
                hit = self.resolve(target);
                let until = self.core.now + duration.0;
                for id in &hit {
                    let disk = self.slots[id.index()]
                        .disk
                        .get_or_insert_with(Default::default);
                    disk.slow = Some((until, *extra));
                }
            }
            Fault::Slow {
                target,
                factor,
                per_event,
                duration,
            } => {
                hit = self.resolve(target);
                let until = self.core.now + duration.0;
                let nodes = self.slots.len();
                let seed = self.seed;
                let p = self.core.processing.get_or_insert_with(|| {
                    super::processing::Processing::always(&Default::default(), nodes, seed)
                });
                for id in &hit {
                    p.slow(
                        *id,
                        super::processing::Slowdown {
                            until,
                            factor: *factor,
                            per_event: *per_event,
                        },
                    );
                }
            }
            Fault::Restart(t) => {
                for id in self.resolve(t) {
                    if self.core.meta[id.index()].status == NodeStatus::Crashed {
                        hit.push(id);
                    }
                }
            }
            Fault::Pause(t) => {
                for id in self.resolve(t) {
                    let meta = &mut self.core.meta[id.index()];
                    if meta.status == NodeStatus::Up {
                        meta.status = NodeStatus::Paused;
                        // The event it was handling and those waiting behind it are held with
                        // whatever arrives while it is paused, first (the processing model).
                        if let Some(p) = self.core.processing.as_deref_mut() {
                            let held = p.take(id);
                            if !held.is_empty() {
                                self.core.deferred.insert(id.0, held.into());
                            }
                        }
                        hit.push(id);
                    }
                }
            }
            Fault::Resume(t) => {
                for id in self.resolve(t) {
                    if self.core.meta[id.index()].status == NodeStatus::Paused {
                        self.core.meta[id.index()].status = NodeStatus::Up;
                        // Held events run now, before anything else due now, in the order they
                        // arrived: the ready queue, not the heap, which would order them by
                        // sequence number (scheduling order).
                        // A held message already arrived, so cuts made while it waited must
                        // not drop it: it is stamped with the current cut generation.
                        let now = self.core.now;
                        let generation = self.core.net.partitions.generation();
                        for mut e in self.core.deferred.remove(&id.0).unwrap_or_default() {
                            e.time = now;
                            if let super::Ev::Deliver { cut_gen, .. } = &mut e.ev {
                                *cut_gen = generation;
                            }
                            self.core.ready.push_back(e);
                        }
                        hit.push(id);
                    }
                }
            }
            Fault::Partition(groups) => {
                let groups: Vec<Vec<NodeId>> = groups
                    .iter()
                    .map(|g| g.iter().flat_map(|t| self.resolve(t)).collect())
                    .collect();
                hit = groups.concat();
                self.core.net.partitions.cut(&Cut::Groups(groups), n);
            }
            Fault::Isolate(t) => {
                hit = self.resolve(t);
                self.core
                    .net
                    .partitions
                    .cut(&Cut::Groups(vec![hit.clone()]), n);
            }
            Fault::OneWay { from, to } => {
                let from = self.resolve(from);
                let to = self.resolve(to);
                hit = from.iter().chain(&to).copied().collect();
                self.core.net.partitions.cut(&Cut::OneWay { from, to }, n);
            }
            Fault::CutLink(a, b) => {
                let a = self.resolve(a);
                let b = self.resolve(b);
                let cut = match (a.as_slice(), b.as_slice()) {
                    ([x], [y]) if x == y => None,
                    ([x], [y]) => Some(Cut::Link(*x, *y)),
                    ([], _) | (_, []) => None,
                    _ => Some(Cut::Between(a.clone(), b.clone())),
                };
                if let Some(cut) = cut {
                    self.core.net.partitions.cut(&cut, n);
                }
                hit = a.into_iter().chain(b).collect();
            }
            Fault::Bridge(via) => {
                hit = self.resolve(via);
                if !hit.is_empty() {
                    let via: std::collections::BTreeSet<NodeId> = hit.iter().copied().collect();
                    let rest: Vec<NodeId> = (0..n as u32)
                        .map(NodeId)
                        .filter(|id| !via.contains(id))
                        .collect();
                    let (low, high) = rest.split_at(rest.len().div_ceil(2));
                    if !low.is_empty() && !high.is_empty() {
                        let cut = Cut::Between(low.to_vec(), high.to_vec());
                        self.core.net.partitions.cut(&cut, n);
                    }
                }
            }
            Fault::Heal => self.core.net.partitions.heal(),
            Fault::DelaySpike {
                target,
                extra,
                duration,
            } => {
                let nodes = if *target == Target::All {
                    None
                } else {
                    Some(self.resolve(target))
                };
                hit = nodes.clone().unwrap_or_default();
                let until = self.core.now + duration.0;
                self.core.net.add_spike(Spike {
                    nodes,
                    extra: *extra,
                    until,
                });
            }
            Fault::Degrade {
                a,
                b,
                extra,
                loss,
                duration,
            } => {
                let a = self.resolve(a);
                let b = self.resolve(b);
                hit = a.iter().chain(&b).copied().collect();
                let until = self.core.now + duration.0;
                self.core.net.add_degrade(Degrade {
                    a,
                    b,
                    extra: *extra,
                    loss: *loss,
                    until,
                });
            }
            Fault::ClockJump { target, by } => {
                hit = self.resolve(target);
                for id in &hit {
                    let now = self.core.now;
                    self.core.meta[id.index()].clock.jump(now, by.0);
                }
            }
            Fault::SetDrift { target, ppm } => {
                hit = self.resolve(target);
                for id in &hit {
                    let now = self.core.now;
                    self.core.meta[id.index()].clock.set_drift(now, *ppm);
                }
            }
        }
        let node = (hit.len() == 1).then(|| hit[0]);
        let info = self.next_event(EventKind::Fault, node, None);
        // The pinned fault is hashed, not the original, with fixed ids written one way
        // (`Node(2)` and a role resolved to `Nodes([2])` are the same fault): replaying the
        // applied faults, or a file with roles pinned to the nodes they hit, gives the same hash.
        let canonical = fault.clone().map_targets(|t| match t {
            Target::Node(n) => Target::Nodes(vec![n]),
            Target::Range(a, b) => {
                Target::Nodes((a.0.min(b.0)..=a.0.max(b.0)).map(NodeId).collect())
            }
            other => other,
        });
        self.core
            .trace
            .event_with(&info, Some(&(&canonical, &hit)), |r| {
                r.payload = Some(serde_json::json!({
                    "fault": serde_json::to_value(&canonical).ok(),
                    "nodes": hit.iter().map(|n| n.0).collect::<Vec<_>>(),
                }));
            });
        if let Fault::Crash(_) | Fault::TornWrite(_) = fault {
            for &id in &hit {
                self.core.trace.forget(self.core.now, id);
            }
        }
        if let Fault::Restart(_) = fault {
            for id in hit {
                self.boot(id, true);
            }
        }
        self.applied.push((self.core.now, fault));
        info
    }
}
