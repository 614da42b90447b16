"""Do two Python threads make NumPy work go twice as fast on this machine? Measured, same run.

    python benchmarks/bench_threads.py
    python benchmarks/bench_threads.py --floats 200000 --python-steps 0 100 1000

NumPy gives up the GIL inside a large copy or product, so two threads can run two of them at
once; but between NumPy calls a thread needs the GIL back, and if the other thread holds it
(running Python) it waits to be woken. Each case below is a loop of one NumPy call (a copy of
``--floats`` values, or one product of as many) followed by a few trivial Python loop steps.
Two halves of the loop are timed one after the other on one thread, then at once on two
threads; the speedup is the ratio (2.00 = perfect, 1.00 = no gain, below 1 = a loss).

The products run on one BLAS thread each (where NumPy's OpenBLAS can be told so). For
comparison, the last line is BLAS's own threads on a large product (OpenBLAS's workers never
return to Python in between): its time on 1 thread over its time on all of them. Run it on
an otherwise idle machine.

On a 2-core virtual machine the short calls (tens of microseconds) with Python between them
gained 0.9 to 1.5 times, varying from run to run, and calls of a million values 1.9: one
reason tinycolor's convolutions, a dozen short calls a chunk, run on the calling thread and
leave the cores to BLAS (see ``tinycolor/functional/conv.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, too
from tinycolor import argtypes  # noqa: E402


def _best(fn, repeats=5):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def case(kind: str, floats: int, python_steps: int, calls: int) -> tuple[float, float]:
    """(microseconds per call on one thread, two-thread speedup) for one kind of call."""
    rng = np.random.default_rng(0)
    if kind == "copy":
        src = [rng.standard_normal(floats, dtype=np.float32) for _ in range(2)]
        dst = [np.empty(floats, np.float32) for _ in range(2)]

        def call(i):
            np.copyto(dst[i], src[i])

    else:  # a thin product of about ``floats`` outputs, as a narrow conv layer's
        cols = max(1, floats // 16)
        w = [rng.standard_normal((16, 144), dtype=np.float32) for _ in range(2)]
        x = [rng.standard_normal((144, cols), dtype=np.float32) for _ in range(2)]
        out = [np.empty((16, cols), np.float32) for _ in range(2)]

        def call(i):
            np.matmul(w[i], x[i], out=out[i])

    def half(i):
        for _ in range(calls):
            call(i)
            for _ in range(python_steps):
                pass

    pool = ThreadPoolExecutor(2)
    list(pool.map(half, (0, 1)))  # start the threads
    one = _best(lambda: (half(0), half(1)))
    two = _best(lambda: list(pool.map(half, (0, 1))))
    pool.shutdown()
    return one / (2 * calls) * 1e6, one / two


def _openblas_threads():
    """(get, set) of the thread count of the OpenBLAS in NumPy's wheel, or None."""
    import ctypes  # noqa: PLC0415
    import glob  # noqa: PLC0415

    here = os.path.dirname(np.__file__)
    for path in sorted(glob.glob(os.path.join(here, "..", "numpy.libs", "*openblas*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("openblas", "64_"), ("openblas", "")):
            get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            set_ = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                get.restype, get.argtypes = ctypes.c_int, []
                set_.restype, set_.argtypes = None, [ctypes.c_int]
                return get, set_
    return None


def blas_threads() -> str:
    """The large-product line: OpenBLAS on one thread against all of its threads."""
    api = _openblas_threads()
    if api is None:
        return "BLAS threads: not measured (no OpenBLAS whose thread count can be set)"
    get, set_ = api
    rng = np.random.default_rng(1)
    a = rng.standard_normal((1024, 1024), dtype=np.float32)
    before = get()
    try:
        set_(1)
        one = _best(lambda: a @ a)
        set_(before)
        many = _best(lambda: a @ a)
    finally:
        set_(before)
    return f"BLAS's own threads, 1024x1024 product: {before} threads {one / many:.2f}x one thread"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--floats", type=argtypes.positive_int, nargs="+", default=[50_000, 200_000, 1_000_000]
    )
    p.add_argument("--python-steps", type=argtypes.nonnegative_int, nargs="+", default=[0, 100])
    p.add_argument(
        "--calls", type=argtypes.positive_int, default=200, help="calls per half (default 200)"
    )
    args = p.parse_args(argv)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{cores} cores; numpy {np.__version__}; speedup of two Python threads over one")
    print(f"{'call':8s} {'floats':>9s} {'python steps':>12s} {'us a call':>10s} {'speedup':>8s}")
    api = _openblas_threads()
    saved = api[0]() if api else None
    if api:
        api[1](1)  # the products run on the Python threads only
    try:
        for kind in ("copy", "product"):
            for floats in args.floats:
                for steps in args.python_steps:
                    per_call, speedup = case(kind, floats, steps, args.calls)
                    print(f"{kind:8s} {floats:9d} {steps:12d} {per_call:10.1f} {speedup:8.2f}")
    finally:
        if api:
            api[1](saved)
    print(blas_threads())
    return 0


if __name__ == "__main__":
    sys.exit(main())
