"""Tests of the graded labs (Preface, "How labs are graded"): generation, grading, and the lab's own grader.

One module-scoped build of every lab (otter assign, a few seconds) and one grading run per lab are shared by
the tests. The grading run is the slow part: each submission runs in a bubblewrap sandbox of its own, and in
one of them gd_errors loops forever until the per-test time limit stops it. The cheating submissions are in
tests/test_grading_redteam.py, the wrong answers in tests/test_grading_mutants.py.
"""

from __future__ import annotations

import csv
import importlib.util
import inspect
import json
import math
import re
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import nbformat
import psutil
import pytest
import torch

import dltheory.labs

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120  # seconds for running a notebook: a loaded machine still runs a solution in time
CALL_TIMEOUT = 60  # seconds for one test's calls
LOOP_TIMEOUT = 5  # seconds per test for the notebook that loops forever (and twice that per cell)
SECRET = "test secret " + __import__("secrets").token_hex(8)  # a fresh one every run


def _load_tool():
    spec = importlib.util.spec_from_file_location("labs_tool", ROOT / "tools" / "labs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["labs_tool"] = module
    spec.loader.exec_module(module)
    return module


tool = _load_tool()
LABS = sorted(tool.masters())


def _test_files(folder: Path) -> dict[str, object]:
    from otter.nbmeta_config import NBMetadataConfig
    from otter.test_files import create_test_file

    return {path.stem: create_test_file(str(path), NBMetadataConfig()) for path in sorted(folder.glob("*.py"))}


def _with_infinite_loop(master: Path, function: str) -> nbformat.NotebookNode:
    """The solution with `while True: pass` as the first line of the body of `function`, without the cells that
    call it at top level (the master's own test cells among them), and with one more cell that loops forever."""
    notebook = nbformat.read(master, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.source.startswith(f"def {function}("):
            cell.source = cell.source.replace("    # BEGIN SOLUTION\n", "    # BEGIN SOLUTION\n    while True: pass\n", 1)
            assert "while True" in cell.source
            break
    else:
        raise AssertionError(f"no cell defines {function} in {master}")
    notebook.cells = [cell for cell in notebook.cells if cell.cell_type != "code" or f"{function}(" not in cell.source
                      or cell.source.startswith(f"def {function}(")]
    notebook.cells.append(nbformat.v4.new_code_cell("while True:\n    pass"))
    return notebook


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("built")
    return {lab: tool.build(lab, out) for lab in LABS}


@pytest.fixture(scope="module")
def grading_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder that holds this test run's grading folders, so that its processes can be told from others'."""
    return tmp_path_factory.mktemp("grading")


@pytest.fixture(scope="module")
def gradebooks(built: dict[str, object], tmp_path_factory: pytest.TempPathFactory,
               grading_root: Path) -> Iterator[dict[str, tuple[list, Path]]]:
    """Grade, per lab, its solution and its untouched student notebook (and, for lab00, an infinite loop)."""
    result = {}
    saved, tempfile.tempdir = tempfile.tempdir, str(grading_root)
    try:
        yield _grade_all(built, tmp_path_factory, result)
    finally:
        tempfile.tempdir = saved


def _grade_all(built: dict[str, object], tmp_path_factory: pytest.TempPathFactory,
               result: dict[str, tuple[list, Path]]) -> dict[str, tuple[list, Path]]:
    for lab in LABS:
        folder = tmp_path_factory.mktemp(f"submissions-{lab}")
        shutil.copy(tool.masters()[lab], folder / "solution.ipynb")
        shutil.copy(built[lab].student, folder / "blank.ipynb")
        out = folder / "gradebook.csv"
        grades = tool.grade(lab, built[lab].autograder, folder, out, secret=SECRET, timeout=TIMEOUT,
                            call_timeout=CALL_TIMEOUT, jobs=2)
        result[lab] = ({row.submission: row for row in grades}, out)
    folder = tmp_path_factory.mktemp("submissions-loop")
    nbformat.write(_with_infinite_loop(tool.masters()["lab00"], "gd_errors"), folder / "loop.ipynb")
    out = folder / "gradebook.csv"
    grades = tool.grade("lab00", built["lab00"].autograder, folder, out, secret=SECRET, timeout=TIMEOUT,
                        call_timeout=LOOP_TIMEOUT, limits=tool.grading.Limits(cell_timeout=2 * LOOP_TIMEOUT))
    result["loop"] = ({row.submission: row for row in grades}, out)
    return result


# ------------------------------------------------------------------------------------------ generation


def test_committed_labs_are_up_to_date() -> None:
    problems = tool.check()
    assert problems == [], "run `python tools/labs.py generate`:\n" + "\n".join(problems)


def test_check_lists_stale_and_stray_files(tmp_path: Path) -> None:
    for folder in (tool.SOLUTIONS, tool.LABS, tool.LAB_TESTS):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    stale = tmp_path / tool.LABS / "lab00_gd.ipynb"
    stale.write_text(stale.read_text(encoding="utf-8").replace("Gradient descent", "Gradient ascent"), encoding="utf-8")
    (tmp_path / tool.LAB_TESTS / "lab00" / "q9.py").write_text("# stray\n", encoding="utf-8")
    assert tool.check(root=tmp_path) == [
        "labs/lab00_gd.ipynb: out of date",
        "src/dltheory/lab_tests/lab00/q9.py: not generated by any master (delete it)",
    ]


def test_master_must_name_its_assignment(tmp_path: Path) -> None:
    notebook = nbformat.read(tool.masters()["lab00"], as_version=4)
    del notebook.metadata["otter"]
    (tmp_path / tool.SOLUTIONS).mkdir()
    nbformat.write(notebook, tmp_path / tool.SOLUTIONS / "lab00_gd.ipynb")
    with pytest.raises(ValueError, match="assignment 'lab00'"):
        tool.build("lab00", tmp_path / "out", root=tmp_path)


def test_student_notebooks_start_with_the_lab_setup_cell(built: dict[str, object]) -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from notebook_cells import setup_cell
    finally:
        sys.path.remove(str(ROOT / "tools"))
    for lab in LABS:
        notebook = nbformat.read(built[lab].student, as_version=4)
        first = next(cell for cell in notebook.cells if cell.cell_type == "code")
        assert first.source == setup_cell(built[lab].student.stem, dltheory.__version__, lab=lab)


def test_hidden_tests_ship_only_in_the_autograder(built: dict[str, object], tmp_path: Path) -> None:
    for lab in LABS:
        with zipfile.ZipFile(built[lab].autograder) as archive:
            archive.extractall(tmp_path / lab, [name for name in archive.namelist() if name.startswith("tests/")])
        full = _test_files(tmp_path / lab / "tests")
        public = _test_files(ROOT / tool.LAB_TESTS / lab)
        assert full.keys() == public.keys() and full, f"{lab}: the same questions in the autograder and the library"
        student = built[lab].student.read_text(encoding="utf-8")
        for question, test in full.items():
            hidden = [case.body.test_func.__name__ for case in test.test_cases if case.hidden]
            shown = [case.body.test_func.__name__ for case in test.test_cases if not case.hidden]
            assert hidden, f"{lab} {question} has no hidden test"
            assert shown, f"{lab} {question} has no public test"
            assert [case.body.test_func.__name__ for case in public[question].test_cases] == shown
            for name in hidden:
                assert name not in student, f"hidden test {name} leaked into the student notebook"
                assert name not in (ROOT / tool.LAB_TESTS / lab / f"{question}.py").read_text(encoding="utf-8")


def test_unknown_lab_is_named() -> None:
    with pytest.raises(ValueError, match="lab must be one of .*'lab99'"):
        tool.master_of("lab99")
    with pytest.raises(ValueError, match="lab must be one of .*'lab99'"):
        dltheory.labs.grader("lab99")


def test_grade_rejects_bad_arguments(built: dict[str, object], tmp_path: Path) -> None:
    autograder = built[LABS[0]].autograder
    out = tmp_path / "gradebook.csv"
    with pytest.raises(ValueError, match="submissions"):
        tool.grade(LABS[0], autograder, tmp_path, out, secret=SECRET)
    with pytest.raises(ValueError, match="timeout"):
        tool.grade(LABS[0], autograder, tmp_path, out, secret=SECRET, timeout=0)
    with pytest.raises(ValueError, match="call_timeout"):
        tool.grade(LABS[0], autograder, tmp_path, out, secret=SECRET, call_timeout=-1)
    with pytest.raises(ValueError, match="jobs"):
        tool.grade(LABS[0], autograder, tmp_path, out, secret=SECRET, jobs=0)
    with pytest.raises(ValueError, match="secret"):
        tool.grade(LABS[0], autograder, tmp_path, out, secret=" ")
    with pytest.raises(ValueError, match="memory"):
        tool.grading.Limits(memory=0)


def test_grading_needs_the_instructors_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(dltheory.labs.SECRET_VARIABLE, raising=False)
    with pytest.raises(ValueError, match="--seed-file"):
        tool.read_secret(None)
    with pytest.raises(ValueError, match="seed_file .* cannot be read"):
        tool.read_secret(tmp_path / "missing")
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    with pytest.raises(ValueError, match="seed_file .* is empty"):
        tool.read_secret(tmp_path / "empty")
    (tmp_path / "secret").write_text("  s3cret\n", encoding="utf-8")
    assert tool.read_secret(tmp_path / "secret") == "s3cret"
    monkeypatch.setenv(dltheory.labs.SECRET_VARIABLE, "from the environment")
    assert tool.read_secret(None) == "from the environment"
    assert tool.main(["grade", "lab00", str(tmp_path), "--seed-file", str(tmp_path / "empty")]) == 2


def test_hidden_inputs_depend_on_the_secret() -> None:
    try:
        dltheory.labs.set_grading_secret("one")
        first = dltheory.labs.grading_seed("lab00.q1")
        assert dltheory.labs.grading_seed("lab00.q1") == first and dltheory.labs.grading_seed("lab00.q2") != first
        dltheory.labs.set_grading_secret("two")
        assert dltheory.labs.grading_seed("lab00.q1") != first
    finally:
        dltheory.labs.set_grading_secret(None)
    with pytest.raises(ValueError, match="name"):
        dltheory.labs.grading_seed("")
    with pytest.raises(ValueError, match="secret"):
        dltheory.labs.set_grading_secret("")


def test_every_hidden_test_draws_from_the_secret(built: dict[str, object], tmp_path: Path) -> None:
    for lab in LABS:
        questions = tool.grading.tests_from_autograder(built[lab].autograder, tmp_path / lab)
        for question, specs in questions.items():
            for spec in specs:
                if spec.hidden:
                    source = inspect.getsource(spec.function)
                    pattern = rf"""grading_seed\(["']{lab}\.{question}["']\)"""
                    assert re.search(pattern, source), f"{lab} {spec.name} uses fixed inputs"


def test_unavailable_functions_are_stubs_in_the_grading_library(tmp_path: Path) -> None:
    for lab, names in dltheory.labs.UNAVAILABLE.items():
        library = tool.grading.grading_library(Path(dltheory.__file__).parent, names, tmp_path / lab)
        for name in names:
            module, _, qualname = name.partition(":")
            source = library.joinpath(*module.split(".")[1:]).with_suffix(".py").read_text(encoding="utf-8")
            function = qualname.split(".")[-1]
            assert f"{name.replace(':', '.')} is unavailable while grading" in source
            assert source.count(f"def {function}(") == 1, f"{lab}: the original {qualname} is still in the copy"
    with pytest.raises(ValueError, match="no_such_function"):
        tool.grading.grading_library(Path(dltheory.__file__).parent, ("dltheory.quadratic:no_such_function",),
                                     tmp_path / "bad")


# ------------------------------------------------------------------------------------------ the lab's grader


def _solution(function: str) -> str:
    notebook = nbformat.read(tool.masters()["lab00"], as_version=4)
    return next(cell.source for cell in notebook.cells
                if cell.cell_type == "code" and cell.source.startswith(f"def {function}("))


def test_grader_runs_public_tests_in_an_empty_folder_as_on_colab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dltheory.quadratic import Quadratic
    from otter.check.utils import IPythonInterpreter

    monkeypatch.chdir(tmp_path)  # a lone notebook's folder: no tests/ next to it
    # Make otter believe it runs in Colab, where it refuses tests stored in the notebook.
    monkeypatch.setattr(IPythonInterpreter.COLAB.value, "running", lambda: True)
    grader = dltheory.labs.grader("lab00")
    assert grader.interpreter is IPythonInterpreter.COLAB

    env = {"torch": torch, "math": math, "Quadratic": Quadratic}
    exec(_solution("gd_errors"), env)
    right = grader.check("q1", env)
    assert right.passed_all and right.grade == 1.0
    assert len(right.test_cases) == 2  # the public tests only

    env["gd_errors"] = lambda quadratic, eta, steps, x0=None: torch.zeros(steps + 1, dtype=torch.float64)
    wrong = grader.check("q1", env)
    assert not wrong.passed_all and wrong.grade < 1.0

    # The library's answer is unavailable to the student's code, and the check says so.
    from dltheory.quadratic import gradient_descent
    env["gradient_descent"] = gradient_descent  # as after `from dltheory.quadratic import gradient_descent`
    exec("def gd_errors(quadratic, eta, steps, x0=None):\n    return gradient_descent(quadratic, eta, steps, x0).errors", env)
    borrowed = grader.check("q1", env)
    assert not borrowed.passed_all and "gradient_descent is unavailable in this lab" in repr(borrowed)
    assert env["gradient_descent"] is gradient_descent  # restored after the check
    assert dltheory.quadratic.gradient_descent is gradient_descent


# ------------------------------------------------------------------------------------------ grading


@pytest.mark.slow
def test_every_solution_scores_full_marks(gradebooks: dict[str, tuple[list, Path]]) -> None:
    for lab in LABS:
        grades, _ = gradebooks[lab]
        solution = grades["solution.ipynb"]
        assert solution.status == "ok", f"{lab}: {solution.detail}"
        assert solution.scores == solution.possible and solution.percent == 100.0, f"{lab}: {solution.scores}"


@pytest.mark.slow
def test_every_untouched_lab_scores_zero_on_every_question(gradebooks: dict[str, tuple[list, Path]]) -> None:
    for lab in LABS:
        grades, _ = gradebooks[lab]
        blank = grades["blank.ipynb"]
        assert blank.status == "ok", f"{lab}: {blank.detail}"
        assert all(score == 0 for score in blank.scores.values()), f"{lab}: {blank.scores}"
        assert all(points > 0 for points in blank.possible.values())


@pytest.mark.slow
def test_infinite_loop_costs_its_question_only(gradebooks: dict[str, tuple[list, Path]]) -> None:
    grades, out = gradebooks["loop"]
    loop = grades["loop.ipynb"]
    assert loop.status == "ok", loop.detail
    assert loop.scores["q1"] == 0
    assert all(loop.scores[q] == loop.possible[q] for q in loop.possible if q != "q1"), loop.scores
    assert [test.verdict for test in loop.tests if test.question == "q1"] == ["timeout"] * 3
    assert all("gd_errors did not return in time" in test.message for test in loop.tests if test.question == "q1")
    assert "CellTimeout" in loop.detail  # the cell that loops at top level was stopped
    # Nothing the sandbox started survives (each sandbox runs as a uid of its own, and close() checks it).
    survivors = [process.pid for process in psutil.process_iter(["cmdline"])
                 if "/grader/worker.py" in " ".join(process.info["cmdline"] or [])]
    assert survivors == []
    with open(out, newline="", encoding="utf-8") as stream:
        rows = {row["submission"]: row for row in csv.DictReader(stream)}
    questions = list(loop.possible)
    assert list(rows["loop.ipynb"]) == ["submission", "status", *questions, "total", "possible", "percent", "detail"]
    assert rows["loop.ipynb"]["status"] == "ok" and rows["loop.ipynb"]["q1"] == "0"
    possible = sum(loop.possible.values())
    assert rows["loop.ipynb"]["percent"] == f"{100 * (possible - loop.possible['q1']) / possible:.1f}"
    detail = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    (entry,) = detail["submissions"]
    assert entry["submission"] == "loop.ipynb" and len(entry["tests"]) == len(loop.tests) == 11  # every test of lab00
    assert {test["verdict"] for test in entry["tests"]} == {"timeout", "passed"}
    assert all(test["message"] for test in entry["tests"] if test["verdict"] != "passed")


@pytest.mark.slow
def test_gradebook_of_solution_and_blank(gradebooks: dict[str, tuple[list, Path]]) -> None:
    grades, out = gradebooks["lab00"]
    with open(out, newline="", encoding="utf-8") as stream:
        rows = {row["submission"]: row for row in csv.DictReader(stream)}
    possible = grades["solution.ipynb"].possible
    assert rows["solution.ipynb"]["percent"] == "100.0" and rows["blank.ipynb"]["percent"] == "0.0"
    assert [rows["solution.ipynb"][q] for q in possible] == [f"{possible[q]:g}" for q in possible]
    detail = {entry["submission"]: entry for entry in json.loads(out.with_suffix(".json").read_text())["submissions"]}
    assert all(test["verdict"] == "passed" and test["score"] == test["points"] for test in detail["solution.ipynb"]["tests"])
    assert all(test["verdict"] == "failed" and test["score"] == 0 for test in detail["blank.ipynb"]["tests"])
