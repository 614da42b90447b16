"""ann_window (seed 004, part 1): quantiser, windows, metrics, network, prediction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinycolor
from tinycolor import functional as F
from tinycolor import optim
from tinycolor.color import levels_to_rgb
from tinycolor.models import InputError, ann_window
from tinycolor.train import iterate_batches


def _config(**kw):
    cfg = dict(ann_window.DEFAULTS)
    cfg.update(lr=0.01, seed=0)
    cfg.update(kw)
    return cfg


# --------------------------------------------------------------------------- quantiser


def test_quantiser_hand_examples():
    values = np.array([0, 31, 32, 63, 64, 95, 96, 128, 159, 160, 191, 192, 223, 224, 255])
    want = np.array([0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3, 3])
    rgb = np.repeat(values[None, :, None], 3, axis=2) / 255.0
    np.testing.assert_array_equal(ann_window.rgb_levels(rgb, 4)[0, :, 1], want)
    np.testing.assert_array_equal(levels_to_rgb(want, 64)[:4], [0, 0, 64, 64])


@pytest.mark.parametrize("levels", [2, 4, 8])
def test_quantiser_is_the_nearest_level(levels):
    step = ann_window.level_step(levels)
    values = np.arange(256)
    centres = np.arange(levels) * step
    got = ann_window.rgb_levels(np.repeat(values[:, None], 3, 1)[None] / 255.0, levels)[0, :, 0]
    for v, label in zip(values, got):  # a loop over all 256 values: nearest centre, ties upward
        dist = np.abs(centres - v)
        best = np.flatnonzero(dist == dist.min()).max()
        assert label == best, (v, label, best)


def test_gray_baseline_gives_every_channel_the_gray_level():
    gray = np.array([[0.0, 0.3], [0.6, 1.0]], dtype=np.float32)
    labels = ann_window.gray_levels(gray, 4)
    assert labels.shape == (2, 2, 3)
    np.testing.assert_array_equal(labels[..., 0], [[0, 1], [2, 3]])  # 0, 77, 153, 255
    np.testing.assert_array_equal(labels[..., 0], labels[..., 2])


def test_to_gray_matches_skimage():
    skcolor = pytest.importorskip("skimage.color")
    rgb = np.random.default_rng(0).random((5, 6, 3)).astype(np.float32)
    np.testing.assert_allclose(ann_window.to_gray(rgb), skcolor.rgb2gray(rgb), atol=1e-6)


# --------------------------------------------------------------------------- windows


def _windows_by_loop(gray, window):
    h, w = gray.shape
    p = window // 2
    out = np.empty((h * w, window * window), gray.dtype)
    for i in range(h):
        for j in range(w):
            vals = []
            for di in range(-p, p + 1):
                for dj in range(-p, p + 1):
                    ii = min(max(i + di, 0), h - 1)  # edge padding: clamp to the border
                    jj = min(max(j + dj, 0), w - 1)
                    vals.append(gray[ii, jj])
            out[i * w + j] = vals
    return out


@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    window=st.sampled_from([1, 3, 5, 7]),
    seed=st.integers(0, 2**16),
)
def test_extract_windows_matches_a_loop(h, w, window, seed):
    gray = np.random.default_rng(seed).random((h, w)).astype(np.float32)
    np.testing.assert_array_equal(
        ann_window.extract_windows(gray, window), _windows_by_loop(gray, window)
    )


def test_extract_windows_rejects_even_windows():
    with pytest.raises(ValueError, match="odd"):
        ann_window.extract_windows(np.zeros((4, 4)), 4)


# --------------------------------------------------------------------------- metrics


def test_difference_hand_examples():
    true = np.zeros((1, 4, 3), dtype=np.int64)
    pred = np.array([[[1, 2, 3], [1, -1, 0], [0, 0, 1], [3, 0, 0]]])
    # per pixel |sum|: 6, 0 (the signed errors cancel), 1, 3 -> mean 2.5
    assert ann_window.difference(pred, true) == pytest.approx(2.5)
    assert ann_window.difference(true, true) == 0.0


@given(seed=st.integers(0, 2**16), n=st.integers(1, 40))
def test_difference_is_the_seeds_formula_on_8_bit_values(seed, n):
    rng = np.random.default_rng(seed)
    p, t = rng.integers(0, 4, (n, 3)), rng.integers(0, 4, (n, 3))
    r1, g1, b1 = levels_to_rgb(p, 64).astype(int).T
    r2, g2, b2 = levels_to_rgb(t, 64).astype(int).T
    seed_value = np.mean(np.abs((r1 - r2) + (g1 - g2) + (b1 - b2)) / 64)
    assert ann_window.difference(p, t) == pytest.approx(seed_value)


def test_accuracy_and_mae_hand_examples():
    true = np.array([[0, 1, 2], [3, 3, 3]])
    pred = np.array([[0, 1, 0], [3, 2, 0]])
    assert ann_window.accuracy_per_channel(pred, true) == [1.0, 0.5, 0.0]
    assert ann_window.mae_levels(pred, true) == pytest.approx((0 + 0 + 2 + 0 + 1 + 3) / 6)
    s = ann_window.score(pred, true)
    assert set(s) == {"difference", "accuracy_per_channel", "mae_levels"}
    assert s["difference"] == pytest.approx((2 + 4) / 2)


# --------------------------------------------------------------------------- network


def test_network_shapes_and_parameter_count():
    model = ann_window.build_model(_config())
    x = tinycolor.Tensor(np.zeros((5, 9), np.float32))
    assert model(x).shape == (5, 4, 3)
    assert sum(p.size for p in model.parameters()) == 3 * (9 * 9 + 9 + 9 * 4 + 4)  # 9-9-4 x 3
    probs = model.predict_proba(x).numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match=r"expected windows of shape \(N, 9\)"):
        model(tinycolor.Tensor(np.zeros((5, 25), np.float32)))


def test_the_three_nets_are_independent():
    model = ann_window.build_model(_config())
    x = tinycolor.Tensor(np.random.default_rng(0).random((6, 9)).astype(np.float32))
    before = model(x).numpy()
    for p in model.r.parameters():
        p.data = p.data + 1.0
    after = model(x).numpy()
    assert not np.allclose(before[..., 0], after[..., 0])
    np.testing.assert_array_equal(before[..., 1:], after[..., 1:])


def test_loss_is_mean_cross_entropy_and_training_lowers_it():
    cfg = _config()
    model = ann_window.build_model(cfg)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 9)).astype(np.float32)
    y = rng.integers(0, 4, (64, 3))
    batch = (tinycolor.Tensor(x), tinycolor.Tensor(y))
    loss = ann_window.loss(model, batch, cfg)
    logits = model(batch[0]).numpy()
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    want = -np.take_along_axis(logp, y[:, None, :], axis=1).mean()
    assert loss.item() == pytest.approx(want, rel=1e-5)
    opt = optim.Adam(model.parameters(), lr=0.05)
    for _ in range(30):
        opt.zero_grad()
        step_loss = ann_window.loss(model, batch, cfg)
        step_loss.backward()
        opt.step()
    assert ann_window.loss(model, batch, cfg).item() < 0.8 * loss.item()


def test_predict_levels_in_bands_equals_all_at_once(device):
    cfg = _config(window=5)
    tinycolor.manual_seed(3)
    model = ann_window.build_model(cfg).to(device)
    gray = np.random.default_rng(1).random((13, 11)).astype(np.float32)
    whole = ann_window.predict_levels(model, gray, device, chunk=10**6)
    banded = ann_window.predict_levels(model, gray, device, chunk=20)  # bands of 1 row
    np.testing.assert_array_equal(whole, banded)
    x = tinycolor.Tensor(ann_window.network_input(ann_window.extract_windows(gray, 5)))
    direct = F.softmax(model.to("cpu")(x), axis=1).numpy().argmax(axis=1).reshape(13, 11, 3)
    np.testing.assert_array_equal(whole, direct)


# --------------------------------------------------------------------------- data, colorize


def _write_image(path, rgb):
    from tinycolor.imageio import write_png

    return str(write_png(path, rgb))


def test_load_data_halves_and_two_images(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (10, 17, 3), dtype=np.uint8)
    path = _write_image(tmp_path / "a.png", rgb)
    data = ann_window.load_data(_config(image=path))
    x, y = data.train
    assert x.shape == (10 * 8, 9) and y.shape == (10 * 8, 3) and x.dtype == np.float32
    assert data.test[0].shape == (10 * 9, 9)
    np.testing.assert_array_equal(data.test_labels, ann_window.rgb_levels(rgb[:, 8:] / 255, 4))
    # the training half's windows never see the test half (each half padded on its own)
    np.testing.assert_array_equal(
        x, ann_window.network_input(ann_window.extract_windows(data.train_gray, 3))
    )
    other = _write_image(tmp_path / "b.png", rgb[:6, :7])
    data2 = ann_window.load_data(_config(train_image=path, test_image=other))
    assert data2.train[0].shape == (170, 9) and data2.test[0].shape == (42, 9)
    assert data2.split == "images"


def test_load_data_rejects_bad_sizes_and_half_pairs(tmp_path):
    small = _write_image(tmp_path / "s.png", np.zeros((8, 9, 3), np.uint8))
    with pytest.raises(InputError, match="at least 10 pixels across"):
        ann_window.load_data(_config(image=small, window=5))
    tiny = _write_image(tmp_path / "t.png", np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(InputError, match="smaller than the 3x3 window"):
        ann_window.load_data(_config(train_image=small, test_image=tiny))
    with pytest.raises(InputError, match="go together"):
        ann_window.load_data(_config(train_image=small))


def test_colorize_any_size_gives_only_level_values():
    cfg = _config(levels=8)
    model = ann_window.build_model(cfg)
    rgb = np.random.default_rng(0).random((7, 31, 3)).astype(np.float32)
    out = ann_window.colorize(model, rgb, cfg)
    assert out.shape == (7, 31, 3) and out.dtype == np.uint8
    assert set(np.unique(out)) <= set(range(0, 256, 32))
    with pytest.raises(InputError, match="smaller than the 3x3 window"):
        ann_window.colorize(model, rgb[:2], cfg)


def test_iterate_batches_covers_every_example_once():
    x = np.arange(10)[:, None] * np.ones((1, 3))
    y = np.arange(10)
    batches = list(iterate_batches((x, y), 4, np.random.default_rng(0), shuffle=True))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen) == list(range(10)) and list(seen) != list(range(10))
    for bx, by in batches:  # inputs stay paired with their labels
        np.testing.assert_array_equal(bx[:, 0], by)
