"""The colorizers, one file each, and the registry that ``train`` and ``colorize`` look them up in.

A model file *declares* a model; it never writes a training loop. ``python -m tinycolor.train
NAME`` runs every model the same way (see ``tinycolor/train.py``). A model module provides:

``NAME``, ``DESCRIPTION``
    its registry name and a one-line description (the one ``--list`` prints).
``DEFAULTS``
    a dict of every configuration key with its default value. The training keys that
    ``train.py`` turns into common options are ``epochs``, ``batch_size``, ``lr`` and
    ``optimizer`` (and, optional, ``seed``, ``weight_decay``, ``schedule``, ``keep`` and
    ``ema``: 0, 0.0, "constant", "last" and 0.0 when absent); the rest belong to the model.
``add_arguments(parser)``
    adds the model's own command-line options (``--window``, ``--data``, ...) to an argparse
    parser; ``dest`` must be the config key, default ``DEFAULTS[key]``.
``load_data(config) -> data``
    an object with ``data.train`` and ``data.test``: each either a tuple of arrays whose first
    axis indexes examples (``train.py`` shuffles and batches them) or an object with a
    ``batches(batch_size, rng, shuffle)`` method yielding tuples of arrays. Anything else the
    model needs later (whole images for the figures, say) can ride along on ``data``.
``build_model(config) -> nn.Module``
    the network, freshly initialised (``train.py`` seeds the generators first).
``loss(model, batch, config) -> Tensor``
    the scalar training loss of one batch (a tuple of Tensors already on the model's device).
``evaluate(model, data, config, device) -> dict``
    the numbers for ``metrics.json``: the model's metrics at the top level, and the same
    metrics for simple baselines under ``"baselines"`` (``{"gray": {...}}``).
``save_figures(model, data, config, run_dir, device) -> list[Path]``
    the model's pictures (``comparison.png``), written into the run folder.
``colorize(model, rgb, config, device) -> uint8 (H, W, 3)``
    colour an image of any size (``rgb`` float in [0, 1]; a colour input is made gray first).

In these, ``device`` may be left out (None): the inputs then go where the model's parameters
are (``model.device``), so a model built or moved onto the GPU is used there.

Optional:

``LEARNING_RATES``
    ``{optimizer: lr}``, the default lr for each optimizer when ``--lr`` is not given.
``make_optimizers(model, config) -> dict[str, Optimizer]`` and
``train_step(model, optimizers, batch, config) -> dict[str, float]``
    for models whose step is not "loss, backward, step" (a GAN updates two networks); the
    returned dict's ``"loss"`` entry is the number the progress bar and ``loss.png`` show.
``EVAL_BATCH_SIZE``
    examples per forward pass when measuring the test loss (default: the training batch size).
``LOSS_LABEL``, or ``loss_label(config) -> str`` where it depends on the settings
    the y-axis label of ``loss.png`` (default "loss"; see ``loss_label`` below).
``min_size(config) -> int``
    the smallest height/width of an image the model can colour.
``predict_ab(model, L_net, config, device) -> ab (N, 2, H, W)``
    for a Lab model: the ab of a batch of lightness planes (N, 1, H, W), as
    ``lab_common.to_net_l`` scales them; ``evaluate`` then scores whole images in Lab directly
    (without it, through ``colorize``, its uint8 picture read back as Lab). Beside it,
    ``STRIDE`` (or the network's ``stride`` attribute): the sides must be a multiple of it
    (``evaluate`` centre-crops to it); or the network's ``size`` attribute: its fixed input
    size (``evaluate`` resizes each image to it and the ab back).
``to_gray(rgb) -> (H, W) float``
    the gray input that ``colorize --compare`` shows (default: the mean of R, G and B).
``reference(rgb, config) -> uint8 (H, W, 3)``
    what a colorization of ``rgb`` should be compared with (default: ``rgb`` itself).
``image_metrics(pred, rgb, config) -> dict``
    the model's metrics for one colorized image against its colour original.
``next_step(checkpoint, config) -> str``
    the command the end of a training run suggests for its checkpoint (default: colour an
    image with it, ``python -m tinycolor.colorize``).
``decodes_bins(config) -> bool``
    whether the model's ab is the annealed mean of a distribution over the ab bins, with
    ``config["temperature"]`` as its T (which ``evaluate`` and ``colorize`` can then set
    with ``--temperature``, see ``set_temperature``).
``unused_options(config) -> dict[str, str]``
    the model's options that have no effect with these settings, by config key, each with
    why, worded to follow "--OPTION has no effect " (``{"temperature": "with --loss l2: ..."}``
    for ``cnn_resnet``); ``train`` warns about those given on the command line (its own
    options' cases are in ``train.unused_options``).

To add a model, write the file and add one line to ``_REGISTRY`` below.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = [
    "InputError",
    "UnknownModelError",
    "add_temperature_option",
    "available",
    "describe",
    "get",
    "loss_label",
    "set_temperature",
    "takes_temperature",
]

# name -> (module path, one-line description). Descriptions live here too so that `--list`
# need not import every model.
_REGISTRY: dict[str, tuple[str, str]] = {
    "ann_window": (
        "tinycolor.models.ann_window",
        "seed 004's ANN: a pixel's gray 3x3 window -> its R, G, B levels (three 9-9-4 nets)",
    ),
    "cnn_regression": (
        "tinycolor.models.cnn_regression",
        "seed 004's CNN: L -> conv 5x5 32, pool, conv 5x5 64, pool, FC, FC -> ab (Lab MSE)",
    ),
    "cnn_classification": (
        "tinycolor.models.cnn_classification",
        "Zhang et al.'s CNN: L -> 8 conv blocks -> per-pixel distribution over ab bins",
    ),
    "classifier": (
        "tinycolor.models.classifier",
        "a small grayscale image classifier (L -> class)",
    ),
    "cnn_fusion": (
        "tinycolor.models.cnn_fusion",
        "Iizuka et al.: low/mid/global nets, fusion, colorization net + class head (alpha 1/300)",
    ),
    "cnn_koala": (
        "tinycolor.models.cnn_koala",
        "seed 002's Deep Koalarization: encoder + classifier embedding fusion + decoder",
    ),
    "cnn_resnet": (
        "tinycolor.models.cnn_resnet",
        "seed 001's CNN: pretrained ResNet encoder + conv head + upsample (--loss l1|l2|ce)",
    ),
}


class InputError(ValueError):
    """An input a model cannot use (an image smaller than its window, say); a one-line message."""


class UnknownModelError(KeyError):
    """A model name that is not in the registry; the message lists the known ones."""

    def __str__(self):  # KeyError would print the message quoted
        return str(self.args[0])


def loss_label(module, config) -> str:
    """The y-axis label of a run's ``loss.png``: the model's ``loss_label(config)`` if it has
    one (the loss depends on a setting), else its ``LOSS_LABEL``, else "loss"."""
    if hasattr(module, "loss_label"):
        return module.loss_label(config)
    return getattr(module, "LOSS_LABEL", "loss")


def available() -> list[str]:
    """The registered model names, sorted."""
    return sorted(_REGISTRY)


def describe(name: str) -> str:
    """The one-line description of model ``name``."""
    return _entry(name)[1]


def _entry(name: str) -> tuple[str, str]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {name!r}; known models: {', '.join(available())}"
        ) from None


def get(name: str) -> ModuleType:
    """The module that declares model ``name`` (imported on first use)."""
    return importlib.import_module(_entry(name)[0])


def add_temperature_option(parser) -> None:
    """``--temperature T`` of the commands that load a trained colorizer (``evaluate``,
    ``colorize``): decode with T instead of the stored one (``set_temperature``)."""
    from ..argtypes import nonnegative_float  # noqa: PLC0415

    parser.add_argument(
        "--temperature",
        type=nonnegative_float,
        default=None,
        metavar="T",
        help="annealed-mean temperature for a model that decodes ab bins (cnn_classification, "
        "cnn_resnet --loss ce) instead of the one it was trained with (1: the mean, 0: the mode)",
    )


def takes_temperature(module: ModuleType, config: dict) -> bool:
    """Whether the model decodes ab from a distribution over the ab bins with the annealed
    mean, T = ``config["temperature"]`` (its ``decodes_bins``)."""
    decodes = getattr(module, "decodes_bins", None)
    return decodes is not None and bool(decodes(config))


def set_temperature(module: ModuleType, config: dict, temperature: float) -> None:
    """Decode with the annealed-mean temperature ``temperature`` instead of the one the model
    was trained with (``--temperature`` of ``evaluate`` and ``colorize``; T is used only to turn
    the predicted distribution into ab, so the weights stay valid). Raises InputError for a
    model whose ab does not come from a distribution over the ab bins."""
    if not takes_temperature(module, config):
        how = f" --loss {config['loss']}" if "loss" in config else ""
        raise InputError(
            f"--temperature: a {module.NAME}{how} checkpoint does not decode a distribution "
            "over the ab bins, so it has no temperature to set (cnn_classification does, and "
            "cnn_resnet with --loss ce)"
        )
    if not temperature >= 0:
        raise InputError(f"--temperature: expected a number >= 0, got {temperature}")
    config["temperature"] = float(temperature)
