"""Every book notebook runs from top to bottom with every claim holding (CONTRIBUTING.md, "Tests").

The notebooks are executed once per test run, two at a time, by the `executed_notebooks` fixture
(`tools/run_notebooks.py`); the book build reads the same executions, so none runs twice. A failing claim
stops its notebook with a `ClaimError`, shown here with the cell that raised it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import run_notebooks  # noqa: E402

NOTEBOOKS = [path.relative_to(ROOT).as_posix() for path in run_notebooks.book_notebooks()]


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_runs_with_every_claim_holding(notebook: str, executed_notebooks: dict) -> None:
    result = executed_notebooks[notebook]
    assert result.passed, f"{notebook} failed:\n{result.error[-6000:]}"
