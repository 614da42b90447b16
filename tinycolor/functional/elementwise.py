"""Elementwise ops and activations. Broadcasting is NumPy's; the engine un-broadcasts grads."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function, Tensor, as_tensor_like, check_integer_divisor, torch_spelling
from ..backend import array_module


class Add(Function):
    """z = a + b;  dz/da = 1,  dz/db = 1."""

    def forward(self, a, b):
        return a + b

    def backward(self, g):
        return g, g


class Sub(Function):
    """z = a - b;  dz/da = 1,  dz/db = -1."""

    def forward(self, a, b):
        if a.dtype == bool and b.dtype == bool:
            raise TypeError(
                "subtraction of two bool tensors is not supported (as in PyTorch); for where "
                "exactly one holds use a ^ b (logical_xor)"
            )
        return a - b

    def backward(self, g):
        return g, -g


class Mul(Function):
    """z = a * b;  dz/da = b,  dz/db = a."""

    def forward(self, a, b):
        # a's gradient reads b and b's reads a: save only those (None for the other), so
        # that an input no gradient reads may change in place before backward, as in PyTorch
        need_a, need_b = self.needs_input_grad
        self.save_for_backward(a if need_b else None, b if need_a else None)
        return a * b

    def backward(self, g):
        a, b = self.saved
        need_a, need_b = self.needs_input_grad
        return (g * b if need_a else None), (g * a if need_b else None)


class Div(Function):
    """z = a / b;  dz/da = 1/b,  dz/db = -a/b^2."""

    def forward(self, a, b):
        # both gradients read b, only b's reads a: a saved only then (see Mul)
        self.save_for_backward(a if self.needs_input_grad[1] else None, b)
        return a / b

    def backward(self, g):
        a, b = self.saved
        ga = g / b
        gb = -ga * a / b if self.needs_input_grad[1] else None
        return (ga if self.needs_input_grad[0] else None), gb


class Pow(Function):
    """z = a ** b;  dz/da = b a^(b-1),  dz/db = a^b log a (only where b needs a gradient)."""

    def forward(self, a, b):
        z = a**b
        self.save_for_backward(a, b, z)
        return z

    def backward(self, g):
        a, b, z = self.saved
        xp = array_module(a)
        ga = gb = None
        # As PyTorch: 0 where the formula reads 0 * inf. For a = 0, b = 0 (x**0 has slope 0,
        # not b a^(b-1) = 0 * inf), and for a = 0, b >= 0 (z log a = 0 * -inf: 0**y is flat).
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.needs_input_grad[0]:
                ga = g * xp.where(b == 0, 0, b * a ** (b - 1))
            if self.needs_input_grad[1]:
                gb = g * xp.where((a == 0) & (b >= 0), 0, z * xp.log(a))
        return ga, gb


class Neg(Function):
    """z = -a;  dz/da = -1."""

    def forward(self, a):
        if a.dtype == bool:
            raise TypeError(
                "negation (-) of a bool tensor is not supported (as in PyTorch); to invert a "
                "mask use ~mask (logical_not)"
            )
        return -a

    def backward(self, g):
        return -g


class Exp(Function):
    """z = e^a;  dz/da = z."""

    def forward(self, a):
        z = array_module(a).exp(a)
        self.save_for_backward(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return g * z


class Log(Function):
    """z = ln a;  dz/da = 1/a."""

    def forward(self, a):
        self.save_for_backward(a)
        return array_module(a).log(a)

    def backward(self, g):
        (a,) = self.saved
        return g / a


class Sqrt(Function):
    """z = sqrt(a);  dz/da = 1 / (2 z)."""

    def forward(self, a):
        z = array_module(a).sqrt(a)
        self.save_for_backward(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return g / (2 * z)


class Abs(Function):
    """z = |a|;  dz/da = sign(a) (0 at 0)."""

    def forward(self, a):
        self.save_for_backward(a)
        return array_module(a).abs(a)

    def backward(self, g):
        (a,) = self.saved
        return g * array_module(a).sign(a)


class Clip(Function):
    """z = min(max(a, lo), hi);  dz/da = 1 where lo <= a <= hi, else 0."""

    def forward(self, a, lo=None, hi=None):
        xp = array_module(a)
        # array bounds go where a is (CuPy refuses to mix a NumPy array in)
        lo = lo if lo is None or isinstance(lo, int | float) else xp.asarray(lo)
        hi = hi if hi is None or isinstance(hi, int | float) else xp.asarray(hi)
        # not in place: an array bound may broadcast a to a larger shape, which z then has
        mask = xp.ones(a.shape, dtype=bool)
        if lo is not None:
            mask = mask & (a >= lo)
        if hi is not None:
            mask = mask & (a <= hi)
        self.save_for_backward(mask)
        z = xp.clip(a, lo, hi)
        # float32 stays float32; integers clipped to float bounds become floats, as in PyTorch
        return z.astype(a.dtype, copy=False) if a.dtype.kind == "f" else z

    def backward(self, g):
        (mask,) = self.saved
        return g * mask


class ClipTensor(Function):
    """z = min(max(a, lo), hi) with tensor bounds (either may be absent: ``which``), as
    torch.clamp's:  dz/da = 1 where lo <= a <= hi (a at a bound included);  dz/dlo = 1 where
    a < lo < hi;  dz/dhi = 1 where a > hi or hi < lo. When lo > hi the result is hi, so hi, not
    lo, gets the gradient; each bound's is summed back over the axes it broadcast along."""

    def forward(self, a, *bounds, which):
        xp = array_module(a)
        lo, hi = _clip_bounds(bounds, which)
        self.save_for_backward(a, *bounds)
        self.which = which
        z = a if lo is None else xp.maximum(a, lo)  # NaN in a or a bound gives NaN, as torch
        return z if hi is None else xp.minimum(z, hi)

    def backward(self, g):
        a, *bounds = self.saved
        lo, hi = _clip_bounds(bounds, self.which)
        need = iter(self.needs_input_grad)
        if lo is None:
            ga, ghi = a <= hi, a > hi
        elif hi is None:
            ga, glo = a >= lo, a < lo
        else:
            ga, glo, ghi = (a >= lo) & (a <= hi), (a < lo) & (lo < hi), (a > hi) | (hi < lo)
        masks = [ga] + ([glo] if lo is not None else []) + ([ghi] if hi is not None else [])
        return tuple(g * m if next(need) else None for m in masks)


def _clip_bounds(bounds, which):
    """(lo, hi) from ClipTensor's positional bounds: both, or the one ``which`` names."""
    if which == "both":
        return bounds
    return (bounds[0], None) if which == "lo" else (None, bounds[0])


class Maximum(Function):
    """z = max(a, b);  the gradient goes to the larger input, split in half on ties."""

    def forward(self, a, b):
        xp = array_module(a)
        self.save_for_backward(a, b)
        return xp.maximum(a, b)

    def backward(self, g):
        a, b = self.saved
        share = (a > b).astype(g.dtype) + (a == b).astype(g.dtype) * 0.5  # no float64 leak
        return g * share, g * (1 - share)


class Minimum(Function):
    """z = min(a, b);  the gradient goes to the smaller input, split in half on ties."""

    def forward(self, a, b):
        xp = array_module(a)
        self.save_for_backward(a, b)
        return xp.minimum(a, b)

    def backward(self, g):
        a, b = self.saved
        share = (a < b).astype(g.dtype) + (a == b).astype(g.dtype) * 0.5  # no float64 leak
        return g * share, g * (1 - share)


class Where(Function):
    """z = cond ? a : b;  dz/da = cond,  dz/db = not cond (cond gets no gradient)."""

    def forward(self, cond, a, b):
        cond = cond.astype(bool, copy=False)
        self.save_for_backward(cond)
        return array_module(a).where(cond, a, b)

    def backward(self, g):
        (cond,) = self.saved
        return None, g * cond, g * ~cond


class Cast(Function):
    """z = a converted to another dtype;  the gradient is cast back."""

    def forward(self, a, dtype):
        return a.astype(dtype)

    def backward(self, g):
        return g


# --------------------------------------------------------------------------- activations


class ReLU(Function):
    """z = max(a, 0);  dz/da = 1 where a > 0."""

    def forward(self, a):
        mask = a > 0
        self.save_for_backward(mask)
        return array_module(a).maximum(a, 0)  # not a * mask: -inf * 0 is nan

    def backward(self, g):
        (mask,) = self.saved
        return g * mask


class LeakyReLU(Function):
    """z = a if a > 0 else slope * a;  dz/da = 1 or slope."""

    def forward(self, a, slope=0.01):
        xp = array_module(a)
        ftype = a.dtype.type if a.dtype.kind == "f" else np.float64  # an int slope would be 0
        scale = xp.where(a > 0, ftype(1), ftype(slope))
        self.save_for_backward(scale)
        return a * scale

    def backward(self, g):
        (scale,) = self.saved
        return g * scale


def _sigmoid(a):
    """1 / (1 + e^-a) from e = e^-|a| (never overflows), in a's float dtype (see Sigmoid)."""
    xp = array_module(a)
    e = xp.exp(-xp.abs(a))
    z = xp.where(a >= 0, 1, e) / (1 + e)
    if a.dtype.kind == "f":  # float32 stays float32; integers become floats, as for exp
        z = z.astype(a.dtype, copy=False)
    return z


def _erf(a):
    """The error function, elementwise: SciPy's on NumPy arrays (scikit-image brings SciPy),
    CuPy's own on the GPU. NumPy has none."""
    if array_module(a) is np:
        from scipy.special import erf  # noqa: PLC0415 - only GELU needs SciPy
    else:
        from cupyx.scipy.special import erf  # noqa: PLC0415
    return erf(a)


class Sigmoid(Function):
    """z = 1 / (1 + e^-a);  dz/da = z (1 - z).

    Computed from e = e^-|a| (never overflows) as 1 / (1 + e) for a >= 0 and e / (1 + e) for
    a < 0, which keeps full relative accuracy in the tails (sigmoid(-20) = 2.06e-9 in float32,
    where (1 + tanh(a/2)) / 2 rounds to 0)."""

    def forward(self, a):
        z = _sigmoid(a)
        self.save_for_backward(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return g * z * (1 - z)


class Tanh(Function):
    """z = tanh a;  dz/da = 1 - z^2."""

    def forward(self, a):
        z = array_module(a).tanh(a)
        self.save_for_backward(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return g * (1 - z * z)


class SiLU(Function):
    """z = a sigmoid(a) (swish);  dz/da = s (1 + a (1 - s)), s = sigmoid(a)."""

    def forward(self, a):
        s = _sigmoid(a)
        self.save_for_backward(a, s)
        return a * s

    def backward(self, g):
        a, s = self.saved
        return g * (s * (1 + a * (1 - s)))


class GELU(Function):
    """z = a Phi(a), Phi the standard normal CDF (Hendrycks and Gimpel, 2016):

    exact:  Phi(a) = (1 + erf(a / sqrt 2)) / 2,   dz/da = Phi(a) + a phi(a),
            phi(a) = e^(-a^2/2) / sqrt(2 pi);
    'tanh': z = a (1 + t) / 2,  t = tanh(u),  u = sqrt(2/pi) (a + 0.044715 a^3),
            dz/da = (1 + t) / 2 + a (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 a^2) / 2.
    """

    def forward(self, a, approximate="none"):
        xp = array_module(a)
        ftype = a.dtype.type if a.dtype.kind == "f" else np.float64
        self.approximate = approximate
        if approximate == "tanh":
            c = ftype(np.sqrt(2 / np.pi))
            t = xp.tanh(c * (a + ftype(0.044715) * a * a * a))
            self.save_for_backward(a, t)
            return ftype(0.5) * a * (1 + t)
        cdf = ftype(0.5) * (1 + _erf(a * ftype(1 / np.sqrt(2))))
        self.save_for_backward(a, cdf)
        return a * cdf

    def backward(self, g):
        a, s = self.saved
        xp = array_module(a)
        ftype = g.dtype.type
        if self.approximate == "tanh":
            c = ftype(np.sqrt(2 / np.pi))
            du = c * (1 + ftype(3 * 0.044715) * a * a)
            return g * (ftype(0.5) * (1 + s) + ftype(0.5) * a * (1 - s * s) * du)
        pdf = xp.exp(ftype(-0.5) * a * a) * ftype(1 / np.sqrt(2 * np.pi))
        return g * (s + a * pdf)


def _ftype(a):
    """The scalar type of a's float dtype (float64 for integers), so that constants such as
    alpha keep float32 float32 and an integer input is not truncated."""
    return a.dtype.type if a.dtype.kind == "f" else np.float64


def _softplus(xp, u):
    """log(1 + e^u) = max(u, 0) + log1p(e^-|u|): the exponent is never positive."""
    return xp.maximum(u, 0) + xp.log1p(xp.exp(-xp.abs(u)))


#: SELU's constants (Klambauer et al., Self-Normalizing Neural Networks, 2017), PyTorch's digits.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class ELU(Function):
    """z = scale * (a if a > 0 else alpha (e^a - 1)) (Clevert et al., 2015; SELU's scale and
    alpha make it self-normalising);  dz/da = scale where a > 0, else scale alpha e^a (at 0 too,
    as PyTorch: the slope of the negative side)."""

    def forward(self, a, alpha=1.0, scale=1.0):
        xp = array_module(a)
        ftype = _ftype(a)
        pos = a > 0
        em1 = xp.expm1(xp.minimum(a, 0))  # e^a - 1 on the negative side only: no overflow
        z = xp.where(pos, a, ftype(alpha) * em1)
        if scale != 1:
            z = ftype(scale) * z
        self.alpha, self.scale = alpha, scale
        self.save_for_backward(pos, em1)
        return z.astype(ftype, copy=False)

    def backward(self, g):
        pos, em1 = self.saved
        ftype = g.dtype.type
        slope = array_module(g).where(pos, ftype(1), ftype(self.alpha) * (em1 + 1))
        return g * (ftype(self.scale) * slope if self.scale != 1 else slope)


class Softplus(Function):
    """z = log(1 + e^(beta a)) / beta, and z = a where beta a > threshold (PyTorch's rule: there
    the two agree to float precision);  dz/da = sigmoid(beta a), or 1 where beta a > threshold.
    Computed as max(u, 0) + log1p(e^-|u|), u = beta a: no overflow for any a."""

    def forward(self, a, beta=1.0, threshold=20.0):
        xp = array_module(a)
        ftype = _ftype(a)
        u = ftype(beta) * a
        linear = u > threshold
        self.beta = beta
        self.save_for_backward(u, linear)
        z = xp.where(linear, a, _softplus(xp, u) / ftype(beta))
        return z.astype(ftype, copy=False)

    def backward(self, g):
        u, linear = self.saved
        return g * array_module(u).where(linear, g.dtype.type(1), _sigmoid(u))


class Hardtanh(Function):
    """z = min(max(a, lo), hi);  dz/da = 1 where lo < a < hi, else 0 (0 at the bounds too, as
    PyTorch's hardtanh and relu6, unlike clamp, whose gradient passes at its bounds)."""

    def forward(self, a, lo=-1.0, hi=1.0):
        xp = array_module(a)
        ftype = _ftype(a)
        self.save_for_backward((a > lo) & (a < hi))
        return xp.clip(a.astype(ftype, copy=False), ftype(lo), ftype(hi))

    def backward(self, g):
        (inside,) = self.saved
        return g * inside


class Hardsigmoid(Function):
    """z = min(max(a / 6 + 1/2, 0), 1) (MobileNetV3's piecewise-linear sigmoid);
    dz/da = 1/6 where -3 < a < 3, else 0 (at -3 and 3 too, as PyTorch)."""

    def forward(self, a):
        xp = array_module(a)
        ftype = _ftype(a)
        self.save_for_backward((a > -3) & (a < 3))
        return xp.clip(a / ftype(6) + ftype(0.5), ftype(0), ftype(1)).astype(ftype, copy=False)

    def backward(self, g):
        (inside,) = self.saved
        return g * inside * g.dtype.type(1 / 6)


class Hardswish(Function):
    """z = a * hardsigmoid(a) = a min(max(a + 3, 0), 6) / 6 (MobileNetV3);
    dz/da = 0 where a <= -3, 1 where a >= 3, a / 3 + 1/2 between (PyTorch's, at -3 and 3 too)."""

    def forward(self, a):
        xp = array_module(a)
        ftype = _ftype(a)
        self.save_for_backward(a)
        return (a * xp.clip(a + ftype(3), ftype(0), ftype(6)) / ftype(6)).astype(ftype, copy=False)

    def backward(self, g):
        (a,) = self.saved
        xp = array_module(a)
        ftype = g.dtype.type
        slope = xp.where(a <= -3, ftype(0), xp.where(a >= 3, ftype(1), a / ftype(3) + ftype(0.5)))
        return g * slope


class LogSigmoid(Function):
    """z = log sigmoid(a) = -softplus(-a) = min(a, 0) - log1p(e^-|a|) (no overflow, full
    accuracy: log sigmoid(-100) = -100, where log(sigmoid(a)) gives -inf in float32);
    dz/da = 1 - sigmoid(a) = sigmoid(-a)."""

    def forward(self, a):
        xp = array_module(a)
        self.save_for_backward(a)
        z = xp.minimum(a, 0) - xp.log1p(xp.exp(-xp.abs(a)))
        return z.astype(_ftype(a), copy=False)

    def backward(self, g):
        (a,) = self.saved
        return g * _sigmoid(-a).astype(g.dtype, copy=False)


class Mish(Function):
    """z = a tanh(softplus(a)) (Misra, 2019);  dz/da = t + a sigmoid(a) (1 - t^2),
    t = tanh(softplus(a)) (softplus' = sigmoid)."""

    def forward(self, a):
        xp = array_module(a)
        t = xp.tanh(_softplus(xp, a)).astype(_ftype(a), copy=False)
        self.save_for_backward(a, t)
        return a * t

    def backward(self, g):
        a, t = self.saved
        return g * (t + a * _sigmoid(a) * (1 - t * t))


class PReLU(Function):
    """z = a if a > 0 else w a, with a learnt slope w_c per channel (axis 1) or one w for every
    element (He et al., 2015);  dz/da = 1 where a > 0, else w (at a = 0 too, as PyTorch);
    dz/dw_c = the sum of g a over channel c where a <= 0."""

    def forward(self, a, w):
        xp = array_module(a)
        self.w_shape = w.shape
        per_channel = w.size > 1
        wb = w.reshape((-1,) + (1,) * (a.ndim - 2)) if per_channel else w.reshape(())
        pos = a > 0
        self.per_channel = per_channel
        self.save_for_backward(a, wb, pos)
        return xp.where(pos, a, wb * a)

    def backward(self, g):
        a, wb, pos = self.saved
        xp = array_module(a)
        ga = xp.where(pos, g, g * wb) if self.needs_input_grad[0] else None
        gw = None
        if self.needs_input_grad[1]:
            neg = xp.where(pos, 0, g * a)
            axes = tuple(i for i in range(a.ndim) if i != 1) if self.per_channel else None
            gw = neg.sum(axis=axes).reshape(self.w_shape).astype(g.dtype, copy=False)
        return ga, gw


class Softmax(Function):
    """z_i = e^{a_i} / sum_j e^{a_j} along ``axis``;  da = z * (g - sum(g * z))."""

    def forward(self, a, axis=-1):
        xp = array_module(a)
        e = xp.exp(a - a.max(axis=axis, keepdims=True))
        z = e / e.sum(axis=axis, keepdims=True)
        self.axis = axis
        self.save_for_backward(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return z * (g - (g * z).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """z = a - logsumexp(a) along ``axis`` (shifted by the max: no overflow);
    da = g - softmax(a) * sum(g)."""

    def forward(self, a, axis=-1):
        xp = array_module(a)
        shifted = a - a.max(axis=axis, keepdims=True)
        z = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        self.axis = axis
        self.save_for_backward(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        xp = array_module(z)
        return g - xp.exp(z) * g.sum(axis=self.axis, keepdims=True)


# --------------------------------------------------------------------------- the functions


def _promoted(*operands) -> list:
    """The operands of an arithmetic op as tensors, in the dtypes PyTorch's promotion gives
    them where NumPy 2's differs (the result then has PyTorch's dtype):

    * a Python or NumPy scalar takes the tensors' dtype (``as_tensor_like``): float32 * 2.5
      and int8 + 200 keep their dtype (the int wraps around: int8 -55), float64 * 0.5 stays
      float64, and an integer tensor with a float scalar is float32 (uint8 + 1.5);
    * an integer or bool tensor beside a floating one takes its dtype: int64 * float32 is
      float32, not float64 (an int tensor never requires grad, so nothing leaves the graph).

    Two integer tensors, or two floating ones, promote as in both (int32 + int64 is int64,
    float32 + float64 float64)."""
    tensors = [as_tensor_like(x, operands) for x in operands]
    floats = [t.dtype for t in tensors if t.dtype.kind == "f"]
    if not floats or len(floats) == len(tensors):
        return tensors
    dtype = np.result_type(*floats)
    return [t if t.dtype.kind == "f" else _converted(t, dtype) for t in tensors]


def _converted(t, dtype) -> Tensor:
    """A tensor that requires no gradient (an integer or bool one) in another dtype."""
    return Tensor(t.data.astype(dtype), _internal=True)


def add(a, b) -> Tensor:
    """a + b, promoting dtypes as PyTorch does (``_promoted``)."""
    return Add.apply(*_promoted(a, b))


def sub(a, b) -> Tensor:
    """a - b, promoting dtypes as PyTorch does (``_promoted``)."""
    return Sub.apply(*_promoted(a, b))


def mul(a, b) -> Tensor:
    """a * b, promoting dtypes as PyTorch does (``_promoted``)."""
    return Mul.apply(*_promoted(a, b))


def div(a, b) -> Tensor:
    """a / b, true division, as ``torch.div``: integers and bools (tensors or Python numbers)
    divide into the default float dtype, float32 (uint8 / 255 is float32; NumPy's rule gives
    float64). Otherwise dtypes promote as in ``add`` (``_promoted``)."""
    a, b = _promoted(a, b)
    if a.dtype.kind != "f" and b.dtype.kind != "f":  # (no gradient to keep: not floating)
        dtype = backend.default_dtype
        a, b = _converted(a, dtype), _converted(b, dtype)
    return Div.apply(a, b)


def pow(a, b) -> Tensor:  # noqa: A001 - the field's name
    """a ** b, promoting dtypes as PyTorch does (``_promoted``)."""
    return Pow.apply(*_promoted(a, b))


def neg(a) -> Tensor:
    return Neg.apply(a)


def exp(a) -> Tensor:
    return Exp.apply(a)


def log(a) -> Tensor:
    return Log.apply(a)


def sqrt(a) -> Tensor:
    return Sqrt.apply(a)


def abs(a) -> Tensor:  # noqa: A001
    return Abs.apply(a)


def clip(a, lo=None, hi=None, *, min=None, max=None) -> Tensor:  # noqa: A002
    """Clamp to [lo, hi] (either may be None), that is min(max(x, lo), hi): hi where lo > hi,
    as in PyTorch. Numbers or arrays are constants of the op; tensors (broadcasting, as
    ``torch.clamp(x, lo_t, hi_t)``) are inputs of the graph and get gradients: x where
    lo <= x <= hi, lo where x < lo < hi, hi where x > hi or hi < lo. PyTorch's keywords
    ``min=`` and ``max=`` name the same bounds: ``clamp(x, min=0)``."""
    lo = torch_spelling("clamp", "lo", lo, "min", min, None)
    hi = torch_spelling("clamp", "hi", hi, "max", max, None)
    if lo is None and hi is None:  # older NumPy raises its own error, NumPy 2 returns x
        raise ValueError("clip: give lo or hi (min= or max=), or both; neither was given")
    if isinstance(lo, Tensor) or isinstance(hi, Tensor):
        # tensor bounds are inputs of the graph, with gradients (torch.clamp's rule at ties);
        # a number beside one is a constant (PyTorch refuses the mix; nothing is lost here)
        which = "both" if lo is not None and hi is not None else "lo" if lo is not None else "hi"
        bounds = [b for b in (lo, hi) if b is not None]
        return ClipTensor.apply(*_promoted(a, *bounds), which=which)
    return Clip.apply(a, lo=lo, hi=hi)


clamp = clip


def maximum(a, b) -> Tensor:
    """The larger of a and b, elementwise, dtypes promoted as in ``add`` (``_promoted``)."""
    return Maximum.apply(*_promoted(a, b))


def minimum(a, b) -> Tensor:
    """The smaller of a and b, elementwise, dtypes promoted as in ``add`` (``_promoted``)."""
    return Minimum.apply(*_promoted(a, b))


def where(cond, a=None, b=None) -> Tensor:
    """``a`` where ``cond`` is True, else ``b`` (broadcast), as ``torch.where``; ``where(cond)``
    alone is ``nonzero(cond, as_tuple=True)``, the indices of the True elements, as PyTorch's."""
    if a is None and b is None:
        from .index import nonzero  # noqa: PLC0415

        return nonzero(cond, as_tuple=True)
    if a is None or b is None:
        raise TypeError("where: give both a and b (where(cond, a, b)), or neither (where(cond))")
    if isinstance(a, Tensor) or isinstance(b, Tensor):  # as in add: where(m, int_t, 0.5) is
        a, b = _promoted(a, b)  # float32, as PyTorch's (NumPy's rule gave float64)
    return Where.apply(cond, a, b)


# ``inplace`` (relu, leaky_relu; dropout too) is PyTorch's flag, accepted so that code written
# for PyTorch runs: the result is the same, but the input is never overwritten here.


def relu(x, inplace=False) -> Tensor:
    return ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01, inplace=False) -> Tensor:
    return LeakyReLU.apply(x, slope=negative_slope)


def sigmoid(x) -> Tensor:
    return Sigmoid.apply(x)


def tanh(x) -> Tensor:
    return Tanh.apply(x)


def silu(x, inplace=False) -> Tensor:
    """x * sigmoid(x) (also called swish), as ``torch.nn.functional.silu``."""
    return SiLU.apply(x)


def gelu(x, approximate="none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF, as ``torch.nn.functional.gelu``: exact (through
    erf) by default, or with ``approximate='tanh'`` the tanh formula of GPT-2 and BERT."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(x, approximate=approximate)


def _cast(x, dtype):
    """``x`` in ``dtype`` first (a differentiable cast), as PyTorch's ``dtype=`` arguments."""
    if dtype is None:
        return x
    return (x if isinstance(x, Tensor) else Tensor(x)).to(dtype=dtype)


def softmax(x, axis=-1, *, dim=None, dtype=None) -> Tensor:
    """e^x_i / sum_j e^x_j along ``axis`` (PyTorch's ``dim=`` is accepted too); ``dtype``
    casts the input first, as PyTorch's (``F.softmax(att, dim=-1, dtype=torch.float32)``)."""
    axis = torch_spelling("softmax", "axis", axis, "dim", dim, -1)
    return Softmax.apply(_cast(x, dtype), axis=axis)


def log_softmax(x, axis=-1, *, dim=None, dtype=None) -> Tensor:
    """x_i - log sum_j e^x_j along ``axis`` (PyTorch's ``dim=`` is accepted too); ``dtype``
    casts the input first, as PyTorch's."""
    axis = torch_spelling("log_softmax", "axis", axis, "dim", dim, -1)
    return LogSoftmax.apply(_cast(x, dtype), axis=axis)


def elu(x, alpha=1.0, inplace=False) -> Tensor:
    """x where x > 0, alpha (e^x - 1) elsewhere, as ``torch.nn.functional.elu``."""
    return ELU.apply(x, alpha=float(alpha))


def selu(x, inplace=False) -> Tensor:
    """scale * elu(x, alpha) with PyTorch's constants (``SELU_SCALE`` = 1.0507...,
    ``SELU_ALPHA`` = 1.6732...), which keep activations near mean 0, variance 1."""
    return ELU.apply(x, alpha=SELU_ALPHA, scale=SELU_SCALE)


def softplus(x, beta=1.0, threshold=20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta, a smooth relu, as ``torch.nn.functional.softplus``: x itself
    where beta x > ``threshold``. Stable for any x."""
    return Softplus.apply(x, beta=float(beta), threshold=float(threshold))


def hardtanh(x, min_val=-1.0, max_val=1.0, inplace=False) -> Tensor:
    """x clamped to [min_val, max_val], as ``torch.nn.functional.hardtanh``: the gradient is 0
    at the bounds themselves (PyTorch's; ``clamp``'s passes there)."""
    if not min_val <= max_val:
        raise ValueError(
            f"hardtanh: min_val must not be greater than max_val, got {min_val} and {max_val}"
        )
    return Hardtanh.apply(x, lo=float(min_val), hi=float(max_val))


def relu6(x, inplace=False) -> Tensor:
    """min(max(x, 0), 6), ``hardtanh(x, 0, 6)``, as ``torch.nn.functional.relu6``."""
    return Hardtanh.apply(x, lo=0.0, hi=6.0)


def prelu(x, weight) -> Tensor:
    """x where x > 0, weight * x elsewhere, as ``torch.nn.functional.prelu``: ``weight`` holds
    one slope, or one per channel (axis 1 of x), and gets a gradient."""
    n_channels = x.shape[1] if x.ndim >= 2 else 1
    if weight.ndim > 1 or weight.size not in (1, n_channels):
        raise ValueError(
            f"prelu: weight must hold 1 slope or one per channel ({n_channels}, axis 1 of the "
            f"input {tuple(x.shape)}), got shape {tuple(weight.shape)}"
        )
    return PReLU.apply(x, weight)


def logsigmoid(x) -> Tensor:
    """log(1 / (1 + e^-x)), computed stably, as ``torch.nn.functional.logsigmoid``."""
    return LogSigmoid.apply(x)


def softmin(x, axis=-1, *, dim=None) -> Tensor:
    """softmax(-x) along ``axis``: e^-x_i / sum_j e^-x_j (PyTorch's ``dim=`` is accepted too)."""
    return Softmax.apply(Neg.apply(x), axis=torch_spelling("softmin", "axis", axis, "dim", dim, -1))


def mish(x, inplace=False) -> Tensor:
    """x tanh(softplus(x)), as ``torch.nn.functional.mish``."""
    return Mish.apply(x)


def hardsigmoid(x, inplace=False) -> Tensor:
    """min(max(x / 6 + 1/2, 0), 1), as ``torch.nn.functional.hardsigmoid``."""
    return Hardsigmoid.apply(x)


def hardswish(x, inplace=False) -> Tensor:
    """x * hardsigmoid(x), as ``torch.nn.functional.hardswish``."""
    return Hardswish.apply(x)


# --------------------------------------------------------------------------- more of torch's math


class Sin(Function):
    """z = sin a;  dz/da = cos a."""

    def forward(self, a):
        self.save_for_backward(a)
        return array_module(a).sin(a)

    def backward(self, g):
        (a,) = self.saved
        return g * array_module(a).cos(a)


class Cos(Function):
    """z = cos a;  dz/da = -sin a."""

    def forward(self, a):
        self.save_for_backward(a)
        return array_module(a).cos(a)

    def backward(self, g):
        (a,) = self.saved
        return -g * array_module(a).sin(a)


class Log1p(Function):
    """z = ln(1 + a), accurate for small a (where 1 + a rounds);  dz/da = 1 / (1 + a)."""

    def forward(self, a):
        self.save_for_backward(a)
        return array_module(a).log1p(a)

    def backward(self, g):
        (a,) = self.saved
        return g / (1 + a)


class LogBase(Function):
    """z = log_b a = ln a / ln b, for b = 10 or 2;  dz/da = 1 / (a ln b)."""

    def forward(self, a, base):
        self.save_for_backward(a)
        self.ln_base = float(np.log(base))
        xp = array_module(a)
        return xp.log10(a) if base == 10 else xp.log2(a)

    def backward(self, g):
        (a,) = self.saved
        return g / (a * a.dtype.type(self.ln_base))


class Expm1(Function):
    """z = e^a - 1, accurate for small a;  dz/da = z + 1."""

    def forward(self, a):
        z = array_module(a).expm1(a)
        self.save_for_backward(z)
        return z

    def backward(self, g):
        (z,) = self.saved
        return g * (z + 1)


class Step(Function):
    """z = floor, ceil, round or sign of a: piecewise constant, so dz/da = 0 (as PyTorch's,
    which passes no gradient through them either)."""

    def forward(self, a, name, decimals=0):
        xp = array_module(a)
        return xp.round(a, decimals) if name == "round" else getattr(xp, name)(a)

    def backward(self, g):
        return array_module(g).zeros_like(g)


def _refuse_bools(op, a, b):
    if a.dtype == bool and b.dtype == bool:
        raise TypeError(
            f"{op} of two bool tensors is not supported (as in PyTorch); convert one first "
            f"(a.long())"
        )


class FloorDivide(Function):
    """z = floor(a / b), as Python's and PyTorch's ``//``: piecewise constant, so its gradient
    is 0 (PyTorch raises in backward, "derivative for aten::floor_divide is not implemented";
    0 is the gradient of floor(a / b) there too, and of floor and round here)."""

    def forward(self, a, b):
        _refuse_bools("floor division (//)", a, b)
        xp = array_module(a)
        check_integer_divisor("floor division (//)", b, xp.result_type(a, b))
        with np.errstate(divide="ignore", invalid="ignore"):  # x // 0.0: inf or nan, as torch
            return xp.floor_divide(a, b)

    def backward(self, g):
        zero = array_module(g).zeros_like(g)
        return tuple(zero if need else None for need in self.needs_input_grad)


class Remainder(Function):
    """z = a - q b, with q = floor(a / b) (``remainder``: z has b's sign, as Python's and
    PyTorch's ``%``) or q = trunc(a / b) (``fmod``: z has a's sign, as C's);
    dz/da = 1,  dz/db = -q (PyTorch's backward: away from the jumps where q changes)."""

    def forward(self, a, b, name):
        _refuse_bools(name, a, b)
        xp = array_module(a)
        check_integer_divisor(name, b, xp.result_type(a, b))
        self.kind = name
        if self.needs_input_grad[1]:  # only b's gradient reads the inputs (q)
            self.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):  # x % 0.0 is nan, as in torch
            return xp.remainder(a, b) if name == "remainder" else xp.fmod(a, b)

    def backward(self, g):
        gb = None
        if self.needs_input_grad[1]:
            a, b = self.saved
            xp = array_module(a)
            with np.errstate(divide="ignore", invalid="ignore"):
                # floor_divide is Python's a // b, as torch's div(rounding_mode='floor')
                q = xp.floor_divide(a, b) if self.kind == "remainder" else xp.trunc(a / b)
                gb = -g * q  # inf or nan where b is 0, as in torch
        return (g if self.needs_input_grad[0] else None), gb


def floor_divide(input, other) -> Tensor:  # noqa: A002 - PyTorch's name
    """floor(input / other), elementwise, as ``torch.floor_divide`` and ``//``: integers stay
    integers (-7 // 2 is -4), dtypes promote as in ``add``; an integer division by zero is
    refused, as in PyTorch. Its gradient is 0."""
    return FloorDivide.apply(*_promoted(input, other))


def remainder(input, other) -> Tensor:  # noqa: A002
    """input - floor(input / other) * other, as ``torch.remainder`` and ``%``: the result has
    the divisor's sign (-7 % 3 is 2, 7 % -3 is -2), as Python's and NumPy's. Gradients 1 for
    input and -floor(input / other) for other, as PyTorch's (whose ``5.0 % t``, a number
    first, has no derivative; here it has this one)."""
    return Remainder.apply(*_promoted(input, other), name="remainder")


def fmod(input, other) -> Tensor:  # noqa: A002
    """input - trunc(input / other) * other, as ``torch.fmod`` (C's fmod): the result has the
    dividend's sign (-7 fmod 3 is -1). Gradients 1 and -trunc(input / other), as PyTorch's."""
    return Remainder.apply(*_promoted(input, other), name="fmod")


def sin(input) -> Tensor:  # noqa: A002 - PyTorch's name
    return Sin.apply(input)


def cos(input) -> Tensor:  # noqa: A002
    return Cos.apply(input)


def log1p(input) -> Tensor:  # noqa: A002
    """ln(1 + x), exact where 1 + x would round (x = 1e-10 in float32), as ``torch.log1p``."""
    return Log1p.apply(input)


def log10(input) -> Tensor:  # noqa: A002
    """The base-10 logarithm, as ``torch.log10``: a PSNR is ``10 * torch.log10(1 / mse)``."""
    return LogBase.apply(input, base=10)


def log2(input) -> Tensor:  # noqa: A002
    """The base-2 logarithm, as ``torch.log2``."""
    return LogBase.apply(input, base=2)


def expm1(input) -> Tensor:  # noqa: A002
    """e^x - 1, exact for small x, as ``torch.expm1``."""
    return Expm1.apply(input)


def floor(input) -> Tensor:  # noqa: A002
    """The largest integer <= x, elementwise, as ``torch.floor``; its gradient is 0."""
    return Step.apply(input, name="floor")


def ceil(input) -> Tensor:  # noqa: A002
    """The smallest integer >= x, elementwise, as ``torch.ceil``; its gradient is 0."""
    return Step.apply(input, name="ceil")


def round(input, *, decimals=0) -> Tensor:  # noqa: A001, A002
    """x rounded to ``decimals`` places, halves to even (round(2.5) = 2), as ``torch.round``;
    its gradient is 0."""
    return Step.apply(input, name="round", decimals=int(decimals))


def sign(input) -> Tensor:  # noqa: A002
    """-1, 0 or 1 as x is negative, zero or positive, as ``torch.sign``; its gradient is 0."""
    return Step.apply(input, name="sign")


def reciprocal(input) -> Tensor:  # noqa: A002
    """1 / x, as ``torch.reciprocal``."""
    return div(1.0, input)


def rsqrt(input) -> Tensor:  # noqa: A002
    """1 / sqrt(x), as ``torch.rsqrt``."""
    return pow(input, -0.5)


def square(input) -> Tensor:  # noqa: A002
    """x * x, as ``torch.square``."""
    return mul(input, input)


def lerp(input, end, weight) -> Tensor:  # noqa: A002
    """input + weight (end - input), as ``torch.lerp``: the linear interpolation from ``input``
    (weight 0) to ``end`` (weight 1), ``weight`` a number or a tensor (each in the graph)."""
    return add(input, mul(weight, sub(end, input)))
