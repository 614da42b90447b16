"""``cupyx.scipy.special.erf`` for the CuPy stand-in (see ``tests/cupy_standin/cupy``): SciPy's,
on ``cupy.ndarray`` only, as CuPy's ufuncs refuse a NumPy array."""

import cupy as _cp
from scipy import special as _special


def erf(x):
    if not isinstance(x, _cp.ndarray):
        raise TypeError(f"cupy-standin: erf expects a cupy.ndarray, got {type(x).__name__}")
    return _cp._wrap(_special.erf(_cp._unwrap(x)))
