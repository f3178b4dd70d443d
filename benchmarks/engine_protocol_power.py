"""How often a three-split comparison with c526167 passes, read off the tuning splits (issue 23).

``bench_engine.py`` judges breast cancer on three 75/25 splits: the new ``SPINNClassifierCV()``
must have the same or better mean test accuracy *and* the same or fewer mean features than
c526167's. This script takes the 30 tuning splits (10-39) of every supports'-CV rule that was
scored in the seventh pass (``docs/spinn_results/classifier_rule_tuning_rows.csv``, c526167's
accuracy and features on the same split beside each row) and counts, over all 4,060 ways to draw
three of the 30 splits (``--k``: other sizes; 100,000 random draws where there are more), how
often the mean per-split difference passes each half of the target and both. No report split
is read.

    python benchmarks/engine_protocol_power.py [--rows PATH] [--k 3]
"""

from __future__ import annotations

import argparse
import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
ROWS = ROOT / "docs" / "spinn_results" / "classifier_rule_tuning_rows.csv"


def _draws(n: int, k: int, most: int = 100_000) -> np.ndarray:
    """Every k-subset of n splits, or ``most`` random ones (fixed seed) where there are more."""
    if math.comb(n, k) <= most:
        return np.array(list(itertools.combinations(range(n), k)))
    rng = np.random.default_rng(0)
    return np.array([rng.choice(n, k, replace=False) for _ in range(most)])


def pass_rates(rows: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """One row per (ridge, rule) scored on every split: mean accuracy and features, and the
    share of the k-split draws whose mean difference from c526167 keeps the features (<= 0),
    the accuracy (>= 0) and both."""
    rows = rows[rows["problem"] == "breast_cancer split"]
    n_splits = rows["seed"].nunique()
    out = []
    for (ridge, rule), d in rows.groupby(["cv_ridge", "rule"]):
        if len(d) != n_splits:
            continue  # a rule scored on part of the splits only
        d = d.sort_values("seed")
        features = (d["n_selected"] - d["c526167_n_selected"]).to_numpy()
        accuracy = (d["score"] - d["c526167_score"]).to_numpy()
        draws = _draws(n_splits, k)
        feat_ok, acc_ok = features[draws].mean(1) <= 0, accuracy[draws].mean(1) >= 0
        out.append({"cv_ridge": ridge, "rule": rule, "accuracy": d["score"].mean(),
                    "features": d["n_selected"].mean(), "features_vs_old": features.mean(),
                    "p_features_ok": feat_ok.mean(), "p_accuracy_ok": acc_ok.mean(),
                    "p_both_ok": (feat_ok & acc_ok).mean()})
    return pd.DataFrame(out).sort_values("p_both_ok", ascending=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default=str(ROWS))
    ap.add_argument("--k", type=int, default=3, help="splits per comparison")
    args = ap.parse_args(argv)
    rows = pd.read_csv(args.rows)
    if rows.empty:
        raise ValueError(f"{args.rows} has no rows")
    table = pass_rates(rows, args.k)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
