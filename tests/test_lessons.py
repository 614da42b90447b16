"""The lessons: every notebook in ``lessons/`` runs top to bottom, and is committed clean.

Each notebook is executed with nbclient in a fresh ``python3`` kernel (the interpreter running
the tests), with ``TINYCOLOR_FAST=1`` (small data, few epochs) and ``MPLBACKEND=Agg`` (no
display) in the kernel's environment, the repository on its ``PYTHONPATH`` and a temporary
directory as its working directory. A failing cell fails the test with that cell's source and
error. New notebooks are picked up by the glob.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
NOTEBOOKS = sorted(LESSONS.glob("*.ipynb"))
CELL_TIMEOUT_S = 180  # FAST mode: no cell should come near this
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _ids(path: Path) -> str:
    return path.stem


def _kernel_tools():
    """nbformat, nbclient and the kernel, or a skip saying what to install."""
    missing = []
    mods = {}
    for name in ("nbformat", "nbclient", "ipykernel"):
        try:
            mods[name] = __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        pytest.skip(
            f"executing the lessons needs {', '.join(missing)}: "
            "pip install -e '.[test]' (or pip install nbclient nbformat ipykernel)"
        )
    return mods["nbformat"], mods["nbclient"]


def _failure_report(nb, exc) -> str:
    """The first cell with an error output: its index, source and the error, without ANSI codes."""
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                trace = ANSI.sub("", "\n".join(out.get("traceback", [])))
                return (
                    f"cell {index} failed:\n{cell.source}\n\n"
                    f"{out.get('ename')}: {out.get('evalue')}\n\n{trace[-4000:]}"
                )
    return ANSI.sub("", str(exc))[-6000:]


def test_lessons_exist():
    assert NOTEBOOKS, f"no notebooks found in {LESSONS}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_lesson_runs(path, tmp_path, device):
    """On the CPU, and on a GPU with TINYCOLOR_DEVICE=cuda (a learner's setting there)."""
    nbformat, nbclient = _kernel_tools()
    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ)
    env.update(TINYCOLOR_FAST="1", MPLBACKEND="Agg", TINYCOLOR_DEVICE=device)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",  # jupyter_client starts it with sys.executable
        resources={"metadata": {"path": str(tmp_path)}},
    )
    try:
        client.execute(env=env)
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{path.name}: {_failure_report(nb, exc)}", pytrace=False)
    except nbclient.exceptions.CellTimeoutError as exc:
        pytest.fail(f"{path.name}: a cell ran over {CELL_TIMEOUT_S} s: {exc}", pytrace=False)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_lesson_committed_clean(path):
    """No outputs or execution counts in the repository, a python3 kernelspec, and a first code
    cell that reads TINYCOLOR_FAST (so the test above can shrink the lesson)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb.get("metadata", {}).get("kernelspec", {}).get("name") == "python3", (
        f"{path.name}: metadata.kernelspec.name should be 'python3'"
    )
    dirty = [
        i
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} have outputs or execution counts; clear them before "
        "committing (jupyter nbconvert --clear-output --inplace lessons/*.ipynb)"
    )
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{path.name}: no code cells"
    first = "".join(code[0]["source"])
    assert "TINYCOLOR_FAST" in first and "FAST =" in first, (
        f"{path.name}: the first code cell should set FAST from the TINYCOLOR_FAST variable"
    )


def test_readme_lists_every_lesson():
    readme = (LESSONS / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in NOTEBOOKS if p.name not in readme]
    assert not missing, f"lessons/README.md does not mention {missing}"


if __name__ == "__main__":  # pragma: no cover - run one lesson: python tests/test_lessons.py
    sys.exit(pytest.main([__file__, "-q", *sys.argv[1:]]))
