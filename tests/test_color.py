"""tinycolor.color: colour spaces against skimage, the ab bins and Zhang's encodings against
slow loop references."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from skimage import color as skcolor
from skimage import data as skdata

from tinycolor import backend
from tinycolor import color as C
from tinycolor import metrics as M

REAL_IMAGES = ("astronaut", "coffee", "chelsea")


def _np(x):
    return backend.to_numpy(x)


def _sk_lab2rgb(lab):
    with warnings.catch_warnings():  # skimage warns when it clips negative Z
        warnings.simplefilter("ignore")
        return skcolor.lab2rgb(lab)


def _random_lab(rng, shape):
    return np.stack(
        [rng.uniform(0, 100, shape), rng.uniform(-110, 110, shape), rng.uniform(-110, 110, shape)],
        axis=-1,
    )


# ------------------------------------------------------------------------------ colour spaces


@pytest.mark.parametrize("dtype, atol", [(np.float32, 1e-3), (np.float64, 1e-9)])
def test_rgb_to_lab_matches_skimage_on_random_colours(xp, dtype, atol):
    rng = np.random.default_rng(1)
    rgb = rng.uniform(0, 1, (6, 8, 3))
    rgb[0] = np.array([[i >> 2 & 1, i >> 1 & 1, i & 1] for i in range(8)])  # the cube's corners
    rgb[1, :3] = [0.04045, 0.0031308, 1e-5]  # around the transfer function's knee
    lab = C.rgb_to_lab(xp.asarray(rgb.astype(dtype)))
    assert lab.dtype == dtype and lab.shape == rgb.shape
    np.testing.assert_allclose(_np(lab), skcolor.rgb2lab(rgb), rtol=0, atol=atol)


@pytest.mark.parametrize("name", REAL_IMAGES)
def test_lab_round_trip_matches_skimage_on_real_images(xp, name):
    image = getattr(skdata, name)()
    ref = skcolor.rgb2lab(image)
    lab = C.rgb_to_lab(xp.asarray(image))  # uint8 is scaled by 1/255, as skimage does
    assert lab.dtype == np.float32
    np.testing.assert_allclose(_np(lab), ref, rtol=0, atol=1e-3)
    rgb = C.lab_to_rgb(xp.asarray(ref.astype(np.float32)))
    np.testing.assert_allclose(_np(rgb), _sk_lab2rgb(ref), rtol=0, atol=1e-3)
    np.testing.assert_allclose(_np(C.lab_to_rgb(lab)), image / 255.0, rtol=0, atol=1e-3)


@pytest.mark.parametrize("dtype, atol", [(np.float32, 1e-3), (np.float64, 1e-9)])
def test_lab_to_rgb_matches_skimage_and_clips_out_of_gamut_lab(xp, dtype, atol):
    lab = _random_lab(np.random.default_rng(2), (40, 30))  # most of these are out of gamut
    rgb = _np(C.lab_to_rgb(xp.asarray(lab.astype(dtype))))
    assert rgb.dtype == dtype
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0
    assert ((rgb == 0) | (rgb == 1)).any()  # the clip was needed
    np.testing.assert_allclose(rgb, _sk_lab2rgb(lab), rtol=0, atol=atol)


def test_colour_conversions_take_nchw_with_channel_axis_1(xp):
    rgb = np.random.default_rng(3).uniform(0, 1, (2, 3, 5, 4)).astype(np.float32)
    hwc = np.moveaxis(rgb, 1, -1)
    for fwd, inv in [(C.rgb_to_lab, C.lab_to_rgb), (C.rgb_to_yuv, C.yuv_to_rgb)]:
        out = fwd(xp.asarray(rgb), channel_axis=1)
        assert out.shape == rgb.shape and out.flags.c_contiguous
        np.testing.assert_allclose(_np(out), np.moveaxis(_np(fwd(xp.asarray(hwc))), -1, 1))
        np.testing.assert_allclose(_np(inv(out, channel_axis=1)), rgb, atol=1e-4)


@pytest.mark.parametrize("name", REAL_IMAGES[:1])
def test_yuv_matches_skimage(xp, name):
    rng = np.random.default_rng(4)
    for rgb in (rng.uniform(0, 1, (9, 8, 3)), getattr(skdata, name)() / 255.0):
        yuv = C.rgb_to_yuv(xp.asarray(rgb))
        np.testing.assert_allclose(_np(yuv), skcolor.rgb2yuv(rgb), rtol=0, atol=1e-12)
        np.testing.assert_allclose(_np(C.yuv_to_rgb(yuv)), rgb, rtol=0, atol=1e-12)
    yuv = np.stack([rng.uniform(0, 1, 50), rng.uniform(-0.6, 0.6, 50), rng.uniform(-0.6, 0.6, 50)])
    yuv = yuv.T.astype(np.float32)
    np.testing.assert_allclose(_np(C.yuv_to_rgb(xp.asarray(yuv))), skcolor.yuv2rgb(yuv), atol=1e-5)
    clipped = _np(C.yuv_to_rgb(xp.asarray(yuv), clip=True))
    np.testing.assert_allclose(clipped, np.clip(skcolor.yuv2rgb(yuv), 0, 1), atol=1e-5)


def test_colour_conversions_reject_bad_input():
    with pytest.raises(
        ValueError, match=r"rgb_to_lab: expected an array with 3 channels on axis -1"
    ):
        C.rgb_to_lab(np.zeros((4, 4, 2)))
    with pytest.raises(ValueError, match=r"axis 1, got shape \(2, 4, 4, 3\)"):
        C.lab_to_rgb(np.zeros((2, 4, 4, 3)), channel_axis=1)
    with pytest.raises(TypeError, match="uint8"):
        C.rgb_to_lab(np.zeros((4, 4, 3), dtype=np.int16))
    # 0..255 values given as floats gave L in the thousands without a word
    image = skdata.coffee()[:8, :8]
    for convert in (C.rgb_to_lab, C.rgb_to_yuv):
        with pytest.raises(ValueError, match=r"expected RGB floats in \[0, 1\], got values up to"):
            convert(image.astype(np.float32))
    np.testing.assert_allclose(C.rgb_to_lab(image), C.rgb_to_lab(image / 255.0), atol=1e-3)
    C.rgb_to_lab(np.full((2, 2, 3), 1.2))  # a small overshoot (resampling) is let through


# ------------------------------------------------------------------------------ the ab gamut


def _ref_in_gamut(a, b, n_l=2001, tol=1e-4):
    """Is (L, a, b) sRGB for some L? Per bin, with the textbook CIE inverse (delta = 6/29) and
    the XYZ -> RGB system solved by numpy, independent of tinycolor's code."""
    L = np.linspace(0, 100, n_l)
    fy = (L + 16) / 116
    f = np.stack([fy + a / 500, fy, fy - b / 200])
    d = 6 / 29
    t = np.where(f > d, f**3, 3 * d * d * (f - 4 / 29))
    xyz = t * np.array([0.95047, 1.0, 1.08883])[:, None]
    lin = np.linalg.solve(skcolor.colorconv.xyz_from_rgb, xyz)
    return bool(np.all((lin >= -tol) & (lin <= 1 + tol), axis=0).any())


def test_ab_bins_centre_rule_matches_a_per_bin_reference():
    bins = C.ab_bins()
    assert bins is C.ab_bins(10)  # cached
    assert bins.dtype == np.float32 and bins.ndim == 2 and bins.shape[1] == 2
    assert not bins.flags.writeable
    kept = {(float(a), float(b)) for a, b in bins}
    ref = {
        (float(a), float(b))
        for a in range(-150, 151, 10)
        for b in range(-150, 151, 10)
        if _ref_in_gamut(a, b)
    }
    assert kept == ref
    assert 200 < len(bins) <= 313  # the paper's 313 includes bins beyond the gamut
    assert (0.0, 0.0) in kept
    keys = bins[:, 0] * 1000 + bins[:, 1]
    assert np.all(np.diff(keys) > 0)  # sorted by a, then b


def test_ab_bins_centre_rule_of_another_grid_reaches_the_edge_of_the_gamut():
    # --grid is an option: on a grid of 6, sRGB blue's bin lies at b = -102, beyond the
    # candidates a range cut for grid 10 would try (only grid 10 was checked)
    bins = C.ab_bins(6)
    kept = {(float(a), float(b)) for a, b in bins}
    steps = np.arange(-25, 26) * 6.0
    ref = {(a, b) for a in steps for b in steps if _ref_in_gamut(a, b)}
    assert kept == ref
    assert min(b for _, b in kept) == -102.0


def test_ab_bins_cell_rule_holds_every_srgb_colours_bin():
    cell = C.ab_bins(rule="cell")
    v = np.linspace(0, 1, 48)
    cube = np.stack(np.meshgrid(v, v, v, indexing="ij"), axis=-1).reshape(-1, 1, 3)
    ab = skcolor.rgb2lab(cube).reshape(-1, 3)[:, 1:]
    occupied = {(float(a), float(b)) for a, b in np.floor(ab / 10 + 0.5) * 10}
    kept = {(float(a), float(b)) for a, b in cell}
    assert occupied <= kept
    assert {(float(a), float(b)) for a, b in C.ab_bins()} < kept  # centre-sRGB bins are in
    assert len(cell) <= 313
    with pytest.raises(ValueError, match="unknown rule"):
        C.ab_bins(rule="hull")


# ------------------------------------------------------------------------------ encodings


def _small_bins():
    """A 7 x 7 grid of step 10 with holes: a few tests run on it to keep loops short."""
    a, b = np.meshgrid(np.arange(-30, 31, 10.0), np.arange(-30, 31, 10.0), indexing="ij")
    bins = np.stack([a.ravel(), b.ravel()], axis=1)
    return bins[[i for i in range(len(bins)) if i % 5 != 3]].astype(np.float32)


def _ref_soft_encode(pixels, bins, k, sigma):
    out = np.zeros((len(pixels), len(bins)))
    for i, (a, b) in enumerate(pixels):
        d2 = [(a - ca) ** 2 + (b - cb) ** 2 for ca, cb in bins]
        nearest = sorted(range(len(bins)), key=lambda q: d2[q])[:k]
        w = [math.exp(-(d2[q] - d2[nearest[0]]) / (2 * sigma**2)) for q in nearest]
        for q, wq in zip(nearest, w):
            out[i, q] = wq / sum(w)
    return out


@given(k=st.integers(1, 10), sigma=st.floats(1.0, 20.0), seed=st.integers(0, 2**16))
def test_soft_encode_matches_loop_reference(k, sigma, seed):
    bins = C.ab_bins()
    ab = np.random.default_rng(seed).uniform(-100, 100, (3, 4, 2))
    enc = C.soft_encode(ab, bins, k=k, sigma=sigma)
    assert enc.shape == (3, 4, len(bins)) and enc.dtype == np.float64
    ref = _ref_soft_encode(ab.reshape(-1, 2), bins.astype(np.float64), k, sigma)
    np.testing.assert_allclose(enc.reshape(-1, len(bins)), ref, rtol=1e-9, atol=1e-12)


def test_soft_encode_properties_and_nchw_api(xp):
    bins = C.ab_bins()
    rng = np.random.default_rng(5)
    ab = rng.uniform(-110, 110, (2, 2, 6, 5)).astype(np.float32)  # (N, 2, H, W)
    ab[0, :, 0, 0] = [1000.0, -1000.0]  # far from every bin: no 0 / 0
    enc = C.soft_encode(xp.asarray(ab), bins, k=5, sigma=5.0, channel_axis=1)
    assert enc.shape == (2, len(bins), 6, 5) and enc.dtype == np.float32
    assert enc.flags.c_contiguous
    enc = _np(enc)
    np.testing.assert_allclose(enc.sum(axis=1), 1.0, atol=1e-6)
    assert np.all((enc > 0).sum(axis=1) <= 5) and np.all((enc > 0).sum(axis=1) >= 1)
    nearest = _np(C.nearest_bin(xp.asarray(ab), bins, channel_axis=1))
    np.testing.assert_array_equal(enc.argmax(axis=1), nearest)
    hwc = _np(C.soft_encode(xp.asarray(np.moveaxis(ab, 1, -1)), bins))
    np.testing.assert_allclose(np.moveaxis(hwc, -1, 1), enc)
    # a pixel on a bin centre puts most of its mass there; k = 1 is one-hot
    on_centre = _np(C.soft_encode(xp.asarray(bins[:7]), bins, k=1))
    np.testing.assert_array_equal(on_centre, np.eye(len(bins), dtype=np.float32)[:7])


def test_soft_encode_in_chunks_equals_per_pixel(xp):
    bins = C.ab_bins()
    n = C._pixel_chunk(len(bins)) + 37  # more pixels than one chunk
    ab = np.random.default_rng(6).uniform(-90, 90, (n, 2))
    enc = _np(C.soft_encode(xp.asarray(ab), bins, k=5))
    np.testing.assert_allclose(enc.sum(axis=1), 1.0, atol=1e-12)
    pick = np.r_[0:3, n - 40 : n]  # on both sides of the chunk border
    ref = _ref_soft_encode(ab[pick], bins.astype(np.float64), 5, 5.0)
    np.testing.assert_allclose(enc[pick], ref, rtol=1e-9, atol=1e-12)


def test_soft_encode_rejects_bad_arguments():
    with pytest.raises(ValueError, match="2 ab channels on axis 1"):
        C.soft_encode(np.zeros((1, 3, 4, 4)), channel_axis=1)
    with pytest.raises(ValueError, match="k must be in 1..4"):
        C.soft_encode(np.zeros((4, 2)), np.zeros((4, 2)), k=5)


def test_nearest_bin_matches_loop_reference(xp):
    bins = _small_bins()
    ab = np.random.default_rng(7).uniform(-40, 40, (5, 6, 2)).astype(np.float32)
    got = _np(C.nearest_bin(xp.asarray(ab), bins))
    assert got.shape == (5, 6) and got.dtype == np.int64
    for idx in np.ndindex(5, 6):
        d2 = [float(((ab[idx] - c) ** 2).sum()) for c in bins]
        assert got[idx] == int(np.argmin(d2))


@pytest.mark.gpu
def test_bins_and_prior_on_the_other_device_are_moved_to_the_datas():
    """ab_bins' docstring promises that functions taking bins move them to the data's device:
    CuPy bins with NumPy data raised CuPy's "implicit conversion" TypeError instead (so did
    a CuPy prior in rebalanced_pixel_weights)."""
    if not backend.cuda_available():
        pytest.skip("no CuPy/GPU")
    cp = backend.cupy()
    ab = np.random.default_rng(3).uniform(-60, 60, (2, 2, 4, 5)).astype(np.float32)
    bins, prior = C.ab_bins(), C.empirical_prior(ab, channel_axis=1)
    for data, other in ((ab, cp.asarray(bins)), (cp.asarray(ab), bins)):
        got = C.nearest_bin(data, other, channel_axis=1)
        assert backend.device_of(got) == backend.device_of(data)
        np.testing.assert_array_equal(_np(got), C.nearest_bin(ab, bins, channel_axis=1))
        probs = C.soft_encode(data, other, channel_axis=1)
        np.testing.assert_allclose(
            _np(C.annealed_mean(probs, other, from_logits=False)),
            C.annealed_mean(_np(probs), bins, from_logits=False),
            rtol=1e-5,
        )
    weights = M.rebalanced_pixel_weights(ab, cp.asarray(prior), channel_axis=1)
    np.testing.assert_allclose(weights, M.rebalanced_pixel_weights(ab, prior, channel_axis=1))


@pytest.mark.parametrize("chunk", [None, 7])
def test_nearest_bin_on_the_grid_equals_the_full_search(xp, chunk, monkeypatch):
    # the usual bins lie on a grid: most pixels are looked up, the rest searched; the two
    # agree everywhere, half-way points (ties: the lower index), NaN and far pixels included
    if chunk is not None:  # looked up a few pixels at a time: the same answer
        monkeypatch.setattr(C, "_LOOKUP_CHUNK", chunk)
    rng = np.random.default_rng(9)
    for bins in (C.ab_bins(), C.ab_bins(rule="cell"), C.ab_bins(grid=7.5)):
        ab = rng.uniform(-140, 140, (3000, 2)).astype(np.float32)
        grid = float(np.diff(np.unique(bins)).min())
        ab[:500] = bins[rng.integers(0, len(bins), 500)] + grid / 2 * rng.choice(
            [-1, 0, 1], (500, 2)
        )
        ab[500:505] = np.nan
        ab[505:510] = [[1e30, 0], [-1e30, 5], [0, np.inf], [500, -500], [-3, 1e12]]
        with np.errstate(over="ignore", invalid="ignore"):  # 1e30 squared in float32
            full = np.argmin(C._sq_dists(ab, np.asarray(bins, np.float32)), axis=1)
            got = _np(C.nearest_bin(xp.asarray(ab), bins))
        np.testing.assert_array_equal(got, full)


def test_nearest_bin_on_the_grid_searches_only_the_undecided_pixels(monkeypatch):
    # the full search costs pixels x bins (a minute for a thousand photos' prior); on the
    # usual grid of bins it is left to the few pixels a lookup cannot decide
    searched = []
    full = C._sq_dists
    monkeypatch.setattr(C, "_sq_dists", lambda x, c: searched.append(len(x)) or full(x, c))
    ab = np.random.default_rng(10).uniform(-30, 30, (100_000, 2)).astype(np.float32)
    C.nearest_bin(ab)
    assert sum(searched) < 0.01 * len(ab)


def test_empirical_prior_matches_loop_reference(xp):
    bins = _small_bins()
    rng = np.random.default_rng(8)
    images = [rng.normal(0, 12, (4, 5, 2)), rng.normal(5, 8, (3, 3, 2))]
    counts = np.zeros(len(bins))
    for image in images:
        for pixel in image.reshape(-1, 2):
            counts[np.argmin([((pixel - c) ** 2).sum() for c in bins])] += 1
    hist = counts / counts.sum()
    smooth = np.array(
        [
            sum(
                hist[r] * math.exp(-((bins[q] - bins[r]) ** 2).sum() / 50.0)
                for r in range(len(bins))
            )
            for q in range(len(bins))
        ]
    )
    prior = _np(C.empirical_prior([xp.asarray(im) for im in images], bins, sigma=5.0))
    assert prior.dtype == np.float32 and prior.shape == (len(bins),)
    np.testing.assert_allclose(prior, smooth / smooth.sum(), rtol=1e-5, atol=1e-7)
    raw = _np(C.empirical_prior([xp.asarray(im) for im in images], bins, sigma=0))
    np.testing.assert_allclose(raw, hist, rtol=1e-6)
    # a generator (evaluate reads a big folder's images one at a time): the same prior
    streamed = C.empirical_prior((xp.asarray(im) for im in images), bins, sigma=5.0)
    np.testing.assert_array_equal(_np(streamed), prior)
    with pytest.raises(ValueError, match="at least one ab array"):
        C.empirical_prior(iter([]), bins)
    # one NCHW batch gives the histogram of its pixels
    batch = np.moveaxis(np.stack([images[0], images[0]]), -1, 1)
    one = _np(C.empirical_prior(xp.asarray(batch), bins, channel_axis=1))
    np.testing.assert_allclose(one, _np(C.empirical_prior(xp.asarray(images[0]), bins)), atol=1e-7)


def test_rebalance_weights_match_the_formula(xp):
    rng = np.random.default_rng(9)
    p = rng.dirichlet(np.ones(40))
    p[3] = 0.0
    p /= p.sum()
    for lam in (0.0, 0.5, 1.0):
        w = _np(C.rebalance_weights(xp.asarray(p), lam=lam))
        assert w.dtype == np.float32 and w.shape == (40,)
        ref = np.array(
            [1 / ((1 - lam) * pq + lam / 40) if (1 - lam) * pq + lam / 40 > 0 else 0.0 for pq in p]
        )
        ref /= sum(pq * wq for pq, wq in zip(p, ref))
        np.testing.assert_allclose(w, ref, rtol=1e-5)
        assert abs(float((p * w).sum()) - 1.0) < 1e-5
    np.testing.assert_allclose(_np(C.rebalance_weights(xp.asarray(p), lam=1.0)), 1.0, rtol=1e-6)
    w = _np(C.rebalance_weights(xp.asarray(p), lam=0.5))
    order = np.argsort(p)
    assert np.all(np.diff(w[order]) <= 1e-6)  # rarer colours weigh more
    assert _np(C.rebalance_weights(xp.asarray(p), lam=0.0))[3] == 0.0
    # the default lambda is the paper's 0.5
    np.testing.assert_array_equal(_np(C.rebalance_weights(xp.asarray(p))), w)
    with pytest.raises(ValueError, match="lam must be in"):
        C.rebalance_weights(p, lam=1.5)


def test_pixel_weights_are_the_weight_of_the_nearest_bin(xp):
    bins = _small_bins()
    w = np.arange(len(bins), dtype=np.float32) + 1
    ab = np.random.default_rng(10).uniform(-35, 35, (2, 2, 3, 3))
    got = _np(C.pixel_weights(xp.asarray(ab), xp.asarray(w), bins, channel_axis=1))
    assert got.shape == (2, 3, 3)
    for n, i, j in np.ndindex(2, 3, 3):
        d2 = ((ab[n, :, i, j] - bins) ** 2).sum(axis=1)
        assert got[n, i, j] == w[np.argmin(d2)]


# ------------------------------------------------------------------------------ decoding


def _ref_annealed_mean(logits, bins, T):
    n, q, h, w = logits.shape
    out = np.zeros((n, 2, h, w))
    for i, y, x in np.ndindex(n, h, w):
        z = logits[i, :, y, x]
        p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        f = p ** (1 / T) / (p ** (1 / T)).sum()
        out[i, :, y, x] = (f[:, None] * bins).sum(axis=0)
    return out


@pytest.mark.parametrize("T", [1.0, 0.38, 0.1])
def test_annealed_mean_matches_loop_reference(xp, T):
    bins = C.ab_bins().astype(np.float64)
    logits = np.random.default_rng(11).normal(0, 2, (2, len(bins), 3, 2))
    ab = C.annealed_mean(xp.asarray(logits), bins, T=T)
    assert ab.shape == (2, 2, 3, 2) and ab.dtype == np.float64
    np.testing.assert_allclose(_np(ab), _ref_annealed_mean(logits, bins, T), rtol=1e-9, atol=1e-9)
    if T == 0.38:  # the paper's temperature is the default
        np.testing.assert_array_equal(_np(C.annealed_mean(xp.asarray(logits), bins)), _np(ab))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    from_probs = C.annealed_mean(xp.asarray(probs), bins, T=T, from_logits=False)
    np.testing.assert_allclose(_np(from_probs), _np(ab), rtol=1e-7, atol=1e-7)


def test_annealed_mean_limits(xp):
    bins = C.ab_bins()
    rng = np.random.default_rng(12)
    logits = rng.normal(0, 1, (1, len(bins), 4, 4)).astype(np.float32)
    logits[0, rng.integers(0, len(bins), 16), np.arange(16) // 4, np.arange(16) % 4] += 8.0
    z = xp.asarray(logits)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    expectation = np.einsum("nqhw,qc->nchw", probs, bins)
    np.testing.assert_allclose(_np(C.annealed_mean(z, bins, T=1.0)), expectation, atol=1e-4)
    mode = _np(C.mode_decode(z, bins))
    np.testing.assert_array_equal(mode, np.moveaxis(bins[logits.argmax(axis=1)], -1, 1))
    np.testing.assert_allclose(_np(C.annealed_mean(z, bins, T=0.02)), mode, atol=0.05)
    np.testing.assert_array_equal(_np(C.annealed_mean(z, bins, T=0)), mode)
    for tiny in (1e-30, 1e-40):  # logits / T overflowed: NaN colours, a black picture
        np.testing.assert_array_equal(_np(C.annealed_mean(z, bins, T=tiny)), mode)
    # lower temperatures give more saturated colours
    chroma = [np.hypot(*_np(C.annealed_mean(z, bins, T=t))[0]).mean() for t in (1.0, 0.38, 0.1)]
    assert chroma[0] < chroma[1] < chroma[2]
    # the class axis may be last
    last = C.annealed_mean(xp.asarray(np.moveaxis(logits, 1, -1)), bins, axis=-1)
    np.testing.assert_allclose(
        np.moveaxis(_np(last), -1, 1), _np(C.annealed_mean(z, bins)), atol=1e-5
    )
    with pytest.raises(ValueError, match=f"expected {len(bins)} classes"):
        C.annealed_mean(z[:, :10], bins)


def test_levels_to_rgb_clips_rather_than_wraps_small_integer_labels():
    for dtype in (np.uint8, np.int64):
        got = C.levels_to_rgb(np.array([0, 1, 2, 3], dtype), step=100)
        np.testing.assert_array_equal(got, [0, 100, 200, 255])  # uint8 gave 44 for 3 * 100
