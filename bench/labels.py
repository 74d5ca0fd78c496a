"""Labels never hurt (issue 10): on the pinwheel, a semi-supervised run must not score below the unlabeled run of
the same seed by more than 0.02 ARI, on at least 8 of 10 seeds, for three kinds of labels:
16 per wing (spread over each wing), 16 on 2 wings only, and the app's 10 suggested uncertain points of the unlabeled run
(``uncertain_points``: uncertain and spread out).

Usage: python bench/labels.py [--seeds 0-9]   (runs in-process, one thread, about 4 s per run)
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from vmonf_core.experiments import label_subset, load_data, make_trainer, resolve, score, uncertain_points  # noqa: E402
from vmonf_core.runtime import configure_torch  # noqa: E402


def ari(cfg, data) -> tuple[float, object]:
    res = make_trainer(cfg, data).run()
    return score(res.model, data, with_baselines=False)["ari"], res.model


def uncertain(model, data, m: int = 10) -> np.ndarray:
    """The app's suggestions (10 uncertain points, spread over the boundaries), labeled with their true class."""
    labels = -np.ones(len(data.x), dtype=np.int64)
    idx = uncertain_points(model, data.x, labels, m)
    labels[idx] = data.y[idx]
    return labels


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", default="0-9")
    a, b = (int(v) for v in p.parse_args().seeds.split("-"))
    configure_torch(1)
    rows = []
    for seed in range(a, b + 1):
        cfg = resolve("pinwheel", train={"seed": seed})
        data = load_data(cfg)
        base, model = ari(cfg, data)
        conds = {
            "16 per wing": label_subset(data.y, 16, seed=seed, x=data.x),
            "16 on 2 wings": np.where(np.isin(label_subset(data.y, 16, seed=seed, x=data.x), [0, 1]),
                                      label_subset(data.y, 16, seed=seed, x=data.x), -1),
            "10 uncertain (suggested)": uncertain(model, data),
        }
        row = {"seed": seed, "unlabeled": base}
        for name, labels in conds.items():
            row[name] = ari(cfg, dataclasses.replace(data, labels=labels))[0]
        rows.append(row)
        print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    print("\n| labels | ARI median | seeds not worse than unlabeled by > 0.02 | target |\n|---|---|---|---|")
    print(f"| none | {np.median([r['unlabeled'] for r in rows]):.3f} | - | - |")
    for name in ("16 per wing", "16 on 2 wings", "10 uncertain (suggested)"):
        ok = sum(r[name] >= r["unlabeled"] - 0.02 for r in rows)
        print(f"| {name} | {np.median([r[name] for r in rows]):.3f} | {ok}/{len(rows)} | >= 8/10 |")


if __name__ == "__main__":
    main()
