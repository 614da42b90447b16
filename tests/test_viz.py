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
