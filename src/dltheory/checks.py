"""Argument checks shared by the whole library, written once (CONTRIBUTING.md, "Add library code").

Every public function validates its inputs at the boundary and names the wrong parameter. These helpers
say what was expected and what came, and return the value in the type the caller computes with.
``DTYPE`` is the library's one floating-point type for exact comparisons with theory (float64).
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import torch

#: The floating-point type of every computation that a claim compares with theory.
DTYPE = torch.float64


def check_integer(name: str, value: object, minimum: int | None = None) -> int:
    """``value`` as an int; raises ValueError naming ``name`` unless it is an integer (not a bool) >= minimum."""
    if isinstance(value, bool) or not isinstance(value, Integral) or (minimum is not None and value < minimum):
        expected = "an integer" if minimum is None else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def check_number(name: str, value: object, *, minimum: float | None = None) -> float:
    """``value`` as a finite float (a Python or NumPy number, or a one-element tensor), at least ``minimum``.

    Raises:
        TypeError: if ``value`` is not a real number (a bool is not).
        ValueError: if it is not finite, is below ``minimum``, or is a tensor of more than one element.
    """
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"{name} must be a single number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number}")
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {number}")
    return number


def check_positive(name: str, value: object) -> float:
    """``value`` as a float; raises ValueError naming ``name`` unless it is a positive finite real number."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def check_interval(a: object, b: object) -> tuple[float, float]:
    """``(a, b)`` as floats; raises ValueError unless both are finite numbers with ``a < b``."""
    for name, value in (("a", a), ("b", b)):
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    if not a < b:
        raise ValueError(f"need a < b, got a={a}, b={b}")
    return float(a), float(b)
