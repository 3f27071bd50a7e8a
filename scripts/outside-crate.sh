#!/usr/bin/env bash
# Builds examples/baoab the way a researcher's own crate is built: copied outside the workspace,
# its path dependencies pointed at this checkout. Then runs its binary without LD_LIBRARY_PATH
# (pf-build's rpath must find libtorch) and runs its tests.
#
# The copy shares this checkout's target directory and lock file, and gets the workspace's dev
# profile on the command line (profiles of a workspace do not apply outside it), so registry
# crates built by the workspace are reused.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cp -r "$root/examples/baoab" "$tmp/baoab"
cp "$root/Cargo.lock" "$root/rust-toolchain.toml" "$tmp/baoab/"
sed -i "s|path = \"../../crates/|path = \"$root/crates/|" "$tmp/baoab/Cargo.toml"
if grep -q 'path = "\.\./' "$tmp/baoab/Cargo.toml"; then
  echo "outside-crate: a relative path dependency was left in the copy" >&2
  exit 1
fi

cd "$tmp/baoab"
# .cargo/config.toml of the checkout does not apply here: name libtorch explicitly
export LIBTORCH="${LIBTORCH:-$root/.libtorch}"
export CARGO_TARGET_DIR="$root/target"
profile=(--config 'profile.dev.opt-level=1' --config 'profile.dev.package."*".opt-level=2')
cargo build --offline "${profile[@]}"

bin="$CARGO_TARGET_DIR/debug/pf-baoab"
env -u LD_LIBRARY_PATH "$bin" --device cpu run baoab_ring.toml --quick --out "$tmp/run"
grep -q '"method": "baoab"' "$tmp/run/metrics.json"
echo "outside-crate: pf-baoab ran method = \"baoab\" from outside the workspace"

cargo test --offline "${profile[@]}"
