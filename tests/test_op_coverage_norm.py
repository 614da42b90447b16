"""batch_norm beyond test_norm.py's (N, C) and small (N, C, H, W) cases: (N, C, L) (what
BatchNorm1d passes on), 5-D inputs, rows of 64 values and more per (n, c) (where the channel
sums go through BLAS rather than einsum) and eps other than the default. Gradcheck over
hypothesis-drawn cases, forward and running statistics against the definition, no PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import given_settings, tensor

import tinycolor as tc
from tinycolor import functional as F
from tinycolor.backend import to_numpy, xp_for


@st.composite
def bn_inputs(draw):
    """(N, C, L), (N, C, H, W) with 64 to 80 values a row, or (N, C, D, H, W)."""
    layout = draw(st.sampled_from(["ncl", "long_rows", "ncdhw"]))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    if layout == "ncl":
        shape = (n, c, draw(st.integers(1, 5)))
    elif layout == "long_rows":
        shape = (n, c, 8, draw(st.integers(8, 10)))
    else:
        shape = (n, c) + tuple(draw(st.integers(1, 3)) for _ in range(3))
    if shape[0] * np.prod(shape[2:]) < 2:  # training needs two values per channel
        shape = (2,) + shape[1:]
    return shape


@pytest.mark.parametrize("training", [True, False])
@given_settings
@given(
    shape=bn_inputs(),
    affine=st.sampled_from(["both", "weight", "bias", "none"]),
    eps=st.sampled_from([1e-5, 1e-2, 0.5]),
    seed=st.integers(0, 2**16),
)
# a running mean that the update leaves near 0 (1.3e-6): 0.9 rm0 and 0.1 mean nearly cancel
@example(shape=(1, 2, 1, 2, 3), affine="weight", eps=1e-5, seed=2588)
def test_batch_norm_gradcheck_and_forward_other_layouts(device, training, shape, affine, eps, seed):
    rng = np.random.default_rng(seed)
    c = shape[1]
    axes = (0, *range(2, len(shape)))
    bshape = (1, c) + (1,) * (len(shape) - 2)
    a = rng.standard_normal(shape) * 2 + 1
    gamma = rng.uniform(0.5, 2, c) if affine in ("both", "weight") else None
    beta = rng.standard_normal(c) if affine in ("both", "bias") else None
    rm0, rv0 = rng.standard_normal(c), rng.uniform(0.5, 2, c)
    xp = xp_for(device)
    inputs = [tensor(a, device)] + [tensor(p, device) for p in (gamma, beta) if p is not None]

    def fn(x, *params, stats=(None, None)):
        params = list(params)
        w = params.pop(0) if gamma is not None else None
        b = params.pop(0) if beta is not None else None
        if not training:
            stats = (xp.asarray(rm0), xp.asarray(rv0))
        return F.batch_norm(x, *stats, w, b, training=training, eps=eps)

    # the definition, written out per channel
    mean, var = (a.mean(axis=axes), a.var(axis=axes)) if training else (rm0, rv0)
    want = (a - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + eps)
    want = want * (1 if gamma is None else gamma.reshape(bshape))
    want = want + (0 if beta is None else beta.reshape(bshape))
    rm, rv = xp.asarray(rm0.copy()), xp.asarray(rv0.copy())
    y = fn(*inputs, stats=(rm, rv))
    assert y.shape == shape
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-10, atol=1e-10)
    if training:  # moved by momentum 0.1 towards the batch's mean and unbiased variance
        m = a.size // c
        # to within the rounding of the two terms, which may cancel: then rtol alone fails
        terms = np.abs(0.9 * rm0) + np.abs(0.1 * mean)
        np.testing.assert_allclose(
            to_numpy(rm), 0.9 * rm0 + 0.1 * mean, rtol=1e-12, atol=1e-12 * terms.max()
        )
        np.testing.assert_allclose(to_numpy(rv), 0.9 * rv0 + 0.1 * var * m / (m - 1), rtol=1e-12)
    else:
        np.testing.assert_array_equal(to_numpy(rm), rm0)
        np.testing.assert_array_equal(to_numpy(rv), rv0)
    assert tc.gradcheck(fn, inputs)
