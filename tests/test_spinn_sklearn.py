"""scikit-learn's estimator contract for the SPINN selectors at their default dtype (float32).

tests/test_common.py runs every public estimator (float64 fast settings); here the classifier
and regressor keep ``dtype="float32"``: predictions are computed in float64, so
check_methods_sample_order_invariance holds at float32 too (issue 7).
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from glassnet.estimators.checks import expected_failed_checks
from glassnet.estimators.spinn import SPINNClassifier, SPINNRegressor


@parametrize_with_checks([SPINNClassifier(max_epochs=5, n_path=2, random_state=0),
                          SPINNRegressor(max_epochs=5, n_path=2, random_state=0)],
                         expected_failed_checks=expected_failed_checks)
def test_sklearn_contract_float32(estimator, check):
    check(estimator)
