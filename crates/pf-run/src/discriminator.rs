//! MonoFlow's density-ratio estimator for the `monoflow` sampler: pf-train's discriminator,
//! built from the sampler's `discriminator` (a pf-nets net config, `arch = "discriminator"`) and
//! `discriminator_train` tables. Defaults are seed 000's: an MLP [128, 128] with SiLU, no time
//! input, trained by k = 1 Adam step per iteration at lr 1e-3.

use pf_core::ratio::DensityRatio;
use pf_nets::{DiscriminatorConfig, NetConfig};
use pf_sample::sampler::RatioFactory;
use pf_sample::{Error, Result};
use pf_train::discriminator::{Discriminator, DiscriminatorTrainConfig};
use serde::Deserialize;
use tch::Device;

/// Builds pf-train's [`Discriminator`] for samplers that need a density ratio.
pub struct DiscriminatorFactory;

/// The net: the table's, or seed 000's default for dimension `dim`.
fn net(key: &str, v: Option<&toml::Value>, dim: usize) -> Result<NetConfig> {
    let Some(v) = v else {
        return Ok(NetConfig::Discriminator(DiscriminatorConfig::new(
            dim as i64,
        )));
    };
    let at = format!("{key}.discriminator");
    let n = NetConfig::deserialize(v.clone())
        .map_err(|e| Error::Other(format!("invalid {at}: {}", e.message())))?;
    n.validate().map_err(|e| rekey(e, &at, "model."))?;
    if !matches!(n, NetConfig::Discriminator(_)) || n.dim() as usize != dim {
        return Err(Error::Other(format!(
            "invalid {at}: needs arch = \"discriminator\" with dim = {dim}"
        )));
    }
    Ok(n)
}

/// The training options: the table's, or the defaults.
fn train(key: &str, v: Option<&toml::Value>) -> Result<DiscriminatorTrainConfig> {
    let at = format!("{key}.discriminator_train");
    let t = match v {
        Some(v) => DiscriminatorTrainConfig::deserialize(v.clone())
            .map_err(|e| Error::Other(format!("invalid {at}: {}", e.message())))?,
        None => toml::from_str("").expect("defaults"),
    };
    t.validate().map_err(|e| rekey(e, &at, "discriminator."))?;
    Ok(t)
}

fn rekey(e: impl std::fmt::Display, key: &str, root: &str) -> Error {
    let msg = e.to_string();
    Error::Other(match msg.strip_prefix("invalid ") {
        Some(rest) => format!("invalid {key}.{}", rest.strip_prefix(root).unwrap_or(rest)),
        None => format!("{key}: {msg}"),
    })
}

impl RatioFactory for DiscriminatorFactory {
    fn check(
        &self,
        key: &str,
        n: Option<&toml::Value>,
        t: Option<&toml::Value>,
        dim: usize,
    ) -> Result<()> {
        net(key, n, dim)?;
        train(key, t)?;
        Ok(())
    }
    fn build(
        &self,
        n: Option<&toml::Value>,
        t: Option<&toml::Value>,
        dim: usize,
        device: Device,
    ) -> Result<Box<dyn DensityRatio>> {
        let d = Discriminator::new(net("monoflow", n, dim)?, train("monoflow", t)?, device)
            .map_err(|e| Error::Other(format!("discriminator: {e}")))?;
        Ok(Box::new(d))
    }
}
