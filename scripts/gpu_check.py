#!/usr/bin/env python3
"""Scores `pf compare --quick` on a device against the same run on the CPU, and writes the GPU
section of BENCHMARKS.md from the pieces scripts/gpu-check.sh collected.

    gpu_check.py score CPU_DIR DEVICE_DIR          prints the Markdown score table; exit 1 on a miss
    gpu_check.py section OUT.md WORKDIR            splices WORKDIR's pieces into OUT.md

Scoring: the device draws other random numbers than the CPU, so its samples are another draw of
the same methods. Each sampler's energy distance to the reference must be within
max(2 × the CPU's, the CPU's + 0.01) (the quick run's spread between seeds is of that order), its
neck share within 4 binomial standard errors of the CPU's, and no row may be non-finite; the
trained models' final losses within 25 % of the CPU's.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench"))


def score(cpu_dir, dev_dir):
    a = json.load(open(os.path.join(cpu_dir, "metrics.json")))
    b = json.load(open(os.path.join(dev_dir, "metrics.json")))
    lines = [f"| sampler | energy (cpu) | energy ({b['device']}) | neck share (cpu) | neck share ({b['device']}) | non-finite | verdict |",
             "|---|---:|---:|---:|---:|---:|---|"]
    misses = []
    by_label = {s["label"]: s for s in b["samplers"]}
    for s in a["samplers"]:
        d = by_label.get(s["label"])
        if d is None:
            misses.append(s["label"])
            lines.append(f"| {s['label']} | – | missing | – | – | – | **miss** |")
            continue
        ec, ed = s["metrics"]["energy"], d["metrics"]["energy"]
        ok = ed is not None and ed <= max(2 * ec, ec + 0.01)
        nc, nd = s["metrics"].get("neck"), d["metrics"].get("neck")
        if nc and nd:
            se = max(nc["share_se"], nd["share_se"], 1e-3)
            ok = ok and abs(nc["share"] - nd["share"]) <= 4 * se
        nf = d["metrics"]["n_nonfinite"]
        ok = ok and nf == 0
        if not ok:
            misses.append(s["label"])
        f = lambda v: "–" if v is None else f"{v:.3e}"  # noqa: E731
        sh = lambda n: "–" if not n else f"{n['share']:.3f}"  # noqa: E731
        lines.append(f"| {s['label']} | {f(ec)} | {f(ed)} | {sh(nc)} | {sh(nd)} | {nf} | {'ok' if ok else '**miss**'} |")
    lines.append("")
    lines.append("| model | final loss (cpu) | final loss (device) | verdict |")
    lines.append("|---|---:|---:|---|")
    dm = {m["name"]: m for m in b["models"]}
    for m in a["models"]:
        lc, ld = m.get("final_loss"), dm.get(m["name"], {}).get("final_loss")
        ok = lc is not None and ld is not None and abs(ld - lc) <= 0.25 * abs(lc)
        if not ok:
            misses.append(m["name"])
        lines.append(f"| {m['name']} | {lc} | {ld} | {'ok' if ok else '**miss**'} |")
    verdict = "every row scored ok" if not misses else "misses: " + ", ".join(misses)
    return "\n".join(lines) + f"\n\nScore: {verdict}.\n", not misses


def section(out, work):
    from run import splice_section  # noqa: E402  (scripts/bench/run.py)

    def read(name, default="(not run)"):
        p = os.path.join(work, name)
        return open(p).read().rstrip() if os.path.exists(p) else default

    parts = [read("bench.md", "## GPU\n\n(bench not run)"), "",
             "`pf info`:", "", "```", read("info.txt"), "```", "",
             f"Device tests (`PFLOW_TEST_DEVICE`): {read('tests.txt')}", "",
             "`pf compare --quick` on the device, scored against the same run on the CPU "
             "(scripts/gpu_check.py):", "", read("compare.md"), "",
             f"Total time of scripts/gpu-check.sh: {read('elapsed.txt')} s."]
    splice_section(out, "gpu", "\n".join(parts))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "score":
        text, ok = score(sys.argv[2], sys.argv[3])
        print(text)
        return 0 if ok else 1
    if len(sys.argv) == 4 and sys.argv[1] == "section":
        section(sys.argv[2], sys.argv[3])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
