"""SPINNClassifierCV's choice among the path's supports: the smallest support within a quarter of
a standard error of the lowest relaxed-CV loss (``CLASSIFIER_RELAX_CV``), where the lowest loss
alone picked a large support from a flat curve; the regressor keeps the lowest loss
(docs/history/spinn.md)."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, make_friedman1
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from glassnet import SPINNClassifierCV, SPINNRegressorCV
from glassnet.estimators.spinn.cv import CLASSIFIER_RELAX_CV
from glassnet.model_selection import choose


def test_n_se_moves_the_choice_between_the_minimum_and_one_standard_error():
    rng = np.random.default_rng(0)
    d = rng.normal(size=10)
    se = d.std(ddof=1) / np.sqrt(len(d))  # the same standard error for every candidate
    # candidate 0 is 0.8 standard errors worse than the best (2), candidate 1 0.2 worse
    losses = np.column_stack([d + 0.8 * se, d + 0.2 * se, d])
    assert choose(losses, "min")[0] == 2
    assert choose(losses, "1se", n_se=0.0)[0] == 2
    assert choose(losses, "1se", n_se=0.25)[0] == 1
    assert choose(losses, "1se", n_se=0.5)[0] == 1
    assert choose(losses, "1se")[0] == 0
    with pytest.raises(ValueError, match="n_se"):
        choose(losses, "1se", n_se=-1.0)


def _relaxed_pick(est):
    r = est.relaxed_cv_results_
    j = int(np.flatnonzero(r["record"] == np.flatnonzero(est.cv_results_["lambda"] == est.lambda_best_)[0])[0])
    return j, r["mean_val_loss"], r["se_val_loss"], r["n_selected"]


def test_classifier_takes_the_smallest_support_near_the_lowest_loss():
    # breast cancer, a 75/25 split of the tuning seeds (10): the supports' CV curve is flat from
    # 13 to 19 features and the lowest loss alone kept 19
    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=10, stratify=y)
    sc = StandardScaler().fit(Xtr)
    est = SPINNClassifierCV(random_state=10).fit(sc.transform(Xtr), ytr)
    j, mean, se, sizes = _relaxed_pick(est)
    best = int(np.argmin(mean))
    near = np.flatnonzero(mean <= mean[best] + CLASSIFIER_RELAX_CV["n_se"] * se[best])
    assert j == near.min()  # the first (smallest) support within the margin
    assert sizes[j] < sizes[best]  # fewer features than the lowest loss's support
    assert len(est.selected_features_) == sizes[j]
    chance = np.bincount(yte).max() / len(yte)
    assert est.score(sc.transform(Xte), yte) > chance + 0.25


def test_regressor_keeps_the_lowest_relaxed_cv_loss():
    X, y = make_friedman1(200, 20, noise=1.0, random_state=3)
    est = SPINNRegressorCV(random_state=1).fit(X, y)
    j, mean, _, _ = _relaxed_pick(est)
    assert j == int(np.argmin(mean))
