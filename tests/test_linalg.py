"""matmul and linear: gradcheck over hypothesis shapes (1-D, 2-D, batched with broadcasting),
forward against NumPy, forward + gradient against PyTorch, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, given_settings, tensor

import tinycolor as tc
from tinycolor import functional as F
from tinycolor.backend import to_numpy

side = st.integers(1, 4)


@st.composite
def matmul_shapes(draw):
    """Two shapes that numpy.matmul accepts: vectors, matrices, or stacks whose batch axes
    broadcast (one side may have fewer or size-1 batch axes)."""
    m, k, n = draw(side), draw(side), draw(side)
    kind = draw(st.sampled_from(["vv", "mv", "vm", "mm", "batched"]))
    if kind == "vv":
        return (k,), (k,)
    if kind == "mv":
        return (m, k), (k,)
    if kind == "vm":
        return (k,), (k, n)
    if kind == "mm":
        return (m, k), (k, n)
    batch = tuple(draw(st.lists(side, min_size=1, max_size=2)))
    other = tuple(1 if draw(st.booleans()) else b for b in batch)[
        draw(st.integers(0, len(batch))) :
    ]
    if draw(st.booleans()):
        batch, other = other, batch
    return batch + (m, k), other + (k, n)


@given_settings
@given(shapes=matmul_shapes(), data=st.data())
def test_matmul_gradcheck_and_forward(device, shapes, data):
    a, b = data.draw(arrays(shapes[0])), data.draw(arrays(shapes[1]))
    x, y = tensor(a, device), tensor(b, device)
    out = x @ y
    expected = np.matmul(a, b)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-14)
    assert tc.gradcheck(F.matmul, [x, y])


@given_settings
@given(
    lead=st.lists(side, min_size=0, max_size=2),
    fin=side,
    fout=side,
    bias=st.booleans(),
    data=st.data(),
)
def test_linear_gradcheck_and_forward(device, lead, fin, fout, bias, data):
    a = data.draw(arrays(tuple(lead) + (fin,)))
    w = data.draw(arrays((fout, fin)))
    b = data.draw(arrays((fout,))) if bias else None
    inputs = [tensor(a, device), tensor(w, device)] + ([tensor(b, device)] if bias else [])
    out = F.linear(*inputs)
    expected = a @ w.T + (b if bias else 0)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-14)
    assert tc.gradcheck(F.linear, inputs)


def test_linear_with_only_some_inputs_requiring_grad(device):
    rng = np.random.default_rng(0)
    x = tc.Tensor(rng.standard_normal((5, 3)), device=device)  # data: no gradient
    w = tc.Tensor(rng.standard_normal((2, 3)), requires_grad=True, device=device)
    b = tc.Tensor(rng.standard_normal(2), device=device)
    F.linear(x, w, b).sum().backward()
    assert x.grad is None and b.grad is None
    np.testing.assert_allclose(to_numpy(w.grad), np.ones((5, 2)).T @ x.numpy())


@pytest.mark.parametrize(
    ("sa", "sb"),
    [((3,), (3,)), ((4, 3), (3,)), ((3,), (3, 2)), ((4, 3), (3, 2)), ((2, 1, 4, 3), (5, 3, 2))],
)
def test_matmul_against_torch(device, sa, sb):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    x = tc.Tensor(a, requires_grad=True, device=device)
    y = tc.Tensor(b, requires_grad=True, device=device)
    out = F.matmul(x, y)
    v = rng.standard_normal(out.shape)
    out.backward(v)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    tout = torch.matmul(tx, ty)
    tout.backward(torch.tensor(v))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(to_numpy(y.grad), ty.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("lead", [(), (6,), (2, 3)])
def test_linear_against_torch_float32(device, lead):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a = rng.standard_normal(lead + (4,)).astype(np.float32)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    ts = [tc.Tensor(v, requires_grad=True, device=device) for v in (a, w, b)]
    out = F.linear(*ts)
    assert out.dtype == np.float32
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    tts = [torch.tensor(v, requires_grad=True) for v in (a, w, b)]
    tout = torch.nn.functional.linear(*tts)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    for t, tt in zip(ts, tts):
        assert t.grad.dtype == np.float32
        np.testing.assert_allclose(to_numpy(t.grad), tt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(4, 5\) do not align"):
        F.matmul(tc.Tensor(np.ones((2, 3))), tc.Tensor(np.ones((4, 5))))
    with pytest.raises(ValueError, match=r"input has 3 features .* expects 4"):
        F.linear(tc.Tensor(np.ones((2, 3))), tc.Tensor(np.ones((5, 4))))
