//! Shared checks for targets: normalisation by quadrature and score vs autograd.

use super::Target;
use crate::field::autograd_grad;
use tch::{Device, Kind, Tensor};

/// ∫ p = 1 on [lo, hi] by the trapezoidal rule on a fine grid.
pub fn check_normalised_1d(t: &dyn Target, (lo, hi): (f64, f64), tol: f64) {
    let n = 20_001;
    let x = Tensor::linspace(lo, hi, n, (Kind::Double, Device::Cpu)).view([n, 1]);
    let p = t.log_prob(&x).expect("log_prob").exp();
    let h = (hi - lo) / (n - 1) as f64;
    let z = (p.sum(Kind::Double).double_value(&[])
        - 0.5 * (p.double_value(&[0]) + p.double_value(&[n - 1])))
        * h;
    assert!((z - 1.0).abs() < tol, "{}: ∫p = {z}", t.name());
}

/// ∫∫ p = 1 on a box by the midpoint rule.
pub fn check_normalised_2d(t: &dyn Target, (x0, x1): (f64, f64), (y0, y1): (f64, f64), tol: f64) {
    let n = 1200i64;
    let (hx, hy) = ((x1 - x0) / n as f64, (y1 - y0) / n as f64);
    let xs = Tensor::arange(n, (Kind::Double, Device::Cpu)) * hx + (x0 + 0.5 * hx);
    let ys = Tensor::arange(n, (Kind::Double, Device::Cpu)) * hy + (y0 + 0.5 * hy);
    let g = Tensor::meshgrid_indexing(&[&xs, &ys], "ij");
    let pts = Tensor::stack(&[g[0].reshape([-1]), g[1].reshape([-1])], 1);
    let z = t
        .log_prob(&pts)
        .expect("log_prob")
        .exp()
        .sum(Kind::Double)
        .double_value(&[])
        * hx
        * hy;
    assert!((z - 1.0).abs() < tol, "{}: ∫∫p = {z}", t.name());
}

/// The analytic score equals autograd of log_prob at random points N(0, spread²).
pub fn check_score(t: &dyn Target, spread: f64, tol: f64) {
    tch::manual_seed(11);
    let x = Tensor::randn([256, t.dim() as i64], (Kind::Double, Device::Cpu)) * spread;
    let s = t.score(&x).expect("score");
    let g = autograd_grad(&x, |x| t.log_prob(x).expect("log_prob"));
    let err = (&s - &g).abs().max().double_value(&[]);
    let scale = 1.0 + g.abs().max().double_value(&[]);
    assert!(
        err <= tol * scale,
        "{}: |score − autograd| = {err} (scale {scale})",
        t.name()
    );
}
