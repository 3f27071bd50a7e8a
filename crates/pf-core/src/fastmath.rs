//! Branch-free `f32` exp, ln and sin/cos for the fused CPU kernels (Langevin steps, the Gaussian
//! stream), written so that LLVM vectorises loops over them (no libm calls, no branches, selects
//! only). Cephes-style range reduction plus minimax polynomials; each function's error bound is
//! tested against `f64` references in this file's tests.
//!
//! Kernels built on them are compiled three ways by `multiversion!` (AVX-512F, AVX2 + FMA and
//! the baseline) and pick the widest the CPU has at run time. There is no FMA contraction in
//! Rust, so the three give the same bits.

/// Defines a function whose body is compiled for AVX-512F, for AVX2 + FMA and for the baseline
/// x86-64 (or whatever the target is), and which runs the widest version the CPU supports
/// (feature detection is cached by std). The body should be a simple loop over slices or fixed
/// arrays, calling only `#[inline(always)]` helpers, so that LLVM vectorises it.
macro_rules! multiversion {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($a:ident: $t:ty),* $(,)?) $body:block) => {
        $(#[$m])*
        $vis fn $name($($a: $t),*) {
            #[inline(always)]
            fn imp($($a: $t),*) $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f")]
            unsafe fn avx512($($a: $t),*) {
                imp($($a),*)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2($($a: $t),*) {
                imp($($a),*)
            }
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU supports AVX-512F (checked just above).
                    return unsafe { avx512($($a),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU supports AVX2 and FMA (checked just above).
                    return unsafe { avx2($($a),*) };
                }
            }
            imp($($a),*)
        }
    };
}
pub(crate) use multiversion;

/// e^x, relative error < 2e-7 on [−87, 88]; inputs are clamped to that range (so e^x never
/// overflows to inf nor flushes below the smallest normal).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const C1: f32 = 0.693_359_4;
    const C2: f32 = -2.121_944_4e-4;
    // 1.5 · 2²³: adding it rounds to the nearest integer (|v| < 2²²) and leaves that integer in
    // the low mantissa bits, in any ISA, with no float → int conversion.
    const ROUND: f32 = 12_582_912.0;
    // max/min rather than clamp: they compile to vector max/min (clamp's NaN rule does not)
    #[allow(clippy::manual_clamp)]
    let x = x.max(-87.0).min(88.0);
    let shifted = x * LOG2E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * C1 - n * C2;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    // 2ⁿ from the exponent bits: n ∈ [−126, 127] after the clamp
    let n_int = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let scale = f32::from_bits(n_int.wrapping_add(127) << 23);
    y * scale
}

/// ln x for normal positive x: error < 3e-7 · max(1, |ln x|) (absolute near x = 1, relative
/// away from it). No checks: x ≤ 0, subnormals, inf and NaN give garbage.
#[inline(always)]
pub fn ln(x: f32) -> f32 {
    const SQRTHF: f32 = std::f32::consts::FRAC_1_SQRT_2;
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 126;
    // mantissa in [0.5, 1)
    let m0 = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000);
    let small = m0 < SQRTHF;
    e -= small as i32;
    let m = if small { m0 + m0 - 1.0 } else { m0 - 1.0 };
    let z = m * m;
    let mut p = 7.037_683_6e-2f32;
    p = p * m - 1.151_461e-1;
    p = p * m + 1.167_699_9e-1;
    p = p * m - 1.242_014_1e-1;
    p = p * m + 1.424_932_3e-1;
    p = p * m - 1.666_805_8e-1;
    p = p * m + 2.000_071_4e-1;
    p = p * m - 2.499_999_4e-1;
    p = p * m + 3.333_333e-1;
    let ef = e as f32;
    let y = m * z * p + ef * -2.121_944_4e-4 - 0.5 * z;
    m + y + ef * 0.693_359_4
}

/// (sin a, cos a) for |a| ≤ π/4, absolute error < 1e-7.
#[inline(always)]
pub fn sincos_pi4(a: f32) -> (f32, f32) {
    let z = a * a;
    let s = ((-1.951_529_6e-4 * z + 8.332_161e-3) * z - 1.666_665_5e-1) * z * a + a;
    let c = ((2.443_315_7e-5 * z - 1.388_731_6e-3) * z + 4.166_664_6e-2) * z * z - 0.5 * z + 1.0;
    (s, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_f64() {
        let mut worst = 0.0f64;
        let n = 200_000;
        for i in 0..=n {
            let x = -87.0 + 175.0 * i as f64 / n as f64;
            let xf = x as f32;
            let want = (xf as f64).exp();
            let got = exp(xf) as f64;
            worst = worst.max(((got - want) / want).abs());
        }
        assert!(worst < 2e-7, "exp max rel err {worst:e}");
        // clamped, finite at the extremes
        assert!(exp(-1e4).is_finite() && exp(-1e4) > 0.0);
        assert!(exp(1e4).is_finite());
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn ln_matches_f64() {
        // error / max(1, |ln x|): absolute near x = 1, relative far from it
        let mut worst = 0.0f64;
        let mut check = |x: f32| {
            let want = (x as f64).ln();
            worst = worst.max((ln(x) as f64 - want).abs() / want.abs().max(1.0));
        };
        // every 2^-24 step just below 1, and a log-spaced sweep down to 2^-24
        for k in 1..=(1u32 << 16) {
            check(1.0 - k as f32 * 2f32.powi(-24));
        }
        let n = 200_000;
        for i in 0..=n {
            check((2f64.powi(-24)).powf(i as f64 / n as f64) as f32);
        }
        // beyond (0, 1]: still accurate for normal numbers
        for x in [1.5f32, 10.0, 1e10, 1e30, 1e-30] {
            check(x);
        }
        assert!(worst < 3e-7, "ln max scaled err {worst:e}");
        assert_eq!(ln(1.0), 0.0);
    }

    #[test]
    fn sincos_matches_f64() {
        let mut worst = 0.0f64;
        let n = 100_000;
        for i in 0..=n {
            let a = (-1.0 + 2.0 * i as f64 / n as f64) * std::f64::consts::FRAC_PI_4;
            let (s, c) = sincos_pi4(a as f32);
            let af = a as f32 as f64;
            worst = worst.max((s as f64 - af.sin()).abs().max((c as f64 - af.cos()).abs()));
        }
        assert!(worst < 1e-7, "sincos max abs err {worst:e}");
    }
}
