//! The error type of pf-nets. Messages name the config key, file or tensor at fault.

use std::path::PathBuf;

/// Everything that can go wrong in pf-nets.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A config value outside its allowed range; `key` is the full key, e.g. `model.hidden`.
    #[error("invalid {key} = {value}: {msg}")]
    Config {
        key: String,
        value: String,
        msg: String,
    },
    /// A tensor whose shape in a checkpoint differs from the model's.
    #[error(
        "{}: tensor `{tensor}` has shape {file_shape:?} in the checkpoint but {model_shape:?} in the model (architecture mismatch: check the model config beside the checkpoint)", file.display()
    )]
    ShapeMismatch {
        file: PathBuf,
        tensor: String,
        file_shape: Vec<i64>,
        model_shape: Vec<i64>,
    },
    /// A model tensor the checkpoint lacks.
    #[error(
        "{}: the model's tensor `{tensor}` is missing from the checkpoint (architecture mismatch)",
        file.display()
    )]
    MissingTensor { file: PathBuf, tensor: String },
    /// A checkpoint tensor the model has no place for.
    #[error(
        "{}: the checkpoint's tensor `{tensor}` has no counterpart in the model (architecture mismatch)",
        file.display()
    )]
    UnexpectedTensor { file: PathBuf, tensor: String },
    /// A file that could not be read, written or parsed.
    #[error("{}: {msg}", path.display())]
    File { path: PathBuf, msg: String },
    #[error(transparent)]
    Torch(#[from] tch::TchError),
    #[error(transparent)]
    Core(#[from] pf_core::Error),
}

/// A failed sync or rename of an atomic write: "<file>: <the system's words>", as any file error.
impl From<pf_fs::Error> for Error {
    fn from(e: pf_fs::Error) -> Self {
        Error::file(e.path, e.source)
    }
}

/// pf-nets' result alias.
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
}
