"""Synthetic landscape scenes in three classes (beach, sunset, forest), with labels.

The embedded labelled dataset: every model that needs class labels (the fusion network's
classification head, the classifiers) runs on a fresh machine with no download. The scenes are
drawn with vectorised NumPy (gradients, horizon lines, value-noise textures, discs, triangles)
at twice the requested size and averaged down 2x2, which smooths the edges.

- beach: blue sky with a pale horizon, a small high sun, soft clouds, a sea with waves and a
  foam line, and sand;
- sunset: a purple-to-orange sky, a large low sun with its glow, lit clouds, a dark sea with
  the sun's reflection, sometimes a dark hill;
- forest: a strip of pale sky, distant blue-green hills, conifers and round trees with trunks,
  and grass.

Image ``i`` depends only on ``(seed, i)``: the first k scenes of a larger set are the k scenes
of a smaller one. Labels are balanced: each block of three consecutive images holds one scene
of each class, in a seeded order.
"""

from __future__ import annotations

import numpy as np

from .folder import ArrayDataset

__all__ = ["CLASS_NAMES", "SyntheticScenes", "draw_scene", "render_scenes", "synthetic_scenes"]

CLASS_NAMES = ["beach", "sunset", "forest"]


# ---------------------------------------------------------------------------- drawing helpers
def _grid(h: int, w: int):
    """Pixel-centre coordinates: y down in [0, 1], x right in [0, w/h] (square pixels)."""
    y = (np.arange(h, dtype=np.float32) + 0.5) / h
    x = (np.arange(w, dtype=np.float32) + 0.5) / h
    return y[:, None], x[None, :]


def _noise(rng: np.random.Generator, h: int, w: int, cells=(4, 4), octaves: int = 3):
    """Fractal value noise in about [-1, 1]: random grids bilinearly interpolated, summed over
    octaves with halving amplitude. ``cells`` is the grid size (rows, cols) of the first
    octave; a grid wide in x and short in y gives horizontal streaks (waves, cloud bands)."""
    out = np.zeros((h, w), dtype=np.float32)
    amp, total = 1.0, 0.0
    cy, cx = cells
    for _ in range(octaves):
        grid = rng.uniform(-1.0, 1.0, size=(cy + 1, cx + 1)).astype(np.float32)
        gy = np.linspace(0, cy, h, dtype=np.float32)
        gx = np.linspace(0, cx, w, dtype=np.float32)
        y0 = np.minimum(gy.astype(np.int64), cy - 1)
        x0 = np.minimum(gx.astype(np.int64), cx - 1)
        ty = (gy - y0)[:, None]
        tx = (gx - x0)[None, :]
        ty = ty * ty * (3 - 2 * ty)  # smoothstep: no creases along grid lines
        tx = tx * tx * (3 - 2 * tx)
        along_x = grid[:, x0] * (1 - tx) + grid[:, x0 + 1] * tx  # separable: x, then y
        out += amp * (along_x[y0] * (1 - ty) + along_x[y0 + 1] * ty)
        total += amp
        amp *= 0.5
        cy, cx = cy * 2, cx * 2
    return out / total


def _gradient(t, stops):
    """Colours (..., 3) along ``t`` through ``stops`` = [(position, (r, g, b)), ...]."""
    pos = np.array([p for p, _ in stops], dtype=np.float32)
    cols = np.array([c for _, c in stops], dtype=np.float32)
    t = np.asarray(t, dtype=np.float32)
    return np.stack([np.interp(t, pos, cols[:, k]) for k in range(3)], axis=-1).astype(np.float32)


def _soft(d, width):
    """A mask in [0, 1] from a signed distance ``d`` (positive inside), ramped over ``width``."""
    return np.clip(d / width + 0.5, 0.0, 1.0).astype(np.float32)


def _paint(canvas, mask, colour, shade=None):
    """Alpha-blend ``colour`` ((3,) or (H, W, 3)) over ``canvas`` where ``mask`` (H, W) is 1,
    the colour scaled by ``shade`` (H, W) if given. Only the mask's bounding box is touched."""
    mask = np.broadcast_to(mask, canvas.shape[:2])
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return canvas
    box = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    m = mask[box][..., None]
    colour = np.asarray(colour, dtype=np.float32)
    c = colour[box] if colour.ndim == 3 else colour
    if shade is not None:
        c = c * np.broadcast_to(shade, canvas.shape[:2])[box][..., None]
    sub = canvas[box]
    sub *= 1.0 - m
    sub += m * c
    return canvas


def _jitter(rng, colour, amount=0.06):
    c = np.asarray(colour, dtype=np.float32) + rng.uniform(-amount, amount, size=3)
    return np.clip(c, 0.0, 1.0).astype(np.float32)


def _shade(colour, factor):
    """Scale a colour (3,) by a per-pixel factor (H, W): (H, W, 3)."""
    return np.asarray(colour, dtype=np.float32) * np.asarray(factor, dtype=np.float32)[..., None]


# ---------------------------------------------------------------------------- the three scenes
def _across(rng, margin, width):
    """A random x in [margin, width - margin], or the middle of a scene narrower than
    2 margin (a tall portrait): the sun still fits."""
    margin = min(margin, width / 2)
    return rng.uniform(margin, width - margin)


def _beach(rng, h, w):
    y, x = _grid(h, w)
    px = 1.0 / h
    horizon = rng.uniform(0.32, 0.48)
    sky = _gradient(
        np.broadcast_to(y / horizon, (h, w)),
        [(0.0, _jitter(rng, (0.20, 0.42, 0.82))), (1.0, _jitter(rng, (0.72, 0.86, 0.97), 0.03))],
    )
    img = sky.copy()
    clouds = _noise(rng, h, w, cells=(3, 5), octaves=4)
    cover = rng.uniform(0.15, 0.45)
    cmask = np.clip((clouds - (1 - 2 * cover) * 0.5) * 3.0, 0, 1) * (y < horizon) * 0.85
    _paint(img, cmask.astype(np.float32), (0.97, 0.97, 0.98))
    # the sun, small and high, with a glow
    sx, sy, sr = (
        _across(rng, 0.1, w / h),
        rng.uniform(0.07, 0.6 * horizon),
        rng.uniform(0.035, 0.06),
    )
    d = np.sqrt((x - sx) ** 2 + (y - sy) ** 2)
    img += (0.35 * np.exp(-((d / (3 * sr)) ** 2)))[..., None] * np.array([1.0, 0.95, 0.7])
    _paint(img, _soft(sr - d, 2 * px), (1.0, 0.98, 0.85))
    # the sea: dark blue at the horizon, turquoise near the shore, horizontal waves
    shore = (
        horizon
        + rng.uniform(0.17, 0.3)
        + rng.uniform(-0.06, 0.06) * (x - 0.5)
        + 0.015 * np.sin(x * rng.uniform(6, 12) + rng.uniform(0, 6.3))
    )
    t = np.clip((y - horizon) / np.maximum(shore - horizon, 1e-3), 0, 1)
    sea = _gradient(
        t, [(0.0, _jitter(rng, (0.05, 0.28, 0.52))), (1.0, _jitter(rng, (0.15, 0.62, 0.66)))]
    )
    waves = _noise(rng, h, w, cells=(12, 3), octaves=3)
    sea = sea * (1.0 + 0.18 * waves)[..., None]
    _paint(img, _soft(y - horizon, px), sea)
    # sand, with grain and a darker wet band, then the foam line on top
    sand_c = _jitter(rng, (0.88, 0.78, 0.58), 0.04)
    grain = _noise(rng, h, w, cells=(16, 16), octaves=2)
    wet = np.clip(1 - (y - shore) / 0.05, 0, 1)
    sand = _shade(sand_c, (1 + 0.07 * grain) * (1 - 0.22 * wet))
    _paint(img, _soft(y - shore, px), sand)
    foam = _soft(0.012 - np.abs(y - shore + 0.004), 2 * px) * np.clip(
        0.6 + _noise(rng, h, w, (2, 10), 2), 0, 1
    )
    _paint(img, foam.astype(np.float32), (0.96, 0.97, 0.97))
    return img


def _sunset(rng, h, w):
    y, x = _grid(h, w)
    px = 1.0 / h
    horizon = rng.uniform(0.52, 0.7)
    t = np.broadcast_to(y / horizon, (h, w))
    sky = _gradient(
        t,
        [
            (0.0, _jitter(rng, (0.16, 0.10, 0.32))),
            (0.45, _jitter(rng, (0.62, 0.22, 0.38))),
            (0.8, _jitter(rng, (0.96, 0.45, 0.20))),
            (1.0, _jitter(rng, (1.00, 0.72, 0.30), 0.03)),
        ],
    )
    img = sky.copy()
    sx = _across(rng, 0.25, w / h)
    sr = rng.uniform(0.08, 0.13)
    sy = horizon - sr * rng.uniform(0.1, 0.9)
    d = np.sqrt((x - sx) ** 2 + ((y - sy) * 1.1) ** 2)
    glow = 0.6 * np.exp(-((d / (3.5 * sr)) ** 2))
    img += glow[..., None] * np.array([1.0, 0.55, 0.15], dtype=np.float32)
    # dark, lit-from-below cloud streaks
    streaks = _noise(rng, h, w, cells=(10, 2), octaves=3)
    smask = np.clip((streaks - 0.15) * 3.0, 0, 1) * (y < horizon - 0.05) * 0.7
    cloud_col = _gradient(
        np.broadcast_to(y / horizon, (h, w)), [(0.0, (0.25, 0.12, 0.30)), (1.0, (0.85, 0.35, 0.35))]
    )
    _paint(img, smask.astype(np.float32), cloud_col)
    _paint(img, _soft(sr - d, 2 * px), _jitter(rng, (1.0, 0.86, 0.45), 0.04))
    img = np.clip(img, 0, 1)
    # the sea: a dark mirror of the sky with the sun's streak broken by waves
    depth = np.clip((y - horizon) / (1 - horizon), 0, 1)
    sea = _gradient(depth, [(0.0, (0.55, 0.25, 0.30)), (1.0, _jitter(rng, (0.10, 0.06, 0.18)))])
    waves = _noise(rng, h, w, cells=(14, 3), octaves=3)
    streak = np.exp(-(((x - sx) / (sr * (1.2 + 2.5 * depth))) ** 2)) * np.clip(
        0.5 + 1.2 * waves, 0, 1
    )
    sea = sea + (0.8 * streak * (1 - 0.5 * depth))[..., None] * np.array(
        [1.0, 0.62, 0.25], dtype=np.float32
    )
    _paint(img, _soft(y - horizon, px), np.clip(sea, 0, 1))
    if rng.random() < 0.5:  # a dark headland sloping from one side down into the sea
        side = rng.choice([-1.0, 1.0])
        edge = (x - (w / h) * (0.5 + 0.5 * side)) * -side  # distance from that side
        height, extent = rng.uniform(0.06, 0.18), rng.uniform(0.3, 0.6) * w / h
        ramp = np.clip(edge / extent, 0, 1)
        hill = (
            horizon
            - height
            + (1.05 - horizon + height) * (0.6 * ramp + 0.4 * np.sin(ramp * np.pi / 2) ** 4)
        )
        hill = hill + 0.008 * _noise(rng, 1, w, (1, 8), 2)
        _paint(img, _soft(y - hill, px), _jitter(rng, (0.12, 0.06, 0.12), 0.03))
    return img


def _forest(rng, h, w):
    y, x = _grid(h, w)
    px = 1.0 / h
    img = _gradient(
        np.broadcast_to(y / 0.5, (h, w)),
        [(0.0, _jitter(rng, (0.45, 0.65, 0.88))), (1.0, _jitter(rng, (0.82, 0.90, 0.95), 0.03))],
    )
    # distant hills, hazy blue-green
    ridge = (
        rng.uniform(0.25, 0.4)
        + 0.05 * _noise(rng, 1, w, (1, 4), 3)
        + 0.03 * np.sin(x * rng.uniform(3, 7) + rng.uniform(0, 6.3))
    )
    _paint(img, _soft(y - ridge, px), _jitter(rng, (0.36, 0.52, 0.48), 0.04))
    ground = rng.uniform(0.62, 0.75)
    # grass with blades (tall thin noise) and a darker far edge
    grass_c = _jitter(rng, (0.30, 0.58, 0.16), 0.05)
    blades = _noise(rng, h, w, cells=(3, 40), octaves=2)
    dist = np.clip((y - ground) / (1 - ground), 0, 1)
    grass = _shade(grass_c, (0.75 + 0.35 * dist) * (1 + 0.18 * blades))
    _paint(img, _soft(y - ground, px), grass)
    # trees, back to front: higher, smaller and hazier at the back
    n_trees = int(rng.integers(9, 18))
    depths = np.sort(rng.uniform(0, 1, n_trees))
    bark = _jitter(rng, (0.33, 0.22, 0.12), 0.04)
    foliage = 1 + 0.2 * _noise(rng, h, w, (10, 10), 2)
    for depth in depths:
        cx = rng.uniform(-0.05, w / h + 0.05)
        base = ridge.mean() + 0.05 + depth * (1.05 - ridge.mean())
        height = 0.25 + 0.45 * depth
        green = _jitter(rng, (0.08, 0.30, 0.10), 0.05) * (0.75 + 0.35 * rng.random())
        haze = (1 - depth) * 0.35
        green = green * (1 - haze) + np.array([0.45, 0.6, 0.55], dtype=np.float32) * haze
        conifer = rng.random() < 0.6
        trunk_w = 0.01 + 0.018 * depth
        trunk_h = (0.15 if conifer else 0.32) * height
        crown = base - trunk_h  # where the trunk meets the crown
        trunk = _soft(trunk_w - np.abs(x - cx), px) * _soft(
            np.minimum(y - (crown - 0.03), base - y), px
        )
        _paint(img, trunk, bark * (1 - haze) + haze * np.array([0.5, 0.55, 0.55]))
        texture = np.roll(foliage, int(rng.integers(w)), axis=1)  # each tree its own patch
        if conifer:  # a triangle
            top = crown - height * 0.85
            half = 0.17 * height * np.clip((y - top) / (crown - top), 0, 1) + 1e-3
            inside = np.minimum(half - np.abs(x - cx), np.minimum(y - top, crown - y))
            _paint(img, _soft(inside, px), green, texture)
        else:  # a broadleaf: overlapping discs sitting on the trunk
            cr = 0.2 * height
            for dx, dy, f in _CROWN_DISCS:
                d = np.sqrt((x - (cx + dx * cr)) ** 2 + (y - (crown + dy * cr)) ** 2)
                _paint(img, _soft(f * cr - d, px), green * 1.15, texture)
    return img


# a broadleaf crown: (dx, dy, radius) of each disc, in crown radii from the trunk's top
_CROWN_DISCS = ((-0.65, -0.55, 0.75), (0.65, -0.55, 0.75), (0.0, -1.0, 1.0), (0.0, -1.7, 0.75))

_DRAW = {"beach": _beach, "sunset": _sunset, "forest": _forest}


def draw_scene(kind: str, size=64, rng: np.random.Generator | None = None) -> np.ndarray:
    """One scene of class ``kind`` ('beach', 'sunset' or 'forest') as float32 RGB (H, W, 3).

    ``size`` is an int or (height, width); drawn at twice the size and averaged down 2x2.
    """
    if kind not in _DRAW:
        raise ValueError(f"draw_scene: kind must be one of {CLASS_NAMES}, got {kind!r}")
    h, w = (size, size) if isinstance(size, (int, np.integer)) else (int(s) for s in size)
    if h < 1 or w < 1:
        raise ValueError(f"draw_scene: expected a positive size, got {size!r}")
    rng = np.random.default_rng() if rng is None else rng
    big = _DRAW[kind](rng, 2 * h, 2 * w)
    grain = rng.normal(0.0, 0.012, size=big.shape[:2]).astype(np.float32)[..., None]
    big = np.clip(big + grain, 0.0, 1.0)
    return big.reshape(h, 2, w, 2, 3).mean(axis=(1, 3)).astype(np.float32)


def scene_labels(n: int, seed: int = 0) -> np.ndarray:
    """The balanced labels: each block of 3 is a seeded permutation of (0, 1, 2)."""
    blocks = [np.random.default_rng([seed, 1, b]).permutation(3) for b in range((n + 2) // 3)]
    return (np.concatenate(blocks)[:n] if blocks else np.zeros(0)).astype(np.int64)


def render_scenes(n: int, size=64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` scenes as (images (n, H, W, 3) float32 in [0, 1], labels (n,) int64)."""
    if n < 0:
        raise ValueError(f"render_scenes: n must be >= 0, got {n}")
    h, w = (size, size) if isinstance(size, (int, np.integer)) else (int(s) for s in size)
    labels = scene_labels(n, seed)
    images = np.empty((n, h, w, 3), dtype=np.float32)
    for i in range(n):
        images[i] = draw_scene(CLASS_NAMES[labels[i]], (h, w), np.random.default_rng([seed, 0, i]))
    return images, labels


class SyntheticScenes(ArrayDataset):
    """``n`` synthetic scenes with labels 0 beach, 1 sunset, 2 forest (see the module doc)."""

    def __init__(self, n: int = 300, size=64, seed: int = 0):
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"SyntheticScenes: n must be a positive number of scenes, got {n!r}")
        images, labels = render_scenes(n, size, seed)
        names = [f"{CLASS_NAMES[c]}_{i:05d}" for i, c in enumerate(labels)]
        super().__init__(images, labels=labels, class_names=CLASS_NAMES, names=names)
        self.seed = seed

    def __repr__(self) -> str:
        return f"SyntheticScenes({len(self)} images, seed={self.seed}, classes={CLASS_NAMES})"


def synthetic_scenes(n: int = 300, size=64, seed: int = 0) -> SyntheticScenes:
    """The synthetic-scenes dataset: ``n`` labelled beach/sunset/forest images of ``size``."""
    return SyntheticScenes(n, size, seed)
