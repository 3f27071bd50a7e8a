//! One run per directory: an exclusive `flock` on `<out>/.pf-lock`, held for the run's lifetime.
//!
//! The lock is taken before anything else is written into the directory (the directory itself
//! is created here when absent), so of two runs started into the same new directory at once
//! exactly one gets it; the other is refused with the holder's pid (written into the lock file)
//! and touches nothing — in particular it never removes the directory on its error path. The
//! kernel releases a `flock` when its holder dies, so a lock file left by a killed run is
//! stale and never blocks. The file is removed when the run ends (while still locked; a
//! waiting opener then sees another inode and retries on the new file).

use anyhow::{Context, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The lock file's name inside the run directory.
pub const LOCK_FILE: &str = ".pf-lock";

/// The held lock of one run directory (released on drop).
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    _file: File,
    created: bool,
    was_empty: bool,
}

impl RunLock {
    /// Creates `dir` if absent and locks it. Errors: `dir` is not a directory, cannot be
    /// created or written, or another live run holds it (the message names its pid).
    pub fn acquire(dir: &Path) -> Result<Self> {
        if dir.exists() && !dir.is_dir() {
            anyhow::bail!("output {} exists and is not a directory", dir.display());
        }
        let created = if dir.is_dir() {
            false
        } else {
            let cannot = || format!("cannot create output directory {}", dir.display());
            let mut made = std::fs::create_dir(dir);
            if made
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
            {
                if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).with_context(cannot)?;
                }
                made = std::fs::create_dir(dir);
            }
            // only the run whose mkdir succeeded created it (two may race here)
            match made {
                Ok(()) => true,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => false,
                Err(e) => return Err(e).with_context(cannot),
            }
        };
        let path = dir.join(LOCK_FILE);
        for _ in 0..16 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .with_context(|| format!("output directory {} is not writable", dir.display()))?;
            // SAFETY: flock(2) on a descriptor this function owns.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                    anyhow::bail!(
                        "output directory {} is in use by another {} run (pid {}); wait for it to end or use another --out",
                        dir.display(),
                        crate::program::name(),
                        holder(&path)
                    );
                }
                return Err(e).with_context(|| format!("cannot lock {}", path.display()));
            }
            // the previous holder may have removed the file between our open and our lock
            let same = match (file.metadata(), std::fs::metadata(&path)) {
                (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
                _ => false,
            };
            if !same {
                continue;
            }
            file.set_len(0)
                .and_then(|()| file.write_all(format!("{}\n", std::process::id()).as_bytes()))
                .and_then(|()| file.flush())
                .with_context(|| format!("cannot write {}", path.display()))?;
            let was_empty = created
                || std::fs::read_dir(dir)
                    .map(|rd| rd.flatten().all(|e| e.file_name() == LOCK_FILE))
                    .unwrap_or(false);
            return Ok(Self {
                path,
                _file: file,
                created,
                was_empty,
            });
        }
        anyhow::bail!(
            "cannot lock output directory {}: {LOCK_FILE} keeps being replaced",
            dir.display()
        )
    }

    /// Whether this run created the directory.
    pub fn created(&self) -> bool {
        self.created
    }

    /// Whether the directory was absent or empty (but for the lock file) before this run.
    pub fn was_empty(&self) -> bool {
        self.was_empty
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // removed while still locked; the descriptor closes (and unlocks) right after
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The pid written in a held lock file ("unknown" if the holder has not written it yet).
fn holder(path: &Path) -> String {
    for _ in 0..20 {
        if let Some(pid) = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            return pid.to_string();
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    "unknown".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_with_the_pid_and_released_on_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        let l = RunLock::acquire(&dir).unwrap();
        assert!(l.created() && l.was_empty());
        let pid = std::fs::read_to_string(dir.join(LOCK_FILE)).unwrap();
        assert_eq!(pid.trim(), std::process::id().to_string());
        // a second open file description of the same file does not get the flock
        let e = RunLock::acquire(&dir).unwrap_err().to_string();
        assert!(
            e.contains(&format!(
                "in use by another {} run (pid {})",
                crate::program::name(),
                std::process::id()
            )),
            "{e}"
        );
        drop(l);
        assert!(!dir.join(LOCK_FILE).exists());
        std::fs::write(dir.join("x"), b"1").unwrap();
        let l = RunLock::acquire(&dir).unwrap();
        assert!(!l.created() && !l.was_empty());
    }

    #[test]
    fn a_stale_lock_file_does_not_block() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(LOCK_FILE), b"999999\n").unwrap();
        let l = RunLock::acquire(tmp.path()).unwrap();
        assert!(l.was_empty());
        let pid = std::fs::read_to_string(tmp.path().join(LOCK_FILE)).unwrap();
        assert_eq!(pid.trim(), std::process::id().to_string());
    }
}
