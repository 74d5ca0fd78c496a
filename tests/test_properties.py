"""Property-based tests (hypothesis): flows stay finite and invertible; config validation is exact."""

import math

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vmonf_core import ModelConfig, TrainConfig
from vmonf_core.flows import build_flow

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    flow=st.sampled_from(["realnvp", "maf", "lu-prelu"]),
    K=st.integers(1, 4),
    D=st.integers(2, 6),
    depth=st.integers(1, 3),
    batch_norm=st.booleans(),
    scale=st.floats(0.0, 1.0),  # larger random LU factors are ill-conditioned (cond > 1e8): invertible, but not to 1e-8
    x_scale=st.floats(0.01, 30.0),
    seed=st.integers(0, 10_000),
)
def test_flows_are_finite_and_invertible(flow, K, D, depth, batch_norm, scale, x_scale, seed):
    torch.manual_seed(seed)
    f = build_flow(flow, K, D, depth=depth, hidden=8, batch_norm=batch_norm).double()
    with torch.no_grad():
        for p in f.parameters():
            p.add_(scale * torch.randn_like(p))
        for name, b in f.named_buffers():
            if "running_var" in name:
                b.uniform_(0.5, 2.0)
    f.eval()
    x = x_scale * torch.randn(K, 7, D, dtype=torch.float64)
    z, ladj = f(x)
    assert torch.isfinite(z).all() and torch.isfinite(ladj).all()
    x2, ladj_inv = f.inverse(z)
    tol = 1e-8 * (1 + float(z.abs().max()) + x_scale)  # round-off grows with the magnitudes involved
    assert torch.allclose(x2, x, atol=tol, rtol=1e-6)
    assert torch.allclose(ladj_inv, -ladj, atol=1e-6)


@SETTINGS
@given(K=st.integers(-3, 300), depth=st.integers(-2, 70), hidden=st.integers(-2, 9000), restarts=st.integers(-1, 70))
def test_model_config_accepts_exactly_the_valid_ranges(K, depth, hidden, restarts):
    from vmonf_core.budget import FLOAT, limit_bytes, parameter_count

    valid = 1 <= K <= 256 and 1 <= depth <= 64 and 1 <= hidden <= 8192 and 1 <= restarts <= 64
    cfg = dict(dim=2, n_components=K, depth=depth, hidden=hidden, restarts=restarts)
    valid = valid and FLOAT * parameter_count(cfg) <= limit_bytes()  # and within the memory budget
    try:
        ModelConfig(dim=2, n_components=K, depth=depth, hidden=hidden, restarts=restarts)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == valid


@SETTINGS
@given(
    lr=st.one_of(st.floats(-1, 20), st.sampled_from([float("nan"), float("inf"), 0.0, 10.0])),
    epochs=st.integers(-5, 200_000),
    batch_size=st.integers(-5, 100),
    t0=st.one_of(st.floats(-1, 10), st.just(float("nan"))),
)
def test_train_config_accepts_exactly_the_valid_ranges(lr, epochs, batch_size, t0):
    valid = (math.isfinite(lr) and 0 < lr <= 10 and 1 <= epochs <= 100_000 and batch_size >= 1
             and math.isfinite(t0) and 0 < t0 <= 1e6)
    try:
        TrainConfig(lr=lr, epochs=epochs, batch_size=batch_size, t0=t0)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == valid
