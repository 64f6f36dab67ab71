"""Ensembles of random deep networks, sampled all at once, for Chapter 2, "Effective theory and RG flow".

The Monte-Carlo side of every check in Chapter 2: `sample_preactivations` draws the preactivations
of many random multilayer perceptrons z^(l+1) = shortcut z^(l) + branch (b + W sigma(z^(l)))
(eq. `eq-mlp`, eq. `eq-residual-mlp`), with W ~ N(0, C_W / n) and b ~ N(0, C_b), at a few inputs,
and `Ensemble` turns them into kernels and excess kurtoses with standard errors.

How it samples (Chapter 2, Sec. "Random networks", eq. `eq-layer-given-previous`). Given layer l,
row i of W is independent of the other rows, so the vector (b_i + sum_j W_ij sigma(z_j(x_a)))_a over
the m inputs is, exactly, an independent centred Gaussian for each neuron i, with the m x m
covariance G = C_b 1 1^T + (C_W / n) S^T S, where S is the n x m matrix of activations
sigma(z_j(x_a)).
The sampler therefore draws each layer as (n x m standard normals) times a square root of G: the
same joint law of the preactivations as drawing every weight matrix, at a cost of O(n m^2) instead
of O(n^2 m) per layer and network. All networks are one batched tensor (torch.bmm); only the layers
are looped over. It does not produce the weights themselves: for gradients or training, build the
networks (`random_mlp`, or a batch of them with `dltheory.batched.random_mlps`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dltheory.activations import Activation, derivative, get_activation
from dltheory.batched import random_mlps
from dltheory.checks import DTYPE, check_integer, check_number, check_positive
from dltheory.rgflow import check_kernel


@dataclass(frozen=True)
class Estimate:
    """A Monte-Carlo estimate and its standard error (same shapes)."""

    value: torch.Tensor
    stderr: torch.Tensor


def _psd_factor(G: torch.Tensor) -> torch.Tensor:
    """A lower-triangular L with L L^T = G for a batch of positive semi-definite matrices (..., m, m).

    Cholesky's algorithm with each pivot clamped at zero and columns with a (numerically) zero pivot
    set to zero, so that rank-deficient G (two identical inputs, all-zero activations) is fine.
    """
    m = G.shape[-1]
    L = torch.zeros_like(G)
    tiny = 8 * torch.finfo(G.dtype).eps
    for j in range(m):
        pivot = G[..., j, j] - (L[..., j, :j] ** 2).sum(-1)
        keep = pivot > tiny * G[..., j, j]
        root = torch.where(keep, pivot, torch.zeros_like(pivot)).sqrt()
        L[..., j, j] = root
        if j + 1 < m:
            column = G[..., j + 1 :, j] - (L[..., j + 1 :, :j] * L[..., j : j + 1, :j]).sum(-1)
            L[..., j + 1 :, j] = torch.where(keep[..., None], column / torch.where(keep, root, 1.0)[..., None], 0.0)
    return L


def _moments(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per network, the neuron averages of z_a z_b (N, m, m) and of z_a^4 (N, m), for z of shape (N, n, m)."""
    n = z.shape[1]
    return torch.bmm(z.transpose(1, 2), z) / n, (z**4).mean(1)


def _kurtosis(second: torch.Tensor, fourth: torch.Tensor) -> Estimate:
    """E[z^4] / E[z^2]^2 - 3 over networks (dim 0 of both), with a delta-method standard error.

    Networks are independent; the neurons of one network are exchangeable but correlated, so each
    network contributes one pair (neuron-averaged z^2, z^4) and the error comes from their spread.
    """
    N = second.shape[0]
    m2, m4 = second.mean(0), fourth.mean(0)
    value = m4 / m2**2 - 3
    if N < 2:
        return Estimate(value, torch.full_like(value, float("nan")))
    d2, d4 = second - m2, fourth - m4
    var2, var4, cov = (d2**2).sum(0) / (N - 1), (d4**2).sum(0) / (N - 1), (d2 * d4).sum(0) / (N - 1)
    g4, g2 = 1 / m2**2, -2 * m4 / m2**3  # gradient of m4 / m2^2
    variance = (g4**2 * var4 + g2**2 * var2 + 2 * g4 * g2 * cov) / N
    return Estimate(value, variance.clamp_min(0).sqrt())


def excess_kurtosis(z: torch.Tensor) -> Estimate:
    """The excess kurtosis E[z^4] / E[z^2]^2 - 3 of preactivations sampled from an ensemble of networks.

    Implements the estimator of Chapter 2, Sec. "Finite width: the four-point vertex", eq.
    `eq-excess-kurtosis`, whose leading-order prediction is 3 V / (n K^2) (`normalized_vertex`).

    Args:
        z: shape (n_networks, width) or (n_networks, width, n_inputs): dim 0 indexes independent
            networks, dim 1 their exchangeable neurons (averaged over); a trailing input axis is kept.

    Returns:
        An `Estimate` of shape () or (n_inputs,), with a delta-method standard error over networks.

    Raises:
        ValueError: if z is not two- or three-dimensional.
    """
    if not isinstance(z, torch.Tensor) or z.ndim not in (2, 3):
        raise ValueError("z must be a tensor of shape (n_networks, width) or (n_networks, width, n_inputs)")
    return _kurtosis((z**2).mean(1), (z**4).mean(1))


@dataclass(frozen=True)
class Ensemble:
    """What `sample_preactivations` returns: the last layer and per-layer neuron averages.

    Shapes follow K0: for one input (K0 a variance) the input axis is dropped.

    Attributes:
        z: the last layer's preactivations, (n_networks, width) or (n_networks, width, m).
        second_moments: per layer and network, (1/n) sum_i z_i(x_a) z_i(x_b):
            (depth + 1, n_networks) or (depth + 1, n_networks, m, m).
        fourth_moments: per layer and network, (1/n) sum_i z_i(x_a)^4:
            (depth + 1, n_networks) or (depth + 1, n_networks, m).
        readout_variances: per layer and network, G = C_b + (C_W/n) sum_j sigma(z_j(x_a)) sigma(z_j(x_b)),
            the covariance of the neurons of a plain layer (or linear readout) drawn on top of this one
            (eq. `eq-layer-given-previous`): (depth + 1, n_networks) or (depth + 1, n_networks, m, m).
    """

    z: torch.Tensor
    second_moments: torch.Tensor
    fourth_moments: torch.Tensor
    readout_variances: torch.Tensor

    def kernel(self) -> Estimate:
        """The measured kernel E[z_i(x_a) z_i(x_b)] at every layer, to compare with `kernel_recursion`.

        Shape (depth + 1,) or (depth + 1, m, m); the standard error is over networks.
        """
        N = self.second_moments.shape[1]
        value = self.second_moments.mean(1)
        stderr = self.second_moments.std(1) / N**0.5 if N > 1 else torch.full_like(value, float("nan"))
        return Estimate(value, stderr)

    def excess_kurtosis(self) -> Estimate:
        """The excess kurtosis of one preactivation at every layer (eq. `eq-excess-kurtosis`).

        Shape (depth + 1,) or (depth + 1, m); compare with 3 * `normalized_vertex`.
        """
        second = self.second_moments
        if second.ndim == 4:
            second = second.diagonal(dim1=-2, dim2=-1)
        estimates = [_kurtosis(s, f) for s, f in zip(second, self.fourth_moments)]
        return Estimate(torch.stack([e.value for e in estimates]), torch.stack([e.stderr for e in estimates]))

    def excess_kurtosis_from_variances(self) -> Estimate:
        """The excess kurtosis at every layer from the spread of each network's variance (plain networks only).

        Serves Chapter 2, notebook "Finite width". In a plain network the neurons of a layer are, given the
        previous layer, independent Gaussians of variance G (eq. `eq-layer-given-previous`), so
        ``E[z^4] = 3 E[G^2]``, and the neuron average ``G_hat = (1/n) sum_i z_i^2`` of one network has
        ``E[G_hat^2] = E[G^2] (n + 2) / n``. Hence the excess kurtosis is

            3 n / (n + 2) E[G_hat^2] / E[G_hat]^2 - 3,

        estimated from the second moments alone, with a delta-method standard error over networks. Where the
        fluctuations of G dominate the sampling noise of one network (tanh at n = 256, say) its standard error
        is several times smaller than that of `excess_kurtosis`; both estimate the same number. With a
        shortcut a neuron is not Gaussian given the previous layer, and the formula holds only where the law
        of the layer is invariant under rotations of the neurons (the linear network, residual or not):
        then ``E[z_i^4] = E[(sum_j z_j^2)^2] E[u_i^4]`` for a uniform unit vector u, which gives the same
        ``3 n / (n + 2) E[G_hat^2]``.

        Returns:
            An `Estimate` of shape (depth + 1,) or (depth + 1, m).
        """
        second = self.second_moments
        if second.ndim == 4:
            second = second.diagonal(dim1=-2, dim2=-1)
        width = self.z.shape[1]
        scale = 3 * width / (width + 2)
        estimates = [_kurtosis(s, s**2) for s in second]  # E[G_hat^2] / E[G_hat]^2 - 1, with its error
        value = torch.stack([scale * (e.value + 3) - 3 for e in estimates])
        return Estimate(value, scale * torch.stack([e.stderr for e in estimates]))


def sample_preactivations(
    activation: str | Activation,
    C_b: float,
    C_W: float,
    K0: float | torch.Tensor,
    depth: int,
    width: int,
    n_networks: int,
    generator: torch.Generator | None = None,
    *,
    shortcut: float = 0.0,
    branch: float = 1.0,
) -> Ensemble:
    """Draw the preactivations of `n_networks` random networks of the given width and depth at once.

    Implements the ensemble of Chapter 2, Sec. "Random networks", eqs. `eq-mlp`,
    `eq-layer-given-previous` and `eq-residual-mlp` (Roberts, Yaida, Hanin 2022, Ch. 2 and 4): the
    layer-0 preactivations are exactly N(0, K0), independently for each neuron (as for
    z^(0) = b + W x with K0 = `input_kernel(x, C_b, C_W)`), and each later layer is drawn from its
    exact conditional law given the previous one (see the module docstring). The arguments mirror
    `kernel_recursion` and `normalized_vertex`, so theory and measurement are called alike.

    Args:
        activation: a name or an elementwise callable.
        C_b: bias variance, >= 0.
        C_W: weight variance times fan-in, >= 0.
        K0: the layer-0 kernel: a variance (one input) or an m x m covariance (a tensor; its device
            is where the sampling runs, its dtype the dtype used when it is floating point).
        depth: the number of nonlinear layers, >= 0.
        width: the width n of every hidden layer, >= 1.
        n_networks: how many independent networks, >= 1.
        generator: a torch.Generator on the device of K0, for reproducible draws (default: torch's
            global generator).
        shortcut, branch: residual weights; the defaults give the plain network.

    Returns:
        An `Ensemble` with the last layer and per-layer neuron averages. In float32, two inputs whose
        correlation comes within about 1e-6 of 1 become exactly identical (the square root of G
        drops the tiny remainder); pass a float64 K0 to follow them closer.

    Raises:
        ValueError: for an unknown activation name, negative C_b or C_W, a K0 that is not a variance or
            a positive semi-definite matrix, depth < 0, width < 1, n_networks < 1, or a generator on
            another device.

    Example:
        >>> ens = sample_preactivations("relu", 0.0, 2.0, 1.0, depth=4, width=128, n_networks=20000)
        >>> ens.excess_kurtosis().value[-1]  # leading order 15 * 4 / 128 = 0.47; exactly 3((1 + 5/128)^4 - 1) = 0.49
    """
    sigma = get_activation(activation)
    C_b, C_W = check_number("C_b", C_b, minimum=0.0), check_number("C_W", C_W, minimum=0.0)
    shortcut, branch = check_number("shortcut", shortcut), check_number("branch", branch)
    depth, width = check_integer("depth", depth, minimum=0), check_integer("width", width, minimum=1)
    n_networks = check_integer("n_networks", n_networks, minimum=1)
    kernel = check_kernel("K0", K0)
    single = kernel.ndim == 0
    device = K0.device if isinstance(K0, torch.Tensor) else torch.device("cpu")
    dtype = K0.dtype if isinstance(K0, torch.Tensor) and K0.is_floating_point() else torch.get_default_dtype()
    if generator is not None and generator.device.type != device.type:
        raise ValueError(f"generator must be on the device of K0 ({device}), got one on {generator.device}")
    kernel = kernel.reshape(1, 1) if single else kernel
    m = kernel.shape[0]

    def normals() -> torch.Tensor:
        return torch.randn(n_networks, width, m, generator=generator, device=device, dtype=dtype)

    root = _psd_factor(kernel.to(device=device, dtype=torch.float64)).to(dtype)
    z = normals() @ root.T
    seconds, fourths, readouts = [], [], []
    for layer in range(depth + 1):
        second, fourth = _moments(z)
        s = sigma(z)
        G = C_b + (C_W / width) * torch.bmm(s.transpose(1, 2), s)
        seconds.append(second)
        fourths.append(fourth)
        readouts.append(G)
        if layer == depth:
            break
        step = torch.bmm(normals(), _psd_factor(G).transpose(1, 2))
        z = branch * step if shortcut == 0 else shortcut * z + branch * step
    second_moments, fourth_moments, readout_variances = torch.stack(seconds), torch.stack(fourths), torch.stack(readouts)
    if single:
        return Ensemble(z[..., 0], second_moments[..., 0, 0], fourth_moments[..., 0], readout_variances[..., 0, 0])
    return Ensemble(z, second_moments, fourth_moments, readout_variances)


# ----------------------------------------------------------------------------------------------
# Real networks, for gradients and training (Chapter 2, Sec. "Criticality and phases").


class _Elementwise(torch.nn.Module):
    """An activation function as a torch module."""

    def __init__(self, sigma: Activation) -> None:
        super().__init__()
        self.sigma = sigma

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.sigma(z)


def random_mlp(
    activation: str | Activation,
    C_b: float,
    C_W: float,
    input_dim: int,
    width: int,
    depth: int,
    generator: torch.Generator | None = None,
) -> torch.nn.Sequential:
    """A trainable multilayer perceptron initialised as in eq. `eq-mlp`, with one linear output.

    Implements the networks of Chapter 2, Sec. "Random networks", eq. `eq-mlp`, as a
    torch.nn.Sequential of `depth` + 2 Linear layers with the activation between them: the
    layer-0 preactivations b + W x (fan-in `input_dim`), `depth` hidden layers of width `width`,
    and a linear readout to one output. Every weight is drawn from N(0, C_W / fan-in) and every
    bias from N(0, C_b), so the preactivations after l activations are those of
    `sample_preactivations` at layer l. Unlike the sampler it forms the weights, so it can be
    differentiated and trained. The weights are those of a batch of one network from
    `dltheory.batched.random_mlps`, drawn layer by layer, the weights then the biases.

    Args:
        activation: a name or an elementwise callable.
        C_b: bias variance, >= 0.
        C_W: weight variance times fan-in, >= 0.
        input_dim: the input dimension n_0, >= 1.
        width: the hidden width n, >= 1.
        depth: the number of hidden layers after the first preactivations, >= 0.
        generator: a CPU torch.Generator for reproducible weights (default: torch's global one).

    Returns:
        A float32 torch.nn.Sequential on the CPU; move it with `.to(device)`.

    Raises:
        ValueError: for an unknown activation name, negative C_b or C_W, or sizes below one.
    """
    network = random_mlps(activation, C_b, C_W, input_dim, width, depth, 1, generator)  # the same draws, in order
    layers: list[torch.nn.Module] = []
    for index, (W, b) in enumerate(zip(network.weights, network.biases)):
        linear = torch.nn.utils.skip_init(torch.nn.Linear, W.shape[2], W.shape[1])  # set below, not drawn twice
        with torch.no_grad():
            linear.weight.copy_(W[0])
            linear.bias.copy_(b[0, 0])
        layers += [linear] if index == 0 else [_Elementwise(network.activation), linear]
    return torch.nn.Sequential(*layers)


def preactivation_gradients(model: torch.nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """The mean squared gradient of the summed output with respect to each layer's preactivations.

    Serves Chapter 2, Sec. "Fixed points and susceptibilities": at infinite width this squared
    norm is multiplied by chi_perp(K) per layer going backwards (eq. `eq-chi-perp`; Schoenholz et
    al. 2017). For a model from `random_mlp` the entries are the hidden layers l = 0..depth, each
    averaged over neurons and inputs: (1/(n m)) sum_{i,a} (d sum_a f(x_a) / d z_i^(l)(x_a))^2.

    Args:
        model: a torch.nn.Sequential whose Linear layers produce the preactivations (as `random_mlp`).
        x: inputs, shape (m, n_0), on the model's device.

    Returns:
        A tensor of shape (number of Linear layers - 1,), detached.

    Raises:
        ValueError: if `model` has fewer than two Linear layers or x is not two-dimensional.
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 2:
        raise ValueError("x must be a tensor of shape (m, n_0)")
    preactivations = []
    h = x
    for module in model:
        h = module(h)
        if isinstance(module, torch.nn.Linear):
            preactivations.append(h)
    if len(preactivations) < 2:
        raise ValueError("model must have at least two Linear layers (hidden preactivations and an output)")
    hidden = preactivations[:-1]
    grads = torch.autograd.grad(h.sum(), hidden)
    return torch.stack([(g**2).mean() for g in grads]).detach()


def tangent_kernel(model: torch.nn.Sequential, x: torch.Tensor, lambda_b: float = 1.0, lambda_W: float = 1.0) -> float:
    """The empirical neural tangent kernel of one input for a one-output model, with per-layer learning rates.

    Serves Chapter 2, Sec. "Criticality and phases", eq. `eq-ntk-recursion`: the sum over every
    parameter of its learning rate times (d f(x) / d parameter)^2, with lambda_b for biases and
    lambda_W / fan-in for weights (the convention of `dltheory.rgflow.ntk_recursion`).

    Args:
        model: a torch.nn.Sequential of Linear layers and activations with one output (as `random_mlp`).
        x: one input, shape (1, n_0), with the model's dtype and device.
        lambda_b, lambda_W: the learning rates of biases and of weights (times fan-in).

    Returns:
        Theta(x, x) as a Python float.

    Raises:
        ValueError: if x is not of shape (1, n_0) or the model does not have one output.
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[0] != 1:
        raise ValueError("x must be one input of shape (1, n_0)")
    output = model(x)
    if output.numel() != 1:
        raise ValueError(f"model must have one output, got {output.numel()}")
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(output.sum(), params)
    return sum(float((g**2).sum()) * (lambda_W / p.shape[1] if p.ndim == 2 else lambda_b) for g, p in zip(grads, params))


def sample_tangent_kernels(
    activation: str | Activation,
    C_b: float,
    C_W: float,
    x: torch.Tensor,
    width: int,
    depth: int,
    n_networks: int,
    generator: torch.Generator | None = None,
    *,
    lambda_b: float = 1.0,
    lambda_W: float = 1.0,
) -> torch.Tensor:
    """The tangent kernel Theta(x, x) of `n_networks` random networks of `random_mlp`'s shape, drawn at once.

    Serves Chapter 2, Sec. "Criticality and phases", eq. `eq-ntk-recursion`: the Monte-Carlo side
    of the tangent kernel, with the same law and learning-rate convention as `tangent_kernel` of a
    `random_mlp(activation, C_b, C_W, n_0, width, depth)`, at O(width) instead of O(width^2) per layer.
    For one input the gradient of a weight matrix is the outer product g a^T of the gradient g
    with respect to the layer's output and the layer's input a, so Theta is the sum over the
    Linear layers of (lambda_b + lambda_W ``a.a`` / fan-in) ``g.g``, and only W a and W^T g are needed.
    Split W into W P and W (1 - P), with P the projection on a: the first gives W a = u ``|a|``
    with u an independent N(0, C_W / fan-in) vector, and the second, independent of everything
    the forward pass sees, adds to W^T g a Gaussian vector with covariance (C_W / fan-in)
    ``g.g`` (1 - P). So W^T g = a (u.g) / ``|a|`` + (1 - P) xi sqrt(C_W / fan-in) ``|g|``, exactly
    in law; the forward pass is drawn as in `sample_preactivations`.

    Args:
        activation: a name or an elementwise callable.
        C_b: bias variance, >= 0.
        C_W: weight variance times fan-in, >= 0.
        x: one input, shape (1, n_0); its device is where the sampling runs.
        width: the hidden width n, >= 1.
        depth: the number of hidden layers after the first preactivations, >= 0 (as `random_mlp`).
        n_networks: how many independent networks, >= 1.
        generator: a torch.Generator on the device of x (default: torch's global one).
        lambda_b, lambda_W: the learning rates of biases and of weights (times fan-in), >= 0.

    Returns:
        Each network's Theta(x, x), a float64 tensor of shape (n_networks,).

    Raises:
        ValueError: for an unknown activation name, negative C_b, C_W or learning rates, x not of shape
            (1, n_0), width < 1, depth < 0 or n_networks < 1.
    """
    sigma, sigma_prime = get_activation(activation), derivative(activation)
    C_b, C_W = check_number("C_b", C_b, minimum=0.0), check_number("C_W", C_W, minimum=0.0)
    lambda_b, lambda_W = check_number("lambda_b", lambda_b, minimum=0.0), check_number("lambda_W", lambda_W, minimum=0.0)
    width, depth = check_integer("width", width, minimum=1), check_integer("depth", depth, minimum=0)
    n_networks = check_integer("n_networks", n_networks, minimum=1)
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[0] != 1:
        raise ValueError("x must be one input of shape (1, n_0)")

    def normals(*shape: int) -> torch.Tensor:
        return torch.randn(n_networks, *shape, generator=generator, device=x.device, dtype=torch.float64)

    inputs, u, z = [x.to(torch.float64).expand(n_networks, -1)], [], []  # each Linear layer's input a and W a / |a|
    for fan_out in [width] * (depth + 1) + [1]:
        u.append(normals(fan_out) * (C_W / inputs[-1].shape[1]) ** 0.5)
        z.append(C_b**0.5 * normals(fan_out) + inputs[-1].norm(dim=1, keepdim=True) * u[-1])
        inputs.append(sigma(z[-1]))
    theta = torch.zeros(n_networks, dtype=torch.float64, device=x.device)
    g = torch.ones(n_networks, 1, dtype=torch.float64, device=x.device)  # d f / d (the output preactivation)
    for layer in range(depth + 1, -1, -1):
        a = inputs[layer]
        norm2, g2 = (a**2).sum(1), (g**2).sum(1)
        theta += (lambda_b + lambda_W * norm2 / a.shape[1]) * g2
        if layer == 0:
            break
        a_hat = a / norm2.clamp_min(1e-300).sqrt().unsqueeze(1)
        xi = normals(a.shape[1])
        xi -= (xi * a_hat).sum(1, keepdim=True) * a_hat
        back = a_hat * (u[layer] * g).sum(1, keepdim=True) + xi * (C_W / a.shape[1] * g2).sqrt().unsqueeze(1)
        g = sigma_prime(z[layer - 1]) * back
    return theta


def train_mlps(
    activation: str | Activation,
    C_b: float,
    C_W: torch.Tensor,
    X: torch.Tensor,
    y: torch.Tensor,
    width: int,
    depth: int,
    steps: int,
    learning_rate: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Train one independent network per entry of `C_W` by full-batch gradient descent; return their losses.

    Serves Chapter 2, Sec. "Criticality and phases" (trainability against the correlation depth,
    Schoenholz et al. 2017): the networks are `random_mlp`'s (weights N(0, C_W / fan-in), biases
    N(0, C_b), `depth` hidden layers of width `width` after the first preactivations, one linear
    output), drawn by `dltheory.batched.random_mlps` and held as one batch of weight tensors, so a grid
    of initialisations trains at once. Each network minimises its own mean squared error
    ``mean((f(X) - y)^2)`` by plain gradient descent with the given step size (the gradient of the
    summed losses is each network's own gradient, since no parameter is shared).

    Args:
        activation: a name or an elementwise callable.
        C_b: bias variance, >= 0.
        C_W: one weight variance (times fan-in) per network, shape (networks,), each >= 0; its device
            is where the training runs.
        X: inputs, shape (points, n_0).
        y: targets, shape (points,).
        width: the hidden width n, >= 1.
        depth: the number of hidden layers after the first preactivations, >= 0.
        steps: the number of gradient steps, >= 1.
        learning_rate: the step size, > 0.
        generator: a torch.Generator on the device of C_W, for reproducible initialisations.

    Returns:
        Each network's loss before every step and after the last, a tensor of shape (steps + 1, networks).

    Raises:
        ValueError: for an unknown activation name, negative C_b or C_W, X, y or C_W of the wrong shape,
            width < 1, depth < 0, steps < 1 or learning_rate <= 0.
    """
    sigma = get_activation(activation)
    C_b = check_number("C_b", C_b, minimum=0.0)
    if not isinstance(C_W, torch.Tensor) or C_W.ndim != 1 or len(C_W) == 0 or bool((C_W < 0).any()):
        raise ValueError("C_W must be a non-empty one-dimensional tensor of non-negative weight variances")
    if not isinstance(X, torch.Tensor) or X.ndim != 2:
        raise ValueError("X must be a tensor of shape (points, n_0)")
    if not isinstance(y, torch.Tensor) or y.shape != X.shape[:1]:
        raise ValueError(f"y must be a tensor of shape ({X.shape[0]},), one target per row of X")
    width, depth = check_integer("width", width, minimum=1), check_integer("depth", depth, minimum=0)
    steps = check_integer("steps", steps, minimum=1)
    learning_rate = check_positive("learning_rate", learning_rate)
    network = random_mlps(sigma, C_b, C_W, X.shape[1], width, depth, len(C_W), generator, device=C_W.device, dtype=X.dtype)
    targets = y.to(C_W.device)
    losses = []
    for step in range(steps + 1):
        loss = ((network(X) - targets) ** 2).mean(1)
        losses.append(loss.detach())
        if step == steps:
            break
        network.gradient_step(loss, learning_rate, learning_rate)
    return torch.stack(losses)


# Dynamical isometry: the input-output Jacobian (Chapter 2, Sec. "Dynamical isometry").


def input_output_jacobian(
    activation: str | Activation,
    C_b: float,
    C_W: float,
    K0: float,
    depth: int,
    width: int,
    generator: torch.Generator | None = None,
    *,
    orthogonal: bool = False,
) -> torch.Tensor:
    """J = dz^(L) / dz^(0), the Jacobian of a random network's last preactivations with respect to its first.

    Serves Chapter 2, Sec. "Dynamical isometry", eq. `eq-jacobian-spread`. The first preactivations z^(0) are drawn
    from N(0, K0) per neuron; then, for l = 1..depth, z^(l) = W^(l) sigma(z^(l-1)) + b^(l) and J is the product of the
    factors W^(l) D^(l-1), with D^(l) = diag(sigma'(z^(l))). The weights are Gaussian, N(0, C_W / n) per entry, or,
    with ``orthogonal=True``, sqrt(C_W) times a Haar-random orthogonal matrix (QR of a Gaussian matrix with the signs
    of R's diagonal), so that in both cases ``E |W v|^2 = C_W |v|^2``.

    Args:
        activation: a name or an elementwise callable.
        C_b, C_W: bias and weight variances, >= 0.
        K0: the variance of the first preactivations, >= 0.
        depth: the number L of layers the Jacobian spans, >= 0.
        width: the width n, >= 1.
        generator: a CPU torch.Generator for reproducible draws.
        orthogonal: orthogonal instead of Gaussian weights.

    Returns:
        A float64 tensor of shape (width, width).

    Raises:
        ValueError: for an unknown activation name, negative variances, or sizes below their minimum.
        TypeError: if orthogonal is not a bool.
    """
    sigma, sigma_prime = get_activation(activation), derivative(activation)
    C_b, C_W = check_number("C_b", C_b, minimum=0.0), check_number("C_W", C_W, minimum=0.0)
    K0 = check_number("K0", K0, minimum=0.0)
    depth, width = check_integer("depth", depth, minimum=0), check_integer("width", width, minimum=1)
    if not isinstance(orthogonal, bool):
        raise TypeError(f"orthogonal must be a bool, got {type(orthogonal).__name__}")
    z = torch.randn(width, generator=generator, dtype=DTYPE) * K0**0.5
    J = torch.eye(width, dtype=DTYPE)
    for _ in range(depth):
        gaussian = torch.randn(width, width, generator=generator, dtype=DTYPE)
        if orthogonal:
            Q, R = torch.linalg.qr(gaussian)
            W = C_W**0.5 * Q * torch.sign(torch.diagonal(R))
        else:
            W = gaussian * (C_W / width) ** 0.5
        J = W @ (sigma_prime(z)[:, None] * J)
        z = W @ sigma(z) + torch.randn(width, generator=generator, dtype=DTYPE) * C_b**0.5
    return J


def relative_variance(samples: torch.Tensor, generator: torch.Generator | None = None, resamples: int = 200) -> Estimate:
    """``Var(X) / E[X]^2`` of independent samples, with a bootstrap standard error.

    Serves Chapter 2, Sec. "The NTK at finite width": the relative fluctuation of a network's tangent kernel across
    initialisations, whose heavy tail makes a delta-method error unreliable; the standard error is the spread of the
    estimate over ``resamples`` bootstrap resamples.

    Args:
        samples: a one-dimensional tensor of at least two samples.
        generator: a CPU torch.Generator for the resampling.
        resamples: the number of bootstrap resamples, >= 2.

    Raises:
        ValueError: if samples is not one-dimensional with at least two finite entries of nonzero mean.
    """
    resamples = check_integer("resamples", resamples, minimum=2)
    if not isinstance(samples, torch.Tensor) or samples.ndim != 1 or samples.numel() < 2:
        raise ValueError("samples must be a one-dimensional tensor of at least two samples")
    x = samples.detach().to("cpu", DTYPE)
    if not torch.isfinite(x).all() or float(x.mean()) == 0:
        raise ValueError("samples must be finite with a nonzero mean")
    index = torch.randint(0, x.numel(), (resamples, x.numel()), generator=generator)
    boot = x[index]
    spread = boot.var(1) / boot.mean(1) ** 2
    return Estimate(x.var() / x.mean() ** 2, spread.std())
