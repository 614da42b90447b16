"""F.bilinear and nn.Bilinear (a naive loop as the forward oracle, float64 gradcheck over
hypothesis shapes, PyTorch's forward, gradients and init), and nn.Unflatten (Flatten's
inverse, PyTorch's shapes, repr and errors)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, given_settings, shapes, tensor

import tinycolor as tc
from tinycolor import functional as F
from tinycolor import nn
from tinycolor.backend import to_numpy


def ref_bilinear(x1, x2, w, b=None):
    """y[..., o] = sum_i sum_j x1[..., i] w[o, i, j] x2[..., j] (+ b[o]), one loop per term."""
    lead = x1.shape[:-1]
    a, c = x1.reshape(-1, x1.shape[-1]), x2.reshape(-1, x2.shape[-1])
    y = np.zeros((a.shape[0], w.shape[0]))
    for n in range(a.shape[0]):
        for o in range(w.shape[0]):
            for i in range(w.shape[1]):
                for j in range(w.shape[2]):
                    y[n, o] += a[n, i] * w[o, i, j] * c[n, j]
            if b is not None:
                y[n, o] += b[o]
    return y.reshape(*lead, w.shape[0])


@given_settings
@given(
    lead=shapes(0, 2, 1, 3),
    sizes=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
    with_bias=st.booleans(),
    data=st.data(),
)
def test_bilinear_gradcheck_and_forward(device, lead, sizes, with_bias, data):
    n1, n2, out = sizes
    a1, a2 = data.draw(arrays((*lead, n1))), data.draw(arrays((*lead, n2)))
    w0 = data.draw(arrays((out, n1, n2)))
    b0 = data.draw(arrays((out,))) if with_bias else None
    x1, x2, w = tensor(a1, device), tensor(a2, device), tensor(w0, device)
    b = None if b0 is None else tensor(b0, device)
    y = F.bilinear(x1, x2, w, b)
    assert y.shape == (*lead, out)
    np.testing.assert_allclose(y.numpy(), ref_bilinear(a1, a2, w0, b0), rtol=1e-12, atol=1e-14)
    inputs = [x1, x2, w] if b is None else [x1, x2, w, b]
    assert tc.gradcheck(F.bilinear, inputs)


def test_bilinear_module_matches_pytorch():
    """The same repr, parameter names and shapes; with PyTorch's weights, the same output and
    gradients for the inputs and both parameters."""
    torch = pytest.importorskip("torch")
    ours, ref = nn.Bilinear(3, 4, 5), torch.nn.Bilinear(3, 4, 5)
    assert repr(ours) == repr(ref)
    assert repr(nn.Bilinear(2, 3, 4, bias=False)) == repr(torch.nn.Bilinear(2, 3, 4, bias=False))
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    rng = np.random.default_rng(0)
    a1, a2 = rng.standard_normal((2, 6, 3)), rng.standard_normal((2, 6, 4))
    x1, x2 = tc.tensor(a1, requires_grad=True), tc.tensor(a2, requires_grad=True)
    t1 = torch.tensor(a1, dtype=torch.float32, requires_grad=True)
    t2 = torch.tensor(a2, dtype=torch.float32, requires_grad=True)
    y, ty = ours(x1, x2), ref(t1, t2)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x1.grad, t1.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x2.grad, t2.grad.numpy(), rtol=1e-5, atol=1e-6)
    for name, p in ours.named_parameters():
        want = dict(ref.named_parameters())[name].grad.numpy()
        np.testing.assert_allclose(p.grad, want, rtol=1e-5, atol=1e-5, err_msg=name)
    one = torch.nn.functional.bilinear(t1[0, 0], t2[0, 0], ref.weight, ref.bias)  # 1-d inputs
    np.testing.assert_allclose(
        F.bilinear(x1[0, 0], x2[0, 0], ours.weight, ours.bias).numpy(),
        one.detach().numpy(),
        rtol=1e-5,
    )


def test_bilinear_init_is_pytorchs_and_errors_name_the_layer(device):
    """W and b ~ U(-1/sqrt(in1), 1/sqrt(in1)): in range, and spread over it."""
    m = nn.Bilinear(4, 50, 60).to(device)
    assert m.weight.shape == (60, 4, 50) and m.bias.shape == (60,)
    for p in (m.weight, m.bias):
        v = to_numpy(p.data)
        assert v.dtype == np.float32
        assert np.abs(v).max() <= 0.5 and np.abs(v).max() > 0.45
    assert nn.Bilinear(4, 5, 6, bias=False).bias is None
    x1 = tc.Tensor(np.ones((2, 4), np.float32), device=device)
    x2 = tc.Tensor(np.ones((2, 50), np.float32), device=device)
    assert m(x1, x2).shape == (2, 60) and m(x1, x2).dtype == np.float32
    with pytest.raises(ValueError, match=r"Bilinear\(4, 50->60\): expected input2 with 50 feat"):
        m(x1, tc.Tensor(np.ones((2, 5), np.float32), device=device))
    with pytest.raises(ValueError, match=r"same leading \(batch\) axes"):
        m(x1, tc.Tensor(np.ones((3, 50), np.float32), device=device))
    with pytest.raises(ValueError, match="in2_features must be a positive whole number"):
        nn.Bilinear(2, 0, 3)


# --------------------------------------------------------------------------- Unflatten


@pytest.mark.parametrize(
    ("dim", "sizes", "shape"),
    [
        (1, (2, 3), (4, 6)),
        (1, [2, 3, 2], (4, 12, 5)),
        (-1, (2, -1), (3, 8)),
        (0, (-1, 2), (6, 1)),
        (-2, (1, 4), (2, 4, 3)),
    ],
)
def test_unflatten_is_flattens_inverse_as_pytorchs(device, dim, sizes, shape):
    a = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    x = tc.Tensor(a, requires_grad=True, device=device)
    m = nn.Unflatten(dim, sizes)
    y = m(x)
    d = dim % len(shape)
    known = int(np.prod([s for s in sizes if s != -1]))
    want_shape = shape[:d] + tuple(shape[d] // known if s == -1 else s for s in sizes)
    want_shape += shape[d + 1 :]
    assert y.shape == want_shape
    np.testing.assert_array_equal(y.numpy(), a.reshape(want_shape))
    back = nn.Flatten(d, d + len(sizes) - 1)(y)
    np.testing.assert_array_equal(back.numpy(), a)
    assert tc.gradcheck(m, [x])
    torch = pytest.importorskip("torch")
    ref = torch.nn.Unflatten(dim, sizes)
    assert repr(m) == repr(ref)
    assert y.shape == tuple(ref(torch.tensor(a)).shape)


def test_unflatten_refuses_sizes_that_do_not_fit():
    x = tc.Tensor(np.ones((3, 6)))
    with pytest.raises(ValueError, match=r"sizes \[2, 4\] do not multiply up .* dim 1 \(6\)"):
        nn.Unflatten(1, (2, 4))(x)
    with pytest.raises(ValueError, match=r"sizes \[4, -1\] do not multiply up"):
        nn.Unflatten(1, (4, -1))(x)
    with pytest.raises(ValueError, match="dim 2 is out of range"):
        nn.Unflatten(2, (2, 3))(x)
    for bad in ((), (-1, -1), (2, -3), 6, (2.0, 3)):
        with pytest.raises(ValueError, match="unflattened_size must be a non-empty tuple"):
            nn.Unflatten(1, bad)
