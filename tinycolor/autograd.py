"""Reverse-mode automatic differentiation: ``Tensor``, ``Function`` and the graph walk.

A ``Tensor`` wraps an array (``.data``, NumPy or CuPy) and, when it was made by an op, the
``Function`` instance that made it (``._ctx``). Each Function subclass implements

* ``forward(*arrays, **options) -> array``: computes the result on raw arrays and saves what the
  backward pass needs with ``self.save_for_backward(...)`` (read back as ``self.saved``);
* ``backward(grad) -> grad or tuple of grads``: given dL/d(output), returns dL/d(input) for each
  positional input of ``apply``, in order (``None`` for one whose ``self.needs_input_grad[i]``
  is False). ``Function``'s docstring has the details; the engine names a gradient that is
  missing, extra, not an array or of the wrong shape.

The engine, not the op, does the bookkeeping common to every op:

* it sums a gradient back to its input's shape when the forward pass broadcast it
  (``unbroadcast``);
* it records the graph only when some input requires a gradient and grad mode is on;
* ``backward`` orders the graph with an iterative depth-first topological sort (no recursion,
  so a chain of 10,000 ops works) and visits each node once, after all its consumers;
* gradients **accumulate** into leaves: calling ``backward`` twice adds the second gradient to
  ``.grad``, as in PyTorch. Call ``zero_grad()`` on the tensor, the module or the optimizer
  to clear them between steps. Intermediate tensors do not keep their gradient, unless
  ``retain_grad()`` asked for it (then it accumulates in their ``.grad`` the same way).
  Unlike PyTorch, ``backward`` frees nothing (that is what lets it run twice): a result kept
  alive keeps its whole graph and every array the ops saved, so keep ``loss.item()`` in a
  list of losses, never ``loss`` (which costs each step's activations);
* it refuses to compute a gradient from an input that was changed in place after the forward
  pass saved it (``Tensor._version``, as in PyTorch): an optimizer step, an ``init_``
  function or ``p -= lr * p.grad`` under ``no_grad`` counts as a change; a write through
  ``t.data`` does not (it bypasses the graph).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
import threading

import numpy as np

from . import backend

_state = threading.local()


def is_grad_enabled() -> bool:
    return getattr(_state, "enabled", True)


class _GradMode(contextlib.ContextDecorator):
    """Sets grad mode to ``enabled`` inside a ``with`` block or a decorated function, and puts
    the previous mode back after. As in PyTorch, ``@no_grad`` works without parentheses too, and
    a decorated generator runs under the mode while it computes each item, not while its
    caller works between items."""

    enabled = True

    def __new__(cls, func=None):
        if func is None:
            return super().__new__(cls)
        if not callable(func):
            raise TypeError(f"{cls.__name__}() takes no arguments, got {func!r}")
        return cls()(func)  # @no_grad without parentheses

    def _recreate_cm(self):  # a fresh instance per decorated call: safe under recursion
        return type(self)()

    def __enter__(self):
        self._prev = is_grad_enabled()
        _state.enabled = self.enabled
        return self

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, func):
        if not inspect.isgeneratorfunction(func):
            return super().__call__(func)

        @functools.wraps(func)
        def generator(*args, **kwargs):
            gen = func(*args, **kwargs)
            try:
                with self._recreate_cm():
                    item = gen.send(None)
                while True:
                    try:
                        sent = yield item
                    except GeneratorExit:
                        with self._recreate_cm():
                            gen.close()
                        raise
                    except BaseException as exc:  # thrown in by the caller: pass it on
                        with self._recreate_cm():
                            item = gen.throw(exc)
                    else:
                        with self._recreate_cm():
                            item = gen.send(sent)
            except StopIteration as stop:
                return stop.value

        return generator


class no_grad(_GradMode):
    """Context manager (and decorator) that records no graph: for evaluation and updates."""

    enabled = False


class inference_mode(no_grad):
    """PyTorch's ``torch.inference_mode()``: here ``no_grad`` under that name (a context manager
    and a decorator, with or without parentheses). Its tensors are plain ones that later work
    may use in a graph, and ``inference_mode(False)`` is not taken: use ``enable_grad``."""


class enable_grad(_GradMode):
    """Turn graph recording back on inside a ``no_grad`` block."""

    enabled = True


class set_grad_enabled:
    """Grad mode on (``mode`` True) or off, as PyTorch's: a function that sets it at once
    (``set_grad_enabled(False)``), and a context manager that puts the previous mode back at
    the end of its block (``with set_grad_enabled(is_train): ...``)."""

    def __init__(self, mode: bool):
        self.prev = is_grad_enabled()
        _state.enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False


def is_tensor(obj) -> bool:
    """Whether ``obj`` is a Tensor, as ``torch.is_tensor``."""
    return isinstance(obj, Tensor)


def numel(input) -> int:  # noqa: A002 - PyTorch's name
    """The number of elements of ``input``, as ``torch.numel``."""
    return input.numel()


_hook_ids = itertools.count()


class RemovableHandle:
    """What ``register_hook``, ``register_forward_hook``, ``register_forward_pre_hook`` and
    ``register_full_backward_hook`` return: ``remove()`` takes the hook off (a second call
    does nothing), as does leaving a ``with handle:`` block, as PyTorch's
    ``torch.utils.hooks.RemovableHandle``."""

    def __init__(self, hooks: dict):
        self.hooks, self.id = hooks, next(_hook_ids)

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched, to get ``shape``."""
    if grad.shape == tuple(shape):
        return grad
    ndiff = grad.ndim - len(shape)
    if ndiff > 0:
        grad = grad.sum(axis=tuple(range(ndiff)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class Function:
    """One differentiable operation. Subclass it; call it with ``MyOp.apply(*inputs, **opts)``.

    Each positional input (a Tensor, an array or a number) is an input of the graph; a keyword
    option (an axis, a flag, a constant array; never a Tensor, which would get no gradient)
    reaches ``forward`` as it is.

    * ``forward(self, *arrays, **opts)`` gets the inputs' raw arrays (NumPy or CuPy: use
      ``xp = tinycolor.backend.array_module(a)``) and returns ONE array, the result. It must not
      change its inputs in place (they are the tensors' own memory). What ``backward`` needs
      it keeps with ``self.save_for_backward(a, ...)``, read back as the tuple ``self.saved``
      (the engine then refuses a backward after an input was changed in place), or as
      attributes of ``self``. The engine checks only the inputs saved there: save just what
      the gradients asked for read (``needs_input_grad``; None in place of the rest, as
      PyTorch allows), and an input none of them reads may change in place before backward,
      as in PyTorch (``Mul``: with only a needing a gradient, a * b saves b, not a).
    * ``backward(self, grad)`` gets dL/d(result), an array of the result's shape, and returns
      one gradient per positional input, in order (a tuple when there are several): an array
      of that input's shape, or of the shape it was broadcast to in the forward pass (the
      engine sums it back), or None where ``self.needs_input_grad[i]`` is False (a constant;
      None for an input that needs a gradient gives it none, as in PyTorch: gradcheck says so).
    * ``self.needs_input_grad``: one bool per input, whether it requires a gradient; set
      before ``forward`` runs, so either may skip work for constants.

    Check a new backward with ``tinycolor.gradcheck(lambda x: MyOp.apply(x), [x64])``.

    PyTorch's way of writing one runs as it is: ``forward`` and ``backward`` as static methods
    whose first argument ``ctx`` is the instance here (``ctx.save_for_backward(a)``, read back
    as ``ctx.saved_tensors``, the same tuple as ``self.saved``; ``ctx.needs_input_grad``;
    ``ctx.scale = s``). They still get and return raw arrays, not tensors::

        class LegendreP3(tinycolor.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return 0.5 * (5 * x**3 - 3 * x)

            @staticmethod
            def backward(ctx, grad_output):
                (x,) = ctx.saved_tensors
                return grad_output * 1.5 * (5 * x**2 - 1)
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in ("forward", "backward"):  # PyTorch's static methods, ctx = the instance
            method = cls.__dict__.get(name)
            if isinstance(method, staticmethod):
                setattr(cls, name, _ctx_method(method.__func__))

    def __init__(self):
        self.saved = ()
        self.inputs = ()
        self.needs_input_grad = ()
        self.saved_versions = ()  # each input's _version when the forward pass ran
        self.output_version = 0  # and its result's (Exp saves its result)

    def save_for_backward(self, *arrays):
        self.saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        """What ``save_for_backward`` kept, under PyTorch's name (``self.saved``): arrays."""
        return self.saved

    def forward(self, *arrays, **options):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    @property
    def name(self) -> str:
        return type(self).__name__

    @classmethod
    def apply(cls, *inputs, **options) -> Tensor:
        tensors = [as_tensor_like(x, inputs) for x in inputs]
        _check_same_device(cls.__name__, tensors)
        for key, value in options.items():
            if isinstance(value, Tensor):  # forward would get the Tensor, backward no slot
                raise TypeError(
                    f"{cls.__name__}.apply: option {key}= is a Tensor; a keyword option goes to "
                    f"forward as it is and gets no gradient. Pass a tensor positionally, "
                    f"{cls.__name__}.apply(..., {key}) (forward then gets its array and "
                    f"backward returns its gradient), or {key}.data for a constant array"
                )
        fn = cls()
        record = is_grad_enabled() and any(t.requires_grad for t in tensors)
        fn.needs_input_grad = tuple(t.requires_grad for t in tensors)
        out = fn.forward(*[t.data for t in tensors], **options)
        if not (tensors and out.__class__ is tensors[0].data.__class__) and (
            isinstance(out, Tensor) or not hasattr(out, "dtype") or not hasattr(out, "shape")
        ):
            raise TypeError(_not_an_array(f"{cls.__name__}.forward returned", out))
        # an integer or boolean result (x.astype(int)) carries no gradient, as in PyTorch
        record = record and out.dtype.kind == "f"
        result = Tensor(out, requires_grad=record, _internal=True)
        _share_version_with_base(result, tensors)
        result._from_op = True  # an op's result, even under no_grad: t += v makes a new one
        if record:
            fn.inputs = tuple(tensors)
            fn.saved_versions = [t._version_counter[0] for t in tensors]
            fn.output_version = result._version_counter[0]
            result._ctx = fn
        else:
            fn.saved = ()
        return result


def _ctx_method(fn):
    """A PyTorch-style static ``forward(ctx, ...)`` or ``backward(ctx, grad)`` as a method: the
    instance (one per call of ``apply``) is the ``ctx``."""

    @functools.wraps(fn)
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)

    return method


def _not_an_array(what, value) -> str:
    """The message for a forward result or a gradient that is not one array."""
    kind = type(value).__name__
    if isinstance(value, Tensor):
        hint = (
            "Function.forward and backward work on raw arrays (xp = "
            "tinycolor.backend.array_module(a); xp.exp(a), a * b, ...): return t.data, or "
            "better compute the array without Tensor ops"
        )
    elif isinstance(value, tuple | list):
        hint = "a Function has one output: write one Function per output (or stack them)"
    else:
        hint = "make a number an array with xp.asarray(value, dtype=a.dtype)"
    return f"{what} {kind}; expected an array (NumPy or CuPy): {hint}"


def _input_grad(fn, i, inp, grad, out):
    """The gradient ``fn.backward`` returned for input ``i``, checked and summed back to the
    input's shape. It may have the input's shape, or a shape the input broadcast to in the
    forward pass (with no more axes than the output or the widest input); a transposed or
    flattened gradient would otherwise be reshaped into the input silently."""
    if isinstance(grad, Tensor) or not hasattr(grad, "dtype") or not hasattr(grad, "shape"):
        raise TypeError(
            _not_an_array(f"{fn.name}.backward returned", grad).replace(
                "; expected", f" as the gradient of input {i}; expected", 1
            )
        )
    shape = inp.data.shape
    if grad.shape != shape:
        if not _fits(shape, grad.shape) or grad.ndim > max(out.ndim, *(t.ndim for t in fn.inputs)):
            raise RuntimeError(
                f"{fn.name}.backward returned a gradient of shape {grad.shape} for input {i} of "
                f"shape {shape} (the output's shape is {out.shape}); a gradient has its "
                f"input's shape, or the output's where the forward pass broadcast the input"
            )
        grad = unbroadcast(grad, shape)
    return grad


def _memory_owner(arr):
    """The object that owns ``arr``'s memory: the end of its chain of ``base``s (NumPy and
    CuPy point a view's ``base`` at the owner itself; the loop does not rely on it)."""
    base = getattr(arr, "base", None)
    while base is not None:
        arr, base = base, getattr(base, "base", None)
    return arr


def _share_version_with_base(result, tensors):
    """A result that is a view of an input (reshape, transpose, basic indexing) shares that
    input's version counter: a change to one is a change to the other, as in PyTorch."""
    out = result.data
    owner = None if getattr(out, "base", None) is None else _memory_owner(out)
    for t in tensors:  # (an op's result is mostly a new array: then only identity matters)
        if t.data is out or (owner is not None and _memory_owner(t.data) is owner):
            result._version_counter = t._version_counter
            return


def _check_saved_versions(fn, result):
    """Refuse a backward step whose op saved an input, or its result, that was changed in place
    since (the result through a tensor sharing its memory: detach())."""
    pairs = [*zip(fn.inputs, fn.saved_versions), (result, fn.output_version)]
    for i, (t, version) in enumerate(pairs):
        if t._version_counter[0] == version:
            continue
        owner = _memory_owner(t.data)
        if not any(_memory_owner(a) is owner for a in fn.saved):
            continue  # not saved (the bias of a linear layer): its new values do not matter
        what = f"input {i}, a {type(t).__name__}" if t is not result else "its result"
        raise RuntimeError(
            f"{fn.name}.backward needs {what} of shape {t.shape}, "
            f"as the forward pass saw it, but it was changed in place since (version "
            f"{version} then, {t._version} now: an optimizer step, an init_ function or an "
            f"update such as p -= lr * p.grad), so the gradient would be computed from values "
            f"the forward pass did not use. Call backward before the change, or run the forward "
            f"pass again after it (in a GAN: the generator's loss through the discriminator "
            f"after the discriminator's step)"
        )


def _check_same_device(opname, tensors):
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        where = ", ".join(f"input {i} {t.shape} on {t.device}" for i, t in enumerate(tensors))
        raise backend.DeviceError(
            f"{opname}: all inputs must be on one device, got {where}; move them with .to(device)"
        )


def as_tensor_like(x, others=(), promote=True) -> Tensor:
    """Wrap a constant (scalar or array) as a Tensor on the device of the tensors in ``others``.

    With ``promote``, a constant beside a floating tensor takes that tensor's dtype when it is
    a scalar (Python or NumPy, or a 0-d array) or holds integers or booleans, as PyTorch
    promotes: float32 * 2, * np.int64(2) and * np.arange(3) all stay float32 (NumPy alone would
    make the last two float64). A float array keeps its own dtype.

    Beside integer or bool tensors only, a scalar (Python or NumPy) follows PyTorch too, where
    NumPy 2 differs: an integer (or bool) keeps the integer tensor's dtype, wrapping around as
    that dtype does (int8 + 200 is int8 -55, where NumPy raises or widens to int64), and a
    float makes the default float dtype, float32 (uint8 + 1.5 is float32, not float64). An
    integer beside bool tensors only is int64, as in both.
    """
    if isinstance(x, Tensor):
        return x
    tensors = [o for o in others if isinstance(o, Tensor)]
    device = tensors[0].device if tensors else "cpu"
    # the dtype of the first floating tensor, so that where(mask, x, 0.0) stays float32
    dtype = next((o.dtype for o in tensors if _is_float(o.dtype)), None) if promote else None
    if promote and dtype is None and tensors and _is_scalar_number(x):
        dtype = _scalar_dtype_beside_integers(x, tensors)
        if dtype is not None:  # astype wraps a Python int as the dtype does; asarray refuses
            xp = backend.xp_for(device)
            return Tensor(xp.asarray(x).astype(dtype, copy=False), _internal=True)
    if isinstance(x, int | float | bool) and dtype is not None:
        return Tensor(backend.xp_for(device).asarray(x, dtype=dtype), _internal=True)
    data = x if backend.is_cupy_array(x) else backend.to_device(x, device)
    if dtype is not None and (data.ndim == 0 or data.dtype.kind in "biu"):
        data = data.astype(dtype)
    return Tensor(data, _internal=True)


def _is_scalar_number(x) -> bool:
    """A Python or NumPy bool, integer or float (not a 0-d array: PyTorch, whose rules these
    follow, treats a NumPy scalar as a Python number but a 0-d tensor as a tensor)."""
    return isinstance(x, int | float | np.bool_ | np.integer | np.floating)


def _scalar_dtype_beside_integers(x, tensors):
    """The dtype PyTorch gives the scalar ``x`` beside integer or bool ``tensors`` only: a
    float makes the default float dtype; an integer the first integer tensor's dtype (None:
    int64 as NumPy's, beside bools only); a bool the first tensor's dtype."""
    if isinstance(x, float | np.floating):
        return np.dtype(backend.default_dtype)
    if isinstance(x, bool | np.bool_):
        return tensors[0].dtype
    return next((t.dtype for t in tensors if t.dtype.kind in "iu"), None)


def check_integer_divisor(op, divisor, result_dtype):
    """Refuse an integer division (``//``, ``%``, ``fmod``) by zero, as PyTorch does (NumPy
    gives 0 and a warning, a wrong number that would go on silently); a float one gives inf
    or nan, as in both. (It reads the divisor back from the device: integers only.)"""
    if np.dtype(result_dtype).kind in "biu" and bool((divisor == 0).any()):
        raise ZeroDivisionError(f"{op}: integer division by zero (a divisor element is 0)")


def compared_with(x, t) -> Tensor:
    """``x`` wrapped as the other side of a comparison with the tensor ``t``: a number (Python
    or NumPy) beside a floating tensor in that tensor's dtype, as PyTorch compares (a scalar
    does not promote: float32 ``x == 0.1`` compares with float32(0.1)); anything else as it is
    (an integer tensor against 0.5 stays exact)."""
    scalar = isinstance(x, int | float | bool | np.generic) and _is_float(t.dtype)
    return as_tensor_like(x, (t,), promote=scalar)


def torch_spelling(op, name, value, torch_name, torch_value, default):
    """The value of an argument that PyTorch spells differently (``dim`` for ``axis``,
    ``keepdim`` for ``keepdims``), so that code written for PyTorch runs: either spelling, but
    not both (``torch_value`` None means PyTorch's was not given)."""
    if torch_value is None:
        return value
    if value is not None and value != default:
        raise TypeError(
            f"{op}: got both {name}={value!r} and {torch_name}={torch_value!r}; {torch_name} is "
            f"PyTorch's name for {name}, give one of them"
        )
    return torch_value


def torch_axis_names(op, axis, keepdims, dim, keepdim):
    """(axis, keepdims) of a reduction from NumPy's names or PyTorch's (``dim``, ``keepdim``)."""
    return (
        torch_spelling(op, "axis", axis, "dim", dim, None),
        torch_spelling(op, "keepdims", keepdims, "keepdim", keepdim, False),
    )


class _Size(int):
    """``Tensor.size``: NumPy's number of elements, and PyTorch's ``size()`` method in one.
    An int in every use (``t.size * 2``, ``sum(p.size for p in model.parameters())``);
    calling it gives the shape, or the length of one axis: ``t.size()``, ``t.size(-1)``."""

    def __new__(cls, n, shape):
        obj = super().__new__(cls, n)
        obj.shape = shape
        return obj

    def __call__(self, dim=None):
        if dim is None:
            return self.shape
        ndim = len(self.shape)
        if not isinstance(dim, int | np.integer) or not -ndim <= dim < ndim:
            raise IndexError(
                f"size({dim!r}): expected an axis in [{-ndim}, {ndim}) of {self.shape}"
            )
        return self.shape[dim]

    def __reduce__(self):  # pickles as the plain number it stands for
        return int, (int(self),)


def _numpy_keywords(op: str, x, dtype, out):
    """``x`` for a reduction that NumPy called with its own keywords: ``np.sum(t)`` calls
    ``t.sum(axis=None, out=None)``, ``np.mean(t)`` adds ``dtype=None``. ``dtype`` casts the
    input first (PyTorch's ``x.sum(dtype=...)``, NumPy's accumulator type); ``out`` is refused,
    a tensor being never written into by an op."""
    if out is not None:
        raise TypeError(
            f"{op}: out= is not supported (an op never writes into a tensor); use the result, "
            f"a tensor: z = np.{op}(t) or z = t.{op}()"
        )
    return x if dtype is None else x.astype(dtype)


def _refuse_empty_reduction(op, shape, axis):
    """argmax/argmin over an empty axis (or all of an empty tensor) has no answer."""
    if int(np.prod(shape)):
        return
    if axis is None:
        raise ValueError(f"{op}: the tensor of shape {shape} is empty; it has no {op[3:]}imum")
    if isinstance(axis, int | np.integer) and -len(shape) <= axis < len(shape):
        if shape[axis] == 0:
            raise ValueError(f"{op}: dim {axis} of shape {shape} is empty; it has no {op[3:]}imum")


def _refuse_positional_extreme(name: str, args: tuple, dim) -> None:
    """``x.max(1)`` / ``x.max(dim=1)`` (and min) are PyTorch's (values, indices) pair; tinycolor's
    method gives the values (``torch.amax``), so the axis must be named ``axis=`` instead."""
    if not args and dim is None:
        return
    given = f"dim={dim!r}" if dim is not None else ", ".join(repr(a) for a in args)
    d = dim if dim is not None else args[0]
    raise TypeError(
        f"x.{name}({given}): tinycolor's x.{name} returns the values only (as torch.a{name}), "
        f"where PyTorch's x.{name}({d!r}) is a (values, indices) pair; use x.{name}(axis={d!r}) "
        f"for the values, x.arg{name}(axis={d!r}) for the indices, or tinycolor.{name}(x, {d!r}) "
        "for PyTorch's pair"
    )


class Tensor:
    """An n-dimensional array that remembers how it was computed, for ``backward``.

    ``Tensor(data, requires_grad=False, dtype=None, device=None)``: ``data`` may be a Python
    number or list (stored as float32 when it holds floats), a NumPy or a CuPy array (its
    dtype is kept unless ``dtype`` is given). ``device`` defaults to the array's own device for
    a CuPy array, else to ``tinycolor.get_device()``.
    """

    __array_priority__ = 1000  # so that ndarray * Tensor calls Tensor.__rmul__
    # True on every result of an op (Function.apply), recorded or not (under no_grad too):
    # ``t += v`` never changes such a tensor in place (see _augmented)
    _from_op = False

    def __init__(self, data, requires_grad=False, dtype=None, device=None, _internal=False):
        if isinstance(data, Tensor):
            data = data.data
        if backend.is_cupy_array(data):
            arr = data if dtype is None else data.astype(dtype, copy=False)
            if device is not None and backend._check_name(device) == "cpu":
                arr = arr.get()
        else:
            if dtype is None and not isinstance(data, np.ndarray | np.generic):
                arr = np.asarray(data)
                if arr.dtype == np.float64:
                    arr = arr.astype(backend.default_dtype)
            else:
                arr = np.asarray(data, dtype=dtype)
            target = (
                device if device is not None else (backend.get_device() if not _internal else "cpu")
            )
            if backend._check_name(target) == "cuda":
                arr = backend.to_device(arr, "cuda")
        if not _internal and arr.dtype.kind not in "biufc":
            raise TypeError(
                f"Tensor: expected numbers (bool, integer or floating point), got an array of "
                f"{arr.dtype} (shape {arr.shape})"
            )
        if requires_grad and not _is_float(arr.dtype):
            raise TypeError(f"only floating-point tensors can require gradients, got {arr.dtype}")
        self.data = arr
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx: Function | None = None
        self._version_counter = [0]  # shared with the views of this tensor's memory
        self.name = None

    # ------------------------------------------------------------------ properties
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self) -> _Size:
        """The number of elements, an int (as NumPy's ``a.size``) that can also be called as
        PyTorch's method: ``t.size()`` is the shape, ``t.size(0)`` the length of axis 0."""
        return _Size(self.data.size, self.shape)

    def numel(self) -> int:
        """The number of elements, as PyTorch's ``t.numel()`` (``t.size`` here)."""
        return int(self.data.size)

    def dim(self) -> int:
        """The number of axes, as PyTorch's ``t.dim()`` (``t.ndim``)."""
        return self.data.ndim

    def nelement(self) -> int:
        """``numel()`` under PyTorch's other name: ``sum(p.nelement() for p in parameters)``."""
        return self.numel()

    def ndimension(self) -> int:
        """``dim()`` under PyTorch's other name."""
        return self.dim()

    def element_size(self) -> int:
        """The bytes of one element (4 for float32), as PyTorch's ``t.element_size()``."""
        return int(self.data.dtype.itemsize)

    @property
    def device(self) -> backend.device:
        """Where the data lives, as ``torch.Tensor.device``: a ``tc.device`` equal to 'cpu' or
        'cuda', with ``.type`` ('cpu', 'cuda') and ``.index`` (None on the CPU, CuPy's device's
        on the GPU: ``device(type='cuda', index=0)``, which is also 'cuda:0')."""
        return backend.device_of(self.data)

    @property
    def is_cuda(self) -> bool:
        """Whether the data is on the GPU, as PyTorch's ``t.is_cuda``."""
        return self.device == "cuda"

    def get_device(self) -> int:
        """The GPU's index (0), or -1 on the CPU, as PyTorch's ``t.get_device()``."""
        return self.device.index if self.is_cuda else -1

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self):
        """The ``Function`` that made this tensor (None for a leaf or outside the graph), as
        PyTorch's ``t.grad_fn``."""
        return self._ctx

    @property
    def _version(self) -> int:
        """How many times this tensor's memory was changed in place (optimizer steps, ``init_``
        functions, ``p -= ...`` under ``no_grad``); ``backward`` checks it for what each op
        saved. Writes through ``.data`` are not counted."""
        return self._version_counter[0]

    def _bump_version(self) -> None:
        """Record an in-place change of ``.data``: call it after writing into the array."""
        self._version_counter[0] += 1

    @property
    def T(self):
        return self.transpose()

    @property
    def mT(self):  # noqa: N802 - PyTorch's name
        """The last two axes swapped (a batch of matrices, each transposed), as PyTorch's
        ``t.mT``: ``q @ k.mT``."""
        if self.ndim < 2:
            raise ValueError(f"mT: expected at least 2 dims (a matrix), got shape {self.shape}")
        return self.transpose(-2, -1)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor: it has no first dim; t.numel() counts it")
        return self.data.shape[0]

    def __repr__(self):
        extra = f", device='{self.device}'" if self.device != "cpu" else ""
        if self._ctx is not None:
            extra += f", grad_fn={self._ctx.name}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        body = np.array2string(self.numpy(), separator=", ", prefix="Tensor(")
        return f"Tensor({body}, dtype={self.dtype}{extra})"

    # ------------------------------------------------------------------ conversions
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (copied from the GPU when it lives there)."""
        return backend.to_numpy(self.data)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def _one_element(self, what):
        if self.data.size != 1:
            raise ValueError(
                f"{what} of a tensor needs a single element, got shape {self.shape}; reduce it "
                f"first (.sum(), .max()) or compare its elements one by one"
            )
        return self.data.reshape(()).item()

    def __bool__(self):
        # as NumPy and PyTorch: `if loss > 0` is fine for one element, ambiguous for more
        return bool(self._one_element("the truth value"))

    def __float__(self):
        return float(self._one_element("float()"))

    def __int__(self):
        return int(self._one_element("int()"))

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)`` (and matplotlib, which calls it): the data on the CPU, as
        ``t.numpy()``. Refused, as in PyTorch, where NumPy would silently cut the tensor from
        the graph (``np.exp(t)`` of a tensor that requires grad), and on the GPU, where it
        would be a hidden copy."""
        if self.requires_grad:
            raise TypeError(
                "a tensor that requires grad cannot become a NumPy array implicitly: NumPy would "
                "drop it from the graph, so no gradient would reach it. Use the tensor's own "
                "ops (t.exp(), tinycolor.functional), or t.numpy() for a copy of its values"
            )
        if self.device != "cpu":
            raise TypeError(
                f"a tensor on {self.device} cannot become a NumPy array implicitly; use t.numpy(), "
                f"which copies it to the CPU"
            )
        if copy is False and dtype is not None and np.dtype(dtype) != self.data.dtype:
            raise ValueError(
                "np.asarray(t, dtype, copy=False): the dtype differs, a copy is needed"
            )
        arr = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return arr.copy() if copy else arr

    def detach(self) -> Tensor:
        """The same data, cut from the graph (no gradient flows through it)."""
        out = Tensor(self.data, _internal=True)
        out._version_counter = self._version_counter  # the same memory: the same changes
        return out

    def to(self, device=None, dtype=None, non_blocking=False, copy=False) -> Tensor:
        """This tensor on ``device`` ('cpu' or 'cuda') and/or in ``dtype``, as PyTorch's
        ``t.to('cuda')``, ``t.to(np.float64)``, ``t.to(device, dtype)`` (and as
        ``Module.to``): a differentiable copy if anything changed, else the tensor itself (a
        copy all the same with ``copy=True``). ``non_blocking`` is accepted, as training loops
        pass it (``x.to(device, non_blocking=True)``): the copy here is always synchronous."""
        if copy:
            out = self.to(device, dtype)
            return out.clone() if out is self else out
        if device is not None and not isinstance(device, str):
            if dtype is not None:
                raise TypeError(f"Tensor.to: expected a device name, got {device!r}")
            device, dtype = None, device
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = out.astype(dtype)
        if device is None:
            return out
        name = backend._check_name(device)
        if name == out.device:
            return out
        from .functional.shape import ToDevice  # noqa: PLC0415

        return ToDevice.apply(out, device=name)

    def astype(self, dtype) -> Tensor:
        from .functional.elementwise import Cast  # noqa: PLC0415

        return Cast.apply(self, dtype=np.dtype(dtype))

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)

    def long(self):
        """int64, as PyTorch's ``t.long()`` (class indices); outside the graph."""
        return self.astype(np.int64)

    def int(self):
        return self.astype(np.int32)

    def bool(self):
        return self.astype(np.bool_)

    def cpu(self) -> Tensor:
        """This tensor on the CPU (itself if it is there), as ``t.to('cpu')``."""
        return self.to("cpu")

    def cuda(self) -> Tensor:
        return self.to("cuda")

    def requires_grad_(self, flag=True) -> Tensor:
        if flag and not _is_float(self.dtype):
            raise TypeError(f"only floating-point tensors can require gradients, got {self.dtype}")
        if not flag and self._ctx is not None:
            # the ops already recorded on it would stop passing gradient to its inputs
            raise RuntimeError(
                f"requires_grad_(False) on a tensor made by {self._ctx.name}: only a leaf's "
                f"flag can change (as in PyTorch); use t.detach() for the same values cut from "
                f"the graph"
            )
        self.requires_grad = bool(flag)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradient: None (as PyTorch's ``zero_grad`` does by default), or zeros of
        its shape with ``set_to_none=False`` (a gradient that is None stays None)."""
        if set_to_none or self.grad is None:
            self.grad = None
        else:
            self.grad = backend.array_module(self.grad).zeros_like(self.grad)

    _retains_grad = False

    def retain_grad(self) -> None:
        """Keep this intermediate tensor's gradient in ``.grad`` at each ``backward`` (only the
        leaves' are kept, to save memory), as in PyTorch: to look at dL/dh of a hidden layer."""
        if not self.requires_grad:
            raise RuntimeError(
                "retain_grad() on a tensor that does not require grad: no gradient will reach it"
            )
        self._retains_grad = True

    _grad_hooks = None  # id -> hook, made by the first register_hook

    def register_hook(self, hook) -> RemovableHandle:
        """Call ``hook(grad)`` each time ``backward`` computes this tensor's gradient, as
        PyTorch's ``register_hook``: to look at it (print, record) or to change it. ``grad`` is
        an array, as ``.grad`` is; a hook that returns an array (or a Tensor) of its shape
        replaces the gradient, for this tensor's ``.grad`` (a leaf's, or one kept by
        ``retain_grad``) and for everything before it in the graph; one that returns None
        leaves it. Hooks run in the order they were registered, each on what the one before
        returned; ``handle.remove()`` takes one off. As in PyTorch, a hook must not change
        ``grad`` in place (it may be read-only, or shared with another input's gradient):
        return ``grad * 2``, not ``grad *= 2``."""
        if not self.requires_grad:
            raise RuntimeError(
                "register_hook() on a tensor that does not require grad: no gradient will reach it"
            )
        if not callable(hook):
            raise TypeError(f"register_hook: expected a function hook(grad), got {hook!r}")
        if self._grad_hooks is None:
            self._grad_hooks = {}
        handle = RemovableHandle(self._grad_hooks)
        self._grad_hooks[handle.id] = hook
        return handle

    def _run_grad_hooks(self, g):
        """``g`` after each hook of ``register_hook``, checked to be a gradient of this tensor."""
        for hook in list(self._grad_hooks.values()):  # a hook may remove itself as it runs
            out = hook(g)
            if out is None:
                continue
            out = out.data if isinstance(out, Tensor) else out
            if not hasattr(out, "shape") or tuple(out.shape) != self.shape:
                raise RuntimeError(
                    f"a hook registered with register_hook returned "
                    f"{getattr(out, 'shape', type(out).__name__)} for the gradient of a tensor "
                    f"of shape {self.shape}; a hook returns a gradient of that shape, or None"
                )
            if backend.is_cupy_array(out) != backend.is_cupy_array(g):
                raise backend.DeviceError(
                    f"a hook registered with register_hook returned a gradient on "
                    f"{backend.device_of(out)} for a tensor on {self.device}"
                )
            # a NumPy scalar (g * 2 of a 0-d gradient) becomes an array again
            g = backend.array_module(g).asarray(out, dtype=self.dtype)
        return g

    # ------------------------------------------------------------------ backward
    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Backpropagate from this tensor: adds dself/dleaf to ``leaf.grad`` for every leaf.

        ``gradient`` is dL/dself, of this tensor's shape (as in PyTorch, it is not broadcast);
        it may be omitted only for a single-element tensor (then 1). The graph is always kept,
        so a second ``backward`` adds to ``.grad`` again: ``retain_graph`` is accepted, so that
        PyTorch code runs, and changes nothing. ``create_graph=True`` (a graph of the backward
        pass, for second derivatives) is not supported: the backward formulas work on arrays.
        """
        if create_graph:
            raise NotImplementedError(
                "backward(create_graph=True): tinycolor's backward formulas work on arrays and "
                "record no graph, so second derivatives are not available"
            )
        _walk_back(self, self._root_grad(gradient, "backward"))

    def _root_grad(self, gradient, who):
        """dL/dself as an array of this tensor's shape, for a backward pass from it: ``gradient``
        checked, or 1 for a single element."""
        grad = gradient
        if not self.requires_grad:
            raise RuntimeError(
                f"{who}() on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran under no_grad)"
            )
        xp = backend.array_module(self.data)
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"{who}() without a gradient needs a single-element output, got shape "
                    f"{self.shape}; pass gradient= of that shape"
                )
            grad = xp.ones_like(self.data)
        else:
            grad = grad.data if isinstance(grad, Tensor) else grad
            if backend.is_cupy_array(grad) and self.device == "cpu":
                raise backend.DeviceError(
                    f"{who}(gradient): the gradient is on cuda but this tensor {self.shape} "
                    f"is on cpu; move it with .to('cpu')"
                )
            grad = xp.asarray(grad, dtype=self.dtype)
            if grad.shape != self.data.shape:
                if grad.size != 1 or self.data.size != 1:  # broadcasting would hide a mistake
                    raise RuntimeError(
                        f"{who}(gradient): the gradient must have this tensor's shape "
                        f"{self.shape}, got {grad.shape}"
                    )
                grad = grad.reshape(self.data.shape)

        return grad

    # ------------------------------------------------------------------ operators
    def __add__(self, o):
        return F().add(self, o)

    def __radd__(self, o):
        return F().add(o, self)

    def __sub__(self, o):
        return F().sub(self, o)

    def __rsub__(self, o):
        return F().sub(o, self)

    def __mul__(self, o):
        return F().mul(self, o)

    def __rmul__(self, o):
        return F().mul(o, self)

    def __truediv__(self, o):
        return F().div(self, o)

    def __rtruediv__(self, o):
        return F().div(o, self)

    def __floordiv__(self, o):
        return F().floor_divide(self, o)

    def __rfloordiv__(self, o):
        return F().floor_divide(o, self)

    def __mod__(self, o):
        return F().remainder(self, o)

    def __rmod__(self, o):
        return F().remainder(o, self)

    def __pow__(self, o):
        return F().pow(self, o)

    def __rpow__(self, o):
        return F().pow(o, self)

    def __matmul__(self, o):
        return F().matmul(self, o)

    def __rmatmul__(self, o):
        return F().matmul(o, self)

    def __neg__(self):
        return F().neg(self)

    def __pos__(self):
        """``+t`` is ``t`` itself, as in PyTorch (no op, no copy: the same tensor, in the
        graph as it was); refused for a bool tensor, as there."""
        if self.dtype == bool:
            raise TypeError(
                "unary + of a bool tensor is not supported (as in PyTorch); for a number per "
                "element use t.long() or t.float()"
            )
        return self

    def __abs__(self):
        return F().abs(self)

    def __getitem__(self, idx):
        return F().getitem(self, idx)

    # ------------------------------------------------------------------ augmented assignment
    def __iadd__(self, o):
        return self._augmented(o, "add", "+")

    def __isub__(self, o):
        return self._augmented(o, "sub", "-")

    def __imul__(self, o):
        return self._augmented(o, "mul", "*")

    def __itruediv__(self, o):
        return self._augmented(o, "div", "/")

    def __ifloordiv__(self, o):
        return self._augmented(o, "floor_divide", "//")

    def __imod__(self, o):
        return self._augmented(o, "remainder", "%")

    def _augmented(self, o, op, sign):
        """``t += v`` (and ``-=``, ``*=``, ``/=``, ``//=``, ``%=``): Python binds the name to
        what this returns.

        * A tensor that no op made (a leaf: one the user created, a buffer such as BatchNorm's
          ``running_mean``, a parameter) changes in place, as in PyTorch: every other name for
          it (the module's own parameter or buffer, an alias, the base of ``detach()``) sees
          the change. ``for p in model.parameters(): p -= lr * p.grad`` under ``no_grad``
          updates the model; ``rm = bn.running_mean; rm += 1`` updates the buffer. A leaf that
          requires grad may change so only under ``no_grad`` (an update must not be recorded).
        * A tensor an op made (``h = x @ W``, a view ``x[0:2]``, also under ``no_grad``) is never
          changed in place (tinycolor's exception to PyTorch: an op's backward may need its
          values): ``h += b`` in a forward pass is ``h = h + b``, a new tensor, recorded.
        * So is a leaf that does not require grad when ``v`` requires grad in grad mode
          (``total = tc.zeros(()); total += loss``): the result stays in the graph.

        In place, the result must fit ``t``: its shape (``v`` broadcast to ``t``'s shape) and its
        dtype (``int_t += 0.5`` and ``int_t /= 2`` are refused, as in PyTorch)."""
        if self._from_op or (
            is_grad_enabled()
            and not self.requires_grad
            and isinstance(o, Tensor)
            and o.requires_grad
        ):
            return getattr(F(), op)(self, o)
        return self._update(o, op, f"t {sign}= ...", sign)

    def _check_in_place(self, what):
        """The rules of an in-place change: never of a tensor an op made (its backward may need
        its values; tinycolor's ops never change a tensor of the graph), and of a leaf that
        requires grad only under no_grad, as in PyTorch."""
        if self._ctx is not None:
            raise RuntimeError(
                f"{what} on a tensor made by {self._ctx.name}: tinycolor changes no tensor of "
                f"a graph in place; compute a new one instead (t = t + v, t = t.clamp(0, 1))"
            )
        if any(st == 0 and n > 1 for st, n in zip(self.data.strides, self.shape)):
            raise RuntimeError(
                f"{what} on a tensor {self.shape} whose elements share memory (an expand: "
                f"one value stands for a whole axis, so a write to one would change them all, "
                f"and the tensor it was expanded from); .clone() it first"
            )
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError(
                f"{what} on a leaf tensor {self.shape} that requires grad, with grad mode "
                f"on: an update of a parameter must not be recorded; do it under tc.no_grad() "
                f"(or let an optimizer do it)"
            )

    def _update(self, o, op, what, sign=None):
        """``self op= o`` in place, by the rules of ``_check_in_place``."""
        self._check_in_place(what)
        other = as_tensor_like(o, (self,))
        _check_same_device(what, [self, other])
        if not _fits(other.shape, self.shape):
            raise ValueError(
                f"{what}: v of shape {other.shape} does not fit t's shape {self.shape}"
            )
        xp = backend.array_module(self.data)
        result = np.result_type(self.data.dtype, other.data.dtype)
        floats = [d for d in (self.dtype, other.dtype) if _is_float(d)]
        if len(floats) == 1:  # an integer beside a float takes its dtype, as in F.add
            result = np.dtype(floats[0])
        if op == "div" and result.kind not in "fc":  # true division of integers: a float,
            result = np.dtype(backend.default_dtype)  # the default one, as in F.div
        if not np.can_cast(result, self.dtype, casting="same_kind"):
            new = f"t = t {sign} v" if sign else "an out-of-place op"
            raise TypeError(
                f"{what}: the result is {result}, which t's dtype {self.dtype} cannot hold (an "
                f"in-place change keeps t's dtype); use {new} for a new tensor, or convert t "
                f"first (t = t.to(dtype=np.float32))"
            )
        ufunc = {"add": xp.add, "sub": xp.subtract, "mul": xp.multiply, "div": xp.true_divide}
        ufunc |= {"floor_divide": xp.floor_divide, "remainder": xp.remainder}
        if op in ("floor_divide", "remainder"):
            check_integer_divisor(what, other.data, result)
        ufunc[op](self.data, other.data, out=self.data)
        self._bump_version()  # a graph that saved the old values can no longer backward
        return self

    # PyTorch's in-place methods (the trailing _), for a tensor outside any graph (a buffer, a
    # label) or for a parameter under no_grad (an update, an EMA, weight clipping). Each
    # returns the tensor, so they chain: avg.mul_(d).add_(p, alpha=1 - d).
    def add_(self, other, *, alpha=1):
        """``self += alpha * other``, in place."""
        return self._update(_times(other, alpha), "add", "add_")

    def sub_(self, other, *, alpha=1):
        """``self -= alpha * other``, in place."""
        return self._update(_times(other, alpha), "sub", "sub_")

    def mul_(self, other):
        return self._update(other, "mul", "mul_")

    def div_(self, other):
        return self._update(other, "div", "div_")

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        """Every element set to ``value``, in place."""
        self._check_in_place("fill_")
        self.data[...] = value.item() if isinstance(value, Tensor) else value
        self._bump_version()
        return self

    def copy_(self, src):
        """The values of ``src`` (broadcast to this shape, cast to this dtype, moved to this
        device), in place: ``p.copy_(pretrained)``."""
        self._check_in_place("copy_")
        data = backend.to_device(src.data if isinstance(src, Tensor) else src, self.device)
        xp = backend.array_module(self.data)
        data = xp.asarray(data)
        if not _fits(data.shape, self.shape):
            raise ValueError(
                f"copy_: src of shape {data.shape} does not fit t's shape {self.shape}"
            )
        self.data[...] = data
        self._bump_version()
        return self

    def clamp_(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        """Each element clipped to [min, max] (either may be None), in place."""
        self._check_in_place("clamp_")
        if min is None and max is None:
            raise ValueError("clamp_: give min, max or both")
        backend.array_module(self.data).clip(self.data, min, max, out=self.data)
        self._bump_version()
        return self

    def masked_fill_(self, mask, value):
        """``value`` where ``mask`` (booleans broadcasting to this shape) is True, in place, as
        PyTorch's: ``logits.masked_fill_(~allowed, float('-inf'))`` on a tensor outside the
        graph (under no_grad, say); ``masked_fill`` makes a new tensor, in the graph."""
        self._check_in_place("masked_fill_")
        m = mask.data if isinstance(mask, Tensor) else mask
        xp = backend.array_module(self.data)
        m = xp.asarray(backend.to_device(m, self.device))
        if m.dtype != np.bool_:
            raise TypeError(f"masked_fill_: mask must be boolean, got dtype {m.dtype}")
        if not _fits(m.shape, self.shape):
            raise ValueError(
                f"masked_fill_: mask of shape {tuple(m.shape)} does not broadcast to the shape "
                f"{self.shape} of the tensor"
            )
        value = value.item() if isinstance(value, Tensor) else value
        xp.copyto(self.data, xp.asarray(value, dtype=self.dtype), where=m)
        self._bump_version()
        return self

    def scatter_(self, dim, index, src):
        """``src``'s elements (a tensor, or a number) written where ``index`` names along
        ``dim``, in place, as PyTorch's (shapes as ``tc.scatter``'s): the one-hot
        ``tc.zeros((n, c)).scatter_(1, y.unsqueeze(1), 1.0)``. Outside the graph, as the other
        in-place methods: a src that requires grad is refused (``scatter`` keeps it in the
        graph)."""
        self._check_in_place("scatter_")
        from .functional.index import _along, _scatter_args  # noqa: PLC0415 - a cycle

        if isinstance(src, Tensor) and src.requires_grad and is_grad_enabled():
            raise RuntimeError(
                "scatter_: src requires grad, and an in-place write is not recorded; use "
                "t = t.scatter(dim, index, src) to keep src in the graph"
            )
        _, index, axis, src = _scatter_args("scatter_", self, dim, index, src)
        if self.ndim == 0:
            self.data[...] = src.data
        else:
            grid = _along(backend.array_module(self.data), index, axis)
            self.data[grid] = src.data[tuple(slice(n) for n in index.shape)]
        self._bump_version()
        return self

    def _fill_drawn(self, values, what):
        """The CPU samples ``values``, cast and moved here, written in place."""
        if not _is_float(self.dtype):
            raise TypeError(f"{what}: expected a floating-point tensor, got {self.dtype}")
        self.data[...] = backend.to_device(values.astype(self.dtype), self.device)
        self._bump_version()
        return self

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Samples of N(mean, std^2), in place, as PyTorch's ``t.normal_(0, 0.02)``: drawn on
        the CPU from the seeded generator (or ``generator``), as ``nn.init.normal_`` draws."""
        self._check_in_place("normal_")
        gen = backend.cpu_generator(generator, "normal_")
        return self._fill_drawn(gen.normal(mean, std, size=self.shape), "normal_")

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        """Samples of U(a, b), in place, as PyTorch's ``torch.empty(n).uniform_(-bound,
        bound)`` (its ``from`` and ``to``, positional)."""
        self._check_in_place("uniform_")
        gen = backend.cpu_generator(generator, "uniform_")
        return self._fill_drawn(gen.uniform(a, b, size=self.shape), "uniform_")

    def __setitem__(self, idx, value):
        # PyTorch allows it (and tracks versions to catch what it breaks); here ops never
        # change their inputs, so a saved input stays what the backward pass needs
        raise TypeError(
            "tinycolor tensors are not changed in place: build the new values with ops "
            "(tinycolor.functional.where, cat, pad), or assign to t.data for a tensor outside "
            "any graph"
        )

    def _compare(self, o, op):
        # the other side on this tensor's device, as for arithmetic (a NumPy array beside a
        # CUDA tensor is moved; a tensor on another device is a DeviceError)
        other = compared_with(o, self)
        _check_same_device("comparison", [self, other])
        return Tensor(op(self.data, other.data), _internal=True)

    def __eq__(self, o):  # elementwise, as the other comparisons (x == 0 is a mask)
        return self._compare(o, lambda a, b: a == b)

    def __ne__(self, o):
        return self._compare(o, lambda a, b: a != b)

    def __lt__(self, o):
        return self._compare(o, lambda a, b: a < b)

    def __le__(self, o):
        return self._compare(o, lambda a, b: a <= b)

    def __gt__(self, o):
        return self._compare(o, lambda a, b: a > b)

    def __ge__(self, o):
        return self._compare(o, lambda a, b: a >= b)

    __hash__ = object.__hash__  # by identity (defining __eq__ would drop it)

    # masks combine as PyTorch's: (x > 0) & (x < 1), ~mask (bool or integer tensors)
    def __invert__(self):
        return F().bitwise_not(self)

    def __and__(self, o):
        return F().bitwise_and(self, o)

    def __rand__(self, o):
        return F().bitwise_and(o, self)

    def __or__(self, o):
        return F().bitwise_or(self, o)

    def __ror__(self, o):
        return F().bitwise_or(o, self)

    def __xor__(self, o):
        return F().bitwise_xor(self, o)

    def __rxor__(self, o):
        return F().bitwise_xor(o, self)

    def logical_not(self):
        return F().logical_not(self)

    def logical_and(self, other):
        return F().logical_and(self, other)

    def logical_or(self, other):
        return F().logical_or(self, other)

    def logical_xor(self, other):
        return F().logical_xor(self, other)

    # PyTorch's names for the comparisons: pred.eq(target).sum()
    def eq(self, o):
        return self == o

    def ne(self, o):
        return self != o

    def lt(self, o):
        return self < o

    def le(self, o):
        return self <= o

    def gt(self, o):
        return self > o

    def ge(self, o):
        return self >= o

    # ------------------------------------------------------------------ methods
    # The reductions take NumPy's axis= and keepdims= and PyTorch's dim= and keepdim=, and the
    # keywords NumPy passes when it is given a tensor (np.sum(t) calls t.sum(axis=None,
    # out=None)): the answer is a tensor, in the graph, as the method's.
    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None, dtype=None, out=None):
        x = self if dtype is None and out is None else _numpy_keywords("sum", self, dtype, out)
        return F().sum(x, axis, keepdims, dim=dim, keepdim=keepdim)

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None, dtype=None, out=None):
        x = self if dtype is None and out is None else _numpy_keywords("mean", self, dtype, out)
        return F().mean(x, axis, keepdims, dim=dim, keepdim=keepdim)

    def max(self, *args, axis=None, keepdims=False, dim=None, keepdim=None, out=None):
        """The largest values along ``axis`` (all axes when None), as ``torch.amax``: the
        gradient shared between ties. The axis is named (``x.max(axis=1)``): PyTorch's
        ``x.max(1)`` and ``x.max(dim=1)`` are a (values, indices) pair, so either is refused
        rather than read as the values (``x.max(1)[1]`` would silently be row 1's maximum);
        ``tinycolor.max(x, 1)`` is PyTorch's pair."""
        _refuse_positional_extreme("max", args, dim)
        if out is not None:
            _numpy_keywords("max", self, None, out)
        return F().max(self, axis, keepdims, keepdim=keepdim)

    def var(
        self,
        axis=None,
        unbiased=True,
        keepdims=False,
        *,
        dim=None,
        keepdim=None,
        correction=None,
        ddof=None,
        dtype=None,
        out=None,
    ):
        """PyTorch's positional order: ``x.var(0, False)`` is the biased variance over axis 0.
        ``ddof`` is NumPy's name for ``correction`` (``np.var(t)`` passes ``ddof=0``: NumPy's
        biased variance)."""
        x = self if dtype is None and out is None else _numpy_keywords("var", self, dtype, out)
        if ddof is not None:
            correction = torch_spelling("var", "ddof", ddof, "correction", correction, None)
        return F().var(x, axis, unbiased, keepdims, dim=dim, keepdim=keepdim, correction=correction)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        """The vector p-norm over ``dim`` (all when None), as PyTorch's: ``x.norm()``,
        ``x.norm(dim=1)``, ``x.norm(1)``, ``x.norm(float('inf'))``."""
        return F().norm(self, p, dim, keepdim, dtype)

    def cumsum(self, dim=None, *, dtype=None, axis=None, out=None):
        """The running sum along ``dim``, as PyTorch's ``x.cumsum(dim)``; NumPy's ``axis=``
        names it too, and without either it runs over the flattened tensor, as NumPy's
        (``np.cumsum(t)`` calls ``t.cumsum(axis=None, dtype=None, out=None)``)."""
        x = self if dtype is None and out is None else _numpy_keywords("cumsum", self, dtype, out)
        dim = torch_spelling("cumsum", "axis", axis, "dim", dim, None)
        if dim is None:
            x, dim = x.reshape(-1), 0
        return F().cumsum(x, dim)

    def prod(self, dim=None, keepdim=None, *, dtype=None, axis=None, keepdims=False, out=None):
        if out is not None:
            _numpy_keywords("prod", self, None, out)
        if axis is not None or keepdims is not False:  # NumPy's names
            dim, keepdim = torch_axis_names("prod", axis, keepdims, dim, keepdim)
        return F().prod(self, dim, bool(keepdim), dtype=dtype)

    def topk(self, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - PyTorch's name
        """The k largest elements along ``dim`` and their indices, as ``torch.topk``: see
        ``tinycolor.topk``."""
        return F().topk(self, k, dim, largest, sorted)

    def argmax(self, axis=None, keepdims=False, *, dim=None, keepdim=None, out=None):
        """The index of the largest element (of the flattened tensor when ``axis`` is None),
        an integer tensor outside the graph."""
        if out is not None:
            _numpy_keywords("argmax", self, None, out)
        axis, keepdims = torch_axis_names("argmax", axis, keepdims, dim, keepdim)
        _refuse_empty_reduction("argmax", self.shape, axis)
        out = self.data.argmax(axis=axis, keepdims=bool(keepdims))
        return Tensor(out, _internal=True)

    def argmin(self, axis=None, keepdims=False, *, dim=None, keepdim=None, out=None):
        """The index of the smallest element, as ``argmax``."""
        if out is not None:
            _numpy_keywords("argmin", self, None, out)
        axis, keepdims = torch_axis_names("argmin", axis, keepdims, dim, keepdim)
        _refuse_empty_reduction("argmin", self.shape, axis)
        out = self.data.argmin(axis=axis, keepdims=bool(keepdims))
        return Tensor(out, _internal=True)

    def min(self, *args, axis=None, keepdims=False, dim=None, keepdim=None, out=None):
        """The smallest values along ``axis`` (all axes when None), as ``torch.amin``: the
        gradient shared between ties as ``max`` shares it. The axis is named,
        for ``max``'s reason (PyTorch's ``x.min(1)`` is a (values, indices) pair)."""
        _refuse_positional_extreme("min", args, dim)
        if out is not None:
            _numpy_keywords("min", self, None, out)
        return F().reduce.min_values(self, axis, keepdims, keepdim=keepdim)

    def std(
        self,
        axis=None,
        unbiased=True,
        keepdims=False,
        *,
        dim=None,
        keepdim=None,
        correction=None,
        ddof=None,
        dtype=None,
        out=None,
    ):
        """The square root of ``var`` (unbiased by default), PyTorch's arguments in its order;
        NumPy's ``ddof`` as ``var``'s. Its gradient is 0 where it is 0, as PyTorch's."""
        x = self if dtype is None and out is None else _numpy_keywords("std", self, dtype, out)
        if ddof is not None:
            correction = torch_spelling("std", "ddof", ddof, "correction", correction, None)
        return F().reduce.std(
            x, axis, unbiased, keepdims, dim=dim, keepdim=keepdim, correction=correction
        )

    def reshape(self, *shape, order="C"):
        """The same elements in ``shape`` (one -1 inferred), read in C order: NumPy's
        ``order='C'``, which ``np.reshape(t, shape)`` passes, is the only one."""
        if order != "C":
            raise ValueError(f"reshape: order={order!r} is not supported, only 'C' (row-major)")
        if len(shape) == 1 and isinstance(shape[0], tuple | list):
            shape = tuple(shape[0])
        return F().reshape(self, shape)

    def view(self, *shape):
        return self.reshape(*shape)

    def view_as(self, other):
        """Reshaped to ``other``'s shape, as PyTorch's (``target.view_as(pred)``)."""
        return self.reshape(other.shape)

    reshape_as = view_as

    def contiguous(self):
        """Itself: ``view`` and ``reshape`` copy whatever needs copying, so PyTorch's
        ``t.transpose(1, 2).contiguous().view(n, -1)`` runs as written."""
        return self

    def t(self):
        """A matrix's transpose (a 0-D or 1-D tensor as it is), as PyTorch's ``t.t()``."""
        if self.ndim > 2:
            raise ValueError(
                f"t() expects a tensor of at most 2 dimensions, got shape {self.shape}; "
                f"use transpose(dim0, dim1) or permute"
            )
        return F().transpose(self) if self.ndim == 2 else self

    def transpose(self, *axes):
        """``t.transpose(0, 1)`` swaps two axes, as in PyTorch; ``t.transpose()`` (and
        ``t.transpose(None)``, what ``np.transpose(t)`` calls) reverses them and
        ``t.transpose((2, 0, 1))`` permutes them, as in NumPy."""
        if axes == (None,):
            axes = ()
        if len(axes) == 1 and isinstance(axes[0], tuple | list):
            return F().transpose(self, tuple(axes[0]))
        if len(axes) == 2:
            return F().transpose(self, *axes)
        return F().transpose(self, axes or None)

    def permute(self, *axes):
        return F().permute(self, *axes)

    def flatten(self, start_dim=0, end_dim=-1):
        return F().flatten(self, start_dim, end_dim)

    def clone(self):
        return F().clone(self)

    def unsqueeze(self, dim):
        return F().unsqueeze(self, dim)

    def squeeze(self, dim=None, *, axis=None):
        """Axes of length 1 removed: all, or ``dim`` (an int or a tuple; NumPy's ``axis=``, what
        ``np.squeeze(t, axis)`` passes) where its length is 1, as PyTorch's."""
        return F().squeeze(self, torch_spelling("squeeze", "axis", axis, "dim", dim, None))

    def flip(self, *dims):
        """Reversed along ``dims``, a copy: ``x.flip(0)``, ``x.flip(0, 1)``, ``x.flip((0, 1))``."""
        return F().flip(self, dims[0] if len(dims) == 1 else dims)

    def repeat(self, *sizes):
        """Tiled ``sizes[i]`` times along axis i, as PyTorch's: ``x.repeat(2, 1)``."""
        return F().repeat(self, *sizes)

    def expand(self, *sizes):
        """Broadcast to ``sizes`` without copying (-1 keeps an axis): ``b.expand(n, -1)``."""
        return F().expand(self, *sizes)

    def expand_as(self, other):
        return F().expand(self, other.shape)

    def chunk(self, chunks, dim=0):
        """A tuple of ``chunks`` pieces along ``dim``, as ``torch.chunk``."""
        return F().chunk(self, chunks, dim)

    def split(self, split_size_or_sections, dim=0):
        """A tuple of pieces of the given size (or sizes) along ``dim``, as ``torch.split``."""
        return F().split(self, split_size_or_sections, dim)

    def masked_fill(self, mask, value):
        """``value`` where the boolean ``mask`` is True, as ``torch.masked_fill``."""
        return F().masked_fill(self, mask, value)

    def exp(self):
        return F().exp(self)

    def log(self):
        return F().log(self)

    def sqrt(self):
        return F().sqrt(self)

    def abs(self):
        return F().abs(self)

    def relu(self):
        return F().relu(self)

    def sigmoid(self):
        return F().sigmoid(self)

    def tanh(self):
        return F().tanh(self)

    def clip(self, lo=None, hi=None, *, min=None, max=None, out=None):  # noqa: A002
        """Clamped to [lo, hi], as ``F.clip``; ``np.clip(t, lo, hi)`` calls it with ``out=None``."""
        x = self if out is None else _numpy_keywords("clip", self, None, out)
        return F().clip(x, lo, hi, min=min, max=max)

    clamp = clip  # PyTorch's name: x.clamp(min=0), x.clamp(0, 1)

    def softmax(self, axis=-1, *, dim=None, dtype=None):
        return F().softmax(self, axis, dim=dim, dtype=dtype)

    def log_softmax(self, axis=-1, *, dim=None, dtype=None):
        return F().log_softmax(self, axis, dim=dim, dtype=dtype)

    def pow(self, exponent):
        return F().pow(self, exponent)

    def neg(self):
        return F().neg(self)

    def matmul(self, other):
        return F().matmul(self, other)

    def mm(self, other):
        """The product of two matrices, as PyTorch's ``mm`` (``matmul`` or ``@`` for others)."""
        other = as_tensor_like(other, (self,))
        if self.ndim != 2 or other.ndim != 2:
            raise ValueError(
                f"mm expects two matrices (2-D), got shapes {self.shape} and {other.shape}; "
                f"use matmul (@) for batches and vectors"
            )
        return F().matmul(self, other)

    # PyTorch's methods for picking and testing elements (tinycolor.functional.index)
    def gather(self, dim, index):
        return F().gather(self, dim, index)

    def scatter(self, dim, index, src):
        return F().scatter(self, dim, index, src)

    def scatter_add(self, dim, index, src):
        return F().scatter_add(self, dim, index, src)

    def index_select(self, dim, index):
        return F().index_select(self, dim, index)

    def sort(self, dim=-1, descending=False, stable=False):
        return F().sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False, *, axis=-1, kind=None, order=None):
        """The indices that sort along ``dim``, as PyTorch's; NumPy's keywords as
        ``np.argsort(t)`` passes them: ``axis=`` for ``dim`` (None: of the flattened tensor),
        ``kind='stable'`` (or 'mergesort') for ``stable=True``, ``stable=None``."""
        if order is not None:
            raise ValueError(f"argsort: order={order!r} names fields, which a tensor has none of")
        if kind not in (None, "quicksort", "heapsort", "stable", "mergesort"):
            raise ValueError(f"argsort: unknown kind {kind!r}")
        stable = bool(stable) or kind in ("stable", "mergesort")
        x = self
        if axis != -1:  # NumPy's name given
            if dim != -1:
                raise TypeError(f"argsort: got both dim={dim!r} and axis={axis!r}; give one")
            dim = axis
            if axis is None:
                x, dim = self.reshape(-1), 0
        return F().argsort(x, dim, descending, stable)

    def unbind(self, dim=0):
        return F().unbind(self, dim)

    def narrow(self, dim, start, length):
        return F().narrow(self, dim, start, length)

    def where(self, condition, other):
        """``self`` where ``condition`` is True, else ``other``: PyTorch's order, the same as
        ``tinycolor.where(condition, self, other)``."""
        return F().where(condition, self, other)

    def nonzero(self, *, as_tuple=False):
        return F().nonzero(self, as_tuple=as_tuple)

    def count_nonzero(self, dim=None):
        return F().count_nonzero(self, dim)

    def any(self, dim=None, keepdim=None, *, axis=None, keepdims=False, out=None):
        return F().any(self, dim, keepdim, axis=axis, keepdims=keepdims, out=out)

    def all(self, dim=None, keepdim=None, *, axis=None, keepdims=False, out=None):
        return F().all(self, dim, keepdim, axis=axis, keepdims=keepdims, out=out)

    def isnan(self):
        return F().isnan(self)

    def isinf(self):
        return F().isinf(self)

    def isfinite(self):
        return F().isfinite(self)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return F().isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return F().allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other):
        return F().equal(self, other)

    # products, triangles and logsumexp (tinycolor.functional.linalg, .reduce)
    def bmm(self, mat2):
        return F().bmm(self, mat2)

    def mv(self, vec):
        return F().mv(self, vec)

    def dot(self, other):
        return F().dot(self, other)

    def outer(self, vec2):
        return F().outer(self, vec2)

    def tril(self, diagonal=0):
        return F().tril(self, diagonal)

    def triu(self, diagonal=0):
        return F().triu(self, diagonal)

    def logsumexp(self, dim, keepdim=False):
        return F().logsumexp(self, dim, keepdim)

    # torch's elementwise math (tinycolor.functional.elementwise)
    def sin(self):
        return F().sin(self)

    def cos(self):
        return F().cos(self)

    def log1p(self):
        return F().log1p(self)

    def log10(self):
        return F().log10(self)

    def log2(self):
        return F().log2(self)

    def expm1(self):
        return F().expm1(self)

    def floor(self):
        return F().floor(self)

    def ceil(self):
        return F().ceil(self)

    def round(self, *, decimals=0, out=None):
        x = self if out is None else _numpy_keywords("round", self, None, out)
        return F().round(x, decimals=decimals)

    def sign(self):
        return F().sign(self)

    def floor_divide(self, other):
        return F().floor_divide(self, other)

    def remainder(self, other):
        return F().remainder(self, other)

    def fmod(self, other):
        return F().fmod(self, other)

    def reciprocal(self):
        return F().reciprocal(self)

    def rsqrt(self):
        return F().rsqrt(self)

    def square(self):
        return F().square(self)

    def lerp(self, end, weight):
        return F().lerp(self, end, weight)

    def maximum(self, other):
        return F().maximum(self, other)

    def minimum(self, other):
        return F().minimum(self, other)

    def amax(self, dim=(), keepdim=False):
        return F().amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return F().amin(self, dim, keepdim)

    def broadcast_to(self, size):
        return F().broadcast_to(self, size)

    # new tensors like this one: its dtype and device unless told otherwise, as PyTorch's
    def _new(self, make, *args, dtype=None, device=None, requires_grad=False):
        return make(
            *args,
            dtype=self.dtype if dtype is None else dtype,
            device=self.device if device is None else device,
            requires_grad=requires_grad,
        )

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        """Zeros of ``size`` in this tensor's dtype and on its device, as PyTorch's."""
        return self._new(zeros, _shape_of(size), dtype=dtype, device=device,
                         requires_grad=requires_grad)  # fmt: skip

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        """Ones of ``size`` in this tensor's dtype and on its device, as PyTorch's."""
        return self._new(ones, _shape_of(size), dtype=dtype, device=device,
                         requires_grad=requires_grad)  # fmt: skip

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        """``fill_value`` in ``size``, this tensor's dtype and device, as PyTorch's."""
        return self._new(full, size, fill_value, dtype=dtype, device=device,
                         requires_grad=requires_grad)  # fmt: skip

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        """A copy of ``data`` in this tensor's dtype and on its device (unless told), as
        PyTorch's ``t.new_tensor``."""
        return self._new(tensor, data, dtype=dtype, device=device, requires_grad=requires_grad)

    def type_as(self, other):
        """This tensor in ``other``'s dtype and on its device, as PyTorch's ``type_as``."""
        return self.to(other.device, other.dtype)

    def type(self, dtype=None):
        """``t.type(tc.float)``: this tensor in ``dtype``, as PyTorch's ``t.type(torch.float)``
        (a differentiable cast if the dtype changes, else the tensor itself; what the PyTorch
        quickstart's ``(pred.argmax(1) == y).type(torch.float).sum()`` counts with). Without
        ``dtype``, the type's name as PyTorch writes it: 'tinycolor.FloatTensor' for float32,
        'tinycolor.cuda.LongTensor' for int64 on the GPU, ..."""
        if dtype is None:
            kind = _TYPE_NAMES.get(np.dtype(self.dtype), np.dtype(self.dtype).name)
            return f"tinycolor.{'cuda.' if self.device == 'cuda' else ''}{kind}"
        if isinstance(dtype, str):
            raise TypeError(
                f"Tensor.type: expected a dtype (tinycolor.float32, tinycolor.long, ...), got "
                f"the string {dtype!r}"
            )
        return self.to(dtype=dtype)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        """``multinomial(self, ...)``: indices drawn with probabilities proportional to the
        weights of each row."""
        return multinomial(self, num_samples, replacement, generator=generator)

    def is_floating_point(self) -> bool:
        """Whether the dtype is a floating-point one, as PyTorch's ``t.is_floating_point()``."""
        return _is_float(self.dtype)


# PyTorch's names of the tensor types, for ``t.type()``.
_TYPE_NAMES = {
    np.dtype(np.float32): "FloatTensor",
    np.dtype(np.float64): "DoubleTensor",
    np.dtype(np.float16): "HalfTensor",
    np.dtype(np.int64): "LongTensor",
    np.dtype(np.int32): "IntTensor",
    np.dtype(np.int16): "ShortTensor",
    np.dtype(np.int8): "CharTensor",
    np.dtype(np.uint8): "ByteTensor",
    np.dtype(np.bool_): "BoolTensor",
}


def _fits(shape, into) -> bool:
    """Whether an array of ``shape`` broadcasts to ``into`` (to be written into it)."""
    try:
        return np.broadcast_shapes(shape, into) == tuple(into)
    except ValueError:
        return False


def _times(other, alpha):
    """``alpha * other`` on raw arrays (no graph), for add_ and sub_."""
    if alpha == 1:
        return other
    return (other.data if isinstance(other, Tensor) else other) * alpha


def _is_float(dtype) -> bool:
    return np.issubdtype(np.dtype(dtype), np.floating)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    only_inputs=True,
    allow_unused=None,
    is_grads_batched=False,
    materialize_grads=False,
):
    """d(outputs)/d(inputs), returned rather than added to ``.grad``, as
    ``torch.autograd.grad``: ``(gx,) = tinycolor.autograd.grad(loss, x)`` gives dloss/dx (a
    saliency map, say) and leaves every ``.grad`` as it was.

    ``outputs`` and ``inputs`` are a tensor or a sequence of them; ``grad_outputs`` one
    gradient per output (None for a single-element output: then 1); with several outputs the
    gradients add up, as ``sum(o * g)`` would give. The result is a tuple of tensors, one per
    input, outside the graph. An input the outputs do not depend on is an error, or None with
    ``allow_unused=True`` (zeros with ``materialize_grads=True`` as well). The graph is always
    kept (``retain_graph`` is accepted and changes nothing), nor does ``only_inputs``
    (deprecated in PyTorch, ignored there too); ``is_grads_batched`` must be False.
    ``create_graph=True`` (second derivatives) is not supported: the backward formulas work on
    arrays and record no graph, so a gradient penalty (WGAN-GP, R1), which differentiates a
    gradient, cannot be computed here."""
    if create_graph:
        raise NotImplementedError(
            "autograd.grad(create_graph=True): tinycolor's backward formulas work on arrays and "
            "record no graph, so a gradient cannot be differentiated again (WGAN-GP's and R1's "
            "gradient penalties need that); WGAN's weight clipping (p.clamp_ under no_grad) or "
            "nn.utils.spectral_norm constrain a critic without it"
        )
    if is_grads_batched:
        raise ValueError("autograd.grad: is_grads_batched=True is not supported, only False")
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if not inputs or not outputs:
        raise RuntimeError("autograd.grad: expected at least one output and one input")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(
                f"autograd.grad: input {i} does not require grad: only tensors with "
                f"requires_grad=True (or made from one) can be differentiated with respect to"
            )
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,) * len(outputs) if grad_outputs is None else (grad_outputs,)
    grad_outputs = tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"autograd.grad: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs; give "
            f"one per output (None for a single-element one)"
        )
    total = {id(t): None for t in inputs}
    for out, g in zip(outputs, grad_outputs):
        capture = dict.fromkeys(total)
        _walk_back(out, out._root_grad(g, "autograd.grad"), capture)
        for key, g_in in capture.items():
            if g_in is not None:
                total[key] = g_in if total[key] is None else total[key] + g_in
    result = []
    for i, t in enumerate(inputs):
        g = total[id(t)]
        if g is None:
            if not (allow_unused or materialize_grads):
                raise RuntimeError(
                    f"autograd.grad: input {i} (shape {t.shape}) is not used in computing the "
                    f"outputs; pass allow_unused=True to get None for it"
                )
            result.append(Tensor(t.data * 0, _internal=True) if materialize_grads else None)
        else:
            result.append(Tensor(backend.array_module(g).array(g), _internal=True))
    return tuple(result)


def _walk_back(root, grad, capture=None):
    """The backward pass from ``root``, whose gradient is ``grad``: each node's gradient
    summed from those of the nodes after it, in reverse topological order, then handed to its
    ``Function``'s backward. Adds to the leaves' ``.grad`` (and to retained non-leaves'); with
    ``capture`` (a dict ``id(tensor) -> None``), writes the gradients of those tensors there
    instead and touches no ``.grad``, for ``autograd.grad``."""
    xp = backend.array_module(root.data)
    order = _topological_order(root)
    grads = {id(root): grad}
    # the tensors whose summed gradient is an array this pass made itself (a sum or a
    # SliceGrad's zeros), which no one else holds yet, so that more is added to it in place:
    # a tensor used n times then costs one new array, not n - 1. (Once a tensor's gradient is
    # popped below, all its uses have added theirs: nothing is added to that array again.)
    owned = set()
    for node in reversed(order):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        if node._grad_hooks:
            g = node._run_grad_hooks(g)
        ctx = node._ctx
        if capture is not None:
            if id(node) in capture:
                capture[id(node)] = g
            if ctx is None:
                continue
        elif ctx is None or node._retains_grad:  # a leaf, or asked to: accumulate
            if node.requires_grad:  # xp.array/asarray: a 0-d grad stays an array
                node.grad = xp.array(g) if node.grad is None else xp.asarray(node.grad + g)
            if ctx is None:
                continue
        if node._version_counter[0] != ctx.output_version or ctx.saved_versions != [
            t._version_counter[0] for t in ctx.inputs
        ]:
            _check_saved_versions(ctx, node)
        in_grads = ctx.backward(g)
        if isinstance(in_grads, list):
            in_grads = tuple(in_grads)
        elif not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        if len(in_grads) != len(ctx.inputs):
            raise RuntimeError(
                f"{ctx.name}.backward returned {len(in_grads)} gradients for "
                f"{len(ctx.inputs)} inputs; it returns one per positional argument of "
                f"apply, numbers included, in order (None for one that needs no gradient)"
            )
        for i, (inp, ig) in enumerate(zip(ctx.inputs, in_grads)):
            if ig is None or not inp.requires_grad:
                continue
            key = id(inp)
            if ig.__class__ is SliceGrad:
                _add_slice_grad(grads, owned, key, inp, ig)
                continue
            if ig.__class__ is not inp.data.__class__ or ig.shape != inp.data.shape:
                ig = _input_grad(ctx, i, inp, ig, node)  # checked, summed back, or refused
            if ig.dtype != inp.dtype:
                ig = ig.astype(inp.dtype)
            if key not in grads:
                grads[key] = ig  # perhaps another node's array too (Add passes g on): not owned
            elif key in owned:  # an array this pass made for this tensor alone: add in place
                grads[key] += ig
            else:
                grads[key] = grads[key] + ig
                owned.add(key)


class SliceGrad:
    """A gradient that is zero outside ``index`` (a basic index: ints and slices), where it is
    ``value``: what ``GetItem``'s backward returns for a slice, so that the engine adds each
    piece of ``x.split(...)``, ``chunk`` or ``unbind`` into one array of x's shape (k slices:
    one array and k slice additions), where a full-size gradient per piece would cost k
    arrays of x's size and k additions of them."""

    __slots__ = ("index", "value")

    def __init__(self, index, value):
        self.index, self.value = index, value


def _add_slice_grad(grads, owned, key, inp, sg) -> None:
    """Add the SliceGrad ``sg`` into ``grads[key]``: in place where that array is the pass's
    own, else into a new array (zeros, or a copy of the gradient so far)."""
    value = sg.value if sg.value.dtype == inp.dtype else sg.value.astype(inp.dtype)
    xp = backend.array_module(value)
    acc = grads.get(key)
    if key not in owned or not isinstance(acc, xp.ndarray):  # (a sum of 0-d arrays: a scalar)
        if acc is None:
            acc = xp.zeros(inp.data.shape, inp.dtype)
        else:  # a copy: the array may be another node's too
            acc = xp.array(acc, dtype=inp.dtype)
        grads[key] = acc
        owned.add(key)
    acc[sg.index] += value


def _topological_order(root: Tensor) -> list[Tensor]:
    """Nodes reachable from ``root``, each after all of its inputs (iterative DFS)."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        if node._ctx is not None:
            for inp in node._ctx.inputs:
                if inp.requires_grad and id(inp) not in visited:
                    stack.append((inp, False))
    return order


@functools.cache
def F():
    """The functional module, imported lazily (it imports this module)."""
    from . import functional  # noqa: PLC0415

    return functional


def tensor(data, requires_grad=False, dtype=None, device=None) -> Tensor:
    """A tensor holding a copy of ``data`` (a number, a list, a NumPy or CuPy array, a Tensor),
    as ``torch.tensor``: training it in place (``w -= lr * w.grad``, an optimizer step) leaves
    the caller's array as it was. ``from_numpy`` shares the array instead; so does the
    ``Tensor(data)`` constructor, which the library uses to wrap arrays it made itself."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray) or backend.is_cupy_array(data):
        data = data.copy()
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def _creation(fill):
    def make(*shape, size=None, dtype=None, device=None, requires_grad=False):
        if size is not None:  # torch.zeros(size=(2, 3))
            if shape:
                raise TypeError(f"got a shape {shape} and size={size!r}: give one of them")
            shape = (size,)
        if len(shape) == 1 and isinstance(shape[0], tuple | list):
            shape = tuple(shape[0])
        xp = backend.xp_for(device or backend.get_device())
        arr = fill(xp, shape, dtype or backend.default_dtype)
        return Tensor(arr, requires_grad=requires_grad, _internal=True)

    return make


zeros = _creation(lambda xp, s, d: xp.zeros(s, dtype=d))
ones = _creation(lambda xp, s, d: xp.ones(s, dtype=d))
empty = _creation(lambda xp, s, d: xp.zeros(s, dtype=d))
empty.__doc__ = (
    "``torch.empty(*size)``: here zeros, so that a tensor left unfilled by mistake holds the "
    "same values on every run rather than whatever memory held"
)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included, as
    ``torch.linspace`` (float32 unless ``dtype`` says)."""
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative integer, got {steps!r}")
    arr = np.linspace(start, end, int(steps)).astype(dtype or backend.default_dtype)
    return Tensor(arr, requires_grad=requires_grad, device=device)


def eye(n, m=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """The ``n`` x ``m`` identity matrix (``m`` defaults to ``n``), as ``torch.eye``."""
    arr = np.eye(int(n), None if m is None else int(m), dtype=dtype or backend.default_dtype)
    return Tensor(arr, requires_grad=requires_grad, device=device)


def randint(
    *args,
    low=None,
    high=None,
    size=None,
    generator=None,
    dtype=np.int64,
    device=None,
    requires_grad=False,
) -> Tensor:
    """Integers drawn uniformly from ``low`` (0 unless given) up to ``high``, excluded, from the
    seeded generator (or ``generator``), as ``torch.randint(high, size)`` and
    ``torch.randint(low, high, size)`` (each also as a keyword)."""
    if size is None and args and isinstance(args[-1], tuple | list):
        *args, size = args
    args = [*(() if low is None else (low,)), *args, *(() if high is None else (high,))]
    if size is None or not 1 <= len(args) <= 2:
        raise TypeError(
            "randint: expected randint(high, size) or randint(low, high, size), with size a "
            f"tuple, got arguments {tuple(args)} and size={size!r}"
        )
    low, high = (0, args[0]) if len(args) == 1 else args
    if not low < high:
        raise ValueError(f"randint: expected low < high, got low={low} and high={high}")
    gen = backend.cpu_generator(generator, "randint")
    arr = gen.integers(low, high, size=tuple(size)).astype(dtype)
    return Tensor(arr, requires_grad=requires_grad, device=device)


def _shape_of(shape) -> tuple:
    """``f(2, 3)`` or ``f((2, 3))``, as PyTorch's creation functions take a shape."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape


def randn(*shape, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples from the seeded generator (see ``manual_seed``), or from
    ``generator`` (``tinycolor.Generator().manual_seed(s)``), as ``torch.randn``."""
    arr = backend.cpu_generator(generator, "randn").standard_normal(_shape_of(shape))
    return Tensor(
        arr.astype(dtype or backend.default_dtype), requires_grad=requires_grad, device=device
    )


def rand(*shape, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Samples of U(0, 1) from the seeded generator (or ``generator``), as ``torch.rand``."""
    arr = backend.cpu_generator(generator, "rand").random(_shape_of(shape))
    return Tensor(
        arr.astype(dtype or backend.default_dtype), requires_grad=requires_grad, device=device
    )


def randperm(n: int, generator=None, dtype=np.int64, device=None) -> Tensor:
    """A random permutation of 0 .. n-1 from the seeded generator (or ``generator``), as
    ``torch.randperm``: to shuffle a dataset, ``idx = randperm(len(x))`` then
    ``x[idx[i : i + batch]]``."""
    gen = backend.cpu_generator(generator, "randperm")
    return Tensor(gen.permutation(int(n)).astype(dtype), device=device)


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """Indices drawn from the categories of ``input``, each with probability proportional to
    its weight, as ``torch.multinomial``: the sampling step of a language model's
    ``generate``, ``torch.multinomial(F.softmax(logits, -1), num_samples=1)``.

    ``input`` is (k,) or (n, k): non-negative finite weights (probabilities, or any positive
    multiple of them), each row with some positive weight. The result is int64, (num_samples,)
    or (n, num_samples), on ``input``'s device, outside the graph. Without ``replacement`` a row
    gives each category at most once (so it needs ``num_samples`` categories of positive
    weight); with it, the draws are independent. Drawn on the CPU from the seeded generator
    (``tinycolor.manual_seed``) or ``generator``; the numbers are not PyTorch's."""
    w = backend.to_numpy(input.data if isinstance(input, Tensor) else np.asarray(input))
    if w.ndim not in (1, 2) or w.shape[-1] == 0:
        raise ValueError(
            f"multinomial: expected a 1-d (k,) or 2-d (n, k) input of weights, got shape "
            f"{tuple(w.shape)}"
        )
    if not _is_float(w.dtype):
        raise TypeError(f"multinomial: expected floating-point weights, got {w.dtype}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, int | np.integer):
        raise TypeError(f"multinomial: num_samples must be an int, got {num_samples!r}")
    if num_samples < 1:
        raise ValueError(f"multinomial: num_samples must be positive, got {num_samples}")
    rows = w.reshape(-1, w.shape[-1]).astype(np.float64)
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError("multinomial: the weights must be finite and non-negative")
    totals = rows.sum(axis=1, keepdims=True)
    if (totals <= 0).any():
        raise ValueError("multinomial: every row needs a positive weight (its sum is 0)")
    if not replacement and num_samples > (rows > 0).sum(axis=1).min():
        raise ValueError(
            f"multinomial: cannot draw {num_samples} samples without replacement from "
            f"{(rows > 0).sum(axis=1).min()} categories of positive weight; pass "
            f"replacement=True, or draw fewer"
        )
    gen = backend.cpu_generator(generator, "multinomial")
    if replacement:  # each draw: the first category whose running sum passes u * total
        u = gen.random((rows.shape[0], num_samples)) * totals
        cum = np.cumsum(rows, axis=1)
        out = np.stack([np.searchsorted(c, ui, side="right") for c, ui in zip(cum, u)])
        out = np.minimum(out, rows.shape[1] - 1)  # u * total rounding up to the sum
    else:
        out = np.stack(
            [gen.choice(rows.shape[1], num_samples, replace=False, p=r / r.sum()) for r in rows]
        )
    out = out.astype(np.int64).reshape(w.shape[:-1] + (num_samples,))
    device = input.device if isinstance(input, Tensor) else backend.device_of(input)
    return Tensor(out, device=device)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``, as ``torch.full``: float32 for a float
    value, int64 for an int, bool for a bool (unless ``dtype`` says)."""
    if dtype is None:
        dtype = np.asarray(fill_value).dtype
        dtype = backend.default_dtype if dtype.kind == "f" else dtype
    arr = np.full(_shape_of((size,)), fill_value, dtype=dtype)
    return Tensor(arr, requires_grad=requires_grad, device=device)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``start, start + step, ...`` below ``end`` (``arange(n)``: 0 .. n-1), as
    ``torch.arange``: int64 when every bound is an integer, float32 otherwise."""
    if end is None:
        start, end = 0, start
    arr = np.arange(start, end, step)
    if dtype is None and arr.dtype.kind == "f":
        dtype = backend.default_dtype
    arr = arr.astype(np.int64 if dtype is None else dtype)
    return Tensor(arr, requires_grad=requires_grad, device=device)


def from_numpy(a) -> Tensor:
    """A CPU tensor over the NumPy array ``a`` itself, sharing its memory and dtype, as
    ``torch.from_numpy`` (a float64 array stays float64)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(a).__name__}")
    return Tensor(a, device="cpu")


def _like(fill):
    def make(input, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
        return fill(
            input.shape,
            dtype=input.dtype if dtype is None else dtype,
            device=input.device if device is None else device,
            requires_grad=requires_grad,
        )

    return make


zeros_like = _like(zeros)
zeros_like.__doc__ = "Zeros of ``input``'s shape, dtype and device, as ``torch.zeros_like``."
ones_like = _like(ones)
ones_like.__doc__ = "Ones of ``input``'s shape, dtype and device, as ``torch.ones_like``."
randn_like = _like(randn)
randn_like.__doc__ = "``randn`` of ``input``'s shape, dtype and device, as ``torch.randn_like``."
empty_like = _like(empty)
empty_like.__doc__ = "``empty`` (zeros) of ``input``'s shape, dtype and device: torch.empty_like."


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    """``fill_value`` in ``input``'s shape, dtype and device, as ``torch.full_like``."""
    return full(
        input.shape,
        fill_value,
        dtype=input.dtype if dtype is None else dtype,
        device=input.device if device is None else device,
        requires_grad=requires_grad,
    )


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a tensor, sharing its memory where it can, as ``torch.as_tensor``: a Tensor
    already of that dtype and device is returned as it is (else converted), a NumPy array of
    that dtype on the CPU is shared (as ``from_numpy``), anything else copied (as ``tensor``)."""
    if isinstance(data, Tensor):
        return data.to(device, dtype)
    return Tensor(data, dtype=dtype, device=device)
