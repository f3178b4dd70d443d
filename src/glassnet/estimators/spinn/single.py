"""SPINN estimators at one lambda: sparse-input neural networks as scikit-learn selectors.

``fit`` solves ``min_w L(y, w) + lambda_0/2 ||w_upper||^2 + penalty(W1)`` (regression with correlated
screened inputs: plus a small ridge on ``W1``, ``PATH_W1_RIDGE``) by proximal gradient
with Feng & Simon's backtracking along a short warm-started path to ``lam``
(:func:`glassnet.paths.follow`), which both eases the nonconvex fit and gives
``feature_importances_``: the largest lambda at which a feature is still in the model.

Where the path starts (``start``): ``"screen"`` (default) runs a second-order screen on the null
model's residuals (:func:`glassnet.paths.screen_features`), fits a dense network on the
screened inputs and runs the path *up* from there, so that even effects and pure interactions,
invisible to the gradient at ``W1 = 0``, are found; ``"zero"`` is Feng & Simon's path down from
``W1 = 0``. ``X`` is used as given: standardise it first (``make_pipeline(StandardScaler(), ...)``).
"""

from __future__ import annotations

import copy
import numbers
import warnings
from typing import ClassVar

import numpy as np
import torch
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.feature_selection import SelectorMixin
from sklearn.utils._param_validation import StrOptions

from glassnet.datafits import get_datafit
from glassnet.estimators.base import (
    DEVICE,
    DTYPE,
    EPOCHS,
    NONNEG,
    POSITIVE,
    RANDOM_STATE,
    TOL,
    GlassnetEstimator,
    Interval,
    IntTuple,
    torch_dtype,
)
from glassnet.estimators.spinn._engine import STARTS, generator, start, w1_ridge_where_correlated
from glassnet.nn.spinn import ACTIVATIONS, SPINN
from glassnet.paths import Batch, Problem, follow, grid_to
from glassnet.penalties import IntegrativePenalty, Penalty, get_penalty
from glassnet.progress import progress
from glassnet.utils import fit_context

__all__ = ["DEFAULT_LAMBDA_0", "DEFAULT_LAMBDA_RATIO", "SPINNClassifier", "SPINNRegressor", "plot_path"]

DEFAULT_LAMBDA_RATIO = 0.1  # lam=None: this fraction of lambda_max (use SPINN*CV to choose)
# lambda_0=None: ridge on the upper layers by loss, chosen on tuning data only (the selection
# suite's tuning seeds 0-4 and p = 1000 simulation draws of seeds 900-902; docs/history/spinn.md)
DEFAULT_LAMBDA_0 = {"mse": 0.3, "logistic": 0.3, "softmax": 1.0}
# regression above LAMBDA_0_ROWS rows (the largest n those tunings saw): the default ridge on the
# mean loss falls as LAMBDA_0_ROWS / n, a fixed ridge on the summed loss. At 0.3 a 20,000-row fit's
# dense start did not grow friedman1's even input; chosen on friedman1 and the suite's regression
# problems at 5,000-20,000 rows, tuning draws only (docs/history/spinn.md). Fits at n <= 1000
# are unchanged; classifiers keep DEFAULT_LAMBDA_0 at every n.
LAMBDA_0_ROWS = 1000
# regression: a ridge on W1 too (this multiple of lambda_0) in the dense start and along the path,
# kept only where the screened inputs correlate (_engine.CORRELATED_INPUTS); chosen on the selection
# suite's mix-toeplitz tuning seeds 10-29 (docs/history/spinn.md)
PATH_W1_RIDGE = {"mse": 0.02, "logistic": 0.0, "softmax": 0.0}
REGRESSION_LOSSES = ("huber", "squared_error")
OPTIMIZERS = ("sgd", "adam")
GROUP_PENALTIES = ("composite_mcp", "group_lasso", "group_mcp", "l1", "mcp", "sparse_group_lasso")
# at most this many lambdas on a path: each is a fit of up to max_epochs epochs
MAX_LAMBDAS = 1000

# constructor arguments every SPINN estimator shares (scikit-learn's declarations, checked at the
# start of fit and path before any work; issue 25)
SPINN_CONSTRAINTS = {
    "penalty": [StrOptions(set(GROUP_PENALTIES)), Penalty],
    "hidden": [IntTuple()],  # (): a sparse GLM
    "activation": [StrOptions(set(ACTIVATIONS))],
    "lambda_0": [NONNEG, None],
    "start": [StrOptions(set(STARTS))],
    "optimizer": [StrOptions(set(OPTIMIZERS))],
    "lr": [POSITIVE],
    "max_epochs": EPOCHS,
    "tol": TOL,
    "random_state": RANDOM_STATE,
    "dtype": DTYPE,
    "device": DEVICE,
    "verbose": ["verbose"],
}
N_PATH = [Interval(numbers.Integral, 1, MAX_LAMBDAS, closed="both")]
# what a fit sets, with its type (glassnet.persistence loads only these, each of its type)
SPINN_FITTED = {
    "n_features_in_": "int", "feature_names_in_": "array", "_fit_device_": "device", "device_": "str",
    "module_": "module", "lambda_max_": "float", "path_": "list[record]", "lambda_fit_": "float",
    "support_": "array", "selected_features_": "array", "feature_importances_": "array",
    "screen_support_": "array|none",
}
# what the regressors (the target's scaling, Huber's scale) and the classifiers add
REGRESSOR_FITTED = {"y_mean_": "float", "y_scale_": "float", "huber_delta_": "float|none"}
CLASSIFIER_FITTED = {"classes_": "array"}


def lambda_0_of(value, loss_name, n_samples):
    """The upper-layer ridge: the value when given (declared ``>= 0`` and finite in
    ``SPINN_CONSTRAINTS``); for None ``DEFAULT_LAMBDA_0`` of the loss, for regression scaled by
    ``LAMBDA_0_ROWS / n_samples`` above ``LAMBDA_0_ROWS`` training rows."""
    if value is not None:
        return float(value)
    shrink = min(1.0, LAMBDA_0_ROWS / n_samples) if loss_name == "mse" else 1.0
    return DEFAULT_LAMBDA_0[loss_name] * shrink


def importances(records, n_features):
    """Largest lambda at which each feature is in the model (0 if never)."""
    imp = np.zeros(n_features)
    for rec in records:
        imp = np.where(rec.selected & (imp == 0), rec.lam, imp)
    return imp


def reset_parameters(net, gen: torch.Generator):
    """Redraw a network's parameters from ``gen`` (nn.Linear's default ranges: uniform with
    bound 1/sqrt(fan-in); first-layer biases zero), so a fit's start depends on its seed only."""
    with torch.no_grad():
        p = net.W1.shape[-1]
        net.W1.uniform_(-1 / np.sqrt(p), 1 / np.sqrt(p), generator=gen)
        net.b1.zero_()
        for layer in net.upper:
            bound = 1 / np.sqrt(layer.weight.shape[1])
            layer.weight.uniform_(-bound, bound, generator=gen)
            layer.bias.uniform_(-bound, bound, generator=gen)
    return net  # on the CPU (the generator's device): the estimator moves it


def seed_of(seed0) -> int:
    """An int seed: ``random_state``'s, or fresh entropy for None."""
    return int(np.random.SeedSequence(seed0).generate_state(1)[0])


def plot_path(records, ax=None, true_support=None):
    """Plot ``||W1[:, j]||`` of every feature against lambda (log scale); returns the axes.
    Features in ``true_support`` are drawn in colour and labelled, the others in grey
    (labelled once as "other inputs")."""
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.subplots(figsize=(5, 3.5))[1]
    lams = np.array([r.lam for r in records])
    norms = np.stack([r.group_norms for r in records])
    true = set() if true_support is None else {int(j) for j in true_support}
    grey_done = False
    for j in range(norms.shape[1]):
        if norms[:, j].any():
            label = f"x{j}" if j in true else (None if grey_done else "other inputs")
            grey_done = grey_done or j not in true
            ax.plot(lams, norms[:, j], lw=1.5 if j in true else 0.6, c=None if j in true else "0.6",
                    label=label)
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("lambda")
    ax.set_ylabel("||W1[:, j]||")
    if true or grey_done:
        ax.legend(fontsize=7, ncol=2)
    return ax


def warn_if_nothing_selected(est, X) -> None:
    """Warn when a fit kept no input: its predictions are then constant. Where the columns of
    ``X`` differ in scale by more than 100x, say so: the group penalty weighs every column
    alike, so unstandardised inputs are the usual cause."""
    if est.support_.any():
        return
    sd = np.asarray(X, dtype=np.float64).std(0)
    sd = sd[sd > 0]
    hint = ""
    if sd.size and sd.max() > 100 * sd.min():
        hint = (f" The columns of X have standard deviations from {sd.min():.3g} to "
                f"{sd.max():.3g}; the group penalty weighs every column alike, so standardise X "
                "first (make_pipeline(StandardScaler(), ...)).")
    constant = "the class frequencies" if est._classification else "the mean of y"
    warnings.warn(f"{type(est).__name__} selected no input: its predictions are constant "
                  f"({constant}).{hint}", UserWarning, stacklevel=3)


class _SPINNCore(SelectorMixin, GlassnetEstimator):
    """What every SPINN estimator shares: the problem, the networks, the targets, the
    fitted attributes. Subclasses set ``_classification`` and their constructor."""

    _FLOAT64_ON_DEVICE = True  # the path solver's sums and the datafits' offsets

    def _penalty(self) -> Penalty:
        pen = get_penalty(self.penalty)
        if isinstance(pen, IntegrativePenalty):
            raise ValueError("IntegrativePenalty is for IntegrativeSPINN; pick a group penalty")
        return pen

    @property
    def _loss_name(self):
        if not self._classification:
            return "mse"
        return "logistic" if len(self.classes_) == 2 else "softmax"

    def _problem(self, n_samples) -> Problem:
        """The fit's problem; ``n_samples``: training rows of the whole fit (the default
        ``lambda_0`` depends on it, the same for every fold)."""
        # optimizer, start, loss: declared in _parameter_constraints (validated at fit)
        robust = not self._classification and self.loss == "huber"
        name = self._loss_name
        datafit = get_datafit({"mse": "squared", "logistic": "logistic", "softmax": "multinomial"}[name])
        return Problem(datafit, lambda_0_of(self.lambda_0, name, n_samples), self._penalty(), self.optimizer,
                       float(self.lr), int(self.max_epochs), float(self.tol), robust, PATH_W1_RIDGE[name])

    def _build(self, n_features, n_outputs, seed):
        net = SPINN(n_features, n_outputs, tuple(self.hidden), self.activation)
        return reset_parameters(net.to(torch_dtype(self.dtype)), generator(seed)).to(self._device)

    @property
    def _device(self):
        return getattr(self, "_fit_device_", torch.device("cpu"))

    def _on_device(self, X):
        """Resolve ``device`` for this fit (a ``ValueError`` naming a bad one, before any work)."""
        self._fit_device_ = self._fit_device(X)
        return self._fit_device_

    def _check_data(self, X, y, sample_weight):
        from sklearn.utils.validation import _num_samples

        if _num_samples(X) == 1:
            raise ValueError("SPINN needs at least 2 samples; got n_samples = 1")
        X, y = self._validate_Xy(X, y, classification=self._classification)
        self._on_device(X)
        # a zero weight is the row left out, exactly: before the scaling, screen and folds
        X, y, sw = self._weighted_rows(X, y, sample_weight, classification=self._classification)
        return X, y, np.ones(len(y)) if sw is None else sw

    def _set_classes(self, y):
        if self._classification:
            self.classes_ = np.unique(y)

    def _n_outputs(self):
        return len(self.classes_) if self._classification and len(self.classes_) > 2 else 1

    def _target(self, y, rows, sw):
        """Targets of every row for a fit on ``rows``: class codes, or (regression) ``y``
        standardised by the (weighted) mean and scale of those rows only; and the scaling."""
        if self._classification:
            codes = np.searchsorted(self.classes_, y)
            if len(self.classes_) > 2:
                return torch.as_tensor(codes, dtype=torch.long), None
            return self._tensor(codes.astype(float)), None
        y = np.asarray(y, dtype=np.float64)  # float32 targets: the scaling in float64 all the same
        w = sw[rows] / sw[rows].sum()
        mean = float(np.sum(w * y[rows]))
        scale = float(np.sqrt(np.sum(w * (y[rows] - mean) ** 2))) or 1.0
        return self._tensor((y - mean) / scale), (mean, scale)

    def _column(self, n, rows, sw, dtype):
        w = np.zeros(n)
        w[rows] = sw[rows] / sw[rows].sum()
        return torch.as_tensor(w, dtype=dtype)

    def _batch(self, X, y, sw, splits, Xt=None):
        """A :class:`~glassnet.paths.Batch` with one column per ``(train_rows, val_rows)``
        split (val None: no validation), and the regression scalings per column; on the fit's
        device (the data move once)."""
        Xt = self._tensor(X).to(self._device) if Xt is None else Xt
        n = X.shape[0]
        Ys, Ws, Vs, scales = [], [], [], []
        for tr, va in splits:
            t, sc = self._target(y, tr, sw)
            Ys.append(t)
            Ws.append(self._column(n, tr, sw, Xt.dtype))
            Vs.append(self._column(n, va, sw, Xt.dtype) if va is not None and len(va) else None)
            scales.append(sc)
        V = None if any(v is None for v in Vs) else torch.stack(Vs, 1).to(Xt.device)
        return Batch(Xt, torch.stack(Ys, 1).to(Xt.device), torch.stack(Ws, 1).to(Xt.device), V), scales

    def _set_scaling(self, scale):
        if not self._classification:
            self.y_mean_, self.y_scale_ = scale

    def _set_fitted(self, model, lam_max, records, idx, problem, mask):
        model.load_state_dict(records[idx].state)
        self.module_ = model.eval().cpu()
        self.device_ = str(self._device)
        self.lambda_max_ = float(lam_max)
        self.path_ = records[: idx + 1]
        self.lambda_fit_ = records[idx].lam
        self.support_ = records[idx].selected.copy()
        self.selected_features_ = np.flatnonzero(self.support_)
        self.feature_importances_ = importances(self.path_, self.n_features_in_)
        self.screen_support_ = None if mask is None else np.asarray(mask, bool).copy()
        if not self._classification:
            self.huber_delta_ = getattr(problem.datafit, "delta", None)
        return self

    def _work(self, X):
        width = self.hidden[0] if len(self.hidden) else 1
        return float(np.shape(X)[0]) * (np.shape(X)[1] + 1) * width

    def _get_support_mask(self):
        self._check_fitted()
        return self.support_

    def _forward(self, X):
        """The network's output in float64 (whatever ``dtype`` the fit used), so a sample's
        prediction does not depend on the other rows of ``X`` (float32 matrix products do)."""
        self._check_fitted()
        X = self._validate_X(X, reset=False)
        params = {k: v.detach().cpu().double() for k, v in self.module_.state_dict().items()}
        Xt = torch.tensor(np.ascontiguousarray(X), dtype=torch.float64)
        with torch.no_grad():
            return torch.func.functional_call(self.module_.cpu(), params, (Xt,)).numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    # --- prediction (used by the classifier and regressor mixins below)
    def _predict_regression(self, X):
        return self._forward(X).reshape(-1) * self.y_scale_ + self.y_mean_

    def _predict_proba(self, X):
        g = torch.as_tensor(self._forward(X))
        if len(self.classes_) == 2:
            p1 = torch.sigmoid(g.reshape(-1)).numpy()
            return np.column_stack([1 - p1, p1])
        return torch.softmax(g, dim=1).numpy()


class _SPINNBase(_SPINNCore):
    """The single-lambda estimators: ``fit`` follows a short path to ``lam``."""

    def fit(self, X, y, sample_weight=None):
        """Fit the network along a short warm-started path down (or, from the screened
        start, up) to ``lam``; returns ``self``. ``sample_weight``: one non-negative weight per
        sample (the loss is their weighted mean). With ``warm_start=True`` and a previous fit
        on data of the same width (and classes, with the same network), the path continues from
        that fit's network to the new ``lam`` instead of starting again."""
        lam = "default" if self.lam is None else float(self.lam)
        width = getattr(self, "n_features_in_", None)  # the previous fit's (checks reset it)
        X, y, sw = self._check_data(X, y, sample_weight)
        warm = (bool(self.warm_start) and hasattr(self, "module_") and X.shape[1] == width
                and (not self._classification or np.array_equal(np.unique(y), self.classes_))
                and self._same_architecture(X.shape[1]))
        old = (copy.deepcopy(self.module_), self.lambda_fit_, self.screen_support_) if warm else None
        self.n_features_in_ = X.shape[1]
        if not warm:
            self._set_classes(y)
        rows = np.arange(len(y))
        batch, scales = self._batch(X, y, sw, [(rows, None)])
        with fit_context(self.random_state, self._work(X)) as seed0, \
                progress(total=max(int(self.n_path), 1), desc=type(self).__name__, verbose=self.verbose) as bar:
            seed = seed_of(seed0)
            problem = self._problem(len(y))
            if warm:
                net, lam_from, mask = old
                end = self.lambda_max_ * DEFAULT_LAMBDA_RATIO if lam == "default" else lam
                lambdas = np.sort(np.geomspace(lam_from, end, max(int(self.n_path), 1) + 1)[1:])[::-1]
                up = end > lam_from
                if problem.robust and self.huber_delta_ is not None:
                    problem = problem.with_datafit(get_datafit("huber", delta=self.huber_delta_))
                problem = w1_ridge_where_correlated(problem, batch, mask)
                (records,), _ = follow([net], problem, batch, lambdas, up=up,
                                       masks=None if mask is None else [mask], bar=bar)
                idx = len(records) - 1 if not up else 0
                lam_max = max(self.lambda_max_, end)
            else:
                net = self._build(X.shape[1], self._n_outputs(), seed)
                st = start([net], problem, batch, self.start, [seed], estimate=True)
                lam_max = float(st.lam_max[0])
                end = lam_max * DEFAULT_LAMBDA_RATIO if lam == "default" else lam
                lambdas, idx = grid_to(lam_max, end, self.n_path, down=not st.up[0])
                problem, mask = st.problem, st.masks[0]
                (records,), _ = follow([net], problem, batch, lambdas, up=st.up[0],
                                       masks=None if mask is None else [mask], bar=bar)
        self._finish(net, lam_max, records, idx, problem, mask, scales[0])
        warn_if_nothing_selected(self, X)
        return self

    def _same_architecture(self, n_features) -> bool:
        """Whether the last fit's network is the one the parameters build now (``hidden``,
        ``activation``, ``dtype`` unchanged by ``set_params``): only then can it continue."""
        now = SPINN(n_features, self._n_outputs(), tuple(self.hidden), self.activation)
        first = next(self.module_.parameters())
        return self.module_.init_args == now.init_args and first.dtype == torch_dtype(self.dtype)

    def _check_y_val(self, y_val):
        """``y_val`` as 1-d targets checked as ``y`` is: finite real numbers (regression) or
        labels among the fitted ``classes_`` (classification)."""
        from glassnet.estimators.base import _numeric_target, check_finite_target

        yv = np.asarray(y_val if self._classification else _numeric_target(y_val))
        if yv.ndim != 1:
            raise ValueError(f"y_val must be 1-d; got shape {yv.shape}")
        if self._classification:
            unseen = np.setdiff1d(yv, self.classes_)
            if unseen.size:
                raise ValueError(f"y_val has labels not in the training y: {unseen.tolist()}")
        else:
            yv = yv.astype(np.float64)
            check_finite_target(yv, " (in y_val)")
        return yv

    def _finish(self, net, lam_max, records, idx, problem, mask, scale):
        self._set_scaling(scale)
        return self._set_fitted(net, lam_max, records, idx, problem, mask)

    def path(self, X, y, lambdas=None, n_lambdas=50, lambda_min_ratio=1e-2, X_val=None, y_val=None,
             sample_weight=None):
        """Regularisation path over ``lambdas`` (default: ``n_lambdas`` from ``lambda_max`` down
        to ``lambda_max * lambda_min_ratio``), warm-started; a list of
        :class:`~glassnet.model_selection.PathRecord` in decreasing lambda (``lambdas`` may come
        in any order, as in scikit-learn's ``lasso_path``) with the validation loss on
        ``(X_val, y_val)`` when given. The estimator is left fitted at the last lambda."""
        from glassnet.paths import geometric_grid

        X, y, sw = self._check_data(X, y, sample_weight)
        self.n_features_in_ = X.shape[1]
        self._set_classes(y)
        n = len(y)
        splits, Xall, yall, swall = [(np.arange(n), None)], X, y, sw
        if (X_val is None) != (y_val is None):
            raise ValueError("give X_val and y_val together (one of them is None)")
        if X_val is not None:
            Xv, yv = self._validate_X(X_val, reset=False), self._check_y_val(y_val)
            if len(yv) != Xv.shape[0]:
                raise ValueError(f"X_val has {Xv.shape[0]} rows but y_val has {len(yv)}")
            Xall, yall = np.vstack([X, Xv]), np.concatenate([y, yv])
            swall = np.concatenate([sw, np.ones(len(yv))])
            splits = [(np.arange(n), np.arange(n, n + len(yv)))]
        batch, scales = self._batch(Xall, yall, swall, splits)
        n_pts = n_lambdas if lambdas is None else len(np.atleast_1d(lambdas))
        with fit_context(self.random_state, self._work(X)) as seed0, \
                progress(total=n_pts, desc="SPINN path", verbose=self.verbose) as bar:
            seed = seed_of(seed0)
            net = self._build(X.shape[1], self._n_outputs(), seed)
            st = start([net], self._problem(len(y)), batch, self.start, [seed], estimate=True)
            lam_max = float(st.lam_max[0])
            grid = (geometric_grid(lam_max, lambda_min_ratio, n_lambdas) if lambdas is None
                    else np.sort(np.asarray(lambdas, dtype=float).ravel())[::-1])
            (records,), _ = follow([net], st.problem, batch, grid, up=st.up[0],
                                   masks=None if st.masks[0] is None else [st.masks[0]], bar=bar)
        self._finish(net, lam_max, records, len(records) - 1, st.problem, st.masks[0], scales[0])
        return records


_SINGLE_DOC = """
    Parameters
    ----------
    lam : penalty level (None: ``DEFAULT_LAMBDA_RATIO * lambda_max``).
    penalty : a :class:`~glassnet.penalties.Penalty` or a name (default ``"group_mcp"``: its
        concavity keeps the relevant inputs nearly unshrunk and the noise inputs out),
        ``"group_lasso"``, ``"sparse_group_lasso"``, ``"composite_mcp"``, ``"l1"``, ``"mcp"``;
        its ``lam`` is replaced along the path.
    hidden : hidden-layer sizes (``()``: a sparse GLM); activation: tanh / relu / sigmoid / identity.
    lambda_0 : ridge on the weights above the first layer (None: ``DEFAULT_LAMBDA_0`` of the loss;
        for regression on n > 1000 rows, that times ``1000 / n``).
    n_path : number of lambdas of the warm-start path ``lam`` lies on: with ``start="screen"``
        the geometric grid ``lambda_max .. 0.01 lambda_max`` with ``lam`` added, run upward from
        the dense start (the fit is the state at ``lam``); with ``"zero"``, ``n_path`` steps down
        from ``lambda_max`` to ``lam``.
    start : ``"screen"`` (default) or ``"zero"`` (module docstring). A GLM (``hidden=()``)
        always starts at zero (its problem is convex).
    loss (regressor) : ``"huber"`` (default; ``delta = HUBER_K x`` the robust scale of the
        dense start's residuals, in units of the standardised target: ``huber_delta_``) or
        ``"squared_error"`` (Feng & Simon's ``1/(2n) ||y - f||^2``).
    optimizer, lr, max_epochs, tol : proximal gradient (``"sgd"``, with backtracking) or Adam;
        ``lr`` is the initial step (2.0, below the MCP's gamma = 3); each lambda stops after
        ``max_epochs`` or once the objective changes by less than ``tol`` (relative).
    warm_start : continue the previous fit's path to the new ``lam`` (same width of X).
    random_state, dtype : seed of the initial weights and the screen; ``"float32"`` (fast) or
        ``"float64"`` (predictions are computed in float64 either way).
    device : where the fit runs (``"cpu"``, ``"cuda"``, ``"auto"``, a ``torch.device``; not
        Apple's ``"mps"``, which lacks the float64 the path solver sums in).
    verbose : one progress display for the whole fit.

    Fitted: ``module_``, ``support_``, ``selected_features_``, ``feature_importances_``
    (largest lambda at which a feature is in), ``path_``, ``lambda_max_``, ``lambda_fit_``,
    ``screen_support_`` (inputs that passed the screen; None for a start at zero).
"""


_SINGLE_CONSTRAINTS = {
    **SPINN_CONSTRAINTS,
    "lam": [NONNEG, None],
    "n_path": N_PATH,
    "warm_start": ["boolean"],
}


class SPINNRegressor(RegressorMixin, _SPINNBase):
    __doc__ = """Sparse-input neural network regression (Huber's loss or the MSE on the
    standardised target ``(y - mean)/sd``, so ``lam`` and ``lambda_0`` do not depend on the
    scale of y). See the module docstring.
    """ + _SINGLE_DOC

    _classification = False
    _fitted_attributes: ClassVar[dict] = {**SPINN_FITTED, **REGRESSOR_FITTED}
    _parameter_constraints: ClassVar[dict] = {
        **_SINGLE_CONSTRAINTS, "loss": [StrOptions(set(REGRESSION_LOSSES))]}

    def __init__(self, lam=None, penalty="group_mcp", hidden=(10,), activation="tanh",
                 lambda_0=None, n_path=10, start="screen", loss="huber", optimizer="sgd", lr=2.0,
                 max_epochs=300, tol=1e-5, warm_start=False, random_state=None, dtype="float32",
                 device="cpu", verbose=False):
        self.lam = lam
        self.penalty = penalty
        self.hidden = hidden
        self.activation = activation
        self.lambda_0 = lambda_0
        self.n_path = n_path
        self.start = start
        self.loss = loss
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.dtype = dtype
        self.device = device
        self.verbose = verbose

    def predict(self, X):
        """Predicted responses (the network's output on the original scale of y)."""
        return self._predict_regression(X)


class _ClassifierAPI(ClassifierMixin):
    def decision_function(self, X):
        """The logit (binary, shape (n,)) or the K logits (softmax, shape (n, K))."""
        g = self._forward(X)
        return g.reshape(-1) if len(self.classes_) == 2 else g

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``."""
        return self._predict_proba(X)

    def predict(self, X):
        """The most probable class of each sample."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class SPINNClassifier(_ClassifierAPI, _SPINNBase):
    __doc__ = """Sparse-input neural network classifier: binary logistic (one logit) or
    softmax (K >= 3). See the module docstring.
    """ + _SINGLE_DOC

    _classification = True
    _fitted_attributes: ClassVar[dict] = {**SPINN_FITTED, **CLASSIFIER_FITTED}
    _parameter_constraints: ClassVar[dict] = dict(_SINGLE_CONSTRAINTS)

    def __init__(self, lam=None, penalty="group_mcp", hidden=(10,), activation="tanh",
                 lambda_0=None, n_path=10, start="screen", optimizer="sgd", lr=2.0, max_epochs=300,
                 tol=1e-5, warm_start=False, random_state=None, dtype="float32", device="cpu",
                 verbose=False):
        self.lam = lam
        self.penalty = penalty
        self.hidden = hidden
        self.activation = activation
        self.lambda_0 = lambda_0
        self.n_path = n_path
        self.start = start
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.dtype = dtype
        self.device = device
        self.verbose = verbose

