"""DSRL clustering (learned objective, the default, and the paper objective) vs scikit-learn's
SpectralClustering on the same graph: fit time and peak memory against n (DESIGN.md rule 14),
with the growth exponent of each.

Data: a synthetic multi-view Gaussian mixture (3 views, 5 clusters, 20 features per view,
separation 4; :func:`glassnet.datasets.multiview.make_multiview_mixture`), n from 500 to 5000.
The averaged kNN heat-kernel graph (k = 10) is built once per n (its time is listed apart) and
both methods cluster that same sparse graph. Each (method, n) runs in a fresh subprocess so its
peak resident memory (VmHWM after resetting it, minus the resident size before the fit) is its
own (measured on the first fit, before the timed ones). Timings are the median of
``--repeats`` further fits; the machine's load average is recorded.

    PYTHONPATH=src python benchmarks/bench_dsrl.py [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return -1


def _child(method: str, n: int, seed: int, repeats: int) -> dict:
    """Runs in a subprocess: build the graph, reset the peak-RSS mark, fit, report."""
    import torch

    torch.set_num_threads(1)
    from sklearn.cluster import SpectralClustering

    from glassnet.datasets.multiview import make_multiview_mixture
    from glassnet.estimators.dsrl import DSRLClustering
    from glassnet.metrics import clustering_accuracy
    from glassnet.nn.dsrl import multiview_graph, spectral_labels

    def fits_for(W):
        return {
            "DSRL (learned)": lambda: DSRLClustering(
                5, affinity="precomputed", random_state=seed).fit(W).labels_,
            "DSRL (paper objective)": lambda: DSRLClustering(
                5, affinity="precomputed", objective="paper", random_state=seed).fit(W).labels_,
            "SpectralClustering (sklearn)": lambda: SpectralClustering(
                5, affinity="precomputed", random_state=seed).fit(W).labels_,
            "spectral step of DSRL (NJW, D^-1/2)": lambda: spectral_labels(W, 5, 10, seed),
        }

    # warm-up on a small problem: lazy imports and one-time library set-up, not size n
    small = make_multiview_mixture(100, 5, 3, 20, 4.0, random_state=seed)
    fits_for(multiview_graph(small.views, 10))[method]()
    d = make_multiview_mixture(n, 5, 3, 20, 4.0, random_state=seed)
    t0 = time.perf_counter()
    W = multiview_graph(d.views, 10)
    graph_s = time.perf_counter() - t0
    fits = fits_for(W)
    # peak memory on the first (cold) fit: later fits reuse memory the allocator kept
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    except OSError:
        pass
    before = _rss_kib("VmRSS")
    labels = fits[method]()
    peak = _rss_kib("VmHWM") - before
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        labels = fits[method]()
        times.append(time.perf_counter() - t0)
    return {"method": method, "n": n, "nnz": int(W.nnz), "graph_s": graph_s,
            "fit_s": float(np.median(times)), "peak_mib": peak / 1024,
            "acc": clustering_accuracy(d.y, labels)}


def report(task: str, sets: list[str], author_sets: list[str], seeds: list[int], out: Path,
           data_dir=None, mvsc_max_n: int | None = None) -> None:
    """The dsrl-clustering / dsrl-semisupervised reproduction on chosen sets and seeds, with the
    experiment's own functions, each set's rows saved as it finishes (``out/*.csv``; a rerun
    skips finished sets), then the report written from all saved rows (``write_result``). For a
    machine where the full ``glassnet reproduce`` does not fit the time."""
    import torch
    from threadpoolctl import threadpool_limits

    from glassnet.datasets.multiview import load_dsrl_graph, load_multiview
    from glassnet.experiments import Result, write_result
    from glassnet.experiments import dsrl as X

    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    mvsc = X._mvsc_available()
    mvsc_max_n = X.MVSC_MAX_N if mvsc_max_n is None else mvsc_max_n
    for name in sets + [f"{a} (authors' W)" for a in author_sets]:
        f = out / f"{task}-{name.replace(' ', '_')}.csv"
        if f.exists():
            continue
        t0 = time.perf_counter()
        with threadpool_limits(limits=1):
            nrows = []
            if name.endswith("(authors' W)"):
                base = name.split(" (")[0]
                d = load_multiview(X.AUTHOR_GRAPHS[base], data_dir)
                W = load_dsrl_graph(X.AUTHOR_GRAPHS[base], data_dir)
                if task == "clustering":
                    rows, _ = X.clustering_rows(base, d, [], W, seeds, views_peers=False,
                                                mvsc=mvsc, tag=name, mvsc_max_n=mvsc_max_n,
                                                mvsc_set=X.AUTHOR_GRAPHS[base],
                                                data_dir=data_dir)
                else:
                    rows, _ = X.semisupervised_rows(name, d.y, W, seeds, X.LABEL_FRACTION)
            else:
                d, graphs, W = X.load_set(name, data_dir)
                if task == "clustering":
                    rows, _ = X.clustering_rows(name, d, graphs, W, seeds, mvsc=mvsc,
                                                mvsc_max_n=mvsc_max_n, mvsc_set=name,
                                                data_dir=data_dir)
                    nrows = X.noise_rows(name, d, seeds)
                else:
                    rows, _ = X.semisupervised_rows(name, d.y, W, seeds, X.LABEL_FRACTION,
                                                    views=d.views)
        pd.DataFrame(rows + [{**r, "noise": True} for r in nrows]).to_csv(f, index=False)
        print(f"{name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    frames = [pd.read_csv(f) for f in sorted(out.glob(f"{task}-*.csv"))]
    allr = pd.concat(frames, ignore_index=True)
    if task == "clustering":
        noise = allr["noise"].eq(True) if "noise" in allr else pd.Series(False, index=allr.index)
        tables, verdicts, lines = X.clustering_tables(
            allr[~noise].drop(columns=["noise", "noise_weight"], errors="ignore"),
            allr[noise].drop(columns=["noise"]), seeds, mvsc, mvsc_max_n)
    else:
        tables, verdicts, lines = X.semisupervised_tables(allr, seeds)
    done = sorted({str(x) for x in allr.data})
    lines.insert(0, f"Run by `benchmarks/bench_dsrl.py --report {task}` on: {', '.join(done)}; "
                    f"seeds {', '.join(map(str, seeds))}.")
    res = Result(tables=tables, report="\n\n".join(lines), verdicts=verdicts)
    write_result(res, out / f"dsrl-{task}", f"dsrl-{task}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(HERE))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ns", default=None, help="comma-separated sizes (default 500..5000)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--report", choices=["clustering", "semisupervised"])
    ap.add_argument("--sets", default="ORL,ALOI,BBCSport,20NewsGroups,Reuters-1200,Handwritten,MNIST")
    ap.add_argument("--author-sets", default="MSRC-v1,ORL,ALOI,MNIST")
    ap.add_argument("--seeds", default="0,1,2,3,4,5,6,7,8,9")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)
    if args.report:
        def names(a):
            return [x for x in a.split(",") if x]
        report(args.report, names(args.sets), names(args.author_sets),
               [int(x) for x in names(args.seeds)], Path(args.out), args.data_dir)
        return
    if args.child:
        print(json.dumps(_child(args.child[0], int(args.child[1]), int(args.child[2]), args.repeats)))
        return
    ns = [500, 1000, 2000] if args.quick else [500, 1000, 2000, 3000, 5000]
    if args.ns:
        ns = [int(v) for v in args.ns.split(",")]
    methods = ["DSRL (learned)", "DSRL (paper objective)", "SpectralClustering (sklearn)",
               "spectral step of DSRL (NJW, D^-1/2)"]
    load = os.getloadavg()
    rows = []
    env = dict(os.environ, PYTHONPATH=str(HERE.parent / "src"), OMP_NUM_THREADS="1")
    for n in ns:
        for m in methods:
            out = subprocess.run(
                [sys.executable, __file__, "--child", m, str(n), "0", "--repeats", str(args.repeats)],
                capture_output=True, text=True, env=env, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(rows[-1], file=sys.stderr)
    df = pd.DataFrame(rows)
    sc = df[df.method == "SpectralClustering (sklearn)"].set_index("n").fit_s
    df["time_vs_sklearn_spectral"] = df.apply(lambda r: r.fit_s / sc[r.n], axis=1)
    exps = []
    for m, g in df.groupby("method", sort=False):
        slope_t = np.polyfit(np.log(g.n), np.log(g.fit_s), 1)[0]
        slope_m = np.polyfit(np.log(g.n), np.log(np.maximum(g.peak_mib, 1e-3)), 1)[0]
        exps.append({"method": m, "time_exponent": slope_t, "memory_exponent": slope_m})
    exps = pd.DataFrame(exps)
    header = (f"load average before the run (1, 5, 15 min): {load[0]:.2f}, {load[1]:.2f}, "
              f"{load[2]:.2f} on {os.cpu_count()} cores shared with other jobs; 1 thread per fit")
    md = "\n\n".join([header, df.to_markdown(index=False, floatfmt=".4g"),
                      "growth exponents (slope of log value vs log n):",
                      exps.to_markdown(index=False, floatfmt=".3g")])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "dsrl.csv", index=False)
    (out / "dsrl.md").write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
