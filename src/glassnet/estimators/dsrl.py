"""scikit-learn estimators for DSRL (Wang, Chen, Du, Lin, TPAMI 2022).

``DSRLClustering`` (like ``SpectralClustering``) and ``DSRLClassifier`` (transductive, like
``LabelSpreading``). Input ``X`` is

* a 2-D array: one view (what scikit-learn's checks pass);
* a list or tuple of 2-D arrays with the same number of rows: several views;
* with ``affinity="precomputed"``: a square, symmetric, nonnegative affinity (dense or
  ``scipy.sparse``), e.g. the authors' own graphs.

From the views a k-nearest-neighbour heat-kernel graph ``W_v`` is built per view (``metric``;
TF-IDF cosine for text-like views under the default ``"auto"``:
:func:`glassnet.nn.dsrl.multiview_graph`), and :class:`glassnet.nn.dsrl.DSRLGraph`
learns the sparse graph ``X_(t) = DSRLNet(sum_v a_v W_v)`` with the one training loop.
``objective`` picks the training signal:

* ``"learned"`` (default): clustering maximises the eigengap at ``n_clusters`` of the learned
  graph's degree-regularised normalised adjacency (:func:`glassnet.nn.dsrl.spectral_gap_loss`);
  classification minimises the cross-entropy of label propagation through the learned graph on
  held-out labelled samples (``n_folds`` folds of the labelled set; the weighted input graph is
  kept if it scores no worse). The view weights ``a``:
  for clustering by default the average of the views whose own clustering agrees with another
  view's beyond chance, 0 for the rest; if no pair agrees, the views whose features share
  variation beyond column-permuted copies of themselves (``view_weights="clusters"``;
  :func:`glassnet.nn.dsrl.cluster_agreement_weights`); for classification by default the views'
  graph agreement above chance (``"agreement"``; :func:`glassnet.nn.dsrl.view_agreement_weights`);
  or trained with Theta (``"trained"``).
* ``"paper"``: the paper's ``J = 1/2 ||W - X_(t)||^2`` (eq. 8) on the averaged graph
  (``a = 1/n_views``), minimised by ``xi = identity``: the learned sparsity is set by the
  initialisation, the number of epochs and weight decay (docs/dsrl.md).

Clustering is spectral clustering on the learned graph; classification is label propagation
over it.
"""

from __future__ import annotations

import numbers
import warnings
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import ClassifierMixin, ClusterMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, column_or_1d

from glassnet.devices import to_numpy
from glassnet.estimators._dsrl_params import (
    CG_TOL,
    CLASSIFICATION_DEFAULTS,
    CLUSTERING_DEFAULTS,
    CONSTRAINTS,
    COREG_LAMBDA,
    FALLBACK_MARGIN,
    FITTED,
    GAP_KIND,
    LATE_AGREEMENT,
    LATE_FUSION,
    PARAMS_DOC,
    PRIOR_MASS,
    TAU,
    VIEW_PICK_NEEDS_AGREEMENT,
    VIEW_PICK_RATIO,
)
from glassnet.estimators.base import POSITIVE, Interval, check_finite_target
from glassnet.estimators.dsrl_base import _DSRLBase
from glassnet.nn.dsrl import (
    link_labelled_pairs,
    propagate,
    spectral_gap_loss,
    spectral_labels,
)
from glassnet.nn.dsrl_select import last_step
from glassnet.utils import fit_context

__all__ = ["DSRLClassifier", "DSRLClustering"]


class DSRLClustering(ClusterMixin, _DSRLBase):
    __doc__ = """Multi-view clustering with a learned sparse graph and learned view weights (DSRL).

    With ``objective="learned"`` Theta and L maximise the eigengap ``mu_k - mu_(k+1)`` of the
    learned graph's degree-regularised normalised adjacency at ``k = n_clusters``
    (:func:`glassnet.nn.dsrl.spectral_gap_loss`): the graph is pushed towards k well separated
    groups. The views are weighted by the agreement of their own clusterings
    (``view_weights="clusters"``): a view that agrees with no other beyond chance gets weight 0,
    the others are averaged; if no pair agrees, a view is kept if its features share variation
    beyond column-permuted copies of themselves (:func:`glassnet.nn.dsrl.feature_structure_z`),
    so a pure-noise view still gets 0; if some pair agrees, a view agreeing with none is kept
    if it passes that test (round 8). Fallback: if the learned graph's spectral partition cuts
    the kept views worse (mean degree-regularised normalised cut of each view's graph, weighted
    by ``view_weights_``; :func:`glassnet.nn.dsrl.regularised_ncut`) than the spectral
    partition of their weighted sum does, by more than 1%, the latter is kept
    (``graph_source_ = "input"``). Then (:func:`glassnet.nn.dsrl_select.last_step`): with
    ``coreg=True`` (off since round 9), after a fallback or if no pair of views agreed, the kept
    views' co-regularised spectral clustering (Kumar et al. 2011, lambda 0.5; ``"coreg"``);
    with ``pick_view``, if some pair agreed and one kept view's graph has an eigengap at k at
    least 2 times the clustered graph's and 3 times every other view's, that view's own
    partition (``"view"``, ``view_weights_`` one-hot); with ``late_fusion`` (round 10), if no
    view was picked and the kept views' own partitions agree (mean pairwise NMI >= 0.2),
    k-means on their row-normalised spectral embeddings and the clustered graph's side by side
    (``"late"``; ``"late-spectral"``: weighted by each graph's spectrum, round 19).

    Parameters
    ----------
    n_clusters : number of clusters (<= number of samples).
    """ + PARAMS_DOC + """    n_init : k-means restarts on the spectral embedding.
    coreg, pick_view, late_fusion : the last steps (co-reg after a fallback or when no pair
        of views agrees: off by default since round 9; one standout view; late fusion: ``True``
        views weighted equally, ``"spectral"`` by how cleanly their graphs cut into k,
        ``"auto"`` whichever of the two partitions cuts the kept views less).

    Attributes
    ----------
    labels_, graph_ (the CSR graph clustered: the learned one, or the weighted input graph if
    the fallback chose it; with late fusion the one fused with the views), graph_source_
    (above), view_weights_ (one per view, summing to 1), theta_ ([w1, w2, b1, b2]; one row per
    layer if untied), L_, layer_sparsity_, loss_curve_, module_ (:class:`~glassnet.nn.dsrl.DSRLGraph`).
    """

    _DEFAULTS = CLUSTERING_DEFAULTS
    _fitted_attributes: ClassVar[dict] = {**FITTED, "labels_": "array", "graph_source_": "str"}
    _parameter_constraints: ClassVar[dict] = {
        **CONSTRAINTS,
        "n_clusters": [Interval(numbers.Integral, 1, None, closed="left")],  # <= n: at fit
        "n_init": [Interval(numbers.Integral, 1, None, closed="left")],
        "coreg": ["boolean"],
        "pick_view": ["boolean"],
        "late_fusion": LATE_FUSION,
    }

    def __init__(self, n_clusters=8, *, affinity="knn", metric="auto", objective="learned",
                 view_weights="clusters", n_neighbors="auto", n_layers=10, tied=True,
                 init_quantile=None, lr=None, weight_decay=None, max_epochs=None, n_init=10,
                 coreg=False, pick_view=True, late_fusion="auto", device="auto", random_state=None,
                 verbose=False):
        self.n_clusters = n_clusters
        self.affinity = affinity
        self.metric = metric
        self.objective = objective
        self.view_weights = view_weights
        self.n_neighbors = n_neighbors
        self.n_layers = n_layers
        self.tied = tied
        self.init_quantile = init_quantile
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.n_init = n_init
        self.coreg = coreg
        self.pick_view = pick_view
        self.late_fusion = late_fusion
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _gap_loss(self, k):
        def make(rows, cols, n, dev, w0):
            tau = TAU * float(w0.sum()) / n
            # a fixed Lanczos start: ARPACK's own random start depends on the process's history
            state = {"v0": np.random.default_rng(0).uniform(-1, 1, n)}

            def loss(x):
                val, _, U = spectral_gap_loss(x, rows, cols, n, k, tau, GAP_KIND, state["v0"])
                state["v0"] = to_numpy(U.sum(1))
                return val
            return loss
        return make

    def fit(self, X, y=None):
        """Learn the sparse graph from the views (or precomputed affinity) X and cluster it
        (``labels_``); y is ignored."""
        graphs = self._input_graphs(X, self.n_clusters)
        n = graphs[0].shape[0]
        k = self.n_clusters  # declared: an int >= 1
        if k > n:
            raise ValueError(f"n_clusters={k} > n_samples={n}: cannot form more clusters than samples")
        if self.objective == "learned" and k >= n:
            raise ValueError(f"objective='learned' needs n_clusters < n_samples (the eigengap "
                             f"after the k-th eigenvalue), got n_clusters={k}, n_samples={n}")
        with fit_context(self.random_state) as seed:
            G = self._learn_graph(graphs, seed, self._gap_loss(int(k)), n_groups=int(k))
            labels = spectral_labels(G, k, self.n_init, seed)
            self.graph_source_ = "learned"
            if self.objective == "learned":  # the last step (nn.dsrl_select.last_step)
                labels, self.graph_, self.graph_source_, v = last_step(
                    labels, G, self._input_graph, *self._kept_views, k, self.n_init, seed,
                    pairs_agree=self._pairs_agree, tau=TAU, margin=FALLBACK_MARGIN,
                    coreg_lam=COREG_LAMBDA if self.coreg else None,
                    pick_ratio=VIEW_PICK_RATIO if self.pick_view else None,
                    pick_needs_agreement=VIEW_PICK_NEEDS_AGREEMENT,
                    late_agreement=LATE_AGREEMENT if self.late_fusion else None,
                    late_weighting=self.late_fusion if isinstance(self.late_fusion, str) else "equal")
                if v is not None:  # the view's own partition: view_weights_ one-hot
                    self.view_weights_ = np.eye(self.n_views_)[np.flatnonzero(self.view_weights_)[v]]
            del self._input_graph, self._kept_views, self._pairs_agree, self._input_wins
            self.labels_ = labels.astype(np.int64)
        return self

    def fit_predict(self, X, y=None):
        """``fit(X).labels_``."""
        return self.fit(X).labels_

    def _n_fit(self):
        return self.labels_.shape[0]

    def predict(self, X):
        """Clusters of samples X (not necessarily the fitted ones): the majority cluster of
        their kNN heat-kernel affinities to the fitted samples (same standardisation, bandwidth
        and view weights; for ``affinity="precomputed"`` X is the (n_new, n_fit) affinity). On
        the fitted samples it returns ``labels_`` only where kNN neighbourhoods follow the
        clusters (MSRC-v1: 99%); on hub-dominated graphs it does not (3Sources with
        ``metric="euclidean"``: 24%, with TF-IDF 96%). Use ``labels_`` for the fitted samples."""
        self._check_fitted()
        K = self._affinity_to_fitted(X)
        votes = np.asarray(K @ np.eye(self.n_clusters)[self.labels_])
        return np.argmax(votes, axis=1).astype(np.int64)


def _folds(idx, code, n_folds, rng):
    """Held-out parts of the labelled set: each class spread over the folds in random order."""
    fold = np.empty(idx.size, dtype=np.int64)
    start = 0
    for c in np.unique(code):
        members = np.flatnonzero(code == c)
        fold[rng.permutation(members)] = (start + np.arange(members.size)) % n_folds
        start += members.size
    return [np.flatnonzero(fold == f) for f in range(n_folds) if np.any(fold == f)]


class DSRLClassifier(ClassifierMixin, _DSRLBase):
    __doc__ = """Transductive semi-supervised classification with a learned sparse graph (DSRL).

    ``y`` marks unlabelled samples with -1 (as ``LabelSpreading``). Labels are propagated by
    ``F = (I + alpha (D - X))^{-1} Y_L`` over the learned graph ``X`` with the same-class
    labelled pairs linked at weight 1 (the released code's supervision step). With
    ``objective="learned"`` the labelled set is split into ``n_folds`` folds; Theta, L and the
    view weights minimise the cross-entropy of the propagation from the other folds (their
    pairs linked) on each held-out fold, through the differentiable linear solve
    (:func:`glassnet.nn.dsrl.propagate`); if the weighted input graph scores no worse on that
    cross-entropy than the best learned graph, labels are propagated over the input graph
    (``graph_source_ = "input"``; seen on single-view data, never on the multi-view tuning
    sets). With ``objective="paper"`` the labelled pairs are
    linked in the averaged ``W`` before training on eq. (8), so their links pass through the
    learned thresholds like every edge (the released code; they are not reset to 1 after), and
    new samples' affinities average the views. ``transduction_`` holds the labels of the fitted
    samples; ``predict(X_new)`` extends the graph to new samples as ``LabelSpreading`` does
    (their kNN heat-kernel affinities to the fitted samples times ``label_distributions_``).

    Parameters
    ----------
    """ + PARAMS_DOC + """    alpha : the paper's ``alpha/beta`` (released: 1).
    n_folds : folds of the labelled set for the learned objective.

    Attributes: ``transduction_``, ``label_distributions_``, ``classes_``, ``graph_source_``
    (``"learned"`` or ``"input"``, above), and those of :class:`DSRLClustering` but ``labels_``.
    """

    _DEFAULTS = CLASSIFICATION_DEFAULTS
    _fitted_attributes: ClassVar[dict] = {**FITTED, "classes_": "array", "graph_source_": "str",
                                          "label_distributions_": "array", "transduction_": "array"}
    _parameter_constraints: ClassVar[dict] = {
        **CONSTRAINTS,
        "alpha": [POSITIVE],
        "n_folds": [Interval(numbers.Integral, 2, None, closed="left")],
    }

    def __init__(self, *, affinity="knn", metric="auto", objective="learned",
                 view_weights="agreement", n_neighbors=10, n_layers=10, tied=True,
                 init_quantile=None, lr=None, weight_decay=None, max_epochs=None, alpha=1.0,
                 n_folds=3, device="auto", random_state=None, verbose=False):
        self.affinity = affinity
        self.metric = metric
        self.objective = objective
        self.view_weights = view_weights
        self.n_neighbors = n_neighbors
        self.n_layers = n_layers
        self.tied = tied
        self.init_quantile = init_quantile
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.alpha = alpha
        self.n_folds = n_folds
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _holdout_loss(self, idx, code, n_classes, seed):
        alpha = float(self.alpha)
        folds = _folds(idx, code, int(self.n_folds), np.random.default_rng(seed))

        def make(rows, cols, n, dev, w0):
            parts = []
            for held in folds:
                seen = np.setdiff1d(np.arange(idx.size), held)
                ok = np.isin(code[held], code[seen])  # a class with no seen sample: no signal
                if not ok.any():
                    continue
                Y = torch.zeros(n, n_classes, dtype=torch.float64, device=dev)
                Y[idx[seen], code[seen]] = 1.0
                # the seen labelled samples of a class are linked at weight 1 (implicitly)
                parts.append({"groups": (idx[seen], code[seen]), "Y": Y,
                              "held": torch.as_tensor(idx[held][ok], device=dev),
                              "y": torch.as_tensor(code[held][ok], device=dev), "F": None})
            if not parts:
                warnings.warn("no class has two labelled samples, so no held-out label can be "
                              "predicted from the others: the graph is not learned and labels "
                              "propagate over the input graph (graph_source_='input')",
                              UserWarning, stacklevel=2)

            def loss(x):
                if not parts:  # no signal: every graph scores 0, so the input graph is kept
                    return x.sum() * 0.0
                total = 0.0
                for p in parts:
                    F = propagate(x, rows, cols, n, p["Y"], alpha, X0=p["F"], tol=CG_TOL,
                                  groups=p["groups"])
                    p["F"] = F.detach()
                    Fh = F[p["held"]].clamp_min(0.0)
                    # prior mass: a held-out node the graph barely reaches is predicted uniform
                    prior = PRIOR_MASS * Fh.sum(1).mean().detach() / n_classes
                    prob = ((Fh.gather(1, p["y"][:, None])[:, 0] + prior)
                            / (Fh.sum(1) + n_classes * prior).clamp_min(1e-300))
                    total = total - torch.log(prob.clamp_min(1e-12)).mean()
                return total / max(len(parts), 1)
            loss.no_signal = not parts  # _learn_graph then trains no epoch
            return loss
        return make

    def fit(self, X, y):
        """Learn the graph from X and the labels y (-1: unlabelled) and propagate the labels
        (``transduction_``, ``label_distributions_``)."""
        if y is None:
            raise ValueError("DSRLClassifier requires y to be passed, but the target y is None "
                             "(use -1 for unlabelled samples)")
        y = column_or_1d(y, warn=True)
        if y.size == 0:  # else read as "no labelled sample"
            raise ValueError("y is empty: 0 samples, while a minimum of 1 is required")
        check_finite_target(y, "; use -1 for unlabelled samples")
        unl = self._unlabelled(y)
        if unl.all():
            raise ValueError("y has no labelled sample (every entry is -1)")
        try:
            with warnings.catch_warnings():  # few labels per class is the point of the method
                warnings.filterwarnings("ignore", message="The number of unique classes")
                check_classification_targets(y[~unl])
            classes = np.unique(y[~unl])
        except TypeError as err:  # e.g. strings and numbers mixed in an object array
            raise ValueError(f"y's labels cannot be ordered ({err}): use labels of one type") from err
        graphs = self._input_graphs(X, classes.size)  # classes set "auto"'s k
        n = graphs[0].shape[0]
        check_consistent_length(np.empty(n), y)
        if classes.size < 2:
            raise ValueError(f"y has labelled samples of only one class ({classes[0]!r}); "
                             "every class needs at least one labelled sample")
        self.classes_ = classes
        idx = np.flatnonzero(~unl)
        code = np.searchsorted(classes, y[idx])
        n_views = len(graphs)
        if self.objective == "paper":  # same-class labelled pairs = 1 in W (released code)
            W = link_labelled_pairs(sum(graphs[1:], graphs[0]) / n_views, idx, code)
            graphs = [W]
        with fit_context(self.random_state) as seed:
            G = self._learn_graph(graphs, seed, self._holdout_loss(idx, code, classes.size, seed),
                                  keep_best=True, n_groups=classes.size)
        if self.objective == "paper":  # the views were averaged: new samples' affinities too
            self.view_weights_ = np.full(n_views, 1.0 / n_views)
        self.graph_source_ = "learned"
        if self._input_wins:  # training did not beat its input graph on the held-out labels
            G = self.graph_ = self._input_graph
            self.graph_source_ = "input"
        del self._input_graph, self._kept_views, self._pairs_agree, self._input_wins
        Gc, groups = G.copy().tocoo(), None  # a copy: tocoo caches flags on graph_
        if self.objective == "learned":  # same-class labelled pairs set to 1, implicitly
            of = np.full(n, -1)
            of[idx] = code
            keep = (of[Gc.row] < 0) | (of[Gc.row] != of[Gc.col])  # stored pairs are overwritten
            Gc = sp.coo_matrix((Gc.data[keep], (Gc.row[keep], Gc.col[keep])), shape=G.shape)
            groups = (idx, code)
        Y = torch.zeros(n, classes.size, dtype=torch.float64)
        Y[idx, code] = 1.0
        with torch.no_grad():
            F = to_numpy(propagate(torch.as_tensor(Gc.data), Gc.row, Gc.col, n, Y,
                                   float(self.alpha), groups=groups))
        self.label_distributions_ = self._normalise(F)
        self.transduction_ = classes[np.argmax(F, axis=1)]
        return self

    def _n_fit(self):
        return self.transduction_.shape[0]

    @staticmethod
    def _unlabelled(y):
        if y.dtype.kind in "biuf":
            return y == -1
        # an object array may hold -1 as a number (-1, -1.0) or as the string "-1"
        return np.array([str(v) == "-1" or (isinstance(v, numbers.Real) and v == -1) for v in y],
                        dtype=bool)

    @staticmethod
    def _normalise(F):
        F = np.clip(F, 0.0, None)
        s = F.sum(axis=1, keepdims=True)
        return np.where(s > 0, F / np.where(s > 0, s, 1.0), 1.0 / F.shape[1])

    def predict_proba(self, X):
        """Class distributions of samples X (not necessarily the fitted ones): their kNN
        heat-kernel affinities to the fitted samples times ``label_distributions_``."""
        self._check_fitted()
        K = self._affinity_to_fitted(X)
        return self._normalise(np.asarray(K @ self.label_distributions_))

    def predict(self, X):
        """Most probable class of samples X (see ``predict_proba``); ``transduction_`` holds
        the labels of the fitted samples themselves."""
        self._check_fitted()
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
