"""The ops: each a ``Function`` with a hand-derived backward, plus the function that applies it.

Names and argument orders follow ``torch.nn.functional`` and ``torch`` where an equivalent
exists; images are NCHW. An axis is ``axis=`` (and ``keepdims=``), as in NumPy, or ``dim=``
(and ``keepdim=``), as in PyTorch: ``softmax(x, dim=1)``, ``cat(ts, dim=1)``, ``sum(x, dim=0,
keepdim=True)``. ``max`` is ``torch.amax`` (the values; ``Tensor.argmax`` gives the indices).
"""

import sys

from .conv import *  # noqa: F403
from .dropout import *  # noqa: F403
from .elementwise import (
    abs,
    add,
    clamp,
    clip,
    div,
    exp,
    gelu,
    leaky_relu,
    log,
    log_softmax,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    relu,
    sigmoid,
    silu,
    softmax,
    sqrt,
    sub,
    tanh,
    where,
)
from .linalg import linear, matmul
from .loss import *  # noqa: F403
from .norm import *  # noqa: F403
from .pool import *  # noqa: F403
from .reduce import cumsum, max, mean, norm, prod, sum, var
from .shape import (
    cat,
    chunk,
    clone,
    concat,
    expand,
    flatten,
    flip,
    getitem,
    masked_fill,
    pad,
    permute,
    pixel_shuffle,
    pixel_unshuffle,
    repeat,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)
from .sparse import *  # noqa: F403

_STAR = ("conv", "dropout", "loss", "norm", "pool", "sparse")

__all__ = [  # the names above, star-imported ones included
    "abs",
    "add",
    "clamp",
    "clip",
    "clone",
    "div",
    "exp",
    "gelu",
    "leaky_relu",
    "log",
    "log_softmax",
    "maximum",
    "minimum",
    "mul",
    "neg",
    "pow",
    "relu",
    "sigmoid",
    "silu",
    "softmax",
    "sqrt",
    "sub",
    "tanh",
    "where",
    "linear",
    "matmul",
    "cumsum",
    "max",
    "mean",
    "norm",
    "prod",
    "sum",
    "var",
    "cat",
    "chunk",
    "concat",
    "expand",
    "flatten",
    "flip",
    "getitem",
    "masked_fill",
    "pad",
    "permute",
    "pixel_shuffle",
    "pixel_unshuffle",
    "repeat",
    "reshape",
    "split",
    "squeeze",
    "stack",
    "transpose",
    "unsqueeze",
    # the star-imported families (sys.modules: `dropout` is also a function name here)
    *(n for m in _STAR for n in sys.modules[f"{__name__}.{m}"].__all__),
]
