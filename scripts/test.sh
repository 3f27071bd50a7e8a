#!/usr/bin/env bash
# pflow's whole test suite, as CI runs it (.ci/run calls exactly this).
#   libtorch setup → fmt → clippy → each crate built on its own → all tests → smoke run of the
#   main job in quick mode.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

step "libtorch"
PFLOW_PYTHON="$(scripts/setup-libtorch.sh)"
export PFLOW_PYTHON

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (-D warnings)"
cargo clippy --workspace --all-targets -- -D warnings

for p in pf-core pf-nets pf-train pf-sample pf-viz pf; do
  step "cargo build -p $p (alone)"
  cargo build -p "$p"
done

# Tests run in parallel threads on 2 cores: one libtorch thread each avoids OpenMP oversubscription
# (which makes small-tensor work 5-20x slower under contention).
export OMP_NUM_THREADS=1

step "cargo test --workspace"
cargo test --workspace

step "smoke: the main job in quick mode"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cargo run -p pf -- info
cargo run -p pf -- compare --quick --out "$out/compare" --force
test -s "$out/compare/report.md" && test -s "$out/compare/panel.png"

step "smoke: benchmark harness (every workload once, tiny sizes, Rust and Python)"
scripts/bench/run.sh --smoke

step "smoke: scripts/gpu-check.sh --dry-run (its CPU-safe parts, tiny sizes)"
GPU_CHECK_COMPARE_CPU="$out/compare" scripts/gpu-check.sh --dry-run
