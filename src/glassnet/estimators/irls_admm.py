"""Estimators of the deep IRLS-ADMM family: the trained net (binary) and the classical
Algorithm 1. The shared workflow (attributes, prediction, selection) is in ``irls_admm_base``;
the multinomial net in ``irls_admm_multinomial``."""

from __future__ import annotations

import numbers
from typing import ClassVar

import numpy as np
import torch

from glassnet.estimators.base import POSITIVE, TOL, Interval
from glassnet.estimators.irls_admm_base import (  # noqa: F401  (re-exported for users and tests)
    ADMM_CONSTRAINTS,
    DUPLICATE_CORR,
    REFIT_CS,
    SCREEN,
    SELECT_C,
    SELECT_C_GRID,
    SELECT_CV,
    SELECT_RULE,
    TALL_DUPLICATE_CORR,
    TALL_SELECT_C,
    _IRLSADMMBase,
    _NetSelector,
    _tensor_like,
    held_out_log_loss,
    near_duplicate_groups,
    ridge_logistic,
    ridge_path_losses,
)
from glassnet.nn.irls_admm import IRLSADMMNet
from glassnet.utils import fit_context

__all__ = ["ADMMLogisticRegression", "IRLSADMMNetClassifier", "near_duplicate_groups"]


class IRLSADMMNetClassifier(_NetSelector):
    """Deep unfolded IRLS-ADMM net: sparse binary logistic classifier and feature selector.

    The net's parameters ``Theta = {rho_{k,i}, F_{k,i}, t_k}`` are trained to minimise the
    logistic loss (eq. 32) of its output ``beta`` on a training split, with early stopping on a
    held-out validation split. The trained net's output on all of ``X`` (``beta_``) orders the
    features. When ``X`` has more than ``screen`` columns the net sees only the ``screen`` with
    the largest gradient of the loss at ``beta = 0`` (``screened_features_``; ``beta_`` is 0
    elsewhere).

    Selection rule (``n_features_to_select``):

    - ``"auto"`` (default): features walked by decreasing ``|beta|``, each opening a group with
      its near-duplicates (absolute correlation >= ``duplicate_corr``); the candidate sets are
      the top-g groups (at most as many features as rows). The number of groups g is chosen by
      cross-validation in which each fold trains its own net on its training rows, ranks and
      groups with it, and scores its top-g groups by the held-out log-loss of a ridge logistic
      regression (``C = select_C``) on those columns; ``selection`` (``"1se"`` by default) picks g
      from the fold x g table (:func:`glassnet.model_selection.cv_path` and ``choose``). The
      selected set is the top-g groups of the consensus ranking ``consensus_importances_`` (the
      mean scaled ``|beta|`` over the fold nets and the net trained on all rows).
    - ``"single"``: the same over single features (twins counted apart).
    - an int ``q``: the top-q features by ``|beta_|`` (the paper's protocol with ``P_q``).
    - ``"z"``: the support of the last ADMM split variable ``z^{k_max, i_max}`` (erratic once
      ``F`` is trained: training shrinks ``F`` toward 0 to weaken the penalty).

    The classifier then uses only the selected features: with ``refit=True`` (default) a ridge
    logistic regression on the selected columns of all of ``X`` with ``C`` chosen from
    ``REFIT_CS`` by the selection's folds; with ``refit=False`` the trained net run on those
    columns. ``coef_`` (1, n_features) and ``intercept_`` (1,) are that classifier, zero outside
    the selected features; ``predict`` reads only those columns; ``feature_importances_`` is
    ``|coef_|`` and ``ranking_`` lists the selected features by decreasing ``|coef_|``, then the
    others by ``|beta_|``. **``beta_`` is not the classifier**: it is the net's output with all
    (screened) features in the model at once, the paper's weights; on correlated features its
    signs can differ from ``coef_`` (one fit on all features shares weight among correlated
    ones; the refit on the selected ones does not). Read ``coef_`` for the direction of an
    effect. With nothing selected it predicts the class frequencies (with a warning).
    Standardise ``X`` (e.g. ``StandardScaler`` in a pipeline): the L1 term is scale dependent.

    Parameters
    ----------
    k_max, i_max: stages and ADMM layers per stage (paper's Fig. 1: 3 and 4).
    lam, rho_init, F_init, t_init: eq. 17's lambda and the paper's initial Theta (1, 1, 10, 1).
    n_features_to_select: selection rule, above.
    duplicate_corr: absolute correlation from which two features count as near-duplicates
        (``"auto"`` rule only). ``"auto"`` (default): 0.9 (``DUPLICATE_CORR``) when ``X`` has
        more columns than rows, 0.97 (``TALL_DUPLICATE_CORR``) otherwise.
    select_C: ``C`` (scikit-learn's inverse ridge strength) of the ridge logistic regressions
        that score the candidate sets; a sequence (e.g. ``SELECT_C_GRID``) scores each number of
        groups at the C of its lowest CV loss. ``"auto"`` (default): 0.1 (``SELECT_C``) when
        ``X`` has more columns than rows (tuning gene sets), 3 (``TALL_SELECT_C``: nearly
        unpenalised scores) otherwise (breast cancer's tuning splits, the simulation's tuning
        seeds: as sparse as L1-LR there). The values used: ``select_C_``, ``duplicate_corr_``.
    selection: ``"1se"`` (default: the smallest set whose mean CV loss is within one standard
        error of the best), ``"paired"`` (the smallest set not significantly worse than the best
        on the paired per-fold differences, z <= 2) or ``"min"``; the same rules under the same
        name as SPINN's CV estimators. ``rule``: its name up to 0.4 (deprecated; removed in 0.6).
    cv: stratified folds of the selection and of the refit's ``C`` (default 5, ``SELECT_CV``;
        fewer when the smaller class has fewer members).
    n_jobs: joblib workers for those folds (None: 1, the folds run in this process even inside a
        joblib ``parallel_backend`` block, so give an int there; each fold
        trains its own net with its own seed, so the result equals ``n_jobs=1``'s; worker start
        costs seconds, so it pays off for fits of more than a few seconds, e.g. gene sets).
    screen: features the net sees when ``X`` has more (``"auto"``, the default: 1000, ``SCREEN``,
        for this net; every column up to ``MULTINOMIAL_SCREEN`` = 20,000 for the multinomial net;
        None: all).
    refit: classifier on the selected features: ridge logistic regression with ``C`` by
        cross-validation (True) or the trained net (False).
    optimizer, lr, max_epochs, patience, validation_fraction: training (shared loop, Adam,
        lr 0.2, early stopping after 10 epochs without validation improvement). ``max_epochs``
        ``"auto"`` (default): 200, or ``WIDE_EPOCHS`` (1) when the data the net sees have more
        columns than rows (chosen on tuning gene sets: longer training ranked worse there).
    solver: eq. 27's least-squares step, ``"auto"`` / ``"primal"`` / ``"kernel"``
        (:class:`glassnet.nn.irls_admm.IRLSADMMNet`); ``"auto"`` uses the n x n form for p >> n.
    device: where the net runs, ``"auto"`` (default; CUDA, then MPS, then the CPU, but the CPU
        below ``glassnet.devices.AUTO_MIN_ELEMENTS`` entries of ``X``), ``"cpu"``, ``"cuda"``,
        ``"cuda:N"``, ``"mps"`` or a torch.device; fitted attributes are numpy / CPU either way
        (``device_`` records where it ran).
    """

    def fit(self, X, y, sample_weight=None):
        """Train the net, select features, fit the classifier; ``self``. ``sample_weight``: one
        non-negative weight per sample, entering every loss as a factor of its sample's term
        (the net's unfolded IRLS steps, the selection's and the refit's ridge regressions); a
        zero weight is the row left out."""
        device = self._fit_device(X)
        X, y_pm, sw = self._prepare(X, y, sample_weight)
        with fit_context(self.random_state, self._work(X, 1)) as seed:
            return self._fit(X, (y_pm > 0).astype(int), seed, device, sw)

    def _make_net(self, p):
        return IRLSADMMNet(k_max=self.k_max, i_max=self.i_max, lam=self.lam, rho=self.rho_init, F=self.F_init,
                           t=self.t_init, solver=self.solver, **self._module_kwargs(p))

    def _net_data(self, X, yi):
        return (self._phi_tilde(X, np.where(yi > 0, 1.0, -1.0)),)

    @staticmethod
    def _net_loss(net, d_in, d_eval, w_in=None, w_eval=None):  # E of the net's output (from d_in) on d_eval
        return net.loss(net(*d_in, sample_weight=w_in).beta, d_eval[0], mean=True, sample_weight=w_eval)

    def _prior(self, yi, sw=None):
        prevalence = float(np.average(yi, weights=sw))
        b0 = float(np.log(prevalence / (1.0 - prevalence))) if self.fit_intercept else 0.0
        return np.zeros(self.n_features_in_), b0

    def _net_on(self, X, yi, S, sw=None):
        """The trained net run on the selected columns only: ``(coef, intercept)``."""
        pos = np.searchsorted(self.screened_features_, S)
        cols = np.r_[pos, self.screened_features_.size].astype(int) if self.fit_intercept else pos
        P = self._phi_tilde(X[:, S], np.where(yi > 0, 1.0, -1.0))
        with torch.no_grad():
            beta_S = self.module_(P, columns=cols, sample_weight=_tensor_like(sw, P)).beta.numpy()
        coef = np.zeros(self.n_features_in_)
        coef[S] = beta_S[: S.size]
        return coef, beta_S[S.size] if self.fit_intercept else 0.0


STALLED_STEP = 2.0**-20  # a line-search step this small: the ADMM direction does not descend


def _warn_if_stalled(steps, i_max: int) -> None:
    """``ConvergenceWarning`` when Algorithm 1 stopped on a vanishing line-search step: each
    stage restarts ADMM from ``z = u = 0``, so an inexact ``Omega`` (too few ADMM iterations)
    is the same at every stage and no step along it lowers the objective; ``beta`` stops
    moving short of the optimum, which the ``tol`` test would read as convergence."""
    t = float(steps[-1]) if steps else 1.0
    if t < STALLED_STEP:
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        warnings.warn(f"Algorithm 1 stalled: the line search found no decrease along the ADMM "
                      f"solution of the last stage (step {t:.3g}), so beta stopped short of the "
                      f"optimum; raise i_max (ADMM iterations per stage, now {i_max}) for an "
                      "exact solution", ConvergenceWarning, stacklevel=3)


class ADMMLogisticRegression(_IRLSADMMBase):
    """L1-regularised logistic regression by Algorithm 1 (IRLS outer loop, ADMM inner loop).

    Minimises ``sum_n log(1 + exp(-y_n beta^T phi_n)) + lam ||beta||_1`` (intercept not
    penalised), i.e. scikit-learn's ``LogisticRegression(l1_ratio=1, C=1/lam)``. It is the
    :class:`IRLSADMMNet` module with fixed ``rho``, ``F = I`` and ``t_k`` by backtracking, run
    for up to ``k_max`` IRLS stages of ``i_max`` ADMM iterations (stops when
    ``||beta^k - beta^{k-1}||_inf < tol``). Each stage restarts ADMM from ``z = u = 0``, so the
    optimum is reached to the accuracy of ``i_max`` ADMM iterations (60 random problems at the
    default ``i_max``, lam 0.1 / 1 / 5: coefficients within 2e-4 of scikit-learn's but for the
    stalled ones below; 5e-9 at ``i_max=2000``). When the line search finds no decrease along a stage's ADMM
    solution, ``beta`` stops short of the optimum (coefficients off by up to 0.07 on those
    problems) and a ``ConvergenceWarning`` asks for a larger ``i_max``.

    Selection (``n_features_to_select``): ``None`` (default) keeps the support of the last split
    variable ``z`` (exact zeros) and the classifier is ``coef_ = z`` (with ``F = I``, ``z`` is
    the sparse copy of ``beta`` that ADMM converges to); an int q keeps the top q by ``|beta|``
    and ``coef_`` is ``beta`` on them. Either way ``coef_`` (shape (1, n_features)) is zero
    outside the reported support and ``predict`` uses exactly those features;
    ``feature_importances_ = |coef_|`` and ``ranking_`` read off it. ``beta_`` is the dense ADMM
    iterate ``Omega`` on all features (equal to ``coef_`` on the support at convergence).

    ``device`` (``"auto"`` by default, as :class:`IRLSADMMNetClassifier`) is where Algorithm 1
    runs; the fitted attributes are numpy / CPU either way. ``warm_start=True``: a new ``fit``
    on data of the same width starts from the previous fit's ``beta`` (a path over ``lam``).
    """

    _SELECTION_NAMES = "None"
    _parameter_constraints: ClassVar[dict] = {
        **ADMM_CONSTRAINTS,
        "rho": [POSITIVE],
        "tol": TOL,
        "n_features_to_select": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        lam: float = 1.0,
        rho: float = 1.0,
        k_max: int = 50,
        i_max: int = 200,
        tol: float = 1e-8,
        fit_intercept: bool = True,
        n_features_to_select: int | None = None,
        solver: str = "auto",
        dtype: str = "float64",
        warm_start: bool = False,
        device="auto",
    ):
        self.lam = lam
        self.rho = rho
        self.k_max = k_max
        self.i_max = i_max
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.n_features_to_select = n_features_to_select
        self.solver = solver
        self.dtype = dtype
        self.warm_start = warm_start
        self.device = device

    def fit(self, X, y, sample_weight=None):
        """Run Algorithm 1 on ``(X, y)`` and keep the support (``z != 0`` or top q); ``self``.
        ``sample_weight``: one non-negative weight per sample, the factor of its loss term (as
        scikit-learn's ``LogisticRegression``: a weight of 2 is the sample twice). With
        ``warm_start=True`` and a previous fit on data of the same width, Algorithm 1 starts from
        that fit's ``beta`` (and intercept) instead of 0: along a path of ``lam`` values each
        fit needs fewer IRLS stages (``n_stages_``), and reaches the same optimum."""
        device = self._fit_device(X)
        start = self._warm_beta()
        X, y_pm, sw = self._prepare(X, y, sample_weight)
        if start is not None and start.size != X.shape[1] + int(self.fit_intercept):
            start = None  # another width: a cold start
        with fit_context(None):
            k = self.n_features_to_select
            if k is not None:
                self._check_q(k)
            self.module_ = IRLSADMMNet(
                k_max=self.k_max,
                i_max=self.i_max,
                lam=self.lam,
                rho=self.rho,
                F=1.0,
                trainable=False,
                line_search=True,
                tol=self.tol,
                solver=self.solver,
                **self._module_kwargs(self.n_features_in_),
            )
            with torch.no_grad():
                self.module_.to(device)
                P = self._phi_tilde(X, y_pm).to(device)
                out = self.module_(P, sample_weight=_tensor_like(sw, P), beta0=_tensor_like(start, P))
                self.module_.cpu()
                self.device_ = str(device)
            p = self.n_features_in_
            beta = out.beta.detach().cpu().numpy()
            self.beta_, self.z_ = beta[:p].copy(), out.z.detach().cpu().numpy()[:p]
            self.beta_intercept_ = float(beta[p]) if self.fit_intercept else 0.0
            self.n_stages_ = len(out.betas)
            _warn_if_stalled(out.t, self.i_max)
            if k is None:
                self._set_support(self.z_ != 0)
                self._set_classifier(self.z_, self.beta_intercept_)
            else:
                self._set_support(self._top_q(k))
                self._set_classifier(self.beta_, self.beta_intercept_)
        return self

    def _warm_beta(self):
        """The previous fit's ``beta`` (with its intercept) when ``warm_start`` asks for it."""
        if not (self.warm_start and hasattr(self, "beta_")):
            return None
        b = np.asarray(self.beta_, dtype=float)
        return np.r_[b, self.beta_intercept_] if self.fit_intercept else b
