"""Approximation rates in d dimensions: Barron's dimension-free rate for shallow networks.

Chapter 3, Sec. "Rates and dimension". A function with finite Barron norm ``C_f = ∫ ||ω|| abs(f̂(ω)) dω``
is approximated on the ball of radius r, in L2 of any probability measure there, by a one-hidden-layer
network of n sigmoidal units with error at most 2 r C_f / sqrt(n), whatever d is (Barron 1993).
This module makes such targets, states the bound for ReLU widths and samples the ball; the networks start at
`shallow_relu_net` and are trained by `dltheory.approx.fit_relu_net` and rates are measured by `dltheory.scaling.loglog_slope`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from dltheory.checks import DTYPE, check_integer, check_positive


@dataclass(frozen=True)
class BarronTarget:
    """f(x) = sum_k a_k cos(ω_k · x + φ_k), a function of d variables with a known Barron norm.

    Chapter 3, Sec. "Rates and dimension", eq. `eq-barron-norm`.

    Attributes:
        frequencies: ω_k, shape (K, d).
        phases: φ_k, shape (K,).
        amplitudes: a_k, shape (K,).
    """

    frequencies: torch.Tensor
    phases: torch.Tensor
    amplitudes: torch.Tensor

    @property
    def dimension(self) -> int:
        """The number d of input variables."""
        return self.frequencies.shape[1]

    @property
    def barron_norm(self) -> float:
        """``sum_k abs(a_k) ||ω_k||``, an upper bound on ``C_f = ∫ ||ω|| abs(f̂(ω)) dω`` (equal when the ±ω_k are distinct).

        Each term a cos(ω · x + φ) puts Fourier mass ``abs(a)/2`` at ω and at -ω (Barron 1993, eq. `eq-barron-norm`).
        """
        return float((self.amplitudes.abs() * torch.linalg.vector_norm(self.frequencies, dim=1)).sum())

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """f at the rows of x, shape (N, d) -> (N,), in the dtype and on the device of x."""
        if x.ndim != 2 or x.shape[1] != self.dimension:
            raise ValueError(f"x must have shape (N, {self.dimension}), got {tuple(x.shape)}")
        frequencies, phases, amplitudes = (
            t.to(x.device, x.dtype) for t in (self.frequencies, self.phases, self.amplitudes)
        )
        return torch.cos(x @ frequencies.T + phases) @ amplitudes


def barron_target(d: int, terms: int = 8, seed: int = 0) -> BarronTarget:
    """A random `BarronTarget` in d dimensions whose Barron norm does not grow with d.

    Chapter 3, Sec. "Rates and dimension", eq. `eq-barron-norm`. The frequencies are Gaussian with
    covariance (4/d) I, so ``||ω_k|| ≈ 2`` in every dimension; the phases are uniform on [0, 2π) and the
    amplitudes are ±1/terms, so ``abs(f) <= 1`` and the Barron norm is about 2 for any d. Drawn from a
    generator seeded by `seed`; the global random state is not touched.

    Raises:
        ValueError: if d or terms is not a positive integer, or seed is negative.
    """
    d = check_integer("d", d, 1)
    terms = check_integer("terms", terms, 1)
    seed = check_integer("seed", seed, 0)
    generator = torch.Generator().manual_seed(seed)
    frequencies = torch.randn(terms, d, generator=generator, dtype=DTYPE) * (2 / math.sqrt(d))
    phases = 2 * math.pi * torch.rand(terms, generator=generator, dtype=DTYPE)
    signs = 2.0 * torch.randint(0, 2, (terms,), generator=generator, dtype=DTYPE) - 1
    return BarronTarget(frequencies=frequencies, phases=phases, amplitudes=signs / terms)


def barron_bound(barron_norm: float, radius: float, width: int) -> float:
    """2 r C_f / sqrt(floor(width / 2)): Barron's L2 error bound for a one-hidden-layer ReLU network.

    Chapter 3, Sec. "Rates and dimension", eq. `eq-barron-rate`. Barron (1993, Theorem 1): for every
    probability measure on the ball of radius r there are n sigmoidal units with L2 error at most
    2 r C_f / sqrt(n). A ramp ReLU(z) - ReLU(z - 1) is sigmoidal (bounded, tends to 0 and 1), so `width`
    ReLU units make floor(width / 2) of them, plus an output bias. No power of d appears.

    Raises:
        ValueError: if barron_norm or radius is not positive, or width < 2.
    """
    barron_norm = check_positive("barron_norm", barron_norm)
    radius = check_positive("radius", radius)
    width = check_integer("width", width, 2)
    return 2 * radius * barron_norm / math.sqrt(width // 2)


def uniform_ball(n: int, d: int, radius: float = 1.0, seed: int = 0) -> torch.Tensor:
    """n points drawn uniformly from the ball of radius r in d dimensions, shape (n, d), float64.

    Chapter 3, Sec. "Rates and dimension": the measure of the Barron bound. A Gaussian direction
    scaled by r U^{1/d}, U uniform on [0, 1], from a generator seeded by `seed`.

    Raises:
        ValueError: if n or d is not a positive integer, radius is not positive, or seed is negative.
    """
    n = check_integer("n", n, 1)
    d = check_integer("d", d, 1)
    radius = check_positive("radius", radius)
    seed = check_integer("seed", seed, 0)
    generator = torch.Generator().manual_seed(seed)
    directions = torch.randn(n, d, generator=generator, dtype=DTYPE)
    directions = directions / torch.linalg.vector_norm(directions, dim=1, keepdim=True)
    radii = radius * torch.rand(n, 1, generator=generator, dtype=DTYPE) ** (1 / d)
    return directions * radii


def shallow_relu_net(d: int, width: int, seed: int = 0) -> nn.Sequential:
    """A one-hidden-layer ReLU network with d inputs at PyTorch's default initialisation, in float64.

    Chapter 3, Sec. "Rates and dimension": the start of the trained networks compared with Barron's bound
    (trained by `dltheory.approx.fit_relu_net` with ``start=``). Every weight and bias of a layer with fan-in
    n is uniform on [-1/sqrt(n), 1/sqrt(n)] (PyTorch's default for nn.Linear), drawn under `seed` without
    changing the global random state. In d = 8 these first-layer weights are about half the size of the
    He-scaled ones of `dltheory.approx.random_relu_net`, and the fits on 1000 samples overfit less.

    Raises:
        ValueError: if d or width is not a positive integer, or seed is negative.
    """
    d = check_integer("d", d, 1)
    width = check_integer("width", width, 1)
    seed = check_integer("seed", seed, 0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(d, width), nn.ReLU(), nn.Linear(width, 1))
    return net.to(DTYPE)
