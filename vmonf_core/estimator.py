"""A scikit-learn estimator for the variational mixture of normalizing flows.

:class:`VariationalFlowMixture` follows the shape of :class:`sklearn.mixture.GaussianMixture`: ``__init__`` only
stores its parameters (checked from one table, :attr:`VariationalFlowMixture._parameter_constraints`), ``fit`` runs
the same :class:`~vmonf_core.training.Trainer` that the CLI, the app and the engine run, and everything learnt ends
in ``_``. Its defaults are :data:`vmonf_core.presets.GENERIC`, the CLI's recipe for a data file. Arrays go in
and come out as numpy; nothing returned carries gradients.

The model (Pires & Figueiredo, ESANN 2020, arXiv:2009.00585): ``K`` normalizing flows ``p(x|k)``, a prior ``p(k)``
and an MLP posterior ``q(k|x) = softmax(logits(x) / T)``, fitted by maximising the ELBO

.. math:: \\sum_k q(k|x) \\left(\\log p(x|k) + \\log p(k) - \\log q(k|x)\\right)

while ``T`` decays as ``max(t_min, t0 exp(-t_decay * step))``. ``predict`` gives ``argmax_k q(k|x)``,
``score_samples`` the exact ``log p(x) = logsumexp_k (log p(x|k) + log p(k))``.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, DensityMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from .labels import encode_labels
from .presets import GENERIC, auto_epochs

__all__ = ["VariationalFlowMixture"]

#: the batch ``batch_size="auto"`` uses, or the whole data when they are fewer
AUTO_BATCH = GENERIC["train"]["batch_size"]
#: ``init_params`` -> :class:`~vmonf_core.train_config.TrainConfig` ``init``
INIT_PARAMS = {"random": "random", "kmeans": "kmeans", "spectral": "spectral", "mixed": "mixed"}


class VariationalFlowMixture(ClusterMixin, DensityMixin, BaseEstimator):
    """Variational mixture of normalizing flows: clustering with exact densities (Pires & Figueiredo, 2020).

    Parameters
    ----------
    n_components : int, default=2
        Number of flows ``K`` (clusters).
    flow : {"realnvp", "maf", "lu-prelu"}, default="realnvp"
        Flow family of each component: RealNVP affine couplings (Dinh et al., 2017; needs at least 2 features),
        masked autoregressive flow (Papamakarios et al., 2017), or LU-affine + PReLU layers.
    depth : int, default=4
        Flow blocks per component.
    hidden : int, default=32
        Width of the flows' conditioner networks.
    hidden_layers : int, default=2
        Hidden layers of each conditioner network.
    posterior_hidden : tuple of int, default=(64, 64)
        Hidden widths of the posterior network ``q(k|x)``.
    n_init : int, default=2
        Restarts trained side by side; the one with the highest ELBO is kept.
    init_params : {"spectral", "kmeans", "mixed", "random"}, default="spectral"
        How components start: pretrained on the pseudo-labels of spectral clustering on a k-NN graph or of k-means
        (``"mixed"`` alternates them across restarts), or from random weights.
    init_iter : int, default=15
        Epochs of that pretraining (none with ``"random"``); they count in ``n_iter_``.
    max_iter : int or "auto", default="auto"
        Training epochs (passes over the data), as in :class:`~sklearn.neural_network.MLPClassifier`. ``"auto"``
        aims at about 600 minibatch steps, between 20 and 300 epochs (:func:`auto_epochs`).
    batch_size : int or "auto", default="auto"
        Minibatch size; ``"auto"`` is ``min(128, n_samples)``. Never larger than the data.
    learning_rate : float, default=4e-3
        Adam's step size.
    t0, t_decay, t_min : float, default=1.0, 1e-3, 0.1
        Temperature of ``q(k|x)``: ``max(t_min, t0 * exp(-t_decay * step))``.
    device : str, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
    dtype : {"float32", "float64"}, default="float32"
        Precision of training. The fitted model is kept, and predicts, in float64.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the minibatches, the starts and :meth:`sample`. The process-wide torch generator is left
        as it was.
    verbose : int, default=0
        Print one line per epoch when positive.

    Attributes
    ----------
    model_ : VMoNF
        The fitted torch model (its best restart, in eval mode, float64).
    labels_ : ndarray of shape (n_samples,)
        Component of each training point, ``argmax_k q(k|x)``.
    weights_ : ndarray of shape (n_components,)
        The prior ``p(k)``.
    lower_bound_ : float
        Mean ELBO of the training points at the end (nats per point).
    n_iter_ : int
        Epochs run.
    history_ : list of dict
        One record per epoch (ELBO and its terms, temperature, seconds, ...).
    classes_ : ndarray or None
        With labels: the classes, ``classes_[k]`` tied to component ``k``.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` is a DataFrame with string column names.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from vmonf_core import VariationalFlowMixture
    >>> X, y = make_moons(200, noise=0.05, random_state=0)
    >>> vfm = VariationalFlowMixture(n_components=2, max_iter=30, random_state=0).fit(X)
    >>> vfm.predict(X).shape, vfm.predict_proba(X).shape, vfm.score_samples(X).dtype
    ((200,), (200, 2), dtype('float64'))
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, 256, closed="both")],
        "flow": [StrOptions({"realnvp", "maf", "lu-prelu"})],
        "depth": [Interval(Integral, 1, 64, closed="both")],
        "hidden": [Interval(Integral, 1, 8192, closed="both")],
        "hidden_layers": [Interval(Integral, 1, 8, closed="both")],
        "posterior_hidden": ["array-like"],
        "n_init": [Interval(Integral, 1, 64, closed="both")],
        "init_params": [StrOptions(set(INIT_PARAMS))],
        "init_iter": [Interval(Integral, 0, 10_000, closed="both")],
        "max_iter": [Interval(Integral, 1, 100_000, closed="both"), StrOptions({"auto"})],
        "batch_size": [Interval(Integral, 1, 1_000_000, closed="both"), StrOptions({"auto"})],
        "learning_rate": [Interval(Real, 0, 10, closed="right")],
        "t0": [Interval(Real, 0, 1e6, closed="right")],
        "t_decay": [Interval(Real, 0, 10, closed="both")],
        "t_min": [Interval(Real, 0, 1e6, closed="right")],
        "device": [str],
        "dtype": [StrOptions({"float32", "float64"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, n_components: int = 2, *, flow: str = "realnvp", depth: int = 4, hidden: int = 32,
                 hidden_layers: int = 2, posterior_hidden: tuple[int, ...] = (64, 64), n_init: int = 2,
                 init_params: str = "spectral", init_iter: int = 15, max_iter: int | str = "auto", batch_size: int | str = "auto",
                 learning_rate: float = 4e-3, t0: float = 1.0, t_decay: float = 1e-3, t_min: float = 0.1,
                 device: str = "auto", dtype: str = "float32", random_state: Any = None, verbose: int = 0) -> None:
        self.n_components = n_components
        self.flow = flow
        self.depth = depth
        self.hidden = hidden
        self.hidden_layers = hidden_layers
        self.posterior_hidden = posterior_hidden
        self.n_init = n_init
        self.init_params = init_params
        self.init_iter = init_iter
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.t0 = t0
        self.t_decay = t_decay
        self.t_min = t_min
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def _configs(self, n_samples: int, n_features: int, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """The :class:`~vmonf_core.mixture.ModelConfig` and :class:`~vmonf_core.train_config.TrainConfig` dicts of a fit."""
        if self.flow == "realnvp" and n_features < 2:
            raise ValueError(f"flow='realnvp' splits the features in two, so it needs at least 2; got n_features = "
                             f"{n_features}. Use flow='maf' or flow='lu-prelu'.")
        if n_samples < 2 * self.n_components:
            raise ValueError(f"n_samples = {n_samples} is too few for n_components = {self.n_components}: "
                             f"at least 2 * n_components = {2 * self.n_components} are needed")
        batch = min(AUTO_BATCH if self.batch_size == "auto" else int(self.batch_size), n_samples)
        epochs = auto_epochs(n_samples, batch) if self.max_iter == "auto" else int(self.max_iter)
        widths = [int(h) for h in np.atleast_1d(np.asarray(self.posterior_hidden, dtype=float))]
        model = dict(dim=n_features, n_components=int(self.n_components), flow=self.flow, depth=int(self.depth),
                     hidden=int(self.hidden), hidden_layers=int(self.hidden_layers), posterior_hidden=widths,
                     posterior_batch_norm=batch > 1, restarts=int(self.n_init))
        train = dict(epochs=epochs, batch_size=batch, lr=float(self.learning_rate), seed=seed, t0=float(self.t0),
                     t_decay=float(self.t_decay), t_min=float(self.t_min), init=INIT_PARAMS[self.init_params],
                     init_epochs=int(self.init_iter) if self.init_params != "random" else 0, device=self.device, dtype=self.dtype)
        return model, train

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> VariationalFlowMixture:
        """Fit the mixture to ``X`` (unsupervised, or semi-supervised where ``y`` is not ``-1``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (numpy, lists or a DataFrame).
        y : array-like of shape (n_samples,), default=None
            Optional labels for semi-supervision: ``-1`` for unlabeled points, any class values otherwise (encoded to
            ``classes_``; class ``classes_[k]`` is tied to component ``k``, so there can be at most ``n_components``
            classes). The labeled points' loss joins every ELBO step. A ``y`` with no ``-1`` is ignored, as by every
            scikit-learn clusterer (see :func:`encode_labels`).

        Returns
        -------
        self : VariationalFlowMixture
            The fitted estimator.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> X = np.r_[rng.normal(-3, 1, (60, 2)), rng.normal(3, 1, (60, 2))]
        >>> y = np.full(120, -1); y[:3] = 0; y[-3:] = 1
        >>> vfm = VariationalFlowMixture(max_iter=20, random_state=0).fit(X, y)
        >>> vfm.labels_[:3].tolist(), vfm.classes_.tolist()
        ([0, 0, 0], [0, 1])
        """
        self._fit(X, y)
        return self

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit, then return the training points' components (``labels_``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
            Optional labels, as in :meth:`fit`.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self._fit(X, y).labels_

    def _fit(self, X: Any, y: Any) -> VariationalFlowMixture:
        from .train_config import check_device_name
        from .training import Trainer

        check_device_name(self.device)
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        labels, self.classes_ = encode_labels(y, len(X), self.n_components)
        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        model_cfg, train_cfg = self._configs(len(X), X.shape[1], seed)

        def report(rec: dict[str, Any]) -> None:
            if self.verbose:
                print(f"epoch {rec['epoch']}/{rec['epochs']} {rec['phase']}: ELBO {rec['elbo']:.4f}, "
                      f"T {rec['temperature']:.3f}, {rec['seconds']:.1f} s")

        result = Trainer(model_cfg, X, labels, config=train_cfg).run(report)
        # inference in float64: a point's score then does not depend on which other points share its batch (float32
        # matrix products round differently for different batch shapes), as scikit-learn's invariance checks ask
        self.model_ = result.model.double()
        self.history_ = result.history
        self.n_iter_ = len(result.history)
        self.lower_bound_ = float(result.history[-1]["elbo"]) if result.history else float("nan")
        self.weights_ = self._numpy(self.model_.log_prior().exp())
        self.labels_ = self._predict(X)
        return self

    # ----------------------------------------------------------- inference
    @staticmethod
    def _numpy(t: Any) -> np.ndarray:
        return t.detach().cpu().to(dtype=t.dtype if not t.is_floating_point() else _float64()).numpy()

    def _check(self, X: Any) -> Any:
        check_is_fitted(self, "model_")
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return X

    def _predict(self, X: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self.model_.predict(X).cpu().numpy().astype(np.int64)

    def predict(self, X: Any) -> np.ndarray:
        """Component of each point: ``argmax_k q(k|x)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,), int64
        """
        return self._predict(self._check(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """The posterior ``q(k|x)`` at the temperature training ended with.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_components), rows summing to 1
        """
        import torch

        X = self._check(X)
        with torch.no_grad():
            return self._numpy(self.model_.posterior(X))

    def score_samples(self, X: Any) -> np.ndarray:
        """Exact log-density of each point, ``log p(x) = logsumexp_k (log p(x|k) + log p(k))``, in nats.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
        """
        import torch

        X = self._check(X)
        with torch.no_grad():
            return self._numpy(self.model_.log_prob(X))

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood of ``X`` (nats per point).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        log_likelihood : float
        """
        return float(self.score_samples(X).mean())

    def sample(self, n_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Draw from the fitted mixture: ``k ~ p(k)``, ``x = f_k^{-1}(z)``, ``z ~ N(0, I)``.

        Parameters
        ----------
        n_samples : int, default=1

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
            The component of each sample.
        """
        import torch

        check_is_fitted(self, "model_")
        if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            x, k = self.model_.sample(int(n_samples))
        return self._numpy(x), k.cpu().numpy().astype(np.int64)

    def n_parameters(self) -> int:
        """Free parameters of the density ``p(x)``: the flows' weights and, when learned, ``K - 1`` prior weights.

        The posterior network ``q(k|x)`` is not part of ``p(x)`` and is not counted.
        """
        check_is_fitted(self, "model_")
        flows = sum(p.numel() for p in self.model_.flows.parameters() if p.requires_grad)
        return int(flows + (self.n_components - 1 if self.model_.prior_logits.requires_grad else 0))

    def _information_criterion(self, X: Any, penalty: float) -> float:
        """``-2 log L + penalty * n_parameters`` on ``X`` (``log L`` the total log-likelihood)."""
        n = len(self._check(X))
        return float(-2 * self.score(X) * n + penalty * self.n_parameters())

    def bic(self, X: Any) -> float:
        """Bayesian information criterion, ``-2 log L + n_parameters log n`` (lower is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        bic : float
        """
        return self._information_criterion(X, float(np.log(len(self._check(X)))))

    def aic(self, X: Any) -> float:
        """Akaike information criterion, ``-2 log L + 2 n_parameters`` (lower is better); ``X`` as in :meth:`bic`."""
        return self._information_criterion(X, 2.0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


def _float64():
    import torch

    return torch.float64
