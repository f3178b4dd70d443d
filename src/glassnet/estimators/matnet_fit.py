"""The fitting machinery of the MatNet estimators (:mod:`glassnet.estimators.matnet`): one
training run, the choice of the weight decay with ``lam="auto"`` on an internal validation
split, and sample weights. Every setting below was chosen on tuning splits (module docstring of
:mod:`glassnet.estimators.matnet`)."""

from __future__ import annotations

import copy
import math

import numpy as np
import torch

from glassnet.estimators.base import torch_dtype
from glassnet.model_selection import choose, cv_path
from glassnet.progress import progress
from glassnet.training import fit as train
from glassnet.training import split_validation
from glassnet.utils import fit_context

LAM_GRID = (1e-4, 1e-3, 1e-2)  # lam="auto": candidates scored on the internal validation split
AUTO_VALIDATION_FRACTION = 0.2  # the validation part used by lam="auto" when none is given
MIN_SAMPLES_FOR_SELECTION = 10  # below this, no split: the grid's value nearest LAM_FALLBACK
LAM_FALLBACK = 1e-3
AUTO_PATIENCE = 7  # lam="auto": a candidate stops after this many epochs without progress
REFIT_EPOCHS_FACTOR = 1.25  # lam="auto": the refit on all rows runs this many times the
# chosen candidate's epochs to its best validation loss (it sees 1/(1 - fraction) more rows)
AUTO_EARLY_STOP_MIN_ROWS = 100  # lam="auto": candidates stop early (and the refit is shortened)
# only when the validation part has this many rows; on fewer, every run takes max_epochs


def _rows(data, idx):
    return tuple(t[idx] for t in data)


def _weighted_mean(per_sample, w):
    """Mean of the per-sample losses, weighted by ``w`` (mean 1 over the training rows) if any."""
    return per_sample.mean() if w is None else (per_sample * w).mean()


def _count(module: torch.nn.Module) -> int:
    return int(sum(p.numel() for p in module.parameters()))


class _MatNetFit:
    """Mixin of the MatNet estimators: ``lam``'s grid, one training run, the ``lam="auto"``
    choice and refit, and the rows and weights of a weighted fit."""

    def _lam_grid(self):
        """``(grid, fixed)``: the weight-decay candidates, or a single fixed value."""
        lam = self.lam  # declared: "auto", a finite number >= 0 or a grid of them
        if isinstance(lam, str):
            return tuple(LAM_GRID), None
        if isinstance(lam, (list, tuple, np.ndarray)):
            return tuple(float(v) for v in lam), None
        return None, float(lam)

    def _train(self, build, loss_fn, lam, data, stratify, seed, val=None, val_fn=None,
               patience=None, max_epochs=None, start=None, holdout=True):
        """One training run of a fresh module with weight decay ``lam``; returns (module, history).

        ``data`` is ``(X, y)`` or ``(X, y, sample_weight)`` (tensors, rows first).
        ``val=(train_data, val_data)`` gives the split explicitly (``lam="auto"``'s candidates,
        scored by ``val_fn`` and stopped after ``patience`` epochs without progress);
        ``max_epochs`` overrides the estimator's (the refit after the choice); ``start``: a
        module to continue from (a copy of it is trained) instead of a fresh one. ``holdout``:
        hold out ``validation_fraction`` for early stopping (a fixed ``lam``); off for the
        refit of a chosen ``lam``, which trains on all rows."""
        module = build() if start is None else copy.deepcopy(start)
        module = module.to(torch_dtype(self.dtype)).to(data[0].device)  # on the fit's device
        if start is None:
            module.normalize_rows_()  # the authors' initialisation: unit-norm rows
        val_data = None
        if val is not None:
            data, val_data = val
        elif self.validation_fraction is not None and holdout:
            tr, va = split_validation(data[0].shape[0], self.validation_fraction, seed, stratify)
            tr, va = torch.as_tensor(tr), torch.as_tensor(va)
            val_data, data = _rows(data, va), _rows(data, tr)
        history = train(
            module,
            lambda m, *batch: loss_fn(m, *batch, lam=lam),
            data,
            val_data=None if val_data is None or val_fn is not None else val_data,
            val_fn=val_fn,
            optimizer=self.optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs if max_epochs is None else max_epochs,
            batch_size=self.batch_size,
            # unit norm is a reparametrisation; the projection only rescales stored rows (same
            # function) and is skipped for L-BFGS, whose curvature pairs it would invalidate
            project=(lambda m: m.normalize_rows_())
            if self.unit_norm and self.optimizer != "lbfgs" else None,
            patience=self.patience if val is None else patience,
            seed=seed,
            verbose=self.verbose,
            device=data[0].device,
        )
        if self.unit_norm:
            module.normalize_rows_()  # stored rows = effective rows
        return module, history

    def _fit_module(self, build, loss_fn, data_loss, data, stratify=None, device=None, warm=True):
        """Choose ``lam`` (when asked) on an internal validation split, then fit on all data.

        ``loss_fn(model, X, y[, w], lam=lam)`` is the training objective, ``data_loss(model, X,
        y[, w])`` the validation score (the data term alone, so candidates are compared on the
        same scale); ``data`` is ``(X, y)`` or ``(X, y, w)`` with weights of mean 1.
        The data move to ``device`` once; the fitted module comes back to the CPU. With
        ``warm_start`` (and ``warm``: the caller's targets match the last fit's), a previous
        module of the same architecture continues training at the previous ``lam_`` (or the
        fixed ``lam``) without a new choice of ``lam``.
        """
        device = torch.device("cpu") if device is None else device
        data = tuple(t.to(device) for t in data)
        n = data[0].shape[0]
        grid, fixed = self._lam_grid()
        start = self._warm_module(build) if warm else None
        epochs = {}  # candidate lam -> epochs to its best validation loss (lam="auto")
        with fit_context(self.random_state) as seed:
            scores = []
            if start is not None:
                lam = self.lam_ if fixed is None else fixed
                module, history = self._train(build, loss_fn, lam, data, stratify, seed, start=start,
                                              holdout=fixed is not None)
            elif grid is not None and len(grid) > 1 and n >= MIN_SAMPLES_FOR_SELECTION:
                frac = self.validation_fraction or AUTO_VALIDATION_FRACTION
                split = [tuple(torch.as_tensor(i) for i in split_validation(n, frac, seed, stratify))]
                with progress(total=len(grid) + 1, desc="lam", verbose=self.verbose) as bar:

                    patience = self.patience or AUTO_PATIENCE

                    def score_grid(k, tr, va):  # one held-out loss per candidate lam
                        out = []
                        held_out = _rows(data, va)
                        stop = len(va) >= AUTO_EARLY_STOP_MIN_ROWS  # else too noisy to stop on

                        def val_fn(m):  # the data loss alone: candidates on one scale
                            return float(data_loss(m, *held_out))

                        for g in grid:
                            module, h = self._train(build, loss_fn, g, data, stratify, seed,
                                                    val=(_rows(data, tr), held_out if stop else None),
                                                    val_fn=val_fn if stop else None,
                                                    patience=patience if stop else None)
                            with torch.no_grad():  # stopped: the best epoch's parameters (restored)
                                v = val_fn(module)
                            epochs[g] = h.best_epoch + 1 if stop else h.n_epochs
                            out.append(v if math.isfinite(v) else math.nan)
                            bar.update(1, lam=g, val=out[-1])
                        return out

                    # the engine's table and rule (one validation split as the one "fold")
                    losses = cv_path(score_grid, split)
                    scores = losses[0].tolist()
                    lam = grid[choose(losses, "min")[0]]
                    refit_epochs = min(self.max_epochs,
                                       max(1, math.ceil(REFIT_EPOCHS_FACTOR * epochs[lam])))
                    module, history = self._train(build, loss_fn, lam, data, stratify, seed,
                                                  max_epochs=refit_epochs, holdout=False)
                    bar.update(1)
            else:
                # too few rows to split: the grid's value nearest LAM_FALLBACK (log scale)
                lam = fixed if fixed is not None else min(
                    grid, key=lambda g: abs(math.log(g / LAM_FALLBACK)) if g > 0 else math.inf)
                module, history = self._train(build, loss_fn, lam, data, stratify, seed,
                                              holdout=fixed is not None)
        self.lam_ = float(lam)
        if start is None:  # a warm start keeps the record of how lam_ was chosen
            self.lam_scores_ = [(float(g), float(v)) for g, v in zip(grid or (), scores)]
            self.lam_epochs_ = [(float(g), int(epochs[g])) for g in (grid or ()) if g in epochs]
        self.history_ = history
        self.module_ = module.cpu()
        self.device_ = str(device)
        self.n_iter_ = history.n_epochs
        self.n_parameters_ = _count(module)
        return self

    def _warm_module(self, build):
        """The last fit's module when ``warm_start`` is on and it is the module ``build`` makes
        now (same shapes, activations, head and ``unit_norm``: its constructor arguments), else
        None."""
        if not (getattr(self, "warm_start", False) and hasattr(self, "module_")):
            return None
        return self.module_ if self.module_.init_args == build().init_args else None

    @staticmethod
    def _mean_one(w):
        """Weights scaled to mean 1 (the losses are weighted means), None when all are equal
        (so that such fits stay exactly the unweighted ones)."""
        if w is None or np.all(w == w[0]):
            return None
        w = w / w.max()  # first: the mean of weights near the float maximum overflows
        return w / w.mean()
