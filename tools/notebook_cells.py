"""The first code cell every notebook starts with, in one place (CONTRIBUTING.md, "A notebook").

`tests/test_notebooks_shape.py` checks that every notebook's first code cell is exactly
`setup_cell(name)` for book notebooks and `setup_cell(name, lab=True)` for labs, and that a book notebook's
setup cell carries `SETUP_METADATA`, which collapses its code behind a "show setup" toggle in the HTML
(the cell stays in the notebook, so Colab and Binder still run it). To apply that metadata:

    python tools/notebook_cells.py collapse book/ch00/gd_quadratic.ipynb [...]

It changes nothing else and nothing at all in a notebook that has it already.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

#: The repository the book is built from; `_config.yml` names the same URL (a test checks).
REPOSITORY = "https://github.com/theory-you-can-run/theory-you-can-run"

_TEMPLATE = '''\
# Setup (the same in every notebook): install the course library when it is missing, as on Colab,
# then seed, set the figure style and check the environment. DLTHEORY_SOURCE overrides the source.
import importlib.util, os, subprocess, sys
if importlib.util.find_spec("dltheory") is None{missing_extra}:
    source = os.environ.get("DLTHEORY_SOURCE", "git+{repository}@v{version}")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", f"dltheory{extra} @ {{source}}"], check=True)
import dltheory
session = dltheory.setup("{name}")'''

_LAB_TAIL = '''
import dltheory.labs
grader = dltheory.labs.grader("{lab}")'''


def setup_cell(name: str, version: str, lab: str | None = None) -> str:
    """The setup cell of notebook `name` (its path under book/ or the lab's stem), at library `version`."""
    extra = "[labs]" if lab else ""
    missing_extra = ' or importlib.util.find_spec("otter") is None' if lab else ""
    text = _TEMPLATE.format(name=name, version=version, repository=REPOSITORY, extra=extra,
                            missing_extra=missing_extra)
    if lab:
        text += _LAB_TAIL.format(lab=lab)
    return text


#: The setup cell's metadata in a book notebook: myst-nb hides its code behind a toggle that says "show setup"
#: (its output, the environment check, stays visible).
SETUP_METADATA = {"tags": ["hide-input"], "mystnb": {"code_prompt_show": "show setup",
                                                     "code_prompt_hide": "hide setup"}}


def collapse_setup(path: Path) -> bool:
    """Give the first code cell of the notebook at `path` `SETUP_METADATA`; True when the file changed.

    The notebook is rewritten only when its setup cell lacks the metadata, with the same JSON layout
    (one-space indent, as Jupyter writes it), so a second run changes nothing.
    """
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cell = next((c for c in notebook["cells"] if c["cell_type"] == "code"), None)
    if cell is None:
        raise ValueError(f"path: {path} has no code cell to collapse")
    metadata = cell.setdefault("metadata", {})
    tags = [tag for tag in metadata.get("tags", []) if tag not in SETUP_METADATA["tags"]]
    wanted = {**metadata, "tags": SETUP_METADATA["tags"] + tags,
              "mystnb": {**metadata.get("mystnb", {}), **SETUP_METADATA["mystnb"]}}
    if wanted == metadata:
        return False
    cell["metadata"] = wanted
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Collapse the setup cell of book notebooks in the HTML.")
    commands = parser.add_subparsers(dest="command", required=True)
    collapse = commands.add_parser("collapse", help="give each notebook's setup cell SETUP_METADATA")
    collapse.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.notebooks:
        print(f"{path}: {'collapsed' if collapse_setup(path) else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
