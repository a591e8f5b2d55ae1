//! `faultline run --history`: the clients' history leaves the run as Jepsen EDN and as JSON
//! lines, complete (one invocation per operation the run counted) and re-checkable.

use protocols::linearizability::{self, Budget, History};
use std::process::Command;

fn faultline(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run faultline")
}

#[test]
fn the_history_is_exported_whole_in_both_formats_and_checks_again() {
    let dir = std::env::temp_dir().join(format!("faultline-history-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (edn, jsonl) = (dir.join("h.edn"), dir.join("h.jsonl"));
    let mut ops = None;
    for out in [&edn, &jsonl] {
        let run = faultline(&[
            "run",
            "scenarios/raft/leader_crash.ron",
            "--json",
            "--history",
            out.to_str().unwrap(),
        ]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        ops = json["metrics"]["kv.ops"].as_u64();
    }
    let ops = ops.expect("the run counts its operations") as usize;
    let edn = std::fs::read_to_string(&edn).unwrap();
    assert_eq!(edn.matches(":type :invoke").count(), ops);
    assert!(
        edn.lines()
            .all(|l| l.starts_with("{:process ") && l.ends_with('}'))
    );
    let history = History::from_jsonl(&std::fs::read_to_string(&jsonl).unwrap()).unwrap();
    assert_eq!(history.len(), ops);
    assert_eq!(
        history.to_edn(),
        edn,
        "both files describe the same history"
    );
    assert!(linearizability::check(&history, Budget::steps(5_000_000)).is_linearizable());
    // A history file whose format cannot be told is refused before anything runs.
    let bad = faultline(&[
        "run",
        "scenarios/raft/leader_crash.ron",
        "--history",
        "h.txt",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains(".edn (Jepsen EDN) or .jsonl"));
    let _ = std::fs::remove_dir_all(&dir);
}
