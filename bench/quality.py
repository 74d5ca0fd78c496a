"""Clustering quality of the 2-D presets over seeds (the issues' targets), run as one sweep on the Dask engine.

Usage: python bench/quality.py [--presets pinwheel,circles,circles-semi] [--seeds 10] [--recipe default] [--scheduler ADDR]
Prints one row per preset: ARI per seed, how many reach the target, the median training seconds and ELBO.
The same sweeps from the command line: python -m vmonf_core sweep --preset NAME --seeds 0-9 --out DIR
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from vmonf_core.engine import Engine, settings_from_env, sweep_configs  # noqa: E402

TARGETS = {"pinwheel": (">=", 0.95), "circles": ("<=", 0.3), "circles-semi": (">=", 0.95), "moons": (">=", 0.95)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--presets", default="pinwheel,circles,circles-semi")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--recipe", default="default")
    p.add_argument("--scheduler", default=None)
    a = p.parse_args()
    settings = settings_from_env({"VMONF_SCHEDULER": a.scheduler} if a.scheduler else None)
    eng = Engine(settings)
    print(f"| preset | recipe | ARI per seed (0..{a.seeds - 1}) | target met | median train s | median ELBO |")
    print("|---|---|---|---|---|---|")
    try:
        for name in a.presets.split(","):
            recs = sorted(eng.sweep(sweep_configs(name, range(a.seeds), recipe=a.recipe)), key=lambda r: r["seed"])
            aris = [r["ari"] for r in recs]
            op, thr = TARGETS.get(name, (">=", 0.9))
            met = sum((v >= thr) if op == ">=" else (v <= thr) for v in aris)
            print(f"| {name} | {a.recipe} | {' '.join(f'{v:.2f}' for v in aris)} | {met}/{a.seeds} (ARI {op} {thr}) "
                  f"| {statistics.median(r['seconds'] for r in recs):.1f} | {statistics.median(r['elbo'] for r in recs):.3f} |",
                  flush=True)
    finally:
        eng.close()


if __name__ == "__main__":
    main()
