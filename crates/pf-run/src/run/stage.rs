//! What every stage of a run shares: a spinner while it works, and its own seed.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// A stage spinner on stderr (hidden when stderr is not a terminal).
pub fn stage(msg: String) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    if std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}").expect("template"),
        );
        pb.enable_steady_tick(Duration::from_millis(200));
    } else {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    pb.set_message(msg);
    pb
}

/// A seed for stage `label` that depends only on the run seed and the label (so adding a
/// sampler does not change the others' draws).
pub fn stage_seed(seed: u64, label: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in label.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    (h >> 1) as i64
}
