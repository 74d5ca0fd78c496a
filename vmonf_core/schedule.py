"""A run's schedule: its phases in order, their plan, the time left, and how labels enter it.

The phases (epochs are counted across all of them): ``init`` (any start but ``"random"``: the flows and q fit the
start's pseudo-labels), ``pretrain`` (labels given after a random start: the labeled points train their own
component and q), then ``train`` (ELBO epochs; with labels, the labeled loss too).
"""

from __future__ import annotations

import math

__all__ = ["phases", "phase_plan", "eta", "labeled_loss_weight", "pretrains_on_labels"]


def phases(init: str, init_epochs: int, pretrain_epochs: int, epochs: int, has_labels: bool) -> list[str]:
    """The phase of every epoch, in order.

    Example:
        >>> phases("kmeans", 2, 10, 3, has_labels=True), phases("random", 2, 1, 2, has_labels=True)
        (['init', 'init', 'train', 'train', 'train'], ['pretrain', 'train', 'train'])
    """
    out = ["init"] * (init_epochs if init != "random" else 0)
    out += ["pretrain"] * (pretrain_epochs if has_labels and pretrains_on_labels(init) else 0)
    return out + ["train"] * epochs


def phase_plan(phase_list: list[str]) -> list[tuple[str, int]]:
    """The phases in order with their epoch counts.

    Example:
        >>> phase_plan(["init", "init", "train"])
        [('init', 2), ('train', 1)]
    """
    plan: list[tuple[str, int]] = []
    for p in phase_list:
        if plan and plan[-1][0] == p:
            plan[-1] = (p, plan[-1][1] + 1)
        else:
            plan.append((p, 1))
    return plan


def eta(phase_list: list[str], epoch: int, phase_seconds: dict[str, list[float]]) -> float:
    """Seconds left after ``epoch`` epochs, from the measured rate of each phase (``phase -> [seconds, epochs]``); a
    phase not yet run uses the current one's rate; NaN before the first epoch.

    Example:
        >>> eta(["init", "train", "train", "train"], 2, {"init": [1.0, 1], "train": [0.5, 1]})
        1.0
    """
    rates = {p: s / n for p, (s, n) in phase_seconds.items() if n}
    current = rates.get(phase_list[epoch - 1]) if epoch else None
    if current is None:
        return math.nan
    return float(sum(rates.get(p, current) for p in phase_list[epoch:]))


def labeled_loss_weight(supervised_weight: float, n_labeled: int, batch_size: int) -> float:
    """Weight of the labeled loss added to each ELBO step (``semi_mode="interleave"``).

    ``w = supervised_weight * min(1, n_labeled / batch_size)``: with fewer labels than a batch, their mean loss is
    scaled by their share of a batch, so that 10 labels do not weigh as much as a batch of 128 (measured: README,
    "Labels").

    Example:
        >>> labeled_loss_weight(1.0, 16, 128)
        0.125
    """
    return supervised_weight * min(1.0, n_labeled / max(1, batch_size))


def pretrains_on_labels(init: str) -> bool:
    """Whether a run with labels first trains on the labeled points alone: only after a random start.

    After an init (whose clusters are renumbered to agree with the labels,
    :func:`~vmonf_core.starts.align_to_labels`), that phase only squeezed each labeled component onto its few labels
    and taught q that unlabeled classes do not exist (measured: README, "Labels never hurt?"). The labels still enter every ELBO
    step (interleave) or epoch (alternate).
    """
    return init == "random"
