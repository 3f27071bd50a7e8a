//! pf-sample: samplers and the PF-ODE likelihood, written against pf-core's seams only.
//!
//! Time runs t = 1 (prior/source) → t = 0 (data) in every sampler. Particles are [N, D] tensors;
//! sampling runs under no-grad with no host synchronisation inside the step loop except the
//! health check every [`Guard::every`] steps. A new sampler is one new file here.
//!
//! | file | method |
//! |---|---|
//! | `ula.rs` | unadjusted Langevin (per-dimension η, optional tempered noise) |
//! | `mala.rs` | Metropolis-adjusted Langevin, with acceptance rate |
//! | `reverse_sde.rs` | reverse-SDE Euler–Maruyama for any path and score |
//! | `pc.rs` | predictor–corrector (reverse diffusion + Langevin corrector, snr) |
//! | `ddpm.rs` | DDPM ancestral sampling and DDIM (η = 0) |
//! | `ode.rs` | PF-ODE and velocity-field sampling: Euler, Heun, RK4, Dormand–Prince |
//! | `path_sde.rs` | seed 004's Langevin-corrected path SDE |
//! | `likelihood.rs` | log-likelihood through the PF ODE: exact trace or Hutchinson |
//! | `monoflow.rs` | MonoFlow particle flow given a density-ratio estimator |
//! | `chunk.rs` | running a sampler with independent particles in chunks (bounded memory) |

pub mod chunk;
pub mod ddpm;
pub mod error;
pub mod init;
pub mod likelihood;
pub mod mala;
pub mod monoflow;
pub mod ode;
pub mod path_sde;
pub mod pc;
pub mod reverse_sde;
pub mod trajectory;
pub mod ula;

pub use error::{Error, Result};
pub use trajectory::{Guard, Trajectory};

use tch::Tensor;

/// What a sampler returns: the final particles [N, D], the recorded trajectory (if asked for),
/// the number of field evaluations, and MALA's acceptance rate.
#[derive(Debug)]
pub struct SampleOut {
    pub x: Tensor,
    pub trajectory: Option<Trajectory>,
    pub nfe: usize,
    pub acceptance: Option<f64>,
}
