"""cnn_koala: Deep Koalarization (Baldassarre, Gonzalez Morin, Rodes-Guirao 2017; seed 002).

An encoder-decoder colorizer whose bottleneck is fused with the global embedding of an image
classifier, frozen. The paper takes Inception-ResNet-v2's; here the embedding comes from the
project's own grayscale ``classifier`` model (its global-average-pooled features), trained on
the same kind of labelled images. Convolutions are 3x3 with BatchNorm and ReLU ("s2":
stride 2; the BatchNorm is our addition, for training in few steps), numbers are channels:

    encoder   1 -> 64 s2, 128, 128 s2, 256, 256 s2, 512, 512, 256            (H/8)
    fusion    the classifier's embedding of the image (frozen, D numbers), tiled over the
              H/8 grid, concatenated with the 256 encoder channels, 1x1 conv -> 256, ReLU
    decoder   128, nearest x2, 64, 64, nearest x2, 32, 2 with tanh, nearest x2 (H)

The tanh output predicts ab / 128; the loss is the MSE on that scale; Adam, lr 1e-3 (paper).

The classifier: ``--classifier CKPT`` (a ``model.npz`` of ``python -m tinycolor.train
classifier``), or, without it, a small one is trained first on the same data
(``--classifier-epochs``, written to its own run folder, ``classifier/`` inside ``--out`` or
``runs/classifier-<timestamp>/``, whose path is then stored as ``classifier`` in the config).
Either way its weights become part of this model's checkpoint, so ``colorize`` needs only the
koala checkpoint. The classifier sees the image resized to the size it was trained on.

Full size is ``--width 1 --size 224`` (6.3 M weights besides the classifier); the default is
1/8 of every width on 64x64 crops. Either way the fusion reads the classifier's D numbers: 64
from the automatic one (plain, width 8, 4 blocks, whatever this model's ``--width``), where the
paper's Inception-ResNet-v2 gives 1001; a larger ``--classifier`` gives more. The network is
fully convolutional: ``colorize`` colours an image of any size (edge-padded to a multiple of 8).
"""

from __future__ import annotations

import numpy as np

from .. import argtypes, nn
from .. import functional as F
from ..autograd import Tensor, no_grad
from . import InputError, lab_common
from .classifier import (
    LABELLED_DEFAULTS,
    GrayClassifier,
    add_labelled_data_arguments,
    embedded_classifier_config,
    load_labelled_data,
    rebuild_classifier,
    resolve_classifier,
    unused_labelled_data_options,
)
from .cnn_fusion import STRIDE, _width, channels, conv_bn_relu
from .lab_common import image_metrics, to_gray  # noqa: F401 - part of the model's interface

NAME = "cnn_koala"
DESCRIPTION = "seed 002's Deep Koalarization: encoder + classifier embedding fusion + decoder"

DEFAULTS = {
    **LABELLED_DEFAULTS,
    "width": 0.125,
    "classifier": None,
    "classifier_epochs": 5,
    "classifier_config": None,  # filled in by load_data: the classifier's architecture
    "epochs": 30,
    "batch_size": 16,
    "lr": None,
    "optimizer": "adam",
    "schedule": "cosine",
    "keep": "best",
    "ema": 0.99,
    "seed": 0,
}

LEARNING_RATES = {"sgd": 0.1, "momentum": 0.01, "rmsprop": 1e-3, "adam": 1e-3}
LOSS_LABEL = "MSE of ab / 128"
AB_SCALE = 128.0

# the small classifier trained when no --classifier is given
AUTO_CLASSIFIER = {"arch": "plain", "width": 8, "blocks": 4}


def add_arguments(parser) -> None:
    add_labelled_data_arguments(parser, DEFAULTS)
    g = parser.add_argument_group("cnn_koala")
    g.add_argument(
        "--width",
        type=_width,
        default=DEFAULTS["width"],
        help="multiplier of every layer's channels (1 = the paper's 64 ... 512)",
    )
    g.add_argument(
        "--classifier",
        default=None,
        metavar="CKPT",
        help="model.npz of a trained `classifier` whose embedding is fused in (default: "
        "train a small one first, on the same data)",
    )
    g.add_argument(
        "--classifier-epochs",
        dest="classifier_epochs",
        type=argtypes.positive_int,
        default=DEFAULTS["classifier_epochs"],
        help="epochs of the classifier trained first when --classifier is not given",
    )


def unused_options(config) -> dict[str, str]:
    """The options that have no effect with ``config`` (see ``tinycolor.models``)."""
    out = unused_labelled_data_options(config, pretrains=True)
    if config.get("classifier") is not None:
        out["classifier_epochs"] = "with --classifier: no classifier is trained first"
    return out


# --------------------------------------------------------------------------- data


def load_data(config):
    """The labelled images (as ``classifier``), and the classifier resolved: loaded from
    ``--classifier`` or trained first; its path and architecture go into ``config``."""
    if int(config["size"]) % STRIDE:
        raise InputError(f"--size must be a multiple of {STRIDE}, got {config['size']}")
    data = load_labelled_data(config, require_labels=False)
    path = resolve_classifier(config, NAME, AUTO_CLASSIFIER)
    data.description += f"; classifier embedding from {path}"
    return data


# --------------------------------------------------------------------------- network


class KoalaNet(nn.Module):
    """Encoder, fusion with a frozen classifier's embedding, decoder. ``forward(L_net)``
    (N, 1, H, W), H and W multiples of 8 -> ab / 128 (N, 2, H, W) in [-1, 1]."""

    def __init__(self, classifier: GrayClassifier, classifier_size: int, width: float = 1.0):
        super().__init__()
        self.width, self.classifier_size = width, int(classifier_size)

        def c(n):
            return channels(n, width)

        self.encoder = nn.Sequential(
            conv_bn_relu(1, c(64), 2),
            conv_bn_relu(c(64), c(128)),
            conv_bn_relu(c(128), c(128), 2),
            conv_bn_relu(c(128), c(256)),
            conv_bn_relu(c(256), c(256), 2),
            conv_bn_relu(c(256), c(512)),
            conv_bn_relu(c(512), c(512)),
            conv_bn_relu(c(512), c(256)),
        )
        self.classifier = classifier
        self.fusion = nn.Conv2d(c(256) + classifier.embedding_dim, c(256), 1)
        self.decoder = nn.Sequential(
            conv_bn_relu(c(256), c(128)),
            nn.Upsample(scale_factor=2, mode="nearest"),
            conv_bn_relu(c(128), c(64)),
            conv_bn_relu(c(64), c(64)),
            nn.Upsample(scale_factor=2, mode="nearest"),
            conv_bn_relu(c(64), c(32)),
            nn.Conv2d(c(32), 2, 3, padding=1),
            nn.Tanh(),
            nn.Upsample(scale_factor=2, mode="nearest"),
        )
        self.classifier.eval()

    def train(self, mode: bool = True):
        """As ``Module.train``, but the frozen classifier always stays in eval mode."""
        super().train(mode)
        self.classifier.eval()
        return self

    def embedding(self, x: Tensor) -> Tensor:
        """The frozen classifier's embedding of ``x`` resized to its training size: a
        constant (no gradient reaches the classifier, so the optimizer never moves it)."""
        s = self.classifier_size
        with no_grad():
            xs = (
                x
                if tuple(x.shape[2:]) == (s, s)
                else F.interpolate(x, size=(s, s), mode="bilinear")
            )
            e = self.classifier.embed(xs)
        return Tensor(e.data, device=e.device)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != 1 or x.shape[2] % STRIDE or x.shape[3] % STRIDE:
            raise ValueError(
                f"KoalaNet: expected L of shape (N, 1, H, W) with H and W multiples of "
                f"{STRIDE}, got {tuple(x.shape)}"
            )
        h = self.encoder(x)
        n, _, gh, gw = h.shape
        e = self.embedding(x)
        tiled = F.reshape(e, (n, e.shape[1], 1, 1)) + Tensor(
            np.zeros((1, 1, gh, gw), dtype=h.dtype), device=h.device
        )
        fused = F.relu(self.fusion(F.concat([h, tiled], axis=1)))
        return self.decoder(fused)

    def __repr__(self):
        return (
            f"KoalaNet(width={self.width}, classifier={self.classifier!r}, "
            f"classifier_size={self.classifier_size})"
        )


def build_model(config) -> KoalaNet:
    """The network; the classifier's weights are read from ``config['classifier']`` when that
    file exists (a checkpoint of this model then overwrites them with its own copy), and the
    output starts at the training set's mean ab."""
    cc = embedded_classifier_config(config, AUTO_CLASSIFIER)
    clf = rebuild_classifier(cc, config.get("classifier"))
    model = KoalaNet(clf, int(cc["size"]), float(config["width"]))
    # the last conv before the tanh starts at the training set's mean ab
    lab_common.start_at_the_data(model.decoder[-3].bias, config, "tanh128")
    return model


def loss(model: KoalaNet, batch, config) -> Tensor:
    """MSE between the tanh output and ab / 128 (the class labels are not used)."""
    L, ab = batch[0], batch[1]
    target = ab.data if isinstance(ab, Tensor) else ab
    out = model(L)
    return F.mse_loss(out, Tensor(target / AB_SCALE, device=out.device))


def predict_ab(model: KoalaNet, L_net: np.ndarray, config, device: str | None = None):
    """ab (N, 2, H, W) of network inputs L_net (N, 1, H, W): 128 * tanh output."""
    return model(Tensor(L_net, device=device or model.device)).numpy() * AB_SCALE


# --------------------------------------------------------------------------- the contract


def evaluate(model, data, config, device: str | None = None) -> dict:
    view = data.lab_view()
    metrics = lab_common.evaluate(predict_ab, model, view, config, device)
    data.test_pred = view.test_pred
    metrics["classifier"] = config.get("classifier")
    return metrics


def save_figures(model, data, config, run_dir, device: str | None = None):
    return lab_common.save_figures(
        predict_ab, model, data.lab_view(), config, run_dir, device, NAME, colorize_fn=_colorize
    )


def _colorize(model, rgb, config, device=None, quiet=False):
    return lab_common.colorize(
        predict_ab, model, rgb, config, device, multiple=STRIDE, name=NAME, quiet=quiet
    )


def colorize(model, rgb: np.ndarray, config, device: str | None = None) -> np.ndarray:
    """Colour an image of any size (edge-padded to a multiple of 8); the classifier sees it
    resized to its training size."""
    return _colorize(model, rgb, config, device)


def min_size(config) -> int:
    return 1
