//! Seed 003's elliptical ring: normalised log-density, analytic score, exact sampler.

use super::Target;
use crate::field::FusedLangevin;
use crate::{Error, Result};
use std::f64::consts::PI;
use tch::{Device, Kind, Tensor};

/// The ring's width parameter c in −(r − 1)²/c (seed 003).
pub const RING_WIDTH: f64 = 0.033;

/// Seed 003's elliptical ring, columns [x, y]:
///
/// log p(x, y) = −(r − 1)²/c − ln Z,  r = ‖((x − cx)/rx, (y − cy)/ry)‖,  c = 0.033.
///
/// The seed leaves it unnormalised ([`Ring::log_prob_unnormalised`]); pflow's `log_prob` subtracts
/// the closed-form log-normaliser: in polar coordinates (x, y) = (cx + rx u cos θ, cy + ry u sin θ)
/// the Jacobian is rx ry u, so
///
/// Z = 2π rx ry ∫₀^∞ u e^{−(u−1)²/c} du = 2π rx ry [ (c/2) e^{−1/c} + (√(πc)/2)(1 + erf(1/√c)) ].
///
/// Score: ∇ log p = −2 (r − 1)/(c r) · ((x − cx)/rx², (y − cy)/ry²); at r = 0, where the
/// direction is undefined, it returns 0.
///
/// Exact samples: θ ~ U[0, 2π) and u with density ∝ u e^{−(u−1)²/c} on u ≥ 0, drawn by rejection
/// from the proposal N(1, c/2) (density ∝ e^{−(u−1)²/c}), accepting u with probability u/U_max on
/// 0 ≤ u ≤ U_max (and always above U_max, rejecting u < 0), U_max = 1 + 7√(c/2). The proposal
/// mass above U_max is Φ(−7) ≈ 1.3e-12 < 1e-9, which bounds the sampler's total-variation error.
/// Acceptance ≈ 1/U_max ≈ 0.53; draws are batched and only the rejected remainder is redrawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ring {
    rx: f64,
    ry: f64,
    cx: f64,
    cy: f64,
}

impl Default for Ring {
    /// The seed's defaults: rx = ry = 2.5, centred at the origin.
    fn default() -> Self {
        Self {
            rx: 2.5,
            ry: 2.5,
            cx: 0.0,
            cy: 0.0,
        }
    }
}

impl Ring {
    /// A ring with radii `rx`, `ry` (> 0) centred at (`cx`, `cy`).
    pub fn new(rx: f64, ry: f64, cx: f64, cy: f64) -> Result<Self> {
        for (key, v) in [("rx", rx), ("ry", ry)] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::invalid(key, v, "radii must be finite and > 0"));
            }
        }
        for (key, v) in [("cx", cx), ("cy", cy)] {
            if !v.is_finite() {
                return Err(Error::invalid(key, v, "the centre must be finite"));
            }
        }
        Ok(Self { rx, ry, cx, cy })
    }

    /// (rx, ry, cx, cy).
    pub fn params(&self) -> (f64, f64, f64, f64) {
        (self.rx, self.ry, self.cx, self.cy)
    }

    /// I = ∫₀^∞ u e^{−(u−1)²/c} du = (c/2) e^{−1/c} + (√(πc)/2)(1 + erf(1/√c)).
    pub fn radial_mass() -> f64 {
        let c = RING_WIDTH;
        0.5 * c * (-1.0 / c).exp() + 0.5 * (PI * c).sqrt() * (1.0 + libm::erf(1.0 / c.sqrt()))
    }

    /// ln Z = ln(2π rx ry I).
    pub fn log_normaliser(&self) -> f64 {
        (2.0 * PI * self.rx * self.ry * Self::radial_mass()).ln()
    }

    /// The seed's unnormalised −(r − 1)²/c, `[N]`.
    pub fn log_prob_unnormalised(&self, x: &Tensor) -> Tensor {
        -(self.radius(x) - 1.0).square() / RING_WIDTH
    }

    /// The scaled radius r = ‖((x − cx)/rx, (y − cy)/ry)‖, `[N]`.
    pub fn radius(&self, x: &Tensor) -> Tensor {
        let (a, b) = self.scaled(x);
        (a.square() + b.square()).sqrt()
    }

    /// The ellipse r = 1 as a closed polyline of 257 points, in data coordinates (drawn over
    /// scatter plots).
    pub fn outline(&self) -> Vec<Vec<(f64, f64)>> {
        let k = 256;
        vec![(0..=k)
            .map(|i| {
                let t = 2.0 * PI * i as f64 / k as f64;
                (self.cx + self.rx * t.cos(), self.cy + self.ry * t.sin())
            })
            .collect()]
    }

    /// ((x − cx)/rx, (y − cy)/ry).
    fn scaled(&self, x: &Tensor) -> (Tensor, Tensor) {
        (
            (x.select(1, 0) - self.cx) / self.rx,
            (x.select(1, 1) - self.cy) / self.ry,
        )
    }

    /// `n` draws of u ∝ u e^{−(u−1)²/c} on u ≥ 0, `[n]` float32 on `device` (rejection; see
    /// [`Ring`]).
    pub fn sample_radius(n: usize, device: Device) -> Tensor {
        let sd = (RING_WIDTH / 2.0).sqrt();
        let u_max = 1.0 + 7.0 * sd;
        let mut parts: Vec<Tensor> = Vec::new();
        let mut left = n as i64;
        while left > 0 {
            // acceptance ≈ 1/u_max: propose enough to finish in one round most of the time
            let m = (left as f64 * u_max * 1.1) as i64 + 64;
            let u = Tensor::randn([m], (Kind::Float, device)) * sd + 1.0;
            let acc = Tensor::rand([m], (Kind::Float, device)) * u_max;
            let keep = u.ge(0.0).logical_and(&acc.lt_tensor(&u));
            let got = u.masked_select(&keep);
            let k = got.size()[0].min(left);
            parts.push(got.narrow(0, 0, k));
            left -= k;
        }
        Tensor::cat(&parts, 0)
    }
}

impl Target for Ring {
    fn name(&self) -> String {
        "ring".into()
    }
    fn dim(&self) -> usize {
        2
    }
    fn sample(&self, n: usize, device: Device) -> Tensor {
        let u = Self::sample_radius(n, device);
        let th = Tensor::rand([n as i64], (Kind::Float, device)) * (2.0 * PI);
        let x = &u * th.cos() * self.rx + self.cx;
        let y = &u * th.sin() * self.ry + self.cy;
        Tensor::stack(&[x, y], 1)
    }
    /// Normalised: −(r − 1)²/c − ln Z.
    fn log_prob(&self, x: &Tensor) -> Option<Tensor> {
        Some(self.log_prob_unnormalised(x) - self.log_normaliser())
    }
    fn score(&self, x: &Tensor) -> Option<Tensor> {
        let (a, b) = self.scaled(x);
        let r = (a.square() + b.square()).sqrt();
        // at r = 0 both a and b are 0, so the clamp makes the score exactly 0 there
        let f = (&r - 1.0) / r.clamp_min(1e-30) * (-2.0 / RING_WIDTH);
        Some(Tensor::stack(&[&f * a / self.rx, f * b / self.ry], 1))
    }
}

impl FusedLangevin for Ring {
    /// Fused on contiguous float32 CPU batches (see `target/fused.rs`).
    fn ula_step(&self, x: &mut Tensor, eta: &[f32], c: &[f32], xi: &Tensor) -> bool {
        let (Some(st), Some((xs, n))) =
            (super::fused::step2(eta, c), super::fused::slices_2d(x, xi))
        else {
            return false;
        };
        let sh = super::fused::RingShape {
            cx: self.cx as f32,
            cy: self.cy as f32,
            inv_rx: (1.0 / self.rx) as f32,
            inv_ry: (1.0 / self.ry) as f32,
            k: (-2.0 / RING_WIDTH) as f32,
        };
        super::fused::ring_step(xs, n, sh, st);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::tests::{check_normalised_2d, check_score};

    #[test]
    fn normaliser_and_score() {
        let _rng = crate::rng::seed_exclusive(0);
        // I by a fine Simpson rule on [0, 3] (the integrand is < e^{-121} beyond)
        let n = 30_001;
        let h = 3.0 / (n - 1) as f64;
        let f = |u: f64| u * (-(u - 1.0) * (u - 1.0) / RING_WIDTH).exp();
        let s: f64 = (0..n)
            .map(|i| {
                let w = if i == 0 || i == n - 1 {
                    1.0
                } else if i % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                w * f(i as f64 * h)
            })
            .sum::<f64>()
            * h
            / 3.0;
        assert!((s - Ring::radial_mass()).abs() < 1e-12, "{s}");
        let r = Ring::default();
        assert!(r.normalised());
        check_normalised_2d(&r, (-4.2, 4.2), (-4.2, 4.2), 1e-3);
        let e = Ring::new(1.0, 2.5, 1.0, -0.5).unwrap();
        check_normalised_2d(&e, (-0.7, 2.7), (-4.7, 3.7), 1e-3);
        check_score(&r, 2.0, 1e-9);
        check_score(&e, 2.0, 1e-9);
        // unnormalised = seed's form: 0 on the ellipse
        let on = Tensor::from_slice(&[2.0f64, -0.5, 1.0, -0.5 + 2.5]).view([2, 2]);
        let lu = e.log_prob_unnormalised(&on);
        assert!(lu.abs().max().double_value(&[]) < 1e-12);
        // finite (zero) score at the centre
        let c = Tensor::from_slice(&[1.0f32, -0.5]).view([1, 2]);
        let s = e.score(&c).unwrap();
        assert_eq!(s.abs().max().double_value(&[]), 0.0);
        // the proposal tail the rejection sampler treats approximately (the docs' claim)
        assert!(crate::target::special::norm_cdf(-7.0) < 1e-9);
        assert!(Ring::new(0.0, 1.0, 0.0, 0.0)
            .unwrap_err()
            .to_string()
            .contains("rx"));
    }

    #[test]
    fn samples_follow_the_radial_law() {
        let _rng = crate::rng::seed_exclusive(4);
        let n = 200_000;
        let ring = Ring::new(1.5, 2.5, 1.0, 1.0).unwrap();
        let x = ring.sample(n, Device::Cpu).to_kind(Kind::Double);
        assert_eq!(x.size(), [n as i64, 2]);
        let r = ring.radius(&x);
        // moments of u by quadrature: E u = ∫u² g / ∫u g, E u² = ∫u³ g / ∫u g, g = e^{−(u−1)²/c}
        let m = 60_000;
        let h = 3.0 / m as f64;
        let (mut m1, mut m2, mut m3) = (0.0, 0.0, 0.0);
        for i in 0..m {
            let u = (i as f64 + 0.5) * h;
            let g = (-(u - 1.0) * (u - 1.0) / RING_WIDTH).exp() * h;
            m1 += u * g;
            m2 += u * u * g;
            m3 += u * u * u * g;
        }
        let (eu, eu2) = (m2 / m1, m3 / m1);
        let sd = (eu2 - eu * eu).sqrt();
        let mean_r = r.mean(Kind::Double).double_value(&[]);
        let nf = n as f64;
        assert!(
            (mean_r - eu).abs() < 5.0 * sd / nf.sqrt(),
            "E r {mean_r} vs {eu}"
        );
        let sd_r = r.std(true).double_value(&[]);
        // se of a sample std ≈ sd/√(2n) for near-normal data
        assert!(
            (sd_r - sd).abs() < 5.0 * sd / (2.0 * nf).sqrt(),
            "sd r {sd_r} vs {sd}"
        );
        // angle uniform: E cos θ = E sin θ = 0, se 1/√(2n)
        let (a, b) = ring.scaled(&x);
        let ca = (&a / &r).mean(Kind::Double).double_value(&[]);
        let sb = (&b / &r).mean(Kind::Double).double_value(&[]);
        assert!(ca.abs() < 5.0 / (2.0 * nf).sqrt() && sb.abs() < 5.0 / (2.0 * nf).sqrt());
        let o = ring.outline();
        assert_eq!(o[0].len(), 257);
        assert!((o[0][0].0 - 2.5).abs() < 1e-12 && (o[0][64].1 - 3.5).abs() < 1e-12);
    }
}
