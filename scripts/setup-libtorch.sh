#!/usr/bin/env bash
# Makes the libtorch that pflow links against (PyTorch 2.11.0, tch 0.24) available to cargo.
#
# By default it installs torch==2.11.0 from PyPI into a cached virtualenv outside the repository
# and points the repository's `.libtorch` link at it; `.cargo/config.toml` sets LIBTORCH to that
# link, so plain `cargo build` works from any shell or editor afterwards.
#
#   PFLOW_VENV            where the virtualenv lives
#                         (default: ${XDG_CACHE_HOME:-$HOME/.cache}/pflow/torch-2.11.0)
#   LIBTORCH              a libtorch of the user's own: respected, nothing is installed
#   LIBTORCH_USE_PYTORCH  torch-sys asks python for libtorch: respected, nothing is installed
#                         (the python found first must hold torch 2.11.0)
#
# Idempotent: once the venv holds torch 2.11.0 a call costs about a second.
# The venv also gets what the test-suite and benchmarks use from Python: numpy, scipy,
# safetensors, torchdiffeq. Prints the venv's python on stdout.
set -euo pipefail

TORCH_VERSION="2.11.0"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ -n "${LIBTORCH:-}" ]; then
  if [ ! -f "$LIBTORCH/lib/libtorch.so" ] && [ ! -f "$LIBTORCH/lib/libtorch.dylib" ]; then
    echo "setup-libtorch: LIBTORCH=$LIBTORCH holds no lib/libtorch.so" >&2
    exit 1
  fi
  echo "setup-libtorch: using LIBTORCH=$LIBTORCH" >&2
  command -v python3
  exit 0
fi
if [ -n "${LIBTORCH_USE_PYTORCH+x}" ]; then
  py=python3; [ -n "${VIRTUAL_ENV:-}" ] && py=python
  v=$("$py" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null || true)
  if [ "$v" != "$TORCH_VERSION" ]; then
    echo "setup-libtorch: LIBTORCH_USE_PYTORCH is set but $py has torch '${v:-none}', pflow needs $TORCH_VERSION" >&2
    exit 1
  fi
  echo "setup-libtorch: using the torch of $(command -v "$py")" >&2
  command -v "$py"
  exit 0
fi

venv="${PFLOW_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/pflow/torch-$TORCH_VERSION}"
py="$venv/bin/python"
ready() {
  [ -x "$py" ] && "$py" - "$TORCH_VERSION" <<'PY' 2>/dev/null
import importlib.metadata as m, sys
want = sys.argv[1]
ok = m.version("torch").split("+")[0] == want
for pkg in ("numpy", "scipy", "safetensors", "torchdiffeq"):
    m.version(pkg)
sys.exit(0 if ok else 1)
PY
}
if ! ready; then
  echo "setup-libtorch: installing torch==$TORCH_VERSION into $venv (first time: about a minute, ~4 GB)" >&2
  python3 -m venv "$venv" >&2
  "$py" -m pip install --quiet "torch==$TORCH_VERSION" numpy scipy safetensors torchdiffeq >&2
  ready || { echo "setup-libtorch: torch $TORCH_VERSION did not install into $venv" >&2; exit 1; }
fi
torch_dir="$("$py" -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
ln -sfn "$torch_dir" "$root/.libtorch"
echo "setup-libtorch: .libtorch -> $torch_dir" >&2
echo "$py"
