"""tinycolor.imageio: any image file in, (H, W, 3) RGB out; PNGs out; clear errors."""

from __future__ import annotations

import os
import struct
import zlib

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

import tinycolor.imageio
from tinycolor.imageio import ImageReadError, is_grayscale, read_image, to_uint8, write_png


def _png16(path, a: np.ndarray) -> None:
    """A 16-bit PNG written by hand (Pillow cannot write 16-bit colour): the format is
    signature, IHDR, zlib-compressed rows each prefixed by filter byte 0, IEND."""
    h, w = a.shape[:2]
    channels = 1 if a.ndim == 2 else a.shape[2]
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    raw = b"".join(b"\x00" + a[i].astype(">u2").tobytes() for i in range(h))

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", w, h, 16, colour_type, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)))
        f.write(chunk(b"IEND", b""))


@pytest.fixture
def rgb8():
    return np.random.default_rng(1).integers(0, 256, (7, 9, 3), dtype=np.uint8)


def test_rgb8_png_round_trip(tmp_path, rgb8):
    path = write_png(tmp_path / "a.png", rgb8)
    got = read_image(path)
    assert got.shape == (7, 9, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got, rgb8 / 255.0, atol=1e-6)
    np.testing.assert_array_equal(read_image(path, dtype="uint8"), rgb8)


def test_gray8_becomes_three_equal_channels(tmp_path, rgb8):
    gray = rgb8[..., 0]
    iio.imwrite(tmp_path / "g.png", gray)
    got = read_image(tmp_path / "g.png", dtype="uint8")
    assert got.shape == (7, 9, 3)
    for c in range(3):
        np.testing.assert_array_equal(got[..., c], gray)
    assert is_grayscale(got) and not is_grayscale(rgb8)


def test_is_grayscale_allows_one_level_at_every_level():
    """One 8-bit level of spread is gray wherever it falls (in float32, (v + 1) / 255 - v / 255
    measured above 1 / 255 at 6 of the 255 levels), two are not; alpha is not a colour."""
    v = np.arange(254)
    for spread, gray in ((1, True), (2, False)):
        pixels = np.stack([v, v + spread, v], -1).astype(np.uint8)[:, None, None]
        assert [is_grayscale(px) for px in pixels] == [gray] * len(v), spread
    rgba = np.full((2, 2, 4), 100, np.uint8)
    rgba[..., 3] = 7
    assert is_grayscale(rgba)


def test_gray16_png_keeps_full_precision(tmp_path):
    a = np.random.default_rng(2).integers(0, 65536, (6, 5), dtype=np.uint16)
    iio.imwrite(tmp_path / "g16.png", a)
    got = read_image(tmp_path / "g16.png")
    np.testing.assert_allclose(got[..., 1], a / 65535.0, atol=1e-6)


def test_rgb16_png_reads_to_within_8_bit_precision(tmp_path):
    a = np.random.default_rng(3).integers(0, 65536, (6, 5, 3), dtype=np.uint16)
    _png16(tmp_path / "rgb16.png", a)
    got = read_image(tmp_path / "rgb16.png")
    assert got.shape == (6, 5, 3)
    np.testing.assert_allclose(got, a / 65535.0, atol=1.0 / 255 + 1e-6)


def test_rgba16_png_is_composited(tmp_path):
    a = np.full((2, 3, 4), 65535, dtype=np.uint16)
    a[0, 0] = (0, 0, 0, 0)  # transparent black -> white
    _png16(tmp_path / "rgba16.png", a)
    got = read_image(tmp_path / "rgba16.png")
    np.testing.assert_allclose(got, 1.0, atol=1.0 / 255)


def test_rgb16_tiff_is_exact(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    a = np.random.default_rng(4).integers(0, 65536, (6, 5, 3), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "a.tif", a)
    np.testing.assert_allclose(read_image(tmp_path / "a.tif"), a / 65535.0, atol=1e-6)


def test_float_tiffs_in_0_1_are_read_and_0_255_ones_are_refused(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    from tinycolor import data

    a = np.random.default_rng(5).random((6, 5, 3)).astype(np.float32)
    tifffile.imwrite(tmp_path / "unit.tif", a, photometric="rgb")
    tifffile.imwrite(tmp_path / "bytes.tif", a * 255, photometric="rgb")  # was clipped: white
    np.testing.assert_array_equal(read_image(tmp_path / "unit.tif"), a)
    np.testing.assert_array_equal(data.read_image(tmp_path / "unit.tif"), a)
    for reader in (read_image, data.read_image):
        with pytest.raises(
            ImageReadError,
            match=r"bytes.tif: expected RGB floats in \[0, 1\], got values up to 2\d\d.*8-bit",
        ):
            reader(tmp_path / "bytes.tif")
    with pytest.warns(UserWarning, match="bytes.tif"):
        folder = data.ImageFolder(tmp_path, cache=False)
    assert folder.names == ["unit.tif"] and folder.n_unreadable == 1


def test_float_files_beyond_0_1_are_read_clipped_and_said_so(tmp_path):
    """A float TIFF holding values beyond [0, 1] (a linear HDR render, data in [-1, 1]) was
    clipped without a word. It still is clipped (a photo's values lie in [0, 1]), but said
    once a file, naming it and the range it held: by the commands' reader, the dataset's,
    once for a whole folder (in train's and evaluate's voice); an overshoot of under half an
    8-bit level (resampling's) is clipped silently."""
    import warnings

    tifffile = pytest.importorskip("tifffile")
    from tinycolor import data
    from tinycolor.evaluate import open_dataset
    from tinycolor.imageio import ClippedPixelsWarning

    a = np.random.default_rng(8).random((6, 5, 3)).astype(np.float32)
    a[0, 0] = (0.0, 1.0, 0.5)  # hdr.tif holds -0.2 to 1.2
    tifffile.imwrite(tmp_path / "hdr.tif", a * 1.4 - 0.2, photometric="rgb")
    tifffile.imwrite(tmp_path / "near.tif", a * 1.001 - 0.0005, photometric="rgb")
    tifffile.imwrite(tmp_path / "unit.tif", a, photometric="rgb")
    want = np.clip(a * 1.4 - 0.2, 0, 1)
    for reader in (read_image, data.read_image):
        with pytest.warns(ClippedPixelsWarning) as said:
            np.testing.assert_array_equal(reader(tmp_path / "hdr.tif"), want)
        assert len(said) == 1
        assert str(said[0].message) == (
            f"{tmp_path / 'hdr.tif'}: float pixel values from -0.2 to 1.2, read clipped to [0, 1]"
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            reader(tmp_path / "near.tif")
            reader(tmp_path / "unit.tif")
    with pytest.warns(ClippedPixelsWarning) as said:
        folder = data.ImageFolder(tmp_path, cache=False)
    assert [p.name for p, _ in folder.clipped] == ["hdr.tif"] and len(folder) == 3
    assert len(said) == 1 and "1 float file(s)" in str(said[0].message)
    assert "clipped to it: hdr.tif (-0.2 to 1.2)" in str(said[0].message)
    with pytest.warns(ClippedPixelsWarning, match="hdr.tif"):  # evaluate hides the others
        open_dataset(str(tmp_path), 8)


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_signed_files_scale_by_their_range_and_negative_ones_are_refused(tmp_path, dtype):
    """A signed 8- or 16-bit file (a TIFF with SampleFormat 2) was divided by 255 or 65535,
    as an unsigned one: its brightest value, 127 or 32767, read as half gray. It scales by
    its own range now, as skimage.util.img_as_float does, in every reader (the commands',
    the folder datasets' of train and evaluate); one holding negative values (no image has
    them) was read with them as black, without a word, and is now refused in one line that
    names the file, its type and what is accepted."""
    tifffile = pytest.importorskip("tifffile")
    from skimage.util import img_as_float

    from tinycolor import data

    top = np.iinfo(dtype).max
    a = (np.random.default_rng(7).random((6, 5, 3)) * top).astype(dtype)
    a[0, 0] = (top, 0, top // 2)
    tifffile.imwrite(tmp_path / "signed.tif", a, photometric="rgb")
    want = img_as_float(a).astype(np.float32)
    np.testing.assert_allclose(read_image(tmp_path / "signed.tif"), want, rtol=1e-6)
    np.testing.assert_allclose(data.read_image(tmp_path / "signed.tif"), want, rtol=1e-6)
    assert read_image(tmp_path / "signed.tif")[0, 0, 0] == 1.0  # was 0.5
    a[2, 3, 1] = -5
    tifffile.imwrite(tmp_path / "negative.tif", a, photometric="rgb")
    for reader in (read_image, data.read_image):
        with pytest.raises(ImageReadError) as err:
            reader(tmp_path / "negative.tif")
        message = str(err.value)
        assert message.startswith(f"{tmp_path / 'negative.tif'}: negative pixel values")
        assert f"({np.dtype(dtype).name}, down to -5)" in message
        assert "expected unsigned 8- or 16-bit integers, or floats in [0, 1]" in message
        assert "\n" not in message
    with pytest.warns(UserWarning, match="negative.tif.*down to -5"):
        folder = data.ImageFolder(tmp_path, cache=False)
    assert folder.names == ["signed.tif"] and folder.n_unreadable == 1


@pytest.mark.parametrize("dtype", [np.uint32, np.int32, np.int16, np.int8])
def test_the_dataset_reader_scales_integer_files_as_the_commands_do(tmp_path, dtype):
    """train/evaluate --data divided a 32-bit file holding 16-bit values by 2^32 - 1: the
    photo read as black and was skipped as gray, while colorize showed it in colour; signed
    8- and 16-bit files came out twice as bright as colorize read them."""
    tifffile = pytest.importorskip("tifffile")
    from tinycolor import data

    top = 65535 if np.dtype(dtype).itemsize > 2 else np.iinfo(dtype).max
    a = (np.random.default_rng(6).random((6, 5, 3)) * top).astype(dtype)
    tifffile.imwrite(tmp_path / "wide.tif", a, photometric="rgb")
    np.testing.assert_array_equal(
        data.read_image(tmp_path / "wide.tif"), read_image(tmp_path / "wide.tif")
    )
    folder = data.ImageFolder(tmp_path, cache=False)
    assert folder.names == ["wide.tif"] and folder.n_gray == 0


def test_rgba_alpha_is_composited_over_white(tmp_path):
    a = np.zeros((1, 3, 4), dtype=np.uint8)
    a[0, 0] = (200, 100, 0, 255)  # opaque: the colour itself
    a[0, 1] = (200, 100, 0, 0)  # transparent: white
    a[0, 2] = (0, 0, 0, 51)  # 20 % black over white: 0.8
    iio.imwrite(tmp_path / "a.png", a)
    got = read_image(tmp_path / "a.png")
    np.testing.assert_allclose(got[0, 0], np.array([200, 100, 0]) / 255, atol=1e-6)
    np.testing.assert_allclose(got[0, 1], 1.0, atol=1e-6)
    np.testing.assert_allclose(got[0, 2], 1 - 51 / 255, atol=1e-6)


def test_gray_alpha_and_palette_images(tmp_path, rgb8):
    la = np.stack([rgb8[..., 0], np.full((7, 9), 255, np.uint8)], -1)
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    np.testing.assert_array_equal(read_image(tmp_path / "la.png", "uint8")[..., 2], rgb8[..., 0])
    Image.fromarray(rgb8).convert("P").save(tmp_path / "p.png")
    assert read_image(tmp_path / "p.png").shape == (7, 9, 3)


def test_jpeg_and_skimage_sample(tmp_path, rgb8):
    iio.imwrite(tmp_path / "a.jpg", np.kron(rgb8, np.ones((4, 4, 1), np.uint8)), quality=95)
    assert read_image(tmp_path / "a.jpg").shape == (28, 36, 3)
    coffee = read_image("skimage:coffee", dtype="uint8")
    assert coffee.shape == (400, 600, 3) and coffee.dtype == np.uint8


def _smooth_rgb(h=24, w=40):
    """Smooth colour ramps (JPEG keeps them within a few levels), one corner marked red."""
    y, x = np.mgrid[0:h, 0:w]
    a = np.stack([40 + 4 * x, 60 + 5 * y, 200 - 3 * x], axis=-1).astype(np.uint8)
    a[:6, :6] = (250, 10, 10)
    return a


def test_a_tiff_of_separate_colour_planes_reads_as_one_colour_image(tmp_path):
    """tifffile returns a TIFF stored plane by plane (planarconfig separate) as (3, H, W):
    it was read as three gray pages, so an image folder dropped it as gray."""
    tifffile = pytest.importorskip("tifffile")
    rgb = _smooth_rgb()
    tifffile.imwrite(
        tmp_path / "planar.tif", np.ascontiguousarray(rgb.transpose(2, 0, 1)),
        photometric="rgb", planarconfig="separate",
    )  # fmt: skip
    np.testing.assert_array_equal(read_image(tmp_path / "planar.tif", dtype="uint8"), rgb)


def test_a_palette_pngs_transparent_colour_is_white_as_an_rgba_pngs_transparency(tmp_path):
    """A palette PNG that names a transparent colour read as that colour (black here); the same
    picture as RGBA is composited onto white. Both now read alike."""
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[5:15, 10:20] = (255, 0, 0, 255)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    palette = Image.fromarray(rgba[..., :3]).convert("P")
    palette.save(tmp_path / "palette.png", transparency=int(np.asarray(palette)[0, 0]))
    keyed = Image.fromarray(rgba[..., :3])
    keyed.save(tmp_path / "keyed.png", transparency=(0, 0, 0))  # an RGB PNG's tRNS key
    expected = read_image(tmp_path / "rgba.png", dtype="uint8")
    assert tuple(expected[0, 0]) == (255, 255, 255) and tuple(expected[8, 12]) == (255, 0, 0)
    for name in ("palette.png", "keyed.png"):
        np.testing.assert_array_equal(read_image(tmp_path / name, dtype="uint8"), expected)


def test_cmyk_jpeg_and_tiff_read_as_their_rgb_colours(tmp_path):
    """A CMYK file (4 channels, no alpha) is converted to RGB, not read as RGB + alpha."""
    rgb = _smooth_rgb()
    cmyk = Image.fromarray(rgb).convert("CMYK")
    cmyk.save(tmp_path / "c.jpg", quality=95)
    cmyk.save(tmp_path / "c.tif")
    for name in ("c.jpg", "c.tif"):
        got = read_image(tmp_path / name, dtype="uint8").astype(int)
        assert got.shape == rgb.shape
        assert np.abs(got - rgb).mean() < 4, name  # JPEG's error; the TIFF is exact
    np.testing.assert_array_equal(read_image(tmp_path / "c.tif", dtype="uint8"), rgb)


@pytest.mark.parametrize(
    "orientation, upright",
    [(3, lambda a: np.rot90(a, 2)), (6, lambda a: np.rot90(a, -1)), (8, np.rot90)],
)
def test_exif_orientation_turns_the_photo_upright(tmp_path, orientation, upright):
    """A photo stored turned, with the EXIF tag that says so, reads as a viewer shows it."""
    rgb = _smooth_rgb()
    im = Image.fromarray(rgb)
    exif = im.getexif()
    exif[0x0112] = orientation
    im.save(tmp_path / "p.jpg", quality=95, exif=exif.tobytes())
    got = read_image(tmp_path / "p.jpg", dtype="uint8").astype(int)
    want = upright(rgb)
    assert got.shape == want.shape
    assert np.abs(got - want).mean() < 4
    assert got[..., 0].max() > 200 and got[..., 0][want[..., 0] > 240].mean() > 200  # red corner


def test_write_png_float_gray_and_rounding(tmp_path):
    f = np.array([[0.0, 0.5, 1.0], [0.2, 1.5, -1.0]], dtype=np.float32)
    path = write_png(tmp_path / "sub" / "f.png", f)  # parent folder created
    got = iio.imread(path)
    np.testing.assert_array_equal(got, [[0, 128, 255], [51, 255, 0]])
    np.testing.assert_array_equal(to_uint8(f), got)
    assert not list((tmp_path / "sub").glob(".*tmp*"))  # no temporary file left behind
    with pytest.raises(ValueError, match="expected"):
        write_png(tmp_path / "x.png", np.zeros((2, 2, 5)))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int8, np.int16])
def test_8_and_16_bit_pixels_become_float32_without_a_float64_copy(dtype):
    """Every 8- and 16-bit value scales to exactly the float32 of value / 255 (or 65535),
    computed in float32: the float64 copy it went through was, with the float32 result,
    12 bytes a channel (0.9 GB at its peak to read a 6000x4000 photo)."""
    import tracemalloc

    from tinycolor.imageio import to_float

    info = np.iinfo(dtype)
    values = np.arange(0, info.max + 1, dtype=dtype)  # a signed type's negatives are refused
    scale = info.max if info.kind == "i" else 255.0 if values.itemsize == 1 else 65535.0
    got = to_float(values)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, (values / scale).astype(np.float32))
    photo = np.random.default_rng(0).integers(0, info.max, (200, 300, 3), dtype=dtype)
    tracemalloc.start()
    try:
        to_float(photo)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * photo.size * 4  # the float32 result, and little more


def test_write_png_to_a_name_near_the_file_systems_limit(tmp_path):
    """As checkpoints: a valid 250-character name, whose temporary name was not."""
    path = write_png(tmp_path / ("p" * 246 + ".png"), np.zeros((2, 3), np.uint8))
    assert read_image(path).shape == (2, 3, 3)
    assert os.listdir(tmp_path) == [path.name]


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


BAD_FILES = {
    "missing": (lambda d: d / "missing.png", "no such file"),
    "folder": (lambda d: d, "is a folder"),
    "empty": (lambda d: _write(d / "empty.png", b""), "empty"),
    "text": (lambda d: _write(d / "t.png", b"not an image"), "not a readable image"),
    "garbage-jpeg": (
        lambda d: _write(d / "r.jpg", b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4),
        "not a readable image",
    ),
    "npy": (lambda d: np.save(d / "a.npy", np.zeros(4)) or d / "a.npy", "not a readable image"),
    "skimage-name": (lambda d: "skimage:no_such_picture", "no bundled image"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_raise_one_line_errors(tmp_path, case):
    make, message = BAD_FILES[case]
    path = make(tmp_path)
    with pytest.raises(ImageReadError, match=message) as info:
        read_image(path)
    text = str(info.value)
    assert "\n" not in text and str(path) in text


def test_unreadable_file(tmp_path, rgb8, monkeypatch):
    path = write_png(tmp_path / "locked.png", rgb8)
    os.chmod(path, 0)
    try:
        if os.access(path, os.R_OK):  # root reads anything: make the check see what others would
            monkeypatch.setattr(tinycolor.imageio.os, "access", lambda *args, **kw: False)
        with pytest.raises(ImageReadError, match="permission denied"):
            read_image(path)
    finally:
        os.chmod(path, 0o644)


def test_not_an_image_shape(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    tifffile.imwrite(
        tmp_path / "cube.tif", np.zeros((2, 3, 4, 5), np.uint8), photometric="minisblack"
    )
    with pytest.raises(ImageReadError):
        read_image(tmp_path / "cube.tif")
