"""Activation functions by name, for Chapter 2, "Effective theory and RG flow".

Every function of `dltheory.rgflow` and `dltheory.ensembles` takes its activation either as one of
the names in `ACTIVATION_NAMES` or as any elementwise torch callable. The named activations cover
the universality classes of Chapter 2, Sec. "Universality classes" (Roberts, Yaida, Hanin 2022,
Ch. 5): the scale-invariant class (relu, leaky_relu, linear), the K* = 0 class (tanh, sin), and
gelu and silu (also called swish), which the chapter treats numerically.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import torch
import torch.nn.functional as F

from dltheory.checks import check_number

#: An elementwise activation, which maps a tensor of preactivations to a tensor of the same shape.
Activation = Callable[[torch.Tensor], torch.Tensor]

#: The names `get_activation` knows.
ACTIVATION_NAMES: tuple[str, ...] = ("relu", "leaky_relu", "linear", "tanh", "sin", "gelu", "silu")


def _linear(z: torch.Tensor) -> torch.Tensor:
    return z


_LEAKY_WITH_SLOPE = re.compile(r"leaky_relu\(slope=(?P<slope>[^)]+)\)")


def get_activation(activation: str | Activation, *, slope: float | None = None) -> Activation:
    """The elementwise activation named `activation`, or `activation` itself when it is a callable.

    Serves Chapter 2, Sec. "Universality classes". The leaky ReLU is z for z > 0 and `slope` * z
    otherwise; its slope is given either by `slope` or in the name, ``"leaky_relu(slope=0.2)"`` (the
    name `activation_name` gives it, so every function of Chapter 2 that takes a name takes that one);
    the bare name ``"leaky_relu"`` without `slope` is PyTorch's default slope 0.01. gelu is the exact
    z * Phi(z) with Phi the standard normal distribution function; silu is z / (1 + exp(-z)).

    Args:
        activation: one of `ACTIVATION_NAMES`, ``"leaky_relu(slope=a)"``, or an elementwise torch callable
            (such as `torch.sigmoid`), which must be differentiable by autograd where derivatives are needed.
        slope: the slope of the leaky ReLU for negative inputs; only with the bare name "leaky_relu".

    Raises:
        ValueError: if `activation` is a string that is not one of these names, `slope` is not finite,
            or `slope` is given with another name or with a name that carries its own slope.
        TypeError: if `activation` is neither a string nor callable, or `slope` is not a real number.

    Example:
        >>> get_activation("leaky_relu(slope=0.2)")(torch.tensor([-1.0, 2.0]))
        tensor([-0.2000,  2.0000])
    """
    if isinstance(activation, str):
        match = _LEAKY_WITH_SLOPE.fullmatch(activation)
        if match is not None:
            if slope is not None:
                raise ValueError(f"slope given twice: in the name {activation!r} and as slope={slope!r}")
            try:
                slope = float(match["slope"])
            except ValueError:
                raise ValueError(f"activation {activation!r}: the slope must be a number") from None
            activation = "leaky_relu"
        elif slope is not None and activation != "leaky_relu":
            raise ValueError(f"slope applies only to the leaky ReLU, not to activation {activation!r}")
        named: dict[str, Activation] = {
            "relu": torch.relu,
            "linear": _linear,
            "tanh": torch.tanh,
            "sin": torch.sin,
            "gelu": F.gelu,
            "silu": F.silu,
        }
        if activation == "leaky_relu":
            negative_slope = check_number("slope", 0.01 if slope is None else slope)

            def leaky_relu(z: torch.Tensor) -> torch.Tensor:
                return F.leaky_relu(z, negative_slope=negative_slope)

            leaky_relu.__name__ = f"leaky_relu(slope={negative_slope!r})"
            return leaky_relu
        if activation not in named:
            known = ", ".join(ACTIVATION_NAMES)
            raise ValueError(f"activation must be one of {known} or a callable, got {activation!r}")
        return named[activation]
    if not callable(activation):
        raise TypeError(f"activation must be a name or an elementwise callable, got {type(activation).__name__}")
    return activation


def activation_name(activation: str | Activation) -> str:
    """A short name for `activation`, for error messages and figure labels."""
    if isinstance(activation, str):
        return activation
    return getattr(activation, "__name__", None) or repr(activation)


def derivative(activation: str | Activation) -> Activation:
    """The elementwise derivative sigma'(z) of an activation, computed by autograd.

    Serves Chapter 2, Sec. "Fixed points and susceptibilities" (the perpendicular susceptibility
    needs sigma'). At a kink autograd returns its one-sided convention (0 for ReLU at z = 0); the
    quadrature of `dltheory.rgflow` never evaluates at the kink.

    Raises:
        ValueError, TypeError: as `get_activation`.
    """
    sigma = get_activation(activation)

    def sigma_prime(z: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            leaf = z.detach().requires_grad_(True)
            value = sigma(leaf)
            if not value.requires_grad:  # a constant activation
                return torch.zeros_like(z)
            (grad,) = torch.autograd.grad(value.sum(), leaf)
        return grad

    return sigma_prime
