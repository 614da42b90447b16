"""Picking and testing elements (gather, scatter, scatter_add, scatter_, index_select, sort,
argsort, unbind, narrow, where as a method; nonzero, count_nonzero, any, all, isnan, isinf,
isfinite, isclose, allclose, equal, argmax, argmin; the mask operators & | ^ ~ and logical_*):
forward against naive loops and NumPy, gradcheck over hypothesis shapes, forward + gradient
against PyTorch, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, given_settings, shapes, tensor

import tinycolor as tc
from tinycolor import functional as F
from tinycolor.backend import to_numpy
from tinycolor.functional import index as index_module


def _long(a, device):
    return tc.Tensor(np.asarray(a, dtype=np.int64), device=device)


@given_settings
@given(shape=shapes(1, 3), data=st.data())
def test_gather(device, shape, data):
    a = data.draw(arrays(shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    ishape = tuple(
        data.draw(st.integers(1, 4)) if d == axis % len(shape) else data.draw(st.integers(1, n))
        for d, n in enumerate(shape)
    )
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    idx = rng.integers(0, shape[axis], size=ishape)  # repeats included
    want = np.empty(ishape)
    for pos in itertools.product(*map(range, ishape)):  # the definition, one element at a time
        src = list(pos)
        src[axis] = idx[pos]
        want[pos] = a[tuple(src)]
    x = tensor(a, device)
    out = F.gather(x, axis, _long(idx, device))
    np.testing.assert_array_equal(out.numpy(), want)
    assert tc.gradcheck(lambda t: t.gather(axis, _long(idx, device)), [x])


def _naive_scatter(a, axis, idx, src, add):
    """scatter / scatter_add by the definition, one element of index at a time."""
    want = a.copy()
    for pos in itertools.product(*map(range, idx.shape)):
        dst = list(pos)
        dst[axis] = idx[pos]
        want[tuple(dst)] = want[tuple(dst)] + src[pos] if add else src[pos]
    return want


@given_settings
@given(shape=shapes(1, 3), add=st.booleans(), data=st.data())
def test_scatter_and_scatter_add(device, shape, add, data):
    a = data.draw(arrays(shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    ax = axis % len(shape)
    ishape = tuple(data.draw(st.integers(1, n)) for n in shape)
    sshape = tuple(n + data.draw(st.integers(0, 1)) for n in ishape)  # src may be larger
    src = data.draw(arrays(sshape))
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    if add:  # repeats included: they add
        idx = rng.integers(0, shape[ax], size=ishape)
    else:  # no place named twice (which write wins is unspecified): distinct along the axis
        idx = np.argsort(rng.random(shape), axis=ax)[tuple(slice(n) for n in ishape)]
    want = _naive_scatter(a, ax, idx, src, add)
    op = F.scatter_add if add else F.scatter
    x, s = tensor(a, device), tensor(src, device)
    np.testing.assert_allclose(op(x, axis, _long(idx, device), s).numpy(), want, rtol=1e-12)
    assert tc.gradcheck(lambda t, u: op(t, axis, _long(idx, device), u), [x, s])
    method = getattr(x, "scatter_add" if add else "scatter")
    np.testing.assert_allclose(method(axis, _long(idx, device), s).numpy(), want, rtol=1e-12)
    if not add:  # in place, and with a number
        y = tc.Tensor(a, device=device)
        assert y.scatter_(axis, _long(idx, device), s.detach()) is y
        np.testing.assert_array_equal(y.numpy(), want)
        number = _naive_scatter(a, ax, idx, np.full(ishape, 7.5), False)
        np.testing.assert_array_equal(F.scatter(x, axis, _long(idx, device), 7.5).numpy(), number)


def test_scatter_one_hot_in_place_and_its_rules(device):
    y = _long([2, 0, 1], device)
    one_hot = tc.zeros((3, 4), device=device).scatter_(1, y.unsqueeze(1), 1.0)
    np.testing.assert_array_equal(one_hot.numpy(), np.eye(4, dtype=np.float32)[[2, 0, 1]])
    counts = tc.zeros(3, device=device).scatter_add(0, _long([1, 1, 2, 1], device),
                                                    tc.ones(4, device=device))  # fmt: skip
    np.testing.assert_array_equal(counts.numpy(), [0, 3, 1])
    before = tc.zeros((2, 3), device=device)
    version = before._version
    before.scatter_(0, _long([[1, 0, 1]], device), tc.ones((1, 3), device=device))
    assert before._version == version + 1
    w = tc.zeros(3, requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match="scatter_ on a leaf tensor"):
        w.scatter_(0, _long([0], device), 1.0)
    with pytest.raises(RuntimeError, match="scatter_ on a tensor made by"):
        (w * 2).scatter_(0, _long([0], device), 1.0)
    with pytest.raises(RuntimeError, match="scatter_: src requires grad"):
        tc.zeros(3, device=device).scatter_(0, _long([0], device), w)
    with tc.no_grad():
        w.scatter_(0, _long([2], device), 4.0)
    np.testing.assert_array_equal(w.numpy(), [0, 0, 4])


@given_settings
@given(shape=shapes(1, 3), data=st.data())
def test_index_select_narrow_unbind(device, shape, data):
    a = data.draw(arrays(shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    idx = np.asarray(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=5)))
    x = tensor(a, device)
    np.testing.assert_array_equal(
        F.index_select(x, axis, _long(idx, device)).numpy(), np.take(a, idx, axis=axis)
    )
    assert tc.gradcheck(lambda t: t.index_select(axis, _long(idx, device)), [x])
    start = data.draw(st.integers(-n, n - 1))
    length = data.draw(st.integers(0, n - start % n))
    s = start % n
    np.testing.assert_array_equal(
        x.narrow(axis, start, length).numpy(),
        np.moveaxis(np.moveaxis(a, axis, 0)[s : s + length], 0, axis),
    )
    assert tc.gradcheck(lambda t: F.narrow(t, axis, start, length), [x])
    pieces = x.unbind(axis)
    assert len(pieces) == n
    for i, p in enumerate(pieces):
        np.testing.assert_array_equal(p.numpy(), np.take(a, i, axis=axis))
    assert tc.gradcheck(lambda t: F.stack([p * (i + 1) for i, p in enumerate(t.unbind(axis))]), [x])


@given_settings
@given(shape=shapes(1, 3), descending=st.booleans(), data=st.data())
def test_sort_and_argsort(device, shape, descending, data):
    a = data.draw(arrays(shape))
    a = np.round(a * 2) / 2  # ties: a stable sort keeps their order
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = tensor(a, device)
    values, indices = F.sort(x, axis, descending=descending)
    key = -a if descending else a
    want_idx = np.argsort(key, axis=axis, kind="stable")
    np.testing.assert_array_equal(indices.numpy(), want_idx)
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(a, want_idx, axis=axis))
    assert indices.dtype == np.int64 and not indices.requires_grad
    np.testing.assert_array_equal(x.argsort(axis, descending).numpy(), want_idx)
    # the gradient of each value goes to the element it came from (off ties: a permutation)
    b = data.draw(arrays(shape))
    assert tc.gradcheck(lambda t: t.sort(axis, descending).values, [tensor(b, device)])


def test_sort_backward_puts_the_gradient_back_without_a_scatter_add(device, monkeypatch):
    """A sort is a permutation: its gradient is one assignment, not gather's add.at."""

    def refuse(*args):
        raise AssertionError("sort's backward scatter-added")

    monkeypatch.setattr(index_module, "_scatter_add", refuse)
    a = np.array([[3.0, np.nan, 1.0, 2.0, 1.0], [0.5, -1.0, 4.0, 4.0, 0.0]])
    g = np.arange(10.0).reshape(2, 5)
    for descending in (False, True):
        x = tc.Tensor(a, device=device, requires_grad=True)
        values, idx = x.sort(1, descending=descending)
        values.backward(tensor(g, device).data)
        want = np.empty_like(g)
        np.put_along_axis(want, idx.numpy(), g, axis=1)
        np.testing.assert_array_equal(to_numpy(x.grad), want)


def test_sort_puts_nan_last_ascending_and_first_descending(device):
    a = np.array([2.0, np.nan, -1.0, 2.0])
    v, i = tc.Tensor(a, device=device).sort()
    np.testing.assert_array_equal(i.numpy(), [2, 0, 3, 1])
    v, i = tc.Tensor(a, device=device).sort(descending=True)
    np.testing.assert_array_equal(i.numpy(), [1, 0, 3, 2])
    np.testing.assert_array_equal(v.numpy(), [np.nan, 2.0, 2.0, -1.0])


def test_where_method_in_torch_order(device):
    a = np.array([1.0, -2.0, 3.0])
    x = tensor(a, device)
    out = x.where(x > 0, tensor(np.zeros(3), device))
    np.testing.assert_array_equal(out.numpy(), np.where(a > 0, a, 0.0))
    out.sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), a > 0)


def test_where_with_the_condition_alone_gives_its_indices(device):
    a = np.array([[0.0, 1.5], [2.0, 0.0]])
    got = tc.where(tc.Tensor(a, device=device) > 0)
    assert isinstance(got, tuple) and len(got) == 2
    for g, w in zip(got, np.nonzero(a > 0)):
        np.testing.assert_array_equal(g.numpy(), w)
    with pytest.raises(TypeError, match=r"where: give both a and b"):
        tc.where(tc.Tensor(a) > 0, 1.0)


def test_tests_and_counts(device):
    a = np.array([[0.0, 1.5, np.nan], [np.inf, -np.inf, 0.0]])
    x = tc.Tensor(a, device=device)
    np.testing.assert_array_equal(tc.isnan(x).numpy(), np.isnan(a))
    np.testing.assert_array_equal(x.isinf().numpy(), np.isinf(a))
    np.testing.assert_array_equal(tc.isfinite(x).numpy(), np.isfinite(a))
    assert tc.isnan(x).dtype == np.bool_
    np.testing.assert_array_equal(tc.nonzero(x).numpy(), np.argwhere(a != 0))
    assert tc.nonzero(x).dtype == np.int64
    for got, want in zip(x.nonzero(as_tuple=True), np.nonzero(a)):
        np.testing.assert_array_equal(got.numpy(), want)
    assert tc.nonzero(tc.Tensor(np.float64(3.0), device=device)).shape == (1, 0)
    assert tc.count_nonzero(x).item() == 4
    np.testing.assert_array_equal(x.count_nonzero(dim=1).numpy(), [2, 2])
    np.testing.assert_array_equal(tc.count_nonzero(x, (0, 1)).numpy(), 4)
    assert bool(tc.any(x)) and not bool(x.all())
    np.testing.assert_array_equal(x.any(1).numpy(), [True, True])
    np.testing.assert_array_equal(tc.all(x, 0, keepdim=True).numpy(), [[False, True, False]])
    assert tc.all(x != 7).dtype == np.bool_ and tc.all(x != 7).shape == ()
    # NumPy's spellings too: np.any(t) and np.all(t) call t.any(axis=None, out=None)
    assert bool(np.any(x)) and not bool(np.all(x))
    np.testing.assert_array_equal(np.all(x != 0, axis=0).numpy(), [False, True, False])
    np.testing.assert_array_equal(x.any(axis=1, keepdims=True).numpy(), [[True], [True]])


def test_masks_combine_with_the_operators_as_in_pytorch(device):
    """``(x > 0) & (x < 1)``, ``a | b``, ``a ^ b``, ``~mask`` -- a causal mask's
    ``att.masked_fill(~tril.bool(), -inf)`` -- and logical_not/and/or/xor, against NumPy:
    each was a TypeError ("bad operand type for unary ~: 'Tensor'")."""
    a = np.array([[-1.0, 0.25, 0.0], [2.0, 0.5, -0.5]])
    x = tc.Tensor(a, device=device)
    pos, small = x > 0, x < 1
    for got, want in (
        (pos & small, (a > 0) & (a < 1)),
        (pos | small, (a > 0) | (a < 1)),
        (pos ^ small, (a > 0) ^ (a < 1)),
        (~pos, ~(a > 0)),
        (pos & True, a > 0),
        (False | pos, a > 0),
        (pos & np.array([True, False, True]), (a > 0) & [True, False, True]),
        (tc.bitwise_and(pos, small), (a > 0) & (a < 1)),
        (pos.logical_not(), a <= 0),
        (tc.logical_not(x), a == 0),  # any dtype: non-zero is True
        (tc.logical_and(x, pos), (a != 0) & (a > 0)),
        (x.logical_or(0), a != 0),
        (tc.logical_xor(pos, small), (a > 0) ^ (a < 1)),
    ):
        assert got.dtype == np.bool_ and got.device == device and not got.requires_grad
        np.testing.assert_array_equal(got.numpy(), want)
    n = tc.Tensor(np.array([6, 5, -1]), device=device)
    for got, want in ((n & 3, [2, 1, 3]), (n | 8, [14, 13, -1]), (~n, [-7, -6, 0]), (n ^ n, 0)):
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got.numpy(), np.broadcast_to(want, (3,)))
    tril = tc.tril(tc.ones(3, 3, device=device)).bool()
    att = tc.zeros(2, 3, 3, device=device).masked_fill(~tril, float("-inf"))
    np.testing.assert_array_equal(to_numpy(att.data)[1], np.where(np.tri(3) > 0, 0, -np.inf))
    with pytest.raises(TypeError, match=r"bitwise_and: expected bool or integer tensors.*float64"):
        _ = x & pos
    with pytest.raises(TypeError, match=r"bitwise_not: expected bool or integer tensors"):
        _ = ~x


def test_closeness_and_equality(device):
    a = np.array([1.0, 2.0, np.nan])
    x, y = tc.Tensor(a, device=device), tc.Tensor(a + 1e-7, device=device)
    np.testing.assert_array_equal(tc.isclose(x, y).numpy(), [True, True, False])
    np.testing.assert_array_equal(x.isclose(y, equal_nan=True).numpy(), [True, True, True])
    assert tc.allclose(x, y, equal_nan=True) is True
    assert x.allclose(y) is False
    assert tc.equal(x[:2], x[:2]) is True
    assert x.equal(x) is False  # NaN equals nothing
    assert tc.equal(x[:2], x[:1]) is False  # no broadcasting
    assert tc.equal(x[:2], y[:2]) is False


def test_argmax_and_argmin_at_top_level(device):
    a = np.array([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    x = tc.Tensor(a, device=device)
    assert tc.argmax(x).item() == 5 and tc.argmin(x).item() == 0
    np.testing.assert_array_equal(tc.argmax(x, 1).numpy(), [1, 2])
    np.testing.assert_array_equal(tc.argmin(x, dim=0, keepdim=True).numpy(), [[0, 1, 0]])


def test_against_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 5))
    a[0, 0, :2] = 0.25  # a tie
    idx = rng.integers(0, 4, size=(2, 6, 5))
    sel = np.array([3, 0, 3])
    perm = np.argsort(rng.random((3, 4, 5)), axis=1)[:, :3]  # distinct along dim 1
    cases = [
        (lambda t: t.gather(1, _long(idx, device)), lambda t: t.gather(1, torch.tensor(idx))),
        (lambda t: tc.gather(t, -1, _long(idx[:, :4, :2] + 1, device)),
         lambda t: torch.gather(t, -1, torch.tensor(idx[:, :4, :2] + 1))),
        (lambda t: t.scatter(1, _long(perm, device), t[:, :3] * 2),
         lambda t: t.scatter(1, torch.tensor(perm), t[:, :3] * 2)),
        (lambda t: tc.scatter_add(t, 2, _long(idx[:, :4], device), t[:2].exp()),
         lambda t: torch.scatter_add(t, 2, torch.tensor(idx[:, :4]), t[:2].exp())),
        (lambda t: tc.scatter(t, 1, _long(perm[:1], device), -1.5),
         lambda t: torch.scatter(t, 1, torch.tensor(perm[:1]), -1.5)),
        (lambda t: tc.index_select(t, 1, _long(sel, device)),
         lambda t: torch.index_select(t, 1, torch.tensor(sel))),
        (lambda t: tc.sort(t, 2).values, lambda t: torch.sort(t, 2).values),
        (lambda t: t.sort(0, descending=True)[0], lambda t: t.sort(0, descending=True)[0]),
        (lambda t: tc.narrow(t, 2, -3, 2), lambda t: torch.narrow(t, 2, -3, 2)),
        (lambda t: tc.stack(t.unbind(1)[::-1]), lambda t: torch.stack(t.unbind(1)[::-1])),
        (lambda t: t.where(t > 0, t * 3), lambda t: t.where(t > 0, t * 3)),
    ]  # fmt: skip
    for ours, theirs in cases:
        x = tc.Tensor(a, requires_grad=True, device=device)
        tx = torch.tensor(a, requires_grad=True)
        out, tout = ours(x), theirs(tx)
        v = rng.standard_normal(out.shape)
        out.backward(v)
        tout.backward(torch.tensor(v))
        np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
        np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12)
    x, tx = tc.Tensor(a, device=device), torch.tensor(a)
    for name in ("argsort", "sort"):
        for kw in ({}, {"dim": 0}, {"dim": 1, "descending": True}):
            got, want = getattr(tc, name)(x, **kw), getattr(torch, name)(tx, **kw, stable=True)
            got, want = (got.indices, want.indices) if name == "sort" else (got, want)
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    m = tc.Tensor(a > 0.5, device=device)
    np.testing.assert_array_equal(tc.nonzero(m).numpy(), torch.nonzero(torch.tensor(a > 0.5)))
    np.testing.assert_array_equal(
        tc.count_nonzero(m, dim=(0, 2)).numpy(), torch.count_nonzero(torch.tensor(a > 0.5), (0, 2))
    )
    np.testing.assert_array_equal(tc.any(m, 2).numpy(), torch.any(torch.tensor(a > 0.5), 2))
    np.testing.assert_array_equal(tc.all(m, 0).numpy(), torch.all(torch.tensor(a > 0.5), 0))


def test_errors():
    x = tc.zeros((2, 3))
    with pytest.raises(TypeError, match="gather: index must be an integer tensor"):
        x.gather(1, tc.zeros((2, 1)))
    with pytest.raises(ValueError, match=r"gather: index of shape \(2,\) must have as many"):
        x.gather(1, tc.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"gather: index of shape \(3, 1\) must have"):
        x.gather(1, tc.zeros((3, 1), dtype=tc.long))
    with pytest.raises(IndexError, match="gather: index out of range for dim 1 of size 3"):
        x.gather(1, tc.tensor([[3], [0]]))
    with pytest.raises(IndexError, match="scatter: index out of range for dim 1 of size 3"):
        x.scatter(1, tc.tensor([[3], [0]]), 1.0)
    with pytest.raises(ValueError, match=r"scatter_add: index of shape \(2, 2\) .* no larger "
                       r"than src \(2, 1\)"):  # fmt: skip
        x.scatter_add(1, tc.tensor([[0, 1], [0, 1]]), tc.zeros((2, 1)))
    with pytest.raises(TypeError, match="scatter: src has dtype float64 but the input float32"):
        x.scatter(1, tc.tensor([[0], [1]]), tc.zeros((2, 1), dtype=tc.float64))
    with pytest.raises(IndexError, match="index_select: index out of range for dim 0 of size 2"):
        x.index_select(0, tc.tensor([-1]))
    with pytest.raises(ValueError, match="index_select: index must be 1-D"):
        x.index_select(0, tc.tensor([[0]]))
    with pytest.raises(IndexError, match="narrow: start 2 and length 2 do not fit in dim 0"):
        x.narrow(0, 2, 2)
    with pytest.raises(ValueError, match="sort: dim 2 is out of range"):
        x.sort(2)
    with pytest.raises(ValueError, match="unbind: cannot unbind a 0-D tensor"):
        tc.tensor(1.0).unbind()
