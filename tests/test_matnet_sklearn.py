"""scikit-learn estimator contract for the MatNet estimators (small nets, few epochs)."""

import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from glassnet import MatNetClassifier, MatNetRegressor

torch.set_num_threads(1)

# Checks expected to fail, with reasons: none (all scikit-learn checks pass).
EXPECTED_FAILED = {
}


@parametrize_with_checks(
    [
        MatNetClassifier(hidden_shapes=[(4, 4)], max_epochs=30, batch_size=None, random_state=0),
        MatNetRegressor(hidden_shapes=[(4, 4)], max_epochs=60, batch_size=None, random_state=0),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_contract(estimator, check):
    check(estimator)
