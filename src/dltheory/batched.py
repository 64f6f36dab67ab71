"""Many random networks held as one batch of weight tensors, for the training experiments of Chapter 2.

Chapter 2 trains many independent networks of `dltheory.ensembles.random_mlp`'s law at once: one gradient step of a
few hundred networks for the depth-scaled learning rate (`dltheory.stepsize.residual_contraction`, Sec. "The NTK at
finite width", eq. `eq-step-contraction`), and a grid of initialisations trained to the end
(`dltheory.ensembles.train_mlps`, Sec. "Criticality and phases"). Both use the three pieces here:

- `random_mlps` draws the weights ``W^(l)`` and biases ``b^(l)`` of eq. `eq-mlp` for every network, stacked along a
  first axis that indexes the networks;
- calling the `BatchedMLP` it returns runs the forward pass of eq. `eq-mlp`, one ``torch.baddbmm`` per layer for all
  networks together;
- `BatchedMLP.gradient_step` takes one step of gradient descent, ``theta <- theta - rate * d loss / d theta``, with a
  learning rate per layer.

Inputs are rows, as in torch.nn.Linear: the preactivations of layer l at m inputs form an (m, n_l) matrix per network,
and eq. `eq-mlp` reads ``z^(l+1) = sigma(z^(l)) W^(l+1)^T + b^(l+1)^T`` row by row. No parameter is shared between
networks, so the gradient of the summed losses is, for each network, the gradient of its own loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from dltheory.activations import Activation, get_activation
from dltheory.checks import check_integer, check_number


@dataclass(eq=False)
class BatchedMLP:
    """A batch of independent multilayer perceptrons with one output, as `random_mlps` returns them.

    Serves Chapter 2, eq. `eq-mlp`. It holds the activation ``sigma`` between layers (``activation``) and, for every
    layer l (l = 0 for the first preactivations, the last for the readout), the weights ``W^(l)`` as a tensor of shape
    (networks, fan-out, fan-in) in the list ``weights`` and the biases ``b^(l)`` as a tensor of shape
    (networks, 1, fan-out) in the list ``biases``, all leaf tensors that require gradients. Network i is
    ``weights[l][i]``, ``biases[l][i]`` for every l: the torch.nn.Sequential of `random_mlp` with those Linear weights
    and biases. Calling the batch on inputs runs every network's forward pass; `BatchedMLP.gradient_step` trains them.

    Raises:
        ValueError: if the lists are empty or of different lengths, the shapes do not chain from layer to layer, or the
            last layer has more than one output.
    """

    activation: Activation
    weights: list[torch.Tensor]
    biases: list[torch.Tensor]

    def __post_init__(self) -> None:
        if not self.weights or len(self.weights) != len(self.biases):
            raise ValueError("weights and biases must be non-empty lists with one tensor per layer each")
        if any(not isinstance(W, torch.Tensor) or W.ndim != 3 for W in self.weights):
            raise ValueError("weights must be tensors of shape (networks, fan_out, fan_in)")
        networks, fan_in = self.weights[0].shape[0], self.weights[0].shape[2]
        for layer, (W, b) in enumerate(zip(self.weights, self.biases)):
            if W.shape[0] != networks or W.shape[2] != fan_in:
                raise ValueError(f"weights[{layer}] must have shape ({networks}, fan_out, {fan_in}), got {tuple(W.shape)}")
            if not isinstance(b, torch.Tensor) or b.shape != (networks, 1, W.shape[1]):
                raise ValueError(f"biases[{layer}] must have shape ({networks}, 1, {W.shape[1]}), got {tuple(b.shape)}")
            fan_in = W.shape[1]
        if fan_in != 1:
            raise ValueError(f"the last layer must have one output, got {fan_in}")

    @property
    def n_networks(self) -> int:
        """The number of networks in the batch."""
        return self.weights[0].shape[0]

    @property
    def fan_ins(self) -> list[int]:
        """The fan-in ``n_(l-1)`` of every layer: n_0 for the first, the width after."""
        return [W.shape[2] for W in self.weights]

    def parameters(self) -> list[torch.Tensor]:
        """Every weight tensor, then every bias tensor (the order `gradient_step` differentiates in)."""
        return self.weights + self.biases

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        """Every network's output at the inputs X: the forward pass of eq. `eq-mlp`.

        Args:
            X: inputs, shape (m, n_0), the same for every network; they are moved to the weights' device and dtype.

        Returns:
            f(X), shape (networks, m), differentiable with respect to the parameters.

        Raises:
            ValueError: if X is not of shape (m, n_0) with n_0 the first layer's fan-in.
        """
        n_0 = self.fan_ins[0]
        if not isinstance(X, torch.Tensor) or X.ndim != 2 or X.shape[1] != n_0:
            raise ValueError(f"X must be a tensor of shape (m, {n_0})")
        W0 = self.weights[0]
        z = X.to(device=W0.device, dtype=W0.dtype).expand(self.n_networks, -1, -1)  # the input: no activation before layer 0
        for layer, (W, b) in enumerate(zip(self.weights, self.biases)):
            z = torch.baddbmm(b, z if layer == 0 else self.activation(z), W.transpose(1, 2))
        return z[..., 0]

    def gradient_step(
        self, loss: torch.Tensor, weight_rates: float | Sequence[float], bias_rates: float | Sequence[float]
    ) -> None:
        """One step of gradient descent on every network at once, in place.

        Each weight matrix moves by ``-weight_rates[l] * d loss_i / d W^(l)_i`` and each bias by
        ``-bias_rates[l] * d loss_i / d b^(l)_i``, where ``loss_i`` is network i's own loss (its gradient is that of
        ``loss.sum()``, since no parameter is shared). Rates ``eta lambda_W / n_(l-1)`` and ``eta lambda_b`` give the
        step of eq. `eq-step-contraction`; one number for both gives plain gradient descent.

        Args:
            loss: each network's loss, shape (networks,), computed from this batch's forward pass.
            weight_rates: the weights' learning rate, one number or one per layer, each >= 0.
            bias_rates: the biases' learning rate, one number or one per layer, each >= 0.

        Raises:
            ValueError: if loss is not of shape (networks,), or a rate is negative or not one per layer.
        """
        if not isinstance(loss, torch.Tensor) or loss.shape != (self.n_networks,):
            raise ValueError(f"loss must be a tensor of shape ({self.n_networks},), one loss per network")
        rates_W, rates_b = self._rates("weight_rates", weight_rates), self._rates("bias_rates", bias_rates)
        grads = torch.autograd.grad(loss.sum(), self.parameters())
        with torch.no_grad():
            for p, g, rate in zip(self.parameters(), grads, rates_W + rates_b):
                p -= rate * g

    def _rates(self, name: str, rates: float | Sequence[float]) -> list[float]:
        layers = len(self.weights)
        if isinstance(rates, Sequence):
            if len(rates) != layers:
                raise ValueError(f"{name} must be one number or {layers} numbers (one per layer), got {len(rates)}")
            return [check_number(f"{name}[{layer}]", rate, minimum=0.0) for layer, rate in enumerate(rates)]
        return [check_number(name, rates, minimum=0.0)] * layers


def random_mlps(
    activation: str | Activation,
    C_b: float,
    C_W: float | torch.Tensor,
    input_dim: int,
    width: int,
    depth: int,
    n_networks: int,
    generator: torch.Generator | None = None,
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> BatchedMLP:
    """``n_networks`` independent networks of `random_mlp`'s law, as one `BatchedMLP`.

    Implements the initialisation of Chapter 2, Sec. "Random networks", eq. `eq-mlp`, for a batch: ``depth + 2``
    layers (the first preactivations from the input, ``depth`` hidden layers of width ``width``, a linear readout to
    one output), every weight drawn from N(0, C_W / fan-in) and every bias from N(0, C_b). The draws go layer by layer,
    the weights then the biases, as in `random_mlp`, so that with one network, float32 on the CPU and a number for
    C_W the network is `random_mlp`'s with the same generator state, bit for bit.

    Args:
        activation: a name or an elementwise callable.
        C_b: bias variance, >= 0.
        C_W: weight variance times fan-in, >= 0: one number for all networks, or a tensor of shape (n_networks,) with
            one per network.
        input_dim: the input dimension n_0, >= 1.
        width: the hidden width n, >= 1.
        depth: the number of hidden layers after the first preactivations, >= 0.
        n_networks: how many independent networks, >= 1.
        generator: a torch.Generator on ``device`` (default: torch's global one).
        device: where the networks live (default: the CPU).
        dtype: their floating-point type (default: torch's default dtype).

    Returns:
        A `BatchedMLP` whose parameters require gradients.

    Raises:
        ValueError: for an unknown activation name, negative C_b or C_W, C_W a tensor not of shape (n_networks,),
            input_dim < 1, width < 1, depth < 0 or n_networks < 1.
    """
    sigma = get_activation(activation)
    C_b = check_number("C_b", C_b, minimum=0.0)
    input_dim, width = check_integer("input_dim", input_dim, minimum=1), check_integer("width", width, minimum=1)
    depth, n_networks = check_integer("depth", depth, minimum=0), check_integer("n_networks", n_networks, minimum=1)
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if isinstance(C_W, torch.Tensor) and C_W.ndim > 0:
        if C_W.shape != (n_networks,) or not bool(torch.isfinite(C_W).all()) or bool((C_W < 0).any()):
            raise ValueError(f"C_W must be a number or a tensor of shape ({n_networks},) of finite non-negative variances")
        C_W = C_W.to(device=device, dtype=dtype)
        scales = [(C_W / fan_in).sqrt().reshape(-1, 1, 1) for fan_in in [input_dim] + [width] * (depth + 1)]
    else:
        C_W = check_number("C_W", C_W, minimum=0.0)
        scales = [(C_W / fan_in) ** 0.5 for fan_in in [input_dim] + [width] * (depth + 1)]
    sizes = [input_dim] + [width] * (depth + 1) + [1]
    weights, biases = [], []
    for fan_in, fan_out, scale in zip(sizes[:-1], sizes[1:], scales):
        normal = torch.randn(n_networks, fan_out, fan_in, generator=generator, device=device, dtype=dtype)
        weights.append((normal * scale).requires_grad_())
        normal = torch.randn(n_networks, 1, fan_out, generator=generator, device=device, dtype=dtype)
        biases.append((normal * C_b**0.5).requires_grad_())
    return BatchedMLP(sigma, weights, biases)
