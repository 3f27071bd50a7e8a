"""Assembles docs/monoflow_claim.md from the metrics.json of the two claim runs."""
import json
import platform
import sys
from pathlib import Path

out = Path(sys.argv[1])
rows = []
for name, title in [("claim_funnel", "seed 001's funnel"), ("claim_neal", "Neal's funnel (2-D)")]:
    m = json.loads((out / name / "metrics.json").read_text())
    rows.append((title, m))

print("# Does plain Langevin reach the funnel's neck? (seed 000's claim, measured)\n")
print(
    "Seed 000 says plain Langevin dynamics never reaches the bottom of the funnel while the MonoFlow "
    "particle flow does. Below, every method's final particles are compared with fresh samples of the "
    "true target. **Neck share** is the fraction of particles below the true 5 % quantile of the neck "
    "variable (correct value 0.05, ± its binomial standard error); **neck x std** is the spread of the "
    "other coordinate among those particles against its true value; **energy distance** is against "
    f"{rows[0][1]['reference']} reference samples (0 for a perfect sampler, up to noise).\n"
)
print("Regenerate: `scripts/claim.sh` (configs `configs/claim_funnel.toml`, `configs/claim_neal.toml`, seed 0, CPU).\n")
for title, m in rows:
    print(f"## {title}\n")
    print("| method | particles | budget | neck share (true 0.05) | neck x std (true) | energy distance | wall s |")
    print("|---|---|---|---|---|---|---|")
    for s in m["samplers"]:
        k = s["metrics"]["neck"]
        share = f"{k['share']:.3f} ± {k['share_se']:.3f}"
        xs = "–" if k["x_std"] is None else f"{k['x_std']:.3f}"
        if s["method"] == "ula":
            budget = f"{s['nfe']} steps"
        elif s["method"] == "mala":
            budget = f"{s['nfe'] // 2} steps (acc. {s['acceptance']:.2f})"
        elif s["method"] == "monoflow":
            budget = f"{s['nfe']} iterations"
        else:
            budget = f"{s['nfe']} NFE"
        print(
            f"| {s['label']} | {s['particles']} | {budget} | {share} | {xs} ({k['x_std_target']:.3f}) "
            f"| {s['metrics']['energy']:.2e} | {s['wall_s']:.1f} |"
        )
    for md in m["models"]:
        print(f"\nThe VP score model `{md['name']}` trained {md['steps']} steps in {md['wall_s']:.0f} s (not included in the PF-ODE wall time).")
    print()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
print(f"Machine: {cpu}; libtorch threads: {rows[0][1].get('threads', '?')}; device: {rows[0][1]['device']}.\n")
print("## What the numbers say\n")
print(open(Path(__file__).with_name("claim_reading.md")).read().strip())
