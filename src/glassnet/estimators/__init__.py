"""scikit-learn estimators, one file per family."""
