//! ULA and MALA against stationary laws known in closed form.

use pf_core::field::{AutogradScore, ScoreField, TargetScore};
use pf_core::target::{GaussianMixture, Target};
use pf_sample::init::Init;
use pf_sample::mala::Mala;
use pf_sample::ula::Ula;
use pf_sample::Driver;
use tch::{Device, Kind, Tensor};

fn std_normal_1d() -> GaussianMixture {
    GaussianMixture::new(vec![1.0], vec![vec![0.0]], vec![vec![1.0]]).unwrap()
}

fn var(x: &Tensor) -> f64 {
    x.to_kind(Kind::Double).var(true).double_value(&[])
}

/// ULA on N(0, 1) with step h: x' = (1 − h) x + √(2h) ξ is AR(1) with stationary variance
/// 2h / (1 − (1 − h)²) = 1/(1 − h/2) = 1.0526 for h = 0.1 (not 1: ULA is biased).
#[test]
fn ula_stationary_variance_on_standard_normal() {
    let _rng = pf_core::rng::seed_exclusive(10);
    let t = std_normal_1d();
    let n = 100_000;
    let ula = Ula {
        steps: 300,
        eta: vec![0.1],
        ..Ula::default()
    };
    let out = ula
        .run(
            &TargetScore(&t),
            None,
            Init::StdNormal.draw(n, 1, Device::Cpu).unwrap(),
            &mut Driver::default(),
        )
        .unwrap();
    let v = var(&out.x);
    let want = 1.0 / (1.0 - 0.05);
    let se = want * (2.0 / n as f64).sqrt();
    assert!(
        (v - want).abs() < 4.0 * se,
        "ULA variance {v}, want {want} ± {se}"
    );
    assert!((v - 1.0).abs() > 8.0 * se, "ULA bias must be visible: {v}");
}

/// Seed 001's tempered form with noise scale τ: stationary variance 2τ/(1 − (1 − h)²).
#[test]
fn tempered_noise_scale_changes_the_law() {
    let _rng = pf_core::rng::seed_exclusive(12);
    let t = std_normal_1d();
    let (h, tau) = (0.1, 0.05);
    let ula = Ula {
        steps: 300,
        eta: vec![h],
        noise_scale: Some(vec![tau]),
    };
    let out = ula
        .run(
            &TargetScore(&t),
            None,
            Init::StdNormal.draw(100_000, 1, Device::Cpu).unwrap(),
            &mut Driver::default(),
        )
        .unwrap();
    let want = 2.0 * tau / (1.0 - (1.0 - h) * (1.0 - h));
    let v = var(&out.x);
    assert!(
        (v - want).abs() < 4.0 * want * (2.0 / 1e5f64).sqrt(),
        "{v} vs {want}"
    );
}

/// Per-dimension η on N(0, diag(1, 4)): each coordinate has its own AR(1) variance
/// 2η/(1 − (1 − η/s²)²); the autograd score gives the same chain as the analytic one.
#[test]
fn per_dimension_eta_and_autograd_score() {
    let _rng = pf_core::rng::seed_exclusive(13);
    let g = GaussianMixture::new(vec![1.0], vec![vec![0.0, 0.0]], vec![vec![1.0, 2.0]]).unwrap();
    let ula = Ula {
        steps: 300,
        eta: vec![0.1, 0.4],
        ..Ula::default()
    };
    let a = ula
        .run(
            &TargetScore(&g),
            None,
            Init::StdNormal.draw(100_000, 2, Device::Cpu).unwrap(),
            &mut Driver::default(),
        )
        .unwrap();
    // the autograd score equals the analytic one (so the chains agree step for step)
    let x = Tensor::randn([1000, 2], (Kind::Float, Device::Cpu)) * 2.0;
    let t0 = Tensor::zeros([1, 1], (Kind::Float, Device::Cpu));
    let lp = |x: &Tensor| g.log_prob(x).unwrap();
    let diff = (TargetScore(&g).score(&x, &t0) - AutogradScore(lp).score(&x, &t0))
        .abs()
        .max()
        .double_value(&[]);
    assert!(diff < 1e-5, "analytic vs autograd scores differ by {diff}");
    for (d, (eta, s2)) in [(0.1f64, 1.0f64), (0.4, 4.0)].into_iter().enumerate() {
        let r = 1.0 - eta / s2;
        let want = 2.0 * eta / (1.0 - r * r);
        let v = var(&a.x.select(1, d as i64));
        assert!(
            (v - want).abs() < 4.0 * want * (2.0 / 1e5f64).sqrt(),
            "dim {d}: {v} vs {want}"
        );
    }
}

/// MALA on N(0, 1) with h = 0.1 is exact: variance 1, and the acceptance rate is reported.
#[test]
fn mala_is_exact_on_standard_normal() {
    let _rng = pf_core::rng::seed_exclusive(14);
    let t = std_normal_1d();
    let n = 100_000;
    let out = Mala {
        steps: 300,
        eta: vec![0.1],
    }
    .run(
        &t,
        Init::StdNormal.draw(n, 1, Device::Cpu).unwrap(),
        &mut Driver::default(),
    )
    .unwrap();
    let v = var(&out.x);
    let se = (2.0 / n as f64).sqrt();
    assert!((v - 1.0).abs() < 4.0 * se, "MALA variance {v}");
    let acc = out.diagnostics["acceptance"];
    // for a Gaussian target and h = 0.1 rejections are rare (measured ≈ 0.99)
    assert!(acc > 0.97 && acc < 1.0, "acceptance {acc}");
}

/// Init options: scaled and shifted normal (seed 003 part f) and given particles.
#[test]
fn init_options() {
    let _rng = pf_core::rng::seed_exclusive(15);
    let x = Init::Normal {
        scale: vec![1.5, 0.5],
        shift: vec![1.0, -2.0],
    }
    .draw(200_000, 2, Device::Cpu)
    .unwrap();
    let m = x.mean_dim(0, false, Kind::Double);
    let s = x.to_kind(Kind::Double).std_dim(0, true, false);
    for (d, (mu, sd)) in [(1.0, 1.5), (-2.0, 0.5)].into_iter().enumerate() {
        assert!((m.double_value(&[d as i64]) - mu).abs() < 5.0 * sd / 447.0);
        assert!((s.double_value(&[d as i64]) - sd).abs() < 5.0 * sd * (1.0 / 4e5f64).sqrt());
    }
    let given = Tensor::ones([3, 2], (Kind::Float, Device::Cpu));
    assert!(Init::Given(given.shallow_clone())
        .draw(4, 2, Device::Cpu)
        .unwrap_err()
        .to_string()
        .contains("[4, 2]"));
    let y = Init::Given(given).draw(3, 2, Device::Cpu).unwrap();
    assert_eq!(y.sum(Kind::Double).double_value(&[]), 6.0);
}
