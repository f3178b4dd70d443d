"""Where the CV estimators' relaxed refits start (issue 23; docs/history/spinn.md).

The final refit and a classifier's supports' CV draw each refit fresh on the candidate's inputs
(sixth pass): started from the path's network, softmax with two product logits stayed in the
penalised fit's basin. A regressor's supports' CV refits start from their fold's dense start
(W1 kept on the candidate's inputs): from a fresh draw, 100 epochs did not always grow an even
effect, so the support with friedman1's quadratic input tied the one without it."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_friedman1
from sklearn.model_selection import train_test_split

import glassnet.estimators.spinn.cv as cv_module
from glassnet.estimators.spinn import SPINNClassifierCV, SPINNRegressorCV
from glassnet.experiments.spinn import selection_problem


def test_softmax_products_all_four_inputs_and_better_than_chance():
    # the suite's 3-class problem (logits 3 x0 x1, 3 x2 x3, 0; p = 100) at n = 300, tuning seed
    # 17: with warm-started relaxed stages the CV kept {0, 1} only (accuracy 0.469)
    X, y, Xt, yt, support, _ = selection_problem("softmax3", 300, 17)
    est = SPINNClassifierCV(random_state=17).fit(X, y)
    assert set(est.selected_features_) == set(support.tolist())
    assert est.relaxed_  # the fresh refit beat the penalised path's point out of fold
    chance = np.bincount(yt).max() / len(yt)
    assert est.score(Xt, yt) > chance + 0.15


@pytest.mark.parametrize("cls", [SPINNRegressorCV, SPINNClassifierCV])
def test_supports_cv_starts(cls, monkeypatch):
    calls = []

    def spy(build, problem, batch, jobs, max_epochs=None, lr=None, init=None):
        if max_epochs == cv_module.RELAX_CV_EPOCHS:  # the supports' CV, not the final refit
            calls.append((jobs, init))
        return relaxed(build, problem, batch, jobs, max_epochs, lr, init)

    relaxed = cv_module.relaxed
    monkeypatch.setattr(cv_module, "relaxed", spy)
    if cls is SPINNRegressorCV:
        X, y = make_friedman1(200, 10, noise=1.0, random_state=0)
    else:
        X, y = make_classification(200, 10, n_informative=3, random_state=0)
    cls(random_state=0, max_epochs=50, n_lambdas=8, cv=3).fit(X, y)
    assert calls, "no supports' CV ran"
    for jobs, init in calls:
        assert len(init) == len(jobs)
        if cls is SPINNClassifierCV:
            assert all(state is None for state in init)
            continue
        assert any(state is not None for state in init)
        for (_, mask, _, _), state in zip(jobs, init):
            if state is not None:  # a fold's start with weight on the candidate's inputs
                assert state["W1"][:, np.asarray(mask, bool)].ne(0).any()


def test_regressor_keeps_friedmans_even_input():
    # friedman1 tuning split 11 (X as drawn, 375 training rows): with fresh draws in the
    # supports' CV the 4-input support tied the 5-input one and won (R2 0.884, x2 dropped)
    X, y = make_friedman1(500, 50, noise=1.0, random_state=11)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=11)
    est = SPINNRegressorCV(random_state=11).fit(Xtr, ytr)
    assert set(est.selected_features_.tolist()) == {0, 1, 2, 3, 4}
    assert est.score(Xte, yte) > 0.93
