"""Penalty objects: ``value(w)`` and ``prox(w, step)`` on torch tensors (DESIGN.md rule 3).

``prox(w, step)`` returns ``argmin_x 1/(2 step) ||x - w||^2 + penalty(x)``. Models never
re-derive proximal steps; they take a penalty object and the training loop applies it.
"""

from __future__ import annotations

import torch

__all__ = ["L1", "PENALTIES", "Penalty", "get_penalty", "soft_threshold"]


def soft_threshold(x: torch.Tensor, kappa) -> torch.Tensor:
    """S_kappa(x) = sign(x) max(|x| - kappa, 0) (IRLS-ADMM eq. 22); kappa may be a tensor."""
    return torch.sign(x) * torch.clamp(torch.abs(x) - kappa, min=0.0)


class Penalty:
    """Base class. Subclasses set ``lambda_`` and implement ``value`` and ``prox``."""

    lambda_: float

    def value(self, w: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def prox(self, w: torch.Tensor, step: float) -> torch.Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"

    @staticmethod
    def _check_lambda(lambda_: float) -> float:
        lambda_ = float(lambda_)
        if not lambda_ >= 0:
            raise ValueError(f"lambda_ must be >= 0, got {lambda_}")
        return lambda_


class L1(Penalty):
    """lambda * ||w||_1; prox is soft thresholding at lambda * step."""

    def __init__(self, lambda_: float = 1.0):
        self.lambda_ = self._check_lambda(lambda_)

    def value(self, w):
        return self.lambda_ * w.abs().sum()

    def prox(self, w, step):
        return soft_threshold(w, self.lambda_ * step)


PENALTIES: dict[str, type[Penalty]] = {"l1": L1}


def get_penalty(penalty, lambda_: float | None = None) -> Penalty:
    """A Penalty from an object or a registered name (``lambda_`` used with a name)."""
    if isinstance(penalty, Penalty):
        return penalty
    if isinstance(penalty, str) and penalty.lower() in PENALTIES:
        cls = PENALTIES[penalty.lower()]
        return cls(lambda_) if lambda_ is not None else cls()
    raise ValueError(f"unknown penalty {penalty!r}; use a Penalty object or one of {sorted(PENALTIES)}")
