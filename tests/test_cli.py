"""The command line checks its arguments before any work (issue 7) and documents itself (11)."""

from __future__ import annotations

import pytest

from glassnet import __version__
from glassnet.cli import main
from glassnet.registry import experiments


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and __version__ in capsys.readouterr().out


def test_help_lists_every_experiment(capsys):
    with pytest.raises(SystemExit):
        main(["reproduce", "--help"])
    out = capsys.readouterr().out
    assert all(name in out.replace("\n", "").replace(" ", "") for name in experiments())
    assert "NAME-quick" in out.replace("\n", "").replace(" ", "")


@pytest.mark.parametrize("argv, words", [
    (["reproduce", "no-such-experiment"], "unknown experiment"),
    (["reproduce", "{exp}", "--n-jobs", "0"], "--n-jobs"),
    (["reproduce", "{exp}", "--n-jobs", "-5"], "--n-jobs"),
    (["reproduce", "{exp}", "--threads", "0"], "--threads"),
    (["reproduce", "{exp}", "--out", "{file}/sub"], "not a folder"),
    (["reproduce", "{exp}", "--data-dir", "{tmp}/missing"], "--data-dir"),
])
def test_bad_arguments_fail_before_any_work(argv, words, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    exp = next(iter(experiments()))
    argv = [a.format(exp=exp, file=afile, tmp=tmp_path) for a in argv]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert words in capsys.readouterr().err


# ---------------------------------------------------------------- issue 27: cheap commands


def test_registry_index_matches_what_the_modules_register():
    """``glassnet list`` reads names and descriptions from the registry's index without
    importing the modules; the index must say what the modules themselves register."""
    from glassnet.registry import EXPERIMENT_INDEX, MODEL_INDEX, import_all_experiments, models

    registered = import_all_experiments()
    assert set(registered) == set(EXPERIMENT_INDEX)
    for name, (module, description, data) in EXPERIMENT_INDEX.items():
        reg = registered[name]
        assert reg.run.__module__ == f"glassnet.experiments.{module}", name
        assert (reg.description, list(reg.needs_data)) == (description, list(data)), name
    classes = models()
    assert set(classes) == set(MODEL_INDEX)
    for name, (module, _) in MODEL_INDEX.items():
        assert classes[name].__module__ == f"glassnet.nn.{module}", name


def _modules_after(code: str) -> set:
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_version_and_list_import_nothing_heavy():
    heavy = {"torch", "matplotlib", "sklearn", "pandas", "glassnet.experiments.spinn", "glassnet.nn"}
    for argv in (["--version"], ["list"], ["reproduce", "--help"]):
        code = ("import contextlib, io\nfrom glassnet.cli import main\n"
                f"with contextlib.redirect_stdout(io.StringIO()):\n"
                f"    try:\n        main({argv!r})\n    except SystemExit:\n        pass")
        assert not heavy & _modules_after(code), argv


def test_list_names_every_experiment_and_model(capsys):
    from glassnet.registry import MODEL_INDEX

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in experiments()) and all(name in out for name in MODEL_INDEX)


def test_create_model_leaves_the_callers_backend_alone():
    """Building a model imports neither the experiments nor pyplot, so the caller's matplotlib
    backend stays what it was (issue 27: experiments used to call matplotlib.use("Agg"))."""
    mods = _modules_after("import glassnet\nm = glassnet.create_model('resnet20')\nassert 'resnet20' in glassnet.models()")
    assert "matplotlib.pyplot" not in mods and "glassnet.experiments" not in mods
    code = ("import matplotlib\nmatplotlib.use('svg')\nimport glassnet\nglassnet.create_model('irls_admm', n_features=3)\n"
            "from glassnet.registry import experiments\nexperiments()['matnet-digits'].run\n"
            "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()")
    _modules_after(code)  # check=True: the assert inside holds


def test_create_model_and_models_at_the_top_level():
    import glassnet
    from glassnet import registry

    assert "create_model" in glassnet.__all__ and "models" in glassnet.__all__
    assert glassnet.create_model is registry.create_model and glassnet.models is registry.models
    with pytest.raises(ValueError, match="unknown model"):
        glassnet.create_model("no-such-net")


def test_long_stages_write_a_line_off_a_terminal(monkeypatch, capsys):
    """Off a terminal a stage writes its position (inner levels included) every HEARTBEAT_S
    seconds; an estimator's own quiet block inside it writes nothing of its own."""
    import time

    from glassnet import progress as P

    monkeypatch.setattr(P, "HEARTBEAT_S", 0.05)
    with P.stage("demo stage", total=2) as bar:
        with P.progress(total=4, desc="epoch", verbose=False) as inner:
            inner.update(3, loss=0.25)
            time.sleep(0.4)
        bar.update(1)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("demo stage")]
    assert len(lines) >= 3, err
    assert any("epoch 3/4 (loss=0.25)" in ln for ln in lines)
    assert lines[-1].startswith("demo stage · done")  # one line as it closes, then silence
    time.sleep(0.2)  # closed: no more lines
    assert "demo stage" not in capsys.readouterr().err
    with P.progress(total=2, desc="quiet"):  # not verbose and not a terminal: silent
        time.sleep(0.2)
    assert capsys.readouterr().err == ""


def test_demo_prints_the_selection_and_reads_near_duplicates_as_a_group(tmp_path, capsys):
    """``glassnet demo`` (the README's first command): held-out accuracy, the selected features
    with coef_ and beta_, the weight plot; and a note exactly when selected near-duplicates
    (r >= 0.9 on the demo's training rows) carry coefficients of opposite sign."""
    import re

    import numpy as np
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "weights.png").is_file()
    n_sel = int(re.search(r"selected (\d+) of 30 features", out).group(1))
    coefs = {k: float(v) for k, v in re.findall(r"^\s{4}(\S.*?)\s+coef = ([+-][\d.]+)", out, re.MULTILINE)}
    assert len(coefs) == n_sel and float(re.search(r"test accuracy: ([\d.]+)", out).group(1)) >= 0.9
    d = load_breast_cancer()
    X_tr = train_test_split(d.data, d.target, test_size=0.3, random_state=0, stratify=d.target)[0]
    cols = [list(d.feature_names).index(k) for k in coefs]
    r, c = np.corrcoef(X_tr[:, cols].T), np.array(list(coefs.values()))
    flips = sum(r[i, j] >= 0.9 and c[i] * c[j] < 0 for i in range(len(c)) for j in range(i + 1, len(c)))
    note = re.search(r"note: (\d+) pair\(s\)", out)
    assert (note is not None) == (flips > 0) and (note is None or int(note.group(1)) == flips)
