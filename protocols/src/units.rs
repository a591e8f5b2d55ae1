//! Units in scenario files: durations written as strings with units ("150ms", "2s").
//!
//! Declared in the engine ([`sim::units`]), whose faults and latencies use them too; re-exported
//! here for protocol configurations.

pub use sim::units::{Dur, SignedDur, parse_duration};
