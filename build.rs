//! Records which build this is (version, git commit, whether the tree was dirty), so failure
//! files and JSON reports can say which build found a failure, and a replay under another
//! build can say so when its trace differs.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let build = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(commit) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            format!(
                "faultline {version} ({commit}{})",
                if dirty { ", dirty" } else { "" }
            )
        }
        None => format!("faultline {version} (not built from a git checkout)"),
    };
    println!("cargo:rustc-env=FAULTLINE_BUILD={build}");
    // The commit or the dirty state changes with these; re-run when they do. Only paths that
    // exist are named: cargo re-runs a build script on every build for a missing one.
    let watched = [
        ".git/HEAD",
        ".git/index",
        ".git/refs",
        ".git/packed-refs",
        "src",
        "sim/src",
        "protocols/src",
        "Cargo.toml",
    ];
    for path in watched {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
