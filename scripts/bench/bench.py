#!/usr/bin/env python3
"""Python/PyTorch references for `pf bench WORKLOAD`: the seeds' code made runnable, same nets,
same sizes, same solver tolerances; prints the same one-line JSON as the Rust side.

    python scripts/bench/bench.py WORKLOAD [--particles N] [--steps K] [--train-steps S]
        [--batch B] [--threads T] [--seed S] [--device cpu|cuda] [--solver scipy|torchdiffeq]
        [--weights FILE]

One module per workload in pyref/ (each mirrors its seed and says what was fixed). Every
workload runs a small untimed instance first, then the timed one; `wall_s` is the timed region
only (with a CUDA synchronisation at both ends on a GPU).
"""
import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from pyref import (  # noqa: E402
    ddpm,
    langevin_funnel,
    langevin_ring,
    likelihood_gmm1d,
    monoflow_funnel,
    sgemm,
    vp_sample,
    vp_train,
)

# workload -> (module function, default sizes); None = the size does not apply
WORKLOADS = {
    "langevin-funnel": (langevin_funnel.run, dict(particles=10_000, steps=1500)),
    "langevin-ring": (langevin_ring.run, dict(particles=10_000, steps=1500)),
    "vp-train": (vp_train.run, dict(train_steps=2000, batch=512)),
    "vp-sample-sde": (vp_sample.run_sde, dict(particles=20_000, steps=1500)),
    "vp-sample-ode": (vp_sample.run_ode, dict(particles=20_000, steps=1500)),
    "ddpm-train": (ddpm.run_train, dict(train_steps=500, batch=2048)),
    "ddpm-sample": (ddpm.run_sample, dict(particles=20_000, steps=1000)),
    "likelihood-gmm1d": (likelihood_gmm1d.run, dict(particles=10_000)),
    "monoflow-funnel": (monoflow_funnel.run, dict(particles=512, steps=1000, batch=512)),
    "sgemm": (sgemm.run, dict(particles=1024, steps=20)),
}
SIZE_KEYS = ("particles", "steps", "train_steps", "batch")


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


LAST_CPU_S = [float("nan")]


def timed(device, fn):
    """Runs fn() between two device synchronisations; returns (wall seconds, result) and keeps
    the process CPU time of the same region for the report."""
    sync(device)
    c0 = time.process_time()
    t0 = time.perf_counter()
    out = fn()
    sync(device)
    wall = time.perf_counter() - t0
    LAST_CPU_S[0] = time.process_time() - c0
    return wall, out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workload", choices=sorted(WORKLOADS))
    for k in SIZE_KEYS:
        p.add_argument("--" + k.replace("_", "-"), type=int, dest=k)
    p.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--solver", choices=["scipy", "torchdiffeq"], default="scipy",
                   help="likelihood-gmm1d: seed 002's scipy RK45 loop, or torchdiffeq's dopri5")
    p.add_argument("--weights", help="likelihood-gmm1d: score-net weights (.safetensors)")
    args = p.parse_args(argv)

    fn, defaults = WORKLOADS[args.workload]
    sizes = {}
    for k in SIZE_KEYS:
        given = getattr(args, k)
        if given is not None and k not in defaults:
            p.error(f"--{k.replace('_', '-')} does not apply to {args.workload}")
        if given is not None and given < 1:
            p.error(f"--{k.replace('_', '-')} must be at least 1")
        sizes[k] = given if given is not None else defaults.get(k)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda but torch sees no CUDA device")

    res = fn(sizes, device, args, timed)
    line = {
        "impl": "python",
        "workload": args.workload,
        "device": str(device) if device.type != "cuda" else f"cuda:{device.index or 0}",
        "threads": torch.get_num_threads(),
        **sizes,
        "wall_s": res["wall_s"],
        "cpu_s": LAST_CPU_S[0],
        "throughput": res["work"] / res["wall_s"],
        "unit": res["unit"],
    }
    if res.get("nfe") is not None:
        line["nfe"] = res["nfe"]
    if args.workload == "likelihood-gmm1d":
        line["solver"] = args.solver
    if args.workload == "langevin-ring":
        line["score"] = "autograd"
    line["check"] = res["check"]
    if not math.isfinite(line["check"]):
        sys.exit(f"{args.workload}: the result is not finite (check = {line['check']})")
    print(json.dumps(line))


if __name__ == "__main__":
    main()
