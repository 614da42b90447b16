"""The figures of runs and lessons (``tinycolor.viz``)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from tinycolor import viz
from tinycolor.imageio import read_image


@pytest.mark.parametrize("draw", ["loss_curves", "image_grid"])
def test_a_figure_stopped_while_written_leaves_the_old_file(draw, tmp_path, monkeypatch):
    """Ctrl-C (or SIGTERM, which the commands take as Ctrl-C) while a figure is saved: the
    file is either the old picture or the new one, never half of one, and no temporary file
    is left beside it."""
    path = tmp_path / "fig.png"

    def figure():
        if draw == "loss_curves":
            return viz.loss_curves({"train": [1.0, 0.5], "test": [1.2, 0.7]}, path)
        return viz.image_grid([("a", np.zeros((4, 6, 3))), ("b", np.ones((4, 6)))], path)

    figure()
    before = path.read_bytes()
    real_savefig = Figure.savefig

    def savefig(self, fname, *args, **kwargs):
        with open(fname, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n half")
        raise KeyboardInterrupt

    monkeypatch.setattr(Figure, "savefig", savefig)
    with pytest.raises(KeyboardInterrupt):
        figure()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]
    monkeypatch.setattr(Figure, "savefig", real_savefig)
    assert figure() == path and read_image(path).shape[0] > 100


def test_an_elongated_image_makes_a_figure_of_bounded_size(tmp_path):
    """A panel's box was as tall as the first image's aspect made it: a 1x1000 strip asked
    for a figure over 300,000 pixels tall (GBs, then a MemoryError or Agg's ValueError). Its
    box is capped at MAX_PANEL_ASPECT; ordinary images are drawn as they were."""
    strip = np.linspace(0, 1, 1000)[:, None] * np.ones((1, 1, 3))
    path = viz.image_grid([("a", strip), ("b", strip[..., 0]), ("c", strip)], tmp_path / "s.png")
    h, w = read_image(path).shape[:2]
    assert w == 1056 and h <= (3.2 * viz.MAX_PANEL_ASPECT + 0.9) * 110 + 1
    wide = viz.image_grid([("a", strip.transpose(1, 0, 2))], tmp_path / "w.png")
    assert read_image(wide).shape[0] >= 3.2 / viz.MAX_PANEL_ASPECT * 110
    # a 400x600 photo in three columns: 3.2 in a panel, as tall as its aspect, at 110 dpi
    photo = viz.image_grid([("p", np.zeros((400, 600, 3)))] * 3, tmp_path / "p.png")
    assert read_image(photo).shape[:2] == (333, 1056)
    # many rows are drawn smaller, the figure within MAX_FIGURE_PIXELS a side
    rows = viz.image_grid([("p", np.zeros((40, 10)))] * 60, tmp_path / "r.png", ncols=3)
    assert max(read_image(rows).shape[:2]) <= viz.MAX_FIGURE_PIXELS


def test_a_figure_is_written_in_the_format_its_name_says(tmp_path):
    """A '.jpg' figure was written as a PNG (the benchmark's skimage.jpg was one): each file
    now holds what its suffix names; no suffix gives a PNG; a suffix matplotlib cannot write
    is refused in words before anything is drawn, and nothing is left behind."""
    panel = [("one", np.full((8, 8, 3), 0.5))]
    magic = {"png": b"\x89PNG", "jpg": b"\xff\xd8\xff", "JPEG": b"\xff\xd8\xff", "pdf": b"%PDF"}
    for suffix, start in magic.items():
        written = viz.image_grid(panel, tmp_path / f"grid.{suffix}")
        assert written.read_bytes().startswith(start), suffix
    assert viz.loss_curves({"train": [3.0, 2.0]}, tmp_path / "curve").read_bytes()[:4] == b"\x89PNG"
    assert viz.loss_curves({"train": [3.0, 2.0]}, tmp_path / "c.svg").read_text().find("<svg") >= 0
    before = sorted(tmp_path.iterdir())
    for draw in (lambda p: viz.image_grid(panel, p), lambda p: viz.loss_curves({"a": [1]}, p)):
        with pytest.raises(ValueError, match=r"grid\.xyz: cannot write a figure as '\.xyz'; give"):
            draw(tmp_path / "grid.xyz")
    assert sorted(tmp_path.iterdir()) == before
