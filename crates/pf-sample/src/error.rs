//! The error type of pf-sample.

/// What can go wrong while sampling.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Core(#[from] pf_core::Error),
    /// NaN or Inf in the particles: names the method, step and time (none for samplers
    /// without a time axis, such as Langevin), and the knob to turn.
    #[error("{method}: non-finite particles at step {step}{}; {hint}", t.map_or(String::new(), |t| format!(" (t = {t:.5})")))]
    NonFinite {
        method: String,
        step: usize,
        t: Option<f64>,
        hint: String,
    },
    /// SIGINT or SIGTERM arrived (see [`pf_core::interrupt`]): the sampler stopped at the
    /// boundary of step `step`.
    #[error("{method}: interrupted by {signal} at step {step}")]
    Interrupted {
        method: String,
        step: usize,
        signal: pf_core::interrupt::Signal,
    },
    /// An option outside its allowed range.
    #[error("invalid {key} = {value}: {msg}")]
    Invalid {
        key: String,
        value: String,
        msg: String,
    },
    /// Something a sampler needs that the run does not have.
    #[error("needs {what}, which this run does not provide")]
    Unavailable { what: String },
    /// A config error already worded in full (`invalid sampler[0].init.target: …`).
    #[error("{0}")]
    Other(String),
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

/// pf-sample's result alias.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// `invalid <key> = <value>: <msg>`.
    pub fn invalid(key: &str, value: impl std::fmt::Display, msg: &str) -> Self {
        Error::Invalid {
            key: key.into(),
            value: value.to_string(),
            msg: msg.into(),
        }
    }
}
