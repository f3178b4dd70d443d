"""scikit-learn estimators for DSRL (Wang, Chen, Du, Lin, TPAMI 2022).

``DSRLClustering`` (like ``SpectralClustering``) and ``DSRLClassifier`` (transductive, like
``LabelSpreading``). Input ``X`` is

* a 2-D array: one view (what scikit-learn's checks pass);
* a list or tuple of 2-D arrays with the same number of rows: several views;
* with ``affinity="precomputed"``: a square, symmetric, nonnegative affinity (dense or
  ``scipy.sparse``), e.g. the authors' own graphs.

From the views a k-nearest-neighbour heat-kernel graph is built per view (features z-scored)
and the graphs are averaged into ``W``; :class:`glassnet.nn.dsrl.DSRLNet` learns a sparse graph
``X_(t)`` from ``W`` with the one training loop; clustering is spectral clustering on it and
classification is label propagation over it.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import ClassifierMixin, ClusterMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_consistent_length, column_or_1d

from glassnet import training
from glassnet.estimators.base import GlassnetEstimator
from glassnet.nn.dsrl import (
    DSRLNet,
    check_affinity,
    knn_heat_graph,
    label_propagation,
    link_labelled_pairs,
    spectral_labels,
)
from glassnet.utils import fit_context

__all__ = ["DSRLClassifier", "DSRLClustering"]

# the released code's Theta initialisation b = [1, 2], w = [1, 1], L = 1 (paper README); the
# b's are in units of the init_quantile-quantile of W's nonzero values (see _initial_theta)
THETA_INIT = (1.0, 1.0, 1.0, 2.0)


def _is_multiview(X) -> bool:
    return isinstance(X, (list, tuple)) and len(X) > 0 and all(np.ndim(v) == 2 for v in X)


class _DSRLBase(GlassnetEstimator):
    """Graph construction, validation and graph learning shared by both estimators."""

    # ------------------------------------------------------------ input -> graph
    def _check_params(self):
        if self.affinity not in ("knn", "precomputed"):
            raise ValueError(f"affinity must be 'knn' or 'precomputed', got {self.affinity!r}")
        if int(self.n_neighbors) < 1:
            raise ValueError(f"n_neighbors must be >= 1, got {self.n_neighbors}")
        if not 0.0 < float(self.init_quantile) <= 1.0:
            raise ValueError(f"init_quantile must be in (0, 1], got {self.init_quantile}")

    def _views(self, X, reset: bool):
        """Validated list of (n, d) float arrays; sets n_features_in_ for a single view."""
        if _is_multiview(X):
            views = [check_array(v, dtype=np.float64, ensure_all_finite=True,
                                 input_name=f"view {i}") for i, v in enumerate(X)]
            sizes = [v.shape[0] for v in views]
            if len(set(sizes)) > 1:
                raise ValueError(f"all views must have the same number of samples, got {sizes}")
            if reset:
                self.n_views_ = len(views)
                self.view_dims_ = [int(v.shape[1]) for v in views]
                if hasattr(self, "n_features_in_"):
                    del self.n_features_in_
            elif [v.shape[1] for v in views] != list(getattr(self, "view_dims_", [])):
                raise ValueError(f"views have {[v.shape[1] for v in views]} features; the "
                                 f"estimator was fitted on {getattr(self, 'view_dims_', None)}")
            return views
        if isinstance(X, (list, tuple)) and len(X) == 0:
            raise ValueError("X is empty (no views)")
        V = self._validate_X(X, reset=reset)
        if reset:
            self.n_views_ = 1
            self.view_dims_ = [int(V.shape[1])]
        return [V]

    def _input_graph(self, X):
        """``W`` (CSR) from the input and, for kNN graphs, the per-view statistics kept for
        the out-of-sample extension."""
        self._check_params()
        if self.affinity == "precomputed":
            if _is_multiview(X):
                raise ValueError("affinity='precomputed' takes one (n, n) matrix, not a list of views")
            W = check_affinity(X)
            self.n_views_, self.view_dims_ = 1, [int(W.shape[0])]
            self.n_features_in_ = int(W.shape[0])
            return W
        views = self._views(X, reset=True)
        graphs, stats = [], []
        for V in views:
            mu, sd = V.mean(axis=0), V.std(axis=0)
            sd = np.where(sd > 0, sd, 1.0)
            G = knn_heat_graph(V, self.n_neighbors)
            graphs.append(G)
            stats.append((mu, sd))
        self.view_mean_ = [s[0] for s in stats]
        self.view_scale_ = [s[1] for s in stats]
        self.fit_views_ = [(V - mu) / sd for V, (mu, sd) in zip(views, stats)]
        self.view_bandwidth_ = [self._bandwidth(Z) for Z in self.fit_views_]
        return (sum(graphs[1:], graphs[0]) / len(graphs)).tocsr()

    def _bandwidth(self, Z):
        from sklearn.neighbors import NearestNeighbors

        k = int(min(self.n_neighbors, Z.shape[0] - 1))
        if k < 1:
            return 1.0
        d = NearestNeighbors(n_neighbors=k).fit(Z).kneighbors()[0]
        t = float(d.mean())
        return t if t > 0 else 1.0

    def _affinity_to_fitted(self, X):
        """(n_new, n_fit) affinities of new samples to the fitted ones: the same kNN heat
        kernel (k neighbours among the fitted samples, fitted standardisation and bandwidth),
        averaged over views; for ``affinity='precomputed'`` X is that matrix itself."""
        from sklearn.neighbors import NearestNeighbors

        n_fit = self._n_fit()
        if self.affinity == "precomputed":
            K = check_array(X, accept_sparse="csr", dtype=np.float64, ensure_all_finite=True)
            if K.shape[1] != n_fit:
                raise ValueError(f"with affinity='precomputed', predict takes the (n_new, "
                                 f"{n_fit}) affinities to the fitted samples; got {K.shape}")
            if (K.min() if not sp.issparse(K) else (K.data.min() if K.nnz else 0)) < 0:
                raise ValueError("precomputed affinities must be >= 0")
            return sp.csr_matrix(K)
        views = self._views(X, reset=False)
        K = None
        for V, mu, sd, Z, t in zip(views, self.view_mean_, self.view_scale_, self.fit_views_,
                                   self.view_bandwidth_):
            k = int(min(self.n_neighbors, n_fit))
            d, idx = NearestNeighbors(n_neighbors=k).fit(Z).kneighbors((V - mu) / sd)
            w = np.maximum(np.exp(-(d**2) / (2 * t * t)), np.finfo(np.float64).tiny)
            rows = np.repeat(np.arange(V.shape[0]), k)
            G = sp.csr_matrix((w.ravel(), (rows, idx.ravel())), shape=(V.shape[0], n_fit))
            K = G if K is None else K + G
        return K / len(views)

    # ------------------------------------------------------------ graph learning
    def _initial_theta(self, values: np.ndarray) -> tuple[float, float, float, float]:
        w1, w2, b1, b2 = THETA_INIT
        s = float(np.quantile(values, self.init_quantile)) if values.size else 1.0
        return w1, w2, b1 * s, b2 * s

    def _learn_graph(self, W: sp.csr_matrix, seed):
        """Train DSRLNet on the stored values of W; sets module_, theta_, L_, graph_, ..."""
        W = sp.csr_matrix(W)
        W.sum_duplicates()
        W.eliminate_zeros()
        v = torch.as_tensor(W.data, dtype=torch.float64)
        net = DSRLNet(self.n_layers, theta=self._initial_theta(W.data), L=1.0, tied=self.tied)

        def loss_fn(m):
            return m.loss(m(v), v)  # J = 1/2 ||W - X_(t)||_F^2 on the nonzeros (eq. 8)

        hist = training.fit(net, loss_fn, optimizer="adam", lr=self.lr,
                            weight_decay=self.weight_decay, max_epochs=self.max_epochs,
                            project=lambda m: m.project_(), seed=seed, verbose=self.verbose,
                            restore_best=False, n_threads=1)
        with torch.no_grad():
            layers = [x.numpy() for x in net(v, return_layers=True)]
        n = W.shape[0]
        G = W.copy()
        G.data = layers[-1].copy()
        G.eliminate_zeros()
        self.module_ = net
        self.theta_ = np.array(net.thetas if not self.tied else net.thetas[0])
        self.L_ = np.array(net.Ls) if not self.tied else float(net.Ls[0])
        self.graph_ = G
        self.input_nnz_ = int(W.nnz)
        # fraction of the n^2 entries that are zero, after every layer (index 0: W itself)
        self.layer_sparsity_ = np.array(
            [1.0 - W.nnz / n**2] + [1.0 - np.count_nonzero(x) / n**2 for x in layers])
        self.loss_curve_ = [float(x) for x in hist.train_loss]
        return G


class DSRLClustering(ClusterMixin, _DSRLBase):
    """Multi-view clustering with a learned sparse graph (DSRL).

    Parameters
    ----------
    n_clusters : number of clusters (<= number of samples).
    affinity : ``"knn"`` (build the averaged kNN heat-kernel graph from the views) or
        ``"precomputed"`` (X is the affinity).
    n_neighbors : k of the kNN graphs (paper: 10).
    n_layers : t, the number of unfolded blocks (paper: 10).
    tied : share Theta and L across layers (released code) or learn one per layer.
    init_quantile : initial ``b1, b2`` are the released ``1, 2`` times this quantile of ``W``'s
        nonzero values (the released init is dead on graphs with values below 1: every entry
        is thresholded to 0 and no gradient flows).
    lr, weight_decay, max_epochs : Adam settings (released: lr 0.02, weight decay 0.15,
        25-55 epochs chosen per data set). Defaults ``init_quantile=0.25, max_epochs=10`` were
        chosen on MSRC-v1 and 3Sources with seeds 100-102 (docs/dsrl.md).
    n_init : k-means restarts on the spectral embedding.

    Attributes
    ----------
    labels_, graph_ (learned CSR graph), theta_ ([w1, w2, b1, b2]; one row per layer if
    untied), L_, layer_sparsity_, loss_curve_, module_ (:class:`DSRLNet`).
    """

    def __init__(self, n_clusters=8, *, affinity="knn", n_neighbors=10, n_layers=10, tied=True,
                 init_quantile=0.25, lr=0.02, weight_decay=0.15, max_epochs=10, n_init=10,
                 random_state=None, verbose=False):
        self.n_clusters = n_clusters
        self.affinity = affinity
        self.n_neighbors = n_neighbors
        self.n_layers = n_layers
        self.tied = tied
        self.init_quantile = init_quantile
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.n_init = n_init
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y=None):
        """Learn the sparse graph from the views (or precomputed affinity) X and cluster it
        (``labels_``); y is ignored."""
        W = self._input_graph(X)
        n = W.shape[0]
        k = self.n_clusters
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"n_clusters must be a positive int, got {k!r}")
        if k > n:
            raise ValueError(f"n_clusters={k} > n_samples={n}: cannot form more clusters than samples")
        with fit_context(self.random_state) as seed:
            G = self._learn_graph(W, seed)
            self.labels_ = spectral_labels(G, k, self.n_init, seed).astype(np.int64)
        return self

    def fit_predict(self, X, y=None):
        """``fit(X).labels_``."""
        return self.fit(X).labels_

    def _n_fit(self):
        return self.labels_.shape[0]

    def predict(self, X):
        """Clusters of samples X (not necessarily the fitted ones): the majority cluster of
        their kNN heat-kernel affinities to the fitted samples (same standardisation and
        bandwidth; for ``affinity="precomputed"`` X is the (n_new, n_fit) affinity). On the
        fitted samples this mostly returns ``labels_`` (each is its own nearest neighbour)."""
        self._check_fitted()
        K = self._affinity_to_fitted(X)
        votes = np.asarray(K @ np.eye(self.n_clusters)[self.labels_])
        return np.argmax(votes, axis=1).astype(np.int64)


class DSRLClassifier(ClassifierMixin, _DSRLBase):
    """Transductive semi-supervised classification with a learned sparse graph (DSRL).

    ``y`` marks unlabelled samples with -1 (as ``LabelSpreading``). Same-class labelled pairs
    are set to 1 in ``W`` before training; labels are propagated by
    ``F = (I + alpha (D - X))^{-1} Y_L`` over the learned graph ``X`` (the paper's
    ``alpha/beta``, both 1 in the released code). ``transduction_`` holds the labels of the
    fitted samples. ``predict(X_new)`` extends the graph to new samples as ``LabelSpreading``
    does: their kNN heat-kernel affinities to the fitted samples (same standardisation and
    bandwidth; for ``affinity="precomputed"`` X_new is that (n_new, n_fit) matrix) times
    ``label_distributions_``.
    Other parameters as in :class:`DSRLClustering` (released classification settings: lr
    0.05, 5-15 epochs); ``init_quantile=0.9, max_epochs=10, alpha=1`` were chosen on MSRC-v1
    and 3Sources with seeds 100-102 (docs/dsrl.md).
    """

    def __init__(self, *, affinity="knn", n_neighbors=10, n_layers=10, tied=True,
                 init_quantile=0.9, lr=0.05, weight_decay=0.15, max_epochs=10, alpha=1.0,
                 random_state=None, verbose=False):
        self.affinity = affinity
        self.n_neighbors = n_neighbors
        self.n_layers = n_layers
        self.tied = tied
        self.init_quantile = init_quantile
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.alpha = alpha
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y):
        """Learn the graph from X with the labelled pairs of y linked (-1: unlabelled) and
        propagate the labels (``transduction_``, ``label_distributions_``)."""
        if y is None:
            raise ValueError("DSRLClassifier requires y to be passed, but the target y is None "
                             "(use -1 for unlabelled samples)")
        y = column_or_1d(y, warn=True)
        W = self._input_graph(X)
        check_consistent_length(np.empty(W.shape[0]), y)
        if not float(self.alpha) > 0:
            raise ValueError(f"alpha must be > 0, got {self.alpha}")
        unl = self._unlabelled(y)
        if unl.all():
            raise ValueError("y has no labelled sample (every entry is -1)")
        with warnings.catch_warnings():  # few labels per class is the point of the method
            warnings.filterwarnings("ignore", message="The number of unique classes")
            check_classification_targets(y[~unl])
        classes = np.unique(y[~unl])
        if classes.size < 2:
            raise ValueError(f"y has labelled samples of only one class ({classes[0]!r}); "
                             "every class needs at least one labelled sample")
        self.classes_ = classes
        idx = np.flatnonzero(~unl)
        code = np.searchsorted(classes, y[idx])
        W = link_labelled_pairs(W, idx, code)  # same-class labelled pairs = 1 (released code)
        Y = np.zeros((W.shape[0], classes.size))
        Y[idx, code] = 1.0
        with fit_context(self.random_state) as seed:
            G = self._learn_graph(W, seed)
        F = label_propagation(G, Y, float(self.alpha))
        self.label_distributions_ = self._normalise(F)
        self.transduction_ = classes[np.argmax(F, axis=1)]
        return self

    def _n_fit(self):
        return self.transduction_.shape[0]

    @staticmethod
    def _unlabelled(y):
        if y.dtype.kind in "biuf":
            return y == -1
        return np.array([str(v) == "-1" for v in y], dtype=bool)

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
