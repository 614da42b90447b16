"""conv2d's string paddings ('same', 'valid') and one unbatched (C, H, W) image, for conv2d and
conv_transpose2d: gradcheck over hypothesis-drawn cases and a loop oracle, neither needing
PyTorch (test_conv.py draws int/pair paddings only, and checks these against PyTorch).

'same' with an even dilated kernel pads one more row (column) at the bottom (right) than at the
top (left): the only place an asymmetric positive padding reaches the conv code. Each case
also draws the column path (flat stride-1 columns or sliding windows) and enough output
channels (up to 4 times the inputs) to reach the folded stride-1 input gradient.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import tensor
from test_conv import code_path, conv2d_loops, conv_transpose2d_loops

import tinycolor as tc
from tinycolor.functional import conv2d, conv_transpose2d

SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]


@st.composite
def string_padding_cases(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    padding = draw(st.sampled_from(["same", "valid"]))
    if padding == "same":
        h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    else:  # the input must hold the dilated kernel
        h = dh * (kh - 1) + 1 + draw(st.integers(0, 3))
        w = dw * (kw - 1) + 1 + draw(st.integers(0, 3))
    n, cin = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    cout = draw(st.integers(1, 4 * cin))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    x = rng.standard_normal((n, cin, h, w))
    weight = rng.standard_normal((cout, cin, kh, kw))
    bias = rng.standard_normal(cout) if draw(st.booleans()) else None
    return x, weight, bias, padding, (dh, dw), draw(st.booleans())


@settings(suppress_health_check=SUPPRESS)
@given(case=string_padding_cases())
def test_string_padding_gradcheck_and_loop_forward(device, case):
    x, w, b, padding, dilation, flat = case
    if padding == "same":  # PyTorch's rule: an odd total puts the extra one at the end
        th, tw = dilation[0] * (w.shape[2] - 1), dilation[1] * (w.shape[3] - 1)
        pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    else:
        pads = (0, 0, 0, 0)
    inputs = [tensor(x, device), tensor(w, device)] + ([] if b is None else [tensor(b, device)])

    def fn(*t):
        return conv2d(t[0], t[1], t[2] if len(t) > 2 else None, padding=padding, dilation=dilation)

    with code_path(flat=flat):
        y = fn(*inputs)
        want = conv2d_loops(x, w, b, (1, 1), pads, dilation)
        assert y.shape == want.shape
        if padding == "same":
            assert y.shape[2:] == x.shape[2:]
        np.testing.assert_allclose(y.numpy(), want, rtol=1e-10, atol=1e-10)
        assert tc.gradcheck(fn, inputs)


@st.composite
def unbatched_cases(draw, transposed):
    k = draw(st.integers(1, 3))
    s, p, d = draw(st.integers(1, 2)), draw(st.integers(0, 1)), draw(st.integers(1, 2))
    cin, cout = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    if transposed:  # output_padding below the stride or the dilation; a non-empty output
        op = draw(st.integers(0, max(s, d) - 1))
        h, w = (next(n for n in range(1, 9) if (n - 1) * s + d * (k - 1) + op >= 2 * p),) * 2
        w_shape = (cin, cout, k, k)
    else:  # the padded input must hold the dilated kernel
        op = 0
        h = w = max(1, d * (k - 1) + 1 - 2 * p)
        w_shape = (cout, cin, k, k)
    h, w = h + draw(st.integers(0, 3)), w + draw(st.integers(0, 3))
    return rng.standard_normal((cin, h, w)), rng.standard_normal(w_shape), s, p, d, op


@pytest.mark.parametrize("transposed", [False, True], ids=["conv2d", "conv_transpose2d"])
@settings(suppress_health_check=SUPPRESS)
@given(data=st.data())
def test_unbatched_image_gradcheck_and_loop_forward(device, transposed, data):
    """One (C, H, W) image, as PyTorch accepts: the output has no batch axis, and the values
    and gradients are those of the same image as a batch of one."""
    x, w, s, p, d, op = data.draw(unbatched_cases(transposed))
    if transposed:

        def fn(a, b):
            return conv_transpose2d(a, b, stride=s, padding=p, output_padding=op, dilation=d)

        want = conv_transpose2d_loops(x[None], w, None, (s, s), (p, p), (op, op), (d, d))[0]
    else:

        def fn(a, b):
            return conv2d(a, b, stride=s, padding=p, dilation=d)

        want = conv2d_loops(x[None], w, None, (s, s), (p, p, p, p), (d, d))[0]
    inputs = [tensor(x, device), tensor(w, device)]
    y = fn(*inputs)
    assert y.shape == want.shape
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-10, atol=1e-10)
    assert tc.gradcheck(fn, inputs)
