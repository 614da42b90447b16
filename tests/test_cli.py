"""`python -m tinycolor.train` and `python -m tinycolor.colorize`, end to end, on a small crop.

Most cases call ``main(argv)`` in-process (fast); one runs each command as a real subprocess
to check the ``python -m`` entry points themselves.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinycolor
from tinycolor import argtypes, backend, colorize, evaluate, runs, train
from tinycolor.functional.norm import OneValuePerChannelError
from tinycolor.imageio import read_image, to_float, write_png
from tinycolor.models import ann_window

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def crop(tmp_path_factory):
    """A 40x64 crop of coffee (cup and saucer), as a PNG file."""
    rgb = read_image("skimage:coffee", dtype="uint8")[150:190, 200:264]
    return str(write_png(tmp_path_factory.mktemp("img") / "crop.png", rgb))


def _train(out, image, *extra):
    argv = ["ann_window", "--image", image, "--epochs", "1", "--out", str(out), "--quiet", *extra]
    return train.main(argv)


@pytest.fixture(scope="module")
def run_dir(crop, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert _train(out, crop, "--seed", "7") == 0
    return out


# --------------------------------------------------------------------------- train


def test_train_writes_the_run_folder(run_dir):
    names = {p.name for p in run_dir.iterdir()}
    assert {"model.npz", "metrics.json", "loss.png", "comparison.png"} <= names
    for png in ("loss.png", "comparison.png"):
        assert read_image(run_dir / png).shape[0] > 100  # a real figure, readable
    m = json.loads((run_dir / "metrics.json").read_text())
    assert m["model"] == "ann_window" and m["seed"] == 7 and m["config"]["window"] == 3
    assert 0 <= m["difference"] <= 9 and math.isfinite(m["mae_levels"])
    assert len(m["accuracy_per_channel"]) == 3
    assert all(0 <= a <= 1 for a in m["accuracy_per_channel"])
    gray = m["baselines"]["gray"]
    assert set(gray) >= {"difference", "accuracy_per_channel", "mae_levels"}
    assert m["wall_time_s"] > 0 and len(m["history"]["train"]) == 1
    assert all(math.isfinite(v) for v in m["history"]["train"] + m["history"]["test"])
    h = m["history"]
    assert m["final_train_loss"] == h["train"][-1] and m["final_test_loss"] == h["test"][-1]
    assert (m["epochs"], m["kept_epoch"], m["interrupted"]) == (1, 1, False)
    assert 0 < m["train_time_s"] <= m["wall_time_s"]
    ckpt = tinycolor.load(run_dir / "model.npz")
    meta = ckpt.pop("__meta__")
    assert meta["model"] == "ann_window" and meta["config"]["levels"] == 4
    assert m["parameters"] == sum(w.size for w in ckpt.values())  # ann_window has no buffers
    assert meta["metrics"]["difference"] == m["difference"]  # the headline numbers ride along


def test_metrics_agree_with_the_saved_model(run_dir, crop):
    """metrics.json's numbers are those of the checkpoint, recomputed independently."""
    m = json.loads((run_dir / "metrics.json").read_text())
    module, model, config, _ = runs.load_model(run_dir / "model.npz")
    rgb = read_image(crop)
    right = rgb[:, rgb.shape[1] // 2 :]
    pred = ann_window.predict_levels(model, ann_window.to_gray(right))
    assert ann_window.difference(pred, ann_window.rgb_levels(right, 4)) == pytest.approx(
        m["difference"]
    )
    gray_pred = ann_window.gray_levels(ann_window.to_gray(right), 4)
    truth = ann_window.rgb_levels(right, 4)
    assert ann_window.difference(gray_pred, truth) == pytest.approx(
        m["baselines"]["gray"]["difference"]
    )


def test_same_seed_same_run_other_seed_other_run(run_dir, crop, tmp_path):
    assert _train(tmp_path / "again", crop, "--seed", "7") == 0
    assert _train(tmp_path / "other", crop, "--seed", "8") == 0
    a = tinycolor.load(run_dir / "model.npz")
    b = tinycolor.load(tmp_path / "again" / "model.npz")
    c = tinycolor.load(tmp_path / "other" / "model.npz")
    weights = [k for k in a if k != "__meta__"]
    assert weights
    for k in weights:
        np.testing.assert_array_equal(a[k], b[k])
    assert any(not np.array_equal(a[k], c[k]) for k in weights)
    ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (run_dir, tmp_path / "again"))
    for key in ("difference", "accuracy_per_channel", "mae_levels", "history"):
        assert ma[key] == mb[key]


def test_zero_epochs_saves_and_scores_the_network_as_built(run_dir, crop, tmp_path):
    """--epochs 0 (with the options that act at epoch ends) leaves the network as built:
    the weights a one-epoch run with the same seed starts from, scored like any run."""
    extra = ["--seed", "7", "--epochs", "0", "--schedule", "cosine", "--keep", "best"]
    assert _train(tmp_path / "zero", crop, *extra, "--ema", "0.9") == 0
    zero = tinycolor.load(tmp_path / "zero" / "model.npz")
    meta = zero.pop("__meta__")
    backend.manual_seed(7)
    module = ann_window
    config = train.resolve_config(module, meta["config"])
    module.load_data(config)
    built = module.build_model(config).state_dict()
    assert set(built) == set(zero)
    for k in built:
        np.testing.assert_array_equal(zero[k], built[k])
    trained = tinycolor.load(run_dir / "model.npz")  # the same seed, one epoch
    assert any(not np.array_equal(zero[k], trained[k]) for k in built)
    m = json.loads((tmp_path / "zero" / "metrics.json").read_text())
    assert m["epochs"] == 0 and m["kept_epoch"] == 0 and m["final_train_loss"] is None
    assert m["history"]["train"] == [] and 0 <= m["difference"] <= 9
    assert read_image(tmp_path / "zero" / "loss.png").shape[0] > 100


def test_train_on_one_image_test_on_another(crop, tmp_path):
    other = str(write_png(tmp_path / "b.png", read_image("skimage:astronaut")[:24, :30]))
    out = tmp_path / "run"
    argv = ["--train-image", crop, "--test-image", other, "--window", "5", "--optimizer", "sgd"]
    assert _train(out, crop, *argv) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["config"]["window"] == 5 and m["config"]["lr"] == ann_window.LEARNING_RATES["sgd"]
    assert m["test_pixels"] == 24 * 30


def test_training_on_a_gray_image_warns(crop, tmp_path, capsys):
    """A gray image has no colour to learn: the run goes on, with a one-line warning."""
    gray = read_image(crop, dtype="uint8")[..., 1]
    path = str(write_png(tmp_path / "gray.png", gray))
    assert _train(tmp_path / "run", path) == 0
    err = capsys.readouterr().err
    assert f"python -m tinycolor.train: warning: the left half of {path} is gray" in err
    assert _train(tmp_path / "colour", crop) == 0
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize("keep, kept", [("best", 2), ("last", 4)])
def test_final_test_loss_is_the_last_epochs_and_ties_keep_the_first(
    crop, tmp_path, monkeypatch, keep, kept
):
    """With held-out losses scripted to fall, rise and tie, ``--keep best`` keeps the first
    of the lowest epochs, and ``final_test_loss`` is the last epoch's whichever was kept."""
    losses = iter([0.9, 0.4, 0.4, 0.7])
    monkeypatch.setattr(train, "test_loss", lambda *args: next(losses))
    out = tmp_path / keep
    assert _train(out, crop, "--epochs", "4", "--keep", keep) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["history"]["test"] == [0.9, 0.4, 0.4, 0.7]
    assert (m["kept_epoch"], m["final_test_loss"]) == (kept, 0.7)


@pytest.mark.parametrize("keep", ["last", "best"])
def test_ctrl_c_ends_training_early_and_keeps_the_run(crop, tmp_path, monkeypatch, capsys, keep):
    """Ctrl-C in the third of five epochs: the finished epochs are kept, scored and saved,
    the run is marked interrupted, and the command exits 130."""
    steps = {"n": 0}
    real_step = train.default_train_step
    per_epoch = None

    def step(module, model, optimizers, batch, config):
        steps["n"] += 1
        if steps["n"] == 2 * per_epoch + 1:
            raise KeyboardInterrupt
        return real_step(module, model, optimizers, batch, config)

    module = ann_window
    config = train.resolve_config(module, {"image": crop, "batch_size": 256})
    data = module.load_data(config)
    per_epoch = train.num_batches(data.train, 256)
    monkeypatch.setattr(train, "default_train_step", step)
    out = tmp_path / keep
    argv = ["--epochs", "5", "--batch-size", "256", "--keep", keep, "--ema", "0.9"]
    assert _train(out, crop, *argv) == 130
    assert "interrupted after 2 of 5 epochs" in capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["interrupted"] is True and metrics["epochs"] == 2
    assert len(metrics["history"]["train"]) == len(metrics["history"]["test"]) == 2
    test = metrics["history"]["test"]
    assert metrics["kept_epoch"] == (1 + int(np.argmin(test)) if keep == "best" else 2)
    assert metrics["final_train_loss"] == metrics["history"]["train"][-1]
    assert metrics["final_test_loss"] == test[-1]
    _, _, _, meta = runs.load_model(out / "model.npz")
    assert meta["model"] == "ann_window" and (out / "loss.png").stat().st_size > 0


class _DefaultSigterm(Exception):
    """What SIGTERM raises in these tests outside the commands, instead of ending pytest."""


@pytest.fixture
def sigterm_outside(monkeypatch):
    def outside(signum, frame):
        raise _DefaultSigterm

    previous = signal.signal(signal.SIGTERM, outside)
    yield outside
    signal.signal(signal.SIGTERM, previous)


def test_sigterm_stops_training_as_ctrl_c_does(crop, tmp_path, monkeypatch, sigterm_outside):
    """SIGTERM (kill, timeout) in the second of four epochs: the run keeps the first epoch,
    scored and saved, and exits 130, rather than dying with an empty run folder; the
    handler the command found is put back."""
    real_step = train.default_train_step
    steps = {"n": 0}

    def step(module, model, optimizers, batch, config):
        steps["n"] += 1
        if steps["n"] == 2:
            signal.raise_signal(signal.SIGTERM)
        return real_step(module, model, optimizers, batch, config)

    monkeypatch.setattr(train, "default_train_step", step)
    out = tmp_path / "run"
    assert _train(out, crop, "--epochs", "4", "--batch-size", "100000") == 130
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["interrupted"] is True and metrics["epochs"] == 1
    runs.load_model(out / "model.npz")
    assert signal.getsignal(signal.SIGTERM) is sigterm_outside


def test_a_batch_of_one_a_batchnorm_cannot_normalise_is_one_line(tmp_path, capsys):
    """A classifier whose maps shrink to 1x1 (--size 8, 4 blocks) given batches of one: its
    BatchNorm cannot normalise one value per channel (PyTorch refuses it too), which ended in a
    traceback; now one line that names --batch-size, and no run folder is left."""
    out = tmp_path / "run"
    argv = ["classifier", "--size", "8", "--blocks", "4", "--batch-size", "1", "--epochs", "1"]
    argv += ["--n-synthetic", "12", "--width", "4", "--out", str(out), "--quiet"]
    assert train.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "expected more than 1 value per channel" in err
    assert err.endswith("use a --batch-size of 2 or more") and not out.exists()
    # a last batch of one sample, left over after batches of 4: that is said instead
    exc = OneValuePerChannelError("batch_norm: ...")
    advice = train._lone_sample_advice(exc, 1, 3, 4)
    assert "batch 4 is the epoch's last, one sample left over after batches of 4" in advice


def _crashing_step(fail_at: int, how: str):
    """A training step that fails at its ``fail_at``-th call: an unexpected exception
    (``how`` "raise"), or a non-finite loss (``how`` "diverge"); it counts from 1."""
    real_step = train.default_train_step
    calls = {"n": 0}

    def step(module, model, optimizers, batch, config):
        calls["n"] += 1
        if calls["n"] == fail_at:
            if how == "raise":
                raise RuntimeError("boom: a bug in epoch 3")
            return {"loss": math.nan}
        return real_step(module, model, optimizers, batch, config)

    return step


def _weights(path) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", runs.PartialCheckpointWarning)
        return runs.load_model(path)[1].state_dict()


@pytest.mark.parametrize("how", ["raise", "diverge"])
@pytest.mark.parametrize("keep, ema", [("last", 0.0), ("best", 0.0), ("last", 0.9)])
def test_a_crash_in_epoch_3_leaves_the_finished_epochs_saved(
    crop, tmp_path, monkeypatch, capsys, keep, ema, how
):
    """A run that fails in epoch 3 of 5 (an unexpected exception, or the loss diverging)
    leaves model.npz holding the weights it would have ended with after epoch 2, the best
    epoch's (--keep best), the average (--ema) or the last, marked partial: the same run of
    2 epochs ends with those weights, and its final checkpoint is not marked partial."""
    config = {"image": crop, "batch_size": 256, "keep": keep, "ema": ema, "seed": 3}
    per_epoch = train.num_batches(
        ann_window.load_data(train.resolve_config(ann_window, config)).train, 256
    )
    held_out = {"n": 0}

    def test_loss(*args):  # falls then rises: --keep best keeps epoch 1, not the last
        held_out["n"] += 1
        return [0.5, 0.9, 0.7, 0.6, 0.4][held_out["n"] - 1]

    monkeypatch.setattr(train, "test_loss", test_loss)
    two = {}
    for k, e in {(keep, ema), ("last", 0.0)}:  # the same run stopped after 2 epochs
        held_out["n"] = 0
        train.run(
            "ann_window",
            {**config, "keep": k, "ema": e, "epochs": 2},
            out=tmp_path / "2",
            quiet=True,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error", runs.PartialCheckpointWarning)
            _, _, _, meta = runs.load_model(tmp_path / "2" / "model.npz")
        assert "epochs_done" not in meta and "epochs" not in meta and "metrics" in meta
        two[k, e] = _weights(tmp_path / "2" / "model.npz")
    held_out["n"] = 0
    monkeypatch.setattr(train, "default_train_step", _crashing_step(2 * per_epoch + 1, how))
    out = tmp_path / "crashed"
    argv = ["ann_window", "--image", crop, "--epochs", "5", "--batch-size", "256", "--quiet"]
    argv += ["--keep", keep, "--ema", str(ema), "--seed", "3", "--out", str(out)]
    if how == "raise":  # a bug: its traceback, after one line saying what is kept
        with pytest.raises(RuntimeError, match="boom"):
            train.main(argv)
        assert capsys.readouterr().err == (
            "python -m tinycolor.train: the run failed in epoch 3 of 5; the checkpoint saved "
            f"after epoch 2 is kept ({out / 'model.npz'}), and `python -m tinycolor.train "
            f"--resume {out}` goes on from it\n"
        )
    else:
        assert train.main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert "the loss became nan at epoch 3" in err
        assert f"the checkpoint saved after epoch 2 of 5 is kept: {out / 'model.npz'}" in err
    assert not (out / "metrics.json").exists()
    with pytest.warns(runs.PartialCheckpointWarning, match="saved after epoch 2 of 5; the run"):
        _, _, config, meta = runs.load_model(out / "model.npz")
    assert (meta["epochs_done"], meta["epochs"], config["epochs"]) == (2, 5, 5)
    assert "metrics" not in meta  # none measured yet
    got = _weights(out / "model.npz")
    assert got.keys() == two[keep, ema].keys()
    for name, value in got.items():
        np.testing.assert_array_equal(value, two[keep, ema][name], err_msg=name)
    if (keep, ema) != ("last", 0.0):  # not simply the weights after epoch 2
        assert any(not np.array_equal(got[n], two["last", 0.0][n]) for n in got)


def test_a_run_killed_after_an_epoch_leaves_a_checkpoint_colorize_takes(crop, tmp_path, capsys):
    """SIGKILL (the OOM killer, a power cut: nothing Python can catch) after the first epoch:
    the run folder holds the epochs finished, which colorize and evaluate use, saying (but not
    with --quiet) that the run did not finish."""
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    argv = ["ann_window", "--image", crop, "--epochs", "100000", "--out", str(out), "--quiet"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinycolor.train", *argv],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(1200):  # up to two minutes for the interpreter and the first epoch
            if (out / "model.npz").exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert proc.poll() is None, "the run ended before it was killed"
        assert (out / "model.npz").exists(), "no checkpoint after two minutes"
    finally:
        proc.kill()  # SIGKILL
        proc.wait()
    assert proc.returncode == -signal.SIGKILL and not (out / "metrics.json").exists()
    ckpt = str(out / "model.npz")
    assert colorize.main(["--checkpoint", ckpt, crop, "-o", str(tmp_path / "c.png")]) == 0
    err = capsys.readouterr().err
    assert re.fullmatch(
        rf"python -m tinycolor.colorize: warning: {re.escape(ckpt)}: saved after epoch \d+ of "
        r"100000; the run did not finish\n",
        err,
    ), err
    assert read_image(tmp_path / "c.png").shape == (40, 64, 3)
    assert (
        colorize.main(["--checkpoint", ckpt, crop, "-o", str(tmp_path / "q.png"), "--quiet"]) == 0
    )
    assert capsys.readouterr().err == ""
    folder = tmp_path / "photos"
    folder.mkdir()
    write_png(folder / "a.png", read_image(crop))
    argv = ["--checkpoint", ckpt, "--data", str(folder), "--size", "40", "--out", str(tmp_path)]
    assert evaluate.main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert evaluate.main(argv) == 0
    assert "saved after epoch" in capsys.readouterr().err


def test_sigterm_while_colorize_writes_leaves_no_file(
    run_dir, crop, tmp_path, monkeypatch, capsys, sigterm_outside
):
    import imageio.v3 as iio

    real_imwrite = iio.imwrite

    def imwrite(path, *args, **kwargs):
        Path(path).write_bytes(b"\x89PNG half")
        signal.raise_signal(signal.SIGTERM)
        return real_imwrite(path, *args, **kwargs)

    monkeypatch.setattr(iio, "imwrite", imwrite)
    out = tmp_path / "out"
    argv = ["--checkpoint", str(run_dir / "model.npz"), crop, "-o", str(out / "c.png")]
    assert colorize.main(argv) == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(out.iterdir()) == []  # neither c.png nor a temporary file


def test_cosine_schedule_ends_at_zero_and_constant_stays(crop, tmp_path):
    from tinycolor import optim
    from tinycolor.autograd import Tensor

    def lrs(schedule, epochs=4):
        w = Tensor(np.zeros(3, np.float32), requires_grad=True)
        opt = optim.SGD([w], lr=0.1)
        scheds = train.make_schedulers(schedule, {"main": opt}, epochs)
        seen = []
        for _ in range(epochs):
            seen.append(opt.lr)
            for s in scheds:
                s.step()
        return seen + [opt.lr]

    assert lrs("constant") == [0.1] * 5
    want = [0.1 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(5)]
    assert lrs("cosine") == pytest.approx(want) and lrs("cosine")[-1] == pytest.approx(0.0)
    out = tmp_path / "run"
    argv = ["--schedule", "cosine", "--weight-decay", "0.01", "--keep", "best", "--epochs", "2"]
    assert _train(out, crop, *argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    config = metrics["config"]
    assert config["schedule"] == "cosine" and config["weight_decay"] == 0.01
    test = metrics["history"]["test"]
    assert config["keep"] == "best" and metrics["kept_epoch"] == 1 + int(np.argmin(test))
    assert read_image(out / "loss.png").shape[0] > 100  # drawn with the kept-epoch line


def test_keep_best_restores_the_epoch_with_the_lowest_held_out_loss():
    """Training pulls w towards +1 while the held-out data wants -1: every epoch is worse on
    it than the one before, so --keep best must end with epoch 1's weights."""
    from types import SimpleNamespace

    from tinycolor import functional as F
    from tinycolor import nn
    from tinycolor.autograd import Tensor

    x = np.linspace(-1, 1, 32, dtype=np.float32)[:, None]
    data = SimpleNamespace(train=(x, x), test=(x, -x))

    def loss(model, batch, config):
        return F.mse_loss(
            model(batch[0]), batch[1] if isinstance(batch[1], Tensor) else Tensor(batch[1])
        )

    module = SimpleNamespace(loss=loss)
    results = {}
    for keep in ("last", "best"):
        tinycolor.manual_seed(0)
        model = nn.Linear(1, 1, bias=False)
        config = {"optimizer": "sgd", "lr": 0.1, "seed": 0, "epochs": 4, "batch_size": 8}
        config.update(schedule="constant", keep=keep)
        history = train.fit(module, model, data, config, quiet=True)
        assert not model.training  # ready to predict, as the lessons use it
        results[keep] = (float(model.weight.data.item()), history)
    w_last, h_last = results["last"]
    w_best, h_best = results["best"]
    assert h_last["test"] == h_best["test"] and np.all(np.diff(h_best["test"]) > 0)
    assert h_best["kept_epoch"] == 1 and "kept_epoch" not in h_last
    assert w_best < w_last  # epoch 1's weight, nearer the held-out target
    held_out = float(np.mean((w_best * x + x) ** 2))
    assert held_out == pytest.approx(h_best["test"][0], rel=1e-5)


def test_ema_holds_out_keeps_and_ends_with_the_averaged_weights():
    """With --ema the held-out loss of each epoch is that of the averaged weights, and the
    model ends with the average (--keep last) or the best epoch's average (--keep best)."""
    from types import SimpleNamespace

    from tinycolor import functional as F
    from tinycolor import nn, optim
    from tinycolor.autograd import Tensor

    x = np.linspace(-1, 1, 32, dtype=np.float32)[:, None]
    data = SimpleNamespace(train=(x, 3 * x), test=(x, 3 * x))

    def loss(model, batch, config):
        target = batch[1] if isinstance(batch[1], Tensor) else Tensor(batch[1])
        return F.mse_loss(model(batch[0]), target)

    module = SimpleNamespace(loss=loss)
    config = {"optimizer": "sgd", "lr": 0.2, "seed": 0, "epochs": 3, "batch_size": 8}
    config.update(schedule="constant", keep="last", ema=0.8)
    tinycolor.manual_seed(0)
    model = nn.Linear(1, 1, bias=False)
    history = train.fit(module, model, data, config, quiet=True)
    # the same run by hand: SGD steps, the average after each, held out at each epoch's end
    tinycolor.manual_seed(0)
    twin = nn.Linear(1, 1, bias=False)
    opt = optim.SGD(twin.parameters(), lr=0.2)
    ema = optim.ExponentialMovingAverage(twin, 0.8)
    rng = np.random.default_rng([0, train._BATCHES_STREAM])  # as fit draws them
    held_out, averages = [], []
    for _ in range(3):
        for xb, yb in train.iterate_batches(data.train, 8, rng, shuffle=True):
            opt.zero_grad()
            loss(twin, (Tensor(xb), Tensor(yb)), config).backward()
            opt.step()
            ema.update()
        w = float(ema.state_dict()["weight"].item())
        averages.append(w)
        held_out.append(float(np.mean((w * x - 3 * x) ** 2)))
    assert history["test"] == pytest.approx(held_out, rel=1e-5)
    assert float(model.weight.data.item()) == pytest.approx(w, rel=1e-6)
    assert float(twin.weight.data.item()) != pytest.approx(w, rel=1e-3)  # not the last step's
    config["keep"] = "best"
    tinycolor.manual_seed(0)
    model = nn.Linear(1, 1, bias=False)
    history = train.fit(module, model, data, config, quiet=True)
    assert history["kept_epoch"] == 1 + int(np.argmin(history["test"]))
    # the kept epoch's average, not the weights of that epoch's last step
    kept = averages[history["kept_epoch"] - 1]
    assert float(model.weight.data.item()) == pytest.approx(kept, rel=1e-6)


def _line_fit_problem(n=32, slope=3.0):
    """A 1-weight linear model and its data (y = slope x), for fit's plumbing."""
    from types import SimpleNamespace

    from tinycolor import functional as F
    from tinycolor.autograd import Tensor

    x = np.linspace(-1, 1, n, dtype=np.float32)[:, None]
    data = SimpleNamespace(train=(x, slope * x), test=(x, slope * x))

    def loss(model, batch, config):
        target = batch[1] if isinstance(batch[1], Tensor) else Tensor(batch[1])
        return F.mse_loss(model(batch[0]), target)

    return SimpleNamespace(loss=loss), data


@pytest.mark.parametrize("name", train.OPTIMIZERS)
def test_fit_steps_with_the_options_asked_and_the_cosine_schedule_once_an_epoch(name, monkeypatch):
    """fit's optimizer is --optimizer with --lr and --weight-decay; with --schedule cosine
    every step of epoch e (from 0) of E runs at lr (1 + cos(pi e / E)) / 2: the schedule
    steps once an epoch, after it, and never reaches 0 while training."""
    from tinycolor import nn

    module, data = _line_fit_problem(n=12)
    seen = []
    real_step = train.default_train_step

    def step(module, model, optimizers, batch, config):
        opt = optimizers["main"]
        seen.append((type(opt).__name__, getattr(opt, "momentum", 0), opt.weight_decay, opt.lr))
        return real_step(module, model, optimizers, batch, config)

    monkeypatch.setattr(train, "default_train_step", step)
    config = {"optimizer": name, "lr": 0.05, "seed": 0, "epochs": 3, "batch_size": 6}
    config.update(schedule="cosine", keep="last", weight_decay=0.25)
    tinycolor.manual_seed(0)
    train.fit(module, nn.Linear(1, 1), data, config, quiet=True)
    kind = {"sgd": "SGD", "momentum": "SGD", "rmsprop": "RMSprop", "adam": "Adam"}[name]
    momentum = train.MOMENTUM if name == "momentum" else 0
    assert [s[:3] for s in seen] == [(kind, momentum, 0.25)] * 6
    rates = [0.05 * (1 + math.cos(math.pi * e / 3)) / 2 for e in (0, 0, 1, 1, 2, 2)]
    assert [s[3] for s in seen] == pytest.approx(rates)


def test_ctrl_c_with_ema_ends_with_the_average_and_whole_epochs(monkeypatch):
    """Ctrl-C with --ema --keep last: the model ends with the moving average of the steps
    taken (not the last step's weights); pressed while an epoch's held-out loss is being
    measured, that epoch is dropped from every history, so that they stay the same length."""
    from tinycolor import nn, optim
    from tinycolor.autograd import Tensor

    module, data = _line_fit_problem()
    config = {"optimizer": "sgd", "lr": 0.2, "seed": 0, "epochs": 3, "batch_size": 8}
    config.update(schedule="constant", keep="last", ema=0.8)

    def averages(steps):
        """The moving average after each of ``steps`` SGD steps taken by hand, as fit takes them."""
        tinycolor.manual_seed(0)
        twin = nn.Linear(1, 1, bias=False)
        opt = optim.SGD(twin.parameters(), lr=0.2)
        ema = optim.ExponentialMovingAverage(twin, 0.8)
        rng = np.random.default_rng([0, train._BATCHES_STREAM])
        out = []
        while len(out) < steps:
            for xb, yb in train.iterate_batches(data.train, 8, rng, shuffle=True):
                opt.zero_grad()
                module.loss(twin, (Tensor(xb), Tensor(yb)), config).backward()
                opt.step()
                ema.update()
                out.append(float(ema.state_dict()["weight"].item()))
        return out, float(twin.weight.data.item())

    real_step = train.default_train_step
    calls = {"steps": 0}

    def step(module, model, optimizers, batch, config):  # Ctrl-C in epoch 2's second step
        calls["steps"] += 1
        if calls["steps"] == 6:
            raise KeyboardInterrupt
        return real_step(module, model, optimizers, batch, config)

    monkeypatch.setattr(train, "default_train_step", step)
    tinycolor.manual_seed(0)
    model = nn.Linear(1, 1, bias=False)
    history = train.fit(module, model, data, config, quiet=True)
    assert history["interrupted"] is True and len(history["train"]) == len(history["test"]) == 1
    avg, last_step = averages(5)
    assert float(model.weight.data.item()) == pytest.approx(avg[4], rel=1e-6)
    assert avg[4] != pytest.approx(last_step, rel=1e-3)  # the two differ

    monkeypatch.setattr(train, "default_train_step", real_step)
    real_loss, held_out = module.loss, {"n": 0}

    def loss(model, batch, config):  # Ctrl-C while epoch 2's held-out loss is measured
        if not model.training:  # four batches of 8 each time
            held_out["n"] += 1
            if held_out["n"] == 6:
                raise KeyboardInterrupt
        return real_loss(model, batch, config)

    module.loss = loss
    tinycolor.manual_seed(0)
    model = nn.Linear(1, 1, bias=False)
    history = train.fit(module, model, data, config, quiet=True)
    assert history["interrupted"] is True and len(history["train"]) == len(history["test"]) == 1
    assert float(model.weight.data.item()) == pytest.approx(averages(8)[0][7], rel=1e-6)


def test_held_out_loss_is_the_eval_mode_mean_over_every_example():
    """The held-out loss is measured in eval mode (no dropout), as the mean over examples of
    batches of unequal size, and leaves the model training."""
    from types import SimpleNamespace

    from tinycolor import functional as F
    from tinycolor import nn

    x = np.linspace(-1, 1, 10, dtype=np.float32)[:, None]
    y = (x**2).astype(np.float32)

    def loss(model, batch, config):
        return F.mse_loss(model(batch[0]), batch[1])

    tinycolor.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 1), nn.Dropout(0.5))
    module = SimpleNamespace(loss=loss)
    got = train.test_loss(module, model, (x, y), {"batch_size": 4}, "cpu")  # 4 + 4 + 2
    w, b = float(model[0].weight.data.item()), float(model[0].bias.data.item())
    assert got == pytest.approx(float(np.mean((w * x + b - y) ** 2)), rel=1e-5)
    assert model.training
    assert train.test_loss(SimpleNamespace(), model, (x, y), {"batch_size": 4}, "cpu") is None


def test_a_models_own_step_and_optimizers_are_used_and_its_numbers_kept(monkeypatch):
    """A model with make_optimizers and train_step (a GAN's two networks): fit steps with them,
    shuffles with --seed, averages each number the step returns over examples (batches of 8,
    8 and 4) into the history, and stops on a loss or weight that is no longer finite."""
    from types import SimpleNamespace

    from tinycolor import nn, optim

    x = np.arange(20, dtype=np.float32)[:, None]
    data = SimpleNamespace(train=(x, x), test=(x, x))
    calls = []

    def two_nets():
        return nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 1))

    def make_optimizers(model, config):
        g, d = (optim.SGD(model[i].parameters(), lr=0.1) for i in (0, 1))
        return {"g": g, "d": d}

    def train_step(model, optimizers, batch, config):
        calls.append((sorted(optimizers), batch[0].numpy()[:, 0].astype(int).tolist()))
        n = len(batch[0])
        return {"loss": float(n), "d_loss": float(n) / 2}

    module = SimpleNamespace(make_optimizers=make_optimizers, train_step=train_step)
    config = {"optimizer": "sgd", "lr": 0.1, "seed": 5, "epochs": 2, "batch_size": 8}
    history = train.fit(module, two_nets(), data, config, quiet=True)
    assert [c[0] for c in calls] == [["d", "g"]] * 6
    # shuffled by --seed (its stream of batches), every epoch anew
    rng, batches = np.random.default_rng([5, train._BATCHES_STREAM]), []
    for _ in range(2):
        order = rng.permutation(20).tolist()
        batches += [order[:8], order[8:16], order[16:]]
    assert [c[1] for c in calls] == batches
    mean = (8 * 8 + 8 * 8 + 4 * 4) / 20  # per example, not (8 + 8 + 4) / 3 per batch
    assert history["train"] == pytest.approx([mean, mean])
    assert history["d_loss"] == pytest.approx([mean / 2, mean / 2])
    assert history["test"] == [None, None]  # the module has no loss

    def infinite_loss(model, optimizers, batch, config):
        return {"loss": math.inf}

    module.train_step = infinite_loss
    with pytest.raises(train.TrainingDiverged, match="the loss became inf at epoch 1, step 1"):
        train.fit(module, two_nets(), data, config, quiet=True)

    def infinite_weight(model, optimizers, batch, config):  # the loss stays finite
        model[1].weight.data[...] = np.inf
        return {"loss": 1.0}

    module.train_step = infinite_weight
    with pytest.raises(train.TrainingDiverged, match=r"the weights \(1.weight\) became infinite"):
        train.fit(module, two_nets(), data, config, quiet=True)


@pytest.mark.parametrize("name", train.OPTIMIZERS)
def test_make_optimizer_passes_weight_decay(name):
    from tinycolor.autograd import Tensor

    w = Tensor(np.ones(3, np.float32), requires_grad=True)
    opt = train.make_optimizer(name, [w], 0.1, weight_decay=0.5)
    assert opt.weight_decay == 0.5
    w.grad = np.zeros(3, np.float32)  # the step comes from the decay alone
    opt.step()
    assert np.all(w.data < 1)


def test_default_run_folder_and_summary(crop, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["ann_window", "--image", crop, "--epochs", "1", "--levels", "3"]
    assert train.main(argv) == 0
    made = list((tmp_path / "runs").iterdir())
    assert len(made) == 1 and made[0].name.startswith("ann_window-")
    captured = capsys.readouterr()
    assert "gray baseline" in captured.out and "difference" in captured.out
    assert "run folder" in captured.out
    assert "epoch 1/1" in captured.err and "loss" in captured.err  # the progress bar


def test_summary_rows_put_each_baselines_own_numbers_under_the_models():
    metrics = {"psnr": 20.0, "acc": [0.5, 0.25], "done": True, "data": "photos", "n": 3}
    metrics["baselines"] = {"gray": {"psnr": 18.0, "acc": [0.1, 0.2]}, "chance": {"psnr": 9.0}}
    header, rows = runs.summary_rows(metrics)
    assert header == ["", "psnr", "acc"]  # the numbers a baseline has too, in their order
    assert rows == [
        ["model", "20.000", "0.500/0.250"],
        ["gray baseline", "18.000", "0.100/0.200"],
        ["chance baseline", "9.000", "-"],
    ]


def test_runs_started_in_the_same_second_get_folders_of_their_own(tmp_path, monkeypatch):
    monkeypatch.setattr(runs.time, "strftime", lambda fmt: "20250101-120000")
    made = [runs.make_run_dir("m", root=tmp_path) for _ in range(3)]
    stamp = "m-20250101-120000"
    assert [p.name for p in made] == [stamp, f"{stamp}-2", f"{stamp}-3"]
    assert all(p.is_dir() for p in made)


def test_a_failed_run_removes_only_the_empty_folders_it_made(tmp_path):
    """A run that fails after writing a file keeps it (and the error is the run's own, not
    one from removing a folder that is not empty); one that wrote nothing leaves nothing."""
    run = tmp_path / "a" / "run"
    run.mkdir(parents=True)
    with pytest.raises(ValueError, match="boom"):
        with runs.removed_if_left_empty(run, created=2):
            (run / "model.npz").write_bytes(b"")
            raise ValueError("boom")
    assert (run / "model.npz").exists()
    (run / "model.npz").unlink()
    with pytest.raises(KeyboardInterrupt):
        with runs.removed_if_left_empty(run, created=2):
            raise KeyboardInterrupt
    assert not (tmp_path / "a").exists() and tmp_path.is_dir()


def test_a_checkpoint_without_a_newer_option_loads_with_its_default(run_dir, tmp_path):
    """A checkpoint written before an option existed lacks it in its config: the model's
    default fills it in, and the model comes back in eval mode, ready to predict."""
    state = tinycolor.load(run_dir / "model.npz")
    meta = state.pop("__meta__")
    config = {k: v for k, v in meta["config"].items() if k != "hidden"}
    tinycolor.save(state, tmp_path / "older.npz", meta=dict(meta, config=config))
    _, model, config, _ = runs.load_model(tmp_path / "older.npz")
    assert config["hidden"] == ann_window.DEFAULTS["hidden"] == model.hidden
    assert not model.training


@pytest.mark.parametrize(
    "argv, ok",
    [
        (["--ema", "0"], True),
        (["--ema", "1"], False),  # a decay of 1: the average never moves
        (["--test-fraction", "0"], False),
        (["--test-fraction", "1"], False),
        (["--val-tiles", "0"], True),  # every held-out tile
        (["--val-tiles", "-1"], False),
        (["--batch-size", "0"], False),
        (["--lr", "0"], False),
        (["--lr", "inf"], False),
        (["--lr", "nan"], False),
        (["--weight-decay", "0"], True),
        (["--rebalance-lambda", "0"], True),
        (["--rebalance-lambda", "1"], True),
        (["--rebalance-lambda", "1.5"], False),
        (["--zoom", "1", "1"], True),  # plain crops
    ],
)
def test_option_values_at_their_bounds(argv, ok, capsys):
    """The bounds of the options' types: each value inside is taken, each outside refused
    with a usage error naming the option."""
    if ok:
        _, config, _ = train.parse_config("cnn_classification", argv)
        key = argv[0][2:].replace("-", "_")
        want = tuple(float(v) for v in argv[1:]) if len(argv) > 2 else float(argv[1])
        assert config[key] == want
    else:
        with pytest.raises(SystemExit) as exit_info:
            train.parse_config("cnn_classification", argv)
        assert exit_info.value.code == 2
        assert f"argument {argv[0]}: expected" in capsys.readouterr().err


def _unused_warnings(name, argv) -> list[str]:
    """The warnings ``parse_config`` gives for ``python -m tinycolor.train NAME *argv``."""
    import warnings  # noqa: PLC0415

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train.parse_config(name, argv)
    return [str(w.message) for w in caught]


@pytest.mark.parametrize(
    "name, setting, option, said",
    [
        ("cnn_resnet", ["--loss", "l2"], ["--temperature", "0.5"], "--temperature"),
        ("cnn_resnet", ["--loss", "l1"], ["--no-rebalance"], "--no-rebalance"),
        ("cnn_resnet", ["--loss", "l2"], ["--rebalance"], "--rebalance"),
        ("cnn_resnet", ["--loss", "l2"], ["--rebalance-lambda", "0.3"], "--rebalance-lambda"),
        ("cnn_resnet", ["--no-rebalance"], ["--rebalance-lambda", "0.3"], "--rebalance-lambda"),
        ("cnn_resnet", ["--classifier", "c.npz"], ["--classifier-epochs", "2"], "--classifier-"),
        ("cnn_resnet", ["--classifier", "c.npz"], ["--stages", "3"], "--stages"),
        ("cnn_resnet", ["--classifier", "c.npz"], ["--encoder-width", "8"], "--encoder-width"),
        ("cnn_resnet", ["--classifier", "c.npz", "--data", "skimage"], ["--n-synthetic", "5"], ""),
        ("cnn_koala", ["--classifier", "c.npz"], ["--classifier-epochs", "2"], "--classifier-"),
        ("cnn_classification", ["--no-rebalance"], ["--rebalance-lambda", "0"], "--rebalance-"),
        ("cnn_classification", [], ["--n-synthetic", "5"], "--n-synthetic"),
        ("cnn_regression", ["--data", "skimage"], ["--n-synthetic", "5"], "--n-synthetic"),
        ("classifier", ["--data", "."], ["--n-synthetic", "5"], "--n-synthetic"),
        ("cnn_fusion", ["--data", "skimage"], ["--alpha", "0.1"], "--alpha"),
        ("ann_window", ["--train-image", "a", "--test-image", "b"], ["--image", "c"], "--image"),
        ("ann_window", ["--epochs", "0"], ["--lr", "0.1"], "--lr"),
        ("cnn_fusion", ["--epochs", "0"], ["--optimizer", "sgd"], "--optimizer"),
        ("cnn_koala", ["--epochs", "0"], ["--ema", "0.5"], "--ema"),
        ("classifier", ["--epochs", "0"], ["--batch-size", "8"], "--batch-size"),
        ("classifier", ["--epochs", "0"], ["--weight-decay", "0.1"], "--weight-decay"),
        ("cnn_regression", ["--epochs", "1"], ["--schedule", "cosine"], "--schedule"),
        ("cnn_regression", ["--epochs", "1"], ["--keep", "best"], "--keep"),
    ],
)
def test_an_option_given_where_it_has_no_effect_is_warned_about(name, setting, option, said):
    """An option that the settings make pointless is said in a warning when it was given,
    even at its default value; left out, the same settings warn about nothing."""
    got = _unused_warnings(name, setting + option)
    assert len(got) == 1, got
    assert got[0].startswith(f"{said or option[0]}") and " has no effect with " in got[0]
    assert _unused_warnings(name, setting) == []


@pytest.mark.parametrize(
    "name, argv",
    [
        ("cnn_resnet", ["--temperature", "0.5", "--rebalance-lambda", "0.3", "--rebalance"]),
        ("cnn_resnet", ["--classifier-epochs", "2", "--stages", "3", "--encoder-width", "8"]),
        ("cnn_resnet", ["--data", "skimage", "--n-synthetic", "5"]),  # its classifier's scenes
        ("cnn_koala", ["--data", "skimage", "--n-synthetic", "5", "--classifier-epochs", "2"]),
        ("cnn_classification", ["--rebalance-lambda", "0.3", "--temperature", "0.1"]),
        ("cnn_regression", ["--data", "synthetic", "--n-synthetic", "5"]),
        ("classifier", ["--n-synthetic", "5"]),
        ("cnn_fusion", ["--alpha", "0.1", "--data", "synthetic"]),
        ("ann_window", ["--image", "c", "--epochs", "1", "--lr", "0.1", "--ema", "0.5"]),
        (
            "cnn_regression",
            ["--epochs", "2", "--keep", "best", "--schedule", "cosine", "--batch-size", "8"],
        ),
    ],
)
def test_an_option_that_has_an_effect_is_not_warned_about(name, argv):
    assert _unused_warnings(name, argv) == []


def test_the_warning_is_one_line_in_the_commands_voice_and_the_run_goes_on(crop, tmp_path, capsys):
    assert _train(tmp_path / "run", crop, "--keep", "best") == 0
    err = capsys.readouterr().err
    assert (
        "python -m tinycolor.train: warning: --keep has no effect with --epochs 1: the best "
        "epoch is the last\n" in err
    )
    assert (tmp_path / "run" / "model.npz").is_file()


@pytest.mark.parametrize("name", tinycolor.models.available())
def test_the_warnings_name_each_option_as_it_is_spelled(name):
    """``_flag`` spells every option of every model as its parser does (a switch as the
    spelling that gives its value), so that a warning names the option the user typed."""
    parser = train.build_parser(name, tinycolor.models.get(name))
    for action in parser._actions:
        if not action.option_strings or action.dest == "help":
            continue
        if isinstance(action, argparse.BooleanOptionalAction):
            values = [True, False]
        else:
            values = [action.const] if isinstance(action.const, bool) else [1.0]
        for value in values:
            assert train._flag(action.dest, value) in action.option_strings


def test_list_and_help(capsys):
    assert train.main(["--list"]) == 0
    assert "ann_window" in capsys.readouterr().out
    assert train.main(["ann_window", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--window", "--hidden", "--levels", "--optimizer", "--train-image", "--device"):
        assert option in text
    assert "(default: 3)" in text and "adam 0.01" in text
    from tinycolor import models

    for name in models.available():  # one default per option (classifier's --image-size had two)
        text = " ".join(train.build_parser(name, models.get(name)).format_help().split())
        assert re.search(r"\(default: [^)]*\) \(default:", text) is None, name
    for parser in (colorize.build_parser(), evaluate.build_parser()):
        text = parser.format_help()
        assert "(default: $TINYCOLOR_DEVICE, else cpu)" in text  # a default shown in words...
        assert "(default: None)" not in text and "(default: False)" not in text  # ...not else


def test_help_shows_which_of_an_on_off_pair_is_the_default():
    """cnn_resnet's --rebalance/--no-rebalance showed no default, so its help left unsaid that
    rebalancing is on unless switched off."""
    from tinycolor import models

    text = " ".join(
        train.build_parser("cnn_resnet", models.get("cnn_resnet")).format_help().split()
    )
    assert "class-rebalancing weights (--loss ce) (default: --rebalance)" in text
    parser = argparse.ArgumentParser(formatter_class=argtypes.HelpFormatter)
    parser.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=False, help="m")
    assert "m (default: --no-mirror)" in " ".join(parser.format_help().split())


def _run_module(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_python_dash_m_entry_points(crop, run_dir, tmp_path):
    r = _run_module("tinycolor.train", "no_such_model", cwd=tmp_path)
    assert r.returncode == 2 and "ann_window" in r.stderr and "Traceback" not in r.stderr
    # an ensemble's errors are raised in ensembles, which imports tinycolor.train: they were
    # not the classes the __main__ copy of train caught, and ended in a traceback
    r = _run_module("tinycolor.train", "cnn_regression", "--ensemble", "1", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "an ensemble needs at least 2 members" in r.stderr
    r = _run_module(
        "tinycolor.colorize", "--checkpoint", str(run_dir / "model.npz"), crop, cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "crop-colorized.png").exists()


# --------------------------------------------------------------------------- colorize


def test_colorize_a_saved_model(run_dir, crop, tmp_path, capsys):
    out = tmp_path / "out.png"
    rc = colorize.main(["--checkpoint", str(run_dir / "model.npz"), crop, "-o", str(out)])
    assert rc == 0
    got = read_image(out, dtype="uint8")
    module, model, config, _ = runs.load_model(run_dir / "model.npz")
    np.testing.assert_array_equal(got, module.colorize(model, read_image(crop), config))
    assert set(np.unique(got)) <= {0, 64, 128, 192}
    assert "crop.png (64x40) ->" in capsys.readouterr().out  # width x height, as everywhere
    argv = ["--checkpoint", str(run_dir / "model.npz"), crop, "-o", str(out), "--compare"]
    assert colorize.main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().out == ""  # nothing but errors


def test_colorize_compare_colour_and_gray_inputs(run_dir, crop, tmp_path, capsys, monkeypatch):
    ckpt = str(run_dir / "model.npz")
    assert colorize.main(["--checkpoint", ckpt, crop, "-o", str(tmp_path), "--compare"]) == 0
    assert (tmp_path / "crop-colorized-compare.png").exists()
    assert "difference" in capsys.readouterr().out  # the metrics on a colour input
    # ann_window's colours are 4 levels a channel: the original is shown quantised alike
    from tinycolor import viz

    panels = []
    monkeypatch.setattr(viz, "image_grid", lambda p, path, **kw: panels.extend(p) or path)
    argv = ["--checkpoint", ckpt, crop, "-o", str(tmp_path / "q.png"), "--compare"]
    assert colorize.main(argv) == 0
    monkeypatch.undo()
    config = runs.load_model(ckpt)[2]
    want = to_float(ann_window.reference(read_image(crop), config))
    assert panels[2][0] == "original, quantised"
    np.testing.assert_array_equal(panels[2][1], want)
    gray16 = (read_image(crop)[..., 1] * 65535).astype(np.uint16)
    import imageio.v3 as iio

    iio.imwrite(tmp_path / "g16.png", gray16)
    out = str(tmp_path / "g16-out.png")
    assert (
        colorize.main(["--checkpoint", ckpt, str(tmp_path / "g16.png"), "-o", out, "--compare"])
        == 0
    )
    assert "no original" in capsys.readouterr().out
    assert (tmp_path / "g16-out.png").exists()


# --------------------------------------------------------------------------- bad input


def _one_line_error(capsys, *needles):
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, err


def _make_foreign(d):
    np.savez(d / "foreign.npz", weights=np.zeros(3))
    return d / "foreign.npz"


@pytest.mark.parametrize(
    "args, needles",
    [
        (["no_such_model"], ["unknown model", "ann_window"]),
        (["ann_window", "--image", "{d}/missing.png"], ["missing.png", "no such file"]),
        (["ann_window", "--image", "{d}/text.png"], ["text.png", "not a readable image"]),
        (["ann_window", "--image", "{d}/small.png"], ["small.png", "window"]),
        (["ann_window", "--train-image", "{d}/small.png"], ["go together"]),
        (["ann_window", "--image", "{d}"], ["is a folder"]),
    ],
    ids=["unknown-model", "missing", "not-an-image", "too-small", "half-pair", "folder"],
)
def test_train_bad_input(tmp_path, capsys, args, needles):
    (tmp_path / "text.png").write_text("hello")
    write_png(tmp_path / "small.png", np.zeros((8, 5, 3), np.uint8))
    argv = [a.format(d=tmp_path) for a in args] + ["--out", str(tmp_path / "run")]
    assert train.main(argv) == 2
    _one_line_error(capsys, *needles)
    assert not (tmp_path / "run").exists()  # nothing half-made


def test_train_cuda_without_a_gpu(tmp_path, capsys, crop):
    if backend.cuda_available():
        pytest.skip("a GPU is present")
    assert _train(tmp_path / "run", crop, "--device", "cuda") == 2
    _one_line_error(capsys, "cuda")
    backend.set_device("cpu")


def _checkpoint_variants(d, good: Path):
    """Files that are not a usable ann_window checkpoint, each for its own reason."""
    state = tinycolor.load(good)
    meta = state.pop("__meta__")
    (d / "corrupt.npz").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (d / "text.npz").write_text("not a checkpoint")
    unknown = dict(meta, model="no_such_model")
    tinycolor.save(state, d / "unknown.npz", meta=unknown)
    misfit = dict(meta, config=dict(meta["config"], window=5))  # weights are 3x3 ones
    tinycolor.save(state, d / "misfit.npz", meta=misfit)
    tinycolor.save(dict(state, extra=np.zeros(2)), d / "extra.npz", meta=meta)
    tinycolor.save(state, d / "newer.npz", meta=dict(meta, format_version=2))
    tinycolor.save(state, d / "format.npz", meta=dict(meta, format="other-model"))
    tinycolor.save(state, d / "version.npz", meta=dict(meta, format_version="2.0b"))
    tinycolor.save(state, d / "config.npz", meta=dict(meta, config=[["window", 3]]))
    typed = dict(meta, config=dict(meta["config"], window="3"))  # hand-edited: text, not 3
    tinycolor.save(state, d / "typed.npz", meta=typed)
    _make_foreign(d)


@pytest.mark.parametrize(
    "ckpt, image, extra, needles",
    [
        ("{run}/model.npz", "{d}/missing.png", [], ["missing.png", "no such file"]),
        ("{run}/model.npz", "{d}/text.png", [], ["text.png", "not a readable image"]),
        ("{run}/model.npz", "{d}", [], ["is a folder"]),
        ("{run}/model.npz", "{d}/tiny.png", [], ["tiny.png", "smaller than the 3x3 window"]),
        ("{d}/missing.npz", "{crop}", [], ["missing.npz", "no such checkpoint"]),
        ("{d}/corrupt.npz", "{crop}", [], ["corrupt.npz", "not a readable checkpoint"]),
        ("{d}/text.npz", "{crop}", [], ["text.npz", "not a readable checkpoint"]),
        ("{d}/foreign.npz", "{crop}", [], ["foreign.npz", "not a tinycolor model checkpoint"]),
        ("{d}/unknown.npz", "{crop}", [], ["no_such_model", "ann_window"]),
        ("{d}/misfit.npz", "{crop}", [], ["do not fit", "shape"]),
        ("{d}/extra.npz", "{crop}", [], ["do not fit", "unexpected extra"]),
        ("{d}/newer.npz", "{crop}", [], ["version 2 is newer than this tinycolor understands"]),
        ("{d}/format.npz", "{crop}", [], ["unknown checkpoint format 'other-model'"]),
        ("{d}/version.npz", "{crop}", [], ["format version '2.0b' is not a whole number"]),
        ("{d}/config.npz", "{crop}", [], ["its config is not a JSON object (a list)"]),
        ("{d}/typed.npz", "{crop}", [], ["window = '3', where a whole number is expected"]),
        ("{run}/model.npz", "{crop}", ["--model", "cnn_regression"], ["of model 'ann_window'"]),
        ("{run}/model.npz", "{crop}", ["-o", "{d}/out.jpg"], [".png"]),
        ("{run}/model.npz", "{crop}", ["{crop}"], ["crop.png", "an image? --checkpoint takes"]),
    ],
    ids=[
        "missing-image",
        "not-an-image",
        "folder",
        "too-small",
        "missing-ckpt",
        "corrupt-ckpt",
        "text-ckpt",
        "foreign-ckpt",
        "unknown-model-ckpt",
        "misfit-ckpt",
        "extra-ckpt",
        "newer-ckpt",
        "other-format-ckpt",
        "bad-version-ckpt",
        "bad-config-ckpt",
        "mistyped-config-ckpt",
        "other-model",
        "not-png-output",
        "two-images",  # the first is read as an ensemble's second checkpoint
    ],
)
def test_colorize_bad_input(run_dir, crop, tmp_path, capsys, ckpt, image, extra, needles):
    (tmp_path / "text.png").write_text("hello")
    write_png(tmp_path / "tiny.png", np.zeros((2, 5), np.uint8))
    _checkpoint_variants(tmp_path, run_dir / "model.npz")
    fill = {"d": tmp_path, "run": run_dir, "crop": crop}
    argv = ["--checkpoint", ckpt.format(**fill), image.format(**fill)]
    argv += [a.format(**fill) for a in extra] + ["-o", str(tmp_path / "x.png")] * (not extra)
    assert colorize.main(argv) == 2
    _one_line_error(capsys, *needles)


def test_python_dash_m_tinycolor_names_the_commands(capsys):
    from tinycolor import __main__ as package_main

    assert package_main.main([]) == 0
    out = capsys.readouterr().out
    for command in ("tinycolor.train MODEL", "tinycolor.evaluate", "tinycolor.colorize"):
        assert command in out
    assert package_main.main(["train", "ann_window", "--epochs", "1"]) == 2
    assert (
        "did you mean python -m tinycolor.train ann_window --epochs 1?" in capsys.readouterr().err
    )
    assert package_main.main(["cnn_resnet"]) == 2
    assert "did you mean python -m tinycolor.train cnn_resnet?" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [  # each was a traceback from inside the first step (or a message blaming --data)
        (["cnn_regression", "--seed", "-5"], "argument --seed: expected an integer >= 0, got -5"),
        (["classifier", "--n-synthetic", "4", "--size", "4"], "needs crops of at least 8 pixels"),
        (
            ["classifier", "--n-synthetic", "4", "--arch", "resnet", "--size", "16"],
            "--size 16: a resnet classifier with --blocks 4 needs crops of at least 32 pixels",
        ),
        (["cnn_classification", "--k", "230"], "--k 230: a target can spread over at most"),
    ],
)
def test_settings_a_model_cannot_train_with_are_named_before_training(argv, message, capsys):
    assert train.main([*argv, "--epochs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_colorize_output_names(run_dir, crop, tmp_path, capsys):
    ckpt = str(run_dir / "model.npz")
    victim = tmp_path / "victim.png"
    victim.write_bytes(Path(crop).read_bytes())
    before = victim.read_bytes()
    # the input itself: it was overwritten with the colorized picture, without a word
    assert colorize.main(["--checkpoint", ckpt, str(victim), "-o", str(victim)]) == 2
    assert "that is the input image" in capsys.readouterr().err
    assert victim.read_bytes() == before
    # a folder that does not exist yet, written with a trailing slash: made
    assert colorize.main(["--checkpoint", ckpt, crop, "-o", str(tmp_path / "new") + "/"]) == 0
    assert (tmp_path / "new" / "crop-colorized.png").exists()
    # a file in the way of the folder: named, not "[Errno 17] File exists"
    assert colorize.main(["--checkpoint", ckpt, crop, "-o", str(victim / "x.png")]) == 2
    assert "a file of that name is in the way" in capsys.readouterr().err


def test_out_and_json_paths_that_cannot_be_made_are_named(run_dir, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert train.main(["ann_window", "--epochs", "1", "--out", str(blocker / "run")]) == 2
    err = capsys.readouterr().err
    assert f"--out {blocker / 'run'}: cannot make the folder (a file is in the way)" in err
    # evaluate --json into a folder that does not exist yet: made, as --out and -o are
    from tinycolor.runs import write_json

    target = tmp_path / "new" / "deeper" / "x.json"
    write_json(target, {"a": 1})
    assert target.read_text().strip().endswith("}")


def test_folders_the_results_cannot_be_written_in_are_named_before_the_work(
    run_dir, crop, tmp_path, monkeypatch, capsys
):
    """An existing folder without write permission (or on a read-only disk): train --out,
    evaluate --out, --json and its default folder beside the checkpoint are refused before
    training or scoring, where the run used to fail only when it came to save."""
    locked = tmp_path / "locked"
    locked.mkdir()
    ckpt = locked / "model.npz"
    ckpt.write_bytes((run_dir / "model.npz").read_bytes())
    real_access = os.access

    def access(path, mode, *args, **kwargs):  # as for a user other than root, after chmod a-w
        if Path(path) == locked and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)

    def slow_part(*args, **kwargs):
        raise AssertionError("the slow part ran before the output folder was checked")

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(train, "fit", slow_part)
    monkeypatch.setattr(evaluate, "evaluate_checkpoint", slow_part)
    why = f"(no permission to write in {locked})"
    assert train.main(["ann_window", "--image", crop, "--out", str(locked)]) == 2
    assert f"--out {locked}: cannot write in the folder {why}" in capsys.readouterr().err
    assert evaluate.main(["--checkpoint", str(ckpt)]) == 2
    err = capsys.readouterr().err
    assert f"in {locked / 'eval-skimage'} {why}; give another folder with --out DIR" in err
    assert evaluate.main(["--checkpoint", str(ckpt), "--out", str(locked / "new")]) == 2
    assert f"--out {locked / 'new'}: cannot write in it {why}" in capsys.readouterr().err
    argv = ["--checkpoint", str(ckpt), "--out", str(tmp_path), "--json", str(locked / "m.json")]
    assert evaluate.main(argv) == 2
    assert f"--json {locked / 'm.json'}: cannot be written {why}" in capsys.readouterr().err


def test_one_photo_is_named_as_too_few_not_as_missing_classes(crop, tmp_path, capsys):
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "a.png").write_bytes(Path(crop).read_bytes())
    assert train.main(["cnn_fusion", "--data", str(folder), "--epochs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "found 1 usable colour image(s); at least 2 are needed" in err
    assert "subfolder" not in err.splitlines()[-1]  # was: put each class in its own subfolder


def test_the_commands_take_their_device_from_tinycolor_device(
    run_dir, crop, tmp_path, monkeypatch, capsys
):
    # README: TINYCOLOR_DEVICE=cuda runs the commands on the GPU; they ignored it (--device cpu)
    monkeypatch.chdir(tmp_path)  # colorize writes crop-colorized.png here
    ckpt = str(run_dir / "model.npz")
    monkeypatch.setenv("TINYCOLOR_DEVICE", "bogus")
    assert train.main(["ann_window", "--epochs", "1", "--quiet"]) == 2
    assert colorize.main(["--checkpoint", ckpt, crop, "--quiet"]) == 2
    assert evaluate.main(["--checkpoint", ckpt, "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all("TINYCOLOR_DEVICE='bogus': unknown device" in e for e in err)
    monkeypatch.setenv("TINYCOLOR_DEVICE", "cuda")
    if not backend.cuda_available():
        assert colorize.main(["--checkpoint", ckpt, crop, "--quiet"]) == 2
        assert "needs CuPy" in capsys.readouterr().err
    assert colorize.main(["--checkpoint", ckpt, crop, "--quiet", "--device", "cpu"]) == 0


def test_manual_seed_takes_any_integer_as_pytorch_does():
    tinycolor.manual_seed(-1)  # NumPy refused it at the first random draw
    a = tinycolor.nn.Linear(3, 2).weight.numpy()
    tinycolor.manual_seed(2**64 - 1)
    np.testing.assert_array_equal(tinycolor.nn.Linear(3, 2).weight.numpy(), a)
    with pytest.raises(TypeError, match="expected an integer seed, got '7'"):
        tinycolor.manual_seed("7")


def test_colorize_compare_never_overwrites_the_input(run_dir, crop, tmp_path, capsys):
    """--compare writes <output stem>-compare.png: an input of that name was replaced by the
    figure, without a word; it is refused as -o naming the input is, before any work."""
    ckpt = str(run_dir / "model.npz")
    photo = tmp_path / "x-compare.png"
    photo.write_bytes(Path(crop).read_bytes())
    before = photo.read_bytes()
    argv = ["--checkpoint", ckpt, str(photo), "-o", str(tmp_path / "x.png"), "--compare"]
    assert colorize.main(argv) == 2
    _one_line_error(capsys, "its comparison", "is the input image; give another name")
    assert photo.read_bytes() == before and not (tmp_path / "x.png").exists()
    # the default name beside it: x-compare-colorized.png and its -compare.png, both new
    argv = ["--checkpoint", ckpt, str(photo), "-o", f"{tmp_path}/", "--compare"]
    assert colorize.main(argv) == 0
    assert photo.read_bytes() == before


def _classifier_checkpoint(path):
    from tinycolor.models import classifier

    config = dict(classifier.DEFAULTS, class_names=["a", "b", "c"])
    meta = runs.checkpoint_meta("classifier", config)
    tinycolor.save(classifier.build_model(config), path, meta=meta)
    return path


def _no_reading(monkeypatch):
    """Makes reading the input image fail the test: what is refused must be so before it."""
    from tinycolor import imageio

    def read(*args, **kwargs):
        raise AssertionError("the image was read before the refusal")

    monkeypatch.setattr(imageio, "read_image", read)


def test_colorize_refuses_a_classifier_checkpoint_naming_it_before_reading_the_image(
    crop, tmp_path, capsys, monkeypatch
):
    """The image was read first, then blamed ("crop.png: classifier is not a colorizer")."""
    ckpt = _classifier_checkpoint(tmp_path / "clf.npz")
    _no_reading(monkeypatch)
    assert colorize.main(["--checkpoint", str(ckpt), crop, "-o", str(tmp_path / "o.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"python -m tinycolor.colorize: error: {ckpt} (classifier): "), err
    assert "not a colorizer" in err and "crop.png" not in err and len(err.splitlines()) == 1


def test_colorize_checks_where_the_output_goes_before_the_model_runs(
    run_dir, crop, tmp_path, capsys, monkeypatch
):
    ckpt = str(run_dir / "model.npz")
    blocker = tmp_path / "a.png"
    blocker.write_bytes(b"")
    _no_reading(monkeypatch)
    assert colorize.main(["--checkpoint", ckpt, crop, "-o", str(blocker / "x.png")]) == 2
    _one_line_error(capsys, f"cannot make its folder {blocker}: a file of that name is in the way")
    # and so is a model that is none, before the checkpoint is loaded
    argv = ["--checkpoint", ckpt, crop, "-o", str(tmp_path / "o.png"), "--model", "nosuch"]
    assert colorize.main(argv) == 2
    _one_line_error(capsys, "--model nosuch: unknown model 'nosuch'; known models: ann_window")


def test_colorize_output_without_a_suffix_names_the_folder_form(run_dir, crop, tmp_path, capsys):
    """--help says -o may be a folder; a new name without a suffix was refused as "give a name
    ending in .png", hiding that results/ would do."""
    out = tmp_path / "results"
    assert colorize.main(["--checkpoint", str(run_dir / "model.npz"), crop, "-o", str(out)]) == 2
    _one_line_error(capsys, "give a name ending in .png, or a folder", f"({out}/)")
    assert colorize.main(["--checkpoint", str(run_dir / "model.npz"), crop, "-o", f"{out}/"]) == 0
    assert (out / "crop-colorized.png").exists()
