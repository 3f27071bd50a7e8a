//! The `path` table of a config: which Gaussian path / noise schedule, with its parameters.
//!
//! | kind | keys (defaults) |
//! |---|---|
//! | `vp` | `beta_min = 0.1`, `beta_max = 20.0` |
//! | `vp-cosine` | `s = 0.008` |
//! | `sub-vp` | `beta_min = 0.1`, `beta_max = 20.0` |
//! | `ve` | `sigma_min = 0.01`, `sigma_max = 10.0` |
//! | `cond-linear` | — (α = 1 − t, σ = t) |
//! | `cond-sqrt` | — (α = 1 − t, σ = √t; seed 004) |

use super::{CondPath, GaussianPath, SubVp, VeGeometric, VpCosine, VpLinear};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A path's config; see the [module docs](self).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PathConfig {
    Vp {
        #[serde(default = "beta_min")]
        beta_min: f64,
        #[serde(default = "beta_max")]
        beta_max: f64,
    },
    VpCosine {
        #[serde(default = "cosine_s")]
        s: f64,
    },
    SubVp {
        #[serde(default = "beta_min")]
        beta_min: f64,
        #[serde(default = "beta_max")]
        beta_max: f64,
    },
    Ve {
        #[serde(default = "sigma_min")]
        sigma_min: f64,
        #[serde(default = "sigma_max")]
        sigma_max: f64,
    },
    CondLinear {},
    CondSqrt {},
}

fn beta_min() -> f64 {
    0.1
}
fn beta_max() -> f64 {
    20.0
}
fn cosine_s() -> f64 {
    0.008
}
fn sigma_min() -> f64 {
    0.01
}
fn sigma_max() -> f64 {
    10.0
}

impl Default for PathConfig {
    fn default() -> Self {
        PathConfig::Vp {
            beta_min: beta_min(),
            beta_max: beta_max(),
        }
    }
}

impl PathConfig {
    /// Checks the values; errors name `<prefix>.<key>` (e.g. `model.path.beta_max`).
    pub fn validate(&self, prefix: &str) -> Result<()> {
        let key = |k: &str| format!("{prefix}.{k}");
        match *self {
            PathConfig::Vp { beta_min, beta_max } | PathConfig::SubVp { beta_min, beta_max } => {
                if !(beta_min > 0.0 && beta_min.is_finite()) {
                    return Err(Error::invalid(
                        key("beta_min"),
                        beta_min,
                        "must be finite and > 0",
                    ));
                }
                if !(beta_max > beta_min && beta_max.is_finite()) {
                    return Err(Error::invalid(
                        key("beta_max"),
                        beta_max,
                        format!("must be finite and > beta_min = {beta_min}"),
                    ));
                }
            }
            PathConfig::VpCosine { s } => {
                if !(s > 0.0 && s < 1.0) {
                    return Err(Error::invalid(key("s"), s, "must be in (0, 1)"));
                }
            }
            PathConfig::Ve {
                sigma_min,
                sigma_max,
            } => {
                if !(sigma_min > 0.0 && sigma_min.is_finite()) {
                    return Err(Error::invalid(
                        key("sigma_min"),
                        sigma_min,
                        "must be finite and > 0",
                    ));
                }
                if !(sigma_max > sigma_min && sigma_max.is_finite()) {
                    return Err(Error::invalid(
                        key("sigma_max"),
                        sigma_max,
                        format!("must be finite and > sigma_min = {sigma_min}"),
                    ));
                }
            }
            PathConfig::CondLinear {} | PathConfig::CondSqrt {} => {}
        }
        Ok(())
    }

    /// The path (validated first).
    pub fn build(&self) -> Result<Arc<dyn GaussianPath>> {
        self.validate("path")?;
        Ok(match *self {
            PathConfig::Vp { beta_min, beta_max } => Arc::new(VpLinear::new(beta_min, beta_max)),
            PathConfig::VpCosine { s } => Arc::new(VpCosine { s }),
            PathConfig::SubVp { beta_min, beta_max } => Arc::new(SubVp::new(beta_min, beta_max)),
            PathConfig::Ve {
                sigma_min,
                sigma_max,
            } => Arc::new(VeGeometric::new(sigma_min, sigma_max)),
            PathConfig::CondLinear {} => Arc::new(CondPath::linear()),
            PathConfig::CondSqrt {} => Arc::new(CondPath::sqrt()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_validate_build() {
        let c: PathConfig = toml::from_str("kind = \"ve\"\nsigma_max = 5.0").unwrap();
        assert_eq!(
            c,
            PathConfig::Ve {
                sigma_min: 0.01,
                sigma_max: 5.0
            }
        );
        assert!((c.build().unwrap().prior_std() - 5.0).abs() < 1e-12);
        let e = toml::from_str::<PathConfig>("kind = \"vp\"\nbeta_mx = 3.0")
            .unwrap_err()
            .to_string();
        assert!(e.contains("beta_mx"), "{e}");
        let e = toml::from_str::<PathConfig>("kind = \"edm\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("edm"), "{e}");
        let bad = PathConfig::Vp {
            beta_min: 5.0,
            beta_max: 1.0,
        };
        let e = bad.validate("model.path").unwrap_err().to_string();
        assert!(
            e.contains("model.path.beta_max") && e.contains("beta_min"),
            "{e}"
        );
        let bad = PathConfig::Ve {
            sigma_min: 1.0,
            sigma_max: 0.5,
        };
        assert!(bad
            .validate("p")
            .unwrap_err()
            .to_string()
            .contains("p.sigma_max"));
    }
}
