"""The scikit-learn estimator against scikit-learn's clusterers, on bundled real data and synthetic any-D data.

Every dataset is standardised; the estimator gets only ``n_components`` (and ``random_state``), as a new user would
call it. Baselines: k-means (10 inits), GaussianMixture (full covariances, 3 inits) and spectral clustering on a
k-NN graph. "10% labels": the same estimator with one point in ten labeled (stratified), the rest ``-1``; its ARI is
on all points. ARI is the mean over the seeds; ``s`` is the estimator's mean fit time.

Usage: python bench/estimator.py [--seeds 0,1,2] [--datasets iris,wine,...] [--params JSON] [--json out.json]
Targets: issue 23 (README, "Benchmarks").
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn import datasets as skd
from sklearn.cluster import KMeans, SpectralClustering
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from vmonf_core import VariationalFlowMixture  # noqa: E402
from vmonf_core.runtime import provenance  # noqa: E402


def spheres(n: int, seed: int, d: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric noisy spheres in ``d`` dimensions (radii 1 and 3): not separable by any Gaussian split."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    u = rng.normal(size=(n, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    return u * (1 + 2 * y)[:, None] + rng.normal(scale=0.15, size=(n, d)), y


def anisotropic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's anisotropic blobs (its clustering comparison's third row)."""
    x, y = skd.make_blobs(n, centers=3, random_state=170 + seed)
    return x @ np.array([[0.6, -0.6], [-0.4, 0.8]]), y


DATASETS = {
    "iris": lambda s: skd.load_iris(return_X_y=True),
    "wine": lambda s: skd.load_wine(return_X_y=True),
    "breast_cancer": lambda s: skd.load_breast_cancer(return_X_y=True),
    "blobs-5d": lambda s: skd.make_blobs(500, n_features=5, centers=4, random_state=s),
    "anisotropic": lambda s: anisotropic(500, s),
    "moons": lambda s: skd.make_moons(500, noise=0.06, random_state=s),
    "circles": lambda s: skd.make_circles(500, noise=0.05, factor=0.5, random_state=s),
    "spheres-3d": lambda s: spheres(600, s),
}


def some_labels(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """``y`` with all but a stratified ``fraction`` of the points set to -1."""
    rng = np.random.default_rng(seed)
    out = np.full(len(y), -1)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        pick = rng.choice(idx, max(1, int(round(fraction * len(idx)))), replace=False)
        out[pick] = c
    return out


def one(name: str, seed: int, params: dict | None = None) -> dict[str, float]:
    x, y = DATASETS[name](seed)
    x = StandardScaler().fit_transform(x)
    K = len(np.unique(y))
    row: dict[str, float] = {}
    t = time.perf_counter()
    row["vfm"] = adjusted_rand_score(y, VariationalFlowMixture(K, random_state=seed, **(params or {})).fit_predict(x))
    row["s"] = time.perf_counter() - t
    row["vfm_10pct"] = adjusted_rand_score(
        y, VariationalFlowMixture(K, random_state=seed, **(params or {})).fit(x, some_labels(y, 0.1, seed)).predict(x))
    row["kmeans"] = adjusted_rand_score(y, KMeans(K, n_init=10, random_state=seed).fit_predict(x))
    row["gmm"] = adjusted_rand_score(y, GaussianMixture(K, n_init=3, random_state=seed).fit_predict(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "graph is not fully connected" on some seeds
        row["spectral"] = adjusted_rand_score(y, SpectralClustering(K, affinity="nearest_neighbors", n_neighbors=10,
                                                                    random_state=seed).fit_predict(x))
    row.update(n=len(x), d=x.shape[1], K=K)
    return row


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument("--json", default=None)
    p.add_argument("--params", default="{}", help="estimator parameters other than the defaults, as JSON")
    a = p.parse_args()
    seeds = [int(s) for s in a.seeds.split(",")]
    rows = {}
    print("| data | n x d, K | VFM ARI | VFM, 10% labels | k-means | GMM | spectral | VFM fit s |")
    print("|---|---|---|---|---|---|---|---|")
    for name in a.datasets.split(","):
        runs = [one(name, s, json.loads(a.params)) for s in seeds]
        rows[name] = runs
        m = {k: statistics.mean(r[k] for r in runs) for k in ("vfm", "vfm_10pct", "kmeans", "gmm", "spectral", "s")}
        r0 = runs[0]
        print(f"| {name} | {r0['n']} x {r0['d']}, {r0['K']} | {m['vfm']:.3f} | {m['vfm_10pct']:.3f} | {m['kmeans']:.3f} "
              f"| {m['gmm']:.3f} | {m['spectral']:.3f} | {m['s']:.1f} |", flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps({"made_on": provenance(), "seeds": seeds, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
