//! The OpenMP wait policy libtorch's CPU threads run under, and why pflow changes it.
//!
//! libtorch's CPU kernels (ATen's `parallel_for`, MKL's GEMMs) run on libgomp, the GNU OpenMP
//! runtime the torch wheel ships (`torch/lib/libgomp.so.1`). When a parallel region ends, a
//! worker waits for the next by spinning first: with `OMP_WAIT_POLICY` unset, libgomp spins
//! `GOMP_SPINCOUNT` = 300 000 iterations (about 3 ms) before it sleeps on a futex. On an idle
//! machine that makes the next region start a few microseconds sooner. On a machine where
//! another process wants the cores, the spinners take the CPU from the thread that has work,
//! and every barrier waits for a descheduled partner: measured on 2 cores beside a 2-thread CPU
//! hog, DSM training of seed 001's ScoreModel ran 10–30× slower than alone (a fair share is 2×).
//!
//! `OMP_WAIT_POLICY=PASSIVE` (spin count 0) cures that but costs a futex wake at every parallel
//! region: on an idle 2-core machine DSM training ran 2.5× slower (vp-train, 500 steps: 3.6 s
//! against 1.44 s). pflow's default is a short spin instead, `GOMP_SPINCOUNT` = 30 000 (about
//! 0.3 ms): as fast as the default when idle (1.39 s), and a descheduled partner costs a tenth
//! of the spin. libgomp reads its environment once, in its library constructor, which runs
//! before `main` (and before anything a program's own `.preinit_array` can set: glibc resets
//! `environ` after it). So [`apply_default_wait_policy`], called first thing in `main`, sets the
//! variable and re-executes the binary once (`execv` of `/proc/self/exe`, same arguments).
//! Nothing happens when the user set `OMP_WAIT_POLICY` or `GOMP_SPINCOUNT` themselves (theirs
//! wins), when `PFLOW_OMP_REEXEC` is already set (the second pass), or where re-execution is not
//! possible (then libgomp's default stays and [`describe`] says so).

use std::sync::OnceLock;

/// The OpenMP standard's wait-policy variable (libgomp, and Intel's runtime, read it).
pub const WAIT_POLICY_ENV: &str = "OMP_WAIT_POLICY";
/// libgomp's spin count before a waiting thread sleeps.
pub const SPINCOUNT_ENV: &str = "GOMP_SPINCOUNT";
/// Set by pflow on its own re-execution (so it happens once, and [`describe`] can tell).
pub const REEXEC_ENV: &str = "PFLOW_OMP_REEXEC";
/// pflow's default spin count (about 0.3 ms of spinning before an idle worker sleeps).
pub const PFLOW_SPINCOUNT: &str = "30000";

/// Where the wait policy of this process came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitPolicy {
    /// pflow's default: `GOMP_SPINCOUNT` = [`PFLOW_SPINCOUNT`], set before libgomp loaded.
    ShortSpinByPflow,
    /// The user's own setting (variable, value), left as is.
    User(&'static str, String),
    /// Not applied (re-execution failed, or not a Linux build): libgomp's spinning default.
    RuntimeDefault(String),
}

static POLICY: OnceLock<WaitPolicy> = OnceLock::new();

/// Gives libtorch's OpenMP threads pflow's wait policy (a short spin), re-executing the program once
/// if needed; see the module docs. Call first thing in `main`, before any tensor exists and
/// before other threads start. Returns only when no re-execution took place (or it failed).
pub fn apply_default_wait_policy() -> &'static WaitPolicy {
    POLICY.get_or_init(|| {
        match decide(|k| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned())) {
            Decision::Keep(p) => p,
            Decision::Reexec => reexec_short_spin(),
        }
    })
}

/// What [`apply_default_wait_policy`] does, given the environment (a lookup of a variable).
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    Keep(WaitPolicy),
    Reexec,
}

fn decide(env: impl Fn(&str) -> Option<String>) -> Decision {
    let ours = env(REEXEC_ENV).is_some();
    if let Some(v) = env(WAIT_POLICY_ENV) {
        return Decision::Keep(WaitPolicy::User(WAIT_POLICY_ENV, v));
    }
    match env(SPINCOUNT_ENV) {
        Some(v) if ours && v == PFLOW_SPINCOUNT => Decision::Keep(WaitPolicy::ShortSpinByPflow),
        Some(v) => Decision::Keep(WaitPolicy::User(SPINCOUNT_ENV, v)),
        None if ours => Decision::Keep(WaitPolicy::RuntimeDefault(format!(
            "{REEXEC_ENV} is set without {SPINCOUNT_ENV}"
        ))),
        None => Decision::Reexec,
    }
}

#[cfg(target_os = "linux")]
fn reexec_short_spin() -> WaitPolicy {
    use std::os::unix::process::CommandExt;
    let exe = std::path::Path::new("/proc/self/exe");
    let mut args = std::env::args_os();
    // argv[0] as it was (what the program calls itself); without one, the binary's own path
    let argv0 = args.next().unwrap_or_else(|| {
        std::env::current_exe().map_or_else(|_| exe.into(), |p| p.into_os_string())
    });
    let err = std::process::Command::new(exe)
        .arg0(argv0)
        .args(args)
        .env(SPINCOUNT_ENV, PFLOW_SPINCOUNT)
        .env(REEXEC_ENV, "1")
        .exec(); // returns only on failure
    WaitPolicy::RuntimeDefault(format!("re-execution failed: {err}"))
}

#[cfg(not(target_os = "linux"))]
fn reexec_short_spin() -> WaitPolicy {
    WaitPolicy::RuntimeDefault("re-execution is implemented on Linux only".into())
}

/// One line for `pf info`: the policy in force and where it came from.
pub fn describe() -> String {
    match POLICY.get() {
        Some(WaitPolicy::ShortSpinByPflow) => format!(
            "GOMP_SPINCOUNT={PFLOW_SPINCOUNT} (pflow's default: idle OpenMP threads spin about \
             0.3 ms, then sleep; set OMP_WAIT_POLICY or GOMP_SPINCOUNT to override)"
        ),
        Some(WaitPolicy::User(var, v)) => format!("{var}={v} (from the environment)"),
        Some(WaitPolicy::RuntimeDefault(why)) => {
            format!("the OpenMP runtime's default (spin, then sleep): {why}")
        }
        None => match std::env::var(WAIT_POLICY_ENV) {
            Ok(v) => format!("{WAIT_POLICY_ENV}={v} (from the environment)"),
            Err(_) => "the OpenMP runtime's default (spin, then sleep)".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_users_setting_wins_and_the_reexec_happens_once() {
        assert_eq!(decide(env(&[])), Decision::Reexec);
        assert_eq!(
            decide(env(&[(SPINCOUNT_ENV, PFLOW_SPINCOUNT), (REEXEC_ENV, "1")])),
            Decision::Keep(WaitPolicy::ShortSpinByPflow)
        );
        assert_eq!(
            decide(env(&[(WAIT_POLICY_ENV, "PASSIVE")])),
            Decision::Keep(WaitPolicy::User(WAIT_POLICY_ENV, "PASSIVE".into()))
        );
        assert_eq!(
            decide(env(&[(WAIT_POLICY_ENV, "ACTIVE")])),
            Decision::Keep(WaitPolicy::User(WAIT_POLICY_ENV, "ACTIVE".into()))
        );
        assert_eq!(
            decide(env(&[(SPINCOUNT_ENV, "300000"), (REEXEC_ENV, "1")])),
            Decision::Keep(WaitPolicy::User(SPINCOUNT_ENV, "300000".into()))
        );
        // the marker alone (a parent's variable removed) never loops
        assert!(matches!(
            decide(env(&[(REEXEC_ENV, "1")])),
            Decision::Keep(WaitPolicy::RuntimeDefault(_))
        ));
    }
}
