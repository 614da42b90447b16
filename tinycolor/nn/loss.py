"""The losses as modules, as PyTorch writes them: ``criterion = nn.CrossEntropyLoss()`` once,
then ``loss = criterion(logits, target)`` each step.

Each is its ``tinycolor.functional`` loss with the options fixed at construction; ``reduction``
is a keyword ('mean', 'sum' or 'none'), as PyTorch's positional slots before it are deprecated
ones. A class or element ``weight`` is a buffer: it moves with ``.to(device)``, and is saved.
"""

from __future__ import annotations

from .. import functional as F
from ..functional.loss import (
    _check_ignore_index,
    _check_kl_reduction,
    _check_label_smoothing,
    _check_positive,
    _check_reduction,
)
from .module import Module

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CosineSimilarity",
    "CrossEntropyLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "MSELoss",
    "MarginRankingLoss",
    "NLLLoss",
    "PairwiseDistance",
    "PoissonNLLLoss",
    "SmoothL1Loss",
    "SoftMarginLoss",
]


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


class SmoothL1Loss(_Loss):
    """d^2 / (2 beta) where |d| < beta, else |d| - beta / 2, d = input - target, reduced
    (``F.smooth_l1_loss``)."""

    def __init__(self, *, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = _check_positive("SmoothL1Loss", "beta", beta, allow_zero=True)

    def forward(self, input, target):  # noqa: A002
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)

    def extra_repr(self):
        return super().extra_repr() + (f", beta={self.beta}" if self.beta != 1 else "")


class HuberLoss(_Loss):
    """d^2 / 2 where |d| < delta, else delta (|d| - delta / 2), d = input - target, reduced
    (``F.huber_loss``)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = _check_positive("HuberLoss", "delta", delta, allow_zero=False)

    def forward(self, input, target):  # noqa: A002
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)

    def extra_repr(self):
        return super().extra_repr() + (f", delta={self.delta}" if self.delta != 1 else "")


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, Q) or (N, Q, H, W) against class indices or
    probabilities (``F.cross_entropy``); ``weight`` (Q,) rescales each class, a class index
    equal to ``ignore_index`` counts for nothing, and ``label_smoothing`` e in [0, 1] mixes the
    target with the uniform distribution, (1 - e) target + e / Q."""

    def __init__(
        self,
        weight=None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.ignore_index = _check_ignore_index(type(self).__name__, ignore_index)
        self.label_smoothing = _check_label_smoothing(type(self).__name__, label_smoothing)

    def forward(self, input, target):  # noqa: A002
        return F.cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )

    def extra_repr(self):
        out = super().extra_repr()
        if self.ignore_index != -100:
            out += f", ignore_index={self.ignore_index}"
        if self.label_smoothing:
            out += f", label_smoothing={self.label_smoothing}"
        return out


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (N, Q) or (N, Q, H, W), such as
    ``nn.LogSoftmax(dim=1)``'s, against class indices (``F.nll_loss``); ``weight`` (Q,)
    rescales each class and a class index equal to ``ignore_index`` counts for nothing."""

    def __init__(self, weight=None, *, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.ignore_index = _check_ignore_index(type(self).__name__, ignore_index)

    def forward(self, input, target):  # noqa: A002
        return F.nll_loss(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )

    def extra_repr(self):
        out = super().extra_repr()
        return out if self.ignore_index == -100 else f"{out}, ignore_index={self.ignore_index}"


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1], a sigmoid's output
    (``F.binary_cross_entropy``); ``weight`` rescales each element, broadcast against the
    input. ``BCEWithLogitsLoss`` on logits is the stable one."""

    def __init__(self, weight=None, *, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


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


class KLDivLoss(Module):
    """Kullback-Leibler divergence from log-probabilities (a ``LogSoftmax``'s output) to a
    target distribution (``F.kl_div``); ``reduction='batchmean'`` is the divergence averaged
    over the batch, the default 'mean' divides by every element and warns, as PyTorch's;
    ``log_target=True`` for a target of log-probabilities."""

    def __init__(self, *, reduction: str = "mean", log_target: bool = False):
        super().__init__()
        _check_kl_reduction("KLDivLoss", reduction)
        self.reduction, self.log_target = reduction, bool(log_target)

    def forward(self, input, target):  # noqa: A002
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

    def extra_repr(self):
        return f"reduction={self.reduction!r}" + (", log_target=True" if self.log_target else "")


class MarginRankingLoss(_Loss):
    """max(0, -target (input1 - input2) + margin), reduced (``F.margin_ranking_loss``); target
    1 where input1 should rank higher, -1 where input2 should."""

    def __init__(self, margin: float = 0.0, *, reduction: str = "mean"):
        super().__init__(reduction)
        self.margin = float(margin)

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)

    def extra_repr(self):
        return super().extra_repr() + (f", margin={self.margin}" if self.margin else "")


class SoftMarginLoss(_Loss):
    """log(1 + e^(-target input)), target 1 or -1, reduced (``F.soft_margin_loss``)."""

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction)

    def forward(self, input, target):  # noqa: A002
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood of counts (``F.poisson_nll_loss``): exp(input) - target
    input for a log rate (``log_input=True``), else input - target log(input + eps); ``full``
    adds Stirling's approximation of log(target!)."""

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        *,
        eps: float = 1e-8,
        reduction: str = "mean",
    ):
        super().__init__(reduction)
        self.log_input, self.full = bool(log_input), bool(full)
        self.eps = _check_positive("PoissonNLLLoss", "eps", eps, allow_zero=True)

    def forward(self, input, target):  # noqa: A002
        return F.poisson_nll_loss(
            input, target, self.log_input, self.full, eps=self.eps, reduction=self.reduction
        )

    def extra_repr(self):
        out = super().extra_repr()
        if not self.log_input:
            out += ", log_input=False"
        return out + (", full=True" if self.full else "")


class CosineSimilarity(Module):
    """x1.x2 / (max(||x1||, eps) max(||x2||, eps)) along ``dim`` (``F.cosine_similarity``)."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """||x1 - x2 + eps||_p along the last axis (``F.pairwise_distance``)."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim  # PyTorch's attribute names

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
