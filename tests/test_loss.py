"""Losses: gradcheck over hypothesis shapes (class indices, spatial maps, soft targets, class
weights, every reduction), forward against naive loops, forward + gradient against PyTorch,
stability for logits of 1e4, and the validation messages."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, given_settings, tensor

import tinycolor as tc
from tinycolor import functional as F
from tinycolor.backend import to_numpy

REDUCTIONS = ["mean", "sum", "none"]


# --------------------------------------------------------------------------- references


def ref_cross_entropy(x, t, axis=1, weight=None, reduction="mean"):
    """A slow, obviously-correct loop: one log-sum-exp per element."""
    xm = np.moveaxis(x, axis, -1)
    q = xm.shape[-1]
    rows = xm.reshape(-1, q)
    soft = np.issubdtype(t.dtype, np.floating)
    targets = np.moveaxis(t, axis, -1).reshape(-1, q) if soft else t.reshape(-1)
    w = np.ones(q) if weight is None else weight
    losses, used = [], []
    for row, tgt in zip(rows, targets):
        m = max(row)
        lse = m + math.log(sum(math.exp(v - m) for v in row))
        if soft:
            losses.append(-sum(w[c] * tgt[c] * (row[c] - lse) for c in range(q)))
            used.append(1.0)
        else:
            losses.append(-w[tgt] * (row[tgt] - lse))
            used.append(w[tgt])
    losses = np.array(losses)
    if reduction == "none":
        return losses.reshape(xm.shape[:-1])
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / sum(used)


def _softplus(z):
    return np.logaddexp(0, z)


def ref_bce(x, t, weight=None, pos_weight=None, reduction="mean"):
    pw = 1.0 if pos_weight is None else pos_weight
    loss = pw * t * _softplus(-x) + (1 - t) * _softplus(x)
    if weight is not None:
        loss = loss * weight
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](loss)


# --------------------------------------------------------------------------- cross-entropy


@st.composite
def ce_case(draw, soft):
    """Logits (N, Q, *spatial) with class axis 1, or (N, *spatial, Q) with class axis -1, or a
    single example (Q,); a target of indices or probabilities; maybe class weights."""
    n, q = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    spatial = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    layout = draw(st.sampled_from(["first", "last", "single"]))
    if layout == "single":
        shape, axis = (q,), 1  # cross_entropy reads axis 1 of a 1-D input as its only axis
    elif layout == "first":
        shape, axis = (n, q) + spatial, 1
    else:
        shape, axis = (n,) + spatial + (q,), -1
    x = draw(arrays(shape, -3, 3))
    ax = 0 if layout == "single" else axis % len(shape)
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    if soft:
        t = rng.dirichlet(np.ones(q), size=shape[:ax] + shape[ax + 1 :])
        t = np.moveaxis(t, -1, ax)
    else:
        t = rng.integers(0, q, size=shape[:ax] + shape[ax + 1 :])
    weight = rng.uniform(0.2, 2.0, size=q) if draw(st.booleans()) else None
    return x, t, axis, weight, draw(st.sampled_from(REDUCTIONS))


@pytest.mark.parametrize("soft", [False, True], ids=["indices", "probabilities"])
@given_settings
@given(data=st.data())
def test_cross_entropy_gradcheck_and_forward(device, soft, data):
    x, t, axis, weight, reduction = data.draw(ce_case(soft))
    logits = tensor(x, device)
    target = tensor(t, device) if soft else tc.Tensor(t, device=device)
    loss = F.cross_entropy(logits, target, axis=axis, weight=weight, reduction=reduction)
    ax = 0 if x.ndim == 1 else axis
    expected = ref_cross_entropy(x, t, ax, weight, reduction)
    assert loss.shape == np.shape(expected)
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-10, atol=1e-12)
    inputs = [logits, target]  # a soft target is checked too: it requires grad

    def fn(a, b):
        return F.cross_entropy(a, b, axis=axis, weight=weight, reduction=reduction)

    assert tc.gradcheck(fn, inputs)


def _torch_ce(torch, x, t, weight, reduction, requires_grad_target=False):
    tx = torch.tensor(x, requires_grad=True)
    tt = torch.tensor(t, requires_grad=requires_grad_target)
    tw = None if weight is None else torch.tensor(weight, dtype=tx.dtype)
    return tx, tt, torch.nn.functional.cross_entropy(tx, tt, weight=tw, reduction=reduction)


CE_SHAPES = [(6, 5), (2, 4, 3, 5), (4,)]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("soft", [False, True], ids=["indices", "probabilities"])
@pytest.mark.parametrize("shape", CE_SHAPES, ids=["NQ", "NQHW", "Q"])
def test_cross_entropy_against_torch(device, shape, soft, weighted, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(sum(shape))
    q = shape[1] if len(shape) > 1 else shape[0]
    tshape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    x = rng.standard_normal(shape) * 3
    if soft:
        t = np.moveaxis(rng.dirichlet(np.ones(q), size=tshape), -1, min(1, len(shape) - 1))
    else:
        t = rng.integers(0, q, size=tshape)
    weight = rng.uniform(0.2, 2.0, q) if weighted else None
    logits = tc.Tensor(x, requires_grad=True, device=device)
    target = tc.Tensor(t, requires_grad=soft, device=device)
    loss = F.cross_entropy(logits, target, weight=weight, reduction=reduction)
    g = rng.standard_normal(loss.shape)
    loss.backward(g)
    tx, tt, tloss = _torch_ce(torch, x, t, weight, reduction, requires_grad_target=soft)
    tloss.backward(torch.tensor(g))
    np.testing.assert_allclose(loss.numpy(), tloss.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(to_numpy(logits.grad), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    if soft:
        np.testing.assert_allclose(to_numpy(target.grad), tt.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("soft", [False, True], ids=["indices", "probabilities"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_large_logits_float32(device, soft, reduction):
    rng = np.random.default_rng(7)
    x = (rng.choice([-1.0, 1.0], size=(3, 4, 2, 2)) * 1e4).astype(np.float32)
    x[0, :, 0, 0] = 1e4  # a tie at the top
    if soft:
        t = np.moveaxis(rng.dirichlet(np.ones(4), size=(3, 2, 2)), -1, 1).astype(np.float32)
    else:
        t = rng.integers(0, 4, size=(3, 2, 2))
    weight = np.array([0.5, 1.0, 2.0, 1.5], np.float32)
    logits = tc.Tensor(x, requires_grad=True, device=device)
    loss = F.cross_entropy(logits, tc.Tensor(t, device=device), weight=weight, reduction=reduction)
    loss.backward(np.ones(loss.shape, np.float32))
    assert loss.dtype == np.float32 and logits.grad.dtype == np.float32
    assert np.isfinite(loss.numpy()).all() and np.isfinite(to_numpy(logits.grad)).all()
    torch = pytest.importorskip("torch")  # finite without it; equal to PyTorch's with it
    tx, _, tloss = _torch_ce(torch, x, t, weight, reduction)
    tloss.backward(torch.ones_like(tloss))
    np.testing.assert_allclose(loss.numpy(), tloss.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(to_numpy(logits.grad), tx.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_cross_entropy_accepts_lists_and_other_integer_dtypes(device):
    x = tc.Tensor(np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]]), device=device)
    expected = ref_cross_entropy(x.numpy(), np.array([0, 2]))
    for target in ([0, 2], np.array([0, 2], np.int32), np.array([0, 2], np.uint8)):
        np.testing.assert_allclose(F.cross_entropy(x, target).item(), expected, rtol=1e-12)


def test_cross_entropy_validation():
    logits = tc.Tensor(np.zeros((2, 3, 4, 4)))
    good = np.zeros((2, 4, 4), np.int64)
    bad = good.copy()
    bad[1, 2, 3] = 3
    with pytest.raises(ValueError, match=r"class index 3 is out of range for 3 classes"):
        F.cross_entropy(logits, bad)
    bad[1, 2, 3] = -1
    with pytest.raises(ValueError, match=r"class index -1 is out of range .* 0 <= index < 3"):
        F.cross_entropy(logits, bad)
    with pytest.raises(
        ValueError, match=r"shape without axis 1, \(2, 4, 4\) .* got \(2, 1, 4, 4\)"
    ):
        F.cross_entropy(logits, good[:, None])
    with pytest.raises(ValueError, match=r"probability target must have the logits' shape"):
        F.cross_entropy(logits, np.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError, match=r"class indices must be integers"):
        F.cross_entropy(logits, good.astype(np.float64))
    with pytest.raises(TypeError, match=r"integer class indices or float probabilities, got bool"):
        F.cross_entropy(logits, good.astype(bool))
    with pytest.raises(
        ValueError, match=r"reduction must be one of 'mean', 'sum', 'none', got 'avg'"
    ):
        F.cross_entropy(logits, good, reduction="avg")
    with pytest.raises(
        ValueError, match=r"weight must have one entry per class, shape \(3,\), got \(4,\)"
    ):
        F.cross_entropy(logits, good, weight=np.ones(4))
    with pytest.raises(ValueError, match=r"axis 4 is out of range for logits \(2, 3, 4, 4\)"):
        F.cross_entropy(logits, good, axis=4)
    with pytest.raises(TypeError, match="logits must be floating point"):
        F.cross_entropy(tc.Tensor(np.zeros((2, 3), np.int64)), [0, 1])


@pytest.mark.parametrize("soft", [False, True], ids=["indices", "probabilities"])
def test_cross_entropy_per_pixel_losses_gradcheck(soft):
    """reduction='none' on (N, Q, H, W) logits: one loss per pixel, each with its own gradient
    given back along the class axis 1 (not the last axis, which here has another length)."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 3, 4, 2))
    if soft:
        t = tc.Tensor(np.moveaxis(rng.dirichlet(np.ones(3), size=(2, 4, 2)), -1, 1))
    else:
        t = tc.Tensor(rng.integers(0, 3, size=(2, 4, 2)))
    weight = np.array([0.5, 2.0, 1.0])

    def fn(a):
        return F.cross_entropy(a, t, weight=weight, reduction="none")

    assert fn(tensor(x)).shape == (2, 4, 2)
    assert tc.gradcheck(fn, [tensor(x)])


def test_cross_entropy_weighted_mean_divides_by_the_weights_of_the_targets():
    x = np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0], [0.0, 0.0, 0.0]])
    t = np.array([0, 2, 2])
    w = np.array([3.0, 1.0, 0.5])
    per = F.cross_entropy(tc.Tensor(x), t, weight=w, reduction="none").numpy()
    mean = F.cross_entropy(tc.Tensor(x), t, weight=w).item()
    np.testing.assert_allclose(mean, per.sum() / (3.0 + 0.5 + 0.5), rtol=1e-12)


# --------------------------------------------------------------------------- regression losses

REGRESSION = {"mse_loss": lambda d: d * d, "l1_loss": np.abs}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(REGRESSION))
@given_settings
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple), data=st.data())
def test_regression_gradcheck_and_forward(device, name, reduction, shape, data):
    a = data.draw(arrays(shape))
    b = data.draw(arrays(shape))
    if name == "l1_loss":  # keep input - target off the kink at 0
        d = a - b
        b = np.where(np.abs(d) < 0.05, a - np.where(d >= 0, 0.1, -0.1), b)
    x, y = tensor(a, device), tensor(b, device)
    fn = getattr(F, name)
    per = REGRESSION[name](a - b)
    expected = {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](per)
    np.testing.assert_allclose(
        fn(x, y, reduction=reduction).numpy(), expected, rtol=1e-12, atol=1e-14
    )
    assert tc.gradcheck(lambda p, q: fn(p, q, reduction=reduction), [x, y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(REGRESSION))
def test_regression_against_torch(device, name, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    x = tc.Tensor(a, requires_grad=True, device=device)
    y = tc.Tensor(b, requires_grad=True, device=device)
    loss = getattr(F, name)(x, y, reduction=reduction)
    g = rng.standard_normal(loss.shape)
    loss.backward(g)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    tloss = getattr(torch.nn.functional, name)(tx, ty, reduction=reduction)
    tloss.backward(torch.tensor(g))
    np.testing.assert_allclose(loss.numpy(), tloss.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(y.grad), ty.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(REGRESSION) + ["binary_cross_entropy_with_logits"])
def test_pair_losses_take_a_scalar_target_and_refuse_other_broadcasting(device, name):
    fn = getattr(F, name)
    x = tc.Tensor(
        np.array([[0.2, -0.4], [1.0, 0.5]], np.float32), requires_grad=True, device=device
    )
    loss = fn(x, 1.0)
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.item(), fn(x, np.ones((2, 2), np.float32)).item(), rtol=1e-6)
    loss.backward()
    assert x.grad.shape == (2, 2) and x.grad.dtype == np.float32
    with pytest.raises(
        ValueError, match=r"input \(2, 2\) and target \(2,\) must have the same shape"
    ):
        fn(x, np.ones(2))
    with pytest.raises(ValueError, match="reduction must be one of"):
        fn(x, x, reduction="batchmean")


def test_l1_loss_gradient_is_zero_where_input_equals_target(device):
    x = tc.Tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    F.l1_loss(x, tc.Tensor([1.0, 0.0, 4.0], device=device), reduction="sum").backward()
    np.testing.assert_array_equal(to_numpy(x.grad), [0.0, 1.0, -1.0])


# --------------------------------------------------------------------------- binary cross-entropy


@st.composite
def bce_case(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    x = draw(arrays(shape, -4, 4))
    t = draw(arrays(shape, 0, 1))
    weight = draw(arrays(shape[-1:], 0.2, 2)) if draw(st.booleans()) else None
    pos_weight = draw(arrays(shape[-1:], 0.2, 3)) if draw(st.booleans()) else None
    return x, t, weight, pos_weight, draw(st.sampled_from(REDUCTIONS))


@given_settings
@given(case=bce_case())
def test_bce_with_logits_gradcheck_and_forward(device, case):
    x, t, weight, pos_weight, reduction = case
    a, b = tensor(x, device), tensor(t, device)

    def fn(p, q):
        return F.binary_cross_entropy_with_logits(
            p, q, weight=weight, reduction=reduction, pos_weight=pos_weight
        )

    expected = ref_bce(x, t, weight, pos_weight, reduction)
    np.testing.assert_allclose(fn(a, b).numpy(), expected, rtol=1e-12, atol=1e-14)
    assert tc.gradcheck(fn, [a, b])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("shape", "wshape"),
    [((5, 3), None), ((5, 3), (3,)), ((2, 3, 4, 4), (3, 1, 1)), ((2, 3, 4, 4), (2, 3, 4, 4))],
)
def test_bce_with_logits_against_torch(device, shape, wshape, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal(shape) * 4, rng.uniform(0, 1, shape)
    w = None if wshape is None else rng.uniform(0.2, 2, wshape)
    pw = None if wshape is None else rng.uniform(0.2, 3, wshape)
    a = tc.Tensor(x, requires_grad=True, device=device)
    b = tc.Tensor(t, requires_grad=True, device=device)
    loss = F.binary_cross_entropy_with_logits(a, b, w, reduction=reduction, pos_weight=pw)
    g = rng.standard_normal(loss.shape)
    loss.backward(g)
    ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
    tw, tpw = (None, None) if w is None else (torch.tensor(w), torch.tensor(pw))
    tloss = torch.nn.functional.binary_cross_entropy_with_logits(
        ta, tb, weight=tw, reduction=reduction, pos_weight=tpw
    )
    tloss.backward(torch.tensor(g))
    np.testing.assert_allclose(loss.numpy(), tloss.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(to_numpy(a.grad), ta.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(to_numpy(b.grad), tb.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_bce_with_logits_large_logits_float32(device):
    x = np.array([[-1e4, 1e4, 0.0], [1e4, -1e4, 30.0]], np.float32)
    t = np.array([[0.0, 1.0, 0.5], [0.0, 1.0, 0.3]], np.float32)
    pw = np.array([2.0, 0.5, 1.5], np.float32)
    a = tc.Tensor(x, requires_grad=True, device=device)
    loss = F.binary_cross_entropy_with_logits(a, t, pos_weight=pw, reduction="none")
    loss.sum().backward()
    assert loss.dtype == np.float32 and a.grad.dtype == np.float32
    assert np.isfinite(loss.numpy()).all() and np.isfinite(to_numpy(a.grad)).all()
    torch = pytest.importorskip("torch")
    ta = torch.tensor(x, requires_grad=True)
    tloss = torch.nn.functional.binary_cross_entropy_with_logits(
        ta, torch.tensor(t), pos_weight=torch.tensor(pw), reduction="none"
    )
    tloss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), tloss.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(to_numpy(a.grad), ta.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_bce_with_logits_validation():
    x = tc.Tensor(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(4,\) does not broadcast to"):
        F.binary_cross_entropy_with_logits(x, np.zeros((4, 3)), pos_weight=np.ones(4))
    with pytest.raises(ValueError, match=r"weight of shape \(2, 4, 3\) does not broadcast to"):
        F.binary_cross_entropy_with_logits(x, np.zeros((4, 3)), weight=np.ones((2, 4, 3)))
