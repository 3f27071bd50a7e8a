//! BAOAB and OBABO on a 1-D Gaussian N(0, σ²) against the stationary covariance of their linear
//! recursions.
//!
//! With U(x) = x²/(2σ²) every piece of a step is linear in (x, v): a step is z ← M z + Σ nᵢ ξᵢ,
//! and the stationary covariance S solves the discrete Lyapunov equation S = M S Mᵀ + Σ nᵢ nᵢᵀ.
//! Solving it (below, in f64) gives, with ω² = 1/(mσ²) and 0 < hω < 2, for every γ > 0:
//!
//! | scheme | Var x | m·Var v | Cov(x, v) |
//! |---|---|---|---|
//! | BAOAB | σ² | 1 − h²ω²/4 | 0 |
//! | OBABO | σ²/(1 − h²ω²/4) | 1 | 0 |
//!
//! (BAOAB's positions are exact at any step size; its velocities are cooler. OBABO, velocity
//! Verlet between two thermostats, is the other way round.) The sampler is then compared with
//! these numbers at hω = √2, where the two columns differ by a factor 2.

use pf_baoab::{Baoab, Scheme};
use pf_core::field::TargetScore;
use pf_core::target::GaussianMixture;
use pf_sample::{Driver, Init};
use tch::{Device, Kind};

type M2 = [[f64; 2]; 2];

fn mul(a: &M2, b: &M2) -> M2 {
    let mut c = [[0.0; 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            c[i][j] = a[i][0] * b[0][j] + a[i][1] * b[1][j];
        }
    }
    c
}
fn tr(a: &M2) -> M2 {
    [[a[0][0], a[1][0]], [a[0][1], a[1][1]]]
}
fn add(a: &M2, b: &M2) -> M2 {
    [
        [a[0][0] + b[0][0], a[0][1] + b[0][1]],
        [a[1][0] + b[1][0], a[1][1] + b[1][1]],
    ]
}
fn apply(a: &M2, v: [f64; 2]) -> [f64; 2] {
    [
        a[0][0] * v[0] + a[0][1] * v[1],
        a[1][0] * v[0] + a[1][1] * v[1],
    ]
}
fn outer(v: [f64; 2]) -> M2 {
    [[v[0] * v[0], v[0] * v[1]], [v[1] * v[0], v[1] * v[1]]]
}

/// One step as z ← M z + noise with covariance Q: (M, Q).
fn step_map(scheme: Scheme, h: f64, gamma: f64, m: f64, s2: f64) -> (M2, M2) {
    let b: M2 = [[1.0, 0.0], [-h / (2.0 * m * s2), 1.0]]; // v += (h/2m)(−x/σ²)
    let a = |tau: f64| -> M2 { [[1.0, tau], [0.0, 1.0]] }; // x += τ v
    let o = |tau: f64| -> (M2, [f64; 2]) {
        let c = (-gamma * tau).exp();
        ([[1.0, 0.0], [0.0, c]], [0.0, ((1.0 - c * c) / m).sqrt()])
    };
    match scheme {
        Scheme::Baoab => {
            let (o, n) = o(h);
            let (pre, post) = (mul(&a(h / 2.0), &b), mul(&b, &a(h / 2.0)));
            (mul(&post, &mul(&o, &pre)), outer(apply(&post, n)))
        }
        Scheme::Obabo => {
            let (o, n) = o(h / 2.0);
            let verlet = mul(&b, &mul(&a(h), &b));
            let first = apply(&mul(&o, &verlet), n);
            (mul(&o, &mul(&verlet, &o)), add(&outer(first), &outer(n)))
        }
    }
}

/// The stationary covariance of (x, v) after a full step: S = M S Mᵀ + Q.
fn lyapunov(scheme: Scheme, h: f64, gamma: f64, m: f64, s2: f64) -> M2 {
    let (step, q) = step_map(scheme, h, gamma, m, s2);
    // S = Σ_j M^j Q M^jᵀ by doubling: after k rounds the sum holds 2^k terms
    let (mut s, mut p) = (q, step);
    for _ in 0..64 {
        s = add(&s, &mul(&p, &mul(&s, &tr(&p))));
        p = mul(&p, &p);
    }
    s
}

/// (Var x, m·Var v) in closed form.
fn closed_form(scheme: Scheme, h: f64, m: f64, s2: f64) -> (f64, f64) {
    let shrink = 1.0 - h * h / (4.0 * m * s2);
    match scheme {
        Scheme::Baoab => (s2, shrink),
        Scheme::Obabo => (s2 / shrink, 1.0),
    }
}

#[test]
fn closed_form_solves_the_lyapunov_equation() {
    for scheme in [Scheme::Baoab, Scheme::Obabo] {
        for (h, gamma, m, s2) in [
            (0.5, 1.0, 1.0, 1.0),
            (1.0, 1.0, 2.0, 0.25),
            (1.5, 2.0, 1.0, 1.0),
            (0.8, 0.3, 0.5, 2.0),
            (0.1, 10.0, 3.0, 0.7),
        ] {
            let s = lyapunov(scheme, h, gamma, m, s2);
            let (vx, kt) = closed_form(scheme, h, m, s2);
            let tol = 1e-12;
            assert!(
                (s[0][0] / vx - 1.0).abs() < tol
                    && (m * s[1][1] / kt - 1.0).abs() < tol
                    && s[0][1].abs() < tol,
                "{scheme:?} h={h} γ={gamma} m={m} σ²={s2}: Lyapunov {s:?}, closed form ({vx}, {kt})"
            );
        }
    }
}

/// σ = 0.5, m = 2, h = 1, γ = 1: hω = √2, so 1 − h²ω²/4 = 1/2. From N(0, 1) positions the chain
/// contracts by √c = e^{−1/2} per step (|eigenvalues of M|), so 100 steps forget the start.
#[test]
fn stationary_variances_match_the_closed_form() {
    let _rng = pf_core::rng::seed_exclusive(20);
    let (s2, m, h, gamma): (f64, f64, f64, f64) = (0.25, 2.0, 1.0, 1.0);
    let n = 200_000;
    let target = GaussianMixture::new(vec![1.0], vec![vec![0.0]], vec![vec![s2.sqrt()]]).unwrap();
    for scheme in [Scheme::Baoab, Scheme::Obabo] {
        let out = Baoab {
            steps: 100,
            step: h,
            friction: gamma,
            mass: m,
            scheme,
        }
        .run(
            &TargetScore(&target),
            Init::StdNormal.draw(n, 1, Device::Cpu).unwrap(),
            &mut Driver::default(),
        )
        .unwrap();
        assert_eq!(out.nfe, 101);
        let (vx, kt) = closed_form(scheme, h, m, s2);
        // the wrong column: what the other scheme would give
        let (wrong_vx, wrong_kt) = closed_form(
            match scheme {
                Scheme::Baoab => Scheme::Obabo,
                Scheme::Obabo => Scheme::Baoab,
            },
            h,
            m,
            s2,
        );
        let var = out.x.to_kind(Kind::Double).var(true).double_value(&[]);
        let temp = out.diagnostics["kinetic_temperature"];
        // SE of a Gaussian variance (and of m·⟨v²⟩ about mean 0): value·√(2/N)
        let (se_x, se_t) = (vx * (2.0 / n as f64).sqrt(), kt * (2.0 / n as f64).sqrt());
        println!(
            "{scheme:?}: Var x = {var:.5} (want {vx}, se {se_x:.5}, wrong {wrong_vx}), \
             m⟨v²⟩ = {temp:.5} (want {kt}, se {se_t:.5}, wrong {wrong_kt})"
        );
        assert!(
            (var - vx).abs() < 4.0 * se_x,
            "{scheme:?}: Var x = {var}, want {vx} ± {se_x}"
        );
        assert!(
            (temp - kt).abs() < 4.0 * se_t,
            "{scheme:?}: kinetic temperature {temp}, want {kt} ± {se_t}"
        );
        // the comparison can fail: the other scheme's values are hundreds of SEs away
        assert!(
            (var - wrong_vx).abs() > 50.0 * se_x,
            "{scheme:?}: Var x = {var} does not reject {wrong_vx}"
        );
        assert!(
            (temp - wrong_kt).abs() > 50.0 * se_t,
            "{scheme:?}: kinetic temperature {temp} does not reject {wrong_kt}"
        );
    }
}

/// The friction and the time scale: the chain is linear, so from x₀ = 1 and Maxwell velocities
/// (mean 0) the mean after k steps is exactly E z_k = M^k (1, 0). After 4 steps it depends on γ
/// (the stationary variances do not, for BAOAB); half the friction is rejected by many SEs.
#[test]
fn transient_mean_follows_the_step_map() {
    let _rng = pf_core::rng::seed_exclusive(22);
    let (s2, m, h, gamma, k): (f64, f64, f64, f64, usize) = (0.25, 2.0, 1.0, 1.0, 4);
    let n = 200_000;
    let target = GaussianMixture::new(vec![1.0], vec![vec![0.0]], vec![vec![s2.sqrt()]]).unwrap();
    let mean_after = |g: f64| {
        let (step, _) = step_map(Scheme::Baoab, h, g, m, s2);
        (0..k).fold([1.0, 0.0], |z, _| apply(&step, z))[0]
    };
    let out = Baoab {
        steps: k,
        step: h,
        friction: gamma,
        mass: m,
        scheme: Scheme::Baoab,
    }
    .run(
        &TargetScore(&target),
        tch::Tensor::ones([n, 1], (Kind::Float, Device::Cpu)),
        &mut Driver::default(),
    )
    .unwrap();
    let x = out.x.to_kind(Kind::Double);
    let mean = x.mean(Kind::Double).double_value(&[]);
    let se = x.std(true).double_value(&[]) / (n as f64).sqrt();
    let (want, wrong) = (mean_after(gamma), mean_after(gamma / 2.0));
    println!("E x_{k} = {mean:.5} (want {want:.5}, se {se:.5}; with γ/2: {wrong:.5})");
    assert!(
        (mean - want).abs() < 4.0 * se,
        "E x_{k} = {mean}, want {want} ± {se}"
    );
    assert!(
        (mean - wrong).abs() > 10.0 * se,
        "γ/2 not rejected: {mean} vs {wrong}"
    );
}
