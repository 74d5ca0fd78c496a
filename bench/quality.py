"""Clustering quality of the 2-D presets over seeds (the issue's targets), with the baselines.

Usage: python bench/quality.py [--presets pinwheel,circles,circles-semi] [--seeds 10] [--recipe default]
Prints one row per preset: ARI per seed, how many reach the target, median training seconds,
and the k-means / GaussianMixture ARI on the same data.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from vmonf_core.experiments import resolve, run  # noqa: E402

TARGETS = {"pinwheel": (">=", 0.95), "circles": ("<=", 0.3), "circles-semi": (">=", 0.95), "moons": (">=", 0.95)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--presets", default="pinwheel,circles,circles-semi")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--recipe", default="default")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    print(f"| preset | recipe | ARI per seed (0..{a.seeds - 1}) | target met | median train s | k-means ARI | GMM ARI |")
    print("|---|---|---|---|---|---|---|")
    for name in a.presets.split(","):
        aris, secs, km, gm = [], [], [], []
        for seed in range(a.seeds):
            out = run(resolve(name, a.recipe, train=dict(seed=seed)))
            m = out.metrics
            aris.append(m["ari"])
            secs.append(m["seconds"])
            km.append(m["baselines"]["kmeans"]["ari"])
            gm.append(m["baselines"]["gmm"]["ari"])
        op, thr = TARGETS.get(name, (">=", 0.9))
        met = sum((v >= thr) if op == ">=" else (v <= thr) for v in aris)
        print(f"| {name} | {a.recipe} | {' '.join(f'{v:.2f}' for v in aris)} | {met}/{a.seeds} (ARI {op} {thr}) "
              f"| {statistics.median(secs):.1f} | {statistics.median(km):.2f} | {statistics.median(gm):.2f} |", flush=True)


if __name__ == "__main__":
    main()
