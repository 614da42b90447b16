"""Batch normalisation: gradcheck (training and evaluation, with and without gamma/beta) over
hypothesis-drawn shapes, forward against NumPy, the running statistics, PyTorch as an oracle
over several training steps and in evaluation, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import given_settings, tensor

import tinycolor as tc
from tinycolor import functional as F
from tinycolor.backend import to_numpy, xp_for


def np_batch_norm(x, mean, var, gamma, beta, eps=1e-5):
    """The definition, per channel (axis 1), written with NumPy broadcasting."""
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if gamma is not None:
        y = y * gamma.reshape(shape)
    if beta is not None:
        y = y + beta.reshape(shape)
    return y


def _axes(x):
    return (0, *range(2, x.ndim))


@st.composite
def bn_shapes(draw):
    """(N, C) or (N, C, H, W), at least two values per channel."""
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    if draw(st.booleans()):
        return (max(n, 2), c)
    h, w = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (max(n, 2) if h * w == 1 else n, c, h, w)


@pytest.mark.parametrize("training", [True, False])
@given_settings
@given(
    shape=bn_shapes(),
    affine=st.sampled_from(["both", "weight", "bias", "none"]),
    seed=st.integers(0, 2**16),
)
def test_batch_norm_gradcheck_and_forward(device, training, shape, affine, seed):
    rng = np.random.default_rng(seed)
    c = shape[1]
    a = rng.standard_normal(shape) * 2 + 1
    gamma = rng.uniform(0.5, 2, c) if affine in ("both", "weight") else None
    beta = rng.standard_normal(c) if affine in ("both", "bias") else None
    xp = xp_for(device)
    rm, rv = xp.asarray(rng.standard_normal(c)), xp.asarray(rng.uniform(0.5, 2, c))
    rm0, rv0 = to_numpy(rm).copy(), to_numpy(rv).copy()
    inputs = [tensor(a, device)]
    inputs += [tensor(p, device) for p in (gamma, beta) if p is not None]

    def fn(x, *params):
        params = list(params)
        w = params.pop(0) if gamma is not None else None
        b = params.pop(0) if beta is not None else None
        stats = (None, None) if training else (rm, rv)  # no updates while differentiating
        return F.batch_norm(x, *stats, w, b, training=training)

    y = fn(*inputs)
    if training:
        want = np_batch_norm(a, a.mean(axis=_axes(a)), a.var(axis=_axes(a)), gamma, beta)
    else:
        want = np_batch_norm(a, rm0, rv0, gamma, beta)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-10, atol=1e-10)
    assert tc.gradcheck(fn, inputs)
    np.testing.assert_array_equal(to_numpy(rm), rm0)  # evaluation never moves the statistics
    np.testing.assert_array_equal(to_numpy(rv), rv0)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck_on_long_rows(device, training):
    """From 64 values a row (an 8x8 map) the per-channel sums of the backward pass go through
    matmul rather than einsum (the shapes drawn above stay below): the gradients still check."""
    rng = np.random.default_rng(6)
    a = rng.standard_normal((2, 2, 8, 9)) * 2 + 1
    inputs = [tensor(a, device), tensor(rng.uniform(0.5, 2, 2), device), tensor(np.ones(2), device)]
    xp = xp_for(device)
    stats = (None, None) if training else (xp.asarray([0.5, -1.0]), xp.asarray([2.0, 0.5]))
    assert tc.gradcheck(lambda x, w, b: F.batch_norm(x, *stats, w, b, training=training), inputs)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5, 6)])
def test_running_statistics_update_in_place(device, shape):
    rng = np.random.default_rng(1)
    xp = xp_for(device)
    rm_arr = xp.asarray(rng.standard_normal(3).astype(np.float32))
    rv_tensor = tc.Tensor(rng.uniform(0.5, 2, 3).astype(np.float32), device=device)
    rv_arr = rv_tensor.data
    expect_m, expect_v = to_numpy(rm_arr).astype(np.float64), to_numpy(rv_arr).astype(np.float64)
    for step in range(3):
        a = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        y = F.batch_norm(
            tc.Tensor(a, device=device), rm_arr, rv_tensor, training=True, momentum=0.2
        )
        m = a.size // shape[1]
        expect_m = 0.8 * expect_m + 0.2 * a.mean(axis=_axes(a), dtype=np.float64)
        expect_v = 0.8 * expect_v + 0.2 * a.var(axis=_axes(a), ddof=1, dtype=np.float64)
        assert m > 1 and y.dtype == np.float32
        np.testing.assert_allclose(to_numpy(rm_arr), expect_m, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(to_numpy(rv_tensor.data), expect_v, rtol=1e-5, atol=1e-6)
    assert rv_tensor.data is rv_arr and rm_arr.dtype == np.float32  # the same arrays, updated


def test_training_output_is_normalised_per_channel(device):
    a = np.random.default_rng(2).standard_normal((16, 4, 3, 3)) * np.array([1, 5, 0.1, 30]).reshape(
        1, 4, 1, 1
    )
    y = F.batch_norm(tc.Tensor(a, device=device), None, None, training=True).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(
        y.var(axis=(0, 2, 3)), 1 / (1 + 1e-5 / a.var(axis=(0, 2, 3))), rtol=1e-9
    )


def test_batch_norm_float32_gradients(device):
    rng = np.random.default_rng(3)
    x = tc.Tensor(
        rng.standard_normal((4, 3, 2, 2)).astype(np.float32), requires_grad=True, device=device
    )
    w = tc.Tensor(np.ones(3, np.float32), requires_grad=True, device=device)
    b = tc.Tensor(np.zeros(3, np.float32), requires_grad=True, device=device)
    (F.batch_norm(x, None, None, w, b, training=True) ** 2).sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32
    # sum of y^2 = m C (var / (var + eps)) barely depends on x: its gradient nearly vanishes
    assert np.abs(to_numpy(x.grad)).max() < 1e-3
    np.testing.assert_allclose(to_numpy(w.grad), 2 * 16, rtol=1e-3)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_matches_pytorch(device, shape, affine):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    c = shape[1]
    xp = xp_for(device)
    w0, b0 = rng.uniform(0.5, 2, c), rng.standard_normal(c)
    rm, rv = xp.zeros(c), xp.ones(c)
    trm, trv = torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64)
    for step in range(4):  # training: batches with different statistics
        a = rng.standard_normal(shape) * (1 + step) + step
        g = rng.standard_normal(shape)
        x = tc.Tensor(a, requires_grad=True, device=device)
        w = tc.Tensor(w0, requires_grad=True, device=device) if affine else None
        b = tc.Tensor(b0, requires_grad=True, device=device) if affine else None
        y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.3)
        y.backward(tc.Tensor(g, device=device))
        tx = torch.tensor(a, requires_grad=True)
        tw = torch.tensor(w0, requires_grad=True) if affine else None
        tb = torch.tensor(b0, requires_grad=True) if affine else None
        ty = torch.nn.functional.batch_norm(tx, trm, trv, tw, tb, training=True, momentum=0.3)
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
        if affine:
            np.testing.assert_allclose(to_numpy(w.grad), tw.grad.numpy(), rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(to_numpy(b.grad), tb.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(to_numpy(rm), trm.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(to_numpy(rv), trv.numpy(), rtol=1e-12, atol=1e-14)
    # evaluation: the running statistics normalise, the gradient is a per-channel scale
    a = rng.standard_normal(shape) + 2
    g = rng.standard_normal(shape)
    x = tc.Tensor(a, requires_grad=True, device=device)
    w = tc.Tensor(w0, requires_grad=True, device=device) if affine else None
    y = F.batch_norm(x, rm, rv, w, None, training=False)
    y.backward(tc.Tensor(g, device=device))
    tx = torch.tensor(a, requires_grad=True)
    tw = torch.tensor(w0, requires_grad=True) if affine else None
    ty = torch.nn.functional.batch_norm(tx, trm, trv, tw, None, training=False)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    if affine:
        np.testing.assert_allclose(to_numpy(w.grad), tw.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_numpy(rm), trm.numpy(), rtol=1e-12, atol=1e-14)


def test_batch_norm_without_gradients_records_nothing():
    x = tc.Tensor(np.random.default_rng(5).standard_normal((4, 2)))
    with tc.no_grad():
        y = F.batch_norm(
            x, None, None, tc.Tensor(np.ones(2), requires_grad=True), None, training=True
        )
    assert not y.requires_grad and y._ctx is None


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda x: F.batch_norm(x[0, 0, 0], None, None, training=True),
            ValueError,
            r"expected an input of shape \(N, C\) or \(N, C, \.\.\.\), got \(2,\)",
        ),
        (
            lambda x: F.batch_norm(x, np.zeros(4), np.ones(3)),
            ValueError,
            r"running_mean must have shape \(3,\).*\(2, 3, 2, 2\), got \(4,\)",
        ),
        (
            lambda x: F.batch_norm(x, np.zeros(3), np.ones((3, 1))),
            ValueError,
            r"running_var must have shape \(3,\)",
        ),
        (
            lambda x: F.batch_norm(x, None, None, np.ones(2), training=True),
            ValueError,
            r"weight must have shape \(3,\)",
        ),
        (
            lambda x: F.batch_norm(x, None, None, None, np.ones(5), training=True),
            ValueError,
            r"bias must have shape \(3,\)",
        ),
        (
            lambda x: F.batch_norm(x, None, None),
            ValueError,
            "running_mean and running_var are needed when training=False",
        ),
        (
            lambda x: F.batch_norm(x[:1, :, :1, :1], None, None, training=True),
            ValueError,
            "more than 1 value per channel",
        ),
        (
            lambda x: F.batch_norm(x, None, None, training=True, momentum=None),
            ValueError,
            r"momentum must be a number in \[0, 1\]",
        ),
        (
            lambda x: F.batch_norm(x, None, None, training=True, momentum=1.5),
            ValueError,
            r"momentum must be a number in \[0, 1\]",
        ),
    ],
)
def test_batch_norm_errors(call, error, message):
    x = tc.Tensor(np.zeros((2, 3, 2, 2)))
    with pytest.raises(error, match=message):
        call(x)


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 5), (0, 3, 4, 4)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_of_an_empty_batch_is_empty_as_pytorch(device, shape, momentum):
    """N = 0 in training (the last, empty batch of a loader): PyTorch gives an empty output,
    an empty input gradient and zero ones for weight and bias, leaves the running statistics
    as they are (the mean of nothing would be nan) and counts the batch in
    num_batches_tracked, so that momentum=None's plain average over the batches reads it."""
    torch = pytest.importorskip("torch")
    layer = "BatchNorm2d" if len(shape) == 4 else "BatchNorm1d"
    m = getattr(tc.nn, layer)(3, momentum=momentum).to(device=device, dtype=tc.float64)
    tm = getattr(torch.nn, layer)(3, momentum=momentum).double()
    rng = np.random.default_rng(0)
    stats = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    m.running_mean.data[...] = xp_for(device).asarray(stats[0])
    m.running_var.data[...] = xp_for(device).asarray(stats[1])
    with torch.no_grad():
        tm.running_mean.copy_(torch.tensor(stats[0]))
        tm.running_var.copy_(torch.tensor(stats[1]))
    for a in (np.zeros(shape), rng.standard_normal((4,) + shape[1:])):  # empty, then a batch
        x = tc.Tensor(a, requires_grad=True, device=device)
        y = m(x)
        (y * y).sum().backward()
        tx = torch.tensor(a, requires_grad=True)
        ty = tm(tx)
        (ty * ty).sum().backward()
        assert y.shape == tuple(ty.shape) and x.grad.shape == a.shape
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
        for ours, theirs in ((m.weight, tm.weight), (m.bias, tm.bias)):
            np.testing.assert_allclose(to_numpy(ours.grad), theirs.grad.numpy(), atol=1e-10)
        for k, v in tm.state_dict().items():
            np.testing.assert_allclose(to_numpy(m.state_dict()[k].data), v.numpy(), rtol=1e-12)
    assert int(m.num_batches_tracked.data) == 2
    m.eval()  # evaluation of an empty batch: empty too
    assert m(tc.Tensor(np.zeros(shape), device=device)).shape == shape


def test_functional_batch_norm_of_an_empty_batch_leaves_the_running_statistics(device):
    """F.batch_norm(training=True) of (0, C): empty, the running statistics untouched, no
    NumPy warning about a mean of nothing; one value per channel is still refused."""
    torch = pytest.importorskip("torch")
    xp = xp_for(device)
    rm, rv = xp.asarray([0.5, -1.0, 2.0]), xp.asarray([2.0, 3.0, 0.5])
    trm, trv = torch.tensor([0.5, -1.0, 2.0]), torch.tensor([2.0, 3.0, 0.5])
    for shape in ((0, 3), (0, 3, 2, 2)):
        y = F.batch_norm(tc.Tensor(np.zeros(shape), device=device), rm, rv, training=True)
        ty = torch.nn.functional.batch_norm(
            torch.zeros(shape, dtype=torch.float64), trm, trv, training=True
        )
        assert y.shape == tuple(ty.shape)
        np.testing.assert_array_equal(to_numpy(rm), trm.numpy())
        np.testing.assert_array_equal(to_numpy(rv), trv.numpy())
    with pytest.raises(F.OneValuePerChannelError, match="more than 1 value per channel"):
        F.batch_norm(tc.Tensor(np.zeros((1, 3)), device=device), rm, rv, training=True)


def test_batch_norm_and_layer_norm_take_pytorchs_keyword_input():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((4, 3, 2))
    rm, rv = np.zeros(3), np.ones(3)
    y = F.batch_norm(input=tc.Tensor(a), running_mean=rm, running_var=rv, training=True)
    ty = torch.nn.functional.batch_norm(
        input=torch.tensor(a), running_mean=None, running_var=None, training=True
    )
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-10, atol=1e-12)
    y = F.layer_norm(input=tc.Tensor(a), normalized_shape=(3, 2))
    ty = torch.nn.functional.layer_norm(input=torch.tensor(a), normalized_shape=(3, 2))
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- layer norm


def loop_layer_norm(x, k, gamma, beta, eps):
    """One position at a time: the mean and biased variance of its last k axes' values."""
    lead = x.shape[: x.ndim - k]
    y = np.empty_like(x)
    for i in np.ndindex(*lead):
        v = x[i]
        mu = v.sum() / v.size
        var = ((v - mu) ** 2).sum() / v.size
        y[i] = (v - mu) / np.sqrt(var + eps)
        if gamma is not None:
            y[i] = y[i] * gamma
        if beta is not None:
            y[i] = y[i] + beta
    return y


@given_settings
@given(
    lead=st.lists(st.integers(1, 3), max_size=2).map(tuple),
    norm=st.lists(st.integers(1, 4), min_size=1, max_size=2).map(tuple),
    affine=st.sampled_from([(True, True), (True, False), (False, True), (False, False)]),
    eps=st.sampled_from([1e-5, 1e-2]),
    seed=st.integers(0, 2**31 - 1),
)
def test_layer_norm_gradcheck_and_forward(device, lead, norm, affine, eps, seed):
    if np.prod(norm) == 1:
        norm = norm + (2,)  # one value alone normalises to 0 whatever it is: nothing to check
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(lead + norm) * 2 + 1
    gamma = rng.uniform(0.5, 1.5, norm) if affine[0] else None
    beta = rng.standard_normal(norm) if affine[1] else None
    x = tensor(a, device)
    params = [tensor(p, device) for p in (gamma, beta) if p is not None]

    def fn(t, *ps):
        ps = list(ps)
        w = ps.pop(0) if affine[0] else None
        b = ps.pop(0) if affine[1] else None
        return F.layer_norm(t, norm, w, b, eps)

    out = fn(x, *params)
    np.testing.assert_allclose(
        out.numpy(), loop_layer_norm(a, len(norm), gamma, beta, eps), rtol=1e-10, atol=1e-12
    )
    assert tc.gradcheck(fn, [x, *params])


def test_layer_norm_against_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, w, b = rng.standard_normal((2, 3, 4, 5)), rng.random((4, 5)) + 0.5, rng.random((4, 5))
    for dtype, rtol in ((np.float64, 1e-10), (np.float32, 1e-4)):
        x, g, c = (tc.Tensor(v.astype(dtype), requires_grad=True, device=device) for v in (a, w, b))
        out = tc.layer_norm(x, (4, 5), g, c, 1e-3)
        v = rng.standard_normal(out.shape).astype(dtype)
        out.backward(v)
        assert out.dtype == dtype and x.grad.dtype == dtype and g.grad.dtype == dtype
        tx, tg, tc_ = (torch.tensor(v_.astype(dtype), requires_grad=True) for v_ in (a, w, b))
        tout = torch.layer_norm(tx, (4, 5), tg, tc_, 1e-3)
        tout.backward(torch.tensor(v))
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=rtol, atol=1e-5)
        for ours, theirs in ((x, tx), (g, tg), (c, tc_)):
            np.testing.assert_allclose(
                to_numpy(ours.grad), theirs.grad.numpy(), rtol=rtol, atol=1e-5
            )


def test_layer_norm_errors():
    x = tc.zeros((2, 3, 4))
    with pytest.raises(ValueError, match=r"last dimensions are normalized_shape \(3,\), got"):
        F.layer_norm(x, 3)
    with pytest.raises(ValueError, match=r"layer_norm: weight must have normalized_shape \(4,\)"):
        F.layer_norm(x, 4, tc.zeros(3))
    with pytest.raises(ValueError, match=r"LayerNorm\(\(3,\)\): expected an input whose last"):
        tc.nn.LayerNorm(3)(x)
    # a list where PyTorch wants a Tensor: PyTorch's TypeError, not an AttributeError
    with pytest.raises(TypeError, match=r"layer_norm: weight must be a Tensor of normalized_sha"):
        F.layer_norm(x, 4, [1.0] * 4)
    with pytest.raises(TypeError, match=r"layer_norm: bias must be a Tensor .*, got float"):
        F.layer_norm(x, 4, None, 0.5)


def loop_normalize(a, p, dim, eps):
    """Each vector along ``dim`` divided by max(its p-norm, eps), one vector at a time."""
    moved = np.moveaxis(a, dim, -1)
    out = np.empty_like(moved)
    for idx in np.ndindex(moved.shape[:-1]):
        v = moved[idx]
        n = np.max(np.abs(v)) if p == np.inf else sum(abs(e) ** p for e in v) ** (1 / p)
        out[idx] = v / max(n, eps)
    return np.moveaxis(out, -1, dim)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0])
@given_settings
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
    seed=st.integers(0, 2**31 - 1),
    data=st.data(),
)
def test_normalize_gradcheck_and_forward(device, p, shape, seed, data):
    """F.normalize (a translated embedding or cosine-similarity head met an AttributeError):
    every dim, values kept off 0 (the kink of |x| for p = 1) and off ties."""
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.2, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    x = tensor(a, device)
    out = F.normalize(x, p, dim)
    np.testing.assert_allclose(
        out.numpy(), loop_normalize(a, p, dim, 1e-12), rtol=1e-12, atol=1e-14
    )
    assert tc.gradcheck(lambda t: F.normalize(t, p=p, dim=dim), [x])


def test_normalize_against_torch(device):
    """Values and gradients, a vector of norm below eps included (divided by eps, as PyTorch's)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 2))
    a[1, :, 0] = [1e-13, 0.0, 0.0, 0.0]
    w = rng.standard_normal(a.shape)
    for p, dim, eps in ((2.0, 1, 1e-12), (1, 0, 1e-12), (np.inf, -1, 1e-12), (2, 2, 0.5)):
        for dtype, rtol in ((np.float64, 1e-10), (np.float32, 1e-5)):
            x = tc.Tensor(a.astype(dtype), requires_grad=True, device=device)
            out = F.normalize(x, p, dim, eps)
            (out * tc.Tensor(w.astype(dtype), device=device)).sum().backward()
            tx = torch.tensor(a.astype(dtype), requires_grad=True)
            tout = torch.nn.functional.normalize(tx, p, dim, eps)
            (tout * torch.tensor(w.astype(dtype))).sum().backward()
            assert out.dtype == dtype and x.grad.dtype == dtype
            np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=rtol, atol=1e-7)
            np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=rtol, atol=1e-4)
