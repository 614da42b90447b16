"""An on-disk cache of prepared arrays (the Lab images of a folder), so a second run starts fast.

Each source file gets its own entry, keyed by a SHA-256 of its absolute path, size,
modification and change times (nanoseconds) and inode, and of the preparation parameters
(short side, dtype, the cache format version). Touching or replacing a file, or changing a
parameter, changes the key, so a stale entry is never read; it is simply left behind (delete
the folder to reclaim space).

An entry is either an array (``<key>.npy``, loadable memory-mapped) or a small JSON note
(``<key>.json``) recording why the file gave no array (gray, unreadable), so a second run does
not decode those files again either. Files are written to a temporary name in the same folder
and renamed into place (``os.replace``), so a crash or a concurrent run never leaves a
half-written entry under a valid name; an entry damaged all the same (a power cut before the
disk caught up) reads as a miss and is written again.

The cache lives in ``$TINYCOLOR_CACHE`` if set, else ``~/.cache/tinycolor``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

__all__ = ["ArrayCache", "cache_dir", "file_key"]

#: Bump when the way entries are prepared changes, so old entries stop matching.
CACHE_VERSION = 8  # 2: CMYK, EXIF orientation; 3: 0..255 floats refused; 4: is_gray at 2 levels;
# 5: NaN or infinite floats refused; 6: images too thin to resize skipped; 7: 32-bit and signed
# integer files scaled as imageio scales them; 8: signed 8- and 16-bit files scaled by 127 and
# 32767, and refused with negative values


def cache_dir() -> Path:
    """The cache root: ``$TINYCOLOR_CACHE`` if set, else ``~/.cache/tinycolor``."""
    env = os.environ.get("TINYCOLOR_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "tinycolor"


def file_key(path, params: dict | None = None) -> str:
    """Hex SHA-256 of a file's absolute path, size, mtime and ctime (ns), inode and the
    preparation ``params``. The ctime and inode catch a file replaced by one of the same size
    with its old mtime kept (``cp -p``, ``rsync -a``, tar), which no tool can set back."""
    p = Path(path).resolve()
    st = p.stat()
    record = {
        "path": str(p),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "ctime_ns": st.st_ctime_ns,
        "inode": st.st_ino,
        "params": params or {},
        "version": CACHE_VERSION,
    }
    blob = json.dumps(record, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def _atomic_write(target: Path, write) -> None:
    """Call ``write(fileobj)`` on a temporary file next to ``target``, then rename it in place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class ArrayCache:
    """Entries under ``root/<namespace>/<key[:2]>/``: arrays as ``.npy``, notes as ``.json``."""

    def __init__(self, root=None, namespace: str = "images"):
        self.root = (Path(root).expanduser() if root is not None else cache_dir()) / namespace
        self.writable = True  # until a write fails: then the data is prepared without it

    def _write(self, target: Path, write) -> None:
        """Write an entry; a cache that cannot be written (a file in the way of its folder, no
        permission, a full disk) is a warning, once, not an error about the data."""
        if not self.writable:
            return
        try:
            _atomic_write(target, write)
        except OSError as exc:
            self.writable = False
            warnings.warn(
                f"the dataset cache {self.root} cannot be written ({exc.strerror or exc}); "
                "going on without it (set TINYCOLOR_CACHE to a folder you can write to)",
                stacklevel=3,
            )

    def _path(self, key: str, suffix: str) -> Path:
        return self.root / key[:2] / f"{key}{suffix}"

    def load_array(self, key: str, mmap: bool = False) -> np.ndarray | None:
        """The array stored under ``key``, or None if there is none (or it cannot be read)."""
        path = self._path(key, ".npy")
        if not path.is_file():
            return None
        try:
            return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
        except (OSError, ValueError, EOFError):  # damaged (an empty file: EOFError): a miss,
            return None  # and the entry is written again

    def save_array(self, key: str, array: np.ndarray) -> None:
        self._write(self._path(key, ".npy"), lambda f: np.save(f, np.ascontiguousarray(array)))

    def load_note(self, key: str) -> dict | None:
        """The JSON note stored under ``key``, or None."""
        path = self._path(key, ".json")
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def save_note(self, key: str, note: dict) -> None:
        data = json.dumps(note, sort_keys=True).encode()
        self._write(self._path(key, ".json"), lambda f: f.write(data))

    def __repr__(self) -> str:
        return f"ArrayCache({str(self.root)!r})"
