"""No measured number is typed in the chapters' prose (CONTRIBUTING.md, "Numbers in the text").

A number the text quotes from a notebook is rendered from the ledger with the role ``{claim}`id` ``. This test
lists every number in the prose of the chapter pages and the notebooks' markdown cells that has a decimal point,
an exponent, a percent sign or three or more significant digits, outside math, code, roles, citations, link
targets and years, and fails on any that is neither rendered nor listed as a cited constant in the chapter's
`book/chNN/_cited_numbers.yml` (number: where it comes from).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from dltheory_book import ROLE_FIELDS  # noqa: E402  the fields the {claim} role renders
CHAPTERS = sorted(path for path in (ROOT / "book").glob("ch[0-9][0-9]") if path.is_dir())

_HIDDEN = [
    re.compile(r"^(```|~~~).*?^\1", re.S | re.M),  # fenced code and directives with a code body
    re.compile(r"\$\$.*?\$\$", re.S),  # display math
    re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S),  # amsmath environments
    re.compile(r"(?<!\\)\$[^$\n]+(?<!\\)\$"),  # inline math
    re.compile(r"``.+?``"),  # double-backtick literals
    re.compile(r"\{[\w:-]+\}`[^`]*`"),  # roles: {claim}, {cite}, {eq}, {ref}, ...
    re.compile(r"`[^`]*?`"),  # inline code, which may run over a line break
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"^\s*:[\w-]+:.*$", re.M),  # directive options (:label:, :class:)
    re.compile(r"<[^>\n]+>"),  # HTML tags
    re.compile(r"\(eq-[\w-]+\)|\((?:sec|thm|fig|ch)[\w-]*\)="),  # equation labels and targets
]
_NUMBER = re.compile(r"(?<![\w.,])\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?%?(?![\w])")
_YEAR = re.compile(r"(1[89]|20)\d\d")


def prose(text: str) -> str:
    """`text` with math, code, roles, citations, link targets and labels blanked out."""
    for pattern in _HIDDEN:
        text = pattern.sub(" ", text)
    return text


def needs_source(token: str) -> bool:
    """Whether a number in prose must come from the ledger or the cited list: a decimal point, an exponent, a
    percent sign, or three or more significant digits (years excepted)."""
    token = token.rstrip(",")
    bare = token.replace(",", "")
    if any(mark in bare for mark in ".eE%"):
        return True
    if _YEAR.fullmatch(token):  # a year is written without a thousands separator
        return False
    return len(bare.strip("0")) >= 3


def typed_numbers(text: str) -> list[str]:
    return [match.group().rstrip(",") for match in _NUMBER.finditer(prose(text)) if needs_source(match.group())]


def _pages(chapter: Path) -> dict[str, str]:
    pages = {path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8") for path in sorted(chapter.glob("*.md"))}
    for path in sorted(chapter.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        pages[path.relative_to(ROOT).as_posix()] = "\n\n".join(
            cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    return pages


def cited(chapter: Path) -> dict[str, str]:
    path = chapter / "_cited_numbers.yml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    entries = entries or {}
    assert isinstance(entries, dict), f"{path}: a mapping number -> where it comes from"
    for number, where in entries.items():
        assert isinstance(where, str) and where.strip(), f"{path}: say where {number!r} comes from"
    return {str(number): where for number, where in entries.items()}


def test_the_scanner_sees_typed_numbers_and_ignores_the_rest() -> None:
    text = ("The engine visits 1,907 nodes (a 12.5% gain) in 2016, and $n = 256$ with ``x = 0.5`` and "
            "{claim}`ch04.x:measured` nodes, {cite}`klein2022neural` and {eq}`eq-1`, at width 64.")
    assert typed_numbers(text) == ["1,907", "12.5%"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.name)
def test_no_measured_number_is_typed_in_the_prose(chapter: Path) -> None:
    allowed = cited(chapter)
    found = {page: [n for n in typed_numbers(text) if n not in allowed] for page, text in _pages(chapter).items()}
    found = {page: numbers for page, numbers in found.items() if numbers}
    assert not found, (
        "numbers typed in the prose: render measured ones with {claim}`id` (CONTRIBUTING.md, 'Numbers in the "
        f"text'), put setup values in math ($n = 256$), or list cited constants in {chapter.name}/_cited_numbers.yml: "
        f"{found}")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.name)
def test_every_cited_number_is_still_in_the_text(chapter: Path) -> None:
    used = {n for text in _pages(chapter).values() for n in typed_numbers(text)}
    stale = sorted(set(cited(chapter)) - used)
    assert not stale, f"{chapter.name}/_cited_numbers.yml lists numbers the text no longer uses: {stale}"


_ROLE = re.compile(r"\{claim\}`([^`]*)`")
_CLAIM_ID = re.compile(r"""(f?)(["'])(ch\d\d\.(?:\{[^}]*\}|(?!\2)[^\s{])+)\2""")


def claim_id_patterns() -> list[re.Pattern[str]]:
    """The ids the notebooks' code passes to `dltheory.claim`, an f-string's fields read as wildcards."""
    patterns = []
    for path in sorted((ROOT / "book").glob("ch[0-9][0-9]/*.ipynb")):
        code = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
        for f, _, text in _CLAIM_ID.findall(code):
            parts = re.split(r"\{[^}]*\}", text) if f else [text]
            patterns.append(re.compile(".+".join(map(re.escape, parts))))
    return patterns


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.name)
def test_every_claim_role_reads_a_claim_field_and_format(chapter: Path) -> None:
    """The roles the book build would reject (an unknown field, a bad format) or leave empty (an unknown id)."""
    fields = ROLE_FIELDS
    ids = claim_id_patterns()
    wrong = []
    for page, text in _pages(chapter).items():
        for role in _ROLE.findall(text):
            claim_id, _, rest = role.strip().partition(":")
            field, _, spec = rest.partition(":")
            try:
                format(1.5, spec)
            except ValueError:
                wrong.append(f"{page}: {role!r} has no valid format spec {spec!r}")
            if (field or "measured") not in fields:
                wrong.append(f"{page}: {role!r} reads the field {field!r}, not one of {sorted(fields)}")
            if not any(pattern.fullmatch(claim_id) for pattern in ids):
                wrong.append(f"{page}: {role!r} names no claim a notebook makes")
    assert not wrong, "\n".join(wrong)
