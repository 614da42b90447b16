"""Figures for runs and lessons: image grids and loss curves, drawn with matplotlib's Agg backend.

Every function draws on a ``matplotlib.figure.Figure`` of its own (rendered by Agg, never
through pyplot), so it needs no display, leaves the user's pyplot state and backend alone
(a notebook keeps its inline plots) and piles up no open figures.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

__all__ = ["image_grid", "loss_curves"]


def _figure(figsize):
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def _text(s) -> str:
    """``s`` as matplotlib can draw it: a file name that is not valid UTF-8 (its bytes kept by
    Python as lone surrogates, ``os.fsdecode``) shows them as U+FFFD, as a terminal does,
    where the surrogates would make matplotlib raise a TypeError."""
    return str(s).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _format(path) -> str:
    """The format a figure at ``path`` is written in: the one its suffix names (``.png``,
    ``.jpg``, ``.pdf``, ``.svg``, ...; PNG without a suffix), so that a ``.jpg`` holds a JPEG.
    A suffix matplotlib cannot write is refused, before anything is drawn."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415

    suffix = Path(path).suffix.lower()
    kinds = FigureCanvasAgg.get_supported_filetypes()
    if suffix and suffix[1:] not in kinds:
        raise ValueError(
            f"{path}: cannot write a figure as {suffix!r}; give a name ending in one of "
            f"{', '.join('.' + k for k in sorted(kinds))}"
        )
    return suffix[1:] or "png"


def _save(fig, path) -> Path:
    """Write ``fig`` at ``path`` in the format of its suffix (``_format``), atomically
    (``imageio.write_atomically``): an error or Ctrl-C while it is written leaves no half a
    picture."""
    from .imageio import write_atomically  # noqa: PLC0415

    fmt = _format(path)
    return write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=_DPI, format=fmt), f".{fmt}")


def _show(ax, img) -> None:
    a = np.asarray(img)
    if a.ndim == 2 or (a.ndim == 3 and a.shape[-1] == 1):
        a = a.reshape(a.shape[:2])
        vmax = 255 if a.dtype == np.uint8 else 1.0
        ax.imshow(a, cmap="gray", vmin=0, vmax=vmax, interpolation="nearest")
    else:
        if a.dtype != np.uint8:
            a = np.clip(a, 0.0, 1.0)
        ax.imshow(a, interpolation="nearest")
    ax.set_axis_off()


#: The most a panel's box is taller than wide, or wider than tall (``image_grid``).
MAX_PANEL_ASPECT = 4.0
#: The most pixels a figure of ``image_grid`` has on a side (at the 110 dpi it is saved at).
MAX_FIGURE_PIXELS = 12000
_DPI = 110


def image_grid(panels, path, ncols: int | None = None, title: str | None = None, panel_inches=3.2):
    """Write the images ``panels`` = [(title, image), ...] side by side in a grid.

    Images are (H, W) gray or (H, W, 3) RGB, uint8 or float in [0, 1]; gray ones are drawn
    with a gray colormap fixed to the full range, so a dark image stays dark.

    Each panel's box is ``panel_inches`` wide and as tall as the first image's aspect makes
    it, but no more than ``MAX_PANEL_ASPECT`` times taller than wide (nor wider than tall):
    an image more elongated than that (a 1x1000 strip) is drawn whole at its own aspect,
    letterboxed in the box, rather than making the figure thousands of inches tall. A grid
    of many rows or columns is drawn smaller, so that no side of the figure passes
    ``MAX_FIGURE_PIXELS``. The file's format is its suffix's (a ``.jpg`` is a JPEG; PNG
    without one).
    """
    _format(path)  # a suffix matplotlib cannot write: refused before anything is drawn
    panels = list(panels)
    if not panels:
        raise ValueError("image_grid: no panels to draw")
    ncols = ncols or len(panels)
    nrows = math.ceil(len(panels) / ncols)
    h, w = np.asarray(panels[0][1]).shape[:2]
    aspect = min(max(h / max(w, 1), 1 / MAX_PANEL_ASPECT), MAX_PANEL_ASPECT)
    width = panel_inches * ncols
    height = panel_inches * aspect * nrows + 0.6 * nrows + 0.3
    shrink = min(1.0, MAX_FIGURE_PIXELS / (_DPI * max(width, height)))
    fig = _figure((width * shrink, height * shrink))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, (name, img) in zip(axes.ravel(), panels):
        _show(ax, img)
        ax.set_title(_text(name), fontsize=9)
    if title:
        fig.suptitle(_text(title), fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def loss_curves(
    history: dict, path, title: str | None = None, ylabel: str = "loss", kept_epoch=None
):
    """Plot each series of ``history`` ({'train': [...], 'test': [...]}) against the epoch;
    ``kept_epoch`` (the weights a ``--keep best`` run ended with) is marked by a dashed line.
    The file's format is its suffix's, as ``image_grid``'s."""
    _format(path)
    fig = _figure((6, 4))
    ax = fig.subplots()
    drawn = 0
    for name, values in history.items():
        ys = [float("nan") if v is None else float(v) for v in values]
        if not ys or all(v is None for v in values):  # nothing to draw: no legend entry either
            continue
        xs = np.arange(1, len(ys) + 1)
        ax.plot(xs, ys, marker="o" if len(ys) < 30 else None, label=_text(name))
        drawn += 1
    if kept_epoch is not None:
        ax.axvline(kept_epoch, color="0.4", linestyle="--", linewidth=1, label="kept")
        drawn += 1
    ax.set_xlabel("epoch")
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    epochs = max((len(v) for v in history.values()), default=0)
    if 0 < epochs <= 12:  # epochs 1, 2, 3; not 1.25, or 0.96 to 1.04 around a single one
        ax.set_xticks(range(1, epochs + 1))
        ax.set_xlim(0.5, epochs + 0.5)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(_text(title))
    if drawn:
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no epochs trained", ha="center", va="center", transform=ax.transAxes)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)
