"""Training-epoch speed: our K-batched VMoNF against a Python loop over K zuko flows and K nflows flows.

Every contender trains the same mixture (same sizes, same ELBO, same posterior MLP, Adam) on
the same data; only how the K component flows are evaluated differs. Prints per-epoch
times (median of several epochs after a warm-up) and the speed-up ratios.

Usage (bench-only dependencies: ``pip install -r bench/requirements.txt``)::

    python bench/speed.py [--threads 2] [--epochs 5] [--configs pinwheel,circles,mnist784]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from vmonf_core.objectives import elbo_terms  # noqa: E402
from vmonf_core.runtime import configure_torch  # noqa: E402
from vmonf_core.training import Trainer  # noqa: E402

CONFIGS = {
    # the thesis pinwheel: K=5 RealNVP (4 couplings, 2x32 hidden), q with one hidden layer of 64, batch 64
    "pinwheel": dict(D=2, K=5, flow="realnvp", depth=4, hidden=32, hidden_layers=2, N=800, batch=64, q=[64]),
    "circles": dict(D=2, K=2, flow="realnvp", depth=4, hidden=32, hidden_layers=2, N=800, batch=64, q=[64]),
    # the thesis MNIST model: K=5 MAF (5 blocks, 200 hidden) on 784-d, q with one hidden layer of 512, batch 100
    "mnist784": dict(D=784, K=5, flow="maf", depth=5, hidden=200, hidden_layers=1, N=1000, batch=100, q=[512]),
}


def data(cfg: dict) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((cfg["N"], cfg["D"]))


def ours(cfg: dict, x: np.ndarray):
    tr = Trainer(dict(dim=cfg["D"], n_components=cfg["K"], flow=cfg["flow"], depth=cfg["depth"], hidden=cfg["hidden"],
                      hidden_layers=cfg["hidden_layers"], posterior_hidden=cfg["q"], posterior_batch_norm=False),
                 x, config=dict(epochs=1000, batch_size=cfg["batch"], lr=1e-3, device="cpu"))
    return lambda: tr._run_epoch("train", lambda: False)


def _mlp(D: int, hidden: list[int], K: int) -> nn.Module:
    layers, w = [], D
    for h in hidden:
        layers += [nn.Linear(w, h), nn.ReLU()]
        w = h
    return nn.Sequential(*layers, nn.Linear(w, K))


def _loop_epoch(log_probs, q_net: nn.Module, params, x: torch.Tensor, batch: int):
    opt = torch.optim.Adam(params, lr=1e-3)
    K = len(log_probs)
    log_prior = torch.full((K,), -np.log(K))

    def epoch() -> None:
        for b in torch.randperm(len(x)).split(batch):
            xb = x[b]
            lp = torch.stack([f(xb) for f in log_probs], -1)  # a Python loop over the K flows
            loss = -elbo_terms(lp, log_prior, q_net(xb))["elbo"].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

    return epoch


def zuko_loop(cfg: dict, x: np.ndarray):
    import zuko

    D, hid = cfg["D"], [cfg["hidden"]] * cfg["hidden_layers"]
    make = (lambda: zuko.flows.RealNVP(D, transforms=cfg["depth"], hidden_features=hid)) if cfg["flow"] == "realnvp" else \
        (lambda: zuko.flows.MAF(D, transforms=cfg["depth"], hidden_features=hid))
    flows = nn.ModuleList(make() for _ in range(cfg["K"]))
    q = _mlp(D, cfg["q"], cfg["K"])
    fns = [lambda xb, f=f: f().log_prob(xb) for f in flows]
    return _loop_epoch(fns, q, list(flows.parameters()) + list(q.parameters()), torch.as_tensor(x, dtype=torch.float32), cfg["batch"])


def nflows_loop(cfg: dict, x: np.ndarray):
    from nflows.distributions import StandardNormal
    from nflows.flows import Flow
    from nflows.transforms import AffineCouplingTransform, CompositeTransform, MaskedAffineAutoregressiveTransform, ReversePermutation

    D = cfg["D"]

    class Net(nn.Module):  # nflows calls the conditioner as net(inputs, context)
        def __init__(self, i: int, o: int) -> None:
            super().__init__()
            self.mlp = _mlp(i, [cfg["hidden"]] * cfg["hidden_layers"], o)

        def forward(self, inputs, context=None):
            return self.mlp(inputs)

    def make():
        ts = []
        for i in range(cfg["depth"]):
            if cfg["flow"] == "realnvp":
                mask = (torch.arange(D) + i) % 2
                ts.append(AffineCouplingTransform(mask, Net))
            else:
                ts.append(MaskedAffineAutoregressiveTransform(D, cfg["hidden"], num_blocks=1))
                ts.append(ReversePermutation(D))
        return Flow(CompositeTransform(ts), StandardNormal([D]))

    flows = nn.ModuleList(make() for _ in range(cfg["K"]))
    q = _mlp(D, cfg["q"], cfg["K"])
    fns = [lambda xb, f=f: f.log_prob(xb) for f in flows]
    return _loop_epoch(fns, q, list(flows.parameters()) + list(q.parameters()), torch.as_tensor(x, dtype=torch.float32), cfg["batch"])


def time_epochs(epoch, n: int) -> float:
    epoch()  # warm-up
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        epoch()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--configs", default=",".join(CONFIGS))
    a = p.parse_args()
    configure_torch(a.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {a.threads} threads, median of {a.epochs} epochs")
    print("| config | ours (ms/epoch) | zuko loop | nflows loop | speed-up vs the faster loop |")
    print("|---|---|---|---|---|")
    for name in a.configs.split(","):
        cfg = CONFIGS[name]
        x = data(cfg)
        n = max(1, a.epochs if cfg["D"] < 100 else min(a.epochs, 2))
        t = {}
        for label, build in (("ours", ours), ("zuko", zuko_loop), ("nflows", nflows_loop)):
            try:
                t[label] = time_epochs(build(cfg, x), n)
            except ImportError:
                t[label] = float("nan")
        best_loop = min(v for k, v in t.items() if k != "ours" and v == v) if any(t[k] == t[k] for k in ("zuko", "nflows")) else float("nan")
        print(f"| {name} (K={cfg['K']}, D={cfg['D']}, {cfg['flow']} {cfg['depth']}x{cfg['hidden']}, N={cfg['N']}, batch {cfg['batch']}) "
              f"| {1e3 * t['ours']:.1f} | {1e3 * t['zuko']:.1f} | {1e3 * t['nflows']:.1f} | {best_loop / t['ours']:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
