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
against T. Each evaluation's numbers are kept as ``T<t>-test-<size>px.json`` /
``T<t>-held-out-<size>px.json`` in its run folder (``<size>``: ``--size``, so a sweep at another
size does not reuse them), so an interrupted sweep resumes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sweeps  # noqa: E402

MODELS = ("cnn_classification", "cnn_resnet")
TEMPERATURE = sweeps.Setting(
    "T", "Temperatures", "annealed-mean temperature T (0.38: the default)", 0.38
)
TEMPERATURES = (0.1, 0.2, 0.38, 0.5, 0.7, 1.0)


def evaluate(job: dict) -> dict:
    """``evaluate --temperature`` of one run on one set of photos (kept; not run again)."""
    out = Path(job["json"])
    if not out.exists():
        cmd = [sys.executable, "-m", "tinycolor.evaluate", "--checkpoint", job["checkpoint"]]
        cmd += ["--data", job["data"], "--size", str(job["size"]), "--quiet"]
        cmd += ["--temperature", str(job["t"]), "--json", str(out)]
        cmd += ["--out", str(out.with_suffix("")), "--samples", "1"]
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
        done = subprocess.run(cmd, cwd=sweeps.ROOT, env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stderr}")
    return json.loads(out.read_text())


def sweep(runs: list[dict], temperatures, jobs: int, size: int = 256) -> None:
    """Fills run["scores"]["test"][t] and run["scores"]["held-out"][t] with evaluate's
    numbers for every run and T."""
    todo = []
    for run in runs:
        held = str(sweeps.held_out_folder(run["dir"]))
        run["scores"] = {"test": {}, "held-out": {}}
        for t in temperatures:
            for where, data in (("test", run["test"]), ("held-out", held)):
                job = {
                    "checkpoint": str(run["dir"] / "model.npz"),
                    "data": data,
                    "t": t,
                    "size": size,
                    # kept per T and size: a sweep at another --size must not reuse these
                    "json": str(run["dir"] / f"T{t:g}-{where}-{size}px.json"),
                }
                todo.append((run, where, t, job))
    t0 = time.time()
    new = sum(not Path(job["json"]).exists() for *_, job in todo)
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        for (run, where, t, _), result in zip(todo, pool.map(evaluate, [j for *_, j in todo])):
            run["scores"][where][t] = result
    print(
        f"{len(todo)} evaluations ({new} run now, the rest kept from before) in "
        f"{time.time() - t0:.0f} s",
        file=sys.stderr,
    )


def main(argv=None) -> int:
    p = sweeps.argument_parser(__doc__, MODELS, "--temperatures", TEMPERATURES)
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args(argv)
    results = Path(args.results)
    temperatures = sorted(set(args.temperatures))
    if min(temperatures) < 0:
        p.error("--temperatures must be >= 0")
    model_runs = sweeps.model_runs_of(results, args.models, args.seeds)
    if model_runs is None:
        return 2
    sweep([r for runs in model_runs.values() for r in runs], temperatures, args.jobs, args.size)
    sweeps.report(model_runs, temperatures, TEMPERATURE, results / "temperature.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
