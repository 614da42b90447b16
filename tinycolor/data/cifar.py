"""CIFAR-10 from its binary distribution (``cifar-10-binary.tar.gz``), never the pickled batches.

Each file (``data_batch_1.bin`` ... ``data_batch_5.bin``, ``test_batch.bin``) is a sequence of
3073-byte records: one label byte (0-9), then 3072 pixel bytes: the 32x32 red plane, then
green, then blue, each row-major. ``batches.meta.txt`` holds the class names, one per line.

Reading never unpickles anything (pickles can run code); the records are reshaped in one
``np.frombuffer``/``reshape``/``transpose``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .folder import ArrayDataset

__all__ = [
    "CIFAR10",
    "CIFAR10_CLASSES",
    "RECORD_BYTES",
    "find_cifar10_dir",
    "load_cifar10",
    "read_cifar10_binary",
    "write_cifar10_binary",
]

CIFAR10_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]
RECORD_BYTES = 1 + 3 * 32 * 32
TRAIN_FILES = tuple(f"data_batch_{k}.bin" for k in range(1, 6))
TEST_FILES = ("test_batch.bin",)


def _parse(raw: bytes, source: str) -> tuple[np.ndarray, np.ndarray]:
    if len(raw) == 0 or len(raw) % RECORD_BYTES:
        raise ValueError(
            f"CIFAR-10: '{source}' holds {len(raw)} bytes, not a positive multiple of "
            f"{RECORD_BYTES} (1 label byte + 3072 pixel bytes per image): is it the binary "
            "version (cifar-10-binary.tar.gz), complete and unmodified?"
        )
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise ValueError(
            f"CIFAR-10: '{source}' has label {int(labels.max())} (expected 0..9): not a "
            "CIFAR-10 binary batch (CIFAR-100's binary files have 2 label bytes)"
        )
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def read_cifar10_binary(path, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """One binary batch as (images (N, 32, 32, 3), labels (N,) int64).

    Images are float32 in [0, 1] by default, or uint8 0..255 with ``dtype=np.uint8``. Raises
    ValueError naming the file when its size is not a multiple of 3073 bytes.
    """
    path = Path(path)
    images, labels = _parse(path.read_bytes(), str(path))
    if np.dtype(dtype) == np.uint8:
        return images, labels
    return (images.astype(np.float32) / 255.0).astype(dtype, copy=False), labels


def write_cifar10_binary(path, images, labels) -> None:
    """Write uint8 images (N, 32, 32, 3) and labels (N,) in the binary batch format."""
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.dtype != np.uint8 or images.shape[1:] != (32, 32, 3):
        raise ValueError(
            f"write_cifar10_binary: expected uint8 images (N, 32, 32, 3), got {images.dtype} "
            f"{images.shape}"
        )
    if labels.shape != (images.shape[0],) or labels.min(initial=0) < 0 or labels.max(initial=0) > 9:
        raise ValueError("write_cifar10_binary: expected one label in 0..9 per image")
    records = np.empty((images.shape[0], RECORD_BYTES), dtype=np.uint8)
    records[:, 0] = labels
    records[:, 1:] = images.transpose(0, 3, 1, 2).reshape(images.shape[0], -1)
    Path(path).write_bytes(records.tobytes())


def find_cifar10_dir(root) -> Path | None:
    """The folder holding the ``.bin`` batches: ``root`` itself or ``root/cifar-10-batches-bin``."""
    root = Path(root).expanduser()
    for cand in (root, root / "cifar-10-batches-bin"):
        if cand.is_dir() and any((cand / f).is_file() for f in TRAIN_FILES + TEST_FILES):
            return cand
    return None


def _class_names(folder: Path) -> list[str]:
    meta = folder / "batches.meta.txt"
    if meta.is_file():
        names = [line.strip() for line in meta.read_text().splitlines() if line.strip()]
        if len(names) >= 10:
            return names[:10]
    return list(CIFAR10_CLASSES)


def load_cifar10(root, train: bool = True, dtype=np.float32):
    """All training (``data_batch_*.bin``) or test (``test_batch.bin``) images of a folder.

    Returns (images (N, 32, 32, 3) of ``dtype``, labels (N,) int64, class_names). The class
    names come from ``batches.meta.txt`` when present, else the standard ten.
    """
    folder = find_cifar10_dir(root)
    if folder is None:
        raise FileNotFoundError(
            f"CIFAR-10: no data_batch_*.bin or test_batch.bin in '{root}' (or its "
            "cifar-10-batches-bin/): download the binary version, see datasets/README.md"
        )
    wanted = sorted(folder.glob("data_batch_*.bin")) if train else [folder / TEST_FILES[0]]
    wanted = [f for f in wanted if f.is_file()]
    if not wanted:
        split = "training (data_batch_*.bin)" if train else "test (test_batch.bin)"
        raise FileNotFoundError(f"CIFAR-10: no {split} batch in '{folder}'")
    parts = [read_cifar10_binary(f, dtype=np.uint8) for f in wanted]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    if np.dtype(dtype) != np.uint8:
        images = (images.astype(np.float32) / 255.0).astype(dtype, copy=False)
    return images, labels, _class_names(folder)


class CIFAR10(ArrayDataset):
    """CIFAR-10 (binary batches) as a labelled dataset; images stay uint8 until accessed."""

    def __init__(self, root, train: bool = True, size=None):
        images, labels, names = load_cifar10(root, train=train, dtype=np.uint8)
        super().__init__(
            images,
            labels=labels,
            class_names=names,
            names=[f"{'train' if train else 'test'}_{i:05d}" for i in range(len(labels))],
            size=size,
        )
        self.root = Path(root)
        self.train = train
