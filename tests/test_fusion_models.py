"""The labelled models: the grayscale ``classifier`` and the fusion colorizers (cnn_fusion).

For each model: forward/backward shapes, one training step lowers the loss on a fixed batch,
save -> load gives identical predictions, and the training command end to end on tiny
settings. Plus the labelled data split, the classifier's embedding and scores against a
direct computation, and ``colorize`` refusing the classifier.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import tinycolor
from tinycolor import optim
from tinycolor.autograd import Tensor
from tinycolor.color import rgb_to_lab
from tinycolor.models import (
    InputError,
    classifier,
    cnn_fusion,
    cnn_koala,
    cnn_resnet,
    lab_common,
)
from tinycolor.runs import checkpoint_meta, load_model

# tiny networks: the tests check the plumbing and the maths, not the colours
TINY = {
    "classifier": {"size": 16, "width": 2, "blocks": 2},
    "cnn_fusion": {"size": 32, "width": 1 / 32, "global_size": 32},
    "cnn_koala": {
        "size": 32,
        "width": 1 / 32,
        "classifier_config": {"width": 2, "blocks": 2, "class_names": ["a", "b", "c"], "size": 32},
    },
    "cnn_resnet": {"size": 32, "encoder_width": 2, "stages": 1, "width": 1 / 32, "loss": "ce"},
    "cnn_resnet_l2": {"size": 32, "encoder_width": 2, "stages": 1, "width": 1 / 32, "loss": "l2"},
}
MODULES = {
    "classifier": classifier,
    "cnn_fusion": cnn_fusion,
    "cnn_koala": cnn_koala,
    "cnn_resnet": cnn_resnet,
    "cnn_resnet_l2": cnn_resnet,
}
COLORIZERS = ("cnn_fusion", "cnn_koala", "cnn_resnet", "cnn_resnet_l2")
CLI_TINY = {
    "classifier": ["--size", "16", "--image-size", "16", "--width", "2", "--blocks", "2"],
    "cnn_fusion": ["--size", "32", "--image-size", "32", "--width", "0.03125"]
    + ["--global-size", "32"],
    "cnn_koala": ["--size", "32", "--image-size", "32", "--width", "0.03125"]
    + ["--classifier-epochs", "1"],
    "cnn_resnet": ["--size", "32", "--image-size", "32", "--width", "0.03125"]
    + ["--encoder-width", "2", "--stages", "1", "--classifier-epochs", "1"],
}


def _name(name):
    """The registry name of a test case ("cnn_resnet_l2" is cnn_resnet with --loss l2)."""
    return MODULES[name].NAME


def _config(name, **kw):
    cfg = dict(MODULES[name].DEFAULTS)
    cfg.update(TINY[name], lr=0.01, seed=0, class_names=["a", "b", "c"])
    cfg.update(kw)
    return cfg


def _fixed_batch(size=16, n=6, seed=0):
    """Smooth colourful Lab crops whose class is their dominant hue: L (N, 1, s, s)
    network-scaled, ab (N, 2, s, s), labels (N,)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    imgs, labels = [], []
    for i in range(n):
        c = i % 3
        base = np.zeros(3)
        base[c] = 0.7
        shade = 0.3 + 0.5 * (xx if c == 0 else yy if c == 1 else (xx + yy) / 2)
        img = 0.15 + base[None, None, :] * shade[..., None] + 0.05 * rng.random((size, size, 3))
        imgs.append(np.clip(img, 0, 1))
        labels.append(c)
    lab = np.asarray(rgb_to_lab(np.stack(imgs).astype(np.float32)))
    L, ab = lab_common._split_planes(lab)
    return L, ab, np.asarray(labels, dtype=np.int64)


def _batch(name):
    return _fixed_batch(16 if name == "classifier" else 32)


def _predict(name, model, L, cfg):
    if name == "classifier":
        return classifier.predict_classes(model, L)
    return lab_common.predict_batches(MODULES[name].predict_ab, model, L, cfg, "cpu")


# --------------------------------------------------------------------------- every model


@pytest.mark.parametrize("name", list(MODULES))
def test_forward_backward_shapes(name):
    module = MODULES[name]
    tinycolor.manual_seed(0)
    cfg = _config(name)
    model = module.build_model(cfg)
    L, ab, labels = _batch(name)
    out = model(Tensor(L))
    if name == "classifier":
        assert out.shape == (len(L), 3)
        assert model.embed(Tensor(L)).shape == (len(L), model.embedding_dim)
    elif name == "cnn_fusion":
        y, logits = out
        assert y.shape == ab.shape and logits.shape == (len(L), 3)
        assert 0 <= y.numpy().min() and y.numpy().max() <= 1
    elif name == "cnn_koala":
        assert out.shape == ab.shape and np.abs(out.numpy()).max() <= 1
    else:  # the head's grid: 1/8 of the input with one stage
        c = len(cnn_resnet.bins(cfg)) if cfg["loss"] == "ce" else 2
        assert out.shape == (len(L), c, 4, 4) and model.stride == 8
        assert cnn_resnet.predict_ab(model, L, cfg).shape == ab.shape
    loss = module.loss(model, (Tensor(L), Tensor(ab), labels), cfg)
    assert loss.shape == () and np.isfinite(loss.item())
    loss.backward()
    for pname, p in model.named_parameters():
        if pname.startswith("classifier."):  # cnn_koala's frozen classifier
            assert p.grad is None, pname
            continue
        assert p.grad is not None and p.grad.shape == p.shape, pname
    assert any(np.abs(p.grad).sum() > 0 for p in model.parameters())


@pytest.mark.parametrize("name", list(MODULES))
def test_loss_and_prediction_on_the_device(name, device):
    """The step train.py takes, with every array of the batch (labels included) a Tensor on
    ``device``; the prediction comes back as NumPy."""
    from tinycolor.train import to_tensors

    module = MODULES[name]
    tinycolor.manual_seed(0)
    cfg = _config(name, mean_ab=[0.0, 0.0])
    model = module.build_model(cfg)
    model.to(device)
    L, ab, labels = _batch(name)
    loss = module.loss(model, to_tensors((L, ab, labels), device), cfg)
    loss.backward()
    assert np.isfinite(loss.item())
    if name == "classifier":
        pred = classifier.predict_classes(model, L, device)
        assert pred.shape == (len(L), 3)
    else:
        pred = lab_common.predict_batches(module.predict_ab, model, L, cfg, device)
        assert pred.shape == ab.shape
    assert isinstance(pred, np.ndarray) and np.isfinite(pred).all()


@pytest.mark.parametrize("name", list(MODULES))
def test_one_training_step_lowers_the_loss(name):
    module = MODULES[name]
    tinycolor.manual_seed(0)
    cfg = _config(name)
    model = module.build_model(cfg)
    model.train()
    L, ab, labels = _batch(name)
    batch = (Tensor(L), Tensor(ab), labels)
    opt = optim.Adam(model.parameters(), lr=3e-3)
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
    cfg = _config(name, mean_ab=[1.0, 2.0])
    model = module.build_model(cfg)
    L, ab, labels = _batch(name)
    # a training step, so BatchNorm's running statistics are no longer their initial values
    opt = optim.Adam(model.parameters(), lr=1e-2)
    module.loss(model, (Tensor(L), Tensor(ab), labels), cfg).backward()
    opt.step()
    before = _predict(name, model, L, cfg)
    path = tmp_path / "model.npz"
    tinycolor.save(model, path, meta=checkpoint_meta(_name(name), cfg))
    mod2, model2, cfg2, _ = load_model(path, expect_model=_name(name))
    assert mod2 is module and cfg2["class_names"] == cfg["class_names"]
    np.testing.assert_array_equal(before, _predict(name, model2, L, cfg2))


@pytest.mark.parametrize("name", list(CLI_TINY))
def test_training_command_end_to_end(name, tmp_path, monkeypatch, capsys):
    from tinycolor.train import main

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    argv = [name, "--epochs", "1", "--n-synthetic", "12", *CLI_TINY[name]]
    capsys.readouterr()
    assert main([*argv, "--out", str(out), "--quiet"]) == 0
    # --quiet prints the run folder only: cnn_koala's and cnn_resnet's notes about the
    # classifier they train first (and that run's own folder) were printed on stderr
    assert capsys.readouterr() == (f"{out}\n", "")
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["class_names"] == ["beach", "sunset", "forest"]
    # the stratified split holds out a fifth of each class's 4 scenes: one each, by name
    assert sorted(n.split("_")[0] for n in metrics["held_out"]) == ["beach", "forest", "sunset"]
    for f in ("model.npz", "loss.png", "comparison.png"):
        assert (out / f).stat().st_size > 0
    if name == "classifier":
        assert 0 <= metrics["accuracy"] <= 1
        assert set(metrics["baselines"]) == {"majority", "chance"}
        model, cfg = classifier.load_classifier(out / "model.npz")
        assert model.embed(Tensor(np.zeros((2, 1, 16, 16), np.float32))).shape[0] == 2
        return
    for key in lab_common.METRIC_KEYS:
        assert key in metrics
        for base in ("gray", "mean_ab"):
            assert key in metrics["baselines"][base]
    if name == "cnn_fusion":
        assert 0 <= metrics["classification"]["accuracy"] <= 1
    else:  # a classifier was trained first, in its own run folder inside --out
        arch = "resnet" if name == "cnn_resnet" else "plain"
        assert metrics["config"]["classifier_config"]["arch"] == arch
        assert metrics["config"]["classifier"] == str(out / "classifier" / "model.npz")
        assert not (tmp_path / "runs").exists()  # was runs/classifier-TIME in the cwd
    # the checkpoint colours an image of another size through the colorize command
    from tinycolor.colorize import main as colorize_main
    from tinycolor.imageio import read_image

    png = tmp_path / "c.png"
    ckpt = str(out / "model.npz")
    assert colorize_main(["--checkpoint", ckpt, "skimage:chelsea", "-o", str(png)]) == 0
    assert read_image(png).shape == read_image("skimage:chelsea").shape


@pytest.mark.parametrize(
    "name, layer", [("cnn_fusion", "low"), ("cnn_koala", "encoder"), ("cnn_resnet", "head")]
)
def test_width_reaches_the_network(name, layer):
    """--width, parsed from the command line, scales the channels of the network built."""
    from tinycolor.models.cnn_fusion import channels
    from tinycolor.train import parse_config

    module, config, _ = parse_config(name, ["--width", "0.0625"])
    model = module.build_model(config)
    first = getattr(model, layer)[0][0]  # the first conv of the first block
    want = channels(128 if name == "cnn_resnet" else 64, 0.0625)
    assert model.width == 0.0625 and first.weight.shape[0] == want


def test_the_end_of_a_run_suggests_what_to_do_with_its_checkpoint(tmp_path, capsys):
    """A colorizer's run suggests colouring an image; the classifier's, which colours
    nothing, suggests the colorizers built on it."""
    from tinycolor.train import main

    for name in ("classifier", "cnn_fusion"):
        argv = [name, "--epochs", "1", "--n-synthetic", "6", *CLI_TINY[name]]
        assert main([*argv, "--out", str(tmp_path / name)]) == 0
        last = capsys.readouterr().out.strip().splitlines()[-1]
        checkpoint = str(tmp_path / name / "model.npz")
        if name == "classifier":
            assert f"train cnn_koala --classifier {checkpoint}" in last
        else:
            assert f"tinycolor.colorize --checkpoint {checkpoint} IMAGE" in last


def test_a_classifier_run_suggests_the_colorizer_that_takes_its_architecture(tmp_path, capsys):
    """A plain classifier's run suggested cnn_koala "(or cnn_resnet)", and cnn_resnet refuses a
    plain classifier; a ResNet's suggested cnn_koala, which refuses a ResNet. Each now names
    the one colorizer that takes it, and the command it prints runs."""
    from tinycolor.train import main

    tiny = ["--epochs", "0", "--n-synthetic", "6", "--size", "32", "--image-size", "32"]
    for arch, colorizer in (("plain", "cnn_koala"), ("resnet", "cnn_resnet")):
        argv = ["classifier", "--arch", arch, *tiny, "--width", "2", "--blocks", "1"]
        assert main([*argv, "--out", str(tmp_path / arch)]) == 0
        last = capsys.readouterr().out.strip().splitlines()[-1]
        command = last.split("python -m tinycolor.train ", 1)[1].split()
        assert command == [colorizer, "--classifier", str(tmp_path / arch / "model.npz")]
        out = tmp_path / colorizer
        assert main([*command, *tiny, "--width", "0.03125", "--out", str(out), "--quiet"]) == 0
        assert json.loads((out / "metrics.json").read_text())["config"]["classifier"] == command[2]


def test_ctrl_c_while_the_classifier_trains_first_stops_the_whole_run(
    tmp_path, monkeypatch, capsys
):
    """Ctrl-C in the classifier trained before cnn_koala: that classifier is saved, as any
    interrupted run, and the command stops there (exit 130) rather than going on to train
    cnn_koala as if the key had not been pressed; it says how to start from the classifier."""
    from tinycolor import train

    real_step = train.default_train_step
    steps = {"n": 0}

    def step(module, model, optimizers, batch, config):
        steps["n"] += 1
        if module is classifier and steps["n"] == 2:
            raise KeyboardInterrupt
        return real_step(module, model, optimizers, batch, config)

    monkeypatch.setattr(train, "default_train_step", step)
    out = tmp_path / "run"
    argv = ["cnn_koala", "--epochs", "1", "--n-synthetic", "12", *CLI_TINY["cnn_koala"]]
    argv[argv.index("--classifier-epochs") + 1] = "3"
    assert train.main([*argv, "--batch-size", "4", "--out", str(out), "--quiet"]) == 130
    kept = out / "classifier" / "model.npz"
    assert json.loads((out / "classifier" / "metrics.json").read_text())["interrupted"] is True
    assert not (out / "model.npz").exists()  # cnn_koala never started
    assert steps["n"] == 2
    err = capsys.readouterr().err
    assert f"pass --classifier {kept} to train cnn_koala on it" in err
    load_model(kept, expect_model="classifier")


def test_the_classifier_trained_first_trains_on_the_runs_device(monkeypatch):
    """cnn_koala and cnn_resnet --device cuda trained their classifier on the CPU (the device
    train.run defaults to), which also left the CPU the default device of the rest of the
    run; it trains on the device the run that needs it is on."""
    from tinycolor import backend, train

    devices = []

    def run(name, config, device="cpu", out=None, quiet=False):
        devices.append(device)
        raise KeyboardInterrupt  # the call is what this test is about

    monkeypatch.setattr(train, "run", run)
    monkeypatch.setattr(backend, "_device", "cuda")  # what train's run sets for --device cuda
    cfg = _config("cnn_koala", classifier=None, n_synthetic=6, image_size=32)
    with pytest.raises(KeyboardInterrupt):
        cnn_koala.load_data(cfg)
    assert devices == ["cuda"]


def test_too_few_synthetic_scenes_names_the_option(capsys):
    from tinycolor.train import main

    assert main(["cnn_fusion", "--n-synthetic", "1", "--epochs", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("python -m tinycolor.train: error: --n-synthetic 1: too few scenes")
    assert len(err.splitlines()) == 1


# --------------------------------------------------------------------------- labelled data


def test_labelled_split_is_stratified_and_disjoint():
    cfg = _config("classifier", n_synthetic=30, image_size=16, test_fraction=0.2)
    data = classifier.load_labelled_data(cfg)
    L, ab, labels = data.test
    assert len(data.train_names) + len(data.test_names) == 30
    assert not set(data.train_names) & set(data.test_names)
    assert L.shape == (len(labels), 1, 16, 16) and ab.shape == (len(labels), 2, 16, 16)
    counts = np.bincount(labels, minlength=3)
    assert (counts >= 1).all()  # every class is tested
    assert cfg["class_names"] == ["beach", "sunset", "forest"] and len(cfg["mean_ab"]) == 2
    Lb, abb, yb = next(data.train.batches(7, np.random.default_rng(0)))
    assert Lb.shape == (7, 1, 16, 16) and abb.shape == (7, 2, 16, 16) and yb.shape == (7,)
    assert -1 <= Lb.min() and Lb.max() <= 1
    view = data.lab_view()
    assert len(next(view.train.batches(4))) == 2 and len(next(view.test.batches(4))) == 2


def test_the_classifier_sees_whole_images_at_their_own_size_by_default(tmp_path):
    """Its images were resized to 64 whatever the data: CIFAR-10's 32x32 ones were scaled up,
    so that the --size 32 crops datasets/README.md advises showed a quarter of each."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    records = bytearray()
    for k in range(6):  # two of each of three classes
        records += bytes([k % 3]) + rng.integers(0, 256, 3072).astype(np.uint8).tobytes()
    (folder / "data_batch_1.bin").write_bytes(bytes(records))

    def loaded(**kw):
        cfg = {**classifier.DEFAULTS, "test_fraction": 0.5, **kw}
        return cfg, classifier.load_data(cfg)

    cfg, data = loaded(data=str(folder), size=32)
    assert cfg["image_size"] == 32  # each held-out image is one test tile, the whole of it
    assert data.test[0].shape == (3, 1, 32, 32)
    assert all(im.shape == (32, 32, 3) for im in data.test_images)
    assert loaded(data=str(folder))[0]["image_size"] == 64  # the default crop: scaled up
    cfg, _ = loaded(n_synthetic=6)
    assert cfg["image_size"] == classifier.IMAGE_SIZE == 64  # the scenes: as before
    assert loaded(data=str(folder), size=32, image_size=48)[0]["image_size"] == 48  # as given


def test_the_seed_picks_the_held_out_images_of_each_class(tmp_path):
    from tinycolor.imageio import write_png

    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        for k in range(4):
            write_png(tmp_path / label / f"{label}{k}.png", rng.random((16, 16, 3)))
    cfg = _config("classifier", data=str(tmp_path), image_size=16, test_fraction=0.25)
    splits = [classifier.load_labelled_data(dict(cfg, seed=s)).test_names for s in range(4)]
    assert all(sorted(n[0] for n in names) == ["a", "b"] for names in splits)  # one of each
    assert len({tuple(names) for names in splits}) > 1


def test_unlabelled_images_are_one_class_for_colorizers_and_refused_by_the_classifier(
    tmp_path, capsys
):
    from tinycolor.imageio import write_png

    for i in range(3):
        write_png(tmp_path / f"img{i}.png", np.random.default_rng(i).random((20, 24, 3)))
    cfg = _config("classifier", data=str(tmp_path), image_size=16)
    with pytest.raises(InputError, match="no class labels"):
        classifier.load_labelled_data(cfg)
    with pytest.raises(InputError, match="no class labels"):
        classifier.load_labelled_data(_config("classifier", data="skimage"))
    data = classifier.load_labelled_data(cfg, require_labels=False)
    assert cfg["class_names"] == ["all"] and "one class 'all'" in capsys.readouterr().err
    assert len(data.train_names) + len(data.test_names) == 3
    assert (data.test[2] == 0).all() and (data.train.labels == 0).all()


def test_quiet_keeps_a_flat_folders_warning_and_drops_its_notes(tmp_path, capsys):
    """cnn_koala --quiet on a folder without class subfolders: the note that its images are
    one class, and those of the classifier trained first, were printed; the warning about a
    file it cannot read (which asks for action) still is, in one line."""
    from tinycolor.imageio import write_png
    from tinycolor.train import main

    photos = tmp_path / "photos"
    for i in range(5):
        write_png(photos / f"img{i}.png", np.random.default_rng(i).random((32, 40, 3)))
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    argv = ["cnn_koala", "--epochs", "1", *CLI_TINY["cnn_koala"], "--data", str(photos)]
    capsys.readouterr()
    assert main([*argv, "--out", str(tmp_path / "run"), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert out == f"{tmp_path / 'run'}\n"
    assert len(err.splitlines()) == 1 and "warning" in err and "broken.jpg" in err, err


# --------------------------------------------------------------------------- classifier


def test_classification_scores_match_a_direct_count():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(3), size=50).astype(np.float32)
    labels = rng.integers(0, 3, 50)
    s = classifier.classification_scores(proba, labels, 3)
    pred = proba.argmax(1)
    assert s["accuracy"] == pytest.approx(np.mean(pred == labels))
    for c in range(3):
        assert s["per_class_accuracy"][c] == pytest.approx(np.mean(pred[labels == c] == c))
        for d in range(3):
            assert s["confusion"][c][d] == np.sum((labels == c) & (pred == d))
    assert s["cross_entropy"] == pytest.approx(-np.mean(np.log(proba[np.arange(50), labels])))


def test_embedding_is_the_pooled_last_block():
    tinycolor.manual_seed(0)
    model = classifier.build_model(_config("classifier"))
    model.eval()
    x = Tensor(np.random.default_rng(1).standard_normal((3, 1, 12, 20)).astype(np.float32))
    feats = model.features(x).numpy()
    np.testing.assert_allclose(model.embed(x).numpy(), feats.mean(axis=(2, 3)), rtol=1e-6)
    logits = model(x).numpy()
    w, b = model.fc.weight.numpy(), model.fc.bias.numpy()
    np.testing.assert_allclose(logits, feats.mean(axis=(2, 3)) @ w.T + b, rtol=1e-5, atol=1e-6)


def test_classifier_is_not_a_colorizer():
    model = classifier.build_model(_config("classifier"))
    with pytest.raises(InputError, match="classifier is not a colorizer"):
        classifier.colorize(model, np.zeros((8, 8, 3), np.float32), _config("classifier"))


def test_classifier_rejects_bad_input_shapes():
    model = classifier.build_model(_config("classifier"))
    with pytest.raises(ValueError, match="GrayClassifier"):
        model(Tensor(np.zeros((1, 3, 16, 16), np.float32)))


# --------------------------------------------------------------------------- cnn_fusion


def test_fusion_tiles_the_global_vector_over_the_grid():
    """With the mid-level weights of the fusion layer zeroed, every grid position of the
    fused features is the same (it sees only the tiled global vector)."""
    tinycolor.manual_seed(0)
    model = cnn_fusion.build_model(_config("cnn_fusion"))
    model.eval()
    c = model.fusion.weight.shape[1] // 2
    model.fusion.weight.data[:, c:] = 0
    x = Tensor(np.random.default_rng(2).standard_normal((2, 1, 32, 32)).astype(np.float32))
    captured = {}
    orig = model.fusion.forward

    def spy(inp):
        out = orig(inp)
        captured["out"] = out.numpy()
        return out

    model.fusion.forward = spy
    model(x)
    out = captured["out"]
    np.testing.assert_allclose(out, np.broadcast_to(out[:, :, :1, :1], out.shape), atol=1e-6)
    assert not np.allclose(out[0], out[1])  # but it differs between images


def test_fusion_global_path_sees_a_fixed_size_copy():
    """Any input size gives logits from the global_size copy: a 64x64 image and its
    bilinear 32x32 copy classify alike."""
    from tinycolor import functional as F

    tinycolor.manual_seed(0)
    model = cnn_fusion.build_model(_config("cnn_fusion"))
    model.eval()
    x = Tensor(np.random.default_rng(3).standard_normal((1, 1, 64, 64)).astype(np.float32))
    y, logits = model(x)
    assert y.shape == (1, 2, 64, 64)
    small = F.interpolate(x, size=(32, 32), mode="bilinear")
    _, logits_small = model(small)
    np.testing.assert_allclose(logits.numpy(), logits_small.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="multiples of 8"):
        model(Tensor(np.zeros((1, 1, 30, 32), np.float32)))


def test_fusion_alpha_weights_the_classification_loss():
    tinycolor.manual_seed(0)
    cfg = _config("cnn_fusion")
    model = cnn_fusion.build_model(cfg)
    model.eval()
    L, ab, labels = _fixed_batch(32)
    batch = (Tensor(L), Tensor(ab), labels)
    mse = cnn_fusion.loss(model, batch, {**cfg, "alpha": 0.0}).item()
    total = cnn_fusion.loss(model, batch, {**cfg, "alpha": 0.5}).item()
    from tinycolor import functional as F

    _, logits = model(Tensor(L))
    ce = F.cross_entropy(logits, labels, axis=1).item()
    assert total == pytest.approx(mse + 0.5 * ce, rel=1e-5)
    assert cnn_fusion.DEFAULTS["alpha"] == pytest.approx(1 / 300)


@pytest.mark.parametrize("name", COLORIZERS)
def test_colorize_any_size_keeps_the_lightness(name):
    tinycolor.manual_seed(0)
    cfg = _config(name, mean_ab=[0.0, 0.0])
    model = MODULES[name].build_model(cfg)
    rgb = np.random.default_rng(2).random((13, 21, 3)).astype(np.float32)
    out = MODULES[name].colorize(model, rgb, cfg)
    assert out.shape == (13, 21, 3) and out.dtype == np.uint8
    L_out = np.asarray(rgb_to_lab(out.astype(np.float32) / 255))[..., 0]
    assert np.median(np.abs(L_out - np.asarray(rgb_to_lab(rgb))[..., 0])) < 5


# --------------------------------------------------------------------------- cnn_koala


def _trained_classifier(tmp_path, step=True):
    """A tiny classifier checkpoint: after one training step, so that the BatchNorm
    statistics moved (``step``), or with its last BatchNorm shifted up."""
    tinycolor.manual_seed(1)
    ccfg = _config("classifier", size=32)
    clf = classifier.build_model(ccfg)
    if step:
        L, ab, labels = _fixed_batch(32)
        opt = optim.Adam(clf.parameters(), lr=1e-2)
        classifier.loss(clf, (Tensor(L), Tensor(ab), labels), ccfg).backward()
        opt.step()
    else:  # a positive shift before the last ReLU: an embedding that is surely not all zero
        clf.features[-2].bias.data[:] = 1.0
    path = tmp_path / "clf.npz"
    tinycolor.save(clf, path, meta=checkpoint_meta("classifier", ccfg))
    return path, clf


def test_koala_loads_and_freezes_the_classifier(tmp_path):
    path, clf = _trained_classifier(tmp_path)
    cfg = _config("cnn_koala", classifier=str(path))
    model = cnn_koala.build_model(cfg)
    for k, v in clf.state_dict().items():
        np.testing.assert_array_equal(model.classifier.state_dict()[k], v)
    L, ab, labels = _fixed_batch(32)
    x = Tensor(L)
    clf.eval()
    np.testing.assert_allclose(model.embedding(x).numpy(), clf.embed(x).numpy(), rtol=1e-6)
    # a training step leaves the classifier as it was, BatchNorm statistics included
    before = {k: np.array(v) for k, v in model.classifier.state_dict().items()}
    model.train()
    assert not model.classifier.training
    opt = optim.Adam(model.parameters(), lr=1e-2)
    cnn_koala.loss(model, (x, Tensor(ab), labels), cfg).backward()
    opt.step()
    for k, v in model.classifier.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_koala_embedding_changes_the_colours(tmp_path):
    """The fused embedding matters: two different classifiers give different ab."""
    path, _ = _trained_classifier(tmp_path, step=False)
    tinycolor.manual_seed(0)
    a = cnn_koala.build_model(_config("cnn_koala", classifier=str(path)))
    tinycolor.manual_seed(0)
    b = cnn_koala.build_model(_config("cnn_koala"))
    L, _, _ = _fixed_batch(32)
    ea, eb = a.embedding(Tensor(L)).numpy(), b.embedding(Tensor(L)).numpy()
    assert np.abs(ea).max() > 0 and not np.allclose(ea, eb)
    # in training mode: BatchNorm normalises with batch statistics, so the tiny untrained
    # decoder's ReLUs are alive (in eval mode its fresh running statistics leave them dead)
    pa = cnn_koala.predict_ab(a.train(), L, {}, "cpu")
    pb = cnn_koala.predict_ab(b.train(), L, {}, "cpu")
    assert not np.allclose(pa, pb)
    with pytest.raises(ValueError, match="KoalaNet"):
        a(Tensor(np.zeros((1, 1, 20, 32), np.float32)))


def test_koala_refuses_a_checkpoint_that_is_not_a_classifier(tmp_path):
    cfg = _config("cnn_fusion")
    path = tmp_path / "fusion.npz"
    tinycolor.save(cnn_fusion.build_model(cfg), path, meta=checkpoint_meta("cnn_fusion", cfg))
    kcfg = _config("cnn_koala", classifier=str(path), n_synthetic=9, image_size=32)
    with pytest.raises(InputError, match="not 'classifier'"):
        cnn_koala.load_data(kcfg)


# --------------------------------------------------------------------------- cnn_resnet


def test_resnet_classifier_follows_resnet18():
    model = classifier.make_classifier("resnet", 10, 64, 4)
    n = sum(p.size for p in model.parameters())
    # torchvision's resnet18 has 11,689,512 weights with 3 input channels and 1000 classes:
    # one input channel saves 2 * 49 * 64, ten classes save 990 * 513
    assert n == 11_689_512 - 2 * 49 * 64 - 990 * 513
    assert model.stride == 32 and model.embedding_dim == 512
    x = Tensor(np.zeros((1, 1, 64, 64), np.float32))
    assert model.features(x).shape == (1, 512, 2, 2)


def test_resnet_block_adds_its_input():
    from tinycolor.models.classifier import BasicBlock

    tinycolor.manual_seed(0)
    block = BasicBlock(3, 3).eval()
    block.bn2.weight.data[:] = 0  # the residual branch is then just bn2's bias, 0
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3, 5, 5)).astype(np.float32))
    np.testing.assert_allclose(block(x).numpy(), np.maximum(x.numpy(), 0), atol=1e-6)


def test_resnet_encoder_starts_from_the_classifier(tmp_path):
    tinycolor.manual_seed(1)
    ccfg = _config("classifier", arch="resnet", width=2, blocks=1, size=32)
    clf = classifier.build_model(ccfg)
    clf.fc.weight.data[:] = 0  # not part of the encoder
    path = tmp_path / "clf.npz"
    tinycolor.save(clf, path, meta=checkpoint_meta("classifier", ccfg))
    cfg = _config("cnn_resnet", classifier=str(path))
    cfg["classifier_config"] = classifier.classifier_config(ccfg)
    model = cnn_resnet.build_model(cfg)
    for k, v in clf.features.state_dict().items():
        np.testing.assert_array_equal(model.encoder.state_dict()[k], v)
    # a plain classifier cannot be the encoder
    pcfg = _config("classifier", size=32)
    ppath = tmp_path / "plain.npz"
    tinycolor.save(classifier.build_model(pcfg), ppath, meta=checkpoint_meta("classifier", pcfg))
    with pytest.raises(InputError, match="--arch resnet"):
        cnn_resnet.load_data(_config("cnn_resnet", classifier=str(ppath), n_synthetic=9))


def test_resnet_l1_loss_is_the_mean_absolute_error():
    tinycolor.manual_seed(0)
    cfg = _config("cnn_resnet", loss="l1")
    model = cnn_resnet.build_model(cfg).eval()
    L, ab, labels = _fixed_batch(32)
    pred = cnn_resnet.predict_ab(model, L, cfg)
    got = cnn_resnet.loss(model, (Tensor(L), Tensor(ab), labels), cfg).item()
    assert got == pytest.approx(np.abs(pred - ab).mean() / 110, rel=1e-4)


@pytest.mark.parametrize(
    "name, scale", [("cnn_fusion", 255.0), ("cnn_koala", 128.0), ("cnn_resnet_l2", 110.0)]
)
def test_regression_losses_are_the_mse_of_the_prediction_on_their_scale(name, scale):
    """The loss's target scale is the one predict_ab decodes with: MSE(pred, ab) / scale^2
    ((ab + 128) / 255 for fusion, ab / 128 for koala, ab / 110 for resnet)."""
    tinycolor.manual_seed(0)
    cfg = _config(name, alpha=0.0)
    model = MODULES[name].build_model(cfg).eval()
    L, ab, labels = _fixed_batch(32)
    pred = MODULES[name].predict_ab(model, L, cfg)
    got = MODULES[name].loss(model, (Tensor(L), Tensor(ab), labels), cfg).item()
    assert got == pytest.approx(((pred - ab) ** 2).mean() / scale**2, rel=1e-4)


def test_resnet_ce_loss_is_rebalanced_and_decodes_with_the_configured_temperature():
    from tinycolor import functional as F
    from tinycolor.color import (
        ab_bins,
        annealed_mean,
        empirical_prior,
        nearest_bin,
        rebalance_weights,
        soft_encode,
    )

    tinycolor.manual_seed(0)
    L, ab, labels = _fixed_batch(32)
    cfg = _config("cnn_resnet", k=4, sigma=6.0, rebalance_lambda=0.3)
    cfg["prior"] = [float(p) for p in empirical_prior(ab, channel_axis=1)]
    model = cnn_resnet.build_model(cfg).eval()
    logits = model(Tensor(L)).numpy().astype(np.float64)
    n, _, h, w = logits.shape
    s = model.stride
    small = ab.reshape(n, 2, h, s, w, s).mean(axis=(3, 5))
    z = np.asarray(soft_encode(small.astype(np.float64), ab_bins(), k=4, sigma=6.0, channel_axis=1))
    logp = logits - logits.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    weight = rebalance_weights(np.float32(cfg["prior"]), 0.3)
    weight = weight[nearest_bin(small, ab_bins(), channel_axis=1)]
    assert np.ptp(weight) > 0.1  # the weights matter
    got = cnn_resnet.loss(model, (Tensor(L), Tensor(ab), labels), cfg).item()
    assert got == pytest.approx((-(z * logp).sum(axis=1) * weight).mean(), rel=1e-4)
    for T in (1.0, 0.1):
        small_ab = annealed_mean(logits.astype(np.float32), ab_bins(), T=T, axis=1)
        want = F.interpolate(Tensor(small_ab), size=(32, 32), mode="bilinear").numpy()
        got = cnn_resnet.predict_ab(model, L, {**cfg, "temperature": T})
        np.testing.assert_allclose(got, want, atol=1e-3)


def test_cnn_resnets_loss_axis_names_the_loss_the_run_used():
    from tinycolor import models

    label = {  # was one long label naming all three, cut off at both ends of the axis
        loss: models.loss_label(cnn_resnet, dict(cnn_resnet.DEFAULTS, loss=loss))
        for loss in ("l1", "l2", "ce")
    }
    assert label == {
        "l1": "L1 of ab / 110",
        "l2": "MSE of ab / 110",
        "ce": "rebalanced cross-entropy, ab bins",
    }
    assert models.loss_label(cnn_koala, cnn_koala.DEFAULTS) == cnn_koala.LOSS_LABEL
