//! The `[target]` section of a run config ([`TargetConfig`]).

use super::{DataFile, Funnel, GaussianMixture, NealFunnel, Neck, Ring, SCurve, SwissRoll, Target};
use crate::field::FusedLangevin;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The `[target]` section of a run config: which target, with which parameters.
///
/// ```toml
/// [target]
/// kind = "ring"   # funnel | neal-funnel | 8gaussians | gmm1d | gmm | scurve | swiss-roll | ring | file
/// rx = 1.0        # every other key has a default, except gmm's and file's
/// ```
///
/// | kind | keys (defaults) |
/// |---|---|
/// | `funnel` | — (seed 001: z ~ N(0, 0.8²), x ~ N(0, (e^z/5)²)) |
/// | `neal-funnel` | `dim = 2` |
/// | `8gaussians` | `radius = 2.0`, `std = 0.2` |
/// | `gmm1d` | — (seed 002's mixture of three) |
/// | `gmm` | `weights`, `means`, `stds` (required; K, K × D, K × D numbers) |
/// | `scurve` | `noise = 0.1` |
/// | `swiss-roll` | `noise = 0.1` |
/// | `ring` | `rx = 2.5`, `ry = 2.5`, `cx = 0.0`, `cy = 0.0` |
/// | `file` | `path` (required; `.npy`, `.csv` or `.tsv`) |
///
/// Unknown kinds and unknown keys are rejected by serde with the offending name.
///
/// ```
/// use pf_core::target::{Target, TargetConfig};
/// let c: TargetConfig = toml::from_str("kind = \"neal-funnel\"\ndim = 4").unwrap();
/// let t = c.build().unwrap();
/// assert_eq!(t.dim(), 4);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TargetConfig {
    /// Seed 001's 2-D funnel ([`Funnel`]).
    Funnel {},
    /// Neal's funnel in `dim` ≥ 2 dimensions ([`NealFunnel`]).
    NealFunnel {
        #[serde(default = "default_neal_dim")]
        dim: usize,
    },
    /// Eight Gaussians of std `std` on a circle of radius `radius`.
    #[serde(rename = "8gaussians")]
    EightGaussians {
        #[serde(default = "default_radius")]
        radius: f64,
        #[serde(default = "default_std")]
        std: f64,
    },
    /// Seed 002's 1-D mixture of three Gaussians.
    Gmm1d {},
    /// A diagonal Gaussian mixture: `weights` (K values, normalised), `means` and `stds` (K × D).
    Gmm {
        weights: Vec<f64>,
        means: Vec<Vec<f64>>,
        stds: Vec<Vec<f64>>,
    },
    /// The 2-D S-curve ([`SCurve`]), noise std in output units.
    Scurve {
        #[serde(default = "default_noise")]
        noise: f64,
    },
    /// The 2-D Swiss roll ([`SwissRoll`]), noise std in output units.
    SwissRoll {
        #[serde(default = "default_noise")]
        noise: f64,
    },
    /// Seed 003's ring ([`Ring`]).
    Ring {
        #[serde(default = "default_ring_r")]
        rx: f64,
        #[serde(default = "default_ring_r")]
        ry: f64,
        #[serde(default)]
        cx: f64,
        #[serde(default)]
        cy: f64,
    },
    /// A data set read from `path` ([`DataFile`]).
    File { path: PathBuf },
}

fn default_neal_dim() -> usize {
    2
}
fn default_radius() -> f64 {
    2.0
}
fn default_std() -> f64 {
    0.2
}
fn default_noise() -> f64 {
    0.1
}
fn default_ring_r() -> f64 {
    2.5
}

impl Default for TargetConfig {
    /// Seed 001's funnel.
    fn default() -> Self {
        TargetConfig::Funnel {}
    }
}

/// `key` → `target.key` in [`Error::Invalid`].
fn prefixed(e: Error) -> Error {
    match e {
        Error::Invalid { key, value, msg } => Error::Invalid {
            key: format!("target.{key}"),
            value,
            msg,
        },
        e => e,
    }
}

fn positive(key: &str, v: f64) -> Result<()> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(
            format!("target.{key}"),
            v,
            "must be finite and > 0",
        ))
    }
}

fn non_negative(key: &str, v: f64) -> Result<()> {
    if v >= 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(
            format!("target.{key}"),
            v,
            "must be finite and ≥ 0",
        ))
    }
}

impl TargetConfig {
    /// The `kind` tag, e.g. `neal-funnel`.
    pub fn kind(&self) -> &'static str {
        match self {
            TargetConfig::Funnel {} => "funnel",
            TargetConfig::NealFunnel { .. } => "neal-funnel",
            TargetConfig::EightGaussians { .. } => "8gaussians",
            TargetConfig::Gmm1d {} => "gmm1d",
            TargetConfig::Gmm { .. } => "gmm",
            TargetConfig::Scurve { .. } => "scurve",
            TargetConfig::SwissRoll { .. } => "swiss-roll",
            TargetConfig::Ring { .. } => "ring",
            TargetConfig::File { .. } => "file",
        }
    }

    /// Checks every parameter; errors name the key (`target.radius`), the value and what is
    /// allowed. Does not open `file` paths (that is [`build`](Self::build)'s job).
    pub fn validate(&self) -> Result<()> {
        match self {
            TargetConfig::Funnel {} | TargetConfig::Gmm1d {} => Ok(()),
            TargetConfig::NealFunnel { dim } => NealFunnel::new(*dim).map(drop).map_err(prefixed),
            TargetConfig::EightGaussians { radius, std } => {
                positive("radius", *radius)?;
                positive("std", *std)
            }
            TargetConfig::Gmm {
                weights,
                means,
                stds,
            } => GaussianMixture::new(weights.clone(), means.clone(), stds.clone())
                .map(drop)
                .map_err(prefixed),
            TargetConfig::Scurve { noise } | TargetConfig::SwissRoll { noise } => {
                non_negative("noise", *noise)
            }
            TargetConfig::Ring { rx, ry, cx, cy } => {
                Ring::new(*rx, *ry, *cx, *cy).map(drop).map_err(prefixed)
            }
            TargetConfig::File { path } => {
                if path.as_os_str().is_empty() {
                    Err(Error::invalid(
                        "target.path",
                        "\"\"",
                        "a .npy, .csv or .tsv file is required",
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Validates, then builds the target (reading the file for `file`).
    pub fn build(&self) -> Result<Box<dyn Target>> {
        self.validate()?;
        if let Some(g) = self.mixture() {
            return Ok(Box::new(g));
        }
        Ok(match self {
            TargetConfig::Funnel {} => Box::new(Funnel::default()),
            TargetConfig::NealFunnel { dim } => Box::new(NealFunnel::new(*dim)?),
            TargetConfig::EightGaussians { .. }
            | TargetConfig::Gmm1d {}
            | TargetConfig::Gmm { .. } => {
                unreachable!("a valid mixture kind is built by mixture()")
            }
            TargetConfig::Scurve { noise } => Box::new(SCurve::new(*noise)?),
            TargetConfig::SwissRoll { noise } => Box::new(SwissRoll::new(*noise)?),
            TargetConfig::Ring { rx, ry, cx, cy } => Box::new(Ring::new(*rx, *ry, *cx, *cy)?),
            TargetConfig::File { path } => Box::new(DataFile::load(path)?),
        })
    }

    /// The target as a Gaussian mixture, for the kinds that are one (`8gaussians`, `gmm`,
    /// `gmm1d`): `[[exact]]` models and the oracle's marginals need it. None for other kinds or
    /// invalid parameters.
    pub fn mixture(&self) -> Option<GaussianMixture> {
        match self {
            TargetConfig::EightGaussians { radius, std } => {
                GaussianMixture::eight_gaussians(*radius, *std).ok()
            }
            TargetConfig::Gmm1d {} => Some(GaussianMixture::gmm1d()),
            TargetConfig::Gmm {
                weights,
                means,
                stds,
            } => GaussianMixture::new(weights.clone(), means.clone(), stds.clone()).ok(),
            _ => None,
        }
    }

    /// Curves to draw over scatter plots, in data coordinates: the ring's ellipse r = 1
    /// ([`Ring::outline`]); none for other kinds or invalid parameters.
    pub fn outline(&self) -> Vec<Vec<(f64, f64)>> {
        match self {
            TargetConfig::Ring { rx, ry, cx, cy } => Ring::new(*rx, *ry, *cx, *cy)
                .map(|r| r.outline())
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// The funnel neck the neck metric reads ([`Funnel::neck`], [`NealFunnel::neck`]); `None`
    /// for other kinds or invalid parameters.
    pub fn neck(&self) -> Option<Neck> {
        match self {
            TargetConfig::Funnel {} => Some(Funnel::default().neck()),
            TargetConfig::NealFunnel { dim } => NealFunnel::new(*dim).ok().map(|f| f.neck()),
            _ => None,
        }
    }

    /// The fused Langevin step of the target's closed-form score, for kinds that have one
    /// (funnel, ring; see [`FusedLangevin`]): it equals a step driven by the score of
    /// [`build`](Self::build)'s target. `None` for other kinds or invalid parameters.
    pub fn fused_langevin(&self) -> Option<Box<dyn FusedLangevin>> {
        match self {
            TargetConfig::Funnel {} => Some(Box::new(Funnel::default())),
            TargetConfig::Ring { rx, ry, cx, cy } => Ring::new(*rx, *ry, *cx, *cy)
                .ok()
                .map(|r| Box::new(r) as Box<dyn FusedLangevin>),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> std::result::Result<TargetConfig, String> {
        toml::from_str(s).map_err(|e| e.to_string())
    }

    #[test]
    fn every_kind_parses_with_defaults_and_builds() {
        let cases: [(&str, &str, usize); 8] = [
            ("kind = \"funnel\"", "funnel", 2),
            ("kind = \"neal-funnel\"", "neal-funnel", 2),
            ("kind = \"neal-funnel\"\ndim = 5", "neal-funnel5d", 5),
            ("kind = \"8gaussians\"", "8gaussians", 2),
            ("kind = \"gmm1d\"", "gmm1d", 1),
            ("kind = \"scurve\"", "scurve", 2),
            ("kind = \"swiss-roll\"\nnoise = 0", "swiss-roll", 2),
            ("kind = \"ring\"\nrx = 1\ncy = -0.5", "ring", 2),
        ];
        for (text, name, dim) in cases {
            let c = parse(text).unwrap();
            let t = c.build().unwrap();
            assert_eq!((t.name().as_str(), t.dim()), (name, dim), "{text}");
            // the resolved config round-trips through TOML
            let back = parse(&toml::to_string(&c).unwrap()).unwrap();
            assert_eq!(back, c);
        }
        assert_eq!(
            parse("kind = \"8gaussians\"").unwrap(),
            TargetConfig::EightGaussians {
                radius: 2.0,
                std: 0.2
            }
        );
        assert_eq!(
            parse("kind = \"ring\"\nrx = 1\ncy = -0.5").unwrap(),
            TargetConfig::Ring {
                rx: 1.0,
                ry: 2.5,
                cx: 0.0,
                cy: -0.5
            }
        );
        let g = parse("kind = \"gmm\"\nweights = [1, 3]\nmeans = [[0, 0], [1, 1]]\nstds = [[1, 1], [0.5, 0.5]]")
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(g.dim(), 2);
        assert_eq!(TargetConfig::default().kind(), "funnel");
    }

    /// Outline, neck and fused step come from the config's own parameters: the ring's ellipse
    /// through (cx + rx, cy) and (cx, cy + ry), the funnels' necks in their last column with
    /// q05 = s Φ⁻¹(0.05), and a fused step equal to a plain step on the built target's score.
    #[test]
    fn outline_neck_and_fused_step_follow_the_config() {
        let _rng = crate::rng::seed_exclusive(4);
        let ring = parse("kind = \"ring\"\nrx = 1\nry = 2\ncx = 0.5").unwrap();
        let o = ring.outline();
        assert_eq!((o.len(), o[0].len()), (1, 257));
        assert!((o[0][0].0 - 1.5).abs() < 1e-12 && o[0][0].1.abs() < 1e-12);
        assert!((o[0][64].0 - 0.5).abs() < 1e-12 && (o[0][64].1 - 2.0).abs() < 1e-12);
        assert_eq!(ring.neck(), None);
        let z = -1.644_853_626_951_472; // Φ⁻¹(0.05)
        let neck = TargetConfig::Funnel {}.neck().unwrap();
        assert_eq!(neck.column, 1);
        assert!((neck.q05 - 0.8 * z).abs() < 1e-12);
        let neck = TargetConfig::NealFunnel { dim: 4 }.neck().unwrap();
        assert_eq!(neck.column, 3);
        assert!((neck.q05 - 3.0 * z).abs() < 1e-12);
        let plain = TargetConfig::EightGaussians {
            radius: 2.0,
            std: 0.2,
        };
        assert!(plain.outline().is_empty() && plain.neck().is_none());
        assert!(plain.fused_langevin().is_none());
        assert!(TargetConfig::NealFunnel { dim: 2 }
            .fused_langevin()
            .is_none());
        assert!(TargetConfig::NealFunnel { dim: 1 }.neck().is_none());
        // x ← x + η s(x) + c ξ, fused against plain, on the config's own target
        for c in [TargetConfig::Funnel {}, ring] {
            let t = c.build().unwrap();
            let x = t.sample(101, tch::Device::Cpu);
            let xi = x.randn_like();
            let want = &x + t.score(&x).unwrap() * 1e-2 + &xi * 0.14;
            let mut got = x.copy();
            assert!(c
                .fused_langevin()
                .unwrap()
                .ula_step(&mut got, &[1e-2], &[0.14], &xi));
            let err = (&got - &want).abs().max().double_value(&[]);
            assert!(
                err < 2e-6 * want.abs().max().double_value(&[]).max(1.0),
                "{err:e}"
            );
        }
    }

    #[test]
    fn file_kind_reads_the_file_and_names_it_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pts.csv");
        std::fs::write(&p, "x,y,z\n1,2,3\n4,5,6\n").unwrap();
        let c = TargetConfig::File { path: p.clone() };
        assert_eq!(c.build().unwrap().dim(), 3);
        let text = toml::to_string(&c).unwrap();
        assert_eq!(parse(&text).unwrap(), c);
        let missing = TargetConfig::File {
            path: dir.path().join("nope.npy"),
        };
        let e = missing.build().err().unwrap().to_string();
        assert!(e.contains("nope.npy") && e.contains("no such file"), "{e}");
        let e = parse("kind = \"file\"").unwrap_err();
        assert!(e.contains("missing field `path`"), "{e}");
    }

    #[test]
    fn unknown_kinds_and_keys_are_readable_errors() {
        let e = parse("kind = \"funel\"").unwrap_err();
        assert!(
            e.contains("unknown variant `funel`") && e.contains("neal-funnel"),
            "{e}"
        );
        let e = parse("kind = \"8gaussians\"\nradious = 3.0").unwrap_err();
        assert!(
            e.contains("unknown field `radious`") && e.contains("radius"),
            "{e}"
        );
        let e = parse("kind = \"funnel\"\ndim = 3").unwrap_err();
        assert!(e.contains("unknown field `dim`"), "{e}");
        let e = parse("kind = \"gmm1d\"\nstd = 3").unwrap_err();
        assert!(e.contains("unknown field `std`"), "{e}");
        let e = parse("radius = 2.0").unwrap_err();
        assert!(e.contains("kind"), "{e}");
    }

    #[test]
    fn validate_names_key_value_and_rule() {
        let msg = |c: TargetConfig| c.validate().unwrap_err().to_string();
        let e = msg(TargetConfig::EightGaussians {
            radius: -1.0,
            std: 0.2,
        });
        assert_eq!(e, "invalid target.radius = -1: must be finite and > 0");
        let e = msg(TargetConfig::EightGaussians {
            radius: 2.0,
            std: 0.0,
        });
        assert!(e.contains("target.std = 0"), "{e}");
        let e = msg(TargetConfig::NealFunnel { dim: 1 });
        assert!(e.contains("target.dim = 1") && e.contains("≥ 2"), "{e}");
        let e = msg(TargetConfig::Scurve { noise: f64::NAN });
        assert!(e.contains("target.noise = NaN"), "{e}");
        let e = msg(TargetConfig::Ring {
            rx: 1.0,
            ry: 0.0,
            cx: 0.0,
            cy: 0.0,
        });
        assert!(e.contains("target.ry = 0"), "{e}");
        let e = msg(TargetConfig::Gmm {
            weights: vec![1.0],
            means: vec![vec![0.0]],
            stds: vec![vec![-1.0]],
        });
        assert!(e.contains("target.stds"), "{e}");
        let e = msg(TargetConfig::File {
            path: PathBuf::new(),
        });
        assert!(e.contains("target.path"), "{e}");
        // build refuses what validate refuses
        assert!(TargetConfig::NealFunnel { dim: 0 }.build().is_err());
    }
}
