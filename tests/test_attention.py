"""nn.MultiheadAttention, nn.TransformerEncoderLayer and nn.TransformerEncoder: against the
paper's formula written with NumPy (a loop over batch elements and heads), against PyTorch with
copied weights (masks included), float64 gradient checks over drawn shapes, initialisation,
dropout, errors, saving and a training step."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import given_settings

import tinycolor as tc
from tinycolor import nn, optim
from tinycolor.backend import to_numpy

# --------------------------------------------------------------------------- the formula


def reference_attention(state, q, k, v, heads, attn_mask=None, key_padding_mask=None, zero=False):
    """The paper's multi-head attention in NumPy, batch first: q (N, L, E), k (N, S, kdim),
    v (N, S, vdim); masks boolean (True: not allowed) or floating (added). Returns the output
    (N, L, E) and the weights per head (N, heads, L, S + appended keys)."""
    e = q.shape[-1]
    if "in_proj_weight" in state:
        wq, wk, wv = np.split(state["in_proj_weight"], 3)
    else:
        wq, wk, wv = state["q_proj_weight"], state["k_proj_weight"], state["v_proj_weight"]
    bq, bk, bv = np.split(state.get("in_proj_bias", np.zeros(3 * e)), 3)
    Q, K, V = q @ wq.T + bq, k @ wk.T + bk, v @ wv.T + bv
    n, s, d = q.shape[0], k.shape[1], e // heads
    if "bias_k" in state:
        K = np.concatenate([K, np.broadcast_to(state["bias_k"], (n, 1, e))], axis=1)
        V = np.concatenate([V, np.broadcast_to(state["bias_v"], (n, 1, e))], axis=1)
    if zero:
        K, V = (np.concatenate([a, np.zeros((n, 1, e))], axis=1) for a in (K, V))

    def additive(m):
        return np.where(m, -np.inf, 0.0) if m.dtype == bool else m

    out = np.zeros(q.shape[:2] + (e,))
    weights = np.zeros((n, heads, q.shape[1], K.shape[1]))
    for b in range(n):
        for h in range(heads):
            cols = slice(h * d, (h + 1) * d)
            scores = Q[b][:, cols] @ K[b][:, cols].T / math.sqrt(d)
            if attn_mask is not None:
                m = attn_mask if attn_mask.ndim == 2 else attn_mask[b * heads + h]
                scores[:, :s] += additive(m)
            if key_padding_mask is not None:
                scores[:, :s] += additive(key_padding_mask[b])[None, :]
            w = np.exp(scores - scores.max(axis=1, keepdims=True))
            weights[b, h] = w / w.sum(axis=1, keepdims=True)
            out[b][:, cols] = weights[b, h] @ V[b][:, cols]
    out = out @ state["out_proj.weight"].T + state.get("out_proj.bias", 0.0)
    return out, weights


@st.composite
def attention_cases(draw):
    """A layer's settings and its inputs' sizes and masks: self- or cross-attention, kdim and
    vdim, batch first, unbatched, appended keys, boolean or float masks of each shape."""
    heads, d = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    e = heads * d
    own = draw(st.booleans())  # self-attention: one x as query, key and value
    kdim, vdim = (e, e) if own else (draw(st.sampled_from([e, 3])), draw(st.sampled_from([e, 2])))
    n, lq = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    s = lq if own else draw(st.integers(1, 3))
    return {
        "heads": heads,
        "e": e,
        "own": own,
        "n": n,
        "lq": lq,
        "s": s,
        "layer": {
            "bias": draw(st.booleans()),
            "add_bias_kv": draw(st.booleans()),
            "add_zero_attn": draw(st.booleans()),
            "kdim": kdim,
            "vdim": vdim,
            "batch_first": draw(st.booleans()),
        },
        "unbatched": draw(st.booleans()),
        "attn_mask": draw(st.sampled_from(["none", "bool", "float", "bool3d", "float3d"])),
        "key_padding_mask": draw(st.sampled_from(["none", "bool", "float"])),
        "average": draw(st.booleans()),
    }


def _inputs(case, rng):
    """Batch-first arrays q, k, v and the masks, for the case's sizes (one row of a batch when
    unbatched); each boolean mask leaves every query its first key."""
    n = 1 if case["unbatched"] else case["n"]
    lq, s, heads, layer = case["lq"], case["s"], case["heads"], case["layer"]
    q = rng.standard_normal((n, lq, case["e"]))
    if case["own"]:
        k = v = q
    else:
        k = rng.standard_normal((n, s, layer["kdim"]))
        v = rng.standard_normal((n, s, layer["vdim"]))
    masks = {}
    kind = case["attn_mask"]
    if kind != "none":
        shape = (lq, s) if not kind.endswith("3d") else (n * heads, lq, s)
        if kind.startswith("bool"):
            m = rng.random(shape) < 0.4
            m[..., 0] = False
        else:
            m = rng.standard_normal(shape)
        masks["attn_mask"] = m
    if case["key_padding_mask"] == "bool":
        m = rng.random((n, s)) < 0.4
        m[:, 0] = False
        masks["key_padding_mask"] = m
    elif case["key_padding_mask"] == "float":
        masks["key_padding_mask"] = rng.standard_normal((n, s))
    return q, k, v, masks


def _layout(case, a, mask_name=None):
    """A batch-first array (or a mask) as the layer takes it: unbatched, or sequence first."""
    if case["unbatched"]:
        return a[0] if mask_name in (None, "key_padding_mask") else a
    if mask_name is None and not case["layer"]["batch_first"]:
        return a.swapaxes(0, 1)
    return a


def _call(layer, case, q, k, v, masks, device, **kwargs):
    """The layer on tensors of ``device`` in the case's layout (one tensor for self-attention)."""
    x = {id(a): tc.Tensor(_layout(case, a), device=device) for a in (q, k, v)}
    ms = {name: tc.Tensor(_layout(case, m, name), device=device) for name, m in masks.items()}
    return layer(x[id(q)], x[id(k)], x[id(v)], **ms, **kwargs)


# every batch element and head its own mask, sequence first: the order of (N * num_heads)
RICH_CASE = {
    "heads": 2,
    "e": 4,
    "own": False,
    "n": 2,
    "lq": 2,
    "s": 3,
    "layer": {
        "bias": True,
        "add_bias_kv": True,
        "add_zero_attn": False,
        "kdim": 3,
        "vdim": 4,
        "batch_first": False,
    },
    "unbatched": False,
    "attn_mask": "float3d",
    "key_padding_mask": "bool",
    "average": False,
}


@given_settings
@given(case=attention_cases(), seed=st.integers(0, 2**16))
@example(case=RICH_CASE, seed=0)
def test_multihead_attention_is_the_formula_and_passes_gradcheck(device, case, seed):
    rng = np.random.default_rng(seed)
    layer = nn.MultiheadAttention(case["e"], case["heads"], **case["layer"], device=device)
    layer.double()
    state = {k: to_numpy(v) for k, v in layer.state_dict().items()}
    for name in ("in_proj_bias", "out_proj.bias"):  # zeros by default: make them count
        if name in state:
            state[name] = rng.standard_normal(state[name].shape)
    layer.load_state_dict(state)
    q, k, v, masks = _inputs(case, rng)
    out, weights = _call(layer, case, q, k, v, masks, device, average_attn_weights=case["average"])
    want, want_weights = reference_attention(
        state, q, k, v, case["heads"], zero=case["layer"]["add_zero_attn"], **masks
    )
    if case["average"]:
        want_weights = want_weights.mean(axis=1)
    want, want_weights = _layout(case, want), want_weights[0] if case["unbatched"] else want_weights
    assert out.shape == want.shape and weights.shape == want_weights.shape
    assert out.device == device and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights.numpy(), want_weights, rtol=1e-10, atol=1e-12)
    alone, none = _call(layer, case, q, k, v, masks, device, need_weights=False)
    assert none is None
    np.testing.assert_allclose(alone.numpy(), want, rtol=1e-10, atol=1e-12)

    # the gradient of the output and the weights, for the inputs, the parameters and a float mask
    x = {id(a): tc.Tensor(_layout(case, a), requires_grad=True, device=device) for a in (q, k, v)}
    ms = {n: tc.Tensor(_layout(case, m, n), device=device) for n, m in masks.items()}
    for m in ms.values():
        m.requires_grad = m.dtype == np.float64
    inputs = list(x.values()) + list(layer.parameters()) + list(ms.values())

    def f(*_):
        o, w = layer(x[id(q)], x[id(k)], x[id(v)], **ms, average_attn_weights=case["average"])
        return tc.cat([o.reshape(-1), w.reshape(-1)])

    assert tc.gradcheck(f, inputs)


# --------------------------------------------------------------------------- against PyTorch

TORCH_CASES = {
    "self": ({}, True),
    "batch-first": ({"batch_first": True}, True),
    "cross": ({}, False),
    "kdim-vdim": ({"kdim": 3, "vdim": 5, "batch_first": True}, False),
    "bias-kv-zero-attn": ({"add_bias_kv": True, "add_zero_attn": True}, False),
    "no-bias": ({"bias": False}, True),
}
TORCH_MASKS = ["none", "bool", "float", "bool-both", "float-3d-both", "mixed"]


def _torch_masks(kind, n, heads, lq, s, rng):
    """The masks of a PyTorch comparison: boolean, float, per head, or one of each type."""
    allowed = rng.random((lq, s)) < 0.6
    allowed[:, 0] = True
    pad = rng.random((n, s)) < 0.3
    pad[:, 0] = False
    return {
        "none": {},
        "bool": {"attn_mask": ~allowed},
        "float": {"attn_mask": rng.standard_normal((lq, s))},
        "bool-both": {"attn_mask": ~allowed, "key_padding_mask": pad},
        "float-3d-both": {
            "attn_mask": rng.standard_normal((n * heads, lq, s)),
            "key_padding_mask": np.where(pad, -1e9, 0.0),
        },
        "mixed": {"attn_mask": rng.standard_normal((lq, s)), "key_padding_mask": pad},
    }[kind]


@pytest.mark.filterwarnings("ignore:Support for mismatched")
@pytest.mark.parametrize("masks", TORCH_MASKS)
@pytest.mark.parametrize("name", list(TORCH_CASES))
def test_multihead_attention_matches_pytorch(device, name, masks):
    """PyTorch's weights loaded into ours by state_dict (and ours into PyTorch's): the same
    output and attention weights (averaged and per head), and the same gradients."""
    torch = pytest.importorskip("torch")
    kwargs, own = TORCH_CASES[name]
    rng = np.random.default_rng(7)
    theirs = torch.nn.MultiheadAttention(4, 2, **kwargs).double()
    ours = nn.MultiheadAttention(4, 2, **kwargs, device=device, dtype=tc.float64)
    result = ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    n, lq, s = 3, 4, 4 if own else 5
    first = (n, lq) if kwargs.get("batch_first") else (lq, n)
    q = rng.standard_normal(first + (4,))
    if own:
        k = v = q
    else:
        kshape = (n, s) if kwargs.get("batch_first") else (s, n)
        k = rng.standard_normal(kshape + (kwargs.get("kdim", 4),))
        v = rng.standard_normal(kshape + (kwargs.get("vdim", 4),))
    mask = _torch_masks(masks, n, 2, lq, s, rng)
    ox = {id(a): tc.Tensor(a, requires_grad=True, device=device) for a in (q, k, v)}
    tx = {id(a): torch.tensor(a, requires_grad=True) for a in (q, k, v)}
    om = {key: tc.Tensor(m, device=device) for key, m in mask.items()}
    tm = {key: torch.tensor(m) for key, m in mask.items()}
    for average in (True, False):
        got = ours(ox[id(q)], ox[id(k)], ox[id(v)], **om, average_attn_weights=average)
        want = theirs(tx[id(q)], tx[id(k)], tx[id(v)], **tm, average_attn_weights=average)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(got[0].shape)
    (got[0] * tc.Tensor(g, device=device)).sum().backward()
    want_grad = torch.autograd.grad(
        (want[0] * torch.tensor(g)).sum(), list(tx.values()) + list(theirs.parameters())
    )
    for a, b in zip(list(ox.values()) + list(ours.parameters()), want_grad):
        np.testing.assert_allclose(to_numpy(a.grad), b.numpy(), rtol=1e-9, atol=1e-11)
    alone, none = ours(ox[id(q)], ox[id(k)], ox[id(v)], **om, need_weights=False)
    assert none is None
    np.testing.assert_allclose(alone.numpy(), want[0].detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.filterwarnings("ignore:Support for mismatched")
def test_multihead_attention_unbatched_and_float32_match_pytorch():
    """(L, E) inputs with a 3-D (num_heads, L, S) mask and a (S,) padding mask, in float32."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    theirs = torch.nn.MultiheadAttention(6, 3, kdim=2, vdim=4)
    ours = nn.MultiheadAttention(6, 3, kdim=2, vdim=4)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    q = rng.standard_normal((5, 6)).astype(np.float32)
    k = rng.standard_normal((4, 2)).astype(np.float32)
    v = rng.standard_normal((4, 4)).astype(np.float32)
    mask = rng.standard_normal((3, 5, 4))  # float64, added in the query's float32
    pad = np.array([False, True, False, False])
    got = ours(*map(tc.tensor, (q, k, v)), key_padding_mask=pad, attn_mask=mask)
    want = theirs(
        *map(torch.tensor, (q, k, v)),
        key_padding_mask=torch.tensor(pad),
        attn_mask=torch.tensor(mask, dtype=torch.float32),
        average_attn_weights=True,
    )
    assert got[0].shape == (5, 6) and got[1].shape == (5, 4)
    assert got[0].dtype == got[1].dtype == np.float32
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


ENCODER_CASES = {
    "post-norm": {},
    "pre-norm-gelu-batch-first": {"norm_first": True, "activation": "gelu", "batch_first": True},
    "no-bias": {"bias": False, "layer_norm_eps": 1e-3},
}


@pytest.mark.parametrize("name", list(ENCODER_CASES))
def test_transformer_encoder_layer_matches_pytorch(device, name):
    """A state_dict copied from PyTorch's layer loads; the same output and gradients, with a
    causal mask and a padding mask, in training (dropout 0) and evaluation (PyTorch's fused
    path)."""
    torch = pytest.importorskip("torch")
    kwargs = ENCODER_CASES[name]
    rng = np.random.default_rng(5)
    theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kwargs).double()
    ours = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kwargs, device=device)
    ours.double()
    result = ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert list(ours.state_dict()) == list(theirs.state_dict())
    n, s = 2, 5
    x = rng.standard_normal((n, s, 8) if kwargs.get("batch_first") else (s, n, 8))
    causal = ~np.tril(np.ones((s, s), bool))
    pad = np.zeros((n, s), bool)
    pad[1, 3:] = True
    for masks in ({}, {"src_mask": causal, "is_causal": True}, {"src_key_padding_mask": pad}):
        om = {
            k: m if isinstance(m, bool) else tc.Tensor(m, device=device) for k, m in masks.items()
        }
        tm = {k: m if isinstance(m, bool) else torch.tensor(m) for k, m in masks.items()}
        ox, tx = (
            tc.Tensor(x, requires_grad=True, device=device),
            torch.tensor(x, requires_grad=True),
        )
        got, want = ours(ox, **om), theirs(tx, **tm)
        np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(got.shape)
        (got * tc.Tensor(g, device=device)).sum().backward()
        want_grad = torch.autograd.grad((want * torch.tensor(g)).sum(), [tx, *theirs.parameters()])
        for a, b in zip([ox, *ours.parameters()], want_grad):
            np.testing.assert_allclose(to_numpy(a.grad), b.numpy(), rtol=1e-9, atol=1e-11)
        ours.zero_grad()
        ours.eval(), theirs.eval()
        with torch.no_grad():
            want = theirs(torch.tensor(x), **tm)
        got = ours(tc.Tensor(x, device=device), **om)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)
        ours.train(), theirs.train()


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_layer_is_the_formula(norm_first):
    """Post-norm and pre-norm blocks against their formulas, written with the layer's own
    attention (checked above) and NumPy for the rest; unbatched input too."""
    rng = np.random.default_rng(2)
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, norm_first=norm_first).double()
    x = rng.standard_normal((3, 2, 4))
    w = {k: to_numpy(v) for k, v in layer.state_dict().items()}

    def norm(a, i):
        a = (a - a.mean(-1, keepdims=True)) / np.sqrt(a.var(-1, keepdims=True) + 1e-5)
        return a * w[f"norm{i}.weight"] + w[f"norm{i}.bias"]

    def attend(a):
        return layer.self_attn(*(tc.tensor(a),) * 3)[0].numpy()

    def ff(a):
        hidden = np.maximum(a @ w["linear1.weight"].T + w["linear1.bias"], 0)
        return hidden @ w["linear2.weight"].T + w["linear2.bias"]

    if norm_first:
        y = x + attend(norm(x, 1))
        want = y + ff(norm(y, 2))
    else:
        y = norm(x + attend(x), 1)
        want = norm(y + ff(y), 2)
    np.testing.assert_allclose(layer(tc.tensor(x)).numpy(), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer(tc.tensor(x[:, 0])).numpy(), want[:, 0], rtol=1e-10)


def test_transformer_encoder_layer_gradcheck():
    layer = nn.TransformerEncoderLayer(4, 2, 3, dropout=0.0, activation="gelu").double()
    x = tc.Tensor(np.random.default_rng(0).standard_normal((3, 2, 4)), requires_grad=True)
    pad = np.array([[False, False, True], [False, False, False]])
    assert tc.gradcheck(lambda x, *ps: layer(x, src_key_padding_mask=pad), [x, *layer.parameters()])


# --------------------------------------------------------------------------- TransformerEncoder


def test_square_subsequent_mask_is_the_causal_mask(device):
    """0 where j <= i, -inf where j > i (a loop), float32 unless told, as PyTorch's."""
    m = nn.TransformerEncoder.generate_square_subsequent_mask(4, device=device)
    want = np.array([[0.0 if j <= i else -np.inf for j in range(4)] for i in range(4)])
    assert m.dtype == np.float32 and m.device == device and not m.requires_grad
    np.testing.assert_array_equal(m.numpy(), want)
    m64 = nn.TransformerEncoder.generate_square_subsequent_mask(1, dtype=tc.float64)
    assert m64.dtype == np.float64 and m64.shape == (1, 1) and m64.numpy()[0, 0] == 0
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(
        m.numpy(), torch.nn.Transformer.generate_square_subsequent_mask(4).numpy()
    )


def _layer_norm(a, w, b, eps=1e-5):
    return (a - a.mean(-1, keepdims=True)) / np.sqrt(a.var(-1, keepdims=True) + eps) * w + b


@st.composite
def encoder_cases(draw):
    """An encoder's settings and its input's sizes and masks."""
    heads = draw(st.integers(1, 2))
    return {
        "heads": heads,
        "e": heads * draw(st.integers(1, 2)),
        "ff": draw(st.integers(1, 3)),
        "layers": draw(st.integers(1, 3)),
        "norm": draw(st.booleans()),
        "norm_first": draw(st.booleans()),
        "batch_first": draw(st.booleans()),
        "n": draw(st.integers(1, 2)),
        "s": draw(st.integers(1, 3)),
        "unbatched": draw(st.booleans()),
        "mask": draw(st.sampled_from(["none", "causal", "float", "bool"])),
        "pad": draw(st.booleans()),
    }


def _encoder(case, device):
    """A float64 encoder for the case, each block with its own random weights and biases."""
    block = nn.TransformerEncoderLayer(
        case["e"], case["heads"], case["ff"], dropout=0.0, activation="gelu",
        norm_first=case["norm_first"], batch_first=case["batch_first"],
    )  # fmt: skip
    norm = nn.LayerNorm(case["e"]) if case["norm"] else None
    enc = nn.TransformerEncoder(block, case["layers"], norm).to(device=device, dtype=tc.float64)
    for p in enc.parameters():
        p.data[...] = tc.randn(*p.shape, dtype=tc.float64, device=device).data * 0.5
    return enc


def _encoder_inputs(case, rng, device):
    """x in the case's layout, and the encoder's masks as tensors on ``device``."""
    n, s, e = (1 if case["unbatched"] else case["n"]), case["s"], case["e"]
    x = rng.standard_normal((n, s, e))
    if case["unbatched"]:
        x = x[0]
    elif not case["batch_first"]:
        x = x.swapaxes(0, 1)
    masks = {}
    if case["mask"] == "causal":
        masks["mask"] = nn.TransformerEncoder.generate_square_subsequent_mask(
            s, device=device, dtype=tc.float64
        )
        masks["is_causal"] = True
    elif case["mask"] == "float":
        masks["mask"] = tc.Tensor(rng.standard_normal((s, s)), device=device)
    elif case["mask"] == "bool":
        m = rng.random((s, s)) < 0.4
        m[:, 0] = False
        masks["mask"] = tc.Tensor(m, device=device)
    if case["pad"]:
        pad = rng.random((n, s)) < 0.4
        pad[:, 0] = False
        masks["src_key_padding_mask"] = tc.Tensor(
            pad[0] if case["unbatched"] else pad, device=device
        )
    return x, masks


@given_settings
@given(case=encoder_cases(), seed=st.integers(0, 2**16))
def test_transformer_encoder_is_its_blocks_in_turn_and_passes_gradcheck(device, case, seed):
    """The encoder is its blocks applied in turn (each one checked against its formula above)
    with the same masks, then the final norm (written in NumPy); and a float64 gradcheck for
    the input and every parameter."""
    tc.manual_seed(seed)
    rng = np.random.default_rng(seed)
    enc = _encoder(case, device)
    x, masks = _encoder_inputs(case, rng, device)
    out = enc(tc.Tensor(x, device=device), **masks)
    want = tc.Tensor(x, device=device)
    layer_masks = {("src_mask" if k == "mask" else k): m for k, m in masks.items()}
    for block in enc.layers:
        want = block(want, **layer_masks)
    want = want.numpy()
    if case["norm"]:
        w = {k: to_numpy(v) for k, v in enc.norm.state_dict().items()}
        want = _layer_norm(want, w["weight"], w["bias"])
    assert out.shape == x.shape and out.device == device and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-10, atol=1e-12)
    xt = tc.Tensor(x, requires_grad=True, device=device)
    assert tc.gradcheck(lambda x, *ps: enc(x, **masks), [xt, *enc.parameters()])


def test_transformer_encoder_layers_are_independent_copies():
    """Deep copies of the block, as PyTorch's: equal weights at first, none shared with each
    other nor with the block given; training one changes only it."""
    block = nn.TransformerEncoderLayer(4, 2, 8)
    enc = nn.TransformerEncoder(block, 3, norm=nn.LayerNorm(4))
    assert len(enc.layers) == enc.num_layers == 3 and all(m is not block for m in enc.layers)
    params = [list(m.parameters()) for m in (block, *enc.layers)]
    assert len({id(p) for ps in params for p in ps}) == 4 * len(params[0])
    for ps in params[1:]:
        for a, b in zip(ps, params[0]):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    enc.layers[1].linear1.weight.data += 1
    assert np.array_equal(enc.layers[0].linear1.weight.numpy(), block.linear1.weight.numpy())
    assert len(list(enc.parameters())) == 3 * len(params[0]) + 2
    assert nn.TransformerEncoder(block, 1).norm is None
    assert "norm.weight" not in nn.TransformerEncoder(block, 1).state_dict()


ENCODER_STACKS = {
    "post-norm-batch-first": ({"batch_first": True}, False),
    "pre-norm-final-norm": ({"norm_first": True, "activation": "gelu"}, True),
    "post-norm-final-norm": ({}, True),
}


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
@pytest.mark.parametrize("name", list(ENCODER_STACKS))
def test_transformer_encoder_matches_pytorch(device, name):
    """PyTorch's encoder's state_dict loads (the same keys, in order); the same output and
    gradients with no mask, the causal mask, a float mask and padding masks (one sequence all
    padding), in training
    (dropout 0) and in eval mode. In eval mode under no_grad with a padding mask that ends the
    sequences, PyTorch's nested-tensor fast path zeros the padded positions (before the final
    norm): ours equals it at every other position, and masked_fill gives PyTorch's."""
    torch = pytest.importorskip("torch")
    kwargs, with_norm = ENCODER_STACKS[name]
    bf = kwargs.get("batch_first", False)
    torch.manual_seed(0)
    block = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kwargs)
    norm = torch.nn.LayerNorm(8) if with_norm else None
    theirs = torch.nn.TransformerEncoder(block, 3, norm).double()
    for p in theirs.parameters():  # blocks that differ, and biases that count
        torch.nn.init.normal_(p, std=0.3)
    ours = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kwargs),
        3,
        nn.LayerNorm(8) if with_norm else None,
    ).to(device=device, dtype=tc.float64)
    result = ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(5)
    n, s = 2, 5
    x = rng.standard_normal((n, s, 8) if bf else (s, n, 8))
    pad = np.zeros((n, s), bool)
    pad[1, 3:] = True
    empty = np.zeros((n, s), bool)
    empty[0] = True  # a sequence that is all padding: no NaN, as PyTorch's
    causal = nn.TransformerEncoder.generate_square_subsequent_mask(s, dtype=tc.float64).numpy()
    for masks in (
        {},
        {"mask": causal, "is_causal": True},
        {"mask": rng.standard_normal((s, s))},
        {"src_key_padding_mask": pad},
        {"src_key_padding_mask": empty},
    ):
        om = {
            k: m if isinstance(m, bool) else tc.Tensor(m, device=device) for k, m in masks.items()
        }
        tm = {k: m if isinstance(m, bool) else torch.tensor(m) for k, m in masks.items()}
        ox = tc.Tensor(x, requires_grad=True, device=device)
        tx = torch.tensor(x, requires_grad=True)
        got, want = ours(ox, **om), theirs(tx, **tm)
        np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-9, atol=1e-11)
        g = rng.standard_normal(got.shape)
        (got * tc.Tensor(g, device=device)).sum().backward()
        want_grad = torch.autograd.grad((want * torch.tensor(g)).sum(), [tx, *theirs.parameters()])
        for a, b in zip([ox, *ours.parameters()], want_grad):
            np.testing.assert_allclose(to_numpy(a.grad), b.numpy(), rtol=1e-8, atol=1e-10)
        ours.zero_grad()
        ours.eval(), theirs.eval()
        got = ours(tc.Tensor(x, device=device), **om).numpy()
        np.testing.assert_allclose(
            got, theirs(torch.tensor(x), **tm).detach().numpy(), rtol=1e-9, atol=1e-11
        )
        ours.train(), theirs.train()
        if "mask" in masks and not masks.get("is_causal"):
            continue  # PyTorch 2.13's fused block, batch first under no_grad: NaN with a float mask
        ours.eval(), theirs.eval()
        with torch.no_grad():
            want = theirs(torch.tensor(x), **tm).numpy()
        fast = "src_key_padding_mask" in masks and bf and not kwargs.get("norm_first")
        if fast:  # PyTorch's nested-tensor path: zeros where padded, then the norm
            padded = masks["src_key_padding_mask"]
            padded = padded if bf else padded.T
            zeros = theirs.norm(torch.zeros(8, dtype=torch.float64)) if with_norm else 0.0
            np.testing.assert_allclose(want[padded], np.broadcast_to(zeros, want[padded].shape))
            want[padded] = got[padded]
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)
        ours.train(), theirs.train()


def test_transformer_encoder_errors():
    block = nn.TransformerEncoderLayer(4, 2, 8)
    with pytest.raises(ValueError, match=r"TransformerEncoder: num_layers must be a positive"):
        nn.TransformerEncoder(block, 0)
    with pytest.raises(TypeError, match=r"encoder_layer must be a TransformerEncoderLayer, got"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer, 2)
    with pytest.raises(TypeError, match=r"norm must be a LayerNorm or None, got str"):
        nn.TransformerEncoder(block, 2, norm="layer")
    enc = nn.TransformerEncoder(block, 2)
    with pytest.raises(ValueError, match=r"is_causal=True is a hint that mask is the causal mask"):
        enc(tc.randn(3, 1, 4), is_causal=True)
    with pytest.raises(AttributeError, match=r"TransformerEncoder.generate_square_subsequent_"):
        nn.Transformer.generate_square_subsequent_mask(3)


# --------------------------------------------------------------------------- init, modes, errors


def test_multihead_attention_init_is_pytorchs():
    """xavier-uniform in_proj (fan_in E, fan_out 3E), zero biases, Linear's out_proj weight,
    xavier-normal bias_k and bias_v; the separate projections when kdim or vdim differ."""
    layer = nn.MultiheadAttention(64, 4, add_bias_kv=True)
    bound = math.sqrt(6 / (64 + 3 * 64))
    w = layer.in_proj_weight.numpy()
    assert w.shape == (192, 64) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.03
    assert not layer.in_proj_bias.numpy().any() and not layer.out_proj.bias.numpy().any()
    assert np.abs(layer.out_proj.weight.numpy()).max() <= 1 / 8
    assert layer.bias_k.shape == layer.bias_v.shape == (1, 1, 64)
    assert layer.head_dim == 16 and layer._qkv_same_embed_dim
    assert layer.q_proj_weight is None and layer.k_proj_weight is None
    apart = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False)
    assert [(k, v.shape) for k, v in apart.state_dict().items()] == [
        ("q_proj_weight", (8, 8)),
        ("k_proj_weight", (8, 3)),
        ("v_proj_weight", (8, 5)),
        ("out_proj.weight", (8, 8)),
    ]
    assert np.abs(apart.k_proj_weight.numpy()).max() <= math.sqrt(6 / 11)
    torch = pytest.importorskip("torch")
    ref = torch.nn.MultiheadAttention(64, 4, add_bias_kv=True)
    assert abs(ref.in_proj_weight.detach().numpy().std() / w.std() - 1) < 0.04
    assert abs(ref.bias_k.detach().numpy().std() / layer.bias_k.numpy().std() - 1) < 0.5


def test_multihead_attention_drops_weights_in_training_only():
    layer = nn.MultiheadAttention(4, 2, dropout=0.5, batch_first=True)
    x = tc.randn(2, 6, 4)
    _, w = layer(x, x, x, average_attn_weights=False)
    rows = w.numpy().sum(-1)
    assert (w.numpy() == 0).any() and not np.allclose(rows, 1)  # dropped, the rest scaled
    np.testing.assert_allclose(rows.mean(), 1, atol=0.25)
    layer.eval()
    out, w = layer(x, x, x)
    np.testing.assert_allclose(w.numpy().sum(-1), 1, rtol=1e-6)
    np.testing.assert_array_equal(out.numpy(), layer(x, x, x)[0].numpy())


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_masks_may_be_arrays_and_fully_masked_queries_give_nan():
    layer = nn.MultiheadAttention(4, 1)
    x = tc.randn(3, 1, 4)
    causal = ~np.tril(np.ones((3, 3), bool))
    _, w = layer(x, x, x, attn_mask=causal, is_causal=True)
    np.testing.assert_array_equal(w.numpy()[0] == 0, causal)  # nothing reaches the future
    out, _ = layer(x, x, x, key_padding_mask=np.ones((1, 3), bool))
    assert np.isnan(out.numpy()).all()  # as PyTorch's: a query with no key


@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("kind", ["padding", "bool", "float"])
def test_a_query_masked_from_every_key_gets_zero_weights_without_need_weights(device, kind):
    """need_weights=False (as the encoder blocks call it) runs PyTorch's safe softmax: a query
    that may see no key gets zero weights, so out_proj's bias, and finite gradients; the other
    queries are the formula's. need_weights=True keeps the NaN (PyTorch's too)."""
    rng = np.random.default_rng(4)
    layer = nn.MultiheadAttention(4, 2, batch_first=True, device=device, dtype=tc.float64)
    state = {k: rng.standard_normal(v.shape) for k, v in layer.state_dict().items()}
    layer.load_state_dict(state)
    x = rng.standard_normal((2, 3, 4))
    blocked = np.zeros((3, 3), bool)
    blocked[0] = True  # query 0 sees nothing
    masks = {
        "padding": {"key_padding_mask": np.array([[False] * 3, [True] * 3])},
        "bool": {"attn_mask": blocked},
        "float": {"attn_mask": np.where(blocked, -np.inf, rng.standard_normal((3, 3)))},
    }[kind]
    xt = tc.Tensor(x, requires_grad=True, device=device)
    om = {k: tc.Tensor(m, device=device) for k, m in masks.items()}
    out, _ = layer(xt, xt, xt, need_weights=False, **om)
    g = rng.standard_normal(out.shape)
    (out * tc.Tensor(g, device=device)).sum().backward()
    got = out.numpy()
    dead = (slice(1, 2), slice(None)) if kind == "padding" else (slice(None), slice(0, 1))
    np.testing.assert_allclose(got[dead], np.broadcast_to(state["out_proj.bias"], got[dead].shape))
    live = np.ones(got.shape[:2], bool)
    live[dead] = False
    want, _ = reference_attention(state, x, x, x, 2, **masks)
    np.testing.assert_allclose(got[live], want[live], rtol=1e-10, atol=1e-12)
    assert all(np.isfinite(to_numpy(t.grad)).all() for t in [xt, *layer.parameters()])
    assert np.isnan(layer(xt, xt, xt, **om)[0].numpy()[dead]).all()
    torch = pytest.importorskip("torch")
    theirs = torch.nn.MultiheadAttention(4, 2, batch_first=True).double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    tx = torch.tensor(x, requires_grad=True)
    want = theirs(tx, tx, tx, need_weights=False, **{k: torch.tensor(m) for k, m in masks.items()})
    np.testing.assert_allclose(got, want[0].detach().numpy(), rtol=1e-10, atol=1e-12)
    want_grad = torch.autograd.grad((want[0] * torch.tensor(g)).sum(), [tx, *theirs.parameters()])
    for a, b in zip([xt, *layer.parameters()], want_grad):
        np.testing.assert_allclose(to_numpy(a.grad), b.numpy(), rtol=1e-9, atol=1e-11)


def test_attention_errors_name_what_was_wrong():
    with pytest.raises(ValueError, match=r"embed_dim \(6\) must be divisible by num_heads \(4\)"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match=r"num_heads must be a positive whole number, got 0"):
        nn.MultiheadAttention(6, 0)
    with pytest.raises(ValueError, match=r"dropout: p must be a probability in \[0, 1\)"):
        nn.MultiheadAttention(4, 2, dropout=1.5)
    layer = nn.MultiheadAttention(4, 2, kdim=3)
    x, k = tc.randn(5, 2, 4), tc.randn(6, 2, 3)
    name = r"MultiheadAttention\(embed_dim=4, num_heads=2\)"
    with pytest.raises(ValueError, match=name + r": expected a key with kdim=3 features"):
        layer(x, x, x)
    with pytest.raises(ValueError, match=r"expected a value with vdim=4 features"):
        layer(x, k, k)
    with pytest.raises(ValueError, match=r"expected a query \(L, N, E\) \(batch_first=False\)"):
        layer(tc.randn(1, 5, 2, 4), k, x)
    with pytest.raises(ValueError, match=r"expected key and value of 3 dimensions"):
        layer(x, k[0], x)
    with pytest.raises(ValueError, match=r"key and value must have the same length and batch"):
        layer(x, k, x)
    with pytest.raises(ValueError, match=r"query and key must have the same batch size"):
        layer(x, tc.randn(6, 3, 3), tc.randn(6, 3, 4))
    v = tc.randn(6, 2, 4)
    with pytest.raises(ValueError, match=r"key_padding_mask of shape \(2, 6\) \(batch, key len"):
        layer(x, k, v, key_padding_mask=np.zeros((6, 2), bool))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(5, 6\) or \(4, 5, 6\)"):
        layer(x, k, v, attn_mask=np.zeros((2, 5, 6), bool))
    with pytest.raises(TypeError, match=r"attn_mask must be boolean \(True where attention is "):
        layer(x, k, v, attn_mask=np.zeros((5, 6), np.int64))
    with pytest.raises(ValueError, match=r"is_causal=True is a hint that attn_mask is the causal"):
        layer(x, k, v, is_causal=True)
    with pytest.raises(ValueError, match=r"activation must be 'relu', 'gelu' or a callable"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")


def test_transformer_encoder_layer_takes_an_activation_callable_and_trains():
    """A callable activation (PyTorch's other form); a few Adam steps on a toy sequence task
    (each position's output: the mean of the sequence) lower the loss."""
    tc.manual_seed(0)
    block = nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.1, activation=nn.GELU(), batch_first=True
    )
    head = nn.Linear(8, 1)
    params = list(block.parameters()) + list(head.parameters())
    opt = optim.Adam(params, lr=1e-2)
    x = tc.randn(16, 5, 8)
    target = x.mean(dim=(1, 2), keepdim=True).expand(16, 5, 1)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = ((head(block(x)) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert all(p.grad is not None for p in params)


def test_state_dicts_round_trip_through_a_checkpoint(tmp_path):
    tc.manual_seed(1)
    a = nn.TransformerEncoderLayer(4, 2, 8, batch_first=True).eval()
    m = nn.MultiheadAttention(4, 2, kdim=3, add_bias_kv=True)
    tc.save({"block": a.state_dict(), "attn": m.state_dict()}, tmp_path / "ckpt.npz")
    tc.manual_seed(2)
    b = nn.TransformerEncoderLayer(4, 2, 8, batch_first=True).eval()
    n = nn.MultiheadAttention(4, 2, kdim=3, add_bias_kv=True)
    x, k = tc.randn(2, 3, 4), tc.randn(3, 2, 3)
    assert not np.allclose(a(x).numpy(), b(x).numpy())
    state = tc.load(tmp_path / "ckpt.npz")
    b.load_state_dict(state["block"])
    n.load_state_dict(state["attn"])
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    xs = x.transpose(0, 1)
    for got, want in zip(n(xs, k, k.new_ones(3, 2, 4)), m(xs, k, k.new_ones(3, 2, 4))):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
