"""Loss functions, with PyTorch's names, arguments and reductions.

Each loss is one Function that computes the loss per element and reduces it ('mean', 'sum' or
'none'); its backward pass gives the gradient of the reduced loss directly, without the graph
of small ops (and the intermediate arrays) a composition would record.
Every log and exp goes through a stable form, so logits of 1e4 give neither inf nor NaN:

* log-softmax as  x - max(x) - log(sum(exp(x - max(x))))   (the largest exponent is 0);
* softplus as     log(1 + e^z) = max(z, 0) + log1p(e^-|z|)    (the exponent is never positive).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import backend
from ..autograd import Function, Tensor, _fits, as_tensor_like
from ..backend import array_module
from .reduce import norm

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cosine_similarity",
    "cross_entropy",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "margin_ranking_loss",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "pairwise_distance",
    "poisson_nll_loss",
    "smooth_l1_loss",
    "soft_margin_loss",
]

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


def _picked(xp, target, weight, ignored, dtype):
    """For class indices ``target``: the index of each element (0 where ``ignored``), its weight
    w_t (``weight[t]``, 0 where ignored; None when every weight is 1) and the denominator of
    'mean', the sum of w_t (the count of elements not ignored when unweighted): PyTorch's
    weighted mean."""
    if ignored is not None:
        target = xp.where(ignored, 0, target)
    w_t = None if weight is None else weight[target]
    if ignored is not None:
        w_t = (~ignored).astype(dtype) if w_t is None else xp.where(ignored, 0, w_t)
    return target, w_t, (target.size if w_t is None else w_t.sum())


def _scaled_by_weights(xp, c, w_t, ignored):
    """The gradient's scale c times each element's weight w_t, and exactly 0 where ``ignored``
    (not 0 * inf = nan when every element is ignored and 'mean' divided by their sum, 0)."""
    if w_t is None:
        return c
    with np.errstate(invalid="ignore"):
        scaled = c * w_t
    return (
        scaled if ignored is None else xp.where(ignored, 0, scaled).astype(scaled.dtype, copy=False)
    )


class CrossEntropy(Function):
    """Softmax cross-entropy over the class axis ``axis`` (Q classes), weights w_q (or 1).

    With log p = log_softmax(x) along ``axis`` and, per element (all axes but ``axis``):

    * class indices t:     l = -w_t log p_t,
      gradient            dl/dx = w_t (p - onehot(t));
      'mean' divides the sum by sum(w_t) over the elements (their count when unweighted);
      with label smoothing e the target is (1 - e) onehot(t) + e / Q:
                          l = -(1 - e) w_t log p_t - (e / Q) sum_q w_q log p_q,
                          dl/dx = (1 - e) w_t (p - onehot(t)) + (e / Q) (p sum_q w_q - w),
      and 'mean' still divides by sum(w_t) (PyTorch's formula); an element whose index is
      ``ignore_index`` (``ignored``) has l = 0, no gradient, and no part in sum(w_t);
    * probabilities t_q:  l = -sum_q w_q t_q log p_q,
      gradients           dl/dx = p sum_q(w_q t_q) - w t,   dl/dt = -w log p;
      'mean' divides the sum by the number of elements; label smoothing e replaces t by
      (1 - e) t + e / Q (so dl/dt gains a factor 1 - e).

    Only p (the size of the logits) is saved, and log p besides only for soft targets that
    need a gradient.
    """

    def forward(
        self, x, target, axis=1, weight=None, reduction="mean", soft=False, ignored=None, eps=0.0
    ):
        xp = array_module(x)
        logp = x - x.max(axis=axis, keepdims=True)
        p = xp.exp(logp)
        total = p.sum(axis=axis, keepdims=True)
        logp -= xp.log(total)
        p /= total
        self.axis, self.reduction, self.soft, self.weight = axis, reduction, soft, weight
        self.eps, self.ignored = eps, ignored
        parts = None  # the two parts of the loss that 'mean' divides separately
        if soft:
            t = self._smoothed(target, x.dtype)
            wt = t if weight is None else t * _along(self.weight, axis, t.ndim)
            # log p is kept only for a target that needs a gradient; else its array is reused
            keep = len(self.needs_input_grad) > 1 and self.needs_input_grad[1]
            self.logp = logp if keep else None
            wt_logp = wt * logp if keep else xp.multiply(wt, logp, out=logp)
            loss = -wt_logp.sum(axis=axis)
            self.denom = loss.size
            self.save_for_backward(p, target)
        else:
            target, self.w_t, self.denom = _picked(xp, target, weight, ignored, x.dtype)
            index = xp.expand_dims(target, axis)
            loss = -xp.take_along_axis(logp, index, axis=axis).squeeze(axis)
            if eps:  # PyTorch's label smoothing: the uniform part, weighted by w_q
                w = 1 if weight is None else _along(weight, axis, logp.ndim)
                smooth = -(logp * w).sum(axis=axis)
                loss *= 1 - eps
                if self.w_t is not None:
                    loss *= self.w_t
                if ignored is not None:
                    smooth = xp.where(ignored, 0, smooth)
                smooth = (eps / logp.shape[axis]) * smooth
                if reduction == "mean":  # each part over sum(w_t), as PyTorch's (0 / 0: nan)
                    parts = (loss, smooth)
                else:
                    loss += smooth
            elif self.w_t is not None:
                loss = loss * self.w_t
            self.save_for_backward(p, target)
        with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: nan, as PyTorch
            if parts is None:
                total = _reduce(loss, reduction, self.denom)
            else:
                nll, smooth = parts
                total = _reduce(nll, "mean", self.denom) + _reduce(smooth, "mean", self.denom)
            return xp.asarray(total, dtype=x.dtype)

    def _smoothed(self, target, dtype):
        """A probability target in the logits' dtype, with label smoothing applied."""
        t = target.astype(dtype, copy=False)
        if self.eps:
            t = t * (1 - self.eps) + self.eps / t.shape[self.axis]
        return t

    def backward(self, g):
        p, target = self.saved
        xp = array_module(p)
        axis = self.axis
        with np.errstate(invalid="ignore", divide="ignore"):
            c = xp.asarray(_reduced_grad(g, self.reduction, self.denom), dtype=p.dtype)
        if self.reduction == "none":  # one gradient per element: give it back the class axis
            c = xp.expand_dims(c, axis)
        if self.soft:
            t = self._smoothed(target, p.dtype)
            wt = t if self.weight is None else t * _along(self.weight, axis, t.ndim)
            gx = p * wt.sum(axis=axis, keepdims=True)
            gx -= wt
            gx *= c
            gt = None
            if self.needs_input_grad[1]:
                w = 1 if self.weight is None else _along(self.weight, axis, t.ndim)
                gt = -w * self.logp * ((1 - self.eps) * c)
            return gx, gt
        index = xp.expand_dims(target, axis)
        onehot = _along(xp.arange(p.shape[axis]), axis, p.ndim) == index
        ignored = None if self.ignored is None else xp.expand_dims(self.ignored, axis)
        w_t = None if self.w_t is None else xp.expand_dims(self.w_t, axis)
        c_t = _scaled_by_weights(xp, c, w_t, ignored)
        if not self.eps:
            return (p - onehot) * c_t, None
        gx = (p - onehot) * ((1 - self.eps) * c_t)
        q = p.shape[axis]
        if self.weight is None:
            uniform = p - 1 / q  # (e / Q) (Q p - 1)
            smooth_c = self.eps * c
        else:
            uniform = p * self.weight.sum() - _along(self.weight, axis, p.ndim)
            smooth_c = (self.eps / q) * c
        if ignored is not None:
            smooth_c = xp.where(ignored, 0, smooth_c)
        gx += uniform * smooth_c
        return gx, None


class NLLLoss(Function):
    """Negative log-likelihood of log-probabilities x (Q classes along ``axis``) and class
    indices t, weights w_q (or 1):  l = -w_t x_t per element,  dl/dx = -w_t onehot(t);
    'mean' divides the sum by sum(w_t) over the elements not ignored (their count when
    unweighted); an element whose index is ``ignore_index`` has l = 0 and no gradient."""

    def forward(self, x, target, axis=1, weight=None, reduction="mean", ignored=None):
        xp = array_module(x)
        target, self.w_t, self.denom = _picked(xp, target, weight, ignored, x.dtype)
        loss = -xp.take_along_axis(x, xp.expand_dims(target, axis), axis=axis).squeeze(axis)
        if ignored is not None:  # 0 even where the ignored element's x_0 is -inf
            loss = xp.where(ignored, 0, loss).astype(x.dtype, copy=False)
        if self.w_t is not None:
            loss = loss * self.w_t
        self.axis, self.reduction, self.ignored, self.shape = axis, reduction, ignored, x.shape
        self.save_for_backward(target)
        with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: nan, as PyTorch
            return xp.asarray(_reduce(loss, reduction, self.denom), dtype=x.dtype)

    def backward(self, g):
        (target,) = self.saved
        xp = array_module(target)
        axis = self.axis
        with np.errstate(invalid="ignore", divide="ignore"):
            c = xp.asarray(-_reduced_grad(g, self.reduction, self.denom), dtype=g.dtype)
        c = _scaled_by_weights(xp, c, self.w_t, self.ignored)
        index = xp.expand_dims(target, axis)
        onehot = _along(xp.arange(self.shape[axis]), axis, len(self.shape)) == index
        c = xp.expand_dims(xp.broadcast_to(c, target.shape), axis)
        # 0 off the targets even where c is nan ('mean' over weights summing to 0), as PyTorch
        return xp.where(onehot, c, 0).astype(c.dtype, copy=False), None


def _check_logits(name, logits, axis, what="logits"):
    """``axis`` (normalised) and the number of classes of ``logits``, after checking it."""
    if not isinstance(logits, Tensor):
        raise TypeError(f"{name}: {what} must be a Tensor, got {type(logits).__name__}")
    if logits.ndim == 0:
        raise ValueError(f"{name}: {what} must have a class axis, got a 0-d tensor")
    if not np.issubdtype(logits.dtype, np.floating):
        raise TypeError(f"{name}: {what} must be floating point, got {logits.dtype}")
    if logits.ndim == 1 and axis == 1:
        axis = 0
    if not -logits.ndim <= axis < logits.ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for {what} {logits.shape}")
    return axis % logits.ndim, logits.shape[axis]


def _check_ignore_index(name, ignore_index):
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int | np.integer):
        raise TypeError(f"{name}: ignore_index must be an integer, got {ignore_index!r}")
    return int(ignore_index)


def _check_class_target(name, logits, target, axis, n_classes, ignore_index, what="logits"):
    """The boolean mask of the elements whose index is ``ignore_index`` (None when it cannot
    occur), after checking the shape and range of integer ``target``: each index in
    [0, n_classes) or equal to ``ignore_index``."""
    index_shape = logits.shape[:axis] + logits.shape[axis + 1 :]
    if not np.issubdtype(target.dtype, np.integer):
        probabilities = " or float probabilities" if name == "cross_entropy" else ""
        raise TypeError(
            f"{name}: target must hold integer class indices{probabilities}, got {target.dtype}"
        )
    if target.shape != index_shape:
        raise ValueError(
            f"{name}: class-index target must have the {what}' shape without axis "
            f"{axis}, {index_shape} for {what} {logits.shape}, got {target.shape}"
        )
    data = target.data
    ignored = data == ignore_index if 0 <= ignore_index < n_classes else None
    # one test (one GPU sync per call, not two); the offending index only when it fails
    if target.size and bool(((data < 0) | (data >= n_classes)).any()):
        outside = (data < 0) | (data >= n_classes)
        bad = data[outside & (data != ignore_index)]
        if bad.size:
            lo = int(bad.min())
            raise ValueError(
                f"{name}: class index {lo if lo < 0 else int(bad.max())} is out of range for "
                f"{n_classes} classes ({what} {logits.shape}, class axis {axis}); expected "
                f"0 <= index < {n_classes}, or ignore_index ({ignore_index})"
            )
        ignored = outside  # every index outside the classes is ignore_index
    return ignored


def _class_weight(name, weight, logits, n_classes):
    if weight is None:
        return None
    weight = _constant(weight, logits, name, "weight")
    if weight.shape != (n_classes,):
        raise ValueError(
            f"{name}: weight must have one entry per class, shape ({n_classes},), "
            f"got {tuple(weight.shape)}"
        )
    return weight


def _check_label_smoothing(name, label_smoothing):
    """``label_smoothing`` as a float, after checking it is a number in [0, 1]."""
    if isinstance(label_smoothing, bool) or not isinstance(
        label_smoothing, int | float | np.integer | np.floating
    ):
        raise TypeError(f"{name}: label_smoothing must be a number, got {label_smoothing!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"{name}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )
    return float(label_smoothing)


def cross_entropy(
    input,  # noqa: A002 - PyTorch's name
    target,
    weight=None,
    *,
    ignore_index=-100,
    reduction="mean",
    label_smoothing=0.0,
    axis=1,
) -> Tensor:
    """Softmax cross-entropy between the logits ``input`` and ``target``, as
    ``F.cross_entropy``.

    The logits ``input`` hold scores for Q classes along ``axis`` (default 1, as NCHW: (N, Q) or
    (N, Q, H, W); a single example (Q,) uses axis 0). ``target`` is either

    * integer class indices in [0, Q) with the logits' shape without ``axis``: (N,) for (N, Q),
      (N, H, W) for per-pixel classes (N, Q, H, W); an index equal to ``ignore_index``
      (default -100, as PyTorch's) contributes nothing, to the loss, its gradient or the
      denominator of 'mean' (a 'mean' over nothing but ignored elements is nan, as PyTorch's);
    * a probability distribution (floats) with the logits' own shape (soft targets, as in
      Zhang et al.'s soft-encoded ab bins); it receives a gradient if it requires one.
      ``ignore_index`` must then be negative, as in PyTorch.

    ``weight`` (length Q) rescales each class. ``reduction``: 'mean' (for class indices the
    weighted mean, dividing by the sum of the weights of the targets; for soft targets the
    mean over the N*H*W elements), 'sum' or 'none' (the loss of each element).
    ``label_smoothing`` e in [0, 1] mixes the target with the uniform distribution,
    (1 - e) target + e / Q (Szegedy et al., 2016); with class indices and weights the uniform
    part is weighted by each w_q and, with 'mean', divided by the sum of the targets' weights,
    as PyTorch's formula:  l = -(1 - e) w_t log p_t - (e / Q) sum_q w_q log p_q.

    The arguments come in PyTorch's order (weight third); the others are keywords
    (``axis`` an addition).
    """
    logits = input
    _check_reduction("cross_entropy", reduction)
    ignore_index = _check_ignore_index("cross_entropy", ignore_index)
    eps = _check_label_smoothing("cross_entropy", label_smoothing)
    axis, n_classes = _check_logits("cross_entropy", logits, axis)
    target = as_tensor_like(target, (logits,), promote=False)  # class indices stay integers
    if target.device != logits.device:
        raise backend.DeviceError(
            f"cross_entropy: target is on {target.device} but the logits are on "
            f"{logits.device}; move it with .to(device)"
        )
    soft = bool(np.issubdtype(target.dtype, np.floating))
    ignored = None
    if soft:
        if target.shape != logits.shape:
            index_shape = logits.shape[:axis] + logits.shape[axis + 1 :]
            hint = (
                "; class indices must be integers (use .astype('int64'))"
                if target.shape == index_shape
                else ""
            )
            raise ValueError(
                f"cross_entropy: a probability target must have the logits' shape {logits.shape}, "
                f"got {target.shape}{hint}"
            )
        if ignore_index >= 0:
            raise ValueError(
                f"cross_entropy: ignore_index={ignore_index} cannot apply to a probability "
                "target (it names a class index); leave it at its default, -100"
            )
    else:
        ignored = _check_class_target(
            "cross_entropy", logits, target, axis, n_classes, ignore_index
        )
    weight = _class_weight("cross_entropy", weight, logits, n_classes)
    return CrossEntropy.apply(
        logits,
        target,
        axis=axis,
        weight=weight,
        reduction=reduction,
        soft=soft,
        ignored=ignored,
        eps=eps,
    )


def nll_loss(
    input,  # noqa: A002 - PyTorch's name
    target,
    weight=None,
    *,
    ignore_index=-100,
    reduction="mean",
    axis=1,
) -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` and class indices ``target``,
    as ``F.nll_loss``: l = -weight[t] input[t] per element, so that
    ``nll_loss(log_softmax(x, 1), t)`` is ``cross_entropy(x, t)``.

    ``input`` is (N, Q) or (N, Q, H, W) (Q classes along ``axis``, default 1; a single example
    (Q,) uses axis 0); ``target`` holds integer class indices in [0, Q) with the input's shape
    without ``axis``; an index equal to ``ignore_index`` (default -100) contributes nothing.
    ``weight`` (length Q) rescales each class; ``reduction`` 'mean' is PyTorch's weighted mean,
    the sum of w_t l divided by the sum of w_t over the elements not ignored (nan when every
    element is ignored), or 'sum', or 'none' (the loss of each element). For probability
    targets use ``cross_entropy`` on the logits.
    """
    _check_reduction("nll_loss", reduction)
    ignore_index = _check_ignore_index("nll_loss", ignore_index)
    axis, n_classes = _check_logits("nll_loss", input, axis, what="input")
    target = as_tensor_like(target, (input,), promote=False)
    if target.device != input.device:
        raise backend.DeviceError(
            f"nll_loss: target is on {target.device} but the input is on {input.device}; "
            "move it with .to(device)"
        )
    if np.issubdtype(target.dtype, np.floating):
        raise TypeError(
            f"nll_loss: target must hold integer class indices, got {target.dtype}; for "
            "probability targets use cross_entropy on the logits"
        )
    ignored = _check_class_target(
        "nll_loss", input, target, axis, n_classes, ignore_index, what="input"
    )
    weight = _class_weight("nll_loss", weight, input, n_classes)
    return NLLLoss.apply(
        input, target, axis=axis, weight=weight, reduction=reduction, ignored=ignored
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


class SmoothL1Loss(Function):
    """With d = a - b and beta >= 0 (Girshick, Fast R-CNN, 2015, eq. 3, there beta = 1):

    l = d^2 / (2 beta)  where |d| < beta,   |d| - beta / 2  elsewhere (l1 for beta = 0);
    dl/da = clip(d / beta, -1, 1)  (sign(d) for beta = 0),   dl/db = -dl/da.
    """

    def forward(self, a, b, reduction="mean", beta=1.0):
        xp = array_module(a)
        d = a - b
        ad = xp.abs(d)
        self.reduction, self.n, self.beta = reduction, d.size, beta
        self.save_for_backward(d)
        if beta == 0:
            loss = ad
        else:
            loss = xp.where(ad < beta, (0.5 / beta) * d * d, ad - 0.5 * beta)
        return xp.asarray(_reduce(loss, reduction), dtype=d.dtype)

    def backward(self, g):
        (d,) = self.saved
        xp = array_module(d)
        slope = xp.sign(d) if self.beta == 0 else xp.clip(d * (1 / self.beta), -1, 1)
        ga = slope * _reduced_grad(g, self.reduction, self.n)
        return ga, (-ga if self.needs_input_grad[1] else None)


class HuberLoss(Function):
    """With d = a - b and delta > 0 (Huber, 1964): delta times the smooth l1 loss of beta = delta,

    l = d^2 / 2  where |d| < delta,   delta (|d| - delta / 2)  elsewhere;
    dl/da = clip(d, -delta, delta),   dl/db = -dl/da.
    """

    def forward(self, a, b, reduction="mean", delta=1.0):
        xp = array_module(a)
        d = a - b
        ad = xp.abs(d)
        self.reduction, self.n, self.delta = reduction, d.size, delta
        self.save_for_backward(d)
        loss = xp.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
        return xp.asarray(_reduce(loss, reduction), dtype=d.dtype)

    def backward(self, g):
        (d,) = self.saved
        xp = array_module(d)
        ga = xp.clip(d, -self.delta, self.delta) * _reduced_grad(g, self.reduction, self.n)
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


class BCELoss(Function):
    """Binary cross-entropy on probabilities x in [0, 1], targets t, weight w, as PyTorch's
    (each log clamped at -100, so x = 0 or 1 gives a loss of at most 100, never inf):

    l = -w [t max(log x, -100) + (1 - t) max(log(1 - x), -100)],
    dl/dx = w (x - t) / max(x (1 - x), 1e-12)   (PyTorch's: the clamp keeps it finite),
    dl/dt = w [log(1 - x) - log x]              (PyTorch's, unclamped: inf at x = 0 or 1).
    """

    def forward(self, x, t, weight=None, reduction="mean"):
        xp = array_module(x)
        t = t.astype(x.dtype, copy=False)
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped just below
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log1p(-x), -100)
        loss = -(t * log_x + (1 - t) * log_1mx)
        if weight is not None:
            loss = loss * weight
        self.weight, self.reduction, self.n, self.shape = weight, reduction, loss.size, loss.shape
        self.save_for_backward(x, t)
        return xp.asarray(_reduce(loss, reduction), dtype=x.dtype)

    def backward(self, g):
        x, t = self.saved
        xp = array_module(x)
        c = xp.asarray(_reduced_grad(g, self.reduction, self.n), dtype=x.dtype)
        if self.weight is not None:
            c = c * self.weight
        gx = xp.broadcast_to((x - t) / xp.maximum(x * (1 - x), 1e-12) * c, self.shape)
        gt = None
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                gt = xp.broadcast_to((xp.log1p(-x) - xp.log(x)) * c, self.shape)
        return gx, gt


def _check_pair(name, input, target, names=("input", "target")):
    """Wrap ``target`` like ``input`` and insist on equal shapes (a scalar target broadcasts);
    ``names`` are the two arguments' names in the messages."""
    first, second = names
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: {first} must be a Tensor, got {type(input).__name__}")
    constant = not isinstance(target, Tensor)
    target = as_tensor_like(target, (input,))
    if constant and np.issubdtype(input.dtype, np.floating) and target.dtype != input.dtype:
        # a NumPy target (float64 by default) is a constant in the input's dtype, as in
        # cross_entropy: a float32 network's loss stays float32
        target = Tensor(target.data.astype(input.dtype), _internal=True)
    if target.shape != input.shape and target.ndim > 0:
        raise ValueError(
            f"{name}: {first} {input.shape} and {second} {target.shape} must have the same shape "
            f"(a scalar {second} is broadcast; other broadcasting is refused, as it is almost "
            "always a bug, e.g. (N, 1) against (N,))"
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


def _check_positive(name, what, value, allow_zero):
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.integer | np.floating)
        or not (value >= 0 if allow_zero else value > 0)
        or not np.isfinite(value)
    ):
        expected = "a number >= 0" if allow_zero else "a number > 0"
        raise ValueError(f"{name}: {what} must be {expected}, got {value!r}")
    return float(value)


def smooth_l1_loss(input, target, *, reduction="mean", beta=1.0) -> Tensor:  # noqa: A002
    """Smooth l1 loss, as ``F.smooth_l1_loss``: quadratic, d^2 / (2 beta), where the error
    d = input - target is smaller than ``beta`` in size, |d| - beta / 2 beyond (the l1 loss
    for ``beta=0``): its gradient never exceeds 1 in size, so outliers pull no harder than
    in l1, while small errors get l2's smooth minimum."""
    name = "smooth_l1_loss"
    _check_reduction(name, reduction)
    beta = _check_positive(name, "beta", beta, allow_zero=True)
    target = _check_pair(name, input, target)
    return SmoothL1Loss.apply(input, target, reduction=reduction, beta=beta)


def huber_loss(input, target, reduction="mean", delta=1.0) -> Tensor:  # noqa: A002
    """Huber loss, as ``F.huber_loss``: d^2 / 2 where the error d = input - target is smaller
    than ``delta`` in size, delta (|d| - delta / 2) beyond; ``delta`` times
    ``smooth_l1_loss(..., beta=delta)``, so its gradient is d clipped to [-delta, delta]."""
    name = "huber_loss"
    _check_reduction(name, reduction)
    delta = _check_positive(name, "delta", delta, allow_zero=False)
    target = _check_pair(name, input, target)
    return HuberLoss.apply(input, target, reduction=reduction, delta=delta)


def one_hot(tensor, num_classes=-1) -> Tensor:
    """Class indices (integers, any shape S) as one-hot rows: an int64 tensor of shape
    (*S, num_classes) with a 1 in column ``tensor[i]`` of row i, as ``F.one_hot``. With
    ``num_classes=-1`` the number of classes is the largest index + 1. Outside the graph
    (indices have no gradient); ``.float()`` it to multiply it with probabilities."""
    data = tensor.data if isinstance(tensor, Tensor) else tensor
    xp = array_module(data)
    data = xp.asarray(data)
    if data.dtype.kind not in "iu":
        raise TypeError(
            f"one_hot: expected integer class indices, got dtype {data.dtype}; "
            "convert them with .long()"
        )
    if isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer):
        raise TypeError(f"one_hot: num_classes must be an int, got {num_classes!r}")
    lo = int(data.min()) if data.size else 0
    hi = int(data.max()) if data.size else -1
    if lo < 0:
        raise ValueError(f"one_hot: class indices must be >= 0, got {lo}")
    if num_classes == -1:
        if not data.size:
            raise ValueError(
                "one_hot: cannot infer the number of classes of an empty tensor; give num_classes"
            )
        num_classes = hi + 1
    elif num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be -1 or a positive int, got {num_classes}")
    elif hi >= num_classes:
        raise ValueError(
            f"one_hot: class index {hi} is too large for num_classes={num_classes} "
            f"(expected indices 0 to {num_classes - 1})"
        )
    out = data[..., None] == xp.arange(int(num_classes), dtype=data.dtype)
    return Tensor(out.astype(np.int64), _internal=True)


def _element_weight(name, weight, input, key="weight"):
    """``weight`` (the option ``key``) as a raw array in the input's dtype and device, refused
    unless it broadcasts to the input's shape."""
    weight = _constant(weight, input, name, key)
    if not _fits(weight.shape, input.shape):
        raise ValueError(
            f"{name}: {key} of shape {tuple(weight.shape)} does not broadcast to the input's "
            f"shape {input.shape}"
        )
    return weight


def binary_cross_entropy(input, target, weight=None, *, reduction="mean") -> Tensor:  # noqa: A002
    """Binary cross-entropy of probabilities, as ``F.binary_cross_entropy``: ``input`` holds
    probabilities in [0, 1] (a sigmoid's output), ``target`` probabilities of its shape (or a
    scalar); ``weight`` rescales each element and broadcasts against ``input``. Each log is
    clamped at -100 as PyTorch's, so a saturated sigmoid gives a loss of 100, not inf; on logits,
    ``binary_cross_entropy_with_logits`` is the stable one."""
    name = "binary_cross_entropy"
    _check_reduction(name, reduction)
    target = _check_pair(name, input, target)
    x = input.data
    xp = array_module(x)
    if x.size and not bool(xp.all((x >= 0) & (x <= 1))):
        raise ValueError(
            f"{name}: every element of the input must be a probability in [0, 1] (got values "
            f"from {float(xp.min(x))} to {float(xp.max(x))}); on logits use "
            "binary_cross_entropy_with_logits"
        )
    if weight is not None:
        weight = _element_weight(name, weight, input)
    return BCELoss.apply(input, target, weight=weight, reduction=reduction)


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
            value = _element_weight(name, value, input, key)
        consts[key] = value
    return BCEWithLogits.apply(input, target, reduction=reduction, **consts)


# --------------------------------------------------------------------------- divergences, margins


class KLDiv(Function):
    """Kullback-Leibler divergence KL(t || p) of log-probabilities x = log p from target t, per
    element (PyTorch's pointwise terms; t log t is 0 where t = 0):

    t probabilities:      l = t (log t - x),    dl/dx = -t,      dl/dt = log t + 1 - x;
    t log-probabilities:  l = e^t (t - x),      dl/dx = -e^t,    dl/dt = e^t (t - x + 1).
    """

    def forward(self, x, t, reduction="mean", log_target=False, denom=None):
        xp = array_module(x)
        t = t.astype(x.dtype, copy=False)
        if log_target:
            p_t = xp.exp(t)
            loss = p_t * (t - x)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):  # 0 log 0 = 0, masked below
                loss = xp.where(t == 0, 0, t * xp.log(t)).astype(x.dtype, copy=False) - t * x
        self.reduction, self.log_target, self.denom = reduction, log_target, denom or loss.size
        self.save_for_backward(x, t)
        return xp.asarray(_reduce(loss, reduction, self.denom), dtype=x.dtype)

    def backward(self, g):
        x, t = self.saved
        xp = array_module(x)
        c = xp.asarray(_reduced_grad(g, self.reduction, self.denom), dtype=x.dtype)
        p_t = xp.exp(t) if self.log_target else t
        gt = None
        if self.needs_input_grad[1]:
            if self.log_target:
                gt = p_t * (t - x + 1) * c
            else:
                with np.errstate(divide="ignore"):  # -inf at t = 0: the slope of t log t there
                    gt = (xp.log(t) + 1 - x) * c
        return -p_t * c, gt


class MarginRanking(Function):
    """l = max(0, -y (a - b) + margin), y = 1 where a should rank higher, -1 where b should;
    where -y (a - b) + margin >= 0 (at 0 too, as PyTorch's clamp_min):
    dl/da = -y,  dl/db = y,  dl/dy = -(a - b);  0 elsewhere."""

    def forward(self, a, b, y, margin=0.0, reduction="mean"):
        xp = array_module(a)
        u = -y * (a - b) + margin
        active = u >= 0
        self.reduction, self.n = reduction, u.size
        self.save_for_backward(a - b, y, active)
        return xp.asarray(_reduce(xp.maximum(u, 0), reduction), dtype=a.dtype)

    def backward(self, g):
        d, y, active = self.saved
        c = _reduced_grad(g, self.reduction, self.n) * active
        ga = (-y * c).astype(g.dtype, copy=False)
        gy = -d * c if self.needs_input_grad[2] else None
        return ga, (-ga if self.needs_input_grad[1] else None), gy


class SoftMargin(Function):
    """Logistic loss of x against labels y = 1 or -1:  l = log(1 + e^(-y x)) (stable: softplus
    of -y x);  dl/dx = -y sigmoid(-y x),  dl/dy = -x sigmoid(-y x)."""

    def forward(self, x, y, reduction="mean"):
        xp = array_module(x)
        y = y.astype(x.dtype, copy=False)
        m = y * x
        self.reduction, self.n = reduction, m.size
        self.save_for_backward(x, y, m)
        return xp.asarray(_reduce(_softplus_neg(xp, m), reduction), dtype=x.dtype)

    def backward(self, g):
        x, y, m = self.saved
        xp = array_module(x)
        c = -_stable_sigmoid(xp, -m) * _reduced_grad(g, self.reduction, self.n)
        return (y * c).astype(g.dtype, copy=False), (x * c if self.needs_input_grad[1] else None)


class PoissonNLL(Function):
    """Negative log-likelihood of counts t under a Poisson of rate r (the constant log t!
    dropped, or with ``full`` its Stirling approximation t log t - t + log(2 pi t) / 2 added
    where t > 1):

    log_input (x = log r):  l = e^x - t x,            dl/dx = e^x - t,   dl/dt = -x;
    else (x = r):           l = x - t log(x + eps),   dl/dx = 1 - t / (x + eps),
                                                       dl/dt = -log(x + eps);
    the Stirling term adds dl/dt = log t + 1 / (2 t) where t > 1.
    """

    def forward(self, x, t, log_input=True, full=False, eps=1e-8, reduction="mean"):
        xp = array_module(x)
        t = t.astype(x.dtype, copy=False)
        if log_input:
            loss = xp.exp(x) - t * x
        else:
            loss = x - t * xp.log(x + eps)
        if full:
            big = t > 1
            ts = xp.where(big, t, 1)  # no log of 0 or a negative count in the masked-out part
            stirling = ts * xp.log(ts) - ts + 0.5 * xp.log(2 * math.pi * ts)
            loss = loss + xp.where(big, stirling, 0).astype(x.dtype, copy=False)
        self.log_input, self.full, self.eps = log_input, full, eps
        self.reduction, self.n = reduction, loss.size
        self.save_for_backward(x, t)
        return xp.asarray(_reduce(loss, reduction), dtype=x.dtype)

    def backward(self, g):
        x, t = self.saved
        xp = array_module(x)
        c = xp.asarray(_reduced_grad(g, self.reduction, self.n), dtype=x.dtype)
        if self.log_input:
            gx, gt = xp.exp(x) - t, -x
        else:
            gx, gt = 1 - t / (x + self.eps), -xp.log(x + self.eps)
        if self.needs_input_grad[1] and self.full:
            big = t > 1
            ts = xp.where(big, t, 1)
            gt = gt + xp.where(big, xp.log(ts) + 0.5 / ts, 0)
        return gx * c, (gt * c if self.needs_input_grad[1] else None)


class CosineSimilarity(Function):
    """s = a.b / (n_a n_b) along ``axis``, n_a = max(||a||, eps), n_b = max(||b||, eps) (each
    norm clamped, as PyTorch's, so that s stays in [-1, 1]);
    ds/da = b / (n_a n_b) - (s / n_a) a / ||a||   (the clamp not differentiated, as PyTorch's;
    a / ||a|| is 0 where a = 0), and the same with a and b exchanged."""

    def forward(self, a, b, axis=1, eps=1e-8):
        xp = array_module(a)
        a, b = xp.broadcast_arrays(a, b)
        norm_a = xp.sqrt((a * a).sum(axis=axis, keepdims=True))
        norm_b = xp.sqrt((b * b).sum(axis=axis, keepdims=True))
        n_a, n_b = xp.maximum(norm_a, eps), xp.maximum(norm_b, eps)
        s = (a * b).sum(axis=axis, keepdims=True) / (n_a * n_b)
        self.axis = axis
        self.save_for_backward(a, b, norm_a, norm_b, n_a, n_b, s)
        return s.squeeze(axis)

    def backward(self, g):
        a, b, norm_a, norm_b, n_a, n_b, s = self.saved
        xp = array_module(a)
        g = xp.expand_dims(g, self.axis)
        grads = []
        for i, (x, y, norm_x, n_x, n_y) in enumerate(
            ((a, b, norm_a, n_a, n_b), (b, a, norm_b, n_b, n_a))
        ):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            unit = x / xp.where(norm_x == 0, 1, norm_x)  # 0 where x = 0
            grads.append(g * (y / (n_x * n_y) - (s / n_x) * unit))
        return tuple(grads)


def _check_kl_reduction(name, reduction):
    if reduction not in (*REDUCTIONS, "batchmean"):
        raise ValueError(
            f"{name}: reduction must be one of 'mean', 'batchmean', 'sum', 'none', got "
            f"{reduction!r}"
        )


KL_MEAN_WARNING = (
    "kl_div: reduction='mean' divides the total loss by both the batch size and the number of "
    "classes; 'batchmean' divides by the batch size alone, which is the KL divergence's "
    "definition. 'mean' is kept as PyTorch computes it (and PyTorch warns the same)."
)


def kl_div(input, target, *, reduction="mean", log_target=False) -> Tensor:  # noqa: A002
    """Kullback-Leibler divergence KL(target || p) from the log-probabilities ``input`` = log p
    (a ``log_softmax``'s output) to ``target`` (probabilities, or with ``log_target=True``
    log-probabilities), as ``F.kl_div``: per element target (log target - input).

    ``reduction='batchmean'`` is the divergence itself, averaged over the batch: the sum over
    everything divided by ``input.shape[0]``. The default 'mean' divides by every element, the
    batch size times the number of classes, as PyTorch's does, and warns as PyTorch's does
    (``KL_MEAN_WARNING``); 'sum' and 'none' as in the other losses. A target of 0 contributes
    0 (0 log 0 = 0); its own gradient there, if it needs one, is log 0 = -inf (PyTorch's nan)."""
    name = "kl_div"
    _check_kl_reduction(name, reduction)
    target = _check_pair(name, input, target)
    denom = None
    if reduction == "mean":
        warnings.warn(KL_MEAN_WARNING, UserWarning, stacklevel=2)
    elif reduction == "batchmean":
        reduction = "mean" if input.ndim else "sum"
        denom = input.shape[0] if input.ndim else None
    return KLDiv.apply(input, target, reduction=reduction, log_target=bool(log_target), denom=denom)


def cosine_similarity(x1, x2, dim=1, eps=1e-8) -> Tensor:
    """The cosine of the angle between ``x1`` and ``x2`` along ``dim``, as
    ``F.cosine_similarity``: x1.x2 / (max(||x1||, eps) max(||x2||, eps)), in [-1, 1]. The two
    broadcast together; ``dim`` is removed from their common shape."""
    name = "cosine_similarity"
    for what, x in (("x1", x1), ("x2", x2)):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: {what} must be a Tensor, got {type(x).__name__}")
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ValueError(
            f"{name}: x1 {x1.shape} and x2 {x2.shape} do not broadcast together"
        ) from None
    if not -len(shape) <= dim < max(len(shape), 1) or not shape:
        raise ValueError(
            f"{name}: dim {dim} is out of range for the inputs' shape {shape} (broadcast)"
        )
    return CosineSimilarity.apply(x1, x2, axis=dim % len(shape), eps=float(eps))


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False) -> Tensor:
    """The p-norm distance ||x1 - x2 + eps||_p along the last axis of each pair of rows, as
    ``F.pairwise_distance`` (``eps`` keeps the gradient finite where x1 = x2). Composed of
    ``norm`` as PyTorch's is, so any p that ``norm`` takes."""
    for what, x in (("x1", x1), ("x2", x2)):
        if not isinstance(x, Tensor):
            raise TypeError(f"pairwise_distance: {what} must be a Tensor, got {type(x).__name__}")
    if x1.ndim == 0 and x2.ndim == 0:
        raise ValueError("pairwise_distance: expected vectors (..., D), got two 0-d tensors")
    return norm(x1 - x2 + eps, p, dim=-1, keepdim=keepdim)


def margin_ranking_loss(input1, input2, target, margin=0.0, *, reduction="mean") -> Tensor:
    """Ranking loss, as ``F.margin_ranking_loss``: max(0, -target (input1 - input2) + margin),
    with ``target`` 1 where input1 should rank higher, -1 where input2 should; the three of one
    shape (a scalar target broadcasts)."""
    name = "margin_ranking_loss"
    _check_reduction(name, reduction)
    input2 = _check_pair(name, input1, input2, ("input1", "input2"))
    target = _check_pair(name, input1, target, ("input1", "target"))
    return MarginRanking.apply(input1, input2, target, margin=float(margin), reduction=reduction)


def soft_margin_loss(input, target, *, reduction="mean") -> Tensor:  # noqa: A002
    """Two-class logistic loss, as ``F.soft_margin_loss``: log(1 + e^(-target input)), with
    ``target`` 1 or -1 of the input's shape; stable for any input."""
    _check_reduction("soft_margin_loss", reduction)
    target = _check_pair("soft_margin_loss", input, target)
    return SoftMargin.apply(input, target, reduction=reduction)


def poisson_nll_loss(
    input,  # noqa: A002
    target,
    log_input=True,
    full=False,
    *,
    eps=1e-8,
    reduction="mean",
) -> Tensor:
    """Negative log-likelihood of counts ``target`` under a Poisson distribution, as
    ``F.poisson_nll_loss``: exp(input) - target input where ``input`` is the log of the rate
    (``log_input=True``), input - target log(input + eps) where it is the rate itself;
    ``full=True`` adds Stirling's approximation of log(target!) where target > 1."""
    name = "poisson_nll_loss"
    _check_reduction(name, reduction)
    target = _check_pair(name, input, target)
    return PoissonNLL.apply(
        input,
        target,
        log_input=bool(log_input),
        full=bool(full),
        eps=float(eps),
        reduction=reduction,
    )
