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
"skipped": {"gray": [...], "unreadable": [...]}, "auc_classes": {"bins", "pixels", "model",
"gray", "mean_ab"}, ...}`` (``auc_classes``: the colour classes scored, their pixel counts and
each score's sum of AuC terms in each, from which ``metrics.class_mean`` gives the rebalanced
AuC); the files of the folder that were not scored are named there and under the table. A
checkpoint that is not a colorizer's (the ``classifier``), a missing checkpoint or folder, or
a folder without colour images ends with a one-line message and exit status 2.
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

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # skipped files are reported in the summary
            from .imageio import ClippedPixelsWarning  # noqa: PLC0415

            # clipped files are scored as read: said as they are read, once
            warnings.simplefilter("default", ClippedPixelsWarning)
            # train=False: of a CIFAR-10 folder, the test batch (images no model trained on)
            ds = load_dataset(
                "skimage" if data in (None, "default") else data,
                size=size,
                train=False,
                in_memory=in_memory,
            )
    except (FileNotFoundError, NotADirectoryError, ValueError, RuntimeError) as exc:
        raise EvaluationError(f"--data {data}: {_first_line(exc)}") from None
    if len(ds) == 0:
        raise EvaluationError(f"--data {data}: no colour images")
    names = list(getattr(ds, "names", None) or [f"image_{k}" for k in range(len(ds))])
    return names, ds


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
    del fields["images"]
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
                f"an ensemble's networks must see the images alike: {checkpoints[0]} takes "
                f"{describe_mode(mode)}, {c} takes {describe_mode(other)}"
            )
    if len(members) > 1:
        config = {**config, **_ensemble_statistics([cfg for _, _, cfg, _ in members])}
    from .data import progress_bars  # noqa: PLC0415

    with progress_bars(not quiet):  # a first read of a big --data folder: a bar on a terminal
        names, ds = open_dataset(data, size, in_memory)
    root = getattr(ds, "root", None)
    skipped = {
        kind: [str(Path(f).relative_to(root)) if root else str(f) for f in files]
        for kind, files in (
            ("gray", getattr(ds, "gray_paths", [])),
            ("unreadable", [f for f, _ in getattr(ds, "unreadable", [])]),
        )
    }
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
    return _Stream(name, config, describe_mode(mode), t, names, images(), skipped)


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
) -> dict:
    """What the command does: the metrics dict (see the module docstring) of ``checkpoint``,
    or of the ensemble of a list of them (``"ensemble"``: their number); writes
    ``samples.png`` into ``out`` (default ``eval-<dataset>/`` beside the checkpoint;
    ``out=False``: no figure). ``temperature``: decode a model of ab bins with this
    annealed-mean T instead of its own (``models.set_temperature``). The images are read,
    predicted and scored one at a time, so memory does not grow with their number: of each,
    a few numbers are kept, and the first ``samples`` whole for samples.png."""
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
        "mean_ab_value": mean_ab,
        "per_image": per_image,
    }
    if len(checkpoints) > 1:
        result["ensemble"] = len(checkpoints)
    if out is not False:
        out_dir = Path(out) if out is not None else default_out(checkpoint, data)
        rows = [list(column) for column in zip(*shown)]
        result["samples"] = str(write_samples(out_dir, p.model_name, *rows, samples))
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


def write_samples(out_dir, model_name, names, labs, preds, k=SAMPLE_ROWS) -> Path:
    """``samples.png``: for the first ``k`` images, gray | prediction | truth."""
    from . import viz  # noqa: PLC0415
    from .models.lab_common import _lab_to_rgb_batch  # noqa: PLC0415

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise EvaluationError(f"--out {out_dir}: exists and is not a folder")
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


def _where_results_cannot_go(args) -> str | None:
    """What stops --json, --out or the default folder of samples.png from being written,
    checked before the slow part rather than found after it; None when nothing does."""
    from .runs import unwritable  # noqa: PLC0415

    if args.json is not None:
        if Path(args.json).is_dir():
            return f"--json {args.json}: is a folder; expected a file name"
        why = unwritable(Path(args.json).parent)
        if why:
            return f"--json {args.json}: cannot be written ({why})"
    if args.out is not None:
        if Path(args.out).exists() and not Path(args.out).is_dir():
            return f"--out {args.out}: is a file; expected a folder"
        why = unwritable(args.out)
        if why:
            return f"--out {args.out}: cannot write in it ({why})"
    elif Path(args.checkpoint[0]).is_file():  # a missing one is load_model's to name
        samples = default_out(args.checkpoint, args.data)
        why = unwritable(samples)
        if why:
            return (
                f"samples.png cannot be written beside the checkpoint, in {samples} ({why}); "
                "give another folder with --out DIR"
            )
    return None


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (0 ok, 2 bad input)."""
    from . import models  # noqa: PLC0415
    from .backend import DeviceError  # noqa: PLC0415
    from .runs import LoadError, command_warnings, sigterm_as_ctrl_c, write_json  # noqa: PLC0415

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
            )
            if args.json:
                write_json(args.json, result)
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
