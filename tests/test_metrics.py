"""Metrics and baselines."""

import numpy as np
import pytest

from vmonf_core.metrics import baselines, clustering_metrics, contingency, hungarian_accuracy, kmeans_log_likelihood


def test_hungarian_accuracy_is_permutation_invariant():
    y = np.array([0, 0, 1, 1, 2, 2])
    assert hungarian_accuracy(y, np.array([2, 2, 0, 0, 1, 1])) == 1.0
    assert hungarian_accuracy(y, np.array([2, 2, 0, 1, 1, 1])) == pytest.approx(5 / 6)


def test_clustering_metrics_perfect_and_random():
    y = np.repeat(np.arange(4), 50)
    m = clustering_metrics(y, (y + 1) % 4)
    assert m == {"ari": 1.0, "nmi": 1.0, "accuracy": 1.0}
    r = clustering_metrics(y, np.random.default_rng(0).integers(0, 4, 200))
    assert abs(r["ari"]) < 0.1


def test_contingency_rows_sum_to_one():
    y = np.array([3, 3, 4, 4, 4])
    t, classes = contingency(y, np.array([0, 1, 1, 1, 0]), n_clusters=3)
    assert classes.tolist() == [3, 4] and t.shape == (2, 3)
    np.testing.assert_allclose(t.sum(1), 1)
    np.testing.assert_allclose(t[1], [1 / 3, 2 / 3, 0])


def test_kmeans_density_integrates_to_one():
    from sklearn.cluster import KMeans

    x = np.random.default_rng(0).standard_normal((200, 2))
    km = KMeans(3, n_init=2, random_state=0).fit(x)
    g = np.linspace(-8, 8, 301)
    pts = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    mass = np.exp(kmeans_log_likelihood(km, x, pts)).sum() * (g[1] - g[0]) ** 2
    assert abs(mass - 1) < 0.01


def test_baselines_report_the_same_metrics():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 100)
    x = np.array([[-2.0, 0], [2.0, 0]])[y] + 0.3 * rng.standard_normal((200, 2))
    b = baselines(x, y, 2, x_test=x[:20])
    for name in ("kmeans", "gmm"):
        assert b[name]["ari"] == 1.0
        assert np.isfinite(b[name]["test_log_likelihood"])


def test_self_tuning_spectral_separates_the_wings_where_a_plain_knn_graph_does_not():
    """Local scales keep the pinwheel's wings apart at the centre, where they meet (Zelnik-Manor & Perona 2004)."""
    from sklearn.cluster import SpectralClustering

    from vmonf_core.datasets import make_toy
    from vmonf_core.metrics import spectral_labels

    x, y = make_toy("pinwheel", n=800, seed=3)
    plain = SpectralClustering(5, affinity="nearest_neighbors", n_neighbors=16, random_state=0,
                               assign_labels="cluster_qr").fit_predict((x - x.mean(0)) / x.std())
    tuned = spectral_labels(x, 5, seed=0)
    assert clustering_metrics(y, tuned)["ari"] >= 0.97
    assert clustering_metrics(y, plain)["ari"] < 0.9  # the unweighted graph merges wings where they meet
    for name in ("circles", "moons"):  # the rings and the moons, as before
        x, y = make_toy(name, n=600, seed=1)
        assert clustering_metrics(y, spectral_labels(x, 2, seed=1))["ari"] >= 0.99
