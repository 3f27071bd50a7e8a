//! Seed 004's Langevin-corrected path SDE: one Gaussian noise draw per step, marginals preserved.

use pf_core::field::{FnScore, FnVelocity};
use pf_core::oracle::GmmOracle;
use pf_core::path::CondPath;
use pf_core::target::GaussianMixture;
use pf_sample::path_sde::PathSde;
use pf_sample::Driver;
use tch::{Device, Kind, Tensor};

/// With zero drift one step adds σ√h ξ: variance σ²h and kurtosis 3 (Gaussian). Drawing the
/// noise twice per step (σ ξ₁ · ξ₂ √h, as in the lab code) keeps the variance but gives
/// kurtosis E[ξ₁⁴]E[ξ₂⁴] = 9, which this test would catch.
#[test]
fn one_gaussian_draw_per_step() {
    let _rng = pf_core::rng::seed_exclusive(31);
    let zero_v = FnVelocity(|x: &Tensor, _t: &Tensor| x.zeros_like());
    let zero_s = FnScore(|x: &Tensor, _t: &Tensor| x.zeros_like());
    let (sigma, steps) = (0.7, 4);
    let sde = PathSde {
        sigma,
        steps,
        t_start: 1.0,
        t_end: 0.0,
    };
    let n = 400_000;
    let x0 = Tensor::zeros([n, 1], (Kind::Double, Device::Cpu));
    let out = sde
        .run(&zero_v, &zero_s, &x0, &mut Driver::default())
        .unwrap();
    let x = out.x.to_kind(Kind::Double);
    let v = x.var(true).double_value(&[]);
    let want = sigma * sigma; // steps · σ² h = σ² (t_start − t_end)
    assert!(
        (v - want).abs() < 5.0 * want * (2.0 / n as f64).sqrt(),
        "var {v} vs {want}"
    );
    // the sum of 4 Gaussian increments is Gaussian: kurtosis 3 (double draws: 3 + 6/4 = 4.5)
    let k = x.pow_tensor_scalar(4).mean(Kind::Double).double_value(&[]) / (v * v);
    assert!((k - 3.0).abs() < 0.1, "kurtosis {k}");
}

/// With the exact velocity and score of a Gaussian on the linear path, the SDE started from
/// N(0, I) at t = 1 ends at p_{t_end} for every σ: mean and variance match.
#[test]
fn marginals_are_preserved_for_any_sigma() {
    let _rng = pf_core::rng::seed_exclusive(0);
    let target =
        GaussianMixture::new(vec![1.0], vec![vec![1.0, -0.5]], vec![vec![0.5, 0.3]]).unwrap();
    let o = GmmOracle::new(target, CondPath::linear());
    for sigma in [0.0, 0.5, 1.5] {
        tch::manual_seed(32);
        let sde = PathSde {
            sigma,
            steps: 300,
            t_start: 1.0,
            t_end: 1e-3,
        };
        let x1 = Tensor::randn([40_000, 2], (Kind::Float, Device::Cpu));
        let out = sde.run(&o, &o, &x1, &mut Driver::default()).unwrap();
        let m = out.x.mean_dim(0, false, Kind::Double);
        let s = out.x.to_kind(Kind::Double).std_dim(0, true, false);
        let t = 1e-3f64;
        for (d, (mu, sd)) in [(1.0, 0.5), (-0.5, 0.3)].into_iter().enumerate() {
            let want_sd = ((1.0 - t) * (1.0 - t) * sd * sd + t * t).sqrt();
            let (gm, gs) = (m.double_value(&[d as i64]), s.double_value(&[d as i64]));
            // Monte-Carlo error ~ sd/√N = 2.5e-3; Euler bias O(h) — 1 % budget
            assert!(
                (gm - (1.0 - t) * mu).abs() < 0.01,
                "σ={sigma} dim {d}: mean {gm}"
            );
            assert!(
                (gs / want_sd - 1.0).abs() < 0.02,
                "σ={sigma} dim {d}: std {gs} vs {want_sd}"
            );
        }
    }
}
