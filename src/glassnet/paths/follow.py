"""Warm-started regularisation paths of a stack of networks (the engine's solver).

:func:`follow` runs Feng & Simon's proximal gradient with backtracking along a lambda grid for
B networks at once (the full data and every CV fold, or one network alone): each network has
its own step size, its own backtracking (a step whose objective rises is undone for that
network only, its step multiplied by 0.8) and its own stopping rule (relative change of its
objective below ``tol``), so network b follows exactly the path it would follow alone,
while the Python work per epoch is paid once for the B of them. With B = 1 it is the
iterative algorithm of :func:`glassnet.training.fit` with ``backtrack=True`` (tested).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import numpy as np
import torch

from glassnet.datafits import Datafit, Objective
from glassnet.model_selection import PathRecord
from glassnet.paths.stack import Batch, MaskProjection
from glassnet.penalties import Penalty, group_norms
from glassnet.training import rounding_slack

__all__ = ["Problem", "follow"]

_BACKTRACK = 0.8  # Feng & Simon's step-size factor
_GROWTH = 1.0 / _BACKTRACK  # between path points a step may grow back by one factor
_MAX_EXTEND = 60  # grid points added above the top until the dense-to-sparse path is empty


@dataclass(frozen=True)
class Problem:
    """A penalised sparse-input problem, typed and frozen: the datafit, the upper-layer ridge,
    the sparsity penalty and the solver's options; ``w1_ridge``: a ridge on ``W1`` as well,
    ``w1_ridge x lambda_0`` (0: none). A Huber datafit whose scale is estimated at the start
    is replaced by a new Problem (:meth:`with_datafit`), never mutated."""

    datafit: Datafit
    lambda_0: float
    penalty: Penalty
    optimizer: str = "sgd"
    lr: float = 2.0
    max_epochs: int = 300
    tol: float = 1e-5
    robust: bool = False  # Huber's loss with its scale estimated at the start
    w1_ridge: float = 0.0

    @property
    def objective(self) -> Objective:
        """The smooth part: the datafit and the ridges."""
        return Objective(self.datafit, self.lambda_0, self.lambda_0 * self.w1_ridge)

    @property
    def data_loss(self) -> Objective:
        return Objective(self.datafit)

    def with_datafit(self, datafit: Datafit) -> Problem:
        return replace(self, datafit=datafit)


def _values(stack, problem, pen, batch, graph=False):
    """(B,) smooth part (datafit + ridge) and penalty of every network; with ``graph`` also
    the smooth part with its autograd graph (the next epoch's gradient at this point)."""
    with torch.set_grad_enabled(graph):
        smooth = problem.objective.per_network(stack, *batch.data())
    with torch.no_grad():
        g = pen.values(stack.W1).to(smooth.dtype)
    return smooth.detach().double(), g.double(), (smooth if graph else None)


def _bshape(t, p):
    return t.view(-1, *([1] * (p.dim() - 1))).to(p.dtype)


def _solve(stack, problem, pen, batch, lr, active, project):
    """Proximal gradient at one lambda until every active network has converged; returns the
    step sizes and the epochs each network ran."""
    params = list(stack.parameters())
    B = lr.shape[0]
    dev = lr.device
    s0, g0, carried = _values(stack, problem, pen, batch, graph=True)
    f0 = s0 + g0
    g1 = torch.zeros(B, dtype=torch.float64, device=dev)
    f_prev = torch.full((B,), float("inf"), dtype=torch.float64, device=dev)
    epochs = torch.zeros(B, dtype=torch.long, device=dev)
    adam = problem.optimizer == "adam"
    opt = torch.optim.Adam(params, lr=problem.lr) if adam else None
    for _ in range(problem.max_epochs):
        if not active.any():
            break
        stack.zero_grad(set_to_none=True)
        # the smooth part at this point was computed, with its graph, by the last evaluation
        carried.sum().backward()
        smooth = carried.detach().double()
        old = [p.detach().clone() for p in params]
        pending = active.clone()
        while True:
            with torch.no_grad():
                if adam:
                    opt.step()
                for p, o in zip(params, old):
                    # Adam moved every network: the inactive ones go back to where they were
                    new, other = (p.detach().clone(), o) if adam else (o - _bshape(lr, p) * p.grad, p)
                    p.copy_(torch.where(_bshape(pending, p).bool(), new, other))
                stack.W1.copy_(torch.where(_bshape(pending, stack.W1).bool(), pen.proxes(stack.W1, lr), stack.W1))
                if project is not None:
                    project(stack)
            # the evaluation that ends this loop is at the parameters the next epoch starts from
            s1, p1, carried = _values(stack, problem, pen, batch, graph=True)
            f1 = s1 + p1
            if adam:  # no backtracking: every active network takes Adam's step
                f0, g1 = torch.where(pending, f1, f0), torch.where(pending, p1, g1)
                break
            ok = (f1 <= f0 + rounding_slack(f0, stack.W1.dtype)) | (lr < 1e-10)
            f0 = torch.where(pending & ok, f1, f0)
            g1 = torch.where(pending & ok, p1, g1)
            reject = pending & ~ok
            if not reject.any():
                break
            with torch.no_grad():
                for p, o in zip(params, old):
                    p.copy_(torch.where(_bshape(reject, p).bool(), o, p))
            lr = torch.where(reject, lr * _BACKTRACK, lr)
            pending = reject
        epochs += active.long()
        # the stopping rule of training.fit: the epoch's loss (before its step) plus the
        # penalty after it, against the previous epoch's
        obj = smooth + g1
        done = active & ((f_prev - obj).abs() <= problem.tol * torch.clamp(obj.abs(), min=1.0))
        f_prev = torch.where(active, obj, f_prev)
        active = active & ~done
    return lr, epochs


def follow(nets, problem: Problem, batch: Batch, lambdas, *, up: bool = False, masks=None,
           extend: bool = False, keep_state=None, state_at=None, cols=None, bar=None):
    """The paths of ``nets`` (one per column of ``batch``) over the grid ``lambdas``
    (decreasing), warm-started from where the networks are; per network a list of
    :class:`~glassnet.model_selection.PathRecord` in decreasing lambda, and the grid (extended
    when ``extend``).

    ``up=False``: down the grid from ``W1 = 0`` (a point where a network has no input left is
    undone: ``W1 = 0`` is a saddle from which smaller lambdas would never leave). ``up=True``:
    up the grid from a dense fit restricted to ``masks`` (LassoNet's dense-to-sparse direction:
    an even effect or an interaction cannot re-enter through its gradient once it has left);
    with ``extend`` the path continues upward with the grid's ratio until network 0 has no
    input left. ``keep_state[b]``: store network b's parameters in its records (the full
    data's fit), not only its losses (the folds'); ``state_at``: only at these lambdas.
    ``cols``: the input columns the stack computes on (default: the union of the masks). A
    network's arithmetic depends on the columns, not on the other networks, so fits that must
    not depend on how they were grouped (folds split over workers) pass the same ``cols``.
    """
    from glassnet.nn.spinn import StackedSPINN

    lambdas = np.asarray(lambdas, dtype=float)
    if lambdas.ndim != 1 or lambdas.size == 0 or np.any(lambdas < 0) or not np.all(np.isfinite(lambdas)):
        raise ValueError("lambdas must be a non-empty 1-d sequence of finite non-negative numbers")
    if np.any(np.diff(lambdas) > 0):
        raise ValueError("lambdas must be in decreasing order (up=True walks the grid upward)")
    B, p = batch.size, batch.X.shape[1]
    keep_state = [True] * B if keep_state is None else list(keep_state)
    if masks is not None:
        masks = np.stack([np.asarray(m, bool) for m in masks])
        if cols is None:
            cols = np.flatnonzero(masks.reshape(-1, p).any(0))
        elif masks.reshape(-1, p)[:, np.setdiff1d(np.arange(p), cols)].any():
            raise ValueError("cols must include every column of the masks")
    cols = np.arange(p) if cols is None else np.asarray(cols)
    stack = StackedSPINN(nets, cols)
    project = None if masks is None else MaskProjection(masks[..., cols], stack.W1)
    sub = replace(batch, X=batch.X[:, torch.as_tensor(cols)])
    order = list(lambdas[::-1]) if up else list(lambdas)
    dev = batch.X.device
    lr = torch.full((B,), float(problem.lr), dtype=torch.float64, device=dev)
    records = [[] for _ in range(B)]
    i = 0
    while i < len(order) or (up and extend and len(lambdas) > 1 and records[0] and records[0][-1].n_selected
                             and i < len(lambdas) + _MAX_EXTEND):
        if i >= len(order):  # extension above the top of the grid
            order.append(order[-1] * float(lambdas[0] / lambdas[1]))
        lam = order[i]
        before = [p.detach().clone() for p in stack.parameters()]
        pen = problem.penalty.with_lambda(lam)
        active = torch.ones(B, dtype=torch.bool, device=dev)
        lr, epochs = _solve(stack, problem, pen, sub, lr, active, project)
        lr = torch.clamp(lr * _GROWTH, max=float(problem.lr))
        with torch.no_grad():
            tr = problem.data_loss.per_network(stack, *sub.data())
            va = problem.data_loss.per_network(stack, *sub.val()) if sub.V is not None else None
        for b in range(B):
            norms = np.zeros(p)
            norms[cols] = group_norms(stack.W1[b].detach()).cpu().numpy()
            sel = norms > 0
            state = {}
            if keep_state[b] and (state_at is None or lam in state_at):
                stack.unstack_one(nets[b], b)
                state = copy.deepcopy(nets[b].state_dict())
            records[b].append(PathRecord(float(lam), sel, int(sel.sum()), float(tr[b]),
                                         None if va is None else float(va[b]), norms, int(epochs[b]),
                                         state))
            if not up and not sel.any():
                with torch.no_grad():
                    for prm, o in zip(stack.parameters(), before):
                        prm[b] = o[b]
        if bar is not None:
            bar.update(1, n_selected=records[0][-1].n_selected)
        i += 1
    stack.unstack(nets)
    grid = np.array(order[::-1] if up else order)
    return [r[::-1] if up else r for r in records], grid

