//! Sampling in chunks of particles, so that the working memory is bounded.
//!
//! A sampler whose particles do not interact (ULA, MALA, reverse SDE, predictor–corrector, the
//! PF ODE, DDPM/DDIM, flows, the path SDE) gives the same distribution whether N particles run
//! at once or as ⌈N / C⌉ runs of at most C: only the order of the random draws changes. The
//! memory of a step is dominated by the network's activations, a few [rows, width] tensors, so
//! running chunks bounds it by C instead of N; the particles themselves ([N, D]) are written
//! into one preallocated output. Interacting particles (MonoFlow, whose discriminator sees the
//! whole cloud) must not be chunked.
//!
//! What the combined [`SampleOut`] holds: every chunk's final particles in order; the first
//! chunk's trajectory (later chunks are run without recording); the largest field-evaluation
//! count of any chunk (adaptive solvers may differ per chunk; fixed grids agree); MALA's
//! diagnostics (MALA's acceptance, …) averaged over all particles.

use crate::{Error, Result, SampleOut};
use tch::Tensor;

/// The chunks of `n` particles at most `chunk` each: (first row, rows). `None` is one chunk.
pub fn spans(n: usize, chunk: Option<usize>) -> Result<Vec<(usize, usize)>> {
    let c = match chunk {
        Some(0) => {
            return Err(Error::invalid(
                "chunk",
                0,
                "must be ≥ 1 (or absent: no chunking)",
            ))
        }
        Some(c) => c.min(n.max(1)),
        None => n.max(1),
    };
    Ok((0..n).step_by(c).map(|s| (s, c.min(n - s))).collect())
}

/// Runs `run(index, rows)` for every chunk of `n` particles (at most `chunk` each) and joins the
/// results as described in the module docs. `run` is called with `index` 0 first; it should
/// record a trajectory only for index 0.
///
/// Shapes: each chunk's `x` is [rows, D]; the result's is [n, D], on the first chunk's device.
/// Errors: `run`'s own (the caller's error type), or [`Error::Invalid`] for `chunk` = 0 and
/// for a chunk that returns another number of rows than asked.
pub fn run_chunked<E: From<Error>>(
    n: usize,
    chunk: Option<usize>,
    mut run: impl FnMut(usize, usize) -> std::result::Result<SampleOut, E>,
) -> std::result::Result<SampleOut, E> {
    let spans = spans(n, chunk)?;
    if spans.len() == 1 {
        return run(0, n);
    }
    let mut out: Option<Tensor> = None;
    let (mut trajectory, mut nfe) = (None, 0);
    let mut diag: std::collections::BTreeMap<String, (f64, usize)> = Default::default();
    for (i, &(start, rows)) in spans.iter().enumerate() {
        let r = run(i, rows)?;
        let got = r.x.size();
        if got.first() != Some(&(rows as i64)) {
            return Err(Error::invalid(
                "chunk",
                format!("{got:?}"),
                &format!("a chunk of {rows} particles returned another number of rows"),
            )
            .into());
        }
        let dst = out.get_or_insert_with(|| {
            let mut shape = got.clone();
            shape[0] = n as i64;
            Tensor::empty(shape, (r.x.kind(), r.x.device()))
        });
        dst.narrow(0, start as i64, rows as i64).copy_(&r.x);
        if i == 0 {
            trajectory = r.trajectory;
        }
        nfe = nfe.max(r.nfe);
        for (k, v) in &r.diagnostics {
            let e = diag.entry(k.clone()).or_default();
            e.0 += v * rows as f64;
            e.1 += rows;
        }
    }
    let mut joined = SampleOut::new(out.expect("at least two chunks ran"), trajectory, nfe);
    for (k, (sum, rows)) in diag {
        joined = joined.with(&k, sum / rows as f64);
    }
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn spans_cover_every_particle_once() {
        assert_eq!(spans(10, None).unwrap(), vec![(0, 10)]);
        assert_eq!(spans(10, Some(4)).unwrap(), vec![(0, 4), (4, 4), (8, 2)]);
        assert_eq!(spans(10, Some(10)).unwrap(), vec![(0, 10)]);
        assert_eq!(spans(10, Some(50)).unwrap(), vec![(0, 10)]);
        assert!(spans(10, Some(0))
            .unwrap_err()
            .to_string()
            .contains("chunk"));
    }

    #[test]
    fn chunks_are_joined_in_order_with_weighted_acceptance() {
        // chunk i returns rows filled with its first row index; acceptance 1 for chunk 0, 0 else
        let mut starts = vec![];
        let out = run_chunked(10, Some(4), |i, rows| -> Result<SampleOut> {
            let start = i * 4;
            starts.push((start, rows));
            let x = Tensor::full([rows as i64, 2], start as f64, (Kind::Float, Device::Cpu));
            Ok(SampleOut::new(x, None, 3 + i).with("acceptance", if i == 0 { 1.0 } else { 0.0 }))
        })
        .unwrap();
        assert_eq!(starts, vec![(0, 4), (4, 4), (8, 2)]);
        let col: Vec<f32> = Vec::try_from(out.x.select(1, 1)).unwrap();
        assert_eq!(col, vec![0., 0., 0., 0., 4., 4., 4., 4., 8., 8.]);
        assert_eq!(out.nfe, 5);
        assert!((out.diagnostics["acceptance"] - 0.4).abs() < 1e-12);
    }
}
