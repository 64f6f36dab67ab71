"""The PDF of the whole book (issue 15; `make pdf`, tools/book_pdf.py): built from the same sources as the
HTML, reusing its doctrees, and checked for what a reader must find in it.

Every chapter and appendix is in it, with its figures and claim verdicts; the math is typeset (no TeX source
left: MathJax's output is glyphs, so `\\frac`, `$$` or `\\begin{` in the text is math it did not typeset); no
MyST markup is left raw; and the claims ledger lists the claims of the last execution.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import book_pdf  # noqa: E402
from run_notebooks import book_notebooks  # noqa: E402

RAW_TEX = ("\\frac", "$$", "\\begin{", "\\left", "\\mathbb", "\\lambda")
RAW_MYST = ("{claim}", "{cite}", "{eq}", "{doc}", "{prf:", ":::", "```{")


@pytest.fixture(scope="module")
def pdf(built_book: Path) -> Path:
    """The PDF, printed from the single-page build (which reuses `built_book`'s doctrees)."""
    book_pdf.main([])
    assert book_pdf.PDF.exists(), f"tools/book_pdf.py wrote no {book_pdf.PDF}"
    return book_pdf.PDF


@pytest.fixture(scope="module")
def reader(pdf: Path) -> object:
    """The PDF opened once for the module (pypdf)."""
    from pypdf import PdfReader

    return PdfReader(pdf)


@pytest.fixture(scope="module")
def pages(reader: object) -> list[str]:
    return [page.extract_text() or "" for page in reader.pages]


def _flat(text: str) -> str:
    """Text with all whitespace removed and ligatures (ﬀ, ﬂ) undone: words broken across lines or table cells
    still match."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _chapter_titles() -> list[str]:
    titles = []
    for index in sorted((ROOT / "book").glob("ch[0-9][0-9]/index.md")):
        first = next(line for line in index.read_text(encoding="utf-8").splitlines() if line.startswith("# "))
        titles.append(first.removeprefix("# ").strip())
    return titles


def test_page_count(pages: list[str]) -> None:
    assert 60 <= len(pages) <= 1500, f"the PDF has {len(pages)} pages"
    empty = [number for number, text in enumerate(pages, 1) if len(text.strip()) < 20]
    assert len(empty) <= len(pages) // 10, f"pages with (almost) no text: {empty}"


def test_every_chapter_and_appendix_is_in_it(pages: list[str]) -> None:
    text = _flat("\n".join(pages))
    for title in _chapter_titles() + ["Claims ledger", "Notation", "Bibliography", "Library reference"]:
        assert _flat(title) in text, f"{title!r} is not in the PDF"


def test_the_ledger_and_the_verdicts_are_in_it(pages: list[str]) -> None:
    claims = json.loads((book_pdf.SINGLE / "claims.json").read_text(encoding="utf-8"))  # the PDF build's own
    text = _flat("\n".join(pages))
    missing = [claim["id"] for claim in claims if _flat(claim["id"]) not in text]
    assert not missing, f"claims missing from the PDF's ledger: {missing}"
    assert f"{len(claims)}claimsfrom" in text, "the ledger's summary is not in the PDF"
    verdicts = text.count(_flat("claim holds"))
    assert verdicts >= len(claims), f"{verdicts} claim verdicts printed for {len(claims)} claims"


def _image_count(page: object) -> int:
    """The images a page draws, counted from its resources without decoding them."""
    resources = page.get("/Resources") or {}
    objects = resources.get_object().get("/XObject") if resources else None
    objects = objects.get_object() if objects is not None else {}
    return sum(1 for item in objects.values() if item.get_object().get("/Subtype") == "/Image")


def test_figures_are_in_it(reader: object) -> None:
    figures = sum(_image_count(page) for page in reader.pages)
    notebooks = len(book_notebooks())
    assert figures >= notebooks, f"{figures} images in the PDF for {notebooks} notebooks, each with a figure"


def test_no_tex_source_or_raw_markup_is_left(pages: list[str]) -> None:
    problems = [f"page {number}: {token!r}" for number, text in enumerate(pages, 1)
                for token in RAW_TEX + RAW_MYST if token in text]
    assert not problems, "left untypeset or unrendered:\n" + "\n".join(problems[:40])


def test_download_button_links_the_pdf(built_book: Path) -> None:
    script = (built_book / "_static" / "dltheory-pdf.js").read_text(encoding="utf-8")
    assert "theory-you-can-run.pdf" in script and book_pdf.PDF.name == "theory-you-can-run.pdf"
    page = (built_book / "book" / "ch00" / "index.html").read_text(encoding="utf-8")
    assert "dltheory-pdf.js" in page and "dropdown-download-buttons" in page
