"""Checkpoints: a state dict (and a little JSON metadata) in one ``.npz`` file.

* ``save(module_or_dict, path, meta=None)`` writes the arrays (moved to NumPy) as the members
  of an ``.npz`` archive, and ``meta``, a JSON-serialisable dict (the model's name and
  configuration, the epoch, ...), as a JSON string under the reserved key ``'__meta__'``.
  It writes to a temporary file in the same directory and then renames it over ``path``
  with ``os.replace``, which is atomic: a crash, a full disk or Ctrl-C midway leaves the
  previous checkpoint intact, never half a file.
* ``load(path)`` reads it back with ``allow_pickle=False`` (an ``.npz`` file holding pickled
  objects could run code when loaded; ours never holds any) and returns a dict of NumPy
  arrays plus, if present, ``'__meta__'`` decoded to a dict. ``Module.load_state_dict``
  accepts that dict as it is.
* A dict of dicts, the checkpoint PyTorch's tutorials save (``{'model': model.state_dict(),
  'optimizer': optimizer.state_dict(), 'epoch': 5}``), is saved and read back as the same
  nesting: each inner array is the member ``'model/0.weight'``, and the reserved member
  ``'__nested__'`` lists the inner dicts, so that ``load`` rebuilds exactly those (a key
  with a ``/`` in a flat dict stays one key; ``save`` refuses one whose part before a ``/``
  names an inner dict beside it, ``'ema/decay'`` beside ``'ema': {...}``, which would be read
  back inside that dict).

Anything wrong with the file (missing, not an ``.npz`` archive, truncated, corrupt, holding
pickled objects) raises ``CheckpointError``, naming the path and the problem.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Mapping

import numpy as np

from . import backend
from .autograd import Tensor
from .imageio import temporary_prefix

META_KEY = "__meta__"
NESTED_KEY = "__nested__"  # the names of the inner dicts of a nested checkpoint


class CheckpointError(Exception):
    """A checkpoint file is missing, unreadable, or not one that ``save`` wrote."""


def _to_numpy(key, value):
    if isinstance(value, Tensor):
        value = value.data
    arr = backend.to_numpy(value) if backend.is_cupy_array(value) else np.asarray(value)
    if arr.dtype == object:
        raise TypeError(
            f"save: entry {key!r} is not an array of numbers or strings ({type(value).__name__})"
        )
    return arr


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")


def _write_member(zf: zipfile.ZipFile, key: str, arr: np.ndarray) -> None:
    """One array as ``key.npy`` inside the archive (what ``np.savez`` writes)."""
    with zf.open(key + ".npy", "w", force_zip64=True) as fh:
        np.lib.format.write_array(fh, arr, allow_pickle=False)


def _flatten(state: Mapping, prefix: str, arrays: dict, nested: list) -> None:
    """The arrays of ``state`` into ``arrays`` under ``prefix + key``; an inner dict's under
    ``prefix + key + '/'``, its name added to ``nested``."""
    for key, value in state.items():
        if not isinstance(key, str):
            raise TypeError(f"save: keys must be strings, got {key!r}")
        name = prefix + key
        if isinstance(value, Mapping):
            nested.append(name)
            _flatten(value, name + "/", arrays, nested)
            continue
        if name in arrays:
            raise ValueError(f"save: {name!r} is both a key and a key of an inner dict")
        arrays[name] = _to_numpy(name, value)
    inner = {key for key, value in state.items() if isinstance(value, Mapping)}
    for key in state:  # 'ema/decay' beside an inner dict 'ema' would be read back inside it
        for i, char in enumerate(key):
            if char == "/" and key[:i] in inner:
                raise ValueError(
                    f"save: key {prefix + key!r} would be read back inside the inner dict "
                    f"{prefix + key[:i]!r}; rename one"
                )
    for name in arrays:  # "x.npy" and "x" became members "x.npy.npy" and "x.npy": one key
        if name.endswith(".npy") and name[:-4] in arrays:
            raise ValueError(f"save: keys {name[:-4]!r} and {name!r} cannot both be saved in .npz")


def _unflatten(flat: dict, nested: list) -> dict:
    """The dict of dicts ``_flatten`` made: each member goes into the innermost inner dict
    listed in ``nested`` whose name and ``'/'`` begin its own (a ``/`` elsewhere is part of a
    key), under the rest of its name."""

    def outer(name):  # that inner dict's name, or None for the top level
        return max((p for p in nested if name.startswith(p + "/")), key=len, default=None)

    root: dict = {}
    containers: dict = {}

    def container(path):  # the inner dict ``path`` (and those around it), made if new
        if path is None:
            return root
        if path not in containers:
            around = outer(path)
            key = path if around is None else path[len(around) + 1 :]
            containers[path] = container(around).setdefault(key, {})
        return containers[path]

    for name, value in flat.items():
        around = outer(name)
        container(around)[name if around is None else name[len(around) + 1 :]] = value
    for path in nested:  # the empty ones too
        container(path)
    return root


def save(module_or_dict, path, meta: dict | None = None) -> None:
    """Write ``module_or_dict`` (a Module, an Optimizer, anything with ``state_dict()``, or a
    dict of arrays/tensors/scalars) and ``meta`` to the ``.npz`` file ``path``, atomically.

    The file is written exactly at ``path`` (no ``.npz`` is appended); its directory is
    created if needed.
    """
    state = module_or_dict.state_dict() if hasattr(module_or_dict, "state_dict") else module_or_dict
    if not isinstance(state, dict):
        raise TypeError(
            f"save: expected a Module or a dict of arrays, got {type(module_or_dict).__name__}"
        )
    for key in (META_KEY, NESTED_KEY):
        if key in state:
            raise ValueError(f"save: the key {key!r} is reserved (meta= takes the metadata)")
    arrays, nested = {}, []
    _flatten(state, "", arrays, nested)
    if nested:
        arrays[NESTED_KEY] = np.array(nested)
    if meta is not None:
        if not isinstance(meta, dict):
            raise TypeError(f"save: meta must be a dict, got {type(meta).__name__}")
        try:
            text = json.dumps(meta, default=_json_default)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"save: meta must be JSON-serialisable: {exc}") from None
        arrays[META_KEY] = np.array(text)

    path = os.fsdecode(path)  # str, bytes or Path
    if os.path.isdir(path):
        raise IsADirectoryError(f"save: {path} is a folder; expected a file name (model.npz)")
    directory = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=temporary_prefix(os.path.basename(path)), suffix=".tmp", dir=directory
        )
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                for key, arr in arrays.items():
                    _write_member(zf, key, arr)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it a normal file's mode
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            try:
                os.remove(tmp)
            except OSError:
                pass
        if isinstance(exc, OSError):  # named for the file asked for, not the temporary one;
            # the previous file (a full disk, say) is left as it was
            raise OSError(f"save: {path}: cannot write it ({exc.strerror or exc})") from None
        raise


def load(path, map_location=None, weights_only=None) -> dict:
    """Read a checkpoint written by ``save``: ``{key: numpy array}`` plus ``'__meta__'`` (a dict)
    when it has one. Raises ``CheckpointError`` for a missing or damaged file.

    ``map_location`` is PyTorch's, in the spellings its code uses: a device
    (``map_location='cpu'``, ``map_location=device``) puts the arrays of numbers there ('cpu'
    gives NumPy arrays, as ``None`` does; 'cuda' CuPy arrays); a dict such as
    ``{'cuda:0': 'cpu'}`` puts them on the one device its values name; a function (PyTorch's
    ``lambda storage, loc: storage``, "where they were saved") leaves them as read, NumPy, this
    file keeping no device. ``load_state_dict`` moves each value to its parameter's device
    anyway. ``weights_only`` is taken and changes nothing: a checkpoint here only ever holds
    arrays, and pickled objects are always refused.
    """
    if isinstance(map_location, Mapping):
        targets = {backend._check_name(str(v)) for v in map_location.values()}
        if len(targets) > 1:
            raise ValueError(
                f"load: map_location {map_location!r} names {len(targets)} devices; this file "
                "keeps no device per array, so give one"
            )
        map_location = targets.pop() if targets else None
    elif callable(map_location):
        map_location = None
    elif map_location is not None:
        map_location = backend._check_name(str(map_location))
    path = os.fsdecode(path)
    if not os.path.exists(path):
        raise CheckpointError(f"checkpoint {path!r}: no such file")
    if os.path.isdir(path):
        raise CheckpointError(f"checkpoint {path!r}: is a directory, not an .npz file")
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise CheckpointError(f"checkpoint {path!r}: cannot be read ({exc})") from None
    if magic[:2] != b"PK":
        what = "empty" if not magic else "not an .npz archive (it does not start like a zip file)"
        raise CheckpointError(f"checkpoint {path!r}: {what}")
    out = {}
    pytorch = False
    try:
        with np.load(path, allow_pickle=False) as npz:
            # torch.save's zip layout, told before reading members that may weigh gigabytes
            pytorch = any(k == "data.pkl" or k.endswith("/data.pkl") for k in npz.files)
            for key in [] if pytorch else npz.files:
                out[key] = npz[key]
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise CheckpointError(
                f"checkpoint {path!r}: holds pickled Python objects, which are refused "
                "(allow_pickle=False): it was not written by tinycolor.save"
            ) from None
        raise CheckpointError(f"checkpoint {path!r}: corrupt array data ({exc})") from None
    except Exception as exc:  # BadZipFile, EOFError, OSError, ...: the archive itself is damaged
        raise CheckpointError(
            f"checkpoint {path!r}: truncated or corrupt .npz archive ({type(exc).__name__}: {exc})"
        ) from None
    if pytorch:
        raise CheckpointError(
            f"checkpoint {path!r}: a PyTorch file (torch.save), not an .npz of arrays; give "
            "load_state_dict {k: v.numpy() for k, v in torch.load(path).items()}"
        )
    for key, value in out.items():
        if not isinstance(value, np.ndarray):
            raise CheckpointError(f"checkpoint {path!r}: member {key!r} is not a .npy array")
    if NESTED_KEY in out:
        nested = out.pop(NESTED_KEY)
        if nested.ndim != 1 or nested.dtype.kind != "U":
            raise CheckpointError(f"checkpoint {path!r}: its {NESTED_KEY!r} entry is not names")
        out = _unflatten(out, [str(n) for n in nested])
    if META_KEY in out:
        try:
            meta = json.loads(str(out[META_KEY][()]))
        except (ValueError, IndexError) as exc:
            raise CheckpointError(
                f"checkpoint {path!r}: its {META_KEY!r} entry is not JSON ({exc})"
            ) from None
        if not isinstance(meta, dict):
            raise CheckpointError(
                f"checkpoint {path!r}: its {META_KEY!r} entry is not a JSON object"
            )
        out[META_KEY] = meta
    if map_location is not None:
        _to_device(out, map_location)
    return out


def _to_device(state: dict, device: str) -> None:
    """Move the arrays of numbers in ``state`` and its inner dicts to ``device``, in place."""
    for key, value in state.items():
        if key == META_KEY:
            continue
        if isinstance(value, dict):
            _to_device(value, device)
        elif value.dtype.kind in "biufc":
            state[key] = backend.to_device(value, device)


__all__ = ["CheckpointError", "load", "save"]
