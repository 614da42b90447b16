"""The natural colour photographs that scikit-image ships inside its wheel (no download).

In scikit-image 0.2x these load offline: ``astronaut`` (512x512), ``coffee`` (400x600),
``chelsea`` (a cat, 300x451; ``cat`` is the same picture), ``rocket`` (427x640) and the
``stereo_motorcycle`` pair (500x741). Left out on purpose: scientific images (retina,
immunohistochemistry, the Hubble deep field), drawings (logo, colorwheel), gray images, and
everything that needs ``pooch`` to download (lily, skin, eagle, ...). A photo whose loader
fails (a trimmed install, a future skimage that moves it) is skipped with a warning rather than
breaking the default dataset.

The right motorcycle view is a near-duplicate of the left one, so it is only included on
request (``names=PHOTO_NAMES + ("motorcycle_right",)``).
"""

from __future__ import annotations

import warnings

import numpy as np

from .folder import ArrayDataset

__all__ = ["ALL_PHOTO_NAMES", "PHOTO_NAMES", "load_photo", "skimage_photos"]

PHOTO_NAMES = ("astronaut", "coffee", "chelsea", "rocket", "motorcycle_left")
ALL_PHOTO_NAMES = PHOTO_NAMES + ("motorcycle_right",)


def load_photo(name: str) -> np.ndarray:
    """One bundled photo as uint8 (H, W, 3). Raises if this skimage cannot load it offline."""
    from skimage import data

    if name not in ALL_PHOTO_NAMES:
        raise ValueError(f"load_photo: expected one of {ALL_PHOTO_NAMES}, got {name!r}")
    if name.startswith("motorcycle_"):
        left, right, _ = data.stereo_motorcycle()
        img = left if name == "motorcycle_left" else right
    else:
        img = getattr(data, name)()
    img = np.asarray(img)
    if img.ndim != 3 or img.shape[-1] != 3:
        raise ValueError(f"load_photo: skimage's {name} is not an RGB image: shape {img.shape}")
    return img


def skimage_photos(names=PHOTO_NAMES, size=None) -> ArrayDataset:
    """The bundled colour photos as a dataset (float32 RGB on access, no labels).

    ``size`` resizes each so its short side is ``size`` (an int) or to exactly (h, w).
    Photos that cannot be loaded offline are skipped with a warning; none at all is an error.
    """
    images, kept, failed = [], [], []
    for name in names:
        try:
            images.append(load_photo(name))
            kept.append(name)
        except Exception as e:  # missing data files or a download-only photo: skip it
            failed.append(f"{name} ({type(e).__name__}: {e})")
    if failed:
        warnings.warn(
            "skimage_photos: could not load " + "; ".join(failed), RuntimeWarning, stacklevel=2
        )
    if not images:
        raise RuntimeError(
            "skimage_photos: none of the bundled scikit-image photos could be loaded"
        )
    return ArrayDataset(images, names=kept, size=size)
