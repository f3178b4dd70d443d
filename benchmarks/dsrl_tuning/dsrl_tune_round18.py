"""Round 18 of DSRL (issue 26): round 17's spectral block weights behind a gate, on fresh sets.

After round 17, ``dsrl_tune_round16.ratio_screen`` found that the ratio of the kept views'
largest to smallest mean leading eigenvalue barely predicts ``blk-4``'s gain (Spearman 0.12), but
that a gate at 1.1 would keep most gains and drop most losses on those (seen) sets. The
variant ``gate-1.1`` (``dsrl_tune_round16.fused``) takes ``blk-4`` when the ratio is >= 1.1
and today's equal weights otherwise. It is scored, with ``equal`` and ``blk-4``, on 36 sets no
round had fitted (``dsrl_tune_round16.fresh_sets(round_=18)``); the rule was written before the
first fit (``docs/history/dsrl.md``, round 18). Rows ``dsrl_tune_round18.csv``.

    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_round18.py [--summary]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dsrl_tune_round14 import run_jobs
from dsrl_tune_round16 import fresh_sets, rows_for, summary

HERE = Path(__file__).resolve().parent
OUT = HERE / "dsrl_tune_round18.csv"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--summary", action="store_true", help="print the table of the saved rows")
    if ap.parse_args(argv).summary:
        summary(OUT)
        return
    run_jobs(((f"{kind} {d.name}", lambda kind=kind, d=d: rows_for(kind, d, block=True, gate=1.1))
              for kind, d in fresh_sets(round_=18)), OUT)


if __name__ == "__main__":
    main()
