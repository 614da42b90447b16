"""The layers: modules that hold parameters (Linear, Bilinear, Conv1d/2d, ConvTranspose1d/2d,
BatchNorm, InstanceNorm, GroupNorm, PReLU) and modules that wrap an op (pooling, upsampling,
padding, dropout, activations).

Each layer checks its input's shape and names itself, what it expected and what it got, then
calls the op in ``tinycolor.functional``. Constructors, attribute names, parameter shapes and
default initialisations are PyTorch's, so a PyTorch ``state_dict`` maps one to one. Each layer that
holds parameters or buffers takes PyTorch's keyword-only ``device=None, dtype=None`` last (see
``_factory``).
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import backend
from .. import functional as F
from ..autograd import Tensor, no_grad
from ..functional.conv import _block_geometry, _pair, _single
from ..functional.pool import _only_defaults, _output_size
from ..functional.pool import _single as _length
from . import init
from .module import Module, Parameter


def _count(layer, name, v) -> int:
    """A positive whole number of features or channels, or a clear error naming the layer:
    a width of 0 (e.g. a flattened size computed from a map pooled down to nothing) or 2.5
    is a mistake in the model, better met here than as a division by zero in the init."""
    if not isinstance(v, int | np.integer) or isinstance(v, bool) or v < 1:
        raise ValueError(f"{layer}: {name} must be a positive whole number, got {v!r}")
    return int(v)


def _empty(*shape) -> Parameter:
    """A float32 parameter on ``tinycolor.get_device()``, to be filled by an init scheme."""
    return Parameter(np.zeros(shape, dtype=backend.default_dtype))


def _factory(module, device, dtype) -> None:
    """PyTorch's factory arguments, ``device=None, dtype=None``: the module, its parameters
    made and initialised as without them (the same random draws), then moved and cast in
    place as ``module.to(device=device, dtype=dtype)`` would (and refused as it refuses);
    None keeps the default (float32, on ``tinycolor.get_device()``)."""
    if device is not None or dtype is not None:
        module.to(device=device, dtype=dtype)


def _check_array(layer, x):
    if not hasattr(x, "ndim"):  # a list: PyTorch refuses it too
        raise TypeError(
            f"{layer}: expected a Tensor or an array, got {type(x).__name__}; wrap it with "
            "tinycolor.tensor(...)"
        )


def _check_3d(layer, x, channels):
    _check_array(layer, x)
    if x.ndim != 3:
        raise ValueError(f"{layer}: expected a 3-D input (N, C, L), got shape {tuple(x.shape)}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{layer}: expected input with {channels} channels, got {tuple(x.shape)}")


def _check_4d(layer, x, channels, what="channels"):
    _check_array(layer, x)
    if x.ndim != 4:
        raise ValueError(f"{layer}: expected a 4-D input (N, C, H, W), got shape {tuple(x.shape)}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{layer}: expected input with {channels} {what}, got {tuple(x.shape)}")


# --------------------------------------------------------------------------- dense


class Linear(Module):
    """y = x W^T + b, W of shape (out_features, in_features); x of shape (..., in_features).

    Default init (PyTorch's): W and b ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, *, device=None, dtype=None
    ):
        super().__init__()
        self.in_features = _count("Linear", "in_features", in_features)
        self.out_features = _count("Linear", "out_features", out_features)
        self.weight = _empty(self.out_features, self.in_features)
        self.register_parameter("bias", _empty(self.out_features) if bias else None)
        self.reset_parameters()
        _factory(self, device, dtype)

    def reset_parameters(self):
        init.default_weight_and_bias_(self.weight, self.bias)

    def forward(self, x):
        _check_array(f"Linear({self.in_features}->{self.out_features})", x)
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear({self.in_features}->{self.out_features}): expected input with "
                f"{self.in_features} features in its last axis, got {tuple(x.shape)}"
            )
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Bilinear(Module):
    """y = x1^T W_o x2 + b_o for each of the out_features o: W of shape (out_features,
    in1_features, in2_features); x1 (..., in1_features) and x2 (..., in2_features).

    Default init (PyTorch's): W and b ~ U(-1/sqrt(in1_features), 1/sqrt(in1_features)).
    """

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        *,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.in1_features = _count("Bilinear", "in1_features", in1_features)
        self.in2_features = _count("Bilinear", "in2_features", in2_features)
        self.out_features = _count("Bilinear", "out_features", out_features)
        self.weight = _empty(self.out_features, self.in1_features, self.in2_features)
        self.register_parameter("bias", _empty(self.out_features) if bias else None)
        self.reset_parameters()
        _factory(self, device, dtype)

    def reset_parameters(self):
        bound = 1 / np.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x1, x2):
        name = f"Bilinear({self.in1_features}, {self.in2_features}->{self.out_features})"
        _check_array(name, x1)
        _check_array(name, x2)
        if x1.ndim < 1 or x1.shape[-1] != self.in1_features:
            raise ValueError(
                f"{name}: expected input1 with {self.in1_features} features in its last axis, "
                f"got {tuple(x1.shape)}"
            )
        if x2.ndim < 1 or x2.shape[-1] != self.in2_features:
            raise ValueError(
                f"{name}: expected input2 with {self.in2_features} features in its last axis, "
                f"got {tuple(x2.shape)}"
            )
        return F.bilinear(x1, x2, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


# --------------------------------------------------------------------------- convolutions


class _ConvNd(Module):
    """What Conv1d/2d and ConvTranspose1d/2d share: their checked settings (``kernel_size``,
    ``stride``, ``padding``, ``dilation``, ``output_padding`` as tuples of ``_dims`` ints), the
    weight, (out, in, *k), or (in, out, *k) transposed, the bias, and PyTorch's init. Each
    subclass's ``__init__`` has PyTorch's arguments in PyTorch's order and passes them on."""

    _dims = 2  # spatial axes: kernel_size, stride, padding and dilation are tuples of this many
    _transposed = False

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride,
        padding,
        dilation,
        groups,
        bias,
        padding_mode,
        output_padding=0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.in_channels = _count(type(self).__name__, "in_channels", in_channels)
        self.out_channels = _count(type(self).__name__, "out_channels", out_channels)
        self._groups_and_padding_mode(groups, padding_mode)
        self._settings(kernel_size, stride, padding, dilation)
        shape = (self.out_channels, self.in_channels // self.groups)
        if self._transposed:
            if isinstance(self.padding, str):
                forms = "an int" if self._dims == 1 else "an int or a pair"
                raise ValueError(f"{self._label}: padding must be {forms}, not {padding!r}")
            self.output_padding = self._tuple(output_padding, "output_padding")
            for op, s, d in zip(self.output_padding, self.stride, self.dilation):
                if not 0 <= op < max(s, d):
                    raise ValueError(
                        f"{self._label}: output_padding {self.output_padding} must be smaller "
                        f"than stride {self.stride} or dilation {self.dilation}"
                    )
            shape = (self.in_channels, self.out_channels // self.groups)
        self.weight = _empty(*shape, *self.kernel_size)
        self.register_parameter("bias", _empty(self.out_channels) if bias else None)
        self.reset_parameters()
        _factory(self, device, dtype)

    def _tuple(self, value, name):
        return (_single if self._dims == 1 else _pair)(value, name, type(self).__name__)

    def _settings(self, kernel_size, stride, padding, dilation):
        self.kernel_size = self._tuple(kernel_size, "kernel_size")
        self.stride = self._tuple(stride, "stride")
        self.dilation = self._tuple(dilation, "dilation")
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.dilation) < 1:
            raise ValueError(
                f"{type(self).__name__}: kernel_size, stride and dilation must be positive, got "
                f"{self.kernel_size}, {self.stride}, {self.dilation}"
            )
        self.padding = padding if isinstance(padding, str) else self._tuple(padding, "padding")
        self._padding = self._numeric_padding()
        if min(self._padding) < 0:
            raise ValueError(f"{type(self).__name__}: padding must be >= 0, got {padding}")

    def _groups_and_padding_mode(self, groups, padding_mode):
        """PyTorch's groups, a positive int that divides both in_channels and out_channels
        (the weight then holds in_channels / groups input channels, or out_channels / groups
        output channels transposed), and padding_mode: 'zeros', or for a convolution (not a
        transposed one, as in PyTorch) 'reflect', 'replicate' or 'circular', kept as
        attributes as PyTorch's layers keep them."""
        if not isinstance(groups, int | np.integer) or isinstance(groups, bool) or groups < 1:
            raise ValueError(f"{self._label}: groups must be a positive int, got {groups!r}")
        for what, channels in (("in", self.in_channels), ("out", self.out_channels)):
            if channels % groups:
                raise ValueError(
                    f"{self._label}: {what}_channels={channels} is not divisible by groups={groups}"
                )
        if self._transposed and padding_mode != "zeros":
            raise ValueError(
                f"{self._label}: padding_mode={padding_mode!r} is not supported, only 'zeros' "
                "(as in PyTorch, a transposed convolution pads with zeros only)"
            )
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(
                f"{self._label}: padding_mode must be 'zeros', 'reflect', 'replicate' or "
                f"'circular', got {padding_mode!r}"
            )
        self.groups, self.padding_mode = int(groups), padding_mode

    def _pad_border(self, x):
        """(x, padding for the convolution): with padding_mode 'zeros' the convolution pads;
        otherwise x padded here by F.pad in that mode, as PyTorch does, and the convolution
        pads no more ('same' puts an odd total's extra row or column at the bottom/right)."""
        if self.padding_mode == "zeros":
            return x, self.padding if isinstance(self.padding, str) else self._padding
        pads = []  # F.pad's order: last axis first
        for axis in reversed(range(self._dims)):
            if self.padding == "same":
                total = self.dilation[axis] * (self.kernel_size[axis] - 1)
                pads += [total // 2, total - total // 2]
            else:
                pads += [self._padding[axis]] * 2
        return F.pad(x, tuple(pads), self.padding_mode), 0

    def _numeric_padding(self):
        if not isinstance(self.padding, str):
            return self.padding
        if self.padding == "valid":
            return (0,) * self._dims
        if self.padding == "same":  # an odd total pads one more at the bottom/right
            if self.stride != (1,) * self._dims:
                raise ValueError(
                    f"{type(self).__name__}: padding='same' needs stride 1, got {self.stride}"
                )
            return tuple(d * (k - 1) // 2 for d, k in zip(self.dilation, self.kernel_size))
        raise ValueError(
            f"{type(self).__name__}: padding must be an int, "
            f"{'a 1-tuple' if self._dims == 1 else 'a pair'}, 'same' or 'valid', "
            f"got {self.padding!r}"
        )

    def _output_padding(self, x, output_size):
        """A transposed convolution's output_padding: the layer's, or the one that gives
        ``output_size`` (the spatial sizes, or the whole shape (N, C, ...)), as PyTorch's
        ``forward(x, output_size=skip.shape)`` computes it; a size the layer cannot reach, from
        (in - 1) s - 2p + d (k - 1) + 1 up to s - 1 more, is refused."""
        if output_size is None:
            return self.output_padding
        size = tuple(int(n) for n in output_size)
        if len(size) == self._dims + 2:
            size = size[2:]
        if len(size) != self._dims:
            raise ValueError(
                f"{self._label}: output_size must have {self._dims} or {self._dims + 2} "
                f"elements (the spatial sizes or the whole shape), got {tuple(output_size)}"
            )
        smallest = tuple(
            (n - 1) * s - 2 * p + d * (k - 1) + 1
            for n, s, p, d, k in zip(
                x.shape[2:], self.stride, self._padding, self.dilation, self.kernel_size
            )
        )
        largest = tuple(lo + s - 1 for lo, s in zip(smallest, self.stride))
        if any(not lo <= n <= hi for n, lo, hi in zip(size, smallest, largest)):
            raise ValueError(
                f"{self._label}: requested an output size of {size}, but valid sizes range "
                f"from {smallest} to {largest} (for an input of {tuple(x.shape[2:])})"
            )
        return tuple(n - lo for n, lo in zip(size, smallest))

    @property
    def _label(self):
        return f"{type(self).__name__}({self.in_channels}->{self.out_channels})"

    def reset_parameters(self):
        init.default_weight_and_bias_(self.weight, self.bias)

    def extra_repr(self):
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        zeros, ones = (0,) * self._dims, (1,) * self._dims
        if isinstance(self.padding, str):
            s += f", padding={self.padding}"
        elif self.padding != zeros:
            s += f", padding={self.padding}"
        if self.dilation != ones:
            s += f", dilation={self.dilation}"
        if getattr(self, "output_padding", zeros) != zeros:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D cross-correlation of an (N, C_in, H, W) input with C_out filters of shape
    (C_in, kh, kw):  y[n, o] = b[o] + sum_c sum_{i,j} w[o, c, i, j] x[n, c, s*h + d*i, s*w + d*j]
    (after padding, with zeros by default). Output size: (H + 2p - d (k - 1) - 1) // s + 1.

    ``padding`` may be an int, a pair, ``'valid'`` (0) or ``'same'`` (stride 1; the output has
    the input's size, an odd total padding putting the extra row/column at the bottom/right).
    The arguments are PyTorch's, in its order; ``groups`` g (dividing C_in and C_out) cuts
    the channels into g groups, each group's C_out / g filters seeing only its C_in / g
    channels (weight (C_out, C_in / g, kh, kw); g = C_in is MobileNet's depthwise layer);
    ``padding_mode`` 'zeros' or, as PyTorch's, 'reflect', 'replicate' or 'circular' (the input
    padded by ``F.pad`` in that mode first: ESRGAN-style and CycleGAN-style networks use
    'reflect'). Default init (PyTorch's): W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    fan_in = (C_in / g) kh kw.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        device=None,
        dtype=None,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device=device,
            dtype=dtype,
        )

    def forward(self, x):
        _check_4d(self._label, x, self.in_channels)
        for axis in () if self.padding == "same" else (0, 1):  # 'same' always fits
            span = self.dilation[axis] * (self.kernel_size[axis] - 1) + 1
            size = x.shape[2 + axis] + 2 * self._padding[axis]
            if size < span:
                raise ValueError(
                    f"{self._label}: input {tuple(x.shape)} padded by {self._padding} is smaller "
                    f"than the {self.kernel_size[0]}x{self.kernel_size[1]} kernel "
                    f"(dilation {self.dilation})"
                )
        x, padding = self._pad_border(x)
        return F.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed convolution (the gradient of Conv2d with respect to its input), used to
    upsample: weight of shape (C_in, C_out, kh, kw); output size
    (H - 1) s - 2p + d (k - 1) + output_padding + 1.

    The arguments are PyTorch's, in its order (``padding_mode`` 'zeros'); ``groups`` g
    (dividing C_in and C_out) gives weight (C_in, C_out / g, kh, kw), group gi's C_in / g
    inputs reaching only its C_out / g outputs. Default init as PyTorch's, whose fan_in is
    computed from ``weight.shape[1] * kh * kw`` (i.e. from C_out / g, because of the
    transposed layout).
    """

    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
        *,
        device=None,
        dtype=None,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            output_padding,
            device=device,
            dtype=dtype,
        )

    def forward(self, x, output_size=None):
        """``output_size`` (PyTorch's): the output's spatial sizes, or its whole shape
        (``skip.shape``), when a stride makes more than one reachable; it sets
        output_padding for this call."""
        _check_4d(self._label, x, self.in_channels)
        return F.conv_transpose2d(
            x,
            self.weight,
            self.bias,
            self.stride,
            self._padding,
            self._output_padding(x, output_size),
            self.groups,
            self.dilation,
        )


class Conv1d(_ConvNd):
    """1-D cross-correlation of an (N, C_in, L) input with C_out filters of shape (C_in, k):
    y[n, o, t] = b[o] + sum_c sum_i w[o, c, i] x[n, c, s*t + d*i] (after zero padding).
    Output length: (L + 2p - d (k - 1) - 1) // s + 1. See ``F.conv1d`` (a height-1 conv2d).

    The arguments, their order and the attributes are PyTorch's: ``kernel_size``, ``stride``,
    ``padding`` and ``dilation`` are kept as 1-tuples ((3,)); ``padding`` may be an int,
    ``'valid'`` or ``'same'`` (stride 1; an odd total pads one more at the end); ``groups`` g
    as Conv2d's (weight (C_out, C_in / g, k)); ``padding_mode`` is 'zeros', 'reflect',
    'replicate' or 'circular'. Default init as Conv2d's: W and b ~ U(-1/sqrt(fan_in),
    1/sqrt(fan_in)), fan_in = (C_in / g) k.
    """

    _dims = 1

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        device=None,
        dtype=None,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device=device,
            dtype=dtype,
        )

    def forward(self, x):
        _check_3d(self._label, x, self.in_channels)
        (k,), (d,), (p,) = self.kernel_size, self.dilation, self._padding
        if self.padding != "same" and x.shape[2] + 2 * p < d * (k - 1) + 1:  # 'same' fits
            raise ValueError(
                f"{self._label}: input {tuple(x.shape)} padded by {p} is smaller than the "
                f"kernel of {k} (dilation {d})"
            )
        x, padding = self._pad_border(x)
        return F.conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class ConvTranspose1d(_ConvNd):
    """Transposed 1-D convolution (the gradient of Conv1d with respect to its input), used to
    upsample a signal: weight of shape (C_in, C_out, k); output length
    (L - 1) s - 2p + d (k - 1) + output_padding + 1. See ``F.conv_transpose1d``.

    The arguments are PyTorch's, in its order (``padding_mode`` 'zeros'), the sizes kept as
    1-tuples; ``groups`` g as ConvTranspose2d's (weight (C_in, C_out / g, k)). Default init as
    ConvTranspose2d's (fan_in = (C_out / g) k).
    """

    _dims = 1
    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
        *,
        device=None,
        dtype=None,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            output_padding,
            device=device,
            dtype=dtype,
        )

    def forward(self, x, output_size=None):
        """``output_size`` (PyTorch's): the output's spatial sizes, or its whole shape
        (``skip.shape``), when a stride makes more than one reachable; it sets
        output_padding for this call."""
        _check_3d(self._label, x, self.in_channels)
        return F.conv_transpose1d(
            x,
            self.weight,
            self.bias,
            self.stride,
            self._padding,
            self._output_padding(x, output_size),
            self.groups,
            self.dilation,
        )


# --------------------------------------------------------------------------- pooling, resizing


class _Pool2d(Module):
    """A window of ``kernel_size`` moved by ``stride`` (default: the kernel size) over the
    input padded by ``padding``, reduced by ``pool`` (F.max_pool2d or F.avg_pool2d)."""

    pool = None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def forward(self, x):
        _check_4d(type(self).__name__, x, None)
        return self.pool(x, self.kernel_size, self.stride, self.padding, **self._options())

    def _options(self):
        """The pool's keyword options this layer was built with (ceil_mode, ...)."""
        return {}

    def extra_repr(self):
        defaults = {"ceil_mode": False, "count_include_pad": True, "divisor_override": None}
        extra = "".join(f", {k}={v}" for k, v in self._options().items() if v != defaults[k])
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}" + extra
        )


class MaxPool2d(_Pool2d):
    """The maximum over each kh x kw window (stride defaults to the kernel size); with
    ``ceil_mode`` the output size rounds up (see ``F.max_pool2d``). PyTorch's ``dilation``
    and ``return_indices`` are accepted at their defaults only."""

    pool = staticmethod(F.max_pool2d)

    def __init__(
        self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False
    ):
        _only_defaults("MaxPool2d", dilation=(dilation, 1), return_indices=(return_indices, False))
        super().__init__(kernel_size, stride, padding)
        self.dilation, self.return_indices, self.ceil_mode = dilation, False, bool(ceil_mode)

    def _options(self):
        return {"ceil_mode": self.ceil_mode}


class AvgPool2d(_Pool2d):
    """The mean over each kh x kw window (stride defaults to the kernel size), the zero
    padding counted in it unless ``count_include_pad=False``; ``ceil_mode`` and
    ``divisor_override`` as ``F.avg_pool2d``'s."""

    pool = staticmethod(F.avg_pool2d)

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        super().__init__(kernel_size, stride, padding)
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)
        self.divisor_override = divisor_override

    def _options(self):
        return {
            "ceil_mode": self.ceil_mode,
            "count_include_pad": self.count_include_pad,
            "divisor_override": self.divisor_override,
        }


class AdaptiveAvgPool2d(Module):
    """The mean over windows sized to give an output of ``output_size`` whatever the input's
    size (an int, or a pair whose None entries keep the input's size), as PyTorch's:
    ``AdaptiveAvgPool2d(1)`` is global average pooling, ``AdaptiveAvgPool2d((7, 7))`` hands a
    classifier head a 7x7 map from any image size. See ``F.adaptive_avg_pool2d``."""

    def __init__(self, output_size):
        super().__init__()
        _output_size(output_size, (1, 1), type(self).__name__)  # refused now, not at the call
        self.output_size = output_size

    def forward(self, x):
        _check_4d(type(self).__name__, x, None)
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """The max over windows sized to give an output of ``output_size`` whatever the input's
    size (an int, or a pair whose None entries keep the input's size), as PyTorch's:
    ``AdaptiveMaxPool2d(1)`` is global max pooling. With ``return_indices`` the layer returns
    the pair (output, indices), as PyTorch's. See ``F.adaptive_max_pool2d``."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        _output_size(output_size, (1, 1), type(self).__name__)  # refused now, not at the call
        self.output_size, self.return_indices = output_size, bool(return_indices)

    def forward(self, x):
        _check_4d(type(self).__name__, x, None)
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class _Pool1d(_Pool2d):
    """A window of ``kernel_size`` samples moved by ``stride`` (default: the kernel size) along
    an (N, C, L) input padded by ``padding``, reduced by ``pool``."""

    def forward(self, x):
        _check_3d(type(self).__name__, x, None)
        return self.pool(x, self.kernel_size, self.stride, self.padding, **self._options())


class MaxPool1d(_Pool1d):
    """The maximum over each window of k samples (stride defaults to the kernel size); see
    ``F.max_pool1d`` (``ceil_mode`` too). PyTorch's ``dilation`` and ``return_indices`` are
    accepted at their defaults only."""

    pool = staticmethod(F.max_pool1d)

    def __init__(
        self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False
    ):
        _only_defaults("MaxPool1d", dilation=(dilation, 1), return_indices=(return_indices, False))
        super().__init__(kernel_size, stride, padding)
        self.dilation, self.return_indices, self.ceil_mode = dilation, False, bool(ceil_mode)

    def _options(self):
        return {"ceil_mode": self.ceil_mode}


class AvgPool1d(_Pool1d):
    """The mean over each window of k samples (stride defaults to the kernel size), the zero
    padding counted in it unless ``count_include_pad=False``; see ``F.avg_pool1d``
    (``ceil_mode`` too)."""

    pool = staticmethod(F.avg_pool1d)

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
    ):
        super().__init__(kernel_size, stride, padding)
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)

    def _options(self):
        return {"ceil_mode": self.ceil_mode, "count_include_pad": self.count_include_pad}


class AdaptiveAvgPool1d(Module):
    """The mean over windows sized to give ``output_size`` samples (an int) whatever the
    input's length, as PyTorch's: ``AdaptiveAvgPool1d(1)`` is global average pooling of an
    (N, C, L) signal. See ``F.adaptive_avg_pool1d``."""

    def __init__(self, output_size):
        super().__init__()
        _length(output_size, "output_size", type(self).__name__, 1)  # refused now, not at the call
        self.output_size = output_size

    def forward(self, x):
        _check_3d(type(self).__name__, x, None)
        return F.adaptive_avg_pool1d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(Module):
    """The max over windows sized to give ``output_size`` samples (an int) whatever the
    input's length, as PyTorch's: ``AdaptiveMaxPool1d(1)`` is global max pooling of an
    (N, C, L) signal; ``return_indices`` as PyTorch's. See ``F.adaptive_max_pool1d``."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        _length(output_size, "output_size", type(self).__name__, 1)  # refused now, not at the call
        self.output_size, self.return_indices = output_size, bool(return_indices)

    def forward(self, x):
        _check_3d(type(self).__name__, x, None)
        return F.adaptive_max_pool1d(x, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class Upsample(Module):
    """Enlarge an (N, C, H, W) input to ``size`` or by ``scale_factor``, with ``mode``
    'nearest', 'bilinear' or 'bicubic' (``align_corners`` as in PyTorch, False by default;
    see ``F.interpolate``), or an (N, C, L) signal with 'nearest' or 'linear'. The arguments
    come in PyTorch's order, size first: ``Upsample(scale_factor=2)`` doubles the input, while
    ``Upsample(2)`` resizes it to 2x2."""

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners=None):
        super().__init__()
        if (scale_factor is None) == (size is None):
            raise ValueError("Upsample: give exactly one of scale_factor and size")
        if isinstance(scale_factor, int | float):
            scale_factor = float(scale_factor)
        self.scale_factor, self.mode, self.size = scale_factor, mode, size
        self.align_corners = align_corners

    def forward(self, x):
        if getattr(x, "ndim", None) != 3:  # an (N, C, L) signal, mode 'nearest' or 'linear'
            _check_4d(type(self).__name__, x, None)
        return F.upsample(x, self.scale_factor, self.mode, self.size, self.align_corners)

    def extra_repr(self):
        what = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return f"{what}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode='nearest')`` on an (N, C, H, W) image, as PyTorch's
    (older super-resolution code's) ``nn.UpsamplingNearest2d``."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")

    def forward(self, x):
        _check_4d(type(self).__name__, x, None)
        return super().forward(x)


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode='bilinear', align_corners=True)`` on an (N, C, H, W)
    image, as PyTorch's ``nn.UpsamplingBilinear2d`` (whose corners are aligned: the corner
    pixels of input and output coincide)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)

    def forward(self, x):
        _check_4d(type(self).__name__, x, None)
        return super().forward(x)


class PixelShuffle(Module):
    """(N, C r^2, H, W) -> (N, C, H r, W r), each group of r^2 channels an r x r block of pixels
    (see ``F.pixel_shuffle``): after a convolution to C r^2 channels, an upsampling by r
    without a transposed convolution's checkerboard."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = _count("PixelShuffle", "upscale_factor", upscale_factor)

    def forward(self, x):
        _check_4d(f"PixelShuffle({self.upscale_factor})", x, None)
        return F.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(N, C, H r, W r) -> (N, C r^2, H, W), the inverse of ``PixelShuffle``."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = _count("PixelUnshuffle", "downscale_factor", downscale_factor)

    def forward(self, x):
        _check_4d(f"PixelUnshuffle({self.downscale_factor})", x, None)
        return F.pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class Unfold(Module):
    """The sliding blocks of an (N, C, H, W) input as the columns of an (N, C kh kw, L) matrix
    (see ``F.unfold``: im2col, on which this library's convolutions are built)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        _block_geometry("Unfold", kernel_size, dilation, padding, stride)
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, x):
        _check_4d(f"Unfold(kernel_size={self.kernel_size})", x, None)
        return F.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
            f"stride={self.stride}"
        )


class Fold(Module):
    """An (N, C kh kw, L) matrix of blocks summed back into an (N, C, H, W) image of
    ``output_size``, the adjoint of ``Unfold`` (see ``F.fold``: col2im)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        _block_geometry("Fold", kernel_size, dilation, padding, stride)
        _pair(output_size, "output_size", "Fold")
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, x):
        name = f"Fold(output_size={self.output_size}, kernel_size={self.kernel_size})"
        _check_array(name, x)
        if x.ndim != 3:
            raise ValueError(
                f"{name}: expected a 3-D input (N, C * kh * kw, L), got shape {tuple(x.shape)}"
            )
        return F.fold(
            x, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride
        )

    def extra_repr(self):
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
            f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}"
        )


# --------------------------------------------------------------------------- padding


class _Pad2d(Module):
    """Pad the last two axes of an (N, C, H, W) input by ``padding``, an int (every side) or a
    4-tuple (left, right, top, bottom), as PyTorch's padding layers: ``F.pad`` with ``mode``."""

    mode = "constant"

    def __init__(self, padding):
        super().__init__()
        name = type(self).__name__
        if isinstance(padding, int | np.integer) and not isinstance(padding, bool):
            padding = (padding,) * 4
        if (
            not isinstance(padding, tuple | list)
            or len(padding) != 4
            or not all(isinstance(p, int | np.integer) and not isinstance(p, bool) for p in padding)
        ):
            raise ValueError(
                f"{name}: padding must be an int or a 4-tuple of ints (left, right, top, bottom), "
                f"got {padding!r}"
            )
        if any(p < 0 for p in padding):
            raise ValueError(f"{name}: padding must be non-negative, got {tuple(padding)}")
        self.padding = tuple(int(p) for p in padding)

    def forward(self, x):
        _check_4d(f"{type(self).__name__}({self.padding})", x, None)
        return F.pad(x, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad2d(_Pad2d):
    """Pad H and W by reflection about the edge pixel (not repeated), as CycleGAN's and
    pix2pix's ResNet generators do before their 7x7 convolutions: no dark zero border leaks
    in. Each width must be smaller than its axis."""

    mode = "reflect"


class ReplicationPad2d(_Pad2d):
    """Pad H and W by repeating the edge pixel."""

    mode = "replicate"


class CircularPad2d(_Pad2d):
    """Pad H and W with the other side's pixels, as if the image wrapped around (a torus).
    Each width at most its axis."""

    mode = "circular"


class ConstantPad2d(_Pad2d):
    """Pad H and W with ``value``."""

    def __init__(self, padding, value: float):
        super().__init__(padding)
        self.value = float(value)

    def forward(self, x):
        _check_4d(f"{type(self).__name__}({self.padding})", x, None)
        return F.pad(x, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ZeroPad2d(ConstantPad2d):
    """Pad H and W with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


# --------------------------------------------------------------------------- normalisation


class _BatchNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, per channel (Ioffe & Szegedy, 2015).

    In training mode mean and var are the batch's (biased variance), and the running
    statistics move towards them: running = (1 - momentum) running + momentum batch (with the
    unbiased variance, as PyTorch does). In evaluation mode the running statistics are used.
    ``num_batches_tracked`` counts the training batches, as in PyTorch (so that a PyTorch
    state_dict loads as it is); with ``momentum=None`` the running statistics are the plain
    average over those batches (momentum 1 / count).
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.num_features = _count(type(self).__name__, "num_features", num_features)
        self.eps, self.momentum = float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        if self.affine:
            self.weight = _empty(self.num_features)
            self.bias = _empty(self.num_features)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(self.num_features, np.float32)))
            self.register_buffer("running_var", Tensor(np.ones(self.num_features, np.float32)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()
        _factory(self, device, dtype)

    # Checkpoints written before the counter existed load without it (it stays as it is).
    _optional_buffers = ("num_batches_tracked",)

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def _check(self, x):  # pragma: no cover - overridden
        raise NotImplementedError

    def forward(self, x):
        self._check(x)
        use_batch_stats = self.training or not self.track_running_stats
        tracking = self.training and self.track_running_stats
        momentum = self.momentum
        if momentum is None:  # the plain average of the batches so far (unused if not tracking)
            momentum = 1.0 / (int(self.num_batches_tracked.data) + 1) if tracking else 0.0
        y = F.batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            use_batch_stats,
            momentum,
            self.eps,
        )
        if tracking:
            self.num_batches_tracked.data += 1
        return y

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C."""

    def _check(self, x):
        name = f"BatchNorm1d({self.num_features})"
        if x.ndim not in (2, 3):
            raise ValueError(
                f"{name}: expected a 2-D or 3-D input (N, C[, L]), got {tuple(x.shape)}"
            )
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: expected input with {self.num_features} channels, got {tuple(x.shape)}"
            )


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs, per channel C."""

    def _check(self, x):
        _check_4d(f"BatchNorm2d({self.num_features})", x, self.num_features)


class InstanceNorm2d(_BatchNorm):
    """Instance normalisation of (N, C, H, W) inputs (Ulyanov, Vedaldi and Lempitsky, 2016):
    each image's each channel normalised by its own mean and variance over H and W, the norm
    of pix2pix's and CycleGAN's generators (see ``F.instance_norm``). PyTorch's defaults:
    no ``weight``/``bias`` (``affine=False``) and no running statistics
    (``track_running_stats=False``), so training and evaluation are the same; with
    ``track_running_stats=True`` evaluation uses the running statistics, moved by each training
    batch (``num_batches_tracked`` is kept for PyTorch's state_dict keys but, as in PyTorch,
    not counted)."""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        *,
        device=None,
        dtype=None,
    ):
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device=device, dtype=dtype
        )

    def _check(self, x):
        name = f"InstanceNorm2d({self.num_features})"
        _check_array(name, x)
        if x.ndim != 4:
            raise ValueError(
                f"{name}: expected a 4-D input (N, C, H, W), got shape {tuple(x.shape)}"
            )
        if x.shape[1] != self.num_features and (self.affine or self.track_running_stats):
            raise ValueError(
                f"{name}: expected input with {self.num_features} channels, got {tuple(x.shape)}"
            )
        if x.shape[1] != self.num_features:  # PyTorch warns and normalises all the same
            warnings.warn(
                f"{name}: input of shape {tuple(x.shape)} has {x.shape[1]} channels, not "
                f"num_features={self.num_features}; without affine or running statistics "
                "it is normalised all the same",
                stacklevel=3,
            )

    def forward(self, x):
        self._check(x)
        return F.instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            0.0 if self.momentum is None else self.momentum,
            self.eps,
        )


class GroupNorm(Module):
    """Group normalisation (Wu and He, 2018): the ``num_channels`` channels of an (N, C, ...)
    input split into ``num_groups`` groups, each image's each group normalised by the mean
    and variance of its values, then ``weight`` (ones) and ``bias`` (zeros), per channel,
    when ``affine`` (``bias=False`` leaves the bias out, as PyTorch's). Independent of the
    batch size, the same in training and evaluation (see ``F.group_norm``); ``GroupNorm(1, C)``
    normalises each image over (C, H, W) as a whole."""

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        *,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.num_groups = _count("GroupNorm", "num_groups", num_groups)
        self.num_channels = _count("GroupNorm", "num_channels", num_channels)
        if self.num_channels % self.num_groups:
            raise ValueError(
                f"GroupNorm: num_channels must be divisible by num_groups, got num_channels="
                f"{self.num_channels} and num_groups={self.num_groups}"
            )
        self.eps, self.affine = float(eps), bool(affine)
        if self.affine:
            self.weight = _empty(self.num_channels)
        else:
            self.register_parameter("weight", None)
        if self.affine and bias:
            self.bias = _empty(self.num_channels)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        _factory(self, device, dtype)

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x):
        name = f"GroupNorm({self.num_groups}, {self.num_channels})"
        _check_array(name, x)
        if x.ndim < 2:
            raise ValueError(f"{name}: expected an input (N, C, ...), got shape {tuple(x.shape)}")
        if x.shape[1] != self.num_channels:
            raise ValueError(
                f"{name}: expected input with {self.num_channels} channels, got {tuple(x.shape)}"
            )
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


# --------------------------------------------------------------------------- regularisation


class LayerNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last dimensions of x, which
    must be ``normalized_shape`` (Ba, Kiros and Hinton, 2016): the statistics are each
    position's own, the same in training and evaluation. ``weight`` (ones) and ``bias`` (zeros)
    have ``normalized_shape``; ``elementwise_affine=False`` leaves both out, ``bias=False``
    the bias alone."""

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if isinstance(normalized_shape, int | np.integer):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(
            _count("LayerNorm", "normalized_shape", n) for n in normalized_shape
        )
        if not self.normalized_shape:
            raise ValueError("LayerNorm: normalized_shape must name at least one dimension")
        self.eps, self.elementwise_affine = float(eps), bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = _empty(*self.normalized_shape)
        else:
            self.register_parameter("weight", None)
        if self.elementwise_affine and bias:
            self.bias = _empty(*self.normalized_shape)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        _factory(self, device, dtype)

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x):
        name = f"LayerNorm({self.normalized_shape})"
        _check_array(name, x)
        k = len(self.normalized_shape)
        if x.ndim < k or tuple(x.shape[x.ndim - k :]) != self.normalized_shape:
            raise ValueError(
                f"{name}: expected an input whose last dimensions are {self.normalized_shape}, "
                f"got shape {tuple(x.shape)}"
            )
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class Dropout(Module):
    """In training mode, zero each element with probability p and scale the rest by 1/(1-p)
    (inverted dropout, so evaluation needs no rescaling); the identity in evaluation mode.
    ``inplace`` is accepted for PyTorch's signature (see ``ReLU``)."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1), got {p!r}")
        self.p = p
        self.inplace = bool(inplace)

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of ``embedding_dim`` looked up by integer index
    (``F.embedding``): (N, L) indices -> (N, L, embedding_dim). Default init (PyTorch's):
    N(0, 1), with the row ``padding_idx`` zeroed; that row gets no gradient.

    The arguments are PyTorch's, in its order. ``max_norm``, ``norm_type``,
    ``scale_grad_by_freq`` and ``sparse`` are accepted at their defaults only (no
    renormalised rows, no sparse gradients); ``_weight`` is a table to use (its data shared,
    as PyTorch's), trained unless ``_freeze``."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx=None,
        max_norm=None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight=None,
        _freeze: bool = False,
        *,
        device=None,
        dtype=None,
    ):
        super().__init__()
        _only_defaults(
            "Embedding",
            max_norm=(max_norm, None),
            norm_type=(norm_type, 2.0),
            scale_grad_by_freq=(scale_grad_by_freq, False),
            sparse=(sparse, False),
        )
        self.num_embeddings = _count("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = _count("Embedding", "embedding_dim", embedding_dim)
        self.padding_idx = F.sparse._padding_index("Embedding", padding_idx, num_embeddings)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = _empty(self.num_embeddings, self.embedding_dim)
            self.reset_parameters()
            self.weight.requires_grad = not _freeze
        else:
            shape = (self.num_embeddings, self.embedding_dim)
            if getattr(_weight, "shape", None) != shape:
                raise ValueError(
                    f"Embedding: _weight must be a table of shape {shape} (num_embeddings, "
                    f"embedding_dim), got {getattr(_weight, 'shape', type(_weight).__name__)}"
                )
            self.weight = Parameter(_weight, requires_grad=not _freeze)
        _factory(self, device, dtype)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight.data[self.padding_idx] = 0
            self.weight._bump_version()

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None) -> Embedding:
        """An Embedding over a copy of the 2-D ``embeddings``, trained only if not ``freeze``,
        as PyTorch's ``nn.Embedding.from_pretrained``."""
        data = embeddings.data if isinstance(embeddings, Tensor) else embeddings
        if getattr(data, "ndim", None) != 2:
            raise ValueError(
                f"Embedding.from_pretrained: expected a 2-D table (num_embeddings, "
                f"embedding_dim), got shape {getattr(data, 'shape', None)}"
            )
        return cls(*data.shape, padding_idx=padding_idx, _weight=data.copy(), _freeze=freeze)

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        out = f"{self.num_embeddings}, {self.embedding_dim}"
        return out if self.padding_idx is None else f"{out}, padding_idx={self.padding_idx}"


class Dropout2d(Dropout):
    """In training mode, zero whole channels of an (N, C, H, W) input, each with probability
    p, and scale the rest by 1/(1-p) (``F.dropout2d``); the identity in evaluation mode."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout2d: p must be a probability in [0, 1), got {p!r}")
        super().__init__(p, inplace)

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training)


# --------------------------------------------------------------------------- activations


class _Activation(Module):
    """An activation with PyTorch's ``inplace`` flag, accepted so that ``ReLU(inplace=True)``
    runs as written: the output is the same, but tinycolor never overwrites a tensor, so the
    input is left as it was (and no gradient is lost by the overwrite)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = bool(inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ReLU(_Activation):
    """max(x, 0)."""

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(_Activation):
    """x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__(inplace)
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class SiLU(_Activation):
    """x * sigmoid(x) (swish)."""

    def forward(self, x):
        return F.silu(x)


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF: exact, or ``approximate='tanh'``."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    """1 / (1 + e^-x)."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh x."""

    def forward(self, x):
        return F.tanh(x)


class Softmax(Module):
    """e^x_i / sum_j e^x_j along ``dim``. Without ``dim``, PyTorch's deprecated implicit
    choice, with its warning to pass one: dim 0 of a 0-, 1- or 3-D input (taken as unbatched),
    else dim 1 (the channels of (N, C, ...))."""

    _op = "softmax"

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def _dim(self, x) -> int:
        if self.dim is not None:
            return self.dim
        ndim = x.ndim if hasattr(x, "ndim") else np.ndim(x)
        dim = 0 if ndim in (0, 1, 3) else 1
        warnings.warn(
            f"{type(self).__name__}: no dim given, so {self._op} runs along dim {dim} of this "
            f"{ndim}-D input (PyTorch's deprecated implicit choice: dim 0 for 0-, 1- and 3-D "
            f"inputs, else 1); pass dim, e.g. {type(self).__name__}(dim={dim})",
            stacklevel=4,
        )
        return dim

    def forward(self, x):
        return F.softmax(x, self._dim(x))

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """x_i - log sum_j e^x_j along ``dim`` (stable); without ``dim``, ``Softmax``'s implicit
    choice and warning."""

    _op = "log_softmax"

    def forward(self, x):
        return F.log_softmax(x, self._dim(x))


class ELU(_Activation):
    """x where x > 0, alpha (e^x - 1) elsewhere."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__(inplace)
        self.alpha = alpha

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class SELU(_Activation):
    """scale * elu(x, alpha), PyTorch's constants: self-normalising (Klambauer et al., 2017)."""

    def forward(self, x):
        return F.selu(x)


class Softplus(Module):
    """log(1 + e^(beta x)) / beta, x itself where beta x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(_Activation):
    """x clamped to [min_val, max_val] (gradient 0 at the bounds, as PyTorch's)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__(inplace)
        if not min_val <= max_val:
            raise ValueError(
                f"{type(self).__name__}: min_val must not be greater than max_val, got "
                f"{min_val} and {max_val}"
            )
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self):
        out = f"min_val={self.min_val}, max_val={self.max_val}"
        return out + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """min(max(x, 0), 6): Hardtanh(0, 6)."""

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class PReLU(Module):
    """x where x > 0, weight * x elsewhere, the slopes learnt: one for every channel (axis 1)
    when ``num_parameters`` is the number of channels, else one for all, each starting at
    ``init`` (PyTorch's 0.25). Weight decay on them is best left off (He et al., 2015)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, *, device=None, dtype=None):
        super().__init__()
        self.num_parameters = _count("PReLU", "num_parameters", num_parameters)
        self.init = float(init)
        self.weight = _empty(self.num_parameters)
        self.reset_parameters()
        _factory(self, device, dtype)

    def reset_parameters(self):
        init.constant_(self.weight, self.init)

    def forward(self, x):
        _check_array(f"PReLU(num_parameters={self.num_parameters})", x)
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class LogSigmoid(Module):
    """log(1 / (1 + e^-x)), stable."""

    def forward(self, x):
        return F.logsigmoid(x)


class Softmin(Softmax):
    """e^-x_i / sum_j e^-x_j along ``dim``: softmax(-x); without ``dim``, ``Softmax``'s
    implicit choice and warning."""

    _op = "softmin"

    def forward(self, x):
        return F.softmin(x, self._dim(x))


class Mish(_Activation):
    """x tanh(softplus(x))."""

    def forward(self, x):
        return F.mish(x)

    def extra_repr(self):
        return ""  # PyTorch's Mish does not show its inplace flag


class Hardswish(Mish):
    """x * hardsigmoid(x) = x min(max(x + 3, 0), 6) / 6."""

    def forward(self, x):
        return F.hardswish(x)


class Hardsigmoid(Mish):
    """min(max(x / 6 + 1/2, 0), 1)."""

    def forward(self, x):
        return F.hardsigmoid(x)


class Identity(Module):
    """Returns its input (a placeholder, e.g. for an optional normalisation)."""

    def forward(self, x):
        return x


class Flatten(Module):
    """Merge the axes start_dim..end_dim: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size``, Flatten's inverse: Unflatten(1, (C, H, W))
    takes (N, C*H*W) back to (N, C, H, W); one size may be -1 (inferred)."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
            raise TypeError(f"Unflatten: dim must be an int, got {dim!r}")
        sizes = tuple(unflattened_size) if isinstance(unflattened_size, list | tuple) else None
        if (
            not sizes
            or any(isinstance(n, bool) or not isinstance(n, int | np.integer) for n in sizes)
            or any(n < -1 for n in sizes)
            or sum(n == -1 for n in sizes) > 1
        ):
            raise ValueError(
                "Unflatten: unflattened_size must be a non-empty tuple or list of sizes (one "
                f"may be -1), got {unflattened_size!r}"
            )
        self.dim, self.unflattened_size = int(dim), unflattened_size

    def forward(self, x):
        _check_array("Unflatten", x)
        ndim = x.ndim
        if not -ndim <= self.dim < ndim:
            raise ValueError(
                f"Unflatten: dim {self.dim} is out of range for an input of shape {tuple(x.shape)}"
            )
        d = self.dim % ndim
        sizes = tuple(int(n) for n in self.unflattened_size)
        known = int(np.prod([n for n in sizes if n != -1]))
        n = x.shape[d]
        if (-1 in sizes and (known == 0 or n % known)) or (-1 not in sizes and known != n):
            raise ValueError(
                f"Unflatten: sizes {list(sizes)} do not multiply up to the size of dim "
                f"{self.dim} ({n}) of the input {tuple(x.shape)}"
            )
        sizes = tuple(n // known if s == -1 else s for s in sizes)
        return F.reshape(x, x.shape[:d] + sizes + x.shape[d + 1 :])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size!r}"


__all__ = [
    "AdaptiveAvgPool1d",
    "AvgPool1d",
    "AvgPool2d",
    "MaxPool1d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Bilinear",
    "Conv2d",
    "ConvTranspose2d",
    "Dropout",
    "Dropout2d",
    "ELU",
    "Embedding",
    "Flatten",
    "GELU",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "Identity",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSigmoid",
    "LogSoftmax",
    "MaxPool2d",
    "Mish",
    "PReLU",
    "ReLU",
    "ReLU6",
    "SELU",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softmin",
    "Softplus",
    "Tanh",
    "Unflatten",
    "Upsample",
]
