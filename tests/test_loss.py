"""Losses: gradcheck over hypothesis shapes (class indices, spatial maps, soft targets, class
weights, every reduction), forward against naive loops, forward + gradient against PyTorch,
stability for logits of 1e4, and the validation messages."""

from __future__ import annotations

import math
import warnings

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


# --------------------------------------------------------------------------- ignore_index,
# label smoothing and nll_loss


def ref_smoothed_cross_entropy(x, t, axis, weight, reduction, ignore_index, eps):
    """PyTorch's formula written as a loop: per element of class index t (skipped when it is
    ignore_index) l = -(1 - e) w_t log p_t - (e / Q) sum_q w_q log p_q; 'mean' divides by the
    sum of w_t over the elements kept. Probability targets: t <- (1 - e) t + e / Q, 'mean'
    over all elements."""
    xm = np.moveaxis(x, axis, -1)
    q = xm.shape[-1]
    soft = np.issubdtype(t.dtype, np.floating)
    targets = np.moveaxis(t, axis, -1).reshape(-1, q) if soft else t.reshape(-1)
    w = np.ones(q) if weight is None else weight
    losses, used = [], []
    for row, tgt in zip(xm.reshape(-1, q), targets):
        m = max(row)
        logp = [v - m - math.log(sum(math.exp(u - m) for u in row)) for v in row]
        if soft:
            losses.append(-sum(w[c] * ((1 - eps) * tgt[c] + eps / q) * logp[c] for c in range(q)))
            used.append(1.0)
        elif tgt == ignore_index:
            losses.append(0.0)
        else:
            smooth = -sum(w[c] * logp[c] for c in range(q))
            losses.append(-(1 - eps) * w[tgt] * logp[tgt] + eps / q * smooth)
            used.append(w[tgt])
    losses = np.array(losses)
    if reduction == "none":
        return losses.reshape(xm.shape[:-1])
    return losses.sum() if reduction == "sum" else losses.sum() / sum(used)


def ref_nll(x, t, axis, weight, reduction, ignore_index):
    """-w_t x_t per element of class index t (0 for ignore_index); 'mean' over sum(w_t)."""
    xm = np.moveaxis(x, axis, -1)
    q = xm.shape[-1]
    w = np.ones(q) if weight is None else weight
    losses, used = [], []
    for row, tgt in zip(xm.reshape(-1, q), t.reshape(-1)):
        keep = tgt != ignore_index
        losses.append(-w[tgt] * row[tgt] if keep else 0.0)
        used += [w[tgt]] if keep else []
    losses = np.array(losses)
    if reduction == "none":
        return losses.reshape(xm.shape[:-1])
    return losses.sum() if reduction == "sum" else losses.sum() / sum(used)


@st.composite
def ignored_targets(draw, t, q):
    """``t`` with some elements set to an ignore_index: PyTorch's -100, a class (here 0) or
    an index past the classes (255, as segmentation masks mark their borders); at least one
    element is kept, so that 'mean' is a number."""
    ignore_index = draw(st.sampled_from([-100, 0, 255]))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    t = np.where(rng.random(np.shape(t)) < 0.3, ignore_index, t)
    if np.all(t == ignore_index):  # keep one element, of a class other than the ignored one
        t = np.where(np.arange(t.size).reshape(np.shape(t)) == 0, q - 1 if q > 1 else 0, t)
        if q == 1 and ignore_index == 0:
            ignore_index = -100
    return np.asarray(t), ignore_index


@pytest.mark.parametrize("soft", [False, True], ids=["indices", "probabilities"])
@given_settings
@given(data=st.data())
def test_cross_entropy_with_ignore_index_and_label_smoothing_gradcheck_and_forward(
    device, soft, data
):
    x, t, axis, weight, reduction = data.draw(ce_case(soft))
    ax = 0 if x.ndim == 1 else axis % x.ndim
    q = x.shape[ax]
    eps = data.draw(st.sampled_from([0.0, 0.1, 0.55, 1.0]))
    ignore_index = -100
    if not soft:
        t, ignore_index = data.draw(ignored_targets(t, q))
    logits = tensor(x, device)
    target = tensor(t, device) if soft else tc.Tensor(t, device=device)

    def fn(a, b):
        return F.cross_entropy(
            a,
            b,
            weight,
            ignore_index=ignore_index,
            reduction=reduction,
            label_smoothing=eps,
            axis=axis,
        )

    loss = fn(logits, target)
    expected = ref_smoothed_cross_entropy(x, t, ax, weight, reduction, ignore_index, eps)
    assert loss.shape == np.shape(expected)
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-10, atol=1e-12)
    assert tc.gradcheck(fn, [logits, target])


@given_settings
@given(data=st.data())
def test_nll_loss_gradcheck_and_forward(device, data):
    """Any real numbers as the input (nll_loss is linear in it), (N, Q, *spatial), the class
    axis last, or (Q,); class weights, ignored elements and every reduction drawn."""
    x, t, axis, weight, reduction = data.draw(ce_case(soft=False))
    ax = 0 if x.ndim == 1 else axis % x.ndim
    t, ignore_index = data.draw(ignored_targets(t, x.shape[ax]))
    inp = tensor(x, device)

    def fn(a):
        return F.nll_loss(
            a,
            tc.Tensor(t, device=device),
            weight,
            ignore_index=ignore_index,
            reduction=reduction,
            axis=axis,
        )

    loss = fn(inp)
    expected = ref_nll(x, t, ax, weight, reduction, ignore_index)
    assert loss.shape == np.shape(expected)
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert tc.gradcheck(fn, [inp])


def test_nll_loss_of_log_softmax_is_cross_entropy(device):
    rng = np.random.default_rng(3)
    x = tc.Tensor(rng.standard_normal((4, 5, 3, 2)), requires_grad=True, device=device)
    y = tc.Tensor(x.numpy(), requires_grad=True, device=device)
    t = rng.integers(0, 5, (4, 3, 2))
    t[0, 0, 0] = -100
    w = rng.uniform(0.2, 2.0, 5)
    a = F.nll_loss(F.log_softmax(x, 1), t, w)
    b = F.cross_entropy(y, t, w)
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-12)
    a.backward()
    b.backward()
    np.testing.assert_allclose(to_numpy(x.grad), to_numpy(y.grad), rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("shape", CE_SHAPES, ids=["NQ", "NQHW", "Q"])
@pytest.mark.parametrize(
    "case",
    ["smooth", "ignore-class", "ignore-255+smooth", "probabilities+smooth", "nll", "nll-ignore"],
)
def test_ignore_index_label_smoothing_and_nll_against_torch(
    device, case, shape, weighted, reduction
):
    """Values and gradients equal PyTorch's, the weighted label smoothing with 'mean' (divided
    by the sum of the weights of the targets kept) included."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(case) + sum(shape))
    q = shape[1] if len(shape) > 1 else shape[0]
    tshape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    x = rng.standard_normal(shape) * 3
    options = {}
    if case.startswith("probabilities"):
        t = np.moveaxis(rng.dirichlet(np.ones(q), size=tshape), -1, min(1, len(shape) - 1))
    else:
        t = rng.integers(0, q, size=tshape)
    if "ignore" in case:
        options["ignore_index"] = 255 if "255" in case else 1
        t = np.where(rng.random(tshape) < 0.4, options["ignore_index"], t)
        t.flat[0] = 2  # one element kept
    if "smooth" in case:
        options["label_smoothing"] = 0.3
    weight = rng.uniform(0.2, 2.0, q) if weighted else None
    soft = case.startswith("probabilities")
    logits = tc.Tensor(x, requires_grad=True, device=device)
    target = tc.Tensor(t, requires_grad=soft, device=device)
    tx, tt = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=soft)
    tw = None if weight is None else torch.tensor(weight)
    if case.startswith("nll"):
        loss = F.nll_loss(logits, target, weight, reduction=reduction, **options)
        tloss = torch.nn.functional.nll_loss(tx, tt, tw, reduction=reduction, **options)
    else:
        loss = F.cross_entropy(logits, target, weight, reduction=reduction, **options)
        tloss = torch.nn.functional.cross_entropy(tx, tt, tw, reduction=reduction, **options)
    g = rng.standard_normal(loss.shape)
    loss.backward(g)
    tloss.backward(torch.tensor(g))
    np.testing.assert_allclose(loss.numpy(), tloss.detach().numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(to_numpy(logits.grad), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    if soft:
        np.testing.assert_allclose(to_numpy(target.grad), tt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_weighted_label_smoothing_follows_pytorchs_formula():
    """By hand, one example of each of three classes, weights w and e = 0.3: the uniform part
    is weighted by each w_q and 'mean' divides by w_t summed over the targets, not by N."""
    x = np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0], [0.0, 0.0, 0.0]])
    t, w, e = np.array([0, 2, 1]), np.array([3.0, 1.0, 0.5]), 0.3
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    per = -(1 - e) * w[t] * logp[np.arange(3), t] - e / 3 * (w * logp).sum(1)
    got = F.cross_entropy(tc.Tensor(x), t, w, label_smoothing=e).item()
    np.testing.assert_allclose(got, per.sum() / (3.0 + 0.5 + 1.0), rtol=1e-12)
    got = F.cross_entropy(tc.Tensor(x), t, w, label_smoothing=e, reduction="none").numpy()
    np.testing.assert_allclose(got, per, rtol=1e-12)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_ignored_elements_count_for_nothing(device, name):
    """PyTorch's default ignore_index -100 is ignored (it was an out-of-range error): the loss
    and gradient of an ignored element are 0 and 'mean' divides by the others; a 'mean' over
    nothing but ignored elements is nan with a zero gradient, 'sum' is 0, as PyTorch's."""
    fn = getattr(F, name)
    x = np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0], [0.0, 4.0, 0.0]])
    a = tc.Tensor(x, requires_grad=True, device=device)
    per = fn(a, [0, -100, 1], reduction="none")
    assert per.numpy()[1] == 0
    full = fn(tc.Tensor(x, device=device), [0, 2, 1], reduction="none").numpy()
    mean = fn(a, [0, -100, 1])
    np.testing.assert_allclose(mean.item(), (full[0] + full[2]) / 2, rtol=1e-12)
    mean.backward()
    assert not to_numpy(a.grad)[1].any() and to_numpy(a.grad)[0].any()
    for options in ({}, {"weight": np.ones(3)}, {"label_smoothing": 0.2}):
        if name == "nll_loss" and "label_smoothing" in options:
            continue
        a = tc.Tensor(x, requires_grad=True, device=device)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # nan as PyTorch's, without a warning
            loss = fn(a, [2, 2, 2], ignore_index=2, **options)
            loss.backward()
            assert fn(a, [2, 2, 2], ignore_index=2, reduction="sum", **options).item() == 0
        assert np.isnan(loss.item()), options
        np.testing.assert_array_equal(to_numpy(a.grad), 0)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_mean_over_targets_whose_weights_sum_to_zero_is_pytorchs_nan(device, name, label_smoothing):
    """Every target's class weighs 0: 'mean' divides by 0, nan as PyTorch's; with label
    smoothing too (not inf: PyTorch divides each part by the weights' sum, and the 0 / 0 of
    the targets' part is nan); nll_loss's gradient is nan only at the targets, 0 elsewhere."""
    torch = pytest.importorskip("torch")
    if name == "nll_loss" and label_smoothing:
        pytest.skip("nll_loss has no label smoothing")
    x = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])
    t, w = np.array([1, 1]), np.array([1.0, 0.0, 2.0])
    extra = {"label_smoothing": label_smoothing} if label_smoothing else {}
    a = tc.Tensor(x, requires_grad=True, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nan as PyTorch's, without a warning
        loss = getattr(F, name)(a, t, w, **extra)
        loss.backward()
    ta = torch.tensor(x, requires_grad=True)
    tloss = getattr(torch.nn.functional, name)(ta, torch.tensor(t), torch.tensor(w), **extra)
    tloss.backward()
    assert np.isnan(loss.item()) and np.isnan(tloss.item())
    np.testing.assert_array_equal(to_numpy(a.grad), ta.grad.numpy())  # nan where nan


def test_cross_entropy_takes_pytorchs_keyword_input(device):
    """``F.cross_entropy(input=logits, target=t)``, PyTorch's keywords."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((4, 3))
    t = np.array([0, 2, 1, 2])
    got = F.cross_entropy(input=tc.Tensor(x, device=device), target=t, label_smoothing=0.1)
    want = torch.nn.functional.cross_entropy(
        input=torch.tensor(x), target=torch.tensor(t), label_smoothing=0.1
    )
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-12)


def test_ignore_index_and_label_smoothing_validation():
    logits = tc.Tensor(np.zeros((2, 3, 4, 4)))
    good = np.zeros((2, 4, 4), np.int64)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"label_smoothing must be between 0.0 and 1.0, got"):
            F.cross_entropy(logits, good, label_smoothing=bad)
        with pytest.raises(ValueError, match=r"CrossEntropyLoss: label_smoothing must be between"):
            tc.nn.CrossEntropyLoss(label_smoothing=bad)
    with pytest.raises(TypeError, match=r"label_smoothing must be a number, got '0.1'"):
        F.cross_entropy(logits, good, label_smoothing="0.1")
    with pytest.raises(TypeError, match=r"ignore_index must be an integer, got 1.0"):
        F.cross_entropy(logits, good, ignore_index=1.0)
    bad = good.copy()
    bad[0, 0, 0] = 255
    with pytest.raises(ValueError, match=r"class index 255 is out of range .* or ignore_index"):
        F.cross_entropy(logits, bad)  # 255 is not the ignore_index (-100)
    F.cross_entropy(logits, bad, ignore_index=255)
    bad[0, 0, 1] = -3
    with pytest.raises(ValueError, match=r"nll_loss: class index -3 is out of range"):
        F.nll_loss(logits, bad, ignore_index=255)
    soft = tc.Tensor(np.full((2, 3, 4, 4), 1 / 3))
    with pytest.raises(ValueError, match=r"ignore_index=0 cannot apply to a probability target"):
        F.cross_entropy(logits, soft, ignore_index=0)
    with pytest.raises(TypeError, match=r"nll_loss: target must hold integer class indices, got"):
        F.nll_loss(logits, soft)
    with pytest.raises(TypeError, match=r"integer class indices, got bool"):
        F.nll_loss(logits, good.astype(bool))
    with pytest.raises(ValueError, match=r"nll_loss: weight must have one entry per class"):
        F.nll_loss(logits, good, np.ones(2))
    with pytest.raises(ValueError, match=r"nll_loss: class-index target must have the input"):
        F.nll_loss(logits, good[0])


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


def _ref_smooth_l1(d, beta):
    """One element at a time, the two branches as Girshick writes them."""
    out = np.empty_like(d)
    for i, v in np.ndenumerate(d):
        out[i] = 0.5 * v * v / beta if abs(v) < beta else abs(v) - 0.5 * beta
    return out


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["smooth_l1_loss", "huber_loss"])
@given_settings
@given(
    shape=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple),
    width=st.sampled_from([0.0, 0.3, 1.0, 2.5]),
    data=st.data(),
)
def test_smooth_l1_and_huber_gradcheck_and_forward(device, name, reduction, shape, width, data):
    """Each of beta (delta) 0 (smooth_l1 is then l1), small, 1, larger than every error; the
    errors drawn on both sides of it. Huber is delta times smooth l1 of beta = delta."""
    if name == "huber_loss" and width == 0:
        width = 0.5  # delta must be positive
    a, b = data.draw(arrays(shape)), data.draw(arrays(shape))
    if width == 0:  # l1: keep input - target off the kink at 0
        d = a - b
        b = np.where(np.abs(d) < 0.05, a - np.where(d >= 0, 0.1, -0.1), b)
    x, y = tensor(a, device), tensor(b, device)
    if name == "smooth_l1_loss":
        per = np.abs(a - b) if width == 0 else _ref_smooth_l1(a - b, width)

        def fn(p, q):
            return F.smooth_l1_loss(p, q, reduction=reduction, beta=width)
    else:
        per = width * _ref_smooth_l1(a - b, width)

        def fn(p, q):
            return F.huber_loss(p, q, reduction, width)

    expected = {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](per)
    np.testing.assert_allclose(fn(x, y).numpy(), expected, rtol=1e-12, atol=1e-14)
    assert tc.gradcheck(fn, [x, y])


@pytest.mark.parametrize("width", [0.0, 0.5, 1.0, 3.0])
@pytest.mark.parametrize("name", ["smooth_l1_loss", "huber_loss"])
def test_smooth_l1_and_huber_against_torch(device, name, width):
    torch = pytest.importorskip("torch")
    if name == "huber_loss" and width == 0:
        pytest.skip("huber_loss takes delta > 0 only")
    key = "beta" if name == "smooth_l1_loss" else "delta"
    rng = np.random.default_rng(0)
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        a, b = rng.standard_normal((2, 3, 4)).astype(dtype), rng.standard_normal((2, 3, 4))
        x = tc.Tensor(a, requires_grad=True, device=device)
        y = tc.Tensor(b.astype(dtype), requires_grad=True, device=device)
        loss = getattr(F, name)(x, y, **{key: width})
        loss.backward()
        assert loss.dtype == dtype and x.grad.dtype == dtype
        tx, ty = (
            torch.tensor(a, requires_grad=True),
            torch.tensor(b.astype(dtype), requires_grad=True),
        )
        tloss = getattr(torch.nn.functional, name)(tx, ty, **{key: width})
        tloss.backward()
        np.testing.assert_allclose(loss.numpy(), tloss.detach().numpy(), rtol=rtol)
        np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=rtol, atol=1e-7)
        np.testing.assert_allclose(to_numpy(y.grad), ty.grad.numpy(), rtol=rtol, atol=1e-7)


def test_smooth_l1_and_huber_refuse_a_bad_beta_or_delta():
    x = tc.tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(ValueError, match=r"smooth_l1_loss: beta must be a number >= 0, got -1"):
        F.smooth_l1_loss(x, x, beta=-1)
    with pytest.raises(ValueError, match=r"huber_loss: delta must be a number > 0, got 0"):
        F.huber_loss(x, x, delta=0)
    with pytest.raises(ValueError, match=r"HuberLoss: delta must be a number > 0"):
        tc.nn.HuberLoss(delta=-2.0)


@given_settings
@given(
    shape=st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple),
    extra=st.integers(0, 3),
    data=st.data(),
)
def test_one_hot_against_a_loop(device, shape, extra, data):
    """F.one_hot(t, n): int64, shape (*t.shape, n), a 1 in column t[i] of row i (n the largest
    index + 1 with -1); outside the graph."""
    classes = data.draw(st.integers(1, 5))
    idx = np.random.default_rng(data.draw(st.integers(0, 2**31 - 1))).integers(0, classes, shape)
    t = tc.Tensor(idx, device=device)
    assert t.dtype == np.int64
    n = classes + extra
    out = F.one_hot(t, n)
    want = np.zeros(shape + (n,), np.int64)
    for i, c in np.ndenumerate(idx):
        want[i + (c,)] = 1
    assert out.dtype == np.int64 and not out.requires_grad and out.device == t.device
    np.testing.assert_array_equal(out.numpy(), want)
    if idx.size:
        np.testing.assert_array_equal(F.one_hot(t).numpy(), want[..., : idx.max() + 1])


def test_one_hot_against_torch_and_its_errors():
    torch = pytest.importorskip("torch")
    idx = np.array([[0, 3, 1], [2, 2, 0]])
    np.testing.assert_array_equal(
        F.one_hot(tc.tensor(idx)).numpy(), torch.nn.functional.one_hot(torch.tensor(idx)).numpy()
    )
    np.testing.assert_array_equal(
        F.one_hot(tc.tensor(idx), 6).numpy(),
        torch.nn.functional.one_hot(torch.tensor(idx), 6).numpy(),
    )
    with pytest.raises(TypeError, match="one_hot: expected integer class indices, got dtype float"):
        F.one_hot(tc.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="class index 3 is too large for num_classes=3"):
        F.one_hot(tc.tensor(idx), 3)
    with pytest.raises(ValueError, match="class indices must be >= 0, got -1"):
        F.one_hot(tc.tensor([0, -1]))
    with pytest.raises(ValueError, match="cannot infer the number of classes of an empty"):
        F.one_hot(tc.tensor(np.zeros(0, np.int64)))


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


def _ref_bce(x, t):
    """One element at a time, each log clamped at -100 as PyTorch's."""
    out = np.empty_like(x)
    for i, v in np.ndenumerate(x):
        log_v = max(math.log(v), -100) if v > 0 else -100.0
        log_1mv = max(math.log(1 - v), -100) if v < 1 else -100.0
        out[i] = -(t[i] * log_v + (1 - t[i]) * log_1mv)
    return out


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given_settings
@given(
    shape=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple),
    weighted=st.booleans(),
    data=st.data(),
)
def test_binary_cross_entropy_gradcheck_and_forward(device, reduction, shape, weighted, data):
    """F.binary_cross_entropy on probabilities (a GAN's sigmoid discriminator translated from
    PyTorch met an AttributeError): input and target both get gradients; an element weight
    broadcast over the last axis."""
    a = data.draw(arrays(shape, lo=0.05, hi=0.95))
    b = data.draw(arrays(shape, lo=0.0, hi=1.0))
    w = data.draw(arrays(shape[-1:], lo=0.5, hi=2.0)) if weighted else None
    x, y = tensor(a, device), tensor(b, device)
    per = _ref_bce(a, b) * (1 if w is None else w)
    expected = {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](per)

    def fn(p, q):
        weight = None if w is None else tc.Tensor(w, device=device)
        return F.binary_cross_entropy(p, q, weight, reduction=reduction)

    np.testing.assert_allclose(fn(x, y).numpy(), expected, rtol=1e-12, atol=1e-14)
    assert tc.gradcheck(fn, [x, y])


def test_binary_cross_entropy_against_torch(device):
    """Values and gradients as PyTorch's, at 0 and 1 too (the log clamped at -100, the input's
    gradient (x - t) / max(x (1 - x), 1e-12)), and nn.BCELoss with a weight."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 1, (4, 5))
    a[0, :3] = [0.0, 1.0, 1e-50]
    b = rng.uniform(0, 1, (4, 5))
    w = rng.uniform(0.5, 2, (5,))
    for dtype, rtol in ((np.float64, 1e-10), (np.float32, 1e-5)):
        for reduction in REDUCTIONS:
            x = tc.Tensor(a.astype(dtype), requires_grad=True, device=device)
            y = tc.Tensor(b.astype(dtype), device=device)
            loss = tc.nn.BCELoss(tc.Tensor(w.astype(dtype)), reduction=reduction).to(device)(x, y)
            (loss * 1).sum().backward()
            tx = torch.tensor(a.astype(dtype), requires_grad=True)
            tloss = torch.nn.BCELoss(torch.tensor(w.astype(dtype)), reduction=reduction)(
                tx, torch.tensor(b.astype(dtype))
            )
            tloss.sum().backward()
            assert loss.dtype == dtype and x.grad.dtype == dtype
            np.testing.assert_allclose(loss.numpy(), tloss.detach().numpy(), rtol=rtol)
            np.testing.assert_allclose(
                to_numpy(x.grad), tx.grad.numpy(), rtol=rtol * 100, atol=1e-7
            )
    x = tc.Tensor(a, requires_grad=True, device=device)
    y = tc.Tensor(b, requires_grad=True, device=device)
    F.binary_cross_entropy(x, y, reduction="sum").backward()
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    torch.nn.functional.binary_cross_entropy(tx, ty, reduction="sum").backward()
    np.testing.assert_allclose(to_numpy(y.grad), ty.grad.numpy(), rtol=1e-10)  # inf at 0, 1


def test_binary_cross_entropy_refuses_what_is_not_a_probability():
    x = tc.tensor(np.array([0.5, 1.5]), requires_grad=True)
    with pytest.raises(ValueError, match=r"probability in \[0, 1\] \(got values from 0.5 to 1.5"):
        F.binary_cross_entropy(x, np.ones(2))
    with pytest.raises(ValueError, match=r"weight of shape \(3,\) does not broadcast to"):
        F.binary_cross_entropy(x * 0.5, np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="reduction must be one of"):
        tc.nn.BCELoss(reduction="batchmean")
