"""The Lab CNN colorizers (cnn_regression, cnn_classification) and what they share (lab_common).

For each model: forward/backward shapes, one training step lowers the loss on a fixed batch,
save -> load gives identical predictions, and the training command end to end on tiny
settings. Plus the shared pieces: the L scaling, tiling, the baselines' scores against a
direct computation, colorize on odd sizes.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import tinycolor
from tinycolor import optim, train
from tinycolor.autograd import Tensor
from tinycolor.color import ab_bins, lab_to_rgb, rgb_to_lab
from tinycolor.models import cnn_classification, cnn_regression, lab_common
from tinycolor.runs import checkpoint_meta, load_model

# tiny networks: the tests check the plumbing and the maths, not the colours
TINY = {
    "cnn_regression": {"size": 16, "conv1": 4, "conv2": 4, "fc1": 8, "fc2": 8, "dropout": 0.0},
    "cnn_classification": {"size": 16, "width": 1 / 32},
}
MODULES = {"cnn_regression": cnn_regression, "cnn_classification": cnn_classification}
CLI_TINY = {
    "cnn_regression": ["--conv1", "4", "--conv2", "4", "--fc1", "8", "--fc2", "8"],
    "cnn_classification": ["--width", "0.03125"],
}


def _config(name, **kw):
    module = MODULES[name]
    cfg = dict(module.DEFAULTS)
    cfg.update(TINY[name], lr=0.01, seed=0)
    cfg.update(kw)
    return cfg


def _fixed_batch(size=16, n=4, seed=0):
    """Smooth colourful Lab crops: L (N, 1, s, s) network-scaled, ab (N, 2, s, s)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    imgs = []
    for _ in range(n):
        r = 0.5 + 0.4 * np.sin(2 * np.pi * (xx * rng.uniform(0.5, 2) + rng.uniform()))
        g = 0.5 + 0.4 * np.cos(2 * np.pi * (yy * rng.uniform(0.5, 2) + rng.uniform()))
        b = np.full_like(r, rng.uniform(0.1, 0.9))
        imgs.append(np.stack([r, g, b], -1))
    lab = np.asarray(rgb_to_lab(np.stack(imgs).astype(np.float32)))
    return lab_common._split_planes(lab)


def _prior_config(name, ab):
    cfg = _config(name)
    from tinycolor.color import empirical_prior

    cfg["prior"] = [float(p) for p in empirical_prior(ab, channel_axis=1)]
    cfg["mean_ab"] = [float(v) for v in ab.mean(axis=(0, 2, 3))]
    return cfg


# --------------------------------------------------------------------------- shared pieces


def test_l_scaling_round_trips_and_spans_minus_one_to_one():
    L = np.array([0.0, 50.0, 100.0], dtype=np.float32)
    np.testing.assert_allclose(lab_common.to_net_l(L), [-1, 0, 1])
    np.testing.assert_allclose(lab_common.from_net_l(lab_common.to_net_l(L)), L, atol=1e-5)


def test_tiles_cover_a_centred_grid():
    img = np.arange(10 * 13 * 3, dtype=np.float32).reshape(10, 13, 3)
    t = lab_common.tiles(img, 4)
    assert t.shape == (2 * 3, 4, 4, 3)
    # the grid is centred: 2 rows of margin 1 on top, 3 columns of margin 0 on the left
    np.testing.assert_array_equal(t[0], img[1:5, 0:4])
    np.testing.assert_array_equal(t[5], img[5:9, 8:12])


def test_default_image_size_and_crops_per_epoch():
    cfg = {"size": 64, "image_size": None, "crops": None}
    assert lab_common.resolve_image_size(dict(cfg), synthetic=False) == lab_common.PHOTO_SIZE
    assert lab_common.resolve_image_size(dict(cfg), synthetic=True) == lab_common.SYNTHETIC_SIZE
    big = {"size": 300, "image_size": None}
    assert lab_common.resolve_image_size(big, synthetic=True) == 300 == big["image_size"]
    with pytest.raises(lab_common.InputError, match="--image-size 32 is smaller"):
        lab_common.resolve_image_size({"size": 64, "image_size": 32}, synthetic=False)
    for n_train, want in [(1, 256), (4, 64), (13, 20), (240, 1), (1000, 1)]:
        c = dict(cfg)
        assert lab_common.crops_per_image(c, n_train) == want == c["crops"]
    assert lab_common.crops_per_image({"crops": 3}, 13) == 3  # given: kept


def test_score_of_the_truth_is_perfect_and_gray_baseline_is_direct():
    L_net, ab = _fixed_batch()
    L = lab_common.from_net_l(L_net)
    perfect = lab_common.score(L, ab, ab)
    assert perfect["acc10"] == 1.0 and perfect["auc"] == 1.0 and perfect["psnr"] > 60
    gray = lab_common.score(L, np.zeros_like(ab), ab)
    # acc10 of ab = 0 counted directly: both |a| and |b| within 10
    direct = np.mean((np.abs(ab[:, 0]) <= 10) & (np.abs(ab[:, 1]) <= 10))
    assert gray["acc10"] == pytest.approx(direct)
    assert gray["colorfulness"] < 1.0 < perfect["colorfulness"]


def test_load_data_splits_whole_images_and_takes_its_statistics_from_the_training_set():
    from tinycolor.color import empirical_prior

    cfg = {**lab_common.DATA_DEFAULTS, "data": "synthetic", "n_synthetic": 10, "size": 16}
    cfg.update(image_size=16, test_fraction=0.3, seed=3)
    data = lab_common.load_data(cfg)
    assert len(data.test_names) == 3 and len(data.train_names) == 7
    assert sorted(data.train_names + data.test_names) == sorted(
        set(data.train_names + data.test_names)
    )
    ab = np.concatenate([im[..., 1:].reshape(-1, 2) for im in data.train.images]).astype(np.float64)
    np.testing.assert_allclose(cfg["mean_ab"], ab.mean(axis=0), atol=1e-4)
    test_ab = np.concatenate([im[..., 1:].reshape(-1, 2) for im in data.test_images])
    assert np.abs(test_ab.mean(axis=0) - ab.mean(axis=0)).max() > 0.1  # the test set differs
    np.testing.assert_allclose(cfg["prior"], empirical_prior(ab), rtol=1e-5, atol=1e-9)
    # the prior is smoothed with the soft-encoding's Gaussian (Zhang et al.), --sigma included
    cfg.update(sigma=2.0)
    lab_common.load_data(cfg)
    np.testing.assert_allclose(cfg["prior"], empirical_prior(ab, sigma=2.0), rtol=1e-5, atol=1e-9)
    assert np.abs(np.subtract(cfg["prior"], empirical_prior(ab))).max() > 1e-4


def test_the_seed_picks_the_held_out_photos(tmp_path):
    """README: the five seeds of the results hold out five different sets of photos."""
    from tinycolor.imageio import write_png

    rng = np.random.default_rng(0)
    for k in range(6):
        write_png(tmp_path / f"p{k}.png", rng.random((16, 16, 3)))
    cfg = {**lab_common.DATA_DEFAULTS, "data": str(tmp_path), "size": 16, "image_size": 16}
    held_out = {tuple(lab_common.load_data(dict(cfg, seed=s)).test_names) for s in range(4)}
    assert len(held_out) > 1


def test_evaluate_scores_the_baselines_on_the_test_tiles():
    """lab_common.evaluate (a training run's metrics.json): the gray and mean-ab baselines and
    the truth's colourfulness, against direct computations on the same tiles."""
    from tinycolor import metrics as M

    cfg = {**lab_common.DATA_DEFAULTS, "data": "synthetic", "n_synthetic": 6, "size": 16}
    cfg.update(image_size=32, seed=0)
    data = lab_common.load_data(cfg)

    class Model:  # predicts ab = (3, -4) everywhere
        training = False

        def eval(self):
            return self

        def train(self, mode=True):
            return self

    def predict_ab(model, L_net, config, device):
        return np.broadcast_to(np.float32([3, -4])[:, None, None], (len(L_net), 2, 16, 16))

    metrics = lab_common.evaluate(predict_ab, Model(), data, cfg)
    L_net, ab = data.test
    flat = ab.transpose(1, 0, 2, 3).reshape(2, -1)
    for who, const in (("model", [3, -4]), ("gray", [0, 0]), ("mean_ab", cfg["mean_ab"])):
        scores = metrics if who == "model" else metrics["baselines"][who]
        guess = np.broadcast_to(np.float32(const)[:, None], flat.shape)
        assert scores["acc10"] == pytest.approx(M.acc_within(guess, flat, channel_axis=0)), who
        assert scores["auc"] == pytest.approx(M.auc_ab(guess, flat, channel_axis=0)), who
    assert abs(metrics["baselines"]["gray"]["colorfulness"]) < 0.05
    truth = np.asarray(lab_to_rgb(np.concatenate([lab_common.from_net_l(L_net), ab], 1), 1))
    truth_cf = np.mean(M.colorfulness(truth.transpose(0, 2, 3, 1)))
    assert metrics["truth"]["colorfulness"] == pytest.approx(truth_cf, rel=1e-5)


def test_crop_batches_mirror_about_half_the_crops():
    ramp = np.broadcast_to(np.linspace(-40, 40, 8, dtype=np.float32)[None, :, None], (8, 8, 3))
    lab = np.ascontiguousarray(ramp + np.float32([50, 0, 0]))
    crops = lab_common.CropBatches([lab], size=8, crops=40)
    (batch,) = list(crops.batches(40, np.random.default_rng(0)))
    a = batch[1][:, 0]  # the a plane of each crop: the whole image, or its mirror
    mirrored = np.array([np.array_equal(x, lab[:, ::-1, 1]) for x in a])
    assert all(m or np.array_equal(x, lab[..., 1]) for m, x in zip(mirrored, a))
    assert 10 < mirrored.sum() < 30


def test_image_metrics_are_the_metrics_of_the_colorization():
    from tinycolor import metrics as M

    rgb = np.random.default_rng(0).uniform(0.2, 0.8, (12, 10, 3)).astype(np.float32)
    pred = np.clip(
        np.rint((rgb + np.random.default_rng(1).normal(0, 0.06, rgb.shape)) * 255), 0, 255
    )
    pred = pred.astype(np.uint8)
    got = lab_common.image_metrics(pred, rgb, {})
    pred_f = pred.astype(np.float32) / 255
    ab_p, ab_t = np.asarray(rgb_to_lab(pred_f))[..., 1:], np.asarray(rgb_to_lab(rgb))[..., 1:]
    want = {
        "psnr": M.psnr(pred_f, rgb),
        "ssim": M.ssim(pred_f, rgb),
        "acc10": M.acc_within(ab_p, ab_t, 10.0),
        "auc": M.auc_ab(ab_p, ab_t),
        "colorfulness": M.colorfulness(pred_f),
        "truth_colorfulness": M.colorfulness(rgb),
    }
    assert 0.1 < want["acc10"] < 0.95  # errors on both sides of the threshold
    assert got == pytest.approx(want, rel=1e-9)


def test_regression_target_scale_matches_the_seed():
    ab = np.array([-128.0, 0.0, 127.0], dtype=np.float32)
    np.testing.assert_allclose(cnn_regression.ab_to_target(ab), [0.0, 128 / 255, 1.0])


def test_downsample_ab_is_the_block_mean():
    ab = np.random.default_rng(1).normal(size=(2, 2, 8, 12)).astype(np.float32)
    got = cnn_classification.downsample_ab(ab)
    assert got.shape == (2, 2, 2, 3)
    np.testing.assert_allclose(got[1, 0, 1, 2], ab[1, 0, 4:8, 8:12].mean(), rtol=1e-5)


def test_classification_defaults_are_the_papers():
    """Zhang et al.: soft-encoding over the 5 nearest bins with sigma 5, grid 10,
    rebalancing lambda 0.5, annealed-mean T 0.38."""
    d = cnn_classification.DEFAULTS
    assert (d["k"], d["sigma"], d["grid"]) == (5, 5.0, 10.0)
    assert (d["rebalance"], d["rebalance_lambda"], d["temperature"]) == (True, 0.5, 0.38)


def test_pixel_weights_are_the_rebalancing_weight_of_the_nearest_bin():
    from tinycolor.color import nearest_bin, rebalance_weights

    _, ab = _fixed_batch(n=4)
    cfg = _prior_config("cnn_classification", ab)
    ab_small = cnn_classification.downsample_ab(ab)
    ab_small[2] = 0.0
    ab_small[2, 0, 1, 1] = 6.0  # one pixel beyond 5: the image has colour, and a loss
    ab_small[3] = 0.0
    ab_small[3, 1, 2, 3] = -4.9  # nothing beyond 5: gray, no loss
    for lam in (0.5, 0.2):
        w = cnn_classification.pixel_weights(ab_small, {**cfg, "rebalance_lambda": lam})
        per_bin = rebalance_weights(np.float32(cfg["prior"]), lam)
        want = per_bin[nearest_bin(ab_small, ab_bins(), channel_axis=1)]
        want[3] = 0.0
        np.testing.assert_array_equal(w, want)


def test_classification_loss_is_the_rebalanced_cross_entropy_of_the_soft_encoding():
    """Zhang eq. 2 computed here: soft-encode the 4x4 block means over k bins with sigma,
    -sum_q Z log softmax(logits), weighted per pixel, averaged; k and sigma from the config."""
    from tinycolor.color import nearest_bin, rebalance_weights, soft_encode

    tinycolor.manual_seed(0)
    L, ab = _fixed_batch(n=3)
    cfg = _prior_config("cnn_classification", ab)
    cfg.update(k=3, sigma=8.0, rebalance_lambda=0.3)
    model = cnn_classification.build_model(cfg)
    model.eval()
    got = cnn_classification.loss(model, (Tensor(L), Tensor(ab)), cfg).item()
    logits = model(Tensor(L)).numpy().astype(np.float64)
    logp = logits - logits.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    small = ab.reshape(3, 2, 4, 4, 4, 4).mean(axis=(3, 5))
    z = np.asarray(soft_encode(small.astype(np.float64), ab_bins(), k=3, sigma=8.0, channel_axis=1))
    w = rebalance_weights(np.float32(cfg["prior"]), 0.3)[
        nearest_bin(small, ab_bins(), channel_axis=1)
    ]
    want = (-(z * logp).sum(axis=1) * w).mean()
    assert got == pytest.approx(want, rel=1e-4)
    assert np.ptp(w) > 0.1  # the weights matter


def test_pixel_weights_rebalance_and_skip_gray_images():
    _, ab = _fixed_batch(n=3)
    cfg = _prior_config("cnn_classification", ab)
    ab_small = cnn_classification.downsample_ab(ab)
    ab_small[1] = 0.0  # a gray image: no loss
    w = cnn_classification.pixel_weights(ab_small, cfg)
    assert w.shape == (3, 4, 4)
    assert np.all(w[1] == 0) and np.all(w[[0, 2]] > 0)
    cfg["rebalance"] = False
    w1 = cnn_classification.pixel_weights(ab_small, cfg)
    np.testing.assert_array_equal(w1[[0, 2]], 1.0)


def test_classification_predicts_the_bin_it_is_certain_of():
    """Logits that put (almost) all mass on one bin decode to that bin's ab, upsampled."""
    bins = ab_bins()
    cfg = _config("cnn_classification")
    q = 17

    class OneBin:
        training = False

        def __call__(self, x):
            n, _, h, w = x.shape
            z = np.full((n, len(bins), h // 4, w // 4), -50.0, dtype=np.float32)
            z[:, q] = 50.0
            return Tensor(z)

        def eval(self):
            return self

        def train(self, mode=True):
            return self

    ab = lab_common.predict_batches(
        cnn_classification.predict_ab, OneBin(), np.zeros((1, 1, 16, 16), np.float32), cfg, "cpu"
    )
    assert ab.shape == (1, 2, 16, 16)
    np.testing.assert_allclose(ab[0, :, 5, 7], bins[q], atol=1e-3)

    class TwoBins(OneBin):  # bin q on the left half of the 4x4 logits, bin r on the right
        def __call__(self, x):
            z = super().__call__(x).data
            z[:, :, :, 2:] = -50.0
            z[:, r, :, 2:] = 50.0
            return Tensor(z)

    r = 200
    ab = lab_common.predict_batches(
        cnn_classification.predict_ab, TwoBins(), np.zeros((1, 1, 16, 16), np.float32), cfg, "cpu"
    )
    row = ab[0, 0, 5]  # upsampled bilinearly: a ramp from one bin's a to the other's
    np.testing.assert_allclose(row[[0, -1]], [bins[q, 0], bins[r, 0]], atol=1e-3)
    assert len(np.unique(np.round(row, 3))) > 4


# --------------------------------------------------------------------------- every model


@pytest.mark.parametrize("name", list(MODULES))
def test_forward_backward_shapes(name):
    module = MODULES[name]
    tinycolor.manual_seed(0)
    cfg = _config(name)
    model = module.build_model(cfg)
    L, ab = _fixed_batch()
    out = model(Tensor(L))
    if name == "cnn_regression":
        assert out.shape == (4, 2, 16, 16)
        assert float(out.data.min()) >= 0 and float(out.data.max()) <= 1
    else:
        assert out.shape == (4, len(ab_bins()), 4, 4)
    cfg = _prior_config(name, ab)
    loss = module.loss(model, (Tensor(L), Tensor(ab)), cfg)
    assert loss.shape == () and np.isfinite(loss.item())
    loss.backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, pname
        assert np.all(np.isfinite(p.grad)), pname
    pred = lab_common.predict_batches(module.predict_ab, model, L, cfg, "cpu")
    assert pred.shape == ab.shape


@pytest.mark.parametrize("name", list(MODULES))
def test_wrong_input_shape_names_the_network(name):
    model = MODULES[name].build_model(_config(name))
    with pytest.raises(ValueError, match=r"expected L of shape"):
        model(Tensor(np.zeros((1, 1, 12, 20), np.float32)))


@pytest.mark.parametrize("name", list(MODULES))
def test_one_training_step_lowers_the_loss(name):
    module = MODULES[name]
    tinycolor.manual_seed(0)
    L, ab = _fixed_batch()
    cfg = _prior_config(name, ab)
    model = module.build_model(cfg)
    model.train()
    batch = (Tensor(L), Tensor(ab))
    opt = optim.Adam(model.parameters(), lr=1e-2 if name == "cnn_regression" else 3e-3)
    before = module.loss(model, batch, cfg)
    opt.zero_grad()
    before.backward()
    opt.step()
    after = module.loss(model, batch, cfg)
    assert after.item() < before.item()


@pytest.mark.parametrize("name", list(MODULES))
def test_save_load_gives_identical_predictions(name, tmp_path):
    module = MODULES[name]
    tinycolor.manual_seed(0)
    L, ab = _fixed_batch()
    cfg = _prior_config(name, ab)
    model = module.build_model(cfg)
    # a training step, so BatchNorm's running statistics are no longer their initial values
    opt = optim.Adam(model.parameters(), lr=1e-2)
    module.loss(model, (Tensor(L), Tensor(ab)), cfg).backward()
    opt.step()
    before = lab_common.predict_batches(module.predict_ab, model, L, cfg, "cpu")
    path = tmp_path / "model.npz"
    tinycolor.save(model, path, meta=checkpoint_meta(name, cfg))
    mod2, model2, cfg2, _ = load_model(path, expect_model=name)
    assert mod2 is module and cfg2["prior"] == cfg["prior"]
    after = lab_common.predict_batches(module.predict_ab, model2, L, cfg2, "cpu")
    np.testing.assert_array_equal(before, after)
    # a checkpoint written before BatchNorm counted its batches (no num_batches_tracked)
    state = tinycolor.load(path)
    meta = state.pop("__meta__")
    old = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    tinycolor.save(old, tmp_path / "old.npz", meta=meta)
    _, model3, cfg3, _ = load_model(tmp_path / "old.npz", expect_model=name)
    after = lab_common.predict_batches(module.predict_ab, model3, L, cfg3, "cpu")
    np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("name", list(MODULES))
@pytest.mark.parametrize("shape", [(13, 21, 3), (16, 16, 3), (9, 7)])
def test_colorize_any_size_keeps_the_lightness(name, shape, capsys):
    module = MODULES[name]
    tinycolor.manual_seed(0)
    cfg = _config(name, mean_ab=[0.0, 0.0])
    model = module.build_model(cfg)
    rgb = np.random.default_rng(2).random(shape).astype(np.float32)
    out = module.colorize(model, rgb, cfg)
    assert out.shape == shape[:2] + (3,) and out.dtype == np.uint8
    L_in = np.asarray(rgb_to_lab(rgb if rgb.ndim == 3 else np.repeat(rgb[..., None], 3, -1)))
    L_out = np.asarray(rgb_to_lab(out.astype(np.float32) / 255))[..., 0]
    # out-of-gamut predictions are clipped, so L moves a little; never far
    assert np.median(np.abs(L_out - L_in[..., 0])) < 5
    err = capsys.readouterr().err
    if name == "cnn_regression" and shape[:2] != (16, 16):
        assert "resized" in err
    else:
        assert "resized" not in err


def test_colorize_predicts_a_big_photo_at_the_largest_scale_it_trained_at(capsys):
    """Trained on photos of short side 16 seen at zoom 0.5 to 2, a fully convolutional model
    sees them at most at short side 32: a 40x60 photo is predicted at 32x48, its ab resized
    back onto its own lightness; a 30x45 one is predicted whole."""
    from tinycolor.data import transforms

    tinycolor.manual_seed(0)
    cfg = _config("cnn_classification", image_size=16, zoom=(0.5, 2.0), mean_ab=[0.0, 0.0])
    assert lab_common.largest_scale(cfg) == 32
    model = cnn_classification.build_model(cfg)
    rng = np.random.default_rng(4)
    big = rng.random((40, 60, 3)).astype(np.float32)
    out = cnn_classification.colorize(model, big, cfg)
    assert "it was seen at 48x32" in capsys.readouterr().err
    L = np.asarray(rgb_to_lab(big))[..., 0]
    small = lab_common.to_net_l(transforms.resize(L, (32, 48)))[None, None]
    ab = lab_common.predict_batches(cnn_classification.predict_ab, model, small, cfg, "cpu")[0]
    ab = transforms.resize(ab.transpose(1, 2, 0), (40, 60))
    want = np.asarray(lab_to_rgb(np.concatenate([L[..., None], ab], axis=-1)))
    np.testing.assert_array_equal(out, np.clip(np.rint(want * 255), 0, 255).astype(np.uint8))
    cnn_classification.colorize(model, big[:30, :45], cfg)
    assert "seen at" not in capsys.readouterr().err
    assert lab_common.largest_scale({"size": 16}) is None  # a checkpoint that does not say


def test_colorize_converts_a_photo_a_band_of_rows_at_a_time(monkeypatch, capsys):
    """The RGB <-> Lab conversions of a whole photo made several float copies of it at once
    (2.2 GB for a 6000x4000 photo, beyond its own 0.3 GB); colorize converts CONVERT_ROWS
    rows at a time, to the very same pixels, in a fraction of that memory."""
    import tracemalloc

    tinycolor.manual_seed(0)
    cfg = _config("cnn_regression", mean_ab=[0.0, 0.0])  # a 16x16 network: the photo dominates
    model = cnn_regression.build_model(cfg)
    rgb = np.random.default_rng(5).random((300, 200, 3)).astype(np.float32)
    monkeypatch.setattr(lab_common, "CONVERT_ROWS", 10**6)
    whole = cnn_regression.colorize(model, rgb, cfg)
    monkeypatch.setattr(lab_common, "CONVERT_ROWS", 16)
    tracemalloc.start()
    try:
        out = cnn_regression.colorize(model, rgb, cfg)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(out, whole)
    assert peak < 3 * rgb.nbytes  # the whole photo at once: about 8 times
    capsys.readouterr()


@pytest.mark.parametrize("name", list(MODULES))
def test_training_command_end_to_end(name, tmp_path, monkeypatch, capsys):
    from tinycolor.train import main

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    argv = [name, "--epochs", "1", "--size", "16", "--image-size", "24", "--crops", "2"]
    argv += CLI_TINY[name] + ["--out", str(out), "--quiet"]
    assert main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    for key in lab_common.METRIC_KEYS:
        assert key in metrics
        for base in ("gray", "mean_ab"):
            assert key in metrics["baselines"][base]
    assert metrics["truth"]["colorfulness"] > 0
    assert metrics["images"] >= 1
    assert len(metrics["config"]["mean_ab"]) == 2
    assert len(metrics["config"]["prior"]) == len(ab_bins())
    # the held-out photos by name: some of the default photos, as many as the test images
    from tinycolor.data import load_dataset

    held_out = metrics["held_out"]
    assert held_out and set(held_out) <= set(load_dataset("skimage", size=24).names)
    assert f"{len(held_out)} test images ({', '.join(held_out)})" in metrics["data"]
    for f in ("model.npz", "loss.png", "comparison.png"):
        assert (out / f).stat().st_size > 0
    # the checkpoint colours an image through the colorize command
    from tinycolor.colorize import main as colorize_main

    png = tmp_path / "c.png"
    assert (
        colorize_main(["--checkpoint", str(out / "model.npz"), "skimage:chelsea", "-o", str(png)])
        == 0
    )
    from tinycolor.imageio import read_image

    assert read_image(png).shape == read_image("skimage:chelsea").shape
    # chelsea is larger than the 16x16 crops: the command says it was resized, but not quiet
    assert "resized back" in capsys.readouterr().err
    argv = ["--checkpoint", str(out / "model.npz"), "skimage:chelsea", "-o", str(png), "--quiet"]
    assert colorize_main(argv) == 0
    assert capsys.readouterr() == ("", "")


def test_training_on_a_folder_reports_skipped_files_in_one_line(tmp_path, capsys):
    """Files a --data folder cannot use are skipped and named in one warning line, in the
    command's own voice (no source file and line of the library)."""
    from tinycolor.imageio import read_image, write_png
    from tinycolor.train import main

    photos = tmp_path / "photos"
    for k, name in enumerate(("coffee", "chelsea", "astronaut")):
        write_png(photos / f"{name}.png", read_image(f"skimage:{name}")[:64, 40 * k : 40 * k + 96])
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    argv = ["cnn_regression", "--epochs", "1", "--size", "16", "--image-size", "24"]
    argv += ["--crops", "1", *CLI_TINY["cnn_regression"], "--data", str(photos)]
    assert main([*argv, "--out", str(tmp_path / "run"), "--quiet"]) == 0
    err = capsys.readouterr().err
    warning = [line for line in err.splitlines() if "warning" in line]
    assert len(warning) == 1, err
    assert warning[0].startswith("python -m tinycolor.train: warning: ")
    assert "broken.jpg" in warning[0] and ".py:" not in err


@pytest.mark.parametrize("name", ["cnn_regression", "cnn_fusion"])
def test_zoom_reaches_the_training_crops(name):
    """--zoom LO HI (lab_common's and the labelled models' data option) is stored in the config
    and reaches the crop source; without it the model's DEFAULTS apply."""
    from tinycolor.train import parse_config

    module, config, _ = parse_config(name, ["--zoom", "0.5", "2", "--image-size", "64"])
    assert tuple(config["zoom"]) == (0.5, 2.0)
    train = module.load_data(config).train
    assert train.zoom == (0.5, 2.0)
    batch = next(train.batches(4, np.random.default_rng(0)))
    assert batch[0].shape == (4, 1, 64, 64) and batch[1].shape == (4, 2, 64, 64)
    _, config, _ = parse_config(name, [])
    assert tuple(config["zoom"]) == tuple(module.DEFAULTS["zoom"])


def test_a_models_training_defaults_reach_its_config():
    """Without options a model trains with its own DEFAULTS' --schedule, --keep, --ema and
    --weight-decay (the Lab CNNs: cosine, best, 0.99), not train.py's fallbacks."""
    from tinycolor import models

    fallbacks = {"schedule": "constant", "keep": "last", "ema": 0.0, "weight_decay": 0.0}
    for name in models.available():
        module, config, _ = train.parse_config(name, [])
        for key, fallback in fallbacks.items():
            assert config[key] == module.DEFAULTS.get(key, fallback), (name, key)
    _, config, _ = train.parse_config("cnn_regression", [])
    assert (config["schedule"], config["keep"], config["ema"]) == ("cosine", "best", 0.99)


def test_network_options_reach_the_network():
    """The options that size a network, parsed from the command line, are those it is built
    with (each different, so that two swapped would show)."""
    from tinycolor.models import ann_window

    def built(name, *argv):
        module, config, _ = train.parse_config(name, list(argv))
        return config, module.build_model(config)

    argv = ["--size", "16", "--conv1", "3", "--conv2", "5", "--fc1", "7", "--fc2", "11"]
    _, net = built("cnn_regression", *argv, "--dropout", "0.3")
    assert net.features[0].weight.shape == (3, 1, 5, 5)
    assert net.features[3].weight.shape == (5, 3, 5, 5)
    assert net.head[0].weight.shape == (7, 5 * 4 * 4) and net.head[2].weight.shape == (11, 7)
    assert net.head[4].p == 0.3
    _, net = built("cnn_classification", "--width", "0.0625")
    assert net.channels == [max(1, round(c / 16)) for c in cnn_classification.CHANNELS]
    assert net.block1[0].weight.shape[0] == 4
    _, net = built("ann_window", "--window", "5", "--hidden", "6", "--levels", "8")
    assert isinstance(net, ann_window.ANNWindow)
    assert net.r[0].weight.shape == (6, 25) and net.b[2].weight.shape == (8, 6)
    config, _ = built("cnn_classification", "--no-rebalance", "--k", "3", "--sigma", "2")
    assert (config["rebalance"], config["k"], config["sigma"]) == (False, 3, 2.0)
    assert train.parse_config("cnn_classification", [])[1]["rebalance"] is True


def test_a_diverging_run_is_stopped_and_leaves_no_empty_folder(tmp_path, capsys):
    """A learning rate far too large: the run stops at the first non-finite loss (of a step,
    or held out after an epoch) with one error line naming --lr and no NumPy warnings; the
    run folder it made is removed, a folder the user made is kept."""
    from tinycolor.train import main

    argv = ["cnn_regression", "--epochs", "3", "--size", "16", "--image-size", "24"]
    # (at 1e9 the weights grow huge but the saturated output keeps the loss finite)
    argv += [*CLI_TINY["cnn_regression"], "--lr", "1e20", "--quiet"]
    cases = {  # two crops: one step an epoch, caught held out; eight in steps of 2: in a step
        "held-out": (["--crops", "2"], "the held-out loss became nan after epoch 1"),
        "step": (["--crops", "8", "--batch-size", "2"], "the loss became nan at epoch 1, step"),
    }
    for name, (extra, message) in cases.items():
        out = tmp_path / name
        assert main([*argv, *extra, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert message in err and "try a smaller --lr than 1e+20" in err
        assert not out.exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    assert main([*argv, "--crops", "2", "--out", str(mine)]) == 2
    assert mine.is_dir() and not any(mine.iterdir())
    # --out a/b/run made three folders: all go (the empty a/b were left behind before)
    assert main([*argv, "--crops", "2", "--out", str(mine / "a" / "b" / "run")]) == 2
    assert mine.is_dir() and not any(mine.iterdir())


def test_weights_that_became_infinite_are_named():
    from tinycolor import nn
    from tinycolor.train import _non_finite_parameter

    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    assert _non_finite_parameter(model) is None
    model[1].bias.data[0] = np.inf
    assert _non_finite_parameter(model) == "1.bias"


def test_zoom_out_of_order_is_a_usage_error(capsys):
    from tinycolor.train import main

    assert main(["cnn_regression", "--zoom", "2", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith("error: argument --zoom: expected LO <= HI, got 2 1")


def test_lab_round_trip_sanity():
    """lab_common relies on lab_to_rgb(rgb_to_lab(x)) being x (NCHW, channel_axis=1)."""
    rgb = np.random.default_rng(3).random((2, 3, 5, 5)).astype(np.float32)
    back = np.asarray(lab_to_rgb(rgb_to_lab(rgb, channel_axis=1), channel_axis=1))
    np.testing.assert_allclose(back, rgb, atol=1e-3)


# --------------------------------------------------------------------------- start at the data

START = {  # model: (tiny config, path of the output layer whose bias starts at the data)
    "cnn_regression": (TINY["cnn_regression"], lambda m: m.head[-1]),
    "cnn_classification": (TINY["cnn_classification"], lambda m: m.classifier),
    "cnn_fusion": ({"size": 32, "width": 1 / 32, "global_size": 32}, lambda m: m.colorize[-1]),
    "cnn_koala": ({"size": 32, "width": 1 / 32}, lambda m: m.decoder[-3]),
    "cnn_resnet": (
        {"size": 32, "encoder_width": 2, "stages": 1, "width": 1 / 32},
        lambda m: m.head[-1],
    ),
    "cnn_resnet_l2": (
        {"size": 32, "encoder_width": 2, "stages": 1, "width": 1 / 32, "loss": "l2"},
        lambda m: m.head[-1],
    ),
}


@pytest.mark.parametrize("name", sorted(START))
def test_untrained_network_predicts_the_training_statistics(name):
    """With the output layer's weights zeroed, what is left is the bias build_model set: the
    prediction must be the training set's mean ab (regression outputs) or the annealed mean
    of its prior (distributions over the bins)."""
    from tinycolor import models
    from tinycolor.color import annealed_mean

    tiny, layer_of = START[name]
    module = models.get(name.replace("_l2", ""))
    q = len(ab_bins())
    prior = np.full(q, 0.2 / (q - 1))
    prior[int(np.argmin(np.abs(ab_bins() - [20, 40]).sum(1)))] = 0.8  # mostly one orange bin
    cfg = dict(module.DEFAULTS, lr=0.01, seed=0, class_names=["a", "b", "c"])
    cfg.update(tiny, mean_ab=[6.0, 14.0], prior=list(prior))
    tinycolor.manual_seed(0)
    model = module.build_model(cfg)
    layer = layer_of(model)
    layer.weight.data[...] = 0
    model.eval()
    s = int(cfg["size"])
    L = np.random.default_rng(1).uniform(-1, 1, (2, 1, s, s)).astype(np.float32)
    ab = np.asarray(module.predict_ab(model, L, cfg))
    if layer.bias.shape[0] == q:  # logits over the bins
        logits = np.log(prior)[None, :, None, None].astype(np.float32)
        want = np.asarray(annealed_mean(logits, ab_bins(), T=float(cfg["temperature"]), axis=1))
        np.testing.assert_allclose(ab, np.broadcast_to(want, ab.shape), atol=1e-3)
        assert abs(want[0, 0, 0, 0] - 20) < 5 and abs(want[0, 1, 0, 0] - 40) < 5
    else:
        np.testing.assert_allclose(ab[:, 0], 6.0, atol=1e-3)
        np.testing.assert_allclose(ab[:, 1], 14.0, atol=1e-3)


@pytest.mark.parametrize("name", ["cnn_classification", "cnn_resnet"])
def test_temperature_zero_means_the_mode_and_negative_is_refused(name, capsys):
    _, config, _ = train.parse_config(name, ["--temperature", "0"])
    assert config["temperature"] == 0.0
    with pytest.raises(SystemExit):
        train.parse_config(name, ["--temperature", "-0.1"])
    assert "--temperature" in capsys.readouterr().err


@pytest.mark.parametrize("name", [n for n in sorted(START) if not n.endswith("_l2")])
def test_a_model_on_a_device_is_used_there_when_no_device_is_given(name, device):
    """The Python API a lesson calls (``fit``, ``predict_ab``, ``colorize``), left
    without ``device=``: the inputs go where the model is (built on, or moved with .to())."""
    from types import SimpleNamespace

    from tinycolor import models, train
    from tinycolor.color import empirical_prior

    module = models.get(name)
    s = START[name][0]["size"]
    L, ab = _fixed_batch(size=s)
    cfg = dict(module.DEFAULTS, lr=0.01, seed=0, class_names=["a", "b", "c"])
    cfg.update(START[name][0], epochs=1, batch_size=4, schedule="constant", keep="last")
    cfg["prior"] = [float(p) for p in empirical_prior(ab, channel_axis=1)]
    cfg["mean_ab"] = [float(v) for v in ab.mean(axis=(0, 2, 3))]
    tinycolor.manual_seed(0)
    model = module.build_model(cfg).to(device)
    if name == "cnn_regression":  # the one whose batches are plain (L, ab) arrays
        data = SimpleNamespace(train=(L, ab), test=(L, ab))
        history = train.fit(module, model, data, cfg, quiet=True)
        assert np.isfinite(history["train"][0]) and np.isfinite(history["test"][0])
    assert module.predict_ab(model, L, cfg).shape == (4, 2, s, s)
    rgb = np.random.default_rng(0).uniform(0, 1, (40, 48, 3)).astype(np.float32)
    assert module.colorize(model, rgb, cfg).shape == (40, 48, 3)
    assert model.device == device


@pytest.mark.parametrize("name", list(MODULES))
def test_the_loss_makes_its_targets_where_the_batch_is_not_on_the_default_device(name, monkeypatch):
    """A CPU model trained with the GPU the default device (TINYCOLOR_DEVICE=cuda, the model
    moved with .to('cpu')): fit sends the batches where the model is, but the loss made its
    target tensors on the default device, and stopped with "all inputs must be on one device".
    A NumPy subclass stands in for the GPU's arrays, so this runs without one."""
    import types

    from tinycolor import backend
    from tinycolor.color import empirical_prior

    class FakeGpuArray(np.ndarray):
        """Stands in for cupy.ndarray: the engine only asks which module owns an array."""

        device = property(lambda self: types.SimpleNamespace(id=0))  # cupy.cuda.Device(0)

    module = MODULES[name]
    L, ab = _fixed_batch()
    cfg = dict(module.DEFAULTS, **TINY[name], mean_ab=[0.0, 0.0])
    cfg["prior"] = [float(p) for p in empirical_prior(ab, channel_axis=1)]
    model = module.build_model(cfg)  # on the CPU
    batch = (Tensor(L, device="cpu"), Tensor(ab, device="cpu"))
    to_device = backend.to_device
    monkeypatch.setattr(backend, "_cupy", types.SimpleNamespace(ndarray=FakeGpuArray))
    monkeypatch.setattr(
        backend,
        "to_device",
        lambda x, d: np.asarray(x).view(FakeGpuArray) if d == "cuda" else to_device(x, d),
    )
    monkeypatch.setattr(backend, "get_device", lambda: "cuda")
    assert Tensor(np.zeros(2)).device == "cuda"  # the stand-in is the default device
    loss = module.loss(model, batch, cfg)
    assert loss.device == "cpu" and np.isfinite(loss.item())


def test_score_in_chunks_equals_score_in_one_piece(monkeypatch):
    """score() goes SCORE_CHUNK images at a time (its intermediates would grow with the test
    set): per-image means and pixel-pooled fractions come out as from one piece."""
    from tinycolor.color import empirical_prior

    L, ab = _fixed_batch(size=16, n=7, seed=3)
    L = lab_common.from_net_l(L)
    pred = ab * 0.5 + np.random.default_rng(4).normal(0, 8, ab.shape).astype(np.float32)
    prior = empirical_prior(ab, channel_axis=1)
    whole = lab_common.score(L, pred, ab, prior)
    monkeypatch.setattr(lab_common, "SCORE_CHUNK", 3)  # 3 + 3 + 1 images
    chunked = lab_common.score(L, pred, ab, prior)
    assert set(chunked) == set(whole) and all(v is not None for v in whole.values())
    for key in whole:
        np.testing.assert_allclose(chunked[key], whole[key], rtol=1e-12, err_msg=key)


# --------------------------------------------------------------------------- a folder of any size

# (model, its tiny settings): a Lab model, and a labelled one (the classifier's data, which the
# fusion colorizers share)
STREAMED = {
    "cnn_regression": {**TINY["cnn_regression"], "lr": 0.01},
    "classifier": {"size": 16, "image_size": 64, "width": 2, "blocks": 2},
}


def _photo_folder(root, n, side=64):
    """``n`` smooth photos of side ``side`` in muted colours (whose ab bins the prior finds
    by lookup, so that no image costs it a full search), half in class folder a/, half in b/."""
    from tinycolor.imageio import write_png

    rng = np.random.default_rng(n)
    yy, xx = np.mgrid[0:side, 0:side] / side
    for k in range(n):
        a, b, c = rng.uniform(-1, 1, (3, 3))
        img = np.stack([0.5 + 0.2 * np.sin(3 * (a[i] * xx + b[i] * yy) + c[i]) for i in range(3)])
        img = img.transpose(1, 2, 0) + rng.uniform(0, 0.02, (side, side, 3))
        write_png(root / "ab"[k % 2] / f"p{k:03d}.png", img)
    return root


def _run_config(name, folder, **kw):
    return {**STREAMED[name], "data": str(folder), "epochs": 1, "crops": 1, "seed": 0, **kw}


@pytest.mark.parametrize("name", STREAMED)
def test_training_memory_does_not_grow_with_the_number_of_images(tmp_path, monkeypatch, name):
    """Training held every image's Lab array in memory (0.8 MB a photo at short side 256: 29
    GB for Places365's 36,500 validation photos), a copy of the held-out ones cut in tiles,
    and scored those all at once; now each image is read from the folder's cache
    (memory-mapped) when a crop or a tile of it is cut, the statistics are counted one image
    at a time and the held-out tiles scored a chunk at a time: the peak is that of a few
    images, for 4x more of them too."""
    import tracemalloc

    from tinycolor import viz

    # the figures' drawing (matplotlib, about 17 MB whatever the data) is left out; chunks of
    # 32 test tiles and batches of 8 crops, and 16 crops of each image an epoch (the training
    # metrics score 256 of them): every buffer is full with both folders
    monkeypatch.setattr(viz, "image_grid", lambda panels, path, **kw: path)
    monkeypatch.setattr(viz, "loss_curves", lambda curves, path, **kw: path)
    monkeypatch.setattr(lab_common, "SCORE_CHUNK", 32)
    settings = {"crops": 16, "batch_size": 8}

    def peak(config, out, cache, traced=True):
        monkeypatch.setenv("TINYCOLOR_CACHE", str(cache))
        if traced:
            tracemalloc.start()
        try:
            _, metrics = train.run(name, config, out=out, quiet=True)
            return tracemalloc.get_traced_memory()[1], metrics
        finally:
            tracemalloc.stop()

    # Each measured run repeats one on the same photos just before it, so that what a process
    # allocates once, whatever the data, is not in its peak: the imports, and the interpreter's
    # own tables, such as the one of interned strings. pathlib adds the cache's file names to
    # it, and it doubles (3.8 MB at the size that earlier tests had left it) in whichever run
    # one more name fills it. So: reading the folder into an empty cache (a), the same into
    # another (b), measured, then from the filled one (b), measured.
    peaks = {}
    for n in (24, 96):
        config = _run_config(name, _photo_folder(tmp_path / f"photos{n}", n), **settings)
        a, b = tmp_path / f"cache{n}a", tmp_path / f"cache{n}b"
        peak(config, tmp_path / f"run{n}rehearsal", a, traced=False)
        peaks[n, "first"], _ = peak(config, tmp_path / f"run{n}first", b)
        peaks[n, "second"], metrics = peak(config, tmp_path / f"run{n}second", b)
        assert metrics["epochs"] == 1 and metrics["images"] >= n // 6 * 16
    for run in ("first", "second"):
        assert peaks[96, run] < 1.5 * peaks[24, run], peaks


def _held_in_memory(module, data, size):
    """``data`` as load_data made it before it read images as they are needed: every image in
    a list, the held-out tiles cut into arrays (the tuple ``fit`` batches)."""
    from tinycolor.models import classifier

    train_images = [np.array(im) for im in data.train.images]
    test_images = [np.array(im) for im in data.test_images]
    cut = [lab_common.tiles(im, size) for im in test_images]
    L, ab = lab_common._split_planes(np.concatenate(cut))
    if module is classifier:
        per_image = data.test.labels
        labels = np.concatenate([np.full(len(t), c) for t, c in zip(cut, per_image)])
        crops = classifier.LabelledCrops(
            train_images, data.train.labels, size, data.train.crops, data.train.zoom
        )
        return classifier.LabelledData(
            crops, (L, ab, labels), test_images, [], [], data.class_names, ""
        )
    crops = lab_common.CropBatches(train_images, size, data.train.crops, zoom=data.train.zoom)
    return lab_common.LabData(crops, (L, ab), test_images, [], [], "")


def _scored_at_once(module, model, held, config):
    """The numbers evaluate computed when it held every held-out tile and its prediction at
    once: verbatim."""
    from tinycolor import metrics as M
    from tinycolor.models import classifier

    if module is classifier:
        L, _, labels = held.test
        proba = classifier.predict_classes(model, L)
        out = classifier.classification_scores(proba, labels, len(held.class_names))
        majority = np.bincount(held.train.labels, minlength=len(held.class_names)).argmax()
        out["majority"] = float((labels == majority).mean())
        return {**out, "images": len(labels)}
    L_net, ab_true = held.test
    L = lab_common.from_net_l(L_net)
    prior = lab_common.OWN_CLASSES  # the rebalanced AuC's: the tiles' own colour classes
    pred = lab_common.predict_batches(module.predict_ab, model, L_net, config)
    mean_ab = np.asarray(config["mean_ab"], np.float32).reshape(1, 2, 1, 1)
    out = lab_common.score(L, pred, ab_true, prior)
    out["baselines"] = {
        "gray": lab_common.score(L, np.zeros_like(ab_true), ab_true, prior),
        "mean_ab": lab_common.score(
            L, np.broadcast_to(mean_ab, ab_true.shape).copy(), ab_true, prior
        ),
    }
    truth = lab_common._lab_to_rgb_batch(L, ab_true)
    out["truth"] = {"colorfulness": float(np.mean(M.colorfulness(truth)))}
    return {**out, "images": len(L_net)}


@pytest.mark.parametrize("name", STREAMED)
def test_a_folder_read_as_needed_trains_and_scores_as_one_held_in_memory(
    tmp_path, monkeypatch, name
):
    """A run that reads its images from the folder's cache as it needs them and scores the
    held-out tiles a chunk at a time ends with the very weights, losses and metrics (to the
    last bit) of one that holds every image, every held-out tile and every prediction in
    memory at once, as training did before: the same crops, statistics, split and scores."""
    from tinycolor.color import empirical_prior
    from tinycolor.models import classifier

    monkeypatch.setattr(lab_common, "SCORE_CHUNK", 32)  # 48 held-out tiles: a chunk and a half
    folder = _photo_folder(tmp_path / "photos", 16)
    config = _run_config(name, folder, epochs=2, crops=3, batch_size=5, image_size=64)
    run_dir, metrics = train.run(name, config, out=tmp_path / "run", quiet=True)
    saved = tinycolor.load(run_dir / "model.npz")

    module = MODULES.get(name, classifier)
    config = train.resolve_config(module, config)
    tinycolor.manual_seed(config["seed"])
    data = module.load_data(config)
    assert isinstance(data.train.images, lab_common.LabImages)  # read as needed
    held = _held_in_memory(module, data, int(config["size"]))
    # the statistics of the training images held at once, as load_data counted them
    ab_planes = [im[..., 1:] for im in held.train.images]
    total = sum(a.shape[0] * a.shape[1] for a in ab_planes)
    mean_ab = sum(a.reshape(-1, 2).astype(np.float64).sum(0) for a in ab_planes) / total
    assert config["mean_ab"] == [round(float(v), 4) for v in mean_ab]
    assert config["prior"] == [float(f"{p:.6g}") for p in empirical_prior(ab_planes)]
    model = module.build_model(config)
    history = train.fit(module, model, held, config, quiet=True)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(saved[key], value, err_msg=key)
    assert metrics["history"]["test"] == history["test"] and metrics["config"] == config
    expected = _scored_at_once(module, model, held, config)
    if module is classifier:
        assert metrics["baselines"]["majority"]["accuracy"] == expected.pop("majority")
    else:
        assert metrics["images"] == 48
    assert {k: metrics[k] for k in expected} == expected


def _scored_in_two_chunks(tmp_path, monkeypatch):
    """(config, data, model) of a cnn_regression on 16 photos whose 48 held-out tiles are
    scored in two chunks."""
    monkeypatch.setattr(lab_common, "SCORE_CHUNK", 32)  # 48 held-out tiles: two chunks
    config = train.resolve_config(
        cnn_regression,
        _run_config("cnn_regression", _photo_folder(tmp_path / "photos", 16), image_size=64),
    )
    data = cnn_regression.load_data(config)
    model = cnn_regression.build_model(config)
    return config, data, model


def test_evaluate_converts_and_weighs_each_chunks_truth_once(tmp_path, monkeypatch, truth_work):
    """evaluate scores the model and the two baselines against the same true tiles: it turned
    the truth into sRGB four times a chunk (once per score and once for its colourfulness) and
    counted its rebalancing weights three times, a fifth of evaluate's time on a big test
    split; now once each, for the same numbers (see the test above). The colour classes of
    the tiles are counted as they are scored, not in a first pass over them."""
    config, data, model = _scored_in_two_chunks(tmp_path, monkeypatch)
    metrics = lab_common.evaluate(cnn_regression.predict_ab, model, data, config)
    assert metrics["images"] == 48
    # a chunk: the truth once, the three predictions; then the training crops' score: 2
    assert truth_work == {"rgb": 2 * 4 + 2, "classes": 2 * 1 + 1}


def test_a_second_run_reads_the_training_statistics_from_the_cache(tmp_path, monkeypatch):
    """The mean ab and the prior were counted again from every training image on every run
    (15 s for 2,400 photos of 256x256, minutes for Places365's val_256, before the first
    step, with nothing on the screen), though the images came from the cache; now what was
    counted of each image is cached beside it: a second run counts nothing and finds the
    same numbers, and a file changed since is counted again (it alone)."""
    import os

    from tinycolor import color

    folder = _photo_folder(tmp_path / "photos", 12)
    counted = []
    nearest = color.nearest_bin

    def counting(ab, *args, **kwargs):
        counted.append(np.shape(ab))
        return nearest(ab, *args, **kwargs)

    monkeypatch.setattr(color, "nearest_bin", counting)

    def statistics():
        config = train.resolve_config(
            cnn_regression, _run_config("cnn_regression", folder, image_size=64)
        )
        data = cnn_regression.load_data(config)
        return config["mean_ab"], config["prior"], data.train_names

    first = statistics()
    assert len(counted) == 10  # 12 photos, 2 held out
    counted.clear()
    assert statistics() == first and counted == []
    photo = folder / first[2][0]  # a training photo
    os.utime(photo, ns=(photo.stat().st_atime_ns, photo.stat().st_mtime_ns + 10**9))
    assert statistics() == first and len(counted) == 1


def test_the_held_out_loss_and_the_scoring_show_a_bar(tmp_path, monkeypatch, capsys):
    """After an epoch's last step the held-out loss (9,600 tiles of 600 photos held out of
    3,000: longer than the epoch itself) and then evaluate's scoring (minutes) ran with
    nothing moving on the screen; each now has a bar: the held-out loss's shown as the
    epoch's is (not with --quiet), evaluate's on a terminal as a folder's reading bar is."""
    import tqdm as tqdm_module

    from tinycolor.data import progress_bars

    config, data, model = _scored_in_two_chunks(tmp_path, monkeypatch)
    train.fit(cnn_regression, model, data, config, quiet=False)
    err = capsys.readouterr().err
    held = [line for line in re.split(r"[\r\n]", err) if "held-out loss" in line]
    n = data.test.num_batches(config["batch_size"])
    assert held and all(f"/{n} [" in line for line in held), held  # its length from the start
    train.fit(cnn_regression, model, data, config, quiet=True)
    assert capsys.readouterr().err == ""

    bars = []

    class Recorded(tqdm_module.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "disable": True})
            bars.append((kwargs.get("desc"), kwargs.get("total"), kwargs.get("disable")))

    monkeypatch.setattr(tqdm_module, "tqdm", Recorded)
    for shown in (True, False):
        with progress_bars(shown):
            lab_common.evaluate(cnn_regression.predict_ab, model, data, config)
    assert bars == [
        ("scoring the held-out tiles", 2, None),  # None: tqdm shows it on a terminal
        ("scoring the held-out tiles", 2, True),
    ]


def test_the_held_out_loss_is_measured_on_at_most_val_tiles_tiles_the_same_each_epoch(
    tmp_path, monkeypatch
):
    """The held-out loss after each epoch covered every held-out tile: 116,800 of Places365's
    val_256 at --test-fraction 0.2, far longer than an epoch. --val-tiles N caps it at N tiles,
    drawn once from the seed: the same tiles every epoch (the best epoch is chosen on one
    yardstick), the loss their mean; by default a set of this size keeps every tile."""
    config, data, model = _scored_in_two_chunks(tmp_path, monkeypatch)
    every = data.test.arrays()[1]  # the ab of the 48 held-out tiles
    seen = []
    real = train.test_loss

    def recording(module, model, source, config, device, bar=None):
        seen.append(np.concatenate([b[1] for b in train.iterate_batches(source, 7)]))
        return real(module, model, source, config, device, bar)

    monkeypatch.setattr(train, "test_loss", recording)
    history = train.fit(cnn_regression, model, data, {**config, "epochs": 2}, quiet=True)
    assert [len(s) for s in seen] == [48, 48]  # the default: all of these
    seen.clear()
    capped = {**config, "epochs": 2, "val_tiles": 20}
    history = train.fit(cnn_regression, model, data, capped, quiet=True)
    assert [len(s) for s in seen] == [20, 20]
    np.testing.assert_array_equal(seen[0], seen[1])
    which = [np.flatnonzero((every == tile).all(axis=(1, 2, 3))) for tile in seen[0]]
    idx = np.array([int(w[0]) for w in which])
    assert all(len(w) == 1 for w in which) and len(set(idx)) == 20
    arrays = tuple(a[idx] for a in data.test.arrays())
    assert history["test"][-1] == pytest.approx(
        real(cnn_regression, model, arrays, config, "cpu"), rel=1e-6
    )

    def picked(seed):
        return lab_common.held_out_for_loss(data.test, {**capped, "seed": seed}).indices.tolist()

    assert picked(0) == sorted(idx.tolist()) and picked(1) != picked(0)
    assert lab_common.held_out_for_loss(data.test, {**capped, "val_tiles": 0}) is data.test


def test_a_run_says_how_many_held_out_tiles_its_loss_covered(tmp_path, capsys):
    """metrics.json holds the held-out tiles the loss per epoch was measured on and all of
    them; the run's summary says so when --val-tiles left some out."""
    folder = _photo_folder(tmp_path / "photos", 16)
    config = _run_config("cnn_regression", folder, image_size=64)
    _, metrics = train.run("cnn_regression", config, out=tmp_path / "all", quiet=True)
    assert (metrics["held_out_loss_tiles"], metrics["held_out_tiles"]) == (48, 48)
    capsys.readouterr()
    _, metrics = train.run("cnn_regression", {**config, "val_tiles": 20}, out=tmp_path / "some")
    assert (metrics["held_out_loss_tiles"], metrics["held_out_tiles"]) == (20, 48)
    assert "held-out loss per epoch on 20 of the 48 held-out tiles" in capsys.readouterr().out


def test_split_seed_holds_out_the_same_images_whatever_the_seed(tmp_path):
    """--split-seed N: runs with different --seed hold out the images --seed N would, and
    (on the synthetic scenes) generate the same scenes; without it the seed picks both."""
    from tinycolor.models import cnn_fusion

    folder = _photo_folder(tmp_path / "photos", 10, side=32)

    def held_out(module, **kw):
        config = train.resolve_config(module, {"size": 16, "image_size": 32, **kw})
        data = module.load_data(config)
        return data.test_names, data.test_images

    alone = {s: held_out(cnn_regression, data=str(folder), seed=s)[0] for s in (0, 1, 3)}
    assert alone[0] != alone[1]  # the seed alone picks them
    for seed in (0, 1):
        assert held_out(cnn_regression, data=str(folder), seed=seed, split_seed=3)[0] == alone[3]
    scenes = [held_out(cnn_fusion, seed=s, split_seed=2, n_synthetic=12) for s in (0, 1)]
    assert scenes[0][0] == scenes[1][0]
    np.testing.assert_array_equal(scenes[0][1][0], scenes[1][1][0])
    other = held_out(cnn_fusion, seed=1, n_synthetic=12)
    assert not np.array_equal(other[1][0], scenes[1][1][0])
    config = train.parse_config("cnn_resnet", ["--split-seed", "4", "--seed", "2"])[1]
    assert (config["split_seed"], config["seed"]) == (4, 2)
