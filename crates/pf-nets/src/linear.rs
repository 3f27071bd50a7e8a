//! A linear layer initialised like PyTorch's `nn.Linear`.

use tch::nn::{self, Init, LinearConfig};

/// `nn.Linear(in_dim, out_dim)` with PyTorch's default initialisation: weight and bias uniform on
/// [−1/√in_dim, 1/√in_dim]. Variables `weight` [out, in] and `bias` [out] under `vs`, so the
/// names match a PyTorch `state_dict`.
pub fn torch_linear(vs: &nn::Path, in_dim: i64, out_dim: i64) -> nn::Linear {
    let bound = 1.0 / (in_dim as f64).sqrt();
    let init = Init::Uniform {
        lo: -bound,
        up: bound,
    };
    nn::linear(
        vs,
        in_dim,
        out_dim,
        LinearConfig {
            ws_init: init,
            bs_init: Some(init),
            bias: true,
        },
    )
}
