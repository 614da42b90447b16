"""``python -m tinycolor.colorize --checkpoint CKPT [...] INPUT [-o OUTPUT] [--compare]``.

Colour an image with a trained model. The checkpoint (the ``model.npz`` of a run folder)
names its model and stores its configuration, so the network is rebuilt without being told
the architecture. ``INPUT`` is any image file (8- or 16-bit, gray, RGB or RGBA, or a float
TIFF in [0, 1], whose values beyond it are clipped with a warning; a colour image is made
gray first) or ``skimage:NAME``; the result is a PNG, by default
``<input name>-colorized.png`` in the current folder. With ``--compare`` a side-by-side
figure (gray input | colorization) is written beside it; for a colour input it shows the
original too, and the model's metrics on that image are printed. ``--temperature T`` decodes
a model of ab bins (cnn_classification, cnn_resnet ``--loss ce``) with that annealed-mean T
instead of its own. Several checkpoints of one model (``--checkpoint A B C``) colour the
image as one ensemble: the mean of their colours (ab), as ``evaluate`` scores them.

The fully convolutional models see the whole image, but no larger than the largest scale
they trained at (``lab_common.largest_scale``: short side 512 for photos of 256 seen at zoom
0.5 to 2): a bigger photo's colour is predicted at that size and resized back onto its own
full-size lightness (a 6000x4000 photo through cnn_classification: 15 s, 0.9 GB at its
peak, on 2 cores). Fixed-size models (cnn_regression) see the image resized to their input.
Either is said on stderr.

Any bad input (missing or unreadable file, not an image, an image smaller than the model's
window, a corrupt or foreign checkpoint, a checkpoint that is not a colorizer's, a checkpoint
of another model than ``--model``, an output that would replace the input image, or one that
cannot be written) ends with a one-line message on stderr and exit status 2; the checkpoint
and where the output goes are checked before the image is read.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from pathlib import Path

from . import argtypes, backend
from .models import add_temperature_option

PROG = "python -m tinycolor.colorize"


class UsageError(ValueError):
    """A mistake on the command line (an output name that is not .png)."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Colour a grayscale (or colour, made gray first) image with a trained model.",
        formatter_class=argtypes.HelpFormatter,
    )
    p.add_argument(
        "input",
        metavar="INPUT",
        nargs="?",  # after --checkpoint's list it ends up there: see ``parse_args``
        help="image file to colour (png/jpg/tif/bmp, 8- or 16-bit; a float TIFF's values beyond "
        "[0, 1] are clipped to it, with a warning), or skimage:NAME",
    )
    p.add_argument(
        "--checkpoint",
        required=True,
        nargs="+",
        metavar="CKPT",
        help="a model.npz written by python -m tinycolor.train; several of one model (trained "
        "with different --seed, say) colour as one ensemble, their ab averaged",
    )
    p.add_argument(
        "-o",
        "--output",
        default=None,
        help="PNG to write (default: <input name>-colorized.png here; a folder, an existing "
        "one or a new one written with a trailing /: that file inside it)",
    )
    p.add_argument(
        "--compare",
        action="store_true",
        help="also write <output>-compare.png: gray | colorized, and for a colour input "
        "| original, with the model's metrics on it printed",
    )
    p.add_argument(
        "--model", default=None, help="refuse a checkpoint of any other model than this one"
    )
    add_temperature_option(p)
    p.add_argument(
        "--device",
        default=None,
        choices=("cpu", "cuda"),
        help="where to run (default: $TINYCOLOR_DEVICE, else cpu)",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return p


def compare_path(out: Path) -> Path:
    """Where ``--compare`` writes its figure: ``<output stem>-compare.png`` beside ``out``."""
    return out.with_name(f"{out.stem}-compare.png")


def _output_path(input_name: str, output, compare: bool = False) -> Path:
    """The PNG the colorization goes to, from ``-o`` (None: the default name here). Refuses
    (``UsageError``) a name that is not .png, and one whose colorization or (with
    ``compare``) comparison figure would overwrite the input image."""
    stem = (
        input_name.split(":", 1)[1] if input_name.startswith("skimage:") else Path(input_name).stem
    )
    default_name = f"{stem}-colorized.png"
    if output is None:
        out = Path(default_name)
    elif Path(output).is_dir() or str(output).endswith(("/", os.sep)):  # a folder, made if need be
        out = Path(output) / default_name
    else:
        out = Path(output)
        if out.suffix.lower() != ".png":
            raise UsageError(
                f"-o {output}: the output is written as PNG; give a name ending in .png, or a "
                f"folder to write it in, ending in / ({output}/)"
            )
    if not input_name.startswith("skimage:"):
        given = f"-o {output}" if output is not None else f"the default output {out}"
        source = Path(input_name).resolve()
        if out.resolve() == source:
            raise UsageError(f"{given}: that is the input image; give another name")
        if compare and compare_path(out).resolve() == source:
            raise UsageError(
                f"{given}: its comparison {compare_path(out)} (--compare) is the input image; "
                "give another name"
            )
    return out


def _where_output_cannot_go(out: Path) -> str | None:
    """What stops ``out`` from being written (a file in the way of its folder, no permission
    to write there), said before the model runs rather than after; None when nothing does."""
    from .runs import unwritable  # noqa: PLC0415

    folder = out.parent
    above = folder.absolute()
    while not above.exists() and above != above.parent:
        above = above.parent
    if above.exists() and not above.is_dir():
        return f"{out}: cannot make its folder {folder}: a file of that name is in the way"
    why = unwritable(folder)
    return f"{out}: cannot be written ({why})" if why else None


def colorize_file(
    checkpoint,
    input_path,
    output=None,
    compare=False,
    model_name=None,
    device=None,
    quiet=False,
    temperature=None,
):
    """What the command does; returns the paths written. Raises the tools' one-line errors.

    ``checkpoint`` may be a list of several checkpoints of one model: an ensemble, whose
    colours are the mean of the members' ab (each member's picture in Lab), on the lightness
    of the first member's picture (the input's, as every member keeps it)."""
    from . import models, viz  # noqa: PLC0415
    from .evaluate import EvaluationError, _refuse_a_non_colorizer  # noqa: PLC0415
    from .imageio import is_grayscale, read_image, to_float, write_png  # noqa: PLC0415
    from .models import InputError  # noqa: PLC0415
    from .runs import checkpoint_paths, load_models  # noqa: PLC0415

    # where the results go, and what --model names, before any work
    out = _output_path(str(input_path), output, compare)
    wrong = _where_output_cannot_go(out)
    if wrong:
        raise UsageError(wrong)
    if model_name is not None:
        try:
            models.get(model_name)
        except models.UnknownModelError as exc:
            raise UsageError(f"--model {model_name}: {exc}") from None
    device = device or backend.get_device()
    backend.set_device(device)
    members = load_models(checkpoint, model_name, device, quiet, temperature)
    # a checkpoint that colours nothing (the classifier) is named, before the image is read;
    # what a model says of the small image it is tried on is not the user's image's
    for path, member in zip(checkpoint_paths(checkpoint), members):
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                _refuse_a_non_colorizer(path, *member, device)
        except EvaluationError as exc:
            raise InputError(str(exc)) from None
    module, model, config, meta = members[0]
    rgb = read_image(input_path)
    # A model says on stderr when it resized the image; --quiet prints nothing but errors,
    # which are raised, not printed, inside. An ensemble's members say it once, not each.
    notes = io.StringIO()
    try:
        with contextlib.redirect_stderr(notes):
            preds = [mod.colorize(mdl, rgb, cfg, device=device) for mod, mdl, cfg, _ in members]
    except InputError as exc:
        raise InputError(f"{input_path}: {exc}") from None
    finally:
        if not quiet:
            sys.stderr.write("".join(dict.fromkeys(notes.getvalue().splitlines(keepends=True))))
    if len(preds) == 1:
        pred = preds[0]
    else:
        from .ensembles import mean_colour  # noqa: PLC0415

        pred = mean_colour(preds)
    written = [write_png(out, pred)]
    if not quiet:
        who = meta["model"] if len(members) == 1 else f"{meta['model']} x {len(members)}"
        print(f"{who}: colorized {input_path} ({rgb.shape[1]}x{rgb.shape[0]}) -> {out}")
    if compare:
        gray = module.to_gray(rgb) if hasattr(module, "to_gray") else rgb.mean(axis=-1)
        if is_grayscale(rgb):
            panels = [("input (gray)", gray), ("colorized", pred)]
            note = "the input is grayscale, so there is no original to compare with"
        else:
            ref = module.reference(rgb, config) if hasattr(module, "reference") else rgb
            ref_title = "original, quantised" if hasattr(module, "reference") else "original"
            panels = [("input, made gray", gray), ("colorized", pred), (ref_title, to_float(ref))]
            note = None
            if hasattr(module, "image_metrics") and not quiet:
                m = module.image_metrics(pred, rgb, config)
                print("  " + ", ".join(f"{k} {_fmt(v)}" for k, v in m.items()))
        cmp_path = compare_path(out)
        written.append(viz.image_grid(panels, cmp_path, title=f"{meta['model']}: {input_path}"))
        if not quiet:
            print(f"  comparison: {cmp_path}" + (f" ({note})" if note else ""))
    return written


def _fmt(v) -> str:
    if isinstance(v, list | tuple):
        return "/".join(_fmt(x) for x in v)
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def parse_args(parser, argv):
    """The parsed command line. ``--checkpoint A B IMAGE`` gives argparse's list option every
    word up to the next option, the image too: the last of them is then the INPUT (so the
    usual ``--checkpoint CKPT IMAGE`` reads as it always did); a checkpoint there (``.npz``)
    means that no image was given."""
    args = parser.parse_args(argv)
    if args.input is None:
        if len(args.checkpoint) < 2:
            parser.error("the following arguments are required: INPUT")
        if Path(args.checkpoint[-1]).suffix.lower() == ".npz":
            parser.error(
                f"the following arguments are required: INPUT ({args.checkpoint[-1]} is a "
                "checkpoint; give the image to colour after the checkpoints)"
            )
        args.input = args.checkpoint.pop()
    return args


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (0 ok, 2 bad input)."""
    from . import models  # noqa: PLC0415
    from .backend import DeviceError  # noqa: PLC0415
    from .imageio import ImageReadError  # noqa: PLC0415
    from .runs import LoadError, command_warnings, sigterm_as_ctrl_c  # noqa: PLC0415

    parser = build_parser()
    try:
        args = parse_args(parser, argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        args.device = args.device or backend.device_from_environment()
        with command_warnings(PROG), sigterm_as_ctrl_c():
            colorize_file(
                args.checkpoint if len(args.checkpoint) > 1 else args.checkpoint[0],
                args.input,
                args.output,
                args.compare,
                args.model,
                args.device,
                args.quiet,
                args.temperature,
            )
    except (
        LoadError,
        ImageReadError,
        models.InputError,
        models.UnknownModelError,
        DeviceError,
        UsageError,
        OSError,
    ) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
