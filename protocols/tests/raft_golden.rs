//! Golden tests for one Raft server, stepped by hand: the files in `testdata/raft/` are
//! scripts of inputs (start, messages, timers, client requests, crashes) each followed by
//! what the server must do, in the style of etcd-io/raft's `testdata/*.txt`.
//!
//! Regenerate the expected outputs after an intended change with
//! `FAULTLINE_REWRITE=1 cargo test -p protocols --test raft_golden`, then read the diff.
//!
//! # Commands
//!
//! Every command takes an optional `on=N` naming the node it acts on (default: the node
//! created last). Several nodes may exist at once, each with its own harness; nothing is
//! routed between them automatically.
//!
//! - `node id=0 nodes=3 seed=1 [pre_vote] [check_quorum] [bug=NoTruncate] [reads=Log]
//!   [snapshot_every=N] [max_entries=N] [max_inflight=N]`: create and start a node (id,
//!   nodes and seed default to 0, 3, 1; the rest to `RaftConfig::default()`).
//! - `durable [term=3] [vote=1|none]`: set the term and vote in the node's durable storage.
//! - `log [keep=N]` with entries on the input lines (`t1:noop t1:put(k=1,v=5,c=1,s=1)`):
//!   rebuild the durable log with `RaftLog::append`, keeping its first `keep` entries
//!   (`RaftLog::truncate_from`; default 0). Durable edits take effect at `recover`.
//! - `recover`: crash the node and restart it from its durable storage; `crash`: just crash.
//! - `deliver from=1` with a message on the input lines (the same syntax the output uses).
//! - `fire [timer=Election|Heartbeat|CheckQuorum] [id=N]`: fire the earliest pending timer
//!   (of that kind, or with that id), moving time to its deadline.
//! - `request client=1 seq=1 put key=3 value=7` (or `get key=3`, `cas key=3 expected=7
//!   new=8`): a client request.
//! - `advance ms=100`: move time forward without firing anything.
//! - `state`: the state line, pending timers and the node's log; `timers`: pending timers.
//!
//! # Output
//!
//! After a command that steps the node: first what it wrote to durable storage during the
//! call (`persist ...`; durable writes are synchronous and nothing interrupts a call, so a
//! write listed here is on disk before any message or reply of the same step can arrive),
//! then its actions in order (`send`, `set timer`, `cancel timer`, `reply`), then one state
//! line:
//!
//! ```text
//! Candidate term=1 vote=n0 leader=none commit=0 applied=0 last=0/0
//! ```
//!
//! `last=I/T` is the index and term of the last log entry. When durable storage disagrees with
//! the node's memory (a known bug, or a durable edit before `recover`), the line ends with
//! `not durable: ...` saying what storage holds.
//!
//! Entries are written `t<term>:<command>`: `noop`, `put(k=,v=,c=,s=)`, `get(k=,c=,s=)`,
//! `cas(k=,exp=,new=,c=,s=)` (key, value, client, sequence number).

use protocols::kv::{KvReply, KvRequest, KvResult, Op};
use protocols::raft::log::{Command, RaftLog};
use protocols::raft::storage::{OnDisk, WalRecord, replay};
use protocols::raft::{Message, Raft, RaftBug, RaftConfig, ReadMode};
use sim::harness::golden::{self, Case};
use sim::harness::{Harness, Step};
use sim::storage::seal;
use sim::{Action, NodeId};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

/// The golden files, each run by its own test below.
const FILES: [&str; 7] = [
    "elections.txt",
    "votes.txt",
    "prevote_checkquorum.txt",
    "log_matching.txt",
    "commit.txt",
    "persistence.txt",
    "reads.txt",
];

fn run_file(name: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/testdata/raft")
        .join(name);
    let mut d = Driver::default();
    golden::run(&path, |case| d.step(case));
}

#[test]
fn elections() {
    run_file("elections.txt");
}

#[test]
fn votes() {
    run_file("votes.txt");
}

#[test]
fn prevote_checkquorum() {
    run_file("prevote_checkquorum.txt");
}

#[test]
fn log_matching() {
    run_file("log_matching.txt");
}

#[test]
fn commit() {
    run_file("commit.txt");
}

#[test]
fn persistence() {
    run_file("persistence.txt");
}

#[test]
fn reads() {
    run_file("reads.txt");
}

/// Every file in the directory has a test, and every test's file exists.
#[test]
fn every_golden_file_is_run() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/testdata/raft");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".txt"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FILES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "add a test and a FILES entry for each golden file"
    );
}

/// The nodes of one golden file; state carries over from case to case.
#[derive(Default)]
struct Driver {
    nodes: BTreeMap<u32, Harness<Raft>>,
    current: Option<u32>,
}

impl Driver {
    fn step(&mut self, case: &Case) -> String {
        if case.command == "node" {
            return self.new_node(case);
        }
        let id = match case.arg("on") {
            Some(_) => case.parse_arg::<u32>("on"),
            None => self
                .current
                .unwrap_or_else(|| panic!("line {}: no node yet: use `node` first", case.line)),
        };
        let h = self
            .nodes
            .get_mut(&id)
            .unwrap_or_else(|| panic!("line {}: there is no node {id}", case.line));
        let mut out = String::new();
        match case.command.as_str() {
            "durable" => {
                let mut d = on_disk(h).hard;
                if case.arg("term").is_some() {
                    d.term = case.parse_arg("term");
                }
                if let Some(v) = case.arg("vote") {
                    d.voted_for = parse_vote(v, case.line);
                }
                h.disk_mut().write_meta(seal(&d));
                let _ = writeln!(out, "storage term={} vote={}", d.term, vote(d.voted_for));
            }
            "log" => {
                let keep: u64 = case.arg("keep").map_or(0, |_| case.parse_arg("keep"));
                let entries: Vec<(u64, Command)> = case
                    .input
                    .split_whitespace()
                    .map(|tok| parse_entry(tok, case.line))
                    .collect();
                let record = WalRecord::Entries {
                    index: keep + 1,
                    entries,
                };
                h.disk_mut().append(seal(&record));
                out += "storage log:\n";
                out += &fmt_log(&on_disk(h).log);
            }
            "recover" => out += &step_and_diff(h, Harness::recover),
            "crash" => {
                h.crash();
                out += "crashed\n";
            }
            "deliver" => {
                let from = NodeId(case.parse_arg("from"));
                let msg = parse_message(&case.input, case.line);
                out += &step_and_diff(h, |h| h.deliver(from, msg));
            }
            "fire" => {
                let pending = h.pending_timers();
                let found = pending.iter().find(|(id, _, t)| {
                    case.arg("timer").is_none_or(|k| format!("{t:?}") == k)
                        && case
                            .arg("id")
                            .is_none_or(|i| i.parse::<u64>().ok() == Some(id.0))
                });
                let Some(&(id, _, timer)) = found else {
                    return "no such timer pending".into();
                };
                let timer = *timer;
                let step = step_and_diff(h, |h| h.fire(id));
                let _ = writeln!(out, "fired timer {} {timer:?} now={}", id.0, h.now());
                out += &step;
            }
            "request" => {
                let req = parse_request(case);
                let client = req.client;
                out += &step_and_diff(h, |h| h.request(client, req));
            }
            "advance" => {
                let ms: u64 = case.parse_arg("ms");
                h.advance(Duration::from_millis(ms));
                let _ = writeln!(out, "now={}", h.now());
            }
            "timers" => out += &fmt_timers(h),
            "state" => {
                out += &fmt_timers(h);
                if let Some(n) = h.node() {
                    out += "log:\n";
                    out += &fmt_log(&n.log);
                }
            }
            other => panic!("line {}: unknown command `{other}`", case.line),
        }
        out += &state_line(h);
        out
    }

    fn new_node(&mut self, case: &Case) -> String {
        let id: u32 = case.arg("id").map_or(0, |_| case.parse_arg("id"));
        let nodes: usize = case.arg("nodes").map_or(3, |_| case.parse_arg("nodes"));
        let seed: u64 = case.arg("seed").map_or(1, |_| case.parse_arg("seed"));
        let mut cfg = RaftConfig::default();
        for (k, v) in &case.args {
            match k.as_str() {
                "id" | "nodes" | "seed" => {}
                "pre_vote" => cfg.pre_vote = true,
                "check_quorum" => cfg.check_quorum = true,
                "snapshot_every" => cfg.snapshot_every = case.parse_arg(k),
                "max_entries" => cfg.max_entries_per_message = case.parse_arg(k),
                "max_inflight" => cfg.max_inflight = case.parse_arg(k),
                "bug" => {
                    cfg.bug = Some(
                        RaftBug::ALL
                            .into_iter()
                            .find(|b| format!("{b:?}") == *v)
                            .unwrap_or_else(|| panic!("line {}: unknown bug {v}", case.line)),
                    );
                }
                "reads" => {
                    cfg.reads = match v.as_str() {
                        "Log" => ReadMode::Log,
                        "ReadIndex" => ReadMode::ReadIndex,
                        "Lease" => ReadMode::Lease,
                        _ => panic!("line {}: unknown read mode {v}", case.line),
                    }
                }
                _ => panic!("line {}: `node` has no argument {k}", case.line),
            }
        }
        cfg.validate(nodes)
            .unwrap_or_else(|e| panic!("line {}: {e}", case.line));
        let mut h = Harness::<Raft>::new(cfg, NodeId(id), nodes, seed);
        let out = step_and_diff(&mut h, Harness::start) + &state_line(&h);
        self.nodes.insert(id, h);
        self.current = Some(id);
        out
    }
}

/// Runs one input and renders what it wrote durably, its actions and nothing else.
fn step_and_diff(
    h: &mut Harness<Raft>,
    input: impl FnOnce(&mut Harness<Raft>) -> Step<Raft>,
) -> String {
    let before = on_disk(h);
    let step = input(h);
    let mut out = fmt_persist(&before, &on_disk(h), step.durable_writes);
    for a in &step.actions {
        out += &fmt_action(a);
        out.push('\n');
    }
    out
}

/// What the node's disk holds, as the node would read it back.
fn on_disk(h: &Harness<Raft>) -> OnDisk {
    let cfg = h.config().clone();
    match h.disk() {
        Some(disk) => replay(disk, &cfg),
        None => replay(&sim::Disk::default(), &cfg),
    }
}

// ---- Rendering ----

fn vote(v: Option<NodeId>) -> String {
    v.map_or_else(|| "none".into(), |n| n.to_string())
}

fn fmt_command(c: &Command) -> String {
    match c {
        Command::Noop => "noop".into(),
        Command::Kv(r) => {
            let op = match r.op {
                Op::Put(v) => format!("put(k={},v={v}", r.key),
                Op::Get => format!("get(k={}", r.key),
                Op::Cas { expected, new } => format!("cas(k={},exp={expected},new={new}", r.key),
            };
            format!("{op},c={},s={})", r.client, r.seq)
        }
    }
}

fn fmt_entry(term: u64, c: &Command) -> String {
    format!("t{term}:{}", fmt_command(c))
}

fn fmt_entries(es: &[(u64, Command)]) -> String {
    let v: Vec<String> = es.iter().map(|(t, c)| fmt_entry(*t, c)).collect();
    format!("[{}]", v.join(","))
}

/// One line per entry: `  <index> t<term>:<command>`.
fn fmt_log(log: &RaftLog) -> String {
    let mut out = String::new();
    if log.offset() > 0 {
        let _ = writeln!(
            out,
            "  ..{} compacted (last term {})",
            log.offset(),
            log.term_at(log.offset()).unwrap_or_default()
        );
    }
    for i in log.offset() + 1..=log.last_index() {
        let e = log.get(i).expect("held entry");
        let _ = writeln!(out, "  {i} {}", fmt_entry(e.term, &e.command));
    }
    if log.last_index() == 0 {
        out += "  (empty)\n";
    }
    out
}

fn fmt_message(m: &Message) -> String {
    let flag = |b: bool| if b { " pre_vote" } else { "" };
    match m {
        Message::RequestVote {
            term,
            last_log_index,
            last_log_term,
            pre_vote,
        } => format!(
            "RequestVote term={term} last_log_index={last_log_index} \
             last_log_term={last_log_term}{}",
            flag(*pre_vote)
        ),
        Message::RequestVoteResponse {
            term,
            granted,
            pre_vote,
        } => format!(
            "RequestVoteResponse term={term} granted={granted}{}",
            flag(*pre_vote)
        ),
        Message::AppendEntries {
            term,
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit,
            round,
        } => format!(
            "AppendEntries term={term} prev_log_index={prev_log_index} \
             prev_log_term={prev_log_term} entries={} leader_commit={leader_commit} \
             round={round}",
            fmt_entries(entries)
        ),
        Message::AppendEntriesResponse {
            term,
            success,
            match_index,
            conflict_term,
            conflict_index,
            round,
        } => format!(
            "AppendEntriesResponse term={term} success={success} match_index={match_index} \
             conflict_term={} conflict_index={conflict_index} round={round}",
            conflict_term.map_or_else(|| "none".into(), |t| t.to_string())
        ),
        Message::InstallSnapshot {
            term,
            index,
            snapshot_term,
            chain,
            store,
        } => format!(
            "InstallSnapshot term={term} index={index} snapshot_term={snapshot_term} \
             chain={chain:016x} store={store:?}"
        ),
    }
}

fn fmt_reply(r: &KvReply) -> String {
    let result = match r.result {
        KvResult::Ok(ret) => format!("Ok({ret:?})"),
        KvResult::NotLeader { hint } => format!("NotLeader hint={}", vote(hint)),
        KvResult::Fail => "Fail".into(),
    };
    format!("seq={} {result}", r.seq)
}

fn fmt_action(a: &Action<Raft>) -> String {
    match a {
        Action::Send { to, msg } => format!("send {to} {}", fmt_message(msg)),
        Action::SetTimer { id, after, timer } => {
            format!("set timer {} after {after:?}: {timer:?}", id.0)
        }
        Action::CancelTimer(id) => format!("cancel timer {}", id.0),
        Action::Reply { client, reply } => format!("reply client={client} {}", fmt_reply(reply)),
    }
}

/// What changed in durable storage: `persist term=.. vote=..`, `persist log from=I
/// entries=[...]` (the log is now the old one up to I-1 followed by these entries),
/// `persist snapshot ...`. A write that changed nothing still shows as a count.
fn fmt_persist(old: &OnDisk, new: &OnDisk, writes: u64) -> String {
    let mut out = String::new();
    if old.hard != new.hard {
        let _ = writeln!(
            out,
            "persist term={} vote={}",
            new.hard.term,
            vote(new.hard.voted_for)
        );
    }
    if old.snapshot != new.snapshot {
        match &new.snapshot {
            Some(s) => {
                let _ = writeln!(out, "persist snapshot index={} term={}", s.index, s.term);
            }
            None => out += "persist snapshot none\n",
        }
    }
    let (a, b) = (&old.log, &new.log);
    if a.offset() != b.offset() {
        let _ = writeln!(out, "persist log compacted up to {}", b.offset());
    }
    let lo = a.offset().max(b.offset()) + 1;
    let hi = a.last_index().max(b.last_index());
    if let Some(from) = (lo..=hi).find(|&i| a.get(i) != b.get(i)) {
        let es: Vec<(u64, Command)> = b
            .slice(from, b.last_index())
            .iter()
            .map(|e| (e.term, e.command))
            .collect();
        let _ = writeln!(out, "persist log from={from} entries={}", fmt_entries(&es));
    }
    if out.is_empty() && writes > 0 {
        let _ = writeln!(out, "persist (unchanged, {writes} writes)");
    } else if writes == 0 && !out.is_empty() {
        // The harness counts every `durable_mut`; a change without one would be a harness bug.
        out += "persist without a counted write (!)\n";
    }
    out
}

fn fmt_timers(h: &Harness<Raft>) -> String {
    let mut out = String::new();
    for (id, due, t) in h.pending_timers() {
        let _ = writeln!(out, "timer {} {t:?} due={due}", id.0);
    }
    if out.is_empty() {
        out += "no timers pending\n";
    }
    out
}

/// `Role term= vote= leader= commit= applied= last=I/T`, and what durable storage holds
/// if it differs from memory.
fn state_line(h: &Harness<Raft>) -> String {
    let Some(n) = h.node() else {
        return "(crashed)\n".into();
    };
    let mut s = format!(
        "{:?} term={} vote={} leader={} commit={} applied={} last={}/{}",
        n.role,
        n.term,
        vote(n.voted_for),
        vote(n.leader),
        n.commit,
        n.applied,
        n.log.last_index(),
        n.log.last_term()
    );
    let d = on_disk(h);
    let mut diff = vec![];
    if d.hard.term != n.term {
        diff.push(format!("term={}", d.hard.term));
    }
    if d.hard.voted_for != n.voted_for {
        diff.push(format!("vote={}", vote(d.hard.voted_for)));
    }
    // Compared by terms and commands: a known bug's stale digests are not what is stored.
    let entries = |l: &protocols::raft::log::RaftLog| {
        let es: Vec<(u64, Command)> = l
            .slice(1, l.last_index())
            .iter()
            .map(|e| (e.term, e.command))
            .collect();
        (l.offset(), es)
    };
    if entries(&d.log) != entries(&n.log) {
        diff.push(format!("last={}/{}", d.log.last_index(), d.log.last_term()));
    }
    if !diff.is_empty() {
        let _ = write!(s, " | not durable: storage has {}", diff.join(" "));
    }
    s.push('\n');
    s
}

// ---- Parsing ----

fn parse_vote(v: &str, line: usize) -> Option<NodeId> {
    if v == "none" {
        return None;
    }
    let n = v.strip_prefix('n').unwrap_or(v);
    Some(NodeId(n.parse().unwrap_or_else(|_| {
        panic!("line {line}: vote={v} is neither a node nor `none`")
    })))
}

/// `key=value` fields of an input message; each must be used exactly once.
struct Fields {
    map: BTreeMap<String, String>,
    line: usize,
    what: String,
}

impl Fields {
    fn new(what: &str, tokens: &[&str], line: usize) -> Fields {
        let mut map = BTreeMap::new();
        for t in tokens {
            let (k, v) = t.split_once('=').unwrap_or((t, ""));
            if map.insert(k.to_string(), v.to_string()).is_some() {
                panic!("line {line}: {what} repeats {k}");
            }
        }
        Fields {
            map,
            line,
            what: what.into(),
        }
    }

    fn opt<T: std::str::FromStr>(&mut self, key: &str) -> Option<T> {
        let v = self.map.remove(key)?;
        Some(
            v.parse().unwrap_or_else(|_| {
                panic!("line {}: {} has a bad {key}={v}", self.line, self.what)
            }),
        )
    }

    fn req<T: std::str::FromStr>(&mut self, key: &str) -> T {
        self.opt(key)
            .unwrap_or_else(|| panic!("line {}: {} needs {key}=...", self.line, self.what))
    }

    fn flag(&mut self, key: &str) -> bool {
        self.map.remove(key).is_some()
    }

    fn done(self) {
        assert!(
            self.map.is_empty(),
            "line {}: {} has unknown fields {:?}",
            self.line,
            self.what,
            self.map.keys().collect::<Vec<_>>()
        );
    }
}

/// A message in the syntax [`fmt_message`] prints; `round`, `leader_commit`, `entries`,
/// `conflict_*` and `pre_vote` may be left out (0, empty, none, false).
fn parse_message(input: &str, line: usize) -> Message {
    let tokens: Vec<&str> = input.split_whitespace().collect();
    let Some((&kind, rest)) = tokens.split_first() else {
        panic!("line {line}: `deliver` needs a message on the next line");
    };
    let mut f = Fields::new(kind, rest, line);
    let msg = match kind {
        "RequestVote" => Message::RequestVote {
            term: f.req("term"),
            last_log_index: f.req("last_log_index"),
            last_log_term: f.req("last_log_term"),
            pre_vote: f.flag("pre_vote"),
        },
        "RequestVoteResponse" => Message::RequestVoteResponse {
            term: f.req("term"),
            granted: f.req("granted"),
            pre_vote: f.flag("pre_vote"),
        },
        "AppendEntries" => Message::AppendEntries {
            term: f.req("term"),
            prev_log_index: f.req("prev_log_index"),
            prev_log_term: f.req("prev_log_term"),
            entries: f
                .map
                .remove("entries")
                .map(|e| parse_entries(&e, line))
                .unwrap_or_default(),
            leader_commit: f.opt("leader_commit").unwrap_or(0),
            round: f.opt("round").unwrap_or(0),
        },
        "AppendEntriesResponse" => Message::AppendEntriesResponse {
            term: f.req("term"),
            success: f.req("success"),
            match_index: f.req("match_index"),
            conflict_term: match f.map.remove("conflict_term").as_deref() {
                None | Some("none") => None,
                Some(t) => Some(
                    t.parse()
                        .unwrap_or_else(|_| panic!("line {line}: bad conflict_term={t}")),
                ),
            },
            conflict_index: f.opt("conflict_index").unwrap_or(0),
            round: f.opt("round").unwrap_or(0),
        },
        other => panic!("line {line}: cannot parse a {other} message"),
    };
    f.done();
    msg
}

/// `[t1:noop,t2:put(k=1,v=5,c=1,s=1)]`.
fn parse_entries(s: &str, line: usize) -> Vec<(u64, Command)> {
    let inner = s
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or_else(|| panic!("line {line}: entries={s} is not a [..] list"));
    let mut out = vec![];
    let (mut depth, mut start) = (0, 0);
    for (i, ch) in inner.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(parse_entry(&inner[start..i], line));
                start = i + 1;
            }
            _ => {}
        }
    }
    if !inner[start..].is_empty() {
        out.push(parse_entry(&inner[start..], line));
    }
    out
}

/// `t2:noop`, `t1:put(k=1,v=5,c=1,s=1)`, `t1:get(k=1,c=1,s=2)`,
/// `t1:cas(k=1,exp=5,new=6,c=1,s=3)`.
fn parse_entry(tok: &str, line: usize) -> (u64, Command) {
    let bad =
        || -> ! { panic!("line {line}: `{tok}` is not an entry like t1:put(k=1,v=5,c=1,s=1)") };
    let Some((term, cmd)) = tok.strip_prefix('t').and_then(|t| t.split_once(':')) else {
        bad()
    };
    let term: u64 = term.parse().unwrap_or_else(|_| bad());
    if cmd == "noop" {
        return (term, Command::Noop);
    }
    let Some((name, args)) = cmd.strip_suffix(')').and_then(|c| c.split_once('(')) else {
        bad()
    };
    let tokens: Vec<&str> = args.split(',').collect();
    let mut f = Fields::new(tok, &tokens, line);
    let key = f.req("k");
    let op = match name {
        "put" => Op::Put(f.req("v")),
        "get" => Op::Get,
        "cas" => Op::Cas {
            expected: f.req("exp"),
            new: f.req("new"),
        },
        _ => bad(),
    };
    let req = KvRequest {
        client: f.req("c"),
        seq: f.req("s"),
        op,
        key,
    };
    f.done();
    (term, Command::Kv(req))
}

/// `request client=1 seq=1 put key=3 value=7` / `get key=3` / `cas key=3 expected=7 new=8`.
fn parse_request(case: &Case) -> KvRequest {
    let op = if case.arg("put").is_some() {
        Op::Put(case.parse_arg("value"))
    } else if case.arg("get").is_some() {
        Op::Get
    } else if case.arg("cas").is_some() {
        Op::Cas {
            expected: case.parse_arg("expected"),
            new: case.parse_arg("new"),
        }
    } else {
        panic!("line {}: `request` needs put, get or cas", case.line)
    };
    KvRequest {
        client: case.parse_arg("client"),
        seq: case.parse_arg("seq"),
        op,
        key: case.parse_arg("key"),
    }
}

#[test]
fn entries_and_messages_print_as_they_parse() {
    let text = "AppendEntries term=2 prev_log_index=1 prev_log_term=1 \
                entries=[t1:noop,t2:put(k=1,v=5,c=1,s=1),t2:get(k=1,c=1,s=2),\
                t2:cas(k=1,exp=5,new=6,c=1,s=3)] leader_commit=1 round=3";
    let m = parse_message(text, 0);
    assert_eq!(fmt_message(&m), text);
    let m = Message::AppendEntriesResponse {
        term: 3,
        success: false,
        match_index: 0,
        conflict_term: Some(2),
        conflict_index: 4,
        round: 1,
    };
    assert_eq!(parse_message(&fmt_message(&m), 0), m);
}

#[test]
fn log_command_truncates_then_appends_through_the_log() {
    let script = "node id=0 nodes=3\n----\n\n\
                  log\nt1:noop t1:put(k=1,v=5,c=1,s=1) t2:noop\n----\n\n\
                  log keep=1\nt3:cas(k=1,exp=5,new=6,c=1,s=2)\n----\n\n\
                  recover\n----\n";
    let mut d = Driver::default();
    let outs: Vec<String> = golden::parse(script).iter().map(|c| d.step(c)).collect();
    assert!(
        outs[2].starts_with("storage log:\n  1 t1:noop\n  2 t3:cas(k=1,exp=5,new=6,c=1,s=2)\n"),
        "{}",
        outs[2]
    );
    assert!(outs[3].ends_with("last=2/3\n"), "{}", outs[3]);
    // The chained digests are the log's own: the same entries appended afresh match.
    let mut fresh = RaftLog::default();
    fresh.append(1, Command::Noop);
    fresh.append(3, parse_entry("t3:cas(k=1,exp=5,new=6,c=1,s=2)", 0).1);
    assert_eq!(d.nodes[&0].node().expect("running").log, fresh);
}
