"""cnn_regression: seed 004's CNN, L of a 64x64 image -> its a and b planes (seed 004, part 2).

The seed's second colorizer regresses the colour directly (section 2.5):

    L (1 x s x s) -> conv 5x5, 32, same -> ReLU -> maxpool 2
                  -> conv 5x5, 64, same -> ReLU -> maxpool 2       (64 x s/4 x s/4)
                  -> flatten -> FC 2048 -> ReLU -> FC 4096 -> ReLU -> dropout
                  -> FC 2 s^2 -> sigmoid                             (a plane, then b plane)

The seed shifts a and b by +128 (so they lie in [0, 255]) and squashes the output to [0, 1]
before scaling it by 255: here the network's sigmoid output y predicts (ab + 128) / 255, so
ab = 255 y - 128, and the loss is the mean squared error on that [0, 1] scale (the seed's Lab
MSE divided by 255^2). The seed's metric: a pixel is correct when |a - a*| <= 10 and
|b - b*| <= 10 (``acc10``; 57 % forest, 64 % beach, 54 % sunrise in the seed).

Full size is ``--conv1 32 --conv2 64 --fc1 2048 --fc2 4096`` (75 M weights at 64x64); the
default is narrower (``--conv1 16 --conv2 32 --fc1 256 --fc2 512``, 6.4 M weights) so that it
trains on a 2-core CPU in minutes. The fully connected layers fix the input size:
``colorize`` resizes any image to ``--size`` squared and resizes the predicted ab back.

Training differs from the seed's (SGD, lr 1e-4, batches of 3 images, 5000 to 8000 steps, and
"the dropout layer we mostly will not use"), to fit the CPU budget of the other colorizers:
Adam with lr 3e-4, batches of 16, a cosine schedule, the moving average of the weights
(``--ema 0.99``) and dropout 0.2 (``--dropout 0`` drops it, as the seed mostly did;
``--optimizer sgd --lr 1e-4 --batch-size 3`` is the seed's optimizer).
"""

from __future__ import annotations

import argparse

import numpy as np

from .. import argtypes, nn
from .. import functional as F
from ..autograd import Tensor
from . import lab_common
from .lab_common import image_metrics, to_gray  # noqa: F401 - part of the model's interface

NAME = "cnn_regression"
DESCRIPTION = "seed 004's CNN: L -> conv 5x5 32, pool, conv 5x5 64, pool, FC, FC -> ab (Lab MSE)"

DEFAULTS = {
    **lab_common.DATA_DEFAULTS,
    "conv1": 16,
    "conv2": 32,
    "fc1": 256,
    "fc2": 512,
    "dropout": 0.2,
    "epochs": 30,
    "batch_size": 16,
    "lr": None,
    "optimizer": "adam",
    "schedule": "cosine",
    "keep": "best",
    "ema": 0.99,
}

LEARNING_RATES = {"sgd": 0.05, "momentum": 0.01, "rmsprop": 1e-4, "adam": 3e-4}
LOSS_LABEL = "MSE of (ab + 128) / 255"

AB_SHIFT = 128.0  # the seed's shift of a and b into [0, 255]
AB_SCALE = 255.0


def add_arguments(parser) -> None:
    lab_common.add_data_arguments(parser, DEFAULTS)
    g = parser.add_argument_group("cnn_regression")
    for key, what in (
        ("conv1", "filters of the first 5x5 convolution (seed: 32)"),
        ("conv2", "filters of the second 5x5 convolution (seed: 64)"),
        ("fc1", "units of the first fully connected layer (seed: 2048)"),
        ("fc2", "units of the second fully connected layer (seed: 4096)"),
    ):
        g.add_argument(f"--{key}", type=argtypes.positive_int, default=DEFAULTS[key], help=what)
    g.add_argument(
        "--dropout", type=_probability, default=DEFAULTS["dropout"], help="dropout after FC 2"
    )


def unused_options(config) -> dict[str, str]:
    """The options that have no effect with ``config`` (see ``tinycolor.models``)."""
    return lab_common.unused_data_options(config)


def _probability(text: str) -> float:
    try:
        p = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability, got {text!r}") from None
    if not 0 <= p < 1:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {p}")
    return p


def load_data(config):
    if int(config["size"]) % 4:
        from . import InputError  # noqa: PLC0415

        raise InputError(f"--size must be a multiple of 4 (two 2x2 poolings), got {config['size']}")
    return lab_common.load_data(config)


# --------------------------------------------------------------------------- network


class CNNRegression(nn.Module):
    """The seed's CNN on ``size x size`` inputs: (N, 1, s, s) L -> (N, 2, s, s) in [0, 1]
    (the sigmoid output; ab = 255 y - 128)."""

    def __init__(self, size=64, conv1=32, conv2=64, fc1=2048, fc2=4096, dropout=0.0):
        super().__init__()
        if size % 4:
            raise ValueError(f"CNNRegression: size must be a multiple of 4, got {size}")
        self.size = int(size)
        self.features = nn.Sequential(
            nn.Conv2d(1, conv1, 5, padding="same"),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(conv1, conv2, 5, padding="same"),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        flat = conv2 * (size // 4) ** 2
        self.head = nn.Sequential(
            nn.Linear(flat, fc1),
            nn.ReLU(),
            nn.Linear(fc1, fc2),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(fc2, 2 * size * size),
        )

    def forward(self, x: Tensor) -> Tensor:
        s = self.size
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, s, s):
            raise ValueError(
                f"CNNRegression({s}x{s}): expected L of shape (N, 1, {s}, {s}), got "
                f"{tuple(x.shape)}; other sizes go through colorize, which resizes"
            )
        h = self.features(x)
        h = F.reshape(h, (x.shape[0], -1))
        y = self.head(h)
        return F.sigmoid(F.reshape(y, (x.shape[0], 2, s, s)))


def build_model(config) -> CNNRegression:
    """The network, its output bias set so that it starts at the training set's mean ab."""
    model = CNNRegression(
        int(config["size"]),
        int(config["conv1"]),
        int(config["conv2"]),
        int(config["fc1"]),
        int(config["fc2"]),
        float(config["dropout"]),
    )
    lab_common.start_at_the_data(model.head[-1].bias, config, "sigmoid255")
    return model


def ab_to_target(ab):
    """ab in Lab units -> the network's [0, 1] scale: (ab + 128) / 255."""
    return (ab + AB_SHIFT) / AB_SCALE


def loss(model: CNNRegression, batch, config) -> Tensor:
    """MSE between the sigmoid output and (ab + 128) / 255, over pixels and both planes."""
    L, ab = batch
    target = ab.data if isinstance(ab, Tensor) else ab
    y = model(L)
    return F.mse_loss(y, Tensor(ab_to_target(target), device=y.device))


def predict_ab(model: CNNRegression, L_net: np.ndarray, config, device: str | None = None):
    """ab (N, 2, s, s) of network inputs L_net (N, 1, s, s): 255 y - 128."""
    y = model(Tensor(L_net, device=device or model.device)).numpy()
    return y * AB_SCALE - AB_SHIFT


# --------------------------------------------------------------------------- the contract


def evaluate(model, data, config, device: str | None = None) -> dict:
    return lab_common.evaluate(predict_ab, model, data, config, device)


def save_figures(model, data, config, run_dir, device: str | None = None):
    return lab_common.save_figures(
        predict_ab, model, data, config, run_dir, device, NAME, colorize_fn=_colorize
    )


def _colorize(model, rgb, config, device=None, quiet=False):
    return lab_common.colorize(
        predict_ab,
        model,
        rgb,
        config,
        device,
        fixed_size=int(config["size"]),
        name=NAME,
        quiet=quiet,
    )


def colorize(model, rgb: np.ndarray, config, device: str | None = None) -> np.ndarray:
    """Colour an image of any size: resized to ``size`` squared for the network (said on
    stderr), the predicted ab resized back onto the image's own lightness."""
    return _colorize(model, rgb, config, device)


def min_size(config) -> int:
    return 1
