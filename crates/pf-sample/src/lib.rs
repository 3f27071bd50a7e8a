//! pf-sample: samplers and the PF-ODE likelihood, written against pf-core's seams only.
//!
//! Time runs t = 1 (prior/source) → t = 0 (data) in every sampler. Particles are [N, D] tensors;
//! sampling runs under no-grad with no host synchronisation inside the step loop except the
//! health check every [`Guard::every`] steps.
//!
//! A sampler is one file: a serde config implementing [`Sampler`] (its [`Budget`], the models it
//! uses, its checks, what it needs through [`Ctx`], its run under the shared [`Driver`]), plus
//! one line in the `samplers!` list below that declares the file and registers its `method`
//! name. A
//! researcher's own crate registers its samplers into a [`Registry`] instead (see pf-run's
//! `App`), without touching this crate.
//!
//! | file | method |
//! |---|---|
//! | `ula.rs` | unadjusted Langevin (per-dimension η, optional tempered noise) |
//! | `mala.rs` | Metropolis-adjusted Langevin, with acceptance rate |
//! | `underdamped.rs` | underdamped (kinetic) Langevin: BAOAB or OBABO, friction, mass |
//! | `reverse_sde.rs` | reverse-SDE Euler–Maruyama for any path and score |
//! | `pc.rs` | predictor–corrector (reverse diffusion + Langevin corrector, snr) |
//! | `ddpm.rs` | DDPM ancestral sampling and DDIM (η = 0) |
//! | `ode.rs` | PF-ODE and velocity-field sampling: Euler, Heun, RK4, Dormand–Prince |
//! | `path_sde.rs` | seed 004's Langevin-corrected path SDE |
//! | `conditional.rs` | seed 004's conditional ODE / SDE for one fixed point z, against its exact law |
//! | `likelihood.rs` | log-likelihood through the PF ODE: exact trace or Hutchinson |
//! | `monoflow.rs` | MonoFlow particle flow given a density-ratio estimator |
//! | `exact.rs` | the exact noised fields of a Gaussian-mixture target, served as models |
//! | `chunk.rs` | running a sampler with independent particles in chunks (bounded memory) |

pub mod chunk;
pub mod driver;
pub mod error;
pub mod exact;
pub mod init;
pub mod likelihood;
pub mod registry;
pub mod sampler;
pub mod score_source;
pub mod trajectory;

/// Declares each sampler file and registers its methods in [`Registry::builtin`]: a new sampler
/// is one new file plus one line here (`file: Config = "method";`).
macro_rules! samplers {
    ($($file:ident: $($ty:ident = $method:literal),+;)*) => {
        $(pub mod $file;)*
        pub(crate) fn register_builtin(r: &mut Registry) {
            $($(r.register::<$file::$ty>($method);)+)*
        }
    };
}

samplers! {
    ula: UlaConfig = "ula";
    mala: MalaConfig = "mala";
    underdamped: UnderdampedConfig = "underdamped";
    reverse_sde: ReverseSdeConfig = "reverse-sde";
    pc: PcConfig = "pc";
    ode: PfOdeConfig = "pf-ode", FlowConfig = "flow";
    ddpm: DdpmConfig = "ddpm", DdimConfig = "ddim";
    path_sde: PathSdeConfig = "path-sde";
    conditional: ConditionalConfig = "conditional";
    monoflow: MonoflowConfig = "monoflow";
}

pub use driver::Driver;
pub use error::{Error, Result};
pub use init::{Init, InitConfig, Start};
pub use registry::{Registry, SamplerSpec};
pub use sampler::{Budget, Check, Ctx, Footprint, ModelUse, Models, Quick, Sampler};
pub use score_source::ScoreSource;
pub use trajectory::{all_finite, Guard, Recorder, Trajectory};

use std::collections::BTreeMap;
use tch::Tensor;

/// What a sampler returns: the final particles [N, D], the recorded trajectory (if asked for),
/// the number of field evaluations, and the method's own diagnostics by name (MALA's
/// `acceptance`, …), which reports print beside the metrics.
#[derive(Debug)]
pub struct SampleOut {
    pub x: Tensor,
    pub trajectory: Option<Trajectory>,
    pub nfe: usize,
    pub diagnostics: BTreeMap<String, f64>,
}

impl SampleOut {
    /// Particles, trajectory and NFE, no diagnostics.
    pub fn new(x: Tensor, trajectory: Option<Trajectory>, nfe: usize) -> Self {
        Self {
            x,
            trajectory,
            nfe,
            diagnostics: BTreeMap::new(),
        }
    }
    /// With one more diagnostic.
    pub fn with(mut self, name: &str, value: f64) -> Self {
        self.diagnostics.insert(name.into(), value);
        self
    }
}
