"""``python -m tinycolor.evaluate``: whole-image metrics of a checkpoint beside its baselines.

A tiny cnn_regression is trained once (1 epoch, 16x16) on a temporary folder of three small
colour images; the command is then checked against a direct recomputation of its numbers,
and its bad inputs against the one-line, exit-2 convention of the other commands.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinycolor import metrics as M
from tinycolor.color import lab_to_rgb, nearest_bin
from tinycolor.data import ImageFolder, transforms
from tinycolor.evaluate import main, prepare_lab
from tinycolor.imageio import write_png
from tinycolor.models import lab_common
from tinycolor.runs import load_model

SIZE = 24  # --size of the evaluation (short side)
SHAPES = [(24, 32), (28, 24), (24, 24)]


def _colour_image(h, w, seed):
    """A smooth colourful image: per-channel ramps at random angles plus a little noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    chans = []
    for _ in range(3):
        a, b, c = rng.uniform(-1, 1, 3)
        chans.append(0.5 + 0.4 * np.sin(3 * (a * x + b * y) + c))
    img = np.stack(chans, -1) + rng.normal(0, 0.03, (h, w, 3))
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def _benchmark(name):
    """The script benchmarks/<name>.py, imported as a module."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from tinycolor import train

    root = tmp_path_factory.mktemp("evaluate")
    data = root / "photos"
    for k, (h, w) in enumerate(SHAPES):
        write_png(data / f"img{k}.png", _colour_image(h, w, k))
    run = root / "run"
    argv = ["cnn_regression", "--epochs", "1", "--size", "16", "--image-size", "24"]
    argv += ["--crops", "2", "--conv1", "4", "--conv2", "4", "--fc1", "8", "--fc2", "8"]
    argv += ["--data", str(data), "--out", str(run), "--quiet"]
    assert train.main(argv) == 0
    return root, data, run / "model.npz"


@pytest.fixture(scope="module")
def result(trained):
    root, data, ckpt = trained
    out_json = root / "eval.json"
    rc = main(
        ["--checkpoint", str(ckpt), "--data", str(data), "--size", str(SIZE)]
        + ["--json", str(out_json), "--out", str(root / "eval"), "--quiet"]
    )
    assert rc == 0
    return json.loads(out_json.read_text())


def test_output_has_every_metric_for_model_and_baselines(trained, result):
    root, _, ckpt = trained
    assert result["images"] == len(SHAPES)
    for who in ("model", "gray", "mean_ab"):
        assert set(result[who]) == set(lab_common.METRIC_KEYS)
        for key, v in result[who].items():
            assert isinstance(v, float) and math.isfinite(v), (who, key, v)
    assert math.isfinite(result["truth"]["colorfulness"]) and result["truth"]["colorfulness"] > 5
    # the gray baseline has no colour at all (up to float rounding in Lab -> sRGB)
    assert abs(result["gray"]["colorfulness"]) < 0.05
    assert 0 <= result["model"]["acc10"] <= 1 and 0 <= result["model"]["auc"] <= 1
    assert result["prior_source"].startswith("the evaluated pixels' colour classes")
    _, _, config, _ = load_model(ckpt)
    assert result["mean_ab_value"] == config["mean_ab"]
    assert (root / "eval" / "samples.png").stat().st_size > 0


def _recompute(ckpt, data):
    """Each image's truth Lab and the model's ab, computed here without tinycolor.evaluate."""
    module, model, config, _ = load_model(ckpt)
    ds = ImageFolder(data, size=SIZE, cache=False)
    out = {}
    s = int(config["size"])
    for name, i in zip(ds.names, range(len(ds))):
        lab = np.asarray(ds.lab(i), np.float32)
        h, w = lab.shape[:2]
        L_small = transforms.resize(lab[..., 0], (s, s))
        x = lab_common.to_net_l(L_small)[None, None]
        ab = lab_common.predict_batches(module.predict_ab, model, x, config, "cpu")[0]
        ab = transforms.resize(ab.transpose(1, 2, 0), (h, w)).transpose(2, 0, 1)
        out[name] = (lab, ab, module, model, config)
    return out


def test_numbers_match_a_direct_recomputation(trained, result):
    _, data, ckpt = trained
    images = _recompute(ckpt, data)
    name = "img0.png"
    lab, ab, module, model, config = images[name]
    truth_ab = lab.transpose(2, 0, 1)[None, 1:]
    rgb_pred = np.asarray(lab_to_rgb(np.concatenate([lab[..., :1], ab.transpose(1, 2, 0)], -1)))
    rgb_true = np.asarray(lab_to_rgb(lab))
    row = next(r for r in result["per_image"] if r["name"] == name)
    assert row["shape"] == list(lab.shape[:2])
    np.testing.assert_allclose(row["psnr"], M.psnr(rgb_pred, rgb_true), rtol=1e-5)
    np.testing.assert_allclose(row["ssim"], M.ssim(rgb_pred, rgb_true), rtol=1e-5)
    np.testing.assert_allclose(row["colorfulness"], M.colorfulness(rgb_pred), rtol=1e-5)
    np.testing.assert_allclose(row["acc10"], M.acc_within(ab[None], truth_ab, channel_axis=1))
    np.testing.assert_allclose(row["auc"], M.auc_ab(ab[None], truth_ab, channel_axis=1))
    # the same image through the model's own colorize (uint8 output): nearly the same PSNR
    pred = module.colorize(model, rgb_true, config)
    assert abs(M.psnr(pred.astype(np.float32) / 255, rgb_true) - row["psnr"]) < 0.3

    # pooled over every pixel of every image: acc10 and AuC, model and mean-ab baseline
    flat_pred = np.concatenate([a.reshape(2, -1) for _, a, *_ in images.values()], axis=1)
    flat_true = np.concatenate([lb[..., 1:].reshape(-1, 2).T for lb, *_ in images.values()], axis=1)
    np.testing.assert_allclose(
        result["model"]["acc10"], M.acc_within(flat_pred, flat_true, channel_axis=0), rtol=1e-9
    )
    np.testing.assert_allclose(
        result["model"]["auc"], M.auc_ab(flat_pred, flat_true, channel_axis=0), rtol=1e-9
    )
    mean = np.asarray(config["mean_ab"], np.float32)[:, None] * np.ones_like(flat_true)
    np.testing.assert_allclose(
        result["mean_ab"]["acc10"], M.acc_within(mean, flat_true, channel_axis=0), rtol=1e-9
    )
    # the rebalanced AuC: the mean over the colour classes (bins) of the true ab present of
    # each class's AuC, every class alike, whatever the training set's prior
    bin_of = nearest_bin(flat_true, channel_axis=0)
    err = np.sqrt(((flat_pred - flat_true) ** 2).sum(0))
    counted = np.maximum(0, 151 - np.ceil(err)) / 151
    by_class = [counted[bin_of == q].mean() for q in np.unique(bin_of)]
    np.testing.assert_allclose(result["model"]["auc_rebalanced"], np.mean(by_class), rtol=1e-5)
    # the gray baseline's PSNR: the truth's L with ab = 0 against the truth, averaged
    gray_psnr = [
        M.psnr(np.asarray(lab_to_rgb(lb * np.array([1, 0, 0], np.float32))), lab_to_rgb(lb))
        for lb, *_ in images.values()
    ]
    np.testing.assert_allclose(result["gray"]["psnr"], np.mean(gray_psnr), rtol=1e-5)
    truth_cf = [M.colorfulness(lab_to_rgb(lb)) for lb, *_ in images.values()]
    np.testing.assert_allclose(result["truth"]["colorfulness"], np.mean(truth_cf), rtol=1e-5)
    # PSNR, SSIM and colourfulness: the mean of the images' own (not weighted by their sizes)
    assert len({tuple(r["shape"]) for r in result["per_image"]}) > 1
    for key in ("psnr", "ssim", "colorfulness"):
        per_image = [r[key] for r in result["per_image"]]
        np.testing.assert_allclose(result["model"][key], np.mean(per_image), rtol=1e-12)


def test_a_fully_convolutional_model_scores_the_centre_of_each_image():
    lab = np.arange(15 * 10 * 3, dtype=np.float32).reshape(15, 10, 3)
    np.testing.assert_array_equal(prepare_lab(lab, ("stride", 4)), lab[1:13, 1:9])
    assert prepare_lab(lab, ("fixed", 16)) is lab


def _fails(argv, capsys, match) -> str:
    """Runs the command, checks exit 2 and one error line holding ``match``; returns it."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("python -m tinycolor.evaluate: error:") and match in err, err
    return err


def test_bad_inputs_exit_2_with_one_line(trained, tmp_path, capsys):
    _, data, ckpt = trained
    _fails(["--checkpoint", str(tmp_path / "none.npz"), "--data", str(data)], capsys, "none.npz")
    _fails(["--checkpoint", str(ckpt), "--data", str(tmp_path / "nowhere")], capsys, "nowhere")
    (tmp_path / "empty").mkdir()
    _fails(["--checkpoint", str(ckpt), "--data", str(tmp_path / "empty")], capsys, "empty")
    (tmp_path / "junk.npz").write_bytes(b"not a checkpoint")
    _fails(["--checkpoint", str(tmp_path / "junk.npz"), "--data", str(data)], capsys, "junk.npz")
    # where the results go, checked before the evaluation runs
    ok = ["--checkpoint", str(ckpt), "--data", str(data)]
    _fails([*ok, "--json", str(tmp_path)], capsys, "--json")
    _fails([*ok, "--out", str(tmp_path / "junk.npz")], capsys, "expected a folder")
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_classifier_checkpoint_is_refused(trained, tmp_path, capsys, monkeypatch):
    import tinycolor
    from tinycolor.models import classifier
    from tinycolor.runs import checkpoint_meta

    _, data, _ = trained
    config = dict(classifier.DEFAULTS, class_names=["a", "b", "c"])
    path = tmp_path / "clf.npz"
    tinycolor.save(classifier.build_model(config), path, meta=checkpoint_meta("classifier", config))
    _fails(["--checkpoint", str(path), "--data", str(data)], capsys, "not a colorizer")
    # at once: before a (possibly large) --data folder is read
    from tinycolor import evaluate

    def read(*args):
        raise AssertionError("--data was read for a checkpoint that colours nothing")

    monkeypatch.setattr(evaluate, "open_dataset", read)
    _fails(["--checkpoint", str(path), "--data", str(data)], capsys, "not a colorizer")


def test_a_colorizer_with_only_the_required_hooks_is_trained_coloured_and_evaluated(
    trained, tmp_path, capsys, monkeypatch
):
    """A new model written to the protocol of tinycolor/models/__init__.py (no predict_ab,
    which the protocol does not list, nor the optional image_metrics) trained and coloured,
    but evaluate refused it as "not a colorizer"; it now goes through the model's colorize."""
    from tinycolor import colorize, models, train

    monkeypatch.setitem(models._REGISTRY, "minimal_colorizer", ("minimal_colorizer", "test"))
    _, data, _ = trained
    run = tmp_path / "run"
    assert train.main(["minimal_colorizer", "--epochs", "1", "--out", str(run), "--quiet"]) == 0
    ckpt = run / "model.npz"
    out = tmp_path / "coloured.png"
    argv = ["--checkpoint", str(ckpt), str(data / "img0.png"), "--output", str(out), "--quiet"]
    assert colorize.main(argv) == 0 and out.exists()
    out_json = tmp_path / "eval.json"
    argv = ["--checkpoint", str(ckpt), "--data", str(data), "--size", str(SIZE), "--quiet"]
    assert main([*argv, "--json", str(out_json), "--out", str(tmp_path / "eval")]) == 0
    scores = json.loads(out_json.read_text())
    assert scores["images"] == len(SHAPES) and math.isfinite(scores["model"]["psnr"])


def test_files_not_scored_are_named(trained, tmp_path, capsys):
    """Gray and unreadable files of --data are left out of the scores, and said to be."""
    import shutil

    _, data, ckpt = trained
    folder = tmp_path / "photos"
    shutil.copytree(data, folder)
    write_png(folder / "sub" / "gray.png", _colour_image(24, 24, 5)[..., 0])
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    out_json = tmp_path / "e.json"
    argv = ["--checkpoint", str(ckpt), "--data", str(folder), "--size", str(SIZE)]
    assert main([*argv, "--json", str(out_json), "--out", str(tmp_path / "eval")]) == 0
    result = json.loads(out_json.read_text())
    assert result["images"] == len(SHAPES)
    assert result["skipped"] == {"gray": ["sub/gray.png"], "unreadable": ["broken.jpg"]}
    assert "not scored: 1 gray (sub/gray.png); 1 unreadable (broken.jpg)" in capsys.readouterr().out


def test_a_file_name_that_is_not_utf8_is_drawn_not_a_crash(trained, tmp_path):
    """A photo named in Latin-1 (from an old zip, say): Python holds the byte that is not
    UTF-8 as a lone surrogate, which matplotlib refused with a TypeError (a traceback) when
    samples.png titled the photo; it is drawn as U+FFFD."""
    _, _, ckpt = trained
    folder = tmp_path / "photos"
    try:
        write_png(os.fsdecode(bytes(folder) + b"/caf\xe9.png"), _colour_image(24, 32, 0))
    except OSError:
        pytest.skip("this file system refuses file names that are not UTF-8")
    out_json = tmp_path / "e.json"
    argv = ["--checkpoint", str(ckpt), "--data", str(folder), "--size", str(SIZE)]
    assert main([*argv, "--json", str(out_json), "--out", str(tmp_path / "eval"), "--quiet"]) == 0
    assert json.loads(out_json.read_text())["images"] == 1
    assert (tmp_path / "eval" / "samples.png").stat().st_size > 0


def test_an_image_smaller_than_the_stride_is_named(bins_checkpoints, tmp_path, capsys):
    """A fully convolutional model sees whole images cropped to a multiple of its stride; at a
    --size below it the command ends naming the first image too small and the option."""
    small = tmp_path / "small"
    write_png(small / "a.png", _colour_image(40, 48, 0))
    write_png(small / "b.png", _colour_image(30, 48, 1))
    ckpt = str(bins_checkpoints[0.38])
    err = _fails(["--checkpoint", ckpt, "--data", str(small), "--size", "3"], capsys, "a.png: ")
    assert err.endswith("use a larger --size")


def test_samples_sets_the_rows_of_samples_png(trained, tmp_path):
    from tinycolor.imageio import read_image

    _, data, ckpt = trained
    heights = []
    for rows in ("1", "3"):
        argv = ["--checkpoint", str(ckpt), "--data", str(data), "--size", str(SIZE), "--quiet"]
        assert main([*argv, "--samples", rows, "--out", str(tmp_path / rows)]) == 0
        heights.append(read_image(tmp_path / rows / "samples.png").shape[0])
    assert heights[0] < heights[1]


def test_a_network_with_its_own_stride_scores_its_centre_crops(trained, tmp_path):
    """cnn_resnet declares no STRIDE: its network's (8 with one stage) decides how whole
    images are cropped, as STRIDE does for the others."""
    import tinycolor
    from tinycolor.models import cnn_resnet
    from tinycolor.runs import checkpoint_meta

    _, data, _ = trained
    config = dict(cnn_resnet.DEFAULTS, size=32, encoder_width=2, stages=1, width=1 / 32)
    config.update(loss="l2", mean_ab=[3.0, 9.0], class_names=["a", "b", "c"])
    tinycolor.manual_seed(0)
    path = tmp_path / "resnet.npz"
    tinycolor.save(cnn_resnet.build_model(config), path, meta=checkpoint_meta("cnn_resnet", config))
    result = _evaluate_json(tmp_path, path, data)
    assert "multiple of 8" in result["input"] and result["temperature"] is None
    assert [r["shape"] for r in result["per_image"]] == [[24, 32], [24, 24], [24, 24]]


def test_bench_models_quick_smoke():
    bench = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_models.py"
    argv = [sys.executable, str(bench), "--quick", "--no-torch", "--models", "cnn_regression"]
    argv += ["--batch-size", "4", "--size", "16", "--warmup", "1", "--steps", "1"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    row = next(line for line in proc.stdout.splitlines() if line.startswith("cnn_regression"))
    assert float(row.split()[2]) > 0  # images/s


def test_bench_models_alternates_the_order_and_names_the_framework_that_failed(monkeypatch):
    """bench_models measured tinycolor first in every round, and a tinycolor failure in round 2
    landed in the torch column (its earlier rounds shown as complete); now the order
    alternates, and a failure is kept with its framework and round, ending the model's
    rounds. Its subprocesses get the thread count torch gets, in their environment."""
    import argparse

    bench = _benchmark("bench_models")
    order = []

    def measure(name, framework, args):
        order.append(framework)
        if framework == "tinycolor" and len(order) == 4:  # round 2: torch, then tinycolor
            return "boom"
        return {"images_per_s": 10.0, "params": 5, "peak_mb": 1.0, "peak_method": "VmHWM"}

    monkeypatch.setattr(bench, "_measure", measure)
    args = argparse.Namespace(rounds=3)
    runs, _, failure = bench._measure_rounds("m", ["tinycolor", "torch"], args)
    assert order == ["tinycolor", "torch", "torch", "tinycolor"]
    assert failure == ("tinycolor", 2, "boom") and [len(runs[f]) for f in runs] == [1, 2]
    assert bench._cells(runs["tinycolor"], 2, 3)[1] == "failed in round 2"
    assert bench._cells(runs["torch"], None, 3)[1] == "10.0 (2 of 3 rounds)"
    runs["torch"][0]["peak_method"] = "ru_maxrss"
    assert bench._cells(runs["torch"], None, 3)[2] == "1*"  # a peak read since the start
    env = bench._thread_env(3)
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "3"


def test_bench_threads_smoke():
    bench = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_threads.py"
    argv = [sys.executable, str(bench), "--floats", "1000", "--python-steps", "0", "--calls", "2"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines() if line.startswith(("copy", "prod"))]
    assert [r[0] for r in rows] == ["copy", "product"]
    assert all(float(r[-1]) > 0 for r in rows)  # speedups


def test_colorizer_results_pools_the_truth_over_images_not_evaluations():
    """Folds of unequal size (16 photos in 3 folds: 6, 5 and 5) weigh by their images, as the
    other per-image means do; the truth's colourfulness was the plain mean of the folds'."""
    bench = _benchmark("colorizer_results")
    evals = [{"truth": {"colorfulness": c}, "images": n} for c, n in ((10.0, 6), (20.0, 5))]
    assert bench.pooled_truth(evals) == pytest.approx((10 * 6 + 20 * 5) / 11)


def test_results_figure_titles_carry_evaluates_per_image_psnr(trained, result, tmp_path):
    bench = _benchmark("colorizer_results")
    _, data, ckpt = trained
    figure = tmp_path / "figure.png"
    psnrs = bench.results_figure({"a": ckpt, "b": ckpt}, str(data), figure, size=SIZE)
    want = [im["psnr"] for im in result["per_image"]]
    np.testing.assert_allclose(psnrs["a"], want, rtol=1e-6)
    assert psnrs["b"] == psnrs["a"]
    assert figure.stat().st_size > 0


# --------------------------------------------------------------------------- --temperature


@pytest.fixture(scope="module")
def bins_checkpoints(tmp_path_factory):
    """Two checkpoints of one untrained tiny cnn_classification, with the same weights: one
    decoding at the default T = 0.38, one as if trained with --temperature 1."""
    import tinycolor
    from tinycolor.color import ab_bins
    from tinycolor.models import cnn_classification
    from tinycolor.runs import checkpoint_meta

    root = tmp_path_factory.mktemp("temperature")
    q = len(ab_bins())
    prior = np.random.default_rng(0).dirichlet(np.ones(q))
    config = dict(cnn_classification.DEFAULTS, size=16, width=1 / 32, mean_ab=[3.0, 9.0])
    config["prior"] = [float(p) for p in prior]
    tinycolor.manual_seed(0)
    model = cnn_classification.build_model(config)
    paths = {}
    for t in (0.38, 1.0):
        paths[t] = root / f"t{t}.npz"
        meta = checkpoint_meta("cnn_classification", dict(config, temperature=t))
        tinycolor.save(model, paths[t], meta=meta)
    return paths


def _evaluate_json(tmp_path, ckpt, data, *extra):
    out = tmp_path / f"{Path(ckpt).stem}{'-'.join(extra)}.json"
    argv = ["--checkpoint", str(ckpt), "--data", str(data), "--size", str(SIZE), "--quiet"]
    assert main([*argv, "--json", str(out), "--out", str(tmp_path / "samples"), *extra]) == 0
    return json.loads(out.read_text())


def test_temperature_decodes_as_a_model_trained_with_it(trained, bins_checkpoints, tmp_path):
    _, data, _ = trained
    default = _evaluate_json(tmp_path, bins_checkpoints[0.38], data)
    as_if = _evaluate_json(tmp_path, bins_checkpoints[0.38], data, "--temperature", "1")
    stored = _evaluate_json(tmp_path, bins_checkpoints[1.0], data)
    assert default["temperature"] == 0.38 and as_if["temperature"] == stored["temperature"] == 1
    assert as_if["model"] == stored["model"]
    assert as_if["model"]["colorfulness"] != default["model"]["colorfulness"]
    assert as_if["gray"] == default["gray"]  # the baselines do not depend on T


def test_colorize_takes_the_temperature_too(bins_checkpoints, tmp_path):
    from tinycolor.colorize import main as colorize
    from tinycolor.imageio import read_image

    def colour(ckpt, name, *extra):
        out = tmp_path / f"{name}.png"
        argv = ["--checkpoint", str(ckpt), "skimage:chelsea", "-o", str(out), "--quiet"]
        assert colorize([*argv, *extra]) == 0
        return read_image(out)

    default = colour(bins_checkpoints[0.38], "default")
    as_if = colour(bins_checkpoints[0.38], "as_if", "--temperature", "1")
    np.testing.assert_array_equal(as_if, colour(bins_checkpoints[1.0], "stored"))
    assert not np.array_equal(as_if, default)


def test_temperature_is_refused_for_a_model_that_regresses_ab(trained, tmp_path, capsys):
    from tinycolor.colorize import main as colorize

    _, data, ckpt = trained
    _fails(["--checkpoint", str(ckpt), "--data", str(data), "--temperature", "1"], capsys,
           "a cnn_regression checkpoint does not decode")  # fmt: skip
    argv = ["--checkpoint", str(ckpt), "skimage:chelsea", "-o", str(tmp_path / "c.png")]
    assert colorize([*argv, "--temperature", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--temperature" in err, err
    assert not (tmp_path / "c.png").exists()
    # a model that can decode bins, trained to regress ab (cnn_resnet --loss l2), neither
    from tinycolor.models import InputError, cnn_classification, cnn_resnet, set_temperature

    with pytest.raises(InputError, match="a cnn_resnet --loss l2 checkpoint does not decode"):
        set_temperature(cnn_resnet, dict(cnn_resnet.DEFAULTS, loss="l2"), 1.0)
    config = dict(cnn_classification.DEFAULTS)
    with pytest.raises(InputError, match="expected a number >= 0, got -1"):
        set_temperature(cnn_classification, config, -1.0)  # the API, without argparse
    set_temperature(cnn_classification, config, 0.0)
    assert config["temperature"] == 0.0


def test_temperature_sweep_scores_each_t_and_picks_on_held_out_photos(
    trained, bins_checkpoints, tmp_path, capsys
):
    """benchmarks/temperature_sweep.py on one Kodak-fold run (the untrained checkpoint) whose
    training folder is the test images' folder, one of them held out."""
    results = tmp_path / "results"
    run = _fold_run(trained, results, "cnn_classification", bins_checkpoints[0.38])
    sweep = _benchmark("temperature_sweep")
    argv = ["--results", str(results), "--models", "cnn_classification", "--size", str(SIZE)]
    assert sweep.main([*argv, "--temperatures", "1", "0.38", "--jobs", "1"]) == 0
    table = capsys.readouterr().out
    kept = {
        (t, where): json.loads((run / f"T{t}-{where}-{SIZE}px.json").read_text())
        for t in ("0.38", "1")
        for where in ("test", "held-out")
    }
    assert kept["1", "test"]["temperature"] == 1 and kept["1", "held-out"]["images"] == 1
    assert kept["1", "test"]["images"] == len(SHAPES)
    for t in ("0.38", "1"):
        want = kept[t, "test"]["model"]["psnr"]
        assert _table_row(table, t)[0] == pytest.approx(want, abs=0.005)
    best = max(("0.38", "1"), key=lambda t: kept[t, "held-out"]["model"]["psnr"])
    assert _table_row(table, "chosen on held-out photos") == _table_row(table, best)
    gray = kept["1", "test"]["gray"]["psnr"]
    assert _table_row(table, "gray baseline")[0] == pytest.approx(gray, abs=0.005)
    assert (results / "temperature.png").stat().st_size > 0


def test_colorizer_results_keeps_the_folds_an_out_folder_was_made_with(tmp_path):
    """k-fold folders of links, each photo in one test folder; the same --out with another k
    is refused (it added links to the old folds: photos in train and test at once)."""
    bench = _benchmark("colorizer_results")
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(8):
        (photos / f"p{i}.png").write_bytes(b"")
    out = tmp_path / "results"
    folds = bench.fold_folders(photos, 2, out)
    tests = [sorted(p.name for p in test.iterdir()) for _, test in folds]
    assert sorted(sum(tests, [])) == sorted(p.name for p in photos.iterdir())
    for train, test in folds:
        assert not {p.name for p in train.iterdir()} & {p.name for p in test.iterdir()}
    assert len(bench.fold_folders(photos, 2, out)) == 2  # the same split again: fine
    with pytest.raises(SystemExit, match="holds the runs of a 2-fold split"):
        bench.fold_folders(photos, 4, out)
    with pytest.raises(SystemExit) as exit_info:  # k = 1 tested nothing (no test folder)
        bench.main(["--kodak", str(photos), "--folds", "1", "--out", str(out)])
    assert exit_info.value.code == 2


def _fold_run(trained, results, model, checkpoint):
    """A results folder laid out as colorizer_results.py leaves it, with one Kodak-fold run of
    ``model`` (``checkpoint``) whose training folder is the test images' folder, img1.png of
    it held out; returns the run folder."""
    import shutil

    _, data, _ = trained
    if not (results / "fold0").exists():
        (results / "fold0").mkdir(parents=True)
        shutil.copytree(data, results / "fold0" / "test")
    run = results / model / "seed0" / "fold0"
    run.mkdir(parents=True)
    shutil.copy(checkpoint, run / "model.npz")
    (run / "metrics.json").write_text(
        json.dumps({"held_out": ["img1.png"], "config": {"data": str(data)}})
    )
    return run


def _table_row(table, label):
    line = next(x for x in table.splitlines() if x.startswith(f"| {label} |"))
    return [float(v) for v in line.split("|")[2:-1]]


def test_shrink_sweep_scales_the_colour_between_mean_ab_and_the_network(
    trained, result, tmp_path, capsys
):
    """benchmarks/shrink_sweep.py: s = 1 scores as evaluate scores the network, s = 0 as its
    mean-ab baseline, and the held-out row is the s best on the held-out photo."""
    _, _, ckpt = trained
    results = tmp_path / "results"
    _fold_run(trained, results, "cnn_regression", ckpt)
    sweep = _benchmark("shrink_sweep")
    argv = ["--results", str(results), "--models", "cnn_regression", "--size", str(SIZE)]
    assert sweep.main([*argv, "--scales", "0", "1", "0.5"]) == 0
    table = capsys.readouterr().out
    psnr = {s: _table_row(table, s)[0] for s in ("0", "0.5", "1")}
    assert psnr["1"] == pytest.approx(result["model"]["psnr"], abs=0.005)
    assert psnr["0"] == pytest.approx(result["mean_ab"]["psnr"], abs=0.005)
    assert _table_row(table, "mean-ab baseline")[0] == pytest.approx(psnr["0"], abs=0.005)
    footer = table.split("PSNR on the held-out photos of all these runs, pooled, at each s:")[1]
    held = dict(re.findall(r"(\d+(?:\.\d+)?) (\d+\.\d+)", footer))
    assert set(held) == set(psnr)
    best = max(held, key=lambda s: float(held[s]))
    assert _table_row(table, "chosen on held-out photos") == _table_row(table, best)
    assert (results / "shrink.png").stat().st_size > 0
    assert sweep.main([*argv, "--seeds", "3"]) == 2  # no runs of that seed: one line, exit 2


def test_a_cifar_folder_trains_and_scores_at_its_own_size(trained, tmp_path):
    """CIFAR-10's 32x32 images were scaled up to 256 by default (39 GB for the 50,000 of
    them), and evaluate scored the training batches; now 32, and the test batch."""
    from tinycolor.models import lab_common

    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for name, n in (("data_batch_1.bin", 6), ("test_batch.bin", 3)):
        records = bytearray()
        for _ in range(n):
            records += (
                bytes([int(rng.integers(10))])
                + rng.integers(0, 256, 3072).astype(np.uint8).tobytes()
            )
        (folder / name).write_bytes(bytes(records))
    config = {"size": 32, "data": str(folder)}
    assert lab_common.resolve_image_size(config, synthetic=False) == 32
    assert lab_common.resolve_image_size({"size": 16, "data": "skimage"}, False) == 256
    _, _, ckpt = trained
    out = tmp_path / "e.json"
    assert (
        main(["--checkpoint", str(ckpt), "--data", str(tmp_path), "--json", str(out), "--quiet"])
        == 0
    )
    result = json.loads(out.read_text())
    assert result["images"] == 3 and result["size"] == 32  # the test batch, at 32


def test_memory_does_not_grow_with_the_number_of_images(trained, tmp_path):
    """evaluate kept every image's Lab and prediction in memory at once (1.6 MB a photo at
    short side 256: 60 GB for Places365's 36,500 validation photos); it now reads, predicts
    and scores them one at a time, keeping a few numbers of each and samples.png's rows."""
    import tracemalloc

    from tinycolor.evaluate import evaluate_checkpoint

    _, _, ckpt = trained
    peaks = {}
    for n in (15, 60):
        folder = tmp_path / f"photos{n}"
        for k in range(n):
            write_png(folder / f"img{k:02d}.png", _colour_image(64, 80, k))
        for run in ("first", "second"):  # reading the folder into the cache, then from it
            tracemalloc.start()
            try:
                # out=False: no samples.png, whose drawing alone takes 17 MB
                result = evaluate_checkpoint(ckpt, folder, 64, out=False, quiet=True)
                peaks[n, run] = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert result["images"] == n
    for run in ("first", "second"):
        assert peaks[60, run] < 1.5 * peaks[15, run], peaks


def _pooled_at_once(per_image):
    """How evaluate pooled the scores of every image when it held them all: verbatim (the
    rebalanced AuC aside: see the test below)."""

    def mean(key, weight=None):
        pairs = [
            (s[key], 1.0 if weight is None else s[weight])
            for s in per_image
            if s.get(key) is not None and (weight is None or s[weight] > 0)
        ]
        total = sum(w for _, w in pairs)
        return float(sum(v * w for v, w in pairs) / total) if pairs and total > 0 else None

    return {
        "psnr": mean("psnr"),
        "ssim": mean("ssim"),
        "acc10": mean("acc10", "pixels"),
        "auc": mean("auc", "pixels"),
        "colorfulness": mean("colorfulness"),
    }


@pytest.mark.parametrize("prior", ["stored", "own"])
def test_images_scored_one_at_a_time_give_the_numbers_of_all_at_once(
    trained, bins_checkpoints, tmp_path, monkeypatch, prior
):
    """Read, predicted and scored one image at a time, evaluate's numbers are to the last digit
    those of every image's scores pooled at the end, as it computed them before: a regression
    model (a prior in its checkpoint, which the rebalanced AuC does not use) and a model of ab
    bins (stride-cropped images) without a prior. The rebalanced AuC weighs each pixel by 1 /
    its colour class's share of all the images' pixels, as a first pass that counted the
    classes did before; now its terms are summed per class as the images come, and each image
    is read once."""
    import tinycolor
    from tinycolor.color import empirical_prior
    from tinycolor.data.folder import ImageFolder
    from tinycolor.evaluate import evaluate_checkpoint, image_scores, predict_images
    from tinycolor.models.lab_common import _lab_to_rgb_batch

    folder = tmp_path / "photos"
    for k in range(12):
        write_png(folder / f"img{k:02d}.png", _colour_image(24 + 4 * (k % 3), 32 + k, k))
    ckpt = trained[2]
    if prior == "own":
        module, model, config, meta = load_model(bins_checkpoints[0.38])
        del config["prior"]
        ckpt = tmp_path / "own.npz"
        tinycolor.save(model, ckpt, meta=dict(meta, config=config))
    reads = []
    read = ImageFolder.lab
    monkeypatch.setattr(ImageFolder, "lab", lambda ds, i: reads.append(i) or read(ds, i))
    result = evaluate_checkpoint(ckpt, folder, SIZE, out=tmp_path / "eval", quiet=True)
    assert sorted(reads) == list(range(12))  # one pass: each image read once
    assert result["prior_source"].startswith("the evaluated pixels' colour classes")

    p = predict_images(ckpt, folder, SIZE, quiet=True)  # every image and prediction at once
    own = np.asarray(empirical_prior([lab[..., 1:] for lab in p.labs], sigma=0), np.float32)
    rows = {"model": [], "gray": [], "mean_ab": []}
    weighed = {who: [] for who in rows}  # (AuC weighed by 1 / own share, sum of the weights)
    truth_cf = []
    mean_ab = np.asarray(p.config["mean_ab"], np.float32).reshape(1, 2, 1, 1)
    for lab, pred in zip(p.labs, p.preds):
        L = lab[None, None, :, :, 0]
        ab_true = np.ascontiguousarray(lab.transpose(2, 0, 1)[None, 1:])
        const = np.broadcast_to(mean_ab, ab_true.shape).copy()
        w = M.rebalanced_pixel_weights(ab_true, own, channel_axis=1)
        for who, ab in (
            ("model", pred[None]),
            ("gray", np.zeros_like(ab_true)),
            ("mean_ab", const),
        ):
            rows[who].append(image_scores(L, ab, ab_true))
            weighed[who].append((M.auc_ab(ab, ab_true, weights=w, channel_axis=1), w.sum()))
        truth_cf.append(float(np.mean(M.colorfulness(_lab_to_rgb_batch(L, ab_true)))))
    assert result["images"] == len(rows["model"]) == 12
    rebalanced = {who: result[who].pop("auc_rebalanced") for who in rows}
    for who, per_image in rows.items():
        assert result[who] == _pooled_at_once(per_image), who
        values, weights = np.array(weighed[who]).T
        assert rebalanced[who] == pytest.approx(np.sum(values * weights) / np.sum(weights))
    assert result["truth"]["colorfulness"] == float(np.mean(truth_cf))
    assert [r["psnr"] for r in result["per_image"]] == [s["psnr"] for s in rows["model"]]
    assert [r["shape"] for r in result["per_image"]] == [list(x.shape[:2]) for x in p.labs]
    # the per-class sums: the classes' pixel counts and, for each score, its AuC's terms
    classes = result["auc_classes"]
    assert np.sum(classes["pixels"]) == sum(lab.shape[0] * lab.shape[1] for lab in p.labs)
    np.testing.assert_allclose(np.asarray(classes["pixels"]) / np.sum(classes["pixels"]),
                               own[classes["bins"]], rtol=1e-6)  # fmt: skip
    for who in rows:
        assert M.class_mean(classes[who], classes["pixels"]) == rebalanced[who]


def test_the_progress_bar_counts_every_image(trained, tmp_path, capsys):
    _, data, ckpt = trained
    argv = ["--checkpoint", str(ckpt), "--data", str(data), "--size", str(SIZE)]
    assert main([*argv, "--out", str(tmp_path / "eval")]) == 0
    bars = [x for x in re.split(r"[\r\n]", capsys.readouterr().err) if x.startswith("evaluating")]
    assert f"{len(SHAPES)}/{len(SHAPES)} " in bars[-1], bars


def test_each_images_truth_is_converted_and_weighed_once(trained, truth_work):
    """Of each image, the truth was turned into sRGB four times (once for each of the three
    scores and once for its colourfulness) and its rebalancing weights counted six times (twice
    a score); now once each, for the same numbers (see the test above)."""
    from tinycolor.evaluate import evaluate_checkpoint

    _, data, ckpt = trained
    result = evaluate_checkpoint(ckpt, data, SIZE, out=False, quiet=True)
    n = result["images"]
    assert n == len(SHAPES) and result["mean_ab"] is not None
    # an image: the truth once, the model's and the two baselines' predictions
    assert truth_work == {"rgb": 4 * n, "classes": n}


# --------------------------------------------------------------------------- ensembles


@pytest.fixture(scope="module")
def second_checkpoint(trained, tmp_path_factory):
    """Another cnn_regression checkpoint of the trained one's architecture: its weights moved
    and its training statistics (mean ab, prior) those of another training set."""
    import tinycolor
    from tinycolor.runs import checkpoint_meta

    _, _, ckpt = trained
    _, model, config, _ = load_model(ckpt)
    rng = np.random.default_rng(1)
    for p in model.parameters():
        p.data += rng.normal(0, 0.05, p.shape).astype(p.data.dtype)
    last = model.head[-1].bias.data  # the output's a plane, then its b plane: another colour
    last[: last.size // 2] += 0.5
    last[last.size // 2 :] -= 0.5
    prior = np.asarray(config["prior"]) * rng.uniform(0.5, 1.5, len(config["prior"]))
    config = dict(config, mean_ab=[config["mean_ab"][0] + 6.0, config["mean_ab"][1] - 4.0])
    config["prior"] = [float(v) for v in prior / prior.sum()]
    path = tmp_path_factory.mktemp("ensemble") / "second.npz"
    tinycolor.save(model, path, meta=checkpoint_meta("cnn_regression", config))
    return path


def _ensemble_json(tmp_path, checkpoints, data, *extra):
    out = tmp_path / f"ensemble{len(checkpoints)}.json"
    argv = ["--checkpoint", *map(str, checkpoints), "--data", str(data), "--size", str(SIZE)]
    argv += ["--quiet", "--json", str(out), *extra]
    assert main(argv) == 0
    return json.loads(out.read_text())


def test_an_ensemble_scores_the_mean_of_its_members_ab(trained, second_checkpoint, tmp_path):
    from tinycolor.evaluate import predict_images, score_predictions

    _, data, ckpt = trained
    both = _ensemble_json(tmp_path, [ckpt, second_checkpoint], data, "--out", str(tmp_path / "s"))
    assert both["ensemble"] == 2 and both["checkpoint"] == [str(ckpt), str(second_checkpoint)]
    members = [predict_images(c, data, SIZE, quiet=True) for c in (ckpt, second_checkpoint)]
    mean_ab = np.mean([m.config["mean_ab"] for m in members], axis=0)
    assert both["mean_ab_value"] == pytest.approx(list(mean_ab))
    preds = [(a + b) / 2 for a, b in zip(members[0].preds, members[1].preds)]
    # the rebalanced AuC's prior: the evaluated pixels' own, whatever the members trained on
    expected = score_predictions(members[0].names, members[0].labs, preds, mean_ab)
    for who in ("model", "gray", "mean_ab"):
        for key, value in expected[who].items():
            assert both[who][key] == pytest.approx(value, rel=1e-6), (who, key)
    alone = [score_predictions(m.names, m.labs, m.preds, m.config["mean_ab"]) for m in members]
    assert all(a["model"]["psnr"] != pytest.approx(both["model"]["psnr"]) for a in alone)
    # an ensemble of one checkpoint twice is that checkpoint
    twice = _ensemble_json(tmp_path, [ckpt, ckpt], data, "--out", str(tmp_path / "t"))
    for who in ("model", "gray", "mean_ab"):
        assert twice[who] == pytest.approx(alone[0][who], rel=1e-6)


def test_an_ensemble_decoding_at_several_temperatures_says_each(
    trained, bins_checkpoints, tmp_path, capsys
):
    """Members trained with different --temperature: "temperature" is each member's T, and
    the table says so, not nothing (null, as for a model that regresses ab); --temperature
    makes it one again."""
    _, data, _ = trained
    members = [bins_checkpoints[0.38], bins_checkpoints[1.0]]
    argv = ["--checkpoint", *map(str, members), "--data", str(data), "--size", str(SIZE)]
    assert main([*argv, "--out", str(tmp_path / "s")]) == 0
    assert "annealed mean T = 0.38, 1 (a member each)" in capsys.readouterr().out
    mixed = _ensemble_json(tmp_path, members, data, "--out", str(tmp_path / "s"))
    assert mixed["temperature"] == [0.38, 1.0]
    one = _ensemble_json(tmp_path, members, data, "--temperature", "1", "--out", str(tmp_path))
    assert one["temperature"] == 1.0


def test_an_ensembles_samples_go_beside_its_first_checkpoint(trained, second_checkpoint):
    from tinycolor.evaluate import default_out

    root, data, ckpt = trained
    assert default_out(ckpt, data).name == "eval-photos"
    folder = default_out([second_checkpoint, ckpt], data)
    assert folder == second_checkpoint.parent.resolve() / "eval-photos-ensemble2"
    argv = ["--checkpoint", str(second_checkpoint), str(ckpt), "--data", str(data)]
    assert main([*argv, "--size", str(SIZE), "--quiet"]) == 0
    assert (folder / "samples.png").stat().st_size > 0


def test_a_pattern_that_matched_no_checkpoint_is_said_to_be_one(trained, tmp_path, capsys):
    """--checkpoint 'runs/*/model.npz' where no file matches: the shell passes the pattern
    itself, which is named as a pattern that matched nothing, not as a missing file."""
    _, data, ckpt = trained
    pattern = str(tmp_path / "runs" / "seed*" / "model.npz")
    err = _fails(["--checkpoint", str(ckpt), pattern, "--data", str(data)], capsys, pattern)
    assert "no such checkpoint file (a pattern that matched no file?)" in err, err
    missing = str(tmp_path / "seed1.npz")  # a plain name: only missing
    err = _fails(["--checkpoint", missing, "--data", str(data)], capsys, missing)
    assert err.endswith("no such checkpoint file"), err


def test_temperature_names_the_ensemble_member_that_has_none(trained, tmp_path, capsys):
    """--temperature with an ensemble of cnn_resnet --loss ce and --loss l2: the member that
    decodes no ab bins is named, not only its kind (which the ce member shares)."""
    import tinycolor
    from tinycolor.colorize import main as colorize
    from tinycolor.models import cnn_resnet
    from tinycolor.runs import checkpoint_meta

    _, data, _ = trained
    paths = []
    for loss in ("ce", "l2"):
        config = dict(cnn_resnet.DEFAULTS, size=32, image_size=32, width=1 / 32, loss=loss)
        config.update(encoder_width=2, stages=1, class_names=["a", "b"], mean_ab=[1.0, 2.0])
        paths.append(tmp_path / f"{loss}.npz")
        tinycolor.save(cnn_resnet.build_model(config), paths[-1], meta=checkpoint_meta(
            "cnn_resnet", config))  # fmt: skip
    members = ["--checkpoint", *map(str, paths)]
    err = _fails([*members, "--data", str(data), "--temperature", "1"], capsys, "--temperature")
    assert f"{paths[1]}: --temperature: a cnn_resnet --loss l2 checkpoint" in err, err
    argv = [*members, "skimage:chelsea", "-o", str(tmp_path / "c.png"), "--temperature", "1"]
    assert colorize(argv) == 2
    err = capsys.readouterr().err
    assert f"{paths[1]}: --temperature: a cnn_resnet --loss l2 checkpoint" in err, err


def test_an_ensemble_of_networks_of_different_strides_is_scored_on_their_common_multiple(
    trained, tmp_path
):
    """cnn_resnet --stages 1 (stride 8) and --stages 2 (stride 16), both fully convolutional:
    each image is cropped to a multiple of 16, which both take (colorize takes them too),
    not refused as networks that see the images differently."""
    import tinycolor
    from tinycolor.models import cnn_resnet
    from tinycolor.runs import checkpoint_meta

    _, data, _ = trained
    paths = []
    for stages in (1, 2):
        config = dict(cnn_resnet.DEFAULTS, size=32, image_size=32, width=1 / 32, stages=stages)
        config.update(encoder_width=2, class_names=["a", "b"], mean_ab=[1.0, 2.0])
        paths.append(tmp_path / f"stages{stages}.npz")
        tinycolor.save(cnn_resnet.build_model(config), paths[-1], meta=checkpoint_meta(
            "cnn_resnet", config))  # fmt: skip
    both = _ensemble_json(tmp_path, paths, data, "--size", "24", "--out", str(tmp_path))
    assert "multiple of 16" in both["input"] and both["ensemble"] == 2
    assert all(side % 16 == 0 for p in both["per_image"] for side in p["shape"])


def test_an_ensemble_of_two_models_is_refused(trained, bins_checkpoints, capsys):
    _, data, ckpt = trained
    argv = ["--checkpoint", str(ckpt), str(bins_checkpoints[0.38]), "--data", str(data)]
    err = _fails(argv, capsys, "must be of one model")
    assert "cnn_regression" in err and "cnn_classification" in err


def test_colorizer_results_scores_each_models_seeds_as_an_ensemble(
    trained, second_checkpoint, tmp_path, capsys
):
    """benchmarks/colorizer_results.py --ensemble: per model and fold, the runs of the seeds
    given scored as one ensemble (what evaluate --checkpoint A B gives), pooled over the folds
    in a table of its own. The runs here are laid out as if trained (model.npz, eval.json)."""
    import shutil

    from tinycolor.evaluate import evaluate_checkpoint

    _, data, ckpt = trained
    photos = tmp_path / "photos"
    photos.mkdir()
    for k, (h, w) in enumerate([*SHAPES, (26, 30)]):
        write_png(photos / f"p{k}.png", _colour_image(h, w, 10 + k))
    out = tmp_path / "results"
    bench = _benchmark("colorizer_results")
    folds = bench.fold_folders(photos, 2, out)
    for seed, source in enumerate((ckpt, second_checkpoint)):
        for i, (_, test) in enumerate(folds):
            run = out / "cnn_regression" / f"seed{seed}" / f"fold{i}"
            run.mkdir(parents=True)
            shutil.copy(source, run / "model.npz")
            (run / "metrics.json").write_text("{}")  # a finished run: not trained again
            argv = ["--checkpoint", str(run / "model.npz"), "--data", str(test)]
            assert (
                main([*argv, "--json", str(run / "eval.json"), "--out", str(run), "--quiet"]) == 0
            )
    argv = ["--kodak", str(photos), "--folds", "2", "--no-skimage", "--out", str(out)]
    argv += ["--models", "cnn_regression", "--seeds", "0", "1", "--ensemble", "--jobs", "1"]
    assert bench.main(argv) == 0
    tables = capsys.readouterr().out.split("**Kodak, 2-fold")
    assert len(tables) == 3 and "ensemble of its runs with seeds 0, 1" in tables[2]
    both = [
        evaluate_checkpoint(
            [out / "cnn_regression" / f"seed{s}" / f"fold{i}" / "model.npz" for s in (0, 1)],
            test,
            out=False,
            quiet=True,
        )
        for i, (_, test) in enumerate(folds)
    ]
    row = _table_row(tables[2], "`cnn_regression`")
    assert row[0] == pytest.approx(bench.pooled(both, "model")["psnr"], abs=0.005)
    # the two folds pooled are all the photos scored at once (the same ensemble on each)
    whole = evaluate_checkpoint(
        [out / "cnn_regression" / f"seed{s}" / "fold0" / "model.npz" for s in (0, 1)],
        photos,
        out=False,
        quiet=True,
    )
    for who in ("model", "gray", "mean_ab"):
        for key, value in bench.pooled(both, who).items():
            assert value == pytest.approx(whole[who][key], rel=1e-9), (who, key)
    assert _table_row(tables[2], "mean-ab baseline")[0] == pytest.approx(
        bench.pooled(both, "mean_ab")["psnr"], abs=0.005
    )
    assert row[0] != pytest.approx(_table_row(tables[1], "`cnn_regression`")[0], abs=0.005)
    saved = json.loads((out / "results.json").read_text())
    assert set(saved) == {"kodak", "kodak_ensemble", "tables"}
    assert (out / "cnn_regression" / "ensemble-0-1" / "fold1" / "eval.json").exists()


def test_colorizer_results_scores_a_finished_run_again_without_training_it(tmp_path, monkeypatch):
    """A finished training whose eval.json is missing, or of an evaluate before the per-class
    sums (``auc_classes``), is scored again and not trained again; an unfinished one is
    trained; a scored one is left alone."""
    bench = _benchmark("colorizer_results")
    ran = []

    def run_commands(run_dir, commands):
        ran.append([args[0] for args, _ in commands])
        (run_dir / "eval.json").write_text(json.dumps({"auc_classes": {}}))

    monkeypatch.setattr(bench, "_run_commands", run_commands)
    job = dict(model="cnn_regression", train="kodak", test="skimage", args=[])
    finished, unfinished = tmp_path / "finished", tmp_path / "unfinished"
    for run in (finished, unfinished):
        run.mkdir()
        (run / "model.npz").write_bytes(b"")
    (finished / "metrics.json").write_text("{}")
    (unfinished / "metrics.json").write_text(json.dumps({"interrupted": True}))
    (finished / "eval.json").write_text(json.dumps({"model": {}}))  # of an older evaluate
    bench.run_job(dict(job, dir=str(finished)))
    bench.run_job(dict(job, dir=str(unfinished)))
    bench.run_job(dict(job, dir=str(finished)))  # scored now: nothing to do
    assert ran == [["tinycolor.evaluate"], ["tinycolor.train", "tinycolor.evaluate"]]


def test_colorizer_results_refuses_an_ensemble_of_one_seed_before_training(
    tmp_path, monkeypatch, capsys
):
    """--ensemble with one seed (or one given twice) is refused at once, not after every
    model has trained (hours, on Kodak) and before any table is written."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for k, (h, w) in enumerate(SHAPES):
        write_png(photos / f"p{k}.png", _colour_image(h, w, k))
    bench = _benchmark("colorizer_results")
    trained = []
    monkeypatch.setattr(bench, "run_job", trained.append)
    for seeds in (["0"], ["3", "3"]):
        argv = ["--kodak", str(photos), "--folds", "0", "--out", str(tmp_path / "results")]
        argv += ["--models", "cnn_regression", "--seeds", *seeds, "--ensemble", "--jobs", "1"]
        with pytest.raises(SystemExit) as exc:
            bench.main(argv)
        assert exc.value.code == 2
        assert "--ensemble needs at least two --seeds" in capsys.readouterr().err
        assert trained == []


def test_colorize_colours_with_an_ensemble(trained, second_checkpoint, tmp_path, capsys):
    """colorize --checkpoint A B IMAGE: the mean of the two pictures' ab, on the lightness
    they share; the image may come after the list (the usual order) or before it."""
    from tinycolor.color import rgb_to_lab
    from tinycolor.colorize import main as colorize
    from tinycolor.imageio import read_image

    _, data, ckpt = trained
    image = str(data / "img0.png")

    def colour(name, *argv):
        out = tmp_path / f"{name}.png"
        assert colorize([*argv, "-o", str(out), "--quiet"]) == 0
        return read_image(out)

    a = colour("a", "--checkpoint", str(ckpt), image)
    b = colour("b", "--checkpoint", str(second_checkpoint), image)
    both = colour("both", "--checkpoint", str(ckpt), str(second_checkpoint), image)
    np.testing.assert_array_equal(
        both, colour("first", image, "--checkpoint", str(ckpt), str(second_checkpoint))
    )
    labs = [np.asarray(rgb_to_lab(x)) for x in (a, b, both)]  # read_image: floats in [0, 1]
    assert np.abs(labs[0][..., 1:] - labs[1][..., 1:]).mean() > 1  # the members differ
    mean_ab = (labs[0][..., 1:] + labs[1][..., 1:]) / 2
    assert np.abs(labs[2][..., 1:] - mean_ab).max() < 2.5  # uint8 rounding, twice
    assert np.abs(labs[2][..., 0] - labs[0][..., 0]).max() < 1
    # a note a member prints (the image resized to the network's input) is said once
    out = str(tmp_path / "notes.png")
    assert colorize(["--checkpoint", str(ckpt), str(second_checkpoint), image, "-o", out]) == 0
    notes = capsys.readouterr().err.splitlines()
    assert len(notes) == 1 and "resized" in notes[0], notes
    assert colorize(["--checkpoint", str(ckpt), "--quiet"]) == 2  # no image: refused
    assert "required: INPUT" in capsys.readouterr().err
    # two checkpoints and no image: the second is not read as the image (a numpy error)
    assert colorize(["--checkpoint", str(ckpt), str(second_checkpoint), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "required: INPUT" in err and f"{second_checkpoint} is a checkpoint" in err, err


# --------------------------------------------------------------------------- what the user has


def test_json_never_replaces_the_checkpoint_an_image_or_a_runs_record(trained, tmp_path, capsys):
    """--json naming the checkpoint (a slip in the shell's history) replaced the trained model
    with the numbers, as it did an image of --data or the run's metrics.json; all are refused
    before the evaluation, and a JSON that evaluate wrote is written over as before."""
    import shutil

    root, data, ckpt = trained
    run = tmp_path / "run"
    shutil.copytree(ckpt.parent, run)
    photos = tmp_path / "photos"
    shutil.copytree(data, photos)
    kept = {
        p: p.read_bytes() for p in (run / "model.npz", run / "metrics.json", photos / "img0.png")
    }
    argv = ["--checkpoint", str(run / "model.npz"), "--data", str(photos), "--size", str(SIZE)]
    argv += ["--out", str(tmp_path / "eval"), "--quiet", "--json"]
    _fails([*argv, str(run / "model.npz")], capsys, "that is the checkpoint; give another name")
    _fails([*argv, str(photos / "img0.png")], capsys, "exists and is not a .json file")
    _fails([*argv, str(run / "metrics.json")], capsys, "(a run's metrics.json?)")
    assert all(p.read_bytes() == b for p, b in kept.items())
    assert not (tmp_path / "eval").exists()  # refused before the work
    again = tmp_path / "again.json"
    assert main([*argv, str(again)]) == 0
    assert main([*argv, str(again)]) == 0  # its own result: written over


def test_samples_are_never_written_among_the_images_scored(trained, tmp_path, capsys):
    """--out inside --data: samples.png was scored as a data image the next time (2 images,
    then 3); so was the default folder beside a checkpoint kept inside --data."""
    import shutil

    _, data, ckpt = trained
    photos = tmp_path / "photos"
    shutil.copytree(data, photos)
    argv = ["--checkpoint", str(ckpt), "--data", str(photos), "--size", str(SIZE), "--quiet"]
    _fails([*argv, "--out", str(photos)], capsys, f"--out {photos}: is inside --data {photos}")
    _fails([*argv, "--out", str(photos / "sub")], capsys, "give a folder outside it")
    shutil.copy(ckpt, photos / "model.npz")
    argv[1] = str(photos / "model.npz")
    err = _fails(argv, capsys, f"samples.png would be written inside --data {photos}")
    assert err.endswith("give a folder outside it with --out DIR")
    assert sorted(p.name for p in photos.iterdir()) == [
        "img0.png",
        "img1.png",
        "img2.png",
        "model.npz",
    ]


def test_why_a_file_was_not_scored_is_said(trained, tmp_path, capsys):
    """A readable image too elongated to resize was called "unreadable", its reason dropped:
    it is kept in the JSON (unreadable_why), under the table, and in the error of a folder of
    nothing else."""
    import shutil

    _, data, ckpt = trained
    photos = tmp_path / "photos"
    shutil.copytree(data, photos)
    write_png(photos / "strip.png", _colour_image(2, 200, 0))
    out_json = tmp_path / "e.json"
    argv = ["--checkpoint", str(ckpt), "--data", str(photos), "--size", str(SIZE)]
    assert main([*argv, "--json", str(out_json), "--out", str(tmp_path / "eval")]) == 0
    result = json.loads(out_json.read_text())
    assert result["skipped"] == {"gray": [], "unreadable": ["strip.png"]}
    why = result["unreadable_why"]["strip.png"]
    assert why.startswith("200x2 pixels, more than 32 times as long as its short side"), why
    assert f"  strip.png: {why}" in capsys.readouterr().out
    only = tmp_path / "strips"
    write_png(only / "strip.png", _colour_image(2, 200, 0))
    argv = ["--checkpoint", str(ckpt), "--data", str(only), "--size", str(SIZE), "--quiet"]
    err = _fails([*argv, "--out", str(tmp_path / "eval")], capsys, "no usable colour image")
    assert err.endswith(f"1 unreadable: strip.png ({why})"), err


def test_scores_on_the_images_the_run_trained_on_are_said_to_be(trained, tmp_path, capsys):
    """Scored on its own training data (a default run on the scikit-image photos, evaluated
    with the default --data), the table and the JSON said nothing: "trained_on" names the
    images the run trained on (those its metrics.json does not hold out), with a note."""
    import shutil

    _, data, ckpt = trained
    held = json.loads((ckpt.parent / "metrics.json").read_text())["held_out"]
    names = sorted(p.name for p in data.iterdir())
    out_json = tmp_path / "e.json"
    argv = ["--checkpoint", str(ckpt), "--data", str(data), "--size", str(SIZE)]
    assert main([*argv, "--json", str(out_json), "--out", str(tmp_path / "eval")]) == 0
    result = json.loads(out_json.read_text())
    assert result["trained_on"] == [n for n in names if n not in held] and len(held) == 1
    note = f"{len(names) - 1} of these {len(names)} images are ones cnn_regression trained on"
    assert result["note"].startswith(note) and f"(held out: {held[0]})" in result["note"]
    assert f"note: {result['note']}" in capsys.readouterr().out
    # the checkpoint alone, without its run's metrics.json: which were held out is not known
    alone = tmp_path / "alone" / "model.npz"
    alone.parent.mkdir()
    shutil.copy(ckpt, alone)
    argv[1] = str(alone)
    assert main([*argv, "--json", str(out_json), "--out", str(tmp_path / "eval"), "--quiet"]) == 0
    result = json.loads(out_json.read_text())
    assert result["trained_on"] is None and "no metrics.json" in result["note"]
    # other images: nothing said
    other = tmp_path / "other"
    shutil.copytree(data, other)
    argv[1], argv[3] = str(ckpt), str(other)
    assert main([*argv, "--json", str(out_json), "--out", str(tmp_path / "eval"), "--quiet"]) == 0
    assert not {"trained_on", "note"} & json.loads(out_json.read_text()).keys()


def test_a_default_run_on_the_photos_is_known_by_its_description():
    """A run with data None trained on the scikit-image photos (cnn_regression) or on the
    synthetic scenes (the models that need class labels): its own description says which."""
    from tinycolor.evaluate import _trained_on_these

    names = ["astronaut", "coffee", "chelsea"]
    photos = {"metrics": {"data": "the scikit-image photos: 4 training images, ..."}}
    scenes = {"metrics": {"data": "synthetic scenes: 300 images (100 beach, ...)"}}
    assert _trained_on_these("skimage", {"data": None}, photos, None, names)
    assert _trained_on_these("skimage", {"data": "skimage"}, {}, None, names)
    assert not _trained_on_these("skimage", {"data": None}, scenes, ["beach_00001"], names)
    assert _trained_on_these("skimage", {"data": None}, {}, ["chelsea"], names)
    assert not _trained_on_these("skimage", {"data": "/some/folder"}, photos, None, names)


def test_the_numbers_are_written_even_when_samples_png_cannot_be(
    trained, tmp_path, capsys, monkeypatch
):
    """samples.png was written before --json: when it failed, the numbers were lost."""
    from tinycolor import evaluate

    _, data, ckpt = trained

    def fail(*args, **kwargs):
        raise OSError(f"{tmp_path / 'eval' / 'samples.png'}: No space left on device")

    monkeypatch.setattr(evaluate, "write_samples", fail)
    out_json = tmp_path / "e.json"
    argv = ["--checkpoint", str(ckpt), "--data", str(data), "--size", str(SIZE), "--quiet"]
    err = _fails([*argv, "--json", str(out_json), "--out", str(tmp_path / "eval")], capsys, "space")
    assert err.endswith(f"(the numbers were written: --json {out_json})")
    assert json.loads(out_json.read_text())["images"] == len(SHAPES)


def test_an_ensemble_of_networks_of_different_input_sizes_is_refused_in_words(
    trained, tmp_path, capsys
):
    import tinycolor
    from tinycolor.models import cnn_regression
    from tinycolor.runs import checkpoint_meta

    _, data, ckpt = trained
    config = dict(load_model(ckpt)[2], size=24)
    other = tmp_path / "size24.npz"
    meta = checkpoint_meta("cnn_regression", config)
    tinycolor.save(cnn_regression.build_model(config), other, meta=meta)
    argv = ["--checkpoint", str(ckpt), str(other), "--data", str(data), "--out", str(tmp_path)]
    err = _fails(argv, capsys, "must see the images alike, and these do not: ")
    assert f"{ckpt} (resized to the network's 16x16 input, the ab resized back) and " in err
    assert f"{other} (resized to the network's 24x24 input" in err and "takes" not in err
