//! Scalar special functions for closed forms: the standard normal CDF Φ and its inverse.

/// Φ(x) = ½ erfc(−x/√2), to full double precision (through `libm`).
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Φ⁻¹(p) for p ∈ (0, 1): Acklam's rational approximation (relative error < 1.2e-9) refined by
/// one Halley step on Φ(x) − p, which brings it to about machine precision.
/// Returns ∓∞ at p = 0, 1 and NaN outside [0, 1].
pub fn norm_ppf(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const P_LOW: f64 = 0.02425;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let x = if p < P_LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    };
    // Halley: e = Φ(x) − p, u = e / φ(x), x ← x − u / (1 + x u / 2).
    let e = norm_cdf(x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (0.5 * x * x).exp();
    x - u / (1.0 + 0.5 * x * u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_and_ppf_known_values_and_round_trip() {
        // Φ⁻¹(0.95) = 1.6448536269514722 (tables to 16 digits); Φ(0) = ½; Φ(−1) = 0.15865525393145707.
        assert!((norm_ppf(0.95) - 1.644_853_626_951_472_2).abs() < 1e-14);
        assert!((norm_ppf(0.05) + 1.644_853_626_951_472_2).abs() < 1e-14);
        assert_eq!(norm_cdf(0.0), 0.5);
        assert!((norm_cdf(-1.0) - 0.158_655_253_931_457_07).abs() < 1e-16);
        for &p in &[1e-12, 1e-6, 0.01, 0.02425, 0.2, 0.5, 0.7, 0.99, 0.999] {
            let x = norm_ppf(p);
            let back = norm_cdf(x);
            assert!(
                ((back - p) / p.min(1.0 - p)).abs() < 1e-12,
                "p {p}: Φ(Φ⁻¹(p)) = {back}"
            );
        }
        assert!(norm_ppf(1.5).is_nan());
        assert_eq!(norm_ppf(0.0), f64::NEG_INFINITY);
    }
}
