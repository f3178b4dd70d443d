"""scikit-learn's estimator contract for the DSRL estimators (a 2-D X is one view)."""

import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from glassnet.estimators.checks import expected_failed_checks
from glassnet.estimators.dsrl import DSRLClassifier, DSRLClustering

torch.set_num_threads(1)


@parametrize_with_checks([DSRLClustering(max_epochs=3, n_init=2, random_state=0),
                          DSRLClassifier(max_epochs=3, random_state=0)],
                         expected_failed_checks=expected_failed_checks)
def test_sklearn_contract(estimator, check):
    check(estimator)
