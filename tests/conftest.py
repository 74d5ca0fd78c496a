"""Tests run in float64 with fixed seeds; no GPU needed."""

from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent  # the checkout and tests/ are on sys.path via pyproject's pytest pythonpath

pytest_plugins = ["browser_utils", "dask_utils"]  # the server, browser and Dask cluster fixtures


@pytest.fixture(autouse=True)
def _float64_and_seed():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    np.random.seed(0)
    yield
    torch.set_default_dtype(old)
