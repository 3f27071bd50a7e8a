//! Learning-rate schedules: lr(k) = lr · w(k) · f(k) at step k = 0, 1, …, with an optional linear
//! warm-up w(k) = min(1, (k + 1)/warmup_steps) and the factor f:
//!
//! - `constant`: f = 1.
//! - `linear`: seed 001's `LinearLR`: f(k) = s + (e − s) · min(k, K)/K (s = start_factor,
//!   e = end_factor, K = total_steps, default the run's length).
//! - `cosine`: f(k) = m + (1 − m) · ½(1 + cos(π min(k, K)/K)) (m = min_factor).

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// The factor f(k) (config table `[train.lr_schedule]`, tagged by `kind`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum LrSchedule {
    #[default]
    Constant,
    Linear {
        #[serde(default = "one")]
        start_factor: f64,
        #[serde(default = "default_end_factor")]
        end_factor: f64,
        /// K; default: the run's total steps.
        #[serde(default)]
        total_steps: Option<usize>,
    },
    Cosine {
        #[serde(default)]
        min_factor: f64,
        #[serde(default)]
        total_steps: Option<usize>,
    },
}

fn one() -> f64 {
    1.0
}
fn default_end_factor() -> f64 {
    0.01
}

impl LrSchedule {
    /// Seed 001's `LinearLR(start_factor = 1, end_factor = 0.01)` over the whole run.
    pub fn seed_001() -> Self {
        LrSchedule::Linear {
            start_factor: 1.0,
            end_factor: 0.01,
            total_steps: None,
        }
    }

    /// f(k) for a run of `run_steps` steps.
    pub fn factor(&self, k: usize, run_steps: usize) -> f64 {
        let frac = |total: Option<usize>| {
            let total = total.unwrap_or(run_steps).max(1);
            k.min(total) as f64 / total as f64
        };
        match *self {
            LrSchedule::Constant => 1.0,
            LrSchedule::Linear {
                start_factor,
                end_factor,
                total_steps,
            } => start_factor + (end_factor - start_factor) * frac(total_steps),
            LrSchedule::Cosine {
                min_factor,
                total_steps,
            } => {
                min_factor
                    + (1.0 - min_factor)
                        * 0.5
                        * (1.0 + (std::f64::consts::PI * frac(total_steps)).cos())
            }
        }
    }

    /// Checks the factors; errors name `train.lr_schedule.*`.
    pub fn validate(&self) -> Result<()> {
        let pos = |key: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(Error::config(key, v, "must be finite and ≥ 0"))
            }
        };
        match *self {
            LrSchedule::Constant => Ok(()),
            LrSchedule::Linear {
                start_factor,
                end_factor,
                ..
            } => {
                pos("train.lr_schedule.start_factor", start_factor)?;
                pos("train.lr_schedule.end_factor", end_factor)
            }
            LrSchedule::Cosine { min_factor, .. } => {
                pos("train.lr_schedule.min_factor", min_factor)
            }
        }
    }
}

/// Warm-up factor min(1, (k + 1)/warmup) (1 when warmup = 0).
pub fn warmup_factor(k: usize, warmup: usize) -> f64 {
    if warmup == 0 {
        1.0
    } else {
        ((k + 1) as f64 / warmup as f64).min(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors() {
        let l = LrSchedule::seed_001();
        assert_eq!(l.factor(0, 100), 1.0);
        assert!((l.factor(50, 100) - 0.505).abs() < 1e-12);
        assert!((l.factor(100, 100) - 0.01).abs() < 1e-12);
        assert!((l.factor(500, 100) - 0.01).abs() < 1e-12);
        let c = LrSchedule::Cosine {
            min_factor: 0.1,
            total_steps: Some(10),
        };
        assert!((c.factor(0, 99) - 1.0).abs() < 1e-12);
        assert!((c.factor(5, 99) - 0.55).abs() < 1e-12);
        assert!((c.factor(10, 99) - 0.1).abs() < 1e-12);
        assert_eq!(warmup_factor(0, 4), 0.25);
        assert_eq!(warmup_factor(9, 4), 1.0);
    }
}
