"""Numerical gradient checking: central differences against the autograd.

For a function f of tensors, draw a fixed random cotangent v of f's output shape and compare,
for every element x_i of every input that requires a gradient,

    autograd:  d(sum v * f)/dx_i           (one backward pass)
    numerical: (sum v * f(x_i + eps) - sum v * f(x_i - eps)) / (2 eps)

Central differences have an error of O(eps^2); in float64 with eps = 1e-6 the rounding error,
about 1e-16 / eps, stays near 1e-10, far below the tolerances. In float32 the rounding error
alone is about 1e-7 / 1e-6 = 0.1: that is why gradient checks run in float64.
"""

from __future__ import annotations

import numpy as np

from .autograd import Tensor, no_grad
from .backend import array_module, is_cupy_array, to_numpy


class GradcheckError(AssertionError):
    """The autograd and the numerical gradient disagree (the message names the worst element)."""


def _as_tensors(inputs):
    if isinstance(inputs, Tensor | np.ndarray) or is_cupy_array(inputs):  # one input, as PyTorch
        inputs = [inputs]
    out = []
    for x in inputs:
        if not isinstance(x, Tensor):  # a NumPy or CuPy array, on its own device
            x = Tensor(array_module(x).asarray(x, dtype=np.float64), requires_grad=True)
        out.append(x)
    return out


def numerical_grad(fn, inputs, cotangent, eps=1e-6):
    """d(sum cotangent * fn(*inputs))/d(input) by central differences, for each input."""
    grads = []
    with no_grad():
        for x in inputs:
            if not x.requires_grad:
                grads.append(None)
                continue
            xp = array_module(x.data)
            flat = x.data.reshape(-1)  # a view: x.data is a contiguous copy (see gradcheck)
            g = np.zeros(flat.size, dtype=np.float64)
            for i in range(flat.size):
                old = flat[i].item()
                flat[i] = old + eps
                plus = float(xp.sum(fn(*inputs).data * cotangent))
                flat[i] = old - eps
                minus = float(xp.sum(fn(*inputs).data * cotangent))
                flat[i] = old
                g[i] = (plus - minus) / (2 * eps)
            grads.append(g.reshape(x.shape))
    return grads


def gradcheck(fn, inputs, eps=1e-6, rtol=1e-5, atol=1e-6, seed=0) -> bool:
    """Check ``fn``'s autograd gradients against central differences.

    ``inputs`` is a list of tensors (float64; those with ``requires_grad`` are checked, at
    least one) or arrays (wrapped as float64 tensors that require grad), or a single one.
    ``fn(*inputs)`` returns a Tensor of any shape. Returns True, or raises GradcheckError
    naming the worst element.
    """
    inputs = _as_tensors(inputs)
    if not any(x.requires_grad for x in inputs):  # else it would pass having checked nothing
        raise ValueError(
            "gradcheck: no input requires grad, so there is nothing to check; make the inputs "
            "to check with requires_grad=True (or pass plain arrays)"
        )
    for i, x in enumerate(inputs):
        if x.requires_grad and x.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {x.dtype}; use float64 (rounding swamps eps)")
    # The checked inputs are perturbed in place: give each a private contiguous copy, so that
    # an array sharing its memory (x.detach(), the numpy array it was made from) stays put.
    originals = [x.data for x in inputs]
    try:
        for x in inputs:
            if x.requires_grad:
                x.data = array_module(x.data).array(x.data, copy=True, order="C")
        out = fn(*inputs)
        if not isinstance(out, Tensor):
            raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
        xp = array_module(out.data)
        v = np.random.default_rng(seed).standard_normal(out.shape)
        cotangent = xp.asarray(v, dtype=out.dtype)
        for x in inputs:
            x.grad = None
        if out.requires_grad:
            out.backward(cotangent)
        numeric = numerical_grad(fn, inputs, cotangent, eps)
    finally:
        for x, data in zip(inputs, originals):
            x.data = data
    for i, (x, num) in enumerate(zip(inputs, numeric)):
        if num is None:
            continue
        ana = np.zeros(x.shape) if x.grad is None else to_numpy(x.grad).astype(np.float64)
        err = np.abs(ana - num)
        bad = err > atol + rtol * np.abs(num)
        if bad.any():
            j = np.unravel_index(np.argmax(err - rtol * np.abs(num)), x.shape)
            none = (
                "; no gradient reached it (its .grad is None: did a backward return None for it?)"
                if x.grad is None
                else ""
            )
            raise GradcheckError(
                f"gradcheck: input {i} (shape {x.shape}): {int(bad.sum())} of {x.size} elements "
                f"differ{none}; worst at index {tuple(int(k) for k in j)}: autograd "
                f"{ana[j]:.8g}, numerical {num[j]:.8g} (|diff| {err[j]:.3g} > atol {atol} + "
                f"rtol {rtol} * |num|)"
            )
    return True
