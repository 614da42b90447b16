"""Initialisation schemes, filling a tensor in place (the trailing ``_`` says so, as in PyTorch).

Every random number is drawn on the CPU from ``tinycolor.backend.rng('cpu')`` and then copied
to the tensor's device, so ``tinycolor.manual_seed(n)`` gives the same initial weights on the
CPU and on the GPU.

Fans, for a weight of shape (out, in, kh, kw) (a Linear weight is (out, in)):
``fan_in = in * kh * kw`` and ``fan_out = out * kh * kw``. PyTorch computes them from the
first two axes whatever the layer, so a ConvTranspose2d weight, stored (in, out, kh, kw),
gets ``fan_in = out * kh * kw``; we do the same, to match its defaults.

* Xavier/Glorot (2010): Var(w) = 2 / (fan_in + fan_out), keeping activations and gradients at
  the same scale through tanh-like layers: ``U(-b, b)`` with
  b = gain * sqrt(6 / (fan_in + fan_out)).
* Kaiming/He (2015): Var(w) = gain^2 / fan, for ReLU-like layers: ``U(-b, b)`` with
  b = gain * sqrt(3 / fan), gain = sqrt(2 / (1 + a^2)) for a leaky ReLU of slope ``a``.
  PyTorch's default for Linear and Conv is kaiming_uniform_ with a = sqrt(5), i.e.
  b = 1 / sqrt(fan_in).
* Orthogonal (Saxe et al., 2014): the weight, as a (rows, rest) matrix, has orthonormal rows
  (or columns, if there are fewer of them) times ``gain``: every singular value is ``gain``.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import backend
from ..autograd import Tensor, no_grad


def calculate_fan_in_and_fan_out(tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of at least 2 dimensions, computed as PyTorch does."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dimensions, got {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The gain that keeps the variance of activations through ``nonlinearity``, for PyTorch's
    names: 'linear', 'conv1d' ... 'conv_transpose3d', 'sigmoid', 'tanh', 'relu', 'leaky_relu'
    (``param``, the negative slope, 0.01 by default) and 'selu'."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d")
    if nonlinearity in (*linear, "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is not None and (isinstance(param, bool) or not isinstance(param, numbers.Real)):
            raise ValueError(
                f"calculate_gain: negative_slope {param!r} not a valid number (leaky_relu's "
                "param is its negative slope, a float, or None for 0.01)"
            )
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of "
        f"{', '.join(linear)}, conv_transpose3d, sigmoid, tanh, relu, leaky_relu, selu"
    )


def _fan(tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    """Write CPU ``values`` into ``tensor`` on its device, in its dtype, outside the graph.

    ``tensor`` may also be the raw array behind one, as PyTorch code passes ``m.weight.data``
    (its DCGAN tutorial's ``nn.init.normal_(m.weight.data, 0.0, 0.02)``): it is filled in
    place, which fills the parameter (a write through ``.data``, uncounted by the engine)."""
    if not isinstance(tensor, Tensor):
        tensor[...] = backend.to_device(values.astype(tensor.dtype), backend.device_of(tensor))
        return tensor
    with no_grad():
        tensor.data[...] = backend.to_device(values.astype(tensor.dtype), tensor.device)
    tensor._bump_version()  # a graph that saved the old values can no longer backward
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with samples of U(a, b)."""
    return _fill(tensor, backend.rng("cpu").uniform(a, b, size=tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with samples of N(mean, std^2)."""
    return _fill(tensor, backend.rng("cpu").normal(mean, std, size=tensor.shape))


def trunc_normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0
) -> Tensor:
    """Fill with samples of N(mean, std^2) truncated to [a, b], as PyTorch's ``trunc_normal_``
    (a transformer's ``trunc_normal_(w, std=0.02)``): the cut-offs ``a`` and ``b`` are values,
    not multiples of ``std`` (with std=0.02 the defaults cut nothing). Samples outside are drawn
    again until inside: the exact truncated distribution."""
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a} and b={b}")
    if not std > 0:
        raise ValueError(f"trunc_normal_: std must be positive, got {std}")

    def cdf(x):
        return 0.5 * (1 + math.erf((x - mean) / (std * math.sqrt(2))))

    if cdf(b) - cdf(a) < 1e-6:
        raise ValueError(
            f"trunc_normal_: [a, b] = [{a}, {b}] holds almost none of N({mean}, {std}^2) (a "
            "fraction below 1e-6); give cut-offs within a few std of the mean"
        )
    gen = backend.rng("cpu")
    values = gen.normal(mean, std, size=tensor.shape)
    out = (values < a) | (values > b)
    while out.any():
        values[out] = gen.normal(mean, std, size=int(out.sum()))
        out = (values < a) | (values > b)
    return _fill(tensor, values)


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _fill(tensor, np.full(tensor.shape, val))


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out))  (Glorot & Bengio, 2010)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """U(-b, b), b = gain * sqrt(3 / fan)  (He et al., 2015); ``a`` is the leaky slope. A
    zero-element tensor is returned as it is, with a warning, as PyTorch's."""
    if 0 in tuple(tensor.shape):  # no fan to scale by: nothing to fill, as PyTorch
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    gain = calculate_gain(nonlinearity, a)
    bound = gain * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """N(0, std^2), std = gain / sqrt(fan); a zero-element tensor is returned as it is."""
    if 0 in tuple(tensor.shape):  # no fan to scale by: nothing to fill, as PyTorch
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    gain = calculate_gain(nonlinearity, a)
    return normal_(tensor, 0.0, gain / math.sqrt(_fan(tensor, mode)))


def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """A (semi-)orthogonal matrix times ``gain``, as PyTorch's ``orthogonal_`` (its
    super-resolution example's ``init.orthogonal_(conv.weight, init.calculate_gain('relu'))``).

    The weight is seen as a (rows, cols) matrix, rows = its first axis: with rows <= cols its
    rows are orthonormal (W W^T = gain^2 I), else its columns (W^T W = gain^2 I). Drawn as
    PyTorch does: the Q of the QR decomposition of a standard normal matrix, its columns' signs
    set by R's diagonal, so that Q is uniform over the orthogonal matrices."""
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(
            f"orthogonal_: the tensor needs at least 2 dimensions (a matrix), got shape {shape}"
        )
    rows = shape[0]
    cols = math.prod(shape[1:])
    if rows == 0 or cols == 0:
        return tensor
    a = backend.rng("cpu").standard_normal((rows, cols))
    if rows < cols:
        a = a.T
    q, r = np.linalg.qr(a)
    q *= np.where(np.diag(r) < 0, -1.0, 1.0)  # sign(0) taken as 1: Q stays orthogonal
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(shape))


def default_weight_and_bias_(weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's default for Linear and Conv layers: kaiming_uniform_(a=sqrt(5)) for the
    weight, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = calculate_fan_in_and_fan_out(weight)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound)
