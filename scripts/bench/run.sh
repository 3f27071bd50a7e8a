#!/usr/bin/env bash
# Benchmarks `pf bench` against the seeds' Python/PyTorch references and writes BENCHMARKS.md.
#
#   scripts/bench/run.sh [--rounds R] [--threads T] [--only w1,w2] [--out FILE]
#       full run: builds pf in release, runs every workload in both languages for R rounds
#       (default 3), alternating which goes first, and writes BENCHMARKS.md (medians, ratios
#       against the targets, sgemm roofline, GFLOP/s, machine). Takes about half an hour at the
#       seeds' sizes on 2 cores; run it on a quiet machine (it records the load average).
#   scripts/bench/run.sh --load [--rounds R] [--only w1,w2]
#       the "Under load" section: each workload at a reduced size, quiet and then beside a
#       2-thread CPU hog, for pf (default policy), pf with libgomp's spinning default and Python
#       (wall-clock medians; about 20 minutes for 3 rounds on 2 cores).
#   scripts/bench/run.sh --scale [--chunk C] [--scale-n 1000,...] [--scale-d 2,...] [--only w]
#       the "Scale" section: time per particle-step and peak RSS at N = 10^3..10^6 (chunks of C,
#       default 16 384) and D = 2, 8, 32, 128 (Rust only; about 15 minutes).
#       Both write only their section of BENCHMARKS.md (between markers) and keep the rest.
#   scripts/bench/run.sh --smoke
#       CI: every workload once at tiny sizes in both languages (debug build of pf, seconds),
#       checks that each prints one parseable JSON line (the scale workloads and one job beside
#       the CPU hog too); writes nothing; exit 1 on failure.
#
# Environment: PFLOW_PYTHON (the venv's python; default: what scripts/setup-libtorch.sh prints),
# PF_BIN (a pf binary to use instead of building one).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

py="${PFLOW_PYTHON:-$(scripts/setup-libtorch.sh)}"
smoke=0
for a in "$@"; do [ "$a" = "--smoke" ] && smoke=1; done
if [ -n "${PF_BIN:-}" ]; then
  pf="$PF_BIN"
elif [ "$smoke" = 1 ]; then
  cargo build -q -p pf
  pf="target/debug/pf"
else
  cargo build -q --release -p pf
  pf="target/release/pf"
fi
exec "$py" scripts/bench/run.py --pf "$pf" --python "$py" "--cmdline=$*" "$@"
