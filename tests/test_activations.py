"""The activations PyTorch code reaches for beyond relu, sigmoid, tanh, silu and gelu: elu,
selu, softplus, hardtanh, relu6, prelu, logsigmoid, softmin, mish, hardswish, hardsigmoid and
their modules. Forward against NumPy formulas, gradcheck (float64, hypothesis shapes, values
kept off the kinks), forward + gradient against PyTorch, PyTorch's gradients at the kinks, and
the modules' reprs and parameters against torch.nn."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    arrays,
    check_unary_against_torch,
    check_unary_forward_and_gradient,
    given_settings,
    shapes,
    tensor,
)

import tinycolor as tc
from tinycolor import functional as F
from tinycolor import nn
from tinycolor.backend import to_numpy
from tinycolor.functional import elementwise as E

ALPHA, SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _np_softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(np.minimum(beta * x, 700))) / beta)


def _np_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))


def _np_softmin(x, axis):
    e = np.exp(-x - (-x).max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# name: (tinycolor op, NumPy formula, (lo, hi) of the drawn values, kinks to keep away from)
UNARY = {
    "elu": (F.elu, _np_elu, (-3, 3), (0.0,)),
    "elu_alpha": (lambda x: F.elu(x, 0.4), lambda x: _np_elu(x, 0.4), (-3, 3), (0.0,)),
    "selu": (F.selu, lambda x: SCALE * _np_elu(x, ALPHA), (-3, 3), (0.0,)),
    "softplus": (F.softplus, _np_softplus, (-6, 6), ()),
    "softplus_beta": (
        lambda x: F.softplus(x, 2.0, 5.0),
        lambda x: _np_softplus(x, 2.0, 5.0),
        (-4, 4),
        (2.5,),
    ),
    "hardtanh": (F.hardtanh, lambda x: np.clip(x, -1, 1), (-2, 2), (-1.0, 1.0)),
    "hardtanh_bounds": (
        lambda x: F.hardtanh(x, -0.5, 1.5),
        lambda x: np.clip(x, -0.5, 1.5),
        (-2, 2),
        (-0.5, 1.5),
    ),
    "relu6": (F.relu6, lambda x: np.clip(x, 0, 6), (-2, 8), (0.0, 6.0)),
    "logsigmoid": (F.logsigmoid, lambda x: -np.log1p(np.exp(-x)), (-8, 8), ()),
    "mish": (F.mish, lambda x: x * np.tanh(np.log1p(np.exp(x))), (-5, 5), ()),
    "hardswish": (
        F.hardswish,
        lambda x: x * np.clip(x + 3, 0, 6) / 6,
        (-5, 5),
        (-3.0, 3.0),
    ),
    "hardsigmoid": (F.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1), (-5, 5), (-3.0, 3.0)),
}

TORCH_UNARY = {
    "elu": lambda tF, x: tF.elu(x),
    "elu_alpha": lambda tF, x: tF.elu(x, 0.4),
    "selu": lambda tF, x: tF.selu(x),
    "softplus": lambda tF, x: tF.softplus(x),
    "softplus_beta": lambda tF, x: tF.softplus(x, 2.0, 5.0),
    "hardtanh": lambda tF, x: tF.hardtanh(x),
    "hardtanh_bounds": lambda tF, x: tF.hardtanh(x, -0.5, 1.5),
    "relu6": lambda tF, x: tF.relu6(x),
    "logsigmoid": lambda tF, x: tF.logsigmoid(x),
    "mish": lambda tF, x: tF.mish(x),
    "hardswish": lambda tF, x: tF.hardswish(x),
    "hardsigmoid": lambda tF, x: tF.hardsigmoid(x),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given_settings
@given(shape=shapes(1, 3, 1, 4), data=st.data())
def test_activation_gradcheck_and_forward(device, name, shape, data):
    op, ref, (lo, hi), kinks = UNARY[name]
    a = data.draw(arrays(shape, lo, hi, away_from=kinks, margin=0.02))
    check_unary_forward_and_gradient(op, ref, tensor(a, device))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_activation_against_torch(device, name):
    torch = pytest.importorskip("torch")
    op, _, (lo, hi), kinks = UNARY[name]
    theirs = TORCH_UNARY[name]
    check_unary_against_torch(
        torch, op, lambda t: theirs(torch.nn.functional, t), lo, hi, device, kinks
    )


# the kinks themselves, with the gradients PyTorch's backward passes give there
KINKS = {
    "elu_alpha": ([0.0], [0.4]),  # the negative side's slope alpha e^0
    "selu": ([0.0], [SCALE * ALPHA]),
    "softplus_beta": ([2.5, 2.5000001], [1 / (1 + np.exp(-5.0)), 1.0]),  # x itself past beta x > 5
    "hardtanh": ([-1.0, 1.0, 0.0], [0.0, 0.0, 1.0]),  # 0 at the bounds, unlike clamp
    "relu6": ([0.0, 6.0], [0.0, 0.0]),
    "hardswish": ([-3.0, 3.0], [0.0, 1.0]),
    "hardsigmoid": ([-3.0, 3.0], [0.0, 0.0]),
}


@pytest.mark.parametrize("name", sorted(KINKS))
def test_gradients_at_the_kinks_are_pytorchs(device, name):
    op = UNARY[name][0]
    values, want = KINKS[name]
    x = tc.Tensor(np.array(values), requires_grad=True, device=device)
    op(x).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), want, rtol=1e-12)
    torch = pytest.importorskip("torch")  # the values above are PyTorch's
    tx = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    TORCH_UNARY[name](torch.nn.functional, tx).sum().backward()
    np.testing.assert_allclose(tx.grad.numpy(), want, rtol=1e-12)


def test_softplus_logsigmoid_and_mish_are_stable_for_large_inputs(device):
    """No inf or nan where e^x overflows, and full accuracy in the far tails: logsigmoid(-100)
    is -100 (log(sigmoid) gives -inf in float32), softplus(-100) is e^-100 (not 0)."""
    for dtype in (np.float32, np.float64):
        a = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype)
        x = tc.Tensor(a, requires_grad=True, device=device)
        for op in (F.softplus, lambda t: F.softplus(t, threshold=1e9), F.logsigmoid, F.mish):
            out = op(x)
            out.sum().backward()
            assert np.isfinite(out.numpy()).all() and np.isfinite(to_numpy(x.grad)).all()
            x.grad = None
        np.testing.assert_allclose(F.logsigmoid(x).numpy()[:2], [-1000.0, -100.0], rtol=1e-6)
        if dtype == np.float64:
            np.testing.assert_allclose(F.softplus(x).numpy()[1], np.exp(-100.0), rtol=1e-12)
        np.testing.assert_allclose(F.softplus(x, threshold=1e9).numpy()[3:], a[3:], rtol=1e-6)


BACKWARD_DTYPE_CASES = [
    (E.ELU, {}), (E.ELU, {"alpha": E.SELU_ALPHA, "scale": E.SELU_SCALE}), (E.Softplus, {}),
    (E.Hardtanh, {}), (E.Hardsigmoid, {}), (E.Hardswish, {}), (E.LogSigmoid, {}), (E.Mish, {}),
]  # fmt: skip


@pytest.mark.parametrize(("cls", "options"), BACKWARD_DTYPE_CASES)
def test_forward_and_backward_stay_float32(cls, options):
    """A silent float64 doubles time and memory: float32 stays float32 both ways."""
    a = np.random.default_rng(5).uniform(-4, 4, size=(3, 4)).astype(np.float32)
    fn = cls()
    fn.needs_input_grad = (True,)
    out = fn.forward(a, **options)
    assert out.dtype == np.float32
    assert fn.backward(np.ones_like(out)).dtype == np.float32, cls.__name__


def test_integer_inputs_become_floats_not_truncated():
    i = tc.Tensor(np.array([-2, 0, 3]))
    np.testing.assert_allclose(F.elu(i, 0.5).numpy(), [0.5 * (np.exp(-2) - 1), 0.0, 3.0])
    np.testing.assert_allclose(F.hardtanh(i, -1.5, 2.5).numpy(), [-1.5, 0.0, 2.5])
    np.testing.assert_allclose(F.hardsigmoid(i).numpy(), [1 / 6, 0.5, 1.0])
    np.testing.assert_allclose(F.softplus(i).numpy(), np.log1p(np.exp([-2.0, 0.0, 3.0])))


# --------------------------------------------------------------------------- prelu and softmin


@given_settings
@given(shape=shapes(1, 4, 1, 4), per_channel=st.booleans(), data=st.data())
def test_prelu_gradcheck_and_forward(device, shape, per_channel, data):
    """One slope, or one per channel (axis 1; none for a 1-d input), both getting gradients."""
    channels = shape[1] if len(shape) >= 2 and per_channel else 1
    a = data.draw(arrays(shape, away_from=(0.0,), margin=0.02))
    w0 = data.draw(arrays((channels,), -0.5, 1.5))
    x, w = tensor(a, device), tensor(w0, device)
    wb = w0.reshape((-1,) + (1,) * (len(shape) - 2)) if channels > 1 else w0[0]
    np.testing.assert_allclose(F.prelu(x, w).numpy(), np.where(a > 0, a, wb * a), rtol=1e-15)
    assert tc.gradcheck(F.prelu, [x, w])


def test_prelu_against_torch_and_its_kink(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 3, 4, 5))
    a[0, :, 0, 0] = 0.0  # at 0: dz/dx = w and dz/dw = 0, as PyTorch
    for w0 in (np.array([0.25]), np.array([0.1, -0.3, 0.7])):
        x = tc.Tensor(a, requires_grad=True, device=device)
        w = tc.Tensor(w0, requires_grad=True, device=device)
        out = F.prelu(x, w)
        v = rng.standard_normal(out.shape)
        out.backward(v)
        tx, tw = torch.tensor(a, requires_grad=True), torch.tensor(w0, requires_grad=True)
        tout = torch.nn.functional.prelu(tx, tw)
        tout.backward(torch.tensor(v))
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(to_numpy(w.grad), tw.grad.numpy(), rtol=1e-12)
        assert w.grad.shape == w0.shape


def test_prelu_refuses_a_weight_that_is_not_one_slope_per_channel():
    x = tc.Tensor(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"one per channel \(3, axis 1 .* got shape \(2,\)"):
        F.prelu(x, tc.Tensor(np.ones(2)))
    with pytest.raises(ValueError, match=r"one per channel \(1, axis 1"):
        F.prelu(tc.Tensor(np.ones(3)), tc.Tensor(np.ones(3)))  # a 1-d input has no channels


@given_settings
@given(shape=shapes(1, 3, 1, 4), data=st.data())
def test_softmin_gradcheck_and_forward(device, shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    a = data.draw(arrays(shape))
    x = tensor(a, device)
    np.testing.assert_allclose(F.softmin(x, axis).numpy(), _np_softmin(a, axis), rtol=1e-12)
    np.testing.assert_allclose(F.softmin(x, dim=axis).numpy(), _np_softmin(a, axis), rtol=1e-12)
    assert tc.gradcheck(lambda t: F.softmin(t, axis), [x])


def test_softmin_against_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(4).standard_normal((3, 4, 2))
    np.testing.assert_allclose(
        F.softmin(tc.Tensor(a), dim=1).numpy(),
        torch.nn.functional.softmin(torch.tensor(a), dim=1).numpy(),
        rtol=1e-12,
    )


# --------------------------------------------------------------------------- the modules


def _modules(m):
    return [
        m.ELU(),
        m.ELU(0.5, inplace=True),
        m.SELU(),
        m.SELU(inplace=True),
        m.Softplus(),
        m.Softplus(2, 10),
        m.Hardtanh(),
        m.Hardtanh(-2.0, 3.0, inplace=True),
        m.ReLU6(),
        m.ReLU6(inplace=True),
        m.PReLU(),
        m.PReLU(3, 0.1),
        m.LogSigmoid(),
        m.Softmin(dim=1),
        m.Mish(),
        m.Hardswish(),
        m.Hardsigmoid(),
    ]


def test_activation_modules_match_pytorch():
    """The same repr, parameters (PReLU's weight: its shape and init) and output and gradients
    as torch.nn's, for each module."""
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(6).uniform(-4, 4, size=(2, 3, 5))
    v = np.random.default_rng(7).standard_normal(a.shape)
    for ours, ref in zip(_modules(nn), _modules(torch.nn), strict=True):
        assert repr(ours) == repr(ref)
        ours_params, ref_params = dict(ours.named_parameters()), dict(ref.named_parameters())
        assert list(ours_params) == list(ref_params)
        for name, p in ours_params.items():
            np.testing.assert_array_equal(p.numpy(), ref_params[name].detach().numpy())
        x, tx = (
            tc.tensor(a.astype(np.float32), requires_grad=True),
            torch.tensor(a, dtype=torch.float32, requires_grad=True),
        )
        out, tout = ours(x), ref(tx.clone())
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
        out.backward(v.astype(np.float32))
        tout.backward(torch.tensor(v, dtype=torch.float32))
        np.testing.assert_allclose(
            x.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=repr(ours)
        )
        for name, p in ours_params.items():
            np.testing.assert_allclose(p.grad, ref_params[name].grad.numpy(), rtol=1e-5)


def test_activation_modules_are_their_functional_ops(device):
    """Without PyTorch: each module gives its op's output, and PReLU's weight learns."""
    a = np.random.default_rng(8).uniform(-4, 4, size=(2, 3, 5))
    x = tc.Tensor(a, device=device)
    cases = [
        (nn.ELU(0.5), F.elu(x, 0.5)),
        (nn.SELU(), F.selu(x)),
        (nn.Softplus(2, 10), F.softplus(x, 2, 10)),
        (nn.Hardtanh(-2.0, 3.0), F.hardtanh(x, -2.0, 3.0)),
        (nn.ReLU6(), F.relu6(x)),
        (nn.LogSigmoid(), F.logsigmoid(x)),
        (nn.Softmin(1), F.softmin(x, 1)),
        (nn.Mish(), F.mish(x)),
        (nn.Hardswish(), F.hardswish(x)),
        (nn.Hardsigmoid(), F.hardsigmoid(x)),
    ]
    for module, want in cases:
        np.testing.assert_array_equal(module(x).numpy(), want.numpy(), err_msg=repr(module))
    prelu = nn.PReLU(3, init=0.1)
    assert prelu.weight.shape == (3,) and prelu.weight.dtype == np.float32
    np.testing.assert_array_equal(prelu.weight.numpy(), np.float32(0.1))
    prelu = prelu.to(device).double()
    slope = float(np.float32(0.1))
    np.testing.assert_allclose(prelu(x).numpy(), np.where(a > 0, a, slope * a), rtol=1e-15)
    prelu(x).sum().backward()
    np.testing.assert_allclose(to_numpy(prelu.weight.grad), np.minimum(a, 0).sum(axis=(0, 2)))
    with pytest.raises(ValueError, match=r"one per channel \(4, axis 1"):
        prelu(tc.Tensor(np.ones((2, 4, 5)), device=device))
    with pytest.raises(ValueError, match="PReLU: num_parameters must be a positive whole"):
        nn.PReLU(0)
    with pytest.raises(ValueError, match="Hardtanh: min_val must not be greater than max_val"):
        nn.Hardtanh(1.0, -1.0)
