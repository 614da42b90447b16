"""Shape ops: reshape, transpose/permute, flatten, concat, stack, pad, indexing, device moves."""

from __future__ import annotations

import builtins

import numpy as np

from .. import backend
from ..autograd import Function, SliceGrad, Tensor, _fits, as_tensor_like, torch_spelling
from ..backend import array_module
from .elementwise import where


class Reshape(Function):
    """z = a viewed with another shape;  the gradient is reshaped back."""

    def forward(self, a, shape):
        self.in_shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot view shape {a.shape} as {tuple(shape)}") from None

    def backward(self, g):
        return g.reshape(self.in_shape)


class Transpose(Function):
    """z = a with its axes permuted;  the gradient is permuted back by the inverse permutation."""

    def forward(self, a, axes=None):
        if axes is None:
            axes = tuple(reversed(range(a.ndim)))
        else:
            bad = [ax for ax in axes if not -a.ndim <= ax < a.ndim]
            if bad:
                raise ValueError(
                    f"permute: dim {bad[0]} is out of range for {a.ndim} dimensions "
                    f"(expected one in [{-a.ndim}, {a.ndim - 1}])"
                )
            axes = tuple(ax % a.ndim for ax in axes)
        if sorted(axes) != list(range(a.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of {a.ndim} axes")
        self.inverse = tuple(sorted(range(a.ndim), key=axes.__getitem__))
        return a.transpose(axes)

    def backward(self, g):
        return g.transpose(self.inverse)


class Concat(Function):
    """z = [a_1, a_2, ...] joined along ``axis``;  each a_i gets its slice of the gradient."""

    def forward(self, *arrays, axis=0):
        xp = array_module(arrays[0])
        self.axis = axis
        self.sizes = [a.shape[axis] for a in arrays]
        return xp.concatenate(arrays, axis=axis)

    def backward(self, g):
        out, start = [], 0
        for n in self.sizes:
            idx = [slice(None)] * g.ndim
            idx[self.axis] = slice(start, start + n)
            out.append(g[tuple(idx)])
            start += n
        return tuple(out)


class Stack(Function):
    """z = the a_i stacked on a new ``axis``;  each a_i gets its slice of the gradient."""

    def forward(self, *arrays, axis=0):
        xp = array_module(arrays[0])
        self.axis = axis
        return xp.stack(arrays, axis=axis)

    def backward(self, g):
        xp = array_module(g)
        return tuple(xp.take(g, i, axis=self.axis) for i in range(g.shape[self.axis]))


class Pad(Function):
    """Pad with a constant, by reflection (mirror without repeating the edge, as np 'reflect'),
    by replication (the edge value repeated, np 'edge') or circularly (the other end's values,
    np 'wrap'), each axis in turn.

    The gradient of constant padding is the centre crop; the other modes also fold the gradient
    of each border back onto the pixels it copied, with one slice-add a border: reflection onto
    the mirrored pixels (reversed), replication onto the edge pixel (summed), circular padding
    onto the other end's pixels.
    """

    _NUMPY = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}

    def forward(self, a, widths, mode="constant", value=0.0):
        xp = array_module(a)
        self.widths, self.mode = widths, mode
        if mode == "constant":
            return xp.pad(a, widths, mode="constant", constant_values=value)
        for axis, (n, (lo, hi)) in enumerate(zip(a.shape, widths)):
            if mode == "reflect" and (lo or hi) and (lo >= n or hi >= n):  # (unpadded: any n)
                raise ValueError(
                    f"pad: reflect padding ({lo}, {hi}) of axis {axis} must be smaller than the "
                    f"size {n} of that axis of the input of shape {tuple(a.shape)}"
                )
            if mode == "circular" and (lo > n or hi > n):
                raise ValueError(
                    f"pad: circular padding ({lo}, {hi}) of axis {axis} must be at most the "
                    f"size {n} of that axis of the input of shape {tuple(a.shape)} (it would "
                    "wrap around more than once)"
                )
            if mode == "replicate" and n == 0 and (lo or hi):
                raise ValueError(
                    f"pad: replicate padding of axis {axis} needs a value to repeat, got input "
                    f"of shape {tuple(a.shape)}"
                )
        return xp.pad(a, widths, mode=self._NUMPY[mode])

    def backward(self, g):
        for axis, (lo, hi) in enumerate(self.widths):
            if lo == 0 and hi == 0:
                continue
            n = g.shape[axis] - lo - hi
            core = _take(g, axis, lo, lo + n).copy()
            before, after = _take(g, axis, 0, lo), _take(g, axis, lo + n, lo + n + hi)
            if self.mode == "reflect":
                if lo:  # padded[lo - 1 - i] = a[1 + i]
                    _view(core, axis, 1, lo + 1)[...] += _flip(before, axis)
                if hi:  # padded[lo + n + i] = a[n - 2 - i]
                    _view(core, axis, n - 1 - hi, n - 1)[...] += _flip(after, axis)
            elif self.mode == "replicate":
                if lo:  # padded[i] = a[0] for i < lo
                    _view(core, axis, 0, 1)[...] += before.sum(axis=axis, keepdims=True)
                if hi:  # padded[lo + n + i] = a[n - 1]
                    _view(core, axis, n - 1, n)[...] += after.sum(axis=axis, keepdims=True)
            elif self.mode == "circular":
                if lo:  # padded[i] = a[n - lo + i]
                    _view(core, axis, n - lo, n)[...] += before
                if hi:  # padded[lo + n + i] = a[i]
                    _view(core, axis, 0, hi)[...] += after
            g = core
        return g


def _take(a, axis, start, stop):
    idx = [slice(None)] * a.ndim
    idx[axis] = slice(start, stop)
    return a[tuple(idx)]


_view = _take


def _flip(a, axis):
    idx = [slice(None)] * a.ndim
    idx[axis] = slice(None, None, -1)
    return a[tuple(idx)]


def _is_basic_index(idx) -> bool:
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(isinstance(i, int | slice | type(None)) or i is Ellipsis for i in items)


class GetItem(Function):
    """z = a[idx] (slices, integers, integer or boolean arrays);
    the gradient is scattered back, adding where an index repeats."""

    def forward(self, a, idx):
        self.in_shape, self.idx, self.dtype = a.shape, idx, a.dtype
        return a[idx]

    def backward(self, g):
        xp = array_module(g)
        if _is_basic_index(self.idx):  # zero outside the slice: the engine adds it in place
            return SliceGrad(self.idx, g)
        out = xp.zeros(self.in_shape, dtype=g.dtype)
        if xp is array_module(0):
            xp.add.at(out, self.idx, g)
        else:  # CuPy
            import cupyx  # noqa: PLC0415

            cupyx.scatter_add(out, self.idx, g)
        return out


class Flip(Function):
    """z = a reversed along each axis in ``axes``;  the gradient is reversed back."""

    def forward(self, a, axes):
        self.axes = axes
        return array_module(a).flip(a, axes).copy()  # a copy, as torch.flip's

    def backward(self, g):
        return array_module(g).flip(g, self.axes)


class Repeat(Function):
    """z = a tiled ``reps`` times along each axis (a first viewed with len(reps) axes, new ones
    of length 1 in front), as ``torch.Tensor.repeat``;  each element of a gets the sum of the
    gradient over its copies: g viewed as (r_0, n_0, r_1, n_1, ...), summed over every r_i."""

    def forward(self, a, reps):
        xp = array_module(a)
        self.in_shape = a.shape
        self.shape = (1,) * (len(reps) - a.ndim) + a.shape
        self.reps = reps
        return xp.tile(a.reshape(self.shape), reps)

    def backward(self, g):
        split = tuple(n for pair in zip(self.reps, self.shape) for n in pair)
        g = g.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return g.reshape(self.in_shape)


class Expand(Function):
    """z = a broadcast to ``shape`` (a read-only view: no copy), as ``torch.Tensor.expand``;
    the engine sums the gradient back over the broadcast axes."""

    def forward(self, a, shape):
        return array_module(a).broadcast_to(a, shape)

    def backward(self, g):
        return g


class Clone(Function):
    """z = a copy of a, in memory of its own;  dz/da = 1."""

    def forward(self, a):
        return a.copy()

    def backward(self, g):
        return g


class ToDevice(Function):
    """z = a copied to another device;  the gradient is copied back."""

    def forward(self, a, device):
        self.source = backend.device_of(a)
        return backend.to_device(a, device)

    def backward(self, g):
        return backend.to_device(g, self.source)


# --------------------------------------------------------------------------- the functions


def clone(x) -> Tensor:
    """A copy of ``x`` in memory of its own, still in the graph, as ``torch.clone``: changing
    one in place leaves the other, and gradients flow back through the copy."""
    return Clone.apply(x)


def reshape(x, shape) -> Tensor:
    if isinstance(shape, int):
        shape = (shape,)
    return Reshape.apply(x, shape=tuple(shape))


def transpose(x, *dims, axes=None) -> Tensor:
    """Permute the axes, as ``ndarray.transpose``: ``transpose(x, (2, 0, 1))`` (or
    ``axes=(2, 0, 1)``), and ``transpose(x)`` reverses them. Two separate axes swap those two,
    as ``torch.transpose(x, dim0, dim1)``: ``transpose(x, 0, 1)`` of a matrix is its transpose,
    ``transpose(x, -1, -2)`` swaps the last two axes of a batch."""
    if len(dims) == 2 and all(isinstance(d, int | np.integer) for d in dims):
        if axes is not None:
            raise TypeError("transpose: give either two axes to swap or axes=, not both")
        ndim = as_tensor_like(x).ndim
        for d in dims:
            if not -builtins.max(ndim, 1) <= d < builtins.max(ndim, 1):
                raise ValueError(f"transpose: axis {d} is out of range for {ndim} dimensions")
        order = list(range(ndim))
        i, j = (int(d) % builtins.max(ndim, 1) for d in dims)
        if ndim:
            order[i], order[j] = order[j], order[i]
        return Transpose.apply(x, axes=tuple(order))
    if len(dims) > 1:
        raise TypeError(
            f"transpose: expected a tuple of axes or two axes to swap, got {len(dims)} arguments "
            f"{dims}; for a permutation of every axis use permute(x, {', '.join(map(str, dims))})"
        )
    if dims:
        if axes is not None:
            raise TypeError("transpose: axes given twice, as an argument and as axes=")
        axes = dims[0]
    return Transpose.apply(x, axes=axes)


def permute(x, *axes) -> Tensor:
    if len(axes) == 1 and isinstance(axes[0], tuple | list):
        axes = tuple(axes[0])
    return Transpose.apply(x, axes=axes)


def flatten(x, start_dim=0, end_dim=-1) -> Tensor:
    """Merge the axes start_dim..end_dim into one, as ``torch.flatten``."""
    (s,) = _dims("flatten", start_dim, x.ndim)
    (e,) = _dims("flatten", end_dim, x.ndim)
    if s > e:
        raise ValueError(
            f"flatten: start_dim {start_dim} comes after end_dim {end_dim} (for {x.ndim} "
            f"dimensions): the axes to merge run from start_dim to end_dim"
        )
    n = 1
    for d in x.shape[s : e + 1]:
        n *= d
    return reshape(x, x.shape[:s] + (n,) + x.shape[e + 1 :])


def unsqueeze(x, dim) -> Tensor:
    """A new axis of length 1 at ``dim`` (-ndim-1 <= dim <= ndim), as ``torch.unsqueeze``."""
    x = as_tensor_like(x)
    if not -x.ndim - 1 <= dim <= x.ndim:
        raise ValueError(
            f"unsqueeze: dim {dim} is out of range for {x.ndim} dimensions "
            f"(expected {-x.ndim - 1} to {x.ndim})"
        )
    d = dim % (x.ndim + 1)
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def squeeze(x, dim=None) -> Tensor:
    """Without ``dim``, every axis of length 1 removed; with it (an int, or a tuple of them),
    each of those axes whose length is 1 (others kept), as ``torch.squeeze``."""
    x = as_tensor_like(x)
    if dim is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    gone = set()
    for d in dim if isinstance(dim, tuple | list) else (dim,):
        if not -builtins.max(x.ndim, 1) <= d < builtins.max(x.ndim, 1):
            raise ValueError(f"squeeze: dim {d} is out of range for {x.ndim} dimensions")
        gone.add(d % builtins.max(x.ndim, 1))
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if n != 1 or i not in gone))


def concat(tensors, axis=0, *, dim=None) -> Tensor:
    """Join tensors along an existing ``axis`` (PyTorch's ``dim=`` is accepted too)."""
    axis = torch_spelling("cat", "axis", axis, "dim", dim, 0)
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concat needs at least one tensor")
    ndim = as_tensor_like(tensors[0]).ndim
    if ndim == 0:
        raise ValueError("cat: a 0-d tensor cannot be joined along a dim; stack them instead")
    (axis,) = _dims("cat", axis, ndim)
    return Concat.apply(*tensors, axis=axis)


cat = concat


def stack(tensors, axis=0, *, dim=None) -> Tensor:
    """Join tensors of one shape along a new ``axis`` (PyTorch's ``dim=`` is accepted too)."""
    axis = torch_spelling("stack", "axis", axis, "dim", dim, 0)
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    return Stack.apply(*tensors, axis=axis)


def pad(x, pad, mode="constant", value=0.0) -> Tensor:
    """Pad as ``torch.nn.functional.pad``: ``pad`` lists (before, after) pairs starting from the
    LAST axis, e.g. (left, right, top, bottom) for NCHW. ``mode`` is 'constant' (with
    ``value``), 'reflect' (mirrored about the edge pixel, which is not repeated: each width must
    be smaller than its axis), 'replicate' (the edge pixel repeated) or 'circular' (the other
    end's pixels, as if the axis wrapped around: each width at most its axis). CycleGAN's and
    pix2pix's generators pad by reflection before their 7x7 convolutions, so that no dark
    zero border leaks into the picture."""
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected pairs for at most {x.ndim} axes, got {pad}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(
            f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}"
        )
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if builtins.any(lo < 0 or hi < 0 for lo, hi in widths):
        raise ValueError(f"pad: widths must be non-negative, got {pad}")
    return Pad.apply(x, widths=tuple(widths), mode=mode, value=value)


def _pixel_shuffle(a, r):
    """(*, C r^2, H, W) -> (*, C, H r, W r): out[..., c, h r + i, w r + j] = a[..., c r^2 + i r + j,
    h, w], a reshape, a transpose and a reshape (a copy)."""
    *lead, c, h, w = a.shape
    k = len(lead)
    a = a.reshape(*lead, c // (r * r), r, r, h, w)
    return a.transpose(*range(k), k, k + 3, k + 1, k + 4, k + 2).reshape(
        *lead, c // (r * r), h * r, w * r
    )


def _pixel_unshuffle(a, r):
    """The inverse permutation: (*, C, H r, W r) -> (*, C r^2, H, W)."""
    *lead, c, h, w = a.shape
    k = len(lead)
    a = a.reshape(*lead, c, h // r, r, w // r, r)
    return a.transpose(*range(k), k, k + 2, k + 4, k + 1, k + 3).reshape(
        *lead, c * r * r, h // r, w // r
    )


class PixelShuffle(Function):
    """A permutation of the values, so the gradient is the inverse permutation of g: pixel
    unshuffle is pixel shuffle's backward pass, and pixel shuffle unshuffle's."""

    def forward(self, a, r, inverse=False):
        self.r, self.inverse = r, inverse
        return _pixel_unshuffle(a, r) if inverse else _pixel_shuffle(a, r)

    def backward(self, g):
        return _pixel_shuffle(g, self.r) if self.inverse else _pixel_unshuffle(g, self.r)


def _factor(op, name, r):
    if isinstance(r, bool) or not isinstance(r, int | np.integer) or r < 1:
        raise ValueError(f"{op}: {name} must be a positive int, got {r!r}")
    return int(r)


def pixel_shuffle(input, upscale_factor) -> Tensor:  # noqa: A002 - PyTorch's name
    """Rearrange (*, C r^2, H, W) into (*, C, H r, W r), as ``torch.nn.functional.pixel_shuffle``
    (Shi et al., 2016, "sub-pixel convolution"): each group of r^2 channels becomes an r x r
    block of pixels, ``out[..., c, h r + i, w r + j] = x[..., c r^2 + i r + j, h, w]``. A
    convolution to C r^2 channels followed by it upsamples without the checkerboard of a
    strided transposed convolution (ESRGAN's and many colorizers' upsampling)."""
    x = as_tensor_like(input)
    r = _factor("pixel_shuffle", "upscale_factor", upscale_factor)
    if x.ndim < 3 or x.shape[-3] % (r * r):
        raise ValueError(
            f"pixel_shuffle: expected an input of shape (*, C * {r * r}, H, W), channels "
            f"divisible by upscale_factor**2 = {r * r}, got {x.shape}"
        )
    return PixelShuffle.apply(x, r=r)


def pixel_unshuffle(input, downscale_factor) -> Tensor:  # noqa: A002 - PyTorch's name
    """The inverse of ``pixel_shuffle``, as ``torch.nn.functional.pixel_unshuffle``: (*, C,
    H r, W r) into (*, C r^2, H, W), each r x r block of pixels becoming r^2 channels, a
    downsampling that loses nothing."""
    x = as_tensor_like(input)
    r = _factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    if x.ndim < 3 or x.shape[-2] % r or x.shape[-1] % r:
        raise ValueError(
            f"pixel_unshuffle: expected an input of shape (*, C, H, W) with H and W divisible "
            f"by downscale_factor = {r}, got {x.shape}"
        )
    return PixelShuffle.apply(x, r=r, inverse=True)


def _dims(op, dims, ndim):
    """``dims`` (an int, or a tuple or list of them) as distinct non-negative axes of ``ndim``."""
    dims = (dims,) if isinstance(dims, int | np.integer) else tuple(dims)
    nd = builtins.max(ndim, 1)
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int | np.integer) or not -nd <= d < nd:
            raise ValueError(f"{op}: dim {d!r} is out of range for {ndim} dimensions")
    out = tuple(int(d) % nd for d in dims)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dims {dims} name an axis twice")
    return out


def _sizes(op, sizes):
    """PyTorch's ``*sizes``: ``f(2, 3)`` or ``f((2, 3))``, as a tuple of ints."""
    if len(sizes) == 1 and isinstance(sizes[0], tuple | list):
        sizes = tuple(sizes[0])
    if not builtins.all(isinstance(n, int | np.integer) and not isinstance(n, bool) for n in sizes):
        raise TypeError(f"{op}: sizes must be ints, got {sizes}")
    return tuple(int(n) for n in sizes)


def flip(x, dims) -> Tensor:
    """``x`` reversed along each axis in ``dims`` (an int or a tuple), a copy, as
    ``torch.flip``: ``flip(img, 3)`` mirrors an NCHW batch left to right."""
    x = as_tensor_like(x)
    return Flip.apply(x, axes=_dims("flip", dims, x.ndim))


def repeat(x, *sizes) -> Tensor:
    """``x`` tiled ``sizes[i]`` times along axis i, as ``torch.Tensor.repeat`` (NumPy's
    ``tile``): ``x.repeat(2, 1)`` of a (3, 4) tensor is (6, 4). More sizes than axes add new
    leading axes; fewer are refused."""
    x = as_tensor_like(x)
    reps = _sizes("repeat", sizes)
    if len(reps) < x.ndim:
        raise ValueError(
            f"repeat: expected at least {x.ndim} sizes, one per dimension of the tensor of "
            f"shape {x.shape}, got {reps}"
        )
    if builtins.any(n < 0 for n in reps):
        raise ValueError(f"repeat: sizes must be >= 0, got {reps}")
    return Repeat.apply(x, reps=reps)


def expand(x, *sizes) -> Tensor:
    """``x`` broadcast to ``sizes`` without copying, as ``torch.Tensor.expand``: an axis of
    length 1 may grow, -1 keeps an axis as it is, and extra sizes add leading axes. The result
    is a read-only view: ``.clone()`` it to write into it."""
    x = as_tensor_like(x)
    sizes = _sizes("expand", sizes)
    extra = len(sizes) - x.ndim
    if extra < 0:
        raise ValueError(
            f"expand: expected at least {x.ndim} sizes for the tensor of shape {x.shape}, "
            f"got {sizes}"
        )
    shape = []
    for i, n in enumerate(sizes):
        old = x.shape[i - extra] if i >= extra else None
        if n == -1:
            if old is None:
                raise ValueError(f"expand: -1 is not allowed for the new leading axis {i}")
            n = old
        elif n < 0 or (old is not None and old != 1 and old != n):
            raise ValueError(
                f"expand: cannot expand the tensor of shape {x.shape} to {sizes}: only an axis "
                f"of length 1 can grow (-1 keeps one)"
            )
        shape.append(n)
    return Expand.apply(x, shape=tuple(shape))


def split(x, split_size_or_sections, dim=0) -> tuple:
    """``x`` cut along ``dim`` into pieces of ``split_size_or_sections`` (the last one smaller
    if it does not divide the length), or of the sizes in a list summing to the length, as
    ``torch.split``. A tuple of views of x, each in the graph."""
    x = as_tensor_like(x)
    if x.ndim == 0:
        raise ValueError("split: cannot split a 0-D tensor")
    (axis,) = _dims("split", dim, x.ndim)
    n = x.shape[axis]
    if isinstance(split_size_or_sections, int | np.integer):
        size = int(split_size_or_sections)
        if size <= 0 and not (size == 0 and n == 0):
            raise ValueError(f"split: split_size must be a positive int, got {size}")
        sizes = [builtins.min(size, n - i) for i in range(0, n, size)] if n else [0]
    else:
        sizes = [int(k) for k in split_size_or_sections]
        if builtins.any(k < 0 for k in sizes) or builtins.sum(sizes) != n:
            raise ValueError(
                f"split: sections {sizes} must be >= 0 and sum to the length {n} of dim {dim} "
                f"of the tensor of shape {x.shape}"
            )
    pieces, start = [], 0
    for k in sizes:
        idx = (slice(None),) * axis + (slice(start, start + k),)
        pieces.append(getitem(x, idx))
        start += k
    return tuple(pieces)


def chunk(x, chunks, dim=0) -> tuple:
    """``x`` cut along ``dim`` into ``chunks`` pieces of ceil(length / chunks) (the last
    smaller; fewer pieces when the length runs out first), as ``torch.chunk``."""
    x = as_tensor_like(x)
    if isinstance(chunks, bool) or not isinstance(chunks, int | np.integer) or chunks < 1:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    if x.ndim == 0:
        raise ValueError("chunk: cannot chunk a 0-D tensor")
    (axis,) = _dims("chunk", dim, x.ndim)
    n = x.shape[axis]
    if n == 0:  # as PyTorch: ``chunks`` empty pieces, so that a, b = x.chunk(2) unpacks
        return split(x, [0] * int(chunks), axis)
    return split(x, builtins.max(-(-n // int(chunks)), 1), axis)


def masked_fill(x, mask, value) -> Tensor:
    """``x`` with ``value`` where ``mask`` (booleans broadcasting to x's shape) is True, as
    ``torch.masked_fill``: ``scores.masked_fill(mask == 0, float("-inf"))`` before a
    softmax. The gradient reaches x where mask is False (and a tensor ``value`` where True)."""
    x = as_tensor_like(x)
    m = mask.data if isinstance(mask, Tensor) else mask
    m = m if hasattr(m, "dtype") else np.asarray(m)
    if m.dtype != np.bool_:
        raise TypeError(
            f"masked_fill: mask must be boolean, got dtype {m.dtype}; compare to make one "
            "(mask == 0)"
        )
    if not _fits(m.shape, x.shape):
        raise ValueError(
            f"masked_fill: mask of shape {tuple(m.shape)} does not broadcast to the shape "
            f"{x.shape} of the tensor"
        )
    if isinstance(value, Tensor) and value.ndim:
        raise ValueError(
            f"masked_fill: value must be a number or a 0-D tensor, got shape {value.shape}"
        )
    return where(mask if isinstance(mask, Tensor) else m, value, x)


def getitem(x, idx) -> Tensor:
    x = as_tensor_like(x)
    if isinstance(idx, Tensor):
        idx = idx.data
    elif isinstance(idx, tuple):
        idx = tuple(i.data if isinstance(i, Tensor) else i for i in idx)
    return GetItem.apply(x, idx=idx)


def broadcast_to(input, size) -> Tensor:  # noqa: A002 - PyTorch's name
    """``input`` broadcast to the shape ``size`` without copying, as ``torch.broadcast_to``
    (``expand``'s rules: -1 keeps an axis)."""
    return expand(input, tuple(size))


def meshgrid(*tensors, indexing="ij") -> tuple:
    """Coordinate grids from 1-D tensors, as ``torch.meshgrid``: with ``indexing='ij'`` (matrix
    indexing, PyTorch's default) output i varies along axis i; with ``'xy'`` (Cartesian, as
    NumPy's default and ``plt.pcolormesh`` expect) the first two axes are swapped, so
    ``xs, ys = meshgrid(x, y, indexing='xy')`` has shape (len(y), len(x)). Each grid is an
    expanded view of its input (``clone`` it to write), in the graph."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = [as_tensor_like(t, tensors) for t in tensors]
    for t in ts:
        if t.ndim > 1:
            raise ValueError(f"meshgrid: expected 0-D or 1-D tensors, got shape {t.shape}")
    axes = list(range(len(ts)))
    if indexing == "xy" and len(ts) > 1:
        axes[0], axes[1] = 1, 0
    shape = [0] * len(ts)
    for t, ax in zip(ts, axes):
        shape[ax] = t.size
    return tuple(
        expand(reshape(t, [-1 if i == ax else 1 for i in range(len(ts))]), *shape)
        for t, ax in zip(ts, axes)
    )
