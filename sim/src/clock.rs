//! Node clocks: each node reads its own local clock, with an offset and a drift rate.
//!
//! A local clock is piecewise linear in true time: `local(t) = base_local + (t - base_true) ·
//! (1 + ppm/10^6)`. A clock-jump fault moves `base_local`; a drift-change fault rebases the
//! clock at the current instant and changes the rate. All arithmetic is integer (i128).
//!
//! Timers are durations measured by the node's oscillator: a timer set for `d` local
//! nanoseconds fires at the true instant when the local clock has advanced by `d`, so a clock
//! running fast (positive ppm) fires timers early by `d·ppm/(10^6+ppm)`. A clock *jump* changes
//! what `now()` reads but not when pending timers fire (timers follow a monotonic clock, as
//! `CLOCK_MONOTONIC` does); a drift change applies to timers set after it.

use crate::Time;

/// Parts per million in one.
const PPM: i128 = 1_000_000;

/// One node's local clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    base_true: u64,
    base_local: i64,
    ppm: i64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new(0, 0)
    }
}

impl Clock {
    /// A clock that reads `offset_ns` at true time zero and runs `drift_ppm` fast (negative:
    /// slow). Drift must be above -10^6 ppm (a clock that stops or runs backwards is not a clock).
    pub fn new(offset_ns: i64, drift_ppm: i64) -> Clock {
        assert!(
            drift_ppm > -1_000_000,
            "drift {drift_ppm} ppm would stop the clock"
        );
        Clock {
            base_true: 0,
            base_local: offset_ns,
            ppm: drift_ppm,
        }
    }

    /// The drift rate in parts per million.
    pub fn drift_ppm(&self) -> i64 {
        self.ppm
    }

    /// The local reading at true time `t`, in signed nanoseconds.
    pub fn local_signed(&self, t: Time) -> i64 {
        let dt = i128::from(t.0) - i128::from(self.base_true);
        let local = i128::from(self.base_local) + dt * (PPM + i128::from(self.ppm)) / PPM;
        local.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// The local reading at true time `t`, as a [`Time`] (readings before zero clamp to zero).
    pub fn local(&self, t: Time) -> Time {
        Time(self.local_signed(t).max(0) as u64)
    }

    /// The true span after which `local_ns` local nanoseconds have elapsed (rounded up, so a
    /// timer never fires before its local deadline).
    pub fn true_span(&self, local_ns: u64) -> u64 {
        let rate = PPM + i128::from(self.ppm);
        let span = (i128::from(local_ns) * PPM + rate - 1) / rate;
        span.min(i128::from(u64::MAX)) as u64
    }

    /// Moves the clock's reading by `delta_ns` (positive: forward) at true time `now`.
    pub fn jump(&mut self, now: Time, delta_ns: i64) {
        self.rebase(now);
        self.base_local = self.base_local.saturating_add(delta_ns);
    }

    /// Changes the drift rate from true time `now` on.
    pub fn set_drift(&mut self, now: Time, drift_ppm: i64) {
        assert!(
            drift_ppm > -1_000_000,
            "drift {drift_ppm} ppm would stop the clock"
        );
        self.rebase(now);
        self.ppm = drift_ppm;
    }

    fn rebase(&mut self, now: Time) {
        self.base_local = self.local_signed(now);
        self.base_true = now.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_offset_and_jumps() {
        let mut c = Clock::new(5_000, 100); // +5us, 100 ppm fast
        assert_eq!(c.local_signed(Time::ZERO), 5_000);
        // After 1 s of true time the clock has gained 100 us.
        assert_eq!(c.local_signed(Time::from_secs(1)), 1_000_105_000);
        c.jump(Time::from_secs(1), -2_000_000_000);
        assert_eq!(c.local_signed(Time::from_secs(1)), -999_895_000);
        assert_eq!(c.local(Time::from_secs(1)), Time::ZERO);
        c.set_drift(Time::from_secs(2), -500_000); // half speed from t = 2 s
        let at2 = c.local_signed(Time::from_secs(2));
        assert_eq!(c.local_signed(Time::from_secs(4)), at2 + 1_000_000_000);
    }

    #[test]
    fn timers_fire_by_local_time() {
        let fast = Clock::new(0, 1_000); // 0.1% fast: 1 local second in 999.001 ms (rounded up)
        assert_eq!(fast.true_span(1_000_000_000), 999_001_000);
        let slow = Clock::new(0, -1_000);
        assert_eq!(slow.true_span(1_000_000_000), 1_001_001_002);
        assert_eq!(Clock::default().true_span(42), 42);
    }
}
