"""`python -m tinycolor.train --resume RUN_DIR`: a run that stopped (an error, Ctrl-C, SIGKILL)
goes on from its last finished epoch and ends as the same run would have without stopping:
the same weights, bit for bit, and the same history. Each piece of the training state is
needed for that (the knock-out test), a sub-model trained on the way is not trained again,
and a folder that cannot be resumed is named in one line."""

from __future__ import annotations

import json
import os
import re
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
from tinycolor.models import classifier

ROOT = Path(__file__).resolve().parents[1]
STATE = train.TRAINING_STATE

# cnn_regression on tiny settings with every piece of state a run carries: Adam's moments, a
# cosine schedule, a moving average, the best epoch, dropout, random crops (zoom) and flips,
# and a held-out loss on a seeded share of the held-out tiles (1 of 2)
CNN = ["cnn_regression", "--size", "16", "--image-size", "24", "--crops", "2"]
CNN += ["--conv1", "4", "--conv2", "4", "--fc1", "8", "--fc2", "8", "--dropout", "0.3"]
CNN += ["--optimizer", "adam", "--schedule", "cosine", "--ema", "0.9", "--keep", "best"]
CNN += ["--val-tiles", "1", "--batch-size", "2", "--epochs", "3", "--quiet"]


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


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stop_while_an_epoch_is_saved_still_leaves_its_training_state(
    tmp_path, capsys, monkeypatch, sig
):
    """Ctrl-C or SIGTERM that came while epoch 1's checkpoint and training state were being
    written counted the epoch as done with no state saved: the run said `--resume` would
    train the rest, and --resume refused the folder. The saves now finish first, and the run
    resumes to the end of the run never stopped."""
    assert train.main([*CNN, "--out", str(tmp_path / "straight")]) == 0
    real, calls = train.training_state, []

    def stopped_while_saving(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            os.kill(os.getpid(), sig)  # handled at once, in the middle of the epoch's saves
        return real(*args, **kwargs)

    out = tmp_path / "stopped"
    with monkeypatch.context() as m:
        m.setattr(train, "training_state", stopped_while_saving)
        assert train.main([*CNN, "--out", str(out)]) == 130
    assert "interrupted after 1 of 3 epochs" in capsys.readouterr().err
    assert tinycolor.load(out / STATE)["__meta__"]["epochs_done"] == 1
    assert train.main(["--resume", str(out), "--quiet"]) == 0
    _assert_same_run(tmp_path / "straight", out, resumed_after=[1])


def test_a_stop_while_the_last_epoch_is_saved_ends_the_run_complete(
    crop, tmp_path, capsys, monkeypatch
):
    """Ctrl-C while the last epoch's training state was written marked the run interrupted,
    said `--resume` would train the rest (there was nothing left) and exited 130. All its
    epochs are done: it is scored and saved as the run never stopped, and says so."""
    argv = ["ann_window", "--image", crop, "--epochs", "2", "--quiet"]
    assert train.main([*argv, "--out", str(tmp_path / "straight")]) == 0
    real = train.training_state

    def stopped_at_the_end(name, config, epoch, *args, **kwargs):
        if epoch == int(config["epochs"]):
            os.kill(os.getpid(), signal.SIGINT)  # deferred until the saves are done
        return real(name, config, epoch, *args, **kwargs)

    monkeypatch.setattr(train, "training_state", stopped_at_the_end)
    out = tmp_path / "stopped"
    capsys.readouterr()
    assert train.main([*argv, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "interrupted after the last epoch: the training is complete" in err
    assert "trains the rest" not in err
    _assert_same_run(tmp_path / "straight", out)


def test_a_stop_while_the_finished_run_is_scored_says_resume_finishes_it(
    crop, tmp_path, capsys, monkeypatch
):
    """Ctrl-C while the trained model was scored ended with "interrupted" alone; the
    checkpoint and training state kept, and that `--resume` finishes the run, are now said,
    as for an error there."""
    from tinycolor.models import ann_window

    argv = ["ann_window", "--image", crop, "--epochs", "2", "--quiet"]
    assert train.main([*argv, "--out", str(tmp_path / "straight")]) == 0
    out = tmp_path / "stopped"

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(ann_window, "evaluate", ctrl_c)
        capsys.readouterr()
        assert train.main([*argv, "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert "the run was stopped after training, with all 2 epochs done" in err
    assert f"`python -m tinycolor.train --resume {out}` goes on from it" in err
    assert train.main([f"--resume={out}", "--quiet"]) == 0  # --resume=DIR, first
    _assert_same_run(tmp_path / "straight", out, resumed_after=[2])


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
    capsys.readouterr()
    assert train.main(["--resume", str(out)]) == 0
    said = capsys.readouterr()
    assert f"resuming ann_window in {out} after epoch 2 of 4" in said.err
    # the training time of both sessions, and this one's time in all (it was the other way)
    assert re.search(
        r"trained in [\d.]+ s over its sessions \(this one [\d.]+ s in all\)", said.out
    )
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
    from tinycolor import viz
    from tinycolor.models import cnn_regression

    # no pictures (half of these runs' time): the weights and metrics are what is compared
    monkeypatch.setattr(cnn_regression, "save_figures", lambda *args, **kwargs: [])
    monkeypatch.setattr(viz, "loss_curves", lambda history, path, **kwargs: path)
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


# --------------------------------------------------------------------------- what cannot be


@pytest.fixture(scope="module")
def stopped(crop, tmp_path_factory):
    """An ann_window run of 3 epochs that failed in its second: its folder holds the
    checkpoint and the training state after epoch 1 (copy it before changing it)."""
    out = tmp_path_factory.mktemp("stopped") / "run"
    argv = ["ann_window", "--image", crop, "--epochs", "3", "--out", str(out), "--quiet"]
    real, calls = train.default_train_step, {"n": 0}

    def step(*args):
        calls["n"] += 1
        if calls["n"] == _steps_per_epoch(argv) + 1:
            raise RuntimeError("boom")
        return real(*args)

    train.default_train_step = step
    try:
        with pytest.raises(RuntimeError):
            train.main(argv)
    finally:
        train.default_train_step = real
    return out


def _one_line_error(capsys, *needles):
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("python -m tinycolor.train: error: "), err
    for n in needles:
        assert n in err, err


def _edited(stopped, d, meta=None, config=None, drop=None) -> Path:
    """A copy of the run folder ``stopped`` whose training state has ``meta`` and ``config``
    entries changed (``drop``: a config key taken out)."""
    out = d / "edited"
    shutil.copytree(stopped, out)
    state = tinycolor.load(out / STATE)
    m = state.pop("__meta__")
    m.update(meta or {})
    m["config"] = {**m["config"], **(config or {})}
    m["config"].pop(drop, None)
    tinycolor.save(state, out / STATE, meta=m)
    return out


@pytest.mark.parametrize(
    "case, needles",
    [
        ("missing", ["--resume {d}/nowhere: no such folder"]),
        ("file", ["--resume {d}/run/model.npz: is a file; give the run folder that holds"]),
        ("empty", ["no training_state.npz: the run stopped before it finished an epoch"]),
        ("finished", ["the run finished (1 of 1 epochs, metrics.json written): nothing to"]),
        ("ctrl-c-at-once", ["the run was interrupted before it finished an epoch: start it"]),
        ("corrupt", ["training_state.npz", "truncated or corrupt"]),
        ("not-a-state", ["training_state.npz is not a training state that tinycolor wrote"]),
        ("newer", ["format version 2 (written by tinycolor 9.0)", "reads version 1 only"]),
        ("gone-model", ["the run trains model 'ann_retired', which this tinycolor does not"]),
        ("unknown-key", ["configuration does not fit ann_window's options", "unknown colours"]),
        ("missing-key", ["configuration does not fit ann_window's options", "without levels"]),
        ("weights-misfit", ["the training state does not fit ann_window", "size mismatch"]),
    ],
)
def test_what_cannot_be_resumed_is_said_in_one_line(stopped, crop, tmp_path, capsys, case, needles):
    """A folder without a training state (none, a file, an empty folder, a finished run), a
    damaged or foreign state, one from a newer tinycolor, of a model that no longer exists,
    or whose configuration or weights no longer fit the model: exit 2 and one line."""
    run = tmp_path / "run"
    target = {"missing": tmp_path / "nowhere", "file": run / "model.npz", "empty": run}
    run.mkdir()
    if case == "file":
        shutil.copy(stopped / "model.npz", run / "model.npz")
    elif case in ("finished", "ctrl-c-at-once"):
        argv = ["ann_window", "--image", crop, "--epochs", "1", "--out", str(run)]
        with pytest.MonkeyPatch.context() as m:
            if case == "ctrl-c-at-once":  # scored and written, with no epoch and no state
                m.setattr(train, "default_train_step", _failing_step(1, KeyboardInterrupt()))
            assert train.main(argv) == (0 if case == "finished" else 130)
        capsys.readouterr()
    elif case == "corrupt":
        shutil.copytree(stopped, run, dirs_exist_ok=True)
        data = (run / STATE).read_bytes()
        (run / STATE).write_bytes(data[: len(data) // 2])
    else:
        edits = {
            "not-a-state": {"meta": {"format": "tinycolor-model"}},
            "newer": {"meta": {"format_version": 2, "tinycolor_version": "9.0"}},
            "gone-model": {"meta": {"model": "ann_retired"}},
            "unknown-key": {"config": {"colours": 3}},
            "missing-key": {"drop": "levels"},
            "weights-misfit": {"config": {"hidden": 5}},
        }
        run = _edited(stopped, tmp_path, **edits.get(case, {}))
    assert train.main(["--resume", str(target.get(case, run)), "--quiet"]) == 2
    _one_line_error(capsys, *(n.format(d=tmp_path) for n in needles))


def test_options_beside_resume_are_refused(stopped, capsys):
    """The model, its options and the device are the run's own: --resume takes the run
    folder and --quiet only, and comes first."""
    assert train.main(["--resume", str(stopped), "--epochs", "9"]) == 2
    err = capsys.readouterr().err
    assert "--resume takes the run folder and --quiet only, got --epochs 9" in err
    assert train.main(["ann_window", "--resume", str(stopped)]) == 2
    _one_line_error(capsys, "--resume comes first and takes only the run folder")
    with pytest.raises(SystemExit):
        train.build_resume_parser().parse_args(["--help"])
    assert "--resume RUN_DIR" in capsys.readouterr().out
    assert train.main(["--help"]) == 0
    assert "--resume RUN_DIR" in capsys.readouterr().out


def test_a_run_whose_data_changed_is_not_resumed(tmp_path, capsys, monkeypatch):
    """The training images' statistics (cnn_regression's mean ab and ab prior) come out
    otherwise than when the run started: their files changed, and the run cannot go on as it
    began."""
    out = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(train, "default_train_step", _failing_step(_steps_per_epoch(CNN) + 1, OSError()))
        assert train.main([*CNN, "--out", str(out)]) == 2
    state = tinycolor.load(out / STATE)
    meta = state.pop("__meta__")
    meta["config"]["mean_ab"] = [1.0, 2.0]  # what other images would have given
    tinycolor.save(state, out / STATE, meta=meta)
    capsys.readouterr()
    assert train.main(["--resume", str(out)]) == 2
    _one_line_error(capsys, "the run's data gives another configuration", "mean_ab differ")


@pytest.mark.parametrize("key, as_it_began", [("val_tiles", 0), ("split_seed", None)])
def test_a_run_started_before_an_option_resumes_as_it_began(
    key, as_it_began, tmp_path, capsys, monkeypatch
):
    """A training state written before --val-tiles (--split-seed) has no val_tiles
    (split_seed) in its configuration: it was refused as one that does not fit
    cnn_regression's options (the run lost); it goes on as it began, measuring the held-out
    loss on every tile (holding out what its --seed chose)."""
    out = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(train, "default_train_step", _failing_step(_steps_per_epoch(CNN) + 1, OSError()))
        assert train.main([*CNN, "--out", str(out)]) == 2
    state = tinycolor.load(out / STATE)
    meta = state.pop("__meta__")
    del meta["config"][key]
    tinycolor.save(state, out / STATE, meta=meta)
    capsys.readouterr()
    assert train.main(["--resume", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"][key] == as_it_began
    if key == "val_tiles":
        assert metrics["held_out_loss_tiles"] == metrics["held_out_tiles"] == 2


def test_relative_paths_are_said_to_be_read_from_where_the_run_started(
    crop, tmp_path, capsys, monkeypatch
):
    """A run started with a relative --image, resumed from another folder: the error says
    where the run started, which its relative paths are read from; resumed from there, it
    goes on."""
    start = tmp_path / "start"
    start.mkdir()
    shutil.copy(crop, start / "crop.png")
    monkeypatch.chdir(start)
    argv = ["ann_window", "--image", "crop.png", "--epochs", "2", "--out", str(tmp_path / "run")]
    with monkeypatch.context() as m:
        m.setattr(train, "default_train_step", _failing_step(_steps_per_epoch(argv) + 1, OSError()))
        assert train.main([*argv, "--quiet"]) == 2
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert train.main(["--resume", "run"]) == 2
    _one_line_error(capsys, "crop.png", f"(the run was started in {start}, which the relative")
    monkeypatch.chdir(start)
    assert train.main(["--resume", str(tmp_path / "run"), "--quiet"]) == 0


# --------------------------------------------------------------------------- a sub-model first

KOALA = ["cnn_koala", "--size", "32", "--image-size", "32", "--width", "0.03125", "--crops", "2"]
KOALA += ["--classifier-epochs", "2", "--n-synthetic", "12", "--batch-size", "4", "--epochs", "2"]
KOALA += ["--quiet"]


def _counting_step(counts: dict, fail=None):
    """A training step that counts its calls by model name, and raises RuntimeError at the
    call ``fail`` = (name, n) if given."""
    real = train.default_train_step

    def step(module, *args):
        counts[module.NAME] = counts.get(module.NAME, 0) + 1
        if fail == (module.NAME, counts[module.NAME]):
            raise RuntimeError("boom")
        return real(module, *args)

    return step


def test_cnn_koala_resumes_on_the_classifier_it_trained_first(tmp_path, monkeypatch, capsys):
    """cnn_koala trains a classifier first, into its run folder; stopped in its own second
    epoch and resumed, it builds on that classifier, not training one again, and ends as the
    run never stopped."""
    counts = {}
    with monkeypatch.context() as m:
        m.setattr(train, "default_train_step", _counting_step(counts))
        assert train.main([*KOALA, "--out", str(tmp_path / "straight")]) == 0
    out = tmp_path / "stopped"
    fail = ("cnn_koala", counts["cnn_koala"] // 2 + 1)  # the first step of its second epoch
    with monkeypatch.context() as m:
        m.setattr(train, "default_train_step", _counting_step({}, fail))
        with pytest.raises(RuntimeError, match="boom"):
            train.main([*KOALA, "--out", str(out)])
    kept = out / "classifier" / "model.npz"
    assert tinycolor.load(out / STATE)["__meta__"]["config"]["classifier"] == str(kept)
    before = kept.stat().st_mtime_ns

    def no_retraining(*args):
        raise AssertionError("the classifier was trained again")

    monkeypatch.setattr(classifier, "_train_classifier", no_retraining)
    capsys.readouterr()
    assert train.main(["--resume", str(out), "--quiet"]) == 0
    assert "training a classifier first" not in capsys.readouterr().err
    assert kept.stat().st_mtime_ns == before
    a = tinycolor.load(tmp_path / "straight" / "model.npz")
    b = tinycolor.load(out / "model.npz")
    for k in a.keys() - {"__meta__"}:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    history = [
        json.loads((d / "metrics.json").read_text())["history"]
        for d in (tmp_path / "straight", out)
    ]
    assert history[0] == history[1]


def test_a_run_stopped_in_the_classifier_it_trains_first_says_how_to_go_on(
    tmp_path, monkeypatch, capsys
):
    """cnn_koala stopped while its classifier trains: its folder has no training state of its
    own; --resume says so, and that the classifier's run can be resumed, and then given to
    cnn_koala with --classifier. Followed, it does."""
    counts = {}
    with monkeypatch.context() as m:  # the classifier's steps in an epoch
        m.setattr(train, "default_train_step", _counting_step(counts))
        argv = [*KOALA, "--classifier-epochs", "1", "--epochs", "0", "--out", str(tmp_path / "c")]
        assert train.main(argv) == 0
    out = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(
            train,
            "default_train_step",
            _counting_step({}, ("classifier", counts["classifier"] + 1)),
        )
        with pytest.raises(RuntimeError, match="boom"):
            train.main([*KOALA, "--out", str(out)])
    sub = out / "classifier"
    assert (sub / STATE).exists() and not (out / STATE).exists()
    capsys.readouterr()
    assert train.main(["--resume", str(out)]) == 2
    _one_line_error(
        capsys,
        f"finish that with `python -m tinycolor.train --resume {sub}`, then train the model "
        f"again with --classifier {sub / 'model.npz'}",
    )
    assert train.main(["--resume", str(sub), "--quiet"]) == 0
    assert not (sub / STATE).exists()
    assert train.main(["--resume", str(out)]) == 2
    _one_line_error(capsys, f"train the model again with --classifier {sub / 'model.npz'}")


def test_fit_resumes_a_models_own_optimizers_and_numbers(tmp_path):
    """A model with make_optimizers and train_step (a GAN's two networks: SGD with momentum
    and Adam) and a number of its own in the history: fit resumed from the state written
    after epoch 2 (through its file) ends with the weights and history of fit run straight
    through 4 epochs."""
    from types import SimpleNamespace

    from tinycolor import nn, optim

    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 1)).astype(np.float32)
    data = SimpleNamespace(train=(x, 3 * x + 1), test=(x, 3 * x + 1))

    def loss(model, batch, config):
        return ((model(batch[0]) - batch[1]) ** 2).mean()

    def make_optimizers(model, config):
        g = optim.SGD(model[0].parameters(), lr=0.05, momentum=0.9)
        return {"g": g, "d": optim.Adam(model[1].parameters(), lr=0.05)}

    def train_step(model, optimizers, batch, config):
        for opt in optimizers.values():
            opt.zero_grad()
        value = loss(model, batch, config)
        value.backward()
        for opt in optimizers.values():
            opt.step()
        return {"loss": float(value.item()), "d_loss": float(value.item()) / 2}

    module = SimpleNamespace(
        NAME="gan", loss=loss, make_optimizers=make_optimizers, train_step=train_step
    )
    config = {"optimizer": "sgd", "lr": 0.1, "seed": 5, "epochs": 4, "batch_size": 8}

    def two_nets():
        tinycolor.manual_seed(0)
        return nn.Sequential(nn.Linear(1, 4), nn.Linear(4, 1))

    def save_after_2(epoch, state):
        if epoch == 2:
            meta = state.pop("__meta__")
            tinycolor.save(state, tmp_path / STATE, meta=meta)

    straight = two_nets()
    history = train.fit(module, straight, data, config, quiet=True, on_state=save_after_2)
    assert set(history) == {"train", "test", "d_loss"}
    resumed = two_nets()
    state = tinycolor.load(tmp_path / STATE)
    assert history == train.fit(module, resumed, data, config, quiet=True, resume=state)
    for k, v in straight.state_dict().items():
        np.testing.assert_array_equal(v, resumed.state_dict()[k], err_msg=k)


def test_a_new_run_in_the_folder_of_a_stopped_one_takes_its_place(
    stopped, crop, tmp_path, monkeypatch, capsys
):
    """A new run started with --out in a stopped run's folder removes that run's training
    state at once: failing before its own first epoch, it leaves nothing that --resume would
    take for its own."""
    out = tmp_path / "run"
    shutil.copytree(stopped, out)
    monkeypatch.setattr(train, "default_train_step", _failing_step(1, RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        train.main(["ann_window", "--image", crop, "--hidden", "5", "--out", str(out), "--quiet"])
    assert not (out / STATE).exists()
    said = capsys.readouterr().err
    assert f"held a stopped run's {STATE}; this new run replaces it" in said
    assert f"--resume {out}` would have gone on with that run" in said
    assert train.main(["--resume", str(out)]) == 2
    _one_line_error(capsys, f"holds model.npz but no {STATE}")


def test_a_gpu_generator_state_that_cannot_be_had_warns_instead_of_failing():
    """A GPU run whose CuPy does not give its generator's state (here: no CuPy at all) saves
    the rest of its state all the same, and resuming it warns that dropout will not draw the
    masks it would have, instead of failing the run."""
    if tinycolor.cuda_available():
        pytest.skip("needs a machine where the cuda generator cannot be read")
    from tinycolor import nn, optim

    model = nn.Linear(2, 2)
    opts = {"main": optim.SGD(model.parameters(), lr=0.1)}
    history = {"train": [1.0], "test": [0.5]}
    rng = np.random.default_rng(0)
    config = {"epochs": 3}
    state = train.training_state("m", config, 1, model, opts, [], None, None, rng, history, "cuda")
    assert "rng.cuda" not in state and state["__meta__"]["epochs_done"] == 1
    with pytest.warns(UserWarning, match="the GPU's random generator cannot be put back"):
        first, best, got = train.restore_training_state(state, model, opts, [], None, rng, "cuda")
    assert (first, best, got) == (2, None, history)


def test_a_gpu_run_goes_on_on_the_gpu(stopped, tmp_path, capsys):
    """The device is the run's own: a run that trained on cuda, resumed where there is no GPU,
    is refused in one line that says so."""
    if tinycolor.cuda_available():
        pytest.skip("a GPU is present")
    run = _edited(stopped, tmp_path, meta={"device": "cuda"})
    try:
        assert train.main(["--resume", str(run)]) == 2
    finally:
        tinycolor.set_device("cpu")
    _one_line_error(capsys, "the run trained on cuda, and goes on there: device 'cuda' needs")


def test_fit_keeps_the_device_by_name_for_resume(device):
    """fit's device is by default the model's, which on the GPU is 'cuda:0' (a tc.device, as
    torch's x.device): the state keeps the checked name, 'cuda', the plain string that resume
    passes back to fit and fit compares with 'cuda' (to save and restore the GPU's generator)."""
    from types import SimpleNamespace

    from tinycolor import nn

    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(8, 1)
    data = SimpleNamespace(train=(x, 2 * x), test=(x, 2 * x))
    module = SimpleNamespace(
        NAME="line", loss=lambda model, batch, config: ((model(batch[0]) - batch[1]) ** 2).mean()
    )
    config = {"optimizer": "sgd", "lr": 0.1, "seed": 5, "epochs": 1, "batch_size": 4}
    metas = []
    model = nn.Linear(1, 1).to(device)
    train.fit(module, model, data, config, quiet=True, on_state=lambda e, s: metas.append(s))
    assert [type(m["__meta__"]["device"]) for m in metas] == [str]
    assert metas[0]["__meta__"]["device"] == device


def test_the_batches_are_drawn_from_a_stream_of_their_own(monkeypatch):
    """fit shuffled with default_rng(seed), the generator manual_seed(seed) gives the initial
    weights, so the batches' draws repeated the weights' (the first epoch's order was made of
    the same bits as the first weights); they come from a stream of the seed's own."""
    from types import SimpleNamespace

    from tinycolor import nn

    n, seed = 64, 3
    x = np.arange(n, dtype=np.float32).reshape(n, 1)
    data = SimpleNamespace(train=(x, x), test=(x[:8], x[:8]))
    orders = []
    real = train.iterate_batches

    def recording(source, batch_size, rng=None, shuffle=False):
        if shuffle:  # the generator's state as the epoch begins
            orders.append(np.random.default_rng())
            orders[-1].bit_generator.state = rng.bit_generator.state
        yield from real(source, batch_size, rng, shuffle)

    monkeypatch.setattr(train, "iterate_batches", recording)
    module = SimpleNamespace(NAME="line", loss=lambda m, b, c: ((m(b[0]) - b[1]) ** 2).mean())
    config = {"optimizer": "sgd", "lr": 1e-4, "seed": seed, "epochs": 1, "batch_size": n}
    tinycolor.manual_seed(seed)
    train.fit(module, nn.Linear(1, 1), data, config, quiet=True)
    first = orders[0].permutation(n)
    assert not np.array_equal(first, np.random.default_rng(seed).permutation(n))
    np.testing.assert_array_equal(
        first, np.random.default_rng([seed, train._BATCHES_STREAM]).permutation(n)
    )
