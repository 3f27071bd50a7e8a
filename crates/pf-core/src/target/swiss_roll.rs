//! The 2-D Swiss roll (sampling only).

use super::Target;
use crate::{Error, Result};
use std::f64::consts::PI;
use tch::{Device, Kind, Tensor};

/// The scale s = 3/(4.5π): the outer end of the spiral is at radius 3.
const SCALE: f64 = 3.0 / (4.5 * PI);

/// The Swiss roll, 2-D, sampling only: scikit-learn's `make_swiss_roll` projected onto its (x, z)
/// plane and scaled by s = 3/(4.5π) so that the noiseless spiral lies within radius 3,
///
/// t ~ U(1.5π, 4.5π),  (x, y) = s · t (cos t, sin t) + σ ε,  ε ~ N(0, I).
///
/// `noise` is σ in output units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SwissRoll {
    noise: f64,
}

impl SwissRoll {
    /// A Swiss roll with isotropic Gaussian noise of std `noise` ≥ 0 (output units).
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

impl Target for SwissRoll {
    fn name(&self) -> String {
        "swiss-roll".into()
    }
    fn dim(&self) -> usize {
        2
    }
    fn sample(&self, n: usize, device: Device) -> Tensor {
        let t = (Tensor::rand([n as i64], (Kind::Float, device)) * 2.0 + 1.0) * (1.5 * PI);
        let pts = Tensor::stack(&[&t * t.cos(), &t * t.sin()], 1);
        let eps = Tensor::randn([n as i64, 2], (Kind::Float, device));
        pts * SCALE + eps * self.noise
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_moments_and_support() {
        let _rng = crate::rng::seed_exclusive(10);
        let n = 100_000;
        let r = SwissRoll::new(0.1).unwrap();
        assert!(r
            .log_prob(&Tensor::zeros([1, 2], (Kind::Float, Device::Cpu)))
            .is_none());
        let x = r.sample(n, Device::Cpu).to_kind(Kind::Double);
        assert_eq!(x.size(), [n as i64, 2]);
        let nf = n as f64;
        let mean = |t: &Tensor| t.mean(Kind::Double).double_value(&[]);
        let (a, b) = (x.select(1, 0), x.select(1, 1));
        // E[t cos t] = [t sin t + cos t]/(3π) = 2, E[t sin t] = [sin t − t cos t]/(3π) = 2/(3π)
        // over [1.5π, 4.5π]; E[t²] = (t₁³ − t₀³)/(3(t₁ − t₀)).
        let (ea, eb) = (SCALE * 2.0, SCALE * 2.0 / (3.0 * PI));
        let (t0, t1) = (1.5 * PI, 4.5 * PI);
        let er2 = SCALE * SCALE * (t1.powi(3) - t0.powi(3)) / (3.0 * (t1 - t0)) + 2.0 * 0.01;
        let va = a.var(true).double_value(&[]);
        let vb = b.var(true).double_value(&[]);
        assert!(
            (mean(&a) - ea).abs() < 5.0 * (va / nf).sqrt(),
            "E x {}",
            mean(&a)
        );
        assert!(
            (mean(&b) - eb).abs() < 5.0 * (vb / nf).sqrt(),
            "E y {}",
            mean(&b)
        );
        let r2 = x.square().sum_dim_intlist(1, false, Kind::Double);
        let vr2 = r2.var(true).double_value(&[]);
        assert!(
            (mean(&r2) - er2).abs() < 5.0 * (vr2 / nf).sqrt(),
            "E r² {}",
            mean(&r2)
        );
        let x0 = SwissRoll::new(0.0).unwrap().sample(10_000, Device::Cpu);
        let rmax = x0
            .square()
            .sum_dim_intlist(1, false, Kind::Float)
            .sqrt()
            .max();
        assert!(rmax.double_value(&[]) <= 3.0 + 1e-5);
    }
}
