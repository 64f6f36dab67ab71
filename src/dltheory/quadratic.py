"""Gradient descent on a quadratic, the model problem of Chapter 0, "Gradient descent, measured".

The loss is f(x) = 1/2 x^T A x - b^T x with A symmetric positive definite (eq. `eq-quadratic`).
Gradient descent x_{k+1} = x_k - eta (A x_k - b) moves the error e_k = x_k - x* by
e_{k+1} = (I - eta A) e_k (eq. `eq-error-map`), so along the eigenvector of A with eigenvalue
lambda_i the error shrinks by the factor ``abs(1 - eta lambda_i)`` per step (Nesterov 2018, Sec. 1.2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from dltheory.checks import DTYPE


@dataclass(frozen=True)
class Quadratic:
    """The quadratic f(x) = 1/2 x^T A x - b^T x of Chapter 0 (eq. `eq-quadratic`).

    Attributes:
        A: a symmetric positive definite matrix, shape (n, n), float64.
        b: the linear term, shape (n,), float64.
    """

    A: torch.Tensor
    b: torch.Tensor

    def __post_init__(self) -> None:
        A, b = self.A, self.b
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"A must be a square matrix, got shape {tuple(A.shape)}")
        if b.shape != (A.shape[0],):
            raise ValueError(f"b must have shape ({A.shape[0]},) to match A, got {tuple(b.shape)}")
        if not torch.allclose(A, A.T, rtol=1e-10, atol=1e-12):
            raise ValueError("A must be symmetric")
        if torch.linalg.eigvalsh(A.to(DTYPE)).min() <= 0:
            raise ValueError("A must be positive definite (its smallest eigenvalue is not positive)")

    @property
    def eigenvalues(self) -> torch.Tensor:
        """The eigenvalues of A in increasing order."""
        return torch.linalg.eigvalsh(self.A)

    @property
    def lambda_min(self) -> float:
        """The smallest eigenvalue of A, the curvature of the flattest direction."""
        return float(self.eigenvalues[0])

    @property
    def lambda_max(self) -> float:
        """The largest eigenvalue of A, the curvature of the steepest direction."""
        return float(self.eigenvalues[-1])

    @property
    def condition_number(self) -> float:
        """kappa = lambda_max / lambda_min (eq. `eq-kappa`)."""
        return self.lambda_max / self.lambda_min

    @property
    def minimizer(self) -> torch.Tensor:
        """x* = A^{-1} b, the unique minimiser."""
        return torch.linalg.solve(self.A, self.b)

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """f(x) for x of shape (n,) or a batch of shape (..., n)."""
        return 0.5 * (x @ self.A * x).sum(-1) - x @ self.b

    def gradient(self, x: torch.Tensor) -> torch.Tensor:
        """The gradient A x - b."""
        return x @ self.A - self.b


def random_quadratic(n: int, lambda_min: float, lambda_max: float, seed: int = 0) -> Quadratic:
    """A quadratic in n dimensions with eigenvalues evenly spaced in [lambda_min, lambda_max].

    Serves Chapter 0, "The model problem". The eigenvectors are a random rotation drawn with `seed`,
    and b is a random Gaussian vector, so the minimiser is generic.

    Raises:
        ValueError: if n < 2 or the eigenvalue range is not 0 < lambda_min <= lambda_max.
    """
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer of at least 2, got {n!r}")
    if not 0 < lambda_min <= lambda_max:
        raise ValueError(f"need 0 < lambda_min <= lambda_max, got lambda_min={lambda_min}, lambda_max={lambda_max}")
    generator = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(n, n, generator=generator, dtype=DTYPE))
    eigenvalues = torch.linspace(lambda_min, lambda_max, n, dtype=DTYPE)
    A = (Q * eigenvalues) @ Q.T
    A = 0.5 * (A + A.T)
    b = torch.randn(n, generator=generator, dtype=DTYPE)
    return Quadratic(A=A, b=b)


@dataclass(frozen=True)
class Trajectory:
    """What `gradient_descent` records at every step k = 0..steps.

    Attributes:
        errors: ||x_k - x*||, shape (steps + 1,).
        excess_loss: f(x_k) - f(x*), shape (steps + 1,).
    """

    errors: torch.Tensor
    excess_loss: torch.Tensor


def gradient_descent(quadratic: Quadratic, eta: float, steps: int, x0: torch.Tensor | None = None) -> Trajectory:
    """Run gradient descent x_{k+1} = x_k - eta grad f(x_k) (eq. `eq-gd`) and record the error.

    Serves Chapter 0, "The model problem". Starts from `x0`, or from the origin when it is None.

    Raises:
        ValueError: if eta is not positive, steps is negative, or x0 has the wrong shape.
    """
    if not eta > 0:
        raise ValueError(f"eta must be positive, got {eta}")
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    n = quadratic.A.shape[0]
    x = torch.zeros(n, dtype=DTYPE) if x0 is None else x0.to(DTYPE).clone()
    if x.shape != (n,):
        raise ValueError(f"x0 must have shape ({n},), got {tuple(x.shape)}")
    x_star = quadratic.minimizer
    f_star = quadratic.loss(x_star)
    errors, excess = [], []
    for _ in range(steps + 1):
        errors.append(torch.linalg.vector_norm(x - x_star))
        excess.append(quadratic.loss(x) - f_star)
        x = x - eta * quadratic.gradient(x)
    return Trajectory(errors=torch.stack(errors), excess_loss=torch.stack(excess))


def gd_rate(eta: float, eigenvalues: torch.Tensor) -> float:
    """The predicted contraction factor ``rho(eta) = max_i abs(1 - eta lambda_i)`` (eq. `eq-gd-rate`).

    Serves Chapter 0, "The rate". Gradient descent converges exactly when rho < 1.

    Raises:
        ValueError: if eta is not positive or the eigenvalues are empty.
    """
    if not eta > 0:
        raise ValueError(f"eta must be positive, got {eta}")
    if eigenvalues.numel() == 0:
        raise ValueError("eigenvalues must not be empty")
    return float((1 - eta * eigenvalues).abs().max())


def max_stable_step(quadratic: Quadratic) -> float:
    """The step-size limit 2 / lambda_max beyond which gradient descent diverges (eq. `eq-stability`)."""
    return 2.0 / quadratic.lambda_max


def optimal_step(quadratic: Quadratic) -> float:
    """The step 2 / (lambda_min + lambda_max) that minimises rho(eta) (eq. `eq-optimal-step`)."""
    return 2.0 / (quadratic.lambda_min + quadratic.lambda_max)


def optimal_rate(kappa: float) -> float:
    """The best rate (kappa - 1) / (kappa + 1) gradient descent reaches on a quadratic (eq. `eq-optimal-step`).

    Raises:
        ValueError: if kappa < 1.
    """
    if not kappa >= 1:
        raise ValueError(f"kappa must be at least 1, got {kappa}")
    return (kappa - 1) / (kappa + 1)


def measured_rate(errors: torch.Tensor, skip: int = 0, floor: float = 1e-10) -> float:
    """The contraction factor per step fitted to a geometric sequence of errors.

    Serves Chapter 0, "Measuring a rate": the slope of a least-squares line through
    log errors[k] for k >= skip, exponentiated. The fit stops at the first error below
    `floor * errors[0]`, where float64 round-off would start to show.

    Raises:
        ValueError: if skip is negative, floor is not in (0, 1), or fewer than two usable errors remain.
    """
    if not isinstance(skip, int) or skip < 0:
        raise ValueError(f"skip must be a non-negative integer, got {skip!r}")
    if not 0 < floor < 1:
        raise ValueError(f"floor must lie in (0, 1), got {floor}")
    values = errors.to(DTYPE)
    above = (values > floor * values[0]).long().cumprod(0)[skip:]
    usable = int(above.sum())
    if usable < 2:
        raise ValueError(f"need at least two errors above the floor after skip={skip}, got {usable}")
    logs = values[skip:skip + usable].log()
    k = torch.arange(usable, dtype=DTYPE)
    k_centred = k - k.mean()
    slope = float((k_centred * (logs - logs.mean())).sum() / (k_centred**2).sum())
    return math.exp(slope)


def steps_to_reach(rate: float, reduction: float) -> int:
    """The number of steps k with rate^k <= reduction: ceil(log(reduction) / log(rate)) (eq. `eq-iterations`).

    Raises:
        ValueError: unless 0 < rate < 1 and 0 < reduction < 1.
    """
    if not 0 < rate < 1:
        raise ValueError(f"rate must lie in (0, 1), got {rate}")
    if not 0 < reduction < 1:
        raise ValueError(f"reduction must lie in (0, 1), got {reduction}")
    return math.ceil(math.log(reduction) / math.log(rate))
