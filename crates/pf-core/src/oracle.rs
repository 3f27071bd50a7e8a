//! The exact oracle: a Gaussian mixture stays a Gaussian mixture under every Gaussian path.
//!
//! If x₀ ~ Σ_k w_k N(μ_k, S_k) (S_k diagonal) and x_t = α x₀ + σ ε, then
//! p_t = Σ_k w_k N(α μ_k, C_k), C_k = α² S_k + σ² I. Hence, with responsibilities r_k(x) and
//! d_k = x − α μ_k:
//!   score     s(x, t) = −Σ_k r_k C_k⁻¹ d_k
//!   log p_t(x)        = log Σ_k w_k N(x; α μ_k, C_k)
//!   velocity  v(x, t) = E[α' x₀ + σ' ε | x_t = x] = Σ_k r_k [α'(μ_k + α S_k C_k⁻¹ d_k) + σ'σ C_k⁻¹ d_k]
//! (the velocity is written without dividing by α, so it holds at α = 0 too).
//! Samplers and the likelihood solver are tested against these, with no training.

use crate::field::{ScoreField, VelocityField};
use crate::path::GaussianPath;
use crate::target::GaussianMixture;
use tch::Tensor;

/// Exact score, velocity and log-density of a Gaussian mixture pushed along a path.
pub struct GmmOracle<P> {
    pub gmm: GaussianMixture,
    pub path: P,
}

impl<P: GaussianPath> GmmOracle<P> {
    pub fn new(gmm: GaussianMixture, path: P) -> Self {
        Self { gmm, path }
    }

    /// log p_t(x). Shapes: x [N, D], t [N, 1] or [1, 1] → [N].
    pub fn log_prob(&self, x: &Tensor, t: &Tensor) -> Tensor {
        let c = self.path.coeffs_t(&t.to_kind(x.kind()));
        self.gmm.log_prob_at(x, &c.alpha, &c.sigma)
    }

    /// log p_t(x) at one scalar time. Shapes: x [N, D] → [N].
    pub fn log_prob_at_time(&self, x: &Tensor, t: f64) -> Tensor {
        let c = self.path.coeffs(t);
        self.gmm
            .log_prob_at(x, &Tensor::from(c.alpha), &Tensor::from(c.sigma))
    }
}

impl<P: GaussianPath> ScoreField for GmmOracle<P> {
    fn score(&self, x: &Tensor, t: &Tensor) -> Tensor {
        let c = self.path.coeffs_t(&t.to_kind(x.kind()));
        self.gmm.score_at(x, &c.alpha, &c.sigma)
    }
}

impl<P: GaussianPath> VelocityField for GmmOracle<P> {
    fn velocity(&self, x: &Tensor, t: &Tensor) -> Tensor {
        let c = self.path.coeffs_t(&t.to_kind(x.kind()));
        let p = self.gmm.pieces(x, &c.alpha, &c.sigma);
        let m = self.gmm.tensors(x.device(), x.kind());
        let e3 = |c: &Tensor| {
            if c.dim() == 0 {
                c.shallow_clone()
            } else {
                c.reshape([-1, 1, 1])
            }
        };
        let (a, s, da, ds) = (e3(&c.alpha), e3(&c.sigma), e3(&c.d_alpha), e3(&c.d_sigma));
        let cinv_d = &p.d / &p.var; // C⁻¹ d, [N, K, D]
        let x0 = m.mu.unsqueeze(0) + m.var.unsqueeze(0) * &a * &cinv_d;
        let per_k = x0 * da + cinv_d * (ds * s);
        (p.r.unsqueeze(-1) * per_k).sum_dim_intlist(1, false, x.kind())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::autograd_grad;
    use crate::param::{convert, Param};
    use crate::path::{CondPath, SubVp, VeGeometric, VpLinear};
    use tch::{Device, Kind};

    fn mixture() -> GaussianMixture {
        GaussianMixture::new(
            vec![0.3, 0.7],
            vec![vec![-1.0, 0.5], vec![1.5, -0.5]],
            vec![vec![0.3, 0.6], vec![0.8, 0.2]],
        )
        .unwrap()
    }

    /// The oracle's score is the autograd gradient of its log-density, at several t, per-sample
    /// and batch-wide times, on four different paths.
    #[test]
    fn score_is_gradient_of_log_density() {
        tch::manual_seed(5);
        let opts = (Kind::Double, Device::Cpu);
        let paths: Vec<Box<dyn GaussianPath>> = vec![
            Box::new(VpLinear::default()),
            Box::new(SubVp::default()),
            Box::new(VeGeometric::new(0.01, 5.0)),
            Box::new(CondPath::sqrt()),
        ];
        for p in paths {
            let o = GmmOracle::new(mixture(), p);
            let x = Tensor::randn([128, 2], opts) * 2.0;
            let t_each = Tensor::rand([128, 1], opts) * 0.98 + 0.01;
            for t in [
                Tensor::full([1, 1], 0.05, opts),
                Tensor::full([1, 1], 0.6, opts),
                t_each,
            ] {
                let s = o.score(&x, &t);
                let g = autograd_grad(&x, |x| o.log_prob(x, &t));
                let err = (&s - &g).abs().max().double_value(&[]);
                assert!(
                    err < 1e-9 * (1.0 + g.abs().max().double_value(&[])),
                    "{}: {err}",
                    o.path.name()
                );
            }
        }
    }

    /// At t where α > 0 the direct velocity equals the score converted by the path formula, and
    /// the log-density satisfies the continuity equation ∂_t log p = −∇·v − v·∇log p.
    #[test]
    fn velocity_matches_score_and_continuity() {
        let opts = (Kind::Double, Device::Cpu);
        for p in [
            Box::new(VpLinear::default()) as Box<dyn GaussianPath>,
            Box::new(CondPath::linear()),
        ] {
            let o = GmmOracle::new(mixture(), p);
            let x = Tensor::randn([64, 2], opts);
            for tv in [0.2, 0.5, 0.8] {
                let t = Tensor::full([1, 1], tv, opts);
                let v = o.velocity(&x, &t);
                let c = o.path.coeffs(tv).to_tensors();
                let v2 = convert(Param::Score, Param::Velocity, &o.score(&x, &t), &x, &c);
                assert!(
                    (&v - &v2).abs().max().double_value(&[]) < 1e-9,
                    "{} t={tv}",
                    o.path.name()
                );
                // continuity: ∂_t log p + ∇·v + v·s = 0
                let h = 1e-5;
                let dlogp =
                    (o.log_prob_at_time(&x, tv + h) - o.log_prob_at_time(&x, tv - h)) / (2.0 * h);
                let mut div = x.zeros_like().sum_dim_intlist(-1, false, Kind::Double);
                for d in 0..2 {
                    let g = autograd_grad(&x, |x| o.velocity(x, &t).select(1, d));
                    div += g.select(1, d);
                }
                let vs = (&v * o.score(&x, &t)).sum_dim_intlist(-1, false, Kind::Double);
                let resid = (dlogp + div + vs).abs().max().double_value(&[]);
                assert!(
                    resid < 1e-5,
                    "{} t={tv}: continuity residual {resid}",
                    o.path.name()
                );
            }
        }
    }

    /// The velocity stays finite at t = 1 on a path with α(1) = 0, where it equals
    /// α' E[x₀] + σ' x (x = ε there).
    #[test]
    fn velocity_at_alpha_zero() {
        let opts = (Kind::Double, Device::Cpu);
        let o = GmmOracle::new(mixture(), CondPath::linear());
        let x = Tensor::randn([8, 2], opts);
        let v = o.velocity(&x, &Tensor::full([1, 1], 1.0, opts));
        let mean = Tensor::from_slice(&[0.3 * -1.0 + 0.7 * 1.5, 0.3 * 0.5 + 0.7 * -0.5])
            .to_kind(Kind::Double);
        let want = -mean + &x;
        assert!((v - want).abs().max().double_value(&[]) < 1e-12);
    }
}
