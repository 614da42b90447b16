"""Dropout: the drop rate and the 1/(1-p) scaling, the mean preserved, evaluation as the
identity, reproducibility under manual_seed, the gradient as the mask, gradcheck with a fixed
mask, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import given_settings, shapes, tensor

import tinycolor as tc
from tinycolor import functional as F
from tinycolor.backend import to_numpy


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_drop_rate_scaling_and_mean(device, p):
    n = 200_000
    x = tc.Tensor(np.full(n, 3.0, np.float32), device=device)
    y = F.dropout(x, p).numpy()
    dropped = y == 0
    sigma = np.sqrt(p * (1 - p) / n)  # standard error of the observed drop rate
    assert abs(dropped.mean() - p) < 5 * sigma
    np.testing.assert_allclose(y[~dropped], 3.0 / (1 - p), rtol=1e-6)  # inverted dropout
    # E[y] = x: the sample mean is within 5 standard errors of 3
    assert abs(y.mean() - 3.0) < 5 * 3.0 * np.sqrt(p / (1 - p) / n)
    assert y.dtype == np.float32


@pytest.mark.parametrize("p", [0.0, 0.3, 0.99])
def test_evaluation_is_the_identity(device, p):
    x = tc.Tensor(
        np.random.default_rng(0).standard_normal((4, 5)), requires_grad=True, device=device
    )
    y = F.dropout(x, p, training=False)
    assert y is x
    assert F.dropout(x, 0.0) is x  # p = 0 drops nothing, even in training


def test_reproducible_under_manual_seed(device):
    x = tc.Tensor(np.ones((64, 64)), device=device)
    tc.manual_seed(7)
    a = F.dropout(x, 0.5).numpy()
    b = F.dropout(x, 0.5).numpy()
    tc.manual_seed(7)
    c = F.dropout(x, 0.5).numpy()
    d = F.dropout(x, 0.5).numpy()
    tc.manual_seed(8)
    e = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(b, d)
    assert not np.array_equal(a, b) and not np.array_equal(a, e)  # fresh masks otherwise


def test_rng_state_saved_and_set_gives_the_same_masks_again(device):
    """get_rng_state / set_rng_state (a resumed training run's dropout): the masks drawn after
    the state was taken are drawn again once it is put back, in a fresh process's generator
    too (the CPU state goes through JSON, as a training state stores it)."""
    import json

    x = tc.Tensor(np.ones((64, 64)), device=device)
    tc.manual_seed(3)
    F.dropout(x, 0.5)
    try:
        state = tc.get_rng_state(device)
    except tc.backend.DeviceError as exc:  # a CuPy (or the tests' stand-in) that hides it
        pytest.skip(str(exc))
    if device == "cpu":
        state = json.loads(json.dumps(state))
    else:
        state = np.array(state)  # what an .npz file reads back
    a, b = F.dropout(x, 0.5).numpy(), F.dropout(x, 0.5).numpy()
    tc.manual_seed(99)  # another stream altogether, as a new process seeded afresh
    F.dropout(x, 0.5)
    tc.set_rng_state(state, device)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), a)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), b)
    with pytest.raises(ValueError, match="set_rng_state"):
        tc.set_rng_state(np.zeros(3, np.uint8) if device == "cuda" else {"x": 1}, device)


@given_settings
@given(shape=shapes(1, 4, 1, 6), p=st.floats(0.05, 0.95), seed=st.integers(0, 2**16))
def test_gradient_is_the_scaled_mask(device, shape, p, seed):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 2.0, shape) * rng.choice([-1, 1], shape)  # never zero
    tc.manual_seed(seed)
    x = tensor(a, device)
    y = F.dropout(x, p)
    g = rng.standard_normal(shape)
    y.backward(tc.Tensor(g, device=device))
    kept = y.numpy() != 0
    np.testing.assert_allclose(y.numpy(), np.where(kept, a / (1 - p), 0), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(x.grad), np.where(kept, g / (1 - p), 0), rtol=1e-12)


@given_settings
@given(shape=shapes(1, 3, 1, 5), p=st.sampled_from([0.2, 0.5, 0.7]), seed=st.integers(0, 2**16))
def test_gradcheck_with_a_fixed_mask(device, shape, p, seed):
    a = np.random.default_rng(seed).standard_normal(shape)

    def fn(t):
        tc.manual_seed(seed)  # the same mask at every evaluation
        return F.dropout(t * t, p)

    assert tc.gradcheck(fn, [tensor(a, device)])


def test_float32_and_float64_keep_their_dtype(device):
    for dtype in (np.float32, np.float64):
        x = tc.Tensor(np.ones((8, 8), dtype), requires_grad=True, device=device)
        y = F.dropout(x, 0.25)
        y.sum().backward()
        assert y.dtype == dtype and x.grad.dtype == dtype
        assert set(np.unique(y.numpy())) <= {0.0, np.float64(dtype(1 / 0.75))}


@pytest.mark.parametrize("p", [1.0, -0.1, 1.5, True, "0.5", None])
def test_p_must_be_a_probability(p):
    with pytest.raises(ValueError, match=r"dropout: p must be a probability in \[0, 1\), got"):
        F.dropout(tc.Tensor(np.ones(3)), p)


def test_integer_input_is_rejected():
    with pytest.raises(TypeError, match="dropout: expected a floating-point input, got int64"):
        F.dropout(tc.Tensor(np.arange(4)), 0.5)


@given_settings
@given(shape=shapes(4, 4, 1, 5), p=st.floats(0.05, 0.95), seed=st.integers(0, 2**16))
def test_dropout2d_drops_whole_channels_and_its_gradient_is_the_mask(device, shape, p, seed):
    """F.dropout2d and nn.Dropout2d (an AttributeError for translated PyTorch CNNs): each (n, c)
    map is all zero or all scaled by 1 / (1 - p), the gradient the same mask; gradcheck with a
    fixed mask; evaluation the identity."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 2.0, shape) * rng.choice([-1, 1], shape)  # never zero
    tc.manual_seed(seed)
    x = tensor(a, device)
    y = F.dropout2d(x, p)
    kept = (y.numpy() != 0).all(axis=(2, 3), keepdims=True)
    assert np.array_equal(kept, (y.numpy() != 0).any(axis=(2, 3), keepdims=True))
    np.testing.assert_allclose(y.numpy(), np.where(kept, a / (1 - p), 0), rtol=1e-12)
    g = rng.standard_normal(shape)
    y.backward(tc.Tensor(g, device=device))
    np.testing.assert_allclose(to_numpy(x.grad), np.where(kept, g / (1 - p), 0), rtol=1e-12)

    def fn(t):
        tc.manual_seed(seed)
        return F.dropout2d(t * t, p)

    assert tc.gradcheck(fn, [tensor(a, device)])
    layer = tc.nn.Dropout2d(p)
    layer.eval()
    assert layer(x) is x and repr(layer) == f"Dropout2d(p={p})"


def test_dropout2d_rate_and_refusals(device):
    tc.manual_seed(0)
    x = tc.Tensor(np.ones((400, 50, 2, 3), np.float32), device=device)
    y = tc.nn.Dropout2d(0.3)(x).numpy()
    assert abs((y[:, :, 0, 0] == 0).mean() - 0.3) < 5 * np.sqrt(0.3 * 0.7 / 20000)
    assert y.dtype == np.float32
    with pytest.raises(ValueError, match=r"dropout2d: expected a 4-D input \(N, C, H, W\), got"):
        F.dropout2d(tc.Tensor(np.ones((3, 4, 4))), 0.5)
    with pytest.raises(ValueError, match=r"dropout2d: p must be a probability in \[0, 1\)"):
        F.dropout2d(x, 1.0)
    with pytest.raises(ValueError, match=r"Dropout2d: p must be a probability"):
        tc.nn.Dropout2d(-0.5)
