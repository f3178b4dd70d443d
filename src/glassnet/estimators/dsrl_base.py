"""Shared machinery of the DSRL estimators (:mod:`glassnet.estimators.dsrl`): input views ->
per-view kNN graphs (with what predict needs), the view weights, and the learned graph
(:class:`glassnet.nn.dsrl.DSRLGraph` trained with the one training loop)."""

from __future__ import annotations

import copy
from typing import ClassVar

import numpy as np
import torch

from glassnet import training
from glassnet.devices import to_numpy
from glassnet.estimators._dsrl_params import (
    CLUSTER_DOMINANCE,
    CLUSTER_GRADE,
    CLUSTER_PERM,
    CLUSTER_POWER,
    CLUSTER_Z,
    CLUSTERING_DEFAULTS,
    DROP_WEIGHT,
    GATE_RESCUE,
    STRUCTURE_NULL,
    STRUCTURE_Z,
    TAU,
    THETA_INIT,
)
from glassnet.estimators.base import GlassnetEstimator, _check_magnitude
from glassnet.nn.dsrl import (
    DSRLGraph,
    check_affinity,
    cluster_agreement_weights,
    multiview_graph,
    stack_views,
    view_agreement_weights,
)
from glassnet.nn.dsrl_views import (
    affinity_to_fitted,
    check_views,
    dense_view,
    fit_view,
    is_multiview,
    knn_affinity,
    neighbors,
    transform,
    view_metric,
)

__all__ = ["_DSRLBase"]


MIN_ABS_VIEW = 1e-150  # (1e-150)^2 is still a normal float64; views below it are refused


class _DSRLBase(GlassnetEstimator):
    """Graph construction, validation and graph learning shared by both estimators."""

    _DEFAULTS: ClassVar[dict] = CLUSTERING_DEFAULTS
    _FLOAT64_ON_DEVICE = True  # the views and the unfolded networks are float64

    # ------------------------------------------------------------ input -> graphs
    def _check_params(self):
        self._validate_params()  # _parameter_constraints (fit validates them first too)

    def _settings(self):
        """(init_quantile, lr, weight_decay, max_epochs), None replaced by the objective's default."""
        dflt = self._DEFAULTS.get(self.objective, self._DEFAULTS["learned"])
        given = (self.init_quantile, self.lr, self.weight_decay, self.max_epochs)
        return tuple(d if g is None else g for g, d in zip(given, dflt))

    def _views(self, X, reset: bool):
        """Validated list of (n, d) float arrays; sets n_features_in_ for a single view. After
        fit (``reset=False``) the number of views must be the fitted one (``n_views_``)."""
        if isinstance(X, (list, tuple)) and not is_multiview(X) and any(np.ndim(v) == 2 for v in X):
            bad = next(i for i, v in enumerate(X) if np.ndim(v) != 2)  # a list of views, one not 2-d
            raise ValueError(f"view {bad} must be a 2-d (n_samples, n_features) array, got shape "
                             f"{np.shape(X[bad])}")
        got = len(X) if is_multiview(X) else 1
        if not reset and got != self.n_views_:
            raise ValueError(f"X has {got} view(s) but {type(self).__name__} was fitted on "
                             f"{self.n_views_} view(s): pass a list of {self.n_views_} arrays, "
                             "one per view, in the order given to fit")
        if is_multiview(X):
            views = check_views(X)
            for i, V in enumerate(views):
                _check_magnitude(V, f"view {i}")
            if reset:
                self.n_views_ = len(views)
                self.view_dims_ = [int(v.shape[1]) for v in views]
            elif [v.shape[1] for v in views] != list(getattr(self, "view_dims_", [])):
                raise ValueError(f"views have {[v.shape[1] for v in views]} features; the "
                                 f"estimator was fitted on {getattr(self, 'view_dims_', None)}")
            return views
        if isinstance(X, (list, tuple)) and len(X) == 0:
            raise ValueError("X is empty (no views)")
        V = self._validate_X(dense_view(X, "X"), reset=reset)
        if reset:
            self.n_views_ = 1
            self.view_dims_ = [int(V.shape[1])]
        return [V]

    def _check_not_tiny(self, views):
        """Views whose largest entry is below ``MIN_ABS_VIEW``: their squares (the column
        scales, the distances) underflow and the kNN graph is meaningless (ARI 0 at 1e-200), so
        a ValueError asks to rescale."""
        for i, V in enumerate(views):
            big = float(np.max(np.abs(V))) if V.size else 0.0
            if 0 < big < MIN_ABS_VIEW:
                raise ValueError(f"view {i} has entries of magnitude at most {big:.3g}: below "
                                 f"{MIN_ABS_VIEW:.0e} their squares underflow; rescale it")

    def _input_graphs(self, X, n_groups):
        """Per-view graphs ``[W_v]`` (CSR; one if precomputed), the statistics kept for predict
        and ``n_neighbors_`` (``"auto"``: from ``n_groups``, the clusters or classes)."""
        self._check_params()
        self._clear_fitted()  # a refit on other data keeps nothing of the last fit
        if self.affinity == "precomputed":
            if is_multiview(X):
                raise ValueError("affinity='precomputed' takes one (n, n) matrix, not a list of views")
            W = check_affinity(X)
            self.n_views_, self.view_dims_ = 1, [int(W.shape[0])]
            self.n_features_in_ = int(W.shape[0])
            return [W]
        views = self._views(X, reset=True)
        self._check_not_tiny(views)
        self.view_metric_ = [view_metric(V, self.metric, f"view {i}") for i, V in enumerate(views)]
        self.view_mean_, self.view_scale_ = map(list, zip(*[
            fit_view(V, m) for V, m in zip(views, self.view_metric_)]))
        self.fit_views_ = [transform(V, mu, sd, m) for V, mu, sd, m in zip(
            views, self.view_mean_, self.view_scale_, self.view_metric_)]
        # one kNN search per view; the bandwidths are kept for predict
        n = views[0].shape[0]  # a sample has at most n - 1 neighbours: larger k is all of them
        self.n_neighbors_ = max(1, min(neighbors(self.n_neighbors, n, n_groups), n - 1))
        _, graphs, self.view_bandwidth_ = multiview_graph(self.fit_views_, self.n_neighbors_,
                                                          standardize=False, return_views=True)
        return graphs

    def _affinity_to_fitted(self, X):
        """(n_new, n_fit) affinities of new samples to the fitted ones: the same kNN heat
        kernel (k neighbours among the fitted samples, fitted standardisation and bandwidth),
        weighted by ``view_weights_``; for ``affinity='precomputed'`` X is that matrix itself."""
        n_fit = self._n_fit()
        if self.affinity == "precomputed":
            return affinity_to_fitted(X, n_fit)
        views = self._views(X, reset=False)
        metrics = getattr(self, "view_metric_", ["euclidean"] * len(views))  # saved before 0.5
        k = int(min(getattr(self, "n_neighbors_", self.n_neighbors), n_fit))  # < 0.5: int
        return sum(a * knn_affinity(transform(V, mu, sd, m), Z, t, k) for V, mu, sd, m, Z, t, a
                   in zip(views, self.view_mean_, self.view_scale_, metrics, self.fit_views_,
                          self.view_bandwidth_, self.view_weights_))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # sparse views are made dense (nn.dsrl_views.dense_view)
        # a precomputed affinity is split K[train][:, train] / K[test][:, train] by scikit-learn's
        # cross-validation, which is what fit and predict take (as SpectralClustering's)
        tags.input_tags.pairwise = self.affinity == "precomputed"
        return tags

    # ------------------------------------------------------------ graph learning
    def _initial_theta(self, values: np.ndarray, q: float) -> tuple[float, float, float, float]:
        w1, w2, b1, b2 = THETA_INIT
        s = float(np.quantile(values, q)) if values.size else 1.0
        return w1, w2, b1 * s, b2 * s

    def _learn_graph(self, graphs, seed, make_loss, keep_best=False, n_groups=2):
        """Train :class:`DSRLGraph` on the stacked views; ``make_loss(rows, cols, n, device)``
        returns the learned objective's ``loss(x_t)`` (unused with ``objective='paper'``); with
        ``keep_best`` the parameters with the lowest learned objective seen are kept, and
        ``_input_wins`` says whether the weighted input graph's objective is no higher;
        ``n_groups`` is the k of the per-view clusterings of ``view_weights='clusters'``. A
        ``loss`` with ``no_signal = True`` (no held-out label to predict) trains no epoch.
        Sets module_, view_weights_, theta_, L_, graph_, layer_sparsity_, loss_curve_."""
        q, lr, wd, epochs = self._settings()
        paper = self.objective == "paper"
        uniform = paper or self.view_weights == "uniform" or len(graphs) == 1
        used = np.arange(len(graphs))
        a_all = np.full(len(graphs), 1.0 / len(graphs))
        self._pairs_agree = None  # some pair of views agreed beyond chance (None: no gate)
        if not uniform and self.view_weights == "clusters":  # noise views: exactly 0
            views = self.fit_views_ if self.affinity == "knn" else None
            a_all, self._pairs_agree = cluster_agreement_weights(
                graphs, n_groups, CLUSTER_POWER, CLUSTER_Z, CLUSTER_PERM, random_state=seed,
                views=views, structure_z=STRUCTURE_Z, n_null=STRUCTURE_NULL, grade=CLUSTER_GRADE,
                tau=TAU, dominance=CLUSTER_DOMINANCE, return_agree=True, rescue=GATE_RESCUE)
            used = np.flatnonzero(a_all > 0)
            # the kept views averaged: exactly the fit without the left-out views
            uniform = bool(np.all(a_all[used] == a_all[used][0]))
        while not uniform and self.view_weights != "clusters":  # agreement: a view weighing
            # under DROP_WEIGHT of the heaviest is left out (weight 0), the rest reweighed
            a = view_agreement_weights([graphs[i] for i in used])
            keep = a >= DROP_WEIGHT * a.max()
            a_all = np.zeros(len(graphs))
            a_all[used[keep]] = a[keep] / a[keep].sum()
            if keep.all():
                break
            used = used[keep]
        graphs = [graphs[i] for i in used]
        P, V = stack_views(graphs)
        n = P.shape[0]
        coo = P.tocoo()
        rows, cols = coo.row.astype(np.int64), coo.col.astype(np.int64)
        dev = self._fit_device(V.size)
        self.device_ = str(dev)  # where the graph was learnt
        Vt = torch.as_tensor(V, dtype=torch.float64).to(dev)  # the data moves once
        a0 = None if uniform else a_all[used]
        w0 = V.mean(axis=0) if uniform else a0 @ V  # the input graph's values
        net = DSRLGraph(len(graphs), self.n_layers, theta=self._initial_theta(w0[w0 > 0], q),
                        L=1.0, tied=self.tied, weights=a0,
                        learn_weights=self.view_weights == "trained" and not paper).to(dev)
        if paper:
            w0t = Vt.mean(0)

            def loss_fn(m):
                return m.net.loss(m.net(w0t), w0t)  # J = 1/2 ||W - X_(t)||_F^2 (eq. 8)
        else:
            loss_x = make_loss(rows, cols, n, dev, w0)
            best = {"loss": np.inf, "state": None}

            def loss_fn(m):
                val = loss_x(m(Vt))
                if keep_best and float(val.detach()) < best["loss"]:
                    best["loss"] = float(val.detach())
                    best["state"] = copy.deepcopy(m.state_dict())
                return val

        if not paper and getattr(loss_x, "no_signal", False):  # nothing to learn from: no epochs
            hist = training.History()
        else:
            hist = training.fit(net, loss_fn, optimizer="adam", lr=lr, weight_decay=wd,
                                max_epochs=int(epochs), project=lambda m: m.project_(), seed=seed,
                                verbose=self.verbose, restore_best=False, n_threads=1, device=dev)
        if not paper and best["state"] is not None:
            net.load_state_dict(best["state"])
        # keep_best (the classifier): does the weighted input graph score at least as well on
        # the learned objective as the best learned graph? (single-view data: stop 51)
        self._input_wins = False
        if keep_best and not paper:
            with torch.no_grad():
                w0t = torch.as_tensor(w0, dtype=Vt.dtype, device=dev)
                self._input_wins = float(loss_x(w0t)) <= best["loss"]
        with torch.no_grad():
            layers = [to_numpy(x) for x in (net.net(Vt.mean(0), return_layers=True) if paper
                                            else net(Vt, return_layers=True))]
            a = a_all.copy()
            a[used] = to_numpy(net.view_weights)
        G = P.copy()
        G.data = layers[-1].copy()
        G.eliminate_zeros()
        self._input_graph = P.copy()  # the weighted input graph (for the clustering fallback)
        self._input_graph.data = w0.copy()
        self._kept_views = (graphs, a_all[used] / a_all[used].sum())
        self.module_ = net.cpu()
        self.view_weights_ = a
        thetas = net.net.thetas
        self.theta_ = np.array(thetas if not self.tied else thetas[0])
        self.L_ = np.array(net.net.Ls) if not self.tied else float(net.net.Ls[0])
        self.graph_ = G
        self.input_nnz_ = int(P.nnz)
        # fraction of the n^2 entries that are zero, after every layer (index 0: W itself)
        self.layer_sparsity_ = np.array(
            [1.0 - np.count_nonzero(a[used] @ V) / n**2]
            + [1.0 - np.count_nonzero(x) / n**2 for x in layers])
        self.loss_curve_ = [float(x) for x in hist.train_loss]
        return G
