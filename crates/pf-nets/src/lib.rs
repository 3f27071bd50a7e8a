//! pf-nets: libtorch modules for pflow, the parameterisations that turn them into score or
//! velocity fields, and `.safetensors` checkpoints a PyTorch user can load.
//!
//! Time runs t = 0 (data) to t = 1 (prior) everywhere. Every net is a [`Net`]: x [N, D] and
//! t [N, 1] (or [1, 1], one time for the batch) in, [N, out] out, float32.
//!
//! - Architectures: [`ScoreMlp`] (seed 001's `ScoreModel`), [`DdpmMlp`] (seed 001's DDPM
//!   `DiffusionModel`), [`VectorMlp`] (seed 004's `MLPVectorField`), [`DiscriminatorMlp`]
//!   (seed 000), with the time embeddings of [`time_embed`].
//! - [`NetConfig`]: the serde config (`[model]` in TOML, the JSON sidecar of a checkpoint), with
//!   `validate()` and `build(vs)`.
//! - [`NetScore`] / [`NetVelocity`]: a net read as ε, score, x₀ or velocity on a Gaussian path.
//! - [`checkpoint`]: save/load with strict name and shape checks.
//!
//! ```
//! use pf_nets::{Net, NetConfig, ScoreMlpConfig};
//! use tch::{nn, Device, Kind, Tensor};
//! let vs = nn::VarStore::new(Device::Cpu);
//! let net = NetConfig::ScoreMlp(ScoreMlpConfig::new(2)).build(&vs.root()).unwrap();
//! let x = Tensor::zeros([5, 2], (Kind::Float, Device::Cpu));
//! let t = Tensor::full([1, 1], 0.5, (Kind::Float, Device::Cpu));
//! assert_eq!(net.forward(&x, &t).size(), vec![5, 2]);
//! ```

pub mod activation;
pub mod checkpoint;
pub mod config;
pub mod ddpm_mlp;
pub mod discriminator;
pub mod error;
mod linear;
pub mod mlp;
pub mod param_field;
pub mod score_mlp;
pub mod time_embed;
pub mod vector_mlp;

pub use activation::Activation;
pub use config::{DdpmMlpConfig, DiscriminatorConfig, NetConfig, ScoreMlpConfig, VectorMlpConfig};
pub use ddpm_mlp::DdpmMlp;
pub use discriminator::DiscriminatorMlp;
pub use error::{Error, Result};
pub use linear::torch_linear;
pub use param_field::{predict_as, NetScore, NetVelocity};
pub use score_mlp::ScoreMlp;
pub use time_embed::{TimeEmbed, TimeEmbedKind};
pub use vector_mlp::VectorMlp;

use tch::Tensor;

/// A time-conditioned network. Shapes: x [N, D]; t [N, 1], or [1, 1] / 0-dim meaning one time
/// for the whole batch (expanded here); returns [N, out_dim]. Nets ignore gradient mode: callers
/// wrap sampling in `no_grad` and likelihood traces in `with_grad`.
pub trait Net {
    fn forward(&self, x: &Tensor, t: &Tensor) -> Tensor;
    /// D, the data dimension.
    fn in_dim(&self) -> i64;
    /// D, or 1 for a discriminator.
    fn out_dim(&self) -> i64;
}

impl<N: Net + ?Sized> Net for &N {
    fn forward(&self, x: &Tensor, t: &Tensor) -> Tensor {
        (**self).forward(x, t)
    }
    fn in_dim(&self) -> i64 {
        (**self).in_dim()
    }
    fn out_dim(&self) -> i64 {
        (**self).out_dim()
    }
}

impl<N: Net + ?Sized> Net for Box<N> {
    fn forward(&self, x: &Tensor, t: &Tensor) -> Tensor {
        (**self).forward(x, t)
    }
    fn in_dim(&self) -> i64 {
        (**self).in_dim()
    }
    fn out_dim(&self) -> i64 {
        (**self).out_dim()
    }
}

/// t as an [N, 1] tensor of x's dtype: a 0-dim or [1, 1] time is expanded to the batch.
pub fn batch_time(t: &Tensor, x: &Tensor) -> Tensor {
    let n = x.size()[0];
    let t = if t.kind() == x.kind() {
        t.shallow_clone()
    } else {
        t.to_kind(x.kind())
    };
    let t = if t.dim() == 2 { t } else { t.reshape([-1, 1]) };
    if t.size()[0] == n {
        t
    } else {
        t.expand([n, 1], false)
    }
}

#[cfg(test)]
mod tests;
