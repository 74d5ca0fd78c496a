"""The Variational Mixture of Normalizing Flows (Pires & Figueiredo, ESANN 2020).

``p(x) = sum_k p(k) p(x|k)`` with ``K`` normalizing flows ``p(x|k)`` and a variational
posterior ``q(k|x) = softmax(logits(x) / T)``. Several random restarts are extra
components of the same batched pass: flows have ``R*K`` parameter sets, the posterior
and prior ``R``; public methods use the restart ``active_restart``.
"""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from . import checkpoints
from .files import read_capped
from .flows import build_flow
from .model_config import ModelConfig
from .nets import BatchedMLP
from .objectives import elbo_terms, std_normal_log_prob

__all__ = ["ModelConfig", "VMoNF", "load_checkpoint", "save_checkpoint", "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = "vmonf-checkpoint/1"


class VMoNF(nn.Module):
    """Variational mixture of ``K`` normalizing flows.

    Args:
        dim: data dimension ``D``.
        n_components: ``K``.
        **options: the other fields of :class:`ModelConfig` (flow, depth, hidden, ...).

    Data are standardised by fixed buffers ``shift``/``scale`` (set by
    :meth:`set_data_scaling`) before the flows; the log-det of that map is included,
    so densities are in the original units.
    """

    def __init__(self, dim: int, n_components: int, **options: Any) -> None:
        super().__init__()
        self.config = ModelConfig(dim=dim, n_components=n_components, **options)
        c = self.config
        self.D, self.K, self.R = c.dim, c.n_components, c.restarts
        self.flows = build_flow(
            c.flow, self.R * self.K, c.dim, depth=c.depth, hidden=c.hidden,
            hidden_layers=c.hidden_layers, batch_norm=c.batch_norm, max_log_scale=c.max_log_scale,
        )
        self.posterior_net = BatchedMLP(self.R, c.dim, c.posterior_hidden, self.K, batch_norm=c.posterior_batch_norm)
        self.prior_logits = nn.Parameter(torch.zeros(self.R, self.K), requires_grad=c.prior == "learned")
        self.register_buffer("shift", torch.zeros(c.dim))
        self.register_buffer("scale", torch.ones(c.dim))
        self.register_buffer("active_restart", torch.zeros((), dtype=torch.long))
        # the temperature q was trained at (its last value for the selected snapshot): the default wherever q is used
        self.register_buffer("temperature", torch.ones(()))

    @classmethod
    def from_config(cls, config: ModelConfig | dict[str, Any]) -> VMoNF:
        cfg = config if isinstance(config, ModelConfig) else ModelConfig.from_dict(config)
        d = cfg.to_dict()
        return cls(d.pop("dim"), d.pop("n_components"), **d)

    # ----------------------------------------------------------------- helpers
    @property
    def device(self) -> torch.device:
        return self.shift.device

    @property
    def dtype(self) -> torch.dtype:
        return self.shift.dtype

    def as_tensor(self, x: Any) -> Tensor:
        """Convert ``x`` to a ``(N, D)`` tensor on the model's device and dtype, validated."""
        if isinstance(x, np.ndarray) and not x.flags.writeable:
            x = np.array(x)  # torch cannot wrap a read-only array (a memmap, a broadcast view): copied
        x = torch.as_tensor(x, dtype=self.dtype, device=self.device)
        if x.dim() != 2 or x.shape[1] != self.D:
            raise ValueError(f"expected data of shape (N, {self.D}), got {tuple(x.shape)}")
        if x.shape[0] == 0:
            raise ValueError("expected at least one point, got an empty array")
        if not torch.isfinite(x).all():
            raise ValueError("data contain NaN or infinite values")
        return x

    @torch.no_grad()
    def set_data_scaling(self, x: Tensor) -> None:
        """Standardise inputs with the mean and std of ``x``.

        Each feature's std is floored at 10% of the mean std, so near-constant features
        (image borders, whose only variation is dequantisation noise) are not blown up
        into unit-variance noise at the input of ``q``.
        """
        x = self.as_tensor(x)
        self.shift.copy_(x.mean(0))
        std = x.std(0, unbiased=False) if x.shape[0] > 1 else torch.ones_like(self.scale)
        self.scale.copy_(std.clamp_min(0.1 * float(std.mean().clamp_min(1e-6))))

    # ------------------------------------------------------------ all restarts
    def all_component_log_prob(self, x: Tensor) -> Tensor:
        """``log p(x|k)`` for every restart: ``(N, D) -> (R, N, K)``."""
        u = (x - self.shift) / self.scale
        z, ladj = self.flows(u.unsqueeze(0).expand(self.R * self.K, -1, -1))  # one pass, all R*K flows
        logp = std_normal_log_prob(z) + ladj - self.scale.log().sum()  # change of variables
        return logp.view(self.R, self.K, -1).transpose(1, 2)

    def all_posterior_logits(self, x: Tensor) -> Tensor:
        """Posterior logits for every restart: ``(N, D) -> (R, N, K)``."""
        u = (x - self.shift) / self.scale
        return self.posterior_net(u.unsqueeze(0).expand(self.R, -1, -1))

    def all_log_prior(self) -> Tensor:
        """``log p(k)``: ``(R, K)``."""
        return torch.log_softmax(self.prior_logits, -1)

    def _t(self, temperature: float | None) -> float:
        t = float(self.temperature) if temperature is None else temperature
        if not (isinstance(t, int | float) and t > 0 and t < float("inf")):
            raise ValueError(f"temperature must be > 0, got {temperature!r}")
        return float(t)

    @torch.no_grad()
    def set_temperature(self, temperature: float) -> None:
        """Remember the temperature ``T`` that ``q(k|x) = softmax(logits / T)`` was trained at."""
        self.temperature.fill_(self._t(temperature))

    def all_elbo_terms(self, x: Tensor, temperature: float | None = None) -> dict[str, Tensor]:
        """ELBO terms for every restart, each ``(R, N)``, at ``temperature`` (default: the trained one)."""
        temperature = self._t(temperature)
        return elbo_terms(self.all_component_log_prob(x), self.all_log_prior(), self.all_posterior_logits(x), temperature)

    # ------------------------------------------------------- the public model
    def _r(self) -> int:
        return int(self.active_restart)

    def component_log_prob(self, x: Any) -> Tensor:
        """``log p(x|k)``: ``(N, D) -> (N, K)``."""
        return self.all_component_log_prob(self.as_tensor(x))[self._r()]

    def log_prior(self) -> Tensor:
        """``log p(k)``: ``(K,)``."""
        return self.all_log_prior()[self._r()]

    def log_prob(self, x: Any) -> Tensor:
        """Exact ``log p(x) = logsumexp_k(log p(k) + log p(x|k))``: ``(N,)``."""
        return torch.logsumexp(self.component_log_prob(x) + self.log_prior(), -1)

    def responsibilities(self, x: Any) -> Tensor:
        """The exact posterior ``p(k|x)`` (Bayes' rule on the flows): ``(N, K)``."""
        return torch.softmax(self.component_log_prob(x) + self.log_prior(), -1)

    def posterior_logits(self, x: Any) -> Tensor:
        """Logits of ``q(k|x)``: ``(N, K)``."""
        return self.all_posterior_logits(self.as_tensor(x))[self._r()]

    def posterior(self, x: Any, temperature: float | None = None) -> Tensor:
        """``q(k|x) = softmax(logits / T)``: ``(N, K)``; ``T`` defaults to the trained temperature."""
        return torch.softmax(self.posterior_logits(x) / self._t(temperature), -1)

    def predict(self, x: Any) -> Tensor:
        """Cluster labels ``argmax_k q(k|x)``: ``(N,)``."""
        return self.posterior_logits(x).argmax(-1)

    def elbo_terms(self, x: Any, temperature: float | None = None) -> dict[str, Tensor]:
        """The ELBO and its three terms per point, each ``(N,)`` (see :func:`objectives.elbo_terms`), at ``temperature``
        (default: the temperature the model was trained at, :attr:`temperature`)."""
        temperature = self._t(temperature)
        x = self.as_tensor(x)
        return {k: v[self._r()] for k, v in self.all_elbo_terms(x, temperature).items()}

    def elbo(self, x: Any, temperature: float | None = None) -> Tensor:
        """Per-point ELBO ``(N,)``; ``elbo <= log_prob`` with equality when ``q = p(k|x)``."""
        return self.elbo_terms(x, temperature)["elbo"]

    @torch.no_grad()
    def sample(self, n: int, component: int | None = None) -> tuple[Tensor, Tensor]:
        """Draw ``n`` samples: ``k ~ p(k)`` (or fixed ``component``), ``x = f_k^{-1}(z)``.

        Returns:
            ``x``: ``(n, D)`` samples and ``k``: ``(n,)`` their component ids.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        if component is not None and not (0 <= component < self.K):
            raise ValueError(f"component must be in [0, {self.K - 1}], got {component!r}")
        was_training = self.training
        self.eval()
        try:
            if component is None:
                k = torch.multinomial(self.log_prior().exp(), n, replacement=True) if n else torch.zeros(0, dtype=torch.long)
            else:
                k = torch.full((n,), component, dtype=torch.long)
            k = k.to(self.device)
            counts = torch.bincount(k, minlength=self.K)
            m = int(counts.max()) if n else 0
            x = torch.zeros(n, self.D, dtype=self.dtype, device=self.device)
            if m:
                z = torch.randn(self.R * self.K, m, self.D, dtype=self.dtype, device=self.device)
                u, _ = self.flows.inverse(z)  # all flows at once; keep the active restart's
                u = u.view(self.R, self.K, m, self.D)[self._r()]
                for j in range(self.K):
                    idx = (k == j).nonzero().squeeze(-1)
                    x[idx] = u[j, : idx.numel()]
            return x * self.scale + self.shift, k
        finally:
            self.train(was_training)

    # ----------------------------------------------------------- restarts
    def select_restart(self, r: int) -> VMoNF:
        """A new single-restart model holding restart ``r``'s parameters."""
        if not 0 <= r < self.R:
            raise ValueError(f"restart must be in [0, {self.R - 1}], got {r}")
        cfg = dataclasses.replace(self.config, restarts=1)
        with torch.random.fork_rng(devices=[]):  # its random initial weights are overwritten: leave the global RNG be
            new = VMoNF.from_config(cfg).to(device=self.device, dtype=self.dtype)
        target = new.state_dict()
        state = {}
        for key, value in self.state_dict().items():
            if key == "active_restart":
                state[key] = torch.zeros_like(value)
            elif value.shape == target[key].shape:
                state[key] = value.clone()
            elif key.startswith("flows."):
                state[key] = value[r * self.K : (r + 1) * self.K].clone()  # flows: R*K leading axis
            else:
                state[key] = value[r : r + 1].clone()  # posterior and prior: R leading axis
        new.load_state_dict(state)
        return new

    # ---------------------------------------------------------- persistence
    def save(self, path: str | Path, extra: dict[str, Any] | None = None) -> None:
        save_checkpoint(self, path, extra)

    @staticmethod
    def load(path: str | Path, map_location: str | torch.device = "cpu") -> VMoNF:
        return load_checkpoint(path, map_location)[0]


def save_checkpoint(model: VMoNF, path_or_file: Any, extra: dict[str, Any] | None = None) -> None:
    """Save ``model`` as a JSON config plus tensors (loadable with ``weights_only=True``).

    Args:
        model: the model.
        path_or_file: a path or a writable binary file object.
        extra: JSON-serialisable metadata (training config, metrics, ...).
    """
    payload = {
        "format": CHECKPOINT_FORMAT,
        "config": json.dumps(model.config.to_dict()),
        "extra": json.dumps(extra or {}),
        "dtype": str(model.dtype).removeprefix("torch."),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    torch.save(payload, path_or_file)


def load_checkpoint(path_or_file: Any, map_location: str | torch.device = "cpu") -> tuple[VMoNF, dict[str, Any]]:
    """Load a checkpoint saved by :func:`save_checkpoint`, checking everything before building anything.

    Order: file size; the zip members' inflated sizes; ``torch.load(weights_only=True)`` (no arbitrary unpickling);
    the JSON metadata (size, nesting depth, types); the config against the resource budget; then the model is built
    and every tensor compared with it (names, shapes, finiteness, derived buffers rebuilt from the config).

    Raises:
        ValueError: the file is not a valid checkpoint (truncated, tampered, foreign, mismatched, too big).
    """
    try:
        data = read_capped(path_or_file, checkpoints.MAX_CHECKPOINT_BYTES, "checkpoint")
        checkpoints.check_archive(data)
        try:
            payload = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
        except (MemoryError, RecursionError):
            raise
        except RuntimeError as e:
            if "CUDA" in str(e) or "cuda" in str(e):  # a device this machine lacks: not a bad file
                raise ValueError(f"map_location={map_location!r} asks for a CUDA device this machine does not have; "
                                 "load the checkpoint with map_location='cpu'") from None
            raise ValueError(f"not a valid VMoNF checkpoint (RuntimeError: {str(e).strip()[:160]})") from None
        except Exception as e:  # pickle with forbidden globals, corrupt records, ...
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
            first = first.split("weights_only")[0].rstrip(" .(") or type(e).__name__  # never suggest unsafe loading
            raise ValueError(f"not a valid VMoNF checkpoint ({type(e).__name__}: {first})") from None
        if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"not a VMoNF checkpoint: missing format tag {CHECKPOINT_FORMAT!r}")
        config = ModelConfig.from_dict(checkpoints.load_json_dict(payload.get("config"), "config"))
        extra = checkpoints.check_extra(checkpoints.load_json_dict(payload.get("extra", "{}"), "extra"))
        state = payload.get("state_dict")
        if not isinstance(state, dict):
            raise ValueError("corrupt checkpoint: state_dict is not a mapping")
        dtype = getattr(torch, str(payload.get("dtype", "float32")), None)
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"unsupported checkpoint dtype {payload.get('dtype')!r}")
        with torch.random.fork_rng(devices=[]):  # initial weights, overwritten below: the global RNG is left alone
            model = VMoNF.from_config(config).to(dtype)
        expected = model.state_dict()
        if "temperature" not in state:  # checkpoints from before the buffer: T = 1
            state = {**state, "temperature": torch.ones((), dtype=dtype)}
        if set(state) != set(expected):
            missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
            raise ValueError(f"checkpoint does not match its config (missing {missing[:3]}, unexpected {unexpected[:3]})")
        for k, v in state.items():
            if not isinstance(v, Tensor) or v.shape != expected[k].shape:
                raise ValueError(f"checkpoint tensor {k!r} has shape {getattr(v, 'shape', None)}, expected {tuple(expected[k].shape)}")
            if v.is_floating_point() and not torch.isfinite(v).all():
                raise ValueError(f"checkpoint tensor {k!r} contains NaN or infinite values")
        checkpoints.check_buffers(model, state)
        model.load_state_dict(state)
    except (MemoryError, RecursionError) as e:
        raise ValueError(f"checkpoint is too large or too deeply nested to load ({type(e).__name__})") from None
    except (TypeError, KeyError, AttributeError, IndexError, RuntimeError) as e:
        raise ValueError(f"corrupt checkpoint ({type(e).__name__}: {str(e)[:160] or 'no details'})") from None
    model.eval()
    return model, extra
