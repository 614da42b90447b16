"""The metrics of the colorization literature, as array functions on NumPy or CuPy arrays.

RGB metrics (PSNR, SSIM, colourfulness) take images in [0, 1] with channels last: one image
(H, W, 3) (or (H, W) gray) gives a Python float; a batch (N, H, W, 3) gives a NumPy (N,) array
of per-image values, to average as the papers do (the mean of per-image PSNRs, not the PSNR of
the pooled error).

ab metrics (accuracy within a threshold, Zhang's AuC) take ab arrays with the 2 channels on
``channel_axis`` ((..., 2) by default; 1 for (N, 2, H, W) network outputs) and pool every pixel
given into one Python float; ``per_image=True`` gives a NumPy (N,) array for a batch instead.

Every computation runs in float64 on the arrays' device.
"""

from __future__ import annotations

import numpy as np

from .backend import array_module, to_numpy
from .color import ab_bins, check_unit_range, nearest_bin, rebalance_weights

# What psnr and ssim suggest for 0..255 floats given with the default data_range of 1.
_RANGE_FIX = "divide a 0..255 image by 255 (or pass data_range=255)"


def _pair(pred, true, name: str):
    """Both arrays as float64 xp arrays of one shape."""
    xp = array_module(pred)
    p, t = xp.asarray(pred, dtype=np.float64), xp.asarray(true, dtype=np.float64)
    if p.shape != t.shape:
        raise ValueError(
            f"{name}: pred and true must have the same shape, got {tuple(p.shape)} "
            f"and {tuple(t.shape)}"
        )
    return xp, p, t


def _as_batch(x, name: str):
    """(H, W) -> (1, H, W, 1), (H, W, C) -> (1, H, W, C), (N, H, W, C) as is; and whether the
    input was a single image."""
    if x.ndim == 2:
        return x[None, :, :, None], True
    if x.ndim == 3:
        return x[None], True
    if x.ndim == 4:
        return x, False
    raise ValueError(
        f"{name}: expected an image (H, W) or (H, W, C), or a batch (N, H, W, C), "
        f"got shape {tuple(x.shape)}"
    )


def _result(values, single: bool):
    """A Python float for one image, a NumPy array for a batch."""
    values = to_numpy(values)
    return float(values[0]) if single else values


# ------------------------------------------------------------------------------ PSNR, SSIM


def psnr(pred, true, data_range: float = 1.0):
    """Peak signal-to-noise ratio, 10 log10(data_range^2 / MSE), in dB.

    As skimage.metrics.peak_signal_noise_ratio(true, pred, data_range=data_range) per image;
    identical images give inf, a pair holding NaN gives NaN. One image -> float; (N, H, W, C)
    -> (N,) array.
    """
    xp, p, t = _pair(pred, true, "psnr")
    if data_range == 1.0:
        check_unit_range("psnr", p, t, fix=_RANGE_FIX)
    p, single = _as_batch(p, "psnr")
    t, _ = _as_batch(t, "psnr")
    mse = ((p - t) ** 2).mean(axis=(1, 2, 3))
    # inf only where the images are identical: a NaN error (NaN > 0 is false) stays NaN
    safe = xp.where(mse == 0, 1.0, mse)
    value = xp.where(mse == 0, xp.inf, 10.0 * xp.log10(data_range**2 / safe))
    return _result(value, single)


def _valid_filter(x, taps, axis: int):
    """Correlate ``x`` with 1-D ``taps`` along ``axis``, keeping only the windows that fit:
    out[i] = sum_k taps[k] x[i + k] (length n - len(taps) + 1)."""
    n = x.shape[axis] - len(taps) + 1

    def part(k):
        index = [slice(None)] * x.ndim
        index[axis] = slice(k, k + n)
        return x[tuple(index)]

    out = taps[0] * part(0)
    for k in range(1, len(taps)):
        out = out + taps[k] * part(k)
    return out


def ssim(
    pred,
    true,
    data_range: float = 1.0,
    win_size: int | None = None,
    gaussian_weights: bool = False,
    sigma: float = 1.5,
    K1: float = 0.01,
    K2: float = 0.03,
    use_sample_covariance: bool = True,
):
    """Mean structural similarity (Wang et al. 2004), as skimage.metrics.structural_similarity
    with ``channel_axis=-1`` and the same defaults.

    skimage's default window is *uniform*, 7 x 7 (``gaussian_weights=False``), with the sample
    covariance (normalised by NP / (NP - 1), NP = 49). Per window: local means mu, variances
    s^2 and covariance s_xy, and
    SSIM = (2 mu_x mu_y + C1)(2 s_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(s_x^2 + s_y^2 + C2)),
    C1 = (K1 R)^2, C2 = (K2 R)^2, R = data_range. The mean is over the windows that fit inside
    the image (skimage filters the whole image then crops (win_size - 1) / 2 pixels at each
    border, which keeps exactly those), then over channels. ``gaussian_weights=True`` uses the
    Gaussian window of sigma 1.5, truncated at 3.5 sigma (11 taps), as skimage does; set
    ``use_sample_covariance=False`` too to follow Wang et al. exactly (win_size is then
    2 round(3.5 sigma) + 1 and may not be given).

    One image (H, W, C) or (H, W) -> float; (N, H, W, C) -> (N,) array. H, W >= the window.
    """
    xp, p, t = _pair(pred, true, "ssim")
    if data_range == 1.0:
        check_unit_range("ssim", p, t, fix=_RANGE_FIX)
    p, single = _as_batch(p, "ssim")
    t, _ = _as_batch(t, "ssim")
    if gaussian_weights:
        if win_size is not None:
            raise ValueError("ssim: win_size is set by sigma when gaussian_weights=True")
        radius = int(3.5 * sigma + 0.5)
        offsets = np.arange(-radius, radius + 1, dtype=np.float64)
        taps = np.exp(-0.5 * (offsets / sigma) ** 2)
        taps = taps / taps.sum()
        win = 2 * radius + 1
    else:
        win = 7 if win_size is None else int(win_size)
        taps = np.full(win, 1.0 / win)
    if win % 2 != 1:
        raise ValueError(f"ssim: win_size must be odd, got {win}")
    if p.shape[1] < len(taps) or p.shape[2] < len(taps):
        raise ValueError(
            f"ssim: images of {p.shape[2]}x{p.shape[1]} pixels are smaller than the "
            f"{len(taps)}x{len(taps)} window"
        )
    taps = [float(v) for v in taps]

    def local_mean(x):
        return _valid_filter(_valid_filter(x, taps, 1), taps, 2)

    npix = win**2
    cov_norm = npix / (npix - 1) if use_sample_covariance else 1.0
    ux, uy = local_mean(p), local_mean(t)
    vx = cov_norm * (local_mean(p * p) - ux * ux)
    vy = cov_norm * (local_mean(t * t) - uy * uy)
    vxy = cov_norm * (local_mean(p * t) - ux * uy)
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    return _result(s.mean(axis=(1, 2, 3)), single)


# ------------------------------------------------------------------------------ ab metrics


def _ab_pair(ab_pred, ab_true, channel_axis: int, name: str):
    """Both ab arrays with channels last, float64."""
    xp, p, t = _pair(ab_pred, ab_true, name)
    if p.ndim == 0 or not -p.ndim <= channel_axis < p.ndim or p.shape[channel_axis] != 2:
        raise ValueError(
            f"{name}: expected ab arrays with 2 channels on axis {channel_axis}, "
            f"got shape {tuple(p.shape)}"
        )
    return xp, xp.moveaxis(p, channel_axis, -1), xp.moveaxis(t, channel_axis, -1)


def _pixel_mean(values, weights, per_image: bool, name: str):
    """The (weighted) mean of per-pixel ``values``: over everything, or per leading index."""
    xp = array_module(values)
    if weights is None:
        weights = xp.ones_like(values)
    else:
        weights = xp.asarray(weights, dtype=np.float64)
        if weights.shape != values.shape:
            raise ValueError(
                f"{name}: expected weights of the pixel shape {tuple(values.shape)}, "
                f"got {tuple(weights.shape)}"
            )
    if per_image:
        if values.ndim < 2:
            raise ValueError(f"{name}: per_image needs a batch (N, ...), got {values.shape}")
        axes = tuple(range(1, values.ndim))
        return to_numpy((values * weights).sum(axis=axes) / weights.sum(axis=axes))
    return float((values * weights).sum() / weights.sum())


def acc_within(
    ab_pred, ab_true, threshold: float = 10.0, channel_axis: int = -1, per_image: bool = False
):
    """The fraction of pixels whose a and b are both within ``threshold`` of the truth,
    |a - a*| <= 10 and |b - b*| <= 10 (seed 004's accuracy). Identical ab gives 1.

    Pooled over all pixels -> float; ``per_image=True`` -> (N,) array over the first axis.
    """
    xp, p, t = _ab_pair(ab_pred, ab_true, channel_axis, "acc_within")
    d = xp.abs(p - t)
    ok = ((d[..., 0] <= threshold) & (d[..., 1] <= threshold)).astype(np.float64)
    return _pixel_mean(ok, None, per_image, "acc_within")


def _ab_error(ab_pred, ab_true, channel_axis: int, name: str):
    xp, p, t = _ab_pair(ab_pred, ab_true, channel_axis, name)
    return xp, xp.sqrt(((p - t) ** 2).sum(axis=-1))


def ab_error_curve(
    ab_pred, ab_true, max_threshold: int = 150, weights=None, channel_axis: int = -1
):
    """The cumulative distribution of the ab L2 error, for plotting (Zhang et al. 2016, fig. 4).

    curve[t] = sum_i w_i [|ab_i - ab*_i|_2 <= t] / sum_i w_i for t = 0, 1, ..., max_threshold,
    pooled over all pixels (w_i = 1 without ``weights``); NaN where any error is NaN, as the
    AuC is. Returns NumPy (thresholds, curve).
    """
    xp, err = _ab_error(ab_pred, ab_true, channel_axis, "ab_error_curve")
    w = xp.ones_like(err) if weights is None else xp.asarray(weights, dtype=np.float64)
    if w.shape != err.shape:
        raise ValueError(
            f"ab_error_curve: expected weights of the pixel shape {tuple(err.shape)}, "
            f"got {tuple(w.shape)}"
        )
    # a pixel counts from threshold ceil(err) on; those beyond max_threshold never do. A NaN
    # error counts nowhere (cast to int64 it would be negative) and makes the curve NaN, as it
    # makes the AuC, the curve's mean.
    nan = xp.isnan(err)
    first = xp.minimum(xp.ceil(xp.where(nan, xp.inf, err)), max_threshold + 1)
    hist = xp.bincount(
        first.astype(np.int64).ravel(), weights=w.ravel(), minlength=max_threshold + 2
    )
    curve = xp.cumsum(hist)[: max_threshold + 1] / w.sum()
    curve = xp.where(nan.any(), xp.nan, curve)
    return np.arange(max_threshold + 1), to_numpy(curve)


def auc_ab(
    ab_pred,
    ab_true,
    max_threshold: int = 150,
    weights=None,
    channel_axis: int = -1,
    per_image: bool = False,
):
    """Zhang's AuC: the area under the cumulative ab-error curve, normalised to [0, 1].

    The mean of curve[t] over the thresholds t = 0, 1, ..., max_threshold (see
    :func:`ab_error_curve`): a pixel with error e counts in max(0, T + 1 - ceil(e)) of the
    T + 1 thresholds, so AuC = sum_i w_i max(0, T + 1 - ceil(e_i)) / ((T + 1) sum_i w_i).
    Identical ab gives 1. ``weights`` (one per pixel, the shape of ab without its channel axis)
    give the class-rebalanced AuC: use :func:`rebalanced_pixel_weights` for Zhang's variant.

    Pooled over all pixels -> float; ``per_image=True`` -> (N,) array over the first axis.
    """
    xp, err = _ab_error(ab_pred, ab_true, channel_axis, "auc_ab")
    counted = xp.maximum(0.0, max_threshold + 1 - xp.ceil(err)) / (max_threshold + 1)
    return _pixel_mean(counted, weights, per_image, "auc_ab")


def auc_ab_by_class(
    ab_pred, ab_true, max_threshold: int = 150, bins=None, channel_axis: int = -1, classes=None
):
    """Zhang's AuC terms summed per colour class of the truth: ``(sums, counts)``, two (Q,)
    float64 arrays on the data's device, over the bins (default tinycolor.color.ab_bins()).

    ``counts[q]`` is how many pixels have bin q as their true colour's nearest, ``sums[q]``
    the sum of their AuC terms (see :func:`auc_ab`): class q's AuC is sums[q] / counts[q].
    :func:`class_mean` of them is the rebalanced AuC with every class present weighing alike,
    which is Zhang's 1 / p weighting with p the scored pixels' own shares of the bins. The
    sums and counts of several batches add up: a dataset scored one batch at a time gives
    the number of all its pixels at once. ``classes``: the truth's :func:`nearest_bin`
    indices, when they are already known (several predictions of one truth).
    """
    xp, err = _ab_error(ab_pred, ab_true, channel_axis, "auc_ab_by_class")
    counted = xp.maximum(0.0, max_threshold + 1 - xp.ceil(err)) / (max_threshold + 1)
    if classes is None:
        classes = nearest_bin(ab_true, bins, channel_axis=channel_axis)
    classes = xp.asarray(classes)
    if classes.shape != counted.shape:
        raise ValueError(
            f"auc_ab_by_class: expected classes of the pixel shape {tuple(counted.shape)}, "
            f"got {tuple(classes.shape)}"
        )
    q = (ab_bins() if bins is None else bins).shape[0]
    idx = classes.ravel()
    sums = xp.bincount(idx, weights=counted.ravel(), minlength=q).astype(np.float64)
    return sums, xp.bincount(idx, minlength=q).astype(np.float64)


def class_mean(sums, counts):
    """The mean over the classes present (count > 0) of their means ``sums / counts``: with
    :func:`auc_ab_by_class`'s arrays, the rebalanced AuC over the scored pixels' own colour
    classes. None when no class has a pixel."""
    xp = array_module(counts)
    present = xp.asarray(counts) > 0
    if not bool(present.any()):
        return None
    return float((xp.asarray(sums)[present] / xp.asarray(counts)[present]).mean())


def rebalanced_pixel_weights(ab_true, prior, bins=None, lam: float = 0.0, channel_axis: int = -1):
    """Per-pixel weights for the rebalanced AuC: w[nearest_bin(ab_true)], with
    w = rebalance_weights(prior, lam).

    Zhang et al. weight each pixel "inversely by the probability of its colour class", so the
    default is lam = 0: w_q proportional to 1 / p_q, p a prior over ``bins`` (default
    tinycolor.color.ab_bins()); bins of prior 0 weigh 0. lam = 0.5 gives the training loss's
    weights instead. Returns float64 weights (1 / p can exceed float32's range) of the shape of
    ``ab_true`` without its channel axis.

    Zhang's p is the training set's (tinycolor.color.empirical_prior), which on test photos
    like the training ones makes every colour class weigh about alike. ``evaluate`` and
    ``train`` weigh by the scored pixels' own shares of the bins instead, which comes to
    :func:`class_mean` of :func:`auc_ab_by_class` (one pass, no weights): with the prior of a
    dozen training photos, a test pixel of a colour that prior all but lacks (1e-27)
    outweighs all the others together.
    """
    xp = array_module(ab_true)
    w = rebalance_weights(
        to_numpy(prior) if xp is np else xp.asarray(prior), lam=lam, dtype=np.float64
    )
    return w[nearest_bin(ab_true, bins, channel_axis=channel_axis)]


# ------------------------------------------------------------------------------ colourfulness


def colorfulness(rgb):
    """Colourfulness M of Hasler and Suesstrunk (2003), the sRGB-space metric M^(3) of their
    paper, the one the colorization literature reports.

    On 0..255 values (floats in [0, 1] are multiplied by 255; uint8 used as is):
    rg = R - G, yb = (R + G) / 2 - B,
    M = sqrt(std(rg)^2 + std(yb)^2) + 0.3 sqrt(mean(rg)^2 + mean(yb)^2),
    with population standard deviations (ddof 0) over the image's pixels. A gray image scores
    0; the paper calls about 33 "moderately", 59 "quite" and 82 "highly colourful".
    (H, W, 3) -> float; (N, H, W, 3) -> (N,) array.
    """
    xp = array_module(rgb)
    x = xp.asarray(rgb)
    if x.dtype != np.uint8 and x.dtype.kind != "f":  # int64 0..255 was scaled by 255 again
        raise TypeError(f"colorfulness: expected floats in [0, 1] or uint8, got dtype {x.dtype}")
    scale = 1.0 if x.dtype == np.uint8 else 255.0
    check_unit_range("colorfulness", x)
    x = x.astype(np.float64) * scale
    if x.ndim not in (3, 4) or x.shape[-1] != 3:
        raise ValueError(
            f"colorfulness: expected an RGB image (H, W, 3) or a batch (N, H, W, 3), "
            f"got shape {tuple(x.shape)}"
        )
    x, single = _as_batch(x, "colorfulness")
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    rg, yb = r - g, 0.5 * (r + g) - b
    axes = (1, 2)
    spread = xp.sqrt(rg.var(axis=axes) + yb.var(axis=axes))
    centre = xp.sqrt(rg.mean(axis=axes) ** 2 + yb.mean(axis=axes) ** 2)
    return _result(spread + 0.3 * centre, single)
