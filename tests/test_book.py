"""The HTML book: builds with zero warnings, has its Colab buttons, runtime badges and claims ledger,
and never shows the lab solutions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
BOOK_NOTEBOOKS = sorted((ROOT / "book").rglob("*.ipynb"))


def test_build_has_zero_warnings(built_book: Path) -> None:
    log = (ROOT / "_build" / "book-build.log").read_text()
    assert "build succeeded" in log
    # The kernel's own notice about its local TCP transport is not a warning of the build.
    lines = [line for line in log.splitlines() if "Kernel is running over TCP" not in line]
    problems = [line for line in lines if re.search(r"WARNING|ERROR", line)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("notebook", BOOK_NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_pages_have_colab_button_and_runtime_badge(built_book: Path, notebook: Path) -> None:
    relative = notebook.relative_to(ROOT).with_suffix("")
    page = (built_book / relative).with_suffix(".html").read_text()
    assert f"colab.research.google.com/github/theory-you-can-run/theory-you-can-run/blob/main/{relative}.ipynb" in page
    assert re.search(r"dltheory-runtime.*?Runs in \d+\.\d s", page, re.S), "no runtime badge"


def _claim_id_patterns() -> list[re.Pattern[str]]:
    """One pattern per `dltheory.claim("id", ...)` call in the book's notebooks; an f-string id such as
    f"ch03.x.poly{p}" becomes a pattern whose {...} parts match anything."""
    patterns = []
    for notebook in BOOK_NOTEBOOKS:
        source = "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code")
        for template in re.findall(r"dltheory\.claim\(\s*f?\"([^\"]+)\"", source):
            parts = re.split(r"\{[^}]*\}", template)
            patterns.append(re.compile(".+".join(re.escape(part) for part in parts)))
    return patterns


def test_ledger_lists_every_claim_of_the_last_execution(built_book: Path) -> None:
    claims = json.loads((built_book / "claims.json").read_text())
    ids = [claim["id"] for claim in claims]
    assert len(set(ids)) == len(ids), "claim ids must be unique"
    patterns = _claim_id_patterns()
    for pattern in patterns:
        assert any(pattern.fullmatch(i) for i in ids), f"no claim in the ledger matches {pattern.pattern}"
    for i in ids:
        assert any(pattern.fullmatch(i) for pattern in patterns), f"the ledger has {i}, which no notebook claims"
    assert all(claim["passed"] for claim in claims)
    ledger = (built_book / "book" / "appendix" / "claims_ledger.html").read_text()
    for claim in claims:
        assert claim["id"] in ledger
    assert f"{len(claims)} claims from" in ledger


def test_every_claim_names_a_rival_that_its_tolerance_excludes(built_book: Path) -> None:
    claims = json.loads((built_book / "claims.json").read_text())
    for claim in claims:
        assert claim["rival_reason"].strip(), claim["id"]
        power = claim["resolving_power"]
        if claim["relation"] == "approx":
            assert power is None or power > 2, f"{claim['id']}: resolving power {power}"
        else:
            assert power is None or power > 1, f"{claim['id']}: resolving power {power}"
    ledger = (built_book / "book" / "appendix" / "claims_ledger.html").read_text()
    assert "Resolving power" in ledger and "among the weakest" in ledger


def test_the_claim_role_renders_numbers_from_the_ledger(built_book: Path) -> None:
    claim = next(c for c in json.loads((built_book / "claims.json").read_text()) if c["id"] == "ch00.rate.inverse-lmax")
    page = (built_book / "book" / "ch00" / "index.html").read_text()
    for field, value in (("measured", f"{claim['measured']:.6f}"), ("predicted", f"{claim['predicted']:.6f}"),
                         ("rival", f"{claim['rival']:.4f}"), ("power", f"{claim['resolving_power']:,.0f}")):
        assert f'<span class="dltheory-claim-value">{value}</span>' in page, f"{field} {value} not rendered"
    assert "{claim}" not in page


def test_library_reference_is_generated_from_docstrings(built_book: Path) -> None:
    page = (built_book / "book" / "reference" / "library.html").read_text()
    assert "dltheory.quadratic.gradient_descent" in page and "Serves Chapter 0" in page


def test_solutions_never_appear_in_the_html(built_book: Path) -> None:
    for path in built_book.rglob("*"):
        assert "solutions" not in path.relative_to(built_book).as_posix(), path
        if path.suffix in (".html", ".js", ".json", ".txt"):
            text = path.read_text(errors="ignore")
            assert "/solutions/" not in text and "BEGIN SOLUTION" not in text, path


@pytest.mark.parametrize("notebook", BOOK_NOTEBOOKS, ids=lambda p: p.stem)
def test_setup_cell_is_collapsed_behind_show_setup(built_book: Path, notebook: Path) -> None:
    page = (built_book / notebook.relative_to(ROOT)).with_suffix(".html").read_text()
    first = re.search(r'<div class="cell[^"]*"', page)
    assert first and "tag_hide-input" in first[0], f"{notebook.stem}: the first code cell is not collapsed"
    assert '<p class="collapsed admonition-title">show setup</p>' in page


def test_notation_page_renders_every_symbol(built_book: Path) -> None:
    import yaml

    entries = yaml.safe_load((ROOT / "book" / "appendix" / "notation.yml").read_text())["symbols"]
    page = (built_book / "book" / "appendix" / "notation.html").read_text()
    table = re.search(r'<table class="[^"]*\bdltheory-notation\b.*?</table>', page, re.S)
    assert table, "the notation page has no notation table"
    assert table[0].count("<tr") == len(entries) + 1, "the notation table needs one row per symbol and a header"
