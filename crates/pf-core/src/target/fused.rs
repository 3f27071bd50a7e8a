//! Fused, in-place ULA steps for targets with a closed-form score, on contiguous float32 CPU
//! batches: one pass over the particles computes the score and applies
//!   x ← x + η ⊙ ∇log p(x) + c ⊙ ξ
//! (c = √(2τ), ξ given), with no temporaries and no libtorch dispatch. Each equals the plain
//! `score` + two `addcmul_` to float rounding (tests below); the maths is the target's own.
//! [`crate::field::FusedLangevin`] (implemented by [`super::Funnel`] and [`super::Ring`]) is the
//! entry point.

use crate::fastmath::{exp, multiversion};
use crate::rng::{cpu_f32_slice, cpu_f32_slice_mut};
use tch::Tensor;

/// Particles per block: deinterleaved into arrays so the loop body vectorises.
const B: usize = 16;

/// Checks that `x` and `xi` are contiguous float32 CPU [N, 2] tensors of the same shape and
/// returns their data, or `None`.
pub(crate) fn slices_2d<'a>(
    x: &'a mut Tensor,
    xi: &'a Tensor,
) -> Option<(&'a mut [f32], &'a [f32])> {
    if x.dim() != 2 || x.size()[1] != 2 || xi.size() != x.size() {
        return None;
    }
    let n = cpu_f32_slice(xi)?;
    let n_ptr = n.as_ptr();
    let xs = cpu_f32_slice_mut(x)?;
    // ξ must not alias x: the kernels read ξ while writing x.
    if std::ptr::eq(n_ptr, xs.as_ptr()) {
        return None;
    }
    Some((xs, n))
}

/// Runs `f` on blocks of [`B`] particles (x₀ column, x₁ column), writing the results back.
/// Full blocks are deinterleaved with fixed trip counts (shuffles); the tail block is padded
/// with zeros and only its real particles are written.
#[inline(always)]
fn blocks(
    x: &mut [f32],
    xi: &[f32],
    mut f: impl FnMut(&mut [f32; B], &mut [f32; B], &[f32; B], &[f32; B]),
) {
    let n = x.len() / 2;
    let full = n / B;
    let (xf, xt) = x.split_at_mut(2 * B * full);
    let (nf, nt) = xi.split_at(2 * B * full);
    for (xc, nc) in xf.chunks_exact_mut(2 * B).zip(nf.chunks_exact(2 * B)) {
        let (mut a, mut b, mut na, mut nb) = ([0f32; B], [0f32; B], [0f32; B], [0f32; B]);
        for j in 0..B {
            a[j] = xc[2 * j];
            b[j] = xc[2 * j + 1];
            na[j] = nc[2 * j];
            nb[j] = nc[2 * j + 1];
        }
        f(&mut a, &mut b, &na, &nb);
        for j in 0..B {
            xc[2 * j] = a[j];
            xc[2 * j + 1] = b[j];
        }
    }
    let m = xt.len() / 2;
    if m > 0 {
        let (mut a, mut b, mut na, mut nb) = ([0f32; B], [0f32; B], [0f32; B], [0f32; B]);
        for j in 0..m {
            a[j] = xt[2 * j];
            b[j] = xt[2 * j + 1];
            na[j] = nt[2 * j];
            nb[j] = nt[2 * j + 1];
        }
        f(&mut a, &mut b, &na, &nb);
        for j in 0..m {
            xt[2 * j] = a[j];
            xt[2 * j + 1] = b[j];
        }
    }
}

/// Coefficients of a 2-D ULA step: η and c = √(2τ) per column.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Step2 {
    pub eta: [f32; 2],
    pub c: [f32; 2],
}

multiversion! {
    /// Seed 001's funnel, columns [x, z]: score_x = −x e^{−2z}/a², score_z = −z/s² − 1 + x² e^{−2z}/a².
    pub(crate) fn funnel_step(x: &mut [f32], xi: &[f32], inv_s2: f32, inv_a2: f32, st: Step2) {
        blocks(x, xi, |xs, zs, nx, nz| {
            for j in 0..B {
                let (a, z) = (xs[j], zs[j]);
                let e = exp(z * -2.0);
                let sx = -(a * e) * inv_a2;
                let sz = -(z * inv_s2) - 1.0 + a * a * e * inv_a2;
                xs[j] = (a + sx * st.eta[0]) + nx[j] * st.c[0];
                zs[j] = (z + sz * st.eta[1]) + nz[j] * st.c[1];
            }
        });
    }
}

/// The ring's shape: centre, 1/radii, and −2/c.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RingShape {
    pub cx: f32,
    pub cy: f32,
    pub inv_rx: f32,
    pub inv_ry: f32,
    pub k: f32,
}

multiversion! {
    /// Seed 003's ring: with a = (x − cx)/rx, b = (y − cy)/ry, r = √(a² + b²),
    /// score = −2 (r − 1)/(c r) · (a/rx, b/ry), and 0 at r = 0.
    pub(crate) fn ring_step(x: &mut [f32], xi: &[f32], sh: RingShape, st: Step2) {
        blocks(x, xi, |xs, ys, nx, ny| {
            for j in 0..B {
                let a = (xs[j] - sh.cx) * sh.inv_rx;
                let b = (ys[j] - sh.cy) * sh.inv_ry;
                let r = (a * a + b * b).sqrt();
                let f = (r - 1.0) / r.max(1e-30) * sh.k;
                let sx = f * a * sh.inv_rx;
                let sy = f * b * sh.inv_ry;
                xs[j] = (xs[j] + sx * st.eta[0]) + nx[j] * st.c[0];
                ys[j] = (ys[j] + sy * st.eta[1]) + ny[j] * st.c[1];
            }
        });
    }
}

/// Expands per-dimension coefficients given as 1 or 2 values.
pub(crate) fn step2(eta: &[f32], c: &[f32]) -> Option<Step2> {
    let two = |v: &[f32]| match v {
        [a] => Some([*a, *a]),
        [a, b] => Some([*a, *b]),
        _ => None,
    };
    Some(Step2 {
        eta: two(eta)?,
        c: two(c)?,
    })
}

#[cfg(test)]
mod tests {
    use crate::field::FusedLangevin;
    use crate::target::{Funnel, Ring, Target};
    use tch::{Device, Kind, Tensor};

    /// The plain step: x + η ⊙ score(x) + c ⊙ ξ with libtorch ops.
    fn plain(t: &dyn Target, x: &Tensor, eta: &[f32], c: &[f32], xi: &Tensor) -> Tensor {
        let e = Tensor::from_slice(eta);
        let cc = Tensor::from_slice(c);
        let s = t.score(x).unwrap();
        let mut y = x.copy();
        let _ = y.addcmul_(&s, &e);
        let _ = y.addcmul_(xi, &cc);
        y
    }

    fn check(t: &(impl Target + FusedLangevin), x: Tensor, eta: &[f32], c: &[f32]) {
        let xi = x.randn_like();
        let want = plain(t, &x, eta, c, &xi);
        let mut got = x.copy();
        assert!(
            t.ula_step(&mut got, eta, c, &xi),
            "{} has a fused step",
            t.name()
        );
        let err = (&got - &want).abs().max().double_value(&[]);
        let scale = want.abs().max().double_value(&[]).max(1.0);
        assert!(err < 2e-6 * scale, "{}: fused vs plain {err:e}", t.name());
    }

    /// Fused = plain to float rounding, over the target's bulk and tails, with per-dimension and
    /// shared coefficients and a batch that is not a multiple of the block size.
    #[test]
    fn fused_steps_equal_plain_steps() {
        let _rng = crate::rng::seed_exclusive(3);
        let f = Funnel::default();
        let x = f.sample(1003, Device::Cpu);
        check(&f, x.shallow_clone(), &[1e-3], &[0.0447]);
        check(&f, x * 1.5, &[1e-3, 2e-3], &[0.03, 0.05]);
        let g = Funnel::new(1.3, 0.7).unwrap();
        check(&g, g.sample(37, Device::Cpu), &[1e-2], &[0.1]);
        let r = Ring::new(1.0, 2.5, 0.3, -0.2).unwrap();
        let x = Tensor::randn([1001, 2], (Kind::Float, Device::Cpu)) * 2.0;
        check(&r, x, &[1e-2, 1e-1], &[0.14, 0.44]);
        let r = Ring::default();
        check(&r, r.sample(64, Device::Cpu), &[1e-2], &[0.14]);
        // the ring's centre: score 0, only the noise moves the particle
        let c = Tensor::zeros([1, 2], (Kind::Float, Device::Cpu));
        check(&r, c, &[1e-2], &[0.14]);
    }

    /// Other devices, dtypes, shapes and aliasing fall back (x untouched).
    #[test]
    fn unsupported_layouts_fall_back() {
        let _rng = crate::rng::seed_exclusive(0);
        let f = Funnel::default();
        let mut xd = Tensor::zeros([4, 2], (Kind::Double, Device::Cpu));
        let xid = xd.randn_like();
        assert!(!f.ula_step(&mut xd, &[1e-3], &[0.04], &xid));
        let mut x3 = Tensor::zeros([4, 3], (Kind::Float, Device::Cpu));
        let xi3 = x3.randn_like();
        assert!(!f.ula_step(&mut x3, &[1e-3], &[0.04], &xi3));
        let mut x = Tensor::zeros([4, 2], (Kind::Float, Device::Cpu));
        let same = x.shallow_clone();
        assert!(!f.ula_step(&mut x, &[1e-3], &[0.04], &same));
        let xi = x.randn_like();
        assert!(!f.ula_step(&mut x, &[1e-3, 1.0, 2.0], &[0.04], &xi));
        let mut xt = Tensor::zeros([2, 4], (Kind::Float, Device::Cpu)).tr();
        let xit = xt.randn_like();
        assert!(!f.ula_step(&mut xt, &[1e-3], &[0.04], &xit));
        assert_eq!(x.abs().sum(Kind::Float).double_value(&[]), 0.0);
    }
}
