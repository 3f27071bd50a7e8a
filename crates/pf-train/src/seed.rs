//! Randomness as a function of (seed, step), so that a resumed run is bit-identical.
//!
//! tch does not expose libtorch's generator state, so it cannot be checkpointed. Instead the
//! trainer calls `tch::manual_seed(step_seed(seed, step))` at the start of every step: every draw
//! made during step k (times, noise, fresh target samples, dropout) depends only on (seed, k),
//! whether the run got there uninterrupted or from a checkpoint. Epoch shuffles use a host
//! SplitMix64 stream seeded from (seed, epoch), likewise.

/// SplitMix64's finaliser: a well-mixed 64-bit hash of `z`.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// mix(seed, stream, k): a 63-bit seed for draw k of stream `stream` (0 = steps, 1 = epochs, …).
pub fn mix(seed: u64, stream: u64, k: u64) -> i64 {
    let h = splitmix64(splitmix64(splitmix64(seed) ^ stream) ^ k);
    (h >> 1) as i64
}

/// The libtorch seed of training step `step`.
pub fn step_seed(seed: u64, step: usize) -> i64 {
    mix(seed, 0, step as u64)
}

/// A small host RNG (SplitMix64 stream) for shuffles; stable across platforms and versions.
#[derive(Clone, Debug)]
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (Lemire's multiply-shift; the bias is below 2⁻³² for n < 2³²).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }
    /// A uniformly random permutation of 0..n (Fisher–Yates).
    pub fn permutation(&mut self, n: usize) -> Vec<i64> {
        let mut p: Vec<i64> = (0..n as i64).collect();
        for i in (1..n).rev() {
            let j = self.below(i + 1);
            p.swap(i, j);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_differ_and_permutations_are_permutations() {
        let a: Vec<i64> = (0..1000).map(|k| step_seed(7, k)).collect();
        let mut s = a.clone();
        s.sort();
        s.dedup();
        assert_eq!(s.len(), 1000);
        assert!(a.iter().all(|&v| v >= 0));
        assert_ne!(step_seed(7, 3), step_seed(8, 3));
        let mut r = SplitMix::new(3);
        let mut p = r.permutation(50);
        assert_ne!(p, (0..50).collect::<Vec<_>>());
        p.sort();
        assert_eq!(p, (0..50).collect::<Vec<_>>());
    }
}
