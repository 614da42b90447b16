"""Elementwise ops and activations: gradcheck (float64, hypothesis shapes, broadcasting pairs,
values kept off kinks), forward against NumPy, and forward + gradient against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    arrays,
    broadcastable_pair,
    check_unary_against_torch,
    check_unary_forward_and_gradient,
    given_settings,
    shapes,
    tensor,
)

import tinycolor as tc
from tinycolor import functional as F
from tinycolor.backend import to_numpy
from tinycolor.functional import elementwise as E

# The `device` fixture is function-scoped but holds only a name: safe to share across examples.


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


_math_erf = np.vectorize(math.erf)  # a loop over Python's erf: independent of SciPy's


def _np_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


# name: (tinycolor op, NumPy reference, (lo, hi) of the drawn values, kinks to keep away from)
UNARY = {
    "neg": (lambda x: -x, lambda x: -x, (-2, 2), ()),
    "exp": (F.exp, np.exp, (-2, 2), ()),
    "log": (F.log, np.log, (0.1, 3), ()),
    "sqrt": (F.sqrt, np.sqrt, (0.1, 3), ()),
    "abs": (F.abs, np.abs, (-2, 2), (0.0,)),
    "relu": (F.relu, lambda x: np.maximum(x, 0), (-2, 2), (0.0,)),
    "leaky_relu": (
        lambda x: F.leaky_relu(x, 0.2),
        lambda x: np.where(x > 0, x, 0.2 * x),
        (-2, 2),
        (0.0,),
    ),
    "sigmoid": (F.sigmoid, _np_sigmoid, (-6, 6), ()),
    "tanh": (F.tanh, np.tanh, (-3, 3), ()),
    "silu": (F.silu, lambda x: x * _np_sigmoid(x), (-6, 6), ()),
    "gelu": (F.gelu, lambda x: x * (1 + _math_erf(x / np.sqrt(2))) / 2, (-5, 5), ()),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), _np_gelu_tanh, (-5, 5), ()),
    "clip": (lambda x: F.clip(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7), (-2, 2), (-0.5, 0.7)),
    "clip_lo": (lambda x: F.clip(x, lo=-0.5), lambda x: np.maximum(x, -0.5), (-2, 2), (-0.5,)),
    "pow3": (lambda x: x**3, lambda x: x**3, (-2, 2), ()),
    "pow_half": (lambda x: x**0.5, np.sqrt, (0.1, 3), ()),
    "rpow": (lambda x: 2.0**x, lambda x: 2.0**x, (-2, 2), ()),
    "rsub": (lambda x: 1.5 - x, lambda x: 1.5 - x, (-2, 2), ()),
    "rdiv": (lambda x: 1.5 / x, lambda x: 1.5 / x, (0.2, 3), ()),
}

TORCH_UNARY = {
    "neg": lambda torch, x: -x,
    "exp": lambda torch, x: torch.exp(x),
    "log": lambda torch, x: torch.log(x),
    "sqrt": lambda torch, x: torch.sqrt(x),
    "abs": lambda torch, x: torch.abs(x),
    "relu": lambda torch, x: torch.relu(x),
    "leaky_relu": lambda torch, x: torch.nn.functional.leaky_relu(x, 0.2),
    "sigmoid": lambda torch, x: torch.sigmoid(x),
    "tanh": lambda torch, x: torch.tanh(x),
    "silu": lambda torch, x: torch.nn.functional.silu(x),
    "gelu": lambda torch, x: torch.nn.functional.gelu(x),
    "gelu_tanh": lambda torch, x: torch.nn.functional.gelu(x, approximate="tanh"),
    "clip": lambda torch, x: torch.clamp(x, -0.5, 0.7),
    "clip_lo": lambda torch, x: torch.clamp(x, min=-0.5),
    "pow3": lambda torch, x: x**3,
    "pow_half": lambda torch, x: x**0.5,
    "rpow": lambda torch, x: 2.0**x,
    "rsub": lambda torch, x: 1.5 - x,
    "rdiv": lambda torch, x: 1.5 / x,
}


def _tidy(a, b):
    """Put values on disjoint grids (a on odd multiples of 0.05, b on multiples of 0.1) so
    that a and b are never within 0.05 of each other: no ties for maximum and minimum."""
    return np.round(a * 10) / 10 + 0.05, np.round(b * 10) / 10


# name: (tinycolor op, NumPy reference, range of a, range of b)
BINARY = {
    "add": (lambda a, b: a + b, np.add, (-2, 2), (-2, 2)),
    "sub": (lambda a, b: a - b, np.subtract, (-2, 2), (-2, 2)),
    "mul": (lambda a, b: a * b, np.multiply, (-2, 2), (-2, 2)),
    "div": (lambda a, b: a / b, np.divide, (-2, 2), (0.3, 2)),
    "pow": (lambda a, b: a**b, np.power, (0.3, 2), (-2, 2)),
    "maximum": (F.maximum, np.maximum, (-2, 2), (-2, 2)),
    "minimum": (F.minimum, np.minimum, (-2, 2), (-2, 2)),
}

TORCH_BINARY = {
    "add": lambda torch, a, b: a + b,
    "sub": lambda torch, a, b: a - b,
    "mul": lambda torch, a, b: a * b,
    "div": lambda torch, a, b: a / b,
    "pow": lambda torch, a, b: a**b,
    "maximum": lambda torch, a, b: torch.maximum(a, b),
    "minimum": lambda torch, a, b: torch.minimum(a, b),
}


# --------------------------------------------------------------------------- unary ops


@pytest.mark.parametrize("name", sorted(UNARY))
@given_settings
@given(shape=shapes(1, 3, 1, 4), data=st.data())
def test_unary_gradcheck_and_forward(device, name, shape, data):
    op, ref, (lo, hi), kinks = UNARY[name]
    a = data.draw(arrays(shape, lo, hi, away_from=kinks, margin=0.02))
    check_unary_forward_and_gradient(op, ref, tensor(a, device))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_against_torch(device, name):
    torch = pytest.importorskip("torch")
    op, _, (lo, hi), kinks = UNARY[name]
    theirs = TORCH_UNARY[name]
    check_unary_against_torch(torch, op, lambda t: theirs(torch, t), lo, hi, device, kinks)


# --------------------------------------------------------------------------- binary ops


@st.composite
def _binary_inputs(draw, name):
    _, _, (alo, ahi), (blo, bhi) = BINARY[name]
    big, small = draw(broadcastable_pair())
    sa, sb = (big, small) if draw(st.booleans()) else (small, big)
    a, b = draw(arrays(sa, alo, ahi)), draw(arrays(sb, blo, bhi))
    if name in ("maximum", "minimum"):
        a, b = _tidy(a, b)
    return a, b


@pytest.mark.parametrize("name", sorted(BINARY))
@given_settings
@given(data=st.data())
def test_binary_gradcheck_and_forward(device, name, data):
    op, ref, _, _ = BINARY[name]
    a, b = data.draw(_binary_inputs(name))
    x, y = tensor(a, device), tensor(b, device)
    out = op(x, y)
    np.testing.assert_allclose(out.numpy(), ref(a, b), rtol=1e-12, atol=1e-14)
    assert tc.gradcheck(op, [x, y])
    # the engine sums the gradient back to each input's own shape
    out.backward(np.ones(out.shape))
    assert x.grad.shape == a.shape and y.grad.shape == b.shape


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_against_torch(device, name):
    torch = pytest.importorskip("torch")
    op, _, (alo, ahi), (blo, bhi) = BINARY[name]
    rng = np.random.default_rng(3)
    a, b = rng.uniform(alo, ahi, size=(2, 1, 4)), rng.uniform(blo, bhi, size=(3, 1))
    if name in ("maximum", "minimum"):
        a, b = _tidy(a, b)
    x, y = (
        tc.Tensor(a, requires_grad=True, device=device),
        tc.Tensor(b, requires_grad=True, device=device),
    )
    out = op(x, y)
    v = rng.standard_normal(out.shape)
    out.backward(v)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    tout = TORCH_BINARY[name](torch, tx, ty)
    tout.backward(torch.tensor(v))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(to_numpy(y.grad), ty.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("op", [F.maximum, F.minimum])
def test_maximum_minimum_split_ties_in_half(device, op):
    x = tc.Tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    y = tc.Tensor([1.0, 0.0, 5.0], requires_grad=True, device=device)
    op(x, y).sum().backward()
    first = [0.5, 1.0, 0.0] if op is F.maximum else [0.5, 0.0, 1.0]
    np.testing.assert_array_equal(to_numpy(x.grad), first)
    np.testing.assert_array_equal(to_numpy(y.grad), 1 - np.array(first))


@given_settings
@given(data=st.data())
def test_where_gradcheck_with_broadcast_condition(device, data):
    big, small = data.draw(broadcastable_pair())
    cond = data.draw(arrays(small, -1, 1)) > 0
    a, b = data.draw(arrays(big)), data.draw(arrays(small))
    c = tc.Tensor(cond, device=device)
    x, y = tensor(a, device), tensor(b, device)
    np.testing.assert_array_equal(F.where(c, x, y).numpy(), np.where(cond, a, b))
    assert tc.gradcheck(lambda x, y: F.where(c, x, y), [x, y])


def test_where_with_python_scalar_keeps_float32(device):
    x = tc.Tensor(np.array([-1.0, 2.0], np.float32), requires_grad=True, device=device)
    y = F.where(x > 0, x, 0.0)
    assert y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), [0.0, 1.0])


# --------------------------------------------------------------------------- softmax family


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@given_settings
@given(shape=shapes(1, 3, 1, 4), data=st.data())
def test_softmax_gradcheck_and_forward(device, op, shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    a = data.draw(arrays(shape, -3, 3))
    x = tensor(a, device)
    fn = getattr(F, op)
    ref = _np_softmax(a, axis)
    expected = ref if op == "softmax" else np.log(ref)
    np.testing.assert_allclose(fn(x, axis).numpy(), expected, rtol=1e-12, atol=1e-14)
    assert tc.gradcheck(lambda t: fn(t, axis), [x])


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_against_torch_and_large_logits(device, op):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    a = (rng.standard_normal((3, 5, 2)) * 1e4).astype(np.float32)
    v = rng.standard_normal(a.shape).astype(np.float32)
    x = tc.Tensor(a, requires_grad=True, device=device)
    out = getattr(x, op)(axis=1)
    out.backward(v)
    assert np.isfinite(out.numpy()).all() and np.isfinite(to_numpy(x.grad)).all()
    tx = torch.tensor(a, requires_grad=True)
    tout = getattr(torch, op)(tx, dim=1)
    tout.backward(torch.tensor(v))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_takes_pytorchs_dim(device, op):
    """F.softmax(x, dim=1) and x.softmax(dim=1), as written for PyTorch, along the same axis
    as PyTorch's (not refused, and not the default last axis)."""
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(5).standard_normal((2, 3, 4))
    x = tc.Tensor(a, device=device)
    want = getattr(torch.nn.functional, op)(torch.tensor(a), dim=1).numpy()
    np.testing.assert_allclose(getattr(F, op)(x, dim=1).numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(getattr(x, op)(dim=1).numpy(), want, rtol=1e-12)
    with pytest.raises(TypeError, match="got both axis=0 and dim=1"):
        getattr(F, op)(x, 0, dim=1)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_takes_pytorchs_dtype(device, op):
    """F.softmax(att, dim=-1, dtype=torch.float64): the input cast first, the result in that
    dtype, the gradient back in the input's dtype (a float32 attention's, say)."""
    a = np.random.default_rng(6).standard_normal((2, 5)).astype(np.float32)
    x = tc.Tensor(a, requires_grad=True, device=device)
    y = getattr(F, op)(x, dim=-1, dtype=tc.float64)
    a64 = a.astype(np.float64)
    lse = np.log(np.exp(a64).sum(-1, keepdims=True))
    want = np.exp(a64 - lse) if op == "softmax" else a64 - lse
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12)
    (y * tc.Tensor(np.arange(5.0), device=device)).sum().backward()
    assert x.grad.dtype == np.float32
    assert getattr(x, op)(-1, dtype=tc.float64).dtype == np.float64
    assert getattr(x, op)(dim=-1).dtype == np.float32


# --------------------------------------------------------------------------- dtypes and details


def test_sigmoid_keeps_relative_accuracy_in_the_tails():
    torch = pytest.importorskip("torch")
    a = np.array([-80.0, -20.0, -5.0, 0.0, 5.0, 20.0, 80.0], np.float32)
    got = F.sigmoid(tc.Tensor(a)).numpy()
    np.testing.assert_allclose(got, torch.sigmoid(torch.tensor(a)).numpy(), rtol=1e-6)
    assert got[0] > 0 and np.isfinite(got).all()


def test_cast_gradient_comes_back_in_the_input_dtype(device):
    x = tc.Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True, device=device)
    y = x.double()
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(to_numpy(x.grad), [2.0, 4.0])


def test_python_scalars_keep_float32(device):
    x = tc.Tensor(np.ones(3, np.float32), requires_grad=True, device=device)
    for y in (x + 1.0, 2.5 * x, x / 3, 1 - x, x**2, 2.0**x, F.clip(x, 0.0, 0.5)):
        assert y.dtype == np.float32, y


BACKWARD_DTYPE_CASES = [
    (E.Mul, 2), (E.Div, 2), (E.Pow, 2), (E.Maximum, 2), (E.Minimum, 2), (E.Exp, 1),
    (E.Log, 1), (E.Sqrt, 1), (E.Abs, 1), (E.Clip, 1), (E.ReLU, 1), (E.LeakyReLU, 1),
    (E.Sigmoid, 1), (E.Tanh, 1), (E.Softmax, 1), (E.LogSoftmax, 1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("cls", "arity"), BACKWARD_DTYPE_CASES, ids=lambda c: getattr(c, "__name__", "")
)
def test_forward_and_backward_stay_float32(cls, arity):
    """A silent float64 doubles time and memory: every op must keep float32 end to end."""
    rng = np.random.default_rng(5)
    arrays_ = [rng.uniform(0.5, 2, size=(3, 4)).astype(np.float32) for _ in range(arity)]
    fn = cls()
    fn.needs_input_grad = (True,) * arity
    out = fn.forward(*arrays_, **({"lo": 0.75, "hi": 1.5} if cls is E.Clip else {}))
    assert out.dtype == np.float32
    grads = fn.backward(np.ones_like(out))
    for g in grads if isinstance(grads, tuple) else (grads,):
        assert g.dtype == np.float32, f"{cls.__name__}.backward returned {g.dtype}"


# --------------------------------------------------------------------------- edge values


def _grads(fn, *values):
    xs = [tc.Tensor(np.array(v, dtype=np.float64), requires_grad=True) for v in values]
    fn(*xs).sum().backward()
    return [x.grad for x in xs]


def test_pow_gradients_at_a_zero_base_are_zero_not_nan():
    # the formulas read 0 * inf there: b a^(b-1) at a = b = 0, and a^b log a at a = 0, b >= 0
    (g,) = _grads(lambda x: x**0, [0.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 0.0])  # was [nan, 0]
    ga, gb = _grads(lambda a, b: a**b, [0.0, 0.0, 3.0], [2.0, 0.0, 2.0])
    np.testing.assert_array_equal(ga, [0.0, 0.0, 6.0])  # was [0, nan, 6]
    np.testing.assert_allclose(gb, [0.0, 0.0, 9 * np.log(3.0)])  # was [nan, -inf, ...]
    (g,) = _grads(lambda y: 0.0**y, [1.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 0.0])  # was [nan, nan]


def test_pow_gradients_at_a_zero_base_match_pytorch():
    torch = pytest.importorskip("torch")
    a_np, b_np = np.array([0.0, 0.0, 0.0, 1.5]), np.array([0.0, 1.0, 2.5, 0.0])
    ga, gb = _grads(lambda a, b: a**b, a_np, b_np)
    a, b = (torch.tensor(v, requires_grad=True) for v in (a_np, b_np))
    (a**b).sum().backward()
    np.testing.assert_allclose(ga, a.grad.numpy())
    np.testing.assert_allclose(gb, b.grad.numpy())


def test_gradients_at_the_kinks_are_pytorchs(device):
    """At the kink itself: relu'(0) = 0, leaky_relu'(0) = the slope (both take x > 0), and
    clip passes the gradient at its bounds (lo <= x <= hi), as PyTorch's backward passes do."""
    cases = [
        (F.relu, [0.0], [0.0]),
        (lambda t: F.leaky_relu(t, 0.2), [0.0], [0.2]),
        (lambda t: F.clip(t, -1.0, 1.0), [-1.0, 1.0, 2.0], [1.0, 1.0, 0.0]),
    ]
    for fn, values, want in cases:
        x = tc.Tensor(np.array(values), requires_grad=True, device=device)
        fn(x).sum().backward()
        np.testing.assert_allclose(to_numpy(x.grad), want, rtol=1e-7)


def test_relu_of_minus_infinity_is_zero():
    x = tc.Tensor(np.array([-np.inf, -1.0, 0.0, 2.0, np.inf]))
    np.testing.assert_array_equal(F.relu(x).numpy(), [0.0, 0.0, 0.0, 2.0, np.inf])  # was nan


def test_integer_inputs_are_not_truncated():
    i = tc.Tensor(np.array([-1, 2, 3]))
    np.testing.assert_allclose(F.sigmoid(i).numpy(), 1 / (1 + np.exp([1.0, -2.0, -3.0])))
    np.testing.assert_array_equal(F.clip(i, 0.5, 2.5).numpy(), [0.5, 2.0, 2.5])  # was [0, 2, 2]
    np.testing.assert_array_equal(F.leaky_relu(i, 0.5).numpy(), [-0.5, 2.0, 3.0])  # slope 0
    f = tc.Tensor(np.array([-1.0, 2.0], np.float32))
    for out in (F.sigmoid(f), F.clip(f, 0.5, 1.5), F.leaky_relu(f, 0.5)):
        assert out.dtype == np.float32


def test_clamp_with_tensor_bounds_against_torch(device):
    """torch.clamp(x, lo, hi) with tensors: values and all three gradients, at the ties
    (x == lo, x == hi, lo == hi), where lo > hi (the result is hi, and hi's gradient), with a
    bound larger than x (broadcast, its gradient summed back), and with one bound only. It
    raised a TypeError that pointed to F.maximum(F.minimum(x, hi), lo)."""
    torch = pytest.importorskip("torch")
    x = [-2.0, -1.0, 0.0, 1.0, 2.0, 0.5, 3.0, 1.0, 0.0]
    lo = [-1.0, -1.0, -1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 1.0]
    hi = [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 3.0, 1.0, 0.0]
    cases = [
        (x, lo, hi, "both"), (x, lo, hi, "lo"), (x, lo, hi, "hi"),
        ([0.5, -3.0, 2.0], [[0.0], [1.0]], [[1.5], [1.5]], "both"),  # bounds larger than x
        ([[0.5, 4.0], [-3.0, 1.0]], [0.0, 0.5], 1.0, "both"),  # hi a 0-d tensor
    ]  # fmt: skip
    rng = np.random.default_rng(7)
    for a, b_lo, b_hi, which in cases:
        values = [np.array(v, np.float64) for v in (a, b_lo, b_hi)]
        ours = [tc.Tensor(v, requires_grad=True, device=device) for v in values]
        theirs = [torch.tensor(v, requires_grad=True) for v in values]
        keep = {"both": (1, 1), "lo": (1, 0), "hi": (0, 1)}[which]
        out = tc.clamp(ours[0], *(t if k else None for t, k in zip(ours[1:], keep)))
        tout = torch.clamp(theirs[0], *(t if k else None for t, k in zip(theirs[1:], keep)))
        np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
        v = rng.standard_normal(out.shape)
        out.backward(v)
        tout.backward(torch.tensor(v))
        for i, (t, tt) in enumerate(zip(ours, theirs)):
            if i == 0 or keep[i - 1]:
                assert t.grad.shape == t.shape
                np.testing.assert_allclose(to_numpy(t.grad), tt.grad.numpy(), err_msg=f"{i}")
    # float32 stays float32, a number beside a tensor bound is a constant, x.clamp the method
    f = tc.Tensor(np.array([-2.0, 0.5, 3.0], np.float32), requires_grad=True, device=device)
    top = tc.Tensor(np.array([1.0, 1.0, 2.0], np.float32), requires_grad=True, device=device)
    y = f.clamp(-1.0, top)
    assert y.dtype == np.float32 and y.numpy().tolist() == [-1.0, 0.5, 2.0]
    y.sum().backward()
    assert to_numpy(top.grad).tolist() == [0.0, 0.0, 1.0]
    # NaN in x or in a bound gives NaN and no gradient, as torch's
    n = tc.Tensor(np.array([np.nan, 0.0]), requires_grad=True, device=device)
    m = tc.Tensor(np.array([0.0, np.nan]), requires_grad=True, device=device)
    z = tc.clamp(n, m)
    assert np.isnan(z.numpy()).all()
    z.sum().backward()
    assert to_numpy(n.grad).tolist() == [0.0, 0.0] and to_numpy(m.grad).tolist() == [0.0, 0.0]
    tn = torch.tensor([np.nan, 0.0])
    assert torch.isnan(torch.clamp(tn, torch.tensor([0.0, np.nan]))).all()


def test_remainder_fmod_floor_divide_against_torch(device):
    """%, fmod and // as torch's: values (the divisor's sign for %, the dividend's for fmod,
    floor for //; x // 0.0 is +-inf or nan and x % 0.0 nan, as there) and gradients (1 and
    -floor(a / b) or -trunc(a / b); // has none in torch, whose backward raises: 0 here)."""
    torch = pytest.importorskip("torch")
    a = np.array([-3.5, -1.0, 2.5, 7.0, 5.0, -5.0, 0.0, 1.0, -1.0, 0.0])
    b = np.array([2.0, -1.5, 2.5, -3.0, np.inf, np.inf, 2.0, 0.0, 0.0, 0.0])
    for ours, theirs, differentiable in (
        (lambda p, q: p % q, lambda p, q: p % q, True),
        (tc.remainder, torch.remainder, True),
        (tc.fmod, torch.fmod, True),
        (lambda p, q: p // q, lambda p, q: p // q, False),
    ):
        x, y = (tc.Tensor(v, requires_grad=True, device=device) for v in (a, b))
        tx, ty = (torch.tensor(v, requires_grad=True) for v in (a, b))
        out, tout = ours(x, y), theirs(tx, ty)
        np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
        finite = np.isfinite(b) & (b != 0)  # the gradients where the quotient is a number
        v = np.random.default_rng(4).standard_normal(a.shape) * finite
        out.backward(v)
        if differentiable:
            tout.backward(torch.tensor(v))
            np.testing.assert_array_equal(to_numpy(x.grad), tx.grad.numpy())
            np.testing.assert_array_equal(to_numpy(y.grad), ty.grad.numpy())
        else:
            with pytest.raises(RuntimeError, match="floor_divide is not implemented"):
                tout.backward(torch.tensor(v))
            assert not to_numpy(x.grad).any() and not to_numpy(y.grad).any()
    # integers (torch keeps the dtype and wraps a Python int into it) and Python numbers first
    i = np.array([100, -7, 7, -100], np.int8)
    ti, ours_i = torch.tensor(i), tc.Tensor(i, device=device)
    for ours, theirs in (
        (lambda t: t // 3, lambda t: t // 3), (lambda t: t % -3, lambda t: t % -3),
        (lambda t: t // 200, lambda t: t // 200), (lambda t: t % 200, lambda t: t % 200),
        (lambda t: tc.fmod(t, 3), lambda t: torch.fmod(t, 3)),
        (lambda t: 50 // t, lambda t: 50 // t), (lambda t: 50 % t, lambda t: 50 % t),
        (lambda t: t // 2.5, lambda t: t // 2.5), (lambda t: 7.5 % t, lambda t: 7.5 % t),
    ):  # fmt: skip
        got, want = ours(ours_i), theirs(ti)
        assert got.dtype == want.numpy().dtype
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_integer_division_by_zero_and_bools_are_refused_as_in_pytorch(device):
    """NumPy gives 0 (and a warning) for an integer // 0 or % 0; PyTorch raises. Two bool
    tensors have no // or % in PyTorch (NumPy makes int8)."""
    torch = pytest.importorskip("torch")
    i = tc.Tensor(np.array([3, 4]), device=device)
    zero = tc.Tensor(np.array([1, 0]), device=device)
    for call in (lambda: i // zero, lambda: i % 0, lambda: tc.fmod(i, zero), lambda: 5 // zero):
        with pytest.raises(ZeroDivisionError, match="integer division by zero"):
            call()
    with pytest.raises(ZeroDivisionError, match=r"t //= \.\.\.: integer division by zero"):
        i //= 0
    assert i.numpy().tolist() == [3, 4]
    ti = torch.tensor([3, 4])
    for call in (lambda: ti // torch.tensor([1, 0]), lambda: ti % 0):
        with pytest.raises((RuntimeError, ZeroDivisionError), match="ZeroDivisionError"):
            call()
    m = tc.Tensor(np.array([True, False]), device=device)
    for call in (lambda: m // m, lambda: m % m, lambda: tc.fmod(m, m)):
        with pytest.raises(TypeError, match=r"of two bool tensors is not supported.*a.long\(\)"):
            call()
    tm = torch.tensor([True, False])
    for call in (lambda: tm // tm, lambda: tm % tm):
        with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
            call()
    assert (m // 2).numpy().tolist() == [0, 0] and (m % 2).dtype == np.int64  # as torch's


def test_clip_without_bounds_is_refused_as_in_pytorch():
    """torch.clamp(x) raises; NumPy's clip raised its own error in 1.x and returns x in 2.x."""
    x = tc.Tensor(np.array([-2.0, 0.5, 3.0]))
    for call in (lambda: F.clip(x), lambda: x.clamp(), lambda: F.clamp(x, None, max=None)):
        with pytest.raises(ValueError, match=r"clip: give lo or hi \(min= or max=\)"):
            call()


def test_clamp_takes_pytorchs_min_and_max(device):
    """torch.clamp(x, min=0), x.clamp(0, 1), x.clip(max=1): PyTorch's spellings of clip."""
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(6).standard_normal((3, 4))
    x, tx = tc.Tensor(a, device=device), torch.tensor(a)
    for got, want in (
        (F.clamp(x, min=0), torch.clamp(tx, min=0)),
        (F.clamp(x, max=0.5), torch.clamp(tx, max=0.5)),
        (F.clamp(x, -0.5, 0.5), torch.clamp(tx, -0.5, 0.5)),
        (x.clamp(min=-0.1, max=0.2), tx.clamp(min=-0.1, max=0.2)),
        (x.clamp(0, 1), tx.clamp(0, 1)),
        (x.clip(max=1), tx.clip(max=1)),
    ):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    with pytest.raises(TypeError, match="clamp: got both lo=0 and min=1"):
        x.clamp(0, min=1)


def test_negation_and_subtraction_of_bools_are_refused_in_words_as_pytorch():
    """-mask and mask - mask ended in NumPy's "The numpy boolean negative ... is not supported";
    PyTorch refuses both too, and says to use ~ or ^."""
    m = tc.Tensor(np.array([True, False]))
    with pytest.raises(TypeError, match=r"negation \(-\) of a bool tensor.*~mask"):
        _ = -m
    with pytest.raises(TypeError, match=r"subtraction of two bool tensors.*a \^ b"):
        _ = m - m
    assert (~m).numpy().tolist() == [False, True]
    torch = pytest.importorskip("torch")
    tm = torch.tensor([True, False])
    for call in (lambda: -tm, lambda: tm - tm):
        with pytest.raises(RuntimeError, match="not supported"):
            call()
