"""The first code cell every notebook starts with, in one place (CONTRIBUTING.md, "A notebook").

`tests/test_notebooks_shape.py` checks that every notebook's first code cell is exactly
`setup_cell(name)` for book notebooks and `setup_cell(name, lab=True)` for labs.
"""

from __future__ import annotations

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
