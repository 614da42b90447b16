"""The ops: each a ``Function`` with a hand-derived backward, plus the function that applies it.

Names and argument orders follow ``torch.nn.functional`` and ``torch`` where an equivalent
exists; images are NCHW.
"""

from .conv import *  # noqa: F403
from .dropout import *  # noqa: F403
from .elementwise import (
    abs,
    add,
    clamp,
    clip,
    div,
    exp,
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
from .reduce import max, mean, sum, var
from .shape import cat, concat, flatten, getitem, pad, permute, reshape, stack, transpose

__all__ = [  # the names above that are not star-imported
    "abs", "add", "clamp", "clip", "div", "exp", "leaky_relu", "log", "log_softmax", "maximum",
    "minimum", "mul", "neg", "pow", "relu", "sigmoid", "softmax", "sqrt", "sub", "tanh", "where",
    "linear", "matmul", "max", "mean", "sum", "var", "cat", "concat", "flatten", "getitem", "pad",
    "permute", "reshape", "stack", "transpose",
]
