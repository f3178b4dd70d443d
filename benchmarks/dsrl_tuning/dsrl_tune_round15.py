"""Round 15 of DSRL (issue 26): should the eigengap view pick also ask for agreement?

Round 14 found the round-7 pick (``pick_view``: one kept view's own partition is returned when
its graph's eigengap at k is >= 2x the clustered graph's and >= 3x every other view's) taking
the weakest view of ``sktexture-c10-0``: pixel intensities of random crops, whose graph
clusters by brightness. The variants add one condition to the pick (elsewhere the last step is
unchanged, so only fits where today's pick fires are scored):

* ``agree``: the candidate view's own spectral partition has the highest mean NMI with the
  other kept views' own partitions;
* ``cons``: the candidate's own partition has the highest NMI, among the kept views, with the
  partition before the pick (after the fallback and co-reg).

* ``veto`` (round 15b, rule written after round 15's scores): the pick is dropped only if the
  candidate is strictly the lowest of the kept views on both scores above.

When the condition fails, the last step runs without the pick (late fusion or the graph so
far). Data (tuning only; rule written first, ``docs/history/dsrl.md`` round 15): the sets
where the pick fired in earlier rounds' CSVs, rerun at today's defaults (``syn-agree`` draws
0-4, Yale-4v's dominant copy, the 3Sources text stand-ins in four storage forms, round 14's
``sktexture-c10-0``) and confirmation draws no round had fitted (``sktexture-c10-3..8``,
``skpatch-c40-3..5``). ``DSRLClustering(k)`` defaults, seeds 100-102, with and without the
30-column noise view. Rows ``dsrl_tune_round15.csv``. Round 15b (``--new``) scores the same
variants on draws no round had fitted: ``syn-agree`` 5-14, ``sktexture-c10`` 9-24 and
``skpatch-c40`` 6-8 (rows ``dsrl_tune_round15b.csv``).

    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_round15.py [--new]
    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_round15.py [--new] --summary
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dsrl_tune_pick import agree_set
from dsrl_tune_round8 import _capture_fit
from dsrl_tune_round10 import cases
from dsrl_tune_round12 import dominant, stored, text_sets
from dsrl_tune_round14 import crop_sets, probe_main, sktexture

HERE = Path(__file__).resolve().parent
OUT, OUT_B = HERE / "dsrl_tune_round15.csv", HERE / "dsrl_tune_round15b.csv"
# the text stand-ins whose fits took the pick in rounds 11-12 (dsrl_tune_round1{1_metric,2}.csv)
TEXT = ("3S-pair01", "3S-split0", "3S-split2", "3Sources-sub0.05-0", "3Sources-sub0.05-1",
        "3Sources-sub0.05-4", "3Sources-sub0.1-0", "3Sources-sub0.1-4", "3Sources-sub0.1-5",
        "3Sources-sub0.2-5")
FORMS = ("counts", "tf", "tfidf-l2", "tfidf-raw")
CONFIRM = ("sktexture-c10-3", "sktexture-c10-4", "sktexture-c10-5", "sktexture-c10-6",
           "sktexture-c10-7", "sktexture-c10-8", "skpatch-c40-3", "skpatch-c40-4",
           "skpatch-c40-5")


def new_draws():
    """Round 15b's draws, none fitted before."""
    for draw in range(5, 15):
        yield "syn-agree", agree_set(draw)
    yield from crop_sets("confirm", range(6, 9), range(9, 25))


def tuning_sets(data_dir=None):
    from dsrl_standins import yale

    for draw in range(5):
        yield "syn-agree", agree_set(draw)
    yield "dominant", dominant(yale(data_dir))[0]
    for d in text_sets(data_dir):
        if d.name in TEXT:
            for form in FORMS:
                yield "text", d if form == "counts" else stored(d, form)
    yield "motivating", sktexture(0)
    yield from crop_sets("confirm", range(3, 6), range(3, 9))


def pick_variants(args, kw):
    """{variant: labels} on one fit's captured last-step inputs, where today's pick fired."""
    from sklearn.metrics import normalized_mutual_info_score as nmi

    from glassnet.nn.dsrl import spectral_labels
    from glassnet.nn.dsrl_select import last_step

    labels, G, G0, views, weights, k, n_init, seed = args

    def ls(**over):
        return last_step(labels, G, G0, views, weights, k, n_init, seed, **{**kw, **over})

    today, _, source, view = ls()
    assert source == "view"
    own = [spectral_labels(g, k, n_init, seed) for g in views]
    agree = [np.mean([nmi(o, p) for j, p in enumerate(own) if j != i]) for i, o in enumerate(own)]
    pre = ls(pick_ratio=None, late_agreement=None)[0]
    cons = [nmi(o, pre) for o in own]
    no_pick = ls(pick_ratio=None)
    def strictly_lowest(score):
        return all(score[view] < s for j, s in enumerate(score) if j != view)

    veto = strictly_lowest(agree) and strictly_lowest(cons)
    return {"today": today,
            "agree": today if int(np.argmax(agree)) == view else no_pick[0],
            "cons": today if int(np.argmax(cons)) == view else no_pick[0],
            "veto": no_pick[0] if veto else today}, {
        "view": view, "no_pick_source": no_pick[2], "agree": np.round(agree, 3).tolist(),
        "cons": np.round(cons, 3).tolist()}


def rows_for(kind, d):
    from glassnet.metrics import clustering_scores

    rows = []
    for seed, noisy, views in cases(d):
        m, args, kw, fit_s = _capture_fit(views, d.n_classes, seed,
                                          settings={"late_fusion": True})  # round 15's default
        base = {"kind": kind, "data": d.name, "seed": seed, "noise_view": noisy,
                "fires": m.graph_source_ == "view", "fit_s": fit_s,
                "metrics": ",".join(m.view_metric_)}
        if not base["fires"]:
            rows.append({**base, "variant": "today", **clustering_scores(d.y, m.labels_)})
            continue
        out, info = pick_variants(args, kw)
        assert np.array_equal(out["today"], m.labels_)
        rows += [{**base, **info, "variant": v, **clustering_scores(d.y, lab)}
                 for v, lab in out.items()]
    return rows


def summary(path=OUT):
    df = pd.read_csv(path)
    fired = df[df.fires.astype(bool)]
    print("fits where today's pick fires, per kind and set:")
    print(df[df.variant == "today"].groupby(["kind", "data"]).fires.sum()
          .loc[lambda s: s > 0].to_string())
    clean = fired[~fired.noise_view.astype(bool)]
    per = clean.groupby(["kind", "data", "variant"])[["acc", "nmi"]].mean().unstack("variant")
    print(per.round(3).to_string())
    for name, part in (("all but the motivating set", fired[fired.kind != "motivating"]),
                       ("motivating set", fired[fired.kind == "motivating"]),
                       ("confirmation draws", fired[fired.kind == "confirm"]),
                       ("all", fired)):
        if len(part):
            print(name, part.groupby("variant")[["acc", "nmi"]].mean().round(3).to_dict("index"))
    dn = fired.groupby(["data", "variant", "noise_view"]).nmi.mean().unstack()
    if dn.shape[1] == 2:
        print("noise max |dNMI| per variant:",
              (dn[True] - dn[False]).abs().groupby("variant").max().round(3).to_dict())


def main(argv=None):
    probe_main(argv, __doc__, "new", (OUT, OUT_B), lambda alt, dd: new_draws() if alt else tuning_sets(dd),
               lambda kind, d, alt: rows_for(kind, d), summary)


if __name__ == "__main__":
    main()
