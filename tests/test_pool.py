"""Pooling and upsampling: gradcheck over hypothesis-drawn shapes, kernels, strides, paddings
and scale factors; forward and gradient against naive loops, scikit-image and PyTorch; ties,
non-contiguous inputs, dtypes, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import given_settings, tensor

import tinycolor as tc
from tinycolor import functional as F
from tinycolor.backend import to_numpy

# --------------------------------------------------------------------------- references


def naive_out_size(n, k, s, p, ceil_mode):
    """PyTorch's output length: floor or ceil of (n + 2p - k) / s, plus one, less the last
    window when ceil_mode would start it past the input and its left padding."""
    out = (math.ceil if ceil_mode else math.floor)((n + 2 * p - k) / s) + 1
    return out - 1 if ceil_mode and (out - 1) * s >= n + p else out


def naive_pool(
    x, g, kernel, stride, padding, op, ceil_mode=False, count_include_pad=True, divisor=None
):
    """Loop over every output pixel: (output, input gradient for the output gradient g).
    'max' routes g to the first maximum in row-major order (the first pixel inside the input
    where all are -inf), or to the last NaN where the window holds any; 'avg' divides by ``divisor``
    when given, else by kh*kw (the window clipped to the padded input), padding included, or
    with ``count_include_pad=False`` by the number of input pixels in the window."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    n, c, h, w = x.shape
    ho, wo = naive_out_size(h, kh, sh, ph, ceil_mode), naive_out_size(w, kw, sw, pw, ceil_mode)
    out = np.zeros((n, c, ho, wo))
    gx = np.zeros(x.shape)
    for b in range(n):
        for ch in range(c):
            for i in range(ho):
                for j in range(wo):
                    cells = [
                        (i * sh - ph + di, j * sw - pw + dj)
                        for di in range(kh)
                        for dj in range(kw)
                        if 0 <= i * sh - ph + di < h and 0 <= j * sw - pw + dj < w
                    ]
                    if op == "max":  # PyTorch's CPU loop: `val > max || isnan(val)`
                        best = cells[0]
                        for r, q in cells[1:]:
                            v = x[b, ch, r, q]
                            if v > x[b, ch, best[0], best[1]] or np.isnan(v):
                                best = (r, q)
                        out[b, ch, i, j] = x[b, ch, best[0], best[1]]
                        gx[b, ch, best[0], best[1]] += g[b, ch, i, j]
                    else:
                        r0, c0 = i * sh - ph, j * sw - pw
                        d = (min(r0 + kh, h + ph) - r0) * (min(c0 + kw, w + pw) - c0)
                        d = divisor or (d if count_include_pad else len(cells))
                        out[b, ch, i, j] = sum(x[b, ch, r, q] for r, q in cells) / d
                        for r, q in cells:
                            gx[b, ch, r, q] += g[b, ch, i, j] / d
    return out, gx


def naive_adaptive_avg_pool(x, g, size):
    """Loop over every output pixel, averaging PyTorch's window: rows floor(i H / Ho) ..
    ceil((i + 1) H / Ho) - 1, columns likewise; (output, input gradient for the output
    gradient g)."""
    n, c, h, w = x.shape
    ho, wo = size
    out = np.zeros((n, c, ho, wo))
    gx = np.zeros(x.shape)
    for i in range(ho):
        r0, r1 = math.floor(i * h / ho), math.ceil((i + 1) * h / ho)
        for j in range(wo):
            c0, c1 = math.floor(j * w / wo), math.ceil((j + 1) * w / wo)
            count = (r1 - r0) * (c1 - c0)
            out[:, :, i, j] = x[:, :, r0:r1, c0:c1].sum(axis=(2, 3)) / count
            gx[:, :, r0:r1, c0:c1] += g[:, :, i, j, None, None] / count
    return out, gx


def naive_adaptive_max_pool(x, g, size):
    """Loop over every output pixel, taking the max of PyTorch's window (rows floor(i H / Ho)
    .. ceil((i + 1) H / Ho) - 1, columns likewise) at its first maximum in row-major order:
    (output, PyTorch's indices h W + w, input gradient for the output gradient g)."""
    n, c, h, w = x.shape
    ho, wo = size
    out, index = np.zeros((n, c, ho, wo)), np.zeros((n, c, ho, wo), np.int64)
    gx = np.zeros(x.shape)
    for b in range(n):
        for ch in range(c):
            for i in range(ho):
                r0, r1 = math.floor(i * h / ho), math.ceil((i + 1) * h / ho)
                for j in range(wo):
                    c0, c1 = math.floor(j * w / wo), math.ceil((j + 1) * w / wo)
                    cells = [(r, q) for r in range(r0, r1) for q in range(c0, c1)]
                    r, q = max(cells, key=lambda rc: x[b, ch, rc[0], rc[1]])  # the first max
                    out[b, ch, i, j], index[b, ch, i, j] = x[b, ch, r, q], r * w + q
                    gx[b, ch, r, q] += g[b, ch, i, j]
    return out, index, gx


def keys_cubic(d, a=-0.75):
    """Keys' cubic convolution kernel at distance d, with PyTorch's a = -0.75."""
    d = abs(d)
    if d <= 1:
        return (a + 2) * d**3 - (a + 3) * d**2 + 1
    if d < 2:
        return a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a
    return 0.0


def naive_source_1d(o, n_in, n_out, scale, mode, align_corners):
    """PyTorch's documented source of output sample o along one axis, as [(index, weight)]."""
    if mode == "bicubic":  # the 4 samples around src (not clamped), indices clamped
        if align_corners:
            src = o * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        else:
            step = 1.0 / scale if scale is not None else n_in / n_out
            src = (o + 0.5) * step - 0.5
        j0 = math.floor(src)
        return [(min(max(j, 0), n_in - 1), keys_cubic(src - j)) for j in range(j0 - 1, j0 + 3)]
    if n_out == n_in:
        return [(o, 1.0)]
    if mode == "nearest":  # floor(o * step) with the step in float32, clamped
        step = np.float32(1.0 / scale if scale is not None else n_in / n_out)
        return [(min(int(np.floor(np.float32(o) * step)), n_in - 1), 1.0)]
    if align_corners:
        src = o * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        step = 1.0 / scale if scale is not None else n_in / n_out
        src = max((o + 0.5) * step - 0.5, 0.0)
    i0 = min(int(math.floor(src)), n_in - 1)
    i1 = min(i0 + 1, n_in - 1)
    return [(i0, 1.0 - (src - i0)), (i1, src - i0)]


def naive_interpolate(x, size, scale, mode, align_corners=False):
    """Loop over every output pixel, mixing the source pixels of both axes."""
    n, c, h, w = x.shape
    ho, wo = size
    sh, sw = scale
    out = np.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            for r, a in naive_source_1d(i, h, ho, sh, mode, align_corners):
                for q, b in naive_source_1d(j, w, wo, sw, mode, align_corners):
                    out[:, :, i, j] += a * b * x[:, :, r, q]
    return out


def distinct_values(rng, shape):
    """A random permutation of evenly spaced values: no ties in any max window."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0


# --------------------------------------------------------------------------- strategies


@st.composite
def pool_cases(draw):
    """(shape, kernel, stride, padding) with a valid PyTorch geometry (int or pair arguments)."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    h = draw(st.integers(max(1, kernel[0] - 2 * padding[0]), 7))
    w = draw(st.integers(max(1, kernel[1] - 2 * padding[1]), 7))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), h, w)

    def maybe_int(pair):
        return pair[0] if pair[0] == pair[1] and draw(st.booleans()) else pair

    stride_arg = None if stride == kernel and draw(st.booleans()) else maybe_int(stride)
    return shape, maybe_int(kernel), stride_arg, maybe_int(padding)


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


@st.composite
def adaptive_cases(draw):
    """(shape, output_size, (Ho, Wo)): input sides that the output sides divide, or not, or
    are smaller than; output_size an int or a pair with None for "the input's size"."""
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    shape += (draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    if draw(st.booleans()):
        k = draw(st.integers(1, 9))
        return shape, k, (k, k)
    arg = tuple(draw(st.one_of(st.none(), st.integers(1, 9))) for _ in range(2))
    return shape, arg, tuple(n if v is None else v for n, v in zip(shape[2:], arg))


MODES = ["nearest", "bilinear", "bicubic"]


@st.composite
def interp_cases(draw, mode):
    """(shape, size, scale_factor, mode, align_corners), exactly one of size and scale: up
    and down, sides of 1 included."""
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    shape += (draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    align = None if mode == "nearest" else draw(st.sampled_from([None, False, True]))
    if draw(st.booleans()):
        size = (draw(st.integers(1, 9)), draw(st.integers(1, 9)))
        return shape, size, None, mode, align
    factors = st.sampled_from([1, 2, 3, 4, 0.5, 0.75, 1.25, 1.5, 2.5, 1.7])
    scale = draw(factors) if draw(st.booleans()) else (draw(factors), draw(factors))
    sh, sw = scale if isinstance(scale, tuple) else (scale, scale)
    if math.floor(shape[2] * sh) < 1 or math.floor(shape[3] * sw) < 1:
        scale = 2
    return shape, None, scale, mode, align


def _interp_geometry(shape, size, scale):
    if size is not None:
        return tuple(size), (None, None)
    sh, sw = scale if isinstance(scale, tuple) else (scale, scale)
    return (math.floor(shape[2] * sh), math.floor(shape[3] * sw)), (float(sh), float(sw))


# --------------------------------------------------------------------------- pooling


@pytest.mark.parametrize("op", ["max", "avg"])
@given_settings
@given(case=pool_cases(), seed=st.integers(0, 2**16))
def test_pool_gradcheck_and_naive_forward(device, op, case, seed):
    shape, kernel, stride, padding = case
    rng = np.random.default_rng(seed)
    a = distinct_values(rng, shape)
    fn = F.max_pool2d if op == "max" else F.avg_pool2d
    x = tensor(a, device)
    out = fn(x, kernel, stride, padding)
    g = rng.standard_normal(out.shape)
    out.backward(tc.Tensor(g, device=device))
    k = _pair(kernel)
    want, want_grad = naive_pool(
        a, g, k, k if stride is None else _pair(stride), _pair(padding), op
    )
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_numpy(x.grad), want_grad, rtol=1e-12, atol=1e-12)
    assert tc.gradcheck(lambda t: fn(t, kernel, stride, padding), [tensor(a, device)])


@pytest.mark.parametrize(
    "shape, kernel, stride, padding",
    [
        ((2, 3, 8, 8), 2, None, 0),  # the common case: windows tile the image
        ((2, 3, 9, 7), 2, None, 0),  # floor: the last row and column are in no window
        ((1, 2, 9, 9), 3, 2, 1),  # overlapping windows with padding
        ((1, 2, 8, 10), (2, 3), (3, 4), (1, 0)),  # gaps between windows
        ((1, 1, 5, 6), 1, 2, 0),  # subsampling
    ],
)
@pytest.mark.parametrize("op", ["max", "avg"])
def test_pool_geometries_match_naive_float32(device, op, shape, kernel, stride, padding):
    rng = np.random.default_rng(1)
    a = distinct_values(rng, shape).astype(np.float32)
    fn = F.max_pool2d if op == "max" else F.avg_pool2d
    x = tc.Tensor(a, requires_grad=True, device=device)
    out = fn(x, kernel, stride, padding)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(tc.Tensor(g, device=device))
    k = _pair(kernel)
    want, want_grad = naive_pool(
        a, g, k, k if stride is None else _pair(stride), _pair(padding), op
    )
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(to_numpy(x.grad), want_grad, rtol=1e-5, atol=1e-6)


def test_max_pool_ties_go_to_the_first_maximum(device):
    # a window of equal values sends its whole gradient to its top-left element; a window
    # whose maximum appears at (0, 1) and (1, 0) sends it to (0, 1), the first in row-major order
    a = np.array([[[[1.0, 1.0, 0.0, 2.0], [1.0, 1.0, 2.0, 0.0]]]])
    x = tc.Tensor(a, requires_grad=True, device=device)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), [[[[1, 0, 0, 1], [0, 0, 0, 0]]]])


def test_max_pool_padding_is_minus_infinity(device):
    a = -np.arange(1.0, 10.0).reshape(1, 1, 3, 3)  # all negative: a zero pad would win
    y = F.max_pool2d(tc.Tensor(a, device=device), 3, stride=1, padding=1)
    np.testing.assert_array_equal(
        y.numpy(), naive_pool(a, np.zeros((1, 1, 3, 3)), (3, 3), (1, 1), (1, 1), "max")[0]
    )
    assert y.numpy().max() == -1.0


@pytest.mark.parametrize("stride", [3, 2])  # tiling windows, then overlapping ones
def test_max_pool_of_all_minus_infinity_sends_the_gradient_to_the_first_pixel_not_padding(
    device, stride
):
    # all -inf: PyTorch's loop starts each window's search at its first pixel inside the
    # input and only a larger value moves it, so that pixel takes the gradient, never the
    # padding (-inf too) before it
    a = np.full((2, 2, 3, 3), -np.inf)
    x = tc.Tensor(a, requires_grad=True, device=device)
    y = F.max_pool2d(x, 3, stride=stride, padding=1)
    y.backward(tc.Tensor(np.arange(1.0, y.size + 1).reshape(y.shape), device=device))
    want = np.zeros(a.shape)
    if stride == 2:  # windows at rows/columns -1 and 1: their first pixels (0, 0) .. (1, 1)
        want[:, :, :2, :2] = np.arange(1.0, y.size + 1).reshape(y.shape)
    else:  # one window, at (-1, -1)
        want[:, :, 0, 0] = np.arange(1.0, y.size + 1).reshape(y.shape)[:, :, 0, 0]
    np.testing.assert_array_equal(to_numpy(x.grad), want)
    torch = pytest.importorskip("torch")
    tx = torch.tensor(a, requires_grad=True)
    ty = torch.nn.functional.max_pool2d(tx, 3, stride=stride, padding=1)
    ty.backward(torch.arange(1.0, y.size + 1, dtype=torch.float64).reshape(y.shape))
    np.testing.assert_array_equal(to_numpy(x.grad), tx.grad.numpy())


def test_avg_pool_counts_the_padding(device):
    y = F.avg_pool2d(tc.Tensor(np.ones((1, 1, 2, 2)), device=device), 2, stride=1, padding=1)
    np.testing.assert_allclose(
        y.numpy()[0, 0], [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]
    )


@pytest.mark.parametrize("op", ["max", "avg"])
def test_pool_non_contiguous_input(device, op):
    rng = np.random.default_rng(2)
    base = distinct_values(rng, (2, 3, 9, 12))
    view = base.transpose(0, 1, 3, 2)[:, ::2, 1:, ::-1]  # strided, transposed, flipped
    assert not view.flags["C_CONTIGUOUS"]
    fn = F.max_pool2d if op == "max" else F.avg_pool2d
    outs = []
    for a in (view, np.ascontiguousarray(view)):
        x = tc.Tensor(a, requires_grad=True, device=device)
        y = fn(x, 3, 2, 1)
        (y * y).sum().backward()
        outs.append((y.numpy(), to_numpy(x.grad)))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])


@pytest.mark.parametrize("op", ["max", "avg"])
@given_settings
@given(case=pool_cases(), seed=st.integers(0, 2**16), ties=st.booleans())
def test_pool_matches_pytorch(device, op, case, seed, ties):
    torch = pytest.importorskip("torch")
    shape, kernel, stride, padding = case
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, shape).astype(np.float64) if ties else rng.standard_normal(shape)
    fn = F.max_pool2d if op == "max" else F.avg_pool2d
    tfn = torch.nn.functional.max_pool2d if op == "max" else torch.nn.functional.avg_pool2d
    x = tc.Tensor(a, requires_grad=True, device=device)
    y = fn(x, kernel, stride, padding)
    g = rng.standard_normal(y.shape)
    y.backward(tc.Tensor(g, device=device))
    tx = torch.tensor(a, requires_grad=True)
    ty = tfn(tx, kernel, stride, padding)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@st.composite
def pool_option_cases(draw):
    """pool_cases' geometry with PyTorch's ceil_mode, count_include_pad and divisor_override
    drawn."""
    shape, kernel, stride, padding = draw(pool_cases())
    options = {"ceil_mode": draw(st.booleans())}
    if draw(st.booleans()):  # avg's
        options["count_include_pad"] = draw(st.booleans())
        options["divisor_override"] = draw(st.sampled_from([None, None, 3]))
    return shape, kernel, stride, padding, options


@given_settings
@given(case=pool_option_cases(), seed=st.integers(0, 2**16), one_d=st.booleans())
def test_pool_options_gradcheck_naive_and_pytorch(device, case, seed, one_d):
    """ceil_mode (both pools), count_include_pad=False and divisor_override (avg_pool2d):
    forward and gradient against the naive loop and PyTorch, and a gradcheck; as the 1-d pools
    too (a height-1 image), which share the code."""
    shape, kernel, stride, padding, options = case
    op = "avg" if len(options) > 1 else "max"
    k, p = _pair(kernel), _pair(padding)
    s = k if stride is None else _pair(stride)
    if one_d:  # the width of a height-1 image
        shape, k, s, p = shape[:2] + shape[3:], k[1], s[1], p[1]
        options.pop("divisor_override", None)
        kernel, stride, padding = k, s, p
        fn = F.max_pool1d if op == "max" else F.avg_pool1d
    else:
        fn = F.max_pool2d if op == "max" else F.avg_pool2d
    rng = np.random.default_rng(seed)
    a = distinct_values(rng, shape)
    x = tensor(a, device)
    out = fn(x, kernel, stride, padding, **options)
    g = rng.standard_normal(out.shape)
    out.backward(tc.Tensor(g, device=device))
    divisor = options.pop("divisor_override", None)
    naive = {**options, "divisor": divisor}
    if one_d:
        want, want_grad = naive_pool(a[:, :, None], g[:, :, None], (1, k), (1, s), (0, p), op,
                                     **naive)  # fmt: skip
        want, want_grad = want[:, :, 0], want_grad[:, :, 0]
    else:
        want, want_grad = naive_pool(a, g, k, s, p, op, **naive)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_numpy(x.grad), want_grad, rtol=1e-12, atol=1e-12)
    if divisor is not None:
        options["divisor_override"] = divisor
    assert tc.gradcheck(lambda t: fn(t, kernel, stride, padding, **options), [tensor(a, device)])
    torch = pytest.importorskip("torch")
    tx = torch.tensor(a, requires_grad=True)
    ty = getattr(torch.nn.functional, fn.__name__)(tx, kernel, stride, padding, **options)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(out.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_max_pool_nan_is_the_maximum_and_the_last_one_takes_the_gradient(device):
    """PyTorch's rule (`val > max || isnan(val)`, row-major): a NaN beats every number, a
    later NaN an earlier one, across rows as within them, and a number after a NaN does not."""
    a = np.zeros((1, 1, 4, 4))
    a[0, 0, 0, 1] = a[0, 0, 1, 0] = np.nan  # window (0, 0): the later NaN is on the next row
    a[0, 0, 1, 1] = 5.0
    a[0, 0, 2, 3] = np.nan  # window (1, 1): a NaN, then larger numbers
    a[0, 0, 3, 2:] = 9.0
    x = tc.Tensor(a, requires_grad=True, device=device)
    y = F.max_pool2d(x, 2)
    y.backward(tc.Tensor(np.arange(1.0, 5.0).reshape(1, 1, 2, 2), device=device))
    np.testing.assert_array_equal(y.numpy()[0, 0], [[np.nan, 0.0], [0.0, np.nan]])
    want = np.zeros((4, 4))
    want[1, 0], want[0, 2], want[2, 0], want[2, 3] = 1.0, 2.0, 3.0, 4.0
    np.testing.assert_array_equal(to_numpy(x.grad)[0, 0], want)


@given_settings
@given(case=pool_option_cases(), seed=st.integers(0, 2**16), one_d=st.booleans())
def test_max_pool_nans_and_infinities_naive_and_pytorch(device, case, seed, one_d):
    """Windows holding NaNs (one or several), infinities and ties, with every geometry and
    ceil_mode, as the 1-d pool too: value and gradient against the naive loop, which encodes
    PyTorch's rule, and against PyTorch."""
    shape, kernel, stride, padding, options = case
    k, s, p = _pair(kernel), _pair(kernel if stride is None else stride), _pair(padding)
    rng = np.random.default_rng(seed)
    a = rng.choice([np.nan, np.nan, -np.inf, -np.inf, np.inf, -1.0, 0.0, 1.0], size=shape)
    fn, args = F.max_pool2d, (kernel, stride, padding)
    if one_d:  # the width of a height-1 image
        a, fn, args = a[:, :, 0], F.max_pool1d, (k[1], s[1], p[1])
    x = tensor(a, device)
    out = fn(x, *args, ceil_mode=options["ceil_mode"])
    g = rng.standard_normal(out.shape)
    out.backward(tc.Tensor(g, device=device))
    image, g_image = (a[:, :, None], g[:, :, None]) if one_d else (a, g)
    if one_d:
        k, s, p = (1, k[1]), (1, s[1]), (0, p[1])
    want, want_grad = naive_pool(image, g_image, k, s, p, "max", options["ceil_mode"])
    want, want_grad = (want[:, :, 0], want_grad[:, :, 0]) if one_d else (want, want_grad)
    np.testing.assert_array_equal(out.numpy(), want)
    np.testing.assert_allclose(to_numpy(x.grad), want_grad, rtol=1e-12, atol=1e-12)
    torch = pytest.importorskip("torch")
    tx = torch.tensor(a, requires_grad=True)
    ty = getattr(torch.nn.functional, fn.__name__)(tx, *args, ceil_mode=options["ceil_mode"])
    ty.backward(torch.tensor(g))
    np.testing.assert_array_equal(out.numpy(), ty.detach().numpy())
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_ceil_mode_keeps_the_last_partial_window_and_count_include_pad_drops_the_padding(device):
    x = tc.Tensor(np.arange(25.0).reshape(1, 1, 5, 5), device=device)
    # 5x5 by 2x2 windows: floor drops the last row and column, ceil pools them alone
    np.testing.assert_array_equal(
        F.max_pool2d(x, 2, ceil_mode=True).numpy()[0, 0], [[6, 8, 9], [16, 18, 19], [21, 23, 24]]
    )
    np.testing.assert_array_equal(
        tc.nn.AvgPool2d(2, ceil_mode=True)(x).numpy()[0, 0, 2], [20.5, 22.5, 24]
    )
    # a 3x3 mean with 1 of padding: the corner window holds 4 pixels, not 9
    corner = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False).numpy()[0, 0, 0, 0]
    assert corner == (0 + 1 + 5 + 6) / 4
    assert F.avg_pool2d(x, 3, 1, 1).numpy()[0, 0, 0, 0] == (0 + 1 + 5 + 6) / 9
    assert F.avg_pool2d(x, 5, divisor_override=5).numpy()[0, 0, 0, 0] == 300 / 5


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda x: F.max_pool2d(x, 3, padding=2),
            r"padding \(2, 2\) must be at most half of kernel_size \(3, 3\)",
        ),
        (lambda x: F.avg_pool2d(x, 9), r"too small for kernel_size \(9, 9\)"),
        (lambda x: F.max_pool2d(x[0], 2), r"expected a 4-d NCHW input, got shape \(3, 8, 8\)"),
        (lambda x: F.max_pool2d(x, 0), r"kernel_size must be >= 1"),
        (lambda x: F.avg_pool2d(x, 2, stride=(1, 0)), r"stride must be >= 1"),
        (lambda x: F.avg_pool2d(x, 2, padding=-1), r"padding must be >= 0"),
        (lambda x: F.max_pool2d(x, 2, dilation=2), r"dilation=2 is not supported, only dilation=1"),
        (lambda x: F.max_pool2d(x, 2, return_indices=True), r"return_indices=True is not supp"),
        (lambda x: F.avg_pool2d(x, 2, divisor_override=0), r"divisor_override must be a non-z"),
        (lambda x: F.avg_pool2d(x, 2, divisor_override=2.5), r"non-zero int or None, got 2.5"),
    ],
)
def test_pool_errors(call, message):
    x = tc.Tensor(np.zeros((1, 3, 8, 8)))
    with pytest.raises(ValueError, match=message):
        call(x)


def test_pool_takes_pytorchs_other_options_at_their_defaults():
    """F.max_pool2d(x, 3, 2, 1, 1, False, False) and F.avg_pool2d(x, 3, 2, 1, False, True,
    None), PyTorch's full positional signatures, compute PyTorch's results."""
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(3).standard_normal((2, 3, 7, 6))
    x, tx = tc.Tensor(a), torch.tensor(a)
    tF = torch.nn.functional
    for ours, theirs in (
        (F.max_pool2d(x, 3, 2, 1, 1, False, False), tF.max_pool2d(tx, 3, 2, 1, 1, False, False)),
        (
            F.max_pool2d(x, 2, dilation=(1, 1), ceil_mode=False),
            tF.max_pool2d(tx, 2, ceil_mode=False),
        ),
        (
            F.avg_pool2d(x, 3, 2, 1, False, True, None),
            tF.avg_pool2d(tx, 3, 2, 1, False, True, None),
        ),
        (F.avg_pool2d(x, 2, count_include_pad=True), tF.avg_pool2d(tx, 2, count_include_pad=True)),
    ):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


EMPTY_BATCH_POOLS = {
    "max_pool2d": (lambda f, nn, x: f.max_pool2d(x, 3, 2, 1, ceil_mode=True), 4),
    "avg_pool2d": (lambda f, nn, x: f.avg_pool2d(x, 2), 4),
    "adaptive_max_pool2d": (lambda f, nn, x: f.adaptive_max_pool2d(x, (3, 2)), 4),
    "adaptive_avg_pool2d": (lambda f, nn, x: f.adaptive_avg_pool2d(x, 3), 4),
    "max_pool1d": (lambda f, nn, x: f.max_pool1d(x, 2), 3),
    "avg_pool1d": (lambda f, nn, x: f.avg_pool1d(x, 3, 1, 1), 3),
    "adaptive_max_pool1d": (lambda f, nn, x: f.adaptive_max_pool1d(x, 3), 3),
    "MaxPool2d": (lambda f, nn, x: nn.MaxPool2d(2)(x), 4),
    "MaxPool1d": (lambda f, nn, x: nn.MaxPool1d(2)(x), 3),
    "AdaptiveMaxPool2d": (lambda f, nn, x: nn.AdaptiveMaxPool2d(2)(x), 4),
    "AdaptiveMaxPool1d": (lambda f, nn, x: nn.AdaptiveMaxPool1d(2)(x), 3),
}


@pytest.mark.parametrize("name", sorted(EMPTY_BATCH_POOLS))
def test_pooling_an_empty_batch_gives_an_empty_output_as_pytorch(device, name):
    """N = 0 (the last, empty batch of a loader): an empty output of PyTorch's shape, and an
    empty gradient through the backward pass (not a reduction or reshape error)."""
    torch = pytest.importorskip("torch")
    pool, ndim = EMPTY_BATCH_POOLS[name]
    a = np.zeros((0, 3, 5, 6)[:ndim])
    x = tc.Tensor(a, requires_grad=True, device=device)
    y = pool(F, tc.nn, x)
    y.sum().backward()
    ty = pool(torch.nn.functional, torch.nn, torch.tensor(a))
    assert y.shape == tuple(ty.shape) and y.device == device
    assert x.grad.shape == a.shape


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kernel_size=2),
        dict(kernel_size=(2, 3), stride=1, padding=(1, 0)),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
        dict(kernel_size=3, stride=1, padding=1, count_include_pad=False),
        dict(kernel_size=2, divisor_override=3),
        dict(kernel_size=2, divisor_override=-3),
    ],
)
def test_avg_pool_of_int64_is_pytorchs(device, kwargs):
    """PyTorch averages an int64 input: int64 sums divided by each window's count, rounded
    towards zero (-16 / 4 = -4, -6.5 -> -6), not refused with NumPy's casting error."""
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(1).integers(-20, 20, (2, 3, 5, 6))
    y = F.avg_pool2d(tc.Tensor(a, device=device), **kwargs)
    want = torch.nn.functional.avg_pool2d(torch.tensor(a), **kwargs).numpy()
    assert y.dtype == np.int64 and want.dtype == np.int64
    np.testing.assert_array_equal(y.numpy(), want)
    if "divisor_override" not in kwargs and isinstance(kwargs["kernel_size"], int):
        one_d = {k: v for k, v in kwargs.items() if k != "padding"}
        y1 = F.avg_pool1d(tc.Tensor(a[0], device=device), **one_d)
        want1 = torch.nn.functional.avg_pool1d(torch.tensor(a[0]), **one_d).numpy()
        np.testing.assert_array_equal(y1.numpy(), want1)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: F.avg_pool2d(tc.Tensor(np.zeros((1, 1, 4, 4), np.int32)), 2), "got int32"),
        (lambda: F.avg_pool2d(tc.Tensor(np.zeros((1, 1, 4, 4), np.uint8)), 2), "got uint8"),
        (lambda: tc.nn.AvgPool2d(2)(tc.Tensor(np.zeros((1, 1, 4, 4), bool))), "got bool"),
        (lambda: F.avg_pool1d(tc.Tensor(np.zeros((1, 1, 4), np.int16)), 2), "got int16"),
        (lambda: F.adaptive_avg_pool2d(tc.Tensor(np.zeros((1, 1, 4, 4), np.int64)), 2), "got int"),
    ],
)
def test_avg_pool_of_other_integers_is_refused_by_name(call, message):
    """Integers PyTorch does not average ("not implemented for 'Int'"): a TypeError saying
    what is expected, not NumPy's casting error."""
    with pytest.raises(TypeError, match=r"expected a floating-point input.*" + message):
        call()


@pytest.mark.parametrize("bad", [(2, 2, 2), 2.0, "2", True])
def test_pool_rejects_bad_kernel_types(bad):
    with pytest.raises(TypeError, match="kernel_size must be an int or a pair of ints"):
        F.max_pool2d(tc.Tensor(np.zeros((1, 1, 4, 4))), bad)


# --------------------------------------------------------------------------- 1-d pooling


@st.composite
def pool1d_cases(draw):
    """(shape (N, C, L), kernel, stride, padding) with a valid PyTorch geometry; the ints
    sometimes as PyTorch's 1-tuples, the stride sometimes left out."""
    k = draw(st.integers(1, 4))
    s = draw(st.integers(1, 3))
    p = draw(st.integers(0, k // 2))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(k - 2 * p, 9)))
    if shape[2] < 1:
        shape = shape[:2] + (1,)

    def maybe_tuple(v):
        return (v,) if draw(st.booleans()) else v

    stride = None if s == k and draw(st.booleans()) else maybe_tuple(s)
    return shape, maybe_tuple(k), stride, maybe_tuple(p)


def _int(v):
    return v[0] if isinstance(v, tuple) else v


@pytest.mark.parametrize("op", ["max", "avg"])
@given_settings
@given(case=pool1d_cases(), seed=st.integers(0, 2**16))
def test_pool1d_gradcheck_and_naive_forward(device, op, case, seed):
    """F.max_pool1d / F.avg_pool1d against the naive loop over a height-1 image (a (1, k)
    window), forward and gradient, and a central-difference gradcheck."""
    shape, kernel, stride, padding = case
    rng = np.random.default_rng(seed)
    a = distinct_values(rng, shape)
    fn = F.max_pool1d if op == "max" else F.avg_pool1d
    x = tensor(a, device)
    out = fn(x, kernel, stride, padding)
    g = rng.standard_normal(out.shape)
    out.backward(tc.Tensor(g, device=device))
    k, p = _int(kernel), _int(padding)
    s = k if stride is None else _int(stride)
    want, want_grad = naive_pool(a[:, :, None], g[:, :, None], (1, k), (1, s), (0, p), op)
    assert out.shape == want.shape[:2] + want.shape[3:]
    np.testing.assert_allclose(out.numpy(), want[:, :, 0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_numpy(x.grad), want_grad[:, :, 0], rtol=1e-12, atol=1e-12)
    assert tc.gradcheck(lambda t: fn(t, kernel, stride, padding), [tensor(a, device)])


@pytest.mark.parametrize("op", ["max", "avg"])
@given_settings
@given(case=pool1d_cases(), seed=st.integers(0, 2**16), ties=st.booleans())
def test_pool1d_and_its_layer_match_pytorch(device, op, case, seed, ties):
    torch = pytest.importorskip("torch")
    shape, kernel, stride, padding = case
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, shape).astype(np.float64) if ties else rng.standard_normal(shape)
    g = None
    for make, tmake in (
        (
            lambda: (
                lambda t: (F.max_pool1d if op == "max" else F.avg_pool1d)(
                    t, kernel, stride, padding
                )
            ),
            lambda: (
                lambda t: getattr(torch.nn.functional, f"{op}_pool1d")(t, kernel, stride, padding)
            ),
        ),
        (
            lambda: getattr(tc.nn, f"{op.capitalize()}Pool1d")(kernel, stride, padding),
            lambda: getattr(torch.nn, f"{op.capitalize()}Pool1d")(kernel, stride, padding),
        ),
    ):
        x = tc.Tensor(a, requires_grad=True, device=device)
        y = make()(x)
        g = rng.standard_normal(y.shape) if g is None else g
        y.backward(tc.Tensor(g, device=device))
        tx = torch.tensor(a, requires_grad=True)
        ty = tmake()(tx)
        ty.backward(torch.tensor(g))
        assert y.shape == tuple(ty.shape)
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@given_settings
@given(
    length=st.integers(1, 9),
    size=st.one_of(st.integers(1, 9), st.integers(1, 9).map(lambda v: (v,))),
    seed=st.integers(0, 2**16),
)
def test_adaptive_avg_pool1d_gradcheck_naive_and_pytorch(device, length, size, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((2, 3, length))
    x = tensor(a, device)
    y = F.adaptive_avg_pool1d(x, size)
    n = _int(size)
    assert y.shape == (2, 3, n)
    g = rng.standard_normal(y.shape)
    y.backward(tc.Tensor(g, device=device))
    want, want_grad = naive_adaptive_avg_pool(a[:, :, None], g[:, :, None], (1, n))
    np.testing.assert_allclose(y.numpy(), want[:, :, 0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_numpy(x.grad), want_grad[:, :, 0], rtol=1e-12, atol=1e-12)
    assert tc.gradcheck(lambda t: F.adaptive_avg_pool1d(t, size), [tensor(a, device)])
    layer = tc.nn.AdaptiveAvgPool1d(size)
    np.testing.assert_allclose(layer(x).numpy(), want[:, :, 0], rtol=1e-12, atol=1e-12)
    try:
        import torch
    except ImportError:
        return
    ty = torch.nn.AdaptiveAvgPool1d(size)(torch.tensor(a))
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-12, atol=1e-12)


def test_a_1d_cnn_pools_as_pytorch_spells_it(device):
    """A 1-d classifier's head written as in a PyTorch tutorial: MaxPool1d(2), F.max_pool1d,
    AdaptiveAvgPool1d(1), squeeze(-1) -- and the global pool is the mean over the length."""
    a = np.random.default_rng(5).standard_normal((4, 3, 16))
    x = tc.Tensor(a, device=device)
    y = tc.nn.AdaptiveAvgPool1d(1)(F.max_pool1d(tc.nn.MaxPool1d(2)(x), 2)).squeeze(-1)
    want = a.reshape(4, 3, 4, 4).max(axis=3).mean(axis=2)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda x: F.max_pool1d(x[0], 2), ValueError, r"max_pool1d: expected a 3-d \(N, C, L\)"),
        (lambda x: F.avg_pool1d(x[None], 2), ValueError, r"got shape \(1, 2, 3, 8\)"),
        (lambda x: F.max_pool1d(x, (2, 2)), TypeError, r"kernel_size must be an int or a 1-tu"),
        (lambda x: F.avg_pool1d(x, 0), ValueError, r"avg_pool1d: kernel_size must be >= 1"),
        (lambda x: F.max_pool1d(x, 3, padding=2), ValueError, r"at most half of kernel_size"),
        (lambda x: F.adaptive_avg_pool1d(x, 0), ValueError, r"output_size must be >= 1"),
        (lambda x: tc.nn.MaxPool1d(2)(x[0]), ValueError, r"MaxPool1d: expected a 3-D input"),
        (lambda x: tc.nn.AdaptiveAvgPool1d(1)(x[0]), ValueError, r"AdaptiveAvgPool1d: expected"),
        (lambda x: tc.nn.AdaptiveAvgPool1d((1, 1)), TypeError, r"AdaptiveAvgPool1d: output_size"),
    ],
)
def test_pool1d_errors(call, error, message):
    x = tc.Tensor(np.zeros((2, 3, 8)))
    with pytest.raises(error, match=message):
        call(x)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda x: F.avg_pool1d(x[..., :4], 5),
            r"^avg_pool1d: input of shape \(2, 3, 4\) is too small for kernel_size 5 with "
            r"padding 0 \(the output would have length 0\)$",
        ),
        (
            lambda x: F.max_pool1d(x, 3, padding=2),
            r"^max_pool1d: padding should be at most half of kernel_size, got padding=2 and "
            r"kernel_size=3$",
        ),
        (
            lambda x: tc.nn.AvgPool1d(2, padding=2)(x),
            r"^avg_pool1d: padding should be at most half of kernel_size, got padding=2 and ",
        ),
        (
            lambda x: tc.nn.MaxPool1d(9)(x),
            r"^max_pool1d: input of shape \(2, 3, 8\) is too small for kernel_size 9 ",
        ),
    ],
)
def test_pool1d_geometry_errors_name_the_1d_op_and_its_shapes(call, message):
    """A 1-d pool runs as the 2-d one on (N, C, 1, L), but its errors speak of the signal the
    user gave: the 1-d op, the (N, C, L) shape and the int kernel, not (1, k) kernels."""
    with pytest.raises(ValueError, match=message):
        call(tc.Tensor(np.zeros((2, 3, 8))))


# --------------------------------------------------------------------------- adaptive pooling


@given_settings
@given(case=adaptive_cases(), seed=st.integers(0, 2**16))
def test_adaptive_avg_pool_gradcheck_and_naive_forward(device, case, seed):
    shape, output_size, size = case
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    x = tensor(a, device)
    y = F.adaptive_avg_pool2d(x, output_size)
    assert y.shape == shape[:2] + size
    g = rng.standard_normal(y.shape)
    y.backward(tc.Tensor(g, device=device))
    want, want_grad = naive_adaptive_avg_pool(a, g, size)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_numpy(x.grad), want_grad, rtol=1e-12, atol=1e-12)
    assert tc.gradcheck(lambda t: F.adaptive_avg_pool2d(t, output_size), [tensor(a, device)])


@pytest.mark.parametrize(
    "shape, output_size",
    [
        ((2, 3, 8, 12), (4, 6)),  # windows of 2x2 tile the input: strided slices
        ((2, 3, 7, 7), 1),  # global average pooling: a product with a 1x7 matrix
        ((1, 2, 10, 9), (4, 5)),  # windows of 3 or 4 rows that overlap, 2 or 3 columns
        ((1, 2, 3, 5), (7, 2)),  # more rows out than in: each row is in two or three windows
        ((1, 2, 6, 6), (None, 6)),  # the same size: a copy
    ],
)
def test_adaptive_avg_pool_geometries_match_naive_float32(device, shape, output_size):
    rng = np.random.default_rng(8)
    a = rng.standard_normal(shape).astype(np.float32)
    x = tc.Tensor(a, requires_grad=True, device=device)
    y = F.adaptive_avg_pool2d(x, output_size)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(tc.Tensor(g, device=device))
    size = tuple(n if v is None else v for n, v in zip(shape[2:], _pair(output_size)))
    want, want_grad = naive_adaptive_avg_pool(a, g, size)
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    assert y.data is not x.data
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(x.grad), want_grad, rtol=1e-5, atol=1e-6)


def test_adaptive_avg_pool_of_a_multiple_is_avg_pool(device):
    a = np.random.default_rng(9).standard_normal((2, 3, 12, 8))
    x = tc.Tensor(a, device=device)
    np.testing.assert_allclose(
        F.adaptive_avg_pool2d(x, (4, 2)).numpy(), F.avg_pool2d(x, (3, 4)).numpy(), rtol=1e-12
    )
    np.testing.assert_allclose(
        F.adaptive_avg_pool2d(x, 1).numpy(), a.mean(axis=(2, 3), keepdims=True), rtol=1e-12
    )


@given_settings
@given(case=adaptive_cases(), seed=st.integers(0, 2**16))
def test_adaptive_avg_pool_matches_pytorch(device, case, seed):
    torch = pytest.importorskip("torch")
    shape, output_size, _ = case
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    x = tc.Tensor(a, requires_grad=True, device=device)
    y = F.adaptive_avg_pool2d(x, output_size)
    g = rng.standard_normal(y.shape)
    y.backward(tc.Tensor(g, device=device))
    tx = torch.tensor(a, requires_grad=True)
    ty = torch.nn.functional.adaptive_avg_pool2d(tx, output_size)
    ty.backward(torch.tensor(g))
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "x, output_size, error, message",
    [
        (np.zeros((3, 8, 8)), 2, ValueError, r"expected a 4-d NCHW input, got shape \(3, 8, 8\)"),
        (np.zeros((1, 1, 8, 8)), 0, ValueError, "output_size must be >= 1, got 0"),
        (np.zeros((1, 1, 8, 8)), (2, 0), ValueError, r"output_size must be >= 1, got \(2, 0\)"),
        (np.zeros((1, 1, 8, 8)), 2.0, TypeError, "output_size must be an int or a pair of ints"),
        (np.zeros((1, 1, 4, 4), np.int64), 2, TypeError, "expected a floating-point input, got"),
    ],
)
def test_adaptive_avg_pool_errors(x, output_size, error, message):
    with pytest.raises(error, match="adaptive_avg_pool2d: " + message):
        F.adaptive_avg_pool2d(tc.Tensor(x), output_size)


# --------------------------------------------------------------------------- adaptive max pooling


@given_settings
@given(case=adaptive_cases(), seed=st.integers(0, 2**16), ties=st.booleans())
def test_adaptive_max_pool_naive_forward_indices_and_gradient(device, case, seed, ties):
    """Values, indices and the gradient (to the first maximum of each window, ties drawn
    too) are the loops'; a gradcheck where no window has ties."""
    shape, output_size, size = case
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, shape).astype(np.float64) if ties else distinct_values(rng, shape)
    x = tensor(a, device)
    y, index = F.adaptive_max_pool2d(x, output_size, return_indices=True)
    assert y.shape == index.shape == shape[:2] + size and index.dtype == np.int64
    assert not index.requires_grad and index.device == device
    g = rng.standard_normal(y.shape)
    y.backward(tc.Tensor(g, device=device))
    want, want_index, want_grad = naive_adaptive_max_pool(a, g, size)
    np.testing.assert_array_equal(y.numpy(), want)
    np.testing.assert_array_equal(index.numpy(), want_index)
    np.testing.assert_allclose(to_numpy(x.grad), want_grad, rtol=1e-12, atol=1e-12)
    if not ties:
        f = F.adaptive_max_pool2d
        assert tc.gradcheck(lambda t: f(t, output_size), [tensor(a, device)])


@pytest.mark.parametrize(
    "shape, output_size",
    [
        ((2, 3, 8, 12), (4, 6)),  # windows of 2x2 tile the input
        ((2, 3, 7, 7), 1),  # global max pooling
        ((1, 2, 10, 9), (4, 5)),  # windows of 3 or 4 rows that overlap, 2 or 3 columns
        ((1, 2, 3, 5), (7, 2)),  # more rows out than in: a row is the max of several windows
        ((1, 2, 6, 6), (None, 6)),  # the same size: a copy
    ],
)
def test_adaptive_max_pool_geometries_match_naive_float32(device, shape, output_size):
    rng = np.random.default_rng(8)
    a = rng.standard_normal(shape).astype(np.float32)
    x = tc.Tensor(a, requires_grad=True, device=device)
    y = F.adaptive_max_pool2d(x, output_size)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(tc.Tensor(g, device=device))
    size = tuple(n if v is None else v for n, v in zip(shape[2:], _pair(output_size)))
    want, _, want_grad = naive_adaptive_max_pool(a, g, size)
    assert y.dtype == np.float32 and x.grad.dtype == np.float32 and y.data is not x.data
    np.testing.assert_array_equal(y.numpy(), want.astype(np.float32))
    np.testing.assert_allclose(to_numpy(x.grad), want_grad, rtol=1e-6, atol=1e-6)


@given_settings
@given(case=adaptive_cases(), seed=st.integers(0, 2**16), ties=st.booleans())
def test_adaptive_max_pool_matches_pytorch(device, case, seed, ties):
    torch = pytest.importorskip("torch")
    shape, output_size, _ = case
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, shape).astype(np.float64) if ties else rng.standard_normal(shape)
    x = tc.Tensor(a, requires_grad=True, device=device)
    y, index = F.adaptive_max_pool2d(x, output_size, True)
    g = rng.standard_normal(y.shape)
    y.backward(tc.Tensor(g, device=device))
    tx = torch.tensor(a, requires_grad=True)
    ty, tindex = torch.nn.functional.adaptive_max_pool2d(tx, output_size, True)
    ty.backward(torch.tensor(g))
    assert y.shape == tuple(ty.shape)
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(index.numpy(), tindex.numpy())
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_adaptive_max_pool_nan_wins_as_in_pytorch(device):
    """A NaN in a window is its max, the last NaN where there are several (PyTorch's
    ``val > max || isnan(val)``), in both directions of the separable passes."""
    a = np.arange(2 * 36, dtype=np.float64).reshape(2, 1, 6, 6) % 7
    a[0, 0, 1, 4] = a[0, 0, 2, 3] = a[0, 0, 2, 1] = a[1, 0, 5, 0] = np.nan
    y, index = F.adaptive_max_pool2d(tc.Tensor(a, device=device), (2, 3), True)
    torch = pytest.importorskip("torch")
    ty, tindex = torch.nn.functional.adaptive_max_pool2d(torch.tensor(a), (2, 3), True)
    np.testing.assert_array_equal(y.numpy(), ty.numpy())
    np.testing.assert_array_equal(index.numpy(), tindex.numpy())


@given_settings
@given(
    length=st.integers(1, 9),
    size=st.one_of(st.integers(1, 9), st.integers(1, 9).map(lambda v: (v,))),
    seed=st.integers(0, 2**16),
    ties=st.booleans(),
)
def test_adaptive_max_pool1d_and_its_layer_naive_gradcheck_and_pytorch(
    device, length, size, seed, ties
):
    rng = np.random.default_rng(seed)
    shape = (2, 3, length)
    a = rng.integers(0, 3, shape).astype(np.float64) if ties else distinct_values(rng, shape)
    x = tensor(a, device)
    y, index = F.adaptive_max_pool1d(x, size, return_indices=True)
    n = _int(size)
    assert y.shape == index.shape == (2, 3, n)
    g = rng.standard_normal(y.shape)
    y.backward(tc.Tensor(g, device=device))
    want, want_index, want_grad = naive_adaptive_max_pool(a[:, :, None], g[:, :, None], (1, n))
    np.testing.assert_array_equal(y.numpy(), want[:, :, 0])
    np.testing.assert_array_equal(index.numpy(), want_index[:, :, 0])
    np.testing.assert_allclose(to_numpy(x.grad), want_grad[:, :, 0], rtol=1e-12, atol=1e-12)
    if not ties:
        f = F.adaptive_max_pool1d
        assert tc.gradcheck(lambda t: f(t, size), [tensor(a, device)])
    layer = tc.nn.AdaptiveMaxPool1d(size)
    np.testing.assert_array_equal(layer(x).numpy(), want[:, :, 0])
    try:
        import torch
    except ImportError:
        return
    ty, tindex = torch.nn.AdaptiveMaxPool1d(size, return_indices=True)(torch.tensor(a))
    np.testing.assert_array_equal(y.numpy(), ty.numpy())
    np.testing.assert_array_equal(index.numpy(), tindex.numpy())


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.AdaptiveMaxPool2d((3, None)), (2, 3, 7, 5)),
        (lambda m: m.AdaptiveMaxPool2d(1, return_indices=True), (2, 3, 7, 5)),
        (lambda m: m.AdaptiveMaxPool1d(4, True), (2, 3, 10)),
    ],
)
def test_adaptive_max_pool_layers_are_pytorchs(device, make, shape):
    """The layers' outputs (the (output, indices) pair with return_indices) and reprs."""
    a = np.random.default_rng(3).standard_normal(shape)
    layer = make(tc.nn)
    out = layer(tc.Tensor(a, device=device))
    want = F.adaptive_max_pool2d if len(shape) == 4 else F.adaptive_max_pool1d
    want = want(tc.Tensor(a), layer.output_size, layer.return_indices)
    outs, wants = (out, want) if layer.return_indices else ((out,), (want,))
    assert len(outs) == len(wants)
    for o, w in zip(outs, wants):
        np.testing.assert_array_equal(o.numpy(), w.numpy())
    torch = pytest.importorskip("torch")
    ref = make(torch.nn)
    assert repr(layer) == repr(ref)
    refs = ref(torch.tensor(a))
    for o, r in zip(outs, refs if layer.return_indices else (refs,)):
        np.testing.assert_array_equal(o.numpy(), r.numpy())


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: F.adaptive_max_pool2d(tc.zeros((3, 8, 8)), 2),
            ValueError,
            r"adaptive_max_pool2d: expected a 4-d NCHW input, got shape \(3, 8, 8\)",
        ),
        (
            lambda: F.adaptive_max_pool2d(tc.zeros((1, 1, 8, 8)), (2, 0)),
            ValueError,
            r"adaptive_max_pool2d: output_size must be >= 1, got \(2, 0\)",
        ),
        (
            lambda: F.adaptive_max_pool2d(tc.Tensor(np.zeros((1, 1, 4, 4), np.int64)), 2),
            TypeError,
            "adaptive_max_pool2d: expected a floating-point input, got int64",
        ),
        (
            lambda: F.adaptive_max_pool1d(tc.zeros((2, 8)), 2),
            ValueError,
            r"adaptive_max_pool1d: expected a 3-d \(N, C, L\) input, got shape \(2, 8\)",
        ),
        (
            lambda: tc.nn.AdaptiveMaxPool2d(2.5),
            TypeError,
            "AdaptiveMaxPool2d: output_size must be an int or a pair of ints",
        ),
        (
            lambda: tc.nn.AdaptiveMaxPool1d((2, 2)),
            TypeError,
            "AdaptiveMaxPool1d: output_size must be an int or a 1-tuple",
        ),
        (
            lambda: tc.nn.AdaptiveMaxPool2d(2)(tc.zeros((3, 8, 8))),
            ValueError,
            r"AdaptiveMaxPool2d: expected a 4-D input",
        ),
    ],
)
def test_adaptive_max_pool_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --------------------------------------------------------------------------- upsampling


@pytest.mark.parametrize("mode", MODES)
@given_settings
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_interpolate_gradcheck_and_naive_forward(device, mode, data, seed):
    shape, size, scale, mode, align = data.draw(interp_cases(mode))
    a = np.random.default_rng(seed).standard_normal(shape)
    y = F.interpolate(tensor(a, device), size, scale, mode, align)
    out_size, scales = _interp_geometry(shape, size, scale)
    assert y.shape == shape[:2] + out_size
    want = naive_interpolate(a, out_size, scales, mode, bool(align))
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12, atol=1e-12)
    assert tc.gradcheck(lambda t: F.interpolate(t, size, scale, mode, align), [tensor(a, device)])


@pytest.mark.parametrize("factor", [2, 3, 4, (2, 3)])
@pytest.mark.parametrize("mode, order", [("nearest", 0), ("bilinear", 1)])
def test_upsample_integer_factors_match_skimage(device, factor, mode, order):
    skt = pytest.importorskip("skimage.transform")
    a = np.random.default_rng(3).standard_normal((2, 3, 5, 7)).astype(np.float32)
    y = F.upsample(tc.Tensor(a, device=device), factor, mode)
    want = np.stack(
        [
            skt.rescale(
                a[i, j].astype(np.float64),
                factor,
                order=order,
                mode="edge",
                anti_aliasing=False,
                preserve_range=True,
            )
            for i in range(2)
            for j in range(3)
        ]
    ).reshape(y.shape)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("size", [(8, 11), (3, 4), (10, 5)])
def test_bilinear_resize_matches_skimage(device, size):
    skt = pytest.importorskip("skimage.transform")
    a = np.random.default_rng(4).standard_normal((1, 1, 5, 7))
    y = F.interpolate(tc.Tensor(a, device=device), size, mode="bilinear")
    want = skt.resize(a[0, 0], size, order=1, mode="edge", anti_aliasing=False, preserve_range=True)
    np.testing.assert_allclose(y.numpy()[0, 0], want, rtol=1e-12, atol=1e-12)


def test_nearest_integer_upsample_gradient_sums_each_block(device):
    a = np.arange(6.0).reshape(1, 1, 2, 3)
    x = tc.Tensor(a, requires_grad=True, device=device)
    y = F.upsample(x, (2, 3))
    np.testing.assert_array_equal(y.numpy()[0, 0], np.kron(a[0, 0], np.ones((2, 3))))
    g = np.arange(float(np.prod(y.shape))).reshape(y.shape)
    y.backward(tc.Tensor(g, device=device))
    want = g.reshape(1, 1, 2, 2, 3, 3).sum(axis=(3, 5))
    np.testing.assert_array_equal(to_numpy(x.grad), want)


@pytest.mark.parametrize("mode", MODES)
def test_upsample_non_contiguous_input(device, mode):
    base = np.random.default_rng(5).standard_normal((2, 4, 7, 6))
    view = base.transpose(0, 1, 3, 2)[:, 1::2, ::-1, 1:]
    outs = []
    for a in (view, np.ascontiguousarray(view)):
        x = tc.Tensor(a, requires_grad=True, device=device)
        y = F.upsample(x, 2, mode)
        (y * y).sum().backward()
        outs.append((y.numpy(), to_numpy(x.grad)))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=0, atol=1e-13)


def test_upsample_output_is_a_new_array_and_keeps_float32(device):
    a = np.ones((1, 2, 3, 3), np.float32)
    x = tc.Tensor(a, requires_grad=True, device=device)
    y = F.interpolate(x, size=(3, 3), mode="bilinear")  # nothing to do: still a copy
    assert y.data is not x.data and y.dtype == np.float32
    y = F.upsample(x, 1.5, "bilinear")
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("mode", MODES)
@given_settings
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_interpolate_matches_pytorch(device, mode, data, seed):
    torch = pytest.importorskip("torch")
    shape, size, scale, mode, align = data.draw(interp_cases(mode))
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    x = tc.Tensor(a, requires_grad=True, device=device)
    y = F.interpolate(x, size, scale, mode, align)
    g = rng.standard_normal(y.shape)
    y.backward(tc.Tensor(g, device=device))
    tx = torch.tensor(a, requires_grad=True)
    ty = torch.nn.functional.interpolate(
        tx, size=size, scale_factor=scale, mode=mode, align_corners=align
    )
    ty.backward(torch.tensor(g))
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    if mode == "bicubic" and y.shape == shape and scale is not None and not align:
        # PyTorch's bicubic backward copies the gradient when no size changes, while its
        # forward resamples with the step 1 / scale (torch.autograd.gradcheck fails there);
        # ours is the forward's transpose (test_interpolate_gradcheck_and_naive_forward,
        # test_bicubic_resamples_an_axis_whose_size_does_not_change_with_the_given_scale)
        return
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_interpolate_float32_matches_pytorch_on_many_sizes(mode):
    # float32 index arithmetic (PyTorch floors o * float32(1 / scale)) on larger images
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    for scale in (2, 3, 5, 1.5, 2.3, 0.6, 7.0 / 3.0, (1.7, 4)):
        a = rng.standard_normal((1, 2, 23, 17)).astype(np.float32)
        y = F.interpolate(tc.Tensor(a), scale_factor=scale, mode=mode).numpy()
        ty = torch.nn.functional.interpolate(torch.tensor(a), scale_factor=scale, mode=mode)
        np.testing.assert_allclose(y, ty.numpy(), rtol=1e-4, atol=1e-4 if mode != "nearest" else 0)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_an_axis_whose_size_does_not_change_is_copied(device, mode):
    # 3 * 1.25 rounds down to 3 rows: PyTorch copies those rows rather than resampling them
    # with the step 1 / 1.25, while the 5 columns become 6
    a = np.random.default_rng(7).standard_normal((1, 2, 3, 5))
    y = F.interpolate(tc.Tensor(a, device=device), scale_factor=1.25, mode=mode)
    assert y.shape == (1, 2, 3, 6)
    want = naive_interpolate(a, (3, 6), (1.25, 1.25), mode)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(y.numpy()[:, :, :, 0], a[:, :, :, 0])
    torch = pytest.importorskip("torch")
    ty = torch.nn.functional.interpolate(torch.tensor(a), scale_factor=1.25, mode=mode)
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("align_corners", [False, True])
def test_bicubic_resamples_an_axis_whose_size_does_not_change_with_the_given_scale(
    device, align_corners
):
    # unlike 'bilinear', PyTorch's 'bicubic' samples the 3 rows of 3 * 1.25 at the step
    # 1 / 1.25 (with align_corners, at step 1: a copy); the same size given as size= is a copy
    a = np.random.default_rng(8).standard_normal((1, 2, 3, 5))
    x = tc.Tensor(a, device=device)
    y = F.interpolate(x, scale_factor=1.25, mode="bicubic", align_corners=align_corners)
    want = naive_interpolate(a, (3, 6), (1.25, 1.25), "bicubic", align_corners)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12, atol=1e-12)
    copied = np.allclose(y.numpy()[:, :, :, 0], a[:, :, :, 0], rtol=0, atol=1e-12)
    assert copied == align_corners
    same = F.interpolate(x, size=(3, 5), mode="bicubic", align_corners=align_corners)
    np.testing.assert_array_equal(same.numpy(), a)
    # no size changes at all: resampled still (PyTorch's backward copies here, not ours)
    b = np.random.default_rng(9).standard_normal((1, 2, 3, 4))
    assert tc.gradcheck(
        lambda t: F.interpolate(t, None, (1.25, 1.2), "bicubic", align_corners),
        [tensor(b, device)],
    )
    torch = pytest.importorskip("torch")
    ty = torch.nn.functional.interpolate(
        torch.tensor(a), scale_factor=1.25, mode="bicubic", align_corners=align_corners
    )
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-12, atol=1e-12)


def test_bicubic_weights_are_keys_kernel_and_sum_to_one():
    """Upsampling by 2 without aligned corners reads the sources i - 1/4 and i + 1/4: the
    taps' weights are Keys' kernel at 1.25, 0.25, 0.75, 1.75 (and mirrored); each row of the
    matrix sums to 1, so a constant image stays constant; the edges repeat the border
    sample, and the output may overshoot the input's range, as PyTorch's."""
    x = tc.Tensor(np.array([0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]).reshape(1, 1, 1, 7))
    y = F.interpolate(x, size=(1, 14), mode="bicubic").numpy()[0, 0, 0]
    # output 5 reads source 2.25: taps 1, 2, 3, 4 at distances 1.25, 0.25, 0.75, 1.75
    assert y[5] == pytest.approx(keys_cubic(0.75), abs=1e-15)
    assert y[6] == pytest.approx(keys_cubic(0.25), abs=1e-15)  # source 2.75
    assert keys_cubic(1.25) < 0 and y.min() < 0  # the negative lobe: an overshoot
    ones = F.interpolate(tc.Tensor(np.ones((1, 1, 4, 5))), size=(7, 3), mode="bicubic")
    np.testing.assert_allclose(ones.numpy(), 1.0, rtol=0, atol=1e-14)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(scale_factor=2, mode="area"), "mode must be 'nearest', 'bilinear' or 'bicubic'"),
        (dict(), "give exactly one of size and scale_factor"),
        (dict(size=4, scale_factor=2), "give exactly one of size and scale_factor"),
        (dict(scale_factor=0), "scale_factor must be positive"),
        (dict(scale_factor=(2, 2, 2)), "scale_factor must be a number or a pair"),
        (dict(scale_factor=0.1), r"leaves no samples of an input of shape \(1, 1, 4, 4\)"),
        (dict(size=(0, 3)), "size must be >= 1"),
        (
            dict(scale_factor=2, align_corners=True),
            "align_corners only applies to mode='bilinear' or 'bicubic', not 'nearest'",
        ),
    ],
)
def test_interpolate_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        F.interpolate(tc.Tensor(np.zeros((1, 1, 4, 4))), **kwargs)


@pytest.mark.parametrize(
    "shape, mode", [((1, 1, 4, 4), "bilinear"), ((1, 1, 4, 4), "bicubic"), ((1, 1, 4), "linear")]
)
def test_interpolate_refuses_integers_but_for_nearest(shape, mode):
    """PyTorch does not interpolate int64 linearly either ("not implemented for 'Long'"): a
    TypeError that says what to do, not NumPy's casting error; 'nearest' copies integers."""
    x = tc.Tensor(np.arange(math.prod(shape)).reshape(shape))
    with pytest.raises(TypeError, match=rf"interpolate: mode='{mode}' expects a floating-point "):
        F.interpolate(x, scale_factor=2, mode=mode)
    y = F.interpolate(x, scale_factor=2)
    assert y.dtype == np.int64 and y.shape[-1] == 2 * shape[-1]


POOLS_WITH_INPUT = [
    ("max_pool2d", 4, dict(kernel_size=2)),
    ("avg_pool2d", 4, dict(kernel_size=2)),
    ("adaptive_avg_pool2d", 4, dict(output_size=2)),
    ("adaptive_max_pool2d", 4, dict(output_size=2)),
    ("max_pool1d", 3, dict(kernel_size=2)),
    ("avg_pool1d", 3, dict(kernel_size=2)),
    ("adaptive_avg_pool1d", 3, dict(output_size=2)),
    ("adaptive_max_pool1d", 3, dict(output_size=2)),
    ("interpolate", 4, dict(scale_factor=2, mode="bilinear")),
    ("interpolate", 3, dict(size=6, mode="linear")),
]


@pytest.mark.parametrize("name, ndim, kwargs", POOLS_WITH_INPUT)
def test_pools_take_pytorchs_keyword_input(name, ndim, kwargs):
    """``F.interpolate(input=x, ...)`` and the pools' ``input=``, PyTorch's keyword for the
    tensor, as its code spells them out."""
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(2).standard_normal((2, 3, 4, 4)[:ndim])
    y = getattr(F, name)(input=tc.Tensor(a), **kwargs)
    want = getattr(torch.nn.functional, name)(input=torch.tensor(a), **kwargs)
    np.testing.assert_allclose(y.numpy(), want.numpy(), rtol=1e-12)
    assert F.upsample(input=tc.Tensor(a), scale_factor=2).shape[-1] == 8


def test_upsample_needs_nchw():
    with pytest.raises(ValueError, match=r"expected a 4-d NCHW input, got shape \(4, 4\)"):
        F.upsample(tc.Tensor(np.zeros((4, 4))), 2)


@st.composite
def signal_interp_cases(draw):
    """(shape (N, C, L), size, scale_factor, mode, align_corners) for a 1-d resize: up and
    down, lengths of 1 included; the numbers sometimes as 1-tuples."""
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 7)))
    mode = draw(st.sampled_from(["nearest", "linear"]))
    align = None if mode == "nearest" else draw(st.sampled_from([None, False, True]))

    def maybe_tuple(v):
        return (v,) if draw(st.booleans()) else v

    if draw(st.booleans()):
        return shape, maybe_tuple(draw(st.integers(1, 9))), None, mode, align
    scale = draw(st.sampled_from([1, 2, 3, 0.5, 0.75, 1.5, 2.5, 1.7]))
    if math.floor(shape[2] * scale) < 1:
        scale = 2
    return shape, None, maybe_tuple(scale), mode, align


def _one(v):
    return v[0] if isinstance(v, tuple) else v


@given_settings
@given(case=signal_interp_cases(), seed=st.integers(0, 2**16))
def test_interpolate_a_signal_gradcheck_naive_and_pytorch(device, case, seed):
    """F.interpolate and nn.Upsample of an (N, C, L) signal, 'nearest' and 'linear' (a 1-D
    U-Net's decoder): against the naive loop along L, a gradcheck, and PyTorch."""
    shape, size, scale, mode, align = case
    a = np.random.default_rng(seed).standard_normal(shape)
    n_out = _one(size) if size is not None else math.floor(shape[2] * _one(scale))
    step = None if scale is None else float(_one(scale))
    naive_mode = "bilinear" if mode == "linear" else mode
    want = naive_interpolate(a[:, :, None], (1, n_out), (None, step), naive_mode, bool(align))

    def f(t):
        return F.interpolate(t, size=size, scale_factor=scale, mode=mode, align_corners=align)

    x = tensor(a, device)
    y = f(x)
    assert y.shape == shape[:2] + (n_out,)
    np.testing.assert_allclose(y.numpy(), want[:, :, 0], rtol=1e-10, atol=1e-12)
    assert tc.gradcheck(f, [tensor(a, device)])
    layer = tc.nn.Upsample(size=size, scale_factor=scale, mode=mode, align_corners=align)
    np.testing.assert_allclose(layer(x).numpy(), y.numpy(), rtol=1e-12)
    try:
        import torch
    except ImportError:
        return
    ty = torch.nn.functional.interpolate(
        torch.tensor(a), size=size, scale_factor=scale, mode=mode, align_corners=align
    )
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "shape, kwargs, message",
    [
        ((1, 1, 4), dict(scale_factor=2, mode="bilinear"), r"3-d \(N, C, L\) input takes mode"),
        ((1, 1, 4), dict(scale_factor=2, mode="bicubic"), r"'nearest' or 'linear', got 'bicubic'"),
        ((1, 1, 4, 4), dict(scale_factor=2, mode="linear"), r"mode='linear' resizes a 3-d"),
        ((1, 1, 4), dict(scale_factor=(2, 2)), r"scale_factor of a 3-d input must be a number"),
        ((1, 1, 4), dict(size=(2, 2)), r"size must be an int or a 1-tuple"),
    ],
)
def test_interpolate_a_signal_errors(shape, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        F.interpolate(tc.Tensor(np.zeros(shape)), **kwargs)


@pytest.mark.parametrize("layer", ["UpsamplingNearest2d", "UpsamplingBilinear2d"])
@pytest.mark.parametrize(
    "kwargs", [dict(scale_factor=2), dict(size=(5, 7)), dict(scale_factor=1.5)]
)
def test_upsampling_layers_as_pytorchs(device, layer, kwargs):
    """nn.UpsamplingNearest2d and nn.UpsamplingBilinear2d (corners aligned), as older
    super-resolution code spells them: the naive loop, and PyTorch's layers."""
    a = np.random.default_rng(2).standard_normal((2, 3, 4, 5))
    x = tc.Tensor(a, device=device)
    y = getattr(tc.nn, layer)(**kwargs)(x)
    mode, align = ("nearest", False) if layer == "UpsamplingNearest2d" else ("bilinear", True)
    size, scale = _interp_geometry(a.shape, kwargs.get("size"), kwargs.get("scale_factor"))
    want = naive_interpolate(a, size, scale, mode, align)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match=rf"{layer}: expected a 4-D input"):
        getattr(tc.nn, layer)(scale_factor=2)(tc.Tensor(a[0], device=device))
    try:
        import torch
    except ImportError:
        return
    ty = getattr(torch.nn, layer)(**kwargs)(torch.tensor(a))
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scale", [1.7, (0.6, 1.3), 2])
def test_interpolate_recompute_scale_factor_resamples_as_the_size(device, mode, scale):
    """recompute_scale_factor=True: the output size floor(H * s), then the sampling of that
    size (not of 1 / s), as PyTorch's; antialias is taken at False and refused at True."""
    a = np.random.default_rng(3).standard_normal((1, 2, 7, 9))
    x = tc.Tensor(a, device=device)
    y = F.interpolate(x, scale_factor=scale, mode=mode, recompute_scale_factor=True)
    size, _ = _interp_geometry(a.shape, None, scale)
    np.testing.assert_allclose(
        y.numpy(), naive_interpolate(a, size, (None, None), mode), atol=1e-12
    )
    assert F.interpolate(x, scale_factor=scale, mode=mode, antialias=False).shape == y.shape
    with pytest.raises(ValueError, match=r"antialias=True is not supported"):
        F.interpolate(x, scale_factor=scale, mode=mode, antialias=True)
    try:
        import torch
    except ImportError:
        return
    ty = torch.nn.functional.interpolate(
        torch.tensor(a), scale_factor=scale, mode=mode, recompute_scale_factor=True
    )
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-10, atol=1e-12)
