"""Reading and writing image files for the command-line tools.

``read_image`` turns any image file a user is likely to have (PNG, JPEG, TIFF, BMP, GIF; 8- or
16-bit; grayscale, grayscale + alpha, RGB, RGBA, palette, CMYK) into one thing: an ``(H, W, 3)`` RGB
array, float32 in [0, 1] or uint8 in [0, 255]. ``write_png`` writes such an array back.
Everything that can go wrong with a user's file (missing, a folder, unreadable, not an image,
an image with a shape we cannot interpret) raises ``ImageReadError`` with a one-line message
that names the file and what was wrong, so that the command-line tools can print it as is.

Pixel values are rescaled by the range of their dtype (uint8 / 255, uint16 / 65535, signed
int8 / 127 and int16 / 32767 as ``skimage.util.img_as_float`` does, float clipped to
[0, 1]); a file of signed integers holding negative values is refused, and one of floats
beyond [0, 1] (by more than half an 8-bit level) is read clipped with a
``ClippedPixelsWarning`` that names it and the range it held (floats above 1.5, a 0..255
image, are refused). CMYK files are
converted to RGB, and photos stored turned (their EXIF orientation) are turned upright, as
image viewers show them. Alpha is composited over a
white background (as ``skimage.color.rgba2rgb`` does), so transparent areas read as white,
not as whatever colour they happen to store.
Pillow reads 16-bit *colour* PNGs at 8-bit precision; 16-bit grayscale PNGs and 16-bit TIFFs
keep their full precision.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from .color import check_unit_range

# What to do about a float image file on a 0..255 scale (see check_unit_range).
FLOAT_FILE_FIX = "it holds 0..255 as floats: save it as 8-bit, or with values in [0, 1]"

__all__ = [
    "ClippedPixelsWarning",
    "ImageReadError",
    "read_image",
    "write_png",
    "is_grayscale",
    "to_float",
    "to_uint8",
]

SKIMAGE_PREFIX = "skimage:"


class ImageReadError(ValueError):
    """A file could not be read as an image; the message says which file and why."""


class ClippedPixelsWarning(UserWarning):
    """A float image file held values outside [0, 1], read clipped to it; the message says
    which file and the range it held."""


#: How far float pixel values may lie outside [0, 1] to be clipped without a word: half an
#: 8-bit level, the overshoot of a resampled image (it changes no 8-bit value).
CLIP_SLACK = 0.5 / 255


def clipped_range(pixels) -> tuple[float, float] | None:
    """(lowest, highest) of a float image's values when they go beyond [0, 1] by more than
    ``CLIP_SLACK`` (they are clipped to it when read), else None (integers: None)."""
    a = np.asarray(pixels)
    if a.dtype.kind != "f" or not a.size:
        return None
    lo, hi = float(a.min()), float(a.max())
    return (lo, hi) if lo < -CLIP_SLACK or hi > 1.0 + CLIP_SLACK else None


def clipped_message(name, found: tuple[float, float]) -> str:
    """What the warning about a file ``name`` whose values spanned ``found`` says."""
    return (
        f"{name}: float pixel values from {found[0]:.4g} to {found[1]:.4g}, read clipped to [0, 1]"
    )


# EXIF's Orientation tag: 1 is upright; 2 to 8 say how the stored pixels are turned or mirrored
_EXIF_ORIENTATION = 0x0112


def _pillow_header(path: str) -> tuple[str | None, int, bool]:
    """Pillow's mode of the file ("RGB", "CMYK", "P", ...), its EXIF orientation (1: upright)
    and whether it names a transparent colour (a palette or a tRNS key rather than an alpha
    channel); (None, 1, False) for a file Pillow cannot open."""
    try:
        from PIL import Image  # noqa: PLC0415  (imageio's own reader)

        with Image.open(path) as im:
            orientation = int(im.getexif().get(_EXIF_ORIENTATION, 1) or 1)
            return im.mode, orientation, "transparency" in im.info
    except Exception:
        return None, 1, False


def read_pixels(path: str) -> np.ndarray:
    """The pixels of the file's first frame, as the file's viewer would show them: a CMYK
    image (a print-ready JPEG or TIFF) converted to RGB rather than read as RGB + alpha, an
    image with a transparent colour (a palette PNG or GIF-style key) read with that colour's
    pixels transparent (RGBA), a TIFF stored plane by plane read as (H, W, channels) rather
    than as a stack of pages, and a photo whose EXIF orientation says it is stored turned (as
    cameras and phones store them) turned upright."""
    import imageio.v3 as iio  # noqa: PLC0415  (a scikit-image dependency; imported when needed)

    try:
        with warnings.catch_warnings():  # imageio's plugin-deprecation chatter is not ours to show
            warnings.simplefilter("ignore")
            mode, orientation, keyed = _pillow_header(path)
            if mode == "CMYK" or orientation != 1 or keyed:
                # Pillow converts: CMYK to RGB, a transparent colour to alpha
                target = "RGB" if mode == "CMYK" else "RGBA" if keyed else None
                return np.asarray(
                    iio.imread(path, index=0, plugin="pillow", mode=target, rotate=True)
                )
            pixels = np.asarray(iio.imread(path, index=0))
    except Exception as exc:  # imageio raises OSError, ValueError, SyntaxError... per plugin
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "Could not find a backend" in reason:
            reason = "the format is not recognised"
        raise ImageReadError(f"{path}: not a readable image file ({reason})") from None
    bands = {"RGB": 3, "RGBA": 4}.get(mode)
    if bands and pixels.ndim == 3 and pixels.shape[0] == bands and pixels.shape[-1] != bands:
        # tifffile returns a TIFF of separate colour planes (planar configuration 2) plane
        # first, (3, H, W); Pillow's mode says it is one colour image
        pixels = np.moveaxis(pixels, 0, -1)
    return pixels


def _load_skimage_sample(name: str) -> np.ndarray:
    import skimage.data  # noqa: PLC0415

    loader = getattr(skimage.data, name, None)
    if loader is None or not callable(loader) or name.startswith("_"):
        raise ImageReadError(
            f"{SKIMAGE_PREFIX}{name}: scikit-image has no bundled image called {name!r} "
            "(try skimage:coffee, skimage:astronaut, skimage:chelsea, skimage:rocket)"
        )
    try:
        return np.asarray(loader())
    except Exception as exc:
        raise ImageReadError(f"{SKIMAGE_PREFIX}{name}: could not be loaded ({exc})") from None


# An unsigned integer pixel's scale by its size in bytes: 8-bit / 255, 16-bit / 65535.
_INT_SCALE = {1: 255.0, 2: 65535.0}


def to_float(img: np.ndarray, name: str = "image", fix: str | None = None) -> np.ndarray:
    """Pixel values scaled to float32 in [0, 1] by the range of their dtype: uint8 / 255,
    uint16 / 65535, int8 / 127 and int16 / 32767 (as ``skimage.util.img_as_float``), 32-bit
    integers / 65535 (or by their maximum, when larger); floats clipped to [0, 1].
    ``ImageReadError``, naming ``name``, for signed integers below 0, NaN or infinite floats,
    and floats on a 0..255 scale (``fix`` says what to do about them)."""
    a = np.asarray(img)
    if a.dtype == np.bool_:
        return a.astype(np.float32)
    if np.issubdtype(a.dtype, np.unsignedinteger) or np.issubdtype(a.dtype, np.signedinteger):
        if a.dtype.kind == "i" and a.size and int(a.min()) < 0:
            raise ImageReadError(
                f"{name}: negative pixel values ({a.dtype}, down to {int(a.min())}); expected "
                "unsigned 8- or 16-bit integers, or floats in [0, 1]"
            )
        # 8-bit: / 255; 16-bit (and 32-bit integer images holding 16-bit data, as Pillow's
        # mode "I" does): / 65535; wider data: by its own maximum. Signed 8- and 16-bit: by
        # their largest value, 127 or 32767, as skimage.util.img_as_float scales them.
        if a.dtype.itemsize <= 2:  # exact in float32, and so is the quotient's rounding:
            # no float64 copy, which for a 6000x4000 photo was 0.6 GB
            f = a.astype(np.float32)
            f /= np.float32(
                np.iinfo(a.dtype).max if a.dtype.kind == "i" else _INT_SCALE[a.itemsize]
            )
            return f
        scale = max(65535.0, float(a.max(initial=0)))
        return (a / scale).astype(np.float32)
    if np.issubdtype(a.dtype, np.floating):
        if not np.all(np.isfinite(a)):
            raise ImageReadError(f"{name}: contains NaN or infinite pixel values")
        try:  # a 0..255 image stored as floats would otherwise be clipped to white
            check_unit_range(name, a, fix=fix)
        except ValueError as exc:
            raise ImageReadError(str(exc)) from None
        return np.clip(a, 0.0, 1.0).astype(np.float32)
    raise ImageReadError(f"{name}: unsupported pixel type {a.dtype}")


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Float in [0, 1] (or already uint8) to uint8, rounding to nearest."""
    a = np.asarray(img)
    if a.dtype == np.uint8:
        return a
    return np.clip(np.rint(to_float(a) * 255.0), 0, 255).astype(np.uint8)


def _as_rgb(a: np.ndarray, name: str) -> np.ndarray:
    """(H, W), (H, W, 1), (H, W, 2) gray+alpha, (H, W, 3) or (H, W, 4) -> float (H, W, 3)."""
    if a.ndim == 3 and a.shape[-1] in (1, 2, 3, 4):
        channels = a.shape[-1]
    elif a.ndim == 2:
        channels = 0
    else:
        raise ImageReadError(
            f"{name}: expected a 2-D image with 1 to 4 channels, got an array of shape {a.shape}"
        )
    f = to_float(a, name, FLOAT_FILE_FIX)
    found = clipped_range(a)
    if found is not None:  # said, once a file: an HDR or signed image is not as it was
        warnings.warn(clipped_message(name, found), ClippedPixelsWarning, stacklevel=3)
    if channels == 0:
        f = f[..., None]
    if channels in (2, 4):  # composite over white: c * alpha + 1 * (1 - alpha)
        alpha = f[..., -1:]
        f = f[..., :-1] * alpha + (1.0 - alpha)
    if f.shape[-1] == 1:
        f = np.repeat(f, 3, axis=-1)
    if f.shape[0] < 1 or f.shape[1] < 1:
        raise ImageReadError(f"{name}: the image is empty (shape {a.shape})")
    return np.ascontiguousarray(f, dtype=np.float32)


def read_image(path, dtype: str = "float32") -> np.ndarray:
    """Read any image file as RGB: ``(H, W, 3)`` float32 in [0, 1] (or uint8 with dtype='uint8').

    ``path`` is a file path, or ``'skimage:NAME'`` for an image bundled with scikit-image
    (``skimage:coffee``), which needs no network. Raises ``ImageReadError`` with a one-line
    message for a missing file, a folder, a file without read permission, a file that is not
    an image, or an array that is not an image.
    """
    if dtype not in ("float32", "uint8"):
        raise ValueError(f"read_image: dtype must be 'float32' or 'uint8', got {dtype!r}")
    spath = os.fspath(path)
    if spath.startswith(SKIMAGE_PREFIX):
        raw = _load_skimage_sample(spath[len(SKIMAGE_PREFIX) :])
    else:
        p = Path(spath)
        if not p.exists():
            raise ImageReadError(f"{spath}: no such file")
        if p.is_dir():
            raise ImageReadError(f"{spath}: is a folder, expected an image file")
        if not os.access(p, os.R_OK):
            raise ImageReadError(f"{spath}: permission denied (the file is not readable)")
        if p.stat().st_size == 0:
            raise ImageReadError(f"{spath}: the file is empty, expected an image")
        raw = read_pixels(spath)
    rgb = _as_rgb(raw, spath)
    return to_uint8(rgb) if dtype == "uint8" else rgb


def is_grayscale(rgb: np.ndarray, tol: float = 1.0 / 255) -> bool:
    """True when the R, G and B channels agree everywhere: each pixel's spread (largest minus
    smallest) within ``tol`` in [0, 1] units, by the rule (and float32 rounding slack) of
    ``data.transforms.is_gray``, which decides which training photos are gray."""
    from .data.transforms import is_gray  # noqa: PLC0415 - data imports this module

    f = to_float(rgb)
    if f.ndim == 2 or f.shape[-1] == 1:
        return True
    return is_gray(f[..., :3], tol)


def write_png(path, img: np.ndarray) -> Path:
    """Write ``img`` ((H, W) or (H, W, 3|4); float in [0, 1] or uint8) as an 8-bit PNG.

    Creates the parent folder if needed, writes to a temporary name and renames, so a reader
    never sees half a file. Returns the path written.
    """
    import imageio.v3 as iio  # noqa: PLC0415

    a = np.asarray(img)
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[-1] in (1, 3, 4))):
        raise ValueError(f"write_png: expected (H, W), (H, W, 3) or (H, W, 4), got {a.shape}")
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    pixels = to_uint8(a)
    return write_atomically(path, lambda tmp: iio.imwrite(tmp, pixels, extension=".png"), ".png")


def write_atomically(path, write, suffix: str = "") -> Path:
    """``write(tmp)`` to a temporary file beside ``path`` (its folder made if need be), then
    renamed onto ``path``: a reader never sees half a file. An error names ``path`` (not the
    temporary file) and leaves no temporary file behind. Returns ``path`` as a Path."""
    out = Path(path)
    make_parent(out)
    tmp = out.with_name(f"{temporary_prefix(out.name)}{os.getpid()}.tmp{suffix}")
    try:
        write(tmp)
        os.replace(tmp, out)
    except OSError as exc:
        raise OSError(f"{out}: cannot write it ({exc.strerror or exc})") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return out


def temporary_prefix(name: str) -> str:
    """``.<name>.``, the start of the temporary file written before it is renamed to ``name``,
    with ``name`` cut to 100 bytes: a name near the file system's limit (255 bytes) is valid,
    the temporary one made longer from it would not be."""
    return "." + name.encode("utf-8", "surrogateescape")[:100].decode("utf-8", "ignore") + "."


def make_parent(out: Path) -> None:
    """Create the folder ``out`` goes in (and its parents), or raise an OSError naming ``out``
    and why (a file in the way, no permission) rather than a bare errno."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OSError(
            f"{out}: cannot make its folder {out.parent}: a file of that name is in the way"
        ) from None
    except OSError as exc:
        raise OSError(
            f"{out}: cannot make its folder {out.parent} ({exc.strerror or exc})"
        ) from None
