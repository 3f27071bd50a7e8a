//! Sliced score matching against closed forms on a Gaussian target.
//!
//! Data x₀ ~ N(μ, Σ) (Σ diagonal), noised on a Gaussian path at one time t: x̃ = α x₀ + σ z is
//! N(m, C) with m = α μ, C = α² Σ + σ² I, whose score is s*(x) = −C⁻¹(x − m). For a linear
//! model s(x) = A x + b every expectation is in closed form (λ = λ(t) the weighting):
//!
//! - E[SSM] = λ [ tr A + ½ (‖A m + b‖² + tr(A C Aᵀ)) ]  (VR and plain, Gaussian and Rademacher v:
//!   E[vᵀ A v] = tr A and E[(vᵀ s)²] = ‖s‖² for any v with E[v vᵀ] = I);
//! - E[SSM](s) − E[SSM](s*) = ½ λ E‖s − s*‖² = ½ λ [‖(A − A*) m + b − b*‖² + tr((A − A*) C (A − A*)ᵀ)]
//!   ≥ 0, zero only at s*;
//! - pflow's DSM per time, λ E‖s(x̃) + z/σ‖² = λ [‖A m + b‖² + α² tr(A Σ Aᵀ) + ‖σ A + I/σ‖²_F], so
//!   E[SSM] − ½ E[DSM] = −λ D/(2σ²) for every (A, b): −D/2 with λ = σ².
//!
//! Monte-Carlo checks allow 4 standard errors (from the per-sample spread; each assertion is a
//! fixed-seed draw, so 4 SE is a bound a correct estimator meets with probability > 0.9999, and a
//! wrong one — a missing ½, a dropped trace term, a wrong λ — misses by hundreds of SEs at these
//! sample sizes). Arithmetic identities are checked to 1e-12, and the autograd paths (the
//! Jacobian–vector term, its gradient in the parameters) to float64 rounding.

use pf_core::param::Param;
use pf_core::path::{GaussianPath, VeGeometric, VpLinear};
use pf_ncsn::{Projection, Ssm, SsmConfig};
use pf_train::dsm::{Dsm, DsmConfig, DsmTarget};
use pf_train::time_sampling::TimeDraw;
use pf_train::{Predictor, Weighting};
use std::sync::Arc;
use tch::{Device, Kind, Tensor};

const OPTS: (Kind, Device) = (Kind::Double, Device::Cpu);
const D: usize = 2;
const MU: [f64; D] = [0.5, -1.0];
const STD: [f64; D] = [0.8, 0.5];

type Mat = [[f64; D]; D];

/// One time on one path: (name, path, t).
fn settings() -> Vec<(&'static str, Arc<dyn GaussianPath>, f64)> {
    let ve: Arc<dyn GaussianPath> = Arc::new(VeGeometric::new(0.01, 5.0));
    let vp: Arc<dyn GaussianPath> = Arc::new(VpLinear::default());
    vec![
        ("ve σ≈0.3", ve.clone(), 0.55),
        ("ve σ≈1.6", ve, 0.82),
        ("vp t=0.3", vp, 0.3),
    ]
}

/// m = α μ and the diagonal of C = α² Σ + σ² I at t.
fn marginal(path: &dyn GaussianPath, t: f64) -> ([f64; D], [f64; D]) {
    let c = path.coeffs(t);
    let m = MU.map(|u| c.alpha * u);
    let var = STD.map(|s| c.alpha * c.alpha * s * s + c.sigma * c.sigma);
    (m, var)
}

/// (A*, b*) of the exact score −C⁻¹(x − m).
fn exact(path: &dyn GaussianPath, t: f64) -> (Mat, [f64; D]) {
    let (m, var) = marginal(path, t);
    let mut a = [[0.0; D]; D];
    for i in 0..D {
        a[i][i] = -1.0 / var[i];
    }
    (a, [m[0] / var[0], m[1] / var[1]])
}

fn tr(a: &Mat) -> f64 {
    (0..D).map(|i| a[i][i]).sum()
}
/// ‖A m + b‖² + tr(A diag(v) Aᵀ).
fn second_moment(a: &Mat, b: &[f64; D], m: &[f64; D], v: &[f64; D]) -> f64 {
    let mut s = 0.0;
    for i in 0..D {
        let am: f64 = (0..D).map(|j| a[i][j] * m[j]).sum::<f64>() + b[i];
        s += am * am + (0..D).map(|j| a[i][j] * a[i][j] * v[j]).sum::<f64>();
    }
    s
}

/// E[SSM] in closed form.
fn ssm_expected(path: &dyn GaussianPath, t: f64, a: &Mat, b: &[f64; D]) -> f64 {
    let (m, var) = marginal(path, t);
    let lam = path.coeffs(t).sigma.powi(2);
    lam * (tr(a) + 0.5 * second_moment(a, b, &m, &var))
}

/// ½ E[DSM] (pflow's λ ‖s + z/σ‖², score target) in closed form.
fn half_dsm_expected(path: &dyn GaussianPath, t: f64, a: &Mat, b: &[f64; D]) -> f64 {
    let c = path.coeffs(t);
    let (m, _) = marginal(path, t);
    let data_var = STD.map(|s| c.alpha * c.alpha * s * s);
    let (sg, lam) = (c.sigma, c.sigma * c.sigma);
    // ‖σ A + I/σ‖²_F
    let mut frob = 0.0;
    for (i, row) in a.iter().enumerate() {
        for (j, aij) in row.iter().enumerate() {
            let e = sg * aij + if i == j { 1.0 / sg } else { 0.0 };
            frob += e * e;
        }
    }
    0.5 * lam * (second_moment(a, b, &m, &data_var) + frob)
}

fn mat_tensor(a: &Mat) -> Tensor {
    Tensor::from_slice(&a.concat()).view([D as i64, D as i64])
}

/// s(x) = A x + b as a score predictor.
fn linear(a: &Mat, b: &[f64; D]) -> Predictor<'static> {
    let (a, b) = (mat_tensor(a), Tensor::from_slice(b));
    Predictor::new(Param::Score, move |x: &Tensor, _t: &Tensor| {
        x.matmul(&a.tr()) + &b
    })
}

/// n data points x₀ ~ N(μ, Σ).
fn data(n: i64) -> Tensor {
    Tensor::randn([n, D as i64], OPTS) * Tensor::from_slice(&STD) + Tensor::from_slice(&MU)
}

fn ssm(path: &Arc<dyn GaussianPath>, vr: bool, projection: Projection, m: usize) -> Ssm {
    let cfg = SsmConfig {
        variance_reduction: vr,
        projection,
        projections: m,
        ..SsmConfig::default()
    };
    Ssm::new(path.clone(), cfg).unwrap()
}

fn time(t: f64) -> Tensor {
    Tensor::full([1, 1], t, OPTS)
}

/// Mean and standard error of per-sample values [N].
fn mean_se(y: &Tensor) -> (f64, f64) {
    let n = y.size()[0] as f64;
    (
        y.mean(Kind::Double).double_value(&[]),
        y.std(true).double_value(&[]) / n.sqrt(),
    )
}

/// The linear models tried: the exact score, scaled, shifted, and an unrelated full matrix.
fn models(path: &dyn GaussianPath, t: f64) -> Vec<(&'static str, Mat, [f64; D])> {
    let (a, b) = exact(path, t);
    let scale = |k: f64| (a.map(|r| r.map(|e| e * k)), b.map(|e| e * k));
    let (a08, b08) = scale(0.8);
    let (a12, b12) = scale(1.2);
    vec![
        ("exact", a, b),
        ("0.8·exact", a08, b08),
        ("1.2·exact", a12, b12),
        ("shifted", a, [b[0] + 0.3, b[1] - 0.2]),
        ("other", [[-0.7, 0.4], [0.1, -1.3]], [0.2, 0.5]),
    ]
}

/// The estimator's mean matches E[SSM] for every variant (VR / plain, Gaussian / Rademacher,
/// one and three projections), model and time.
#[test]
fn estimator_matches_the_closed_form() {
    let _rng = pf_core::rng::seed_exclusive(1);
    let n = 100_000;
    for (name, path, t) in settings() {
        for (vr, proj, m) in [
            (true, Projection::Gaussian, 1),
            (true, Projection::Rademacher, 1),
            (false, Projection::Gaussian, 1),
            (false, Projection::Rademacher, 3),
        ] {
            let loss = ssm(&path, vr, proj, m);
            for (model, a, b) in models(&*path, t) {
                let x0 = data(n);
                let z = x0.randn_like();
                let v = loss.draw_projections(&x0);
                let per = loss.per_sample_at(&linear(&a, &b), &x0, &time(t), &z, &v);
                let (mean, se) = mean_se(&per.detach());
                let want = ssm_expected(&*path, t, &a, &b);
                assert!(
                    (mean - want).abs() < 4.0 * se,
                    "{name} vr={vr} {proj:?}×{m} {model}: E[SSM] ≈ {mean} ± {se}, closed form {want}"
                );
            }
        }
    }
}

/// The exact score minimises SSM: with common random numbers, SSM(s) − SSM(s*) has mean
/// ½ λ E‖s − s*‖² > 0 for every perturbation (measured to many SEs above 0), and SSM(s*) itself
/// has mean −½ λ tr C⁻¹ = −½ λ E‖s*‖².
#[test]
fn exact_score_minimises_the_loss() {
    let _rng = pf_core::rng::seed_exclusive(2);
    let n = 100_000;
    for (name, path, t) in settings() {
        let loss = ssm(&path, true, Projection::Gaussian, 1);
        let (a_star, b_star) = exact(&*path, t);
        let (_, var) = marginal(&*path, t);
        let lam = path.coeffs(t).sigma.powi(2);
        let x0 = data(n);
        let z = x0.randn_like();
        let v = loss.draw_projections(&x0);
        let at = |a: &Mat, b: &[f64; D]| {
            loss.per_sample_at(&linear(a, b), &x0, &time(t), &z, &v)
                .detach()
        };
        let best = at(&a_star, &b_star);
        let (mean, se) = mean_se(&best);
        let want = -0.5 * lam * var.iter().map(|v| 1.0 / v).sum::<f64>();
        assert!(
            (mean - want).abs() < 4.0 * se,
            "{name}: SSM(s*) ≈ {mean} ± {se}, want −½λ tr C⁻¹ = {want}"
        );
        for (model, a, b) in models(&*path, t).into_iter().skip(1) {
            let (gap, se) = mean_se(&(at(&a, &b) - &best));
            let want = ssm_expected(&*path, t, &a, &b) - ssm_expected(&*path, t, &a_star, &b_star);
            println!(
                "{name} {model}: SSM(s) − SSM(s*) = {gap:.5} ± {se:.5} (closed form {want:.5})"
            );
            assert!(want > 0.0, "{name} {model}: closed-form gap {want}");
            assert!(
                (gap - want).abs() < 4.0 * se,
                "{name} {model}: gap {gap} ± {se}, closed form {want}"
            );
            assert!(
                gap > 10.0 * se,
                "{name} {model}: gap {gap} not resolved (se {se})"
            );
        }
    }
}

/// SSM − ½ DSM is the same constant −D/2 (λ = σ²) for every model: in closed form to rounding,
/// and by Monte Carlo on common draws (pf-train's own DSM) within 4 SE, at every time.
#[test]
fn ssm_minus_dsm_is_a_constant() {
    let _rng = pf_core::rng::seed_exclusive(3);
    let n = 100_000;
    let want = -(D as f64) / 2.0;
    for (name, path, t) in settings() {
        let loss = ssm(&path, true, Projection::Rademacher, 1);
        let dsm = Dsm::new(
            path.clone(),
            DsmConfig {
                target: DsmTarget::Score,
                weighting: Weighting::SigmaSq,
                t_eps: 1e-5,
                importance: false,
            },
        )
        .unwrap();
        let tt = time(t);
        let c = path.coeffs_t(&tt);
        let draw = TimeDraw {
            t: tt.shallow_clone(),
            factor: c.sigma.square(),
            coeffs: c,
        };
        let mut offsets = Vec::new();
        for (model, a, b) in models(&*path, t) {
            let closed = ssm_expected(&*path, t, &a, &b) - half_dsm_expected(&*path, t, &a, &b);
            assert!(
                (closed - want).abs() < 1e-12,
                "{name} {model}: closed-form offset {closed}, want {want}"
            );
            let x0 = data(n);
            let z = x0.randn_like();
            let v = loss.draw_projections(&x0);
            let s = linear(&a, &b);
            let l_ssm = loss.per_sample_at(&s, &x0, &tt, &z, &v).detach();
            let l_dsm = dsm.per_sample_at(&s, &x0, &draw, &z).detach();
            // the DSM estimator against its own closed form, then the offset
            let (md, sed) = mean_se(&l_dsm);
            let hd = half_dsm_expected(&*path, t, &a, &b);
            assert!(
                (0.5 * md - hd).abs() < 4.0 * 0.5 * sed,
                "{name} {model}: ½ DSM ≈ {} ± {}, closed form {hd}",
                0.5 * md,
                0.5 * sed
            );
            let (off, se) = mean_se(&(l_ssm - l_dsm * 0.5));
            offsets.push(format!("{model} {off:.4}±{se:.4}"));
            assert!(
                (off - want).abs() < 4.0 * se,
                "{name} {model}: SSM − ½DSM ≈ {off} ± {se}, want {want}"
            );
        }
        println!("{name}: SSM − ½DSM (want {want}): {}", offsets.join(", "));
    }
}

/// The Jacobian–vector term through a nonlinear net is the Jacobian's trace: with the projections
/// {√D e_d} (a valid law, E[v vᵀ] = I, and averaging over all of them is exact) the per-sample
/// loss is λ (tr ∇ₓs + ½‖s‖²) to rounding, for s(x) = U tanh(W x + c), whose Jacobian trace is
/// Σ_k (1 − tanh²)_k (W U)_kk. Random projections are unbiased for it (4 SE).
#[test]
fn jacobian_term_is_the_trace_through_a_net() {
    let _rng = pf_core::rng::seed_exclusive(4);
    let path: Arc<dyn GaussianPath> = Arc::new(VeGeometric::new(0.01, 5.0));
    let (t, h) = (0.6, 5i64);
    let w = Tensor::randn([h, D as i64], OPTS);
    let u = Tensor::randn([D as i64, h], OPTS);
    let c = Tensor::randn([h], OPTS);
    let (w2, u2, c2) = (w.shallow_clone(), u.shallow_clone(), c.shallow_clone());
    let net = Predictor::new(Param::Score, move |x: &Tensor, _t: &Tensor| {
        (x.matmul(&w2.tr()) + &c2).tanh().matmul(&u2.tr())
    });
    let n = 50_000;
    let x0 = data(n);
    let z = x0.randn_like();
    let sg = path.coeffs(t).sigma;
    let x = &x0 + &z * sg;
    let hid = (x.matmul(&w.tr()) + &c).tanh();
    let s = hid.matmul(&u.tr());
    let wu_diag = w.matmul(&u).diagonal(0, 0, 1); // (W U)_kk, [H]
    let trace = (-hid.square() + 1.0).matmul(&wu_diag); // [N]
    let exact = (trace + s.square().sum_dim_intlist(-1, false, Kind::Double) * 0.5) * (sg * sg);
    let loss = ssm(&path, true, Projection::Gaussian, D);
    let basis: Vec<Tensor> = (0..D as i64)
        .map(|d| {
            let e = x0.zeros_like();
            let _ = e.narrow(1, d, 1).fill_((D as f64).sqrt());
            e
        })
        .collect();
    let got = loss.per_sample_at(&net, &x0, &time(t), &z, &basis).detach();
    let err = (&got - &exact).abs().max().double_value(&[]);
    assert!(err < 1e-10, "max |per-sample − exact trace form| = {err}");
    for proj in [Projection::Gaussian, Projection::Rademacher] {
        let loss = ssm(&path, true, proj, 1);
        let v = loss.draw_projections(&x0);
        let est = loss.per_sample_at(&net, &x0, &time(t), &z, &v).detach();
        let (bias, se) = mean_se(&(est - &exact));
        assert!(bias.abs() < 4.0 * se, "{proj:?}: bias {bias} ± {se}");
    }
}

/// The parameters' gradient goes through the Jacobian term (the `create_graph` backward): for
/// s = A x + b with fixed draws, ∂L/∂A = λ mean_n [(1/M) Σ_m v_m v_mᵀ + (A x̃ + b) x̃ᵀ] and
/// ∂L/∂b = λ mean_n (A x̃ + b), to rounding. Without the second-order graph the v vᵀ part is lost.
#[test]
fn parameter_gradient_flows_through_the_jacobian_term() {
    let _rng = pf_core::rng::seed_exclusive(5);
    let path: Arc<dyn GaussianPath> = Arc::new(VeGeometric::new(0.01, 5.0));
    let t = 0.7;
    let a = Tensor::from_slice(&[-0.9, 0.3, 0.2, -1.1])
        .view([2, 2])
        .set_requires_grad(true);
    let b = Tensor::from_slice(&[0.1, -0.4]).set_requires_grad(true);
    let (a2, b2) = (a.shallow_clone(), b.shallow_clone());
    let model = Predictor::new(Param::Score, move |x: &Tensor, _t: &Tensor| {
        x.matmul(&a2.tr()) + &b2
    });
    let loss = ssm(&path, true, Projection::Gaussian, 2);
    let n = 1000;
    let x0 = data(n);
    let z = x0.randn_like();
    let v = loss.draw_projections(&x0);
    let l = loss
        .per_sample_at(&model, &x0, &time(t), &z, &v)
        .mean(Kind::Double);
    let g = Tensor::run_backward(&[l], &[&a, &b], false, false);
    let sg = path.coeffs(t).sigma;
    let lam = sg * sg;
    let x = (&x0 + &z * sg).detach();
    let s = tch::no_grad(|| x.matmul(&a.tr()) + &b);
    let vv = (v[0].unsqueeze(2) * v[0].unsqueeze(1) + v[1].unsqueeze(2) * v[1].unsqueeze(1)) * 0.5;
    let want_a = (vv + s.unsqueeze(2) * x.unsqueeze(1)).mean_dim(0, false, Kind::Double) * lam;
    let want_b = s.mean_dim(0, false, Kind::Double) * lam;
    let ea = (&g[0] - &want_a).abs().max().double_value(&[]);
    let eb = (&g[1] - &want_b).abs().max().double_value(&[]);
    assert!(ea < 1e-12 && eb < 1e-12, "∂A error {ea}, ∂b error {eb}");
    // the v vᵀ part is of order λ, far above rounding: dropping it would be caught
    let without = (s.unsqueeze(2) * x.unsqueeze(1)).mean_dim(0, false, Kind::Double) * lam;
    assert!((&g[0] - without).abs().max().double_value(&[]) > 0.1 * lam);
}

/// With `levels = L` on the VE path the trained noise levels are NCSN's geometric ladder from
/// σ(T_ε) to σ_max, each drawn with probability 1/L (4 binomial SEs).
#[test]
fn levels_are_the_geometric_ladder() {
    let _rng = pf_core::rng::seed_exclusive(6);
    let ve = VeGeometric::new(0.01, 5.0);
    let path: Arc<dyn GaussianPath> = Arc::new(ve);
    let l = 5;
    let loss = Ssm::new(
        path.clone(),
        SsmConfig {
            levels: Some(l),
            ..SsmConfig::default()
        },
    )
    .unwrap();
    let n = 20_000;
    let t = loss.draw_times(n, OPTS);
    let sigma = path.coeffs_t(&t).sigma.view([-1]);
    let lo = ve.coeffs(loss.config().t_eps).sigma;
    let ladder = pf_ncsn::geometric_levels(5.0, lo, l);
    let p = 1.0 / l as f64;
    let se = (p * (1.0 - p) / n as f64).sqrt();
    let mut total = 0.0;
    for s in &ladder {
        let hits = (&sigma - *s).abs().le(1e-9 * s).to_kind(Kind::Double);
        let share = hits.mean(Kind::Double).double_value(&[]);
        total += share;
        assert!((share - p).abs() < 4.0 * se, "σ = {s}: share {share}");
    }
    assert!((total - 1.0).abs() < 1e-12, "every draw is on the ladder");
}
