"""What the first cell of every notebook does after the library is installed (Preface, "Running the notebooks")."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dltheory.claims import set_notebook
from dltheory.envcheck import Environment, check_environment
from dltheory.plotting import use_book_style
from dltheory.runtime import default_device, seed_everything


@dataclass(frozen=True)
class Session:
    """What a notebook gets from `setup`: where to compute, a seeded generator, the environment."""

    notebook: str
    device: torch.device
    generator: torch.Generator
    environment: Environment


def setup(notebook: str, seed: int = 0, quiet: bool = False) -> Session:
    """Seed everything, apply the book's figure style, check the environment and name the notebook.

    Serves the first cell of every notebook (Preface, "Running the notebooks"); claims made
    afterwards are recorded under `notebook`.

    Args:
        notebook: the notebook's path in the book without extension, such as "ch00/gd_quadratic".
        seed: the seed for Python, NumPy and torch.
        quiet: skip the one-line environment summary.

    Raises:
        ValueError: if `notebook` is empty or `seed` is not a non-negative integer.
    """
    if not isinstance(notebook, str) or not notebook.strip():
        raise ValueError(f"notebook must be a non-empty string, got {notebook!r}")
    generator = seed_everything(seed)
    use_book_style()
    environment = check_environment()
    set_notebook(notebook)
    if not quiet:
        print(environment.summary())
    return Session(notebook=notebook, device=default_device(), generator=generator, environment=environment)
