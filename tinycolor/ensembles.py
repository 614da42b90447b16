"""Ensembles of runs: ``python -m tinycolor.train MODEL --ensemble K``.

On a dozen training photos the seed alone moves a run's colours a lot, and averaging several
runs' predicted ab keeps what they agree on (README, "Ensembles of the five seeds' runs").
``--ensemble K`` trains K networks of one colorizer that differ only in their ``--seed``
(``seed``, ``seed + 1``, ...: initial weights, crops, shuffling) and share their data: every
member runs with ``--split-seed`` = the command's split seed (its ``--split-seed``, else its
``--seed``), so all hold out the same photos, and the ensemble is scored on photos none of
its members trained on. The folder it writes (``--out``)::

    ensemble.json       the model, the members' folders and seeds, the shared configuration
    seed0/ seed1/ ...   each member's own run folder (model.npz, metrics.json, figures)
    metrics.json        the ensemble's scores on the held-out tiles (the mean of its
                        members' ab), beside the gray and mean-ab baselines, and each
                        member's headline scores
    comparison.png      held-out tiles and the first held-out photo: gray | ensemble | truth
    members.png         held-out tiles: gray | each member | the ensemble | truth, with PSNRs

The members train one after another, each a whole run. A command stopped midway (Ctrl-C, a
crash) keeps the members it finished and the stopped member's training state:
``python -m tinycolor.train --resume OUT`` trains what is left (the same command again does
too) and then scores the ensemble. ``colorize`` and ``evaluate`` take the folder as their
``--checkpoint`` (its members' model.npz, as one ensemble).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

import numpy as np

from . import backend, models
from .runs import (
    ENSEMBLE_FILE,
    ENSEMBLE_FORMAT,
    format_table,
    load_models,
    make_run_dir,
    run_finished,
    summary_rows,
    to_jsonable,
    write_json,
)
from .train import PROG, TRAINING_STATE, UsageError, go_on_device, resume, run

#: Options an ensemble's command fixes per member, so not part of its shared configuration.
MEMBER_KEYS = ("seed", "split_seed")


class Ensemble:
    """Trained networks of one colorizer as one: its ``predict_ab`` (this module's) is the
    mean of theirs. Duck-types the little of a Module that ``lab_common``'s scoring touches
    (``training``, ``train``, ``eval``, ``device``)."""

    def __init__(self, module, members):
        self.module = module
        self.members = list(members)  # (network, its configuration) of each member
        self.training = False

    @property
    def device(self):
        return self.members[0][0].device

    def train(self, mode: bool = True):
        for net, _ in self.members:
            net.train(mode)
        self.training = bool(mode)
        return self

    def eval(self):
        return self.train(False)


def predict_ab(ensemble: Ensemble, L_net, config, device=None) -> np.ndarray:
    """The mean of the members' ab (N, 2, H, W) for network inputs ``L_net``; each member
    decodes with its own configuration (its annealed-mean T, say)."""
    from .models.lab_common import host_array  # noqa: PLC0415

    total = None
    for net, cfg in ensemble.members:
        ab = np.asarray(host_array(ensemble.module.predict_ab(net, L_net, cfg, device)), np.float32)
        total = ab if total is None else total + ab
    return total / len(ensemble.members)


def mean_colour(pictures):
    """The uint8 RGB picture whose ab is the mean of the pictures' ab (in Lab), on the first
    one's lightness: the members' colours of one image, as one."""
    from .color import lab_to_rgb, rgb_to_lab  # noqa: PLC0415

    labs = [np.asarray(rgb_to_lab(np.asarray(p, np.float32) / 255.0)) for p in pictures]
    lab = labs[0].copy()
    lab[..., 1:] = np.mean([x[..., 1:] for x in labs], axis=0)
    rgb = np.clip(np.asarray(lab_to_rgb(lab)), 0.0, 1.0)
    return np.round(rgb * 255.0).astype(np.uint8)


def can_ensemble(module) -> bool:
    """Whether ``--ensemble`` applies to the model: a colorizer that predicts ab
    (``predict_ab``) from data split by ``--split-seed``: the five CNN colorizers."""
    return hasattr(module, "predict_ab") and "split_seed" in module.DEFAULTS


def member_seeds(config: dict, k: int) -> list[int]:
    return [int(config["seed"]) + i for i in range(int(k))]


def member_config(record: dict, seed: int) -> dict:
    """The configuration member ``seed`` of the ensemble ``record`` trains with."""
    return {**record["config"], "seed": int(seed), "split_seed": int(record["split_seed"])}


def read_record(folder, where: str) -> dict | None:
    """The ensemble.json of ``folder``, checked; None when there is none. ``where`` starts the
    UsageError of a file that is not one."""
    path = Path(folder) / ENSEMBLE_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"{where}: {path} is not readable ({exc})") from None
    keys = ("model", "members", "seeds", "split_seed", "config", "device")
    if (
        not isinstance(record, dict)
        or record.get("format") != ENSEMBLE_FORMAT
        or any(k not in record for k in keys)
    ):
        raise UsageError(f"{where}: {path} is not an ensemble record that tinycolor wrote")
    return record


def train_ensemble(name: str, config: dict, k: int, device=None, out=None, quiet=False):
    """Train ``k`` members of model ``name`` (seeds ``config["seed"]`` on, one split) into
    ``out`` and score them as one; returns ``(folder, metrics)``. Members already finished
    in ``out`` by the same command are kept, not trained again."""
    module = models.get(name)
    if not can_ensemble(module):
        able = [n for n in models.available() if can_ensemble(models.get(n))]
        raise UsageError(
            f"--ensemble: {name} cannot be trained as an ensemble (its networks' ab are not "
            f"averaged); the models that can: {', '.join(able)}"
        )
    if int(k) < 2:
        raise UsageError(f"--ensemble {k}: an ensemble needs at least 2 members")
    device = device or backend.get_device()
    from .models.lab_common import split_seed  # noqa: PLC0415

    shared = {key: v for key, v in config.items() if key not in MEMBER_KEYS}
    seeds = member_seeds(config, k)
    record = {
        "format": ENSEMBLE_FORMAT,
        "model": name,
        "members": [f"seed{s}" for s in seeds],
        "seeds": seeds,
        "split_seed": split_seed(config),
        "config": to_jsonable(shared),
        "device": device,
    }
    folder = make_run_dir(f"{name}-ensemble", out)
    before = read_record(folder, f"--out {folder}")
    if before is not None and before != record:
        raise UsageError(
            f"--out {folder}: holds an ensemble of other runs ({before['model']}, seeds "
            f"{_span(before['seeds'])}, another configuration or device); give another --out, "
            f"or go on with that one: {PROG} --resume {folder}"
        )
    write_json(folder / ENSEMBLE_FILE, record)
    return _train_and_score(folder, record, quiet)


def resume_ensemble(folder, quiet: bool = False):
    """``--resume FOLDER`` of an ensemble: its unfinished members trained (or resumed), then
    the ensemble scored; returns ``(folder, metrics)``."""
    record = read_record(folder, f"--resume {folder}")
    go_on_device(record["device"], "the ensemble")
    return _train_and_score(Path(folder), record, quiet)


def _span(seeds) -> str:
    return f"{seeds[0]} to {seeds[-1]}" if len(seeds) > 1 else str(seeds[0])


def _member_state(run_dir: Path) -> str:
    """ "done" (a finished run), "stopped" (a training state to go on from) or "new"."""
    if (run_dir / TRAINING_STATE).exists():
        return "stopped"
    return "done" if run_finished(run_dir) else "new"


def _say(quiet: bool, line: str) -> None:
    if not quiet:
        print(f"{PROG}: {line}", file=sys.stderr)


def _train_and_score(folder: Path, record: dict, quiet: bool):
    name, k = record["model"], len(record["seeds"])
    for i, (seed, member) in enumerate(zip(record["seeds"], record["members"]), start=1):
        run_dir = folder / member
        state = _member_state(run_dir)
        head = f"ensemble member {i} of {k} (--seed {seed})"
        if state == "done":
            _say(quiet, f"{head}: finished before, kept ({run_dir})")
            continue
        _say(quiet, f"{head}" + (": going on where it stopped" if state == "stopped" else ""))
        # --quiet prints only the ensemble's folder, not each member's as well
        with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
            if state == "stopped":
                _, metrics = resume(run_dir, quiet)
            else:
                config = member_config(record, seed)
                _, metrics = run(name, config, record["device"], run_dir, quiet)
        if metrics.get("interrupted"):
            print(
                f"{PROG}: the ensemble stopped in member {i} of {k}; `{PROG} --resume "
                f"{folder}` trains the rest and scores it",
                file=sys.stderr,
            )
            return folder, {"interrupted": True, "ensemble": k, "members_done": i - 1}
    return folder, score_folder(folder, record, quiet)


def score_folder(folder: Path, record: dict, quiet: bool = False) -> dict:
    """Score the finished members of the ensemble in ``folder`` as one on their shared
    held-out photos; writes metrics.json and comparison.png there, prints a table."""
    from .models import lab_common  # noqa: PLC0415

    name, device = record["model"], record["device"]
    paths = [folder / m / "model.npz" for m in record["members"]]
    loaded = load_models(paths, name, device, quiet=True)
    module = loaded[0][0]
    config = dict(loaded[0][2])
    trained_on = (config.get("mean_ab"), _member_metrics(paths[0]).get("held_out"))
    # the members' shared split (and training statistics); its notes on the data were said
    # when the members trained
    with contextlib.redirect_stderr(io.StringIO()):
        data = module.load_data(config)
    view = data.lab_view() if hasattr(data, "lab_view") else data
    if (config.get("mean_ab"), [str(n) for n in view.test_names or []]) != trained_on:
        raise UsageError(
            f"{folder}: the data ({config.get('data') or 'the default'}) is not what the members "
            "trained on any more (other held-out images or training statistics): the ensemble "
            "cannot be scored on it"
        )
    ensemble = Ensemble(module, [(net, cfg) for _, net, cfg, _ in loaded])
    metrics = lab_common.evaluate(predict_ab, ensemble, view, config, device)

    def colorize(ens, rgb, cfg, device=None, quiet=True):
        with contextlib.redirect_stderr(io.StringIO()) if quiet else contextlib.nullcontext():
            pictures = [ens.module.colorize(net, rgb, c, device=device) for net, c in ens.members]
        return mean_colour(pictures)

    figures = lab_common.save_figures(
        predict_ab, ensemble, view, config, folder, device, f"{name} x {len(paths)}", colorize
    )
    figures.append(members_figure(ensemble, view, record, folder / "members.png", device))
    members = []
    for member, path in zip(record["members"], paths):
        m = _member_metrics(path)
        members.append({"member": member, "seed": m.get("seed"), **_headline(m)})
    metrics.update(
        model=name,
        ensemble=len(paths),
        checkpoints=[str(p) for p in paths],
        seeds=record["seeds"],
        split_seed=record["split_seed"],
        members=members,
        held_out=[str(n) for n in (view.test_names or [])],
        config=to_jsonable(config),
    )
    write_json(folder / "metrics.json", metrics)
    if quiet:
        print(folder)
        return metrics
    header, rows = summary_rows(metrics)
    print()
    print(format_table(header, rows))
    print("\nthe members alone:")
    keys = [k for k in ("psnr", "auc", "colorfulness") if k in members[0]]
    print(
        format_table(
            ["member", *keys], [[m["member"], *(f"{m[k]:.3f}" for k in keys)] for m in members]
        )
    )
    print(f"\nensemble folder: {folder}")
    for f in ["metrics.json", *(Path(p).name for p in figures)]:
        print(f"  {folder / f}")
    print(f"colorize an image: python -m tinycolor.colorize --checkpoint {folder} IMAGE")
    return metrics


def members_figure(ensemble: Ensemble, data, record: dict, path: Path, device=None) -> Path:
    """``members.png``: a few held-out tiles (rows), gray | each member's colours | the
    ensemble's (their mean ab) | the truth, each titled with its PSNR: where the members
    disagree, and what their mean keeps."""
    from . import metrics as M  # noqa: PLC0415
    from . import viz  # noqa: PLC0415
    from .color import lab_to_rgb  # noqa: PLC0415
    from .models import lab_common  # noqa: PLC0415

    pick = lab_common.figure_tiles(data.test.num_tiles(), MEMBER_FIGURE_TILES)
    L_net, ab_true = data.test.tiles_at(pick)[:2]
    L = lab_common.from_net_l(L_net)
    columns = [
        (member, lab_common.predict_batches(ensemble.module.predict_ab, net, L_net, cfg, device))
        for member, (net, cfg) in zip(record["members"], ensemble.members)
    ]
    columns.append((f"ensemble of {len(ensemble.members)}", np.mean([c[1] for c in columns], 0)))

    def rgb(ab):  # (N, 2, H, W) -> (N, H, W, 3) sRGB in [0, 1]
        lab = np.concatenate([L, ab], axis=1).astype(np.float32)
        return np.clip(np.asarray(lab_to_rgb(lab, channel_axis=1)).transpose(0, 2, 3, 1), 0, 1)

    truth = rgb(ab_true)
    columns = [(title, rgb(ab)) for title, ab in columns]
    panels = []
    for j, tile in enumerate(pick):
        panels.append((f"held-out tile {tile}: gray", L[j, 0] / 100.0))
        for title, pictures in columns:
            panels.append((f"{title} ({M.psnr(pictures[j], truth[j]):.1f} dB)", pictures[j]))
        panels.append(("truth", truth[j]))
    title = f"{record['model']}: the ensemble's members, their mean ab, and the truth"
    return viz.image_grid(panels, path, ncols=len(columns) + 2, title=title)


#: Held-out tiles (rows) members.png shows.
MEMBER_FIGURE_TILES = 3


def _member_metrics(checkpoint: Path) -> dict:
    return json.loads((checkpoint.parent / "metrics.json").read_text())


def _headline(metrics: dict) -> dict:
    return {k: metrics[k] for k in ("psnr", "ssim", "auc", "colorfulness") if k in metrics}
