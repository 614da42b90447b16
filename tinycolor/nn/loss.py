"""The losses as modules, as PyTorch writes them: ``criterion = nn.CrossEntropyLoss()`` once,
then ``loss = criterion(logits, target)`` each step.

Each is its ``tinycolor.functional`` loss with the options fixed at construction; ``reduction``
is a keyword ('mean', 'sum' or 'none'), as PyTorch's positional slots before it are deprecated
ones. A class or element ``weight`` is a buffer: it moves with ``.to(device)``, and is saved.
"""

from __future__ import annotations

from .. import functional as F
from ..functional.loss import _check_reduction
from .module import Module

__all__ = ["BCEWithLogitsLoss", "CrossEntropyLoss", "L1Loss", "MSELoss"]


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        _check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """mean((input - target)^2), or its sum, or each term (``F.mse_loss``)."""

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction)

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """mean(|input - target|), or its sum, or each term (``F.l1_loss``)."""

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction)

    def forward(self, input, target):  # noqa: A002
        return F.l1_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, Q) or (N, Q, H, W) against class indices or
    probabilities (``F.cross_entropy``); ``weight`` (Q,) rescales each class."""

    def __init__(self, weight=None, *, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)

    def forward(self, input, target):  # noqa: A002
        return F.cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross-entropy in one stable step
    (``F.binary_cross_entropy_with_logits``); ``weight`` rescales each element and
    ``pos_weight`` the positive term, both broadcast against the input."""

    def __init__(self, weight=None, *, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )
