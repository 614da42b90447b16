"""classifier: a small grayscale image classifier, the scene recogniser the fusion models reuse.

Not a colorizer. It sees only the lightness of an image (network scale ``L / 50 - 1``) and
predicts its class (beach / sunset / forest for the synthetic scenes, or the class subfolders
of ``--data``). Two architectures (``--arch``):

``plain`` (the default)::

    L (1 x s x s) -> [conv 3x3 -> BatchNorm -> ReLU -> maxpool 2] x blocks (no pool after
                     the last) -> global average pool (the *embedding*,
                     ``width * 2^(blocks-1)`` numbers) -> linear -> class logits

``resnet``: ResNet-18's layout on one channel (He et al. 2016; ``--width 64 --blocks 4`` is
ResNet-18 itself), the encoder that ``cnn_resnet`` (seed 001) pretrains this way.

Trained with cross-entropy; reports accuracy beside the majority-class and chance baselines.
``cnn_koala`` fuses the pooled features of a trained classifier into its colorizer, as Deep
Koalarization (seed 002) does with Inception-ResNet-v2's: :func:`load_classifier` reads a
checkpoint, :meth:`GrayClassifier.embed` gives the features, and :func:`resolve_classifier`
finds or trains the classifier a model builds on.

This file also holds the *labelled* Lab data that the classifier and the fusion colorizers
share (:func:`load_labelled_data`): images with their class, random crops for training and
the non-overlapping tiles of each held-out image for testing, with the network's L, the ab
planes and the label in every batch. Its ``lab_view()`` is the unlabelled view that
:mod:`tinycolor.models.lab_common`'s evaluation and figures read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import argtypes, nn
from .. import functional as F
from ..autograd import Tensor, no_grad
from . import InputError, lab_common

NAME = "classifier"
DESCRIPTION = "a small grayscale image classifier (L -> class)"

#: The data keys every labelled model's ``DEFAULTS`` starts from. ``class_names``, ``mean_ab``
#: and ``prior`` are filled in by :func:`load_labelled_data` (not command-line options).
LABELLED_DEFAULTS = {
    "data": None,
    "size": 64,
    "image_size": None,  # None: lab_common.PHOTO_SIZE, or SYNTHETIC_SIZE for the scenes
    "crops": None,  # None: about lab_common.CROPS_PER_EPOCH per epoch
    "zoom": (0.5, 2.0),  # as lab_common.DATA_DEFAULTS
    "test_fraction": 0.2,
    "split_seed": None,  # as lab_common.DATA_DEFAULTS
    "val_tiles": lab_common.VAL_TILES,
    "n_synthetic": 300,
    "class_names": None,
    "mean_ab": None,
    "prior": None,
}

DEFAULTS = {
    **LABELLED_DEFAULTS,
    "image_size": None,  # None: IMAGE_SIZE, or a CIFAR-10 folder's own 32 (see load_data)
    "zoom": (1.0, 1.0),
    "arch": "plain",
    "width": 16,
    "blocks": 4,
    "epochs": 10,
    "batch_size": 32,
    "lr": None,
    "optimizer": "adam",
    "seed": 0,
}

LEARNING_RATES = {"sgd": 0.05, "momentum": 0.01, "rmsprop": 1e-3, "adam": 3e-3}

#: The short side a classifier's images are resized to when ``--image-size`` is not given:
#: that of the default crop, so that the whole scene is the crop (what a classifier should
#: see). A CIFAR-10 folder's images stay at their own 32, as for the colorizers.
IMAGE_SIZE = 64
LOSS_LABEL = "cross-entropy over the classes"
FIGURE_IMAGES = 12
ARCHS = ("plain", "resnet")


# --------------------------------------------------------------------------- options


def add_labelled_data_arguments(parser, defaults: dict, image_size_default=None) -> None:
    """``--data --size --image-size --crops --test-fraction --val-tiles --n-synthetic`` for
    every model that trains on labelled images (defaults from the model's ``DEFAULTS``;
    ``image_size_default`` as in ``lab_common.add_data_arguments``)."""
    lab_common.add_data_arguments(
        parser,
        defaults,
        title="labelled data",
        data_help="a folder whose subfolders are the classes (png/jpg/tif/bmp inside, recursive), "
        "a CIFAR-10 binary folder, or 'synthetic' (default: synthetic beach/sunset/forest "
        "scenes); the colorizers also take a folder without subfolders, or 'skimage', as one "
        "class",
        image_size_default=image_size_default,
    )


def add_arguments(parser) -> None:
    add_labelled_data_arguments(
        parser,
        DEFAULTS,
        image_size_default=f"{IMAGE_SIZE}, {lab_common.CIFAR_SIZE} for a CIFAR-10 folder",
    )
    g = parser.add_argument_group("classifier")
    g.add_argument(
        "--arch",
        choices=ARCHS,
        default=DEFAULTS["arch"],
        help="plain: conv/BN/ReLU/pool blocks; resnet: a ResNet-18-style network (the "
        "encoder cnn_resnet reuses)",
    )
    g.add_argument(
        "--width",
        type=argtypes.positive_int,
        default=DEFAULTS["width"],
        help="channels of the first block (each later block doubles them; ResNet-18: 64)",
    )
    g.add_argument(
        "--blocks",
        type=_blocks,
        default=DEFAULTS["blocks"],
        help="plain: conv/BN/ReLU/pool blocks (1..6); resnet: stages of two residual blocks "
        "(1..4; ResNet-18 has 4)",
    )


def _blocks(text: str) -> int:
    n = argtypes.positive_int(text)
    if n > 6:
        raise argparse.ArgumentTypeError(f"expected 1 to 6 blocks, got {n}")
    return n


# --------------------------------------------------------------------------- labelled data


class LabelledCrops(lab_common.CropBatches):
    """Every epoch, ``crops`` random ``size`` crops of each training image (at the scales of
    ``zoom``, mirrored left-right with probability 1/2), shuffled, in batches
    ``(L_net, ab, labels)``."""

    def __init__(self, images: list, labels: np.ndarray, size: int, crops: int = 1, zoom=(1, 1)):
        super().__init__(images, size, crops, labels=labels, zoom=zoom)


@dataclass
class LabelledData:
    """Labelled training crops, the labelled test crops, and what figures need."""

    train: LabelledCrops
    # the tiles: (L_net (N, 1, s, s), ab (N, 2, s, s) float32, labels (N,) int64) batches
    test: lab_common.HeldOutTiles
    test_images: Sequence  # Lab (H, W, 3) float32, the whole held-out images: a list,
    # or LabImages (a folder's, read as needed)
    train_names: list
    test_names: list
    class_names: list
    description: str
    test_pred: np.ndarray | None = field(default=None, repr=False)  # set by evaluate
    test_accuracy: float | None = field(default=None, repr=False)  # set by evaluate

    def lab_view(self) -> lab_common.LabData:
        """The same images as :class:`lab_common.LabData` (no labels), for its evaluation and
        figures."""
        return lab_common.LabData(
            train=self.train.without_labels(),
            test=self.test.without_labels(),
            test_images=self.test_images,
            train_names=self.train_names,
            test_names=self.test_names,
            description=self.description,
            test_pred=self.test_pred,
        )


def _unlabelled_source(data) -> bool:
    """True when ``--data`` names images without classes: the scikit-image photos, or a
    folder (not CIFAR-10) with no subfolders."""
    from ..data import find_cifar10_dir  # noqa: PLC0415

    if data == "skimage":
        return True
    if data in (None, "default", "synthetic", "scenes"):
        return False
    path = Path(data).expanduser()
    if not path.is_dir() or find_cifar10_dir(path) is not None:
        return False
    return not any(p.is_dir() for p in path.iterdir())


def unused_labelled_data_options(config, pretrains: bool = False) -> dict[str, str]:
    """``lab_common.unused_data_options`` of the labelled data, whose default is the synthetic
    scenes; for a model that ``pretrains`` a classifier when ``--classifier`` is not given,
    ``--n-synthetic`` also counts the scenes it trains on when ``--data`` has no classes."""
    data = config.get("data")
    synthetic = data in (None, "default", *lab_common.SYNTHETIC_DATA)
    if pretrains and config.get("classifier") is None and _unlabelled_source(data):
        synthetic = True  # _train_classifier's scenes
    return lab_common.unused_data_options(config, synthetic)


def unused_options(config) -> dict[str, str]:
    """The options that have no effect with ``config`` (see ``tinycolor.models``)."""
    return unused_labelled_data_options(config)


def load_labelled_data(config, require_labels: bool = True) -> LabelledData:
    """Read the labelled images ``--data`` names (synthetic scenes by default, or a folder's
    class subfolders), split them (stratified by class, seeded), and put the class names, the
    training set's mean ab and its ab prior into ``config``.

    Without ``require_labels`` (the colorizers), images without classes (a flat folder, or
    'skimage') are read as one class ``all``, said on stderr (not under the run's --quiet):
    a classification loss on them is zero. As in :func:`lab_common.load_data`, a folder's
    images are not held: each is read when a crop or a tile of it is cut, and the statistics
    are counted one image at a time."""
    data = config.get("data")
    size = int(config["size"])
    synthetic = data in (None, "default", *lab_common.SYNTHETIC_DATA)
    image_size = lab_common.resolve_image_size(config, synthetic)
    unlabelled = _unlabelled_source(data)
    if unlabelled and require_labels:
        raise InputError(
            f"--data {data}: these images have no class labels; put the images of each class "
            "in their own subfolder (DATA/beach/*.png, DATA/forest/*.png, ...)"
        )
    try:
        ds = lab_common.open_dataset(
            data,
            labels=not unlabelled,
            size=image_size,
            seed=lab_common.split_seed(config),
            n_synthetic=int(config.get("n_synthetic", 300)),
        )
    except (FileNotFoundError, NotADirectoryError, ValueError, RuntimeError) as exc:
        raise InputError(f"--data {data}: {exc}") from None
    if unlabelled:
        from ..runs import current_run_quiet  # noqa: PLC0415

        if not current_run_quiet():  # a note, not kept under the run's --quiet
            print(
                f"{data}: no class subfolders; all {len(ds)} images are one class 'all' (a "
                "classification loss on them is zero)",
                file=sys.stderr,
            )
        labels, class_names = np.zeros(len(ds), dtype=np.int64), ["all"]
    else:
        labels = None if ds.labels is None else np.asarray(ds.labels, dtype=np.int64)
        class_names = [str(c) for c in (ds.class_names or [])]
    n = len(ds)
    if synthetic and n < 2:
        raise InputError(f"--n-synthetic {n}: too few scenes; at least 2 (one to hold out)")
    if unlabelled and n < 2:  # the classes are not what is missing
        raise InputError(
            f"--data {data}: found {n} usable colour image(s); at least 2 are needed (one to "
            "hold out)"
        )
    if labels is None or n < 2:
        raise InputError(
            f"--data {data}: found {n} labelled image(s); put the images of each class in their "
            "own subfolder (DATA/beach/*.png, DATA/forest/*.png, ...), at least 2 in all"
        )
    if require_labels and len(class_names) < 2:
        raise InputError(
            f"--data {data}: found one class ({class_names[0]}); a classifier needs at least 2"
        )
    # stratified split: the test fraction of each class (at least one image in all)
    rng = np.random.default_rng([lab_common.split_seed(config), 4])
    test_idx: list[int] = []
    for c in range(len(class_names)):
        members = np.flatnonzero(labels == c)
        k = int(round(float(config["test_fraction"]) * len(members)))
        test_idx += list(rng.permutation(members)[: min(k, max(len(members) - 1, 0))])
    if not test_idx:
        test_idx = [int(rng.integers(n))]
    test_set = set(int(i) for i in test_idx)
    test_idx = sorted(test_set)
    train_idx = [i for i in range(n) if i not in test_set]

    train_images = lab_common.training_images(ds, train_idx)
    test_images = lab_common.training_images(ds, test_idx)
    lab_common.set_training_statistics(config, train_images)
    config["class_names"] = class_names
    # the test set: the non-overlapping size x size tiles of each held-out image
    test = lab_common.HeldOutTiles(test_images, size, labels[test_idx])
    names = list(getattr(ds, "names", [])) or [f"image_{k}" for k in range(n)]
    source = "synthetic scenes" if synthetic else str(data)
    counts = ", ".join(f"{int((labels == c).sum())} {nm}" for c, nm in enumerate(class_names))
    return LabelledData(
        train=LabelledCrops(
            train_images,
            labels[train_idx],
            size,
            lab_common.crops_per_image(config, len(train_images)),
            zoom=config.get("zoom", (1.0, 1.0)),
        ),
        test=test,
        test_images=test_images,
        train_names=[names[i] for i in train_idx],
        test_names=[names[i] for i in test_idx],
        class_names=class_names,
        description=(
            f"{source}: {n} images ({counts}); {len(train_idx)} for training, "
            f"{len(test_idx)} held out ({test.num_tiles()} test tiles); short side {image_size}, "
            f"{size}x{size} crops"
        ),
    )


def load_data(config) -> LabelledData:
    if config.get("image_size") is None:
        from ..data import is_cifar10  # noqa: PLC0415

        native = lab_common.CIFAR_SIZE if is_cifar10(config.get("data")) else IMAGE_SIZE
        config["image_size"] = max(int(config["size"]), native)
    return load_labelled_data(config)


def num_classes(config) -> int:
    """The number of classes the stored ``class_names`` name (3 before any data is read)."""
    names = config.get("class_names")
    return len(names) if names else 3


# --------------------------------------------------------------------------- network


class GrayClassifier(nn.Module):
    """``blocks`` x (conv 3x3 -> BatchNorm -> ReLU -> maxpool 2), global average pool, linear.

    ``forward(L_net)`` (N, 1, H, W) -> logits (N, num_classes); ``embed(L_net)`` -> the pooled
    features (N, embedding_dim), any H, W >= 2^(blocks-1)."""

    def __init__(self, num_classes: int = 3, width: int = 16, blocks: int = 4):
        super().__init__()
        self.num_classes, self.width, self.blocks = int(num_classes), int(width), int(blocks)
        layers, c_in = [], 1
        for k in range(self.blocks):
            c = self.width * 2**k
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU()]
            if k < self.blocks - 1:
                layers.append(nn.MaxPool2d(2))
            c_in = c
        self.features = nn.Sequential(*layers)
        self.embedding_dim = c_in
        self.fc = nn.Linear(c_in, self.num_classes)

    @property
    def min_size(self) -> int:
        """The smallest input side: one pixel left after the last pooling."""
        return 2 ** (self.blocks - 1)

    def _check(self, x: Tensor) -> None:
        m = self.min_size
        if x.ndim != 4 or x.shape[1] != 1 or min(x.shape[2:]) < m:
            raise ValueError(
                f"GrayClassifier({self.blocks} blocks): expected L of shape (N, 1, H, W) with "
                f"H, W >= {m}, got {tuple(x.shape)}"
            )

    def embed(self, x: Tensor) -> Tensor:
        """The global-average-pooled features of the last block: (N, embedding_dim)."""
        self._check(x)
        return F.mean(self.features(x), axis=(2, 3))

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.embed(x))

    def __repr__(self):
        return (
            f"GrayClassifier(num_classes={self.num_classes}, width={self.width}, "
            f"blocks={self.blocks}, embedding_dim={self.embedding_dim})"
        )


class BasicBlock(nn.Module):
    """ResNet's basic block: conv 3x3 (stride s) -> BN -> ReLU -> conv 3x3 -> BN, plus the
    input (through a 1x1 stride-s conv and BN when the shape changes), then ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = None
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: Tensor) -> Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(h + (x if self.shortcut is None else self.shortcut(x)))


class ResNetClassifier(GrayClassifier):
    """ResNet-18's layout on one input channel (He et al. 2016): conv 7x7 stride 2 -> BN ->
    ReLU -> maxpool 3x3 stride 2, then ``stages`` stages of two basic blocks with
    ``width * 2^k`` channels (stride 2 at the start of every stage but the first), global
    average pool, linear. ``features`` ends at 1 / 2^(stages + 1) of the input size.

    ResNet-18 is ``width=64, stages=4``; ``cnn_resnet`` reuses ``features`` as its encoder."""

    def __init__(self, num_classes: int = 3, width: int = 64, stages: int = 4):
        nn.Module.__init__(self)
        if not 1 <= stages <= 4:
            raise ValueError(f"ResNetClassifier: stages must be 1..4, got {stages}")
        self.num_classes, self.width, self.blocks = int(num_classes), int(width), int(stages)
        layers = [
            nn.Conv2d(1, self.width, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(self.width),
            nn.ReLU(),
            nn.MaxPool2d(3, stride=2, padding=1),
        ]
        c_in = self.width
        for k in range(self.blocks):
            c = self.width * 2**k
            layers += [BasicBlock(c_in, c, 1 if k == 0 else 2), BasicBlock(c, c)]
            c_in = c
        self.features = nn.Sequential(*layers)
        self.embedding_dim = c_in
        self.fc = nn.Linear(c_in, self.num_classes)

    @property
    def stride(self) -> int:
        """How much smaller ``features``' grid is than the input."""
        return 2 ** (self.blocks + 1)

    @property
    def min_size(self) -> int:
        """The smallest input side: one cell of the features' grid."""
        return self.stride

    def _check(self, x: Tensor) -> None:
        if x.ndim != 4 or x.shape[1] != 1 or min(x.shape[2:]) < self.stride:
            raise ValueError(
                f"ResNetClassifier({self.blocks} stages): expected L of shape (N, 1, H, W) with "
                f"H, W >= {self.stride}, got {tuple(x.shape)}"
            )

    def __repr__(self):
        return (
            f"ResNetClassifier(num_classes={self.num_classes}, width={self.width}, "
            f"stages={self.blocks}, embedding_dim={self.embedding_dim})"
        )


def make_classifier(arch: str, n_classes: int, width: int, blocks: int) -> GrayClassifier:
    """A fresh classifier network of architecture ``arch`` ('plain' or 'resnet')."""
    if arch == "resnet":
        if not 1 <= blocks <= 4:
            raise InputError(f"--blocks {blocks}: a ResNet classifier has 1 to 4 stages")
        return ResNetClassifier(n_classes, width, blocks)
    if arch == "plain":
        return GrayClassifier(n_classes, width, blocks)
    raise InputError(f"unknown classifier architecture {arch!r}; expected one of {ARCHS}")


def build_model(config) -> GrayClassifier:
    net = make_classifier(
        config.get("arch", "plain"),
        num_classes(config),
        int(config["width"]),
        int(config["blocks"]),
    )
    if int(config["size"]) < net.min_size:  # refused here, not in the first step
        raise InputError(
            f"--size {config['size']}: a {config.get('arch', 'plain')} classifier with "
            f"--blocks {config['blocks']} needs crops of at least {net.min_size} pixels"
        )
    return net


def loss(model: GrayClassifier, batch, config) -> Tensor:
    """Cross-entropy of the class logits (the ab planes of the batch are not used)."""
    L, _, labels = batch  # labels: a Tensor on the model's device, or int64 array
    return F.cross_entropy(model(L), labels, axis=1)


def classifier_config(ccfg: dict) -> dict:
    """What rebuilds a classifier's network: architecture, width, blocks, class names and the
    size it was trained on (stored by the models that embed one)."""
    return {
        "arch": ccfg.get("arch", "plain"),
        "width": int(ccfg["width"]),
        "blocks": int(ccfg["blocks"]),
        "class_names": list(ccfg.get("class_names") or []),
        "size": int(ccfg["size"]),
    }


def embedded_classifier_config(config, auto: dict) -> dict:
    """The :func:`classifier_config` of the classifier a model embeds: the stored one
    (``config['classifier_config']``, set once a classifier is resolved), or before that the
    model's automatic architecture ``auto`` with the data's class names and crop size."""
    return config.get("classifier_config") or {
        **auto,
        "class_names": config.get("class_names") or ["beach", "sunset", "forest"],
        "size": int(config["size"]),
    }


def rebuild_classifier(cc: dict, path=None) -> GrayClassifier:
    """A classifier network as ``cc`` (a :func:`classifier_config`) describes it, with the
    weights of checkpoint ``path`` when that file exists (else freshly initialised: a model
    checkpoint that embeds the classifier then loads its own copy of the weights)."""
    from ..checkpoint import load  # noqa: PLC0415
    from ..runs import LoadError, _load_weights  # noqa: PLC0415

    n = len(cc.get("class_names") or []) or 3
    clf = make_classifier(cc.get("arch", "plain"), n, int(cc["width"]), int(cc["blocks"]))
    if path and Path(path).is_file():
        state = load(path)
        state.pop("__meta__", None)
        try:
            _load_weights(clf, state)
        except LoadError as exc:
            raise InputError(f"--classifier {path}: {exc}") from None
    return clf


def resolve_classifier(config, model_name: str, auto: dict) -> Path:
    """The classifier checkpoint a model builds on: ``config['classifier']`` if given, else
    one trained first with the settings ``auto`` (architecture, widths) and
    ``config['classifier_epochs']``, on the model's data (on the synthetic scenes when that
    data has no classes), in its own run folder: ``classifier/`` inside the calling run's
    ``--out``, or ``runs/classifier-<timestamp>/`` when it has none. Checks it
    is a classifier checkpoint and stores its path and ``classifier_config`` in ``config``."""
    from ..runs import LoadError, load_model  # noqa: PLC0415

    path = config.get("classifier")
    if path is None:
        path = _train_classifier(config, model_name, auto)
    try:
        _, _, ccfg, _ = load_model(path, expect_model=NAME)
    except LoadError as exc:
        raise InputError(f"--classifier: {exc}") from None
    for key, want in auto.items():
        if key == "arch" and ccfg.get("arch", "plain") != want:
            raise InputError(
                f"--classifier {path}: {model_name} needs a classifier trained with --arch "
                f"{want}, this one is --arch {ccfg.get('arch', 'plain')}"
            )
    config["classifier"] = str(path)
    config["classifier_config"] = classifier_config(ccfg)
    return Path(path)


def _train_classifier(config, model_name: str, auto: dict) -> Path:
    import contextlib  # noqa: PLC0415
    import io  # noqa: PLC0415

    from ..backend import get_device  # noqa: PLC0415
    from ..runs import current_run_out, current_run_quiet  # noqa: PLC0415
    from ..train import run  # noqa: PLC0415 - training a sub-model is the loop's job

    keys = ("data", "size", "image_size", "crops", "test_fraction", "val_tiles", "seed")
    ccfg = {k: config[k] for k in keys}
    ccfg["split_seed"] = config.get("split_seed")  # the same held-out images
    ccfg.update(n_synthetic=config["n_synthetic"], epochs=int(config["classifier_epochs"]))
    ccfg.update(auto)
    where = "on the same data"
    if _unlabelled_source(config.get("data")):  # no classes to learn there
        ccfg.update(data=None, image_size=max(64, int(config["size"])), crops=None)
        where = "on the synthetic scenes (--data has no class subfolders)"
    quiet = current_run_quiet()  # the calling run's --quiet: its notes are notes too
    if not quiet:
        print(
            f"{model_name}: no --classifier given; training a classifier first, {where} "
            f"({ccfg['epochs']} epochs)",
            file=sys.stderr,
        )
    parent = current_run_out()  # inside the calling run's --out, else runs/classifier-TIME
    out = None if parent is None else Path(parent) / "classifier"
    # on the calling run's device, which its train.run made the default (run's own default,
    # cpu, trained it there under --device cuda, and left cpu the default for the rest)
    # stdout is the calling run's to print on: the classifier's run folder goes to stderr,
    # or nowhere under --quiet
    with contextlib.redirect_stdout(io.StringIO() if quiet else sys.stderr):
        run_dir, metrics = run(NAME, ccfg, device=get_device(), quiet=True, out=out)
    checkpoint = run_dir / "model.npz"
    if metrics.get("interrupted"):
        # Ctrl-C stops the whole run, not just its first part: the classifier is kept, and
        # --classifier starts the colorizer from it
        print(
            f"{model_name}: stopped before training {model_name}; the classifier "
            f"({metrics['epochs']} of {ccfg['epochs']} epochs) is saved in {checkpoint}: "
            f"pass --classifier {checkpoint} to train {model_name} on it",
            file=sys.stderr,
        )
        raise KeyboardInterrupt
    if not quiet:
        print(
            f"{model_name}: classifier trained (test accuracy {metrics['accuracy']:.3f}): "
            f"{checkpoint}",
            file=sys.stderr,
        )
    return checkpoint


def load_classifier(path, device: str = "cpu"):
    """A trained classifier from its ``model.npz``: ``(model, config)``, in eval mode.

    Raises :class:`tinycolor.runs.LoadError` when ``path`` is not a classifier checkpoint."""
    from ..runs import load_model  # noqa: PLC0415

    _, model, config, _ = load_model(path, expect_model=NAME, device=device)
    return model, config


# --------------------------------------------------------------------------- evaluation


#: Test tiles a classifier is shown at a time.
PREDICT_BATCH = 64


def predict_classes(
    model: GrayClassifier, L_net: np.ndarray, device: str | None = None, batch=PREDICT_BATCH
):
    """Class probabilities (N, num_classes) of network inputs (N, 1, H, W), in eval mode."""
    was_training = model.training
    model.eval()
    out = []
    try:
        with no_grad():
            for s in range(0, len(L_net), batch):
                x = Tensor(
                    np.ascontiguousarray(L_net[s : s + batch]), device=device or model.device
                )
                out.append(F.softmax(model(x), axis=1).numpy())
    finally:
        model.train(was_training)
    return np.concatenate(out).astype(np.float32)


def classification_scores(proba: np.ndarray, labels: np.ndarray, k: int) -> dict:
    """Accuracy, per-class accuracy (recall), mean cross-entropy and the confusion matrix
    (rows: true class, columns: predicted)."""
    proba = np.asarray(proba)
    return _class_scores(proba.argmax(axis=1), proba[np.arange(len(labels)), labels], labels, k)


def _class_scores(pred: np.ndarray, p_true: np.ndarray, labels: np.ndarray, k: int) -> dict:
    """``classification_scores`` from each example's predicted class and the probability it
    gave its true class."""
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (labels, pred), 1)
    per_class = [
        float(confusion[c, c] / confusion[c].sum()) if confusion[c].sum() else None
        for c in range(k)
    ]
    nll = -np.log(np.clip(p_true, 1e-12, 1.0))
    return {
        "accuracy": float((pred == labels).mean()),
        "per_class_accuracy": per_class,
        "cross_entropy": float(nll.mean()),
        "confusion": confusion.tolist(),
    }


class TileClasses(NamedTuple):
    """What a model predicts of each held-out tile's class (``predict_tile_classes``)."""

    pred: np.ndarray  # (N,) int64, the most probable class
    p_true: np.ndarray  # (N,) the probability given to the true class
    labels: np.ndarray  # (N,) int64, the true class
    shown: np.ndarray  # the class probabilities of the tiles at ``pick``

    def scores(self, k: int) -> dict:
        """``classification_scores`` of these predictions over ``k`` classes."""
        return _class_scores(self.pred, self.p_true, self.labels, k)


def predict_tile_classes(predict, tiles, batch: int, pick=()) -> TileClasses:
    """``predict(L_net) -> class probabilities`` over the held-out ``tiles``
    (:class:`lab_common.HeldOutTiles` with labels) ``batch`` at a time: of each tile only its
    predicted class, the probability of its true class and that class are kept (and the
    probabilities of the tiles at positions ``pick``), so that a test split of any size takes
    the memory of a batch."""
    pick = np.asarray(pick, dtype=np.int64)
    pred, p_true, labels, shown = [], [], [], []
    seen = 0
    for L, _, lab in tiles.batches(batch):
        proba = predict(L)
        pred.append(proba.argmax(axis=1))
        p_true.append(proba[np.arange(len(lab)), lab])
        labels.append(lab)
        shown.append(proba[pick[(pick >= seen) & (pick < seen + len(L))] - seen])
        seen += len(L)
    return TileClasses(*(np.concatenate(parts) for parts in (pred, p_true, labels, shown)))


def evaluate(model: GrayClassifier, data: LabelledData, config, device: str | None = None) -> dict:
    """Test accuracy beside two baselines: always the training set's most frequent class
    (``majority``) and uniform guessing (``chance``). The test tiles are read and predicted
    a batch at a time."""
    k = len(data.class_names)
    pick = lab_common.figure_tiles(data.test.num_tiles(), FIGURE_IMAGES)
    got = predict_tile_classes(
        lambda L: predict_classes(model, L, device), data.test, PREDICT_BATCH, pick
    )
    labels = got.labels
    data.test_pred = got.shown
    metrics = got.scores(k)
    data.test_accuracy = metrics["accuracy"]
    counts = np.bincount(data.train.labels, minlength=k)
    metrics["baselines"] = {
        "majority": {"accuracy": float((labels == counts.argmax()).mean())},
        "chance": {"accuracy": 1.0 / k, "cross_entropy": float(np.log(k))},
    }
    tl, _, tlab = next(data.train.batches(min(len(data.train), 256), np.random.default_rng(5)))
    train_pred = predict_classes(model, tl, device).argmax(1)
    metrics["train"] = {"accuracy": float((train_pred == tlab).mean())}
    metrics["class_names"] = data.class_names
    metrics["images"] = int(len(labels))
    metrics["data"] = data.description
    return metrics


def save_figures(model: GrayClassifier, data: LabelledData, config, run_dir, device=None):
    """``comparison.png``: a grid of test images (the gray input) titled with the predicted
    and the true class, and the confusion matrix in the title."""
    from .. import viz  # noqa: PLC0415

    pick = lab_common.figure_tiles(data.test.num_tiles(), FIGURE_IMAGES)
    L, _, labels = data.test.tiles_at(pick)
    proba, acc = data.test_pred, data.test_accuracy  # evaluate's, of these tiles
    if proba is None or len(proba) != len(pick) or acc is None:
        got = predict_tile_classes(
            lambda x: predict_classes(model, x, device), data.test, PREDICT_BATCH, pick
        )
        proba, acc = got.shown, float((got.pred == got.labels).mean())
    names = data.class_names
    panels = []
    for j in range(len(pick)):
        p = int(proba[j].argmax())
        mark = "ok" if p == labels[j] else "WRONG"
        panels.append(
            (
                f"predicted {names[p]} ({proba[j, p]:.2f})\ntrue {names[labels[j]]}: {mark}",
                lab_common.from_net_l(L[j, 0]) / 100.0,
            )
        )
    path = Path(run_dir) / "comparison.png"
    viz.image_grid(
        panels,
        path,
        ncols=min(4, len(pick)),
        title=f"classifier: held-out test images, accuracy {acc:.2f}",
    )
    return [path]


def colorizer_for(config) -> str:
    """The colorizer that takes a classifier of this configuration as its ``--classifier``:
    cnn_koala a plain one, cnn_resnet a ResNet (each refuses the other)."""
    return "cnn_resnet" if config.get("arch", "plain") == "resnet" else "cnn_koala"


def colorize(model, rgb, config, device: str | None = None):
    """The classifier does not colour images: always raises :class:`InputError`."""
    raise InputError(
        "classifier is not a colorizer: it predicts an image's class "
        f"({', '.join(config.get('class_names') or ['...'])}); use its checkpoint with "
        f"`--classifier` of {colorizer_for(config)}, or colour with a colorizer's checkpoint"
    )


def next_step(checkpoint, config) -> str:
    """What the end of a run suggests: a classifier is used by the colorizer built on it."""
    return (
        f"use its features in a colorizer: python -m tinycolor.train {colorizer_for(config)} "
        f"--classifier {checkpoint}"
    )
