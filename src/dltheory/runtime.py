"""Seeding, device choice and where we are running (Preface, "Running the notebooks")."""

from __future__ import annotations

import os
import random
import sys

import numpy as np
import torch


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and torch so that a notebook gives the same numbers on every run.

    Serves the Preface, "Running the notebooks": every notebook calls this through `dltheory.setup`.

    Args:
        seed: a non-negative integer.

    Returns:
        A `torch.Generator` seeded with `seed`, for code that wants its own stream.

    Raises:
        ValueError: if `seed` is not a non-negative integer.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def default_device() -> torch.device:
    """The device notebooks compute on: CUDA when a GPU is there, else the CPU.

    Serves the Preface, "Running the notebooks". Setting the environment variable
    `DLTHEORY_DEVICE` (for example to `cpu`) overrides the choice.
    """
    wanted = os.environ.get("DLTHEORY_DEVICE")
    if wanted:
        return torch.device(wanted)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def in_colab() -> bool:
    """Whether this Python runs inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def in_ci() -> bool:
    """Whether this Python runs under continuous integration (the variable `CI` is set)."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
