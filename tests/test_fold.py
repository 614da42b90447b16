"""unfold and fold (im2col and col2im the PyTorch way): forward against loops, gradcheck, the
adjoint identity <unfold(x), y> = <x, fold(y)>, convolution as unfold and a matrix product,
PyTorch as an oracle, the layers and the errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import given_settings, tensor

import tinycolor as tc
from tinycolor import functional as F
from tinycolor import nn


def _blocks(h, w, k, d, p, s):
    return ((h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1), (
        (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    )


def loop_unfold(x, k, d, p, s):
    """Row (c, i, j), column y Wo + x: the input pixel read by tap (i, j) of block (y, x), zero
    where it falls into the padding; one entry at a time."""
    n, c, h, w = x.shape
    ho, wo = _blocks(h, w, k, d, p, s)
    out = np.zeros((n, c * k[0] * k[1], ho * wo))
    for ci in range(c):
        for i in range(k[0]):
            for j in range(k[1]):
                for y in range(ho):
                    for xx in range(wo):
                        iy, ix = y * s[0] + i * d[0] - p[0], xx * s[1] + j * d[1] - p[1]
                        if 0 <= iy < h and 0 <= ix < w:
                            row = (ci * k[0] + i) * k[1] + j
                            out[:, row, y * wo + xx] = x[:, ci, iy, ix]
    return out


def loop_fold(cols, size, k, d, p, s):
    """Each column entry added onto the pixel unfold reads it from, one at a time."""
    n, ckk, _ = cols.shape
    c, (h, w) = ckk // (k[0] * k[1]), size
    ho, wo = _blocks(h, w, k, d, p, s)
    out = np.zeros((n, c, h, w))
    for ci in range(c):
        for i in range(k[0]):
            for j in range(k[1]):
                for y in range(ho):
                    for xx in range(wo):
                        iy, ix = y * s[0] + i * d[0] - p[0], xx * s[1] + j * d[1] - p[1]
                        if 0 <= iy < h and 0 <= ix < w:
                            out[:, ci, iy, ix] += cols[:, (ci * k[0] + i) * k[1] + j, y * wo + xx]
    return out


@st.composite
def block_cases(draw):
    """An (N, C, H, W) shape and a geometry giving at least one block."""
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    span = [d[a] * (k[a] - 1) + 1 - 2 * p[a] for a in (0, 1)]
    h = draw(st.integers(max(1, span[0]), max(1, span[0]) + 4))
    w = draw(st.integers(max(1, span[1]), max(1, span[1]) + 4))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)
    # PyTorch's forms: ints where both sides agree
    k, d, p, s = (v[0] if v[0] == v[1] and draw(st.booleans()) else v for v in (k, d, p, s))
    return shape, k, d, p, s


def _pairs(*vs):
    return [(v, v) if isinstance(v, int) else v for v in vs]


@given_settings
@given(case=block_cases(), seed=st.integers(0, 2**31 - 1))
@example(case=((1, 2, 4, 5), (2, 3), (2, 2), (0, 1), (1, 2)), seed=465783867)  # a cancelling sum
def test_unfold_and_fold_forward_gradcheck_and_adjoint(device, case, seed):
    shape, k, d, p, s = case
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    want = loop_unfold(a, *_pairs(k, d, p, s))
    x = tensor(a, device)
    cols = F.unfold(x, k, d, p, s)
    np.testing.assert_array_equal(cols.numpy(), want)
    assert tc.gradcheck(lambda t: F.unfold(t, k, d, p, s), [x])

    b = rng.standard_normal(want.shape)
    y = tensor(b, device)
    img = F.fold(y, shape[2:], k, d, p, s)
    np.testing.assert_allclose(
        img.numpy(), loop_fold(b, shape[2:], *_pairs(k, d, p, s)), rtol=1e-12, atol=1e-12
    )
    assert tc.gradcheck(lambda t: F.fold(t, shape[2:], k, d, p, s), [y])
    # fold is unfold's adjoint: <unfold(x), y> = <x, fold(y)>, up to the rounding of sums of
    # terms of either sign (relative to their sizes: the sum itself may nearly cancel)
    scale = np.abs(want * b).sum()
    np.testing.assert_allclose((want * b).sum(), (a * img.numpy()).sum(), atol=1e-12 * scale)


def test_conv2d_is_a_product_with_unfold(device):
    """What the docstring says: a convolution is the weight matrix times the columns."""
    rng = np.random.default_rng(0)
    x = tc.Tensor(rng.standard_normal((2, 3, 7, 6)), device=device)
    w = tc.Tensor(rng.standard_normal((4, 3, 3, 2)), device=device)
    ho, wo = 4, 7  # (7 + 2 - 3) // 2 + 1 and (6 + 2 - 2) // 1 + 1
    cols = F.unfold(x, (3, 2), padding=1, stride=(2, 1))
    via_columns = (w.reshape(4, -1) @ cols).reshape(2, 4, ho, wo)
    np.testing.assert_allclose(
        via_columns.numpy(),
        F.conv2d(x, w, stride=(2, 1), padding=1).numpy(),
        rtol=1e-12,
        atol=1e-12,
    )


def test_one_image_unbatched(device):
    a = np.random.default_rng(1).standard_normal((2, 4, 5))
    x = tc.Tensor(a, device=device)
    cols = F.unfold(x, 2, padding=1)
    assert cols.shape == (8, 30)
    np.testing.assert_array_equal(
        cols.numpy(), loop_unfold(a[None], (2, 2), (1, 1), (1, 1), (1, 1))[0]
    )
    assert F.fold(cols, (4, 5), 2, padding=1).shape == (2, 4, 5)


@pytest.mark.parametrize(
    "k, d, p, s", [(3, 1, 0, 1), ((2, 3), (2, 1), (1, 2), (2, 3)), (2, 1, 1, 2)]
)
def test_against_torch(device, k, d, p, s):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a = rng.standard_normal((2, 3, 7, 8))
    x = tc.Tensor(a, requires_grad=True, device=device)
    out = nn.Unfold(k, d, p, s)(x)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    tx = torch.tensor(a, requires_grad=True)
    theirs = torch.nn.Unfold(k, d, p, s)
    tout = theirs(tx)
    tout.backward(torch.tensor(g))
    assert repr(nn.Unfold(k, d, p, s)) == repr(theirs)
    np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
    np.testing.assert_allclose(tc.backend.to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12)

    c = tc.Tensor(g, requires_grad=True, device=device)
    img = nn.Fold((7, 8), k, d, p, s)(c)
    tc_ = torch.tensor(g, requires_grad=True)
    theirs = torch.nn.Fold((7, 8), k, d, p, s)
    timg = theirs(tc_)
    v = rng.standard_normal(img.shape)
    img.backward(v)
    timg.backward(torch.tensor(v))
    assert repr(nn.Fold((7, 8), k, d, p, s)) == repr(theirs)
    np.testing.assert_allclose(img.numpy(), timg.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(tc.backend.to_numpy(c.grad), tc_.grad.numpy())


def test_exported():
    assert "unfold" in F.__all__ and "fold" in F.__all__
    assert "Unfold" in nn.__all__ and "Fold" in nn.__all__


def _t(*shape):
    return tc.Tensor(np.zeros(shape))


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: F.unfold(_t(1, 1, 2, 2), 3),
            r"unfold: input of shape \(1, 1, 2, 2\), padded to 2x2, is smaller than the kernel",
        ),
        (
            lambda: F.unfold(_t(2, 2), 1),
            r"unfold: expected a 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input, got \(2, 2\)",
        ),
        (lambda: F.unfold(_t(1, 1, 4, 4), 2, stride=0), r"unfold: stride must be positive"),
        (
            lambda: F.fold(_t(1, 5, 4), (3, 3), 2),
            r"fold: expected the size of dimension 1 of the input to be divisible by kh \* kw = "
            r"4 \(kernel_size \(2, 2\)\), got shape \(1, 5, 4\)",
        ),
        (
            lambda: F.fold(_t(1, 4, 5), (3, 3), 2),
            r"fold: expected 2 x 2 = 4 blocks in the last dimension of the input for "
            r"output_size \(3, 3\), kernel_size \(2, 2\), dilation \(1, 1\), padding \(0, 0\), "
            r"stride \(1, 1\), got shape \(1, 4, 5\)",
        ),
        (
            lambda: F.fold(_t(1, 4, 1), (1, 1), 2),
            r"fold: input of shape \(1, 1\), padded to 1x1, is smaller than the kernel",
        ),
        (
            lambda: nn.Unfold(2)(_t(1, 4, 4)),
            r"Unfold\(kernel_size=2\): expected a 4-D input \(N, C, H, W\), got shape \(1, 4, 4\)",
        ),
        (
            lambda: nn.Fold((3, 3), 2)(_t(4, 4)),
            r"Fold\(output_size=\(3, 3\), kernel_size=2\): expected a 3-D input",
        ),
        (lambda: nn.Unfold(0), r"Unfold: kernel size must be positive, got \(0, 0\)"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
