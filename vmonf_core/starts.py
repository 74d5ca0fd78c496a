"""Where a run starts: pseudo-labels from a clustering of the data (the init phase fits each component to its
cluster), and their renumbering so that cluster ids agree with the user's labels.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import Tensor

__all__ = ["init_pseudo_labels", "align_to_labels"]


def align_to_labels(pseudo: Tensor, y: Tensor, labeled: Tensor, K: int) -> Tensor:
    """Renumber each restart's pseudo-labels so that cluster ids agree with the user's labels.

    Pseudo-label ids are arbitrary (cluster 0 of spectral clustering need not be class 0), but the labels tie
    class c to component c. Left as they are, the init trains component c on another class's cluster and the
    labeled loss then has to move every component to another cluster. Each restart's clusters are matched to the
    labeled classes (Hungarian, on the labeled points); the unmatched clusters take the unlabeled class ids in order.

    Args:
        pseudo: ``(R, N)`` pseudo-labels; y: ``(N,)`` labels, ``-1`` unlabeled; labeled: indices of labeled points.

    Returns:
        ``(R, N)`` renumbered pseudo-labels.
    """
    from .metrics import matched_columns

    classes = sorted(int(c) for c in torch.unique(y[labeled]).tolist())
    new_ids = classes + [c for c in range(K) if c not in classes]  # labeled classes first, then the free ones
    yl = np.searchsorted(classes, y[labeled].cpu().numpy())
    out = pseudo.clone()
    for r in range(pseudo.shape[0]):
        counts = np.zeros((len(classes), K))
        np.add.at(counts, (yl, pseudo[r, labeled].cpu().numpy()), 1)
        to_class = np.empty(K, dtype=np.int64)
        to_class[matched_columns(counts)] = new_ids  # cluster matched_columns[i] becomes class new_ids[i]
        out[r] = torch.as_tensor(to_class, device=pseudo.device, dtype=pseudo.dtype)[pseudo[r].long()]
    return out


def init_pseudo_labels(x: np.ndarray, K: int, R: int, method: str, seed: int) -> np.ndarray:
    """Pseudo-labels ``(R, N)`` for the init phase, one clustering per restart.

    ``kmeans``: k-means (best of 4) with a different seed per restart, on the data scaled by one global standard
    deviation. ``spectral``: self-tuning spectral clustering on a k-nearest-neighbour graph
    (:func:`~vmonf_core.metrics.spectral_labels`; follows curved, elongated clusters; ``n_neighbors`` varies across
    restarts; k-means above 20,000 points). ``mixed``: even restarts k-means, odd restarts spectral, so the ranking
    of restarts decides between the two kinds of partition. (``truth`` is not a clustering: the trainer tiles the
    true classes.)

    Example:
        >>> init_pseudo_labels(np.r_[np.zeros((5, 2)), np.ones((5, 2))], K=2, R=1, method="kmeans", seed=0).shape
        (1, 10)
    """
    from sklearn.cluster import KMeans

    from .metrics import spectral_labels

    xs = (x - x.mean(0)) / max(float(x.std()), 1e-12)  # one global scale: per-feature scaling would amplify noise features
    labels = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "graph is not fully connected" is expected on well-separated clusters
        for r in range(R):
            spectral = method == "spectral" or (method == "mixed" and r % 2 == 1)
            if spectral and len(xs) <= 20_000:
                labels.append(spectral_labels(x, K, seed + r, 12 + 4 * ((r // (2 if method == "mixed" else 1)) % 4)))
            else:
                labels.append(KMeans(K, n_init=4, random_state=seed + r).fit_predict(xs))
    return np.stack(labels)
