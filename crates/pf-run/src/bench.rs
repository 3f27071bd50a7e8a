//! `pf bench WORKLOAD`: times one workload and prints one JSON line.
//!
//! Each workload is the product's own path (crate calls wired as `pf run` wires them) at the
//! seeds' sizes by default, timed after an untimed warm-up on a small instance, under the
//! global `--seed` (default 0) and `--threads`. Only the timed region counts in `wall_s`; on CUDA
//! the device is synchronised before the clock starts and before it stops.
//! `scripts/bench/` holds the Python/PyTorch references printing the same line, and the script
//! that runs both side by side and writes BENCHMARKS.md.
//!
//! | workload | what is timed | default sizes |
//! |---|---|---|
//! | `langevin-funnel` | ULA, analytic funnel score (seed 001) | 10 000 particles × 1500 steps |
//! | `langevin-ring` | ULA on seed 003's ring (`--score analytic` fused, or `autograd`) | 10 000 × 1500 |
//! | `vp-train` | DSM training of seed 001's ScoreModel, Adam 3e-4 | batch 512 × 2000 steps |
//! | `vp-sample-sde` | reverse-SDE Euler–Maruyama with the ScoreModel (ε-net) | 20 000 × 1500 |
//! | `vp-sample-ode` | PF-ODE Euler with the ScoreModel | 20 000 × 1500 |
//! | `ddpm-train` | seed 001's DiffusionModel (4 blocks), ε-MSE, Adam 1e-3, LinearLR | batch 2048 × 500 steps |
//! | `ddpm-sample` | DDPM ancestral sampling with the DiffusionModel | 20 000 × 1000 steps |
//! | `likelihood-gmm1d` | PF-ODE log-likelihood, Dormand–Prince rtol = atol = 1e-5 (seed 002) | 10 000 points |
//! | `monoflow-funnel` | MonoFlow: 1 discriminator Adam step + 1 SGD particle step (seed 000) | 512 particles × 1000 steps, batch 512 |
//! | `sgemm` | `mm` of two n × n float32 matrices (the roofline) | n = 1024, 20 repeats |
//!
//! Sizes: `--particles` (particles, points, or n for sgemm), `--steps` (sampler steps, MonoFlow
//! iterations, sgemm repeats), `--train-steps`, `--batch`.
//!
//! The scale workloads (`scale-*`: particles in chunks, `--chunk`; `dim-*`: `--dim`, `--target`)
//! are listed in `bench/scale.rs`. Every line reports `peak_rss_mb`, the process's peak resident
//! memory (getrusage).

mod ddpm;
mod langevin;
mod likelihood;
mod monoflow;
mod scale;
mod sgemm;
mod vp;

use anyhow::{bail, Result};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;
use tch::Device;

/// The workloads, in the order BENCHMARKS.md lists them.
pub const WORKLOADS: [&str; 10] = [
    "langevin-funnel",
    "langevin-ring",
    "vp-train",
    "vp-sample-sde",
    "vp-sample-ode",
    "ddpm-train",
    "ddpm-sample",
    "likelihood-gmm1d",
    "monoflow-funnel",
    "sgemm",
];

/// Arguments of `pf bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// The workload to time: langevin-funnel, langevin-ring, vp-train, vp-sample-sde,
    /// vp-sample-ode, ddpm-train, ddpm-sample, likelihood-gmm1d, monoflow-funnel, sgemm.
    pub workload: String,
    /// Particles (samplers), points (likelihood), or the matrix size n (sgemm).
    #[arg(long)]
    pub particles: Option<usize>,
    /// Sampler steps, MonoFlow iterations, or sgemm repeats.
    #[arg(long)]
    pub steps: Option<usize>,
    /// Training steps (vp-train, ddpm-train).
    #[arg(long)]
    pub train_steps: Option<usize>,
    /// Batch size (training; MonoFlow's discriminator batch).
    #[arg(long)]
    pub batch: Option<usize>,
    /// langevin-ring's score: `analytic` (closed form, fused step) or `autograd` (seed 003's
    /// autograd of the log-density).
    #[arg(long, default_value = "analytic")]
    pub score: String,
    /// likelihood-gmm1d: load the score net's weights from this `.safetensors` file (PyTorch
    /// names), so Rust and Python integrate the same field (and take the same steps).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Scale workloads: particles (points) per chunk (default: all at once).
    #[arg(long)]
    pub chunk: Option<usize>,
    /// `dim-*` workloads: the dimension D (default 8).
    #[arg(long)]
    pub dim: Option<usize>,
    /// `dim-*` workloads: `funnel` (Neal's) or `gmm` (default funnel).
    #[arg(long)]
    pub target: Option<String>,
}

/// Sizes after defaults; `None` where a size does not apply to the workload.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub(crate) struct Sizes {
    pub particles: Option<usize>,
    pub steps: Option<usize>,
    pub train_steps: Option<usize>,
    pub batch: Option<usize>,
}

/// What a timed run reports besides its wall time.
pub(crate) struct Outcome {
    /// The throughput numerator (e.g. particle-steps), and its unit per second.
    pub work: f64,
    pub unit: &'static str,
    /// Field evaluations (adaptive solvers) where it matters.
    pub nfe: Option<usize>,
    /// A number computed from the result (e.g. the mean of the final particles): finite, and a
    /// hint that both languages computed the same kind of thing.
    pub check: f64,
}

#[derive(Serialize)]
struct Line<'a> {
    #[serde(rename = "impl")]
    implementation: &'static str,
    workload: &'a str,
    device: String,
    threads: i32,
    #[serde(flatten)]
    sizes: Sizes,
    wall_s: f64,
    /// Process CPU seconds (all threads) in the timed region: less sensitive than `wall_s` to
    /// other work on a shared machine.
    cpu_s: f64,
    throughput: f64,
    unit: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nfe: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chunk: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dim: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<&'a str>,
    /// Peak resident memory of the process, MiB.
    peak_rss_mb: f64,
    check: f64,
}

/// The process's peak resident set size in MiB (Linux `getrusage`; NaN elsewhere).
pub(crate) fn peak_rss_mb() -> f64 {
    #[cfg(target_os = "linux")]
    {
        #[repr(C)]
        struct Rusage {
            utime: [i64; 2],
            stime: [i64; 2],
            maxrss: i64,
            rest: [i64; 13],
        }
        extern "C" {
            fn getrusage(who: i32, usage: *mut Rusage) -> i32;
        }
        let mut r = Rusage {
            utime: [0; 2],
            stime: [0; 2],
            maxrss: 0,
            rest: [0; 13],
        };
        // SAFETY: getrusage(RUSAGE_SELF) fills one struct rusage (18 longs on Linux x86-64 and
        // aarch64) through a valid pointer.
        if unsafe { getrusage(0, &mut r) } == 0 {
            return r.maxrss as f64 / 1024.0; // KiB → MiB
        }
    }
    f64::NAN
}

/// Waits for the device's queued work (CUDA); nothing on the CPU.
pub(crate) fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// CPU seconds used by this process so far, all threads (Linux; NaN elsewhere).
pub(crate) fn process_cpu_s() -> f64 {
    #[cfg(target_os = "linux")]
    {
        #[repr(C)]
        struct Timespec {
            tv_sec: i64,
            tv_nsec: i64,
        }
        extern "C" {
            fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
        }
        const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
        let mut ts = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes one timespec through a valid pointer.
        if unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut ts) } == 0 {
            return ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9;
        }
    }
    f64::NAN
}

thread_local! {
    /// CPU seconds of the last [`timed`] region.
    static LAST_CPU_S: std::cell::Cell<f64> = const { std::cell::Cell::new(f64::NAN) };
}

/// Runs `f`, timing it between two device synchronisations (wall clock; the process CPU time of
/// the same region is kept for the report).
pub(crate) fn timed<T>(device: Device, f: impl FnOnce() -> Result<T>) -> Result<(f64, T)> {
    sync(device);
    let cpu0 = process_cpu_s();
    let start = Instant::now();
    let out = f()?;
    sync(device);
    let wall = start.elapsed().as_secs_f64();
    LAST_CPU_S.with(|c| c.set(process_cpu_s() - cpu0));
    Ok((wall, out))
}

/// A workload's sizes with `defaults` where the flag was not given (only the sizes the workload
/// uses: `defaults` has `None` elsewhere, and a flag for an unused size is an error).
fn sizes(args: &BenchArgs, defaults: Sizes) -> Result<Sizes> {
    let pick =
        |flag: &str, given: Option<usize>, default: Option<usize>| -> Result<Option<usize>> {
            match (given, default) {
                (Some(0), _) => bail!("--{flag} must be at least 1"),
                (Some(v), Some(_)) => Ok(Some(v)),
                (Some(_), None) => bail!("--{flag} does not apply to {}", args.workload),
                (None, d) => Ok(d),
            }
        };
    Ok(Sizes {
        particles: pick("particles", args.particles, defaults.particles)?,
        steps: pick("steps", args.steps, defaults.steps)?,
        train_steps: pick("train-steps", args.train_steps, defaults.train_steps)?,
        batch: pick("batch", args.batch, defaults.batch)?,
    })
}

/// Workload `w`'s default sizes (an error lists the workloads when it is unknown).
fn default_sizes(w: &str) -> Result<Sizes> {
    Ok(match w {
        "langevin-funnel" | "langevin-ring" => Sizes {
            particles: Some(10_000),
            steps: Some(1500),
            ..Sizes::default()
        },
        "vp-train" => Sizes {
            train_steps: Some(2000),
            batch: Some(512),
            ..Sizes::default()
        },
        "vp-sample-sde" | "vp-sample-ode" => Sizes {
            particles: Some(20_000),
            steps: Some(1500),
            ..Sizes::default()
        },
        "ddpm-train" => Sizes {
            train_steps: Some(500),
            batch: Some(2048),
            ..Sizes::default()
        },
        "ddpm-sample" => Sizes {
            particles: Some(20_000),
            steps: Some(1000),
            ..Sizes::default()
        },
        "likelihood-gmm1d" => Sizes {
            particles: Some(10_000),
            ..Sizes::default()
        },
        "monoflow-funnel" => Sizes {
            particles: Some(512),
            steps: Some(1000),
            batch: Some(512),
            ..Sizes::default()
        },
        "sgemm" => Sizes {
            particles: Some(1024),
            steps: Some(20),
            ..Sizes::default()
        },
        _ => match scale::defaults(w) {
            Some(d) => d,
            None => bail!(
                "unknown bench workload `{w}` (allowed: {}, {})",
                WORKLOADS.join(", "),
                scale::WORKLOADS.join(", ")
            ),
        },
    })
}

/// Runs one workload and prints its JSON line.
pub fn run(args: &BenchArgs, device: Device, seed: Option<u64>) -> Result<()> {
    let seed = seed.unwrap_or(0) as i64;
    let w = args.workload.as_str();
    let defaults = default_sizes(w)?;
    let is_scale = w.starts_with("scale-");
    let is_dim = w.starts_with("dim-");
    if args.chunk.is_some() && !(is_scale || is_dim) {
        bail!("--chunk applies to the scale-* and dim-* workloads only");
    }
    if args.chunk == Some(0) {
        bail!("--chunk must be at least 1");
    }
    if (args.dim.is_some() || args.target.is_some()) && !is_dim {
        bail!("--dim and --target apply to the dim-* workloads only");
    }
    let knobs = scale::Knobs {
        chunk: args.chunk,
        dim: args.dim.unwrap_or(8),
        target: args.target.clone().unwrap_or_else(|| "funnel".into()),
    };
    let sz = sizes(args, defaults)?;
    let score = match w {
        "langevin-ring" => match args.score.as_str() {
            s @ ("analytic" | "autograd") => Some(s),
            s => bail!("--score {s}: allowed: analytic, autograd"),
        },
        _ if args.score != "analytic" => bail!("--score applies to langevin-ring only"),
        _ => None,
    };
    if args.weights.is_some() && w != "likelihood-gmm1d" {
        bail!("--weights applies to likelihood-gmm1d only");
    }
    let (wall_s, out) = match w {
        "langevin-funnel" => langevin::funnel(sz, device, seed)?,
        "langevin-ring" => langevin::ring(sz, score == Some("autograd"), device, seed)?,
        "vp-train" => vp::train(sz, device, seed)?,
        "vp-sample-sde" => vp::sample(sz, false, device, seed)?,
        "vp-sample-ode" => vp::sample(sz, true, device, seed)?,
        "ddpm-train" => ddpm::train(sz, device, seed)?,
        "ddpm-sample" => ddpm::sample(sz, device, seed)?,
        "likelihood-gmm1d" => likelihood::gmm1d(sz, args.weights.as_deref(), device, seed)?,
        "monoflow-funnel" => monoflow::funnel(sz, device, seed)?,
        "sgemm" => sgemm::run(sz, device, seed)?,
        _ => scale::run(w, sz, &knobs, device, seed)?,
    };
    anyhow::ensure!(
        out.check.is_finite(),
        "{w}: the result is not finite (check = {})",
        out.check
    );
    let line = Line {
        implementation: "rust",
        workload: w,
        device: pf_core::device::device_name(device),
        threads: tch::get_num_threads(),
        sizes: sz,
        wall_s,
        cpu_s: LAST_CPU_S.with(|c| c.get()),
        throughput: out.work / wall_s,
        unit: out.unit,
        nfe: out.nfe,
        score,
        chunk: args.chunk,
        dim: is_dim.then_some(knobs.dim),
        target: is_dim.then_some(knobs.target.as_str()),
        peak_rss_mb: peak_rss_mb(),
        check: out.check,
    };
    println!("{}", serde_json::to_string(&line)?);
    Ok(())
}

/// The mean of a tensor as f64 (a host read).
pub(crate) fn mean(x: &tch::Tensor) -> f64 {
    x.to_kind(tch::Kind::Double)
        .mean(tch::Kind::Double)
        .double_value(&[])
}

/// A small version of a size for the warm-up run.
pub(crate) fn small(v: usize, cap: usize) -> usize {
    v.min(cap)
}
