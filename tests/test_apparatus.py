"""The apparatus of a textbook, in one format for the whole book (issue 15; CONTRIBUTING.md, "Exercises" and
"Add a section to a chapter"):

- every `prf:theorem` in book/ (pages and notebooks' markdown) is followed directly by a `prf:proof`;
- every chapter page and every notebook ends with a `## Exercises` section of three to five exercises, each
  labelled **(Pen and paper ...)** or **(Code ...)** with a title, and each with a collapsed
  `{dropdown} Answer` or `{dropdown} Hint`.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTER_PAGES = sorted(BOOK.glob("ch[0-9][0-9]/index.md"))
NOTEBOOKS = sorted(BOOK.rglob("*.ipynb"))
ALL_MARKDOWN = sorted(path for path in BOOK.rglob("*.md") if "_build" not in path.parts)
OPEN = re.compile(r"^(?P<fence>:{3,}|`{3,})\{(?P<name>[\w:-]+)\}")
ITEM = re.compile(r"^(\d+)\.\s+(.*)")
LABEL = re.compile(r"^\*\*\((Pen and paper|Code)[^)]*\)\s+\S.*?\*\*")
DROPDOWN = re.compile(r"^\s*:{3,}\{dropdown\}\s+(Answer|Hint)\b")


def _name(path: Path) -> str:
    return path.relative_to(BOOK).as_posix()


def markdown_of(path: Path) -> str:
    """A page's text, or a notebook's markdown cells one after the other."""
    if path.suffix == ".ipynb":
        cells = nbformat.read(path, as_version=4).cells
        return "\n\n".join(cell.source for cell in cells if cell.cell_type == "markdown")
    return path.read_text(encoding="utf-8")


def theorems_without_proof(text: str) -> list[int]:
    """Line numbers (1-based) of every `prf:theorem` whose directive is not followed directly by a `prf:proof`."""
    lines = text.splitlines()
    missing = []
    for number, line in enumerate(lines):
        opened = OPEN.match(line.strip())
        if not opened or opened["name"] != "prf:theorem":
            continue
        fence = opened["fence"]
        close = next((i for i in range(number + 1, len(lines)) if lines[i].strip() == fence), None)
        following = next((lines[i].strip() for i in range((close or len(lines)) + 1, len(lines)) if lines[i].strip()),
                         "")
        after = OPEN.match(following)
        if close is None or not after or after["name"] != "prf:proof":
            missing.append(number + 1)
    return missing


def exercises_problems(text: str) -> list[str]:
    """What is wrong with the closing `## Exercises` section of `text` (nothing when it is right)."""
    headings = [match for match in re.finditer(r"^(#{1,2}) (.+)$", text, re.M)]
    if not headings or headings[-1][2].strip() != "Exercises" or headings[-1][1] != "##":
        return [f"the last section is {headings[-1][0].strip()!r}, not '## Exercises'" if headings else "no sections"]
    section = text[headings[-1].end():].splitlines()
    items: list[list[str]] = []
    for line in section:
        match = ITEM.match(line)
        if match:
            items.append([match[2]])
        elif items:
            items[-1].append(line)
    problems = []
    if not 3 <= len(items) <= 5:
        problems.append(f"{len(items)} exercises, expected three to five")
    for index, item in enumerate(items, 1):
        if not LABEL.match(item[0]):
            problems.append(f"exercise {index} is not labelled **(Pen and paper) Title.** or **(Code) Title.**: "
                            f"{item[0][:60]!r}")
        if not any(DROPDOWN.match(line) for line in item[1:]):
            problems.append(f"exercise {index} has no ':::{{dropdown}} Answer' (or Hint)")
    return problems


@pytest.mark.parametrize("path", ALL_MARKDOWN + NOTEBOOKS, ids=_name)
def test_every_theorem_has_a_proof(path: Path) -> None:
    missing = theorems_without_proof(markdown_of(path))
    assert not missing, f"{_name(path)}: prf:theorem without a prf:proof right after it (lines {missing})"


@pytest.mark.parametrize("path", CHAPTER_PAGES + NOTEBOOKS, ids=_name)
def test_ends_with_exercises(path: Path) -> None:
    if path.suffix == ".ipynb":
        cells = nbformat.read(path, as_version=4).cells
        assert cells[-1].cell_type == "markdown" and cells[-1].source.lstrip().startswith("## Exercises"), \
            f"{_name(path)}: the last cell is not the markdown cell '## Exercises'"
    problems = exercises_problems(markdown_of(path))
    assert not problems, f"{_name(path)}: " + "; ".join(problems)


def test_the_checks_can_fail() -> None:
    theorem = ":::{prf:theorem} T\n:label: t\nx\n:::\n"
    assert theorems_without_proof(theorem + "\nSome text.\n") == [1]
    assert theorems_without_proof(theorem + "\n::::{prf:proof}\ny\n::::\n") == []
    good = ("## Exercises\n\n" + "".join(f"{i}. **(Code) T{i}.** Do it.\n\n   :::{{dropdown}} Hint\n   h\n   :::\n\n"
                                          for i in range(1, 4)))
    assert exercises_problems(good) == []
    assert exercises_problems(good.replace("(Code)", "Code")) != []
    assert exercises_problems(good.replace("{dropdown} Hint", "{note}")) != []
    assert exercises_problems(good + "## After\n") != []
    assert exercises_problems(good.split("3. ")[0]) == ["2 exercises, expected three to five"]
