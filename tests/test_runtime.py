"""Seeding, device choice, environment check, progress bars, plotting style and notebook setup."""

from __future__ import annotations

import random
import warnings

import matplotlib as mpl
import numpy as np
import pytest
import torch

import dltheory
from dltheory import envcheck
from dltheory.plotting import PALETTE, figure, measured, theory, use_book_style
from dltheory.progress import progress
from dltheory.runtime import default_device, in_ci, in_colab, seed_everything


def test_seeding_makes_every_generator_repeat() -> None:
    seed_everything(3)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(3)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_bad_seed_names_the_parameter(seed: object) -> None:
    with pytest.raises(ValueError, match="seed"):
        seed_everything(seed)  # type: ignore[arg-type]


def test_device_defaults_to_cuda_only_when_present(monkeypatch) -> None:
    monkeypatch.delenv("DLTHEORY_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert default_device().type == expected
    monkeypatch.setenv("DLTHEORY_DEVICE", "cpu")
    assert default_device() == torch.device("cpu")


def test_ci_and_colab_detection(monkeypatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert in_ci()
    monkeypatch.setenv("CI", "false")
    assert not in_ci()
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    assert not in_colab()
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab_20261101")
    assert in_colab()


def test_environment_check_reports_versions_and_warns_below_the_floor(monkeypatch) -> None:
    env = envcheck.check_environment(warn=False)
    assert env.dltheory == dltheory.__version__ and env.torch == torch.__version__
    assert "dltheory" in env.summary() and "torch" in env.summary()
    monkeypatch.setitem(envcheck.TESTED_FLOORS, "numpy", "999.0")
    with pytest.warns(UserWarning, match="numpy .* older than 999.0"):
        envcheck.check_environment()
    monkeypatch.setitem(envcheck.TESTED_FLOORS, "numpy", "1.0")
    monkeypatch.setitem(envcheck.TESTED_FLOORS, "a-package-that-is-not-there", "1.0")
    with pytest.warns(UserWarning, match="not installed"):
        envcheck.check_environment()


def test_version_comparison_ignores_local_labels() -> None:
    assert envcheck._version_tuple("2.13.0+cpu") == (2, 13, 0)
    assert envcheck._version_tuple("8.1.9rc1") == (8, 1, 9)


def test_installed_floors_hold_here() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        envcheck.check_environment()


def test_progress_is_silent_under_ci(monkeypatch, capsys) -> None:
    monkeypatch.setenv("CI", "true")
    assert list(progress(range(5), desc="quiet")) == [0, 1, 2, 3, 4]
    assert capsys.readouterr().err == ""


def test_book_style_and_figure_helpers() -> None:
    use_book_style()
    assert mpl.rcParams["figure.facecolor"] == "white"
    fig, axes = figure(ncols=2)
    assert axes.shape == (1, 2)
    theory(axes[0, 0], [0, 1], [0, 1], label="theory")
    measured(axes[0, 0], [0, 1], [0, 1], label="measured")
    line, markers = axes[0, 0].get_lines()
    assert line.get_linestyle() == "-" and markers.get_linestyle() == "None" and markers.get_marker() == "o"
    assert len(PALETTE) >= 6
    with pytest.raises(ValueError, match="ncols"):
        figure(ncols=0)


def test_setup_seeds_names_the_notebook_and_prints_one_line(capsys) -> None:
    session = dltheory.setup("ch99/test", seed=5)
    assert "dltheory" in capsys.readouterr().out
    assert session.notebook == "ch99/test" and isinstance(session.device, torch.device)
    assert torch.rand(1, generator=session.generator).item() == torch.rand(
        1, generator=torch.Generator().manual_seed(5)).item()
    with pytest.raises(ValueError, match="notebook"):
        dltheory.setup("")


def test_machine_names_processor_cores_and_python() -> None:
    import os
    import platform

    line = envcheck.machine()
    assert line.startswith(platform.machine()) and f"{os.cpu_count()} cores" in line
    assert line.endswith(f"Python {platform.python_version()}")
