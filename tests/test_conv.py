"""conv2d, conv_transpose2d, im2col and col2im: gradient checks, a loop oracle, PyTorch, errors.

Every drawn case also picks the code path: the stride-1 flat-shift columns or the general
sliding-window ones, chunks shared among threads or run in turn, and the default blocks or one
output row of one image a block. So each path and each loop is checked, not only the ones the
shapes would select.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import tensor

import tinycolor as tc
from tinycolor.functional import col2im, conv2d, conv_transpose2d, im2col
from tinycolor.functional import conv as conv_module

SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]


# --------------------------------------------------------------------------- the oracles


def conv2d_loops(x, w, b, stride, padding, dilation):
    """The definition, one output pixel and one kernel tap at a time; padding (ph, pw) on both
    sides, or (top, bottom, left, right) each on its own."""
    (sh, sw), (dh, dw) = stride, dilation
    pt, pb, pl, pr = padding if len(padding) == 4 else (padding[0],) * 2 + (padding[1],) * 2
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    ho = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, ho, wo))
    for oy in range(ho):
        for ox in range(wo):
            for i in range(kh):
                for j in range(kw):
                    y, xx = oy * sh + i * dh - pt, ox * sw + j * dw - pl
                    if 0 <= y < h and 0 <= xx < wd:
                        out[:, :, oy, ox] += x[:, :, y, xx] @ w[:, :, i, j].T
    if b is not None:
        out += b[None, :, None, None]
    return out


def conv_transpose2d_loops(x, w, b, stride, padding, output_padding, dilation):
    """Each input pixel scatters its kernel-weighted copy onto the output."""
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    n, cin, h, wd = x.shape
    _, cout, kh, kw = w.shape
    ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wo = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    out = np.zeros((n, cout, ho, wo))
    for y in range(h):
        for xx in range(wd):
            for i in range(kh):
                for j in range(kw):
                    oy, ox = y * sh + i * dh - ph, xx * sw + j * dw - pw
                    if 0 <= oy < ho and 0 <= ox < wo:
                        out[:, :, oy, ox] += x[:, :, y, xx] @ w[:, :, i, j]
    if b is not None:
        out += b[None, :, None, None]
    return out


# --------------------------------------------------------------------------- drawing cases


_SWITCHES = (
    "_FLAT_STRIDE1", "_BLOCK_BYTES", "_MIN_BLOCK_POSITIONS", "_SMALL_GEMM_MACS",
    "_MIN_PIECE_POSITIONS", "_piece_positions", "_PHASE_INPUT_GRAD",
)  # fmt: skip


@contextlib.contextmanager
def code_path(flat=True, piece=None, row_blocks=False, phases=True):
    """Force the stride-1 path (flat or general), the products (at most ``piece`` positions
    each: whole images together, or an image's rows in parts; None, the defaults), the
    blocking (one image and one output row a block, or the defaults) and the strided input
    gradient (through the phase images, where it pays, or folded back) for the duration."""
    saved = [getattr(conv_module, name) for name in _SWITCHES]
    conv_module._FLAT_STRIDE1 = flat
    conv_module._PHASE_INPUT_GRAD = phases
    if piece is not None:
        conv_module._MIN_PIECE_POSITIONS = 1
        conv_module._piece_positions = lambda xp, o, k: piece if xp is np else None
    if row_blocks:
        conv_module._BLOCK_BYTES = conv_module._MIN_BLOCK_POSITIONS = 1
    try:
        yield
    finally:
        for name, value in zip(_SWITCHES, saved):
            setattr(conv_module, name, value)


def _noncontiguous(a):
    """The same values as ``a`` in a non-contiguous array (W and H axes swapped in memory)."""
    return np.ascontiguousarray(a.swapaxes(-1, -2)).swapaxes(-1, -2)


@st.composite
def conv_cases(draw, transposed=False, max_batch=3, max_channels=3, max_kernel=5, extra=4):
    """Hyperparameters and arrays for one conv2d (or conv_transpose2d) call."""
    kh, kw = draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel))
    # stride 1 half the time: the flat-shift columns and the stride-1 input gradients are
    # their own code, and drawing each stride from 1..3 left them 1 case in 9
    sh, sw = (1, 1) if draw(st.booleans()) else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    case = dict(stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw))
    if transposed:
        oph = draw(st.integers(0, max(sh, dh) - 1))
        opw = draw(st.integers(0, max(sw, dw) - 1))
        case["output_padding"] = (oph, opw)

        def smallest(k, s, p, d, op):  # the output must not be empty
            return next(n for n in range(1, 50) if (n - 1) * s - 2 * p + d * (k - 1) + op >= 0)

        h0, w0 = smallest(kh, sh, ph, dh, oph), smallest(kw, sw, pw, dw, opw)
    else:  # the padded input must hold the dilated kernel
        h0, w0 = max(1, dh * (kh - 1) + 1 - 2 * ph), max(1, dw * (kw - 1) + 1 - 2 * pw)
    h, w = h0 + draw(st.integers(0, extra)), w0 + draw(st.integers(0, extra))
    n = draw(st.integers(1, max_batch))
    cin, cout = draw(st.integers(1, max_channels)), draw(st.integers(1, max_channels))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    x = rng.standard_normal((n, cin, h, w))
    w_shape = (cin, cout, kh, kw) if transposed else (cout, cin, kh, kw)
    weight = rng.standard_normal(w_shape)
    bias = rng.standard_normal(cout) if draw(st.booleans()) else None
    if draw(st.booleans()):
        x = _noncontiguous(x)
    path = dict(
        flat=draw(st.booleans()),
        piece=draw(st.none() | st.integers(1, 40)),
        row_blocks=draw(st.booleans()),
        phases=draw(st.booleans()),
    )
    return x, weight, bias, case, path


def _call(transposed, x, w, b, case):
    fn = conv_transpose2d if transposed else conv2d
    return fn(x, w, b, **case)


def _reference(transposed, x, w, b, case):
    if transposed:
        return conv_transpose2d_loops(
            x, w, b, case["stride"], case["padding"], case["output_padding"], case["dilation"]
        )
    return conv2d_loops(x, w, b, case["stride"], case["padding"], case["dilation"])


# --------------------------------------------------------------------------- forward vs loops


@pytest.mark.parametrize("transposed", [False, True], ids=["conv2d", "conv_transpose2d"])
@settings(suppress_health_check=SUPPRESS)
@given(data=st.data())
def test_forward_matches_loop_reference(device, transposed, data):
    x, w, b, case, path = data.draw(conv_cases(transposed))
    with code_path(**path):
        y = _call(
            transposed,
            tensor(x, device, requires_grad=False),
            tensor(w, device, requires_grad=False),
            None if b is None else tensor(b, device, requires_grad=False),
            case,
        )
    expected = _reference(transposed, x, w, b, case)
    assert y.shape == expected.shape
    assert y.device == device and y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------------------- gradient checks


@pytest.mark.parametrize("transposed", [False, True], ids=["conv2d", "conv_transpose2d"])
@settings(suppress_health_check=SUPPRESS)
@given(data=st.data())
def test_gradcheck(device, transposed, data):
    x, w, b, case, path = data.draw(conv_cases(transposed, max_batch=2, max_channels=2, extra=2))
    inputs = [tensor(x, device), tensor(w, device)] + ([] if b is None else [tensor(b, device)])
    with code_path(**path):
        assert tc.gradcheck(
            lambda *t: _call(transposed, t[0], t[1], t[2] if len(t) > 2 else None, case), inputs
        )


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "windows"])
@pytest.mark.parametrize("piece", [45, 65], ids=["2-images", "3-images"])
def test_products_of_several_whole_images(flat, piece):
    """Products that take 2 or 3 of the 6 images of a block at a time (4 output rows of 5
    positions on the flat grid, 4 on the windows) give the loops' outputs and gradients."""
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((6, 2, 3, 3)), rng.standard_normal((3, 2, 2, 2)), np.ones(3)
    inputs = [tc.Tensor(a, requires_grad=True) for a in (x, w, b)]
    with code_path(flat=flat, piece=piece):
        np.testing.assert_allclose(
            conv2d(*inputs, padding=1).numpy(),
            conv2d_loops(x, w, b, (1, 1), (1, 1), (1, 1)),
            atol=1e-12,
        )
        assert tc.gradcheck(lambda *t: conv2d(*t, padding=1), inputs)


@pytest.mark.parametrize("kernel", [(5, 5), (3, 3), (3, 5)])
def test_stride1_input_gradient_folded_equals_the_convolution_of_g(monkeypatch, kernel):
    """A stride-1 input gradient from twice the channels on a 10x10 map is folded back with
    col2im for a 5x5 kernel and computed as a convolution of g for a 3x3 one; both ways give
    the naive loops' transposed convolution."""
    rng = np.random.default_rng(4)
    kh, kw = kernel
    geo = conv_module._Geometry(kh, kw, 1, 1, 1, 1, kh // 2, kh // 2, kw // 2, kw // 2)
    g, weight = rng.standard_normal((2, 6, 10, 10)), rng.standard_normal((6, 3, kh, kw))
    folds = conv_module._fold_input_grad(np, 6, 3, 100, kh * kw)
    assert folds == (kh * kw >= 25)
    results = []
    for fold in (True, False):
        monkeypatch.setattr(conv_module, "_fold_input_grad", lambda *a, fold=fold: fold)
        results.append(conv_module._conv_input_grad(g, weight, geo, (10, 10)))
    expected = conv_transpose2d_loops(g, weight, None, (1, 1), (kh // 2, kw // 2), (0, 0), (1, 1))
    for got in results:
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "kernel, stride, padding, phases",
    [
        ((4, 4), (2, 2), (1, 1, 1, 1), True),  # the phase kernels hold exactly the taps
        ((3, 3), (2, 2), (1, 1, 1, 1), True),  # 16 taps for 9
        ((3, 2), (2, 3), (1, 0, 2, 1), True),  # uneven strides and padding
        ((4, 4), (3, 2), (0, 2, 1, 0), True),
        ((1, 1), (2, 2), (0, 0, 0, 0), False),  # 4 taps for 1: folded back
        ((2, 2), (3, 3), (0, 0, 0, 0), False),  # 9 taps for 4
    ],
)
def test_strided_input_gradient_through_the_phase_images(kernel, stride, padding, phases):
    """Where the phase kernels hold at most twice the taps, a strided input gradient is the
    stride-1 one of the phase images; it equals the columns folded back with slice-adds."""
    rng = np.random.default_rng(3)
    geo = conv_module._Geometry(*kernel, *stride, 1, 1, *padding)
    h, w = 11, 9
    ho, wo = geo.out_size(h, w)
    g, weight = rng.standard_normal((2, 4, ho, wo)), rng.standard_normal((4, 3, *kernel))
    assert conv_module._phase_input_grad_pays(np, geo, (h, w), (ho, wo)) == phases
    with code_path(phases=False):
        folded = conv_module._conv_input_grad(g, weight, geo, (h, w))
    through_phases = conv_module._phase_input_grad(g, weight, geo, (h, w))
    np.testing.assert_allclose(through_phases, folded, rtol=1e-12, atol=1e-12)
    dilated = geo._replace(dh=2)
    assert not conv_module._phase_input_grad_pays(np, dilated, (h, w), dilated.out_size(h, w))
    # 3x3, stride 2 on a 4x4 map: 2x2 outputs, but 3x3 positions on the phase grid
    small = conv_module._Geometry(3, 3, 2, 2, 1, 1, 1, 1, 1, 1)
    assert not conv_module._phase_input_grad_pays(np, small, (4, 4), (2, 2))


def test_gradcheck_only_some_inputs_need_gradients(device):
    rng = np.random.default_rng(1)
    x = tensor(rng.standard_normal((2, 3, 6, 5)), device, requires_grad=False)
    w = tensor(rng.standard_normal((2, 3, 3, 3)), device)
    b = tensor(rng.standard_normal(2), device)
    assert tc.gradcheck(lambda x, w, b: conv2d(x, w, b, stride=2, padding=1), [x, w, b])
    b.grad = None
    y = conv2d(x, w.detach(), b, padding=1)  # only the bias needs a gradient
    y.backward(np.ones(y.shape))
    assert x.grad is None
    np.testing.assert_allclose(tc.backend.to_numpy(b.grad), np.full(2, 2 * 6 * 5))


# --------------------------------------------------------------------------- PyTorch oracle


@pytest.mark.parametrize("transposed", [False, True], ids=["conv2d", "conv_transpose2d"])
@settings(suppress_health_check=SUPPRESS)
@given(data=st.data())
def test_matches_torch_forward_and_gradients(device, transposed, data):
    torch = pytest.importorskip("torch")
    x, w, b, case, path = data.draw(conv_cases(transposed, max_channels=4))
    ins = [tensor(x, device), tensor(w, device)] + ([] if b is None else [tensor(b, device)])
    with code_path(**path):
        y = _call(transposed, ins[0], ins[1], ins[2] if b is not None else None, case)
        g = np.random.default_rng(0).standard_normal(y.shape)
        y.backward(g)
    refs = [torch.tensor(a, requires_grad=True) for a in (x, w) + (() if b is None else (b,))]
    ref_case = dict(case)
    fn = torch.nn.functional.conv_transpose2d if transposed else torch.nn.functional.conv2d
    y_ref = fn(refs[0], refs[1], refs[2] if b is not None else None, **ref_case)
    y_ref.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), y_ref.detach().numpy(), rtol=1e-10, atol=1e-10)
    for ours, ref in zip(ins, refs):
        np.testing.assert_allclose(
            tc.backend.to_numpy(ours.grad), ref.grad.numpy(), rtol=1e-10, atol=1e-10
        )


def test_float32_training_shape_matches_torch(device):
    """float32 in, float32 out and float32 gradients, over uneven chunks and blocks of rows,
    with each block's product cut into products of one row."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 16, 20, 20), dtype=np.float32)
    w = rng.standard_normal((8, 16, 3, 3), dtype=np.float32) * 0.1
    wt = rng.standard_normal((8, 16, 3, 3), dtype=np.float32) * 0.1
    b = rng.standard_normal(8, dtype=np.float32)
    bt = rng.standard_normal(16, dtype=np.float32)
    with code_path():
        conv_module._BLOCK_BYTES = 16 * 9 * 22 * 3 * 4  # about 3 output rows a block
        conv_module._MIN_BLOCK_POSITIONS = conv_module._MIN_PIECE_POSITIONS = 1
        conv_module._SMALL_GEMM_MACS = 30_000  # one row of 22 positions, 8 x 144 or 16 x 72
        for stride in (1, 2):
            xs = [tc.Tensor(a, requires_grad=True, device=device) for a in (x, w, b, wt, bt)]
            y = conv2d(xs[0], xs[1], xs[2], stride=stride, padding=1)
            z = conv_transpose2d(
                y, xs[3], xs[4], stride=stride, padding=1, output_padding=stride - 1
            )
            assert y.dtype == np.float32 and z.dtype == np.float32 and z.shape == x.shape
            z.backward(np.ones(z.shape, np.float32))
            ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b, wt, bt)]
            yt = torch.nn.functional.conv2d(ts[0], ts[1], ts[2], stride=stride, padding=1)
            zt = torch.nn.functional.conv_transpose2d(
                yt, ts[3], ts[4], stride=stride, padding=1, output_padding=stride - 1
            )
            zt.backward(torch.ones_like(zt))
            np.testing.assert_allclose(z.numpy(), zt.detach().numpy(), rtol=1e-4, atol=1e-4)
            for ours, ref in zip(xs, ts):
                assert ours.grad.dtype == np.float32
                scale = float(ref.grad.abs().max())
                np.testing.assert_allclose(
                    tc.backend.to_numpy(ours.grad), ref.grad.numpy(), rtol=1e-4, atol=1e-5 * scale
                )


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_same_padding_and_unbatched_input_match_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 5, 7))
    for k, d in ((3, 1), (4, 1), (2, 3)):
        w = rng.standard_normal((3, 2, k, k))
        y = conv2d(tensor(x, device), tensor(w, device), padding="same", dilation=d)
        ref = torch.nn.functional.conv2d(
            torch.tensor(x), torch.tensor(w), padding="same", dilation=d
        )
        assert y.shape == (3, 5, 7)
        np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-10, atol=1e-10)
    w = rng.standard_normal((2, 4, 3, 3))
    y = conv_transpose2d(tensor(x, device), tensor(w, device), stride=2, output_padding=1)
    ref = torch.nn.functional.conv_transpose2d(
        torch.tensor(x), torch.tensor(w), stride=2, output_padding=1
    )
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-10, atol=1e-10)
    y = conv2d(
        tensor(x, device), tensor(rng.standard_normal((3, 2, 2, 2)), device), padding="valid"
    )
    assert y.shape == (3, 4, 6)


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "windows"])
@pytest.mark.parametrize("kernel, dilation", [((4, 2), (1, 1)), ((3, 4), (1, 3)), ((2, 3), (2, 2))])
def test_same_padding_puts_the_odd_row_and_column_at_the_bottom_and_right(flat, kernel, dilation):
    """An odd total padding d (k - 1) gives its extra row and column to the bottom and right:
    the loops on the input padded so by hand give the same output and the gradients check."""
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((2, 2, 5, 7)), rng.standard_normal((3, 2, *kernel)), np.ones(3)
    (th, tw) = (d * (k - 1) for d, k in zip(dilation, kernel))
    padded = np.pad(x, ((0, 0), (0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2)))
    inputs = [tc.Tensor(a, requires_grad=True) for a in (x, w, b)]
    with code_path(flat=flat):
        y = conv2d(*inputs, padding="same", dilation=dilation)
        np.testing.assert_allclose(
            y.numpy(), conv2d_loops(padded, w, b, (1, 1), (0, 0), dilation), atol=1e-12
        )
        assert tc.gradcheck(lambda *t: conv2d(*t, padding="same", dilation=dilation), inputs)


@pytest.mark.parametrize(
    "kernel, stride, output_padding", [((4, 4), (2, 2), (1, 1)), ((3, 4), (3, 2), (2, 1))]
)
def test_output_padding_past_the_padding_is_not_sent_through_the_phase_images(
    kernel, stride, output_padding
):
    """A transposed convolution with more output_padding than padding is the input gradient of
    a convolution whose bottom/right padding is negative (a crop); the phase images are for a
    padded input only. Those geometries would take them otherwise: the result is the loops'."""
    rng = np.random.default_rng(4)
    x, w, b = (rng.standard_normal(s) for s in ((2, 3, 5, 6), (3, 2, *kernel), (2,)))
    case = dict(stride=stride, padding=(0, 0), output_padding=output_padding, dilation=(1, 1))
    inputs = [tc.Tensor(a, requires_grad=True) for a in (x, w, b)]
    y = conv_transpose2d(*inputs, **case)
    uncropped = conv_module._Geometry(*kernel, *stride, 1, 1, 0, 0, 0, 0)
    assert conv_module._phase_input_grad_pays(np, uncropped, y.shape[2:], x.shape[2:])
    np.testing.assert_allclose(
        y.numpy(), conv_transpose2d_loops(x, w, b, **case), rtol=1e-12, atol=1e-12
    )
    assert tc.gradcheck(lambda *t: conv_transpose2d(*t, **case), inputs)


# --------------------------------------------------------------------------- im2col / col2im


@st.composite
def window_cases(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h = max(1, dh * (kh - 1) + 1 - 2 * ph) + draw(st.integers(0, 4))
    w = max(1, dw * (kw - 1) + 1 - 2 * pw) + draw(st.integers(0, 4))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)
    return shape, dict(kernel_size=(kh, kw), stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw))


@settings(suppress_health_check=SUPPRESS)
@given(
    case=window_cases(), seed=st.integers(0, 2**31 - 1), pad_value=st.sampled_from([0.0, -np.inf])
)
def test_im2col_reads_the_right_pixels(xp, case, seed, pad_value):
    shape, geo = case
    x = np.random.default_rng(seed).standard_normal(shape)
    cols = tc.backend.to_numpy(im2col(xp.asarray(x), pad_value=pad_value, **geo))
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = (
        geo[k] for k in ("kernel_size", "stride", "padding", "dilation")
    )
    n, c, ho, wo = cols.shape[:4]
    assert ho == (shape[2] + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    assert wo == (shape[3] + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    assert cols.shape == (n, c, ho, wo, kh, kw)
    for oy in range(ho):
        for ox in range(wo):
            for i in range(kh):
                for j in range(kw):
                    y, xx = oy * sh + i * dh - ph, ox * sw + j * dw - pw
                    inside = 0 <= y < shape[2] and 0 <= xx < shape[3]
                    expected = x[:, :, y, xx] if inside else np.full((n, c), pad_value)
                    np.testing.assert_array_equal(cols[:, :, oy, ox, i, j], expected)


@settings(suppress_health_check=SUPPRESS)
@given(case=window_cases(), seed=st.integers(0, 2**31 - 1), transposed_view=st.booleans())
def test_col2im_is_the_adjoint_of_im2col(xp, case, seed, transposed_view):
    """<im2col(x), c> = <x, col2im(c)> for every x and c: col2im is im2col's transpose."""
    shape, geo = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    cols_shape = im2col(x, **geo).shape
    c = rng.standard_normal(cols_shape)
    c_dev = xp.asarray(c)
    if transposed_view:  # the same values, stored (N, kh, kw, C, Ho, Wo) as conv makes them
        c_dev = xp.ascontiguousarray(c_dev.transpose(0, 4, 5, 1, 2, 3)).transpose(0, 3, 4, 5, 1, 2)
    folded = tc.backend.to_numpy(col2im(c_dev, shape[2:], **geo))
    assert folded.shape == shape
    lhs = float(np.sum(im2col(x, **geo) * c))
    rhs = float(np.sum(x * folded))
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-10)


# --------------------------------------------------------------------------- errors


def _t(*shape):
    return tc.Tensor(np.zeros(shape, np.float32))


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: conv2d(_t(8, 1, 16, 16), _t(64, 3, 3, 3)),
            r"conv2d\(3->64, kernel 3x3\): expected input with 3 channels, got \(8, 1, 16, 16\)",
        ),
        (
            lambda: conv2d(_t(2, 8, 3, 16, 16), _t(4, 3, 3, 3)),
            r"expected a 4-D input \(N, C, H, W\), got shape \(2, 8, 3, 16, 16\)",
        ),
        (
            lambda: conv2d(_t(2, 3, 16, 16), _t(4, 3, 3)),
            r"expected a 4-D weight \(out, in, kh, kw\), got shape \(4, 3, 3\)",
        ),
        (
            lambda: conv2d(_t(2, 3, 4, 4), _t(4, 3, 5, 5)),
            r"input of shape \(2, 3, 4, 4\), padded to 4x4, is smaller than the kernel \(5x5",
        ),
        (
            lambda: conv2d(_t(2, 3, 6, 6), _t(4, 3, 3, 3), dilation=3),
            r"padded to 6x6, is smaller than the kernel \(7x7 with dilation \(3, 3\)\)",
        ),
        (
            lambda: conv2d(_t(2, 3, 8, 8), _t(4, 3, 3, 3), _t(3)),
            r"expected a bias of shape \(4,\), got \(3,\)",
        ),
        (
            lambda: conv2d(_t(2, 3, 8, 8), _t(4, 3, 3, 3), stride=0),
            r"stride must be positive, got \(0, 0\)",
        ),
        (
            lambda: conv2d(_t(2, 3, 8, 8), _t(4, 3, 3, 3), padding=-1),
            r"padding must be non-negative",
        ),
        (
            lambda: conv2d(_t(2, 3, 8, 8), _t(4, 3, 3, 3), padding=(1, 2, 3)),
            r"padding must be an int or a pair of ints, got \(1, 2, 3\)",
        ),
        (
            lambda: conv2d(_t(2, 3, 8, 8), _t(4, 3, 3, 3), stride=2, padding="same"),
            r"padding='same' needs stride 1",
        ),
        (
            lambda: conv2d(_t(2, 3, 8, 8), _t(4, 3, 3, 3), padding="full"),
            r"padding must be 'valid', 'same'",
        ),
        (
            lambda: conv_transpose2d(_t(2, 4, 8, 8), _t(3, 5, 3, 3)),
            r"conv_transpose2d\(3->5, kernel 3x3\): expected input with 3 channels, "
            r"got \(2, 4, 8, 8\)",
        ),
        (
            lambda: conv_transpose2d(_t(2, 3, 8, 8), _t(3, 5, 3, 3), stride=2, output_padding=2),
            r"output_padding must be non-negative and smaller than either the stride or the "
            r"dilation",
        ),
        (
            lambda: conv_transpose2d(_t(2, 3, 1, 1), _t(3, 5, 1, 1), padding=1),
            r"gives an empty output \(-1x-1\)",
        ),
        (
            lambda: conv_transpose2d(_t(2, 3, 8, 8), _t(3, 5, 3, 3), bias=_t(3)),
            r"expected a bias of shape \(5,\), got \(3,\)",
        ),
        (
            lambda: conv2d(_t(2, 3, 8, 8), _t(4, 2, 3, 3), groups=2),
            r"conv2d\(4->4, kernel 3x3, groups 2\): expected input with 4 channels, got "
            r"\(2, 3, 8, 8\) \(weight \(4, 2, 3, 3\), groups 2\)",
        ),
        (
            lambda: conv2d(_t(2, 6, 8, 8), _t(4, 2, 3, 3), groups=3),
            r"conv2d\(6->4, kernel 3x3, groups 3\): the weight's 4 output channels \(its first "
            r"axis, shape \(4, 2, 3, 3\)\) are not divisible by groups=3",
        ),
        (
            lambda: conv_transpose2d(
                _t(2, 3, 8, 8), _t(3, 5, 3, 3), stride=1, dilation=2, groups=2
            ),
            r"conv_transpose2d\(3->10, kernel 3x3, groups 2\): the weight's 3 input channels "
            r"\(its first axis, shape \(3, 5, 3, 3\)\) are not divisible by groups=2",
        ),
        (
            lambda: conv_transpose2d(_t(2, 4, 8, 8), _t(4, 3, 3, 3), _t(3), groups=2),
            r"conv_transpose2d\(4->6, kernel 3x3, groups 2\): expected a bias of shape \(6,\)",
        ),
        (
            lambda: conv2d(_t(2, 4, 8, 8), _t(4, 4, 3, 3), groups=0),
            r"conv2d: groups must be a positive int, got 0",
        ),
        (
            lambda: im2col(np.zeros((3, 8, 8)), 3),
            r"im2col: expected a 4-D array \(N, C, H, W\), got shape \(3, 8, 8\)",
        ),
        (
            lambda: col2im(np.zeros((1, 2, 5, 5, 3, 3)), (8, 8), 3),
            r"col2im: columns of shape \(1, 2, 5, 5, 3, 3\) do not match input size \(8, 8\)"
            r".*expected \(1, 2, 6, 6, 3, 3\)",
        ),
    ],
)
def test_errors_name_what_was_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("op", [conv2d, conv_transpose2d])
def test_an_integer_input_is_refused_by_name(op):
    """An 8-bit image fed as is: refused with what to do, as PyTorch refuses it."""
    x = tc.Tensor(np.zeros((1, 3, 8, 8), np.uint8))
    w = _t(3, 3, 3, 3)
    with pytest.raises(TypeError, match=r"expected a floating-point input .* got uint8"):
        op(x, w)


def test_empty_batch(device):
    x = tensor(np.zeros((0, 3, 6, 6)), device)
    w = tensor(np.ones((2, 3, 3, 3)), device)
    y = conv2d(x, w, padding=1)
    assert y.shape == (0, 2, 6, 6)
    y.backward(np.zeros(y.shape))
    assert (
        tc.backend.to_numpy(w.grad).shape == (2, 3, 3, 3) and not tc.backend.to_numpy(w.grad).any()
    )
    z = conv_transpose2d(x, tensor(np.ones((3, 2, 3, 3)), device), stride=2)
    assert z.shape == (0, 2, 13, 13)
    b = tensor(np.ones(2), device)  # the bias gradient sums over no images: zeros
    conv2d(x, w, b, padding=1).sum().backward()
    assert not tc.backend.to_numpy(b.grad).any() and b.grad.shape == (2,)


def test_mixing_devices_is_an_error():
    if not tc.cuda_available():
        pytest.skip("needs a GPU to put one input on cuda")
    x = tc.Tensor(np.zeros((1, 3, 8, 8), np.float32))
    w = tc.Tensor(np.zeros((4, 3, 3, 3), np.float32), device="cuda")
    with pytest.raises(tc.DeviceError, match="cpu"):
        conv2d(x, w)
