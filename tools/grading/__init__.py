"""Grading that a cheating student cannot beat (README, "Grade labs"; CONTRIBUTING.md, "Add a lab").

The tests of a lab, public and hidden, are otter test files made by otter assign from the master. They run here,
in the grader's process, with the real library; the student's notebook runs in a `sandbox.Sandbox`. Each
parameter of a test function (``gd_errors``, ``alphabeta_count``, ...) is a `Proxy`: calling it encodes the
arguments as plain data (`codec`), asks the sandbox to call the student's function of that name, and decodes the
reply with strict types, so what a test compares is numbers, strings and containers built by the grader, never
an object of the student's. A test passes when it returns without raising; its score is its points, a failing
test scores 0, and a question scores at most the sum of its tests' points. A call that times out or crashes
the sandbox fails that test; the sandbox is started again for the rest. The gradebook is written by the caller
after every sandbox is closed.
"""

from __future__ import annotations

import inspect
import json
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import codec
from .sandbox import CallTimeout, Limits, Sandbox, SandboxError, bwrap_available, grading_library

__all__ = ["CallTimeout", "Grade", "Limits", "Proxy", "StudentError", "TestResult", "TestSpec", "grade_submission",
           "load_tests", "prepare", "bwrap_available"]

MAX_NOTEBOOK = 20 * 1024 * 1024
MAX_RESTARTS = 8


class StudentError(Exception):
    """The student's function raised, or replied with something that is not plain data."""


@dataclass(frozen=True)
class TestSpec:
    """One test case of a question: its function (run in the grader) and its points."""

    question: str
    name: str
    function: Callable[..., None]
    points: float
    hidden: bool

    @property
    def parameters(self) -> list[str]:
        return list(inspect.signature(self.function).parameters)


@dataclass
class TestResult:
    """The verdict of one test on one submission."""

    question: str
    test: str
    hidden: bool
    points: float
    score: float
    verdict: str  # "passed", "failed", "timeout" or "error"
    message: str = ""


@dataclass
class Grade:
    """One row of the gradebook: a submission's status, its score on every question, and every test's verdict."""

    submission: str
    status: str  # "ok", "timeout" or "error"
    scores: dict[str, float]
    possible: dict[str, float]
    detail: str = ""
    tests: list[TestResult] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(self.scores.values())

    @property
    def percent(self) -> float:
        possible = sum(self.possible.values())
        return 100.0 * self.total / possible if possible else 0.0


def load_tests(folder: Path) -> dict[str, list[TestSpec]]:
    """The test cases of every question in a folder of otter test files (``q1.py``, ...), in file order.

    Raises:
        ValueError: if the folder holds no test file, or a test case has no positive points.
    """
    from otter.nbmeta_config import NBMetadataConfig
    from otter.test_files import create_test_file

    questions: dict[str, list[TestSpec]] = {}
    for path in sorted(folder.glob("*.py"), key=lambda p: (len(p.stem), p.stem)):
        test_file = create_test_file(str(path), NBMetadataConfig())
        specs = []
        for case in test_file.test_cases:
            points = float(case.points) if case.points is not None else 1.0
            if not points > 0:
                raise ValueError(f"{path.name}: test {case.name} must have positive points, got {case.points!r}")
            specs.append(TestSpec(test_file.name, case.body.test_func.__name__, case.body.test_func, points,
                                  bool(case.hidden)))
        questions[test_file.name] = specs
    if not questions:
        raise ValueError(f"no test files in {folder}")
    return questions


def tests_from_autograder(autograder: Path, out: Path) -> dict[str, list[TestSpec]]:
    """`load_tests` of the ``tests/`` folder of an otter autograder zip, extracted under `out`."""
    with zipfile.ZipFile(autograder) as archive:
        names = [name for name in archive.namelist() if re.fullmatch(r"tests/[^/]+\.py", name)]
        archive.extractall(out, names)
    return load_tests(out / "tests")


# ---------------------------------------------------------------------------------------------- one submission


class Session:
    """The sandbox of one submission, started on the first call and again after a timeout or a crash."""

    def __init__(self, notebook: dict, prepared: Prepared, timeout: float) -> None:
        self.notebook, self.prepared, self.timeout = notebook, prepared, timeout
        self.sandbox: Sandbox | None = None
        self.starts = 0
        self.failed_cells: list[dict] = []
        self.given_up: str | None = None
        self.timed_out: dict[str, str] = {}
        self.skipped_cells: set[int] = set()  # cells that ran out of time once are not run again on a restart

    def ensure(self) -> Sandbox:
        if self.sandbox is not None and self.sandbox.alive:
            return self.sandbox
        self.close()
        if self.given_up:
            raise SandboxError(self.given_up)
        if self.starts > MAX_RESTARTS:
            self.given_up = f"the notebook's process was restarted {MAX_RESTARTS} times; no more"
            raise SandboxError(self.given_up)
        self.starts += 1
        sandbox = Sandbox(self.notebook, self.prepared.library, self.prepared.package, self.prepared.worker,
                          self.prepared.limits, self.prepared.tmp)
        try:
            failed = sandbox.start(self.timeout, sorted(self.skipped_cells))
            if self.starts == 1:
                self.failed_cells = failed
            self.skipped_cells |= {cell["cell"] for cell in failed if type(cell.get("cell")) is int
                                   and str(cell.get("error", "")).startswith("CellTimeout")}
        except CallTimeout:
            self.given_up = f"the notebook did not finish running within {self.timeout:g} s"
            raise
        except SandboxError as error:
            self.given_up = f"the notebook could not be run: {error}"
            raise
        self.sandbox = sandbox
        return sandbox

    def close(self) -> None:
        if self.sandbox is not None:
            sandbox, self.sandbox = self.sandbox, None
            sandbox.close()


class Proxy:
    """Stands for the student's function `name` in a test: each call is answered by the sandbox, as plain data."""

    def __init__(self, session: Session, name: str, deadline: list[float]) -> None:
        self._session, self._name, self._deadline = session, name, deadline  # deadline[0], shared by a test
        self.__name__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        session = self._session
        if self._name in session.timed_out:
            raise CallTimeout(session.timed_out[self._name])
        try:
            encoded_args, encoded_kwargs = codec.encode(list(args)), codec.encode(kwargs)
        except TypeError as error:  # a test passed something the protocol does not carry: a bug of the lab
            raise RuntimeError(f"the grader cannot send the arguments of {self._name}: {error}") from None
        started = time.monotonic()
        sandbox = session.ensure()
        self._deadline[0] += time.monotonic() - started  # running the notebook again is not the test's time
        try:
            reply = sandbox.call(self._name, encoded_args, encoded_kwargs, self._deadline[0])
        except CallTimeout:
            message = f"{self._name} did not return in time"
            session.timed_out[self._name] = message + " (an earlier call timed out)"
            session.close()
            raise CallTimeout(message) from None
        except SandboxError:
            session.close()
            raise
        if "error" in reply:
            error = reply["error"]
            raise StudentError(f"{self._name} raised {error if type(error) is str else 'an error'}")
        if set(reply) != {"id", "value"}:
            raise StudentError(f"{self._name} sent a malformed reply")
        try:
            return codec.decode(reply["value"], plain=True)
        except codec.DecodeError as error:
            raise StudentError(f"{self._name} returned something that is not plain data: {error}") from None

    def __repr__(self) -> str:
        return f"<the student's {self._name}>"


def _message(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    if not isinstance(error, (AssertionError, StudentError, CallTimeout, SandboxError)):
        text = f"{type(error).__name__}: {text}"
    return text[:500]


def run_test(spec: TestSpec, session: Session, call_timeout: float) -> TestResult:
    """Run one test against the session's sandbox and return its verdict (score 0 or the test's points)."""
    deadline = [time.monotonic() + call_timeout]
    proxies = {name: Proxy(session, name, deadline) for name in spec.parameters}
    verdict, message = "passed", ""
    try:
        spec.function(**proxies)
    except CallTimeout as error:
        verdict, message = "timeout", _message(error)
    except SandboxError as error:
        verdict, message = "error", _message(error)
    except BaseException as error:  # noqa: BLE001  (an assertion, or the test's own code failing on a reply)
        if isinstance(error, KeyboardInterrupt):
            raise
        verdict, message = "failed", _message(error)
    score = min(spec.points, spec.points if verdict == "passed" else 0.0)
    return TestResult(spec.question, spec.name, spec.hidden, spec.points, score, verdict, message)


@dataclass(frozen=True)
class Prepared:
    """What grading one lab needs, made once: tests, the stubbed library, the worker, limits."""

    lab: str
    questions: dict[str, list[TestSpec]]
    library: Path
    package: Path
    worker: Path
    tmp: Path
    limits: Limits

    @property
    def possible(self) -> dict[str, float]:
        return {question: sum(spec.points for spec in specs) for question, specs in self.questions.items()}


def prepare(lab: str, tests: Path, unavailable: tuple[str, ...], tmp: Path, limits: Limits | None = None) -> Prepared:
    """Load the tests of `lab` from `tests` (an autograder zip or a folder) and build the sandbox's files in `tmp`.

    Raises:
        ValueError: if bubblewrap is missing, or the tests or `unavailable` are wrong.
    """
    import dltheory

    if not bwrap_available():
        raise ValueError("grading needs bubblewrap and prlimit (Debian: apt-get install bubblewrap util-linux)")
    questions = tests_from_autograder(tests, tmp / "autograder") if tests.is_file() else load_tests(tests)
    package = Path(dltheory.__file__).resolve().parent
    library = tmp / "library"
    grading_library(package, unavailable, library)
    worker = tmp / "worker"
    worker.mkdir()
    for name in ("worker.py", "codec.py"):
        (worker / name).write_bytes((Path(__file__).parent / name).read_bytes())
    for path in (tmp, worker, library / "dltheory", *(worker.iterdir())):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return Prepared(lab, questions, library / "dltheory", package, worker, tmp, limits or Limits())


def _read_notebook(submission: Path, lab: str) -> dict:
    if submission.stat().st_size > MAX_NOTEBOOK:
        raise ValueError(f"the notebook is larger than {MAX_NOTEBOOK // 2**20} MiB")
    try:
        notebook = json.loads(submission.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not a notebook: {error}") from None
    if type(notebook) is not dict or type(notebook.get("cells")) is not list:
        raise ValueError("not a notebook: no list of cells")
    metadata = notebook.get("metadata")
    otter = metadata.get("otter") if type(metadata) is dict else None
    name = otter.get("assignment_name") if type(otter) is dict else None
    if name != lab:
        raise ValueError(f"the notebook is for assignment {name!r}, not {lab!r}")
    cells = []
    for cell in notebook["cells"]:
        if type(cell) is dict and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            if type(source) is list and all(type(line) is str for line in source):
                source = "".join(source)
            if type(source) is str:
                cells.append({"cell_type": "code", "source": source})
    return {"cells": cells}


def grade_submission(prepared: Prepared, submission: Path, *, timeout: float, call_timeout: float) -> Grade:
    """Grade one notebook: run it in a sandbox, run every test against it, close the sandbox, score.

    `timeout` bounds running the notebook (each start of its sandbox), `call_timeout` each test's calls.
    """
    possible = prepared.possible
    zero = dict.fromkeys(possible, 0.0)
    try:
        notebook = _read_notebook(submission, prepared.lab)
    except (OSError, ValueError) as error:
        return Grade(submission.name, "error", zero, possible, str(error))
    session = Session(notebook, prepared, timeout)
    results: list[TestResult] = []
    status, detail = "ok", ""
    try:
        try:
            session.ensure()
        except CallTimeout:
            status, detail = "timeout", session.given_up or "timed out"
        except SandboxError:
            status, detail = "error", session.given_up or "the notebook could not be run"
        for question, specs in prepared.questions.items():
            for spec in specs:
                if status != "ok":
                    results.append(TestResult(question, spec.name, spec.hidden, spec.points, 0.0, status, detail))
                else:
                    results.append(run_test(spec, session, call_timeout))
    finally:
        session.close()
    scores = dict(zero)
    for result in results:
        scores[result.question] += min(max(result.score, 0.0), result.points)
    scores = {question: min(score, possible[question]) for question, score in scores.items()}
    if status == "ok":
        failed = [f"{r.test}: {r.verdict}" for r in results if r.verdict != "passed"]
        cells = [f"code cell {c.get('cell')}: {str(c.get('error'))[:80]}" for c in session.failed_cells[:10]]
        detail = "; ".join(failed + (["failed " + ", ".join(cells)] if cells else []))[:1000]
    return Grade(submission.name, status, scores, possible, detail, results)
