"""What the sweeps over a decoding setting share (``temperature_sweep.py``, ``shrink_sweep.py``):
finding the runs ``colorizer_results.py`` trained, the photos each held out, and the tables
and figure of a setting swept over those runs.

A sweep fills ``run["scores"][where][value]`` for ``where`` in ("test", "held-out"): one
evaluation (``tinycolor.evaluate``'s numbers) of the run decoded with that value of the
setting, on its test photos or on its own held-out photos.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from colorizer_results import pooled  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def argument_parser(doc: str, models, flag: str, values) -> argparse.ArgumentParser:
    """The options every sweep takes: --results, --models, --seeds, --size, and ``flag`` (the
    swept values, default ``values``)."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument(
        "--results",
        default=str(ROOT / "runs" / "results"),
        help="the --out folder of colorizer_results.py",
    )
    p.add_argument("--models", nargs="+", default=list(models), choices=models)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument(flag, type=float, nargs="+", default=list(values))
    p.add_argument("--size", type=int, default=256, help="evaluate's --size (short side)")
    return p


def runs_of(results: Path, model: str, seeds) -> list[dict]:
    """The trained runs of ``model``: {dir, test (data for evaluate), what (skimage | kodak)}."""
    runs = []
    for seed in seeds:
        for run_dir in sorted((results / model / f"seed{seed}").glob("*")):
            # a complete run: train writes metrics.json after model.npz (a killed run has one)
            if not (run_dir / "model.npz").is_file() or not (run_dir / "metrics.json").is_file():
                continue
            if run_dir.name == "all":
                runs.append(dict(dir=run_dir, test="skimage", what="skimage"))
            elif run_dir.name.startswith("fold"):
                test = results / run_dir.name / "test"
                runs.append(dict(dir=run_dir, test=str(test), what="kodak"))
    return runs


def model_runs_of(results: Path, models, seeds) -> dict | None:
    """{model: its runs} for ``runs_of``; None, after a line on stderr, if a model has none."""
    model_runs = {m: runs_of(results, m, seeds) for m in models}
    missing = [m for m, runs in model_runs.items() if not runs]
    if missing:
        print(
            f"{results}: no trained runs of {', '.join(missing)} for seeds {list(seeds)}; "
            "run benchmarks/colorizer_results.py first",
            file=sys.stderr,
        )
        return None
    return model_runs


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


class Setting:
    """The swept setting, as the tables and the figure name it."""

    def __init__(self, symbol: str, plural: str, axis: str, default: float):
        self.symbol, self.plural, self.axis, self.default = symbol, plural, axis, default


def chosen(run: dict) -> float:
    """The value whose decoding scored the best PSNR on the run's own held-out photos."""
    held = run["scores"]["held-out"]
    return max(held, key=lambda v: held[v]["model"]["psnr"])


def table(model_runs: dict, values, what: str, setting: Setting) -> tuple[str, dict]:
    """The markdown table of one test set and its numbers: {model: {value or 'held-out':
    scores}}."""
    numbers = {}
    for model, runs in model_runs.items():
        runs = [r for r in runs if r["what"] == what]
        rows = {v: pooled([r["scores"]["test"][v] for r in runs], "model") for v in values}
        rows["chosen"] = [chosen(r) for r in runs]
        picked = [r["scores"]["test"][v] for r, v in zip(runs, rows["chosen"])]
        rows["held-out"] = pooled(picked, "model")
        rows["held-out psnr"] = {
            v: pooled([r["scores"]["held-out"][v] for r in runs], "model")["psnr"] for v in values
        }
        every = [r["scores"]["test"][values[0]] for r in runs]
        rows["gray"], rows["mean_ab"] = pooled(every, "gray"), pooled(every, "mean_ab")
        rows["half_truth"] = float(np.mean([e["truth"]["colorfulness"] for e in every])) / 2
        numbers[model] = rows
    first = next(iter(numbers.values()))
    head = [setting.symbol] + [
        f"`{m}` {k}" for m in numbers for k in ("PSNR", "AuC", "colourfulness")
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]

    def cells(scores):
        return [f"{scores['psnr']:.2f}", f"{scores['auc']:.3f}", f"{scores['colorfulness']:.1f}"]

    def line(label, pick):
        row = [c for n in numbers.values() for c in cells(pick(n))]
        return f"| {label} | " + " | ".join(row) + " |"

    lines += [line(f"{v:g}", lambda n, v=v: n[v]) for v in values]
    lines.append(line("chosen on held-out photos", lambda n: n["held-out"]))
    lines.append(line("gray baseline", lambda n: first["gray"]))
    lines.append(line("mean-ab baseline", lambda n: first["mean_ab"]))
    picked = " / ".join(
        f"{m}: " + ", ".join(f"{v:g}" for v in n["chosen"]) for m, n in numbers.items()
    )
    on_held_out = " / ".join(
        f"{m}: " + ", ".join(f"{v:g} {x:.2f}" for v, x in n["held-out psnr"].items())
        for m, n in numbers.items()
    )
    lines.append(
        f"\nHalf the truth's colourfulness: {first['half_truth']:.1f}. {setting.plural} chosen "
        f"on the held-out photos, run by run: {picked}. PSNR on the held-out photos of all "
        f"these runs, pooled, at each {setting.symbol}: {on_held_out}."
    )
    return "\n".join(lines), numbers


def figure(numbers: dict, values, path: Path, setting: Setting) -> None:
    """PSNR and colourfulness against the setting, one row per test set, the baselines as
    lines."""
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
                ax.plot(values, [n[v][key] for v in values], "o-", label=model)
            if key == "psnr":
                ax.axhline(first["gray"][key], color="0.5", ls="--", label="gray (ab = 0)")
                ax.axhline(first["mean_ab"][key], color="0.2", ls=":", label="mean ab")
            else:
                ax.axhline(first["half_truth"], color="0.5", ls="--", label="half the truth's")
            ax.axvline(setting.default, color="0.8", lw=0.8)
            ax.set_xlabel(setting.axis)
            ax.set_ylabel(label)
            ax.set_title(f"{titles.get(what, what)}: {label}")
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def report(model_runs: dict, values, setting: Setting, path: Path) -> None:
    """Prints the markdown table of each test set the runs have, and draws the figure."""
    texts, numbers = [], {}
    for what in ("skimage", "kodak"):
        if any(r["what"] == what for runs in model_runs.values() for r in runs):
            text, numbers[what] = table(model_runs, values, what, setting)
            title = "scikit-image's photos" if what == "skimage" else "Kodak folds"
            texts.append(f"**{title}**\n\n{text}")
    print("\n\n".join(texts))
    figure(numbers, values, path, setting)
    print(f"\nwrote {path}", file=sys.stderr)
