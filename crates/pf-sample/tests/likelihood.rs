//! The PF-ODE likelihood against the exact log-density of a Gaussian mixture.

use pf_core::oracle::GmmOracle;
use pf_core::path::{GaussianPath, VpLinear};
use pf_core::target::GaussianMixture;
use pf_sample::likelihood::{Likelihood, Prior, Probe, Trace};
use tch::{Device, Kind, Tensor};

/// Seed 002's setting: 10 000 grid points in (−4, 4), VP (0.1, 20), T_ε = 1e-5, T = 1,
/// rtol = atol = 1e-5, exact prior p_T, exact oracle score. The result must match log p_{T_ε}
/// within 3e-4 nats, the error scipy's RK45 reaches on the same problem at the same tolerances
/// (2.7e-4; pflow's Dormand–Prince measures 1.2e-4 at 68 evaluations, float32 state).
#[test]
fn gmm1d_seed_002_setting() {
    let _rng = pf_core::rng::seed_exclusive(0);
    let o = GmmOracle::new(GaussianMixture::gmm1d(), VpLinear::default());
    let x = Tensor::linspace(
        -4.0,
        4.0,
        10_000,
        (Kind::Float, pf_core::device::test_device()),
    )
    .view([-1, 1]);
    let prior = |x: &Tensor| o.log_prob_at_time(x, 1.0);
    let lik = Likelihood::default();
    let out = lik.score(&o.path, &o, &x, &Prior::Custom(&prior)).unwrap();
    let truth = o.log_prob_at_time(&x, lik.t_eps);
    let err = (&out.logp - &truth).abs().max().double_value(&[]);
    println!("gmm1d: max |err| = {err:.2e} nats, nfe = {}", out.nfe);
    assert!(err <= 3e-4, "max |log p − analytic| = {err}");
    // bits/dim = −log p / ln 2 in 1-D
    let bpd = (&out.bits_per_dim * std::f64::consts::LN_2 + &out.logp)
        .abs()
        .max()
        .double_value(&[]);
    assert!(bpd < 1e-5);
    // the seed's N(0, 1) prior: VP's p_1 is N(0, 1) only up to α(1) ≈ 6.6e-3, so the error may
    // grow by at most the largest gap |log N(x; 0, 1) − log p_1(x)| where the points end at T
    // (within ±8 for grid points in (−4, 4))
    let wide = Tensor::linspace(-8.0, 8.0, 16_001, (Kind::Double, Device::Cpu)).view([-1, 1]);
    let n01 = wide.square().view([-1]) * -0.5 - 0.5 * (2.0 * std::f64::consts::PI).ln();
    let gap = (n01 - o.log_prob_at_time(&wide, 1.0))
        .abs()
        .max()
        .double_value(&[]);
    let std_prior = lik
        .score(&o.path, &o, &x, &Prior::Normal { std: 1.0 })
        .unwrap();
    let err2 = (&std_prior.logp - &truth).abs().max().double_value(&[]);
    println!("gmm1d with the N(0, 1) prior: max |err| = {err2:.2e} nats (prior gap {gap:.2e})");
    assert!(
        err2 <= err + gap,
        "with the N(0,1) prior: {err2} > {err} + {gap}"
    );
}

fn eight() -> GmmOracle<VpLinear> {
    GmmOracle::new(
        GaussianMixture::eight_gaussians(2.0, 0.2).unwrap(),
        VpLinear::default(),
    )
}

/// 2-D, 8 Gaussians: the exact trace matches the analytic log-density within 1e-2 nats;
/// Hutchinson's mean is within its standard error of the exact value.
#[test]
fn eight_gaussians_exact_and_hutchinson() {
    let _rng = pf_core::rng::seed_exclusive(21);
    let o = eight();
    let x = pf_core::target::Target::sample(&o.gmm, 400, pf_core::device::test_device());
    let prior = |x: &Tensor| o.log_prob_at_time(x, 1.0);
    let lik = Likelihood {
        t_eps: 1e-3,
        ..Likelihood::default()
    };
    let exact = lik.score(&o.path, &o, &x, &Prior::Custom(&prior)).unwrap();
    let truth = o.log_prob_at_time(&x, lik.t_eps);
    let err = (&exact.logp - &truth).abs().max().double_value(&[]);
    println!(
        "8 gaussians exact trace: max err {err:.2e}, nfe {}",
        exact.nfe
    );
    assert!(err < 1e-2, "exact trace: {err}");
    for probe in [Probe::Rademacher, Probe::Gaussian] {
        let h = Likelihood {
            trace: Trace::Hutchinson { probes: 4, probe },
            ..lik.clone()
        };
        let est = h.score(&o.path, &o, &x, &Prior::Custom(&prior)).unwrap();
        let d = (&est.logp - &exact.logp).to_kind(Kind::Double);
        let mean = d.mean(Kind::Double).double_value(&[]);
        let se = d.std(true).double_value(&[]) / (400f64).sqrt();
        println!("{probe:?}: mean diff {mean:.4} ± {se:.4}");
        assert!(
            se > 0.0 && mean.abs() < 3.0 * se,
            "{probe:?}: mean {mean}, se {se}"
        );
    }
    let _ = o.path.name();
}

/// Chunked solves (each chunk its own adaptive steps) agree with the one-shot solve within the
/// solver's accuracy: both are within 1e-2 nats of the truth (the test above); measured here
/// they differ by 2.1e-3 at most (each within 3e-3 of the truth; rtol = atol = 1e-5, 300
/// points in chunks of 128), asserted below 5e-3.
#[test]
fn chunked_likelihood_matches_one_solve() {
    let _rng = pf_core::rng::seed_exclusive(22);
    let o = eight();
    let x = pf_core::target::Target::sample(&o.gmm, 300, pf_core::device::test_device());
    let prior = |x: &Tensor| o.log_prob_at_time(x, 1.0);
    let whole = Likelihood {
        t_eps: 1e-3,
        ..Likelihood::default()
    };
    let chunked = Likelihood {
        chunk: Some(128),
        ..whole.clone()
    };
    let a = whole
        .score(&o.path, &o, &x, &Prior::Custom(&prior))
        .unwrap();
    let b = chunked
        .score(&o.path, &o, &x, &Prior::Custom(&prior))
        .unwrap();
    assert_eq!(b.logp.size(), vec![300]);
    let d = (&a.logp - &b.logp).abs().max().double_value(&[]);
    let truth = o.log_prob_at_time(&x, whole.t_eps);
    let err = (&b.logp - &truth).abs().max().double_value(&[]);
    println!(
        "chunked vs whole: max diff {d:.2e}; chunked vs truth {err:.2e}; nfe {} vs {}",
        b.nfe, a.nfe
    );
    assert!(d < 5e-3, "chunked differs by {d}");
    assert!(err < 1e-2, "chunked error {err}");
}
