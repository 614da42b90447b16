"""Time tinycolor's heavy ops against PyTorch at training shapes, measured in the same run.

    python benchmarks/bench_ops.py              # N=32, 64x64, 64->64 channels, 3x3
    python benchmarks/bench_ops.py --quick      # N=8, 3 repeats: a smoke run
    python benchmarks/bench_ops.py --repeat 15 --ops conv
    python benchmarks/bench_ops.py --device cuda   # tinycolor on CuPy (and torch on CUDA if it can)

For each op it times the forward pass (no graph recorded) and the forward + backward pass (all
inputs require gradients), tinycolor and torch in turn inside each repeat (the order alternates),
after warm-ups, and prints the fastest time of each, the tinycolor/torch ratio of the fastest
times and of the medians, and tinycolor's GFLOP/s for the ops that are products (the memory-
bound ops show '-'). The ratios are of times, so above 1 means tinycolor is slower: the
inverse of bench_models.py's ratio of images/s, where below 1 means slower. The machine may be
shared: the fastest of many repeats is the steadiest figure, and only ratios taken in the same
run mean anything.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

try:
    import tinycolor as tc
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import tinycolor as tc

from tinycolor import argtypes, backend


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class Case:
    """One op at one shape: builders for the tinycolor and the torch call, and its FLOPs."""

    def __init__(self, name, tc_fn, torch_fn, inputs, flops_fwd=None, flops_fwd_bwd=None):
        self.name, self.tc_fn, self.torch_fn, self.inputs = name, tc_fn, torch_fn, inputs
        self.flops = {"forward": flops_fwd, "fwd+bwd": flops_fwd_bwd}


def _functional(module, name):
    """tinycolor.functional.<module>.<name>, or None while it does not exist yet."""
    try:
        mod = __import__(f"tinycolor.functional.{module}", fromlist=[name])
        return getattr(mod, name)
    except (ImportError, AttributeError):
        return None


def build_cases(n, size, channels, kernel, which):
    """The benchmark cases; each ``inputs(rng)`` gives float32 arrays (NumPy)."""
    c = o = channels
    k = kernel
    cases = []
    conv2d = _functional("conv", "conv2d")
    conv_t = _functional("conv", "conv_transpose2d")
    for stride in (1, 2):
        ho = (size + 2 * (k // 2) - k) // stride + 1
        flops = 2 * n * o * ho * ho * c * k * k

        def inputs(rng, stride=stride):
            return [
                rng.standard_normal((n, c, size, size), dtype=np.float32),
                rng.standard_normal((o, c, k, k), dtype=np.float32) * (2 / (c * k * k)) ** 0.5,
                rng.standard_normal(o, dtype=np.float32),
            ]

        cases.append(
            Case(
                f"conv2d {k}x{k} s{stride} {c}->{o} @{size}",
                None
                if conv2d is None
                else (lambda F, x, w, b, s=stride: conv2d(x, w, b, s, k // 2)),
                lambda F, x, w, b, s=stride: F.conv2d(x, w, b, s, k // 2),
                inputs,
                flops,
                3 * flops,
            )
        )
    # Grouped (ResNeXt) and depthwise (MobileNet) layers, stride 1 and 2, 'same' padding: 4
    # groups and c groups, each where it divides c (once when c is 4; none when c is 1).
    for groups in sorted({g for g in (4, c) if g > 1 and c % g == 0}):
        for stride in (1, 2):
            ho = (size + 2 * (k // 2) - k) // stride + 1
            flops = 2 * n * o * ho * ho * (c // groups) * k * k

            def inputs_g(rng, groups=groups):
                fan_in = c // groups * k * k
                return [
                    rng.standard_normal((n, c, size, size), dtype=np.float32),
                    rng.standard_normal((o, c // groups, k, k), dtype=np.float32)
                    * (2 / fan_in) ** 0.5,
                    rng.standard_normal(o, dtype=np.float32),
                ]

            label = "depthwise" if groups == c else f"groups {groups}"
            cases.append(
                Case(
                    f"conv2d {k}x{k} s{stride} {c}->{o} {label} @{size}",
                    None
                    if conv2d is None
                    else (lambda F, x, w, b, s=stride, g=groups: conv2d(x, w, b, s, k // 2, 1, g)),
                    lambda F, x, w, b, s=stride, g=groups: F.conv2d(x, w, b, s, k // 2, 1, g),
                    inputs_g,
                    flops,
                    3 * flops,
                )
            )
    # The decoder's upsampling: size/2 -> size, stride 2 (output_padding 1 restores the size).
    half = size // 2
    flops = 2 * n * c * half * half * o * k * k

    def inputs_t(rng):
        return [
            rng.standard_normal((n, c, half, half), dtype=np.float32),
            rng.standard_normal((c, o, k, k), dtype=np.float32) * (2 / (c * k * k)) ** 0.5,
            rng.standard_normal(o, dtype=np.float32),
        ]

    cases.append(
        Case(
            f"conv_transpose2d {k}x{k} s2 {c}->{o} @{half}->{size}",
            None if conv_t is None else (lambda F, x, w, b: conv_t(x, w, b, 2, k // 2, 1)),
            # stride 2, padding k // 2, output_padding 1
            lambda F, x, w, b: F.conv_transpose2d(x, w, b, 2, k // 2, 1),
            inputs_t,
            flops,
            3 * flops,
        )
    )

    def image(rng):
        return [rng.standard_normal((n, c, size, size), dtype=np.float32)]

    max_pool = _functional("pool", "max_pool2d")
    avg_pool = _functional("pool", "avg_pool2d")
    cases.append(
        Case(
            f"max_pool2d 2x2 s2 {c}ch @{size}",
            None if max_pool is None else (lambda F, x: max_pool(x, 2, 2)),
            lambda F, x: F.max_pool2d(x, 2, 2),
            image,
        )
    )
    cases.append(
        Case(
            f"avg_pool2d 2x2 s2 {c}ch @{size}",
            None if avg_pool is None else (lambda F, x: avg_pool(x, 2, 2)),
            lambda F, x: F.avg_pool2d(x, 2, 2),
            image,
        )
    )
    batch_norm = _functional("norm", "batch_norm")

    def bn_inputs(rng):
        return image(rng) + [
            rng.uniform(0.5, 1.5, c).astype(np.float32),
            rng.standard_normal(c, dtype=np.float32),
        ]

    def tc_bn(F, x, w, b):
        mean = tc.Tensor(np.zeros(c, np.float32), device=x.device)
        var = tc.Tensor(np.ones(c, np.float32), device=x.device)
        return batch_norm(x, mean, var, w, b, True)

    def torch_bn(F, x, w, b):
        mean = x.new_zeros(c)
        var = x.new_ones(c)
        return F.batch_norm(x, mean, var, w, b, True)

    cases.append(
        Case(
            f"batch_norm (training) {c}ch @{size}",
            None if batch_norm is None else tc_bn,
            torch_bn,
            bn_inputs,
        )
    )
    linear = _functional("linalg", "linear")
    rows = n * size * size
    flops = 2 * rows * c * o

    def linear_inputs(rng):
        return [
            rng.standard_normal((rows, c), dtype=np.float32),
            rng.standard_normal((o, c), dtype=np.float32) * (1 / c) ** 0.5,
            rng.standard_normal(o, dtype=np.float32),
        ]

    cases.append(
        Case(
            f"linear {c}->{o} on {rows} rows (per pixel)",
            None if linear is None else (lambda F, x, w, b: linear(x, w, b)),
            lambda F, x, w, b: F.linear(x, w, b),
            linear_inputs,
            flops,
            3 * flops,
        )
    )

    def weighted_channels(F, x):
        # every channel a piece of its own, each used once: the backward adds c slices into one
        # gradient of x's shape (an unbind costs c full-size arrays where it does not)
        total = None
        for i, piece in enumerate(x.unbind(1)):
            total = piece * (i + 1) if total is None else total + piece * (i + 1)
        return total

    cases.append(Case(f"unbind(1) into {c} pieces, summed @{size}", weighted_channels,
                      weighted_channels, image))  # fmt: skip
    if which:
        cases = [case for case in cases if any(word in case.name for word in which)]
    return cases


# --------------------------------------------------------------------------- runners


class TinycolorRunner:
    label = "tinycolor"

    def __init__(self, device):
        self.device = device
        self.sync = backend.cupy().cuda.Device().synchronize if device == "cuda" else (lambda: None)

    def prepare(self, case, arrays, backward):
        tensors = [tc.Tensor(a, requires_grad=backward, device=self.device) for a in arrays]
        fn = case.tc_fn
        grad = None

        def forward():
            with tc.no_grad():
                return fn(None, *tensors)

        def forward_backward():
            nonlocal grad
            for t in tensors:
                t.grad = None
            y = fn(None, *tensors)
            if grad is None:
                grad = backend.xp_for(self.device).ones(y.shape, dtype=y.dtype)
            y.backward(grad)

        return forward_backward if backward else forward


class TorchRunner:
    label = "torch"

    def __init__(self, torch, device):
        self.torch, self.F = torch, torch.nn.functional
        self.device = device
        self.sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def prepare(self, case, arrays, backward):
        torch = self.torch
        tensors = [torch.tensor(a, device=self.device).requires_grad_(backward) for a in arrays]
        grad = None

        def forward():
            with torch.no_grad():
                return case.torch_fn(self.F, *tensors)

        def forward_backward():
            nonlocal grad
            for t in tensors:
                t.grad = None
            y = case.torch_fn(self.F, *tensors)
            if grad is None:
                grad = torch.ones_like(y)
            y.backward(grad)

        return forward_backward if backward else forward


def time_interleaved(runners, repeat, warmup):
    """{label: [seconds per repeat]}: each runner timed in turn in every repeat."""
    for _, fn in runners:
        for _ in range(warmup):
            fn()
    for runner, _ in runners:
        runner.sync()
    times = {runner.label: [] for runner, _ in runners}
    for r in range(repeat):
        order = runners if r % 2 == 0 else runners[::-1]
        for runner, fn in order:
            runner.sync()
            t0 = time.perf_counter()
            fn()
            runner.sync()
            times[runner.label].append(time.perf_counter() - t0)
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="N=8 and 3 repeats: a smoke run")
    parser.add_argument(
        "--repeat", type=argtypes.positive_int, default=None, help="timed repeats (default 7)"
    )
    parser.add_argument(
        "--warmup",
        type=argtypes.nonnegative_int,
        default=None,
        help="untimed calls of each before timing (default 2, 1 with --quick)",
    )
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument(
        "--batch", type=argtypes.positive_int, default=None, help="N (default 32, 8 with --quick)"
    )
    parser.add_argument(
        "--size", type=argtypes.positive_int, default=64, help="image side (default 64)"
    )
    parser.add_argument("--channels", type=argtypes.positive_int, default=64)
    parser.add_argument("--kernel", type=argtypes.positive_int, default=3)
    parser.add_argument("--ops", nargs="*", default=[], help="only ops whose name has a word")
    parser.add_argument("--no-torch", action="store_true", help="time tinycolor alone")
    args = parser.parse_args(argv)
    n = args.batch or (8 if args.quick else 32)
    repeat = args.repeat or (3 if args.quick else 7)
    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)

    cores = _cores()
    runners = [TinycolorRunner(args.device)]
    torch_note = "torch not installed: tinycolor alone"
    if not args.no_torch:
        try:
            import torch  # noqa: PLC0415 - optional, the reference only
        except ImportError:
            torch = None
        if torch is not None:
            torch.set_num_threads(cores)
            torch_device = args.device
            if args.device == "cuda" and not torch.cuda.is_available():
                torch_note = "torch has no CUDA here: no reference for the GPU run"
            else:
                runners.append(TorchRunner(torch, torch_device))
                torch_note = f"torch {torch.__version__} on {torch_device}"
    else:
        torch_note = "--no-torch"

    print(
        f"tinycolor {tc.__version__} on {args.device}, numpy {np.__version__}, {cores} cores; "
        f"{torch_note}; N={n}, {args.size}x{args.size}, {args.channels} channels, "
        f"{args.kernel}x{args.kernel}; best of {repeat} (after {warmup} warm-up)"
    )
    header = (
        f"{'op':44s} {'pass':8s} {'tinycolor ms':>12s} {'torch ms':>9s} "
        f"{'time ratio':>10s} {'(median)':>8s} {'GFLOP/s':>8s}"
    )
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    for case in build_cases(n, args.size, args.channels, args.kernel, args.ops):
        if case.tc_fn is None:
            print(f"{case.name:44s} not available (its function is not importable yet)")
            continue
        arrays = case.inputs(rng)
        for backward, label in ((False, "forward"), (True, "fwd+bwd")):
            try:
                prepared = [(r, r.prepare(case, arrays, backward)) for r in runners]
                times = time_interleaved(prepared, repeat, warmup)
            except Exception as exc:  # a half-written op must not stop the other rows
                print(f"{case.name:44s} {label:8s} failed: {type(exc).__name__}: {exc}")
                continue
            ours = times["tinycolor"]
            line = f"{case.name:44s} {label:8s} {min(ours) * 1e3:12.1f}"
            if "torch" in times:
                ref = times["torch"]
                ratio = min(ours) / min(ref)
                med = statistics.median(ours) / statistics.median(ref)
                line += f" {min(ref) * 1e3:9.1f} {ratio:10.2f} {med:8.2f}"
            else:
                line += f" {'-':>9s} {'-':>10s} {'-':>8s}"
            flops = case.flops[label]
            line += f" {flops / min(ours) / 1e9:8.1f}" if flops else f" {'-':>8s}"
            print(line, flush=True)
    print(
        "time ratio: time, tinycolor/torch (>1: slower), of the fastest times; (median): of the "
        "median times; GFLOP/s: tinycolor's, from its fastest time (products only: fwd+bwd "
        "counts 3x the forward)"
    )


if __name__ == "__main__":
    main()
