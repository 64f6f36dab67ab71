"""Tests of dltheory.stepsize: gradient steps of batched random networks (Chapter 2, the depth-scaled learning rate)."""

from __future__ import annotations

import pytest
import torch

from dltheory.ensembles import random_mlp, tangent_kernel
from dltheory.rgflow import ntk_recursion
from dltheory.stepsize import residual_contraction


def test_small_steps_contract_by_the_tangent_kernel() -> None:
    # to first order in eta one step multiplies the residual by 1 - eta Theta, and E[Theta] is eq-ntk-recursion's
    x = torch.ones(1, 8)
    for activation, C_W, K0 in (("linear", 1.0, 1.0), ("relu", 2.0, 2.0)):
        eta, networks = 1e-3, 400
        r = residual_contraction(activation, 0.0, C_W, x, 64, 2, networks, eta, 1, torch.Generator().manual_seed(0))
        theta = (1 - r[:, 1] / r[:, 0]) / eta
        predicted = float(ntk_recursion(activation, 0.0, C_W, K0, 3)[-1])
        assert float(theta.mean()) == pytest.approx(predicted, abs=4 * float(theta.std()) / networks**0.5 + 0.01 * predicted)


def test_one_network_matches_its_tangent_kernel() -> None:
    # the batched networks have random_mlp's law: the one-step rate spreads across networks as tangent_kernel does
    x, eta, networks = torch.ones(1, 8), 1e-3, 200
    r = residual_contraction("relu", 0.0, 2.0, x, 32, 3, networks, eta, 1, torch.Generator().manual_seed(1))
    rate = (1 - r[:, 1] / r[:, 0]) / eta
    g = torch.Generator().manual_seed(2)
    kernels = torch.tensor([tangent_kernel(random_mlp("relu", 0.0, 2.0, 8, 32, 3, g), x) for _ in range(networks)])
    assert float(rate.std()) == pytest.approx(float(kernels.std()), rel=0.3)


def test_shapes_and_inputs() -> None:
    x = torch.ones(1, 4)
    r = residual_contraction("tanh", 0.0, 1.0, x, 16, 1, 5, 0.1, 3)
    assert r.shape == (5, 4) and r.dtype == torch.float64
    with pytest.raises(ValueError, match="eta"):
        residual_contraction("relu", 0.0, 2.0, x, 16, 1, 5, 0.0, 1)
    with pytest.raises(ValueError, match="steps"):
        residual_contraction("relu", 0.0, 2.0, x, 16, 1, 5, 0.1, 0)
    with pytest.raises(ValueError, match="x must be"):
        residual_contraction("relu", 0.0, 2.0, torch.ones(2, 4), 16, 1, 5, 0.1, 1)
    with pytest.raises(ValueError, match="width"):
        residual_contraction("relu", 0.0, 2.0, x, 0, 1, 5, 0.1, 1)
