//! Where a Langevin-type sampler's score comes from, as configs name it (`score = "target"` or
//! `"autograd"`), and the score field it gives for a target.

use crate::Result;
use pf_core::field::{AutogradScore, ScoreField, TargetScore};
use pf_core::target::Target;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// The source of ∇ₓ log p(x) for a time-independent target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScoreSource {
    /// The target's closed-form score (autograd of its log-density where it has none).
    Target,
    /// Autograd of the target's log-density (seed 003).
    Autograd,
}

impl ScoreSource {
    /// The score field of `target` (time-independent: it ignores t). Errors, naming the target,
    /// when it has no score (`Target`) or no log-density (`Autograd`).
    pub fn field<'a>(self, target: &'a dyn Target) -> Result<Box<dyn ScoreField + 'a>> {
        let probe = Tensor::zeros([1, target.dim() as i64], (Kind::Float, Device::Cpu));
        let unsupported = |what: &str| pf_core::Error::Unsupported {
            name: target.name(),
            what: what.into(),
        };
        Ok(match self {
            ScoreSource::Target => {
                let _ = target.score(&probe).ok_or_else(|| {
                    unsupported("a score (use score = \"autograd\" or another sampler)")
                })?;
                Box::new(TargetScore(target))
            }
            ScoreSource::Autograd => {
                let _ = target
                    .log_prob(&probe)
                    .ok_or_else(|| unsupported("a log-density to differentiate"))?;
                Box::new(AutogradScore(move |x: &Tensor| {
                    target.log_prob(x).expect("checked")
                }))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pf_core::target::{DataFile, GaussianMixture};

    /// Both sources give the exact score of N(0, 1) (−x); a sample-only target is refused.
    #[test]
    fn both_sources_give_the_exact_score() {
        let g = GaussianMixture::new(vec![1.0], vec![vec![0.0]], vec![vec![1.0]]).unwrap();
        let x = Tensor::from_slice(&[-1.5f32, 0.0, 2.0]).view([3, 1]);
        let t = Tensor::zeros([1, 1], (Kind::Float, Device::Cpu));
        for s in [ScoreSource::Target, ScoreSource::Autograd] {
            let d = (s.field(&g).unwrap().score(&x, &t) + &x).abs().max();
            assert!(d.double_value(&[]) < 1e-6, "{s:?}");
        }
        let dir = std::env::temp_dir().join(format!("pf-score-source-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("d.csv");
        std::fs::write(&f, "0.0\n1.0\n").unwrap();
        let data = DataFile::load(&f).unwrap();
        for s in [ScoreSource::Target, ScoreSource::Autograd] {
            let e = s.field(&data).err().expect("no score").to_string();
            assert!(e.contains("is not available for"), "{e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
