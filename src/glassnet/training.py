"""The one training loop every glassnet model uses (DESIGN.md rule 4).

``fit`` trains any ``torch.nn.Module`` given a loss function. It offers full-batch or
mini-batch passes, Adam / SGD / L-BFGS, a proximal step after each update (``prox``: pairs of
parameter and :class:`~glassnet.penalties.Penalty`), a projection hook for constrained
parameters, optional backtracking on the full objective, early stopping on a validation split,
seeding through local generators (the caller's global torch state is restored), one
progress display per job (:mod:`glassnet.progress`), a thread count chosen by problem size
(restored on exit) and a returned :class:`History`.

For image training at scale the same loop also takes (keyword options, all off by default):
a ``torch.utils.data.DataLoader`` (or any re-iterable of batches) as ``data``, ``device``
placement, SGD ``momentum`` / ``nesterov``, a per-epoch ``lr_schedule`` (e.g.
:class:`MultiStep`), ``checkpoint`` / ``resume`` (tensors and plain data only, loaded with
``weights_only=True``) and models wrapped in ``DistributedDataParallel`` (losses averaged over
ranks, the sampler's ``set_epoch`` called, checkpoints written by rank 0 only).
"""

from __future__ import annotations

import contextlib
import copy
import math
import numbers
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from glassnet.devices import resolve_device
from glassnet.progress import progress
from glassnet.utils import auto_threads, local_seed, resolve_seed, threads

__all__ = ["History", "MultiStep", "fit", "make_generator", "split_validation"]

OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "lbfgs": torch.optim.LBFGS}


@dataclass
class History:
    """What happened during :func:`fit`, one entry per epoch."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int = -1
    stopped_early: bool = False
    converged: bool = False  # stopped because ``converge_tol`` was met

    @property
    def n_epochs(self) -> int:
        return len(self.train_loss)

    def plot(self, ax=None):
        """Plot training (and validation) loss per epoch; returns the axes."""
        import matplotlib.pyplot as plt

        ax = ax if ax is not None else plt.subplots(figsize=(5, 3.5))[1]
        ax.plot(self.train_loss, label="train")
        if self.val_loss:
            ax.plot(self.val_loss, label="validation")
            if self.best_epoch >= 0:
                ax.axvline(self.best_epoch, ls=":", c="k", label="best")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend()
        return ax


@dataclass
class MultiStep:
    """Learning-rate factor ``gamma ** (number of milestones <= epoch)``; each milestone is an
    epoch (>= 1) or, in (0, 1), a fraction of ``max_epochs`` (the paper's 0.1 / 10 at 50% and
    75%: ``MultiStep((0.5, 0.75))``). Pass as ``fit(..., lr_schedule=...)``."""

    milestones: tuple = (0.5, 0.75)
    gamma: float = 0.1

    def __post_init__(self):
        ms = self.milestones
        if not isinstance(ms, (tuple, list)) or not all(
                isinstance(m, numbers.Real) and math.isfinite(m) and m > 0 for m in ms):
            raise ValueError(f"milestones must be a tuple of positive epochs or fractions, got {ms!r}")
        if not (isinstance(self.gamma, numbers.Real) and math.isfinite(self.gamma) and self.gamma > 0):
            raise ValueError(f"gamma must be a positive finite number, got {self.gamma!r}")

    def __call__(self, epoch: int, max_epochs: int) -> float:
        ms = [m * max_epochs if 0 < m < 1 else m for m in self.milestones]
        return self.gamma ** sum(epoch >= m for m in ms)


def _is_loader(data) -> bool:
    """A DataLoader-like re-iterable of batches: not a tuple/list of tensors, but a list of
    batch tuples is one."""
    if torch.is_tensor(data):  # iterable, but its rows are no batches
        return False
    if isinstance(data, (tuple, list)):
        return bool(data) and all(isinstance(b, (tuple, list)) for b in data)
    return isinstance(data, Iterable)


def _rank_world():
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _mean_over_ranks(value: float, device) -> float:
    _rank, world = _rank_world()
    if world == 1:
        return value
    import torch.distributed as dist

    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return float(t.item()) / world


def _unwrap(model):
    return model.module if hasattr(model, "module") and isinstance(model.module, torch.nn.Module) else model


def _loader_generator(loader):
    g = getattr(loader, "generator", None) if loader is not None else None
    return g if isinstance(g, torch.Generator) else None


def _save_checkpoint(path, model, opt, epoch, history, gen, best, bad, loader=None, scaler=None,
                     best_state=None, prev_obj=math.inf):
    state = {
        "prev_obj": torch.tensor(prev_obj, dtype=torch.float64),  # converge_tol's last objective
        "best_state": best_state,  # the restore_best parameters, so a resumed run can restore them
        "model": _unwrap(model).state_dict(),
        "optimizer": opt.state_dict(),
        "epoch": torch.tensor(epoch),
        "history": {k: v for k, v in asdict(history).items()},
        "generator": gen.get_state(),
        "torch_rng": torch.get_rng_state(),
        "best": torch.tensor(best, dtype=torch.float64),
        "bad": torch.tensor(bad),
    }
    if _loader_generator(loader) is not None:  # the DataLoader's shuffling resumes exactly too
        state["loader_generator"] = _loader_generator(loader).get_state()
    if scaler is not None:  # fp16 loss scale (plain numbers)
        state["scaler"] = scaler.state_dict()
    tmp = f"{path}.tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)  # never leave a half-written checkpoint


def _load_checkpoint(path, model, opt, gen, device, loader=None, scaler=None):
    state = torch.load(path, map_location=device or "cpu", weights_only=True)  # tensors + plain data
    _unwrap(model).load_state_dict(state["model"])
    if "loader_generator" in state and _loader_generator(loader) is not None:
        _loader_generator(loader).set_state(state["loader_generator"].cpu())
    try:
        opt.load_state_dict(state["optimizer"])
    except (KeyError, ValueError) as err:
        raise ValueError(f"checkpoint {path} was written with another optimizer or parameters "
                         f"({type(err).__name__}: {err}); resume with the same settings") from err
    if scaler is not None and "scaler" in state:
        scaler.load_state_dict(state["scaler"])
    gen.set_state(state["generator"].cpu())
    torch.set_rng_state(state["torch_rng"].cpu())
    h = state["history"]
    history = History(train_loss=list(h["train_loss"]), val_loss=list(h["val_loss"]), lr=list(h["lr"]),
                      best_epoch=int(h["best_epoch"]), stopped_early=bool(h["stopped_early"]),
                      converged=bool(h.get("converged", False)))
    return (int(state["epoch"]) + 1, history, float(state["best"]), int(state["bad"]),
            state.get("best_state"), float(state.get("prev_obj", math.inf)))


def make_generator(seed: int | None) -> torch.Generator:
    """A local torch generator (batch order); None: fresh entropy. Global state is untouched."""
    gen = torch.Generator()
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(int(seed))
    return gen


def split_validation(n: int, fraction: float, seed: int | None, stratify=None):
    """Indices (train, validation) for a held-out split; stratified when labels are given."""
    from sklearn.model_selection import train_test_split

    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), got {fraction}")
    idx = np.arange(n)
    if stratify is not None and len(stratify) != n:
        raise ValueError(f"stratify has {len(stratify)} labels for {n} samples")
    try:
        return train_test_split(idx, test_size=fraction, random_state=seed, stratify=stratify)
    except ValueError:  # too few members of a class to stratify: fall back to a plain split
        return train_test_split(idx, test_size=fraction, random_state=seed)


_AMP = {True: "bf16", "bf16": "bf16", "bfloat16": "bf16", "fp16": "fp16", "float16": "fp16"}


def _mixed_precision(amp, optimizer, device, model):
    """``(autocast context factory, GradScaler or None)`` for ``amp``; errors before any work."""
    if amp is None or amp is False:
        return contextlib.nullcontext, None
    kind = _AMP.get(amp) if isinstance(amp, (bool, str)) else None
    if kind is None:
        raise ValueError(f"amp must be False, True, 'bf16' or 'fp16', got {amp!r}")
    if optimizer == "lbfgs":
        raise ValueError("amp (mixed precision) does not combine with optimizer='lbfgs'")
    if device is None:
        first = next(iter(model.parameters()), None)
        device = first.device if first is not None else torch.device("cpu")
    dtype = torch.bfloat16 if kind == "bf16" else torch.float16
    if kind == "fp16" and device.type != "cuda":
        raise ValueError(f"amp='fp16' (float16 with a grad scaler) needs CUDA, the device is "
                         f"{device}; use amp='bf16' on {device.type}")
    scaler = torch.amp.GradScaler("cuda") if kind == "fp16" else None
    return (lambda: torch.autocast(device.type, dtype=dtype)), scaler


def _objective(model, loss_fn, data, prox):
    loss = loss_fn(model, *data)
    if prox:
        with torch.no_grad():
            loss = loss + sum(pen.value(p) for p, pen in prox)
    return loss


def fit(
    model: torch.nn.Module,
    loss_fn: Callable[..., torch.Tensor],
    data: Sequence[torch.Tensor] = (),
    *,
    val_data: Sequence[torch.Tensor] | None = None,
    val_fn: Callable[[torch.nn.Module], float] | None = None,
    optimizer: str = "adam",
    lr: float = 1e-2,
    weight_decay: float = 0.0,
    max_epochs: int = 100,
    batch_size: int | None = None,
    prox: Sequence[tuple[torch.nn.Parameter, object]] = (),
    project: Callable[[torch.nn.Module], None] | None = None,
    backtrack: bool = False,
    backtrack_factor: float = 0.8,
    patience: int | None = None,
    tol: float = 0.0,
    converge_tol: float | None = None,
    restore_best: bool = True,
    seed: int | None = None,
    verbose: bool | None = None,
    params: Sequence[torch.nn.Parameter] | None = None,
    n_threads: int | str | None = "auto",
    device: str | torch.device | None = None,
    momentum: float = 0.0,
    nesterov: bool = False,
    lr_schedule: Callable[[int, int], float] | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 1,
    resume: bool = False,
    on_epoch_end: Callable[[int, History], None] | None = None,
    amp: bool | str = False,
    channels_last: bool = False,
) -> History:
    """Train ``model`` in place by minimising ``loss_fn(model, *batch)``.

    Parameters
    ----------
    data:
        Tensors sharing their first dimension (samples); mini-batches slice all of them.
        An empty tuple means ``loss_fn(model)`` closes over its own data (always full batch).
    val_data, val_fn:
        Validation tensors (scored with ``loss_fn`` without gradient) or a callable
        ``val_fn(model) -> float``. Either enables early stopping with ``patience``.
    optimizer:
        ``"adam"``, ``"sgd"`` or ``"lbfgs"`` (full closure re-evaluation per step).
    prox:
        ``(parameter, penalty)`` pairs; after every optimiser step the parameter is replaced by
        ``penalty.prox(parameter, step)`` with ``step`` the current learning rate (proximal
        gradient; with Adam this is the usual approximation that uses the base rate).
    project:
        Called as ``project(model)`` under ``no_grad`` after every step (constraint sets).
    backtrack:
        Full-batch only: a step whose objective (loss + penalty values) rises is undone and the
        learning rate multiplied by ``backtrack_factor`` (Feng & Simon's rule).
    patience:
        Stop after this many epochs without a validation improvement larger than ``tol``;
        with ``restore_best`` the best parameters are put back.
    converge_tol:
        Stop once the training objective (epoch loss + penalty values) changes by less than
        ``converge_tol * max(1, |objective|)`` between two epochs (proximal-gradient paths).
    seed:
        Seeds a local generator for batch order and, inside the loop, torch's global generator
        (dropout and the like); the caller's global state is restored afterwards.
    verbose:
        ``None`` shows a progress bar only when stderr is a terminal. Inside an enclosing
        :func:`glassnet.progress.progress` block the epochs annotate that block's bar instead.
    n_threads:
        ``"auto"`` (default): one torch thread when the work per step (parameters x rows) is
        small, torch's setting otherwise; an int fixes it; None leaves it alone. Restored on exit.
    data (DataLoader form):
        A ``torch.utils.data.DataLoader`` (or any re-iterable yielding tuples of tensors) is
        iterated once per epoch (its own batch size, shuffling and workers; ``batch_size`` must
        then be None). A ``DistributedSampler``'s ``set_epoch`` is called every epoch.
    device:
        Move the model and every batch there (``"auto"``, ``"cuda"``, ``"cuda:1"``, ``"cpu"``,
        ``"mps"``, a ``torch.device``; :func:`glassnet.devices.resolve_device`, which raises a
        ``ValueError`` for an unknown or absent device); None: leave them where they are.
    amp:
        Mixed precision: ``True`` / ``"bf16"`` runs each loss under ``torch.autocast`` in
        bfloat16 (CPU or CUDA); ``"fp16"`` in float16 with a ``GradScaler`` (CUDA only).
        Parameters, optimiser state and validation stay in their own dtype. Not with L-BFGS.
    channels_last:
        Put the model and every 4-d batch in ``torch.channels_last`` memory format (faster
        convolutions on recent GPUs and oneDNN CPUs).
    momentum, nesterov:
        SGD's momentum and Nesterov flag (the paper's recipe: 0.9, True).
    lr_schedule:
        ``lr_schedule(epoch, max_epochs) -> factor``; the learning rate of epoch ``e`` is
        ``lr * factor(e)`` (e.g. :class:`MultiStep`). Not combinable with ``backtrack``.
    checkpoint, checkpoint_every, resume:
        Write model, optimiser, epoch, history and generator states to ``checkpoint`` every
        ``checkpoint_every`` epochs and at the end (rank 0 only under DDP). With ``resume`` and
        an existing file, training continues from the epoch after the saved one, exactly as
        the uninterrupted run would; a saved run that had stopped (early stopping or
        ``converge_tol``) trains no further, and one holding more than ``max_epochs`` epochs is
        a ``ValueError``.
    on_epoch_end:
        ``on_epoch_end(epoch, history)`` after each epoch (logging).
    """
    if torch.is_tensor(data):  # else tuple(data) would split it into rows
        raise ValueError("data must be a tuple of tensors such as (X, y), or a DataLoader; got "
                         "one tensor (pass (X,) for a loss of X alone)")
    if n_threads == "auto":
        if _is_loader(data):
            rows = getattr(data, "batch_size", None) or 1
        else:
            rows = 1 if not data else (data[0].shape[0] if batch_size is None else min(batch_size, data[0].shape[0]))
        n_threads = auto_threads(sum(p.numel() for p in model.parameters()) * rows)
    seed = resolve_seed(seed)  # a numpy Generator gives one int, used for both generators
    with threads(n_threads), local_seed(seed) if seed is not None else contextlib.nullcontext():
        return _fit(model, loss_fn, data, val_data=val_data, val_fn=val_fn, optimizer=optimizer,
                    lr=lr, weight_decay=weight_decay, max_epochs=max_epochs, batch_size=batch_size,
                    prox=prox, project=project, backtrack=backtrack,
                    backtrack_factor=backtrack_factor, patience=patience, tol=tol,
                    converge_tol=converge_tol, restore_best=restore_best, seed=seed,
                    verbose=verbose, params=params, device=device, momentum=momentum,
                    nesterov=nesterov, lr_schedule=lr_schedule, checkpoint=checkpoint,
                    checkpoint_every=checkpoint_every, resume=resume, on_epoch_end=on_epoch_end,
                    amp=amp, channels_last=channels_last)


def _optimizer(name, params, kwargs):
    """The torch optimiser; Adam fused into one kernel per step where this torch and device
    allow it (CPU since torch 2.4, CUDA): at the small sizes of the sparse families the
    per-tensor Python work of the plain Adam step is a large part of an epoch."""
    if name == "adam":
        try:
            return torch.optim.Adam(params, fused=True, **kwargs)
        except (RuntimeError, ValueError, TypeError):  # an older torch or an unsupported device
            pass
    return OPTIMIZERS[name](params, **kwargs)


def _check_count(name, v):
    """An int >= 1 (an integral float is accepted), else a ValueError naming ``name``."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not float(v).is_integer() or v < 1:
        raise ValueError(f"{name} must be an int >= 1, got {v!r}")
    return int(v)


def rounding_slack(f0, dtype):
    """How much an objective may seem to rise from rounding alone: a backtracking step is
    rejected only when its objective rises by more (a strict ``f1 <= f0`` rejected steps near a
    minimum for a last-bit difference and let the step size collapse to ~1e-6). ``f0``: a
    number, or a tensor of one objective per network (the path solver's stacks)."""
    eps8 = 8.0 * torch.finfo(dtype).eps
    if torch.is_tensor(f0):
        return eps8 * torch.clamp(f0.abs(), min=1.0)
    return eps8 * max(1.0, abs(float(f0)))


def _fit(model, loss_fn, data, *, val_data, val_fn, optimizer, lr, weight_decay, max_epochs,
         batch_size, prox, project, backtrack, backtrack_factor, patience, tol, converge_tol,
         restore_best, seed, verbose, params, device=None, momentum=0.0, nesterov=False,
         lr_schedule=None, checkpoint=None, checkpoint_every=1, resume=False,
         on_epoch_end=None, amp=False, channels_last=False) -> History:
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {optimizer!r}")
    max_epochs = _check_count("max_epochs", max_epochs)
    for name, v, ok, says in (("lr", lr, lambda x: x > 0, "> 0"),
                              ("backtrack_factor", backtrack_factor, lambda x: 0 < x < 1, "in (0, 1)")):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (math.isfinite(v) and ok(v)):
            raise ValueError(f"{name} must be a finite number {says}, got {v!r}")
    batch_size = None if batch_size is None else _check_count("batch_size", batch_size)
    patience = None if patience is None else _check_count("patience", patience)
    if val_data is not None and val_fn is not None:
        raise ValueError("give val_data or val_fn, not both (val_fn would be used alone)")
    if patience is not None and val_data is None and val_fn is None:
        warnings.warn("patience has no effect without val_data or val_fn: every epoch runs",
                      UserWarning, stacklevel=3)
    if optimizer == "lbfgs" and weight_decay:
        raise ValueError("optimizer='lbfgs' takes no weight_decay (torch's L-BFGS has none): "
                         "add the ridge term to the loss instead")
    if checkpoint is not None and not os.path.isdir(os.path.dirname(os.path.abspath(checkpoint))):
        raise ValueError(f"the folder of checkpoint {checkpoint} does not exist")
    loader = data if _is_loader(data) else None
    if loader is not None:
        if batch_size is not None:
            raise ValueError("batch_size must be None when data is a DataLoader (it has its own)")
        if backtrack:
            raise ValueError("backtrack=True needs full-batch tensors, not a DataLoader")
        data = ()
    data = tuple(data)
    n = data[0].shape[0] if data else 0
    if data and any(t.shape[0] != n for t in data):
        raise ValueError("all tensors in data must have the same number of samples")
    if data and n == 0:
        raise ValueError("data has no samples")
    if val_data is not None:
        if _is_loader(val_data) or torch.is_tensor(val_data) or not val_data:
            raise ValueError("val_data must be a tuple of tensors like data (or use val_fn)")
        if any(t.shape[0] != val_data[0].shape[0] for t in val_data) or val_data[0].shape[0] == 0:
            raise ValueError("the tensors in val_data must share a positive number of samples")
    if backtrack and batch_size is not None:
        raise ValueError("backtrack=True needs full-batch training (batch_size=None)")
    if backtrack and lr_schedule is not None:
        raise ValueError("backtrack and lr_schedule both set the learning rate; use one")
    if (momentum or nesterov) and optimizer != "sgd":
        raise ValueError("momentum / nesterov are SGD options (optimizer='sgd')")
    if checkpoint_every < 1:
        raise ValueError(f"checkpoint_every must be >= 1, got {checkpoint_every}")
    if device is not None:
        device = resolve_device(device)
    autocast, scaler = _mixed_precision(amp, optimizer, device, model)
    if device is not None:
        model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)

    def to_dev(batch):
        out = []
        for t in batch:
            if torch.is_tensor(t):
                if device is not None:
                    t = t.to(device, non_blocking=True)
                if channels_last and t.dim() == 4 and t.is_floating_point():
                    t = t.contiguous(memory_format=torch.channels_last)
            out.append(t)
        return tuple(out)

    data = to_dev(data)
    if val_data is not None:
        val_data = to_dev(val_data)
    gen = make_generator(seed)
    params = list(params) if params is not None else [p for p in model.parameters() if p.requires_grad]
    kwargs = {"lr": lr}
    if optimizer != "lbfgs":
        kwargs["weight_decay"] = weight_decay
    else:
        kwargs.update(line_search_fn="strong_wolfe", max_iter=20)
    if optimizer == "sgd" and (momentum or nesterov):
        kwargs.update(momentum=momentum, nesterov=nesterov)
    opt = _optimizer(optimizer, params, kwargs)
    prox = list(prox)
    monitor = val_data is not None or val_fn is not None
    history = History()
    last_f: list[float] = []  # cached objective of the current parameters (backtracking)

    def step(batch):
        def closure():
            opt.zero_grad()
            with autocast():
                loss = loss_fn(model, *batch)
            if not torch.is_tensor(loss) or loss.numel() != 1:
                raise ValueError(f"loss_fn must return a scalar tensor, got {type(loss).__name__}"
                                 + (f" of shape {tuple(loss.shape)}" if torch.is_tensor(loss) else ""))
            if scaler is not None:
                scaler.scale(loss).backward()
            else:
                loss.backward()
            return loss

        if backtrack:
            before = {k: v.detach().clone() for k, v in model.state_dict().items()}
            # full batch: the objective here is the accepted f1 of the previous step
            f0 = last_f[0] if last_f else _objective(model, loss_fn, batch, prox).item()
        while True:
            if scaler is not None:  # GradScaler steps without a closure
                loss = closure()
                scaler.step(opt)
                scaler.update()
            else:
                loss = opt.step(closure)
            with torch.no_grad():
                step_size = opt.param_groups[0]["lr"]
                for p, pen in prox:
                    p.copy_(pen.prox(p, step_size))
                if project is not None:
                    project(model)
            loss = float(loss.detach()) if torch.is_tensor(loss) else float(loss)
            if not backtrack:
                return loss
            f1 = _objective(model, loss_fn, batch, prox).item()
            if f1 <= f0 + rounding_slack(f0, params[0].dtype) or opt.param_groups[0]["lr"] < 1e-10:
                last_f[:] = [f1]
                return loss
            model.load_state_dict(before)
            for g in opt.param_groups:
                g["lr"] *= backtrack_factor

    best, best_state, bad = math.inf, None, 0
    prev_obj = math.inf
    start = 0
    rank, _ = _rank_world()
    if resume and checkpoint is not None and os.path.isfile(checkpoint):
        start, history, best, bad, best_state, prev_obj = _load_checkpoint(checkpoint, model, opt, gen,
                                                                           device, loader, scaler)
        if start > max_epochs:
            raise ValueError(f"checkpoint {checkpoint} holds {start} epochs, more than max_epochs="
                             f"{max_epochs}; resume with max_epochs >= {start} or start anew (resume=False)")
        if history.stopped_early or history.converged:
            start = max_epochs  # the saved run had stopped on its own: nothing is left to train
    with progress(total=max_epochs, desc="epoch", verbose=verbose) as bar:
        if start:
            bar.update(min(start, max_epochs))
        for epoch in range(start, max_epochs):
            model.train()
            if lr_schedule is not None:
                factor = float(lr_schedule(epoch, max_epochs))
                if not (math.isfinite(factor) and factor >= 0):
                    raise ValueError(f"lr_schedule gave the factor {factor} at epoch {epoch}; "
                                     "it must be finite and >= 0")
                for g in opt.param_groups:
                    g["lr"] = lr * factor
            if loader is not None:
                sampler = getattr(loader, "sampler", None)
                if hasattr(sampler, "set_epoch"):
                    sampler.set_epoch(epoch)
                losses = [step(to_dev(batch)) for batch in loader]
                if not losses:
                    raise ValueError("the DataLoader yielded no batches")
            elif not data or batch_size is None or batch_size >= n:
                losses = [step(data)]
            else:
                order = torch.randperm(n, generator=gen)
                losses = [step(tuple(t[order[i : i + batch_size]] for t in data)) for i in range(0, n, batch_size)]
                # the mean over samples: a short last batch weighs by its size
                sizes = [min(batch_size, n - i) for i in range(0, n, batch_size)]
                losses = [sum(v * m for v, m in zip(losses, sizes)) / n]
            train_loss = _mean_over_ranks(float(np.mean(losses)), device)
            if not math.isfinite(train_loss):
                raise FloatingPointError(
                    f"training loss became {train_loss} at epoch {epoch}; lower lr or use float64"
                )
            history.train_loss.append(train_loss)
            history.lr.append(opt.param_groups[0]["lr"])
            converged = False
            if converge_tol is not None:
                with torch.no_grad():
                    obj = train_loss + sum(float(pen.value(p)) for p, pen in prox)
                converged = abs(prev_obj - obj) <= converge_tol * max(1.0, abs(obj))
                prev_obj = obj
                history.converged = converged
            if monitor:
                model.eval()
                with torch.no_grad():
                    val = float(val_fn(model)) if val_fn is not None else float(loss_fn(model, *val_data))
                if not math.isfinite(val):
                    raise FloatingPointError(f"validation loss became {val} at epoch {epoch}")
                history.val_loss.append(val)
                if val < best - tol:
                    best, bad, history.best_epoch = val, 0, epoch
                    if restore_best:
                        best_state = copy.deepcopy(model.state_dict())
                else:
                    bad += 1
                bar.update(1, train=train_loss, val=val)
                stop = patience is not None and bad >= patience
                history.stopped_early = stop
            else:
                bar.update(1, train=train_loss)
                stop = False
            if on_epoch_end is not None:
                on_epoch_end(epoch, history)
            if checkpoint is not None and rank == 0 and (
                    (epoch + 1) % checkpoint_every == 0 or epoch + 1 == max_epochs or stop or converged):
                _save_checkpoint(checkpoint, model, opt, epoch, history, gen, best, bad, loader,
                                 scaler, best_state, prev_obj)
            if stop or converged:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history
