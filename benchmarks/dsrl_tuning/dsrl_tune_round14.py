"""Round 14 of DSRL (issue 26): Hellinger graphs for nonnegative dense views, on new tuning data.

Round 13d (``dsrl_tune_round13.py --dense-metric``) found Hellinger graphs (square roots of the
row-normalised view, rows of unit length) ahead of z-scored Euclidean ones for nonnegative dense
views (histograms, intensities) on the 12 image tuning sets, but failed its rule, which was aimed
at ORL's best view. This round asks the users' question, what ``metric="auto"`` should give such
views, on tuning data no round has fitted, under a rule written before the first fit
(``docs/history/dsrl.md``, round 14):

* ``skpatch-c40-<draw>`` (draws 0-2): ORL's shape, 40 classes of 10. Each class is one 48 x 48
  window of a scikit-image bundled picture (the non-overlapping grid windows of the 18 grey
  pictures in :data:`IMAGES`, windows with pixel sd < 0.02 left out, 40 drawn with
  ``default_rng(3000 + draw)``); its 10 samples are 32 x 32 crops at random offsets 0-16, times
  a gain from U(0.9, 1.1), clipped to [0, 1].
* ``sktexture-c10-<draw>`` (draws 0-2): 10 of the 18 pictures (``default_rng(4000 + draw)``),
  30 crops of 32 x 32 anywhere in each; the class is the picture.

Views: ``dsrl_standins.face_views`` (intensity, LBP-grid histograms, Gabor magnitudes, HOG), as
for the Yale-4v stand-in; all four are nonnegative. Clustering: ``DSRLClustering(k)`` with its
defaults, seeds 100-102, with and without the 30-column noise view, and spectral clustering on
each view's graph and on the averaged Euclidean graph (``dsrl_tune_round13.dense_rows``); with
``--semi``, ``DSRLClassifier`` at 10% labels (label splits 100-102). Rows
``dsrl_tune_round14.csv``, ``dsrl_tune_round14_semi.csv``.

    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_round14.py [--semi]
    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_round14.py --summary
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dsrl_standins import face_views
from dsrl_tune_round13 import dense_rows, dense_semi_rows, dense_summary

HERE = Path(__file__).resolve().parent
VARIANTS = ("euclidean", "hellinger")
IMAGES = ("brick", "camera", "grass", "gravel", "moon", "coins", "page", "text", "clock", "cell",
          "shepp_logan_phantom", "astronaut", "cat", "chelsea", "coffee", "rocket",
          "hubble_deep_field", "immunohistochemistry")
CROP, WINDOW = 32, 48


def pictures():
    """The 18 pictures as grey float arrays in [0, 1]."""
    import skimage.data
    from skimage.color import rgb2gray
    from skimage.util import img_as_float

    out = []
    for name in IMAGES:
        img = img_as_float(getattr(skimage.data, name)())
        out.append(rgb2gray(img) if img.ndim == 3 else img)
    return out


def _crop(img, r, c, rng, gain=False):
    x = img[r:r + CROP, c:c + CROP]
    return np.clip(x * rng.uniform(0.9, 1.1), 0, 1) if gain else x


def skpatch(draw, n_classes=40, per_class=10):
    """ORL-shaped: 40 windows, 10 jittered crops each."""
    from glassnet.datasets.multiview import MultiviewData

    pics, rng = pictures(), np.random.default_rng(3000 + draw)
    windows = [(p, r, c) for p, img in enumerate(pics)
               for r in range(0, img.shape[0] - WINDOW + 1, WINDOW)
               for c in range(0, img.shape[1] - WINDOW + 1, WINDOW)
               if img[r:r + WINDOW, c:c + WINDOW].std() >= 0.02]
    pick = rng.choice(len(windows), n_classes, replace=False)
    imgs, y = [], []
    for label, w in enumerate(pick):
        p, r, c = windows[w]
        for _ in range(per_class):
            dr, dc = rng.integers(0, WINDOW - CROP + 1, size=2)
            imgs.append(_crop(pics[p], r + dr, c + dc, rng, gain=True))
            y.append(label)
    return MultiviewData(f"skpatch-c{n_classes}-{draw}", face_views(np.array(imgs)), np.array(y))


def sktexture(draw, n_classes=10, per_class=30):
    """Ten pictures, 30 crops anywhere in each; the class is the picture."""
    from glassnet.datasets.multiview import MultiviewData

    pics, rng = pictures(), np.random.default_rng(4000 + draw)
    imgs, y = [], []
    for label, p in enumerate(rng.choice(len(pics), n_classes, replace=False)):
        img = pics[p]
        for _ in range(per_class):
            r = rng.integers(0, img.shape[0] - CROP + 1)
            c = rng.integers(0, img.shape[1] - CROP + 1)
            imgs.append(_crop(img, r, c, rng))
            y.append(label)
    return MultiviewData(f"sktexture-c{n_classes}-{draw}", face_views(np.array(imgs)),
                         np.array(y))


def crop_sets(kind, patch_draws, texture_draws):
    """``(kind, set)`` for the given ``skpatch`` and ``sktexture`` draws (rounds 14-17)."""
    for draw in patch_draws:
        yield kind, skpatch(draw)
    for draw in texture_draws:
        yield kind, sktexture(draw)


def new_sets():
    return (d for _, d in crop_sets("crops", range(3), range(3)))


def run_jobs(jobs, out):
    """The probes' loop (rounds 14-17): ``jobs`` yields ``(label, rows_of)``; every job's rows
    are appended and the CSV ``out`` rewritten after each (one torch and BLAS thread)."""
    warnings.filterwarnings("ignore")
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    rows = []
    with threadpool_limits(limits=1):
        for label, rows_of in jobs:
            t0 = time.perf_counter()
            rows += rows_of()
            pd.DataFrame(rows).to_csv(out, index=False)
            print(label, f"{time.perf_counter() - t0:.0f} s", flush=True)


def probe_main(argv, doc, flag, outs, sets_of, rows_of, summary):
    """Rounds 15-17's command line: ``--<flag>`` switches to the second run (``outs[1]``, the
    sets ``sets_of(True, data_dir)``), ``--summary`` prints ``summary(csv)`` instead of fitting;
    each set's rows are ``rows_of(kind, set, flag)``."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument(f"--{flag}", action="store_true", help="the second run (module docstring)")
    ap.add_argument("--summary", action="store_true")
    args = ap.parse_args(argv)
    alt = getattr(args, flag)
    if args.summary:
        summary(outs[alt])
        return
    run_jobs(((f"{kind} {d.name}", lambda kind=kind, d=d: rows_of(kind, d, alt))
              for kind, d in sets_of(alt, args.data_dir)), outs[alt])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--semi", action="store_true", help="the classifier at 10% labels")
    ap.add_argument("--summary", action="store_true")
    args = ap.parse_args(argv)
    out = HERE / ("dsrl_tune_round14_semi.csv" if args.semi else "dsrl_tune_round14.csv")
    if args.summary:
        dense_summary(HERE / "dsrl_tune_round14.csv", VARIANTS, HERE / "dsrl_tune_round14_semi.csv")
        return
    rows_of = dense_semi_rows if args.semi else dense_rows
    run_jobs(((d.name, lambda d=d: rows_of(d, VARIANTS)) for d in new_sets()), out)


if __name__ == "__main__":
    main()
