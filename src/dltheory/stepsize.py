"""Gradient steps of many random networks at once, for the depth-scaled learning rate of Chapter 2.

Chapter 2, Sec. "The NTK at finite width" (the learning rate): with per-parameter learning rates ``eta lambda_b`` for
biases and ``eta lambda_W / fan-in`` for weights, one step of gradient descent on the loss ``(f(x) - y)^2 / 2`` of one
example changes the residual ``r = f(x) - y`` by ``-eta Theta(x, x) r`` to first order in ``eta``, with Theta the tangent
kernel of `dltheory.rgflow.ntk_recursion` (eq. `eq-ntk-recursion`). `residual_contraction` trains a batch of independent
networks of `dltheory.ensembles.random_mlp`'s shape, each on its own target, and returns every residual along the way, so
that the contraction ``r_(t+1) / r_t`` can be compared with ``1 - eta Theta``.
"""

from __future__ import annotations

import torch

from dltheory.activations import Activation, get_activation
from dltheory.batched import random_mlps
from dltheory.checks import check_integer, check_number, check_positive


def residual_contraction(
    activation: str | Activation,
    C_b: float,
    C_W: float,
    x: torch.Tensor,
    width: int,
    depth: int,
    n_networks: int,
    eta: float,
    steps: int,
    generator: torch.Generator | None = None,
    *,
    lambda_b: float = 1.0,
    lambda_W: float = 1.0,
) -> torch.Tensor:
    """The residuals ``f_t(x) - y`` of ``n_networks`` random networks trained by gradient descent, one example each.

    Serves Chapter 2, Sec. "The NTK at finite width", eq. `eq-step-contraction`. The networks have the law of
    `random_mlp(activation, C_b, C_W, n_0, width, depth)` (weights N(0, C_W / fan-in), biases N(0, C_b), ``depth`` hidden
    layers after the first preactivations and a linear readout), drawn by `dltheory.batched.random_mlps` as one batch
    so that all of them take their steps together (`dltheory.batched.BatchedMLP.gradient_step`). Each network fits its
    own target ``y ~ N(0, 1)`` at the common input x by gradient descent on ``(f(x) - y)^2 / 2`` with learning rate
    ``eta lambda_b`` for every bias and ``eta lambda_W / fan-in`` for every weight, the convention of `ntk_recursion`
    and `tangent_kernel`, so that to first order in eta each step multiplies the residual by ``1 - eta Theta(x, x)``.

    Args:
        activation: a name or an elementwise callable.
        C_b: bias variance, >= 0.
        C_W: weight variance times fan-in, >= 0.
        x: the input, shape (1, n_0); its device is where the networks live.
        width: the hidden width n, >= 1.
        depth: the number of hidden layers after the first preactivations, >= 0.
        n_networks: how many independent networks, >= 1.
        eta: the global learning rate, > 0.
        steps: the number of gradient steps, >= 1.
        generator: a torch.Generator on the device of x (default: torch's global one).
        lambda_b, lambda_W: the learning rates of biases and of weights (times fan-in), >= 0.

    Returns:
        A float64 tensor of shape (n_networks, steps + 1), whose row i holds network i's residuals r_0, ..., r_steps.

    Raises:
        ValueError: for an unknown activation name, negative C_b, C_W or learning rates, eta <= 0, x not of shape
            (1, n_0), width < 1, depth < 0, n_networks < 1 or steps < 1.
    """
    sigma = get_activation(activation)
    C_b, C_W = check_number("C_b", C_b, minimum=0.0), check_number("C_W", C_W, minimum=0.0)
    lambda_b, lambda_W = check_number("lambda_b", lambda_b, minimum=0.0), check_number("lambda_W", lambda_W, minimum=0.0)
    eta = check_positive("eta", eta)
    width, depth = check_integer("width", width, minimum=1), check_integer("depth", depth, minimum=0)
    n_networks, steps = check_integer("n_networks", n_networks, minimum=1), check_integer("steps", steps, minimum=1)
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[0] != 1:
        raise ValueError("x must be one input of shape (1, n_0)")

    network = random_mlps(sigma, C_b, C_W, x.shape[1], width, depth, n_networks, generator, device=x.device)
    y = torch.randn(n_networks, generator=generator, device=x.device)  # each network's own target
    weight_rates = [eta * lambda_W / fan_in for fan_in in network.fan_ins]
    residuals = []
    for step in range(steps + 1):
        r = network(x)[:, 0] - y
        residuals.append(r.detach().to(torch.float64))
        if step == steps:
            break
        network.gradient_step(0.5 * r**2, weight_rates, eta * lambda_b)
    return torch.stack(residuals, dim=1)
