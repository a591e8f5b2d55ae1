//! The ranges of the generic scenario sections (name, duration, network, clocks, faults,
//! limits), checked once by `scenario::parse_with` after the file has been read. Family
//! sections check their own (`Family::check`, `WorkloadConfig::validate`) with the shared
//! helpers in `protocols::limits`. `docs/scenario-format.md` lists every range.
//!
//! Each check returns the key to point at (`network`, `faults`...) and the message.

use super::Scenario;
use super::spec::{FaultSpec, TargetSpec};
use protocols::limits::{self, MAX_DRIFT_PPM, MAX_DURATION, MAX_LIST};
use std::collections::BTreeMap;
use std::time::Duration;

/// Link overrides may name at most this many directed links in all.
pub const MAX_OVERRIDE_LINKS: u64 = 1_000_000;

/// The longest `name`, in characters.
pub const MAX_NAME: usize = 200;

/// A located error: the key to point at and what is wrong.
pub type Located = (&'static str, String);

/// Checks every generic section's ranges.
pub fn check(s: &Scenario) -> Result<(), Located> {
    name(&s.name).map_err(|m| ("name", m))?;
    if s.duration.0.is_zero() || s.duration.0 > MAX_DURATION {
        return Err((
            "duration",
            format!(
                "duration must be above zero and at most {} (got {})",
                protocols::units::Dur(MAX_DURATION),
                s.duration
            ),
        ));
    }
    network(s).map_err(|m| ("network", m))?;
    clocks(s).map_err(|m| ("clocks", m))?;
    faults(s).map_err(|m| ("faults", m))?;
    if s.limits.max_events == Some(0) {
        return Err((
            "limits",
            "limits.max_events must be at least 1 (leave it out for no limit)".into(),
        ));
    }
    if let Some(w) = s.limits.max_wall {
        limits::duration("limits.max_wall", w, Duration::from_millis(1))
            .map_err(|m| ("limits", format!("{m}; leave it out for no limit")))?;
    }
    Ok(())
}

/// A name prints in the seed banner: one line of text, so it cannot forge another line.
pub fn name(name: &str) -> Result<(), String> {
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(format!(
            "name must be one line of text without control characters (found {:?})",
            c
        ));
    }
    if name.chars().count() > MAX_NAME {
        return Err(format!("name is longer than {MAX_NAME} characters"));
    }
    Ok(())
}

fn network(s: &Scenario) -> Result<(), String> {
    let n = &s.network;
    if n.overrides.len() > MAX_LIST {
        return Err(format!(
            "{} link overrides; at most {MAX_LIST}",
            n.overrides.len()
        ));
    }
    let links: u64 = n
        .overrides
        .iter()
        .map(|o| (o.from.len() as u64).saturating_mul(o.to.len() as u64))
        .fold(0u64, u64::saturating_add);
    if links > MAX_OVERRIDE_LINKS {
        return Err(format!(
            "the link overrides name {links} links; at most {MAX_OVERRIDE_LINKS}"
        ));
    }
    Ok(())
}

fn clocks(s: &Scenario) -> Result<(), String> {
    let c = &s.clocks;
    limits::duration("clocks.max_offset", c.max_offset, Duration::ZERO)?;
    let mut seen = BTreeMap::new();
    for (i, node) in c.nodes.iter().enumerate() {
        if let Some(first) = seen.insert(node.node.0, i) {
            return Err(format!(
                "clocks.nodes[{i}] sets node {} again (clocks.nodes[{first}] already does)",
                node.node.0
            ));
        }
        if node.drift_ppm.abs() >= MAX_DRIFT_PPM {
            return Err(format!(
                "clocks.nodes[{i}]: drift_ppm must be between -999999 and 999999 (got {})",
                node.drift_ppm
            ));
        }
        if node.offset.0.unsigned_abs() > MAX_DURATION.as_nanos() as u64 {
            return Err(format!(
                "clocks.nodes[{i}]: offset must be at most {} either way",
                protocols::units::Dur(MAX_DURATION)
            ));
        }
    }
    Ok(())
}

/// Fixed node ids a target names (roles name none until they fire; a zone names its nodes).
fn fixed_ids(t: &TargetSpec, zones: &[sim::ZoneInfo]) -> Vec<u32> {
    match t {
        TargetSpec::Node(n) => vec![n.0],
        TargetSpec::Nodes(ns) => ns.iter().map(|n| n.0).collect(),
        TargetSpec::Range(a, b) => (a.0.min(b.0)..=a.0.max(b.0)).collect(),
        TargetSpec::Zone(name) => zones
            .iter()
            .find(|z| &z.name == name)
            .map(|z| z.nodes.clone().collect())
            .unwrap_or_default(),
        _ => vec![],
    }
}

fn faults(s: &Scenario) -> Result<(), String> {
    if s.faults.len() > MAX_LIST {
        return Err(format!(
            "{} faults listed; at most {MAX_LIST}",
            s.faults.len()
        ));
    }
    let zones = s.zones();
    for (i, f) in s.faults.iter().enumerate() {
        fault(&f.action, &zones).map_err(|m| format!("faults[{i}]: {m}"))?;
    }
    Ok(())
}

/// The checks of one fault beyond `sim::Fault::validate`, in a cluster with `zones`.
pub fn fault(f: &FaultSpec, zones: &[sim::ZoneInfo]) -> Result<(), String> {
    f.validate()?;
    for t in f.targets() {
        if let TargetSpec::Range(a, b) = t
            && a.0 > b.0
        {
            return Err(format!(
                "Range({}, {}) counts down: write the lower id first, Range({}, {})",
                a.0, b.0, b.0, a.0
            ));
        }
    }
    match f {
        FaultSpec::Partition(groups) => {
            let mut owner = BTreeMap::new();
            for (g, group) in groups.iter().enumerate() {
                for id in group.iter().flat_map(|t| fixed_ids(t, zones)) {
                    if let Some(other) = owner.insert(id, g).filter(|&o| o != g) {
                        return Err(format!(
                            "node {id} is in two partition groups ({other} and {g}): a node can be on one side only"
                        ));
                    }
                }
            }
        }
        FaultSpec::ClockJump { by, .. } if by.0.unsigned_abs() > MAX_DURATION.as_nanos() as u64 => {
            return Err(format!(
                "ClockJump moves a clock at most {} either way (got {by})",
                protocols::units::Dur(MAX_DURATION)
            ));
        }
        FaultSpec::SetDrift { ppm, .. } if ppm.abs() >= MAX_DRIFT_PPM => {
            return Err(format!(
                "SetDrift ppm must be between -999999 and 999999 (got {ppm})"
            ));
        }
        FaultSpec::DelaySpike { duration, .. } => {
            limits::duration("DelaySpike duration", *duration, Duration::ZERO)?;
        }
        FaultSpec::Slow { duration, .. } => {
            limits::duration("Slow duration", *duration, Duration::ZERO)?;
        }
        FaultSpec::Degrade { duration, .. } => {
            limits::duration("Degrade duration", *duration, Duration::ZERO)?;
        }
        _ => {}
    }
    Ok(())
}
