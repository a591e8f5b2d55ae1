//! Campaign progress on stderr: an indicatif bar on a terminal, plain lines otherwise (CI logs
//! and batch schedulers keep every line, so a redrawn bar would fill them with noise).
//!
//! Wall time is read here only to report progress and enforce `--budget`; it never reaches a
//! simulation, which keeps runs deterministic.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often plain progress lines are printed, at most.
const LINE_EVERY: Duration = Duration::from_secs(10);

/// Shared by the worker threads of one campaign.
pub struct Progress {
    started: Instant,
    total: u64,
    done: AtomicU64,
    failures: AtomicU64,
    bar: Option<ProgressBar>,
    /// When the last plain line went out; `None` when progress is off.
    last_line: Option<Mutex<Instant>>,
}

impl Progress {
    /// Progress over `total` seeds; `show` false makes it silent.
    #[allow(clippy::disallowed_methods)] // Wall time for progress and --budget only.
    pub fn new(total: u64, show: bool) -> Progress {
        let started = Instant::now();
        let terminal = show && std::io::stderr().is_terminal();
        let bar = terminal.then(|| {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} seeds {per_sec} {msg}",
            )
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        let last_line = (show && !terminal).then(|| Mutex::new(started));
        Progress {
            started,
            total,
            done: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            bar,
            last_line,
        }
    }

    /// Wall time since the campaign started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// One seed finished.
    pub fn tick(&self, failed: bool) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let failures = self
            .failures
            .fetch_add(u64::from(failed), Ordering::Relaxed)
            + u64::from(failed);
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if failed {
                bar.set_message(format!("{failures} failure(s)"));
            }
        }
        if let Some(last) = &self.last_line {
            let now = self.elapsed();
            // A poisoned lock only means another worker panicked mid-print; progress can go on.
            let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
            if now >= last.duration_since(self.started) + LINE_EVERY || done == self.total {
                *last = self.started + now;
                let rate = done as f64 / now.as_secs_f64().max(1e-9);
                eprintln!(
                    "fuzz: {done}/{} seeds, {failures} failure(s), {rate:.1} seeds/s",
                    self.total
                );
            }
        }
    }

    /// Clears the bar; returns the wall time of the campaign.
    pub fn finish(&self) -> Duration {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.elapsed()
    }
}
