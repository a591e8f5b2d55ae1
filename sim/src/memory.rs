//! The memory guard: how much memory the process uses, and how much it may.
//!
//! A run whose state grows without bound (a log that is never compacted under a heavy
//! workload, a huge cluster) must end as a verdict, not as the kernel's out-of-memory kill or
//! an allocation failure that aborts the process. The engine checks the process's memory
//! every few thousand events against a budget: the run's own `Limits::max_memory` (resident
//! memory), and otherwise what the process can afford — 85% of its address-space limit
//! (`ulimit -v`) when one is set, and 90% of the machine's memory. Reading the numbers only
//! stops a run; it never steers one, so determinism is unaffected.
//!
//! Linux only (`/proc`); elsewhere the guard is off.

use std::sync::OnceLock;

/// What the process uses now, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// Address space (what `ulimit -v` limits).
    pub virtual_bytes: u64,
    /// Resident memory.
    pub resident_bytes: u64,
}

/// The process's memory now, if the platform says.
pub fn usage() -> Option<Usage> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let mut pages = statm.split_whitespace().map(|x| x.parse::<u64>().ok());
    let size = pages.next()??;
    let resident = pages.next()??;
    let page = 4096; // Linux's page size on every platform faultline runs on.
    Some(Usage {
        virtual_bytes: size * page,
        resident_bytes: resident * page,
    })
}

/// The process's budget when a run sets none: address space at 85% of `ulimit -v`, resident
/// memory at 90% of the machine's. Computed once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Budget {
    pub virtual_bytes: Option<u64>,
    pub resident_bytes: Option<u64>,
}

/// See [`Budget`].
pub fn default_budget() -> Budget {
    static BUDGET: OnceLock<Budget> = OnceLock::new();
    *BUDGET.get_or_init(|| Budget {
        virtual_bytes: address_space_limit().map(|l| l / 100 * 85),
        resident_bytes: machine_memory().map(|m| m / 100 * 90),
    })
}

/// `ulimit -v`, in bytes, when set.
fn address_space_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max address space"))?;
    // "Max address space   2147483648   2147483648   bytes"
    line.split_whitespace()
        .nth(3)
        .and_then(|soft| soft.parse::<u64>().ok())
}

/// The machine's memory, in bytes.
fn machine_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Why a growing table could not grow: the payload of the unwind [`reserve`] starts, which
/// the engine turns into a `MemoryLimit` verdict.
#[derive(Debug)]
pub struct Exhausted(pub String);

/// Makes room for one more element in `v`, doubling its capacity as `push` would; when the
/// allocation fails, unwinds with [`Exhausted`] (without the panic hook, so nothing is
/// printed) instead of aborting the process. For the engine's tables that grow with the
/// cluster and the queue.
#[inline]
pub fn reserve<T>(v: &mut Vec<T>, what: &str) {
    if v.len() == v.capacity() {
        grow(v, what);
    }
}

#[cold]
fn grow<T>(v: &mut Vec<T>, what: &str) {
    let extra = v.capacity().max(64);
    if v.try_reserve(extra).is_err() {
        let bytes = (v.capacity() + extra) as u64 * std::mem::size_of::<T>() as u64;
        std::panic::resume_unwind(Box::new(Exhausted(format!(
            "memory limit reached: the {what} could not grow to {} MiB",
            bytes / (1024 * 1024)
        ))));
    }
    advise_huge(v);
}

/// Asks the kernel to back the large buffer of `v` (its whole capacity) with transparent huge
/// pages, where the system leaves that to the program (Linux THP in `madvise` mode). A
/// million-node run reads its tables (queue slab, node metadata and state, monitor records)
/// at random: with 4 KiB pages nearly every such read also misses the TLB, with 2 MiB pages
/// the tables' few hundred pages stay in it (measured: push-pull gossip on 10^6 nodes took
/// 27% less CPU). Best called before the buffer is first written: pages already touched are
/// only merged later, if ever. A hint only: contents, results and determinism are unaffected,
/// and it does nothing on buffers under 8 MiB, off Linux, or when the kernel declines.
pub fn advise_huge<T>(v: &Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let bytes = v.capacity().saturating_mul(std::mem::size_of::<T>());
        if bytes < 4 * HUGE {
            return;
        }
        let start = v.as_ptr() as usize;
        let first = start.next_multiple_of(HUGE);
        let end = (start + bytes) / HUGE * HUGE;
        if end > first {
            // SAFETY: `[first, end)` lies inside `v`'s allocation, which is mapped and stays
            // so for the call; MADV_HUGEPAGE only changes how the kernel backs those pages
            // (never their contents), and a failure (an error return) is ignored.
            unsafe {
                libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = v;
}

/// Why the process is over budget, if it is: the run's explicit limit on resident memory, or
/// else the default budget.
pub fn over(explicit: Option<u64>) -> Option<String> {
    let now = usage()?;
    let mib = |b: u64| b / (1024 * 1024);
    if let Some(max) = explicit {
        return (now.resident_bytes >= max).then(|| {
            format!(
                "memory limit reached: {} MiB resident, limit {} MiB",
                mib(now.resident_bytes),
                mib(max)
            )
        });
    }
    let budget = default_budget();
    if let Some(max) = budget.virtual_bytes
        && now.virtual_bytes >= max
    {
        return Some(format!(
            "memory limit reached: {} MiB of address space, 85% of the process's limit",
            mib(now.virtual_bytes)
        ));
    }
    if let Some(max) = budget.resident_bytes
        && now.resident_bytes >= max
    {
        return Some(format!(
            "memory limit reached: {} MiB resident, 90% of the machine's memory",
            mib(now.resident_bytes)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_read_and_an_explicit_limit_applies() {
        let Some(now) = usage() else {
            return; // Not Linux: the guard is off.
        };
        assert!(now.resident_bytes > 0 && now.virtual_bytes >= now.resident_bytes);
        assert!(over(Some(1)).unwrap().contains("memory limit reached"));
        assert_eq!(over(Some(u64::MAX)), None);
    }
}
