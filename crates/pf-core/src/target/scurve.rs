//! The 2-D S-curve (sampling only).

use super::Target;
use crate::{Error, Result};
use std::f64::consts::PI;
use tch::{Device, Kind, Tensor};

/// The scale s applied to the scikit-learn curve.
const SCALE: f64 = 1.5;

/// The S-curve, 2-D, sampling only (seed 000's MonoFlow target): scikit-learn's `make_s_curve`
/// projected onto its (x, z) plane and scaled by s = 1.5,
///
/// t ~ U(−3π/2, 3π/2),  (x, y) = s · (sin t, sign(t)(cos t − 1)) + σ ε,  ε ~ N(0, I),
///
/// so the noiseless support lies in [−1.5, 1.5] × [−3, 3]. `noise` is σ in output units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SCurve {
    noise: f64,
}

impl SCurve {
    /// An S-curve with isotropic Gaussian noise of std `noise` ≥ 0 (output units).
    pub fn new(noise: f64) -> Result<Self> {
        if !(noise >= 0.0 && noise.is_finite()) {
            return Err(Error::invalid("noise", noise, "must be finite and ≥ 0"));
        }
        Ok(Self { noise })
    }
    pub fn noise(&self) -> f64 {
        self.noise
    }
}

impl Target for SCurve {
    fn name(&self) -> String {
        "scurve".into()
    }
    fn dim(&self) -> usize {
        2
    }
    fn sample(&self, n: usize, device: Device) -> Tensor {
        let t = (Tensor::rand([n as i64], (Kind::Float, device)) - 0.5) * (3.0 * PI);
        let x = t.sin();
        let y = t.sign() * (t.cos() - 1.0);
        let eps = Tensor::randn([n as i64, 2], (Kind::Float, device));
        Tensor::stack(&[x, y], 1) * SCALE + eps * self.noise
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_moments_and_support() {
        let _rng = crate::rng::seed_exclusive(9);
        let n = 100_000;
        let c = SCurve::new(0.1).unwrap();
        assert!(c
            .log_prob(&Tensor::zeros([1, 2], (Kind::Float, Device::Cpu)))
            .is_none());
        assert!(c
            .score(&Tensor::zeros([1, 2], (Kind::Float, Device::Cpu)))
            .is_none());
        let x = c.sample(n, Device::Cpu).to_kind(Kind::Double);
        assert_eq!(x.size(), [n as i64, 2]);
        let nf = n as f64;
        let mean = |t: &Tensor| t.mean(Kind::Double).double_value(&[]);
        let (a, b) = (x.select(1, 0), x.select(1, 1));
        // E a = E b = 0 (odd in t); E a² = s²/2 + σ²; E b² = s² (3/2 + 4/(3π)) + σ².
        let (s2, n2) = (SCALE * SCALE, 0.01);
        let ea2 = s2 * 0.5 + n2;
        let eb2 = s2 * (1.5 + 4.0 / (3.0 * PI)) + n2;
        assert!(mean(&a).abs() < 5.0 * (ea2 / nf).sqrt());
        assert!(mean(&b).abs() < 5.0 * (eb2 / nf).sqrt());
        // Var of a², b² is bounded by their squared range; the measured ones are smaller.
        let va2 = a.square().var(true).double_value(&[]);
        let vb2 = b.square().var(true).double_value(&[]);
        assert!((mean(&a.square()) - ea2).abs() < 5.0 * (va2 / nf).sqrt());
        assert!((mean(&b.square()) - eb2).abs() < 5.0 * (vb2 / nf).sqrt());
        // noiseless: inside [−1.5, 1.5] × [−3, 3]
        let x0 = SCurve::new(0.0).unwrap().sample(10_000, Device::Cpu);
        let amax = x0.select(1, 0).abs().max().double_value(&[]);
        let bmax = x0.select(1, 1).abs().max().double_value(&[]);
        assert!(amax <= 1.5 + 1e-6 && bmax <= 3.0 + 1e-6, "{amax} {bmax}");
        assert!(SCurve::new(-1.0).unwrap_err().to_string().contains("noise"));
    }
}
