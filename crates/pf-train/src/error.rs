//! The error type of pf-train. Messages name the config key, file or step at fault.

use std::path::PathBuf;

/// Everything that can go wrong in pf-train.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A config value outside its allowed range; `key` is the full key, e.g. `train.lr`.
    #[error("invalid {key} = {value}: {msg}")]
    Config {
        key: String,
        value: String,
        msg: String,
    },
    /// The NaN/Inf guard: the loss or the gradient norm was not finite at `step`.
    #[error(
        "non-finite {what} at step {step}{}; last good checkpoint: {}; lower train.lr (now {lr:e}){}",
        t_range.map(|(a, b)| format!(" (batch t in [{a:.3e}, {b:.3e}])")).unwrap_or_default(),
        last_checkpoint.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "none written".into()),
        if t_range.is_some() { ", or raise the loss's t_eps (T_ε)" } else { "" }
    )]
    NonFinite {
        /// `loss` or `gradient`.
        what: String,
        /// The first step (0-based: the update that would have made `step + 1` steps) at fault.
        step: usize,
        t_range: Option<(f64, f64)>,
        last_checkpoint: Option<PathBuf>,
        lr: f64,
    },
    /// SIGINT or SIGTERM arrived (see [`pf_core::interrupt`]): training stopped before step
    /// `step` (0-based; `step` steps are complete) and, with an output directory, wrote a
    /// checkpoint of exactly that state, from which `resume` continues bit for bit.
    #[error(
        "interrupted by {signal} at step {step}; {}",
        checkpoint.as_ref().map(|p| format!("checkpoint: {}", p.display())).unwrap_or_else(|| "no checkpoint written".into())
    )]
    Interrupted {
        step: usize,
        signal: pf_core::interrupt::Signal,
        checkpoint: Option<PathBuf>,
    },
    /// A checkpoint that does not fit this trainer (other parameters, a missing tensor, …).
    #[error("{}: {msg}", path.display())]
    Checkpoint { path: PathBuf, msg: String },
    /// A file that could not be read or written.
    #[error("{}: {msg}", path.display())]
    File { path: PathBuf, msg: String },
    /// A config error already worded in full (`invalid model[0].param = "x0": …`).
    #[error("{0}")]
    Other(String),
    #[error(transparent)]
    Nets(#[from] pf_nets::Error),
    #[error(transparent)]
    Core(#[from] pf_core::Error),
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

/// pf-train's result alias.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Shorthand for [`Error::Config`].
    pub fn config(
        key: impl Into<String>,
        value: impl std::fmt::Debug,
        msg: impl Into<String>,
    ) -> Self {
        Error::Config {
            key: key.into(),
            value: format!("{value:?}"),
            msg: msg.into(),
        }
    }
    /// Shorthand for [`Error::File`].
    pub fn file(path: impl Into<PathBuf>, msg: impl std::fmt::Display) -> Self {
        Error::File {
            path: path.into(),
            msg: msg.to_string(),
        }
    }
    /// Shorthand for [`Error::Checkpoint`].
    pub fn checkpoint(path: impl Into<PathBuf>, msg: impl std::fmt::Display) -> Self {
        Error::Checkpoint {
            path: path.into(),
            msg: msg.to_string(),
        }
    }
}
