//! Time conditioning: how a net sees the time t ∈ [0, 1] (t = 0 data, t = 1 prior).
//!
//! - `none`: the net ignores t (an unconditional discriminator).
//! - `raw`: t itself, one feature (seed 001's DDPM net, seed 004's vector field).
//! - `learned`: seed 001's embedding e(t) = W₂ SiLU(W₁ t + b₁) + b₂, Linear(1, E)–SiLU–Linear(E, E);
//!   parameters `embed.0.*`, `embed.2.*` (PyTorch `nn.Sequential` indices).
//! - `fourier`: Gaussian Fourier features (Tancik et al. 2020; Song et al. 2021) followed by the
//!   same MLP: φ(t) = [sin(t ω), cos(t ω)] with fixed ω = 2π B, B ~ N(0, scale²) of size E/2,
//!   then Linear(E, E)–SiLU–Linear(E, E). ω is a non-trainable buffer `fourier.freqs` [1, E/2]
//!   saved in checkpoints (already multiplied by 2π, so PyTorch computes `t * freqs` bit for bit).

use crate::linear::torch_linear;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

/// Which time conditioning a net uses (config key `model.time_embed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeEmbedKind {
    None,
    Raw,
    Learned,
    Fourier,
}

impl TimeEmbedKind {
    /// The config spelling.
    pub fn name(self) -> &'static str {
        match self {
            TimeEmbedKind::None => "none",
            TimeEmbedKind::Raw => "raw",
            TimeEmbedKind::Learned => "learned",
            TimeEmbedKind::Fourier => "fourier",
        }
    }
}

/// A time embedding t [N, 1] → e(t) [N, E] (see the module docs for the kinds).
#[derive(Debug)]
pub struct TimeEmbed {
    kind: TimeEmbedKind,
    dim: i64,
    freqs: Option<Tensor>,
    mlp: Option<(nn::Linear, nn::Linear)>,
}

impl TimeEmbed {
    /// Creates the embedding's variables under `vs` (`embed.*`, `fourier.freqs`). `dim` is E
    /// (ignored for `none`/`raw`; even for `fourier`), `fourier_scale` the std of B.
    pub fn new(vs: &nn::Path, kind: TimeEmbedKind, dim: i64, fourier_scale: f64) -> Self {
        let mlp = |vs: &nn::Path, in_dim: i64| {
            let e = vs / "embed";
            (
                torch_linear(&(&e / 0), in_dim, dim),
                torch_linear(&(&e / 2), dim, dim),
            )
        };
        match kind {
            TimeEmbedKind::None => Self {
                kind,
                dim: 0,
                freqs: None,
                mlp: None,
            },
            TimeEmbedKind::Raw => Self {
                kind,
                dim: 1,
                freqs: None,
                mlp: None,
            },
            TimeEmbedKind::Learned => Self {
                kind,
                dim,
                freqs: None,
                mlp: Some(mlp(vs, 1)),
            },
            TimeEmbedKind::Fourier => {
                let b = Tensor::randn([1, dim / 2], (Kind::Float, vs.device()))
                    * (2.0 * PI * fourier_scale);
                let freqs = (vs / "fourier").add("freqs", b, false);
                Self {
                    kind,
                    dim,
                    freqs: Some(freqs),
                    mlp: Some(mlp(vs, dim)),
                }
            }
        }
    }

    pub fn kind(&self) -> TimeEmbedKind {
        self.kind
    }

    /// E, the number of features the embedding adds (0 for `none`, 1 for `raw`).
    pub fn out_dim(&self) -> i64 {
        self.dim
    }

    /// e(t). Shapes: t [N, 1] → [N, E]; `None` for the `none` kind.
    pub fn forward(&self, t: &Tensor) -> Option<Tensor> {
        let input = match self.kind {
            TimeEmbedKind::None => return None,
            TimeEmbedKind::Raw => return Some(t.shallow_clone()),
            TimeEmbedKind::Learned => t.shallow_clone(),
            TimeEmbedKind::Fourier => {
                let arg = t * self.freqs.as_ref().expect("fourier buffer");
                Tensor::cat(&[arg.sin(), arg.cos()], 1)
            }
        };
        let (l1, l2) = self.mlp.as_ref().expect("embedding mlp");
        Some(l2.forward(&l1.forward(&input).silu()))
    }
}
