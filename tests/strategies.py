"""Hypothesis strategies shared by the op tests."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinycolor as tc

#: The settings of the op tests' @given: their fixtures (the device) are function-scoped, and
#: gradchecks of drawn arrays may be slow or large.
given_settings = settings(
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ]
)


def shapes(min_dims=1, max_dims=4, min_side=1, max_side=5):
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


@st.composite
def arrays(draw, shape, lo=-2.0, hi=2.0, away_from=None, margin=1e-2):
    """float64 arrays with values in [lo, hi], optionally kept ``margin`` away from the kink
    points in ``away_from`` (e.g. 0 for relu and abs), so that central differences are valid."""
    seed = draw(st.integers(0, 2**31 - 1))
    a = np.random.default_rng(seed).uniform(lo, hi, size=shape)
    for k in away_from or ():
        close = np.abs(a - k) < margin
        a[close] = k + np.where(a[close] >= k, margin, -margin) * 2
    return a


def tensor(a, device="cpu", requires_grad=True):
    """A float64 tensor on ``device`` for gradient checks."""
    return tc.Tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad, device=device)


@st.composite
def broadcastable_pair(draw, max_dims=3):
    """Two shapes that broadcast together, one possibly with fewer or size-1 axes."""
    shape = draw(shapes(1, max_dims, 1, 4))
    other = list(shape)
    for i in range(len(other)):
        if draw(st.booleans()):
            other[i] = 1
    drop = draw(st.integers(0, len(other) - 1))
    return tuple(shape), tuple(other[drop:])


# --------------------------------------------------------------------------- unary ops' checks


def check_unary_forward_and_gradient(op, ref, x):
    """``op(x)`` (x a float64 tensor) equals the NumPy formula ``ref`` and passes gradcheck."""
    a = tc.backend.to_numpy(x.data)
    out = op(x)
    assert out.shape == a.shape and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), ref(a), rtol=1e-12, atol=1e-14)
    assert tc.gradcheck(op, [x])


def check_unary_against_torch(torch, op, torch_op, lo, hi, device="cpu", kinks=()):
    """``op`` and ``torch_op(tx)`` agree in value and input gradient, in float64 and float32
    (float32 staying float32), on values drawn in [lo, hi), nudged off the ``kinks``."""
    a = np.random.default_rng(1).uniform(lo, hi, size=(3, 4, 5))
    for k in kinks:
        a[np.abs(a - k) < 0.02] = k + 0.05
    v = np.random.default_rng(2).standard_normal(a.shape)
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        x = tc.Tensor(a.astype(dtype), requires_grad=True, device=device)
        out = op(x)
        out.backward(v.astype(dtype))
        assert out.dtype == dtype and x.grad.dtype == dtype, "float32 in must stay float32"
        tx = torch.tensor(a.astype(dtype), requires_grad=True)
        tout = torch_op(tx)
        tout.backward(torch.tensor(v.astype(dtype)))
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=rtol, atol=1e-6)
        grad = tc.backend.to_numpy(x.grad)
        np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=rtol, atol=1e-6)
