"""The CV estimators' relaxed stages (the supports' CV and the final refit) draw each refit
fresh on the candidate's inputs (issue 23, sixth pass; docs/history/spinn.md). Started from the
path's network instead, softmax with two product logits stayed in the penalised fit's basin:
the CV preferred one product pair and the final model lost accuracy."""

import numpy as np

from glassnet.estimators.spinn import SPINNClassifierCV
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
