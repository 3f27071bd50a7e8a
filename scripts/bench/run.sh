#!/usr/bin/env bash
# Benchmarks `pf bench` against the seeds' Python/PyTorch references and writes BENCHMARKS.md.
#
#   scripts/bench/run.sh [--rounds R] [--threads T] [--only w1,w2] [--out FILE]
#       full run: builds pf in release, runs every workload in both languages for R rounds
#       (default 3), alternating which goes first, and writes BENCHMARKS.md (medians, ratios
#       against the targets, sgemm roofline, GFLOP/s, machine). Takes about half an hour at the
#       seeds' sizes on 2 cores; run it on a quiet machine (it records the load average).
#   scripts/bench/run.sh --smoke
#       CI: every workload once at tiny sizes in both languages (debug build of pf, seconds),
#       checks that each prints one parseable JSON line; writes nothing; exit 1 on failure.
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
