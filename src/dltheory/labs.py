"""Graded labs: the public tests that ship with the library, and the grader a lab's first cell creates.

Serves the Preface, "How labs are graded". Each lab ``labNN`` is written once, as the otter-assign master
``solutions/labNN_<topic>.ipynb``; ``python tools/labs.py generate`` makes the student notebook
``labs/labNN_<topic>.ipynb`` and copies the lab's public tests into this package, under
``dltheory/lab_tests/labNN/``. A lab notebook opened on its own, in Colab for instance, therefore finds its
tests wherever the library is installed: ``grader`` points otter at that folder, so ``grader.check("q1")``
runs the public tests of question q1, with the library functions that answer the lab's questions
unavailable to the student's code. When the instructor grades a submission, ``tools/labs.py grade`` runs the
notebook in a sandbox and calls its functions from the grader's own process, where the public and hidden
tests run; hidden tests draw their inputs from ``grading_seed``, derived from the instructor's secret.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import os
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # otter-grader is the optional dependency ``dltheory[labs]``, imported only by ``grader``
    import otter


#: The library functions that answer a question of each lab, by module and qualified name joined with a colon
#: (``"dltheory.quadratic:gd_rate"``). While a submission
#: is graded they are stubs that raise inside its sandbox (tools/grading), and ``grader(lab).check`` makes
#: them raise when the student's own code calls them, so that a public check says so.
UNAVAILABLE: dict[str, tuple[str, ...]] = {
    "lab00": ("dltheory.quadratic:gradient_descent", "dltheory.quadratic:measured_rate", "dltheory.quadratic:gd_rate",
              "dltheory.quadratic:optimal_step", "dltheory.quadratic:optimal_rate",
              "dltheory.quadratic:steps_to_reach"),
    "lab01": ("dltheory.ntk:relu_gram", "dltheory.ntk:relu_angle", "dltheory.ntk:empirical_ntk",
              "dltheory.twolayer:TwoLayerReLU.gram", "dltheory.twolayer:gram_of_patterns",
              "dltheory.ntk:eigen_dynamics", "dltheory.ntk:funk_hecke_eigenvalues"),
    "lab02": ("dltheory.rgflow:kernel_recursion", "dltheory.rgflow:chi_parallel", "dltheory.rgflow:chi_perp",
              "dltheory.rgflow:fixed_point", "dltheory.rgflow:critical_point", "dltheory.rgflow:critical_C_W",
              "dltheory.rgflow:normalized_vertex", "dltheory.rgflow:criticality", "dltheory.rgflow:a1_coefficient"),
    "lab03": ("dltheory.approx:sawtooth_net", "dltheory.approx:yarotsky_square_net", "dltheory.approx:tent_map",
              "dltheory.approx:interpolation_net", "dltheory.approx:linear_pieces",
              "dltheory.approx:count_linear_pieces"),
    "lab04": ("dltheory.search:alphabeta", "dltheory.search:minimax", "dltheory.search:solve",
              "dltheory.search:minimal_tree_leaves", "dltheory.alphazero:optimal_moves", "dltheory.mcts:puct"),
}

#: The environment variable that may hold the instructor's grading secret (``tools/labs.py grade --seed-file``
#: is the other way to pass it).
SECRET_VARIABLE = "DLTHEORY_GRADING_SECRET"
_DEVELOPMENT_SECRET = "development: not a secret, for running the masters only"
_secret: str | None = None


def set_grading_secret(secret: str | None) -> None:
    """Set (or, with None, forget) the instructor's secret from which hidden tests draw their inputs.

    Raises:
        ValueError: if ``secret`` is not a non-empty string or None.
    """
    global _secret
    if secret is not None and (not isinstance(secret, str) or not secret.strip()):
        raise ValueError(f"secret must be a non-empty string or None, got {secret!r}")
    _secret = secret


def grading_secret_is_set() -> bool:
    """Whether hidden tests draw from an instructor's secret (set here or in ``DLTHEORY_GRADING_SECRET``)."""
    return bool(_secret or os.environ.get(SECRET_VARIABLE, "").strip())


def grading_seed(name: str) -> int:
    """A seed for the inputs of the hidden test ``name``, derived from the instructor's secret.

    Serves the Preface, "How labs are graded": the masters, and so the hidden tests' code, are public, but their
    inputs are drawn at grading time from this seed, which depends on a secret kept outside the repository
    (``set_grading_secret``, or the environment variable ``DLTHEORY_GRADING_SECRET``). Without a secret, as when
    a master runs as a notebook, a fixed development secret is used. The grader runs the hidden tests in its own
    process; a submission's sandbox sees neither the secret nor the seeds.

    Raises:
        ValueError: if ``name`` is not a non-empty string.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    secret = _secret or os.environ.get(SECRET_VARIABLE, "").strip() or _DEVELOPMENT_SECRET
    digest = hashlib.sha256(f"{secret}\0{name}".encode()).digest()
    return int.from_bytes(digest[:7], "big")


def _resolve(target: str) -> tuple[object, str, object]:
    module_name, _, qualname = target.partition(":")
    owner: object = importlib.import_module(module_name)
    *path, attribute = qualname.split(".")
    for part in path:
        owner = getattr(owner, part)
    return owner, attribute, getattr(owner, attribute)


def _called_by_the_student() -> bool:
    """Whether the caller of a guarded function is neither the library's code nor a lab's test (otter test files
    define ``OK_FORMAT`` and ``test_case`` in their globals)."""
    frame = sys._getframe(2)
    if "OK_FORMAT" in frame.f_globals and "test_case" in frame.f_globals:
        return False
    filename = frame.f_code.co_filename
    if filename.startswith("<"):
        return True
    package = Path(__file__).resolve().parent
    return package not in Path(filename).resolve().parents


@contextlib.contextmanager
def unavailable(lab: str, namespace: dict | None = None) -> Iterator[None]:
    """Make the library functions that answer a question of ``lab`` raise when code outside the library calls them.

    Serves the Preface, "How labs are graded": ``grader(lab).check`` runs the public tests inside this context,
    so a student whose function calls, say, ``gradient_descent`` in Lab 0 is told to write it. The library's
    own code and the lab's tests may still call them. Names in ``namespace`` (the notebook's globals) bound to
    one of these functions, as after ``from dltheory.quadratic import gradient_descent``, are guarded too.

    Raises:
        ValueError: if ``lab`` has no entry in ``UNAVAILABLE``.
    """
    if lab not in UNAVAILABLE:
        raise ValueError(f"lab must be one of {sorted(UNAVAILABLE)}, got {lab!r}")
    saved = []
    for target in UNAVAILABLE[lab]:
        owner, attribute, original = _resolve(target)
        is_property = isinstance(original, property)
        function = original.fget if is_property else original

        def guard(*args, __original=function, __target=target, **kwargs):
            if _called_by_the_student():
                raise NotImplementedError(f"{__target.replace(':', '.')} is unavailable in this lab: "
                                          "write it yourself")
            return __original(*args, **kwargs)

        functools.update_wrapper(guard, function)
        saved.append((owner, attribute, original))
        setattr(owner, attribute, property(guard) if is_property else guard)
        for name, value in list((namespace or {}).items()):
            if value is original:
                saved.append((namespace, name, original))
                namespace[name] = guard
    try:
        yield
    finally:
        for owner, attribute, original in reversed(saved):
            if isinstance(owner, dict):
                owner[attribute] = original
            else:
                setattr(owner, attribute, original)


class LabGrader:
    """An otter notebook grader whose ``check`` runs with the lab's reference functions unavailable."""

    def __init__(self, notebook: otter.Notebook, lab: str) -> None:
        self._notebook, self._lab = notebook, lab

    def check(self, question: str, global_env: dict | None = None):
        """otter's ``Notebook.check`` of ``question`` in the caller's globals, with ``unavailable(lab)``."""
        if global_env is None:
            global_env = sys._getframe(1).f_globals
        with unavailable(self._lab, global_env):
            return self._notebook.check(question, global_env)

    def __getattr__(self, name: str):
        return getattr(self._notebook, name)


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


def grader(lab: str) -> LabGrader:
    """An otter grader whose ``check("q1")`` runs the public tests of question q1 of ``lab``.

    Serves the Preface, "How labs are graded": the first cell of every lab calls ``grader("labNN")``. The
    tests are read from the installed library (``public_tests(lab)``), so the grader works in a notebook
    opened alone, in Colab too, where otter accepts only tests stored in a folder. ``check`` runs them with
    the library functions that answer the lab's questions unavailable to the student's code (``unavailable``).
    The instructor's grading does not use this object: ``tools/labs.py grade`` calls the student's functions
    from its own process, through a sandbox.

    Args:
        lab: the lab's name, such as ``"lab00"``.

    Raises:
        ValueError: if ``lab`` is not one of ``available_labs()``.
        ImportError: if otter-grader is not installed (install ``dltheory[labs]``).
    """
    folder = public_tests(lab)
    import otter

    return LabGrader(otter.Notebook(tests_dir=str(folder)), lab)
