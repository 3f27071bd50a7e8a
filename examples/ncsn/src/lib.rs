//! NCSN's two halves as pflow methods, written outside pflow's crates against its public API:
//!
//! - [`ssm`]: `kind = "ssm"`, **sliced score matching** (Song, Garg, Shi & Ermon 2019) as a
//!   training objective, noise-conditional on the model's Gaussian path (NCSN's σ ladder on the
//!   VE path), λ(t) = σ(t)² by default. Its net provides a score, like `dsm`'s.
//! - [`ald`]: `method = "ald"`, **annealed Langevin dynamics** (Song & Ermon 2019) as a sampler,
//!   driven by any score model on a Gaussian path: a trained one, or an `[[exact]]` mixture field.
//!
//! The binary `pf-ncsn` registers both into pflow's command line:
//!
//! ```no_run
//! use pf_core::field::FieldKind;
//! let mut app = pf_run::App::default();
//! app.objectives.register::<pf_ncsn::SsmConfig>("ssm", &[FieldKind::Score]);
//! app.samplers.register::<pf_ncsn::AldConfig>("ald");
//! app.main()
//! ```

pub mod ald;
pub mod ssm;

pub use ald::{geometric_levels, time_of_sigma, Ald, AldConfig};
pub use ssm::{Projection, Ssm, SsmConfig};
