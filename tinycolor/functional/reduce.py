"""Reductions: sum, mean, max, var, norm, prod, logsumexp over an axis (or several, or all),
the running sum cumsum, and topk, the k largest along an axis."""

from __future__ import annotations

import builtins
import math
import warnings
from typing import NamedTuple

import numpy as np

from ..autograd import Function, Tensor, torch_axis_names
from ..backend import array_module


def channel_sum(a):
    """The sum of an (N, C, ...) array over every axis but 1, as (C,), on raw arrays: each
    (n, c) row summed along its contiguous tail first, as the product of the (N C, L) matrix
    with a vector of ones (BLAS's gemv reads memory 5 to 8 times faster than NumPy's
    ``sum(axis=2)`` at batch 32 with 16 to 229 channels), then the N rows added. Used by
    batch_norm and the conv bias gradient."""
    xp = array_module(a)
    n, c = a.shape[:2]
    length = math.prod(a.shape[2:])  # not -1: an empty batch must reshape too
    rows = a.reshape(n * c, length)
    return (rows @ xp.ones(length, dtype=a.dtype)).reshape(n, c).sum(axis=0)


def _check_axis(axis):
    """Refuse an array or a Tensor for ``axis`` (torch.max(a, b) translated to F.max(a, b))."""
    if isinstance(axis, Tensor) or (hasattr(axis, "shape") and not isinstance(axis, np.integer)):
        raise TypeError(
            f"axis must be None, an int or a tuple of ints, got a {type(axis).__name__} of shape "
            f"{tuple(axis.shape)}; for the elementwise maximum of two tensors (torch.max(a, b)) "
            f"use F.maximum(a, b)"
        )
    return axis


def _axes(axis, ndim):
    """Normalise ``axis`` (None, int or tuple) to a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    _check_axis(axis)
    if isinstance(axis, int | np.integer):
        axis = (axis,)
    out = []
    for a in map(int, axis):
        if not -builtins.max(ndim, 1) <= a < builtins.max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
        if a % builtins.max(ndim, 1) in out:
            raise ValueError(f"dim {a % builtins.max(ndim, 1)} appears more than once in {axis}")
        out.append(a % builtins.max(ndim, 1))
    if ndim == 0:  # a 0-d tensor accepts axis 0 or -1, as in PyTorch, and reduces nothing
        return ()
    return tuple(sorted(set(out)))


def _expand(g, shape, axes, keepdims):
    """Give a reduced gradient back its reduced axes (size 1), ready to broadcast to shape."""
    if not keepdims:
        g = g.reshape([1 if i in axes else n for i, n in enumerate(shape)])
    return g


class Sum(Function):
    """z = sum_axis a;  dz/da = 1 (the gradient is broadcast back)."""

    def forward(self, a, axis=None, keepdims=False):
        self.shape, self.axes, self.keepdims = a.shape, _axes(axis, a.ndim), keepdims
        return a.sum(axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        xp = array_module(g)
        return xp.broadcast_to(_expand(g, self.shape, self.axes, self.keepdims), self.shape)


class Mean(Function):
    """z = sum_axis a / n;  dz/da = 1/n."""

    def forward(self, a, axis=None, keepdims=False):
        self.shape, self.axes, self.keepdims = a.shape, _axes(axis, a.ndim), keepdims
        self.n = 1
        for i in self.axes:
            self.n *= a.shape[i]
        return a.mean(axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        xp = array_module(g)
        g = _expand(g, self.shape, self.axes, self.keepdims) / self.n
        return xp.broadcast_to(g, self.shape)


class Max(Function):
    """z = max_axis a;  the gradient goes to the maximum, shared equally between ties.

    A slice holding NaN has the maximum NaN, equal to no element: its gradient is NaN
    throughout (0 / 0), as ``torch.amax``'s. With ``nan_ties`` (``torch.max(x)``, the full
    reduction, which shares it so) the NaN elements are the ties instead."""

    reduce = "max"

    def forward(self, a, axis=None, keepdims=False, nan_ties=False):
        self.axes, self.keepdims = _axes(axis, a.ndim), keepdims
        empty = [i for i in self.axes if a.shape[i] == 0]
        if empty:
            raise ValueError(
                f"{self.reduce}: dim {empty[0]} of shape {a.shape} is empty, and an empty "
                f"dim has no {self.reduce}imum; reduce along a non-empty dim"
            )
        z = getattr(a, self.reduce)(axis=self.axes, keepdims=True)  # no -max(-a): wraps ints
        mask = a == z
        if nan_ties and a.dtype.kind == "f":
            xp = array_module(a)
            mask |= xp.isnan(a) & xp.isnan(z)
        count = mask.sum(axis=self.axes, keepdims=True).astype(a.dtype)  # float: no float64 leak
        self.save_for_backward(mask, count)
        return z if keepdims else z.squeeze(axis=self.axes)

    def backward(self, g):
        mask, count = self.saved
        with np.errstate(divide="ignore", invalid="ignore"):  # a NaN slice: 0 / 0, quietly
            return _expand(g, mask.shape, self.axes, self.keepdims) * mask / count


class Min(Max):
    """z = min_axis a;  the gradient goes to the minimum, shared equally between ties."""

    reduce = "min"


def _degrees_of_freedom(op, n, ddof):
    """n - ddof, the divisor of var and std; 0 where it would be <= 0, with PyTorch's warning
    (the result is then nan, or inf where the elements differ, as PyTorch's)."""
    if n - ddof <= 0:
        warnings.warn(
            f"{op}(): degrees of freedom is <= 0 ({n} element(s) reduced, correction {ddof}): "
            f"the result is nan or inf. The correction should be less than the number of "
            f"elements reduced",
            UserWarning,
            stacklevel=4,
        )
        return 0
    return n - ddof


class Var(Function):
    """z = sum (a - mean)^2 / (n - ddof);  dz/da = 2 (a - mean) / (n - ddof)."""

    def forward(self, a, axis=None, keepdims=False, ddof=0):
        self.axes, self.keepdims = _axes(axis, a.ndim), keepdims
        n = math.prod(a.shape[i] for i in self.axes)
        self.denom = _degrees_of_freedom(type(self).__name__.lower(), n, ddof)
        centred = a - a.mean(axis=self.axes, keepdims=True)
        self.save_for_backward(centred)
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 degrees of freedom: nan, inf
            return (centred * centred).sum(axis=self.axes, keepdims=keepdims) / a.dtype.type(
                self.denom
            )

    def backward(self, g):
        (centred,) = self.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = centred.dtype.type(2) / centred.dtype.type(self.denom)
        return _expand(g, centred.shape, self.axes, self.keepdims) * centred * scale


class Std(Var):
    """z = sqrt(var);  dz/da = (a - mean) / ((n - ddof) z), 0 where z = 0 (a constant slice),
    as PyTorch's (the formula reads 0 / 0 there; sqrt's own gradient there is inf)."""

    def forward(self, a, axis=None, keepdims=False, ddof=0):
        xp = array_module(a)
        z = xp.sqrt(super().forward(a, axis, True, ddof))
        self.keepdims = keepdims
        self.saved = (*self.saved, z)
        return z if keepdims else z.squeeze(axis=self.axes)

    def backward(self, g):
        xp = array_module(g)
        centred, z = self.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            dz = (
                _expand(g, centred.shape, self.axes, self.keepdims)
                * centred
                / (centred.dtype.type(self.denom) * z)
            )
        return xp.where(z == 0, centred.dtype.type(0), dz)


class Norm(Function):
    """The vector p-norm over ``axis`` (all axes when None), as ``torch.linalg.vector_norm``:

        z = (sum |a|^p)^(1/p),   dz/da = sign(a) |a|^(p-1) / z^(p-1)   (= a / z for p = 2,
                                                                      sign(a) for p = 1);
        p = inf: z = max |a|, the gradient sign(a) shared equally between the ties;
        p = -inf: z = min |a|, likewise;   p = 0: z = the number of nonzeros, no gradient.

    Where z = 0 (a = 0 throughout) the gradient is 0, as PyTorch's (the formula reads 0 / 0),
    and so is it for 0 < p < 1 wherever a = 0 (there |a|^(p-1) is infinite)."""

    def forward(self, a, p=2.0, axis=None, keepdims=False):
        xp = array_module(a)
        self.axes, self.keepdims, self.p = _axes(axis, a.ndim), keepdims, p
        ax = self.axes
        if p == math.inf or p == -math.inf:
            if 0 in [a.shape[i] for i in ax]:
                raise ValueError(
                    f"norm: p={p} of an empty axis (the tensor is of shape {a.shape}) is undefined"
                )
            absa = xp.abs(a)
            z = absa.max(axis=ax, keepdims=True) if p > 0 else absa.min(axis=ax, keepdims=True)
        elif p == 0:
            z = (a != 0).sum(axis=ax, keepdims=True).astype(a.dtype)
        elif p == 1:
            z = xp.abs(a).sum(axis=ax, keepdims=True)
        elif p == 2:
            z = xp.sqrt((a * a).sum(axis=ax, keepdims=True))
        else:
            z = (xp.abs(a) ** p).sum(axis=ax, keepdims=True) ** (1 / p)
        self.save_for_backward(a, z)
        return z if keepdims else z.reshape([n for i, n in enumerate(z.shape) if i not in ax])

    def backward(self, g):
        a, z = self.saved
        xp = array_module(a)
        g, p = _expand(g, a.shape, self.axes, self.keepdims), self.p
        if p == math.inf or p == -math.inf:
            mask = xp.abs(a) == z
            count = mask.sum(axis=self.axes, keepdims=True).astype(a.dtype)
            return g * xp.sign(a) * mask / count
        if p == 0:
            return xp.zeros(a.shape, dtype=g.dtype)
        if p == 1:
            return g * xp.sign(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = xp.where(z == 0, 0, g / (z if p == 2 else z ** (p - 1)))
            if p == 2:
                return a * scale
            grad = xp.sign(a) * xp.abs(a) ** (p - 1) * scale
            return xp.where(a == 0, 0, grad) if p < 1 else grad


class Cumsum(Function):
    """z_i = sum_{j <= i} a_j along ``axis``;  dL/da_j = sum_{i >= j} g_i, the running sum of g
    taken from the other end."""

    def forward(self, a, axis):
        self.axis = axis
        return array_module(a).cumsum(a, axis=axis)

    def backward(self, g):
        xp = array_module(g)
        return xp.flip(xp.cumsum(xp.flip(g, self.axis), axis=self.axis), self.axis)


def _exclusive_cumprod(xp, a):
    """prod_{j < i} a_j along the last axis (1 at i = 0), by multiplication only."""
    out = xp.ones_like(a)
    if a.shape[-1] > 1:
        out[..., 1:] = xp.cumprod(a[..., :-1], axis=-1)
    return out


class Prod(Function):
    """z = prod_axis a;  dz/da_i = prod_{j != i} a_j.

    The product of the others is taken as (prod_{j < i} a_j) (prod_{j > i} a_j), two running
    products, never z / a_i: so a slice with one zero sends its gradient to that element alone
    (the product of the others), and one with two or more zeros sends none, exactly as
    PyTorch's gradient does, with no 0 / 0."""

    def forward(self, a, axis=None, keepdims=False):
        xp = array_module(a)
        self.axis, self.keepdims = axis, keepdims
        self.save_for_backward(a)
        return xp.asarray(a.prod(axis=axis, keepdims=keepdims))

    def backward(self, g):
        (a,) = self.saved
        xp = array_module(a)
        if self.axis is None:
            moved = a.reshape(-1)
        else:
            moved = xp.moveaxis(a, self.axis, -1)
            if not self.keepdims:
                g = xp.expand_dims(g, self.axis)
            g = xp.moveaxis(g, self.axis, -1)
        others = _exclusive_cumprod(xp, moved) * xp.flip(
            _exclusive_cumprod(xp, xp.flip(moved, -1)), -1
        )
        grad = others * g
        if self.axis is None:
            return grad.reshape(a.shape)
        return xp.moveaxis(grad, -1, self.axis)


class LogSumExp(Function):
    """z = log sum_axis e^a, computed as m + log sum_axis e^(a - m) with m the maximum (no
    overflow; m taken as 0 where it is infinite);  da = g e^(a - z) = g softmax(a)."""

    def forward(self, a, axis=None, keepdims=False):
        xp = array_module(a)
        self.axes, self.keepdims = _axes(axis, a.ndim), keepdims
        m = a.max(axis=self.axes, keepdims=True) if a.size else xp.zeros((1,) * a.ndim, a.dtype)
        m = xp.where(xp.isfinite(m), m, 0).astype(a.dtype, copy=False)
        with np.errstate(divide="ignore"):  # every element -inf: log 0 = -inf, as PyTorch's
            z = xp.log(xp.exp(a - m).sum(axis=self.axes, keepdims=True)) + m
        self.save_for_backward(a, z)
        ax = self.axes
        return z if keepdims else z.reshape([n for i, n in enumerate(z.shape) if i not in ax])

    def backward(self, g):
        a, z = self.saved
        return _expand(g, a.shape, self.axes, self.keepdims) * array_module(a).exp(a - z)


def _one_axis(op, dim, ndim):
    """``dim`` as an axis in range (a 0-d tensor takes 0 or -1, as PyTorch's), or a clear error."""
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    n = builtins.max(ndim, 1)
    if not -n <= dim < n:
        raise ValueError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return int(dim) % n


def cumsum(input, dim, *, dtype=None) -> Tensor:  # noqa: A002 - PyTorch's name
    """The running sum of ``input`` along ``dim``, as ``torch.cumsum``: z_i = x_0 + ... + x_i.
    ``dtype`` casts the input first."""
    if dtype is not None:
        input = input.astype(dtype)  # noqa: A001
    axis = _one_axis("cumsum", dim, input.ndim)
    if input.ndim == 0:
        return Sum.apply(input, axis=None, keepdims=False)
    return Cumsum.apply(input, axis=axis)


def prod(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:  # noqa: A002
    """The product of ``input``'s elements along ``dim`` (all of them when None), as
    ``torch.prod``; its gradient is PyTorch's where elements are zero too (see ``Prod``).
    ``dtype`` casts the input first."""
    if dtype is not None:
        input = input.astype(dtype)  # noqa: A001
    if dim is None:
        return Prod.apply(input, axis=None, keepdims=False)
    axis = _one_axis("prod", dim, input.ndim)
    if input.ndim == 0:
        return Sum.apply(input, axis=None, keepdims=False)
    return Prod.apply(input, axis=axis, keepdims=bool(keepdim))


# NumPy's axis= and keepdims=, or PyTorch's dim= and keepdim=, in either's order (x, axis,
# keepdims). max is torch.amax: the values only.


def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None) -> Tensor:  # noqa: A001
    axis, keepdims = torch_axis_names("sum", axis, keepdims, _torch_dim(axis, dim), keepdim)
    return Sum.apply(x, axis=_check_axis(axis), keepdims=keepdims)


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None) -> Tensor:
    axis, keepdims = torch_axis_names("mean", axis, keepdims, _torch_dim(axis, dim), keepdim)
    return Mean.apply(x, axis=_check_axis(axis), keepdims=keepdims)


def max(x, axis=None, keepdims=False, *, dim=None, keepdim=None) -> Tensor:  # noqa: A001
    """The largest values along ``axis`` (all axes when None), as ``torch.amax``: a tensor of
    values, not PyTorch's ``(values, indices)`` pair of ``x.max(dim)``; ``argmax`` gives the
    indices. For that reason ``dim=`` is refused here rather than read as ``axis``."""
    if dim is not None:
        raise TypeError(
            f"max(dim={dim!r}): tinycolor's max returns the values only (as torch.amax), not "
            f"PyTorch's (values, indices) pair; use x.max(axis={dim!r}) for the values and "
            f"x.argmax(axis={dim!r}) for the indices"
        )
    axis, keepdims = torch_axis_names("max", axis, keepdims, None, keepdim)
    # x.max() is torch.max(x), whose gradient goes to the NaNs of a NaN maximum; amax's not
    return Max.apply(x, axis=_check_axis(axis), keepdims=keepdims, nan_ties=axis is None)


def _correction(op, unbiased, correction):
    if correction is None:
        return 1 if unbiased else 0
    if unbiased is not True:
        raise TypeError(f"{op}: got both unbiased={unbiased!r} and correction={correction!r}")
    return correction


def _torch_dim(axis, dim):
    """PyTorch's ``dim=()`` (or []) reduces every dim, as None does; NumPy's ``axis=()``
    reduces none."""
    return None if axis is None and isinstance(dim, tuple | list) and not dim else dim


def var(
    x, axis=None, unbiased=True, keepdims=False, *, dim=None, keepdim=None, correction=None
) -> Tensor:
    """Variance, unbiased by default as in PyTorch (divide by n - 1; ``unbiased=False``
    divides by n, as NumPy's default). ``correction`` is PyTorch's newer spelling: divide by
    n - correction (1 unbiased, 0 biased). The arguments come in PyTorch's order, ``unbiased``
    before ``keepdims`` (``torch.var(x, 0, False)`` is the biased variance). Where n -
    correction <= 0 (the unbiased variance of one element) it is nan, with a warning, as
    PyTorch's."""
    axis, keepdims = torch_axis_names("var", axis, keepdims, _torch_dim(axis, dim), keepdim)
    ddof = _correction("var", unbiased, correction)
    return Var.apply(x, axis=_check_axis(axis), keepdims=keepdims, ddof=ddof)


def std(
    x, axis=None, unbiased=True, keepdims=False, *, dim=None, keepdim=None, correction=None
) -> Tensor:
    """The standard deviation, sqrt(var) with ``var``'s arguments; its gradient is 0 where it
    is 0 (a constant slice), as PyTorch's."""
    axis, keepdims = torch_axis_names("std", axis, keepdims, _torch_dim(axis, dim), keepdim)
    ddof = _correction("std", unbiased, correction)
    return Std.apply(x, axis=_check_axis(axis), keepdims=keepdims, ddof=ddof)


class ValuesIndices(NamedTuple):
    """What ``torch.max(x, dim)`` and ``torch.topk`` return: the values (in the graph) and
    their indices."""

    values: Tensor
    indices: Tensor


def _torch_extreme(name, x, dim, keepdim, other):
    from .elementwise import maximum, minimum  # noqa: PLC0415

    if other is not None or isinstance(dim, Tensor) or hasattr(dim, "shape"):
        b = other if other is not None else dim
        return (maximum if name == "max" else minimum)(x, b)  # torch.max(a, b)
    x = x if isinstance(x, Tensor) else Tensor(x)
    if dim is None:
        return getattr(x, name)()
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
        raise TypeError(f"{name}(x, dim): dim must be one axis (an int), got {dim!r}")
    d = _axes(dim, x.ndim)
    if not d:  # a 0-d tensor: itself, at index 0
        return ValuesIndices(x[()], Tensor(np.zeros((), np.int64), device=x.device))
    d = d[0]
    xp = array_module(x.data)
    index = getattr(x.data, f"arg{name}")(axis=d, keepdims=True)
    # the values picked by their indices, so that the gradient goes to that one element (a
    # tie's first), as PyTorch's; amax shares it between ties
    grid = [xp.arange(n).reshape([-1 if i == j else 1 for j in range(x.ndim)]) for i, n in
            enumerate(x.shape)]  # fmt: skip
    grid[d] = index
    values, indices = x[tuple(grid)], Tensor(index, _internal=True)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return ValuesIndices(values, indices)


def torch_max(input, dim=None, keepdim=False, *, other=None):  # noqa: A002 - PyTorch's name
    """``torch.max`` (``tinycolor.max``) with its three forms: ``max(x)`` the largest element;
    ``max(x, dim, keepdim=False)`` the pair ``(values, indices)`` along ``dim`` (the PyTorch
    tutorials' ``_, predicted = torch.max(outputs, 1)``), the gradient of each value going to
    the element its index names; ``max(a, b)`` the elementwise maximum. ``F.max`` and
    ``x.max(axis=...)`` are ``torch.amax``: the values alone, a tie sharing the gradient."""
    return _torch_extreme("max", input, dim, keepdim, other)


def torch_min(input, dim=None, keepdim=False, *, other=None):  # noqa: A002
    """``torch.min`` (``tinycolor.min``): ``torch_max``'s three forms, for the smallest."""
    return _torch_extreme("min", input, dim, keepdim, other)


class TopK(Function):
    """z = a taken at ``index`` along ``axis`` (k distinct positions per slice, which topk
    chose);  dL/da = g put back at those positions, zero elsewhere."""

    def forward(self, a, index, axis):
        self.index, self.axis, self.shape = index, axis, a.shape
        return array_module(a).take_along_axis(a, index, axis=axis)

    def backward(self, g):
        xp = array_module(g)
        grad = xp.zeros(self.shape, dtype=g.dtype)
        # one index array per axis, broadcast together: ``index`` along the axis, and every
        # position along the others (a scatter; the positions are distinct, so no sum is needed)
        where = [
            self.index if i == self.axis
            else xp.arange(n).reshape([-1 if j == i else 1 for j in range(g.ndim)])
            for i, n in enumerate(g.shape)
        ]  # fmt: skip
        grad[tuple(where)] = g
        return grad


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - PyTorch's names
    """The ``k`` largest elements of ``input`` along ``dim`` (the smallest with
    ``largest=False``), as ``torch.topk``: the pair ``(values, indices)``, the values in the
    graph (the gradient of each goes to the element its index names, nothing to the others),
    the indices int64 outside it. ``sorted=True`` orders each slice from the largest down
    (the smallest up when ``largest=False``); ``sorted=False`` leaves the order unspecified.

    NaN counts as larger than every number, as in PyTorch. Ties: the values are always the k
    largest, but which of several equal elements is taken (at the k-th place) and in which
    order equal values come is not specified, as in PyTorch (whose choice may differ): the
    indices always name elements holding the values returned, each at most once.

    One partial sort (``argpartition``) finds the k per slice in O(n), then only those k are
    sorted; ``k`` is 0 to the size of ``dim`` (a 0-d tensor is one element, k 0 or 1)."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    axis = _one_axis("topk", dim, x.ndim)
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise TypeError(f"topk: k must be an int, got {k!r}")
    n = x.shape[axis] if x.ndim else 1
    if not 0 <= k <= n:
        raise ValueError(
            f"topk: k={k} is out of range for dim {dim} of size {n} (expected 0 <= k <= {n})"
        )
    if x.ndim == 0:  # itself, at index 0 (PyTorch's answer for k = 0 too)
        return ValuesIndices(x[()], Tensor(np.zeros((), np.int64), device=x.device))
    a = x.data
    xp = array_module(a)
    k = int(k)
    if k == 0:
        index = xp.zeros((*a.shape[:axis], 0, *a.shape[axis + 1 :]), dtype=np.int64)
    elif largest:  # NumPy and CuPy put NaN after every number: the largest, as PyTorch has it
        index = xp.argpartition(a, n - k, axis=axis)
        index = index[(slice(None),) * axis + (slice(n - k, None),)]
    else:
        index = xp.argpartition(a, k - 1, axis=axis)[(slice(None),) * axis + (slice(0, k),)]
    if sorted and k > 1:
        order = xp.argsort(xp.take_along_axis(a, index, axis=axis), axis=axis)
        if largest:
            order = xp.flip(order, axis)
        index = xp.take_along_axis(index, order, axis=axis)
    index = xp.ascontiguousarray(index.astype(np.int64, copy=False))
    return ValuesIndices(TopK.apply(x, index=index, axis=axis), Tensor(index, _internal=True))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):  # noqa: A002 - PyTorch's name
    """The vector p-norm of ``input`` over ``dim`` (every element when None), as ``torch.norm``
    and ``Tensor.norm`` compute it (``torch.linalg.vector_norm``): ``p`` is 'fro' (the 2-norm,
    also over two axes: the Frobenius norm of a matrix), a number > 0 (2: sqrt(sum x^2),
    1: sum |x|), ``float('inf')`` (max |x|), ``-inf`` (min |x|) or 0 (the count of nonzeros).
    ``dtype`` casts the input first. The gradient at x = 0 is 0, as PyTorch's."""
    if isinstance(p, str):
        if p != "fro":
            raise ValueError(
                f"norm: p={p!r} is not supported; expected 'fro', a number >= 0, inf or -inf "
                "(the nuclear norm needs an SVD, which tinycolor has not)"
            )
        p = 2.0
    elif (
        isinstance(p, bool)
        or not isinstance(p, int | float | np.integer | np.floating)
        or math.isnan(p)
        or (p < 0 and p != -math.inf)
    ):
        raise ValueError(f"norm: p must be 'fro', a number >= 0, inf or -inf, got {p!r}")
    if dtype is not None:
        input = input.astype(dtype)  # noqa: A001
    return Norm.apply(input, p=float(p), axis=_check_axis(dim), keepdims=bool(keepdim))


def logsumexp(input, dim, keepdim=False) -> Tensor:  # noqa: A002 - PyTorch's name
    """log sum e^x along ``dim`` (an int or a tuple), as ``torch.logsumexp``: computed from
    the maximum, so large inputs do not overflow (log sum e^[1000, 1000] = 1000 + log 2). Its
    gradient is the softmax of x along ``dim``."""
    return LogSumExp.apply(input, axis=_check_axis(dim), keepdims=bool(keepdim))


def amax(input, dim=(), keepdim=False) -> Tensor:  # noqa: A002 - PyTorch's name
    """The largest values along ``dim`` (an int or a tuple; every axis when () or None), as
    ``torch.amax``: the values alone, the gradient shared equally between ties."""
    return Max.apply(input, axis=_check_axis(dim if dim != () else None), keepdims=bool(keepdim))


def amin(input, dim=(), keepdim=False) -> Tensor:  # noqa: A002
    """The smallest values along ``dim``, as ``torch.amin`` (see ``amax``)."""
    return Min.apply(input, axis=_check_axis(dim if dim != () else None), keepdims=bool(keepdim))


def min_values(x, axis=None, keepdims=False, *, keepdim=None) -> Tensor:
    """``Tensor.min``: the smallest values along ``axis`` (all axes when None), as ``max``."""
    axis, keepdims = torch_axis_names("min", axis, keepdims, None, keepdim)
    return Min.apply(x, axis=_check_axis(axis), keepdims=keepdims, nan_ties=axis is None)
