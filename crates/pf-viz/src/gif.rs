//! Animated GIF of particle frames, each a scatter with a "step k/K" label (seed 001).

use std::path::Path;

use plotters::prelude::*;

use crate::atomic::write_gif;
use crate::data::{prepare_frames, step_labels, subsample, with_dropped};
use crate::error::{Error, Result};
use crate::scatter::{draw_frame, Frame, ScatterOpts};

/// Options of [`gif`].
#[derive(Clone, Debug)]
pub struct GifOpts {
    /// Per-frame look: title (may contain `{step}`), ranges, markers, outline, background, size.
    /// Ranges left `None` are computed once over all shown frames, so the axes stay fixed.
    pub scatter: ScatterOpts,
    /// The step index of each given frame (e.g. `0, 10, 20, ...` when every 10th step was
    /// recorded); `None`: `0..frames.len()`. The label reads "step k/K", K the last label.
    pub steps: Option<Vec<usize>>,
    /// Delay between frames in milliseconds (GIF stores 10 ms units: rounded to nearest).
    pub delay_ms: u32,
    /// At most this many frames are written, chosen evenly (first and last kept).
    pub max_frames: usize,
}

impl Default for GifOpts {
    fn default() -> Self {
        GifOpts {
            scatter: ScatterOpts {
                size: (400, 400),
                ..ScatterOpts::default()
            },
            steps: None,
            delay_ms: 100,
            max_frames: 100,
        }
    }
}

/// Writes an animated GIF (looping) of `frames` (frames × particles) to `path`. Each frame is
/// `present()`ed and checked. Non-finite points are dropped and counted next to the step label
/// (not in the title, so the axes never move between frames).
///
/// Errors: no frames or no particles at all, `max_frames == 0`, a step-label count that does not
/// match the frames, bad options, or an unwritable path.
pub fn gif(path: impl AsRef<Path>, frames: &[Vec<[f32; 2]>], opts: &GifOpts) -> Result<()> {
    let path = path.as_ref();
    if frames.iter().all(|f| f.is_empty()) {
        return Err(Error::empty(path, "no frames or no particles"));
    }
    if opts.max_frames == 0 {
        return Err(Error::invalid(path, "max_frames must be at least 1"));
    }
    let s = &opts.scatter;
    s.check(path)?;
    let labels = step_labels(path, frames.len(), opts.steps.as_deref())?;
    let total = *labels.last().unwrap_or(&0);
    let chosen = subsample(frames.len(), opts.max_frames);
    let prepared = prepare_frames(frames, &labels, &chosen);
    let (x_range, y_range) = s.ranges(path, prepared.iter().flat_map(|f| f.points.iter()))?;

    write_gif(path, s.size, opts.delay_ms, |root| {
        for fd in &prepared {
            root.fill(&WHITE)?;
            let title = if s.title.contains("{step}") {
                s.title.replace("{step}", &fd.step.to_string())
            } else {
                s.title.clone()
            };
            let frame = Frame {
                title,
                reserve_title: false,
                x_label: &s.x_label,
                y_label: &s.y_label,
                points: &fd.points,
                x_range,
                y_range,
                style: s.point_style(),
                outline: &s.outline,
                background: s.background.as_ref().map(|g| (g, s.background_levels)),
                corner_label: Some(with_dropped(
                    &format!("step {}/{total}", fd.step),
                    fd.dropped,
                )),
            };
            draw_frame(root, &frame)?;
            root.present()?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scatter::tests::{is_blue, near};
    use image::codecs::gif::GifDecoder;
    use image::AnimationDecoder;

    #[test]
    fn each_frame_shows_its_own_points() {
        let dir = tempfile::tempdir().unwrap();
        let base = ScatterOpts {
            x_range: Some((-3.0, 3.0)),
            y_range: Some((-3.0, 3.0)),
            point_size: 4,
            alpha: 1.0,
            size: (160, 160),
            ..ScatterOpts::default()
        };
        // same layout as a scatter with the same options (no title in either)
        let map =
            crate::scatter::render(&dir.path().join("ref.png"), &[[0.0, 0.0]], &base).unwrap();
        let xs = [-2.0_f32, 0.0, 2.0];
        let mut frames: Vec<Vec<[f32; 2]>> = xs.iter().map(|&x| vec![[x, 1.0]; 3]).collect();
        // a dropped point must not move the axes of its frame
        frames[1].push([f32::NAN, 0.0]);
        let path = dir.path().join("move.gif");
        let opts = GifOpts {
            scatter: base,
            ..GifOpts::default()
        };
        gif(&path, &frames, &opts).unwrap();
        let file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
        let decoded = GifDecoder::new(file)
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap();
        assert_eq!(decoded.len(), 3);
        for (k, f) in decoded.iter().enumerate() {
            let img = image::DynamicImage::ImageRgba8(f.buffer().clone()).to_rgb8();
            for (j, &x) in xs.iter().enumerate() {
                let here = near(&img, map.to_px(x as f64, 1.0), 1, is_blue);
                assert_eq!(here, j == k, "frame {k}, point {j}");
            }
        }
    }
}
