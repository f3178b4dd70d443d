"""scikit-learn estimator checks that a glassnet estimator is expected to fail, each with the
reason (DESIGN.md rule 2). This is the one place such exceptions live; the test suite runs
``parametrize_with_checks`` over every public estimator with this mapping.
"""

from __future__ import annotations

# estimator class name -> {check name: why it cannot pass}
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "DSRLClassifier": {
        "check_classifiers_classes": (
            "the check's binary labels are [-1, 1]; DSRLClassifier is semi-supervised and reads "
            "-1 as 'unlabelled' (as LabelSpreading does), so one labelled class remains"),
    },
}


def expected_failed_checks(estimator) -> dict[str, str]:
    """The mapping for ``parametrize_with_checks(expected_failed_checks=...)``."""
    return dict(EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {}))
