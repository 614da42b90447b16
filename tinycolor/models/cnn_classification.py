"""cnn_classification: Zhang, Isola and Efros, "Colorful Image Colorization" (ECCV 2016).

Colour as classification: the ab plane is quantised into Q bins (grid 10, the in-gamut ones;
``tinycolor.color.ab_bins``) and the network predicts, for every pixel at 1/4 resolution, a
distribution Z_hat over them (sec. 2.1):

    block 1: conv 3x3 64, conv 3x3 64 stride 2, BN             (1/2)
    block 2: conv 128, conv 128 stride 2, BN                    (1/4)
    block 3: conv 256 x 2, conv 256 stride 2, BN                (1/8)
    block 4: conv 512 x 3, BN
    block 5: conv 512 x 3, dilation 2, BN
    block 6: conv 512 x 3, dilation 2, BN
    block 7: conv 512 x 3, BN
    block 8: transposed conv 4x4 256 stride 2, conv 256 x 2    (1/4)
    1x1 conv to Q logits,

every conv 3x3 followed by a ReLU, no pooling. Block 8 goes straight into the 1x1 classifier,
without a BatchNorm, as in the authors' released network. ``--width`` multiplies every channel
count (1 is the paper's; the default 1/8 trains on a 2-core CPU in minutes). At ``--width 1``
it has 32.2 M weights: the released network's 32,235,385 (its PyTorch port's count), less 257
for each bin fewer (Q = 229 here against its 313, see ``ab_bins``).

Loss (eq. 2): the target distribution Z is the soft encoding of the true ab (downsampled x4 by
averaging each 4 x 4 block; the released training code takes every fourth pixel instead,
which aliases fine colour detail) over its k = 5 nearest bins with a Gaussian of sigma 5
(10 bins in the released code); the loss is the
cross-entropy -sum_q Z_q log Z_hat_q per pixel, weighted by v(Z) = w_{argmax_q Z_q}, the class
rebalancing weights w = ((1 - lambda) p + lambda / Q)^-1 normalised so E_p[w] = 1, lambda 0.5,
p the empirical prior of the training images' ab smoothed with a Gaussian (eq. 3-4); then
averaged over pixels. Images with no |ab| > 5 (gray images) get no loss. ``--no-rebalance``
gives every pixel weight 1.

Prediction (eq. 5): the annealed mean of Z_hat, softmax(log Z_hat / T) with T = 0.38
(``--temperature``), as an expectation over the bin centres; the 1/4-resolution ab is
upsampled x4 bilinearly and put beside the input's L. Fully convolutional: ``colorize`` colours
a whole image of any size (edge-padded to a multiple of 8).

Reference training: Adam, betas (0.9, 0.99), weight decay 1e-3, lr about 3e-5, batch 40; here
Adam with lr 1e-3 (the short CPU budget), no weight decay, and the project's one set of Adam
betas, PyTorch's (0.9, 0.999).
"""

from __future__ import annotations

import numpy as np

from .. import argtypes, nn
from .. import functional as F
from ..autograd import Tensor
from ..backend import array_module
from ..color import ab_bins, annealed_mean, nearest_bin, rebalance_weights, soft_encode
from . import InputError, lab_common
from .lab_common import image_metrics, to_gray  # noqa: F401 - part of the model's interface

NAME = "cnn_classification"
DESCRIPTION = "Zhang et al.'s CNN: L -> 8 conv blocks -> per-pixel distribution over ab bins"

DEFAULTS = {
    **lab_common.DATA_DEFAULTS,
    "width": 0.125,
    "temperature": 0.38,
    "rebalance": True,
    "rebalance_lambda": 0.5,
    "k": 5,
    "sigma": 5.0,
    "grid": 10.0,
    "epochs": 30,
    "batch_size": 16,
    "lr": None,
    "optimizer": "adam",
    "schedule": "cosine",
    "keep": "best",
    "ema": 0.99,
}

LEARNING_RATES = {"sgd": 0.1, "momentum": 0.01, "rmsprop": 1e-3, "adam": 1e-3}
LOSS_LABEL = "rebalanced cross-entropy over the ab bins"

CHANNELS = (64, 128, 256, 512, 512, 512, 512, 256)  # blocks 1-8 at full width
CONVS = (2, 2, 3, 3, 3, 3, 3, 3)  # 3x3 convolutions per block (block 8: transposed + 2)
STRIDE = 8  # input sides must be a multiple of this (three stride-2 blocks)
DOWNSAMPLE = 4  # the logits are at 1/4 of the input resolution
GRAY_THRESHOLD = 5.0  # images with no |a| or |b| above this get no loss


def add_temperature_argument(group, default: float, note: str = "") -> None:
    """``--temperature``: the annealed-mean T, shared by every model that decodes bins."""
    group.add_argument(
        "--temperature",
        type=argtypes.nonnegative_float,
        default=default,
        help=f"annealed-mean temperature T (1: the mean, 0: the mode){note}",
    )


def add_rebalance_lambda_argument(group, default: float) -> None:
    """``--rebalance-lambda``: the lambda of the class-rebalancing weights, shared by every
    model that rebalances its bins."""
    group.add_argument(
        "--rebalance-lambda",
        dest="rebalance_lambda",
        type=argtypes.unit_float,
        default=default,
        help="lambda mixing the prior with the uniform distribution in the rebalancing weights "
        "(1: every bin weighs the same; Zhang et al.: 0.5)",
    )


def add_arguments(parser) -> None:
    lab_common.add_data_arguments(parser, DEFAULTS)
    g = parser.add_argument_group("cnn_classification")
    g.add_argument(
        "--width",
        type=argtypes.positive_float,
        default=DEFAULTS["width"],
        help="channel multiplier (1: the paper's 64, 128, 256, 512, ..., 256)",
    )
    add_temperature_argument(g, DEFAULTS["temperature"])
    g.add_argument(
        "--no-rebalance",
        dest="rebalance",
        action="store_false",
        default=DEFAULTS["rebalance"],
        help="give every pixel weight 1 instead of the class-rebalancing weight",
    )
    add_rebalance_lambda_argument(g, DEFAULTS["rebalance_lambda"])
    g.add_argument(
        "--k",
        type=argtypes.positive_int,
        default=DEFAULTS["k"],
        help="nearest bins in the soft encoding of a target",
    )
    g.add_argument(
        "--sigma",
        type=argtypes.positive_float,
        default=DEFAULTS["sigma"],
        help="std of the soft encoding's Gaussian (ab units)",
    )


def unused_options(config) -> dict[str, str]:
    """The options that have no effect with ``config`` (see ``tinycolor.models``)."""
    out = lab_common.unused_data_options(config)
    if not config["rebalance"]:
        out["rebalance_lambda"] = "with --no-rebalance: every pixel weighs 1"
    return out


def bins(config) -> np.ndarray:
    """The (Q, 2) ab bin centres this model classifies into."""
    return ab_bins(float(config.get("grid", 10.0)))


def load_data(config):
    if int(config["size"]) % STRIDE:
        raise InputError(
            f"--size must be a multiple of {STRIDE} (three stride-2 blocks), got {config['size']}"
        )
    q = len(bins(config))
    if int(config["k"]) > q:  # refused here, not in the first step
        raise InputError(f"--k {config['k']}: a target can spread over at most the {q} bins")
    return lab_common.load_data(config)


# --------------------------------------------------------------------------- network


def _block(c_in, c_out, n, stride=1, dilation=1):
    layers = []
    for i in range(n):
        s = stride if i == n - 1 else 1
        conv = nn.Conv2d(
            c_in if i == 0 else c_out, c_out, 3, s, padding=dilation, dilation=dilation
        )
        layers += [conv, nn.ReLU()]
    layers.append(nn.BatchNorm2d(c_out))
    return nn.Sequential(*layers)


class ZhangColorNet(nn.Module):
    """(N, 1, H, W) L -> (N, Q, H/4, W/4) logits over the ab bins; H and W multiples of 8."""

    def __init__(self, num_bins: int, width: float = 1.0):
        super().__init__()
        c = [max(1, round(ch * width)) for ch in CHANNELS]
        self.channels, self.num_bins, self.width = c, int(num_bins), float(width)
        self.block1 = _block(1, c[0], CONVS[0], stride=2)
        self.block2 = _block(c[0], c[1], CONVS[1], stride=2)
        self.block3 = _block(c[1], c[2], CONVS[2], stride=2)
        self.block4 = _block(c[2], c[3], CONVS[3])
        self.block5 = _block(c[3], c[4], CONVS[4], dilation=2)
        self.block6 = _block(c[4], c[5], CONVS[5], dilation=2)
        self.block7 = _block(c[5], c[6], CONVS[6])
        self.block8 = nn.Sequential(
            nn.ConvTranspose2d(c[6], c[7], 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(c[7], c[7], 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c[7], c[7], 3, padding=1),
            nn.ReLU(),
        )
        self.classifier = nn.Conv2d(c[7], self.num_bins, 1)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != 1 or x.shape[2] % STRIDE or x.shape[3] % STRIDE:
            raise ValueError(
                f"ZhangColorNet: expected L of shape (N, 1, H, W) with H and W multiples of "
                f"{STRIDE}, got {tuple(x.shape)}"
            )
        for block in (self.block1, self.block2, self.block3, self.block4):
            x = block(x)
        for block in (self.block5, self.block6, self.block7, self.block8):
            x = block(x)
        return self.classifier(x)

    def extra_repr(self):
        return f"bins={self.num_bins}, width={self.width}, channels={self.channels}"


def build_model(config) -> ZhangColorNet:
    """The network, its classifier's bias set so that it starts at the training set's prior."""
    model = ZhangColorNet(len(bins(config)), float(config["width"]))
    lab_common.start_at_the_data(model.classifier.bias, config, "log_prior")
    return model


# --------------------------------------------------------------------------- loss, decoding


def downsample_ab(ab, factor: int = DOWNSAMPLE):
    """(N, 2, H, W) -> (N, 2, H/f, W/f): the mean of each f x f block (the target resolution)."""
    n, c, h, w = ab.shape
    return ab.reshape(n, c, h // factor, factor, w // factor, factor).mean(axis=(3, 5))


def pixel_weights(ab_small, config):
    """Each target pixel's loss weight: the rebalancing weight of its nearest bin (1 with
    ``--no-rebalance``), 0 in images with no |a|, |b| > 5. (N, h, w), float32, on ab's device."""
    xp = array_module(ab_small)
    n = ab_small.shape[0]
    if config.get("rebalance", True) and config.get("prior") is not None:
        prior = xp.asarray(config["prior"], dtype=np.float32)
        w_q = xp.asarray(rebalance_weights(prior, float(config["rebalance_lambda"])))
        w = w_q[nearest_bin(ab_small, bins(config), channel_axis=1)]
    else:
        w = xp.ones((n,) + ab_small.shape[2:], dtype=np.float32)
    colourful = xp.abs(ab_small).reshape(n, -1).max(axis=1) > GRAY_THRESHOLD
    return (w * colourful[:, None, None]).astype(np.float32)


def loss(model: ZhangColorNet, batch, config) -> Tensor:
    """Zhang's multinomial loss (eq. 2): the rebalanced cross-entropy between the predicted
    distribution and the soft-encoded target, averaged over the 1/4-resolution pixels."""
    L, ab = batch
    ab_arr = ab.data if isinstance(ab, Tensor) else ab
    ab_small = downsample_ab(ab_arr)
    target = soft_encode(
        ab_small, bins(config), k=int(config["k"]), sigma=float(config["sigma"]), channel_axis=1
    )
    out = model(L)
    per_pixel = F.cross_entropy(out, Tensor(target, device=out.device), axis=1, reduction="none")
    return F.mean(per_pixel * Tensor(pixel_weights(ab_small, config), device=out.device))


def decodes_bins(config) -> bool:
    """Always: ab is the annealed mean of the predicted distribution (``--temperature``)."""
    return True


def predict_ab(model: ZhangColorNet, L_net: np.ndarray, config, device: str | None = None):
    """ab (N, 2, H, W): the annealed mean (T = ``temperature``) of the predicted distribution,
    upsampled x4 bilinearly."""
    logits = model(Tensor(L_net, device=device or model.device))
    ab = annealed_mean(logits.data, bins(config), T=float(config["temperature"]), axis=1)
    ab = F.interpolate(Tensor(ab.astype(np.float32)), scale_factor=DOWNSAMPLE, mode="bilinear")
    return ab.numpy()


# --------------------------------------------------------------------------- the contract


def evaluate(model, data, config, device: str | None = None) -> dict:
    return lab_common.evaluate(predict_ab, model, data, config, device)


def save_figures(model, data, config, run_dir, device: str | None = None):
    return lab_common.save_figures(
        predict_ab, model, data, config, run_dir, device, NAME, colorize_fn=_colorize
    )


def _colorize(model, rgb, config, device=None, quiet=False):
    return lab_common.colorize(
        predict_ab, model, rgb, config, device, multiple=STRIDE, name=NAME, quiet=quiet
    )


def colorize(model, rgb: np.ndarray, config, device: str | None = None) -> np.ndarray:
    """Colour a whole image of any size (fully convolutional; edge-padded to a multiple of 8)."""
    return _colorize(model, rgb, config, device)


def min_size(config) -> int:
    return 1
