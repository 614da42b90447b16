"""End to end: the layers, the autograd and the optimizers learn small problems, and a fixed
seed makes training exactly reproducible."""

from __future__ import annotations

import numpy as np
import pytest

import tinycolor as tc
import tinycolor.functional as F
from tinycolor import nn, optim

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


def _train_xor(seed):
    tc.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = optim.Adam(model.parameters(), lr=0.05)
    x, y = tc.tensor(XOR_X), tc.tensor(XOR_Y)
    losses = []
    for _ in range(200):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, losses


def test_mlp_learns_xor():
    model, losses = _train_xor(0)
    assert losses[-1] < 0.05, losses[-1]
    with tc.no_grad():
        predicted = model(tc.tensor(XOR_X)).numpy() > 0
    np.testing.assert_array_equal(predicted, XOR_Y > 0.5)
    _, again = _train_xor(0)
    assert again == losses  # the same seed, the same run, to the last bit


def _bars(n, rng, size=12):
    """Noisy images of a few vertical (label 0) or horizontal (label 1) bright bars."""
    labels = rng.integers(0, 2, n)
    images = rng.normal(0, 0.3, (n, 1, size, size)).astype(np.float32)
    for i, label in enumerate(labels):
        for line in rng.choice(size, size=rng.integers(1, 4), replace=False):
            if label == 0:
                images[i, 0, :, line] += 1.0
            else:
                images[i, 0, line, :] += 1.0
    return images, labels.astype(np.int64)


def _cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding=1),
        nn.ReLU(),
        nn.AvgPool2d(6),
        nn.Flatten(),
        nn.Dropout(0.1),
        nn.Linear(8, 2),
    )


def _train_cnn(seed, epochs=6):
    tc.manual_seed(seed)
    rng = np.random.default_rng(seed)
    images, labels = _bars(320, rng)
    model = _cnn()
    opt = optim.Adam(model.parameters(), lr=0.02)
    sched = optim.StepLR(opt, step_size=4, gamma=0.3)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(images))
        for start in range(0, len(images), 32):
            batch = order[start : start + 32]
            opt.zero_grad()
            loss = F.cross_entropy(model(tc.tensor(images[batch])), tc.tensor(labels[batch]))
            loss.backward()
            opt.step()
            losses.append(loss.item())
        sched.step()
    return model, losses


def test_cnn_learns_bar_orientation():
    model, losses = _train_cnn(0)
    test_images, test_labels = _bars(200, np.random.default_rng(123))
    model.eval()
    with tc.no_grad():
        predicted = model(tc.tensor(test_images)).numpy().argmax(axis=1)
    accuracy = (predicted == test_labels).mean()
    assert accuracy > 0.95, (accuracy, losses[-5:])
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    _, again = _train_cnn(0, epochs=2)  # the same seed, the same first two epochs, bit for bit
    assert again == losses[: len(again)]


def _encoder_decoder(torch, nn):
    """A small U-Net-style classifier, written once for PyTorch and translated by renaming the
    import alone (torch, nn are tinycolor and tinycolor.nn, or PyTorch's)."""
    F = nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.down = nn.Sequential(
                nn.Conv2d(2, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU()
            )
            self.pool = nn.MaxPool2d(2)
            self.mid = nn.Sequential(nn.Conv2d(6, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU())
            self.up = nn.ConvTranspose2d(6, 6, kernel_size=2, stride=2)
            self.head = nn.Sequential(
                nn.Conv2d(12, 4, 3, padding="same"),
                nn.LeakyReLU(0.1),
                nn.AdaptiveAvgPool2d((1, 1)),
                nn.Flatten(),
                nn.Linear(4, 3),
            )

        def forward(self, x):
            skip = self.down(x)
            h = self.up(self.mid(self.pool(skip)))
            h = h + F.interpolate(self.pool(skip), scale_factor=2, mode="bilinear")
            return self.head(torch.cat([h, skip], dim=1))

    return Net().double()


def test_a_small_cnn_trains_step_for_step_as_pytorchs():
    """Conv2d, BatchNorm2d (training then evaluation), pooling, ConvTranspose2d, a skip joined
    by cat, interpolate, AdaptiveAvgPool2d, cross-entropy, Adam with parameter groups and a
    cosine schedule, the program written once for both libraries: from the same weights, the
    same losses, weights and running statistics after every step (float64), and the same
    predictions in evaluation mode."""
    torch = pytest.importorskip("torch")
    tc.manual_seed(0)
    model, ref = _encoder_decoder(tc, nn), _encoder_decoder(torch, torch.nn)
    assert list(model.state_dict()) == list(ref.state_dict())
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((5, 8, 2, 6, 6)), rng.integers(0, 3, (5, 8))

    def run(m, net):
        opt = m.optim.Adam(
            [{"params": net.head.parameters(), "lr": 0.05}, {"params": net.down.parameters()}]
            + [{"params": list(net.mid.parameters()) + list(net.up.parameters())}],
            lr=0.02,
            weight_decay=1e-3,
        )
        sched = m.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
        losses = []
        for xb, yb in zip(x, y):
            opt.zero_grad()
            loss = m.nn.functional.cross_entropy(net(m.tensor(xb)), m.tensor(yb))
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        net.eval()
        with m.no_grad():
            return losses, net(m.tensor(x[0])).numpy()

    losses, out = run(tc, model)
    ref_losses, ref_out = run(torch, ref)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-10)
    np.testing.assert_allclose(out, ref_out, rtol=1e-9, atol=1e-12)
    for name, value in ref.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[name], value.numpy(), rtol=1e-9, atol=1e-12)
