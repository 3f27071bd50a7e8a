//! # pf-fs
//!
//! Atomic file writes, the one way every pflow crate writes a file: the content goes to a hidden
//! temporary file in the same directory ([`temp_path`]: `.<stem>.<pid>-<n>.tmp.<ext>`, the
//! extension kept last because some writers pick the format from it), which is synced to disk
//! and renamed over the target. A reader sees the old file or the new one, never a torn one. On
//! any error (and on a panic inside the writer) the temporary file is removed and the target is
//! left as it was.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("metrics.json");
//! pf_fs::write_bytes(&path, b"{}\n").unwrap();
//! // or through any writer that takes a path, with its own error type
//! pf_fs::write(&path, |tmp| std::fs::write(tmp, b"{\"a\": 1}\n").map_err(pf_fs::Error::from_io(&path)))
//!     .unwrap();
//! assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\": 1}\n");
//! ```
//!
//! No dependency but the standard library: pf-viz (which knows no models) and pf-nets use it alike.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What failed around the caller's writer: writing the content (with [`write_bytes`]), syncing
/// it, or moving it into place. `path` is always the target, never the temporary file.
#[derive(Debug)]
pub struct Error {
    /// The file that was being written.
    pub path: PathBuf,
    /// Which step failed.
    pub op: Op,
    /// The operating system's error.
    pub source: std::io::Error,
}

/// The step of an atomic write that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Writing the content into the temporary file.
    Write,
    /// Syncing the temporary file to disk.
    Sync,
    /// Renaming the temporary file over the target.
    Rename,
}

impl Error {
    /// A writer's I/O failure on `path` as an [`Error`] (`.map_err(Error::from_io(path))`).
    pub fn from_io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error {
            path: path.to_path_buf(),
            op: Op::Write,
            source,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = self.path.display();
        match self.op {
            Op::Write => write!(f, "cannot write {p}"),
            Op::Sync => write!(f, "cannot sync {p}"),
            Op::Rename => write!(f, "cannot move {p} into place"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The temporary sibling of `path` that [`write`] writes first: `.<stem>.<pid>-<n>.tmp.<ext>`
/// (`.<name>.<pid>-<n>.tmp` without an extension), in the same directory, unique within this
/// process. A bare file name gets `./` as its directory.
pub fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let stem = path.file_stem().unwrap_or(path.as_os_str());
    let mut name = OsString::from(".");
    name.push(stem);
    name.push(format!(".{}-{n}.tmp", std::process::id()));
    if let Some(ext) = path.extension() {
        name.push(".");
        name.push(ext);
    }
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.join(name),
        _ => PathBuf::from(".").join(name),
    }
}

/// Whether a file name is one of [`temp_path`]'s (or the `.<name>.tmp-<pid>…` names earlier
/// pflow versions used): what a killed writer may leave behind, never a complete file.
pub fn is_temp(name: &str) -> bool {
    name.starts_with('.')
        && (name.contains(".tmp.") || name.ends_with(".tmp") || name.contains(".tmp-"))
}

/// Removes the temporary file unless disarmed (also while unwinding from a panic).
struct Guard<'a> {
    tmp: &'a Path,
    armed: bool,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(self.tmp);
        }
    }
}

/// Writes `path` atomically: `write(tmp)` fills the temporary file [`temp_path`]`(path)`, which
/// is then synced and renamed over `path`. On an error of `write` (returned as it is), of the
/// sync or of the rename (an [`Error`] converted into `E`), or on a panic in `write`, the
/// temporary file is removed and `path` is untouched. The directory must exist.
pub fn write<E: From<Error>>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    let tmp = temp_path(path);
    let mut guard = Guard {
        tmp: &tmp,
        armed: true,
    };
    write(&tmp)?;
    let fail = |op| {
        move |source| Error {
            path: path.to_path_buf(),
            op,
            source,
        }
    };
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(fail(Op::Sync))?;
    std::fs::rename(&tmp, path).map_err(fail(Op::Rename))?;
    guard.armed = false;
    Ok(())
}

/// Writes `bytes` to `path` atomically (see [`write`]).
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write(path, |tmp| {
        std::fs::write(tmp, bytes).map_err(Error::from_io(path))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names of the files in `dir`.
    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn content_lands_whole_and_no_temp_file_is_left() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("samples.npy");
        let big = vec![7u8; 1 << 20];
        write_bytes(&p, &big).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), big);
        // a second write replaces the first whole
        write_bytes(&p, b"short").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"short");
        assert_eq!(names(d.path()), ["samples.npy"]);
    }

    #[derive(Debug)]
    enum TestError {
        Writer,
        Fs(Error),
    }

    impl From<Error> for TestError {
        fn from(e: Error) -> Self {
            TestError::Fs(e)
        }
    }

    #[test]
    fn a_failing_writer_leaves_the_target_untouched_and_no_temp_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("metrics.json");
        std::fs::write(&p, b"old").unwrap();
        let r = write(&p, |tmp| {
            std::fs::write(tmp, b"half of the n").unwrap();
            Err::<(), _>(TestError::Writer)
        });
        assert!(matches!(r, Err(TestError::Writer)), "{r:?}");
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(names(d.path()), ["metrics.json"]);
    }

    #[test]
    fn a_panicking_writer_leaves_no_temp_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("plot.png");
        let r = std::panic::catch_unwind(|| {
            let _ = write(&p, |tmp| -> Result<(), Error> {
                std::fs::write(tmp, b"x").unwrap();
                panic!("drawing failed")
            });
        });
        assert!(r.is_err());
        assert!(names(d.path()).is_empty());
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_the_target() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("absent/loss.csv");
        let e = write_bytes(&p, b"x").unwrap_err();
        assert_eq!(e.op, Op::Write);
        assert_eq!(e.to_string(), format!("cannot write {}", p.display()));
        assert!(!d.path().join("absent").exists());
    }

    #[test]
    fn a_failed_rename_removes_the_temp_file() {
        let d = tempfile::tempdir().unwrap();
        // a directory in the way: the rename of a file over it fails
        let p = d.path().join("in_the_way");
        std::fs::create_dir(&p).unwrap();
        std::fs::write(p.join("keep"), b"1").unwrap();
        let e = write_bytes(&p, b"x").unwrap_err();
        assert_eq!(e.op, Op::Rename, "{e}");
        assert!(e.to_string().starts_with("cannot move "), "{e}");
        assert_eq!(names(d.path()), ["in_the_way"]);
        // through a caller's own error type
        let r = write(&p, |tmp| {
            std::fs::write(tmp, b"x").map_err(|_| TestError::Writer)
        });
        assert!(
            matches!(r, Err(TestError::Fs(Error { op: Op::Rename, .. }))),
            "{r:?}"
        );
        assert_eq!(names(d.path()), ["in_the_way"]);
    }

    #[test]
    fn temp_names_are_hidden_siblings_keeping_the_extension() {
        let t = temp_path(Path::new("/a/b/plot.png"));
        assert_eq!(t.parent().unwrap(), Path::new("/a/b"));
        let name = t.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with(".plot.") && name.ends_with(".tmp.png"),
            "{name}"
        );
        assert!(is_temp(name));
        let bare = temp_path(Path::new("checkpoint"));
        assert_eq!(bare.parent().unwrap(), Path::new("."));
        let name = bare.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with(".checkpoint.") && name.ends_with(".tmp"),
            "{name}"
        );
        assert!(is_temp(name));
        assert_ne!(
            temp_path(Path::new("a.json")),
            temp_path(Path::new("a.json"))
        );
        assert!(is_temp(".loss.csv.tmp-123-0"));
        for complete in ["loss.csv", "samples.npy", ".pf-lock", "tmp.png"] {
            assert!(!is_temp(complete), "{complete}");
        }
    }
}
