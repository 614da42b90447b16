"""The README's results tables: every CNN colorizer trained on Kodak, scored on photos it never saw.

    python benchmarks/colorizer_results.py                         # all five, both tables
    python benchmarks/colorizer_results.py --models cnn_regression --folds 0
    python benchmarks/colorizer_results.py --train-args "--epochs 5"   # a quick look
    python benchmarks/colorizer_results.py --train-args "--epochs 0"   # the networks untrained
    python benchmarks/colorizer_results.py --seeds 0 1 2 3 4 --ensemble  # and their ensembles

Two measurements, each beside the gray (ab = 0) and mean-ab baselines on the same pixels:

1. **skimage**: each model trained with its defaults on the whole Kodak folder (``--kodak``,
   16 photos), then ``python -m tinycolor.evaluate --data skimage``: scikit-image's bundled
   colour photos, whole images at short side 256.
2. **Kodak k-fold** (``--folds``, 4 by default): the 16 photos split into k groups (a fixed
   shuffle); for each group a model is trained on the other photos and evaluated on that
   group's whole images. Every photo is a test photo once, seen by a model that never trained
   on it. The scores of the k evaluations are pooled per image (PSNR, SSIM, colourfulness
   averaged over all test photos; acc10 and the AuC weighted by pixels, as ``evaluate``).

With several ``--seeds`` every run is repeated per seed (which also changes the photos a run
holds out for ``--keep best``) and the tables pool all of them: on a dozen photos the seed
alone moves a model's colourfulness by a factor of several, and one seed says little.

With ``--ensemble`` each model's runs with the seeds given are also scored as one ensemble
(``evaluate --checkpoint A B ...``: their predicted ab averaged; its mean-ab baseline the mean
of theirs), on each test set, in two more tables: ``--out/MODEL/ensemble-0-1-.../``.

Each training and evaluation is its own ``python -m tinycolor.train`` / ``evaluate`` process
(``--jobs`` at a time, one BLAS thread each, which uses two cores better than one job with
two), writing into ``--out`` (default ``runs/results/``); a finished one (its ``eval.json``
exists) is not run again, so an interrupted run resumes (a finished training whose eval.json
is missing, or older than its per-class sums, is only scored again). The fold folders hold
links to the photos, not copies. Prints the two markdown tables and writes them with the raw
numbers to ``--out/results.json``, and the skimage table as a picture, ``--out/skimage.jpg``:
each photo gray, as every model of the first seed coloured it (titled with its PSNR there),
and true.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("cnn_regression", "cnn_classification", "cnn_fusion", "cnn_koala", "cnn_resnet")
KEYS = ("psnr", "ssim", "acc10", "auc", "auc_rebalanced", "colorfulness")
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff")


def fold_folders(kodak: Path, k: int, out: Path, seed: int = 7) -> list[tuple[Path, Path]]:
    """k (train, test) folders of links to the photos of ``kodak``: a fixed shuffle cut into
    k groups, each group the test folder of one fold."""
    photos = sorted(p for p in kodak.iterdir() if p.suffix.lower() in IMAGE_EXTS)
    if len(photos) < 2 * k:
        raise SystemExit(f"{kodak}: {len(photos)} photos are too few for {k} folds")
    # the folds of an --out folder are fixed once made: other folds into the same folder would
    # add links to the old ones (photos in both train and test) and reuse the old runs
    split = {"kodak": str(kodak.resolve()), "folds": k, "seed": seed}
    marker = out / "folds.json"
    if marker.exists() and json.loads(marker.read_text()) != split:
        old = json.loads(marker.read_text())
        raise SystemExit(
            f"{out} holds the runs of a {old.get('folds')}-fold split of {old.get('kodak')}; "
            f"give another --out for {k} folds of {kodak}"
        )
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(split) + "\n")
    order = [photos[i] for i in np.random.default_rng(seed).permutation(len(photos))]
    groups = [order[i::k] for i in range(k)]
    folders = []
    for i, test in enumerate(groups):
        pair = (out / f"fold{i}" / "train", out / f"fold{i}" / "test")
        for folder, members in zip(pair, ([p for p in photos if p not in test], test)):
            folder.mkdir(parents=True, exist_ok=True)
            for p in members:
                link = folder / p.name
                if not link.exists():
                    try:
                        link.symlink_to(p.resolve())
                    except OSError:  # no symlinks here (some Windows setups): copy
                        shutil.copyfile(p, link)
        folders.append(pair)
    return folders


def _run_commands(run_dir: Path, commands) -> None:
    """Run each (argv after ``python -m``, log file name) in turn in its own process (one BLAS
    thread), its output into ``run_dir``/log; a failure ends the script naming the log."""
    run_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    t0 = time.time()
    for args, log in commands:
        cmd = [sys.executable, "-m", *args]
        with open(run_dir / log, "w") as f:
            done = subprocess.run(cmd, cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT)
        if done.returncode:
            raise SystemExit(f"failed ({done.returncode}): {shlex.join(cmd)}; see {f.name}")
    print(f"  {run_dir}: {time.time() - t0:.0f} s", file=sys.stderr)


def _scored(result: Path) -> bool:
    """Whether ``result`` is an eval.json of this version of ``evaluate``: one that holds the
    per-class sums that pool the rebalanced AuC (an older one is scored again)."""
    try:
        return json.loads(result.read_text()).get("auc_classes") is not None
    except (OSError, ValueError, AttributeError):
        return False


def run_job(job: dict) -> dict:
    """Train one model (unless its run folder holds a finished run) and evaluate it (unless
    its eval.json is there and of this version of ``evaluate``)."""
    from tinycolor.runs import run_finished

    run_dir = Path(job["dir"])
    result = run_dir / "eval.json"
    commands = []
    if not run_finished(run_dir):
        commands.append((["tinycolor.train", job["model"], "--data", job["train"], "--out",
                          str(run_dir), "--quiet", *job["args"]], "train.log"))  # fmt: skip
    if commands or not _scored(result):
        commands.append((["tinycolor.evaluate", "--checkpoint", str(run_dir / "model.npz"),
                          "--data", job["test"], "--json", str(result)], "eval.log"))  # fmt: skip
    if commands:
        _run_commands(run_dir, commands)
    return json.loads(result.read_text())


def run_ensemble(job: dict) -> dict:
    """Evaluate the ensemble of the checkpoints ``job["members"]`` (one model's runs with
    different seeds) on ``job["test"]`` (skipped when its eval.json exists)."""
    run_dir = Path(job["dir"])
    result = run_dir / "eval.json"
    if not _scored(result):
        evaluate = ["tinycolor.evaluate", "--checkpoint", *job["members"], "--data",
                    job["test"], "--out", str(run_dir), "--json", str(result)]  # fmt: skip
        _run_commands(run_dir, [(evaluate, "eval.log")])
    return json.loads(result.read_text())


def pooled_truth(evals: list[dict]) -> float:
    """The truth's colourfulness over the images of several evaluations: each evaluation's is
    its images' mean, so they weigh by their number of images (folds of 6, 5 and 5 photos)."""
    values = [e["truth"]["colorfulness"] for e in evals]
    return float(np.average(values, weights=[e["images"] for e in evals]))


def pooled(evals: list[dict], who: str) -> dict:
    """Scores of several evaluations pooled as one: image averages weighted by image count,
    pixel-pooled ones by pixel count (as ``evaluate`` pools its own images); the rebalanced
    AuC over the colour classes of all their pixels, as if they were one evaluation: the sums
    of its terms and the pixel counts of each class added up (``auc_classes``), then the
    mean over the classes of their AuC."""
    from tinycolor.color import ab_bins
    from tinycolor.metrics import class_mean

    out = {}
    for key in KEYS:
        if key == "auc_rebalanced":
            continue
        pairs = []
        for e in evals:
            if e.get(who) is None or e[who].get(key) is None:
                continue
            pixels = sum(a * b for a, b in (im["shape"] for im in e["per_image"]))
            pairs.append((e[who][key], pixels if key in ("acc10", "auc") else e["images"]))
        if pairs:
            v, w = np.array(pairs, dtype=np.float64).T
            out[key] = float(np.sum(v * w) / np.sum(w))
    sums, counts = np.zeros((2, len(ab_bins())))  # the rebalanced AuC's colour classes
    for e in evals:
        classes = e.get("auc_classes") or {}
        if e.get(who) is not None and who in classes:
            np.add.at(sums, classes["bins"], classes[who])
            np.add.at(counts, classes["bins"], classes["pixels"])
    rebalanced = class_mean(sums, counts)
    if rebalanced is not None:
        out["auc_rebalanced"] = rebalanced
    return {key: out[key] for key in KEYS if key in out}


def table(rows: dict, baselines: dict, truth: float, title: str) -> str:
    head = ["", "PSNR", "SSIM", "acc10", "AuC", "AuC rebalanced", "colorfulness"]
    lines = [f"**{title}**", "", "| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]

    def fmt(scores):
        return [f"{scores[k]:.2f}" if k in ("psnr", "colorfulness") else f"{scores[k]:.3f}"
                if scores.get(k) is not None else "" for k in KEYS]  # fmt: skip

    for name, scores in rows.items():
        lines.append("| " + " | ".join([f"`{name}`", *fmt(scores)]) + " |")
    for name, scores in baselines.items():
        lines.append("| " + " | ".join([name, *fmt(scores)]) + " |")
    lines.append("| truth |" + " |" * 5 + f" {truth:.2f} |")
    return "\n".join(lines)


def results_figure(checkpoints: dict, data, path, size: int = 256) -> dict:
    """One row per image of ``data`` (short side ``size``): gray | each checkpoint's
    colorization, titled with its PSNR on that image | truth. ``checkpoints`` maps column
    titles to model.npz files. Every image is first centre-cropped to a multiple of all the
    models' strides, so a row's panels show the same pixels. Returns {title: [PSNR per image]}."""
    from tinycolor import viz
    from tinycolor.evaluate import input_mode, load_images, predict_image_ab, prepare_lab
    from tinycolor.models.lab_common import _lab_to_rgb_batch, score
    from tinycolor.runs import load_model

    loaded = {title: load_model(ckpt) for title, ckpt in checkpoints.items()}
    modes = {title: input_mode(module, model) for title, (module, model, _, _) in loaded.items()}
    multiple = math.lcm(*(n for kind, n in modes.values() if kind == "stride"))
    names, labs, _ = load_images(data, size)
    labs = [prepare_lab(lab, ("stride", multiple)) for lab in labs]
    panels, psnrs = [], {title: [] for title in loaded}
    for name, lab in zip(names, labs):
        L = lab[None, None, :, :, 0]
        ab_true = np.ascontiguousarray(lab.transpose(2, 0, 1)[None, 1:])
        row = [(f"{name}: gray", lab[..., 0] / 100.0)]
        for title, (module, model, config, _) in loaded.items():
            ab = predict_image_ab(module, model, lab, config, modes[title])[None]
            psnrs[title].append(score(L, ab, ab_true)["psnr"])
            row.append((f"{title}: {psnrs[title][-1]:.2f} dB", _lab_to_rgb_batch(L, ab)[0]))
        panels += [*row, ("truth", _lab_to_rgb_batch(L, ab_true)[0])]
    viz.image_grid(panels, path, ncols=len(loaded) + 2, panel_inches=2.4)
    return psnrs


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kodak", default=str(ROOT.parent / "shared" / "datasets" / "kodak"))
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--folds", type=int, default=4, help="k of the Kodak k-fold (0: none)")
    p.add_argument("--no-skimage", action="store_true", help="skip the skimage table")
    p.add_argument("--train-args", default="", help="extra options for every training run")
    p.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0],
        help="train each model once per seed (--seed; it also picks the held-out photos); the "
        "tables average over the seeds",
    )
    p.add_argument(
        "--ensemble",
        action="store_true",
        help="also score, for each model and test set, the ensemble of its runs with the "
        "seeds given (evaluate --checkpoint A B ...: their ab averaged), in tables of their own",
    )
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", default=str(ROOT / "runs" / "results"))
    args = p.parse_args(argv)
    if args.folds < 0 or args.folds == 1:
        p.error(f"--folds {args.folds}: k must be 0 (no folds) or at least 2")
    args.seeds = list(dict.fromkeys(args.seeds))  # a seed given twice: one run, not two at once
    if args.ensemble and len(args.seeds) < 2:  # before any model trains, not hours after
        p.error("--ensemble needs at least two --seeds")
    kodak, out = Path(args.kodak), Path(args.out)
    if not kodak.is_dir():
        print(f"--kodak {kodak}: no such folder (the Kodak photos are not part of the project)")
        return 2
    extra = shlex.split(args.train_args)
    jobs = []
    folds = fold_folders(kodak, args.folds, out) if args.folds else []
    for model in args.models:
        for seed in args.seeds:
            where, opts = out / model / f"seed{seed}", [*extra, "--seed", str(seed)]
            if not args.no_skimage:
                jobs.append(dict(model=model, name="skimage", dir=where / "all",
                                 train=str(kodak), test="skimage", args=opts))  # fmt: skip
            for i, (train, test) in enumerate(folds):
                jobs.append(dict(model=model, name=f"fold {i}", dir=where / f"fold{i}",
                                 train=str(train), test=str(test), args=opts))  # fmt: skip
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        evals = list(pool.map(run_job, jobs))
    sets = (["skimage"] if not args.no_skimage else []) + (["kodak"] if args.folds else [])
    kinds = [(what, False) for what in sets]
    if args.ensemble:
        tag = "ensemble-" + "-".join(map(str, args.seeds))
        ensembles = []
        for model in args.models:
            for name in dict.fromkeys(j["name"] for j in jobs):
                members = [j for j in jobs if j["model"] == model and j["name"] == name]
                ensembles.append(dict(model=model, name=name, test=members[0]["test"],
                                      dir=out / model / tag / Path(members[0]["dir"]).name,
                                      members=[str(Path(j["dir"]) / "model.npz")
                                               for j in members]))  # fmt: skip
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            ensemble_evals = list(pool.map(run_ensemble, ensembles))
        kinds += [(what, True) for what in sets]
    results, tables = {}, []
    for what, ensemble in kinds:
        done = zip(ensembles, ensemble_evals) if ensemble else zip(jobs, evals)
        picked = [(j, e) for j, e in done if (j["name"] == "skimage") == (what == "skimage")]
        rows = {m: pooled([e for j, e in picked if j["model"] == m], "model") for m in args.models}
        every = [e for _, e in picked]
        base = {"gray baseline (ab = 0)": pooled(every, "gray")}
        # the mean-ab baseline is each model's own training set's; the models' agree when they
        # train on the same photos, so the first model's stands for all
        first = [e for j, e in picked if j["model"] == args.models[0]]
        base["mean-ab baseline"] = pooled(first, "mean_ab")
        truth = pooled_truth(first)
        title = (
            "scikit-image's photos (models given all of Kodak)"
            if what == "skimage"
            else f"Kodak, {args.folds}-fold (each photo scored by a model that never saw it)"
        )
        if ensemble:
            seeds = ", ".join(map(str, args.seeds))
            title += f", each model the ensemble of its runs with seeds {seeds}, ab averaged"
            # the mean-ab baseline of an ensemble is the mean of its members' mean ab
        tables.append(table(rows, base, truth, title))
        key = f"{what}_ensemble" if ensemble else what
        results[key] = {"models": rows, "baselines": base, "truth_colorfulness": truth}
    text = "\n\n".join(tables)
    print(text)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({**results, "tables": text}, indent=1))
    if not args.no_skimage:
        seed = args.seeds[0]
        ckpts = {m: out / m / f"seed{seed}" / "all" / "model.npz" for m in args.models}
        figure = out / "skimage.jpg"
        results_figure(ckpts, "skimage", figure)
        print(f"\nwrote {figure} (seed {seed}'s models on the skimage photos)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
