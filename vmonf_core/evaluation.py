"""What a run reports after each epoch, and ranks its restarts and snapshots by: the ELBO terms, ``log p(x)`` on the
training, validation and held-out points, and the objective (the ELBO, minus the labeled loss when there are labels);
and the validation points themselves, carved from the training points.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .objectives import elbo_terms, restart_objectives, supervised_loss

__all__ = ["log_px_all", "evaluate", "validation_split"]


@torch.no_grad()
def log_px_all(model: Any, x: Tensor) -> tuple[Tensor, Tensor]:
    """``log p(x|k)`` ``(R, N, K)`` and ``log p(x) = logsumexp_k [log p(k) + log p(x|k)]`` ``(R, N)`` for every
    restart of ``model`` (a :class:`~vmonf_core.mixture.VMoNF`)."""
    lp = model.all_component_log_prob(x)
    return lp, torch.logsumexp(lp + model.all_log_prior().unsqueeze(1), -1)


@torch.no_grad()
def evaluate(model: Any, x: Tensor, labeled: tuple[Tensor, Tensor] | None = None, x_val: Tensor | None = None,
             x_test: Tensor | None = None) -> dict[str, Any]:
    """The best restart's ELBO terms (at the model's temperature buffer) and ``log p(x)`` on ``x``, in eval mode.

    Restarts are ranked by :func:`~vmonf_core.objectives.restart_objectives`: the ELBO, minus the labeled loss on
    ``labeled = (x_l, y_l)`` when given. Also ``val_log_likelihood`` and ``test_log_likelihood`` (mean ``log p(x)``
    of the best restart) on ``x_val`` and ``x_test`` when given. The model's train/eval mode is restored.

    Example:
        >>> from vmonf_core import VMoNF
        >>> out = evaluate(VMoNF(2, 3, restarts=2), torch.randn(50, 2))
        >>> sorted(out)[:4], len(out["restart_objectives"])
        (['best_restart', 'elbo', 'entropy', 'expected_log_likelihood'], 2)
    """
    was = model.training
    model.eval()
    try:
        log_px_k, log_px = log_px_all(model, x)
        terms = elbo_terms(log_px_k, model.all_log_prior(), model.all_posterior_logits(x), float(model.temperature))
        labeled_loss = None
        if labeled is not None:  # with labels, restarts are ranked by ELBO minus the labeled loss
            xl, yl = labeled
            labeled_loss = supervised_loss(model.all_component_log_prob(xl), model.all_log_prior(),
                                           model.all_posterior_logits(xl), yl)
        per_restart = restart_objectives(terms["elbo"], labeled_loss)
        r = int(per_restart.argmax())
        out: dict[str, Any] = {k: float(v[r].mean()) for k, v in terms.items()}
        out["log_px"] = float(log_px[r].mean())
        out["objective"] = float(per_restart[r])  # what restarts and snapshots are ranked by
        out["restart_objectives"] = [float(v) for v in per_restart]
        out["best_restart"] = r
        if x_val is not None:
            out["val_log_likelihood"] = float(log_px_all(model, x_val)[1][r].mean())
        if x_test is not None:
            out["test_log_likelihood"] = float(log_px_all(model, x_test)[1][r].mean())
        return out
    finally:
        model.train(was)


def validation_split(N: int, val_fraction: float, seed: int, min_train: int,
                     device: torch.device | str = "cpu") -> tuple[Tensor | None, Tensor]:
    """``(val_idx, train_idx)``: a validation split carved from ``N`` training points (``None`` when
    ``val_fraction`` rounds to no point), drawn from its own generator so that the run's other streams are unchanged.

    Example:
        >>> val, train = validation_split(10, 0.2, seed=0, min_train=2)
        >>> len(val), len(train), sorted(val.tolist() + train.tolist()) == list(range(10))
        (2, 8, True)
    """
    n_val = int(round(val_fraction * N))
    if n_val and N - n_val < min_train:
        raise ValueError(f"val_fraction {val_fraction} leaves too few training points")
    perm = torch.randperm(N, generator=torch.Generator().manual_seed(seed + 7919)).to(device)
    if not n_val:
        return None, torch.arange(N, device=device)
    return perm[:n_val], perm[n_val:].sort().values
