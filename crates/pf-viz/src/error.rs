//! The crate's error type: every variant names the output file it concerns.

use std::path::{Path, PathBuf};

/// An error while validating the input of, drawing, or writing one output file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// There was nothing to draw (no points, no frames, no series).
    #[error("nothing to plot for {}: {what}", path.display())]
    EmptyInput {
        /// The output file that was asked for.
        path: PathBuf,
        /// What was empty.
        what: String,
    },
    /// The input or the options are inconsistent (a bad range, a size of zero, a bad index, ...).
    #[error("invalid input for {}: {reason}", path.display())]
    InvalidInput {
        /// The output file that was asked for.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file (or its temporary sibling) could not be created, written or renamed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The output file that was asked for.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// plotters failed while drawing or encoding the image.
    #[error("drawing {} failed: {source}", path.display())]
    Draw {
        /// The output file that was asked for.
        path: PathBuf,
        /// The plotters (or encoder) error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The embedded font could not be registered with plotters.
    #[error("cannot register the embedded DejaVu Sans font while drawing {}", path.display())]
    Font {
        /// The output file that was asked for.
        path: PathBuf,
    },
}

impl Error {
    /// The output file this error concerns.
    pub fn path(&self) -> &Path {
        match self {
            Error::EmptyInput { path, .. }
            | Error::InvalidInput { path, .. }
            | Error::Io { path, .. }
            | Error::Draw { path, .. }
            | Error::Font { path } => path,
        }
    }

    pub(crate) fn empty(path: &Path, what: impl Into<String>) -> Self {
        Error::EmptyInput {
            path: path.to_path_buf(),
            what: what.into(),
        }
    }

    pub(crate) fn invalid(path: &Path, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// What the drawing code returns internally; turned into [`Error::Draw`] with the path.
pub(crate) type DrawResult<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;
