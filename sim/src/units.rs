//! Durations as people write them in scenario files: strings with units ("150ms", "2s").
//!
//! [`Dur`] wraps `std::time::Duration` and (de)serializes through `humantime`, so a field of
//! type `Dur` accepts `"150ms"`, `"1s 500ms"`, `"2m"` and rejects `"150"`, `"-1s"` or `"fast"`
//! with a message saying what was expected. [`SignedDur`] also accepts a leading minus (clock
//! jumps go backwards). The [`ns`] module lets an engine type keep whole nanoseconds in a `u64`
//! and still read and write them as such strings (`#[serde(with = "sim::units::ns")]`).
//!
//! These live in the engine because the engine's own vocabulary (faults, latency
//! distributions) is what scenario files spell out, declared once.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// A duration written with units in scenario files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dur(pub Duration);

impl Dur {
    /// Milliseconds.
    pub const fn ms(ms: u64) -> Dur {
        Dur(Duration::from_millis(ms))
    }

    /// Seconds.
    pub const fn secs(s: u64) -> Dur {
        Dur(Duration::from_secs(s))
    }

    /// Whole nanoseconds.
    pub const fn from_nanos(ns: u64) -> Dur {
        Dur(Duration::from_nanos(ns))
    }

    /// Whole nanoseconds (saturating at about 584 years).
    pub fn nanos(self) -> u64 {
        crate::time::nanos(self.0)
    }
}

impl From<Dur> for Duration {
    fn from(d: Dur) -> Duration {
        d.0
    }
}

impl From<Duration> for Dur {
    fn from(d: Duration) -> Dur {
        Dur(d)
    }
}

/// Parses "150ms", "2s", "1m 30s"; the error says what was expected.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err(format!("a duration cannot be negative, got \"{s}\""));
    }
    humantime::parse_duration(t).map_err(|e| {
        format!(
            "expected a duration with units such as \"150ms\", \"2s\" or \"1m 30s\", got \"{s}\" ({e})"
        )
    })
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// The error for a bare number where a duration string belongs.
fn bare_number<E: serde::de::Error>(n: impl fmt::Display) -> E {
    E::custom(format!(
        "expected a duration with units such as \"150ms\" or \"2s\", got the bare number {n}: \
         write it as a string with a unit"
    ))
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Dur, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string with units, such as \"150ms\" or \"2s\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Dur, E> {
                parse_duration(v).map(Dur).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Dur, E> {
                Err(bare_number(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Dur, E> {
                Err(bare_number(v))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Dur, E> {
                Err(bare_number(v))
            }
        }
        // `any`, not `str`: a bare number then gets a message saying what to write instead.
        d.deserialize_any(V)
    }
}

/// A signed duration in nanoseconds, for clock jumps: "-2s" jumps back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SignedDur(pub i64);

impl fmt::Display for SignedDur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}{}", Dur::from_nanos(self.0.unsigned_abs()))
    }
}

impl Serialize for SignedDur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for SignedDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = SignedDur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string with units, such as \"-2s\" or \"500ms\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<SignedDur, E> {
                Err(bare_number(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<SignedDur, E> {
                Err(bare_number(v))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<SignedDur, E> {
                Err(bare_number(v))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<SignedDur, E> {
                let (neg, body) = match s.trim().strip_prefix('-') {
                    Some(rest) => (true, rest),
                    None => (false, s.trim()),
                };
                let dur = parse_duration(body).map_err(E::custom)?;
                let ns = i64::try_from(dur.as_nanos()).map_err(|_| {
                    E::custom(format!("{s} is too large: at most about ±292 years"))
                })?;
                Ok(SignedDur(if neg { -ns } else { ns }))
            }
        }
        d.deserialize_any(V)
    }
}

/// A size in bytes written with units in scenario files: `"512MiB"`, `"2GiB"`, `"1.5GB"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub u64);

/// Parses "512MiB", "2GiB", "1.5GB", "4096B"; the error says what was expected.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let unit_bytes: u64 = match unit.trim() {
        "B" => 1,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => {
            return Err(format!(
                "expected a size with units such as \"512MiB\" or \"2GiB\" (B, KB, MB, GB, KiB, MiB, GiB), got \"{s}\""
            ));
        }
    };
    let n: f64 = number
        .parse()
        .map_err(|_| format!("expected a size such as \"2GiB\", got \"{s}\""))?;
    let bytes = n * unit_bytes as f64;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("{s} is not a usable size"));
    }
    Ok(bytes as u64)
}

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(1 << 30) {
            write!(f, "{}GiB", self.0 >> 30)
        } else if self.0.is_multiple_of(1 << 20) {
            write!(f, "{}MiB", self.0 >> 20)
        } else {
            write!(f, "{}B", self.0)
        }
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_bytes(&s).map(Bytes).map_err(serde::de::Error::custom)
    }
}

/// Serde for a `u64` of nanoseconds written as a duration string (`#[serde(with = "...")]`).
pub mod ns {
    use super::Dur;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes nanoseconds as a duration string.
    pub fn serialize<S: Serializer>(ns: &u64, s: S) -> Result<S::Ok, S::Error> {
        Dur::from_nanos(*ns).serialize(s)
    }

    /// Reads a duration string as nanoseconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        Dur::deserialize(d).map(Dur::nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_rejects_garbage() {
        assert_eq!(parse_duration("150ms").unwrap(), Duration::from_millis(150));
        assert_eq!(
            parse_duration("1s 500ms").unwrap(),
            Duration::from_millis(1500)
        );
        assert!(
            parse_duration("150")
                .unwrap_err()
                .contains("expected a duration")
        );
        assert!(parse_duration("-1s").unwrap_err().contains("negative"));
        assert!(parse_duration("fast").is_err());
        assert_eq!(Dur::ms(1500).to_string(), "1s 500ms");
        assert_eq!(SignedDur(-2_000_000_000).to_string(), "-2s");
        assert_eq!(parse_bytes("2GiB"), Ok(2 << 30));
        assert_eq!(parse_bytes("1.5GB"), Ok(1_500_000_000));
        assert!(parse_bytes("2").unwrap_err().contains("units"));
        assert!(parse_bytes("0MiB").is_err());
        assert_eq!(Bytes(512 << 20).to_string(), "512MiB");
    }
}
