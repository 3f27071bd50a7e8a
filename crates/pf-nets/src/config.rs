//! Net configs: what a TOML `[model]` table or a checkpoint's JSON sidecar says, validated, and
//! turned into a net by [`NetConfig::build`].
//!
//! ```toml
//! [model]
//! arch = "score-mlp"          # score-mlp | ddpm-mlp | vector-mlp | discriminator
//! dim = 2                     # data dimension D (required)
//! hidden = [128, 256, 128]    # hidden widths (not ddpm-mlp)
//! activation = "silu"         # relu | silu | tanh | gelu | softplus | leaky-relu
//! time_embed = "learned"      # none | raw | learned | fourier
//! embed_dim = 64              # E for learned / fourier
//! fourier_scale = 16.0        # std of the Fourier frequencies B
//! # ddpm-mlp only: nblocks = 2, nunits = 64 (instead of hidden)
//! ```
//! Unknown keys are errors. Defaults per arch: see each config struct.

use crate::activation::Activation;
use crate::ddpm_mlp::DdpmMlp;
use crate::discriminator::DiscriminatorMlp;
use crate::score_mlp::ScoreMlp;
use crate::time_embed::TimeEmbedKind;
use crate::vector_mlp::VectorMlp;
use crate::{Error, Net, Result};
use serde::{Deserialize, Serialize};
use tch::nn;

/// A net architecture and its sizes (serde: internally tagged by `arch`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "arch", rename_all = "kebab-case")]
pub enum NetConfig {
    ScoreMlp(ScoreMlpConfig),
    DdpmMlp(DdpmMlpConfig),
    VectorMlp(VectorMlpConfig),
    Discriminator(DiscriminatorConfig),
}

/// Time-embedding settings shared by all archs.
fn default_embed_dim() -> i64 {
    64
}
fn default_fourier_scale() -> f64 {
    16.0
}

/// Seed 001's `ScoreModel` (see [`ScoreMlp`]). Defaults: hidden [128, 256, 128], SiLU,
/// learned time embedding, E = 64.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreMlpConfig {
    pub dim: i64,
    #[serde(default = "ScoreMlpConfig::default_hidden")]
    pub hidden: Vec<i64>,
    #[serde(default = "ScoreMlpConfig::default_activation")]
    pub activation: Activation,
    #[serde(default = "ScoreMlpConfig::default_time_embed")]
    pub time_embed: TimeEmbedKind,
    #[serde(default = "default_embed_dim")]
    pub embed_dim: i64,
    #[serde(default = "default_fourier_scale")]
    pub fourier_scale: f64,
}

impl ScoreMlpConfig {
    fn default_hidden() -> Vec<i64> {
        vec![128, 256, 128]
    }
    fn default_activation() -> Activation {
        Activation::Silu
    }
    fn default_time_embed() -> TimeEmbedKind {
        TimeEmbedKind::Learned
    }
    /// The seed's defaults for data dimension `dim`.
    pub fn new(dim: i64) -> Self {
        Self {
            dim,
            hidden: Self::default_hidden(),
            activation: Self::default_activation(),
            time_embed: Self::default_time_embed(),
            embed_dim: default_embed_dim(),
            fourier_scale: default_fourier_scale(),
        }
    }
}

/// Seed 001's DDPM `DiffusionModel` (see [`DdpmMlp`]). Defaults: nblocks 2, nunits 64, ReLU,
/// raw time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DdpmMlpConfig {
    pub dim: i64,
    #[serde(default = "DdpmMlpConfig::default_nblocks")]
    pub nblocks: usize,
    #[serde(default = "DdpmMlpConfig::default_nunits")]
    pub nunits: i64,
    #[serde(default = "DdpmMlpConfig::default_activation")]
    pub activation: Activation,
    #[serde(default = "DdpmMlpConfig::default_time_embed")]
    pub time_embed: TimeEmbedKind,
    #[serde(default = "default_embed_dim")]
    pub embed_dim: i64,
    #[serde(default = "default_fourier_scale")]
    pub fourier_scale: f64,
}

impl DdpmMlpConfig {
    fn default_nblocks() -> usize {
        2
    }
    fn default_nunits() -> i64 {
        64
    }
    fn default_activation() -> Activation {
        Activation::Relu
    }
    fn default_time_embed() -> TimeEmbedKind {
        TimeEmbedKind::Raw
    }
    /// The seed's defaults for data dimension `dim`.
    pub fn new(dim: i64) -> Self {
        Self {
            dim,
            nblocks: Self::default_nblocks(),
            nunits: Self::default_nunits(),
            activation: Self::default_activation(),
            time_embed: Self::default_time_embed(),
            embed_dim: default_embed_dim(),
            fourier_scale: default_fourier_scale(),
        }
    }
}

/// Seed 004's `MLPVectorField` (see [`VectorMlp`]). Defaults: hidden [64, 64, 64, 64], SiLU,
/// raw time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorMlpConfig {
    pub dim: i64,
    #[serde(default = "VectorMlpConfig::default_hidden")]
    pub hidden: Vec<i64>,
    #[serde(default = "VectorMlpConfig::default_activation")]
    pub activation: Activation,
    #[serde(default = "VectorMlpConfig::default_time_embed")]
    pub time_embed: TimeEmbedKind,
    #[serde(default = "default_embed_dim")]
    pub embed_dim: i64,
    #[serde(default = "default_fourier_scale")]
    pub fourier_scale: f64,
}

impl VectorMlpConfig {
    fn default_hidden() -> Vec<i64> {
        vec![64, 64, 64, 64]
    }
    fn default_activation() -> Activation {
        Activation::Silu
    }
    fn default_time_embed() -> TimeEmbedKind {
        TimeEmbedKind::Raw
    }
    /// The seed's defaults for data dimension `dim`.
    pub fn new(dim: i64) -> Self {
        Self {
            dim,
            hidden: Self::default_hidden(),
            activation: Self::default_activation(),
            time_embed: Self::default_time_embed(),
            embed_dim: default_embed_dim(),
            fourier_scale: default_fourier_scale(),
        }
    }
}

/// Seed 000's discriminator (see [`DiscriminatorMlp`]). Defaults: hidden [128, 128], SiLU, no
/// time conditioning.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscriminatorConfig {
    pub dim: i64,
    #[serde(default = "DiscriminatorConfig::default_hidden")]
    pub hidden: Vec<i64>,
    #[serde(default = "DiscriminatorConfig::default_activation")]
    pub activation: Activation,
    #[serde(default = "DiscriminatorConfig::default_time_embed")]
    pub time_embed: TimeEmbedKind,
    #[serde(default = "default_embed_dim")]
    pub embed_dim: i64,
    #[serde(default = "default_fourier_scale")]
    pub fourier_scale: f64,
}

impl DiscriminatorConfig {
    fn default_hidden() -> Vec<i64> {
        vec![128, 128]
    }
    fn default_activation() -> Activation {
        Activation::Silu
    }
    fn default_time_embed() -> TimeEmbedKind {
        TimeEmbedKind::None
    }
    /// The defaults for data dimension `dim`.
    pub fn new(dim: i64) -> Self {
        Self {
            dim,
            hidden: Self::default_hidden(),
            activation: Self::default_activation(),
            time_embed: Self::default_time_embed(),
            embed_dim: default_embed_dim(),
            fourier_scale: default_fourier_scale(),
        }
    }
}

/// The fields every arch has, borrowed.
struct Common<'a> {
    dim: i64,
    hidden: Option<&'a [i64]>,
    time_embed: TimeEmbedKind,
    embed_dim: i64,
    fourier_scale: f64,
}

impl NetConfig {
    /// The arch's config spelling, e.g. `score-mlp`.
    pub fn arch(&self) -> &'static str {
        match self {
            NetConfig::ScoreMlp(_) => "score-mlp",
            NetConfig::DdpmMlp(_) => "ddpm-mlp",
            NetConfig::VectorMlp(_) => "vector-mlp",
            NetConfig::Discriminator(_) => "discriminator",
        }
    }

    /// The data dimension D.
    pub fn dim(&self) -> i64 {
        self.common().dim
    }

    /// The output width: D, or 1 for the discriminator.
    pub fn out_dim(&self) -> i64 {
        match self {
            NetConfig::Discriminator(_) => 1,
            _ => self.dim(),
        }
    }

    fn common(&self) -> Common<'_> {
        match self {
            NetConfig::ScoreMlp(c) => Common {
                dim: c.dim,
                hidden: Some(&c.hidden),
                time_embed: c.time_embed,
                embed_dim: c.embed_dim,
                fourier_scale: c.fourier_scale,
            },
            NetConfig::DdpmMlp(c) => Common {
                dim: c.dim,
                hidden: None,
                time_embed: c.time_embed,
                embed_dim: c.embed_dim,
                fourier_scale: c.fourier_scale,
            },
            NetConfig::VectorMlp(c) => Common {
                dim: c.dim,
                hidden: Some(&c.hidden),
                time_embed: c.time_embed,
                embed_dim: c.embed_dim,
                fourier_scale: c.fourier_scale,
            },
            NetConfig::Discriminator(c) => Common {
                dim: c.dim,
                hidden: Some(&c.hidden),
                time_embed: c.time_embed,
                embed_dim: c.embed_dim,
                fourier_scale: c.fourier_scale,
            },
        }
    }

    /// Checks every value; errors name the key (`model.hidden`, …).
    pub fn validate(&self) -> Result<()> {
        let c = self.common();
        if c.dim < 1 {
            return Err(Error::config("model.dim", c.dim, "must be at least 1"));
        }
        if let Some(h) = c.hidden {
            if let Some(&w) = h.iter().find(|&&w| w < 1) {
                return Err(Error::config(
                    "model.hidden",
                    h,
                    format!("every width must be at least 1 (found {w})"),
                ));
            }
        }
        match c.time_embed {
            TimeEmbedKind::Learned | TimeEmbedKind::Fourier if c.embed_dim < 1 => {
                return Err(Error::config(
                    "model.embed_dim",
                    c.embed_dim,
                    "must be at least 1",
                ));
            }
            TimeEmbedKind::Fourier if c.embed_dim % 2 != 0 => {
                return Err(Error::config(
                    "model.embed_dim",
                    c.embed_dim,
                    "must be even for time_embed = \"fourier\" (sin and cos halves)",
                ));
            }
            TimeEmbedKind::Fourier if !(c.fourier_scale.is_finite() && c.fourier_scale > 0.0) => {
                return Err(Error::config(
                    "model.fourier_scale",
                    c.fourier_scale,
                    "must be finite and positive",
                ));
            }
            _ => {}
        }
        if let NetConfig::DdpmMlp(d) = self {
            if d.nunits < 1 {
                return Err(Error::config(
                    "model.nunits",
                    d.nunits,
                    "must be at least 1",
                ));
            }
        }
        if let NetConfig::ScoreMlp(s) = self {
            if s.time_embed == TimeEmbedKind::None {
                return Err(Error::config(
                    "model.time_embed",
                    "none",
                    "a score-mlp is time-conditioned: use raw, learned or fourier",
                ));
            }
        }
        Ok(())
    }

    /// Validates, then creates the net's variables under `vs` (names as documented per arch).
    pub fn build(&self, vs: &nn::Path) -> Result<Box<dyn Net>> {
        self.validate()?;
        let c = self.common();
        let embed = (c.time_embed, c.embed_dim, c.fourier_scale);
        Ok(match self {
            NetConfig::ScoreMlp(s) => {
                Box::new(ScoreMlp::new(vs, s.dim, &s.hidden, s.activation, embed))
            }
            NetConfig::DdpmMlp(d) => Box::new(DdpmMlp::new(
                vs,
                d.dim,
                d.nblocks,
                d.nunits,
                d.activation,
                embed,
            )),
            NetConfig::VectorMlp(v) => {
                Box::new(VectorMlp::new(vs, v.dim, &v.hidden, v.activation, embed))
            }
            NetConfig::Discriminator(d) => Box::new(DiscriminatorMlp::new(
                vs,
                d.dim,
                &d.hidden,
                d.activation,
                embed,
            )),
        })
    }
}
