//! Faults met while a run is in progress, each ending in one line and a documented exit status:
//!
//! - SIGINT / SIGTERM ([`pf_core::interrupt`]): the running stage stops at its next step
//!   boundary (training writes a checkpoint first); [`Interrupted`] names where, and how to
//!   `--resume`; exit status 130 / 143. A second signal exits at once.
//! - Out of memory: [`preflight`] refuses configs whose big allocations cannot fit before the
//!   run directory exists; past it, a libtorch allocation failure (a panic in tch) is caught
//!   around the stage and becomes one line naming the stage, the bytes and the device
//!   ([`oom`]); exit status 1.
//! - Two runs into one directory: the run's lock ([`crate::io::lock`]).
//! - What an interrupted run leaves and how it resumes: [`crate::resume`].
//!
//! The panic hook installed by [`install`] never prints a Rust or C++ backtrace.

pub mod oom;
pub mod preflight;

use anyhow::Result;
use pf_core::interrupt::Signal;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// What a run was doing: names the stage in interrupt and out-of-memory messages and says which
/// knob shrinks it.
#[derive(Clone, Debug)]
pub enum Stage {
    /// Drawing the reference samples the metrics compare against.
    Reference { n: usize },
    /// Training `[[model]]` `name`.
    Model { name: String, batch: usize },
    /// Running `[[sampler]]` `label`.
    Sampler { label: String, particles: usize },
    /// The PF-ODE likelihood.
    Likelihood { points: usize },
    /// Anything else of a run (metrics, figures, files).
    Run,
}

impl Stage {
    /// "model vp", "sampler ula", …
    pub fn what(&self) -> String {
        match self {
            Stage::Reference { .. } => "the reference samples".into(),
            Stage::Model { name, .. } => format!("model {name}"),
            Stage::Sampler { label, .. } => format!("sampler {label}"),
            Stage::Likelihood { .. } => "the likelihood".into(),
            Stage::Run => "the run".into(),
        }
    }

    /// The knob that makes this stage smaller.
    pub fn hint(&self) -> String {
        match self {
            Stage::Reference { n } => {
                format!("use fewer reference samples (output.reference = {n})")
            }
            Stage::Model { name, batch } => {
                format!("use a smaller batch (model.{name}.train.batch_size = {batch})")
            }
            Stage::Sampler { label, particles } => {
                format!("use fewer particles (sampler.{label}.particles = {particles})")
            }
            Stage::Likelihood { points } => {
                format!("use fewer likelihood points ({points} now) or trace = \"hutchinson\"")
            }
            Stage::Run => "use fewer particles or a smaller batch".into(),
        }
    }

    fn while_(&self, step: Option<usize>) -> String {
        match (self, step) {
            (Stage::Model { name, .. }, Some(k)) => format!("at model {name} step {k}"),
            (Stage::Model { name, .. }, None) => format!("while training model {name}"),
            (Stage::Sampler { label, .. }, _) => format!("while sampling {label}"),
            (Stage::Reference { .. }, _) => "while drawing the reference samples".into(),
            (Stage::Likelihood { .. }, _) => "while computing the likelihood".into(),
            (Stage::Run, _) => "while writing the outputs".into(),
        }
    }
}

/// What an interrupted run left behind (filled in once the directory has been dealt with).
#[derive(Clone, Debug)]
pub enum Left {
    /// Not decided yet.
    Unknown,
    /// A resumable directory: the command that resumes it, and whether trained models are in it.
    Resumable { command: String, models: bool },
    /// Nothing worth keeping: the directory was removed (or emptied).
    Nothing { dir: String },
}

/// SIGINT or SIGTERM stopped the run. Its `Display` is the whole line the program prints.
#[derive(Clone, Debug)]
pub struct Interrupted {
    pub signal: Signal,
    pub stage: Stage,
    /// Completed training steps, when a trainer stopped.
    pub step: Option<usize>,
    pub left: Left,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted {}", self.stage.while_(self.step))?;
        match &self.left {
            Left::Unknown => Ok(()),
            Left::Resumable { command, models } => {
                if *models && matches!(self.stage, Stage::Sampler { .. } | Stage::Likelihood { .. })
                {
                    write!(f, "; the trained models are kept")?;
                }
                write!(f, "; resume with: {command}")
            }
            Left::Nothing { dir } => write!(f, "; nothing worth keeping, {dir} removed"),
        }
    }
}

impl std::error::Error for Interrupted {}

impl Interrupted {
    /// The exit status: 130 for SIGINT, 143 for SIGTERM.
    pub fn exit_code(&self) -> i32 {
        self.signal.exit_code()
    }
}

/// Installs the SIGINT/SIGTERM flag, ignores SIGXFSZ (a write past `ulimit -f` then fails with
/// EFBIG and is reported like a full disk) and installs the quiet panic hook.
pub fn install() {
    if let Err(e) = pf_core::interrupt::install() {
        tracing::warn!("cannot install the SIGINT/SIGTERM handlers: {e}");
    }
    pf_core::interrupt::ignore_file_size_signal();
    oom::install_panic_hook();
}

/// The interruption somewhere in `e`'s chain, typed: pf-train's, pf-sample's or pf-core's
/// `Interrupted` (with the trainer's step), or our own.
fn typed_interrupt(e: &anyhow::Error) -> Option<(Signal, Option<usize>)> {
    for c in e.chain() {
        if let Some(pf_train::Error::Interrupted { step, signal, .. }) = c.downcast_ref() {
            return Some((*signal, Some(*step)));
        }
        if let Some(pf_sample::Error::Interrupted { signal, .. }) = c.downcast_ref() {
            return Some((*signal, None));
        }
        if let Some(pf_sample::Error::Core(pf_core::Error::Interrupted { signal, .. })) =
            c.downcast_ref()
        {
            return Some((*signal, None));
        }
        if let Some(pf_core::Error::Interrupted { signal, .. }) = c.downcast_ref() {
            return Some((*signal, None));
        }
        if let Some(i) = c.downcast_ref::<Interrupted>() {
            return Some((i.signal, i.step));
        }
    }
    None
}

/// Stops before `stage` starts if a signal has arrived.
pub fn boundary(stage: &Stage) -> Result<()> {
    match pf_core::interrupt::requested() {
        Some(signal) => Err(Interrupted {
            signal,
            stage: stage.clone(),
            step: None,
            left: Left::Unknown,
        }
        .into()),
        None => Ok(()),
    }
}

/// Runs one stage of a run: stops first if a signal has arrived; an interruption inside it
/// becomes [`Interrupted`] naming the stage; a panic (libtorch's allocation failure above all)
/// becomes one error line naming the stage (see [`oom::panic_message`]).
pub fn stage<T>(stage: Stage, f: impl FnOnce() -> Result<T>) -> Result<T> {
    boundary(&stage)?;
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => match typed_interrupt(&e) {
            Some((signal, step)) => Err(Interrupted {
                signal,
                stage,
                step,
                left: Left::Unknown,
            }
            .into()),
            None => Err(e),
        },
        Err(payload) => Err(anyhow::anyhow!(oom::panic_message(&*payload, &stage))),
    }
}

/// [`stage`] without the boundary check, for a whole command (a panic outside any stage).
pub fn catch<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(anyhow::anyhow!(oom::panic_message(&*payload, &Stage::Run))),
    }
}

/// After a run into `out` failed: removes what it made when the directory was absent or empty
/// before it and nothing in it is worth keeping (a checkpoint; for an interrupted run also a
/// finished sampler's samples), and completes an [`Interrupted`] with what was left and the
/// command that resumes. Call with the run's lock still held.
pub fn after_failure(
    e: anyhow::Error,
    out: &Path,
    lock: &crate::io::RunLock,
    models: bool,
) -> anyhow::Error {
    let interrupted = e
        .chain()
        .find_map(|c| c.downcast_ref::<Interrupted>())
        .cloned();
    let Some(mut i) = interrupted.or_else(|| {
        // an error that a signal caused without saying so (a stage outside `stage`)
        pf_core::interrupt::requested().map(|signal| Interrupted {
            signal,
            stage: Stage::Run,
            step: None,
            left: Left::Unknown,
        })
    }) else {
        if lock.was_empty() {
            crate::io::discard_failed(out, !lock.created());
        }
        return e;
    };
    let keep = !lock.was_empty() || crate::resume::worth_keeping(out);
    i.left = if keep {
        Left::Resumable {
            command: crate::resume::command(out),
            models,
        }
    } else {
        crate::io::discard_failed(out, !lock.created());
        Left::Nothing {
            dir: out.display().to_string(),
        }
    };
    i.into()
}

/// The line and exit status of an interrupted command, if `e` is one (also an error of a
/// command without run directory, `pf bench`, once a signal has arrived).
pub fn interrupted(e: &anyhow::Error) -> Option<(String, i32)> {
    e.chain()
        .find_map(|c| c.downcast_ref::<Interrupted>())
        .map(|i| (i.to_string(), i.exit_code()))
        .or_else(|| {
            pf_core::interrupt::requested().map(|s| (format!("interrupted ({s})"), s.exit_code()))
        })
}
