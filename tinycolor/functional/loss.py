"""Loss functions, with PyTorch's names, arguments and reductions.

Each loss is one Function that computes the loss per element and reduces it ('mean', 'sum' or
'none'); its backward pass gives the gradient of the reduced loss directly, without the graph
of small ops (and the intermediate arrays) a composition would record.
Every log and exp goes through a stable form, so logits of 1e4 give neither inf nor NaN:

* log-softmax as  x - max(x) - log(sum(exp(x - max(x))))   (the largest exponent is 0);
* softplus as     log(1 + e^z) = max(z, 0) + log1p(e^-|z|)    (the exponent is never positive).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function, Tensor, as_tensor_like
from ..backend import array_module

__all__ = ["binary_cross_entropy_with_logits", "cross_entropy", "l1_loss", "mse_loss"]

REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(name, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"{name}: reduction must be one of 'mean', 'sum', 'none', got {reduction!r}"
        )


def _reduce(loss, reduction, denom=None):
    """Sum, average (over ``denom``, by default the number of elements) or keep ``loss``."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return total / (loss.size if denom is None else denom)


def _reduced_grad(g, reduction, denom):
    """The gradient of the reduction: g itself for 'none' and 'sum', g / denom for 'mean'."""
    return g / denom if reduction == "mean" else g


def _constant(x, like, name, what):
    """``x`` (Tensor, array, list) as a raw array on the device and in the dtype of ``like``."""
    if isinstance(x, Tensor):
        if x.device != like.device:
            raise backend.DeviceError(
                f"{name}: {what} is on {x.device} but the input is on {like.device}; "
                "move it with .to(device)"
            )
        x = x.data
    return backend.xp_for(like.device).asarray(x, dtype=like.dtype)


def _stable_sigmoid(xp, x):
    """1 / (1 + e^-x) without overflow: from e = e^-|x| as 1/(1+e) or e/(1+e)."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1, e) / (1 + e)


def _softplus_neg(xp, x):
    """softplus(-x) = log(1 + e^-x) = max(-x, 0) + log1p(e^-|x|), never overflowing."""
    return xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


# --------------------------------------------------------------------------- cross-entropy


def _along(vector, axis, ndim):
    """A length-Q vector shaped to broadcast along ``axis`` of an ``ndim``-dimensional array."""
    return vector.reshape([-1 if i == axis else 1 for i in range(ndim)])


class CrossEntropy(Function):
    """Softmax cross-entropy over the class axis ``axis`` (Q classes), weights w_q (or 1).

    With log p = log_softmax(x) along ``axis`` and, per element (all axes but ``axis``):

    * class indices t:     l = -w_t log p_t,
      gradient            dl/dx = w_t (p - onehot(t));
      'mean' divides the sum by sum(w_t) over the elements (their count when unweighted);
    * probabilities t_q:  l = -sum_q w_q t_q log p_q,
      gradients           dl/dx = p sum_q(w_q t_q) - w t,   dl/dt = -w log p;
      'mean' divides the sum by the number of elements.

    Only p (the size of the logits) is saved, and log p besides only for soft targets that
    need a gradient.
    """

    def forward(self, x, target, axis=1, weight=None, reduction="mean", soft=False):
        xp = array_module(x)
        logp = x - x.max(axis=axis, keepdims=True)
        p = xp.exp(logp)
        total = p.sum(axis=axis, keepdims=True)
        logp -= xp.log(total)
        p /= total
        self.axis, self.reduction, self.soft, self.weight = axis, reduction, soft, weight
        if soft:
            t = target.astype(x.dtype, copy=False)
            wt = t if weight is None else t * _along(self.weight, axis, t.ndim)
            # log p is kept only for a target that needs a gradient; else its array is reused
            keep = len(self.needs_input_grad) > 1 and self.needs_input_grad[1]
            self.logp = logp if keep else None
            wt_logp = wt * logp if keep else xp.multiply(wt, logp, out=logp)
            loss = -wt_logp.sum(axis=axis)
            self.denom = loss.size
        else:
            index = xp.expand_dims(target, axis)
            loss = -xp.take_along_axis(logp, index, axis=axis).squeeze(axis)
            if weight is None:
                self.denom = loss.size
            else:
                w_t = weight[target]
                loss = loss * w_t
                self.denom = w_t.sum()  # PyTorch's weighted mean: divide by the weights used
        self.save_for_backward(p, target)
        return xp.asarray(_reduce(loss, reduction, self.denom), dtype=x.dtype)

    def backward(self, g):
        p, target = self.saved
        xp = array_module(p)
        axis = self.axis
        c = xp.asarray(_reduced_grad(g, self.reduction, self.denom), dtype=p.dtype)
        if self.reduction == "none":  # one gradient per element: give it back the class axis
            c = xp.expand_dims(c, axis)
        if self.soft:
            t = target.astype(p.dtype, copy=False)
            wt = t if self.weight is None else t * _along(self.weight, axis, t.ndim)
            gx = p * wt.sum(axis=axis, keepdims=True)
            gx -= wt
            gx *= c
            gt = None
            if self.needs_input_grad[1]:
                w = 1 if self.weight is None else _along(self.weight, axis, t.ndim)
                gt = -w * self.logp * c
            return gx, gt
        index = xp.expand_dims(target, axis)
        onehot = _along(xp.arange(p.shape[axis]), axis, p.ndim) == index
        if self.weight is not None:
            c = c * xp.expand_dims(self.weight[target], axis)
        return (p - onehot) * c, None


def cross_entropy(logits, target, weight=None, *, reduction="mean", axis=1) -> Tensor:
    """Softmax cross-entropy between ``logits`` and ``target``, as ``F.cross_entropy``.

    ``logits`` holds scores for Q classes along ``axis`` (default 1, as NCHW: (N, Q) or
    (N, Q, H, W); a single example (Q,) uses axis 0). ``target`` is either

    * integer class indices in [0, Q) with the logits' shape without ``axis``: (N,) for (N, Q),
      (N, H, W) for per-pixel classes (N, Q, H, W); or
    * a probability distribution (floats) with the logits' own shape (soft targets, as in
      Zhang et al.'s soft-encoded ab bins); it receives a gradient if it requires one.

    ``weight`` (length Q) rescales each class. ``reduction``: 'mean' (for class indices the
    weighted mean, dividing by the sum of the weights of the targets; for soft targets the
    mean over the N*H*W elements), 'sum' or 'none' (the loss of each element). The arguments
    come in PyTorch's order (weight third); ``reduction`` and ``axis`` (an addition) are
    keywords.
    """
    _check_reduction("cross_entropy", reduction)
    if not isinstance(logits, Tensor):
        raise TypeError(f"cross_entropy: logits must be a Tensor, got {type(logits).__name__}")
    if logits.ndim == 0:
        raise ValueError("cross_entropy: logits must have a class axis, got a 0-d tensor")
    if not np.issubdtype(logits.dtype, np.floating):
        raise TypeError(f"cross_entropy: logits must be floating point, got {logits.dtype}")
    if logits.ndim == 1 and axis == 1:
        axis = 0
    if not -logits.ndim <= axis < logits.ndim:
        raise ValueError(f"cross_entropy: axis {axis} is out of range for logits {logits.shape}")
    axis %= logits.ndim
    n_classes = logits.shape[axis]
    index_shape = logits.shape[:axis] + logits.shape[axis + 1 :]
    target = as_tensor_like(target, (logits,), promote=False)  # class indices stay integers
    if target.device != logits.device:
        raise backend.DeviceError(
            f"cross_entropy: target is on {target.device} but the logits are on "
            f"{logits.device}; move it with .to(device)"
        )
    soft = bool(np.issubdtype(target.dtype, np.floating))
    if soft:
        if target.shape != logits.shape:
            hint = (
                "; class indices must be integers (use .astype('int64'))"
                if target.shape == index_shape
                else ""
            )
            raise ValueError(
                f"cross_entropy: a probability target must have the logits' shape {logits.shape}, "
                f"got {target.shape}{hint}"
            )
    else:
        if not np.issubdtype(target.dtype, np.integer):
            raise TypeError(
                f"cross_entropy: target must hold integer class indices or float probabilities, "
                f"got {target.dtype}"
            )
        if target.shape != index_shape:
            raise ValueError(
                f"cross_entropy: class-index target must have the logits' shape without axis "
                f"{axis}, {index_shape} for logits {logits.shape}, got {target.shape}"
            )
        # one test (one GPU sync per call, not two); the offending index only when it fails
        if target.size and bool(((target.data < 0) | (target.data >= n_classes)).any()):
            lo = int(target.data.min())
            bad = lo if lo < 0 else int(target.data.max())
            raise ValueError(
                f"cross_entropy: class index {bad} is out of range for {n_classes} classes "
                f"(logits {logits.shape}, class axis {axis}); expected 0 <= index < {n_classes}"
            )
    if weight is not None:
        weight = _constant(weight, logits, "cross_entropy", "weight")
        if weight.shape != (n_classes,):
            raise ValueError(
                f"cross_entropy: weight must have one entry per class, shape ({n_classes},), "
                f"got {tuple(weight.shape)}"
            )
    return CrossEntropy.apply(
        logits, target, axis=axis, weight=weight, reduction=reduction, soft=soft
    )


# --------------------------------------------------------------------------- regression losses


class MSELoss(Function):
    """l = (a - b)^2 per element;  dl/da = 2 (a - b),  dl/db = -2 (a - b)."""

    def forward(self, a, b, reduction="mean"):
        d = a - b
        self.reduction, self.n = reduction, d.size
        self.save_for_backward(d)
        return array_module(d).asarray(_reduce(d * d, reduction), dtype=d.dtype)

    def backward(self, g):
        (d,) = self.saved
        ga = d * (2 * _reduced_grad(g, self.reduction, self.n))
        return ga, (-ga if self.needs_input_grad[1] else None)


class L1Loss(Function):
    """l = |a - b| per element;  dl/da = sign(a - b) (0 where equal),  dl/db = -sign(a - b)."""

    def forward(self, a, b, reduction="mean"):
        xp = array_module(a)
        d = a - b
        self.reduction, self.n = reduction, d.size
        self.save_for_backward(xp.sign(d))
        return xp.asarray(_reduce(xp.abs(d), reduction), dtype=d.dtype)

    def backward(self, g):
        (sign,) = self.saved
        ga = sign * _reduced_grad(g, self.reduction, self.n)
        return ga, (-ga if self.needs_input_grad[1] else None)


class BCEWithLogits(Function):
    """Binary cross-entropy on logits x, targets t in [0, 1], weight w, positive weight q:

    l = -w [q t log s(x) + (1 - t) log(1 - s(x))],  s = sigmoid,
      = w [(1 - t) x + (1 + (q - 1) t) softplus(-x)]     (stable: no exp of a large x),
    dl/dx = w [(1 - t) + (1 + (q - 1) t) (s(x) - 1)],
    dl/dt = w [(q - 1) softplus(-x) - x].
    """

    def forward(self, x, t, weight=None, pos_weight=None, reduction="mean"):
        xp = array_module(x)
        t = t.astype(x.dtype, copy=False)
        sp = _softplus_neg(xp, x)
        log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        loss = (1 - t) * x + log_weight * sp
        if weight is not None:
            loss = loss * weight
        self.weight, self.pos_weight, self.reduction = weight, pos_weight, reduction
        self.n, self.shape = loss.size, loss.shape
        self.save_for_backward(x, t)
        return xp.asarray(_reduce(loss, reduction), dtype=x.dtype)

    def backward(self, g):
        x, t = self.saved
        xp = array_module(x)
        c = xp.asarray(_reduced_grad(g, self.reduction, self.n), dtype=x.dtype)
        if self.weight is not None:
            c = c * self.weight
        q = self.pos_weight
        log_weight = 1 if q is None else 1 + (q - 1) * t
        gx = ((1 - t) + log_weight * (_stable_sigmoid(xp, x) - 1)) * c
        gx = xp.broadcast_to(gx, self.shape)
        gt = None
        if self.needs_input_grad[1]:
            gt = (-x if q is None else (q - 1) * _softplus_neg(xp, x) - x) * c
            gt = xp.broadcast_to(gt, self.shape)
        return gx, gt


def _check_pair(name, input, target):
    """Wrap ``target`` like ``input`` and insist on equal shapes (a scalar target broadcasts)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    constant = not isinstance(target, Tensor)
    target = as_tensor_like(target, (input,))
    if constant and np.issubdtype(input.dtype, np.floating) and target.dtype != input.dtype:
        # a NumPy target (float64 by default) is a constant in the input's dtype, as in
        # cross_entropy: a float32 network's loss stays float32
        target = Tensor(target.data.astype(input.dtype), _internal=True)
    if target.shape != input.shape and target.ndim > 0:
        raise ValueError(
            f"{name}: input {input.shape} and target {target.shape} must have the same shape "
            "(a scalar target is broadcast; other broadcasting is refused, as it is almost always "
            "a bug, e.g. (N, 1) against (N,))"
        )
    return target


def mse_loss(input, target, *, reduction="mean") -> Tensor:  # noqa: A002 - PyTorch's name
    """Mean squared error, mean((input - target)^2) by default, as ``F.mse_loss``."""
    _check_reduction("mse_loss", reduction)
    target = _check_pair("mse_loss", input, target)
    return MSELoss.apply(input, target, reduction=reduction)


def l1_loss(input, target, *, reduction="mean") -> Tensor:  # noqa: A002
    """Mean absolute error, mean(|input - target|) by default, as ``F.l1_loss``."""
    _check_reduction("l1_loss", reduction)
    target = _check_pair("l1_loss", input, target)
    return L1Loss.apply(input, target, reduction=reduction)


def binary_cross_entropy_with_logits(
    input,  # noqa: A002
    target,
    weight=None,
    *,
    reduction="mean",
    pos_weight=None,
) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable step, as ``F.binary_cross_entropy_with_logits``.

    ``target`` holds probabilities in [0, 1] of ``input``'s shape (or a scalar, e.g. 1.0 for a
    GAN's "real"). ``weight`` rescales each element and ``pos_weight`` the positive term; both
    broadcast against ``input`` (``pos_weight`` of shape (C,) weighs the classes of an (N, C)
    input; use (C, 1, 1) for NCHW) and receive no gradient.
    """
    name = "binary_cross_entropy_with_logits"
    _check_reduction(name, reduction)
    target = _check_pair(name, input, target)
    consts = {}
    for key, value in (("weight", weight), ("pos_weight", pos_weight)):
        if value is not None:
            value = _constant(value, input, name, key)
            try:
                fits = np.broadcast_shapes(value.shape, input.shape) == input.shape
            except ValueError:
                fits = False
            if not fits:
                raise ValueError(
                    f"{name}: {key} of shape {tuple(value.shape)} does not broadcast to "
                    f"the input's shape {input.shape}"
                )
        consts[key] = value
    return BCEWithLogits.apply(input, target, reduction=reduction, **consts)
