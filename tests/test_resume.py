"""`python -m tinycolor.train --resume RUN_DIR`: a run that stopped (an error, Ctrl-C, SIGKILL)
goes on from its last finished epoch and ends as the same run would have without stopping:
the same weights, bit for bit, and the same history. Each piece of the training state is
needed for that (the knock-out test), a sub-model trained on the way is not trained again,
and a folder that cannot be resumed is named in one line."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinycolor
from tinycolor import train
from tinycolor.imageio import read_image, write_png

ROOT = Path(__file__).resolve().parents[1]
STATE = train.TRAINING_STATE

# cnn_regression on tiny settings with every piece of state a run carries: Adam's moments, a
# cosine schedule, a moving average, the best epoch, dropout, random crops (zoom) and flips
CNN = ["cnn_regression", "--size", "16", "--image-size", "24", "--crops", "2"]
CNN += ["--conv1", "4", "--conv2", "4", "--fc1", "8", "--fc2", "8", "--dropout", "0.3"]
CNN += ["--optimizer", "adam", "--schedule", "cosine", "--ema", "0.9", "--keep", "best"]
CNN += ["--batch-size", "2", "--epochs", "3", "--quiet"]


@pytest.fixture(scope="module")
def crop(tmp_path_factory):
    """A 40x64 crop of coffee (cup and saucer), as a PNG file."""
    rgb = read_image("skimage:coffee", dtype="uint8")[150:190, 200:264]
    return str(write_png(tmp_path_factory.mktemp("img") / "crop.png", rgb))


def _ann(crop):
    argv = ["ann_window", "--image", crop, "--epochs", "4", "--batch-size", "256", "--seed", "5"]
    return [*argv, "--optimizer", "adam", "--schedule", "cosine", "--quiet"]


def _steps_per_epoch(argv) -> int:
    module, config, _ = train.parse_config(argv[0], argv[1:])
    return train.num_batches(module.load_data(config).train, int(config["batch_size"]))


def _failing_step(at: int, exc):
    """A training step that raises ``exc`` at its ``at``-th call (counting from 1)."""
    real = train.default_train_step
    calls = {"n": 0}

    def step(module, model, optimizers, batch, config):
        calls["n"] += 1
        if calls["n"] == at:
            raise exc
        return real(module, model, optimizers, batch, config)

    return step


@pytest.fixture
def upside_down_held_out_loss(monkeypatch):
    """The held-out loss negated: it rises as training goes on, so that --keep best keeps the
    first epoch, one finished before the crash, which the resumed run must remember."""
    real = train.test_loss
    monkeypatch.setattr(train, "test_loss", lambda *args: -real(*args))


def _assert_same_run(a: Path, b: Path, resumed_after=None):
    """The run folders ``a`` (never stopped) and ``b`` (resumed) hold the same files, the same
    weights bit for bit, and the same metrics but for the times (and ``resumed_after``)."""
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    assert not (b / STATE).exists()  # removed once the run finished
    wa, wb = tinycolor.load(a / "model.npz"), tinycolor.load(b / "model.npz")
    meta_a, meta_b = wa.pop("__meta__"), wb.pop("__meta__")
    assert wa.keys() == wb.keys()
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)
    ma = json.loads((a / "metrics.json").read_text())
    mb = json.loads((b / "metrics.json").read_text())
    assert ma["history"] == mb["history"]
    times = {"train_time_s", "wall_time_s"}
    assert mb.pop("resumed_after", None) == resumed_after
    assert {k: v for k, v in ma.items() if k not in times} == {
        k: v for k, v in mb.items() if k not in times
    }
    assert meta_a["config"] == meta_b["config"] and "epochs_done" not in meta_b


@pytest.mark.parametrize("how", ["error", "ctrl-c"])
def test_a_cnn_run_stopped_in_epoch_2_and_resumed_ends_as_one_never_stopped(
    tmp_path, capsys, how, upside_down_held_out_loss, monkeypatch
):
    """cnn_regression with Adam, cosine, a moving average, --keep best, dropout and random
    crops, stopped midway through epoch 2 of 3 by an error (the run folder holds the epoch-1
    checkpoint and training state) or by Ctrl-C (the folder is written, marked interrupted,
    and keeps its state): --resume ends with the uninterrupted run's folder."""
    assert train.main([*CNN, "--out", str(tmp_path / "straight")]) == 0
    per_epoch = _steps_per_epoch(CNN)
    stop = RuntimeError("boom: a bug") if how == "error" else KeyboardInterrupt()
    out = tmp_path / "stopped"
    with monkeypatch.context() as m:
        m.setattr(train, "default_train_step", _failing_step(per_epoch + 2, stop))
        if how == "error":
            with pytest.raises(RuntimeError, match="boom"):
                train.main([*CNN, "--out", str(out)])
            assert not (out / "metrics.json").exists()
        else:
            assert train.main([*CNN, "--out", str(out)]) == 130
            assert json.loads((out / "metrics.json").read_text())["interrupted"] is True
    err = capsys.readouterr().err
    assert f"`python -m tinycolor.train --resume {out}`" in err
    assert tinycolor.load(out / STATE)["__meta__"]["epochs_done"] == 1
    assert train.main(["--resume", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    _assert_same_run(tmp_path / "straight", out, resumed_after=[1])
    assert json.loads((out / "metrics.json").read_text())["kept_epoch"] == 1


def test_an_ann_window_run_killed_midway_resumes_to_the_same_end(crop, tmp_path, capsys):
    """ann_window (Adam, cosine) SIGKILLed in its third of four epochs, in a process of its own
    (nothing Python can catch: the files are as the kill left them): --resume ends with the
    weights and history of the run that was never stopped."""
    argv = _ann(crop)
    assert train.main([*argv, "--out", str(tmp_path / "straight")]) == 0
    at = 2 * _steps_per_epoch(argv) + 2
    child = (
        "import os, signal, sys\n"
        "from tinycolor import train\n"
        "real, calls = train.default_train_step, [0]\n"
        "def step(*args):\n"
        "    calls[0] += 1\n"
        f"    if calls[0] == {at}:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    return real(*args)\n"
        "train.default_train_step = step\n"
        "sys.exit(train.main(sys.argv[1:]))\n"
    )
    out = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-c", child, *argv, "--out", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    assert tinycolor.load(out / STATE)["__meta__"]["epochs_done"] == 2
    assert not (out / "metrics.json").exists()
    assert train.main(["--resume", str(out), "--quiet"]) == 0
    _assert_same_run(tmp_path / "straight", out, resumed_after=[2])


def _knocked_out(piece: str):
    """``restore_training_state`` that leaves one piece of the state as a fresh run has it."""
    real = train.restore_training_state

    def restore(state, model, optimizers, schedulers, ema, rng, device):
        fresh_weights, fresh_average = model.state_dict(), ema.state_dict()
        fresh_rng, fresh_cpu = rng.bit_generator.state, tinycolor.get_rng_state("cpu")
        first, best, history = real(state, model, optimizers, schedulers, ema, rng, device)
        if piece == "weights":
            model.load_state_dict(fresh_weights)
        elif piece == "optimizer":  # Adam's moments and step count
            for opt in optimizers.values():
                opt.state = [{} for _ in opt.params]
        elif piece == "schedule":
            for sched in schedulers:
                sched.last_epoch = 0
        elif piece == "average":
            ema.load_state_dict(fresh_average, updates=0)
        elif piece == "best":
            best = None
        elif piece == "crops":  # fit's generator: the order, the random crops and flips
            rng.bit_generator.state = fresh_rng
        elif piece == "dropout":
            tinycolor.set_rng_state(fresh_cpu)
        elif piece == "history":
            history = {"train": [], "test": []}
        return first, best, history

    return restore


def test_each_piece_of_the_training_state_is_needed(
    tmp_path, monkeypatch, upside_down_held_out_loss
):
    """The resumed run above ends as the uninterrupted one only with every piece put back:
    leaving out any one (the weights, Adam's moments, the schedule, the moving average, the
    best epoch, the crops' generator, dropout's, the history) makes the comparison fail."""
    assert train.main([*CNN, "--out", str(tmp_path / "straight")]) == 0
    stopped = tmp_path / "stopped"
    step = _failing_step(_steps_per_epoch(CNN) + 2, RuntimeError("boom"))
    with monkeypatch.context() as m:
        m.setattr(train, "default_train_step", step)
        with pytest.raises(RuntimeError):
            train.main([*CNN, "--out", str(stopped)])
    shutil.copytree(stopped, tmp_path / "whole")
    assert train.main(["--resume", str(tmp_path / "whole"), "--quiet"]) == 0
    _assert_same_run(tmp_path / "straight", tmp_path / "whole", resumed_after=[1])
    pieces = ["weights", "optimizer", "schedule", "average", "best", "crops", "dropout"]
    for piece in [*pieces, "history"]:
        out = tmp_path / piece
        shutil.copytree(stopped, out)
        with monkeypatch.context() as m:
            m.setattr(train, "restore_training_state", _knocked_out(piece))
            assert train.main(["--resume", str(out), "--quiet"]) == 0
        with pytest.raises(AssertionError):
            _assert_same_run(tmp_path / "straight", out, resumed_after=[1])
