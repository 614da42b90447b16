"""``Module``, the base of every layer and model, and ``Parameter``, a tensor a module learns.

A module keeps three ordered registries, filled by plain attribute assignment as in PyTorch:

* ``_parameters``: ``Parameter`` tensors (``self.weight = Parameter(...)``), what optimizers update;
* ``_buffers``: tensors that are state but not learned (``register_buffer``), e.g. BatchNorm's
  running mean and variance; they are saved in ``state_dict`` and moved by ``to`` (a buffer
  registered with ``persistent=False``, a constant the module can remake, is only moved);
* ``_modules``: child modules (``self.conv1 = Conv2d(...)``), which makes the tree that
  ``named_parameters`` and ``state_dict`` walk to build dotted names such as ``'layer.0.weight'``.

A plain list or dict of modules is an ordinary attribute, as in PyTorch: its parameters are not
registered (no optimizer or checkpoint sees them). Hold several modules in ``ModuleList``,
``ModuleDict`` or ``Sequential``, and several parameters in ``ParameterList`` or
``ParameterDict``.

Calling a module runs its ``forward``, with the forward hooks around it when it has any
(``register_forward_pre_hook``, ``register_forward_hook``): a way to look at or change what goes
in and out of a layer (its activations, say) without editing its code;
``register_full_backward_hook`` does the same for the gradients that flow back through it
(``register_full_backward_pre_hook`` for those of its outputs, before its backward).
"""

from __future__ import annotations

import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Iterator

import numpy as np

from .. import backend
from ..autograd import Function, RemovableHandle, Tensor, is_grad_enabled

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Parameter(Tensor):
    """A tensor that a module learns: ``requires_grad=True`` and registered by ``Module``.

    ``Parameter(data)`` takes an array, a list or a Tensor (its data is shared, not copied);
    like any new tensor, NumPy data is placed on ``tinycolor.get_device()``.
    """

    def __init__(self, data, requires_grad=True, device=None):
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data, requires_grad=requires_grad, device=device)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def _as_array(value):
    """The raw array behind a Tensor, or the value itself (a NumPy/CuPy array or a scalar)."""
    return value.data if isinstance(value, Tensor) else value


class _Gate(Function):
    """The point where the gradients of several tensors (a module's inputs, or its outputs)
    meet, for the module's backward hooks: z = 0, made from the tensors, and each tensor goes
    on as ``_Tap(t, z)``. A tap's backward keeps its gradient aside (for ``t``, none flows
    directly); since z is an input of every tap, the engine reaches z's backward only after
    every tap's, so it sees all the gradients at once, hands them to ``on_grads``, and returns
    what that gives back as the tensors' gradients."""

    def forward(self, *arrays, on_grads, kept):
        self.on_grads, self.kept = on_grads, kept
        dtype = next((a.dtype for a in arrays if a.dtype.kind == "f"), np.float32)
        return backend.array_module(arrays[0]).zeros((), dtype=dtype)

    def backward(self, g):
        grads, self.kept[:] = list(self.kept), [None] * len(self.kept)  # the next pass's
        return tuple(self.on_grads(grads))


class _Tap(Function):
    """y = a (the same array), a tensor that ``_Gate`` watches: dL/dy is kept in slot ``slot``
    of the gate's list, and z gets a zero gradient, so that its backward runs."""

    def forward(self, a, z, slot, kept):
        self.slot, self.kept, self.z = slot, kept, (z.dtype, backend.array_module(z))
        return a

    def backward(self, g):
        self.kept[self.slot] = g
        dtype, xp = self.z
        return None, xp.zeros((), dtype=dtype)


def _gate(tensors, on_grads):
    """``tensors`` through one ``_Gate``: the same values, whose gradients, once all known,
    go to ``on_grads(list)`` and on as what it returns."""
    kept = [None] * len(tensors)
    z = _Gate.apply(*tensors, on_grads=on_grads, kept=kept)
    return [_Tap.apply(t, z, slot=i, kept=kept) for i, t in enumerate(tensors)]


class _BackwardHooks:
    """One call of a module with backward hooks: its floating tensor inputs and its tensor
    outputs each go through a ``_gate``. In the backward pass the outputs' gate runs the
    backward pre-hooks, which may replace ``grad_output``, records it and passes it on into the
    module; the inputs' gate (later: it is before the module in the graph) runs the
    hooks and passes ``grad_input``, maybe replaced, on to the inputs. With no input that
    requires grad, the outputs' gate runs the hooks, with ``grad_input`` all None."""

    def __init__(self, module, n_inputs):
        self.module, self.n_inputs = module, n_inputs
        self.inputs = []  # (position, shape, array type) of each gated input
        self.frozen = {}  # position -> (shape, dtype, xp) of those that do not require grad
        self.n_outputs, self.grad_output = 1, (None,)

    def gate_inputs(self, args):
        slots = [
            i for i, a in enumerate(args) if isinstance(a, Tensor) and a.data.dtype.kind == "f"
        ]
        if not any(args[i].requires_grad for i in slots):
            return args
        self.inputs = [(i, args[i].shape, args[i].data.__class__) for i in slots]
        # PyTorch's grad_input for an input that does not require grad is zeros (it marks
        # that input non-differentiable), not dL/d(input): kept here to hand the hooks those
        self.frozen = {
            i: (args[i].shape, args[i].data.dtype, backend.array_module(args[i].data))
            for i in slots
            if not args[i].requires_grad
        }
        args = list(args)
        for i, t in zip(slots, _gate([args[i] for i in slots], self._at_inputs)):
            args[i] = t
        return tuple(args)

    def gate_outputs(self, output):
        one = isinstance(output, Tensor)
        items = [output] if one else list(output) if isinstance(output, tuple | list) else []
        self.n_outputs = len(items) or 1
        self.grad_output = (None,) * self.n_outputs
        slots = [i for i, t in enumerate(items) if isinstance(t, Tensor) and t.requires_grad]
        self.outputs = [(i, items[i].shape, items[i].data.__class__) for i in slots]
        if not slots:
            return output
        for i, t in zip(slots, _gate([items[i] for i in slots], self._at_outputs)):
            items[i] = t
        if one:
            return items[0]
        return type(output)._make(items) if hasattr(output, "_make") else type(output)(items)

    def _at_outputs(self, grads):
        packed = [None] * self.n_outputs
        for (i, _, _), g in zip(self.outputs, grads):
            packed[i] = g
        grad_output = tuple(packed)
        hooks = [h for when, h in self.module._forward_hooks.values() if when == "backward_pre"]
        for hook in hooks:
            result = hook(self.module, grad_output)
            if result is not None:
                grad_output = self._checked("pre-hook", result, self.outputs, "output")
        self.grad_output = grad_output
        if not self.inputs:
            self._run((None,) * self.n_inputs)
        return [grad_output[i] for i, _, _ in self.outputs]

    def _at_inputs(self, grads):
        packed = [None] * self.n_inputs
        for (i, _, _), g in zip(self.inputs, grads):
            packed[i] = g
        for i, (shape, dtype, xp) in self.frozen.items():
            packed[i] = xp.zeros(shape, dtype=dtype)
        grad_input = self._run(tuple(packed))
        return [grad_input[i] for i, _, _ in self.inputs]

    def _run(self, grad_input):
        hooks = [h for when, h in list(self.module._forward_hooks.values()) if when == "backward"]
        for hook in hooks:
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = self._checked("hook", result, self.inputs, "input")
        self.grad_output = (None,) * self.n_outputs  # the next backward pass's
        return grad_input

    def _checked(self, what, result, tensors, kind):
        """What a backward hook (``what``: 'hook' or 'pre-hook') returned for the gradients of
        the module's inputs or outputs (``kind``), as a tuple of arrays, or a clear error:
        one entry per input (output), each None or an array of its tensor's shape on its
        device, for ``tensors`` ((position, shape, array type) of each one gated)."""
        name, n = type(self.module).__name__, self.n_inputs if kind == "input" else self.n_outputs
        if not isinstance(result, tuple | list) or len(result) != n:
            one = isinstance(result, tuple | list)
            got = f"{len(result)} gradients" if one else f"a {type(result).__name__}"
            each = "positional argument of forward" if kind == "input" else "output of forward"
            raise RuntimeError(
                f"{name}: a backward {what} returned {got} for {n} {kind}"
                f"{'s' if n != 1 else ''}; it returns a tuple with one entry per {each} (None "
                f"where no gradient goes on), or None to leave grad_{kind} as it is"
            )
        result = tuple(g.data if isinstance(g, Tensor) else g for g in result)
        for i, shape, cls in tensors:
            g = result[i]
            if g is not None and getattr(g, "shape", None) != shape:
                got = g.shape if hasattr(g, "shape") else f"a {type(g).__name__}"
                raise RuntimeError(
                    f"{name}: a backward {what} returned {got} for {kind} "
                    f"{i} of shape {shape}; a gradient has its {kind}'s shape"
                )
            if g is not None and g.__class__ is not cls:
                raise backend.DeviceError(
                    f"{name}: a backward {what} returned a gradient on "
                    f"{backend.device_of(g)} for {kind} {i}, which is on "
                    f"{'cuda' if cls is not np.ndarray else 'cpu'}"
                )
        return result


# the kinds of forward hook that run after forward: with_kwargs=True (_kw), always_call=True
_POST_HOOKS = ("post", "post_kw", "post_always", "post_kw_always")


class Module:
    """Base class of layers and models: subclass it, assign parameters and sub-modules in
    ``__init__`` (after ``super().__init__()``) and write ``forward``; call the module itself."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        # every hook, in the order registered: id -> (kind, hook), the kind one of "pre",
        # "pre_kw", _POST_HOOKS, "backward" or "backward_pre"
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration
    def _registries(self):
        try:
            return (
                self.__dict__["_parameters"],
                self.__dict__["_buffers"],
                self.__dict__["_modules"],
            )
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__}.__init__ must call super().__init__() before assigning "
                "parameters, buffers or sub-modules"
            ) from None

    def __setattr__(self, name, value):
        if isinstance(value, Parameter | Module) or name in self.__dict__.get("_parameters", ()):
            params, buffers, modules = self._registries()
            if not (value is None or isinstance(value, Parameter | Module)):
                raise TypeError(
                    f"cannot assign {type(value).__name__} to {type(self).__name__}.{name}: "
                    "a parameter slot takes a Parameter or None"
                )
            for registry in (params, buffers, modules):
                registry.pop(name, None)
            self._non_persistent_buffers.discard(name)
            self.__dict__.pop(name, None)
            if isinstance(value, Module):
                modules[name] = value
            else:
                params[name] = value
        elif name in self.__dict__.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} to buffer {type(self).__name__}.{name}: "
                    "expected a Tensor or None"
                )
            self._buffers[name] = value
        elif name in self.__dict__.get("_modules", ()):
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} to sub-module "
                    f"{type(self).__name__}.{name}"
                )
            self._modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only called when normal lookup fails: look in the registries.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        if "_parameters" not in d:  # e.g. _forward_hooks, asked for by __call__
            raise AttributeError(
                f"'{type(self).__name__}' object has no attribute '{name}': its __init__ must "
                "call super().__init__() first"
            )
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(registry, ()):
                del self.__dict__[registry][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def _check_name(self, how: str, name, own: dict) -> None:
        """A new parameter, buffer or sub-module name: a non-empty string without dots (the
        dots join the names of a state_dict), not taken by another kind of entry or by an
        attribute (as PyTorch refuses them): a buffer named 'weight' would replace the weight
        in the saved state while the layer went on using its parameter."""
        if not isinstance(name, str):  # PyTorch's TypeError: a wrong kind, not a bad key
            raise TypeError(f"{how}: the name must be a string, got {type(name).__name__} {name!r}")
        if not name or "." in name:
            raise KeyError(f"{how}: the name must be a non-empty string without dots, got {name!r}")
        taken = [
            what
            for what, registry in (
                ("a parameter", self._parameters),
                ("a buffer", self._buffers),
                ("a sub-module", self._modules),
            )
            if registry is not own and name in registry
        ]
        if not taken and name in self.__dict__:
            taken = ["an attribute"]
        elif not taken and hasattr(type(self), name):  # a method or property: 'eval', 'forward'
            raise KeyError(
                f"{how}: attribute {name!r} already exists ({type(self).__name__}.{name} is a "
                "method or property of the class, which the entry would hide); pick another name"
            )
        if taken:
            raise KeyError(f"{how}: {type(self).__name__} already has {taken[0]} named {name!r}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, an empty slot such as ``bias=False``) under ``name``."""
        params, _, _ = self._registries()
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter({name!r}): expected a Parameter or None")
        self._check_name("register_parameter", name, params)
        params[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Register state that is moved with the module (``to``) but not learned, such as
        BatchNorm's running statistics; ``self.name`` reads it. A persistent buffer (the
        default) is also part of ``state_dict``, so checkpoints save and load it; one
        registered with ``persistent=False`` (a constant the module makes again in its
        ``__init__``, such as a fixed filter) is not, as in PyTorch."""
        _, buffers, _ = self._registries()
        self._check_name("register_buffer", name, buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            # An array is wrapped (a convenience PyTorch does not offer); a number or a list
            # is refused, as PyTorch refuses them: its dtype and device would be guesses.
            if not (isinstance(tensor, np.ndarray) or backend.is_cupy_array(tensor)):
                raise TypeError(
                    f"register_buffer({name!r}): expected a Tensor, an array or None, got "
                    f"{type(tensor).__name__}; wrap it, e.g. tc.tensor(np.array(3, np.int64))"
                )
            tensor = Tensor(tensor)
        buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        _, _, modules = self._registries()
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}): expected a Module, got {type(module).__name__}")
        self._check_name("add_module", name, modules)
        modules[name] = module

    # ------------------------------------------------------------------ traversal
    def named_modules(
        self, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module (name ``prefix``) and all its descendants, depth first, each once (or,
        with ``remove_duplicate=False``, a module registered under several names under each,
        as PyTorch's)."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, mod = stack.pop()
            if remove_duplicate and id(mod) in seen:
                continue
            seen.add(id(mod))
            yield name, mod
            children = [
                (f"{name}.{k}" if name else k, m) for k, m in mod._modules.items() if m is not None
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry: str, prefix: str, recurse: bool, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix, remove_duplicate) if recurse else [(prefix, self)]
        for mod_name, mod in mods:
            for name, t in getattr(mod, registry).items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
                seen.add(id(t))
                yield (f"{mod_name}.{name}" if mod_name else name), t

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate=True):
        """(dotted name, Parameter) pairs, each shared parameter once (under each of its names
        with ``remove_duplicate=False``), in registration order."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def num_parameters(self) -> int:
        """The number of learned scalars."""
        return sum(p.size for p in self.parameters())

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every sub-module and then on this one (e.g. custom init)."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and devices
    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout drops, BatchNorm uses batch statistics), for this module and,
        through each child's own ``train(mode)`` (so that a child's override runs, as in
        PyTorch: a model that keeps its BatchNorm frozen, say), all its descendants."""
        if not isinstance(mode, bool):
            raise ValueError(
                f"training mode is expected to be boolean (True or False), got {mode!r}; "
                "eval() is train(False)"
            )
        object.__setattr__(self, "training", mode)
        for m in self.children():
            m.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, flag: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(flag)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of all parameters: set them to None, as PyTorch does (or, with
        ``set_to_none=False``, to zeros of their shape)."""
        for p in self.parameters():
            p.zero_grad(set_to_none)

    def to(self, device=None, dtype=None) -> Module:
        """Move every parameter and buffer to ``device`` and/or cast floating ones to ``dtype``,
        in place: the Parameter objects stay the same, so an optimizer built before still
        updates them. ``to('cuda')``, ``to(np.float64)`` and ``to(device, dtype)`` all work."""
        if device is not None and not isinstance(device, str):
            device, dtype = None, device
        name = backend._check_name(device) if device is not None else None
        if name == "cuda":
            backend.cupy()  # raises DeviceError, saying why, before anything moves
        dtype = np.dtype(dtype) if dtype is not None else None
        if dtype is not None and not np.issubdtype(dtype, np.floating):
            raise TypeError(f"Module.to: dtype must be a floating type, got {dtype}")

        def convert(arr):
            if arr is None:
                return None
            if name is not None:
                arr = backend.to_device(arr, name)
            if dtype is not None and np.issubdtype(arr.dtype, np.floating):
                arr = arr.astype(dtype, copy=False)
            return arr

        for t in list(self.parameters()) + list(self.buffers()):
            t.data = convert(t.data)
            t.grad = convert(t.grad)
        return self

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self) -> Module:
        return self.to("cuda")

    def float(self) -> Module:
        return self.to(dtype=np.float32)

    def double(self) -> Module:
        return self.to(dtype=np.float64)

    @property
    def device(self) -> backend.device:
        """The device of the first parameter or buffer (``get_device()`` for an empty module),
        a ``tc.device`` as a tensor's ``.device`` is."""
        for t in self.parameters():
            return t.device
        for t in self.buffers():
            return t.device
        return backend.gpu() if backend.get_device() == "cuda" else backend._ON_CPU

    # ------------------------------------------------------------------ state
    def state_dict(self, *, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Every parameter and persistent buffer as ``{'layer.0.weight': array, ...}``, each
        key starting with ``prefix``. A sub-module registered under two names (``self.b =
        self.a``) is saved under both, as in PyTorch, so that either model loads the other's.

        The arrays are copies (NumPy, or CuPy for a module on the GPU): a snapshot that later
        training does not change. ``tinycolor.save`` writes it to an ``.npz`` file. With
        ``keep_vars=True`` the values are the live Parameters and buffers instead, as PyTorch's.
        """
        tensors = self._state_tensors(prefix)
        if keep_vars:
            return tensors
        return OrderedDict((k, t.data.copy()) for k, t in tensors.items())

    def _state_tensors(self, prefix: str = "") -> OrderedDict:
        """The live tensors behind ``state_dict``, under the same names: the module's own
        parameters and persistent buffers, then each child's, recursively, as PyTorch walks
        them (a child registered under two names is walked under both)."""
        out = OrderedDict()

        def walk(mod, pre):
            skip = mod._non_persistent_buffers
            for registry in (mod._parameters, mod._buffers):
                for name, t in registry.items():
                    if t is not None and not (registry is mod._buffers and name in skip):
                        out[pre + name] = t
            for name, child in mod._modules.items():
                if child is not None:
                    walk(child, f"{pre}{name}.")

        walk(self, prefix)
        return out

    def optional_state_keys(self) -> set[str]:
        """The state_dict keys a saved state may lack: buffers that were added to a layer after
        checkpoints had been written without them (BatchNorm's ``num_batches_tracked``), kept
        as they are when missing."""
        return {
            f"{prefix}.{b}" if prefix else b
            for prefix, m in self.named_modules(remove_duplicate=False)
            for b in getattr(m, "_optional_buffers", ())
        }

    def load_state_dict(self, state, strict: bool = True) -> IncompatibleKeys:
        """Copy the arrays of ``state`` (a ``state_dict``, or what ``tinycolor.load`` returns:
        its ``'__meta__'`` entry is ignored) into this module's parameters and buffers.

        With ``strict`` (the default) a key the module lacks or a key missing from ``state``
        is an error; a shape mismatch is always one. Nothing is changed unless every check
        passes. Values are cast to each parameter's dtype, moved to its device and written
        into its array in place, as PyTorch's ``copy_``: whatever shares that array sees them,
        and a graph built before the load refuses ``backward`` (the tensors' versions move).
        Returns the missing and unexpected keys, as PyTorch does.
        """
        if isinstance(state, Module):
            raise TypeError("load_state_dict expects a state dict; pass module.state_dict()")
        own = self._state_tensors()
        given = {k: v for k, v in state.items() if k != "__meta__"}
        optional = self.optional_state_keys()
        missing = [k for k in own if k not in given and k not in optional]
        unexpected = [k for k in given if k not in own]
        errors = []
        if strict and (missing or unexpected):
            if missing:
                errors.append("missing key(s): " + ", ".join(repr(k) for k in missing))
            if unexpected:
                errors.append("unexpected key(s): " + ", ".join(repr(k) for k in unexpected))
        for key, t in own.items():
            if key not in given:
                continue
            value = _as_array(given[key])
            shape = tuple(getattr(value, "shape", np.shape(value)))
            if shape != t.shape:
                errors.append(
                    f"size mismatch for {key!r}: the state dict has shape {shape}, "
                    f"the model has {t.shape}"
                )
            dtype = getattr(value, "dtype", None)  # NumPy's or CuPy's; a list or a torch
            dtype = dtype if isinstance(dtype, np.dtype) else np.asarray(value).dtype  # tensor
            if dtype.kind not in "biufc":  # the cast below would fail with some keys loaded
                errors.append(f"{key!r}: expected numbers, got dtype {dtype}")
        if errors:
            raise RuntimeError(
                f"Error(s) in loading the state dict into {type(self).__name__}:\n  "
                + "\n  ".join(errors)
            )
        for key, t in own.items():
            if key in given:
                value = backend.to_device(_as_array(given[key]), t.device)
                t.data[...] = value.astype(t.dtype, copy=False)  # the shape was checked
                t._bump_version()
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ calling and printing
    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        if self._forward_hooks:  # empty in the common case: one check, no slower call
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args, kwargs):
        hooks = list(self._forward_hooks.items())  # a hook may remove itself as it runs
        output, called = None, set()
        try:
            for _, (when, hook) in hooks:
                if when == "pre":
                    result = hook(self, args)
                    if result is not None:
                        args = result if isinstance(result, tuple) else (result,)
                elif when == "pre_kw":  # with_kwargs=True: None or (args, kwargs)
                    result = hook(self, args, kwargs)
                    if result is not None:
                        if not (isinstance(result, tuple) and len(result) == 2):
                            raise RuntimeError(
                                f"{type(self).__name__}: a forward pre-hook registered with "
                                "with_kwargs=True returns None or a tuple (args, kwargs), got "
                                f"{type(result).__name__}"
                            )
                        args, kwargs = result
            backward = None
            if is_grad_enabled() and any(w in ("backward", "backward_pre") for _, (w, _) in hooks):
                backward = _BackwardHooks(self, len(args))
                if any(w == "backward" for _, (w, _) in hooks):  # pre-hooks alone need no inputs
                    args = backward.gate_inputs(args)
            output = self.forward(*args, **kwargs)
            for key, (when, hook) in hooks:
                if when in _POST_HOOKS:
                    called.add(key)  # marked first: one that raises is not called again below
                    result = self._run_forward_hook(when, hook, args, kwargs, output)
                    if result is not None:
                        output = result
        except Exception:
            # PyTorch's always_call=True: such a hook runs even when a pre-hook, forward or
            # another hook raised (to undo what a pre-hook set up, say), with the output so
            # far (None if forward did not finish); an error of its own is only a warning,
            # so that the first error is the one the caller sees.
            for key, (when, hook) in hooks:
                if when in ("post_always", "post_kw_always") and key not in called:
                    try:
                        result = self._run_forward_hook(when, hook, args, kwargs, output)
                        if result is not None:
                            output = result
                    except Exception as err:
                        warnings.warn(
                            f"{type(self).__name__}: a forward hook registered with "
                            f"always_call=True raised {type(err).__name__}: {err}; it is "
                            "ignored, as the error raised before it is the one passed on",
                            stacklevel=3,
                        )
            raise
        if backward is not None:
            output = backward.gate_outputs(output)
        return output

    def _run_forward_hook(self, when, hook, args, kwargs, output):
        if when.startswith("post_kw"):  # with_kwargs=True
            return hook(self, args, kwargs, output)
        return hook(self, args, output)

    def register_forward_pre_hook(
        self, hook, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, args)`` before each ``forward``, ``args`` being the tuple of
        positional inputs (keyword arguments go to ``forward`` unseen), as PyTorch does. A hook
        that returns something other than None replaces the inputs: a tuple as the new
        ``args``, any other value as the only one. Hooks run in the order they were
        registered (``prepend=True`` puts this one first); ``handle.remove()`` on what this
        returns takes the hook off again. With ``with_kwargs=True`` it is called as
        ``hook(module, args, kwargs)`` and returns None or a new ``(args, kwargs)``."""
        when = "pre_kw" if with_kwargs else "pre"
        return self._add_hook("register_forward_pre_hook", when, hook, prepend)

    def register_forward_hook(
        self, hook, *, prepend: bool = False, with_kwargs: bool = False, always_call: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each ``forward`` (``args`` as the pre-hooks
        left them), as PyTorch does: to record a layer's activations, for example. A hook that
        returns something other than None replaces the output, for the hooks after it and the
        caller. ``handle.remove()`` on what this returns takes the hook off again;
        ``prepend=True`` runs it before those registered earlier, and ``with_kwargs=True``
        calls it as ``hook(module, args, kwargs, output)``, as PyTorch's. With
        ``always_call=True`` it also runs when a pre-hook, ``forward`` or an earlier hook
        raises (its ``output`` then None, or what ``forward`` returned), before the error goes
        on to the caller; an error it raises itself then is turned into a warning."""
        when = ("post_kw" if with_kwargs else "post") + ("_always" if always_call else "")
        return self._add_hook("register_forward_hook", when, hook, prepend)

    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` each time ``backward`` has computed
        the gradients of a call of this module, as PyTorch does: to look at what flows back
        through a layer (its gradients' sizes, say) or to change it. ``grad_output`` has one
        entry per output of ``forward`` (a tensor, or each tensor of a tuple): dL/d(output), or
        None for one the loss did not reach. ``grad_input`` has one per positional argument of
        ``forward``: dL/d(argument) for a floating tensor that requires grad, zeros of its
        shape for one that does not (while another input does: PyTorch's zeros, its input
        being non-differentiable), None for anything else; all None when no input requires
        grad (the first layer's), the hook then called once ``grad_output`` is known. The
        gradients are arrays, as ``.grad`` is; those of the module's parameters are not among
        them (they are in ``.grad``). A hook that returns a tuple (one entry per
        argument, None where no gradient goes on) replaces ``grad_input``, for the hooks after
        it and for everything before the module in the graph; one that returns None leaves it.
        Keyword arguments pass unseen. ``handle.remove()`` on what this returns takes the hook
        off again; ``prepend=True`` runs it before those registered earlier."""
        return self._add_hook("register_full_backward_hook", "backward", hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` each time ``backward`` reaches a call of this
        module, before the gradients of its inputs are computed, as PyTorch does:
        ``grad_output`` has one entry per output of ``forward`` (a tensor, or each tensor of a
        tuple), dL/d(output) as an array, or None for one the loss did not reach. A hook that
        returns a tuple (one entry per output) replaces ``grad_output``: for the pre-hooks
        after it, for the module's backward (what its inputs and parameters get) and for its
        full backward hooks' ``grad_output``; one that returns None leaves it. Hooks run in
        the order registered (``prepend=True``: this one first); ``handle.remove()`` on what
        this returns takes the hook off."""
        return self._add_hook("register_full_backward_pre_hook", "backward_pre", hook, prepend)

    def _add_hook(self, how: str, when: str, hook, prepend: bool = False) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"{how}: the hook must be callable, got {type(hook).__name__}")
        self._registries()  # a clear error if super().__init__() was not called
        handle = RemovableHandle(self._forward_hooks)
        handle.hooks[handle.id] = (when, hook)
        if prepend:
            handle.hooks.move_to_end(handle.id, last=False)
        return handle

    def extra_repr(self) -> str:
        """The layer's settings, shown between the parentheses of its repr."""
        return ""

    def __repr__(self):
        lines = []
        for name, m in self._modules.items():
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        extra = self.extra_repr()
        if not lines and "\n" not in extra:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}("
        if extra:
            lines = extra.split("\n") + lines
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _index(container, n: int, idx) -> int:
    """``idx`` (an int, negative from the end) as a position in ``0..n-1``, or a clear error."""
    if not isinstance(idx, int | np.integer) or isinstance(idx, bool):
        raise TypeError(f"{container} indices must be integers or slices, not {idx!r}")
    if not -n <= idx < n:
        raise IndexError(f"{container} index {idx} is out of range for {n} modules")
    return int(idx) % n


def _renumber(module: Module, modules) -> None:
    """Register ``modules`` in ``module._modules`` under ``'0'``, ``'1'``, ... in order (the
    same dict, emptied and refilled), as PyTorch renumbers a list after a deletion."""
    for m in modules:
        if not isinstance(m, Module):
            raise TypeError(f"{type(module).__name__}: expected a Module, got {type(m).__name__}")
    module._modules.clear()
    module._modules.update((str(i), m) for i, m in enumerate(modules))


class _ListOfModules:
    """What ModuleList and Sequential share as lists of modules: PyTorch's mutating methods.
    ``del l[i]`` (or a slice) and ``insert`` renumber the children ``'0'``, ``'1'``, ..., as
    PyTorch does; ``l[i] = m`` replaces a child under its name."""

    def __setitem__(self, idx, module: Module) -> None:
        key = list(self._modules)[_index(type(self).__name__, len(self._modules), idx)]
        if not isinstance(module, Module):
            raise TypeError(
                f"{type(self).__name__}[{idx!r}] = ...: expected a Module, got "
                f"{type(module).__name__}"
            )
        self._modules[key] = module

    def __delitem__(self, idx) -> None:
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            del mods[idx]
        else:
            del mods[_index(type(self).__name__, len(mods), idx)]
        _renumber(self, mods)

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index`` (as ``list.insert``) and renumber."""
        if not isinstance(module, Module):
            raise TypeError(
                f"{type(self).__name__}.insert: expected a Module, got {type(module).__name__}"
            )
        if not isinstance(index, int | np.integer) or isinstance(index, bool):
            raise TypeError(f"{type(self).__name__}.insert: index must be an int, got {index!r}")
        mods = list(self._modules.values())
        mods.insert(int(index), module)
        _renumber(self, mods)

    def pop(self, idx=-1) -> Module:
        """Remove the module at ``idx`` (the last by default), renumber, and return it."""
        module = self[idx]
        del self[idx]
        return module

    def __iadd__(self, modules):
        return self.extend(modules)


class Sequential(_ListOfModules, Module):
    """Modules applied one after another: ``Sequential(Linear(2, 8), ReLU(), Linear(8, 1))``.

    The children are named ``'0'``, ``'1'``, ... so their parameters are ``'0.weight'`` etc.
    Indexing gives a child (or a Sequential of a slice); ``len`` counts them.
    """

    def __init__(self, *modules: Module):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, m in modules[0].items():
                self.add_module(str(name), m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):  # the children keep their names, as in PyTorch
            return Sequential(dict(list(self._modules.items())[idx]))
        return list(self._modules.values())[idx]

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules) -> Sequential:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        super().insert(index, module)
        return self


class ModuleList(_ListOfModules, Module):
    """A list of modules whose parameters are registered (named ``'0'``, ``'1'``, ...);
    it has no forward: the owner decides how to call them."""

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        super().insert(index, module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(mods[idx])
        return mods[idx]


class ModuleDict(Module):
    """A dict of modules whose parameters are registered under their keys (``'heads.ab.weight'``),
    as PyTorch's: a plain dict (or list) of modules registers nothing, so an optimizer and a
    checkpoint would miss its parameters. It has no forward: the owner picks what to call,
    ``self.heads[task](x)``. Keys keep their insertion order."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def pop(self, key: str) -> Module:
        """Remove the module under ``key`` and return it, as ``dict.pop``."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        self._modules.clear()

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules) -> None:
        """Add or replace modules from a dict or (key, module) pairs, as ``dict.update``."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module


def _as_parameter(container: str, value) -> Parameter:
    """A Parameter as it is; another Tensor made a Parameter sharing its data, as PyTorch's
    ParameterList and ParameterDict do."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{container}: expected a Parameter or a Tensor, got {type(value).__name__}")


def _parameter_line(key, p: Parameter) -> str:
    """``(key): Parameter containing: [float32 of size 3x4]``, as PyTorch prints a container."""
    where = "" if p.device == "cpu" else f" ({p.device})"
    size = "x".join(str(n) for n in p.shape)
    return f"({key}): Parameter containing: [{p.dtype} of size {size}]{where}"


class ParameterList(Module):
    """A list of parameters registered under ``'0'``, ``'1'``, ... (``'weights.0'`` in the
    owner's ``state_dict``), as PyTorch's: a plain list of parameters registers nothing, so an
    optimizer and a checkpoint would miss them. A Tensor that is not a Parameter is made one.
    It has no forward: the owner decides how to use them."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def _key(self, idx) -> str:
        n = len(self._parameters)
        if not isinstance(idx, int | np.integer) or isinstance(idx, bool):
            raise TypeError(f"ParameterList indices must be integers or slices, not {idx!r}")
        if not -n <= idx < n:
            raise IndexError(f"ParameterList index {idx} is out of range for {n} parameters")
        return str(int(idx) % n)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList(list(self)[idx])
        return self._parameters[self._key(idx)]

    def __setitem__(self, idx, value) -> None:
        self.register_parameter(self._key(idx), _as_parameter("ParameterList", value))

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, value) -> ParameterList:
        self.register_parameter(str(len(self)), _as_parameter("ParameterList", value))
        return self

    def extend(self, values) -> ParameterList:
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_parameter_line(k, p) for k, p in self._parameters.items())


class ParameterDict(Module):
    """A dict of parameters registered under their keys (``'scales.ab'`` in the owner's
    ``state_dict``), as PyTorch's; a Tensor that is not a Parameter is made one. Keys are
    strings without dots and keep their insertion order."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Parameter:
        return self._parameters[key]

    def __setitem__(self, key: str, value) -> None:
        self.register_parameter(key, _as_parameter("ParameterDict", value))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def pop(self, key: str) -> Parameter:
        """Remove the parameter under ``key`` and return it, as ``dict.pop``."""
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        self._parameters.clear()

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def items(self):
        return self._parameters.items()

    def values(self):
        return self._parameters.values()

    def get(self, key: str, default=None):
        return self._parameters.get(key, default)

    def update(self, parameters) -> None:
        """Add or replace parameters from a dict or (key, tensor) pairs, as ``dict.update``."""
        pairs = parameters.items() if hasattr(parameters, "items") else parameters
        for key, value in pairs:
            self[key] = value

    def extra_repr(self) -> str:
        return "\n".join(_parameter_line(k, p) for k, p in self._parameters.items())
