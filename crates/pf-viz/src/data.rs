//! Input preparation shared by the plots: finite filtering, ranges, titles, subsampling, clipping.

use std::path::Path;

use crate::error::{Error, Result};

/// Relative margin added on each side of an automatic range.
pub(crate) const MARGIN: f64 = 0.05;

/// The finite points as f64 pairs, and how many were dropped for a NaN or infinite coordinate.
pub(crate) fn finite_points(points: &[[f32; 2]]) -> (Vec<(f64, f64)>, usize) {
    let kept: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p[0].is_finite() && p[1].is_finite())
        .map(|p| (p[0] as f64, p[1] as f64))
        .collect();
    let dropped = points.len() - kept.len();
    (kept, dropped)
}

/// `[min, max]` of the finite values, widened by [`MARGIN`] of the span on each side
/// (by 0.5 either side when all values are equal); `None` when there is no finite value.
pub(crate) fn auto_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return None;
    }
    let span = hi - lo;
    if span <= f64::EPSILON * lo.abs().max(hi.abs()).max(1.0) {
        let pad = 0.5_f64.max(lo.abs() * MARGIN);
        return Some((lo - pad, hi + pad));
    }
    Some((lo - MARGIN * span, hi + MARGIN * span))
}

/// Checks a user range: both ends finite and `lo < hi`.
pub(crate) fn check_range(path: &Path, (lo, hi): (f64, f64), name: &str) -> Result<()> {
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(Error::invalid(
            path,
            format!("{name} ({lo}, {hi}) must be finite with lo < hi"),
        ));
    }
    Ok(())
}

/// The given range (checked), or the automatic one over `values`, or (-1, 1) with no data.
pub(crate) fn resolve_range(
    path: &Path,
    given: Option<(f64, f64)>,
    values: impl IntoIterator<Item = f64>,
    name: &str,
) -> Result<(f64, f64)> {
    match given {
        Some(r) => {
            check_range(path, r, name)?;
            Ok(r)
        }
        None => Ok(auto_range(values).unwrap_or((-1.0, 1.0))),
    }
}

/// `title` with " (k non-finite dropped)" appended when `k > 0`.
pub(crate) fn with_dropped(title: &str, dropped: usize) -> String {
    with_note(title, dropped, "non-finite")
}

/// `title` with " (k <what> dropped)" appended when `k > 0`.
pub(crate) fn with_note(title: &str, dropped: usize, what: &str) -> String {
    match (dropped, title.is_empty()) {
        (0, _) => title.to_string(),
        (k, true) => format!("({k} {what} dropped)"),
        (k, false) => format!("{title} ({k} {what} dropped)"),
    }
}

/// A frame title for `step`: `{step}` in `template` is replaced by the step; otherwise
/// "template, step k" (or "step k" for an empty template).
pub(crate) fn step_title(template: &str, step: usize) -> String {
    if template.contains("{step}") {
        template.replace("{step}", &step.to_string())
    } else if template.is_empty() {
        format!("step {step}")
    } else {
        format!("{template}, step {step}")
    }
}

/// At most `max` indices out of `0..n`, evenly spaced, always keeping the first and the last.
pub(crate) fn subsample(n: usize, max: usize) -> Vec<usize> {
    if n <= max {
        return (0..n).collect();
    }
    if max <= 1 {
        return vec![0];
    }
    (0..max)
        .map(|i| ((i as f64) * (n - 1) as f64 / (max - 1) as f64).round() as usize)
        .collect()
}

/// The step labels of `n` frames: `steps` (checked to have `n` entries) or `0..n`.
pub(crate) fn step_labels(path: &Path, n: usize, steps: Option<&[usize]>) -> Result<Vec<usize>> {
    match steps {
        Some(s) if s.len() != n => Err(Error::invalid(
            path,
            format!("{} step labels given for {n} frames", s.len()),
        )),
        Some(s) => Ok(s.to_vec()),
        None => Ok((0..n).collect()),
    }
}

/// One frame ready to draw: its step label, finite points, and how many were dropped.
pub(crate) struct FrameData {
    pub step: usize,
    pub points: Vec<(f64, f64)>,
    pub dropped: usize,
}

/// The frames at indices `chosen`, filtered to finite points, with their step labels.
pub(crate) fn prepare_frames(
    frames: &[Vec<[f32; 2]>],
    labels: &[usize],
    chosen: &[usize],
) -> Vec<FrameData> {
    chosen
        .iter()
        .map(|&i| {
            let (points, dropped) = finite_points(&frames[i]);
            FrameData {
                step: labels[i],
                points,
                dropped,
            }
        })
        .collect()
}

/// Liang–Barsky: the part of segment a→b inside the rectangle, if any.
fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0_f64, 1.0_f64);
    for (p, q) in [
        (-dx, a.0 - x0),
        (dx, x1 - a.0),
        (-dy, a.1 - y0),
        (dy, y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    (t0 <= t1).then_some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

/// Splits a polyline into the pieces inside the rectangle (non-finite vertices break the line).
pub(crate) fn clip_polyline(
    line: &[(f64, f64)],
    xr: (f64, f64),
    yr: (f64, f64),
) -> Vec<Vec<(f64, f64)>> {
    let mut pieces: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    for w in line.windows(2) {
        let (a, b) = (w[0], w[1]);
        let finite = a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite();
        match clip_segment(a, b, xr, yr).filter(|_| finite) {
            Some((p, q)) => {
                if current.last() != Some(&p) {
                    if current.len() > 1 {
                        pieces.push(std::mem::take(&mut current));
                    }
                    current.clear();
                    current.push(p);
                }
                current.push(q);
            }
            None => {
                if current.len() > 1 {
                    pieces.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() > 1 {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_points_counts_drops() {
        let (p, k) = finite_points(&[
            [1.0, 2.0],
            [f32::NAN, 0.0],
            [0.0, f32::INFINITY],
            [3.0, 4.0],
        ]);
        assert_eq!(p, vec![(1.0, 2.0), (3.0, 4.0)]);
        assert_eq!(k, 2);
    }

    #[test]
    fn auto_range_has_five_percent_margin() {
        let (lo, hi) = auto_range([0.0, 10.0, f64::NAN]).unwrap();
        assert!((lo + 0.5).abs() < 1e-12 && (hi - 10.5).abs() < 1e-12);
        assert_eq!(auto_range([2.0, 2.0]), Some((1.5, 2.5)));
        assert_eq!(auto_range([f64::NAN]), None);
    }

    #[test]
    fn titles() {
        assert_eq!(with_dropped("a", 0), "a");
        assert_eq!(with_dropped("a", 3), "a (3 non-finite dropped)");
        assert_eq!(with_dropped("", 1), "(1 non-finite dropped)");
        assert_eq!(step_title("t={step}", 4), "t=4");
        assert_eq!(step_title("ULA", 4), "ULA, step 4");
        assert_eq!(step_title("", 4), "step 4");
    }

    #[test]
    fn subsample_keeps_ends() {
        assert_eq!(subsample(3, 5), vec![0, 1, 2]);
        assert_eq!(subsample(11, 3), vec![0, 5, 10]);
        assert_eq!(subsample(10, 4), vec![0, 3, 6, 9]);
        assert_eq!(subsample(10, 1), vec![0]);
    }

    #[test]
    fn clipping() {
        let line = [(-2.0, 0.0), (0.0, 0.0), (2.0, 0.0), (2.0, 5.0), (0.0, 0.5)];
        let pieces = clip_polyline(&line, (-1.0, 1.0), (-1.0, 1.0));
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0], vec![(-1.0, 0.0), (0.0, 0.0), (1.0, 0.0)]);
        let last = pieces[1].last().unwrap();
        assert_eq!(*last, (0.0, 0.5));
        assert!(clip_polyline(&[(5.0, 5.0), (6.0, 6.0)], (0.0, 1.0), (0.0, 1.0)).is_empty());
    }
}
