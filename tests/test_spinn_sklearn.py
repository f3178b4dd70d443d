"""scikit-learn's estimator contract for the SPINN selectors.

No check is skipped by us; scikit-learn itself skips its two array-API checks unless
SCIPY_ARRAY_API=1 is set (the estimators convert input to numpy float arrays).
"""

import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from glassnet.estimators.spinn import SPINNClassifier, SPINNRegressor

torch.set_num_threads(1)


# float64: check_methods_sample_order_invariance compares outputs to ~1e-7, below float32 rounding
@parametrize_with_checks([SPINNClassifier(max_epochs=5, n_path=2, random_state=0, dtype="float64"),
                          SPINNRegressor(max_epochs=5, n_path=2, random_state=0, dtype="float64")])
def test_sklearn_contract(estimator, check):
    check(estimator)
