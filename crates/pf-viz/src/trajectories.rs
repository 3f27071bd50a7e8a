//! Per-particle trajectories: a coordinate against the step, one subplot per axis (seed 003).

use std::path::Path;

use crate::atomic::write_png;
use crate::colormap::palette;
use crate::curves::{draw_series_chart, Prepared, SeriesStyle};
use crate::data::{auto_range, check_range, step_labels, with_dropped};
use crate::error::{Error, Result};

/// Options of [`trajectories`].
#[derive(Clone, Debug)]
pub struct TrajOpts {
    /// Prefix of the subplot titles (empty: none).
    pub title: String,
    /// Names of the plotted axes, one subplot each: 1 or 2 entries (default "x", "y").
    pub axis_names: Vec<String>,
    /// Label of the horizontal axis.
    pub x_label: String,
    /// Shared vertical range; `None`: each subplot's data range plus a 5% margin.
    pub y_range: Option<(f64, f64)>,
    /// The step index of each frame (strided recording); `None`: `0..frames`.
    pub steps: Option<Vec<usize>>,
    /// Image size in pixels (all subplots together).
    pub size: (u32, u32),
}

impl Default for TrajOpts {
    fn default() -> Self {
        TrajOpts {
            title: String::new(),
            axis_names: vec!["x".into(), "y".into()],
            x_label: "timestep".into(),
            y_range: None,
            steps: None,
            size: (1000, 320),
        }
    }
}

/// Writes, for each axis, the chosen particles' coordinate against the step (`traj` is
/// frames × particles) to `path` (PNG); several particles are overlaid with a legend.
/// Non-finite coordinates break the line and are counted in the subplot title.
///
/// Errors: no frames or no particles chosen, a particle index missing from some frame, 0 or
/// more than 2 axis names, a step-label count that does not match, or an unwritable path.
pub fn trajectories(
    path: impl AsRef<Path>,
    traj: &[Vec<[f32; 2]>],
    particles: &[usize],
    opts: &TrajOpts,
) -> Result<()> {
    let path = path.as_ref();
    if traj.is_empty() {
        return Err(Error::empty(path, "no frames"));
    }
    if particles.is_empty() {
        return Err(Error::empty(path, "no particles chosen"));
    }
    let naxes = opts.axis_names.len();
    if !(1..=2).contains(&naxes) {
        return Err(Error::invalid(
            path,
            format!("{naxes} axis names given, 1 or 2 expected"),
        ));
    }
    for &p in particles {
        if let Some((f, frame)) = traj.iter().enumerate().find(|(_, fr)| p >= fr.len()) {
            return Err(Error::invalid(
                path,
                format!(
                    "particle {p} out of range: frame {f} has {} particles",
                    frame.len()
                ),
            ));
        }
    }
    if let Some(r) = opts.y_range {
        check_range(path, r, "y_range")?;
    }
    let steps = step_labels(path, traj.len(), opts.steps.as_deref())?;
    let xs: Vec<f64> = steps.iter().map(|&s| s as f64).collect();
    let x_range = match (xs.first(), xs.last()) {
        (Some(&a), Some(&b)) if b > a => (a, b),
        (Some(&a), _) => (a - 0.5, a + 0.5),
        _ => (0.0, 1.0),
    };

    // Per axis: the series of each particle, and the count of non-finite values dropped.
    let mut subplots = Vec::with_capacity(naxes);
    for axis in 0..naxes {
        let mut dropped = 0;
        let mut series = Vec::with_capacity(particles.len());
        for (k, &p) in particles.iter().enumerate() {
            let mut pieces = Vec::new();
            let mut cur = Vec::new();
            for (x, frame) in xs.iter().zip(traj) {
                let v = frame[p][axis];
                if v.is_finite() {
                    cur.push((*x, v as f64));
                } else {
                    dropped += 1;
                    if !cur.is_empty() {
                        pieces.push(std::mem::take(&mut cur));
                    }
                }
            }
            if !cur.is_empty() {
                pieces.push(cur);
            }
            series.push(Prepared {
                name: if particles.len() > 1 {
                    format!("particle {p}")
                } else {
                    String::new()
                },
                style: SeriesStyle::Line,
                color: palette(k),
                pieces,
            });
        }
        let name = &opts.axis_names[axis];
        let what = if particles.len() == 1 {
            format!("Trajectory of particle {} along {name}-axis", particles[0])
        } else {
            let ids: Vec<String> = particles.iter().map(|p| p.to_string()).collect();
            format!(
                "Trajectories of particles {} along {name}-axis",
                ids.join(", ")
            )
        };
        let title = if opts.title.is_empty() {
            what
        } else {
            format!("{}: {what}", opts.title)
        };
        let y_range = opts.y_range.unwrap_or_else(|| {
            auto_range(
                series
                    .iter()
                    .flat_map(|s| s.pieces.iter().flatten().map(|q| q.1)),
            )
            .unwrap_or((-1.0, 1.0))
        });
        subplots.push((with_dropped(&title, dropped), series, y_range));
    }

    write_png(path, opts.size, |root| {
        let cells = root.split_evenly((1, naxes));
        for (axis, (area, (title, series, yr))) in cells.iter().zip(&subplots).enumerate() {
            let y_label = format!("{} coord", opts.axis_names[axis]);
            draw_series_chart(
                area,
                title,
                &opts.x_label,
                &y_label,
                x_range,
                yr.0..yr.1,
                series,
            )?;
        }
        Ok(())
    })
}
