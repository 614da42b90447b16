"""cnn_fusion: Iizuka, Simo-Serra and Ishikawa, "Let there be Color!" (SIGGRAPH 2016).

Global priors and local features, learned together. The lightness goes through a shared
low-level network; a mid-level network keeps its spatial grid while a global network, on a
fixed-size copy of the input, reduces it to one vector for the whole image; the fusion layer
tiles that vector over the grid and mixes it in; the colorization network decodes the chroma.
All convolutions are 3x3 with BatchNorm and ReLU ("s2": stride 2), numbers are channels:

    low-level   1 -> 64 s2, 128, 128 s2, 256, 256 s2, 512                  (H/8)
    mid-level   512, 256                                                   (H/8)
    global      512 s2, 512, 512 s2, 512 (on the low-level features of the G x G copy),
                flatten, FC 1024, FC 512, FC 256                           (one 256-vector)
    fusion      y = ReLU(b + W [global; mid]): the 256-vector tiled over the H/8 grid,
                concatenated with the 256 mid-level channels, a 1x1 conv to 256
    colorize    128, nearest x2, 64, 64, nearest x2, 32, 2 with sigmoid     (H/2)
                then upsampled (bilinear) to H
    class head  from the global network's FC 512: FC 256, FC num_classes

The sigmoid output y predicts the chroma normalised to [0, 1], here y = (ab + 128) / 255.
Loss (paper eq. 3): ``MSE(y, (ab + 128) / 255) + alpha * CE(class logits, label)`` with
alpha = 1/300, so the network needs labelled images: the synthetic beach/sunset/forest scenes
by default, or the class subfolders of ``--data``. The paper writes the colour term as a squared
Frobenius norm; here it is the mean over pixels and channels (as Torch's MSECriterion computes
it by default): summed over the 112 x 112 x 2 outputs of a 224 input it would be 25,088 times
larger, and alpha = 1/300 would leave the class term no weight.

The paper trains with ADADELTA in batches of 128 (200,000 iterations on Places); here Adam with
lr 5e-4 in batches of 16 and a cosine schedule, the CPU budget's recipe (tinycolor has no
ADADELTA).

Full size (``--width 1``, ``--global-size 224`` and ``--size 224``) is the paper's network
(42 M weights at 224, 26 M of them in the FC 1024 that reads 7 x 7 x 512). The default is 1/8
of every width on 64x64 inputs with a 64x64 global copy (a 2 x 2 x 64 global grid), so it
trains on a 2-core CPU in minutes. The local path is fully convolutional: ``colorize``
colours an image of any size (edge-padded to a multiple of 8), while the global path sees it
resized to G x G.
"""

from __future__ import annotations

import argparse

import numpy as np

from .. import argtypes, nn
from .. import functional as F
from ..autograd import Tensor
from . import InputError, lab_common
from .classifier import (
    LABELLED_DEFAULTS,
    _unlabelled_source,
    add_labelled_data_arguments,
    load_labelled_data,
    num_classes,
    predict_tile_classes,
    unused_labelled_data_options,
)
from .lab_common import image_metrics, to_gray  # noqa: F401 - part of the model's interface

NAME = "cnn_fusion"
DESCRIPTION = (
    "Iizuka et al.: low/mid/global nets, fusion, colorization net + class head (alpha 1/300)"
)

DEFAULTS = {
    **LABELLED_DEFAULTS,
    "width": 0.125,
    "global_size": 64,
    "alpha": 1.0 / 300.0,
    "epochs": 30,
    "batch_size": 16,
    "lr": None,
    "optimizer": "adam",
    "schedule": "cosine",
    "keep": "best",
    "ema": 0.99,
    "seed": 0,
}

# Adam 5e-4: with 1e-3 the held-out loss of the default run jumped in late epochs
LEARNING_RATES = {"sgd": 0.1, "momentum": 0.01, "rmsprop": 5e-4, "adam": 5e-4}
LOSS_LABEL = "MSE of (ab + 128) / 255 + alpha * class cross-entropy"

AB_SHIFT = 128.0
AB_SCALE = 255.0
STRIDE = 8  # the low-level network's three stride-2 convolutions


def add_arguments(parser) -> None:
    add_labelled_data_arguments(parser, DEFAULTS)
    g = parser.add_argument_group("cnn_fusion")
    g.add_argument(
        "--width",
        type=_width,
        default=DEFAULTS["width"],
        help="multiplier of every layer's channels (1 = the paper's 64 ... 512)",
    )
    g.add_argument(
        "--global-size",
        dest="global_size",
        type=_global_size,
        default=DEFAULTS["global_size"],
        help="side of the fixed-size copy the global network sees (paper: 224); a multiple of 32",
    )
    g.add_argument(
        "--alpha",
        type=argtypes.nonnegative_float,
        default=DEFAULTS["alpha"],
        help="weight of the classification loss (paper: 1/300; 0 switches it off)",
    )


def unused_options(config) -> dict[str, str]:
    """The options that have no effect with ``config`` (see ``tinycolor.models``)."""
    out = unused_labelled_data_options(config)
    if _unlabelled_source(config.get("data")):
        out["alpha"] = (
            f"with --data {config['data']}: its images have no class subfolders, so they are "
            "one class, whose cross-entropy is 0"
        )
    return out


def _width(text: str) -> float:
    try:
        w = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a width multiplier, got {text!r}") from None
    if not 0 < w <= 4:
        raise argparse.ArgumentTypeError(f"expected a width multiplier in (0, 4], got {w}")
    return w


def _global_size(text: str) -> int:
    n = argtypes.positive_int(text)
    if n % 32:
        raise argparse.ArgumentTypeError(
            f"expected a multiple of 32 (five stride-2 convolutions), got {n}"
        )
    return n


def load_data(config):
    if int(config["size"]) % STRIDE:
        raise InputError(f"--size must be a multiple of {STRIDE}, got {config['size']}")
    return load_labelled_data(config, require_labels=False)


# --------------------------------------------------------------------------- network


def channels(n: int, width: float) -> int:
    """``n`` paper channels scaled by ``width`` (at least 1)."""
    return max(1, int(round(n * width)))


def conv_bn_relu(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()
    )


class FusionNet(nn.Module):
    """Iizuka et al.'s network. ``forward(L_net)`` (N, 1, H, W), H and W multiples of 8 ->
    ``(y, logits)``: y (N, 2, H, W) in [0, 1] (ab = 255 y - 128), logits (N, num_classes)."""

    def __init__(self, width: float = 1.0, global_size: int = 224, num_classes: int = 3):
        super().__init__()
        if global_size % 32:
            raise ValueError(f"FusionNet: global_size must be a multiple of 32, got {global_size}")
        self.width, self.global_size, self.num_classes = width, int(global_size), int(num_classes)

        def c(n):
            return channels(n, width)

        self.low = nn.Sequential(
            conv_bn_relu(1, c(64), 2),
            conv_bn_relu(c(64), c(128)),
            conv_bn_relu(c(128), c(128), 2),
            conv_bn_relu(c(128), c(256)),
            conv_bn_relu(c(256), c(256), 2),
            conv_bn_relu(c(256), c(512)),
        )
        self.mid = nn.Sequential(conv_bn_relu(c(512), c(512)), conv_bn_relu(c(512), c(256)))
        self.global_conv = nn.Sequential(
            conv_bn_relu(c(512), c(512), 2),
            conv_bn_relu(c(512), c(512)),
            conv_bn_relu(c(512), c(512), 2),
            conv_bn_relu(c(512), c(512)),
        )
        grid = self.global_size // 32
        self.global_fc = nn.Sequential(
            nn.Linear(c(512) * grid * grid, c(1024)),
            nn.ReLU(),
            nn.Linear(c(1024), c(512)),
            nn.ReLU(),
        )
        self.global_out = nn.Sequential(nn.Linear(c(512), c(256)), nn.ReLU())
        self.class_head = nn.Sequential(
            nn.Linear(c(512), c(256)), nn.ReLU(), nn.Linear(c(256), self.num_classes)
        )
        self.fusion = nn.Conv2d(2 * c(256), c(256), 1)
        self.colorize = nn.Sequential(
            conv_bn_relu(c(256), c(128)),
            nn.Upsample(scale_factor=2, mode="nearest"),
            conv_bn_relu(c(128), c(64)),
            conv_bn_relu(c(64), c(64)),
            nn.Upsample(scale_factor=2, mode="nearest"),
            conv_bn_relu(c(64), c(32)),
            nn.Conv2d(c(32), 2, 3, padding=1),
        )

    def forward(self, x: Tensor):
        if x.ndim != 4 or x.shape[1] != 1 or x.shape[2] % STRIDE or x.shape[3] % STRIDE:
            raise ValueError(
                f"FusionNet: expected L of shape (N, 1, H, W) with H and W multiples of "
                f"{STRIDE}, got {tuple(x.shape)}"
            )
        n, _, h, w = x.shape
        g = self.global_size
        low = self.low(x)
        # the global path sees a fixed-size copy; when the input is that size already, the
        # low-level features are shared rather than computed twice
        low_g = (
            low if (h, w) == (g, g) else self.low(F.interpolate(x, size=(g, g), mode="bilinear"))
        )
        hg = F.reshape(self.global_conv(low_g), (n, -1))
        h512 = self.global_fc(hg)
        logits = self.class_head(h512)
        vec = self.global_out(h512)  # (N, 256)
        mid = self.mid(low)
        gh, gw = mid.shape[2:]
        # tile the global vector over the mid-level grid: broadcasting against zeros
        # (the engine sums the gradient back over the grid)
        tiled = F.reshape(vec, (n, vec.shape[1], 1, 1)) + Tensor(
            np.zeros((1, 1, gh, gw), dtype=mid.dtype), device=mid.device
        )
        fused = F.relu(self.fusion(F.concat([tiled, mid], axis=1)))
        y = F.sigmoid(self.colorize(fused))  # (N, 2, H/2, W/2)
        return F.interpolate(y, size=(h, w), mode="bilinear"), logits

    def __repr__(self):
        return (
            f"FusionNet(width={self.width}, global_size={self.global_size}, "
            f"num_classes={self.num_classes})"
        )


def build_model(config) -> FusionNet:
    """The network, its last conv's bias set so that it starts at the training set's mean ab."""
    model = FusionNet(float(config["width"]), int(config["global_size"]), num_classes(config))
    lab_common.start_at_the_data(model.colorize[-1].bias, config, "sigmoid255")
    return model


def ab_to_target(ab):
    """ab in Lab units -> the sigmoid's [0, 1] scale: (ab + 128) / 255."""
    return (ab + AB_SHIFT) / AB_SCALE


def loss(model: FusionNet, batch, config) -> Tensor:
    """MSE of the normalised chroma + alpha * cross-entropy of the class (paper eq. 3)."""
    L, ab, labels = batch
    y, logits = model(L)
    target = ab.data if isinstance(ab, Tensor) else ab
    total = F.mse_loss(y, Tensor(ab_to_target(target), device=y.device))
    alpha = float(config.get("alpha", DEFAULTS["alpha"]))
    if alpha > 0:
        ce = F.cross_entropy(logits, labels, axis=1)  # labels: a Tensor or int64 array
        total = total + ce * alpha
    return total


def predict_ab(model: FusionNet, L_net: np.ndarray, config, device: str | None = None):
    """ab (N, 2, H, W) of network inputs L_net (N, 1, H, W): 255 y - 128."""
    y, _ = model(Tensor(L_net, device=device or model.device))
    return y.numpy() * AB_SCALE - AB_SHIFT


#: Test tiles the class head is shown at a time.
PREDICT_BATCH = 32


def predict_classes(
    model: FusionNet, L_net: np.ndarray, device: str | None = None, batch: int = PREDICT_BATCH
):
    """Class probabilities (N, num_classes) from the classification head, in eval mode."""
    from ..autograd import no_grad  # noqa: PLC0415

    was_training = model.training
    model.eval()
    out = []
    try:
        with no_grad():
            for s in range(0, len(L_net), batch):
                _, logits = model(
                    Tensor(
                        np.ascontiguousarray(L_net[s : s + batch]), device=device or model.device
                    )
                )
                out.append(F.softmax(logits, axis=1).numpy())
    finally:
        model.train(was_training)
    return np.concatenate(out)


# --------------------------------------------------------------------------- the contract


def evaluate(model, data, config, device: str | None = None) -> dict:
    """lab_common's colour metrics beside the gray and mean-ab baselines, plus the class
    head's accuracy on the same test images (``classification``)."""
    view = data.lab_view()
    metrics = lab_common.evaluate(predict_ab, model, view, config, device)
    data.test_pred = view.test_pred
    got = predict_tile_classes(
        lambda L: predict_classes(model, L, device), data.test, PREDICT_BATCH
    )
    metrics["classification"] = got.scores(len(data.class_names))
    metrics["class_names"] = data.class_names
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
    """Colour an image of any size: the local path sees the whole image (edge-padded to a
    multiple of 8), the global path a ``global_size`` squared copy of it."""
    return _colorize(model, rgb, config, device)


def min_size(config) -> int:
    return 1
