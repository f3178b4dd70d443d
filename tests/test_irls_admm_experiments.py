"""The IRLS-ADMM reproductions run end to end (--quick) and compare with the paper."""

import numpy as np
import pytest

from glassnet import cli
from glassnet.experiments import Config
from glassnet.experiments.irls_admm import topq_selection_cv, ttest_fold_filter
from glassnet.registry import experiments


def test_topq_selection_finds_the_true_features():
    from glassnet import ADMMLogisticRegression
    from glassnet.datasets import make_irls_admm_simulation

    X, y, _, support = make_irls_admm_simulation(n_samples=300, n_features=20, n_true=4, noise_std=0.1, random_state=0)
    res, rankings, _ = topq_selection_cv(lambda s: ADMMLogisticRegression(lam=1.0, k_max=20, i_max=100), X, y, [2, 4])
    r4 = res[1]
    assert set(r4.selected) == set(support)
    assert 0.9 < r4.accuracy <= 1.0
    assert sum(set(f) == set(support) for f in r4.fold_sets) >= 4  # stable across folds
    assert 0.8 * r4.accuracy < r4.stability_score <= r4.accuracy
    assert len(rankings) == 5


def test_ttest_filter_keeps_differential_genes():
    rng = np.random.default_rng(0)
    X = rng.normal(8, 1, size=(20, 50))
    y = np.r_[np.ones(10), -np.ones(10)]
    X[y == 1, :3] += 3.0  # 3 genes up by 2^3
    cols = ttest_fold_filter(X, y)
    assert set(cols[:3]) == {0, 1, 2}
    assert ttest_fold_filter(X, y, max_genes=2).size == 2


def test_simulation_quick(tmp_path):
    res = experiments()["irls-admm-simulation"].run(Config(quick=True, seed=0, n_jobs=1))
    t = res.tables["table1"]
    ours = t[t.method.str.startswith("IRLS-ADMM net (top")]
    assert len(ours) == 2 and ours.paper_accuracy.notna().all()
    assert (ours.accuracy > 0.85).all()
    assert {"fig3_weights", "fig4_pq"} <= set(res.figures)
    assert "paper" in res.report


@pytest.mark.parametrize("name", ["irls-admm-cervical", "irls-admm-cns"])
def test_real_data_quick_via_cli(name, data_dir, tmp_path):
    out = tmp_path / name
    assert cli.main(["reproduce", name, "--quick", "--data-dir", data_dir, "--out", str(out)]) == 0
    report = (out / "report.md").read_text()
    assert "paper" in report.lower()
    assert (out / "results.csv").exists() and list(out.glob("*.png"))
    if name == "irls-admm-cervical":  # the weight table ranks features by |beta|
        import pandas as pd

        w = pd.read_csv(out / "weights.csv")["beta (net output)"].abs().to_numpy()
        assert np.all(np.diff(w) <= 0) and w[0] > 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["irls-admm-simulation", "irls-admm-cervical", "irls-admm-cns"])
def test_full_reproductions(name, data_dir, tmp_path):
    cfg = ["reproduce", name, "--n-jobs", "2", "--data-dir", data_dir, "--out", str(tmp_path / name)]
    assert cli.main(cfg) == 0
