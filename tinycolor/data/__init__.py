"""Data for the colorizers: datasets of colour images, transforms, and a batch iterator.

Datasets (all follow :class:`ImageDataset`: ``ds[i]`` is float32 RGB (H, W, 3) in [0, 1],
``ds.lab(i)`` the Lab (H, W, 3) array, ``ds.labels`` / ``ds.class_names`` when labelled):

- :class:`ImageFolder` -- png/jpg/tif/bmp files under a folder, any size, recursively; gray and
  unreadable files skipped and counted; class labels from subfolders; on-disk Lab cache.
- :func:`skimage_photos` -- the colour photos scikit-image ships (the default, offline).
- :func:`synthetic_scenes` -- labelled beach/sunset/forest scenes (the default with labels).
- :class:`CIFAR10` -- the binary CIFAR-10 batches.

:class:`DataLoader` turns a dataset into shuffled, seeded batches of fixed-size random crops:
``for L, ab, labels in DataLoader(ds, 32, crop=64, seed=0): ...`` with L (N, 1, H, W) and ab
(N, 2, H, W) float32 NumPy arrays (L in [0, 100], ab in about [-110, 110]) and labels (N,)
int64, or None for an unlabelled dataset. :func:`load_dataset` reads a ``--data`` argument.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import transforms
from .cache import ArrayCache, cache_dir, file_key
from .cifar import CIFAR10, CIFAR10_CLASSES, find_cifar10_dir, load_cifar10, read_cifar10_binary
from .folder import (
    IMAGE_EXTENSIONS,
    ArrayDataset,
    ImageDataset,
    ImageFolder,
    Subset,
    find_images,
    progress_bars,
    read_image,
)
from .samples import PHOTO_NAMES, skimage_photos
from .synthetic import CLASS_NAMES as SCENE_CLASSES
from .synthetic import SyntheticScenes, draw_scene, render_scenes, synthetic_scenes
from .transforms import (
    CenterCrop,
    Compose,
    RandomCrop,
    RandomHorizontalFlip,
    Resize,
    center_crop,
    hflip,
    random_crop,
    random_hflip,
    resize,
    to_float_rgb,
    to_lab,
)

__all__ = [
    "CIFAR10",
    "CIFAR10_CLASSES",
    "IMAGE_EXTENSIONS",
    "PHOTO_NAMES",
    "SCENE_CLASSES",
    "ArrayCache",
    "ArrayDataset",
    "Batch",
    "CenterCrop",
    "Compose",
    "DataLoader",
    "ImageDataset",
    "ImageFolder",
    "RandomCrop",
    "RandomHorizontalFlip",
    "Resize",
    "Subset",
    "SyntheticScenes",
    "cache_dir",
    "center_crop",
    "draw_scene",
    "file_key",
    "find_cifar10_dir",
    "is_cifar10",
    "find_images",
    "progress_bars",
    "hflip",
    "load_cifar10",
    "load_dataset",
    "random_crop",
    "random_hflip",
    "random_split",
    "read_cifar10_binary",
    "read_image",
    "render_scenes",
    "resize",
    "skimage_photos",
    "synthetic_scenes",
    "to_float_rgb",
    "to_lab",
    "transforms",
]


class Batch(NamedTuple):
    """One batch: L (N, 1, H, W), ab (N, 2, H, W) float32, labels (N,) int64 or None."""

    L: np.ndarray
    ab: np.ndarray
    labels: np.ndarray | None


class DataLoader:
    """Batches of Lab crops from a dataset, reproducible from ``seed``.

    Each pass (``for batch in loader``) is one epoch. Epoch ``e`` draws its order (when
    ``shuffle``) from ``default_rng([seed, e])`` and batch ``b``'s crops and flips from
    ``default_rng([seed, e, b])``: two loaders with the same seed give the same batches, and
    every epoch reshuffles and draws new crop positions. ``set_epoch`` jumps to an epoch.

    Parameters
    ----------
    crop:
        Crop size, an int or (h, w): every image gives one crop of that size (images smaller
        than it are resized up first). None: no cropping (all images must share one size).
    random_crop:
        True for uniformly drawn crop positions, False for centre crops (evaluation).
    flip:
        Mirror each crop left-right with probability 1/2.
    """

    def __init__(
        self,
        dataset: ImageDataset,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
        crop=64,
        random_crop: bool = True,
        flip: bool = True,
    ):
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        if len(dataset) == 0:
            raise ValueError("DataLoader: the dataset is empty")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.drop_last = drop_last
        self.crop = None if crop is None else transforms._size2(crop, "DataLoader crop")
        self.random_crop = random_crop
        self.flip = flip
        self.epoch = 0
        if drop_last and len(dataset) < batch_size:
            raise ValueError(
                f"DataLoader: drop_last with batch_size {batch_size} but only {len(dataset)} "
                "images: every batch would be dropped"
            )

    def __len__(self) -> int:
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass epoch ``epoch``."""
        self.epoch = int(epoch)

    def __iter__(self):
        epoch = self.epoch
        self.epoch += 1
        n = len(self.dataset)
        order = np.random.default_rng([self.seed, epoch]).permutation(n) if self.shuffle else None
        if order is None:
            order = np.arange(n)
        for b in range(len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            yield self._batch(idx, np.random.default_rng([self.seed, epoch, b]))

    def _batch(self, idx, rng: np.random.Generator) -> Batch:
        crops = []
        for i in idx:
            lab = self.dataset.lab(int(i))
            if self.crop is not None:
                if self.random_crop:
                    lab = transforms.random_crop(lab, self.crop, rng)
                else:
                    lab = transforms.center_crop(lab, self.crop)
            if self.flip:
                lab = transforms.random_hflip(lab, rng)
            crops.append(lab)
        shapes = {c.shape for c in crops}
        if len(shapes) > 1:
            raise ValueError(
                f"DataLoader: images of different sizes {sorted(shapes)} cannot be batched "
                "without cropping: pass crop=SIZE"
            )
        chw = np.stack(crops).transpose(0, 3, 1, 2)
        L = np.ascontiguousarray(chw[:, :1], dtype=np.float32)
        ab = np.ascontiguousarray(chw[:, 1:], dtype=np.float32)
        labels = None if self.dataset.labels is None else self.dataset.labels[idx].copy()
        return Batch(L, ab, labels)

    def __repr__(self) -> str:
        return (
            f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"seed={self.seed}, crop={self.crop}, epoch={self.epoch})"
        )


def random_split(dataset: ImageDataset, fractions, seed: int = 0) -> list[Subset]:
    """Split into disjoint random subsets, e.g. ``random_split(ds, (0.8, 0.2))``.

    Sizes are the fractions of ``len(dataset)`` rounded down, the remainder going to the first.
    """
    fractions = [float(f) for f in fractions]
    if any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"random_split: fractions must be >= 0 and sum to 1, got {fractions}")
    n = len(dataset)
    # rounded down after a nudge for binary floats: 0.29 * 100 is 28.999999999999996
    sizes = [int(np.floor(f * n + 1e-9)) for f in fractions]
    sizes[0] += n - sum(sizes)
    order = np.random.default_rng([seed, 2]).permutation(n)
    bounds = np.cumsum([0] + sizes)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def is_cifar10(data) -> bool:
    """Whether a ``--data`` value names a CIFAR-10 folder (not a name such as 'skimage')."""
    return (
        isinstance(data, str | Path)
        and str(data) not in ("default", "skimage", "synthetic", "scenes")
        and find_cifar10_dir(data) is not None
    )


def load_dataset(
    data=None,
    labels: bool | str = False,
    size=None,
    cache=True,
    train: bool = True,
    n_synthetic: int = 300,
    seed: int = 0,
    in_memory: bool = True,
) -> ImageDataset:
    """The dataset a ``--data`` argument names.

    - None or ``'default'``: the scikit-image photos, or with ``labels`` the synthetic scenes
      (they are the embedded labelled set);
    - ``'skimage'``; ``'synthetic'`` (``n_synthetic`` scenes of side ``size`` or 64, ``seed``);
    - a folder holding CIFAR-10 binary batches (or its ``cifar-10-batches-bin``): CIFAR-10,
      training or test split by ``train``;
    - any other folder: an :class:`ImageFolder`, with ``labels`` (True: ``'subfolders'``, or
      ``'directories'``, see :class:`ImageFolder`) from its subfolders.

    ``size`` resizes images to that short side (int) or exact (h, w) once, when loading.
    ``in_memory`` False keeps no image's Lab array once it has been given out (for one pass
    over a dataset too big for memory): an image folder reads each from its cache,
    memory-mapped, when it is asked for; the datasets held in memory (CIFAR-10, the skimage
    photos, the synthetic scenes) convert it again.
    """
    if data is None or str(data) == "default":
        data = "synthetic" if labels else "skimage"
    if str(data) == "skimage":
        if labels:
            raise ValueError("load_dataset: the skimage photos have no class labels")
        return _lab_memo(skimage_photos(size=size), in_memory)
    if str(data) in ("synthetic", "scenes"):
        side = 64 if size is None else size
        return _lab_memo(synthetic_scenes(n_synthetic, size=side, seed=seed), in_memory)
    path = Path(data).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"load_dataset: '{data}' is neither a folder nor one of 'default', 'skimage', "
            "'synthetic'"
        )
    if find_cifar10_dir(path) is not None:
        return _lab_memo(CIFAR10(path, train=train, size=size), in_memory)
    mode = labels if isinstance(labels, str) else ("subfolders" if labels else None)
    return ImageFolder(path, labels=mode, size=size, cache=cache, in_memory=in_memory)


def _lab_memo(ds: ArrayDataset, in_memory: bool) -> ArrayDataset:
    if not in_memory:
        ds.lab_memo_bytes = 0  # its Lab conversions are not remembered
    return ds
