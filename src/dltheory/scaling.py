"""Measured scaling exponents: the slope of a power law on log-log axes.

Serves every chapter that compares a predicted exponent with a measured one: Chapter 1 (how the kernel and
the weights move with the width), Chapter 3 (approximation rates).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from dltheory.checks import DTYPE


def loglog_slope(sizes: Sequence[float] | torch.Tensor, errors: Sequence[float] | torch.Tensor) -> float:
    """The least-squares slope of log(errors) against log(sizes): the measured exponent α of errors ~ C sizes^α.

    Used wherever a chapter measures a rate: Chapter 1, Sec. "Width" (kernel movement ~ m^{-1/2}); Chapter 3,
    Sec. "Rates and dimension" (Barron: α = -1/2; piecewise-linear interpolation of a smooth function: α = -2).

    Raises:
        ValueError: if the lengths differ, fewer than two points are given, a value is not positive, or all
            sizes are equal.
    """
    n = torch.as_tensor(sizes, dtype=DTYPE).flatten()
    e = torch.as_tensor(errors, dtype=DTYPE).flatten()
    if n.shape != e.shape or n.numel() < 2:
        raise ValueError(f"sizes and errors must have the same length >= 2, got {n.numel()} and {e.numel()}")
    if not bool((n > 0).all() and (e > 0).all()):
        raise ValueError("sizes and errors must be positive")
    log_n, log_e = n.log(), e.log()
    centred = log_n - log_n.mean()
    if not bool((centred != 0).any()):
        raise ValueError("sizes must not all be equal")
    return float((centred * (log_e - log_e.mean())).sum() / (centred**2).sum())
