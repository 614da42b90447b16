"""conv1d, conv_transpose1d, nn.Conv1d and nn.ConvTranspose1d: a loop oracle and gradient checks
over hypothesis-drawn cases (int, 1-tuple and string paddings, one unbatched (C, L) signal,
non-contiguous inputs, every conv2d code path), PyTorch, errors, state dicts.

The 1-D ops run the 2-D ones on a height-1 image; these tests check them against loops written
from the 1-D definitions, not against conv2d.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import tensor
from test_conv import code_path

import tinycolor as tc
from tinycolor import nn
from tinycolor.functional import conv1d, conv_transpose1d

SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]


# --------------------------------------------------------------------------- the oracles


def conv1d_loops(x, w, b, stride, padding, dilation):
    """The definition, one output sample and one tap at a time; padding (left, right)."""
    n, c, length = x.shape
    o, _, k = w.shape
    left, right = padding
    lo = (length + left + right - dilation * (k - 1) - 1) // stride + 1
    out = np.zeros((n, o, lo))
    for t in range(lo):
        for i in range(k):
            j = t * stride + i * dilation - left
            if 0 <= j < length:
                out[:, :, t] += x[:, :, j] @ w[:, :, i].T
    return out if b is None else out + b[None, :, None]


def conv_transpose1d_loops(x, w, b, stride, padding, output_padding, dilation):
    """Each input sample scatters its kernel-weighted copy onto the output."""
    n, _, length = x.shape
    _, cout, k = w.shape
    lo = (length - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    out = np.zeros((n, cout, lo))
    for j in range(length):
        for i in range(k):
            t = j * stride + i * dilation - padding
            if 0 <= t < lo:
                out[:, :, t] += x[:, :, j] @ w[:, :, i]
    return out if b is None else out + b[None, :, None]


# --------------------------------------------------------------------------- drawing cases


@st.composite
def conv1d_cases(draw, transposed=False):
    """Arrays, keyword arguments and the loop reference's output for one call; the input
    sometimes one (C, L) signal, sometimes non-contiguous; the conv2d code path drawn too."""
    k, d = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    s = 1 if draw(st.booleans()) else draw(st.integers(1, 3))
    p = draw(st.integers(0, 2))
    if transposed:
        op = draw(st.integers(0, max(s, d) - 1))
        smallest = next(n for n in range(1, 50) if (n - 1) * s - 2 * p + d * (k - 1) + op >= 0)
        padding = p
    else:
        op = 0
        padding = draw(st.sampled_from([p, (p,), "same", "valid"])) if s == 1 else p
        smallest = max(1, d * (k - 1) + 1 - (0 if padding == "valid" else 2 * p))
    length = smallest + draw(st.integers(0, 4))
    n, cin, cout = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    x = rng.standard_normal((n, cin, length))
    w = rng.standard_normal((cin, cout, k) if transposed else (cout, cin, k))
    b = rng.standard_normal(cout) if draw(st.booleans()) else None
    if draw(st.booleans()):  # the same values, the channel and length axes swapped in memory
        x = np.ascontiguousarray(x.swapaxes(1, 2)).swapaxes(1, 2)
    if transposed:
        kwargs = dict(stride=s, padding=p, output_padding=op, dilation=d)
        want = conv_transpose1d_loops(x, w, b, s, p, op, d)
    else:
        kwargs = dict(stride=s, padding=padding, dilation=d)
        if padding == "same":  # PyTorch's rule: an odd total puts the extra one at the end
            pads = (d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
        else:
            pads = (0, 0) if padding == "valid" else (p, p)
        want = conv1d_loops(x, w, b, s, pads, d)
    if draw(st.booleans()):  # one signal, as PyTorch accepts
        x, want = x[:1].reshape(cin, length), want[0]
    path = dict(
        flat=draw(st.booleans()),
        piece=draw(st.none() | st.integers(1, 20)),
        row_blocks=draw(st.booleans()),
        phases=draw(st.booleans()),
    )
    return x, w, b, kwargs, want, path


def _op(transposed):
    return conv_transpose1d if transposed else conv1d


# --------------------------------------------------------------------------- forward, gradients


@pytest.mark.parametrize("transposed", [False, True], ids=["conv1d", "conv_transpose1d"])
@settings(suppress_health_check=SUPPRESS)
@given(data=st.data())
def test_forward_matches_loops_and_gradcheck(device, transposed, data):
    x, w, b, kwargs, want, path = data.draw(conv1d_cases(transposed))
    inputs = [tensor(x, device), tensor(w, device)] + ([] if b is None else [tensor(b, device)])

    def fn(*t):
        return _op(transposed)(t[0], t[1], t[2] if len(t) > 2 else None, **kwargs)

    with code_path(**path):
        y = fn(*inputs)
        assert y.shape == want.shape and y.device == device and y.dtype == np.float64
        if kwargs.get("padding") == "same":
            assert y.shape[-1] == x.shape[-1]
        np.testing.assert_allclose(y.numpy(), want, rtol=1e-10, atol=1e-10)
        assert tc.gradcheck(fn, inputs)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("transposed", [False, True], ids=["conv1d", "conv_transpose1d"])
@settings(suppress_health_check=SUPPRESS)
@given(data=st.data())
def test_matches_torch_forward_and_gradients(device, transposed, data):
    torch = pytest.importorskip("torch")
    x, w, b, kwargs, _, path = data.draw(conv1d_cases(transposed))
    arrays = [x, w] + ([] if b is None else [b])
    ours = [tensor(a, device) for a in arrays]
    refs = [torch.tensor(a, requires_grad=True) for a in arrays]
    with code_path(**path):
        y = _op(transposed)(ours[0], ours[1], ours[2] if b is not None else None, **kwargs)
        g = np.random.default_rng(0).standard_normal(y.shape)
        y.backward(g)
    fn = torch.nn.functional.conv_transpose1d if transposed else torch.nn.functional.conv1d
    y_ref = fn(refs[0], refs[1], refs[2] if b is not None else None, **kwargs)
    y_ref.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), y_ref.detach().numpy(), rtol=1e-10, atol=1e-10)
    for mine, ref in zip(ours, refs):
        np.testing.assert_allclose(
            tc.backend.to_numpy(mine.grad), ref.grad.numpy(), rtol=1e-10, atol=1e-10
        )


def test_float32_stays_float32_and_the_empty_batch(device):
    rng = np.random.default_rng(1)
    x = tc.Tensor(
        rng.standard_normal((2, 3, 9), dtype=np.float32), requires_grad=True, device=device
    )
    w = tc.Tensor(
        rng.standard_normal((4, 3, 3), dtype=np.float32), requires_grad=True, device=device
    )
    y = conv1d(x, w, stride=2, padding=1)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == np.float32 and y.shape == (2, 4, 5)
    empty = tensor(np.zeros((0, 3, 9)), device)
    assert conv1d(empty, tensor(np.ones((4, 3, 3)), device)).shape == (0, 4, 7)
    assert conv_transpose1d(empty, tensor(np.ones((3, 2, 3)), device), stride=2).shape == (0, 2, 19)


# --------------------------------------------------------------------------- layers


def test_layers_are_the_ops_with_their_parameters_and_pytorchs_settings():
    """Conv1d and ConvTranspose1d compute the loops with their own weight and bias; sizes are
    kept as 1-tuples, the weights laid out (out, in, k) and (in, out, k)."""
    x = np.random.default_rng(2).standard_normal((2, 3, 11))
    conv = nn.Conv1d(3, 4, 3, stride=2, padding=1, dilation=2)
    assert (conv.kernel_size, conv.stride, conv.padding, conv.dilation) == ((3,), (2,), (1,), (2,))
    assert conv.weight.shape == (4, 3, 3) and conv.bias.shape == (4,)
    w, b = conv.weight.numpy().astype(np.float64), conv.bias.numpy().astype(np.float64)
    np.testing.assert_allclose(
        conv(tc.tensor(x)).numpy(), conv1d_loops(x, w, b, 2, (1, 1), 2), rtol=1e-5, atol=1e-6
    )
    up = nn.ConvTranspose1d(3, 2, 4, stride=2, padding=1, output_padding=1, bias=False)
    assert up.weight.shape == (3, 2, 4) and up.bias is None and up.output_padding == (1,)
    w = up.weight.numpy().astype(np.float64)
    want = conv_transpose1d_loops(x, w, None, 2, 1, 1, 1)
    np.testing.assert_allclose(up(tc.tensor(x)).numpy(), want, rtol=1e-5, atol=1e-6)
    same = nn.Conv1d(3, 2, 4, padding="same")
    assert same(tc.tensor(x)).shape == (2, 2, 11) and same._padding == (1,)


@pytest.mark.parametrize(
    "make", [lambda: nn.Conv1d(3, 4, 5, padding=2), lambda: nn.ConvTranspose1d(3, 4, 4, 2)]
)
def test_state_dict_round_trip(make, tmp_path):
    tc.manual_seed(1)
    a = make()
    tc.manual_seed(2)
    b = make()
    x = tc.tensor(np.random.default_rng(3).standard_normal((2, 3, 8)).astype(np.float32))
    assert not np.allclose(a(x).numpy(), b(x).numpy())
    assert list(a.state_dict()) == ["weight", "bias"]
    tc.save(a.state_dict(), tmp_path / "conv1d.npz")
    assert b.load_state_dict(tc.load(tmp_path / "conv1d.npz")) == ([], [])
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())


def test_exported_where_the_2d_ones_are():
    for name in ("conv1d", "conv_transpose1d"):
        assert name in tc.functional.__all__ and getattr(tc.nn.functional, name) is not None
    for name in ("Conv1d", "ConvTranspose1d"):
        assert name in nn.__all__ and isinstance(getattr(nn, name)(1, 1, 1), nn.Module)


# --------------------------------------------------------------------------- errors


def _t(*shape):
    return tc.Tensor(np.zeros(shape, np.float32))


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: conv1d(_t(2, 3, 8, 8), _t(4, 3, 3)),
            r"conv1d\(3->4, kernel 3\): expected a 3-D input \(N, C, L\), got shape "
            r"\(2, 3, 8, 8\)",
        ),
        (
            lambda: conv1d(_t(2, 3, 8), _t(4, 3, 3, 3)),
            r"conv1d: expected a 3-D weight \(out, in, k\), got shape \(4, 3, 3, 3\)",
        ),
        (
            lambda: conv1d(_t(8, 1, 16), _t(4, 3, 3)),
            r"conv1d\(3->4, kernel 3\): expected input with 3 channels, got \(8, 1, 16\)",
        ),
        (
            lambda: conv1d(_t(2, 3, 8), _t(4, 3, 3), _t(3)),
            r"expected a bias of shape \(4,\), got \(3,\)",
        ),
        (
            lambda: conv1d(_t(2, 3, 4), _t(4, 3, 3), dilation=2),
            r"input of length 4, padded to 4, is smaller than the kernel \(5 with dilation 2\)",
        ),
        (lambda: conv1d(_t(2, 3, 8), _t(4, 3, 3), stride=0), r"stride must be positive, got 0"),
        (
            lambda: conv1d(_t(2, 3, 8), _t(4, 3, 3), padding=-1),
            r"padding must be non-negative, got -1",
        ),
        (
            lambda: conv1d(_t(2, 3, 8), _t(4, 3, 3), padding=(1, 1)),
            r"padding must be an int or a 1-tuple of ints, got \(1, 1\)",
        ),
        (
            lambda: conv1d(_t(2, 3, 8), _t(4, 3, 3), stride=2, padding="same"),
            r"padding='same' needs stride 1, got 2",
        ),
        (
            lambda: conv1d(_t(2, 3, 8), _t(4, 3, 3), padding="full"),
            r"padding must be 'valid', 'same', an int or a 1-tuple, got 'full'",
        ),
        (
            lambda: conv1d(_t(2, 2, 8), _t(4, 2, 3), groups=2),
            r"conv1d\(4->4, kernel 3, groups 2\): expected input with 4 channels, got "
            r"\(2, 2, 8\)",
        ),
        (
            lambda: conv_transpose1d(_t(2, 3, 8), _t(3, 2, 3), groups=1.5),
            r"conv_transpose1d: groups must be a positive int, got 1.5",
        ),
        (
            lambda: conv_transpose1d(_t(2, 4, 8), _t(3, 5, 3)),
            r"conv_transpose1d\(3->5, kernel 3\): expected input with 3 channels, got \(2, 4, 8\)",
        ),
        (
            lambda: conv_transpose1d(_t(2, 3, 8), _t(3, 5, 3, 3)),
            r"conv_transpose1d: expected a 3-D weight \(in, out, k\), got shape \(3, 5, 3, 3\)",
        ),
        (
            lambda: conv_transpose1d(_t(2, 3, 8), _t(3, 5, 3), stride=2, output_padding=2),
            r"output_padding must be non-negative and smaller than either the stride or the "
            r"dilation, got output_padding 2 with stride 2 and dilation 1",
        ),
        (
            lambda: conv_transpose1d(_t(2, 3, 1), _t(3, 5, 1), padding=1),
            r"gives an empty output \(length -1\)",
        ),
    ],
)
def test_errors_name_what_was_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("op", [conv1d, conv_transpose1d])
def test_an_integer_input_is_refused_by_name(op):
    with pytest.raises(TypeError, match=r"expected a floating-point input .* got uint8"):
        op(tc.Tensor(np.zeros((1, 3, 8), np.uint8)), _t(3, 3, 3))


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: nn.Conv1d(3, 8, 3)(_t(2, 3, 9, 9)),
            r"Conv1d\(3->8\): expected a 3-D input \(N, C, L\), got shape \(2, 3, 9, 9\)",
        ),
        (  # a layer refuses one unbatched signal, as Conv2d refuses one (C, H, W) image
            lambda: nn.Conv1d(3, 8, 3)(_t(3, 9)),
            r"Conv1d\(3->8\): expected a 3-D input \(N, C, L\), got shape \(3, 9\)",
        ),
        (
            lambda: nn.Conv1d(3, 8, 3)(_t(2, 1, 9)),
            r"Conv1d\(3->8\): expected input with 3 channels, got \(2, 1, 9\)",
        ),
        (
            lambda: nn.Conv1d(1, 1, 3, dilation=2)(_t(1, 1, 4)),
            r"Conv1d\(1->1\): input \(1, 1, 4\) padded by 0 is smaller than the kernel of 3 "
            r"\(dilation 2\)",
        ),
        (
            lambda: nn.ConvTranspose1d(4, 2, 2)(_t(1, 2, 3)),
            r"ConvTranspose1d\(4->2\): expected input with 4 channels, got \(1, 2, 3\)",
        ),
        (lambda: nn.Conv1d(1, 1, (3, 3)), r"Conv1d: kernel_size must be an int or a 1-tuple"),
        (lambda: nn.Conv1d(1, 1, 3, stride=2, padding="same"), r"padding='same' needs stride 1"),
        (
            lambda: nn.Conv1d(1, 1, 3, padding="full"),
            r"Conv1d: padding must be an int, a 1-tuple, 'same' or 'valid', got 'full'",
        ),
        (lambda: nn.Conv1d(0, 1, 3), r"Conv1d: in_channels must be a positive whole number"),
        (
            lambda: nn.Conv1d(2, 3, 3, groups=2),
            r"Conv1d\(2->3\): out_channels=3 is not divisible by groups=2",
        ),
        (
            lambda: nn.ConvTranspose1d(1, 1, 3, stride=2, output_padding=2),
            r"ConvTranspose1d\(1->1\): output_padding \(2,\) must be smaller than stride \(2,\)",
        ),
        (
            lambda: nn.ConvTranspose1d(1, 1, 3, padding="same"),
            r"ConvTranspose1d\(1->1\): padding must be an int, not 'same'",
        ),
    ],
)
def test_layer_errors_name_the_layer(call, message):
    with pytest.raises(ValueError, match=message):
        call()
