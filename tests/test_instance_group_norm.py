"""Instance and group normalisation (pix2pix's and CycleGAN's generators, ESRGAN-style
colorizers): forward against a loop over images, channels and groups, gradcheck over
hypothesis-drawn shapes, running statistics against their definition, PyTorch as an oracle
(values, gradients, running statistics, state_dict keys), the layers and their errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import given_settings, tensor

import tinycolor as tc
from tinycolor import functional as F
from tinycolor import nn
from tinycolor.backend import to_numpy, xp_for


def loop_group_norm(x, groups, gamma, beta, eps=1e-5):
    """One image and one group of channels at a time: the mean and biased variance of its
    values, then the per-channel gamma and beta."""
    n, c = x.shape[:2]
    per = c // groups
    y = np.empty_like(x)
    for i in range(n):
        for g in range(groups):
            v = x[i, g * per : (g + 1) * per]
            mu = v.sum() / v.size
            var = ((v - mu) ** 2).sum() / v.size
            y[i, g * per : (g + 1) * per] = (v - mu) / np.sqrt(var + eps)
    for ch in range(c):
        if gamma is not None:
            y[:, ch] *= gamma[ch]
        if beta is not None:
            y[:, ch] += beta[ch]
    return y


@st.composite
def norm_shapes(draw, min_spatial=1):
    """(N, C, L), (N, C, H, W) or (N, C, D, H, W), more than one spatial value."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    spatial = tuple(draw(st.lists(st.integers(1, 4), min_size=min_spatial, max_size=3)))
    if np.prod(spatial) < 2:
        spatial = spatial[:-1] + (2,)
    return (n, c) + spatial


def _pick(params, affine):
    params = list(params)
    w = params.pop(0) if affine in ("both", "weight") else None
    b = params.pop(0) if affine in ("both", "bias") else None
    return w, b


@given_settings
@given(
    shape=norm_shapes(),
    affine=st.sampled_from(["both", "weight", "bias", "none"]),
    eps=st.sampled_from([1e-5, 1e-2]),
    seed=st.integers(0, 2**31 - 1),
)
def test_instance_norm_gradcheck_and_forward(device, shape, affine, eps, seed):
    rng = np.random.default_rng(seed)
    c = shape[1]
    a = rng.standard_normal(shape) * 2 + 1
    gamma = rng.uniform(0.5, 2, c) if affine in ("both", "weight") else None
    beta = rng.standard_normal(c) if affine in ("both", "bias") else None
    inputs = [tensor(a, device)] + [tensor(p, device) for p in (gamma, beta) if p is not None]

    def fn(x, *params):
        return F.instance_norm(x, None, None, *_pick(params, affine), eps=eps)

    y = fn(*inputs)
    assert y.shape == shape
    # instance norm is group norm with one channel a group
    want = loop_group_norm(a, c, gamma, beta, eps)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-10, atol=1e-10)
    assert tc.gradcheck(fn, inputs)


@given_settings
@given(
    shape=norm_shapes(min_spatial=0),
    affine=st.sampled_from(["both", "weight", "bias", "none"]),
    eps=st.sampled_from([1e-5, 1e-2]),
    data=st.data(),
    seed=st.integers(0, 2**31 - 1),
)
def test_group_norm_gradcheck_and_forward(device, shape, affine, eps, data, seed):
    n, c = shape[:2]
    c = c * 2  # room for groups of several channels
    shape = (n, c) + shape[2:]
    groups = data.draw(st.sampled_from([g for g in range(1, c + 1) if c % g == 0]))
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) * 2 + 1
    gamma = rng.uniform(0.5, 2, c) if affine in ("both", "weight") else None
    beta = rng.standard_normal(c) if affine in ("both", "bias") else None
    inputs = [tensor(a, device)] + [tensor(p, device) for p in (gamma, beta) if p is not None]

    def fn(x, *params):
        return F.group_norm(x, groups, *_pick(params, affine), eps)

    y = fn(*inputs)
    np.testing.assert_allclose(
        y.numpy(), loop_group_norm(a, groups, gamma, beta, eps), rtol=1e-10, atol=1e-10
    )
    assert tc.gradcheck(fn, inputs)


@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm_with_running_statistics(device, affine):
    """Training: each image's own statistics normalise, and the running ones move towards the
    batch mean of the per-image mean and unbiased variance; evaluation
    (use_input_stats=False): the running statistics normalise, a per-channel scale whose
    gradient also checks."""
    rng = np.random.default_rng(1)
    xp = xp_for(device)
    n, c, h, w = 3, 2, 4, 5
    rm0, rv0 = rng.standard_normal(c), rng.uniform(0.5, 2, c)
    rm, rv = xp.asarray(rm0.astype(np.float32)), xp.asarray(rv0.astype(np.float32))
    a = rng.standard_normal((n, c, h, w)) * 3 + 1
    gamma, beta = rng.uniform(0.5, 2, c), rng.standard_normal(c)
    params = (tensor(gamma, device), tensor(beta, device)) if affine else (None, None)
    y = F.instance_norm(tensor(a, device), rm, rv, *params, momentum=0.25)
    g, b = (gamma, beta) if affine else (None, None)
    np.testing.assert_allclose(y.numpy(), loop_group_norm(a, c, g, b), rtol=1e-10, atol=1e-10)
    mean = a.mean(axis=(2, 3)).mean(axis=0)
    var = a.var(axis=(2, 3), ddof=1).mean(axis=0)
    np.testing.assert_allclose(to_numpy(rm), 0.75 * rm0 + 0.25 * mean, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(to_numpy(rv), 0.75 * rv0 + 0.25 * var, rtol=1e-6)
    assert rm.dtype == np.float32 and rv.dtype == np.float32

    stats = (xp.asarray(rm0), xp.asarray(rv0))

    def fn(x, *ps):
        return F.instance_norm(x, *stats, *(ps if affine else (None, None)), False)

    inputs = [tensor(a, device)] + ([tensor(gamma, device), tensor(beta, device)] if affine else [])
    want = (a - rm0.reshape(1, c, 1, 1)) / np.sqrt(rv0.reshape(1, c, 1, 1) + 1e-5)
    if affine:
        want = want * gamma.reshape(1, c, 1, 1) + beta.reshape(1, c, 1, 1)
    np.testing.assert_allclose(fn(*inputs).numpy(), want, rtol=1e-10, atol=1e-10)
    assert tc.gradcheck(fn, inputs)
    np.testing.assert_array_equal(to_numpy(stats[0]), rm0)  # evaluation moves nothing


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 4, 6), (2, 2, 2, 3, 2)])
def test_instance_norm_matches_pytorch(device, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    c = shape[1]
    xp = xp_for(device)
    w0, b0 = rng.uniform(0.5, 2, c), rng.standard_normal(c)
    rm, rv = xp.zeros(c), xp.ones(c)
    trm, trv = torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64)
    for step in range(3):
        a, g = rng.standard_normal(shape) * (1 + step) + step, rng.standard_normal(shape)
        x, w, b = (tc.Tensor(v, requires_grad=True, device=device) for v in (a, w0, b0))
        y = F.instance_norm(x, rm, rv, w, b, True, 0.3)
        y.backward(tc.Tensor(g, device=device))
        tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (a, w0, b0))
        ty = torch.nn.functional.instance_norm(tx, trm, trv, tw, tb, True, 0.3)
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
        for ours, theirs in ((x, tx), (w, tw), (b, tb)):
            np.testing.assert_allclose(
                to_numpy(ours.grad), theirs.grad.numpy(), rtol=1e-10, atol=1e-12
            )
        np.testing.assert_allclose(to_numpy(rm), trm.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(to_numpy(rv), trv.numpy(), rtol=1e-12, atol=1e-14)
    a = rng.standard_normal(shape)
    y = F.instance_norm(tc.Tensor(a, device=device), rm, rv, use_input_stats=False)
    ty = torch.nn.functional.instance_norm(torch.tensor(a), trm, trv, use_input_stats=False)
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape, groups", [((2, 6, 4, 5), 3), ((3, 4), 2), ((2, 4, 7), 1)])
def test_group_norm_matches_pytorch(device, shape, groups):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    c = shape[1]
    a, g = rng.standard_normal(shape) * 2 + 1, rng.standard_normal(shape)
    w0, b0 = rng.uniform(0.5, 2, c), rng.standard_normal(c)
    for dtype, rtol in ((np.float64, 1e-10), (np.float32, 1e-4)):
        x, w, b = (
            tc.Tensor(v.astype(dtype), requires_grad=True, device=device) for v in (a, w0, b0)
        )
        y = F.group_norm(x, groups, w, b, 1e-3)
        y.backward(tc.Tensor(g.astype(dtype), device=device))
        tx, tw, tb = (torch.tensor(v.astype(dtype), requires_grad=True) for v in (a, w0, b0))
        ty = torch.nn.functional.group_norm(tx, groups, tw, tb, 1e-3)
        ty.backward(torch.tensor(g.astype(dtype)))
        assert y.dtype == dtype and x.grad.dtype == dtype and w.grad.dtype == dtype
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=rtol, atol=1e-5)
        for ours, theirs in ((x, tx), (w, tw), (b, tb)):
            np.testing.assert_allclose(
                to_numpy(ours.grad), theirs.grad.numpy(), rtol=rtol, atol=1e-5
            )


# --------------------------------------------------------------------------- the layers


def test_instance_norm2d_defaults_and_modes(device):
    m = nn.InstanceNorm2d(3)
    assert m.weight is None and m.bias is None and m.running_mean is None
    assert list(m.state_dict()) == []
    assert repr(m) == (
        "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)"
    )
    a = np.random.default_rng(0).standard_normal((2, 3, 4, 4)) * 5 + 2
    x = tc.Tensor(a, device=device)
    want = loop_group_norm(a, 3, None, None)
    np.testing.assert_allclose(m(x).numpy(), want, rtol=1e-10, atol=1e-10)
    m.eval()  # no running statistics: evaluation normalises by the input's own
    np.testing.assert_allclose(m(x).numpy(), want, rtol=1e-10, atol=1e-10)

    t = nn.InstanceNorm2d(3, affine=True, track_running_stats=True).to(device)
    t(x)
    np.testing.assert_allclose(
        to_numpy(t.running_mean.data), 0.1 * a.mean(axis=(2, 3)).mean(axis=0), rtol=1e-5
    )
    assert int(t.num_batches_tracked.data) == 0  # as PyTorch, InstanceNorm does not count
    t.eval()
    rm, rv = to_numpy(t.running_mean.data), to_numpy(t.running_var.data)
    want = (a - rm.reshape(1, 3, 1, 1)) / np.sqrt(rv.reshape(1, 3, 1, 1) + 1e-5)
    np.testing.assert_allclose(t(x).numpy(), want, rtol=1e-5, atol=1e-5)


def test_group_norm_layer_defaults(device):
    m = nn.GroupNorm(2, 6).to(device)
    assert repr(m) == "GroupNorm(2, 6, eps=1e-05, affine=True, bias=True)"
    assert list(m.state_dict()) == ["weight", "bias"]
    np.testing.assert_array_equal(to_numpy(m.weight.data), np.ones(6, np.float32))
    a = np.random.default_rng(0).standard_normal((2, 6, 3, 3)).astype(np.float32)
    y = m(tc.Tensor(a, device=device))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), loop_group_norm(a, 2, None, None), rtol=1e-4, atol=1e-5)
    assert nn.GroupNorm(3, 3, affine=False).weight is None
    assert list(nn.GroupNorm(3, 3, bias=False).state_dict()) == ["weight"]


def test_layers_load_pytorch_state_dicts(device):
    """A PyTorch state_dict maps key for key: running statistics and counters included."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    for ours, theirs in (
        (nn.InstanceNorm2d(4, affine=True, track_running_stats=True),
         torch.nn.InstanceNorm2d(4, affine=True, track_running_stats=True)),
        (nn.InstanceNorm2d(4), torch.nn.InstanceNorm2d(4)),
        (nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)),
        (nn.GroupNorm(2, 4, bias=False), torch.nn.GroupNorm(2, 4, bias=False)),
    ):  # fmt: skip
        a = rng.standard_normal((2, 4, 5, 5)).astype(np.float32)
        with torch.no_grad():
            for p in theirs.parameters():
                p.copy_(torch.tensor(rng.uniform(0.5, 2, p.shape).astype(np.float32)))
            theirs(torch.tensor(a))  # moves the running statistics, if any
        theirs.eval()
        state = {k: v.numpy() for k, v in theirs.state_dict().items()}
        assert list(ours.state_dict()) == list(state)
        assert ours.load_state_dict(state) == ([], [])
        ours.to(device).eval()
        b = rng.standard_normal((3, 4, 5, 5)).astype(np.float32)
        with torch.no_grad():
            want = theirs(torch.tensor(b)).numpy()
        np.testing.assert_allclose(ours(tc.Tensor(b, device=device)).numpy(), want, atol=1e-5)


def test_instance_norm2d_other_channel_count_warns_as_pytorch():
    with pytest.warns(UserWarning, match=r"InstanceNorm2d\(3\): input of shape \(1, 2, 3, 3\)"):
        nn.InstanceNorm2d(3)(tc.zeros((1, 2, 3, 3)))


def test_exported_where_the_other_norms_are():
    for name in ("instance_norm", "group_norm"):
        assert name in tc.functional.__all__ and getattr(tc.nn.functional, name) is not None
    for name in ("InstanceNorm2d", "GroupNorm"):
        assert name in nn.__all__


EMPTY_BATCH_NORMS = {
    "group_norm": (lambda f, nn, x: f.group_norm(x, 3), (0, 6, 4, 4)),
    "group_norm (N, C)": (lambda f, nn, x: f.group_norm(x, 2), (0, 6)),
    "instance_norm": (lambda f, nn, x: f.instance_norm(x), (0, 6, 5)),
    "GroupNorm": (lambda f, nn, x: nn.GroupNorm(3, 6).double().to(x.device)(x), (0, 6, 4, 4)),
    "InstanceNorm2d": (lambda f, nn, x: nn.InstanceNorm2d(6)(x), (0, 6, 4, 4)),
}


@pytest.mark.parametrize("name", sorted(EMPTY_BATCH_NORMS))
def test_an_empty_batch_normalises_to_an_empty_output_as_pytorch(device, name):
    """N = 0 (the last, empty batch of a loader): an empty output and gradient, as PyTorch's,
    not a reshape error from the (1, N*G, -1) view these norms run as."""
    torch = pytest.importorskip("torch")
    norm, shape = EMPTY_BATCH_NORMS[name]
    x = tc.Tensor(np.zeros(shape), requires_grad=True, device=device)
    y = norm(F, nn, x)
    y.sum().backward()
    ty = norm(torch.nn.functional, torch.nn, torch.zeros(shape, dtype=torch.float64))
    assert y.shape == tuple(ty.shape) and x.grad.shape == shape and y.device == device


def test_empty_batch_gives_zero_gradients_to_weight_and_bias_and_leaves_running_stats(device):
    """GroupNorm's weight and bias get PyTorch's zero gradients from an empty batch; the
    running statistics of instance_norm stay as they were (PyTorch fails there with an
    IndexError, so the rule is batch norm's: nothing to average, nothing moves)."""
    torch = pytest.importorskip("torch")
    m = nn.GroupNorm(3, 6).to(device=device, dtype=tc.float64)
    tm = torch.nn.GroupNorm(3, 6).double()
    m(tc.Tensor(np.zeros((0, 6, 2, 2)), device=device)).sum().backward()
    tm(torch.zeros((0, 6, 2, 2), dtype=torch.float64)).sum().backward()
    for ours, theirs in ((m.weight, tm.weight), (m.bias, tm.bias)):
        np.testing.assert_array_equal(to_numpy(ours.grad), theirs.grad.numpy())
    xp = xp_for(device)
    rm, rv = xp.asarray([0.5, -1.0, 2.0]), xp.asarray([2.0, 3.0, 0.5])
    w = tc.Tensor(np.ones(3), requires_grad=True, device=device)
    y = F.instance_norm(tc.Tensor(np.zeros((0, 3, 4)), device=device), rm, rv, w, momentum=0.5)
    y.sum().backward()
    assert y.shape == (0, 3, 4) and to_numpy(w.grad).tolist() == [0.0, 0.0, 0.0]
    assert to_numpy(rm).tolist() == [0.5, -1.0, 2.0] and to_numpy(rv).tolist() == [2.0, 3.0, 0.5]
    m = nn.InstanceNorm2d(3, affine=True, track_running_stats=True).to(device=device)
    assert m(tc.Tensor(np.zeros((0, 3, 4, 4), np.float32), device=device)).shape == (0, 3, 4, 4)
    assert to_numpy(m.running_mean.data).tolist() == [0.0] * 3


def _t(*shape):
    return tc.Tensor(np.zeros(shape))


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: F.instance_norm(_t(2, 3)),
            r"instance_norm: expected an input of shape \(N, C, L\), \(N, C, H, W\) or "
            r"\(N, C, D, H, W\), got \(2, 3\)",
        ),
        (
            lambda: F.instance_norm(_t(2, 3, 1, 1)),
            r"instance_norm: expected more than 1 spatial element when training, got input of "
            r"shape \(2, 3, 1, 1\)",
        ),
        (
            lambda: F.instance_norm(_t(2, 3, 4), use_input_stats=False),
            r"instance_norm: running_mean and running_var are needed when use_input_stats=False",
        ),
        (
            lambda: F.instance_norm(_t(2, 3, 4), np.zeros(2), np.ones(3)),
            r"instance_norm: running_mean must have shape \(3,\).*\(2, 3, 4\), got \(2,\)",
        ),
        (
            lambda: F.instance_norm(_t(2, 3, 4), weight=_t(4)),
            r"instance_norm: weight must have shape \(3,\)",
        ),
        (
            lambda: F.group_norm(_t(2, 3, 4), 2),
            r"group_norm: expected the number of channels of the input to be divisible by "
            r"num_groups, got input of shape \(2, 3, 4\) and num_groups=2",
        ),
        (
            lambda: F.group_norm(_t(2, 4, 4), 2, bias=_t(2)),
            r"group_norm: bias must have shape \(4,\)",
        ),
        (
            lambda: F.group_norm(_t(4), 1),
            r"group_norm: expected an input of shape \(N, C\) or \(N, C, \.\.\.\), got \(4,\)",
        ),
        (
            lambda: nn.GroupNorm(4, 6),
            r"GroupNorm: num_channels must be divisible by num_groups, got num_channels=6 and "
            r"num_groups=4",
        ),
        (
            lambda: nn.GroupNorm(2, 4)(_t(2, 6, 3, 3)),
            r"GroupNorm\(2, 4\): expected input with 4 channels, got \(2, 6, 3, 3\)",
        ),
        (
            lambda: nn.InstanceNorm2d(3)(_t(3, 4, 4)),
            r"InstanceNorm2d\(3\): expected a 4-D input \(N, C, H, W\), got shape \(3, 4, 4\)",
        ),
        (
            lambda: nn.InstanceNorm2d(3, affine=True)(_t(1, 2, 4, 4)),
            r"InstanceNorm2d\(3\): expected input with 3 channels, got \(1, 2, 4, 4\)",
        ),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
