"""Training the two-layer ReLU network, with what moves and what does not, Chapter 1.

The loss is L(W) = 1/2 ||f(X) - y||^2 (eq. `eq-squared-loss`) over the first-layer weights of
`TwoLayerReLU`, whose gradient has the closed form
dL/dw_r = (a_r / sqrt(m)) sum_i (f(x_i) - y_i) 1{w_r.x_i >= 0} x_i (eq. `eq-gradient`, Du et al. 2019).
`train` runs gradient descent, Polyak's heavy ball or Nesterov's method, full-batch or on random
mini-batches, and records the residual, how far the weights moved, how far the Gram matrix moved
and how many activation patterns flipped: the quantities that stay small in the lazy regime
(Du et al. 2019; Lee et al. 2019; Chizat et al. 2019).

Sections and equation labels of Chapter 1 served here: "Linear convergence" (eq-squared-loss,
eq-gradient), "Weights stay close" (eq-weight-movement, eq-kernel-movement, eq-flip-fraction),
"Acceleration" (eq-heavy-ball, eq-nesterov, eq-momentum-tuning).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Callable, Literal

import torch

from dltheory.checks import check_integer, check_positive
from dltheory.twolayer import TwoLayerReLU, activation_patterns, gram_of_patterns

Method = Literal["gd", "heavy_ball", "nesterov"]
METHODS: tuple[str, ...] = ("gd", "heavy_ball", "nesterov")


@dataclass(frozen=True)
class Training:
    """What `train` records; step k = 0 is the initialization.

    Attributes:
        residuals: u(k) - y on the whole training set, shape (steps + 1, n).
        weight_movement: ||W(k) - W(0)||_F / ||W(0)||_F, shape (steps + 1,) (eq. `eq-weight-movement`).
        max_neuron_movement: max_r ||w_r(k) - w_r(0)||, shape (steps + 1,).
        flipped_fraction: the fraction of the n m activation patterns 1{w_r.x_i >= 0} that differ
            from those at initialization, shape (steps + 1,) (eq. `eq-flip-fraction`).
        kernel_steps: the steps at which the Gram matrix was computed, shape (K,), int64.
        kernel_movement: ||H(k) - H(0)||_F / ||H(0)||_F at `kernel_steps`, shape (K,)
            (eq. `eq-kernel-movement`).
        model: the trained network, a copy; the network passed to `train` is left unchanged.
    """

    residuals: torch.Tensor
    weight_movement: torch.Tensor
    max_neuron_movement: torch.Tensor
    flipped_fraction: torch.Tensor
    kernel_steps: torch.Tensor
    kernel_movement: torch.Tensor
    model: TwoLayerReLU

    @property
    def loss(self) -> torch.Tensor:
        """The training loss 1/2 ||u(k) - y||^2 for k = 0..steps, shape (steps + 1,)."""
        return 0.5 * (self.residuals**2).sum(dim=1)


def train(
    model: TwoLayerReLU,
    X: torch.Tensor,
    y: torch.Tensor,
    eta: float,
    steps: int,
    *,
    method: Method = "gd",
    momentum: float = 0.0,
    batch_size: int | None = None,
    record_every: int = 1,
    generator: torch.Generator | None = None,
) -> Training:
    """Train the first layer of a copy of `model` on 1/2 ||f(X) - y||^2 and record what moves.

    Chapter 1, Secs. "Linear convergence", "Weights stay close" and "Acceleration". With G(W) the
    gradient (eq. `eq-gradient`) the updates are
    gd: W <- W - eta G(W) (Du et al. 2019);
    heavy_ball: W(k+1) = W(k) - eta G(W(k)) + mu (W(k) - W(k-1)) (eq. `eq-heavy-ball`, Polyak 1964);
    nesterov: V = W(k) + mu (W(k) - W(k-1)), W(k+1) = V - eta G(V) (eq. `eq-nesterov`, Nesterov 1983),
    with mu = `momentum`. With `batch_size` set, each step draws that many distinct examples
    uniformly at random and scales their gradient by n / batch_size, so that its mean is the
    full-batch gradient and `eta` means the same in both cases. Everything is recorded on the
    whole training set.

    Args:
        model: the network; it is copied, not changed.
        X: inputs, shape (n, d), of the model's dtype and device (unit-norm rows in the theory).
        y: labels, shape (n,).
        eta: the step size, positive; gradient descent converges for eta < 2 / lambda_max(H).
        steps: the number of updates, a non-negative integer.
        method: "gd", "heavy_ball" or "nesterov".
        momentum: mu, in (0, 1) for the two momentum methods and 0 for "gd".
        batch_size: None for full batch, else an integer in 1..n.
        record_every: the Gram matrix (n^2 m work) is computed at steps 0, record_every,
            2 record_every, ... and at the last step; everything else at every step.
        generator: the random stream for mini-batches; torch's global one when None.

    Returns:
        A `Training` record with the trained copy of the network.

    Raises:
        TypeError: if model is not a `TwoLayerReLU` or X, y are not floating-point tensors.
        ValueError: if any argument is out of its range or shapes do not match.

    Example:
        run = train(TwoLayerReLU(d, 4096, generator=g), X, y, eta=0.5, steps=200)
        run.loss[-1] / run.loss[0]  # small; run.weight_movement[-1] is small too
    """
    X, y = _check(model, X, y, eta, steps, method, momentum, batch_size, record_every)
    n = X.shape[0]
    trained = copy.deepcopy(model)
    a = trained.a.to(X.dtype)
    W = trained.W.detach().clone()
    W0, previous = W, W
    W0_norm = torch.linalg.matrix_norm(W0)
    mask0, _ = _forward(X, W0, a, y)
    H0 = trained.gram(X)
    H0_norm = torch.linalg.matrix_norm(H0)
    kernel_steps = sorted(set(range(0, steps + 1, record_every)) | {steps})
    kernel_slot = {step: slot for slot, step in enumerate(kernel_steps)}
    scale = 1.0 if batch_size is None else n / batch_size

    residuals = X.new_empty(steps + 1, n)
    weight_movement = X.new_empty(steps + 1)
    max_neuron_movement = X.new_empty(steps + 1)
    flipped = X.new_empty(steps + 1)
    kernel_movement = X.new_empty(len(kernel_steps))
    for k in range(steps + 1):
        mask, residual = _forward(X, W, a, y)
        residuals[k] = residual
        squared = ((W - W0) ** 2).sum(dim=1)  # ||w_r(k) - w_r(0)||^2 for each neuron r
        weight_movement[k] = squared.sum().sqrt() / W0_norm
        max_neuron_movement[k] = squared.max().sqrt()
        flipped[k] = (mask != mask0).sum().to(X.dtype) / mask.numel()
        if k in kernel_slot:
            H = gram_of_patterns(X, mask)  # eq. (eq-gram-finite)
            kernel_movement[kernel_slot[k]] = torch.linalg.matrix_norm(H - H0) / H0_norm
        if k == steps:
            break
        if batch_size is None and method != "nesterov":
            G = _gradient(X, mask, residual, a)  # reuse the forward pass just recorded
        else:
            V = W + momentum * (W - previous) if method == "nesterov" else W
            rows = None if batch_size is None else torch.randperm(n, generator=generator)[:batch_size].to(X.device)
            Xb, yb = (X, y) if rows is None else (X[rows], y[rows])
            G = scale * _gradient(Xb, *_forward(Xb, V, a, yb), a)
        if method == "heavy_ball":
            W, previous = W - eta * G + momentum * (W - previous), W
        elif method == "nesterov":
            W, previous = W + momentum * (W - previous) - eta * G, W
        else:
            W, previous = W - eta * G, W
    with torch.no_grad():
        trained.W.copy_(W)
    return Training(
        residuals=residuals,
        weight_movement=weight_movement,
        max_neuron_movement=max_neuron_movement,
        flipped_fraction=flipped,
        kernel_steps=torch.tensor(kernel_steps, dtype=torch.int64),
        kernel_movement=kernel_movement,
        model=trained,
    )


@dataclass(frozen=True)
class Tuning:
    """A step size and momentum for a method, with the contraction factor per step they give.

    Attributes:
        eta: the step size.
        momentum: mu (0 for gradient descent).
        rate: the predicted factor by which the residual shrinks per step, asymptotically.
    """

    eta: float
    momentum: float
    rate: float


def tuned_step(method: Method, lambda_min: float, lambda_max: float) -> Tuning:
    """The classical step size and momentum for a quadratic with curvatures in [lambda_min, lambda_max].

    Chapter 1, Sec. "Acceleration", eq. (eq-momentum-tuning). In the lazy regime the residual obeys
    the quadratic dynamics of the Gram matrix H, so its extreme eigenvalues set the tuning, with
    kappa = lambda_max / lambda_min (Polyak 1964; Nesterov 2018, Sec. 2.2):
    gd: eta = 2 / (lambda_min + lambda_max), rate (kappa - 1) / (kappa + 1);
    heavy_ball: eta = 4 / (sqrt(lambda_max) + sqrt(lambda_min))^2,
    mu = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2, rate (sqrt(kappa) - 1) / (sqrt(kappa) + 1);
    nesterov: eta = 1 / lambda_max, mu = (sqrt(kappa) - 1) / (sqrt(kappa) + 1), rate 1 - 1 / sqrt(kappa).
    The momentum methods thus need O(sqrt(kappa)) steps where gradient descent needs O(kappa), which
    carries over to wide two-layer ReLU networks (Liu, Pan and Tao 2021 for Nesterov; Wang, Lin and
    Abernethy 2021 for heavy ball).

    Raises:
        ValueError: if method is unknown or not 0 < lambda_min <= lambda_max.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not 0 < lambda_min <= lambda_max or math.isinf(lambda_max):
        raise ValueError(
            f"need 0 < lambda_min <= lambda_max, got lambda_min={lambda_min}, lambda_max={lambda_max}"
        )
    kappa = lambda_max / lambda_min
    root = math.sqrt(kappa)
    if method == "gd":
        return Tuning(eta=2 / (lambda_min + lambda_max), momentum=0.0, rate=(kappa - 1) / (kappa + 1))
    if method == "heavy_ball":
        mu = ((root - 1) / (root + 1)) ** 2
        eta = 4 / (math.sqrt(lambda_max) + math.sqrt(lambda_min)) ** 2
        return Tuning(eta=eta, momentum=mu, rate=(root - 1) / (root + 1))
    return Tuning(eta=1 / lambda_max, momentum=(root - 1) / (root + 1), rate=1 - 1 / root)


def linearized_residuals(
    H: torch.Tensor,
    residual: torch.Tensor,
    eta: float,
    steps: int,
    *,
    method: Method = "gd",
    momentum: float = 0.0,
) -> torch.Tensor:
    """The residuals u(k) - y that `train` would produce if the Gram matrix stayed frozen at H.

    Chapter 1, Secs. "Eigen-dynamics" and "Acceleration": in the lazy regime the outputs move as
    u(k+1) - u(k) = J (W(k+1) - W(k)) with J J^T = H fixed, so the three methods of `train` become
    linear recursions on the residual r(k) = u(k) - y (Chapter 0's quadratic, eq. `eq-residual-decay`):
    gd: r(k+1) = (I - eta H) r(k);
    heavy_ball: r(k+1) = (I - eta H) r(k) + mu (r(k) - r(k-1)) (eq. `eq-heavy-ball`);
    nesterov: s = r(k) + mu (r(k) - r(k-1)), r(k+1) = (I - eta H) s (eq. `eq-nesterov`),
    with mu = `momentum` and r(-1) = r(0), since `train` starts at rest. This is the prediction of the
    frozen kernel for every step, transient included (for the tunings of `tuned_step` the momentum
    methods have a double root, so their residual decays like k rho^k, not rho^k).

    Args:
        H: the Gram matrix, symmetric, shape (n, n).
        residual: u(0) - y, shape (n,).
        eta: the step size, positive.
        steps: the number of steps, a non-negative integer.
        method: "gd", "heavy_ball" or "nesterov".
        momentum: mu, in (0, 1) for the momentum methods and 0 for "gd".

    Returns:
        The predicted residuals for k = 0..steps, shape (steps + 1, n).

    Raises:
        TypeError: if H or residual is not a floating-point tensor.
        ValueError: if H is not square, residual has the wrong shape, or eta, steps, method or momentum
            is out of its range.
    """
    for name, value in (("H", H), ("residual", residual)):
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got {type(value).__name__}")
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] == 0:
        raise ValueError(f"H must be a non-empty square matrix, got shape {tuple(H.shape)}")
    n = H.shape[0]
    if residual.shape != (n,):
        raise ValueError(f"residual must have shape ({n},), got {tuple(residual.shape)}")
    eta = check_positive("eta", eta)
    steps = check_integer("steps", steps, minimum=0)
    _check_method(method, momentum)
    r = residual.to(H.dtype)
    out = H.new_empty(steps + 1, n)
    out[0], previous = r, r
    for k in range(steps):
        if method == "nesterov":
            s = r + momentum * (r - previous)
            r, previous = s - eta * (H @ s), r
        else:
            r, previous = r - eta * (H @ r) + momentum * (r - previous), r
        out[k + 1] = r
    return out


def _check_method(method: str, momentum: float) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "gd" and momentum != 0:
        raise ValueError(f"momentum must be 0 for method 'gd', got {momentum}; use 'heavy_ball' or 'nesterov'")
    if method != "gd" and not 0 < momentum < 1:
        raise ValueError(f"momentum must lie in (0, 1) for method {method!r}, got {momentum}")


def _forward(
    X: torch.Tensor, W: torch.Tensor, a: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The patterns 1{w_r.x_i >= 0} as 0/1 floats, shape (n, m), and the residual f(X) - y, shape (n,)."""
    pre = X @ W.T
    return activation_patterns(pre).to(X.dtype), pre.clamp(min=0) @ a / math.sqrt(W.shape[0]) - y


def _gradient(X: torch.Tensor, mask: torch.Tensor, residual: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """eq. (eq-gradient): row r is (a_r / sqrt(m)) sum_i residual_i 1{w_r.x_i >= 0} x_i, shape (m, d)."""
    return a[:, None] * (mask.T @ (residual[:, None] * X)) / math.sqrt(a.shape[0])


def _check(
    model: object,
    X: object,
    y: object,
    eta: float,
    steps: int,
    method: str,
    momentum: float,
    batch_size: int | None,
    record_every: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(model, TwoLayerReLU):
        raise TypeError(f"model must be a TwoLayerReLU, got {type(model).__name__}")
    dtype, d = model.W.dtype, model.W.shape[1]
    if not isinstance(X, torch.Tensor) or not X.is_floating_point():
        raise TypeError(f"X must be a floating-point tensor, got {type(X).__name__}")
    if not isinstance(y, torch.Tensor) or not y.is_floating_point():
        raise TypeError(f"y must be a floating-point tensor, got {type(y).__name__}")
    if X.ndim != 2 or X.shape[1] != d or X.shape[0] == 0:
        raise ValueError(f"X must have shape (n, {d}) with n >= 1, got {tuple(X.shape)}")
    if X.dtype != dtype:
        raise TypeError(f"X has dtype {X.dtype} but the model's weights are {dtype}")
    n = X.shape[0]
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {tuple(y.shape)}")
    check_positive("eta", eta)
    check_integer("steps", steps, minimum=0)
    _check_method(method, momentum)
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= n
    ):
        raise ValueError(f"batch_size must be None or an integer in 1..{n}, got {batch_size!r}")
    check_integer("record_every", record_every, minimum=1)
    return X.detach(), y.detach().to(dtype)


@dataclass(frozen=True)
class SharpnessRun:
    """What `gd_sharpness` records.

    Attributes:
        loss: the training loss ``(1/2n) ||f(X) - y||^2`` at steps 0, 1, ..., steps, shape (steps + 1,).
        steps: the steps at which the sharpness was measured, shape (K,), int64.
        sharpness: the top eigenvalue of the Hessian of the loss at those steps, shape (K,).
    """

    loss: torch.Tensor
    steps: torch.Tensor
    sharpness: torch.Tensor


def top_hessian_eigenvalue(loss: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor, *,
                           iterations: int = 20, start: torch.Tensor | None = None) -> tuple[float, torch.Tensor]:
    """The sharpness ``lambda_max(Hessian of loss at theta)`` by power iteration on Hessian-vector products.

    Chapter 1, Sec. "Large steps" (the sharpness of Cohen et al. 2021). Each product is forward-over-reverse
    differentiation (``torch.func.jvp`` of ``torch.func.grad``), so the Hessian is never formed. Power iteration
    finds the eigenvalue of largest magnitude; near a minimum of a training loss that is the top one.

    Args:
        loss: a scalar function of the flat parameter vector.
        theta: the flat parameter vector, shape (p,).
        iterations: the number of products, a positive integer.
        start: the starting vector, shape (p,) (warm start); a fixed random one when None.

    Returns:
        The Rayleigh quotient after the last product, and the unit vector it was taken along.

    Raises:
        ValueError: if theta is not 1-D, start has another shape, or iterations is not a positive integer.
    """
    iterations = check_integer("iterations", iterations, minimum=1)
    if theta.ndim != 1:
        raise ValueError(f"theta must be a flat vector, got shape {tuple(theta.shape)}")
    if start is None:
        start = torch.randn(theta.shape, generator=torch.Generator().manual_seed(0), dtype=theta.dtype)
    if start.shape != theta.shape:
        raise ValueError(f"start must have shape {tuple(theta.shape)}, got {tuple(start.shape)}")
    gradient = torch.func.grad(loss)
    vector, value = start / start.norm(), 0.0
    for _ in range(iterations):
        product = torch.func.jvp(gradient, (theta,), (vector,))[1]
        value = float(product @ vector)
        vector = product / product.norm()
    return value, vector


def gd_sharpness(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor, eta: float, steps: int, *,
                 every: int = 50, iterations: int = 10) -> SharpnessRun:
    """Full-batch gradient descent on every parameter of `model`, with the sharpness measured along the way.

    Chapter 1, Sec. "Large steps": the setting in which Cohen et al. (2021) observe progressive sharpening and the
    edge of stability, the squared loss ``(1/2n) ||f(X) - y||^2`` trained by ``theta <- theta - eta grad L``. Every
    `every` steps (and at step 0) `top_hessian_eigenvalue` runs `iterations` products warm-started from the
    previous vector. The model passed in is left unchanged.

    Args:
        model: a network with output shape (n, 1).
        X: inputs, shape (n, d); y: targets, shape (n,).
        eta: the step size, positive.
        steps: the number of updates, a non-negative integer.
        every: the interval between sharpness measurements, a positive integer.
        iterations: power-iteration products per measurement, a positive integer.

    Raises:
        ValueError: if shapes, eta, steps, every or iterations are out of range.
    """
    eta = check_positive("eta", eta)
    steps = check_integer("steps", steps, minimum=0)
    every = check_integer("every", every, minimum=1)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must have shape (n, d) and y shape (n,), got {tuple(X.shape)} and {tuple(y.shape)}")
    params = {name: p.detach().clone() for name, p in model.named_parameters()}
    shapes = {name: p.shape for name, p in params.items()}
    sizes = [p.numel() for p in params.values()]

    def loss(theta: torch.Tensor) -> torch.Tensor:
        parts = dict(zip(shapes, (t.reshape(s) for t, s in zip(theta.split(sizes), shapes.values()))))
        return 0.5 * (torch.func.functional_call(model, parts, (X,)).squeeze(1) - y).pow(2).mean()

    gradient = torch.func.grad(loss)
    theta = torch.cat([p.reshape(-1) for p in params.values()])
    values, measured, at, vector = X.new_empty(steps + 1), [], [], None
    for k in range(steps + 1):
        values[k] = loss(theta).detach()
        if k % every == 0:
            value, vector = top_hessian_eigenvalue(loss, theta, iterations=iterations, start=vector)
            measured.append(value)
            at.append(k)
        if k < steps:
            theta = theta - eta * gradient(theta)
    return SharpnessRun(loss=values, steps=torch.tensor(at), sharpness=torch.tensor(measured, dtype=X.dtype))
