"""Estimators of the deep IRLS-ADMM family: the trained net and the classical Algorithm 1."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from scipy.special import expit
from sklearn.base import ClassifierMixin
from sklearn.feature_selection import SelectorMixin
from sklearn.utils.validation import check_is_fitted

from glassnet.estimators.base import GlassnetEstimator, torch_dtype
from glassnet.nn.irls_admm import IRLSADMMNet, logistic_loss
from glassnet.training import fit, split_validation

__all__ = ["ADMMLogisticRegression", "IRLSADMMNetClassifier"]


class _IRLSADMMBase(ClassifierMixin, SelectorMixin, GlassnetEstimator):
    """Shared workflow: labels to +-1, ``Phi = [X, 1]``, coefficients, selection, prediction.

    The intercept is a column of ones appended to ``Phi`` whose ``F`` entries are fixed at 0, so
    it is never penalised. ``coef_`` and ``intercept_`` follow scikit-learn's linear models.
    """

    def _phi(self, X: np.ndarray) -> np.ndarray:
        return np.hstack([X, np.ones((X.shape[0], 1))]) if self.fit_intercept else X

    def _phi_tilde(self, X, y_pm) -> torch.Tensor:
        return torch.as_tensor(y_pm[:, None] * self._phi(X), dtype=torch_dtype(self.dtype))

    def _prepare(self, X, y):
        X, y = self._validate_Xy(X, y, classification=True)
        self._check_binary(y)
        self.classes_ = np.unique(y)
        y_pm = np.where(y == self.classes_[1], 1.0, -1.0)
        return X, y_pm

    def _module_kwargs(self, p):
        penalized = np.r_[np.ones(p), np.zeros(int(self.fit_intercept))]
        return {"n_features": p + int(self.fit_intercept), "penalized": penalized, "dtype": torch_dtype(self.dtype)}

    def _set_output(self, out):
        """beta_, coef_, intercept_, z_ and importances from the module's output on all data."""
        beta = out.beta.detach().cpu().numpy()
        p = self.n_features_in_
        self.beta_ = beta[:p].copy()
        self.coef_ = beta[:p].copy()
        self.intercept_ = float(beta[p]) if self.fit_intercept else 0.0
        self.z_ = out.z.detach().cpu().numpy()[:p]
        self.n_stages_ = len(out.betas)
        self.feature_importances_ = np.abs(self.beta_)

    def _set_support(self, support):
        self.support_ = np.asarray(support, dtype=bool)
        self.selected_features_ = np.flatnonzero(self.support_)

    def _top_q(self, q):
        p = self.n_features_in_
        if not (isinstance(q, (int, np.integer)) and 1 <= q <= p):
            raise ValueError(f"n_features_to_select must be 'auto', 'z' or an int in [1, {p}], got {q!r}")
        support = np.zeros(p, dtype=bool)
        support[np.argsort(-self.feature_importances_, kind="stable")[:q]] = True
        return support

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return self.support_

    def decision_function(self, X):
        check_is_fitted(self, "coef_")
        X = self._validate_X(X, reset=False)
        return X @ self.coef_ + self.intercept_

    def predict_proba(self, X):
        p1 = expit(self.decision_function(X))
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X):
        d = self.decision_function(X)
        return self.classes_[(d > 0).astype(int)]

    def plot_weights(self, ax=None, feature_names=None, truth=None, which: str = "beta_"):
        """Bar plot of the weights (selected features in blue), optionally beside the truth.

        ``which="beta_"`` (default) shows the net's output on all features, the paper's weight
        figures and the ranking; ``which="coef_"`` the classifier on the selected features.
        """
        import matplotlib.pyplot as plt

        check_is_fitted(self, "coef_")
        if which not in ("beta_", "coef_"):
            raise ValueError(f"which must be 'beta_' or 'coef_', got {which!r}")
        w = getattr(self, which)
        ax = ax if ax is not None else plt.subplots(figsize=(8, 3.5))[1]
        idx = np.arange(w.size)
        colors = np.where(self.support_, "C0", "0.7")
        ax.bar(idx, w, color=colors, label=f"{type(self).__name__} {which} (selected in blue)")
        if truth is not None:
            ax.plot(idx, truth, "rx", label="truth")
        ax.axhline(0, c="k", lw=0.5)
        ax.set_xlabel("feature")
        ax.set_ylabel("weight")
        if feature_names is not None:
            ax.set_xticks(idx, labels=list(feature_names), rotation=90, fontsize=7)
        ax.legend(fontsize=8)
        return ax

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags


def one_standard_error_q(losses: dict) -> int:
    """Smallest q whose mean held-out loss is within one standard error of the best q's.

    ``losses`` maps q to per-sample held-out losses (the one-standard-error rule of Breiman et
    al., as used for the lasso): the simplest model statistically indistinguishable from the best.
    """
    means = {q: float(np.mean(v)) for q, v in losses.items()}
    best = min(means, key=means.get)
    v = losses[best]
    se = float(np.std(v, ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0
    return min(q for q, m in means.items() if m <= means[best] + se)


class IRLSADMMNetClassifier(_IRLSADMMBase):
    """Deep unfolded IRLS-ADMM net: sparse binary logistic classifier and feature selector.

    The net's parameters ``Theta = {rho_{k,i}, F_{k,i}, t_k}`` are trained to minimise the
    logistic loss (eq. 32) of its output ``beta`` on a training split, with early stopping on a
    held-out validation split (training on the training loss alone drives the net toward the
    unregularised, on separable data infinite, solution). The trained net is then applied to
    all of ``X``: its output ``beta_`` ranks the features (``feature_importances_ = |beta_|``,
    the paper's ranking).

    Selection rule (``n_features_to_select``):

    - ``"auto"`` (default): the top-q features by ``|beta|``, with q the smallest value whose
      model's logistic loss on the validation split is within one standard error of the best
      (``validation_curve_`` holds the mean loss per q). The model on a subset is the *same
      trained net* run on those columns (each feature keeps its learned ``F`` entries), so no
      retraining is needed;
    - an int ``q``: the top-q features by ``|beta|`` (the paper's protocol with ``P_q``, see
      ``glassnet.experiments.irls_admm.topq_selection_cv``);
    - ``"z"``: the support of the last ADMM split variable ``z^{k_max, i_max}``. Measured on the
      paper's simulation this support is erratic once ``F`` is trained (training shrinks ``F``
      toward 0 to weaken the penalty, and a small ``F_j`` *removes* feature j from z), so it is
      an option, not the default.

    The classifier then uses only the selected features: ``coef_``/``intercept_`` are the net's
    output on the selected columns of all of ``X`` (``coef_`` is zero elsewhere). With nothing
    selected it predicts from the prevalence alone (with a warning).
    Standardise ``X`` (e.g. ``StandardScaler`` in a pipeline): the L1 term is scale dependent.

    Parameters
    ----------
    k_max, i_max: stages and ADMM layers per stage (paper's Fig. 1: 3 and 4).
    lam, rho_init, F_init, t_init: eq. 17's lambda and the paper's initial Theta (1, 1, 10, 1).
    optimizer, lr, max_epochs, patience, validation_fraction: training (shared loop).
    """

    def __init__(
        self,
        k_max: int = 3,
        i_max: int = 4,
        lam: float = 1.0,
        rho_init: float = 1.0,
        F_init: float = 10.0,
        t_init: float = 1.0,
        fit_intercept: bool = True,
        n_features_to_select="auto",
        optimizer: str = "adam",
        lr: float = 0.05,
        max_epochs: int = 200,
        patience: int = 20,
        validation_fraction: float = 0.2,
        dtype: str = "float64",
        random_state: int | None = None,
        verbose: bool = False,
    ):
        self.k_max = k_max
        self.i_max = i_max
        self.lam = lam
        self.rho_init = rho_init
        self.F_init = F_init
        self.t_init = t_init
        self.fit_intercept = fit_intercept
        self.n_features_to_select = n_features_to_select
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def _columns(self, S):
        """Columns of Phi for the features S (plus the intercept column)."""
        return np.r_[S, self.n_features_in_] if self.fit_intercept else np.asarray(S)

    def fit(self, X, y):
        X, y_pm = self._prepare(X, y)
        p = self.n_features_in_
        self.module_ = IRLSADMMNet(
            k_max=self.k_max,
            i_max=self.i_max,
            lam=self.lam,
            rho=self.rho_init,
            F=self.F_init,
            t=self.t_init,
            **self._module_kwargs(p),
        )
        tr, va = split_validation(len(y_pm), self.validation_fraction, self.random_state, stratify=y_pm)
        P_all = self._phi_tilde(X, y_pm)
        P_tr, P_va = P_all[tr], P_all[va]

        def loss(net):  # E of the net's output on the training split (eq. 32), per sample
            return logistic_loss(net(P_tr).beta, P_tr, reduction="mean")

        def val_loss(net):  # beta from the training split, E on held-out data
            return float(logistic_loss(net(P_tr).beta, P_va, reduction="mean"))

        def val_losses_on(cols):  # per-sample held-out losses of the net run on some columns
            beta = self.module_(P_tr[:, cols], columns=cols).beta
            return torch.nn.functional.softplus(-(P_va[:, cols] @ beta)).cpu().numpy()

        self.history_ = fit(
            self.module_,
            loss,
            optimizer=self.optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            patience=self.patience,
            val_fn=val_loss,
            seed=self.random_state,
            verbose=self.verbose,
        )
        with torch.no_grad():
            self._set_output(self.module_(P_all))
            k = self.n_features_to_select
            if k == "z":
                support = self.z_ != 0
            elif k == "auto":
                order = np.argsort(-self.feature_importances_, kind="stable")
                qs = np.arange(1, p + 1) if p <= 64 else np.unique(np.geomspace(1, p, 40).astype(int))
                losses = {int(q): val_losses_on(self._columns(order[:q])) for q in qs}
                self.validation_curve_ = {q: float(v.mean()) for q, v in losses.items()}
                support = self._top_q(one_standard_error_q(losses))
            else:
                support = self._top_q(k)
            self._set_support(support)
            S = self.selected_features_
            self.coef_ = np.zeros(p)
            if S.size:
                cols = self._columns(S)
                beta_S = self.module_(P_all[:, cols], columns=cols).beta.cpu().numpy()
                self.coef_[S] = beta_S[: S.size]
                self.intercept_ = float(beta_S[S.size]) if self.fit_intercept else 0.0
            else:
                warnings.warn(
                    "no feature selected (the support of z is empty): predictions use the "
                    "prevalence only; use n_features_to_select='auto' or an int",
                    UserWarning,
                    stacklevel=2,
                )
                prevalence = np.mean(y_pm > 0)
                self.intercept_ = float(np.log(prevalence / (1.0 - prevalence))) if self.fit_intercept else 0.0
        return self


class ADMMLogisticRegression(_IRLSADMMBase):
    """L1-regularised logistic regression by Algorithm 1 (IRLS outer loop, ADMM inner loop).

    Minimises ``sum_n log(1 + exp(-y_n beta^T phi_n)) + lam ||beta||_1`` (intercept not
    penalised), i.e. scikit-learn's ``LogisticRegression(l1_ratio=1, C=1/lam)``. It is the
    :class:`IRLSADMMNet` module with fixed ``rho``, ``F = I`` and ``t_k`` by backtracking, run
    for up to ``k_max`` IRLS stages of ``i_max`` ADMM iterations (stops when
    ``||beta^k - beta^{k-1}||_inf < tol``). Selection: support of the last ``z`` (exact zeros).
    """

    def __init__(
        self,
        lam: float = 1.0,
        rho: float = 1.0,
        k_max: int = 50,
        i_max: int = 200,
        tol: float = 1e-8,
        fit_intercept: bool = True,
        n_features_to_select: int | None = None,
        dtype: str = "float64",
    ):
        self.lam = lam
        self.rho = rho
        self.k_max = k_max
        self.i_max = i_max
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.n_features_to_select = n_features_to_select
        self.dtype = dtype

    def fit(self, X, y):
        X, y_pm = self._prepare(X, y)
        self.module_ = IRLSADMMNet(
            k_max=self.k_max,
            i_max=self.i_max,
            lam=self.lam,
            rho=self.rho,
            F=1.0,
            trainable=False,
            line_search=True,
            tol=self.tol,
            **self._module_kwargs(self.n_features_in_),
        )
        with torch.no_grad():
            self._set_output(self.module_(self._phi_tilde(X, y_pm)))
        k = self.n_features_to_select
        self._set_support(self.z_ != 0 if k is None else self._top_q(k))
        return self
