"""Image transforms on NumPy HWC float arrays: type conversion, crops, flips, resizing, and the
split of an RGB image into the network's Lab planes.

Every random transform takes the ``numpy.random.Generator`` to draw from, so a pipeline is
reproducible from one seed and two pipelines never share hidden state. The functions work on
any HWC array (RGB, or the Lab arrays the data loader crops); only :func:`to_float_rgb`,
:func:`is_gray` and :func:`to_lab` assume RGB.

The class forms (:class:`RandomCrop`, :class:`CenterCrop`, :class:`RandomHorizontalFlip`,
:class:`Resize`, :class:`Compose`) are callables ``t(image, rng)`` named as in torchvision.
"""

from __future__ import annotations

import functools

import numpy as np

from ..color import check_finite, check_unit_range

__all__ = [
    "CenterCrop",
    "Compose",
    "RandomCrop",
    "RandomHorizontalFlip",
    "Resize",
    "center_crop",
    "hflip",
    "is_gray",
    "random_crop",
    "random_hflip",
    "random_zoom_crop",
    "resize",
    "to_float_rgb",
    "to_lab",
]

#: Largest per-pixel channel spread (on the [0, 1] scale) that still counts as gray: a gray
#: picture saved as RGB JPEG can carry a level or so of chroma noise.
GRAY_TOLERANCE = 2.0 / 255.0
_ROUNDING_SLACK = 1e-6  # float32 rounding of a [0, 1] value, far below a 16-bit level


def _size2(size, name: str = "size") -> tuple[int, int]:
    """``size`` as (height, width): an int gives a square."""
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        h = w = int(size)
    else:
        # a string is iterable too: "64" would read as (6, 4)
        parts = None if isinstance(size, (str, bytes)) else _int_pair(size)
        if parts is None:
            raise ValueError(f"{name}: expected an int or (height, width), got {size!r}")
        h, w = parts
    if h <= 0 or w <= 0:
        raise ValueError(f"{name}: expected positive sizes, got {size!r}")
    return h, w


def _int_pair(size) -> tuple[int, int] | None:
    """(h, w) from a pair of ints (NumPy integers too); None for anything else."""
    try:
        h, w = size
    except (TypeError, ValueError):
        return None
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (h, w)):
        return None
    return int(h), int(w)


def _check_hwc(image, what: str) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"{what}: expected an (H, W, C) image, got shape {image.shape}")
    return image


def to_float_rgb(image, name: str = "to_float_rgb") -> np.ndarray:
    """Any decoded image as a float32 (H, W, 3) RGB array in [0, 1], or a 2-D gray array.

    Integer images are scaled as ``tinycolor.imageio.to_float`` scales them (8-bit by 255,
    16-bit by 65535, signed ones by 127 or 32767, wider ones holding 16-bit data by 65535;
    negative values are refused, with an error naming ``name``), floats are clipped to
    [0, 1], booleans become 0/1. RGBA is composited onto white (the colour under
    a transparent pixel is meaningless); gray+alpha and single-channel images come back 2-D so
    the caller can recognise them as gray. Stacks of pages (N, H, W, 3/4) keep the first page.
    """
    img = np.asarray(image)
    if img.ndim == 4 and img.shape[-1] in (3, 4):
        img = img[0]
    if img.dtype == np.bool_:
        img = img.astype(np.float32)
    elif np.issubdtype(img.dtype, np.integer):
        from ..imageio import to_float  # noqa: PLC0415 - imageio's rule, as colorize reads files

        img = to_float(img, name)
    elif np.issubdtype(img.dtype, np.floating):
        check_finite(name, img)
        check_unit_range(name, img)  # 0..255 as floats would be clipped to white
        img = np.clip(img.astype(np.float32), 0.0, 1.0)
    else:
        raise ValueError(f"to_float_rgb: unsupported image dtype {img.dtype}")
    if img.ndim == 2:
        return img
    if img.ndim != 3:
        raise ValueError(f"to_float_rgb: expected a 2-D or (H, W, C) image, got shape {img.shape}")
    channels = img.shape[-1]
    if channels == 1:
        return img[..., 0]
    if channels == 2:  # gray + alpha
        return img[..., 0]
    if channels == 4:
        rgb, alpha = img[..., :3], img[..., 3:]
        return (rgb * alpha + (1.0 - alpha)).astype(np.float32)
    if channels == 3:
        return img
    # (pages, H, W) stacks of gray pages, or anything else: report as gray on the first plane.
    return img[0] if img.shape[0] < img.shape[-1] else img[..., 0]


def is_gray(image, tol: float = GRAY_TOLERANCE) -> bool:
    """True if ``image`` (float, [0, 1]) is 2-D or its three channels agree within ``tol``."""
    img = np.asarray(image)
    if img.ndim == 2:
        return True
    # plane by plane: NumPy reduces over a short last axis 15 to 20 times slower (7 ms for a
    # 256x256 photo, the costliest step of a first read of a folder), with the same answer
    planes = [img[..., c] for c in range(img.shape[-1])]
    spread = functools.reduce(np.maximum, planes) - functools.reduce(np.minimum, planes)
    # with a little slack: in float32, a spread of exactly 2 levels (v + 2) / 255 - v / 255
    # rounds above 2 / 255 at some levels and not at others, so a gray JPEG's chroma noise
    # was gray or colour by the levels it fell on
    return bool(spread.max() <= tol + _ROUNDING_SLACK)


def random_crop(image, size, rng: np.random.Generator) -> np.ndarray:
    """A crop of ``size`` (int or (h, w)) at a uniformly drawn position.

    An image smaller than the crop in either side is first resized up, keeping its aspect
    ratio, so that the crop fits (the short side, relative to the crop, fits exactly).
    """
    img = _check_hwc(image, "random_crop")
    ch, cw = _size2(size, "random_crop size")
    img = _fit_for_crop(img, ch, cw)
    h, w = img.shape[:2]
    top = int(rng.integers(0, h - ch + 1))
    left = int(rng.integers(0, w - cw + 1))
    return img[top : top + ch, left : left + cw]


def random_zoom_crop(image, size: int, zoom, rng: np.random.Generator) -> np.ndarray:
    """A ``size`` x ``size`` crop seen at a random scale: a square of side ``z * size`` at a
    uniformly drawn position, resized to ``size``, with z drawn log-uniformly from
    ``zoom = (lo, hi)`` (z > 1 shows more of the image, shrunk; z < 1 less of it, enlarged).
    The side is kept within the image's short side; ``(1, 1)`` is :func:`random_crop`."""
    img = _check_hwc(image, "random_zoom_crop")
    lo, hi = (float(z) for z in zoom)
    if not 0 < lo <= hi:
        raise ValueError(f"random_zoom_crop: expected 0 < lo <= hi, got zoom {zoom!r}")
    z = lo if lo == hi else float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    side = max(1, min(int(round(size * z)), max(size, min(img.shape[:2]))))
    crop = random_crop(img, side, rng)
    return crop if side == size else resize(crop, (size, size))


def center_crop(image, size) -> np.ndarray:
    """The central crop of ``size`` (int or (h, w)); smaller images are resized up first."""
    img = _check_hwc(image, "center_crop")
    ch, cw = _size2(size, "center_crop size")
    img = _fit_for_crop(img, ch, cw)
    h, w = img.shape[:2]
    top, left = (h - ch) // 2, (w - cw) // 2
    return img[top : top + ch, left : left + cw]


def _fit_for_crop(img: np.ndarray, ch: int, cw: int) -> np.ndarray:
    h, w = img.shape[:2]
    if h >= ch and w >= cw:
        return img
    scale = max(ch / h, cw / w)
    new = (max(ch, int(np.ceil(h * scale - 1e-9))), max(cw, int(np.ceil(w * scale - 1e-9))))
    return resize(img, new)


def hflip(image) -> np.ndarray:
    """The image mirrored left-right (a view)."""
    return _check_hwc(image, "hflip")[:, ::-1]


def random_hflip(image, rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    """The image mirrored left-right with probability ``p``."""
    return hflip(image) if rng.random() < p else _check_hwc(image, "random_hflip")


def short_side_shape(h: int, w: int, size: int) -> tuple[int, int]:
    """(height, width) of an h x w image resized so that its short side is ``size``, the
    aspect ratio kept and the long side rounded."""
    scale = int(size) / min(h, w)
    if h <= w:
        return int(size), max(1, round(w * scale))
    return max(1, round(h * scale)), int(size)


def resize(image, size) -> np.ndarray:
    """Resize with ``skimage.transform.resize`` (bilinear, Gaussian anti-aliasing when shrinking).

    ``size`` is an int (the new short side, the aspect ratio kept, the long side rounded) or
    (height, width) for an exact size. Values keep their range and the input's float dtype, so
    the same call resizes RGB in [0, 1] and Lab arrays.
    """
    from skimage.transform import resize as sk_resize

    img = np.asarray(image)
    if img.ndim not in (2, 3):
        raise ValueError(f"resize: expected an (H, W) or (H, W, C) image, got shape {img.shape}")
    h, w = img.shape[:2]
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        if size <= 0:
            raise ValueError(f"resize: expected a positive short side, got {size}")
        new_h, new_w = short_side_shape(h, w, size)
    else:
        new_h, new_w = _size2(size, "resize size")
    if (new_h, new_w) == (h, w):
        return img
    dtype = img.dtype if np.issubdtype(img.dtype, np.floating) else np.float32
    shrinking = new_h < h or new_w < w
    out = sk_resize(
        img.astype(dtype, copy=False),
        (new_h, new_w) + img.shape[2:],
        order=1,
        mode="reflect",
        anti_aliasing=shrinking,
        preserve_range=True,
    )
    return out.astype(dtype, copy=False)


def to_lab(rgb) -> tuple[np.ndarray, np.ndarray]:
    """Split an (H, W, 3) RGB image in [0, 1] into Lab planes: L (1, H, W) and ab (2, H, W).

    Uses :func:`tinycolor.color.rgb_to_lab` (sRGB, D65): L in [0, 100], a and b in about
    [-110, 110]. Both outputs are float32 and contiguous.
    """
    lab = rgb_to_lab_hwc(rgb)
    L = np.ascontiguousarray(lab[None, :, :, 0])
    ab = np.ascontiguousarray(lab[:, :, 1:].transpose(2, 0, 1))
    return L, ab


def rgb_to_lab_hwc(rgb) -> np.ndarray:
    """An (H, W, 3) (or (N, H, W, 3)) RGB array in [0, 1] as a float32 Lab array of that shape."""
    from ..color import rgb_to_lab

    img = np.asarray(rgb)
    if img.ndim not in (3, 4) or img.shape[-1] != 3:
        raise ValueError(f"to_lab: expected an (H, W, 3) RGB image, got shape {img.shape}")
    return np.asarray(rgb_to_lab(img.astype(np.float32, copy=False)), dtype=np.float32)


class Compose:
    """Apply transforms in order: ``Compose([RandomCrop(64), RandomHorizontalFlip()])(x, rng)``."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, image, rng: np.random.Generator | None = None):
        for t in self.transforms:
            image = t(image, rng)
        return image

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"


class RandomCrop:
    """:func:`random_crop` as a transform."""

    def __init__(self, size):
        self.size = _size2(size, "RandomCrop size")

    def __call__(self, image, rng: np.random.Generator):
        if rng is None:
            raise ValueError("RandomCrop: needs a numpy Generator, got None")
        return random_crop(image, self.size, rng)

    def __repr__(self) -> str:
        return f"RandomCrop({self.size})"


class CenterCrop:
    """:func:`center_crop` as a transform (ignores the generator)."""

    def __init__(self, size):
        self.size = _size2(size, "CenterCrop size")

    def __call__(self, image, rng: np.random.Generator | None = None):
        return center_crop(image, self.size)

    def __repr__(self) -> str:
        return f"CenterCrop({self.size})"


class RandomHorizontalFlip:
    """:func:`random_hflip` as a transform."""

    def __init__(self, p: float = 0.5):
        self.p = float(p)

    def __call__(self, image, rng: np.random.Generator):
        if rng is None:
            raise ValueError("RandomHorizontalFlip: needs a numpy Generator, got None")
        return random_hflip(image, rng, self.p)

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class Resize:
    """:func:`resize` as a transform (ignores the generator)."""

    def __init__(self, size):
        if isinstance(size, (int, np.integer)):
            _size2(size, "Resize size")  # a positive short side, refused here rather than per call
            self.size = int(size)
        else:
            self.size = _size2(size, "Resize size")

    def __call__(self, image, rng: np.random.Generator | None = None):
        return resize(image, self.size)

    def __repr__(self) -> str:
        return f"Resize({self.size})"
