"""The shared workflow of the deep IRLS-ADMM estimators (binary net, multinomial net, Algorithm 1):
labels and attributes, prediction, and the selection by cross-validated net rankings."""

from __future__ import annotations

import numbers
import warnings
from typing import ClassVar

import numpy as np
import torch
from scipy.special import expit, softmax
from sklearn.base import ClassifierMixin
from sklearn.feature_selection import SelectorMixin
from sklearn.utils._param_validation import Hidden, StrOptions
from sklearn.utils.validation import check_is_fitted

from glassnet.estimators.base import (
    DEVICE,
    DTYPE,
    EPOCHS,
    N_JOBS,
    NONNEG,
    POSITIVE,
    RANDOM_STATE,
    GlassnetEstimator,
    Interval,
    Reals,
    torch_dtype,
)
from glassnet.estimators.irls_admm_scores import (
    _candidate_losses,
    held_out_log_loss,
    near_duplicate_groups,
    ridge_logistic,
    ridge_path_losses,
)
from glassnet.model_selection import SELECTION_RULES, choose, cv_path, make_folds, plot_cv_curve
from glassnet.training import OPTIMIZERS, fit, split_validation

__all__ = [
    "DUPLICATE_CORR",
    "MULTINOMIAL_SCREEN",
    "MULTINOMIAL_SELECT_C",
    "REFIT_CS",
    "SCREEN",
    "SELECT_C",
    "SELECT_CV",
    "SELECT_C_GRID",
    "SELECT_RULE",
    "TALL_DUPLICATE_CORR",
    "TALL_SELECT_C",
    "WIDE_EPOCHS",
    "held_out_log_loss",
    "near_duplicate_groups",
    "ridge_logistic",
    "ridge_path_losses",
]

# Selection (issue 24). In each of ``cv`` folds a net is trained on the fold's training rows
# only, ranks the features, and the candidate sets (its top-g near-duplicate groups) are scored
# by the held-out log-loss of a ridge logistic regression (scikit-learn's ``C = select_C``) on
# those columns; ``glassnet.model_selection.cv_path`` builds the (fold x candidate) table and
# ``choose(..., rule)`` picks the number of groups, which is then applied to the ranking of the
# net trained on all rows. Ranking inside the folds keeps the score honest when p >> n: a set
# ranked on all rows looks good in CV whatever its size, which made the issue-9 default keep
# ~1,000 genes. Defaults were chosen on tuning data only (docs/history/irls_admm.md).
# unrolled stages: the net stores k_max x i_max x n_features numbers (F), so the audit's
# k_max = 1e9 asked for terabytes; the paper's nets use k_max = 3, i_max = 4, ADMM 50 x 200
MAX_K, MAX_I = 1000, 10_000
# constructor arguments both IRLS-ADMM nets share and ADMMLogisticRegression's common part
# (scikit-learn's declarations, checked at the start of fit; issue 25)
ADMM_CONSTRAINTS = {
    "k_max": [Interval(numbers.Integral, 1, MAX_K, closed="both")],
    "i_max": [Interval(numbers.Integral, 1, MAX_I, closed="both")],
    "lam": [NONNEG],
    "fit_intercept": ["boolean"],
    "solver": [StrOptions({"auto", "primal", "kernel"})],
    "dtype": DTYPE,
    "device": DEVICE,
}
NET_CONSTRAINTS = {
    **ADMM_CONSTRAINTS,
    "rho_init": [POSITIVE],
    "F_init": [POSITIVE],
    "t_init": [POSITIVE],
    "n_features_to_select": [StrOptions({"auto", "single", "z"}),
                             Interval(numbers.Integral, 1, None, closed="left")],  # <= p: at fit
    "duplicate_corr": [StrOptions({"auto"}), Interval(numbers.Real, 0, 1, closed="right")],
    "select_C": [StrOptions({"auto"}), POSITIVE, Reals(open_low=True)],
    "selection": [StrOptions(set(SELECTION_RULES))],
    "rule": [StrOptions(set(SELECTION_RULES)), Hidden(StrOptions({"deprecated"}))],
    "cv": [Interval(numbers.Integral, 2, None, closed="left")],
    "screen": [None, StrOptions({"auto"}), Interval(numbers.Integral, 1, None, closed="left")],
    "refit": ["boolean"],
    "optimizer": [StrOptions(set(OPTIMIZERS))],
    "lr": [POSITIVE],
    "max_epochs": [StrOptions({"auto"}), *EPOCHS],
    "patience": [None, Interval(numbers.Integral, 1, None, closed="left")],
    "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
    "random_state": RANDOM_STATE,
    "verbose": ["verbose"],
    "n_jobs": N_JOBS,
}
SELECT_C = 0.1  # binary net; the multinomial net's is MULTINOMIAL_SELECT_C (both chosen on tuning sets)
MULTINOMIAL_SELECT_C = 0.01
DUPLICATE_CORR = 0.9
# select_C="auto" / duplicate_corr="auto" (the binary net's defaults): the values above when X has
# more columns than rows (tuning gene sets), these when it has at least as many rows as columns:
# candidate sets scored by nearly unpenalised fits, and only features correlated at 0.97 or more
# enter as one group. Chosen on breast cancer's tuning splits (first fold of 5-fold CV, shuffle
# seeds 1-12) and the simulation's tuning seeds (docs/history/irls_admm.md, issue 24 fourth pass)
TALL_SELECT_C = 3.0
TALL_DUPLICATE_CORR = 0.97
SELECT_C_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
SELECT_RULE = "1se"
REFIT_CS = np.logspace(-4, 4, 10)  # scikit-learn's LogisticRegressionCV default grid
SELECT_CV = 5  # default ``cv``: folds (fewer when the smallest class has fewer members)
SCREEN = 1000  # binary net, screen="auto": features it sees when there are more (the largest |gradient of E at 0|)
# multinomial net, screen="auto": every column up to this many (all tuning and report sets have fewer);
# a 1000-column screen lost 0.22 accuracy on dense-signal tuning stand-ins (docs/history/irls_admm.md,
# eighth pass); wider data are screened to this many to bound the time (not tuned: no such set)
MULTINOMIAL_SCREEN = 20_000
WIDE_EPOCHS = 1  # max_epochs="auto" when the (screened) data have more columns than rows
MAX_CANDIDATES = 30  # numbers of groups scored (a geometric grid beyond this many)
CONSENSUS = True  # final order from all the nets' rankings (the paper's V_q idea), not the full net's only


def _tensor_like(a, t):
    """``a`` (sample weights, a start) as a tensor of ``t``'s dtype and device; None stays None."""
    return None if a is None else torch.as_tensor(a, dtype=t.dtype, device=t.device)


class _IRLSADMMBase(ClassifierMixin, SelectorMixin, GlassnetEstimator):
    """Shared workflow: labels, ``Phi = [X, 1]``, selection attributes, prediction.

    The intercept is a column of ones appended to ``Phi`` whose ``F`` entries are fixed at 0, so
    it is never penalised. ``coef_`` ((1, n_features) for two classes, (n_classes, n_features)
    for more) and ``intercept_`` follow scikit-learn's linear classifiers and are zero outside
    the selected features; ``decision_function`` reads only the selected columns.
    ``feature_importances_`` and ``ranking_`` are read off ``coef_`` (see ``_set_ranking``).
    """

    # what a fit sets, with its type (glassnet.persistence loads only these, each of its type);
    # beta_intercept_ is one number for two classes, one per class for more
    _fitted_attributes: ClassVar[dict] = {
        "n_features_in_": "int", "feature_names_in_": "array", "classes_": "array", "device_": "str",
        "module_": "module", "beta_": "array", "z_": "array", "beta_intercept_": "float|array",
        "n_stages_": "int", "support_": "array", "selected_features_": "array", "coef_": "array",
        "intercept_": "array", "feature_importances_": "array", "ranking_": "array",
    }

    def _phi(self, X: np.ndarray) -> np.ndarray:
        return np.hstack([X, np.ones((X.shape[0], 1))]) if self.fit_intercept else X

    def _phi_tilde(self, X, y_pm) -> torch.Tensor:
        return torch.as_tensor(y_pm[:, None] * self._phi(X), dtype=torch_dtype(self.dtype))

    def _prepare(self, X, y, sample_weight=None):
        """Checked ``X``, labels as -1/+1 and the weights (None: unweighted) of the rows with a
        positive weight (``_weighted_rows``)."""
        X, y = self._validate_Xy(X, y, classification=True)
        X, y, sw = self._weighted_rows(X, y, sample_weight, classification=True)
        self._check_binary(y)
        self.classes_ = np.unique(y)
        y_pm = np.where(y == self.classes_[1], 1.0, -1.0)
        return X, y_pm, sw

    def _module_kwargs(self, p):
        penalized = np.r_[np.ones(p), np.zeros(int(self.fit_intercept))]
        return {"n_features": p + int(self.fit_intercept), "penalized": penalized, "dtype": torch_dtype(self.dtype)}

    def _set_classifier(self, coef, intercept):
        """``coef_`` of shape (n_outputs, n_features) and ``intercept_`` (n_outputs,), as
        scikit-learn's linear classifiers (one output for two classes); zero outside the selected
        features. Then the ranking that reads off it."""
        coef = np.atleast_2d(np.asarray(coef, dtype=float))
        self.coef_ = np.where(self.support_[None, :], coef, 0.0)
        self.intercept_ = np.atleast_1d(np.asarray(intercept, dtype=float)).copy()
        self._set_ranking()

    def _net_importance(self) -> np.ndarray:
        """Size of each feature's entry in the net's output ``beta_`` (``|beta_|``; the norm over
        classes for the multinomial net): the order in which candidate sets grow."""
        b = np.atleast_2d(self.beta_)
        return np.sqrt((b * b).sum(axis=0))

    def _set_ranking(self):
        """``feature_importances_``: ``||coef_[:, j]||`` (``|coef_|`` for two classes), zero
        outside the selected set. ``ranking_``: every feature, the selected ones first by
        decreasing importance, then the others in the net's order (``|beta_|``). The ranking
        and the signs a user reads (``coef_``) come from the same vector."""
        imp = np.sqrt((self.coef_ * self.coef_).sum(axis=0))
        self.feature_importances_ = imp
        net = self._net_importance()
        sel = np.flatnonzero(self.support_)
        rest = np.flatnonzero(~self.support_)
        self.ranking_ = np.r_[sel[np.argsort(-imp[sel], kind="stable")],
                              rest[np.argsort(-net[rest], kind="stable")]].astype(int)

    def _set_support(self, support):
        self.support_ = np.asarray(support, dtype=bool)
        self.selected_features_ = np.flatnonzero(self.support_)

    def _check_q(self, q):
        p = self.n_features_in_
        if not (isinstance(q, (int, np.integer)) and not isinstance(q, bool) and 1 <= q <= p):
            raise ValueError(
                f"n_features_to_select must be {self._SELECTION_NAMES} or an int in [1, {p}], got {q!r}"
            )

    def _top_q(self, q):
        """The q features with the largest net output (``|beta_|``): the paper's top-q."""
        self._check_q(q)
        support = np.zeros(self.n_features_in_, dtype=bool)
        support[np.argsort(-self._net_importance(), kind="stable")[:q]] = True
        return support

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return self.support_

    def decision_function(self, X):
        """``X @ coef_.T + intercept_`` on the selected features only (``coef_`` is 0 elsewhere);
        shape (n,) for two classes, (n, n_classes) for more."""
        check_is_fitted(self, "coef_")
        X = self._validate_X(X, reset=False)
        S = self.selected_features_
        d = X[:, S] @ self.coef_[:, S].T + self.intercept_
        return d[:, 0] if d.shape[1] == 1 else d

    def predict_proba(self, X):
        """Class probabilities: ``[1 - s(d), s(d)]`` for two classes, ``softmax(d)`` for more."""
        d = self.decision_function(X)
        if d.ndim == 1:
            p1 = expit(d)
            return np.column_stack([1.0 - p1, p1])
        return softmax(d, axis=1)

    def predict(self, X):
        """The most probable class of ``classes_``."""
        d = self.decision_function(X)
        return self.classes_[(d > 0).astype(int)] if d.ndim == 1 else self.classes_[np.argmax(d, axis=1)]

    def plot_weights(self, ax=None, feature_names=None, truth=None, which: str = "coef_"):
        """Bar plot of the weights (selected features in blue), optionally beside the truth.

        ``which="coef_"`` (default) shows the classifier, the vector the ranking and the
        predictions use; ``which="beta_"`` the net's output on all features (the paper's weight
        figures; its signs can differ from ``coef_``, see the class docstring). The y label names
        the attribute plotted. Multinomial models plot ``||coef_[:, j]||`` (or of ``beta_``).
        """
        import matplotlib.pyplot as plt

        check_is_fitted(self, "coef_")
        if which not in ("beta_", "coef_"):
            raise ValueError(f"which must be 'beta_' or 'coef_', got {which!r}")
        W = np.atleast_2d(getattr(self, which))
        w = W[0] if W.shape[0] == 1 else np.sqrt((W * W).sum(axis=0))
        ax = ax if ax is not None else plt.subplots(figsize=(8, 3.5))[1]
        idx = np.arange(w.size)
        sel = np.asarray(self.support_, bool)  # two bar sets: each legend swatch has its colour
        ax.bar(idx[sel], w[sel], color="C0", label=f"{which}, selected (blue)")
        ax.bar(idx[~sel], w[~sel], color="0.7", label=f"{which}, not selected (grey)")
        if truth is not None:
            ax.plot(idx, truth, "rx", label="truth")
        ax.axhline(0, c="k", lw=0.5)
        ax.set_xlabel("feature")
        ax.set_ylabel(which if W.shape[0] == 1 else f"norm over classes of {which}")
        if feature_names is not None:
            ax.set_xticks(idx, labels=list(feature_names), rotation=90, fontsize=7)
        ax.legend(fontsize=8)
        return ax

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags


def _features_at(gs, sizes) -> list[int]:
    """The number of features of each candidate: the top-g groups (``sizes``: cumulative
    group sizes), for every g in ``gs`` (a fold with fewer groups repeats its largest set)."""
    return [int(sizes[min(g, len(sizes)) - 1]) for g in gs]


class _NetSelector(_IRLSADMMBase):
    """Train the net, select features by cross-validated net rankings, refit the classifier.

    Subclasses give the net (``_make_net``), its training data (``_net_data``), its loss
    (``_net_loss``) and the label encoding (``_encode``); ``y`` arrives here as class indices.
    """

    _SELECTION_NAMES = "'auto', 'single', 'z'"
    _parameter_constraints: ClassVar[dict] = NET_CONSTRAINTS
    # the net's training and its selection (the CV attributes only when a CV chose the support)
    _fitted_attributes: ClassVar[dict] = {
        **_IRLSADMMBase._fitted_attributes, "history_": "record", "screened_features_": "array",
        "refit_C_": "float|none", "consensus_importances_": "array", "cv_losses_": "array",
        "select_C_": "array", "duplicate_corr_": "float",
        "validation_curve_": "dict[float]", "n_groups_": "int",
        "_cv_table": "tuple[array|tuple[array]|tuple[float]]",
    }
    # parameters renamed since a saved file's version: old name -> new (glassnet.load maps them)
    _RENAMED_PARAMS: ClassVar[dict] = {"rule": "selection"}  # 0.5
    # candidate sets of up to as many features as the net saw (True) or as rows (False; the
    # binary net: chosen on the binary tuning sets and the simulation)
    _CANDIDATES_BEYOND_ROWS = False

    # select_C="auto" and duplicate_corr="auto": (select_C, duplicate_corr) when X has more
    # columns than rows, and when it has at least as many rows as columns
    _AUTO_WIDE = (SELECT_C, DUPLICATE_CORR)
    _AUTO_TALL = (TALL_SELECT_C, TALL_DUPLICATE_CORR)
    # screen="auto": the columns the net sees at most (None: all)
    _AUTO_SCREEN: ClassVar[int | None] = SCREEN

    def __init__(self, k_max: int = 3, i_max: int = 4, lam: float = 1.0, rho_init: float = 1.0,
                 F_init: float = 10.0, t_init: float = 1.0, fit_intercept: bool = True,
                 n_features_to_select="auto", duplicate_corr="auto", select_C="auto",
                 selection: str = SELECT_RULE, cv: int = SELECT_CV, screen="auto",
                 refit: bool = True, optimizer: str = "adam", lr: float = 0.2, max_epochs="auto",
                 patience: int = 10, validation_fraction: float = 0.2, solver: str = "auto",
                 dtype: str = "float64", random_state: int | None = None, verbose: bool = False,
                 device="auto", n_jobs: int | None = None, rule: str = "deprecated"):
        self.k_max = k_max
        self.i_max = i_max
        self.lam = lam
        self.rho_init = rho_init
        self.F_init = F_init
        self.t_init = t_init
        self.fit_intercept = fit_intercept
        self.n_features_to_select = n_features_to_select
        self.duplicate_corr = duplicate_corr
        self.select_C = select_C
        self.selection = selection
        self.cv = cv
        self.screen = screen
        self.refit = refit
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.solver = solver
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose
        self.device = device
        self.n_jobs = n_jobs
        self.rule = rule

    # ------------------------------------------------------------------ checks
    def _auto(self, X):
        return self._AUTO_TALL if X.shape[0] >= X.shape[1] else self._AUTO_WIDE

    def _select_Cs(self, X):
        """``select_C`` as a tuple of checked values (one number, or a non-empty sequence);
        ``"auto"``: the class's value for the shape of ``X`` (``_AUTO_WIDE``, ``_AUTO_TALL``)."""
        C = self.select_C  # declared: "auto", a finite number > 0 or a non-empty sequence of them
        if isinstance(C, str):
            C = self._auto(X)[0]
        return tuple(float(v) for v in (C if isinstance(C, (list, tuple, np.ndarray)) else (C,)))

    def _duplicate_corr(self, X) -> float:
        """``duplicate_corr``; ``"auto"``: the class's value for the shape of ``X``."""
        if isinstance(self.duplicate_corr, str):
            return self._auto(X)[1]
        return float(self.duplicate_corr)

    def _check_params(self):
        k = self.n_features_to_select
        if not (isinstance(k, str) and k in ("auto", "single", "z")):
            self._check_q(k)  # before training
            width = self._screen_width()
            if width is not None and k > min(width, self.n_features_in_):
                raise ValueError(f"n_features_to_select={k} is more than the {width} columns the net "
                                 f"sees and ranks (screen={self.screen!r}): raise screen or lower "
                                 "n_features_to_select")
        self._selection_rule()  # the deprecated ``rule`` warns here, before training
        # selection, duplicate_corr, max_epochs, screen, select_C: declared (_parameter_constraints)

    def _selection_rule(self, warn: bool = True) -> str:
        """``selection``, or the deprecated ``rule`` when given (renamed in 0.5 so that every
        family names the choice alike: SPINN's CV estimators call it ``selection``; ``rule``
        goes in 0.6), with a ``FutureWarning`` (``warn``). Both given and different:
        ``ValueError``."""
        if self.rule == "deprecated":
            return self.selection
        if self.selection not in (SELECT_RULE, self.rule):
            raise ValueError(f"rule={self.rule!r} and selection={self.selection!r} disagree: rule is "
                             "the deprecated name of selection; pass selection only")
        if warn:
            warnings.warn("rule was renamed selection in glassnet 0.5 (as in SPINN's CV estimators) "
                          f"and will be removed in 0.6: use selection={self.rule!r}",
                          FutureWarning, stacklevel=4)
        return self.rule

    def _folds(self, yi, seed):
        """Stratified folds of the selection and refit: ``cv``, fewer (with a warning) when a
        class has fewer members; the policy is ``glassnet.model_selection.make_folds``'s."""
        return make_folds(len(yi), self.cv, yi, classification=True, random_state=seed)

    # ------------------------------------------------------------------ the net
    def _work(self, X, n_outputs) -> float:
        """Rows x the net's parameters per IRLS step (``n_outputs`` x (screened columns + 1)):
        ``fit_context`` runs problems under ``glassnet.utils.SMALL_WORK`` on one thread. Without
        it a fit ran under torch's default (2 threads here), whose idle workers spin when the
        other core is busy: 5-fold CV on 77 x 5,469 took 22-75 s wall on 2 threads against 3.5 s
        on one, with the same selections (docs/history/irls_admm.md)."""
        n, p = np.shape(X)
        return float(n) * n_outputs * (min(p, self._screen_width() or p) + 1)

    def _screen_width(self) -> int | None:
        """``screen``, with ``"auto"`` resolved to the class's ``_AUTO_SCREEN``; None: all columns."""
        return self._AUTO_SCREEN if isinstance(self.screen, str) else self.screen

    def _max_epochs(self, X):
        """``max_epochs``, or with ``"auto"`` 200 when ``X`` has at least as many rows as columns
        and ``WIDE_EPOCHS`` when it is wider (docs/irls_admm.md: on p > n tuning sets longer
        training ranked worse and took longer)."""
        if isinstance(self.max_epochs, str) and self.max_epochs == "auto":
            return WIDE_EPOCHS if X.shape[1] > X.shape[0] else 200
        return self.max_epochs

    def _screened(self, X, yi, sw=None):
        """Columns the net sees: all, or the ``screen`` with the largest gradient of the loss
        at ``beta = 0`` (``||X_j^T (Y - mean Y)||``, sure independence screening; weighted
        means and sums with sample weights ``sw``)."""
        p, width = X.shape[1], self._screen_width()
        if width is None or p <= width:
            return np.arange(p)
        Y = np.eye(int(yi.max()) + 1)[yi]
        if sw is None:
            g = (X - X.mean(0)).T @ (Y - Y.mean(0))
        else:
            g = (sw[:, None] * (X - np.average(X, 0, sw))).T @ (Y - np.average(Y, 0, sw))
        return np.sort(np.argsort(-np.sqrt((g * g).sum(1)), kind="stable")[:width])

    def _train(self, X, yi, seed, device, sw=None):
        """The net trained on ``(X, yi)`` (early stopping on a stratified split; the losses and
        the unfolded IRLS steps weighted by ``sw`` when given); returns the module and its
        output on all rows, both on the CPU."""
        net = self._make_net(X.shape[1]).to(device)
        data = [t.to(device) for t in self._net_data(X, yi)]
        w = _tensor_like(sw, data[0])
        tr, va = split_validation(len(yi), self.validation_fraction, seed, stratify=yi)
        d_tr, d_va = [t[tr] for t in data], [t[va] for t in data]
        w_tr, w_va = (None, None) if w is None else (w[tr], w[va])
        history = fit(net, lambda m: self._net_loss(m, d_tr, d_tr, w_tr, w_tr), optimizer=self.optimizer,
                      lr=self.lr, max_epochs=self._max_epochs(X), patience=self.patience, seed=seed,
                      verbose=self.verbose, val_fn=lambda m: float(self._net_loss(m, d_tr, d_va, w_tr, w_va)))
        with torch.no_grad():
            out = net(*data, sample_weight=w)
        net.cpu()
        return net, out, history

    def _ranked_net(self, X, yi, seed, device, sw=None):
        """Screen, train, and return ``(net, output, history, columns, importance over all p)``."""
        cols = self._screened(X, yi, sw)
        net, out, history = self._train(X[:, cols], yi, seed, device, sw)
        beta = np.atleast_2d(out.beta.detach().cpu().numpy())[:, : cols.size]
        imp = np.zeros(X.shape[1])
        imp[cols] = np.sqrt((beta * beta).sum(axis=0))
        return net, out, history, cols, imp

    # ------------------------------------------------------------------ fit
    def _fit(self, X, yi, seed, device=None, sw=None):
        """Train, select and refit on ``(X, yi)``; ``sw``: sample weights (None: unweighted)."""
        self._check_params()
        self._clear_fitted(keep=("n_features_in_", "feature_names_in_", "classes_"))  # set by fit
        p, k = self.n_features_in_, self.n_features_to_select
        device = torch.device("cpu") if device is None else device
        self.device_ = str(device)
        self.module_, out, self.history_, cols, imp = self._ranked_net(X, yi, seed, device, sw)
        self.screened_features_ = cols
        self._set_output(out, cols)
        folds, self.refit_C_ = None, None
        if k == "z":
            support = np.any(np.atleast_2d(self.z_) != 0, axis=0)
        elif k in ("auto", "single"):
            folds = self._folds(yi, seed)
            support = self._select_by_cv(X, yi, imp, folds, seed, device, sw)
        else:
            support = self._top_q(k)
        self._set_support(support)
        S = self.selected_features_
        if S.size == 0:
            warnings.warn("no feature selected (the support of z is empty): predictions use the "
                          "class frequencies only; use n_features_to_select='auto' or an int",
                          UserWarning, stacklevel=3)
            self._set_classifier(*self._prior(yi, sw))
            return self
        if self.refit:  # ridge logistic regression on the selected columns, C by CV
            folds = self._folds(yi, seed) if folds is None else folds
            XS = X[:, S]
            losses = cv_path(lambda f, tr, va: ridge_path_losses(XS, yi, tr, va, REFIT_CS, sw), folds,
                              self.n_jobs)
            self.refit_C_ = float(REFIT_CS[choose(losses, "min")[0]])
            m = ridge_logistic(XS, yi, self.refit_C_, sw)
            coef = np.zeros((m.coef_.shape[0], p))
            coef[:, S] = m.coef_
            self._set_classifier(coef, m.intercept_)
        else:
            self._set_classifier(*self._net_on(X, yi, S, sw))
        return self

    def plot_cv(self, ax=None):
        """The selection's cross-validation (``n_features_to_select="auto"`` or ``"single"``):
        the mean held-out loss of each candidate set (its number of features: the top-g groups)
        with one standard error, the set ``selection`` chose (dashed; ``n_groups_``) and the lowest
        mean (dotted). Returns the axes."""
        check_is_fitted(self, "coef_")
        if not hasattr(self, "_cv_table"):
            raise ValueError("no selection CV to plot: n_features_to_select was "
                             f"{self.n_features_to_select!r} (plot_cv needs 'auto' or 'single')")
        at = _features_at(self._cv_table[2], self._cv_table[4][1])
        best, mean, se = choose(self.cv_losses_, "min")  # the table's means and errors
        chosen = at.index(len(self.selected_features_))  # what the fit chose, not today's ``selection``
        return plot_cv_curve(at, mean, se, chosen, ax, xlabel="features kept (top near-duplicate groups)",
                             best=best, log_x=max(at) > 50 * min(at),
                             title=f"{len(self.selected_features_)} features selected")

    def _set_output(self, out, cols):
        """``beta_``, ``beta_intercept_``, ``z_`` (the net's output on all rows, zero outside the
        screened columns) and ``n_stages_``."""
        p = self.n_features_in_
        beta = np.atleast_2d(out.beta.detach().cpu().numpy())
        z = np.atleast_2d(out.z.detach().cpu().numpy())
        full_b, full_z = np.zeros((beta.shape[0], p)), np.zeros((beta.shape[0], p))
        full_b[:, cols], full_z[:, cols] = beta[:, : cols.size], z[:, : cols.size]
        squeeze = (lambda a: a[0]) if beta.shape[0] == 1 else (lambda a: a)
        self.beta_, self.z_ = squeeze(full_b), squeeze(full_z)
        b0 = beta[:, cols.size] if self.fit_intercept else np.zeros(beta.shape[0])
        self.beta_intercept_ = float(b0[0]) if beta.shape[0] == 1 else b0
        self.n_stages_ = len(out.betas)

    def _candidates(self, X, imp, n_rows, dup):
        """Candidate sets (top-g groups of the order ``imp``, near-duplicates at ``|r| >= dup``):
        at most ``n_rows`` features, or every feature the net saw with
        ``_CANDIDATES_BEYOND_ROWS`` (the multinomial net)."""
        grouped = self.n_features_to_select == "auto"
        seen = int((imp > 0).sum())
        cap = max(1, seen if self._CANDIDATES_BEYOND_ROWS else min(seen, n_rows))
        groups = near_duplicate_groups(X, np.argsort(-imp, kind="stable"),
                                       dup if grouped else np.inf, max_features=cap)
        ranked = np.concatenate(groups)
        sizes = np.minimum(np.cumsum([g.size for g in groups]), cap)
        return ranked, sizes

    def _select_by_cv(self, X, yi, imp, folds, seed, device, sw=None):
        """The number of groups by cross-validated net rankings (module comment above)."""
        Cs, dup = self._select_Cs(X), self._duplicate_corr(X)  # "auto" resolved on all rows
        self.select_C_, self.duplicate_corr_ = np.array(Cs), dup
        ranked, sizes = self._candidates(X, imp, len(yi), dup)
        n_groups = len(sizes)
        gs = (np.arange(1, n_groups + 1) if n_groups <= MAX_CANDIDATES
              else np.unique(np.geomspace(1, n_groups, MAX_CANDIDATES).astype(int)))

        n_cand = len(Cs) * len(gs)

        def fold_losses(f, tr, va):  # the candidates' held-out losses, then the fold's ranking
            *_, imp_f = self._ranked_net(X[tr], yi[tr], None if seed is None else seed + 1 + f, device,
                                         None if sw is None else sw[tr])
            ranked_f, sizes_f = self._candidates(X[tr], imp_f, len(tr), dup)
            out, va_s = _candidate_losses(X, yi, tr, va, ranked_f, sizes_f, Cs, gs, sw)
            return out + [len(va) - len(va_s)] + list(imp_f / max(imp_f.max(), 1e-300))

        rows = cv_path(fold_losses, folds, self.n_jobs)  # folds fan out through joblib
        losses, n_unseen, fold_imps = rows[:, :n_cand], rows[:, n_cand], rows[:, n_cand + 1:]
        single = (ranked, sizes)
        if CONSENSUS:  # the final order: mean scaled importance over the folds' nets and the full net
            agg = (imp / max(imp.max(), 1e-300) + fold_imps.sum(0)) / (1 + len(folds))
            # refit=False predicts with the full net, so only features it saw can be selected
            self.consensus_importances_ = agg if self.refit else np.where(imp > 0, agg, 0.0)
            ranked, sizes = self._candidates(X, self.consensus_importances_, len(yi), dup)
        self._cv_table = (losses.reshape(len(folds), len(Cs), len(gs)), Cs, gs, single, (ranked, sizes), fold_imps,
                          n_unseen)
        if len(Cs) > 1:  # each number of groups scored at the C of its lowest mean loss
            per_c = losses.reshape(len(folds), len(Cs), len(gs))
            losses = per_c[:, per_c.mean(0).argmin(0), np.arange(len(gs))]
        best, mean, _se = choose(losses, self._selection_rule(warn=False))
        self.cv_losses_ = losses  # (folds, numbers of groups): what ``selection`` chose from
        at = _features_at(gs, sizes)
        self.validation_curve_ = {int(k): float(v) for k, v in zip(at, mean)}
        self.n_groups_ = int(min(gs[best], len(sizes)))
        support = np.zeros(self.n_features_in_, dtype=bool)
        support[ranked[: at[best]]] = True
        return support
