"""tinycolor.gradcheck: passes on correct ops, raises GradcheckError naming the worst element on
a wrong backward, refuses float32."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, given_settings, shapes, tensor

import tinycolor as tc
from tinycolor import functional as F
from tinycolor.autograd import Function
from tinycolor.gradcheck import numerical_grad


class Square(Function):
    """z = a^2 with a correct backward, or one wrong at a single element (``bad_at``)."""

    def forward(self, a, bad_at=None, ignore_g=False):
        self.save_for_backward(a)
        self.bad_at, self.ignore_g = bad_at, ignore_g
        return a * a

    def backward(self, g):
        (a,) = self.saved
        grad = 2 * a if self.ignore_g else 2 * a * g
        if self.bad_at is not None:
            grad = grad.copy()
            grad[self.bad_at] += 0.5  # a deliberate mistake at one element
        return grad


class ScaledProduct(Function):
    """z = a * b, with the gradient of b forgotten (None) when ``forget_b``."""

    def forward(self, a, b, forget_b=False):
        self.save_for_backward(a, b)
        self.forget_b = forget_b
        return a * b

    def backward(self, g):
        a, b = self.saved
        return g * b, (None if self.forget_b else g * a)


@given_settings
@given(shape=shapes(1, 3, 1, 4), data=st.data())
def test_passes_on_correct_ops(device, shape, data):
    x = tensor(data.draw(arrays(shape)), device)
    y = tensor(data.draw(arrays(shape, 0.5, 2.0)), device)
    assert tc.gradcheck(lambda a: Square.apply(a), [x])
    assert tc.gradcheck(lambda a, b: F.tanh(a * b) / b + (a * a).sum(), [x, y])
    assert tc.gradcheck(lambda a, b: ScaledProduct.apply(a, b), [x, y])


@given_settings
@given(shape=shapes(2, 3, 2, 4), data=st.data())
def test_names_the_worst_element_of_a_wrong_backward(device, shape, data):
    x = tensor(data.draw(arrays(shape)), device)
    bad = tuple(data.draw(st.integers(0, n - 1)) for n in shape)
    with pytest.raises(tc.GradcheckError) as info:
        tc.gradcheck(lambda a: Square.apply(a, bad_at=bad), [x])
    msg = str(info.value)
    assert f"input 0 (shape {shape})" in msg
    assert f"1 of {x.size} elements differ" in msg
    assert f"worst at index {bad}" in msg
    worst = re.search(r"autograd (\S+), numerical (\S+)", msg)
    assert abs(float(worst[1]) - float(worst[2]) - 0.5) < 1e-5  # the planted mistake


def test_catches_a_backward_that_ignores_the_incoming_gradient(device):
    # with an all-ones cotangent this mistake would be invisible: the random one exposes it
    x = tensor(np.linspace(-1, 1, 6).reshape(2, 3), device)
    with pytest.raises(tc.GradcheckError, match="input 0"):
        tc.gradcheck(lambda a: Square.apply(a, ignore_g=True), [x])


def test_catches_a_forgotten_gradient_and_names_the_input(device):
    x = tensor(np.array([1.0, 2.0]), device)
    y = tensor(np.array([3.0, -4.0]), device)
    with pytest.raises(tc.GradcheckError, match=r"input 1 \(shape \(2,\)\): 2 of 2 elements"):
        tc.gradcheck(lambda a, b: ScaledProduct.apply(a, b, forget_b=True), [x, y])


def test_says_when_no_gradient_reached_an_input(device):
    """A backward that returns None for an input that needs a gradient leaves it without one
    (as PyTorch does); the message said only "autograd 0", as if a zero had been computed."""
    x = tensor(np.array([1.0, 2.0]), device)
    y = tensor(np.array([3.0, -4.0]), device)
    with pytest.raises(tc.GradcheckError, match=r"input 1 .*differ; no gradient reached it.*None"):
        tc.gradcheck(lambda a, b: ScaledProduct.apply(a, b, forget_b=True), [x, y])


def test_rejects_float32_inputs(device):
    x = tc.Tensor(np.ones(3, np.float32), requires_grad=True, device=device)
    with pytest.raises(TypeError, match="input 0 is float32; use float64"):
        tc.gradcheck(F.exp, [x])


def test_wraps_arrays_skips_constants_and_restores_inputs(device):
    a = np.array([[0.5, -1.0], [2.0, 0.25]])
    assert tc.gradcheck(lambda t: t * t, [a])  # a plain array becomes a float64 leaf
    np.testing.assert_array_equal(a, [[0.5, -1.0], [2.0, 0.25]])
    x = tensor(a, device)
    k = tensor(a * 3, device, requires_grad=False)  # a constant: never perturbed nor checked
    data = x.data
    assert tc.gradcheck(lambda t, c: t * c, [x, k])
    assert x.data is data  # the tensor gets its own array back, values unchanged
    np.testing.assert_array_equal(x.numpy(), a)
    np.testing.assert_array_equal(k.numpy(), a * 3)


def test_inputs_that_share_memory_are_perturbed_alone(device):
    # x.detach() shares x's array: perturbing x in place would move the constant too
    x = tensor(np.array([0.5, -1.0, 2.0]), device)
    c = x.detach()
    assert tc.gradcheck(lambda t, k: t * k, [x, c])
    assert tc.gradcheck(lambda t: t * c, [x])


def test_non_contiguous_inputs(device):
    a = np.arange(1.0, 7.0).reshape(2, 3)
    x = tc.Tensor(a.T, requires_grad=True, device=device)  # a transposed, non-contiguous view
    assert tc.gradcheck(lambda t: t * tc.Tensor(a.T.copy(), device=device), [x])


def test_one_input_may_be_given_alone(device):
    x = tensor(np.array([0.5, -1.0, 2.0]), device)
    assert tc.gradcheck(lambda t: t * t, x)  # was iterated over: fn got the 3 elements
    assert tc.gradcheck(lambda t: t * t, np.array([0.5, 2.0]))
    with pytest.raises(tc.GradcheckError, match="input 0"):
        tc.gradcheck(lambda t: Square.apply(t, bad_at=(1,)), x)


def test_nothing_to_check_is_an_error_not_a_pass(device):
    k = tensor(np.array([0.5, -1.0]), device, requires_grad=False)
    with pytest.raises(ValueError, match="no input requires grad, so there is nothing to check"):
        tc.gradcheck(lambda t: t * 3, [k])  # returned True, having compared nothing


def test_fn_must_return_a_tensor():
    with pytest.raises(TypeError, match="fn must return a Tensor"):
        tc.gradcheck(lambda t: t.numpy(), [np.ones(2)])


def test_numerical_grad_matches_a_known_derivative():
    x = tc.Tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    v = np.array([1.0, -2.0, 0.5])
    (num,) = numerical_grad(F.tanh, [x], v)
    np.testing.assert_allclose(num, v * (1 - np.tanh(x.numpy()) ** 2), rtol=1e-8, atol=1e-10)
