"""The family-agnostic selection rules (glassnet.model_selection.choose)."""

import numpy as np
import pytest

from glassnet.model_selection import PAIRED_Z, choose


def _losses(rng, n=400):
    """Three candidates scored on the same n rows: 0 is worse by 0.05 on every row (plus a
    little row noise), 2 is 1 with noise only; the rows share a large common noise."""
    common = rng.gamma(1.0, 1.0, size=n)  # rows vary far more than candidates differ
    c1 = common + 0.01 * rng.normal(size=n)
    return np.column_stack([common + 0.05 + 0.01 * rng.normal(size=n), c1,
                            c1 + 0.01 * rng.normal(size=n)])


def test_paired_rule_keeps_a_small_consistent_improvement_the_unpaired_rule_drops():
    losses = _losses(np.random.default_rng(0))
    # unpaired: 0.05 is well inside one standard error of a mean over such spread rows
    assert choose(losses, "1se")[0] == 0
    # paired: candidate 0 is worse on the rows by ~5 standard errors of the differences
    assert choose(losses, "paired")[0] == 1
    assert choose(losses, "min")[0] in (1, 2)


def test_paired_rule_takes_the_simplest_candidate_not_significantly_worse():
    rng = np.random.default_rng(1)
    n = 300
    base = rng.gamma(1.0, 1.0, size=n)
    d = rng.normal(size=n)
    d = (d - d.mean()) / d.std(ddof=1)  # unit standard deviation: SE of the mean 1/sqrt(n)
    gap = 1.5 * PAIRED_Z / np.sqrt(n)  # 1.5 z-limits worse than the best: rejected
    worse = base + gap + d
    near = base + 0.5 * PAIRED_Z / np.sqrt(n) + d  # half a z-limit worse: kept
    losses = np.column_stack([worse, near, base])
    assert choose(losses, "paired")[0] == 1
    assert choose(losses[:, [0, 2]], "paired")[0] == 1


def test_rules_never_choose_a_failed_candidate_and_name_bad_input():
    losses = _losses(np.random.default_rng(2))
    losses[3, 1] = np.nan  # candidate 1 failed on one row
    for rule in ("1se", "paired", "min"):
        assert choose(losses, rule)[0] != 1
    with pytest.raises(ValueError, match="paired"):
        choose(losses, "2se")
    with pytest.raises(ValueError, match="finite"):
        choose(np.full((3, 2), np.nan), "paired")
    # every candidate failed or diverged on some row: "min" chose an inf mean, the others failed
    # inside numpy ("zero-size array", "All-NaN slice")
    for bad in ([[np.inf, np.inf], [1.0, 2.0]], [[1.0, np.nan], [np.nan, 2.0]]):
        for rule in ("1se", "paired", "min"):
            with pytest.raises(ValueError, match="no candidate has a finite held-out loss"):
                choose(bad, rule)
    assert choose([[1.0, np.inf], [1.0, 2.0]], "1se")[0] == 0


_THREAD_WORKERS = """
import joblib, numpy as np, torch
from sklearn.datasets import make_classification
from glassnet import IRLSADMMNetClassifier
from glassnet.model_selection import cv_path, make_folds
from glassnet.utils import fit_context, local_seed

def fold(k, tr, va):  # a seeded section in each worker, as every net's training has
    with local_seed(k):
        return [float(torch.rand(()))]

X, y = make_classification(90, 10, n_informative=3, n_redundant=0, random_state=0)
kw = dict(max_epochs=10, cv=3, random_state=0)
serial = IRLSADMMNetClassifier(n_jobs=1, **kw).fit(X, y)
folds = make_folds(90, 3, random_state=0)
with joblib.parallel_backend("threading"):
    threaded = IRLSADMMNetClassifier(n_jobs=2, **kw).fit(X, y)
    with fit_context(5):
        before = torch.random.get_rng_state()
        table = cv_path(fold, folds, n_jobs=2)
        assert torch.equal(before, torch.random.get_rng_state()), "the caller's generator moved"
assert np.array_equal(table, cv_path(fold, folds, n_jobs=1))
assert np.array_equal(threaded.cv_losses_, serial.cv_losses_)
assert np.array_equal(threaded.selected_features_, serial.selected_features_)
print("ok")
"""


def test_thread_workers_inside_a_fit_do_not_deadlock_on_the_seed_lock():
    """A fit holds the seed lock (``local_seed``) for its whole ``fit_context``; when its folds
    fan out to threads of the same process (joblib's threading backend, Dask with
    ``processes=False``) each worker's seeded training waits for that lock while the fit waits
    for the workers. ``run_folds`` / ``run_chunks`` release it around the fan-out
    (``seed_lock_released``): the fit ends, equal to ``n_jobs=1``'s, and the caller's generator
    is as it was. Run in a subprocess with a time limit, so that a deadlock fails the test
    instead of stopping the suite."""
    import subprocess
    import sys

    try:
        out = subprocess.run([sys.executable, "-c", _THREAD_WORKERS], check=False, capture_output=True,
                             text=True, timeout=240)
    except subprocess.TimeoutExpired:
        pytest.fail("the fit with thread workers did not end in 240 s (deadlock on the seed lock)")
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]


def test_cv_plots_mark_the_chosen_candidate():
    """``plot_cv_curve`` and the estimators' ``plot_cv`` built on it: the dashed line is at the
    candidate the estimator chose (SPINN CV: ``lambda_best_``, with the relaxed supports as a
    second series; IRLS-ADMM: the number of features selected), the top axis of SPINN's gives
    the inputs at each lambda; bad input is refused by name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.datasets import make_classification, make_regression

    from glassnet import IRLSADMMNetClassifier, SPINNRegressorCV
    from glassnet.model_selection import plot_cv_curve

    def dashed_x(ax):
        return [line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == "--"]

    ax = plot_cv_curve([1, 2, 3], [3.0, 1.0, 2.0], [0.1, 0.1, 0.1], 1, best=1)
    assert dashed_x(ax) == [2.0] and len(ax.containers) == 1
    with pytest.raises(ValueError, match="one length"):
        plot_cv_curve([1, 2], [1.0], [0.1], 0)
    with pytest.raises(ValueError, match="chosen"):
        plot_cv_curve([1, 2], [1.0, 2.0], [0.1, 0.1], 2)

    X, y = make_regression(80, 6, n_informative=2, noise=1.0, random_state=1)
    spinn = SPINNRegressorCV(cv=3, n_lambdas=6, hidden=(3,), max_epochs=30, random_state=0).fit(X, y)
    ax = spinn.plot_cv()
    assert dashed_x(ax) == [pytest.approx(spinn.lambda_best_)]
    assert len(ax.containers) == 1 + (spinn.relaxed_cv_results_ is not None)
    top = ax.child_axes[0]
    shown = [int(t.get_text()) for t in top.get_xticklabels()]
    at = [int(np.argmin(np.abs(spinn.cv_results_["lambda"] - v))) for v in top.get_xticks()]
    assert shown == [int(spinn.cv_results_["n_selected"][i]) for i in at]

    Xc, yc = make_classification(90, 10, n_informative=3, n_redundant=0, random_state=0)
    net = IRLSADMMNetClassifier(cv=3, max_epochs=10, random_state=0).fit(Xc, yc)
    assert dashed_x(net.plot_cv()) == [net.selected_features_.size]
    with pytest.raises(ValueError, match="no selection CV"):
        IRLSADMMNetClassifier(n_features_to_select=3, max_epochs=5, random_state=0).fit(Xc, yc).plot_cv()
    plt.close("all")


def test_folds_follow_one_policy_when_a_class_is_smaller_than_cv():
    """``make_folds`` (every family's folds): two classes, one of 3 members, ``cv=5`` -> 3
    stratified folds with a warning; three classes with a rare one -> ``cv`` folds with the rare
    class spread; a class of one member, or ``cv`` not an int >= 2 -> a ValueError."""
    from glassnet.model_selection import make_folds

    y = np.r_[np.zeros(20, int), np.ones(3, int)]
    with pytest.warns(UserWarning, match=r"cv=5 is more folds than class\(es\) \{1: 3\} .* using 3"):
        folds = make_folds(23, 5, y, classification=True, random_state=0)
    assert len(folds) == 3
    for tr, va in folds:  # a partition, each fold holding out one member of the small class
        assert np.intersect1d(tr, va).size == 0 and tr.size + va.size == 23 and y[va].sum() == 1
    y3 = np.r_[np.zeros(20, int), np.ones(20, int), 2, 2]
    with pytest.warns(UserWarning, match="using 5 stratified folds, the smaller classes spread"):
        folds = make_folds(42, 5, y3, classification=True, random_state=0)
    assert len(folds) == 5 and all(np.bincount(y3[va], minlength=3)[0] == 4 for _, va in folds)
    y4 = np.r_[np.zeros(8, int), np.ones(8, int), np.full(8, 2), 3]  # spread: the warning names it
    with pytest.warns(UserWarning, match=r"class\(es\) \[3\] of one member are validated in one fold"):
        folds = make_folds(25, 4, y4, classification=True, random_state=0)
    assert sum(3 in y4[va] for _, va in folds) == 1
    with pytest.raises(ValueError, match=r"smallest class has 1 member \(class\(es\) \[1\]\)"):
        make_folds(21, 5, np.r_[np.zeros(20, int), 1], classification=True)
    for bad in (1, 2.0, True):
        with pytest.raises(ValueError, match="cv must be an int >= 2"):
            make_folds(20, bad)
    with pytest.raises(ValueError, match="cannot make 5 folds from 4 samples"):
        make_folds(4, 5)
    assert len(make_folds(23, 3, y, classification=True, random_state=0)) == 3  # no warning needed


def test_spinn_and_irls_admm_classifiers_lower_cv_alike_for_a_small_class():
    """A class of 3 with the default ``cv=5``: both families warn and select on 3 folds (SPINN
    refused such data before and IRLS-ADMM lowered cv silently)."""
    from sklearn.datasets import make_classification

    from glassnet import IRLSADMMNetClassifier, SPINNClassifierCV

    X, y = make_classification(60, 6, n_informative=2, n_redundant=0, random_state=0)
    keep = np.r_[np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:3]]
    X, y = X[keep], y[keep]
    spinn, irls = (SPINNClassifierCV(max_epochs=5, n_lambdas=3, random_state=0),
                   IRLSADMMNetClassifier(max_epochs=5, random_state=0))
    for est in (spinn, irls):
        with pytest.warns(UserWarning, match=r"cv=5 is more folds than class\(es\) \{1: 3\}"):
            est.fit(X, y)
        assert est.predict(X).shape == y.shape
    assert spinn.cv_results_["fold_val_loss"].shape[0] == 3  # folds x lambdas
    assert irls.cv_losses_.shape[0] == 3  # folds x candidate sets
