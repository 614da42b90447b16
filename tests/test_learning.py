"""End to end: the layers, the autograd and the optimizers learn small problems, and a fixed
seed makes training exactly reproducible."""

from __future__ import annotations

import numpy as np

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
