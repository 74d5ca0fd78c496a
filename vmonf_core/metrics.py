"""Clustering metrics and the k-means / GaussianMixture baselines."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sklearn.cluster import KMeans

# scipy and scikit-learn (about 1.8 s to import on 2 cores) load inside the functions that use them: the app's pages
# import this module through the service layer long before anything is scored.

__all__ = [
    "hungarian_accuracy",
    "contingency",
    "clustering_metrics",
    "kmeans_baseline",
    "gmm_baseline",
    "baselines",
    "kmeans_log_likelihood",
    "half_plane_share",
    "partition_kind",
]


def _labels(a: Any) -> np.ndarray:
    return np.asarray(a).astype(np.int64).ravel()


def contingency(y_true: Any, y_pred: Any, n_clusters: int | None = None, normalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Contingency table, rows = true classes (sorted), columns = clusters ``0..K-1``.

    With ``normalize`` each row sums to 1, like the thesis's Table 5.1.

    Returns:
        ``(table, classes)``.
    """
    y_true, y_pred = _labels(y_true), _labels(y_pred)
    classes = np.unique(y_true)
    K = int(max(n_clusters or 0, y_pred.max() + 1 if y_pred.size else 0))
    table = np.zeros((len(classes), K))
    np.add.at(table, (np.searchsorted(classes, y_true), y_pred), 1)
    if normalize:
        table = table / np.maximum(table.sum(1, keepdims=True), 1)
    return table, classes


def matched_columns(table: np.ndarray) -> np.ndarray:
    """For a ``(rows, columns)`` count table with rows <= columns: the column matched to each row by the
    Hungarian algorithm (maximising the matched total), then the unmatched columns in increasing order.

    Example:
        >>> matched_columns(np.array([[0, 5, 1], [4, 0, 0]])).tolist()
        [1, 0, 2]
    """
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(-np.asarray(table))
    order = [int(c) for c in cols[np.argsort(rows)]]
    return np.array(order + [k for k in range(np.shape(table)[1]) if k not in order])


def hungarian_accuracy(y_true: Any, y_pred: Any) -> float:
    """Accuracy under the best one-to-one matching of clusters to classes."""
    from scipy.optimize import linear_sum_assignment

    table, _ = contingency(y_true, y_pred, normalize=False)
    rows, cols = linear_sum_assignment(-table)
    return float(table[rows, cols].sum() / max(len(_labels(y_true)), 1))


def clustering_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """ARI, NMI and Hungarian accuracy."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    y_true, y_pred = _labels(y_true), _labels(y_pred)
    return {
        "ari": float(adjusted_rand_score(y_true, y_pred)),
        "nmi": float(normalized_mutual_info_score(y_true, y_pred)),
        "accuracy": hungarian_accuracy(y_true, y_pred),
    }


HALF_PLANE_SHARE = 0.9  # a partition is a half-plane split when one straight line puts this share on its side
RINGS_ARI = 0.5  # a two-circles partition follows the rings when its ARI against them is at least this


def warm_imports() -> None:
    """Import the scipy and scikit-learn modules this module uses (about 1.8 s on 2 cores), e.g. when a worker starts."""
    import scipy.optimize  # noqa: F401
    import scipy.special  # noqa: F401
    import sklearn.cluster  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import sklearn.mixture  # noqa: F401
    import sklearn.neighbors  # noqa: F401


def half_plane_share(x: np.ndarray, pred: Any) -> float:
    """The share of points on their cluster's side of the best straight line (logistic regression on the partition).

    1.0 is a clean half-plane cut; two concentric rings score about 0.5.

    Example:
        >>> x = np.array([[-1.0, 0.0], [-2.0, 1.0], [1.0, 0.0], [2.0, -1.0]])
        >>> half_plane_share(x, [0, 0, 1, 1])
        1.0
    """
    from sklearn.linear_model import LogisticRegression

    pred = _labels(pred)
    if len(np.unique(pred)) < 2:
        return 1.0
    return float(LogisticRegression().fit(x, pred).score(x, pred))


def partition_kind(x: np.ndarray, pred: Any, y_true: Any) -> str:
    """The outcome of a two-cluster run, in words: ``"rings"``, ``"half-plane"`` or ``"other"``.

    ``"rings"`` when the partition agrees with the true classes (ARI >= ``RINGS_ARI``), ``"half-plane"`` when a
    straight line explains it (:func:`half_plane_share` >= ``HALF_PLANE_SHARE``), ``"other"`` otherwise. This is what
    a rerun on another CPU reproduces: the exact ARI and ELBO depend on the floating-point kernels.

    Example:
        >>> x = np.array([[-1.0, 0.0], [-2.0, 1.0], [1.0, 0.0], [2.0, -1.0]])
        >>> partition_kind(x, [0, 0, 1, 1], [0, 1, 0, 1])
        'half-plane'
    """
    from sklearn.metrics import adjusted_rand_score

    if adjusted_rand_score(_labels(y_true), _labels(pred)) >= RINGS_ARI:
        return "rings"
    return "half-plane" if half_plane_share(x, pred) >= HALF_PLANE_SHARE else "other"


def kmeans_log_likelihood(km: KMeans, x_fit: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per-point log-likelihood of k-means read as a density.

    k-means has no density of its own; we score it as the mixture it implies: weights
    = cluster proportions, isotropic Gaussians at the centroids with one shared
    variance = the mean squared distance per dimension on the fitting data.
    """
    from scipy.special import logsumexp

    labels = km.predict(x_fit)
    K, D = km.cluster_centers_.shape
    var = max(float(((x_fit - km.cluster_centers_[labels]) ** 2).sum(1).mean() / D), 1e-12)
    w = np.bincount(labels, minlength=K) / len(labels)
    d2 = ((x[:, None, :] - km.cluster_centers_[None]) ** 2).sum(-1)
    with np.errstate(divide="ignore"):
        comp = np.log(w)[None] - 0.5 * d2 / var - 0.5 * D * np.log(2 * np.pi * var)
    return logsumexp(comp, axis=1)


def kmeans_baseline(x: np.ndarray, K: int, seed: int = 0, x_test: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Fit k-means; returns labels of ``x`` and a dict with the model and held-out log-likelihood."""
    from sklearn.cluster import KMeans

    km = KMeans(K, n_init=10, random_state=seed).fit(x)
    out: dict[str, Any] = {"model": km}
    if x_test is not None and len(x_test):
        out["test_log_likelihood"] = float(kmeans_log_likelihood(km, x, x_test).mean())
    return km.labels_, out


def spectral_labels(x: np.ndarray, K: int, seed: int = 0, n_neighbors: int = 16, scale_neighbor: int = 7) -> np.ndarray:
    """Self-tuning spectral clustering on a k-nearest-neighbour graph of ``x`` (one global scale).

    The affinity of neighbours ``i`` and ``j`` uses a local scale per point (Zelnik-Manor & Perona 2004)::

        W_ij = exp(-d(x_i, x_j)^2 / (s_i s_j)),   s_i = distance from x_i to its ``scale_neighbor``-th neighbour,

    kept for the ``n_neighbors`` nearest neighbours and symmetrised (the larger of ``W_ij`` and ``W_ji``). Where clusters
    meet in a dense region (the pinwheel's centre) the small local scales keep them apart; in sparse tails the large
    ones keep a cluster connected. The embedding is that of Ng, Jordan & Weiss (2001), labelled by scikit-learn's
    ``SpectralClustering(affinity="precomputed", assign_labels="cluster_qr")`` (Damle et al. 2019). Used as a
    training start (``init="spectral"``) and as a baseline. The local scales let it follow thin, curved clusters such
    as the pinwheel's wings, where an unweighted k-NN graph does not (measured: README, "Pinwheel reliability").

    Example:
        >>> from vmonf_core.datasets import make_toy
        >>> x, y = make_toy("circles", n=400, seed=0)
        >>> labels = spectral_labels(x, 2)
    """
    import warnings

    from scipy import sparse
    from sklearn.cluster import SpectralClustering
    from sklearn.neighbors import NearestNeighbors

    xs = (x - x.mean(0)) / max(float(x.std()), 1e-12)  # one global scale: per-feature scaling would amplify noise features
    n = len(xs)
    nn = int(min(n - 1, max(n_neighbors, scale_neighbor)))
    dist, idx = NearestNeighbors(n_neighbors=nn + 1).fit(xs).kneighbors(xs)  # column 0 is the point itself
    scale = np.maximum(dist[:, min(scale_neighbor, nn)], 1e-12)
    rows = np.repeat(np.arange(n), nn)
    cols = idx[:, 1:].ravel()
    w = np.exp(-dist[:, 1:].ravel() ** 2 / (scale[rows] * scale[cols]))
    W = sparse.csr_matrix((w, (rows, cols)), shape=(n, n))
    W = W.maximum(W.T)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "graph is not fully connected" is expected on well-separated clusters
        return SpectralClustering(K, affinity="precomputed", random_state=seed,
                                  assign_labels="cluster_qr").fit_predict(W)


SPECTRAL_MAX_POINTS = 5000  # the baseline's k-NN graph and eigenvectors stay cheap up to here


def spectral_baseline(x: np.ndarray, K: int, seed: int = 0, x_test: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Spectral clustering as a baseline (no density, so no held-out log-likelihood)."""
    return spectral_labels(x, K, seed), {}


def gmm_baseline(
    x: np.ndarray, K: int, seed: int = 0, x_test: np.ndarray | None = None, covariance_type: str = "full"
) -> tuple[np.ndarray, dict[str, Any]]:
    """Fit a GaussianMixture; returns labels of ``x`` and a dict with the model and held-out log-likelihood."""
    from sklearn.mixture import GaussianMixture

    gmm = GaussianMixture(K, covariance_type=covariance_type, n_init=3, random_state=seed, reg_covar=1e-4).fit(x)
    out: dict[str, Any] = {"model": gmm}
    if x_test is not None and len(x_test):
        out["test_log_likelihood"] = float(gmm.score_samples(x_test).mean())
    return gmm.predict(x), out


def baselines(
    x: np.ndarray, y: np.ndarray | None, K: int, seed: int = 0, x_test: np.ndarray | None = None,
    covariance_type: str = "full",
) -> dict[str, dict[str, Any]]:
    """k-means, GaussianMixture and (up to ``SPECTRAL_MAX_POINTS`` points) spectral clustering on the same data,
    with the same metrics as VMoNF.

    Returns:
        ``{"kmeans": {...}, "gmm": {...}, "spectral": {...}}``, each with ``labels`` and, when ``y`` is
        given, ``ari``/``nmi``/``accuracy``, plus ``test_log_likelihood`` with ``x_test`` (not for spectral).
    """
    res: dict[str, dict[str, Any]] = {}
    methods = [("kmeans", kmeans_baseline, {}), ("gmm", gmm_baseline, {"covariance_type": covariance_type})]
    if len(x) <= SPECTRAL_MAX_POINTS:
        methods.append(("spectral", spectral_baseline, {}))
    for name, fn, kw in methods:
        labels, info = fn(x, K, seed=seed, x_test=x_test, **kw)
        entry = {"labels": labels, **info}
        if y is not None:
            entry.update(clustering_metrics(y, labels))
        res[name] = entry
    return res
