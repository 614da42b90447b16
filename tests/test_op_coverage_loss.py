"""Loss options test_loss.py draws in one form only, and stability it checks only against
PyTorch: binary_cross_entropy_with_logits with weight and pos_weight of any shape that
broadcasts to the input (full, size-1 axes, fewer axes, 0-d), a 0-d target tensor that needs a
gradient (the scalar target of a GAN's loss, learnable), and logits of 1e4 in float32 against
closed forms. Gradcheck over hypothesis-drawn cases, no PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, broadcastable_pair, given_settings, tensor

import tinycolor as tc
from tinycolor import functional as F
from tinycolor.backend import to_numpy

REDUCE = {"mean": np.mean, "sum": np.sum, "none": np.asarray}


def ref_bce(x, t, weight, pos_weight, reduction):
    """-w [q t log s(x) + (1 - t) log(1 - s(x))], s the sigmoid, in float64 logs."""
    s = 1 / (1 + np.exp(-x))
    q = 1.0 if pos_weight is None else pos_weight
    loss = -(q * t * np.log(s) + (1 - t) * np.log(1 - s))
    return REDUCE[reduction](loss * (1.0 if weight is None else weight))


@st.composite
def _constant_for(draw, shape, lo, hi):
    """None, or an array whose shape broadcasts to ``shape``: itself, size-1 axes, fewer."""
    if draw(st.booleans()):
        return None
    kept = [1 if draw(st.booleans()) else n for n in shape]
    return draw(arrays(tuple(kept[draw(st.integers(0, len(kept))) :]), lo, hi))


@pytest.mark.parametrize("reduction", sorted(REDUCE))
@given_settings
@given(data=st.data())
def test_bce_weights_of_every_broadcast_shape(device, reduction, data):
    shape, _ = data.draw(broadcastable_pair())
    x, t = data.draw(arrays(shape, -4, 4)), data.draw(arrays(shape, 0, 1))
    weight = data.draw(_constant_for(shape, 0.2, 2))
    pos_weight = data.draw(_constant_for(shape, 0.2, 3))
    a, b = tensor(x, device), tensor(t, device)

    def fn(p, q):
        return F.binary_cross_entropy_with_logits(
            p, q, weight, reduction=reduction, pos_weight=pos_weight
        )

    out = fn(a, b)
    want = ref_bce(x, t, weight, pos_weight, reduction)
    assert out.shape == np.shape(want)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-10, atol=1e-12)
    assert tc.gradcheck(fn, [a, b])


@pytest.mark.parametrize("reduction", sorted(REDUCE))
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "binary_cross_entropy_with_logits"])
@given_settings
@given(data=st.data())
def test_a_scalar_target_tensor_gets_its_gradient(device, name, reduction, data):
    shape, _ = data.draw(broadcastable_pair())
    x = data.draw(arrays(shape, -2, 2))
    t = float(data.draw(st.floats(0.1, 0.9)))
    if name == "l1_loss":  # off the kink at x = t
        x = np.where(np.abs(x - t) < 0.05, t + np.where(x >= t, 0.1, -0.1), x)
    a, b = tensor(x, device), tensor(np.array(t), device)
    fn = getattr(F, name)
    per = {
        "mse_loss": (x - t) ** 2,
        "l1_loss": np.abs(x - t),
        "binary_cross_entropy_with_logits": ref_bce(x, t, None, None, "none"),
    }[name]
    out = fn(a, b, reduction=reduction)
    np.testing.assert_allclose(out.numpy(), REDUCE[reduction](per), rtol=1e-10, atol=1e-12)
    assert tc.gradcheck(lambda p, q: fn(p, q, reduction=reduction), [a, b])


# --------------------------------------------------------------------------- large logits


def test_softmax_family_with_logits_of_1e4_float32(device):
    """e^(1e4) overflows float32 (and float64): the ops must shift by the maximum first. e^-1e4
    is 0 in float32, so the closed forms below are what the ops must give."""
    a = np.array([[1e4, -1e4, 0.0], [1e4, 1e4, -1e4]], np.float32)
    x = tc.Tensor(a, requires_grad=True, device=device)
    np.testing.assert_allclose(
        F.log_softmax(x, 1).numpy(),
        [[0, -2e4, -1e4], [-np.log(2), -np.log(2), -2e4 - np.log(2)]],
        rtol=1e-7,
    )
    np.testing.assert_array_equal(F.softmax(x, 1).numpy(), [[1, 0, 0], [0.5, 0.5, 0]])
    F.log_softmax(x, 1).sum().backward()  # d/dx sum log p = 1 - Q p
    np.testing.assert_allclose(to_numpy(x.grad), [[-2, 1, 1], [-0.5, -0.5, 1]], atol=1e-6)
    assert x.grad.dtype == np.float32
    s = F.sigmoid(tc.Tensor(a, device=device)).numpy()
    np.testing.assert_array_equal(s, [[1, 0, 0.5], [1, 1, 0]])


def test_cross_entropy_and_bce_with_logits_of_1e4_float32(device):
    a = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], np.float32)
    x = tc.Tensor(a, requires_grad=True, device=device)
    loss = F.cross_entropy(x, np.array([2, 1]), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [1e4, np.log(2)], rtol=1e-6)
    loss.sum().backward()  # p - onehot(t)
    np.testing.assert_allclose(to_numpy(x.grad), [[1, 0, -1], [0, -0.5, 0.5]], atol=1e-6)
    x = tc.Tensor(a, requires_grad=True, device=device)
    t = np.array([[0.0, 1.0, 0.5], [1.0, 1.0, 0.0]], np.float32)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    # (1 - t) x + softplus(-x): 1e4, 1e4, log 2; 1e4, 0, 1e4
    np.testing.assert_allclose(loss.numpy(), [[1e4, 1e4, np.log(2)], [1e4, 0, 1e4]], rtol=1e-6)
    loss.sum().backward()  # s(x) - t
    np.testing.assert_allclose(to_numpy(x.grad), [[1, -1, 0], [-1, 0, 1]], atol=1e-6)
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32
