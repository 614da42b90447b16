"""The losses and similarities PyTorch code reaches for beyond cross-entropy and regression:
kl_div (with 'batchmean' and log targets), cosine_similarity, pairwise_distance,
margin_ranking_loss, soft_margin_loss, poisson_nll_loss and their modules. Forward against
NumPy formulas, gradcheck (float64, hypothesis shapes, every reduction, values kept off the
kinks), forward + gradients against PyTorch, and the modules against the functional forms."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, broadcastable_pair, given_settings, shapes, tensor

import tinycolor as tc
from tinycolor import functional as F
from tinycolor import nn
from tinycolor.backend import to_numpy

REDUCTIONS = ["mean", "sum", "none"]

pytestmark = pytest.mark.filterwarnings("ignore:kl_div. reduction='mean':UserWarning")


def _reduced(loss, reduction, denom=None):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / (denom or loss.size)


# --------------------------------------------------------------------------- NumPy formulas


def ref_kl_div(x, t, reduction, log_target):
    if log_target:
        loss = np.exp(t) * (t - x)
    else:
        loss = np.array([ti * math.log(ti) if ti > 0 else 0.0 for ti in t.ravel()]).reshape(t.shape)
        loss = loss - t * x
    if reduction == "batchmean":
        return loss.sum() / x.shape[0]
    return _reduced(loss, reduction)


def ref_poisson(x, t, log_input, full, reduction, eps=1e-8):
    loss = np.exp(x) - t * x if log_input else x - t * np.log(x + eps)
    if full:
        stirling = [ti * math.log(ti) - ti + 0.5 * math.log(2 * math.pi * ti) for ti in t.ravel()]
        loss = loss + np.where(t > 1, np.reshape(stirling, t.shape) if t.size else 0, 0)
    return _reduced(loss, reduction)


def ref_cosine(a, b, axis, eps=1e-8):
    a, b = np.broadcast_arrays(a, b)
    na = np.maximum(np.sqrt((a * a).sum(axis=axis)), eps)
    nb = np.maximum(np.sqrt((b * b).sum(axis=axis)), eps)
    return (a * b).sum(axis=axis) / (na * nb)


def _safe_stirling(t):
    return np.where(t > 1, t, 1.0)


# --------------------------------------------------------------------------- kl_div


@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
@given_settings
@given(shape=shapes(1, 3, 1, 4), data=st.data())
def test_kl_div_gradcheck_and_forward(device, reduction, log_target, shape, data):
    x0 = data.draw(arrays(shape, -3, 0))
    t0 = data.draw(arrays(shape, -3, 0) if log_target else arrays(shape, 0.05, 1))
    x, t = tensor(x0, device), tensor(t0, device)
    out = F.kl_div(x, t, reduction=reduction, log_target=log_target)
    want = ref_kl_div(x0, t0, reduction, log_target)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-14)
    assert tc.gradcheck(
        lambda p, q: F.kl_div(p, q, reduction=reduction, log_target=log_target), [x, t]
    )


@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_against_torch(device, reduction, log_target):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((4, 5))
    x0 = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    p = rng.dirichlet(np.ones(5), size=4)
    p[0, 1] = 0.0  # a target of 0 counts 0 (its own gradient is not compared: PyTorch's is nan)
    t0 = np.log(p + 1e-3) if log_target else p
    x = tc.Tensor(x0, requires_grad=True, device=device)
    t = tc.Tensor(t0, requires_grad=True, device=device)
    out = F.kl_div(x, t, reduction=reduction, log_target=log_target)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    tx, tt = torch.tensor(x0, requires_grad=True), torch.tensor(t0, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tout = torch.nn.functional.kl_div(tx, tt, reduction=reduction, log_target=log_target)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12)
    keep = (p > 0) | log_target
    np.testing.assert_allclose(to_numpy(t.grad)[keep], tt.grad.numpy()[keep], rtol=1e-12)


def test_kl_div_mean_warns_as_pytorch_and_batchmean_is_the_divergence():
    """'mean' divides by every element and warns (PyTorch's default, kept); 'batchmean' is the
    KL divergence per sample: for one row, sum p log(p / q)."""
    p = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    q = np.array([[0.3, 0.3, 0.4], [0.5, 0.25, 0.25]])
    x, t = tc.Tensor(np.log(q)), tc.Tensor(p)
    with pytest.warns(UserWarning, match="'batchmean' divides by the batch size alone"):
        mean = F.kl_div(x, t)
    kl = (p * np.log(p / q)).sum(axis=1)
    np.testing.assert_allclose(mean.numpy(), kl.sum() / 6, rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for the others
        np.testing.assert_allclose(
            F.kl_div(x, t, reduction="batchmean").numpy(), kl.mean(), rtol=1e-12
        )
        np.testing.assert_allclose(F.kl_div(x, t, reduction="sum").numpy(), kl.sum(), rtol=1e-12)
        log_t = F.kl_div(x, tc.Tensor(np.log(p)), reduction="batchmean", log_target=True)
        np.testing.assert_allclose(log_t.numpy(), kl.mean(), rtol=1e-12)
    with pytest.raises(ValueError, match="'mean', 'batchmean', 'sum', 'none', got 'avg'"):
        F.kl_div(x, t, reduction="avg")
    with pytest.raises(ValueError, match="must have the same shape"):
        F.kl_div(x, tc.Tensor(p[:, :2]), reduction="sum")


# --------------------------------------------------------------------------- cosine, distance


@given_settings
@given(data=st.data())
def test_cosine_similarity_gradcheck_and_forward(device, data):
    big, small = data.draw(broadcastable_pair())
    sa, sb = (big, small) if data.draw(st.booleans()) else (small, big)
    ndim = max(len(sa), len(sb))
    dim = data.draw(st.integers(-ndim, ndim - 1))
    a0, b0 = data.draw(arrays(sa)), data.draw(arrays(sb))
    a, b = tensor(a0, device), tensor(b0, device)
    out = F.cosine_similarity(a, b, dim=dim)
    np.testing.assert_allclose(out.numpy(), ref_cosine(a0, b0, dim), rtol=1e-10, atol=1e-12)
    assert tc.gradcheck(lambda p, q: F.cosine_similarity(p, q, dim), [a, b])


def test_cosine_similarity_against_torch_at_zero_and_tiny_vectors(device):
    """Each norm clamped at eps, the clamp not differentiated: PyTorch's values and gradients,
    also for a zero vector (cosine 0) and one shorter than eps."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a0, b0 = rng.standard_normal((4, 3, 2)), rng.standard_normal((1, 3, 2))
    a0[0, :, 0] = 0.0
    a0[1, :, 1] = 1e-9
    for dim, eps in ((1, 1e-8), (-1, 1e-8), (1, 0.5)):
        a = tc.Tensor(a0, requires_grad=True, device=device)
        b = tc.Tensor(b0, requires_grad=True, device=device)
        out = F.cosine_similarity(a, b, dim, eps)
        g = rng.standard_normal(out.shape)
        out.backward(g)
        ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
        tout = torch.nn.functional.cosine_similarity(ta, tb, dim, eps)
        tout.backward(torch.tensor(g))
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(to_numpy(a.grad), ta.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(to_numpy(b.grad), tb.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_cosine_similarity_refuses_shapes_that_do_not_fit():
    with pytest.raises(ValueError, match=r"dim 1 is out of range .* \(3,\)"):
        F.cosine_similarity(tc.Tensor(np.ones(3)), tc.Tensor(np.ones(3)))  # PyTorch's too
    with pytest.raises(ValueError, match=r"x1 \(2, 3\) and x2 \(2, 4\) do not broadcast"):
        F.cosine_similarity(tc.Tensor(np.ones((2, 3))), tc.Tensor(np.ones((2, 4))))


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0, math.inf])
@given_settings
@given(data=st.data(), keepdim=st.booleans())
def test_pairwise_distance_gradcheck_and_forward(device, p, data, keepdim):
    big, small = data.draw(broadcastable_pair())
    a0, b0 = data.draw(arrays(big)), data.draw(arrays(small))
    b0 = np.round(b0 * 10) / 10
    a0 = np.round(a0 * 10) / 10 + 0.05  # |a - b| >= 0.05: off the kinks of p = 1 and inf
    a, b = tensor(a0, device), tensor(b0, device)
    out = F.pairwise_distance(a, b, p, keepdim=keepdim)
    want = np.linalg.norm(a0 - b0 + 1e-6, ord=p, axis=-1, keepdims=keepdim)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12)
    if p == math.inf:  # (near) ties between the largest |a - b| are inf's kinks
        d = np.abs(a0 - b0 + 1e-6)
        if ((d > d.max(axis=-1, keepdims=True) - 1e-3).sum(axis=-1) > 1).any():
            return
    assert tc.gradcheck(lambda x, y: F.pairwise_distance(x, y, p, keepdim=keepdim), [a, b])


def test_pairwise_distance_against_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a0, b0 = rng.standard_normal((5, 4)), rng.standard_normal((4,))
    for p, eps, keepdim in ((2.0, 1e-6, False), (1.0, 0.0, True), (3.0, 1e-3, False)):
        a = tc.Tensor(a0, requires_grad=True, device=device)
        b = tc.Tensor(b0, requires_grad=True, device=device)
        out = F.pairwise_distance(a, b, p, eps, keepdim)
        out.sum().backward()
        ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
        tout = torch.nn.functional.pairwise_distance(ta, tb, p, eps, keepdim)
        tout.sum().backward()
        assert out.shape == tuple(tout.shape)
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(to_numpy(a.grad), ta.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(to_numpy(b.grad), tb.grad.numpy(), rtol=1e-10)


# --------------------------------------------------------------------------- margins, poisson


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given_settings
@given(shape=shapes(1, 3, 1, 4), margin=st.sampled_from([0.0, 0.3, 1.0]), data=st.data())
def test_margin_ranking_loss_gradcheck_and_forward(device, reduction, shape, margin, data):
    # a on odd multiples of 0.05, b on multiples of 0.1, margin a multiple of 0.1: the hinge
    # -y (a - b) + margin is never within 0.05 of its kink at 0
    a0 = np.round(data.draw(arrays(shape)) * 10) / 10 + 0.05
    b0 = np.round(data.draw(arrays(shape)) * 10) / 10
    y0 = np.where(data.draw(arrays(shape)) > 0, 1.0, -1.0)
    a, b, y = tensor(a0, device), tensor(b0, device), tensor(y0, device)
    out = F.margin_ranking_loss(a, b, y, margin, reduction=reduction)
    want = _reduced(np.maximum(0, -y0 * (a0 - b0) + margin), reduction)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-14)
    assert tc.gradcheck(
        lambda p, q: F.margin_ranking_loss(p, q, y, margin, reduction=reduction), [a, b]
    )
    assert tc.gradcheck(
        lambda r: F.margin_ranking_loss(a, b, r, margin, reduction=reduction), [y], eps=1e-7
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given_settings
@given(shape=shapes(1, 3, 1, 4), data=st.data())
def test_soft_margin_loss_gradcheck_and_forward(device, reduction, shape, data):
    x0 = data.draw(arrays(shape, -4, 4))
    y0 = np.where(data.draw(arrays(shape)) > 0, 1.0, -1.0)
    x, y = tensor(x0, device), tensor(y0, device)
    out = F.soft_margin_loss(x, y, reduction=reduction)
    want = _reduced(np.log1p(np.exp(-y0 * x0)), reduction)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-14)
    assert tc.gradcheck(lambda p, q: F.soft_margin_loss(p, q, reduction=reduction), [x, y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("log_input", "full"), [(True, False), (False, False), (True, True)])
@given_settings
@given(shape=shapes(1, 3, 1, 4), data=st.data())
def test_poisson_nll_loss_gradcheck_and_forward(device, reduction, log_input, full, shape, data):
    x0 = data.draw(arrays(shape, -2, 2) if log_input else arrays(shape, 0.1, 3))
    t0 = data.draw(arrays(shape, 0, 5, away_from=(1.0,), margin=0.02))  # t > 1: Stirling's
    x, t = tensor(x0, device), tensor(t0, device)

    def loss(p, q):
        return F.poisson_nll_loss(p, q, log_input, full, reduction=reduction)

    np.testing.assert_allclose(
        loss(x, t).numpy(), ref_poisson(x0, t0, log_input, full, reduction), rtol=1e-12
    )
    assert tc.gradcheck(loss, [x, t])


# name: (ours, PyTorch's, inputs from a generator); each with every reduction
_TORCH_CASES = {
    "margin_ranking_loss": (
        lambda a, b, y, r: F.margin_ranking_loss(a, b, y, 0.5, reduction=r),
        lambda tF, a, b, y, r: tF.margin_ranking_loss(a, b, y, 0.5, reduction=r),
        lambda g: (g.standard_normal(6), g.standard_normal(6), np.array([1.0, -1] * 3)),
    ),
    "margin_ranking_loss_kink": (  # -y (a - b) + margin = 0 exactly: the gradient passes
        lambda a, b, y, r: F.margin_ranking_loss(a, b, y, reduction=r),
        lambda tF, a, b, y, r: tF.margin_ranking_loss(a, b, y, reduction=r),
        lambda g: (np.array([0.5, 1.0, 2.0]), np.array([0.5, 1.0, 1.0]), np.array([1.0, -1, 1])),
    ),
    "soft_margin_loss": (
        lambda x, y, r: F.soft_margin_loss(x, y, reduction=r),
        lambda tF, x, y, r: tF.soft_margin_loss(x, y, reduction=r),
        lambda g: (g.standard_normal((3, 4)) * 3, np.sign(g.standard_normal((3, 4)))),
    ),
    "poisson_nll_loss": (
        lambda x, t, r: F.poisson_nll_loss(x, t, reduction=r),
        lambda tF, x, t, r: tF.poisson_nll_loss(x, t, reduction=r),
        lambda g: (g.standard_normal((3, 4)), g.poisson(2.0, (3, 4)).astype(float)),
    ),
    "poisson_nll_loss_rate_full": (
        lambda x, t, r: F.poisson_nll_loss(x, t, False, True, eps=1e-3, reduction=r),
        lambda tF, x, t, r: tF.poisson_nll_loss(x, t, False, True, eps=1e-3, reduction=r),
        lambda g: (g.uniform(0.1, 3, (3, 4)), g.poisson(2.0, (3, 4)).astype(float)),
    ),
}


@pytest.mark.parametrize("name", sorted(_TORCH_CASES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_losses_against_torch(device, name, reduction):
    """Forward and the gradients of every input (targets too) equal PyTorch's."""
    torch = pytest.importorskip("torch")
    ours, theirs, make = _TORCH_CASES[name]
    rng = np.random.default_rng(3)
    values = make(rng)
    xs = [tc.Tensor(v, requires_grad=True, device=device) for v in values]
    out = ours(*xs, reduction)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    # PyTorch's soft_margin_loss has no gradient for its target (ours is gradchecked above)
    n_grad = 1 if name == "soft_margin_loss" else len(values)
    txs = [torch.tensor(v, requires_grad=i < n_grad) for i, v in enumerate(values)]
    tout = theirs(torch.nn.functional, *txs, reduction)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    for i, (x, tx) in enumerate(zip(xs[:n_grad], txs[:n_grad], strict=True)):
        got, want = to_numpy(x.grad), tx.grad.numpy()
        # PyTorch's full=True gives a count of 0 the gradient nan (0 * log 0 under its mask);
        # the loss there is -t log(x + eps) alone, and its gradient -log(x + eps), finite
        assert np.isfinite(got).all()
        known = ~np.isnan(want)
        np.testing.assert_allclose(got[known], want[known], rtol=1e-12, err_msg=i)


def test_margin_ranking_loss_names_the_argument_whose_shape_is_wrong():
    one, four = tc.Tensor(np.ones(3)), tc.Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"input1 \(3,\) and input2 \(4,\) must have the same"):
        F.margin_ranking_loss(one, four, one)
    with pytest.raises(ValueError, match=r"input1 \(3,\) and target \(4,\) must have the same"):
        F.margin_ranking_loss(one, one, four)
    with pytest.raises(TypeError, match="margin_ranking_loss: input1 must be a Tensor"):
        F.margin_ranking_loss(np.ones(3), one, one)


def test_soft_margin_loss_is_stable_and_float32_stays_float32(device):
    x = tc.Tensor(np.array([-1e4, 1e4, 0.0], np.float32), requires_grad=True, device=device)
    y = np.array([1.0, 1.0, -1.0])  # a NumPy target is a constant in the input's dtype
    out = F.soft_margin_loss(x, y, reduction="none")
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), [1e4, 0.0, math.log(2)], rtol=1e-6)
    np.testing.assert_allclose(to_numpy(x.grad), [-1.0, 0.0, 0.5], rtol=1e-6)


# --------------------------------------------------------------------------- the modules


def test_loss_modules_are_their_functional_losses_with_house_reprs(device):
    rng = np.random.default_rng(4)
    a0, b0 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    a, b = tc.Tensor(a0, device=device), tc.Tensor(b0, device=device)
    y = tc.Tensor(np.sign(b0), device=device)
    p = tc.Tensor(rng.dirichlet(np.ones(4), size=3), device=device)
    cases = [
        (nn.KLDivLoss(reduction="batchmean"), (a, p), F.kl_div(a, p, reduction="batchmean")),
        (
            nn.KLDivLoss(reduction="sum", log_target=True),
            (a, b),
            F.kl_div(a, b, reduction="sum", log_target=True),
        ),
        (nn.MarginRankingLoss(0.5), (a, b, y), F.margin_ranking_loss(a, b, y, 0.5)),
        (nn.SoftMarginLoss(reduction="sum"), (a, y), F.soft_margin_loss(a, y, reduction="sum")),
        (nn.PoissonNLLLoss(), (a, b * b), F.poisson_nll_loss(a, b * b)),
        (
            nn.PoissonNLLLoss(False, True, eps=1e-4, reduction="none"),
            (a * a, b * b),
            F.poisson_nll_loss(a * a, b * b, False, True, eps=1e-4, reduction="none"),
        ),
        (nn.CosineSimilarity(dim=0), (a, b), F.cosine_similarity(a, b, 0)),
        (
            nn.PairwiseDistance(1.0, keepdim=True),
            (a, b),
            F.pairwise_distance(a, b, 1.0, 1e-6, True),
        ),
    ]
    for module, args, want in cases:
        np.testing.assert_array_equal(module(*args).numpy(), want.numpy(), err_msg=repr(module))
    assert [repr(m) for m, _, _ in cases] == [
        "KLDivLoss(reduction='batchmean')",
        "KLDivLoss(reduction='sum', log_target=True)",
        "MarginRankingLoss(reduction='mean', margin=0.5)",
        "SoftMarginLoss(reduction='sum')",
        "PoissonNLLLoss(reduction='mean')",
        "PoissonNLLLoss(reduction='none', log_input=False, full=True)",
        "CosineSimilarity()",  # PyTorch's reprs show no options for these two
        "PairwiseDistance()",
    ]
    with pytest.warns(UserWarning, match="kl_div: reduction='mean'"):
        nn.KLDivLoss()(a, p)
    with pytest.raises(ValueError, match="KLDivLoss: reduction must be one of"):
        nn.KLDivLoss(reduction="avg")
    with pytest.raises(ValueError, match="MarginRankingLoss: reduction must be one of"):
        nn.MarginRankingLoss(reduction="batchmean")


def test_loss_modules_match_pytorch_modules():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    a0, b0 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    y0 = np.sign(b0)
    for make, args in (
        (lambda m: m.KLDivLoss(reduction="batchmean", log_target=True), (a0, b0)),
        (lambda m: m.MarginRankingLoss(0.2, reduction="sum"), (a0, b0, y0)),
        (lambda m: m.SoftMarginLoss(), (a0, y0)),
        (lambda m: m.PoissonNLLLoss(full=True), (a0, b0 * b0 * 3)),
        (lambda m: m.CosineSimilarity(0, 1e-3), (a0, b0)),
        (lambda m: m.PairwiseDistance(3, 1e-3, True), (a0, b0)),
    ):
        got = make(nn)(*(tc.Tensor(v) for v in args)).numpy()
        want = make(torch.nn)(*(torch.tensor(v) for v in args)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-12)
