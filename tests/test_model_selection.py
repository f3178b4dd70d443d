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
