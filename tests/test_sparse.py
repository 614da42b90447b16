"""Embeddings: gradcheck of the table over hypothesis-drawn index shapes (repeats and the
padding row included), forward against a loop, nn.Embedding against PyTorch, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import given_settings, tensor

import tinycolor as tc
from tinycolor import functional as F
from tinycolor import nn
from tinycolor.backend import to_numpy


def loop_embedding(w, idx):
    """One row copied per index."""
    out = np.empty(idx.shape + (w.shape[1],))
    for pos, i in np.ndenumerate(idx):
        out[pos] = w[i]
    return out


@given_settings
@given(
    idx_shape=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple),
    vocab=st.integers(1, 5),
    dim=st.integers(1, 4),
    pad=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_embedding_gradcheck_and_forward(device, idx_shape, vocab, dim, pad, seed):
    """F.embedding (nn.Embedding for a token or class embedding translated from PyTorch met an
    AttributeError): indices repeat (their gradients add) and the padding row gets none."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((vocab, dim))
    idx = rng.integers(0, vocab, size=idx_shape)
    padding_idx = int(rng.integers(0, vocab)) if pad else None
    weight = tensor(w, device)
    ids = tc.tensor(idx, device=device)
    out = F.embedding(ids, weight, padding_idx)
    assert out.shape == idx_shape + (dim,)
    np.testing.assert_array_equal(out.numpy(), loop_embedding(w, idx))
    assert tc.gradcheck(lambda t: F.embedding(ids, t), [weight])
    g = rng.standard_normal(idx_shape + (dim,))
    weight.grad = None  # what gradcheck left
    out.backward(tc.Tensor(g, device=device))
    want = np.zeros_like(w)
    for pos, i in np.ndenumerate(idx):
        want[i] += g[pos]
    if padding_idx is not None:
        want[padding_idx] = 0
    np.testing.assert_allclose(to_numpy(weight.grad), want, rtol=1e-12, atol=1e-12)


def test_embedding_module_against_torch(device):
    """nn.Embedding's init (N(0, 1), the padding row zeroed), repr, state_dict, output and
    gradient as PyTorch's; a negative padding_idx counts from the end; from_pretrained."""
    torch = pytest.importorskip("torch")
    tc.manual_seed(0)
    emb = nn.Embedding(10, 4, padding_idx=-2).to(device)
    assert emb.padding_idx == 8 and repr(emb) == "Embedding(10, 4, padding_idx=8)"
    assert list(emb.state_dict()) == ["weight"] and emb.weight.shape == (10, 4)
    w = to_numpy(emb.weight.data)
    assert np.all(w[8] == 0) and abs(w.std() - 1) < 0.5
    idx = np.array([[1, 8, 3, 3], [0, 9, 8, 1]])
    g = np.random.default_rng(1).standard_normal((2, 4, 4)).astype(np.float32)
    out = emb(tc.tensor(idx, device=device))
    out.backward(tc.Tensor(g, device=device))
    temb = torch.nn.Embedding(10, 4, padding_idx=-2)
    assert repr(temb) == repr(emb)
    temb.weight.data = torch.tensor(w)
    tout = temb(torch.tensor(idx))
    tout.backward(torch.tensor(g))
    np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
    np.testing.assert_allclose(to_numpy(emb.weight.grad), temb.weight.grad.numpy(), atol=1e-6)
    table = tc.tensor(np.arange(6.0).reshape(3, 2))
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and frozen(tc.tensor([2])).numpy().tolist() == [[4, 5]]
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    frozen.weight.data[0, 0] = 7.0
    assert table.numpy()[0, 0] == 0.0  # a copy, as PyTorch's


def test_embedding_refuses_bad_indices_and_settings():
    emb = nn.Embedding(4, 2)
    with pytest.raises(IndexError, match=r"indices must lie in 0 .. 3 \(the table has 4 rows\)"):
        emb(tc.tensor([0, 4]))
    with pytest.raises(IndexError, match="got values from -1 to 1"):
        emb(tc.tensor([-1, 1]))
    with pytest.raises(TypeError, match="expected integer indices"):
        emb(tc.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"padding_idx must be an index of the 4 embeddings"):
        nn.Embedding(4, 2, padding_idx=4)
    with pytest.raises(ValueError, match="num_embeddings must be a positive whole number"):
        nn.Embedding(0, 2)


def test_embedding_takes_pytorchs_arguments_in_pytorchs_order():
    """nn.Embedding(10, 3, None, 2.0) is PyTorch's max_norm=2.0: refused by name (the table's
    rows are never renormalised), not taken for the table _weight; PyTorch's other options are
    accepted at their defaults, in its order, and _weight / _freeze are PyTorch's."""
    torch = pytest.importorskip("torch")
    import inspect

    ours = list(inspect.signature(nn.Embedding).parameters)
    theirs = list(inspect.signature(torch.nn.Embedding).parameters)
    assert ours == theirs
    for args, kwargs, name in (
        ((10, 3, None, 2.0), {}, "max_norm=2.0"),
        ((10, 3), {"norm_type": 1.0}, "norm_type=1.0"),
        ((10, 3, None, None, 2.0, True), {}, "scale_grad_by_freq=True"),
        ((10, 3), {"sparse": True}, "sparse=True"),
    ):
        with pytest.raises(ValueError, match=rf"^Embedding: {name} is not supported, only "):
            nn.Embedding(*args, **kwargs)
    emb = nn.Embedding(10, 3, 0, None, 2.0, False, False, None, False)
    assert emb.weight.shape == (10, 3) and emb.weight.requires_grad and emb.max_norm is None
    table = np.arange(6.0).reshape(3, 2)
    for freeze in (False, True):
        emb = nn.Embedding(3, 2, None, None, 2.0, False, False, tc.tensor(table), freeze)
        temb = torch.nn.Embedding(3, 2, None, None, 2.0, False, False, torch.tensor(table), freeze)
        assert emb.weight.requires_grad == temb.weight.requires_grad == (not freeze)
        assert emb(tc.tensor([2, 0])).numpy().tolist() == temb(torch.tensor([2, 0])).tolist()
    with pytest.raises(ValueError, match=r"_weight must be a table of shape \(4, 2\) .* \(3, 2\)"):
        nn.Embedding(4, 2, _weight=tc.tensor(table))
