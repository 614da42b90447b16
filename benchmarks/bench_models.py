"""Training speed and memory of each colorizer, against the same network in PyTorch, same run.

    python benchmarks/bench_models.py                  # batch 32, 64x64, 3 warm-up + 10 steps
    python benchmarks/bench_models.py --quick          # 1 warm-up + 2 steps: a smoke run
    python benchmarks/bench_models.py --models cnn_regression --steps 20

For each colorizer (cnn_regression, cnn_classification, cnn_fusion, cnn_koala, cnn_resnet; one
that cannot be imported is skipped and said so) at its default widths, one training step is
the model's own: ``loss(model, batch, config)``, ``backward``, the optimizer's ``step``
(``train.default_train_step``), on batches made by the model's own data format (lab_common's
``CropBatches`` or the labelled models' ``LabelledCrops``) from random crops of synthetic
scenes. Images/s is the batch size over the median time of the timed steps, after warm-up.

The PyTorch rows are the same networks written in PyTorch below (cnn_regression and
cnn_classification; "n/a" for the others), with the same loss, the same targets (computed by
tinycolor.color on NumPy, inside the step, as tinycolor's loss does) and Adam at the same lr;
their parameter counts are printed beside tinycolor's so one can see they match.

Each measurement runs in a fresh subprocess, and "peak MB" is that process's peak resident
memory during the steps minus its resident size just before the first (warm-up) step: the
weights, the batch and the imported libraries are in the baseline; activations, gradients,
optimizer state and allocator caches are what is measured. On Linux the peak is ``VmHWM`` of
``/proc/self/status``, its mark reset (``clear_refs``) just before the steps; elsewhere it is
``resource.getrusage(RUSAGE_SELF).ru_maxrss``, which earlier transients can inflate.
``torch.set_num_threads`` and the BLAS both use every core this process may run on.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MODELS = ("cnn_regression", "cnn_classification", "cnn_fusion", "cnn_koala", "cnn_resnet")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _rss_mb() -> float:
    """The current resident set size in MB (Linux /proc), else the peak so far."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return _maxrss_mb()


def _reset_peak() -> str:
    """Reset the kernel's peak-RSS mark (Linux: ``echo 5 > /proc/self/clear_refs``) so that
    earlier transients (imports, data preparation) do not count; says which method applies."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return "VmHWM"
    except OSError:
        return "ru_maxrss"


def _maxrss_mb() -> float:
    """The peak RSS in MB: VmHWM from /proc/self/status (reset by _reset_peak), else
    getrusage's ru_maxrss (never reset: then earlier peaks count too)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10
    except (OSError, ValueError, IndexError):
        pass
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 2**20 if sys.platform == "darwin" else r / 2**10  # bytes on macOS, KiB on Linux


# --------------------------------------------------------------------------- the batches


def model_batches(name: str, module, config, batch_size: int, size: int, seed: int = 0):
    """An endless supply of training batches in the model's own format (numpy tuples)."""
    from tinycolor.data import render_scenes
    from tinycolor.data.transforms import rgb_to_lab_hwc
    from tinycolor.models import lab_common

    n_images = max(8, batch_size // 2)
    rgb, labels = render_scenes(n_images, size=size + size // 4, seed=seed)
    labs = [np.asarray(rgb_to_lab_hwc(im), dtype=np.float32) for im in rgb]
    if "class_names" in module.DEFAULTS:  # a labelled model: (L, ab, labels)
        from tinycolor.models.classifier import LabelledCrops

        source = LabelledCrops(labs, np.asarray(labels, np.int64), size, crops=4)
    else:
        source = lab_common.CropBatches(labs, size, crops=4)
    rng = np.random.default_rng(seed)
    from tinycolor.color import empirical_prior

    config["prior"] = [float(p) for p in np.asarray(empirical_prior([lb[..., 1:] for lb in labs]))]
    config["mean_ab"] = [float(v) for v in np.mean([lb[..., 1:].mean((0, 1)) for lb in labs], 0)]
    while True:
        for batch in source.batches(batch_size, rng, shuffle=True):
            if len(batch[0]) == batch_size:
                yield batch


def _time_steps(step, batches, warmup: int, steps: int):
    method = _reset_peak()
    base = _rss_mb()
    for _ in range(warmup):
        step(next(batches))
    times = []
    for _ in range(steps):
        b = next(batches)
        t0 = time.perf_counter()
        step(b)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), max(0.0, _maxrss_mb() - base), method


# --------------------------------------------------------------------------- tinycolor


def run_tinycolor(name: str, batch_size: int, size: int, warmup: int, steps: int) -> dict:
    import tinycolor as tc
    from tinycolor import models, train

    module = models.get(name)
    config = train.resolve_config(module, {"size": size, "batch_size": batch_size})
    batches = model_batches(name, module, config, batch_size, size)
    next(batches)  # fills in config["prior"] / ["mean_ab"] before the model is built
    tc.manual_seed(0)
    model = module.build_model(config)
    model.train()
    opt = train.make_optimizer(config["optimizer"], model.parameters(), float(config["lr"]))
    optimizers = {"main": opt}
    if hasattr(module, "make_optimizers"):
        optimizers = module.make_optimizers(model, config)
    custom = getattr(module, "train_step", None)

    def step(arrays):
        batch = train.to_tensors(arrays, "cpu")
        if custom is not None:
            return custom(model, optimizers, batch, config)
        return train.default_train_step(module, model, optimizers, batch, config)

    t, peak, method = _time_steps(step, batches, warmup, steps)
    params = sum(int(np.prod(p.shape)) for p in model.parameters())
    return {
        "seconds": t,
        "images_per_s": batch_size / t,
        "peak_mb": peak,
        "peak_method": method,
        "params": params,
    }


# --------------------------------------------------------------------------- torch networks


def torch_regression(config, size):
    import torch
    from torch import nn

    c1, c2, f1, f2 = (int(config[k]) for k in ("conv1", "conv2", "fc1", "fc2"))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, c1, 5, padding=2),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(c1, c2, 5, padding=2),
                nn.ReLU(),
                nn.MaxPool2d(2),
            )
            self.head = nn.Sequential(
                nn.Linear(c2 * (size // 4) ** 2, f1),
                nn.ReLU(),
                nn.Linear(f1, f2),
                nn.ReLU(),
                nn.Dropout(float(config["dropout"])),
                nn.Linear(f2, 2 * size * size),
            )

        def forward(self, x):
            y = self.head(self.features(x).flatten(1))
            return torch.sigmoid(y.view(x.shape[0], 2, size, size))

    def loss(net, batch):
        L, ab = batch[0], batch[1]
        target = torch.from_numpy((ab + 128.0) / 255.0)
        return nn.functional.mse_loss(net(torch.from_numpy(L)), target)

    return Net(), loss


def torch_classification(config, size):
    import torch
    from torch import nn

    from tinycolor.models import cnn_classification as cc

    c = [max(1, round(ch * float(config["width"]))) for ch in cc.CHANNELS]
    q = len(cc.bins(config))

    def block(c_in, c_out, n, stride=1, dilation=1):
        layers = []
        for i in range(n):
            s = stride if i == n - 1 else 1
            conv = nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, s, dilation, dilation)
            layers += [conv, nn.ReLU()]
        layers.append(nn.BatchNorm2d(c_out))
        return nn.Sequential(*layers)

    net = nn.Sequential(
        block(1, c[0], cc.CONVS[0], 2),
        block(c[0], c[1], cc.CONVS[1], 2),
        block(c[1], c[2], cc.CONVS[2], 2),
        block(c[2], c[3], cc.CONVS[3]),
        block(c[3], c[4], cc.CONVS[4], dilation=2),
        block(c[4], c[5], cc.CONVS[5], dilation=2),
        block(c[5], c[6], cc.CONVS[6]),
        nn.ConvTranspose2d(c[6], c[7], 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(c[7], c[7], 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(c[7], c[7], 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(c[7], q, 1),
    )

    def loss(net, batch):
        from tinycolor.color import soft_encode

        L, ab = batch[0], batch[1]
        ab_small = cc.downsample_ab(ab)
        target = soft_encode(
            ab_small, cc.bins(config), k=int(config["k"]), sigma=float(config["sigma"]),
            channel_axis=1,
        )  # fmt: skip
        w = torch.from_numpy(np.asarray(cc.pixel_weights(ab_small, config)))
        logp = torch.log_softmax(net(torch.from_numpy(L)), dim=1)
        per_pixel = -(torch.from_numpy(np.asarray(target, np.float32)) * logp).sum(1)
        return (per_pixel * w).mean()

    return net, loss


TORCH_NETS = {"cnn_regression": torch_regression, "cnn_classification": torch_classification}


def run_torch(name: str, batch_size: int, size: int, warmup: int, steps: int) -> dict:
    import torch

    from tinycolor import models, train

    torch.set_num_threads(_cores())
    torch.manual_seed(0)
    module = models.get(name)
    config = train.resolve_config(module, {"size": size, "batch_size": batch_size})
    batches = model_batches(name, module, config, batch_size, size)
    next(batches)
    net, loss_fn = TORCH_NETS[name](config, size)
    net.train()
    if config["optimizer"] != "adam":
        raise SystemExit(f"bench_models: the torch twin of {name} only knows Adam")
    opt = torch.optim.Adam(net.parameters(), lr=float(config["lr"]))

    def step(arrays):
        opt.zero_grad()
        loss = loss_fn(net, arrays)
        loss.backward()
        opt.step()
        return float(loss.item())

    t, peak, method = _time_steps(step, batches, warmup, steps)
    params = sum(p.numel() for p in net.parameters())
    return {
        "seconds": t,
        "images_per_s": batch_size / t,
        "peak_mb": peak,
        "peak_method": method,
        "params": params,
    }


# --------------------------------------------------------------------------- driver


def _child(args) -> int:
    fn = run_torch if args.child_framework == "torch" else run_tinycolor
    out = fn(args.child, args.batch_size, args.size, args.warmup, args.steps)
    print("RESULT " + json.dumps(out))
    return 0


def _measure(name, framework, args) -> dict | str:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        name,
        "--child-framework",
        framework,
        "--batch-size",
        str(args.batch_size),
        "--size",
        str(args.size),
        "--warmup",
        str(args.warmup),
        "--steps",
        str(args.steps),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return f"failed ({tail[:80]})"


def _importable(name: str) -> str | None:
    try:
        from tinycolor import models

        models.get(name)
        return None
    except Exception as exc:  # any import failure means "skip this model"
        return f"{type(exc).__name__}: {exc}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="1 warm-up + 2 timed steps")
    p.add_argument("--models", nargs="+", default=list(MODELS), help="models to measure")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--warmup", type=int, default=None, help="untimed steps (default 3)")
    p.add_argument("--steps", type=int, default=None, help="timed steps (default 10)")
    p.add_argument("--no-torch", action="store_true", help="tinycolor only")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--child-framework", default="tinycolor", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    args.steps = args.steps if args.steps is not None else (2 if args.quick else 10)
    if args.child:
        return _child(args)

    try:
        import torch

        have_torch = not args.no_torch
        torch_version = torch.__version__
    except ImportError:
        have_torch, torch_version = False, None
    print(
        f"training step (loss, backward, Adam step), batch {args.batch_size}, "
        f"{args.size}x{args.size}, {args.warmup} warm-up + {args.steps} timed steps (median), "
        f"{_cores()} cores; numpy {np.__version__}"
        + (f", torch {torch_version}" if have_torch else ", torch not measured")
    )
    print(
        "peak MB: peak RSS of a fresh subprocess during the steps (VmHWM reset just before "
        "them; ru_maxrss where that cannot be reset) minus its RSS before the first step"
    )
    header = ["model", "params", "tinycolor img/s", "peak MB", "torch params", "torch img/s",
              "torch peak MB", "tinycolor/torch"]  # fmt: skip
    rows = []
    for name in args.models:
        why = _importable(name)
        if why is not None:
            rows.append([name, f"skipped ({why[:60]})", *[""] * (len(header) - 2)])
            continue
        tc_res = _measure(name, "tinycolor", args)
        if isinstance(tc_res, str):
            rows.append([name, tc_res, *[""] * (len(header) - 2)])
            print(f"  {name}: tinycolor {tc_res}", file=sys.stderr)
            continue
        row = [
            name,
            f"{tc_res['params']:,}",
            f"{tc_res['images_per_s']:.1f}",
            f"{tc_res['peak_mb']:.0f}",
        ]
        if have_torch and name in TORCH_NETS:
            th = _measure(name, "torch", args)
            if isinstance(th, str):
                row += [th, "", "", ""]
            else:
                row += [
                    f"{th['params']:,}",
                    f"{th['images_per_s']:.1f}",
                    f"{th['peak_mb']:.0f}",
                    f"{tc_res['images_per_s'] / th['images_per_s']:.2f}",
                ]
        else:
            row += ["n/a"] * 4
        rows.append(row)
        print(f"  measured {name}", file=sys.stderr, flush=True)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    print("tinycolor/torch: images/s ratio (1.00 = as fast as PyTorch; below 1 = slower)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
