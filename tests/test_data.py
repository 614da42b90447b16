"""tinycolor.data: image folders with bad files, transforms, the loader, the cache, the embedded
datasets (synthetic scenes, skimage photos) and the CIFAR-10 binary reader."""

from __future__ import annotations

import os
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from skimage import color as skcolor
from skimage import io as skio

from tinycolor import data
from tinycolor.data import cache as cache_mod
from tinycolor.data import folder as folder_mod
from tinycolor.data import transforms as T


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Every test gets its own cache folder, never the user's."""
    monkeypatch.setenv("TINYCOLOR_CACHE", str(tmp_path / "cache"))


def _colour(h, w, seed=0):
    """A smooth, clearly coloured uint8 test image (H, W, 3)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = rng.uniform(0.2, 0.8, 3)
    img = np.stack([base[0] + 0.3 * x, base[1] + 0.3 * y, base[2] - 0.3 * x * y], -1)
    img += rng.uniform(-0.05, 0.05, img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def _save(path, img):
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        skio.imsave(str(path), img, check_contrast=False)


def _write_png16(path, img):
    """A 16-bit RGB PNG written by hand (Pillow cannot write one): IHDR, one IDAT, IEND."""

    def chunk(kind, payload):
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    h, w, _ = img.shape
    rows = b"".join(b"\x00" + img[r].astype(">u2").tobytes() for r in range(h))
    header = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _ref_lab(rgb_float):
    return skcolor.rgb2lab(np.asarray(rgb_float, dtype=np.float64)).astype(np.float32)


# ------------------------------------------------------------------------------- transforms
def test_to_float_rgb_types():
    u8 = np.array([[[0, 128, 255]]], dtype=np.uint8)
    np.testing.assert_allclose(T.to_float_rgb(u8), [[[0, 128 / 255, 1]]], atol=1e-7)
    u16 = np.array([[[0, 32768, 65535]]], dtype=np.uint16)
    out = T.to_float_rgb(u16)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[[0, 32768 / 65535, 1]]], atol=1e-7)
    # RGBA composites onto white: half-transparent black is mid gray, opaque red stays red
    rgba = np.array([[[0, 0, 0, 128], [255, 0, 0, 255]]], dtype=np.uint8)
    np.testing.assert_allclose(T.to_float_rgb(rgba), [[[127 / 255] * 3, [1, 0, 0]]], atol=1e-6)
    assert T.to_float_rgb(np.zeros((4, 5, 2), np.uint8)).shape == (4, 5)  # gray + alpha
    assert T.to_float_rgb(np.zeros((4, 5), np.uint16)).shape == (4, 5)
    np.testing.assert_array_equal(T.to_float_rgb(np.array([[1.2, -1.0]])), [[1.0, 0.0]])
    # 0..255 as floats was clipped to a white image without a word
    with pytest.raises(
        ValueError, match=r"to_float_rgb: expected RGB floats in \[0, 1\], got values up to 255"
    ):
        T.to_float_rgb(np.array([[[0.0, 128.0, 255.0]]]))


def test_is_gray():
    g = np.random.default_rng(0).random((6, 7)).astype(np.float32)
    assert T.is_gray(g)
    assert T.is_gray(np.stack([g, g, g], -1))
    rgb = np.stack([g, g, g], -1)
    rgb[3, 4, 0] += 0.1
    assert not T.is_gray(rgb)
    # the tolerance is 2 levels of 8 bits, at every level: in float32, a spread of exactly
    # 2 levels measured above 2/255 at 10 of the 254 levels, so a gray JPEG's chroma noise
    # made it a colour image or not by the levels it fell on
    v = np.arange(254)
    for spread, gray in ((1, True), (2, True), (3, False)):
        pixels = np.stack([v, v + spread, v], -1).astype(np.uint8)[:, None, None]
        assert [T.is_gray(T.to_float_rgb(px)) for px in pixels] == [gray] * len(v), spread


@pytest.mark.parametrize("seed", range(20))
def test_is_gray_is_the_spread_over_the_channels(seed):
    """is_gray works plane by plane (NumPy is slow over a short last axis): the same answer as
    the plain definition, max - min over the channel axis, for 3 and 4 channels, images that
    are gray but for one pixel, and spreads right at the tolerance."""
    rng = np.random.default_rng(seed)
    h, w, c = int(rng.integers(1, 9)), int(rng.integers(1, 9)), int(rng.choice([3, 4]))
    g = rng.random((h, w, 1)).astype(np.float32)
    img = np.repeat(g, c, axis=-1)
    y, x, ch = rng.integers(0, h), rng.integers(0, w), rng.integers(0, c)
    img[y, x, ch] += rng.choice([0.0, 1e-3, 2 / 255, 3 / 255, rng.random()])
    spread = float((img.max(axis=-1) - img.min(axis=-1)).max())
    want = spread <= T.GRAY_TOLERANCE + T._ROUNDING_SLACK
    assert T.is_gray(img) == want, spread


def test_random_crop_is_a_crop_and_seeded():
    img = np.random.default_rng(1).random((20, 30, 3)).astype(np.float32)
    c1 = T.random_crop(img, 8, np.random.default_rng(5))
    c2 = T.random_crop(img, 8, np.random.default_rng(5))
    assert c1.shape == (8, 8, 3)
    np.testing.assert_array_equal(c1, c2)
    # the crop is a window of the image, and different seeds visit different windows
    corners = set()
    for s in range(30):
        c = T.random_crop(img, (8, 12), np.random.default_rng(s))
        assert c.shape == (8, 12, 3)
        hits = [
            (t, l)
            for t in range(13)
            for l in range(19)
            if np.array_equal(img[t : t + 8, l : l + 12], c)
        ]
        assert len(hits) == 1
        corners.add(hits[0])
    assert len(corners) > 10


def test_random_crop_reaches_every_position_edges_included():
    img = np.arange(10 * 11, dtype=np.float32).reshape(10, 11, 1)  # a pixel's value: 11 t + l
    seen = set()
    for s in range(200):
        corner = int(T.random_crop(img, 8, np.random.default_rng(s))[0, 0, 0])
        seen.add(divmod(corner, 11))
    assert seen == {(t, l) for t in range(3) for l in range(4)}
    np.testing.assert_array_equal(T.random_crop(img, (10, 11), np.random.default_rng(0)), img)


def test_random_zoom_crop_scales_and_reduces_to_a_crop():
    rng = np.random.default_rng(3)
    img = rng.random((40, 60, 3)).astype(np.float32)
    # zoom (1, 1) is random_crop itself, for the same generator state
    np.testing.assert_array_equal(
        T.random_zoom_crop(img, 8, (1, 1), np.random.default_rng(9)),
        T.random_crop(img, 8, np.random.default_rng(9)),
    )
    # zoom 2: a 16x16 window shrunk to 8x8, which keeps a smooth ramp's values in range and
    # doubles its step per pixel
    ramp = np.broadcast_to(np.arange(60, dtype=np.float32)[None, :, None], (40, 60, 3)).copy()
    c = T.random_zoom_crop(ramp, 8, (2, 2), np.random.default_rng(0))
    assert c.shape == (8, 8, 3) and c.dtype == np.float32
    np.testing.assert_allclose(np.diff(c[4, 2:6, 0]), 2.0, atol=0.05)
    # zoom 1/2: a 4x4 window enlarged: steps of half a pixel
    c = T.random_zoom_crop(ramp, 8, (0.5, 0.5), np.random.default_rng(0))
    np.testing.assert_allclose(np.diff(c[4, 2:6, 0]), 0.5, atol=0.05)
    # a range draws several scales; a window larger than the image is held to its short side
    steps = {
        round(float(np.median(np.diff(T.random_zoom_crop(ramp, 8, (0.5, 2), rng)[4, :, 0]))), 1)
        for _ in range(40)
    }
    assert len(steps) > 5 and min(steps) >= 0.4 and max(steps) <= 2.1
    # z is log-uniform: zooming in (z < 1) as often as out (z > 1) over (1/2, 2); uniform
    # z would zoom out twice as often (2/3 of the range lies above 1)
    square = np.broadcast_to(np.arange(64, dtype=np.float32)[None, :, None], (64, 64, 3))
    rng = np.random.default_rng(4)
    steps = np.array(
        [
            np.median(np.diff(T.random_zoom_crop(square, 16, (0.5, 2), rng)[8, :, 0]))
            for _ in range(600)
        ]
    )
    assert abs(np.mean(steps < 0.99) - np.mean(steps > 1.01)) < 0.12
    big = T.random_zoom_crop(ramp, 8, (10, 10), np.random.default_rng(0))
    assert big.shape == (8, 8, 3) and float(np.ptp(big[..., 0])) > 30  # most of the 40 rows
    with pytest.raises(ValueError, match="zoom"):
        T.random_zoom_crop(img, 8, (2, 1), rng)


def test_crop_upsizes_small_images():
    img = np.random.default_rng(2).random((10, 20, 3)).astype(np.float32)
    c = T.random_crop(img, 16, np.random.default_rng(0))
    assert c.shape == (16, 16, 3)
    c = T.center_crop(img, (12, 30))
    assert c.shape == (12, 30, 3)
    # the aspect ratio is kept: a 10x20 ramp grows to 16x32, a step of 20/32 per pixel
    ramp = np.broadcast_to(np.arange(20, dtype=np.float32)[None, :, None], (10, 20, 3))
    c = T.random_crop(ramp, 16, np.random.default_rng(0))
    np.testing.assert_allclose(np.diff(c[8, 2:14, 0]), 20 / 32, atol=1e-4)
    # a constant image stays constant through the upsizing
    const = np.full((5, 7, 3), 0.25, np.float32)
    np.testing.assert_allclose(T.random_crop(const, 9, np.random.default_rng(0)), 0.25, atol=1e-6)


def test_center_crop_and_flip():
    img = np.arange(6 * 8 * 2, dtype=np.float32).reshape(6, 8, 2)
    np.testing.assert_array_equal(T.center_crop(img, (2, 4)), img[2:4, 2:6])
    np.testing.assert_array_equal(T.hflip(img), img[:, ::-1])
    flips = [
        np.array_equal(T.random_hflip(img, np.random.default_rng(s)), img[:, ::-1])
        for s in range(40)
    ]
    assert 5 < sum(flips) < 35
    np.testing.assert_array_equal(T.random_hflip(img, np.random.default_rng(0), p=0.0), img)


def test_resize_shapes_and_values():
    img = np.random.default_rng(3).random((40, 60, 3)).astype(np.float32)
    assert T.resize(img, 20).shape == (20, 30, 3)
    assert T.resize(img.transpose(1, 0, 2), 20).shape == (30, 20, 3)
    assert T.resize(img, (7, 9)).shape == (7, 9, 3)
    assert T.resize(img, 80).shape == (80, 120, 3)
    assert T.resize(img, 20).dtype == np.float32
    # anti-aliasing: a 1-pixel checkerboard shrunk 4x averages to gray, not to an alias
    checker = (np.indices((64, 64)).sum(0) % 2).astype(np.float32)[..., None].repeat(3, -1)
    for side in (16, 20):  # 4x happens to sample between pixels; 3.2x shows the alias
        small = T.resize(checker, side)
        assert abs(float(small.mean()) - 0.5) < 0.02 and float(small.std()) < 0.05
    # Lab ranges are kept (preserve_range)
    lab = np.full((10, 10, 3), [50.0, -30.0, 60.0], np.float32)
    np.testing.assert_allclose(T.resize(lab, 5), lab[:5, :5], atol=1e-4)


def test_transform_classes_compose():
    img = np.random.default_rng(4).random((30, 40, 3)).astype(np.float32)
    pipe = T.Compose([T.Resize(20), T.RandomCrop(16), T.RandomHorizontalFlip()])
    a = pipe(img, np.random.default_rng(9))
    b = pipe(img, np.random.default_rng(9))
    assert a.shape == (16, 16, 3)
    np.testing.assert_array_equal(a, b)
    assert T.CenterCrop(10)(img).shape == (10, 10, 3)
    with pytest.raises(ValueError, match="Generator"):
        T.RandomCrop(8)(img, None)


def test_to_lab_matches_skimage():
    rgb = np.random.default_rng(5).random((9, 11, 3)).astype(np.float32)
    L, ab = T.to_lab(rgb)
    assert L.shape == (1, 9, 11) and ab.shape == (2, 9, 11)
    assert L.dtype == np.float32 and ab.dtype == np.float32
    ref = _ref_lab(rgb)
    np.testing.assert_allclose(L[0], ref[..., 0], atol=1e-3)
    np.testing.assert_allclose(ab.transpose(1, 2, 0), ref[..., 1:], atol=1e-3)
    with pytest.raises(ValueError, match="RGB"):
        T.to_lab(np.zeros((4, 4)))


# ------------------------------------------------------------------------------ image folder
@pytest.fixture
def messy_folder(tmp_path):
    """A folder with good files of every kind, and bad ones."""
    root = tmp_path / "imgs"
    good = {}
    good["a.png"] = _colour(24, 32, 0)
    good["nested/deeper/b.PNG"] = _colour(30, 20, 1)
    good["nested/c.jpg"] = _colour(26, 26, 2)
    good["d.bmp"] = _colour(20, 28, 3)
    good["sub/e.TIF"] = _colour(22, 22, 4)
    for rel, img in good.items():
        _save(root / rel, img)
    u16 = (_colour(20, 24, 5).astype(np.uint16) * 257 + 100).astype(np.uint16)
    _write_png16(root / "sixteen.png", u16)
    _save(root / "sixteen.tif", u16)
    rgba = np.concatenate([_colour(18, 18, 6), np.full((18, 18, 1), 255, np.uint8)], -1)
    rgba[:4, :4, 3] = 0
    _save(root / "alpha.png", rgba)
    from PIL import Image

    Image.fromarray(_colour(16, 20, 10)).convert("CMYK").save(root / "cmyk.tif")  # 4 channels
    gray = _colour(20, 20, 7)[..., 0]
    _save(root / "gray2d.png", gray)
    _save(root / "nested/gray3.png", np.stack([gray] * 3, -1))
    (root / "text.png").write_text("this is not an image")
    _save(tmp_path / "full.png", _colour(40, 40, 8))
    raw = (tmp_path / "full.png").read_bytes()
    (root / "nested" / "truncated.png").write_bytes(raw[: len(raw) // 2])
    (root / "notes.txt").write_text("ignored: not an image extension")
    (root / ".hidden").mkdir()
    _save(root / ".hidden" / "h.png", _colour(10, 10, 9))
    return root, good, u16, rgba


def test_image_folder_skips_and_counts(messy_folder):
    root, good, u16, rgba = messy_folder
    with pytest.warns(UserWarning, match="unreadable") as rec:
        ds = data.ImageFolder(root)
    msg = str(rec[0].message)
    assert "text.png" in msg and "truncated.png" in msg
    expected = sorted(list(good) + ["sixteen.png", "sixteen.tif", "alpha.png", "cmyk.tif"])
    assert sorted(ds.names) == expected
    assert len(ds) == 9
    assert ds.n_gray == 2 and ds.n_unreadable == 2
    assert ds.labels is None and ds.class_names is None
    assert ds.n_found == 13  # the .txt and the hidden folder are not candidates
    for i in range(len(ds)):
        rgb = ds[i]
        assert rgb.dtype == np.float32 and rgb.ndim == 3 and rgb.shape[-1] == 3
        assert 0 <= rgb.min() and rgb.max() <= 1
        lab = ds.lab(i)
        assert lab.shape == rgb.shape and lab.dtype == np.float32
        np.testing.assert_allclose(lab, _ref_lab(rgb), atol=2e-3)
    # 16-bit values are scaled by 65535, not clipped as 8-bit (tifffile keeps all 16 bits;
    # Pillow decodes a 16-bit RGB PNG to 8 bits, so that one is exact to 1/255 only)
    np.testing.assert_allclose(ds[ds.names.index("sixteen.tif")], u16 / 65535.0, atol=1e-6)
    np.testing.assert_allclose(ds[ds.names.index("sixteen.png")], u16 / 65535.0, atol=1.01 / 255)
    # transparent RGBA pixels became white, opaque ones kept their colour
    k = ds.names.index("alpha.png")
    np.testing.assert_allclose(ds[k][:4, :4], 1.0)
    np.testing.assert_allclose(ds[k][5:, 5:], rgba[5:, 5:, :3] / 255.0, atol=1e-6)
    # a CMYK file is converted back to its RGB colours, not read as RGB + alpha
    np.testing.assert_allclose(ds[ds.names.index("cmyk.tif")], _colour(16, 20, 10) / 255.0)
    assert "2 gray, 2 unreadable" in ds.summary()


def test_image_folder_skips_float_files_holding_nan_or_inf(tmp_path):
    """A float TIFF with NaN pixels went into the Lab arrays as NaN: evaluate reported NaN and
    inf for every metric, and training stopped with "try a smaller --lr"; one holding -inf was
    clipped to black without a word. Such a file is unreadable, and said to be."""
    import tifffile

    good = _colour(12, 12, 0) / 255.0
    for name, bad in (("nan.tif", np.nan), ("inf.tif", np.inf), ("neg_inf.tif", -np.inf)):
        img = good.astype(np.float32)
        img[3, 4, 1] = bad
        tifffile.imwrite(tmp_path / name, img, photometric="rgb")
    tifffile.imwrite(tmp_path / "ok.tif", good.astype(np.float32), photometric="rgb")
    with pytest.warns(UserWarning, match="skipped 3 unreadable") as caught:
        ds = data.ImageFolder(tmp_path, cache=False)
    assert ds.names == ["ok.tif"]
    reasons = dict((p.name, why) for p, why in ds.unreadable)
    assert set(reasons) == {"nan.tif", "inf.tif", "neg_inf.tif"}
    assert all("NaN or infinite" in why for why in reasons.values()), reasons
    assert "values up to inf" not in str(caught[0].message)  # not taken for 0..255 floats
    with pytest.raises(ValueError, match="to_float_rgb: .*NaN or infinite"):
        T.to_float_rgb(np.full((2, 2, 3), np.nan))
    with pytest.raises(ValueError, match="ArrayDataset: image 1: .*NaN or infinite"):
        data.ArrayDataset([good, np.full((4, 4, 3), -np.inf)])


def test_image_folder_skips_images_too_thin_to_resize_to_a_short_side(tmp_path):
    """A 1x1000 line (a web page's separator) resized to a short side of 256 became 256x256000:
    one such 3 KB file made a cnn_regression training run take 145 s and 4.9 GB instead of
    seconds (1x4000: out of memory). A file more than 32 times as long as wide is skipped when
    resizing, and the reason says so; without resizing it is kept, as it costs nothing."""
    _save(tmp_path / "photo.png", _colour(12, 16, 0))
    _save(tmp_path / "line.png", _colour(1, 400, 1))
    _save(tmp_path / "tall.png", _colour(330, 10, 2))
    _save(tmp_path / "banner.png", _colour(4, 128, 3))  # 32 times as wide: kept
    with pytest.warns(UserWarning, match="skipped 2 unreadable"):
        ds = data.ImageFolder(tmp_path, size=16, cache=False)
    assert ds.names == ["banner.png", "photo.png"]
    assert ds.lab(0).shape == (16, 512, 3)
    reasons = dict((p.name, why) for p, why in ds.unreadable)
    assert "400x1 pixels, more than 32 times as long as its short side" in reasons["line.png"]
    assert "resized to a short side of 16 it would be 6400x16" in reasons["line.png"]
    assert reasons["tall.png"].startswith("10x330 pixels")
    assert len(data.ImageFolder(tmp_path, cache=False)) == 4


def test_image_folder_resizes_short_side(messy_folder):
    root = messy_folder[0]
    with pytest.warns(UserWarning):
        ds = data.ImageFolder(root, size=16, cache=False)
    for i in range(len(ds)):
        assert min(ds.lab(i).shape[:2]) == 16
        assert ds.lab(i).shape == ds[i].shape
    k = ds.names.index("a.png")  # 24x32 -> 16x21 (rounded), as skimage would
    assert ds[k].shape == (16, 21, 3)


def test_image_folder_subfolder_labels(tmp_path):
    root = tmp_path / "classes"
    _save(root / "zebra" / "1.png", _colour(16, 16, 0))
    _save(root / "zebra" / "deep" / "2.png", _colour(16, 16, 1))
    _save(root / "apple" / "3.jpg", _colour(16, 16, 2))
    _save(root / "apple" / "gray.png", np.full((16, 16), 90, np.uint8))
    _save(root / "empty_class" / "gray.png", np.full((16, 16), 90, np.uint8))
    _save(root / "loose.png", _colour(16, 16, 3))
    with pytest.warns(UserWarning, match="outside any class subfolder"):
        ds = data.ImageFolder(root, labels="subfolders")
    assert ds.class_names == ["apple", "zebra"]
    assert ds.n_unlabelled == 1 and ds.n_gray == 2
    by_name = dict(zip(ds.names, ds.labels.tolist()))
    assert by_name == {"apple/3.jpg": 0, "zebra/1.png": 1, "zebra/deep/2.png": 1}
    assert ds.labels.dtype == np.int64 and ds.num_classes == 2
    with pytest.warns(UserWarning):
        by_dir = data.ImageFolder(root, labels="directories")
    assert by_dir.class_names == ["apple", "zebra", "zebra/deep"]
    assert dict(zip(by_dir.names, by_dir.labels.tolist()))["zebra/deep/2.png"] == 2


def test_image_folder_follows_links_to_folders_once(tmp_path):
    store = tmp_path / "store"
    _save(store / "cats" / "1.png", _colour(16, 16, 0))
    _save(store / "cats" / "2.png", _colour(16, 16, 1))
    _save(store / "dogs" / "3.png", _colour(16, 16, 2))
    root = tmp_path / "classes"
    root.mkdir()
    for name in ("cats", "dogs"):
        (root / name).symlink_to(store / name, target_is_directory=True)
    (root / "loop").symlink_to(root, target_is_directory=True)  # followed, it would never end
    (store / "dogs" / "self").symlink_to(store / "dogs", target_is_directory=True)
    # the links were not entered: "no usable colour image: 0 image file(s) found"
    ds = data.ImageFolder(root, labels="subfolders", cache=False)
    assert ds.class_names == ["cats", "dogs"]
    assert sorted(ds.names) == ["cats/1.png", "cats/2.png", "dogs/3.png"]


def test_image_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.ImageFolder(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no usable colour image: 0 image"):
        data.ImageFolder(empty)
    _save(empty / "g.png", np.full((8, 8), 3, np.uint8))
    (empty / "bad.jpg").write_bytes(b"\xff\xd8garbage")
    with pytest.warns(UserWarning, match="bad.jpg"):
        with pytest.raises(ValueError, match="1 gray, 1 unreadable"):
            data.ImageFolder(empty)
    with pytest.raises(ValueError, match="labels must be"):
        data.ImageFolder(empty, labels="folders")


# ------------------------------------------------------------------------------------- cache
@pytest.mark.filterwarnings("ignore:ImageFolder")
def test_cache_hit_and_invalidation(tmp_path, monkeypatch):
    root = tmp_path / "imgs"
    for k in range(3):
        _save(root / f"{k}.png", _colour(20, 26, k))
    _save(root / "gray.png", np.full((8, 8), 50, np.uint8))
    (root / "bad.png").write_text("nope")
    cache = tmp_path / "mycache"
    with pytest.warns(UserWarning):
        first = data.ImageFolder(root, size=16, cache=cache)
    assert (first.cache_hits, first.cache_misses) == (0, 5)
    labs = [first.lab(i) for i in range(len(first))]

    # the second load decodes nothing: reading any file now fails the test
    calls = []
    real_read = folder_mod._read_rgb  # read_image's decoding, which ImageFolder calls
    monkeypatch.setattr(folder_mod, "_read_rgb", lambda p: calls.append(p) or real_read(p))
    with pytest.warns(UserWarning, match="bad.png"):  # cached unreadable files still reported
        second = data.ImageFolder(root, size=16, cache=cache)
    assert (second.cache_hits, second.cache_misses) == (0 + 5, 0)
    assert calls == []
    assert second.names == first.names and second.n_gray == 1 and second.n_unreadable == 1
    for i in range(len(second)):
        np.testing.assert_array_equal(second.lab(i), labs[i])
    assert not list(cache.rglob("*.tmp"))  # atomic writes leave nothing behind

    # replacing a file's content invalidates just that entry, and the new content is used
    _save(root / "1.png", _colour(20, 26, 99))
    os.utime(root / "1.png", ns=(10**18, 10**18))
    third = data.ImageFolder(root, size=16, cache=cache)
    assert (third.cache_hits, third.cache_misses) == (4, 1)
    assert [Path(p).name for p in calls] == ["1.png"]
    k = third.names.index("1.png")
    assert not np.allclose(third.lab(k), labs[k])
    fresh = data.ImageFolder(root, size=16, cache=False)
    np.testing.assert_array_equal(third.lab(k), fresh.lab(k))

    # touching a file (same bytes, new mtime) invalidates it too; other params miss everything
    os.utime(root / "0.png", ns=(2 * 10**18, 2 * 10**18))
    assert data.ImageFolder(root, size=16, cache=cache).cache_misses == 1
    assert data.ImageFolder(root, size=12, cache=cache).cache_misses == 5


def test_cache_default_location_and_float16(tmp_path, monkeypatch):
    root = tmp_path / "imgs"
    _save(root / "a.png", _colour(12, 12, 0))
    monkeypatch.setenv("TINYCOLOR_CACHE", str(tmp_path / "envcache"))
    assert data.cache_dir() == tmp_path / "envcache"
    ds = data.ImageFolder(root, cache_dtype=np.float16, in_memory=False)
    stored = list((tmp_path / "envcache").rglob("*.npy"))
    assert len(stored) == 1 and np.load(stored[0]).dtype == np.float16
    again = data.ImageFolder(root, cache_dtype=np.float16, in_memory=False)
    assert again.cache_hits == 1
    ref = _ref_lab(ds[0])
    np.testing.assert_allclose(again.lab(0), ref, atol=0.1)
    assert again.lab(0).dtype == np.float32
    # a float32 dataset does not read the float16 entry
    exact = data.ImageFolder(root)
    assert exact.cache_misses == 1
    np.testing.assert_array_equal(exact.lab(0), data.ImageFolder(root, cache=False).lab(0))


def test_the_gray_tolerance_decides_and_is_part_of_the_cache_key(tmp_path):
    root = tmp_path / "imgs"
    tinted = np.full((8, 8, 3), 120, np.uint8)
    tinted[..., 0] += 6  # 6 levels of red: colour by default, gray for a tolerance of 10
    _save(root / "tinted.png", tinted)
    _save(root / "colour.png", _colour(8, 8, 0))
    lenient = data.ImageFolder(root, cache=tmp_path / "c", gray_tolerance=10 / 255)
    assert lenient.names == ["colour.png"] and lenient.n_gray == 1
    strict = data.ImageFolder(root, cache=tmp_path / "c")  # not the cached "gray" note
    assert strict.names == ["colour.png", "tinted.png"] and strict.n_gray == 0


def test_file_key_depends_on_params_and_stat(tmp_path, monkeypatch):
    f = tmp_path / "x.png"
    f.write_bytes(b"abc")
    k = data.file_key(f, {"size": 64})
    assert k == data.file_key(f, {"size": 64})
    assert k != data.file_key(f, {"size": 32})
    with monkeypatch.context() as m:  # a new way of preparing entries stops old ones matching
        m.setattr(cache_mod, "CACHE_VERSION", cache_mod.CACHE_VERSION + 1)
        assert k != data.file_key(f, {"size": 64})
    f.write_bytes(b"abcd")
    assert k != data.file_key(f, {"size": 64})


# -------------------------------------------------------------------------------- the loader
def _marked_dataset(n=10, labels=True):
    """Images whose crops reveal which image they came from: image k has L (nearly) = 5 + 9 k."""
    rng = np.random.default_rng(0)
    imgs = []
    for k in range(n):
        gray = (5 + 9 * k) / 100.0
        img = np.full((20 + k, 24, 3), gray, np.float32)
        img[..., 0] += 0.02 * rng.random((20 + k, 24))  # a little texture, hue stays near gray
        imgs.append(np.clip(img, 0, 1))
    return data.ArrayDataset(imgs, labels=np.arange(n) % 3 if labels else None)


def _ids(batch):
    L = batch.L.mean(axis=(1, 2, 3))
    lightness = [
        float(_ref_lab(np.full((1, 1, 3), (5 + 9 * k) / 100.0))[0, 0, 0]) for k in range(10)
    ]
    return [int(np.argmin([abs(v - m) for m in lightness])) for v in L]


def test_loader_shapes_and_epoch_covers_everything():
    ds = _marked_dataset()
    loader = data.DataLoader(ds, batch_size=4, seed=1, crop=16)
    assert len(loader) == 3
    batches = list(loader)
    assert [b.L.shape for b in batches] == [(4, 1, 16, 16)] * 2 + [(2, 1, 16, 16)]
    assert batches[0].ab.shape == (4, 2, 16, 16)
    assert batches[0].L.dtype == np.float32 and batches[0].ab.dtype == np.float32
    assert batches[0].L.flags.c_contiguous and batches[0].ab.flags.c_contiguous
    ids = sum((_ids(b) for b in batches), [])
    assert sorted(ids) == list(range(10))
    labels = np.concatenate([b.labels for b in batches])
    np.testing.assert_array_equal(labels, np.array(ids) % 3)
    dropped = data.DataLoader(ds, batch_size=4, seed=1, drop_last=True, crop=16)
    assert len(dropped) == 2 and len(list(dropped)) == 2


def test_loader_seeding_and_reshuffling():
    ds = _marked_dataset()
    a = data.DataLoader(ds, batch_size=5, seed=3, crop=12)
    b = data.DataLoader(ds, batch_size=5, seed=3, crop=12)
    a0, b0 = list(a), list(b)
    for x, y in zip(a0, b0):
        np.testing.assert_array_equal(x.L, y.L)
        np.testing.assert_array_equal(x.ab, y.ab)
        np.testing.assert_array_equal(x.labels, y.labels)
    a1 = list(a)  # the next epoch: new crops (and usually a new order)
    assert not all(np.array_equal(x.L, y.L) for x, y in zip(a0, a1))
    orders = {tuple(sum((_ids(x) for x in a), [])) for _ in range(4)}
    assert len(orders) > 1
    a.set_epoch(0)
    again = list(a)
    for x, y in zip(a0, again):
        np.testing.assert_array_equal(x.L, y.L)
    c = list(data.DataLoader(ds, batch_size=5, seed=4, crop=12))
    assert not all(np.array_equal(x.L, y.L) for x, y in zip(a0, c))


def test_loader_draws_new_crops_each_epoch():
    img = np.random.default_rng(0).random((40, 40, 3)).astype(np.float32)
    ds = data.ArrayDataset([img])
    loader = data.DataLoader(ds, batch_size=1, seed=0, crop=8, flip=False)
    lab = ds.lab(0)
    seen = set()
    for _ in range(6):
        (batch,) = list(loader)
        crop = np.concatenate([batch.L[0], batch.ab[0]]).transpose(1, 2, 0)
        pos = [
            (t, l)
            for t in range(33)
            for l in range(33)
            if np.array_equal(lab[t : t + 8, l : l + 8], crop)
        ]
        assert len(pos) == 1
        seen.add(pos[0])
    assert len(seen) >= 5
    assert batch.labels is None


def test_loader_flips_about_half_the_crops_left_right():
    img = np.broadcast_to(np.linspace(0.1, 0.9, 12, dtype=np.float32)[None, :, None], (6, 12, 3))
    ds = data.ArrayDataset([np.ascontiguousarray(img * [1.0, 0.6, 0.3])])
    L = ds.lab(0)[..., 0]
    for flip, want in ((True, {"as is", "mirrored"}), (False, {"as is"})):
        loader = data.DataLoader(ds, batch_size=1, crop=None, flip=flip)
        seen = []
        for _ in range(20):
            (batch,) = list(loader)
            seen.append("as is" if np.array_equal(batch.L[0, 0], L) else "mirrored")
            if seen[-1] == "mirrored":
                np.testing.assert_array_equal(batch.L[0, 0], L[:, ::-1])
        assert set(seen) == want


def test_loader_no_shuffle_center_crop_and_errors():
    ds = _marked_dataset(labels=False)
    loader = data.DataLoader(
        ds, batch_size=10, shuffle=False, crop=20, random_crop=False, flip=False
    )
    (batch,) = list(loader)
    assert _ids(batch) == list(range(10))
    np.testing.assert_array_equal(batch.L[3, 0], ds.lab(3)[1:21, 2:22, 0])
    with pytest.raises(ValueError, match="different sizes"):
        list(data.DataLoader(ds, batch_size=3, crop=None))
    with pytest.raises(ValueError, match="batch_size"):
        data.DataLoader(ds, batch_size=0)


# ------------------------------------------------------------------------- embedded datasets
def test_synthetic_scenes_deterministic_and_balanced():
    a = data.synthetic_scenes(12, size=32, seed=7)
    b = data.synthetic_scenes(12, size=32, seed=7)
    c = data.synthetic_scenes(12, size=32, seed=8)
    assert a.class_names == ["beach", "sunset", "forest"]
    imgs_a = np.stack([a[i] for i in range(len(a))])
    imgs_b = np.stack([b[i] for i in range(len(b))])
    np.testing.assert_array_equal(imgs_a, imgs_b)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert [n.split("_")[0] for n in a.names] == [a.class_names[c] for c in a.labels]
    assert not np.allclose(imgs_a, np.stack([c[i] for i in range(len(c))]))
    assert imgs_a.shape == (12, 32, 32, 3) and imgs_a.dtype == np.float32
    assert imgs_a.min() >= 0 and imgs_a.max() <= 1
    # a prefix of a larger set is the smaller set
    imgs, labels = data.render_scenes(5, 32, seed=7)
    np.testing.assert_array_equal(imgs, imgs_a[:5])
    np.testing.assert_array_equal(labels, a.labels[:5])
    for n in (1, 2, 3, 7, 50):
        counts = np.bincount(data.render_scenes(n, 8, seed=n)[1], minlength=3)
        assert counts.sum() == n and counts.max() - counts.min() <= 1
    # not always in the same class order
    assert len({tuple(a.labels[k : k + 3]) for k in range(0, 12, 3)}) > 1


def test_synthetic_scenes_look_like_their_class():
    imgs, labels = data.render_scenes(30, 48, seed=0)
    for img, lab in zip(imgs, labels):
        top, bottom = img[:10].mean((0, 1)), img[-10:].mean((0, 1))
        kind = data.SCENE_CLASSES[lab]
        if kind == "beach":  # blue sky above, sand (red > blue) below
            assert top[2] > top[0] + 0.2 and bottom[0] > bottom[2] + 0.1
        elif kind == "sunset":  # a warm band at the horizon, darker sky on top
            rows = img.mean(1)
            warm = rows[:, 0] - rows[:, 2]
            assert warm.max() > 0.4 and top.mean() < rows[warm.argmax()].mean()
        else:  # green ground
            assert bottom[1] > bottom[0] + 0.1 and bottom[1] > bottom[2] + 0.1


def test_skimage_photos_offline():
    ds = data.skimage_photos()
    assert len(ds) >= 4 and "astronaut" in ds.names and ds.labels is None
    for i in range(len(ds)):
        img = ds[i]
        assert img.ndim == 3 and img.shape[-1] == 3 and img.dtype == np.float32
        assert not T.is_gray(img)
    small = data.skimage_photos(names=("coffee",), size=40)
    assert small[0].shape == (40, 60, 3)
    assert small.lab(0).shape == (40, 60, 3)
    with pytest.warns(RuntimeWarning, match="nonexistent"):
        part = data.skimage_photos(names=("chelsea", "nonexistent"))
    assert part.names == ["chelsea"]


# ---------------------------------------------------------------------------------- CIFAR-10
def _write_cifar_by_hand(path, images, labels):
    """The documented layout, written record by record: label, then R, G, B planes."""
    with open(path, "wb") as f:
        for img, lab in zip(images, labels):
            f.write(bytes([int(lab)]))
            for ch in range(3):
                f.write(img[:, :, ch].tobytes())


def test_cifar_binary_reader(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (7, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, 7)
    _write_cifar_by_hand(tmp_path / "data_batch_1.bin", imgs, labels)
    got, got_labels = data.read_cifar10_binary(tmp_path / "data_batch_1.bin")
    assert got.shape == (7, 32, 32, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got, imgs / 255.0, atol=1e-7)
    np.testing.assert_array_equal(got_labels, labels)
    raw, _ = data.read_cifar10_binary(tmp_path / "data_batch_1.bin", dtype=np.uint8)
    np.testing.assert_array_equal(raw, imgs)
    # a truncated file names itself and the record size
    (tmp_path / "bad.bin").write_bytes((tmp_path / "data_batch_1.bin").read_bytes()[:-5])
    with pytest.raises(ValueError, match=r"bad\.bin.*3073"):
        data.read_cifar10_binary(tmp_path / "bad.bin")
    (tmp_path / "labels.bin").write_bytes(bytes([12]) + bytes(3072))
    with pytest.raises(ValueError, match="label 12"):
        data.read_cifar10_binary(tmp_path / "labels.bin")


def test_cifar_folder_and_dataset(tmp_path):
    rng = np.random.default_rng(1)
    root = tmp_path / "cifar" / "cifar-10-batches-bin"
    root.mkdir(parents=True)
    parts = []
    for k, n in ((1, 4), (2, 3)):
        imgs = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, n)
        _write_cifar_by_hand(root / f"data_batch_{k}.bin", imgs, labels)
        parts.append((imgs, labels))
    test_imgs = rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    _write_cifar_by_hand(root / "test_batch.bin", test_imgs, [3, 9])
    images, labels, names = data.load_cifar10(tmp_path / "cifar")
    np.testing.assert_allclose(images, np.concatenate([p[0] for p in parts]) / 255.0, atol=1e-7)
    np.testing.assert_array_equal(labels, np.concatenate([p[1] for p in parts]))
    assert names == data.CIFAR10_CLASSES
    (root / "batches.meta.txt").write_text("\n".join(f"class{k}" for k in range(10)) + "\n\n")
    ds = data.load_dataset(tmp_path / "cifar", train=False)
    assert isinstance(ds, data.CIFAR10) and len(ds) == 2
    assert ds.class_names[3] == "class3" and ds.labels.tolist() == [3, 9]
    np.testing.assert_allclose(ds[1], test_imgs[1] / 255.0, atol=1e-7)
    (batch,) = list(data.DataLoader(ds, batch_size=2, crop=32, flip=False, shuffle=False))
    assert batch.L.shape == (2, 1, 32, 32) and batch.labels.tolist() == [3, 9]
    with pytest.raises(FileNotFoundError, match="binary version"):
        data.load_cifar10(tmp_path)


def test_load_dataset_dispatch(tmp_path):
    assert data.load_dataset().names[0] == "astronaut"
    scenes = data.load_dataset(labels=True, n_synthetic=6, size=16)
    assert isinstance(scenes, data.SyntheticScenes) and scenes[0].shape == (16, 16, 3)
    _save(tmp_path / "f" / "cls" / "a.png", _colour(12, 12))
    folder = data.load_dataset(tmp_path / "f", labels=True)
    assert isinstance(folder, data.ImageFolder) and folder.class_names == ["cls"]
    with pytest.raises(FileNotFoundError, match="neither a folder"):
        data.load_dataset(tmp_path / "missing")
    train, val = data.random_split(scenes, (0.5, 0.5), seed=0)
    assert sorted(train.indices.tolist() + val.indices.tolist()) == list(range(6))
    np.testing.assert_array_equal(val.labels, scenes.labels[val.indices])


@pytest.mark.parametrize("kind", ["folder", "skimage", "synthetic"])
def test_load_dataset_not_in_memory_keeps_no_image(tmp_path, kind):
    """in_memory=False (evaluate's one pass over a folder of any size): each image's Lab is
    read again (a folder's from its cache) or converted again when asked for, never kept;
    by default the dataset keeps it and gives the same array back."""
    if kind == "folder":
        for k in range(2):
            _save(tmp_path / "f" / f"{k}.png", _colour(12, 16, k))
    where = {"folder": tmp_path / "f", "skimage": "skimage", "synthetic": "synthetic"}[kind]
    kept = data.load_dataset(where, size=16, n_synthetic=3)
    streamed = data.load_dataset(where, size=16, n_synthetic=3, in_memory=False)
    assert kept.lab(1) is kept.lab(1)
    assert streamed.lab(1) is not streamed.lab(1)
    np.testing.assert_array_equal(streamed.lab(1), kept.lab(1))


def test_array_dataset_refuses_0_to_255_floats_and_non_integer_labels():
    imgs = np.random.default_rng(0).random((4, 8, 8, 3))
    # 0..255 as floats: every image was clipped to white on access
    with pytest.raises(ValueError, match=r"ArrayDataset: expected RGB floats in \[0, 1\]"):
        data.ArrayDataset(imgs * 255)
    with pytest.raises(ValueError, match=r"ArrayDataset: image 1: expected RGB floats"):
        data.ArrayDataset([imgs[0], imgs[1] * 255])
    assert len(data.ArrayDataset((imgs * 255).astype(np.uint8))) == 4  # uint8 is scaled
    # labels 0.0, 0.33, 0.67, 1.0 became classes 0, 0, 0, 1
    with pytest.raises(ValueError, match="labels must be class indices"):
        data.ArrayDataset(imgs, labels=np.linspace(0, 1, 4))
    with pytest.raises(ValueError, match=r"labels must be class indices.*\[-1, 0, 1\]"):
        data.ArrayDataset(imgs, labels=[-1, 0, 1, 2])
    assert data.ArrayDataset(imgs, labels=np.array([0, 2, 1, 2], np.uint8)).class_names == [
        "0",
        "1",
        "2",
    ]


def test_transform_and_scene_arguments_are_checked_when_made():
    with pytest.raises(ValueError, match="Resize size: expected positive sizes, got -3"):
        data.Resize(-3)  # was accepted, to fail at the first image
    with pytest.raises(ValueError, match="SyntheticScenes: n must be a positive number"):
        data.SyntheticScenes(0)  # was an empty dataset
    assert data.Resize(np.int64(8)).size == 8 and data.Resize((4, 6)).size == (4, 6)


def test_a_cache_that_cannot_be_written_is_a_warning_not_a_data_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = data.ArrayCache(blocker)  # TINYCOLOR_CACHE set to a file, say
    with pytest.warns(UserWarning, match="cannot be written.*going on without it"):
        cache.save_array("ab" * 32, np.zeros(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once: the next writes are skipped quietly
        cache.save_note("cd" * 32, {"gray": True})
    assert cache.load_array("ab" * 32) is None
    _save(tmp_path / "photos" / "a.png", _colour(16, 16, 0))
    _save(tmp_path / "photos" / "b.png", _colour(16, 16, 1))
    with pytest.warns(UserWarning, match="cannot be written"):  # was "--data ...: [Errno 20]"
        ds = data.ImageFolder(tmp_path / "photos", cache=blocker)
    assert len(ds) == 2 and ds[0].shape == (16, 16, 3)


@pytest.mark.parametrize("in_memory", [True, False])
def test_a_damaged_cache_entry_is_a_miss_and_is_written_again(tmp_path, in_memory):
    _save(tmp_path / "img" / "a.png", _colour(6, 8, 0))
    want = data.ImageFolder(tmp_path / "img", cache=tmp_path / "c").lab(0)
    (entry,) = (tmp_path / "c").rglob("*.npy")
    entry.write_bytes(b"")  # what a power cut can leave: EOFError, or 'can no longer be read'
    ds = data.ImageFolder(tmp_path / "img", cache=tmp_path / "c", in_memory=in_memory)
    np.testing.assert_array_equal(ds.lab(0), want)
    assert ds.cache_misses == 1 and entry.stat().st_size > 0


def test_a_file_replaced_with_its_old_size_and_time_is_read_again(tmp_path):
    path = tmp_path / "img" / "a.png"
    a = _colour(8, 8, 0)
    _save(path, a)
    st = path.stat()
    data.ImageFolder(tmp_path / "img", cache=tmp_path / "c")
    _save(path, a[::-1])  # the same size on disk, and the old mtime put back (cp -p, rsync -a)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    ds = data.ImageFolder(tmp_path / "img", cache=tmp_path / "c")
    np.testing.assert_allclose(ds.lab(0), T.rgb_to_lab_hwc(ds[0]), atol=1e-4)  # not stale
    assert ds.cache_misses == 1


def test_synthetic_scenes_of_tall_narrow_sizes():
    for size in [(64, 30), (64, 5), (5, 64)]:  # the sun's position had no room: ValueError
        scenes = data.synthetic_scenes(3, size=size)
        assert scenes[0].shape == (*size, 3) and scenes[1].shape == (*size, 3)
    a, b = data.synthetic_scenes(6, size=32), data.synthetic_scenes(6, size=32)
    np.testing.assert_array_equal(a[1], b[1])


def test_random_split_rounds_down_exactly():
    ds = data.ArrayDataset(np.zeros((100, 2, 2, 3), np.float32))
    assert [len(s) for s in data.random_split(ds, (0.71, 0.29))] == [71, 29]  # was [72, 28]
    # the remainder of the rounding goes to the first subset
    assert [len(s) for s in data.random_split(ds, (0.335, 0.335, 0.33))] == [34, 33, 33]


def test_image_folder_takes_a_numpy_integer_size(tmp_path):
    """size=np.int64(16) (a size computed with NumPy) failed with "'numpy.int64' object is
    not iterable" when the cache was on; resize itself takes one."""
    _save(tmp_path / "a.png", _colour(24, 32, 0))
    ds = data.ImageFolder(tmp_path, size=np.int64(16), cache=tmp_path / "cache")
    assert ds.lab(0).shape == (16, 21, 3)


def test_a_size_given_as_a_string_or_a_float_is_refused_by_name(tmp_path):
    """A size given as the string "64" is iterable, so it was read as (6, 4): resize, the
    crops and ImageFolder made 6x4 images (cached so); 64.0 failed with "'float' object is not
    iterable"."""
    _save(tmp_path / "a.png", _colour(24, 32, 0))
    img = np.zeros((24, 32, 3), np.float32)
    for bad in ("64", b"64", 64.0, (16, "x"), (16.0, 16.0), True):
        with pytest.raises(ValueError, match=r"resize size: expected an int or \(height"):
            T.resize(img, bad)
        with pytest.raises(ValueError, match="random_crop size"):
            T.random_crop(img, bad, np.random.default_rng(0))
        with pytest.raises(ValueError, match="ImageFolder size"):
            data.ImageFolder(tmp_path, size=bad, cache=False)
        with pytest.raises(ValueError, match="ArrayDataset size"):
            data.ArrayDataset(img[None], size=bad)
    with pytest.raises(ValueError, match="positive short side"):
        data.ImageFolder(tmp_path, size=0, cache=False)
    assert data.ImageFolder(tmp_path, size=[16, 20], cache=False).lab(0).shape == (16, 20, 3)


class _Terminal:
    """A stderr that says it is a terminal, for tqdm's rule (bars on terminals only)."""

    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, s):
        self.text += s

    def flush(self):
        pass


def test_image_folder_shows_a_bar_while_reading_on_a_terminal_unless_quiet(tmp_path, monkeypatch):
    """A first read of a big folder takes minutes: a bar on a terminal, none inside
    ``progress_bars(False)`` (a command's --quiet), none where stderr is not a terminal."""
    rng = np.random.default_rng(0)
    for k in range(3):
        skio.imsave(tmp_path / f"p{k}.png", rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
    term = _Terminal()
    monkeypatch.setattr("sys.stderr", term)
    data.ImageFolder(tmp_path, cache=False)
    assert f"reading {tmp_path}" in term.text and "0/3" in term.text
    term.text = ""
    with data.progress_bars(False):
        data.ImageFolder(tmp_path, cache=False)
    assert term.text == ""
