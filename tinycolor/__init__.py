"""tinycolor: a from-scratch NumPy/CuPy neural-network library for teaching, and the image
colorizers of the literature built on it."""

import numpy as _np

from . import backend, functional, nn, optim
from .autograd import (
    Function,
    Tensor,
    enable_grad,
    is_grad_enabled,
    no_grad,
    ones,
    randn,
    tensor,
    zeros,
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
from .functional import cat, exp, flatten, log, matmul, relu, sigmoid, stack, tanh, where
from .gradcheck import GradcheckError, gradcheck
from .graph import graph

# The dtypes, spelled as ``torch.float32`` is: NumPy's types (what every ``dtype=`` here takes,
# and what ``t.dtype`` compares equal to: ``t.dtype == tc.float32``).
float32 = _np.float32
float64 = _np.float64
int64 = _np.int64

__version__ = "0.1.0"

__all__ = [
    "DeviceError",
    "Function",
    "GradcheckError",
    "Tensor",
    "backend",
    "cuda_available",
    "enable_grad",
    "functional",
    "get_device",
    "get_rng_state",
    "gradcheck",
    "is_grad_enabled",
    "manual_seed",
    "no_grad",
    "ones",
    "randn",
    "set_device",
    "set_rng_state",
    "tensor",
    "zeros",
    "nn",
    "optim",
    "save",
    "load",
    "graph",
    # the ops a learner writes as torch.cat(...), torch.exp(...): the functional ones
    "cat",
    "exp",
    "flatten",
    "log",
    "matmul",
    "relu",
    "sigmoid",
    "stack",
    "tanh",
    "where",
    "float32",
    "float64",
    "int64",
]
