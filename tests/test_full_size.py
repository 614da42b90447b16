"""The CNN colorizers at their full-size flags, layer by layer against their sources.

The defaults are scaled down to train on a CPU; the flags that restore the papers' networks
(README, each model's docstring) must build exactly those networks. Each test lists the
source's layers (kernel, stride, padding, dilation, channels, BatchNorm, upsampling) and the
weight count of an independent PyTorch build of the same table. seed 004's ``cnn_regression``
(75 M weights, slow to initialise) is left to its docstring's count.
"""

from __future__ import annotations

import numpy as np

from tinycolor import nn, train
from tinycolor.autograd import Tensor
from tinycolor.color import ab_bins
from tinycolor.models import cnn_classification, cnn_fusion, cnn_koala, cnn_resnet


def _layers(model, skip: str | None = None):
    """The layers that shape the data, in the order they are registered: ("conv" or "convT",
    c_in, c_out, kernel, stride, padding, dilation), ("bn", C), ("linear", in, out),
    ("up", scale), ("tanh",); those under the submodule ``skip`` left out."""
    table = []
    for name, m in model.named_modules():
        if skip and (name == skip or name.startswith(skip + ".")):
            continue
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            kind = "convT" if isinstance(m, nn.ConvTranspose2d) else "conv"
            table.append(
                (kind, m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0])
                + (m.padding[0], m.dilation[0])
            )
        elif isinstance(m, nn.BatchNorm2d):
            table.append(("bn", m.num_features))
        elif isinstance(m, nn.Linear):
            table.append(("linear", m.in_features, m.out_features))
        elif isinstance(m, nn.Upsample):
            table.append(("up", m.scale_factor))
        elif isinstance(m, nn.Tanh):
            table.append(("tanh",))
    return table


def _conv(c_in, c_out, stride=1, dilation=1):
    """A 3x3 convolution keeping the grid (stride 1) or halving it (stride 2)."""
    return ("conv", c_in, c_out, 3, stride, dilation, dilation)


def _conv_bn(c_in, c_out, stride=1):
    """conv 3x3 -> BatchNorm (-> ReLU), the unit of Iizuka's and Koalarization's tables."""
    return [_conv(c_in, c_out, stride), ("bn", c_out)]


def _build(module, **overrides):
    return module.build_model(train.resolve_config(module, overrides))


def test_classification_at_width_1_is_zhangs_released_network():
    """``--width 1``: Zhang et al.'s network as released (colorization_deploy_v2, and its
    PyTorch port eccv16): stride 2 closing blocks 1-3, dilation 2 in blocks 5 and 6, BatchNorm
    closing blocks 1-7, a 4x4 stride-2 transposed conv opening block 8, a 1x1 conv to the Q
    logits at 1/4 of the input. The port has 32,235,385 weights with its 313 bins; each bin
    fewer is 256 + 1 fewer."""
    model = _build(cnn_classification, width=1.0)
    q = len(ab_bins())
    want = [_conv(1, 64), _conv(64, 64, 2), ("bn", 64)]
    want += [_conv(64, 128), _conv(128, 128, 2), ("bn", 128)]
    want += [_conv(128, 256), _conv(256, 256), _conv(256, 256, 2), ("bn", 256)]
    want += [_conv(256, 512), _conv(512, 512), _conv(512, 512), ("bn", 512)]
    for dilation in (2, 2, 1):  # blocks 5, 6 and 7
        want += [_conv(512, 512, dilation=dilation)] * 3 + [("bn", 512)]
    want += [("convT", 512, 256, 4, 2, 1, 1), _conv(256, 256), _conv(256, 256)]
    want += [("conv", 256, q, 1, 1, 0, 1)]
    assert _layers(model) == want
    assert model.num_parameters() == 32_235_385 - 257 * (313 - q)
    assert model(Tensor(np.zeros((1, 1, 16, 8), np.float32))).shape == (1, q, 4, 2)


def test_fusion_at_full_size_is_iizukas_network():
    """``--width 1 --global-size 224``: Iizuka et al.'s Table 1. Low-level 64 s2, 128, 128 s2,
    256, 256 s2, 512; mid-level 512, 256; global 512 s2, 512, 512 s2, 512 on the 224 copy's
    7x7 grid, FC 1024, 512, 256; the class head FC 256, classes from the FC 512; fusion 1x1
    on [global; mid] to 256; colorization 128, up, 64, 64, up, 32, 2. 42,310,821 weights with 3
    classes."""
    model = _build(cnn_fusion, width=1.0, global_size=224)
    low = _conv_bn(1, 64, 2) + _conv_bn(64, 128) + _conv_bn(128, 128, 2)
    low += _conv_bn(128, 256) + _conv_bn(256, 256, 2) + _conv_bn(256, 512)
    mid = _conv_bn(512, 512) + _conv_bn(512, 256)
    glob = _conv_bn(512, 512, 2) + _conv_bn(512, 512) + _conv_bn(512, 512, 2) + _conv_bn(512, 512)
    glob += [("linear", 7 * 7 * 512, 1024), ("linear", 1024, 512), ("linear", 512, 256)]
    head = [("linear", 512, 256), ("linear", 256, 3)]
    fusion = [("conv", 512, 256, 1, 1, 0, 1)]
    colorize = _conv_bn(256, 128) + [("up", 2)] + _conv_bn(128, 64) + _conv_bn(64, 64)
    colorize += [("up", 2)] + _conv_bn(64, 32) + [_conv(32, 2)]
    assert _layers(model) == low + mid + glob + head + fusion + colorize
    assert model.num_parameters() == 42_310_821


def test_koala_at_width_1_is_deep_koalarizations_network():
    """``--width 1``: Deep Koalarization's encoder 64 s2, 128, 128 s2, 256, 256 s2, 512, 512,
    256; fusion 1x1 on [encoder; the D-number embedding] to 256; decoder 128, up, 64, 64, up,
    32, 2, tanh, up (BatchNorm is this project's addition). Without the classifier: 6,322,594
    + 256 D weights."""
    model = _build(cnn_koala, width=1.0)
    d = model.classifier.embedding_dim
    enc = _conv_bn(1, 64, 2) + _conv_bn(64, 128) + _conv_bn(128, 128, 2) + _conv_bn(128, 256)
    enc += _conv_bn(256, 256, 2) + _conv_bn(256, 512) + _conv_bn(512, 512) + _conv_bn(512, 256)
    fusion = [("conv", 256 + d, 256, 1, 1, 0, 1)]
    dec = _conv_bn(256, 128) + [("up", 2)] + _conv_bn(128, 64) + _conv_bn(64, 64) + [("up", 2)]
    dec += _conv_bn(64, 32) + [_conv(32, 2), ("tanh",), ("up", 2)]
    assert _layers(model, skip="classifier") == enc + fusion + dec
    own = model.num_parameters() - model.classifier.num_parameters()
    assert own == 6_322_594 + 256 * d
    assert model(Tensor(np.zeros((1, 1, 32, 32), np.float32))).shape == (1, 2, 32, 32)


def test_resnet_colorizer_at_full_size_is_resnet18_and_seed_001s_head():
    """``--encoder-width 64 --stages 4 --width 1``: ResNet-18's features (11,170,240 weights
    on one channel, without its classifier) and seed 001's Table 1: conv 4x4 s2 128, 3x3 128,
    64, 64, 32, then 3x3 to the output (Q logits with --loss ce), at 1/64 of the input."""
    model = _build(cnn_resnet, width=1.0, encoder_width=64, stages=4)
    q = len(ab_bins())
    head = [("conv", 512, 128, 4, 2, 1, 1), ("bn", 128)] + _conv_bn(128, 128)
    head += _conv_bn(128, 64) + _conv_bn(64, 64) + _conv_bn(64, 32) + [_conv(32, q)]
    assert _layers(model.head) == head
    assert model.encoder.num_parameters() == 11_170_240
    assert model.head.num_parameters() == 1_326_304 + (32 * 9 + 1) * q
    assert model(Tensor(np.zeros((1, 1, 128, 128), np.float32))).shape == (1, q, 2, 2)
