//! The process-wide interrupt flag: SIGINT and SIGTERM ask long loops to stop at their next step
//! boundary instead of killing the process.
//!
//! [`install`] replaces the default action of both signals (terminate) with handlers that only
//! store atomics (async-signal-safe, through `signal-hook`):
//! - the first signal records which one arrived; [`requested`] returns it from then on (one
//!   relaxed atomic load, cheap enough for every step of every loop);
//! - a second signal of either kind ends the process at once (`_exit`) with the shell's status
//!   for it: 130 for SIGINT, 143 for SIGTERM (128 + the signal number).
//!
//! Loops that honour the flag: the trainer (pf-train: writes a checkpoint, then
//! `Error::Interrupted`), every sampler (pf-sample's `Guard::check`), the fixed-step and Dopri5
//! integrators ([`crate::ode`]). Without [`install`] (a library user, a test) the flag is only
//! set by [`request`], and the signals keep their default action.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// A signal that asks pflow to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (`kill`, a scheduler's stop).
    Terminate,
}

impl Signal {
    /// The conventional exit status of a process stopped by this signal: 128 + its number
    /// (130 for SIGINT, 143 for SIGTERM).
    pub fn exit_code(self) -> i32 {
        128 + self.number()
    }

    /// The POSIX signal number.
    pub fn number(self) -> i32 {
        match self {
            Signal::Interrupt => libc::SIGINT,
            Signal::Terminate => libc::SIGTERM,
        }
    }

    /// `SIGINT` or `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    fn from_number(n: usize) -> Option<Self> {
        match n as i32 {
            0 => None,
            libc::SIGINT => Some(Signal::Interrupt),
            _ => Some(Signal::Terminate),
        }
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The number of the first signal received (0: none). Shared with the handlers.
fn which() -> &'static Arc<AtomicUsize> {
    static WHICH: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
    WHICH.get_or_init(|| Arc::new(AtomicUsize::new(0)))
}

/// Set by the first signal; a signal arriving while it is set exits the process.
fn seen() -> &'static Arc<AtomicBool> {
    static SEEN: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    SEEN.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// Installs the SIGINT and SIGTERM handlers (see the module docs). Call once, early in `main`;
/// calling again adds nothing new in effect.
pub fn install() -> std::io::Result<()> {
    static DONE: OnceLock<()> = OnceLock::new();
    if DONE.get().is_some() {
        return Ok(());
    }
    for sig in [Signal::Interrupt, Signal::Terminate] {
        let n = sig.number();
        // Actions run in registration order: the exit check sees the flag as it was before this
        // signal, so only a second signal exits.
        signal_hook::flag::register_conditional_shutdown(n, sig.exit_code(), seen().clone())?;
        signal_hook::flag::register_usize(n, which().clone(), n as usize)?;
        signal_hook::flag::register(n, seen().clone())?;
    }
    let _ = DONE.set(());
    Ok(())
}

/// The signal that asked the process to stop, if one did (the first one). One atomic load.
#[inline]
pub fn requested() -> Option<Signal> {
    Signal::from_number(which().load(Ordering::Relaxed))
}

/// Sets the flag as if `sig` had arrived (a stop button, a test). A later real signal then
/// exits at once, as a second signal does.
pub fn request(sig: Signal) {
    let _ = which().compare_exchange(0, sig.number() as usize, Ordering::SeqCst, Ordering::SeqCst);
    seen().store(true, Ordering::SeqCst);
}

/// Forgets a request, so that loops run again (a library that stops one job and goes on, a
/// test). A signal arriving after this is a first signal again.
pub fn clear() {
    which().store(0, Ordering::SeqCst);
    seen().store(false, Ordering::SeqCst);
}

/// Makes SIGXFSZ (a write past the file-size limit, `ulimit -f`) harmless, so that such a
/// write fails with EFBIG and is reported like any other failed write instead of killing the
/// process.
pub fn ignore_file_size_signal() {
    // SAFETY: setting a signal's disposition to SIG_IGN has no handler to run.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(Signal::Interrupt.exit_code(), 130);
        assert_eq!(Signal::Terminate.exit_code(), 143);
        assert_eq!(
            Signal::from_number(libc::SIGTERM as usize),
            Some(Signal::Terminate)
        );
        assert_eq!(Signal::from_number(0), None);
    }
}
