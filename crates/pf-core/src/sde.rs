//! The SDE view of a Gaussian path, its reverse SDE and its probability-flow ODE, plus the
//! Langevin SDE of a fixed density (seed 000).
//!
//! Forward (t: 0 → 1):  dx = f(t) x dt + g(t) dW
//! Reverse (t: 1 → 0):  dx = [f(t) x − g²(t) s(x, t)] dt + g(t) dW̄
//! PF ODE (either way): dx/dt = f(t) x − ½ g²(t) s(x, t)
//! Langevin toward p:   dx = ∇log p(x) dt + √2 dW, with PF ODE dx/dt = ∇log p(x) − ∇log q_t(x)
//! (q_t the particles' own density, which is what MonoFlow estimates by a classifier).
//!
//! Drifts are written per unit time; integrators multiply by a signed dt (negative when going
//! from t = 1 to t = 0).

use crate::path::GaussianPath;
use tch::Tensor;

/// Reverse-SDE drift f(t) x − g²(t) s at one time t for the whole batch. Shapes: x, s [N, D].
pub fn reverse_sde_drift(path: &dyn GaussianPath, t: f64, x: &Tensor, score: &Tensor) -> Tensor {
    x * path.drift_coef(t) - score * path.diffusion_sq(t)
}

/// PF-ODE drift f(t) x − ½ g²(t) s. Shapes: x, s [N, D].
pub fn pf_ode_drift(path: &dyn GaussianPath, t: f64, x: &Tensor, score: &Tensor) -> Tensor {
    x * path.drift_coef(t) - score * (0.5 * path.diffusion_sq(t))
}

/// Diffusion coefficient g(t).
pub fn diffusion(path: &dyn GaussianPath, t: f64) -> f64 {
    path.diffusion_sq(t).max(0.0).sqrt()
}

/// Langevin PF-ODE velocity ∇log p − ∇log q_t given both scores. Shapes [N, D].
pub fn langevin_pf_velocity(score_p: &Tensor, score_q: &Tensor) -> Tensor {
    score_p - score_q
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::{VeGeometric, VpLinear};
    use tch::{Device, Kind};

    /// For data N(0, s²) the marginal is N(0, α²s² + σ²) with score −x/(α²s²+σ²); the PF-ODE
    /// drift must then transport the variance: d/dt var = 2 · (drift/x) · var.
    #[test]
    fn pf_ode_transports_gaussian_variance() {
        let s2 = 0.3f64;
        for p in [
            &VpLinear::default() as &dyn GaussianPath,
            &VeGeometric::new(0.01, 5.0),
        ] {
            for t in [0.1, 0.5, 0.9] {
                let c = p.coeffs(t);
                let var = c.alpha * c.alpha * s2 + c.sigma * c.sigma;
                let x = Tensor::from_slice(&[1.0f64])
                    .view([1, 1])
                    .to_device(Device::Cpu);
                let sc = -&x / var;
                let k = pf_ode_drift(p, t, &x, &sc).double_value(&[0, 0]);
                // d var/dt by finite differences of the closed form
                let h = 1e-6;
                let v = |t: f64| {
                    let c = p.coeffs(t);
                    c.alpha * c.alpha * s2 + c.sigma * c.sigma
                };
                let dvar = (v(t + h) - v(t - h)) / (2.0 * h);
                assert!(
                    (2.0 * k * var - dvar).abs() < 1e-5 * (1.0 + dvar.abs()),
                    "{} t={t}",
                    p.name()
                );
                let _ = Kind::Double;
            }
        }
    }
}
