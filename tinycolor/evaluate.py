"""``python -m tinycolor.evaluate --checkpoint CKPT [...] [--data DIR] [--size 256] [--json OUT]``.

Score a trained colorizer on whole images, beside two baselines on the very same pixels:

- ``gray``: ab = 0 everywhere (the gray input itself);
- ``mean_ab``: the training set's mean ab everywhere (stored in the checkpoint's config).

Each image of ``--data`` (a folder, or ``skimage`` for the colour photos scikit-image ships,
the default) is resized so its short side is ``--size`` and shown to the model whole:

- a fully convolutional model (one with a ``STRIDE``, or a network with a ``stride``) sees it
  centre-cropped to a multiple of that stride (less than one stride is lost per side);
- a fixed-size model (a network with an input ``size``, cnn_regression) sees it resized to its
  input size, and its predicted ab is resized back, as ``colorize`` does;
- any other colorizer goes through its own ``colorize`` (a uint8 picture whose ab is read back).

The metrics are those of ``tinycolor.models.lab_common.score`` (PSNR, SSIM, acc10, AuC,
rebalanced AuC, colourfulness). PSNR, SSIM and colourfulness are averaged over images; acc10
and the AuCs pool every pixel of every image, as the training run's ``metrics.json`` pools
its test tiles. The rebalanced AuC weighs a pixel by 1 / p of its true colour's bin, with p
the share of the evaluated pixels in each bin (``prior_source`` in the output says so): every
colour class present weighs alike, and the rebalanced AuC is the mean over the classes of
their AuC. It is gathered in the same single pass as the rest, as sums of the AuC terms per
class (``auc_classes`` in the output, with which the numbers of several evaluations pool
exactly). That is what Zhang et al.'s weighting by the training set's prior amounts to on test
photos like the training ones (ImageNet's). With the prior of a dozen training photos on
other photos it did not: a colour class that prior all but lacked (1e-27) gave one pixel
more weight than all the others together.

The images are read (a folder's from its cache after a first run), predicted and scored one
at a time, so a folder of any number of photos takes the memory of a few: of each image only
its row of ``per_image`` and a few numbers to pool are kept.

Several checkpoints of one model (``--checkpoint A B C``: runs trained with different
``--seed``, say) are scored as one ensemble: its prediction is the mean of their predicted
ab, its mean-ab baseline the mean of their mean ab.
On a dozen training photos the seed alone moves what a network learns by a lot; their mean
keeps what the runs agree on. Fully convolutional members of different strides (cnn_resnet
``--stages 1`` and ``2``) are scored on images cropped to a multiple of each one's.

``--temperature T`` decodes a model of ab bins (cnn_classification, cnn_resnet ``--loss ce``)
with the annealed-mean T instead of the one it was trained with, to see its trade between
vivid and accurate colour without training again; the output's ``temperature`` is the T used
(null for the models that regress ab; an ensemble's members' each, as a list, when they differ).

Output: a table on stdout, ``samples.png`` (rows of gray | prediction | truth) in ``--out``
(default ``eval-<dataset>/`` next to the checkpoint), and with ``--json`` the numbers as
``{"model": {...}, "gray": {...}, "mean_ab": {...}, "truth": {"colorfulness"}, "images": N,
"skipped": {"gray": [...], "unreadable": [...]}, "unreadable_why": {file: reason},
"auc_classes": {"bins", "pixels", "model", "gray", "mean_ab"}, ...}`` (``auc_classes``: the
colour classes scored, their pixel counts and each score's sum of AuC terms in each, from
which ``metrics.class_mean`` gives the rebalanced AuC); the files of the folder that were not
scored are named there and under the table, with why (not an image, too elongated...).
Scored on the data its run trained on (a default run on the scikit-image photos, say), the
output says so: ``"trained_on"``, the scored images the run trained on (those not among the
``held_out`` of its metrics.json; null when no metrics.json beside the checkpoint names them),
and a ``"note"``, printed under the table too. The JSON is written even when samples.png
cannot be.

A checkpoint that is not a colorizer's (the ``classifier``), a missing checkpoint or folder, a
folder without colour images, or results that would go where they replace what the user has
(``--json`` naming the checkpoint, an image, a file that is not a JSON result of evaluate,
such as a run's metrics.json) or among the images of ``--data`` (``--out`` inside it) end with
a one-line message and exit status 2, before the evaluation runs.
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import argtypes, backend
from .models import add_temperature_option

PROG = "python -m tinycolor.evaluate"
SAMPLE_ROWS = 6  # images shown in samples.png
__all__ = [
    "EvaluationError",
    "Predictions",
    "aggregate",
    "evaluate_checkpoint",
    "image_scores",
    "main",
    "predict_images",
    "score_predictions",
]


class EvaluationError(ValueError):
    """A checkpoint or dataset that cannot be evaluated; a one-line message."""


# --------------------------------------------------------------------------- how a model sees


def input_mode(module, model) -> tuple[str, int | None]:
    """How whole images reach the model: ``("stride", m)`` (fully convolutional, sides a
    multiple of m), ``("fixed", s)`` (resized to s x s and back), or ``("colorize", None)``."""
    if not hasattr(module, "predict_ab"):
        return "colorize", None
    stride = getattr(module, "STRIDE", None) or getattr(model, "stride", None)
    if isinstance(stride, int | np.integer) and stride >= 1:
        return "stride", int(stride)
    size = getattr(model, "size", None)
    if isinstance(size, int | np.integer) and size >= 1:
        return "fixed", int(size)
    return "stride", 1


def describe_mode(mode: tuple[str, int | None]) -> str:
    kind, n = mode
    if kind == "stride":
        return f"whole image, centre-cropped to a multiple of {n}" if n > 1 else "whole image"
    if kind == "fixed":
        return f"resized to the network's {n}x{n} input, the ab resized back"
    return "through the model's colorize (uint8 output)"


def prepare_lab(lab: np.ndarray, mode: tuple[str, int | None]) -> np.ndarray:
    """The part of an (H, W, 3) Lab image that is scored: centre-cropped to a multiple of the
    stride for a fully convolutional model, whole otherwise."""
    kind, m = mode
    if kind != "stride" or m == 1:
        return lab
    h, w = lab.shape[:2]
    hh, ww = h - h % m, w - w % m
    if hh < m or ww < m:
        from .models import InputError  # noqa: PLC0415

        raise InputError(f"an image of {w}x{h} is smaller than the model's stride {m}")
    top, left = (h - hh) // 2, (w - ww) // 2
    return lab[top : top + hh, left : left + ww]


def predict_image_ab(module, model, lab: np.ndarray, config, mode, device=None) -> np.ndarray:
    """The model's ab (2, H, W) float32 for one (H, W, 3) Lab image (already prepared)."""
    from .color import lab_to_rgb, rgb_to_lab  # noqa: PLC0415
    from .data import transforms  # noqa: PLC0415
    from .models import lab_common  # noqa: PLC0415

    kind, n = mode
    L = np.ascontiguousarray(lab[..., 0], dtype=np.float32)
    h, w = L.shape
    if kind == "colorize":
        rgb = np.asarray(lab_to_rgb(lab), dtype=np.float32)
        pred = module.colorize(model, rgb, config, device=device)
        pred_f = np.asarray(pred, dtype=np.float32) / 255.0
        return np.asarray(rgb_to_lab(pred_f), dtype=np.float32)[..., 1:].transpose(2, 0, 1)
    L_in = L if kind == "stride" or (h, w) == (n, n) else transforms.resize(L, (n, n))
    x = lab_common.to_net_l(L_in)[None, None]
    ab = lab_common.predict_batches(module.predict_ab, model, x, config, device)[0]
    if kind == "fixed" and (h, w) != (n, n):
        ab = transforms.resize(ab.transpose(1, 2, 0), (h, w)).transpose(2, 0, 1)
    return np.ascontiguousarray(ab, dtype=np.float32)


# --------------------------------------------------------------------------- scoring


def image_scores(L, ab_pred, ab_true, rgb_true=None, classes=None) -> dict:
    """lab_common.score of one image (L (1, 1, H, W), ab (1, 2, H, W)), its rebalanced AuC over
    its own colour classes, plus what pools it with other images: ``pixels`` and
    ``classes``, the (sums, counts) of its AuC terms per colour class
    (``metrics.auc_ab_by_class``). ``rgb_true`` (the truth in sRGB) and ``classes`` (its
    colour classes, ``lab_common.truth_classes``) are computed here unless given, as when the
    model and the baselines are scored on the same image."""
    from .models.lab_common import OWN_CLASSES, Scores  # noqa: PLC0415

    scores = Scores(OWN_CLASSES)  # lab_common.score of one image: one chunk
    scores.add(L, ab_pred, ab_true, rgb_true, classes)
    out = scores.result()
    out["pixels"] = int(L.shape[2] * L.shape[3])
    out["classes"] = scores.classes
    return out


#: How ``aggregate`` pools each metric over images: None averages the images' values;
#: "pixels" weighs each image's value by its number of pixels; "classes" adds up the AuC terms
#: of each colour class over the images and takes the mean over the classes of their AuC.
_POOLED = {
    "psnr": None,
    "ssim": None,
    "acc10": "pixels",
    "auc": "pixels",
    "auc_rebalanced": "classes",
    "colorfulness": None,
}


class _Pool:
    """``aggregate``'s means, gathered one image's scores at a time: of each metric only its
    (value, weight) pairs are kept (16 bytes an image), and summed, in the images' order, when
    the result is asked for; of the rebalanced AuC, the sums of its terms and the pixel
    counts of each colour class (``classes``)."""

    def __init__(self):
        self.pairs = {key: (array("d"), array("d")) for key, w in _POOLED.items() if w != "classes"}
        self.classes = None

    def add(self, s: dict) -> None:
        from .models.lab_common import add_class_sums  # noqa: PLC0415

        for key, (values, weights) in self.pairs.items():
            weight = _POOLED[key]
            if s.get(key) is not None and (weight is None or s[weight] > 0):
                values.append(s[key])
                weights.append(1.0 if weight is None else s[weight])
        if s.get("classes") is not None:
            self.classes = add_class_sums(self.classes, s["classes"])

    def result(self) -> dict:
        from .metrics import class_mean  # noqa: PLC0415

        out = {}
        for key, (values, weights) in self.pairs.items():
            total = sum(weights)
            pooled = sum(v * w for v, w in zip(values, weights))
            out[key] = float(pooled / total) if values and total > 0 else None
        out["auc_rebalanced"] = None if self.classes is None else class_mean(*self.classes)
        return {key: out[key] for key in _POOLED}


def aggregate(per_image: list[dict]) -> dict:
    """Pool ``image_scores`` of several images: PSNR, SSIM, colourfulness averaged over
    images; acc10 and AuC weighted by pixel count; the rebalanced AuC over the colour classes
    of all their pixels, as if they were one image."""
    pool = _Pool()
    for s in per_image:
        pool.add(s)
    return pool.result()


def _class_table(pools: dict) -> dict:
    """The rebalanced AuC's per-class sums, for a result's ``auc_classes``: the colour classes
    (bin indices) with pixels, their pixel counts, and for each score the sum of its AuC terms
    in each (so that several evaluations' rebalanced AuC pools exactly, ``class_mean`` of the
    summed sums and counts)."""
    first = next(iter(pools.values())).classes
    if first is None:
        return None
    counts = np.asarray(first[1])
    present = np.flatnonzero(counts > 0)
    table = {"bins": present.tolist(), "pixels": counts[present].astype(np.int64).tolist()}
    for who, pool in pools.items():
        table[who] = np.asarray(pool.classes[0])[present].tolist()
    return table


class _Scores:
    """What ``score_predictions`` returns, gathered one image at a time (``add``), so that
    scoring a folder keeps a few numbers of each image rather than the image."""

    def __init__(self, mean_ab=None, baselines: bool = True):
        self.baselines = baselines
        self.mean_ab = None if mean_ab is None else np.asarray(mean_ab, np.float32)
        self.pools = {"model": _Pool(), "gray": _Pool(), "mean_ab": _Pool()}
        self.truth_cf = array("d")
        self.per_image: list[dict] = []

    def add(self, name, lab, pred) -> None:
        """Score the prediction ``pred`` (2, H, W) of the Lab image ``lab`` (H, W, 3)."""
        from .metrics import colorfulness  # noqa: PLC0415
        from .models.lab_common import _lab_to_rgb_batch, truth_classes  # noqa: PLC0415

        L = lab[None, None, :, :, 0].astype(np.float32)
        ab_true = np.ascontiguousarray(lab.transpose(2, 0, 1)[None, 1:], dtype=np.float32)
        ab_pred = np.asarray(pred, dtype=np.float32)[None]
        # the truth in sRGB and its colour classes, once for the model and the baselines
        rgb_true = _lab_to_rgb_batch(L, ab_true)
        classes = truth_classes(ab_true)
        s = image_scores(L, ab_pred, ab_true, rgb_true, classes)
        self.pools["model"].add(s)
        self.per_image.append(
            {
                "name": name,
                "shape": [int(lab.shape[0]), int(lab.shape[1])],
                **{k: s[k] for k in ("psnr", "ssim", "acc10", "auc", "colorfulness")},
            }
        )
        if not self.baselines:
            return
        gray = image_scores(L, np.zeros_like(ab_true), ab_true, rgb_true, classes)
        self.pools["gray"].add(gray)
        if self.mean_ab is not None:
            const = np.broadcast_to(self.mean_ab.reshape(1, 2, 1, 1), ab_true.shape)
            scores = image_scores(L, np.ascontiguousarray(const), ab_true, rgb_true, classes)
            self.pools["mean_ab"].add(scores)
        self.truth_cf.append(float(np.mean(colorfulness(rgb_true))))

    def result(self) -> dict:
        scores = {"model": self.pools["model"].result()}
        pools = {"model": self.pools["model"]}
        if self.baselines:
            scores["gray"] = self.pools["gray"].result()
            pools["gray"] = self.pools["gray"]
            scores["mean_ab"] = None
            if self.mean_ab is not None:
                scores["mean_ab"] = self.pools["mean_ab"].result()
                pools["mean_ab"] = self.pools["mean_ab"]
            scores["truth"] = {"colorfulness": float(np.mean(self.truth_cf))}
        return {
            **scores,
            "images": len(self.per_image),
            "auc_classes": _class_table(pools),
            "per_image": self.per_image,
        }


# --------------------------------------------------------------------------- the evaluation


def _dataset_name(data) -> str:
    if data in (None, "default", "skimage"):
        return "skimage"
    name = Path(str(data)).expanduser().resolve().name
    return name or "data"


def open_dataset(data, size: int, in_memory: bool = True):
    """(names, dataset) of ``--data``, short side ``size``. ``in_memory`` False: the dataset
    keeps no image's Lab once given out (a folder's is read from its on-disk cache each time
    it is asked for), for one pass over more images than memory holds."""
    from .data import load_dataset  # noqa: PLC0415
    from .imageio import ClippedPixelsWarning  # noqa: PLC0415

    # the files skipped are reported in the summary, not as warnings; clipped files are
    # scored as read, which is said (once each)
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # train=False: of a CIFAR-10 folder, the test batch (images no model trained on)
            ds = load_dataset(
                "skimage" if data in (None, "default") else data,
                size=size,
                train=False,
                in_memory=in_memory,
            )
    except (FileNotFoundError, NotADirectoryError, ValueError, RuntimeError) as exc:
        # a folder of nothing but skipped files: why they were (too elongated, say) is said
        reasons = [
            str(w.message).split(UNREADABLE_LIST, 1)[1]
            for w in caught
            if UNREADABLE_LIST in str(w.message)
        ]
        why = f": {reasons[0]}" if reasons and "no usable colour image" in str(exc) else ""
        raise EvaluationError(f"--data {data}: {_first_line(exc)}{why}") from None
    finally:
        for w in caught:
            if issubclass(w.category, ClippedPixelsWarning):
                warnings.warn(w.message, stacklevel=2)
    if len(ds) == 0:
        raise EvaluationError(f"--data {data}: no colour images")
    names = list(getattr(ds, "names", None) or [f"image_{k}" for k in range(len(ds))])
    return names, ds


#: What ImageFolder's warning about the files it skipped says before it lists them, each with
#: its reason.
UNREADABLE_LIST = " unreadable file(s): "


def load_images(data, size: int):
    """(names, Lab images, dataset) of ``--data``, short side ``size``: every image in memory
    at once (``open_dataset`` gives them one at a time)."""
    names, ds = open_dataset(data, size)
    return names, [np.asarray(ds.lab(i), dtype=np.float32) for i in range(len(ds))], ds


class Predictions(NamedTuple):
    """What a checkpoint predicts for each image of a dataset (``predict_images``)."""

    model_name: str
    config: dict
    input: str  # how whole images reach the network (``describe_mode``)
    temperature: float | list | None  # the annealed-mean T of a model of ab bins, else None;
    # an ensemble's members' (None for one that regresses ab) when they differ
    names: list
    labs: list  # the scored (H, W, 3) Lab images
    preds: list  # the model's (2, H, W) ab for each
    skipped: dict  # files of the data folder not scored: {"gray": [...], "unreadable": [...]}


#: What ``prior_source`` says: the rebalanced AuC's prior is the evaluated pixels' own.
PRIOR_SOURCE = (
    "the evaluated pixels' colour classes (each pixel weighed by 1 / its class's share: "
    "every colour class present counts alike)"
)


class _Stream(NamedTuple):
    """``Predictions`` whose images are read and predicted as ``images`` is iterated."""

    model_name: str
    config: dict
    input: str
    temperature: float | list | None
    names: list
    images: Iterator  # (name, scored Lab (H, W, 3), predicted ab (2, H, W)) of each image
    skipped: dict
    unreadable_why: dict | None = None  # {file: why it was not scored} of skipped["unreadable"]
    trained_on: dict | None = None  # ``_trained_on``: the scored images the run trained on


def predict_images(
    checkpoint,
    data=None,
    size: int = 256,
    device: str | None = None,
    quiet: bool = False,
    temperature: float | None = None,
) -> Predictions:
    """Load a colorizer's checkpoint (or a list of several of one model: an ensemble, its ab
    their mean) and predict the ab of every image of ``data`` (resized to short side
    ``size``); ``temperature``: decode a model of ab bins with this annealed-mean T instead of
    its own (``models.set_temperature``); ``device`` None: the default device. Every image
    and prediction is held at once (``evaluate_checkpoint`` holds one)."""
    s = _stream_predictions(checkpoint, data, size, device, quiet, temperature)
    labs, preds = [], []
    for _, lab, pred in s.images:
        labs.append(lab)
        preds.append(pred)
    fields = s._asdict()
    for key in ("images", "unreadable_why", "trained_on"):
        del fields[key]
    return Predictions(**fields, labs=labs, preds=preds)


def _refuse_a_non_colorizer(checkpoint, module, model, config, meta, device) -> None:
    """A model with only the protocol's colorize is tried on one small gray image, before
    --data is read, so that one that colours nothing (the classifier) is refused at once."""
    from .models import InputError  # noqa: PLC0415

    if not (hasattr(module, "predict_ab") or hasattr(module, "image_metrics")):
        side = int(module.min_size(config)) if hasattr(module, "min_size") else 16
        try:
            module.colorize(model, np.full((side, side, 3), 0.5, np.float32), config, device=device)
        except InputError as exc:
            raise EvaluationError(f"{checkpoint} ({meta['model']}): {exc}") from None


def _ensemble_statistics(configs) -> dict:
    """The training statistic an ensemble's mean-ab baseline uses: the mean of its members'
    mean ab (each member may have trained on other images), or None where a member stores
    none."""
    values = [c.get("mean_ab") for c in configs]
    if any(v is None for v in values):
        return {"mean_ab": None}
    return {"mean_ab": np.mean([np.asarray(v, np.float64) for v in values], axis=0).tolist()}


def _stream_predictions(
    checkpoint, data, size, device, quiet, temperature, in_memory: bool = True
) -> _Stream:
    """``predict_images`` one image at a time: the checkpoint and the dataset are opened
    before it returns; each image is read from the dataset and predicted as ``images`` is
    iterated, under a progress bar.

    ``checkpoint`` may be a list of several checkpoints of one model (trained with different
    ``--seed``, say): an ensemble, whose prediction is the mean of its members' ab. Its
    mean-ab baseline is the mean of its members' (``_ensemble_statistics``)."""
    from .models import InputError, takes_temperature  # noqa: PLC0415
    from .runs import checkpoint_paths, load_models, progress_bar  # noqa: PLC0415

    device = device or backend.get_device()
    backend.set_device(device)
    checkpoints = checkpoint_paths(checkpoint)
    members = load_models(checkpoints, device=device, quiet=quiet, temperature=temperature)
    for c, member in zip(checkpoints, members):
        _refuse_a_non_colorizer(c, *member, device)
    module, model, config, meta = members[0]
    name = meta["model"]
    mode = input_mode(module, model)
    for c, (mod, mdl, _, _) in zip(checkpoints[1:], members[1:]):
        other = input_mode(mod, mdl)
        if mode[0] == other[0] == "stride":  # fully convolutional, each: a multiple of both
            mode = ("stride", math.lcm(mode[1], other[1]))
        elif other != mode:
            raise EvaluationError(
                "an ensemble's networks must see the images alike, and these do not: "
                f"{checkpoints[0]} ({describe_mode(mode)}) and {c} ({describe_mode(other)})"
            )
    if len(members) > 1:
        config = {**config, **_ensemble_statistics([cfg for _, _, cfg, _ in members])}
    from .data import progress_bars  # noqa: PLC0415

    with progress_bars(not quiet):  # a first read of a big --data folder: a bar on a terminal
        names, ds = open_dataset(data, size, in_memory)
    root = getattr(ds, "root", None)

    def relative(f) -> str:
        return str(Path(f).relative_to(root)) if root else str(f)

    unreadable = list(getattr(ds, "unreadable", []))  # (file, why) of each
    skipped = {
        "gray": [relative(f) for f in getattr(ds, "gray_paths", [])],
        "unreadable": [relative(f) for f, _ in unreadable],
    }
    unreadable_why = {relative(f): str(why) for f, why in unreadable}
    trained_on = _trained_on(checkpoints, members, data, names)
    min_side = max(
        int(mod.min_size(cfg)) if hasattr(mod, "min_size") else 1 for mod, _, cfg, _ in members
    )

    def scored_labs():
        """(name, Lab as it is scored) of each image, read when it is needed; one too small
        for the model is named."""
        for i, nm in enumerate(names):
            try:
                lab = prepare_lab(np.asarray(ds.lab(i), dtype=np.float32), mode)
            except InputError as exc:
                raise EvaluationError(f"{nm}: {exc}; use a larger --size") from None
            if min(lab.shape[:2]) < min_side:
                raise EvaluationError(
                    f"{nm}: {lab.shape[1]}x{lab.shape[0]} is smaller than the model's minimum "
                    f"size {min_side}; use a larger --size"
                )
            yield nm, lab

    def predict(nm, lab):
        total = None
        for c, (mod, mdl, cfg, _) in zip(checkpoints, members):
            try:
                ab = predict_image_ab(mod, mdl, lab, cfg, mode, device)
            except InputError as exc:  # a colorize that refuses the image, or every image
                raise EvaluationError(f"{c} ({name}) on {nm}: {exc}") from None
            total = ab if total is None else total + ab
        return total if len(members) == 1 else total / np.float32(len(members))

    def images():
        labs = scored_labs()
        # the first image before the progress bar, so that a model that is not a colorizer
        # (its colorize refuses every image: the classifier) ends with its one-line message
        # alone; the bar then counts what is done with each image (evaluate scores it)
        nm, lab = next(labs)
        yield nm, lab, predict(nm, lab)
        bar = dict(unit="image", disable=quiet, file=sys.stderr, dynamic_ncols=True)
        rest = progress_bar(quiet)(
            labs, desc=f"evaluating {name}", initial=1, total=len(names), **bar
        )
        for nm, lab in rest:
            yield nm, lab, predict(nm, lab)

    # an ensemble's members trained with different --temperature decode each at its own: said
    ts = [float(c["temperature"]) if takes_temperature(m, c) else None for m, _, c, _ in members]
    t = ts[0] if len(set(ts)) == 1 else ts
    return _Stream(
        name, config, describe_mode(mode), t, names, images(), skipped, unreadable_why, trained_on
    )


def _run_held_out(checkpoint, config) -> list | None:
    """The names of the images the run that wrote ``checkpoint`` held out (the ``held_out`` of
    the metrics.json beside it), or None when that is not known: no metrics.json there, or
    one of another run (whose data or split settings are not the checkpoint's)."""
    import json  # noqa: PLC0415

    try:
        metrics = json.loads((Path(checkpoint).parent / "metrics.json").read_text())
        held, theirs = metrics["held_out"], metrics["config"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(held, list) or not isinstance(theirs, dict):
        return None
    if any(theirs.get(k) != config.get(k) for k in _SPLIT_KEYS):
        return None
    return [str(n) for n in held]


#: The settings that decide which images a run holds out.
_SPLIT_KEYS = ("data", "seed", "split_seed", "test_fraction", "n_synthetic")
_DEFAULT_DATA = (None, "default", "skimage")


def _trained_on_these(data, config, meta, held, names) -> bool:
    """Whether the run of a checkpoint (its ``config`` and ``meta``, ``held`` its held-out
    images' names or None) trained on the images of evaluate's ``data`` (their ``names``):
    both the scikit-image photos, or both the same folder (not CIFAR-10's, whose test batch
    evaluate scores and no run trains on). A run's folder is named as it was given to train,
    resolved here; held-out images that are not among ``names`` mean another folder."""
    from .data import is_cifar10  # noqa: PLC0415

    theirs = config.get("data")
    if data in _DEFAULT_DATA:
        if theirs == "skimage":
            return True
        if theirs not in (None, "default"):
            return False
        # None: the photos for the models that train on them, the synthetic scenes for those
        # that need class labels; the run's own description of its data says which
        described = str((meta.get("metrics") or {}).get("data", ""))
        known = held is not None and len(held) > 0 and set(held) <= set(names)
        return described.startswith("the scikit-image photos") or known
    if theirs in (*_DEFAULT_DATA, "synthetic", "scenes") or str(data) in ("synthetic", "scenes"):
        return False
    try:
        if is_cifar10(data) or not Path(data).expanduser().is_dir():
            return False
        same = Path(str(theirs)).expanduser().resolve() == Path(data).expanduser().resolve()
    except (OSError, RuntimeError, ValueError):
        return False
    return same and (held is None or set(held) <= set(names))


def _trained_on(checkpoints, members, data, names) -> dict | None:
    """When the checkpoint's run (an ensemble's members' runs) trained on the images scored
    (``names`` of ``data``): ``{"trained_on": [the scored images it trained on, by name],
    "note": what to say}``, ``trained_on`` None where the run's held-out images are not known
    (no metrics.json of the run beside the checkpoint); None when it trained on other data."""
    trained, same, unknown = set(), False, False
    for c, (_, _, cfg, meta) in zip(checkpoints, members):
        held = _run_held_out(c, cfg)
        if not _trained_on_these(data, cfg, meta, held, names):
            continue
        same = True
        if held is None:
            unknown = True
        else:
            trained.update(n for n in names if n not in set(held))
    if not same:
        return None
    who = members[0][3]["model"] if len(members) == 1 else "the ensemble's members"
    where = "the scikit-image photos" if data in _DEFAULT_DATA else f"--data {data}"
    if unknown:
        note = (
            f"{who} trained on {where} too, on all but the images its run held out, which no "
            "metrics.json of the run beside the checkpoint names: some of these scores are "
            "likely of images it trained on, not a test of it"
        )
        return {"trained_on": None, "note": note}
    listed = [n for n in names if n in trained]
    if not listed:
        return {"trained_on": [], "note": None}
    held_out = [n for n in names if n not in trained]
    shown = ", ".join(held_out[:5]) + (", ..." if len(held_out) > 5 else "") or "none"
    note = (
        f"{len(listed)} of these {len(names)} images are ones {who} trained on (held out: "
        f"{shown}); the scores on them are not a test on unseen images"
    )
    return {"trained_on": listed, "note": note}


def score_predictions(
    names, labs, preds, mean_ab=None, quiet: bool = True, baselines: bool = True
) -> dict:
    """The scores of predicted ab ``preds`` ((2, H, W) each) of the Lab images ``labs``, and
    those of the gray and (when ``mean_ab`` is given) mean-ab baselines on the same pixels:
    ``{"model", "gray", "mean_ab", "truth": {"colorfulness"}, "images", "auc_classes",
    "per_image"}``; without ``baselines``, only ``{"model", "images", "auc_classes",
    "per_image"}`` (to score other predictions of images whose baselines are known). With
    ``quiet`` False, a progress bar."""
    from .runs import progress_bar  # noqa: PLC0415

    tqdm = progress_bar(quiet)
    scores = _Scores(mean_ab, baselines)
    bar = dict(desc="scoring", total=len(labs), unit="image", disable=quiet, file=sys.stderr)
    for nm, lab, pred in tqdm(zip(names, labs, preds), dynamic_ncols=True, **bar):
        scores.add(nm, lab, pred)
    return scores.result()


def evaluate_checkpoint(
    checkpoint,
    data=None,
    size: int = 256,
    out=None,
    device: str | None = None,
    quiet: bool = False,
    samples: int = SAMPLE_ROWS,
    temperature: float | None = None,
    json_path=None,
) -> dict:
    """What the command does: the metrics dict (see the module docstring) of ``checkpoint``,
    or of the ensemble of a list of them (``"ensemble"``: their number); writes
    ``samples.png`` into ``out`` (default ``eval-<dataset>/`` beside the checkpoint;
    ``out=False``: no figure) and, with ``json_path``, the dict as JSON there (also when
    samples.png cannot be written: the numbers are kept, then the error raised).
    ``temperature``: decode a model of ab bins with this annealed-mean T instead of its own
    (``models.set_temperature``). The images are read, predicted and scored one at a time, so
    memory does not grow with their number: of each, a few numbers are kept, and the first
    ``samples`` whole for samples.png."""
    p = _stream_predictions(checkpoint, data, size, device, quiet, temperature, in_memory=False)
    mean_ab = p.config.get("mean_ab")
    scoring = _Scores(mean_ab)
    shown = []  # samples.png's rows: (name, Lab, ab)
    for nm, lab, pred in p.images:
        scoring.add(nm, lab, pred)
        if out is not False and len(shown) < max(1, int(samples)):
            shown.append((nm, lab, pred))
    scores = scoring.result()
    per_image = scores.pop("per_image")
    from .runs import checkpoint_paths  # noqa: PLC0415

    checkpoints = [str(c) for c in checkpoint_paths(checkpoint)]
    result = {
        **scores,
        "checkpoint": checkpoints[0] if len(checkpoints) == 1 else checkpoints,
        "model_name": p.model_name,
        "data": "the scikit-image photos" if _dataset_name(data) == "skimage" else str(data),
        "size": int(size),
        "input": p.input,
        "temperature": p.temperature,
        "prior_source": PRIOR_SOURCE,
        "skipped": p.skipped,
        "unreadable_why": p.unreadable_why or {},
        "mean_ab_value": mean_ab,
        "per_image": per_image,
    }
    if len(checkpoints) > 1:
        result["ensemble"] = len(checkpoints)
    if p.trained_on is not None:
        result["trained_on"] = p.trained_on["trained_on"]
        if p.trained_on["note"]:
            result["note"] = p.trained_on["note"]
    failure = None
    if out is not False:
        out_dir = Path(out) if out is not None else default_out(checkpoint, data)
        where = f"--out {out}" if out is not None else f"{out_dir} (where samples.png goes)"
        rows = [list(column) for column in zip(*shown)]
        try:
            result["samples"] = str(
                write_samples(out_dir, p.model_name, *rows, samples, where=where)
            )
        except (EvaluationError, OSError) as exc:
            if json_path is None:
                raise
            failure = exc
    if json_path is not None:
        from .runs import write_json  # noqa: PLC0415

        write_json(json_path, result)
    if failure is not None:
        raise EvaluationError(
            f"{_first_line(failure)} (the numbers were written: --json {json_path})"
        ) from None
    return result


def default_out(checkpoint, data) -> Path:
    """Where ``samples.png`` goes without ``--out``: ``eval-<dataset>/`` beside the checkpoint;
    for an ensemble (a list of checkpoints), ``eval-<dataset>-ensemble<N>/`` beside the first;
    for an ensemble's folder (``train --ensemble``), ``eval-<dataset>/`` inside it."""
    from .runs import checkpoint_paths, ensemble_members  # noqa: PLC0415

    given = checkpoint if isinstance(checkpoint, list | tuple) else [checkpoint]
    if len(given) == 1 and ensemble_members(given[0]):  # an ensemble's folder: inside it
        return Path(given[0]).resolve() / f"eval-{_dataset_name(data)}"
    checkpoints = checkpoint_paths(checkpoint)
    tail = "" if len(checkpoints) == 1 else f"-ensemble{len(checkpoints)}"
    return Path(checkpoints[0]).resolve().parent / f"eval-{_dataset_name(data)}{tail}"


def write_samples(
    out_dir, model_name, names, labs, preds, k=SAMPLE_ROWS, where: str | None = None
) -> Path:
    """``samples.png``: for the first ``k`` images, gray | prediction | truth. ``where`` names
    ``out_dir`` in an error (default ``--out OUT_DIR``)."""
    from . import viz  # noqa: PLC0415
    from .models.lab_common import _lab_to_rgb_batch  # noqa: PLC0415

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise EvaluationError(f"{where or f'--out {out_dir}'}: exists and is not a folder")
    panels = []
    for nm, lab, ab in list(zip(names, labs, preds))[: max(1, int(k))]:
        L = lab[None, None, :, :, 0]
        pred = _lab_to_rgb_batch(L, ab[None])[0]
        truth = _lab_to_rgb_batch(L, lab.transpose(2, 0, 1)[None, 1:])[0]
        panels += [
            (f"{nm}: gray input", lab[..., 0] / 100.0),
            ("prediction", pred),
            ("truth", truth),
        ]
    return viz.image_grid(
        panels, out_dir / "samples.png", ncols=3, title=f"{model_name}: gray | prediction | truth"
    )


# --------------------------------------------------------------------------- the command


def format_result(result: dict) -> str:
    """The table: model and baselines x metrics, and the truth's colourfulness."""
    from .models.lab_common import METRIC_KEYS  # noqa: PLC0415
    from .runs import _fmt, format_table  # noqa: PLC0415

    header = ["", *METRIC_KEYS]
    rows = []
    model = result["model_name"]
    if result.get("ensemble"):
        model = f"{model} x {result['ensemble']}"
    for key, label in (("model", model), ("gray", "gray"), ("mean_ab", "mean ab")):
        m = result.get(key)
        if m is None:
            rows.append([label, *(["n/a"] * len(METRIC_KEYS))])
        else:
            rows.append([label, *(_fmt(m.get(k)) for k in METRIC_KEYS)])
    rows.append(["truth", *(["-"] * (len(METRIC_KEYS) - 1)), _fmt(result["truth"]["colorfulness"])])
    t = result.get("temperature")
    if isinstance(t, list):  # an ensemble's members, decoding at different T
        each = ", ".join("-" if x is None else f"{x:g}" for x in t)
        decoding = f", annealed mean T = {each} (a member each)"
    else:
        decoding = "" if t is None else f", annealed mean T = {t:g}"
    who = result["model_name"]
    if result.get("ensemble"):
        who = f"an ensemble of {result['ensemble']} {who} checkpoints (their ab averaged)"
    lines = [
        f"{who} on {result['images']} images of {result['data']}, "
        f"short side {result['size']} ({result['input']}{decoding})",
        format_table(header, rows),
        f"rebalanced AuC prior: {result['prior_source']}",
    ]
    skipped = [
        f"{len(files)} {kind} ({', '.join(files[:3])}{', ...' if len(files) > 3 else ''})"
        for kind, files in (result.get("skipped") or {}).items()
        if files
    ]
    if skipped:
        lines.append(f"not scored: {'; '.join(skipped)}")
    why = result.get("unreadable_why") or {}
    for file, reason in list(why.items())[:3]:  # why (too elongated, not an image...)
        lines.append(f"  {file}: {reason}")
    if len(why) > 3:
        lines.append(f"  and {len(why) - 3} more (each with its reason in --json's unreadable_why)")
    if result.get("note"):
        lines.append(f"note: {result['note']}")
    if result.get("mean_ab") is None:
        lines.append("mean ab baseline: n/a (the checkpoint stores no mean_ab)")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Score a trained colorizer on whole images, beside the gray and mean-ab "
        "baselines.",
        formatter_class=argtypes.HelpFormatter,
    )
    p.add_argument(
        "--checkpoint",
        required=True,
        nargs="+",
        metavar="CKPT",
        help="a colorizer's model.npz, or the --out folder of train --ensemble; several of one "
        "model (trained with different --seed, say) are scored as one ensemble, their predicted "
        "ab averaged",
    )
    p.add_argument(
        "--data",
        default="skimage",
        help="a folder of colour images, a CIFAR-10 binary folder (its test batch), or 'skimage' "
        "for the photos scikit-image ships",
    )
    p.add_argument(
        "--size",
        type=argtypes.positive_int,
        default=None,
        help="short side the images are resized to (default: 256; for a CIFAR-10 folder its "
        "own 32)",
    )
    p.add_argument("--json", default=None, metavar="OUT", help="write the numbers to this file")
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="folder for samples.png (default: eval-<dataset>/ next to the checkpoint)",
    )
    p.add_argument(
        "--samples", type=argtypes.positive_int, default=SAMPLE_ROWS, help="rows in samples.png"
    )
    add_temperature_option(p)
    p.add_argument(
        "--device",
        default=None,
        choices=("cpu", "cuda"),
        help="where to run (default: $TINYCOLOR_DEVICE, else cpu)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar or table")
    return p


def _is_an_evaluation(path: Path) -> bool:
    """Whether the file ``path`` holds what ``--json`` writes (so that it may be written over)."""
    import json  # noqa: PLC0415

    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(found, dict) and {"model", "model_name", "images"} <= found.keys()


def _where_json_cannot_go(target: str, checkpoints: list) -> str | None:
    """What stops ``--json target`` from being written, or from being written over: a folder,
    a checkpoint, an existing file that is not a .json evaluate wrote (an image of --data, a
    run's metrics.json, ...: the user's, not to be lost), a folder that cannot be written in."""
    from .runs import unwritable  # noqa: PLC0415

    path = Path(target)
    if path.is_dir():
        return f"--json {target}: is a folder; expected a file name"
    for c in checkpoints:
        if path.resolve() == Path(c).resolve():
            return f"--json {target}: that is the checkpoint; give another name, ending in .json"
    if path.exists() and path.stat().st_size > 0:
        if path.suffix.lower() != ".json":
            return (
                f"--json {target}: exists and is not a .json file, which the numbers would "
                "replace; give another name, ending in .json"
            )
        if not _is_an_evaluation(path):
            return (
                f"--json {target}: exists and is not a result of {PROG} (a run's metrics.json?), "
                "which the numbers would replace; give another name"
            )
    why = unwritable(path.parent)
    return f"--json {target}: cannot be written ({why})" if why else None


def _inside_the_data(folder, data) -> bool:
    """Whether ``folder`` is the image folder ``data`` or lies inside it, where the images
    written in it (samples.png) would be scored as the folder's own next time."""
    from .data import is_cifar10  # noqa: PLC0415

    if data in (*_DEFAULT_DATA, "synthetic", "scenes"):
        return False
    try:
        root = Path(data).expanduser()
        if not root.is_dir() or is_cifar10(data):  # CIFAR-10's batches: no images are read
            return False
        root, folder = root.resolve(), Path(folder).expanduser().resolve()
    except (OSError, RuntimeError, ValueError):
        return False
    return folder == root or root in folder.parents


def _where_results_cannot_go(args) -> str | None:
    """What stops --json, --out or the default folder of samples.png from being written,
    or makes them replace what the user has (the checkpoint, an image), or puts samples.png
    among the images of --data, checked before the slow part rather than found after it;
    None when nothing does."""
    from .runs import LoadError, checkpoint_paths, unwritable  # noqa: PLC0415

    try:  # an ensemble's folder: its members' checkpoints too
        checkpoints = [*args.checkpoint, *checkpoint_paths(args.checkpoint)]
    except LoadError:  # a damaged ensemble folder: load_model's to name
        checkpoints = list(args.checkpoint)
    if args.json is not None:
        wrong = _where_json_cannot_go(args.json, checkpoints)
        if wrong:
            return wrong
    if args.out is not None:
        if Path(args.out).exists() and not Path(args.out).is_dir():
            return f"--out {args.out}: is a file; expected a folder"
        why = unwritable(args.out)
        if why:
            return f"--out {args.out}: cannot write in it ({why})"
        if _inside_the_data(args.out, args.data):
            return (
                f"--out {args.out}: is inside --data {args.data}, where samples.png would be "
                "scored as one of its images the next time; give a folder outside it"
            )
    elif all(Path(c).exists() for c in args.checkpoint):  # a missing one is load_model's
        try:
            samples = default_out(args.checkpoint, args.data)
        except LoadError:
            return None
        why = unwritable(samples)
        if why:
            return (
                f"samples.png cannot be written beside the checkpoint, in {samples} ({why}); "
                "give another folder with --out DIR"
            )
        if _inside_the_data(samples, args.data):
            return (
                f"samples.png would be written inside --data {args.data} (in {samples}, beside "
                "the checkpoint), where it would be scored as one of its images the next "
                "time; give a folder outside it with --out DIR"
            )
    return None


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (0 ok, 2 bad input)."""
    from . import models  # noqa: PLC0415
    from .backend import DeviceError  # noqa: PLC0415
    from .runs import LoadError, command_warnings, sigterm_as_ctrl_c  # noqa: PLC0415

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    wrong = _where_results_cannot_go(args)  # before the slow part
    if wrong:
        print(f"{PROG}: error: {wrong}", file=sys.stderr)
        return 2
    if args.size is None:  # CIFAR-10's 10,000 test images at 256 would take 8 GB
        from .data import is_cifar10  # noqa: PLC0415
        from .models.lab_common import CIFAR_SIZE  # noqa: PLC0415

        args.size = CIFAR_SIZE if is_cifar10(args.data) else 256
    try:
        args.device = args.device or backend.device_from_environment()
        with command_warnings(PROG), sigterm_as_ctrl_c():
            result = evaluate_checkpoint(
                args.checkpoint if len(args.checkpoint) > 1 else args.checkpoint[0],
                args.data,
                args.size,
                args.out,
                args.device,
                args.quiet,
                args.samples,
                args.temperature,
                json_path=args.json,
            )
    except (
        EvaluationError,
        LoadError,
        models.InputError,
        models.UnknownModelError,
        DeviceError,
        OSError,
    ) as exc:
        print(f"{PROG}: error: {_first_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    if not args.quiet:
        print(format_result(result))
        print(f"samples: {result['samples']}" + (f"; json: {args.json}" if args.json else ""))
    return 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
