"""Every transform: round-trip, log-det vs the autograd Jacobian, gradients, state, train/eval."""

import pytest
import torch
from torch.autograd.functional import jacobian

from vmonf_core.flows import build_flow
from vmonf_core.nets import BatchedMLP
from vmonf_core.transforms import MADE, AffineCoupling, BatchNormFlow, Composite, LUAffine, MAFBlock, PReLU, Reverse

K, D, N = 3, 4, 6


def _randomize(t: torch.nn.Module, scale: float = 0.3) -> None:
    """Move every parameter away from its identity initialisation."""
    with torch.no_grad():
        for p in t.parameters():
            p.add_(scale * torch.randn_like(p))


def _bn_with_stats() -> BatchNormFlow:
    bn = BatchNormFlow(K, D)
    bn.running_mean.normal_()
    bn.running_var.uniform_(0.5, 2.0)
    return bn


TRANSFORMS = {
    "lu_affine": lambda: LUAffine(K, D),
    "prelu": lambda: PReLU(K, D),
    "batchnorm": _bn_with_stats,
    "coupling": lambda: AffineCoupling(K, D, torch.arange(D) % 2, [8, 8]),
    "maf_block": lambda: MAFBlock(K, D, [16]),
    "reverse": lambda: Reverse(D),
    "flow_realnvp": lambda: build_flow("realnvp", K, D, depth=3, hidden=8, batch_norm=True),
    "flow_maf": lambda: build_flow("maf", K, D, depth=3, hidden=16, batch_norm=True),
    "flow_lu_prelu": lambda: build_flow("lu-prelu", K, D, depth=3, batch_norm=True),
}


@pytest.fixture(params=sorted(TRANSFORMS))
def name(request):
    return request.param


@pytest.fixture
def transform(name):
    t = TRANSFORMS[name]()
    _randomize(t)
    return t.eval()


def test_round_trip(transform):
    x = torch.randn(K, N, D)
    z, ladj = transform(x)
    x2, ladj_inv = transform.inverse(z)
    assert z.shape == x.shape and ladj.shape == (K, N)
    torch.testing.assert_close(x2, x, atol=1e-8, rtol=1e-8)
    torch.testing.assert_close(ladj_inv, -ladj, atol=1e-8, rtol=1e-8)


def test_logdet_matches_autograd_jacobian(transform):
    x = torch.randn(K, N, D)
    _, ladj = transform(x)
    for k in range(K):
        for n in range(N):
            def f(v, k=k, n=n):
                xx = x.clone()
                xx[k, n] = v
                return transform(xx)[0][k, n]

            J = jacobian(f, x[k, n])
            torch.testing.assert_close(ladj[k, n], torch.linalg.slogdet(J)[1], atol=1e-8, rtol=1e-8)


def test_inverse_logdet_matches_autograd_jacobian(transform):
    z = torch.randn(K, N, D)
    _, ladj = transform.inverse(z)
    k, n = 1, 2
    J = jacobian(lambda v: transform.inverse(torch.cat([z[:, :n], v.expand(K, 1, D), z[:, n + 1 :]], 1))[0][k, n], z[k, n].view(1, 1, D))
    torch.testing.assert_close(ladj[k, n], torch.linalg.slogdet(J.reshape(D, D))[1], atol=1e-8, rtol=1e-8)


def test_gradients_reach_every_parameter(transform):
    if not list(transform.parameters()):
        pytest.skip("no parameters")
    transform.train()
    x = torch.randn(K, 32, D)
    z, ladj = transform(x)
    (z.pow(2).sum() + ladj.sum()).backward()
    for name, p in transform.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_no_gradient_leaks_between_components(transform):
    """Component 0's output must depend on component 0's parameters only."""
    if not list(transform.parameters()):
        pytest.skip("no parameters")
    transform.train()
    x = torch.randn(K, 32, D)
    z, ladj = transform(x)
    (z[0].pow(2).sum() + ladj[0].sum()).backward()
    for name, p in transform.named_parameters():
        if p.grad is not None:
            assert p.grad[1:].abs().max() == 0, name


def test_state_dict_round_trip(name, transform):
    clone = TRANSFORMS[name]()
    clone.load_state_dict(transform.state_dict())
    clone.eval()
    x = torch.randn(K, N, D)
    torch.testing.assert_close(clone(x)[0], transform(x)[0])
    torch.testing.assert_close(clone(x)[1], transform(x)[1])


def test_components_are_batched_not_looped():
    """All K components share one weight tensor with a leading K axis."""
    flow = build_flow("realnvp", 7, 2, depth=2, hidden=5)
    shapes = {p.shape[0] for p in flow.parameters()}
    assert shapes == {7}


def test_made_is_autoregressive():
    made = MADE(2, 5, [32, 32])
    _randomize(made, 1.0)
    x = torch.randn(2, 1, 5)
    J = jacobian(lambda v: torch.cat(made(v), -1), x).reshape(2, 10, 2, 5)
    for k in range(2):
        for d in range(5):
            for out in (d, 5 + d):  # mu_d and alpha_d
                assert J[k, out, k, d:].abs().max() == 0  # no dependence on x_>=d
        assert J[k, :, 1 - k].abs().max() == 0  # nor on the other component
    # and the dependence on x_<d is real
    assert J[0, 4, 0, :4].abs().min() > 0


def test_batchnorm_train_uses_batch_stats_eval_uses_running():
    bn = BatchNormFlow(K, D, momentum=1.0)
    x = 3 + 2 * torch.randn(K, 500, D)
    bn.train()
    z, _ = bn(x)
    torch.testing.assert_close(z.mean(1), torch.zeros(K, D), atol=1e-10, rtol=0)
    torch.testing.assert_close(z.var(1, unbiased=False), torch.ones(K, D), atol=1e-4, rtol=0)
    # momentum 1: the running statistics are now the batch statistics, so eval agrees on this batch
    bn.eval()
    z_eval, _ = bn(x)
    torch.testing.assert_close(z_eval, z, atol=1e-8, rtol=0)
    # but eval does not depend on the batch: a single point maps the same way alone
    torch.testing.assert_close(bn(x[:, :1])[0], z[:, :1], atol=1e-8, rtol=0)
    bn.train()
    assert not torch.allclose(bn(x[:, :2])[0], z[:, :2])  # train mode does depend on the batch


def test_batchnorm_running_stats_are_buffers_and_follow_device_dtype():
    bn = BatchNormFlow(K, D).to(torch.float32)
    assert {n for n, _ in bn.named_buffers()} == {"running_mean", "running_var"}
    assert bn.running_mean.dtype == torch.float32


def test_identity_initialisation():
    x = torch.randn(K, N, D)
    for t in (AffineCoupling(K, D, torch.arange(D) % 2, [8]), MAFBlock(K, D, [8]), PReLU(K, D)):
        z, ladj = t(x)
        torch.testing.assert_close(z, x)
        torch.testing.assert_close(ladj, torch.zeros(K, N))


def test_coupling_log_scale_is_bounded():
    t = AffineCoupling(K, D, torch.arange(D) % 2, [8], max_log_scale=2.0)
    with torch.no_grad():
        for p in t.parameters():
            p.fill_(50.0)
    _, ladj = t(torch.randn(K, N, D))
    assert ladj.abs().max() <= 2.0 * D / 2 + 1e-9


def test_composite_inverse_runs_in_reverse_order():
    a, b = LUAffine(K, D), PReLU(K, D)
    _randomize(a)
    _randomize(b)
    c = Composite(a, b)
    x = torch.randn(K, N, D)
    torch.testing.assert_close(c(x)[0], b(a(x)[0])[0])


def test_bad_shapes_raise_value_error():
    with pytest.raises(ValueError, match="coupling needs dim >= 2"):
        AffineCoupling(K, 1, torch.ones(1), [4])
    with pytest.raises(ValueError, match="unknown flow"):
        build_flow("glow", K, D, depth=1, hidden=4)


def test_batched_mlp_matches_per_component_linear_algebra():
    mlp = BatchedMLP(2, 3, [5], 4)
    x = torch.randn(2, 7, 3)
    y = mlp(x)
    l1, l2 = mlp.net[0], mlp.net[2]
    for k in range(2):
        ref = torch.relu(x[k] @ l1.weight[k] + l1.bias[k]) @ l2.weight[k] + l2.bias[k]
        torch.testing.assert_close(y[k], ref)
