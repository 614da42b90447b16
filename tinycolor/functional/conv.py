"""2-D convolution and transposed convolution, and the im2col / col2im helpers they are built on;
1-D convolution and transposed convolution as those of a height-1 image.

Notation: x of shape (N, C, H, W), weight w of shape (O, C, kh, kw), stride s, dilation d,
padding p (top/left; bottom/right may differ), output y of shape (N, O, Ho, Wo) with
Ho = (H + p_top + p_bottom - d (kh - 1) - 1) // s + 1. Written as matrices (PyTorch's
cross-correlation convention, no kernel flip):

    columns  X[n, (i, j, c), (y, x)] = x_pad[n, c, y s + i d, x s + j d]      (im2col)
    forward  Y[n] = Wm @ X[n]               Wm[o, (i, j, c)] = w[o, c, i, j]
    weights  dWm = sum_n G[n] @ X[n]^T      G = dL/dY, summed over blocks of columns
    input    dX[n] = Wm^T @ G[n], then folded back onto the pixels it came from (col2im);
             with stride 1 the same thing is a plain convolution of the zero-padded gradient
             with the flipped, transposed kernel, which needs no scatter at all.

The transposed convolution is, by definition, the input gradient of a convolution; its backward
pass is a convolution (input gradient) and the same weight product (weight gradient). So the
three formulas are written once each (``_conv_loop``, ``_conv_input_grad``) and shared by both
ops.

Speed on the CPU (the NumPy path). The products run on BLAS; what costs besides is memory
traffic around them, and the Python between NumPy calls. So:

* the batch goes through in chunks of images and, within a chunk, blocks of output rows whose
  columns take about 4 MB (``_BLOCK_BYTES``): few enough NumPy calls a layer, products large
  enough for BLAS's own threads; the buffers are kept between calls (fresh arrays would be
  paid for again in page faults);
* the columns are rebuilt in the backward pass from the saved input rather than kept (cheaper
  than the memory: about 300 MB per layer at N=32, 64 channels, 64x64);
* with stride 1 the columns come from a flat trick: lay the padded image out as Hp*Wp values
  per channel; tap (i, j) of every output position is then the same array shifted by
  i d Wp + j d, so the columns of a block are whole rows copied at fixed offsets (one copy
  call), and outputs are computed on the Ho x Wp grid and cropped. Strided convolutions copy
  from the ``sliding_window_view`` instead; their input gradient is the stride-1 one of the
  s*s phase images of the padded input (``_phase_input_grad``), where the phase kernels
  hold at most twice the taps, and otherwise folds back with col2im as kh*kw strided
  slice-adds;
* a block's columns are laid out as the products will take them (``_Pieces``): the thin
  products of narrow layers in pieces that OpenBLAS runs on its small-matrix kernels
  (``_SMALL_GEMM_MACS``), several whole images or a part of one image's rows each, all in
  one batched ``matmul`` call; wider layers in one product for the whole block, so that the
  small maps of the deep layers still make a product big enough for BLAS's threads;
* a stride-1 input gradient with many more output channels than inputs is folded back with
  col2im rather than computed as a convolution of g, whose columns would be bigger
  (``_fold_input_grad``);
* there are no Python threads: measured on a 2-core virtual machine, two threads that each
  ran their own chunks of a layer were no faster than one, and often slower (each thread
  was busy 1.8 times as long as the same chunks took alone). A chunk is a dozen NumPy calls
  of tens of microseconds with Python in between, and after each call a thread must win the
  GIL back from the other; ``benchmarks/bench_threads.py`` shows two threads gaining 0.9 to
  1.5 times on such calls, against 1.9 on calls of a million values. BLAS's own threads,
  which never return to Python, do scale.

On CuPy the whole batch goes through at once, and col2im is one ``ElementwiseKernel`` (each
thread gathers its own pixel's contributions, so no atomics are needed).

``unfold`` and ``fold`` are im2col and col2im the PyTorch way, as Functions: the columns as an
(N, C kh kw, Ho Wo) matrix, rows in (c, i, j) order, each the other's backward pass.

With ``groups`` > 1 the convolutions go through their own Functions, ``GroupedConv2d`` and
``GroupedConvTranspose2d`` (see "grouped convolutions" below): the path above is groups=1's.

``conv1d`` and ``conv_transpose1d`` check their arguments in their own terms, then reshape x
(N, C, L) to (N, C, 1, L) and the weight to (O, C, 1, k) and apply the same ``Conv2d`` and
``ConvTranspose2d`` Functions with a 1-row kernel: the reshapes are views, and the forward and
backward passes are the 2-D ones, tested once.
"""

from __future__ import annotations

import math
import threading
from typing import NamedTuple

import numpy as np

from ..autograd import Function, Tensor
from ..backend import array_module
from .reduce import channel_sum

__all__ = [
    "col2im",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "fold",
    "im2col",
    "unfold",
]

# The columns of one block (a chunk of images, a range of output rows) take about this much.
_BLOCK_BYTES = 4 * 2**20
# ... but at least this many output positions a block, for the product's sake.
_MIN_BLOCK_POSITIONS = 256
# Scratch buffers up to this many bytes are kept between calls (per thread, per dtype, per role).
_WORKSPACE_MAX_BYTES = 64 * 2**20
# The stride-1 flat-shift columns on the CPU; tests switch it off to check the general path.
_FLAT_STRIDE1 = True
# Strided input gradients through the phase images on the CPU (``_phase_input_grad``); tests
# switch it off to check the columns folded back with strided slice-adds.
_PHASE_INPUT_GRAD = True
# Grouped convolutions depthwise or group by group where that is faster (``_grouped_route``);
# tests switch it off to check the batched product.
_GROUPED_ROUTES = True
# OpenBLAS multiplies matrices of at most this many multiply-adds (M N K) with its small-matrix
# kernels, which skip packing: about 110 GFLOP/s on one core of the machine it was measured on,
# against 40 to 90 on the packed path for the thin products of narrow layers (16 outputs from
# 72 or 144 column rows). So a block's product is cut into products within that size
# (``_piece_positions``), when those have at least _MIN_PIECE_POSITIONS positions.
_SMALL_GEMM_MACS = 1_000_000
_MIN_PIECE_POSITIONS = 128

_workspace_local = threading.local()


def _workspace(xp, role, shape, dtype):
    """An uninitialised scratch array for the role ``role``, reused between calls on the CPU."""
    if xp is not np:
        return xp.empty(shape, dtype=dtype)
    n = math.prod(shape)
    cache = _workspace_local.__dict__.setdefault("buffers", {})
    key = (role, np.dtype(dtype).str)
    buf = cache.get(key)
    if buf is None or buf.size < n:
        buf = np.empty(n, dtype=dtype)
        if buf.nbytes <= _WORKSPACE_MAX_BYTES:
            cache[key] = buf
    return buf[:n].reshape(shape)


# --------------------------------------------------------------------------- geometry


class _Geometry(NamedTuple):
    """Kernel size, stride, dilation and padding (top, bottom, left, right) of a convolution.

    A negative padding crops. The convolution maps an input of size (H, W) to ``out_size``.
    """

    kh: int
    kw: int
    sh: int
    sw: int
    dh: int
    dw: int
    pt: int
    pb: int
    pl: int
    pr: int

    def out_size(self, h, w):
        ho = (h + self.pt + self.pb - self.dh * (self.kh - 1) - 1) // self.sh + 1
        wo = (w + self.pl + self.pr - self.dw * (self.kw - 1) - 1) // self.sw + 1
        return ho, wo


def _pair(value, name, op):
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value), int(value)
    try:
        a, b = value
    except (TypeError, ValueError):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}") from None
    if not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in (a, b)):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return int(a), int(b)


def _single(value, name, op):
    """``value`` as a 1-tuple of an int: an int, or PyTorch's 1-tuple ``(3,)``."""
    if isinstance(value, tuple | list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, int | np.integer) or isinstance(value, bool):
        raise ValueError(f"{op}: {name} must be an int or a 1-tuple of ints, got {value!r}")
    return (int(value),)


def _pad_into(dst, src, pads):
    """dst[..., :, :] <- src zero-padded by pads = (top, bottom, left, right); negative crops."""
    pt, pb, pl, pr = pads
    h, w = src.shape[-2:]
    sy0, sy1 = max(0, -pt), h - max(0, -pb)
    sx0, sx1 = max(0, -pl), w - max(0, -pr)
    dy0, dx0 = max(0, pt), max(0, pl)
    dy1, dx1 = dy0 + max(0, sy1 - sy0), dx0 + max(0, sx1 - sx0)
    dst[..., :dy0, :] = 0
    dst[..., dy1:, :] = 0
    dst[..., dy0:dy1, :dx0] = 0
    dst[..., dy0:dy1, dx1:] = 0
    if dy1 > dy0 and dx1 > dx0:
        dst[..., dy0:dy1, dx0:dx1] = src[..., sy0:sy1, sx0:sx1]
    return dst


def _padded_shape(shape, pads):
    return (*shape[:-2], shape[-2] + pads[0] + pads[1], shape[-1] + pads[2] + pads[3])


# --------------------------------------------------------------------------- im2col / col2im


def _windows(xpad, geo):
    """The (N, C, Ho, Wo, kh, kw) view of an already padded array: no copy."""
    xp = array_module(xpad)
    khe, kwe = geo.dh * (geo.kh - 1) + 1, geo.dw * (geo.kw - 1) + 1
    view = xp.lib.stride_tricks.sliding_window_view(xpad, (khe, kwe), axis=(2, 3))
    return view[:, :, :: geo.sh, :: geo.sw, :: geo.dh, :: geo.dw]


def im2col(x, kernel_size, stride=1, padding=0, dilation=1, pad_value=0.0):
    """The sliding windows of ``x`` (N, C, H, W) as a view of shape (N, C, Ho, Wo, kh, kw).

    ``cols[n, c, y, x, i, j] = x_pad[n, c, y*sh + i*dh, x*sw + j*dw]`` where x_pad is ``x``
    padded with ``pad_value`` (use ``-inf`` for max pooling). The result is a read-only strided
    view of the padded array (of ``x`` itself when there is no padding): reduce it, multiply it
    or copy it, never write through it. Works on NumPy and CuPy (>= 13) arrays.
    """
    kh, kw = _pair(kernel_size, "kernel_size", "im2col")
    sh, sw = _pair(stride, "stride", "im2col")
    ph, pw = _pair(padding, "padding", "im2col")
    dh, dw = _pair(dilation, "dilation", "im2col")
    if x.ndim != 4:
        raise ValueError(f"im2col: expected a 4-D array (N, C, H, W), got shape {tuple(x.shape)}")
    geo = _Geometry(kh, kw, sh, sw, dh, dw, ph, ph, pw, pw)
    _check_geometry("im2col", geo, x.shape)
    if ph or pw:
        xp = array_module(x)
        xpad = xp.full(_padded_shape(x.shape, geo[6:]), pad_value, dtype=x.dtype)
        xpad[:, :, ph : ph + x.shape[2], pw : pw + x.shape[3]] = x
    else:
        xpad = x
    return _windows(xpad, geo)


def col2im(cols, input_size, kernel_size, stride=1, padding=0, dilation=1):
    """The adjoint of ``im2col``: add each window value back onto the pixel it was read from.

    ``cols`` has shape (N, C, Ho, Wo, kh, kw) (any strides, e.g. a transposed view);
    ``input_size`` is (H, W) of the unpadded input. Returns (N, C, H, W) with
    ``out[n, c, y*sh + i*dh - ph, x*sw + j*dw - pw] += cols[n, c, y, x, i, j]`` (entries that
    fall into the padding are dropped). On the CPU: kh*kw strided slice-adds; on CuPy: one
    elementwise kernel that gathers, for each pixel, the window entries that cover it.
    """
    kh, kw = _pair(kernel_size, "kernel_size", "col2im")
    sh, sw = _pair(stride, "stride", "col2im")
    ph, pw = _pair(padding, "padding", "col2im")
    dh, dw = _pair(dilation, "dilation", "col2im")
    h, w = _pair(input_size, "input_size", "col2im")
    geo = _Geometry(kh, kw, sh, sw, dh, dw, ph, ph, pw, pw)
    if cols.ndim != 6:
        raise ValueError(
            f"col2im: expected columns of shape (N, C, Ho, Wo, kh, kw), got {tuple(cols.shape)}"
        )
    n, c = cols.shape[:2]
    expected = (n, c, *geo.out_size(h, w), kh, kw)
    if tuple(cols.shape) != expected:
        raise ValueError(
            f"col2im: columns of shape {tuple(cols.shape)} do not match input size {(h, w)} "
            f"with kernel {(kh, kw)}, stride {(sh, sw)}, padding {(ph, pw)}, dilation "
            f"{(dh, dw)}; expected {expected}"
        )
    xp = array_module(cols)
    out = xp.zeros((n, c, h, w), dtype=cols.dtype)
    _col2im_into(out, cols, geo)
    return out


def _col2im_into(dst, cols, geo, oy0=0):
    """dst (N, C, H, W), zero or holding a partial sum, += col2im(cols (N, C, rows, Wo, kh, kw)),
    the columns of output rows oy0 .. oy0 + rows."""
    if array_module(dst) is not np:
        if oy0 != 0 or cols.shape[2] != geo.out_size(*dst.shape[2:])[0]:
            raise ValueError("col2im on CuPy folds whole images only")
        dst += _col2im_cuda(cols, dst.shape, geo)
        return dst
    h, w = dst.shape[-2:]
    rows, wo = cols.shape[2:4]
    ho = geo.out_size(h, w)[0]
    for i in range(geo.kh):
        y_lo, y_hi = _tap_range(i, geo.sh, geo.dh, geo.pt, h, ho)
        y_lo, y_hi = max(y_lo, oy0), min(y_hi, oy0 + rows)
        if y_hi <= y_lo:
            continue
        y0 = y_lo * geo.sh + i * geo.dh - geo.pt
        dst_rows = slice(y0, y0 + (y_hi - y_lo - 1) * geo.sh + 1, geo.sh)
        for j in range(geo.kw):
            x_lo, x_hi = _tap_range(j, geo.sw, geo.dw, geo.pl, w, wo)
            if x_hi <= x_lo:
                continue
            x0 = x_lo * geo.sw + j * geo.dw - geo.pl
            dst_cols = slice(x0, x0 + (x_hi - x_lo - 1) * geo.sw + 1, geo.sw)
            dst[:, :, dst_rows, dst_cols] += cols[:, :, y_lo - oy0 : y_hi - oy0, x_lo:x_hi, i, j]
    return dst


def _tap_range(i, s, d, p, n, n_out):
    """The output positions o (lo <= o < hi) whose tap i reads an input pixel o*s + i*d - p
    inside [0, n)."""
    lo = max(0, -((i * d - p) // s))  # ceil((p - i d) / s)
    hi = min(n_out, (n - 1 + p - i * d) // s + 1)
    return lo, hi


_COL2IM_KERNEL = None


def _col2im_cuda(cols, shape, geo):
    """col2im on CuPy: one thread per output pixel sums the window entries that read it."""
    global _COL2IM_KERNEL
    from ..backend import cupy  # noqa: PLC0415 - only reached with a CuPy array

    cp = cupy()
    if _COL2IM_KERNEL is None:
        _COL2IM_KERNEL = cp.ElementwiseKernel(
            "raw T col, int32 C, int32 H, int32 W, int32 Ho, int32 Wo, int32 kh, int32 kw, "
            "int32 sh, int32 sw, int32 ph, int32 pw, int32 dh, int32 dw, "
            "int64 s0, int64 s1, int64 s2, int64 s3, int64 s4, int64 s5",
            "T img",
            """
            const int px = i % W;
            const int py = (i / W) % H;
            const int ch = (i / ((long long)W * H)) % C;
            const long long b = i / ((long long)W * H * C);
            T acc = 0;
            for (int ki = 0; ki < kh; ++ki) {
                const int ty = py + ph - ki * dh;
                if (ty < 0 || ty % sh != 0) continue;
                const int oy = ty / sh;
                if (oy >= Ho) continue;
                for (int kj = 0; kj < kw; ++kj) {
                    const int tx = px + pw - kj * dw;
                    if (tx < 0 || tx % sw != 0) continue;
                    const int ox = tx / sw;
                    if (ox >= Wo) continue;
                    acc += col[b * s0 + ch * s1 + oy * s2 + ox * s3 + ki * s4 + kj * s5];
                }
            }
            img = acc;
            """,
            "tinycolor_col2im",
        )
    # Index the columns through their own strides, in elements, on a C-contiguous array with
    # the same memory (a transposed view of contiguous columns needs no copy).
    order = sorted(range(6), key=lambda a: -cols.strides[a])
    base = cols.transpose(order)
    if not base.flags.c_contiguous:
        cols = cp.ascontiguousarray(cols)
        base = cols
    strides = [st // cols.itemsize for st in cols.strides]
    n, c, h, w = shape
    out = cp.empty((n, c, h, w), dtype=cols.dtype)
    ho, wo = cols.shape[2:4]
    _COL2IM_KERNEL(
        base, c, h, w, ho, wo, geo.kh, geo.kw, geo.sh, geo.sw, geo.pt, geo.pl, geo.dh, geo.dw,
        *strides, out,
    )  # fmt: skip
    return out


# --------------------------------------------------------------------------- column plans


class _Pieces(NamedTuple):
    """How the positions of one block (b images, ``rows`` output rows of ``width`` each) are
    cut into products: each product covers ``m`` whole images, or one image's rows in ``q``
    parts (m == 1 or q == 1); there are b / m * q of them, of p = m * rows / q * width
    positions each, laid out one after another in the block's columns (S, K, p)."""

    m: int
    q: int

    def split(self, b, rows, width):
        """(S, p): the number of products and the positions in each."""
        return b // self.m * self.q, self.m * rows // self.q * width


class _Plan:
    """How the columns of one convolution are built and used, on one chunk of images at a time
    and, within it, one block of output rows at a time.

    ``width`` is the number of columns per output row: Wo, or Wp on the flat grid.
    """

    width: int

    def __init__(self, xp, shape, geo, dtype, o):
        n, c, h, w = shape
        self.xp, self.geo, self.dtype, self.o = xp, geo, np.dtype(dtype), o
        self.c, self.ho, self.wo = c, *geo.out_size(h, w)
        self.k = geo.kh * geo.kw * c
        self.chunk, self.rows = _blocking(xp, n, self.ho, self.k, self.width, self.dtype)
        self.piece = _piece_positions(xp, o, self.k)

    def pieces(self, b, rows):
        """The products of a block of ``b`` images and ``rows`` rows: one for the whole block
        when the products need not be small (``piece`` None); else whole images, as many as
        fit in ``piece`` positions, or an image's rows in as many parts as make each fit."""
        length = rows * self.width
        if self.piece is None:
            return _Pieces(b, 1)
        if length <= self.piece:
            most = max(1, self.piece // length)
            return _Pieces(next(d for d in range(min(b, most), 0, -1) if b % d == 0), 1)
        size = next(d for d in range(max(1, self.piece // self.width), 0, -1) if rows % d == 0)
        return _Pieces(1, 1 if size * self.width < _MIN_PIECE_POSITIONS else rows // size)

    def run(self, xc, wm=None, out=None, bias=None, g=None):
        """For a chunk xc (B, C, H, W): out (B, O, Ho, Wo) <- wm (O, K) @ columns (+ bias) when
        out is given; returns dW^T = sum columns @ G^T (K, O) for g (B, O, Ho, Wo) when given."""
        xp, b = self.xp, xc.shape[0]
        src = self.prepare(xc)
        dwt = None
        for r0 in range(0, self.ho, self.rows):
            r1 = min(self.ho, r0 + self.rows)
            pieces = self.pieces(b, r1 - r0)
            cols = self.block_columns(src, b, r0, r1, pieces)  # (S, K, p)
            if out is not None:
                prod = _workspace(xp, "conv.product", (cols.shape[0], self.o, cols.shape[2]),
                                  self.dtype)  # fmt: skip
                xp.matmul(wm, cols, out=prod)
                target, valid = self.image_order(out[:, :, r0:r1], prod, pieces)
                if bias is None:
                    target[...] = valid
                else:
                    xp.add(valid, bias.reshape(1, 1, -1, 1, 1, 1), out=target)
            if g is not None:
                gp = _workspace(xp, "conv.grad", (cols.shape[0], self.o, cols.shape[2]),
                                self.dtype)  # fmt: skip
                target, valid = self.image_order(g[:, :, r0:r1], gp, pieces, pad=True)
                valid[...] = target
                part = xp.matmul(cols, gp.transpose(0, 2, 1))  # (S, K, O)
                part = part[0] if part.shape[0] == 1 else part.sum(axis=0)
                if dwt is None:
                    dwt = part
                else:
                    dwt += part
        return dwt

    def image_order(self, images, by_piece, pieces, pad=False):
        """Two views of one block: ``images`` (B, O, rows, Wo) and ``by_piece`` (S, O, p),
        both as (B/m, m, O, q, rows/q, Wo), the positions matched; with ``pad`` the columns of
        by_piece past Wo (on the flat grid) are zeroed."""
        b, o, rows = images.shape[:3]
        m, q = pieces
        shape = (b // m, q, o, m, rows // q, self.width)
        piece = by_piece.reshape(shape).transpose(0, 3, 2, 1, 4, 5)
        if pad and self.width > self.wo:
            piece[..., self.wo :] = 0
        return images.reshape(b // m, m, o, q, rows // q, self.wo), piece[..., : self.wo]


class _WindowPlan(_Plan):
    """Columns copied from the sliding-window view of the padded chunk: any stride."""

    def __init__(self, xp, shape, geo, dtype, o):
        self.width = geo.out_size(*shape[2:])[1]
        super().__init__(xp, shape, geo, dtype, o)

    def prepare(self, xc):
        pads = self.geo[6:]
        if any(pads):
            shape = _padded_shape(xc.shape, pads)
            xc = _pad_into(_workspace(self.xp, "conv.pad", shape, self.dtype), xc, pads)
        return _windows(xc, self.geo)  # (B, C, Ho, Wo, kh, kw)

    def block_columns(self, view, b, r0, r1, pieces):
        geo, (m, q), rows = self.geo, pieces, r1 - r0
        s, p = pieces.split(b, rows, self.width)
        shape = (b // m, q, geo.kh, geo.kw, self.c, m, rows // q, self.wo)
        cols = _workspace(self.xp, "conv.cols", shape, self.dtype)
        block = view[:, :, r0:r1].reshape(b // m, m, self.c, q, rows // q, self.wo, *geo[:2])
        cols[...] = block.transpose(0, 3, 6, 7, 2, 1, 4, 5)
        return cols.reshape(s, self.k, p)


class _FlatPlan(_Plan):
    """Stride-1 columns on the CPU by the flat-shift trick (see the module docstring).

    For image b, channel c, tap t = (i, j) and grid position r = y*Wp + x:
    cols[b, t, c, r] = flat[b*C*R + c*R + o_t + r] with R = Hp*Wp and o_t = i*dh*Wp + j*dw, so
    that each tap of a block is one strided copy of whole rows. Products are computed on the
    Ho x Wp grid and cropped to Ho x Wo; the Wp - Wo positions at the end of each row read
    neighbouring values, are never used, and get zero gradient.

    A row holds pl zeros, then the W pixels, then max(0, pr - pl) zeros: a window at the end
    of a row reads on into the next row's pl leading zeros, so the right padding needs no
    room of its own where pr <= pl (Wp = W + 1 rather than W + 2 for a 3x3 'same' layer: 6 %
    fewer columns at 16x16, 17 % at 4x4).
    """

    def __init__(self, xp, shape, geo, dtype, o):
        w, wo = shape[3], geo.out_size(*shape[2:])[1]
        self.hp = shape[2] + geo.pt + geo.pb
        if geo.pl >= 0 and geo.pr >= 0:
            # Rows of pl zeros then the W pixels, the right padding shared with the left
            # padding of the next row (which the windows run into): Wp = W + max(pl, pr).
            self.wp = max(w + max(geo.pl, geo.pr), wo)
        else:
            self.wp = w + geo.pl + geo.pr
        self.width, self.r = self.wp, self.hp * self.wp
        super().__init__(xp, shape, geo, dtype, o)

    def prepare(self, xc):
        """The padded chunk, flat, seen as taps[i, j, b, c, r] = flat[o_ij + b C R + c R + r]."""
        geo, b, cr = self.geo, xc.shape[0], self.c * self.r
        # The last channel's last row of windows reads up to a row past the image.
        tail = geo.dw * (geo.kw - 1) + self.wp
        flat = _workspace(np, "conv.flat", (b * cr + tail,), self.dtype)
        pads = (*geo[6:9], self.wp - xc.shape[3] - geo.pl)
        _pad_into(flat[: b * cr].reshape(b, self.c, self.hp, self.wp), xc, pads)
        flat[b * cr :] = 0
        size = self.dtype.itemsize
        shape = (geo.kh, geo.kw, b, self.c, self.ho * self.wp)
        strides = (geo.dh * self.wp * size, geo.dw * size, cr * size, self.r * size, size)
        return np.lib.stride_tricks.as_strided(flat, shape, strides, writeable=False)

    def block_columns(self, taps, b, r0, r1, pieces):
        geo, (m, q) = self.geo, pieces
        s, p = pieces.split(b, r1 - r0, self.wp)
        shape = (b // m, q, geo.kh, geo.kw, self.c, m, p // m)
        cols = _workspace(np, "conv.cols", shape, self.dtype)
        block = taps[..., r0 * self.wp : r1 * self.wp]
        block = block.reshape(*geo[:2], b // m, m, self.c, q, p // m)
        cols[...] = block.transpose(2, 5, 0, 1, 4, 3, 6)
        return cols.reshape(s, self.k, p)


def _piece_positions(xp, o, k):
    """The most positions one product with an (o, k) weight matrix may take to stay within
    ``_SMALL_GEMM_MACS``; None where products need not be cut (on the GPU, or where so few
    positions would make them shorter than ``_MIN_PIECE_POSITIONS``)."""
    if xp is not np:
        return None
    positions = _SMALL_GEMM_MACS // (o * k)
    return positions if positions >= _MIN_PIECE_POSITIONS else None


def _blocking(xp, n, ho, k, width, dtype):
    """(images per chunk, output rows per block) for k-row columns, ``width`` of them a row.

    The whole batch at once on the GPU. On the CPU a block holds about ``_BLOCK_BYTES`` of
    columns (but at least _MIN_BLOCK_POSITIONS positions), several small images at a
    time if need be.
    """
    if xp is not np:
        return max(n, 1), ho  # an empty batch still needs a chunk size above 0
    budget, per_row = max(1, _BLOCK_BYTES // dtype.itemsize), max(1, k * width)
    chunk = max(1, min(n, budget // (per_row * ho)))
    rows = max(1, budget // (chunk * per_row), -(-_MIN_BLOCK_POSITIONS // width))
    blocks = -(-ho // rows)
    return chunk, -(-ho // blocks)  # blocks of even size: no small last one


def _run_chunks(n, chunk, work):
    """[work(n0, n1) for each chunk of the batch], in order."""
    return [work(n0, min(n, n0 + chunk)) for n0 in range(0, n, chunk)]


def _plan(xp, shape, geo, dtype, o):
    """The column plan for x of ``shape`` and a weight of ``o`` output channels."""
    if xp is np and _FLAT_STRIDE1 and geo.sh == 1 and geo.sw == 1:
        return _FlatPlan(xp, shape, geo, dtype, o)
    return _WindowPlan(xp, shape, geo, dtype, o)


# --------------------------------------------------------------------------- the three formulas


def _weight_matrix(w):
    """(O, C, kh, kw) -> Wm (O, kh*kw*C), columns ordered like the column rows (i, j, c)."""
    o = w.shape[0]
    return array_module(w).ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(o, -1)


def _conv_loop(x, w, geo, *, bias=None, want_out=True, weight_grad_of=None):
    """One pass over the columns of x: y = conv2d(x, w) + bias and/or the weight gradient
    dW[o, c, i, j] = sum_{n, y, x} G[n, o, y, x] X[n, (i, j, c), (y, x)] for G = weight_grad_of
    (the gradient of y). Returns (y or None, dW or None)."""
    xp = array_module(x)
    n, c = x.shape[:2]
    o = w.shape[0]
    plan = _plan(xp, x.shape, geo, x.dtype, o)
    out = xp.empty((n, o, plan.ho, plan.wo), dtype=x.dtype) if want_out else None
    wm = _weight_matrix(w) if want_out else None
    bias = None if bias is None else bias.reshape(o, 1, 1)
    g = weight_grad_of

    def work(n0, n1):
        return plan.run(
            x[n0:n1],
            wm,
            None if out is None else out[n0:n1],
            bias,
            None if g is None else g[n0:n1],
        )

    partials = _run_chunks(n, plan.chunk, work)
    dw = None
    if g is not None:
        dwt = partials[0] if partials else xp.zeros((plan.k, o), dtype=x.dtype)
        for part in partials[1:]:
            dwt += part
        dw = xp.ascontiguousarray(dwt.reshape(geo.kh, geo.kw, c, o).transpose(3, 2, 0, 1))
    return out, dw


def _fold_input_grad(xp, o, c, positions, taps):
    """Whether a stride-1 input gradient from o channels to c, on maps of ``positions`` pixels,
    through a kernel of ``taps`` taps, goes through col2im rather than a convolution of g: on
    the CPU, where the columns of g (o kh kw rows) would be much bigger than the folded ones
    (c kh kw rows). Measured on 2 cores (AMD EPYC), fwd + bwd of 3x3 layers at batch 32:
    8 -> 229 channels on 4x4 maps 2.8 -> 1.7 ms, 16 -> 64 on 16x16 8.6 -> 7.0, 32 -> 64 on
    8x8 4.8 -> 3.9, but 16 -> 32 on 16x16 4.7 -> 5.4 and 8 -> 16 on 32x32 5.5 -> 7.3 (the
    k*k slice-adds cost more there). With 5x5 kernels the fold pays from twice the channels:
    on 2 cores (Intel Xeon), the input gradient alone of 16 -> 32 channels on 32x32 maps,
    batch 32 (cnn_regression's second layer), 19.0 ms as a convolution, 13.8 folded."""
    return xp is np and (o >= 4 * c or (o >= 2 * c and (positions <= 64 or taps >= 25)))


def _conv_input_grad(g, w, geo, in_hw, bias=None):
    """dx = d<g, conv2d(x, w)>/dx for x of spatial size in_hw (the transposed convolution).

    Stride 1: dx is the convolution of g, padded by d (k - 1) - p (crop where negative), with
    the kernel flipped and its two channel axes swapped. Otherwise, or where g has many more
    channels than x (``_fold_input_grad``): dX = Wm^T @ G by blocks of rows, folded back with
    col2im.
    """
    xp = array_module(g)
    n, o, ho, wo = g.shape
    c, h, wd = w.shape[1], *in_hw
    if _phase_input_grad_pays(xp, geo, in_hw, (ho, wo)):
        return _phase_input_grad(g, w, geo, in_hw, bias)
    if geo.sh == 1 and geo.sw == 1 and not _fold_input_grad(xp, o, c, ho * wo, geo.kh * geo.kw):
        flipped = w[:, :, ::-1, ::-1].swapaxes(0, 1)
        gradient_geo = _Geometry(
            geo.kh, geo.kw, 1, 1, geo.dh, geo.dw,
            geo.dh * (geo.kh - 1) - geo.pt, h - ho + geo.pt,
            geo.dw * (geo.kw - 1) - geo.pl, wd - wo + geo.pl,
        )  # fmt: skip
        return _conv_loop(g, flipped, gradient_geo, bias=bias)[0]
    wm_t = xp.ascontiguousarray(_weight_matrix(w).T)  # (K, O)
    k = wm_t.shape[0]
    dx = xp.zeros((n, c, h, wd), dtype=g.dtype)
    chunk, rows = _blocking(xp, n, ho, k, wo, np.dtype(g.dtype))

    def work(n0, n1):
        b = n1 - n0
        for r0 in range(0, ho, rows):
            r1 = min(ho, r0 + rows)
            # G of the block as (O, B, rows, Wo), so that one product covers all its images
            gm = _workspace(xp, "col2im.grad", (o, b, r1 - r0, wo), g.dtype)
            gm[...] = g[n0:n1, :, r0:r1].transpose(1, 0, 2, 3)
            dcols = _workspace(xp, "col2im.cols", (k, b * (r1 - r0) * wo), g.dtype)
            xp.matmul(wm_t, gm.reshape(o, -1), out=dcols)
            dcols = dcols.reshape(geo.kh, geo.kw, c, b, r1 - r0, wo).transpose(3, 2, 4, 5, 0, 1)
            _col2im_into(dx[n0:n1], dcols, geo, r0)
        if bias is not None:
            dx[n0:n1] += bias.reshape(c, 1, 1)

    _run_chunks(n, chunk, work)
    return dx


def _phase_input_grad_pays(xp, geo, in_hw, out_hw):
    """Whether a strided input gradient goes through the phase images (``_phase_input_grad``):
    on the CPU, undilated, padded (not cropped), where the phase kernels hold at most twice
    the taps of the kernel (4x4 and 3x3 with stride 2; not 1x1, 4 times) and the product
    then has at most 2.5 times the multiply-adds of the folded one (the phase images' grid
    is a little larger than the output's: on small maps too large to pay). Measured on 2
    cores, batch 32, stride 2, against the columns folded back with strided slice-adds:
    4x4 from 32 to 32 channels at 8x8 1.04 -> 0.44 ms (1.6 times the multiply-adds), 3x3
    from 16 to 16 at 32x32 2.12 -> 1.32 (2.0), from 16 to 32 at 16x16 0.78 -> 0.57 (2.25),
    from 64 to 64 at 8x8 1.23 -> 1.28 (2.8), at 4x4 0.42 -> 0.85 (4)."""
    if not _PHASE_INPUT_GRAD or xp is not np or (geo.sh == 1 and geo.sw == 1):
        return False
    if geo.dh != 1 or geo.dw != 1 or min(geo[6:]) < 0:
        return False
    (kh2, kw2), (h2, w2) = _phase_sizes(geo, in_hw)
    taps = kh2 * geo.sh * kw2 * geo.sw / (geo.kh * geo.kw)
    grid = h2 * w2 / (out_hw[0] * out_hw[1])
    return taps <= 2 and taps * grid <= 2.5


def _phase_sizes(geo, in_hw):
    """((kh2, kw2), (h2, w2)): the taps of a phase kernel, and the size of a phase image of
    the padded input (rounded up to whole phases), for strides (sh, sw)."""
    kh2, kw2 = -(-geo.kh // geo.sh), -(-geo.kw // geo.sw)
    h2 = -(-(in_hw[0] + geo.pt + geo.pb) // geo.sh)
    w2 = -(-(in_hw[1] + geo.pl + geo.pr) // geo.sw)
    return (kh2, kw2), (h2, w2)


def _phase_input_grad(g, w, geo, in_hw, bias=None):
    """The input gradient of a strided convolution as that of a stride-1 one.

    With strides (sh, sw), the padded input's phase images P[py, px] = x_pad[py::sh, px::sw]
    (sh sw of them, stacked as channels) turn the convolution into a stride-1, unpadded one:
    y[a, b] = sum_{c, i, j} w[c, i, j] x_pad[a sh + i, b sw + j]; write i = i2 sh + py and
    j = j2 sw + px, and the sum is over the phase channels (py, px, c) and the taps (i2, j2)
    of the phase kernel w2[(py, px, c), i2, j2] = w[c, i2 sh + py, j2 sw + px] (zero past
    the kernel's edge). So dP is the stride-1 input gradient of g through w2 (a convolution
    of g, or a fold, see ``_conv_input_grad``: no strided scatter), and dx is dP put back in
    its phases and cropped to the unpadded input."""
    xp = array_module(g)
    o, c, kh, kw = w.shape
    sh, sw = geo.sh, geo.sw
    h, wd = in_hw
    (kh2, kw2), (h2, w2d) = _phase_sizes(geo, in_hw)
    phases = [(py, px) for py in range(sh) for px in range(sw)]
    wpad = xp.zeros((o, c, kh2 * sh, kw2 * sw), dtype=w.dtype)
    wpad[:, :, :kh, :kw] = w
    w2 = xp.stack([wpad[:, :, py::sh, px::sw] for py, px in phases], axis=1)
    w2 = w2.reshape(o, sh * sw * c, kh2, kw2)
    stride1 = _Geometry(kh2, kw2, 1, 1, 1, 1, 0, 0, 0, 0)
    dphase = _conv_input_grad(g, w2, stride1, (h2, w2d))  # (N, sh sw C, h2, w2d)
    # pixel (r, q) of x is (r + pt, q + pl) of x_pad: phase ((r + pt) % sh, (q + pl) % sw)
    dx = xp.empty((g.shape[0], c, h, wd), dtype=g.dtype)
    for k, (py, px) in enumerate(phases):
        r0, q0 = (py - geo.pt) % sh, (px - geo.pl) % sw
        if r0 >= h or q0 >= wd:
            continue
        u0, v0 = (r0 + geo.pt) // sh, (q0 + geo.pl) // sw
        nr, nq = len(range(r0, h, sh)), len(range(q0, wd, sw))
        dx[:, :, r0::sh, q0::sw] = dphase[:, k * c : (k + 1) * c, u0 : u0 + nr, v0 : v0 + nq]
    if bias is not None:
        dx += bias.reshape(c, 1, 1)
    return dx


# --------------------------------------------------------------------------- the Functions


class Conv2d(Function):
    """y[n, o] = b[o] + sum_c x[n, c] (cross-correlated with) w[o, c], strided, dilated, padded.

    dx = conv_transpose2d(g, w) (``_conv_input_grad``);
    dw[o, c, i, j] = sum_{n, y, x} g[n, o, y, x] x_pad[n, c, y s + i d, x s + j d];
    db[o] = sum_{n, y, x} g[n, o, y, x].
    """

    def forward(self, x, w, b=None, geometry=None):
        w = w.astype(x.dtype, copy=False)
        b = None if b is None else b.astype(x.dtype, copy=False)
        self.geo = geometry
        self.save_for_backward(x, w)
        return _conv_loop(x, w, geometry, bias=b)[0]

    def backward(self, g):
        x, w = self.saved
        need = self.needs_input_grad
        xp = array_module(g)
        g = xp.ascontiguousarray(g, dtype=x.dtype)
        dx = _conv_input_grad(g, w, self.geo, x.shape[2:]) if need[0] else None
        if need[1]:
            dw = _conv_loop(x, w, self.geo, want_out=False, weight_grad_of=g)[1]
        else:
            dw = None
        if len(need) == 2:
            return dx, dw
        return dx, dw, (channel_sum(g) if need[2] else None)


class ConvTranspose2d(Function):
    """y = the input gradient of a convolution with weight w (in, out, kh, kw), plus b.

    y[n, c, y s + i d - p, x s + j d - p] += sum_o x[n, o, y, x] w[o, c, i, j];
    dx = conv2d(g, w) (same stride, padding, dilation), dw from the same columns of g,
    db[c] = sum of g over n, y, x.
    """

    def forward(self, x, w, b=None, geometry=None, out_hw=None):
        w = w.astype(x.dtype, copy=False)
        b = None if b is None else b.astype(x.dtype, copy=False)
        self.geo = geometry
        self.save_for_backward(x, w)
        return _conv_input_grad(x, w, geometry, out_hw, bias=b)

    def backward(self, g):
        x, w = self.saved
        need = self.needs_input_grad
        xp = array_module(g)
        g = xp.ascontiguousarray(g, dtype=x.dtype)
        dx, dw = _conv_loop(g, w, self.geo, want_out=need[0], weight_grad_of=x if need[1] else None)
        if len(need) == 2:
            return dx, dw
        return dx, dw, (channel_sum(g) if need[2] else None)


# --------------------------------------------------------------------------- grouped convolutions
#
# groups = g > 1 (ResNeXt, MobileNet's depthwise layers): the channels are cut into g groups,
# and group gi's Og = O / g filters see only its Cg = C / g input channels. Per group the three
# formulas are those above, with the group's own columns and weight matrix; all the images
# and groups of a chunk go through one batched product each, (g, Og, K) @ (B, g, K, Ho Wo),
# K = Cg kh kw, whose output is already y's layout (B, O, Ho, Wo). This path is separate from
# the groups=1 one above and simpler: whole chunks of images at a time, the columns copied
# from the sliding-window view, the input gradient folded back with col2im.
#
# Two cases go another way, where that measured at least 1.3 times slower (2 cores, batch 32,
# float32, 3x3; ``benchmarks/bench_ops.py`` has them against PyTorch):
#
# * depthwise layers (one input and one output channel a group) with stride 1: no columns and
#   no product at all, but kh kw multiply-adds of whole shifted images (``_depthwise_conv``,
#   ``_depthwise_input_grad``): the batched product of a 1-row weight matrix is all memory
#   traffic, and its input gradient writes K = kh kw floats a pixel before folding them back;
# * on the CPU, the forward pass and input gradient of groups of several channels with stride
#   1: group by group through the groups=1 path (``_conv_loop``, ``_conv_input_grad``) on the
#   group's channels (views), which has the flat-shift columns and blocks sized for the cache;
#   the batched product copies its columns from the sliding-window view, the whole chunk at
#   once. With a stride, and for the weight gradient, the batched product measured as fast or
#   faster, so it stays.

# The columns of one chunk of images on the grouped path take about this much (at least one
# image a chunk); the whole batch at once on the GPU.
_GROUPED_CHUNK_BYTES = 32 * 2**20


def _grouped_chunk(xp, n, image_bytes):
    """How many images of ``image_bytes`` of columns each go through one grouped product."""
    if xp is not np:
        return max(n, 1)
    return max(1, min(n, _GROUPED_CHUNK_BYTES // max(1, image_bytes)))


def _grouped_columns(x, geo, groups):
    """The columns of x (B, C, H, W) by group, (B, g, Cg kh kw, Ho Wo), rows in (c, i, j) order
    (the order of a weight (O, Cg, kh, kw) reshaped to (g, Og, Cg kh kw)):

        cols[n, gi, (c, i, j), (y, x)] = x_pad[n, gi Cg + c, y sh + i dh, x sw + j dw]

    where x_pad is x padded by the geometry's (top, bottom, left, right); negative crops."""
    xp = array_module(x)
    b, c = x.shape[:2]
    pads = geo[6:]
    if any(pads):
        x = _pad_into(xp.empty(_padded_shape(x.shape, pads), dtype=x.dtype), x, pads)
    view = _windows(x, geo)  # (B, C, Ho, Wo, kh, kw), a view
    ho, wo = view.shape[2:4]
    view = view.reshape(b, groups, c // groups, ho, wo, geo.kh, geo.kw)
    cols = xp.ascontiguousarray(view.transpose(0, 1, 2, 5, 6, 3, 4))
    return cols.reshape(b, groups, (c // groups) * geo.kh * geo.kw, ho * wo)


def _grouped_conv(x, w, geo, groups, *, bias=None, want_out=True, weight_grad_of=None):
    """``_conv_loop`` with groups: y = conv2d(x, w, groups=g) + bias and/or the weight gradient
    for G = weight_grad_of (the gradient of y). With Wm = w (O, Cg, kh, kw) as (g, Og, K), X
    the columns of ``_grouped_columns`` and Y, G as (N, g, Og, Ho Wo) (views), per image n and
    group gi

        Y[n, gi] = Wm[gi] @ X[n, gi],    dWm[gi] = sum_n G[n, gi] @ X[n, gi]^T,

    each one batched matmul over the images and groups, or depthwise or group by group (see
    above, ``_grouped_route``). Returns (y or None, dW or None)."""
    xp = array_module(x)
    n, c = x.shape[:2]
    o = w.shape[0]
    route = _grouped_route(xp, geo, w.shape[1], o // groups, groups, forward=True)
    if route == "depthwise":
        dw_of = weight_grad_of
        return _depthwise_conv(x, w, geo, bias=bias, want_out=want_out, weight_grad_of=dw_of)
    out = None
    if route == "by group" and want_out:  # y by group, dW (if asked for) by the batched product
        out, want_out = _conv_by_group(x, w, geo, groups, bias), False
        if weight_grad_of is None:
            return out, None
    og, k = o // groups, w.shape[1] * geo.kh * geo.kw
    ho, wo = geo.out_size(*x.shape[2:])
    wm = w.reshape(groups, og, k)
    if want_out:
        out = xp.empty((n, o, ho, wo), dtype=x.dtype)
    dwm = None if weight_grad_of is None else xp.zeros((groups, og, k), dtype=x.dtype)
    chunk = _grouped_chunk(xp, n, c * geo.kh * geo.kw * ho * wo * x.dtype.itemsize)
    for n0 in range(0, n, chunk):
        n1 = min(n, n0 + chunk)
        cols = _grouped_columns(x[n0:n1], geo, groups)  # (B, g, K, Ho Wo)
        if want_out:
            xp.matmul(wm, cols, out=out[n0:n1].reshape(n1 - n0, groups, og, ho * wo))
        if dwm is not None:
            gm = weight_grad_of[n0:n1].reshape(n1 - n0, groups, og, ho * wo)
            dwm += xp.matmul(gm, cols.transpose(0, 1, 3, 2)).sum(axis=0)
    if want_out and bias is not None:
        out += bias.reshape(o, 1, 1)
    return out, None if dwm is None else dwm.reshape(w.shape)


def _grouped_input_grad(g, w, geo, in_hw, groups, bias=None):
    """``_conv_input_grad`` with groups: dx = d<g, conv2d(x, w, groups=g)>/dx for x of spatial
    size in_hw (the grouped transposed convolution). Per image n and group gi,
    dX[n, gi] = Wm[gi]^T @ G[n, gi] (one batched matmul), folded back onto the pixels it came
    from (col2im); or depthwise or group by group (see above, ``_grouped_route``)."""
    xp = array_module(g)
    n, o, ho, wo = g.shape
    cg, kh, kw = w.shape[1:]
    route = _grouped_route(xp, geo, cg, o // groups, groups, forward=False)
    if route == "depthwise":
        return _depthwise_input_grad(g, w, geo, in_hw, bias)
    if route == "by group":
        return _input_grad_by_group(g, w, geo, in_hw, groups, bias)
    c, og, k = cg * groups, o // groups, cg * kh * kw
    wm_t = w.reshape(groups, og, k).transpose(0, 2, 1)  # (g, K, Og)
    dx = xp.zeros((n, c, *in_hw), dtype=g.dtype)
    chunk = _grouped_chunk(xp, n, c * kh * kw * ho * wo * g.dtype.itemsize)
    for n0 in range(0, n, chunk):
        b = min(n, n0 + chunk) - n0
        dcols = xp.matmul(wm_t, g[n0 : n0 + b].reshape(b, groups, og, ho * wo))  # (B, g, K, L)
        dcols = dcols.reshape(b, c, kh, kw, ho, wo).transpose(0, 1, 4, 5, 2, 3)
        _col2im_into(dx[n0 : n0 + b], dcols, geo)
    if bias is not None:
        dx += bias.reshape(c, 1, 1)
    return dx


def _grouped_route(xp, geo, cg, og, groups, forward):
    """How a grouped convolution with Cg input and Og output channels a group (``forward``),
    or its input gradient (Og inputs, Cg outputs), goes: "depthwise" (Cg = Og = 1, stride 1,
    the top and left padding not negative; the input gradient with any stride), "by group"
    (on the CPU, stride 1, Cg and Og both
    at least 2, since the groups=1 path is slow for a single output channel: 16 ms for one
    channel of 32 images at 64x64, against 18 for all 32 of a batched depthwise layer; the
    forward pass
    only with at least 4 groups, since with 2 it measured from 0.7 to 1.8 times as fast; the
    weight gradient stays batched, by group it measured 0.6 to 1.2 times as fast for 4 groups
    of 16) or "batched" (the rest).

    Measured on 2 cores shared with other work (so within about 1.3 times is noise), batch
    32, float32, 3x3, best of 9 alternating with the batched product in one process (ms,
    forward / weight gradient / input gradient, batched -> new): depthwise 32 channels at
    64x64 18 / 19 / 66 -> 11 / 13 / 12, 64 at 32x32 10 / 10 / 38 -> 8 / 6 / 9, 128 at 16x16
    9 / 9 / 23 -> 5 / 4 / 6, 64 at 32x32 with dilation 2 19 / 19 / 44 -> 10 / 7 / 10;
    64 -> 64 channels at 32x32 in 4 groups 47 / - / 141 -> 15 / - / 20, in 16 groups
    21 / - / 27 -> 8 / - / 8, at 64x64 in 32 groups 48 / - / 68 -> 24 / - / 23, in 2 groups
    - / - / 316 -> - / - / 86. With stride 2 by group did not win (4 groups, other runs:
    6 / 13 / 13 -> 5 / 36 / 28); a depthwise layer by strided slices won only its input
    gradient (64 channels at 32x32: 14 -> 7), which goes that way."""
    stride1 = geo.sh == 1 and geo.sw == 1
    if not _GROUPED_ROUTES or not (stride1 or (cg == 1 and og == 1 and not forward)):
        return "batched"
    if cg == 1 and og == 1 and geo.pt >= 0 and geo.pl >= 0:
        return "depthwise"
    by_group = xp is np and cg >= 2 and og >= 2 and (groups >= 4 or not forward)
    return "by group" if by_group else "batched"


def _conv_by_group(x, w, geo, groups, bias):
    """y = conv2d(x, w, groups=g) + bias group by group through ``_conv_loop``: group gi's
    channels of x are a view, its outputs copied into y's."""
    xp = array_module(x)
    n, c = x.shape[:2]
    o = w.shape[0]
    cg, og = c // groups, o // groups
    out = xp.empty((n, o, *geo.out_size(*x.shape[2:])), dtype=x.dtype)
    for gi in range(groups):
        co, ci = slice(gi * og, (gi + 1) * og), slice(gi * cg, (gi + 1) * cg)
        part_bias = None if bias is None else bias[co]
        out[:, co] = _conv_loop(x[:, ci], w[co], geo, bias=part_bias)[0]
    return out


def _input_grad_by_group(g, w, geo, in_hw, groups, bias):
    """``_grouped_input_grad`` group by group through ``_conv_input_grad``."""
    xp = array_module(g)
    n, o = g.shape[:2]
    cg, og = w.shape[1], o // groups
    dx = xp.empty((n, cg * groups, *in_hw), dtype=g.dtype)
    for gi in range(groups):
        co, ci = slice(gi * og, (gi + 1) * og), slice(gi * cg, (gi + 1) * cg)
        part_bias = None if bias is None else bias[ci]
        dx[:, ci] = _conv_input_grad(g[:, co], w[co], geo, in_hw, part_bias)
    return dx


# The flat images of one chunk of a depthwise layer take about this much on the CPU (at least
# one image a chunk), so that the kh kw passes over them stay in the cache; the whole batch at
# once on the GPU.
_DEPTHWISE_CHUNK_BYTES = 2**20


class _DepthwiseGrid(NamedTuple):
    """The flat layout of a stride-1 depthwise layer on maps of size (H, W).

    Each channel of the padded image x_pad (Hp, Wp) is laid out as R = Hp Wp values, the
    channels and images one after another. Tap (i, j) of output position (y, x) reads
    x_pad[y + i dh, x + j dw], which is R-flat position y Wp + x + o_ij with
    o_ij = i dh Wp + j dw: so the tap of every output position of every channel at once is the
    flat array shifted by o_ij, one contiguous slice. Outputs are computed on the Hp x Wp grid
    (the first Ho x Wo of it valid: the rest read across rows and channels and are dropped)."""

    hp: int
    wp: int
    ho: int
    wo: int
    offsets: tuple  # ((i, j, o_ij), ...)

    @classmethod
    def of(cls, geo, in_hw):
        hp, wp = in_hw[0] + geo.pt + geo.pb, in_hw[1] + geo.pl + geo.pr
        taps = [(i, j) for i in range(geo.kh) for j in range(geo.kw)]
        offsets = tuple((i, j, i * geo.dh * wp + j * geo.dw) for i, j in taps)
        return cls(hp, wp, *geo.out_size(*in_hw), offsets)

    def chunk(self, xp, n, c, itemsize):
        if xp is not np:
            return max(n, 1)
        return max(1, min(n, _DEPTHWISE_CHUNK_BYTES // (c * self.hp * self.wp * itemsize)))

    def flat(self, xp, images, pads, dtype):
        """images (B, C, h, w) zero-padded by pads into the flat layout, with the zeros that
        the last channel's shifted reads run on into."""
        b, c = images.shape[:2]
        m = b * c * self.hp * self.wp
        flat = xp.empty(m + self.offsets[-1][2], dtype=dtype)
        _pad_into(flat[:m].reshape(b, c, self.hp, self.wp), images, pads)
        flat[m:] = 0
        return flat

    def tap(self, flat, o, b, c):
        """The flat array shifted by o, as (B, C, R)."""
        return flat[o : o + b * c * self.hp * self.wp].reshape(b, c, -1)


def _depthwise_conv(x, w, geo, *, bias=None, want_out=True, weight_grad_of=None):
    """A stride-1 depthwise convolution (groups = C, w (C, 1, kh, kw)) as kh kw multiply-adds
    of whole shifted images, in the flat layout of ``_DepthwiseGrid``:

        y[n, c] = b[c] + sum_{i, j} w[c, 0, i, j] x_pad[n, c, i dh :, j dw :]  (cropped),
        dw[c, 0, i, j] = sum_{n, y, x} G[n, c, y, x] x_pad[n, c, y + i dh, x + j dw]

    (G the gradient of y, zero past Ho x Wo on the grid). Returns (y or None, dW or None)."""
    xp = array_module(x)
    n, c = x.shape[:2]
    grid = _DepthwiseGrid.of(geo, x.shape[2:])
    pads = (geo.pt, geo.pb, geo.pl, geo.pr)
    wt = w.reshape(c, geo.kh, geo.kw)
    out = xp.empty((n, c, grid.ho, grid.wo), dtype=x.dtype) if want_out else None
    dw = None if weight_grad_of is None else xp.zeros((c, geo.kh, geo.kw), dtype=x.dtype)
    chunk = grid.chunk(xp, n, c, x.dtype.itemsize)
    for n0 in range(0, n, chunk):
        b = min(n, n0 + chunk) - n0
        flat = grid.flat(xp, x[n0 : n0 + b], pads, x.dtype)
        if want_out:
            acc = xp.empty((b, c, grid.hp * grid.wp), dtype=x.dtype)
            term = xp.empty_like(acc)
            for k, (i, j, o) in enumerate(grid.offsets):
                xp.multiply(grid.tap(flat, o, b, c), wt[:, i, j, None], out=term if k else acc)
                if k:
                    acc += term
            out[n0 : n0 + b] = acc.reshape(b, c, grid.hp, grid.wp)[:, :, : grid.ho, : grid.wo]
        if dw is not None:
            gg = xp.zeros((b, c, grid.hp, grid.wp), dtype=x.dtype)
            gg[:, :, : grid.ho, : grid.wo] = weight_grad_of[n0 : n0 + b]
            gg = gg.reshape(b, c, -1)
            for i, j, o in grid.offsets:
                dw[:, i, j] += xp.einsum("bcr,bcr->c", gg, grid.tap(flat, o, b, c))
    if want_out and bias is not None:
        out += bias.reshape(c, 1, 1)
    return out, None if dw is None else dw.reshape(w.shape)


def _depthwise_input_grad(g, w, geo, in_hw, bias=None):
    """The input gradient of a stride-1 depthwise convolution (the depthwise transposed one),
    as kh kw shifted adds in the flat layout of ``_DepthwiseGrid``: with G the gradient of y
    (zero past Ho x Wo on the grid),

        dx_pad[n, c, y + i dh, x + j dw] += w[c, 0, i, j] G[n, c, y, x]   for every (i, j),

    each tap one multiply and one add of whole arrays, then dx = dx_pad cropped (+ b). With a
    stride, ``_depthwise_input_grad_strided``."""
    if geo.sh != 1 or geo.sw != 1:
        return _depthwise_input_grad_strided(g, w, geo, in_hw, bias)
    xp = array_module(g)
    n, c, ho, wo = g.shape
    h, wd = in_hw
    grid = _DepthwiseGrid.of(geo, in_hw)
    pads = (0, grid.hp - ho, 0, grid.wp - wo)
    wt = w.reshape(c, geo.kh, geo.kw)
    # A negative bottom/right padding (a transposed convolution's output_padding) crops: the
    # pixels past x_pad get no gradient.
    hv, wv = min(h, grid.hp - geo.pt), min(wd, grid.wp - geo.pl)
    dx = (xp.empty if (hv, wv) == (h, wd) else xp.zeros)((n, c, h, wd), dtype=g.dtype)
    chunk = grid.chunk(xp, n, c, g.dtype.itemsize)
    for n0 in range(0, n, chunk):
        b = min(n, n0 + chunk) - n0
        gg = grid.tap(grid.flat(xp, g[n0 : n0 + b], pads, g.dtype), 0, b, c)
        acc = xp.zeros(gg.size + grid.offsets[-1][2], dtype=g.dtype)
        term = xp.empty_like(gg)
        for i, j, o in grid.offsets:
            xp.multiply(gg, wt[:, i, j, None], out=term)
            grid.tap(acc, o, b, c)[...] += term
        dxp = acc[: b * c * grid.hp * grid.wp].reshape(b, c, grid.hp, grid.wp)
        dx[n0 : n0 + b, :, :hv, :wv] = dxp[:, :, geo.pt : geo.pt + hv, geo.pl : geo.pl + wv]
    if bias is not None:
        dx += bias.reshape(c, 1, 1)
    return dx


def _depthwise_input_grad_strided(g, w, geo, in_hw, bias=None):
    """``_depthwise_input_grad`` with strides (sh, sw): per tap (i, j) one multiply and one
    strided slice-add,

        dx_pad[n, c, y sh + i dh, x sw + j dw] += w[c, 0, i, j] g[n, c, y, x],

    then dx = dx_pad cropped (+ b). (The flat layout needs stride 1; the forward pass and
    weight gradient by strided slices were no faster than the batched product.)"""
    xp = array_module(g)
    n, c, ho, wo = g.shape
    h, wd = in_hw
    hp, wp = h + geo.pt + geo.pb, wd + geo.pl + geo.pr
    hv, wv = min(h, hp - geo.pt), min(wd, wp - geo.pl)  # as in _depthwise_input_grad
    wt = w.reshape(c, geo.kh, geo.kw)
    dx = (xp.empty if (hv, wv) == (h, wd) else xp.zeros)((n, c, h, wd), dtype=g.dtype)
    image_bytes = c * max(hp * wp, ho * wo) * g.dtype.itemsize
    chunk = max(n, 1) if xp is not np else max(1, min(n, _DEPTHWISE_CHUNK_BYTES // image_bytes))
    for n0 in range(0, n, chunk):
        b = min(n, n0 + chunk) - n0
        dxp = xp.zeros((b, c, hp, wp), dtype=g.dtype)
        term = xp.empty((b, c, ho, wo), dtype=g.dtype)
        for i in range(geo.kh):
            for j in range(geo.kw):
                xp.multiply(g[n0 : n0 + b], wt[:, i, j, None, None], out=term)
                y0, x0 = i * geo.dh, j * geo.dw
                dxp[:, :, y0 : y0 + geo.sh * (ho - 1) + 1 : geo.sh,
                    x0 : x0 + geo.sw * (wo - 1) + 1 : geo.sw] += term  # fmt: skip
        dx[n0 : n0 + b, :, :hv, :wv] = dxp[:, :, geo.pt : geo.pt + hv, geo.pl : geo.pl + wv]
    if bias is not None:
        dx += bias.reshape(c, 1, 1)
    return dx


class GroupedConv2d(Function):
    """conv2d with groups = g > 1: w (O, C / g, kh, kw), group gi's filters o (gi Og <= o <
    (gi + 1) Og, Og = O / g) read only its channels gi Cg .. (gi + 1) Cg - 1 (Cg = C / g):

        y[n, o] = b[o] + sum_{c < Cg} x[n, gi Cg + c] (cross-correlated with) w[o, c].

    dx and dw are Conv2d's, group by group (``_grouped_input_grad``, ``_grouped_conv``);
    db[o] = sum_{n, y, x} g[n, o, y, x]. groups=1 goes through ``Conv2d``.
    """

    def forward(self, x, w, b=None, geometry=None, groups=None):
        w = w.astype(x.dtype, copy=False)
        b = None if b is None else b.astype(x.dtype, copy=False)
        self.geo, self.groups = geometry, groups
        self.save_for_backward(x, w)
        return _grouped_conv(x, w, geometry, groups, bias=b)[0]

    def backward(self, g):
        x, w = self.saved
        need = self.needs_input_grad
        xp = array_module(g)
        g = xp.ascontiguousarray(g, dtype=x.dtype)
        dx = _grouped_input_grad(g, w, self.geo, x.shape[2:], self.groups) if need[0] else None
        dw = None
        if need[1]:
            dw = _grouped_conv(x, w, self.geo, self.groups, want_out=False, weight_grad_of=g)[1]
        if len(need) == 2:
            return dx, dw
        return dx, dw, (channel_sum(g) if need[2] else None)


class GroupedConvTranspose2d(Function):
    """conv_transpose2d with groups = g > 1: the input gradient of a grouped convolution with
    weight w (Cin, Cout / g, kh, kw), plus b; group gi's inputs gi Cin/g .. (gi + 1) Cin/g - 1
    reach only its outputs gi Cout/g .. (gi + 1) Cout/g - 1. dx = grouped conv2d(g, w),
    dw from the same grouped columns of g, db[c] = sum of g over n, y, x.
    """

    def forward(self, x, w, b=None, geometry=None, out_hw=None, groups=None):
        w = w.astype(x.dtype, copy=False)
        b = None if b is None else b.astype(x.dtype, copy=False)
        self.geo, self.groups = geometry, groups
        self.save_for_backward(x, w)
        return _grouped_input_grad(x, w, geometry, out_hw, groups, bias=b)

    def backward(self, g):
        x, w = self.saved
        need = self.needs_input_grad
        xp = array_module(g)
        g = xp.ascontiguousarray(g, dtype=x.dtype)
        dx, dw = _grouped_conv(
            g, w, self.geo, self.groups, want_out=need[0], weight_grad_of=x if need[1] else None
        )
        if len(need) == 2:
            return dx, dw
        return dx, dw, (channel_sum(g) if need[2] else None)


# --------------------------------------------------------------------------- checks


def _describe(op, w, transposed=False, groups=1):
    """ "conv2d(3->64, kernel 3x3)", the channels those a weight of its layout maps between,
    ", groups g" added where groups is not 1."""
    if transposed:
        cin, cout = w.shape[0], w.shape[1] * groups
    else:
        cin, cout = w.shape[1] * groups, w.shape[0]
    kernel = "x".join(str(k) for k in w.shape[2:])
    return f"{op}({cin}->{cout}, kernel {kernel}{'' if groups == 1 else f', groups {groups}'})"


def _check_groups(op, groups):
    """PyTorch's ``groups``: a positive int."""
    if not isinstance(groups, int | np.integer) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    return int(groups)


def _check_hyperparameters(op, geo):
    if geo.kh < 1 or geo.kw < 1:
        raise ValueError(f"{op}: kernel size must be positive, got {(geo.kh, geo.kw)}")
    if geo.sh < 1 or geo.sw < 1:
        raise ValueError(f"{op}: stride must be positive, got {(geo.sh, geo.sw)}")
    if geo.dh < 1 or geo.dw < 1:
        raise ValueError(f"{op}: dilation must be positive, got {(geo.dh, geo.dw)}")
    if min(geo[6:]) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {tuple(geo[6:])}")


def _check_geometry(op, geo, shape):
    _check_hyperparameters(op, geo)
    hp, wp = shape[-2] + geo.pt + geo.pb, shape[-1] + geo.pl + geo.pr
    khe, kwe = geo.dh * (geo.kh - 1) + 1, geo.dw * (geo.kw - 1) + 1
    if hp < khe or wp < kwe:
        raise ValueError(
            f"{op}: input of shape {tuple(shape)}, padded to {hp}x{wp}, is smaller than the "
            f"kernel ({khe}x{kwe} with dilation {(geo.dh, geo.dw)})"
        )


def _check_1d(op, k, s, d, pads, length):
    """``_check_geometry`` in the terms of a 1-D convolution (kernel k, stride s, dilation d,
    padding (left, right)) of an input of length ``length``."""
    for what, v, least in (("kernel size", k, 1), ("stride", s, 1), ("dilation", d, 1)):
        if v < least:
            raise ValueError(f"{op}: {what} must be positive, got {v}")
    if min(pads) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {pads[0]}")
    span = d * (k - 1) + 1
    if length is not None and length + sum(pads) < span:
        raise ValueError(
            f"{op}: input of length {length}, padded to {length + sum(pads)}, is smaller than "
            f"the kernel ({span} with dilation {d})"
        )


_LAYOUTS = {
    1: ("(N, C, L)", "(out, in, k)", "(in, out, k)"),
    2: ("(N, C, H, W)", "(out, in, kh, kw)", "(in, out, kh, kw)"),
}


def _check_inputs(op, x, weight, bias, channel_axis, transposed, groups, dims=2):
    """Check ndims, groups, channel counts and the bias; return (the op's name for messages,
    groups as an int). With groups g a weight holds C / g input channels (its axis 1), or
    for a transposed one C_out / g output channels (its axis 1), and the channels of its
    axis 0 must divide into the g groups."""
    x_layout, w_layout, wt_layout = _LAYOUTS[dims]
    if weight.ndim != dims + 2:
        layout = wt_layout if transposed else w_layout
        raise ValueError(
            f"{op}: expected a {dims + 2}-D weight {layout}, got shape {tuple(weight.shape)}"
        )
    groups = _check_groups(op, groups)
    name = _describe(op, weight, transposed, groups)
    if weight.shape[0] % groups:
        what = "input" if transposed else "output"
        raise ValueError(
            f"{name}: the weight's {weight.shape[0]} {what} channels (its first axis, shape "
            f"{tuple(weight.shape)}) are not divisible by groups={groups}"
        )
    if x.ndim != dims + 2:
        raise ValueError(
            f"{name}: expected a {dims + 2}-D input {x_layout}, got shape {tuple(x.shape)}"
        )
    if x.dtype.kind != "f":
        raise TypeError(
            f"{name}: expected a floating-point input (float32 or float64), got {x.dtype}; "
            "convert it first (an 8-bit image: x.astype(np.float32) / 255)"
        )
    channels = weight.shape[channel_axis] * (1 if transposed else groups)
    if x.shape[1] != channels:
        grouped = "" if groups == 1 else f", groups {groups}"
        raise ValueError(
            f"{name}: expected input with {channels} channels, got {x.shape} "
            f"(weight {weight.shape}{grouped})"
        )
    out_channels = weight.shape[1 - channel_axis] * (groups if transposed else 1)
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ValueError(f"{name}: expected a bias of shape ({out_channels},), got {bias.shape}")
    return name, groups


def _unbatched(x, ndim=3):
    """PyTorch accepts one image (C, H, W) (one signal (C, L): ``ndim=2``); add the batch axis
    (the caller removes it)."""
    if isinstance(x, Tensor) and x.ndim == ndim:
        return x.reshape(1, *x.shape), True
    return x, False


# --------------------------------------------------------------------------- the functions


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D convolution (cross-correlation), as ``torch.nn.functional.conv2d``.

    x (N, C, H, W) or (C, H, W); weight (O, C / groups, kh, kw); bias (O,) or None. ``stride``,
    ``padding`` and ``dilation`` are ints or (h, w) pairs; ``padding`` may also be 'valid' (0)
    or 'same' (stride 1 only; an odd total is padded one more at the bottom/right, as in
    PyTorch). Output (N, O, Ho, Wo), Ho = (H + 2 ph - dh (kh - 1) - 1) // sh + 1. ``groups``
    g (dividing C and O) cuts the channels into g groups: output channel o, in group
    gi = o // (O / g), sees only the input channels gi C/g .. (gi + 1) C/g - 1 (g = C:
    depthwise, MobileNet's).
    """
    x, unbatched = _unbatched(x)
    name, groups = _check_inputs("conv2d", x, weight, bias, 1, False, groups)
    kh, kw = weight.shape[2:]
    sh, sw = _pair(stride, "stride", name)
    dh, dw = _pair(dilation, "dilation", name)
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        elif padding == "same":
            if (sh, sw) != (1, 1):
                raise ValueError(f"{name}: padding='same' needs stride 1, got {(sh, sw)}")
            th, tw = dh * (kh - 1), dw * (kw - 1)
            pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        else:
            raise ValueError(
                f"{name}: padding must be 'valid', 'same', an int or a pair, got {padding!r}"
            )
    else:
        ph, pw = _pair(padding, "padding", name)
        pads = (ph, ph, pw, pw)
    geo = _Geometry(kh, kw, sh, sw, dh, dw, *pads)
    _check_geometry(name, geo, x.shape)
    args = (x, weight) if bias is None else (x, weight, bias)
    if groups == 1:
        y = Conv2d.apply(*args, geometry=geo)
    else:
        y = GroupedConv2d.apply(*args, geometry=geo, groups=groups)
    return y.reshape(*y.shape[1:]) if unbatched else y


def conv_transpose2d(
    x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
) -> Tensor:
    """2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d``, with its
    argument order (groups before dilation).

    The gradient of ``conv2d`` with respect to its input: x (N, Cin, H, W) or (Cin, H, W);
    weight (Cin, Cout / groups, kh, kw), the same tensor a conv2d from Cout to Cin channels
    with those groups would use; bias (Cout,) or None. Output (N, Cout, Ho, Wo) with
    Ho = (H - 1) sh - 2 ph + dh (kh - 1) + output_padding_h + 1; ``output_padding`` (smaller
    than the stride or the dilation) picks among the input sizes a strided conv2d maps to H.
    """
    x, unbatched = _unbatched(x)
    name, groups = _check_inputs("conv_transpose2d", x, weight, bias, 0, True, groups)
    kh, kw = weight.shape[2:]
    sh, sw = _pair(stride, "stride", name)
    ph, pw = _pair(padding, "padding", name)
    oh, ow = _pair(output_padding, "output_padding", name)
    dh, dw = _pair(dilation, "dilation", name)
    _check_hyperparameters(name, _Geometry(kh, kw, sh, sw, dh, dw, ph, ph, pw, pw))
    for op_, s, d, axis in ((oh, sh, dh, "height"), (ow, sw, dw, "width")):
        if op_ < 0 or (op_ >= s and op_ >= d):
            raise ValueError(
                f"{name}: output_padding must be non-negative and smaller than either the "
                f"stride or the dilation, got output_padding {(oh, ow)} ({axis}) with stride "
                f"{(sh, sw)} and dilation {(dh, dw)}"
            )
    h, w = x.shape[2:]
    out_h = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oh + 1
    out_w = (w - 1) * sw - 2 * pw + dw * (kw - 1) + ow + 1
    if out_h < 1 or out_w < 1:
        raise ValueError(
            f"{name}: input of shape {x.shape} gives an empty output ({out_h}x{out_w}); "
            f"the padding {(ph, pw)} is too large"
        )
    # The convolution this is the input gradient of: from (out_h, out_w) back to (h, w). The
    # bottom/right padding p - output_padding makes its output exactly h x w (negative crops).
    geo = _Geometry(kh, kw, sh, sw, dh, dw, ph, ph - oh, pw, pw - ow)
    args = (x, weight) if bias is None else (x, weight, bias)
    if groups == 1:
        y = ConvTranspose2d.apply(*args, geometry=geo, out_hw=(out_h, out_w))
    else:
        y = GroupedConvTranspose2d.apply(*args, geometry=geo, out_hw=(out_h, out_w), groups=groups)
    return y.reshape(*y.shape[1:]) if unbatched else y


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-D convolution (cross-correlation), as ``torch.nn.functional.conv1d``.

    x (N, C, L) or (C, L); weight (O, C / groups, k), ``groups`` as conv2d's; bias (O,) or
    None. ``stride``, ``padding`` and ``dilation`` are ints (or 1-tuples); ``padding`` may
    also be 'valid' (0) or 'same' (stride 1; an odd total is padded one more at the end, as
    in PyTorch). Output (N, O, Lo), with groups=1
    y[n, o, t] = b[o] + sum_{c, i} w[o, c, i] x_pad[n, c, t s + i d],
    Lo = (L + 2p - d (k - 1) - 1) // s + 1. Computed as ``conv2d`` of a height-1 image.
    """
    x, unbatched = _unbatched(x, 2)
    name, groups = _check_inputs("conv1d", x, weight, bias, 1, False, groups, dims=1)
    k = weight.shape[2]
    (s,) = _single(stride, "stride", name)
    (d,) = _single(dilation, "dilation", name)
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0)
        elif padding == "same":
            if s != 1:
                raise ValueError(f"{name}: padding='same' needs stride 1, got {s}")
            total = d * (k - 1)
            pads = (total // 2, total - total // 2)
        else:
            raise ValueError(
                f"{name}: padding must be 'valid', 'same', an int or a 1-tuple, got {padding!r}"
            )
    else:
        pads = _single(padding, "padding", name) * 2
    _check_1d(name, k, s, d, pads, x.shape[2])
    geo = _Geometry(1, k, 1, s, 1, d, 0, 0, *pads)
    n, c, length = x.shape
    args = [x.reshape(n, c, 1, length), weight.reshape(*weight.shape[:2], 1, k)]
    args += [] if bias is None else [bias]
    if groups == 1:
        y = Conv2d.apply(*args, geometry=geo)
    else:
        y = GroupedConv2d.apply(*args, geometry=geo, groups=groups)
    return y.reshape(*y.shape[1 if unbatched else 0 : 2], y.shape[3])


def conv_transpose1d(
    x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
) -> Tensor:
    """1-D transposed convolution, as ``torch.nn.functional.conv_transpose1d``, with its
    argument order (groups before dilation).

    The gradient of ``conv1d`` with respect to its input: x (N, Cin, L) or (Cin, L); weight
    (Cin, Cout / groups, k); bias (Cout,) or None. Output (N, Cout, Lo) with
    Lo = (L - 1) s - 2p + d (k - 1) + output_padding + 1; ``output_padding`` (smaller than the
    stride or the dilation) picks among the lengths a strided conv1d maps to L. Computed as
    ``conv_transpose2d`` of a height-1 image.
    """
    x, unbatched = _unbatched(x, 2)
    name, groups = _check_inputs("conv_transpose1d", x, weight, bias, 0, True, groups, dims=1)
    k = weight.shape[2]
    (s,) = _single(stride, "stride", name)
    (p,) = _single(padding, "padding", name)
    (op,) = _single(output_padding, "output_padding", name)
    (d,) = _single(dilation, "dilation", name)
    _check_1d(name, k, s, d, (p, p), None)
    if op < 0 or (op >= s and op >= d):
        raise ValueError(
            f"{name}: output_padding must be non-negative and smaller than either the stride "
            f"or the dilation, got output_padding {op} with stride {s} and dilation {d}"
        )
    n, c, length = x.shape
    out_length = (length - 1) * s - 2 * p + d * (k - 1) + op + 1
    if out_length < 1:
        raise ValueError(
            f"{name}: input of shape {tuple(x.shape)} gives an empty output (length "
            f"{out_length}); the padding {p} is too large"
        )
    geo = _Geometry(1, k, 1, s, 1, d, 0, 0, p, p - op)  # as in conv_transpose2d
    args = [x.reshape(n, c, 1, length), weight.reshape(c, weight.shape[1], 1, k)]
    args += [] if bias is None else [bias]
    if groups == 1:
        y = ConvTranspose2d.apply(*args, geometry=geo, out_hw=(1, out_length))
    else:
        y = GroupedConvTranspose2d.apply(*args, geometry=geo, out_hw=(1, out_length), groups=groups)
    return y.reshape(*y.shape[1 if unbatched else 0 : 2], y.shape[3])


# --------------------------------------------------------------------------- unfold / fold


class Unfold(Function):
    """X[n, (c, i, j), (y, x)] = x_pad[n, c, y sh + i dh, x sw + j dw]: im2col's windows copied
    into PyTorch's layout, (N, C kh kw, Ho Wo). Each output value is one input value (or a
    padding zero), so the gradient adds each column entry back onto the pixel it was read
    from: col2im, which is ``fold``."""

    def forward(self, x, geo):
        self.geo, self.hw = geo, x.shape[-2:]
        k, s, p, d = _unfold_args(geo)
        cols = im2col(x, k, s, p, d)  # (N, C, Ho, Wo, kh, kw), a view
        n, c, ho, wo = cols.shape[:4]
        return cols.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * geo.kh * geo.kw, ho * wo)

    def backward(self, g):
        return _fold(g, self.hw, self.geo)


class Fold(Function):
    """out[n, c, y sh + i dh - ph, x sw + j dw - pw] += X[n, (c, i, j), (y, x)]: the adjoint
    of ``unfold`` (col2im), so its gradient is ``unfold`` of g."""

    def forward(self, cols, output_size, geo):
        self.geo = geo
        return _fold(cols, output_size, geo)

    def backward(self, g):
        k, s, p, d = _unfold_args(self.geo)
        cols = im2col(g, k, s, p, d)
        n, c, ho, wo = cols.shape[:4]
        return cols.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * self.geo.kh * self.geo.kw, -1)


def _unfold_args(geo):
    return (geo.kh, geo.kw), (geo.sh, geo.sw), (geo.pt, geo.pl), (geo.dh, geo.dw)


def _fold(cols, output_size, geo):
    n, ckk = cols.shape[:2]
    ho, wo = geo.out_size(*output_size)
    windows = cols.reshape(n, ckk // (geo.kh * geo.kw), geo.kh, geo.kw, ho, wo)
    k, s, p, d = _unfold_args(geo)
    return col2im(windows.transpose(0, 1, 4, 5, 2, 3), output_size, k, s, p, d)


def _block_geometry(op, kernel_size, dilation, padding, stride):
    kh, kw = _pair(kernel_size, "kernel_size", op)
    dh, dw = _pair(dilation, "dilation", op)
    ph, pw = _pair(padding, "padding", op)
    sh, sw = _pair(stride, "stride", op)
    geo = _Geometry(kh, kw, sh, sw, dh, dw, ph, ph, pw, pw)
    _check_hyperparameters(op, geo)
    return geo


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:  # noqa: A002
    """The sliding kh x kw blocks of an (N, C, H, W) input (or one (C, H, W) image) as the
    columns of an (N, C kh kw, L) matrix, as ``torch.nn.functional.unfold``: row (c, i, j)
    (c slowest), column l = y Wo + x the block at output position (y, x), L = Ho Wo:

        out[n, (c kh + i) kw + j, y Wo + x] = x_pad[n, c, y sh + i dh, x sw + j dw].

    This is the im2col that this library's convolution is built on (see the module's
    docstring), exposed the PyTorch way, so a convolution is a matrix product:

        conv2d(x, w) == (w.reshape(O, -1) @ unfold(x, (kh, kw))).reshape(N, O, Ho, Wo)

    Its backward pass is ``fold``, the adjoint."""
    op = "unfold"
    x = input if isinstance(input, Tensor) else Tensor(input, _internal=True)
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got {x.shape}")
    geo = _block_geometry(op, kernel_size, dilation, padding, stride)
    _check_geometry(op, geo, x.shape)
    x, unbatched = _unbatched(x)
    out = Unfold.apply(x, geo=geo)
    return out.reshape(*out.shape[1:]) if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:  # noqa: A002
    """The adjoint of ``unfold``, as ``torch.nn.functional.fold``: an (N, C kh kw, L) matrix of
    blocks (or (C kh kw, L)) summed back into an (N, C, H, W) image of ``output_size`` (H, W),
    each column entry added onto the pixel ``unfold`` read it from (col2im), entries that fall
    into the padding dropped. Overlapping blocks add up, so ``fold(unfold(x))`` is x times the
    number of blocks covering each pixel, and <unfold(x), y> = <x, fold(y)> for all x, y.
    L must be the number of blocks, Ho Wo, of that geometry."""
    op = "fold"
    cols = input if isinstance(input, Tensor) else Tensor(input, _internal=True)
    geo = _block_geometry(op, kernel_size, dilation, padding, stride)
    h, w = _pair(output_size, "output_size", op)
    if cols.ndim not in (2, 3):
        raise ValueError(
            f"{op}: expected a 2-D (C * kh * kw, L) or 3-D (N, C * kh * kw, L) input, got "
            f"{cols.shape}"
        )
    k = geo.kh * geo.kw
    if cols.shape[-2] % k:
        raise ValueError(
            f"{op}: expected the size of dimension {cols.ndim - 2} of the input to be divisible "
            f"by kh * kw = {k} (kernel_size {(geo.kh, geo.kw)}), got shape {cols.shape}"
        )
    _check_geometry(op, geo, (h, w))
    ho, wo = geo.out_size(h, w)
    if cols.shape[-1] != ho * wo:
        raise ValueError(
            f"{op}: expected {ho} x {wo} = {ho * wo} blocks in the last dimension of the input "
            f"for output_size {(h, w)}, kernel_size {(geo.kh, geo.kw)}, dilation "
            f"{(geo.dh, geo.dw)}, padding {(geo.pt, geo.pl)}, stride {(geo.sh, geo.sw)}, got "
            f"shape {cols.shape}"
        )
    cols, unbatched = _unbatched(cols, ndim=2)
    out = Fold.apply(cols, output_size=(h, w), geo=geo)
    return out.reshape(*out.shape[1:]) if unbatched else out
