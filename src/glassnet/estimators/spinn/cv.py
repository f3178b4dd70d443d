"""Cross-validated SPINN: one CV base (as scikit-learn's ``LinearModelCV``) that the single-set
and the integrative estimators share, and the thin ``SPINNRegressorCV`` / ``SPINNClassifierCV``.

The CV runs on the engine: the full data's start and path (:func:`glassnet.paths.follow`), the
folds' starts and paths on the same grid fitted together as one stack of networks (or fanned
out over joblib workers, :func:`glassnet.model_selection.cv_path`), a rule from
:func:`glassnet.model_selection.choose`, and relaxed refits of the chosen support
(:func:`glassnet.estimators.spinn._engine.relaxed`).
"""

from __future__ import annotations

import copy
import numbers
from dataclasses import replace
from typing import ClassVar

import numpy as np
import torch
from sklearn.base import RegressorMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from glassnet.estimators.base import N_JOBS, Interval
from glassnet.estimators.spinn._engine import relaxed, start
from glassnet.estimators.spinn.single import (
    CLASSIFIER_FITTED,
    MAX_LAMBDAS,
    REGRESSION_LOSSES,
    REGRESSOR_FITTED,
    SPINN_CONSTRAINTS,
    SPINN_FITTED,
    SPINNRegressor,
    _ClassifierAPI,
    _SPINNCore,
    seed_of,
    warn_if_nothing_selected,
)
from glassnet.model_selection import choose, loss_table, make_folds, plot_cv_curve, run_chunks
from glassnet.paths import Batch, follow, geometric_grid
from glassnet.progress import progress
from glassnet.utils import fit_context

__all__ = ["SELECTIONS", "SPINNClassifierCV", "SPINNRegressorCV"]

# Relaxed refits: the ridge on the upper layers chosen from RELAX_LAMBDA_0 by the CV folds; the
# regressors' grid also tries the same ridge on W1 (pairs (lambda_0, w1); with correlated extra
# inputs in the selection an unpenalised W1 overfits). Chosen on tuning seeds: docs/history/spinn.md.
RELAX_LAMBDA_0 = (1e-1, 1e-2, 1e-3)
RELAX_RIDGES_REGRESSION = ((1e-1, False), (1e-2, False), (1e-3, False), (1e-2, True), (1e-3, True))
# selection="relaxed": the path's distinct supports (at most RELAX_CV_MAX_FEATURES inputs) are
# scored by K-fold CV of relaxed refits (ridge RELAX_CV_LAMBDA_0, keyed by whether the folds are
# stratified: SPINNRegressorCV 0.01; IntegrativeSPINN, whose folds are always stratified, 0.1)
# and the lowest mean loss wins. SPINNClassifierCV has its own (CLASSIFIER_RELAX_CV): ridge 0.03
# and the smallest support within 0.25 standard errors of the lowest loss. Its CV curve is flat
# over several supports (breast cancer: 12-21 features within noise), where the lowest loss
# picked a large one by chance; chosen on breast cancer splits 10-39 and the suite's
# classification problems (seeds 0-29 at n = 300, 0-4 at n = 1000): docs/history/spinn.md.
RELAX_CV_LAMBDA_0 = {False: 1e-2, True: 1e-1}
CLASSIFIER_RELAX_CV = {"lambda_0": 3e-2, "n_se": 0.25}
RELAX_CV_MAX_FEATURES = 30
# The relaxed stages of the CV estimators carry nothing of the penalised path over (as the relaxed
# lasso) and train 100 (CV) and 300 (refit) full-batch Adam epochs at RELAX_CV_LR. A regressor's
# supports' CV refits start from their fold's dense start (W1 kept on the candidate's inputs; a
# fresh draw where that start has no weight on them), where each screened input's shape is fitted:
# from a fresh draw 100 epochs did not always grow an even effect (friedman1's x2 on tuning splits
# 10-19: kept on 9 of 10 instead of 6). Classifiers draw fresh (from the dense start softmax3 lost
# product inputs: TPR 0.975 -> 0.738, tuning seeds 10-29); every final refit draws fresh.
# History (docs/history/spinn.md): the engine first
# started them from the path's network at the candidate (chosen on friedman1 / breast cancer
# splits 10-14); on the suite's tuning seeds that warm start cost the product effects: softmax3
# at n = 300, seeds 10-29, TPR 0.887 -> 0.950 and accuracy 0.510 -> 0.576 with fresh draws at
# the same epochs and CPU (issue 23, sixth pass). IntegrativeSPINN's refit at a given lam keeps
# RELAX_FRESH_EPOCHS at RELAX_LR, its full-data refit from the path's network.
RELAX_REFIT_EPOCHS, RELAX_CV_EPOCHS, RELAX_CV_LR = 300, 100, 2e-2
RELAX_FRESH_EPOCHS = 600
SELECTIONS = ("relaxed", "relaxed-1se", "min", "1se", "paired")

# what the CV estimators add to SPINN_CONSTRAINTS (issue 25)
CV_CONSTRAINTS = {
    **SPINN_CONSTRAINTS,
    "cv": [Interval(numbers.Integral, 2, None, closed="left")],
    "n_lambdas": [Interval(numbers.Integral, 1, MAX_LAMBDAS, closed="both")],
    "lambda_min_ratio": [Interval(numbers.Real, 0, 1, closed="neither")],
    "selection": [StrOptions(set(SELECTIONS))],
    "relax": ["boolean"],
    "n_jobs": N_JOBS,
}


CV_FITTED = {
    **SPINN_FITTED, "cv_results_": "dict[array]", "lambda_min_": "float", "lambda_best_": "float",
    "relaxed_cv_results_": "dict[array]|none", "relaxed_": "bool", "relax_lambda_0_": "float|none",
    "relax_cv_loss_": "dict[float]|none", "relax_w1_ridge_": "bool|none",
}


def support_candidates(records, max_features):
    """Indices of the records whose support is new along the path (nonempty, at most
    ``max_features`` inputs), in order of growing support (decreasing lambda)."""
    seen, out = set(), []
    for i, rec in enumerate(records):
        key = tuple(np.flatnonzero(rec.selected))
        if 0 < len(key) <= max_features and key not in seen:
            seen.add(key)
            out.append(i)
    return out


def _ridge(r):
    """``(lambda_0, lambda_w1)`` of a relaxed refit's ridge: a float is ``lambda_0`` on the
    upper layers only, a pair ``(lambda_0, w1)`` also puts it on ``W1`` when ``w1``."""
    lam, w1 = (float(r[0]), bool(r[1])) if isinstance(r, tuple) else (float(r), False)
    return lam, (lam if w1 else 0.0)


def _full_and_folds(full, fb) -> Batch:
    """One batch of the full data's column (0) and the folds' (k + 1 for fold k); the full
    data's validation column is its own training rows, a placeholder that is never read."""
    return Batch(full.X, torch.cat([full.Y, fb.Y], 1), torch.cat([full.W, fb.W], 1),
                 torch.cat([full.W, fb.V], 1), full.extra)


def _seed(seed, *ids) -> int:
    return int(np.random.SeedSequence([int(seed), *ids]).generate_state(1)[0])


def weighted_inputs(W1) -> np.ndarray:
    """The inputs a first layer ``W1`` (hidden x p, or data sets x hidden x p) gives any weight:
    a boolean (p,) or (data sets, p) mask, a column's norm over the hidden units above zero."""
    return (W1.detach().norm(dim=-2) > 0).cpu().numpy()


class _CVBase(_SPINNCore):
    """K-fold CV over a shared lambda grid, the rule ``selection``, then the full data's path
    point and (``relax``) a relaxed refit of its support. Subclasses give ``_batch``,
    ``_build``, ``_problem``, ``_support_mask`` and ``_relax_ridges``; ``_relax_cv`` (None: the
    ridge ``RELAX_CV_LAMBDA_0`` and the lowest loss) sets the supports' CV."""

    _relax_cv: ClassVar[dict | None] = None

    def _support_mask(self, record):
        return record.selected

    def _cv_select(self, X, y, sw, strata, classification, n_out):
        """The whole CV fit on validated arrays; sets the fitted attributes."""
        n, p = X.shape
        n_l = int(self.n_lambdas)
        with fit_context(self.random_state, self._work(X)) as seed0, \
                progress(total=2 * n_l, desc=type(self).__name__, verbose=self.verbose) as bar:
            seed = seed_of(seed0)
            folds = make_folds(n, self.cv, strata, classification, random_state=seed % (2**32))
            K = len(folds)  # fewer than cv when a binary problem's smaller class is (make_folds)
            full, scales = self._batch(X, y, sw, [(np.arange(n), None)])
            fb, _ = self._batch(X, y, sw, folds, Xt=full.X)
            # network 0 fits the full data, network k + 1 fold k: their starts train as one
            # stack (network 0's residuals set Huber's scale), then their paths on one grid
            seeds = [seed] + [_seed(seed, k + 1) for k in range(K)]
            nets = [self._build(p, n_out, s) for s in seeds]
            both = _full_and_folds(full, fb)
            bar.set(fold="starts")
            st = start(nets, self._problem(n), both, self.start, seeds, estimate=True)
            # a regressor's supports' CV refits in fold k begin at that fold's start: its state
            # and the inputs it weights (classifiers draw fresh; see RELAX_CV_EPOCHS's comment)
            fold_starts = None if classification else [
                (copy.deepcopy(net.state_dict()), weighted_inputs(net.W1)) for net in nets[1:]]
            problem = st.problem
            grid = geometric_grid(st.lam_max[0], self.lambda_min_ratio, n_l)
            paths = self._paths(nets, problem, both, st, grid, folds, bar)
            records = [replace(r, val_loss=None) for r in paths[0][0]]
            grid, fold_records = paths[1], paths[0][1:]

            cands = support_candidates(records, RELAX_CV_MAX_FEATURES)
            relax_cv = self._relax_cv or {"lambda_0": RELAX_CV_LAMBDA_0[bool(classification)], "n_se": 0.0}
            if self.selection == "relaxed-1se":
                relax_cv = {**relax_cv, "n_se": 1.0}
            cand_masks = [self._support_mask(records[i]) for i in cands]

            def build(s):
                return self._build(p, n_out, s)

            def relaxed_cv(chunk):
                """The folds' relaxed refits of every candidate support: per fold, the
                candidates' losses. Regression: each from its fold's start (``W1`` kept on the
                candidate's inputs; a fresh draw where that start has no weight on them);
                classification: a fresh draw on the candidate's inputs."""
                ks = [k for k, *_ in chunk]
                jobs = [(i, m, (relax_cv["lambda_0"], 0.0), _seed(seed, k + 1, j))
                        for i, k in enumerate(ks) for j, m in enumerate(cand_masks)]
                init = [fold_starts[k][0] if fold_starts and (fold_starts[k][1] & m).any() else None
                        for k in ks for m in cand_masks]
                val = relaxed(build, problem, fb.select(ks), jobs, RELAX_CV_EPOCHS, RELAX_CV_LR, init)[1]
                return [v.tolist() for v in val.reshape(len(ks), -1)]

            losses = loss_table([[rec.val_loss for rec in r] for r in fold_records])
            rule = self.selection if self.selection in ("min", "1se", "paired") else "min"
            idx, mean, se = choose(losses, rule)
            self.cv_results_ = {"lambda": grid, "mean_val_loss": mean, "se_val_loss": se,
                                "fold_val_loss": losses, "support": np.stack([r.selected for r in records]),
                                "n_selected": np.array([r.n_selected for r in records])}
            self.lambda_min_ = float(grid[int(np.nanargmin(mean))])

            self.relaxed_cv_results_ = None
            if self.selection.startswith("relaxed") and len(cands) > 1:
                bar.set(fold="relaxed CV")
                r_losses = loss_table(run_chunks(relaxed_cv, folds, self.n_jobs))
                # n_se 0 is "min" (the first candidate at the lowest mean: the smallest support)
                j, r_mean, r_se = choose(r_losses, "1se", n_se=relax_cv["n_se"])
                idx = cands[j]
                self.relaxed_cv_results_ = {"record": np.array(cands), "lambda": grid[cands],
                                            "n_selected": np.array([records[i].n_selected for i in cands]),
                                            "mean_val_loss": r_mean, "se_val_loss": r_se,
                                            "fold_val_loss": r_losses}
            self.lambda_best_ = float(grid[idx])
            self._set_scaling(scales[0])
            self._set_fitted(nets[0], grid[0], records, idx, problem, st.masks[0])
            self._relax_refit(build, problem, full, fb, records, idx, float(mean[idx]), seed, bar)
        return self

    def plot_cv(self, ax=None):
        """The lambda cross-validation (``cv_results_``): mean held-out loss per lambda with
        one standard error, ``lambda_best_`` (dashed) and ``lambda_min_`` (dotted); with a
        relaxed selection, the relaxed refits of the path's supports (``relaxed_cv_results_``)
        as squares at their lambdas. The top axis gives the inputs selected at each lambda.
        Returns the axes."""
        if hasattr(self, "module_") and not hasattr(self, "cv_results_"):  # IntegrativeSPINN(lam=...)
            raise ValueError(f"{type(self).__name__} was fitted at lam={self.lam!r}, without the lambda "
                             "cross-validation that plot_cv shows; fit with lam=None")
        check_is_fitted(self, "cv_results_")
        r, rr = self.cv_results_, self.relaxed_cv_results_
        lam, mean = np.asarray(r["lambda"], float), np.asarray(r["mean_val_loss"], float)
        extra = None if rr is None else [(rr["lambda"], rr["mean_val_loss"], rr["se_val_loss"],
                                          "relaxed refits of the path's supports")]
        ax = plot_cv_curve(lam, mean, r["se_val_loss"], int(np.argmin(np.abs(lam - self.lambda_best_))), ax,
                           xlabel="lambda", log_x=True, best=int(np.nanargmin(mean)), extra=extra)
        top = ax.secondary_xaxis("top")
        ticks = np.unique(np.linspace(0, len(lam) - 1, min(len(lam), 8)).astype(int))
        top.set_xticks(lam[ticks], [str(int(k)) for k in np.asarray(r["n_selected"])[ticks]], fontsize=7)
        top.set_xlabel(f"inputs selected at lambda ({len(self.selected_features_)} chosen by "
                       f"selection={self.selection!r})", fontsize=8)
        return ax

    def _paths(self, nets, problem, both, st, grid, folds, bar):
        """The paths of the full data (network 0) and the folds on one grid, each network on
        the columns that any network screened in (so that its numbers do not depend on how
        the networks are grouped). Those that start from a screened dense fit run up the grid,
        the others down; network 0's group runs first and extends the grid upward until its
        path is empty, the rest then follow the extended grid. With ``n_jobs`` > 1 the folds
        are split over joblib workers. Returns the records of every network and the grid."""
        B = len(nets)
        screened = [m for m in st.masks if m is not None]
        cols = np.flatnonzero(np.any(screened, axis=0).reshape(-1, both.X.shape[1]).any(0)) if screened else None

        def run(idx, lambdas, extend, inner):
            up = st.up[idx[0]]
            return follow([nets[b] for b in idx], problem, both.select(idx), lambdas, up=up,
                          masks=[st.masks[b] for b in idx] if up else None, cols=cols if up else None,
                          extend=extend, bar=inner)

        def groups(idx):
            first = [b for b in idx if st.up[b] == st.up[idx[0]]]
            return [g for g in (first, [b for b in idx if b not in first]) if g]

        out = [None] * B
        if self.n_jobs in (None, 1):
            order = groups(list(range(B)))
            recs, grid = run(order[0], grid, True, bar)
            for g in order[1:]:
                recs += run(g, grid, False, bar)[0]
            for b, r in zip([b for g in order for b in g], recs, strict=True):
                out[b] = r
            return out, grid
        (out[0],), grid = run([0], grid, True, bar)

        def fold_paths(chunk):
            ks = [k + 1 for k, *_ in chunk]
            res = {}
            for g in groups(ks):
                res.update(zip(g, run(g, grid, False, None)[0], strict=True))
            return [res[b] for b in ks]

        out[1:] = run_chunks(fold_paths, folds, self.n_jobs)
        return out, grid

    def _relax_refit(self, build, problem, full, fb, records, idx, path_loss, seed, bar, warm_full=False):
        """Refit on the chosen support without the sparsity penalty, the ridge chosen by the same
        folds; keep it only where it predicts better out of fold than the penalised path's
        point (at small n the penalty can be the better regulariser). All of it, the folds'
        refits and the full data's, trains as one stack of fresh draws on the support
        (``RELAX_REFIT_EPOCHS`` at ``RELAX_CV_LR``); ``warm_full`` (IntegrativeSPINN): the full
        data's refit starts from the path's network at the chosen point, and all train
        ``RELAX_FRESH_EPOCHS`` at ``RELAX_LR``."""
        self.relax_lambda_0_, self.relaxed_, self.relax_cv_loss_, self.relax_w1_ridge_ = None, False, None, None
        if not (self.relax and self.support_.any()):
            return
        bar.set(fold="relaxed refit")
        K = fb.size
        ridges = list(self._relax_ridges)
        mask = self._support_mask(records[idx])
        both = _full_and_folds(full, fb)  # column 0: the full data, k + 1: fold k
        jobs = [(k + 1, mask, _ridge(r), _seed(seed, k + 1, 100 + j)) for k in range(K) for j, r in enumerate(ridges)]
        jobs += [(0, mask, _ridge(r), _seed(seed, 0, 100 + j)) for j, r in enumerate(ridges)]
        init = [None] * (K * len(ridges)) + [records[idx].state if warm_full else None] * len(ridges)
        nets, val = relaxed(build, problem, both, jobs, RELAX_FRESH_EPOCHS if warm_full else RELAX_REFIT_EPOCHS,
                            None if warm_full else RELAX_CV_LR, init)
        ridge_mean = val[: K * len(ridges)].reshape(K, len(ridges)).mean(0)
        best = int(np.argmin(ridge_mean))
        keys = [r if isinstance(r, tuple) else (float(r), False) for r in ridges]
        self.relax_cv_loss_ = dict(zip(keys, ridge_mean.tolist()))
        if ridge_mean[best] < path_loss:
            self.module_ = nets[K * len(ridges) + best].cpu()
            self.relax_lambda_0_, self.relax_w1_ridge_ = keys[best]
            self.relaxed_ = True


_CV_DOC = """
    K-fold cross-validation of the lambda path, then of the path's supports.

    ``selection="relaxed"`` (default): the distinct supports met along the full-data path (at
    most ``RELAX_CV_MAX_FEATURES`` inputs) are each scored by K-fold CV of a network refitted on
    those inputs without the sparsity penalty (the classifier from a fresh draw on those inputs,
    the regressor from the fold's dense start, trained on the fold's training rows with a ridge
    on the upper layers; the same folds as the lambda CV).
    The regressor takes the lowest mean validation loss (ridge 0.01); the classifier the
    smallest support within 0.25 standard errors of the lowest (ridge 0.03,
    ``CLASSIFIER_RELAX_CV``), since its curve is often flat over several supports
    (``"relaxed-1se"``: the smallest support within one standard error). ``"min"``, ``"1se"``
    and ``"paired"`` choose on the lambda CV (:func:`glassnet.model_selection.choose`).
    Each fold runs its own start (screen and dense fit on its training rows) and path on the
    shared grid; the folds train together as one stack of networks, each taking exactly the
    steps of its own fit (``n_jobs`` > 1: the folds are split over joblib workers, which a
    Dask or Ray backend sends to a cluster).

    Parameters beyond the single estimator's: ``cv`` folds, ``n_lambdas`` and
    ``lambda_min_ratio`` (grid ``lambda_max`` .. ``lambda_max * lambda_min_ratio``, extended
    upward until the full data's path is empty), ``selection``, ``relax`` (default True: refit
    on the selected inputs without the sparsity penalty, its ridge chosen by the same folds;
    the refit replaces the path's model only if its CV loss is lower, ``relaxed_``),
    ``n_jobs``. ``fit`` takes ``sample_weight``.

    Fitted: ``cv_results_`` (lambda CV), ``relaxed_cv_results_`` (the supports' CV; None unless a
    relaxed selection had two or more supports), ``lambda_best_``, ``lambda_min_``,
    ``relaxed_``, ``relax_lambda_0_`` and ``relax_w1_ridge_``, ``relax_cv_loss_`` and those of
    the single estimator.
"""


class _SingleSetCV(_CVBase):
    def fit(self, X, y, sample_weight=None):
        """Cross-validate the lambda grid, choose with ``selection``, fit the full-data path
        and (``relax``) refit on the selected inputs; returns ``self``."""
        X, y, sw = self._check_data(X, y, sample_weight)
        self.n_features_in_ = X.shape[1]
        self._set_classes(y)
        self._cv_select(X, y, sw, y, self._classification, self._n_outputs())
        warn_if_nothing_selected(self, X)
        return self


def _cv_init(self, kw):
    for name, value in kw.items():
        if name not in ("self", "__class__"):
            setattr(self, name, value)


class SPINNRegressorCV(RegressorMixin, _SingleSetCV):
    __doc__ = "SPINN regression with the penalty level chosen by cross-validation.\n" + _CV_DOC

    _classification = False
    _relax_ridges = RELAX_RIDGES_REGRESSION
    _fitted_attributes: ClassVar[dict] = {**CV_FITTED, **REGRESSOR_FITTED}
    _parameter_constraints: ClassVar[dict] = {
        **CV_CONSTRAINTS, "loss": [StrOptions(set(REGRESSION_LOSSES))]}
    predict = SPINNRegressor.predict

    def __init__(self, penalty="group_mcp", hidden=(10,), activation="tanh", lambda_0=None, cv=5,
                 n_lambdas=30, lambda_min_ratio=1e-2, selection="relaxed", start="screen", relax=True,
                 loss="huber", optimizer="sgd", lr=2.0, max_epochs=300, tol=1e-5, n_jobs=None,
                 random_state=None, dtype="float32", device="cpu", verbose=False):
        _cv_init(self, locals())


class SPINNClassifierCV(_ClassifierAPI, _SingleSetCV):
    __doc__ = "SPINN classification with the penalty level chosen by cross-validation.\n" + _CV_DOC

    _classification = True
    _relax_ridges = RELAX_LAMBDA_0
    _relax_cv: ClassVar[dict] = CLASSIFIER_RELAX_CV
    _fitted_attributes: ClassVar[dict] = {**CV_FITTED, **CLASSIFIER_FITTED}
    _parameter_constraints: ClassVar[dict] = dict(CV_CONSTRAINTS)

    def __init__(self, penalty="group_mcp", hidden=(10,), activation="tanh", lambda_0=None, cv=5,
                 n_lambdas=30, lambda_min_ratio=1e-2, selection="relaxed", start="screen", relax=True,
                 optimizer="sgd", lr=2.0, max_epochs=300, tol=1e-5, n_jobs=None, random_state=None,
                 dtype="float32", device="cpu", verbose=False):
        _cv_init(self, locals())
