"""`python -m tinycolor.train MODEL --ensemble K`: K runs that differ only in their seed, on one
split of the data, scored as one colorizer (the mean of their ab); stopped midway, it goes on
with --resume; colorize and evaluate take its folder as the checkpoint."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from test_resume import _failing_step

import tinycolor
from tinycolor import colorize, ensembles, evaluate, train
from tinycolor.runs import load_models

# cnn_regression on tiny settings (as test_resume's), two epochs
CNN = ["cnn_regression", "--size", "16", "--image-size", "24", "--crops", "2"]
CNN += ["--conv1", "4", "--conv2", "4", "--fc1", "8", "--fc2", "8", "--dropout", "0.3"]
CNN += ["--optimizer", "adam", "--schedule", "cosine", "--ema", "0.9", "--keep", "best"]
CNN += ["--batch-size", "2", "--epochs", "2", "--quiet"]


def _weights(path):
    state = tinycolor.load(path)
    state.pop("__meta__")
    return state


def _assert_same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """An ensemble of 2 (seeds 3 and 4) trained without stopping."""
    out = tmp_path_factory.mktemp("ens") / "straight"
    assert train.main([*CNN, "--seed", "3", "--ensemble", "2", "--out", str(out)]) == 0
    return out


def test_an_ensemble_is_its_members_runs_on_one_split_scored_as_their_mean(straight, tmp_path):
    """The folder holds ensemble.json and a run folder per member; member seed4 is the run
    `--seed 4 --split-seed 3` (bit for bit); the members hold out the same photos, so the
    ensemble's baselines are theirs; its predictions are the mean of the members' ab."""
    record = json.loads((straight / "ensemble.json").read_text())
    assert (record["model"], record["seeds"], record["split_seed"]) == ("cnn_regression", [3, 4], 3)
    assert record["members"] == ["seed3", "seed4"]
    members = [json.loads((straight / m / "metrics.json").read_text()) for m in record["members"]]
    assert [m["seed"] for m in members] == [3, 4]
    assert members[0]["held_out"] == members[1]["held_out"]
    solo = tmp_path / "solo"
    assert train.main([*CNN, "--seed", "4", "--split-seed", "3", "--out", str(solo)]) == 0
    _assert_same_weights(solo / "model.npz", straight / "seed4" / "model.npz")

    metrics = json.loads((straight / "metrics.json").read_text())
    assert metrics["ensemble"] == 2 and metrics["seeds"] == [3, 4]
    assert metrics["held_out"] == members[0]["held_out"]
    assert metrics["baselines"] == members[0]["baselines"]
    assert [m["psnr"] for m in metrics["members"]] == [m["psnr"] for m in members]
    assert metrics["psnr"] not in [m["psnr"] for m in members]
    assert (straight / "comparison.png").stat().st_size > 0
    assert (straight / "members.png").stat().st_size > 0

    loaded = load_models([straight / m / "model.npz" for m in record["members"]])
    module = loaded[0][0]
    ens = ensembles.Ensemble(module, [(net, cfg) for _, net, cfg, _ in loaded])
    L = np.random.default_rng(0).uniform(-1, 1, (3, 1, 16, 16)).astype(np.float32)
    with tinycolor.no_grad():
        each = [module.predict_ab(net, L, cfg) for _, net, cfg, _ in loaded]
        got = ensembles.predict_ab(ens, L, loaded[0][2])
    np.testing.assert_allclose(got, (each[0] + each[1]) / 2, rtol=1e-6, atol=1e-5)
    assert not np.allclose(each[0], each[1])


def test_colorize_and_evaluate_take_the_ensemble_folder(straight, tmp_path, capsys):
    """--checkpoint FOLDER is --checkpoint FOLDER/seed3/model.npz FOLDER/seed4/model.npz."""
    members = [str(straight / m / "model.npz") for m in ("seed3", "seed4")]
    a = evaluate.evaluate_checkpoint(str(straight), size=32, out=False, quiet=True)
    b = evaluate.evaluate_checkpoint(members, size=32, out=False, quiet=True)
    assert a["ensemble"] == 2 and a["checkpoint"] == members
    assert a["model"] == b["model"]
    assert evaluate.default_out(str(straight), None) == straight.resolve() / "eval-skimage"
    png = tmp_path / "c.png"
    assert colorize.main(["--checkpoint", str(straight), "skimage:coffee", "-o", str(png)]) == 0
    assert "cnn_regression x 2" in capsys.readouterr().out
    other = tmp_path / "d.png"
    assert colorize.main(["--checkpoint", *members, "skimage:coffee", "-o", str(other)]) == 0
    np.testing.assert_array_equal(
        tinycolor.imageio.read_image(png), tinycolor.imageio.read_image(other)
    )


def test_an_ensemble_stopped_in_its_second_member_resumes_to_the_same_end(
    straight, tmp_path, capsys, monkeypatch
):
    """Ctrl-C in member 2's second epoch: member 1 is finished, member 2 keeps its training
    state, no ensemble scores are written; --resume FOLDER finishes member 2 (not member 1
    again) and scores the ensemble: the same weights and scores as the run never stopped."""
    module, config, _ = train.parse_config(CNN[0], CNN[1:])
    per_epoch = train.num_batches(module.load_data(config).train, int(config["batch_size"]))
    out = tmp_path / "stopped"
    argv = [*CNN, "--seed", "3", "--ensemble", "2", "--out", str(out)]
    with monkeypatch.context() as m:
        m.setattr(
            train, "default_train_step", _failing_step(3 * per_epoch + 1, KeyboardInterrupt())
        )
        assert train.main(argv) == 130
    err = capsys.readouterr().err
    assert f"--resume {out}" in err and "member 2 of 2" in err
    assert not (out / "metrics.json").exists()
    assert (out / "seed4" / train.TRAINING_STATE).exists()
    first = (out / "seed3" / "model.npz").stat().st_mtime_ns
    capsys.readouterr()
    assert train.main(["--resume", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == str(out)  # --quiet: the folder, no member's
    assert (out / "seed3" / "model.npz").stat().st_mtime_ns == first
    for member in ("seed3", "seed4"):
        _assert_same_weights(straight / member / "model.npz", out / member / "model.npz")
    a = json.loads((straight / "metrics.json").read_text())
    b = json.loads((out / "metrics.json").read_text())
    for key in ("psnr", "ssim", "auc", "colorfulness", "baselines", "held_out"):
        assert a[key] == b[key], key


def test_the_same_command_again_keeps_the_finished_members_another_is_refused(
    straight, tmp_path, capsys
):
    """Run again into its folder, an ensemble's command trains no finished member again;
    another command (other options, seeds or model) is refused in one line."""
    out = tmp_path / "again"
    argv = [*CNN, "--seed", "3", "--ensemble", "2", "--out", str(out)]
    assert train.main(argv) == 0
    stamps = {m: (out / m / "model.npz").stat().st_mtime_ns for m in ("seed3", "seed4")}
    capsys.readouterr()
    assert train.main([a for a in argv if a != "--quiet"]) == 0
    err = capsys.readouterr().err
    assert err.count("finished before, kept") == 2
    assert stamps == {m: (out / m / "model.npz").stat().st_mtime_ns for m in stamps}
    changed = [*CNN, "--seed", "3", "--ensemble", "3", "--out", str(out)]
    assert train.main(changed) == 2
    err = capsys.readouterr().err
    assert "holds an ensemble of other runs" in err and f"--resume {out}" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        ([*CNN, "--ensemble", "1"], "needs at least 2 members"),
        (["ann_window", "--ensemble", "2"], "unrecognized arguments: --ensemble"),
    ],
)
def test_ensemble_usage_errors(argv, message, tmp_path, capsys):
    assert train.main([*argv, "--out", str(tmp_path / "x")]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("how", ["killed", "stopped"])
def test_an_unfinished_ensemble_is_not_a_checkpoint(straight, tmp_path, capsys, how):
    """A member killed (no metrics.json) or stopped by Ctrl-C (a metrics.json marked
    interrupted: it was taken for finished, and its half-trained weights used): colorize
    names the folder and says how to finish."""
    import shutil

    out = tmp_path / "half"
    shutil.copytree(straight, out)
    metrics = out / "seed4" / "metrics.json"
    if how == "killed":
        os.remove(metrics)
    else:
        metrics.write_text(json.dumps({**json.loads(metrics.read_text()), "interrupted": True}))
    assert (
        colorize.main(["--checkpoint", str(out), "skimage:coffee", "-o", str(tmp_path / "c.png")])
        == 2
    )
    err = capsys.readouterr().err
    assert "seed4" in err and f"--resume {out}" in err
    assert len(err.strip().splitlines()) == 1
    assert Path(out).is_dir()


def test_an_ensemble_whose_data_changed_is_not_scored_on_it(tmp_path, capsys):
    """The members trained; then their photo folder gained photos (the split and the training
    statistics change): --resume refuses to score the ensemble on other held-out photos."""
    from tinycolor.imageio import read_image, write_png

    photos = tmp_path / "photos"
    photos.mkdir()
    coffee = read_image("skimage:coffee", dtype="uint8")
    for k in range(4):
        write_png(photos / f"p{k}.png", coffee[40 * k : 40 * k + 60, 50 * k : 50 * k + 80])
    out = tmp_path / "ens"
    argv = [*CNN, "--data", str(photos), "--ensemble", "2", "--out", str(out)]
    assert train.main(argv) == 0
    capsys.readouterr()
    write_png(photos / "p9.png", read_image("skimage:astronaut", dtype="uint8")[:80, :80])
    assert train.main(["--resume", str(out)]) == 2
    err = capsys.readouterr().err
    assert "is not what the members trained on" in err and len(err.strip().splitlines()) == 3


def test_an_ensemble_trains_scores_and_colours_on_the_device(device, tmp_path, capsys):
    """--device cuda: the members train there, the ensemble is scored and colours from there
    (its mean of ab comes back to the host), and --resume of the folder stays there."""
    out = tmp_path / "ens"
    argv = [*CNN, "--epochs", "1", "--ensemble", "2", "--device", device, "--out", str(out)]
    assert train.main(argv) == 0, capsys.readouterr().err
    record = json.loads((out / "ensemble.json").read_text())
    assert record["device"] == device
    metrics = json.loads((out / "metrics.json").read_text())
    assert np.isfinite(metrics["psnr"]) and metrics["ensemble"] == 2
    png = tmp_path / "c.png"
    cmd = ["--checkpoint", str(out), "skimage:coffee", "-o", str(png), "--device", device]
    assert colorize.main(cmd) == 0, capsys.readouterr().err
    assert train.main(["--resume", str(out), "--quiet"]) == 0
    assert json.loads((out / "metrics.json").read_text())["psnr"] == metrics["psnr"]


def test_an_ensemble_folders_samples_folder_is_checked_before_the_work(
    straight, tmp_path, capsys, monkeypatch
):
    """A file where an ensemble folder's eval-<data>/ goes: found after the evaluation, named
    as an --out the user never gave, and the --json asked for was lost; it is now named
    before the work, as for a single checkpoint."""
    import shutil

    folder = tmp_path / "ens"
    shutil.copytree(straight, folder)
    (folder / "eval-skimage").write_text("x")

    def slow_part(*args, **kwargs):
        raise AssertionError("the evaluation ran before the samples folder was checked")

    monkeypatch.setattr(evaluate, "evaluate_checkpoint", slow_part)
    argv = ["--checkpoint", str(folder), "--size", "32", "--json", str(tmp_path / "e.json")]
    assert evaluate.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert (
        f"samples.png cannot be written beside the checkpoint, in {folder / 'eval-skimage'}" in err
    )
    assert "--out DIR" in err and "--out /" not in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "record",
    [
        {"format": "tinycolor-ensemble", "members": "seed0"},
        {"format": "tinycolor-ensemble", "members": []},
        [1, 2],
        {"members": ["seed0"]},
        {"format": "tinycolor-ensemble", "members": [3]},
    ],
)
def test_a_damaged_ensemble_record_is_said_to_be_one(record, tmp_path):
    """A hand-edited ensemble.json read "members s, e, e, d, 0 have not finished" (a string of
    members), "is a folder" (no members) or "list indices must be integers" (a list): each is
    now said to be no record tinycolor wrote."""
    from tinycolor import runs

    (tmp_path / "ensemble.json").write_text(json.dumps(record))
    with pytest.raises(runs.LoadError, match="is not an ensemble record that tinycolor wrote"):
        runs.checkpoint_paths(tmp_path)
