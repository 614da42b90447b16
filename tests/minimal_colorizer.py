"""A colorizer with only the hooks that ``tinycolor/models/__init__.py`` lists as required, as a
learner writes a new one: the tests register it and run train, colorize and evaluate on it.

L -> a 3x3 convolution -> ab / 100, trained on random 8x8 crops of one smooth colour image.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from tinycolor import Tensor, nn
from tinycolor.color import lab_to_rgb, rgb_to_lab

NAME = "minimal_colorizer"
DESCRIPTION = "the protocol's required hooks only: L -> conv 3x3 -> ab"
DEFAULTS = {"epochs": 1, "batch_size": 4, "lr": 1e-2, "optimizer": "adam", "width": 4}


def add_arguments(parser) -> None:
    parser.add_argument("--width", dest="width", type=int, default=DEFAULTS["width"])


def _l_ab(rgb):
    """(1, H, W) L / 100 and (2, H, W) ab / 100 of an (H, W, 3) RGB image in [0, 1]."""
    lab = np.asarray(rgb_to_lab(np.asarray(rgb, np.float32)), np.float32).transpose(2, 0, 1)
    return lab[:1] / 100, lab[1:] / 100


def load_data(config):
    y, x = np.mgrid[0:16, 0:16] / 16
    rgb = np.stack([0.5 + 0.4 * np.sin(3 * x), 0.5 + 0.4 * np.cos(2 * y), 0.5 + 0 * x], -1)
    L, ab = _l_ab(rgb)
    crops = [(i, j) for i in range(0, 9, 4) for j in range(0, 9, 4)]
    Ls = np.stack([L[:, i : i + 8, j : j + 8] for i, j in crops])
    abs_ = np.stack([ab[:, i : i + 8, j : j + 8] for i, j in crops])
    return SimpleNamespace(train=(Ls[:6], abs_[:6]), test=(Ls[6:], abs_[6:]))


class Net(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv = nn.Conv2d(1, width, 3, padding=1)
        self.out = nn.Conv2d(width, 2, 1)

    def forward(self, x):
        return self.out(self.conv(x).relu())


def build_model(config):
    return Net(int(config["width"]))


def loss(model, batch, config) -> Tensor:
    L, ab = batch
    return ((model(L) - ab) ** 2).mean()


def evaluate(model, data, config, device=None) -> dict:
    L, ab = data.test
    pred = model(Tensor(L, device=device or model.device)).numpy()
    gray = float(np.mean(ab**2))
    return {"mse": float(np.mean((pred - ab) ** 2)), "baselines": {"gray": {"mse": gray}}}


def save_figures(model, data, config, run_dir, device=None) -> list:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    path = Path(run_dir) / "comparison.png"
    fig, ax = plt.subplots()
    ax.imshow(data.test[0][0, 0], cmap="gray")
    fig.savefig(path)
    plt.close(fig)
    return [path]


def colorize(model, rgb, config, device=None):
    rgb = np.asarray(rgb, np.float32)
    gray = rgb.mean(axis=-1) if rgb.ndim == 3 else rgb
    L, _ = _l_ab(np.repeat(gray[..., None], 3, axis=-1))
    ab = model(Tensor(L[None], device=device or model.device)).numpy()[0]
    lab = (np.concatenate([L, ab]) * 100).transpose(1, 2, 0)
    return (np.clip(np.asarray(lab_to_rgb(lab)), 0, 1) * 255).round().astype(np.uint8)
