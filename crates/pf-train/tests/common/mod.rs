//! Shared test helpers.

use std::sync::{Mutex, MutexGuard};

/// libtorch's generator is process-global and the trainer re-seeds it every step, so tests that
/// draw random numbers run one at a time within a test binary (held for the test's duration).
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
