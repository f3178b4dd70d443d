"""Constants, parameter constraints and the shared parameter docstring of the DSRL estimators
(:mod:`glassnet.estimators.dsrl`, `dsrl_base`), kept apart so those modules stay small."""

from __future__ import annotations

import numbers

from sklearn.utils._param_validation import StrOptions

from glassnet.estimators.base import DEVICE, EPOCHS, NONNEG, POSITIVE, RANDOM_STATE, Interval
from glassnet.nn.dsrl_views import METRICS

# the released code's Theta initialisation b = [1, 2], w = [1, 1], L = 1 (paper README); the
# b's are in units of the init_quantile-quantile of W's nonzero values (see _initial_theta)
THETA_INIT = (1.0, 1.0, 1.0, 2.0)
OBJECTIVES = ("learned", "paper")
# defaults per objective for the parameters left at None: (init_quantile, lr, weight_decay,
# max_epochs). "paper" rows: chosen in round 1 on MSRC-v1 / 3Sources, seeds 100-102; "learned"
# rows: chosen on the same tuning sets and seeds (docs/history/dsrl.md; clustering: round 3).
CLUSTERING_DEFAULTS = {"paper": (0.25, 0.02, 0.15, 10), "learned": (0.1, 0.02, 0.0, 30)}
CLASSIFICATION_DEFAULTS = {"paper": (0.9, 0.05, 0.15, 10), "learned": (0.5, 0.05, 0.0, 10)}
DROP_WEIGHT = 0.01  # views whose agreement weight is below this fraction of the largest: left out
CG_TOL = 1e-6  # relative residual of the held-out propagation solves (training only)
PRIOR_MASS = 0.1  # held-out propagation: prior class mass, a fraction of the mean held-out mass
GAP_KIND = "gap"  # spectral_gap_loss criterion of the learned clustering objective
VIEW_WEIGHTS = ("clusters", "agreement", "trained", "uniform")
# "clusters" weighting: a view is kept if its partition (or its degree-corrected edges) agrees
# with another view's beyond CLUSTER_Z standard deviations of CLUSTER_PERM random relabellings;
# kept views are graded by CLUSTER_GRADE ** POWER (rounds 3-5: AMI ** 0, the plain average;
# docs/history/dsrl.md rounds 3-6)
CLUSTER_Z, CLUSTER_POWER, CLUSTER_PERM = 4.0, 0.5, 100
# round 6: the kept views are graded only when one stands out: "dominant" = each kept view's
# partition's NMI with the averaged kept graph's; if the top score is at least CLUSTER_DOMINANCE
# times the second, weights score ** CLUSTER_POWER, else the average (chosen on the tuning sets,
# where no view stands out and nothing changes, and synthetic one-strong-view draws;
# docs/history/dsrl.md round 6). Other grades: "ami", "own_cut", "consensus", "amgl".
CLUSTER_GRADE, CLUSTER_DOMINANCE = "dominant", 2.0
# no pair of views agreeing (and the round-8 rescue): a view is kept if its features share
# variation beyond STRUCTURE_Z standard deviations of STRUCTURE_NULL column-permuted copies
# (parallel analysis; round 5: z 10 over 10 copies; round 9: z 5 over 30 copies, which keeps
# the weak real text views of the word-subsampled 3Sources stand-ins that 10 / 10 left out and
# no independent-noise view of 3,000 draws; docs/history/dsrl.md rounds 5 and 9)
STRUCTURE_Z, STRUCTURE_NULL = 5.0, 30
# round 8: when some pair agrees, a view no other agrees with is kept if it passes that per-view
# structure test (chosen on MSRC-v1, 3Sources and real stand-ins, docs/history/dsrl.md round 8)
GATE_RESCUE = True
TAU = 0.1  # degree regularisation tau of the eigengap criterion, in units of W's mean degree
# clustering fallback: the weighted input graph's spectral partition is kept if the learned
# graph's partition cuts the kept views (mean regularised normalised cut, tau = TAU) worse by
# more than this fraction (chosen on the tuning sets and synthetic hub-heavy draws, round 4)
FALLBACK_MARGIN = 0.01
# round 7: a kept view's own graph replaces the clustered one if its eigengap at k is at least
# VIEW_PICK_RATIO[0] times the clustered graph's (tuning sets: at most 0.82x, never) and
# VIEW_PICK_RATIO[1] times the second view's (docs/history/dsrl.md round 7)
VIEW_PICK_RATIO = (2.0, 3.0)
# ... and only if some pair of views agreed beyond chance (weak views that agree with none,
# e.g. hub-heavy text views, keep the multi-view graph; round 7)
VIEW_PICK_NEEDS_AGREEMENT = True
# round 7: with coreg=True, after a fallback, or when no pair of views agrees, the kept views
# are clustered by co-regularised spectral clustering with this lambda (0.5 beat mvlearn's 2 on
# the synthetic draws where it fires; docs/history/dsrl.md round 7). Off by default since round
# 9: on the real weak-text stand-ins it lost to the input graph's partition in both cases
COREG_LAMBDA = 0.5
# round 10: with late_fusion=True, where no view was picked and the kept views' own partitions
# agree (mean pairwise NMI >= LATE_AGREEMENT), k-means on their spectral embeddings and the
# clustered graph's side by side (chosen on MSRC-v1, 3Sources and the 23 stand-ins, seeds
# 100-102, against a rule written down first; docs/history/dsrl.md round 10)
LATE_AGREEMENT = 0.2
# late_fusion=True weighs the views' embeddings equally; "spectral" by how cleanly each graph
# cuts into k groups (nn.dsrl_select.late_fusion, rounds 16-17); "auto" (the default since
# round 19, chosen on fresh tuning sets against a rule written first) computes both and keeps
# the one that cuts the kept views less (the fallback's yardstick)
LATE_FUSION = ["boolean", StrOptions({"spectral", "auto"})]

# at most this many unfolded blocks (each a sparse graph update of every view)
MAX_LAYERS = 1000
# constructor arguments both estimators share (checked at the start of fit; issue 25); None
# takes the objective's default (CLUSTERING_DEFAULTS / CLASSIFICATION_DEFAULTS)
CONSTRAINTS = {
    "affinity": [StrOptions({"knn", "precomputed"})],
    "metric": [StrOptions(set(METRICS))],
    "objective": [StrOptions(set(OBJECTIVES))],
    "view_weights": [StrOptions(set(VIEW_WEIGHTS))],
    "n_neighbors": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "n_layers": [Interval(numbers.Integral, 1, MAX_LAYERS, closed="both")],
    "tied": ["boolean"],
    "init_quantile": [None, Interval(numbers.Real, 0, 1, closed="right")],
    "lr": [None, POSITIVE],
    "weight_decay": [None, NONNEG],
    "max_epochs": [None, *EPOCHS],
    "device": DEVICE,
    "random_state": RANDOM_STATE,
    "verbose": ["verbose"],
}

# the fitted attributes glassnet.save writes and glassnet.load restores, with their types
FITTED = {"n_features_in_": "int", "feature_names_in_": "array", "n_views_": "int",
          "view_dims_": "list[int]", "view_mean_": "list[array]", "view_scale_": "list[array]",
          "fit_views_": "list[array]", "view_bandwidth_": "list[float]", "module_": "module",
          "view_metric_": "list[str]", "n_neighbors_": "int",
          "view_weights_": "array", "theta_": "array", "L_": "float|array", "graph_": "sparse",
          "input_nnz_": "int", "layer_sparsity_": "array", "loss_curve_": "list[float]",
          "device_": "str"}

PARAMS_DOC = """
    affinity : ``"knn"`` (a kNN heat-kernel graph per view) or ``"precomputed"`` (X is the
        affinity).
    metric : the points of each view's kNN graph (:mod:`glassnet.nn.dsrl_views`):
        ``"euclidean"`` (z-scored features, the released pipeline), ``"tfidf"`` (TF-IDF
        weighted term counts, rows of unit length: the cosine kNN of text), ``"cosine"``
        (unit rows of the features as given), ``"hellinger"`` (square roots of each row divided
        by its sum: nonnegative histograms), ``"unscaled"`` (the features as given: columns in
        one unit, such as pixels) or ``"auto"`` (``"tfidf"`` for text: views that are
        nonnegative and at least 90% zeros, whether counts, frequencies or TF-IDF weights;
        ``"euclidean"`` otherwise). ``view_metric_`` holds the one used per view.
    objective : ``"learned"`` (default; see the class description) or ``"paper"`` (eq. 8,
        ``J = 1/2 ||W - X_(t)||^2`` on the averaged graph: minimised by the identity).
    view_weights : how the views' graphs are weighted (``objective="learned"``; the paper
        objective averages them): ``"clusters"`` (the clustering default: each view's graph is
        clustered alone; views whose partition agrees with no other view's beyond chance, such
        as pure noise, get weight exactly 0, the others are averaged;
        :func:`glassnet.nn.dsrl.cluster_agreement_weights`), ``"agreement"`` (the classifier
        default: proportional to each view's mean cosine similarity with the other views'
        graphs above chance, :func:`glassnet.nn.dsrl.view_agreement_weights`; a view weighing
        less than ``DROP_WEIGHT`` (1%) of the heaviest is left out), ``"trained"`` (start at
        the agreement weights, then trained with Theta by the objective) or ``"uniform"``.
    n_neighbors : k of the kNN graphs: an int (paper: 10) or ``"auto"`` (the clustering
        default): half the mean class size ``n / n_clusters / 2`` (the classifier: labelled
        classes), between 3 and 10, so 10 wherever classes average 20 samples or more
        (:func:`glassnet.nn.dsrl_views.neighbors`). ``n_neighbors_`` holds the k used (at most
        n - 1: a larger k links every pair).
    n_layers : t, the number of unfolded blocks (paper: 10).
    tied : share Theta and L across layers (released code) or learn one per layer.
    init_quantile : initial ``b1, b2`` are the released ``1, 2`` times this quantile of the
        averaged graph's nonzero values (the released init is dead on graphs with values below 1).
    lr, weight_decay, max_epochs : Adam settings. ``None``: the objective's default
        (``CLUSTERING_DEFAULTS`` / ``CLASSIFICATION_DEFAULTS``, chosen on the tuning sets
        MSRC-v1 and 3Sources, seeds 100-102; docs/history/dsrl.md).
    device : ``"auto"`` (default; the CPU for small graphs), ``"cpu"``, ``"cuda"``, ...
        (:mod:`glassnet.devices`). The stacked view values and the net move to the device once
        per fit; the eigensolver of the clustering objective runs on the CPU. Fitted attributes
        are numpy / scipy objects; ``device_`` records where the graph was learnt. The nets are
        float64, which Apple's MPS lacks: ``"auto"`` passes over MPS and ``"mps"`` is refused.
"""
