//! Fixed-step explicit Runge–Kutta rules: Euler (order 1), Heun (order 2), classical RK4 (order 4).

use crate::{Error, Result};
use tch::Tensor;

/// y + h f(t, y).
pub fn euler(f: &mut impl FnMut(f64, &Tensor) -> Tensor, t: f64, h: f64, y: &Tensor) -> Tensor {
    let mut k = f(t, y);
    k *= h;
    k += y;
    k
}

/// Heun's method (explicit trapezoid): k₁ = f(t, y), k₂ = f(t + h, y + h k₁),
/// y + h/2 (k₁ + k₂).
pub fn heun(f: &mut impl FnMut(f64, &Tensor) -> Tensor, t: f64, h: f64, y: &Tensor) -> Tensor {
    let k1 = f(t, y);
    let y1 = y + &k1 * h;
    let mut k2 = f(t + h, &y1);
    k2 += k1;
    k2 *= 0.5 * h;
    k2 += y;
    k2
}

/// Classical RK4: y + h/6 (k₁ + 2k₂ + 2k₃ + k₄).
pub fn rk4(f: &mut impl FnMut(f64, &Tensor) -> Tensor, t: f64, h: f64, y: &Tensor) -> Tensor {
    let k1 = f(t, y);
    let k2 = f(t + 0.5 * h, &(y + &k1 * (0.5 * h)));
    let k3 = f(t + 0.5 * h, &(y + &k2 * (0.5 * h)));
    let k4 = f(t + h, &(y + &k3 * h));
    let mut acc = k2 + k3;
    acc *= 2.0;
    acc += k1;
    acc += k4;
    acc *= h / 6.0;
    acc += y;
    acc
}

/// A fixed-step rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixedMethod {
    Euler,
    Heun,
    Rk4,
}

impl FixedMethod {
    /// Right-hand-side evaluations per step.
    pub fn evals_per_step(self) -> usize {
        match self {
            FixedMethod::Euler => 1,
            FixedMethod::Heun => 2,
            FixedMethod::Rk4 => 4,
        }
    }
    /// One step of this rule.
    pub fn step(
        self,
        f: &mut impl FnMut(f64, &Tensor) -> Tensor,
        t: f64,
        h: f64,
        y: &Tensor,
    ) -> Tensor {
        match self {
            FixedMethod::Euler => euler(f, t, h, y),
            FixedMethod::Heun => heun(f, t, h, y),
            FixedMethod::Rk4 => rk4(f, t, h, y),
        }
    }
}

/// Integrates from `t0` to `t1` in `steps` uniform steps; `observe(k, t, y)` sees the state after
/// step k (k = 1..=steps). Returns the final state, or [`Error::Interrupted`] at a step boundary
/// when [`crate::interrupt::requested`].
pub fn integrate(
    method: FixedMethod,
    f: &mut impl FnMut(f64, &Tensor) -> Tensor,
    y0: &Tensor,
    t0: f64,
    t1: f64,
    steps: usize,
    mut observe: impl FnMut(usize, f64, &Tensor),
) -> Result<Tensor> {
    if steps == 0 {
        return Err(Error::invalid("steps", 0, "must be ≥ 1"));
    }
    let h = (t1 - t0) / steps as f64;
    let mut y = y0.shallow_clone();
    for k in 0..steps {
        if let Some(signal) = crate::interrupt::requested() {
            return Err(Error::Interrupted {
                what: "ode".into(),
                step: k,
                signal,
            });
        }
        let t = t0 + k as f64 * h;
        y = method.step(f, t, h, &y);
        observe(k + 1, t + h, &y);
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// Error of integrating y' = cos(t) y (y = exp(sin t)) from 0 to 2 with n steps.
    fn err(m: FixedMethod, n: usize) -> f64 {
        let y0 = Tensor::from_slice(&[1.0f64]);
        let mut f = |t: f64, y: &Tensor| y * t.cos();
        let y = integrate(m, &mut f, &y0, 0.0, 2.0, n, |_, _, _| {}).unwrap();
        (y.double_value(&[0]) - 2f64.sin().exp()).abs()
    }

    /// Halving the step divides the error by 2^order.
    #[test]
    fn convergence_orders() {
        for (m, order) in [
            (FixedMethod::Euler, 1.0),
            (FixedMethod::Heun, 2.0),
            (FixedMethod::Rk4, 4.0),
        ] {
            let (e1, e2, e3) = (err(m, 40), err(m, 80), err(m, 160));
            let (p1, p2) = ((e1 / e2).log2(), (e2 / e3).log2());
            assert!(
                (p1 - order).abs() < 0.15 && (p2 - order).abs() < 0.1,
                "{m:?}: observed orders {p1:.3}, {p2:.3}"
            );
        }
    }

    /// Backward in time works: integrate y' = −y from 1 down to 0 gives y(0) = y(1) e.
    #[test]
    fn backward_time() {
        let y1 = Tensor::ones([3, 2], (Kind::Double, Device::Cpu));
        let mut f = |_t: f64, y: &Tensor| -y;
        let y0 = integrate(FixedMethod::Rk4, &mut f, &y1, 1.0, 0.0, 100, |_, _, _| {}).unwrap();
        assert!((y0.double_value(&[1, 1]) - 1f64.exp()).abs() < 1e-8);
    }
}
