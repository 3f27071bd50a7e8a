//! # pf-viz
//!
//! Plots and animations for pflow, drawn with `plotters` from plain arrays: no models, no tensors.
//! Every function writes one file (atomically: a hidden temporary file in the same directory,
//! renamed on success) and returns [`Result<()>`](Result).
//!
//! - [`scatter`]: 2-D points, optional red target outline ([`ellipse_outline`]) and background
//!   field ([`Grid`], e.g. a log-density in filled bands);
//! - [`density`]: 2-D histogram heatmap of samples;
//! - [`trajectories`]: chosen particles' coordinates against the step, one subplot per axis;
//! - [`gif`]: animated scatter of particle frames with a "step k/K" label;
//! - [`strip`]: frames side by side;
//! - [`curves`]: 1-D curves with a legend (log-likelihoods, loss curves with `log_y` where
//!   [`log_axis_fits`]);
//! - [`errorbars`]: means ± error bars against a parameter, one line per series (sweeps);
//! - [`panel`]: a grid of scatters, one per method, titles carrying metrics;
//! - [`hist1d`]: density-normalised 1-D histogram with an optional true-density curve;
//! - [`paths_1d`]: many particles' x against t, one subplot per sampler (seed 002);
//! - [`marginal_hists`]: small multiples of particle histograms at chosen times against the
//!   exact marginal densities (seed 002).
//!
//! Points are `[f32; 2]` (or `f32` in 1-D); non-finite ones are skipped and counted in the title
//! ("(k non-finite dropped)"). Empty input is an error naming the output path.
//!
//! Text uses DejaVu Sans embedded in the crate (plotters' `ab_glyph` backend): no fontconfig.
//!
//! ```no_run
//! use pf_viz::{ellipse_outline, scatter, ScatterOpts};
//! let points = vec![[1.5_f32, 0.0], [0.0, 1.5], [-1.5, 0.0]];
//! let opts = ScatterOpts {
//!     title: "Langevin sampler".into(),
//!     x_range: Some((-3.0, 3.0)),
//!     y_range: Some((-3.0, 3.0)),
//!     outline: vec![ellipse_outline(1.5, 1.5, 0.0, 0.0, 200)],
//!     ..ScatterOpts::default()
//! };
//! scatter("ring.png", &points, &opts)?;
//! # Ok::<(), pf_viz::Error>(())
//! ```

#![warn(missing_docs)]

mod atomic;
mod colormap;
mod curves;
mod data;
mod density;
mod error;
mod errorbars;
mod font;
mod gif;
mod grid;
mod hist;
mod marginals;
mod outline;
mod panel;
mod scatter;
mod strip;
mod trajectories;

pub use curves::{curves, log_axis_fits, CurveOpts, Series, SeriesStyle};
pub use density::{density, DensityOpts};
pub use error::{Error, Result};
pub use errorbars::{errorbars, ErrorBarOpts, ErrorSeries};
pub use gif::{gif, GifOpts};
pub use grid::Grid;
pub use hist::{hist1d, HistOpts};
pub use marginals::{marginal_hists, paths_1d, MarginalOpts, MarginalPanel, Paths1d, Paths1dOpts};
pub use outline::ellipse_outline;
pub use panel::{panel, Panel, PanelOpts};
pub use scatter::{scatter, ScatterOpts};
pub use strip::{strip, StripOpts};
pub use trajectories::{trajectories, TrajOpts};

/// An RGB colour (plotters' type): `RGBColor(r, g, b)`.
pub use plotters::style::RGBColor;
