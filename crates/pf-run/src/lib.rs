//! pf-run: pflow's experiment runner and the `pf` command line as a library.
//!
//! | module | what |
//! |---|---|
//! | [`config`] | the experiment config: target, `[[model]]`, `[[sampler]]`, `[likelihood]`, output; validation |
//! | [`overrides`] | `--set key=value` on the config's TOML |
//! | [`quick`] | `--quick`: every budget shrunk |
//! | [`run`] | one config → one run directory (training, sampling, metrics, figures) |
//! | [`likelihood`] | PF-ODE likelihoods in a run: the models' NLL, the `[likelihood]` table |
//! | [`report`] | the Markdown tables of a run and of `pf compare`, from pf-core's metric table |
//! | [`commands`] | `pf run` |
//! | [`compare`] | `pf compare`: the built-in suites, report.md, the leaderboard of `--all` |
//! | [`sweep`] | `pf sweep`: a grid of runs, locally or as a Slurm array, collected into one table |
//! | [`bench`] | `pf bench`: timed workloads |
//! | [`faults`] | signals, out-of-memory pre-flight and messages, what an interrupted run leaves |
//! | [`io`] | the run directory (`--force` / `--resume` rules), its lock, atomic text and `.npy` writes |
//! | [`resume`] | `--resume`: checkpoints that fit, finished samplers reused, the command that resumes |
//! | [`records`] | plain records shared by the run and `--resume` |
//! | [`program`] | the running binary's name in help, hints and commands; shell quoting |
//! | [`app`] | [`App`]: the registries and the command line |
//!
//! Samplers and objectives are not listed here: configs name them through the registries of
//! pf-sample and pf-train, which [`App`] installs. A researcher's crate adds its own methods to
//! an [`App`] and gets `run`, `compare`, `--set`, `--quick`, the checks and every plot.

pub mod app;
pub mod bench;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod config;
pub mod discriminator;
pub mod faults;
pub mod info;
pub mod io;
pub mod likelihood;
pub mod overrides;
pub mod program;
pub mod quick;
pub mod records;
pub mod report;
pub mod resume;
pub mod run;
pub mod sweep;

pub use app::App;
