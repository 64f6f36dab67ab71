"""The claims bite (CONTRIBUTING.md, "The claims-bite test"): a wrong theory makes a notebook fail.

For every wrong theory listed in `tests/wrong_theories/chNN.py`, the notebook runs with the patch as its first
cell, and must stop with a `ClaimError` naming the claim that is said to catch it. A wrong theory no claim
catches is a finding: fix the claim, not this test. The runs go two at a time and stop at the first failing
claim; their claims are written to a scratch file, never to the run's ledger.
"""

from __future__ import annotations

import importlib
import multiprocessing
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from wrong_theories import WrongTheory

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ("ch00", "ch01", "ch02", "ch03", "ch04")
MINIMUM_PER_CHAPTER = 3
sys.path.insert(0, str(ROOT / "tools"))
import run_notebooks  # noqa: E402

THEORIES: list[WrongTheory] = [
    theory for chapter in CHAPTERS for theory in importlib.import_module(f"wrong_theories.{chapter}").WRONG_THEORIES]


def _run(theory: WrongTheory, claims_file: str) -> str | None:
    _, _, error = run_notebooks.execute(ROOT / theory.notebook, first_cell=theory.patch,
                                        env={"DLTHEORY_CLAIMS_FILE": claims_file})
    return error


def _key(theory: WrongTheory) -> str:
    return f"{theory.notebook}::{theory.name}"


@pytest.fixture(scope="session")
def bitten(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    """The traceback each selected wrong theory ends its notebook with (None: the notebook ran to the end).

    Only the theories of this run's selected tests are run (`-k ch02` runs Chapter 2's), two at a time.
    """
    selected = {_key(item.callspec.params["theory"]) for item in request.session.items
                if getattr(item, "callspec", None) is not None and "theory" in item.callspec.params}
    theories = [theory for theory in THEORIES if _key(theory) in selected]
    claims_file = str(tmp_path_factory.mktemp("bite") / "claims.jsonl")
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        errors = pool.map(_run, theories, [claims_file] * len(theories))
        return {_key(theory): error for theory, error in zip(theories, errors)}


def test_every_chapter_injects_enough_wrong_theories() -> None:
    per_chapter = Counter(Path(theory.notebook).parts[1] for theory in THEORIES)
    assert all(per_chapter[chapter] >= MINIMUM_PER_CHAPTER for chapter in CHAPTERS), per_chapter
    names = [f"{t.notebook}::{t.name}" for t in THEORIES]
    assert len(set(names)) == len(names), "wrong theories need unique names within a notebook"
    for theory in THEORIES:
        assert (ROOT / theory.notebook).is_file(), theory.notebook


@pytest.mark.slow
@pytest.mark.parametrize("theory", THEORIES, ids=lambda t: f"{Path(t.notebook).parts[1]}-{Path(t.notebook).stem}::{t.name}")
def test_a_claim_catches_the_wrong_theory(theory: WrongTheory, bitten: dict[str, str | None]) -> None:
    error = bitten[_key(theory)]
    assert error is not None, f"{theory.notebook} ran to the end with {theory.description!r}: no claim caught it"
    assert "ClaimError" in error, f"{theory.notebook} failed, but not on a claim:\n{error[-3000:]}"
    assert f"Claim {theory.caught_by} FAILED" in error, (
        f"{theory.description!r} should be caught by {theory.caught_by}; the notebook stopped with:\n{error[-3000:]}")
