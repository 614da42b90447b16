"""Datasets of colour images: the common interface, images held in memory, and image folders.

Every dataset here is a sequence of colour images of any size:

- ``ds[i]`` is image ``i`` as float32 RGB (H, W, 3) in [0, 1] (after the dataset's resizing),
- ``ds.lab(i)`` the same image in Lab (H, W, 3) float32 (L in [0, 100]), what the
  :class:`~tinycolor.data.DataLoader` crops and batches,
- ``ds.labels`` an int64 array of class indices or None, ``ds.class_names`` their names,
- ``ds.names`` a short name for each image (a relative path, a photo's name).

:class:`ImageFolder` scans a folder recursively, skips gray and unreadable files (counting them
and naming the unreadable ones in a warning) and keeps the prepared Lab arrays in an on-disk
cache (:mod:`tinycolor.data.cache`) so a second run does not decode and convert again.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..color import check_finite, check_unit_range
from .cache import ArrayCache, file_key
from .transforms import (
    GRAY_TOLERANCE,
    _size2,
    is_gray,
    resize,
    rgb_to_lab_hwc,
    short_side_shape,
    to_float_rgb,
)

__all__ = [
    "IMAGE_EXTENSIONS",
    "ArrayDataset",
    "ImageDataset",
    "ImageFolder",
    "Subset",
    "find_images",
    "progress_bars",
    "read_image",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
#: Longest side, in short sides, of an image an ImageFolder resizes to a short side: a thinner
#: one (a 1x1000 separator line) would grow to 256x256000 and take gigabytes. Photos, even
#: panoramas, are well under it.
MAX_ASPECT = 32


def _checked_size(size, who: str):
    """``size`` as a dataset keeps it: None, a short side (a positive int) or an exact
    (height, width); anything else (a string, a float) refused, naming ``who``."""
    if size is None:
        return None
    if isinstance(size, int | np.integer) and not isinstance(size, bool):
        if size <= 0:
            raise ValueError(f"{who}: size must be a positive short side, got {size!r}")
        return int(size)
    return _size2(size, f"{who} size")


def _size_param(size):
    """A checked ``size`` as the cache key's JSON holds it (a pair as a list)."""
    return list(size) if isinstance(size, tuple) else size


class ImageDataset:
    """The interface every dataset follows; subclasses implement ``__len__``, ``rgb``, ``lab``."""

    labels: np.ndarray | None = None
    class_names: list[str] | None = None
    names: list[str] = []

    def __len__(self) -> int:
        raise NotImplementedError

    def rgb(self, i: int) -> np.ndarray:
        raise NotImplementedError

    def lab(self, i: int) -> np.ndarray:
        raise NotImplementedError

    def __getitem__(self, i: int) -> np.ndarray:
        return self.rgb(self._index(i))

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    @property
    def num_classes(self) -> int:
        return 0 if self.class_names is None else len(self.class_names)

    def _index(self, i) -> int:
        n = len(self)
        i = int(i)
        if not -n <= i < n:
            raise IndexError(f"{type(self).__name__}: index {i} out of range for {n} images")
        return i % n

    def __repr__(self) -> str:
        classes = f", classes={self.class_names}" if self.class_names else ""
        return f"{type(self).__name__}({len(self)} images{classes})"


class ArrayDataset(ImageDataset):
    """Colour images held in memory: a list of (H, W, 3) arrays or one (N, H, W, 3) array.

    Images may be uint8/uint16 or float in [0, 1]; they are stored as given (a uint8 CIFAR
    array stays 4x smaller) and converted on access. ``size`` resizes each image so its short
    side is ``size`` (an int) or to exactly (h, w). Lab conversions are memoised while their
    total stays under ``lab_memo_bytes``.
    """

    def __init__(
        self,
        images,
        labels=None,
        class_names: Sequence[str] | None = None,
        names: Sequence[str] | None = None,
        size=None,
        lab_memo_bytes: int = 512 * 2**20,
    ):
        if isinstance(images, np.ndarray):
            if images.ndim != 4 or images.shape[-1] != 3:
                raise ValueError(
                    f"ArrayDataset: expected images of shape (N, H, W, 3), got {images.shape}"
                )
            check_finite("ArrayDataset", images)
            check_unit_range("ArrayDataset", images)  # not clipped to white on access
            self.images = images
        else:
            self.images = list(images)
            for k, img in enumerate(self.images):
                shape = np.shape(img)
                if len(shape) != 3 or shape[-1] != 3:
                    raise ValueError(
                        f"ArrayDataset: image {k}: expected shape (H, W, 3), got {shape}"
                    )
                check_finite(f"ArrayDataset: image {k}", np.asarray(img))
                check_unit_range(f"ArrayDataset: image {k}", np.asarray(img))
        n = len(self.images)
        if labels is not None:
            labels = np.asarray(labels).reshape(-1)
            # float labels were truncated to classes (0.3 -> 0) without a word
            if labels.size and (labels.dtype.kind not in "iub" or labels.min() < 0):
                raise ValueError(
                    f"ArrayDataset: labels must be class indices (integers >= 0), got "
                    f"{labels.dtype} values such as {labels[:3].tolist()}"
                )
            labels = labels.astype(np.int64)
            if labels.shape[0] != n:
                raise ValueError(f"ArrayDataset: {n} images but {labels.shape[0]} labels")
            if class_names is None and n:
                class_names = [str(c) for c in range(int(labels.max()) + 1)]
        self.labels = labels
        self.class_names = list(class_names) if class_names is not None else None
        if self.labels is not None and n and self.labels.max() >= len(self.class_names):
            raise ValueError(
                f"ArrayDataset: label {int(self.labels.max())} but only "
                f"{len(self.class_names)} class names"
            )
        self.names = list(names) if names is not None else [f"image_{k}" for k in range(n)]
        if len(self.names) != n:
            raise ValueError(f"ArrayDataset: {n} images but {len(self.names)} names")
        self.size = _checked_size(size, "ArrayDataset")
        self._lab_memo: dict[int, np.ndarray] = {}
        self._memo_bytes = 0
        self.lab_memo_bytes = int(lab_memo_bytes)

    def __len__(self) -> int:
        return len(self.images)

    def rgb(self, i: int) -> np.ndarray:
        i = self._index(i)
        img = to_float_rgb(self.images[i])
        if self.size is not None:
            img = resize(img, self.size)
        return img

    def lab(self, i: int) -> np.ndarray:
        i = self._index(i)
        hit = self._lab_memo.get(i)
        if hit is not None:
            return hit
        out = rgb_to_lab_hwc(self.rgb(i))
        if self._memo_bytes + out.nbytes <= self.lab_memo_bytes:
            self._lab_memo[i] = out
            self._memo_bytes += out.nbytes
        return out


class Subset(ImageDataset):
    """The images of ``dataset`` at ``indices`` (labels and class names follow)."""

    def __init__(self, dataset: ImageDataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(f"Subset: indices out of range for a dataset of {n} images")
        self.labels = None if dataset.labels is None else dataset.labels[self.indices]
        self.class_names = dataset.class_names
        self.names = [dataset.names[int(k)] for k in self.indices]

    def __len__(self) -> int:
        return len(self.indices)

    def rgb(self, i: int) -> np.ndarray:
        return self.dataset.rgb(int(self.indices[self._index(i)]))

    def lab(self, i: int) -> np.ndarray:
        return self.dataset.lab(int(self.indices[self._index(i)]))


def find_images(root, extensions=IMAGE_EXTENSIONS) -> list[Path]:
    """Image files under ``root`` (recursively, extensions matched case-insensitively), sorted.

    Hidden files and folders (names starting with '.') are left out. Links to folders are
    followed (a class folder may be a link to where the photos are), but not a link back to
    a folder the walk is already inside, which would never end.
    """
    root = Path(root)
    exts = tuple(e.lower() for e in extensions)
    found = []
    inside = {}  # each folder walked -> the real folders from the root down to it
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        above = inside.get(os.path.dirname(dirpath), frozenset())
        if real in above:  # a loop
            dirnames[:] = []
            continue
        inside[dirpath] = above | {real}
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not name.startswith(".") and name.lower().endswith(exts):
                found.append(Path(dirpath) / name)
    return sorted(found)


def read_image(path) -> np.ndarray:
    """Read ``path`` as float32 RGB in [0, 1], or 2-D if it is gray.

    Decoded as the command-line tools decode a user's file (``tinycolor.imageio``: CMYK turned
    into RGB, EXIF orientation applied); 8- and 16-bit, gray, RGB and RGBA files are accepted
    (see :func:`~tinycolor.data.transforms.to_float_rgb`). Raises ``ImageReadError`` for a
    damaged or non-image file, and one of signed integers holding negative values; a float
    file beyond [0, 1] is read clipped, with a ``ClippedPixelsWarning`` naming it.
    """
    from ..imageio import ClippedPixelsWarning, clipped_message  # noqa: PLC0415

    rgb, found = _read_rgb(path)
    if found is not None:
        warnings.warn(clipped_message(path, found), ClippedPixelsWarning, stacklevel=2)
    return rgb


def _read_rgb(path) -> tuple[np.ndarray, tuple[float, float] | None]:
    """``read_image(path)`` and, for a float file beyond [0, 1], the (lowest, highest) of its
    values (``imageio.clipped_range``; None for any other), without a warning."""
    from ..imageio import FLOAT_FILE_FIX, ImageReadError, clipped_range, read_pixels  # noqa: PLC0415

    pixels = read_pixels(str(path))
    try:
        check_finite(str(path), pixels)  # before the range: inf is not a 0..255 image
        check_unit_range(str(path), pixels, fix=FLOAT_FILE_FIX)
    except ValueError as exc:
        raise ImageReadError(str(exc)) from None
    return to_float_rgb(pixels, str(path)), clipped_range(pixels)


_BARS = contextvars.ContextVar("tinycolor_data_progress_bars", default=True)


@contextlib.contextmanager
def progress_bars(enabled: bool):
    """Within it, ``ImageFolder`` shows (True, the default: on a terminal only, as tqdm
    decides) or never shows (False: a command's ``--quiet``) its bar while it reads files."""
    token = _BARS.set(bool(enabled))
    try:
        yield
    finally:
        _BARS.reset(token)


class ImageFolder(ImageDataset):
    """The colour images under a folder, recursively, of any size.

    Parameters
    ----------
    root:
        The folder to scan for png/jpg/jpeg/tif/tiff/bmp files (any letter case).
    labels:
        None; ``'subfolders'``: each image's class is the name of the subfolder of ``root`` it
        lies under (at any depth); or ``'directories'``: its folder's whole path relative to
        ``root`` (Places365's ``a/apartment_building/outdoor``). ``class_names`` are those
        names, sorted. Images lying directly in ``root`` then have no class and are skipped
        (counted in ``n_unlabelled``).
    size:
        None keeps each image's size; an int resizes so the short side is ``size`` (and skips,
        as unreadable, an image more than ``MAX_ASPECT`` times as long as its short side);
        (h, w) resizes exactly. Done once, before the Lab conversion that is cached.
    cache:
        True for the default cache folder (``$TINYCOLOR_CACHE`` or ``~/.cache/tinycolor``), a
        path for another, False to read and convert every file on every run.
    cache_dtype:
        float32 (exact) or float16 (half the disk, about 0.06 error in L, a and b).
    in_memory:
        Keep the Lab arrays in memory once loaded (the default); False reads them from the
        cache, memory-mapped, on every access.

    After construction: ``paths`` (the colour images used), ``n_gray`` / ``gray_paths``,
    ``n_unreadable`` / ``unreadable`` (path, reason), ``clipped`` ((path, (lowest, highest))
    of each float file read in this scan whose values went beyond [0, 1], clipped to it and
    said in one warning), ``n_unlabelled``, ``cache_hits`` and
    ``cache_misses`` (files found in / added to the cache in this scan).
    """

    def __init__(
        self,
        root,
        labels: str | None = None,
        size=None,
        cache=True,
        cache_dtype=np.float32,
        in_memory: bool = True,
        gray_tolerance: float = GRAY_TOLERANCE,
    ):
        self.root = Path(root).expanduser()
        if labels not in (None, "subfolders", "directories"):
            raise ValueError(
                f"ImageFolder: labels must be None, 'subfolders' or 'directories', got {labels!r}"
            )
        if not self.root.exists():
            raise FileNotFoundError(f"ImageFolder: folder '{self.root}' does not exist")
        if not self.root.is_dir():
            raise NotADirectoryError(f"ImageFolder: '{self.root}' is not a folder")
        cache_dtype = np.dtype(cache_dtype)
        if cache_dtype not in (np.float16, np.float32):
            raise ValueError(
                f"ImageFolder: cache_dtype must be float16 or float32, got {cache_dtype}"
            )
        self.size = _checked_size(size, "ImageFolder")
        self.cache_dtype = cache_dtype
        self.in_memory = in_memory
        self.gray_tolerance = float(gray_tolerance)
        if cache is True:
            self.cache = ArrayCache()
        elif cache in (False, None):
            self.cache = None
        else:
            self.cache = ArrayCache(cache)
        self._params = {
            "size": _size_param(self.size),
            "dtype": cache_dtype.name,
            "gray_tolerance": self.gray_tolerance,
        }

        candidates = find_images(self.root)
        self.n_found = len(candidates)
        self.paths: list[Path] = []
        self.gray_paths: list[Path] = []
        self.unreadable: list[tuple[Path, str]] = []
        self.clipped: list[tuple[Path, tuple[float, float]]] = []
        self.n_unlabelled = 0
        self.cache_hits = 0
        self.cache_misses = 0
        self._keys: list[str | None] = []
        self._memo: dict[int, np.ndarray] = {}
        class_of: list[str] = []
        from tqdm import tqdm  # noqa: PLC0415

        # a first read of a big folder takes minutes (decoding, Lab): a bar on a terminal
        bar = tqdm(
            candidates,
            desc=f"reading {self.root}",
            unit="image",
            file=sys.stderr,
            leave=False,
            dynamic_ncols=True,
            disable=None if _BARS.get() else True,
        )
        for path in bar:
            rel = path.relative_to(self.root)
            if labels is not None and len(rel.parts) < 2:
                self.n_unlabelled += 1
                continue
            status, reason, key, lab = self._prepare(path)
            if status == "gray":
                self.gray_paths.append(path)
            elif status == "unreadable":
                self.unreadable.append((path, reason))
            else:
                if lab is not None and (self.in_memory or self.cache is None):
                    self._memo[len(self.paths)] = np.asarray(lab, dtype=np.float32)
                self.paths.append(path)
                self._keys.append(key)
                class_of.append(rel.parts[0] if labels == "subfolders" else rel.parent.as_posix())

        self.names = [str(p.relative_to(self.root)) for p in self.paths]
        if labels is not None:
            self.class_names = sorted(set(class_of))
            index = {c: k for k, c in enumerate(self.class_names)}
            self.labels = np.array([index[c] for c in class_of], dtype=np.int64)
        else:
            self.class_names = None
            self.labels = None

        if self.unreadable:
            shown = ", ".join(
                f"{p.relative_to(self.root)} ({why})" for p, why in self.unreadable[:10]
            )
            more = f" and {len(self.unreadable) - 10} more" if len(self.unreadable) > 10 else ""
            warnings.warn(
                f"ImageFolder('{self.root}'): skipped {len(self.unreadable)} unreadable "
                f"file(s): {shown}{more}",
                stacklevel=2,
            )
        if self.clipped:
            from ..imageio import ClippedPixelsWarning  # noqa: PLC0415

            shown = ", ".join(
                f"{p.relative_to(self.root)} ({lo:.4g} to {hi:.4g})"
                for p, (lo, hi) in self.clipped[:10]
            )
            more = f" and {len(self.clipped) - 10} more" if len(self.clipped) > 10 else ""
            warnings.warn(
                f"ImageFolder('{self.root}'): read {len(self.clipped)} float file(s) with pixel "
                f"values beyond [0, 1] clipped to it: {shown}{more}",
                ClippedPixelsWarning,
                stacklevel=2,
            )
        if self.n_unlabelled:
            warnings.warn(
                f"ImageFolder('{self.root}', labels={labels!r}): skipped {self.n_unlabelled} "
                "image(s) lying directly in the folder, outside any class subfolder",
                stacklevel=2,
            )
        if not self.paths:
            raise ValueError(
                f"ImageFolder('{self.root}'): no usable colour image: {self.n_found} image "
                f"file(s) found ({', '.join(IMAGE_EXTENSIONS)}, recursively), "
                f"{self.n_gray} gray, {self.n_unreadable} unreadable"
                + (f", {self.n_unlabelled} outside class subfolders" if self.n_unlabelled else "")
            )

    @property
    def n_gray(self) -> int:
        return len(self.gray_paths)

    @property
    def n_unreadable(self) -> int:
        return len(self.unreadable)

    def summary(self) -> str:
        """One line: how many images were used and how many were skipped, and why."""
        parts = [f"{len(self)} colour images in '{self.root}'"]
        if self.class_names:
            parts.append(f"{len(self.class_names)} classes")
        parts.append(f"skipped {self.n_gray} gray, {self.n_unreadable} unreadable")
        if self.n_unlabelled:
            parts.append(f"{self.n_unlabelled} unlabelled")
        if self.cache is not None:
            parts.append(f"cache: {self.cache_hits} hits, {self.cache_misses} new")
        return "; ".join(parts)

    def _load_rgb(self, path: Path) -> np.ndarray:
        img, _ = _read_rgb(path)  # a clipped file was said when the folder was read
        if img.ndim == 3 and self.size is not None:
            img = resize(img, self.size)
        return img

    def _prepare(self, path: Path):
        """(status, reason, cache key, Lab array or None) for one file, via the cache."""
        key = None
        if self.cache is not None:
            try:
                key = file_key(path, self._params)
            except OSError as e:
                return "unreadable", f"{type(e).__name__}: {e}", None, None
            note = self.cache.load_note(key)
            if note is not None and note.get("status") in ("gray", "unreadable"):
                self.cache_hits += 1
                return note["status"], note.get("reason", ""), key, None
            # loaded (mapped, when not kept in memory: the header is read) rather than just
            # found, so that a damaged entry is a miss and is written again
            lab = self.cache.load_array(key, mmap=not self.in_memory)
            if lab is not None:
                self.cache_hits += 1
                return "colour", "", key, lab if self.in_memory else None
        if self.cache is not None:
            self.cache_misses += 1
        try:
            rgb, found = _read_rgb(path)
        except Exception as e:  # any decoder failure means "skip this file", never a crash
            reason = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:200]
            self._note(key, "unreadable", reason)
            return "unreadable", reason, key, None
        if is_gray(rgb, self.gray_tolerance):
            self._note(key, "gray", "")
            return "gray", "", key, None
        h, w = rgb.shape[:2]
        if isinstance(self.size, int | np.integer) and max(h, w) > MAX_ASPECT * min(h, w):
            new_h, new_w = short_side_shape(h, w, self.size)
            reason = (
                f"{w}x{h} pixels, more than {MAX_ASPECT} times as long as its "
                f"short side; resized to a short side of {self.size} it would be "
                f"{new_w}x{new_h}"
            )
            self._note(key, "unreadable", reason)
            return "unreadable", reason, key, None
        if found is not None:  # used as clipped: said for the folder in one warning
            self.clipped.append((path, found))
        if self.size is not None:
            rgb = resize(rgb, self.size)
        lab = rgb_to_lab_hwc(rgb).astype(self.cache_dtype)
        if self.cache is not None:
            self.cache.save_array(key, lab)
        return "colour", "", key, lab

    def _note(self, key, status: str, reason: str) -> None:
        if self.cache is not None and key is not None:
            self.cache.save_note(key, {"status": status, "reason": reason})

    def __len__(self) -> int:
        return len(self.paths)

    def rgb(self, i: int) -> np.ndarray:
        """Image ``i`` read again from its file, resized like the cached Lab array."""
        return self._load_rgb(self.paths[self._index(i)])

    def lab(self, i: int) -> np.ndarray:
        """Image ``i`` in Lab, float32 (H, W, 3), from memory, the cache or the file."""
        i = self._index(i)
        lab = self._memo.get(i)
        if lab is None and self.cache is not None:
            lab = self.cache.load_array(self._keys[i], mmap=not self.in_memory)
        if lab is None:  # the entry vanished (cache cleared meanwhile): prepare again
            _, _, _, lab = self._prepare(self.paths[i])
            if lab is None:
                raise OSError(f"ImageFolder: '{self.paths[i]}' can no longer be read")
        lab = np.asarray(lab, dtype=np.float32)
        if self.in_memory:
            self._memo[i] = lab
        return lab
