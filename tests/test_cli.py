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
