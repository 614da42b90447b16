"""``tinycolor.cuda``: PyTorch's ``torch.cuda.is_available()`` and ``device_count()`` over the
backend's check. Nothing here imports CuPy unless it is asked: ``is_available()`` tries to, and
says False (never raises) where CuPy or a GPU is missing.

A device is a string here, ``'cpu'`` or ``'cuda'`` (PyTorch's ``'cuda:0'`` too): so
``device = 'cuda' if tc.cuda.is_available() else 'cpu'`` then ``x.to(device)`` and
``model.to(device)`` read as they do in PyTorch."""

from . import backend


def is_available() -> bool:
    """True when CuPy imports and sees a GPU, as ``torch.cuda.is_available()``."""
    return backend.cuda_available()


def device_count() -> int:
    """1 when a GPU is usable (tinycolor uses one, CuPy's current one), else 0."""
    return int(backend.cuda_available())


__all__ = ["device_count", "is_available"]
