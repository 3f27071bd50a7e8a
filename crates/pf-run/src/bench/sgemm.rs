//! `sgemm`: the float32 matrix-multiply roofline of this libtorch on this device, n × n by n × n.

use super::{timed, Outcome, Sizes};
use anyhow::Result;
use tch::{Device, Kind, Tensor};

pub(crate) fn run(sz: Sizes, device: Device, seed: i64) -> Result<(f64, Outcome)> {
    let (n, reps) = (sz.particles.unwrap_or(1) as i64, sz.steps.unwrap_or(1));
    tch::manual_seed(seed);
    let a = Tensor::randn([n, n], (Kind::Float, device));
    let b = Tensor::randn([n, n], (Kind::Float, device));
    let mut c = a.mm(&b);
    for _ in 0..2 {
        c = a.mm(&b);
    }
    let (wall, c) = timed(device, || {
        for _ in 0..reps {
            c = a.mm(&b);
        }
        Ok(c)
    })?;
    Ok((
        wall,
        Outcome {
            work: 2.0 * (n * n * n) as f64 * reps as f64,
            unit: "flop/s",
            nfe: None,
            check: c.abs().mean(Kind::Float).double_value(&[]),
        },
    ))
}
