#!/usr/bin/env bash
# One check of pflow on a CUDA machine (under 8 minutes on one GPU), and its CPU-safe rehearsal.
#
#   scripts/gpu-check.sh             on the GPU machine: writes BENCHMARKS.md's GPU section
#   scripts/gpu-check.sh --dry-run   anywhere (CI): prints the plan and runs every step on the
#                                    CPU at tiny sizes; writes only under target/gpu-check/
#
# Steps: 1. `pf info`; 2. the device tests (oracle samplers, likelihood, trainer and resume) with
# PFLOW_TEST_DEVICE=cuda; 3. `pf compare --quick` on the device, scored against the same run on the
# CPU (scripts/gpu_check.py: energy distance, neck share, final losses); 4. every bench workload on
# the device beside the Python reference on the device (scripts/bench/run.py --gpu-table).
# Environment: PF_BIN (a pf binary), PFLOW_PYTHON, GPU_CHECK_ROUNDS (default 1),
# GPU_CHECK_COMPARE_CPU (a finished `pf compare --quick` directory on the CPU, reused as the CPU
# side of step 3).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$(date +%s)
dry=0
[ "${1:-}" = "--dry-run" ] && dry=1
py="${PFLOW_PYTHON:-$(scripts/setup-libtorch.sh)}"
work=target/gpu-check
rm -rf "$work" && mkdir -p "$work"
if [ "$dry" = 1 ]; then
  dev=cpu; out="$work/BENCHMARKS.md"; cp BENCHMARKS.md "$out"; smoke=(--smoke); profile=debug
  only=(--only langevin-funnel,sgemm)  # the path, not the numbers: two quick workloads
else
  dev=cuda; out=BENCHMARKS.md; smoke=(); profile=release; only=()
fi
echo "gpu-check plan (device $dev$([ "$dry" = 1 ] && echo ', dry run: tiny sizes, output in target/gpu-check')):"
echo "  1. pf info   2. device tests   3. pf compare --quick on $dev, scored against the CPU"
echo "  4. every bench workload on $dev, Rust and Python   5. the GPU section of $out"

if [ -n "${PF_BIN:-}" ]; then pf="$PF_BIN"
elif [ "$profile" = release ]; then cargo build -q --release -p pf; pf=target/release/pf
else cargo build -q -p pf; pf=target/debug/pf; fi

echo "==> 1. pf info"
"$pf" --device "$dev" info | tee "$work/info.txt"

echo "==> 2. device tests (PFLOW_TEST_DEVICE=$dev)"
# --workspace: the same features as `cargo test --workspace`, so CI reuses its build
tests=(--workspace --test oracle_samplers --test likelihood)
if [ "$dry" = 1 ]; then
  # CI runs these tests on the CPU already: here only check that they build and are listed
  PFLOW_TEST_DEVICE=$dev cargo test -q "${tests[@]}" -- --list > "$work/tests.log" 2>&1
  PFLOW_TEST_DEVICE=$dev cargo test -q --workspace --test trainer -- --list >> "$work/tests.log" 2>&1
  echo "listed $(grep -c ': test$' "$work/tests.log") tests (dry run: not run)" | tee "$work/tests.txt"
else
  if PFLOW_TEST_DEVICE=$dev cargo test "${tests[@]}" > "$work/tests.log" 2>&1 &&
     PFLOW_TEST_DEVICE=$dev cargo test --workspace --test trainer >> "$work/tests.log" 2>&1; then
    echo "all passed ($(grep -h '^test result' "$work/tests.log" | awk '{s+=$4} END {print s}') tests)" | tee "$work/tests.txt"
  else
    echo "**FAILED** (see target/gpu-check/tests.log): $(grep -h -- '--- \|FAILED' "$work/tests.log" | head -5 | tr '\n' ' ')" | tee "$work/tests.txt"
  fi
fi

echo "==> 3. pf compare --quick on $dev, scored against the CPU"
cpu_dir="${GPU_CHECK_COMPARE_CPU:-}"
if [ -z "$cpu_dir" ]; then
  cpu_dir="$work/compare-cpu"
  "$pf" --device cpu compare --quick --out "$cpu_dir" --force > "$work/compare-cpu.log" 2>&1
fi
if [ "$dry" = 1 ] && [ -n "${GPU_CHECK_COMPARE_CPU:-}" ]; then
  dev_dir="$cpu_dir"  # the dry run scores the CPU run against itself
else
  dev_dir="$work/compare-$dev"
  "$pf" --device "$dev" compare --quick --out "$dev_dir" --force > "$work/compare-$dev.log" 2>&1
fi
"$py" scripts/gpu_check.py score "$cpu_dir" "$dev_dir" | tee "$work/compare.md" || true

echo "==> 4. bench workloads on $dev (Rust and Python)"
"$py" scripts/bench/run.py --pf "$pf" --python "$py" --device "$dev" "${smoke[@]}" \
  "${only[@]}" --rounds "${GPU_CHECK_ROUNDS:-1}" --gpu-table "$work/bench.md" --log "$work/bench.log"

echo "$(( $(date +%s) - start ))" > "$work/elapsed.txt"
"$py" scripts/gpu_check.py section "$out" "$work"
echo "==> wrote the GPU section of $out in $(cat "$work/elapsed.txt") s"
