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
"""

from __future__ import annotations

import math

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
    """The gain that keeps the variance of activations through ``nonlinearity``."""
    linear = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose2d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


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
    """U(-b, b), b = gain * sqrt(3 / fan)  (He et al., 2015); ``a`` is the leaky slope."""
    gain = calculate_gain(nonlinearity, a)
    bound = gain * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """N(0, std^2), std = gain / sqrt(fan)."""
    gain = calculate_gain(nonlinearity, a)
    return normal_(tensor, 0.0, gain / math.sqrt(_fan(tensor, mode)))


def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2014), as PyTorch's: the weight
    seen as (shape[0], the rest), its rows orthonormal when there are fewer rows than columns,
    else its columns. Drawn as PyTorch draws it: the Q of the QR decomposition of a matrix of
    N(0, 1) samples (transposed when wide), its columns' signs set by diag(R) so that Q is
    uniform over the orthogonal matrices."""
    if len(tensor.shape) < 2:
        raise ValueError(
            f"orthogonal_: only tensors with 2 or more dimensions are supported, got shape "
            f"{tuple(tensor.shape)}"
        )
    rows = tensor.shape[0]
    cols = math.prod(tensor.shape) // rows if rows else 0
    if rows == 0 or cols == 0:
        return tensor
    flat = backend.rng("cpu").normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


def default_weight_and_bias_(weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's default for Linear and Conv layers: kaiming_uniform_(a=sqrt(5)) for the
    weight, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = calculate_fan_in_and_fan_out(weight)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound)
