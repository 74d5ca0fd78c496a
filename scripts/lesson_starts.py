"""Build assets/lesson_starts.json: the two-circles lesson's "Same objective, three starts" panel.

For each start it stores the 10-seed summary of ``docs/sweeps/circles-starts.json`` (made by
``python -m vmonf_core sweep --preset circles --init random,kmeans,spectral,truth --seeds 0-9``, the preset's 4
restarts) and the partition of its most typical run (the seed whose ARI is nearest the median). Every run is rerun
here (the script checks that it reproduces the sweep) to measure how *half-plane-like* its partition is: the share of
training points a straight line (logistic regression on the partition) puts on their component's side. A partition
counts as a half-plane split when that share is at least 0.9.

Usage: python scripts/lesson_starts.py
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ui.lesson import start_config  # noqa: E402
from vmonf_core import previews  # noqa: E402
from vmonf_core.experiments import load_data, resolve, run  # noqa: E402
from vmonf_core.metrics import clustering_metrics, spectral_labels  # noqa: E402
from vmonf_core.runtime import configure_torch  # noqa: E402

STARTS = ("random", "kmeans", "spectral", "truth")
HALF_PLANE = 0.9  # a partition is a half-plane split when a straight line puts this share of points on its side


def half_plane_share(x: np.ndarray, pred: np.ndarray) -> float:
    """The share of points on their component's side of the best straight line (1.0: a clean half-plane cut)."""
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(pred)) < 2:
        return 1.0
    return float(LogisticRegression().fit(x, pred).score(x, pred))


def main() -> None:
    configure_torch(1)
    sweep = json.loads((ROOT / "docs" / "sweeps" / "circles-starts.json").read_text())
    out = {"command": "python -m vmonf_core sweep --preset circles --init random,kmeans,spectral,truth --seeds 0-9",
           "starts": {}}
    for init in STARTS:
        runs = sorted((r for r in sweep if r["init"] == init), key=lambda r: r["seed"])
        aris = [r["ari"] for r in runs]
        med = statistics.median(aris)
        typical = min(runs, key=lambda r: (abs(r["ari"] - med), r["seed"]))
        linear, thumb = [], None
        for r in runs:
            res = run(start_config(init, r["seed"]), with_baselines=False)
            if abs(res.metrics["ari"] - r["ari"]) > 1e-3:
                raise SystemExit(f"{init} seed {r['seed']}: ARI {res.metrics['ari']:.4f}, the sweep has {r['ari']:.4f}")
            linear.append(half_plane_share(res.data.x, res.metrics["predictions"]))
            if r["seed"] == typical["seed"]:
                x = np.vstack([res.data.x, res.data.x_test])
                pv = previews.compute(res.result.model, previews.partition_spec(x, 48, 60), seed=0)
                thumb = {"seed": r["seed"], "ari": res.metrics["ari"], "elbo": res.metrics["elbo"],
                         "gx": pv["grid"]["gx"].round(4).tolist(), "gy": pv["grid"]["gy"].round(4).tolist(),
                         "argmax_q": pv["grid"]["argmax_q"].tolist()}
        print(f"{init:9s} typical seed {typical['seed']}: ARI {typical['ari']:.3f}; half-plane share per seed "
              + " ".join(f"{v:.2f}" for v in linear))
        out["starts"][init] = {
            "runs": len(runs), "median_ari": med, "min_ari": min(aris), "max_ari": max(aris),
            "n_ge_095": sum(a >= 0.95 for a in aris), "median_elbo": statistics.median(r["elbo"] for r in runs),
            "half_plane_share": linear, "n_half_plane": sum(v >= HALF_PLANE for v in linear), "typical": thumb,
        }
    # how well spectral clustering alone recovers the rings on each seed's training points (the spectral start)
    spectral = [clustering_metrics(d.y, spectral_labels(d.x, 2, seed))["ari"]
                for seed in range(10) for d in [load_data(resolve("circles", train={"seed": seed}))]]
    out["starts"]["spectral"]["clustering_ari_min"] = min(spectral)
    print(f"spectral clustering alone: ARI {min(spectral):.3f}-{max(spectral):.3f} over seeds 0-9")
    (ROOT / "assets" / "lesson_starts.json").write_text(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
