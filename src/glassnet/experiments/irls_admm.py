"""Reproductions of "Deep unfolded IRLS-ADMM network for classification and sparse feature
selection" (Yang & Guo, IJMLC 2018): the simulation (Sec. IV.A, Figs. 3-4, Table I) and the
helpers shared with :mod:`glassnet.experiments.irls_admm_real` (cervical cancer risk factors,
Sec. IV.B.1, Fig. 5; CNS embryonal tumours, Sec. IV.B.2, Fig. 6).

Every number in a report's prose is formatted from a table of the same Result (the ``setup``
table holds the settings the prose quotes). Each stage announces itself with
:func:`glassnet.progress.log`; fits run with one torch thread inside
:func:`glassnet.utils.threads` (restored afterwards).
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score

from glassnet.estimators.irls_admm import ADMMLogisticRegression, IRLSADMMNetClassifier
from glassnet.experiments._base import Config, Result, l1_logistic_cv, new_figure
from glassnet.experiments.verdicts import Ref, render, target
from glassnet.metrics import pq_score, selection_rates
from glassnet.model_selection import make_folds, run_folds
from glassnet.progress import log, stage
from glassnet.registry import register_experiment
from glassnet.utils import threads

PAPER = 'X. Yang, Y. Guo, "Deep unfolded IRLS-ADMM network for classification and sparse feature selection", IJMLC 2018'
NOISE_LEVELS = (0.0, 0.1, 0.5, 1.0)
PAPER_TABLE1 = {  # noise -> method -> (accuracy, FP, FN)
    0.0: {"IRLS-ADMM net": (0.97, 0.02, 0.0), "ADMM": (0.98, 0.09, 0.45)},
    0.1: {"IRLS-ADMM net": (0.97, 0.02, 0.0), "ADMM": (0.98, 0.09, 0.46)},
    0.5: {"IRLS-ADMM net": (0.97, 0.02, 0.0), "ADMM": (0.96, 0.08, 0.42)},
    1.0: {"IRLS-ADMM net": (0.96, 0.02, 0.0), "ADMM": (0.98, 0.08, 0.44)},
}
DEFAULT_ROW = "IRLS-ADMM net (default selection)"
# liblinear's default 100 iterations stop short on the cervical data (41 ConvergenceWarnings
# over one 5-fold run); 1000 converge there and on every other set of these experiments
PEER_MAX_ITER = 1000


def _net(seed, **kw):
    return IRLSADMMNetClassifier(random_state=seed, **kw)


class _PaperAlgorithm1(ADMMLogisticRegression):
    """Algorithm 1 at the baseline's settings. With 200 ADMM iterations per stage its line
    search can stall short of the L1 optimum (``ADMMLogisticRegression`` warns); the
    reproduction keeps the setting and logs each stall as a progress line instead of warning."""

    def fit(self, X, y, sample_weight=None):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            super().fit(X, y, sample_weight)
        for w in caught:
            if issubclass(w.category, ConvergenceWarning) and str(w.message).startswith("Algorithm 1 stalled"):
                log(f"ADMM baseline: {w.message}")
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return self


def _admm(seed=None):
    return _PaperAlgorithm1(lam=1.0, k_max=30, i_max=200, tol=1e-6)


def sklearn_l1_cv(seed=0, Cs=10):
    """scikit-learn's L1 logistic regression with C chosen by 5-fold CV (log-loss), seeded;
    ``Cs`` values of C on a log grid (fewer only in the test suite's tiny runs)."""
    return l1_logistic_cv(Cs, 0 if seed is None else seed, "liblinear", "neg_log_loss", PEER_MAX_ITER)


METHODS = {"IRLS-ADMM net": _net, "ADMM": _admm}


def _ranking(est) -> np.ndarray:
    """Features by decreasing importance (|beta_| for glassnet, the paper's ranking; |coef_| for
    scikit-learn). glassnet's ``feature_importances_`` reads off ``coef_`` since issue 24 (zero
    outside the selected set), so the paper's protocol reads ``beta_``."""
    beta = getattr(est, "beta_", None)
    imp = np.abs(np.ravel(est.coef_)) if beta is None else np.linalg.norm(np.atleast_2d(beta), axis=0)
    return np.argsort(-imp, kind="stable")


def _support(est) -> np.ndarray:
    if hasattr(est, "get_support"):
        return est.get_support(indices=True)
    return np.flatnonzero(np.ravel(est.coef_))


def _fmt(x, digits=3):
    return f"{x:.{digits}f}"


@dataclass
class TopQResult:
    q: int
    accuracy: float
    stability_score: float  # P_q
    fold_sets: list
    selected: np.ndarray  # V_q: the q features chosen most often across folds


@dataclass
class NaturalFolds:
    """The ranking fits of :func:`topq_selection_cv` with their own (default) selection."""

    rankings: list  # each fold's features by decreasing importance
    supports: list  # each fold's selected features (``get_support``)
    accuracy: float  # pooled held-out accuracy of those fits' own predictions


def topq_selection_cv(make, X, y, qs, n_splits=5, seed=0):
    """The paper's CV procedure for a top-q feature set and its score ``P_q``.

    In each of ``n_splits`` folds (:func:`glassnet.model_selection.make_folds`) the method ranks
    features on the training part by ``|beta|``, keeps the top q, refits on those q features
    (all of them kept) and predicts the held-out part.
    Returns, per q, the pooled CV accuracy, ``P_q`` (:func:`glassnet.metrics.pq_score`), the
    folds' sets and ``V_q`` (the q features most often in the folds' top-q sets), plus a
    :class:`NaturalFolds` with the folds' rankings, natural selections (``get_support``) and
    the held-out accuracy of the ranking fits themselves (the estimator's default workflow).
    """
    folds = make_folds(len(y), n_splits, y, classification=True, random_state=seed)

    def rank_fold(f, tr, te):
        est = make(seed + f).fit(X[tr], y[tr])
        return _ranking(est), _support(est), est.predict(X[te])

    fits = run_folds(rank_fold, folds)
    natural_pred = np.empty_like(y)
    for (_, te), (_, _, pred) in zip(folds, fits):
        natural_pred[te] = pred
    natural = NaturalFolds([r for r, _, _ in fits], [s for _, s, _ in fits], accuracy_score(y, natural_pred))
    rankings = natural.rankings
    out = []
    for q in qs:
        pred = np.empty_like(y)
        sets = []
        for f, (tr, te) in enumerate(folds):
            cols = np.sort(rankings[f][:q])
            sets.append(cols)
            model = make(seed + f).set_params(n_features_to_select=q)  # a model on all q features
            pred[te] = model.fit(X[tr][:, cols], y[tr]).predict(X[te][:, cols])
        acc = accuracy_score(y, pred)
        counts = Counter(int(j) for s in sets for j in s)
        rank_sum = {j: sum(int(np.flatnonzero(r == j)[0]) for r in rankings) for j in counts}
        chosen = sorted(counts, key=lambda j: (-counts[j], rank_sum[j]))[:q]
        out.append(TopQResult(q, acc, pq_score(acc, sets, X.shape[1]), sets, np.sort(chosen)))
    return out, natural


def _parallel(fn, jobs, n_jobs, what):
    """``[fn(*job) for job in jobs]`` through joblib, logging each finished job."""
    out = []
    gen = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(fn)(*job) for job in jobs)
    with stage(what, total=len(jobs)) as bar:  # a line every 10 s off a terminal
        for i, res in enumerate(gen):
            out.append(res)
            bar.update(1)
            log(f"  {what} {i + 1}/{len(jobs)} done")
    return out


# ----------------------------------------------------------------------------- simulation


@dataclass
class SimSize:
    n_samples: int
    n_reps: int  # Table I data sets per noise level
    n_curves: int  # extra data sets per level for the P_q curves
    n_splits: int
    qs: list
    noises: tuple
    max_epochs: int  # the net's training budget (tiny runs only shorten it)
    select_cv: int = 5  # the net's own selection folds (its default; tiny runs: 2)


def _sim_size(cfg: Config) -> SimSize:
    if cfg.tiny:
        return SimSize(200, 1, 1, 2, [8], (0.0,), 15, select_cv=2)
    if cfg.quick:
        return SimSize(500, 1, 1, 5, [4, 8], (0.0, 1.0), 200)
    # q over 1-8: Fig. 4, "the size of feature set varying from 1 to 8"
    return SimSize(500, 20, 3, 5, list(range(1, 9)), NOISE_LEVELS, 200)


def _simulate(noise, rep, seed, n_samples=500):
    """Data set ``rep`` of a noise level; the seeds are ``10000 seed + 100 rep + 10 noise``
    (reporting seeds: the default selection rule was tuned on seeds 900000+, see
    ``benchmarks/bench_irls_admm.py --tune``)."""
    from glassnet.datasets import make_irls_admm_simulation

    return make_irls_admm_simulation(n_samples=n_samples, noise_std=noise,
                                     random_state=10_000 * seed + 100 * rep + int(noise * 10))


def _methods(size: SimSize):
    return {"IRLS-ADMM net": lambda s: _net(s, max_epochs=size.max_epochs, cv=size.select_cv),
            "ADMM": _admm}


def _pq_curve(noise, curve, seed, size: SimSize):
    """P_q for q in qs on the curve-th data set of a noise level (Fig. 4); curve data sets are
    drawn apart from Table I's (rep numbers from 1000 on)."""
    with threads(1):
        X, y, _beta, _support = _simulate(noise, 1000 + curve, seed, size.n_samples)
        rows = []
        for name, make in _methods(size).items():
            res, _ = topq_selection_cv(make, X, y, size.qs, n_splits=size.n_splits, seed=seed)
            for r in res:
                rows.append({"noise_std": noise, "curve": curve, "method": name, "q": r.q,
                             "P_q": r.stability_score, "cv_accuracy": r.accuracy})
    return rows


def _table1_one(noise, rep, seed, q_star, size: SimSize):
    with threads(1):
        return _table1_rows(noise, rep, seed, q_star, size)


def _table1_rows(noise, rep, seed, q_star, size: SimSize):
    X, y, _beta, support = _simulate(noise, rep, seed, size.n_samples)
    p, k = X.shape[1], len(support)
    rows = []

    def row(method, acc, rates, n_sel, seconds=np.nan):
        return {"noise_std": noise, "rep": rep, "method": method, "accuracy": acc,
                "fp_rate": np.mean([f["fp_rate"] for f in rates]),
                "fn_rate": np.mean([f["fn_rate"] for f in rates]), "n_selected": n_sel, "seconds": seconds}

    for name, make in _methods(size).items():
        t0 = time.perf_counter()
        res, natural = topq_selection_cv(make, X, y, [q_star[name]], n_splits=size.n_splits, seed=seed + rep)
        r = res[0]
        # ranking quality apart from the choice of q: the folds' top-k (true support size) sets
        topk = [selection_rates(rk[:k], support, p) for rk in natural.rankings]
        rows.append(row(f"{name} (folds' top-{k} ranking)", np.nan, topk, k))
        rows.append(row(f"{name} (top-q, q={r.q})", r.accuracy, [selection_rates(r.selected, support, p)], r.q,
                        time.perf_counter() - t0))
        if name == "IRLS-ADMM net":  # the estimator's default selection in each fold, as a user gets it
            fold_rates = [selection_rates(s, support, p) for s in natural.supports]
            rows.append(row(DEFAULT_ROW, natural.accuracy, fold_rates,
                            np.mean([f["n_selected"] for f in fold_rates])))
    # the peer users know: scikit-learn's L1 logistic regression (C by CV), support = nonzeros
    t0 = time.perf_counter()
    folds = make_folds(len(y), size.n_splits, y, classification=True, random_state=seed + rep)
    pred, fold_rates = np.empty_like(y), []
    for tr, te in folds:
        m = sklearn_l1_cv(seed).fit(X[tr], y[tr])
        pred[te] = m.predict(X[te])
        fold_rates.append(selection_rates(_support(m), support, p))
    rows.append(row("sklearn L1-LR (C by CV, nonzeros)", accuracy_score(y, pred), fold_rates,
                    np.mean([f["n_selected"] for f in fold_rates]), time.perf_counter() - t0))
    return rows


def _paper_value(noise, method, k):
    """Table I of the paper for our top-q rows (the paper's protocol), NaN for the others."""
    base, _, kind = method.partition(" (")
    if not kind.startswith("top-q") or noise not in PAPER_TABLE1:
        return np.nan
    return PAPER_TABLE1[noise][base][k]


def _unit_max(w):
    """``w / max|w|``: every method's weights on one readable [-1, 1] scale (Fig. 3)."""
    m = np.max(np.abs(w))
    return w / m if m > 0 else w


def _q_text(qs) -> str:
    """The q values a run scored: ``1..10`` when contiguous, else listed (``4, 8``)."""
    qs = [int(q) for q in qs]
    if len(qs) > 2 and qs == list(range(qs[0], qs[-1] + 1)):
        return f"{qs[0]}..{qs[-1]}"
    return ", ".join(str(q) for q in qs)


def _setup_table(facts: dict) -> pd.DataFrame:
    """The settings and derived values a report's prose quotes, as strings exactly as quoted."""
    return pd.DataFrame({"setting": list(facts), "value": [str(v) for v in facts.values()]})


@register_experiment(
    "irls-admm-simulation",
    paper=PAPER,
    description="Sec. IV.A: correlated-feature simulation; Fig. 3 weights, Fig. 4 P_q, Table I",
)
def run_simulation(cfg: Config) -> Result:
    size = _sim_size(cfg)
    noises = size.noises
    methods = _methods(size)
    # Fig. 3: whole data set, no noise; each method's weights divided by its largest |weight|
    log("irls-admm-simulation: Fig. 3 (one fit of each method on a noise-free data set)")
    X, y, beta, support = _simulate(0.0, 0, cfg.seed, size.n_samples)
    k = len(support)
    with threads(1):
        net = methods["IRLS-ADMM net"](cfg.seed).fit(X, y)
        admm = _admm(cfg.seed).fit(X, y)
    fig3, ax = new_figure(figsize=(9, 3.5))
    idx = np.arange(X.shape[1])
    ax.bar(idx - 0.2, _unit_max(net.beta_), width=0.4, label="IRLS-ADMM net beta_")
    ax.bar(idx + 0.2, _unit_max(admm.beta_), width=0.4, label="ADMM beta_ (Alg. 1, lambda=1)")
    ax.plot(idx, _unit_max(beta), "kx", label="truth")
    ax.set_ylim(-1.1, 1.1)
    ax.set_xlabel("feature")
    ax.set_ylabel("weight / max |weight|")
    ax.set_title("Fig. 3: weights, each divided by its largest |weight| (noise 0; x = truth)")
    ax.legend(fontsize=8)
    fig3_hits = {name: len(set(_ranking(m)[:k]) & set(support)) for name, m in (("net", net), ("admm", admm))}
    weights3 = pd.DataFrame({"feature": idx, "true_beta": beta, "net_beta": net.beta_, "admm_beta": admm.beta_,
                             "net_selected": net.support_, "admm_selected": admm.support_})

    # Fig. 4: P_q per noise level, both methods
    jobs = [(nz, c, cfg.seed, size) for nz in noises for c in range(size.n_curves)]
    log(f"irls-admm-simulation: Fig. 4 (P_q at q = {_q_text(size.qs)}, {len(jobs)} data sets)")
    curves = _parallel(_pq_curve, jobs, cfg.n_jobs, "P_q data set")
    pq = pd.DataFrame([r for rows in curves for r in rows])
    pq = pq.groupby(["noise_std", "method", "q"], sort=False)[["P_q", "cv_accuracy"]].mean().reset_index()
    fig4, axes = new_figure(1, len(noises), figsize=(3.2 * len(noises) + 1, 3), sharey=True, squeeze=False)
    for ax, nz in zip(axes[0], noises):
        for name in methods:
            d = pq[(pq.noise_std == nz) & (pq.method == name)]
            ax.plot(d.q, d.P_q, "o-", label=name)
        ax.set_title(f"noise std {nz}")
        ax.set_xlabel("q")
    axes[0, 0].set_ylabel("P_q = acc x (1 + Kuncheva)/2")
    axes[0, 0].legend(fontsize=8)
    q_star = {}  # per noise level and method: the peak of P_q in Fig. 4
    for (nz, name), d in pq.groupby(["noise_std", "method"]):
        q_star[nz, name] = int(d.q.iloc[int(np.argmax(d.P_q.to_numpy()))])

    # Table I: CV over n_reps random data sets per noise level
    jobs = [(nz, rep, cfg.seed, {m: q_star[nz, m] for m in methods}, size) for nz in noises for rep in range(size.n_reps)]
    log(f"irls-admm-simulation: Table I ({len(jobs)} data sets x {size.n_splits}-fold CV)")
    t0 = time.perf_counter()
    rows = _parallel(_table1_one, jobs, cfg.n_jobs, "Table I data set")
    t_table = time.perf_counter() - t0
    per_rep = pd.DataFrame([r for rr in rows for r in rr])
    cols = ["accuracy", "fp_rate", "fn_rate", "n_selected", "seconds"]
    table = per_rep.groupby(["noise_std", "method"], sort=False)[cols].mean().reset_index()
    for col, j in (("paper_accuracy", 0), ("paper_fp", 1), ("paper_fn", 2)):
        table[col] = [_paper_value(nz, m, j) for nz, m in zip(table.noise_std, table.method)]
    ours = table[table.method.str.startswith("IRLS-ADMM net (top")]
    default = table[table.method == DEFAULT_ROW]
    peer = table[table.method.str.startswith("sklearn")]
    facts = {
        "n_samples": size.n_samples, "n_features": X.shape[1], "n_true": k, "pair_noise_std": 0.1,
        "data sets per noise level (Table I)": size.n_reps, "CV folds": size.n_splits,
        "q range": _q_text(size.qs), "P_q data sets per noise level": size.n_curves,
        "noise levels": ", ".join(str(nz) for nz in noises),
        "q* net": ", ".join(str(q_star[nz, "IRLS-ADMM net"]) for nz in noises),
        "q* ADMM": ", ".join(str(q_star[nz, "ADMM"]) for nz in noises),
        "Fig. 3 net true in top-k": fig3_hits["net"], "Fig. 3 ADMM true in top-k": fig3_hits["admm"],
        "Table I seconds": f"{t_table:.0f}", "n_jobs": cfg.n_jobs, "seed": cfg.seed,
        "true |beta_j| distribution": "U(1, 2)", "data set seed": "10000 x seed + 100 x rep + 10 x noise",
        "tuning seeds (selection rule)": "900000 on", "peer's inner CV folds": 5,
        "paper q* net": "close to 8", "paper q* ADMM": "around 4", "paper Fig. 3: ADMM misses": 3,
        "target FP, FN (default selection)": 0.10,
    }
    limit = facts["target FP, FN (default selection)"]
    tables = {"table1": table, "pq_scores": pq, "table1_per_dataset": per_rep, "fig3_weights": weights3,
              "setup": _setup_table(facts)}
    verdicts = [target(f"noise {nz}: default selection {what} <= {limit}",
                       Ref("table1", col, noise_std=nz, method=DEFAULT_ROW), "<=", limit)
                for nz in noises for what, col in (("FP", "fp_rate"), ("FN", "fn_rate"))]
    report = f"""
Simulation of Sec. IV.A: {facts['n_samples']} samples, {facts['n_features']} standard-normal features,
{k} true features in two correlated sets (S2 = S1 + noise of standard deviation
{facts['pair_noise_std']}: the paper's N(0, 0.1), read as a standard deviation), y = sign(Phi beta +
noise). The paper does not give beta; ours draws |beta_j| uniformly with one random sign per
correlated pair ({facts['true |beta_j| distribution']}). {facts['data sets per noise level (Table I)']} data set(s) per noise level
({facts['noise levels']}), {facts['CV folds']}-fold CV. Seeds: these are reporting seeds
({facts['data set seed']}, seed {facts['seed']}); the estimator's default selection rule was
chosen on other seeds ({facts['tuning seeds (selection rule)']}, `benchmarks/bench_irls_admm.py --tune`).

**The estimator as a user gets it** (`IRLSADMMNetClassifier()` defaults: the top near-duplicate
groups of the consensus ranking, their number by the one-standard-error rule on 5-fold CV in
which each fold trains its own net and scores ridge logistic refits of its top groups; each CV
fold's own selection), FP / FN / mean number selected / CV accuracy:
""" + "\n".join(
        f"- noise {r.noise_std}: {_fmt(r.fp_rate)} / {_fmt(r.fn_rate)} / {r.n_selected:.1f} / {_fmt(r.accuracy)}"
        for r in default.itertuples()
    ) + f"""

Targets FN <= {limit} and FP <= {limit} at every noise level:

{render(verdicts, tables)}

scikit-learn's L1-LR with C by CV
(nonzeros) on the same folds: FP {', '.join(_fmt(v) for v in peer.fp_rate)}, FN
{', '.join(_fmt(v) for v in peer.fn_rate)}, accuracy {', '.join(_fmt(v) for v in peer.accuracy)}.

**The paper's protocol** (top-q with q* at the peak of P_q over q in {{{facts['q range']}}}, Fig. 4, P_q
averaged over {facts['P_q data sets per noise level']} further data set(s) per noise level): IRLS-ADMM net q* =
{facts['q* net']}, ADMM q* = {facts['q* ADMM']} (paper: {facts['paper q* net']} for the net, {facts['paper q* ADMM']} for ADMM).
**P_q** is our documented substitute (the paper's refs could not be recovered):
P_q = CV accuracy x (1 + mean pairwise Kuncheva index of the folds' top-q sets) / 2.
Table I, ours vs paper (accuracy / FP / FN; ours: FP = selected null features / null features,
FN = missed true features / true features; the paper does not define its rates, and its ADMM
rows, with FN under one half at a q* of about four, do not fit this reading):
""" + "\n".join(
        f"- noise {r.noise_std}: ours {_fmt(r.accuracy)} / {_fmt(r.fp_rate)} / {_fmt(r.fn_rate)}; "
        f"paper {r.paper_accuracy} / {r.paper_fp} / {r.paper_fn}"
        for r in ours.itertuples()
    ) + f"""

Fig. 3 (noise 0, whole data; each method's weights divided by its own largest |weight| so both
fit one axis): the top {k} |beta| of the net contain {facts['Fig. 3 net true in top-k']} true
features, ADMM's {facts['Fig. 3 ADMM true in top-k']} (paper: the net finds all of them, ADMM misses {facts['paper Fig. 3: ADMM misses']}).
The ADMM baseline is Algorithm 1 with lambda = 1, F = I; the scikit-learn peer chooses C by
{facts["peer's inner CV folds"]}-fold CV (seeded) and selects its nonzero coefficients. Table I took {facts['Table I seconds']} s
with n_jobs = {facts['n_jobs']}.
"""
    return Result(tables=tables, figures={"fig3_weights": fig3, "fig4_pq": fig4}, report=report,
                  verdicts=verdicts)


def log_expression(X, floor=20.0, ceiling=16000.0):
    """Usual Affymetrix MAS5 preprocessing: clip to [floor, ceiling], then log2."""
    return np.log2(np.clip(X, floor, ceiling))


def welch_t_test(a, b):
    """Two-sided Welch t-test per column of ``a`` vs ``b``; p = 1 where both groups are constant.

    Written out (rather than ``scipy.stats.ttest_ind``) because genes clipped to the detection
    floor are exactly constant within a group: their variance is exactly 0 here, where scipy
    flags "precision loss" for such columns.
    """
    from scipy.stats import t as student_t

    na, nb = a.shape[0], b.shape[0]
    va, vb = a.var(axis=0, ddof=1) / na, b.var(axis=0, ddof=1) / nb
    se2 = va + vb
    ok = se2 > 0
    p = np.ones(a.shape[1])
    tstat = (a.mean(0)[ok] - b.mean(0)[ok]) / np.sqrt(se2[ok])
    df = se2[ok] ** 2 / (va[ok] ** 2 / (na - 1) + vb[ok] ** 2 / (nb - 1))
    p[ok] = 2 * student_t.sf(np.abs(tstat), df)
    return p


def ttest_fold_filter(X, y, p_max=0.05, log2_fc=1.0, max_genes=200):
    """Columns with Welch t-test p < p_max and |log2 fold change| > log2_fc (fold change > 2),
    the max_genes smallest p-values among them (all passing genes if fewer; the 10 smallest
    p-values when no gene passes, so a fold always has features)."""
    a, b = X[y == np.unique(y)[0]], X[y == np.unique(y)[1]]
    p = welch_t_test(a, b)
    fc = np.abs(a.mean(0) - b.mean(0))
    ok = np.flatnonzero((p < p_max) & (fc > log2_fc))
    if ok.size == 0:
        ok = np.argsort(p, kind="stable")[:10]
    return ok[np.argsort(p[ok], kind="stable")][:max_genes]


_MOVED = ("EXTRA_GENE_SETS", "GENE_EXTRA", "GENE_Q", "_cv_compare", "_net_top_q", "run_cervical", "run_cns")


def __getattr__(name):  # the real-data runs moved to irls_admm_real (issue 27); old paths still work
    if name in _MOVED:
        from glassnet.experiments import irls_admm_real

        return getattr(irls_admm_real, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
