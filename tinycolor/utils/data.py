"""``torch.utils.data`` for a training loop written as in PyTorch: datasets, splits and batches.

A PyTorch loop translates line for line::

    from tinycolor.utils.data import DataLoader, TensorDataset, random_split

    ds = TensorDataset(x, y)                      # Tensors or NumPy arrays, one row per sample
    train_ds, val_ds = random_split(ds, [0.8, 0.2])
    for epoch in range(epochs):
        for xb, yb in DataLoader(train_ds, batch_size=32, shuffle=True):
            ...

- :class:`Dataset` -- the base of a map-style dataset: ``ds[i]`` is one sample, ``len(ds)``
  their number (any object with ``__getitem__`` and ``__len__``, a list say, will do);
  ``a + b`` is a :class:`ConcatDataset`.
- :class:`TensorDataset` -- sample ``i`` is ``(t[i] for t in tensors)``.
- :class:`Subset` and :func:`random_split` -- the samples at some indices; a random partition.
- :class:`DataLoader` -- batches of samples, shuffled each epoch from tinycolor's seeded
  generator (``tinycolor.manual_seed`` makes the order reproducible) or from ``generator=``.
  :func:`default_collate` turns a list of samples into a batch, as PyTorch's does.

Differences from PyTorch: the batches are made in the main process (``num_workers=0``; the
options for worker processes, samplers and pinned memory are refused, not ignored); a
``generator`` is a ``numpy.random.Generator`` (``tinycolor.Generator().manual_seed(seed)``, as
PyTorch spells it, or ``np.random.default_rng(seed)``; the orders are not PyTorch's); Python
floats collate to float32, tinycolor's default dtype (PyTorch makes float64 of them); and
``drop_last=True`` with fewer samples than one batch is an error rather than an empty epoch.

This is not ``tinycolor.data``, the colorizers' own image pipeline (Lab crops and flips).
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from .. import backend
from ..autograd import Tensor
from ..functional.shape import stack

__all__ = [
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "Subset",
    "TensorDataset",
    "default_collate",
    "default_convert",
    "random_split",
]


class Dataset:
    """The base of a map-style dataset, as ``torch.utils.data.Dataset``: subclass it and define
    ``__getitem__(i)`` (sample ``i``, anything :func:`default_collate` can batch: Tensors,
    arrays, numbers, and tuples, lists or dicts of them) and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(
            f"{type(self).__name__}: a Dataset subclass must define __getitem__ (and __len__)"
        )

    def __len__(self) -> int:
        raise NotImplementedError(
            f"{type(self).__name__}: a Dataset subclass must define __len__ (and __getitem__)"
        )

    def __add__(self, other) -> ConcatDataset:
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Sample ``i`` is the tuple ``(t[i] for t in tensors)``, as ``torch.utils.data.TensorDataset``.

    ``tensors`` are tinycolor Tensors or NumPy/CuPy arrays (an array becomes a Tensor sharing
    its memory, on ``tinycolor.get_device()`` as ``Tensor(a)``), all with one row per sample:
    the same length along the first axis. A :class:`DataLoader` batches one by fancy-indexing
    each tensor with the batch's indices at once, not sample by sample.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor, got none")
        converted = []
        for k, t in enumerate(tensors):
            if isinstance(t, np.ndarray) or backend.is_cupy_array(t):
                t = Tensor(t)
            elif not isinstance(t, Tensor):
                raise TypeError(
                    f"TensorDataset: argument {k} is a {type(t).__name__}, expected a Tensor or "
                    "a NumPy/CuPy array (tinycolor.tensor(values) makes one from a list)"
                )
            if t.ndim == 0:
                raise ValueError(
                    f"TensorDataset: argument {k} is a 0-d tensor; each needs a first axis of "
                    "one row per sample"
                )
            converted.append(t)
        lengths = [t.shape[0] for t in converted]
        if len(set(lengths)) > 1:
            shapes = ", ".join(str(t.shape) for t in converted)
            raise ValueError(
                f"TensorDataset: the tensors' first dimensions differ, {lengths} (shapes "
                f"{shapes}); every tensor needs one row per sample"
            )
        self.tensors = tuple(converted)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __repr__(self) -> str:
        return f"TensorDataset({', '.join(str(t.shape) for t in self.tensors)})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (a sequence of ints), in that order, as
    ``torch.utils.data.Subset``: ``Subset(ds, idx)[j]`` is ``ds[idx[j]]``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {self.dataset!r})"


class ConcatDataset(Dataset):
    """The samples of several datasets one after another, as ``torch.utils.data.ConcatDataset``
    (``a + b`` for two :class:`Dataset`)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected at least one dataset, got none")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        index = index + n if index < 0 else index
        k = bisect.bisect_right(self.cumulative_sizes, index)
        return self.datasets[k][index - (self.cumulative_sizes[k - 1] if k else 0)]


def _generator(generator, who: str):
    """The numpy.random.Generator to draw from: ``generator``, or tinycolor's seeded one."""
    if generator is None:
        return backend.rng("cpu")
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"{who}: generator must be a numpy.random.Generator "
            f"(tinycolor.Generator().manual_seed(seed), or np.random.default_rng(seed)), "
            f"got {type(generator).__name__}"
        )
    return generator


def random_split(dataset, lengths, generator=None) -> list[Subset]:
    """Split ``dataset`` into disjoint random :class:`Subset` of the given ``lengths``, as
    ``torch.utils.data.random_split``: ``random_split(ds, [800, 200])`` or, with fractions that
    sum to 1, ``random_split(ds, [0.8, 0.2])`` (each gets ``floor(f * len(ds))`` samples and
    the remainder is dealt one at a time to the first ones, as PyTorch deals it).

    The order is drawn from tinycolor's seeded generator (``tinycolor.manual_seed``), or from
    ``generator``, a ``numpy.random.Generator``.
    """
    n = len(dataset)
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: expected at least one length, got none")
    total = math.fsum(lengths)
    if math.isclose(total, 1) and total <= 1:
        for i, f in enumerate(lengths):
            if not 0 <= f <= 1:
                raise ValueError(f"random_split: fraction {i} is {f}, not between 0 and 1")
        sizes = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(
                    f"random_split: split {i} is empty (a fraction {lengths[i]} of {n} samples)",
                    stacklevel=2,
                )
    else:
        bad = [x for x in lengths if isinstance(x, bool) or not isinstance(x, int | np.integer)]
        if bad:
            raise ValueError(
                f"random_split: lengths must be ints summing to len(dataset) = {n}, or fractions "
                f"summing to 1; got {lengths} (summing to {total:g})"
            )
        if any(x < 0 for x in lengths):
            raise ValueError(f"random_split: lengths must be >= 0, got {lengths}")
        if total != n:
            raise ValueError(
                f"random_split: the lengths {lengths} sum to {int(total)}, but the dataset has "
                f"{n} samples; give lengths that sum to {n}, or fractions that sum to 1"
            )
        sizes = [int(x) for x in lengths]
    order = _generator(generator, "random_split").permutation(n).tolist()
    bounds = np.cumsum([0] + sizes).tolist()
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


# --------------------------------------------------------------------------- collation

_COLLATE_TYPES = "tensors, numpy arrays, numbers, dicts or lists"


def _is_numeric_array(x) -> bool:
    return (isinstance(x, np.ndarray | np.generic) or backend.is_cupy_array(x)) and (
        x.dtype.kind in "biufc"
    )


def _check_same_shapes(batch) -> None:
    first = tuple(batch[0].shape)
    for k, x in enumerate(batch):
        if tuple(x.shape) != first:
            raise ValueError(
                f"default_collate: samples of different shapes cannot be stacked into a batch: "
                f"{first} (sample 0) and {tuple(x.shape)} (sample {k}); make the samples one "
                "size, or pass a collate_fn"
            )


def default_collate(batch):
    """A list of samples as one batch, as ``torch.utils.data.default_collate``.

    Tensors are stacked along a new first axis (on their device, in the graph if they require
    grad); NumPy or CuPy arrays and NumPy numbers are stacked into a Tensor of their dtype;
    Python ints become an int64 Tensor, bools a bool one, floats a float32 one; strings stay a
    list. Tuples and lists of samples give a list (PyTorch's choice) of batches, position by
    position; dicts a dict of batches, key by key; a namedtuple the same namedtuple.
    """
    batch = list(batch)
    if not batch:
        raise ValueError("default_collate: the batch is empty")
    elem = batch[0]
    if isinstance(elem, Tensor):
        _check_same_shapes(batch)
        return stack(batch)
    if _is_numeric_array(elem):
        _check_same_shapes(batch)
        return Tensor(backend.array_module(elem).stack(batch))
    if isinstance(elem, bool):
        return Tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=backend.default_dtype))
    if isinstance(elem, str | bytes):
        return list(batch)
    if isinstance(elem, Mapping):
        for k, sample in enumerate(batch):
            missing = [key for key in elem if key not in sample]
            if missing:
                raise KeyError(
                    f"default_collate: sample {k} lacks the key {missing[0]!r} that sample 0 has"
                )
        out = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(out)
        except TypeError:  # a Mapping that cannot be made from a dict
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(list(items)) for items in zip(*batch)))
    if isinstance(elem, Sequence):
        for k, sample in enumerate(batch):
            if len(sample) != len(elem):
                raise ValueError(
                    f"default_collate: samples of different lengths cannot be batched position "
                    f"by position: sample 0 has {len(elem)} items and sample {k} {len(sample)}"
                )
        return [default_collate(list(items)) for items in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain {_COLLATE_TYPES}; found {type(elem)}")


def default_convert(data):
    """One sample, unbatched, with its NumPy/CuPy arrays and NumPy numbers made Tensors, as
    ``torch.utils.data.default_convert`` (what ``DataLoader(batch_size=None)`` yields): tuples
    and lists become lists, dicts dicts, everything else stays as it is."""
    if isinstance(data, Tensor):
        return data
    if _is_numeric_array(data):
        return Tensor(data)
    if isinstance(data, str | bytes):
        return data
    if isinstance(data, Mapping):
        out = {key: default_convert(value) for key, value in data.items()}
        try:
            return type(data)(out)
        except TypeError:
            return out
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, Sequence):
        return [default_convert(d) for d in data]
    return data


# --------------------------------------------------------------------------- the loader

# PyTorch's options for worker processes, samplers and pinned memory, with the value that
# means "not used": anything else is refused, as it would change what the loop gets
_UNSUPPORTED = {
    "sampler": (None, "the batches' order is shuffle=True or the dataset's own"),
    "batch_sampler": (None, "batches are batch_size consecutive samples of the order"),
    "pin_memory": (False, "move a batch to the GPU with .to('cuda')"),
    "timeout": (0, "there are no worker processes to wait for"),
    "worker_init_fn": (None, "there are no worker processes"),
    "multiprocessing_context": (None, "there are no worker processes"),
    "prefetch_factor": (None, "there are no worker processes"),
    "persistent_workers": (False, "there are no worker processes"),
    "pin_memory_device": ("", "move a batch to the GPU with .to('cuda')"),
    "in_order": (True, "batches always come in order"),
}


def _tensor_rows(dataset):
    """``(tensors, index)`` when ``dataset`` is a TensorDataset, or Subsets of one, whose
    batches can be taken by fancy-indexing each tensor at once: ``index`` maps the dataset's
    sample numbers to the tensors' rows (None: the identity). None for any other dataset."""
    index = None
    while isinstance(dataset, Subset) and type(dataset).__getitem__ is Subset.__getitem__:
        indices = dataset.indices
        if isinstance(indices, Tensor):
            if indices.device != "cpu":
                return None
            indices = indices.data
        try:
            rows = np.asarray(indices)
        except (TypeError, ValueError):
            return None
        if rows.ndim != 1 or (rows.size and rows.dtype.kind not in "iu"):
            return None
        rows = rows.astype(np.int64)
        index = rows if index is None else rows[index]
        dataset = dataset.dataset
    if isinstance(dataset, TensorDataset) and (
        type(dataset).__getitem__ is TensorDataset.__getitem__
    ):
        return dataset.tensors, index
    return None


class DataLoader:
    """Batches of a dataset's samples, as ``torch.utils.data.DataLoader`` (in the main process).

    ``for xb, yb in DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)``: each pass
    is one epoch. ``shuffle=True`` draws a new order for every epoch when its pass starts, from
    tinycolor's seeded generator (after ``tinycolor.manual_seed(s)`` the same orders come
    again) or from ``generator``, a ``numpy.random.Generator``; without it the samples come in
    order. Each batch is ``collate_fn`` (by default :func:`default_collate`) of ``batch_size``
    samples, the last one smaller unless ``drop_last``; ``batch_size=None`` gives the samples
    one by one (through :func:`default_convert`). ``len(loader)`` is the number of batches.

    A :class:`TensorDataset` (or a :class:`Subset` of one, as :func:`random_split` makes) with
    the default ``collate_fn`` is batched by indexing each of its tensors with all the batch's
    rows at once: the same batches, without a Python loop over the samples.

    ``num_workers=0`` and ``pin_memory=False`` are accepted; PyTorch's other options (worker
    processes, samplers, pinned memory) are refused, each in one line that says so.
    """

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = False,
        sampler=None,
        batch_sampler=None,
        num_workers: int = 0,
        collate_fn=None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ):
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(
                f"DataLoader: the dataset must be map-style, with __getitem__ and __len__ (a "
                f"Dataset, a TensorDataset, a list); got a {type(dataset).__name__} "
                "(iterable-style datasets are not supported here)"
            )
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an int >= 0, got {num_workers!r}")
        if num_workers > 0:
            raise ValueError(
                f"DataLoader: num_workers={num_workers} is not supported here: tinycolor makes "
                "every batch in the main process; use num_workers=0"
            )
        given = dict(
            sampler=sampler,
            batch_sampler=batch_sampler,
            pin_memory=pin_memory,
            timeout=timeout,
            worker_init_fn=worker_init_fn,
            multiprocessing_context=multiprocessing_context,
            prefetch_factor=prefetch_factor,
            persistent_workers=persistent_workers,
            pin_memory_device=pin_memory_device,
            in_order=in_order,
        )
        for name, (unused, hint) in _UNSUPPORTED.items():
            value = given[name]
            if not (value is None if unused is None else value == unused):
                raise ValueError(f"DataLoader: {name}={value!r} is not supported here ({hint})")
        if batch_size is not None and (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, int | np.integer)
            or batch_size < 1
        ):
            raise ValueError(
                f"DataLoader: batch_size must be a positive int or None, got {batch_size!r}"
            )
        if batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None (samples one by one) and drop_last=True exclude "
                "each other"
            )
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {collate_fn!r}")
        _generator(generator, "DataLoader")
        n = len(dataset)
        if shuffle and n == 0:
            raise ValueError("DataLoader: shuffle=True over an empty dataset (len 0)")
        if drop_last and batch_size is not None and 0 < n < batch_size:
            raise ValueError(
                f"DataLoader: drop_last=True with batch_size {batch_size} but only {n} samples: "
                "every batch would be dropped"
            )
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.generator = generator
        self.num_workers = 0
        self.pin_memory = False

    def __len__(self) -> int:
        n, b = len(self.dataset), self.batch_size
        if b is None:
            return n
        return n // b if self.drop_last else -(-n // b)

    def _order(self, n: int) -> np.ndarray:
        if self.shuffle:
            return _generator(self.generator, "DataLoader").permutation(n)
        return np.arange(n)

    def __iter__(self):
        order = self._order(len(self.dataset))
        if self.batch_size is None:
            convert = self.collate_fn or default_convert
            for i in order.tolist():
                yield convert(self.dataset[i])
            return
        b, batches = self.batch_size, len(self)
        rows = _tensor_rows(self.dataset) if self.collate_fn in (None, default_collate) else None
        if rows is None:
            collate = self.collate_fn or default_collate
            order = order.tolist()  # Python ints, as PyTorch's samplers give
            for k in range(batches):
                yield collate([self.dataset[i] for i in order[k * b : (k + 1) * b]])
            return
        tensors, index = rows
        take = order if index is None else index[order]
        on = {"cpu": take}  # the epoch's rows, copied once to each device that needs them
        for t in tensors:
            if t.device not in on:
                on[t.device] = backend.to_device(take, t.device)
        for k in range(batches):
            yield [t[on[t.device][k * b : (k + 1) * b]] for t in tensors]

    def __repr__(self) -> str:
        return (
            f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )
