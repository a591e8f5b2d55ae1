//! Latency distributions: how long one message spends on the wire.
//!
//! Every distribution samples whole nanoseconds. Sampling uses only IEEE basic arithmetic and
//! the pure-Rust `libm` port (`log`, `exp`, `sqrt`, `cos`), never the platform's math library,
//! so the same seed gives the same latencies on every machine (docs/architecture.md, determinism rules).
//!
//! | distribution | parameters | mean |
//! |---|---|---|
//! | Constant | d | d |
//! | Uniform | min, max | (min+max)/2 |
//! | Normal | mean, std_dev (truncated at 0) | ≈ mean when mean ≫ std_dev |
//! | Exponential | mean | mean |
//! | LogNormal | median, sigma | median·e^(σ²/2) |
//! | Pareto | scale (minimum), shape α | scale·α/(α−1) for α > 1 |
//!
//! Every sample is capped at [`LATENCY_CAP`] so a heavy Pareto tail cannot overflow time.

use crate::rng::{open_unit_f64, uniform_u64, unit_f64};
use crate::units::ns;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// The largest latency any distribution returns: one hour.
pub const LATENCY_CAP: u64 = 3_600_000_000_000;

/// A latency distribution. Times are nanoseconds, written in scenario files as durations
/// with units: `Uniform("1ms", "10ms")`, `Normal(mean: "10ms", std_dev: "2ms")`.
#[derive(Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Latency {
    /// Always the same latency: `Constant("2ms")`.
    Constant(#[serde(with = "ns")] u64),
    /// Uniform in `[min, max]`: `Uniform("1ms", "10ms")`.
    Uniform(#[serde(with = "ns")] u64, #[serde(with = "ns")] u64),
    /// Normal with the given mean and standard deviation; negative draws become 0.
    Normal {
        #[serde(with = "ns")]
        mean: u64,
        #[serde(with = "ns")]
        std_dev: u64,
    },
    /// Exponential with the given mean (memoryless queueing delay).
    Exponential {
        #[serde(with = "ns")]
        mean: u64,
    },
    /// `median · e^(sigma·Z)`, Z standard normal: a right-skewed tail.
    LogNormal {
        #[serde(with = "ns")]
        median: u64,
        sigma: f64,
    },
    /// Pareto (type I): `scale / U^(1/shape)`; never below `scale`, heavy tail for small shape.
    Pareto {
        #[serde(with = "ns")]
        scale: u64,
        shape: f64,
    },
}

impl Default for Latency {
    /// One millisecond, constant.
    fn default() -> Self {
        Latency::Constant(1_000_000)
    }
}

impl Latency {
    /// A constant latency.
    pub fn constant(d: Duration) -> Latency {
        Latency::Constant(crate::time::nanos(d))
    }

    /// A uniform latency in `[min, max]`.
    pub fn uniform(min: Duration, max: Duration) -> Latency {
        Latency::Uniform(crate::time::nanos(min), crate::time::nanos(max))
    }

    /// Checks the parameters, with a message saying what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let durations = match *self {
            Latency::Constant(d) => [d, 0],
            Latency::Uniform(a, b) => [a, b],
            Latency::Normal { mean, std_dev } => [mean, std_dev],
            Latency::Exponential { mean } => [mean, 0],
            Latency::LogNormal { median, .. } => [median, 0],
            Latency::Pareto { scale, .. } => [scale, 0],
        };
        if let Some(&d) = durations.iter().find(|&&d| d > LATENCY_CAP) {
            return Err(format!(
                "a latency parameter of {} is above the one-hour cap on any latency",
                fmt_ns(d)
            ));
        }
        match *self {
            Latency::Uniform(min, max) if min > max => Err(format!(
                "uniform latency needs min <= max, got {} > {}",
                fmt_ns(min),
                fmt_ns(max)
            )),
            Latency::LogNormal { sigma, .. }
                if !(sigma.is_finite() && (0.0..=20.0).contains(&sigma)) =>
            {
                Err(format!(
                    "log-normal sigma must be a number from 0 to 20, got {sigma}"
                ))
            }
            Latency::Pareto { shape, .. } if !(shape.is_finite() && shape > 0.0) => Err(format!(
                "Pareto shape must be a finite number > 0, got {shape}"
            )),
            _ => Ok(()),
        }
    }

    /// Draws one latency in nanoseconds.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        let ns = match *self {
            Latency::Constant(d) => d,
            Latency::Uniform(min, max) => uniform_u64(rng, min, max),
            Latency::Normal { mean, std_dev } => {
                let x = mean as f64 + std_dev as f64 * standard_normal(rng);
                to_ns(x)
            }
            Latency::Exponential { mean } => to_ns(-(mean as f64) * libm::log(open_unit_f64(rng))),
            Latency::LogNormal { median, sigma } => {
                to_ns(median as f64 * libm::exp(sigma * standard_normal(rng)))
            }
            Latency::Pareto { scale, shape } => {
                to_ns(scale as f64 / libm::pow(open_unit_f64(rng), 1.0 / shape))
            }
        };
        ns.min(LATENCY_CAP)
    }

    /// The distribution's mean in nanoseconds, where it is finite (for reports and tests).
    pub fn mean(&self) -> Option<f64> {
        match *self {
            Latency::Constant(d) => Some(d as f64),
            Latency::Uniform(min, max) => Some((min as f64 + max as f64) / 2.0),
            Latency::Normal { mean, .. } => Some(mean as f64),
            Latency::Exponential { mean } => Some(mean as f64),
            Latency::LogNormal { median, sigma } => {
                Some(median as f64 * libm::exp(sigma * sigma / 2.0))
            }
            Latency::Pareto { scale, shape } => {
                (shape > 1.0).then(|| scale as f64 * shape / (shape - 1.0))
            }
        }
    }

    /// The distribution's quantile function at `q` in (0, 1), where it has a closed form
    /// (everything but Normal and LogNormal, which need the inverse error function).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        match *self {
            Latency::Constant(d) => Some(d as f64),
            Latency::Uniform(min, max) => Some(min as f64 + q * (max as f64 - min as f64)),
            Latency::Exponential { mean } => Some(-(mean as f64) * libm::log(1.0 - q)),
            Latency::Pareto { scale, shape } => {
                Some(scale as f64 / libm::pow(1.0 - q, 1.0 / shape))
            }
            Latency::Normal { .. } | Latency::LogNormal { .. } => None,
        }
    }
}

/// A standard normal draw by the Box–Muller transform (two uniforms, one normal).
fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1 = open_unit_f64(rng);
    let u2 = unit_f64(rng);
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
}

/// Rounds a float latency to nanoseconds: negative becomes 0, huge saturates.
fn to_ns(x: f64) -> u64 {
    if x <= 0.0 || x.is_nan() {
        0
    } else {
        libm::round(x) as u64
    }
}

/// `1.5ms`-style rendering of nanoseconds.
pub fn fmt_ns(ns: u64) -> String {
    format!("{:?}", Duration::from_nanos(ns))
}

impl fmt::Debug for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Latency::Constant(d) => write!(f, "Constant({})", fmt_ns(d)),
            Latency::Uniform(min, max) => write!(f, "Uniform({}, {})", fmt_ns(min), fmt_ns(max)),
            Latency::Normal { mean, std_dev } => {
                write!(
                    f,
                    "Normal(mean: {}, std_dev: {})",
                    fmt_ns(mean),
                    fmt_ns(std_dev)
                )
            }
            Latency::Exponential { mean } => write!(f, "Exponential(mean: {})", fmt_ns(mean)),
            Latency::LogNormal { median, sigma } => {
                write!(f, "LogNormal(median: {}, sigma: {sigma})", fmt_ns(median))
            }
            Latency::Pareto { scale, shape } => {
                write!(f, "Pareto(scale: {}, shape: {shape})", fmt_ns(scale))
            }
        }
    }
}
