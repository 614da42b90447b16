"""Helpers for training loops, as ``torch.nn.utils``: gradient clipping by norm or by value."""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0) -> Tensor:
    """Scale the gradients of ``parameters`` (a Tensor or an iterable of them; those without a
    gradient are skipped) in place so that their joint ``norm_type``-norm, taken over all of
    them as one vector, is at most ``max_norm``; returns that norm before clipping.

    As ``torch.nn.utils.clip_grad_norm_``: every gradient is multiplied by
    min(1, max_norm / (norm + 1e-6)), so a norm at or under ``max_norm`` leaves them (almost)
    as they are. ``norm_type`` may be ``math.inf`` (the largest absolute entry). The norm has
    the gradients' dtype and device.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    norm_type, max_norm = float(norm_type), float(max_norm)
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be positive, got {norm_type}")
    if not grads:
        return Tensor(0.0)
    if norm_type == math.inf:
        total = max(float(abs(g).max()) for g in grads)
    else:
        total = sum(float((abs(g) ** norm_type).sum()) for g in grads) ** (1.0 / norm_type)
    coef = min(1.0, max_norm / (total + 1e-6))
    for g in grads:
        g *= g.dtype.type(coef)
    return Tensor(np.asarray(total, dtype=grads[0].dtype), device=backend.device_of(grads[0]))


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp each entry of the gradients of ``parameters`` (a Tensor or an iterable of them;
    those without a gradient are skipped) in place to [-clip_value, clip_value], as
    ``torch.nn.utils.clip_grad_value_``: each entry on its own, unlike ``clip_grad_norm_``,
    which scales all of them together. A NaN stays NaN; the gradients keep their dtype and
    device. Returns None.
    """
    try:
        clip_value = float(clip_value)
    except (TypeError, ValueError):
        raise TypeError(
            f"clip_grad_value_: clip_value must be a number, got {type(clip_value).__name__}"
        ) from None
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    for p in parameters:
        if p.grad is not None:
            g = p.grad
            backend.array_module(g).clip(g, -clip_value, clip_value, out=g)
