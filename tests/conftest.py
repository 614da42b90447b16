"""Shared fixtures: the array module (NumPy always, CuPy when a GPU is present) and the
hypothesis profiles (CI: derandomized, no deadline, so the suite never flakes)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from tinycolor import backend

settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    max_examples=25,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
    print_blob=True,
)
_SUPPRESS = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
settings.register_profile("dev", deadline=None, max_examples=25, suppress_health_check=_SUPPRESS)
settings.register_profile(
    "thorough", deadline=None, max_examples=300, suppress_health_check=_SUPPRESS
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def _devices():
    return ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


@pytest.fixture(params=_devices())
def device(request):
    """'cpu', then 'cuda' (skipped cleanly when CuPy or a GPU is missing)."""
    if request.param == "cuda" and not backend.cuda_available():
        pytest.skip("no CuPy/GPU: the cuda case of this test needs one")
    return request.param


@pytest.fixture
def xp(device):
    """The array module of ``device``: numpy, or cupy on a GPU."""
    return backend.xp_for(device)


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state."""
    backend.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture(autouse=True, scope="session")
def _cache_in_a_temporary_folder(tmp_path_factory):
    """The prepared-Lab cache of the dataset folders the tests train on goes to a temporary
    folder, not the user's ~/.cache/tinycolor (tests that check the cache set their own)."""
    old = os.environ.get("TINYCOLOR_CACHE")
    os.environ["TINYCOLOR_CACHE"] = str(tmp_path_factory.mktemp("tinycolor-cache"))
    yield
    if old is None:
        os.environ.pop("TINYCOLOR_CACHE", None)
    else:
        os.environ["TINYCOLOR_CACHE"] = old


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: the case runs on CuPy and skips without a GPU")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


@pytest.fixture
def truth_work(monkeypatch):
    """Counts of the scoring's work on the true colours: ``{"rgb": Lab -> sRGB conversions of a
    batch, "classes": countings of its pixels' colour classes (nearest ab bins)}``, so a test
    can check each truth is converted and classed once, not once per score."""
    from tinycolor import metrics
    from tinycolor.models import lab_common

    calls = {"rgb": 0, "classes": 0}
    to_rgb = lab_common._lab_to_rgb_batch

    def counted_rgb(L, ab):
        calls["rgb"] += 1
        return to_rgb(L, ab)

    for module in (metrics, lab_common):  # the AuC's own classing, and truth_classes'
        classify = module.nearest_bin

        def counted_classes(*args, classify=classify, **kwargs):
            calls["classes"] += 1
            return classify(*args, **kwargs)

        monkeypatch.setattr(module, "nearest_bin", counted_classes)
    monkeypatch.setattr(lab_common, "_lab_to_rgb_batch", counted_rgb)
    return calls
