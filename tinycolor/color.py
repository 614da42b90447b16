"""Colour: RGB level quantisation (seed 004's ANN), and more colour science on xp."""

from __future__ import annotations

import itertools

import numpy as np

from .backend import array_module, to_numpy


def quantize_levels(rgb, levels: int = 4, step: int = 64):
    """Nearest level index of each 8-bit value among {0, step, 2 step, ...} (``levels`` of them).

    ``rgb`` holds values in [0, 255] (any shape, any numeric dtype). Returns int64 labels in
    0..levels-1: the seed's 4 levels {0, 64, 128, 192} are labels 0..3, and 224..255 round to 3.
    Ties (32, 96, 160) go to the upper level, as round-half-up would.
    """
    xp = array_module(rgb)
    labels = xp.floor(xp.asarray(rgb, dtype=np.float64) / step + 0.5)
    return xp.clip(labels, 0, levels - 1).astype(np.int64)


def levels_to_rgb(labels, step: int = 64):
    """The 8-bit value of each level label: label * step, as uint8."""
    xp = array_module(labels)
    # in int64: uint8 labels times the step would wrap around (3 * 100 -> 44) before the clip
    return xp.clip(xp.asarray(labels).astype(np.int64) * step, 0, 255).astype(np.uint8)


# =============================================================================== colour spaces
#
# The constants are those of the sRGB and CIE standards, as scikit-image uses them, so that the
# conversions below agree with skimage.color to float rounding: the sRGB primaries (Rec. 709) to
# XYZ, the D65 white of the 2-degree observer, and the "easyrgb" forms of the CIE Lab function
# (threshold 0.008856 and slope 7.787 in place of the exact (6/29)^3 and 841/108).

_XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
_RGB_FROM_XYZ = np.linalg.inv(_XYZ_FROM_RGB)
_D65_WHITE = np.array([0.95047, 1.0, 1.08883])  # XYZ of the reference white, Y = 1
_YUV_FROM_RGB = np.array(
    [
        [0.299, 0.587, 0.114],
        [-0.14714119, -0.28886916, 0.43601035],
        [0.61497538, -0.51496512, -0.10001026],
    ]
)
_RGB_FROM_YUV = np.linalg.inv(_YUV_FROM_RGB)


def _float_dtype(x):
    """float64 stays float64; everything else computes and returns float32."""
    return np.float64 if x.dtype == np.float64 else np.float32


def _channels_last(x, channel_axis: int, n: int, name: str, what: str = "channels"):
    """``x`` as an xp float array with its ``n`` channels moved to the last axis."""
    xp = array_module(x)
    x = xp.asarray(x)
    if x.ndim == 0 or not -x.ndim <= channel_axis < x.ndim or x.shape[channel_axis] != n:
        raise ValueError(
            f"{name}: expected an array with {n} {what} on axis {channel_axis}, "
            f"got shape {tuple(x.shape)}"
        )
    return xp.moveaxis(x, channel_axis, -1)


def _rgb_input(rgb, channel_axis: int, name: str):
    """RGB as floats in [0, 1] with channels last: uint8 is scaled by 1/255 (as skimage does)."""
    x = _channels_last(rgb, channel_axis, 3, name)
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255)
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: expected floats in [0, 1] or uint8, got dtype {x.dtype}")
    check_unit_range(name, x)
    return x.astype(_float_dtype(x), copy=False)


def check_finite(name, *arrays):
    """Refuse float images holding NaN or infinite values: clipped to [0, 1] they would pass as
    black or white pixels, or, left as they are, turn every Lab value and metric into NaN."""
    for x in arrays:
        if x.dtype.kind == "f" and not bool(array_module(x).isfinite(x).all()):
            raise ValueError(f"{name}: contains NaN or infinite pixel values")


# Float RGB above this is taken for 0..255 values given as floats (an image read as uint8 and
# converted with .astype(float)), which would otherwise give L of thousands without a word.
# Not 1: resampling and colour conversions overshoot [0, 1] a little.
_UNIT_RANGE_LIMIT = 1.5


def check_unit_range(name, *arrays, fix=None):
    """Refuse float RGB arrays that are clearly on a 0..255 scale where [0, 1] is expected;
    ``fix`` says what to do about it (by default: divide by 255, or pass uint8)."""
    fix = fix or "divide a 0..255 image by 255 (or pass it as uint8)"
    for x in arrays:
        top = float(x.max()) if x.dtype.kind == "f" and x.size else 0.0
        if top > _UNIT_RANGE_LIMIT:
            raise ValueError(
                f"{name}: expected RGB floats in [0, 1], got values up to {top:g}; {fix}"
            )


def _matmul3(x, matrix):
    """Apply a 3x3 colour matrix to the last axis: y[..., i] = sum_j M[i, j] x[..., j]."""
    xp = array_module(x)
    # einsum, not x @ M.T: NumPy's matmul with an inner size of 3 is ten times slower
    return xp.einsum("...j,ij->...i", x, xp.asarray(matrix, dtype=x.dtype))


def _srgb_to_linear(c):
    """The sRGB transfer function inverted: c / 12.92 below 0.04045, ((c + 0.055) / 1.055)^2.4
    above."""
    xp = array_module(c)
    high = ((xp.maximum(c, 0.04045) + 0.055) / 1.055) ** 2.4
    return xp.where(c > 0.04045, high, c / 12.92).astype(c.dtype, copy=False)


def _linear_to_srgb(c):
    """The sRGB transfer function: 12.92 c below 0.0031308, 1.055 c^(1/2.4) - 0.055 above."""
    xp = array_module(c)
    high = 1.055 * xp.maximum(c, 0.0031308) ** (1 / 2.4) - 0.055
    return xp.where(c > 0.0031308, high, c * 12.92).astype(c.dtype, copy=False)


def _lab_to_linear_rgb(lab, clamp_z: bool):
    """Lab (channels last) to linear RGB, unclipped. ``clamp_z`` sets f(Z) < 0 to 0 before the
    inverse, as skimage.color.lab2xyz does; the gamut test leaves it off (the exact inverse)."""
    xp = array_module(lab)
    L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    fy = (L + 16.0) / 116.0
    fx = a / 500.0 + fy
    fz = fy - b / 200.0
    if clamp_z:
        fz = xp.maximum(fz, 0)
    f = xp.stack([fx, fy, fz], axis=-1)
    t = xp.where(f > 0.2068966, f**3, (f - 16.0 / 116.0) / 7.787)
    xyz = t * xp.asarray(_D65_WHITE, dtype=lab.dtype)
    return _matmul3(xyz, _RGB_FROM_XYZ)


def rgb_to_lab(rgb, channel_axis: int = -1):
    """sRGB in [0, 1] to CIE Lab (D65 white, 2-degree observer), as skimage.color.rgb2lab.

    linear = sRGB^-1(rgb); XYZ = M linear; t = XYZ / white;
    f(t) = t^(1/3) if t > 0.008856 else 7.787 t + 16/116;
    L = 116 f(Y) - 16 in [0, 100], a = 500 (f(X) - f(Y)), b = 200 (f(Y) - f(Z)) (|a|, |b| <~ 110).

    ``rgb`` has 3 channels on ``channel_axis`` (-1 for (..., H, W, 3); 1 for NCHW batches);
    floats in [0, 1], or uint8 (scaled by 1/255). Returns Lab of the same shape, float32
    (float64 for a float64 input).
    """
    x = _rgb_input(rgb, channel_axis, "rgb_to_lab")
    xp = array_module(x)
    xyz = _matmul3(_srgb_to_linear(x), _XYZ_FROM_RGB)
    t = xyz / xp.asarray(_D65_WHITE, dtype=x.dtype)
    f = xp.where(t > 0.008856, xp.cbrt(t), 7.787 * t + 16.0 / 116.0)
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    lab = xp.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)
    return xp.ascontiguousarray(xp.moveaxis(lab.astype(x.dtype, copy=False), -1, channel_axis))


def lab_to_rgb(lab, channel_axis: int = -1):
    """CIE Lab (D65) to sRGB clipped to [0, 1], as skimage.color.lab2rgb.

    The inverse of :func:`rgb_to_lab`: f(Y) = (L + 16) / 116, f(X) = f(Y) + a / 500,
    f(Z) = f(Y) - b / 200 (set to 0 where negative, as skimage does), t = f^3 above 0.2068966
    else (f - 16/116) / 7.787, linear = M^-1 (t * white), then the sRGB transfer function and a
    clip to [0, 1] (Lab colours outside the sRGB gamut land on its surface, channel-wise).
    Shape as the input; float32 (float64 for a float64 input).
    """
    x = _channels_last(lab, channel_axis, 3, "lab_to_rgb")
    xp = array_module(x)
    x = x.astype(_float_dtype(x), copy=False)
    rgb = xp.clip(_linear_to_srgb(_lab_to_linear_rgb(x, clamp_z=True)), 0.0, 1.0)
    return xp.ascontiguousarray(xp.moveaxis(rgb.astype(x.dtype, copy=False), -1, channel_axis))


def rgb_to_yuv(rgb, channel_axis: int = -1):
    """sRGB in [0, 1] (gamma-encoded, no linearisation) to YUV, BT.601, as skimage.color.rgb2yuv.

    Y = 0.299 R + 0.587 G + 0.114 B in [0, 1]; U = 0.492 (B - Y) in [-0.436, 0.436];
    V = 0.877 (R - Y) in [-0.615, 0.615]. uint8 input is scaled by 1/255.
    """
    x = _rgb_input(rgb, channel_axis, "rgb_to_yuv")
    xp = array_module(x)
    return xp.ascontiguousarray(xp.moveaxis(_matmul3(x, _YUV_FROM_RGB), -1, channel_axis))


def yuv_to_rgb(yuv, channel_axis: int = -1, clip: bool = False):
    """YUV (BT.601) to RGB, the inverse matrix of :func:`rgb_to_yuv`, as skimage.color.yuv2rgb.

    Like skimage, the result is not clipped unless ``clip=True`` (then to [0, 1]); a predicted
    UV outside the gamut gives RGB outside [0, 1].
    """
    x = _channels_last(yuv, channel_axis, 3, "yuv_to_rgb")
    xp = array_module(x)
    x = x.astype(_float_dtype(x), copy=False)
    rgb = _matmul3(x, _RGB_FROM_YUV)
    if clip:
        rgb = xp.clip(rgb, 0.0, 1.0)
    return xp.ascontiguousarray(xp.moveaxis(rgb, -1, channel_axis))


# ============================================================== the quantised ab plane (Zhang)

_BINS_CACHE: dict[tuple[float, str], np.ndarray] = {}
_GAMUT_TOL = 1e-4  # slack on linear RGB in [0, 1] when testing a bin centre for the gamut


def _bins_by_centre(grid: float) -> np.ndarray:
    """Keep a centre when some L in a sweep of [0, 100] (step 0.05) makes it sRGB.

    Separable in (L, a, b): f(X) depends on (L, a) only, f(Y) on L, f(Z) on (L, b), so each
    linear RGB channel is a sum of three broadcast terms over the (L, a, b) grid."""
    n = int(130 // grid)
    c = np.arange(-n, n + 1) * float(grid)
    L = np.linspace(0.0, 100.0, 2001)

    def finv(f):  # the inverse of the Lab function f, as in _lab_to_linear_rgb
        return np.where(f > 0.2068966, f**3, (f - 16.0 / 116.0) / 7.787)

    fy = (L + 16.0) / 116.0
    x = finv(fy[:, None] + c[None, :] / 500.0) * _D65_WHITE[0]  # (L, a)
    y = finv(fy) * _D65_WHITE[1]  # (L,)
    z = finv(fy[:, None] - c[None, :] / 200.0) * _D65_WHITE[2]  # (L, b)
    ok = np.ones((L.size, c.size, c.size), dtype=bool)
    for m in _RGB_FROM_XYZ:
        lin = m[0] * x[:, :, None] + m[1] * y[:, None, None] + m[2] * z[:, None, :]
        ok &= (lin >= -_GAMUT_TOL) & (lin <= 1 + _GAMUT_TOL)
    keep = ok.any(axis=0)  # (a, b)
    a, b = np.meshgrid(c, c, indexing="ij")
    return np.stack([a[keep], b[keep]], axis=1)


def _bins_by_cell(grid: float, n: int = 512) -> np.ndarray:
    """Keep a centre when some sRGB colour rounds to it: the ab of the RGB cube's surface (which
    projects onto the same ab region as the whole cube), sampled n x n per face, rounded to the
    grid."""
    t = np.linspace(0.0, 1.0, n)
    u, v = (g.ravel() for g in np.meshgrid(t, t, indexing="ij"))
    faces = []
    for axis in range(3):
        for value in (0.0, 1.0):
            face = np.empty((u.size, 3), dtype=np.float32)
            face[:, axis] = value
            face[:, [i for i in range(3) if i != axis]] = np.stack([u, v], axis=1)
            faces.append(face)
    ab = rgb_to_lab(np.concatenate(faces))[:, 1:]
    k = np.floor(ab / grid + 0.5).astype(np.int64)
    span = int(k.max() - k.min()) + 1
    keys = np.unique((k[:, 0] - k.min()) * span + (k[:, 1] - k.min()))  # sorted by a, then b
    return np.stack([keys // span, keys % span], axis=1).astype(np.float64) * grid + k.min() * grid


def ab_bins(grid: float = 10, rule: str = "centre") -> np.ndarray:
    """The in-gamut bins of the ab plane quantised with step ``grid`` (Zhang et al. 2016, sec. 2.1).

    The candidates are the grid points (i grid, j grid); each is the centre of the square cell
    [a - grid/2, a + grid/2] x [b - grid/2, b + grid/2]. Two rules decide which are kept:

    - ``rule="centre"`` (default: a bin is in gamut when some L makes its centre sRGB): kept
      when, for some L in a sweep of [0, 100] in steps of 0.05, the Lab colour (L, a, b) of its
      centre converts (exact inverse, no clipping) to linear sRGB in [-1e-4, 1 + 1e-4]. With
      grid 10: **229 bins**
      (stable from 1001 L steps up, and for tolerances 0 .. 1e-3).
    - ``rule="cell"``: a bin is kept when some sRGB colour falls in its cell, i.e. rounds to its
      centre (the ab of the RGB cube's surface, 512 x 512 samples per face). With grid 10:
      **262 bins**, the bins an sRGB image can occupy; every sRGB pixel's own cell is a bin.

    Neither reproduces the paper's Q = 313: as only 262 cells can hold an sRGB colour at all,
    the released set must include bins that no sRGB colour reaches (keeping the centres within
    10 to 15 ab units of the gamut's ab projection would give 290 to 323 bins). A colorizer's
    Q is the length of this array, not 313.

    Returns a read-only NumPy (Q, 2) float32 array of (a, b) centres sorted by a then b,
    computed once per (grid, rule) and cached (about 0.15 s for "centre", 0.7 s for "cell").
    Functions taking ``bins`` move it to the data's device themselves.
    """
    key = (float(grid), rule)
    if key not in _BINS_CACHE:
        if not grid > 0:
            raise ValueError(f"ab_bins: grid must be positive, got {grid}")
        if rule == "centre":
            bins = _bins_by_centre(float(grid))
        elif rule == "cell":
            bins = _bins_by_cell(float(grid))
        else:
            raise ValueError(f"ab_bins: unknown rule {rule!r}: expected 'centre' or 'cell'")
        bins = bins.astype(np.float32)
        bins.flags.writeable = False
        _BINS_CACHE[key] = bins
    return _BINS_CACHE[key]


def _bins_on(bins, xp, dtype, name: str):
    """``bins`` (default: ab_bins()), on whichever device, as a (Q, 2) xp array of ``dtype``."""
    bins = ab_bins() if bins is None else bins
    c = xp.asarray(to_numpy(bins) if xp is np else bins, dtype=dtype)  # CuPy's refuse np.asarray
    if c.ndim != 2 or c.shape[1] != 2 or c.shape[0] < 1:
        raise ValueError(f"{name}: expected bins of shape (Q, 2), got {tuple(c.shape)}")
    return c


def _pixel_chunk(q: int) -> int:
    """Pixels per chunk so that a (pixels, Q) distance matrix holds about 4M numbers."""
    return max(1, (1 << 22) // q)


def _sq_dists(x, c):
    """(P, 2) points, (Q, 2) centres -> (P, Q) squared distances, without cancellation."""
    return (x[:, None, 0] - c[None, :, 0]) ** 2 + (x[:, None, 1] - c[None, :, 1]) ** 2


def nearest_bin(ab, bins=None, channel_axis: int = -1):
    """Index of the nearest bin centre (L2 in ab) of every pixel: the hard quantisation.

    ``ab`` has its 2 channels on ``channel_axis`` ((..., 2) by default; channel_axis=1 for
    (N, 2, H, W)); returns int64 indices of the shape with that axis removed. Ties go to the
    lower index.
    """
    x = _channels_last(ab, channel_axis, 2, "nearest_bin", "ab channels")
    xp = array_module(x)
    x = x.astype(_float_dtype(x), copy=False)
    c = _bins_on(bins, xp, x.dtype, "nearest_bin")
    flat = x.reshape(-1, 2)
    out = xp.full(flat.shape[0], -1, dtype=np.int64)
    lattice = _lattice(c)
    if lattice is not None:  # most pixels: the bin at their nearest grid point, by lookup
        for s in range(0, flat.shape[0], _LOOKUP_CHUNK):  # its float64 copies stay small
            out[s : s + _LOOKUP_CHUNK] = _lattice_lookup(flat[s : s + _LOOKUP_CHUNK], *lattice)
    rest = xp.flatnonzero(out < 0)
    step = _pixel_chunk(c.shape[0])
    for s in range(0, rest.shape[0], step):
        part = rest[s : s + step]
        out[part] = xp.argmin(_sq_dists(flat[part], c), axis=1)
    return out.reshape(x.shape[:-1])


#: Pixels looked up at a time (the lookup holds a few float64 and int64 copies of them).
_LOOKUP_CHUNK = 1 << 20

#: How close (in grid steps) to half-way between two grid points a pixel goes to the full
#: search, where the rounding of its distances decides (and ties go to the lower index).
_HALFWAY_MARGIN = 1e-3


_LATTICES: dict = {}  # (bins' bytes, dtype, array module) -> _lattice's answer


def _lattice(c):
    """(grid, lowest (a, b) step, table of bin indices) when every bin centre is a point of
    one square grid (the usual ab bins), else None. ``table[i, j]`` is the bin at grid point
    ``lowest + (i, j)``, or -1 where there is none. Remembered for the few sets of bins a
    process uses: a training step asks for the same bins every time (0.2 ms to build)."""
    xp = array_module(c)
    host = c.get() if hasattr(c, "get") else c
    key = (np.ascontiguousarray(host).tobytes(), host.dtype.str, xp.__name__)
    if key not in _LATTICES:
        if len(_LATTICES) >= 8:
            _LATTICES.clear()
        _LATTICES[key] = _build_lattice(xp, np.asarray(host, dtype=np.float64))
    return _LATTICES[key]


def _build_lattice(xp, cn):
    steps = np.diff(np.unique(cn))
    steps = steps[steps > 0]
    if cn.shape[0] < 2 or steps.size == 0:
        return None
    grid = float(steps.min())
    k = np.rint(cn / grid)
    if not np.allclose(k * grid, cn, rtol=0, atol=1e-6 * grid):
        return None
    k = k.astype(np.int64)
    low = k.min(axis=0)
    span = k.max(axis=0) - low + 1
    if int(span[0]) * int(span[1]) > 1 << 22:  # too sparse for a table
        return None
    table = np.full((int(span[0]), int(span[1])), -1, dtype=np.int64)
    for q in range(cn.shape[0] - 1, -1, -1):  # a repeated centre keeps its lowest index
        table[k[q, 0] - low[0], k[q, 1] - low[1]] = q
    return grid, xp.asarray(low), xp.asarray(table)


def _lattice_lookup(flat, grid: float, low, table):
    """The bin of each (P, 2) pixel's nearest grid point when that point is a bin and the
    pixel is not (nearly) half-way between grid points; -1 where the full search must decide."""
    xp = array_module(flat)
    u = flat.astype(np.float64) / grid
    with np.errstate(invalid="ignore"):  # inf - inf: not clear, searched in full
        frac = u - xp.floor(u)
    clear = xp.all(xp.isfinite(u) & (xp.abs(frac - 0.5) > _HALFWAY_MARGIN), axis=1)
    k = xp.floor(xp.clip(xp.where(xp.isfinite(u), u, 0.0), -1e9, 1e9) + 0.5).astype(np.int64) - low
    inside = xp.all((k >= 0) & (k < xp.asarray(table.shape)), axis=1)
    ok = clear & inside
    out = xp.full(flat.shape[0], -1, dtype=np.int64)
    out[ok] = table[k[ok, 0], k[ok, 1]]
    return out


def soft_encode(ab, bins=None, k: int = 5, sigma: float = 5.0, channel_axis: int = -1):
    """Soft-encode ab targets over the bins (Zhang et al. 2016, sec. 2.1).

    For each pixel x, the k nearest bin centres c_q get w_q = exp(-|x - c_q|^2 / (2 sigma^2)),
    normalised to sum to 1; every other bin gets 0 (k = 5 in the paper, 10 in the released code).
    The largest weight is on the nearest bin, the one :func:`nearest_bin` returns.

    Shapes: the class axis takes the place of the ab axis. With the default channel_axis=-1,
    (..., 2) -> (..., Q); with channel_axis=1, (N, 2, H, W) -> (N, Q, H, W), ready for a
    per-pixel cross-entropy over axis 1. float32 (float64 for a float64 input), C-contiguous.
    Computed in chunks of pixels so that memory stays about (4M + P Q) numbers.
    """
    x = _channels_last(ab, channel_axis, 2, "soft_encode", "ab channels")
    xp = array_module(x)
    x = x.astype(_float_dtype(x), copy=False)
    c = _bins_on(bins, xp, x.dtype, "soft_encode")
    q = c.shape[0]
    if not 1 <= k <= q:
        raise ValueError(f"soft_encode: k must be in 1..{q} (the number of bins), got {k}")
    if not sigma > 0:
        raise ValueError(f"soft_encode: sigma must be positive, got {sigma}")
    flat = x.reshape(-1, 2)
    out = xp.zeros((flat.shape[0], q), dtype=x.dtype)
    step = _pixel_chunk(q)
    for s in range(0, flat.shape[0], step):
        d2 = _sq_dists(flat[s : s + step], c)
        idx = xp.argpartition(d2, k - 1, axis=1)[:, :k] if k < q else xp.argsort(d2, axis=1)
        dk = xp.take_along_axis(d2, idx, axis=1)
        # subtracting the nearest distance keeps far-away pixels from underflowing to 0 / 0
        w = xp.exp(-(dk - dk.min(axis=1, keepdims=True)) / (2.0 * sigma**2))
        rows = xp.arange(idx.shape[0])[:, None]
        out[s : s + step][rows, idx] = w / w.sum(axis=1, keepdims=True)
    out = out.reshape(x.shape[:-1] + (q,))
    return xp.ascontiguousarray(xp.moveaxis(out, -1, channel_axis))


def _gaussian_smooth_bins(p, c, sigma: float):
    """p_s[q] = sum_r exp(-|c_q - c_r|^2 / (2 sigma^2)) p[r]: the histogram convolved with a
    Gaussian over the ab plane and sampled at the bins (what leaks out of the gamut is lost)."""
    xp = array_module(p)
    kernel = xp.exp(-_sq_dists(c, c) / (2.0 * sigma**2))
    return kernel @ p


def empirical_prior(ab_images, bins=None, sigma: float = 5.0, channel_axis: int = -1):
    """The empirical distribution p over the bins of a dataset's ab pixels (Zhang sec. 2.2).

    Each pixel counts once for its nearest bin; the normalised histogram is smoothed with a
    Gaussian of std ``sigma`` (ab units) over the ab plane (sigma=0: no smoothing) and
    normalised again. ``ab_images`` is one array with the ab channels on ``channel_axis``
    ((..., 2) by default; 1 for (N, 2, H, W)) or a list of such arrays (images of any sizes),
    or any iterable of them (a generator reading one image at a time: only one is held).
    Returns a (Q,) float32 array on the data's device, summing to 1.
    """
    arrays = iter([ab_images]) if hasattr(ab_images, "shape") else iter(ab_images)
    first = next(arrays, None)
    if first is None:
        raise ValueError("empirical_prior: expected at least one ab array, got an empty list")
    xp = array_module(first)
    c = _bins_on(bins, xp, np.float64, "empirical_prior")
    counts = xp.zeros(c.shape[0], dtype=np.float64)
    for arr in itertools.chain([first], arrays):
        counts += bin_counts(arr, c, channel_axis)
    return prior_from_counts(counts, c, sigma)


def bin_counts(ab, bins, channel_axis: int = -1):
    """How many pixels of ``ab`` have each of the (Q, 2) float64 ``bins`` as their nearest:
    (Q,) int64, what :func:`empirical_prior` adds up over a dataset's images."""
    idx = nearest_bin(ab, bins, channel_axis=channel_axis).ravel()
    return array_module(idx).bincount(idx, minlength=bins.shape[0])


def prior_from_counts(counts, bins, sigma: float = 5.0):
    """:func:`empirical_prior` from its (Q,) float64 histogram over the (Q, 2) float64
    ``bins`` (the sum of :func:`bin_counts` over the images)."""
    total = float(counts.sum())
    if total == 0:
        raise ValueError("empirical_prior: the ab arrays hold no pixels")
    p = counts / total
    if sigma > 0:
        p = _gaussian_smooth_bins(p, bins, sigma)
        p = p / p.sum()
    return p.astype(np.float32)


def rebalance_weights(prior, lam: float = 0.5, dtype=np.float32):
    """Class-rebalancing weights (Zhang et al. 2016, eq. 4).

    w_q = ((1 - lam) p_q + lam / Q)^-1, then scaled so that sum_q p_q w_q = 1 (the expected
    weight of a pixel drawn from p is 1). lam = 0.5 in the paper; lam = 1 gives uniform weights;
    lam = 0 the pure inverse prior 1/p (used by the rebalanced AuC), where bins of prior 0 get
    weight 0 (no pixel of the prior's data falls there). Returns (Q,) ``dtype`` (float32; a
    1 / p beyond float32's range, only possible for lam ~ 0, is clipped to its largest value:
    pass dtype=np.float64 to keep it).
    """
    xp = array_module(prior)
    p = xp.asarray(prior, dtype=np.float64)
    if p.ndim != 1 or p.size < 1:
        raise ValueError(f"rebalance_weights: expected a (Q,) prior, got shape {tuple(p.shape)}")
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"rebalance_weights: lam must be in [0, 1], got {lam}")
    mix = (1.0 - lam) * p + lam / p.size
    w = xp.where(mix > 0, 1.0 / xp.where(mix > 0, mix, 1.0), 0.0)
    w = w / (p * w).sum()
    return xp.minimum(w, np.finfo(dtype).max).astype(dtype)


def pixel_weights(ab, class_weights, bins=None, channel_axis: int = -1):
    """Each pixel's rebalancing weight: that of its nearest bin (the argmax of its soft
    encoding), ``class_weights[nearest_bin(ab)]``. Shape of ``ab`` without the channel axis;
    dtype of ``class_weights``. Multiply a per-pixel loss by it (Zhang eq. 2)."""
    xp = array_module(ab)
    w = xp.asarray(class_weights)
    return w[nearest_bin(ab, bins, channel_axis=channel_axis)]


def annealed_mean(z, bins=None, T: float = 0.38, axis: int = 1, from_logits: bool = True):
    """Decode a per-pixel distribution over bins to ab: the annealed mean (Zhang sec. 2.3).

    f_T(z) = softmax(log z / T) along ``axis``, then ab = sum_q f_T(z)_q c_q. T = 1 is the plain
    expectation (desaturated), T -> 0 the mode (vivid, patchy); T = 0.38 in the paper; T = 0
    returns :func:`mode_decode`. With ``from_logits`` (default) z holds logits, and
    softmax(log softmax(x) / T) = softmax(x / T); otherwise z holds probabilities.

    z: (N, Q, H, W) with axis=1 (any shape: the class axis is ``axis``) -> ab with the class
    axis replaced by the 2 ab channels, (N, 2, H, W). float32 (float64 for float64 input).
    """
    xp = array_module(z)
    z = xp.asarray(z)
    z = z.astype(_float_dtype(z), copy=False)
    c = _bins_on(bins, xp, z.dtype, "annealed_mean")
    if z.ndim == 0 or not -z.ndim <= axis < z.ndim or z.shape[axis] != c.shape[0]:
        raise ValueError(
            f"annealed_mean: expected {c.shape[0]} classes (one per bin) on axis {axis}, "
            f"got shape {tuple(z.shape)}"
        )
    if T < 0:
        raise ValueError(f"annealed_mean: temperature T must be >= 0, got {T}")
    if T == 0:
        return mode_decode(z, c, axis=axis)
    zl = xp.moveaxis(z, axis, -1)
    logp = zl if from_logits else xp.log(xp.maximum(zl, np.finfo(z.dtype).tiny))
    # shifted before the division: logp / T itself overflows for a tiny T (1e-40); what
    # overflows now goes to -inf, a weight of 0. T no smaller than the dtype's smallest normal
    # number: the GPU flushes a subnormal T to 0 (or divides by multiplying with 1 / T, which
    # overflows), and 0 / 0 gave NaN at the mode itself; below that T the result is the same.
    T = max(float(T), float(np.finfo(z.dtype).tiny))
    with np.errstate(over="ignore"):
        e = xp.exp((logp - logp.max(axis=-1, keepdims=True)) / T)
    ab = (e @ c) / e.sum(axis=-1, keepdims=True)
    return xp.ascontiguousarray(xp.moveaxis(ab, -1, axis))


def mode_decode(z, bins=None, axis: int = 1):
    """ab of the most likely bin of every pixel, c[argmax_q z_q] (logits or probabilities alike):
    the T -> 0 limit of :func:`annealed_mean`. (N, Q, H, W) -> (N, 2, H, W) with axis=1."""
    xp = array_module(z)
    z = xp.asarray(z)
    c = _bins_on(bins, xp, _float_dtype(z), "mode_decode")
    if z.ndim == 0 or not -z.ndim <= axis < z.ndim or z.shape[axis] != c.shape[0]:
        raise ValueError(
            f"mode_decode: expected {c.shape[0]} classes (one per bin) on axis {axis}, "
            f"got shape {tuple(z.shape)}"
        )
    ab = c[xp.argmax(z, axis=axis)]
    return xp.ascontiguousarray(xp.moveaxis(ab, -1, axis))
