#!/usr/bin/python3
"""side_by_side: emocam's nn against its PyTorch twin, in one run.

The machine is shared, so a single pair of runs can differ by 2x for reasons
that have nothing to do with either program. This alternates the two
(bench_nn, then torch_twin.py, then bench_nn ...) for several rounds on the
same architecture file and thread count, and prints each figure's median
over the rounds and the ratio emocam / PyTorch (higher is better for emocam:
latency ratios are inverted).

usage: tests/bench/side_by_side.py BENCH_NN FILE.arch [--threads N] [--rounds R]
  BENCH_NN: the bench_nn binary of a build (build/tests/bench_nn)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIGURES = [("infer_b1_ms", "batch-1 inference, ms", False),
           ("infer_b256_images_per_s", "batch-256 inference, images/s", True),
           ("train_b64_images_per_s", "training at batch 64, images/s", True)]


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bench_nn")
    ap.add_argument("arch")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5, help="repeats inside each program run")
    a = ap.parse_args()
    common = [a.arch, "--threads", str(a.threads), "--repeats", str(a.repeats)]
    ours = [a.bench_nn] + common
    theirs = [sys.executable, os.path.join(HERE, "torch_twin.py")] + common
    rows = {"emocam": [], "torch": []}
    for r in range(a.rounds):
        rows["emocam"].append(run(ours))
        rows["torch"].append(run(theirs))
        print(f"round {r + 1}/{a.rounds}: " + "  ".join(
            f"{k} train {rows[k][-1]['train_b64_images_per_s']:.1f}" for k in rows), file=sys.stderr)
    impl = rows["torch"][0]["impl"]
    print(f"{os.path.basename(a.arch)}, {a.threads} thread(s), medians of {a.rounds} alternating rounds "
          f"(emocam vs {impl}):")
    result = {"arch": a.arch, "threads": a.threads, "rounds": a.rounds, "torch": impl}
    for key, label, higher_better in FIGURES:
        e = statistics.median(x[key] for x in rows["emocam"])
        t = statistics.median(x[key] for x in rows["torch"])
        ratio = e / t if higher_better else t / e
        print(f"  {label:32s} emocam {e:9.3f}   PyTorch {t:9.3f}   emocam advantage {ratio:5.2f}x")
        result[key] = {"emocam": e, "torch": t, "advantage": round(ratio, 3)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
