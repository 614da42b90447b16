"""matmul and linear (and the products, einsum, scaled_dot_product_attention): gradcheck over
hypothesis shapes (1-D, 2-D, batched with broadcasting), forward against NumPy and naive loops,
forward + gradient against PyTorch, errors."""

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

side = st.integers(1, 4)


@st.composite
def matmul_shapes(draw):
    """Two shapes that numpy.matmul accepts: vectors, matrices, or stacks whose batch axes
    broadcast (one side may have fewer or size-1 batch axes)."""
    m, k, n = draw(side), draw(side), draw(side)
    kind = draw(st.sampled_from(["vv", "mv", "vm", "mm", "batched"]))
    if kind == "vv":
        return (k,), (k,)
    if kind == "mv":
        return (m, k), (k,)
    if kind == "vm":
        return (k,), (k, n)
    if kind == "mm":
        return (m, k), (k, n)
    batch = tuple(draw(st.lists(side, min_size=1, max_size=2)))
    other = tuple(1 if draw(st.booleans()) else b for b in batch)[
        draw(st.integers(0, len(batch))) :
    ]
    if draw(st.booleans()):
        batch, other = other, batch
    return batch + (m, k), other + (k, n)


@given_settings
@given(shapes=matmul_shapes(), data=st.data())
def test_matmul_gradcheck_and_forward(device, shapes, data):
    a, b = data.draw(arrays(shapes[0])), data.draw(arrays(shapes[1]))
    x, y = tensor(a, device), tensor(b, device)
    out = x @ y
    expected = np.matmul(a, b)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-14)
    assert tc.gradcheck(F.matmul, [x, y])


@given_settings
@given(
    lead=st.lists(side, min_size=0, max_size=2),
    fin=side,
    fout=side,
    bias=st.booleans(),
    data=st.data(),
)
def test_linear_gradcheck_and_forward(device, lead, fin, fout, bias, data):
    a = data.draw(arrays(tuple(lead) + (fin,)))
    w = data.draw(arrays((fout, fin)))
    b = data.draw(arrays((fout,))) if bias else None
    inputs = [tensor(a, device), tensor(w, device)] + ([tensor(b, device)] if bias else [])
    out = F.linear(*inputs)
    expected = a @ w.T + (b if bias else 0)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-14)
    assert tc.gradcheck(F.linear, inputs)


def test_linear_with_only_some_inputs_requiring_grad(device):
    rng = np.random.default_rng(0)
    x = tc.Tensor(rng.standard_normal((5, 3)), device=device)  # data: no gradient
    w = tc.Tensor(rng.standard_normal((2, 3)), requires_grad=True, device=device)
    b = tc.Tensor(rng.standard_normal(2), device=device)
    F.linear(x, w, b).sum().backward()
    assert x.grad is None and b.grad is None
    np.testing.assert_allclose(to_numpy(w.grad), np.ones((5, 2)).T @ x.numpy())


@pytest.mark.parametrize(
    ("sa", "sb"),
    [((3,), (3,)), ((4, 3), (3,)), ((3,), (3, 2)), ((4, 3), (3, 2)), ((2, 1, 4, 3), (5, 3, 2))],
)
def test_matmul_against_torch(device, sa, sb):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    x = tc.Tensor(a, requires_grad=True, device=device)
    y = tc.Tensor(b, requires_grad=True, device=device)
    out = F.matmul(x, y)
    v = rng.standard_normal(out.shape)
    out.backward(v)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    tout = torch.matmul(tx, ty)
    tout.backward(torch.tensor(v))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(to_numpy(y.grad), ty.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("lead", [(), (6,), (2, 3)])
def test_linear_against_torch_float32(device, lead):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a = rng.standard_normal(lead + (4,)).astype(np.float32)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    ts = [tc.Tensor(v, requires_grad=True, device=device) for v in (a, w, b)]
    out = F.linear(*ts)
    assert out.dtype == np.float32
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    tts = [torch.tensor(v, requires_grad=True) for v in (a, w, b)]
    tout = torch.nn.functional.linear(*tts)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    for t, tt in zip(ts, tts):
        assert t.grad.dtype == np.float32
        np.testing.assert_allclose(to_numpy(t.grad), tt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(4, 5\) do not align"):
        F.matmul(tc.Tensor(np.ones((2, 3))), tc.Tensor(np.ones((4, 5))))
    with pytest.raises(ValueError, match=r"input has 3 features .* expects 4"):
        F.linear(tc.Tensor(np.ones((2, 3))), tc.Tensor(np.ones((5, 4))))


# --------------------------------------------------------------------------- mm, bmm, mv, dot,
# outer, tril, triu, einsum and logsumexp


@given_settings
@given(b=side, n=side, m=side, p=side, data=st.data())
def test_products_gradcheck_and_forward(device, b, n, m, p, data):
    A, B = data.draw(arrays((b, n, m))), data.draw(arrays((b, m, p)))
    u, v, w = data.draw(arrays((m,))), data.draw(arrays((m,))), data.draw(arrays((p,)))
    loops = np.array([[[sum(A[i, j, k] * B[i, k, l] for k in range(m)) for l in range(p)]
                       for j in range(n)] for i in range(b)])  # fmt: skip
    ta, tb = tensor(A, device), tensor(B, device)
    tu, tv, tw = tensor(u, device), tensor(v, device), tensor(w, device)
    np.testing.assert_allclose(tc.bmm(ta, tb).numpy(), loops, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ta[0].mm(tb[0]).numpy(), loops[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        tc.mv(ta[0], tu).numpy(), [sum(A[0, j] * u) for j in range(n)], rtol=1e-12, atol=1e-14
    )
    np.testing.assert_allclose(tu.dot(tv).numpy(), sum(u * v), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(tc.outer(tu, tw).numpy(), [[x * y for y in w] for x in u])
    assert tc.gradcheck(tc.bmm, [ta, tb])
    assert tc.gradcheck(lambda x, y: tc.mm(x, y), [tensor(A[0], device), tensor(B[0], device)])
    assert tc.gradcheck(tc.mv, [tensor(A[0], device), tu])
    assert tc.gradcheck(tc.dot, [tu, tv])
    assert tc.gradcheck(tc.outer, [tu, tw])


@given_settings
@given(n=side, m=side, batch=st.lists(side, max_size=2), k=st.integers(-4, 4), data=st.data())
def test_tril_and_triu(device, n, m, batch, k, data):
    a = data.draw(arrays((*batch, n, m)))
    i, j = np.arange(n)[:, None], np.arange(m)[None, :]
    x = tensor(a, device)
    np.testing.assert_array_equal(tc.tril(x, k).numpy(), np.where(j - i <= k, a, 0))
    np.testing.assert_array_equal(x.triu(k).numpy(), np.where(j - i >= k, a, 0))
    assert tc.gradcheck(lambda t: t.tril(k), [x])
    assert tc.gradcheck(lambda t: tc.triu(t, diagonal=k), [x])


@st.composite
def einsum_cases(draw):
    """An equation over the letters 'abcd' (lengths 1 to 3) and its operands' shapes: 1 to 3
    operands of 0 to 3 distinct letters each, an explicit output (a subset of the letters used,
    in any order) or an implicit one."""
    sizes = {c: draw(st.integers(1, 3)) for c in "abcd"}
    letters = st.permutations("abcd").map("".join)
    inputs = [draw(letters)[: draw(st.integers(0, 3))] for _ in range(draw(st.integers(1, 3)))]
    used = sorted(set("".join(inputs)))
    if draw(st.booleans()):
        out = "".join(draw(st.permutations(used))[: draw(st.integers(0, len(used)))])
        equation = f"{','.join(inputs)}->{out}"
    else:
        every = "".join(inputs)
        out = "".join(sorted(c for c in used if every.count(c) == 1))
        equation = ",".join(inputs)
    return equation, inputs, out, sizes


@given_settings
@given(case=einsum_cases(), data=st.data())
def test_einsum_gradcheck_and_forward_against_loops(device, case, data):
    equation, inputs, out, sizes = case
    arrs = [data.draw(arrays(tuple(sizes[c] for c in s))) for s in inputs]
    want = np.zeros(tuple(sizes[c] for c in out))
    letters = sorted(set("".join(inputs)))
    for values in itertools.product(*(range(sizes[c]) for c in letters)):  # every assignment
        at = dict(zip(letters, values))
        term = np.prod([a[tuple(at[c] for c in s)] for a, s in zip(arrs, inputs)])
        want[tuple(at[c] for c in out)] += term
    ts = [tensor(a, device) for a in arrs]
    got = tc.einsum(equation, *ts)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    assert tc.gradcheck(lambda *t: F.einsum(equation, *t), ts)


EINSUM_EQUATIONS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ijk->kij", [(2, 3, 4)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]),
    ("ij,kj", [(2, 3), (4, 3)]),
    ("ba", [(2, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("nchw,oc->nohw", [(2, 3, 2, 2), (4, 3)]),
    ("i,jk->ijk", [(2,), (3, 1)]),
    ("abc,cd->abd", [(1, 2, 3), (3, 2)]),
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUM_EQUATIONS)
def test_einsum_against_torch(device, equation, shapes):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal(s) for s in shapes]
    xs = [tc.Tensor(a, requires_grad=True, device=device) for a in arrs]
    txs = [torch.tensor(a, requires_grad=True) for a in arrs]
    out, tout = tc.einsum(equation, *xs), torch.einsum(equation, *txs)
    v = rng.standard_normal(out.shape)
    out.backward(v)
    tout.backward(torch.tensor(v))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    for x, tx in zip(xs, txs):
        np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    listed = tc.einsum(equation, [x.detach() for x in xs])  # the operands as one list
    np.testing.assert_array_equal(listed.numpy(), out.numpy())


ELLIPSIS_EQUATIONS = [
    ("...id,...jd->...ij", [(2, 3, 4, 5), (2, 3, 6, 5)]),  # attention scores over any heads
    ("...ij,...jk->...ik", [(2, 3, 4), (1, 4, 5)]),  # a size-1 axis broadcast
    ("...ij,jk", [(2, 3, 4), (4, 5)]),  # implicit: the '...' axes first
    ("b...,b...->b", [(2, 3, 4), (2, 3, 4)]),  # summed over when the output leaves them out
    ("i...->i", [(2, 3, 4)]),
    ("...ij->...ji", [(3, 3)]),  # '...' of no axes
    ("...i,...i->...", [(4, 1, 3), (2, 3)]),  # operands with different numbers of them
    ("...", [(2, 3)]),
]


@pytest.mark.parametrize("equation, shapes", ELLIPSIS_EQUATIONS)
def test_einsum_ellipsis_against_numpy_gradcheck_and_torch(device, equation, shapes):
    """'...' as PyTorch's: any number of axes, broadcast across the operands; forward against
    np.einsum, a gradcheck, and forward + gradient against PyTorch."""
    rng = np.random.default_rng(1)
    arrs = [rng.standard_normal(s) for s in shapes]
    out = tc.einsum(equation, *[tensor(a, device) for a in arrs])
    lhs, arrow, output = equation.partition("->")
    if arrow and "..." not in output:  # NumPy keeps the '...' axes: sum them here
        full = np.einsum(f"{lhs}->{output}...", *arrs)
        want = full.reshape(full.shape[: len(output)] + (-1,)).sum(-1)
    else:
        want = np.einsum(equation, *arrs)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)
    assert tc.gradcheck(lambda *t: tc.einsum(equation, *t), [tensor(a, device) for a in arrs])
    torch = pytest.importorskip("torch")
    xs = [tc.Tensor(a, requires_grad=True, device=device) for a in arrs]
    txs = [torch.tensor(a, requires_grad=True) for a in arrs]
    y, ty = tc.einsum(equation, *xs), torch.einsum(equation, *txs)
    v = rng.standard_normal(y.shape)
    y.backward(v)
    ty.backward(torch.tensor(v))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    for x, tx in zip(xs, txs):
        np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


BROADCAST_LETTER_EQUATIONS = [
    ("ij,ij->ij", [(1, 3), (2, 3)]),
    ("ij,jk->ik", [(2, 1), (3, 4)]),  # a summed letter of length 1: its one slice, 3 times
    ("ij,jk->ik", [(2, 3), (1, 4)]),
    ("ij,ij->", [(1, 3), (2, 1)]),  # each operand broadcast along another letter
    ("ij,ij->i", [(1, 3), (2, 3)]),
    ("bij,bjk->bik", [(1, 2, 3), (4, 3, 2)]),  # a batch letter
    ("ij,ij,ij->ij", [(1, 3), (2, 1), (1, 1)]),
    ("...ij,jk->...ik", [(2, 2, 1), (3, 4)]),  # beside '...'
]


def _letters_broadcast(equation, arrs):
    """The operands of ``equation`` with each letter's length-1 axes broadcast to its other
    length, for np.einsum, which refuses them."""
    inputs = [s.replace("...", "") for s in equation.split("->")[0].split(",")]
    size = {}
    for s, a in zip(inputs, arrs):
        size.update((c, n) for c, n in zip(s, a.shape[a.ndim - len(s) :]) if n != 1)
    return [
        np.broadcast_to(a, a.shape[: a.ndim - len(s)] + tuple(size.get(c, 1) for c in s))
        for s, a in zip(inputs, arrs)
    ]


@pytest.mark.parametrize("equation, shapes", BROADCAST_LETTER_EQUATIONS)
def test_einsum_broadcasts_a_letters_length_1_axes_as_pytorch(device, equation, shapes):
    """einsum('ij,ij->ij', ones(1, 3), ones(2, 3)) was refused ("letter 'i' names axes of
    different lengths [1, 2]"); torch.einsum broadcasts a length-1 axis against the letter's
    other length, and the operand's gradient is summed back over it."""
    rng = np.random.default_rng(2)
    arrs = [rng.standard_normal(s) for s in shapes]
    xs = [tensor(a, device) for a in arrs]
    out = tc.einsum(equation, *xs)
    want = np.einsum(equation, *_letters_broadcast(equation, arrs))
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)
    v = rng.standard_normal(out.shape)
    out.backward(tc.Tensor(v, device=device))
    assert [x.grad.shape for x in xs] == shapes
    assert tc.gradcheck(lambda *t: tc.einsum(equation, *t), [tensor(a, device) for a in arrs])
    with pytest.raises(ValueError, match=r"letter 'i' names axes of different lengths \[1, 2, 3"):
        tc.einsum("ij,ij,ij->ij", tc.zeros((1, 3)), tc.zeros((2, 3)), tc.zeros((3, 3)))
    torch = pytest.importorskip("torch")
    txs = [torch.tensor(a, requires_grad=True) for a in arrs]
    tout = torch.einsum(equation, *txs)
    tout.backward(torch.tensor(v))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    for x, tx in zip(xs, txs):
        np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_einsum_refuses_what_it_does_not_implement_by_name():
    x = tc.zeros((3, 3))
    with pytest.raises(ValueError, match=r"one ellipsis '...' per operand, got '....ij'"):
        tc.einsum("....ij->ij", x)
    with pytest.raises(ValueError, match=r"subscripts '...ijk' name more axes than the operand"):
        tc.einsum("...ijk->ij", x)
    with pytest.raises(
        ValueError, match=r"the axes under '...' do not broadcast: \[\(3,\), \(2,\)\]"
    ):
        tc.einsum("...j,...j->...", x, tc.zeros((2, 3)))
    with pytest.raises(NotImplementedError, match="a letter repeated in one operand"):
        tc.einsum("ii->i", x)
    with pytest.raises(TypeError, match="sublist form einsum.* is not supported"):
        tc.einsum(x, [0, 1], [1])
    with pytest.raises(ValueError, match="subscripts 'ijk' name 3 axes, but the operand has"):
        tc.einsum("ijk->i", x)
    with pytest.raises(ValueError, match="the equation has 2 operands, got 1"):
        tc.einsum("ij,jk->ik", x)
    with pytest.raises(ValueError, match="the output 'iz' must name distinct letters"):
        tc.einsum("ij->iz", x)
    with pytest.raises(ValueError, match=r"letter 'j' names axes of different lengths \[2, 3\]"):
        tc.einsum("ij,jk->ik", x, tc.zeros((2, 2)))


@given_settings
@given(shape=shapes(1, 3), keepdim=st.booleans(), data=st.data())
def test_logsumexp(device, shape, keepdim, data):
    a = data.draw(arrays(shape, lo=-5, hi=5))
    pair = st.just((0, -1)) if len(shape) > 1 else st.nothing()
    dim = data.draw(st.one_of(st.integers(-len(shape), len(shape) - 1), pair))
    x = tensor(a, device)
    want = np.log(np.exp(a).sum(axis=dim, keepdims=keepdim))
    np.testing.assert_allclose(tc.logsumexp(x, dim, keepdim).numpy(), want, rtol=1e-12)
    assert tc.gradcheck(lambda t: t.logsumexp(dim, keepdim=keepdim), [x])


def test_logsumexp_is_stable_and_matches_torch(device):
    big = tc.Tensor(np.array([[1000.0, 1000.0], [-1000.0, -np.inf]], np.float32), device=device)
    np.testing.assert_allclose(tc.logsumexp(big, 1).numpy(), [1000 + np.log(2), -1000], rtol=1e-6)
    ninf = tc.Tensor(np.full(3, -np.inf), device=device)
    assert tc.logsumexp(ninf, 0).item() == -np.inf
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((3, 4, 5)) * 30
    for dim, keepdim in ((1, False), (-1, True), ((0, 2), False)):
        x = tc.Tensor(a, requires_grad=True, device=device)
        tx = torch.tensor(a, requires_grad=True)
        out, tout = x.logsumexp(dim, keepdim), torch.logsumexp(tx, dim, keepdim)
        v = np.random.default_rng(1).standard_normal(out.shape)
        out.backward(v)
        tout.backward(torch.tensor(v))
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_products_and_triangles_against_torch_and_their_errors(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, b, u = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 5)), rng.standard_normal(4)
    for ours, theirs, args in (
        (tc.bmm, torch.bmm, (a, b)),
        (tc.mm, torch.mm, (a[0], b[0])),
        (tc.mv, torch.mv, (a[0], u)),
        (tc.dot, torch.dot, (u, u[::-1].copy())),
        (tc.outer, torch.outer, (u, b[0, 0])),
        (lambda t: tc.tril(t, 1), lambda t: torch.tril(t, 1), (a,)),
        (lambda t: t.triu(-1), lambda t: t.triu(-1), (a,)),
    ):
        xs = [tc.Tensor(x, requires_grad=True, device=device) for x in args]
        txs = [torch.tensor(x, requires_grad=True) for x in args]
        out, tout = ours(*xs), theirs(*txs)
        v = rng.standard_normal(out.shape)
        out.backward(v)
        tout.backward(torch.tensor(v))
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
        for x, tx in zip(xs, txs):
            np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"bmm: expected a batch of matrices \(3-D\), got shape"):
        tc.bmm(tc.zeros((3, 4)), tc.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"bmm: shapes \(2, 3, 4\) and \(3, 4, 5\) do not align"):
        tc.bmm(tc.zeros((2, 3, 4)), tc.zeros((3, 4, 5)))
    with pytest.raises(ValueError, match=r"mv: expected a vector \(1-D\), got shape \(3, 1\)"):
        tc.mv(tc.zeros((2, 3)), tc.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"dot: vectors of different lengths, \(3,\) and \(2,\)"):
        tc.dot(tc.zeros(3), tc.zeros(2))
    with pytest.raises(ValueError, match=r"tril: expected a matrix or a batch of them"):
        tc.tril(tc.zeros(3))


# --------------------------------------------------------------------------- attention


def naive_attention(q, k, v, allowed, scale, additive=None):
    """A loop over each batch element and query position: softmax over the allowed keys of
    q.k * scale (+ additive), then the weighted sum of the values."""
    lead = q.shape[:-2]
    out = np.zeros(lead + (q.shape[-2], v.shape[-1]))
    for idx in np.ndindex(*lead):
        for i in range(q.shape[-2]):
            s = np.array([q[idx][i] @ k[idx][j] * scale for j in range(k.shape[-2])])
            if additive is not None:
                s = s + additive[i]
            s = np.where(allowed[i], s, -np.inf)
            w = np.exp(s - s.max())
            out[idx][i] = (w / w.sum()) @ v[idx]
    return out


@st.composite
def attention_cases(draw):
    """(q, k, v shapes, mask kind, scale): heads and batch axes, L != S, Ev != E."""
    lead = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    n_q, n_k, e, ev = draw(side), draw(side), draw(side), draw(side)
    kind = draw(st.sampled_from(["none", "causal", "bool", "float"]))
    if kind == "causal":
        n_k = max(n_k, n_q)  # every query sees at least the first key either way
    scale = draw(st.sampled_from([None, 0.5]))
    return lead + (n_q, e), lead + (n_k, e), lead + (n_k, ev), kind, scale


def _attention_args(kind, n_q, n_k, rng):
    """The mask arguments and, for the naive loop, the allowed pattern and additive term."""
    if kind == "causal":
        return {"is_causal": True}, np.tri(n_q, n_k, dtype=bool), None
    if kind == "bool":
        allowed = rng.random((n_q, n_k)) < 0.6
        allowed[:, 0] = True  # no row without a key
        return {"attn_mask": allowed}, allowed, None
    if kind == "float":
        add = rng.standard_normal((n_q, n_k))
        return {"attn_mask": add}, np.ones((n_q, n_k), bool), add
    return {}, np.ones((n_q, n_k), bool), None


@given_settings
@given(case=attention_cases(), seed=st.integers(0, 2**16))
def test_scaled_dot_product_attention_gradcheck_and_naive(device, case, seed):
    sq, sk, sv, kind, scale = case
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal(s) for s in (sq, sk, sv))
    kwargs, allowed, additive = _attention_args(kind, sq[-2], sk[-2], rng)
    if "attn_mask" in kwargs:
        kwargs["attn_mask"] = tc.Tensor(kwargs["attn_mask"], device=device)
    want = naive_attention(
        q, k, v, allowed, 1 / np.sqrt(sq[-1]) if scale is None else scale, additive
    )

    def f(tq, tk, tv):
        return F.scaled_dot_product_attention(tq, tk, tv, scale=scale, **kwargs)

    out = f(*(tensor(a, device) for a in (q, k, v)))
    assert out.shape == want.shape
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-10, atol=1e-12)
    assert tc.gradcheck(f, [tensor(a, device) for a in (q, k, v)])


@pytest.mark.parametrize("kind", ["none", "causal", "bool", "float"])
def test_scaled_dot_product_attention_against_torch(device, kind):
    """A causal self-attention's heads, (B, heads, T, head size), as nanoGPT calls it."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal((2, 3, 5, 4)) for _ in range(3))
    kwargs, _, _ = _attention_args(kind, 5, 5, rng)
    g = rng.standard_normal((2, 3, 5, 4))
    ours = [tc.Tensor(a, requires_grad=True, device=device) for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    tkw = {n: torch.tensor(m) if n == "attn_mask" else m for n, m in kwargs.items()}
    kw = {n: tc.Tensor(m, device=device) if n == "attn_mask" else m for n, m in kwargs.items()}
    y = F.scaled_dot_product_attention(*ours, dropout_p=0.0, **kw)
    ty = torch.nn.functional.scaled_dot_product_attention(*theirs, dropout_p=0.0, **tkw)
    y.backward(tc.Tensor(g, device=device))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, ta in zip(ours, theirs):
        np.testing.assert_allclose(to_numpy(a.grad), ta.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_scaled_dot_product_attention_dropout_and_errors():
    x = tc.Tensor(np.random.default_rng(0).standard_normal((2, 6, 4)))
    tc.manual_seed(0)
    dropped = F.scaled_dot_product_attention(x, x, x, dropout_p=0.5)
    assert not np.allclose(dropped.numpy(), F.scaled_dot_product_attention(x, x, x).numpy())
    with pytest.raises(ValueError, match=r"give attn_mask or is_causal=True, not both"):
        F.scaled_dot_product_attention(x, x, x, attn_mask=np.ones((6, 6), bool), is_causal=True)
    with pytest.raises(ValueError, match=r"query and key must have the same feature size"):
        F.scaled_dot_product_attention(x, x[..., :3], x)
    with pytest.raises(ValueError, match=r"key and value must have the same length"):
        F.scaled_dot_product_attention(x, x, x[:, :5])
    with pytest.raises(ValueError, match=r"enable_gqa=True is not supported"):
        F.scaled_dot_product_attention(x, x, x, enable_gqa=True)
    with pytest.raises(ValueError, match=r"query must be a Tensor of at least 2 dims"):
        F.scaled_dot_product_attention(x.numpy(), x, x)


def test_matmul_of_a_zero_dimensional_tensor_is_refused_in_words():
    """tc.tensor(1.0) @ tc.ones(3) was a bare IndexError; PyTorch: both arguments need 1 dim."""
    for a, b in ((tc.Tensor(1.0), tc.ones(3)), (tc.ones(3), tc.Tensor(1.0))):
        with pytest.raises(ValueError, match=r"matmul: both arguments need at least 1 dim"):
            a @ b
