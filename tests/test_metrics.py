"""tinycolor.metrics against skimage.metrics and slow loop references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from skimage import data as skdata
from skimage import metrics as skmetrics

from tinycolor import backend
from tinycolor import color as C
from tinycolor import metrics as M

REAL_IMAGES = ("astronaut", "coffee", "chelsea")


def _np(x):
    return backend.to_numpy(x)


def _real(name, step=2):
    """A real image in [0, 1], subsampled to keep the tests fast."""
    return getattr(skdata, name)()[::step, ::step] / 255.0


def _noisy(image, seed, std=0.08):
    rng = np.random.default_rng(seed)
    return np.clip(image + rng.normal(0, std, image.shape), 0, 1)


# ------------------------------------------------------------------------------ PSNR, SSIM


@pytest.mark.parametrize("name", REAL_IMAGES)
def test_psnr_and_ssim_match_skimage_on_real_images(xp, name):
    true = _real(name)
    pred = _noisy(true, seed=len(name))
    p, t = xp.asarray(pred), xp.asarray(true)
    got = M.psnr(p, t)
    assert isinstance(got, float)
    assert got == pytest.approx(
        skmetrics.peak_signal_noise_ratio(true, pred, data_range=1.0), abs=1e-9
    )
    ref = skmetrics.structural_similarity(pred, true, channel_axis=-1, data_range=1.0)
    got = M.ssim(p, t)
    assert isinstance(got, float)
    assert got == pytest.approx(ref, abs=1e-9)
    ref = skmetrics.structural_similarity(
        pred, true, channel_axis=-1, data_range=1.0, gaussian_weights=True
    )
    assert M.ssim(p, t, gaussian_weights=True) == pytest.approx(ref, abs=1e-9)
    # another sigma: the window's radius follows it, int(3.5 sigma + 0.5) (7 for sigma 2)
    ref = skmetrics.structural_similarity(
        pred, true, channel_axis=-1, data_range=1.0, gaussian_weights=True, sigma=2.0
    )
    assert M.ssim(p, t, gaussian_weights=True, sigma=2.0) == pytest.approx(ref, abs=1e-9)


@given(
    h=st.integers(7, 15),
    w=st.integers(7, 15),
    c=st.sampled_from([0, 1, 3]),
    win=st.sampled_from([3, 5, 7]),
    sample_cov=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_ssim_matches_skimage_on_random_images(h, w, c, win, sample_cov, seed):
    rng = np.random.default_rng(seed)
    shape = (h, w) if c == 0 else (h, w, c)
    true = rng.uniform(0, 1, shape)
    pred = np.clip(true + rng.normal(0, 0.2, shape), 0, 1)
    kwargs = dict(win_size=win, data_range=1.0, use_sample_covariance=sample_cov)
    ref = skmetrics.structural_similarity(pred, true, channel_axis=None if c == 0 else -1, **kwargs)
    assert M.ssim(pred, true, **kwargs) == pytest.approx(ref, abs=1e-9)


def test_psnr_ssim_batches_give_per_image_arrays(xp):
    rng = np.random.default_rng(1)
    true = rng.uniform(0, 1, (3, 12, 10, 3))
    pred = np.clip(true + rng.normal(0, 0.1, true.shape), 0, 1)
    pred[1] = true[1]  # an identical pair
    p, t = xp.asarray(pred.astype(np.float32)), xp.asarray(true.astype(np.float32))
    psnr, ssim = M.psnr(p, t), M.ssim(p, t)
    assert isinstance(psnr, np.ndarray) and psnr.shape == (3,)
    assert isinstance(ssim, np.ndarray) and ssim.shape == (3,)
    assert psnr[1] == math.inf and ssim[1] == pytest.approx(1.0, abs=1e-12)
    for i in (0, 2):
        ref = skmetrics.peak_signal_noise_ratio(true[i], pred[i].astype(np.float32), data_range=1)
        assert psnr[i] == pytest.approx(ref, abs=1e-4)
        ref = skmetrics.structural_similarity(pred[i], true[i], channel_axis=-1, data_range=1)
        assert ssim[i] == pytest.approx(ref, abs=1e-6)
    assert 0 < ssim[0] < 1 and np.isfinite(psnr[0])


def test_psnr_and_ssim_of_identical_images(xp):
    image = xp.asarray(_real("chelsea", step=4))
    assert M.psnr(image, image) == math.inf
    assert M.ssim(image, image) == pytest.approx(1.0, abs=1e-12)
    assert M.psnr(image * 255, image * 255, data_range=255) == math.inf


def test_psnr_of_a_nan_prediction_is_nan_not_inf(xp):
    """A prediction holding NaN (a diverged network's) scored inf, the score of a perfect
    one: its MSE is NaN, and NaN > 0 is false. It is NaN, as skimage's is."""
    true = np.random.default_rng(3).uniform(0, 1, (2, 6, 5, 3))
    pred = true.copy()
    pred[0, 2, 3, 1] = np.nan
    got = M.psnr(xp.asarray(pred), xp.asarray(true))
    assert math.isnan(got[0]) and got[1] == math.inf
    assert math.isnan(M.psnr(xp.asarray(pred[0]), xp.asarray(true[0])))


def test_psnr_matches_the_formula():
    rng = np.random.default_rng(2)
    a, b = rng.uniform(0, 1, (5, 6, 3)), rng.uniform(0, 1, (5, 6, 3))
    mse = sum((x - y) ** 2 for x, y in zip(a.ravel(), b.ravel())) / a.size
    assert M.psnr(a, b) == pytest.approx(10 * math.log10(1 / mse), abs=1e-9)
    assert M.psnr(a * 255, b * 255, data_range=255) == pytest.approx(M.psnr(a, b), abs=1e-9)


def test_metrics_reject_bad_shapes():
    with pytest.raises(ValueError, match=r"same shape, got \(8, 8, 3\) and \(8, 8, 2\)"):
        M.psnr(np.zeros((8, 8, 3)), np.zeros((8, 8, 2)))
    with pytest.raises(ValueError, match="smaller than the 7x7 window"):
        M.ssim(np.zeros((5, 9, 3)), np.zeros((5, 9, 3)))
    with pytest.raises(ValueError, match="win_size must be odd"):
        M.ssim(np.zeros((9, 9)), np.zeros((9, 9)), win_size=4)
    with pytest.raises(ValueError, match="2 channels on axis -1"):
        M.acc_within(np.zeros((4, 4, 3)), np.zeros((4, 4, 3)))


# ------------------------------------------------------------------------------ ab metrics


def _ab_pair(seed, shape=(2, 6, 5), spread=30.0):
    rng = np.random.default_rng(seed)
    true = rng.uniform(-80, 80, shape + (2,))
    pred = true + rng.normal(0, spread, true.shape)
    return pred, true


def _ref_acc(pred, true, threshold):
    hits = [
        abs(p[0] - t[0]) <= threshold and abs(p[1] - t[1]) <= threshold
        for p, t in zip(pred.reshape(-1, 2), true.reshape(-1, 2))
    ]
    return sum(hits) / len(hits)


def _ref_auc(pred, true, max_threshold=150, weights=None):
    errs = [math.dist(p, t) for p, t in zip(pred.reshape(-1, 2), true.reshape(-1, 2))]
    ws = [1.0] * len(errs) if weights is None else list(np.ravel(weights))
    curve = [sum(w for e, w in zip(errs, ws) if e <= t) / sum(ws) for t in range(max_threshold + 1)]
    return sum(curve) / len(curve), curve


@pytest.mark.parametrize("threshold", [5.0, 10.0, 25.0])
def test_acc_within_matches_loop_reference(xp, threshold):
    pred, true = _ab_pair(3)
    pred[0, 0, 0] = true[0, 0, 0] + [threshold, -threshold]  # on the border: counts
    got = M.acc_within(xp.asarray(pred), xp.asarray(true), threshold=threshold)
    assert isinstance(got, float)
    assert got == pytest.approx(_ref_acc(pred, true, threshold), abs=1e-12)
    nchw = M.acc_within(
        xp.asarray(np.moveaxis(pred, -1, 1)),
        xp.asarray(np.moveaxis(true, -1, 1)),
        threshold=threshold,
        channel_axis=1,
    )
    assert nchw == pytest.approx(got, abs=1e-12)
    per = M.acc_within(xp.asarray(pred), xp.asarray(true), threshold=threshold, per_image=True)
    assert per.shape == (2,)
    for i in range(2):
        assert per[i] == pytest.approx(_ref_acc(pred[i], true[i], threshold), abs=1e-12)
    assert M.acc_within(xp.asarray(true), xp.asarray(true)) == 1.0


@given(seed=st.integers(0, 2**16), spread=st.floats(0.5, 120.0), max_t=st.sampled_from([20, 150]))
def test_auc_ab_matches_loop_reference(seed, spread, max_t):
    pred, true = _ab_pair(seed, shape=(3, 4), spread=spread)
    pred[0, 0] = true[0, 0] + [3.0, 4.0]  # error exactly 5: counts from t = 5 on
    ref, curve = _ref_auc(pred, true, max_t)
    assert M.auc_ab(pred, true, max_threshold=max_t) == pytest.approx(ref, abs=1e-12)
    thresholds, got_curve = M.ab_error_curve(pred, true, max_threshold=max_t)
    np.testing.assert_array_equal(thresholds, np.arange(max_t + 1))
    np.testing.assert_allclose(got_curve, curve, atol=1e-12)
    weights = np.random.default_rng(seed + 1).uniform(0.1, 5.0, (3, 4))
    ref_w, curve_w = _ref_auc(pred, true, max_t, weights)
    got = M.auc_ab(pred, true, max_threshold=max_t, weights=weights)
    assert got == pytest.approx(ref_w, abs=1e-12)
    np.testing.assert_allclose(M.ab_error_curve(pred, true, max_t, weights)[1], curve_w, atol=1e-12)
    # per image, each image's pixels weighted among themselves
    per = M.auc_ab(pred, true, max_threshold=max_t, weights=weights, per_image=True)
    for i in range(3):
        assert per[i] == pytest.approx(_ref_auc(pred[i], true[i], max_t, weights[i])[0], abs=1e-12)


def test_auc_ab_properties(xp):
    pred, true = _ab_pair(4, spread=40.0)
    p, t = xp.asarray(pred), xp.asarray(true)
    assert M.auc_ab(t, t) == 1.0
    auc = M.auc_ab(p, t)
    assert 0.0 < auc < 1.0
    assert M.auc_ab(p, t, weights=xp.full(true.shape[:-1], 3.0)) == pytest.approx(auc, abs=1e-12)
    assert np.mean(M.ab_error_curve(p, t)[1]) == pytest.approx(auc, abs=1e-12)
    per = M.auc_ab(p, t, per_image=True)
    assert per.shape == (2,)
    for i in range(2):
        assert per[i] == pytest.approx(_ref_auc(pred[i], true[i])[0], abs=1e-12)
    # a gray guess beats nothing but itself: farther guesses score lower
    gray = xp.zeros_like(t)
    assert M.auc_ab(gray, t) > M.auc_ab(gray + 50.0, t)


def test_ab_error_curve_of_a_nan_prediction_is_nan_as_its_auc(xp):
    """A NaN in the predicted ab made ab_error_curve fail inside bincount ("'list' argument
    must have no negative elements": NaN cast to int64); its AuC, the curve's mean, is NaN,
    and so is the curve now. An infinite error counts in no threshold, as in the AuC."""
    pred, true = _ab_pair(6, spread=40.0)
    pred[1, 2, 0] = np.nan
    _, curve = M.ab_error_curve(xp.asarray(pred), xp.asarray(true))
    assert curve.shape == (151,) and np.isnan(curve).all()
    assert math.isnan(M.auc_ab(xp.asarray(pred), xp.asarray(true)))
    pred[1, 2, 0] = np.inf
    _, curve = M.ab_error_curve(xp.asarray(pred), xp.asarray(true))
    auc = M.auc_ab(xp.asarray(pred), xp.asarray(true))
    assert curve[-1] < 1 and np.mean(curve) == pytest.approx(auc, abs=1e-12)


def test_rebalanced_pixel_weights_are_inverse_prior_of_the_true_bin(xp):
    bins = C.ab_bins()
    rng = np.random.default_rng(5)
    train = rng.normal(0, 20, (4, 8, 8, 2))
    prior = C.empirical_prior(xp.asarray(train), bins)
    true = rng.normal(0, 20, (2, 5, 5, 2))
    w = _np(M.rebalanced_pixel_weights(xp.asarray(true), prior, bins))
    assert w.shape == (2, 5, 5)
    p = _np(prior).astype(np.float64)
    norm = sum(1.0 for pq in p if pq > 0)  # sum_q p_q / p_q over the bins of nonzero prior
    for idx in np.ndindex(2, 5, 5):
        q = int(np.argmin(((true[idx] - bins) ** 2).sum(axis=1)))
        assert w[idx] == pytest.approx(1.0 / p[q] / norm, rel=1e-4)
    w_half = _np(M.rebalanced_pixel_weights(xp.asarray(true), prior, bins, lam=0.5))
    full = _np(C.rebalance_weights(prior, lam=0.5))[_np(C.nearest_bin(true, bins))]
    np.testing.assert_allclose(w_half, full)
    pred = xp.asarray(true + rng.normal(0, 10, true.shape))
    rebalanced = M.auc_ab(pred, xp.asarray(true), weights=xp.asarray(w))
    assert 0.0 < rebalanced < 1.0
    # other bins (a coarser grid): the prior and the pixels' bins are both over them
    coarse = C.ab_bins(20)
    prior20 = C.empirical_prior(xp.asarray(train), coarse)
    w20 = _np(M.rebalanced_pixel_weights(xp.asarray(true), prior20, coarse))
    per_bin = _np(C.rebalance_weights(prior20, lam=0.0, dtype=np.float64))
    for idx in np.ndindex(2, 5, 5):
        q = int(np.argmin(((true[idx] - coarse) ** 2).sum(axis=1)))
        assert w20[idx] == per_bin[q]


def test_auc_by_class_sums_each_true_colours_auc_terms(xp):
    """auc_ab_by_class against a loop over the pixels; class_mean of it is the AuC with each
    pixel weighed by 1 / its colour class's share of the pixels (Zhang's weighting with the
    scored pixels' own prior); the sums of batches add up to those of all of them."""
    bins = C.ab_bins()
    rng = np.random.default_rng(7)
    true = rng.normal(0, 25, (3, 6, 7, 2))
    pred = true + rng.normal(0, 15, true.shape)
    pred[0, 0, 0] += 200.0  # an error beyond the last threshold counts nowhere
    sums, counts = map(_np, M.auc_ab_by_class(xp.asarray(pred), xp.asarray(true)))
    want_sums, want_counts = np.zeros(len(bins)), np.zeros(len(bins))
    for idx in np.ndindex(3, 6, 7):
        q = int(np.argmin(((true[idx] - bins) ** 2).sum(axis=1)))
        err = math.sqrt(((pred[idx] - true[idx]) ** 2).sum())
        want_sums[q] += max(0, 151 - math.ceil(err)) / 151
        want_counts[q] += 1
    np.testing.assert_allclose(sums, want_sums, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(counts, want_counts)
    present = want_counts > 0
    rebalanced = M.class_mean(sums, counts)
    assert rebalanced == pytest.approx(np.mean(want_sums[present] / want_counts[present]))
    own = C.empirical_prior(xp.asarray(true), bins, sigma=0)
    w = M.rebalanced_pixel_weights(xp.asarray(true), own, bins)
    assert rebalanced == pytest.approx(M.auc_ab(xp.asarray(pred), xp.asarray(true), weights=w))
    # a batch at a time; channels on axis 1; the classes given (computed once for several
    # predictions of one truth)
    first = M.auc_ab_by_class(xp.asarray(pred[:1]), xp.asarray(true[:1]))
    rest = M.auc_ab_by_class(
        xp.asarray(pred[1:].transpose(0, 3, 1, 2)),
        xp.asarray(true[1:].transpose(0, 3, 1, 2)),
        channel_axis=1,
        classes=C.nearest_bin(xp.asarray(true[1:])),
    )
    np.testing.assert_allclose(_np(first[0] + rest[0]), sums, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(_np(first[1] + rest[1]), counts)
    # other bins (a coarser grid): the classes are those bins
    coarse = C.ab_bins(20)
    sums20, counts20 = M.auc_ab_by_class(xp.asarray(pred), xp.asarray(true), bins=coarse)
    assert sums20.shape == counts20.shape == (len(coarse),) and float(counts20.sum()) == 126
    with pytest.raises(ValueError, match=r"classes of the pixel shape \(3, 6, 7\)"):
        M.auc_ab_by_class(xp.asarray(pred), xp.asarray(true), classes=xp.zeros((3, 6), int))
    assert M.class_mean(np.zeros(3), np.zeros(3)) is None  # no pixels, no classes


# ------------------------------------------------------------------------------ colourfulness


def _ref_colorfulness(rgb):
    pixels = [[float(v) * 255 for v in px] for px in rgb.reshape(-1, 3)]
    rg = [r - g for r, g, _ in pixels]
    yb = [(r + g) / 2 - b for r, g, b in pixels]

    def mean(v):
        return sum(v) / len(v)

    def var(v):
        m = mean(v)
        return sum((x - m) ** 2 for x in v) / len(v)

    return math.sqrt(var(rg) + var(yb)) + 0.3 * math.sqrt(mean(rg) ** 2 + mean(yb) ** 2)


def test_colorfulness_matches_loop_reference(xp):
    rng = np.random.default_rng(6)
    batch = rng.uniform(0, 1, (3, 9, 7, 3))
    batch[1] *= [1.0, 0.2, 0.1]  # a reddish image
    got = M.colorfulness(xp.asarray(batch))
    assert isinstance(got, np.ndarray) and got.shape == (3,)
    for i in range(3):
        assert got[i] == pytest.approx(_ref_colorfulness(batch[i]), rel=1e-10)
        one = M.colorfulness(xp.asarray(batch[i]))
        assert isinstance(one, float) and one == pytest.approx(got[i], rel=1e-12)
    gray = np.repeat(rng.uniform(0, 1, (9, 7, 1)), 3, axis=-1)
    assert M.colorfulness(xp.asarray(gray)) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("name", REAL_IMAGES)
def test_colorfulness_of_real_images_reads_uint8_and_floats_alike(xp, name):
    image = getattr(skdata, name)()[::4, ::4]
    from_uint8 = M.colorfulness(xp.asarray(image))
    assert from_uint8 == pytest.approx(M.colorfulness(xp.asarray(image / 255.0)), rel=1e-12)
    assert from_uint8 == pytest.approx(_ref_colorfulness(image / 255.0), rel=1e-9)
    # desaturating in Lab lowers colourfulness
    lab = C.rgb_to_lab(image)
    lab[..., 1:] *= 0.5
    assert M.colorfulness(C.lab_to_rgb(lab)) < from_uint8


def test_rgb_metrics_refuse_0_to_255_floats_unless_told_the_range():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 255, (2, 16, 16, 3))
    for metric in (M.psnr, M.ssim):
        name = metric.__name__
        with pytest.raises(
            ValueError, match=rf"{name}: expected RGB floats in \[0, 1\].*data_range=255"
        ):
            metric(a, b)  # psnr was ~0 dB, as if the images were 255 times further apart
        assert metric(a, b, data_range=255) == pytest.approx(metric(a / 255, b / 255))
    with pytest.raises(ValueError, match=r"colorfulness: expected RGB floats in \[0, 1\]"):
        M.colorfulness(a)  # was 255 times too colourful
    assert M.colorfulness(a.astype(np.uint8)) == pytest.approx(
        M.colorfulness(a.astype(np.uint8) / 255.0)
    )


def test_colorfulness_refuses_integer_types_other_than_uint8():
    x = np.random.default_rng(0).integers(0, 256, (8, 8, 3))
    with pytest.raises(TypeError, match="floats in \\[0, 1\\] or uint8, got dtype int64"):
        M.colorfulness(x)  # was 255 times too colourful: 0..255 taken for [0, 1]
    assert M.colorfulness(x.astype(np.uint8)) == pytest.approx(M.colorfulness(x / 255.0))
