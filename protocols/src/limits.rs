//! Limits on everything a scenario can set (TigerBeetle's rule: put a limit on everything),
//! and the checks families use to enforce them with messages that name the field and the
//! limit. `docs/scenario-format.md` lists every range.
//!
//! The limits are not about what a protocol could do but about what a run can afford: a
//! heartbeat of one nanosecond or a fanout of four billion is valid arithmetic and an
//! out-of-memory kill a few seconds later. So every count, rate, size and duration has a range,
//! and what would explode in combination (events per virtual second, messages in flight) is
//! estimated and refused before anything runs.

use crate::units::Dur;
use std::time::Duration;

/// The longest run, and the longest duration any field may hold: ten days of virtual time.
pub const MAX_DURATION: Duration = Duration::from_secs(10 * 24 * 3600);

/// The shortest period of anything periodic (heartbeats, rounds, timeouts, client think and
/// retry times): one microsecond.
pub const MIN_PERIOD: Duration = Duration::from_micros(1);

/// The most events per second of virtual time a configuration may produce, by its family's
/// own estimate: 10^8 (a million gossip nodes with a 100 ms round produce about 3·10^7).
pub const MAX_EVENTS_PER_SECOND: f64 = 1e8;

/// The most client operations per second of virtual time, over all clients.
pub const MAX_CLIENT_RATE: f64 = 1e7;

/// Clients of a workload, at most.
pub const MAX_CLIENTS: u32 = 10_000;

/// Keys a workload may use, at most.
pub const MAX_KEYS: u64 = 1_000_000;

/// Entries in any list a scenario writes out (faults, updates, link overrides, clock settings).
pub const MAX_LIST: usize = 100_000;

/// Clock drift, in parts per million, strictly below (a drift of -10^6 stops a clock).
pub const MAX_DRIFT_PPM: i64 = 1_000_000;

/// Checks that a duration lies in `[min, MAX_DURATION]`.
pub fn duration(field: &str, d: Dur, min: Duration) -> Result<(), String> {
    if d.0 < min {
        return Err(format!("{field} must be at least {} (got {d})", Dur(min)));
    }
    if d.0 > MAX_DURATION {
        return Err(format!(
            "{field} must be at most {} (got {d})",
            Dur(MAX_DURATION)
        ));
    }
    Ok(())
}

/// Checks a periodic duration: at least [`MIN_PERIOD`], at most [`MAX_DURATION`].
pub fn period(field: &str, d: Dur) -> Result<(), String> {
    duration(field, d, MIN_PERIOD)
}

/// Checks that a number is finite and in `[min, max]`.
pub fn number(field: &str, x: f64, min: f64, max: f64) -> Result<(), String> {
    if !x.is_finite() || x < min || x > max {
        return Err(format!(
            "{field} must be a number from {min} to {max} (got {x})"
        ));
    }
    Ok(())
}

/// Checks that a count is in `[min, max]`.
pub fn count(field: &str, n: u64, min: u64, max: u64) -> Result<(), String> {
    if n < min || n > max {
        return Err(format!("{field} must be from {min} to {max} (got {n})"));
    }
    Ok(())
}

/// Checks a family's estimate of events per virtual second against
/// [`MAX_EVENTS_PER_SECOND`]; `what` says where the estimate comes from.
pub fn event_rate(estimate: f64, what: &str) -> Result<(), String> {
    if estimate.is_nan() || estimate > MAX_EVENTS_PER_SECOND {
        return Err(format!(
            "this configuration would produce about {estimate:.3e} events per second of virtual \
             time ({what}); the limit is {MAX_EVENTS_PER_SECOND:.0e}: lengthen the period or \
             shrink the cluster"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_name_the_field_and_the_limit() {
        assert!(period("heartbeat", Dur::ms(50)).is_ok());
        let e = period("heartbeat", Dur(Duration::from_nanos(1))).unwrap_err();
        assert!(e.contains("heartbeat must be at least 1us"), "{e}");
        let e = duration(
            "x",
            Dur(MAX_DURATION + Duration::from_secs(1)),
            Duration::ZERO,
        );
        assert!(e.unwrap_err().contains("at most 10days"));
        for bad in [f64::NAN, f64::INFINITY, -1.0, 1e300] {
            assert!(number("rate", bad, 0.0, 1e6).is_err(), "{bad}");
        }
        assert!(
            count("keys", 0, 1, 10)
                .unwrap_err()
                .contains("keys must be from 1 to 10")
        );
        assert!(
            event_rate(1e9, "n heartbeats")
                .unwrap_err()
                .contains("limit is 1e8")
        );
        assert!(event_rate(f64::NAN, "?").is_err());
    }
}
