//! Latency distributions: sample means and quantiles against the closed forms, and parameter
//! validation.
//!
//! Each distribution is sampled 200 000 times from its own seeded stream, so every run draws
//! the same numbers; the tolerances are still set from the sampling error (several standard
//! errors), so a correct sampler passes for any seed and a wrong one (a wrong parameter, a
//! missing factor, a swapped min/max) fails by far more than the tolerance.

use sim::Latency;
use sim::network::LinkParams;
use sim::rng::{Purpose, stream};

const N: usize = 200_000;

/// Standard normal quantiles z(q) for q = 0.5, 0.9, 0.99.
const Z: [(f64, f64); 3] = [(0.5, 0.0), (0.9, 1.281_551_565_5), (0.99, 2.326_347_874_0)];

/// Sorted samples of a distribution.
fn samples(lat: Latency, label: u64) -> Vec<f64> {
    let mut rng = stream(2024, Purpose::Other(label));
    let mut v: Vec<f64> = (0..N).map(|_| lat.sample(&mut rng) as f64).collect();
    v.sort_by(f64::total_cmp);
    v
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Nearest-rank empirical quantile of sorted samples.
fn quantile(v: &[f64], q: f64) -> f64 {
    v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
}

/// Asserts `|got - want| <= tol`, naming what was measured.
fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:.1}, want {want:.1} ± {tol:.1}"
    );
}

#[test]
fn constant_is_exact() {
    let lat = Latency::Constant(3_000_000);
    let v = samples(lat, 1);
    assert!(v.iter().all(|&x| x == 3e6));
    assert_eq!(lat.mean(), Some(3e6));
    assert_eq!(lat.quantile(0.99), Some(3e6));
}

#[test]
fn uniform_mean_and_quantiles() {
    let (min, max) = (1_000_000u64, 10_000_000u64);
    let lat = Latency::Uniform(min, max);
    let v = samples(lat, 2);
    let range = (max - min) as f64;
    // The standard error of the mean is range/sqrt(12 N) ≈ 0.07% of the range: allow 0.5%.
    close("uniform mean", mean(&v), lat.mean().unwrap(), 0.005 * range);
    // A quantile's standard error is at most range·sqrt(0.25/N) ≈ 0.11% of the range:
    // allow 1% of the range.
    for q in [0.1, 0.5, 0.9, 0.99] {
        let want = lat.quantile(q).unwrap();
        close(
            &format!("uniform q{q}"),
            quantile(&v, q),
            want,
            0.01 * range,
        );
    }
    assert!(v[0] >= min as f64 && v[N - 1] <= max as f64, "out of range");
}

#[test]
fn normal_mean_and_quantiles() {
    let (m, sd) = (10_000_000f64, 1_000_000f64);
    let lat = Latency::Normal {
        mean: m as u64,
        std_dev: sd as u64,
    };
    let v = samples(lat, 3);
    // Standard error of the mean: sd/sqrt(N) ≈ 0.0022·sd; allow 2% of sd (9 SE).
    close("normal mean", mean(&v), lat.mean().unwrap(), 0.02 * sd);
    // The q = 0.99 quantile has the largest standard error, ≈ 0.0083·sd; allow 5% of sd.
    for (q, z) in Z {
        close(
            &format!("normal q{q}"),
            quantile(&v, q),
            m + z * sd,
            0.05 * sd,
        );
    }
    // The lower tail is symmetric: q0.1 = mean - z(0.9)·sd.
    close("normal q0.1", quantile(&v, 0.1), m - Z[1].1 * sd, 0.05 * sd);
}

#[test]
fn exponential_mean_and_quantiles() {
    let m = 5_000_000f64;
    let lat = Latency::Exponential { mean: m as u64 };
    let v = samples(lat, 4);
    // Standard error of the mean: mean/sqrt(N) ≈ 0.22%; allow 2% of the mean.
    close("exponential mean", mean(&v), m, 0.02 * m);
    // Relative standard error of the q0.99 quantile ≈ 0.5%; allow 3% of the expected value.
    for q in [0.5, 0.9, 0.99] {
        let want = lat.quantile(q).unwrap();
        close(
            &format!("exponential q{q}"),
            quantile(&v, q),
            want,
            0.03 * want,
        );
    }
}

#[test]
fn log_normal_mean_and_quantiles() {
    let (median, sigma) = (5_000_000f64, 0.5);
    let lat = Latency::LogNormal {
        median: median as u64,
        sigma,
    };
    let v = samples(lat, 5);
    let want_mean = median * (sigma * sigma / 2.0).exp();
    assert!((lat.mean().unwrap() - want_mean).abs() < 1.0);
    // The standard deviation is mean·sqrt(e^σ² − 1) ≈ 0.53·mean, so the standard error of the
    // mean is ≈ 0.12%: allow 2% of the mean.
    close("log-normal mean", mean(&v), want_mean, 0.02 * want_mean);
    // In log space the q0.99 quantile's standard error is ≈ 0.4% of the value: allow 3%.
    for (q, z) in Z {
        let want = median * (sigma * z).exp();
        close(
            &format!("log-normal q{q}"),
            quantile(&v, q),
            want,
            0.03 * want,
        );
    }
    assert_eq!(lat.quantile(0.5), None, "no closed form is claimed");
}

#[test]
fn pareto_mean_and_quantiles() {
    let (scale, shape) = (1_000_000f64, 3.0);
    let lat = Latency::Pareto {
        scale: scale as u64,
        shape,
    };
    let v = samples(lat, 6);
    // Mean 1.5 ms, standard deviation 0.87 ms, standard error ≈ 0.13%: allow 2% of the mean.
    close("pareto mean", mean(&v), 1.5 * scale, 0.02 * 1.5 * scale);
    assert_eq!(lat.mean(), Some(1.5 * scale));
    // log(X/scale) is exponential with mean 1/shape, so the q0.99 quantile's relative standard
    // error is ≈ 0.75%: allow 3%.
    for q in [0.5, 0.9, 0.99] {
        let want = lat.quantile(q).unwrap();
        close(&format!("pareto q{q}"), quantile(&v, q), want, 0.03 * want);
    }
    assert!(v[0] >= scale, "Pareto never goes below its scale");
    // The mean is finite only for shape > 1.
    let heavy = Latency::Pareto {
        scale: 1_000_000,
        shape: 1.0,
    };
    assert_eq!(heavy.mean(), None);
    let hv = samples(
        Latency::Pareto {
            scale: 1_000_000,
            shape: 1.5,
        },
        7,
    );
    // The median of Pareto(1 ms, 1.5) is 2^(1/1.5) ms ≈ 1.587 ms; allow 3%.
    let want = 1e6 * 2f64.powf(1.0 / 1.5);
    close("heavy pareto median", quantile(&hv, 0.5), want, 0.03 * want);
    assert!(
        hv[N - 1] <= sim::latency::LATENCY_CAP as f64,
        "samples are capped"
    );
}

#[test]
fn validate_rejects_bad_parameters() {
    let bad = [
        Latency::Uniform(5, 4),
        Latency::LogNormal {
            median: 1,
            sigma: -0.1,
        },
        Latency::LogNormal {
            median: 1,
            sigma: f64::NAN,
        },
        Latency::LogNormal {
            median: 1,
            sigma: f64::INFINITY,
        },
        Latency::Pareto {
            scale: 1,
            shape: 0.0,
        },
        Latency::Pareto {
            scale: 1,
            shape: -2.0,
        },
        Latency::Pareto {
            scale: 1,
            shape: f64::NAN,
        },
    ];
    for lat in bad {
        assert!(lat.validate().is_err(), "{lat:?} should be rejected");
    }
    let good = [
        Latency::Constant(0),
        Latency::Uniform(4, 4),
        Latency::Normal {
            mean: 1,
            std_dev: 0,
        },
        Latency::Exponential { mean: 1 },
        Latency::LogNormal {
            median: 1,
            sigma: 0.0,
        },
        Latency::Pareto {
            scale: 1,
            shape: 0.5,
        },
    ];
    for lat in good {
        assert_eq!(lat.validate(), Ok(()), "{lat:?} should be accepted");
    }
    for (loss, duplicate, reorder) in [(1.5, 0.0, 0.0), (0.0, -0.1, 0.0), (0.0, 0.0, f64::NAN)] {
        let p = LinkParams {
            loss,
            duplicate,
            reorder,
            ..LinkParams::default()
        };
        assert!(p.validate().is_err(), "{p:?} should be rejected");
    }
    let bad_latency = LinkParams {
        latency: Latency::Uniform(2, 1),
        ..LinkParams::default()
    };
    assert!(bad_latency.validate().is_err());
}
