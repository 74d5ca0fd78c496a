"""vmonf_core: Variational Mixtures of Normalizing Flows in PyTorch (never imports streamlit).

Pires & Figueiredo, "Variational Mixture of Normalizing Flows", ESANN 2020 (arXiv:2009.00585).
"""

from .metrics import baselines, clustering_metrics, contingency, hungarian_accuracy
from .mixture import ModelConfig, VMoNF, load_checkpoint, save_checkpoint
from .training import TrainConfig, Trainer, TrainingError, TrainResult, fit, resolve_device, validate_data

__version__ = "0.1.0"

__all__ = [
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
