"""``cupyx.scatter_add`` for the CuPy stand-in (see ``tests/cupy_standin/cupy``)."""

import cupy as _cp
import numpy as _np


def scatter_add(a, slices, value):
    _cp._check_mix("scatter_add", (a, value))
    _np.add.at(_cp._unwrap(a), _cp._unwrap_tree(slices), _cp._unwrap(value))
