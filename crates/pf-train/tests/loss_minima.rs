//! Every loss is at its minimum at the exact oracle (pf-core's Gaussian-mixture oracle), and a
//! constant perturbation δ raises it by the amount theory says:
//!
//! - DSM (any path, either target, any weighting, uniform or importance-sampled t):
//!   E[ΔL] = E_{t~U(T_ε,1)}[λ(t)] ‖δ‖² for a score perturbation δ (the cross term
//!   2 m(t) δ·(s* + ε/σ) has mean 0 because E[−ε/σ | x_t] = s*);
//! - DDPM: ‖δ_ε‖² for an ε perturbation; CSM: ‖δ‖² (λ = 1); flow matching: ‖δ_v‖².
//!
//! Both losses are evaluated on the same draws (t, x₀, ε), so the per-sample differences D_i have
//! exactly the stated mean; the test asserts |mean(D) − E[ΔL]| < 5 standard errors of mean(D)
//! (the SE measured from the D_i themselves) and that E[ΔL] exceeds 8 SE (the check has teeth).

mod common;

use pf_core::field::{ScoreField, VelocityField};
use pf_core::oracle::GmmOracle;
use pf_core::param::Param;
use pf_core::path::{CondPath, DdpmSchedule, GaussianPath, SubVp, VeGeometric, VpLinear};
use pf_core::target::{GaussianMixture, Target};
use pf_train::csm::Csm;
use pf_train::ddpm::DdpmLoss;
use pf_train::dsm::{Dsm, DsmConfig, DsmTarget};
use pf_train::flow_matching::{FlowMatching, LinearFlowMatching};
use pf_train::{Predictor, Weighting};
use std::sync::Arc;
use tch::{Device, Kind, Tensor};

const N: i64 = 200_000;

fn mixture2d() -> GaussianMixture {
    GaussianMixture::new(
        vec![0.3, 0.7],
        vec![vec![-1.0, 0.5], vec![1.5, -0.5]],
        vec![vec![0.4, 0.8], vec![0.6, 0.3]],
    )
    .unwrap()
}

/// mean and standard error of the per-sample differences.
fn mean_se(d: &Tensor) -> (f64, f64) {
    let d = d.to_kind(Kind::Double);
    let m = d.mean(Kind::Double).double_value(&[]);
    let se = d.std(true).double_value(&[]) / (d.size()[0] as f64).sqrt();
    (m, se)
}

fn assert_increase(label: &str, d: &Tensor, expected: f64) {
    let (m, se) = mean_se(d);
    println!("{label}: ΔL = {m:.5} ± {se:.5} (expected {expected:.5})");
    assert!(
        (m - expected).abs() < 5.0 * se,
        "{label}: mean increase {m} vs expected {expected} (se {se})"
    );
    assert!(expected > 8.0 * se, "{label}: test too noisy (se {se})");
}

/// (1/(1−T_ε)) ∫_{T_ε}^1 λ(t) dt by composite Simpson (λ is smooth on [T_ε, 1]).
fn mean_lambda(w: Weighting, path: &dyn GaussianPath, t_eps: f64) -> f64 {
    let n = 20_000;
    let h = (1.0 - t_eps) / n as f64;
    let mut s = w.lambda(path, t_eps) + w.lambda(path, 1.0);
    for i in 1..n {
        let t = t_eps + i as f64 * h;
        s += w.lambda(path, t) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0 / (1.0 - t_eps)
}

fn dsm_case(
    path: Arc<dyn GaussianPath>,
    gmm: &GaussianMixture,
    cfg: DsmConfig,
    param: Param,
    delta: &[f64],
) {
    let label = format!(
        "dsm {} {:?} {:?} imp={} param={:?}",
        path.name(),
        cfg.target,
        cfg.weighting,
        cfg.importance,
        param
    );
    let dsm = Dsm::new(path.clone(), cfg.clone()).unwrap();
    let oracle = GmmOracle::new(gmm.clone(), &*path);
    let d = Tensor::from_slice(delta).to_kind(Kind::Float).view([1, -1]);
    let opts = (Kind::Float, Device::Cpu);
    // the oracle in the requested parameterisation (ε* = −σ s*), and the same perturbed in score space
    let make = |shift: bool| {
        let oracle = &oracle;
        let path = path.clone();
        let d = d.shallow_clone();
        Predictor::new(param, move |x: &Tensor, t: &Tensor| {
            let s = oracle.score(x, t);
            let s = if shift { s + &d } else { s };
            let c = path.coeffs_t(t);
            pf_core::param::convert(Param::Score, param, &s, x, &c)
        })
    };
    let x0 = gmm.sample(N as usize, Device::Cpu);
    let draw = dsm.draw(N, opts);
    let eps = x0.randn_like();
    let l0 = dsm.per_sample_at(&make(false), &x0, &draw, &eps);
    let l1 = dsm.per_sample_at(&make(true), &x0, &draw, &eps);
    let delta_sq: f64 = delta.iter().map(|v| v * v).sum();
    let expected = mean_lambda(cfg.weighting, &*path, cfg.t_eps) * delta_sq;
    assert_increase(&label, &(l1 - l0), expected);
}

#[test]
fn dsm_is_minimal_at_the_exact_score() {
    let _serial = common::serial();
    tch::manual_seed(21);
    let g1 = GaussianMixture::gmm1d();
    let g2 = mixture2d();
    let vp: Arc<dyn GaussianPath> = Arc::new(VpLinear::default());
    let cfg = |target, weighting, t_eps, importance| DsmConfig {
        target,
        weighting,
        t_eps,
        importance,
    };
    // seed 001 (ε-MSE) and seed 002 (likelihood weighting), on the 1-D mixture
    dsm_case(vp.clone(), &g1, DsmConfig::seed_001(), Param::Eps, &[0.3]);
    dsm_case(vp.clone(), &g1, DsmConfig::seed_002(), Param::Eps, &[0.3]);
    // likelihood weighting with importance-sampled t: same expected increase (unbiased)
    for target in [DsmTarget::Score, DsmTarget::Eps] {
        dsm_case(
            vp.clone(),
            &g1,
            cfg(target, Weighting::Likelihood, 1e-3, true),
            Param::Score,
            &[0.3],
        );
    }
    // every weighting, both targets, a 2-D mixture, on VP, sub-VP and VE (T_ε = 0.05: with λ = 1
    // the cross term's variance grows like E[1/σ²], ~1/T_ε² on sub-VP)
    let paths: Vec<Arc<dyn GaussianPath>> = vec![
        vp.clone(),
        Arc::new(SubVp::default()),
        Arc::new(VeGeometric::new(0.01, 5.0)),
    ];
    for p in &paths {
        for w in [Weighting::None, Weighting::SigmaSq, Weighting::Likelihood] {
            dsm_case(
                p.clone(),
                &g2,
                cfg(DsmTarget::Score, w, 0.05, false),
                Param::X0,
                &[0.6, -0.9],
            );
        }
        dsm_case(
            p.clone(),
            &g2,
            cfg(DsmTarget::Eps, Weighting::Likelihood, 0.05, false),
            Param::Eps,
            &[0.6, -0.9],
        );
    }
}

#[test]
fn ddpm_is_minimal_at_the_exact_noise() {
    let _serial = common::serial();
    tch::manual_seed(22);
    let gmm = mixture2d();
    let sched = DdpmSchedule::default();
    let steps = sched.steps();
    let loss = DdpmLoss::new(sched.clone());
    let (a, s): (Vec<f64>, Vec<f64>) = (0..steps).map(|k| sched.alpha_sigma(k)).unzip();
    let ta = Tensor::from_slice(&a).to_kind(Kind::Float);
    let ts = Tensor::from_slice(&s).to_kind(Kind::Float);
    let d = Tensor::from_slice(&[0.1f32, 0.2]).view([1, 2]);
    // ε*(x, t_k) = −σ_k s*(x; α_k, σ_k), k recovered from t_k = (k + 1)/T
    let make = |shift: bool| {
        let (gmm, ta, ts, d) = (&gmm, &ta, &ts, d.shallow_clone());
        Predictor::new(Param::Eps, move |x: &Tensor, t: &Tensor| {
            let k = (t * steps as f64 - 1.0)
                .round()
                .to_kind(Kind::Int64)
                .view([-1]);
            let (al, si) = (
                ta.index_select(0, &k).view([-1, 1]),
                ts.index_select(0, &k).view([-1, 1]),
            );
            let e = -gmm.score_at(x, &al, &si) * &si;
            if shift {
                e + &d
            } else {
                e
            }
        })
    };
    let x0 = gmm.sample(N as usize, Device::Cpu);
    let k = Tensor::randint(steps as i64, [N], (Kind::Int64, Device::Cpu));
    let eps = x0.randn_like();
    let l0 = loss.per_sample_at(&make(false), &x0, &k, &eps);
    let l1 = loss.per_sample_at(&make(true), &x0, &k, &eps);
    assert_increase("ddpm", &(l1 - l0), 0.05);
}

#[test]
fn csm_and_flow_matching_are_minimal_at_the_oracle() {
    let _serial = common::serial();
    tch::manual_seed(23);
    let gmm = GaussianMixture::eight_gaussians(2.0, 0.2).unwrap();
    let opts = (Kind::Float, Device::Cpu);
    let d = Tensor::from_slice(&[0.3f32, -0.2]).view([1, 2]);
    let dsq = 0.3f64 * 0.3 + 0.04;
    for path in [CondPath::linear(), CondPath::sqrt()] {
        let p: Arc<dyn GaussianPath> = Arc::new(path);
        let oracle = GmmOracle::new(gmm.clone(), path);
        let z = gmm.sample(N as usize, Device::Cpu);
        let eps = z.randn_like();
        // CSM: t ~ U(0.05, 1] keeps E[1/σ²] (the cross term's variance) moderate
        let t = -(Tensor::rand([N, 1], opts) * 0.95) + 1.0;
        let csm = Csm::new(p.clone(), 0.05).unwrap();
        let score = |shift: bool| {
            let (o, d) = (&oracle, d.shallow_clone());
            Predictor::new(Param::Score, move |x: &Tensor, t: &Tensor| {
                let s = o.score(x, t);
                if shift {
                    s + &d
                } else {
                    s
                }
            })
        };
        let l0 = csm.per_sample_at(&score(false), &z, &t, &eps);
        let l1 = csm.per_sample_at(&score(true), &z, &t, &eps);
        assert_increase(&format!("csm {}", path.name()), &(l1 - l0), dsq);

        // flow matching: the oracle velocity, perturbed in velocity space
        let fm = FlowMatching::new(p.clone(), 0.0).unwrap();
        let t = -(Tensor::rand([N, 1], opts)) + 1.0;
        let vel = |shift: bool| {
            let (o, d) = (&oracle, d.shallow_clone());
            Predictor::new(Param::Velocity, move |x: &Tensor, t: &Tensor| {
                let v = o.velocity(x, t);
                if shift {
                    v + &d
                } else {
                    v
                }
            })
        };
        let l0 = fm.per_sample_at(&vel(false), &z, &t, &eps);
        let l1 = fm.per_sample_at(&vel(true), &z, &t, &eps);
        assert_increase(&format!("fm {}", path.name()), &(l1 - l0), dsq);
    }
    // the linear path from a N(0, I) source is the `cond-linear` Gaussian path: same oracle
    let oracle = GmmOracle::new(gmm.clone(), CondPath::linear());
    let z = gmm.sample(N as usize, Device::Cpu);
    let src = z.randn_like();
    let t = -(Tensor::rand([N, 1], opts)) + 1.0;
    let vel = |shift: bool| {
        let (o, d) = (&oracle, d.shallow_clone());
        Predictor::new(Param::Velocity, move |x: &Tensor, t: &Tensor| {
            let v = o.velocity(x, t);
            if shift {
                v + &d
            } else {
                v
            }
        })
    };
    let lf = LinearFlowMatching;
    let l0 = lf.per_sample_at(&vel(false), &z, &src, &t);
    let l1 = lf.per_sample_at(&vel(true), &z, &src, &t);
    assert_increase("linear fm", &(l1 - l0), dsq);
}
