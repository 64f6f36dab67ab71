"""Execute the book's notebooks once, in parallel, into the execution cache the book is built from.

    python tools/run_notebooks.py [--jobs 2] [NOTEBOOK ...]

`make test` and `make book` both start here (CONTRIBUTING.md, "Tests"): every notebook of `_toc.yml` runs
once, in its own kernel, two at a time on two cores (each kernel on one thread, so they do not fight over
the cores), and each successful execution is stored in the jupyter-cache `_build/.jupyter_cache` under the
hash myst-nb computes, so `jupyter-book build` then finds every notebook executed and runs none again.
A notebook that fails is not cached; its traceback (a `ClaimError`, say) is returned and printed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "_build" / ".jupyter_cache"
TIMEOUT_S = 180  # the book's execute.timeout in _config.yml: the longest a single cell may take
KERNEL_STARTS = 3  # attempts to start a kernel before a notebook counts as failed
#: The kernels run single-threaded: two small notebooks on two cores beat one notebook on two threads.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
POLL_STEP_S = 1.0  # the longest one wait on a kernel channel may last before the socket is looked at again


@dataclass(frozen=True)
class Execution:
    """How one notebook's execution went: its path (relative to the root), time, and traceback if it failed."""

    path: str
    seconds: float
    error: str | None
    cell_seconds: tuple[float, ...] = ()  # each code cell, busy to idle by the kernel's clock (0 if not run)

    @property
    def passed(self) -> bool:
        return self.error is None


def book_notebooks(root: Path = ROOT) -> list[Path]:
    """Every notebook the table of contents lists, in book order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files: list[str] = []

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            for key in ("chapters", "sections", "parts"):
                walk(entry.get(key, []))

    files.append(toc["root"])
    walk(toc.get("parts", []))
    walk(toc.get("chapters", []))
    return [root / f"{name}.ipynb" for name in files if (root / f"{name}.ipynb").is_file()]


def execute(path: Path, *, timeout: int = TIMEOUT_S, env: dict[str, str] | None = None,
            first_cell: str | None = None) -> tuple[nbformat.NotebookNode, float, str | None]:
    """Execute the notebook at `path` in its own folder; return it with outputs, the seconds, and the traceback.

    `first_cell`, when given, is inserted as a code cell before all others (the claims-bite test injects
    a wrong theory this way). `env` is added to the kernel's environment. A kernel that fails to start (it
    happens on a loaded machine) is started again, up to `KERNEL_STARTS` times; an error in a cell is final.
    """
    os.environ.update({**THREAD_ENV, **(env or {})})  # inherited by the kernel this process starts
    for attempt in range(1, KERNEL_STARTS + 1):
        notebook = nbformat.read(path, as_version=4)
        if first_cell is not None:
            notebook.cells.insert(0, nbformat.v4.new_code_cell(first_cell))
        try:
            return (notebook, *_run(notebook, path.parent, timeout))
        except Exception:  # the kernel did not start or died outside a cell: not the notebook's fault
            if attempt == KERNEL_STARTS:
                return notebook, 0.0, traceback.format_exc()
    raise ValueError(f"KERNEL_STARTS must be at least 1, got {KERNEL_STARTS}")


class SteppedClient(NotebookClient):
    """nbclient's notebook client, with kernel channels that are looked at every second (`_poll_in_steps`)."""

    async def async_start_new_kernel_client(self):  # type: ignore[no-untyped-def]
        kc = await super().async_start_new_kernel_client()
        for channel in (kc.shell_channel, kc.iopub_channel):
            _poll_in_steps(channel)
        return kc


def _run(notebook: nbformat.NotebookNode, cwd: Path, timeout: int) -> tuple[float, str | None]:
    """Execute `notebook` in place in a fresh kernel; return the seconds and the traceback of a failed cell."""
    start = time.perf_counter()
    try:
        SteppedClient(notebook, resources={"metadata": {"path": str(cwd)}}, timeout=timeout, allow_errors=False,
               record_timing=True).execute()
    except (CellExecutionError, CellTimeoutError):
        return time.perf_counter() - start, traceback.format_exc()
    return time.perf_counter() - start, None


def _poll_in_steps(channel: object) -> None:
    """Make `channel.get_msg(timeout)` look at its socket at least every `POLL_STEP_S` seconds.

    nbclient waits for a cell's reply in one poll as long as the cell's timeout (180 s). Now and then a reply
    that has arrived does not wake that poll and is found only when it expires: the notebooks with widgets lost
    about 180 s each, outside their cells, in some test runs (here and on CI). Waiting a second at a time costs at most
    a second when that happens.
    """
    from queue import Empty

    get_msg = channel.get_msg  # type: ignore[attr-defined]

    async def stepped(timeout: float | None = None) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_STEP_S if deadline is None else max(deadline - time.monotonic(), 0.0)
            try:
                return await get_msg(timeout=min(POLL_STEP_S, left))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    channel.get_msg = stepped  # type: ignore[attr-defined]


def cell_seconds(notebook: nbformat.NotebookNode) -> tuple[float, ...]:
    """Each code cell's run time, busy to idle by the kernel's clock, and the timing metadata removed.

    A notebook far slower than the sum of its cells lost the time outside them (kernel start, shutdown,
    messages): the test summary prints both for a notebook over budget.
    """
    from datetime import datetime

    seconds = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        timing = cell.metadata.pop("execution", {})
        busy, idle = timing.get("iopub.status.busy"), timing.get("iopub.status.idle")
        seconds.append((datetime.fromisoformat(idle.rstrip("Z")) - datetime.fromisoformat(busy.rstrip("Z")))
                       .total_seconds() if busy and idle else 0.0)
    return tuple(seconds)


def submit(pool: Executor, paths: list[Path], *, cache_path: Path = CACHE,
           root: Path = ROOT) -> Callable[[], list[Execution]]:
    """Start executing on `pool` each of `paths` that the cache lacks; return the function that waits for them.

    The returned function caches each success for the book build (only this process writes to the cache's
    database) and returns the results in the order given. `make test` starts the executions as soon as the
    tests are collected, so the unit tests run while the notebooks do (conftest.py).
    """
    from jupyter_cache import get_cache
    from jupyter_cache.cache.main import CacheBundleIn

    cache = get_cache(cache_path)
    results = {path: Execution(path.relative_to(root).as_posix(), seconds, None)
               for path in paths if (seconds := _cached_seconds(cache, path)) is not None}
    pending = {path: pool.submit(execute, path) for path in paths if path not in results}

    def collect() -> list[Execution]:
        for path, future in pending.items():
            notebook, seconds, error = future.result()
            results[path] = Execution(path.relative_to(root).as_posix(), seconds, error, cell_seconds(notebook))
            if error is None:
                cache.cache_notebook_bundle(
                    CacheBundleIn(notebook, str(path), data={"execution_seconds": seconds}),
                    check_validity=False, overwrite=True)
        pending.clear()
        return [results[path] for path in paths]

    return collect


def pool(jobs: int = 2) -> ProcessPoolExecutor:
    """A pool of `jobs` processes for notebook executions (spawned: no state shared with this process)."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))


def run(paths: list[Path], *, jobs: int = 2, cache_path: Path = CACHE, root: Path = ROOT) -> list[Execution]:
    """Execute `paths`, `jobs` at a time, caching each success for the book build; results in the order given."""
    with pool(jobs) as executor:
        return submit(executor, paths, cache_path=cache_path, root=root)()


def _cached_seconds(cache: object, path: Path) -> float | None:
    """The recorded run time of the cached execution of `path`, or None if the cache has none."""
    try:
        record = cache.match_cache_notebook(nbformat.read(path, as_version=4))
    except KeyError:
        return None
    return float(record.data.get("execution_seconds") or 0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/run_notebooks.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: all in _toc.yml)")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at the same time")
    parser.add_argument("--cache", type=Path, default=CACHE, help=f"the execution cache (default: {CACHE})")
    args = parser.parse_args(argv)
    paths = [path.resolve() for path in args.notebooks] or book_notebooks()
    results = run(paths, jobs=args.jobs, cache_path=args.cache)
    for result in results:
        print(f"{'ok    ' if result.passed else 'FAILED'} {result.seconds:6.1f} s  {result.path}")
    failed = [result for result in results if not result.passed]
    for result in failed:
        print(f"\n{result.path}:\n{result.error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
