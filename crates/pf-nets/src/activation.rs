//! Elementwise activations chosen by name in a net config.

use serde::{Deserialize, Serialize};
use tch::Tensor;

/// An activation function. PyTorch equivalents (what a user rebuilding the net would write):
/// `relu` = `nn.ReLU`, `silu` = `nn.SiLU`, `tanh` = `nn.Tanh`, `gelu` = `nn.GELU()` (exact erf
/// form), `softplus` = `nn.Softplus()` (β = 1, threshold 20), `leaky-relu` = max(x, 0.2 x)
/// (`nn.LeakyReLU(0.2)`, the usual GAN-discriminator slope).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    Relu,
    Silu,
    Tanh,
    Gelu,
    Softplus,
    LeakyRelu,
}

impl Activation {
    /// Applies the activation elementwise.
    pub fn apply(self, x: &Tensor) -> Tensor {
        match self {
            Activation::Relu => x.relu(),
            Activation::Silu => x.silu(),
            Activation::Tanh => x.tanh(),
            Activation::Gelu => x.gelu("none"),
            Activation::Softplus => x.softplus(),
            Activation::LeakyRelu => x.maximum(&(x * 0.2)),
        }
    }
    /// The activation of a tensor the caller owns: in place (no new buffer) when `x` needs no
    /// gradient, e.g. under `no_grad`; otherwise as [`apply`](Self::apply). Same values either way.
    pub fn apply_owned(self, mut x: Tensor) -> Tensor {
        if x.requires_grad() {
            return self.apply(&x);
        }
        match self {
            Activation::Relu => x.relu_(),
            Activation::Silu => x.silu_(),
            Activation::Tanh => x.tanh_(),
            Activation::Gelu => x.gelu_("none"),
            Activation::Softplus | Activation::LeakyRelu => self.apply(&x),
        }
    }
    /// The config spelling, e.g. `leaky-relu`.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Silu => "silu",
            Activation::Tanh => "tanh",
            Activation::Gelu => "gelu",
            Activation::Softplus => "softplus",
            Activation::LeakyRelu => "leaky-relu",
        }
    }
}
