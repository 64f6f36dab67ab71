"""Graded labs: the public tests that ship with the library, and the grader a lab's first cell creates.

Serves the Preface, "How labs are graded". Each lab ``labNN`` is written once, as the otter-assign master
``solutions/labNN_<topic>.ipynb``; ``python tools/labs.py generate`` makes the student notebook
``labs/labNN_<topic>.ipynb`` and copies the lab's public tests into this package, under
``dltheory/lab_tests/labNN/``. A lab notebook opened on its own, in Colab for instance, therefore finds its
tests wherever the library is installed: ``grader`` points otter at that folder, so ``grader.check("q1")``
runs the public tests of question q1. When the instructor grades a submission, otter reads its own folder
of public and hidden tests instead.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # otter-grader is the optional dependency ``dltheory[labs]``, imported only by ``grader``
    import otter


def available_labs() -> list[str]:
    """The labs whose public tests ship with this installation of the library, such as ``["lab00"]``."""
    root = resources.files("dltheory") / "lab_tests"
    if not root.is_dir():
        return []
    return sorted(entry.name for entry in root.iterdir()
                  if entry.is_dir() and any(child.name.endswith(".py") for child in entry.iterdir()))


def public_tests(lab: str) -> Path:
    """The folder of the public tests of ``lab``: one otter test file per question, ``q1.py``, ``q2.py``, ...

    Serves the Preface, "How labs are graded".

    Raises:
        ValueError: if ``lab`` is not one of ``available_labs()``.
    """
    labs = available_labs()
    if lab not in labs:
        raise ValueError(f"lab must be one of {labs}, got {lab!r}")
    return Path(str(resources.files("dltheory") / "lab_tests" / lab))


def grader(lab: str) -> otter.Notebook:
    """An otter grader whose ``check("q1")`` runs the public tests of question q1 of ``lab``.

    Serves the Preface, "How labs are graded": the first cell of every lab calls ``grader("labNN")``. The
    tests are read from the installed library (``public_tests(lab)``), so the grader works in a notebook
    opened alone, in Colab too, where otter accepts only tests stored in a folder. While the instructor
    grades, otter replaces that folder by its own, which holds the hidden tests as well.

    Args:
        lab: the lab's name, such as ``"lab00"``.

    Raises:
        ValueError: if ``lab`` is not one of ``available_labs()``.
        ImportError: if otter-grader is not installed (install ``dltheory[labs]``).
    """
    folder = public_tests(lab)
    import otter

    return otter.Notebook(tests_dir=str(folder))
