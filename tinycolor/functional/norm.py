"""Batch normalisation (Ioffe and Szegedy, 2015) and layer normalisation (Ba, Kiros and Hinton,
2016), with hand-derived backward passes; instance normalisation (Ulyanov, Vedaldi and
Lempitsky, 2016) and group normalisation (Wu and He, 2018) as batch normalisation of a reshaped
view, so they share its backward pass."""

from __future__ import annotations

import math
import numbers

from .. import backend
from ..autograd import Function, Tensor
from .reduce import channel_sum, norm

__all__ = [
    "OneValuePerChannelError",
    "batch_norm",
    "group_norm",
    "instance_norm",
    "layer_norm",
    "normalize",
]


class OneValuePerChannelError(ValueError):
    """``batch_norm`` in training given one value per channel (one sample on a 1x1 map, as
    PyTorch refuses too): its variance would be 0 and its output 0. ``train`` names the
    batch size that led there."""


class BatchNorm(Function):
    """Per channel c, over the m = N*H*W values of the batch (N for an (N, C) input):

        mu = mean x,   var = mean (x - mu)^2 (biased),   xhat = (x - mu) / sqrt(var + eps),
        y = gamma xhat + beta.

    In training, mu and var are the batch's own, so every x moves every xhat of its channel.
    With g = dL/dy, the standard closed form (Ioffe and Szegedy, 2015, section 3) is

        dL/dbeta  = sum g,      dL/dgamma = sum g xhat,
        dL/dx     = gamma / sqrt(var + eps) * (g - mean g - xhat * mean(g xhat)),

    the two means removing the parts of g that a shift or a scaling of the whole channel would
    absorb. In evaluation mu and var are the running statistics (constants), so
    dL/dx = gamma g / sqrt(var + eps).

    The inputs are x, then gamma if ``affine[0]``, then beta if ``affine[1]``; the running
    statistics are options, updated in place during training:
    running = (1 - momentum) running + momentum * batch statistic, the variance unbiased
    (m / (m - 1) times the biased one), as PyTorch. An empty batch (m = 0) gives an empty y
    and leaves them as they are, as PyTorch's (its gradients are empty, and 0 for gamma and
    beta).
    """

    def forward(self, x, *params, affine, running_mean, running_var, training, momentum, eps):
        xp = backend.array_module(x)
        c = x.shape[1]
        bshape = (1, c) + (1,) * (x.ndim - 2)  # broadcasts a per-channel vector over x
        params = list(params)
        gamma = params.pop(0).reshape(bshape) if affine[0] else None
        beta = params.pop(0).reshape(bshape) if affine[1] else None
        if training and not x.size:  # an empty batch: no statistics to normalise by or keep
            xc, inv_std = x, xp.ones(bshape, dtype=x.dtype)
        elif training:
            m = x.size // c
            mu = channel_sum(x) / m
            xc = x - mu.reshape(bshape)
            var = _channel_dot(xc, xc) / m  # biased
            inv_std = (1.0 / xp.sqrt(var + eps)).astype(x.dtype, copy=False).reshape(bshape)
            if running_mean is not None:
                running_mean *= 1.0 - momentum
                running_mean += momentum * mu
            if running_var is not None:
                running_var *= 1.0 - momentum
                running_var += (momentum * m / (m - 1)) * var
        else:
            mu = running_mean.reshape(bshape).astype(x.dtype, copy=False)
            var = running_var.reshape(bshape).astype(x.dtype, copy=False)
            inv_std = 1.0 / xp.sqrt(var + eps)
            xc = x - mu
        # y = gamma xhat + beta = xc (gamma / sqrt(var + eps)) + beta: xhat itself is never
        # formed (one pass fewer); the backward pass reads it as xc * inv_std.
        y = xc * (inv_std if gamma is None else gamma * inv_std)
        if beta is not None:
            y += beta
        self.affine, self.training = affine, training
        self.save_for_backward(xc, inv_std, gamma)
        return y

    def backward(self, g):
        xc, inv_std, gamma = self.saved  # xhat = xc * inv_std
        c = g.shape[1]
        bshape = (1, c) + (1,) * (g.ndim - 2)
        m = max(g.size // max(c, 1), 1)  # (an empty batch's means of nothing: its sums, 0)
        need_x = self.needs_input_grad[0]
        need_gamma = self.affine[0] and self.needs_input_grad[1]
        need_beta = self.affine[1] and self.needs_input_grad[-1]
        sum_g = channel_sum(g) if (need_beta or (need_x and self.training)) else None
        sum_g_xhat = None
        if need_gamma or (need_x and self.training):
            sum_g_xhat = _channel_dot(g, xc) * inv_std.reshape(c)
        gx = None
        if need_x:
            scale = inv_std if gamma is None else gamma * inv_std
            if self.training:
                # g - mean g - xhat mean(g xhat), with one full-size array
                gx = xc * (inv_std * (sum_g_xhat / m).reshape(bshape))
                backend.array_module(g).subtract(g, gx, out=gx)
                gx -= (sum_g / m).reshape(bshape)
                gx *= scale
            else:
                gx = g * scale
        grads = [gx]
        if self.affine[0]:
            grads.append(sum_g_xhat if need_gamma else None)
        if self.affine[1]:
            grads.append(sum_g if need_beta else None)
        return tuple(grads)


def _channel_dot(a, b):
    """sum over every axis but 1 of a * b, as (C,), without forming a * b: one dot product
    per (n, c) row, through matmul where the rows are long enough for BLAS to pay (twice as
    fast as einsum from 256 values a row, slower below 64)."""
    n, c = a.shape[:2]
    xp = backend.array_module(a)
    length = math.prod(a.shape[2:])
    if length >= 64:
        dots = xp.matmul(a.reshape(n, c, 1, length), b.reshape(n, c, length, 1))
        return dots.reshape(n, c).sum(axis=0)
    return xp.einsum("ncl,ncl->c", a.reshape(n, c, length), b.reshape(n, c, length))


def _stat_array(v, name, c, x, op="batch_norm"):
    """The raw array behind a running statistic, checked to be a (C,) array on x's device."""
    if v is None:
        return None
    arr = v.data if isinstance(v, Tensor) else v
    if not hasattr(arr, "shape") or tuple(arr.shape) != (c,):
        got = tuple(arr.shape) if hasattr(arr, "shape") else type(arr).__name__
        raise ValueError(
            f"{op}: {name} must have shape ({c},), one value per channel of the input of shape "
            f"{tuple(x.shape)}, got {got}"
        )
    if backend.device_of(arr) != x.device:
        raise backend.DeviceError(
            f"{op}: {name} is on {backend.device_of(arr)} but the input is on {x.device}; "
            "move them to one device"
        )
    return arr


def batch_norm(
    input,  # noqa: A002 - PyTorch's name
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training=False,
    momentum=0.1,
    eps=1e-5,
) -> Tensor:
    """Batch normalisation of an (N, C) or (N, C, H, W) tensor (any (N, C, ...) works), as
    ``torch.nn.functional.batch_norm``.

    ``running_mean`` and ``running_var`` are (C,) arrays or Tensors (or None, to keep no
    running statistics in training). With ``training=True`` the batch's mean and biased
    variance normalise ``input`` and the running statistics are updated IN PLACE with
    ``momentum`` (the variance unbiased); with ``training=False`` the running statistics
    normalise it.
    ``weight`` (gamma) and ``bias`` (beta) are (C,) tensors or None (1 and 0). An empty
    batch (N = 0) gives an empty output and, in training, leaves the running statistics as
    they are (PyTorch's).
    """
    op = "batch_norm"
    x = input if isinstance(input, Tensor) else Tensor(input, _internal=True)
    if x.ndim < 2:
        raise ValueError(f"{op}: expected an input of shape (N, C) or (N, C, ...), got {x.shape}")
    c = x.shape[1]
    rm = _stat_array(running_mean, "running_mean", c, x)
    rv = _stat_array(running_var, "running_var", c, x)
    if training:
        if x.size // max(c, 1) == 1:  # (none at all is an empty batch: an empty output)
            raise OneValuePerChannelError(
                f"{op}: expected more than 1 value per channel when training, got input of shape "
                f"{x.shape}"
            )
    elif rm is None or rv is None:
        raise ValueError(f"{op}: running_mean and running_var are needed when training=False")
    if (
        isinstance(momentum, bool)
        or not isinstance(momentum, numbers.Real)
        or not 0 <= momentum <= 1
    ):
        raise ValueError(f"{op}: momentum must be a number in [0, 1], got {momentum!r}")
    params = []
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None:
            _stat_array(p, name, c, x)
            params.append(p)
    return BatchNorm.apply(
        x,
        *params,
        affine=(weight is not None, bias is not None),
        running_mean=rm,
        running_var=rv,
        training=bool(training),
        momentum=float(momentum),
        eps=float(eps),
    )


def _normalize_rows(
    x, rows, length, *params, running_mean=None, running_var=None, momentum=0.1, eps
):
    """x normalised by the batch statistics of each of ``rows`` equal slices of ``length`` of
    its flattened values (N*C instances, or N*G groups): batch norm in training mode of the
    view x.reshape(1, rows, length), whose channels are those slices, so its hand-derived
    backward pass serves unchanged. ``params`` are a (rows,) gamma and beta (both or neither);
    the running statistics, (rows,) arrays, are updated in place (an empty x leaves them)."""
    y = BatchNorm.apply(
        x.reshape(1, rows, length),
        *params,
        affine=(bool(params), bool(params)),
        running_mean=running_mean,
        running_var=running_var,
        training=True,
        momentum=momentum,
        eps=eps,
    )
    return y.reshape(x.shape)


def _affine_params(op, weight, bias, c, x):
    """weight and bias checked to be (C,) (None stays None), as tensors on x's device."""
    out = []
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None:
            _stat_array(p, name, c, x, op)
            p = p if isinstance(p, Tensor) else Tensor(p, _internal=True)
        out.append(p)
    return out


def instance_norm(
    input,  # noqa: A002 - PyTorch's name
    running_mean=None,
    running_var=None,
    weight=None,
    bias=None,
    use_input_stats=True,
    momentum=0.1,
    eps=1e-5,
) -> Tensor:
    """Instance normalisation of an (N, C, ...) tensor, as ``torch.nn.functional.instance_norm``
    (the normalisation of pix2pix's and CycleGAN's generators, and of style transfer): each
    image's each channel normalised by its own mean and biased variance over the spatial axes,

        y[n, c] = (x[n, c] - mean x[n, c]) / sqrt(var x[n, c] + eps) * weight[c] + bias[c].

    It is batch norm of x viewed as (1, N*C, H*W), so it shares batch norm's backward pass.
    With ``use_input_stats=False`` the (C,) running statistics normalise instead (batch norm in
    evaluation). When running statistics are given and ``use_input_stats`` is True they move
    IN PLACE by ``momentum`` towards the mean over the batch of each image's statistics (the
    variance unbiased), as PyTorch's. ``weight`` and ``bias`` are (C,) tensors or None. An
    empty batch (N = 0) gives an empty output and leaves the running statistics."""
    op = "instance_norm"
    x = input if isinstance(input, Tensor) else Tensor(input, _internal=True)
    if x.ndim < 3:
        raise ValueError(
            f"{op}: expected an input of shape (N, C, L), (N, C, H, W) or (N, C, D, H, W), got "
            f"{x.shape}"
        )
    n, c = x.shape[:2]
    rm = _stat_array(running_mean, "running_mean", c, x, op)
    rv = _stat_array(running_var, "running_var", c, x, op)
    weight, bias = _affine_params(op, weight, bias, c, x)
    if (
        isinstance(momentum, bool)
        or not isinstance(momentum, numbers.Real)
        or not 0 <= momentum <= 1
    ):
        raise ValueError(f"{op}: momentum must be a number in [0, 1], got {momentum!r}")
    if not use_input_stats:
        if rm is None or rv is None:
            raise ValueError(
                f"{op}: running_mean and running_var are needed when use_input_stats=False"
            )
        return batch_norm(x, rm, rv, weight, bias, False, momentum, eps)
    if math.prod(x.shape[2:]) <= 1:
        raise ValueError(
            f"{op}: expected more than 1 spatial element when training, got input of shape "
            f"{x.shape}"
        )
    xp = backend.array_module(x.data)
    # the (C,) statistics and parameters stand for every image: tiled to the N*C rows
    rows_mean = None if rm is None else xp.tile(rm, n)
    rows_var = None if rv is None else xp.tile(rv, n)
    params = []
    if weight is not None or bias is not None:
        if weight is None:
            weight = Tensor(xp.ones(c, dtype=x.dtype), _internal=True)
        if bias is None:
            bias = Tensor(xp.zeros(c, dtype=x.dtype), _internal=True)
        params = [weight.repeat(n), bias.repeat(n)]
    y = _normalize_rows(
        x,
        n * c,
        math.prod(x.shape[2:]),
        *params,
        running_mean=rows_mean,
        running_var=rows_var,
        momentum=float(momentum),
        eps=float(eps),
    )
    if rm is not None and n:  # the mean over the batch of the per-image updates, as PyTorch's
        rm[...] = rows_mean.reshape(n, c).mean(axis=0)
    if rv is not None and n:
        rv[...] = rows_var.reshape(n, c).mean(axis=0)
    return y


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5) -> Tensor:  # noqa: A002
    """Group normalisation of an (N, C, ...) tensor, as ``torch.nn.functional.group_norm``: the
    C channels split into ``num_groups`` groups of C / num_groups consecutive channels, each
    image's each group normalised by the mean and biased variance of its values (channels and
    spatial positions together), then scaled and shifted per channel:

        y[n, c] = (x[n, c] - mean_g) / sqrt(var_g + eps) * weight[c] + bias[c],   g = group of c.

    One group is layer norm over (C, H, W); C groups are instance norm. The same in training
    and evaluation (no running statistics). The normalisation is batch norm of x viewed as
    (1, N * num_groups, -1), sharing its backward pass; ``weight`` and ``bias`` are (C,)
    tensors or None. An empty batch (N = 0) gives an empty output."""
    op = "group_norm"
    x = input if isinstance(input, Tensor) else Tensor(input, _internal=True)
    if x.ndim < 2:
        raise ValueError(f"{op}: expected an input of shape (N, C) or (N, C, ...), got {x.shape}")
    n, c = x.shape[:2]
    if (
        isinstance(num_groups, bool)
        or not isinstance(num_groups, numbers.Integral)
        or num_groups < 1
        or c % num_groups
    ):
        raise ValueError(
            f"{op}: expected the number of channels of the input to be divisible by "
            f"num_groups, got input of shape {x.shape} and num_groups={num_groups!r}"
        )
    weight, bias = _affine_params(op, weight, bias, c, x)
    length = c // int(num_groups) * math.prod(x.shape[2:])
    y = _normalize_rows(x, n * int(num_groups), length, eps=float(eps))
    bshape = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(bshape)
    if bias is not None:
        y = y + bias.reshape(bshape)
    return y


class LayerNorm(Function):
    """Over the last k axes of x (``normalized_shape``), for each of the leading positions, with
    the m values of those axes (Ba, Kiros and Hinton, 2016):

        mu = mean x,   var = mean (x - mu)^2 (biased),   xhat = (x - mu) / sqrt(var + eps),
        y = gamma xhat + beta   (gamma, beta of the normalized shape, broadcast).

    The same closed form as batch norm's, the means taken over the normalized axes instead
    of the batch: with h = g gamma (g = dL/dy),

        dL/dx = (h - mean h - xhat mean(h xhat)) / sqrt(var + eps),
        dL/dgamma = sum over the leading axes of g xhat,   dL/dbeta = the same sum of g.

    The inputs are x, then gamma if ``affine[0]``, then beta if ``affine[1]``."""

    def forward(self, x, *params, k, affine, eps):
        xp = backend.array_module(x)
        axes = tuple(range(x.ndim - k, x.ndim))
        params = list(params)
        gamma = params.pop(0) if affine[0] else None
        beta = params.pop(0) if affine[1] else None
        xc = x - x.mean(axis=axes, keepdims=True)
        var = (xc * xc).mean(axis=axes, keepdims=True)
        inv_std = (1.0 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat = xc * inv_std
        y = xhat if gamma is None else xhat * gamma
        if beta is not None:
            y = y + beta
        self.axes, self.affine = axes, affine
        self.save_for_backward(xhat, inv_std, gamma)
        return y

    def backward(self, g):
        xhat, inv_std, gamma = self.saved
        lead = tuple(range(g.ndim - len(self.axes)))
        gx = None
        if self.needs_input_grad[0]:
            h = g if gamma is None else g * gamma
            gx = inv_std * (
                h
                - h.mean(axis=self.axes, keepdims=True)
                - xhat * (h * xhat).mean(axis=self.axes, keepdims=True)
            )
        grads = [gx]
        if self.affine[0]:
            grads.append((g * xhat).sum(axis=lead) if self.needs_input_grad[1] else None)
        if self.affine[1]:
            grads.append(g.sum(axis=lead) if self.needs_input_grad[-1] else None)
        return tuple(grads)


def layer_norm(
    input,  # noqa: A002 - PyTorch's name
    normalized_shape,
    weight=None,
    bias=None,
    eps=1e-5,
) -> Tensor:
    """Layer normalisation, as ``torch.nn.functional.layer_norm``: each position of ``input``
    normalised over its last ``len(normalized_shape)`` axes, which must be ``normalized_shape``
    (an int for one axis), by the mean and biased variance of those values alone (no running
    statistics: training and evaluation are the same). ``weight`` (gamma) and ``bias`` (beta)
    are tensors of ``normalized_shape`` or None (1 and 0)."""
    op = "layer_norm"
    x = input if isinstance(input, Tensor) else Tensor(input, _internal=True)
    shape = (
        (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else normalized_shape
    )
    shape = tuple(int(n) for n in shape)
    k = len(shape)
    if not k or x.ndim < k or tuple(x.shape[x.ndim - k :]) != shape:
        raise ValueError(
            f"{op}: expected an input whose last dimensions are normalized_shape {shape}, got "
            f"shape {x.shape}"
        )
    params = []
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None:
            arr = p.data if isinstance(p, Tensor) else p
            if not hasattr(arr, "shape"):
                raise TypeError(
                    f"{op}: {name} must be a Tensor of normalized_shape {shape}, got "
                    f"{type(p).__name__}"
                )
            if tuple(arr.shape) != shape:
                raise ValueError(
                    f"{op}: {name} must have normalized_shape {shape}, got {tuple(arr.shape)}"
                )
            params.append(p)
    return LayerNorm.apply(
        x, *params, k=k, affine=(weight is not None, bias is not None), eps=float(eps)
    )


def normalize(input, p=2.0, dim=1, eps=1e-12) -> Tensor:  # noqa: A002 - PyTorch's name
    """``input`` divided by its p-norm along ``dim``, as ``F.normalize``: x / max(||x||_p, eps),
    unit vectors for cosine similarity and embeddings. Composed of ``norm``, ``clamp`` and a
    division as PyTorch's is, so its gradient is PyTorch's too (a vector whose norm is below
    ``eps`` is divided by ``eps``, and its gradient is that of x / eps)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"normalize: input must be a Tensor, got {type(input).__name__}")
    return input / norm(input, p, dim=dim, keepdim=True).clamp(min=eps)
