"""Integrative SPINN over M data sets that share their p features (our notes).

One first layer per data set, shared upper layers (:class:`~glassnet.nn.spinn.IntegrativeSPINNNet`),
and the coupling penalty ``sum_j P_j[sum_m Omega_alpha(w_jm; lambda)]``
(:class:`~glassnet.penalties.IntegrativePenalty`) on the stacked first-layer groups, so a
feature is in or out of every data set together while its coefficients stay each set's own.
It runs on the same engine as the single-set estimators (grid, path, CV base, rules, relaxed
refit) and accepts the same options.
"""

from __future__ import annotations

import numbers
from typing import ClassVar

import numpy as np
import torch
from sklearn.utils._param_validation import StrOptions

from glassnet.estimators.base import (
    Interval,
    _numeric_target,
    _sparse_as_value_error,
    check_finite_target,
    torch_dtype,
)
from glassnet.estimators.spinn._engine import generator, start
from glassnet.estimators.spinn.cv import (
    CV_CONSTRAINTS,
    CV_FITTED,
    RELAX_LAMBDA_0,
    RELAX_RIDGES_REGRESSION,
    _CVBase,
    weighted_inputs,
)
from glassnet.estimators.spinn.single import (
    N_PATH,
    REGRESSION_LOSSES,
    reset_parameters,
    seed_of,
    warn_if_nothing_selected,
)
from glassnet.model_selection import make_folds
from glassnet.nn.spinn import IntegrativeSPINNNet
from glassnet.paths import Batch, follow, grid_to
from glassnet.penalties import IntegrativePenalty, get_penalty
from glassnet.progress import progress
from glassnet.utils import fit_context

__all__ = ["IntegrativeSPINN"]


class IntegrativeSPINN(_CVBase):
    """Integrative SPINN: ``fit(Xs, ys)`` on lists (one array per data set, possibly different
    n_m; DataFrames keep their column names in ``feature_names_in_``).

    With ``lam=None`` lambda is chosen by ``cv``-fold CV (folds stratified by data set, and by
    class for classification) with the rule ``selection`` (the single-set CV estimators'
    options: ``"relaxed"`` by default, ``"relaxed-1se"``, ``"min"``, ``"1se"``, ``"paired"``),
    and ``relax`` refits each data set's network on the selected inputs without the sparsity
    penalty, its ridge chosen by the same folds. Each fold standardises its training targets
    with its own per-set means and scales. ``loss`` (regression): ``"huber"`` (default, as the
    single-set regressors) or ``"squared_error"``.

    Fitted: ``support_`` (features active in any data set), ``support_per_dataset_`` (M x p),
    ``selected_features_``, ``feature_importances_``, ``path_``, ``module_``, ``relaxed_``,
    ``relax_lambda_0_``; with ``lam=None`` also ``cv_results_``, ``relaxed_cv_results_``,
    ``lambda_best_`` and ``lambda_min_`` (the lambda CV; ``plot_cv`` draws it).
    ``predict(X, dataset)`` predicts samples of data set ``dataset`` (an int in ``[0, M)``);
    ``score(X, y, dataset)`` is R^2 or accuracy on that data set.
    """

    _fitted_attributes: ClassVar[dict] = {
        **CV_FITTED, "y_mean_": "array", "y_scale_": "array", "huber_delta_": "float|none",
        "classes_": "array", "n_datasets_": "int", "support_per_dataset_": "array"}
    _parameter_constraints: ClassVar[dict] = {
        **CV_CONSTRAINTS,
        "lam": [Interval(numbers.Real, 0, None, closed="left"), None],
        "penalty": [StrOptions({"integrative"}), IntegrativePenalty, None],
        "task": [StrOptions({"regression", "classification"})],
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
        "n_path": N_PATH,
    }

    def __init__(self, lam=None, penalty=None, task="regression", hidden=(10,), activation="tanh",
                 lambda_0=None, cv=5, n_lambdas=30, lambda_min_ratio=1e-2, selection="relaxed",
                 start="screen", relax=True, loss="huber", optimizer="sgd", lr=2.0, max_epochs=300,
                 tol=1e-5, n_path=10, n_jobs=None, random_state=None, dtype="float32", device="cpu",
                 verbose=False):
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
        self.start = start
        self.relax = relax
        self.loss = loss
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.tol = tol
        self.n_path = n_path
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.dtype = dtype
        self.device = device
        self.verbose = verbose

    @property
    def _classification(self):
        return self.task == "classification"

    @property
    def _relax_ridges(self):
        return RELAX_LAMBDA_0 if self._classification else RELAX_RIDGES_REGRESSION

    @property
    def _loss_name(self):
        return "logistic" if self._classification else "mse"

    def _penalty(self):
        pen = IntegrativePenalty() if self.penalty is None else get_penalty(self.penalty)
        if not isinstance(pen, IntegrativePenalty):
            raise ValueError("IntegrativeSPINN needs an IntegrativePenalty (or None for the default)")
        return pen

    def _build(self, p, n_out, seed):
        net = IntegrativeSPINNNet(p, self.n_datasets_, 1, tuple(self.hidden), self.activation)
        return reset_parameters(net.to(torch_dtype(self.dtype)), generator(seed)).to(self._device)

    def _support_mask(self, record):
        return weighted_inputs(record.state["W1"])  # (M, t, p) -> (M, p)

    # --- data
    def _check_X(self, X, reset):
        from sklearn.utils.validation import _check_feature_names, check_array

        _check_feature_names(self, X, reset=reset)
        X = _sparse_as_value_error(check_array, X, dtype=np.float64, ensure_all_finite=True)
        self._check_numeric_features(X)
        return X

    def _lists(self, Xs, ys, sample_weight):
        """Validate the lists; return stacked X, y, sample weights and data-set index m."""
        if isinstance(Xs, np.ndarray) or not isinstance(Xs, (list, tuple)) or len(Xs) == 0:
            raise ValueError("Xs must be a non-empty list of 2-d arrays, one per data set")
        if not isinstance(ys, (list, tuple)) or len(ys) != len(Xs):
            raise ValueError(f"ys must be a list with one target array per data set ({len(Xs)})")
        from sklearn.utils.validation import _check_sample_weight, check_consistent_length

        for name, seq in (("Xs", Xs), ("ys", ys)):
            gone = [i for i, v in enumerate(seq) if v is None]
            if gone:
                raise ValueError(f"{name}[{gone[0]}] is None; every data set needs its data")
        Xs = [self._check_X(X, reset=(i == 0)) for i, X in enumerate(Xs)]
        if len({X.shape[1] for X in Xs}) != 1:
            raise ValueError(f"all data sets must share the same features; got feature counts "
                             f"{[X.shape[1] for X in Xs]}")
        ys = [np.asarray(y) for y in ys]
        for X_, y_ in zip(Xs, ys):
            if y_.ndim > 1 and not (y_.ndim == 2 and y_.shape[1] == 1):
                raise ValueError(f"each y must be 1-d (got shape {y_.shape})")
            check_consistent_length(X_, y_.ravel())
        if sample_weight is None:
            sws = [None] * len(Xs)
        elif isinstance(sample_weight, (list, tuple)) and len(sample_weight) == len(Xs):
            sws = sample_weight
        else:
            raise ValueError("sample_weight must be None or a list with one weight array per data set")
        sw = []
        for i, (w, X) in enumerate(zip(sws, Xs)):
            try:
                sw.append(_check_sample_weight(w, X, dtype=np.float64, ensure_non_negative=True))
            except ValueError as err:
                raise ValueError(f"sample_weight of data set {i}: {err}") from err
        sw = np.concatenate(sw)
        m = np.concatenate([np.full(X.shape[0], i) for i, X in enumerate(Xs)])
        X, y = np.vstack(Xs), np.concatenate([y.ravel() for y in ys])
        if sample_weight is not None:  # a zero weight is the row left out (folds included)
            keep = sw > 0
            X, y, sw, m = X[keep], y[keep], sw[keep], m[keep]
        if X.shape[0] < 2:
            raise ValueError(f"IntegrativeSPINN needs at least 2 samples; got {X.shape[0]}")
        if self._classification:
            check_finite_target(y)
            self.classes_ = np.unique(y)
            if self.classes_.size != 2:
                raise ValueError(f"classification is binary here; y has {self.classes_.size} classes")
        else:
            y = _numeric_target(y).astype(np.float64)  # complex or non-numeric: a ValueError
            check_finite_target(y)
        self._check_per_dataset(y, m, len(Xs))
        return X, y, sw, m

    def _check_per_dataset(self, y, m, M):
        """Every data set: 2 samples, 2 per fold stratum when folds are drawn (by data set,
        and class; fewer folds than ``cv`` when a stratum is smaller, as ``make_folds`` says),
        and a regression target that can be standardised (issue 25)."""
        from glassnet.estimators.base import check_not_tiny

        clf, folds = self._classification, self.lam is None or self.relax
        for i in range(M):
            yi = y[m == i]
            if yi.size < 2:
                raise ValueError(f"data set {i} has {yi.size} sample; IntegrativeSPINN needs at "
                                 "least 2 samples per data set")
            counts = np.unique(yi, return_counts=True)[1] if clf else [yi.size]
            if clf and len(counts) < 2:
                raise ValueError(f"data set {i} has a single class ({yi[0]!r}); each data set "
                                 "needs samples of both classes (its own intercept is fitted)")
            if folds and min(counts) < 2:
                raise ValueError(f"data set {i} has 1 sample of a class: the folds are stratified by "
                                 "data set and class, so each needs at least 2")
            if not clf:
                check_not_tiny(yi, f"y of data set {i}")

    def _batch(self, X, y, sw, splits, Xt=None):
        Xt = self._tensor(X).to(self._device) if Xt is None else Xt
        n, M, m = X.shape[0], self.n_datasets_, self._m
        Ys, Ws, Vs, scales = [], [], [], []
        for tr, va in splits:
            if self._classification:
                Ys.append(self._tensor((y == self.classes_[1]).astype(float)))
                scales.append(None)
            else:
                mean, scale = np.zeros(M), np.ones(M)
                for i in range(M):
                    r = tr[m[tr] == i]
                    if len(r):
                        w = sw[r] / sw[r].sum()
                        mean[i] = np.sum(w * y[r])
                        scale[i] = float(np.sqrt(np.sum(w * (y[r] - mean[i]) ** 2))) or 1.0
                Ys.append(self._tensor((y - mean[m]) / scale[m]))
                scales.append((mean, scale))
            Ws.append(self._column(n, tr, sw, Xt.dtype))
            Vs.append(self._column(n, va, sw, Xt.dtype) if va is not None else None)
        dev = Xt.device
        V = None if any(v is None for v in Vs) else torch.stack(Vs, 1).to(dev)
        return Batch(Xt, torch.stack(Ys, 1).to(dev), torch.stack(Ws, 1).to(dev), V,
                     (torch.as_tensor(m, device=dev),)), scales

    # --- fit and predict
    def fit(self, Xs, ys, sample_weight=None):
        """Fit on lists ``Xs`` (one (n_m, p) array per data set) and ``ys`` (their targets);
        ``sample_weight``: None or one weight array per data set."""
        self._clear_fitted()  # a refit after set_params (lam, task) keeps nothing stale
        X, y, sw, m = self._lists(Xs, ys, sample_weight)
        self._on_device(X)
        self.n_features_in_, self.n_datasets_, self._m = X.shape[1], len(Xs), m
        strata = m * 2 + (np.searchsorted(self.classes_, y) if self._classification else 0)
        try:
            if self.lam is None:
                self._cv_select(X, y, sw, strata, True, 1)
            else:
                self._fit_at(X, y, sw, strata)
        finally:
            del self._m
        self.support_per_dataset_ = weighted_inputs(self.module_.W1)
        self.support_ = self.support_per_dataset_.any(0)
        self.selected_features_ = np.flatnonzero(self.support_)
        warn_if_nothing_selected(self, X)
        return self

    def _fit_at(self, X, y, sw, strata):
        """The path to the given ``lam``; with ``relax`` the refit's ridge chosen by ``cv``
        folds of fresh-start refits, the refit kept (no path CV to compare it with)."""
        lam = float(self.lam)  # declared >= 0 and finite
        n = X.shape[0]
        batch, scales = self._batch(X, y, sw, [(np.arange(n), None)])
        with fit_context(self.random_state, self._work(X)) as seed0, \
                progress(total=max(int(self.n_path), 1), desc="IntegrativeSPINN", verbose=self.verbose) as bar:
            seed = seed_of(seed0)
            net = self._build(X.shape[1], 1, seed)
            st = start([net], self._problem(n), batch, self.start, [seed], estimate=True)
            lam_max = float(st.lam_max[0])
            lambdas, idx = grid_to(lam_max, lam, self.n_path,
                                   down=not st.up[0], lambda_min_ratio=self.lambda_min_ratio)
            (records,), _ = follow([net], st.problem, batch, lambdas, up=st.up[0],
                                   masks=None if st.masks[0] is None else [st.masks[0]], bar=bar)
            self._set_scaling(scales[0])
            self._set_fitted(net, lam_max, records, idx, st.problem, st.masks[0])
            folds = make_folds(n, self.cv, strata, True, random_state=seed % (2**32)) if self.relax else []
            fb = self._batch(X, y, sw, folds, Xt=batch.X)[0] if self.relax else None
            self._relax_refit(lambda s: self._build(X.shape[1], 1, s), st.problem, batch, fb, records, idx,
                              float("inf"), seed, bar, warm_full=True)

    def get_support(self, indices=False):
        """Mask (or indices) of the features active in any data set."""
        self._check_fitted()
        return self.selected_features_ if indices else self.support_

    def _dataset(self, dataset):
        if isinstance(dataset, (bool, np.bool_)) or not isinstance(dataset, numbers.Integral):
            raise ValueError(f"dataset must be an int in [0, {self.n_datasets_}), got {dataset!r}")
        if not 0 <= int(dataset) < self.n_datasets_:
            raise ValueError(f"dataset must be in [0, {self.n_datasets_}), got {dataset}")
        return int(dataset)

    def predict(self, X, dataset: int):
        """Predictions for samples ``X`` of data set ``dataset`` (an int in ``[0, M)``, the
        position of the data set in the lists given to ``fit``): the mean response
        (regression) or the class label (classification)."""
        self._check_fitted()
        dataset = self._dataset(dataset)
        X = self._check_X(X, reset=False)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features; the model was fitted with {self.n_features_in_}")
        params = {k: v.detach().cpu().double() for k, v in self.module_.state_dict().items()}
        Xt = torch.tensor(np.ascontiguousarray(X), dtype=torch.float64)
        with torch.no_grad():
            g = torch.func.functional_call(self.module_.cpu(), params, (Xt, torch.full((X.shape[0],), dataset)))
        g = g.numpy().ravel()
        if self.task == "regression":
            return g * self.y_scale_[dataset] + self.y_mean_[dataset]
        return self.classes_[(g > 0).astype(int)]

    def score(self, X, y, dataset: int):
        """R^2 (regression) or accuracy (classification) on samples of data set ``dataset``."""
        from sklearn.metrics import accuracy_score, r2_score

        pred = self.predict(X, dataset)
        y = np.asarray(y).ravel()
        return float(r2_score(y, pred) if self.task == "regression" else accuracy_score(y, pred))
