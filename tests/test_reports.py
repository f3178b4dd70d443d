"""Every registered experiment runs in its tiny configuration, writes at least one figure,
every number in its prose comes from the tables beside it (issue 11), and every verdict ("met",
"beats", "significant", ...) is one computed from its tables by
:mod:`glassnet.experiments.verdicts` (issue 27). Iterates the registry."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from glassnet.experiments import write_result
from glassnet.experiments.verdicts import Ref, beats, decide, significance, target
from glassnet.registry import experiments

_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+\.\d+(?:[eE][-+]?\d+)?(?![\w.])")


def prose_numbers(text: str) -> list[str]:
    """Decimal numbers written in prose (integers such as fold counts or seeds are settings)."""
    text = re.sub(r"`[^`]*`", " ", text)  # code spans: names and commands
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    return _NUMBER.findall(text)


def table_values(tables: dict[str, pd.DataFrame]) -> np.ndarray:
    vals = []
    for df in tables.values():
        for col in df.columns:
            num = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
            vals.append(num[np.isfinite(num)])
            for cell in df[col].map(str):  # numbers inside text cells ("0.95 +- 0.01"); map: pandas 3 astype(str) keeps NaN
                vals.append(np.array([float(m) for m in _NUMBER.findall(cell)] or [], dtype=float))
    return np.concatenate(vals) if vals else np.array([])


def in_tables(token: str, values: np.ndarray) -> bool:
    x = float(token)
    decimals = len(token.split(".")[1].split("e")[0].split("E")[0])
    tol = 0.5 * 10.0 ** -decimals + 1e-12
    for scale in (1.0, 100.0, 0.01):  # a rate may be written as a percentage and back
        if np.any(np.abs(values * scale - x) <= tol) or np.any(np.abs(np.abs(values * scale) - abs(x)) <= tol):
            return True
    return False


def test_the_number_check_can_fail():
    vals = table_values({"t": pd.DataFrame({"acc": [0.9512, 0.8], "note": ["1.25 +- 0.5", "x"]})})
    assert in_tables("0.951", vals) and in_tables("95.1", vals) and in_tables("1.25", vals)
    assert not in_tables("0.97", vals)
    assert prose_numbers("acc 0.951 at n = 500, `lam=0.1` (v1.2 [fig](a.png)) 1e-3") == ["0.951"]


@pytest.mark.parametrize("name", sorted(experiments()))
def test_experiment_tiny_run_and_report(name, tmp_path, tiny_run):
    result = tiny_run(name).result  # the session's one tiny run of it (conftest.tiny_run)
    assert result.tables and all(len(df) for df in result.tables.values())
    assert result.figures, f"{name} writes no figure"
    values = table_values(result.tables)
    missing = [t for t in prose_numbers(result.report) if not in_tables(t, values)]
    assert not missing, f"{name}: numbers in the report that no table holds: {missing}"
    out = write_result(result, tmp_path / name, name)
    assert (out / "report.md").is_file() and list(out.glob("*.png"))


# verdict words a report may use only inside a line rendered by glassnet.experiments.verdicts
_VERDICT_WORDS = re.compile(r"\b(met|significant|beats?|outperforms?|not tested)\b", re.IGNORECASE)


def hand_written_verdicts(report: str, rendered: list[str]) -> list[str]:
    """Verdict words in the prose outside the rendered verdict lines (and outside code spans)."""
    text = report
    for line in rendered:
        text = text.replace(line, " ")
    text = re.sub(r"`[^`]*`", " ", text)
    return [m.group(0) for m in _VERDICT_WORDS.finditer(text)]


def check_verdicts(result) -> list[str]:
    """Problems with a result's verdicts: each status re-derived from the tables must equal the
    one in the report and in the ``verdicts`` table; no verdict may be written by hand."""
    problems = []
    tables = {k: v for k, v in result.tables.items() if k != "verdicts"}
    lines = []
    for v in result.verdicts:
        ev = v.evaluate(tables)
        lhs = v.lhs.value(tables) if isinstance(v.lhs, Ref) else float(v.lhs)
        rhs = (v.rhs.value(tables) if isinstance(v.rhs, Ref) else float(v.rhs)) + v.rhs_offset
        n = None if v.n is None else (v.n.value(tables) if isinstance(v.n, Ref) else float(v.n))
        status = decide(v.kind, lhs, v.op, rhs, n)
        if status != "not evaluated" and any(g.evaluate(tables).status != "met" for g in v.guards):
            status = "not comparable"
        if status != ev.status:
            problems.append(f"{v.claim}: evaluates to {ev.status!r}, the cells give {status!r}")
        line = ev.render()
        lines.append(line)
        if line not in result.report:
            problems.append(f"verdict not rendered in the report: {line}")
    vt = result.tables.get("verdicts")
    if result.verdicts:
        if vt is None or list(vt.claim) != [v.claim for v in result.verdicts]:
            problems.append("the verdicts table does not list the verdicts")
        elif list(vt.verdict) != [v.evaluate(tables).status for v in result.verdicts]:
            problems.append("the verdicts table disagrees with the computed statuses")
    words = hand_written_verdicts(result.report, lines)
    if words:
        problems.append(f"verdict words outside computed verdicts: {words}")
    return problems


def test_the_verdict_check_can_fail():
    from glassnet.experiments import Result

    t = pd.DataFrame({"set": ["Set5", "Set14"], "gain": [1.2, np.nan]})
    good = [target("Set5 gain >= 1", Ref("psnr", "gain", set="Set5"), ">=", 1.0),
            target("Set14 gain >= 1", Ref("psnr", "gain", set="Set14"), ">=", 1.0),
            target("BSD100 gain >= 1", Ref("psnr", "gain", set="BSD100"), ">=", 1.0)]
    from glassnet.experiments.verdicts import render

    r = Result(tables={"psnr": t}, report="Gains:\n" + render(good, {"psnr": t}), verdicts=good)
    assert check_verdicts(r) == []
    assert list(r.tables["verdicts"].verdict) == ["met", "not evaluated", "not evaluated"]
    # a hand-written claim, an edited status, a verdict left out of the report: each is caught
    assert check_verdicts(Result(tables={"psnr": t}, report=r.report + "\nSet14: met.", verdicts=good))
    assert check_verdicts(Result(tables={"psnr": t}, report=r.report.replace("**met**", "**not met**"),
                                 verdicts=good))
    assert check_verdicts(Result(tables={"psnr": t}, report="Gains.", verdicts=good))


def test_verdict_rules():
    t = {"c": pd.DataFrame({"pair": ["a", "b", "c"], "p": [0.01, 0.2, np.nan], "n": [3, 3, 1],
                            "acc": [0.9, 0.8, 0.85], "k": [10, 5, 10]})}
    sig = lambda pair: significance(pair, Ref("c", "p", pair=pair), Ref("c", "n", pair=pair))
    assert [sig(x).evaluate(t).status for x in "abc"] == ["significant", "not significant",
                                                           "not tested (one seed)"]
    fair = [target("b used about k", Ref("c", "k", pair="b"), ">=", 8)]
    assert beats("a > b", Ref("c", "acc", pair="a"), ">", Ref("c", "acc", pair="b")).evaluate(t).status == "beats"
    assert beats("a > b", Ref("c", "acc", pair="a"), ">", Ref("c", "acc", pair="b"),
                 guards=fair).evaluate(t).status == "not comparable"
    assert beats("b > a", Ref("c", "acc", pair="b"), ">", Ref("c", "acc", pair="a")).evaluate(t).status == (
        "does not beat")
    with pytest.raises(ValueError, match="rows match"):
        Ref("c", "acc").value(t)
    with pytest.raises(ValueError, match="column"):
        Ref("c", "nope", pair="a").value(t)
    with pytest.raises(ValueError, match="op must be"):
        decide("target", 1.0, "=>", 0.0)


def test_verdict_lines_never_print_a_false_inequality():
    """A failed comparison prints the relation the numbers have ("p = 0.2195 >= 0.05", not
    "< 0.05"); numbers equal at four digits get more; a significance claim whose ordering is
    reversed is not "significant"."""
    t = {"c": pd.DataFrame({"pair": ["a", "b"], "p": [0.2195, 0.0315], "n": [3, 3], "holds": [1, 0],
                            "x": [0.94907, 0.94912]})}
    line = significance("a", Ref("c", "p", pair="a"), Ref("c", "n", pair="a")).render(t)
    assert "**not significant** (p = 0.2195 >= 0.05" in line
    close = beats("x", Ref("c", "x", pair="a"), ">", Ref("c", "x", pair="b")).render(t)
    assert "**does not beat** (0.94907 <= 0.94912" in close
    ordered = target("the ordering holds", Ref("c", "holds", pair="b"), ">=", 1)
    rev = significance("b", Ref("c", "p", pair="b"), Ref("c", "n", pair="b"), guards=(ordered,)).render(t)
    assert "**not comparable**" in rev and "the ordering holds (0 < 1)" in rev


@pytest.mark.parametrize("name", sorted(experiments()))
def test_experiment_verdicts_are_computed_from_its_tables(name, tiny_run):
    result = tiny_run(name).result
    problems = check_verdicts(result)
    assert not problems, f"{name}: " + "; ".join(problems)


# ---------------------------------------------------------------- issue 27: figure defects


def test_report_tables_print_whole_numbers_in_full(tmp_path):
    from glassnet.experiments import Result

    setup = pd.DataFrame({"setting": ["test images", "lr"], "value": ["10000", "0.005"]})
    nums = pd.DataFrame({"n": [10000.0, 0.123456], "k": [60000, 3]})
    write_result(Result(tables={"setup": setup, "nums": nums}, figures={}, report="r"), tmp_path, "t")
    md = (tmp_path / "report.md").read_text()
    assert "1e+04" not in md and "6e+04" not in md
    assert len(re.findall(r"\|\s*10000\s*\|", md)) == 2 and "60000" in md and "0.1235" in md
    assert pd.read_csv(tmp_path / "results.csv", dtype=str).value.tolist() == ["10000", "0.005"]


def test_weight_legends_show_the_bar_colours(tiny_run):
    """Fig. 5 / Fig. 6a: the swatch beside 'selected (blue)' is blue, beside 'not selected
    (grey)' grey, whichever feature comes first."""
    from matplotlib.colors import to_rgb

    for name, fig in (("irls-admm-cervical", "fig5_weights"), ("irls-admm-cns", "fig6_weights_heatmap")):
        ax = tiny_run(name).result.figures[fig].axes[0]
        leg = ax.get_legend()
        colours = {t.get_text(): to_rgb(h.get_facecolor()) for t, h in zip(leg.get_texts(), leg.legend_handles)}
        blue = [c for t, c in colours.items() if "not selected" not in t and "(blue)" in t]
        grey = [c for t, c in colours.items() if "not selected" in t]
        assert blue == [to_rgb("C0")] and grey == [to_rgb("0.7")], colours


def test_selection_suite_legend_covers_no_bar(tiny_run):
    fig = tiny_run("spinn-selection-suite").result.figures["selection_tpr_fpr"]
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    assert fig.legends and all(ax.get_legend() is None for ax in fig.axes)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = fig.legends[0].get_window_extent(renderer)
    for ax in fig.axes:
        assert not box.overlaps(ax.get_window_extent(renderer))


def test_hidden_layer_panel_is_not_black(tiny_run, data_dir):
    """matnet-mnist Fig. 2: the hidden-output panel shows its units (it was almost all black)."""
    fig = tiny_run("matnet-mnist").result.figures["fig2_hidden"]
    im = fig.axes[1].get_images()[0]
    grey = im.norm(np.ma.masked_invalid(np.asarray(im.get_array(), dtype=float)))  # 0 black, 1 white
    assert grey.mean() > 0.2 and (grey > 0.5).mean() > 0.1


def test_spinn_path_labels_its_grey_lines(tiny_run):
    fig = tiny_run("spinn-simulation").result.figures["spinn_path"]
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "other inputs" in labels
