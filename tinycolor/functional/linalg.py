"""Matrix products: matmul (batched, broadcast), linear (x @ w.T + b), bilinear
(x1^T W_o x2 + b_o), mm, bmm, mv, dot, outer, einsum, the triangles tril and triu, and
scaled_dot_product_attention (softmax(q k^T / sqrt(E)) v, of these ops)."""

from __future__ import annotations

import string

import numpy as np

from ..autograd import Function, Tensor
from ..backend import array_module


class MatMul(Function):
    """z = a @ b (both at least 2-D, leading axes broadcast);
    dz/da = g @ b^T,  dz/db = a^T @ g (summed over broadcast axes by the engine)."""

    def forward(self, a, b):
        # a's gradient reads b and b's reads a: only those saved (see elementwise.Mul)
        need_a, need_b = self.needs_input_grad
        self.save_for_backward(a if need_b else None, b if need_a else None)
        return a @ b

    def backward(self, g):
        a, b = self.saved
        ga = g @ b.swapaxes(-1, -2) if self.needs_input_grad[0] else None
        gb = a.swapaxes(-1, -2) @ g if self.needs_input_grad[1] else None
        return ga, gb


class Linear(Function):
    """y = x @ w^T + b with w of shape (out, in), x of shape (..., in);
    dx = g @ w,  dw = g^T x (over all leading axes),  db = sum of g over leading axes."""

    def forward(self, x, w, b=None):
        # x's gradient reads w, w's reads x, b's neither: only those saved (see MatMul)
        need_x, need_w = self.needs_input_grad[:2]
        self.save_for_backward(x if need_w else None, w if need_x else None)
        y = x @ w.T
        if b is not None:
            y += b
        return y

    def backward(self, g):
        x, w = self.saved
        gx = g @ w if self.needs_input_grad[0] else None
        gw = gb = None
        g2 = g.reshape(-1, g.shape[-1])
        if self.needs_input_grad[1]:
            gw = g2.T @ x.reshape(-1, x.shape[-1])
        if len(self.needs_input_grad) > 2 and self.needs_input_grad[2]:
            # a product with ones runs on BLAS: about twice as fast as g2.sum(axis=0)
            gb = array_module(g2).ones(g2.shape[0], dtype=g2.dtype) @ g2
        return (gx, gw) if len(self.needs_input_grad) == 2 else (gx, gw, gb)


class Bilinear(Function):
    """y_o = sum_ij x1_i W_oij x2_j + b_o with W of shape (out, in1, in2), x1 of shape
    (..., in1) and x2 of shape (..., in2), the same leading axes;
    dx1_i = sum_oj g_o W_oij x2_j,  dx2_j = sum_oi g_o W_oij x1_i,
    dW_oij = sum over leading axes of g_o x1_i x2_j,  db = sum of g over leading axes."""

    def forward(self, x1, x2, w, b=None):
        xp = array_module(x1)
        # each gradient of x1, x2 and w reads the other two: one is saved only when another
        # needs a gradient (see MatMul)
        need = self.needs_input_grad[:3]
        read = [any(need[:i] + need[i + 1 : 3]) for i in range(3)]
        self.save_for_backward(*(a if r else None for a, r in zip((x1, x2, w), read)))
        y = xp.einsum("...oj,...j->...o", xp.einsum("...i,oij->...oj", x1, w), x2)
        if b is not None:
            y += b
        return y

    def backward(self, g):
        x1, x2, w = self.saved
        xp = array_module(g)
        need = self.needs_input_grad
        g1 = xp.einsum("...o,oij,...j->...i", g, w, x2, optimize=True) if need[0] else None
        g2 = xp.einsum("...o,oij,...i->...j", g, w, x1, optimize=True) if need[1] else None
        gw = xp.einsum("...o,...i,...j->oij", g, x1, x2, optimize=True) if need[2] else None
        if len(need) == 3:
            return g1, g2, gw
        gb = g.reshape(-1, g.shape[-1]).sum(axis=0) if need[3] else None
        return g1, g2, gw, gb


def matmul(a, b) -> Tensor:
    """Matrix product with NumPy's rules; 1-D operands are promoted and the axis removed."""
    from ..autograd import as_tensor_like  # noqa: PLC0415
    from .shape import reshape  # noqa: PLC0415

    # wrapped first, on the other operand's device: a NumPy vector beside a CUDA tensor was
    # reshaped into a CPU tensor, and the product refused the mix
    a, b = as_tensor_like(a, (b,)), as_tensor_like(b, (a,))
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: both arguments need at least 1 dim, got shapes {a.shape} and {b.shape}; "
            f"for a product with a scalar use *"
        )
    a_vec, b_vec = a.ndim == 1, b.ndim == 1
    if a_vec:
        a = reshape(a, (1, a.shape[0]))
    if b_vec:
        b = reshape(b, (b.shape[0], 1))
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not align ({a.shape[-1]} != {b.shape[-2]})"
        )
    z = MatMul.apply(a, b)
    if a_vec or b_vec:
        shape = z.shape[:-2] + (() if a_vec else z.shape[-2:-1]) + (() if b_vec else z.shape[-1:])
        z = reshape(z, shape)
    return z


def bilinear(input1, input2, weight, bias=None) -> Tensor:
    """y = input1^T weight_o input2 + bias_o for each output o, as ``F.bilinear``: weight of
    shape (out_features, in1_features, in2_features), input1 (..., in1_features) and input2
    (..., in2_features) with the same leading axes, y of shape (..., out_features)."""
    x1, x2 = input1, input2
    if weight.ndim != 3:
        raise ValueError(
            f"bilinear: weight must be 3-D (out_features, in1_features, in2_features), got "
            f"shape {tuple(weight.shape)}"
        )
    out, n1, n2 = weight.shape
    if x1.ndim < 1 or x2.ndim < 1 or x1.shape[-1] != n1 or x2.shape[-1] != n2:
        raise ValueError(
            f"bilinear: expected input1 (..., {n1}) and input2 (..., {n2}) for the weight "
            f"{tuple(weight.shape)}, got {tuple(x1.shape)} and {tuple(x2.shape)}"
        )
    if x1.shape[:-1] != x2.shape[:-1]:
        raise ValueError(
            f"bilinear: input1 {tuple(x1.shape)} and input2 {tuple(x2.shape)} must have the "
            "same leading (batch) axes"
        )
    if bias is None:
        return Bilinear.apply(x1, x2, weight)
    if tuple(bias.shape) != (out,):
        raise ValueError(f"bilinear: bias must have shape ({out},), got {tuple(bias.shape)}")
    return Bilinear.apply(x1, x2, weight, bias)


def linear(x, weight, bias=None) -> Tensor:
    """y = x @ weight.T + bias, weight of shape (out_features, in_features), as in PyTorch."""
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the weight "
            f"{weight.shape} expects {weight.shape[1]}"
        )
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)


def _operand(op, x, others=(), ndim=None):
    """``x`` as a tensor on the device of ``others``, checked to have ``ndim`` axes."""
    from ..autograd import as_tensor_like  # noqa: PLC0415

    x = as_tensor_like(x, others)
    if ndim is not None and x.ndim != ndim:
        kind = {1: "a vector (1-D)", 2: "a matrix (2-D)", 3: "a batch of matrices (3-D)"}[ndim]
        raise ValueError(f"{op}: expected {kind}, got shape {x.shape}")
    return x


def mm(input, mat2) -> Tensor:  # noqa: A002 - PyTorch's names
    """The product of two matrices, (n, m) @ (m, p), as ``torch.mm``."""
    return _operand("mm", input, (mat2,), 2).mm(mat2)


def bmm(input, mat2) -> Tensor:  # noqa: A002
    """The products of two batches of matrices, (b, n, m) @ (b, m, p) -> (b, n, p), as
    ``torch.bmm`` (no broadcasting: ``matmul`` broadcasts)."""
    a, b = _operand("bmm", input, (mat2,), 3), _operand("bmm", mat2, (input,), 3)
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ValueError(
            f"bmm: shapes {a.shape} and {b.shape} do not align; expected (b, n, m) and (b, m, p)"
        )
    return matmul(a, b)


def mv(input, vec) -> Tensor:  # noqa: A002
    """The product of a matrix and a vector, (n, m) @ (m,) -> (n,), as ``torch.mv``."""
    return matmul(_operand("mv", input, (vec,), 2), _operand("mv", vec, (input,), 1))


def dot(input, other) -> Tensor:  # noqa: A002
    """The inner product of two vectors of one length, a 0-D tensor, as ``torch.dot``."""
    a, b = _operand("dot", input, (other,), 1), _operand("dot", other, (input,), 1)
    if a.shape != b.shape:
        raise ValueError(f"dot: vectors of different lengths, {a.shape} and {b.shape}")
    return matmul(a, b)


def outer(input, vec2) -> Tensor:  # noqa: A002
    """The outer product of two vectors, z_ij = a_i b_j, of shape (n, m), as ``torch.outer``."""
    a, b = _operand("outer", input, (vec2,), 1), _operand("outer", vec2, (input,), 1)
    return a.reshape(-1, 1) * b.reshape(1, -1)


class Triangle(Function):
    """z = a with the elements above (tril) or below (triu) the ``diagonal``-th diagonal of its
    last two axes set to 0;  da = g, the same elements set to 0."""

    def forward(self, a, upper, diagonal):
        self.upper, self.diagonal = upper, diagonal
        return self._keep(a)

    def _keep(self, a):
        xp = array_module(a)
        return xp.triu(a, self.diagonal) if self.upper else xp.tril(a, self.diagonal)

    def backward(self, g):
        return self._keep(g)


def _triangle(op, input, diagonal, upper):  # noqa: A002
    from ..autograd import as_tensor_like  # noqa: PLC0415

    x = as_tensor_like(input)
    if x.ndim < 2:
        raise ValueError(f"{op}: expected a matrix or a batch of them (>= 2-D), got {x.shape}")
    if isinstance(diagonal, bool) or not isinstance(diagonal, int):
        raise TypeError(f"{op}: diagonal must be an int, got {diagonal!r}")
    return Triangle.apply(x, upper=upper, diagonal=diagonal)


def tril(input, diagonal=0) -> Tensor:  # noqa: A002
    """The lower triangle of each matrix (the last two axes), the rest 0, as ``torch.tril``:
    ``diagonal`` 0 keeps the main diagonal, 1 one more above it, -1 drops it. A causal mask is
    ``tril(ones(n, n)) == 0``."""
    return _triangle("tril", input, diagonal, upper=False)


def triu(input, diagonal=0) -> Tensor:  # noqa: A002
    """The upper triangle of each matrix (the last two axes), the rest 0, as ``torch.triu``."""
    return _triangle("triu", input, diagonal, upper=True)


class Einsum(Function):
    """z = einsum(``equation``, a_1, ..., a_n): the product of the operands over the letters
    they share, summed over the letters the output lacks. Each a_k's gradient is an einsum too:
    of g with the other operands, the output's and a_k's subscripts swapped,
    da_k = einsum('out,others->k', g, others), then broadcast along the letters that only a_k
    has (each of its elements reached z through the sum over them with weight 1)."""

    def forward(self, *operands, inputs, output):
        xp = array_module(operands[0])
        self.inputs_subs, self.output = inputs, output
        self.shapes = [a.shape for a in operands]
        # a_k's gradient reads the other operands: one is saved only when another needs a
        # gradient (see MatMul), so an operand no gradient reads may change in place
        need = self.needs_input_grad
        self.save_for_backward(
            *(a if any(need[:k] + need[k + 1 :]) else None for k, a in enumerate(operands))
        )
        return xp.einsum(f"{','.join(inputs)}->{output}", *operands, optimize=True)

    def backward(self, g):
        xp = array_module(g)
        grads = []
        for k, subs in enumerate(self.inputs_subs):
            if not self.needs_input_grad[k]:
                grads.append(None)
                continue
            pairs = zip(self.inputs_subs, self.saved)
            others = [(s, a) for i, (s, a) in enumerate(pairs) if i != k]
            seen = set(self.output).union(*(s for s, _ in others))
            kept = "".join(c for c in subs if c in seen)
            terms = ",".join([self.output, *(s for s, _ in others)])
            gk = xp.einsum(f"{terms}->{kept}", g, *(a for _, a in others), optimize=True)
            shape = self.shapes[k]
            gk = gk.reshape([shape[i] if c in seen else 1 for i, c in enumerate(subs)])
            grads.append(xp.broadcast_to(gk, shape))
        return tuple(grads)


def _expand_ellipsis(equation, operands):
    """``equation`` with each '...' written out in letters of its own, and the operands: the
    axes that '...' stands for broadcast, as PyTorch's, so an operand whose have size 1 where
    another's do not is expanded to them. Those axes come first in an implicit output and are
    summed over when an explicit output leaves '...' out. An equation without '...' is
    returned as it is."""
    eq = equation.replace(" ", "")
    if "." not in eq:
        return equation, operands
    lhs, arrow, out = eq.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(operands):
        return equation, operands  # _parse_einsum says so
    for part in [*inputs, out]:
        if part.count("...") > 1 or part.replace("...", "").count("."):
            raise ValueError(
                f"einsum({equation!r}): '.' comes only as one ellipsis '...' per operand, got "
                f"{part!r}"
            )
    counts = []
    for subs, x in zip(inputs, operands):
        k = x.ndim - (len(subs) - 3) if "..." in subs else 0
        if k < 0:
            raise ValueError(
                f"einsum({equation!r}): subscripts {subs!r} name more axes than the operand "
                f"has (shape {x.shape})"
            )
        counts.append(k)
    n = max(counts)
    used = {c for c in eq if c.isalpha()}
    free = [c for c in string.ascii_letters if c not in used]
    if n > len(free):
        raise ValueError(f"einsum({equation!r}): too many axes under '...' ({n})")
    letters = "".join(free[:n])
    spans = [
        x.shape[subs.index("...") : subs.index("...") + k] if "..." in subs else ()
        for subs, x, k in zip(inputs, operands, counts)
    ]
    try:
        common = tuple(np.broadcast_shapes(*spans))
    except ValueError:
        raise ValueError(
            f"einsum({equation!r}): the axes under '...' do not broadcast: {spans} (operand "
            f"shapes {[x.shape for x in operands]})"
        ) from None
    new_inputs, new_operands = [], []
    for subs, x, k, span in zip(inputs, operands, counts, spans):
        if "..." in subs:
            i = subs.index("...")
            want = common[n - k :]
            if span != want:  # size-1 axes broadcast
                x = x.expand(*x.shape[:i], *want, *x.shape[i + k :])
            subs = subs.replace("...", letters[n - k :])
        new_inputs.append(subs)
        new_operands.append(x)
    if arrow:
        out = out.replace("...", letters)
    else:  # implicit: the '...' axes, then the letters used once, in alphabetical order
        named = "".join(inputs).replace("...", "")
        out = letters + "".join(sorted(c for c in set(named) if named.count(c) == 1))
    return ",".join(new_inputs) + "->" + out, tuple(new_operands)


def _parse_einsum(equation, operands):
    """(input subscripts, output subscripts) of ``equation``, checked against the operands."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(operands):
        raise ValueError(
            f"einsum({equation!r}): the equation has {len(inputs)} operands, got {len(operands)}"
        )
    for subs, x in zip(inputs, operands):
        if not subs.isalpha() and subs:
            raise ValueError(f"einsum({equation!r}): subscripts must be letters, got {subs!r}")
        if len(subs) != x.ndim:
            raise ValueError(
                f"einsum({equation!r}): subscripts {subs!r} name {len(subs)} axes, but the "
                f"operand has shape {x.shape}"
            )
        if len(set(subs)) != len(subs):
            raise NotImplementedError(
                f"einsum({equation!r}): a letter repeated in one operand ({subs!r}, a diagonal) "
                f"is not supported; take the diagonal another way (x * eye(n)).sum(-1)"
            )
    letters = "".join(inputs)
    if not arrow:  # implicit output: the letters used once, in alphabetical order, as NumPy's
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    if not (out.isalpha() or not out) or len(set(out)) != len(out) or set(out) - set(letters):
        raise ValueError(
            f"einsum({equation!r}): the output {out!r} must name distinct letters of the inputs"
        )
    return tuple(inputs), out


def einsum(equation, *operands) -> Tensor:
    """Einstein summation, as ``torch.einsum``: ``einsum('ij,jk->ik', a, b)`` is ``a @ b``,
    ``einsum('bhqd,bhkd->bhqk', q, k)`` attention scores, ``einsum('i,i->', a, b)`` a dot
    product; without ``->`` the output has the letters used once, in alphabetical order. '...'
    stands for any number of leading (or middle) axes, broadcast across the operands, as in
    PyTorch: ``einsum('...id,...jd->...ij', q, k)``. A letter's axis of length 1 broadcasts
    against that letter's other length, as in PyTorch (``einsum('ij,ij->ij', a, b)`` with a of
    shape (1, 3), b (2, 3)). The operands may also come as one list. Not supported (refused by
    name): a letter repeated within one operand (a diagonal)."""
    from ..autograd import as_tensor_like  # noqa: PLC0415

    if not isinstance(equation, str):
        raise TypeError(
            f"einsum: expected the equation (a string) first, got {type(equation).__name__}; "
            f"PyTorch's sublist form einsum(a, [0, 1], b, [1, 2]) is not supported: write "
            f"einsum('ij,jk->ik', a, b)"
        )
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError(f"einsum({equation!r}): expected at least one operand")
    operands = tuple(as_tensor_like(x, operands) for x in operands)
    written, operands = _expand_ellipsis(equation, operands)
    inputs, output = _parse_einsum(written, operands)
    # a letter's axes of length 1 broadcast against its other length, as PyTorch's (and as
    # '...' does); the other lengths must agree
    length = {}
    for c in sorted(set("".join(inputs))):
        sizes = {x.shape[s.index(c)] for s, x in zip(inputs, operands) if c in s}
        if len(sizes - {1}) > 1:
            raise ValueError(
                f"einsum({equation!r}): letter {c!r} names axes of different lengths "
                f"{sorted(sizes)} (operand shapes {[x.shape for x in operands]}); only a "
                f"length 1 broadcasts"
            )
        length[c] = min(sizes - {1}, default=1)
    # expanded: a view, whose backward sums the gradient back over the length-1 axes
    expanded = []
    for s, x in zip(inputs, operands):
        want = tuple(length[c] for c in s)
        expanded.append(x if x.shape == want else x.expand(*want))
    return Einsum.apply(*expanded, inputs=inputs, output=output)


def scaled_dot_product_attention(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p=0.0,
    is_causal=False,
    scale=None,
    enable_gqa=False,
) -> Tensor:
    """softmax(q k^T * scale + mask) v, as ``torch.nn.functional.scaled_dot_product_attention``
    (PyTorch's reference computation, built of matmul, masked_fill, softmax and dropout, so its
    gradient is theirs).

    query (..., L, E), key (..., S, E), value (..., S, Ev); the leading axes broadcast; output
    (..., L, Ev). ``scale`` defaults to 1 / sqrt(E). ``is_causal`` lets position i attend to
    positions j <= i only (the lower triangle of an L x S mask, as PyTorch's); ``attn_mask``
    (broadcasting to (..., L, S)) is either boolean, True where attention is allowed, or
    floating, added to the scores; not both. ``dropout_p`` drops attention weights, as
    ``F.dropout`` in training (pass ``dropout_p=p if self.training else 0.0``, as in PyTorch).
    A row that may attend nowhere gives NaN, as PyTorch's reference computation does.
    ``enable_gqa`` (grouped key/value heads) is accepted at False only."""
    import math  # noqa: PLC0415

    from .dropout import dropout  # noqa: PLC0415
    from .elementwise import softmax  # noqa: PLC0415
    from .shape import masked_fill  # noqa: PLC0415

    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor) or t.ndim < 2:
            raise ValueError(
                f"{op}: {name} must be a Tensor of at least 2 dims (..., length, features), "
                f"got {getattr(t, 'shape', type(t).__name__)}"
            )
    if enable_gqa:
        raise ValueError(f"{op}: enable_gqa=True is not supported, only enable_gqa=False")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(
            f"{op}: query and key must have the same feature size, got {query.shape} and "
            f"{key.shape}"
        )
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"{op}: key and value must have the same length, got {key.shape} and {value.shape}"
        )
    if is_causal and attn_mask is not None:
        raise ValueError(f"{op}: give attn_mask or is_causal=True, not both")
    n_query, n_key = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    scores = matmul(query, key.transpose(-2, -1)) * scale
    if is_causal:
        xp = array_module(scores.data)
        allowed = xp.tril(xp.ones((n_query, n_key), dtype=bool))
        scores = masked_fill(scores, Tensor(~allowed, _internal=True), float("-inf"))
    elif attn_mask is not None:
        mask = attn_mask if isinstance(attn_mask, Tensor) else Tensor(attn_mask, _internal=True)
        if mask.dtype == bool:
            scores = masked_fill(scores, ~mask, float("-inf"))
        else:
            scores = scores + mask
    weights = softmax(scores, dim=-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return matmul(weights, value)
