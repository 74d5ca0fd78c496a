"""MNIST clustering quality of a preset: ACC/NMI/ARI/bits-per-dim of VMoNF vs k-means and GaussianMixture.

Usage: python bench/mnist_quality.py [--preset mnist] [--seeds 0] [--threads 2] [overrides as JSON]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from vmonf_core.experiments import resolve, run  # noqa: E402
from vmonf_core.runtime import configure_torch, provenance  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--preset", default="mnist")
    p.add_argument("--seeds", default="0")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--model", default="{}", help="JSON overrides of the model options")
    p.add_argument("--train", default="{}", help="JSON overrides of the training options")
    p.add_argument("--data", default="{}", help="JSON overrides of the data options")
    a = p.parse_args()
    configure_torch(a.threads)
    for seed in [int(s) for s in a.seeds.split(",")]:
        cfg = resolve(a.preset, data=json.loads(a.data), model=json.loads(a.model), train=dict(json.loads(a.train), seed=seed))
        t = time.perf_counter()
        out = run(cfg, callback=lambda r: print(f"  epoch {r['epoch']}/{r['epochs']} {r['phase']} elbo {r['elbo']:.1f} "
                                                  f"{r['seconds']:.0f}s", file=sys.stderr, flush=True))
        m = out.metrics
        row = {"seed": seed, "acc": round(m["accuracy"], 4), "nmi": round(m["nmi"], 3), "ari": round(m["ari"], 3),
               "bpd": round(m["test_bits_per_dim"], 3), "test_ll": round(m["test_log_likelihood"], 1),
               "best_epoch": m["best_epoch"], "train_s": round(m["seconds"], 1), "wall_s": round(time.perf_counter() - t, 1),
               "made_on": provenance()}
        for b, v in m["baselines"].items():
            row[b] = {"acc": round(v["accuracy"], 3), "nmi": round(v["nmi"], 3), "ari": round(v["ari"], 3),
                      "bpd": round(v.get("test_bits_per_dim", float("nan")), 3), "test_ll": round(v.get("test_log_likelihood", float("nan")), 1)}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
