//! Seed 002's 1-D figures with the exact score (no training): the reverse SDE and the PF ODE on
//! the 1-D mixture of three under VP (0.1, 20), both started from the same 20 000 prior draws.
//!
//! Writes into OUT (default `runs/seed002_exact`): `trajectories_1d.png` (x against t for 300
//! particles of each sampler), `marginals.png` (histograms at chosen times against the exact
//! marginal p_t from the oracle, W₁ per time in each title; one row per sampler) and
//! `w1.json` (the W₁ per sampler and time, with the exact-sample floor at n = 20 000).
//!
//! `cargo run -p pf-sample --example seed002_exact -- [OUT]`
//!
//! A run makes the same figures for a trained model: `pf run configs/seed002_gmm1d.toml` writes
//! `<sampler>_paths.png` and `<sampler>_marginals.png` (pf-run's `run::time_marginals`).

use pf_core::metrics::{w1_null_mean, w1_to_mixture};
use pf_core::oracle::GmmOracle;
use pf_core::path::VpLinear;
use pf_core::target::{GaussianMixture, Target};
use pf_sample::ode::{OdeMethod, OdeSampler};
use pf_sample::reverse_sde::{Grid, ReverseSde};
use pf_sample::trajectory::Trajectory;
use pf_sample::Driver;
use pf_viz::{marginal_hists, paths_1d, MarginalOpts, MarginalPanel, Paths1d, Paths1dOpts};
use std::path::PathBuf;
use tch::{Device, Kind, Tensor};

const TIMES: [f64; 6] = [1.0, 0.6, 0.3, 0.1, 0.03, 0.001];

fn column(x: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(x.to_kind(Kind::Float).view([-1])).expect("float column")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "runs/seed002_exact".into()),
    );
    std::fs::create_dir_all(&out)?;
    tch::manual_seed(0);
    let o = GmmOracle::new(GaussianMixture::gmm1d(), VpLinear::default());
    let n = 20_000;
    let x1 = Tensor::randn([n, 1], (Kind::Float, Device::Cpu));
    let sde = ReverseSde {
        grid: Grid {
            steps: 1000,
            t_start: None,
            t_end: 1e-3,
        },
    }
    .run(&o.path, &o, &x1, &mut Driver::new(Some(10), None))?;
    let ode = OdeSampler {
        method: OdeMethod::Rk4,
        steps: 200,
        ..OdeSampler::default()
    }
    .pf_ode(&o.path, &o, &x1, &mut Driver::new(Some(2), None))?;
    let runs: [(&str, Trajectory); 2] = [
        (
            "reverse SDE (Euler–Maruyama, 1000 steps)",
            sde.trajectory.expect("recorded"),
        ),
        ("PF ODE (RK4, 200 steps)", ode.trajectory.expect("recorded")),
    ];
    let floor = w1_null_mean(&o.gmm, n as usize)?;
    let mut paths = Vec::new();
    let mut panels = Vec::new();
    let mut table = Vec::new();
    for (name, tr) in &runs {
        paths.push(Paths1d {
            title: name.to_string(),
            ts: tr.times.clone(),
            frames: tr
                .frames
                .iter()
                .map(|f| column(&f.narrow(0, 0, 300)))
                .collect(),
        });
        for &t in &TIMES {
            let k = (0..tr.times.len())
                .min_by(|&a, &b| (tr.times[a] - t).abs().total_cmp(&(tr.times[b] - t).abs()))
                .expect("frames");
            let tk = tr.times[k];
            let xs = column(&tr.frames[k]);
            let m = o.marginal(tk)?;
            let w1 = w1_to_mixture(&xs.iter().map(|&v| v as f64).collect::<Vec<_>>(), &m)?;
            let grid = Tensor::linspace(-4.5, 4.5, 400, (Kind::Double, Device::Cpu)).view([-1, 1]);
            let dens = Vec::<f64>::try_from(m.log_prob(&grid).expect("density").exp())?;
            let gx = Vec::<f64>::try_from(grid.view([-1]))?;
            let short = name.split(' ').take(2).collect::<Vec<_>>().join(" ");
            panels.push(MarginalPanel {
                title: format!("{short}, t = {tk:.3}: W₁ {w1:.4}"),
                samples: xs,
                density: gx.into_iter().zip(dens).collect(),
            });
            table.push(format!(
                "{{\"sampler\": \"{name}\", \"t\": {tk}, \"w1\": {w1}}}"
            ));
            println!("{name:45} t = {tk:.3}  W₁ = {w1:.4}");
        }
    }
    println!("exact-sample W₁ floor at n = {n}: {floor:.4}");
    paths_1d(
        out.join("trajectories_1d.png"),
        &paths,
        &Paths1dOpts {
            title: "seed 002: 1-D mixture under VP, exact score".into(),
            ..Paths1dOpts::default()
        },
    )?;
    marginal_hists(
        out.join("marginals.png"),
        &panels,
        &MarginalOpts {
            title: "particles at chosen times against the exact marginal p_t (red)".into(),
            cols: TIMES.len(),
            range: Some((-4.5, 4.5)),
            panel_size: (300, 240),
            ..MarginalOpts::default()
        },
    )?;
    std::fs::write(
        out.join("w1.json"),
        format!(
            "{{\"n\": {n}, \"floor\": {floor}, \"w1\": [{}]}}\n",
            table.join(", ")
        ),
    )?;
    println!("wrote {}", out.display());
    Ok(())
}
