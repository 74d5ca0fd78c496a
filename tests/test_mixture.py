"""The mixture: exact density, ELBO bounds, sampling, restarts, persistence."""

import io

import numpy as np
import pytest
import torch

from vmonf_core import ModelConfig, VMoNF, load_checkpoint, save_checkpoint
from vmonf_core.objectives import elbo_terms, supervised_loss, temperature_at

FLOWS = ["realnvp", "maf", "lu-prelu"]


def _random_model(flow: str, K: int = 3, restarts: int = 1, **kw) -> VMoNF:
    m = VMoNF(2, K, flow=flow, depth=2, hidden=16, restarts=restarts, prior="learned", **kw)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.2 * torch.randn_like(p))
        m.shift.copy_(torch.tensor([0.1, -0.2]))
        m.scale.copy_(torch.tensor([0.5, 0.7]))
    return m.eval()


@pytest.mark.parametrize("flow", FLOWS)
def test_density_integrates_to_one_on_a_grid(flow):
    m = _random_model(flow, batch_norm=True)
    g = torch.linspace(-8, 8, 401)
    xx, yy = torch.meshgrid(g, g, indexing="xy")
    pts = torch.stack([xx.ravel(), yy.ravel()], 1)
    with torch.no_grad():
        p = m.log_prob(pts).exp()
    cell = (g[1] - g[0]) ** 2
    assert abs(float(p.sum() * cell) - 1.0) < 0.01


@pytest.mark.parametrize("flow", FLOWS)
def test_elbo_below_log_prob_with_equality_at_exact_posterior(flow):
    m = _random_model(flow)
    x = torch.randn(50, 2)
    with torch.no_grad():
        elbo = m.elbo(x)
        logp = m.log_prob(x)
        assert (elbo <= logp + 1e-10).all()
        assert (logp - elbo).max() > 1e-3  # a random q is not the posterior
        exact = torch.log(m.responsibilities(x))  # logits = log p(k|x) gives q = p(k|x)
        terms = elbo_terms(m.component_log_prob(x), m.log_prior(), exact)
    torch.testing.assert_close(terms["elbo"], logp, atol=1e-10, rtol=0)


def test_elbo_terms_add_up_and_temperature_sharpens():
    m = _random_model("realnvp")
    x = torch.randn(20, 2)
    with torch.no_grad():
        t = m.elbo_terms(x)
        torch.testing.assert_close(t["elbo"], t["expected_log_likelihood"] - t["prior_cross_entropy"] + t["entropy"])
        assert (t["entropy"] >= 0).all()
        assert (m.elbo_terms(x, 0.1)["entropy"].mean() < t["entropy"].mean())
        # uniform prior: the cross-entropy is log K for any q
    u = VMoNF(2, 4, flow="maf", depth=1, hidden=4).eval()
    with torch.no_grad():
        torch.testing.assert_close(u.elbo_terms(x)["prior_cross_entropy"], torch.full((20,), np.log(4.0)))


def test_public_shapes_and_predict_is_argmax_q():
    m = _random_model("maf", K=4)
    x = torch.randn(9, 2)
    with torch.no_grad():
        assert m.log_prob(x).shape == (9,)
        assert m.component_log_prob(x).shape == (9, 4)
        q = m.posterior(x, temperature=0.5)
        assert q.shape == (9, 4)
        torch.testing.assert_close(q.sum(1), torch.ones(9))
        assert torch.equal(m.predict(x), q.argmax(1))


@pytest.mark.parametrize("flow", FLOWS)
def test_samples_follow_the_component_density(flow):
    """The sampler agrees with the density: E[log p(x)] by Monte Carlo equals -H(p) on a grid."""
    torch.manual_seed(1)
    m = _random_model(flow, K=2)
    x, k = m.sample(400)
    assert x.shape == (400, 2) and k.shape == (400,)
    assert set(k.tolist()) <= {0, 1}
    x0, k0 = m.sample(50, component=1)
    assert (k0 == 1).all()
    with torch.no_grad():
        mc = m.log_prob(x).mean()
        g = torch.linspace(-10, 10, 401)
        xx, yy = torch.meshgrid(g, g, indexing="xy")
        lp = m.log_prob(torch.stack([xx.ravel(), yy.ravel()], 1))
        neg_entropy = (lp.exp() * lp).sum() * (g[1] - g[0]) ** 2
    assert abs(float(mc - neg_entropy)) < 0.25


def test_sample_validates_arguments():
    m = _random_model("realnvp")
    with pytest.raises(ValueError, match="component"):
        m.sample(3, component=7)
    with pytest.raises(ValueError, match="non-negative"):
        m.sample(-1)
    assert m.sample(0)[0].shape == (0, 2)


def test_restarts_are_independent_components_of_one_pass():
    m = _random_model("realnvp", K=3, restarts=4)
    x = torch.randn(11, 2)
    with torch.no_grad():
        allp = m.all_component_log_prob(x)
        assert allp.shape == (4, 11, 3)
        for r in range(4):
            single = m.select_restart(r).eval()
            torch.testing.assert_close(single.component_log_prob(x), allp[r])
            torch.testing.assert_close(single.posterior_logits(x), m.all_posterior_logits(x)[r])
        assert not torch.allclose(allp[0], allp[1])


def test_checkpoint_round_trip_is_exact(tmp_path):
    m = _random_model("maf", K=3, batch_norm=True)
    path = tmp_path / "m.pt"
    save_checkpoint(m, path, extra={"note": "hi"})
    m2, extra = load_checkpoint(path)
    assert extra == {"note": "hi"}
    assert m2.config == m.config
    for (k, a), (_, b) in zip(m.state_dict().items(), m2.state_dict().items()):
        assert torch.equal(a, b), k
    x = torch.randn(5, 2)
    with torch.no_grad():
        torch.testing.assert_close(m2.log_prob(x), m.log_prob(x), atol=0, rtol=0)


def test_checkpoint_rejects_malicious_pickle(tmp_path):
    import pickle

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"format": "vmonf-checkpoint/1", "x": Evil()}, f)
    with pytest.raises(ValueError, match="not a (valid )?VMoNF checkpoint"):
        load_checkpoint(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: b[: len(b) // 2], "not a (valid )?VMoNF checkpoint"),
        (lambda b: b"garbage" * 10, "not a (valid )?VMoNF checkpoint"),
    ],
)
def test_checkpoint_rejects_truncated_or_garbage(mutate, message):
    buf = io.BytesIO()
    save_checkpoint(_random_model("realnvp"), buf)
    with pytest.raises(ValueError, match=message):
        load_checkpoint(io.BytesIO(mutate(buf.getvalue())))


def test_checkpoint_rejects_config_mismatch():
    m = _random_model("realnvp", K=3)
    payload = {
        "format": "vmonf-checkpoint/1",
        "config": __import__("json").dumps(dict(m.config.to_dict(), n_components=4)),
        "state_dict": m.state_dict(),
    }
    buf = io.BytesIO()
    torch.save(payload, buf)
    buf.seek(0)
    with pytest.raises(ValueError, match="shape"):
        load_checkpoint(buf)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(n_components=0), "n_components"),
        (dict(depth=0), "depth"),
        (dict(hidden=0), "hidden"),
        (dict(flow="nope"), "flow"),
        (dict(prior="dirichlet"), "prior"),
        (dict(posterior_hidden=[0]), "posterior_hidden"),
        (dict(dim=1, flow="realnvp"), "realnvp"),
        (dict(restarts=0), "restarts"),
    ],
)
def test_model_config_validation(kwargs, field):
    base = dict(dim=2, n_components=3)
    base.update(kwargs)
    with pytest.raises(ValueError, match=field):
        ModelConfig(**base)


def test_input_validation():
    m = _random_model("realnvp")
    with pytest.raises(ValueError, match="shape"):
        m.log_prob(torch.randn(3, 5))
    with pytest.raises(ValueError, match="NaN"):
        m.log_prob(torch.tensor([[float("nan"), 0.0]]))
    with pytest.raises(ValueError, match="temperature"):
        m.posterior(torch.randn(3, 2), temperature=0)


def test_supervised_loss_minimises_cross_entropy():
    """The thesis had the sign of the cross-entropy wrong; ours decreases as q gets the label right."""
    log_px_k = torch.zeros(1, 1, 2)
    log_prior = torch.log(torch.full((1, 2), 0.5))
    y = torch.tensor([0])
    right = supervised_loss(log_px_k, log_prior, torch.tensor([[[5.0, 0.0]]]), y)
    wrong = supervised_loss(log_px_k, log_prior, torch.tensor([[[0.0, 5.0]]]), y)
    assert right < wrong


def test_temperature_schedule():
    assert temperature_at(0, 1.0, 1e-3, 0.1) == 1.0
    assert abs(temperature_at(1000, 1.0, 1e-3, 0.1) - np.exp(-1)) < 1e-12
    assert temperature_at(10**6, 1.0, 1e-3, 0.1) == 0.1


def test_model_runs_in_float32_and_float64():
    for dtype in (torch.float32, torch.float64):
        m = VMoNF(2, 2, flow="maf", depth=1, hidden=4).to(dtype).eval()
        assert m.log_prob(torch.randn(3, 2, dtype=dtype)).dtype == dtype
