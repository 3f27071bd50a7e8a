//! Adaptive Dormand–Prince 5(4) with FSAL, on batched tensors.
//!
//! The whole batch shares one step size h. The error estimate e = h Σ (b_i − b*_i) k_i is scaled
//! by sc = atol + rtol · max(|y|, |y_new|) and reduced by an [`ErrorNorm`]; a step is accepted
//! when the norm is ≤ 1 and h is rescaled by safety · norm^(−1/5), clipped to [0.2, 10] (the
//! controller of scipy's RK45, so tolerances mean the same thing). One host read per step (the
//! error norm) is inherent to adaptivity.

use crate::{Error, Result};
use tch::{Kind, Tensor};

const C: [f64; 6] = [0.2, 0.3, 0.8, 8.0 / 9.0, 1.0, 1.0];
const A2: [f64; 1] = [0.2];
const A3: [f64; 2] = [3.0 / 40.0, 9.0 / 40.0];
const A4: [f64; 3] = [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0];
const A5: [f64; 4] = [
    19372.0 / 6561.0,
    -25360.0 / 2187.0,
    64448.0 / 6561.0,
    -212.0 / 729.0,
];
const A6: [f64; 5] = [
    9017.0 / 3168.0,
    -355.0 / 33.0,
    46732.0 / 5247.0,
    49.0 / 176.0,
    -5103.0 / 18656.0,
];
/// 5th-order weights (k₁..k₆; k₂'s weight is 0).
const B: [f64; 6] = [
    35.0 / 384.0,
    0.0,
    500.0 / 1113.0,
    125.0 / 192.0,
    -2187.0 / 6784.0,
    11.0 / 84.0,
];
/// b − b* for k₁..k₇.
const E: [f64; 7] = [
    71.0 / 57600.0,
    0.0,
    -71.0 / 16695.0,
    71.0 / 1920.0,
    -17253.0 / 339200.0,
    22.0 / 525.0,
    -1.0 / 40.0,
];

/// How the scaled error of a batch is reduced to one number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorNorm {
    /// RMS over every element of the batch (scipy's and torchdiffeq's choice).
    Rms,
    /// The largest per-row RMS: every sample meets the tolerance on its own.
    MaxRow,
}

/// Solver settings. `h_min` and `max_steps` turn a stiff or diverging problem into a clear error
/// instead of a spin.
#[derive(Clone, Debug)]
pub struct Dopri5 {
    pub rtol: f64,
    pub atol: f64,
    /// First step; chosen automatically (Hairer, Nørsett & Wanner II.4) when `None`.
    pub h_init: Option<f64>,
    /// Smallest allowed |h|.
    pub h_min: f64,
    /// Largest number of attempted steps.
    pub max_steps: usize,
    pub norm: ErrorNorm,
}

impl Default for Dopri5 {
    fn default() -> Self {
        Self {
            rtol: 1e-5,
            atol: 1e-5,
            h_init: None,
            h_min: 1e-10,
            max_steps: 100_000,
            norm: ErrorNorm::Rms,
        }
    }
}

/// Counters of a solve: right-hand-side evaluations, accepted and rejected steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Dopri5Stats {
    pub nfe: usize,
    pub accepted: usize,
    pub rejected: usize,
}

/// acc += a · k, fused on the CPU, device-safe elsewhere ([`crate::ops::axpy_`]).
fn axpy(acc: &mut Tensor, a: f64, k: &Tensor) {
    if a != 0.0 {
        crate::ops::axpy_(acc, a, k);
    }
}

/// y + h Σ_j a_j k_j.
fn combo(y: &Tensor, h: f64, a: &[f64], ks: &[Tensor]) -> Tensor {
    let mut acc = y.copy();
    for (aj, kj) in a.iter().zip(ks) {
        axpy(&mut acc, h * aj, kj);
    }
    acc
}

impl Dopri5 {
    pub fn new(rtol: f64, atol: f64) -> Self {
        Self {
            rtol,
            atol,
            ..Self::default()
        }
    }

    fn scaled_norm(&self, e: &Tensor, y0: &Tensor, y1: &Tensor) -> f64 {
        let sc = y0.abs().maximum(&y1.abs()) * self.rtol + self.atol;
        let r = (e / sc).square();
        let v = match self.norm {
            ErrorNorm::Rms => r.mean(Kind::Double),
            ErrorNorm::MaxRow => {
                let rows = r.size()[0];
                r.reshape([rows, -1]).mean_dim(1, false, Kind::Double).max()
            }
        };
        v.double_value(&[]).sqrt()
    }

    /// Integrates dy/dt = f(t, y) from `t0` to `t1` (either direction). `observe(k, t, y)` sees
    /// every accepted step. Returns the state at `t1` and the counters; stops with
    /// [`Error::Interrupted`] at a step boundary when [`crate::interrupt::requested`].
    pub fn solve(
        &self,
        f: &mut impl FnMut(f64, &Tensor) -> Tensor,
        y0: &Tensor,
        t0: f64,
        t1: f64,
        mut observe: impl FnMut(usize, f64, &Tensor),
    ) -> Result<(Tensor, Dopri5Stats)> {
        if !(self.rtol > 0.0 && self.atol >= 0.0) {
            return Err(Error::invalid(
                "rtol/atol",
                format!("{}/{}", self.rtol, self.atol),
                "rtol > 0 and atol ≥ 0",
            ));
        }
        let mut st = Dopri5Stats::default();
        let span = t1 - t0;
        if span == 0.0 {
            return Ok((y0.shallow_clone(), st));
        }
        let dir = span.signum();
        let mut t = t0;
        let mut y = y0.shallow_clone();
        let mut k1 = f(t, &y);
        st.nfe += 1;
        let mut h = match self.h_init {
            Some(h) => h.abs().min(span.abs()),
            None => {
                let (h, extra) = self.initial_step(f, t0, &y, &k1, dir, span.abs());
                st.nfe += extra;
                h
            }
        };
        let mut rejected_here = false;
        while dir * (t1 - t) > 0.0 {
            if let Some(signal) = crate::interrupt::requested() {
                return Err(Error::Interrupted {
                    what: "dopri5".into(),
                    step: st.accepted,
                    signal,
                });
            }
            if st.accepted + st.rejected >= self.max_steps {
                return Err(Error::Solver {
                    solver: "dopri5",
                    t,
                    msg: format!(
                        "more than {} steps (rtol {}, atol {}): the problem is too stiff or diverging; raise max_steps or loosen the tolerances",
                        self.max_steps, self.rtol, self.atol
                    ),
                });
            }
            if h < self.h_min {
                return Err(Error::Solver {
                    solver: "dopri5",
                    t,
                    msg: format!(
                        "step size {h:.3e} fell below h_min {:.3e}: non-finite or stiff dynamics (check the field near this t)",
                        self.h_min
                    ),
                });
            }
            let remaining = (t1 - t).abs();
            let last = h >= remaining;
            let hs = if last { remaining } else { h } * dir;
            let k2 = f(
                t + C[0] * hs,
                &combo(&y, hs, &A2, std::slice::from_ref(&k1)),
            );
            let k3 = f(
                t + C[1] * hs,
                &combo(&y, hs, &A3, &[k1.shallow_clone(), k2.shallow_clone()]),
            );
            let ks3 = [k1.shallow_clone(), k2.shallow_clone(), k3.shallow_clone()];
            let k4 = f(t + C[2] * hs, &combo(&y, hs, &A4, &ks3));
            let ks4 = [
                k1.shallow_clone(),
                k2.shallow_clone(),
                k3.shallow_clone(),
                k4.shallow_clone(),
            ];
            let k5 = f(t + C[3] * hs, &combo(&y, hs, &A5, &ks4));
            let ks5 = [k1.shallow_clone(), k2, k3, k4, k5];
            let k6 = f(t + C[4] * hs, &combo(&y, hs, &A6, &ks5));
            let ks6 = [
                ks5[0].shallow_clone(),
                ks5[1].shallow_clone(),
                ks5[2].shallow_clone(),
                ks5[3].shallow_clone(),
                ks5[4].shallow_clone(),
                k6,
            ];
            let y_new = combo(&y, hs, &B, &ks6);
            let t_new = if last { t1 } else { t + hs };
            let k7 = f(t_new, &y_new);
            st.nfe += 6;
            let mut err = &ks6[0] * (hs * E[0]);
            for j in 2..6 {
                axpy(&mut err, hs * E[j], &ks6[j]);
            }
            axpy(&mut err, hs * E[6], &k7);
            let en = self.scaled_norm(&err, &y, &y_new);
            if en <= 1.0 {
                st.accepted += 1;
                t = t_new;
                y = y_new;
                k1 = k7;
                observe(st.accepted, t, &y);
                let mut fac = if en == 0.0 {
                    10.0
                } else {
                    (0.9 * en.powf(-0.2)).min(10.0)
                };
                if rejected_here {
                    fac = fac.min(1.0);
                }
                h *= fac;
                rejected_here = false;
            } else {
                st.rejected += 1;
                let fac = if en.is_finite() {
                    (0.9 * en.powf(-0.2)).max(0.2)
                } else {
                    0.2
                };
                h = hs.abs() * fac;
                rejected_here = true;
            }
        }
        Ok((y, st))
    }

    /// Hairer, Nørsett & Wanner's starting step (as in scipy). Returns (h, extra evaluations).
    fn initial_step(
        &self,
        f: &mut impl FnMut(f64, &Tensor) -> Tensor,
        t0: f64,
        y0: &Tensor,
        f0: &Tensor,
        dir: f64,
        span: f64,
    ) -> (f64, usize) {
        let sc = y0.abs() * self.rtol + self.atol;
        let rms = |v: &Tensor| {
            (v / &sc)
                .square()
                .mean(Kind::Double)
                .double_value(&[])
                .sqrt()
        };
        let (d0, d1) = (rms(y0), rms(f0));
        let h0 = if d0 < 1e-5 || d1 < 1e-5 {
            1e-6
        } else {
            0.01 * d0 / d1
        };
        let h0 = h0.min(span);
        let y1 = y0 + f0 * (h0 * dir);
        let f1 = f(t0 + h0 * dir, &y1);
        let d2 = rms(&(f1 - f0)) / h0;
        let h1 = if d1 <= 1e-15 && d2 <= 1e-15 {
            (h0 * 1e-3).max(1e-6)
        } else {
            (0.01 / d1.max(d2)).powf(0.2)
        };
        ((100.0 * h0).min(h1).min(span), 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    /// dy/dt = λ y with several λ per row, solved to tolerance; NFE reported.
    #[test]
    fn exponential_to_tolerance() {
        let lam = Tensor::from_slice(&[-2.0f64, -0.5, 0.3, 1.0]).view([4, 1]);
        let y0 = Tensor::ones([4, 1], (Kind::Double, Device::Cpu));
        for tol in [1e-4, 1e-6, 1e-8] {
            let s = Dopri5::new(tol, tol);
            let mut f = |_t: f64, y: &Tensor| y * &lam;
            let (y, st) = s.solve(&mut f, &y0, 0.0, 2.0, |_, _, _| {}).unwrap();
            let exact = (&lam * 2.0).exp();
            let rel = ((&y - &exact) / &exact).abs().max().double_value(&[]);
            // global error stays within a small multiple of the local tolerance
            assert!(rel < 20.0 * tol, "tol {tol}: rel err {rel}");
            assert!(
                st.nfe == 2 + 6 * (st.accepted + st.rejected),
                "nfe accounting {st:?}"
            );
            assert!(st.nfe > 10 && st.nfe < 2000, "{st:?}");
        }
    }

    /// A 2-D rotation y' = [−y₂, y₁] over a full turn, forward and backward in time.
    #[test]
    fn rotation_full_turn() {
        let y0 = Tensor::from_slice(&[1.0f64, 0.0]).view([1, 2]);
        let mut f = |_t: f64, y: &Tensor| Tensor::cat(&[-y.narrow(1, 1, 1), y.narrow(1, 0, 1)], 1);
        let tp = 2.0 * std::f64::consts::PI;
        for (t0, t1) in [(0.0, tp), (tp, 0.0)] {
            let (y, st) = Dopri5::new(1e-8, 1e-8)
                .solve(&mut f, &y0, t0, t1, |_, _, _| {})
                .unwrap();
            let err = (&y - &y0).abs().max().double_value(&[]);
            assert!(err < 1e-6, "{t0}->{t1}: {err}, {st:?}");
        }
    }

    /// Tighter tolerance costs more evaluations; the rule is 5th order, so NFE grows like tol^(-1/5).
    #[test]
    fn nfe_grows_with_tolerance() {
        let y0 = Tensor::from_slice(&[1.0f64]);
        let mut f = |t: f64, y: &Tensor| y * t.cos();
        let mut n = |tol: f64| {
            Dopri5::new(tol, tol)
                .solve(&mut f, &y0, 0.0, 10.0, |_, _, _| {})
                .unwrap()
                .1
                .nfe
        };
        let (a, b) = (n(1e-4), n(1e-9));
        let ratio = b as f64 / a as f64;
        // (1e5)^(1/5) = 10; allow the controller's slack
        assert!(ratio > 4.0 && ratio < 20.0, "nfe {a} -> {b}");
    }

    /// A blow-up in finite time is a clear error, not a spin.
    #[test]
    fn blow_up_is_an_error() {
        let y0 = Tensor::from_slice(&[1.0f64]);
        let mut f = |_t: f64, y: &Tensor| y.square();
        let e = Dopri5::new(1e-6, 1e-6)
            .solve(&mut f, &y0, 0.0, 2.0, |_, _, _| {})
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("dopri5") && (e.contains("h_min") || e.contains("steps")),
            "{e}"
        );
        let s = Dopri5 {
            max_steps: 5,
            ..Dopri5::new(1e-10, 1e-10)
        };
        let mut g = |t: f64, y: &Tensor| y * t.cos();
        let e = s
            .solve(&mut g, &y0, 0.0, 10.0, |_, _, _| {})
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than 5 steps"), "{e}");
    }
}
