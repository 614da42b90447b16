"""torch's elementwise math beyond the activations (sin, cos, log1p, log10, log2, expm1,
reciprocal, rsqrt, square, lerp; floor, ceil, round, sign with their zero gradient),
amax/amin, the methods maximum/minimum, broadcast_to, meshgrid, and the helpers
new_zeros/new_ones/new_full/new_tensor, type_as, set_grad_enabled, is_tensor, numel, as_tensor:
gradcheck over hypothesis shapes, forward against NumPy formulas, forward + gradient against
PyTorch."""

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

# name: (tinycolor op, NumPy reference (a formula), (lo, hi) of the drawn values, torch op)
UNARY = {
    "sin": (tc.sin, lambda x: np.vectorize(math.sin)(x), (-4, 4), lambda t, x: t.sin(x)),
    "cos": (lambda x: x.cos(), lambda x: np.vectorize(math.cos)(x), (-4, 4), lambda t, x: x.cos()),
    "log1p": (tc.log1p, lambda x: np.vectorize(math.log1p)(x), (-0.9, 3), lambda t, x: t.log1p(x)),
    "log10": (tc.log10, lambda x: np.vectorize(math.log10)(x), (0.1, 5), lambda t, x: t.log10(x)),
    "log2": (lambda x: x.log2(), lambda x: np.vectorize(math.log2)(x), (0.1, 5),
             lambda t, x: x.log2()),
    "expm1": (lambda x: x.expm1(), lambda x: np.vectorize(math.expm1)(x), (-3, 3),
              lambda t, x: x.expm1()),
    "reciprocal": (tc.reciprocal, lambda x: 1 / x, (0.2, 3), lambda t, x: t.reciprocal(x)),
    "rsqrt": (lambda x: x.rsqrt(), lambda x: 1 / np.sqrt(x), (0.2, 3), lambda t, x: x.rsqrt()),
    "square": (tc.square, lambda x: x * x, (-2, 2), lambda t, x: t.square(x)),
    "lerp": (lambda x: tc.lerp(x, 2.0, 0.25), lambda x: x + 0.25 * (2.0 - x), (-2, 2),
             lambda t, x: t.lerp(x, torch_full(t, x, 2.0), 0.25)),
}  # fmt: skip


def torch_full(torch, like, value):
    return torch.full_like(like, value)


# name: (tinycolor op, NumPy reference): piecewise constant, zero gradient
STEPS = {
    "floor": (tc.floor, np.floor),
    "ceil": (lambda x: x.ceil(), np.ceil),
    "round": (tc.round, np.vectorize(round)),  # Python's round: halves to even
    "round2": (lambda x: x.round(decimals=2), lambda a: np.round(a, 2)),
    "sign": (lambda x: x.sign(), lambda a: (a > 0).astype(float) - (a < 0)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(UNARY))
@given_settings
@given(shape=shapes(1, 3, 1, 4), data=st.data())
def test_unary_gradcheck_and_forward(device, name, shape, data):
    op, ref, (lo, hi), _ = UNARY[name]
    a = data.draw(arrays(shape, lo, hi))
    check_unary_forward_and_gradient(op, ref, tensor(a, device))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_against_torch(device, name):
    torch = pytest.importorskip("torch")
    op, _, (lo, hi), theirs = UNARY[name]
    check_unary_against_torch(torch, op, lambda t: theirs(torch, t), lo, hi, device)


@pytest.mark.parametrize("name", sorted(STEPS))
@given_settings
@given(shape=shapes(1, 3, 1, 4), data=st.data())
def test_steps_forward_and_zero_gradient(device, name, shape, data):
    op, ref = STEPS[name]
    a = data.draw(arrays(shape, -3, 3))
    a.flat[0] = 0.5  # a half: rounds to even
    a.flat[-1] = 0.0
    x = tensor(a, device)
    out = op(x)
    np.testing.assert_array_equal(out.numpy(), ref(a))
    out.backward(np.ones(a.shape))
    np.testing.assert_array_equal(to_numpy(x.grad), np.zeros(a.shape))


def test_steps_against_torch(device):
    torch = pytest.importorskip("torch")
    a = np.array([-2.5, -1.5, -0.5, 0.0, 0.5, 1.5, 2.5, 2.345, -7.25])
    for ours, theirs in (
        (tc.floor, torch.floor), (tc.ceil, torch.ceil), (tc.round, torch.round),
        (tc.sign, torch.sign), (lambda t: tc.round(t, decimals=1),
                               lambda t: torch.round(t, decimals=1)),
    ):  # fmt: skip
        x = tc.Tensor(a, requires_grad=True, device=device)
        tx = torch.tensor(a, requires_grad=True)
        ours(x).sum().backward()
        theirs(tx).sum().backward()
        np.testing.assert_allclose(ours(x).numpy(), theirs(tx).detach().numpy(), rtol=1e-12)
        np.testing.assert_array_equal(to_numpy(x.grad), tx.grad.numpy())


def test_log1p_and_expm1_keep_small_values_exact():
    x = tc.Tensor(np.array([1e-10], np.float32))
    assert tc.log1p(x).item() == pytest.approx(1e-10, rel=1e-6)  # log(1 + x) would be 0
    assert tc.expm1(x).item() == pytest.approx(1e-10, rel=1e-6)


@given_settings
@given(data=st.data())
def test_lerp_with_tensor_weight_gradcheck(device, data):
    big, small = data.draw(broadcastable_pair())
    a, b, w = data.draw(arrays(big)), data.draw(arrays(small)), data.draw(arrays(small, 0, 1))
    ts = [tensor(a, device), tensor(b, device), tensor(w, device)]
    np.testing.assert_allclose(ts[0].lerp(ts[1], ts[2]).numpy(), a + w * (b - a), rtol=1e-12)
    assert tc.gradcheck(tc.lerp, ts)


@given_settings
@given(shape=shapes(1, 3), keepdim=st.booleans(), data=st.data())
def test_amax_amin_and_the_maximum_minimum_methods(device, shape, keepdim, data):
    a = data.draw(arrays(shape))
    b = np.round(data.draw(arrays(shape)) * 10) / 10
    a = np.round(a * 10) / 10 + 0.05  # never tied with b, nor within an element
    dim = data.draw(st.one_of(st.just(()), st.integers(-len(shape), len(shape) - 1)))
    axis = None if dim == () else dim
    x, y = tensor(a, device), tensor(b, device)
    np.testing.assert_array_equal(x.amax(dim, keepdim).numpy(), a.max(axis, keepdims=keepdim))
    np.testing.assert_array_equal(
        tc.amin(x, dim, keepdim=keepdim).numpy(), a.min(axis, keepdims=keepdim)
    )
    np.testing.assert_array_equal(x.maximum(y).numpy(), np.maximum(a, b))
    np.testing.assert_array_equal(x.minimum(y).numpy(), np.minimum(a, b))
    c = data.draw(arrays(shape))  # distinct values: no ties
    assert tc.gradcheck(lambda t: tc.amax(t, dim, keepdim), [tensor(c, device)])
    assert tc.gradcheck(lambda t: t.amin(dim, keepdim), [tensor(c, device)])
    assert tc.gradcheck(lambda s, t: s.maximum(t) + s.minimum(t * 2), [x, y])


def test_amax_amin_against_torch(device):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((3, 4, 5))
    a[0, 0, :2] = 3.0  # a tie: the gradient shared, as torch.amax's
    for dim, keepdim in (((), False), (1, True), ((0, 2), False)):
        for name in ("amax", "amin"):
            x = tc.Tensor(a, requires_grad=True, device=device)
            tx = torch.tensor(a, requires_grad=True)
            out, tout = getattr(tc, name)(x, dim, keepdim), getattr(torch, name)(tx, dim, keepdim)
            out.sum().backward()
            tout.sum().backward()
            np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
            np.testing.assert_array_equal(to_numpy(x.grad), tx.grad.numpy())


@given_settings
@given(sizes=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_meshgrid(device, sizes, data):
    vs = [data.draw(arrays((n,))) for n in sizes]
    ts = [tensor(v, device) for v in vs]
    for indexing in ("ij", "xy"):
        grids = tc.meshgrid(*ts, indexing=indexing)
        want = np.meshgrid(*vs, indexing=indexing)
        for g, w in zip(grids, want):
            np.testing.assert_array_equal(g.numpy(), w)
        assert tc.gradcheck(
            lambda *t, ix=indexing: F.stack([g * (i + 1) for i, g in
                                             enumerate(tc.meshgrid(list(t), indexing=ix))]),
            ts,
        )  # fmt: skip


@given_settings
@given(shapes_=broadcastable_pair(), data=st.data())
def test_broadcast_to(device, shapes_, data):
    big, small = shapes_
    a = data.draw(arrays(small))
    x = tensor(a, device)
    np.testing.assert_array_equal(tc.broadcast_to(x, big).numpy(), np.broadcast_to(a, big))
    assert tc.gradcheck(lambda t: t.broadcast_to(big), [x])


def test_meshgrid_and_broadcast_to_against_torch(device):
    torch = pytest.importorskip("torch")
    u, v = np.arange(3.0), np.arange(4.0) * 2
    for indexing in ("ij", "xy"):
        got = tc.meshgrid(tc.Tensor(u, device=device), tc.Tensor(v, device=device),
                          indexing=indexing)  # fmt: skip
        want = torch.meshgrid(torch.tensor(u), torch.tensor(v), indexing=indexing)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
    x = tc.Tensor(u, device=device)
    np.testing.assert_array_equal(
        x.broadcast_to((2, 3)).numpy(), torch.tensor(u).broadcast_to((2, 3)).numpy()
    )
    with pytest.raises(ValueError, match="meshgrid: indexing must be 'ij' or 'xy', got 'yx'"):
        tc.meshgrid(x, x, indexing="yx")
    with pytest.raises(ValueError, match=r"meshgrid: expected 0-D or 1-D tensors, got shape"):
        tc.meshgrid(tc.zeros((2, 2)))


def test_new_tensors_take_this_tensors_dtype_and_device(device):
    x = tc.Tensor(np.ones((2, 3), np.float64), device=device)
    for t, value, shape in (
        (x.new_zeros(4, 5), 0.0, (4, 5)),
        (x.new_zeros((4,)), 0.0, (4,)),
        (x.new_ones(2, 1), 1.0, (2, 1)),
        (x.new_full((3,), 7), 7.0, (3,)),
        (x.new_tensor([1, 2]), None, (2,)),
    ):
        assert t.dtype == np.float64 and t.device == device and t.shape == shape
        if value is not None:
            np.testing.assert_array_equal(t.numpy(), np.full(shape, value))
    np.testing.assert_array_equal(x.new_tensor([1, 2]).numpy(), [1.0, 2.0])
    assert x.new_zeros(2, dtype=tc.int64).dtype == np.int64
    assert x.new_ones(2, requires_grad=True).requires_grad
    source = np.zeros(2)
    copy = x.new_tensor(source)
    copy.data[0] = 5
    assert source[0] == 0  # a copy, as PyTorch's
    i = tc.Tensor(np.arange(3), device=device)
    assert i.type_as(x).dtype == np.float64 and i.type_as(x).device == device


def test_type_casts_as_pytorch_and_names_the_type(device):
    """The PyTorch quickstart's accuracy, ``(pred.argmax(1) == y).type(torch.float).sum()``,
    line for line; ``t.type(dtype)`` is differentiable, ``t.type()`` PyTorch's type name."""
    logits = tc.Tensor(np.array([[0.1, 2.0], [3.0, 0.5], [0.2, 0.1]]), device=device)
    y = tc.Tensor(np.array([1, 1, 0]), device=device)
    correct = (logits.argmax(1) == y).type(tc.float).sum().item()
    assert correct == 2.0
    assert (logits.argmax(1) == y).type(tc.float).dtype == np.float32
    w = tc.Tensor(np.array([1.5, -2.0]), requires_grad=True, device=device)
    (w.type(tc.float32) * 3).sum().backward()
    assert w.grad.dtype == np.float64
    np.testing.assert_array_equal(to_numpy(w.grad), [3.0, 3.0])
    assert w.type(tc.float64) is w
    prefix = "tinycolor.cuda." if device == "cuda" else "tinycolor."
    assert w.type() == prefix + "DoubleTensor" and y.type() == prefix + "LongTensor"
    assert (y == y).type() == prefix + "BoolTensor"
    assert w.is_floating_point() and not y.is_floating_point()
    with pytest.raises(TypeError, match=r"Tensor.type: expected a dtype .* the string"):
        w.type("torch.FloatTensor")


def test_set_grad_enabled_is_a_function_and_a_context_manager():
    w = tc.ones(2, requires_grad=True)
    assert tc.is_grad_enabled()
    with tc.set_grad_enabled(False):
        assert not (w * 2).requires_grad
        with tc.set_grad_enabled(True):
            assert (w * 2).requires_grad
        assert not tc.is_grad_enabled()
    assert tc.is_grad_enabled()
    try:
        tc.set_grad_enabled(False)  # as a function: at once, until set back
        assert not tc.is_grad_enabled()
    finally:
        tc.set_grad_enabled(True)
    assert tc.is_grad_enabled()


def test_is_tensor_numel_and_as_tensor(device):
    x = tc.zeros((2, 3), device=device)
    assert tc.is_tensor(x) and not tc.is_tensor(np.zeros(2)) and tc.numel(x) == 6
    # PyTorch's other names (makemore's sum(p.nelement() for p in parameters)): AttributeErrors
    assert x.nelement() == 6 and x.ndimension() == 2 and x.element_size() == 4
    assert sum(p.nelement() for p in tc.nn.Linear(3, 2).parameters()) == 8
    assert tc.zeros(2, dtype=tc.float64).element_size() == 8
    assert tc.as_tensor(x) is x
    assert tc.as_tensor(x, dtype=tc.float64).dtype == np.float64
    a = np.zeros(3)
    shared = tc.as_tensor(a, device="cpu")
    a[0] = 4
    assert shared.data[0] == 4 and shared.dtype == np.float64  # the same memory
    assert tc.as_tensor([1.5, 2]).dtype == np.float32
    assert tc.as_tensor([1, 2], device=device).device == device


def test_new_ops_stay_float32():
    for cls, opts in ((E.Sin, {}), (E.Cos, {}), (E.Log1p, {}), (E.Expm1, {}),
                      (E.Step, {"name": "round"})):  # fmt: skip
        fn = cls()
        fn.needs_input_grad = (True,)
        out = fn.forward(np.full((2, 2), 0.5, np.float32), **opts)
        assert out.dtype == np.float32 and fn.backward(np.ones_like(out)).dtype == np.float32
