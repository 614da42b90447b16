"""Optimizers (SGD with momentum and Nesterov, RMSprop, Adam) and learning-rate schedules.

An optimizer holds a list of parameters and, per parameter, the state its rule needs (a
velocity, running averages). ``step()`` reads each parameter's ``.grad`` and updates its
``.data`` in place with array ops: no graph is recorded, and the Parameter objects a model
holds stay the same. The update rules are PyTorch's, written out in each docstring; weight
decay is L2 regularisation, ``g <- g + weight_decay * p``, added to the gradient first. A
step counts as a change of each parameter it moves (``p._version``): ``backward`` through a
graph built before the step, which saved the old values, is refused, as in PyTorch.

``state_dict()`` is flat (``{'lr': ..., 'state.0.momentum_buffer': array, ...}``) so that
``tinycolor.save(opt.state_dict(), path)`` writes it to an ``.npz`` file like a model's.
"""

from __future__ import annotations

import math
import os
import sys
import types
from collections.abc import MutableMapping

import numpy as np

from . import backend
from .autograd import Tensor


class Optimizer:
    """Base class: ``params`` (an iterable of tensors that require grad) and ``lr``.

    Subclasses list their hyperparameters in ``hyperparameters`` and their per-parameter
    state arrays in ``state_names``, and implement ``_update(i, p, g)``.
    """

    hyperparameters: tuple[str, ...] = ("lr",)
    state_names: tuple[str, ...] = ()

    def __init__(self, params, lr: float):
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of tensors, such as "
                "model.parameters(), not a single tensor; wrap it in a list"
            )
        if callable(getattr(params, "parameters", None)):
            raise TypeError(
                f"{type(self).__name__}: params must be the model's parameters, "
                f"{type(self).__name__}(model.parameters(), ...), not the {type(params).__name__} "
                "itself"
            )
        try:
            self.params = list(params)
        except TypeError:
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of tensors, such as "
                f"model.parameters(), got {type(params).__name__}"
            ) from None
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty list of parameters")
        for i, p in enumerate(self.params):
            if isinstance(p, dict):
                raise TypeError(
                    f"{type(self).__name__}: parameter {i} is a dict: per-group options (PyTorch's "
                    "list of {'params': ..., 'lr': ...}) are not supported; a tinycolor optimizer "
                    "holds one group, so build one optimizer per group"
                )
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{type(self).__name__}: parameter {i} is a {type(p).__name__}, not a Tensor"
                )
            if not p.requires_grad:
                raise ValueError(
                    f"{type(self).__name__}: parameter {i} {p.shape} does not require grad, so it "
                    "would never be updated"
                )
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError(f"{type(self).__name__}: a parameter appears more than once")
        _check_nonneg(self, "lr", lr)
        self.lr = lr
        self.state: list[dict] = [{} for _ in self.params]
        self._buffers: dict = {}  # scratch arrays by (device, dtype): see _scratch

    @property
    def param_groups(self) -> list[_ParamGroup]:
        """PyTorch's view of the settings: one group, ``param_groups[0]['lr']`` being
        ``self.lr``, so that code which reads or sets the learning rate the PyTorch way
        (``for g in opt.param_groups: g['lr'] = lr``) runs."""
        return [_ParamGroup(self)]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of all parameters: set them to None, as PyTorch does (or, with
        ``set_to_none=False``, to zeros of their shape)."""
        for p in self.params:
            p.zero_grad(set_to_none)

    def step(self) -> None:
        """Update every parameter that has a gradient; the others are left untouched."""
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad
            if backend.device_of(g) != p.device:
                raise backend.DeviceError(
                    f"{type(self).__name__}: parameter {i} is on {p.device} but its gradient on "
                    f"{backend.device_of(g)}; move the model before building the optimizer"
                )
            self._update(i, p, g)
            p._bump_version()

    def _update(self, i: int, p: Tensor, g):  # pragma: no cover - abstract
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
        """Hyperparameters and per-parameter state, flat: ``{'lr': 0.01, 'state.3.exp_avg':
        array, ...}``, plus ``'optimizer'`` (the class name) and ``'n_params'``. Arrays are
        copies, on the parameters' device."""
        out = {"optimizer": type(self).__name__, "n_params": len(self.params)}
        for name in self.hyperparameters:
            out[name] = getattr(self, name)
        for i, st in enumerate(self.state):
            for key, value in st.items():
                out[f"state.{i}.{key}"] = value.copy() if hasattr(value, "copy") else value
        return out

    def load_state_dict(self, state: dict) -> None:
        """Resume from ``state_dict()`` (or what ``tinycolor.load`` read from its file)."""
        state = {k: v for k, v in state.items() if k != "__meta__"}
        name = _scalar(state.get("optimizer", type(self).__name__))
        if str(name) != type(self).__name__:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state is from {name}")
        n = int(_scalar(state.get("n_params", len(self.params))))
        if n != len(self.params):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: the state is for {n} parameters, this "
                f"optimizer has {len(self.params)}"
            )
        new_state: list[dict] = [{} for _ in self.params]
        for key, value in state.items():
            if not key.startswith("state."):
                if key not in self.hyperparameters and key not in ("optimizer", "n_params"):
                    raise ValueError(
                        f"{type(self).__name__}.load_state_dict: unexpected key {key!r}"
                    )
                continue
            _, idx, sname = key.split(".", 2)
            i = int(idx)
            if not 0 <= i < n or sname not in self.state_names:
                raise ValueError(f"{type(self).__name__}.load_state_dict: unexpected key {key!r}")
            p = self.params[i]
            if sname == "step":
                new_state[i][sname] = int(_scalar(value))
                continue
            arr = value.data if isinstance(value, Tensor) else value
            if tuple(arr.shape) != p.shape:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: size mismatch for {key!r}: the state "
                    f"has shape {tuple(arr.shape)}, parameter {i} has {p.shape}"
                )
            new_state[i][sname] = backend.to_device(arr, p.device).astype(p.dtype, copy=True)
        for hp in self.hyperparameters:
            if hp in state:
                value = state[hp]
                setattr(
                    self,
                    hp,
                    tuple(float(v) for v in np.asarray(backend.to_numpy(value)))
                    if np.ndim(value)
                    else _scalar(value),
                )
        self.state = new_state

    def __repr__(self):
        hp = ", ".join(f"{k}={getattr(self, k)}" for k in self.hyperparameters)
        return f"{type(self).__name__}({len(self.params)} parameters, {hp})"


class _ParamGroup(MutableMapping):
    """An optimizer's one parameter group as PyTorch's dict: ``'params'`` (the parameters)
    and the hyperparameters, read from and written to the optimizer's attributes."""

    def __init__(self, optimizer: Optimizer):
        self.optimizer = optimizer

    def _check(self, key):
        if key != "params" and key not in self.optimizer.hyperparameters:
            raise KeyError(
                f"{type(self.optimizer).__name__}'s param group has no {key!r}; its keys are "
                f"{['params', *self.optimizer.hyperparameters]}"
            )

    def __getitem__(self, key):
        self._check(key)
        return self.optimizer.params if key == "params" else getattr(self.optimizer, key)

    def __setitem__(self, key, value):
        self._check(key)
        if key == "params":
            raise TypeError("param_groups[0]['params'] cannot be replaced: build a new optimizer")
        setattr(self.optimizer, key, value)

    def __delitem__(self, key):
        raise TypeError(f"a param group's {key!r} cannot be deleted")

    def __iter__(self):
        return iter(("params", *self.optimizer.hyperparameters))

    def __len__(self):
        return 1 + len(self.optimizer.hyperparameters)

    def __repr__(self):
        return repr({k: self[k] for k in self if k != "params"} | {"params": "..."})


def _scalar(v):
    """A Python scalar from a 0-d array (as read back from an .npz file) or a scalar."""
    if isinstance(v, np.ndarray | np.generic):
        return v.item()
    if backend.is_cupy_array(v):
        return v.item()
    return v


def _check_nonneg(opt, name, value):
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{type(opt).__name__}: {name} must be a number, got {value!r}")
    if not value >= 0:
        raise ValueError(f"{type(opt).__name__}: {name} must be >= 0, got {value}")


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (PyTorch's formulation):

    g <- g + weight_decay * p
    v <- g (first step),  v <- momentum * v + (1 - dampening) * g (after)
    g <- g + momentum * v   (nesterov)   or   g <- v   (classical momentum)
    p <- p - lr * g
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
        super().__init__(params, lr)
        _check_nonneg(self, "momentum", momentum)
        _check_nonneg(self, "weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov momentum needs momentum > 0 and dampening = 0")
        self.momentum, self.dampening = momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, bool(nesterov)

    def _update(self, i, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        if self.momentum:
            st = self.state[i]
            v = st.get("momentum_buffer")
            if v is None:
                v = st["momentum_buffer"] = g.copy()
            else:
                v *= self.momentum
                v += (1 - self.dampening) * g
            g = g + self.momentum * v if self.nesterov else v
        p.data -= self.lr * g


class RMSprop(Optimizer):
    """Divide the gradient by a running root mean square of recent gradients (Hinton, 2012):

    g <- g + weight_decay * p
    s <- alpha * s + (1 - alpha) * g^2
    d <- sqrt(s) + eps   (centered: sqrt(s - m^2) + eps, m <- alpha m + (1 - alpha) g)
    b <- momentum * b + g / d,  p <- p - lr * b   (momentum > 0)
    p <- p - lr * g / d                           (otherwise)
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
        super().__init__(params, lr)
        for name, v in (
            ("alpha", alpha),
            ("eps", eps),
            ("weight_decay", weight_decay),
            ("momentum", momentum),
        ):
            _check_nonneg(self, name, v)
        self.alpha, self.eps, self.weight_decay = alpha, eps, weight_decay
        self.momentum, self.centered = momentum, bool(centered)

    def _update(self, i, p, g):
        xp = backend.array_module(p.data)
        st = self.state[i]
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        for name, used in (
            ("square_avg", True),
            ("momentum_buffer", self.momentum),
            ("grad_avg", self.centered),
        ):
            if used and name not in st:
                st[name] = xp.zeros(p.shape, dtype=p.dtype)
        s = st["square_avg"]
        s *= self.alpha
        s += (1 - self.alpha) * g * g
        if self.centered:
            m = st["grad_avg"]
            m *= self.alpha
            m += (1 - self.alpha) * g
            denom = xp.sqrt(s - m * m) + self.eps
        else:
            denom = xp.sqrt(s) + self.eps
        if self.momentum:
            b = st["momentum_buffer"]
            b *= self.momentum
            b += g / denom
            p.data -= self.lr * b
        else:
            p.data -= self.lr * (g / denom)


class Adam(Optimizer):
    """Adaptive moment estimation (Kingma & Ba, 2015), with L2 weight decay:

    g <- g + weight_decay * p;   t <- t + 1
    m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2
    p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay")
    state_names = ("step", "exp_avg", "exp_avg_sq")
    decoupled = False  # AdamW: the weight decay shrinks the parameters, outside the gradient

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"Adam: betas must be in [0, 1), got {betas}")
        _check_nonneg(self, "eps", eps)
        _check_nonneg(self, "weight_decay", weight_decay)
        self.betas, self.eps, self.weight_decay = (float(b1), float(b2)), eps, weight_decay

    def _update(self, i, p, g):
        xp = backend.array_module(p.data)
        st = self.state[i]
        b1, b2 = self.betas
        if self.weight_decay and self.decoupled:
            p.data *= 1 - self.lr * self.weight_decay
        elif self.weight_decay:
            g = g + self.weight_decay * p.data
        if "exp_avg" not in st:
            st["step"] = 0
            st["exp_avg"] = xp.zeros(p.shape, dtype=p.dtype)
            st["exp_avg_sq"] = xp.zeros(p.shape, dtype=p.dtype)
        st["step"] += 1
        t = st["step"]
        m, v = st["exp_avg"], st["exp_avg_sq"]
        # p -= lr/(1 - b1^t) m / (sqrt(v)/c + eps), c = sqrt(1 - b2^t), rewritten as
        # p -= m / ((sqrt(v) + eps c) / (lr c / (1 - b1^t))): the same value in fewer passes
        c = math.sqrt(1 - b2**t)
        scale = self.lr * c / (1 - b1**t)
        tmp = self._scratch(p)
        _split(
            xp,
            (m, v, g, p.data, tmp),
            lambda m, v, g, d, tmp: _adam_pass(xp, m, v, g, d, tmp, b1, b2, self.eps * c, scale),
        )


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
    ):
        super().__init__(params, lr, betas, eps, weight_decay)


def _adam_pass(xp, m, v, g, d, tmp, b1, b2, eps_c, scale):
    """One Adam update of the arrays (views of the same shape), in place, through ``tmp``."""
    m *= b1
    xp.multiply(g, 1 - b1, out=tmp)
    m += tmp  # m = b1 m + (1 - b1) g
    v *= b2
    xp.multiply(g, 1 - b2, out=tmp)
    tmp *= g
    v += tmp  # v = b2 v + (1 - b2) g^2
    if scale == 0:  # lr 0 (a schedule at its end): the moments move, the parameter does not
        return
    xp.sqrt(v, out=tmp)
    tmp += eps_c
    tmp *= 1.0 / scale
    xp.divide(m, tmp, out=tmp)
    d -= tmp


#: Parameters with at least this many numbers are updated by two threads on the CPU (NumPy
#: releases the GIL inside its loops, so the halves run at once).
_SPLIT_SIZE = 1 << 20


def _split(xp, arrays, fn):
    """fn(*arrays), or on the CPU for large contiguous arrays fn on each half of their flat
    views in two threads at once."""
    first = arrays[0]
    if (
        xp is not np
        or first.size < _SPLIT_SIZE
        or not all(a.flags.c_contiguous for a in arrays)
        or (os.cpu_count() or 1) < 2
    ):
        return fn(*arrays)
    flat = [a.reshape(-1) for a in arrays]
    half = first.size // 2
    errors = np.geterr()  # NumPy's error handling is per thread: the caller's holds in both

    def in_caller_state(*parts):
        with np.errstate(**errors):
            return fn(*parts)

    other = backend.thread_pool(2).submit(in_caller_state, *(f[half:] for f in flat))
    fn(*(f[:half] for f in flat))
    other.result()
    return None


# --------------------------------------------------------------------------- schedules


class LRScheduler:
    """Sets ``optimizer.lr`` from the epoch count; call ``step()`` once per epoch, after the
    optimizer's steps. ``get_last_lr()`` is a one-element list, as in PyTorch."""

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} needs an Optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0
        self._set()

    def lr_at(self, epoch: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _set(self):
        self.optimizer.lr = self.lr_at(self.last_epoch)
        self._last_lr = [self.optimizer.lr]

    def step(self) -> None:
        self.last_epoch += 1
        self._set()

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict:
        return {"base_lr": self.base_lr, "last_epoch": self.last_epoch}

    def load_state_dict(self, state: dict) -> None:
        self.base_lr = float(_scalar(state["base_lr"]))
        self.last_epoch = int(_scalar(state["last_epoch"]))
        self._set()


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size}")
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer)

    def lr_at(self, epoch):
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2  (Loshchilov &
    Hutter, 2017, without restarts; past T_max it climbs back, as PyTorch's does)."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):  # noqa: N803
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be >= 1, got {T_max}")
        self.T_max, self.eta_min = int(T_max), eta_min
        super().__init__(optimizer)

    def lr_at(self, epoch):
        cos = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (self.base_lr - self.eta_min) * cos


# --------------------------------------------------------------------------- weight averaging


class ExponentialMovingAverage:
    """An exponential moving average of a model's weights (Polyak averaging), for evaluation.

    After every optimizer step ``update()`` moves each average towards the model's value:

        avg <- d avg + (1 - d) w,    d = min(decay, (1 + t) / (10 + t))

    with t the number of updates so far (the warm-up of d, as TensorFlow's
    ``ExponentialMovingAverage`` with ``num_updates``, keeps the first averages from holding
    on to the initial weights). Floating-point buffers (BatchNorm's running statistics) are
    averaged the same way, integer ones copied. The average of the last 1 / (1 - decay) or so
    steps is a smoother model than the weights of any one step: what SGD's noise moved back
    and forth cancels, which matters most when a few images make every step's gradient noisy.

    ``state_dict()`` is the averaged weights in the model's own format:
    ``model.load_state_dict(ema.state_dict())`` puts them in (as PyTorch's
    ``torch.optim.swa_utils.AveragedModel`` with an EMA update does in a copy of the model).
    """

    def __init__(self, model, decay: float = 0.99):
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
                avg *= avg.dtype.type(d)
                avg += t.data * avg.dtype.type(1.0 - d)
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
for _schedule in (LRScheduler, StepLR, CosineAnnealingLR):
    setattr(lr_scheduler, _schedule.__name__, _schedule)
sys.modules[lr_scheduler.__name__] = lr_scheduler

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialMovingAverage",
    "LRScheduler",
    "Optimizer",
    "RMSprop",
    "StepLR",
    "lr_scheduler",
]
