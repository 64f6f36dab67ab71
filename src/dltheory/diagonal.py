"""Diagonal linear networks, the smallest model that leaves the kernel regime, Chapter 1.

The regression vector is beta = sum_k (u_k * u_k - v_k * v_k) over `width` copies of two vectors
u_k, v_k in R^d, all initialized at the scale alpha, so that beta starts at 0. Trained on the squared
loss 1/(2n) ||X beta - y||^2, large alpha is lazy and returns the minimum-l2 interpolator (a kernel
method), small alpha is "rich" and approaches the minimum-l1 interpolator (Woodworth et al. 2020), and
the noise of SGD acts like a smaller alpha, more so with a larger step (Pesme, Pillaud-Vivien and
Flammarion 2021). Width k at scale alpha trains exactly like width 1 at scale alpha sqrt(k).

Section of Chapter 1 served here: "Beyond the kernel".
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dltheory.checks import check_integer, check_positive


@dataclass(frozen=True)
class DiagonalTraining:
    """What `train_diagonal` returns.

    Attributes:
        beta: the regression vector at the end of training, shape (d,).
        loss: the full-batch training loss 1/(2n) ``||X beta - y||^2`` at steps 0..steps, shape (steps + 1,).
    """

    beta: torch.Tensor
    loss: torch.Tensor


def train_diagonal(
    X: torch.Tensor,
    y: torch.Tensor,
    alpha: float,
    eta: float,
    steps: int,
    *,
    width: int = 1,
    batch_size: int | None = None,
    generator: torch.Generator | None = None,
) -> DiagonalTraining:
    """Train a diagonal linear network by gradient descent or SGD and return its regression vector.

    Chapter 1, Sec. "Beyond the kernel". With g the gradient of the loss with respect to beta on the
    current batch, ``g = X_B^T (X_B beta - y_B) / b``, every copy updates by u <- u - 2 eta u * g and
    v <- v + 2 eta v * g (Woodworth et al. 2020; Pesme et al. 2021). With `batch_size` set, each step draws
    that many examples uniformly with replacement.

    Args:
        X: design matrix, shape (n, d).
        y: targets, shape (n,).
        alpha: the initialization scale of every entry of u and v, positive.
        eta: the step size, positive.
        steps: the number of updates, a non-negative integer.
        width: the number k of copies of (u, v), a positive integer.
        batch_size: None for full-batch gradient descent, else an integer in 1..n.
        generator: the random stream for the mini-batches; torch's global one when None.

    Returns:
        A `DiagonalTraining` with the final beta and the loss at every step.

    Raises:
        TypeError: if X or y is not a floating-point tensor.
        ValueError: if shapes do not match or alpha, eta, steps, width or batch_size is out of range.

    Example:
        run = train_diagonal(X, y, alpha=1e-3, eta=0.05, steps=3000)
        run.beta  # close to the minimum-l1 interpolator of X beta = y
    """
    _check(X, y, alpha, eta, steps, width, batch_size)
    n, d = X.shape
    y = y.to(X.dtype)
    u = torch.full((width, d), float(alpha), dtype=X.dtype, device=X.device)
    v = u.clone()
    loss = X.new_empty(steps + 1)
    for k in range(steps + 1):
        beta = (u * u - v * v).sum(dim=0)
        loss[k] = 0.5 * ((X @ beta - y) ** 2).mean()
        if k == steps:
            break
        if batch_size is None:
            Xb, yb = X, y
        else:
            rows = torch.randint(0, n, (batch_size,), generator=generator).to(X.device)
            Xb, yb = X[rows], y[rows]
        g = Xb.T @ (Xb @ beta - yb) / Xb.shape[0]
        u, v = u - 2 * eta * u * g, v + 2 * eta * v * g
    return DiagonalTraining(beta=(u * u - v * v).sum(dim=0), loss=loss)


def implicit_bias_interpolator(X: torch.Tensor, y: torch.Tensor, alpha: float, *, width: int = 1) -> torch.Tensor:
    """The interpolator that gradient flow from scale alpha converges to: argmin Q_alpha(beta) s.t. X beta = y.

    Chapter 1, Sec. "Beyond the kernel" (Woodworth et al. 2020, Theorem 1). Gradient flow on u and v from
    u = v = alpha keeps beta = u*u - v*v of the form beta = 2 alpha^2 sinh(X^T nu) for some nu in R^n
    (each coordinate of u grows like alpha exp(-2 s) and of v like alpha exp(2 s), with s in the span of
    the rows of X), and among those vectors there is exactly one interpolator. It minimizes the potential
    ``Q_alpha(beta) = alpha^2 sum_i q(beta_i / alpha^2)``, ``q(z) = 2 - sqrt(4 + z^2) + z arcsinh(z / 2)``,
    whose gradient is ``arcsinh(beta / (2 alpha^2))``. For large alpha, ``Q_alpha(beta) = ||beta||^2 / (4
    alpha^2) (1 - O(beta^2 / (48 alpha^4)))``, the kernel (minimum-l2) limit; for small alpha,
    ``Q_alpha(beta) / log(1 / alpha^2) = ||beta||_1 + O(1 / log(1 / alpha))``, the rich (minimum-l1) limit.
    Width k at scale alpha is scale alpha sqrt(k). Computed by Newton's method on the convex dual
    ``min_nu sum_i 2 alpha^2 cosh((X^T nu)_i) - nu.y``.

    Args:
        X: design matrix, shape (n, d), of full row rank n.
        y: targets, shape (n,).
        alpha: the initialization scale, positive.
        width: the number of copies of (u, v), a positive integer.

    Returns:
        beta, shape (d,), with ``X beta = y`` to round-off.

    Raises:
        TypeError: if X or y is not a floating-point tensor.
        ValueError: if shapes do not match, alpha or width is out of range, or Newton's method does not
            converge (X without full row rank, or an alpha so small that cosh overflows).
    """
    _check(X, y, alpha, 1.0, 0, width, None)
    y = y.to(X.dtype)
    scale = 2 * float(alpha) ** 2 * width
    nu = X.new_zeros(X.shape[0])

    def dual(nu: torch.Tensor) -> float:
        return float(scale * torch.cosh(X.T @ nu).sum() - nu @ y)

    for _ in range(200):
        z = X.T @ nu
        gradient = X @ (scale * torch.sinh(z)) - y
        if float(gradient.norm()) <= 1e-12 * max(float(y.norm()), 1e-300):
            return scale * torch.sinh(X.T @ nu)
        hessian = (X * (scale * torch.cosh(z))) @ X.T
        step = torch.linalg.solve(hessian, gradient)
        t, start, slope = 1.0, dual(nu), float(gradient @ step)
        # Damp the step (Armijo) only while the predicted decrease is above the dual's round-off; below it
        # the comparison is noise, the iterate is in Newton's quadratic range, and the full step is taken.
        if slope > 1e-12 * abs(start):
            while dual(nu - t * step) > start - 0.25 * t * slope and t > 1e-12:
                t /= 2
        nu = nu - t * step
    raise ValueError("Newton's method did not converge: X needs full row rank, and alpha must not be tiny")


def implicit_bias_potential(beta: torch.Tensor, alpha: float, *, width: int = 1) -> float:
    """The potential ``Q_alpha(beta) = alpha^2 sum_i q(beta_i / alpha^2)`` that gradient flow minimizes.

    Chapter 1, Sec. "Beyond the kernel", eq. (eq-q-alpha) (Woodworth et al. 2020, Theorem 1), with
    ``q(z) = 2 - sqrt(4 + z^2) + z arcsinh(z / 2)``; width k at scale alpha is scale alpha sqrt(k). Its two
    limits (eq. (eq-q-limits)): ``Q_alpha(beta) = sum_i beta_i^2 / (4 alpha^2) - beta_i^4 / (192 alpha^6) + ...``
    for large alpha, a relative correction ``beta_i^2 / (48 alpha^4)`` to the kernel's squared norm, and
    ``Q_alpha(beta) = ||beta||_1 log(1 / alpha^2) + sum_i |beta_i| (log |beta_i| - 1) + O(alpha^2)`` for small
    alpha, so that ``Q_alpha / log(1 / alpha^2) = ||beta||_1 + O(1 / log(1 / alpha))``.

    Args:
        beta: a regression vector, shape (d,).
        alpha: the initialization scale, positive.
        width: the number of copies of (u, v), a positive integer.

    Raises:
        TypeError: if beta is not a floating-point tensor.
        ValueError: if beta is not a finite vector or alpha or width is out of range.
    """
    if not isinstance(beta, torch.Tensor) or not beta.is_floating_point():
        raise TypeError(f"beta must be a floating-point tensor, got {type(beta).__name__}")
    if beta.ndim != 1 or not torch.isfinite(beta).all():
        raise ValueError(f"beta must be a finite vector of shape (d,), got shape {tuple(beta.shape)}")
    scale = check_positive("alpha", alpha) ** 2 * check_integer("width", width, minimum=1)
    z = beta / scale
    return float(scale * (2 - torch.sqrt(4 + z**2) + z * torch.asinh(z / 2)).sum())


def _check(
    X: object, y: object, alpha: float, eta: float, steps: int, width: int, batch_size: int | None
) -> None:
    for name, value in (("X", X), ("y", y)):
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got {type(value).__name__}")
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must have shape (n, d) with n, d >= 1, got {tuple(X.shape)}")
    n = X.shape[0]
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {tuple(y.shape)}")
    check_positive("alpha", alpha)
    check_positive("eta", eta)
    check_integer("steps", steps, minimum=0)
    check_integer("width", width, minimum=1)
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= n
    ):
        raise ValueError(f"batch_size must be None or an integer in 1..{n}, got {batch_size!r}")
