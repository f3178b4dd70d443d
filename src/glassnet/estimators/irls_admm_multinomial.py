"""The multinomial deep IRLS-ADMM net: one feature set for all classes (issue 24)."""

from __future__ import annotations

import numpy as np
import torch

from glassnet.estimators.base import torch_dtype
from glassnet.estimators.irls_admm_base import (
    DUPLICATE_CORR,
    MULTINOMIAL_SCREEN,
    MULTINOMIAL_SELECT_C,
    _NetSelector,
    _tensor_like,
)
from glassnet.nn.irls_admm import MultinomialIRLSADMMNet
from glassnet.utils import fit_context

__all__ = ["MultinomialIRLSADMMNetClassifier"]


class MultinomialIRLSADMMNetClassifier(_NetSelector):
    """Deep unfolded IRLS-ADMM net for K >= 2 classes with one selected feature set.

    The net (:class:`glassnet.nn.irls_admm.MultinomialIRLSADMMNet`) unfolds IRLS + ADMM for
    ``min_B sum_n -log softmax(B phi_n)_{y_n} + lam sum_j ||F_j B_{:, j}||_2``: the penalty is a
    group lasso over the K class coefficients of each feature, so a feature is kept or dropped
    for every class at once (docs/irls_admm.md, "Multinomial net"; with K = 2 and ``F = I`` its
    optimum is the binary L1 model's at ``lam / sqrt(2)``, with ``b_2 - b_1 = beta``).

    Training, selection and refit follow :class:`glassnet.IRLSADMMNetClassifier` with the norm
    over classes in place of ``|.|``: the net's output ``beta_`` (n_classes, n_features) orders
    the features by ``||beta_[:, j]||``; ``"auto"`` picks the number of near-duplicate groups
    by cross-validated net rankings (each fold trains its own net) scored by the held-out
    log-loss of a multinomial ridge logistic regression; the refit is a multinomial ridge
    logistic regression on the selected columns with ``C`` by cross-validation.

    Attributes read one way: ``coef_`` (n_classes, n_features) and ``intercept_`` (n_classes,)
    are the classifier (softmax of ``X @ coef_.T + intercept_``; zero outside the selected
    features, and every class uses the same ``selected_features_``); ``feature_importances_``
    is ``||coef_[:, j]||`` and ``ranking_`` orders the selected features by it, then the others
    by ``||beta_[:, j]||``. ``beta_`` is the net's output with all (screened) features at once,
    not the classifier. ``predict_proba`` has one column per entry of ``classes_`` and rows
    that sum to 1. Parameters as :class:`glassnet.IRLSADMMNetClassifier`, except what
    ``"auto"`` means for ``screen`` (the net sees every column up to ``MULTINOMIAL_SCREEN`` =
    20,000, where the binary net sees 1000), ``select_C`` and ``duplicate_corr`` (the defaults): 0.01
    (``MULTINOMIAL_SELECT_C``; on the two multi-class tuning sets, GLIOMA and Brain_Tumor1, it
    scored 0.775 and 0.878 against 0.700 and 0.856 at the binary net's 0.1) and 0.9 on data of
    any shape (no multi-class tuning set had more rows than columns, so the binary net's values
    for such data were never tried here); and the candidate sets of ``"auto"`` go up to every
    feature the net saw, not only as many as rows
    (with many small classes the held-out loss was still falling at the row cap on tuning data).
    Two classes are accepted (then ``coef_`` is (2, n_features), as the symmetric softmax model).
    """

    # Candidate sets up to every screened feature, not only as many as rows: with many classes
    # and few samples per class the held-out loss kept falling up to the row cap, and on the
    # multi-class tuning data (GLIOMA, Brain_Tumor1, Yale faces and handwritten digits with 7
    # samples per class) the larger sets were more accurate (docs/history/irls_admm.md)
    _CANDIDATES_BEYOND_ROWS = True
    # select_C="auto", duplicate_corr="auto": 0.01 and 0.9 on every shape (no multi-class tuning
    # set had more rows than columns, so the binary net's tall values were never tried here)
    _AUTO_WIDE = _AUTO_TALL = (MULTINOMIAL_SELECT_C, DUPLICATE_CORR)
    # screen="auto": every column up to MULTINOMIAL_SCREEN. The binary net's 1000-column screen cut
    # the signal on a dense-signal tuning stand-in (4 classes of 43, class means in all 5,000
    # columns): 0.709 accuracy against 0.928 with every column (docs/history/irls_admm.md)
    _AUTO_SCREEN = MULTINOMIAL_SCREEN

    def fit(self, X, y, sample_weight=None):
        """Train the net, select one feature set for all classes, fit the classifier; ``self``.
        ``sample_weight`` as in :meth:`glassnet.IRLSADMMNetClassifier.fit`."""
        device = self._fit_device(X)
        X, y = self._validate_Xy(X, y, classification=True)
        X, y, sw = self._weighted_rows(X, y, sample_weight, classification=True)
        self.classes_, yi = np.unique(y, return_inverse=True)
        with fit_context(self.random_state, self._work(X, len(self.classes_))) as seed:
            return self._fit(X, yi, seed, device, sw)

    def _make_net(self, p):
        kw = self._module_kwargs(p)
        return MultinomialIRLSADMMNet(n_classes=len(self.classes_), k_max=self.k_max, i_max=self.i_max,
                                      lam=self.lam, rho=self.rho_init, F=self.F_init, t=self.t_init,
                                      solver=self.solver, **kw)

    def _net_data(self, X, yi):
        dt = torch_dtype(self.dtype)
        Y = np.eye(len(self.classes_))[yi]
        return torch.as_tensor(self._phi(X), dtype=dt), torch.as_tensor(Y, dtype=dt)

    @staticmethod
    def _net_loss(net, d_in, d_eval, w_in=None, w_eval=None):  # cross-entropy of the output on d_eval
        return net.loss(net(*d_in, sample_weight=w_in).beta, tuple(d_eval), mean=True, sample_weight=w_eval)

    def _prior(self, yi, sw=None):
        freq = np.bincount(yi, weights=sw, minlength=len(self.classes_))
        freq = freq / (len(yi) if sw is None else sw.sum())
        b0 = np.log(freq) - np.log(freq).mean() if self.fit_intercept else np.zeros(len(freq))
        return np.zeros((len(freq), self.n_features_in_)), b0

    def _net_on(self, X, yi, S, sw=None):
        """The trained net run on the selected columns only: ``(coef, intercept)``."""
        pos = np.searchsorted(self.screened_features_, S)
        cols = np.r_[pos, self.screened_features_.size].astype(int) if self.fit_intercept else pos
        Phi, Y = self._net_data(X[:, S], yi)
        with torch.no_grad():
            B = self.module_(Phi, Y, columns=cols, sample_weight=_tensor_like(sw, Phi)).beta.numpy()
        coef = np.zeros((B.shape[0], self.n_features_in_))
        coef[:, S] = B[:, : S.size]
        return coef, B[:, S.size] if self.fit_intercept else np.zeros(B.shape[0])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags
