"""Embeddings: rows of a table looked up by index (``torch.nn.functional.embedding``)."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function, Tensor

__all__ = ["embedding"]


class Embedding(Function):
    """z = W[idx], one row of the (V, D) table W per index;
    dW[v] = the sum of g over the positions whose index is v (0 for v = padding_idx).

    The scatter adds where an index repeats (``add.at`` on NumPy, ``cupyx.scatter_add`` on
    CuPy): a word seen twice in a batch gets both gradients."""

    def forward(self, weight, idx, padding_idx=None):
        self.idx, self.padding_idx, self.shape = idx, padding_idx, weight.shape
        return weight[idx]

    def backward(self, g):
        xp = backend.array_module(g)
        gw = xp.zeros(self.shape, dtype=g.dtype)
        rows, cols = self.idx.reshape(-1), g.reshape(-1, self.shape[1])
        if xp is np:
            np.add.at(gw, rows, cols)
        else:  # CuPy
            import cupyx  # noqa: PLC0415

            cupyx.scatter_add(gw, rows, cols)
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return gw


def _padding_index(name, padding_idx, num_embeddings):
    """``padding_idx`` as a row of the table (a negative one counts from the end, as PyTorch's),
    or None."""
    if padding_idx is None:
        return None
    if (
        isinstance(padding_idx, bool)
        or not isinstance(padding_idx, int | np.integer)
        or not -num_embeddings <= padding_idx < num_embeddings
    ):
        raise ValueError(
            f"{name}: padding_idx must be an index of the {num_embeddings} embeddings "
            f"(-{num_embeddings} .. {num_embeddings - 1}), got {padding_idx!r}"
        )
    return int(padding_idx) % num_embeddings


def embedding(input, weight, padding_idx=None) -> Tensor:  # noqa: A002 - PyTorch's name
    """The rows of ``weight`` (num_embeddings, embedding_dim) that the integer ``input`` indexes,
    as ``F.embedding``: an output of shape ``input.shape + (embedding_dim,)``. The row
    ``padding_idx`` gets no gradient. Indices outside the table are refused (NumPy would wrap a
    negative one around)."""
    name = "embedding"
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(
            f"{name}: weight must be a 2-D Tensor (num_embeddings, embedding_dim), got "
            f"{getattr(weight, 'shape', type(weight).__name__)}"
        )
    idx = input.data if isinstance(input, Tensor) else input
    if isinstance(input, Tensor) and input.device != weight.device:
        raise backend.DeviceError(
            f"{name}: the indices are on {input.device} but the weight is on {weight.device}; "
            "move them with .to(device)"
        )
    idx = backend.xp_for(weight.device).asarray(idx)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integer indices (int64, tc.long), got {idx.dtype}")
    n = weight.shape[0]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise IndexError(
            f"{name}: indices must lie in 0 .. {n - 1} (the table has {n} rows), got values "
            f"from {int(idx.min())} to {int(idx.max())}"
        )
    padding_idx = _padding_index(name, padding_idx, n)
    return Embedding.apply(weight, idx=idx, padding_idx=padding_idx)
