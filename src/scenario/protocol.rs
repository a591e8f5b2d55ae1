//! The `protocol:` and `workload:` sections: a family from the registry and its sections.
//!
//! `protocol: Raft((pre_vote: true))` names a family; its configuration is read by the family's
//! own type (`DynFamily::deserialize_config`) from the same `ron` deserializer, so an unknown or
//! mistyped field is reported at its line and column like any other. The workload is read the
//! same way in the second pass, once the family is known (see `validate.rs`).

use super::validate::{Identifier, did_you_mean, facts, second_family};
use protocols::checks::{Check, Checks};
use protocols::family::{AnyConfig, DynFamily};
use serde::de::{self, DeserializeSeed, EnumAccess, IgnoredAny, VariantAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

/// `protocol:` — the family and its configuration.
#[derive(Clone)]
pub struct ProtocolSpec {
    /// The family, from the registry the scenario was read with.
    pub family: Arc<dyn DynFamily>,
    /// Its configuration (the family's `Config` type).
    pub config: Box<dyn AnyConfig>,
}

impl ProtocolSpec {
    /// A family with its default configuration.
    pub fn default_of(family: Arc<dyn DynFamily>) -> ProtocolSpec {
        ProtocolSpec {
            config: family.default_config(),
            family,
        }
    }

    /// The family's name as scenarios spell it.
    pub fn name(&self) -> &'static str {
        self.family.name()
    }

    /// The configuration as its concrete type, if it is a `T`.
    pub fn config_as<T: 'static>(&self) -> Option<&T> {
        self.config.as_any().downcast_ref()
    }

    /// The configuration as its concrete type, writable, if it is a `T`.
    pub fn config_as_mut<T: 'static>(&mut self) -> Option<&mut T> {
        self.config.as_any_mut().downcast_mut()
    }

    /// The checks used when a scenario lists none: every offered invariant without a deadline.
    pub fn default_checks(&self) -> Checks {
        self.family
            .invariants()
            .into_iter()
            .filter(|i| !i.deadline)
            .map(|i| Check::of(i.invariant))
            .collect()
    }
}

impl fmt::Debug for ProtocolSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({:?})", self.name(), self.config)
    }
}

impl Serialize for ProtocolSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_variant("Protocol", 0, self.name(), &*self.config)
    }
}

/// Reads a family's section through the family.
struct SectionSeed {
    family: Arc<dyn DynFamily>,
    workload: bool,
}

impl<'de> DeserializeSeed<'de> for SectionSeed {
    type Value = Box<dyn AnyConfig>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let mut erased = <dyn erased_serde::Deserializer>::erase(d);
        let read = if self.workload {
            self.family.deserialize_workload(&mut erased)
        } else {
            self.family.deserialize_config(&mut erased)
        };
        read.map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for ProtocolSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let registry = facts()
            .map(|f| f.registry)
            .ok_or_else(|| de::Error::custom("scenarios are read with scenario::parse"))?;
        struct V(protocols::family::Registry);
        impl<'de> Visitor<'de> for V {
            type Value = ProtocolSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a protocol: {}", self.0.names().join(", "))
            }
            fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<ProtocolSpec, A::Error> {
                let (name, variant) = data.variant_seed(Identifier)?;
                let Some(family) = self.0.get(&name).cloned() else {
                    let names = self.0.names();
                    return Err(de::Error::custom(format!(
                        "unknown protocol {name}{}; this program knows: {}",
                        did_you_mean(&name, names.iter().copied()),
                        names.join(", ")
                    )));
                };
                let config = variant.newtype_variant_seed(SectionSeed {
                    family: family.clone(),
                    workload: false,
                })?;
                Ok(ProtocolSpec { family, config })
            }
        }
        d.deserialize_enum("Protocol", &[], V(registry))
    }
}

/// `workload:` — the clients.
#[derive(Clone, Debug, Default)]
pub enum WorkloadSpec {
    /// The family's default clients (what an omitted `workload` means).
    #[default]
    Default,
    /// No clients at all.
    Idle,
    /// The family's workload, configured: `Kv((clients: 8))`.
    Clients {
        /// The workload's name (`Kv`).
        name: &'static str,
        /// Its configuration (the family's `Workload` type).
        config: Box<dyn AnyConfig>,
    },
}

impl WorkloadSpec {
    /// The configuration a run of `family` uses.
    pub fn resolve(&self, family: &dyn DynFamily) -> Box<dyn AnyConfig> {
        match self {
            WorkloadSpec::Default => family.default_workload(),
            WorkloadSpec::Idle => family.idle_workload(),
            WorkloadSpec::Clients { config, .. } => config.clone(),
        }
    }

    /// The configuration as its concrete type, if configured explicitly and a `T`.
    pub fn config_as<T: 'static>(&self) -> Option<&T> {
        match self {
            WorkloadSpec::Clients { config, .. } => config.as_any().downcast_ref(),
            _ => None,
        }
    }
}

impl Serialize for WorkloadSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            WorkloadSpec::Default => s.serialize_unit_variant("Workload", 0, "Default"),
            WorkloadSpec::Idle => s.serialize_unit_variant("Workload", 1, "Idle"),
            WorkloadSpec::Clients { name, config } => {
                s.serialize_newtype_variant("Workload", 2, name, &**config)
            }
        }
    }
}

impl<'de> Deserialize<'de> for WorkloadSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The first pass does not know the family yet (`workload:` may come first).
        let Some(family) = second_family() else {
            IgnoredAny::deserialize(d)?;
            return Ok(WorkloadSpec::Default);
        };
        struct V(Arc<dyn DynFamily>);
        impl<'de> Visitor<'de> for V {
            type Value = WorkloadSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "a workload: {}((...)), Idle or Default",
                    self.0.workload_name()
                )
            }
            fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<WorkloadSpec, A::Error> {
                let (name, variant) = data.variant_seed(Identifier)?;
                let takes = self.0.workload_name();
                match name.as_str() {
                    "Default" => variant.unit_variant().map(|()| WorkloadSpec::Default),
                    "Idle" => variant.unit_variant().map(|()| WorkloadSpec::Idle),
                    n if n == takes => {
                        let config = variant.newtype_variant_seed(SectionSeed {
                            family: self.0.clone(),
                            workload: true,
                        })?;
                        Ok(WorkloadSpec::Clients {
                            name: takes,
                            config,
                        })
                    }
                    other => Err(de::Error::custom(format!(
                        "the {} protocol takes a workload of {takes}((...)) (or Idle, or none for \
                         its default), not {other}{}",
                        self.0.name(),
                        did_you_mean(other, [takes, "Idle", "Default"])
                    ))),
                }
            }
        }
        d.deserialize_enum("Workload", &[], V(family))
    }
}
