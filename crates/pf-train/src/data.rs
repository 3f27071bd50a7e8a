//! A fixed dataset served in shuffled mini-batches, one permutation per epoch.
//!
//! Batch k of a run is a function of (seed, k) only: epoch e = k / B (B = ⌈N / batch_size⌉ steps
//! per epoch, the last batch of an epoch possibly short, like PyTorch's `DataLoader` with
//! `shuffle=True, drop_last=False`) uses the permutation drawn by a SplitMix64 stream seeded with
//! (seed, e), so a resumed run sees exactly the batches of an uninterrupted one. The permutation
//! is uploaded to the data's device once per epoch; batches are `index_select`s there.

use crate::seed::{mix, SplitMix};
use std::cell::RefCell;
use tch::Tensor;

/// Shuffled mini-batches of a fixed [N, D] dataset (see the module docs).
pub struct Batches {
    data: Tensor,
    batch_size: usize,
    seed: u64,
    perm: RefCell<Option<(usize, Tensor)>>,
}

impl Batches {
    /// `data` [N, D] on the run's device.
    pub fn new(data: Tensor, batch_size: usize, seed: u64) -> Self {
        assert!(batch_size > 0, "batch_size must be at least 1");
        Self {
            data,
            batch_size,
            seed,
            perm: RefCell::new(None),
        }
    }

    /// N.
    pub fn len(&self) -> usize {
        self.data.size()[0] as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn data(&self) -> &Tensor {
        &self.data
    }

    /// ⌈N / batch_size⌉.
    pub fn steps_per_epoch(&self) -> usize {
        self.len().div_ceil(self.batch_size)
    }

    /// The permutation of epoch `e` (host), a function of (seed, e).
    pub fn permutation(&self, epoch: usize) -> Vec<i64> {
        SplitMix::new(mix(self.seed, 1, epoch as u64) as u64).permutation(self.len())
    }

    /// The mini-batch of step `step`, [≤ batch_size, D].
    pub fn batch(&self, step: usize) -> Tensor {
        let spe = self.steps_per_epoch();
        let (epoch, i) = (step / spe, step % spe);
        let mut cache = self.perm.borrow_mut();
        if cache.as_ref().map(|(e, _)| *e) != Some(epoch) {
            let p = Tensor::from_slice(&self.permutation(epoch)).to_device(self.data.device());
            *cache = Some((epoch, p));
        }
        let perm = &cache.as_ref().expect("permutation").1;
        let lo = (i * self.batch_size) as i64;
        let hi = ((i + 1) * self.batch_size).min(self.len()) as i64;
        self.data.index_select(0, &perm.slice(0, lo, hi, 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// Every epoch visits every row once; epochs differ; a batch depends only on (seed, step).
    #[test]
    fn epochs_cover_the_data() {
        let data = Tensor::arange(10, (Kind::Float, Device::Cpu)).view([10, 1]);
        let b = Batches::new(data.shallow_clone(), 4, 9);
        assert_eq!(b.steps_per_epoch(), 3);
        let epoch = |e: usize| {
            let mut v: Vec<f32> = Vec::new();
            for k in 3 * e..3 * e + 3 {
                let x = b.batch(k);
                v.extend(Vec::<f32>::try_from(x.view([-1])).unwrap());
            }
            v
        };
        let (e0, e1) = (epoch(0), epoch(1));
        assert_eq!(e0.len(), 10);
        let mut s = e0.clone();
        s.sort_by(f32::total_cmp);
        assert_eq!(s, (0..10).map(|i| i as f32).collect::<Vec<_>>());
        assert_ne!(e0, e1);
        // a fresh server (a resumed run) gives the same batch 4
        let b2 = Batches::new(data, 4, 9);
        assert_eq!(
            Vec::<f32>::try_from(b2.batch(4).view([-1])).unwrap(),
            Vec::<f32>::try_from(b.batch(4).view([-1])).unwrap()
        );
    }
}
