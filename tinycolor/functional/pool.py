"""Pooling and upsampling of NCHW images: max_pool2d, avg_pool2d, adaptive_avg_pool2d,
adaptive_max_pool2d, upsample / interpolate; and of (N, C, L) signals: max_pool1d, avg_pool1d,
adaptive_avg_pool1d, adaptive_max_pool1d (the 2-d ops on a height-1 image).

Every op here is separable, so it works one spatial axis at a time, and along one axis a
window of k samples taken every s samples is just k strided slices of the input:

    window offset i  ->  x[..., i : i + s*(n_out-1) + 1 : s]     (i = 0 .. k-1)

A pooling forward pass is k elementwise maxima or sums of such slices (a view each, no copy
and no Python loop over pixels); its backward pass adds the gradient back through the same k
slices. This is the im2col view of ``sliding_window_view(x, k)[..., ::s, :]`` read one
window column at a time. Measured on 16x64x64x64 float32 with 2x2 windows (NumPy, two CPU
cores, medians of one run), this is 5 to 7 times faster than reducing the window axes of
``x.reshape(N, C, H/2, 2, W/2, 2)`` or of ``sliding_window_view(x, (2, 2))[..., ::2, ::2]``
with ``.max`` or ``.mean``: NumPy reduces short inner axes slowly, while one ufunc over a
strided slice runs at memory speed. The same code serves the common kernel=stride=2 case
(its slices are the reshape's views) and runs unchanged on CuPy (no sliding_window_view,
so any CuPy version).
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np

from ..autograd import Function, Tensor
from ..backend import array_module

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "interpolate",
    "max_pool1d",
    "max_pool2d",
    "upsample",
]


# --------------------------------------------------------------------------- helpers


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _pair(value, name, op, minimum):
    """``value`` as a pair of ints (an int means the same for height and width)."""
    if _is_int(value):
        pair = (int(value), int(value))
    elif isinstance(value, tuple | list) and len(value) == 2 and all(_is_int(v) for v in value):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return pair


def _at(ndim, axis, sl):
    """The index that applies the slice ``sl`` to ``axis`` and keeps every other axis."""
    idx = [slice(None)] * ndim
    idx[axis] = sl
    return tuple(idx)


def _windows(n_out, k, s):
    """For each of the k offsets in a window, the slice of the samples it sees."""
    return [slice(i, i + s * (n_out - 1) + 1, s) for i in range(k)]


def _out_size(n, k, s, p, ceil_mode):
    """The output length along one axis: floor((n + 2p - k) / s) + 1, or with ``ceil_mode``
    the ceiling, less one where the last window would start past the input and its left
    padding (PyTorch's rule: every window starts inside the input or the left padding)."""
    if not ceil_mode:
        return (n + 2 * p - k) // s + 1
    out = -(-(n + 2 * p - k) // s) + 1
    return out - 1 if (out - 1) * s >= n + p else out


def _pool_geometry(op, shape, kernel, stride, padding, ceil_mode=False):
    """Check a pooling's arguments against the input shape; return the output (Ho, Wo)."""
    if len(shape) != 4:
        raise ValueError(f"{op}: expected a 4-d NCHW input, got shape {tuple(shape)}")
    for k, p in zip(kernel, padding):
        if p > k // 2:
            raise ValueError(
                f"{op}: padding {padding} must be at most half of kernel_size {kernel}"
            )
    out = tuple(
        _out_size(n, k, s, p, ceil_mode) for n, k, s, p in zip(shape[2:], kernel, stride, padding)
    )
    if min(out) < 1:
        raise ValueError(
            f"{op}: input of shape {tuple(shape)} is too small for kernel_size {kernel} with "
            f"padding {padding} (the output would be {out[0]}x{out[1]})"
        )
    return out


def _pad_hw(x, padding, value, used=None):
    """x with ``padding`` = (ph, pw) samples of ``value`` around its last two axes, and more
    on the bottom and right up to ``used`` = (rows, columns) when the windows need them (the
    last window of ceil_mode hangs over the padded input)."""
    ph, pw = padding
    n, c, h, w = x.shape
    rows, cols = h + 2 * ph, w + 2 * pw
    if used is not None:
        rows, cols = max(rows, used[0]), max(cols, used[1])
    if (rows, cols) == (h, w):
        return x
    xp = array_module(x)
    out = xp.full((n, c, rows, cols), value, dtype=x.dtype)
    out[:, :, ph : ph + h, pw : pw + w] = x
    return out


def _unpad_hw(g, shape, padding):
    """The gradient of ``_pad_hw`` followed by a crop to ``g``'s extent: ``g`` covers the
    first g.shape[2:] samples of the padded input (the rest were in no window)."""
    ph, pw = padding
    h, w = shape[2:]
    if g.shape[2:] == (h, w) and ph == 0 and pw == 0:
        return g
    xp = array_module(g)
    out = xp.zeros(shape, dtype=g.dtype)
    hu, wu = min(h, g.shape[2] - ph), min(w, g.shape[3] - pw)
    out[:, :, :hu, :wu] = g[:, :, ph : ph + hu, pw : pw + wu]
    return out


def _used(n_out, k, s):
    """How many leading samples of an axis fall in some window (the rest are ignored)."""
    return s * (n_out - 1) + k


def _spread(g, axis, k, s, n_in, weight=None):
    """Transpose of "gather k strided slices along ``axis``": add g (times ``weight[i]``, a
    mask for offset i, when given) back into each slice of an array of ``n_in`` samples."""
    xp = array_module(g)
    n_out = g.shape[axis]
    shape = list(g.shape)
    shape[axis] = n_in
    overlapping = s < k
    covered = s == k and n_out * k == n_in
    out = (xp.empty if covered else xp.zeros)(tuple(shape), dtype=g.dtype)
    for i, sl in enumerate(_windows(n_out, k, s)):
        dst = out[_at(g.ndim, axis, sl)]
        if weight is None:
            if overlapping:
                dst += g
            else:
                dst[...] = g
        elif overlapping:
            dst += g * weight(i)
        else:
            xp.multiply(g, weight(i), out=dst)
    return out


# --------------------------------------------------------------------------- max pooling


def _max_along(x, axis, k, s, n_out, lead=0, nan_wins=False):
    """Max over windows of k samples every s along ``axis``, and the offset (0..k-1) of the
    sample PyTorch's CPU kernel picks in each window: the first maximum (a later sample wins
    only where it is larger), or with ``nan_wins`` the last NaN (a NaN wins over every number
    and over an earlier NaN: ``val > max || isnan(val)``). The max itself is NaN wherever a
    window holds one either way (``maximum`` propagates NaN).

    The first ``lead`` samples of the axis are left padding (-inf): a window whose samples
    are all -inf points at its first sample past the padding, not into it (PyTorch starts
    each window's search at its first sample inside the input)."""
    xp = array_module(x)
    win = _windows(n_out, k, s)
    dtype = np.uint8 if k < 256 else np.int32
    best = x[_at(x.ndim, axis, win[0])].copy()
    arg = None
    for i in range(1, k):
        cand = x[_at(x.ndim, axis, win[i])]
        wins = cand > best
        if nan_wins:
            wins |= xp.isnan(cand)
        wins = wins.astype(dtype)
        if arg is None:
            arg = wins  # offset 1 where the second sample wins, else 0
        else:  # offsets grow with i: "arg = i where cand wins" is max(arg, wins * i)
            wins *= i
            xp.maximum(arg, wins, out=arg)
        xp.maximum(best, cand, out=best)
    if arg is None:
        arg = xp.zeros(best.shape, dtype=dtype)
    for j in range(min(n_out, -(-lead // s))):  # the windows that start in the padding
        first = arg[_at(x.ndim, axis, slice(j, j + 1))]
        xp.maximum(first, lead - j * s, out=first)
    return best, arg


class MaxPool2d(Function):
    """y[n, c, i, j] = max over the (kh, kw) window at (i*sh - ph, j*sw - pw) of x, padded
    with -inf (on the bottom and right also as far as ceil_mode's last window reaches);
    dy/dx = 1 at the window's first maximum (row-major order; its first pixel inside the
    input where all are -inf, never the padding), 0 elsewhere; a window that
    holds a NaN has y = NaN and dy/dx = 1 at its last NaN (PyTorch's ``val > max ||
    isnan(val)``).

    The max is taken along the width first, then along the height: max is separable, and a
    strict ">" in both passes keeps the row-major first maximum, as PyTorch does; so does
    "a NaN always wins" keep the row-major last NaN (the last row holding one, its last
    one). The backward pass routes the gradient back through both passes, height first.
    """

    def forward(self, x, kernel_size, stride, padding, ceil_mode=False):
        (kh, kw), (sh, sw) = kernel_size, stride
        ho, wo = _pool_geometry("max_pool2d", x.shape, kernel_size, stride, padding, ceil_mode)
        floating = np.issubdtype(x.dtype, np.floating)
        fill = -np.inf if floating else np.iinfo(x.dtype).min
        hu, wu = _used(ho, kh, sh), _used(wo, kw, sw)
        xpad = _pad_hw(x, padding, fill, (hu, wu))[:, :, :hu, :wu]

        def passes(nan_wins):
            rows, arg_w = _max_along(xpad, 3, kw, sw, wo, padding[1], nan_wins)
            return (*_max_along(rows, 2, kh, sh, ho, padding[0], nan_wins), arg_w)

        # PyTorch's NaN rule costs the CPU a tenth more time, so there it is applied only
        # where some window holds a NaN, and then y does (one max over y tells); a GPU applies
        # it always rather than wait for that answer
        on_gpu = array_module(x) is not np
        y, arg_h, arg_w = passes(floating and on_gpu)
        if floating and not on_gpu and y.size and np.isnan(y.max()):  # (empty: no NaN)
            y, arg_h, arg_w = passes(True)
        self.geometry = (x.shape, kernel_size, stride, padding, hu, wu)
        self.save_for_backward(arg_h, arg_w)
        return y

    def backward(self, g):
        arg_h, arg_w = self.saved
        shape, (kh, kw), (sh, sw), padding, hu, wu = self.geometry
        g_rows = _spread(g, 2, kh, sh, hu, weight=lambda i: arg_h == i)
        g_pad = _spread(g_rows, 3, kw, sw, wu, weight=lambda i: arg_w == i)
        return _unpad_hw(g_pad, shape, padding)


def _only_defaults(op, **settings):
    """PyTorch's other pooling options, each ``name=(value, default)``: accepted at their
    defaults (what these ops compute), so that code written for PyTorch runs as it is, and
    refused by name otherwise."""
    for name, (value, default) in settings.items():
        if value == default or (name == "dilation" and value in ((1, 1), [1, 1])):
            continue
        raise ValueError(f"{op}: {name}={value!r} is not supported, only {name}={default!r}")


def max_pool2d(
    input,  # noqa: A002 - PyTorch's name
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
) -> Tensor:
    """2-d max pooling of an NCHW tensor, as ``torch.nn.functional.max_pool2d``.

    ``kernel_size``, ``stride`` (default: ``kernel_size``) and ``padding`` are ints or
    (height, width) pairs; padding adds -inf and may be at most half the kernel; the output
    has floor((H + 2p - k) / s) + 1 rows (and likewise columns), or with ``ceil_mode`` the
    ceiling, the last window then partly past the input (as PyTorch, a window that would start
    past the input and its left padding is dropped). The gradient goes to the first maximum
    of each window; a window holding a NaN gives NaN, its gradient going to the last NaN (as
    PyTorch). PyTorch's ``dilation`` and ``return_indices`` are accepted at their defaults
    only.
    """
    _only_defaults("max_pool2d", dilation=(dilation, 1), return_indices=(return_indices, False))
    kernel = _pair(kernel_size, "kernel_size", "max_pool2d", 1)
    stride = kernel if stride is None else _pair(stride, "stride", "max_pool2d", 1)
    padding = _pair(padding, "padding", "max_pool2d", 0)
    return MaxPool2d.apply(
        input, kernel_size=kernel, stride=stride, padding=padding, ceil_mode=bool(ceil_mode)
    )


# --------------------------------------------------------------------------- average pooling


def _sum_along(x, axis, k, s, n_out):
    """Sum over windows of k samples every s along ``axis`` (a new array)."""
    win = _windows(n_out, k, s)
    total = x[_at(x.ndim, axis, win[0])].copy()
    for sl in win[1:]:
        total += x[_at(x.ndim, axis, sl)]
    return total


def _window_counts(n, k, s, p, n_out, count_include_pad):
    """How many samples each of the n_out windows along one axis divides by, as PyTorch: the
    window clipped to the padded input (ceil_mode's last one may hang past it), and to the
    input itself without ``count_include_pad``."""
    start = np.arange(n_out) * s - p
    end = np.minimum(start + k, n + p)
    if not count_include_pad:
        start, end = np.maximum(start, 0), np.minimum(end, n)
    return end - start


def _avg_divisor(shape, kernel, stride, padding, out, count_include_pad, divisor_override):
    """What each window's sum is divided by: an int when every window divides by the same
    count, else a NumPy (Ho, Wo) map of rows counted * columns counted."""
    if divisor_override is not None:
        return divisor_override
    rows, cols = (
        _window_counts(n, k, s, p, o, count_include_pad)
        for n, k, s, p, o in zip(shape[2:], kernel, stride, padding, out)
    )
    if (rows == kernel[0]).all() and (cols == kernel[1]).all():
        return kernel[0] * kernel[1]
    return rows[:, None] * cols[None, :]


def _truncating_divide(y, d):
    """y / d for integers, rounded towards zero as C's and PyTorch's integer division (floor
    division rounds a negative quotient down), exactly at any size."""
    q = y // d
    q += ((y - q * d) != 0) & ((y < 0) != (d < 0))  # a floor below the quotient: one up
    return q


def _check_avg_dtype(x, op):
    """An average's input: floating point, or int64 (PyTorch's CPU averages integers only of
    that type, each window's sum divided by its count rounded towards zero)."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and not np.issubdtype(dtype, np.floating) and dtype != np.int64:
        raise TypeError(
            f"{op}: expected a floating-point input (or int64, whose means are rounded towards "
            f"zero, as PyTorch's), got {dtype}"
        )


class AvgPool2d(Function):
    """y[n, c, i, j] = (1 / d) sum over the (kh, kw) window at (i*sh - ph, j*sw - pw) of x
    padded with zeros, d = kh kw (the padding counts in the mean, PyTorch's
    count_include_pad) or, per window, the samples of it in the padded input (ceil_mode's
    last window) or in the input itself (count_include_pad=False), or divisor_override;
    dy/dx = 1 / d for every x in the window. An int64 x gives its int64 sums divided by d,
    rounded towards zero (PyTorch's; no gradient).

    Summed along the height first: those slices hold whole rows, which NumPy adds fastest.
    """

    def forward(
        self, x, kernel_size, stride, padding, ceil_mode=False, count_include_pad=True,
        divisor_override=None,
    ):  # fmt: skip
        (kh, kw), (sh, sw) = kernel_size, stride
        out = _pool_geometry("avg_pool2d", x.shape, kernel_size, stride, padding, ceil_mode)
        ho, wo = out
        hu, wu = _used(ho, kh, sh), _used(wo, kw, sw)
        xpad = _pad_hw(x, padding, 0, (hu, wu))
        cols = _sum_along(xpad[:, :, :hu, :wu], 2, kh, sh, ho)
        y = _sum_along(cols, 3, kw, sw, wo)
        xp = array_module(x)
        divisor = _avg_divisor(
            x.shape, kernel_size, stride, padding, out, count_include_pad, divisor_override
        )
        if not np.issubdtype(x.dtype, np.floating):  # int64 (no gradient): PyTorch's division
            return _truncating_divide(y, divisor if _is_int(divisor) else xp.asarray(divisor))
        self.scale = 1.0 / divisor if _is_int(divisor) else xp.asarray(1.0 / divisor, x.dtype)
        y *= self.scale
        self.geometry = (x.shape, kernel_size, stride, padding, hu, wu)
        return y

    def backward(self, g):
        shape, (kh, kw), (sh, sw), padding, hu, wu = self.geometry
        g_cols = _spread(g * self.scale, 3, kw, sw, wu)
        g_pad = _spread(g_cols, 2, kh, sh, hu)
        return _unpad_hw(g_pad, shape, padding)


def avg_pool2d(
    input,  # noqa: A002 - PyTorch's name
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
) -> Tensor:
    """2-d average pooling of an NCHW tensor, as ``torch.nn.functional.avg_pool2d``.
    Arguments as max_pool2d (``ceil_mode`` too); padding adds zeros, which count in the mean
    unless ``count_include_pad=False`` (each window then divides by its samples inside the
    input). ceil_mode's last window divides by its samples inside the padded input, and a
    non-zero int ``divisor_override`` replaces every window's count, as PyTorch's. The input
    is floating point, or int64 as PyTorch's CPU takes it (the means then rounded towards
    zero)."""
    _check_avg_dtype(input, "avg_pool2d")
    if divisor_override is not None and (not _is_int(divisor_override) or divisor_override == 0):
        raise ValueError(
            f"avg_pool2d: divisor_override must be a non-zero int or None, got {divisor_override!r}"
        )
    kernel = _pair(kernel_size, "kernel_size", "avg_pool2d", 1)
    stride = kernel if stride is None else _pair(stride, "stride", "avg_pool2d", 1)
    padding = _pair(padding, "padding", "avg_pool2d", 0)
    return AvgPool2d.apply(
        input, kernel_size=kernel, stride=stride, padding=padding, ceil_mode=bool(ceil_mode),
        count_include_pad=bool(count_include_pad), divisor_override=divisor_override,
    )  # fmt: skip


# --------------------------------------------------------------------------- adaptive pooling


@functools.lru_cache(maxsize=256)
def _adaptive_plan(n_in, n_out):
    """How to average one axis of n_in samples down (or up) to n_out: ("copy",), ("window", k)
    for windows of k samples every k (k <= n_out: k strided slices are cheaper than a matrix
    product, which costs n_out multiply-adds a sample), or ("matrix", A), A of shape
    (n_out, n_in) with 1 / (end - start) over each window, built once per size."""
    if n_out == n_in:
        return ("copy",)
    k = n_in // n_out
    if n_in % n_out == 0 and k <= n_out:
        return ("window", k)
    i = np.arange(n_out)
    start = i * n_in // n_out  # floor(i n_in / n_out)
    end = -(-(i + 1) * n_in // n_out)  # ceil((i + 1) n_in / n_out)
    j = np.arange(n_in)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return ("matrix", inside / (end - start)[:, None])


def _average_axis(x, axis, plan):
    """y = A x along ``axis`` (2 or 3) for the plan's averaging matrix A."""
    if plan[0] == "copy":
        return x
    if plan[0] == "window":
        k = plan[1]
        y = _sum_along(x, axis, k, k, x.shape[axis] // k)
        y *= 1.0 / k
        return y
    return _matmul_axis(x, _on(array_module(x), plan[1], x.dtype), axis)


def _average_axis_grad(g, axis, plan, n_in):
    """dL/dx = A^T g along ``axis``, for the plan that made y = A x."""
    if plan[0] == "copy":
        return g
    if plan[0] == "window":
        k = plan[1]
        return _spread(g * (1.0 / k), axis, k, k, n_in)
    return _matmul_axis(g, _on(array_module(g), plan[1], g.dtype).T, axis)


class AdaptiveAvgPool2d(Function):
    """y[n, c, i, j] = the mean of x[n, c, h0(i):h1(i), w0(j):w1(j)] over PyTorch's windows
    h0(i) = floor(i H / Ho), h1(i) = ceil((i + 1) H / Ho) (likewise along the width), which
    tile the input when Ho divides H and otherwise differ in size by one and may overlap.

    Averaging is separable: y = A_h x A_w^T per channel, A[i, h0(i):h1(i)] = 1 / (h1(i) - h0(i)),
    and dL/dx = A_h^T g A_w: each input sample gets the gradient of every window it is in,
    divided by that window's size. Done along the height, then the width (see _adaptive_plan).
    """

    def forward(self, x, size):
        self.in_hw = x.shape[2:]
        self.plans = (_adaptive_plan(x.shape[2], size[0]), _adaptive_plan(x.shape[3], size[1]))
        y = _average_axis(_average_axis(x, 2, self.plans[0]), 3, self.plans[1])
        return y.copy() if y is x else y

    def backward(self, g):
        h, w = self.in_hw
        gw = _average_axis_grad(g, 3, self.plans[1], w)
        return _average_axis_grad(gw, 2, self.plans[0], h)


def _output_size(output_size, hw, op):
    """``output_size`` (an int, or a pair of ints and Nones) as a pair of ints, a None taking
    the input's size from ``hw``."""
    if isinstance(output_size, tuple | list) and len(output_size) == 2:
        output_size = tuple(n if v is None else v for n, v in zip(hw, output_size))
    return _pair(output_size, "output_size", op, 1)


def adaptive_avg_pool2d(input, output_size) -> Tensor:  # noqa: A002 - PyTorch's name
    """Average an NCHW tensor down to ``output_size`` (an int, or a pair whose None entries
    keep the input's size), as ``torch.nn.functional.adaptive_avg_pool2d``: output pixel
    (i, j) is the mean of the input rows floor(i H / Ho) .. ceil((i + 1) H / Ho) - 1 and the
    columns likewise. ``adaptive_avg_pool2d(x, 1)`` is global average pooling; an input
    whose size is a multiple of the output's is avg_pool2d with kernel = stride = H / Ho."""
    op = "adaptive_avg_pool2d"
    x = input
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-d NCHW input, got shape {tuple(x.shape)}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{op}: expected a floating-point input, got {x.dtype}")
    return AdaptiveAvgPool2d.apply(x, size=_output_size(output_size, x.shape[2:], op))


@functools.lru_cache(maxsize=256)
def _adaptive_windows(n_in, n_out):
    """PyTorch's adaptive windows along one axis, floor(i n_in / n_out) .. ceil((i + 1) n_in /
    n_out) - 1, as a (k, n_out) array of indices, k the longest window: row t holds the
    sample each window reads at its offset t, its last sample again past its end (which
    changes neither its max nor which of its samples is the first maximum)."""
    i = np.arange(n_out)
    start = i * n_in // n_out
    end = -(-(i + 1) * n_in // n_out)
    offsets = np.arange(int((end - start).max()))
    return np.minimum(start + offsets[:, None], end - 1)


def _adaptive_argmax_along(x, axis, windows):
    """(the max of each window along ``axis``, the index along that axis of its first
    maximum), for the windows of ``_adaptive_windows``: one gather a window offset, a later
    sample winning only where it is larger, or NaN (PyTorch's rule: a NaN wins over every
    number and over an earlier NaN)."""
    xp = array_module(x)
    idx = xp.asarray(windows)
    along = [1] * x.ndim
    along[axis] = -1
    best = xp.take(x, idx[0], axis=axis)
    arg = xp.broadcast_to(idx[0].reshape(along), best.shape).copy()
    for t in range(1, idx.shape[0]):
        cand = xp.take(x, idx[t], axis=axis)
        wins = (cand > best) | xp.isnan(cand)
        best = xp.where(wins, cand, best)
        arg = xp.where(wins, idx[t].reshape(along), arg)
    return best, arg


def _adaptive_max_indices(a, size):
    """PyTorch's ``indices`` of adaptive max pooling of a (N, C, H, W) array to ``size``: for
    each output pixel, h W + w of the first maximum (row-major) of its window. Max is
    separable and a strict ">" keeps the first maximum in both passes, so the max along the
    width, then along the height, picks the first row holding the window's max and the
    first column of that row."""
    xp = array_module(a)
    h, w = a.shape[2:]
    rows, col_arg = _adaptive_argmax_along(a, 3, _adaptive_windows(w, size[1]))  # (N, C, H, Wo)
    _, row_arg = _adaptive_argmax_along(rows, 2, _adaptive_windows(h, size[0]))  # (N, C, Ho, Wo)
    return row_arg * w + xp.take_along_axis(col_arg, row_arg, axis=2)


class AdaptiveMaxPool2d(Function):
    """y[n, c, i, j] = x[n, c, h, w] at (h, w) = index[n, c, i, j] (``_adaptive_max_indices``):
    the max over PyTorch's window of rows floor(i H / Ho) .. ceil((i + 1) H / Ho) - 1 and the
    columns likewise. dy/dx = 1 at that first maximum, 0 elsewhere; windows may overlap, so
    an input pixel adds the gradients of every output whose maximum it is."""

    def forward(self, x, index):
        n, c, h, w = x.shape
        self.shape, self.index = x.shape, index
        flat = index.reshape(n, c, index.shape[2] * index.shape[3])  # (no -1: N may be 0)
        y = array_module(x).take_along_axis(x.reshape(n, c, h * w), flat, 2)
        return y.reshape(index.shape)

    def backward(self, g):
        xp = array_module(g)
        n, c, h, w = self.shape
        if not g.size:  # an empty batch (CuPy's bincount takes the max of its indices)
            return xp.zeros(self.shape, dtype=g.dtype)
        planes = xp.arange(n * c, dtype=np.int64).reshape(n, c, 1, 1) * (h * w)
        dx = xp.bincount((self.index + planes).ravel(), weights=g.ravel(), minlength=n * c * h * w)
        return dx.astype(g.dtype, copy=False).reshape(self.shape)


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    """Take the max of an NCHW tensor over windows sized to give ``output_size`` (an int, or a
    pair whose None entries keep the input's size), as
    ``torch.nn.functional.adaptive_max_pool2d``: output pixel (i, j) is the max of the input
    rows floor(i H / Ho) .. ceil((i + 1) H / Ho) - 1 and the columns likewise. The gradient
    goes to the first maximum of each window (row-major; a NaN wins, the last one, as in
    PyTorch). With ``return_indices`` the pair (output, indices), the indices int64 h W + w
    into each input plane and outside the graph, as PyTorch's (what ``max_unpool2d`` takes,
    which tinycolor has not). ``adaptive_max_pool2d(x, 1)`` is global max pooling."""
    op = "adaptive_max_pool2d"
    x = input if isinstance(input, Tensor) else Tensor(input, _internal=True)
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-d NCHW input, got shape {tuple(x.shape)}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{op}: expected a floating-point input, got {x.dtype}")
    index = _adaptive_max_indices(x.data, _output_size(output_size, x.shape[2:], op))
    y = AdaptiveMaxPool2d.apply(x, index=index)
    return (y, Tensor(index, _internal=True)) if return_indices else y


# --------------------------------------------------------------------------- 1-d pooling
#
# A signal (N, C, L) is pooled as the height-1 image (N, C, 1, L), with a (1, k) window.


def _single(value, name, op, minimum):
    """``value`` as an int: an int, or PyTorch's 1-tuple ``(3,)``."""
    if isinstance(value, tuple | list) and len(value) == 1:
        value = value[0]
    if not _is_int(value):
        raise TypeError(f"{op}: {name} must be an int or a 1-tuple of an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return int(value)


def _as_image(x, op):
    """An (N, C, L) tensor as the (N, C, 1, L) image the 2-d op pools."""
    if x.ndim != 3:
        raise ValueError(f"{op}: expected a 3-d (N, C, L) input, got shape {tuple(x.shape)}")
    n, c, length = x.shape
    return x.reshape(n, c, 1, length)


def _as_signal(y):
    n, c, _, length = y.shape
    return y.reshape(n, c, length)


def _pool1d_geometry(op, shape, k, s, p, ceil_mode):
    """Check a 1-d pooling's arguments against the (N, C, L) input's shape, in its own terms
    (the 2-d op it runs as would name (1, k) kernels and (N, C, 1, L) shapes)."""
    if p > k // 2:
        raise ValueError(
            f"{op}: padding should be at most half of kernel_size, got padding={p} and "
            f"kernel_size={k}"
        )
    out = _out_size(shape[2], k, s, p, ceil_mode)
    if out < 1:
        raise ValueError(
            f"{op}: input of shape {tuple(shape)} is too small for kernel_size {k} with "
            f"padding {p} (the output would have length {out})"
        )


def max_pool1d(
    input,  # noqa: A002 - PyTorch's name
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
) -> Tensor:
    """1-d max pooling of an (N, C, L) tensor, as ``torch.nn.functional.max_pool1d``.

    ``kernel_size``, ``stride`` (default: ``kernel_size``) and ``padding`` are ints (or
    1-tuples); padding adds -inf and may be at most half the kernel; the output has
    floor((L + 2p - k) / s) + 1 samples (the ceiling with ``ceil_mode``, as max_pool2d). The
    gradient goes to the first maximum of each window (to the last NaN of a window holding
    any, whose max is NaN, as PyTorch). PyTorch's ``dilation`` and
    ``return_indices`` are accepted at their defaults only. Computed as ``max_pool2d`` of a
    height-1 image.
    """
    op = "max_pool1d"
    _only_defaults(op, dilation=(dilation, 1), return_indices=(return_indices, False))
    k = _single(kernel_size, "kernel_size", op, 1)
    s = k if stride is None else _single(stride, "stride", op, 1)
    p = _single(padding, "padding", op, 0)
    image = _as_image(input, op)
    _pool1d_geometry(op, input.shape, k, s, p, ceil_mode)
    return _as_signal(max_pool2d(image, (1, k), (1, s), (0, p), ceil_mode=ceil_mode))


def avg_pool1d(
    input,  # noqa: A002 - PyTorch's name
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
) -> Tensor:
    """1-d average pooling of an (N, C, L) tensor, as ``torch.nn.functional.avg_pool1d``:
    arguments as max_pool1d, ``ceil_mode`` and ``count_include_pad`` as avg_pool2d's.
    Computed as ``avg_pool2d`` of a height-1 image."""
    op = "avg_pool1d"
    k = _single(kernel_size, "kernel_size", op, 1)
    s = k if stride is None else _single(stride, "stride", op, 1)
    p = _single(padding, "padding", op, 0)
    image = _as_image(input, op)
    _check_avg_dtype(input, op)
    _pool1d_geometry(op, input.shape, k, s, p, ceil_mode)
    y = avg_pool2d(image, (1, k), (1, s), (0, p), ceil_mode, count_include_pad)
    return _as_signal(y)


def adaptive_avg_pool1d(input, output_size) -> Tensor:  # noqa: A002 - PyTorch's name
    """Average an (N, C, L) tensor down to ``output_size`` samples (an int or a 1-tuple), as
    ``torch.nn.functional.adaptive_avg_pool1d``: output sample i is the mean of the inputs
    floor(i L / Lo) .. ceil((i + 1) L / Lo) - 1. ``adaptive_avg_pool1d(x, 1)`` is global
    average pooling."""
    op = "adaptive_avg_pool1d"
    size = _single(output_size, "output_size", op, 1)
    return _as_signal(adaptive_avg_pool2d(_as_image(input, op), (1, size)))


def adaptive_max_pool1d(input, output_size, return_indices=False):  # noqa: A002
    """Take the max of an (N, C, L) tensor over windows sized to give ``output_size`` samples
    (an int or a 1-tuple), as ``torch.nn.functional.adaptive_max_pool1d``: output sample i is
    the max of the inputs floor(i L / Lo) .. ceil((i + 1) L / Lo) - 1, its gradient going to
    the first maximum. With ``return_indices`` the pair (output, indices), the indices int64
    positions along L, as PyTorch's. Computed as ``adaptive_max_pool2d`` of a height-1
    image."""
    op = "adaptive_max_pool1d"
    size = _single(output_size, "output_size", op, 1)
    x = input if isinstance(input, Tensor) else Tensor(input, _internal=True)
    out = adaptive_max_pool2d(_as_image(x, op), (1, size), return_indices)
    if return_indices:
        return _as_signal(out[0]), _as_signal(out[1])
    return _as_signal(out)


# --------------------------------------------------------------------------- upsampling
#
# Resampling one axis from n_in to n_out samples is a linear map y = A x with an (n_out, n_in)
# matrix A: one 1 per row for 'nearest', two weights summing to 1 for 'bilinear', four for
# 'bicubic' (``_cubic_matrix``). An image is resampled along its width, then its height
# (y = A_h x A_w^T); the backward pass applies the transposes, height first. A plan says how
# to apply A cheaply:
#   ("copy",)                  A = I
#   ("repeat", s)              nearest, integer factor: np.repeat; backward: s strided slices
#   ("take", idx, A)           nearest, any factor: gather x[idx]; backward: A^T g
#   ("linear2", s, phases)     bilinear, integer factor s: phase p (outputs s*i + p) is
#                              x[j] + b_p (x[j+1] - x[j]), j = i - shift_p, where in range,
#                              else a copy of the edge sample; backward: the same slices
#   ("matrix", A)              bilinear, any other factor, and bicubic: a matrix product with A


def _source_scale(n_in, n_out, scale, align_corners):
    """The step in input samples per output sample, as PyTorch computes it."""
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else n_in / n_out


@functools.lru_cache(maxsize=256)
def _plan(n_in, n_out, scale, mode, align_corners):
    """How to resample one axis (see the table above); arrays are NumPy float64/int64."""
    if mode == "nearest":
        if n_out == n_in:
            return ("copy",)
        if n_out == 2 * n_in:
            idx = np.arange(n_out) // 2
        else:  # PyTorch's arithmetic, in float32: floor(o * scale), clamped
            step = np.float32(_source_scale(n_in, n_out, scale, False))
            idx = np.floor(np.arange(n_out, dtype=np.float32) * step).astype(np.int64)
            idx = np.minimum(idx, n_in - 1)
        if n_out % n_in == 0 and np.array_equal(idx, np.arange(n_out) // (n_out // n_in)):
            return ("repeat", n_out // n_in)
        onehot = np.zeros((n_out, n_in))
        onehot[np.arange(n_out), idx] = 1.0
        return ("take", idx, onehot)
    if mode == "bicubic":  # no shortcut for an unchanged size: PyTorch resamples it too
        a = _cubic_matrix(n_in, n_out, scale, align_corners)
        return ("copy",) if n_out == n_in and np.array_equal(a, np.eye(n_in)) else ("matrix", a)
    # bilinear; an axis whose size does not change is copied, whatever the scale (as PyTorch)
    if n_out == n_in:
        return ("copy",)
    s = n_out // n_in
    if not align_corners and n_out == s * n_in and s >= 2 and (scale is None or float(scale) == s):
        phases = []
        for p in range(s):
            d = (p + 0.5) / s - 0.5  # output s*i + p samples the input at i + d
            # d >= 0: x[i] + d (x[i+1] - x[i]); d < 0: the same with i - 1 and 1 + d
            phases.append((0, d) if d >= 0 else (1, 1.0 + d))
        return ("linear2", s, tuple(phases))
    step = _source_scale(n_in, n_out, scale, align_corners)
    o = np.arange(n_out, dtype=np.float64)
    src = o * step if align_corners else np.maximum(step * (o + 0.5) - 0.5, 0.0)
    lo = np.minimum(src.astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = src - lo
    a = np.zeros((n_out, n_in))
    np.add.at(a, (np.arange(n_out), lo), 1.0 - frac)  # built once per size and cached
    np.add.at(a, (np.arange(n_out), hi), frac)
    return ("matrix", a)


# Keys' cubic convolution kernel with PyTorch's A = -0.75 (Keys proposed -0.5; -0.75 is
# OpenCV's and PyTorch's choice, a little sharper).
_CUBIC_A = -0.75


def _cubic_weights(t):
    """The weights of the 4 taps at offsets -1, 0, 1, 2 from floor(src), t = src - floor(src):
    W(1 + t), W(t), W(1 - t), W(2 - t), with Keys' kernel
    W(s) = (A + 2)|s|^3 - (A + 3)|s|^2 + 1 for |s| <= 1, A|s|^3 - 5A|s|^2 + 8A|s| - 4A for
    1 < |s| < 2 (0 beyond). They sum to 1 for every t."""
    a = _CUBIC_A

    def near(s):  # |s| <= 1
        return ((a + 2) * s - (a + 3)) * s * s + 1

    def far(s):  # 1 <= |s| <= 2
        return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=-1)


def _cubic_matrix(n_in, n_out, scale, align_corners):
    """The (n_out, n_in) matrix of PyTorch's bicubic resampling of one axis: output o reads
    the source position src (o * step with align_corners, else (o + 1/2) step - 1/2, not
    clamped), taps floor(src) - 1 .. floor(src) + 2 clamped into [0, n_in) (the border sample
    repeated), weighted by ``_cubic_weights``. Taps clamped onto the same sample add up."""
    step = _source_scale(n_in, n_out, scale, align_corners)
    o = np.arange(n_out, dtype=np.float64)
    src = o * step if align_corners else step * (o + 0.5) - 0.5
    base = np.minimum(np.floor(src), n_in - 1)  # as PyTorch's guard_index_and_lambda
    t = np.clip(src - base, 0.0, 1.0)
    taps = np.clip(base.astype(np.int64)[:, None] + np.arange(-1, 3), 0, n_in - 1)
    a = np.zeros((n_out, n_in))
    np.add.at(a, (np.arange(n_out)[:, None], taps), _cubic_weights(t))  # once per size: cached
    return a


def _on(xp, arr, dtype):
    """A plan's NumPy array as ``dtype`` on the device of ``xp``."""
    return xp.asarray(arr.astype(dtype, copy=False))


def _matmul_axis(x, a, axis):
    """Apply the (n_out, n_in) matrix ``a`` along axis 2 or 3 of an NCHW array."""
    xp = array_module(x)
    if axis == 3:
        return xp.matmul(x, a.T)
    return xp.matmul(a, x)


def _resample(x, axis, plan):
    """y = A x along ``axis`` for the plan's matrix A."""
    xp = array_module(x)
    kind = plan[0]
    if kind == "copy":
        return x
    if kind == "repeat":
        return xp.repeat(x, plan[1], axis=axis)
    if kind == "take":
        return xp.take(x, xp.asarray(plan[1]), axis=axis)
    if kind == "matrix":
        return _matmul_axis(x, _on(xp, plan[1], x.dtype), axis)
    _, s, phases = plan  # linear2
    n, nd = x.shape[axis], x.ndim
    base = x[_at(nd, axis, slice(0, n - 1))]
    diff = x[_at(nd, axis, slice(1, n))] - base  # x[i+1] - x[i]
    y = xp.empty(x.shape[: axis + 1] + (s,) + x.shape[axis + 1 :], dtype=x.dtype)
    for p, (shift, b) in enumerate(phases):
        yp = y[_at(nd + 1, axis + 1, p)]  # the outputs s*i + p, shaped like x
        dst = yp[_at(nd, axis, slice(shift, n - 1 + shift))]
        xp.multiply(diff, b, out=dst)
        dst += base
        edge = slice(0, 1) if shift else slice(n - 1, n)  # clamped: a copy of x[0] or x[n-1]
        yp[_at(nd, axis, edge)] = x[_at(nd, axis, edge)]
    return y.reshape(x.shape[:axis] + (n * s,) + x.shape[axis + 1 :])


def _resample_grad(g, axis, plan, n_in):
    """dL/dx = A^T g along ``axis``, for the plan that made y = A x."""
    xp = array_module(g)
    kind = plan[0]
    if kind == "copy":
        return g
    if kind == "repeat":
        return _sum_along(g, axis, plan[1], plan[1], n_in)
    if kind in ("take", "matrix"):
        return _matmul_axis(g, _on(xp, plan[-1], g.dtype).T, axis)
    _, s, phases = plan  # linear2
    n, nd = n_in, g.ndim
    g_phases = g.reshape(g.shape[:axis] + (n, s) + g.shape[axis + 1 :])
    g_base = g_diff = None  # dL/d(base) and dL/d(diff), as in the forward pass
    for p, (shift, b) in enumerate(phases):
        src = g_phases[_at(nd + 1, axis + 1, p)][_at(nd, axis, slice(shift, n - 1 + shift))]
        if g_base is None:
            g_base, g_diff = src.copy(), src * b
        else:
            g_base += src
            g_diff += src * b
    shape = list(g.shape)
    shape[axis] = n
    gx = xp.empty(tuple(shape), dtype=g.dtype)
    # diff = x[i+1] - x[i]: x[i] gets g_base - g_diff, x[i+1] gets g_diff
    xp.subtract(g_base, g_diff, out=gx[_at(nd, axis, slice(0, n - 1))])
    gx[_at(nd, axis, slice(n - 1, n))] = 0
    gx[_at(nd, axis, slice(1, n))] += g_diff
    for p, (shift, _) in enumerate(phases):  # the clamped outputs copied an edge sample
        edge = slice(0, 1) if shift else slice(n - 1, n)
        gx[_at(nd, axis, edge)] += g_phases[_at(nd + 1, axis + 1, p)][_at(nd, axis, edge)]
    return gx


class Upsample(Function):
    """y = A_h x A_w^T per channel, A the (out, in) resampling matrix of each axis:
    'nearest': y[o] = x[floor(o * in/out)];  'bilinear' (align_corners=False): y[o] mixes the
    two samples around the source position (o + 1/2) * in/out - 1/2 (clamped at 0) linearly;
    'bicubic': the four samples around it (not clamped), with Keys' cubic weights.
    dL/dx = A_h^T g A_w: each input sample collects the gradients of the outputs it fed.
    """

    def forward(self, x, size, scale, mode, align_corners):
        n, c, h, w = x.shape
        self.in_hw = (h, w)
        self.plans = (
            _plan(h, size[0], scale[0], mode, align_corners),
            _plan(w, size[1], scale[1], mode, align_corners),
        )
        y = _resample(_resample(x, 3, self.plans[1]), 2, self.plans[0])
        return y.copy() if y is x else y

    def backward(self, g):
        h, w = self.in_hw
        gh = _resample_grad(g, 2, self.plans[0], h)
        return _resample_grad(gh, 3, self.plans[1], w)


def _scale_pair(scale_factor, op):
    if isinstance(scale_factor, tuple | list):
        if len(scale_factor) != 2:
            raise ValueError(f"{op}: scale_factor must be a number or a pair, got {scale_factor!r}")
        pair = tuple(scale_factor)
    else:
        pair = (scale_factor, scale_factor)
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not v > 0:
            raise ValueError(f"{op}: scale_factor must be positive numbers, got {scale_factor!r}")
    return tuple(float(v) for v in pair)


def _interpolate_signal(x, size, scale_factor, mode, align_corners) -> Tensor:
    """``interpolate`` of an (N, C, L) signal: 'nearest' or 'linear' along L, as the 2-d op
    ('nearest' or 'bilinear') on the height-1 image (N, C, 1, L), whose height is copied."""
    op = "interpolate"
    if mode not in ("nearest", "linear"):
        raise ValueError(
            f"{op}: a 3-d (N, C, L) input takes mode 'nearest' or 'linear', got {mode!r} (for "
            f"an (N, C, H, W) image)"
        )
    if size is not None:
        size = (1, _single(size, "size", op, 1))
    if scale_factor is not None:
        if isinstance(scale_factor, tuple | list) and len(scale_factor) == 1:
            scale_factor = scale_factor[0]
        if isinstance(scale_factor, tuple | list):
            raise ValueError(
                f"{op}: scale_factor of a 3-d input must be a number or a 1-tuple, got "
                f"{scale_factor!r}"
            )
        scale_factor = (1.0, scale_factor)
    n, c, length = x.shape
    image = x.reshape(n, c, 1, length)
    y = interpolate(
        image, size, scale_factor, "bilinear" if mode == "linear" else mode, align_corners
    )
    return y.reshape(n, c, y.shape[3])


def interpolate(
    input,  # noqa: A002 - PyTorch's name
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias=False,
) -> Tensor:
    """Resize an NCHW tensor, as ``torch.nn.functional.interpolate`` (same argument order);
    or an (N, C, L) signal with mode 'nearest' or 'linear' (``size`` and ``scale_factor`` then
    single numbers, or 1-tuples).

    Give either ``size`` (int or (H, W)) or ``scale_factor`` (number or pair; the output has
    floor(H * scale) rows). ``mode`` is 'nearest' (PyTorch's 'nearest': y[o] = x[floor(o / scale)]),
    'bilinear' or 'bicubic' (``align_corners`` False by default, as PyTorch; True is supported
    too). 'bicubic' is PyTorch's: Keys' cubic convolution with A = -0.75 over the 4 samples
    around the source position, the border samples repeated past the edges; like PyTorch's,
    it may overshoot the input's range (clamp an image afterwards). Integer factors take fast
    paths: repeat for nearest, strided slices for bilinear; other sizes, and bicubic, use the
    cached interpolation matrices.

    ``recompute_scale_factor=True`` (with ``scale_factor``) resamples as if the output size
    floor(H * scale) had been given, as PyTorch does; ``antialias`` is accepted at False only.
    'linear', 'bilinear' and 'bicubic' take a floating-point input; 'nearest' any dtype.
    """
    op = "interpolate"
    x = input
    if antialias:
        raise ValueError(f"{op}: antialias=True is not supported, only antialias=False")
    dtype = getattr(x, "dtype", None)
    if mode in ("linear", "bilinear", "bicubic") and not (
        dtype is None or np.issubdtype(dtype, np.floating)
    ):
        raise TypeError(
            f"{op}: mode={mode!r} expects a floating-point input, got {dtype} (convert it with "
            f".float(); mode='nearest' takes any dtype)"
        )
    if recompute_scale_factor and scale_factor is not None and size is None:
        lengths = x.shape[2:]
        factors = scale_factor if isinstance(scale_factor, tuple | list) else [scale_factor]
        factors = list(factors) * (len(lengths) if len(factors) == 1 else 1)
        if len(factors) == len(lengths) and all(
            isinstance(f, numbers.Real) and not isinstance(f, bool) and f > 0 for f in factors
        ):
            size = tuple(math.floor(n * float(f)) for n, f in zip(lengths, factors))
            scale_factor = None  # bad factors are left to the checks below, for their messages
    if getattr(x, "ndim", None) == 3:
        return _interpolate_signal(x, size, scale_factor, mode, align_corners)
    if mode == "linear":
        raise ValueError(
            f"{op}: mode='linear' resizes a 3-d (N, C, L) signal, got shape {tuple(x.shape)}; "
            f"an image's is 'bilinear'"
        )
    if mode not in ("nearest", "bilinear", "bicubic"):
        raise ValueError(f"{op}: mode must be 'nearest', 'bilinear' or 'bicubic', got {mode!r}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError(
            f"{op}: align_corners only applies to mode='bilinear' or 'bicubic', not {mode!r}"
        )
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-d NCHW input, got shape {tuple(x.shape)}")
    if (size is None) == (scale_factor is None):
        raise ValueError(
            f"{op}: give exactly one of size and scale_factor, got {size=}, {scale_factor=}"
        )
    h, w = x.shape[2:]
    if size is not None:
        out = _pair(size, "size", op, 1)
        scale = (None, None)
    else:
        scale = _scale_pair(scale_factor, op)
        out = (math.floor(h * scale[0]), math.floor(w * scale[1]))
        if min(out) < 1:
            raise ValueError(
                f"{op}: scale_factor {scale_factor!r} leaves no samples of an input of shape "
                f"{tuple(x.shape)} (output {out[0]}x{out[1]})"
            )
    return Upsample.apply(x, size=out, scale=scale, mode=mode, align_corners=bool(align_corners))


def upsample(
    input,  # noqa: A002 - PyTorch's name
    scale_factor=None,
    mode="nearest",
    size=None,
    align_corners=None,
) -> Tensor:
    """``interpolate`` with the scale factor first: ``upsample(x, 2)``, ``upsample(x, 2,
    'bilinear')``. (PyTorch's deprecated ``upsample`` takes ``size`` first; use
    ``interpolate`` for that order.)"""
    return interpolate(
        input, size=size, scale_factor=scale_factor, mode=mode, align_corners=align_corners
    )
