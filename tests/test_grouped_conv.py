"""Grouped convolutions, ``groups`` > 1 (ResNeXt's grouped layers, MobileNet's depthwise ones):
conv2d, conv_transpose2d, conv1d and conv_transpose1d against the loops of test_conv and
test_conv1d run group by group, and against PyTorch; float64 gradient checks over drawn
shapes (groups 2 and 3, and depthwise, with strides, paddings and dilations); the layers'
weights, init bounds, reprs and errors.

groups=1 goes through its own code (test_conv, test_conv1d); groups > 1 through the grouped
Functions, whose chunks of images are drawn small too (one image a chunk) so that the loop
over chunks is checked.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import tensor
from test_conv import _noncontiguous, conv2d_loops, conv_transpose2d_loops
from test_conv1d import conv1d_loops, conv_transpose1d_loops

import tinycolor as tc
from tinycolor import nn
from tinycolor.functional import conv as conv_module
from tinycolor.functional import conv1d, conv2d, conv_transpose1d, conv_transpose2d

SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]

OPS = {
    "conv2d": (conv2d, False, 2),
    "conv_transpose2d": (conv_transpose2d, True, 2),
    "conv1d": (conv1d, False, 1),
    "conv_transpose1d": (conv_transpose1d, True, 1),
}


# --------------------------------------------------------------------------- the oracle


def grouped_loops(name, x, w, b, groups, **geometry):
    """The definition of groups: the ungrouped loops on each group's channels of x and its
    slice of w's first axis (its filters, or its inputs for a transposed weight), the
    groups' outputs side by side along the channels."""
    loops = {
        "conv2d": conv2d_loops,
        "conv_transpose2d": conv_transpose2d_loops,
        "conv1d": conv1d_loops,
        "conv_transpose1d": conv_transpose1d_loops,
    }[name]
    cg, wg = x.shape[1] // groups, w.shape[0] // groups
    out = np.concatenate(
        [
            loops(x[:, i * cg : (i + 1) * cg], w[i * wg : (i + 1) * wg], None, **geometry)
            for i in range(groups)
        ],
        axis=1,
    )
    return out if b is None else out + b.reshape(1, -1, *(1,) * (x.ndim - 2))


# --------------------------------------------------------------------------- drawing cases


@contextlib.contextmanager
def chunks(small, routes=True):
    """One image a chunk on the grouped path (``small``), or the default chunks; with
    ``routes`` False every case through the batched product (no depthwise or by-group
    route, see ``conv._grouped_route``)."""
    saved = conv_module._GROUPED_CHUNK_BYTES, conv_module._DEPTHWISE_CHUNK_BYTES
    saved_routes = conv_module._GROUPED_ROUTES
    if small:
        conv_module._GROUPED_CHUNK_BYTES = conv_module._DEPTHWISE_CHUNK_BYTES = 1
    conv_module._GROUPED_ROUTES = routes
    try:
        yield
    finally:
        conv_module._GROUPED_CHUNK_BYTES, conv_module._DEPTHWISE_CHUNK_BYTES = saved
        conv_module._GROUPED_ROUTES = saved_routes


@st.composite
def grouped_cases(draw, name, max_extra=3, route=None):
    """(x, w, b, kwargs, want, small_chunks) for one grouped call of op ``name``: groups 2 or
    3 of 1 or 2 channels each, or depthwise (one channel a group, 1 or 2 outputs each).
    ``route`` "depthwise" draws only stride-1 depthwise cases of one output a group,
    "depthwise strided" those with a stride (only their input gradient goes depthwise), "by group"
    only stride-1 cases of 4 or 5 groups of 2 or 3 channels and outputs a group
    (``conv._grouped_route``)."""
    _, transposed, dims = OPS[name]
    if route in ("depthwise", "depthwise strided"):
        groups, cg, og = draw(st.integers(2, 4)), 1, 1
    elif route == "by group":  # the forward pass by group needs 4 groups
        groups, cg, og = draw(st.integers(4, 5)), draw(st.integers(2, 3)), draw(st.integers(2, 3))
    elif draw(st.booleans()):  # depthwise: groups == in_channels
        groups, cg, og = draw(st.integers(2, 4)), 1, draw(st.integers(1, 2))
    else:
        groups, cg, og = draw(st.integers(2, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = [draw(st.integers(1, 3)) for _ in range(dims)]
    if route == "depthwise strided":  # a stride of 2 or 3 along one axis at least
        s = [draw(st.integers(1, 3)) for _ in range(dims)]
        s[draw(st.integers(0, dims - 1))] = draw(st.integers(2, 3))
    elif route is not None or draw(st.booleans()):
        s = [1] * dims
    else:
        s = [draw(st.integers(1, 3)) for _ in range(dims)]
    p = [draw(st.integers(0, 2)) for _ in range(dims)]
    d = [draw(st.integers(1, 2)) for _ in range(dims)]
    if transposed:
        op = [draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d)]
        smallest = [
            next(n for n in range(1, 50) if (n - 1) * si - 2 * pi + di * (ki - 1) + opi >= 0)
            for ki, si, pi, di, opi in zip(k, s, p, d, op)
        ]
    else:
        smallest = [max(1, di * (ki - 1) + 1 - 2 * pi) for ki, pi, di in zip(k, p, d)]
    sizes = [n + draw(st.integers(0, max_extra)) for n in smallest]
    n = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    x = rng.standard_normal((n, groups * cg, *sizes))
    w = rng.standard_normal((groups * cg, og, *k) if transposed else (groups * og, cg, *k))
    b = rng.standard_normal(groups * og) if draw(st.booleans()) else None
    if draw(st.booleans()):
        x = _noncontiguous(x)

    def arg(v):
        return v[0] if dims == 1 else tuple(v)

    kwargs = dict(stride=arg(s), padding=arg(p), dilation=arg(d), groups=groups)
    if transposed:
        kwargs["output_padding"] = arg(op)
    if dims == 1:
        geometry = dict(stride=s[0], dilation=d[0])
        geometry["padding"] = p[0] if transposed else (p[0], p[0])
    else:
        geometry = dict(stride=tuple(s), padding=tuple(p), dilation=tuple(d))
    if transposed:
        geometry["output_padding"] = kwargs["output_padding"]
    want = grouped_loops(name, x, w, b, groups, **geometry)
    return x, w, b, kwargs, want, draw(st.booleans())


def _call(name, args, kwargs):
    return OPS[name][0](args[0], args[1], args[2] if len(args) > 2 else None, **kwargs)


# --------------------------------------------------------------------------- forward, gradients


@pytest.mark.parametrize("name", list(OPS))
@settings(suppress_health_check=SUPPRESS)
@given(data=st.data())
def test_forward_is_the_loops_group_by_group(device, name, data):
    x, w, b, kwargs, want, small = data.draw(grouped_cases(name))
    args = [tensor(a, device, requires_grad=False) for a in (x, w) + (() if b is None else (b,))]
    with chunks(small):
        y = _call(name, args, kwargs)
    assert y.shape == want.shape and y.device == device and y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", list(OPS))
@settings(suppress_health_check=SUPPRESS)
@given(data=st.data())
def test_gradcheck(device, name, data):
    x, w, b, kwargs, _, small = data.draw(grouped_cases(name, max_extra=2))
    inputs = [tensor(a, device) for a in (x, w) + (() if b is None else (b,))]
    with chunks(small):
        assert tc.gradcheck(lambda *t: _call(name, t, kwargs), inputs)


@pytest.mark.parametrize("name", list(OPS))
@settings(suppress_health_check=SUPPRESS)
@given(data=st.data())
def test_matches_torch_forward_and_gradients(device, name, data):
    torch = pytest.importorskip("torch")
    _check_against_torch(torch, name, data.draw(grouped_cases(name)), device)


def _check_against_torch(torch, name, case, device, after_ours=None):
    """The op ``name`` on a ``grouped_cases`` draw, forward and backward on ``device``, equals
    torch.nn.functional's (output and every input's gradient, float64); ``after_ours`` is
    called once ours has run (to look at what it did)."""
    x, w, b, kwargs, _, small = case
    arrays = (x, w) + (() if b is None else (b,))
    ours = [tensor(a, device) for a in arrays]
    refs = [torch.tensor(a, requires_grad=True) for a in arrays]
    with chunks(small):
        y = _call(name, ours, kwargs)
        g = np.random.default_rng(0).standard_normal(y.shape)
        y.backward(g)
    if after_ours is not None:
        after_ours()
    fn = getattr(torch.nn.functional, name)
    y_ref = fn(refs[0], refs[1], refs[2] if b is not None else None, **kwargs)
    y_ref.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), y_ref.detach().numpy(), rtol=1e-10, atol=1e-10)
    for mine, ref in zip(ours, refs):
        np.testing.assert_allclose(
            tc.backend.to_numpy(mine.grad), ref.grad.numpy(), rtol=1e-10, atol=1e-10
        )


ROUTES = ["depthwise", "depthwise strided", "by group"]


@pytest.fixture
def routes_taken(monkeypatch):
    """The routes ``conv._grouped_route`` chose, in order (a test clears it per example)."""
    taken = []

    def spy(*args, **kwargs):
        taken.append(route(*args, **kwargs))
        return taken[-1]

    route = conv_module._grouped_route
    monkeypatch.setattr(conv_module, "_grouped_route", spy)
    return taken


def _expected_routes(device, route):
    """The routes of a forward and backward pass: with a stride, a depthwise layer's input
    gradient only goes depthwise; by group on the CPU only, on the GPU those cases go through
    the batched product."""
    if route == "depthwise strided":
        return {"depthwise", "batched"}
    return {route if device == "cpu" or route == "depthwise" else "batched"}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("name", list(OPS))
@settings(suppress_health_check=SUPPRESS, max_examples=30)
@given(data=st.data())
def test_routes_match_the_loops_and_the_batched_product(device, name, route, data, routes_taken):
    """The depthwise layers (kh kw shifted multiply-adds; with a stride the input gradient
    only) and those of several channels a group with stride 1 (group by group through the
    groups=1 path): forward against the loops,
    and forward and gradients against the batched product (routes off), to float rounding."""
    x, w, b, kwargs, want, small = data.draw(grouped_cases(name, route=route))
    routes_taken.clear()  # the fixture outlives hypothesis's examples
    arrays = (x, w) + (() if b is None else (b,))
    results = []
    for routes in (True, False):
        ts = [tensor(a, device) for a in arrays]
        with chunks(small, routes):
            y = _call(name, ts, kwargs)
            y.backward(np.random.default_rng(0).standard_normal(y.shape))
        results.append([y.numpy()] + [tc.backend.to_numpy(t.grad) for t in ts])
        if routes:
            assert set(routes_taken) == _expected_routes(device, route), routes_taken
    np.testing.assert_allclose(results[0][0], want, rtol=1e-10, atol=1e-10)
    for mine, batched in zip(*results):
        np.testing.assert_allclose(mine, batched, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("name", list(OPS))
@settings(suppress_health_check=SUPPRESS, max_examples=30)
@given(data=st.data())
def test_routes_gradcheck(device, name, route, data, routes_taken):
    x, w, b, kwargs, _, small = data.draw(grouped_cases(name, max_extra=2, route=route))
    routes_taken.clear()  # the fixture outlives hypothesis's examples
    inputs = [tensor(a, device) for a in (x, w) + (() if b is None else (b,))]
    with chunks(small):
        assert tc.gradcheck(lambda *t: _call(name, t, kwargs), inputs)
    assert set(routes_taken) == _expected_routes(device, route), routes_taken


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("name", list(OPS))
@settings(suppress_health_check=SUPPRESS, max_examples=30)
@given(data=st.data())
def test_routes_match_torch(device, name, route, data, routes_taken):
    torch = pytest.importorskip("torch")
    case = data.draw(grouped_cases(name, route=route))
    routes_taken.clear()  # the fixture outlives hypothesis's examples

    def took_the_route():
        assert set(routes_taken) == _expected_routes(device, route), routes_taken

    _check_against_torch(torch, name, case, device, after_ours=took_the_route)


def test_depthwise_transposed_output_padding_crops_the_gradient(device, routes_taken):
    """A stride-1, dilation-2 depthwise transposed layer with output_padding 1: the
    convolution it is the input gradient of has bottom/right padding -1, which crops the
    last row and column of its input; their gradient is zero, the rest the loops'."""
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((3, 1, 3, 2))
    kwargs = dict(stride=1, padding=0, output_padding=1, dilation=2, groups=3)
    y = conv_transpose2d(tensor(x, device, requires_grad=False), tensor(w, device), **kwargs)
    geometry = dict(stride=(1, 1), padding=(0, 0), dilation=(2, 2), output_padding=(1, 1))
    want = grouped_loops("conv_transpose2d", x, w, None, 3, **geometry)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-10, atol=1e-10)
    xt = tensor(x, device)
    assert tc.gradcheck(lambda a: conv_transpose2d(a, tensor(w, device), **kwargs), [xt])
    assert set(routes_taken) == {"depthwise"}


@pytest.mark.parametrize("name", list(OPS))
def test_positional_groups_in_pytorchs_place(device, name):
    """groups is conv2d's 7th argument, after dilation, but conv_transpose2d's 7th, before
    dilation, as in PyTorch; the top-level aliases take it too. Only the bias needs a
    gradient here, and the empty batch goes through."""
    fn, transposed, dims = OPS[name]
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 4, *(5,) * dims))
    w = rng.standard_normal((4, 3, *(2,) * dims) if transposed else (6, 2, *(2,) * dims))
    b = tensor(rng.standard_normal(6), device)
    geometry = dict(stride=2, padding=1, dilation=2)
    if transposed:
        geometry["output_padding"] = 1
        positional = (2, 1, 1, 2, 2)  # stride, padding, output_padding, groups, dilation
    else:
        positional = (2, 1, 2, 2)  # stride, padding, dilation, groups
    xt, wt = tensor(x, device, requires_grad=False), tensor(w, device, requires_grad=False)
    y = getattr(tc, name)(xt, wt, b, *positional)
    geometry = _loop_geometry(geometry, dims, transposed)
    want = grouped_loops(name, x, w, tc.backend.to_numpy(b.data), 2, **geometry)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-10, atol=1e-10)
    y.backward(np.ones(y.shape))
    np.testing.assert_allclose(tc.backend.to_numpy(b.grad), np.full(6, y[:, 0].numpy().size))
    empty = tensor(np.zeros((0, *x.shape[1:])), device)
    z = fn(empty, tensor(w, device), None, *positional)
    assert z.shape == (0, *y.shape[1:])
    z.sum().backward()


def _loop_geometry(geometry, dims, transposed):
    """The loops' geometry arguments for the ops' ``geometry`` of ints."""
    s, p, d = geometry["stride"], geometry["padding"], geometry["dilation"]
    if dims == 1:
        out = dict(stride=s, padding=p if transposed else (p, p), dilation=d)
    else:
        out = dict(stride=(s, s), padding=(p, p), dilation=(d, d))
    if transposed:
        op = geometry["output_padding"]
        out["output_padding"] = op if dims == 1 else (op, op)
    return out


def test_float32_depthwise_separable_block_matches_torch(device):
    """MobileNet's block: a 3x3 depthwise layer (groups = channels), then a 1x1 layer; float32
    in, float32 out and gradients, a grouped transposed layer after them."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 8, 12, 12), dtype=np.float32)
    depthwise = rng.standard_normal((16, 1, 3, 3), dtype=np.float32) * 0.3
    pointwise = rng.standard_normal((12, 16, 1, 1), dtype=np.float32) * 0.3
    up = rng.standard_normal((12, 2, 4, 4), dtype=np.float32) * 0.3
    arrays = (x, depthwise, pointwise, up)
    ours = [tc.Tensor(a, requires_grad=True, device=device) for a in arrays]
    refs = [torch.tensor(a, requires_grad=True) for a in arrays]
    for (xx, dw, pw, uw), lib in ((ours, tc), (refs, torch)):
        y = lib.conv2d(xx, dw, None, 2, 1, 1, 8)
        y = lib.conv2d(y, pw)
        z = lib.conv_transpose2d(y, uw, None, 2, 1, 0, 3)
        z.sum().backward()
        if lib is tc:
            z_ours = z
        else:
            z_ref = z
    assert z_ours.dtype == np.float32 and z_ours.shape == tuple(z_ref.shape) == (3, 6, 12, 12)
    np.testing.assert_allclose(z_ours.numpy(), z_ref.detach().numpy(), rtol=1e-4, atol=1e-4)
    for mine, ref in zip(ours, refs):
        assert mine.grad.dtype == np.float32
        scale = float(ref.grad.abs().max())
        np.testing.assert_allclose(
            tc.backend.to_numpy(mine.grad), ref.grad.numpy(), rtol=1e-4, atol=1e-5 * scale
        )


# --------------------------------------------------------------------------- layers


LAYERS = {
    "conv2d-grouped": (lambda m: m.Conv2d(6, 4, 3, 1, 1, 1, 2), (2, 6, 7, 7)),
    "conv2d-depthwise": (lambda m: m.Conv2d(4, 8, 3, stride=2, padding=1, groups=4), (2, 4, 7, 6)),
    "conv2d-reflect": (
        lambda m: m.Conv2d(6, 6, 3, padding=1, groups=3, padding_mode="reflect"),
        (2, 6, 5, 5),
    ),  # fmt: skip
    "conv-transpose2d": (lambda m: m.ConvTranspose2d(6, 4, 4, 2, 1, 0, 2, False, 1), (2, 6, 4, 5)),
    "conv1d": (lambda m: m.Conv1d(6, 9, 3, padding="same", groups=3), (2, 6, 8)),
    "conv-transpose1d": (lambda m: m.ConvTranspose1d(4, 4, 3, 2, groups=4), (2, 4, 6)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_grouped_layers_are_pytorchs(name):
    """The weight (out, in / groups, k...) or transposed (in, out / groups, k...), the repr,
    and with PyTorch's state dict loaded, the outputs and every gradient."""
    make, shape = LAYERS[name]
    layer = make(nn)
    transposed = isinstance(layer, nn.ConvTranspose2d | nn.ConvTranspose1d)
    g = layer.groups
    want = (
        (layer.in_channels, layer.out_channels // g)
        if transposed
        else (layer.out_channels, layer.in_channels // g)
    )
    assert layer.weight.shape == (*want, *layer.kernel_size) and g > 1
    x = tc.tensor(np.random.default_rng(1).standard_normal(shape).astype(np.float32))
    assert layer(x).shape[1] == layer.out_channels
    torch = pytest.importorskip("torch")
    ref = make(torch.nn)
    assert repr(layer) == repr(ref) and ref.groups == g
    layer.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    xt = tc.tensor(x.numpy(), requires_grad=True)
    rx = torch.tensor(x.numpy(), requires_grad=True)
    y, ry = layer(xt), ref(rx)
    np.testing.assert_allclose(y.numpy(), ry.detach().numpy(), rtol=1e-4, atol=1e-5)
    cot = np.random.default_rng(2).standard_normal(y.shape).astype(np.float32)
    y.backward(cot)
    ry.backward(torch.from_numpy(cot))
    np.testing.assert_allclose(xt.grad, rx.grad.numpy(), rtol=1e-4, atol=1e-5)
    refs = dict(ref.named_parameters())
    for key, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad, refs[key].grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "make, fan_in",
    [
        (lambda m: m.Conv2d(64, 64, 3, groups=64), 9),  # depthwise: one channel a filter
        (lambda m: m.Conv2d(64, 128, 3, groups=4), 16 * 9),
        (lambda m: m.Conv1d(48, 48, 5, groups=16), 3 * 5),
        (lambda m: m.ConvTranspose2d(32, 64, 4, groups=8), 8 * 16),  # from shape[1]: out / g
        (lambda m: m.ConvTranspose1d(64, 32, 4, groups=4), 8 * 4),
    ],
)
def test_grouped_init_bound_takes_the_channels_of_one_group(make, fan_in):
    """PyTorch's U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in from the weight's shape[1], the
    channels of one group: the samples fill that bound (a fan_in of all the channels would
    keep them within a bound sqrt(groups) times smaller)."""
    layer = make(nn)
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.8 * bound


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: nn.Conv2d(6, 4, 3, groups=4),
            r"Conv2d\(6->4\): in_channels=6 is not divisible "
            r"by groups=4",
        ),  # fmt: skip
        (
            lambda: nn.Conv2d(4, 6, 3, groups=4),
            r"Conv2d\(4->6\): out_channels=6 is not divisible "
            r"by groups=4",
        ),  # fmt: skip
        (
            lambda: nn.ConvTranspose2d(4, 3, 3, groups=2),
            r"ConvTranspose2d\(4->3\): out_channels=3 is not divisible by groups=2",
        ),
        (lambda: nn.Conv2d(4, 4, 3, groups=0), r"Conv2d\(4->4\): groups must be a positive int"),
        (lambda: nn.Conv1d(4, 4, 3, groups=2.0), r"Conv1d\(4->4\): groups must be a positive int"),
        (
            lambda: nn.Conv2d(4, 8, 3, groups=4)(tc.zeros((1, 1, 5, 5))),
            r"Conv2d\(4->8\): expected input with 4 channels, got \(1, 1, 5, 5\)",
        ),
    ],
)
def test_grouped_layer_errors_name_the_numbers(call, message):
    with pytest.raises(ValueError, match=message):
        call()
