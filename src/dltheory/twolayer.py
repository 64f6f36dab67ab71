"""The two-layer ReLU network of Du et al. (2019), Chapter 1, Sec. "The two-layer model".

f(x) = m^{-1/2} sum_r a_r relu(w_r.x) (eq. `eq-two-layer`), with output signs a_r in {+1, -1} drawn
once and never trained, and first-layer weights w_r ~ N(0, omega^2 I) that gradient descent trains.
It is written as the chain Linear(d, m) -> ReLU -> Linear(m, 1) whose last layer is frozen at a / sqrt(m),
so `dltheory.ntk.empirical_ntk` takes its fast path on it. Its kernel at time t is
H_ij(t) = (x_i.x_j / m) sum_r 1{w_r.x_i >= 0, w_r.x_j >= 0} (eq. `eq-gram-finite`), whose
expectation at initialization is `dltheory.ntk.relu_gram` (eq. `eq-gram-limit`).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils import skip_init

from dltheory.checks import DTYPE, check_integer, check_positive


class TwoLayerReLU(nn.Sequential):
    """The two-layer ReLU network f(x) = m^{-1/2} sum_r a_r relu(w_r.x) of Du et al. (2019).

    Chapter 1, Sec. "The two-layer model", eq. (eq-two-layer). Calling it on X of shape (n, d) returns
    f(X) of shape (n, 1). Only the first layer `W` is trainable; the signs `a` are fixed.

    Args:
        d: the input dimension.
        m: the width (number of hidden neurons).
        init_scale: omega, the standard deviation of each first-layer weight at initialization.
            Du et al. (2019) take 1; Arora et al. (2019) take it small so that f(X) starts near 0.
            The Gram matrix does not depend on it, but the relative weight movement does.
        generator: the random stream for W and a; torch's global one when None.
        dtype, device: of the parameters.

    Raises:
        ValueError: if d or m is not an integer >= 1 or init_scale is not a positive finite number.

    Example:
        net = TwoLayerReLU(d=10, m=4096, generator=torch.Generator().manual_seed(0))
        H0 = net.gram(X)  # close to dltheory.ntk.relu_gram(X) for unit-norm rows of X
    """

    def __init__(
        self,
        d: int,
        m: int,
        init_scale: float = 1.0,
        *,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = DTYPE,
        device: torch.device | str | None = None,
    ) -> None:
        d, m = check_integer("d", d, minimum=1), check_integer("m", m, minimum=1)
        init_scale = check_positive("init_scale", init_scale)
        W = init_scale * torch.randn(m, d, generator=generator, dtype=dtype)
        a = 2.0 * torch.randint(0, 2, (m,), generator=generator).to(dtype) - 1.0
        device = "cpu" if device is None else device
        hidden = skip_init(nn.Linear, d, m, bias=False, dtype=dtype, device=device)  # no random init:
        output = skip_init(nn.Linear, m, 1, bias=False, dtype=dtype, device=device)  # W, a come from `generator`
        with torch.no_grad():
            hidden.weight.copy_(W)
            output.weight.copy_(a[None, :] / math.sqrt(m))
        output.weight.requires_grad_(False)
        super().__init__(hidden, nn.ReLU(), output)

    @property
    def W(self) -> nn.Parameter:
        """The first-layer weights with rows w_r, of shape (m, d), the only trained parameter."""
        return self[0].weight

    @property
    def a(self) -> torch.Tensor:
        """The fixed output signs ``a_r``, each +1 or -1, shape (m,), read off the output weights ``a_r / sqrt(m)``."""
        return torch.sign(self[2].weight[0]).detach()

    @property
    def width(self) -> int:
        """m, the number of hidden neurons."""
        return self[0].out_features

    def patterns(self, X: torch.Tensor) -> torch.Tensor:
        """The activation patterns 1{w_r.x_i >= 0}, a boolean tensor of shape (n, m).

        Chapter 1, Sec. "Weights stay close", eq. (eq-flip-fraction): each w_r moves by
        R = O(n / (sqrt(m) lambda_0)) during training (Du et al. 2019, Sec. 3), so a pattern flips only
        when w_r(0).x_i is within R of 0, and the fraction of flipped entries shrinks like m^{-1/2}.

        Raises:
            ValueError: if X is not of shape (n, d).
        """
        self._check("X", X)
        return activation_patterns(X @ self.W.detach().T)

    def gram(self, X: torch.Tensor) -> torch.Tensor:
        """The Gram matrix H(t) of the network at its current weights, shape (n, n).

        Chapter 1, Sec. "The Gram matrix", eq. (eq-gram-finite) (Du et al. 2019, Sec. 3):
        H_ij = (x_i.x_j / m) sum_r 1{w_r.x_i >= 0, w_r.x_j >= 0}. It is the empirical NTK of the
        network over W (Jacot et al. 2018), since a_r^2 = 1.

        Raises:
            ValueError: if X is not of shape (n, d).
        """
        return gram_of_patterns(X, self.patterns(X))

    def _check(self, name: str, X: object) -> None:
        d = self[0].in_features
        if not isinstance(X, torch.Tensor) or not X.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor")
        if X.ndim != 2 or X.shape[1] != d or X.shape[0] == 0:
            raise ValueError(f"{name} must have shape (n, {d}) with n >= 1, got {tuple(X.shape)}")


def activation_patterns(preactivations: torch.Tensor) -> torch.Tensor:
    """The activation patterns 1{w_r.x_i >= 0} from the pre-activations ``Z = X W^T``, boolean, shape (n, m).

    Chapter 1, Sec. "The Gram matrix", eq. (eq-gram-finite): the derivative of relu at w_r.x_i, with the
    convention that a unit exactly at 0 counts as active (as in Du et al. 2019). `TwoLayerReLU.patterns`
    and `dltheory.train.train` both read the patterns from here.
    """
    return preactivations >= 0


def gram_of_patterns(X: torch.Tensor, patterns: torch.Tensor) -> torch.Tensor:
    """The finite-width Gram matrix H = (X X^T) * (P P^T) / m for activation patterns P, shape (n, n).

    Chapter 1, Sec. "The Gram matrix", eq. (eq-gram-finite): H_ij = (x_i.x_j / m) sum_r P_ir P_jr, with
    P of shape (n, m) (boolean or 0/1) and m its number of columns.
    """
    active = patterns.to(X.dtype)
    return (X @ X.T) * (active @ active.T) / active.shape[1]
