#!/usr/bin/env bash
# pflow's whole test suite, as CI runs it (.ci/run calls exactly this).
#   libtorch setup → fmt → clippy → each crate checked on its own → a single-node Slurm → all tests
#   → the example crate built outside the workspace → smoke runs of the main job and the benchmarks.
# One build serves every step after the tests: the smoke runs use the `pf` binary `cargo test`
# built (target/debug/pf), so nothing is compiled twice.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

started=$(date +%s)
# each step with the minutes since the start, so a slow step shows in CI's log
step() { printf '\n==> [%dm%02ds] %s\n' $(( ($(date +%s) - started) / 60 )) $(( ($(date +%s) - started) % 60 )) "$*"; }

step "libtorch"
PFLOW_PYTHON="$(scripts/setup-libtorch.sh)"
export PFLOW_PYTHON

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (-D warnings)"
cargo clippy --workspace --all-targets -- -D warnings

# each crate on its own (its own dependency features, not the workspace's union): a check finds
# what a build would, and reuses clippy's checked dependencies
for p in pf-build pf-fs pf-core pf-nets pf-train pf-sample pf-viz pf-run pf; do
  step "cargo check -p $p (alone)"
  cargo check -p "$p"
done

# Tests run in parallel threads on 2 cores: one libtorch thread each avoids OpenMP oversubscription
# (which makes small-tensor work 5-20x slower under contention).
export OMP_NUM_THREADS=1

step "single-node Slurm for pf sweep's test (scripts/slurm-up.sh; as root)"
if [[ $(id -u) -eq 0 ]]; then scripts/slurm-up.sh; else echo "not root: the Slurm test skips (fails when CI=true)"; fi

step "cargo test --workspace"
cargo test --workspace
# the binary the tests built, for every step below (no second build)
export PF_BIN="$PWD/target/debug/pf"
test -x "$PF_BIN"

# The main job's smoke run (single-threaded, about 4 minutes) goes on beside the next steps,
# which compile the outside crate on the other core.
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$PF_BIN" info
"$PF_BIN" compare --all --quick --out "$out/compare" --force > "$out/compare.log" 2>&1 &
compare_pid=$!

step "a researcher's crate outside the workspace (examples/ncsn copied, built, run, tested)"
scripts/outside-crate.sh

step "scripts/claim_table.py --self-test (the claim doc's generated verdicts)"
"$PFLOW_PYTHON" scripts/claim_table.py --self-test

step "smoke: the main job in quick mode (pf compare --all --quick, started after the tests)"
if ! wait "$compare_pid"; then
  tail -20 "$out/compare.log"
  echo "pf compare --all --quick failed" >&2
  exit 1
fi
tail -3 "$out/compare.log"
test -s "$out/compare/funnel/report.md" && test -s "$out/compare/funnel/panel.png"
# the leaderboard: every sampler family on all four targets, the exact-field rows on 8 Gaussians
"$PFLOW_PYTHON" scripts/check_leaderboard.py "$out/compare"

step "smoke: benchmark harness (every workload once, tiny sizes, Rust and Python)"
scripts/bench/run.sh --smoke

step "smoke: scripts/gpu-check.sh --dry-run (its CPU-safe parts, tiny sizes)"
GPU_CHECK_COMPARE_CPU="$out/compare/funnel" scripts/gpu-check.sh --dry-run

step "all passed"
