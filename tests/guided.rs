//! Coverage-guided campaigns and campaign coverage end to end: a guided campaign is the same
//! whatever the number of threads, its mutants' failures replay from their files, mutated
//! schedules heal before liveness is judged (a correct protocol stays clean), and the deep
//! nemesis reaches the coverage points it was built for.

use faultline::fuzz::campaign::{CampaignConfig, CampaignReport, run_campaign};
use faultline::fuzz::targets::target;
use faultline::runner::{RunOptions, run};
use faultline::scenario::load;
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faultline-guided-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn config(file: &Path, seeds: (u64, u64), jobs: usize, out: Option<&Path>) -> CampaignConfig {
    CampaignConfig {
        jobs,
        out: out.map(Path::to_path_buf),
        guided: true,
        ..CampaignConfig::quiet(
            faultline::builtin::registry(),
            file.to_path_buf(),
            load(file).unwrap_or_else(|e| panic!("{e}")),
            seeds.0,
            seeds.1,
        )
    }
}

/// What must not depend on the thread count.
fn fingerprint(r: &CampaignReport) -> String {
    let failures: Vec<(u64, u64, &str)> = r
        .failures
        .iter()
        .map(|f| (f.run, f.seed, f.trace_hash.as_str()))
        .collect();
    let points: Vec<(&str, u64, u64)> = r
        .coverage
        .points
        .iter()
        .map(|p| (p.point.as_str(), p.runs, p.hits))
        .collect();
    let g = r.guided.as_ref().expect("a guided campaign");
    format!(
        "{} runs, corpus {}, mutants {}, failures {failures:?}, coverage {points:?}",
        r.seeds_run, g.corpus, g.mutants
    )
}

#[test]
fn a_guided_campaign_is_the_same_on_one_or_two_threads_and_its_mutants_replay() {
    let dir = scratch("threads");
    let file = dir.join("bug.ron");
    let t = target("raft AckBeforeSync");
    std::fs::write(&file, t.text(t.bug)).unwrap();
    let one = run_campaign(&config(&file, (0, 400), 1, None)).unwrap();
    let out = dir.join("out");
    let two = run_campaign(&config(&file, (0, 400), 2, Some(&out))).unwrap();
    assert_eq!(fingerprint(&one), fingerprint(&two));
    let g = two.guided.as_ref().unwrap();
    assert!(g.mutants > 100 && g.corpus > 5, "{}", fingerprint(&two));
    assert!(
        !two.failures.is_empty(),
        "the bug is found: {}",
        fingerprint(&two)
    );
    // Every saved failure, mutant or not, replays to the same verdict and trace hash.
    let mut mutants = 0;
    for f in &two.failures {
        let saved = f.file.as_ref().expect("saved with --out");
        let name = saved.file_name().unwrap().to_string_lossy().into_owned();
        mutants += usize::from(name.contains(".g"));
        let again = run(
            &saved.display().to_string(),
            &load(saved).unwrap_or_else(|e| panic!("{e}")),
            &RunOptions::default(),
        );
        assert_eq!(again.trace_hash, f.trace_hash, "{name} replays");
        assert!(!again.matched && again.verdict == "violated", "{name}");
    }
    assert!(
        mutants > 0,
        "some failures are mutants: {}",
        fingerprint(&two)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mutated_schedules_heal_so_correct_raft_stays_clean_under_liveness_checks() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/raft/deep_nemesis.ron");
    let r = run_campaign(&config(&file, (0, 300), 0, None)).unwrap();
    assert!(
        r.failures.is_empty(),
        "correct Raft fails a guided campaign: {:?}",
        r.failures.first().map(|f| (&f.message, &f.replay))
    );
    let g = r.guided.as_ref().unwrap();
    assert!(g.mutants >= 100, "{}", fingerprint(&r));
    // The deep nemesis reaches the states it swarms for.
    for point in [
        "raft.snapshot.installed_over_longer_log",
        "raft.commit.earlier_term_refused",
        "raft.read.lease_served",
        "raft.truncate.conflict",
        "raft.commit.follower_capped_at_last_new",
    ] {
        let row = r.coverage.points.iter().find(|p| p.point == point);
        assert!(
            row.is_some_and(|p| p.runs > 0),
            "{point} never reached: {}",
            fingerprint(&r)
        );
    }
    assert!(
        r.coverage.undeclared.is_empty(),
        "{:?}",
        r.coverage.undeclared
    );
}
