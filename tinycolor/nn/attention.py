"""Attention layers: ``MultiheadAttention``, the ``TransformerEncoderLayer`` built on it and
the ``TransformerEncoder`` that stacks copies of one (Vaswani et al., 2017, "Attention Is All
You Need", section 3.2.2 and figure 1).

Constructors, attribute names, parameter shapes, default initialisations and the layout of the
inputs, outputs and masks are PyTorch's, so a transformer block translates line for line and a
PyTorch ``state_dict`` loads one to one. The maths is PyTorch's reference computation, built of
``linear``, ``matmul``, ``softmax`` and ``dropout``, so the gradient comes from those ops.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from .. import functional as F
from ..autograd import Tensor, as_tensor_like, full
from ..backend import array_module
from ..functional.dropout import _check_p
from . import init
from .layers import Dropout, LayerNorm, Linear, _check_array, _count, _empty, _factory
from .module import Module, ModuleList


def _additive_mask(layer, name, mask, like) -> Tensor | None:
    """``mask`` as the term added to the attention scores, a Tensor of ``like``'s dtype on its
    device: a boolean mask (True where attention is NOT allowed, as PyTorch's nn layers take it)
    becomes -inf / 0; a floating mask is added as it is (and so gets a gradient if it needs
    one). None stays None."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        mask = as_tensor_like(mask if hasattr(mask, "dtype") else np.asarray(mask), [like], False)
    if mask.dtype == np.bool_:
        xp = array_module(mask.data)
        term = xp.zeros(mask.shape, dtype=like.dtype)
        term[mask.data] = -np.inf
        return Tensor(term, _internal=True)
    if mask.dtype.kind != "f":
        raise TypeError(
            f"{layer}: {name} must be boolean (True where attention is not allowed) or floating "
            f"(added to the scores), got {mask.dtype}"
        )
    return mask if mask.dtype == like.dtype else mask.to(dtype=like.dtype)


def _each(f, xs) -> tuple:
    """f of each of xs, once for each distinct object: self-attention's ``x, x, x`` stays one
    tensor, so that its three projections are one product."""
    done = {}
    for x in xs:
        if id(x) not in done:
            done[id(x)] = f(x)
    return tuple(done[id(x)] for x in xs)


def _safe_softmax(scores) -> Tensor:
    """softmax over the last axis, but 0 (not NaN) across a row whose scores are all -inf, as
    PyTorch's ``_safe_softmax`` in ``scaled_dot_product_attention``: a query masked from every
    key gets zero weights, and a zero gradient. The row is softmaxed as zeros first, so its
    backward pass sees no NaN either."""
    blocked = (scores.data == -np.inf).all(axis=-1, keepdims=True)
    return F.softmax(scores.masked_fill(blocked, 0.0), dim=-1).masked_fill(blocked, 0.0)


class MultiheadAttention(Module):
    """Multi-head attention, as ``torch.nn.MultiheadAttention``:

        head_i = softmax(Q_i K_i^T / sqrt(d) + mask) V_i,   Q_i = query W_q_i + b_q_i, ...
        output = concat(head_1, ..., head_h) W_o^T + b_o

    with h = ``num_heads`` heads of d = embed_dim / h features each. ``in_proj_weight``
    (3 embed_dim, embed_dim) stacks W_q, W_k, W_v (xavier-uniform) and ``in_proj_bias`` their
    biases (zeros); when ``kdim`` or ``vdim`` differs from ``embed_dim`` they are
    ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim) and ``v_proj_weight`` (E, vdim)
    instead. ``out_proj`` is a ``Linear(embed_dim, embed_dim)`` (its bias zeroed).
    ``bias=False`` leaves out every bias; ``add_bias_kv`` appends learnt ``bias_k``, ``bias_v``
    (1, 1, E) to the keys and values, ``add_zero_attn`` a zero key and value to each head;
    ``dropout`` drops attention weights in training.

    ``forward(query, key, value)``: (L, N, E), (S, N, kdim), (S, N, vdim), or batch first
    with ``batch_first=True``, or unbatched (L, E), (S, kdim), (S, vdim); returns the output,
    shaped as the query, and the attention weights, (N, L, S) averaged over the heads, or
    (N, num_heads, L, S) with ``average_attn_weights=False`` (unbatched: no N), or None with
    ``need_weights=False``. ``key_padding_mask`` (N, S) and ``attn_mask`` (L, S) or
    (N * num_heads, L, S) are boolean, True where attention is NOT allowed (the opposite of
    ``F.scaled_dot_product_attention``'s), or floating, added to the scores. ``is_causal`` is
    PyTorch's hint that ``attn_mask`` is the causal mask: it needs that mask, as PyTorch's,
    which is then used as given. A query that may attend nowhere (every key masked) gives NaN
    with ``need_weights=True``, and with ``need_weights=False`` (as ``TransformerEncoderLayer``
    calls it) zero weights, so an output of just ``out_proj``'s bias and no NaN in the
    gradients, as PyTorch's (which then runs ``scaled_dot_product_attention``)."""

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim=None,
        vdim=None,
        batch_first: bool = False,
        *,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.embed_dim = _count("MultiheadAttention", "embed_dim", embed_dim)
        self.num_heads = _count("MultiheadAttention", "num_heads", num_heads)
        self.kdim = self.embed_dim if kdim is None else _count("MultiheadAttention", "kdim", kdim)
        self.vdim = self.embed_dim if vdim is None else _count("MultiheadAttention", "vdim", vdim)
        if self.embed_dim % self.num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim ({self.embed_dim}) must be divisible by "
                f"num_heads ({self.num_heads})"
            )
        _check_p("MultiheadAttention: dropout", dropout)
        self.head_dim = self.embed_dim // self.num_heads
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = _empty(3 * e, e)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = _empty(e, e)
            self.k_proj_weight = _empty(e, self.kdim)
            self.v_proj_weight = _empty(e, self.vdim)
            self.register_parameter("in_proj_weight", None)
        self.register_parameter("in_proj_bias", _empty(3 * e) if bias else None)
        self.out_proj = Linear(e, e, bias=bias)
        if add_bias_kv:
            self.bias_k, self.bias_v = _empty(1, 1, e), _empty(1, 1, e)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = bool(add_zero_attn)
        self._reset_parameters()
        _factory(self, device, dtype)

    def _reset_parameters(self):
        """PyTorch's init: xavier-uniform projections, zero biases, xavier-normal bias_k/v
        (``out_proj.weight`` keeps Linear's)."""
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if w is not None:
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _name(self):
        return f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"

    def _projections(self, query, key, value):
        """q, k, v: the inputs times their projections (one product for self-attention)."""
        e, b = self.embed_dim, self.in_proj_bias
        if self._qkv_same_embed_dim and query is key and key is value:
            return F.chunk(F.linear(query, self.in_proj_weight, b), 3, dim=-1)
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            ws = (w[:e], w[e : 2 * e], w[2 * e :])
        else:
            ws = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        bs = (None,) * 3 if b is None else (b[:e], b[e : 2 * e], b[2 * e :])
        return tuple(F.linear(x, w, bias) for x, w, bias in zip((query, key, value), ws, bs))

    def _check(self, query, key, value):
        """(N, L, S) of the inputs, or a clear error naming what was wrong."""
        name = self._name()
        for x in (query, key, value):
            _check_array(name, x)
        layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
        if query.ndim not in (2, 3):
            raise ValueError(
                f"{name}: expected a query {layout} (batch_first={self.batch_first}) or "
                f"unbatched (L, E), got shape {tuple(query.shape)}"
            )
        if key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(
                f"{name}: expected key and value of {query.ndim} dimensions, as the query "
                f"{tuple(query.shape)}, got {tuple(key.shape)} and {tuple(value.shape)}"
            )
        for what, x, n in (
            ("query", query, self.embed_dim),
            ("key", key, self.kdim),
            ("value", value, self.vdim),
        ):
            if x.shape[-1] != n:
                size = {"query": "embed_dim", "key": "kdim", "value": "vdim"}[what]
                raise ValueError(
                    f"{name}: expected a {what} with {size}={n} features in its last axis, got "
                    f"{tuple(x.shape)}"
                )
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(
                f"{name}: key and value must have the same length and batch, got "
                f"{tuple(key.shape)} and {tuple(value.shape)}"
            )
        if query.ndim == 2:
            return 1, query.shape[0], key.shape[0]
        nb = 0 if self.batch_first else 1
        if key.shape[nb] != query.shape[nb]:
            raise ValueError(
                f"{name}: query and key must have the same batch size (batch_first="
                f"{self.batch_first}), got {tuple(query.shape)} and {tuple(key.shape)}"
            )
        return query.shape[nb], query.shape[1 - nb], key.shape[1 - nb]

    def _masks(self, key_padding_mask, attn_mask, query, n, lq, s):
        """The masks as one term added to the (N, heads, L, S) scores, or None."""
        name, h, batched = self._name(), self.num_heads, query.ndim == 3
        kpm = _additive_mask(name, "key_padding_mask", key_padding_mask, query)
        if kpm is not None:
            want = (n, s) if batched else (s,)
            if tuple(kpm.shape) != want:
                raise ValueError(
                    f"{name}: expected a key_padding_mask of shape {want} (batch, key length), "
                    f"got {tuple(kpm.shape)}"
                )
            kpm = kpm.reshape(n, 1, 1, s)
        mask = _additive_mask(name, "attn_mask", attn_mask, query)
        if mask is not None:
            per_head = (n * h if batched else h, lq, s)
            if tuple(mask.shape) == (lq, s):
                mask = mask.reshape(1, 1, lq, s)
            elif tuple(mask.shape) == per_head:
                mask = mask.reshape(n, h, lq, s)
            else:
                raise ValueError(
                    f"{name}: expected an attn_mask of shape {(lq, s)} or {per_head} "
                    f"(({'N * ' if batched else ''}num_heads, L, S)), got {tuple(mask.shape)}"
                )
        if mask is None:
            return kpm
        return mask if kpm is None else mask + kpm

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights: bool = True,
        attn_mask=None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ):
        n, lq, s = self._check(query, key, value)
        if is_causal and attn_mask is None:
            raise ValueError(
                f"{self._name()}: is_causal=True is a hint that attn_mask is the causal mask, "
                f"and needs that mask, as in PyTorch: pass attn_mask=~tc.tril(tc.ones((L, L), "
                f"dtype=bool)) (True where a query may not look) with it"
            )
        scores_mask = self._masks(key_padding_mask, attn_mask, query, n, lq, s)
        batched = query.ndim == 3
        query, key, value = _each(as_tensor_like, (query, key, value))
        if not batched:
            query, key, value = _each(lambda x: x.unsqueeze(0), (query, key, value))
        elif not self.batch_first:
            query, key, value = _each(lambda x: x.transpose(0, 1), (query, key, value))
        q, k, v = self._projections(query, key, value)  # (N, L or S, E)
        if self.bias_k is not None:
            k = F.cat([k, self.bias_k.expand(n, 1, self.embed_dim)], dim=1)
            v = F.cat([v, self.bias_v.expand(n, 1, self.embed_dim)], dim=1)
        h, d = self.num_heads, self.head_dim
        q, k, v = (x.reshape(n, x.shape[1], h, d).transpose(1, 2) for x in (q, k, v))
        if self.add_zero_attn:
            k, v = F.pad(k, (0, 0, 0, 1)), F.pad(v, (0, 0, 0, 1))
        extra = k.shape[2] - s  # the appended keys, never masked
        if scores_mask is not None and extra:
            scores_mask = F.pad(scores_mask, (0, extra))
        scores = F.matmul(q * (1.0 / math.sqrt(d)), k.transpose(-2, -1))  # (N, heads, L, S)
        if scores_mask is None:
            weights = F.softmax(scores, dim=-1)
        elif need_weights:
            weights = F.softmax(scores + scores_mask, dim=-1)
        else:  # PyTorch's scaled_dot_product_attention: no NaN from a query that sees no key
            weights = _safe_softmax(scores + scores_mask)
        weights = F.dropout(weights, self.dropout, self.training)
        out = F.matmul(weights, v).transpose(1, 2).reshape(n, lq, self.embed_dim)
        out = F.linear(out, self.out_proj.weight, self.out_proj.bias)  # as PyTorch: no hooks
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(dim=1)
        return out, weights if batched else weights.squeeze(0)


def _activation(activation):
    """'relu', 'gelu' or a callable (``F.gelu``, ``nn.GELU()``), as PyTorch's transformer layers
    take it."""
    if callable(activation):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise ValueError(
        f"TransformerEncoderLayer: activation must be 'relu', 'gelu' or a callable, got "
        f"{activation!r}"
    )


class TransformerEncoderLayer(Module):
    """One encoder block of the Transformer, as ``torch.nn.TransformerEncoderLayer``:
    self-attention, then a two-layer feed-forward network, each with a residual connection,
    dropout and layer norm:

        x = norm1(x + dropout1(self_attn(x, x, x)))         (norm_first=False, post-norm)
        x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))

    or, with ``norm_first=True`` (pre-norm), ``x = x + dropout1(self_attn(norm1(x), ...))`` and
    ``x = x + dropout2(linear2(dropout(activation(linear1(norm2(x))))))``. The submodules
    (``self_attn``, ``linear1``, ``linear2``, ``norm1``, ``norm2``, ``dropout``, ``dropout1``,
    ``dropout2``) are PyTorch's, so its ``state_dict`` loads. ``activation`` is 'relu', 'gelu'
    or a callable; ``bias=False`` leaves out the linear layers' and the norms' biases.

    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``: src (S, N, E),
    (N, S, E) with ``batch_first=True``, or unbatched (S, E); the masks are
    ``MultiheadAttention``'s ``attn_mask`` and ``key_padding_mask``."""

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation="relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        *,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation)
        _factory(self, device, dtype)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
    """The causal mask of a sequence of ``sz`` steps, as PyTorch's
    ``nn.Transformer.generate_square_subsequent_mask``: an (sz, sz) float mask (float32 unless
    ``dtype`` says otherwise), 0 on and below the diagonal and -inf above it, so that, added to
    the attention scores, step i attends to steps 0 .. i only."""
    sz = _count("generate_square_subsequent_mask", "sz", sz)
    return full((sz, sz), -np.inf, dtype=dtype, device=device).triu(1)


class TransformerEncoder(Module):
    """A stack of ``num_layers`` encoder blocks, as ``torch.nn.TransformerEncoder``:

        x = layers[num_layers - 1](... layers[0](src) ...),   output = norm(x) (if given)

    ``layers`` is a ``ModuleList`` of deep copies of ``encoder_layer`` (a
    ``TransformerEncoderLayer``, or any module called as one), so every block starts from the
    same weights, as in PyTorch (re-initialise them to make them differ); ``norm`` (a
    ``LayerNorm``, or None) follows the last block, which a pre-norm stack
    (``norm_first=True``) needs. The ``state_dict`` keys are PyTorch's (``layers.0.self_attn.
    in_proj_weight``, ..., ``norm.weight``), so a PyTorch encoder's weights load.

    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)`` passes ``src`` and
    the masks to every block, as their ``src_mask`` and ``src_key_padding_mask``
    (``MultiheadAttention``'s ``attn_mask`` and ``key_padding_mask``: boolean, True where
    attention is not allowed, or floating, added to the scores). ``is_causal=True`` is
    PyTorch's hint that ``mask`` is the causal mask (``generate_square_subsequent_mask``) and
    needs it, as PyTorch's; the mask is used as given.

    ``enable_nested_tensor`` and ``mask_check`` are accepted and kept, and change nothing:
    tinycolor has no nested tensors. PyTorch's encoder, in eval mode with gradients off
    (``torch.no_grad()``) and a padding mask whose padding ends each sequence, runs its
    nested-tensor fast path, which returns zeros at the padded positions (before ``norm``);
    this one computes them as PyTorch does in training or with gradients on. The outputs at
    the other positions are the same; padded positions' outputs are meant to be ignored
    (``out.masked_fill(pad[..., None], 0)``, batch first, gives PyTorch's zeros)."""

    def __init__(
        self,
        encoder_layer: Module,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ):
        super().__init__()
        for name, m, what in (
            ("encoder_layer", encoder_layer, "a TransformerEncoderLayer"),
            ("norm", norm, "a LayerNorm or None"),
        ):
            if not isinstance(m, Module) and not (name == "norm" and m is None):
                raise TypeError(
                    f"TransformerEncoder: {name} must be {what}, got {type(m).__name__}"
                )
        self.num_layers = _count("TransformerEncoder", "num_layers", num_layers)
        self.layers = ModuleList(copy.deepcopy(encoder_layer) for _ in range(self.num_layers))
        self.add_module("norm", norm)
        self.enable_nested_tensor = bool(enable_nested_tensor)
        self.mask_check = bool(mask_check)

    generate_square_subsequent_mask = staticmethod(generate_square_subsequent_mask)

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        if is_causal and mask is None:
            raise ValueError(
                "TransformerEncoder: is_causal=True is a hint that mask is the causal mask, and "
                "needs that mask, as in PyTorch: pass mask=nn.TransformerEncoder."
                "generate_square_subsequent_mask(S) with it (S the sequence length)"
            )
        x = src
        for layer in self.layers:
            x = layer(
                x,
                src_mask=mask,
                src_key_padding_mask=src_key_padding_mask,
                is_causal=bool(is_causal),
            )
        return x if self.norm is None else self.norm(x)
