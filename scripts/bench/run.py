#!/usr/bin/env python3
"""Runs `pf bench` and the Python/PyTorch references (scripts/bench/bench.py) side by side and
writes BENCHMARKS.md. Called by scripts/bench/run.sh, which builds `pf` and finds the venv's
python; see there for the options.

Full run: for each of R rounds, every workload runs in both languages, alternating which goes
first from round to round; each job is a fresh process (its own warm-up). Medians over rounds,
the Python/Rust ratio per workload against its target, the sgemm roofline measured in both, the
nominal GFLOP/s of the network-bound workloads, and the machine, load and versions it ran on.

Smoke run (--smoke): every workload once at tiny sizes in both languages, the scale workloads
once, and one job beside the CPU hog; checks that each job prints one parseable JSON line with the
expected fields and finite numbers. Writes nothing, times nothing that matters; exit status 1 if
any job failed.

Under load (--load): each workload at a reduced size, quiet and then beside a 2-thread CPU hog
(two busy-looping processes), R rounds, wall-clock medians: pf with its default thread policy,
pf with libgomp's spinning default (GOMP_SPINCOUNT=300000, what pf ran with before), and the
Python reference. Writes the "Under load" section of BENCHMARKS.md (between its markers; the
rest of the file is kept).

Scale (--scale): the scale-* workloads at N = 10^3 … 10^6 particles (in chunks of --chunk) and
the dim-* workloads at D = 2, 8, 32, 128 on Neal's funnel and a Gaussian mixture: time per
particle-step and peak resident memory. Writes the "Scale" section of BENCHMARKS.md.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "scripts", "bench")

# ---------------------------------------------------------------------------------------------
# FLOP counts (nominal: the seeds' networks, 2·in·out per Linear per sample forward, ×3 for
# forward + backward, ×2 for forward + input-gradient backward).


def score_model_fwd(dim, hidden=(128, 256, 128), embed=64):
    macs = 1 * embed + embed * embed
    inp = dim
    for h in hidden:
        macs += (inp + embed) * h
        inp = h
    macs += inp * dim
    return 2 * macs


def diffusion_model_fwd(dim=2, nblocks=4, nunits=64):
    return 2 * ((dim + 1) * nunits + nblocks * nunits * nunits + nunits * dim)


def disc_fwd(dim=2, hidden=(128, 128)):
    macs, inp = 0, dim
    for h in hidden:
        macs += inp * h
        inp = h
    return 2 * (macs + inp)


def nominal_flop(workload, line):
    """Nominal FLOP of a run from its JSON line, or None for workloads that are not network-bound."""
    g = line.get
    if workload == "vp-train":
        return 3 * score_model_fwd(2) * g("batch") * g("train_steps")
    if workload in ("vp-sample-sde", "vp-sample-ode"):
        return score_model_fwd(2) * g("particles") * g("nfe")
    if workload == "ddpm-train":
        return 3 * diffusion_model_fwd() * g("batch") * g("train_steps")
    if workload == "ddpm-sample":
        return diffusion_model_fwd() * g("particles") * g("nfe")
    if workload == "likelihood-gmm1d":
        return 2 * score_model_fwd(1) * g("particles") * g("nfe")
    if workload == "monoflow-funnel":
        d = disc_fwd()
        return (3 * d * 2 * g("batch") + 2 * d * g("particles")) * g("steps")
    return None


# ---------------------------------------------------------------------------------------------
# What runs. A job is one process; a row of the table compares a Rust job with a Python job.

SMOKE_SIZES = {
    "langevin-funnel": ["--particles", "64", "--steps", "5"],
    "langevin-ring": ["--particles", "64", "--steps", "5"],
    "vp-train": ["--train-steps", "3", "--batch", "32"],
    "vp-sample-sde": ["--particles", "64", "--steps", "5"],
    "vp-sample-ode": ["--particles", "64", "--steps", "5"],
    "ddpm-train": ["--train-steps", "3", "--batch", "32"],
    "ddpm-sample": ["--particles", "64", "--steps", "5"],
    "likelihood-gmm1d": ["--particles", "64"],
    "monoflow-funnel": ["--particles", "64", "--steps", "3", "--batch", "32"],
    "sgemm": ["--particles", "64", "--steps", "2"],
    "scale-langevin": ["--particles", "300", "--steps", "3", "--chunk", "128"],
    "scale-vp-sde": ["--particles", "300", "--steps", "3", "--chunk", "128"],
    "scale-pf-ode": ["--particles", "300", "--steps", "3", "--chunk", "128"],
    "scale-likelihood": ["--particles", "300", "--chunk", "128"],
    "dim-ula": ["--particles", "64", "--steps", "3", "--dim", "8"],
    "dim-train": ["--train-steps", "3", "--batch", "32", "--dim", "8"],
    "dim-pf-ode": ["--particles", "64", "--steps", "3", "--dim", "8", "--target", "gmm"],
    "dim-likelihood": ["--particles", "32", "--dim", "8"],
}

SCALE_WORKLOADS = ["scale-langevin", "scale-vp-sde", "scale-pf-ode", "scale-likelihood"]
DIM_WORKLOADS = ["dim-ula", "dim-train", "dim-pf-ode", "dim-likelihood"]


def jobs_and_rows(weights):
    """(jobs: name -> (lang, workload, extra args), rows: (label, rust job, python job, target, kind))."""
    w = ["--weights", weights]
    jobs = {
        "rs:langevin-funnel": ("rust", "langevin-funnel", []),
        "py:langevin-funnel": ("python", "langevin-funnel", []),
        "rs:langevin-ring": ("rust", "langevin-ring", ["--score", "analytic"]),
        "rs:langevin-ring-autograd": ("rust", "langevin-ring", ["--score", "autograd"]),
        "py:langevin-ring": ("python", "langevin-ring", []),
        "rs:likelihood-gmm1d": ("rust", "likelihood-gmm1d", w),
        "py:likelihood-gmm1d-scipy": ("python", "likelihood-gmm1d", w + ["--solver", "scipy"]),
        "py:likelihood-gmm1d-torchdiffeq": ("python", "likelihood-gmm1d", w + ["--solver", "torchdiffeq"]),
    }
    for wl in ["vp-train", "vp-sample-sde", "vp-sample-ode", "ddpm-train", "ddpm-sample",
               "monoflow-funnel", "sgemm"]:
        jobs["rs:" + wl] = ("rust", wl, [])
        jobs["py:" + wl] = ("python", wl, [])
    rows = [
        ("langevin-funnel", "rs:langevin-funnel", "py:langevin-funnel", 5.0,
         "analytic score; Rust: fused step"),
        ("langevin-ring", "rs:langevin-ring", "py:langevin-ring", 5.0,
         "Rust: closed-form fused step; Python: seed 003's autograd"),
        ("langevin-ring (autograd in both)", "rs:langevin-ring-autograd", "py:langevin-ring", None,
         "information: the same autograd score in both"),
        ("vp-train", "rs:vp-train", "py:vp-train", 1.5, ""),
        ("vp-sample-sde", "rs:vp-sample-sde", "py:vp-sample-sde", 1.5, ""),
        ("vp-sample-ode", "rs:vp-sample-ode", "py:vp-sample-ode", 1.5, ""),
        ("ddpm-train", "rs:ddpm-train", "py:ddpm-train", 1.5, ""),
        ("ddpm-sample", "rs:ddpm-sample", "py:ddpm-sample", 1.5, ""),
        ("likelihood-gmm1d vs seed 002 (scipy RK45)", "rs:likelihood-gmm1d",
         "py:likelihood-gmm1d-scipy", 3.0, "same weights, same tolerances"),
        ("likelihood-gmm1d vs torchdiffeq dopri5", "rs:likelihood-gmm1d",
         "py:likelihood-gmm1d-torchdiffeq", 1.5, "same weights, same tolerances"),
        ("monoflow-funnel", "rs:monoflow-funnel", "py:monoflow-funnel", 1.5, ""),
        ("sgemm (roofline)", "rs:sgemm", "py:sgemm", None, "the same MKL sgemm in both"),
    ]
    return jobs, rows


DEVICE = ["cpu"]  # set from --device in main()


def command(job, pf, py, threads, smoke):
    lang, wl, extra = job
    sizes = SMOKE_SIZES[wl] if smoke else []
    if lang == "rust":
        cmd = [pf, "--device", DEVICE[0], "--seed", "0"]
        if threads:
            cmd += ["--threads", str(threads)]
        return cmd + ["bench", wl] + sizes + extra
    cmd = [py, os.path.join(HERE, "bench.py"), wl, "--device", DEVICE[0], "--seed", "0"]
    if threads:
        cmd += ["--threads", str(threads)]
    return cmd + sizes + extra


REQUIRED = ("impl", "workload", "device", "threads", "particles", "steps", "train_steps", "batch",
            "wall_s", "throughput", "unit", "check")


def cpu_busy(interval=1.0):
    """Fraction of all cores busy over `interval` seconds (from /proc/stat), NaN if unknown."""
    def read():
        with open("/proc/stat") as f:
            vals = list(map(int, f.readline().split()[1:]))
        return sum(vals), vals[3] + vals[4]
    try:
        t1, i1 = read()
        time.sleep(interval)
        t2, i2 = read()
    except OSError:
        return float("nan")
    return 1.0 - (i2 - i1) / max(1, t2 - t1)


def wait_quiet(args):
    """Waits (at most --quiet-wait s) until other work uses less than --quiet of the cores:
    OpenMP threads that have to share a core with another process stall at every barrier, in
    both languages, by factors of 5–50. Returns (busy fraction when starting, seconds waited)."""
    t0 = time.time()
    while True:
        b = cpu_busy()
        if not b > args.quiet or time.time() - t0 > args.quiet_wait:
            return b, time.time() - t0
        time.sleep(2)


def run_job(name, job, args, log, env=None, wait=True, sizes=None):
    cmd = command(job, args.pf, args.python, args.threads, args.smoke and sizes is None)
    if sizes:
        cmd += sizes
    busy, waited = wait_quiet(args) if wait and not args.smoke else (float("nan"), 0.0)
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, cwd=ROOT,
                       env=None if env is None else {**os.environ, **env})
    took = time.time() - t0
    out = p.stdout.strip().splitlines()
    envs = " ".join(f"{k}={v}" for k, v in (env or {}).items())
    log.write(f"$ {envs + ' ' if envs else ''}{' '.join(cmd)}\n{p.stdout}{p.stderr}\n")
    log.flush()
    if p.returncode != 0 or not out:
        raise RuntimeError(f"{name}: exit {p.returncode}\n{p.stderr.strip()[-2000:]}")
    line = json.loads(out[-1])
    missing = [k for k in REQUIRED if k not in line]
    if missing:
        raise RuntimeError(f"{name}: JSON line lacks {missing}: {out[-1]}")
    lang, wl, _ = job
    if line["impl"] != lang or line["workload"] != wl:
        raise RuntimeError(f"{name}: JSON says impl={line['impl']} workload={line['workload']}")
    for k in ("wall_s", "throughput", "check"):
        if not (isinstance(line[k], (int, float)) and math.isfinite(line[k])):
            raise RuntimeError(f"{name}: {k} = {line[k]!r} is not a finite number")
    if line["wall_s"] <= 0:
        raise RuntimeError(f"{name}: wall_s = {line['wall_s']}")
    line["_process_s"] = took
    line["_busy"] = busy
    line["_waited"] = waited
    return line



# ---------------------------------------------------------------------------------------------
# Sections regenerated on their own (--load, --scale): kept between markers in BENCHMARKS.md.


def section_markers(name):
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def old_sections(path):
    """{name: text with markers} of the marked sections of an existing report."""
    out = {}
    if not os.path.exists(path):
        return out
    text = open(path).read()
    for m in re.finditer(r"<!-- (\w+):begin -->.*?<!-- \1:end -->", text, re.S):
        out[m.group(1)] = m.group(0)
    return out


def splice_section(path, name, body):
    """Replaces section `name` of the report at `path` (or inserts it before "## GPU", or at the
    end), leaving the rest of the file as it is."""
    b, e = section_markers(name)
    block = f"{b}\n{body.rstrip()}\n{e}"
    text = open(path).read() if os.path.exists(path) else ""
    pat = re.compile(re.escape(b) + r".*?" + re.escape(e), re.S)
    if pat.search(text):
        text = pat.sub(lambda _: block, text)
    elif "\n## GPU" in text:
        i = text.index("\n## GPU")
        text = text[:i + 1] + block + "\n\n" + text[i + 1:]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(text)


# ---------------------------------------------------------------------------------------------
# Under load: each workload quiet, then beside a 2-thread CPU hog.

# reduced sizes: a second or so quiet for pf, so that a round of everything stays short
LOAD_SIZES = {
    "langevin-funnel": ["--steps", "6000"],
    "vp-train": ["--train-steps", "300"],
    "vp-sample-sde": ["--steps", "100"],
    "vp-sample-ode": ["--steps", "100"],
    "ddpm-train": ["--train-steps", "200"],
    "ddpm-sample": ["--steps", "200"],
    "likelihood-gmm1d": ["--particles", "2000"],
    "monoflow-funnel": ["--steps", "200"],
    "sgemm": [],
}
HOG = ["sh", "-c", "while :; do :; done"]
SPIN_ENV = {"GOMP_SPINCOUNT": "300000"}  # libgomp's own default when OMP_WAIT_POLICY is unset


class Hog:
    """`n` busy-looping processes for the duration of a `with` block."""

    def __init__(self, n=2):
        self.n = n
        self.procs = []

    def __enter__(self):
        self.procs = [subprocess.Popen(HOG) for _ in range(self.n)]
        time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()


def load_jobs(weights):
    """(label, rust job, python job) per workload, with the under-load sizes."""
    w = ["--weights", weights]
    rows = []
    for wl, sz in LOAD_SIZES.items():
        extra = w if wl == "likelihood-gmm1d" else []
        py_extra = extra + (["--solver", "torchdiffeq"] if wl == "likelihood-gmm1d" else [])
        rows.append((wl, ("rust", wl, extra + sz), ("python", wl, py_extra + sz)))
    return rows


def run_load(args, log, weights):
    """Runs the under-load comparison and writes its section; returns the rows that miss 2.5×."""
    args.threads = None  # what a user gets: each side's default thread count
    rows = load_jobs(weights)
    if args.only:
        rows = [r for r in rows if r[0] in set(args.only.split(","))]
    variants = [("pf", 0, None), ("pf spin", 0, SPIN_ENV), ("python", 1, None)]
    res = {(wl, v, c): [] for wl, *_ in rows for v, *_ in variants for c in ("quiet", "load")}
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()[0]
    busy_at = []
    for r in range(args.rounds):
        for wl, rj, pj in rows:
            for v, which, env in variants:
                job = (rj, pj)[which]
                for cond in ("quiet", "load"):
                    try:
                        if cond == "quiet":
                            line = run_job(f"{v}:{wl}", job, args, log, env=env)
                            busy_at.append(line["_busy"])
                        else:
                            with Hog(2):
                                line = run_job(f"{v}:{wl}", job, args, log, env=env, wait=False)
                        wall = line["wall_s"]
                    except subprocess.TimeoutExpired:
                        wall = math.inf  # shown as "> --timeout s"
                    res[(wl, v, cond)].append(wall)
                print(f"round {r + 1}/{args.rounds}  {v:8s} {wl:18s} quiet {res[(wl, v, 'quiet')][-1]:8.3f} s  "
                      f"hog {res[(wl, v, 'load')][-1]:8.3f} s", flush=True)
        args.quiet_ok = bool(busy_at) and statistics.median(busy_at) < args.quiet
        write_load(args, rows, variants, res, started, load_before, busy_at, r + 1)
    return [wl for wl, *_ in rows
            if not statistics.median(res[(wl, "pf", "load")]) <= 2.5 * statistics.median(res[(wl, "pf", "quiet")])]


def write_load(args, rows, variants, res, started, load_before, busy_at, rounds_done):
    med = {k: statistics.median(v) for k, v in res.items() if v}
    nproc = os.cpu_count()
    lines = []
    w = lines.append
    w("## Under load (CPU)")
    w("")
    w(f"Generated by `scripts/bench/run.sh {args.cmdline}` (pf binary `{os.path.relpath(args.pf, ROOT)}`) "
      f"on {started:%Y-%m-%d %H:%M} UTC, {rounds_done} of "
      f"{args.rounds} rounds, {nproc} cores; load average (1 min) when it started {load_before:.2f}; "
      f"other work when the quiet jobs started: median {100 * statistics.median(busy_at):.0f} %, "
      f"max {100 * max(busy_at):.0f} % of the cores. Each job runs quiet (after waiting for other "
      f"work to drop below {100 * args.quiet:.0f} % of the cores), then beside a 2-thread CPU hog "
      f"(two `while :; do :; done` shells); wall time of the timed region, median of rounds. "
      f"Default threads on both sides (libtorch's choice: {nproc}). \"pf\" is pf's default "
      f"(GOMP_SPINCOUNT=30000, `pf_core::threads`); \"pf spin\" is libgomp's spinning default "
      f"(GOMP_SPINCOUNT=300000, pf before this policy); Python runs as a notebook does (libgomp's "
      f"default). Goal: pf under load ≤ 2.5× its quiet time (a fair share is 2×).")
    w("")
    w("| workload | sizes | pf quiet s | pf hog s | pf × | met? | pf spin quiet s | pf spin hog s | pf spin × | Python quiet s | Python hog s | Python × |")
    w("|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for wl, rj, pj in rows:
        if (wl, "pf", "quiet") not in med:
            continue
        cells = []
        for v, *_ in variants:
            q, l = med.get((wl, v, "quiet")), med.get((wl, v, "load"))
            if q is None or l is None:
                cells.append(("–", "–", "–"))
            else:
                cells.append((fmt_s(q), fmt_s(l), "–" if math.inf in (q, l) else f"{l / q:.2f}×"))
        q, l = med[(wl, "pf", "quiet")], med[(wl, "pf", "load")]
        met = "yes" if l <= 2.5 * q else "**no**"
        if not args.quiet_ok:
            met += " (quiet column not quiet)"
        sz = " ".join(rj[2][-2:]) if rj[2] else "default"
        if wl == "likelihood-gmm1d":
            sz = "--particles 2000"
        (a, b, c), (d, e, f), (g, h, i) = cells
        w(f"| {wl} | {sz} | {a} | {b} | {c} | {met} | {d} | {e} | {f} | {g} | {h} | {i} |")
    w("")
    w("Every run (wall s per round, quiet / hog):")
    w("")
    for wl, *_ in rows:
        for v, *_ in variants:
            qs, ls = res[(wl, v, "quiet")], res[(wl, v, "load")]
            if qs:
                w(f"- `{v}:{wl}`: {', '.join(fmt_s(x) for x in qs)} / {', '.join(fmt_s(x) for x in ls)}")
    splice_section(args.out, "load", "\n".join(lines))


# ---------------------------------------------------------------------------------------------
# Scale: particles 10^3 … 10^6, dimension 2 … 128.

SCALE_N = [1_000, 10_000, 100_000, 1_000_000]
SCALE_D = [2, 8, 32, 128]
SCALE_STEPS = {"scale-langevin": 100, "scale-vp-sde": 20, "scale-pf-ode": 20}


def run_scale(args, log):
    jobs = []
    ns = [int(x) for x in args.scale_n.split(",")]
    ds = [int(x) for x in args.scale_d.split(",")]
    for wl in SCALE_WORKLOADS:
        for n in ns:
            sz = ["--particles", str(n), "--chunk", str(args.chunk)]
            if wl in SCALE_STEPS:
                sz += ["--steps", str(SCALE_STEPS[wl])]
            jobs.append(("particles", wl, n, sz))
    for wl in DIM_WORKLOADS:
        for tgt in ("funnel", "gmm"):
            for d in ds:
                jobs.append(("dim", wl, (tgt, d), ["--dim", str(d), "--target", tgt]))
    if args.only:
        keep = set(args.only.split(","))
        jobs = [j for j in jobs if j[1] in keep]
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()[0]
    results = []
    for kind, wl, key, sz in jobs:
        if args.smoke:
            sz = SMOKE_SIZES[wl]
        line = run_job(f"rs:{wl}", ("rust", wl, []), args, log, sizes=sz)
        results.append((kind, wl, key, line))
        per = 1e6 / line["throughput"]
        print(f"{wl:18s} {str(key):16s} {line['wall_s']:9.3f} s  {per:10.4f} µs/particle-step  "
              f"peak {line['peak_rss_mb']:8.0f} MiB  (other work {100 * line['_busy']:.0f} %)", flush=True)
        if not args.smoke:  # after every job: an interrupted run keeps what it measured
            write_scale(args, results, started, load_before)
    return results


def write_scale(args, results, started, load_before):
    lines = []
    w = lines.append
    busy = [r[3]["_busy"] for r in results]
    threads = results[0][3]["threads"] if results else "?"
    w("## Scale (CPU)")
    w("")
    w(f"Generated by `scripts/bench/run.sh {args.cmdline}` (pf binary `{os.path.relpath(args.pf, ROOT)}`) "
      f"on {started:%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores, "
      f"{threads} libtorch threads, load average (1 min) when it started {load_before:.2f}; other work when "
      f"each job started: median {100 * statistics.median(busy):.0f} %, max {100 * max(busy):.0f} % of the "
      f"cores. One run per cell (a fresh process); time per particle-step = wall time of the timed "
      f"region / (particles × steps) (the likelihood: / (points × right-hand-side evaluations); "
      f"training: / samples); peak RSS = the process's peak resident memory (getrusage), libtorch's "
      f"own ≈ 350 MiB included.")
    w("")
    w(f"### Particles (chunks of {args.chunk:,} particles)".replace(",", " "))
    w("")
    w("| workload | N | steps (nfe) | wall s | µs / particle-step | peak RSS MiB | vs N = 10⁴ |")
    w("|---|---:|---:|---:|---:|---:|---:|")
    per_ref = {}
    for kind, wl, key, line in results:
        if kind != "particles":
            continue
        per = 1e6 / line["throughput"]
        if key == 10_000:
            per_ref[wl] = per
    for kind, wl, key, line in results:
        if kind != "particles":
            continue
        per = 1e6 / line["throughput"]
        ref = per_ref.get(wl)
        rel = f"{per / ref:.2f}×" if ref else "–"
        steps = line.get("steps") or line.get("nfe")
        if line.get("nfe") is not None and line.get("steps") is None:
            steps = f"({line['nfe']})"
        w(f"| {wl} | {key:,} | {steps} | {fmt_s(line['wall_s'])} | {per:.4g} | {line['peak_rss_mb']:.0f} | {rel} |".replace(",", " "))
    w("")
    w("### Dimension (Neal's funnel; 4 Gaussians, std 0.5, at ±2 on the first two axes)")
    w("")
    w("| workload | target | D | sizes | wall s | µs / particle-step | peak RSS MiB |")
    w("|---|---|---:|---|---:|---:|---:|")
    for kind, wl, key, line in results:
        if kind != "dim":
            continue
        tgt, d = key
        per = 1e6 / line["throughput"]
        w(f"| {wl} | {tgt} | {d} | {sizes_of(line)}{', nfe=' + str(line['nfe']) if wl == 'dim-likelihood' else ''} | "
          f"{fmt_s(line['wall_s'])} | {per:.4g} | {line['peak_rss_mb']:.0f} |")
    splice_section(args.out, "scale", "\n".join(lines))


# ---------------------------------------------------------------------------------------------
# GPU: every workload on the device, both languages (scripts/gpu-check.sh).

# the launch-bound loops, where the issue asks for ≥ 2× eager PyTorch on CUDA
GPU_TARGETS = {"langevin-funnel": 2.0, "langevin-ring": 2.0, "ddpm-sample": 2.0,
               "vp-sample-sde": 2.0, "vp-sample-ode": 2.0}


def run_gpu(args, log, weights):
    jobs, rows = jobs_and_rows(weights)
    order = [j for _, rj, pj, _, _ in rows for j in (rj, pj)]
    order = list(dict.fromkeys(order))
    if args.only:
        order = [j for j in order if jobs[j][1] in set(args.only.split(","))]
    res = {k: [] for k in order}
    started = datetime.datetime.now(datetime.timezone.utc)
    for r in range(args.rounds):
        for name in (order if r % 2 == 0 else order[::-1]):
            line = run_job(name, jobs[name], args, log, wait=False)
            res[name].append(line)
            print(f"round {r + 1}/{args.rounds}  {name:36s} {line['wall_s']:9.3f} s", flush=True)
    med = {k: statistics.median(l["wall_s"] for l in v) for k, v in res.items() if v}
    dev = DEVICE[0]
    lines = []
    w = lines.append
    w(f"## GPU ({dev})")
    w("")
    w(f"Generated by `scripts/gpu-check.sh` on {started:%Y-%m-%d %H:%M} UTC: every workload on `{dev}` "
      f"in both languages, {args.rounds} round(s), median wall time of the timed region (a device "
      f"synchronisation at both ends){'; smoke sizes (--dry-run: nothing here is a measurement)' if args.smoke else ''}. "
      f"Targets: ≥ 2× eager PyTorch on the launch-bound loops (Langevin, sampling).")
    w("")
    w("| workload | sizes | Rust median s | Python median s | ratio | target | met? |")
    w("|---|---|---:|---:|---:|---:|---|")
    for label, rj, pj, _, _ in rows:
        if rj not in med or pj not in med:
            continue
        r, p = med[rj], med[pj]
        wl = jobs[rj][1]
        t = GPU_TARGETS.get(wl) if label == wl else None
        met = "—" if t is None else ("yes" if p / r >= t else "**no**")
        w(f"| {label} | {sizes_of(res[rj][0])} | {fmt_s(r)} | {fmt_s(p)} | {p / r:.2f}× | "
          f"{'—' if t is None else f'≥ {t:g}×'} | {met} |")
    text = "\n".join(lines)
    with open(args.gpu_table, "w") as f:
        f.write(text + "\n")
    print(f"wrote {args.gpu_table}")
    return 0


# ---------------------------------------------------------------------------------------------
# Machine description.


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, shell=True, cwd=ROOT, timeout=60).stdout.strip()
    except Exception:  # noqa: BLE001
        return ""


def machine(args):
    lscpu = sh("lscpu")
    model = re.search(r"Model name:\s*(.+)", lscpu)
    flags = re.search(r"Flags:\s*(.+)", lscpu)
    simd = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile") if flags and f in flags.group(1).split()]
    torch_info = sh(f"{args.python} -c \"import torch, numpy, scipy, torchdiffeq; "
                    f"print(torch.__version__, numpy.__version__, scipy.__version__, torchdiffeq.__version__)\"").split()
    blas = sh(f"{args.python} -c \"import torch; print(torch.__config__.show())\"")
    mkl = re.search(r"(Intel\(R\) oneAPI Math Kernel Library Version [^\n]*|OpenBLAS[^\n]*)", blas)
    lock = open(os.path.join(ROOT, "Cargo.lock")).read()
    tch = re.search(r'name = "tch"\nversion = "([^"]+)"', lock)
    info = sh(f"{args.pf} info")
    libtorch = re.search(r"libtorch\s+(\S+)", info)
    return {
        "cpu": model.group(1).strip() if model else platform.processor(),
        "cores": os.cpu_count(),
        "simd": ", ".join(simd),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "torch": torch_info[0] if torch_info else "?",
        "numpy": torch_info[1] if len(torch_info) > 1 else "?",
        "scipy": torch_info[2] if len(torch_info) > 2 else "?",
        "torchdiffeq": torch_info[3] if len(torch_info) > 3 else "?",
        "blas": mkl.group(1) if mkl else "?",
        "tch": tch.group(1) if tch else "?",
        "libtorch": libtorch.group(1) if libtorch else "?",
        "commit": sh("git rev-parse --short HEAD") + (" (dirty tree)" if sh("git status --porcelain --untracked-files=no") else ""),
        "rustc": sh("rustc --version"),
    }


# ---------------------------------------------------------------------------------------------
# Report.


def fmt_s(v):
    if v == math.inf:
        return "> timeout"
    return f"{v:.3g}" if v < 10 else f"{v:.1f}"


def sizes_of(line):
    parts = []
    for k, label in (("particles", "N"), ("steps", "K"), ("train_steps", "S"), ("batch", "B")):
        if line.get(k) is not None:
            parts.append(f"{label}={line[k]:,}".replace(",", " "))
    if line.get("nfe") is not None and line["workload"] == "likelihood-gmm1d":
        parts.append(f"nfe={line['nfe']}")
    return ", ".join(parts)


def write_report(args, mach, results, jobs, rows, load_before, load_after, started, finished):
    med = {k: statistics.median(l["wall_s"] for l in v) for k, v in results.items()}
    cpu_med = {k: statistics.median(l.get("cpu_s", float("nan")) for l in v) for k, v in results.items()}
    lines = []
    w = lines.append
    w("# pflow benchmarks: Rust (`pf bench`) against the seeds' Python/PyTorch")
    w("")
    w(f"Generated by `scripts/bench/run.sh{' ' + args.cmdline if args.cmdline else ''}` "
      f"on {started:%Y-%m-%d %H:%M} UTC (finished {finished:%H:%M}), commit {mach['commit']}. "
      "Regenerate with that one command; do not edit by hand (the notes at the end come from "
      "`scripts/bench/NOTES.md`).")
    w("")
    w("## Machine")
    w("")
    w(f"- CPU: {mach['cpu']}, {mach['cores']} cores ({mach['simd']}); Linux {mach['kernel']}")
    w(f"- Threads: {args.threads} intra-op threads in both languages (`pf --threads`, `torch.set_num_threads`)")
    w(f"- Rust: {mach['rustc']}, tch {mach['tch']}, libtorch {mach['libtorch']}; release build (`cargo build --release -p pf`)")
    w(f"- Python {mach['python']}: torch {mach['torch']}, numpy {mach['numpy']}, scipy {mach['scipy']}, "
      f"torchdiffeq {mach['torchdiffeq']}; BLAS: {mach['blas']} (the same libtorch shared libraries serve both sides)")
    w(f"- Load average (1 min) before/after: {load_before:.2f} / {load_after:.2f}. "
      f"{args.rounds_done} of {args.rounds} rounds done, Rust and Python alternating (the first to run swaps "
      f"each round); medians. Before each job the runner waited (up to {args.quiet_wait:g} s) for other "
      f"work to drop below {100 * args.quiet:.0f} % of the cores; the last column of \"Every run\" "
      f"gives how busy the machine was when each job started.")
    w("")
    w("## Results (CPU)")
    w("")
    w("Wall time of the timed region (after a warm-up), median over rounds. Ratio = Python / Rust "
      "(higher: Rust faster); the targets are judged on it. The CPU-time ratio compares the process "
      "CPU seconds of the same regions (all threads; idle OpenMP workers spin, so it is only a "
      "cross-check, less sensitive to other load on the machine).")
    w("")
    w("| workload | sizes | Rust median s | Python median s | ratio | target | met? | CPU-time ratio | note |")
    w("|---|---|---:|---:|---:|---:|---|---:|---|")
    verdicts = []
    for label, rj, pj, target, note in rows:
        if rj not in med or pj not in med:
            continue
        r, p = med[rj], med[pj]
        ratio = p / r
        if target is None:
            tgt, met = "—", "—"
        else:
            tgt = f"≥ {target:g}×"
            ok = ratio >= target
            met = "yes" if ok else f"**no** ({ratio / target:.2f} of target)"
            verdicts.append((label, ok, ratio, target))
        line = results[rj][0]
        pyline = results[pj][0]
        sz = sizes_of(line)
        if pyline.get("nfe") is not None and line.get("nfe") is not None and pyline["nfe"] != line["nfe"]:
            note = (note + "; " if note else "") + f"Python nfe={pyline['nfe']}"
        cr = cpu_med.get(pj, float("nan")) / cpu_med.get(rj, float("nan"))
        w(f"| {label} | {sz} | {fmt_s(r)} | {fmt_s(p)} | {ratio:.2f}× | {tgt} | {met} | {cr:.2f}× | {note} |")
    w("")
    missed = [v for v in verdicts if not v[1]]
    if missed:
        w("Targets missed: " + "; ".join(f"{l} ({r:.2f}× of {t:g}×)" for l, _, r, t in missed)
          + ". Why: see the notes below.")
    else:
        w(f"Every CPU target is met ({len(verdicts)} rows with targets).")
    w("")
    # roofline
    sg = {k: statistics.median(l["throughput"] for l in results[k]) / 1e9 for k in ("rs:sgemm", "py:sgemm") if k in results}
    roof = max(sg.values()) if sg else None
    if sg:
        n = results["rs:sgemm"][0]["particles"] if "rs:sgemm" in results else "?"
        w("## sgemm roofline and achieved GFLOP/s")
        w("")
        w(f"Measured sgemm ({n}² float32 `mm`, median): Rust {sg.get('rs:sgemm', float('nan')):.1f} GFLOP/s, "
          f"Python {sg.get('py:sgemm', float('nan')):.1f} GFLOP/s (one MKL, so these agree; the roofline "
          f"below is {roof:.1f}).")
        w("")
        w("Nominal FLOP count of the seeds' networks (2·in·out per Linear per sample for a forward, ×3 "
          "for forward + backward in training, ×2 for forward + input gradient in the likelihood and "
          "MonoFlow's particle step), divided by the median wall time. Rust executes fewer than the "
          "nominal FLOPs where it folds a shared time embedding into the biases (vp-sample-*, "
          "likelihood: about ⅔), so its figure is an effective rate.")
        w("")
        w("| workload | nominal GFLOP | Rust GFLOP/s | Python GFLOP/s | Rust % of roofline | Python % of roofline |")
        w("|---|---:|---:|---:|---:|---:|")
        for label, rj, pj, target, note in rows:
            if rj not in med or pj not in med:
                continue
            wl = results[rj][0]["workload"]
            fr = nominal_flop(wl, results[rj][0])
            fp = nominal_flop(wl, results[pj][0])
            if fr is None:
                continue
            gr, gp = fr / med[rj] / 1e9, fp / med[pj] / 1e9
            w(f"| {label} | {fr / 1e9:.1f} | {gr:.1f} | {gp:.1f} | {100 * gr / roof:.0f} % | {100 * gp / roof:.0f} % |")
        w("")
    kept = old_sections(args.out)
    for name in ("load", "scale"):
        if name in kept:
            w(kept[name])
            w("")
    if "gpu" in kept:
        w(kept["gpu"])
        w("")
    w("## GPU: how to measure")
    w("")
    if "gpu" not in kept:
        w("No GPU run is recorded here yet: no CUDA machine has run `scripts/gpu-check.sh`.")
        w("")
    w("`scripts/gpu-check.sh` on a CUDA machine runs the device tests, `pf compare --quick --device "
      "cuda` and every bench workload on CUDA beside the Python references on CUDA, and writes its "
      "results into this file (section \"GPU\" between its markers). `pf bench` runs on CUDA as is "
      "(`pf --device cuda bench WORKLOAD`; the clock starts and stops after a device "
      "synchronisation), and so do the Python references (`python scripts/bench/bench.py "
      "WORKLOAD --device cuda`).")
    w("")
    w("## Every run")
    w("")
    w("| job | wall s per round | median | min | max | CPU s median | other load at start, per round |")
    w("|---|---|---:|---:|---:|---:|---|")
    for name, ls in results.items():
        ws = [l["wall_s"] for l in ls]
        busy = ", ".join(f"{100 * l.get('_busy', float('nan')):.0f} %" for l in ls)
        extra = ""
        if ls[0].get("nfe") is not None and ls[0]["workload"] == "likelihood-gmm1d":
            extra = f" (nfe {ls[0]['nfe']})"
        w(f"| `{name}`{extra} | {', '.join(fmt_s(x) for x in ws)} | {fmt_s(med[name])} | {fmt_s(min(ws))} | {fmt_s(max(ws))} | {fmt_s(cpu_med[name])} | {busy} |")
    w("")
    w("Commands: `pf --device cpu --seed 0 --threads T bench WORKLOAD [flags]` and "
      "`python scripts/bench/bench.py WORKLOAD --device cpu --seed 0 --threads T [flags]`; the full "
      f"log of this run is `{os.path.relpath(args.log, ROOT)}`.")
    w("")
    notes = os.path.join(HERE, "NOTES.md")
    if os.path.exists(notes):
        w(open(notes).read().rstrip())
        w("")
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    return missed


def main():
    # a SIGTERM unwinds like an exception, so the CPU hog's processes are always stopped
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pf", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    ap.add_argument("--only", help="comma-separated workloads (default: all)")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per job")
    ap.add_argument("--quiet", type=float, default=0.2,
                    help="before each job wait until other work uses less than this fraction of "
                         "the cores (default 0.2) ...")
    ap.add_argument("--quiet-wait", type=float, default=120,
                    help="... but at most this many seconds (default 120); the report shows how busy "
                         "the machine was when each job started")
    ap.add_argument("--cmdline", default="", help="the run.sh arguments, for the report")
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda: where both sides run")
    ap.add_argument("--gpu-table", help="every workload on --device in both languages; writes "
                    "this Markdown table (scripts/gpu-check.sh)")
    ap.add_argument("--load", action="store_true",
                    help="the under-load table only (quiet, then beside a 2-thread CPU hog)")
    ap.add_argument("--scale", action="store_true",
                    help="the scale tables only (particles 10^3..10^6, dimension 2..128)")
    ap.add_argument("--chunk", type=int, default=16_384, help="--scale: particles per chunk")
    ap.add_argument("--scale-n", default=",".join(map(str, SCALE_N)), help="--scale: particle counts")
    ap.add_argument("--scale-d", default=",".join(map(str, SCALE_D)), help="--scale: dimensions")
    ap.add_argument("--log", help="default: target/bench/MODE.log (run, smoke, load, scale, gpu)")
    args, rest = ap.parse_known_args()
    if not args.log:
        mode = "smoke" if args.smoke else "load" if args.load else "scale" if args.scale else "gpu" if args.gpu_table else "run"
        args.log = os.path.join(ROOT, "target", "bench", f"{mode}.log")
    if rest:
        ap.error(f"unknown arguments {rest}")
    os.makedirs(os.path.dirname(args.log), exist_ok=True)
    weights = os.path.join(ROOT, "target", "bench", "gmm1d_score.safetensors")
    subprocess.run([args.python, os.path.join(HERE, "make_weights.py"), weights], check=True,
                   capture_output=True, cwd=ROOT)
    jobs, rows = jobs_and_rows(weights)
    DEVICE[0] = args.device
    if args.gpu_table:
        with open(args.log, "w") as log:
            return run_gpu(args, log, weights)
    if args.load or args.scale:
        if args.load and args.scale:
            ap.error("--load and --scale run one at a time")
        with open(args.log, "w") as log:
            if args.scale:
                run_scale(args, log)
                if not args.smoke:
                    print(f"wrote the scale section of {args.out}")
                return 0
            missed = run_load(args, log, weights)
            print(f"wrote the under-load section of {args.out}"
                  + (f"; over 2.5×: {', '.join(missed)}" if missed else "; every row within 2.5×"))
        return 0
    if args.only:
        keep = set(args.only.split(","))
        unknown = keep - {j[1] for j in jobs.values()}
        if unknown:
            ap.error(f"--only: unknown workloads {sorted(unknown)}")
        jobs = {k: v for k, v in jobs.items() if v[1] in keep}
    # jobs grouped by workload, in table order
    order = []
    for _, rj, pj, _, _ in rows:
        for j in (rj, pj):
            if j in jobs and j not in order:
                order.append(j)
    with open(args.log, "w") as log:
        if args.smoke:
            failed = []
            for name in order:
                try:
                    line = run_job(name, jobs[name], args, log)
                    print(f"ok   {name:36s} {line['wall_s']:.4f} s")
                except Exception as e:  # noqa: BLE001
                    failed.append(name)
                    print(f"FAIL {name}: {e}")
            total = len(order)
            if not args.only:
                # the scale workloads, and one job beside the CPU hog (the --load machinery)
                for wl in SCALE_WORKLOADS + DIM_WORKLOADS:
                    total += 1
                    try:
                        line = run_job(f"rs:{wl}", ("rust", wl, []), args, log, sizes=SMOKE_SIZES[wl])
                        assert line["peak_rss_mb"] > 0, "peak_rss_mb"
                        print(f"ok   rs:{wl:33s} {line['wall_s']:.4f} s")
                    except Exception as e:  # noqa: BLE001
                        failed.append(wl)
                        print(f"FAIL rs:{wl}: {e}")
                total += 1
                try:
                    with Hog(2):
                        line = run_job("rs:sgemm (hog)", ("rust", "sgemm", []), args, log, wait=False,
                                       env=SPIN_ENV, sizes=SMOKE_SIZES["sgemm"])
                    print(f"ok   {'rs:sgemm beside the hog':36s} {line['wall_s']:.4f} s")
                except Exception as e:  # noqa: BLE001
                    failed.append("hog")
                    print(f"FAIL hog: {e}")
            print(f"bench smoke: {total - len(failed)}/{total} jobs ok (log: {args.log})")
            return 1 if failed else 0
        started = datetime.datetime.now(datetime.timezone.utc)
        load_before = os.getloadavg()[0]
        results = {k: [] for k in order}
        mach = machine(args)
        for r in range(args.rounds):
            groups = []
            for name in order:
                wl = jobs[name][1]
                if groups and groups[-1][0] == wl:
                    groups[-1][1].append(name)
                else:
                    groups.append((wl, [name]))
            for wl, names in groups:
                rs = [n for n in names if jobs[n][0] == "rust"]
                ps = [n for n in names if jobs[n][0] == "python"]
                seq = rs + ps if r % 2 == 0 else ps + rs
                for name in seq:
                    line = run_job(name, jobs[name], args, log)
                    results[name].append(line)
                    print(f"round {r + 1}/{args.rounds}  {name:36s} {line['wall_s']:9.3f} s  "
                          f"(other work {100 * line['_busy']:.0f} %, waited {line['_waited']:.0f} s)", flush=True)
            args.rounds_done = r + 1
            load_after = os.getloadavg()[0]
            finished = datetime.datetime.now(datetime.timezone.utc)
            missed = write_report(args, mach, results, jobs, rows, load_before, load_after, started, finished)
        print(f"wrote {args.out}" + (f"; targets missed: {', '.join(m[0] for m in missed)}" if missed else "; every target met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
