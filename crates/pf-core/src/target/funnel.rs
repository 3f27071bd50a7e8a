//! Seed 001's 2-D data funnel (columns [x, z]), with the erratum to the seed's score.

use super::special::{norm_cdf, norm_ppf};
use super::{Neck, Target};
use crate::field::FusedLangevin;
use crate::{Error, Result};
use std::f64::consts::PI;
use tch::{Device, Kind, Tensor};

/// Seed 001's data funnel (also seed 000's "modified Neal funnel"), columns [x, z]:
///
/// z ~ N(0, s²), x | z ~ N(0, (a e^z)²), with s = 0.8 and a = 1/5 in the seeds.
///
/// log p(x, z) = −z²/(2s²) − ln s − x² e^{−2z}/(2a²) − ln a − z − ln 2π.
///
/// Score: ∂/∂x = −x e^{−2z}/a², ∂/∂z = −z/s² − 1 + x² e^{−2z}/a², i.e. with the seed's numbers
/// score_x = −25 x e^{−2z}, score_z = −z/0.64 − 1 + 25 x² e^{−2z}.
///
/// **Erratum (seed 001).** The seed's Langevin code uses `funnel_score`:
/// score_x = −x/e^z, score_z = −z + ½ x² e^{−z}. That is not the score of the funnel it trains on
/// (the formula above), nor of Neal's funnel v ~ N(0, 1), x ~ N(0, e^v) it seems to be written for,
/// whose score_v = −v − ½ + ½ x² e^{−v} has an extra −½. pflow uses the correct formula above;
/// `tests::seed_001_funnel_score_is_wrong` measures the gap.
///
/// z is the neck (column 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Funnel {
    z_std: f64,
    x_scale: f64,
}

impl Default for Funnel {
    /// The seeds' funnel: s = 0.8, a = 0.2.
    fn default() -> Self {
        Self {
            z_std: 0.8,
            x_scale: 0.2,
        }
    }
}

impl Funnel {
    /// A funnel with std `z_std` (s) of z and x-scale `x_scale` (a): std of x given z is a e^z.
    pub fn new(z_std: f64, x_scale: f64) -> Result<Self> {
        for (key, v) in [("z_std", z_std), ("x_scale", x_scale)] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::invalid(key, v, "must be finite and > 0"));
            }
        }
        Ok(Self { z_std, x_scale })
    }

    pub fn z_std(&self) -> f64 {
        self.z_std
    }
    pub fn x_scale(&self) -> f64 {
        self.x_scale
    }

    /// (x, z) columns of a [N, 2] batch.
    fn columns(x: &Tensor) -> (Tensor, Tensor) {
        (x.select(1, 0), x.select(1, 1))
    }

    /// x² e^{−2z}/a², the squared standardised x, [N].
    fn w2(&self, x: &Tensor, z: &Tensor) -> Tensor {
        x.square() * (z * -2.0).exp() / (self.x_scale * self.x_scale)
    }

    /// The neck ([`Neck`]): column 1; q05 = s Φ⁻¹(0.05);
    /// x_std² = E[x² | z < q05] = a² E[e^{2z} 1{z<q}] / 0.05 = a² e^{2s²} Φ((q − 2s²)/s) / 0.05
    /// (a truncated log-normal moment).
    pub fn neck(&self) -> Neck {
        let s = self.z_std;
        let q = s * norm_ppf(0.05);
        let m2 = self.x_scale.powi(2) * (2.0 * s * s).exp() * norm_cdf((q - 2.0 * s * s) / s)
            / norm_cdf(q / s);
        Neck {
            column: 1,
            q05: q,
            x_std: m2.sqrt(),
        }
    }
}

impl Target for Funnel {
    fn name(&self) -> String {
        "funnel".into()
    }
    fn dim(&self) -> usize {
        2
    }
    fn sample(&self, n: usize, device: Device) -> Tensor {
        let eps = Tensor::randn([n as i64, 2], (Kind::Float, device));
        let z = eps.select(1, 1) * self.z_std;
        let x = eps.select(1, 0) * z.exp() * self.x_scale;
        Tensor::stack(&[x, z], 1)
    }
    fn log_prob(&self, x: &Tensor) -> Option<Tensor> {
        let (xs, z) = Self::columns(x);
        let s2 = self.z_std * self.z_std;
        let c = -self.z_std.ln() - self.x_scale.ln() - (2.0 * PI).ln();
        Some(-(z.square() / (2.0 * s2)) - self.w2(&xs, &z) * 0.5 - &z + c)
    }
    fn score(&self, x: &Tensor) -> Option<Tensor> {
        let (xs, z) = Self::columns(x);
        let inv_a2 = 1.0 / (self.x_scale * self.x_scale);
        let e = (&z * -2.0).exp();
        let sx = -(&xs * &e) * inv_a2;
        let sz = -(&z / (self.z_std * self.z_std)) - 1.0 + xs.square() * e * inv_a2;
        Some(Tensor::stack(&[sx, sz], 1))
    }
}

impl FusedLangevin for Funnel {
    /// Fused on contiguous float32 CPU batches (see `target/fused.rs`).
    fn ula_step(&self, x: &mut Tensor, eta: &[f32], c: &[f32], xi: &Tensor) -> bool {
        let (Some(st), Some((xs, n))) =
            (super::fused::step2(eta, c), super::fused::slices_2d(x, xi))
        else {
            return false;
        };
        let inv_s2 = (1.0 / (self.z_std * self.z_std)) as f32;
        let inv_a2 = (1.0 / (self.x_scale * self.x_scale)) as f32;
        super::fused::funnel_step(xs, n, inv_s2, inv_a2, st);
        true
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::field::autograd_grad;
    use crate::target::tests::check_score;

    /// ∫∫ p over a funnel by a per-slice change of variables: for each neck value v on a fine
    /// grid, x = σ(v) w with w on a fixed grid, so the narrow neck is resolved as well as the
    /// mouth. `sigma` maps neck values to the x std there; Simpson's rule in both directions.
    pub(crate) fn funnel_mass(
        t: &dyn Target,
        (v0, v1): (f64, f64),
        sigma: impl Fn(&Tensor) -> Tensor,
    ) -> f64 {
        let (nv, nw) = (2001i64, 801i64);
        let opts = (Kind::Double, Device::Cpu);
        let v = Tensor::linspace(v0, v1, nv, opts);
        let w = Tensor::linspace(-12.0, 12.0, nw, opts);
        let sd = sigma(&v); // [nv]
        let x = sd.unsqueeze(1) * w.unsqueeze(0); // [nv, nw]
        let vv = v.unsqueeze(1).expand([nv, nw], false);
        let pts = Tensor::stack(&[x.reshape([-1]), vv.reshape([-1])], 1);
        let p = t.log_prob(&pts).unwrap().exp().view([nv, nw]) * sd.unsqueeze(1);
        let simpson = |n: i64| {
            let mut c = vec![1.0; n as usize];
            for (i, ci) in c.iter_mut().enumerate().take(n as usize - 1).skip(1) {
                *ci = if i % 2 == 1 { 4.0 } else { 2.0 };
            }
            Tensor::from_slice(&c)
        };
        let (hv, hw) = ((v1 - v0) / (nv - 1) as f64, 24.0 / (nw - 1) as f64);
        let inner = (p * simpson(nw).unsqueeze(0)).sum_dim_intlist(1, false, Kind::Double);
        (inner * simpson(nv)).sum(Kind::Double).double_value(&[]) * hv * hw / 9.0
    }

    #[test]
    fn score_matches_autograd_and_log_prob_is_normalised() {
        let f = Funnel::default();
        check_score(&f, 1.0, 1e-10);
        check_score(&Funnel::new(1.3, 0.7).unwrap(), 1.5, 1e-10);
        // z ∈ [−6.4, 6.4] is ±8 std: the neglected mass is ~1e-15.
        let m = funnel_mass(&f, (-6.4, 6.4), |z| z.exp() * 0.2);
        assert!((m - 1.0).abs() < 1e-6, "∫∫p = {m}");
    }

    /// Seed 001's `funnel_score` against autograd of the true log-density at the target's own
    /// samples: the relative gap ‖seed − true‖/‖true‖ is O(1), not rounding.
    #[test]
    fn seed_001_funnel_score_is_wrong() {
        let _rng = crate::rng::seed_exclusive(1);
        let f = Funnel::default();
        let x = f.sample(512, Device::Cpu).to_kind(Kind::Double);
        let truth = autograd_grad(&x, |x| f.log_prob(x).unwrap());
        let (xs, z) = (x.select(1, 0), x.select(1, 1));
        let seed = Tensor::stack(
            &[-(&xs / z.exp()), -&z + xs.square() * (-&z).exp() * 0.5],
            1,
        );
        let ours = f.score(&x).unwrap();
        let rel =
            |a: &Tensor| (a - &truth).norm().double_value(&[]) / truth.norm().double_value(&[]);
        assert!(rel(&ours) < 1e-12, "ours {}", rel(&ours));
        // Measured: ≈ 0.97 (seed 1); any O(1) gap shows the formula is a different density.
        assert!(rel(&seed) > 0.5, "seed formula gap {}", rel(&seed));
        // Pointwise at (x, z) = (0.1, 0): the seed says (−0.1, 0.005), the truth is (−2.5, −0.75).
        let p = Tensor::from_slice(&[0.1f64, 0.0]).view([1, 2]);
        let s = f.score(&p).unwrap();
        assert!((s.double_value(&[0, 0]) + 2.5).abs() < 1e-12);
        assert!((s.double_value(&[0, 1]) + 0.75).abs() < 1e-12);
    }

    #[test]
    fn sample_moments() {
        let _rng = crate::rng::seed_exclusive(7);
        let n = 200_000;
        let f = Funnel::default();
        let x = f.sample(n, Device::Cpu).to_kind(Kind::Double);
        assert_eq!(x.size(), [n as i64, 2]);
        let (xs, z) = (x.select(1, 0), x.select(1, 1));
        let nf = n as f64;
        let mean = |t: &Tensor| t.mean(Kind::Double).double_value(&[]);
        // var z = s² = 0.64, se = s² √(2/n)
        let vz = mean(&z.square());
        assert!(
            (vz - 0.64).abs() < 5.0 * 0.64 * (2.0 / nf).sqrt(),
            "var z {vz}"
        );
        assert!(mean(&z).abs() < 5.0 * 0.8 / nf.sqrt());
        // E[x²] = a² e^{2s²}; Var x² = 3a⁴ e^{8s²} − (a² e^{2s²})²
        let ex2 = 0.04 * (2.0f64 * 0.64).exp();
        let sd_x2 = (3.0 * 0.0016 * (8.0f64 * 0.64).exp() - ex2 * ex2).sqrt();
        let m = mean(&xs.square());
        assert!(
            (m - ex2).abs() < 5.0 * sd_x2 / nf.sqrt(),
            "E x² {m} vs {ex2}"
        );
        // x e^{−z}/a ~ N(0, 1) independently of z: E[w²] = 1, se √(2/n)
        let w2 = mean(&f.w2(&xs, &z));
        assert!((w2 - 1.0).abs() < 5.0 * (2.0 / nf).sqrt(), "E w² {w2}");
    }

    /// The closed-form neck against a 10⁶-sample Monte Carlo of the target.
    #[test]
    fn neck_closed_form_matches_monte_carlo() {
        let _rng = crate::rng::seed_exclusive(5);
        let f = Funnel::default();
        let neck = f.neck();
        assert_eq!(neck.column, 1);
        assert!((neck.q05 + 0.8 * 1.644_853_626_951_472).abs() < 1e-12);
        check_neck_mc(&f, neck, 1_000_000, 0.8);
    }

    /// Empirical 5 % quantile of the neck column and the pooled std of the other columns below
    /// the true q05, each within 5 standard errors (quantile se = √(p(1−p)/n)/f(q); std se by
    /// the delta method from the per-row sample variance of x²). `neck_sd` is the neck's std.
    pub(crate) fn check_neck_mc(t: &dyn Target, neck: Neck, n: usize, neck_sd: f64) {
        let x = t.sample(n, Device::Cpu).to_kind(Kind::Double);
        let d = t.dim() as i64;
        let v = x.select(1, neck.column as i64);
        let (sorted, _) = v.sort(0, false);
        let q_mc = sorted.double_value(&[(0.05 * n as f64) as i64]);
        let dens = (-0.5 * (neck.q05 / neck_sd).powi(2)).exp() / (neck_sd * (2.0 * PI).sqrt());
        let q_se = (0.05 * 0.95 / n as f64).sqrt() / dens;
        assert!(
            (q_mc - neck.q05).abs() < 5.0 * q_se,
            "q05: MC {q_mc} vs {} (se {q_se})",
            neck.q05
        );
        let mask = v.lt(neck.q05);
        let others = x
            .narrow(1, 0, d - 1)
            .index_select(0, &mask.nonzero().squeeze_dim(1));
        // per-row mean of x² over the other columns (they share the neck value, so pool per row)
        let x2 = others.square().mean_dim(1, false, Kind::Double);
        let k = x2.size()[0] as f64;
        let m2 = x2.mean(Kind::Double).double_value(&[]);
        let se_m2 = x2.std(true).double_value(&[]) / k.sqrt();
        let sd_mc = m2.sqrt();
        let se_sd = se_m2 / (2.0 * sd_mc);
        assert!(
            (sd_mc - neck.x_std).abs() < 5.0 * se_sd,
            "x_std: MC {sd_mc} vs {} (se {se_sd})",
            neck.x_std
        );
    }
}
