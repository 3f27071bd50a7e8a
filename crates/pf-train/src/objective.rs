//! The objective seam: what one `[model.loss]` kind is to the rest of pflow.
//!
//! An objective is one serde config type (unknown keys rejected, defaults filled) implementing
//! [`Objective`]: it checks its own values against the model it trains (key names as written:
//! `model[0].loss.t_eps`), and builds the batch loss. What the trained net then provides
//! (score, velocity, DDPM noise — [`FieldKind`]) is declared once, where the objective is
//! registered ([`Registry::register`]); samplers are matched against that, never against names.

use crate::predictor::{Loss, Predictor};
use crate::{Error, Result};
use pf_core::field::FieldKind;
use pf_core::param::Param;
use pf_core::path::{DdpmSchedule, GaussianPath};
use pf_core::registry::{deserialize, Methods};
use pf_core::target::Target;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::{Arc, OnceLock};
use tch::{Device, Tensor};

/// One training objective, configured.
pub trait Objective: Send + Sync + std::fmt::Debug {
    /// Checks the values against the model: `key` is the model's (`model[0]`), `param` what its
    /// net predicts, `dim` the target's dimension.
    fn check(&self, key: &str, param: Param, dim: usize) -> Result<()>;
    /// Whether the trained net is read along the model's Gaussian path (`[model.path]`); false
    /// for objectives on other paths (the linear path from a source, DDPM's discrete chain).
    fn on_gaussian_path(&self) -> bool {
        true
    }
    /// DDPM's number of steps T, for discrete objectives.
    fn ddpm_steps(&self) -> Option<usize> {
        None
    }
    /// Whether the loss can be negative (a likelihood-style or implicit score-matching loss):
    /// the run's loss plot then uses a linear y axis instead of a log one. False by default:
    /// pflow's built-in losses are mean squared errors.
    fn signed_loss(&self) -> bool {
        false
    }
    /// The loss for the model's path, on `device`.
    fn build(&self, path: Arc<dyn GaussianPath>, device: Device) -> Result<Box<dyn BatchLoss>>;
}

/// A built objective: the loss of one minibatch of data, and what sampling needs from it.
pub trait BatchLoss {
    /// The loss of `model` on the data minibatch `x0` [B, D].
    fn loss(&self, model: &Predictor, x0: &Tensor) -> Loss;
    /// The discrete schedule of a DDPM objective.
    fn ddpm(&self) -> Option<&DdpmSchedule> {
        None
    }
    /// The source distribution of a linear-path objective (where its flow starts).
    fn source(&self) -> Option<&dyn Target> {
        None
    }
}

/// `invalid <key>.param = "<p>": <objective> trains <what>` unless `param` is among `ok`.
pub fn want_param(
    key: &str,
    param: Param,
    ok: &[Param],
    objective: &str,
    what: &str,
) -> Result<()> {
    if !ok.contains(&param) {
        return Err(Error::Other(format!(
            "invalid {key}.param = {:?}: {objective} trains {what}",
            format!("{param:?}").to_lowercase()
        )));
    }
    Ok(())
}

/// `t_eps` in (0, 1).
pub fn t_eps_in_unit(key: &str, t_eps: f64) -> Result<()> {
    if !(t_eps > 0.0 && t_eps < 1.0) {
        return Err(Error::Other(format!(
            "invalid {key}.loss.t_eps = {t_eps}: must be in (0, 1)"
        )));
    }
    Ok(())
}

/// An objective that can be written back out and copied (every serde + Clone [`Objective`]).
pub trait ObjectiveObj: Objective {
    fn to_table(&self) -> toml::Table;
    fn clone_box(&self) -> Box<dyn ObjectiveObj>;
}

impl<T: Objective + Serialize + Clone + 'static> ObjectiveObj for T {
    fn to_table(&self) -> toml::Table {
        match toml::Value::try_from(self) {
            Ok(toml::Value::Table(t)) => t,
            _ => toml::Table::new(),
        }
    }
    fn clone_box(&self) -> Box<dyn ObjectiveObj> {
        Box::new(self.clone())
    }
}

/// Objective kinds → config types and the fields their trained nets provide (pf-core's
/// [`Methods`]).
#[derive(Default)]
pub struct Registry(Methods<dyn ObjectiveObj, &'static [FieldKind]>);

fn parse_as<T: Objective + Serialize + DeserializeOwned + Clone + 'static>(
    m: toml::Table,
) -> std::result::Result<Box<dyn ObjectiveObj>, String> {
    deserialize::<T>(m).map(|o| Box::new(o) as Box<dyn ObjectiveObj>)
}

impl Registry {
    /// Every objective of pf-train.
    pub fn builtin() -> Self {
        use FieldKind::*;
        let mut r = Self::default();
        r.register::<crate::dsm::DsmConfig>("dsm", &[Score])
            .register::<crate::ddpm::DdpmConfig>("ddpm", &[DdpmNoise])
            .register::<crate::csm::CsmConfig>("csm", &[Score])
            .register::<crate::flow_matching::FmConfig>("fm", &[Velocity])
            .register::<crate::flow_matching::FmLinearConfig>("fm-linear", &[Velocity]);
        r
    }

    /// Adds (or replaces) objective `kind`, configured by `T`, whose trained net provides
    /// `provides`.
    pub fn register<T: Objective + Serialize + DeserializeOwned + Clone + 'static>(
        &mut self,
        kind: &'static str,
        provides: &'static [FieldKind],
    ) -> &mut Self {
        self.0.insert(kind, provides, parse_as::<T>);
        self
    }

    /// The registered kinds, in registration order.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.0.names()
    }

    /// What a net trained with `kind` provides.
    pub fn provides(&self, kind: &str) -> &'static [FieldKind] {
        self.0.meta(kind).copied().unwrap_or(&[])
    }

    /// The kinds whose nets provide `field`.
    pub fn providers(&self, field: FieldKind) -> Vec<String> {
        self.0
            .iter()
            .filter(|(_, p)| p.contains(&field))
            .map(|(k, _)| k.to_string())
            .collect()
    }

    fn parse(
        &self,
        kind: &str,
        m: toml::Table,
    ) -> std::result::Result<Box<dyn ObjectiveObj>, String> {
        self.0.parse(kind, m)
    }
}

static INSTALLED: OnceLock<Registry> = OnceLock::new();

/// Makes `r` the registry configs are read with (once per process, before the first config).
pub fn install(r: Registry) -> std::result::Result<(), Registry> {
    INSTALLED.set(r)
}

/// The installed registry ([`Registry::builtin`] unless [`install`] was called first).
pub fn installed() -> &'static Registry {
    INSTALLED.get_or_init(Registry::builtin)
}

/// A `[model.loss]` table: its `kind` and the objective's config.
pub struct ObjectiveSpec {
    pub kind: String,
    pub objective: Box<dyn ObjectiveObj>,
}

impl ObjectiveSpec {
    /// What the trained net provides.
    pub fn provides(&self) -> &'static [FieldKind] {
        installed().provides(&self.kind)
    }
}

impl Clone for ObjectiveSpec {
    fn clone(&self) -> Self {
        Self {
            kind: self.kind.clone(),
            objective: self.objective.clone_box(),
        }
    }
}

impl std::fmt::Debug for ObjectiveSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectiveSpec")
            .field("kind", &self.kind)
            .field("objective", &self.objective)
            .finish()
    }
}

impl Serialize for ObjectiveSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = toml::Table::new();
        m.insert("kind".into(), self.kind.clone().into());
        m.extend(self.objective.to_table());
        m.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for ObjectiveSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut m = toml::Table::deserialize(d)?;
        let kind = match m.remove("kind") {
            Some(toml::Value::String(k)) => k,
            Some(v) => {
                return Err(D::Error::custom(format!(
                    "invalid type: {}, expected an objective name (a string) for key `kind`",
                    v.type_str()
                )))
            }
            None => return Err(D::Error::custom("missing field `kind`")),
        };
        let objective = installed()
            .parse(&kind, m)
            .map_err(|e| D::Error::custom(pf_core::keys::with_common_keys(e, "`kind`")))?;
        Ok(Self { kind, objective })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> std::result::Result<ObjectiveSpec, String> {
        toml::from_str::<ObjectiveSpec>(text).map_err(|e| e.message().to_string())
    }

    #[test]
    fn kinds_provide_typed_fields() {
        let r = Registry::builtin();
        assert_eq!(r.kinds(), ["dsm", "ddpm", "csm", "fm", "fm-linear"]);
        assert_eq!(r.providers(FieldKind::Score), ["dsm", "csm"]);
        assert_eq!(r.providers(FieldKind::Velocity), ["fm", "fm-linear"]);
        assert_eq!(r.providers(FieldKind::DdpmNoise), ["ddpm"]);
        assert!(r.provides("nope").is_empty());
    }

    /// A loss that can be negative says so; the built-in (squared-error) losses do not.
    #[test]
    fn signed_loss_defaults_to_false() {
        #[derive(Debug)]
        struct Signed;
        impl Objective for Signed {
            fn check(&self, _: &str, _: Param, _: usize) -> Result<()> {
                Ok(())
            }
            fn build(&self, _: Arc<dyn GaussianPath>, _: Device) -> Result<Box<dyn BatchLoss>> {
                unimplemented!()
            }
            fn signed_loss(&self) -> bool {
                true
            }
        }
        assert!(Signed.signed_loss());
        for text in [
            "kind = \"dsm\"",
            "kind = \"ddpm\"",
            "kind = \"csm\"",
            "kind = \"fm\"",
            "kind = \"fm-linear\"\nsource = { kind = \"funnel\" }",
        ] {
            assert!(!spec(text).unwrap().objective.signed_loss(), "{text}");
        }
    }

    #[test]
    fn unknown_kind_and_key_are_named() {
        let e = spec("kind = \"dms\"").unwrap_err();
        assert!(
            e.starts_with("unknown variant `dms`, expected one of `dsm`, `ddpm`"),
            "{e}"
        );
        let e = spec("kind = \"csm\"\nteps = 0.1").unwrap_err();
        assert!(
            e.contains("unknown field `teps`") && e.contains("`kind`, `t_eps`"),
            "{e}"
        );
    }

    #[test]
    fn checks_name_the_key_and_round_trip() {
        let s = spec("kind = \"ddpm\"\nbeta_1 = 0.5\nbeta_t = 0.1").unwrap();
        let e = s
            .objective
            .check("model[2]", Param::Eps, 2)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid model[2].loss.beta_1/beta_t = 0.5/0.1: need 0 < beta_1 < beta_t < 1"
        );
        let e = spec("kind = \"fm\"")
            .unwrap()
            .objective
            .check("model[0]", Param::Eps, 2)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "invalid model[0].param = \"eps\": fm trains velocity");
        assert_eq!(s.objective.ddpm_steps(), Some(1000));
        assert!(!s.objective.on_gaussian_path());
        let out = toml::to_string(&s).unwrap();
        assert_eq!(
            out,
            "kind = \"ddpm\"\nsteps = 1000\nbeta_1 = 0.5\nbeta_t = 0.1\n"
        );
        assert_eq!(toml::to_string(&spec(&out).unwrap()).unwrap(), out);
    }
}
