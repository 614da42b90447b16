"""How much of what the regression colorizers learned carries over: their colour, scaled.

    python benchmarks/colorizer_results.py --seeds 0 1 2 3 4    # first: train the runs
    python benchmarks/shrink_sweep.py --seeds 0 1 2 3 4

Every network that regresses ab (``cnn_regression``, ``cnn_fusion``, ``cnn_koala``) starts
at the training set's mean ab m, the mean-ab baseline. What training adds is the deviation
from it, so this scores, for each run ``colorizer_results.py`` left in ``--results``, the
colour m + s (ab - m) for each s of ``--scales``: s = 0 is the mean-ab baseline, 1 the
network as trained, s between them its colour shrunk toward the mean, s > 1 exaggerated.
If what the network learned holds for the test photos, PSNR rises from s = 0 to some s near
1; if it does not, s = 0 scores best.

As ``temperature_sweep.py`` does for T, each run is scored on its test photos (pooled over
the seeds as the results tables are) and on its own held-out photos (``held_out`` in its
``metrics.json``), and the last row of each table decodes every run at the s that scored
best on its own held-out photos, a choice no test photo has a say in. The network predicts
each set of photos once (``tinycolor.evaluate.predict_images``); the scaled colour is scored
by ``tinycolor.evaluate.score_predictions``, the numbers ``evaluate`` gives. Prints a
markdown table per test set and draws ``--results/shrink.png``: PSNR and colourfulness
against s.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sweeps  # noqa: E402

sys.path.insert(0, str(sweeps.ROOT))
MODELS = ("cnn_regression", "cnn_fusion", "cnn_koala")
SCALE = sweeps.Setting("s", "Scales", "s: colour = mean ab + s (network's ab - mean ab)", 1.0)
SCALES = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25)


def scaled_scores(checkpoint: Path, data, scales, size: int) -> dict:
    """{s: evaluate's numbers for mean ab + s (ab - mean ab)} of one run on one set of photos."""
    from tinycolor.evaluate import predict_images, score_predictions

    p = predict_images(checkpoint, data, size, quiet=True)
    mean_ab = p.config.get("mean_ab")
    if mean_ab is None:
        raise SystemExit(f"{checkpoint}: stores no mean_ab, so its colour cannot be scaled")
    m = np.asarray(mean_ab, np.float32).reshape(2, 1, 1)
    scores = {}
    for s in scales:  # the baselines scored with the first s, and shared by the others
        scaled = [m + s * (ab - m) for ab in p.preds]
        one = score_predictions(p.names, p.labs, scaled, mean_ab, baselines=not scores)
        scores[s] = {**next(iter(scores.values()), {}), **one}
    return scores


def sweep(runs: list[dict], scales, size: int = 256) -> None:
    """Fills run["scores"]["test"][s] and run["scores"]["held-out"][s] for every run and s."""
    from tqdm.auto import tqdm

    t0 = time.time()
    for run in tqdm(runs, desc="runs", unit="run", file=sys.stderr, dynamic_ncols=True):
        checkpoint, held_out = run["dir"] / "model.npz", str(sweeps.held_out_folder(run["dir"]))
        run["scores"] = {
            "test": scaled_scores(checkpoint, run["test"], scales, size),
            "held-out": scaled_scores(checkpoint, held_out, scales, size),
        }
    print(f"{len(runs)} runs in {time.time() - t0:.0f} s", file=sys.stderr)


def main(argv=None) -> int:
    p = sweeps.argument_parser(__doc__, MODELS, "--scales", SCALES)
    args = p.parse_args(argv)
    results = Path(args.results)
    scales = sorted(set(args.scales))
    model_runs = sweeps.model_runs_of(results, args.models, args.seeds)
    if model_runs is None:
        return 2
    sweep([r for runs in model_runs.values() for r in runs], scales, args.size)
    sweeps.report(model_runs, scales, SCALE, results / "shrink.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
