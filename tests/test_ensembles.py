"""Tests for dltheory.ensembles (Chapter 2): the batched sampler of random networks and its estimators."""

from __future__ import annotations

import pytest
import torch

from dltheory.activations import get_activation
from dltheory.ensembles import Estimate, excess_kurtosis, sample_preactivations
from dltheory.rgflow import input_kernel
from dltheory.runtime import default_device

f64 = torch.float64


def explicit_networks(
    activation: str, C_b: float, C_W: float, x: torch.Tensor, depth: int, width: int, N: int, seed: int,
    shortcut: float, branch: float,
) -> torch.Tensor:
    """Preactivations of N networks built weight by weight: shape (depth + 1, N, width, m)."""
    sigma = get_activation(activation)
    gen = torch.Generator().manual_seed(seed)
    m, n0 = x.shape
    W = torch.randn(N, width, n0, generator=gen, dtype=f64) * (C_W / n0) ** 0.5
    b = torch.randn(N, width, 1, generator=gen, dtype=f64) * C_b**0.5
    z = W @ x.T + b
    layers = [z]
    for _ in range(depth):
        W = torch.randn(N, width, width, generator=gen, dtype=f64) * (C_W / width) ** 0.5
        b = torch.randn(N, width, 1, generator=gen, dtype=f64) * C_b**0.5
        z = shortcut * z + branch * (W @ sigma(z) + b)
        layers.append(z)
    return torch.stack(layers)


@pytest.mark.parametrize(
    ("activation", "shortcut", "branch"), [("relu", 0.0, 1.0), ("tanh", 0.0, 1.0), ("relu", 0.9, 0.6)]
)
def test_sampler_has_the_law_of_explicit_networks(activation: str, shortcut: float, branch: float) -> None:
    # Both sides are Monte Carlo with 20000 networks; the per-layer kernel entries and fourth moments must
    # agree within 5 combined standard errors (a wrong conditional covariance, a missing bias or a
    # wrong residual term moves them by many).
    C_b, C_W, depth, width, N = 0.2, 1.8, 3, 12, 20000
    x = torch.tensor([[1.0, -0.5, 0.3, 0.8], [0.2, 0.9, -0.7, 0.1]], dtype=f64)
    reference = explicit_networks(activation, C_b, C_W, x, depth, width, N, 0, shortcut, branch)
    sampled = sample_preactivations(
        activation, C_b, C_W, input_kernel(x, C_b, C_W), depth, width, N, torch.Generator().manual_seed(1),
        shortcut=shortcut, branch=branch,
    )
    ref_second = torch.einsum("lnia,lnib->lnab", reference, reference) / width
    ref_fourth = (reference**4).mean(2)
    for ours, theirs in ((sampled.second_moments, ref_second), (sampled.fourth_moments, ref_fourth)):
        difference = ours.mean(1) - theirs.mean(1)
        stderr = ((ours.var(1) + theirs.var(1)) / N).sqrt()
        assert (difference.abs() <= 5 * stderr).all(), difference / stderr


def test_shapes_dtype_and_reproducibility() -> None:
    one = sample_preactivations("tanh", 0.1, 1.5, 1.0, 4, 16, 10, torch.Generator().manual_seed(0))
    assert one.z.shape == (10, 16)
    assert one.second_moments.shape == (5, 10) and one.fourth_moments.shape == (5, 10)
    assert one.kernel().value.shape == (5,) and one.excess_kurtosis().value.shape == (5,)
    again = sample_preactivations("tanh", 0.1, 1.5, 1.0, 4, 16, 10, torch.Generator().manual_seed(0))
    other = sample_preactivations("tanh", 0.1, 1.5, 1.0, 4, 16, 10, torch.Generator().manual_seed(1))
    assert torch.equal(one.z, again.z) and not torch.equal(one.z, other.z)

    K0 = torch.tensor([[1.0, 0.2, 0.0], [0.2, 2.0, 0.5], [0.0, 0.5, 1.0]], dtype=f64)
    three = sample_preactivations("relu", 0.1, 2.0, K0, 4, 16, 10, torch.Generator().manual_seed(0))
    assert three.z.shape == (10, 16, 3) and three.z.dtype == f64
    assert three.second_moments.shape == (5, 10, 3, 3) and three.fourth_moments.shape == (5, 10, 3)
    assert three.kernel().value.shape == (5, 3, 3) and three.excess_kurtosis().value.shape == (5, 3)


def test_degenerate_inputs_stay_finite() -> None:
    # Two identical inputs have a singular kernel; deep in the ordered phase nearby inputs become
    # numerically identical too. The sampler must stay finite and keep identical inputs identical.
    identical = torch.ones(2, 2, dtype=f64)
    same = sample_preactivations("relu", 0.1, 1.0, identical, 6, 32, 50, torch.Generator().manual_seed(0))
    assert torch.allclose(same.z[..., 0], same.z[..., 1], rtol=1e-12, atol=0)
    K0 = torch.tensor([[1.0, 0.5], [0.5, 1.0]])
    ordered = sample_preactivations("tanh", 1.0, 0.5, K0, 60, 32, 50, torch.Generator().manual_seed(0))
    assert torch.isfinite(ordered.second_moments).all()
    dead = sample_preactivations("relu", 0.0, 2.0, 1.0, 30, 1, 200, torch.Generator().manual_seed(0))
    assert torch.isfinite(dead.z).all()  # width 1: many networks die (all activations zero)


def test_excess_kurtosis_estimator() -> None:
    gen = torch.Generator().manual_seed(0)
    gaussian = excess_kurtosis(torch.randn(4000, 50, generator=gen, dtype=f64))
    assert isinstance(gaussian, Estimate)
    assert abs(float(gaussian.value)) <= 4 * float(gaussian.stderr)  # true value 0
    u = torch.rand(4000, 50, generator=gen, dtype=f64) - 0.5
    laplace = -torch.sign(u) * torch.log1p(-2 * u.abs())  # Laplace by inversion
    estimate = excess_kurtosis(laplace)
    assert abs(float(estimate.value) - 3.0) <= 4 * float(estimate.stderr)  # true value 3
    with pytest.raises(ValueError, match="z"):
        excess_kurtosis(torch.randn(10))


def test_runs_on_the_device_of_K0() -> None:
    device = default_device()  # CUDA when a GPU is there, so the same test covers both
    K0 = torch.tensor([[1.0, 0.3], [0.3, 1.0]], device=device)
    ensemble = sample_preactivations("gelu", 0.1, 2.0, K0, 5, 64, 100, torch.Generator(device=device).manual_seed(0))
    assert ensemble.z.device == K0.device
    if device.type == "cuda":  # a generator on another device than K0 is refused
        with pytest.raises(ValueError, match="generator"):
            sample_preactivations("gelu", 0.1, 2.0, K0, 5, 64, 100, torch.Generator().manual_seed(0))


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="width"):
        sample_preactivations("relu", 0.0, 2.0, 1.0, 3, 0, 10)
    with pytest.raises(ValueError, match="n_networks"):
        sample_preactivations("relu", 0.0, 2.0, 1.0, 3, 8, 0)
    with pytest.raises(ValueError, match="depth"):
        sample_preactivations("relu", 0.0, 2.0, 1.0, -2, 8, 10)
    with pytest.raises(ValueError, match="K0"):
        sample_preactivations("relu", 0.0, 2.0, -1.0, 3, 8, 10)
    with pytest.raises(ValueError, match="C_b"):
        sample_preactivations("relu", -0.1, 2.0, 1.0, 3, 8, 10)
    with pytest.raises(ValueError, match="activation"):
        sample_preactivations("rectifier", 0.0, 2.0, 1.0, 3, 8, 10)


def test_random_mlp_is_initialised_as_in_eq_mlp() -> None:
    from dltheory.ensembles import random_mlp

    gen = torch.Generator().manual_seed(5)
    model = random_mlp("tanh", 0.3, 1.5, input_dim=10, width=64, depth=3, generator=gen)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(10, 64), (64, 64), (64, 64), (64, 64), (64, 1)]
    # The first preactivations b + W x are exactly N(0, C_b + C_W |x|^2 / n_0) per neuron: over 300 networks of
    # width 64 (19200 draws) the sample variance has relative standard error sqrt(2 / 19200) = 1%; allow 5%.
    x = torch.ones(1, 10)
    z0 = torch.cat([random_mlp("tanh", 0.3, 1.5, 10, 64, 0, gen)[0](x).detach() for _ in range(300)])
    assert abs(float((z0**2).mean()) / (0.3 + 1.5) - 1) < 0.05


def test_preactivation_gradients_exact_for_one_hidden_layer() -> None:
    from dltheory.ensembles import preactivation_gradients, random_mlp

    model = random_mlp("tanh", 0.1, 1.2, 5, 16, 0, torch.Generator().manual_seed(2))
    x = torch.randn(7, 5, generator=torch.Generator().manual_seed(3))
    first, readout = model[0], model[2]
    z = first(x).detach()
    # d f / d z_i = w_i tanh'(z_i) exactly, for the one hidden layer feeding the readout.
    expected = ((readout.weight[0].detach() * (1 - torch.tanh(z) ** 2)) ** 2).mean()
    grads = preactivation_gradients(model, x)
    assert grads.shape == (1,)
    assert torch.allclose(grads[0], expected, rtol=1e-5)


def test_real_networks_bad_inputs() -> None:
    from dltheory.ensembles import preactivation_gradients, random_mlp

    with pytest.raises(ValueError, match="width"):
        random_mlp("relu", 0.0, 2.0, 4, 0, 2)
    with pytest.raises(ValueError, match="C_W"):
        random_mlp("relu", 0.0, -1.0, 4, 8, 2)
    with pytest.raises(ValueError, match="activation"):
        random_mlp("nope", 0.0, 1.0, 4, 8, 2)
    with pytest.raises(ValueError, match="x must be"):
        preactivation_gradients(random_mlp("relu", 0.0, 2.0, 4, 8, 1), torch.ones(4))


def test_tangent_kernel_exact_for_a_linear_model() -> None:
    from dltheory.ensembles import tangent_kernel

    # f(x) = w . x + b: df/dw = x and df/db = 1, so Theta = lambda_W |x|^2 / n_0 + lambda_b.
    model = torch.nn.Sequential(torch.nn.Linear(4, 1))
    x = torch.tensor([[1.0, 2.0, -1.0, 0.5]])
    assert abs(tangent_kernel(model, x, lambda_b=0.3, lambda_W=2.0) - (2.0 * 6.25 / 4 + 0.3)) < 1e-6
    with pytest.raises(ValueError, match="x must be"):
        tangent_kernel(model, torch.ones(2, 4))


def test_excess_kurtosis_from_variances_agrees_with_the_fourth_moment() -> None:
    # Both estimate the same kurtosis; layer 0 is exactly Gaussian (0 up to sampling error).
    ens = sample_preactivations("tanh", 0.0, 1.0, 1.0, 4, 32, 6000, torch.Generator().manual_seed(2))
    direct, from_variances = ens.excess_kurtosis(), ens.excess_kurtosis_from_variances()
    assert from_variances.value.shape == (5,)
    gap = (direct.value - from_variances.value).abs()
    assert bool((gap <= 4 * (direct.stderr**2 + from_variances.stderr**2).sqrt()).all())
    assert abs(float(from_variances.value[0])) <= 4 * float(from_variances.stderr[0])
    assert bool((from_variances.stderr[1:] < direct.stderr[1:]).all())


def test_input_output_jacobian_and_its_spread() -> None:
    from dltheory.ensembles import input_output_jacobian
    from dltheory.rgflow import jacobian_spread

    generator = torch.Generator().manual_seed(3)
    J = input_output_jacobian("linear", 0.0, 1.0, 1.0, 6, 32, generator, orthogonal=True)
    assert torch.allclose(J @ J.T, torch.eye(32, dtype=torch.float64), atol=1e-10)  # a product of orthogonal matrices
    assert jacobian_spread("linear", 0.0, 1.0, 1.0, 6, orthogonal=True) == pytest.approx(0.0, abs=1e-12)
    assert jacobian_spread("linear", 0.0, 1.0, 1.0, 6) == pytest.approx(6.0, rel=1e-12)  # Fuss-Catalan: m_2 = L + 1
    assert jacobian_spread("relu", 0.0, 2.0, 1.0, 6, orthogonal=True) == pytest.approx(6.0, rel=1e-12)  # mu_2 / mu_1^2 = 2
    spreads = []
    for _ in range(8):
        M = input_output_jacobian("relu", 0.0, 2.0, 1.0, 6, 128, generator, orthogonal=True)
        M = M @ M.T
        spreads.append(float(torch.trace(M @ M) / 128 / (torch.trace(M) / 128) ** 2 - 1))
    values = torch.tensor(spreads)
    assert float(values.mean()) == pytest.approx(6.0, abs=4 * float(values.std()) / 8**0.5 + 6 * 6 / 128)
    with pytest.raises(TypeError, match="orthogonal"):
        input_output_jacobian("relu", 0.0, 2.0, 1.0, 2, 4, orthogonal=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="orthogonal"):
        jacobian_spread("relu", 0.0, 2.0, 1.0, 2, orthogonal=1)  # type: ignore[arg-type]


def test_linear_ntk_relative_variance_and_its_estimator() -> None:
    from dltheory.ensembles import random_mlp, relative_variance, tangent_kernel
    from dltheory.rgflow import linear_ntk_relative_variance

    assert linear_ntk_relative_variance(200, 100000) == pytest.approx(4 / 3 * 202 / 100000, rel=0.02)  # (4/3) M / n
    generator = torch.Generator().manual_seed(5)
    x = torch.ones(1, 8)
    values = torch.tensor([tangent_kernel(random_mlp("linear", 0.0, 1.0, 8, 16, 2, generator), x, lambda_b=0.0) for _ in range(600)])
    estimate = relative_variance(values, generator)
    assert float(values.mean()) == pytest.approx(4.0, rel=0.05)  # M q with q = |x|^2 / n_0 = 1
    assert float(estimate.value) == pytest.approx(linear_ntk_relative_variance(2, 16), abs=4 * float(estimate.stderr) + 8 / 16**2)
    with pytest.raises(ValueError, match="samples"):
        relative_variance(torch.ones(1))


def test_sample_tangent_kernels_has_the_law_of_real_networks() -> None:
    from dltheory.ensembles import random_mlp, relative_variance, sample_tangent_kernels, tangent_kernel

    # The sampler draws only W a and W^T g; real networks form every weight. Same law: the mean and the
    # relative variance agree within their sampling errors (narrow nets, where both are far from their limits).
    generator = torch.Generator().manual_seed(6)
    x = torch.randn(1, 5, generator=generator)
    for activation, C_b, C_W in (("tanh", 0.1, 1.5), ("relu", 0.0, 2.0)):
        drawn = sample_tangent_kernels(activation, C_b, C_W, x, 6, 3, 40000, generator, lambda_b=0.7, lambda_W=1.3)
        real = torch.tensor([tangent_kernel(random_mlp(activation, C_b, C_W, 5, 6, 3, generator).double(), x.double(),
                                            lambda_b=0.7, lambda_W=1.3) for _ in range(1500)], dtype=torch.float64)
        assert drawn.shape == (40000,) and drawn.dtype == torch.float64
        gap = abs(float(drawn.mean() - real.mean()))
        assert gap <= 4 * (float(drawn.var()) / 40000 + float(real.var()) / 1500) ** 0.5
        spread_drawn, spread_real = relative_variance(drawn[:20000], generator), relative_variance(real, generator)
        assert abs(float(spread_drawn.value - spread_real.value)) <= 4 * float((spread_drawn.stderr**2 + spread_real.stderr**2) ** 0.5)
    with pytest.raises(ValueError, match="x must be"):
        sample_tangent_kernels("relu", 0.0, 2.0, torch.ones(2, 4), 8, 2, 10)
    with pytest.raises(ValueError, match="n_networks"):
        sample_tangent_kernels("relu", 0.0, 2.0, torch.ones(1, 4), 8, 2, 0)


def test_train_mlps_initialises_as_random_mlp_and_descends() -> None:
    from dltheory.ensembles import train_mlps
    from dltheory.rgflow import input_kernel, kernel_recursion

    generator = torch.Generator().manual_seed(7)
    X, y = torch.randn(8, 5, generator=generator, dtype=torch.float64), torch.randn(8, generator=generator, dtype=torch.float64)
    # Before the first step E[(f(x) - y)^2] = K_out(x) + y^2 over the networks, with K_out from the kernel flow.
    C_W = torch.full((4000,), 1.5)
    losses = train_mlps("tanh", 0.1, C_W, X, y, 16, 2, 1, 1e-3, generator)
    K_out = torch.stack([kernel_recursion("tanh", 0.1, 1.5, float(input_kernel(x[None], 0.1, 1.5)[0, 0]), 3)[-1] for x in X])
    expected = float((K_out + y**2).mean())
    assert abs(float(losses[0].mean()) - expected) <= 4 * float(losses[0].std()) / 4000**0.5 + 0.02 * expected  # O(1/n) at n = 16
    # A small step lowers every network's loss, and a fixed generator reproduces the run.
    small = train_mlps("tanh", 0.1, torch.tensor([1.0, 1.5, 2.0]), X, y, 16, 2, 20, 1e-2, torch.Generator().manual_seed(8))
    assert bool((small[1:] < small[:-1]).all())
    again = train_mlps("tanh", 0.1, torch.tensor([1.0, 1.5, 2.0]), X, y, 16, 2, 20, 1e-2, torch.Generator().manual_seed(8))
    assert torch.equal(small, again) and small.shape == (21, 3)
    with pytest.raises(ValueError, match="C_W"):
        train_mlps("tanh", 0.1, torch.tensor(1.5), X, y, 16, 2, 1, 1e-3)
    with pytest.raises(ValueError, match="y must be"):
        train_mlps("tanh", 0.1, C_W[:2], X, y[:3], 16, 2, 1, 1e-3)
    with pytest.raises(ValueError, match="learning_rate"):
        train_mlps("tanh", 0.1, C_W[:2], X, y, 16, 2, 1, 0.0)
