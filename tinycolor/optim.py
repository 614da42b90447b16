"""Optimizers (SGD with momentum and Nesterov, RMSprop, Adagrad, Adam, AdamW) and learning-rate
schedules (StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR, OneCycleLR,
ReduceLROnPlateau).

An optimizer holds its parameters in groups, each with its own settings, as PyTorch's:
``optim.SGD([{"params": head, "lr": 0.1}, {"params": body}], lr=0.01, momentum=0.9)`` gives
the head lr 0.1 and the body the default 0.01, both momentum 0.9 (a plain list of parameters
is one group). Per parameter it keeps the state its rule needs (a velocity, running
averages). ``step()`` reads each parameter's ``.grad`` and updates its ``.data`` in place with
array ops: no graph is recorded, and the Parameter objects a model holds stay the same. The
update rules are PyTorch's, written out in each docstring; weight decay is L2
regularisation, ``g <- g + weight_decay * p``, added to the gradient first (AdamW's is
decoupled). A step counts as a change of each parameter it moves (``p._version``):
``backward`` through a graph built before the step, which saved the old values, is refused,
as in PyTorch.

``state_dict()`` is flat (``{'group.0.lr': ..., 'state.0.momentum_buffer': array, ...}``) so
that ``tinycolor.save(opt.state_dict(), path)`` writes it to an ``.npz`` file like a model's.
"""

from __future__ import annotations

import itertools
import math
import os
import sys
import types
from collections.abc import Mapping, MutableMapping

import numpy as np

from . import backend
from .autograd import Tensor, enable_grad


class _SharedOption:
    """``opt.lr`` (and each hyperparameter): the value all param groups share, so that code
    written for one group (``opt.lr *= 0.5``) keeps working; setting it sets every group's.
    Groups with different values make reading it an error that says where to look."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, opt, owner=None):
        if opt is None:
            return self
        values = [group[self.name] for group in opt.param_groups]
        if any(v != values[0] for v in values[1:]):
            raise ValueError(
                f"{type(opt).__name__}.{self.name}: its {len(values)} param groups have different "
                f"values, {values}; read or set param_groups[i][{self.name!r}]"
            )
        return values[0]

    def __set__(self, opt, value):
        for group in opt.param_groups:
            group[self.name] = value


class Optimizer:
    """Base class: ``params`` (an iterable of tensors that require grad, or of dicts, one per
    parameter group: ``{'params': tensors, option: value, ...}``) and ``defaults`` (every
    option's value for the groups that do not set it).

    ``param_groups`` is the list of groups (dict-like: ``'params'`` and the options),
    ``params`` all the parameters in order, ``state[i]`` the state of ``params[i]``; reading
    ``opt.lr`` (or another option) gives the value when every group has the same. Subclasses
    list their options in ``hyperparameters`` and their per-parameter state arrays in
    ``state_names``, check an option set in ``_check(options, who)``, and implement
    ``_update(i, p, g, options)``.
    """

    hyperparameters: tuple[str, ...] = ("lr",)
    state_names: tuple[str, ...] = ()
    lr = _SharedOption("lr")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in cls.hyperparameters:
            if not isinstance(getattr(cls, name, None), _SharedOption):
                setattr(cls, name, _SharedOption(name))

    def __init__(self, params, defaults: Mapping):
        name = type(self).__name__
        self.defaults = dict(defaults)
        self._check(self.defaults, name)
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params must be an iterable of tensors, such as model.parameters(), not "
                "a single tensor; wrap it in a list"
            )
        if callable(getattr(params, "parameters", None)):
            raise TypeError(
                f"{name}: params must be the model's parameters, {name}(model.parameters(), "
                f"...), not the {type(params).__name__} itself"
            )
        if isinstance(params, set | frozenset):
            raise TypeError(f"{name}: params must be in order (a list), not a set")
        try:
            items = list(params)
        except TypeError:
            raise TypeError(
                f"{name}: params must be an iterable of tensors, such as model.parameters(), "
                f"got {type(params).__name__}"
            ) from None
        if not items:
            raise ValueError(f"{name}: got an empty list of parameters")
        self.params: list[Tensor] = []
        self.state: list[dict] = []
        self.param_groups: list[_ParamGroup] = []
        self._buffers: dict = {}  # scratch arrays by (device, dtype): see _scratch
        if isinstance(items[0], Mapping):
            for k, group in enumerate(items):
                if not isinstance(group, Mapping):
                    raise TypeError(
                        f"{name}: params holds param groups (dicts) and a "
                        f"{type(group).__name__} (item {k}): give every group as a dict"
                    )
                self._add_group(group, plain=False)
        else:
            self._add_group({"params": items}, plain=True)
        if not self.params:
            raise ValueError(f"{name}: got an empty list of parameters")

    def add_param_group(self, param_group: Mapping) -> None:
        """Add a group, ``{'params': tensors, option: value, ...}``, as PyTorch's: options it
        does not set take the optimizer's defaults. Useful to train more of a model later
        (unfreezing a pretrained encoder with its own lr). A parameter already in a group, an
        option this optimizer does not have, or a bad value is refused."""
        self._add_group(param_group, plain=False)

    def _add_group(self, param_group, plain: bool) -> None:
        """add_param_group; ``plain``: the optimizer was given a list of tensors, one group,
        whose messages name parameter i alone."""
        name = type(self).__name__
        k = len(self.param_groups)
        if not isinstance(param_group, Mapping):
            raise TypeError(
                f"{name}.add_param_group: a param group is a dict {{'params': tensors, option: "
                f"value, ...}}, got {type(param_group).__name__}"
            )
        who = f"{name} param group {k}"
        if "params" not in param_group:
            raise ValueError(f"{who}: has no 'params' (the tensors it updates)")
        unknown = [
            key for key in param_group if key not in ("params", *SCHEDULE_KEYS, *self.defaults)
        ]
        if unknown:
            raise ValueError(
                f"{who}: unknown option {unknown[0]!r}; {name}'s options are "
                f"{', '.join(self.hyperparameters)}"
            )
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif callable(getattr(params, "parameters", None)):
            raise TypeError(
                f"{who}: 'params' must be the parameters, {{'params': "
                f"module.parameters(), ...}}, not the {type(params).__name__} itself"
            )
        elif isinstance(params, set | frozenset):
            raise TypeError(f"{who}: 'params' must be in order (a list), not a set")
        try:
            params = list(params)
        except TypeError:
            raise TypeError(
                f"{who}: 'params' must be a tensor or an iterable of tensors, got "
                f"{type(params).__name__}"
            ) from None
        where = "" if plain else f" of param group {k}"
        seen = {id(p): j for j, group in enumerate(self.param_groups) for p in group._params}
        for i, p in enumerate(params):
            if isinstance(p, Mapping):
                raise TypeError(
                    f"{name}: parameter {i}{where} is a dict: param groups go in a list of "
                    "dicts, [{'params': ...}, {'params': ...}], each with tensors as 'params'"
                )
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{name}: parameter {i}{where} is a {type(p).__name__}, not a Tensor"
                )
            if not p.requires_grad:
                raise ValueError(
                    f"{name}: parameter {i}{where} {p.shape} does not require grad, so it would "
                    "never be updated"
                )
            if id(p) in seen:
                j = seen[id(p)]
                raise ValueError(
                    f"{name}: parameter {i}{where} {p.shape} is in param group {j} already; "
                    "a parameter belongs to one group"
                    if j < k
                    else f"{name}: a parameter appears more than once{where}"
                )
            seen[id(p)] = k
        options = {**self.defaults, **{key: v for key, v in param_group.items() if key != "params"}}
        self._check(options, who)
        self.param_groups.append(_ParamGroup(self, params, options))
        self.params.extend(params)
        self.state.extend({} for _ in params)

    def _check(self, options: dict, who: str) -> None:
        """Check (and normalise, in place) a group's options; ``who`` begins each message."""
        _check_nonneg(who, "lr", options["lr"])

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of all parameters: set them to None, as PyTorch does (or, with
        ``set_to_none=False``, to zeros of their shape)."""
        for p in self.params:
            p.zero_grad(set_to_none)

    def step(self, closure=None):
        """Update every parameter that has a gradient, with its group's options; the others are
        left untouched. ``closure``, as PyTorch's: a function that clears the gradients,
        computes the loss, calls ``backward`` and returns the loss; it is called first (with
        gradients recorded, even inside ``no_grad``) and ``step`` returns its loss (None
        without one). The gradients are checked before any parameter moves."""
        name = type(self).__name__
        loss = None
        if closure is not None:
            if not callable(closure):
                raise TypeError(
                    f"{name}.step: closure must be a function that computes the loss, calls "
                    f"backward and returns the loss, got {type(closure).__name__}"
                )
            with enable_grad():
                loss = closure()
        work = []
        for i, (p, options) in enumerate(
            (p, group._options) for group in self.param_groups for p in group._params
        ):
            g = p.grad
            if g is None:
                continue
            if isinstance(g, Tensor):
                raise TypeError(
                    f"{name}.step: parameter {i}'s .grad is a Tensor; .grad holds an array (as "
                    "backward leaves it): set p.grad = t.data, not the Tensor t"
                )
            if backend.device_of(g) != p.device:
                raise backend.DeviceError(
                    f"{name}: parameter {i} is on {p.device} but its gradient on "
                    f"{backend.device_of(g)}; move the model before building the optimizer"
                )
            work.append((i, p, g, options))
        for i, p, g, options in work:
            self._update(i, p, g, options)
            p._bump_version()
        return loss

    def _update(self, i: int, p: Tensor, g, options: dict):  # pragma: no cover - abstract
        raise NotImplementedError

    def _scratch(self, p: Tensor):
        """A work array shaped like ``p`` (a view of one flat buffer per device and dtype, as
        large as the largest parameter), reused by every update; never saved."""
        xp = backend.array_module(p.data)
        key = (p.device, np.dtype(p.dtype).str)
        buf = self._buffers.get(key)
        if buf is None or buf.size < p.data.size:
            size = max(int(q.data.size) for q in self.params)
            buf = self._buffers[key] = xp.empty(size, dtype=p.dtype)
        return buf[: p.data.size].reshape(p.shape)

    # ------------------------------------------------------------------ saving and resuming
    def state_dict(self) -> dict:
        """The groups' options and each parameter's state, flat: ``{'group.0.lr': 0.01,
        'group.0.params': array([0, 1, 2]), 'state.3.exp_avg': array, ...}`` (parameters by
        their index in ``params``, as PyTorch numbers them), plus ``'optimizer'`` (the class
        name), ``'n_params'`` and ``'n_groups'``. Arrays are copies, on the parameters'
        device."""
        out = {
            "optimizer": type(self).__name__,
            "n_params": len(self.params),
            "n_groups": len(self.param_groups),
        }
        start = 0
        for k, group in enumerate(self.param_groups):
            n = len(group._params)
            out[f"group.{k}.params"] = np.arange(start, start + n, dtype=np.int64)
            start += n
            for name in self.hyperparameters:
                out[f"group.{k}.{name}"] = group._options[name]
            for key in group._schedule_keys:  # a schedule's, for one resumed with last_epoch=n
                out[f"group.{k}.{key}"] = group._options[key]
        for i, st in enumerate(self.state):
            for key, value in st.items():
                out[f"state.{i}.{key}"] = value.copy() if hasattr(value, "copy") else value
        return out

    def load_state_dict(self, state: dict) -> None:
        """Resume from ``state_dict()`` (or what ``tinycolor.load`` read from its file): each
        group's options and each parameter's state. The groups must hold as many parameters
        as the state's, in the same order; nothing changes when anything is refused."""
        name = f"{type(self).__name__}.load_state_dict"
        expected = (
            f"expected an optimizer's state_dict(), {type(self).__name__}.state_dict()'s "
            "(flat keys 'group.K.<option>' and 'state.I.<state name>')"
        )
        if not isinstance(state, Mapping):
            raise TypeError(f"{name}: {expected}, got a {type(state).__name__}")
        if "param_groups" in state and "state" in state:
            raise ValueError(
                f"{name}: this is PyTorch's optimizer state_dict (nested 'state' and "
                f"'param_groups'), which tinycolor does not read; {expected}"
            )
        state = {k: v for k, v in state.items() if k != "__meta__"}
        saved_by = _scalar(state.get("optimizer", type(self).__name__))
        if str(saved_by) != type(self).__name__:
            raise ValueError(f"{name}: the state is from {saved_by}")
        n = int(_scalar(state.get("n_params", len(self.params))))
        if n != len(self.params):
            raise ValueError(
                f"{name}: the state is for {n} parameters, this optimizer has {len(self.params)}"
            )
        if "n_groups" in state:
            n_groups = int(_scalar(state["n_groups"]))
        else:  # saved before groups: one group, its options at the top level
            n_groups = 1
            state = {
                (f"group.0.{k}" if k in self.hyperparameters else k): v for k, v in state.items()
            }
            state["group.0.params"] = np.arange(n)
        if n_groups != len(self.param_groups):
            raise ValueError(
                f"{name}: the state has {n_groups} param groups, this optimizer has "
                f"{len(self.param_groups)}"
            )
        new_options = [dict(group._options) for group in self.param_groups]
        new_state: list[dict] = [{} for _ in self.params]
        for key, value in state.items():
            if key in ("optimizer", "n_params", "n_groups"):
                continue
            kind, idx, sname = (str(key).split(".", 2) + ["", ""])[:3]
            if kind not in ("group", "state") or not idx.isdigit():
                raise ValueError(f"{name}: unexpected key {key!r}; {expected}")
            i = int(idx)
            if kind == "group":
                known = sname in ("params", *SCHEDULE_KEYS) or sname in self.hyperparameters
                if i >= n_groups:
                    raise ValueError(
                        f"{name}: unexpected key {key!r}: the state has {n_groups} param groups"
                    )
                if not known:
                    raise ValueError(
                        f"{name}: unexpected key {key!r}: {type(self).__name__}'s options are "
                        f"{', '.join(self.hyperparameters)}"
                    )
                if sname == "params":
                    have = len(self.param_groups[i]._params)
                    if np.size(backend.to_numpy(value)) != have:
                        raise ValueError(
                            f"{name}: param group {i} of the state has "
                            f"{np.size(backend.to_numpy(value))} parameters, this optimizer's "
                            f"has {have}"
                        )
                    continue
                new_options[i][sname] = (
                    tuple(float(v) for v in np.asarray(backend.to_numpy(value)))
                    if np.ndim(value)
                    else _scalar(value)
                )
                continue
            if not i < n:
                raise ValueError(f"{name}: unexpected key {key!r}: the state has {n} parameters")
            if sname not in self.state_names:
                raise ValueError(
                    f"{name}: unexpected key {key!r}: {type(self).__name__} keeps the state "
                    f"{', '.join(self.state_names) or 'nothing'} per parameter"
                )
            p = self.params[i]
            if sname == "step":
                new_state[i][sname] = int(_scalar(value))
                continue
            arr = value.data if isinstance(value, Tensor) else value
            if tuple(arr.shape) != p.shape:
                raise ValueError(
                    f"{name}: size mismatch for {key!r}: the state has shape "
                    f"{tuple(arr.shape)}, parameter {i} has {p.shape}"
                )
            new_state[i][sname] = backend.to_device(arr, p.device).astype(p.dtype, copy=True)
        for k, options in enumerate(new_options):
            self._check(options, f"{name}: param group {k}")
        for group, options in zip(self.param_groups, new_options, strict=True):
            group._options = options
        self.state = new_state

    def __repr__(self):
        def options(group):
            return ", ".join(f"{k}={group[k]}" for k in self.hyperparameters)

        if len(self.param_groups) == 1:
            only = self.param_groups[0]
            return f"{type(self).__name__}({len(self.params)} parameters, {options(only)})"
        groups = "; ".join(
            f"group {k}: {len(g._params)} parameters, {options(g)}"
            for k, g in enumerate(self.param_groups)
        )
        return f"{type(self).__name__}({groups})"


# What PyTorch's schedules keep in each param group, beside the optimizer's options: the base
# lr ('initial_lr', every schedule), and OneCycleLR's largest and last lrs and its momenta.
SCHEDULE_KEYS = ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum")


class _ParamGroup(MutableMapping):
    """One parameter group as PyTorch's dict: ``'params'`` (its parameters, a tuple) and its
    own value of each of the optimizer's options. ``group['lr'] = 0.01`` changes the group's
    lr (a schedule does it so); an option the optimizer does not have is refused. A few keys
    more may be there, as in PyTorch: those a learning rate schedule sets and reads
    (``SCHEDULE_KEYS``: ``'initial_lr'``, the group's base lr, and OneCycleLR's ``'max_lr'``,
    ``'min_lr'``, ``'max_momentum'``, ``'base_momentum'``); the optimizer's ``state_dict`` saves
    them, as PyTorch's does, so that a schedule built with ``last_epoch=n`` on an optimizer
    loaded from a file finds them."""

    def __init__(self, optimizer: Optimizer, params: list, options: dict):
        self._optimizer_name = type(optimizer).__name__
        self._names = optimizer.hyperparameters
        self._params = params
        self._options = options

    def _check(self, key):
        if key not in ("params", *SCHEDULE_KEYS) and key not in self._names:
            raise KeyError(
                f"{self._optimizer_name}'s param group has no {key!r}; its keys are "
                f"{['params', *self._names]}"
            )

    def __getitem__(self, key):
        self._check(key)
        return tuple(self._params) if key == "params" else self._options[key]

    def __setitem__(self, key, value):
        self._check(key)
        if key == "params":
            raise TypeError(
                "a param group's 'params' cannot be replaced: add parameters with "
                "optimizer.add_param_group({'params': ...}), or build a new optimizer"
            )
        self._options[key] = value

    def __delitem__(self, key):
        if key in SCHEDULE_KEYS and key in self._options:
            del self._options[key]
            return
        raise TypeError(f"a param group's {key!r} cannot be deleted")

    def __iter__(self):
        return iter(("params", *self._names, *self._schedule_keys))

    def __len__(self):
        return 1 + len(self._names) + len(self._schedule_keys)

    @property
    def _schedule_keys(self) -> tuple:
        return tuple(key for key in SCHEDULE_KEYS if key in self._options)

    def __repr__(self):
        return repr(dict(self._options) | {"params": f"<{len(self._params)} tensors>"})


def _scalar(v):
    """A Python scalar from a 0-d array (as read back from an .npz file) or a scalar."""
    if isinstance(v, np.ndarray | np.generic):
        return v.item()
    if backend.is_cupy_array(v):
        return v.item()
    return v


def _check_number(who, name, value, what="a number"):
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{who}: {name} must be {what}, got {value!r}")


def _check_nonneg(who, name, value):
    _check_number(who, name, value)
    if not value >= 0:
        raise ValueError(f"{who}: {name} must be >= 0, got {value}")


def _check_flag(who, name, options):
    """options[name] must be True or False (a NumPy bool too, as read back from a file)."""
    value = options[name]
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{who}: {name} must be True or False, got {value!r}")
    options[name] = bool(value)


def _whole_number(who, name, value) -> int:
    """An int from a whole number (2 or 2.0); 2.5, a string or a bool is refused."""
    what = "a whole number of epochs"
    _check_number(who, name, value, what)
    if not float(value).is_integer():
        raise ValueError(f"{who}: {name} must be {what}, got {value!r}")
    return int(value)


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (PyTorch's formulation):

    g <- g + weight_decay * p
    v <- g (first step),  v <- momentum * v + (1 - dampening) * g (after)
    g <- g + momentum * v   (nesterov)   or   g <- v   (classical momentum)
    p <- p - lr * g

    Each option may differ between param groups: ``SGD([{'params': head, 'lr': 0.1},
    {'params': body}], lr=0.01, momentum=0.9)``.
    """

    hyperparameters = ("lr", "momentum", "dampening", "weight_decay", "nesterov")
    state_names = ("momentum_buffer",)

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ):
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
        }
        super().__init__(params, defaults)

    def _check(self, options, who):
        super()._check(options, who)
        _check_nonneg(who, "momentum", options["momentum"])
        _check_nonneg(who, "dampening", options["dampening"])
        if not options["dampening"] <= 1:
            raise ValueError(
                f"{who}: dampening must be in [0, 1] (the new gradient is weighted 1 - "
                f"dampening), got {options['dampening']}"
            )
        _check_nonneg(who, "weight_decay", options["weight_decay"])
        _check_flag(who, "nesterov", options)
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(f"{who}: nesterov momentum needs momentum > 0 and dampening = 0")

    def _update(self, i, p, g, options):
        momentum, weight_decay = options["momentum"], options["weight_decay"]
        if weight_decay:
            g = g + weight_decay * p.data
        if momentum:
            st = self.state[i]
            v = st.get("momentum_buffer")
            if v is None:
                v = st["momentum_buffer"] = g.copy()
            else:
                v *= momentum
                v += (1 - options["dampening"]) * g
            g = g + momentum * v if options["nesterov"] else v
        p.data -= options["lr"] * g


class RMSprop(Optimizer):
    """Divide the gradient by a running root mean square of recent gradients (Hinton, 2012):

    g <- g + weight_decay * p
    s <- alpha * s + (1 - alpha) * g^2
    d <- sqrt(s) + eps   (centered: sqrt(s - m^2) + eps, m <- alpha m + (1 - alpha) g)
    b <- momentum * b + g / d,  p <- p - lr * b   (momentum > 0)
    p <- p - lr * g / d                           (otherwise)

    Each option may differ between param groups, as SGD's.
    """

    hyperparameters = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")
    state_names = ("square_avg", "momentum_buffer", "grad_avg")

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ):
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
        }
        super().__init__(params, defaults)

    def _check(self, options, who):
        super()._check(options, who)
        for name in ("alpha", "eps", "weight_decay", "momentum"):
            _check_nonneg(who, name, options[name])
        _check_flag(who, "centered", options)

    def _update(self, i, p, g, options):
        xp = backend.array_module(p.data)
        st = self.state[i]
        alpha, momentum, centered = options["alpha"], options["momentum"], options["centered"]
        if options["weight_decay"]:
            g = g + options["weight_decay"] * p.data
        for name, used in (
            ("square_avg", True),
            ("momentum_buffer", momentum),
            ("grad_avg", centered),
        ):
            if used and name not in st:
                st[name] = xp.zeros(p.shape, dtype=p.dtype)
        s = st["square_avg"]
        s *= alpha
        s += (1 - alpha) * g * g
        if centered:
            m = st["grad_avg"]
            m *= alpha
            m += (1 - alpha) * g
            denom = xp.sqrt(s - m * m) + options["eps"]
        else:
            denom = xp.sqrt(s) + options["eps"]
        if momentum:
            b = st["momentum_buffer"]
            b *= momentum
            b += g / denom
            p.data -= options["lr"] * b
        else:
            p.data -= options["lr"] * (g / denom)


class Adagrad(Optimizer):
    """Divide the gradient by the root of the sum of all squared gradients so far (Duchi, Hazan
    and Singer, 2011), as PyTorch's:

    g <- g + weight_decay * p;   t <- t + 1
    s <- s + g^2   (s starts at initial_accumulator_value)
    p <- p - lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)

    The state is PyTorch's: ``'step'`` (t) and ``'sum'`` (s, made at a parameter's first
    step from its group's initial_accumulator_value; PyTorch's fills every sum from the
    constructor's value when it is built, ignoring a group's own). Each option may differ
    between param groups, as SGD's.
    """

    hyperparameters = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")
    state_names = ("step", "sum")

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ):
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
        }
        super().__init__(params, defaults)

    def _check(self, options, who):
        super()._check(options, who)
        for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            _check_nonneg(who, name, options[name])

    def _update(self, i, p, g, options):
        xp = backend.array_module(p.data)
        st = self.state[i]
        if options["weight_decay"]:
            g = g + options["weight_decay"] * p.data
        if "sum" not in st:
            st["step"] = 0
            st["sum"] = xp.full(p.shape, options["initial_accumulator_value"], dtype=p.dtype)
        st["step"] += 1
        clr = options["lr"] / (1 + (st["step"] - 1) * options["lr_decay"])
        s, tmp = st["sum"], self._scratch(p)
        xp.multiply(g, g, out=tmp)
        s += tmp  # s = s + g^2
        xp.sqrt(s, out=tmp)
        tmp += options["eps"]
        xp.divide(g, tmp, out=tmp)
        tmp *= clr
        p.data -= tmp


class Adam(Optimizer):
    """Adaptive moment estimation (Kingma & Ba, 2015), with L2 weight decay:

    g <- g + weight_decay * p;   t <- t + 1
    m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2
    p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    With ``amsgrad=True`` (Reddi et al., 2018), as PyTorch's: the step divides by the
    largest v so far instead, vmax <- max(vmax, v), with the bias correction of step t,
    sqrt(vmax) / sqrt(1 - beta2^t) + eps; so the step size never grows back when the gradients
    shrink. vmax is kept as the state ``'max_exp_avg_sq'``.

    Each option may differ between param groups, as SGD's (``'betas'`` a pair).
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay", "amsgrad")
    state_names = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    decoupled = False  # AdamW: the weight decay shrinks the parameters, outside the gradient

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ):
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
        }
        super().__init__(params, defaults)

    def _check(self, options, who):
        super()._check(options, who)
        betas = options["betas"]
        try:
            b1, b2 = (float(b) for b in betas)
        except (TypeError, ValueError):
            raise ValueError(f"{who}: betas must be a pair of numbers, got {betas!r}") from None
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"{who}: betas must be in [0, 1), got {betas}")
        options["betas"] = (b1, b2)
        _check_nonneg(who, "eps", options["eps"])
        _check_nonneg(who, "weight_decay", options["weight_decay"])
        _check_flag(who, "amsgrad", options)

    def _update(self, i, p, g, options):
        xp = backend.array_module(p.data)
        st = self.state[i]
        b1, b2 = options["betas"]
        lr, eps, weight_decay = options["lr"], options["eps"], options["weight_decay"]
        if weight_decay and self.decoupled:
            p.data *= 1 - lr * weight_decay
        elif weight_decay:
            g = g + weight_decay * p.data
        if "exp_avg" not in st:
            st["step"] = 0
            st["exp_avg"] = xp.zeros(p.shape, dtype=p.dtype)
            st["exp_avg_sq"] = xp.zeros(p.shape, dtype=p.dtype)
        arrays = (st["exp_avg"], st["exp_avg_sq"], g, p.data, self._scratch(p))
        if options["amsgrad"]:
            if "max_exp_avg_sq" not in st:  # its first step (or amsgrad turned on later)
                st["max_exp_avg_sq"] = xp.zeros(p.shape, dtype=p.dtype)
            arrays += (st["max_exp_avg_sq"],)
        st["step"] += 1
        t = st["step"]
        # p -= lr/(1 - b1^t) m / (sqrt(v)/c + eps), c = sqrt(1 - b2^t), rewritten as
        # p -= (m / (sqrt(v) + eps c)) * (lr c / (1 - b1^t)): the same value in fewer passes;
        # m is divided first and then scaled, as PyTorch's, so that nothing in between grows
        # with 1/lr (sqrt(v) / lr overflowed float16, whose largest is 65504, from |g| ~ 65)
        c = math.sqrt(1 - b2**t)
        scale = lr * c / (1 - b1**t)
        eps_c = eps * c
        _split(xp, arrays, lambda *a: _adam_pass(xp, b1, b2, eps_c, scale, *a))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): the parameters shrink by
    lr * weight_decay at each step, outside the adaptive scaling, instead of weight_decay * p
    joining the gradient (which Adam's scaling then undoes for parameters with large gradients):

    p <- p (1 - lr weight_decay);   then Adam's step with the gradient as it is
    """

    decoupled = True

    def __init__(  # Adam's, but for weight_decay's default, as in PyTorch
        self,
        params,
        lr: float = 1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


def _adam_pass(xp, b1, b2, eps_c, scale, m, v, g, d, tmp, vmax=None):
    """One Adam update of the arrays (views of the same shape), in place, through ``tmp``;
    with ``vmax`` (amsgrad), the step divides by the running maximum of v, kept there."""
    m *= b1
    xp.multiply(g, 1 - b1, out=tmp)
    m += tmp  # m = b1 m + (1 - b1) g
    v *= b2
    xp.multiply(g, 1 - b2, out=tmp)
    tmp *= g
    v += tmp  # v = b2 v + (1 - b2) g^2
    if vmax is not None:
        xp.maximum(vmax, v, out=vmax)  # vmax = max(vmax, v), before the lr 0 return as torch's
        v = vmax
    if scale == 0:  # lr 0 (a schedule at its end): the moments move, the parameter does not
        return
    xp.sqrt(v, out=tmp)
    tmp += eps_c
    xp.divide(m, tmp, out=tmp)  # m / (sqrt(v) + eps c), of m's size: then the step size
    tmp *= scale
    d -= tmp


#: Parameters with at least this many numbers are updated by two threads on the CPU (NumPy
#: releases the GIL inside its loops, so the halves run at once).
_SPLIT_SIZE = 1 << 20
#: ... and, on the CPU, in pieces of this many numbers: the dozen passes of an update then
#: run over the five arrays' pieces (2.6 MB) while they are in the cache, rather than each
#: over whole arrays from memory. Measured on 2 cores (Intel Xeon): in a training step of
#: cnn_regression (6.4 million parameters) Adam's step took 26 ms whole, 19.7 in pieces of
#: 2^17 (19.4 of 2^16, 22.3 of 2^18); alone, on 4 million parameters, 6.3 ms whole (two
#: threads), 5.9 in pieces of 2^17 (7.5 of 2^16).
_PIECE_SIZE = 1 << 17


def _split(xp, arrays, fn):
    """fn(*arrays); on the CPU, for contiguous arrays, fn on pieces of their flat views one after
    another (``_PIECE_SIZE``), the pieces of each half in a thread of its own for large ones."""
    first = arrays[0]
    if (
        xp is not np
        or first.size < 2 * _PIECE_SIZE
        or not all(a.flags.c_contiguous for a in arrays)
    ):
        return fn(*arrays)
    flat = [a.reshape(-1) for a in arrays]

    def in_pieces(lo, hi):
        for start in range(lo, hi, _PIECE_SIZE):
            fn(*(f[start : min(start + _PIECE_SIZE, hi)] for f in flat))

    if first.size < _SPLIT_SIZE or (os.cpu_count() or 1) < 2:
        return in_pieces(0, first.size)
    half = first.size // 2
    errors = np.geterr()  # NumPy's error handling is per thread: the caller's holds in both

    def in_caller_state(lo, hi):
        with np.errstate(**errors):
            return in_pieces(lo, hi)

    other = backend.thread_pool(2).submit(in_caller_state, half, first.size)
    in_pieces(0, half)
    other.result()
    return None


# --------------------------------------------------------------------------- schedules


#: Each schedule's number, in the order they were built: an optimizer keeps its newest's
#: (``_claim_optimizer``), so that stepping an older one, PyTorch's chaining, is refused.
_schedule_numbers = itertools.count()


def _claim_optimizer(schedule) -> None:
    """Make ``schedule`` the optimizer's schedule, the one that may step it from now on."""
    schedule._number = next(_schedule_numbers)
    schedule.optimizer._schedule = (schedule._number, type(schedule).__name__)


def _check_newest(schedule) -> None:
    """Refuse to step ``schedule`` when another schedule was built on its optimizer since:
    PyTorch's chaining, which tinycolor's schedules do not do (see LRScheduler)."""
    number, newer = getattr(schedule.optimizer, "_schedule", (None, None))
    if number is None or number == getattr(schedule, "_number", number):
        return
    name = type(schedule).__name__
    if "ReduceLROnPlateau" in (name, newer):
        how = "use one of them"
    else:
        how = (
            "to combine them, build one LambdaLR whose function is the product of their "
            "factors, LambdaLR(opt, lambda e: f1(e) * f2(e)) (ExponentialLR(opt, 0.9) with "
            "MultiStepLR(opt, [30, 80], 0.1): lambda e: 0.9 ** e * 0.1 ** "
            "bisect.bisect_right([30, 80], e)); tinycolor has no SequentialLR or ChainedScheduler"
        )
    raise RuntimeError(
        f"{name}.step: its optimizer has a newer schedule, a {newer} built after this "
        f"{name}; tinycolor's schedules set the lr from their own formula and do not chain as "
        "PyTorch's do (each multiplying the lr the other left), so only the last one stepped "
        f"would count. Step only the newest (one schedule after another is fine), or {how}"
    )


def _check_last_epoch(name, last_epoch) -> None:
    if isinstance(last_epoch, bool) or not isinstance(last_epoch, int | np.integer):
        raise TypeError(f"{name}: last_epoch must be an int, got {last_epoch!r}")
    if last_epoch < -1:
        raise ValueError(
            f"{name}: last_epoch must be -1 (a new schedule) or the last epoch done "
            f"(>= 0, to resume), got {last_epoch}"
        )


class LRScheduler:
    """Sets the lr of each of the optimizer's param groups from the epoch count and that
    group's base lr (its lr when the schedule began), as PyTorch's: a head at 0.1 and a body
    at 0.01 keep their ratio. Call ``step()`` once per epoch, after the optimizer's steps;
    ``get_last_lr()`` is a list, one lr per group. A subclass implements
    ``lr_at(epoch, base_lr)``.

    ``last_epoch`` is PyTorch's: -1 (the default) begins the schedule at epoch 0 from the
    groups' lrs as it finds them, and keeps each as the group's ``'initial_lr'``, replacing one
    already there. PyTorch's keeps an ``'initial_lr'`` already there (``setdefault``) and
    begins from it: its schedule built on an optimizer that another ran on begins from that
    one's base lr, and this one from the lr that one left (the end of a warm-up, say); a group
    given an ``'initial_lr'`` by hand begins from it there, from its ``'lr'`` here.
    ``last_epoch=n`` goes on after epoch n, as a schedule stepped n + 1 times would be
    (``last_epoch`` is then n + 1), from the base lrs that each group's ``'initial_lr'``
    holds, which must be set (an optimizer that a schedule ran on has it; a new one is given
    it by hand). The lrs are the formula's at each epoch, whatever the groups' lrs were, so a
    resumed run's lrs are an uninterrupted run's. PyTorch's are computed each from the lr
    before, and differ: with the optimizer's state loaded (its lr the next epoch's already),
    its StepLR and MultiStepLR apply a decay that falls on the resumed epoch a second time
    (from there their lrs are gamma times an uninterrupted run's: a translated script's losses
    part from PyTorch's there), while its ExponentialLR and CosineAnnealingLR go on as here;
    on a new optimizer (its lr the base lr) those two keep the base lr one epoch more.
    ``state_dict`` and ``load_state_dict`` are the other way to resume, and the one ``train
    --resume`` uses: the state holds the schedule's settings too (``T_max``, ``step_size``,
    ``gamma``, ...; not LambdaLR's functions), and loading it puts them back, as PyTorch's.

    Schedules do not chain as PyTorch's do. There two schedules built on one optimizer and
    both stepped each multiply the lr the other left, so their factors compose (its docs'
    ``ExponentialLR(opt, 0.9)`` with ``MultiStepLR(opt, [30, 80], 0.1)``); here each sets
    the lr from its own formula (which the exact resume above needs), so only the one stepped
    last would count. Stepping a schedule (ReduceLROnPlateau too) after another was built on
    its optimizer is refused, saying so. One schedule after another is fine (a warm-up, then a
    CosineAnnealingLR built when it ends, which begins from the lr it finds). Two at once are
    one LambdaLR whose function is the product of their factors:
    ``LambdaLR(opt, lambda e: 0.9 ** e * 0.1 ** bisect.bisect_right([30, 80], e))``; there is
    no SequentialLR or ChainedScheduler.
    """

    #: The constructor's arguments that ``state_dict`` holds and ``load_state_dict`` puts back.
    _settings: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name} needs an Optimizer, got {type(optimizer).__name__}")
        _check_last_epoch(name, last_epoch)
        groups = optimizer.param_groups
        if last_epoch == -1:
            base_lrs = [group["lr"] for group in groups]
        else:
            for i, group in enumerate(groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{name}(last_epoch={last_epoch}): param 'initial_lr' is not specified "
                        f"in param_groups[{i}] when resuming a schedule; it is the group's "
                        "base lr, which a schedule built with last_epoch=-1 sets: set "
                        f"optimizer.param_groups[{i}]['initial_lr'] to it, or build the "
                        "schedule afresh and load_state_dict its saved state"
                    )
            base_lrs = [group["initial_lr"] for group in groups]
        self.optimizer = optimizer
        self.base_lrs = base_lrs
        self.last_epoch = int(last_epoch) + 1
        self._set()
        self._set_initial_lrs()
        _claim_optimizer(self)

    def lr_at(self, epoch: int, base_lr: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_settings(self, who: str, **settings) -> dict:
        """The settings (``_settings``, all of them) checked and made plain numbers, or an
        error that begins with ``who``; a subclass with settings implements it."""
        return {}

    def _set(self):
        # a group added after the schedule began is not scheduled, as in PyTorch
        groups = self.optimizer.param_groups
        self._last_lr = [self.lr_at(self.last_epoch, base) for base in self.base_lrs]
        for group, lr in zip(groups, self._last_lr, strict=False):
            group["lr"] = lr

    def step(self) -> None:
        _check_newest(self)
        self.last_epoch += 1
        self._set()

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """The epoch count, the base lrs and the schedule's settings (``T_max``, ``gamma``,
        ...: what its constructor was given, but the functions of a LambdaLR)."""
        settings = {k: getattr(self, k) for k in self._settings}
        if "milestones" in settings:
            settings["milestones"] = list(settings["milestones"])
        return {"base_lrs": list(self.base_lrs), "last_epoch": self.last_epoch, **settings}

    def load_state_dict(self, state: dict) -> None:
        """Go on from ``state_dict()``'s dict (or that dict after ``tinycolor.save`` and
        ``load``): its epoch count, base lrs and settings, which replace those the schedule was
        built with, as PyTorch's (a state saved without them keeps the schedule's own)."""
        who = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(
                f"{who}: expected a schedule's state_dict() (a dict), got {type(state).__name__}"
            )
        if "base_lrs" in state:
            base_lrs = [float(v) for v in np.ravel(backend.to_numpy(state["base_lrs"]))]
        elif "base_lr" in state:  # saved before param groups: one base lr
            base_lrs = [float(_scalar(state["base_lr"]))]
        else:
            raise KeyError(
                f"{who}: the state has no 'base_lrs'; expected a schedule's state_dict() (keys "
                f"'base_lrs', 'last_epoch'{''.join(f', {k!r}' for k in self._settings)})"
            )
        if len(base_lrs) != len(self.base_lrs):
            raise ValueError(
                f"{who}: the state has {len(base_lrs)} base "
                f"lrs, one per param group; this schedule has {len(self.base_lrs)}"
            )
        settings = {k: getattr(self, k) for k in self._settings}
        for k in self._settings:
            if k not in state:
                continue
            value = backend.to_numpy(state[k]) if backend.is_cupy_array(state[k]) else state[k]
            if k == "milestones":  # a list, or an array of them as read back from a file
                settings[k] = np.ravel(np.asarray(value)).tolist()
            else:
                settings[k] = _scalar(value)
        settings = self._check_settings(who, **settings)
        last_epoch = int(_scalar(state["last_epoch"]))
        self.__dict__.update(settings)
        self.base_lrs = base_lrs
        self.last_epoch = last_epoch
        self._set()
        self._set_initial_lrs()

    def _set_initial_lrs(self):
        """Each scheduled group's 'initial_lr': its base lr, for a schedule resumed later with
        ``last_epoch``."""
        for group, base in zip(self.optimizer.param_groups, self.base_lrs, strict=False):
            group["initial_lr"] = base


def _check_gamma(who, gamma) -> float:
    _check_nonneg(who, "gamma", gamma)
    return gamma


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size), for each param group's base lr."""

    _settings = ("step_size", "gamma")

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ):
        self.__dict__.update(self._check_settings("StepLR", step_size=step_size, gamma=gamma))
        super().__init__(optimizer, last_epoch)

    def _check_settings(self, who, step_size, gamma):
        step_size = _whole_number(who, "step_size", step_size)
        if step_size < 1:
            raise ValueError(f"{who}: step_size must be >= 1, got {step_size}")
        return {"step_size": step_size, "gamma": _check_gamma(who, gamma)}

    def lr_at(self, epoch, base_lr):
        return base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2, for each param
    group's base lr (Loshchilov & Hutter, 2017, without restarts; past T_max it climbs back,
    as PyTorch's does). ``T_max`` need not be whole, as in PyTorch."""

    _settings = ("T_max", "eta_min")

    def __init__(
        self,
        optimizer: Optimizer,
        T_max: float,  # noqa: N803 - PyTorch's name
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ):
        self.__dict__.update(
            self._check_settings("CosineAnnealingLR", T_max=T_max, eta_min=eta_min)
        )
        super().__init__(optimizer, last_epoch)

    def _check_settings(self, who, T_max, eta_min):  # noqa: N803 - PyTorch's name
        _check_number(who, "T_max", T_max, "a number of epochs")
        if not T_max > 0:
            raise ValueError(f"{who}: T_max must be > 0 (a number of epochs), got {T_max}")
        _check_number(who, "eta_min", eta_min)
        return {"T_max": T_max, "eta_min": eta_min}

    def lr_at(self, epoch, base_lr):
        cos = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (base_lr - self.eta_min) * cos


class MultiStepLR(LRScheduler):
    """lr = base_lr * gamma ** (the number of milestones <= epoch), for each param group's
    base lr: ``MultiStepLR(opt, milestones=[30, 80], gamma=0.1)`` divides the lr by 10 at
    epoch 30 and again at 80 (a milestone listed twice multiplies by gamma twice). Computed as
    PyTorch's, one multiplication by gamma ** k at each milestone, so the lrs are PyTorch's to
    the last bit."""

    _settings = ("milestones", "gamma")

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1):
        self.__dict__.update(
            self._check_settings("MultiStepLR", milestones=milestones, gamma=gamma)
        )
        super().__init__(optimizer, last_epoch)

    def _check_settings(self, who, milestones, gamma):
        if isinstance(milestones, str | bytes | Mapping) or not hasattr(milestones, "__iter__"):
            raise TypeError(
                f"{who}: milestones must be a list of epochs (whole numbers), got {milestones!r}"
            )
        steps = sorted(_whole_number(who, "each milestone", m) for m in milestones)
        return {"milestones": steps, "gamma": _check_gamma(who, gamma)}

    def lr_at(self, epoch, base_lr):
        lr = base_lr
        for m in sorted(set(self.milestones)):
            if m > epoch:
                break
            if m >= 0:  # epoch 0 is a milestone too (as PyTorch's); a negative one never comes
                lr *= self.gamma ** self.milestones.count(m)
        return lr


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** epoch, for each param group's base lr; computed as PyTorch's,
    one multiplication by gamma an epoch, so the lrs are PyTorch's to the last bit."""

    _settings = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.__dict__.update(self._check_settings("ExponentialLR", gamma=gamma))
        self._reached: dict = {}  # base lr: (epoch, lr) last computed, to go on from there
        super().__init__(optimizer, last_epoch)

    def _check_settings(self, who, gamma):
        return {"gamma": _check_gamma(who, gamma)}

    def load_state_dict(self, state: dict) -> None:
        self._reached = {}  # the gamma may be another: from the start again
        super().load_state_dict(state)

    def lr_at(self, epoch, base_lr):
        # one multiplication a step when stepped once per batch, not one per epoch so far
        start, lr = self._reached.get(base_lr, (0, base_lr))
        if start > epoch:  # moved back (load_state_dict): from the start again
            start, lr = 0, base_lr
        for _ in range(epoch - start):
            lr *= self.gamma
        self._reached[base_lr] = (epoch, lr)
        return lr


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch), for each param group's base lr: ``lr_lambda`` is a
    function of the epoch count (``lambda epoch: 0.95 ** epoch``), or a list of them, one per
    param group. As PyTorch's, ``state_dict()`` holds the epoch and base lrs, not the
    functions: a schedule resumed from it uses the functions it was built with."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        groups = getattr(optimizer, "param_groups", None)
        if isinstance(lr_lambda, (list, tuple)):
            if groups is not None and len(lr_lambda) != len(groups):
                raise ValueError(
                    f"LambdaLR: expected {len(groups)} lr_lambdas, one per param group, "
                    f"got {len(lr_lambda)}"
                )
            lambdas = list(lr_lambda)
        else:
            lambdas = [lr_lambda] * (len(groups) if groups is not None else 1)
        for fn in lambdas:
            if not callable(fn):
                raise TypeError(
                    f"LambdaLR: lr_lambda must be a function of the epoch (or a list of them, "
                    f"one per param group), got {type(fn).__name__}"
                )
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch, base_lr):  # pragma: no cover - _set passes each group's function
        raise NotImplementedError

    def _set(self):
        groups = self.optimizer.param_groups
        self._last_lr = [
            base * fn(self.last_epoch)
            for base, fn in zip(self.base_lrs, self.lr_lambdas, strict=True)
        ]
        for group, lr in zip(groups, self._last_lr, strict=False):
            group["lr"] = lr


def _per_group(who, name, value, n) -> list[float]:
    """A number for each of n param groups: one for all, or a list of n (PyTorch's rule)."""
    values = list(value) if isinstance(value, list | tuple) else [value] * n
    if len(values) != n:
        raise ValueError(
            f"{who}: expected {n} values for {name}, one per param group, got {len(values)}"
        )
    for v in values:
        _check_nonneg(who, name, v)
    return [float(v) for v in values]


def _positive_int(who, name, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{who}: {name} must be a positive whole number, got {value!r}")
    return int(value)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith and Topin, 2019), as PyTorch's: stepped once per batch (not
    per epoch), the lr climbs from max_lr / div_factor to ``max_lr`` over the first
    ``pct_start`` of ``total_steps`` (or ``epochs * steps_per_epoch``), then falls to
    max_lr / (div_factor final_div_factor) by the last step, each stretch a half cosine
    (``anneal_strategy='cos'``) or a straight line (``'linear'``). ``three_phase=True``
    climbs, comes back down to the start over as many steps, then falls to the end.

    With ``cycle_momentum=True`` (PyTorch's default) the momentum moves the other way, from
    ``max_momentum`` down to ``base_momentum`` while the lr climbs and back up while it falls:
    the groups' ``'momentum'`` (SGD, RMSprop; with SGD this turns momentum on) or Adam's
    beta1 (``'betas'``). An optimizer without either (Adagrad) is refused unless
    ``cycle_momentum=False``. ``max_lr``, ``base_momentum`` and ``max_momentum`` may be lists,
    one value per param group. Stepping more than ``total_steps`` times is refused, as
    PyTorch's is. ``state_dict`` holds the step, the base, largest and last lrs, the momenta
    and total_steps.

    As PyTorch's, it keeps each group's ``'max_lr'`` and ``'min_lr'`` (and, cycling momentum,
    ``'max_momentum'`` and ``'base_momentum'``) in the group, beside the ``'initial_lr'`` every
    schedule keeps, and reads them there at each step: built with ``last_epoch=n`` on an
    optimizer loaded from a file (whose ``state_dict`` holds them), it goes on with the saved
    run's values, whatever ``max_lr``, ``div_factor``, ``final_div_factor`` and the momenta
    given to it now say.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr,
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum=0.85,
        max_momentum=0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ):
        who = "OneCycleLR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{who} needs an Optimizer, got {type(optimizer).__name__}")
        _check_last_epoch(who, last_epoch)  # before the groups are read for a resume
        if total_steps is not None:
            self.total_steps = _positive_int(who, "total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = _positive_int(who, "epochs", epochs) * _positive_int(
                who, "steps_per_epoch", steps_per_epoch
            )
        else:
            raise ValueError(
                f"{who}: give total_steps (the number of optimizer steps in the whole run), or "
                "epochs and steps_per_epoch (len(loader))"
            )
        if (
            isinstance(pct_start, bool)
            or not isinstance(pct_start, int | float)
            or not 0 <= pct_start <= 1
        ):
            raise ValueError(f"{who}: pct_start must be a number in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"{who}: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}"
            )
        for name, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            _check_nonneg(who, name, value)
            if value == 0:
                raise ValueError(f"{who}: {name} must be > 0, got {value}")
        n = len(optimizer.param_groups)
        max_lrs = _per_group(who, "max_lr", max_lr, n)
        self.pct_start, self.anneal_strategy = float(pct_start), anneal_strategy
        self.div_factor, self.final_div_factor = float(div_factor), float(final_div_factor)
        self.three_phase, self.cycle_momentum = bool(three_phase), bool(cycle_momentum)
        if self.cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(
                    f"{who}: cycle_momentum=True cycles the optimizer's momentum (or Adam's "
                    f"beta1), and {type(optimizer).__name__} has neither; pass "
                    "cycle_momentum=False"
                )
            self._use_beta1 = "betas" in optimizer.defaults
            max_momentums = _per_group(who, "max_momentum", max_momentum, n)
            base_momentums = _per_group(who, "base_momentum", base_momentum, n)
        keys = self._group_keys()
        if last_epoch == -1:  # the schedule's base lr, where it starts: max_lr / div_factor
            for k, group in enumerate(optimizer.param_groups):
                group["lr"] = max_lrs[k] / self.div_factor
                group["max_lr"], group["min_lr"] = max_lrs[k], group["lr"] / self.final_div_factor
                if self.cycle_momentum:
                    group["max_momentum"] = max_momentums[k]
                    group["base_momentum"] = base_momentums[k]
        else:  # resumed: the values are the groups' (loaded with the optimizer), as PyTorch's
            for i, group in enumerate(optimizer.param_groups):
                for key in keys:
                    if key not in group:
                        raise KeyError(
                            f"{who}(last_epoch={last_epoch}): param {key!r} is not specified in "
                            f"param_groups[{i}] when resuming; a OneCycleLR built with "
                            "last_epoch=-1 sets it in the optimizer's groups, whose state_dict "
                            "saves it: load the optimizer's state first, or build the schedule "
                            "afresh and load_state_dict its saved state"
                        )
        super().__init__(optimizer, last_epoch)

    def _group_keys(self) -> tuple:
        """The keys the schedule keeps in each param group (besides 'initial_lr')."""
        return ("max_lr", "min_lr") + (
            ("max_momentum", "base_momentum") if self.cycle_momentum else ()
        )

    def _from_groups(self, key) -> list:
        return [group[key] for group in self.optimizer.param_groups[: len(self.base_lrs)]]

    @property
    def max_lrs(self) -> list:
        """Each group's largest lr, its ``'max_lr'``."""
        return self._from_groups("max_lr")

    def lr_at(self, epoch, base_lr):  # pragma: no cover - _set uses each group's max_lr
        raise NotImplementedError

    def _phases(self):
        """(last step, lr at its start, at its end, momentum at its start, at its end) of
        each stretch, PyTorch's: 'initial' is the base lr, 'max' max_lr, 'min' the last."""
        climb = self.pct_start * self.total_steps - 1
        if self.three_phase:
            return [
                (climb, "initial", "max", "max", "base"),
                (2 * self.pct_start * self.total_steps - 2, "max", "initial", "base", "max"),
                (self.total_steps - 1, "initial", "min", "max", "max"),
            ]
        return [
            (climb, "initial", "max", "max", "base"),
            (self.total_steps - 1, "max", "min", "base", "max"),
        ]

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _check_step(self, step):
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {step} times, but the schedule has total_steps="
                f"{self.total_steps}; it is stepped once per batch, so build it with "
                "total_steps=epochs * len(loader) (or epochs= and steps_per_epoch=)"
            )

    def step(self) -> None:
        self._check_step(self.last_epoch + 1)  # before counting it: the state stays as it was
        super().step()

    def _set(self):
        step = self.last_epoch
        self._check_step(step)
        phases = self._phases()
        self._last_lr = []
        for group, base in zip(self.optimizer.param_groups, self.base_lrs, strict=False):
            lrs = {"initial": base, "max": group["max_lr"], "min": group["min_lr"]}
            start, j = 0.0, 0
            while step > phases[j][0] and j < len(phases) - 1:  # the stretch the step is in
                start, j = phases[j][0], j + 1
            end, lr0, lr1, m0, m1 = phases[j]
            pct = (step - start) / (end - start) if end != start else 1.0
            self._last_lr.append(self._anneal(lrs[lr0], lrs[lr1], pct))
            group["lr"] = self._last_lr[-1]
            if self.cycle_momentum:
                ms = {"max": group["max_momentum"], "base": group["base_momentum"]}
                momentum = self._anneal(ms[m0], ms[m1], pct)
                if self._use_beta1:
                    group["betas"] = (momentum, group["betas"][1])
                else:
                    group["momentum"] = momentum

    def state_dict(self) -> dict:
        return {
            **super().state_dict(),
            **{f"{key}s": self._from_groups(key) for key in self._group_keys()},
            "total_steps": self.total_steps,
        }

    def load_state_dict(self, state: dict) -> None:
        """The state ``state_dict`` gave: its step and total_steps, and each group's base,
        largest and last lrs and momenta put back in the groups (a state saved before it kept
        the last lrs and the momenta has them from the base lrs and this schedule's
        arguments)."""
        n = len(self.base_lrs)
        values = {}
        for key in self._group_keys():
            if f"{key}s" not in state:
                continue
            values[key] = [float(v) for v in np.ravel(backend.to_numpy(state[f"{key}s"]))]
            if len(values[key]) != n:
                raise ValueError(
                    f"OneCycleLR.load_state_dict: the state has {len(values[key])} {key}s, one "
                    f"per param group; this schedule has {n}"
                )
        if "max_lr" not in values:
            raise KeyError("OneCycleLR.load_state_dict: the state has no 'max_lrs'")
        total, last = int(_scalar(state["total_steps"])), int(_scalar(state["last_epoch"]))
        if last > total:
            raise ValueError(
                f"OneCycleLR.load_state_dict: the state's step {last} is past its "
                f"total_steps={total}"
            )
        if "min_lr" not in values:  # saved before min_lrs were: the base lr / final_div_factor
            base_lrs = [float(v) for v in np.ravel(backend.to_numpy(state["base_lrs"]))]
            values["min_lr"] = [base / self.final_div_factor for base in base_lrs]
        for key, per_group in values.items():
            for group, value in zip(self.optimizer.param_groups, per_group, strict=False):
                group[key] = value
        self.total_steps = total
        super().load_state_dict(state)


class ReduceLROnPlateau(LRScheduler):
    """Multiplies each param group's lr by ``factor`` when a metric has stopped improving for
    more than ``patience`` epochs, as PyTorch's: call ``step(metric)`` once per epoch with the
    validation loss (``mode='min'``) or accuracy (``mode='max'``).

    An epoch improves on the best metric so far when it is below best * (1 - threshold)
    (``threshold_mode='rel'``) or best - threshold (``'abs'``); above best * (1 + threshold)
    or best + threshold in ``'max'`` mode. After a reduction, ``cooldown`` epochs pass before
    bad epochs count again. An lr never goes under ``min_lr`` (a number, or a list of one per
    param group), and a reduction smaller than ``eps`` is not made.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr=0,
        eps: float = 1e-8,
    ):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau needs an Optimizer, got {type(optimizer).__name__}")
        who = "ReduceLROnPlateau"
        _check_number(who, "factor", factor)
        if not 0 <= factor < 1.0:  # PyTorch checks < 1 only; a negative rate is no rate
            raise ValueError(f"{who}: factor must be >= 0 and < 1.0, got {factor}")
        # PyTorch takes any number here; patience=-1 or 2.5 would quietly act as some other
        # patience, so a count of epochs must be a whole number >= 0
        patience = _whole_number(who, "patience", patience)
        cooldown = _whole_number(who, "cooldown", cooldown)
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            if value < 0:
                raise ValueError(
                    f"{who}: {name} must be a whole number of epochs >= 0, got {value}"
                )
        _check_nonneg(who, "threshold", threshold)
        _check_nonneg(who, "eps", eps)
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
            )
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(
                    f"ReduceLROnPlateau: expected {n} min_lrs, one per param group, "
                    f"got {len(min_lr)}"
                )
            for v in min_lr:
                _check_nonneg(who, "min_lr", v)
            self.min_lrs = [float(v) for v in min_lr]
            self._default_min_lr = None
        else:
            _check_nonneg(who, "min_lr", min_lr)
            self.min_lrs = [float(min_lr)] * n
            self._default_min_lr = float(min_lr)
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, float(factor), int(patience)
        self.threshold, self.threshold_mode = float(threshold), threshold_mode
        self.cooldown, self.eps = int(cooldown), float(eps)
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        _claim_optimizer(self)

    def _is_better(self, a: float) -> bool:
        best, threshold = self.best, self.threshold
        if self.mode == "min":
            return a < (
                best * (1.0 - threshold) if self.threshold_mode == "rel" else best - threshold
            )
        return a > (best * (threshold + 1.0) if self.threshold_mode == "rel" else best + threshold)

    def step(self, metrics) -> None:  # type: ignore[override]
        """One epoch's end: ``metrics`` is the number the schedule watches (a float, or a
        one-element Tensor such as the validation loss)."""
        _check_newest(self)
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            groups = self.optimizer.param_groups
            if len(groups) != len(self.min_lrs):  # add_param_group since: as PyTorch's
                if self._default_min_lr is None:
                    raise RuntimeError(
                        f"ReduceLROnPlateau: the optimizer has {len(groups)} param groups, "
                        f"{len(self.min_lrs)} when the schedule began (add_param_group): set "
                        "its min_lrs to a list of one per group"
                    )
                self.min_lrs = [self._default_min_lr] * len(groups)
            for group, min_lr in zip(groups, self.min_lrs, strict=True):
                old = float(group["lr"])
                new = max(old * self.factor, min_lr)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    _state = (
        "mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "eps",
        "min_lrs", "best", "num_bad_epochs", "cooldown_counter", "last_epoch", "_last_lr",
    )  # fmt: skip

    def state_dict(self) -> dict:
        state = {k: getattr(self, k) for k in self._state}
        state["min_lrs"], state["_last_lr"] = list(self.min_lrs), list(self._last_lr)
        return state

    def load_state_dict(self, state: dict) -> None:
        """Resume from ``state_dict()``'s dict, or that dict after ``tinycolor.save`` and
        ``load`` (arrays for its numbers and strings). The param groups' lrs are the
        optimizer's own state: load them with the optimizer's ``load_state_dict``."""
        missing = [k for k in self._state if k not in state]
        if missing:
            raise ValueError(f"ReduceLROnPlateau.load_state_dict: the state has no {missing}")
        for k in ("mode", "threshold_mode"):
            setattr(self, k, str(np.asarray(state[k])))
        for k in ("factor", "threshold", "eps", "best"):
            setattr(self, k, float(_scalar(state[k])))
        for k in ("patience", "cooldown", "num_bad_epochs", "cooldown_counter", "last_epoch"):
            setattr(self, k, int(_scalar(state[k])))
        for k in ("min_lrs", "_last_lr"):
            setattr(self, k, [float(v) for v in np.ravel(backend.to_numpy(state[k]))])


# --------------------------------------------------------------------------- weight averaging


class ExponentialMovingAverage:
    """An exponential moving average of a model's weights (Polyak averaging), for evaluation.

    After every optimizer step ``update()`` moves each average towards the model's value:

        avg <- d avg + (1 - d) w = avg + (1 - d)(w - avg),    d = min(decay, (1 + t) / (10 + t))

    with t the number of updates so far, this one included (the warm-up of d, as TensorFlow's
    ``ExponentialMovingAverage`` with ``num_updates``, keeps the first averages from holding
    on to the initial weights). The ramp reaches ``decay`` after (10 decay - 1) / (1 - decay)
    updates, 890 for 0.99: a shorter run ends with the ramp's d (0.983 after 510 steps), and
    every decay above that gives the same run. Floating-point buffers (BatchNorm's running
    statistics) are averaged the same way, integer ones copied. The average of the last
    1 / (1 - decay) or so steps is a smoother model than the weights of any one step: what
    SGD's noise moved back and forth cancels, which matters most when a few images make every
    step's gradient noisy.

    ``state_dict()`` is the averaged weights in the model's own format:
    ``model.load_state_dict(ema.state_dict())`` puts them in (as PyTorch's
    ``torch.optim.swa_utils.AveragedModel`` with an EMA update does in a copy of the model).
    """

    def __init__(self, model, decay: float = 0.99):
        if not callable(getattr(model, "_state_tensors", None)):
            raise TypeError(
                "ExponentialMovingAverage: expected the model itself (a Module), "
                f"ExponentialMovingAverage(model, decay), got a {type(model).__name__}: it "
                "averages the model's parameters and buffers, so pass the model, not "
                "model.parameters()"
            )
        if not 0.0 <= float(decay) < 1.0:
            raise ValueError(f"ExponentialMovingAverage: decay must be in [0, 1), got {decay}")
        self.decay = float(decay)
        self.updates = 0
        self._tensors = model._state_tensors()  # the live parameters and buffers
        self.average = {k: t.data.copy() for k, t in self._tensors.items()}

    def update(self) -> None:
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for k, t in self._tensors.items():
            avg = self.average[k]
            if np.issubdtype(avg.dtype, np.floating):
                # avg + (1 - d)(w - avg), the same value as d avg + (1 - d) w, but exact where
                # w does not move (a frozen layer's average stays its weights to the last bit)
                avg += (t.data - avg) * avg.dtype.type(1.0 - d)
            else:
                avg[...] = t.data

    def state_dict(self) -> dict:
        """The averaged parameters and buffers (copies), as ``model.state_dict()`` names them."""
        return {k: v.copy() for k, v in self.average.items()}

    def load_state_dict(self, state: dict, updates: int | None = None) -> None:
        """Continue from averages that ``state_dict()`` returned (or ``tinycolor.load`` read
        back), copied onto the model's device and dtypes, and ``updates``, the number of
        ``update()`` calls they average (``state_dict`` leaves it out, being in the model's
        format; the warm-up of d depends on it; None keeps the count as it is). A resumed
        training run puts back its average so."""
        given = {k: v for k, v in state.items() if k != "__meta__"}
        missing = [k for k in self.average if k not in given]
        unexpected = [k for k in given if k not in self.average]
        if missing or unexpected:
            raise ValueError(
                f"ExponentialMovingAverage.load_state_dict: missing keys {missing}, "
                f"unexpected keys {unexpected}"
            )
        average = {}
        for k, t in self._tensors.items():
            value = given[k].data if isinstance(given[k], Tensor) else given[k]
            if tuple(value.shape) != t.shape:
                raise ValueError(
                    f"ExponentialMovingAverage.load_state_dict: size mismatch for {k!r}: the "
                    f"state has shape {tuple(value.shape)}, the model has {t.shape}"
                )
            average[k] = backend.to_device(value, t.device).astype(t.dtype, copy=True)
        if updates is not None:
            if isinstance(updates, bool) or int(updates) != updates or updates < 0:
                raise ValueError(
                    f"ExponentialMovingAverage.load_state_dict: updates must be an integer "
                    f">= 0, got {updates!r}"
                )
            self.updates = int(updates)
        self.average = average


# ``torch.optim.lr_scheduler.StepLR`` is spelled ``tinycolor.optim.lr_scheduler.StepLR`` too
# (the same classes as ``tinycolor.optim.StepLR``), so that PyTorch code translates name for
# name, ``from tinycolor.optim.lr_scheduler import CosineAnnealingLR`` included.
lr_scheduler = types.ModuleType(
    f"{__name__}.lr_scheduler", "Learning-rate schedules: the ones in tinycolor.optim."
)
for _schedule in (
    LRScheduler,
    StepLR,
    MultiStepLR,
    ExponentialLR,
    CosineAnnealingLR,
    LambdaLR,
    OneCycleLR,
    ReduceLROnPlateau,
):
    setattr(lr_scheduler, _schedule.__name__, _schedule)
sys.modules[lr_scheduler.__name__] = lr_scheduler

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "ExponentialMovingAverage",
    "LRScheduler",
    "LambdaLR",
    "MultiStepLR",
    "OneCycleLR",
    "Optimizer",
    "RMSprop",
    "ReduceLROnPlateau",
    "StepLR",
    "lr_scheduler",
]
