"""Shape ops (reshape, transpose/permute, flatten, concat, stack, pad, indexing, device moves):
gradcheck over hypothesis shapes, forward against NumPy, forward + gradient against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, given_settings, shapes, tensor

import tinycolor as tc
from tinycolor import functional as F
from tinycolor.backend import to_numpy


def check(fn, a, expected, device, rtol=0.0):
    """fn(tensor(a)) equals ``expected`` (exactly, or within ``rtol`` where fn computes: CuPy's
    exp may differ from NumPy's in the last bit), and its gradient passes gradcheck."""
    x = tensor(a, device)
    out = fn(x)
    assert out.shape == expected.shape
    if rtol:
        np.testing.assert_allclose(out.numpy(), expected, rtol=rtol)
    else:
        np.testing.assert_array_equal(out.numpy(), expected)
    assert tc.gradcheck(fn, [x])


def against_torch(fn, torch_fn, a, device):
    torch = pytest.importorskip("torch")
    x = tc.Tensor(a, requires_grad=True, device=device)
    out = fn(x)
    v = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(v)
    tx = torch.tensor(a, requires_grad=True)
    tout = torch_fn(torch, tx)
    tout.backward(torch.tensor(v))
    np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12)


# --------------------------------------------------------------------------- reshape and friends


@given_settings
@given(shape=shapes(1, 4, 1, 4), data=st.data())
def test_reshape(device, shape, data):
    a = data.draw(arrays(shape))
    n = a.size
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    d = data.draw(st.sampled_from(divisors))
    new = data.draw(st.sampled_from([(d, n // d), (d, -1), (-1,), (n // d, 1, d)]))
    check(lambda t: t.reshape(new), a, a.reshape(new), device)


@given_settings
@given(shape=shapes(1, 4, 1, 4), data=st.data())
def test_transpose_and_permute(device, shape, data):
    a = data.draw(arrays(shape))
    perm = tuple(data.draw(st.permutations(range(a.ndim))))
    negative = tuple(p - a.ndim for p in perm)
    check(lambda t: t.permute(*perm), a, a.transpose(perm), device)
    check(lambda t: F.transpose(t, negative), a, a.transpose(perm), device)
    check(lambda t: t.T, a, a.T, device)
    # a non-contiguous view feeding another op
    check(lambda t: F.exp(t.transpose()) * 2, a, np.exp(a.T) * 2, device, rtol=1e-15)


@given_settings
@given(shape=shapes(0, 4, 1, 3), data=st.data())
def test_unsqueeze_and_squeeze(device, shape, data):
    """Against np.expand_dims / np.squeeze; squeeze(dim) of an axis longer than 1 keeps x,
    as torch.squeeze does."""
    a = data.draw(arrays(shape))
    d = data.draw(st.integers(-a.ndim - 1, a.ndim))
    check(lambda t: t.unsqueeze(d), a, np.expand_dims(a, d), device)
    ones = np.expand_dims(a, d)  # a length-1 axis to remove again
    check(lambda t: F.squeeze(t), ones, np.squeeze(ones), device)
    check(lambda t: t.squeeze(d), ones, a, device)
    if a.ndim:
        k = data.draw(st.integers(-a.ndim, a.ndim - 1))
        want = np.squeeze(a, k) if a.shape[k] == 1 else a
        check(lambda t: F.squeeze(t, dim=k), a, want, device)
        # a tuple of axes, as torch.squeeze(x, (0, 2)): those of length 1 removed
        axes = tuple(data.draw(st.sets(st.integers(-a.ndim, a.ndim - 1), max_size=a.ndim)))
        ones = tuple({k % a.ndim for k in axes if a.shape[k] == 1})
        check(lambda t: F.squeeze(t, axes), a, np.squeeze(a, ones) if ones else a, device)


@given_settings
@given(shape=shapes(0, 4, 1, 4), data=st.data())
def test_clone_copies_and_passes_the_gradient(device, shape, data):
    """A copy with memory of its own (changing it leaves x), the identity's gradient."""
    a = data.draw(arrays(shape))
    check(lambda t: t.clone(), a, a, device)
    x = tensor(a, device)
    y = F.clone(x)
    y.data[...] = 7.0
    np.testing.assert_array_equal(x.numpy(), a)


def test_unsqueeze_and_squeeze_refuse_an_axis_out_of_range():
    x = tc.zeros(2, 3)
    with pytest.raises(ValueError, match="unsqueeze: dim 3 is out of range .* -3 to 2"):
        x.unsqueeze(3)
    with pytest.raises(ValueError, match="squeeze: dim -3 is out of range"):
        x.squeeze(-3)


@given_settings
@given(shape=shapes(1, 4, 1, 4), data=st.data())
def test_flatten(device, shape, data):
    a = data.draw(arrays(shape))
    s = data.draw(st.integers(0, a.ndim - 1))
    e = data.draw(st.integers(s, a.ndim - 1))
    expected = a.reshape(a.shape[:s] + (-1,) + a.shape[e + 1 :])
    check(lambda t: t.flatten(s, e - a.ndim), a, expected, device)


@given_settings
@given(shape=shapes(1, 3, 1, 4), data=st.data())
def test_concat_and_stack(device, shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    parts = []
    for n in sizes:
        s = list(shape)
        s[axis] = n
        parts.append(data.draw(arrays(tuple(s))))
    ts = [tensor(p, device) for p in parts]
    out = F.concat(ts, axis=axis)
    np.testing.assert_array_equal(out.numpy(), np.concatenate(parts, axis=axis))
    assert tc.gradcheck(lambda *t: F.cat(t, axis=axis), ts)
    same = [data.draw(arrays(shape)) for _ in sizes]
    ts = [tensor(p, device) for p in same]
    new_axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    np.testing.assert_array_equal(F.stack(ts, new_axis).numpy(), np.stack(same, axis=new_axis))
    assert tc.gradcheck(lambda *t: F.stack(t, axis=new_axis), ts)


def test_reshape_permute_concat_stack_against_torch(device):
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    against_torch(lambda t: t.reshape(4, -1), lambda torch, t: t.reshape(4, -1), a, device)
    against_torch(lambda t: t.permute(2, 0, 1), lambda torch, t: t.permute(2, 0, 1), a, device)
    against_torch(lambda t: t.flatten(1), lambda torch, t: t.flatten(1), a, device)
    against_torch(
        lambda t: t.unsqueeze(1).squeeze(), lambda torch, t: t.unsqueeze(1).squeeze(), a, device
    )
    against_torch(lambda t: t.clone() * t, lambda torch, t: t.clone() * t, a, device)
    against_torch(
        lambda t: F.cat([t, t * 2, t[:, :1]], axis=1),
        lambda torch, t: torch.cat([t, t * 2, t[:, :1]], dim=1),
        a,
        device,
    )
    against_torch(
        lambda t: F.stack([t, t * 3], axis=-1),
        lambda torch, t: torch.stack([t, t * 3], dim=-1),
        a,
        device,
    )
    against_torch(  # PyTorch's own spelling, dim=
        lambda t: F.cat([t, t * 2], dim=-1) + F.concat([t, t], dim=-1),
        lambda torch, t: torch.cat([t, t * 2], dim=-1) + torch.cat([t, t], dim=-1),
        a,
        device,
    )
    against_torch(
        lambda t: F.stack([t, t * 3], dim=1),
        lambda torch, t: torch.stack([t, t * 3], dim=1),
        a,
        device,
    )
    with pytest.raises(TypeError, match="stack: got both axis=1 and dim=2"):
        F.stack([tc.Tensor(a)], 1, dim=2)


@given_settings
@given(shape=shapes(1, 4, 1, 4), data=st.data())
def test_transpose_of_two_axes_swaps_them_as_torch(device, shape, data):
    """t.transpose(dim0, dim1) is PyTorch's swap of two axes (a matrix's t.transpose(0, 1) is
    its transpose, not the identity permutation NumPy would read), forward and backward; a
    tuple is still a whole permutation."""
    a = data.draw(arrays(shape))
    d0, d1 = (data.draw(st.integers(-a.ndim, a.ndim - 1)) for _ in range(2))
    swapped = np.swapaxes(a, d0, d1)
    check(lambda t: t.transpose(d0, d1), a, swapped, device)
    check(lambda t: F.transpose(t, d0, d1), a, swapped, device)
    perm = tuple(data.draw(st.permutations(range(a.ndim))))
    check(lambda t: t.transpose(perm), a, a.transpose(perm), device)
    check(lambda t: t.permute(*perm), a, a.transpose(perm), device)


def test_transpose_against_torch(device):
    m = np.random.default_rng(0).standard_normal((2, 3))
    b = np.random.default_rng(1).standard_normal((2, 3, 4))
    against_torch(lambda t: t.transpose(0, 1), lambda torch, t: t.transpose(0, 1), m, device)
    against_torch(lambda t: t.transpose(-1, -2), lambda torch, t: t.transpose(-1, -2), b, device)
    against_torch(
        lambda t: F.transpose(t, 2, 0), lambda torch, t: torch.transpose(t, 2, 0), b, device
    )
    with pytest.raises(ValueError, match="axis 3 is out of range for 3 dimensions"):
        tc.Tensor(b).transpose(0, 3)
    with pytest.raises(TypeError, match="two axes to swap or axes=, not both"):
        F.transpose(tc.Tensor(b), 0, 1, axes=(1, 0, 2))
    # PyTorch's t.mT, the last two axes swapped (q @ k.mT): an AttributeError before
    against_torch(lambda t: t.mT, lambda torch, t: t.mT, b, device)
    check(lambda t: t.mT, b, np.swapaxes(b, -1, -2), device)
    with pytest.raises(ValueError, match=r"mT: expected at least 2 dims"):
        _ = tc.Tensor(np.ones(3)).mT


# --------------------------------------------------------------------------- padding


@st.composite
def _pad_case(draw, mode):
    shape = draw(shapes(1, 4, 2, 5))
    k = draw(st.integers(1, len(shape)))
    pad = []
    for n in reversed(shape[-k:]):  # PyTorch order: last axis first
        top = {"reflect": n - 1, "circular": n}.get(mode, 3)
        pad += [draw(st.integers(0, top)), draw(st.integers(0, top))]
    return shape, tuple(pad)


def _np_widths(ndim, pad):
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        widths[ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return widths


def loop_pad(a, widths, mode):
    """Each output position read from the input one index at a time: the definitions of
    replicate (clamp the index) and circular (the index modulo the size) padding."""
    out = np.empty([n + lo + hi for n, (lo, hi) in zip(a.shape, widths)])
    for idx in np.ndindex(*out.shape):
        src = []
        for i, n, (lo, _) in zip(idx, a.shape, widths):
            j = i - lo
            src.append(min(max(j, 0), n - 1) if mode == "replicate" else j % n)
        out[idx] = a[tuple(src)]
    return out


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@given_settings
@given(data=st.data())
def test_pad(device, mode, data):
    shape, pad = data.draw(_pad_case(mode))
    a = data.draw(arrays(shape))
    widths = _np_widths(len(shape), pad)
    if mode == "constant":
        expected = np.pad(a, widths, constant_values=0.5)
        check(lambda t: F.pad(t, pad, value=0.5), a, expected, device)
    elif mode == "reflect":
        check(lambda t: F.pad(t, pad, mode="reflect"), a, np.pad(a, widths, "reflect"), device)
    else:
        check(lambda t: F.pad(t, pad, mode=mode), a, loop_pad(a, widths, mode), device)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_against_torch(device, mode):
    a = np.random.default_rng(0).standard_normal((2, 3, 5, 6))
    pad = (2, 1, 4, 3)  # left 2, right 1, top 4, bottom 3
    against_torch(
        lambda t: F.pad(t, pad, mode=mode),
        lambda torch, t: torch.nn.functional.pad(t, pad, mode=mode),
        a,
        device,
    )


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_of_an_empty_batch_as_pytorch(device, mode):
    """N = 0: only the padded axes need room to reflect, an axis left as it is may be empty
    (nn.ReflectionPad2d and Conv2d(padding_mode='reflect') met an error on the last, empty
    batch of a loader); its gradient is empty too."""
    torch = pytest.importorskip("torch")
    pad = (2, 1, 1, 3)
    x = tc.Tensor(np.zeros((0, 3, 4, 5)), requires_grad=True, device=device)
    y = F.pad(x, pad, mode=mode)
    y.sum().backward()
    want = torch.nn.functional.pad(torch.zeros((0, 3, 4, 5)), pad, mode=mode)
    assert y.shape == tuple(want.shape) and x.grad.shape == x.shape
    assert tc.nn.ReflectionPad2d(1)(x).shape == (0, 3, 6, 7)
    conv = tc.nn.Conv2d(3, 2, 3, padding=1, padding_mode=mode if mode != "constant" else "zeros")
    assert conv.to(device=device, dtype=tc.float64)(x).shape == (0, 2, 4, 5)


def test_pad_errors():
    x = tc.Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="pairs"):
        F.pad(x, (1, 1, 1))
    with pytest.raises(ValueError, match="pairs"):
        F.pad(x, (1, 1) * 3)
    with pytest.raises(ValueError, match="non-negative"):
        F.pad(x, (1, -1))
    with pytest.raises(ValueError, match="mode"):
        F.pad(x, (1, 1), mode="wrap")
    with pytest.raises(
        ValueError,
        match=r"reflect padding \(3, 0\) of axis 1 must be smaller "
        r"than the size 3 of that axis of the input of shape \(2, 3\)",
    ):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(
        ValueError,
        match=r"circular padding \(0, 4\) of axis 1 must be at most "
        r"the size 3 .* \(2, 3\) \(it would wrap around more than once\)",
    ):
        F.pad(x, (0, 4), mode="circular")
    with pytest.raises(ValueError, match="replicate padding of axis 1 needs a value to repeat"):
        F.pad(tc.Tensor(np.ones((2, 0))), (1, 0), mode="replicate")


PAD_LAYERS = [
    ("ZeroPad2d", (), "constant"),
    ("ConstantPad2d", (0.5,), "constant"),
    ("ReflectionPad2d", (), "reflect"),
    ("ReplicationPad2d", (), "replicate"),
    ("CircularPad2d", (), "circular"),
]


@pytest.mark.parametrize("name, args, mode", PAD_LAYERS)
@pytest.mark.parametrize("padding", [2, (2, 0, 1, 3)])
def test_pad_layers(device, name, args, mode, padding):
    """PyTorch's padding layers: an int pads every side, a 4-tuple is (left, right, top,
    bottom); the same as F.pad (checked above against the definitions) and as PyTorch's."""
    a = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    layer = getattr(tc.nn, name)(padding, *args)
    pad = (padding,) * 4 if isinstance(padding, int) else padding
    assert layer.padding == pad and list(layer.state_dict()) == []
    value = args[0] if args else 0.0
    check(layer, a, np.asarray(F.pad(tc.Tensor(a), pad, mode, value).numpy()), device)
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn, name)(padding, *args)
    assert repr(layer) == repr(theirs)
    against_torch(layer, lambda torch, t: theirs(t), a, device)


def test_pad_layer_errors():
    with pytest.raises(
        ValueError,
        match=r"ZeroPad2d: padding must be an int or a 4-tuple of ints \(left, right, top, "
        r"bottom\), got \(1, 2, 3\)",
    ):
        tc.nn.ZeroPad2d((1, 2, 3))
    with pytest.raises(ValueError, match=r"ReflectionPad2d: padding must be non-negative"):
        tc.nn.ReflectionPad2d((1, -1, 0, 0))
    with pytest.raises(
        ValueError, match=r"ReflectionPad2d\(\(1, 1, 1, 1\)\): expected a 4-D input"
    ):
        tc.nn.ReflectionPad2d(1)(tc.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match=r"reflect padding \(4, 4\) of axis 2 must be smaller"):
        tc.nn.ReflectionPad2d(4)(tc.zeros((1, 1, 4, 4)))
    for name, _, _ in PAD_LAYERS:
        assert name in tc.nn.__all__


# --------------------------------------------------------------------------- pixel shuffle


def loop_pixel_shuffle(a, r):
    """The definition, one output pixel at a time: out[..., c, h r + i, w r + j] =
    a[..., c r^2 + i r + j, h, w]."""
    *lead, cr2, h, w = a.shape
    out = np.empty((*lead, cr2 // (r * r), h * r, w * r))
    for idx in np.ndindex(*out.shape):
        *n, c, y, x = idx
        out[idx] = a[(*n, c * r * r + (y % r) * r + x % r, y // r, x // r)]
    return out


@given_settings
@given(
    lead=st.lists(st.integers(1, 2), max_size=2).map(tuple),
    c=st.integers(1, 2),
    r=st.integers(1, 3),
    hw=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    data=st.data(),
)
def test_pixel_shuffle_and_unshuffle(device, lead, c, r, hw, data):
    """Both against the loop (unshuffle as its inverse), their gradients, and the round trip."""
    a = data.draw(arrays(lead + (c * r * r, *hw)))
    want = loop_pixel_shuffle(a, r)
    check(lambda t: F.pixel_shuffle(t, r), a, want, device)
    check(lambda t: F.pixel_unshuffle(t, r), want, a, device)
    x = tc.Tensor(a, device=device)
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(x, r), r).numpy(), a)


def test_pixel_shuffle_layers_against_torch(device):
    a = np.random.default_rng(0).standard_normal((2, 12, 3, 4))
    shuffle, unshuffle = tc.nn.PixelShuffle(2), tc.nn.PixelUnshuffle(2)
    assert repr(shuffle) == "PixelShuffle(upscale_factor=2)"
    assert repr(unshuffle) == "PixelUnshuffle(downscale_factor=2)"
    assert "PixelShuffle" in tc.nn.__all__ and "pixel_unshuffle" in F.__all__
    against_torch(shuffle, lambda torch, t: torch.nn.functional.pixel_shuffle(t, 2), a, device)
    b = np.random.default_rng(1).standard_normal((2, 3, 6, 9))
    against_torch(
        tc.nn.PixelUnshuffle(3),
        lambda torch, t: torch.nn.functional.pixel_unshuffle(t, 3),
        b,
        device,
    )


def test_pixel_shuffle_errors():
    with pytest.raises(
        ValueError,
        match=r"pixel_shuffle: expected an input of shape \(\*, C \* 4, H, W\), channels "
        r"divisible by upscale_factor\*\*2 = 4, got \(1, 3, 2, 2\)",
    ):
        F.pixel_shuffle(tc.zeros((1, 3, 2, 2)), 2)
    with pytest.raises(
        ValueError,
        match=r"pixel_unshuffle: expected an input of shape \(\*, C, H, W\) with H and W "
        r"divisible by downscale_factor = 2, got \(1, 3, 3, 2\)",
    ):
        F.pixel_unshuffle(tc.zeros((1, 3, 3, 2)), 2)
    with pytest.raises(ValueError, match="upscale_factor must be a positive int, got 0"):
        F.pixel_shuffle(tc.zeros((1, 4, 2, 2)), 0)
    with pytest.raises(ValueError, match=r"PixelShuffle\(2\): expected a 4-D input"):
        tc.nn.PixelShuffle(2)(tc.zeros((4, 2, 2)))
    with pytest.raises(ValueError, match="PixelUnshuffle: downscale_factor must be a positive"):
        tc.nn.PixelUnshuffle(1.5)


# --------------------------------------------------------------------------- indexing


@st.composite
def _basic_index(draw, shape):
    idx = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "all", "new"]))
        if kind == "int":
            idx.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            step = draw(st.sampled_from([1, 2, -1, -2]))
            start = draw(st.one_of(st.none(), st.integers(-n, n - 1)))
            idx.append(slice(start, None, step))
        elif kind == "new":
            idx += [None, slice(None)]
        else:
            idx.append(slice(None))
    if draw(st.booleans()) and len(idx) > 1:
        idx = [Ellipsis] + idx[-1:]
    return tuple(idx)


@given_settings
@given(shape=shapes(1, 3, 1, 4), data=st.data())
def test_getitem_basic(device, shape, data):
    a = data.draw(arrays(shape))
    idx = data.draw(_basic_index(shape))
    check(lambda t: t[idx], a, a[idx], device)


@given_settings
@given(shape=shapes(1, 3, 1, 4), data=st.data())
def test_getitem_advanced_with_repeats_and_masks(device, shape, data):
    a = data.draw(arrays(shape))
    n = shape[0]
    rows = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6)))
    check(lambda t: t[rows], a, a[rows], device)  # repeated rows add their gradients
    check(lambda t: t[rows, ...], a, a[rows, ...], device)
    mask = a > 0
    check(lambda t: t[mask], a, a[mask], device)
    tmask = tc.Tensor(mask, device=device)
    check(lambda t: t[tmask], a, a[mask], device)
    if a.ndim > 1:
        cols = np.array(data.draw(st.lists(st.integers(0, shape[1] - 1), min_size=1, max_size=4)))
        check(lambda t: t[:, cols], a, a[:, cols], device)
        # index tensors inside a tuple (rows x cols, broadcast), repeats included
        trows, tcols = tc.Tensor(rows[:, None], device=device), tc.Tensor(cols, device=device)
        check(lambda t: t[trows, tcols], a, a[rows[:, None], cols], device)


def test_getitem_against_torch(device):
    a = np.random.default_rng(0).standard_normal((4, 5, 3))
    rows = np.array([0, 2, 2, 3, 0])
    against_torch(lambda t: t[1:, ::2, -1], lambda torch, t: t[1:, ::2, -1], a, device)
    against_torch(lambda t: t[rows, 1:3], lambda torch, t: t[torch.tensor(rows), 1:3], a, device)
    mask = a[..., 0] > 0
    against_torch(lambda t: t[mask], lambda torch, t: t[torch.tensor(mask)], a, device)


# --------------------------------------------------------------------------- errors and devices


def test_shape_errors():
    x = tc.Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"cannot view shape \(2, 3\) as \(4, 2\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match="not a permutation"):
        x.permute(0, 0)
    with pytest.raises(ValueError, match="at least one tensor"):
        F.concat([])
    with pytest.raises(ValueError, match="at least one tensor"):
        F.stack([])


def test_to_same_device_is_identity(device):
    x = tc.Tensor([1.0, 2.0], device=device, requires_grad=True)
    assert x.to(device) is x
    assert x.to(device.upper()) is x
    with pytest.raises(tc.DeviceError, match="unknown device 'tpu'"):
        x.to("tpu")


def test_to_takes_a_dtype_as_pytorch_and_module_to_do(device):
    x = tc.Tensor([1.5, 2.0], device=device, requires_grad=True)
    for y in (x.to(np.float64), x.to(dtype=np.float64), x.to(device, np.float64)):
        assert y.dtype == np.float64 and y.device == device
        y.sum().backward()
    assert x.grad.dtype == np.float32 and to_numpy(x.grad).tolist() == [3.0, 3.0]
    assert x.to(np.float32) is x and x.to(device, "float32") is x
    np.testing.assert_array_equal(x.to(np.int64).numpy(), [1, 2])
    # the ImageNet example's x.to(device, non_blocking=True); copy=True always copies
    assert x.to(device, non_blocking=True) is x
    assert x.to(tc.device(device), np.float64, non_blocking=True).dtype == np.float64
    c = x.to(device, copy=True)
    assert c is not x and c.data is not x.data and c.requires_grad
    np.testing.assert_array_equal(c.numpy(), x.numpy())


@pytest.mark.gpu
def test_to_device_round_trip_carries_the_gradient(device):
    if device != "cuda":
        pytest.skip("needs a GPU: moves a tensor from cpu to cuda and back")
    x = tc.Tensor(np.arange(3.0), requires_grad=True, device="cpu")
    y = x.to("cuda")
    assert y.device == "cuda"
    (y * y).to("cpu").sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [0.0, 2.0, 4.0])


# --------------------------------------------------------------------------- flip, repeat, expand


@given_settings
@given(shape=shapes(1, 4, 1, 4), data=st.data())
def test_flip(device, shape, data):
    dims = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
    neg = [d - len(shape) if data.draw(st.booleans()) else d for d in dims]
    a = data.draw(arrays(shape))
    want = a.copy()
    for d in dims:  # one axis at a time, by indexing
        want = want[(slice(None),) * d + (slice(None, None, -1),)]
    check(lambda t: F.flip(t, tuple(neg)), a, want, device)
    check(lambda t: t.flip(*neg), a, want, device)
    x = tensor(a, device)
    out = tc.flip(x, neg)
    out.data[...] = 0  # a copy, not a view of x
    np.testing.assert_array_equal(x.numpy(), a)


@given_settings
@given(shape=shapes(0, 3, 1, 3), data=st.data())
def test_repeat(device, shape, data):
    extra = data.draw(st.integers(0, 2))
    reps = tuple(data.draw(st.integers(0, 3)) for _ in range(len(shape) + extra))
    a = data.draw(arrays(shape))
    check(lambda t: t.repeat(*reps), a, np.tile(a.reshape((1,) * extra + shape), reps), device)
    check(lambda t: F.repeat(t, reps), a, np.tile(a, reps), device)


@given_settings
@given(shape=shapes(1, 3, 1, 3), data=st.data())
def test_expand(device, shape, data):
    """Axes of length 1 grow, -1 keeps an axis, extra sizes are new leading axes; the gradient
    sums over every copy."""
    ones = [1 if data.draw(st.booleans()) else n for n in shape]
    extra = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
    sizes = extra + tuple(
        data.draw(st.integers(1, 3)) if n == 1 else data.draw(st.sampled_from([n, -1]))
        for n in ones
    )
    target = extra + tuple(n if s == -1 else s for n, s in zip(ones, sizes[len(extra) :]))
    a = data.draw(arrays(tuple(ones)))
    want = np.empty(target)
    for i in np.ndindex(*target):  # a loop: each output element reads a's element
        want[i] = a[tuple(0 if n == 1 else k for n, k in zip(ones, i[len(extra) :]))]
    check(lambda t: t.expand(*sizes), a, want, device)
    check(lambda t: F.expand(t, sizes), a, want, device)
    check(lambda t: t.expand_as(tc.zeros(target)), a, want, device)


def test_flip_repeat_expand_against_torch(device):
    a = np.random.default_rng(0).standard_normal((2, 1, 3))
    against_torch(lambda t: t.flip(0, 2), lambda torch, t: t.flip(0, 2), a, device)
    against_torch(lambda t: tc.flip(t, (1, -1)), lambda torch, t: torch.flip(t, (1, -1)), a, device)
    against_torch(lambda t: t.repeat(2, 1, 2, 3), lambda torch, t: t.repeat(2, 1, 2, 3), a, device)
    against_torch(
        lambda t: t.expand(4, -1, 5, 3), lambda torch, t: t.expand(4, -1, 5, 3), a, device
    )


def test_an_expanded_tensor_refuses_an_in_place_change(device):
    """Its elements share memory (stride 0): NumPy would refuse the write as read-only, CuPy
    would write through to the tensor it was expanded from. PyTorch refuses it; so does this."""
    x = tc.Tensor(np.ones((1, 4)), device=device)
    e = x.expand(3, 4)
    for change in (lambda: e.add_(1), lambda: e.fill_(0), lambda: e.copy_(np.zeros((3, 4)))):
        with pytest.raises(RuntimeError, match=r"add_|fill_|copy_ on a tensor \(3, 4\) whose"):
            change()
    np.testing.assert_array_equal(x.numpy(), np.ones((1, 4)))
    e.clone().add_(1)  # a copy of its own may change


def test_flip_repeat_expand_errors():
    x = tc.zeros((2, 1, 3))
    with pytest.raises(ValueError, match="flip: dim 3 is out of range for 3 dimensions"):
        x.flip(3)
    with pytest.raises(ValueError, match=r"flip: dims \(0, -3\) name an axis twice"):
        x.flip(0, -3)
    with pytest.raises(ValueError, match=r"repeat: expected at least 3 sizes.*got \(2, 2\)"):
        x.repeat(2, 2)
    with pytest.raises(ValueError, match=r"expand: cannot expand .* \(2, 1, 3\) to \(4, 1, 3\)"):
        x.expand(4, 1, 3)
    with pytest.raises(ValueError, match="-1 is not allowed for the new leading axis 0"):
        x.expand(-1, 2, 1, 3)


# --------------------------------------------------------------------------- split, chunk


@given_settings
@given(shape=shapes(1, 3, 0, 5), data=st.data())
def test_split_and_chunk(device, shape, data):
    """Pieces of one size (the last smaller), of listed sizes, or ``chunks`` of ceil(n /
    chunks); each piece a slice of x in the graph: its gradient lands in its own slice."""
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[dim]
    how = data.draw(st.sampled_from(["size", "sections", "chunk"]))
    if how == "size":
        arg = data.draw(st.integers(1, 6))
        sizes = [min(arg, n - i) for i in range(0, n, arg)] or [0]
    elif how == "sections":
        cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3)))
        sizes = [b - a for a, b in zip([0, *cuts], [*cuts, n])]
        arg = sizes
    else:
        arg = data.draw(st.integers(1, 6))
        step = max(-(-n // arg), 1)
        sizes = [min(step, n - i) for i in range(0, n, step)] or [0] * arg  # as torch.chunk
    a = data.draw(arrays(shape))
    want, start = [], 0
    for k in sizes:  # the pieces by slicing, one at a time
        want.append(np.take(a, range(start, start + k), axis=dim))
        start += k

    def pieces(t):
        return F.chunk(t, arg, dim) if how == "chunk" else F.split(t, arg, dim)

    x = tensor(a, device)
    got = pieces(x)
    method = x.chunk(arg, dim) if how == "chunk" else x.split(arg, dim)
    top = tc.chunk(x, arg, dim) if how == "chunk" else tc.split(x, arg, dim)
    assert isinstance(got, tuple) and len(got) == len(want) == len(method) == len(top)
    for p, m, q, w in zip(got, method, top, want):
        np.testing.assert_array_equal(p.numpy(), w)
        np.testing.assert_array_equal(m.numpy(), w)
        np.testing.assert_array_equal(q.numpy(), w)
    for i in range(len(want)):
        if want[i].size:
            assert tc.gradcheck(lambda t, i=i: pieces(t)[i] * (i + 1), [x])
    # every piece at once: each weight lands in its own slice
    x = tensor(a, device)
    F.cat([p * (i + 1) for i, p in enumerate(pieces(x))], dim).sum().backward()
    np.testing.assert_array_equal(
        to_numpy(x.grad),
        np.concatenate([np.full(w.shape, i + 1.0) for i, w in enumerate(want)], axis=dim),
    )


def test_split_and_chunk_against_torch(device):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((3, 7))
    for ours, theirs in (
        (lambda t: t.split(3, 1), lambda t: t.split(3, 1)),
        (lambda t: tc.split(t, [2, 0, 5], dim=1), lambda t: torch.split(t, [2, 0, 5], dim=1)),
        (lambda t: t.chunk(4, 1), lambda t: t.chunk(4, 1)),
        (lambda t: tc.chunk(t, 2), lambda t: torch.chunk(t, 2)),
    ):
        x = tc.Tensor(a, requires_grad=True, device=device)
        tx = torch.tensor(a, requires_grad=True)
        got, want = ours(x), theirs(tx)
        assert [p.shape for p in got] == [tuple(p.shape) for p in want]
        F.cat([p * (i + 1) for i, p in enumerate(got)], 1 if len(got) > 2 else 0).sum().backward()
        torch.cat(
            [p * (i + 1) for i, p in enumerate(want)], 1 if len(got) > 2 else 0
        ).sum().backward()
        for p, q in zip(got, want):
            np.testing.assert_array_equal(p.numpy(), q.detach().numpy())
        np.testing.assert_array_equal(to_numpy(x.grad), tx.grad.numpy())


def test_split_and_chunk_errors():
    x = tc.zeros((3, 4))
    with pytest.raises(ValueError, match=r"split: sections \[1, 1\] must be >= 0 and sum to the"):
        x.split([1, 1])
    with pytest.raises(ValueError, match="split: split_size must be a positive int, got 0"):
        x.split(0)
    with pytest.raises(ValueError, match="chunk: chunks must be a positive int, got 0"):
        x.chunk(0)
    with pytest.raises(ValueError, match="split: dim 2 is out of range for 2 dimensions"):
        x.split(1, 2)


# --------------------------------------------------------------------------- masked_fill


@given_settings
@given(shape=shapes(1, 3, 1, 4), data=st.data())
def test_masked_fill(device, shape, data):
    """``value`` where the mask (of x's shape or broadcasting to it) is True; the gradient
    reaches x where it is False, and a 0-D tensor value the sum where it is True."""
    mshape = tuple(n if data.draw(st.booleans()) else 1 for n in shape)
    mshape = mshape[data.draw(st.integers(0, len(mshape))) :]
    seed = data.draw(st.integers(0, 2**31 - 1))
    m = np.random.default_rng(seed).random(mshape) < 0.5
    value = data.draw(st.floats(-3, 3))
    a = data.draw(arrays(shape))
    want = a.copy()
    for i in np.ndindex(*shape):
        if m[tuple(k if n > 1 else 0 for k, n in zip(i[len(shape) - len(mshape) :], mshape))]:
            want[i] = value
    mask = tc.Tensor(m, device=device)
    check(lambda t: t.masked_fill(mask, value), a, want, device)
    check(lambda t: tc.masked_fill(t, m, value), a, want, device)  # an array mask
    x, v = tensor(a, device), tensor(np.array(value), device)
    np.testing.assert_array_equal(F.masked_fill(x, mask, v).numpy(), want)
    assert tc.gradcheck(lambda t, s: t.masked_fill(mask, s), [x, v])


def test_masked_fill_against_torch_and_its_errors(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, m = rng.standard_normal((2, 3, 4)), rng.random((3, 1)) < 0.5
    against_torch(
        lambda t: t.masked_fill(tc.Tensor(m, device=device), -1e9),
        lambda torch, t: t.masked_fill(torch.tensor(m), -1e9),
        a,
        device,
    )
    x = tc.Tensor(a, requires_grad=True, device=device)
    v = tc.Tensor(np.array(2.5), requires_grad=True, device=device)
    x.masked_fill(tc.Tensor(m, device=device), v).sum().backward()
    tx, tv = torch.tensor(a, requires_grad=True), torch.tensor(2.5, requires_grad=True)
    tx.masked_fill(torch.tensor(m), tv).sum().backward()
    np.testing.assert_array_equal(to_numpy(v.grad), tv.grad.numpy())
    with pytest.raises(TypeError, match="masked_fill: mask must be boolean, got dtype float64"):
        x.masked_fill(np.ones((3, 4)), 0.0)
    with pytest.raises(ValueError, match=r"mask of shape \(5, 2, 3, 4\) does not broadcast"):
        x.masked_fill(np.ones((5, 2, 3, 4), bool), 0.0)


def test_flatten_permute_and_cat_refuse_dims_out_of_range_as_pytorch():
    """flatten(5), flatten(2, 1) and permute(0, 1, 5) on 3 dims were taken modulo 3 (a shape
    came back, wrong or unchanged); cat along dim 2 of 2-D tensors was an IndexError with no
    words. PyTorch refuses each."""
    x = tc.ones((2, 3, 4))
    with pytest.raises(ValueError, match="flatten: dim 5 is out of range for 3 dimensions"):
        x.flatten(5)
    with pytest.raises(ValueError, match="flatten: start_dim 2 comes after end_dim 1"):
        x.flatten(2, 1)
    with pytest.raises(ValueError, match=r"permute: dim 5 is out of range for 3 dimensions"):
        x.permute(0, 1, 5)
    a = tc.ones((2, 3))
    with pytest.raises(ValueError, match="cat: dim 2 is out of range for 2 dimensions"):
        tc.cat([a, a], dim=2)
    assert x.flatten(1).shape == (2, 12) and x.flatten(-2, -1).shape == (2, 12)
    assert tc.cat([a, a], dim=-1).shape == (2, 6) and tc.Tensor(2.0).flatten().shape == (1,)
    torch = pytest.importorskip("torch")
    tx = torch.ones(2, 3, 4)
    for call in (lambda: tx.flatten(5), lambda: tx.permute(0, 1, 5)):
        with pytest.raises(IndexError, match="Dimension out of range"):
            call()
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        tx.flatten(2, 1)


def test_chunk_of_an_empty_dim_gives_chunks_pieces_as_pytorch():
    """chunk of an empty dim returned one piece: a, b, c = x.chunk(3) broke on an empty batch."""
    torch = pytest.importorskip("torch")
    for shape, chunks, dim in (((0,), 3, 0), ((3, 0), 2, 1), ((0, 2), 3, 0)):
        got = tc.chunk(tc.zeros(shape), chunks, dim)
        want = torch.chunk(torch.zeros(shape), chunks, dim)
        assert [p.shape for p in got] == [tuple(p.shape) for p in want]


def test_slices_and_whole_uses_of_one_tensor_add_up_without_touching_others_arrays(device):
    """Slices' gradients are added into one array of the tensor's shape (the engine's
    SliceGrad), in place once the pass owns that array: the sum must be right whatever comes
    first, a slice or a whole use, and no array another tensor, a hook or ``.grad`` holds may
    change under it. Against PyTorch, on a graph mixing all of these."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a0, b0, w0 = (
        rng.standard_normal((3, 4, 5)),
        rng.standard_normal((3, 4, 5)),
        rng.standard_normal((4, 5)),
    )
    seen = []

    def graph(lib, a, b, w, hooked):
        # whole and sliced uses of a and b before and after y = a + b, so that each kind of
        # gradient reaches them both before and after the one array Add hands to both
        early = (a * 3).sum() + b[:, 0].sum() + (a[1] * w).sum() + (b * 0.5).sum()
        y = a + b  # Add hands one array to both a and b: neither may be added into in place
        y.retain_grad()
        y.register_hook(lambda g: hooked.append(g) or None)  # a hook keeps what it was given
        parts = y.unbind(0)
        loss = (parts[0] * w).sum() + 2 * parts[2].sum() + (y[1:, ::2] ** 2).sum()
        loss = loss + (a[0, 1:3] * 3).sum() + (y * w).sum() + b.split(2, 1)[1].sum()
        first, *_ = a.chunk(2, 2)
        late = (b * 5).sum() + (a[:, :, 1] * 4).sum() + (a * b).sum()
        return loss + (first[:, :, None] * 0.5).sum() + early + late, y

    x = [tc.Tensor(v, requires_grad=True, device=device) for v in (a0, b0, w0)]
    loss, y = graph(tc, *x, seen)
    loss.backward()
    kept = [to_numpy(g).copy() for g in seen] + [to_numpy(y.grad).copy()]
    t = [torch.tensor(v, requires_grad=True) for v in (a0, b0, w0)]
    tloss, ty = graph(torch, *t, [])
    tloss.backward()
    np.testing.assert_allclose(float(to_numpy(loss.data)), tloss.item(), rtol=1e-12)
    for ours, theirs in zip(x, t):
        np.testing.assert_allclose(to_numpy(ours.grad), theirs.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(y.grad), ty.grad.numpy(), rtol=1e-12)
    # the arrays handed out during the pass are as they were when handed out
    np.testing.assert_array_equal(to_numpy(seen[0]), kept[0])
    np.testing.assert_array_equal(to_numpy(y.grad), kept[-1])
    # a second backward adds the same again (nothing of the first pass's arrays reused wrongly)
    before = [to_numpy(v.grad).copy() for v in x]
    graph(tc, *x, [])[0].backward()
    for v, g in zip(x, before):
        np.testing.assert_allclose(to_numpy(v.grad), 2 * g, rtol=1e-12)


@pytest.mark.parametrize("sliced", [False, True])
def test_the_array_add_hands_to_both_inputs_is_not_added_into(device, sliced):
    """y = a + b hands one array to a and b; what reaches a after it (a whole use, or a slice)
    must go into an array of a's own, or b's gradient changes with it (it did, in a draft)."""
    a, b = (tc.Tensor(np.ones(3), requires_grad=True, device=device) for _ in range(2))
    loss = ((a + b) * 2).sum()
    if sliced:
        loss = loss + a[0] * 3 + (b[1:] * 5).sum()
        want_a, want_b = [5.0, 2.0, 2.0], [2.0, 7.0, 7.0]
    else:
        loss = loss + (a * 3).sum() + (b * 5).sum()
        want_a, want_b = [5.0] * 3, [7.0] * 3
    loss.backward()
    np.testing.assert_array_equal(to_numpy(a.grad), want_a)
    np.testing.assert_array_equal(to_numpy(b.grad), want_b)


def test_unbind_backward_adds_into_one_array(device):
    """x.unbind(0) of n pieces: each piece's gradient lands in its slice of one array (the
    engine adds a slice's gradient where it belongs instead of a full-size zeros per piece)."""
    x = tc.Tensor(np.arange(24.0).reshape(4, 3, 2), requires_grad=True, device=device)
    loss = sum((p * (i + 1)).sum() for i, p in enumerate(x.unbind(0)))
    loss.backward()
    want = np.broadcast_to(np.arange(1.0, 5.0)[:, None, None], (4, 3, 2))
    np.testing.assert_array_equal(to_numpy(x.grad), want)
    # 0-d slices of a 1-d tensor, and a 0-d tensor indexed by () (a basic index too)
    v = tc.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True, device=device)
    s = tc.Tensor(np.array(2.0), requires_grad=True, device=device)
    (v[0] * v[1] + v[2] + v[2] + s[()] * s[()] + s).backward()
    np.testing.assert_array_equal(to_numpy(v.grad), [2.0, 1.0, 2.0])
    assert float(to_numpy(s.grad)) == 5.0
