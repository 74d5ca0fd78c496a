"""Training: ELBO goes up, stop/resume, non-finite handling, semi-supervision, restarts, quality."""

import threading

import numpy as np
import pytest
import torch

from vmonf_core import TrainConfig, Trainer, TrainingError, fit
from vmonf_core.train_config import validate_data

SMALL = dict(dim=2, n_components=3, flow="realnvp", depth=2, hidden=16, posterior_hidden=[16])


def _blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centres = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, 1.5]])
    return centres[y] + 0.2 * rng.standard_normal((n, 2)), y


def test_elbo_improves_and_history_is_complete():
    x, _ = _blobs()
    seen = []
    res = fit(SMALL, x, config=dict(epochs=6, batch_size=64, lr=1e-2, dtype="float64"), callback=seen.append)
    assert len(seen) == 6 == len(res.history)
    first, last = res.history[0], res.history[-1]
    assert last["elbo"] > first["elbo"]
    for key in ("epoch", "step", "elbo", "expected_log_likelihood", "prior_cross_entropy", "entropy", "temperature",
                "seconds", "log_px", "eta", "phase"):
        assert key in last
    assert last["temperature"] < first["temperature"] <= 1.0
    assert last["log_px"] >= last["elbo"] - 1e-9  # the ELBO is a lower bound


def test_callback_can_cancel_and_run_resumes():
    x, _ = _blobs()
    tr = Trainer(SMALL, x, config=dict(epochs=6, batch_size=64, dtype="float64"))
    res = tr.run(callback=lambda r: r["epoch"] < 2)
    assert res.stopped and tr.epoch == 2
    res = tr.run()
    assert not res.stopped and tr.epoch == 6
    assert [h["epoch"] for h in res.history] == list(range(1, 7))


def test_stop_event_stops_within_an_epoch():
    x, _ = _blobs(3000)
    ev = threading.Event()
    ev.set()
    tr = Trainer(SMALL, x, config=dict(epochs=50, batch_size=16))
    res = tr.run(stop_event=ev)
    assert res.stopped and tr.epoch == 0 and tr.step == 0


def test_nonfinite_steps_are_skipped_and_counted(monkeypatch):
    x, _ = _blobs()
    tr = Trainer(SMALL, x, config=dict(epochs=2, batch_size=50))
    real = tr._elbo_loss
    calls = {"n": 0}

    def flaky(xb):
        calls["n"] += 1
        loss = real(xb)
        return loss * float("nan") if calls["n"] % 3 == 0 else loss

    monkeypatch.setattr(tr, "_elbo_loss", flaky)
    res = tr.run()
    assert res.nonfinite_steps == calls["n"] // 3 > 0
    assert all(torch.isfinite(p).all() for p in tr.model.parameters())


def test_nonfinite_gradients_are_skipped(monkeypatch):
    x, _ = _blobs()
    tr = Trainer(SMALL, x, config=dict(epochs=1, batch_size=100))
    p0 = next(iter(tr.model.posterior_net.parameters()))
    hook = p0.register_hook(lambda g: g * float("inf"))
    before = {k: v.clone() for k, v in tr.model.state_dict().items()}
    tr.run()
    hook.remove()
    assert tr.nonfinite_steps == 3 and tr.step == 0
    for k, v in tr.model.state_dict().items():
        if "running" not in k:
            assert torch.equal(v, before[k]), k


def test_persistent_divergence_raises_and_restores_best(monkeypatch):
    x, _ = _blobs()
    tr = Trainer(SMALL, x, config=dict(epochs=4, batch_size=100, max_nonfinite=5))
    tr.run(callback=lambda r: r["epoch"] < 2)
    best = {k: v.clone() for k, v in tr.best_state.items()}
    monkeypatch.setattr(tr, "_elbo_loss", lambda xb: torch.tensor(float("nan"), requires_grad=True))
    with pytest.raises(TrainingError, match="non-finite"):
        tr.run()
    for k, v in tr.model.state_dict().items():
        assert torch.equal(v, best[k]), k


def test_best_snapshot_is_a_deep_copy():
    x, _ = _blobs()
    tr = Trainer(SMALL, x, config=dict(epochs=2, batch_size=64))
    tr.run(callback=lambda r: r["epoch"] < 1)
    snap = {k: v.clone() for k, v in tr.best_state.items()}
    tr.run()
    if tr.best_score == tr.history[0]["elbo"]:  # the first epoch stayed the best: its copy must be untouched
        for k, v in tr.best_state.items():
            assert torch.equal(v, snap[k])
    assert any(not torch.equal(v, tr.model.state_dict()[k]) for k, v in snap.items())


def test_restarts_pick_the_best_elbo():
    x, _ = _blobs()
    res = fit(dict(SMALL, restarts=3), x, config=dict(epochs=3, batch_size=64, dtype="float64"))
    assert res.model.R == 1
    assert res.best_restart == int(np.argmax(res.restart_objectives))


def test_validation_messages():
    x, _ = _blobs(20)
    with pytest.raises(ValueError, match="2\\*K"):
        validate_data(x[:5], 3)
    with pytest.raises(ValueError, match="NaN"):
        validate_data(np.array([[0.0, np.nan]] * 10), 2)
    with pytest.raises(ValueError, match="identical"):
        validate_data(np.ones((10, 2)), 2)
    with pytest.raises(ValueError, match="labels must be in"):
        validate_data(x, 3, labels=np.full(20, 3))
    for bad in (dict(lr=0), dict(lr=-1.0), dict(epochs=0), dict(batch_size=0), dict(t0=0.0), dict(t_min=-1.0), dict(init="x")):
        with pytest.raises(ValueError):
            TrainConfig(**bad)


def test_semi_supervised_phases_and_labels():
    x, y = _blobs()
    labels = -np.ones(len(y), dtype=int)
    labels[:9] = y[:9]
    tr = Trainer(SMALL, x, labels=labels, config=dict(epochs=2, pretrain_epochs=3, batch_size=64))
    res = tr.run()
    assert [h["phase"] for h in res.history] == ["pretrain"] * 3 + ["train"] * 2
    pred = res.model.predict(torch.as_tensor(x, dtype=torch.float32)).numpy()
    assert (pred[:9] == y[:9]).mean() >= 8 / 9  # labeled points land in their own component


def test_pinwheel_clustering_quality_on_a_fixed_seed():
    from vmonf_core.experiments import resolve, run

    out = run(resolve("pinwheel", train=dict(seed=0)), with_baselines=False)
    assert out.metrics["ari"] >= 0.9, out.metrics["ari"]


def test_circles_semi_supervised_recovers_the_circles():
    from vmonf_core.experiments import resolve, run

    out = run(resolve("circles-semi", train=dict(seed=0)), with_baselines=False)
    assert out.metrics["ari"] >= 0.9, out.metrics["ari"]


def test_kmeans_init_runs_an_init_phase():
    x, _ = _blobs()
    res = fit(SMALL, x, config=dict(epochs=1, init="kmeans", init_epochs=2, batch_size=64))
    assert [h["phase"] for h in res.history] == ["init", "init", "train"]


def test_cuda_is_used_when_available():
    tr = Trainer(SMALL, _blobs()[0], config=dict(epochs=1))
    assert tr.device.type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_thesis_recipes_are_the_thesis_settings():
    from vmonf_core.experiments import load_data, resolve

    pw = resolve("pinwheel", "thesis")
    assert (pw["model"]["flow"], pw["model"]["depth"], pw["model"]["hidden"], pw["model"]["hidden_layers"]) == ("realnvp", 8, 8, 1)
    assert pw["model"]["posterior_hidden"] == [3] and pw["model"]["restarts"] == 1
    assert (pw["train"]["lr"], pw["train"]["batch_size"], pw["train"]["epochs"], pw["train"]["init"]) == (1e-3, 512, 400, "random")
    assert len(load_data(pw).x) == 2560  # 512 per wing
    ci = resolve("circles", "thesis")
    assert (ci["model"]["depth"], ci["model"]["hidden"], ci["model"]["posterior_hidden"]) == (10, 8, [16, 16])
    assert (ci["train"]["batch_size"], ci["train"]["epochs"]) == (128, 500) and len(load_data(ci).x) == 1024
    cs = resolve("circles-semi", "thesis")
    assert cs["model"] == ci["model"]
    assert (cs["train"]["pretrain_epochs"], cs["train"]["epochs"], cs["train"]["semi_mode"]) == (300, 500, "alternate")
    d = load_data(cs)
    assert np.bincount(d.labels[d.labels >= 0]).tolist() == [16, 16]
    with pytest.raises(ValueError, match="no thesis recipe"):
        resolve("moons", "thesis")


def test_reported_elbo_is_the_selected_snapshots_elbo_at_its_temperature():
    """metrics.json's ELBO is on the training curve's scale: the curve's value at the selected snapshot, same T."""
    from vmonf_core.experiments import resolve, run

    cfg = resolve("circles", train=dict(seed=2, epochs=12, init="random", t_decay=5e-3, t_min=0.1, eval_points=100_000),
                  model=dict(restarts=1), data=dict(n=300))
    out = run(cfg, with_baselines=False)
    train_recs = [h for h in out.result.history if h["phase"] == "train"]
    best = max(train_recs, key=lambda h: h["objective"])
    assert out.metrics["temperature"] == pytest.approx(best["temperature"], rel=1e-6)
    assert out.metrics["temperature"] < 1.0  # trained below T = 1: scoring at T = 1 would be a different number
    assert out.metrics["elbo"] == pytest.approx(best["elbo"], abs=1e-6)
    model = out.result.model
    x = torch.as_tensor(out.data.x, dtype=model.dtype)
    assert float(model.elbo(x).mean()) == pytest.approx(float(model.elbo(x, best["temperature"]).mean()))


def test_checkpoints_keep_the_temperature(tmp_path):
    from vmonf_core import VMoNF

    m = VMoNF(2, 3)
    m.set_temperature(0.25)
    m.save(tmp_path / "m.pt")
    back = VMoNF.load(tmp_path / "m.pt")
    assert float(back.temperature) == 0.25
    x = torch.randn(5, 2)
    torch.testing.assert_close(back.posterior(x), torch.softmax(back.posterior_logits(x) / 0.25, -1))


def test_labeled_batches_do_not_move_batch_norm_statistics():
    """A labeled-only batch is scored with q's running statistics and leaves them alone (they used to drift toward
    the labeled points even when the labeled loss had weight 0)."""
    from vmonf_core.datasets import make_toy
    from vmonf_core.training import Trainer

    x, y = make_toy("pinwheel", n=300, seed=0)
    labels = np.where(np.isin(np.arange(len(y)), np.flatnonzero(y < 2)[:20]), y, -1)
    tr = Trainer(dict(dim=2, n_components=5, posterior_hidden=[16], posterior_batch_norm=True, restarts=2), x, labels,
                 config=dict(epochs=1, init="random"))
    bn = [b for n, b in tr.model.named_buffers() if n.endswith("running_mean")]
    before = [b.clone() for b in bn]
    lab = tr.labeled
    loss = tr._supervised_loss(tr.x[lab], tr.y[lab], population_stats=True)
    loss.backward()
    assert all(torch.equal(a, b) for a, b in zip(before, bn))
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in tr.model.posterior_net.parameters())
    tr._supervised_loss(tr.x[lab], tr.y[lab])  # the old way: the statistics move
    assert any(not torch.equal(a, b) for a, b in zip(before, bn))


def test_pseudo_labels_are_renumbered_to_agree_with_the_labels():
    from vmonf_core.starts import align_to_labels

    y = torch.tensor([0, 0, 1, 1, -1, -1, -1, -1])
    labeled = torch.tensor([0, 1, 2, 3])
    pseudo = torch.tensor([[2, 2, 0, 0, 2, 0, 1, 1]])  # cluster 2 is class 0, cluster 0 is class 1, cluster 1 is free
    aligned = align_to_labels(pseudo, y, labeled, K=3)
    assert aligned.tolist() == [[0, 0, 1, 1, 0, 1, 2, 2]]
    assert align_to_labels(pseudo.int(), y, labeled, K=3).tolist() == aligned.tolist()  # k-means labels are int32


def test_uncertain_suggestions_are_uncertain_unlabeled_and_spread_out():
    from vmonf_core.experiments import uncertain_points

    x, _ = _blobs(600)
    model = fit(SMALL, x, config=dict(epochs=3, batch_size=64)).model
    labels = -np.ones(len(x), dtype=np.int64)
    with torch.no_grad():
        q = model.posterior(torch.as_tensor(x, dtype=model.dtype)).numpy()
    h = -(q * np.log(np.clip(q, 1e-12, 1))).sum(1)
    most = np.argsort(-h)[:10]
    labels[most[:3]] = 0  # the three most uncertain are already labeled
    idx = uncertain_points(model, x, labels, m=10)
    assert len(set(idx.tolist())) == 10 and (labels[idx] < 0).all()
    assert np.median(h[idx]) > np.quantile(h, 0.9)  # all drawn from the uncertain top
    spacing = lambda i: np.linalg.norm(x[i][:, None] - x[i][None], axis=-1)[np.triu_indices(len(i), 1)].min()  # noqa: E731
    top = np.argsort(np.where(labels < 0, -h, np.inf))[:10]
    assert spacing(idx) > spacing(top)  # spread out, not ten neighbours on one stretch of a boundary
    labels[labels < 0] = 1
    assert len(uncertain_points(model, x, labels)) == 0  # nothing left to suggest


def test_usage_entropy_is_the_entropy_of_the_mean_posterior():
    from vmonf_core.objectives import usage_entropy

    even = torch.zeros(2, 10, 4)  # q uniform over 4 components
    assert torch.allclose(usage_entropy(even), torch.full((2,), np.log(4)))
    one = torch.full((1, 10, 4), -30.0)
    one[..., 2] = 30.0  # every point in component 2: nothing is used but one component
    assert usage_entropy(one).item() < 1e-6
    half = torch.full((1, 10, 2), -30.0)
    half[0, :5, 0] = half[0, 5:, 1] = 30.0  # hard, but half the points each: the mean is uniform
    assert abs(usage_entropy(half).item() - np.log(2)) < 1e-6


def test_restart_objectives_subtract_the_labeled_loss_and_never_pick_a_diverged_restart():
    from vmonf_core.objectives import restart_objectives

    elbo = torch.tensor([[1.0, 3.0], [2.0, 2.0], [float("nan"), 9.0]])
    assert restart_objectives(elbo).tolist()[:2] == [2.0, 2.0]
    assert restart_objectives(elbo)[2] == -np.inf and int(restart_objectives(elbo).argmax()) in (0, 1)
    labeled = torch.tensor([[0.5], [0.1], [0.0]])
    assert torch.allclose(restart_objectives(elbo, labeled)[:2], torch.tensor([1.5, 1.9]))


@pytest.mark.parametrize("method", ["kmeans", "spectral", "mixed"])
def test_init_pseudo_labels_recover_separated_blobs_for_every_restart(method):
    from vmonf_core.metrics import clustering_metrics
    from vmonf_core.starts import init_pseudo_labels

    x, y = _blobs(300, seed=1)
    labels = init_pseudo_labels(x, K=3, R=3, method=method, seed=0)
    assert labels.shape == (3, 300)
    for r in range(3):
        assert clustering_metrics(y, labels[r])["ari"] > 0.95


def test_resample_x_gives_each_epoch_fresh_inputs_but_keeps_validation_points_fixed():
    x, _ = _blobs(200)
    draws = []

    def resample(epoch):
        draws.append(epoch)
        return x + 0.01 * epoch  # epoch e's inputs, recognisable by their shift

    tr = Trainer(SMALL, x, config=dict(epochs=3, batch_size=64, val_fraction=0.2), resample_x=resample)
    x0 = tr.x.clone()
    tr.run()
    assert draws == [1, 2]  # epoch 0 trains on the data as given
    moved = (tr.x - x0).abs().amax(1)
    assert torch.allclose(moved[tr.train_idx], torch.full_like(moved[tr.train_idx], 0.02), atol=1e-5)
    assert moved[tr.val_idx].max() == 0  # the validation points (snapshot selection) keep their inputs
    bad = Trainer(SMALL, x, config=dict(epochs=2, batch_size=64), resample_x=lambda e: x[:10])
    with pytest.raises(ValueError, match="resample_x"):
        bad.run()


def test_redequantizer_draws_new_noise_per_epoch_reproducibly_within_one_grey_level():
    from vmonf_core.datasets import Redequantizer, preprocess_images, to_pixels

    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
    fresh = Redequantizer(images, size=28, seed=3)
    a, b = fresh(1), fresh(2)
    assert a.shape == preprocess_images(images, 28).shape
    assert not np.allclose(a, b) and np.array_equal(a, Redequantizer(images, 28, seed=3)(1))  # per epoch, reproducible
    for v in (a, b):  # (pixel + u) / 256 with u in [0, 1)
        assert np.all(to_pixels(v, 28) * 256 - images >= -1e-6) and np.all(to_pixels(v, 28) * 256 - images < 1 + 1e-6)


def test_the_quick_mnist_preset_redraws_dequantisation_noise_every_epoch():
    from vmonf_core.experiments import load_data, make_trainer, resolve

    cfg = resolve("mnist", data={"n": 200}, train={"epochs": 1, "init_epochs": 1})
    assert cfg["data"]["dequantize"] == "epoch"
    data = load_data(cfg)
    tr = make_trainer(cfg, data)
    assert tr.resample_x is not None
    x0 = tr.x.clone()
    tr.run()
    assert (tr.x[tr.train_idx] != x0[tr.train_idx]).any()
    assert make_trainer(resolve("mnist", data={"n": 200, "dequantize": "fixed"}), data).resample_x is None
    with pytest.raises(ValueError, match="dequantize"):
        resolve("mnist", data={"dequantize": "sometimes"})
