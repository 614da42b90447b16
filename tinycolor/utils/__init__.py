"""Utilities spelled as PyTorch's ``torch.utils``: ``tinycolor.utils.data``, the datasets and the
``DataLoader`` of a training loop written as in PyTorch."""

from . import data

__all__ = ["data"]
