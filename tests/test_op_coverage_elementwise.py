"""Options of the elementwise ops that test_elementwise.py leaves at one value: clip with only
an upper bound and with array bounds (broadcasting), leaky_relu's slope, where with Python
numbers and each argument broadcast; and the Tensor methods and operators that route to the
ops. Gradcheck over hypothesis-drawn shapes, forward against NumPy, no PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, broadcastable_pair, given_settings, shapes, tensor

import tinycolor as tc
from tinycolor import functional as F
from tinycolor.backend import to_numpy


def _off(a, bound, margin=0.05):
    """a with the values within ``margin`` of ``bound`` (elementwise, broadcast) moved 2 margins
    away, so that central differences never straddle a clip's kink."""
    bound = np.broadcast_to(bound, np.broadcast_shapes(np.shape(a), np.shape(bound)))
    a = np.broadcast_to(a, bound.shape).copy()
    close = np.abs(a - bound) < margin
    a[close] = bound[close] + np.where(a[close] >= bound[close], 2, -2) * margin
    return a


@st.composite
def _bound(draw, shape, lo, hi):
    kind = draw(st.sampled_from(["array", "number", "none"]))
    if kind == "none":
        return None
    if kind == "number":
        return draw(st.floats(lo, hi))
    return draw(arrays(shape, lo, hi))


@pytest.mark.parametrize("larger_bounds", [False, True], ids=["bounds-fit", "bounds-larger"])
@given_settings
@given(data=st.data())
def test_clip_bounds_gradcheck_and_forward(device, larger_bounds, data):
    """Each bound None, a number or an array: of the input's shape or broadcasting to it, or
    (``larger_bounds``) of a larger shape that the output takes, as in np.clip and
    torch.clamp."""
    big, small = data.draw(broadcastable_pair())
    a_shape = small if larger_bounds else big
    lo = data.draw(_bound(big if larger_bounds else small, -1.5, -0.2))
    hi = data.draw(_bound(data.draw(st.sampled_from([big, small])), 0.2, 1.5))
    if lo is None and hi is None:
        hi = 0.5
    if larger_bounds:  # strictly between every lo and hi: the kinks are far
        a = data.draw(arrays(a_shape, -0.15, 0.15))
    else:
        a = data.draw(arrays(a_shape))
        for b in (lo, hi):
            if b is not None:
                a = _off(a, b)
    x = tensor(a, device)
    out = F.clip(x, lo, hi)
    want = np.clip(a, -np.inf if lo is None else lo, np.inf if hi is None else hi)
    assert out.shape == want.shape
    np.testing.assert_array_equal(out.numpy(), want)
    assert tc.gradcheck(lambda t: F.clip(t, lo, hi), [x])
    assert tc.gradcheck(lambda t: t.clip(lo, hi), [x])  # the method


@given_settings
@given(shape=shapes(1, 3, 1, 4), slope=st.floats(-1.0, 3.0), data=st.data())
def test_leaky_relu_slope_gradcheck_and_forward(device, shape, slope, data):
    a = data.draw(arrays(shape, away_from=(0.0,), margin=0.02))
    x = tensor(a, device)
    np.testing.assert_allclose(
        F.leaky_relu(x, slope).numpy(), np.where(a > 0, a, slope * a), rtol=1e-15
    )
    assert tc.gradcheck(lambda t: F.leaky_relu(t, slope), [x])


@given_settings
@given(data=st.data())
def test_where_every_argument_broadcast_and_python_numbers(device, data):
    big, small = data.draw(broadcastable_pair())
    c_shape, a_shape, b_shape = (data.draw(st.sampled_from([big, small])) for _ in range(3))
    cond = data.draw(arrays(c_shape, -1, 1)) > 0
    a, b = data.draw(arrays(a_shape)), data.draw(arrays(b_shape))
    c = tc.Tensor(cond, device=device)
    x, y = tensor(a, device), tensor(b, device)
    out = F.where(c, x, y)
    np.testing.assert_array_equal(out.numpy(), np.where(cond, a, b))
    assert tc.gradcheck(lambda p, q: F.where(c, p, q), [x, y])
    np.testing.assert_array_equal(F.where(c, x, 0.5).numpy(), np.where(cond, a, 0.5))
    assert tc.gradcheck(lambda p: F.where(c, p, 0.5), [x])
    np.testing.assert_array_equal(F.where(cond, -1.0, y).numpy(), np.where(cond, -1.0, b))
    assert tc.gradcheck(lambda q: F.where(cond, -1.0, q), [y])  # a NumPy condition too


# name: (the method or operator, the functional form it must equal)
METHODS = {
    "sum": (lambda t: t.sum(axis=1, keepdims=True), lambda t: F.sum(t, 1, True)),
    "mean": (lambda t: t.mean(axis=0), lambda t: F.mean(t, 0)),
    "max": (lambda t: t.max(axis=-1), lambda t: F.max(t, -1)),
    "var": (lambda t: t.var(axis=1, unbiased=True), lambda t: F.var(t, 1, True, False)),
    "reshape": (lambda t: t.reshape(-1, 2), lambda t: F.reshape(t, (-1, 2))),
    "view": (lambda t: t.view((2, -1)), lambda t: F.reshape(t, (2, -1))),
    "transpose": (lambda t: t.transpose(1, 0), lambda t: F.transpose(t, (1, 0))),
    "permute": (lambda t: t.permute((1, 0)), lambda t: F.permute(t, 1, 0)),
    "T": (lambda t: t.T, lambda t: F.transpose(t)),
    "flatten": (lambda t: t.flatten(), lambda t: F.flatten(t)),
    "exp": (lambda t: t.exp(), F.exp),
    "log": (lambda t: (t * t + 1).log(), lambda t: F.log(t * t + 1)),
    "sqrt": (lambda t: (t * t + 1).sqrt(), lambda t: F.sqrt(t * t + 1)),
    "abs": (lambda t: abs(t), F.abs),
    "abs_method": (lambda t: t.abs(), F.abs),
    "relu": (lambda t: t.relu(), F.relu),
    "sigmoid": (lambda t: t.sigmoid(), F.sigmoid),
    "tanh": (lambda t: t.tanh(), F.tanh),
    "softmax": (lambda t: t.softmax(axis=0), lambda t: F.softmax(t, 0)),
    "log_softmax": (lambda t: t.log_softmax(), lambda t: F.log_softmax(t, -1)),
    "neg": (lambda t: -t, F.neg),
    "radd": (lambda t: 1.5 + t, lambda t: F.add(1.5, t)),
    "rmul": (lambda t: 1.5 * t, lambda t: F.mul(1.5, t)),
    "rsub": (lambda t: 1.5 - t, lambda t: F.sub(1.5, t)),
    "rdiv": (lambda t: 1.5 / (t * t + 1), lambda t: F.div(1.5, t * t + 1)),
    "rpow": (lambda t: 1.5**t, lambda t: F.pow(1.5, t)),
    "matmul": (lambda t: t @ t.T, lambda t: F.matmul(t, F.transpose(t))),
    "getitem": (lambda t: t[::-1, 1:], lambda t: F.getitem(t, np.s_[::-1, 1:])),
    # PyTorch's method names
    "pow": (lambda t: t.pow(3), lambda t: F.pow(t, 3)),
    "neg_method": (lambda t: t.neg(), F.neg),
    "matmul_method": (lambda t: t.matmul(t.T), lambda t: F.matmul(t, F.transpose(t))),
    "mm": (lambda t: t.mm(t.t()), lambda t: F.matmul(t, F.transpose(t))),
    "t": (lambda t: t.t(), F.transpose),
    "view_as": (lambda t: t.view_as(t.T), lambda t: F.reshape(t, t.shape[::-1])),
    "contiguous": (lambda t: t.T.contiguous(), F.transpose),
    "min": (lambda t: t.min(axis=1), lambda t: F.neg(F.max(F.neg(t), 1))),
    "std": (lambda t: t.std(1, False), lambda t: F.sqrt(F.var(t, 1, False))),
}  # fmt: skip


@given_settings
@given(rows=st.integers(1, 4), data=st.data())
def test_tensor_methods_and_operators_route_to_the_ops(device, rows, data):
    a = data.draw(arrays((rows, 4), away_from=(0.0,)))  # 4 columns: reshape(-1, 2) fits
    for name, (method, functional) in METHODS.items():
        x = tensor(a, device)
        np.testing.assert_array_equal(method(x).numpy(), functional(x).numpy(), err_msg=name)
        assert tc.gradcheck(method, [x]), name


def test_sigmoid_keeps_relative_accuracy_in_the_tails_float32(device):
    """sigmoid(-20) = 2.06e-9: a float32 formula through 1 + tanh(a/2) rounds it to 0. The
    reference is the closed form e^a / (1 + e^a) in float64."""
    a = np.array([-80.0, -20.0, -5.0, 0.0, 5.0, 20.0, 80.0], np.float32)
    x = tc.Tensor(a, requires_grad=True, device=device)
    y = F.sigmoid(x)
    a64 = a.astype(np.float64)
    want = np.exp(a64) / (1 + np.exp(a64))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-6)
    y.backward(np.ones(7, np.float32))
    # z (1 - z): relative accuracy where z is small; where z rounds to 1, as in PyTorch, 0
    grad, want_grad = to_numpy(x.grad), want * (1 - want)
    np.testing.assert_allclose(grad[a <= 0], want_grad[a <= 0], rtol=1e-5, atol=1e-30)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-5, atol=1e-8)
