"""SPINN estimators: sparse-input neural networks as scikit-learn selectors (Feng & Simon).

``fit`` solves ``min_w L(y, w) + lambda_0/2 ||w_upper||^2 + penalty(W1)`` by proximal gradient
(:func:`glassnet.training.fit` with ``optimizer="sgd"``, the penalty's prox on ``W1`` after each
step and Feng & Simon's backtracking: a step whose objective rises is undone and the step size
multiplied by 0.8). It follows a short warm-started path from ``lambda_max`` (all features out)
down to ``lam``, which both eases the nonconvex fit and gives ``feature_importances_``: the
largest lambda at which a feature is still in the model (where it leaves the path).

``X`` is used as given: standardise it first (``make_pipeline(StandardScaler(), ...)``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.base import ClassifierMixin, RegressorMixin, clone
from sklearn.feature_selection import SelectorMixin
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import LabelEncoder

from glassnet import training
from glassnet.estimators.base import GlassnetEstimator
from glassnet.nn.spinn import LOSSES, SPINN, IntegrativeSPINNNet
from glassnet.penalties import IntegrativePenalty, Penalty, get_penalty, group_norms

__all__ = [
    "DEFAULT_LAMBDA_RATIO",
    "IntegrativeSPINN",
    "PathRecord",
    "SPINNClassifier",
    "SPINNClassifierCV",
    "SPINNRegressor",
    "SPINNRegressorCV",
    "plot_path",
]

DEFAULT_LAMBDA_RATIO = 0.1  # lam=None: this fraction of lambda_max (use SPINN*CV to choose)
# lambda_0=None: ridge on the upper layers by loss (tuned on the p = 1000 simulation; the
# logistic loss needs more than the MSE on a standardised target to keep the net from overfitting)
DEFAULT_LAMBDA_0 = {"mse": 0.1, "logistic": 0.3, "softmax": 0.3}
_BACKTRACK_GROWTH = 1.0 / 0.8  # between path points the step may grow back by one backtracking factor


@dataclass
class PathRecord:
    """One point of a regularisation path (as LassoNet's ``HistoryItem``)."""

    lam: float
    selected: np.ndarray  # bool mask over features
    n_selected: int
    train_loss: float  # data loss (no penalty) on the training data
    val_loss: float | None  # data loss on validation data, when given
    group_norms: np.ndarray  # ||W1[:, j]|| of every feature
    n_epochs: int
    state: dict = field(repr=False)  # the module's state_dict at this lambda


# ----------------------------------------------------------------- the path machinery


def _lambda_max(model, loss_fn, data, penalty: Penalty, step: float = 1e-4) -> float:
    """Smallest lambda for which ``W1 = 0`` is stationary: ``prox(-step * grad, step) = 0``.

    Uses the penalty's own prox (its zero region scales with step for every penalty here), so
    one bisection serves L1, group, sparse-group, MCP-type and integrative penalties.
    """
    model.zero_grad()
    loss_fn(model, *data).backward()
    g = model.W1.grad.detach().clone()
    model.zero_grad()
    if not torch.any(g != 0):
        return 0.0
    is_zero = lambda lam: bool(torch.all(penalty.with_lambda(lam).prox(-step * g, step) == 0))
    hi = float(g.abs().max()) * max(1.0, float(np.sqrt(g[..., 0].numel())))
    while not is_zero(hi):
        hi *= 2.0
    lo = 0.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if is_zero(mid) else (mid, hi)
        if hi - lo <= 1e-9 * hi:
            break
    return hi


def _start(model, loss_fn, data, penalty):
    """Zero ``W1``, fit the output intercept of the null model, return ``lambda_max``."""
    with torch.no_grad():
        model.W1.zero_()
    training.fit(model, loss_fn, data, optimizer="lbfgs", lr=1.0, max_epochs=3,
                 params=[model.output_bias()], verbose=False)
    return _lambda_max(model, loss_fn, data, penalty)


def _run_path(model, loss_fn, data, penalty, lambdas, opts, data_loss=None, val_data=None):
    """Warm-started proximal-gradient fits along ``lambdas``; one :class:`PathRecord` each."""
    records, lr = [], opts["lr"]
    for lam in lambdas:
        before = copy.deepcopy(model.state_dict())
        hist = training.fit(
            model, loss_fn, data, optimizer=opts["optimizer"], lr=lr, max_epochs=opts["max_epochs"],
            prox=[(model.W1, penalty.with_lambda(lam))], backtrack=opts["optimizer"] == "sgd",
            converge_tol=opts["tol"], verbose=opts["verbose"],
        )
        lr = min(opts["lr"], hist.lr[-1] * _BACKTRACK_GROWTH)
        if not torch.any(model.W1 != 0):
            # W1 = 0 is a saddle: with no input the ridge only shrinks the upper layers, which
            # would leave no gradient for W1 at smaller lambdas. Keep the start instead.
            model.load_state_dict(before)
        with torch.no_grad():
            norms = group_norms(model.W1.detach()).cpu().numpy()
            tr = float((data_loss or loss_fn)(model, *data))
            va = float((data_loss or loss_fn)(model, *val_data)) if val_data is not None else None
        sel = norms > 0
        records.append(PathRecord(float(lam), sel, int(sel.sum()), tr, va, norms, hist.n_epochs,
                                  copy.deepcopy(model.state_dict())))
    return records


def _importances(records, n_features):
    """Largest lambda at which each feature is in the model (0 if never): where it leaves."""
    imp = np.zeros(n_features)
    for rec in records:
        imp = np.where(rec.selected & (imp == 0), rec.lam, imp)
    return imp


def _choose(lambdas, losses, selection):
    """Index of the chosen lambda: ``"min"`` CV loss, or ``"1se"``: the largest lambda whose
    mean loss is within one standard error of the minimum (Breiman et al. 1984)."""
    mean = losses.mean(axis=0)
    se = losses.std(axis=0, ddof=1) / np.sqrt(losses.shape[0]) if losses.shape[0] > 1 else 0 * mean
    best = int(np.nanargmin(mean))
    if selection == "min":
        return best, mean, se
    if selection != "1se":
        raise ValueError(f"selection must be '1se' or 'min', got {selection!r}")
    ok = np.flatnonzero(mean <= mean[best] + se[best])
    return int(ok.min()), mean, se  # lambdas decrease along the grid


def plot_path(records, ax=None, true_support=None):
    """Plot ``||W1[:, j]||`` of every feature against lambda (log scale); returns the axes.

    Features in ``true_support`` are drawn in colour, the others in grey.
    """
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.subplots(figsize=(5, 3.5))[1]
    lams = np.array([r.lam for r in records])
    norms = np.stack([r.group_norms for r in records])
    true = set() if true_support is None else {int(j) for j in true_support}
    for j in range(norms.shape[1]):
        if norms[:, j].any():
            ax.plot(lams, norms[:, j], lw=1.5 if j in true else 0.6,
                    c=None if j in true else "0.6", label=f"x{j}" if j in true else None)
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("lambda")
    ax.set_ylabel("||W1[:, j]||")
    if true:
        ax.legend(fontsize=7, ncol=2)
    return ax


# ----------------------------------------------------------------- estimators


class _SPINNBase(SelectorMixin, GlassnetEstimator):
    """Shared by the classifier and regressor; subclasses define ``_targets`` and ``_loss_name``."""

    def __init__(self, lam=None, penalty="group_mcp", hidden=(10,), activation="tanh",
                 lambda_0=None, n_path=10, optimizer="sgd", lr=2.0, max_epochs=300, tol=1e-5,
                 random_state=None, dtype="float32", verbose=False):
        self.lam = lam
        self.penalty = penalty
        self.hidden = hidden
        self.activation = activation
        self.lambda_0 = lambda_0
        self.n_path = n_path
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.tol = tol
        self.random_state = random_state
        self.dtype = dtype
        self.verbose = verbose

    # --- pieces
    def _penalty(self) -> Penalty:
        pen = get_penalty(self.penalty)
        if isinstance(pen, IntegrativePenalty):
            raise ValueError("IntegrativePenalty is for IntegrativeSPINN; pick a group penalty")
        return pen

    def _opts(self):
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' (proximal gradient) or 'adam', got {self.optimizer!r}")
        if self.lambda_0 is not None and self.lambda_0 < 0:
            raise ValueError(f"lambda_0 must be >= 0, got {self.lambda_0}")
        return {"optimizer": self.optimizer, "lr": float(self.lr), "max_epochs": int(self.max_epochs),
                "tol": self.tol, "verbose": bool(self.verbose)}

    def _build(self, n_features, n_outputs):
        if self.random_state is not None:
            torch.manual_seed(int(self.random_state))
        return SPINN(n_features, n_outputs, tuple(self.hidden), self.activation).to(
            self._tensor(np.zeros(1)).dtype)

    def _data_loss(self):
        loss = LOSSES[self._loss_name]
        return lambda model, X, y: loss(model(X), y)

    def _loss_fn(self):
        loss = LOSSES[self._loss_name]
        lam0 = DEFAULT_LAMBDA_0[self._loss_name] if self.lambda_0 is None else float(self.lambda_0)
        return lambda model, X, y: loss(model(X), y) + lam0 * model.ridge()

    def _problem(self, X, y):
        """Validate and return (X tensor, y tensor, n_outputs)."""
        from sklearn.utils.validation import _num_samples

        if _num_samples(X) == 1:
            raise ValueError("SPINN needs at least 2 samples; got n_samples = 1")
        X, y = self._validate_Xy(X, y, classification=self._classification)
        Xt = self._tensor(X)
        yt, n_out = self._targets(y)
        return Xt, yt, n_out

    def _path_from(self, data, n_out, lambdas, val_data=None, n_lambdas=50, lambda_min_ratio=1e-2,
                   target=None):
        """Build, start at lambda_max, follow the grid. ``target``: lam to end at."""
        model = self._build(data[0].shape[1], n_out)
        loss_fn, pen = self._loss_fn(), self._penalty()
        lam_max = _start(model, loss_fn, data, pen)
        if lambdas is None:
            if target is not None:
                end = lam_max * DEFAULT_LAMBDA_RATIO if target == "default" else float(target)
                n_path = max(int(getattr(self, "n_path", 1)), 1)
                lambdas = (np.geomspace(lam_max, end, n_path + 1)[1:] if 0 < end < lam_max
                           else np.array([end]))
            else:
                lambdas = np.geomspace(lam_max, lam_max * lambda_min_ratio, n_lambdas)
        lambdas = np.asarray(lambdas, dtype=float)
        if lambdas.ndim != 1 or lambdas.size == 0 or np.any(lambdas < 0):
            raise ValueError("lambdas must be a non-empty 1-d sequence of non-negative numbers")
        records = _run_path(model, loss_fn, data, pen, lambdas, self._opts(), self._data_loss(), val_data)
        return model, lam_max, records

    def _set_fitted(self, model, lam_max, records, state_index=-1):
        model.load_state_dict(records[state_index].state)
        self.module_ = model.eval()
        self.lambda_max_ = float(lam_max)
        self.path_ = records[: len(records) if state_index == -1 else state_index + 1]
        self.lambda_fit_ = records[state_index].lam
        self.support_ = records[state_index].selected.copy()
        self.selected_features_ = np.flatnonzero(self.support_)
        self.feature_importances_ = _importances(self.path_, self.n_features_in_)
        return self

    # --- public API
    def fit(self, X, y):
        data = self._problem(X, y)
        lam = "default" if self.lam is None else float(self.lam)
        if lam != "default" and lam < 0:
            raise ValueError(f"lam must be >= 0, got {lam}")
        model, lam_max, records = self._path_from(data[:2], data[2], None, target=lam)
        return self._set_fitted(model, lam_max, records)

    def path(self, X, y, lambdas=None, n_lambdas=50, lambda_min_ratio=1e-2, X_val=None, y_val=None):
        """Regularisation path from ``lambda_max`` down (warm starts); a list of
        :class:`PathRecord`. The estimator is left fitted at the last lambda."""
        data = self._problem(X, y)
        val = None
        if X_val is not None:
            Xv = self._validate_X(X_val, reset=False)
            val = (self._tensor(Xv), self._targets(np.asarray(y_val), fitted=True)[0])
        model, lam_max, records = self._path_from(data[:2], data[2], lambdas, val, n_lambdas,
                                                  lambda_min_ratio)
        self._set_fitted(model, lam_max, records)
        return records

    def _get_support_mask(self):
        self._check_fitted()
        return self.support_

    def _forward(self, X):
        self._check_fitted()
        X = self._validate_X(X, reset=False)
        with torch.no_grad():
            return self.module_(self._tensor(X)).cpu().numpy()

    def __sklearn_is_fitted__(self):
        return hasattr(self, "module_")  # ``lam`` is a parameter, not a fitted attribute

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


class SPINNRegressor(RegressorMixin, _SPINNBase):
    """Sparse-input neural network regression (MSE on the standardised target ``(y - mean)/sd``,
    so ``lam`` and ``lambda_0`` do not depend on the scale of y). See the module docstring.

    Parameters
    ----------
    lam : penalty level (None: ``DEFAULT_LAMBDA_RATIO * lambda_max``).
    penalty : a :class:`~glassnet.penalties.Penalty` or a name (default ``"group_mcp"``:
        its concavity keeps the relevant inputs nearly unshrunk and the noise inputs out), ``"group_lasso"``,
        ``"sparse_group_lasso"``, ``"group_mcp"``, ``"composite_mcp"``, ``"l1"``, ``"mcp"``);
        its ``lam`` is replaced along the path.
    hidden : hidden-layer sizes (``()``: a sparse GLM); activation: tanh / relu / sigmoid / identity.
    lambda_0 : ridge on the weights above the first layer (None: ``DEFAULT_LAMBDA_0`` of the loss).
    n_path : number of warm-start lambdas from ``lambda_max`` down to ``lam``.
    optimizer, lr, max_epochs, tol : proximal gradient (``"sgd"``, with backtracking) or Adam;
        ``lr`` is the initial step (2.0, below the MCP's gamma = 3); each lambda stops after
        ``max_epochs`` or once the objective changes by less than ``tol`` (relative).
    random_state, dtype : seed of the initial weights; ``"float32"`` (fast) or ``"float64"``.
    """

    _classification = False
    _loss_name = "mse"

    def _targets(self, y, fitted=False):
        y = np.asarray(y, dtype=float)
        if not fitted:  # the net fits the standardised target, so lambda and lambda_0 are unit-free
            self.y_mean_, self.y_scale_ = float(y.mean()), float(y.std()) or 1.0
        return self._tensor((y - self.y_mean_) / self.y_scale_), 1

    def predict(self, X):
        return self._forward(X).reshape(-1) * self.y_scale_ + self.y_mean_


class SPINNClassifier(ClassifierMixin, _SPINNBase):
    """Sparse-input neural network classifier: binary logistic (one logit) or softmax (K >= 3).

    Parameters as :class:`SPINNRegressor`.
    """

    _classification = True

    @property
    def _loss_name(self):
        return "logistic" if len(self.classes_) == 2 else "softmax"

    def _targets(self, y, fitted=False):
        if not fitted:
            self._le = LabelEncoder().fit(y)
            self.classes_ = self._le.classes_
        yi = self._le.transform(y)
        if len(self.classes_) == 2:
            return self._tensor(yi.astype(float)), 1
        return torch.as_tensor(yi, dtype=torch.long), len(self.classes_)

    def decision_function(self, X):
        g = self._forward(X)
        return g.reshape(-1) if len(self.classes_) == 2 else g

    def predict_proba(self, X):
        g = torch.as_tensor(self._forward(X))
        if len(self.classes_) == 2:
            p1 = torch.sigmoid(g.reshape(-1)).numpy()
            return np.column_stack([1 - p1, p1])
        return torch.softmax(g, dim=1).numpy()

    def predict(self, X):
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


# ----------------------------------------------------------------- cross-validation


def _fold_losses(est, X_tr, y_tr, X_va, y_va, lambdas):
    torch.set_num_threads(1)
    est = clone(est)
    est.n_features_in_ = X_tr.shape[1]
    data = est._problem(X_tr, y_tr)
    val = (est._tensor(X_va), est._targets(y_va, fitted=True)[0])
    _, _, records = est._path_from(data[:2], data[2], lambdas, val)
    return np.array([r.val_loss for r in records])


class _CVMixin:
    """K-fold CV over a shared lambda grid (joblib ``n_jobs``), then a refit down to the choice."""

    def fit(self, X, y):
        data = self._problem(X, y)
        X_np, y_np = data[0].cpu().numpy(), np.asarray(y)
        model = self._build(X_np.shape[1], data[2])
        lam_max = _start(model, self._loss_fn(), data[:2], self._penalty())
        lambdas = np.geomspace(lam_max, lam_max * self.lambda_min_ratio, int(self.n_lambdas))
        splitter = (StratifiedKFold if self._classification else KFold)(
            self.cv, shuffle=True, random_state=self.random_state)
        losses = Parallel(n_jobs=self.n_jobs)(
            delayed(_fold_losses)(self, X_np[tr], y_np[tr], X_np[va], y_np[va], lambdas)
            for tr, va in splitter.split(X_np, y_np)
        )
        losses = np.stack(losses)
        idx, mean, se = _choose(lambdas, losses, self.selection)
        self.cv_results_ = {"lambda": lambdas, "mean_val_loss": mean, "se_val_loss": se, "fold_val_loss": losses}
        self.lambda_best_ = float(lambdas[idx])
        self.lambda_min_ = float(lambdas[int(np.nanargmin(mean))])
        model, lam_max, records = self._path_from(data[:2], data[2], lambdas[: idx + 1])
        return self._set_fitted(model, lam_max, records)


_CV_DOC = """
    K-fold cross-validation of the lambda path. ``selection="1se"`` (the regressor's default)
    takes the largest lambda within one standard error of the best mean validation loss (plain
    CV minimisers over-select with convex penalties); ``"min"`` (the classifier's default) takes
    the minimiser: with group MCP the binary CV curves fall in steps as blocks of inputs enter,
    and the wide fold spread let the 1-SE band reach back to an early plateau (4 of 6 inputs at
    n = 1000 on the simulation, where ``"min"`` kept exactly the 6). Extra parameters: ``cv`` folds, ``n_lambdas`` and
    ``lambda_min_ratio`` (grid ``lambda_max`` .. ``lambda_max * lambda_min_ratio``),
    ``selection`` (``"1se"`` or ``"min"``), ``n_jobs`` (joblib, over folds).
    Fitted: ``cv_results_``, ``lambda_best_``, ``lambda_min_`` and those of the base estimator.
"""


def _cv_init(self, penalty, hidden, activation, lambda_0, cv, n_lambdas, lambda_min_ratio, selection,
             optimizer, lr, max_epochs, tol, n_jobs, random_state, dtype, verbose):
    self.penalty = penalty
    self.hidden = hidden
    self.activation = activation
    self.lambda_0 = lambda_0
    self.cv = cv
    self.n_lambdas = n_lambdas
    self.lambda_min_ratio = lambda_min_ratio
    self.selection = selection
    self.optimizer = optimizer
    self.lr = lr
    self.max_epochs = max_epochs
    self.tol = tol
    self.n_jobs = n_jobs
    self.random_state = random_state
    self.dtype = dtype
    self.verbose = verbose


class SPINNRegressorCV(_CVMixin, SPINNRegressor):
    __doc__ = "SPINN regression with lambda chosen by cross-validation." + _CV_DOC

    def __init__(self, penalty="group_mcp", hidden=(10,), activation="tanh", lambda_0=None, cv=5,
                 n_lambdas=30, lambda_min_ratio=1e-2, selection="1se", optimizer="sgd", lr=2.0,
                 max_epochs=300, tol=1e-5, n_jobs=None, random_state=None, dtype="float32",
                 verbose=False):
        _cv_init(self, penalty, hidden, activation, lambda_0, cv, n_lambdas, lambda_min_ratio,
                 selection, optimizer, lr, max_epochs, tol, n_jobs, random_state, dtype, verbose)


class SPINNClassifierCV(_CVMixin, SPINNClassifier):
    __doc__ = "SPINN classification with lambda chosen by cross-validation." + _CV_DOC

    def __init__(self, penalty="group_mcp", hidden=(10,), activation="tanh", lambda_0=None, cv=5,
                 n_lambdas=30, lambda_min_ratio=1e-2, selection="min", optimizer="sgd", lr=2.0,
                 max_epochs=300, tol=1e-5, n_jobs=None, random_state=None, dtype="float32",
                 verbose=False):
        _cv_init(self, penalty, hidden, activation, lambda_0, cv, n_lambdas, lambda_min_ratio,
                 selection, optimizer, lr, max_epochs, tol, n_jobs, random_state, dtype, verbose)


# ----------------------------------------------------------------- integrative analysis


class IntegrativeSPINN(GlassnetEstimator):
    """Integrative SPINN over M data sets sharing the same p features (our notes).

    One first layer per data set, shared upper layers (:class:`~glassnet.nn.spinn.IntegrativeSPINNNet`),
    and the coupling penalty ``sum_j P_j[sum_m Omega_alpha(w_jm; lambda)]``
    (:class:`~glassnet.penalties.IntegrativePenalty`) on the stacked first-layer groups.
    The loss is the mean over all samples of the task's loss (MSE on each set's
    standardised target, or logistic for binary labels).

    ``fit(Xs, ys)`` takes lists (one array per data set, possibly different n_m). With
    ``lam=None`` lambda is chosen by ``cv``-fold CV (folds stratified by data set) with the
    one-standard-error rule. Fitted: ``support_`` (features active in any data set),
    ``support_per_dataset_`` (M x p), ``selected_features_``, ``feature_importances_``
    (largest lambda at which the feature is active), ``path_``, ``module_``.
    """

    def __init__(self, lam=None, penalty=None, task="regression", hidden=(10,), activation="tanh",
                 lambda_0=None, cv=5, n_lambdas=20, lambda_min_ratio=1e-2, selection="1se",
                 optimizer="sgd", lr=2.0, max_epochs=300, tol=1e-5, n_jobs=None, random_state=None,
                 dtype="float32", verbose=False):
        self.lam = lam
        self.penalty = penalty
        self.task = task
        self.hidden = hidden
        self.activation = activation
        self.lambda_0 = lambda_0
        self.cv = cv
        self.n_lambdas = n_lambdas
        self.lambda_min_ratio = lambda_min_ratio
        self.selection = selection
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.tol = tol
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.dtype = dtype
        self.verbose = verbose

    _opts = _SPINNBase._opts

    def _penalty(self):
        pen = IntegrativePenalty() if self.penalty is None else get_penalty(self.penalty)
        if not isinstance(pen, IntegrativePenalty):
            raise ValueError("IntegrativeSPINN needs an IntegrativePenalty (or None for the default)")
        return pen

    def _stack(self, Xs, ys=None, fitted=False):
        """Validate the lists; return stacked tensors (X, y, m)."""
        if isinstance(Xs, np.ndarray) or not isinstance(Xs, (list, tuple)) or len(Xs) == 0:
            raise ValueError("Xs must be a non-empty list of 2-d arrays, one per data set")
        if ys is not None and (not isinstance(ys, (list, tuple)) or len(ys) != len(Xs)):
            raise ValueError(f"ys must be a list with one target array per data set ({len(Xs)})")
        if self.task not in ("regression", "classification"):
            raise ValueError(f"task must be 'regression' or 'classification', got {self.task!r}")
        from sklearn.utils.validation import check_array, check_consistent_length

        Xs = [check_array(X, dtype=np.float64, ensure_all_finite=True) for X in Xs]
        widths = {X.shape[1] for X in Xs}
        if len(widths) != 1:
            raise ValueError(f"all data sets must share the same features; got feature counts "
                             f"{[X.shape[1] for X in Xs]}")
        p = widths.pop()
        if fitted and (p != self.n_features_in_ or len(Xs) != self.n_datasets_):
            raise ValueError(f"expected {self.n_datasets_} data sets with {self.n_features_in_} features")
        m = np.concatenate([np.full(X.shape[0], i) for i, X in enumerate(Xs)])
        X = np.vstack(Xs)
        if ys is None:
            return self._tensor(X), None, torch.as_tensor(m)
        ys = [np.asarray(y).ravel() for y in ys]
        for X_, y_ in zip(Xs, ys):
            check_consistent_length(X_, y_)
        if self.task == "classification":
            y = np.concatenate(ys)
            if not fitted:
                self.classes_ = np.unique(y)
                if self.classes_.size != 2:
                    raise ValueError(f"classification is binary here; y has {self.classes_.size} classes")
            yt = self._tensor((y == self.classes_[1]).astype(float))
        else:
            if not fitted:
                self.y_mean_ = np.array([y.mean() for y in ys])
                self.y_scale_ = np.array([y.std() or 1.0 for y in ys])
            yt = self._tensor(np.concatenate([(y - self.y_mean_[i]) / self.y_scale_[i]
                                              for i, y in enumerate(ys)]))
        return self._tensor(X), yt, torch.as_tensor(m)

    def _data_loss(self):
        loss = LOSSES["mse" if self.task == "regression" else "logistic"]
        return lambda model, X, y, m: loss(model(X, m), y)

    def _loss_fn(self):
        loss = self._data_loss()
        lam0 = (DEFAULT_LAMBDA_0["mse" if self.task == "regression" else "logistic"]
                if self.lambda_0 is None else float(self.lambda_0))
        return lambda model, X, y, m: loss(model, X, y, m) + lam0 * model.ridge()

    def _build(self, p, M):
        if self.random_state is not None:
            torch.manual_seed(int(self.random_state))
        return IntegrativeSPINNNet(p, M, 1, tuple(self.hidden), self.activation).to(
            self._tensor(np.zeros(1)).dtype)

    def _path(self, data, M, lambdas=None, val=None):
        model = self._build(data[0].shape[1], M)
        pen = self._penalty()
        lam_max = _start(model, self._loss_fn(), data, pen)
        if lambdas is None:
            lambdas = np.geomspace(lam_max, lam_max * self.lambda_min_ratio, int(self.n_lambdas))
        records = _run_path(model, self._loss_fn(), data, pen, np.asarray(lambdas, float), self._opts(),
                            self._data_loss(), val)
        return model, lam_max, records

    def fit(self, Xs, ys):
        data = self._stack(Xs, ys)
        M, p = len(Xs), data[0].shape[1]
        self.n_features_in_, self.n_datasets_ = p, M
        model = self._build(p, M)
        lam_max = _start(model, self._loss_fn(), data, self._penalty())
        if self.lam is not None:
            end = float(self.lam)
            lambdas = np.geomspace(lam_max, end, int(self.n_lambdas) + 1)[1:] if 0 < end < lam_max else [end]
            model, lam_max, records = self._path(data, M, lambdas)
        else:
            lambdas = np.geomspace(lam_max, lam_max * self.lambda_min_ratio, int(self.n_lambdas))
            groups = data[2].numpy()
            folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state).split(groups, groups)
            losses = np.stack(Parallel(n_jobs=self.n_jobs)(
                delayed(_integrative_fold)(self, data, tr, va, M, lambdas) for tr, va in folds))
            idx, mean, se = _choose(lambdas, losses, self.selection)
            self.cv_results_ = {"lambda": lambdas, "mean_val_loss": mean, "se_val_loss": se}
            self.lambda_best_ = float(lambdas[idx])
            model, lam_max, records = self._path(data, M, lambdas[: idx + 1])
        self.module_ = model.eval()
        self.lambda_max_ = float(lam_max)
        self.path_ = records
        self.lambda_fit_ = records[-1].lam
        W1 = model.W1.detach()
        self.support_per_dataset_ = (W1.norm(dim=1) > 0).cpu().numpy()
        self.support_ = records[-1].selected.copy()
        self.selected_features_ = np.flatnonzero(self.support_)
        self.feature_importances_ = _importances(records, p)
        return self

    def __sklearn_is_fitted__(self):
        return hasattr(self, "module_")

    def get_support(self, indices=False):
        self._check_fitted()
        return self.selected_features_ if indices else self.support_

    def predict(self, X, dataset: int):
        """Predictions for samples of data set ``dataset`` (mean response or class label)."""
        self._check_fitted()
        if not 0 <= int(dataset) < self.n_datasets_:
            raise ValueError(f"dataset must be in [0, {self.n_datasets_}), got {dataset}")
        from sklearn.utils.validation import check_array

        X = check_array(X, dtype=np.float64)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features; the model was fitted with {self.n_features_in_}")
        with torch.no_grad():
            g = self.module_(self._tensor(X), torch.full((X.shape[0],), int(dataset))).numpy().ravel()
        if self.task == "regression":
            return g * self.y_scale_[dataset] + self.y_mean_[dataset]
        return self.classes_[(g > 0).astype(int)]


def _integrative_fold(est, data, tr, va, M, lambdas):
    torch.set_num_threads(1)
    tr_data = tuple(t[tr] for t in data)
    va_data = tuple(t[va] for t in data)
    _, _, records = clone(est)._path(tr_data, M, lambdas, va_data)
    return np.array([r.val_loss for r in records])
