//! The run directory: where a model's files go, the rules for writing into an existing
//! directory (`--force`, `--resume`), and what a failed run leaves behind.

use crate::config::RunConfig;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Where model `name`'s files (checkpoint, weights, loss.csv) go in run directory `out`: `out`
/// itself for a run with one `[[model]]`, `out/models/<name>/` for several.
pub fn model_dir(cfg: &RunConfig, out: &Path, name: &str) -> PathBuf {
    if cfg.models.len() == 1 {
        out.to_path_buf()
    } else {
        out.join("models").join(name)
    }
}

/// Prepares the run directory: refuses a non-empty one unless `force`, creates it otherwise.
/// Errors name the directory.
pub fn prepare_dir(dir: &Path, force: bool) -> Result<PathBuf> {
    if dir.exists() {
        if !dir.is_dir() {
            anyhow::bail!("output {} exists and is not a directory", dir.display());
        }
        let non_empty = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read output directory {}", dir.display()))?
            .flatten()
            .any(|e| e.file_name() != super::LOCK_FILE);
        if non_empty && !force {
            anyhow::bail!(
                "output directory {} is not empty (use --force to write into it)",
                dir.display()
            );
        }
    } else {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create output directory {}", dir.display()))?;
    }
    if force {
        remove_stale_temps(dir);
        if let Ok(rd) = std::fs::read_dir(dir.join("models")) {
            for e in rd.flatten() {
                remove_stale_temps(&e.path());
            }
        }
    }
    // probe writability now, before any work
    let probe = dir.join(format!(".pf-write-probe.tmp-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .with_context(|| format!("output directory {} is not writable", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(dir.to_path_buf())
}

/// Whether a checkpoint lies in `dir` or one level of `models/<name>/` under it.
pub fn holds_checkpoint(dir: &Path) -> bool {
    let ck = |d: &Path| d.join("checkpoint.safetensors").exists();
    ck(dir)
        || std::fs::read_dir(dir.join("models"))
            .map(|rd| rd.flatten().any(|e| ck(&e.path())))
            .unwrap_or(false)
}

/// After a failed run into `dir`, which was absent (`existed` false) or empty before it: removes
/// what the run wrote unless it holds a checkpoint to `--resume` from, so a failed run leaves
/// either nothing or its last good checkpoints — never a half-made run directory.
pub fn discard_failed(dir: &Path, existed: bool) {
    if holds_checkpoint(dir) {
        return;
    }
    if !existed {
        let _ = std::fs::remove_dir_all(dir);
        return;
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
        }
    }
}

/// Whether `dir` is absent or an empty directory.
pub fn absent_or_empty(dir: &Path) -> bool {
    match std::fs::read_dir(dir) {
        Ok(mut rd) => rd.next().is_none(),
        Err(_) => !dir.exists(),
    }
}

/// Removes the temporary files a killed run left in `dir` ([`pf_fs::is_temp`]; never a
/// complete output: those are renamed into place).
fn remove_stale_temps(dir: &Path) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_name().to_str().is_some_and(pf_fs::is_temp) && e.path().is_file() {
                tracing::info!(file = %e.path().display(), "removing a killed run's temporary file");
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn force_removes_a_killed_runs_temporary_files_only() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::write(d.join("metrics.json"), b"{}").unwrap();
        let stale = pf_fs::temp_path(&d.join("samples.npy"));
        std::fs::write(&stale, b"half").unwrap();
        let e = prepare_dir(d, false).unwrap_err().to_string();
        assert!(e.contains("is not empty (use --force"), "{e}");
        prepare_dir(d, true).unwrap();
        assert!(!stale.exists() && d.join("metrics.json").exists());
    }
}
