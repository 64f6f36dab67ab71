"""The notation appendix (issue 15): one source, `book/appendix/notation.yml`, rendered into
book/appendix/notation.md at build time, and checked here against the chapters' text.

- every symbol occurs in the math of the chapter that introduces it and of each chapter said to use it;
- no two chapters define the same symbol differently: a symbol has one book-wide meaning, and a chapter that
  reuses the letter for something else declares it (`local: true`), in a chapter that does not also use the
  book-wide meaning;
- the checks themselves catch a conflict and a missing symbol (made-up registries below).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTATION = ROOT / "book" / "appendix" / "notation.yml"
FIELDS = {"symbol", "meaning", "chapter", "also", "local"}
MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$|```\{math\}(.+?)```", re.S)
TEXT_COMMANDS = re.compile(r"\\(?:text|mathrm|operatorname|textbf|mathbf)\{[^{}]*\}")


def chapters() -> list[str]:
    return sorted(path.parent.name for path in (ROOT / "book").glob("ch[0-9][0-9]/index.md"))


def chapter_math(chapter: str) -> str:
    """All the math of a chapter (its page and its notebooks' markdown), whitespace collapsed, one formula a line."""
    folder = ROOT / "book" / chapter
    texts = [(folder / "index.md").read_text(encoding="utf-8")]
    for notebook in sorted(folder.glob("*.ipynb")):
        cells = nbformat.read(notebook, as_version=4).cells
        texts += [cell.source for cell in cells if cell.cell_type == "markdown"]
    formulas = ["".join(groups) for groups in MATH.findall("\n".join(texts))]
    return "\n".join(re.sub(r"\s+", " ", formula) for formula in formulas)


def occurs(symbol: str, math: str) -> bool:
    """Whether `symbol` (TeX) occurs in `math` as a whole symbol: `n` is not the n of `\\sin` or of `nm`, and
    `\\eta` is not the start of `\\etaX`; spaces inside the symbol may vary. Words inside `\\text{...}` count only
    for a symbol that has such a command itself."""
    if not TEXT_COMMANDS.search(symbol):
        math = TEXT_COMMANDS.sub(" ", math)
    parts = [re.escape(part) for part in symbol.split()]
    pattern = r"\s*".join(parts)
    if symbol[0].isalpha():
        pattern = r"(?<![A-Za-z\\])" + pattern
    if symbol[-1].isalpha():
        pattern += r"(?![A-Za-z])"
    return re.search(pattern, math) is not None


def conflicts(entries: list[dict]) -> list[str]:
    """Every pair of chapters that give one symbol two meanings without declaring it, and every duplicate."""
    problems = []
    by_symbol: dict[str, list[dict]] = defaultdict(list)
    for entry in entries:
        by_symbol[entry["symbol"]].append(entry)
    for symbol, group in by_symbol.items():
        shared = [entry for entry in group if not entry.get("local")]
        if len(shared) > 1:
            listed = "; ".join(f"{e['chapter']}: {e['meaning']!r}" for e in shared)
            problems.append(f"{symbol} is defined by more than one chapter without `local` ({listed}); "
                            "keep one entry and list the other chapters under `also`, or rename the symbol")
        uses = defaultdict(list)  # chapter -> meanings it uses for the symbol
        for entry in group:
            for chapter in [entry["chapter"], *entry.get("also", [])]:
                uses[chapter].append(entry["meaning"])
        for chapter, meanings in uses.items():
            if len(meanings) > 1:
                problems.append(f"{symbol} has {len(meanings)} meanings in {chapter}: {meanings}")
    return problems


def missing(entries: list[dict], math_of: dict[str, str]) -> list[str]:
    """Every (symbol, chapter) pair of the registry whose symbol does not occur in that chapter's math."""
    return [f"{entry['symbol']} ({entry['meaning']!r}) does not occur in the math of {chapter}"
            for entry in entries for chapter in [entry["chapter"], *entry.get("also", [])]
            if not occurs(entry["symbol"], math_of[chapter])]


@pytest.fixture(scope="module")
def entries() -> list[dict]:
    return yaml.safe_load(NOTATION.read_text(encoding="utf-8"))["symbols"]


def test_entries_are_well_formed(entries: list[dict]) -> None:
    known = set(chapters())
    assert len(entries) >= 40, f"only {len(entries)} symbols in {NOTATION.name}"
    for entry in entries:
        assert {"symbol", "meaning", "chapter"} <= set(entry) <= FIELDS, f"bad fields in {entry}"
        assert entry["chapter"] in known, f"{entry['symbol']}: unknown chapter {entry['chapter']}"
        also = entry.get("also", [])
        assert set(also) <= known and entry["chapter"] not in also and len(set(also)) == len(also), entry
        assert entry["chapter"] < min(also, default="ch99"), f"{entry['symbol']}: `also` lists a chapter before " \
                                                             f"the one that introduces it"
        assert entry["meaning"].count("$") % 2 == 0, f"{entry['symbol']}: unbalanced $ in its meaning"
        assert not (entry.get("local") and also), f"{entry['symbol']}: a local meaning holds in one chapter only"


def test_no_two_chapters_define_a_symbol_differently(entries: list[dict]) -> None:
    problems = conflicts(entries)
    assert not problems, "\n".join(problems)


def test_every_symbol_occurs_in_its_chapters(entries: list[dict]) -> None:
    math_of = {chapter: chapter_math(chapter) for chapter in chapters()}
    problems = missing(entries, math_of)
    assert not problems, "\n".join(problems)


def test_the_page_renders_the_source() -> None:
    page = (ROOT / "book" / "appendix" / "notation.md").read_text(encoding="utf-8")
    assert "```{notation-table} book/appendix/notation.yml" in page
    assert "book/appendix/notation" in (ROOT / "_toc.yml").read_text(encoding="utf-8")


# The checks can fail: made-up registries with the mistakes they exist to catch.

def test_a_conflict_is_caught() -> None:
    clash = [{"symbol": r"\kappa", "meaning": "condition number", "chapter": "ch00", "also": ["ch01"]},
             {"symbol": r"\kappa", "meaning": "scale of the initialization", "chapter": "ch01"}]
    assert len(conflicts(clash)) == 2  # two book-wide meanings, and two meanings in ch01
    declared = [clash[0] | {"also": []}, clash[1] | {"local": True}]
    assert conflicts(declared) == []
    reused = [clash[0], clash[1] | {"local": True}]  # ch01 cannot use both meanings
    assert len(conflicts(reused)) == 1


def test_a_missing_symbol_is_caught() -> None:
    math = {"ch00": r"\rho(\eta) = \max_i |1 - \eta\lambda_i| \sin x nm \kappa_2", "ch01": r"\beta"}
    registry = [{"symbol": r"\eta", "meaning": "step", "chapter": "ch00", "also": ["ch01"]},
                {"symbol": "n", "meaning": "dimension", "chapter": "ch00"},
                {"symbol": r"\kappa", "meaning": "condition number", "chapter": "ch00"},
                {"symbol": r"\lambda_i", "meaning": "eigenvalues", "chapter": "ch00"}]
    assert [problem.split(" (")[0] + problem.rsplit(" ", 1)[1] for problem in missing(registry, math)] == \
        [r"\etach01", "nch00"]
    assert occurs(r"\kappa", math["ch00"])  # \kappa_2 contains the symbol \kappa
