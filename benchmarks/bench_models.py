"""Training speed and memory of each colorizer, against the same network in PyTorch, same run.

    python benchmarks/bench_models.py                  # batch 32, 64x64, 3 warm-up + 10 steps,
                                                       # 3 rounds
    python benchmarks/bench_models.py --quick          # 1 warm-up + 2 steps, 1 round: a smoke run
    python benchmarks/bench_models.py --models cnn_regression --steps 20

For each colorizer (cnn_regression, cnn_classification, cnn_fusion, cnn_koala, cnn_resnet; one
that cannot be imported is skipped and said so) at its default widths, one training step is
the model's own: ``loss(model, batch, config)``, ``backward``, the optimizer's ``step``
(``train.default_train_step``), on batches made by the model's own data format (lab_common's
``CropBatches`` or the labelled models' ``LabelledCrops``) from random crops of synthetic
scenes. Images/s is the batch size over the median time of the timed steps, after warm-up.

A shared or virtual machine's speed drifts by 10 to 20 % from one minute to the next, so each
model is measured in ``--rounds`` rounds, each a tinycolor run and a torch run one right after
the other, and the ratio printed is the median of the rounds' ratios (the range beside it). The
order alternates from round to round (tinycolor first in the first round), so that neither
framework always runs in the other's wake.

The figures mean something only on an otherwise idle machine. When another process takes a
core, torch's OpenMP threads stall waiting for each other, which slows torch far more than
tinycolor: on 2 cores under a load of 6, a ``--quick`` ratio read 3.6 where an idle machine
gives about 0.5. So the header prints the load average and warns when the 1-minute load is
above 0.5 at the start; the ``load`` column is the highest 1-minute load seen before the
model's measurements (this benchmark's own threads count in it, up to ``--threads``), and a
warning follows the table for the models before which it went above ``--threads`` + 0.5.

The PyTorch rows are the same networks written in PyTorch below (``TORCH_NETS``, one per
colorizer), with the same layers, the same loss, the same targets (computed by tinycolor.color
on NumPy, inside the step, as tinycolor's loss does) and Adam at the same lr; their parameter
counts are printed beside tinycolor's so one can see they match. Both steps thus include the
same NumPy target work (for cnn_classification and cnn_resnet, the soft-encoding and the
rebalancing weights), which neither framework speeds up and which pulls the ratio slightly
towards 1. The twins of cnn_fusion, cnn_koala and cnn_resnet also use tinycolor's module names,
so a tinycolor ``state_dict`` loads into them as it is:

* cnn_regression: conv/pool features, fully connected head, sigmoid; MSE of (ab + 128) / 255.
* cnn_classification: Zhang et al.'s dilated net; soft-encoded cross-entropy over the ab bins
  of the 1/4-resolution block means, with cnn_classification's pixel weights.
* cnn_fusion: Iizuka et al.'s low/mid/global nets, fusion, colorization net (nearest x2
  upsamples, sigmoid, bilinear to H, align_corners False as tinycolor's ``interpolate``) and
  class head; the global path shares the low-level features when the input is
  global_size squared (the default: 64 = 64), else sees a bilinear resize. Loss
  MSE((ab + 128) / 255) + alpha * cross-entropy of the class logits on the batch's labels.
* cnn_koala: encoder, fusion with a frozen classifier's embedding, decoder with tanh; MSE of
  ab / 128. The classifier is counted in the parameters (as tinycolor's ``parameters()``
  does), kept in eval mode and run under ``torch.no_grad`` (as tinycolor computes the
  embedding without gradient), so Adam skips it in both.
* cnn_resnet: the ResNet classifier's ``features`` as the encoder, trained with seed 001's
  conv head (as tinycolor fine-tunes it); the default ``--loss ce``: soft-encoded
  cross-entropy over the ab bins of the head's grid (block means at the output stride), with
  cnn_classification's pixel weights (the rebalancing weights, as ``--rebalance`` by default).

No classifier is trained or loaded for cnn_koala and cnn_resnet: the bench passes no
``--classifier`` and skips ``load_data``, so ``build_model`` builds the classifier network its
defaults describe (``AUTO_CLASSIFIER`` / the ResNet of ``--encoder-width`` and ``--stages``)
with freshly initialised weights, and the twin builds the same architecture. Random frozen
weights cost the same time as trained ones.

Each measurement runs in a fresh subprocess, and "peak MB" is that process's peak resident
memory during the steps minus its resident size just before the first (warm-up) step: the
weights, the batch and the imported libraries are in the baseline; activations, gradients,
optimizer state and allocator caches are what is measured. On Linux the peak is ``VmHWM`` of
``/proc/self/status``, its mark reset (``clear_refs``) just before the steps; where that mark
cannot be reset it is ``resource.getrusage(RUSAGE_SELF).ru_maxrss``, the peak since the process
started, which earlier transients can inflate (such figures are marked ``*`` in the table).

Both frameworks get the same number of threads, ``--threads`` (default: every core this
process may run on): each subprocess has ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and
``MKL_NUM_THREADS`` set to it in its environment (replacing any the caller set), which NumPy's
BLAS and torch read as they load, and the torch one also calls ``torch.set_num_threads``.
(Outside BLAS, tinycolor's optimizer updates a parameter of a million numbers or more on two
Python threads whenever the machine has two cores or more, whatever ``--threads`` says.)
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

from tinycolor import argtypes  # noqa: E402 - after the path is set

MODELS = ("cnn_regression", "cnn_classification", "cnn_fusion", "cnn_koala", "cnn_resnet")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


#: A 1-minute load average above this when the script starts means that other work is running.
IDLE_LOAD = 0.5


def _load_average() -> tuple[float, float, float] | None:
    """The 1-, 5- and 15-minute load averages, or None where the system does not give them."""
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return None


def _rss_mb() -> float:
    """The current resident set size in MB (Linux /proc), else the peak so far."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return _ru_maxrss_mb()


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux: ``echo 5 > /proc/self/clear_refs``) so that
    earlier transients (imports, data preparation) do not count; False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _ru_maxrss_mb() -> float:
    """getrusage's ru_maxrss in MB: the peak RSS since the process started (never reset)."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 2**20 if sys.platform == "darwin" else r / 2**10  # bytes on macOS, KiB on Linux


def _peak_mb(reset: bool) -> tuple[float, str]:
    """The peak RSS in MB and how it was read: VmHWM from /proc/self/status when _reset_peak
    reset its mark, else ru_maxrss (then earlier peaks count too)."""
    if reset:
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 2**10, "VmHWM"
        except (OSError, ValueError, IndexError):
            pass
    return _ru_maxrss_mb(), "ru_maxrss"


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
    reset = _reset_peak()
    base = _rss_mb()
    for _ in range(warmup):
        step(next(batches))
    times = []
    for _ in range(steps):
        b = next(batches)
        t0 = time.perf_counter()
        step(b)
        times.append(time.perf_counter() - t0)
    peak, method = _peak_mb(reset)
    return statistics.median(times), max(0.0, peak - base), method


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


def _torch_conv_bn_relu(c_in, c_out, stride=1):
    """tinycolor.models.cnn_fusion.conv_bn_relu in PyTorch: conv 3x3 (padding 1), BN, ReLU."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()
    )


def _classifier_config(name: str, config) -> dict:
    """The classifier architecture ``build_model`` of cnn_koala / cnn_resnet builds in the
    bench: ``config['classifier_config']`` when given, else the model's automatic one."""
    from tinycolor.models import cnn_koala, cnn_resnet
    from tinycolor.models.classifier import embedded_classifier_config

    auto = cnn_koala.AUTO_CLASSIFIER if name == "cnn_koala" else cnn_resnet._auto_classifier(config)
    return embedded_classifier_config(config, auto)


def _torch_classifier(cc: dict):
    """tinycolor.models.classifier's GrayClassifier ('plain') or ResNetClassifier ('resnet')
    in PyTorch, with the same module names (``features``, ``fc``, the blocks' ``conv1`` ...),
    and ``embed`` (the global-average-pooled features) and ``embedding_dim``."""
    import torch
    from torch import nn

    n_classes = len(cc.get("class_names") or []) or 3
    width, blocks = int(cc["width"]), int(cc["blocks"])

    class BasicBlock(nn.Module):
        def __init__(self, c_in, c_out, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(c_out)
            self.shortcut = None
            if stride != 1 or c_in != c_out:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
                )

        def forward(self, x):
            h = torch.relu(self.bn1(self.conv1(x)))
            h = self.bn2(self.conv2(h))
            return torch.relu(h + (x if self.shortcut is None else self.shortcut(x)))

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            c_in = 1
            if cc.get("arch", "plain") == "resnet":
                layers = [
                    nn.Conv2d(1, width, 7, stride=2, padding=3, bias=False),
                    nn.BatchNorm2d(width),
                    nn.ReLU(),
                    nn.MaxPool2d(3, stride=2, padding=1),
                ]
                c_in = width
                for k in range(blocks):
                    c = width * 2**k
                    layers += [BasicBlock(c_in, c, 1 if k == 0 else 2), BasicBlock(c, c)]
                    c_in = c
                self.stride = 2 ** (blocks + 1)
            else:
                layers = []
                for k in range(blocks):
                    c = width * 2**k
                    layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU()]
                    if k < blocks - 1:
                        layers.append(nn.MaxPool2d(2))
                    c_in = c
            self.features = nn.Sequential(*layers)
            self.embedding_dim = c_in
            self.fc = nn.Linear(c_in, n_classes)

        def embed(self, x):
            return self.features(x).mean(dim=(2, 3))

        def forward(self, x):
            return self.fc(self.embed(x))

    return Classifier()


def torch_fusion(config, size):
    import torch
    from torch import nn

    from tinycolor.models import cnn_fusion as cf
    from tinycolor.models.classifier import num_classes

    def c(n):
        return cf.channels(n, float(config["width"]))

    g = int(config["global_size"])
    cbr = _torch_conv_bn_relu

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.low = nn.Sequential(
                cbr(1, c(64), 2),
                cbr(c(64), c(128)),
                cbr(c(128), c(128), 2),
                cbr(c(128), c(256)),
                cbr(c(256), c(256), 2),
                cbr(c(256), c(512)),
            )
            self.mid = nn.Sequential(cbr(c(512), c(512)), cbr(c(512), c(256)))
            self.global_conv = nn.Sequential(
                cbr(c(512), c(512), 2),
                cbr(c(512), c(512)),
                cbr(c(512), c(512), 2),
                cbr(c(512), c(512)),
            )
            grid = g // 32
            self.global_fc = nn.Sequential(
                nn.Linear(c(512) * grid * grid, c(1024)),
                nn.ReLU(),
                nn.Linear(c(1024), c(512)),
                nn.ReLU(),
            )
            self.global_out = nn.Sequential(nn.Linear(c(512), c(256)), nn.ReLU())
            self.class_head = nn.Sequential(
                nn.Linear(c(512), c(256)), nn.ReLU(), nn.Linear(c(256), num_classes(config))
            )
            self.fusion = nn.Conv2d(2 * c(256), c(256), 1)
            self.colorize = nn.Sequential(
                cbr(c(256), c(128)),
                nn.Upsample(scale_factor=2, mode="nearest"),
                cbr(c(128), c(64)),
                cbr(c(64), c(64)),
                nn.Upsample(scale_factor=2, mode="nearest"),
                cbr(c(64), c(32)),
                nn.Conv2d(c(32), 2, 3, padding=1),
            )

        def forward(self, x):
            n, _, h, w = x.shape
            low = self.low(x)
            # as FusionNet: the global path shares the low-level features of a G x G input
            low_g = (
                low
                if (h, w) == (g, g)
                else self.low(
                    nn.functional.interpolate(x, size=(g, g), mode="bilinear", align_corners=False)
                )
            )
            h512 = self.global_fc(self.global_conv(low_g).reshape(n, -1))
            logits = self.class_head(h512)
            vec = self.global_out(h512)
            mid = self.mid(low)
            tiled = vec[:, :, None, None].expand(-1, -1, *mid.shape[2:])
            fused = torch.relu(self.fusion(torch.cat([tiled, mid], dim=1)))
            y = torch.sigmoid(self.colorize(fused))  # (N, 2, H/2, W/2)
            y = nn.functional.interpolate(y, size=(h, w), mode="bilinear", align_corners=False)
            return y, logits

    alpha = float(config.get("alpha", cf.DEFAULTS["alpha"]))

    def loss(net, batch):
        L, ab, labels = batch
        y, logits = net(torch.from_numpy(L))
        total = nn.functional.mse_loss(y, torch.from_numpy(cf.ab_to_target(ab)))
        if alpha > 0:
            ce = nn.functional.cross_entropy(logits, torch.from_numpy(labels))
            total = total + ce * alpha
        return total

    return Net(), loss


def torch_koala(config, size):
    import torch
    from torch import nn

    from tinycolor.models import cnn_koala as ck
    from tinycolor.models.cnn_fusion import channels

    def c(n):
        return channels(n, float(config["width"]))

    cc = _classifier_config("cnn_koala", config)
    s = int(cc["size"])
    cbr = _torch_conv_bn_relu

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(
                cbr(1, c(64), 2),
                cbr(c(64), c(128)),
                cbr(c(128), c(128), 2),
                cbr(c(128), c(256)),
                cbr(c(256), c(256), 2),
                cbr(c(256), c(512)),
                cbr(c(512), c(512)),
                cbr(c(512), c(256)),
            )
            # frozen, as KoalaNet's: always in eval mode, its embedding computed without
            # gradient (its parameters are counted, and given to Adam, which skips them)
            self.classifier = _torch_classifier(cc).requires_grad_(False).eval()
            self.fusion = nn.Conv2d(c(256) + self.classifier.embedding_dim, c(256), 1)
            self.decoder = nn.Sequential(
                cbr(c(256), c(128)),
                nn.Upsample(scale_factor=2, mode="nearest"),
                cbr(c(128), c(64)),
                cbr(c(64), c(64)),
                nn.Upsample(scale_factor=2, mode="nearest"),
                cbr(c(64), c(32)),
                nn.Conv2d(c(32), 2, 3, padding=1),
                nn.Tanh(),
                nn.Upsample(scale_factor=2, mode="nearest"),
            )

        def train(self, mode=True):
            super().train(mode)
            self.classifier.eval()
            return self

        def forward(self, x):
            h = self.encoder(x)
            with torch.no_grad():
                xs = (
                    x
                    if tuple(x.shape[2:]) == (s, s)
                    else nn.functional.interpolate(
                        x, size=(s, s), mode="bilinear", align_corners=False
                    )
                )
                e = self.classifier.embed(xs)
            tiled = e[:, :, None, None].expand(-1, -1, *h.shape[2:])
            return self.decoder(torch.relu(self.fusion(torch.cat([h, tiled], dim=1))))

    def loss(net, batch):
        L, ab = batch[0], batch[1]
        return nn.functional.mse_loss(net(torch.from_numpy(L)), torch.from_numpy(ab / ck.AB_SCALE))

    return Net(), loss


def torch_resnet(config, size):
    import torch
    from torch import nn

    from tinycolor.color import soft_encode
    from tinycolor.models import cnn_resnet as cr
    from tinycolor.models.cnn_classification import bins, downsample_ab, pixel_weights
    from tinycolor.models.cnn_fusion import channels

    def c(n):
        return channels(n, float(config["width"]))

    clf = _torch_classifier(_classifier_config("cnn_resnet", config))
    stride = 2 * clf.stride
    kind = config["loss"]
    out = len(bins(config)) if kind == "ce" else 2
    cbr = _torch_conv_bn_relu

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = clf.features  # trained with the head, as in tinycolor
            self.head = nn.Sequential(
                nn.Sequential(
                    nn.Conv2d(clf.embedding_dim, c(128), 4, stride=2, padding=1),
                    nn.BatchNorm2d(c(128)),
                    nn.ReLU(),
                ),
                cbr(c(128), c(128)),
                cbr(c(128), c(64)),
                cbr(c(64), c(64)),
                cbr(c(64), c(32)),
                nn.Conv2d(c(32), out, 3, padding=1),
            )

        def forward(self, x):
            return self.head(self.encoder(x))

    def loss(net, batch):
        L, ab = batch[0], batch[1]
        y = net(torch.from_numpy(L))
        if kind in ("l1", "l2"):
            y = nn.functional.interpolate(
                y, size=tuple(L.shape[2:]), mode="bilinear", align_corners=False
            )
            target = torch.from_numpy(ab / cr.AB_SCALE)
            fn = nn.functional.l1_loss if kind == "l1" else nn.functional.mse_loss
            return fn(y, target)
        ab_small = downsample_ab(ab, stride)
        target = soft_encode(
            ab_small, bins(config), k=int(config["k"]), sigma=float(config["sigma"]),
            channel_axis=1,
        )  # fmt: skip
        w = torch.from_numpy(np.asarray(pixel_weights(ab_small, config)))
        logp = torch.log_softmax(y, dim=1)
        per_pixel = -(torch.from_numpy(np.asarray(target, np.float32)) * logp).sum(1)
        return (per_pixel * w).mean()

    return Net(), loss


TORCH_NETS = {
    "cnn_regression": torch_regression,
    "cnn_classification": torch_classification,
    "cnn_fusion": torch_fusion,
    "cnn_koala": torch_koala,
    "cnn_resnet": torch_resnet,
}


def run_torch(name: str, batch_size: int, size: int, warmup: int, steps: int, threads: int) -> dict:
    import torch

    from tinycolor import models, train

    torch.set_num_threads(threads)
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
    sizes = (args.batch_size, args.size, args.warmup, args.steps)
    if args.child_framework == "torch":
        out = run_torch(args.child, *sizes, args.threads)
    else:
        out = run_tinycolor(args.child, *sizes)
    print("RESULT " + json.dumps(out))
    return 0


def _thread_env(threads: int) -> dict:
    """The environment of a measuring subprocess: this one's, with the thread counts that
    NumPy's BLAS and torch read as they load all set to ``threads``."""
    n = str(threads)
    return dict(os.environ, OMP_NUM_THREADS=n, OPENBLAS_NUM_THREADS=n, MKL_NUM_THREADS=n)


def _measure(name, framework, args) -> dict | str:
    """One measurement in a fresh subprocess: its results, or why it failed (a string)."""
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
        "--threads",
        str(args.threads),
    ]
    env = _thread_env(args.threads)
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    lines = proc.stderr.strip().splitlines()
    return lines[-1][:160] if lines else f"exit status {proc.returncode}, no error message"


def _measure_rounds(name: str, frameworks: list[str], args):
    """Measures ``name`` in each of ``frameworks``, ``args.rounds`` times, the order
    alternating from round to round. Returns {framework: [results]}, the highest 1-minute
    load average before a measurement (None where the system does not give it) and the
    failure, (framework, round, message), or None; a failure ends the model's rounds."""
    runs = {fw: [] for fw in frameworks}
    loads = []
    for r in range(args.rounds):
        for fw in frameworks if r % 2 == 0 else frameworks[::-1]:
            load = _load_average()
            if load is not None:
                loads.append(load[0])
            result = _measure(name, fw, args)
            if isinstance(result, str):
                return runs, max(loads, default=None), (fw, r + 1, result)
            runs[fw].append(result)
    return runs, max(loads, default=None), None


def _cells(runs: list[dict], failed_round: int | None, rounds: int) -> list[str]:
    """The params, images/s and peak MB cells of one framework's runs of a model: the median
    images/s (with how many rounds it comes from, when fewer than ``rounds``) and the largest
    peak (marked * when read by ru_maxrss); the round instead when its measurement failed."""
    params = f"{runs[0]['params']:,}" if runs else ""
    if failed_round is not None:
        return [params, f"failed in round {failed_round}", ""]
    if not runs:
        return [params, "not measured", ""]
    ips = f"{statistics.median(r['images_per_s'] for r in runs):.1f}"
    if len(runs) < rounds:
        ips += f" ({len(runs)} of {rounds} rounds)"
    peak = f"{max(r['peak_mb'] for r in runs):.0f}"
    if any(r["peak_method"] != "VmHWM" for r in runs):
        peak += "*"
    return [params, ips, peak]


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
    p.add_argument(
        "--models", nargs="+", default=list(MODELS), choices=list(MODELS), help="models to measure"
    )
    p.add_argument("--batch-size", type=argtypes.positive_int, default=32)
    p.add_argument("--size", type=argtypes.positive_int, default=64)
    p.add_argument(
        "--warmup", type=argtypes.nonnegative_int, default=None, help="untimed steps (default 3)"
    )
    p.add_argument(
        "--steps", type=argtypes.positive_int, default=None, help="timed steps (default 10)"
    )
    p.add_argument("--no-torch", action="store_true", help="tinycolor only")
    p.add_argument(
        "--rounds",
        type=argtypes.positive_int,
        default=None,
        help="measurements of each model, tinycolor and torch one right after the other, the "
        "order alternating from round to round (default 3; 1 with --quick); the table gives "
        "medians, and the ratios' range in brackets",
    )
    p.add_argument(
        "--threads",
        type=argtypes.positive_int,
        default=None,
        help="threads of each framework: torch.set_num_threads, and OMP_NUM_THREADS, "
        "OPENBLAS_NUM_THREADS and MKL_NUM_THREADS in both subprocesses' environment, replacing "
        "any set here (default: the cores this process may run on)",
    )
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--child-framework", default="tinycolor", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    args.steps = args.steps if args.steps is not None else (2 if args.quick else 10)
    args.rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    args.threads = args.threads if args.threads is not None else _cores()
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
        f"{args.rounds} round(s); {_cores()} cores, {args.threads} thread(s) in each framework; "
        f"numpy {np.__version__}"
        + (f", torch {torch_version}" if have_torch else ", torch not measured")
    )
    load = _load_average()
    if load is None:
        print("load average: not available here (make sure nothing else is running)")
    else:
        print(f"load average {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} (1, 5, 15 minutes)")
        if load[0] > IDLE_LOAD:
            print(
                f"WARNING: the 1-minute load is {load[0]:.2f}, above {IDLE_LOAD}: other "
                "processes are using the CPU, and the ratios are unreliable on a busy machine "
                "(torch's threads stall when another process takes a core, which can make "
                "tinycolor look several times faster than it is); run it on an idle machine"
            )
    header = ["model", "params", "tinycolor img/s", "peak MB", "torch params", "torch img/s",
              "torch peak MB", "speed, tinycolor/torch (<1: slower)", "load"]  # fmt: skip
    rows, failures, busy, marked = [], [], [], False
    for name in args.models:
        why = _importable(name)
        if why is not None:
            rows.append([name, f"skipped ({why[:60]})", *[""] * (len(header) - 2)])
            continue
        with_torch = have_torch and name in TORCH_NETS
        frameworks = ["tinycolor", "torch"] if with_torch else ["tinycolor"]
        runs, max_load, failure = _measure_rounds(name, frameworks, args)
        failed_round = {failure[0]: failure[1]} if failure is not None else {}
        row = [name, *_cells(runs["tinycolor"], failed_round.get("tinycolor"), args.rounds)]
        if with_torch:
            row += _cells(runs["torch"], failed_round.get("torch"), args.rounds)
            if failure is None:
                ratios = sorted(
                    a["images_per_s"] / b["images_per_s"]
                    for a, b in zip(runs["tinycolor"], runs["torch"])
                )
                spread = f" ({ratios[0]:.2f}-{ratios[-1]:.2f})" if len(ratios) > 1 else ""
                row.append(f"{statistics.median(ratios):.2f}{spread}")
            else:
                row.append("-")
        else:
            row += ["n/a"] * 4
        row.append("?" if max_load is None else f"{max_load:.2f}")
        rows.append(row)
        marked = marked or any(c.endswith("*") for c in row)
        if max_load is not None and max_load > args.threads + IDLE_LOAD:
            busy.append(name)
        if failure is not None:
            fw, k, message = failure
            failures.append(f"{name}: {fw} failed in round {k} of {args.rounds}: {message}")
            print(f"  {failures[-1]}", file=sys.stderr, flush=True)
        else:
            print(f"  measured {name}", file=sys.stderr, flush=True)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    print(
        "speed, tinycolor/torch: tinycolor's images/s over torch's in each round (1.00 = as "
        "fast as PyTorch; below 1 = tinycolor slower), the median over rounds, its range in "
        "brackets; images/s: medians; peak MB: the largest"
    )
    print(
        "peak MB: peak RSS of a fresh subprocess during the steps (VmHWM, its mark reset just "
        "before them) minus its RSS before the first step"
        + (
            "; *: ru_maxrss instead (VmHWM could not be reset here): the peak since the "
            "process started, which earlier transients can inflate"
            if marked
            else ""
        )
    )
    print(
        "load: the highest 1-minute load average before the model's measurements (this "
        f"benchmark's own threads, up to {args.threads}, count in it)"
    )
    for line in failures:
        print(line)
    if busy:
        print(
            f"WARNING: the 1-minute load went above {args.threads + IDLE_LOAD:g} (this "
            f"benchmark's {args.threads} thread(s) and {IDLE_LOAD}) before measuring "
            f"{', '.join(busy)}: something else was running too, and those ratios are unreliable"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
