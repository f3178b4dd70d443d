"""scikit-learn's estimator contract for the SPINN selectors (no skipped checks)."""

import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from glassnet.estimators.spinn import SPINNClassifier, SPINNRegressor

torch.set_num_threads(1)


@parametrize_with_checks([SPINNClassifier(max_epochs=5, n_path=2, random_state=0),
                          SPINNRegressor(max_epochs=5, n_path=2, random_state=0)])
def test_sklearn_contract(estimator, check):
    check(estimator)
