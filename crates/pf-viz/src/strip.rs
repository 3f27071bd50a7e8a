//! A horizontal strip of frames, each titled with its step (seed 003's `frames_to_image`).

use std::path::Path;

use crate::atomic::{check_size, write_png};
use crate::data::{prepare_frames, step_labels, step_title, subsample, with_dropped};
use crate::error::{Error, Result};
use crate::scatter::{draw_frame, Frame, ScatterOpts};

/// Options of [`strip`].
#[derive(Clone, Debug)]
pub struct StripOpts {
    /// Per-frame look; `scatter.size` is the size of one frame. The frame title is
    /// `scatter.title` with `{step}` replaced, or "title, step k" without a placeholder.
    /// Ranges left `None` are shared, computed over all shown frames.
    pub scatter: ScatterOpts,
    /// Step index of each given frame; `None`: `0..frames.len()`.
    pub steps: Option<Vec<usize>>,
    /// At most this many frames are shown, chosen evenly (first and last kept).
    pub max_frames: usize,
}

impl Default for StripOpts {
    fn default() -> Self {
        StripOpts {
            scatter: ScatterOpts {
                size: (300, 300),
                ..ScatterOpts::default()
            },
            steps: None,
            max_frames: 11,
        }
    }
}

/// Writes the frames side by side, left to right, into one PNG.
///
/// Errors: no frames or no particles at all, `max_frames == 0`, a step-label count that does not
/// match the frames, bad options, a strip wider than the size limit, or an unwritable path.
pub fn strip(path: impl AsRef<Path>, frames: &[Vec<[f32; 2]>], opts: &StripOpts) -> Result<()> {
    let path = path.as_ref();
    if frames.iter().all(|f| f.is_empty()) {
        return Err(Error::empty(path, "no frames or no particles"));
    }
    if opts.max_frames == 0 {
        return Err(Error::invalid(path, "max_frames must be at least 1"));
    }
    let s = &opts.scatter;
    s.check(path)?;
    check_size(path, s.size)?;
    let labels = step_labels(path, frames.len(), opts.steps.as_deref())?;
    let chosen = subsample(frames.len(), opts.max_frames);
    let prepared = prepare_frames(frames, &labels, &chosen);
    let (x_range, y_range) = s.ranges(path, prepared.iter().flat_map(|f| f.points.iter()))?;
    let n = prepared.len() as u32;
    let size = (s.size.0.saturating_mul(n), s.size.1);

    write_png(path, size, |root| {
        let cells = root.split_evenly((1, prepared.len()));
        for (area, fd) in cells.iter().zip(&prepared) {
            let frame = Frame {
                title: with_dropped(&step_title(&s.title, fd.step), fd.dropped),
                reserve_title: false,
                x_label: &s.x_label,
                y_label: &s.y_label,
                points: &fd.points,
                x_range,
                y_range,
                style: s.point_style(),
                outline: &s.outline,
                background: s.background.as_ref().map(|g| (g, s.background_levels)),
                corner_label: None,
            };
            draw_frame(area, &frame)?;
        }
        Ok(())
    })
}
