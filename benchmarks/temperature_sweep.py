"""The annealed-mean temperature T of the classification colorizers, swept on trained runs.

    python benchmarks/colorizer_results.py --seeds 0 1 2 3 4    # first: train the runs
    python benchmarks/temperature_sweep.py --seeds 0 1 2 3 4

T only turns a predicted distribution over the ab bins into one ab per pixel (1: its mean,
0: its mode; Zhang et al. chose 0.38), so one trained network can be scored at every T. For
each run of ``cnn_classification`` and ``cnn_resnet`` (``--loss ce``) that
``colorizer_results.py`` left in ``--results``, this scores the run at each T of
``--temperatures`` with ``python -m tinycolor.evaluate --temperature T``:

- on the run's test photos (scikit-image's photos for the runs given all of Kodak, the
  fold's four photos for the Kodak k-fold runs), pooled over the seeds as the results
  tables are;
- on the run's own held-out photos (``held_out`` in its ``metrics.json``, from the folder it
  trained on), which the last row of each table uses: every run decoded at the T with the
  best PSNR on its own held-out photos, a choice no test photo has a say in.

Prints a markdown table per test set (beside the gray and mean-ab baselines and half the
truth's colourfulness) and draws ``--results/temperature.png``: PSNR and colourfulness
against T. Each evaluation's numbers are kept as ``T<t>-test.json`` / ``T<t>-held-out.json``
in its run folder, so an interrupted sweep resumes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from colorizer_results import pooled  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("cnn_classification", "cnn_resnet")
TEMPERATURES = (0.1, 0.2, 0.38, 0.5, 0.7, 1.0)


def runs_of(results: Path, model: str, seeds) -> list[dict]:
    """The trained runs of ``model``: {dir, test (data for evaluate), what (skimage | kodak)}."""
    runs = []
    for seed in seeds:
        for run_dir in sorted((results / model / f"seed{seed}").glob("*")):
            if not (run_dir / "model.npz").is_file():
                continue
            if run_dir.name == "all":
                runs.append(dict(dir=run_dir, test="skimage", what="skimage"))
            elif run_dir.name.startswith("fold"):
                test = results / run_dir.name / "test"
                runs.append(dict(dir=run_dir, test=str(test), what="kodak"))
    return runs


def held_out_folder(run_dir: Path) -> Path:
    """A folder of links to the photos the run held out from its training folder."""
    metrics = json.loads((run_dir / "metrics.json").read_text())
    names = metrics.get("held_out")
    if not names:
        raise SystemExit(
            f"{run_dir}/metrics.json names no held-out photos (a run of an older tinycolor); "
            "train it again with colorizer_results.py"
        )
    source = Path(metrics["config"]["data"])
    folder = run_dir / "held-out"
    folder.mkdir(exist_ok=True)
    for name in names:
        link = folder / name
        if not link.exists():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to((source / name).resolve())
    return folder


def evaluate(job: dict) -> dict:
    """``evaluate --temperature`` of one run on one set of photos (kept; not run again)."""
    out = Path(job["json"])
    if not out.exists():
        cmd = [sys.executable, "-m", "tinycolor.evaluate", "--checkpoint", job["checkpoint"]]
        cmd += ["--data", job["data"], "--size", str(job["size"]), "--quiet"]
        cmd += ["--temperature", str(job["t"]), "--json", str(out)]
        cmd += ["--out", str(out.with_suffix("")), "--samples", "1"]
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stderr}")
    return json.loads(out.read_text())


def sweep(runs: list[dict], temperatures, jobs: int, size: int = 256) -> None:
    """Fills run["scores"]["test"][t] and run["scores"]["held-out"][t] with evaluate's
    numbers for every run and T."""
    todo = []
    for run in runs:
        held = str(held_out_folder(run["dir"]))
        run["scores"] = {"test": {}, "held-out": {}}
        for t in temperatures:
            for where, data in (("test", run["test"]), ("held-out", held)):
                job = {
                    "checkpoint": str(run["dir"] / "model.npz"),
                    "data": data,
                    "t": t,
                    "size": size,
                    "json": str(run["dir"] / f"T{t:g}-{where}.json"),
                }
                todo.append((run, where, t, job))
    t0 = time.time()
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        for (run, where, t, _), result in zip(todo, pool.map(evaluate, [j for *_, j in todo])):
            run["scores"][where][t] = result
    print(f"{len(todo)} evaluations in {time.time() - t0:.0f} s", file=sys.stderr)


def chosen(run: dict) -> float:
    """The T whose decoding scored the best PSNR on the run's own held-out photos."""
    held = run["scores"]["held-out"]
    return max(held, key=lambda t: held[t]["model"]["psnr"])


def table(model_runs: dict, temperatures, what: str) -> tuple[str, dict]:
    """The markdown table of one test set and its numbers: {model: {T or 'held-out': scores}}."""
    numbers = {}
    for model, runs in model_runs.items():
        runs = [r for r in runs if r["what"] == what]
        rows = {t: pooled([r["scores"]["test"][t] for r in runs], "model") for t in temperatures}
        rows["chosen"] = [chosen(r) for r in runs]
        picked = [r["scores"]["test"][t] for r, t in zip(runs, rows["chosen"])]
        rows["held-out"] = pooled(picked, "model")
        rows["held-out psnr"] = {
            t: pooled([r["scores"]["held-out"][t] for r in runs], "model")["psnr"]
            for t in temperatures
        }
        every = [r["scores"]["test"][temperatures[0]] for r in runs]
        rows["gray"], rows["mean_ab"] = pooled(every, "gray"), pooled(every, "mean_ab")
        rows["half_truth"] = float(np.mean([e["truth"]["colorfulness"] for e in every])) / 2
        numbers[model] = rows
    first = next(iter(numbers.values()))
    head = ["T"] + [f"`{m}` {k}" for m in numbers for k in ("PSNR", "AuC", "colourfulness")]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]

    def cells(scores):
        return [f"{scores['psnr']:.2f}", f"{scores['auc']:.3f}", f"{scores['colorfulness']:.1f}"]

    def line(label, pick):
        row = [c for n in numbers.values() for c in cells(pick(n))]
        return f"| {label} | " + " | ".join(row) + " |"

    lines += [line(f"{t:g}", lambda n, t=t: n[t]) for t in temperatures]
    lines.append(line("chosen on held-out photos", lambda n: n["held-out"]))
    lines.append(line("gray baseline", lambda n: first["gray"]))
    lines.append(line("mean-ab baseline", lambda n: first["mean_ab"]))
    picked = " / ".join(
        f"{m}: " + ", ".join(f"{t:g}" for t in n["chosen"]) for m, n in numbers.items()
    )
    on_held_out = " / ".join(
        f"{m}: " + ", ".join(f"{t:g} {v:.2f}" for t, v in n["held-out psnr"].items())
        for m, n in numbers.items()
    )
    lines.append(
        f"\nHalf the truth's colourfulness: {first['half_truth']:.1f}. Temperatures chosen on "
        f"the held-out photos, run by run: {picked}. PSNR on the held-out photos of all these "
        f"runs, pooled, at each T: {on_held_out}."
    )
    return "\n".join(lines), numbers


def figure(numbers: dict, temperatures, path: Path) -> None:
    """PSNR and colourfulness against T, one row per test set, the baselines as lines."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    sets = list(numbers)
    fig = Figure(figsize=(10, 3.6 * len(sets)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(sets), 2, squeeze=False)
    titles = {"skimage": "scikit-image's photos", "kodak": "Kodak folds"}
    for row, what in zip(axes, sets):
        by_model = numbers[what]
        first = next(iter(by_model.values()))
        panels = ((row[0], "psnr", "PSNR (dB)"), (row[1], "colorfulness", "colourfulness"))
        for ax, key, label in panels:
            for model, n in by_model.items():
                ax.plot(temperatures, [n[t][key] for t in temperatures], "o-", label=model)
            if key == "psnr":
                ax.axhline(first["gray"][key], color="0.5", ls="--", label="gray (ab = 0)")
                ax.axhline(first["mean_ab"][key], color="0.2", ls=":", label="mean ab")
            else:
                ax.axhline(first["half_truth"], color="0.5", ls="--", label="half the truth's")
            ax.axvline(0.38, color="0.8", lw=0.8)
            ax.set_xlabel("annealed-mean temperature T (0.38: the default)")
            ax.set_ylabel(label)
            ax.set_title(f"{titles.get(what, what)}: {label}")
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--results",
        default=str(ROOT / "runs" / "results"),
        help="the --out folder of colorizer_results.py",
    )
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--temperatures", type=float, nargs="+", default=list(TEMPERATURES))
    p.add_argument("--size", type=int, default=256, help="evaluate's --size (short side)")
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args(argv)
    results = Path(args.results)
    temperatures = sorted(set(args.temperatures))
    if min(temperatures) < 0:
        p.error("--temperatures must be >= 0")
    model_runs = {m: runs_of(results, m, args.seeds) for m in args.models}
    missing = [m for m, runs in model_runs.items() if not runs]
    if missing:
        print(
            f"{results}: no trained runs of {', '.join(missing)} for seeds {args.seeds}; "
            "run benchmarks/colorizer_results.py first",
            file=sys.stderr,
        )
        return 2
    sweep([r for runs in model_runs.values() for r in runs], temperatures, args.jobs, args.size)
    texts, numbers = [], {}
    for what in ("skimage", "kodak"):
        if any(r["what"] == what for runs in model_runs.values() for r in runs):
            text, numbers[what] = table(model_runs, temperatures, what)
            title = "scikit-image's photos" if what == "skimage" else "Kodak folds"
            texts.append(f"**{title}**\n\n{text}")
    print("\n\n".join(texts))
    path = results / "temperature.png"
    figure(numbers, temperatures, path)
    print(f"\nwrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
