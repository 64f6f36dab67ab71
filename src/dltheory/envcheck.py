"""The environment check printed by every notebook's first cell (Preface, "Running the notebooks")."""

from __future__ import annotations

import platform
import re
import warnings
from dataclasses import dataclass
from importlib import metadata

import torch

from dltheory.runtime import default_device, in_colab

#: The oldest version of each runtime dependency the course has been tested with.
TESTED_FLOORS: dict[str, str] = {
    "torch": "2.1",
    "numpy": "1.24",
    "scipy": "1.10",
    "matplotlib": "3.7",
    "ipywidgets": "8.0",
    "tqdm": "4.64",
    "chess": "1.10",
}


@dataclass(frozen=True)
class Environment:
    """What a notebook is running on: versions, Colab or not, GPU or not."""

    dltheory: str
    python: str
    torch: str
    colab: bool
    device: str
    packages: dict[str, str | None]

    def summary(self) -> str:
        """One line for the top of a notebook."""
        where = "Colab" if self.colab else "local"
        return (
            f"dltheory {self.dltheory} | Python {self.python} | torch {self.torch} | "
            f"{where} | device {self.device}"
        )


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("+")[0].split("."):
        match = re.match(r"\d+", piece)
        if match is None:
            break
        parts.append(int(match.group()))
        if match.end() < len(piece):  # a pre-release tag such as "9rc1" ends the release part
            break
    return tuple(parts)


def _installed(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def check_environment(warn: bool = True) -> Environment:
    """Describe the running environment and warn about packages older than the tested floor.

    Serves the Preface, "Running the notebooks".

    Args:
        warn: emit a `UserWarning` for each runtime dependency that is missing or older than
            `TESTED_FLOORS` says.

    Returns:
        An `Environment` with the versions, whether this is Colab, and the compute device.
    """
    from dltheory import __version__

    packages = {name: _installed(name) for name in TESTED_FLOORS}
    if warn:
        for name, floor in TESTED_FLOORS.items():
            found = packages[name]
            if found is None:
                warnings.warn(f"{name} is not installed; the course needs {name}>={floor}", stacklevel=2)
            elif _version_tuple(found) < _version_tuple(floor):
                warnings.warn(
                    f"{name} {found} is older than {floor}, the oldest version the course was tested with",
                    stacklevel=2,
                )
    return Environment(
        dltheory=__version__,
        python=platform.python_version(),
        torch=torch.__version__,
        colab=in_colab(),
        device=str(default_device()),
        packages=packages,
    )


def machine() -> str:
    """The machine a measurement ran on, in one line: architecture, processor, cores and Python.

    The benchmark scripts print it above their tables (Chapter 4, Sec. 'Strength in games'), since the speeds
    they report depend on it. The processor's name comes from /proc/cpuinfo on Linux, else from `platform`.
    """
    import os

    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    cpu = cpu or platform.processor() or platform.platform()
    return f"{platform.machine()}, {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"
