#!/usr/bin/env bash
# Builds examples/ncsn the way a researcher's own crate is built: copied outside the workspace,
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

cp -r "$root/examples/ncsn" "$tmp/ncsn"
cp "$root/Cargo.lock" "$root/rust-toolchain.toml" "$tmp/ncsn/"
sed -i "s|path = \"../../crates/|path = \"$root/crates/|" "$tmp/ncsn/Cargo.toml"
if grep -q 'path = "\.\./' "$tmp/ncsn/Cargo.toml"; then
  echo "outside-crate: a relative path dependency was left in the copy" >&2
  exit 1
fi

cd "$tmp/ncsn"
# .cargo/config.toml of the checkout does not apply here: name libtorch explicitly
export LIBTORCH="${LIBTORCH:-$root/.libtorch}"
export CARGO_TARGET_DIR="$root/target"
profile=(--config 'profile.dev.opt-level=1' --config 'profile.dev.package."*".opt-level=2')
cargo build --offline "${profile[@]}"

bin="$CARGO_TARGET_DIR/debug/pf-ncsn"
env -u LD_LIBRARY_PATH "$bin" --device cpu run ncsn_8gaussians.toml --quick --out "$tmp/run"
grep -q '"method": "ald"' "$tmp/run/metrics.json"
echo "outside-crate: pf-ncsn trained kind = \"ssm\" and ran method = \"ald\" from outside the workspace"

cargo test --offline "${profile[@]}"
