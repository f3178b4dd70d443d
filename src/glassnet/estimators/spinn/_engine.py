"""SPINN's start and its relaxed refits, on stacks of networks (the full data and the folds).

What is particular to SPINN lives here: where its path starts (the null model, the second-order
screen, a dense fit on the screened inputs) and the relaxed refits on a selected support. The
grid, the path solver, the stacks and the CV rules are the engine's (:mod:`glassnet.paths`,
:mod:`glassnet.model_selection`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from glassnet.datafits import Huber, Objective
from glassnet.nn.spinn import StackedSPINN
from glassnet.paths import (
    Batch,
    MaskProjection,
    Problem,
    fit_stack,
    lambda_max,
    masked_start,
    robust_scale,
    screen_features,
)

__all__ = ["Start", "relaxed", "start", "w1_ridge_where_correlated"]

STARTS = ("screen", "zero")
HUBER_K = 2.0  # Huber's delta = HUBER_K x the MAD scale of the start's residuals (docs/history/spinn.md)
# The dense start is a smooth problem fitted with full-batch Adam (proximal gradient from a small
# random init sits near the saddle at W1 = 0 of an XOR or even effect; docs/history/spinn.md).
DENSE_START_LR, DENSE_START_EPOCHS = 3e-2, 500
# The second screen (linear, on the dense fit's residuals): its level and, where it admits inputs,
# the epochs and step size that continue the dense fit (0 epochs: no second screen). Level 1/24:
# the largest of the 23 permutation maxima (chosen on tuning data, docs/history/spinn.md)
SECOND_SCREEN_LEVEL, SECOND_SCREEN_EPOCHS, SECOND_SCREEN_LR = 1.0 / 24.0, 100, 1e-2
# The W1 ridge of a regression problem (Problem.w1_ridge) stays on only where the first screen's
# inputs are correlated: some pair's |corr| on network 0's rows above CORRELATED_INPUTS / sqrt(n)
# (without it the dense fit splits the weight of correlated inputs arbitrarily and the path keeps
# a neighbour; on independent inputs the ridge only shrinks the even and product effects)
CORRELATED_INPUTS = 6.0
RELAX_LR, RELAX_EPOCHS = 1e-2, 1000  # relaxed refits: full-batch Adam, at most 10 x max_epochs


class Start:
    """Where each network's path starts: its top lambda, its screened inputs (None: the path
    runs down from ``W1 = 0``) and the problem (with Huber's scale, once estimated)."""

    def __init__(self, problem, lam_max, masks):
        self.problem, self.lam_max, self.masks = problem, lam_max, masks

    @property
    def up(self) -> list[bool]:
        return [m is not None for m in self.masks]


def generator(seed) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(int(seed) % (2**63))
    return g


def _null(nets, problem: Problem, batch: Batch):
    """Every network at its null model: ``W1 = 0``, the output bias at the datafit's best
    constant on the network's own rows (closed form)."""
    for b, net in enumerate(nets):
        rows = torch.as_tensor(batch.rows(b))
        with torch.no_grad():
            net.W1.zero_()
            c = net(batch.X[:1] * 0, *(e[:1] for e in batch.extra))[0]
            want = problem.datafit.null_output(batch.Y[rows, b], batch.W[rows, b], n_outputs=c.shape[0])
            net.output_bias().add_(want.to(c) - c)


def _lambda_maxes(nets, problem, batch, step=1e-4):
    stack = StackedSPINN(nets)
    problem.objective(stack, *batch.data()).backward()
    pen = problem.penalty
    return np.array([lambda_max(stack.W1[b], stack.W1.grad[b], pen, step) for b in range(len(nets))])


def _raw_residuals(net, batch, b):
    with torch.no_grad():
        out = net(batch.X, *batch.extra)
    return (batch.Y[:, b].to(out.dtype) - out.reshape(-1)).double().cpu().numpy()


def _huber(problem, nets, batch):
    rows = batch.rows(0)
    w = batch.W[torch.as_tensor(rows), 0].double().cpu().numpy()  # the fit's sample weights
    return problem.with_datafit(Huber(HUBER_K * robust_scale(_raw_residuals(nets[0], batch, 0)[rows], w)))


def start(nets, problem: Problem, batch: Batch, how: str, seeds, estimate: bool = False) -> Start:
    """Put every network of ``batch`` at the start of its path.

    ``"zero"``: ``W1 = 0`` with the null model's output bias; the top is the classical
    ``lambda_max``. ``"screen"``: then a dense fit (all networks as one stack) on the inputs
    that pass :func:`~glassnet.paths.screen_features` on each network's training rows (the
    others stay at zero); the top is the larger of ``lambda_max`` and the lambda at which one
    proximal step (size ``lr``) removes every input. A network whose screen passes nothing
    starts at zero (Feng & Simon's path). After the dense fit a second screen (the linear
    statistic only, O(n p)) reads its residuals; a network whose mask it grows continues its
    dense fit from where it is (``SECOND_SCREEN_EPOCHS``, the new inputs' weights from zero).

    Robust regression (``problem.robust``) with ``estimate``: network 0's null residuals give a
    first Huber ``delta`` (``HUBER_K`` x their MAD scale); the screen reads the raw and the
    clipped residuals; the dense start is fitted with that loss, and network 0's residuals
    after it set the ``delta`` of the path (the returned problem).
    """
    if how not in STARTS:
        raise ValueError(f"start must be one of {STARTS}, got {how!r}")
    _null(nets, problem, batch)
    if problem.robust and estimate:
        problem = _huber(problem, nets, batch)
    lam_max = _lambda_maxes(nets, problem, batch)
    B = len(nets)
    if how == "zero" or not len(nets[0].upper):
        # a GLM (hidden=()) has no curvature to screen for: its linear gradient sees every input
        return Start(w1_ridge_where_correlated(problem, batch, None), lam_max, [None] * B)
    masks = [_screen(net, problem, batch, b, seeds[b]) for b, net in enumerate(nets)]
    masks = [m if m.any() else None for m in masks]
    problem = w1_ridge_where_correlated(problem, batch, masks[0])
    dense = [b for b in range(B) if masks[b] is not None]
    if dense:
        for b in dense:
            masked_start(nets[b], masks[b], generator(seeds[b]))
        _dense_fit(nets, masks, problem, batch, dense, DENSE_START_EPOCHS)
        # a second screen, linear only, on the dense fit's residuals (iterated screening, as Fan &
        # Lv's ISIS): an input that the strong ones mask in the null residuals shows in these.
        # The networks whose masks grow continue from their dense fit (the new inputs' weights
        # start at zero) for a few epochs: no redraw, so the first fit's basin is kept.
        grown = [b for b in dense if SECOND_SCREEN_EPOCHS and _grow(nets[b], masks, problem, batch, b, seeds[b])]
        if grown:
            _dense_fit(nets, masks, problem, batch, grown, SECOND_SCREEN_EPOCHS, SECOND_SCREEN_LR)
        if problem.robust and estimate:
            problem = _huber(problem, nets, batch)
        top = _lambda_maxes([nets[b] for b in dense], problem, batch.select(dense), min(problem.lr, 1.0))
        lam_max[dense] = np.maximum(lam_max[dense], top)
    return Start(problem, lam_max, masks)


def _screen(net, problem, batch, b, seed, second=False) -> np.ndarray:
    """:func:`~glassnet.paths.screen_features` on network b's training rows and its current
    residuals (for robust regression: the raw and the clipped ones); ``second``: the second
    screen's (linear statistic only, level ``SECOND_SCREEN_LEVEL``)."""
    with torch.no_grad():
        out = net(batch.X, *batch.extra)
    R = problem.datafit.residuals(out, batch.Y[:, b]).double().cpu().numpy()
    if problem.robust:  # heavy tails hide signal in the raw residuals, clipping in light ones
        R = np.column_stack([_raw_residuals(net, batch, b), R])
    if second and batch.extra:  # integrative: one residual column per data set (effects that
        # differ in sign between the sets cancel in the pooled residuals)
        m = batch.extra[0].cpu().numpy()
        R = np.column_stack([R * (m == k)[:, None] for k in np.unique(m)])
    rows = batch.rows(b)
    X = batch.X[torch.as_tensor(rows)].double().cpu().numpy()
    w = batch.W[torch.as_tensor(rows), b].double().cpu().numpy()  # the fit's sample weights
    if second:
        return screen_features(X, R[rows], seed, linear_only=True, level=SECOND_SCREEN_LEVEL,
                               sample_weight=w)
    return screen_features(X, R[rows], seed, sample_weight=w)


def w1_ridge_where_correlated(problem: Problem, batch: Batch, mask) -> Problem:
    """``problem`` with its ridge on ``W1`` kept only where the inputs in ``mask`` correlate on
    network 0's rows (:func:`_correlated`; no mask: off)."""
    if problem.w1_ridge and not _correlated(batch, mask):
        return replace(problem, w1_ridge=0.0)
    return problem


def _correlated(batch, mask) -> bool:
    """Whether two of network 0's screened inputs correlate beyond ``CORRELATED_INPUTS / sqrt(n)``
    on its n training rows (that many standard deviations of a sample correlation under
    independence)."""
    if mask is None or mask.ndim != 1 or mask.sum() < 2:
        return False
    rows = batch.rows(0)
    C = np.corrcoef(batch.X[torch.as_tensor(rows)][:, torch.as_tensor(mask)].double().cpu().numpy(), rowvar=False)
    np.fill_diagonal(C, 0.0)
    return bool(np.nanmax(np.abs(C)) > CORRELATED_INPUTS / np.sqrt(len(rows)))


def _grow(net, masks, problem, batch, b, seed) -> bool:
    """The second screen of network b: adds the inputs it passes to ``masks[b]``; whether any
    were new."""
    new = _screen(net, problem, batch, b, None if seed is None else seed + 1, second=True) & ~masks[b]
    masks[b] = masks[b] | new
    return bool(new.any())


def _dense_fit(nets, masks, problem, batch, which, epochs, lr=DENSE_START_LR):
    """Fit the networks ``which`` on their masks' inputs, from where they are, as one stack, on
    the path's smooth part (its ridges: the path starts at its own problem's dense optimum)."""
    fit_stack([nets[b] for b in which], [masks[b] for b in which], problem.objective, batch.select(which),
              lr, min(epochs, 5 * problem.max_epochs))


def _from_state(net, state, mask):
    net.load_state_dict(state)
    with torch.no_grad():
        MaskProjection(mask, net.W1)(net)  # W1 outside the mask zeroed, on W1's device
    return net


def relaxed(build, problem: Problem, batch: Batch, jobs, max_epochs=None, lr=None, init=None):
    """Relaxed refits (as the relaxed lasso): for each job ``(b, mask, (lambda_0, lambda_w1),
    seed)`` a fresh network on the inputs in ``mask`` only, fitted without the sparsity
    penalty to column ``b`` of ``batch`` (its rows and targets), with its own ridge; all
    trained as one stack. Returns the networks and their validation losses (on ``batch.V``;
    None without it). ``init``: one state per job to start from instead of a fresh draw (its
    ``W1`` columns outside the job's mask set to zero; None: a fresh draw)."""
    # at most 10 x the estimator's max_epochs (the defaults' 100-1000 are far below that)
    max_epochs = min(RELAX_EPOCHS if max_epochs is None else int(max_epochs), 10 * problem.max_epochs)
    init = [None] * len(jobs) if init is None else init
    nets = [masked_start(build(seed), mask, generator(seed)) if state is None else _from_state(build(seed), state, mask)
            for (_, mask, _, seed), state in zip(jobs, init, strict=True)]
    cols = torch.as_tensor([b for b, *_ in jobs])
    sub = Batch(batch.X, batch.Y[:, cols], batch.W[:, cols],
                None if batch.V is None else batch.V[:, cols], batch.extra)
    obj = Objective(problem.datafit, [r[0] for _, _, r, _ in jobs], [r[1] for _, _, r, _ in jobs])
    nets = fit_stack(nets, [m for _, m, _, _ in jobs], obj, sub, lr or RELAX_LR, max_epochs)
    if sub.V is None:
        return nets, None
    with torch.no_grad():
        val = Objective(problem.datafit).per_network(StackedSPINN(nets), *sub.val())
    return nets, val.double().cpu().numpy()
