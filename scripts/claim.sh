#!/usr/bin/env bash
# Regenerates docs/monoflow_claim.md: seed 000's claim ("plain Langevin never reaches the
# funnel's neck, the particle flow does") measured on both funnels.
#   scripts/claim.sh [--quick]   (extra arguments go to `pf run`)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup-libtorch.sh >/dev/null
cargo build --release -p pf
out="${CLAIM_OUT:-runs/claim}"
for c in claim_funnel claim_neal; do
  target/release/pf --device cpu run "configs/$c.toml" --out "$out/$c" --force "$@"
done
python3 scripts/claim_table.py "$out" > docs/monoflow_claim.md.tmp
mv docs/monoflow_claim.md.tmp docs/monoflow_claim.md
echo "wrote docs/monoflow_claim.md"
