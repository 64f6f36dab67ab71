"""The Binder launch (issue 15, "Launch beyond Colab"): binder/ installs what the notebooks import, at the
pinned versions, and every notebook page of the built book carries a Binder button next to Colab's.

Binder builds the repository with repo2docker: `binder/runtime.txt` picks the Python, `binder/requirements.txt`
is installed with pip, then `binder/postBuild` runs. These tests read those files without network: the
import names of the notebooks and of the library are mapped to their distributions with the metadata of the
environment the tests run in (installed from constraints.txt), and each distribution must be pinned in
Binder's set at the constraints' version.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
NOTEBOOKS = sorted((ROOT / "book").rglob("*.ipynb")) + sorted((ROOT / "labs").glob("*.ipynb"))
LIBRARY = sorted((ROOT / "src" / "dltheory").rglob("*.py"))
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)\s*(?:#.*)?$")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    """`name==version` lines of a requirements or constraints file, by normalized name."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[_normalize(match[1])] = match[2]
    return pins


def _options(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip().startswith("-")]


def _imports(source: str, where: str) -> set[str]:
    """The top-level package of every absolute import in `source`."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        pytest.fail(f"{where} does not parse: {error}")
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _notebook_source(path: Path) -> str:
    cells = [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    lines = "\n".join(cells).splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))  # IPython magics


def _imported_packages() -> dict[str, str]:
    """Every third-party top-level import of the notebooks and the library, with one file that makes it."""
    found: dict[str, str] = {}
    sources = [(path, _notebook_source(path)) for path in NOTEBOOKS]
    sources += [(path, path.read_text(encoding="utf-8")) for path in LIBRARY]
    for path, source in sources:
        for name in _imports(source, str(path.relative_to(ROOT))):
            if name not in sys.stdlib_module_names and name != "dltheory":
                found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def test_there_is_something_to_check() -> None:
    assert NOTEBOOKS and LIBRARY
    assert {"torch", "numpy", "matplotlib"} <= set(_imported_packages())


def test_binder_pins_are_the_constraints() -> None:
    binder, constraints = _pins(BINDER / "requirements.txt"), _pins(ROOT / "constraints.txt")
    assert binder, "binder/requirements.txt pins nothing"
    for name, version in binder.items():
        assert name in constraints, f"binder/requirements.txt pins {name}, which constraints.txt does not"
        assert version == constraints[name], \
            f"binder/requirements.txt pins {name}=={version}, constraints.txt {name}=={constraints[name]}"


def test_binder_is_constrained_by_the_whole_pinned_set_and_uses_cpu_torch() -> None:
    options = _options(BINDER / "requirements.txt")
    constraint_files = [option.split(None, 1)[1] for option in options if option.startswith(("-c ", "--constraint "))]
    assert constraint_files, "binder/requirements.txt does not constrain its dependencies with constraints.txt"
    # pip reads a nested requirements or constraints file relative to the file that names it
    assert all((BINDER / path).resolve() == ROOT / "constraints.txt" for path in constraint_files), constraint_files
    assert f"--extra-index-url {CPU_INDEX}" in options, "torch must come from the CPU index (Binder has no GPU)"


def test_every_import_resolves_to_a_pinned_package() -> None:
    binder = _pins(BINDER / "requirements.txt")
    distributions = importlib.metadata.packages_distributions()
    for module, where in sorted(_imported_packages().items()):
        names = distributions.get(module)
        assert names, f"{where} imports {module}, which no installed distribution provides"
        pinned = [name for name in names if _normalize(name) in binder]
        assert pinned, f"{where} imports {module} (from {names}), which binder/requirements.txt does not pin"


def test_binder_covers_the_library_dependencies() -> None:
    """pyproject's dependencies and its labs extra, the set `pip install dltheory[labs]` would bring."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^dependencies = \[(.*?)\]", text, re.S | re.M)[1]
    labs = re.search(r"^labs = \[(.*?)\]", text, re.M)[1]
    wanted = {_normalize(re.match(r"[A-Za-z0-9._-]+", name)[0]) for name in re.findall(r'"([^"]+)"', block + labs)}
    missing = wanted - set(_pins(BINDER / "requirements.txt"))
    assert not missing, f"binder/requirements.txt does not pin the library's dependencies {sorted(missing)}"


def test_post_build_installs_the_library_from_the_checkout() -> None:
    post_build = BINDER / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable (repo2docker runs it directly)"
    lines = [line.strip() for line in post_build.read_text(encoding="utf-8").splitlines()]
    assert lines[0].startswith("#!"), "binder/postBuild needs a shebang line"
    installs = [line for line in lines if re.search(r"\bpip install\b", line)]
    assert installs and all("--no-deps" in line for line in installs), \
        "postBuild installs the library only: its dependencies are binder/requirements.txt's pins"
    assert any(line.split()[-1] == "." for line in installs), "postBuild does not install the library from ."


def test_binder_python_is_the_tested_python() -> None:
    runtime = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    assert runtime == f"python-{sys.version_info.major}.{sys.version_info.minor}", \
        f"binder/runtime.txt asks for {runtime}; constraints.txt is verified on Python {sys.version.split()[0]}"


def test_config_names_binder() -> None:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert config["launch_buttons"]["colab_url"]


@pytest.mark.slow
@pytest.mark.parametrize("notebook", sorted((ROOT / "book").rglob("*.ipynb")), ids=lambda p: p.stem)
def test_notebook_pages_have_binder_button(built_book: Path, notebook: Path) -> None:
    relative = notebook.relative_to(ROOT).with_suffix("")
    page = (built_book / relative).with_suffix(".html").read_text(encoding="utf-8")
    binder = f"https://mybinder.org/v2/gh/theory-you-can-run/theory-you-can-run/main?urlpath=tree/{relative}.ipynb"
    assert binder in page, f"{relative}.html has no Binder button ({binder})"
    assert "colab.research.google.com" in page, f"{relative}.html has no Colab button beside Binder's"
