"""What every Lab CNN colorizer shares: data, evaluation, figures and colorizing any image.

A Lab colorizer sees the lightness L of an image and predicts its two chroma planes a and b;
the picture is L with the predicted ab, converted back to sRGB. Everything around the network
is the same for every such model, so it lives here and a model file only declares its network,
its loss and ``predict_ab(model, L_net, config, device) -> ab``:

- **data** (:func:`load_data`): the images ``--data`` names (default: the colour photos that
  scikit-image ships, via :func:`tinycolor.data.load_dataset`), each resized once so its short
  side is ``--image-size`` (256 for photos by default, the scale ``evaluate`` scores at); a
  held-out test split of whole images (``--test-fraction``, at least one image); every
  training epoch draws ``--crops`` random ``--size`` crops of each training image (by
  default about 256 crops per epoch in all), each covering z times its side of the image
  (z log-uniform in ``--zoom``, 0.5 to 2 by default) resized to ``--size``, and flipped
  left-right with probability 1/2.
  The test set is the non-overlapping ``size x size`` tiles of the test images. The
  network's input is ``L / 50 - 1`` (in [-1, 1]); targets are ab in Lab units (about [-110, 110]).
  Two statistics of the training images ride along in the config (and so in the checkpoint):
  their mean ab (the ``mean_ab`` baseline) and the empirical prior over the ab bins (the
  weights of the classification loss).
  No image of a folder is held in memory: each is read from the folder's on-disk cache,
  memory-mapped, when a crop or a tile of it is cut (:class:`LabImages`); the statistics are
  counted one image at a time and the test tiles cut a batch at a time
  (:class:`HeldOutTiles`), so a folder of 36,500 photos trains in the memory of a few.
- **evaluation** (:func:`evaluate`): PSNR, SSIM, seed 004's within-10 accuracy ``acc10``,
  Zhang's AuC of the ab error (plain, and rebalanced: every colour class of the scored
  pixels alike, ``OWN_CLASSES``) and the colourfulness of the prediction,
  for the model at the top level and for two baselines on the same tiles: ``gray`` (ab = 0)
  and ``mean_ab`` (the training set's mean ab everywhere); plus the truth's colourfulness.
- **figures** (:func:`save_figures`): ``comparison.png``, rows of gray input | prediction | truth.
- **colorize** (:func:`colorize`): a fully convolutional model colours the whole image
  (padded to a multiple of its stride); a fixed-size model sees the image resized to its input
  size and its ab is resized back (it says so on stderr); the output keeps the input's own L.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import argtypes, backend
from .. import metrics as M
from ..autograd import Tensor, no_grad
from ..color import ab_bins, bin_counts, lab_to_rgb, nearest_bin, prior_from_counts, rgb_to_lab
from . import InputError

__all__ = [
    "DATA_DEFAULTS",
    "METRIC_KEYS",
    "OWN_CLASSES",
    "CROPS_PER_EPOCH",
    "PHOTO_SIZE",
    "SYNTHETIC_DATA",
    "SYNTHETIC_SIZE",
    "CropBatches",
    "LabData",
    "add_data_arguments",
    "colorize",
    "evaluate",
    "from_net_l",
    "host_array",
    "image_metrics",
    "load_data",
    "predict_batches",
    "start_at_the_data",
    "save_figures",
    "score",
    "Scores",
    "tiles",
    "truth_classes",
    "to_gray",
    "to_net_l",
    "unused_data_options",
]

#: The data keys every Lab model's ``DEFAULTS`` starts from. ``mean_ab`` and ``prior`` are
#: filled in by :func:`load_data` from the training images (not command-line options).
DATA_DEFAULTS = {
    "data": None,
    "size": 64,
    "image_size": None,  # None: PHOTO_SIZE, or SYNTHETIC_SIZE for the synthetic scenes
    "crops": None,  # None: CROPS_PER_EPOCH in all, shared out over the training images
    "zoom": (0.5, 2.0),  # the scales random crops are seen at (see transforms.random_zoom_crop)
    "test_fraction": 0.2,
    "val_tiles": 10_000,  # VAL_TILES
    "split_seed": None,  # None: the run's --seed (see split_seed)
    "n_synthetic": 300,
    "mean_ab": None,
    "prior": None,
}

#: At most this many held-out tiles make the held-out loss measured after each epoch (a fixed
#: seeded subset of them when there are more, see :class:`HeldOutSubset`): every tile of the
#: skimage photos, the synthetic scenes, Kodak, a CIFAR-10 folder's 10,000 or 3,000 photos
#: of Places365's val_256; 10,000 of the 116,800 of all 36,500 (at --test-fraction 0.2).
VAL_TILES = DATA_DEFAULTS["val_tiles"]

#: The ``--data`` values that name the synthetic scenes.
SYNTHETIC_DATA = ("synthetic", "scenes")

#: The short side images are resized to when ``--image-size`` is not given: photos at 256, the
#: scale ``evaluate`` scores at (a crop then shows the textures the network will be asked
#: to colour), the synthetic scenes at 128 (drawing them at 256 takes four times as long).
PHOTO_SIZE = 256
CIFAR_SIZE = 32  # CIFAR-10's images: 32x32
SYNTHETIC_SIZE = 128

#: Random crops per epoch when ``--crops`` is not given: an epoch is then the same amount of
#: work whether the data is 4 photos or 300 synthetic scenes.
CROPS_PER_EPOCH = 256

#: The metrics reported for the model and for each baseline.
METRIC_KEYS = ("psnr", "ssim", "acc10", "auc", "auc_rebalanced", "colorfulness")

FIGURE_TILES = 4  # test tiles shown in comparison.png (plus one whole test image)


# --------------------------------------------------------------------------- options


def add_data_arguments(
    parser,
    defaults: dict,
    title: str = "data",
    data_help: str | None = None,
    image_size_default: str | None = None,
):
    """The data options every Lab model shares (``--data --size --image-size --crops
    --test-fraction --split-seed --val-tiles``, and ``--n-synthetic`` when the model's
    ``DEFAULTS`` has ``n_synthetic``), defaults from those ``DEFAULTS``;
    ``image_size_default`` is what the help says ``--image-size`` defaults to when
    ``DEFAULTS`` leaves it None (by default what :func:`resolve_image_size` picks)."""
    if image_size_default is None:
        image_size_default = (
            f"{PHOTO_SIZE} for photos, {SYNTHETIC_SIZE} for the synthetic scenes, "
            f"{CIFAR_SIZE} for a CIFAR-10 folder"
        )
    g = parser.add_argument_group(title)
    g.add_argument(
        "--data",
        default=defaults["data"],
        help=data_help
        or "a folder of colour images (png/jpg/tif/bmp, recursive), a CIFAR-10 binary folder, "
        "'skimage' or 'synthetic' (default: the colour photos bundled with scikit-image)",
    )
    g.add_argument(
        "--size",
        type=argtypes.positive_int,
        default=defaults["size"],
        help="side of the square crops the network trains on",
    )
    g.add_argument(
        "--image-size",
        dest="image_size",
        type=argtypes.positive_int,
        default=defaults["image_size"],
        help="each image is first resized so that its short side is this many pixels"
        + (  # the model's own default is shown by the formatter when it has one
            f" (default: {image_size_default}; or --size if larger)"
            if defaults["image_size"] is None
            else ""
        ),
    )
    g.add_argument(
        "--crops",
        type=argtypes.positive_int,
        default=defaults["crops"],
        help="random crops drawn from each training image per epoch (default: about "
        f"{CROPS_PER_EPOCH} crops per epoch in all, at least 1 per image)",
    )
    g.add_argument(
        "--zoom",
        nargs=2,
        type=argtypes.positive_float,
        action=argtypes.OrderedPair,
        metavar=("LO", "HI"),
        default=defaults.get("zoom", (1.0, 1.0)),
        help="each training crop covers z times its side of the image, resized to --size, z "
        "drawn log-uniformly in [LO, HI] (1 1: plain crops)",
    )
    g.add_argument(
        "--test-fraction",
        dest="test_fraction",
        type=argtypes.fraction,
        default=defaults["test_fraction"],
        help="fraction of the images held out for testing (at least one image)",
    )
    g.add_argument(
        "--split-seed",
        dest="split_seed",
        type=argtypes.nonnegative_int,
        default=defaults.get("split_seed"),
        metavar="N",
        help="seeds which images are held out (and the synthetic scenes made); default: "
        "--seed. Runs with different --seed and one --split-seed hold out the same images, "
        "so their ensemble (evaluate --checkpoint A B ...) is scored on images none saw",
    )
    g.add_argument(
        "--val-tiles",
        dest="val_tiles",
        type=argtypes.nonnegative_int,
        default=defaults.get("val_tiles", VAL_TILES),
        help="the held-out loss after each epoch (its curve, --keep best) is measured on at most "
        "this many of the held-out tiles, the same seeded choice every epoch; the final scores "
        "use them all (0: all of them every epoch)",
    )
    if "n_synthetic" in defaults:
        g.add_argument(
            "--n-synthetic",
            dest="n_synthetic",
            type=argtypes.positive_int,
            default=defaults["n_synthetic"],
            help="number of synthetic scenes when --data is synthetic",
        )


def unused_data_options(config, synthetic: bool | None = None) -> dict[str, str]:
    """The data options that have no effect on a run with ``config`` (see ``unused_options``
    in :mod:`tinycolor.models`): ``--n-synthetic`` unless the images are the synthetic scenes
    (``synthetic``: whether they are; None: whether ``--data`` names them, as for
    :func:`load_data`)."""
    if synthetic is None:
        synthetic = config.get("data") in SYNTHETIC_DATA
    if synthetic:
        return {}
    data = config.get("data")
    where = f"--data {data}" if data is not None else "the default --data (the scikit-image photos)"
    return {"n_synthetic": f"with {where}: it counts the scenes of --data synthetic"}


# --------------------------------------------------------------------------- data


def to_net_l(L):
    """Lightness in [0, 100] as the network sees it: L / 50 - 1, in [-1, 1] (float32)."""
    return (np.asarray(L, dtype=np.float32) / np.float32(50.0) - np.float32(1.0)).astype(np.float32)


def from_net_l(x):
    """The inverse of :func:`to_net_l`: (x + 1) * 50."""
    return (np.asarray(x, dtype=np.float32) + np.float32(1.0)) * np.float32(50.0)


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """The gray image a Lab model sees: the CIE lightness L / 100, float32 (H, W) in [0, 1]."""
    return (np.asarray(rgb_to_lab(np.asarray(rgb, dtype=np.float32)))[..., 0] / 100.0).astype(
        np.float32
    )


def tiles(lab: np.ndarray, size: int) -> np.ndarray:
    """The non-overlapping ``size x size`` tiles of an (H, W, 3) image, the grid centred
    (a margin of less than one tile is left out): (K, size, size, 3). An image smaller than
    a tile gives its centre crop, resized up first."""
    from ..data import transforms  # noqa: PLC0415

    h, w = lab.shape[:2]
    if h < size or w < size:
        return transforms.center_crop(lab, size)[None]
    ny, nx = h // size, w // size
    top, left = (h - ny * size) // 2, (w - nx * size) // 2
    out = [
        lab[top + i * size : top + (i + 1) * size, left + j * size : left + (j + 1) * size]
        for i in range(ny)
        for j in range(nx)
    ]
    return np.stack(out)


def resolve_image_size(config, synthetic: bool) -> int:
    """``--image-size``, or when it is not given ``SYNTHETIC_SIZE`` for synthetic scenes,
    CIFAR-10's own 32 for a CIFAR-10 folder (scaled up to 256, its 50,000 images would take
    39 GB) and ``PHOTO_SIZE`` for anything else; at least ``--size``; stored back in
    ``config``."""
    from ..data import is_cifar10  # noqa: PLC0415

    size, image_size = int(config["size"]), config.get("image_size")
    if image_size is None:
        cifar = is_cifar10(config.get("data"))
        native = SYNTHETIC_SIZE if synthetic else CIFAR_SIZE if cifar else PHOTO_SIZE
        image_size = max(size, native)
    image_size = int(image_size)
    if image_size < size:
        raise InputError(
            f"--image-size {image_size} is smaller than the --size {size} crops; "
            f"use --image-size {size} or more"
        )
    config["image_size"] = image_size
    return image_size


def crops_per_image(config, n_train: int) -> int:
    """``--crops``, or when it is not given, enough crops of each of the ``n_train`` training
    images for about ``CROPS_PER_EPOCH`` per epoch (at least one); stored back in ``config``
    so the checkpoint records what the run used."""
    crops = config.get("crops")
    if crops is None:
        crops = max(1, round(CROPS_PER_EPOCH / max(1, int(n_train))))
    config["crops"] = int(crops)
    return int(crops)


def _split_planes(lab_nhwc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, H, W, 3) Lab -> network L (N, 1, H, W) and ab (N, 2, H, W), float32, contiguous."""
    chw = np.asarray(lab_nhwc, dtype=np.float32).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(to_net_l(chw[:, :1])), np.ascontiguousarray(chw[:, 1:])


class LabImages(Sequence):
    """The images of ``dataset`` at ``indices`` in Lab (H, W, 3) float32, each read when it is
    asked for: an image folder's from its on-disk cache, memory-mapped (see
    :func:`open_dataset`), so that a list of 36,500 photos holds none of them and training on
    a folder takes the memory of a few of its images, whatever their number. With ``size``,
    an image smaller than a ``size`` x ``size`` crop in either direction is resized up (the
    aspect ratio kept) as it is read. Indexed, sliced (another ``LabImages``) and iterated as
    a list; each access reads the image again."""

    def __init__(self, dataset, indices, size: int | None = None):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        self.size = None if size is None else int(size)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return LabImages(self.dataset, self.indices[k], self.size)
        n = len(self.indices)
        k = operator.index(k)
        if not -n <= k < n:
            raise IndexError(f"LabImages: index {k} out of range for {n} images")
        lab = np.asarray(self.dataset.lab(int(self.indices[k])), dtype=np.float32)
        h, w = lab.shape[:2]
        s = self.size
        if s is not None and (h < s or w < s):  # at least one crop in each direction
            from ..data import transforms  # noqa: PLC0415

            scale = max(s / h, s / w)
            lab = transforms.resize(lab, (max(s, round(h * scale)), max(s, round(w * scale))))
        return lab

    def __repr__(self) -> str:
        return f"LabImages({len(self)} images of {self.dataset!r})"


def open_dataset(data, **kwargs):
    """``load_dataset(data, **kwargs)`` for training: an image folder keeps no Lab array in
    memory (each is read from the folder's cache, memory-mapped, when a crop, a tile or a
    statistic needs it: a folder of any size takes the memory of a few of its images); the
    datasets held in memory anyway (the skimage photos, the synthetic scenes, CIFAR-10)
    remember their Lab conversions as they always do."""
    from ..data import is_cifar10, load_dataset  # noqa: PLC0415

    named = data is None or str(data) in ("default", "skimage", *SYNTHETIC_DATA)
    folder = not named and not is_cifar10(data)
    return load_dataset(data, in_memory=not folder, **kwargs)


def training_images(dataset, indices, size: int | None = None):
    """The images of ``dataset`` at ``indices`` as :class:`LabImages` (each read when it is
    asked for) when the dataset is a folder read from its cache; for a dataset held in memory
    anyway (the skimage photos, the synthetic scenes, CIFAR-10), the list of their Lab arrays,
    which then outlive the dataset and its RGB copy of the same images."""
    from ..data import ImageFolder  # noqa: PLC0415

    images = LabImages(dataset, indices, size)
    return images if isinstance(dataset, ImageFolder) else list(images)


class CropBatches:
    """Every epoch, ``crops`` random ``size`` crops of each training image (each seen at a
    scale drawn from ``zoom``, see :func:`tinycolor.data.transforms.random_zoom_crop`, and
    mirrored left-right with probability 1/2), shuffled, in batches ``(L_net, ab)``, or
    ``(L_net, ab, labels)`` when the images have class ``labels``: the
    ``batches(batch_size, rng, shuffle)`` source that ``train.py`` iterates. ``images`` is a
    list of Lab arrays or a :class:`LabImages` (each image read when one of its crops is
    cut)."""

    def __init__(self, images, size: int, crops: int, labels=None, zoom=(1, 1)):
        self.images = images  # Lab (H, W, 3) float32, each at least size x size
        self.size = int(size)
        self.crops = int(crops)
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        self.zoom = tuple(float(z) for z in zoom)

    def __len__(self) -> int:
        return len(self.images) * self.crops

    def num_batches(self, batch_size: int) -> int:
        return -(-len(self) // int(batch_size))

    def batches(self, batch_size: int, rng=None, shuffle: bool = True):
        from ..data import transforms  # noqa: PLC0415

        rng = np.random.default_rng(0) if rng is None else rng
        order = np.repeat(np.arange(len(self.images)), self.crops)
        if shuffle:
            order = rng.permutation(order)
        for s in range(0, len(order), batch_size):
            idx = order[s : s + batch_size]
            crops = []
            for i in idx:
                lab = transforms.random_zoom_crop(self.images[int(i)], self.size, self.zoom, rng)
                crops.append(transforms.random_hflip(lab, rng))
            L, ab = _split_planes(np.stack(crops))
            yield (L, ab) if self.labels is None else (L, ab, self.labels[idx].copy())

    def without_labels(self) -> CropBatches:
        """The same crops (for the same generator) as ``(L_net, ab)`` batches."""
        return CropBatches(self.images, self.size, self.crops, zoom=self.zoom)


def _n_tiles(h: int, w: int, size: int) -> int:
    """How many tiles :func:`tiles` cuts from an h x w image."""
    return 1 if h < size or w < size else (h // size) * (w // size)


class HeldOutTiles:
    """The test set: the non-overlapping ``size`` x ``size`` tiles of each held-out image
    (:func:`tiles`), image after image, cut as they are asked for. ``batches(batch_size)``
    gives them in that order as ``(L_net, ab)`` batches, or ``(L_net, ab, labels)`` when the
    images have class ``labels`` (one an image): the same batches as slices of the arrays of
    every tile would be, read one image at a time, so that the held-out loss and the
    evaluation of a test split of thousands of photos take the memory of a few.

    ``images`` is a list of Lab (H, W, 3) arrays or a :class:`LabImages`. Unpacked (``L_net,
    ab = test``) or indexed (``test[0]``) it is the tuple of arrays of every tile at once,
    (N, 1, s, s) and (N, 2, s, s) float32 (and the (N,) int64 labels): ``arrays()``, read
    for a small set."""

    def __init__(self, images, size: int, labels=None):
        self.images = images
        self.size = int(size)
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        self._counts = None

    @property
    def counts(self) -> np.ndarray:
        """The number of tiles of each image (their shapes read once)."""
        if self._counts is None:
            shapes = (self.images[k].shape for k in range(len(self.images)))
            self._counts = np.array([_n_tiles(h, w, self.size) for h, w, _ in shapes], np.int64)
        return self._counts

    def num_tiles(self) -> int:
        return int(self.counts.sum())

    def num_batches(self, batch_size: int) -> int:
        return -(-self.num_tiles() // int(batch_size))

    def _pack(self, tiles_nhwc: np.ndarray, owner: np.ndarray) -> tuple:
        """The batch of tiles (K, s, s, 3) cut from the images numbered ``owner`` (K,)."""
        L, ab = _split_planes(tiles_nhwc)
        return (L, ab) if self.labels is None else (L, ab, self.labels[owner])

    def batches(self, batch_size: int, rng=None, shuffle: bool = False):
        """The tiles in batches of ``batch_size`` (the last one smaller), in order: the tiles
        ``[0, batch_size)``, ``[batch_size, 2 batch_size)``, ... of all of them (each image read
        once); with ``shuffle``, in an order drawn from ``rng``."""
        batch_size = int(batch_size)
        if shuffle:
            rng = np.random.default_rng(0) if rng is None else rng
            order = rng.permutation(self.num_tiles())
            for s in range(0, len(order), batch_size):
                yield self.tiles_at(order[s : s + batch_size])
            return
        pending, have = [], 0  # (tiles, their image's number) cut but not yet given out
        for k in range(len(self.images)):
            cut = tiles(self.images[k], self.size)
            pending.append((cut, np.full(len(cut), k)))
            have += len(cut)
            if have < batch_size:
                continue
            block = np.concatenate([t for t, _ in pending])
            owner = np.concatenate([o for _, o in pending])
            full = have - have % batch_size
            for s in range(0, full, batch_size):
                yield self._pack(block[s : s + batch_size], owner[s : s + batch_size])
            pending = [(block[full:].copy(), owner[full:])] if full < have else []
            have -= full
        if have:
            block = np.concatenate([t for t, _ in pending])
            yield self._pack(block, np.concatenate([o for _, o in pending]))

    def tiles_at(self, indices) -> tuple:
        """The batch of the tiles at ``indices`` (positions in the order of ``batches``),
        reading only the images they are cut from."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        starts = np.concatenate([[0], np.cumsum(self.counts)])
        n = int(starts[-1])
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise IndexError(f"HeldOutTiles: tile indices out of range for {n} tiles")
        owner = np.searchsorted(starts, idx, side="right") - 1
        out = np.empty((len(idx), self.size, self.size, 3), dtype=np.float32)
        for k in np.unique(owner):
            where = owner == k
            out[where] = tiles(self.images[int(k)], self.size)[idx[where] - starts[k]]
        return self._pack(out, owner)

    def arrays(self) -> tuple:
        """Every tile at once: ``(L_net, ab)`` or ``(L_net, ab, labels)``, as arrays."""
        return next(self.batches(max(1, self.num_tiles())))

    def __iter__(self):
        return iter(self.arrays())

    def __getitem__(self, k):
        return self.arrays()[k]

    def without_labels(self) -> HeldOutTiles:
        """The same tiles as ``(L_net, ab)`` batches."""
        out = HeldOutTiles(self.images, self.size)
        out._counts = self._counts
        return out

    def __repr__(self) -> str:
        return f"HeldOutTiles({len(self.images)} images, {self.size}x{self.size} tiles)"


class HeldOutSubset:
    """The tiles of ``tiles`` (a :class:`HeldOutTiles`) at ``indices`` (positions in the order
    of its ``batches``, ascending), in batches as ``HeldOutTiles.batches`` gives them: the
    held-out loss's share of a large test set (``--val-tiles``), each image read for the
    tiles of it that are chosen."""

    def __init__(self, tiles: HeldOutTiles, indices):
        self.tiles = tiles
        self.indices = np.sort(np.asarray(indices, dtype=np.int64).reshape(-1))

    def num_tiles(self) -> int:
        return len(self.indices)

    def num_batches(self, batch_size: int) -> int:
        return -(-self.num_tiles() // int(batch_size))

    def batches(self, batch_size: int, rng=None, shuffle: bool = False):
        """The chosen tiles in batches of ``batch_size``, in order (or shuffled with ``rng``)."""
        order = self.indices
        if shuffle:
            order = (np.random.default_rng(0) if rng is None else rng).permutation(order)
        for s in range(0, len(order), int(batch_size)):
            yield self.tiles.tiles_at(order[s : s + int(batch_size)])

    def __repr__(self) -> str:
        return f"HeldOutSubset({self.num_tiles()} of {self.tiles.num_tiles()} tiles)"


#: Mixed into the seed that draws the held-out loss's tiles (``held_out_for_loss``), so that
#: the choice is its own stream, not the training generator's (which it must not move).
_VAL_TILES_STREAM = 0x76616C


def held_out_for_loss(test, config):
    """The held-out data the loss after each epoch is measured on: ``test`` itself, or, for a
    :class:`HeldOutTiles` of more than ``config['val_tiles']`` tiles (> 0), a
    :class:`HeldOutSubset` of that many, drawn once from :func:`split_seed` (``--split-seed``,
    else ``--seed``): the same tiles every epoch (the best epoch is chosen on one yardstick),
    on ``--resume`` (drawn again from the same seed and the same held-out images), and for
    every run that shares its ``--split-seed``."""
    cap = int(config.get("val_tiles") or 0)
    if not cap or not isinstance(test, HeldOutTiles) or test.num_tiles() <= cap:
        return test
    rng = np.random.default_rng([split_seed(config), _VAL_TILES_STREAM])
    return HeldOutSubset(test, rng.choice(test.num_tiles(), cap, replace=False))


@dataclass
class LabData:
    """The training crops, the test tiles, and what the figures and evaluation need."""

    train: CropBatches
    test: HeldOutTiles  # (L_net (N, 1, s, s), ab (N, 2, s, s)) float32 when unpacked
    test_images: Sequence  # Lab (H, W, 3) float32, the whole held-out images: a list,
    # or LabImages (a folder's, read as needed)
    train_names: list
    test_names: list
    description: str
    test_pred: np.ndarray | None = field(default=None, repr=False)  # set by evaluate


def split_seed(config) -> int:
    """The seed of what a run sees as its data: which images it holds out (and the held-out
    loss's tiles of them), and the synthetic scenes it generates. ``--split-seed`` when given,
    else the run's ``--seed``: runs that differ only in ``--seed`` but share a
    ``--split-seed`` train different networks on the same images and hold out the same ones,
    so that their ensemble (``evaluate --checkpoint A B ...``) is scored on images none of
    its members saw."""
    chosen = config.get("split_seed")
    return int(config.get("seed", 0) if chosen is None else chosen)


def load_data(config) -> LabData:
    """Read the ``--data`` images, split them, and put the training set's mean ab and ab
    prior into ``config`` (``config["mean_ab"]``, ``config["prior"]``). A folder's images
    are not held: each is read from its cache, memory-mapped, when a crop or a tile of it is
    cut (:func:`training_images`); the statistics are counted one image at a time."""
    data = config.get("data")
    size = int(config["size"])
    image_size = resolve_image_size(config, synthetic=data in SYNTHETIC_DATA)
    try:
        ds = open_dataset(
            data,
            size=image_size,
            seed=split_seed(config),
            n_synthetic=int(config.get("n_synthetic", 300)),
        )
    except (FileNotFoundError, NotADirectoryError, ValueError, RuntimeError) as exc:
        raise InputError(f"--data {data}: {exc}") from None
    n = len(ds)
    if n < 2:
        raise InputError(
            f"--data {data}: found {n} colour image; a held-out test image needs at least 2"
        )
    n_test = min(n - 1, max(1, round(float(config["test_fraction"]) * n)))
    order = np.random.default_rng([split_seed(config), 4]).permutation(n)
    test_idx, train_idx = sorted(order[:n_test]), sorted(order[n_test:])
    # each at least one crop in each direction
    train_images = training_images(ds, train_idx, size)
    test_images = training_images(ds, test_idx, size)
    set_training_statistics(config, train_images)
    names = list(getattr(ds, "names", [])) or [f"image_{k}" for k in range(n)]
    source = "the scikit-image photos" if data in (None, "default", "skimage") else str(data)
    return LabData(
        train=CropBatches(
            train_images,
            size,
            crops_per_image(config, len(train_images)),
            zoom=config.get("zoom", (1.0, 1.0)),
        ),
        test=HeldOutTiles(test_images, size),
        test_images=test_images,
        train_names=[names[i] for i in train_idx],
        test_names=[names[i] for i in test_idx],
        description=(
            f"{source}: {len(train_idx)} training images, {n_test} test images "
            f"({', '.join(names[i] for i in test_idx)}), short side {image_size}, "
            f"{size}x{size} crops/tiles"
        ),
    )


# --------------------------------------------------------------------------- initialisation


def start_at_the_data(bias, config, output: str, scale: float = 1.0) -> bool:
    """Set an output layer's ``bias`` (a Tensor, in place) so that the untrained network
    predicts what the training images say before it has seen any of them: their mean ab, or
    their ab prior. The weights stay random, so training starts from the mean-ab baseline
    rather than from ab = 0 (the usual "initialise the last bias to the data" advice).

    ``output`` names how the layer's outputs become colour:

    - ``"sigmoid255"``: ab = 255 sigmoid(z) - 128; bias = logit((mean ab + 128) / 255), per
      channel, repeated over the bias when it holds a whole plane per channel (a, then b);
    - ``"tanh128"``: ab = 128 tanh(z); bias = atanh(mean ab / 128), per channel;
    - ``"linear"``: ab = ``scale`` z; bias = mean ab / scale, per channel;
    - ``"log_prior"``: z are logits over the ab bins; bias = log(prior) (softmax(z) = prior).

    Returns False (and leaves the bias alone) when ``config`` has no statistics yet."""
    xp = backend.array_module(bias.data)
    if output == "log_prior":
        prior = config.get("prior")
        if prior is None or len(prior) != bias.shape[0]:
            return False
        p = np.asarray(prior, dtype=np.float64)
        bias.data[...] = xp.asarray(np.log(np.maximum(p, 1e-8)), dtype=bias.dtype)
        return True
    mean_ab = config.get("mean_ab")
    if mean_ab is None:
        return False
    m = np.asarray(mean_ab, dtype=np.float64)
    if output == "sigmoid255":
        y = np.clip((m + 128.0) / 255.0, 1e-4, 1 - 1e-4)
        z = np.log(y / (1 - y))
    elif output == "tanh128":
        z = np.arctanh(np.clip(m / 128.0, -0.999, 0.999))
    elif output == "linear":
        z = m / float(scale)
    else:
        raise ValueError(f"start_at_the_data: unknown output {output!r}")
    per_channel = np.repeat(z, bias.shape[0] // 2)
    bias.data[...] = xp.asarray(per_channel, dtype=bias.dtype)
    return True


# --------------------------------------------------------------------------- prediction


def predict_batches(predict_ab, model, L_net: np.ndarray, config, device=None, batch: int = 32):
    """``predict_ab`` over ``L_net`` (N, 1, H, W) in chunks, in eval mode without gradients:
    NumPy ab (N, 2, H, W) float32, the inputs on ``device`` (None: the model's)."""
    was_training = model.training
    model.eval()
    out = []
    try:
        with no_grad():
            for s in range(0, len(L_net), batch):
                ab = predict_ab(model, np.ascontiguousarray(L_net[s : s + batch]), config, device)
                out.append(np.asarray(host_array(ab), dtype=np.float32))
    finally:
        model.train(was_training)
    return np.concatenate(out)


def host_array(x):
    """A prediction (a Tensor, or an array on any device) as a NumPy array."""
    if isinstance(x, Tensor):
        return x.numpy()
    from ..backend import to_numpy  # noqa: PLC0415

    return to_numpy(x)


def _lab_to_rgb_batch(L: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """L (N, 1, H, W) in [0, 100] and ab (N, 2, H, W) -> sRGB (N, H, W, 3) in [0, 1]."""
    lab = np.concatenate([L, ab], axis=1).astype(np.float32)
    return np.ascontiguousarray(np.asarray(lab_to_rgb(lab, channel_axis=1)).transpose(0, 2, 3, 1))


# --------------------------------------------------------------------------- evaluation


#: Images scored at a time by ``score``: its float64 sRGB and SSIM intermediates grow with the
#: batch (8 GB for the 4,000 held-out tiles of 200 photos, in one piece). ``evaluate`` reads
#: and predicts the test tiles this many at a time too: a multiple of ``predict_batches``' 32,
#: so that the network sees the batches it would see given every tile at once.
SCORE_CHUNK = 256


#: ``Scores(OWN_CLASSES)``, ``score(..., prior=OWN_CLASSES)``: the rebalanced AuC weighs each
#: pixel by 1 / its true colour class's share of the scored pixels, every class present
#: counting alike (the mean over the classes of their AuC), as ``train`` and ``evaluate`` do.
OWN_CLASSES = "own classes"


class Scores:
    """``score``'s metrics gathered a chunk of at most ``SCORE_CHUNK`` images at a time
    (``add``): of each image its PSNR, SSIM and colourfulness are kept, of each chunk its
    pooled acc10 and AuCs and their weights; ``result()`` averages them as ``score`` does.
    Chunks of ``SCORE_CHUNK`` images from the first on give ``score``'s numbers to the last
    digit.

    ``prior``: None, no rebalanced AuC; a (Q,) prior over the ab bins, each pixel weighed by
    1 / p of its true colour's bin (Zhang's rule, with his training set's prior);
    ``OWN_CLASSES``, the prior of the scored pixels themselves, gathered as they come: the
    AuC terms are summed per colour class (``classes``), and the result is the mean over the
    classes of their AuC, one pass over any number of chunks."""

    def __init__(self, prior=None):
        self.own = isinstance(prior, str)
        if self.own and prior != OWN_CLASSES:
            raise ValueError(f"Scores: prior must be an array, None or OWN_CLASSES, got {prior!r}")
        self.w_prior = None if prior is None or self.own else np.asarray(prior, np.float32)
        self.per_image = {"psnr": [], "ssim": [], "colorfulness": []}
        self.pooled = {"acc10": [], "auc": [], "auc_rebalanced": []}  # (value, weight) pairs
        self.classes = None  # OWN_CLASSES: (sums, counts) of the AuC terms per colour class
        self.has_ssim = None

    def add(
        self,
        L: np.ndarray,
        ab_pred: np.ndarray,
        ab_true: np.ndarray,
        rgb_true: np.ndarray | None = None,
        weights: np.ndarray | None = None,
    ) -> None:
        """Score one chunk: L (N, 1, H, W) in [0, 100], ab (N, 2, H, W), N <= SCORE_CHUNK.
        ``rgb_true`` (the truth in sRGB, ``_lab_to_rgb_batch(L, ab_true)``) and ``weights``
        (the truth's rebalancing weights for this prior, or with ``OWN_CLASSES`` its colour
        classes, ``truth_classes(ab_true)``) are computed here unless given: ``evaluate``
        scores the model and two baselines against the same truth and computes them once."""
        per_image, pooled = self.per_image, self.pooled
        self.has_ssim = min(L.shape[2:]) >= 7
        rgb_pred = _lab_to_rgb_batch(L, ab_pred)
        if rgb_true is None:
            rgb_true = _lab_to_rgb_batch(L, ab_true)
        per_image["psnr"].append(np.atleast_1d(M.psnr(rgb_pred, rgb_true)))
        if self.has_ssim:
            per_image["ssim"].append(np.atleast_1d(M.ssim(rgb_pred, rgb_true)))
        per_image["colorfulness"].append(np.atleast_1d(M.colorfulness(rgb_pred)))
        pixels = float(ab_pred[:, 0].size)
        pooled["acc10"].append((M.acc_within(ab_pred, ab_true, 10.0, channel_axis=1), pixels))
        pooled["auc"].append((M.auc_ab(ab_pred, ab_true, channel_axis=1), pixels))
        if self.own:
            part = M.auc_ab_by_class(ab_pred, ab_true, channel_axis=1, classes=weights)
            self.classes = add_class_sums(self.classes, part)
        elif self.w_prior is not None:
            w = weights
            if w is None:
                w = M.rebalanced_pixel_weights(ab_true, self.w_prior, channel_axis=1)
            total = float(np.sum(w))
            if total > 0:
                auc = M.auc_ab(ab_pred, ab_true, weights=w, channel_axis=1)
                pooled["auc_rebalanced"].append((auc, total))

    def result(self) -> dict:
        def pool(parts):
            weight = sum(wt for _, wt in parts)
            return float(sum(v * wt for v, wt in parts) / weight) if parts else None

        def mean(key):
            return float(np.mean(np.concatenate(self.per_image[key])))

        if self.own:
            rebalanced = None if self.classes is None else M.class_mean(*self.classes)
        else:
            rebalanced = pool(self.pooled["auc_rebalanced"])
        return {
            "psnr": mean("psnr"),
            "ssim": mean("ssim") if self.has_ssim else None,
            "acc10": pool(self.pooled["acc10"]),
            "auc": pool(self.pooled["auc"]),
            "auc_rebalanced": rebalanced,
            "colorfulness": mean("colorfulness"),
        }


def add_class_sums(total, part):
    """Per-class ``(sums, counts)`` of the AuC terms (``metrics.auc_ab_by_class``): ``part``
    added to ``total``, None before the first."""
    return part if total is None else (total[0] + part[0], total[1] + part[1])


def truth_classes(ab_true: np.ndarray) -> np.ndarray:
    """The colour class (nearest ab bin) of each pixel of ab (N, 2, H, W): what
    ``Scores(OWN_CLASSES).add`` takes as ``weights`` when several predictions of one truth
    are scored."""
    return nearest_bin(ab_true, channel_axis=1)


def score(L: np.ndarray, ab_pred: np.ndarray, ab_true: np.ndarray, prior=None) -> dict:
    """The metrics of one prediction of a batch, ``METRIC_KEYS``.

    L (N, 1, H, W) in [0, 100], ab (N, 2, H, W). PSNR, SSIM and colourfulness are computed on
    the sRGB images and averaged over images; acc10 and the AuCs pool every pixel;
    ``auc_rebalanced`` weights each pixel by 1 / prior of its true colour's bin (Zhang), with
    ``prior=OWN_CLASSES`` the scored pixels' own (what ``train`` and ``evaluate`` report);
    without a prior it is None. Computed ``SCORE_CHUNK`` images at a time (:class:`Scores`),
    so memory does not grow with N."""
    scores = Scores(prior)
    for s in range(0, len(L), SCORE_CHUNK):
        scores.add(*(a[s : s + SCORE_CHUNK] for a in (L, ab_pred, ab_true)))
    return scores.result()


def figure_tiles(n: int, k: int = FIGURE_TILES) -> np.ndarray:
    """The positions of the test tiles ``comparison.png`` shows, spread over all ``n``."""
    return np.linspace(0, n - 1, min(k, n)).round().astype(int)


def evaluate(predict_ab, model, data: LabData, config, device: str | None = None) -> dict:
    """The model's metrics on the test tiles (top level), the ``gray`` and ``mean_ab``
    baselines' on the same tiles (under ``baselines``), the truth's colourfulness, the number
    of tiles (``images``) and the training-set metrics (``train``, on one epoch's worth of
    fresh crops, for a look at overfitting).

    The tiles are read, predicted and scored ``SCORE_CHUNK`` at a time (``data.test``'s
    batches), so that a test split of any number of images takes the memory of a few;
    ``data.test_pred`` keeps the predictions of the tiles ``save_figures`` shows."""
    # the rebalanced AuC weighs a pixel by 1 / its colour class's share of the tiles' pixels,
    # so that every class present counts alike (evaluate's rule): summed per class as it goes
    mean_ab = np.asarray(config.get("mean_ab") or (0.0, 0.0), np.float32).reshape(1, 2, 1, 1)
    scores = {who: Scores(OWN_CLASSES) for who in ("model", "gray", "mean_ab")}
    truth_cf = []
    pick = figure_tiles(data.test.num_tiles())
    shown = []
    seen = 0
    from tqdm import tqdm  # noqa: PLC0415

    from ..data.folder import _BARS  # noqa: PLC0415

    # minutes for the tiles of thousands of held-out photos: a bar, on a terminal (not with
    # train's --quiet, see data.progress_bars)
    chunks = tqdm(
        data.test.batches(SCORE_CHUNK),
        total=data.test.num_batches(SCORE_CHUNK),
        desc="scoring the held-out tiles",
        unit="chunk",
        file=sys.stderr,
        leave=False,
        dynamic_ncols=True,
        disable=None if _BARS.get() else True,
    )
    for L_net, ab_true, *_ in chunks:
        L = from_net_l(L_net)
        ab_pred = predict_batches(predict_ab, model, L_net, config, device)
        # the truth in sRGB and its colour classes, once for the three scores
        rgb_true = _lab_to_rgb_batch(L, ab_true)
        w = truth_classes(ab_true)
        scores["model"].add(L, ab_pred, ab_true, rgb_true, w)
        scores["gray"].add(L, np.zeros_like(ab_true), ab_true, rgb_true, w)
        mean = np.broadcast_to(mean_ab, ab_true.shape).copy()
        scores["mean_ab"].add(L, mean, ab_true, rgb_true, w)
        truth_cf.append(np.atleast_1d(M.colorfulness(rgb_true)))
        here = pick[(pick >= seen) & (pick < seen + len(L_net))] - seen
        shown.append(ab_pred[here])
        seen += len(L_net)
    data.test_pred = np.concatenate(shown)
    metrics = scores["model"].result()
    metrics["baselines"] = {"gray": scores["gray"].result(), "mean_ab": scores["mean_ab"].result()}
    metrics["truth"] = {"colorfulness": float(np.mean(np.concatenate(truth_cf)))}
    metrics["images"] = int(seen)
    rng = np.random.default_rng([int(config.get("seed", 0)), 5])
    tl, tab = next(data.train.batches(min(len(data.train), 256), rng, shuffle=True))
    train_pred = predict_batches(predict_ab, model, tl, config, device)
    metrics["train"] = score(from_net_l(tl), train_pred, tab, OWN_CLASSES)
    metrics["data"] = data.description
    return metrics


# --------------------------------------------------------------------------- figures


def save_figures(
    predict_ab, model, data: LabData, config, run_dir, device=None, name="", colorize_fn=None
):
    """``comparison.png``: rows of gray input | prediction | truth, for a few test tiles and
    (with ``colorize_fn``) the first whole test image."""
    from .. import viz  # noqa: PLC0415

    pick = figure_tiles(data.test.num_tiles())
    k = len(pick)
    L_net, ab_true = data.test.tiles_at(pick)[:2]
    pred = data.test_pred  # evaluate's predictions of these tiles
    if pred is None or len(pred) != k:
        pred = predict_batches(predict_ab, model, L_net, config, device)
    L = from_net_l(L_net)
    rgb_pred = _lab_to_rgb_batch(L, pred)
    rgb_true = _lab_to_rgb_batch(L, ab_true)
    panels = []
    for j in range(k):
        acc = M.acc_within(pred[j], ab_true[j], 10.0, channel_axis=0)
        p = M.psnr(rgb_pred[j], rgb_true[j])
        panels += [
            (f"test tile {pick[j]}: gray input", L[j, 0] / 100.0),
            (f"prediction (PSNR {p:.1f} dB, acc10 {acc:.2f})", rgb_pred[j]),
            ("truth", rgb_true[j]),
        ]
    if colorize_fn is not None and data.test_images:
        lab = data.test_images[0]
        rgb = np.asarray(lab_to_rgb(lab), dtype=np.float32)
        whole = colorize_fn(model, rgb, config, device=device, quiet=True)
        title = data.test_names[0] if data.test_names else "test image"
        panels += [
            (f"{title}: gray input", lab[..., 0] / 100.0),
            ("prediction (whole image)", whole),
            ("truth", rgb),
        ]
    path = Path(run_dir) / "comparison.png"
    viz.image_grid(panels, path, ncols=3, title=f"{name}: held-out test images")
    return [path]


# --------------------------------------------------------------------------- colorize


def largest_scale(config) -> int | None:
    """The largest short side at which a fully convolutional model saw its photos: they were
    resized to short side ``image_size``, and a crop covering z times its side of one was
    resized to the crop size, z in ``zoom``, so the smallest z magnified them to
    ``image_size / z`` (512 for 256 and the default zoom 0.5 to 2). None for a checkpoint
    that does not say (its photos' size unknown)."""
    if config.get("image_size") is None:
        return None
    lo = float((config.get("zoom") or (1.0, 1.0))[0])
    return int(round(int(config["image_size"]) / min(lo, 1.0)))


def colorize(
    predict_ab,
    model,
    rgb: np.ndarray,
    config,
    device: str | None = None,
    fixed_size: int | None = None,
    multiple: int = 1,
    name: str = "",
    quiet: bool = False,
) -> np.ndarray:
    """Colour an image of any size: uint8 (H, W, 3), with the input's own lightness.

    ``rgb`` float in [0, 1], (H, W, 3) (a colour image is made gray first: only its L is used)
    or (H, W). A fully convolutional model (``fixed_size`` None) sees the whole image,
    edge-padded to a multiple of ``multiple``, at most at the largest scale it trained at
    (``largest_scale``: a bigger photo is predicted smaller and its colour resized back); a
    fixed-size model sees it resized to ``fixed_size`` squared, and its ab is resized back.
    Either resizing is said on stderr unless ``quiet``.
    """
    from ..data import transforms  # noqa: PLC0415

    img = np.asarray(rgb, dtype=np.float32)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    if img.ndim != 3 or img.shape[-1] != 3 or min(img.shape[:2]) < 1:
        raise InputError(f"expected an (H, W, 3) RGB image, got shape {img.shape}")
    h, w = img.shape[:2]
    L = _by_rows(lambda rows: np.asarray(rgb_to_lab(img[rows]), dtype=np.float32)[..., 0], h)
    if fixed_size is not None:
        s = int(fixed_size)
        L_net, m = transforms.resize(L, (s, s)), 1
        why = f"the network takes {s}x{s} inputs; the {w}x{h} image was resized to {s}x{s}"
    else:
        cap = largest_scale(config)
        L_net = L if cap is None or min(h, w) <= cap else transforms.resize(L, cap)
        m = int(multiple)
        why = (
            f"the {w}x{h} image is larger than the photos it trained on: it was seen at "
            f"{L_net.shape[1]}x{L_net.shape[0]} (short side {cap}, the largest scale it "
            "trained at)"
        )
    hs, ws = L_net.shape
    ph, pw = -hs % m, -ws % m  # a fully convolutional model: edge-padded to its stride
    L_in = np.pad(L_net, ((0, ph), (0, pw)), mode="edge") if (ph or pw) else L_net
    ab = predict_batches(predict_ab, model, to_net_l(L_in)[None, None], config, device)[0]
    ab = ab[:, :hs, :ws]
    if (hs, ws) != (h, w):
        ab = transforms.resize(ab.transpose(1, 2, 0), (h, w)).transpose(2, 0, 1)
        if not quiet:
            print(
                f"{name}: {why}, and the predicted colour resized back (the lightness is the "
                "original's)",
                file=sys.stderr,
            )

    def to_uint8(rows: slice) -> np.ndarray:
        lab = np.concatenate([L[None, rows], ab[:, rows]], axis=0)
        out = np.asarray(lab_to_rgb(lab, channel_axis=0)).transpose(1, 2, 0)
        return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)

    return _by_rows(to_uint8, h)


# Rows of a photo converted between RGB and Lab at a time by ``colorize``: the conversions make
# several float temporaries of their input's size, which for a whole 6000x4000 photo came to
# 2.2 GB at once. Each pixel converts on its own, so the result is the same.
CONVERT_ROWS = 256


def _by_rows(convert, h: int) -> np.ndarray:
    """``convert(rows)`` for the slices of ``CONVERT_ROWS`` rows of an image ``h`` rows high,
    joined along the first axis."""
    blocks = [convert(slice(r, r + CONVERT_ROWS)) for r in range(0, h, CONVERT_ROWS)]
    return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)


def set_training_statistics(config, train_images) -> None:
    """config["mean_ab"] and config["prior"] from the training images (H, W, 3 Lab): the
    mean-ab baseline and the regression models' starting output; the empirical ab prior,
    smoothed with the soft-encoding's Gaussian (``--sigma``; 5 where a model has none), for
    the rebalancing weights and the classification models' starting output. One pass, one
    image at a time (``train_images`` may read each as it is asked for); the numbers counted
    of a folder's image (its pixels, ab sums and bin counts) are kept in the folder's cache
    beside its Lab array, so that a second run does not count them again."""
    bins = np.asarray(ab_bins(), dtype=np.float64)
    total, sums = 0, 0
    counts = np.zeros(len(bins), dtype=np.float64)
    for stats in _image_statistics(train_images, bins):
        total += int(stats[0])
        sums = sums + stats[1:3]
        counts += stats[3:]
    prior = prior_from_counts(counts, bins, sigma=float(config.get("sigma", 5.0)))
    mean_ab = sums / total
    config["mean_ab"] = [round(float(v), 4) for v in mean_ab]
    config["prior"] = [float(f"{p:.6g}") for p in prior]


#: Bump when what ``_image_statistics`` counts of an image changes.
STATISTICS_VERSION = 1


def _image_statistics(images, bins):
    """Of each image, in order, a float64 (3 + Q,) array: its number of pixels, the float64
    sums of its a and of its b, and how many of its pixels have each bin as their nearest.
    Those of a folder's image read from its cache (:class:`LabImages`) are kept in that
    cache, under a key made of the image's own (its file, size, times and preparation), the
    crop size it may be resized to, and the bins, and read back from there."""
    import hashlib  # noqa: PLC0415
    import json  # noqa: PLC0415

    cache, keys = None, None
    if isinstance(images, LabImages):
        cache = getattr(images.dataset, "cache", None)
        keys = getattr(images.dataset, "_keys", None)
    bins_id = hashlib.sha256(np.ascontiguousarray(bins).tobytes()).hexdigest()
    for k in range(len(images)):
        key = None
        if cache is not None and keys is not None:
            image_key = keys[int(images.indices[k])]
            if image_key is not None:
                record = {
                    "image": image_key,
                    "size": images.size,
                    "bins": bins_id,
                    "version": STATISTICS_VERSION,
                }
                blob = json.dumps(record, sort_keys=True).encode()
                key = hashlib.sha256(blob).hexdigest()
                stats = cache.load_array(key)
                if stats is not None and stats.shape == (3 + len(bins),):
                    yield stats
                    continue
        ab = images[k][..., 1:]
        stats = np.empty(3 + len(bins), dtype=np.float64)
        stats[0] = ab.shape[0] * ab.shape[1]
        stats[1:3] = ab.reshape(-1, 2).astype(np.float64).sum(0)
        stats[3:] = bin_counts(ab, bins)
        if key is not None:
            cache.save_array(key, stats)
        yield stats


def image_metrics(pred: np.ndarray, rgb: np.ndarray, config) -> dict:
    """PSNR, SSIM, acc10, AuC and colourfulness of a colorization (uint8) against its original."""
    pred_f = np.asarray(pred, dtype=np.float32) / 255.0 if pred.dtype == np.uint8 else pred
    rgb = np.asarray(rgb, dtype=np.float32)
    ab_p = np.asarray(rgb_to_lab(pred_f))[..., 1:]
    ab_t = np.asarray(rgb_to_lab(rgb))[..., 1:]
    out = {"psnr": M.psnr(pred_f, rgb)}
    if min(rgb.shape[:2]) >= 7:
        out["ssim"] = M.ssim(pred_f, rgb)
    out["acc10"] = M.acc_within(ab_p, ab_t, 10.0)
    out["auc"] = M.auc_ab(ab_p, ab_t)
    out["colorfulness"] = M.colorfulness(pred_f)
    out["truth_colorfulness"] = M.colorfulness(rgb)
    return out
