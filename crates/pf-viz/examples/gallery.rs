//! Writes one file of each kind into a directory (default `target/pf-viz-gallery`), from a small
//! deterministic ring-Langevin run (seed 003): `cargo run -p pf-viz --example gallery [DIR]`.

use std::path::PathBuf;

use pf_viz::*;

/// A tiny deterministic generator (no rand dependency): xorshift + Box–Muller.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-12);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Ring log-density of seed 003: −(r − 1)² / 0.033 with r the scaled radius.
fn ring_logpdf(x: f64, y: f64, rx: f64, ry: f64) -> f64 {
    let r = ((x / rx).powi(2) + (y / ry).powi(2)).sqrt();
    -(r - 1.0).powi(2) / 0.033
}

/// Its gradient.
fn ring_score(x: f64, y: f64, rx: f64, ry: f64) -> (f64, f64) {
    let r = ((x / rx).powi(2) + (y / ry).powi(2)).sqrt().max(1e-9);
    let c = -2.0 * (r - 1.0) / 0.033 / r;
    (c * x / (rx * rx), c * y / (ry * ry))
}

fn main() -> Result<()> {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/pf-viz-gallery"));
    std::fs::create_dir_all(&dir).expect("create output directory");
    let (rx, ry, eta) = (1.0, 2.5, [0.01, 0.1]);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut cur: Vec<[f64; 2]> = (0..4000).map(|_| [rng.normal(), rng.normal()]).collect();
    let mut frames = vec![cur
        .iter()
        .map(|p| [p[0] as f32, p[1] as f32])
        .collect::<Vec<_>>()];
    for _ in 0..40 {
        for p in &mut cur {
            let (gx, gy) = ring_score(p[0], p[1], rx, ry);
            p[0] += eta[0] * gx + (2.0 * eta[0]).sqrt() * rng.normal();
            p[1] += eta[1] * gy + (2.0 * eta[1]).sqrt() * rng.normal();
        }
        frames.push(cur.iter().map(|p| [p[0] as f32, p[1] as f32]).collect());
    }
    let last = frames.last().unwrap().clone();
    let outline = vec![ellipse_outline(rx, ry, 0.0, 0.0, 200)];
    let lim = Some((-3.0, 3.0));

    let mut with_nan = last.clone();
    with_nan[0] = [f32::NAN, 0.0];
    scatter(
        dir.join("scatter.png"),
        &with_nan,
        &ScatterOpts {
            title: "Langevin sampler at t=40".into(),
            x_label: "x coord".into(),
            y_label: "y coord".into(),
            x_range: lim,
            y_range: lim,
            alpha: 0.3,
            outline: outline.clone(),
            background: Some(
                Grid::from_fn((-3.0, 3.0), (-3.0, 3.0), 150, 150, |x, y| {
                    ring_logpdf(x, y, rx, ry)
                })
                .clamp_below(-30.0),
            ),
            ..ScatterOpts::default()
        },
    )?;
    let frame_opts = ScatterOpts {
        title: "Langevin sampler at t={step}".into(),
        x_range: lim,
        y_range: lim,
        alpha: 0.2,
        outline: outline.clone(),
        ..ScatterOpts::default()
    };
    strip(
        dir.join("strip.png"),
        &frames,
        &StripOpts {
            scatter: ScatterOpts {
                size: (260, 260),
                ..frame_opts.clone()
            },
            max_frames: 5,
            ..StripOpts::default()
        },
    )?;
    gif(
        dir.join("langevin.gif"),
        &frames,
        &GifOpts {
            scatter: ScatterOpts {
                title: "ULA on the ring".into(),
                size: (360, 360),
                ..frame_opts.clone()
            },
            delay_ms: 200,
            max_frames: 21,
            ..GifOpts::default()
        },
    )?;
    trajectories(
        dir.join("trajectories.png"),
        &frames,
        &[0, 1, 2],
        &TrajOpts {
            y_range: lim,
            ..TrajOpts::default()
        },
    )?;
    density(
        dir.join("density.png"),
        &last,
        &DensityOpts {
            title: "2-D histogram".into(),
            bins: (60, 60),
            x_range: lim,
            y_range: lim,
            ..DensityOpts::default()
        },
    )?;
    let xs: Vec<f64> = (0..200).map(|i| -4.0 + 8.0 * i as f64 / 199.0).collect();
    let truth: Vec<f64> = xs
        .iter()
        .map(|x| -0.5 * x * x - 0.5 * (std::f64::consts::TAU).ln())
        .collect();
    let learned: Vec<f64> = xs
        .iter()
        .zip(&truth)
        .map(|(x, t)| t + 0.05 * x.sin())
        .collect();
    curves(
        dir.join("loglik.png"),
        &[
            Series::line("learned (PF-ODE)", xs.clone(), learned),
            Series::dashed("true", xs.clone(), truth),
        ],
        &CurveOpts {
            title: "log-likelihood".into(),
            x_label: "x".into(),
            y_label: "log p(x)".into(),
            ..CurveOpts::default()
        },
    )?;
    let steps: Vec<f64> = (1..=500).map(|i| i as f64).collect();
    let loss: Vec<f64> = steps
        .iter()
        .map(|s| 2.0 / s.sqrt() + 0.01 * (1.0 + (s * 0.7).sin()))
        .collect();
    curves(
        dir.join("loss.png"),
        &[Series::line("train loss", steps, loss)],
        &CurveOpts {
            title: "DSM loss".into(),
            x_label: "step".into(),
            y_label: "loss".into(),
            log_y: true,
            ..CurveOpts::default()
        },
    )?;
    let samples: Vec<f32> = (0..5000).map(|_| rng.normal() as f32).collect();
    let pdf: Vec<f64> = xs
        .iter()
        .map(|x| (-0.5 * x * x).exp() / (std::f64::consts::TAU).sqrt())
        .collect();
    hist1d(
        dir.join("hist.png"),
        &samples,
        Some(&Series::line("N(0, 1)", xs, pdf)),
        &HistOpts {
            title: "samples vs true density".into(),
            ..HistOpts::default()
        },
    )?;
    panel(
        dir.join("panel.png"),
        &[
            Panel {
                title: "init  MMD 0.512".into(),
                points: frames[0].clone(),
            },
            Panel {
                title: "t=10  MMD 0.101".into(),
                points: frames[10].clone(),
            },
            Panel {
                title: "t=40  MMD 0.012".into(),
                points: last,
            },
        ],
        &PanelOpts {
            title: "ULA on the ring, rx=1, ry=2.5".into(),
            x_range: lim,
            y_range: lim,
            outline,
            alpha: 0.2,
            ..PanelOpts::default()
        },
    )?;
    println!("wrote the gallery to {}", dir.display());
    Ok(())
}
