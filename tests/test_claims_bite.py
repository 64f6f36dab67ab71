"""The claims bite (CONTRIBUTING.md, "The claims-bite test"): a wrong theory makes a notebook fail.

For every wrong theory listed in `tests/wrong_theories/chNN.py`, the notebook runs with the patch as its first
cell, and must stop with a `ClaimError` naming the claim that is said to catch it. A wrong theory no claim
catches is a finding: fix the claim, not this test. The runs start in the background when the tests are
collected, two at a time, and stop at the first failing claim (the `bitten` fixture of conftest.py); their
claims are written to a scratch file, never to the run's ledger.
"""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path

import pytest

from wrong_theories import WrongTheory

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ("ch00", "ch01", "ch02", "ch03", "ch04")
MINIMUM_PER_CHAPTER = 3

THEORIES: list[WrongTheory] = [
    theory for chapter in CHAPTERS for theory in importlib.import_module(f"wrong_theories.{chapter}").WRONG_THEORIES]


def test_every_chapter_injects_enough_wrong_theories() -> None:
    per_chapter = Counter(Path(theory.notebook).parts[1] for theory in THEORIES)
    assert all(per_chapter[chapter] >= MINIMUM_PER_CHAPTER for chapter in CHAPTERS), per_chapter
    names = [theory.key for theory in THEORIES]
    assert len(set(names)) == len(names), "wrong theories need unique names within a notebook"
    for theory in THEORIES:
        assert (ROOT / theory.notebook).is_file(), theory.notebook


@pytest.mark.slow
@pytest.mark.parametrize("theory", THEORIES, ids=lambda t: f"{Path(t.notebook).parts[1]}-{Path(t.notebook).stem}::{t.name}")
def test_a_claim_catches_the_wrong_theory(theory: WrongTheory, bitten: dict[str, str | None]) -> None:
    error = bitten[theory.key]
    assert error is not None, f"{theory.notebook} ran to the end with {theory.description!r}: no claim caught it"
    assert "ClaimError" in error, f"{theory.notebook} failed, but not on a claim:\n{error[-3000:]}"
    assert f"Claim {theory.caught_by} FAILED" in error, (
        f"{theory.description!r} should be caught by {theory.caught_by}; the notebook stopped with:\n{error[-3000:]}")
