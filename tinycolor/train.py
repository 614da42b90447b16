"""``python -m tinycolor.train MODEL [options]``: train any registered model, the same way.

One loop for every model. The model's file (``tinycolor/models/<name>.py``, see
``tinycolor.models`` for what it declares) says what the network, the loss, the data and the
defaults are; this file does the rest:

1. parse the common options (``--epochs --batch-size --lr --optimizer --weight-decay
   --schedule --keep --ema --seed --device --out --quiet``, defaults from the model) and the
   model's own (``add_arguments``);
2. seed every generator (``tinycolor.manual_seed``; a NumPy generator for shuffling), load
   the data, build the network and its optimizer;
3. for each epoch: shuffle, batch, step (``loss -> backward -> step``, or the model's own
   ``train_step``), with a progress bar showing the running loss; then the test loss and,
   with ``--schedule cosine``, the next learning rate (``--keep best``: the weights of the
   epoch with the lowest held-out loss are what the run keeps; with ``--ema`` the weights
   held out and kept are an exponential moving average of the steps' weights); after it,
   ``model.npz`` saved (atomically) with the weights the run would end with then, marked
   partial (``"epochs_done"``, no metrics): a crash Python cannot catch (SIGKILL, the OOM
   killer) or an error midway loses no finished epoch; and beside it ``training_state.npz``,
   the whole training state, which ``--resume RUN_DIR`` goes on from (``resume``);
4. evaluate (the model's metrics beside its baselines), write the run folder
   (``model.npz``, ``metrics.json``, ``loss.png`` and the model's figures) and print a
   summary table.

``python -m tinycolor.train --list`` lists the models; ``MODEL --help`` shows its options with
their defaults; ``--resume RUN_DIR`` goes on with a run that stopped, to the same end; a CNN
colorizer's ``--ensemble K`` trains K runs on one split and scores them as one
(``tinycolor.ensembles``). Any
mistake in the input (unknown model, unreadable image, image smaller than the window,
unusable device, a run folder that cannot be resumed...) ends with a one-line message on
stderr and exit status 2. An
option given where it has no effect (``--temperature`` with ``--loss l2``, ``--lr`` with
``--epochs 0``...) gets a one-line warning, and the run goes on (``unused_options``).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from . import argtypes, backend, models
from .functional.norm import OneValuePerChannelError
from .runs import STATE_FORMAT, STATE_VERSION, TRAINING_STATE

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
SCHEDULES = ("constant", "cosine")
KEEP = ("last", "best")
MOMENTUM = 0.9  # what "--optimizer momentum" means: SGD with momentum 0.9
RUNTIME_KEYS = ("device", "out", "quiet")
PROG = "python -m tinycolor.train"


class UsageError(Exception):
    """A mistake on the command line or in the inputs: printed as one line, exit status 2."""


def _non_finite_parameter(model) -> str | None:
    """The name of the first parameter holding an infinite or NaN value, if any."""
    for name, p in model.named_parameters():
        if not bool(backend.array_module(p.data).isfinite(p.data).all()):
            return name
    return None


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


# --------------------------------------------------------------------------- options


def build_parser(name: str, module) -> argparse.ArgumentParser:
    """The argument parser of ``python -m tinycolor.train NAME``."""
    d = module.DEFAULTS
    parser = argparse.ArgumentParser(
        prog=f"{PROG} {name}",
        description=f"{name}: {module.DESCRIPTION}",
        formatter_class=argtypes.HelpFormatter,
    )
    g = parser.add_argument_group("training")
    g.add_argument(
        "--epochs",
        type=argtypes.nonnegative_int,
        default=d["epochs"],
        help="passes over the data (0: none; the run scores and saves the network as built, "
        "a baseline for what training adds)",
    )
    g.add_argument(
        "--batch-size",
        dest="batch_size",
        type=argtypes.positive_int,
        default=d["batch_size"],
        help="examples per step",
    )
    rates = getattr(module, "LEARNING_RATES", None)
    lr_help = "learning rate"
    if d.get("lr") is None and rates:
        lr_help += " (default: " + ", ".join(f"{k} {v:g}" for k, v in rates.items()) + ")"
    g.add_argument("--lr", type=argtypes.positive_float, default=d.get("lr"), help=lr_help)
    g.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default=d["optimizer"],
        help=f"sgd, momentum (SGD with momentum {MOMENTUM}), rmsprop or adam",
    )
    g.add_argument(
        "--weight-decay",
        dest="weight_decay",
        type=argtypes.nonnegative_float,
        default=d.get("weight_decay", 0.0),
        help="L2 penalty added to every gradient (weight_decay * w)",
    )
    g.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default=d.get("schedule", "constant"),
        help="learning rate over the epochs: constant, or cosine (from --lr toward 0 along a half "
        "cosine, one step an epoch: PyTorch's CosineAnnealingLR with T_max = --epochs; "
        "Loshchilov and Hutter 2017)",
    )
    g.add_argument(
        "--keep",
        choices=KEEP,
        default=d.get("keep", "last"),
        help="the weights the run ends with: those after the last epoch, or those of the epoch "
        "with the lowest held-out loss (early stopping)",
    )
    g.add_argument(
        "--ema",
        type=argtypes.decay,
        default=d.get("ema", 0.0),
        help="keep an exponential moving average of the weights with this decay (e.g. 0.99) "
        "and hold out, keep and save it instead of the last step's weights (0: off). The "
        "decay of update t is min(decay, (1 + t) / (10 + t)), TensorFlow's ramp, so a decay d "
        "is reached after (10 d - 1) / (1 - d) steps: 890 for 0.99, 8,990 for 0.999; in "
        "fewer steps the ramp decides",
    )
    g.add_argument(
        "--seed",
        type=argtypes.nonnegative_int,
        default=d.get("seed", 0),
        help="seeds initialisation and shuffling: same seed, same run",
    )
    r = parser.add_argument_group("run")
    r.add_argument(
        "--device",
        default=None,
        choices=("cpu", "cuda"),
        help="where to train (default: $TINYCOLOR_DEVICE, else cpu)",
    )
    r.add_argument("--out", default=None, help=f"run folder (default: runs/{name}-<timestamp>/)")
    r.add_argument(
        "--quiet", action="store_true", help="no progress bar or table; print only the run folder"
    )
    from .ensembles import can_ensemble  # noqa: PLC0415

    if can_ensemble(module):
        r.add_argument(
            "--ensemble",
            type=argtypes.positive_int,
            default=None,
            metavar="K",
            help="train K networks with seeds --seed, --seed + 1, ... on one split of the data "
            "(--split-seed, else --seed), each in its own folder seedN/ of --out, and score the "
            "mean of their ab as one colorizer (colorize and evaluate take the folder as "
            "--checkpoint)",
        )
    module.add_arguments(parser)
    return parser


def parse_config(name: str, argv: list[str]):
    """``(module, config, runtime)`` for ``python -m tinycolor.train NAME *argv``.

    ``config`` holds everything that defines the model and its training (it is stored in the
    checkpoint and metrics.json); ``runtime`` holds ``device``, ``out``, ``quiet`` and
    ``ensemble`` (``--ensemble K``: None for one network, or where the model has no such option).
    """
    module = models.get(name)
    parser = build_parser(name, module)
    args = vars(parser.parse_args(argv))
    given = given_options(parser, argv, args)
    runtime = {k: args.pop(k) for k in RUNTIME_KEYS}
    runtime["ensemble"] = args.pop("ensemble", None)
    runtime["device"] = runtime["device"] or backend.device_from_environment()
    config = resolve_config(module, args)
    for key, why in unused_options(module, config).items():
        if key in given:
            warnings.warn(f"{_flag(key, config[key])} has no effect {why}", stacklevel=2)
    return module, config, runtime


def given_options(parser: argparse.ArgumentParser, argv: list[str], args: dict) -> set[str]:
    """The ``dest`` of each option given in ``argv`` (even at its default value), of those in
    ``args`` (the parse of ``argv``): ``argv`` parsed again into a namespace holding a marker
    for each, which argparse then leaves where no option sets it."""
    marker = object()
    ns = parser.parse_args(argv, namespace=argparse.Namespace(**dict.fromkeys(args, marker)))
    return {k for k, v in vars(ns).items() if v is not marker}


def _flag(key: str, value) -> str:
    """The command-line option of config key ``key``: ``--batch-size`` for ``batch_size``, and
    for a switch the spelling its value was given with (``--no-rebalance`` for False)."""
    flag = key.replace("_", "-")
    return f"--{flag}" if value is not False else f"--no-{flag}"


def unused_options(module, config: dict) -> dict[str, str]:
    """The options that have no effect on a run with ``config``, by config key, each with why
    (what follows "--OPTION has no effect "): the training options' (all of them with
    ``--epochs 0``; ``--schedule`` and ``--keep`` with one epoch) and the model's own
    (its ``unused_options(config)``). ``parse_config`` warns about those given on the
    command line: the run goes on, but the user should not believe they changed something."""
    out = {}
    epochs = int(config["epochs"])
    if epochs == 0:
        for key in ("batch_size", "lr", "optimizer", "weight_decay", "schedule", "keep", "ema"):
            out[key] = "with --epochs 0: nothing is trained"
        if "val_tiles" in config:  # the Lab models': the held-out loss after each epoch
            out["val_tiles"] = "with --epochs 0: no held-out loss is measured after an epoch"
    elif epochs == 1:
        out["schedule"] = "with --epochs 1: the learning rate changes only between epochs"
        out["keep"] = "with --epochs 1: the best epoch is the last"
    hook = getattr(module, "unused_options", None)
    if hook is not None:
        out.update(hook(config))
    return out


def resolve_config(module, overrides: dict | None = None) -> dict:
    """The model's ``DEFAULTS`` updated with ``overrides``, with the seed an int and the
    learning rate filled in from ``LEARNING_RATES`` when it was left as None."""
    config = dict(module.DEFAULTS)
    config.update(overrides or {})
    config.setdefault("schedule", "constant")
    config.setdefault("weight_decay", 0.0)
    config.setdefault("keep", "last")
    config.setdefault("ema", 0.0)
    config["seed"] = int(config.get("seed") or 0)
    if config.get("lr") is None:
        rates = getattr(module, "LEARNING_RATES", {}) or {}
        if config["optimizer"] not in rates:
            raise UsageError(
                f"{module.NAME}: no default learning rate for {config['optimizer']}; pass --lr"
            )
        config["lr"] = rates[config["optimizer"]]
    return config


# --------------------------------------------------------------------------- the loop


def make_optimizer(name: str, params, lr: float, weight_decay: float = 0.0):
    """One of the seed's optimizers over ``params``: sgd, momentum, rmsprop or adam, with L2
    ``weight_decay`` (added to the gradient, as PyTorch's)."""
    from . import optim  # noqa: PLC0415

    params, wd = list(params), float(weight_decay)
    if name == "sgd":
        return optim.SGD(params, lr=lr, weight_decay=wd)
    if name == "momentum":
        return optim.SGD(params, lr=lr, momentum=MOMENTUM, weight_decay=wd)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, weight_decay=wd)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=wd)
    raise UsageError(f"unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZERS)}")


def num_batches(source, batch_size: int) -> int | None:
    if isinstance(source, tuple | list):
        return math.ceil(len(source[0]) / batch_size)
    n = getattr(source, "num_batches", None)
    return n(batch_size) if callable(n) else None


#: Mixed into the seed that draws the training batches (``fit``), so that their crops and
#: order are a stream of their own, not the initial weights' (``default_rng(seed)``).
_BATCHES_STREAM = 0x62617463


def iterate_batches(source, batch_size: int, rng=None, shuffle: bool = False):
    """Batches (tuples of arrays) from a tuple of equal-length arrays, shuffled with ``rng``, or
    from an object with its own ``batches(batch_size, rng, shuffle)``."""
    if not isinstance(source, tuple | list):
        yield from source.batches(batch_size, rng=rng, shuffle=shuffle)
        return
    n = len(source[0])
    if any(len(a) != n for a in source):
        raise ValueError(f"iterate_batches: arrays of different lengths {[len(a) for a in source]}")
    if shuffle:
        perm = rng.permutation(n)
        source = [a[perm] for a in source]  # one gather per epoch; batches are then views
    for i in range(0, n, batch_size):
        yield tuple(a[i : i + batch_size] for a in source)


def to_tensors(batch, device: str):
    """Each array of a batch as a Tensor on ``device`` (non-array items pass through)."""
    from .autograd import Tensor  # noqa: PLC0415

    return tuple(Tensor(a, device=device) if isinstance(a, np.ndarray) else a for a in batch)


def default_train_step(module, model, optimizers, batch, config) -> dict:
    """zero_grad, loss, backward, step: the step of every model without its own."""
    opt = optimizers["main"]
    opt.zero_grad()
    loss = module.loss(model, batch, config)
    loss.backward()
    opt.step()
    return {"loss": float(loss.item())}


def test_loss(module, model, source, config, device: str, bar=None) -> float | None:
    """The mean loss over the test data, without gradients (None if the model has no loss).
    ``bar``, a tqdm bar, is reset to the number of batches and advanced by one a batch."""
    from .autograd import no_grad  # noqa: PLC0415

    if not hasattr(module, "loss"):
        return None
    total, count = 0.0, 0
    model.eval()
    with no_grad():
        bs = getattr(module, "EVAL_BATCH_SIZE", None) or int(config["batch_size"])
        if bar is not None:
            bar.reset(total=num_batches(source, bs))
        for batch in iterate_batches(source, bs):
            n = len(batch[0])
            total += float(module.loss(model, to_tensors(batch, device), config).item()) * n
            count += n
            if bar is not None:
                bar.update(1)
    model.train()
    return total / max(count, 1)


def make_schedulers(schedule: str, optimizers: dict, epochs: int) -> list:
    """The per-epoch learning-rate schedulers of ``--schedule`` for every optimizer: none for
    "constant", a CosineAnnealingLR over ``epochs`` each for "cosine" (none for 0 epochs)."""
    if schedule == "constant":
        return []
    if schedule == "cosine":
        if epochs < 1:
            return []
        from .optim import CosineAnnealingLR  # noqa: PLC0415 - as make_optimizer

        return [CosineAnnealingLR(opt, T_max=epochs) for opt in optimizers.values()]
    raise UsageError(f"unknown --schedule {schedule!r}: expected one of {', '.join(SCHEDULES)}")


# --------------------------------------------------------------------------- resuming


def training_state(
    name, config, epoch, weights, optimizers, schedulers, ema, best, rng, history, device
) -> dict:
    """Everything ``fit`` needs to go on after ``epoch`` as if it had not stopped, as a flat
    dict of arrays plus ``"__meta__"`` (JSON): ``model.*`` the weights being trained
    (``weights``, a Module or a state dict: not the moving average), ``optimizer.<name>.*``
    each optimizer's ``state_dict``, ``scheduler.<i>.*`` each scheduler's, ``ema.*`` the
    moving average, ``best.*`` the best epoch's weights (left out when that epoch is this
    one: they are then the weights held out, the average or the model's), and in the meta
    the history, the best epoch and its loss, the average's count, and the states of the
    generators: fit's (the order of the examples and the data's random crops and flips) and
    tinycolor's (``backend.rng``: dropout), the CPU's as JSON, the GPU's as an array."""
    from . import __version__  # noqa: PLC0415
    from .runs import to_jsonable  # noqa: PLC0415

    if hasattr(weights, "_state_tensors"):  # the live arrays: written out before they move
        weights = {k: t.data for k, t in weights._state_tensors().items()}
    state = {f"model.{k}": v for k, v in weights.items()}
    for key, opt in optimizers.items():
        state.update({f"optimizer.{key}.{k}": v for k, v in opt.state_dict().items()})
    for i, sched in enumerate(schedulers):
        state.update({f"scheduler.{i}.{k}": v for k, v in sched.state_dict().items()})
    if ema is not None:
        state.update({f"ema.{k}": v for k, v in ema.average.items()})
    if best is not None and best[1] != epoch:
        state.update({f"best.{k}": v for k, v in best[2].items()})
    rngs = {"shuffle": rng.bit_generator.state, "cpu": backend.get_rng_state("cpu")}
    if device == "cuda":
        try:
            state["rng.cuda"] = backend.get_rng_state("cuda")
        except backend.DeviceError:  # a CuPy that hides it: resuming is then not bit for bit
            pass
    state["__meta__"] = {
        "format": STATE_FORMAT,
        "format_version": STATE_VERSION,
        "model": name,
        "config": to_jsonable(config),
        "epochs_done": int(epoch),
        "epochs": int(config["epochs"]),
        "device": device,
        "optimizers": list(optimizers),
        "schedulers": len(schedulers),
        "ema_updates": None if ema is None else ema.updates,
        "best": None if best is None else [float(best[0]), int(best[1])],
        "rng": rngs,
        "history": history,
        "tinycolor_version": __version__,
    }
    return state


def restore_training_state(state, model, optimizers, schedulers, ema, rng, device):
    """Put back what ``training_state`` saved into the model, optimizers, schedulers, moving
    average and generators ``fit`` made afresh; returns ``(first epoch to train, best,
    history)``. Raises ValueError when the state does not fit them (another configuration)."""
    meta = state["__meta__"]

    def part(prefix):
        return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}

    if sorted(meta["optimizers"]) != sorted(optimizers):
        raise ValueError(
            f"the state holds the optimizers {meta['optimizers']}, the model makes "
            f"{list(optimizers)}"
        )
    if int(meta["schedulers"]) != len(schedulers) or (meta["ema_updates"] is None) != (ema is None):
        raise ValueError("the state's learning-rate schedule or moving average is not the run's")
    model.load_state_dict(part("model."))
    for key, opt in optimizers.items():
        opt.load_state_dict(part(f"optimizer.{key}."))
    for i, sched in enumerate(schedulers):
        sched.load_state_dict(part(f"scheduler.{i}."))
    if ema is not None:
        ema.load_state_dict(part("ema."), updates=int(meta["ema_updates"]))
    epoch = int(meta["epochs_done"])
    best = None
    if meta["best"] is not None:
        loss, best_epoch = float(meta["best"][0]), int(meta["best"][1])
        if best_epoch == epoch:  # the weights held out after that epoch
            weights = ema.state_dict() if ema is not None else model.state_dict()
        else:
            weights = {k: backend.to_device(v, device) for k, v in part("best.").items()}
        best = (loss, best_epoch, weights)
    rng.bit_generator.state = meta["rng"]["shuffle"]
    backend.set_rng_state(meta["rng"]["cpu"], "cpu")
    if device == "cuda":
        try:
            backend.set_rng_state(state["rng.cuda"], "cuda")
        except (KeyError, ValueError, backend.DeviceError) as exc:  # not saved, another GPU
            why = "it was not saved" if isinstance(exc, KeyError) else str(exc)
            warnings.warn(
                f"the GPU's random generator cannot be put back ({why}): dropout draws other "
                "masks than the run would have, so it will not end bit for bit as it would have",
                stacklevel=2,
            )
    history = {k: list(v) for k, v in meta["history"].items()}
    return epoch + 1, best, history


# NumPy's overflow and NaN warnings in a training step or the held-out loss: a diverging run
# is reported by fit's check of the losses, which says more
_QUIET_FLOATS = {"over": "ignore", "invalid": "ignore", "divide": "ignore"}


def fit(
    module,
    model,
    data,
    config,
    device: str | None = None,
    quiet: bool = False,
    on_epoch_end=None,
    on_state=None,
    resume: dict | None = None,
) -> dict:
    """Train ``model`` for ``config['epochs']`` epochs (0: leave it as built); returns the
    per-epoch history ``{"train": [...], "test": [...], <other train_step outputs>: [...]}``,
    plus ``"kept_epoch"`` with ``--keep best``: the model ends with the weights (and BatchNorm
    statistics) of the epoch whose held-out loss was lowest. With ``config['ema']`` > 0 those
    weights are the moving average (``optim.ExponentialMovingAverage``) at each epoch's end,
    which is also what the held-out loss is computed with and what a ``--keep last`` run ends
    with. The held-out loss is the mean over at most ``config['val_tiles']`` held-out tiles
    (``lab_common.held_out_for_loss``: a seeded choice, the same every epoch), all by default
    for any but a large folder.

    Ctrl-C (KeyboardInterrupt) ends the training early rather than losing it: the history
    keeps the finished epochs and says ``"interrupted": True``, and the model ends with the
    best kept epoch's weights (``--keep best``), the moving average (``--ema``), or else its
    weights when the key was pressed.

    ``on_epoch_end(epoch, state)``, if given, is called after each finished epoch (its
    held-out loss measured and found finite) with the state dict the model would end with if
    training stopped there: the best epoch's so far (``--keep best``), the moving average
    (``--ema``), else the current weights. ``train.run`` saves it as a partial checkpoint, so
    that a crash Python cannot catch (SIGKILL, the OOM killer, a power cut) loses no finished
    epoch.

    ``on_state(epoch, state)``, if given, is called after it with the whole training state
    (``training_state``): the weights being trained, every optimizer's and scheduler's state,
    the moving average, the best epoch's weights, the generators' states and the history, as
    a flat dict of arrays with a ``"__meta__"`` dict (what ``tinycolor.load`` reads back from
    the file ``tinycolor.save`` writes it to; some arrays are the live ones, which the next
    epoch changes: write it out then and there). ``resume``, such a state, puts all of it back
    before the first epoch, and training goes on from the epoch after the one it was taken
    at: the model ends with the same weights, bit for bit, and the history is the same, as
    had the run never stopped (on the CPU; on a GPU as far as its own ops are deterministic).

    The batches go to ``device``, by default the model's (``model.device``)."""
    from .models.lab_common import held_out_for_loss  # noqa: PLC0415
    from .runs import interrupts_deferred, progress_bar  # noqa: PLC0415

    device = backend._check_name(device or model.device)  # 'cuda' for 'cuda:0', as run keeps it
    held = held_out_for_loss(data.test, config)  # at most --val-tiles tiles, the same each epoch
    tqdm = progress_bar(quiet)
    # an epoch's bar and its held-out loss's: batches, on stderr, off with --quiet
    batch_bar = functools.partial(
        tqdm, unit="batch", disable=quiet, file=sys.stderr, dynamic_ncols=True, mininterval=0.25
    )
    if hasattr(module, "make_optimizers"):
        optimizers = module.make_optimizers(model, config)
    else:
        optimizers = {
            "main": make_optimizer(
                config["optimizer"],
                model.parameters(),
                config["lr"],
                config.get("weight_decay", 0.0),
            )
        }
    custom_step = getattr(module, "train_step", None)
    # the crops, flips and batch order: a stream of the seed's own, not the one that drew the
    # initial weights (backend.rng, also seeded with the seed, whose draws it repeated)
    rng = np.random.default_rng([int(config["seed"]), _BATCHES_STREAM])
    epochs, bs = int(config["epochs"]), int(config["batch_size"])
    schedulers = make_schedulers(config.get("schedule", "constant"), optimizers, epochs)
    keep_best = config.get("keep", "last") == "best"
    best = None  # (held-out loss, epoch, state_dict) of the best epoch so far
    ema = None
    if float(config.get("ema", 0.0)) > 0:
        from .optim import ExponentialMovingAverage  # noqa: PLC0415 - as make_optimizer

        ema = ExponentialMovingAverage(model, float(config["ema"]))
    history: dict[str, list] = {"train": [], "test": []}
    first = 1
    if resume is not None:
        try:
            first, best, history = restore_training_state(
                resume, model, optimizers, schedulers, ema, rng, device
            )
        except (ValueError, RuntimeError, KeyError, TypeError) as exc:
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()] or ["?"]
            if len(lines) > 1 and lines[0].endswith(":"):  # "Error(s) in loading...:" heading
                lines = lines[1:]
            more = f", and {len(lines) - 1} more" if len(lines) > 1 else ""
            raise UsageError(
                f"the training state does not fit {getattr(module, 'NAME', 'the model')} as "
                "this tinycolor builds it "
                f"from the run's configuration ({lines[0]}{more})"
            ) from None
        if first > epochs and ema is not None:  # every epoch done: it ends with the average
            model.load_state_dict(ema.state_dict())
    bar = None
    try:
        for epoch in range(first, epochs + 1):
            model.train()
            sums: dict[str, float] = {}
            seen = 0
            bar = batch_bar(total=num_batches(data.train, bs), desc=f"epoch {epoch}/{epochs}")
            for i, arrays in enumerate(iterate_batches(data.train, bs, rng, shuffle=True)):
                batch = to_tensors(arrays, device)
                n = len(arrays[0])
                try:
                    with np.errstate(**_QUIET_FLOATS):
                        if custom_step is not None:
                            out = custom_step(model, optimizers, batch, config)
                        else:
                            out = default_train_step(module, model, optimizers, batch, config)
                except OneValuePerChannelError as exc:
                    raise UsageError(_lone_sample_advice(exc, n, i, bs)) from None
                if not math.isfinite(out["loss"]):
                    raise TrainingDiverged(
                        f"the loss became {out['loss']} at epoch {epoch}, step {i + 1}; "
                        f"try a smaller --lr than {config['lr']:g}"
                    )
                if ema is not None:
                    ema.update()
                for k, v in out.items():
                    sums[k] = sums.get(k, 0.0) + float(v) * n
                seen += n
                bar.update(1)
                if i % 16 == 0:
                    bar.set_postfix_str(f"loss {sums['loss'] / seen:.4f}", refresh=False)
            epoch_means = {k: v / max(seen, 1) for k, v in sums.items()}
            history["train"].append(epoch_means.pop("loss"))
            for k, v in epoch_means.items():
                history.setdefault(k, []).append(v)
            trained_weights = None
            if ema is not None:  # the averaged weights are the ones held out, kept and saved
                trained_weights = model.state_dict()
                model.load_state_dict(ema.state_dict())
            # the held-out loss can take longer than the epoch (9,600 tiles held out of 3,000
            # photos, 2,400 crops trained on): a bar of its own, gone when it is done
            held_bar = batch_bar(
                total=num_batches(held, getattr(module, "EVAL_BATCH_SIZE", None) or bs),
                desc=f"epoch {epoch}/{epochs}: held-out loss",
                leave=False,
            )
            try:
                with np.errstate(**_QUIET_FLOATS):
                    t_loss = test_loss(module, model, held, config, device, held_bar)
            finally:
                held_bar.close()
            if t_loss is not None and not math.isfinite(t_loss):
                raise TrainingDiverged(
                    f"the held-out loss became {t_loss} after epoch {epoch}; "
                    f"try a smaller --lr than {config['lr']:g}"
                )
            broken = _non_finite_parameter(model)
            if broken is not None:  # a loss can stay finite on saturated outputs
                raise TrainingDiverged(
                    f"the weights ({broken}) became infinite or NaN in epoch {epoch}; "
                    f"try a smaller --lr than {config['lr']:g}"
                )
            # from here the epoch counts as done, so it is saved whole before an interrupt
            # (Ctrl-C, SIGTERM) is let through: model.npz and the training state agree
            with interrupts_deferred():
                history["test"].append(t_loss)
                tail = f", test {t_loss:.4f}" if t_loss is not None else ""
                bar.set_postfix_str(f"loss {history['train'][-1]:.4f}{tail}", refresh=True)
                bar.close()
                for sched in schedulers:
                    sched.step()
                if keep_best and t_loss is not None and (best is None or t_loss < best[0]):
                    best = (t_loss, epoch, model.state_dict())
                if on_epoch_end is not None:  # the weights the run would end with if it ended now
                    on_epoch_end(epoch, best[2] if best is not None else model.state_dict())
                if on_state is not None:
                    on_state(
                        epoch,
                        training_state(
                            getattr(module, "NAME", None),
                            config,
                            epoch,
                            trained_weights if trained_weights is not None else model,
                            optimizers,
                            schedulers,
                            ema,
                            best,
                            rng,
                            history,
                            device,
                        ),
                    )
                if trained_weights is not None and epoch < epochs:
                    model.load_state_dict(trained_weights)
    except KeyboardInterrupt:
        done = len(history["test"])  # the epochs whose held-out loss was measured
        history = {k: v[:done] for k, v in history.items()}
        history["interrupted"] = True
        if best is None and ema is not None:
            model.load_state_dict(ema.state_dict())
    finally:  # the bar of the epoch under way, when training stopped in it
        if bar is not None:
            bar.close()
    if best is not None:
        model.load_state_dict(best[2])
        history["kept_epoch"] = best[1]
    model.eval()
    return history


def _lone_sample_advice(exc, n: int, i: int, batch_size: int) -> str:
    """The one-line error of a training batch a BatchNorm could not normalise: one sample on
    a 1x1 map (a network whose maps shrink to 1x1 at its input size)."""
    if n != 1:  # only a model's own train_step, normalising a part of its batch, gets here
        return str(exc)
    if batch_size == 1:
        fix = "use a --batch-size of 2 or more"
    else:
        fix = (
            f"batch {i + 1} is the epoch's last, one sample left over after batches of "
            f"{batch_size}: use a --batch-size that leaves no single sample over"
        )
    return f"{exc}: a BatchNorm cannot normalise one sample on a 1x1 map in training; {fix}"


def run(name: str, config: dict, device: str | None = None, out=None, quiet: bool = False):
    """Train model ``name`` and write its run folder; returns ``(run_dir, metrics)``.

    ``config`` may be partial: the model's ``DEFAULTS`` fill in the rest, so a notebook can
    call ``run("ann_window", {"epochs": 2}, out="runs/try")``. ``device`` None: the default
    device (``tinycolor.get_device()``). What ``main`` does after parsing the command line.
    """
    from .runs import run_out  # noqa: PLC0415

    device = device or backend.get_device()
    with run_out(out, quiet):  # where a sub-model trained on the way goes, and whether it
        # may say so (runs.current_run_out, current_run_quiet)
        return _run(name, config, device, out, quiet)


def resume(run_dir, quiet: bool = False):
    """Go on with the run whose folder is ``run_dir`` from its last finished epoch, to the end
    it was started for, and write its run folder as ``run`` would have; returns ``(run_dir,
    metrics)``. The model, its configuration and the device are the run's own, read from its
    ``training_state.npz`` (``read_training_state``); the weights, the optimizers, the
    schedule, the moving average, the best epoch, the generators and the history are put back
    (see ``fit``), so that the run ends as if it had not stopped. A sub-model it trained on
    the way (cnn_koala's classifier) is not trained again: the configuration names its
    checkpoint. What ``python -m tinycolor.train --resume RUN_DIR`` does."""
    from .runs import run_out  # noqa: PLC0415

    state = read_training_state(run_dir)
    meta = state["__meta__"]
    go_on_device(meta["device"], "the run")
    with run_out(run_dir, quiet):
        return _run(meta["model"], meta["config"], meta["device"], run_dir, quiet, state)


def go_on_device(device: str, who: str) -> None:
    """Make ``device``, the one a stopped run (``who``) trained on, the current device; a
    DeviceError that says so where it is not usable here."""
    try:
        backend.set_device(device)
    except backend.DeviceError as exc:
        raise backend.DeviceError(f"{who} trained on {device}, and goes on there: {exc}") from None


def resume_any(run_dir, quiet: bool = False):
    """``--resume RUN_DIR``: a run's folder (``resume``) or an ensemble's
    (``ensembles.resume_ensemble``: its unfinished members, then its scores)."""
    from .runs import ENSEMBLE_FILE  # noqa: PLC0415

    if (Path(run_dir) / ENSEMBLE_FILE).is_file():
        from .ensembles import resume_ensemble  # noqa: PLC0415

        return resume_ensemble(run_dir, quiet)
    return resume(run_dir, quiet)


def read_training_state(run_dir) -> dict:
    """The training state a run left in its folder ``run_dir`` (``TRAINING_STATE``), checked:
    UsageError, saying why, for a folder that holds none (a run that finished, one that
    stopped before its first epoch, not a run folder), a file that is not one or comes from a
    newer tinycolor, a model this tinycolor no longer has, or a configuration that does not
    match the model's options any more."""
    from .checkpoint import CheckpointError, load  # noqa: PLC0415

    where = f"--resume {run_dir}"
    folder = Path(run_dir)
    if not folder.is_dir():
        what = (
            "is a file; give the run folder that holds it" if folder.exists() else "no such folder"
        )
        raise UsageError(f"{where}: {what}")
    path = folder / TRAINING_STATE
    if not path.exists():
        raise UsageError(f"{where}: {_why_no_state(folder)}")
    try:
        state = load(path)
    except CheckpointError as exc:
        raise UsageError(f"{where}: {exc}") from None
    meta = state.get("__meta__")
    if not isinstance(meta, dict) or meta.get("format") != STATE_FORMAT:
        raise UsageError(f"{where}: {path} is not a training state that tinycolor wrote")
    version = meta.get("format_version")
    if version != STATE_VERSION:
        raise UsageError(
            f"{where}: {path} is in format version {version!r} (written by tinycolor "
            f"{meta.get('tinycolor_version', '?')}); this tinycolor reads version "
            f"{STATE_VERSION} only: finish the run with the tinycolor that started it, or start "
            "it again"
        )
    name = meta.get("model")
    try:
        module = models.get(name)
    except models.UnknownModelError:
        raise UsageError(
            f"{where}: the run trains model {name!r}, which this tinycolor does not have; known "
            f"models: {', '.join(models.available())}"
        ) from None
    config = meta.get("config") or {}
    if "val_tiles" in module.DEFAULTS and isinstance(meta.get("config"), dict):
        # a run started before --val-tiles measured its held-out loss on every tile: it goes
        # on doing so (0), as it began
        config.setdefault("val_tiles", 0)
    if "split_seed" in module.DEFAULTS and isinstance(meta.get("config"), dict):
        # a run started before --split-seed held out what its --seed chose: None does so
        config.setdefault("split_seed", None)
    known = set(module.DEFAULTS) | {"schedule", "weight_decay", "keep", "ema", "seed", "lr"}
    unknown, missing = sorted(set(config) - known), sorted(known - set(config))
    if unknown or missing:
        diff = [f"unknown {', '.join(unknown)}"] if unknown else []
        diff += [f"without {', '.join(missing)}"] if missing else []
        raise UsageError(
            f"{where}: the run's configuration does not fit {name}'s options in this tinycolor "
            f"({'; '.join(diff)}; written by tinycolor {meta.get('tinycolor_version', '?')}): "
            "start the run again"
        )
    return state


def _why_no_state(folder: Path) -> str:
    """Why the run folder ``folder`` cannot be resumed, having no training state."""
    import json  # noqa: PLC0415

    if (folder / "metrics.json").exists():
        try:
            metrics = json.loads((folder / "metrics.json").read_text())
        except (OSError, ValueError):
            metrics = {}
        done = f"{metrics.get('epochs', '?')} of {(metrics.get('config') or {}).get('epochs', '?')}"
        if not metrics.get("interrupted"):
            return f"the run finished ({done} epochs, metrics.json written): nothing to resume"
        if not metrics.get("epochs"):
            return "the run was interrupted before it finished an epoch: start it again"
        return (
            f"the run was interrupted after {done} epochs, but left no {TRAINING_STATE} (a "
            "tinycolor older than --resume ran it)"
        )
    if (folder / "model.npz").exists():
        why = (
            f"holds model.npz but no {TRAINING_STATE}: the run stopped before it finished an "
            "epoch, or a tinycolor older than --resume ran it"
        )
    else:
        why = f"no {TRAINING_STATE}: the run stopped before it finished an epoch, or this is not"
        why += " a run folder"
    sub = folder / "classifier"
    if (sub / TRAINING_STATE).exists():  # cnn_koala's or cnn_resnet's classifier, trained first
        why += (
            f"; it stopped while training the classifier it builds on: finish that with "
            f"`{PROG} --resume {sub}`, then train the model again with --classifier "
            f"{sub / 'model.npz'}"
        )
    elif (sub / "model.npz").exists() and not (folder / "model.npz").exists():
        why += (
            f"; the classifier it builds on is trained: train the model again with --classifier "
            f"{sub / 'model.npz'}"
        )
    return why


def _run(name, config, device, out, quiet, resumed: dict | None = None):
    from . import viz  # noqa: PLC0415
    from .checkpoint import save  # noqa: PLC0415
    from .data import progress_bars  # noqa: PLC0415
    from .imageio import ImageReadError  # noqa: PLC0415
    from .runs import (  # noqa: PLC0415
        RUNS_ROOT,
        checkpoint_meta,
        format_table,
        make_run_dir,
        missing_levels,
        removed_if_left_empty,
        summary_rows,
        to_jsonable,
        write_json,
    )

    start = time.perf_counter()
    module = models.get(name)
    config = resolve_config(module, config)
    backend.set_device(device)
    backend.manual_seed(config["seed"])
    before = (resumed or {}).get("__meta__", {})  # what the sessions before this one did
    with progress_bars(not quiet):  # a first read of a big --data folder: a bar on a terminal
        try:
            data = module.load_data(config)
        except (models.InputError, ImageReadError) as exc:
            started_in = before.get("cwd")
            if started_in is None or Path(started_in) == Path.cwd():
                raise
            raise type(exc)(
                f"{exc} (the run was started in {started_in}, which the relative paths of its "
                "options are read from: resume it from there)"
            ) from None
    if resumed is not None and to_jsonable(config) != before["config"]:
        changed = [k for k in config if to_jsonable(config[k]) != before["config"].get(k)]
        raise UsageError(
            f"--resume {out}: the run's data gives another configuration than it did "
            f"({', '.join(changed)} differ): its files changed since the run started, so it "
            "cannot go on as it began"
        )
    if resumed is not None and not quiet:
        print(
            f"{PROG}: resuming {name} in {out} after epoch {before['epochs_done']} of "
            f"{before['epochs']}",
            file=sys.stderr,
        )
    model = module.build_model(config)
    model.to(device)
    # the folders this run makes (--out a/b/run: up to three; runs/NAME-TIME: one or two)
    created = missing_levels(out) if out is not None else 1 + missing_levels(RUNS_ROOT)
    run_dir = make_run_dir(name, out)
    checkpoint = run_dir / "model.npz"
    state_path = run_dir / TRAINING_STATE
    if resumed is None and state_path.exists():  # another run's, left in this --out: not
        # this run's to go on from
        print(
            f"{PROG}: --out {run_dir} held a stopped run's {TRAINING_STATE}; this new run "
            f"replaces it (`{PROG} --resume {run_dir}` would have gone on with that run)",
            file=sys.stderr,
        )
        state_path.unlink()
    saved = [before["epochs_done"]] if resumed is not None else []  # the epochs saved so far
    resumed_after = [*before.get("resumed_after", []), *saved]  # each resume's epochs done
    time_before = float(before.get("train_time_s", 0.0))  # the training time of earlier sessions
    started_in = before.get("cwd", os.getcwd())

    def save_partial(epoch, state):
        """After each epoch, the weights the run would end with, marked as partial (no
        metrics yet): a crash Python cannot catch loses no finished epoch. The final save
        below replaces it."""
        meta = checkpoint_meta(name, config)
        meta.update(epochs_done=epoch, epochs=int(config["epochs"]))
        save(state, checkpoint, meta=meta)
        saved.append(epoch)

    def save_state(epoch, state):
        """After each epoch, beside it, everything ``fit`` needs to go on from there
        (``--resume``); removed when the run finishes."""
        meta = state.pop("__meta__")
        meta.update(
            train_time_s=time_before + time.perf_counter() - t0,
            resumed_after=resumed_after,
            cwd=started_in,
        )
        save(state, state_path, meta=meta)

    @contextlib.contextmanager
    def kept_on_error():
        """An unexpected error (a bug, most likely: its traceback follows) or Ctrl-C after an
        epoch was saved: one line first that says what is kept and how to go on from it."""
        try:
            yield
        except (TrainingDiverged, UsageError):  # said in one line (a divergence, with what
            raise  # was kept: resuming would diverge again)
        except (Exception, KeyboardInterrupt) as exc:
            if saved and state_path.exists():
                epochs, kept = int(config["epochs"]), saved[-1]
                where = (
                    f"after training, with all {epochs} epochs done"
                    if kept == epochs
                    else f"in epoch {kept + 1} of {epochs}"
                )
                stopped = isinstance(exc, KeyboardInterrupt)  # Ctrl-C: after the ^C shown
                what = (
                    "\n" + PROG + ": the run was stopped" if stopped else PROG + ": the run failed"
                )
                print(
                    f"{what} {where}; the checkpoint saved after epoch {kept} "
                    f"is kept ({checkpoint}), and `{PROG} --resume {run_dir}` goes on from it",
                    file=sys.stderr,
                )
            raise

    # a failed run leaves no empty folder, and says what it kept
    with removed_if_left_empty(run_dir, created), kept_on_error():
        t0 = time.perf_counter()
        try:
            history = fit(
                module,
                model,
                data,
                config,
                device,
                quiet,
                on_epoch_end=save_partial,
                on_state=save_state,
                resume=resumed,
            )
        except TrainingDiverged as exc:
            if not saved:
                raise
            raise TrainingDiverged(
                f"{exc}; the checkpoint saved after epoch {saved[-1]} of {config['epochs']} "
                f"is kept: {checkpoint}"
            ) from None
        train_time = time_before + time.perf_counter() - t0
        interrupted = bool(history.pop("interrupted", False))
        if interrupted and len(history["train"]) == int(config["epochs"]):
            # stopped while the last epoch was saved: nothing is left to train
            interrupted = False
            later = f"; if you do, `{PROG} --resume {run_dir}` scores it" if saved else ""
            print(
                f"\n{PROG}: interrupted after the last epoch: the training is complete; "
                f"scoring and saving it into {run_dir} (Ctrl-C again to abandon it){later}",
                file=sys.stderr,
            )
        elif interrupted:
            done = f"{len(history['train'])} of {config['epochs']} epochs"
            later = f"; `{PROG} --resume {run_dir}` trains the rest" if saved else ""
            print(
                f"\n{PROG}: interrupted after {done}; scoring and saving the model as it is "
                f"into {run_dir} (Ctrl-C again to abandon it){later}",
                file=sys.stderr,
            )
        with progress_bars(not quiet):  # scoring a big test split: a bar on a terminal
            metrics = module.evaluate(model, data, config, device=device)
        header, rows = summary_rows(metrics)
        save(model, checkpoint, meta=checkpoint_meta(name, config, _headline(metrics)))
        figures = [
            viz.loss_curves(
                {"train": history["train"], "test": history["test"]},
                run_dir / "loss.png",
                title=f"{name}: loss per epoch",
                ylabel=models.loss_label(module, config),
                kept_epoch=history.get("kept_epoch"),
            )
        ]
        figures += list(module.save_figures(model, data, config, run_dir, device=device) or [])
        metrics.update(
            model=name,
            config=config,
            seed=config["seed"],
            device=device,
            epochs=len(history["train"]),
            interrupted=interrupted,
            kept_epoch=history.get("kept_epoch", len(history["train"])),
            final_train_loss=history["train"][-1] if history["train"] else None,
            final_test_loss=history["test"][-1] if history["test"] else None,
            history=history,
            parameters=int(sum(p.size for p in model.parameters())),
            train_time_s=round(train_time, 3),
            wall_time_s=round(time.perf_counter() - start, 3),
        )
        if resumed_after:  # train_time_s counts every session's, wall_time_s this one's
            metrics["resumed_after"] = resumed_after
        if getattr(data, "test_names", None):
            # the whole images held out (for --keep best and the test metrics), by name
            metrics["held_out"] = [str(n) for n in data.test_names]
        loss_tiles = _held_out_loss_tiles(data, config)
        if loss_tiles is not None:  # the tiles the loss per epoch was measured on (--val-tiles)
            metrics["held_out_loss_tiles"], metrics["held_out_tiles"] = loss_tiles
        write_json(run_dir / "metrics.json", metrics)
        if not interrupted:  # the run is over: nothing is left to go on with
            state_path.unlink(missing_ok=True)
        if quiet:
            print(run_dir)
        else:
            print()
            print(format_table(header, rows))
            if loss_tiles is not None and loss_tiles[0] < loss_tiles[1]:
                print(
                    f"\nheld-out loss per epoch on {loss_tiles[0]:,} of the {loss_tiles[1]:,} "
                    "held-out tiles (--val-tiles); the scores above on all of them"
                )
            wall = metrics["wall_time_s"]
            if resumed_after:  # train_time counts every session's training, wall time this one
                took = f"{train_time:.1f} s over its sessions (this one {wall:.1f} s in all)"
            else:
                took = f"{train_time:.1f} s ({wall:.1f} s in all)"
            print(f"\ntrained in {took}")
            print(f"run folder: {run_dir}")
            for f in ["model.npz", "metrics.json", *(Path(p).name for p in figures)]:
                print(f"  {run_dir / f}")
            next_step = getattr(module, "next_step", None)
            if next_step is not None:
                print(next_step(checkpoint, config))
            else:
                colorize = f"python -m tinycolor.colorize --checkpoint {checkpoint} IMAGE"
                print(f"colorize an image: {colorize}")
    return run_dir, metrics


def _held_out_loss_tiles(data, config) -> tuple[int, int] | None:
    """(the held-out tiles the loss after each epoch is measured on, all the held-out tiles),
    or None for held-out data that is not tiles (ann_window's pixels)."""
    from .models.lab_common import held_out_for_loss  # noqa: PLC0415

    test = getattr(data, "test", None)
    if not callable(getattr(test, "num_tiles", None)):
        return None
    return held_out_for_loss(test, config).num_tiles(), test.num_tiles()


def _headline(metrics: dict) -> dict:
    """The model's own top-level numbers, stored in the checkpoint for reference."""
    return {k: v for k, v in metrics.items() if k not in ("baselines", "train")}


# --------------------------------------------------------------------------- command line


def _top_help() -> str:
    lines = [
        f"usage: {PROG} MODEL [options]",
        f"       {PROG} --resume RUN_DIR [--quiet]",
        f"       {PROG} --list",
        "",
        "Train a colorizer and write its run folder (model.npz, metrics.json, loss.png, ",
        "comparison.png). Every model runs with no options on the data bundled with the ",
        "package.",
        "",
        "models:",
        _model_list(),
        "",
        f"`{PROG} MODEL --help` shows a model's options and their defaults.",
        "",
        RESUME_HELP,
    ]
    return "\n".join(lines)


RESUME_HELP = f"""\
A run saves, after each epoch, the weights it would end with (model.npz, usable at once)
and its whole training state ({TRAINING_STATE}: weights, optimizers, schedule, moving
average, best epoch, random generators, history). A run that stopped (a crash, the OOM
killer, Ctrl-C) goes on from its last finished epoch with --resume RUN_DIR, to the end it was
started for, and ends as it would have without stopping (bit for bit on the CPU). The model,
its options and the device are the run's own: only --quiet may be added (to train longer,
start a new run). A run that finishes removes {TRAINING_STATE}; one interrupted keeps it.
An ensemble's folder (MODEL --ensemble K --out FOLDER) resumes the same way: its members
that did not finish are trained (the one that stopped goes on from its last epoch), then
the ensemble is scored."""


def build_resume_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m tinycolor.train --resume RUN_DIR``."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} --resume",
        description=RESUME_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "run_dir", metavar="RUN_DIR", help="the folder of the run to go on with (its --out)"
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar or table; print only the run folder"
    )
    return parser


def _parse_resume(argv: list[str]) -> dict:
    """``{"run_dir": ..., "quiet": ...}`` from the arguments after ``--resume``."""
    parser = build_resume_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        parser.error(
            f"--resume takes the run folder and --quiet only, got {' '.join(extra)}: the model, "
            "its options and the device are the run's own"
        )
    return vars(args)


def _model_list() -> str:
    names = models.available()
    width = max(len(n) for n in names)
    return "\n".join(f"  {n.ljust(width)}  {models.describe(n)}" for n in names)


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (0 ok, 2 bad input, 130 interrupted: Ctrl-C,
    or SIGTERM, which stops a run as Ctrl-C does)."""
    from .backend import DeviceError  # noqa: PLC0415
    from .imageio import ImageReadError  # noqa: PLC0415
    from .runs import LoadError, command_warnings, sigterm_as_ctrl_c  # noqa: PLC0415

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(_top_help(), file=sys.stderr)
        print(f"\n{PROG}: error: name a model to train", file=sys.stderr)
        return 2
    if argv[0] in ("-h", "--help"):
        print(_top_help())
        return 0
    if argv[0] == "--list":
        print(_model_list())
        return 0
    if argv[0].startswith("--resume="):  # --resume=RUN_DIR: the same as --resume RUN_DIR
        argv = ["--resume", argv[0].split("=", 1)[1], *argv[1:]]
    if "--resume" in argv[1:] or any(a.startswith("--resume=") for a in argv[1:]):
        print(
            f"{PROG}: error: --resume comes first and takes only the run folder: "
            f"{PROG} --resume RUN_DIR [--quiet] (the model and its options are the run's own)",
            file=sys.stderr,
        )
        return 2
    if argv[0].startswith("-") and argv[0] != "--resume":
        print(
            f"{PROG}: error: the first argument must be a model name (or --list), got "
            f"{argv[0]!r}; known models: {', '.join(models.available())}",
            file=sys.stderr,
        )
        return 2
    name, rest = argv[0], argv[1:]
    try:
        with command_warnings(PROG), sigterm_as_ctrl_c():
            if name == "--resume":
                _, metrics = resume_any(**_parse_resume(rest))
            else:
                _, config, runtime = parse_config(name, rest)
                k = runtime.pop("ensemble")
                if k is None:
                    _, metrics = run(name, config, **runtime)
                else:
                    from .ensembles import train_ensemble  # noqa: PLC0415

                    _, metrics = train_ensemble(name, config, k, **runtime)
        if metrics.get("interrupted"):
            return 130  # the run folder is complete, but not with the epochs asked for
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2), already printed
        return int(exc.code or 0)
    except (
        UsageError,
        models.UnknownModelError,
        models.InputError,
        ImageReadError,
        LoadError,
        DeviceError,
        TrainingDiverged,
    ) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. --out in a folder we may not write to
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    # `python -m tinycolor.train` runs this file as __main__, a copy of the module beside the
    # tinycolor.train that ensembles imports: main is run from that one, so that the UsageError
    # and TrainingDiverged an ensemble raises are the classes main catches
    from tinycolor.train import main as _main

    sys.exit(_main())
