//! The search for a linearization of one partition: Wing–Gong–Lowe with compact memoisation,
//! forced moves, and just-in-time ordering of the operations tried.
//!
//! A depth-first search over configurations (the linearized operations and the model state).
//! From a configuration it may linearize any *minimal* operation: one invoked no later than the
//! earliest return among the determinate operations left (Wing & Gong 1993). It applies the
//! operation to the model and goes deeper; when no child works, the configuration fails and the
//! search backtracks. It succeeds once every determinate operation is linearized: an
//! indeterminate one may never have taken effect. The operations and the compact name of the
//! linearized set live in `partition`; the table of failed configurations in `memo`.
//!
//! Which children a configuration has, and in which order (`children`), is where the speed is:
//!
//! - **Forced moves.** A minimal determinate operation that fits and never changes the state
//!   wherever it fits ([`Model::never_changes_state`]: a read, a cas that reported a mismatch)
//!   is the only child. If any linearization goes on from here, one goes on with it first:
//!   moving it to the front changes no other operation's state (nor, removed from its old
//!   place, the state there), and it is minimal, so no real-time order is broken. So when it
//!   fails, the configuration fails. This removes the branching on reads, which on one key
//!   with 32 clients is most of it. (A put of the value already there leaves this state as it
//!   is, but not every state, so it is not forced.)
//! - **Indeterminate no-ops are never tried**: linearizing an indeterminate operation that
//!   leaves the state as it is only adds to the indeterminate set, and the configuration
//!   without it subsumes the one with it (module `memo`).
//! - **Just in time** (Lowe 2017): otherwise the *frontier* operation (the one left that returns
//!   first, which must be linearized before anything invoked after its return) is tried first,
//!   then the operations after which it can go at once (one model step of lookahead): the
//!   write that a read saw, the indeterminate write that a read saw. Then the other
//!   determinate operations in call order, then the other indeterminate ones. An indeterminate
//!   write nobody saw is thus tried last, and a failure already found without it prunes every
//!   configuration with it (subsumption).
//! - **Failed configurations** are remembered when the search backtracks out of them (Lowe
//!   2017; module `memo`). A configuration on the current path can never be reached again (each
//!   step linearizes one more operation), so this prunes the same duplicates as remembering
//!   them on the way in, and it makes every entry a configuration that truly failed, which
//!   subsumption needs.
//!
//! The budget counts model steps, the lookahead and the classification of children included;
//! the wall-clock deadline is polled every 4096 steps. Everything else is deterministic: the
//! same input always takes the same steps to the same verdict.

use super::checker::{Budget, Entry, KeyVerdict, OutOf};
use super::memo::Memo;
use super::model::Model;
use super::partition::{Frontier, HEAD, Kind, NIL, Partition, node_entry};

/// The deepest configuration the search reached: what explanations show.
pub(super) struct Deepest<S> {
    /// How many entries are linearized.
    pub depth: usize,
    /// Bit `i` set: partition entry `i` is linearized.
    pub linearized: Vec<u64>,
    pub state: S,
    /// The last few linearized entries, oldest first.
    pub recent: Vec<usize>,
}

/// How many of the last linearized operations an explanation shows.
const RECENT_MAX: usize = 6;

/// What one search found.
pub(super) struct Search<S> {
    pub verdict: KeyVerdict,
    pub steps: u64,
    pub configurations: usize,
    pub best: Deepest<S>,
    /// What ran out, for an `Unknown` verdict.
    pub out_of: Option<OutOf>,
}

/// One linearized operation on the search path.
struct Frame<S> {
    entry: usize,
    /// The state before it.
    state: S,
    /// The frontier rank before it.
    rank: u32,
}

/// A configuration on the search path: its children are `children[start..]` of the search's
/// child stack (each an entry and the state it leads to, in the order they are tried), and
/// `next` is the next one to try.
struct Level {
    start: usize,
    next: usize,
    /// The only child is a forced move: when it fails, so does this configuration.
    forced: bool,
    /// Where the indeterminate children go, until they are listed.
    indeterminate: Option<Indeterminate>,
}

/// Where a configuration's indeterminate children go among its children.
#[derive(Clone, Copy)]
enum Indeterminate {
    /// At this index: those the frontier operation (which does not fit) can follow, the
    /// others at the end.
    At(usize),
    /// At the end, from this index (the frontier operation fits).
    Last(usize),
}

impl Indeterminate {
    fn index(self) -> usize {
        match self {
            Indeterminate::At(at) | Indeterminate::Last(at) => at,
        }
    }
}

/// Counts model steps against the budget.
struct Stepper {
    steps: u64,
    steps_max: u64,
    deadline: Option<std::time::Instant>,
}

impl Stepper {
    /// One model step, or what ran out.
    fn step<M: Model>(
        &mut self,
        model: &M,
        state: &M::State,
        entry: &Entry<M::Input, M::Output>,
    ) -> Result<Option<M::State>, OutOf> {
        if self.steps == self.steps_max {
            return Err(OutOf::Steps);
        }
        #[allow(clippy::disallowed_methods)] // Wall time only stops a search; it never steers one.
        if self.steps & 0xfff == 0xfff
            && self
                .deadline
                .is_some_and(|d| std::time::Instant::now() >= d)
        {
            return Err(OutOf::Time);
        }
        self.steps += 1;
        let output = entry.returned.as_ref().map(|r| &r.output);
        Ok(model.step(state, &entry.input, output))
    }
}

/// Pushes onto `out` the determinate children of the configuration in `state` whose frontier
/// rank is `rank`, in the order to try them (see the module docs): a forced move alone; or the
/// urgent operations, the frontier operation, then the others; or, when the frontier operation
/// does not fit, the operations it can follow, then the others. Returns `None` for a forced
/// move, else where the indeterminate children go (listed by [`indeterminate_children`] only
/// when the search gets there).
fn determinate_children<M: Model>(
    model: &M,
    p: &Partition<'_, M::Input, M::Output>,
    stepper: &mut Stepper,
    state: &M::State,
    rank: u32,
    out: &mut Vec<(usize, M::State)>,
    later: &mut Vec<(usize, M::State)>,
) -> Result<Option<Indeterminate>, OutOf> {
    let frontier = p.by_rank[rank as usize];
    let frontier_entry = &p.entries[frontier];
    let start = out.len();
    later.clear();
    let after_frontier = stepper.step(model, state, frontier_entry)?;
    if after_frontier.as_ref() == Some(state) && never_changes_state(model, frontier_entry) {
        out.push((frontier, state.clone()));
        return Ok(None);
    }
    // The frontier's return is in the list, so the walk stops there.
    let mut node = p.next[HEAD];
    while let (i, false) = node_entry(node) {
        node = p.next[node];
        if i == frontier {
            continue;
        }
        let entry = &p.entries[i];
        let Some(next) = stepper.step(model, state, entry)? else {
            continue;
        };
        if next == *state && never_changes_state(model, entry) {
            out.truncate(start);
            out.push((i, next));
            return Ok(None);
        }
        let first = match &after_frontier {
            // Urgent: it fits now, but not after the frontier operation.
            Some(there) => stepper.step(model, there, entry)?.is_none(),
            // An operation the frontier operation can follow.
            None => stepper.step(model, &next, frontier_entry)?.is_some(),
        };
        if first {
            out.push((i, next));
        } else {
            later.push((i, next));
        }
    }
    let fits = after_frontier.is_some();
    if let Some(next) = after_frontier {
        out.push((frontier, next));
    }
    let at = out.len();
    out.append(later);
    // When the frontier operation fits, no indeterminate one is needed first: they go last.
    Ok(Some(if fits {
        Indeterminate::Last(out.len())
    } else {
        Indeterminate::At(at)
    }))
}

/// Whether `entry` returned and [`Model::never_changes_state`] says so of it.
fn never_changes_state<M: Model>(model: &M, entry: &Entry<M::Input, M::Output>) -> bool {
    entry
        .returned
        .as_ref()
        .is_some_and(|r| model.never_changes_state(&entry.input, &r.output))
}

/// Inserts at `at` the indeterminate children that the frontier operation can follow, and
/// pushes the other indeterminate children at the end, each group in call order. Left out:
/// those that leave the state as it is, and, when this configuration was reached from `C` by
/// an indeterminate operation (`parent` is `C`'s state), those that do here what they do in
/// `C`: `C`'s own child by that operation subsumes the configuration they would lead to.
#[allow(clippy::too_many_arguments)]
fn indeterminate_children<M: Model>(
    model: &M,
    p: &Partition<'_, M::Input, M::Output>,
    stepper: &mut Stepper,
    state: &M::State,
    parent: Option<&M::State>,
    rank: u32,
    out: &mut Vec<(usize, M::State)>,
    place: Indeterminate,
    soon: &mut Vec<(usize, M::State)>,
) -> Result<(), OutOf> {
    let frontier_entry = &p.entries[p.by_rank[rank as usize]];
    let return_ns = frontier_entry
        .returned
        .as_ref()
        .map_or(u64::MAX, |r| r.time_ns);
    soon.clear();
    let (at, frontier_fits) = match place {
        Indeterminate::At(at) => (at, false),
        Indeterminate::Last(at) => (at, true),
    };
    let mut node = p.indeterminate_head;
    while node != NIL {
        let i = node_entry(node).0;
        if p.entries[i].call_ns > return_ns {
            break;
        }
        node = p.next[node];
        let Some(next) = stepper.step(model, state, &p.entries[i])? else {
            continue;
        };
        if next == *state {
            continue;
        }
        if let Some(parent) = parent {
            let there = stepper.step(model, parent, &p.entries[i])?;
            if there.as_ref() == Some(&next) && next != *parent {
                continue;
            }
        }
        if !frontier_fits && stepper.step(model, &next, frontier_entry)?.is_some() {
            soon.push((i, next));
        } else {
            out.push((i, next));
        }
    }
    out.splice(at..at, soon.drain(..));
    Ok(())
}

/// Searches one partition for a linearization, using at most `steps_max` model steps and the
/// budget's memory and time.
pub(super) fn search<M: Model>(
    model: &M,
    entries: &[Entry<M::Input, M::Output>],
    budget: Budget,
    steps_max: u64,
) -> Search<M::State> {
    let mut p = Partition::new(entries);
    let determinate = p.by_rank.len() as u32;
    let mut stepper = Stepper {
        steps: 0,
        steps_max,
        deadline: budget.deadline,
    };
    let mut memo: Memo<M::State> = Memo::new();
    let mut frontier = Frontier::new(p.indeterminate_count());
    let mut linearized = vec![0u64; entries.len().div_ceil(64)];
    let mut stack: Vec<Frame<M::State>> = Vec::new();
    let mut levels: Vec<Level> = Vec::new();
    // The children of every configuration on the path, each level's after its parent's.
    let mut tried: Vec<(usize, M::State)> = Vec::new();
    let mut scratch = Vec::new();
    let mut state = model.init();
    let mut best = Deepest {
        depth: 0,
        linearized: linearized.clone(),
        state: state.clone(),
        recent: Vec::new(),
    };
    let child_bytes = std::mem::size_of::<(usize, M::State)>() as u64;
    let mut out_of = None;
    let mut expand = true;

    let verdict = loop {
        if frontier.rank == determinate {
            break KeyVerdict::Linearizable;
        }
        if expand {
            expand = false;
            let start = tried.len();
            match determinate_children(
                model,
                &p,
                &mut stepper,
                &state,
                frontier.rank,
                &mut tried,
                &mut scratch,
            ) {
                Ok(at) => levels.push(Level {
                    start,
                    next: start,
                    forced: at.is_none(),
                    indeterminate: at.filter(|_| p.indeterminate_count() > 0),
                }),
                Err(why) => {
                    out_of = Some(why);
                    break KeyVerdict::Unknown;
                }
            }
            if memo.bytes() + child_bytes * tried.len() as u64 >= budget.memo_bytes_max {
                out_of = Some(OutOf::Memory);
                break KeyVerdict::Unknown;
            }
        }
        let level = levels
            .last_mut()
            .expect("the root configuration is on the path");
        if let Some(place) = level.indeterminate
            && level.next == place.index()
        {
            level.indeterminate = None;
            let parent = stack
                .last()
                .filter(|f| matches!(p.kinds[f.entry], Kind::Indeterminate(_)))
                .map(|f| &f.state);
            let listed = indeterminate_children(
                model,
                &p,
                &mut stepper,
                &state,
                parent,
                frontier.rank,
                &mut tried,
                place,
                &mut scratch,
            );
            if let Err(why) = listed {
                out_of = Some(why);
                break KeyVerdict::Unknown;
            }
        }
        let level = levels
            .last_mut()
            .expect("the root configuration is on the path");
        if level.next < tried.len() {
            let (candidate, next_state) = tried[level.next].clone();
            level.next += 1;
            let kind = p.kinds[candidate];
            let rank = frontier.rank;
            frontier.apply(kind);
            let (key, indeterminate_key) = frontier.keys();
            if memo.fails(key, &next_state, indeterminate_key) {
                frontier.undo(kind, rank);
                if level.forced {
                    level.next = tried.len();
                }
                continue;
            }
            linearized[candidate / 64] |= 1 << (candidate % 64);
            p.lift(candidate);
            stack.push(Frame {
                entry: candidate,
                state: std::mem::replace(&mut state, next_state),
                rank,
            });
            expand = true;
            continue;
        }
        // Every child failed, so this configuration fails: remember it and backtrack.
        let level = levels.pop().expect("checked above");
        tried.truncate(level.start);
        let Some(frame) = stack.pop() else {
            break KeyVerdict::NotLinearizable;
        };
        if stack.len() + 1 > best.depth {
            best.record(&stack, frame.entry, &linearized, &state);
        }
        let (key, indeterminate_key) = frontier.keys();
        memo.insert(key, &state, indeterminate_key);
        let j = frame.entry;
        frontier.undo(p.kinds[j], frame.rank);
        linearized[j / 64] &= !(1 << (j % 64));
        p.relink(j);
        state = frame.state;
        let parent = levels
            .last_mut()
            .expect("a frame has a parent configuration");
        if parent.forced {
            parent.next = tried.len();
        }
    };
    if verdict == KeyVerdict::Unknown
        && stack.len() > best.depth
        && let Some((top, path)) = stack.split_last()
    {
        best.record(path, top.entry, &linearized, &state);
    }
    Search {
        verdict,
        steps: stepper.steps,
        configurations: memo.len(),
        best,
        out_of,
    }
}

impl<S: Clone> Deepest<S> {
    /// Whether partition entry `i` is linearized.
    pub fn is_linearized(&self, i: usize) -> bool {
        self.linearized[i / 64] & (1 << (i % 64)) != 0
    }

    /// Copies the configuration reached by `path` then `last`: O(entries / 64), done at most
    /// once per depth reached for the first time (when the search leaves it, or stops in it).
    fn record<T>(&mut self, path: &[Frame<T>], last: usize, linearized: &[u64], state: &S) {
        self.depth = path.len() + 1;
        self.linearized.copy_from_slice(linearized);
        self.state = state.clone();
        let recent_from = (path.len() + 1).saturating_sub(RECENT_MAX);
        self.recent = path
            .iter()
            .map(|f| f.entry)
            .chain([last])
            .skip(recent_from)
            .collect();
    }
}
