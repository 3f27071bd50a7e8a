//! Shared test helpers.

use pf_core::rng::{seed_exclusive, SeedGuard};

/// libtorch's generator is process-global and the trainer re-seeds it every step, so tests that
/// draw random numbers run one at a time within a test binary, holding pf-core's generator guard
/// for the test's duration (seeded 0; tests seed their own draws after taking it).
/// libtorch runs single-threaded here: the nets are tiny, and on a small shared machine its
/// OpenMP workers spin and slow training down by an order of magnitude.
pub fn serial() -> SeedGuard {
    let guard = seed_exclusive(0);
    tch::set_num_threads(1);
    guard
}
