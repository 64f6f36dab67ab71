"""Tests for dltheory.activations (Chapter 2): activations by name and their derivatives."""

from __future__ import annotations

import math

import pytest
import torch

from dltheory.activations import ACTIVATION_NAMES, activation_name, derivative, get_activation

f64 = torch.float64
z = torch.tensor([-2.0, -0.5, 0.3, 1.7], dtype=f64)


def test_named_activations() -> None:
    assert torch.equal(get_activation("relu")(z), z.clamp_min(0))
    assert torch.equal(get_activation("linear")(z), z)
    assert torch.allclose(get_activation("leaky_relu", slope=0.2)(z), torch.where(z > 0, z, 0.2 * z))
    assert torch.allclose(get_activation("gelu")(z), z * 0.5 * (1 + torch.erf(z / math.sqrt(2))), rtol=1e-12)
    assert torch.allclose(get_activation("silu")(z), z * torch.sigmoid(z), rtol=1e-12)
    assert torch.allclose(get_activation("sin")(z), torch.sin(z))
    assert torch.allclose(get_activation("tanh")(z), torch.tanh(z))
    assert get_activation(torch.sigmoid) is torch.sigmoid
    assert activation_name(get_activation("leaky_relu", slope=0.2)) == "leaky_relu(slope=0.2)"


def test_derivatives_by_autograd() -> None:
    assert torch.allclose(derivative("tanh")(z), 1 - torch.tanh(z) ** 2, rtol=1e-12)
    assert torch.equal(derivative("relu")(z), (z > 0).to(f64))
    assert torch.allclose(derivative(get_activation("leaky_relu", slope=0.1))(z), torch.where(z > 0, 1.0, 0.1).to(f64))
    assert torch.equal(derivative(lambda t: torch.zeros_like(t))(z), torch.zeros_like(z))


def test_unknown_names_are_refused() -> None:
    with pytest.raises(ValueError, match="activation must be one of relu, .*silu"):
        get_activation("swish")
    with pytest.raises(TypeError, match="activation"):
        get_activation(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="slope"):
        get_activation("leaky_relu", slope=math.inf)
    assert len(ACTIVATION_NAMES) == len(set(ACTIVATION_NAMES))


def test_leaky_relu_slope_by_name() -> None:
    """The slope travels in the name, so every function of Chapter 2 that takes a name can use any slope."""
    by_name = get_activation("leaky_relu(slope=0.2)")
    assert torch.allclose(by_name(z), torch.where(z > 0, z, 0.2 * z))
    assert activation_name(get_activation(activation_name(by_name))) == "leaky_relu(slope=0.2)"
    assert torch.allclose(get_activation("leaky_relu")(z), torch.where(z > 0, z, 0.01 * z))  # PyTorch's default
    from dltheory.rgflow import critical_C_W

    assert critical_C_W("leaky_relu(slope=0.2)") == pytest.approx(2 / 1.04, rel=1e-10)
    with pytest.raises(ValueError, match="slope given twice"):
        get_activation("leaky_relu(slope=0.2)", slope=0.3)
    with pytest.raises(ValueError, match="only to the leaky ReLU"):
        get_activation("tanh", slope=0.3)
    with pytest.raises(ValueError, match="slope must be a number"):
        get_activation("leaky_relu(slope=abc)")
