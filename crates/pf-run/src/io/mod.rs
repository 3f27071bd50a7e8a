//! pf-run's file I/O in one place: the run directory ([`dir`]: where each file goes, the
//! `--force` / `--resume` rules, clean-up after a failed run), its lock ([`lock`]), and the
//! writers of text and `.npy` files. Every file goes through [`pf_fs`]: written to a temporary
//! name in the same directory, synced and renamed into place, so a file is either complete or
//! absent — never half-written.

pub mod dir;
pub mod lock;

pub use dir::{absent_or_empty, discard_failed, model_dir, prepare_dir};
pub use lock::{RunLock, LOCK_FILE};

use anyhow::{Context, Result};
use ndarray::Array2;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// Text (TOML, JSON, Markdown, CSV, scripts) to `path`, atomically.
pub fn text(path: &Path, s: &str) -> Result<()> {
    Ok(pf_fs::write_bytes(path, s.as_bytes())?)
}

/// A tensor as an N×D float32 `.npy` (a 1-D tensor becomes N×1), atomically.
pub fn npy(path: &Path, x: &Tensor) -> Result<()> {
    let x = x.detach().to_device(Device::Cpu).to_kind(Kind::Float);
    let x = if x.dim() == 1 { x.unsqueeze(1) } else { x };
    let (n, d) = (x.size()[0] as usize, x.size()[1] as usize);
    let v: Vec<f32> = Vec::<f32>::try_from(x.contiguous().view([-1])).context("tensor to host")?;
    let a = Array2::from_shape_vec((n, d), v).context("npy shape")?;
    pf_fs::write(path, |tmp| {
        ndarray_npy::write_npy(tmp, &a).with_context(|| format!("cannot write {}", path.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_npy_land_whole_without_temp_files() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        text(&d.join("a.md"), "# a\n").unwrap();
        npy(&d.join("x.npy"), &Tensor::from_slice(&[1f32, 2.0, 3.0])).unwrap();
        let a: Array2<f32> = ndarray_npy::read_npy(d.join("x.npy")).unwrap();
        assert_eq!(a.dim(), (3, 1));
        assert_eq!(std::fs::read_to_string(d.join("a.md")).unwrap(), "# a\n");
        let mut names: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["a.md", "x.npy"]);
        let e = text(&d.join("absent/b.md"), "b").unwrap_err();
        assert!(e.to_string().starts_with("cannot write "), "{e}");
    }
}
