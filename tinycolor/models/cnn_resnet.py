"""cnn_resnet: seed 001's CNN, a pretrained ResNet encoder and a small convolutional head.

Seed 001 (section 2.1.3) first pretrains a ResNet-18 classifier on grayscale images ("which
not only speeds up the training process but also extracts quantity of information in the
lightness channel"), then colours with that network's features followed by the head of its
Table 1 and an upsampling:

    encoder   the classifier's ResNet-18 layout on L: conv 7x7 64 s2, BN, ReLU, maxpool 3x3
              s2, then ``--stages`` stages of two basic blocks (64, 128, 256, 512 channels;
              stride 2 from the second stage on)                  (1 / 2^(stages + 1))
    head      conv 4x4 s2 128, conv 3x3 128, conv 3x3 64, conv 3x3 64, conv 3x3 32, each with
              BatchNorm (our addition: Table 1 lists none) and ReLU, then conv 3x3 to the
              output                                              (half the encoder's grid)
    upsample  bilinear, to the input size.

The seed tried three losses (``--loss``): ``l1`` and ``l2`` regress ab / 110 (2 output
channels); ``ce`` ("the most vibrant colorizations", the default) classifies each pixel of the
head's grid into the Q in-gamut ab bins (Zhang et al.'s soft-encoded targets, k = 5,
sigma = 5, and their class rebalancing, lambda = 0.5; ``--no-rebalance`` switches it off) and
decodes with the annealed mean, T = 0.38. Without rebalancing, trained on a dozen photos, the
annealed mean stays near the gray the common bins hold (colourfulness about a quarter of the
truth's on held-out photos), which is why it is on by default here too.

The encoder comes from a ``classifier`` checkpoint trained with ``--arch resnet``
(``--classifier CKPT``), or, without one, such a classifier is trained first
(``--classifier-epochs``, in its own run folder), on the labelled data (the synthetic scenes
by default; on them also when ``--data`` has no class subfolders). Its weights are copied
into the encoder and then fine-tuned with the head.

Full size: ``--encoder-width 64 --stages 4 --width 1``, the whole ResNet-18 the seed names, with
its head (12.6 M weights with ``--loss ce``); the head's grid is then 1/64 of the input (4 x 4
for a 256 x 256 Places image). ``--stages 2`` keeps ResNet-18's first two stages, as the usual
colorization recipe does (a 1/16 grid, 1.3 M weights): the finer alternative, and the one the
default scales down (1/4 of its widths, on 64x64 crops). The seed's Table 1 does not say how
much of the ResNet it keeps, and its Figure 5 is not in the text. Fully convolutional:
``colorize`` colours an image of any size (edge-padded to a multiple of the output stride).
"""

from __future__ import annotations

import argparse

import numpy as np

from .. import argtypes, nn
from .. import functional as F
from ..autograd import Tensor
from ..color import annealed_mean, soft_encode
from . import InputError, lab_common
from .classifier import (
    LABELLED_DEFAULTS,
    add_labelled_data_arguments,
    embedded_classifier_config,
    load_labelled_data,
    rebuild_classifier,
    resolve_classifier,
    unused_labelled_data_options,
)
from .cnn_classification import (
    add_rebalance_lambda_argument,
    add_temperature_argument,
    bins,
    downsample_ab,
    pixel_weights,
)
from .cnn_fusion import _width, channels, conv_bn_relu
from .lab_common import image_metrics, to_gray  # noqa: F401 - part of the model's interface

NAME = "cnn_resnet"
DESCRIPTION = "seed 001's CNN: pretrained ResNet encoder + conv head + upsample (--loss l1|l2|ce)"

LOSSES = ("l1", "l2", "ce")

DEFAULTS = {
    **LABELLED_DEFAULTS,
    "encoder_width": 16,
    "stages": 2,
    "width": 0.25,
    "loss": "ce",
    "classifier": None,
    "classifier_epochs": 5,
    "classifier_config": None,  # filled in by load_data: the pretrained encoder's architecture
    "temperature": 0.38,
    "k": 5,
    "sigma": 5.0,
    "grid": 10.0,
    "rebalance": True,
    "rebalance_lambda": 0.5,
    "epochs": 30,
    "batch_size": 16,
    "lr": None,
    "optimizer": "adam",
    "schedule": "cosine",
    "keep": "best",
    "ema": 0.99,
    "seed": 0,
}

LEARNING_RATES = {"sgd": 0.05, "momentum": 0.01, "rmsprop": 1e-3, "adam": 1e-3}


def loss_label(config) -> str:
    """The y-axis label of loss.png: the loss this run used (``--loss``)."""
    if config["loss"] == "ce":
        return ("rebalanced " if config.get("rebalance", True) else "") + "cross-entropy, ab bins"
    return {"l1": "L1 of ab / 110", "l2": "MSE of ab / 110"}[config["loss"]]


AB_SCALE = 110.0


def add_arguments(parser) -> None:
    add_labelled_data_arguments(parser, DEFAULTS)
    g = parser.add_argument_group("cnn_resnet")
    g.add_argument(
        "--loss",
        choices=LOSSES,
        default=DEFAULTS["loss"],
        help="l1 or l2 on ab / 110, or ce: cross-entropy over the ab bins, annealed-mean decoding",
    )
    g.add_argument(
        "--encoder-width",
        dest="encoder_width",
        type=argtypes.positive_int,
        default=DEFAULTS["encoder_width"],
        help="channels of the ResNet's first stage (ResNet-18: 64)",
    )
    g.add_argument(
        "--stages",
        type=_stages,
        default=DEFAULTS["stages"],
        help="ResNet stages in the encoder (1..4; ResNet-18 has 4)",
    )
    g.add_argument(
        "--width",
        type=_width,
        default=DEFAULTS["width"],
        help="multiplier of the head's channels (1 = Table 1's 128, 128, 64, 64, 32)",
    )
    g.add_argument(
        "--classifier",
        default=None,
        metavar="CKPT",
        help="model.npz of a `classifier --arch resnet` whose features become the encoder "
        "(default: train one first)",
    )
    g.add_argument(
        "--classifier-epochs",
        dest="classifier_epochs",
        type=argtypes.positive_int,
        default=DEFAULTS["classifier_epochs"],
        help="epochs of the classifier pretrained when --classifier is not given",
    )
    add_temperature_argument(g, DEFAULTS["temperature"], note="; --loss ce")
    g.add_argument(
        "--rebalance",
        action=argparse.BooleanOptionalAction,
        default=DEFAULTS["rebalance"],
        help="weight the cross-entropy by Zhang's class-rebalancing weights (--loss ce)",
    )
    add_rebalance_lambda_argument(g, DEFAULTS["rebalance_lambda"])


def unused_options(config) -> dict[str, str]:
    """The options that have no effect with ``config`` (see ``tinycolor.models``)."""
    out = unused_labelled_data_options(config, pretrains=True)
    if config["loss"] != "ce":
        why = f"with --loss {config['loss']}: it regresses ab; only --loss ce uses the ab bins"
        out.update(temperature=why, rebalance=why, rebalance_lambda=why)
    elif not config["rebalance"]:
        out["rebalance_lambda"] = "with --no-rebalance: every pixel weighs 1"
    if config.get("classifier") is not None:
        out["classifier_epochs"] = "with --classifier: no classifier is trained first"
        shape = "with --classifier: the encoder takes that classifier's width and stages"
        out.update(encoder_width=shape, stages=shape)
    return out


def _stages(text: str) -> int:
    n = argtypes.positive_int(text)
    if n > 4:
        raise argparse.ArgumentTypeError(f"expected 1 to 4 stages, got {n}")
    return n


def output_stride(config) -> int:
    """How much smaller the head's grid is than the input: 2^(stages + 2)."""
    return 2 ** (int(config["stages"]) + 2)


def _auto_classifier(config) -> dict:
    return {
        "arch": "resnet",
        "width": int(config["encoder_width"]),
        "blocks": int(config["stages"]),
    }


def _check_size(config) -> None:
    f = output_stride(config)
    if int(config["size"]) % f:
        raise InputError(
            f"--size must be a multiple of {f} (the output stride with {config['stages']} "
            f"stages), got {config['size']}"
        )


def load_data(config):
    """The images (labelled ones, as ``classifier``) and the pretrained encoder resolved."""
    _check_size(config)
    data = load_labelled_data(config, require_labels=False)
    path = resolve_classifier(
        config, NAME, {"arch": "resnet"} if config.get("classifier") else _auto_classifier(config)
    )
    cc = config["classifier_config"]
    if (cc["width"], cc["blocks"]) != (int(config["encoder_width"]), int(config["stages"])):
        # a given checkpoint decides the encoder's shape
        config["encoder_width"], config["stages"] = cc["width"], cc["blocks"]
        _check_size(config)
    data.description += f"; encoder pretrained as the classifier {path}"
    return data


# --------------------------------------------------------------------------- network


class ResNetColorizer(nn.Module):
    """A ResNet classifier's ``features`` as the encoder, then seed 001's Table 1 head.
    ``forward(L_net)`` -> the head's output at 1 / ``stride`` of the input: ab / 110
    (2 channels) for l1/l2, or logits over the ab bins for ce; ``upsample`` brings a map back
    to the input size."""

    def __init__(self, encoder: nn.Module, encoder_channels: int, stride: int, width: float, out):
        super().__init__()
        self.stride, self.width, self.out_channels = int(stride), width, int(out)

        def c(n):
            return channels(n, width)

        self.encoder = encoder
        self.head = nn.Sequential(
            nn.Sequential(
                nn.Conv2d(encoder_channels, c(128), 4, stride=2, padding=1),
                nn.BatchNorm2d(c(128)),
                nn.ReLU(),
            ),
            conv_bn_relu(c(128), c(128)),
            conv_bn_relu(c(128), c(64)),
            conv_bn_relu(c(64), c(64)),
            conv_bn_relu(c(64), c(32)),
            nn.Conv2d(c(32), self.out_channels, 3, padding=1),
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != 1 or x.shape[2] % self.stride or x.shape[3] % self.stride:
            raise ValueError(
                f"ResNetColorizer: expected L of shape (N, 1, H, W) with H and W multiples of "
                f"{self.stride}, got {tuple(x.shape)}"
            )
        return self.head(self.encoder(x))

    def __repr__(self):
        return (
            f"ResNetColorizer(stride={self.stride}, width={self.width}, "
            f"out_channels={self.out_channels})"
        )


def build_model(config) -> ResNetColorizer:
    """The network, its encoder initialised from ``config['classifier']`` when that file
    exists (a checkpoint of this model then loads its own weights over them)."""
    cc = embedded_classifier_config(config, _auto_classifier(config))
    clf = rebuild_classifier(cc, config.get("classifier"))
    out = len(bins(config)) if config["loss"] == "ce" else 2
    stride = 2 * clf.stride
    model = ResNetColorizer(clf.features, clf.embedding_dim, stride, float(config["width"]), out)
    # the head starts at the training set's prior (ce) or mean ab (l1, l2)
    bias = model.head[-1].bias
    if config["loss"] == "ce":
        lab_common.start_at_the_data(bias, config, "log_prior")
    else:
        lab_common.start_at_the_data(bias, config, "linear", scale=AB_SCALE)
    return model


def loss(model: ResNetColorizer, batch, config) -> Tensor:
    """``l1``/``l2``: the mean absolute / squared error of the upsampled output against
    ab / 110. ``ce``: the cross-entropy of the head's per-pixel distribution against the
    soft-encoded block-mean ab, per pixel (weighted with ``--rebalance``), averaged."""
    L, ab = batch[0], batch[1]
    ab_arr = ab.data if isinstance(ab, Tensor) else ab
    out = model(L)
    kind = config["loss"]
    if kind in ("l1", "l2"):
        y = F.interpolate(out, size=tuple(L.shape[2:]), mode="bilinear")
        target = Tensor(ab_arr / AB_SCALE, device=y.device)
        return F.l1_loss(y, target) if kind == "l1" else F.mse_loss(y, target)
    if kind != "ce":
        raise InputError(f"--loss {kind!r}: expected one of {', '.join(LOSSES)}")
    ab_small = downsample_ab(ab_arr, model.stride)
    target = soft_encode(
        ab_small, bins(config), k=int(config["k"]), sigma=float(config["sigma"]), channel_axis=1
    )
    per_pixel = F.cross_entropy(out, Tensor(target, device=out.device), axis=1, reduction="none")
    return F.mean(per_pixel * Tensor(pixel_weights(ab_small, config), device=out.device))


def decodes_bins(config) -> bool:
    """With ``--loss ce``: ab is the annealed mean of the predicted distribution."""
    return config["loss"] == "ce"


def predict_ab(model: ResNetColorizer, L_net: np.ndarray, config, device: str | None = None):
    """ab (N, 2, H, W): the head's output (ab / 110, or the annealed mean of its
    distribution), upsampled bilinearly to the input size."""
    out = model(Tensor(L_net, device=device or model.device))
    if config["loss"] == "ce":
        ab = annealed_mean(out.data, bins(config), T=float(config["temperature"]), axis=1)
        small = Tensor(ab.astype(np.float32), device=device or model.device)
    else:
        small = out * AB_SCALE
    return F.interpolate(small, size=tuple(L_net.shape[2:]), mode="bilinear").numpy()


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
        predict_ab, model, rgb, config, device, multiple=model.stride, name=NAME, quiet=quiet
    )


def colorize(model, rgb: np.ndarray, config, device: str | None = None) -> np.ndarray:
    """Colour a whole image of any size (edge-padded to a multiple of the output stride)."""
    return _colorize(model, rgb, config, device)


def min_size(config) -> int:
    return 1
