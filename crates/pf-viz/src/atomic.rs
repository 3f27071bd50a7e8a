//! Atomic file output: render into a hidden temporary file in the target directory, then rename
//! ([`pf_fs::write`], pflow's one atomic write).
//!
//! The temporary file keeps the extension last (`.<stem>.<pid>-<n>.tmp.<ext>`) because the image
//! encoder picks the format from it. It is removed on any error, and on a panic while drawing, so
//! a failed call never leaves a half-written or stray file behind.

use std::fs;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::{BitMapBackend, DrawingArea, IntoDrawingArea, WHITE};

use crate::error::{DrawResult, Error, Result};
use crate::font;

/// A drawing area on a bitmap file backend (what every plotting function draws on).
pub(crate) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Raster formats the PNG-style functions accept (the encoder picks the format by extension).
const RASTER_EXTS: [&str; 4] = ["png", "jpg", "jpeg", "bmp"];

/// Smallest accepted image side, in pixels (below it plotters' layout breaks down).
pub(crate) const MIN_SIDE: u32 = 32;
/// Largest accepted image side, in pixels (GIF stores sizes in 16 bits).
pub(crate) const MAX_SIDE: u32 = 16_384;

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
}

/// Checks the image size against [`MIN_SIDE`]..=[`MAX_SIDE`].
pub(crate) fn check_size(path: &Path, (w, h): (u32, u32)) -> Result<()> {
    if !(MIN_SIDE..=MAX_SIDE).contains(&w) || !(MIN_SIDE..=MAX_SIDE).contains(&h) {
        return Err(Error::invalid(
            path,
            format!("image size {w}x{h} px is outside {MIN_SIDE}..={MAX_SIDE} px per side"),
        ));
    }
    Ok(())
}

impl From<pf_fs::Error> for Error {
    fn from(e: pf_fs::Error) -> Self {
        Error::Io {
            path: e.path,
            source: e.source,
        }
    }
}

/// Runs `render` on a temporary path next to `path`, then renames it onto `path` (through
/// [`pf_fs::write`]: the temporary file is removed on any error and on a panic while drawing).
fn write_atomic(path: &Path, render: impl FnOnce(&Path) -> DrawResult<()>) -> Result<()> {
    font::ensure_registered(path)?;
    if path.file_name().is_none() {
        return Err(Error::invalid(path, "the output path has no file name"));
    }
    pf_fs::write(path, |tmp| {
        // Probe: an unwritable or missing directory fails here, before any drawing.
        fs::File::create(tmp).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        render(tmp).map_err(|source| Error::Draw {
            path: path.to_path_buf(),
            source,
        })
    })
}

/// Writes one raster image (`.png`, `.jpg`, `.bmp`) of `size` pixels: `draw` gets the white root
/// area; `present()` is called and checked here.
pub(crate) fn write_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> DrawResult<()>,
) -> Result<()> {
    check_size(path, size)?;
    extension(path)
        .filter(|e| RASTER_EXTS.contains(&e.as_str()))
        .ok_or_else(|| {
            Error::invalid(
                path,
                "the file extension must be one of .png, .jpg, .jpeg, .bmp",
            )
        })?;
    write_atomic(path, |tmp| {
        let root = BitMapBackend::new(tmp, size).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
        Ok(())
    })
}

/// Writes an animated GIF of `size` pixels: `draw` gets the root area and must `present()` each
/// frame itself (and check the result). `delay_ms` is per frame (GIF stores 10 ms units).
pub(crate) fn write_gif(
    path: &Path,
    size: (u32, u32),
    delay_ms: u32,
    draw: impl FnOnce(&Area<'_>) -> DrawResult<()>,
) -> Result<()> {
    check_size(path, size)?;
    if extension(path).as_deref() != Some("gif") {
        return Err(Error::invalid(path, "the file extension must be .gif"));
    }
    write_atomic(path, |tmp| {
        // The encoder (and its trailer) is flushed when `root` drops, before the rename.
        let root = BitMapBackend::gif(tmp, size, delay_ms)?.into_drawing_area();
        draw(&root)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_extension_and_size() {
        let e = write_png(Path::new("x.svg"), (100, 100), |_| Ok(())).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
        let e = write_png(Path::new("x.png"), (0, 100), |_| Ok(())).unwrap_err();
        assert!(e.to_string().contains("x.png"), "{e}");
        let e = write_gif(Path::new("x.png"), (100, 100), 10, |_| Ok(())).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
    }
}
