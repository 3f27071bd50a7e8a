//! Gaussian paths and noise schedules: x_t = α(t) x₀ + σ(t) ε, ε ~ N(0, I), t = 0 data, t = 1 prior.
//!
//! A path gives α, σ and their time derivatives, as plain `f64` (scalar maths, tested without
//! tensors) and elementwise on a tensor of times (per-sample t in training). The SDE view follows
//! from them for every path:
//!
//! dx = f(t) x dt + g(t) dW,  f(t) = α'(t)/α(t),  g²(t) = d σ²/dt − 2 f(t) σ²(t),
//!
//! which gives VP (f = −β/2, g² = β), sub-VP (g² = β(1 − e^{−2∫β})) and VE (f = 0, g² = dσ²/dt).

mod conditional;
mod config;
mod ddpm;
mod sub_vp;
mod ve_geometric;
mod vp_cosine;
mod vp_linear;

pub use conditional::{CondPath, CondSigma};
pub use config::PathConfig;
pub use ddpm::DdpmSchedule;
pub use sub_vp::SubVp;
pub use ve_geometric::VeGeometric;
pub use vp_cosine::VpCosine;
pub use vp_linear::VpLinear;

use tch::Tensor;

/// α(t), σ(t), α'(t), σ'(t) at one time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coeffs {
    pub alpha: f64,
    pub sigma: f64,
    pub d_alpha: f64,
    pub d_sigma: f64,
}

/// α, σ, α', σ' elementwise on a tensor of times (same shape as t).
#[derive(Debug)]
pub struct CoeffsT {
    pub alpha: Tensor,
    pub sigma: Tensor,
    pub d_alpha: Tensor,
    pub d_sigma: Tensor,
}

impl Coeffs {
    /// The same numbers as 0-dim tensors, to broadcast against [N, D] batches.
    /// (0-dim tensors take part in arithmetic without changing the batch's dtype or device.)
    pub fn to_tensors(self) -> CoeffsT {
        CoeffsT {
            alpha: Tensor::from(self.alpha),
            sigma: Tensor::from(self.sigma),
            d_alpha: Tensor::from(self.d_alpha),
            d_sigma: Tensor::from(self.d_sigma),
        }
    }
}

/// A Gaussian path / noise schedule. Implementors provide [`coeffs`](Self::coeffs) and
/// [`coeffs_t`](Self::coeffs_t); the SDE view has defaults (overridden where a closed form is
/// better conditioned, e.g. VP at t = 0 where σ' is infinite but g² is finite).
pub trait GaussianPath: Send + Sync {
    /// A short name, e.g. `vp-linear(0.1, 20)`.
    fn name(&self) -> String;
    /// α, σ, α', σ' at t ∈ [0, 1].
    fn coeffs(&self, t: f64) -> Coeffs;
    /// The same, elementwise on a float tensor of times.
    fn coeffs_t(&self, t: &Tensor) -> CoeffsT;

    /// The largest time samplers start from (1 unless the path is singular there).
    fn t_max(&self) -> f64 {
        1.0
    }
    /// f(t) in the forward SDE dx = f(t) x dt + g(t) dW: f = α'/α.
    fn drift_coef(&self, t: f64) -> f64 {
        let c = self.coeffs(t);
        c.d_alpha / c.alpha
    }
    /// g²(t) = dσ²/dt − 2 f(t) σ²(t).
    fn diffusion_sq(&self, t: f64) -> f64 {
        let c = self.coeffs(t);
        2.0 * c.sigma * c.d_sigma - 2.0 * (c.d_alpha / c.alpha) * c.sigma * c.sigma
    }
    /// g²(t) elementwise on a tensor of times (the likelihood weighting λ(t) = g²(t)).
    fn diffusion_sq_t(&self, t: &Tensor) -> Tensor {
        let c = self.coeffs_t(t);
        (&c.sigma * &c.d_sigma - &c.d_alpha / &c.alpha * &c.sigma * &c.sigma) * 2.0
    }
    /// The standard deviation of the prior N(0, σ² I) that samplers start from at [`t_max`](Self::t_max).
    fn prior_std(&self) -> f64 {
        self.coeffs(self.t_max()).sigma
    }
}

macro_rules! forward_path {
    ($($ty:ty),*) => {$(
        impl<P: GaussianPath + ?Sized> GaussianPath for $ty {
            fn name(&self) -> String {
                (**self).name()
            }
            fn coeffs(&self, t: f64) -> Coeffs {
                (**self).coeffs(t)
            }
            fn coeffs_t(&self, t: &Tensor) -> CoeffsT {
                (**self).coeffs_t(t)
            }
            fn t_max(&self) -> f64 {
                (**self).t_max()
            }
            fn drift_coef(&self, t: f64) -> f64 {
                (**self).drift_coef(t)
            }
            fn diffusion_sq(&self, t: f64) -> f64 {
                (**self).diffusion_sq(t)
            }
            fn diffusion_sq_t(&self, t: &Tensor) -> Tensor {
                (**self).diffusion_sq_t(t)
            }
            fn prior_std(&self) -> f64 {
                (**self).prior_std()
            }
        }
    )*};
}
forward_path!(&P, Box<P>, std::sync::Arc<P>);

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// Central-difference check of α', σ' and of the tensor version against the scalar one.
    pub fn check_derivatives(p: &dyn GaussianPath, ts: &[f64], tol: f64) {
        let h = 1e-6;
        for &t in ts {
            let c = p.coeffs(t);
            let (a, b) = (p.coeffs(t + h), p.coeffs(t - h));
            let da = (a.alpha - b.alpha) / (2.0 * h);
            let ds = (a.sigma - b.sigma) / (2.0 * h);
            assert!(
                (da - c.d_alpha).abs() <= tol * (1.0 + da.abs()),
                "{} α'({t}): fd {da} vs {}",
                p.name(),
                c.d_alpha
            );
            assert!(
                (ds - c.d_sigma).abs() <= tol * (1.0 + ds.abs()),
                "{} σ'({t}): fd {ds} vs {}",
                p.name(),
                c.d_sigma
            );
            let tt = Tensor::from_slice(&[t])
                .to_kind(Kind::Double)
                .to(Device::Cpu);
            let ct = p.coeffs_t(&tt);
            for (name, s, v) in [
                ("alpha", c.alpha, &ct.alpha),
                ("sigma", c.sigma, &ct.sigma),
                ("d_alpha", c.d_alpha, &ct.d_alpha),
                ("d_sigma", c.d_sigma, &ct.d_sigma),
            ] {
                let v = v.double_value(&[0]);
                assert!(
                    (s - v).abs() <= 1e-9 * (1.0 + s.abs()),
                    "{} {name}({t}): scalar {s} vs tensor {v}",
                    p.name()
                );
            }
            let g2 = p.diffusion_sq(t);
            let g2t = p.diffusion_sq_t(&tt).double_value(&[0]);
            assert!(
                (g2 - g2t).abs() <= 1e-7 * (1.0 + g2.abs()),
                "{} g² scalar {g2} vs tensor {g2t}",
                p.name()
            );
            // g² = dσ²/dt − 2fσ², checked against finite differences of σ²
            let dsig2 = (a.sigma * a.sigma - b.sigma * b.sigma) / (2.0 * h);
            let g2_fd = dsig2 - 2.0 * p.drift_coef(t) * c.sigma * c.sigma;
            assert!(
                (g2 - g2_fd).abs() <= tol * (1.0 + g2.abs()),
                "{} g²({t}) {g2} vs fd {g2_fd}",
                p.name()
            );
        }
    }

    /// Monte-Carlo mean and variance of x_t = α x₀ + σ ε for x₀ ~ N(m, s²) match α m and α² s² + σ².
    #[test]
    fn marginal_moments_match_monte_carlo() {
        let _rng = crate::rng::seed_exclusive(7);
        let paths: Vec<Box<dyn GaussianPath>> = vec![
            Box::new(VpLinear::default()),
            Box::new(VpCosine::default()),
            Box::new(SubVp::default()),
            Box::new(VeGeometric::new(0.01, 5.0)),
            Box::new(CondPath::linear()),
            Box::new(CondPath::sqrt()),
        ];
        let n = 400_000i64;
        let (m, s) = (1.5f64, 0.7f64);
        for p in &paths {
            for &t in &[0.1, 0.5, 0.9] {
                let c = p.coeffs(t);
                let x0 = Tensor::randn([n], (Kind::Double, Device::Cpu)) * s + m;
                let eps = Tensor::randn([n], (Kind::Double, Device::Cpu));
                let xt = x0 * c.alpha + eps * c.sigma;
                let mean = xt.mean(Kind::Double).double_value(&[]);
                let var = xt.var(true).double_value(&[]);
                let (em, ev) = (c.alpha * m, c.alpha * c.alpha * s * s + c.sigma * c.sigma);
                // 5 standard errors of the mean and of the variance estimate
                let se_m = (ev / n as f64).sqrt();
                let se_v = ev * (2.0 / n as f64).sqrt();
                assert!(
                    (mean - em).abs() < 5.0 * se_m,
                    "{} t={t}: mean {mean} vs {em}",
                    p.name()
                );
                assert!(
                    (var - ev).abs() < 5.0 * se_v,
                    "{} t={t}: var {var} vs {ev}",
                    p.name()
                );
            }
        }
    }
}
