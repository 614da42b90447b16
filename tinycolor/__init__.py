"""tinycolor: a from-scratch NumPy/CuPy neural-network library for teaching, and the image
colorizers of the literature built on it."""

import numpy as _np

from . import backend, cuda, functional, nn, optim
from .autograd import (
    Function,
    Tensor,
    arange,
    empty,
    empty_like,
    enable_grad,
    eye,
    from_numpy,
    full,
    full_like,
    inference_mode,
    is_grad_enabled,
    linspace,
    no_grad,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .backend import (
    DeviceError,
    cuda_available,
    get_device,
    get_rng_state,
    manual_seed,
    set_device,
    set_rng_state,
)
from .checkpoint import load, save
from .functional import (
    abs,
    add,
    cat,
    chunk,
    clamp,
    clip,
    div,
    exp,
    flatten,
    flip,
    layer_norm,
    log,
    log_softmax,
    masked_fill,
    matmul,
    maximum,
    mean,
    minimum,
    mul,
    norm,
    permute,
    pow,
    relu,
    reshape,
    sigmoid,
    softmax,
    split,
    sqrt,
    squeeze,
    stack,
    sub,
    sum,
    tanh,
    transpose,
    unsqueeze,
    where,
)
from .functional.reduce import torch_max as max  # noqa: A004 - torch.max, pairs included
from .functional.reduce import torch_min as min  # noqa: A004
from .gradcheck import GradcheckError, gradcheck
from .graph import graph

# The dtypes, spelled as ``torch.float32`` is: NumPy's types (what every ``dtype=`` here takes,
# and what ``t.dtype`` compares equal to: ``t.dtype == tc.float32``).
float32 = _np.float32
float64 = _np.float64
int64 = _np.int64
int32 = _np.int32
uint8 = _np.uint8
float16 = _np.float16
# and PyTorch's other names for them: dtype=torch.long for class indices, torch.float, ...
float = float32  # noqa: A001
double = float64
long = int64
int = int32  # noqa: A001
half = float16
bool = _np.bool_  # noqa: A001

__version__ = "0.1.0"

__all__ = [
    "DeviceError",
    "Function",
    "GradcheckError",
    "Tensor",
    "backend",
    "cuda",
    "cuda_available",
    "enable_grad",
    "functional",
    "get_device",
    "get_rng_state",
    "gradcheck",
    "inference_mode",
    "is_grad_enabled",
    "manual_seed",
    "no_grad",
    "ones",
    "randn",
    "set_device",
    "set_rng_state",
    "tensor",
    "zeros",
    # the other creation functions, as PyTorch's
    "arange",
    "empty",
    "empty_like",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "linspace",
    "ones_like",
    "rand",
    "randint",
    "randn_like",
    "randperm",
    "zeros_like",
    "nn",
    "optim",
    "save",
    "load",
    "graph",
    # the ops a learner writes as torch.cat(...), torch.exp(...): the functional ones
    "abs",
    "add",
    "cat",
    "chunk",
    "clamp",
    "clip",
    "div",
    "exp",
    "flatten",
    "flip",
    "layer_norm",
    "log",
    "log_softmax",
    "masked_fill",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mul",
    "norm",
    "permute",
    "pow",
    "relu",
    "reshape",
    "sigmoid",
    "softmax",
    "split",
    "sqrt",
    "squeeze",
    "stack",
    "sub",
    "sum",
    "tanh",
    "transpose",
    "unsqueeze",
    "where",
    "float32",
    "float64",
    "int64",
    "int32",
    "uint8",
    "float16",
    "float",
    "double",
    "long",
    "int",
    "half",
    "bool",
]
