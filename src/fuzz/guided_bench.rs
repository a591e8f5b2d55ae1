//! `faultline bench --guided`: random against coverage-guided campaigns, by the number of runs
//! (and wall time) to the first failure of the rarest known bugs, over several campaigns.
//!
//! Campaign `c` of a bug starts at seed `c * 1_000_003`; the random campaign runs the seeds in
//! order, the guided one the same fresh seeds interleaved with mutants ([`super::guided`]).
//! Runs to the first failure (the failing run's place in the campaign's order) are the measure
//! that does not depend on the machine; wall time (to the end of the batch holding it) is
//! reported beside it.

use super::campaign::{CampaignConfig, run_campaign};
use super::targets::TARGETS;
use serde::Serialize;
use std::path::PathBuf;

/// The bugs raced: those whose campaign budget is at least this many seeds (the rare ones).
pub const RARE_BUDGET: u64 = 500;

/// One campaign of one mode.
#[derive(Clone, Debug, Serialize)]
pub struct Leg {
    /// Runs up to and including the first failure (`None`: none within the limit).
    pub runs: Option<u64>,
    pub wall_secs: f64,
}

/// Random against guided for one bug.
#[derive(Clone, Debug, Serialize)]
pub struct Race {
    pub bug: String,
    /// Runs each campaign may make.
    pub limit: u64,
    pub random: Vec<Leg>,
    pub guided: Vec<Leg>,
    /// Medians of runs to first failure (a campaign that found nothing counts as `limit`).
    pub random_median: f64,
    pub guided_median: f64,
    /// random_median / guided_median: how many times fewer runs guided needs.
    pub speedup: f64,
}

/// A bug raced: its name and scenario text.
pub struct Contender {
    pub name: String,
    pub text: String,
}

/// The rare known bugs' campaigns (budget at least [`RARE_BUDGET`]), and the rarer bugs on
/// the Raft and failover deep nemesis scenarios (a swarm over configurations, where coverage
/// tells the configurations apart).
pub fn contenders() -> Vec<Contender> {
    let mut out: Vec<Contender> = TARGETS
        .iter()
        .filter(|t| t.seeds >= RARE_BUDGET)
        .map(|t| Contender {
            name: t.name.to_string(),
            text: t.text(t.bug),
        })
        .collect();
    let raft = include_str!("../../scenarios/raft/deep_nemesis.ron");
    for bug in [
        "CommitPreviousTerm",
        "AckBeforeSync",
        "LocalReads",
        "SnapshotKeepsSuffix",
    ] {
        let mut text = raft.replacen("Raft(())", &format!("Raft((bug: {bug}))"), 1);
        if bug == "AckBeforeSync" {
            // Its window is the sync latency: the deep nemesis's disk syncs at once.
            let disk = "    storage: (sync: Uniform(\"10ms\", \"50ms\")),\n    network:";
            text = text.replacen("    network:", disk, 1);
        }
        out.push(Contender {
            name: format!("raft {bug} (deep)"),
            text,
        });
    }
    let failover = include_str!("../../scenarios/failover/deep_nemesis.ron");
    out.push(Contender {
        name: "failover AckOneBackup (deep)".into(),
        text: failover.replacen(
            "Failover((mode: Quorum))",
            "Failover((mode: Quorum, bug: AckOneBackup))",
            1,
        ),
    });
    out
}

fn leg(c: &Contender, start: u64, limit: u64, guided: bool) -> Leg {
    let s = crate::scenario::parse(&c.name, &c.text)
        .unwrap_or_else(|e| panic!("bench scenario {}: {e}", c.name));
    let cfg = CampaignConfig {
        max_failures: Some(1),
        guided,
        ..CampaignConfig::quiet(
            protocols::builtin(),
            PathBuf::from(&c.name),
            s,
            start,
            start + limit,
        )
    };
    let r = run_campaign(&cfg).expect("nothing is written");
    Leg {
        runs: r.failures.first().map(|f| f.run),
        wall_secs: r.wall_secs,
    }
}

fn median(legs: &[Leg], limit: u64) -> f64 {
    let mut v: Vec<f64> = legs
        .iter()
        .map(|l| l.runs.unwrap_or(limit) as f64)
        .collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Races one bug over `campaigns` campaigns of at most `limit` runs each.
pub fn race(c: &Contender, campaigns: u64, limit: u64) -> Race {
    let starts: Vec<u64> = (0..campaigns).map(|i| i * 1_000_003).collect();
    let random: Vec<Leg> = starts.iter().map(|&s| leg(c, s, limit, false)).collect();
    let guided: Vec<Leg> = starts.iter().map(|&s| leg(c, s, limit, true)).collect();
    let random_median = median(&random, limit);
    let guided_median = median(&guided, limit);
    Race {
        bug: c.name.clone(),
        limit,
        random_median,
        guided_median,
        speedup: random_median / guided_median.max(1.0),
        random,
        guided,
    }
}

/// Every contender, each campaign limited to `limit` runs; `only` keeps the bugs whose name
/// contains it.
pub fn races(campaigns: u64, limit: u64, only: Option<&str>) -> Vec<Race> {
    contenders()
        .iter()
        .filter(|c| only.is_none_or(|o| c.name.contains(o)))
        .map(|c| race(c, campaigns, limit))
        .collect()
}

/// The report for people.
pub fn text(races: &[Race]) -> String {
    let mut s = String::from(
        "runs to the first failure, random vs coverage-guided (median over campaigns; - = none within the limit):\n",
    );
    let show = |legs: &[Leg]| {
        legs.iter()
            .map(|l| l.runs.map_or("-".into(), |r| r.to_string()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for r in races {
        let secs = |legs: &[Leg]| legs.iter().map(|l| l.wall_secs).sum::<f64>();
        s += &format!(
            "  {:<34} random {:>8.0}  guided {:>8.0}  speedup {:>5.2}x   (wall {:.1} s vs {:.1} s)\n      random: {}\n      guided: {}\n",
            r.bug,
            r.random_median,
            r.guided_median,
            r.speedup,
            secs(&r.random),
            secs(&r.guided),
            show(&r.random),
            show(&r.guided)
        );
    }
    s
}
