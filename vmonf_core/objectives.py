"""ELBO terms, supervised terms and the temperature schedule (thesis, chapter 4)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["temperature_at", "elbo_terms", "supervised_loss", "std_normal_log_prob", "usage_entropy", "restart_objectives"]

LOG_2PI = math.log(2 * math.pi)


def std_normal_log_prob(z: Tensor) -> Tensor:
    """``log N(z; 0, I)`` summed over the last axis."""
    return -0.5 * (z.pow(2).sum(-1) + z.shape[-1] * LOG_2PI)


def temperature_at(step: int, t0: float, rate: float, t_min: float) -> float:
    """``T = max(T_min, T0 * exp(-rate * step))``; the thesis uses ``T0 = 1``, ``rate = 1e-3``."""
    return max(t_min, t0 * math.exp(-rate * step))


def elbo_terms(log_px_k: Tensor, log_prior: Tensor, logits: Tensor, temperature: float = 1.0) -> dict[str, Tensor]:
    """Per-point ELBO and its three terms.

    ``ELBO = sum_k q_k (log p(x|k) + log p(k) - log q_k)
           = E_q[log p(x|k)] - CE(q, p(k)) + H(q)``.

    Args:
        log_px_k: ``(..., N, K)`` component log-likelihoods ``log p(x|k)``.
        log_prior: ``(..., K)`` ``log p(k)``.
        logits: ``(..., N, K)`` posterior logits; ``q = softmax(logits / T)``.
        temperature: ``T > 0``.

    Returns:
        Dict of ``(..., N)`` tensors: ``elbo``, ``expected_log_likelihood``,
        ``prior_cross_entropy`` and ``entropy``.
    """
    log_q = torch.log_softmax(logits / temperature, dim=-1)
    q = log_q.exp()
    ell = (q * log_px_k).sum(-1)  # E_q[log p(x|k)]
    ce = -(q * log_prior.unsqueeze(-2)).sum(-1)  # -E_q[log p(k)]
    ent = -(q * log_q).sum(-1)  # H(q)
    return {"elbo": ell - ce + ent, "expected_log_likelihood": ell, "prior_cross_entropy": ce, "entropy": ent}


def supervised_loss(log_px_k: Tensor, log_prior: Tensor, logits: Tensor, y: Tensor) -> Tensor:
    """Per-point loss for labeled points: ``-log p(x|y) - log p(y) + CE(q(.|x), y)``.

    The thesis code added the cross-entropy with the wrong sign (maximising it);
    here both terms are minimised.

    Args:
        log_px_k: ``(R, N, K)``; log_prior: ``(R, K)``; logits: ``(R, N, K)``;
        y: ``(N,)`` labels shared by the restarts, or ``(R, N)`` one set per restart.

    Returns:
        ``(R, N)`` losses.
    """
    idx = y.expand(log_px_k.shape[0], -1).unsqueeze(-1)  # (R, N, 1)
    nll = -log_px_k.gather(-1, idx).squeeze(-1) - log_prior.gather(-1, idx.squeeze(-1))
    ce = -torch.log_softmax(logits, -1).gather(-1, idx).squeeze(-1)  # + CE, not - CE
    return nll + ce


def usage_entropy(logits: Tensor, temperature: float = 1.0) -> Tensor:
    """Entropy of the mean posterior, ``H(q_bar)`` with ``q_bar_k = mean_n q(k|x_n)``: the balance term.

    Added to the ELBO with a weight (``TrainConfig.balance``), it rewards using every component and so discourages
    merged clusters on images. It is *not* part of the thesis's objective.

    Args:
        logits: ``(R, N, K)`` posterior logits of one batch; temperature: ``T > 0``.

    Returns:
        ``(R,)`` entropies in nats, at most ``log K``.

    Example:
        >>> usage_entropy(torch.zeros(1, 4, 2)).item() == math.log(2)
        True
    """
    q_bar = torch.softmax(logits / temperature, -1).mean(-2)  # (R, K)
    return -(q_bar * q_bar.clamp_min(1e-12).log()).sum(-1)


def restart_objectives(elbo: Tensor, labeled_loss: Tensor | None = None) -> Tensor:
    """What restarts (and snapshots) are ranked by: the mean ELBO, minus the mean labeled loss when there are labels.

    Args:
        elbo: ``(R, N)`` per-point ELBOs of each restart; labeled_loss: ``(R, L)`` per-label losses, or ``None``.

    Returns:
        ``(R,)`` objectives; ``nan`` (a diverged restart) becomes ``-inf``, so it is never the best.

    Example:
        >>> restart_objectives(torch.tensor([[0.0, 1.0], [2.0, 2.0]])).argmax().item()
        1
    """
    obj = elbo.mean(-1)
    if labeled_loss is not None:
        obj = obj - labeled_loss.mean(-1)
    return torch.nan_to_num(obj, nan=-math.inf)
