//! Writing run outputs: every file goes to a temporary name in the same directory and is renamed
//! into place, so a file is either complete or absent — never half-written.

use anyhow::{Context, Result};
use ndarray::Array2;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

/// Writes `path` through `write(tmp)` and a rename; the temporary file is removed on failure.
pub fn atomic(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let r = write(&tmp).and_then(|()| {
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot move {} into place", path.display()))
    });
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}

/// Text (TOML, JSON, Markdown, CSV) to `path`, atomically.
pub fn text(path: &Path, s: &str) -> Result<()> {
    atomic(path, |tmp| {
        std::fs::write(tmp, s).with_context(|| format!("cannot write {}", path.display()))
    })
}

/// A tensor as an N×D float32 `.npy` (a 1-D tensor becomes N×1), atomically.
pub fn npy(path: &Path, x: &Tensor) -> Result<()> {
    let x = x.detach().to_device(Device::Cpu).to_kind(Kind::Float);
    let x = if x.dim() == 1 { x.unsqueeze(1) } else { x };
    let (n, d) = (x.size()[0] as usize, x.size()[1] as usize);
    let v: Vec<f32> = Vec::<f32>::try_from(x.contiguous().view([-1])).context("tensor to host")?;
    let a = Array2::from_shape_vec((n, d), v).context("npy shape")?;
    atomic(path, |tmp| {
        ndarray_npy::write_npy(tmp, &a).with_context(|| format!("cannot write {}", path.display()))
    })
}

/// Rows of a tensor as plain `[f32; 2]` points from columns (a, b), at most `max` of them.
pub fn points2(x: &Tensor, cols: (i64, i64), max: usize) -> Vec<[f32; 2]> {
    let n = (x.size()[0] as usize).min(max) as i64;
    let x = x
        .narrow(0, 0, n)
        .to_device(Device::Cpu)
        .to_kind(Kind::Float);
    let a: Vec<f32> = Vec::try_from(x.select(1, cols.0).contiguous()).unwrap_or_default();
    let b: Vec<f32> = Vec::try_from(x.select(1, cols.1).contiguous()).unwrap_or_default();
    a.into_iter().zip(b).map(|(a, b)| [a, b]).collect()
}

/// One column as host floats, at most `max`.
pub fn column(x: &Tensor, col: i64, max: usize) -> Vec<f32> {
    let n = (x.size()[0] as usize).min(max) as i64;
    Vec::try_from(
        x.narrow(0, 0, n)
            .select(1, col)
            .to_device(Device::Cpu)
            .to_kind(Kind::Float)
            .contiguous(),
    )
    .unwrap_or_default()
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
            .any(|e| e.file_name() != crate::faults::lock::LOCK_FILE);
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
fn holds_checkpoint(dir: &Path) -> bool {
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

/// Whether `name` is one of pflow's temporary files (`.<name>.tmp-<pid>…`, pf-viz's
/// `.<stem>.<pid>-<n>.tmp.<ext>`).
pub fn is_temp(name: &str) -> bool {
    name.starts_with('.') && (name.contains(".tmp-") || name.contains(".tmp."))
}

/// Removes the temporary files a killed run left in `dir` (never a complete output: those are
/// renamed into place).
fn remove_stale_temps(dir: &Path) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_name().to_str().is_some_and(is_temp) && e.path().is_file() {
                tracing::info!(file = %e.path().display(), "removing a killed run's temporary file");
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}
