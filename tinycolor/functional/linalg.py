"""Matrix products: matmul (batched, broadcast), linear (x @ w.T + b) and bilinear
(x1^T W_o x2 + b_o)."""

from __future__ import annotations

from ..autograd import Function, Tensor
from ..backend import array_module


class MatMul(Function):
    """z = a @ b (both at least 2-D, leading axes broadcast);
    dz/da = g @ b^T,  dz/db = a^T @ g (summed over broadcast axes by the engine)."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
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
        self.save_for_backward(x, w)
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
        self.save_for_backward(x1, x2, w)
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
