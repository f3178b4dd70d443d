"""The IRLS-ADMM reproductions: their building blocks, a tiny run of each (same code path,
seconds) whose content is checked, and the full runs behind ``-m slow``."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from glassnet import cli
from glassnet.experiments import Config
from glassnet.experiments.irls_admm import (
    DEFAULT_ROW,
    topq_selection_cv,
    ttest_fold_filter,
    welch_t_test,
)
from glassnet.registry import experiments

# references to the paper's figures, tables, sections and equations are names, not results
_REFS = re.compile(r"(Fig\.|Figs\.|Table|Sec\.|eq\.|eqs\.|refs?\.?|top-|log2|L1|S1|S2|\bq\*|\*\*P_q\*\*)\s*[\dIVX.,\- ]*")
_NUM = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?%?")


def _table_strings(tables) -> set[str]:
    out = set()
    for df in tables.values():
        for v in list(df.to_numpy().ravel()) + list(df.columns):
            if isinstance(v, (float, np.floating)) and np.isfinite(v):
                out |= {f"{v:.{d}f}" for d in range(5)} | {f"{v:+.3f}", f"{v:.1%}", repr(float(v))}
                out |= {f"{v:.3g}", f"{v:.4g}"}  # the verdict lines' form of small values
            elif isinstance(v, (int, np.integer, bool, np.bool_)):
                out.add(str(int(v)))
            if isinstance(v, str):
                out.add(v)
                out |= set(_NUM.findall(v))
    return out


def assert_prose_numbers_in_tables(result):
    """Every number in the report's prose (apart from names like 'Fig. 3') is a table value."""
    prose = _REFS.sub(" ", result.report)
    known = _table_strings(result.tables)
    missing = [n for n in _NUM.findall(prose) if n not in known and n.lstrip("+") not in known]
    assert not missing, f"numbers in the report that no table holds: {missing}"


def test_prose_check_catches_a_typed_number():
    from glassnet.experiments import Result

    ok = Result(tables={"t": pd.DataFrame({"acc": [0.9512]})}, report="accuracy 0.951 (Fig. 3)")
    assert_prose_numbers_in_tables(ok)
    with pytest.raises(AssertionError, match="0.97"):
        assert_prose_numbers_in_tables(Result(tables=ok.tables, report="accuracy 0.97"))


def test_topq_selection_finds_the_true_features():
    from glassnet import ADMMLogisticRegression
    from glassnet.datasets import make_irls_admm_simulation

    X, y, _, support = make_irls_admm_simulation(n_samples=300, n_features=20, n_true=4, noise_std=0.1, random_state=0)
    res, natural = topq_selection_cv(lambda s: ADMMLogisticRegression(lam=1.0, k_max=20, i_max=100), X, y, [2, 4])
    r4 = res[1]
    assert set(r4.selected) == set(support)
    assert 0.9 < r4.accuracy <= 1.0
    assert sum(set(f) == set(support) for f in r4.fold_sets) >= 4  # stable across folds
    assert 0.8 * r4.accuracy < r4.stability_score <= r4.accuracy
    assert len(natural.rankings) == 5 and 0.9 < natural.accuracy <= 1.0


def test_ttest_filter_keeps_differential_genes_without_warnings():
    from scipy.stats import ttest_ind

    rng = np.random.default_rng(0)
    X = rng.normal(8, 1, size=(20, 50))
    y = np.r_[np.ones(10), -np.ones(10)]
    X[y == 1, :3] += 3.0  # 3 genes up by 2^3
    np.testing.assert_allclose(welch_t_test(X[y == 1], X[y == -1]),
                               ttest_ind(X[y == 1], X[y == -1], equal_var=False).pvalue, rtol=1e-10)
    X[:, 10] = np.log2(20.0)  # a gene clipped to the detection floor in every sample
    X[y == 1, 11] = np.log2(20.0)  # ... and one clipped in one class only: still testable
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cols = ttest_fold_filter(X, y)
        p = welch_t_test(X[y == 1], X[y == -1])
    assert set(cols[:4]) == {0, 1, 2, 11}  # gene 11: 8 vs the floor log2(20), a real difference
    assert p[10] == 1.0 and 10 not in cols
    assert ttest_fold_filter(X, y, max_genes=2).size == 2


def _tiny(name, tiny_run):
    run = tiny_run(name)  # the session's one tiny run of it (conftest.tiny_run)
    res = run.result
    # no ConvergenceWarning, no precision-loss RuntimeWarning (library deprecations aside)
    raised = [f"{category.__name__}: {message}" for category, message in run.warnings
              if not issubclass(category, (FutureWarning, DeprecationWarning))]
    assert not raised, raised
    assert run.stderr.count(f"{name}:") >= 2, "each stage announces itself (glassnet.progress.log)"
    assert res.figures
    assert_prose_numbers_in_tables(res)
    return res


def test_simulation_tiny(tiny_run):
    res = _tiny("irls-admm-simulation", tiny_run)
    t = res.tables["table1"]
    topq = t[t.method.str.startswith("IRLS-ADMM net (top")]
    assert len(topq) == 1 and topq.paper_accuracy.notna().all() and (topq.accuracy > 0.85).all()
    default = t[t.method == DEFAULT_ROW].iloc[0]
    assert default.fn_rate <= 0.10 and default.fp_rate <= 0.10 and default.accuracy > 0.85
    assert f"{default.fn_rate:.3f}" in res.report
    # Fig. 3 is readable: every method on one [-1, 1] scale (not divided by a near-zero weight)
    ax = res.figures["fig3_weights"].axes[0]
    heights = [abs(b.get_height()) for b in ax.patches]
    assert max(heights) == pytest.approx(1.0) and ax.get_ylim()[1] <= 1.5
    w = res.tables["fig3_weights"]
    assert set(w.columns) >= {"true_beta", "net_beta", "admm_beta"}
    assert {"fig3_weights", "fig4_pq"} <= set(res.figures)


def test_cervical_tiny(tiny_run):
    res = _tiny("irls-admm-cervical", tiny_run)
    w = res.tables["weights"]
    beta = w["beta (net output, plotted)"].to_numpy()
    assert np.all(np.diff(np.abs(beta)) <= 0) and beta[0] != 0  # ranked by |beta|
    coef = w["classifier coef_"].to_numpy()
    assert np.all((coef != 0) <= w.selected.to_numpy())  # the classifier uses only selected features
    acc = res.tables["cv_accuracy"].set_index("method")
    assert acc.loc["IRLS-ADMM net", "cv_accuracy"] >= acc.loc["majority class", "cv_accuracy"] - 0.02
    assert acc.paper_cv_accuracy.notna().any()


def test_cns_tiny(tiny_run):
    res = _tiny("irls-admm-cns", tiny_run)
    genes = res.tables["fig6_selected_genes"]
    beta = genes["beta (net output, plotted)"].to_numpy()
    assert len(genes) == 20 and np.all(np.diff(np.abs(beta)) <= 0)  # the top-20 table sorted by |beta|
    # the table's beta is the plotted one: Fig. 6a's bars for those genes
    bars = np.array([b.get_height() for b in res.figures["fig6_weights_heatmap"].axes[0].patches])
    top = np.sort(np.abs(bars))[::-1][: len(genes)]
    np.testing.assert_allclose(top, np.abs(beta))
    acc = res.tables["accuracy"]
    assert (acc.cv_accuracy >= 0.5).all() and acc.paper_accuracy.notna().any()


@pytest.mark.slow
def test_cli_writes_report_and_figures(data_dir, tmp_path):
    out = tmp_path / "o"
    assert cli.main(["reproduce", "irls-admm-cns", "--quick", "--data-dir", data_dir, "--out", str(out)]) == 0
    report, acc = (out / "report.md").read_text(), pd.read_csv(out / "results.csv")
    # the written report sets the measured accuracies (from results.csv) beside the paper's claim
    ours = acc[acc.dataset.str.startswith("Brain_Tumor1")].set_index("method").cv_accuracy
    for method in ("IRLS-ADMM net", "sklearn L1-LR (C by CV)"):
        assert f"{ours[method]:.3f}" in report
    assert 'paper: "approaching 100%"' in report
    assert (acc.loc[acc.method.str.startswith("IRLS-ADMM net"), "paper_accuracy"].dropna() == 1.0).any()
    assert {"fig6_weights_heatmap.png"} <= {f.name for f in out.glob("*.png")}


@pytest.mark.slow
def test_full_simulation_meets_the_selection_targets(tmp_path):
    res = experiments()["irls-admm-simulation"].run(Config(seed=0, n_jobs=2))
    t = res.tables["table1"]
    default = t[t.method == DEFAULT_ROW]
    assert len(default) == 4
    assert (default.fn_rate <= 0.10).all() and (default.fp_rate <= 0.10).all()
    assert_prose_numbers_in_tables(res)
    # the paper's own protocol (top q* at the P_q peak) against its claim of FN 0: at some noise
    # levels the peak is at q* = 7 for 8 true features (FN 0.125, docs/irls_admm.md), so this
    # part is a known gap of the reproduction, recorded as an expected failure with its rows
    topq = t[t.method.str.startswith("IRLS-ADMM net (top")]
    assert len(topq) == 4 and (topq.accuracy >= 0.93).all()
    missed = topq[(topq.fn_rate > 0.05) | (topq.fp_rate > 0.05)]
    if len(missed):
        pytest.xfail("paper's top-q protocol misses FN/FP <= 0.05 (documented): "
                     + missed[["method", "fn_rate", "fp_rate"]].to_string(index=False))


@pytest.mark.slow
def test_full_cervical(data_dir):
    """The paper's 0.95 is this data's majority rate (balanced accuracy 0.5 for every method),
    so being near 0.95 shows nothing. What can fail: the net predicting worse than "always
    negative", or worse than the scikit-learn L1 peer, by more than one patient per test fold."""
    from glassnet.datasets import load_cervical_cancer

    res = experiments()["irls-admm-cervical"].run(Config(seed=0, data_dir=data_dir))
    table = res.tables["cv_accuracy"].set_index("method")
    y = load_cervical_cancer(data_dir).y
    majority = max(np.mean(y == 1), np.mean(y != 1))
    assert table.loc["majority class", "cv_accuracy"] == pytest.approx(majority)
    one_patient = 5 / len(y)  # one more error in each of the 5 test folds
    net, peer = table.loc["IRLS-ADMM net"], table.loc["sklearn L1-LR (C by CV)"]
    assert net.cv_accuracy >= majority - one_patient
    assert net.cv_accuracy >= peer.cv_accuracy - one_patient
    assert net.cv_balanced_accuracy >= peer.cv_balanced_accuracy - one_patient
    assert_prose_numbers_in_tables(res)


@pytest.mark.slow
def test_full_cns(data_dir):
    res = experiments()["irls-admm-cns"].run(Config(seed=0, data_dir=data_dir, n_jobs=2))
    acc = res.tables["accuracy"]
    assert acc.dataset.nunique() == 6  # Brain_Tumor1 + 5 extra sets
    bt = acc[acc.dataset.str.startswith("Brain")].set_index("method").cv_accuracy
    assert bt.min() >= 0.8
    assert_prose_numbers_in_tables(res)
