//! Shared test helpers.

use std::sync::{Mutex, MutexGuard};

/// libtorch's generator is process-global and the trainer re-seeds it every step, so tests that
/// draw random numbers run one at a time within a test binary (held for the test's duration).
/// libtorch runs single-threaded here: the nets are tiny, and on a small shared machine its
/// OpenMP workers spin and slow training down by an order of magnitude.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    tch::set_num_threads(1);
    guard
}
