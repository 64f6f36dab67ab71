"""Pytest hooks and shared fixtures for the whole repository (CONTRIBUTING.md, "Tests").

- Claims made while notebooks run are collected into `_build/test-claims.jsonl`.
- `executed_notebooks` runs every book notebook once, two at a time, into the execution cache
  (`tools/run_notebooks.py`); the notebook tests read its results and the book build reads the cache, so no
  book notebook is executed twice in a run.
- The heavy executions (the book's notebooks, then the claims-bite test's wrong theories) start in two
  background processes as soon as the tests are collected, and the tests that need them run last: the unit,
  lab and grading tests run meanwhile in this process, so the two cores stay busy.
- At the end of a run, a table of per-notebook run times is printed (the budget is 60 s each).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools"))
import run_notebooks  # noqa: E402
CLAIMS_FILE = ROOT / "_build" / "test-claims.jsonl"
NOTEBOOK_BUDGET_S = 60.0

_notebook_seconds: dict[str, float] = defaultdict(float)
_cell_seconds: dict[str, tuple[float, ...]] = {}


def pytest_configure(config: pytest.Config) -> None:
    if "DLTHEORY_CLAIMS_FILE" not in os.environ:
        if not hasattr(config, "workerinput"):  # the xdist controller, or a plain run, starts a fresh file
            CLAIMS_FILE.parent.mkdir(parents=True, exist_ok=True)
            CLAIMS_FILE.unlink(missing_ok=True)
        os.environ["DLTHEORY_CLAIMS_FILE"] = str(CLAIMS_FILE)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _notebook_seconds:
        return
    terminalreporter.section("notebook run times (budget 60 s each on 2 CPU cores)")
    width = max(len(path) for path in _notebook_seconds)
    for path, seconds in sorted(_notebook_seconds.items(), key=lambda item: -item[1]):
        flag = "  OVER BUDGET" if seconds > NOTEBOOK_BUDGET_S else ""
        terminalreporter.write_line(f"{path:<{width}}  {seconds:6.1f} s{flag}")
    terminalreporter.write_line(f"{'total':<{width}}  {sum(_notebook_seconds.values()):6.1f} s")
    for path, seconds in _notebook_seconds.items():  # where an over-budget notebook's time went
        cells = _cell_seconds.get(path)
        if seconds > NOTEBOOK_BUDGET_S and cells:
            slowest = max(range(len(cells)), key=cells.__getitem__)
            terminalreporter.write_line(
                f"{path}: {sum(cells):.1f} s in its {len(cells)} code cells (slowest: code cell {slowest + 1}, "
                f"{cells[slowest]:.1f} s), {seconds - sum(cells):.1f} s outside them")


class _Prefetch:
    """The heavy executions of this run, started in the background when collection finishes."""

    pool: ProcessPoolExecutor | None = None
    notebooks: Callable[[], list[run_notebooks.Execution]] | None = None
    bite: dict[str, Future] = {}
    scratch: Path | None = None


def _needs(item: pytest.Item, fixture: str) -> bool:
    return fixture in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run last the tests that wait for the background executions: the book's, then the claims-bite test's."""
    def stage(item: pytest.Item) -> int:
        return 2 if _needs(item, "bitten") else 1 if _needs(item, "executed_notebooks") else 0
    items.sort(key=stage)  # stable: the order within each stage is kept


def pytest_collection_finish(session: pytest.Session) -> None:
    needs_notebooks = any(_needs(item, "executed_notebooks") for item in session.items)
    theories = [item.callspec.params["theory"] for item in session.items
                if _needs(item, "bitten") and "theory" in getattr(getattr(item, "callspec", None), "params", {})]
    if session.config.option.collectonly or not (needs_notebooks or theories):
        return
    _Prefetch.pool = run_notebooks.pool(jobs=2)
    if needs_notebooks:
        _Prefetch.notebooks = run_notebooks.submit(_Prefetch.pool, run_notebooks.book_notebooks())
    _Prefetch.scratch = Path(tempfile.mkdtemp(prefix="dltheory-bite-"))
    claims = {"DLTHEORY_CLAIMS_FILE": str(_Prefetch.scratch / "claims.jsonl")}  # never the run's ledger
    _Prefetch.bite = {theory.key: _Prefetch.pool.submit(run_notebooks.execute, ROOT / theory.notebook,
                                                        first_cell=theory.patch, env=claims)
                      for theory in theories}


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _Prefetch.pool is not None:
        _Prefetch.pool.shutdown(wait=True, cancel_futures=True)
        _Prefetch.pool = None
    if _Prefetch.scratch is not None:
        shutil.rmtree(_Prefetch.scratch, ignore_errors=True)


@pytest.fixture(scope="session")
def executed_notebooks() -> dict[str, run_notebooks.Execution]:
    """Every book notebook executed once, two at a time, by path relative to the root.

    Successful executions go to the cache the book is built from; a failure carries its traceback.
    """
    if _Prefetch.notebooks is None:  # started in the background when the tests were collected
        raise RuntimeError("the book's notebooks were not started: no collected test asked for them")
    results = _Prefetch.notebooks()
    for result in results:
        _notebook_seconds[result.path] += result.seconds
        _cell_seconds[result.path] = result.cell_seconds
    return {result.path: result for result in results}


@pytest.fixture(scope="session")
def bitten() -> dict[str, str | None]:
    """The traceback each selected wrong theory ends its notebook with (None: the notebook ran to the end).

    Only the theories of this run's selected tests run (`-k ch02` runs Chapter 2's), two at a time, after
    the book's notebooks; their claims go to a scratch file, never to the run's ledger.
    """
    return {key: future.result()[2] for key, future in _Prefetch.bite.items()}


@pytest.fixture(scope="session")
def built_book(executed_notebooks: dict[str, run_notebooks.Execution]) -> Path:
    """Build the HTML book once per test session, exactly as `make book` does, and return `_build/html`.

    The notebooks come executed from `executed_notebooks`, so the build runs none of them again. The build
    must pass with -W (warnings are errors) and -n (every reference resolves); its log is kept in
    `_build/book-build.log`.
    """
    import subprocess

    failed = [path for path, result in executed_notebooks.items() if not result.passed]
    assert not failed, f"the book is not built while notebooks fail: {failed}"

    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    log = ROOT / "_build" / "book-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([str(jupyter_book), "build", ".", "--all", "-W", "-n", "--keep-going"], cwd=ROOT,
                            capture_output=True, text=True, timeout=3600)
    log.write_text(result.stdout + result.stderr)
    assert result.returncode == 0, f"the book build failed; see {log}:\n{result.stdout[-4000:]}{result.stderr[-4000:]}"
    return ROOT / "_build" / "html"
