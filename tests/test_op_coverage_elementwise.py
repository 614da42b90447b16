"""Options of the elementwise ops that test_elementwise.py leaves at one value: clip with only
an upper bound and with array bounds (broadcasting). Gradcheck over hypothesis-drawn shapes,
forward against NumPy, no PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import arrays, broadcastable_pair, tensor

import tinycolor as tc
from tinycolor import functional as F

given_settings = settings(
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ]
)


def _off(a, bound, margin=0.05):
    """a with the values within ``margin`` of ``bound`` (elementwise, broadcast) moved 2 margins
    away, so that central differences never straddle a clip's kink."""
    bound = np.broadcast_to(bound, np.broadcast_shapes(np.shape(a), np.shape(bound)))
    a = np.broadcast_to(a, bound.shape).copy()
    close = np.abs(a - bound) < margin
    a[close] = bound[close] + np.where(a[close] >= bound[close], 2, -2) * margin
    return a


@st.composite
def _bound(draw, shape, lo, hi):
    kind = draw(st.sampled_from(["array", "number", "none"]))
    if kind == "none":
        return None
    if kind == "number":
        return draw(st.floats(lo, hi))
    return draw(arrays(shape, lo, hi))


@pytest.mark.parametrize("larger_bounds", [False, True], ids=["bounds-fit", "bounds-larger"])
@given_settings
@given(data=st.data())
def test_clip_bounds_gradcheck_and_forward(device, larger_bounds, data):
    """Each bound None, a number or an array: of the input's shape or broadcasting to it, or
    (``larger_bounds``) of a larger shape that the output takes, as in np.clip and
    torch.clamp."""
    big, small = data.draw(broadcastable_pair())
    a_shape = small if larger_bounds else big
    lo = data.draw(_bound(big if larger_bounds else small, -1.5, -0.2))
    hi = data.draw(_bound(data.draw(st.sampled_from([big, small])), 0.2, 1.5))
    if lo is None and hi is None:
        hi = 0.5
    if larger_bounds:  # strictly between every lo and hi: the kinks are far
        a = data.draw(arrays(a_shape, -0.15, 0.15))
    else:
        a = data.draw(arrays(a_shape))
        for b in (lo, hi):
            if b is not None:
                a = _off(a, b)
    x = tensor(a, device)
    out = F.clip(x, lo, hi)
    want = np.clip(a, -np.inf if lo is None else lo, np.inf if hi is None else hi)
    assert out.shape == want.shape
    np.testing.assert_array_equal(out.numpy(), want)
    assert tc.gradcheck(lambda t: F.clip(t, lo, hi), [x])
    assert tc.gradcheck(lambda t: t.clip(lo, hi), [x])  # the method
