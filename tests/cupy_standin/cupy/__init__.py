"""A stand-in for CuPy, backed by NumPy, for running the tests' cuda cases on a machine with no
GPU: ``PYTHONPATH=tests/cupy_standin python -m pytest -m gpu`` (``.ci/run`` does).

It is not a GPU and proves nothing about CUDA; it checks what CuPy is strict about and NumPy is
not, which is where code written and tested on the CPU breaks on a GPU:

* ``cupy.ndarray`` is its own type (a NumPy subclass); a ufunc or array function given both a
  ``cupy.ndarray`` and a ``numpy.ndarray`` raises TypeError, as CuPy does;
* ``np.asarray`` / ``np.array`` / ``np.ascontiguousarray`` of a ``cupy.ndarray`` raise TypeError
  (CuPy refuses implicit conversion: ``.get()`` or ``cupy.asnumpy`` it is); importing this
  module makes those three NumPy functions strict for the whole process;
* reductions (argmax/argmin included) and scalar indexing give 0-d arrays, not NumPy scalars;
* ``ElementwiseKernel`` runs the one kernel tinycolor defines (``tinycolor_col2im``), with its
  index arithmetic written again in NumPy over all output pixels and bounds-checked reads.

Anything else tinycolor does not use is missing (AttributeError), not faked.
"""

from __future__ import annotations

import types

import numpy as _np

_np_asarray, _np_array, _np_ascontiguousarray = _np.asarray, _np.array, _np.ascontiguousarray


class ndarray(_np.ndarray):  # noqa: N801 - CuPy's name
    """An array "on the GPU": NumPy memory, CuPy's rules."""

    def get(self, stream=None, out=None):
        return _np_array(self.view(_np.ndarray), copy=True)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out") or ()
        _check_mix(ufunc.__name__, inputs + tuple(out))
        if out:
            kwargs["out"] = tuple(_unwrap(o) for o in out)
        result = getattr(ufunc, method)(*(_unwrap(x) for x in inputs), **kwargs)
        if out:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types_, args, kwargs):
        _check_mix(func.__name__, _flatten(args) + _flatten(tuple(kwargs.values())))
        return _wrap(func(*_unwrap_tree(args), **_unwrap_tree(kwargs)))

    def __getitem__(self, index):
        return _wrap(_np.ndarray.__getitem__(self, _unwrap_tree(index)))

    def __setitem__(self, index, value):
        # CuPy takes a host array only as the source of a fancy-indexed assignment
        if isinstance(value, _np.ndarray) and not isinstance(value, ndarray) and value.shape:
            items = index if isinstance(index, tuple) else (index,)
            if not any(isinstance(i, _np.ndarray | list) for i in items):
                raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        _np.ndarray.__setitem__(self, _unwrap_tree(index), _unwrap(value))

    def __array_wrap__(self, arr, context=None, return_scalar=False):
        return _wrap(arr)

    # NumPy's ndarray.argmax/argmin of the whole array give a NumPy scalar (they go through no
    # ufunc nor array function); CuPy's give a 0-d array on the GPU
    def argmax(self, *args, **kwargs):
        return _wrap(_np.ndarray.argmax(self, *args, **kwargs))

    def argmin(self, *args, **kwargs):
        return _wrap(_np.ndarray.argmin(self, *args, **kwargs))

    @property
    def device(self):
        """The GPU the array lives on, a ``cupy.cuda.Device`` (the stand-in has one, id 0)."""
        return cuda.Device(0)

    def __repr__(self):
        return "cupy-standin." + repr(self.view(_np.ndarray))


def _flatten(items):
    out = []
    for x in items:
        out += _flatten(x) if isinstance(x, list | tuple) else [x]
    return tuple(out)


def _check_mix(name, items):
    host = [x for x in items if isinstance(x, _np.ndarray) and not isinstance(x, ndarray)]
    if host and any(isinstance(x, ndarray) for x in items):
        raise TypeError(f"cupy-standin: {name} mixes cupy.ndarray with numpy.ndarray")


def _unwrap(x):
    return x.view(_np.ndarray) if isinstance(x, ndarray) else x


def _unwrap_tree(x):
    if isinstance(x, tuple | list):
        return type(x)(_unwrap_tree(v) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap_tree(v) for k, v in x.items()}
    return _unwrap(x)


def _wrap(r):
    if isinstance(r, ndarray):
        return r
    if isinstance(r, _np.ndarray):
        return r.view(ndarray)
    if isinstance(r, _np.generic):  # CuPy's reductions give 0-d arrays
        return _np_array(r).view(ndarray)
    if isinstance(r, tuple | list):
        return type(r)(_wrap(v) for v in r)
    return r


def _conversion(numpy_function):
    def convert(a, *args, **kwargs):
        result = numpy_function(_unwrap(a), *args, **kwargs)
        if numpy_function is _np_array and result is _unwrap(a):
            result = result.copy()
        return _wrap(result)

    return convert


asarray = _conversion(_np_asarray)
array = _conversion(_np_array)
ascontiguousarray = _conversion(_np_ascontiguousarray)


def __getattr__(name):
    """Every other NumPy function, with CuPy's refusal to mix in host arrays."""
    if name.startswith("__"):
        raise AttributeError(name)
    f = getattr(_np, name)
    if not callable(f) or isinstance(f, type):
        return f

    def call(*args, **kwargs):
        _check_mix(name, _flatten(args) + _flatten(tuple(kwargs.values())))
        return _wrap(f(*_unwrap_tree(args), **_unwrap_tree(kwargs)))

    call.__name__ = name
    return call


def asnumpy(a, stream=None, order="C", out=None):
    return a.get() if isinstance(a, ndarray) else _np_asarray(a)


class _Generator:
    def __init__(self, seed):
        self._g = _np.random.default_rng(seed)

    def random(self, size=None, dtype=_np.float64, out=None):
        return _wrap(self._g.random(size, dtype=dtype))

    def standard_normal(self, size=None, dtype=_np.float64, out=None):
        return _wrap(self._g.standard_normal(size, dtype=dtype))

    def uniform(self, low=0.0, high=1.0, size=None, dtype=_np.float64):
        return _wrap(self._g.uniform(low, high, size).astype(dtype))

    def integers(self, *args, **kwargs):
        return _wrap(self._g.integers(*args, **kwargs))


random = types.SimpleNamespace(default_rng=lambda seed=None: _Generator(seed))
lib = types.SimpleNamespace(
    stride_tricks=types.SimpleNamespace(
        sliding_window_view=lambda x, window_shape, axis=None, **kw: _wrap(
            _np.lib.stride_tricks.sliding_window_view(_unwrap(x), window_shape, axis=axis)
        ),
        as_strided=lambda x, shape=None, strides=None: _wrap(
            _np.lib.stride_tricks.as_strided(_unwrap(x), shape, strides)
        ),
    )
)


class _Device:
    """``cupy.cuda.Device``: a GPU by its ``id``; ``Device()`` is the current one (the stand-in
    has one GPU, id 0)."""

    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)

    def __eq__(self, other):
        return isinstance(other, _Device) and other.id == self.id

    def __hash__(self):
        return self.id

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


cuda = types.SimpleNamespace(
    runtime=types.SimpleNamespace(getDeviceCount=lambda: 1), Device=_Device
)


class ElementwiseKernel:
    """Only ``tinycolor_col2im``: for every output pixel i (the kernel's threads, all at once),
    the sum of the column entries whose window reads it, through the same index arithmetic as
    the CUDA source in ``tinycolor.functional.conv``; a read outside the columns raises."""

    def __init__(self, in_params, out_params, operation, name="kernel", **kwargs):
        if name != "tinycolor_col2im":
            raise NotImplementedError(f"cupy-standin: no kernel {name!r}")

    def __call__(self, col, C, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw, *rest):  # noqa: N803
        *strides, img = rest
        s0, s1, s2, s3, s4, s5 = strides
        if not (isinstance(col, ndarray) and isinstance(img, ndarray)):
            raise TypeError("cupy-standin: the kernel's arrays must be cupy arrays")
        for v in (C, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw):
            if not isinstance(v, int | _np.integer) or not -(2**31) <= int(v) < 2**31:
                raise TypeError(f"cupy-standin: an int32 argument is {v!r}")
        flat = _unwrap(col).ravel(order="C")  # a raw argument is read by C-order element index
        i = _np.arange(img.size, dtype=_np.int64)
        px, py = i % W, (i // W) % H
        ch, b = (i // (W * H)) % C, i // (W * H * C)
        acc = _np.zeros(img.size, dtype=img.dtype)
        for ki in range(kh):
            ty = py + ph - ki * dh
            ok_y = (ty >= 0) & (ty % sh == 0) & (ty // sh < Ho)
            for kj in range(kw):
                tx = px + pw - kj * dw
                ok = ok_y & (tx >= 0) & (tx % sw == 0) & (tx // sw < Wo)
                idx = (b * s0 + ch * s1 + (ty // sh) * s2 + (tx // sw) * s3 + ki * s4 + kj * s5)[ok]
                if idx.size and (idx.min() < 0 or idx.max() >= flat.size):
                    raise IndexError(f"cupy-standin: col2im reads outside the {flat.size} columns")
                acc[ok] += flat[idx]
        _unwrap(img).reshape(-1)[...] = acc
        return img


def _strict(numpy_function, name):
    def refuse_device_arrays(a=None, *args, **kwargs):
        if isinstance(a, ndarray):
            raise TypeError(
                "Implicit conversion to a NumPy array is not allowed. Please use `.get()` "
                f"(cupy-standin, via np.{name})"
            )
        return numpy_function(a, *args, **kwargs)

    refuse_device_arrays.__name__ = name
    return refuse_device_arrays


_np.asarray = _strict(_np_asarray, "asarray")
_np.array = _strict(_np_array, "array")
_np.ascontiguousarray = _strict(_np_ascontiguousarray, "ascontiguousarray")
