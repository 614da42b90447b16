"""Dropout (Srivastava et al., 2014), inverted as in PyTorch: the scaling happens in training."""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd import Function, Tensor

__all__ = ["dropout", "dropout2d"]


class Dropout(Function):
    """y = x * m / (1 - p), with m_i ~ Bernoulli(1 - p) drawn afresh for every element;
    dy/dx = m / (1 - p).

    Dividing by 1 - p keeps E[y] = x, so evaluation needs no rescaling: there dropout is the
    identity. The mask comes from ``tinycolor.backend.rng(device)``, so ``manual_seed(n)``
    makes it reproducible.
    """

    def forward(self, x, p, mask_shape=None):
        gen = backend.rng(backend.device_of(x))
        draw = np.float64 if x.dtype == np.float64 else np.float32
        keep = (
            gen.random(x.shape if mask_shape is None else mask_shape, dtype=draw) >= p
        )  # P(u >= p) = 1 - p for u ~ U[0, 1)
        mask = keep.astype(x.dtype)
        mask *= 1.0 / (1.0 - p)
        self.save_for_backward(mask)
        return x * mask

    def backward(self, g):
        (mask,) = self.saved
        return g * mask


def _check_p(name, p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
        raise ValueError(f"{name}: p must be a probability in [0, 1), got {p!r}")


def dropout(x, p=0.5, training=True, inplace=False) -> Tensor:
    """Zero each element of ``x`` with probability ``p`` and scale the rest by 1 / (1 - p)
    when ``training``; return ``x`` unchanged otherwise, or when p = 0. As
    ``torch.nn.functional.dropout`` (p must lie in [0, 1)); ``inplace`` is accepted for its
    signature, and the input is never overwritten."""
    _check_p("dropout", p)
    if not isinstance(x, Tensor):
        x = Tensor(x, _internal=True)
    if not training or p == 0:
        return x
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"dropout: expected a floating-point input, got {x.dtype}")
    return Dropout.apply(x, p=float(p))


def dropout2d(input, p=0.5, training=True, inplace=False) -> Tensor:  # noqa: A002
    """Zero whole channels of an (N, C, H, W) input, each (n, c) map with probability ``p``,
    and scale the rest by 1 / (1 - p) when ``training``, as ``F.dropout2d`` (Tompson et al.,
    2015: neighbouring pixels are correlated, so dropping single ones regularises little). The
    identity otherwise, or when p = 0; ``inplace`` is accepted and the input never overwritten.
    A 3-D input is refused: PyTorch reads it as one unbatched (C, H, W) image, which this
    library asks to be written (1, C, H, W)."""
    _check_p("dropout2d", p)
    if not isinstance(input, Tensor):
        input = Tensor(input, _internal=True)  # noqa: A001
    if input.ndim != 4:
        raise ValueError(
            f"dropout2d: expected a 4-D input (N, C, H, W), got shape {input.shape}; an image "
            "(C, H, W) is x.unsqueeze(0)"
        )
    if not training or p == 0:
        return input
    if not np.issubdtype(input.dtype, np.floating):
        raise TypeError(f"dropout2d: expected a floating-point input, got {input.dtype}")
    return Dropout.apply(input, p=float(p), mask_shape=(*input.shape[:2], 1, 1))
