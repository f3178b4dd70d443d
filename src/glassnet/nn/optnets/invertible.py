"""Memory-free heavy ball: the backward pass reconstructs activations instead of storing them.

The heavy-ball step of :class:`~glassnet.nn.optnets.OptStructure` without an activation after
the combination,

    x_{k+1} = T_k(x_k) + beta_1 x_k + beta_2 x_{k-1},                       (16)

is exactly invertible when ``beta_2 != 0``: given ``(x_k, x_{k+1})``,

    x_{k-1} = (x_{k+1} - T_k(x_k) - beta_1 x_k) / beta_2.

So a stack of such layers needs to keep only its last two states ``(x_{K-1}, x_K)`` for the
backward pass (as momentumnets, Sander et al. 2021, and reversible ResNets do): the backward pass
walks the recursion down, recomputing one ``T_k(x_k)`` at a time under autograd to get its
vector-Jacobian product and the previous state. Activation memory no longer grows with the
number of layers; the price is one extra forward of each ``T_k`` in the backward pass.

Floating point: the reconstructed states are not bit-identical to the forward ones. Each step
rounds, and the error is carried down the recursion: dividing by ``beta_2`` multiplies it by
``1/|beta_2|`` per layer (HB-Net's ``beta_2 = -1``: no growth from the division; a small momentum
as in momentumnets' ``gamma`` would amplify it like ``gamma^-K``), and the linear recursion
``e_{k-1} = (beta_1 I + J_k) e_k - ... `` can grow it further where ``T_k``'s Jacobian ``J_k`` is
large. docs/optnets.md reports the measured drift of HB-Net-20/56/110 in float32.

BatchNorm layers inside ``T_k`` see the same batch twice (forward and recomputation); their
running statistics are updated once, as without inversion: torch's BatchNorm layers are
recomputed with ``track_running_stats=False`` (in training mode the output is the same: it is
normalised by the batch), and the buffers of any other layer are saved and put back. ``T_k``
must be deterministic (no dropout); autocast state (``--amp``) is replayed in the
recomputation.

Speed: one training step costs a forward without autograd, then per block a forward with
autograd and its vector-Jacobian product, plus four elementwise passes (adjoint and
reconstruction), so about 4/3 of a stored-activation step. On the CPU under glibc the
recomputation would also fault its memory in again at every block (see
:func:`_keep_glibc_heap`); benchmarks/memory_speed.md has the measured ratios.
"""

from __future__ import annotations

import platform
import sys
from contextlib import contextmanager, nullcontext

import torch
from torch import nn

__all__ = ["check_invertible_transforms", "invertible_heavy_ball", "reconstruction_error"]


def check_invertible_transforms(modules) -> None:
    """``ValueError`` when a transform has randomness that a recomputation would redraw."""
    for m in modules:
        for sub in m.modules():
            if isinstance(sub, (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)):
                raise ValueError(
                    f"invertible=True recomputes each layer in the backward pass; {type(sub).__name__} "
                    "would draw another mask there (use invertible=False with dropout)")


def _autocast_state(device_type: str):
    try:
        return torch.is_autocast_enabled(device_type), torch.get_autocast_dtype(device_type)
    except (RuntimeError, TypeError):  # device type without autocast
        return False, None


def _step(structure, k, x, prev):
    """``T_k(x_k) + beta_1 x_k + beta_2 x_{k-1}`` with the structure's fixed coefficients."""
    t = structure._T(k, x)
    if t.shape != x.shape:
        raise ValueError(f"heavy ball needs T to keep the shape: layer {k} maps "
                         f"{tuple(x.shape)} to {tuple(t.shape)}")
    b0, b1 = structure._fixed[k]
    t_mod = structure.T[0] if structure.shared else structure.T[k]
    if not torch.is_grad_enabled() and _fresh(t, x, prev, *t_mod.parameters()):
        return t.add_(x, alpha=b0).add_(prev, alpha=b1)  # a fresh output: accumulate in place
    return torch.add(t, x, alpha=b0).add_(prev, alpha=b1)


class _InvertibleHB(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x0, x_prev, structure, *params):
        ctx.structure = structure
        ctx.autocast = (x0.device.type, *_autocast_state(x0.device.type))
        with torch.no_grad():
            prev, x = x_prev, x0
            for k in range(structure.depth):
                prev, x = x, _step(structure, k, x, prev)
        ctx.save_for_backward(prev, x)  # (x_{K-1}, x_K): all that the backward pass needs
        return x

    @staticmethod
    def backward(ctx, grad_out):
        st = ctx.structure
        x_km1_saved, x_K = ctx.saved_tensors  # x_{K-1}, x_K
        x_k1, x_k = x_K, x_km1_saved  # (x_{k+1}, x_k), k = K - 1
        if x_k.device.type == "cpu":
            _keep_glibc_heap()
        params = _params(st)  # the order apply() was given them in
        index = {id(p): i for i, p in enumerate(params)}
        grads: list = [None] * len(params)
        summed: set = set()  # gradients that are sums this function allocated
        # complete adjoints a_{k+1} = dL/dx_{k+1} and a_{k+2}; x_k's adjoint is
        # a_k = J_k^T a_{k+1} + beta_1^k a_{k+1} + beta_2^{k+1} a_{k+2} (layers k and k + 1 read x_k)
        a_k1, a_k2, b1_next = grad_out, None, 0.0
        device_type, enabled, dtype = ctx.autocast
        for k in reversed(range(st.depth)):
            t_mod = st.T[0] if st.shared else st.T[k]
            own = [p for p in t_mod.parameters() if p.requires_grad]
            with torch.enable_grad(), _frozen_stats(t_mod), (
                    torch.autocast(device_type, dtype=dtype) if enabled else nullcontext()):
                xk = x_k.detach().requires_grad_(True)
                t = st._T(k, xk)
            vjp = torch.autograd.grad(t, [xk, *own], a_k1.to(t.dtype), allow_unused=True)
            b0, b1 = st._fixed[k]
            with torch.no_grad():
                # fresh tensors of this loop are updated in place (never a saved tensor, an
                # input, a parameter, or a tensor that autograd also returned elsewhere)
                a_k = vjp[0] if vjp[0] is not None else torch.zeros_like(a_k1)
                if any(g is not None and _shares(a_k, g) for g in (a_k1, *vjp[1:])):
                    a_k = a_k.clone()  # e.g. T(x) = x + p: one tensor is dL/dx, dL/dp, a_{k+1}
                a_k.add_(a_k1, alpha=b0)
                if a_k2 is not None:
                    a_k.add_(a_k2, alpha=b1_next)
                # x_{k-1} = (x_{k+1} - T_k(x_k) - beta_1 x_k) / beta_2
                t = t.detach()
                if t.dtype != x_k.dtype or not _fresh(t, x_k, *own):
                    t = t.to(x_k.dtype, copy=True)
                x_km1 = t.add_(x_k, alpha=b0).sub_(x_k1)
                if b1 != -1.0:
                    x_km1.div_(-b1)
                for p, g in zip(own, vjp[1:]):  # a shared T: sum its layers' gradients
                    if g is None:
                        continue
                    i = index[id(p)]
                    if grads[i] is None:
                        grads[i] = g  # may be autograd's own tensor (e.g. T(x) = x + p)
                    elif i in summed:
                        grads[i].add_(g)  # a sum allocated below
                    else:
                        grads[i] = grads[i] + g
                        summed.add(i)
            del vjp, t
            x_k1, x_k = x_k, x_km1
            a_k1, a_k2, b1_next = a_k, a_k1, b1
        # a_k1 = dL/dx_0; x_{-1} is read by layer 0 only: dL/dx_{-1} = beta_2^0 a_1
        return (a_k1, torch.mul(a_k2, b1_next), None, *grads)


def _is_plain_batchnorm(m: nn.Module) -> bool:
    """A torch BatchNorm whose forward is torch's own (so ``track_running_stats`` decides)."""
    return (isinstance(m, nn.modules.batchnorm._BatchNorm)
            and type(m).forward is nn.modules.batchnorm._BatchNorm.forward)


@contextmanager
def _frozen_stats(module: nn.Module):
    """Recompute ``module`` without moving its running statistics: torch's BatchNorm layers in
    training mode normalise by the batch either way, so they run with
    ``track_running_stats=False`` (same output, no update); the buffers of any other layer are
    saved and put back."""
    bns, saved = [], []
    for m in module.modules():
        if _is_plain_batchnorm(m):
            if m.training and m.track_running_stats:
                bns.append(m)
            continue  # in eval mode (or untracked) torch's BatchNorm updates nothing
        saved.extend((b, b.detach().clone()) for b in m.buffers(recurse=False))
    for m in bns:
        m.track_running_stats = False
    try:
        yield
    finally:
        for m in bns:
            m.track_running_stats = True
        with torch.no_grad():
            for b, v in saved:
                b.copy_(v)


# glibc's malloc returns the top of its heap to the system once more than its trim threshold is
# free there; the threshold adapts (twice the largest mmapped block freed, at most 64 MiB) and is
# 8 MiB at batch 64. The per-block recomputation allocates and frees some 40 MiB (CIFAR stage 1,
# batch 64) above the states it keeps, so every block would fault its memory in again (~100k
# page faults, 0.2 CPU s, per HB-Net-110 step). Freeing one untouched 32 MiB mmapped block raises
# the adaptive thresholds to their maximum, as glibc itself does after any such free.
_GLIBC_HINT_BYTES = 32 * 2**20 - 2**16
_glibc_hint_done = False


def _keep_glibc_heap() -> None:
    """Once per process, on Linux with glibc: allocate and free (never touch) a 32 MiB block,
    which sets glibc's adaptive mmap / trim thresholds to 32 / 64 MiB. The process then keeps up
    to 64 MiB of freed heap for reuse instead of returning it to the system (invertible
    HB-Net-110, batch 64, fresh processes: peak RSS 555-570 MB in three runs with the hint,
    553-591 MB without; benchmarks/memory*.md: no cost beyond the noise). A process that set
    ``MALLOC_TRIM_THRESHOLD_`` or ``mallopt`` keeps its own settings (glibc then ignores this);
    other allocators (jemalloc, tcmalloc, macOS) are not affected."""
    global _glibc_hint_done
    if _glibc_hint_done:
        return
    _glibc_hint_done = True
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        del_me = torch.empty(_GLIBC_HINT_BYTES, dtype=torch.uint8)  # never written: no pages
        del del_me


def _shares(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


def _fresh(t: torch.Tensor, *others: torch.Tensor) -> bool:
    """``t`` shares memory with none of ``others`` (so it may be overwritten)."""
    return not any(_shares(t, o) for o in others)


def _params(structure):
    return [p for p in structure.T.parameters() if p.requires_grad]


def invertible_heavy_ball(structure, x0: torch.Tensor, x_prev: torch.Tensor) -> torch.Tensor:
    """``x_K`` of the heavy-ball ``structure`` from ``(x_0, x_{-1})``, with activations rebuilt
    in the backward pass (see the module docstring)."""
    return _InvertibleHB.apply(x0, x_prev, structure, *_params(structure))


@torch.no_grad()
def reconstruction_error(structure, x0: torch.Tensor, x_prev: torch.Tensor | None = None) -> float:
    """How far the backward recursion lands from the true input: run the heavy-ball layers
    forward, walk them back from ``(x_{K-1}, x_K)``, and return
    ``max |x_0' - x_0| / max |x_0|`` (0 in exact arithmetic; rounding makes it positive).
    BatchNorm running statistics are left as they were."""
    x_prev = x0 if x_prev is None else x_prev
    saved = [b.detach().clone() for b in structure.buffers()]
    prev, x = x_prev, x0
    for k in range(structure.depth):
        prev, x = x, _step(structure, k, x, prev)
    x_k1, x_k = x, prev
    for k in reversed(range(structure.depth)):
        b0, b1 = structure._fixed[k]
        x_k1, x_k = x_k, (x_k1 - structure._T(k, x_k) - b0 * x_k) / b1
    for buf, v in zip(structure.buffers(), saved):
        buf.copy_(v)
    return float((x_k1 - x0).abs().max() / x0.abs().max().clamp_min(1e-30))
