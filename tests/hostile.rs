//! Hostile input: every command (`check`, `run`, `fuzz`, `shrink`, `sweep`) given special
//! files, huge or malformed files, absurd numbers, bad paths, flags and output sinks must end
//! with exit code 0, 1 or 2 — never a panic, never a signal, never a hang — within 10 seconds
//! and 2 GiB of address space each.
//!
//! Each case runs the real binary under `ulimit -v` (2 GiB) and a 10 s timeout.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TIME_LIMIT: Duration = Duration::from_secs(10);
const MEMORY_KIB: u64 = 2 * 1024 * 1024;

struct Ran {
    code: Option<i32>,
    stderr: String,
    secs: f64,
}

/// Runs `faultline args...` under the memory limit, killing it at the time limit.
fn faultline(args: &[&str], stdout_to: Option<&Path>) -> Ran {
    let mut script = format!("ulimit -v {MEMORY_KIB}; exec \"$0\" \"$@\"");
    if let Some(p) = stdout_to {
        script = format!(
            "ulimit -v {MEMORY_KIB}; exec \"$0\" \"$@\" > '{}'",
            p.display()
        );
    }
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(if stdout_to.is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    #[allow(clippy::disallowed_methods)] // The test measures how long the binary takes.
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waiting") {
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .ok();
            return Ran {
                code: status.code(),
                stderr,
                secs: start.elapsed().as_secs_f64(),
            };
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Ran {
                code: None,
                stderr: format!("killed after {TIME_LIMIT:?}"),
                secs: start.elapsed().as_secs_f64(),
            };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asserts a clean end: 0, 1 or 2, no panic, in time.
fn clean(what: &str, r: &Ran) {
    assert!(
        matches!(r.code, Some(0..=2)),
        "{what}: exit {:?} after {:.1}s\n{}",
        r.code,
        r.secs,
        r.stderr
    );
    assert!(
        !r.stderr.contains("panicked"),
        "{what}: panicked\n{}",
        r.stderr
    );
    assert!(
        r.secs < TIME_LIMIT.as_secs_f64(),
        "{what}: took {:.1}s",
        r.secs
    );
}

/// Asserts the input was refused as bad input (exit 2) with a message.
fn refused(what: &str, r: &Ran) {
    clean(what, r);
    assert_eq!(r.code, Some(2), "{what}: expected exit 2\n{}", r.stderr);
    assert!(
        r.stderr.contains("error"),
        "{what}: no message\n{}",
        r.stderr
    );
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("faultline-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

const VALID: &str = r#"Scenario(name: "ok", protocol: Raft(()), nodes: 3, duration: "2s")"#;

#[test]
fn special_and_malformed_files_are_refused_by_every_command() {
    let d = scratch("files");
    let fifo = d.join("fifo.ron");
    let made = Command::new("mkfifo").arg(&fifo).status();
    let mut inputs: Vec<(String, PathBuf)> = vec![
        ("/dev/zero".into(), PathBuf::from("/dev/zero")),
        ("/dev/urandom".into(), PathBuf::from("/dev/urandom")),
        ("/dev/null".into(), PathBuf::from("/dev/null")),
        ("a directory".into(), d.clone()),
        ("a missing file".into(), d.join("missing.ron")),
    ];
    if made.is_ok_and(|s| s.success()) {
        inputs.push(("a FIFO".into(), fifo.clone()));
    }
    let big = d.join("big.ron");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(3 * 1024 * 1024 * 1024)
        .unwrap();
    inputs.push(("a 3 GB sparse file".into(), big));
    for (name, bytes) in [
        (
            "binary garbage",
            (0..4096u32)
                .map(|i| (i * 7919 % 251) as u8)
                .collect::<Vec<u8>>(),
        ),
        ("not UTF-8", vec![b'S', 0xff, 0xfe, b'(']),
        ("empty", vec![]),
        ("only a comment", b"// nothing\n".to_vec()),
        (
            "deep nesting",
            format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
        ),
        (
            "one long line",
            format!("Scenario(name: \"{}\")", "x".repeat(2_000_000)).into_bytes(),
        ),
        ("truncated", VALID.as_bytes()[..30].to_vec()),
    ] {
        let p = d.join(format!("{}.ron", name.replace(' ', "_")));
        std::fs::write(&p, bytes).unwrap();
        inputs.push((name.to_string(), p));
    }
    let out_dir = path(&d.join("out"));
    for (name, p) in &inputs {
        for cmd in ["check", "run", "fuzz", "shrink", "sweep"] {
            let mut args = vec![cmd, p.to_str().unwrap()];
            match cmd {
                "fuzz" => args.extend(["--seeds", "0..3", "--quiet"]),
                "sweep" => args.extend(["--out", out_dir.as_str()]),
                _ => {}
            }
            let r = faultline(&args, None);
            if name == "a directory" && matches!(cmd, "check" | "run") {
                clean(&format!("{cmd} {name}"), &r); // A directory is scanned for files.
            } else {
                refused(&format!("{cmd} {name}"), &r);
            }
        }
    }
    // A UTF-8 byte-order mark is fine.
    let bom = d.join("bom.ron");
    std::fs::write(&bom, format!("\u{feff}{VALID}")).unwrap();
    let r = faultline(&["check", &path(&bom)], None);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn directory_scans_end_on_link_loops_and_report_each_file_once() {
    let d = scratch("loops");
    std::fs::create_dir_all(d.join("a/b")).unwrap();
    std::fs::write(d.join("a/b/one.ron"), VALID).unwrap();
    std::os::unix::fs::symlink(d.join("a"), d.join("a/b/up")).unwrap();
    std::os::unix::fs::symlink(d.join("a/b"), d.join("a/side")).unwrap();
    let out = d.join("out.txt");
    let r = faultline(&["check", &path(&d)], Some(&out));
    clean("check a looping tree", &r);
    let listed = std::fs::read_to_string(&out).unwrap();
    assert_eq!(listed.matches("one.ron").count(), 1, "{listed}");
    let _ = std::fs::remove_dir_all(&d);
}

/// Absurd values in otherwise valid files: refused by `check` (and so by every command)
/// before anything runs.
#[test]
fn absurd_numbers_are_refused_before_anything_runs() {
    let d = scratch("numbers");
    let cases = [
        r#"protocol: Raft((heartbeat: "1ns")), nodes: 3"#,
        r#"protocol: Raft(()), nodes: 10000000"#,
        r#"protocol: Raft(()), nodes: 18446744073709551615"#,
        r#"protocol: Gossip((fanout: 4294967295)), nodes: 3"#,
        r#"protocol: Gossip((period: "1ns")), nodes: 1000"#,
        r#"protocol: Failover((heartbeat: "1ns")), nodes: 3"#,
        r#"protocol: Raft(()), nodes: 3, faults: [(at: "1s", do: SetDrift(target: All, ppm: 9223372036854775807))]"#,
        r#"protocol: Raft(()), nodes: 3, faults: [(at: "1s", do: ClockJump(target: All, by: "-200000days"))]"#,
        r#"protocol: Raft(()), nodes: 3, workload: Kv((rate: NaN))"#,
        r#"protocol: Raft(()), nodes: 3, workload: Kv((rate: inf))"#,
        r#"protocol: Raft(()), nodes: 3, workload: Kv((rate: 1e300))"#,
        r#"protocol: Raft(()), nodes: 3, workload: Kv((clients: 4000000000))"#,
        r#"protocol: Raft(()), nodes: 3, workload: Kv((keys: 0))"#,
        r#"protocol: Raft(()), nodes: 3, workload: Kv((reads: 0.9, cas: 0.9))"#,
        r#"protocol: Raft(()), nodes: 3, workload: Kv((check_budget: 18446744073709551615))"#,
        r#"protocol: Raft(()), nodes: 3, duration: "1000000000days""#,
        r#"protocol: Raft(()), nodes: 3, duration: "0s""#,
        r#"protocol: Raft(()), nodes: 3, nemesis: (faults: [Crash], length: ("1ns", "1ns"), gap: ("1ns", "1ns"))"#,
        r#"protocol: Raft(()), nodes: 3, nemesis: (faults: [Crash], overlap: true, gap: ("0s", "0s"))"#,
        r#"protocol: Raft(()), nodes: 3, network: (latency: Uniform("1ms", "100days"))"#,
        r#"protocol: Raft(()), nodes: 3, network: (latency: LogNormal(median: "1ms", sigma: 1e308))"#,
        r#"protocol: Raft(()), nodes: 3, clocks: (max_offset: "100000days")"#,
        r#"protocol: Raft(()), nodes: 3, limits: (max_wall: "0s")"#,
        r#"protocol: Gossip(()), nodes: 1000, network: (overrides: [(from: [RANGE], to: [RANGE]), (from: [RANGE], to: [RANGE])])"#,
    ];
    let range = (0..1000)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    for (i, body) in cases.iter().enumerate() {
        let p = d.join(format!("case{i}.ron"));
        let body = body.replace("RANGE", &range);
        std::fs::write(&p, format!("Scenario(name: \"absurd\", {body})")).unwrap();
        for cmd in ["check", "run"] {
            refused(
                &format!("{cmd} {body:.80}"),
                &faultline(&[cmd, &path(&p)], None),
            );
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn flags_and_ranges_are_bounded() {
    let d = scratch("flags");
    let f = d.join("ok.ron");
    std::fs::write(&f, VALID.replace("\"2s\"", "\"200ms\"")).unwrap();
    let file = path(&f);
    for args in [
        vec![
            "fuzz",
            &file,
            "--seeds",
            "0..18446744073709551615",
            "--budget",
            "2s",
            "--quiet",
        ],
        vec![
            "fuzz",
            &file,
            "--seeds",
            "0..100000000",
            "--budget",
            "1s",
            "--quiet",
        ],
        vec![
            "fuzz", &file, "--seeds", "0..10", "--jobs", "100000", "--quiet",
        ],
        vec![
            "fuzz", &file, "--seeds", "0..10", "--jobs", "1024", "--quiet",
        ],
        vec!["fuzz", &file, "--seeds", "10..5"],
        vec!["fuzz", &file, "--seeds", "0..10", "--shard", "9/3"],
        vec![
            "fuzz",
            &file,
            "--seeds",
            "0..10",
            "--check-determinism",
            "500",
        ],
        vec!["run", &file, "--max-wall", "0s"],
        vec!["run", &file, "--seed", "-1"],
        vec!["run", &file, "--frobnicate"],
        vec!["shrink", &file, "--max-runs", "0"],
        vec!["bench", "--events", "0"],
        vec!["bench", "--gossip-nodes", "100000000"],
    ] {
        clean(&args.join(" "), &faultline(&args, None));
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn output_sinks_that_cannot_be_written_are_errors_not_panics() {
    let d = scratch("sinks");
    let f = d.join("ok.ron");
    std::fs::write(&f, VALID.replace("\"2s\"", "\"200ms\"")).unwrap();
    let file = path(&f);
    // A full disk on standard output.
    let r = faultline(&["run", &file], Some(Path::new("/dev/full")));
    refused("run > /dev/full", &r);
    // Device nodes and directories as output files are refused, never read or replaced.
    for target in ["/dev/null", "/dev/zero"] {
        let r = faultline(&["run", &file, "--trace", target], None);
        refused(&format!("--trace {target}"), &r);
        let r = faultline(
            &[
                "fuzz", &file, "--seeds", "0..2", "--junit", target, "--quiet",
            ],
            None,
        );
        refused(&format!("--junit {target}"), &r);
    }
    let r = faultline(&["run", &file, "--trace", &path(&d)], None);
    refused("--trace DIR", &r);
    let r = faultline(&["shrink", &file, "--out", "/dev/zero"], None);
    clean("shrink --out /dev/zero (the file does not fail)", &r);
    // A closed pipe: the command stops without a panic.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "\"{}\" run '{}' --json | head -c 10 > /dev/null; echo ${{PIPESTATUS:-0}}",
            env!("CARGO_BIN_EXE_faultline"),
            file
        ))
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn names_cannot_forge_output_lines() {
    let d = scratch("names");
    let f = d.join("x.ron");
    std::fs::write(
        &f,
        "Scenario(name: \"ok\\u{1b}[2J\", protocol: Raft(()), nodes: 3, duration: \"1s\")",
    )
    .unwrap();
    refused(
        "a name with an escape sequence",
        &faultline(&["check", &path(&f)], None),
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_run_too_large_for_memory_ends_as_a_verdict() {
    let d = scratch("memory");
    // Ten million gossip nodes with a slow round pass every range check, but their event
    // queue does not fit in the 2 GiB address space the binary runs under.
    let f = d.join("huge.ron");
    std::fs::write(
        &f,
        r#"Scenario(name: "huge", protocol: Gossip((period: "1s")), nodes: 10000000, duration: "10s")"#,
    )
    .unwrap();
    let out = d.join("out.txt");
    let r = faultline(&["run", &path(&f)], Some(&out));
    clean("a run larger than memory", &r);
    assert_eq!(r.code, Some(1), "expected a failed run\n{}", r.stderr);
    let printed = std::fs::read_to_string(&out).unwrap();
    assert!(
        printed.contains("stalled (memory limit reached"),
        "the verdict names the memory limit:\n{printed}"
    );
    // An explicit limit stops a run that fits the process but not the scenario's budget.
    std::fs::write(
        &f,
        r#"Scenario(name: "capped", protocol: Gossip((period: "1s")), nodes: 2000000, duration: "10s", limits: (max_memory: "64MiB"))"#,
    )
    .unwrap();
    let r = faultline(&["run", &path(&f)], Some(&out));
    clean("a run over its max_memory", &r);
    let printed = std::fs::read_to_string(&out).unwrap();
    assert!(
        printed.contains("stalled (memory limit reached") && printed.contains("limit 64 MiB"),
        "the verdict names the scenario's limit:\n{printed}"
    );
    let _ = std::fs::remove_dir_all(&d);
}
