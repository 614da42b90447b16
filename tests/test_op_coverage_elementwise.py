"""Options of the elementwise ops that test_elementwise.py leaves at one value: clip with only
an upper bound, with array bounds and with tensor bounds (broadcasting), leaky_relu's slope,
where with Python numbers and each argument broadcast; floor_divide, remainder and fmod; and
the Tensor methods and operators that route to the ops. Gradcheck over hypothesis-drawn
shapes, forward against NumPy or Python's own operators, no PyTorch."""

from __future__ import annotations

import math
import operator

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


@pytest.mark.parametrize("crossed", [False, True], ids=["lo<hi", "lo>hi"])
@given_settings
@given(data=st.data())
def test_clamp_tensor_bounds_gradcheck_and_forward(device, crossed, data):
    """tensor bounds (one, or both; each of the input's shape, broadcasting to it, or larger)
    are inputs with gradients: lo where x < lo, hi where x > hi, x between them. Crossed
    (every lo > hi), the result is hi throughout and only hi gets a gradient, as in torch."""
    big, small = data.draw(broadcastable_pair())
    x_shape, lo_shape, hi_shape = (data.draw(st.sampled_from([big, small])) for _ in range(3))
    which = data.draw(st.sampled_from(["both", "lo", "hi"]))
    lo_range, hi_range = ((0.2, 1.5), (-1.5, -0.2)) if crossed else ((-1.5, -0.2), (0.2, 1.5))
    lo = data.draw(arrays(lo_shape, *lo_range)) if which != "hi" else None
    hi = data.draw(arrays(hi_shape, *hi_range)) if which != "lo" else None
    # on disjoint grids (x on odd multiples of 0.05, the bounds on multiples of 0.1): x is never
    # within 0.05 of a bound, whichever broadcasts, and lo and hi never meet
    a = np.round(data.draw(arrays(x_shape)) * 10) / 10 + 0.05
    lo, hi = (None if b is None else np.round(b * 10) / 10 for b in (lo, hi))
    bounds = [None if b is None else tensor(b, device) for b in (lo, hi)]
    x = tensor(a, device)
    out = F.clamp(x, *bounds)
    loop = np.vectorize(lambda v, lo_, hi_: min(max(v, lo_), hi_))  # Python's min and max
    want = loop(a, -np.inf if lo is None else lo, np.inf if hi is None else hi)
    assert out.shape == want.shape
    np.testing.assert_array_equal(out.numpy(), want)
    present = [b for b in bounds if b is not None]
    slots = [i for i, b in enumerate(bounds) if b is not None]

    def clamp(t, *bs):
        full = [None, None]
        for i, b in zip(slots, bs):
            full[i] = b
        return t.clamp(*full)  # the method, each bound a tensor in the graph

    assert tc.gradcheck(clamp, [x, *present])
    if crossed and which == "both":  # the result is hi: x and lo get no gradient
        np.testing.assert_array_equal(out.numpy(), np.broadcast_to(hi, out.shape))
        out.backward(np.ones(out.shape))
        assert not to_numpy(x.grad).any() and not to_numpy(bounds[0].grad).any()


@st.composite
def _dividends_and_divisors(draw):
    """a and b (broadcasting, either the larger) with b in +-{0.5, 1, 2, 4} and a within 0.1 of
    n + 1/4: a / b is then at least 0.0375 away from an integer, whichever broadcasts, so
    central differences never straddle a jump of floor(a / b) or trunc(a / b)."""
    big, small = draw(broadcastable_pair())
    sa, sb = (big, small) if draw(st.booleans()) else (small, big)
    a = np.floor(draw(arrays(sa, -4, 4))) + 0.25 + draw(arrays(sa, -0.1, 0.1))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    b = rng.choice([0.5, 1.0, 2.0, 4.0], sb) * rng.choice([-1.0, 1.0], sb)
    return a, b


# name: (the op, the reference on Python floats (an elementwise loop))
DIVISIONS = {
    "remainder": (F.remainder, operator.mod),  # Python's %: the divisor's sign
    "mod_operator": (lambda p, q: p % q, operator.mod),
    "fmod": (F.fmod, math.fmod),  # C's fmod: the dividend's sign
    "fmod_method": (lambda p, q: p.fmod(q), math.fmod),
    "floor_divide": (F.floor_divide, operator.floordiv),  # zero gradient
    "floordiv_operator": (lambda p, q: p // q, operator.floordiv),
}


@pytest.mark.parametrize("name", sorted(DIVISIONS))
@given_settings
@given(data=st.data())
def test_remainder_fmod_floor_divide_gradcheck_and_forward(device, name, data):
    op, ref = DIVISIONS[name]
    a, b = data.draw(_dividends_and_divisors())
    x, y = tensor(a, device), tensor(b, device)
    out = op(x, y)
    want = np.vectorize(ref)(a, b)
    assert out.dtype == np.float64 and out.shape == want.shape
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)
    assert tc.gradcheck(op, [x, y])
    # with a Python number as the divisor, and a constant 0-d tensor as the dividend (3.3 % t,
    # the reflected operators, are in METHODS)
    three = tc.Tensor(np.float64(3.3), device=device)
    assert tc.gradcheck(lambda p: op(p, -1.75) + op(three, p), [y])


@given_settings
@given(shape=shapes(1, 3, 1, 4), data=st.data())
def test_integer_floor_divide_and_remainder_forward(device, shape, data):
    """On integers: Python's // and % element by element (floor, the divisor's sign), and C's
    fmod; the dtype kept (int32 stays int32, as in PyTorch)."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31 - 1)))
    a = rng.integers(-50, 50, shape).astype(np.int32)
    b = rng.integers(1, 7, shape).astype(np.int32) * rng.choice([-1, 1], shape).astype(np.int32)
    x, y = tc.Tensor(a, device=device), tc.Tensor(b, device=device)
    for got, ref in ((x // y, operator.floordiv), (x % y, operator.mod),
                     (tc.fmod(x, y), lambda p, q: int(math.fmod(p, q)))):  # fmt: skip
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got.numpy(), np.vectorize(ref)(a.tolist(), b.tolist()))
    np.testing.assert_array_equal((x // 4).numpy(), np.vectorize(lambda v: v // 4)(a.tolist()))
    np.testing.assert_array_equal((-7 % y).numpy(), np.vectorize(lambda v: -7 % v)(b.tolist()))


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
    "pos": (lambda t: +t, lambda t: t),
    "floordiv": (lambda t: t // 5.0, lambda t: F.floor_divide(t, 5.0)),
    "mod": (lambda t: t % 5.0, lambda t: F.remainder(t, 5.0)),  # |t| < 5: a jump at 0 only
    "rmod": (lambda t: 5.0 % (t * t + 1), lambda t: F.remainder(5.0, t * t + 1)),
    "rfloordiv": (lambda t: 5.0 // (t * t + 1), lambda t: F.floor_divide(5.0, t * t + 1)),
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
    "floor_divide": (lambda t: t.floor_divide(5.0), lambda t: F.floor_divide(t, 5.0)),
    "remainder": (lambda t: t.remainder(5.0), lambda t: F.remainder(t, 5.0)),
    "fmod": (lambda t: t.fmod(-5.0), lambda t: F.fmod(t, -5.0)),
    "clamp_tensors": (lambda t: t.clamp(t[:1] * 0.5, t[1:2].abs() + 0.5),
                      lambda t: F.clip(t, t[:1] * 0.5, t[1:2].abs() + 0.5)),
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
