//! The error type of pf-core.

/// Everything that can go wrong in pf-core. Messages name the key, file or value at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter outside its allowed range: `key` is the parameter, `msg` says what is allowed.
    #[error("invalid {key} = {value}: {msg}")]
    Invalid {
        key: String,
        value: String,
        msg: String,
    },
    /// A file that could not be read or parsed.
    #[error("{path}: {msg}")]
    File { path: String, msg: String },
    /// An operation a target or field does not provide (e.g. `log_prob` of a sampling-only target).
    #[error("{what} is not available for {name}")]
    Unsupported { name: String, what: String },
    /// An adaptive solver that could not reach its tolerance.
    #[error("{solver}: {msg} at t = {t:.6}")]
    Solver {
        solver: &'static str,
        t: f64,
        msg: String,
    },
    /// NaN or Inf found in a state.
    #[error("{what}: non-finite values at step {step}, t = {t:.6}; {hint}")]
    NonFinite {
        what: String,
        step: usize,
        t: f64,
        hint: String,
    },
    /// SIGINT or SIGTERM arrived (see [`crate::interrupt`]): the loop stopped at step `step`.
    #[error("{what}: interrupted by {signal} at step {step}")]
    Interrupted {
        what: String,
        step: usize,
        signal: crate::interrupt::Signal,
    },
    /// A device that was asked for but is absent.
    #[error("device: {0}")]
    Device(String),
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

/// pf-core's result alias.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(
        key: impl Into<String>,
        value: impl std::fmt::Display,
        msg: impl Into<String>,
    ) -> Self {
        Error::Invalid {
            key: key.into(),
            value: value.to_string(),
            msg: msg.into(),
        }
    }
}
