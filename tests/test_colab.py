"""Colab from one file: a notebook copied alone into an empty folder runs in a fresh environment.

As a new Colab user would: a fresh virtual environment that has torch, matplotlib and ipywidgets (as Colab
does) but not dltheory; the notebook alone in an empty directory; its first cell must install the library
(here from a locally built wheel, through DLTHEORY_SOURCE) and the whole notebook must run. CI runs one book
notebook and one lab; `make colab-all` runs every notebook (DLTHEORY_COLAB_ALL=1).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
ALL = os.environ.get("DLTHEORY_COLAB_ALL") == "1"
NOTEBOOKS = (sorted((ROOT / "book").rglob("*.ipynb")) + sorted((ROOT / "labs").glob("*.ipynb"))) if ALL else [
    ROOT / "book" / "ch00" / "gd_quadratic.ipynb",
    ROOT / "labs" / "lab00_gd.ipynb",
]
# What Colab has preinstalled that matters here; pinned to the tested set.
COLAB_PREINSTALLED = ["torch", "matplotlib", "ipywidgets", "ipykernel", "nbclient"]

RUN_NOTEBOOK = """
import sys, nbformat, nbclient
path = sys.argv[1]
notebook = nbformat.read(path, as_version=4)
nbclient.NotebookClient(notebook, timeout=900, kernel_name="python3").execute(cwd=str(__import__("pathlib").Path(path).parent))
nbformat.write(notebook, path)
"""


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _clean_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV", "DLTHEORY_CLAIMS_FILE", "JUPYTER_PATH")}
    env["CI"] = "true"
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The library as a wheel, built from this checkout."""
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)])
    (built,) = out.glob("dltheory-*.whl")
    return built


@pytest.fixture(scope="module")
def colab_like_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with Colab's preinstalled packages and no dltheory."""
    venv = tmp_path_factory.mktemp("colab") / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", "-c", str(ROOT / "constraints.txt"), *COLAB_PREINSTALLED],
         env=_clean_env())
    check = subprocess.run([str(python), "-c", "import dltheory"], capture_output=True, env=_clean_env())
    assert check.returncode != 0, "the fresh environment must not have dltheory"
    return venv


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebook_runs_alone_in_a_fresh_environment(notebook: Path, wheel: Path, colab_like_venv: Path,
                                                    tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    shutil.copytree(colab_like_venv, venv, symlinks=True)  # each notebook starts without dltheory
    alone = tmp_path / "empty" / notebook.name
    alone.parent.mkdir()
    shutil.copy(notebook, alone)
    env = _clean_env() | {"DLTHEORY_SOURCE": wheel.as_uri()}
    _run([str(venv / "bin" / "python"), "-c", RUN_NOTEBOOK, str(alone)], env=env, cwd=alone.parent, timeout=1800)

    executed = nbformat.read(alone, as_version=4)
    setup = next(cell for cell in executed.cells if cell.cell_type == "code")
    first_output = "".join(output.get("text", "") for output in setup.outputs)
    assert "dltheory 0.1.0" in first_output, first_output
    shown = _run([str(venv / "bin" / "python"), "-m", "pip", "show", "dltheory"], env=_clean_env()).stdout
    assert "Version: 0.1.0" in shown
    errors = [output for cell in executed.cells for output in cell.get("outputs", []) if output.output_type == "error"]
    assert not errors, errors
