"""Reductions (sum, mean, max, var): gradcheck over hypothesis shapes and axes, forward against
NumPy, forward + gradient against PyTorch, ties, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, given_settings, shapes, tensor

import tinycolor as tc
from tinycolor import functional as F
from tinycolor.backend import to_numpy


@st.composite
def axes_for(draw, ndim):
    """None, one axis (maybe negative) or a tuple of distinct axes (maybe negative)."""
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    picked = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in picked)


def distinct(a):
    """The same shape with distinct values 0.1 apart (no ties for max), in a random order."""
    ranks = np.argsort(np.argsort(a.ravel())).reshape(a.shape)
    return ranks * 0.1 - 1.0


def _reduced_count(shape, axis):
    if axis is None:
        return int(np.prod(shape))
    axis = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axis]))


def np_var(a, axis, keepdims, unbiased):
    return np.var(a, axis=axis, keepdims=keepdims, ddof=1 if unbiased else 0)


@pytest.mark.parametrize("op", ["sum", "mean", "max", "var", "var_unbiased"])
@given_settings
@given(shape=shapes(1, 4, 1, 4), data=st.data())
def test_reduce_gradcheck_and_forward(device, op, shape, data):
    axis = data.draw(axes_for(len(shape)))
    keepdims = data.draw(st.booleans())
    a = data.draw(arrays(shape))
    if op == "max":
        a = distinct(a)
    if op == "var_unbiased" and _reduced_count(shape, axis) < 2:
        op = "var"  # one element leaves no degree of freedom (tested separately)
    x = tensor(a, device)
    if op.startswith("var"):
        unbiased = op == "var_unbiased"

        def fn(t):
            return F.var(t, axis, unbiased, keepdims)

        expected = np_var(a, axis, keepdims, unbiased)
    else:

        def fn(t):
            return getattr(F, op)(t, axis, keepdims)

        expected = getattr(np, op)(a, axis=axis, keepdims=keepdims)
    out = fn(x)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-14)
    assert tc.gradcheck(fn, [x])


CASES = [(None, False), (1, False), (-1, True), ((0, 2), False), ((2, 0), True)]


@pytest.mark.parametrize(("axis", "keepdims"), CASES)
@pytest.mark.parametrize("op", ["sum", "mean", "max", "var", "var_unbiased"])
def test_reduce_against_torch(device, op, axis, keepdims):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 5))
    x = tc.Tensor(a, requires_grad=True, device=device)
    tx = torch.tensor(a, requires_grad=True)
    dim = tuple(range(3)) if axis is None else axis
    if op == "sum":
        out, tout = x.sum(axis, keepdims), torch.sum(tx, dim=dim, keepdim=keepdims)
    elif op == "mean":
        out, tout = x.mean(axis, keepdims), torch.mean(tx, dim=dim, keepdim=keepdims)
    elif op == "max":
        out, tout = x.max(axis=axis, keepdims=keepdims), torch.amax(tx, dim=dim, keepdim=keepdims)
    else:
        unbiased = op == "var_unbiased"
        out = x.var(axis, unbiased, keepdims)
        tout = torch.var(tx, dim=dim, keepdim=keepdims, correction=int(unbiased))
    v = rng.standard_normal(out.shape)
    out.backward(v)
    tout.backward(torch.tensor(v))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_max_shares_the_gradient_between_ties_like_torch_amax(device):
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x = tc.Tensor(a, requires_grad=True, device=device)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    torch = pytest.importorskip("torch")
    tx = torch.tensor(a, requires_grad=True)
    torch.amax(tx, dim=1).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy())


# (tinycolor's call, PyTorch's) for a NaN extreme: the full reduction torch.max(x) shares the
# gradient between the NaN elements, torch.max(x, dim) gives it to the (first) NaN its index
# names, and torch.amax's (x.max(axis=...) here) is NaN throughout a slice holding a NaN
NAN_EXTREME_CALLS = {
    "x.max()": (lambda m, x, name: getattr(x, name)(), None),
    "tc.max(x)": (lambda m, x, name: getattr(m, name)(x), None),
    "F.max(x)": (
        lambda m, x, name: (F.max if name == "max" else F.reduce.min_values)(x),
        lambda m, x, name: getattr(m, name)(x),
    ),
    "tc.max(x, 1)": (lambda m, x, name: getattr(m, name)(x, 1).values, None),
    "tc.amax(x)": (lambda m, x, name: getattr(m, f"a{name}")(x), None),
    "tc.amax(x, 1)": (lambda m, x, name: getattr(m, f"a{name}")(x, 1), None),
    "x.max(axis=1)": (
        lambda m, x, name: getattr(x, name)(axis=1),
        lambda m, x, name: getattr(m, f"a{name}")(x, 1),
    ),
}


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("call", NAN_EXTREME_CALLS)
def test_the_gradient_of_a_nan_extreme_goes_where_pytorchs_does(device, name, call):
    """x = [1, nan, 3]: x.max() is nan, equal to no element, and its gradient was nan
    throughout (0 / 0); torch.max(x) gives it to the NaN elements, shared between them."""
    ours, theirs = NAN_EXTREME_CALLS[call]
    a = np.array([[1.0, np.nan, 3.0, np.nan], [2.0, 5.0, 2.0, 0.5], [np.nan, 4.0, -1.0, 0.0]])
    x = tc.Tensor(a, requires_grad=True, device=device)
    out = ours(tc, x, name)
    v = np.arange(1.0, out.numel() + 1).reshape(out.shape)
    out.backward(tc.Tensor(v, device=device))
    if call in ("x.max()", "tc.max(x)", "F.max(x)"):
        assert np.isnan(out.item())
        np.testing.assert_array_equal(to_numpy(x.grad), np.isnan(a) / 3)
    if call == "x.max()":
        y = tc.Tensor([1.0, np.nan, 3.0], requires_grad=True, device=device)
        getattr(y, name)().backward()
        np.testing.assert_array_equal(to_numpy(y.grad), [0.0, 1.0, 0.0])
    torch = pytest.importorskip("torch")
    tx = torch.tensor(a, requires_grad=True)
    tout = (theirs or ours)(torch, tx, name)
    tout.backward(torch.tensor(v))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12)


def test_float32_stays_float32(device):
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    x = tc.Tensor(a, requires_grad=True, device=device)
    for op in (F.sum, F.mean, F.max, F.var):
        y = op(x, 1)
        assert y.dtype == np.float32
        x.zero_grad()
        y.sum().backward()
        assert x.grad.dtype == np.float32


def test_zero_dimensional_tensors(device):
    x = tc.Tensor(np.float64(2.5), requires_grad=True, device=device)
    for axis in (None, 0, -1, ()):
        y = x.sum(axis=axis)
        assert y.shape == () and y.item() == 2.5
    (x.mean() * 4).backward()
    assert x.grad.shape == () and float(x.grad) == 4.0


@pytest.mark.parametrize("axis", [3, -4, (0, 5)])
def test_axis_out_of_range_is_rejected(axis):
    x = tc.Tensor(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="out of range for a tensor with 3 dimensions"):
        F.sum(x, axis)


def test_var_takes_its_arguments_in_pytorchs_order():
    """torch.var(x, 0, False) is the biased variance; read as (axis, keepdims), it silently
    gave the unbiased one, and x.var(1, True) kept the reduced axis PyTorch removes."""
    a = np.arange(12.0).reshape(3, 4) ** 2
    x = tc.Tensor(a)
    np.testing.assert_allclose(x.var(0, False).numpy(), np.var(a, axis=0), rtol=1e-14)
    np.testing.assert_allclose(F.var(x, 0, False).numpy(), np.var(a, axis=0), rtol=1e-14)
    np.testing.assert_allclose(x.var(1, True).numpy(), np.var(a, axis=1, ddof=1), rtol=1e-14)
    out = x.var(1, False, True)
    assert out.shape == (3, 1)
    np.testing.assert_allclose(out.numpy(), np.var(a, axis=1, keepdims=True), rtol=1e-14)
    torch = pytest.importorskip("torch")
    tx = torch.tensor(a)
    for args in ((0, False), (1, True), (1, False, True), (None, False)):
        want = (tx.var(*args) if args[0] is not None else tx.var(unbiased=False)).numpy()
        np.testing.assert_allclose(x.var(*args).numpy(), want, rtol=1e-14)


def test_var_and_std_without_degrees_of_freedom_are_nan_as_pytorchs(device):
    """x.std(dim=0) of a last batch of one sample raised; PyTorch gives nan (inf where the
    elements differ and the correction exceeds their number), with a warning."""
    cases = [((2, 1), {"dim": 1}), ((), {}), ((1, 3), {"dim": 0}), ((3,), {"correction": 5})]
    a = np.array([[1.0, 2.0, 4.0]])
    for shape, kw in cases:
        x = tc.Tensor(np.ones(shape) if shape != (3,) else a[0], device=device)
        for op in ("var", "std"):
            with pytest.warns(UserWarning, match=f"{op}\\(\\): degrees of freedom is <= 0"):
                got = getattr(x, op)(**kw).numpy()
            torch = pytest.importorskip("torch")
            with pytest.warns(UserWarning):
                want = getattr(torch.tensor(x.numpy()), op)(**kw).numpy()
            np.testing.assert_array_equal(got, want)
    x = tc.Tensor(np.ones((1, 2)), requires_grad=True, device=device)
    with pytest.warns(UserWarning):
        x.std(dim=0).sum().backward()
    assert np.isnan(to_numpy(x.grad)).all()


def test_std_gradient_is_zero_where_std_is_zero_as_pytorchs(device):
    """A constant slice (a flat patch, a dead feature) gave a nan gradient: sqrt's gradient
    inf at 0 times var's 0. PyTorch's std_backward masks it to 0."""
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])
    for kw in ({}, {"dim": 1}, {"dim": 1, "keepdim": True}, {"dim": 0, "correction": 0}):
        x = tc.Tensor(a, requires_grad=True, device=device)
        tx = torch.tensor(a, requires_grad=True)
        y, ty = x.std(**kw), tx.std(**kw)
        g = np.arange(1.0, y.numpy().size + 1).reshape(y.shape)
        y.backward(g)
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-14)
        np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-15)
    x = tc.Tensor(np.ones(3), requires_grad=True, device=device)
    x.std().backward()
    assert to_numpy(x.grad).tolist() == [0.0, 0.0, 0.0]
    assert tc.gradcheck(lambda t: F.reduce.std(t, 1), [tc.Tensor(a[1:] * [[1, 3, 7]], True)])
    # torch.std's spelling: tc.std (and F.std), beside tc.var
    np.testing.assert_allclose(to_numpy(tc.std(tc.Tensor(a), dim=1).data), a.std(1, ddof=1))
    assert F.std is tc.std


def test_min_of_unsigned_and_extreme_ints_and_bools_as_pytorchs(device):
    """min was -max(-x): for uint8 the negation wraps around (a uint8 image's minimum was
    17 instead of 0), int8's -(-128) is -128, and a bool's negation raised."""
    torch = pytest.importorskip("torch")
    for a in (
        np.array([[0, 17], [255, 128]], np.uint8),
        np.array([[-128, 5], [127, -3]], np.int8),
        np.array([[True, False], [True, True]]),
    ):
        x, tx = tc.Tensor(a, device=device), torch.tensor(a)
        assert x.min().numpy().tolist() == tx.min().numpy().tolist()
        assert x.min().dtype == a.dtype
        for dim in (0, 1, (0, 1)):
            want = torch.amin(tx, dim).numpy().tolist()
            assert x.min(axis=dim).numpy().tolist() == want
            assert tc.amin(x, dim).numpy().tolist() == want
    a = np.array([[3.0, 1.0, 1.0], [2.0, 5.0, 4.0]])
    for call, tcall in (
        (lambda t: t.min(), lambda t: t.min()),
        (lambda t: t.min(axis=1), lambda t: torch.amin(t, 1)),
        (lambda t: tc.amin(t, 1, True), lambda t: torch.amin(t, 1, True)),
    ):
        x, tx = tc.Tensor(a, requires_grad=True, device=device), torch.tensor(a, requires_grad=True)
        y, ty = call(x), tcall(tx)
        g = np.arange(1.0, y.numpy().size + 1).reshape(y.shape)
        y.backward(g)
        ty.backward(torch.tensor(g))
        np.testing.assert_array_equal(to_numpy(x.grad), tx.grad.numpy())  # ties share it


def test_sum_and_mean_with_dim_empty_reduce_every_dim_as_pytorch(device):
    """x.sum(dim=()) reduced nothing; PyTorch reduces every dim (NumPy's axis=() keeps its
    meaning: none)."""
    torch = pytest.importorskip("torch")
    x = tc.Tensor(np.arange(6.0).reshape(2, 3), device=device)
    tx = torch.tensor(x.numpy())
    for op in ("sum", "mean", "var", "std"):
        for d in ((), []):
            got, want = getattr(x, op)(dim=d), getattr(tx, op)(dim=d)
            assert got.shape == tuple(want.shape) == ()
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-14)
    assert x.sum(axis=()).shape == (2, 3) and np.sum(x, axis=()).shape == (2, 3)


def test_repeated_dims_are_refused_as_pytorch():
    x = tc.ones((2, 3, 4))
    for op in ("sum", "mean", "var"):
        with pytest.raises(ValueError, match=r"dim 1 appears more than once in \(1, -2\)"):
            getattr(x, op)(dim=(1, -2))


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6, 7), (2, 5, 3, 1, 4)])
def test_channel_sum_is_the_sum_over_every_axis_but_1(shape):
    from tinycolor.functional.reduce import channel_sum

    a = np.random.default_rng(0).standard_normal(shape)
    axes = tuple(i for i in range(len(shape)) if i != 1)
    np.testing.assert_allclose(channel_sum(a), a.sum(axis=axes), rtol=1e-12)
    np.testing.assert_allclose(channel_sum(a[:, :, ::-1] if a.ndim > 2 else a), a.sum(axis=axes))


def test_numpy_integer_axes_are_accepted():
    x = tc.Tensor(np.arange(6.0).reshape(2, 3))
    for op in (F.sum, F.mean, F.max, F.var):
        np.testing.assert_array_equal(op(x, np.int64(1)).numpy(), op(x, 1).numpy())  # TypeError
    np.testing.assert_array_equal(F.sum(x, (np.int32(0), 1)).numpy(), 15.0)


def test_pytorch_spellings_dim_and_keepdim(device):
    """Code written for PyTorch runs: x.sum(dim=1, keepdim=True), x.argmax(dim=1), ...; the
    results are PyTorch's."""
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((3, 4, 5))
    x, tx = tc.Tensor(a, device=device), torch.tensor(a)
    for dim, keepdim in ((1, False), ((0, 2), True), (-1, True)):
        for op in ("sum", "mean"):
            out = getattr(x, op)(dim=dim, keepdim=keepdim)
            np.testing.assert_allclose(
                out.numpy(), getattr(tx, op)(dim=dim, keepdim=keepdim).numpy(), rtol=1e-12
            )
            np.testing.assert_array_equal(
                getattr(F, op)(x, dim=dim, keepdim=keepdim).numpy(), out.numpy()
            )
        want = torch.var(tx, dim=dim, keepdim=keepdim).numpy()
        np.testing.assert_allclose(x.var(dim=dim, keepdim=keepdim).numpy(), want, rtol=1e-12)
        np.testing.assert_allclose(F.var(x, dim=dim, keepdim=keepdim).numpy(), want, rtol=1e-12)
        want = torch.amax(tx, dim=dim, keepdim=keepdim).numpy()
        np.testing.assert_array_equal(x.max(axis=dim, keepdim=keepdim).numpy(), want)
    for dim, keepdim in ((1, False), (-1, True), (None, True), (None, False)):
        np.testing.assert_array_equal(
            x.argmax(dim=dim, keepdim=keepdim).numpy(), tx.argmax(dim=dim, keepdim=keepdim).numpy()
        )
        np.testing.assert_array_equal(
            x.argmax(dim, keepdim).numpy(), tx.argmax(dim=dim, keepdim=keepdim).numpy()
        )


def test_max_refuses_dim_because_torch_returns_values_and_indices():
    # PyTorch's x.max(1) and x.max(dim=1) are a (values, indices) pair; reading the dim as the
    # axis would make x.max(1)[1] the second row's maximum instead of the indices, silently
    x = tc.Tensor(np.arange(6.0).reshape(2, 3))
    for name in ("max", "min"):
        method = getattr(x, name)
        for args, kwargs in (((1,), {}), ((), {"dim": 1})):
            with pytest.raises(
                TypeError,
                match=rf"x.{name}\(axis=1\) for the values, x.arg{name}\(axis=1\) for the "
                rf"indices, or tinycolor.{name}\(x, 1\) for PyTorch's pair",
            ):
                method(*args, **kwargs)
        np.testing.assert_array_equal(
            getattr(x, name)(axis=1, keepdim=True).numpy(), getattr(np, name)(x.data, 1)[:, None]
        )
    with pytest.raises(TypeError, match="returns the values only"):
        F.max(x, dim=1)


@pytest.mark.parametrize("name", ["max", "min"])
def test_top_level_max_and_min_are_torchs_with_their_three_forms(name, device):
    """_, predicted = torch.max(outputs, 1), the PyTorch tutorials' accuracy line, was an
    AttributeError (tc.max did not exist). Along a dim the gradient of each value goes to the
    one element its index names (the first of a tie), as PyTorch's; the full reduction
    shares a tie's, as amax does."""
    a = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -2.0], [1.0, 1.0, 1.0]])
    pick, arg = (np.max, np.argmax) if name == "max" else (np.min, np.argmin)
    top = getattr(tc, name)
    x = tc.Tensor(a, requires_grad=True, device=device)
    _, predicted = top(x, 1)
    np.testing.assert_array_equal(predicted.numpy(), arg(a, axis=1))
    values, indices = top(x, dim=0, keepdim=True)
    np.testing.assert_array_equal(values.numpy(), pick(a, axis=0, keepdims=True))
    assert indices.dtype == np.int64 and indices.shape == (1, 3)
    out = top(x, -1)
    assert out.values is out[0] and out.indices is out[1]
    w = np.array([1.0, 2.0, 3.0])
    (out.values * tc.Tensor(w, device=device)).sum().backward()
    want = np.zeros_like(a)
    for row, col in enumerate(arg(a, axis=1)):  # the first of a tie: [1, 1, 1] -> column 0
        want[row, col] = w[row]
    np.testing.assert_array_equal(to_numpy(x.grad), want)
    assert top(x).item() == pick(a)
    elementwise = np.maximum if name == "max" else np.minimum
    ones = tc.Tensor(np.ones(3), device=device)
    np.testing.assert_array_equal(top(x, ones).numpy(), elementwise(a, 1.0))  # torch.max(a, b)
    _, predicted = top(x.data, 1)  # outputs.data, as the tutorial writes it: here an array
    np.testing.assert_array_equal(predicted.numpy(), arg(a, axis=1))
    with pytest.raises(TypeError, match=r"dim must be one axis \(an int\), got \(0, 1\)"):
        top(x, (0, 1))
    assert tc.gradcheck(lambda t: top(t, 1).values, [np.array([[0.3, -1.0], [2.0, 0.5]])])
    torch = pytest.importorskip("torch")
    tx = torch.tensor(a, requires_grad=True)
    tv, ti = getattr(torch, name)(tx, -1)
    (tv * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), tx.grad.numpy())
    np.testing.assert_array_equal(out.indices.numpy(), ti.numpy())


def test_both_spellings_at_once_are_refused():
    x = tc.Tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match="sum: got both axis=0 and dim=1; dim is PyTorch's name"):
        x.sum(0, dim=1)
    with pytest.raises(TypeError, match="got both keepdims=True and keepdim=False"):
        F.mean(x, 1, True, keepdim=False)
    with pytest.raises(TypeError, match="argmax: got both axis=0 and dim=1"):
        x.argmax(0, dim=1)


def test_var_is_unbiased_by_default_as_in_pytorch(device):
    """x.var() divides by n - 1, as torch's x.var() does (NumPy's default divides by n):
    the same call gives the same number."""
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(2).standard_normal((3, 4))
    x, tx = tc.Tensor(a, device=device), torch.tensor(a)
    np.testing.assert_allclose(x.var().item(), tx.var().item(), rtol=1e-12)
    np.testing.assert_allclose(F.var(x, 1).numpy(), torch.var(tx, 1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.var(dim=0).numpy(), tx.var(dim=0).numpy(), rtol=1e-12)
    for correction in (0, 1, 2):
        np.testing.assert_allclose(
            x.var(dim=1, correction=correction).numpy(),
            tx.var(dim=1, correction=correction).numpy(),
            rtol=1e-12,
        )
    np.testing.assert_allclose(x.var(unbiased=False).item(), a.var(), rtol=1e-12)
    with pytest.raises(TypeError, match="both unbiased=False and correction=1"):
        x.var(unbiased=False, correction=1)


@pytest.mark.parametrize("other", [(4,), (), (3, 4)])
def test_a_tensor_is_not_taken_for_an_axis(other):
    """torch.max(a, b), the elementwise maximum, translated to F.max(a, b) took b's values for
    axes: b of shape (4,) (zeros) silently gave the maximum over axis 0."""
    x = tc.Tensor(np.arange(12.0).reshape(3, 4))
    b = tc.Tensor(np.zeros(other, dtype=np.int64))
    for op in (F.max, F.sum, F.mean, F.var):
        with pytest.raises(TypeError, match=r"use F.maximum\(a, b\)"):
            op(x, b)
    with pytest.raises(TypeError, match="got a ndarray of shape"):
        x.sum(np.array([0, 1]))


# --------------------------------------------------------------------------- norm

INF = float("inf")
NORM_PS = ["fro", 1, 2, 3, 0.5, 1.5, INF, -INF, 0]


def ref_norm(a, p, axis, keepdims):
    """A loop: np.linalg.norm of each row of the reduced axes, one row at a time."""
    axes = tuple(range(a.ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis
    axes = tuple(sorted({ax % a.ndim for ax in axes}))
    kept = [i for i in range(a.ndim) if i not in axes]
    rows = np.transpose(a, kept + list(axes)).reshape([a.shape[i] for i in kept] + [-1])
    out = np.empty(rows.shape[:-1])
    for i in np.ndindex(*out.shape):
        out[i] = np.linalg.norm(rows[i], ord=2 if p == "fro" else p)
    if keepdims:
        out = out.reshape([1 if i in axes else n for i, n in enumerate(a.shape)])
    return out


@pytest.mark.parametrize("p", NORM_PS, ids=str)
@given_settings
@given(shape=shapes(1, 3, 1, 4), keepdims=st.booleans(), data=st.data())
def test_norm_gradcheck_and_forward(device, p, shape, keepdims, data):
    axis = data.draw(axes_for(len(shape)))
    if p in (INF, -INF):  # distinct magnitudes: no ties within the differences' step
        magnitude = distinct(data.draw(arrays(shape))) + 1.1  # 0.1, 0.2, ... in some order
        a = magnitude * np.where(data.draw(arrays(shape)) > 0, 1, -1)
    else:  # off the kink of |x| at 0
        a = data.draw(arrays(shape, away_from=(0.0,), margin=0.05))
    x = tensor(a, device)
    out = x.norm(p, axis, keepdims)
    np.testing.assert_allclose(out.numpy(), ref_norm(a, p, axis, keepdims), rtol=1e-12)
    assert tc.norm(x, p, dim=axis, keepdim=keepdims).shape == out.shape
    if p != 0:  # the count of nonzeros is flat
        assert tc.gradcheck(lambda t: F.norm(t, p, axis, keepdims), [x])


@pytest.mark.parametrize("p", NORM_PS, ids=str)
@pytest.mark.parametrize("dim", [None, 1, (0, 2), -1])
def test_norm_against_torch(device, p, dim):
    """With ties for inf (shared), zeros in x and whole rows of zeros (a gradient of 0, as
    PyTorch's, where the formula reads 0 / 0), float32 kept float32."""
    torch = pytest.importorskip("torch")
    a = np.array([[[3.0, -4.0, 0.0], [0.0, 0.0, 0.0]], [[2.0, -2.0, 1.0], [-1.0, 0.5, 2.0]]])
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 1e-6)):
        x = tc.Tensor(a.astype(dtype), requires_grad=True, device=device)
        out = x.norm(p, dim)
        out.sum().backward()
        assert out.dtype == dtype and x.grad.dtype == dtype
        tx = torch.tensor(a.astype(dtype), requires_grad=True)
        tout = tx.norm(p, dim)
        tout.sum().backward()
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=rtol)
        want = np.zeros_like(a) if tx.grad is None else tx.grad.numpy()  # p = 0: no gradient
        np.testing.assert_allclose(to_numpy(x.grad), want, rtol=rtol, atol=1e-7)


def test_norm_gradient_at_zero_is_zero_and_bad_p_is_refused(device):
    x = tc.Tensor(np.zeros((2, 3)), requires_grad=True, device=device)
    x.norm().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="norm: p='nuc' is not supported"):
        x.norm("nuc")
    with pytest.raises(ValueError, match="norm: p must be 'fro', a number >= 0, inf or -inf"):
        x.norm(-1)
    with pytest.raises(ValueError, match="norm: p=inf of an empty axis"):
        tc.zeros((0, 2)).norm(INF, 0)


def loop_prod_grad(a, axis):
    """dz/da_i = the product of the other elements of a's slice, one element at a time."""
    moved = np.moveaxis(a, axis, -1)
    out = np.empty_like(moved)
    for idx in np.ndindex(moved.shape):
        row = moved[idx[:-1]]
        out[idx] = np.prod(np.delete(row, idx[-1]))
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize("op", ["cumsum", "prod"])
@given_settings
@given(shape=shapes(1, 3, 1, 4), keepdim=st.booleans(), data=st.data())
def test_cumsum_and_prod_gradcheck_and_forward(device, op, shape, keepdim, data):
    """tc.cumsum and tc.prod (each an AttributeError for translated PyTorch code): every dim,
    prod over all elements too; zeros placed in some slices (one, or two, per slice), where the
    gradient is the product of the others without a division."""
    a = data.draw(arrays(shape, lo=0.5, hi=1.5)) * data.draw(
        arrays(shape, lo=-1, hi=1).map(np.sign)
    )
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    if op == "cumsum":
        dim = 0 if dim is None else dim
        x = tensor(a, device)
        np.testing.assert_allclose(F.cumsum(x, dim).numpy(), np.cumsum(a, dim), rtol=1e-12)
        assert tc.gradcheck(lambda t: F.cumsum(t, dim), [x])
        return
    flat = a.reshape(-1)
    for i in data.draw(st.lists(st.integers(0, flat.size - 1), max_size=3, unique=True)):
        flat[i] = 0.0
    x = tensor(a, device)
    out = F.prod(x, dim, keepdim)
    want = np.prod(a, axis=dim, keepdims=keepdim and dim is not None)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-15)
    assert tc.gradcheck(lambda t: F.prod(t, dim, keepdim), [x])
    x.grad = None  # what gradcheck left
    out.sum().backward()
    expected = (
        loop_prod_grad(a.reshape(-1), 0).reshape(a.shape)
        if dim is None
        else (loop_prod_grad(a, dim))
    )
    np.testing.assert_allclose(to_numpy(x.grad), expected, rtol=1e-12, atol=1e-15)


def test_cumsum_and_prod_against_torch(device):
    """Values and gradients as PyTorch's, with zeros (one and two in a slice) for prod, and the
    Tensor methods; integer inputs give int64 outside the graph, as PyTorch's."""
    torch = pytest.importorskip("torch")
    a = np.array([[2.0, 0.0, 3.0, 1.5], [0.0, 0.0, 5.0, -1.0], [1.0, 2.0, -3.0, 0.5]])
    w = np.random.default_rng(0).standard_normal(a.shape)
    for dtype in (np.float64, np.float32):
        calls = [
            (lambda m, t: m.cumsum(t, 0), lambda t: t.cumsum(1)),
            (lambda m, t: m.prod(t), lambda t: t.prod()),
            (lambda m, t: m.prod(t, 1), lambda t: t.prod(0, True)),
            (lambda m, t: m.prod(t, -1, True), lambda t: t.prod(dim=1)),
        ]
        for fn, method in calls:
            for f in (fn, lambda m, t, method=method: method(t)):
                x = tc.Tensor(a.astype(dtype), requires_grad=True, device=device)
                tx = torch.tensor(a.astype(dtype), requires_grad=True)
                out, tout = f(tc, x), f(torch, tx)
                assert out.dtype == dtype and out.shape == tuple(tout.shape)
                wt = w[: out.shape[0], : out.shape[1]] if out.ndim == 2 else w[0, : out.size]
                wt = wt.reshape(out.shape).astype(dtype)
                (out * tc.Tensor(wt, device=device)).sum().backward()
                (tout * torch.tensor(wt)).sum().backward()
                np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-6)
                np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    ints = tc.tensor([[1, 2], [3, 4]], dtype=tc.int32, device=device)
    assert tc.prod(ints).item() == 24 and tc.cumsum(ints, 1).dtype == np.int64
    assert str(torch.cumsum(torch.tensor([1], dtype=torch.int32), 0).dtype) == "torch.int64"
    with pytest.raises(ValueError, match="cumsum: dim 2 is out of range for a tensor with 2"):
        tc.cumsum(ints, 2)
    with pytest.raises(TypeError, match="prod: dim must be an int, got"):
        tc.prod(ints, (0, 1))


def sort_topk(a, k, dim, largest):
    """topk's values by a full sort, one slice at a time in Python: the reference (NaN counts
    as the largest, as in PyTorch)."""
    moved = np.moveaxis(a, dim, -1)
    rows = []
    for row in moved.reshape(-1, moved.shape[-1]):
        key = [(-np.inf if largest else np.inf) if np.isnan(v) else (-v if largest else v)
               for v in row]  # fmt: skip
        rows.append(row[sorted(range(len(row)), key=lambda i: key[i])[:k]])
    return np.moveaxis(np.array(rows).reshape(*moved.shape[:-1], k), -1, dim)


@given_settings
@given(shape=shapes(1, 4, 1, 5), largest=st.booleans(), data=st.data())
def test_topk_against_a_sort_and_gradcheck(device, shape, largest, data):
    """tc.topk / x.topk (an AttributeError for translated PyTorch code): the k largest (or
    smallest) along dim, sorted, against a slow full sort, with values that tie; the gradient
    of each value goes to the element its index names, checked by central differences."""
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    k = data.draw(st.integers(0, shape[dim]))
    a = np.round(data.draw(arrays(shape)), 1)  # ties, some of them at the k-th place
    x = tensor(a, device)
    values, indices = tc.topk(x, k, dim, largest)
    want = sort_topk(a, k, dim, largest)
    np.testing.assert_array_equal(values.numpy(), want)
    assert indices.dtype == np.int64 and indices.shape == want.shape and not indices.requires_grad
    idx = indices.numpy()
    np.testing.assert_array_equal(np.take_along_axis(a, idx, dim), want)  # they name the values
    rows = np.moveaxis(idx, dim, -1).reshape(-1, k) if k else []
    assert all(len(set(r)) == k for r in rows)  # distinct, so the gradient is a scatter
    unsorted = x.topk(k, dim=dim, largest=largest, sorted=False)
    np.testing.assert_array_equal(np.sort(unsorted.values.numpy(), dim), np.sort(want, dim))
    distinct_a = distinct(a)
    picked = sort_topk(distinct_a, k, dim, largest)
    idx = tc.topk(tensor(distinct_a, device), k, dim, largest).indices.numpy()
    np.testing.assert_array_equal(np.take_along_axis(distinct_a, idx, dim), picked)
    assert tc.gradcheck(lambda t: tc.topk(t, k, dim, largest).values, [tensor(distinct_a, device)])
    assert tc.gradcheck(
        lambda t: t.topk(k, dim, largest, sorted=False).values, [tensor(distinct_a, device)]
    )


def test_topk_as_pytorchs(device):
    """The pair, the gradient (scattered to the chosen elements, zero elsewhere), NaN as the
    largest, k = 0, a 0-d tensor, integers, and the errors; against PyTorch when installed."""
    a = np.array([[0.5, -1.0, 2.0, 7.0], [3.0, np.nan, -2.0, 1.0], [1.0, 1.0, 1.0, 0.0]])
    x = tc.Tensor(a, requires_grad=True, device=device)
    out = tc.topk(x, 2)
    assert isinstance(out, tc.functional.reduce.ValuesIndices)
    assert out.values is out[0] and out.indices is out[1]
    np.testing.assert_array_equal(out.values.numpy(), [[7.0, 2.0], [np.nan, 3.0], [1.0, 1.0]])
    np.testing.assert_array_equal(out.indices.numpy()[:2], [[3, 2], [1, 0]])
    np.testing.assert_array_equal(
        tc.topk(x, 2, largest=False).indices.numpy()[:2], [[1, 0], [2, 3]]
    )
    w = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    (out.values * tc.Tensor(w, device=device)).sum().backward()
    grad = to_numpy(x.grad)
    np.testing.assert_array_equal(grad[:2], [[0, 0, 2.0, 1.0], [4.0, 3.0, 0, 0]])
    assert grad[2].sum() == 11.0 and sorted(grad[2]) == [0, 0, 5.0, 6.0]
    x.grad = None
    tc.topk(x, 1, dim=0).values.sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad)[:, 1], [0.0, 1.0, 0.0])  # NaN is the largest
    empty = x.topk(0)
    assert empty.values.shape == empty.indices.shape == (3, 0)
    scalar = tc.topk(tc.tensor(3.0, device=device), 1)
    assert scalar.values.item() == 3.0 and scalar.indices.item() == 0 and scalar.values.ndim == 0
    ints = tc.tensor([[1, 5, 5, 2]], dtype=tc.int64, device=device).topk(3)
    np.testing.assert_array_equal(ints.values.numpy(), [[5, 5, 2]])
    assert ints.values.dtype == np.int64 and set(ints.indices.numpy()[0, :2]) == {1, 2}
    f32 = tc.ones(2, 3, device=device).topk(2, 0)
    assert f32.values.dtype == np.float32 and f32.indices.dtype == np.int64
    with pytest.raises(ValueError, match=r"topk: k=5 is out of range for dim -1 of size 4 \("):
        tc.topk(x, 5)
    with pytest.raises(ValueError, match=r"k=-1 is out of range for dim 0 of size 3 \(expected 0"):
        x.topk(-1, 0)
    with pytest.raises(TypeError, match="topk: k must be an int, got 1.5"):
        x.topk(1.5)
    with pytest.raises(ValueError, match="topk: dim 2 is out of range for a tensor with 2 dim"):
        tc.topk(x, 1, dim=2)
    torch = pytest.importorskip("torch")
    for kwargs in [{"k": 2}, {"k": 3, "dim": 0}, {"k": 4, "largest": False}, {"k": 1, "dim": -2}]:
        x = tc.Tensor(a, requires_grad=True, device=device)
        tx = torch.tensor(a, requires_grad=True)
        ours, theirs = tc.topk(x, **kwargs), torch.topk(tx, **kwargs)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.detach().numpy())
        weights = np.arange(ours.values.size, dtype=float).reshape(ours.values.shape)
        (ours.values * tc.Tensor(weights, device=device)).sum().backward()
        (theirs.values * torch.tensor(weights)).sum().backward()
        # where no values tie (every column; rows 0 and 1) the indices, so the gradient, are set
        rows = slice(None) if kwargs.get("dim", -1) in (0, -2) else slice(0, 2)
        np.testing.assert_array_equal(ours.indices.numpy()[rows], theirs.indices[rows])
        np.testing.assert_array_equal(to_numpy(x.grad)[rows], tx.grad.numpy()[rows])


def test_an_empty_reduction_without_an_answer_is_refused_in_words():
    """max / min / argmax of an empty dim ended in NumPy's "zero-size array to reduction
    operation maximum which has no identity"; PyTorch refuses these too."""
    x = tc.zeros((0, 3))
    for call in (lambda: x.max(), lambda: x.max(axis=0), lambda: tc.amin(x, 0), lambda: x.min()):
        with pytest.raises(ValueError, match=r"dim 0 of shape \(0, 3\) is empty"):
            call()
    with pytest.raises(ValueError, match=r"argmax: the tensor of shape \(0, 3\) is empty"):
        x.argmax()
    with pytest.raises(ValueError, match=r"argmin: dim 0 of shape \(0, 3\) is empty"):
        x.argmin(axis=0)
    assert x.max(axis=1).shape == (0,) and x.argmax(axis=1).shape == (0,)
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(tc.Tensor(1.0))
