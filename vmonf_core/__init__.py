"""vmonf_core: Variational Mixtures of Normalizing Flows in PyTorch (never imports streamlit).

Pires & Figueiredo, "Variational Mixture of Normalizing Flows", ESANN 2020 (arXiv:2009.00585).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The public names load their module on first use (PEP 562), so that importing a light module of the package, such as
# the engine's client side, does not import torch and scikit-learn (about 2 s) before it is needed.
_EXPORTS = {
    "baselines": "metrics", "clustering_metrics": "metrics", "contingency": "metrics", "hungarian_accuracy": "metrics",
    "ModelConfig": "mixture", "VMoNF": "mixture", "load_checkpoint": "mixture", "save_checkpoint": "mixture",
    "TrainConfig": "train_config", "Trainer": "training", "TrainingError": "training", "TrainResult": "training",
    "fit": "training", "resolve_device": "train_config", "validate_data": "train_config",
    "VariationalFlowMixture": "estimator",
}

if TYPE_CHECKING:
    from .estimator import VariationalFlowMixture
    from .metrics import baselines, clustering_metrics, contingency, hungarian_accuracy
    from .mixture import ModelConfig, VMoNF, load_checkpoint, save_checkpoint
    from .train_config import TrainConfig, resolve_device, validate_data
    from .training import Trainer, TrainingError, TrainResult, fit


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])

__all__ = [
    "VariationalFlowMixture",
    "VMoNF",
    "ModelConfig",
    "TrainConfig",
    "Trainer",
    "TrainResult",
    "TrainingError",
    "fit",
    "resolve_device",
    "validate_data",
    "save_checkpoint",
    "load_checkpoint",
    "baselines",
    "clustering_metrics",
    "contingency",
    "hungarian_accuracy",
]
