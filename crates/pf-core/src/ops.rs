//! In-place tensor updates that are safe on every device and leave CPU results bit-identical.
//!
//! ATen's ternary kernels (`addcmul_`) accept only operands on one device: a CPU 0-dim tensor as
//! a factor works on the CPU but is rejected beside CUDA tensors, and moving it to the device
//! each step would cost a host-to-device copy (a host synchronisation) per call. [`axpy_`] keeps
//! the CPU's fused `addcmul_` (whose rounding the tests and the compare tables were measured
//! with) and on other devices multiplies by a Rust scalar, which travels as a kernel argument.

use tch::{Device, Tensor};

/// acc ← acc + a · k, in place. CPU: one `addcmul_` (libtorch's kernel, which may fuse the
/// multiply-add); other devices: `k * a` then an in-place add, no host synchronisation. The two
/// differ at most by the rounding of the product a · k.
///
/// Shapes: `k` broadcastable to `acc`.
pub fn axpy_(acc: &mut Tensor, a: f64, k: &Tensor) {
    match acc.device() {
        Device::Cpu => {
            let _ = acc.addcmul_(k, &Tensor::from(a));
        }
        _ => {
            let _ = acc.g_add_(&(k * a));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    /// The CPU path and the device path's arithmetic (k · a rounded, then added) agree up to one
    /// rounding of the product, which can move the rounded sum by one unit in its last place:
    /// |Δ| ≤ ε · (max |a k| + max |acc + a k|) (ε the kind's machine epsilon).
    #[test]
    fn both_paths_round_alike() {
        let _g = crate::rng::seed_exclusive(5);
        for kind in [Kind::Float, Kind::Double] {
            let acc0 = Tensor::randn([1000, 3], (kind, Device::Cpu));
            let k = Tensor::randn([1000, 3], (kind, Device::Cpu));
            let a = 0.123_456_789_f64;
            let mut fused = acc0.copy();
            axpy_(&mut fused, a, &k);
            let plain = &acc0 + &k * a;
            let diff = (&fused - &plain).abs().max().double_value(&[]);
            let eps = if kind == Kind::Float {
                f32::EPSILON as f64
            } else {
                f64::EPSILON
            };
            let bound = eps
                * ((&k * a).abs().max().double_value(&[]) + plain.abs().max().double_value(&[]));
            assert!(diff <= bound, "{kind:?}: {diff:e} > {bound:e}");
        }
    }
}
