"""ann_window: colour a pixel from the gray window around it (seed 004, part 1).

The seed's first colorizer turns colorization into classification. Each RGB channel is
quantised to a few levels (4 by default: {0, 64, 128, 192}, labels 0..3, nearest level). For
every pixel, the ``w x w`` window of grayscale values around it (edge-padded at the borders)
is flattened to ``w*w`` numbers and fed to three small networks, one per channel, each

    w*w inputs -> ``hidden`` sigmoid units -> ``levels`` softmax outputs  (9-9-4 in the seed),

trained with cross-entropy against the centre pixel's level. Data: one image, trained on its
left half and tested on its right half (or, as in the seed's sunset -> beach experiment, a
training image and a test image).

The seed's metric, the *difference* of two images, is the mean over pixels of

    d = |(R1 - R2) + (G1 - G2) + (B1 - B2)| / S,     S = 64, the stride between levels,

that is, the absolute value of the summed signed level errors. Because the sum is signed, a
gray guess (each channel = the gray value's level) already scores well, so this model also
reports each channel's exact-level accuracy and the mean absolute level error, and the same
three numbers for that gray baseline.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import argtypes, nn
from .. import functional as F
from ..autograd import Tensor, no_grad
from ..color import levels_to_rgb, quantize_levels
from . import InputError

NAME = "ann_window"
DESCRIPTION = "seed 004's ANN: a pixel's gray 3x3 window -> its R, G, B levels (three 9-9-4 nets)"

DEFAULTS = {
    "image": "skimage:coffee",
    "train_image": None,
    "test_image": None,
    "window": 3,
    "hidden": 9,
    "levels": 4,
    "epochs": 8,
    "batch_size": 256,
    "lr": None,  # None: the optimizer's entry in LEARNING_RATES
    "optimizer": "adam",
    "seed": 0,
}

# Default learning rate of each optimizer for this model (chosen on coffee; see the README).
LEARNING_RATES = {"sgd": 1.0, "momentum": 0.1, "rmsprop": 0.01, "adam": 0.01}
EVAL_BATCH_SIZE = 8192  # windows per forward pass when measuring the test loss
LOSS_LABEL = "cross-entropy (mean over pixels and R, G, B)"

WINDOWS = (3, 5, 7)

# Gray values in [0, 1] are centred and scaled before they reach the network, so that the
# sigmoid units start in their steep middle rather than saturated.
INPUT_CENTER = 0.5
INPUT_SCALE = 4.0

# ITU-R BT.709 luma weights, the ones skimage.color.rgb2gray uses.
GRAY_WEIGHTS = (0.2125, 0.7154, 0.0721)


# --------------------------------------------------------------------------- data


def add_arguments(parser) -> None:
    g = parser.add_argument_group("ann_window")
    g.add_argument(
        "--image",
        default=DEFAULTS["image"],
        help="image to train on (left half) and test on (right half); any image file, or "
        "skimage:NAME for an image bundled with scikit-image",
    )
    g.add_argument(
        "--train-image",
        dest="train_image",
        default=None,
        help="train on this whole image instead (needs --test-image)",
    )
    g.add_argument(
        "--test-image",
        dest="test_image",
        default=None,
        help="test on this whole image (needs --train-image)",
    )
    g.add_argument(
        "--window", type=int, choices=WINDOWS, default=DEFAULTS["window"], help="window side"
    )
    g.add_argument(
        "--hidden",
        type=argtypes.positive_int,
        default=DEFAULTS["hidden"],
        help="hidden units per net",
    )
    g.add_argument(
        "--levels",
        type=_levels,
        default=DEFAULTS["levels"],
        help="levels per channel (2..16), spaced 256/levels apart from 0",
    )


def unused_options(config) -> dict[str, str]:
    """The options that have no effect with ``config`` (see ``tinycolor.models``)."""
    if config.get("train_image") is not None and config.get("test_image") is not None:
        return {"image": "with --train-image and --test-image: the run uses those images"}
    return {}


def _levels(text: str) -> int:
    n = argtypes.positive_int(text)
    if not 2 <= n <= 16:
        raise argparse.ArgumentTypeError(f"expected 2 to 16 levels, got {n}")
    return n


def level_step(levels: int) -> int:
    """The stride S between levels: 256 // levels (64 for the seed's 4 levels)."""
    return 256 // int(levels)


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """Luminance of float RGB in [0, 1]: 0.2125 R + 0.7154 G + 0.0721 B (as skimage's rgb2gray)."""
    rgb = np.asarray(rgb, dtype=np.float32)
    return (rgb @ np.asarray(GRAY_WEIGHTS, dtype=np.float32)).astype(np.float32)


def rgb_levels(rgb: np.ndarray, levels: int) -> np.ndarray:
    """Each channel of float RGB in [0, 1] as its nearest level label, int64 (H, W, 3)."""
    return quantize_levels(np.rint(np.asarray(rgb) * 255.0), levels, level_step(levels))


def gray_levels(gray: np.ndarray, levels: int) -> np.ndarray:
    """The gray baseline: every channel gets the level of the gray value, int64 (H, W, 3)."""
    lab = quantize_levels(np.rint(np.asarray(gray) * 255.0), levels, level_step(levels))
    return np.repeat(lab[..., None], 3, axis=-1)


def extract_windows(gray: np.ndarray, window: int) -> np.ndarray:
    """Every pixel's ``window x window`` neighbourhood, edge-padded, flattened row by row.

    ``gray`` (H, W) -> (H * W, window * window), row-major over pixels, so that row
    ``i * W + j`` holds the window centred on pixel (i, j). A strided view over the padded
    image, copied once; no loop over pixels.
    """
    if window < 1 or window % 2 == 0:
        raise ValueError(f"extract_windows: the window side must be odd and positive, got {window}")
    g = np.asarray(gray)
    if g.ndim != 2:
        raise ValueError(f"extract_windows: expected a 2-D gray image, got shape {g.shape}")
    p = window // 2
    padded = np.pad(g, p, mode="edge")
    view = sliding_window_view(padded, (window, window))  # (H, W, window, window)
    return view.reshape(g.shape[0] * g.shape[1], window * window)


def network_input(windows: np.ndarray) -> np.ndarray:
    """Gray windows in [0, 1] as the network sees them: (x - 0.5) * 4, float32."""
    return ((np.asarray(windows, dtype=np.float32) - INPUT_CENTER) * INPUT_SCALE).astype(np.float32)


@dataclass
class WindowData:
    """The two images (or halves) as the training loop and the figures need them."""

    train: tuple  # (x (N, w*w) float32, y (N, 3) int64)
    test: tuple
    train_rgb: np.ndarray  # float (H, W, 3), the colour originals
    test_rgb: np.ndarray
    train_gray: np.ndarray  # float (H, W)
    test_gray: np.ndarray
    train_labels: np.ndarray  # int64 (H, W, 3), the quantised originals
    test_labels: np.ndarray
    split: str  # "halves" or "images"
    description: str
    full_rgb: np.ndarray | None = field(default=None, repr=False)  # the whole image ("halves")
    test_pred: np.ndarray | None = field(default=None, repr=False)  # set by evaluate


def min_size(config) -> int:
    return int(config["window"])


def _pixels(n: int) -> str:
    return f"{n} pixel" if n == 1 else f"{n} pixels"


def check_size(rgb: np.ndarray, config, what: str = "the image") -> None:
    """Raise InputError when ``rgb`` is smaller than the window in either direction."""
    w = min_size(config)
    h, wd = rgb.shape[:2]
    if h < w or wd < w:
        raise InputError(
            f"{what} is {_pixels(wd)} wide and {h} high, smaller than the {w}x{w} window; "
            f"use an image at least {w} pixels in each direction"
        )


def _examples(gray: np.ndarray, labels: np.ndarray, window: int) -> tuple:
    x = network_input(extract_windows(gray, window))
    return x, np.ascontiguousarray(labels.reshape(-1, 3))


def load_data(config) -> WindowData:
    """Read the image(s), make them gray, quantise the colours and cut the windows."""
    from ..imageio import is_grayscale, read_image  # noqa: PLC0415

    levels, window = int(config["levels"]), int(config["window"])
    train_path, test_path = config.get("train_image"), config.get("test_image")
    if (train_path is None) != (test_path is None):
        raise InputError("--train-image and --test-image go together: give both or neither")
    full = None
    if train_path is not None:
        train_rgb, test_rgb = read_image(train_path), read_image(test_path)
        check_size(train_rgb, config, f"the training image {train_path}")
        check_size(test_rgb, config, f"the test image {test_path}")
        split, desc = "images", f"train on {train_path}, test on {test_path}"
    else:
        full = read_image(config["image"])
        h, w = full.shape[:2]
        if h < window or w // 2 < window:
            raise InputError(
                f"{config['image']} is {_pixels(w)} wide and {h} high: each half must cover the "
                f"{window}x{window} window, so the image needs at least {2 * window} pixels "
                f"across and {window} down"
            )
        train_rgb, test_rgb = full[:, : w // 2], full[:, w // 2 :]
        split, desc = "halves", f"{config['image']}: train on the left half, test on the right"
    if is_grayscale(train_rgb):
        import warnings  # noqa: PLC0415

        where = train_path if train_path is not None else f"the left half of {config['image']}"
        warnings.warn(
            f"{where} is gray: the networks can only learn to give back gray; train on a colour "
            "image",
            stacklevel=2,
        )
    train_gray, test_gray = to_gray(train_rgb), to_gray(test_rgb)
    train_labels, test_labels = rgb_levels(train_rgb, levels), rgb_levels(test_rgb, levels)
    return WindowData(
        train=_examples(train_gray, train_labels, window),
        test=_examples(test_gray, test_labels, window),
        train_rgb=train_rgb,
        test_rgb=test_rgb,
        train_gray=train_gray,
        test_gray=test_gray,
        train_labels=train_labels,
        test_labels=test_labels,
        split=split,
        description=desc,
        full_rgb=full,
    )


# --------------------------------------------------------------------------- network


class ANNWindow(nn.Module):
    """Three independent ``w*w -> hidden (sigmoid) -> levels`` networks, for R, G and B.

    ``forward(x)`` takes windows ``(N, w*w)`` and returns logits ``(N, levels, 3)``: the
    class axis second, as ``cross_entropy(..., axis=1)`` wants, one column per channel. The
    softmax of the seed's output layer is part of the loss (``cross_entropy`` applies
    ``log_softmax``) and of ``predict_proba``.
    """

    def __init__(self, window: int = 3, hidden: int = 9, levels: int = 4):
        super().__init__()
        self.window, self.hidden, self.levels = window, hidden, levels
        n_in = window * window
        self.r = nn.Sequential(nn.Linear(n_in, hidden), nn.Sigmoid(), nn.Linear(hidden, levels))
        self.g = nn.Sequential(nn.Linear(n_in, hidden), nn.Sigmoid(), nn.Linear(hidden, levels))
        self.b = nn.Sequential(nn.Linear(n_in, hidden), nn.Sigmoid(), nn.Linear(hidden, levels))

    def forward(self, x: Tensor) -> Tensor:
        n_in = self.window * self.window
        if x.ndim != 2 or x.shape[1] != n_in:
            raise ValueError(
                f"ANNWindow({self.window}x{self.window}): expected windows of shape (N, {n_in}), "
                f"got {x.shape}"
            )
        return F.stack([self.r(x), self.g(x), self.b(x)], axis=2)

    def predict_proba(self, x: Tensor) -> Tensor:
        """Per-channel level probabilities (N, levels, 3): the softmax output layer."""
        return F.softmax(self(x), axis=1)

    def __repr__(self):
        return f"ANNWindow(window={self.window}, hidden={self.hidden}, levels={self.levels})"


def build_model(config) -> ANNWindow:
    return ANNWindow(int(config["window"]), int(config["hidden"]), int(config["levels"]))


def loss(model: ANNWindow, batch, config) -> Tensor:
    """Cross-entropy of the three nets, averaged over pixels and channels."""
    x, y = batch
    return F.cross_entropy(model(x), y, axis=1)


# --------------------------------------------------------------------------- prediction


def predict_levels(
    model: ANNWindow, gray: np.ndarray, device: str | None = None, chunk: int = 1 << 17
):
    """The predicted level labels (H, W, 3) int64 of a gray image of any size.

    Windows are cut a band of rows at a time (about ``chunk`` pixels), so a large photo does
    not need all its windows in memory at once.
    """
    h, w = gray.shape
    p = model.window // 2
    padded = np.pad(np.asarray(gray, dtype=np.float32), p, mode="edge")
    rows = max(1, chunk // max(w, 1))
    out = np.empty((h, w, 3), dtype=np.int64)
    was_training = model.training
    model.eval()
    with no_grad():
        for r0 in range(0, h, rows):
            r1 = min(h, r0 + rows)
            band = padded[r0 : r1 + 2 * p]
            win = sliding_window_view(band, (model.window, model.window))
            x = network_input(win.reshape(-1, model.window * model.window))
            logits = model(Tensor(x, device=device or model.device))
            out[r0:r1] = logits.numpy().argmax(axis=1).reshape(r1 - r0, w, 3)
    model.train(was_training)
    return out


# --------------------------------------------------------------------------- metrics


def difference(pred_labels: np.ndarray, true_labels: np.ndarray) -> float:
    """The seed's metric: mean over pixels of |sum over channels of (pred - true)| in levels.

    With 8-bit values v = label * S this is exactly mean |(R1-R2) + (G1-G2) + (B1-B2)| / S.
    Labels have the channel last: (..., 3).
    """
    d = np.asarray(pred_labels, dtype=np.int64) - np.asarray(true_labels, dtype=np.int64)
    return float(np.abs(d.sum(axis=-1)).mean())


def accuracy_per_channel(pred_labels: np.ndarray, true_labels: np.ndarray) -> list[float]:
    """[R, G, B]: the fraction of pixels whose level is exactly right."""
    p = np.asarray(pred_labels).reshape(-1, 3)
    t = np.asarray(true_labels).reshape(-1, 3)
    return [float(v) for v in (p == t).mean(axis=0)]


def mae_levels(pred_labels: np.ndarray, true_labels: np.ndarray) -> float:
    """Mean absolute level error over pixels and channels (0 = perfect, 1 = one level off)."""
    d = np.asarray(pred_labels, dtype=np.int64) - np.asarray(true_labels, dtype=np.int64)
    return float(np.abs(d).mean())


def score(pred_labels: np.ndarray, true_labels: np.ndarray) -> dict:
    """The three numbers this model reports, for one prediction against its truth."""
    return {
        "difference": difference(pred_labels, true_labels),
        "accuracy_per_channel": accuracy_per_channel(pred_labels, true_labels),
        "mae_levels": mae_levels(pred_labels, true_labels),
    }


def evaluate(model: ANNWindow, data: WindowData, config, device: str | None = None) -> dict:
    """Scores on the test image/half (and the training one), beside the gray baseline."""
    levels = int(config["levels"])
    test_pred = predict_levels(model, data.test_gray, device)
    train_pred = predict_levels(model, data.train_gray, device)
    metrics = score(test_pred, data.test_labels)
    metrics["train"] = score(train_pred, data.train_labels)
    metrics["baselines"] = {"gray": score(gray_levels(data.test_gray, levels), data.test_labels)}
    metrics["test_pixels"] = int(data.test_labels.shape[0] * data.test_labels.shape[1])
    metrics["data"] = data.description
    data.test_pred = test_pred  # reused by save_figures
    return metrics


# --------------------------------------------------------------------------- figures, colorize


def save_figures(model: ANNWindow, data: WindowData, config, run_dir, device: str | None = None):
    """``comparison.png``, the seed's figure: quantised original and grayscale above, the
    truth for the test part and the prediction beside it below."""
    from .. import viz  # noqa: PLC0415

    step = level_step(int(config["levels"]))
    pred = getattr(data, "test_pred", None)
    if pred is None:
        pred = predict_levels(model, data.test_gray, device)
    if data.split == "halves":
        top_left = levels_to_rgb(np.concatenate([data.train_labels, data.test_labels], 1), step)
        top_right = to_gray(data.full_rgb)
        titles = ("original, quantised", "grayscale input")
        truth_title, pred_title = "right half: truth", "right half: prediction"
    else:
        top_left = levels_to_rgb(data.train_labels, step)
        top_right = data.test_gray
        titles = ("training image, quantised", "test image, grayscale")
        truth_title, pred_title = "test image: truth", "test image: prediction"
    d = difference(pred, data.test_labels)
    acc = accuracy_per_channel(pred, data.test_labels)
    panels = [
        (titles[0], top_left),
        (titles[1], top_right),
        (truth_title, levels_to_rgb(data.test_labels, step)),
        (
            f"{pred_title}\ndifference {d:.3f}, accuracy R/G/B "
            + "/".join(f"{a:.2f}" for a in acc),
            levels_to_rgb(pred, step),
        ),
    ]
    path = Path(run_dir) / "comparison.png"
    viz.image_grid(panels, path, ncols=2, title=f"ann_window {config['window']}x{config['window']}")
    return [path]


def colorize(model: ANNWindow, rgb: np.ndarray, config, device: str | None = None) -> np.ndarray:
    """Colour an image of any size (a colour input is made gray first): uint8 (H, W, 3)."""
    check_size(rgb, config)
    labels = predict_levels(model, to_gray(rgb), device)
    return levels_to_rgb(labels, level_step(int(config["levels"])))


def reference(rgb: np.ndarray, config) -> np.ndarray:
    """The best this model could do: the original quantised to its levels (uint8)."""
    return levels_to_rgb(rgb_levels(rgb, int(config["levels"])), level_step(int(config["levels"])))


def image_metrics(pred: np.ndarray, rgb: np.ndarray, config) -> dict:
    """difference / accuracy / MAE of a colorization (uint8 levels) against the original."""
    levels = int(config["levels"])
    step = level_step(levels)
    pred_labels = quantize_levels(pred, levels, step)
    return score(pred_labels, rgb_levels(rgb, levels))
