"""Every notebook has the shape CONTRIBUTING.md asks for: the same setup cell, no stored outputs,
listed in the table of contents, ending in checked claims whose sources are in the bibliography."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

import dltheory

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from notebook_cells import REPOSITORY, SETUP_METADATA, collapse_setup, setup_cell  # noqa: E402

BOOK_NOTEBOOKS = sorted((ROOT / "book").rglob("*.ipynb"))
SOLUTION_NOTEBOOKS = sorted((ROOT / "solutions").glob("*.ipynb"))
BIB_KEYS = set(re.findall(r"@\w+\{([^,\s]+),", (ROOT / "book" / "references.bib").read_text()))


def _name(path: Path) -> str:
    return path.relative_to(ROOT / "book").with_suffix("").as_posix()


def _toc_files(node: object) -> set[str]:
    files: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("file", "root") and isinstance(value, str):
                files.add(value)
            files |= _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            files |= _toc_files(item)
    return files


def test_there_are_book_notebooks() -> None:
    assert BOOK_NOTEBOOKS, "no notebooks found under book/"


@pytest.mark.parametrize("path", BOOK_NOTEBOOKS, ids=_name)
def test_first_code_cell_is_the_setup_cell(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert first_code.source == setup_cell(_name(path), dltheory.__version__)
    assert notebook.cells[0].cell_type == "markdown" and "**Question.**" in notebook.cells[0].source


@pytest.mark.parametrize("path", BOOK_NOTEBOOKS, ids=_name)
def test_setup_cell_is_collapsed_in_the_html(path: Path) -> None:
    """The setup cell carries SETUP_METADATA: the HTML hides its code behind "show setup"."""
    first_code = next(cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
    tags, mystnb = first_code.metadata.get("tags", []), first_code.metadata.get("mystnb", {})
    assert set(SETUP_METADATA["tags"]) <= set(tags) and SETUP_METADATA["mystnb"].items() <= mystnb.items(), (
        f"{_name(path)}: the setup cell is not collapsed; run "
        f"`python tools/notebook_cells.py collapse {path.relative_to(ROOT)}`")


def test_collapse_setup_changes_only_the_setup_cells_metadata_once(tmp_path: Path) -> None:
    source = ROOT / "book" / "ch00" / "gd_quadratic.ipynb"
    notebook = nbformat.read(source, as_version=4)
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    first_code.metadata = {"tags": ["keep-me"]}
    path = tmp_path / "bare.ipynb"
    nbformat.write(notebook, path)
    assert collapse_setup(path) is True
    assert collapse_setup(path) is False, "a second run must change nothing"
    collapsed = nbformat.read(path, as_version=4)
    cell = next(c for c in collapsed.cells if c.cell_type == "code")
    assert cell.metadata["tags"] == SETUP_METADATA["tags"] + ["keep-me"]
    assert cell.metadata["mystnb"] == SETUP_METADATA["mystnb"]
    assert [c.source for c in collapsed.cells] == [c.source for c in notebook.cells]


@pytest.mark.parametrize("path", BOOK_NOTEBOOKS + SOLUTION_NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name} has stored outputs"


@pytest.mark.parametrize("path", BOOK_NOTEBOOKS, ids=_name)
def test_notebook_is_in_the_toc_and_checks_claims_with_known_sources(path: Path) -> None:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    assert path.relative_to(ROOT).with_suffix("").as_posix() in _toc_files(toc)
    source = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
    assert "dltheory.claim(" in source, f"{path.name} states no claim"
    for key in re.findall(r"source=\"([^\"]+)\"", source):
        assert key in BIB_KEYS, f"{path.name} cites {key!r}, which is not in book/references.bib"


def test_one_repository_url_everywhere() -> None:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"] == REPOSITORY
    assert REPOSITORY in (ROOT / "pyproject.toml").read_text()


def test_library_version_is_the_package_version() -> None:
    assert f'version = "{dltheory.__version__}"' in (ROOT / "pyproject.toml").read_text()
