"""What a training run leaves behind, and how the tools read it back.

A run folder (``runs/<model>-<timestamp>/`` by default) holds ``model.npz`` (the checkpoint),
``metrics.json``, ``loss.png`` and the model's own figures. This module makes the folder,
writes and prints the metrics, and turns a checkpoint back into a ready model
(``load_model``), for ``colorize``, ``evaluate`` and the lessons alike.

Checkpoint format: ``tinycolor.save(model, path, meta=...)`` with ``meta`` =
``{"format": "tinycolor-model", "format_version": 1, "model": NAME, "config": {...},
"tinycolor_version": ..., "metrics": {...}}``: the weights under their ``state_dict`` names,
and enough to rebuild the network (``models.get(NAME).build_model(config)``) without being
told the architecture. A training run also saves one after each epoch, with
``"epochs_done": k`` and ``"epochs": n`` in place of the metrics (a partial checkpoint, which
the final one replaces): a run killed midway leaves its finished epochs loadable, and
``load_model`` warns that it did not finish (``PartialCheckpointWarning``).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import math
import os
import re
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

__all__ = [
    "CHECKPOINT_FORMAT",
    "ENSEMBLE_FILE",
    "LoadError",
    "PartialCheckpointWarning",
    "RUNS_ROOT",
    "STATE_FORMAT",
    "TRAINING_STATE",
    "checkpoint_meta",
    "checkpoint_paths",
    "command_warnings",
    "current_run_out",
    "current_run_quiet",
    "ensemble_members",
    "format_table",
    "load_model",
    "load_models",
    "make_run_dir",
    "missing_levels",
    "progress_bar",
    "removed_if_left_empty",
    "run_out",
    "sigterm_as_ctrl_c",
    "summary_rows",
    "to_jsonable",
    "unwritable",
    "write_json",
]

CHECKPOINT_FORMAT = "tinycolor-model"
CHECKPOINT_VERSION = 1

#: An ensemble's folder (``train MODEL --ensemble K``, see ``tinycolor.ensembles``) holds this
#: record of its members beside their run folders.
ENSEMBLE_FILE = "ensemble.json"
ENSEMBLE_FORMAT = "tinycolor-ensemble"

#: The file beside model.npz that holds a run's whole training state after each epoch
#: (``train.training_state``), which ``--resume`` goes on from; removed when the run finishes.
TRAINING_STATE = "training_state.npz"
STATE_FORMAT = "tinycolor-training-state"
STATE_VERSION = 1


class LoadError(ValueError):
    """A checkpoint that cannot be turned into a model; the message says which file and why."""


class PartialCheckpointWarning(UserWarning):
    """``load_model`` read a checkpoint saved after an epoch of a run that did not finish."""


# --------------------------------------------------------------------------- run folder


@contextlib.contextmanager
def command_warnings(prog: str):
    """Within it, a warning prints as one line, ``<prog>: warning: <message>``, as the
    commands print their errors, rather than with the file and source line that raised it."""

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"{prog}: warning: {message}", file=sys.stderr if file is None else file)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


@contextlib.contextmanager
def _handling(signals, handler):
    """Within it, ``handler`` handles each of ``signals``; their handlers before are put back
    after. Only in the main thread, the one Python runs signal handlers in (and may set them
    from); elsewhere it changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:  # None: a handler not set from Python, which Python cannot put back
        for sig, old in previous.items():
            signal.signal(sig, signal.SIG_DFL if old is None else old)


def sigterm_as_ctrl_c():
    """Within it, SIGTERM (``kill PID``, ``timeout``, a batch scheduler's or a container's
    stop) raises KeyboardInterrupt, as Ctrl-C does, so that a command ends as it does on
    Ctrl-C: a training run scores and saves the epochs it finished, and a file being written
    leaves no temporary file behind, where Python's default would end the process on the
    spot. Only in the main thread; elsewhere it changes nothing."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    return _handling((signal.SIGTERM,), interrupt)


@contextlib.contextmanager
def interrupts_deferred():
    """Within it, Ctrl-C (SIGINT) and SIGTERM wait for the block to end: a signal that comes
    is remembered, and KeyboardInterrupt raised once the block is done, so that what the block
    writes is written whole (a run's checkpoint and its training state after an epoch: a
    Ctrl-C between the two left an epoch counted as done with no state to resume it from).
    An exception of the block's own goes on as it is. Only in the main thread; elsewhere it
    changes nothing."""
    caught = []
    with _handling((signal.SIGINT, signal.SIGTERM), lambda signum, frame: caught.append(signum)):
        yield
    if caught:
        raise KeyboardInterrupt


#: Where run folders go without --out: RUNS_ROOT/<model>-<timestamp>/.
RUNS_ROOT = "runs"


def make_run_dir(model_name: str, out=None, root=RUNS_ROOT) -> Path:
    """Create and return the run folder: ``out`` if given (it may exist), else
    ``root/<model_name>-<YYYYmmdd-HHMMSS>`` (with ``-2``, ``-3``... if that exists)."""
    if out is not None:
        path = Path(out)
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(f"--out {out}: exists and is not a folder")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            in_the_way = isinstance(exc, FileExistsError | NotADirectoryError)
            why = "a file is in the way" if in_the_way else exc.strerror
            raise OSError(f"--out {out}: cannot make the folder ({why or exc})") from None
        why = unwritable(path)  # an existing folder: said now, not when the run is over
        if why:
            raise OSError(f"--out {out}: cannot write in the folder ({why})")
        return path
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{model_name}-{stamp}"
    path, n = base, 1
    while True:
        try:
            path.mkdir(parents=True, exist_ok=False)
            return path
        except FileExistsError:
            n += 1
            path = base.with_name(f"{base.name}-{n}")


def unwritable(folder) -> str | None:
    """Why files cannot be written into ``folder``, or None when they can, as far as its
    permissions and file system say: checked on ``folder`` or, when it does not exist yet, on
    the nearest folder above it, which it would be made in. Makes and writes nothing, so that
    a command can check where its results go before its slow part."""
    path = Path(folder).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    if not path.is_dir():
        return f"{path} is a file, not a folder"
    if os.access(path, os.W_OK | os.X_OK):
        return None
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return f"{path} is on a read-only file system"
    except (OSError, AttributeError):  # no statvfs on Windows
        pass
    return f"no permission to write in {path}"


# The --out of the training run under way: a model that trains a sub-model first (cnn_koala's
# and cnn_resnet's classifier) puts it in a folder inside it, so that --out holds everything.
# Here rather than in train, which runs as __main__ under `python -m tinycolor.train`.
# Its --quiet, so that the sub-model's notes (training a classifier first) keep quiet too.
_RUN_OUT: contextvars.ContextVar = contextvars.ContextVar("run_out", default=None)
_RUN_QUIET: contextvars.ContextVar = contextvars.ContextVar("run_quiet", default=False)


@contextlib.contextmanager
def run_out(out, quiet: bool = False):
    """Within it, ``current_run_out()`` is ``out`` and ``current_run_quiet()`` is ``quiet``."""
    token = _RUN_OUT.set(out)
    quiet_token = _RUN_QUIET.set(bool(quiet))
    try:
        yield
    finally:
        _RUN_QUIET.reset(quiet_token)
        _RUN_OUT.reset(token)


def current_run_out():
    """The ``out`` folder of the training run under way (None: the default runs/NAME-TIME)."""
    return _RUN_OUT.get()


def current_run_quiet() -> bool:
    """Whether the training run under way was asked for ``--quiet`` (no notes on stderr)."""
    return _RUN_QUIET.get()


def progress_bar(quiet: bool):
    """tqdm's bar class: a notebook widget where Jupyter can draw one, else a text bar; the
    plain class when ``quiet`` (the bar is disabled then), so that a quiet run in a notebook
    without ipywidgets does not warn that it could not have drawn one."""
    if quiet:
        from tqdm import tqdm  # noqa: PLC0415
    else:
        from tqdm.auto import tqdm  # noqa: PLC0415
    return tqdm


def missing_levels(path) -> int:
    """How many of ``path``, its parent, its grandparent... do not exist yet (0 if it does)."""
    path, n = Path(path).absolute(), 0
    while not path.exists() and path != path.parent:
        path, n = path.parent, n + 1
    return n


@contextlib.contextmanager
def removed_if_left_empty(path: Path, created: int = 1):
    """Within it, a failure (an error, Ctrl-C) removes the folder ``path`` and the ``created``
    - 1 folders above it that this run created (``created`` levels in all, 0 for none), as long
    as nothing was written into them; it never removes a user's files."""
    try:
        yield path
    except BaseException:
        folder = Path(path)
        for _ in range(int(created)):
            if not folder.is_dir() or any(folder.iterdir()):
                break
            folder.rmdir()
            folder = folder.parent
        raise


def to_jsonable(obj):
    """NumPy scalars/arrays, tuples and Paths as plain JSON values; non-finite floats as None."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return obj


def write_json(path, obj) -> Path:
    """Write ``obj`` as indented JSON (strict: no NaN), atomically."""
    from .imageio import write_atomically  # noqa: PLC0415

    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder; expected a file name for the JSON")
    text = json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n"
    return write_atomically(path, lambda tmp: tmp.write_text(text))


# --------------------------------------------------------------------------- summary table


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, list | tuple):
        return "/".join(_fmt(x) for x in v)
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def _is_number_or_numbers(v) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int | float | np.number):
        return True
    return (
        isinstance(v, list | tuple)
        and len(v) > 0
        and all(isinstance(x, int | float | np.number) and not isinstance(x, bool) for x in v)
    )


def summary_rows(metrics: dict) -> tuple[list[str], list[list[str]]]:
    """(header, rows) comparing the model with each baseline on the model's numeric metrics."""
    baselines = metrics.get("baselines") or {}
    keys = [k for k, v in metrics.items() if _is_number_or_numbers(v)]
    if baselines:  # the metrics the baselines are scored on too
        keys = [k for k in keys if any(k in b for b in baselines.values())]
    header = ["", *keys]
    rows = [["model", *(_fmt(metrics[k]) for k in keys)]]
    for name, base in baselines.items():
        rows.append([f"{name} baseline", *(_fmt(base.get(k)) for k in keys)])
    return header, rows


def format_table(header: list[str], rows: list[list[str]]) -> str:
    """A plain-text table with aligned columns."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)

    def fmt(r):
        return "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(r, widths))
        )

    return "\n".join([fmt(header), line, *(fmt(r) for r in rows)])


# --------------------------------------------------------------------------- checkpoints


def checkpoint_meta(model_name: str, config: dict, metrics: dict | None = None) -> dict:
    """The ``meta`` stored beside the weights: what ``load_model`` needs to rebuild the model."""
    from . import __version__  # noqa: PLC0415

    meta = {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_VERSION,
        "model": model_name,
        "config": to_jsonable(config),
        "tinycolor_version": __version__,
    }
    if metrics is not None:
        meta["metrics"] = to_jsonable(metrics)
    return meta


def checkpoint_paths(paths) -> list:
    """``paths`` as a list: one checkpoint path, or a list or tuple of several (an ensemble);
    an ensemble's folder (``train --ensemble``) stands for its members' checkpoints.
    ``LoadError`` for an empty list."""
    paths = list(paths) if isinstance(paths, list | tuple) else [paths]
    if not paths:
        raise LoadError("no checkpoint given")
    return [p for path in paths for p in ensemble_members(path) or [path]]


def run_finished(run_dir) -> bool:
    """Whether the run folder ``run_dir`` holds a run that finished: its model.npz, and a
    metrics.json not marked interrupted (a stopped run writes one too, "interrupted": true)."""
    run_dir = Path(os.fspath(run_dir))
    if not (run_dir / "model.npz").is_file():
        return False
    try:
        return not json.loads((run_dir / "metrics.json").read_text()).get("interrupted")
    except (OSError, ValueError, AttributeError):  # missing, unreadable, not an object
        return False


def ensemble_members(folder) -> list | None:
    """The members' checkpoints of the ensemble folder ``folder``, or None when it is not
    one; ``LoadError`` for one whose record is unreadable or whose members have not all
    finished."""
    record_path = Path(os.fspath(folder)) / ENSEMBLE_FILE
    if not record_path.is_file():
        return None
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError) as exc:
        raise LoadError(f"{folder}: {ENSEMBLE_FILE} is not readable ({exc})") from None
    names = record.get("members") if isinstance(record, dict) else None
    if (
        not isinstance(record, dict)
        or record.get("format") != ENSEMBLE_FORMAT
        or not isinstance(names, list)
        or not names
        or not all(isinstance(m, str) and m for m in names)
    ):
        raise LoadError(
            f"{folder}: {ENSEMBLE_FILE} is not an ensemble record that tinycolor wrote (a "
            f'"format" of "{ENSEMBLE_FORMAT}" and a list of "members" folders)'
        )
    members = [Path(os.fspath(folder)) / m / "model.npz" for m in names]
    unfinished = [m for m in members if not run_finished(m.parent)]
    if unfinished:
        names = ", ".join(m.parent.name for m in unfinished)
        raise LoadError(
            f"{folder}: an ensemble of {len(members)} whose members {names} have not finished: "
            f"`python -m tinycolor.train --resume {folder}` trains them"
        )
    return [str(m) for m in members]


def load_models(
    paths, expect_model: str | None = None, device: str = "cpu", quiet=False, temperature=None
):
    """``load_model`` of each checkpoint of ``paths`` (one path, or a list of several: an
    ensemble), as a list; the checkpoints of a list must be of one model (``LoadError``
    otherwise, naming the first and the odd one out). With ``quiet`` a partial checkpoint
    loads without its ``PartialCheckpointWarning``. ``temperature``: each decodes with that
    annealed-mean T (``models.set_temperature``; its InputError names the member that has
    none, in an ensemble)."""
    paths = checkpoint_paths(paths)
    loaded = []
    with warnings.catch_warnings():
        if quiet:  # a checkpoint of a run that did not finish is said, but not when quiet
            warnings.simplefilter("ignore", PartialCheckpointWarning)
        for path in paths:
            loaded.append(load_model(path, expect_model, device))
    name = loaded[0][3]["model"]
    for path, (_, _, _, meta) in zip(paths[1:], loaded[1:]):
        if meta["model"] != name:
            raise LoadError(
                f"an ensemble's checkpoints must be of one model: {paths[0]} is {name}, "
                f"{path} is {meta['model']}"
            )
    if temperature is not None:
        from .models import InputError, set_temperature  # noqa: PLC0415

        for path, (module, _, config, _) in zip(paths, loaded):
            try:
                set_temperature(module, config, temperature)
            except InputError as exc:  # an ensemble's member is named: its kind may not tell
                raise InputError(f"{path}: {exc}" if len(loaded) > 1 else str(exc)) from None
    return loaded


def load_model(path, expect_model: str | None = None, device: str = "cpu"):
    """Rebuild the model saved at ``path``: returns ``(module, model, config, meta)``.

    ``module`` is the model's declaration (``tinycolor.models.<name>``), ``model`` the network
    with its weights, in eval mode, on ``device``. Raises ``LoadError`` (one line) for a missing
    or corrupt file, an ``.npz`` that is not a tinycolor model checkpoint, a model this version
    does not know, weights that do not fit the stored configuration, or, with
    ``expect_model``, a checkpoint of a different model. A partial checkpoint (saved after an
    epoch of a run that did not finish) loads with a ``PartialCheckpointWarning`` saying so.
    """
    from . import models  # noqa: PLC0415
    from .checkpoint import CheckpointError, load  # noqa: PLC0415
    from .data.folder import IMAGE_EXTENSIONS  # noqa: PLC0415

    spath = os.fspath(path)
    p = Path(spath)
    # `--checkpoint CKPT a.png b.png` reads a.png as a second checkpoint (the option takes
    # several, an ensemble's): say so where a "checkpoint" is named like an image
    image = p.suffix.lower() in IMAGE_EXTENSIONS
    hint = (
        "; an image? --checkpoint takes checkpoints (several: an ensemble's), so every path "
        "after it is read as one"
        if image
        else ""
    )
    if not p.exists():
        # --checkpoint 'runs/*/model.npz' that matched nothing: the shell passes the pattern
        pattern = " (a pattern that matched no file?)" if any(c in spath for c in "*?[") else ""
        raise LoadError(f"{spath}: no such checkpoint file{pattern}{hint}")
    if p.is_dir():
        raise LoadError(f"{spath}: is a folder; expected a model.npz checkpoint file")
    try:
        state = load(spath)
    except CheckpointError as exc:
        # CheckpointError's messages start "checkpoint '<path>': "; we name the path already
        reason = re.sub(r"^checkpoint .*?: ", "", _first_line(exc))
        raise LoadError(f"{spath}: not a readable checkpoint ({reason}){hint}") from None
    except (OSError, ValueError, EOFError) as exc:  # in case load lets one through
        raise LoadError(f"{spath}: not a readable checkpoint ({_first_line(exc)})") from None
    meta = state.pop("__meta__", None) if isinstance(state, dict) else None
    if isinstance(meta, dict) and meta.get("format") == STATE_FORMAT:
        beside = p.parent / "model.npz"
        raise LoadError(
            f"{spath}: is a run's training state (what `--resume` goes on from), not a model "
            f"checkpoint; load the model.npz beside it ({beside})"
        )
    if not isinstance(meta, dict) or not isinstance(meta.get("model"), str):
        raise LoadError(
            f"{spath}: not a tinycolor model checkpoint (it stores no model name); "
            "use the model.npz that `python -m tinycolor.train` wrote"
        )
    name = meta["model"]
    if meta.get("format") not in (None, CHECKPOINT_FORMAT):
        raise LoadError(f"{spath}: unknown checkpoint format {meta.get('format')!r}")
    version = meta.get("format_version", 1)
    try:
        newer = int(version) > CHECKPOINT_VERSION
    except (TypeError, ValueError):  # a hand-edited meta: a traceback before
        raise LoadError(
            f"{spath}: checkpoint format version {version!r} is not a whole number"
        ) from None
    if newer:
        raise LoadError(
            f"{spath}: checkpoint format version {version} is newer than this "
            f"tinycolor understands ({CHECKPOINT_VERSION}); upgrade tinycolor"
        )
    stored = meta.get("config") or {}
    if not isinstance(stored, dict):
        raise LoadError(
            f"{spath}: its config is not a JSON object (a {type(stored).__name__}); "
            "use the model.npz that `python -m tinycolor.train` wrote"
        )
    if expect_model is not None and name != expect_model:
        raise LoadError(f"{spath}: is a checkpoint of model {name!r}, not {expect_model!r}")
    try:
        module = models.get(name)
    except models.UnknownModelError as exc:
        raise LoadError(
            f"{spath}: stores model {name!r}, which is not known here ({exc})"
        ) from None
    wrong = _wrongly_typed(stored, module.DEFAULTS) or _bad_mean_ab(stored.get("mean_ab"))
    if wrong:
        raise LoadError(f"{spath}: its config holds {wrong}; was the checkpoint edited by hand?")
    config = dict(module.DEFAULTS)
    config.update(stored)
    try:
        model = module.build_model(config)
        _load_weights(model, state)
    except LoadError as exc:
        raise LoadError(f"{spath}: the weights do not fit model {name!r}: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise LoadError(
            f"{spath}: the weights do not fit model {name!r} ({_first_line(exc)})"
        ) from None
    model.to(device)
    model.eval()
    if "epochs_done" in meta:
        warnings.warn(
            f"{spath}: saved after epoch {meta['epochs_done']} of "
            f"{meta.get('epochs', config.get('epochs', '?'))}; the run did not finish",
            PartialCheckpointWarning,
            stacklevel=2,
        )
    return module, model, config, meta


def _bad_mean_ab(mean_ab) -> str | None:
    """The training set's mean ab as a checkpoint stores it (None, or two finite numbers),
    said in words when it is not that: it is the mean-ab baseline and a network's first
    output, so a null or a string in it would come out as a row of nan or a traceback."""
    if mean_ab is None:
        return None
    fits = (
        isinstance(mean_ab, list)
        and len(mean_ab) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in mean_ab)
        and all(math.isfinite(v) for v in mean_ab)
    )
    return None if fits else f"mean_ab = {mean_ab!r}, where two finite numbers (a, b) are expected"


def _wrongly_typed(stored: dict, defaults: dict) -> str | None:
    """The first value of a checkpoint's config whose type is not its option's (a number, a
    whole number, true/false or a string, as the option's default is), said in words; None
    when all fit. None stands for "not given" in any option. A wrong type would otherwise
    surface as a traceback wherever the value is first used (a colorize's annealed mean)."""
    kinds = ((bool, "true or false"), (int, "a whole number"), (float, "a number"), (str, "text"))
    for key, value in stored.items():
        default = defaults.get(key)
        kind = next(((t, words) for t, words in kinds if isinstance(default, t)), None)
        if kind is None or value is None:
            continue
        t, words = kind
        if t is float:
            fits = isinstance(value, int | float) and not isinstance(value, bool)
        elif t is int:
            fits = isinstance(value, int) and not isinstance(value, bool)
        else:
            fits = isinstance(value, t)
        if not fits:
            return f"{key} = {value!r}, where {words} is expected"
    return None


def _load_weights(model, state: dict) -> None:
    """``model.load_state_dict(state)`` after checking names and shapes, with a short message."""
    expected = model.state_dict()
    optional = model.optional_state_keys()  # older checkpoints lack BatchNorm's batch counts
    missing = [k for k in expected if k not in state and k not in optional]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {_few(missing)}")
        if unexpected:
            parts.append(f"unexpected {_few(unexpected)}")
        raise LoadError("; ".join(parts))
    for k, v in expected.items():
        if k not in state:
            continue
        want = tuple(getattr(v, "shape", ()))
        got = tuple(np.shape(state[k]))
        if want != got:
            raise LoadError(f"{k} has shape {got}, the model expects {want}")
    model.load_state_dict(state)


def _few(names: list[str], n: int = 3) -> str:
    more = f" and {len(names) - n} more" if len(names) > n else ""
    return ", ".join(names[:n]) + more


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
