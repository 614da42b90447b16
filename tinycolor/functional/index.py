"""Picking and testing elements, as ``torch`` does: gather, scatter, scatter_add, index_select,
sort, argsort, unbind and narrow (in the graph: the gradient goes back to the elements picked),
and argmax, argmin, nonzero, count_nonzero, any, all, isnan, isinf, isfinite, isclose, allclose
and equal (outside it: indices, booleans and counts have no gradient, as in PyTorch)."""

from __future__ import annotations

import builtins

import numpy as np

from .. import backend
from ..autograd import (
    Function,
    Tensor,
    _check_same_device,
    as_tensor_like,
    compared_with,
    torch_axis_names,
)
from .reduce import ValuesIndices, _axes, _one_axis
from .shape import getitem

__all__ = [
    "all",
    "allclose",
    "any",
    "bitwise_and",
    "bitwise_not",
    "bitwise_or",
    "bitwise_xor",
    "argmax",
    "argmin",
    "argsort",
    "count_nonzero",
    "equal",
    "gather",
    "index_select",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "narrow",
    "nonzero",
    "scatter",
    "scatter_add",
    "sort",
    "unbind",
]


def _scatter_add(out, idx, g):
    """out[idx] += g, adding where an index repeats (``add.at`` on NumPy, ``cupyx.scatter_add``
    on CuPy)."""
    if backend.array_module(out) is np:
        np.add.at(out, idx, g)
    else:  # CuPy
        import cupyx  # noqa: PLC0415

        cupyx.scatter_add(out, idx, g)


def _along(xp, index, axis):
    """The advanced index that reads ``a[i_0, .., index[i_0, .., i_n], .., i_n]`` for every
    position of ``index``: ``index`` on ``axis``, an arange broadcast along each other axis."""
    nd = index.ndim
    return tuple(
        index if i == axis else xp.arange(n).reshape([-1 if j == i else 1 for j in range(nd)])
        for i, n in enumerate(index.shape)
    )


class Gather(Function):
    """z[i, j, k] = a[i, index[i, j, k], k] (for axis 1; any axis alike), z of index's shape;
    da = g scattered back to the positions index names, adding where one is named twice."""

    def forward(self, a, index, axis):
        self.grid, self.in_shape = _along(backend.array_module(a), index, axis), a.shape
        return a[self.grid]

    def backward(self, g):
        out = backend.array_module(g).zeros(self.in_shape, dtype=g.dtype)
        _scatter_add(out, self.grid, g)
        return out


class Sort(Gather):
    """z = a permuted along ``axis`` by ``index`` (a sort: every position taken once);
    da = g put back where each value came from. A permutation: one assignment fills every
    place, where ``Gather``'s scatter-add (for indices named twice) is three times slower."""

    def backward(self, g):
        out = backend.array_module(g).empty(self.in_shape, dtype=g.dtype)
        out[self.grid] = g
        return out


def _index(op, index, input, ndim=None):  # noqa: A002 - PyTorch's name
    """``index`` as an integer tensor on ``input``'s device, its values checked in range."""
    index = as_tensor_like(index, (input,), promote=False)
    _check_same_device(op, [input, index])
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor (dtype=tc.long), got {index.dtype}")
    if ndim is not None and index.ndim not in ndim:
        raise ValueError(f"{op}: index must be {ndim[-1]}-D, got shape {index.shape}")
    return index


def _check_range(op, index, n, axis, shape):
    if index.size and not (0 <= int(index.min()) and int(index.max()) < n):
        raise IndexError(
            f"{op}: index out of range for dim {axis} of size {n} (input of shape {shape}): "
            f"got values from {int(index.min())} to {int(index.max())}"
        )


def gather(input, dim, index) -> Tensor:  # noqa: A002 - PyTorch's name
    """The elements of ``input`` named along ``dim`` by ``index``, as ``torch.gather``:
    ``out[i][j] = input[i][index[i][j]]`` for dim 1. ``index`` is an integer tensor with as many
    axes as ``input``, no longer than it on the other axes; the result has its shape. The
    gradient adds back into the elements picked (twice for an element named twice):
    ``logits.gather(1, target.unsqueeze(1))`` picks each row's target score."""
    input = as_tensor_like(input)  # noqa: A001
    index = _index("gather", index, input)
    axis = _one_axis("gather", dim, input.ndim)
    if index.ndim != input.ndim or builtins.any(
        index.shape[d] > input.shape[d] for d in range(input.ndim) if d != axis
    ):
        raise ValueError(
            f"gather: index of shape {index.shape} must have as many dimensions as the input "
            f"{input.shape} and be no larger on each dimension but dim {dim}"
        )
    _check_range("gather", index.data, input.shape[axis] if input.ndim else 1, dim, input.shape)
    if input.ndim == 0:
        return input * 1
    return Gather.apply(input, index=index.data, axis=axis)


class Scatter(Function):
    """z = a, then z[i, index[i, j, k], k] = src[i, j, k] (for axis 1; any axis alike) for every
    position of index; da = g where nothing was written, dsrc = g gathered back at index (zero
    where src is larger than index). With ``add`` the writes add instead: da = g."""

    def forward(self, a, src, index, axis, add):
        self.grid = _along(backend.array_module(a), index, axis)
        self.src_shape, self.add = src.shape, add
        out = a.copy()
        picked = src[tuple(slice(n) for n in index.shape)]
        if add:
            _scatter_add(out, self.grid, picked)
        else:
            out[self.grid] = picked
        return out

    def backward(self, g):
        da = g
        if not self.add:
            da = g.copy()
            da[self.grid] = 0
        dsrc = g[self.grid]
        if dsrc.shape != self.src_shape:
            full = backend.array_module(g).zeros(self.src_shape, dtype=g.dtype)
            full[tuple(slice(n) for n in dsrc.shape)] = dsrc
            dsrc = full
        return da, dsrc


def _scatter_args(op, input, dim, index, src):  # noqa: A002
    """``input``, the checked integer ``index``, the axis, and ``src`` as a tensor of index's
    shape or larger (a number becomes one, filled with it)."""
    input = as_tensor_like(input)  # noqa: A001
    index = _index(op, index, input)
    axis = _one_axis(op, dim, input.ndim)
    number = not isinstance(src, Tensor) and np.ndim(src) == 0 and not backend.is_cupy_array(src)
    if not number:
        src = as_tensor_like(src, (input,))
        _check_same_device(op, [input, src])
        if src.dtype != input.dtype:
            raise TypeError(
                f"{op}: src has dtype {src.dtype} but the input {input.dtype}; expected the "
                f"same (src.to(input.dtype))"
            )
    if (
        index.ndim != input.ndim
        or builtins.any(index.shape[d] > input.shape[d] for d in range(input.ndim) if d != axis)
        or (not number and (
            src.ndim != index.ndim
            or builtins.any(i > n for i, n in zip(index.shape, src.shape))
        ))
    ):  # fmt: skip
        raise ValueError(
            f"{op}: index of shape {index.shape} must have as many dimensions as the input "
            f"{input.shape} and be no larger on each dimension but dim {dim}"
            + ("" if number else f", and no larger than src {src.shape} on any")
        )
    _check_range(op, index.data, input.shape[axis] if input.ndim else 1, dim, input.shape)
    if number:
        xp = backend.array_module(input.data)
        src = Tensor(xp.full(index.shape, src, dtype=input.dtype), _internal=True)
    return input, index.data, axis, src


def _scatter(op, input, dim, index, src, add):  # noqa: A002
    input, index, axis, src = _scatter_args(op, input, dim, index, src)  # noqa: A001
    if input.ndim == 0:  # as one element of a 1-D tensor
        one = Scatter.apply(input.reshape(1), src.reshape(1), index=index.reshape(1), axis=0,
                            add=add)  # fmt: skip
        return one.reshape(())
    return Scatter.apply(input, src, index=index, axis=axis, add=add)


def scatter(input, dim, index, src) -> Tensor:  # noqa: A002 - PyTorch's name
    """A copy of ``input`` with ``src``'s elements written where ``index`` names along ``dim``,
    as ``torch.scatter`` (gather's inverse): ``out[i][index[i][j]] = src[i][j]`` for dim 1.
    ``index`` is an integer tensor with as many axes as ``input``, no longer than it on the other
    axes and no longer than ``src`` on any; ``src`` a tensor of input's dtype or a number
    written everywhere index names: ``tc.zeros((n, c)).scatter(1, y.unsqueeze(1), 1.0)`` is a
    one-hot. Where index names one place twice, which value lands there is unspecified (as in
    PyTorch). The gradient goes to input where nothing was written and to src gathered back at
    index (to every src element, even one a repeated index overwrote, as PyTorch's)."""
    return _scatter("scatter", input, dim, index, src, add=False)


def scatter_add(input, dim, index, src) -> Tensor:  # noqa: A002 - PyTorch's name
    """A copy of ``input`` with ``src``'s elements added where ``index`` names along ``dim``,
    as ``torch.scatter_add``: ``out[i][index[i][j]] += src[i][j]`` for dim 1, both added where
    one place is named twice (a per-class sum: ``tc.zeros(c).scatter_add(0, y, x)``). Shapes
    as ``scatter``'s. The gradient goes to input whole and to src gathered back at index."""
    return _scatter("scatter_add", input, dim, index, src, add=True)


def index_select(input, dim, index) -> Tensor:  # noqa: A002
    """The slices of ``input`` along ``dim`` at the positions in the 1-D integer ``index``, in
    its order, as ``torch.index_select``: ``index_select(x, 0, idx)`` is ``x[idx]``. A
    position named twice is copied twice, and its gradient is the sum of both."""
    input = as_tensor_like(input)  # noqa: A001
    index = _index("index_select", index, input, ndim=(0, 1))
    axis = _one_axis("index_select", dim, input.ndim)
    n = input.shape[axis] if input.ndim else 1
    _check_range("index_select", index.data, n, dim, input.shape)
    if input.ndim == 0:
        return input * 1
    return getitem(input, (slice(None),) * axis + (index.data.reshape(-1),))


def _sort_indices(xp, a, axis, descending):
    """The stable argsort of ``a`` along ``axis``; descending keeps ties in their order and puts
    NaN first, as PyTorch's (the ascending sort of the reversed array, reversed back)."""
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    return xp.flip(n - 1 - xp.argsort(xp.flip(a, axis), axis=axis, kind="stable"), axis)


def sort(input, dim=-1, descending=False, stable=False) -> ValuesIndices:  # noqa: A002
    """``input`` sorted along ``dim``, as ``torch.sort``: the pair ``(values, indices)``,
    ``values`` in the graph (each value's gradient goes back to the element it came from) and
    ``indices`` where each came from along ``dim``. NaN sorts as the largest value. The sort is
    always stable here (equal values keep their order), so ``stable`` changes nothing."""
    input = as_tensor_like(input)  # noqa: A001
    axis = _one_axis("sort", dim, input.ndim)
    if input.ndim == 0:
        zero = backend.array_module(input.data).zeros((), dtype=np.int64)
        return ValuesIndices(input * 1, Tensor(zero, _internal=True))
    xp = backend.array_module(input.data)
    idx = _sort_indices(xp, input.data, axis, descending).astype(np.int64, copy=False)
    return ValuesIndices(Sort.apply(input, index=idx, axis=axis), Tensor(idx, _internal=True))


def argsort(input, dim=-1, descending=False, stable=False) -> Tensor:  # noqa: A002
    """The indices that sort ``input`` along ``dim`` (int64), as ``torch.argsort``: ``sort``'s
    indices."""
    return sort(input, dim, descending, stable).indices


def unbind(input, dim=0) -> tuple:  # noqa: A002
    """The slices of ``input`` along ``dim``, that axis removed, as ``torch.unbind``:
    ``a, b = pair.unbind(1)``. Each is in the graph."""
    input = as_tensor_like(input)  # noqa: A001
    if input.ndim == 0:
        raise ValueError("unbind: cannot unbind a 0-D tensor")
    axis = _one_axis("unbind", dim, input.ndim)
    return tuple(getitem(input, (slice(None),) * axis + (i,)) for i in range(input.shape[axis]))


def narrow(input, dim, start, length) -> Tensor:  # noqa: A002
    """``length`` elements of ``input`` along ``dim`` from ``start`` (negative: from the end),
    a view in the graph, as ``torch.narrow``: ``x.narrow(1, 2, 3)`` is ``x[:, 2:5]``."""
    input = as_tensor_like(input)  # noqa: A001
    if input.ndim == 0:
        raise ValueError("narrow: cannot narrow a 0-D tensor")
    axis = _one_axis("narrow", dim, input.ndim)
    n = input.shape[axis]
    start, length = int(start), int(length)
    first = start + n if start < 0 else start
    if not -n <= start <= n or length < 0 or first + length > n:
        raise IndexError(
            f"narrow: start {start} and length {length} do not fit in dim {dim} of size {n} "
            f"(input of shape {input.shape}); expected -{n} <= start <= {n} and "
            f"start + length <= {n}"
        )
    return getitem(input, (slice(None),) * axis + (slice(first, first + length),))


# --------------------------------------------------------------------------- no gradient


def _data(x):
    return as_tensor_like(x).data


def _out(arr) -> Tensor:
    return Tensor(arr, _internal=True)


def argmax(input, dim=None, keepdim=False) -> Tensor:  # noqa: A002
    """The index of the largest element along ``dim`` (of the flattened tensor when None), as
    ``torch.argmax``: int64, outside the graph."""
    return as_tensor_like(input).argmax(dim=dim, keepdim=keepdim)


def argmin(input, dim=None, keepdim=False) -> Tensor:  # noqa: A002
    """The index of the smallest element, as ``argmax``."""
    return as_tensor_like(input).argmin(dim=dim, keepdim=keepdim)


def nonzero(input, *, as_tuple=False):  # noqa: A002
    """The positions of the non-zero (True) elements, as ``torch.nonzero``: an int64 tensor of
    shape (count, input.ndim), one row per element in row-major order; with ``as_tuple=True``
    one 1-D tensor per axis instead (what ``x[...]`` takes, as NumPy's ``nonzero``)."""
    a = _data(input)
    xp = backend.array_module(a)
    if a.ndim == 0:
        count = int(a != 0)
        if as_tuple:
            return (_out(xp.zeros(count, dtype=np.int64)),)
        return _out(xp.zeros((count, 0), dtype=np.int64))
    where = tuple(w.astype(np.int64, copy=False) for w in xp.nonzero(a))
    if as_tuple:
        return tuple(_out(w) for w in where)
    return _out(xp.stack(where, axis=1))


def count_nonzero(input, dim=None) -> Tensor:  # noqa: A002
    """The number of non-zero elements along ``dim`` (an int or a tuple; all when None), an
    int64 tensor, as ``torch.count_nonzero``."""
    a = _data(input)
    xp = backend.array_module(a)
    axes = _axes(dim, a.ndim)
    return _out(xp.asarray((a != 0).sum(axis=axes), dtype=np.int64))


def _logical(name):
    # NumPy's axis= and keepdims= too: np.any(t) calls t.any(axis=None, out=None)
    def reduce(input, dim=None, keepdim=None, *, axis=None, keepdims=False, out=None) -> Tensor:  # noqa: A002
        if out is not None:
            raise TypeError(f"{name}: out= is not supported; use the result")
        axis, keepdims = torch_axis_names(name, axis, keepdims, dim, keepdim)
        a = _data(input)
        z = getattr(a != 0, name)(axis=_axes(axis, a.ndim), keepdims=bool(keepdims))
        return _out(backend.array_module(a).asarray(z))

    reduce.__name__ = reduce.__qualname__ = name
    return reduce


any = _logical("any")  # noqa: A001 - torch.any
any.__doc__ = """Whether any element along ``dim`` (an int or a tuple; all when None) is
non-zero, a bool tensor, as ``torch.any``: ``if tc.isnan(loss).any(): ...``."""
all = _logical("all")  # noqa: A001 - torch.all
all.__doc__ = """Whether every element along ``dim`` (all when None) is non-zero, a bool
tensor, as ``torch.all``."""


def _test(name, doc):
    def test(input) -> Tensor:  # noqa: A002
        a = _data(input)
        return _out(getattr(backend.array_module(a), name)(a))

    test.__name__ = test.__qualname__ = name
    test.__doc__ = doc
    return test


isnan = _test("isnan", "Where ``input`` is NaN, a bool tensor, as ``torch.isnan``.")
isinf = _test("isinf", "Where ``input`` is +inf or -inf, a bool tensor, as ``torch.isinf``.")
isfinite = _test(
    "isfinite", "Where ``input`` is neither NaN nor infinite, a bool tensor: torch.isfinite."
)


# --------------------------------------------------------------------------- logical and bitwise
#
# Masks combine as in PyTorch: ``(x > 0) & (x < 1)``, ``~mask``, ``mask.logical_not()``. The
# logical ops take any dtype (non-zero is True) and give bool; the bitwise ones (the operators
# & | ^ ~) take bool or integer tensors and keep their dtype. Outside the graph, as comparisons.


def logical_not(input) -> Tensor:  # noqa: A002
    """Where ``input`` is zero (False), a bool tensor, as ``torch.logical_not``."""
    a = _data(input)
    return _out(backend.array_module(a).logical_not(a))


def _logical_pair(name):
    def op(input, other) -> Tensor:  # noqa: A002
        a, b = _pair(name, input, other)
        return _out(getattr(backend.array_module(a), name)(a, b))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = (
        f"Elementwise {name.split('_')[1]} of ``input != 0`` and ``other != 0`` (broadcast), "
        f"a bool tensor, as ``torch.{name}``."
    )
    return op


logical_and = _logical_pair("logical_and")
logical_or = _logical_pair("logical_or")
logical_xor = _logical_pair("logical_xor")


def _check_bitwise(op, *arrays):
    for a in arrays:
        if a.dtype.kind not in "biu":
            raise TypeError(
                f"{op}: expected bool or integer tensors (masks: (x > 0) & (x < 1)), got "
                f"{a.dtype}; the logical_* ops take any dtype"
            )


def bitwise_not(input) -> Tensor:  # noqa: A002
    """NOT of a bool tensor (``~mask``), or the bitwise NOT of an integer one, as
    ``torch.bitwise_not``."""
    a = _data(input)
    _check_bitwise("bitwise_not", a)
    return _out(backend.array_module(a).invert(a))


def _bitwise_pair(name, symbol):
    def op(input, other) -> Tensor:  # noqa: A002
        a, b = _pair(name, input, other)
        _check_bitwise(name, a, b)
        return _out(getattr(backend.array_module(a), name)(a, b))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = (
        f"Elementwise {name.split('_')[1].upper()} of bool or integer tensors (broadcast), as "
        f"``torch.{name}`` (the operator ``{symbol}``)."
    )
    return op


bitwise_and = _bitwise_pair("bitwise_and", "&")
bitwise_or = _bitwise_pair("bitwise_or", "|")
bitwise_xor = _bitwise_pair("bitwise_xor", "^")


def _pair(op, input, other):  # noqa: A002
    if isinstance(input, Tensor):  # a number beside a float tensor in its dtype, as PyTorch
        a = input
        b = compared_with(other, a)
    else:
        b = as_tensor_like(other, (), promote=False)
        a = compared_with(input, b)
    _check_same_device(op, [a, b])
    return a.data, b.data


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:  # noqa: A002
    """Where |input - other| <= atol + rtol |other| (broadcast), a bool tensor, as
    ``torch.isclose``; NaNs are close to each other only with ``equal_nan``."""
    a, b = _pair("isclose", input, other)
    xp = backend.array_module(a)
    return _out(xp.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:  # noqa: A002
    """Whether every element of ``input`` is close to ``other``'s (see ``isclose``), a Python
    bool, as ``torch.allclose``."""
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan).data.all())


def equal(input, other) -> bool:  # noqa: A002
    """Whether ``input`` and ``other`` have the same shape and the same elements, a Python bool,
    as ``torch.equal`` (no broadcasting; NaN equals nothing)."""
    a, b = _pair("equal", input, other)
    return a.shape == b.shape and builtins.bool((a == b).all())
