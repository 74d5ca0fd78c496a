"""Semi-supervised targets in scikit-learn's convention (:mod:`sklearn.semi_supervised`): ``-1`` marks an unlabeled
point, any other value is a class; each class is tied to one component."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np

__all__ = ["encode_labels"]


def encode_labels(y: Any, n_samples: int, n_components: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Semi-supervised targets in scikit-learn's convention (:mod:`sklearn.semi_supervised`): ``-1`` marks an
    unlabeled point; the other values are classes of any type, encoded in sorted order: class ``classes_[j]`` is
    tied to component ``j``.

    A ``y`` without any ``-1`` is not semi-supervision: it is what a clusterer is handed by ``Pipeline.fit(X, y)`` or
    by ``GridSearchCV`` scoring against true classes, and scikit-learn's clusterers ignore it. So does this one.

    Returns ``(labels, classes)``: int64 ``(N,)`` with ``-1`` kept, and the classes; ``(None, None)`` when ``y`` is
    ignored or no point is labeled.

    Example:
        >>> labels, classes = encode_labels(np.array([-1, 7, 3, 7]), 4, 2)
        >>> labels.tolist(), classes.tolist()
        ([-1, 1, 0, 1], [3, 7])
        >>> encode_labels(np.array([0, 1, 2, 1]), 4, 2)  # every point labeled: ignored, as by KMeans
        (None, None)
    """
    if y is None:
        return None, None
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape != (n_samples,):
        raise ValueError(f"y must have shape ({n_samples},), got {y.shape}")
    unlabeled = np.array([_is_unlabeled(v) for v in y.tolist()], dtype=bool)
    if unlabeled.all() or not unlabeled.any():
        return None, None
    classes, codes = np.unique(y[~unlabeled], return_inverse=True)
    if len(classes) > n_components:
        raise ValueError(f"y holds {len(classes)} classes but n_components = {n_components}: each class is tied "
                         "to one component, so n_components must be at least the number of classes")
    labels = np.full(n_samples, -1, dtype=np.int64)
    labels[~unlabeled] = codes
    return labels, classes


def _is_unlabeled(v: Any) -> bool:
    return isinstance(v, Integral | Real) and not isinstance(v, bool) and v == -1
