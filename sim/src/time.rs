//! Virtual time: instants are integer nanoseconds since the start of a run.
//!
//! Nothing in `sim` or `protocols` reads the wall clock. A [`Time`] is a point on the true
//! (simulation) timeline, or on a node's local clock when it comes from `Context::now`;
//! spans are [`std::time::Duration`], converted to whole nanoseconds at the edges.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::time::Duration;

/// An instant in virtual time, in nanoseconds since the run started.
#[derive(
    Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Time(pub u64);

impl Time {
    /// The start of every run.
    pub const ZERO: Time = Time(0);
    /// The largest representable instant ("never").
    pub const MAX: Time = Time(u64::MAX);

    /// Nanoseconds since the start of the run.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Builds an instant from milliseconds since the start.
    pub const fn from_millis(ms: u64) -> Time {
        Time(ms * 1_000_000)
    }

    /// Builds an instant from seconds since the start.
    pub const fn from_secs(s: u64) -> Time {
        Time(s * 1_000_000_000)
    }

    /// The span since `earlier`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Time) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// Milliseconds as a float, for reports.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
}

/// Whole nanoseconds of a span, saturating at `u64::MAX` (about 584 years).
pub fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Add<Duration> for Time {
    type Output = Time;
    fn add(self, d: Duration) -> Time {
        Time(self.0.saturating_add(nanos(d)))
    }
}

impl AddAssign<Duration> for Time {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Time> for Time {
    type Output = Duration;
    /// The span between two instants; panics (a bug) if `rhs` is later.
    fn sub(self, rhs: Time) -> Duration {
        assert!(self >= rhs, "time went backwards: {self} - {rhs}");
        Duration::from_nanos(self.0 - rhs.0)
    }
}

impl fmt::Display for Time {
    /// Seconds with millisecond and microsecond digits: `12.345678s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0 / 1_000_000_000;
        let us = (self.0 % 1_000_000_000) / 1_000;
        write!(f, "{s}.{us:06}s")
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_display() {
        let t = Time::from_millis(1500) + Duration::from_micros(250);
        assert_eq!(t.as_nanos(), 1_500_250_000);
        assert_eq!(t.to_string(), "1.500250s");
        assert_eq!(t - Time::from_secs(1), Duration::from_micros(500_250));
        assert_eq!(Time::ZERO.saturating_since(t), Duration::ZERO);
        assert_eq!(Time::MAX + Duration::from_secs(1), Time::MAX);
    }
}
