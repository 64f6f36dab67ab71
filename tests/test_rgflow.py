"""Tests for dltheory.rgflow (Chapter 2): quadrature, kernel flow, criticality and the four-point vertex.

Monte-Carlo comparisons use `dltheory.ensembles.sample_preactivations`. Their tolerances are a few
standard errors (estimated from the spread over independent networks) plus, where a leading-order
1/n prediction is compared with a finite-width measurement, an allowance for the next order.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dltheory.activations import ACTIVATION_NAMES, get_activation
from dltheory.ensembles import sample_preactivations
from dltheory.rgflow import (
    chi_parallel,
    chi_perp,
    correlation_depth,
    critical_C_W,
    critical_point,
    criticality,
    fixed_point,
    gaussian_expectation,
    input_kernel,
    kernel_recursion,
    mean_kernel_shift,
    normalized_vertex,
    second_derivative_of_moment,
)

f64 = torch.float64


def arccos_relu(K11: float, K22: float, K12: float) -> float:
    """<relu(z1) relu(z2)>: the degree-1 arc-cosine kernel (Cho & Saul 2009)."""
    theta = math.acos(max(-1.0, min(1.0, K12 / math.sqrt(K11 * K22))))
    return math.sqrt(K11 * K22) * (math.sin(theta) + (math.pi - theta) * math.cos(theta)) / (2 * math.pi)


def covariance(K11: float, K22: float, rho: float) -> torch.Tensor:
    K12 = rho * math.sqrt(K11 * K22)
    return torch.tensor([[K11, K12], [K12, K22]], dtype=f64)


# ---------------------------------------------------------------------------------------------
# Quadrature against closed forms (exact up to rounding: tolerances are 1e-12).


@pytest.mark.parametrize("K", [0.01, 0.3, 1.0, 7.0, 90.0])
def test_relu_moments_exact(K: float) -> None:
    assert gaussian_expectation(lambda z: torch.relu(z) ** 2, K) == pytest.approx(K / 2, rel=1e-12)
    assert gaussian_expectation(torch.relu, K) == pytest.approx(math.sqrt(K / (2 * math.pi)), rel=1e-12)
    assert gaussian_expectation(lambda z: torch.relu(z) ** 4, K) == pytest.approx(1.5 * K**2, rel=1e-12)
    assert float(chi_perp("relu", 1.0, K)) == pytest.approx(0.5, rel=1e-12)  # <relu'^2> = 1/2


@pytest.mark.parametrize("K", [0.05, 1.0, 4.0])
def test_smooth_closed_forms(K: float) -> None:
    # <sin^2> = (1 - e^{-2K}) / 2, <cos^2> = (1 + e^{-2K}) / 2, <z Phi(z)> = K / sqrt(2 pi (1 + K)).
    assert gaussian_expectation(lambda z: torch.sin(z) ** 2, K) == pytest.approx((1 - math.exp(-2 * K)) / 2, rel=1e-12)
    assert float(chi_perp("sin", 1.0, K)) == pytest.approx((1 + math.exp(-2 * K)) / 2, rel=1e-12)
    assert gaussian_expectation(F.gelu, K) == pytest.approx(K / math.sqrt(2 * math.pi * (1 + K)), rel=1e-12)


@pytest.mark.parametrize("rho", [-1.0, -0.6, 0.0, 0.5, 0.99, 0.999999, 1.0])
def test_two_input_relu_is_the_arccos_kernel(rho: float) -> None:
    K = covariance(2.0, 0.7, rho)
    value = gaussian_expectation(lambda a, b: torch.relu(a) * torch.relu(b), K)
    assert value == pytest.approx(arccos_relu(2.0, 0.7, float(K[0, 1])), rel=1e-12, abs=1e-14)
    # degree 0 (Cho & Saul 2009): P(z1 > 0, z2 > 0) = (pi - theta) / (2 pi), a discontinuous integrand;
    # at rho = +-1 the rounding of rho moves its jump by ~1e-8 rad, hence the looser bound there.
    step = gaussian_expectation(lambda a, b: ((a > 0) & (b > 0)).to(f64), K)
    assert step == pytest.approx((math.pi - math.acos(rho)) / (2 * math.pi), abs=1e-12 if abs(rho) < 1 else 1e-8)


def test_two_input_limits_match_one_input() -> None:
    K = 1.7
    same = gaussian_expectation(lambda a, b: torch.tanh(a) * torch.tanh(b), covariance(K, K, 1.0))
    assert same == pytest.approx(gaussian_expectation(lambda z: torch.tanh(z) ** 2, K), rel=1e-10)
    independent = gaussian_expectation(lambda a, b: F.gelu(a) * F.gelu(b), covariance(K, 0.4, 0.0))
    assert independent == pytest.approx(gaussian_expectation(F.gelu, K) * gaussian_expectation(F.gelu, 0.4), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# The kernel flow.


def test_relu_flow_closed_form_one_and_two_inputs() -> None:
    C_b, C_W, depth = 0.1, 1.7, 6
    flow = kernel_recursion("relu", C_b, C_W, 0.8, depth)
    expected = [0.8]
    for _ in range(depth):
        expected.append(C_b + C_W / 2 * expected[-1])
    assert flow.shape == (depth + 1,)
    assert torch.allclose(flow, torch.tensor(expected, dtype=f64), rtol=1e-12)

    K = covariance(1.0, 2.0, 0.3)
    flow2 = kernel_recursion("relu", C_b, C_W, K, depth)
    assert flow2.shape == (depth + 1, 2, 2)
    assert torch.equal(flow2[0], K)
    for l in range(depth):
        K11, K22, K12 = (float(v) for v in (flow2[l, 0, 0], flow2[l, 1, 1], flow2[l, 0, 1]))
        assert float(flow2[l + 1, 0, 1]) == pytest.approx(C_b + C_W * arccos_relu(K11, K22, K12), rel=1e-12)
    assert torch.equal(kernel_recursion("tanh", 0.0, 1.0, K, 0), K[None])


def test_residual_linear_flow_closed_form() -> None:
    shortcut, branch, C_b, C_W = 0.9, 0.4, 0.2, 1.5
    flow = kernel_recursion("linear", C_b, C_W, 1.0, 5, shortcut=shortcut, branch=branch)
    K = 1.0
    for l in range(1, 6):
        K = (shortcut**2 + branch**2 * C_W) * K + branch**2 * C_b
        assert float(flow[l]) == pytest.approx(K, rel=1e-12)


def test_kernel_flow_matches_monte_carlo_two_inputs() -> None:
    # tanh off criticality, two inputs at correlation 0.3. With 2000 networks the standard error of
    # each kernel entry is about 3e-3 K; we allow 5 standard errors plus 1% for the O(l / n)
    # finite-width shift of the kernel at width 512 (Roberts, Yaida, Hanin 2022, Sec. 4.5).
    K0, depth = covariance(1.0, 2.0, 0.3), 6
    theory = kernel_recursion("tanh", 0.1, 1.5, K0, depth)
    ensemble = sample_preactivations("tanh", 0.1, 1.5, K0, depth, 512, 2000, torch.Generator().manual_seed(1))
    measured = ensemble.kernel()
    error = (measured.value.double() - theory).abs()
    assert (error <= 5 * measured.stderr.double() + 0.01 * theory.abs()).all(), error


# ---------------------------------------------------------------------------------------------
# Susceptibilities, fixed points, criticality.


def test_susceptibilities_are_derivatives_of_the_flow() -> None:
    # chi_par = dF/dK for F(K) = C_b + C_W <sigma^2>_K, and chi_perp = dF_12 / dK_12 at K_12 = K
    # (Price's theorem), both checked by central finite differences (error O(h^2) ~ 1e-9).
    C_b, C_W, K, h = 0.2, 1.6, 0.9, 1e-4
    for activation in ("tanh", "gelu", "silu", "sin"):
        flow = lambda k: float(kernel_recursion(activation, C_b, C_W, k, 1)[1])  # noqa: E731
        slope = (flow(K + h) - flow(K - h)) / (2 * h)
        assert float(chi_parallel(activation, C_W, K)) == pytest.approx(slope, rel=1e-7)
        def off(k12: float, activation: str = activation) -> float:
            return float(kernel_recursion(activation, C_b, C_W, covariance(K, K, k12 / K), 1)[1, 0, 1])

        slope = (off(K - h) - off(K - 3 * h)) / (2 * h)  # one-sided: K_12 <= K
        assert float(chi_perp(activation, C_W, K)) == pytest.approx(slope, rel=1e-3)


def test_scale_invariant_susceptibilities() -> None:
    K = torch.tensor([0.1, 1.0, 30.0], dtype=f64)
    assert torch.allclose(chi_parallel("relu", 2.0, K), torch.ones(3, dtype=f64), rtol=1e-12)
    assert torch.allclose(chi_perp("relu", 2.0, K), torch.ones(3, dtype=f64), rtol=1e-12)
    leaky = get_activation("leaky_relu", slope=0.2)
    assert torch.allclose(chi_perp(leaky, 1.0, K), torch.full((3,), (1 + 0.04) / 2, dtype=f64), rtol=1e-12)


def test_fixed_points() -> None:
    assert float(fixed_point("relu", 1.0, 1.0)) == pytest.approx(2.0, rel=1e-12)  # C_b / (1 - C_W / 2)
    assert float(fixed_point("relu", 0.0, 2.0, 3.0)) == 3.0  # every K is fixed at criticality
    assert math.isinf(float(fixed_point("relu", 0.1, 2.1)))
    assert float(fixed_point("tanh", 0.0, 0.8)) == 0.0
    C_b = torch.tensor([[0.05], [0.3]], dtype=f64)
    C_W = torch.tensor([1.2, 2.0, 3.5], dtype=f64)
    K = fixed_point("tanh", C_b, C_W)
    assert K.shape == (2, 3)
    tanh2 = [[gaussian_expectation(lambda z: torch.tanh(z) ** 2, float(k)) for k in row] for row in K]
    assert torch.allclose(C_b + C_W * torch.tensor(tanh2, dtype=f64), K, rtol=1e-12)


@pytest.mark.parametrize(
    ("activation", "C_W"),
    [("relu", 2.0), ("linear", 1.0), (get_activation("leaky_relu", slope=0.2), 2 / 1.04), ("tanh", 1.0), ("sin", 1.0)],
)
def test_critical_C_W_closed_forms(activation: object, C_W: float) -> None:
    assert critical_C_W(activation, 0.0) == pytest.approx(C_W, rel=1e-10)


def test_critical_point_with_bias_is_a_stable_fixed_point() -> None:
    for activation, C_b in (("tanh", 0.1), ("gelu", 0.5)):
        point = critical_point(activation, C_b)
        assert point.K_star is not None and point.K_star > 0
        assert float(chi_perp(activation, point.C_W, point.K_star)) == pytest.approx(1.0, rel=1e-10)
        next_K = float(kernel_recursion(activation, C_b, point.C_W, point.K_star, 1)[1])
        assert next_K == pytest.approx(point.K_star, rel=1e-10)
        assert point.chi_parallel <= 1.0


def test_scale_invariant_flow_does_not_drift() -> None:
    # At C_W = 1 / A_2 the map is K -> C_W A_2 K = K: only rounding over 1000 layers (formerly a notebook claim).
    leaky = get_activation("leaky_relu", slope=0.2)
    for activation in ("relu", leaky, "linear"):
        K = kernel_recursion(activation, 0.0, critical_C_W(activation), 1.7, 1000)
        assert float((K / K[0] - 1).abs().max()) <= 1e-12


@pytest.mark.parametrize(("activation", "C_b"), [("tanh", 0.05), ("tanh", 0.2), ("tanh", 0.3), (F.softsign, 0.1)])
def test_edge_of_chaos_keeps_nearby_inputs_apart(activation: object, C_b: float) -> None:
    # Price's theorem: at chi_perp(K*) = 1 one step of the two-input flow keeps the distance of inputs with
    # correlation 1 - eps, up to the second-order term O(eps) (formerly notebook claims).
    eps = 1e-5
    point = critical_point(activation, C_b)
    K = point.K_star * torch.tensor([[1.0, 1 - eps], [1 - eps, 1.0]], dtype=f64)
    K1 = kernel_recursion(activation, C_b, point.C_W, K, 1)[1]
    growth = float((K1[0, 0] + K1[1, 1] - 2 * K1[0, 1]) / (K[0, 0] + K[1, 1] - 2 * K[0, 1]))
    assert growth == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize(("activation", "C_b"), [("relu", 0.1), ("gelu", 0.0), ("silu", 0.0), (F.softplus, 0.0)])
def test_no_criticality_raises(activation: object, C_b: float) -> None:
    with pytest.raises(ValueError, match="no criticality.*C_b"):
        critical_C_W(activation, C_b)


def test_critical_point_says_which_notion() -> None:
    # Edge of chaos is not criticality: tanh with C_b > 0 on chi_perp = 1 has chi_par about 0.5.
    assert critical_point("tanh", 0.05).notion == "edge of chaos"
    assert critical_point("tanh", 0.05).chi_parallel == pytest.approx(0.52, abs=0.01)
    assert critical_point("tanh", 0.0).notion == "criticality"
    assert critical_point("relu", 0.0).notion == "criticality"


@pytest.mark.parametrize("activation", ["gelu", "silu"])
def test_half_stable_criticality(activation: str) -> None:
    # Both susceptibilities one at a fixed point K* > 0 with C_b > 0, which F(K) - K touches without crossing.
    point = criticality(activation)
    assert point.notion == "criticality" and point.C_b > 0 and point.K_star is not None and point.K_star > 0
    assert float(chi_perp(activation, point.C_W, point.K_star)) == pytest.approx(1.0, rel=1e-10)
    assert float(chi_parallel(activation, point.C_W, point.K_star)) == pytest.approx(1.0, rel=1e-8)
    K = torch.tensor([0.99, 0.999, 1.0, 1.001, 1.01], dtype=f64) * point.K_star  # (silu has a second root 2% above)
    F_K = point.C_b + point.C_W * torch.tensor([gaussian_expectation(lambda z: get_activation(activation)(z) ** 2, k) for k in K], dtype=f64)
    drift = F_K - K
    assert abs(float(drift[2])) <= 1e-10 * point.K_star
    assert bool((drift[[0, 1, 3, 4]] > 0).all()) or bool((drift[[0, 1, 3, 4]] < 0).all())  # one sign on both sides


def test_criticality_of_the_other_classes() -> None:
    assert criticality("tanh") == critical_point("tanh", 0.0)
    assert criticality("relu").C_W == pytest.approx(2.0, rel=1e-12)
    with pytest.raises(ValueError, match="no criticality for activation 'softplus'"):
        criticality(F.softplus)


def test_correlation_depth() -> None:
    # ReLU with C_b > 0 and C_W < 2 is ordered: chi_c = chi_perp = C_W / 2 exactly.
    assert correlation_depth("relu", 0.1, 1.5) == pytest.approx(-1 / math.log(0.75), rel=1e-10)
    assert math.isinf(correlation_depth("relu", 0.0, 2.0))
    with pytest.raises(ValueError, match="diverges"):
        correlation_depth("relu", 0.1, 2.5)
    # Chaotic tanh: the two-input flow approaches its fixed correlation like exp(-l / xi), so the
    # ratio of successive steps of the correlation tends to exp(-1 / xi); measured on the quadrature flow.
    C_b, C_W = 0.05, 2.5
    xi = correlation_depth("tanh", C_b, C_W)
    K_star = float(fixed_point("tanh", C_b, C_W))
    flow = kernel_recursion("tanh", C_b, C_W, covariance(K_star, K_star, 0.9), 160)
    steps = torch.diff(flow[:, 0, 1] / flow[:, 0, 0])  # the nonlinear transient is gone by l = 160
    assert float(steps[-1] / steps[-2]) == pytest.approx(math.exp(-1 / xi), rel=1e-5)


@pytest.mark.parametrize(("activation", "coefficient"), [("tanh", 0.5), ("sin", 1.0)])
def test_critical_odd_kernels_decay_as_one_over_minus_sigma3_l(activation: str, coefficient: float) -> None:
    # sigma(z) = z + sigma_3 z^3 / 6: K' = K + sigma_3 K^2 + ..., so l K -> -1 / sigma_3 (tanh: sigma_3 = -2,
    # sin: -1), up to the logarithm (5/12 or 1/3) ln(l) / l < 0.3% at l = 1000 (formerly a notebook claim; a
    # halved K^2 coefficient, the cross term of the square dropped, would double l K).
    depth = 1000
    K = kernel_recursion(activation, 0.0, critical_C_W(activation), 1.0, depth)
    assert depth * float(K[-1]) == pytest.approx(coefficient, rel=0.01)


def test_k_star_zero_class_coefficient_a1_includes_the_quadratic_term() -> None:
    # sigma = tanh + tanh^2 / 2 has sigma_1 = 1, sigma_2 = 1, sigma_3 = -2: a_1 = sigma_3 / sigma_1 +
    # (3/4) (sigma_2 / sigma_1)^2 = -5/4, so l K -> 4/5 (the cubic term alone would give 1/2).
    def sigma(z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(z) + 0.5 * torch.tanh(z) ** 2

    depth = 4000
    K = kernel_recursion(sigma, 0.0, critical_C_W(sigma), 0.1, depth)
    assert depth * float(K[-1]) == pytest.approx(0.8, rel=0.02)


def test_softsign_is_not_a_one_over_l_member() -> None:
    # softsign = z - z|z| + ...: <sigma^2>_K = K - 4 sqrt(2/pi) K^(3/2) + O(K^2), so K^(-1/2) grows by
    # 2 sqrt(2/pi) per layer and l^2 K -> pi / 8, not a 1/l law.
    depth = 4000
    K = kernel_recursion(F.softsign, 0.0, 1.0, 1.0, depth)
    assert depth**2 * float(K[-1]) == pytest.approx(math.pi / 8, rel=0.03)


def test_critical_tanh_chi_perp_approaches_one_as_one_minus_one_over_l() -> None:
    # 1 - chi_perp = 2 K + O(K^2) with l K -> 1/2 (formerly a notebook claim; chi_parallel's 1 - 2/l is the rival).
    depth = 1000
    K = kernel_recursion("tanh", 0.0, critical_C_W("tanh"), 1.0, depth)
    assert depth * (1 - float(chi_perp("tanh", 1.0, K[-1]))) == pytest.approx(1.0, rel=0.01)


# ---------------------------------------------------------------------------------------------
# Finite width: the four-point vertex.


def test_vertex_closed_forms() -> None:
    n, depth = 50, 12
    layers = torch.arange(depth + 1, dtype=f64)
    assert torch.allclose(normalized_vertex("relu", 0.0, 2.0, 1.3, depth, n), 5 * layers / n, rtol=1e-12)
    assert torch.allclose(normalized_vertex("linear", 0.0, 1.0, 0.4, depth, n), 2 * layers / n, rtol=1e-12)
    shortcut, branch = 0.8, 0.5  # linear residual: V / K^2 grows by (4 s^2 g^2 + 2 g^4) / (s^2 + g^2)^2
    step = (4 * shortcut**2 * branch**2 + 2 * branch**4) / (shortcut**2 + branch**2) ** 2
    residual = normalized_vertex("linear", 0.0, 1.0, 1.0, depth, n, shortcut=shortcut, branch=branch)
    assert torch.allclose(residual, step * layers / n, rtol=1e-12)


def test_tanh_vertex_approaches_two_thirds_depth_over_width() -> None:
    # The K* = 0 class at criticality: K ~ 1 / (2 l) and V / (n K^2) ~ (2/3) l / n (Roberts, Yaida,
    # Hanin 2022, Sec. 5.4); the approach is slow (logarithmic corrections), so 2% at l = 400.
    depth = 400
    vertex = normalized_vertex("tanh", 0.0, 1.0, 1.0, depth, 1)
    assert float(vertex[-1] / depth) == pytest.approx(2 / 3, rel=0.02)
    assert float(kernel_recursion("tanh", 0.0, 1.0, 1.0, depth)[-1]) * depth == pytest.approx(0.5, rel=0.02)


def test_relu_kurtosis_monte_carlo_matches_exact_law() -> None:
    # At ReLU criticality with one input, E[z^4] / (3 K^2) = (1 + 5/n)^l exactly (each layer multiplies
    # the variance by (2/n) chi^2 with a binomial number of degrees of freedom). This checks the
    # sampler beyond leading order; 4 standard errors.
    n, depth = 32, 4
    measured = sample_preactivations("relu", 0.0, 2.0, 1.0, depth, n, 20000, torch.Generator().manual_seed(2))
    kurtosis = measured.excess_kurtosis()
    exact = torch.tensor([3 * ((1 + 5 / n) ** l - 1) for l in range(depth + 1)])
    assert ((kurtosis.value - exact).abs() <= 4 * kurtosis.stderr).all()
    leading = 3 * normalized_vertex("relu", 0.0, 2.0, 1.0, depth, n)
    assert float(leading[1]) == pytest.approx(float(exact[1]), rel=1e-12)  # exact at one layer


@pytest.mark.parametrize(
    ("activation", "C_b", "C_W", "shortcut", "branch"),
    [
        ("tanh", 0.0, 1.0, 0.0, 1.0),
        ("gelu", 0.5, 1.96, 0.0, 1.0),
        ("relu", 0.0, 2.0, 1.0, 0.3),
        ("silu", 0.3, 2.0, 0.8, 0.6),
    ],
)
def test_kurtosis_prediction_matches_monte_carlo(
    activation: str, C_b: float, C_W: float, shortcut: float, branch: float
) -> None:
    # Leading order: excess kurtosis = 3 V / (n K^2). The next order changes it by a relative
    # O(l / n) (for ReLU exactly (l - 1) 5 / (2n)); at l / n = 1/32 we allow 10% of the prediction
    # on top of 4 standard errors (about 0.003 with 20000 networks).
    n, depth = 256, 8
    predicted = 3 * normalized_vertex(activation, C_b, C_W, 1.0, depth, n, shortcut=shortcut, branch=branch)
    ensemble = sample_preactivations(
        activation, C_b, C_W, 1.0, depth, n, 20000, torch.Generator().manual_seed(3), shortcut=shortcut, branch=branch
    )
    kurtosis = ensemble.excess_kurtosis()
    error = (kurtosis.value.double() - predicted).abs()
    assert (error <= 4 * kurtosis.stderr.double() + 0.1 * predicted).all(), (kurtosis.value, predicted)


def test_residual_vertex_needs_the_memory_terms() -> None:
    # The naive closure V' = (s^2 + g^2 chi)^2 V + g^4 C_W^2 (<sigma^4> - <sigma^2>^2), which ignores that a
    # neuron remembers its past, is far below both the full prediction and the measurement.
    n, depth, shortcut, branch = 128, 10, 1.0, 0.3
    full = 3 * normalized_vertex("relu", 0.0, 2.0, 1.0, depth, n, shortcut=shortcut, branch=branch)[-1]
    naive = 3 * depth * (branch**4 * 5 / (1 + branch**2) ** 2) / n  # relu, C_W = 2: chi = 1, C_W^2 Var(sigma^2) = 5 K^2
    measured = sample_preactivations(
        "relu", 0.0, 2.0, 1.0, depth, n, 20000, torch.Generator().manual_seed(4), shortcut=shortcut, branch=branch
    ).excess_kurtosis()
    assert abs(float(measured.value[-1]) - float(full)) <= 4 * float(measured.stderr[-1]) + 0.1 * float(full)
    assert float(measured.value[-1]) > 5 * naive


def test_residual_closure_agrees_where_the_law_is_rotation_invariant() -> None:
    # eq-residual-closure and eq-residual-vertex coincide for the plain network and for linear residual networks.
    for activation, shortcut, branch in (("relu", 0.0, 1.0), ("tanh", 0.0, 1.0), ("linear", 0.8, 0.6)):
        kwargs = dict(shortcut=shortcut, branch=branch)
        closed = normalized_vertex(activation, 0.0, 1.0, 1.0, 12, 64, memory=False, **kwargs)
        assert torch.allclose(closed, normalized_vertex(activation, 0.0, 1.0, 1.0, 12, 64, **kwargs), rtol=1e-10, atol=0)
    # ... and differ for ReLU, whose own past skews a neuron: the closure is about half at gamma = 0.8, l = 8.
    full, closed = (normalized_vertex("relu", 0.0, 2.0, 1.0, 8, 128, shortcut=0.8, branch=0.6, memory=m)[-1] for m in (True, False))
    assert 0.4 < float(closed / full) < 0.7
    with pytest.raises(TypeError, match="memory"):
        normalized_vertex("relu", 0.0, 2.0, 1.0, 8, 128, memory=1)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Bad inputs.


def test_unknown_activation_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="activation.*relu.*silu"):
        kernel_recursion("swishy", 0.0, 1.0, 1.0, 3)
    with pytest.raises(TypeError, match="activation"):
        kernel_recursion(3, 0.0, 1.0, 1.0, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="slope"):
        get_activation("leaky_relu", slope=float("nan"))
    assert set(ACTIVATION_NAMES) >= {"relu", "tanh", "linear", "leaky_relu", "gelu", "silu", "sin"}


def test_bad_kernels_and_counts() -> None:
    with pytest.raises(ValueError, match="K"):
        gaussian_expectation(torch.tanh, -1.0)
    with pytest.raises(ValueError, match="K"):
        gaussian_expectation(lambda a, b: a * b, torch.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=f64))  # not PSD
    with pytest.raises(ValueError, match="K"):
        gaussian_expectation(lambda a, b: a * b, torch.eye(3, dtype=f64))
    with pytest.raises(ValueError, match="K0"):
        kernel_recursion("relu", 0.0, 2.0, -0.5, 3)
    with pytest.raises(ValueError, match="K0"):
        kernel_recursion("relu", 0.0, 2.0, torch.tensor([[1.0, 0.5], [0.2, 1.0]], dtype=f64), 3)  # not symmetric
    with pytest.raises(ValueError, match="depth"):
        kernel_recursion("relu", 0.0, 2.0, 1.0, -1)
    with pytest.raises(ValueError, match="C_W"):
        kernel_recursion("relu", 0.0, -2.0, 1.0, 3)
    with pytest.raises(ValueError, match="C_b"):
        fixed_point("tanh", -0.1, 1.0)
    with pytest.raises(ValueError, match="width"):
        normalized_vertex("relu", 0.0, 2.0, 1.0, 3, 0)
    with pytest.raises(ValueError, match="K0"):
        normalized_vertex("relu", 0.0, 2.0, torch.eye(2, dtype=f64), 3, 10)
    with pytest.raises(ValueError, match="K"):
        chi_perp("tanh", 1.0, -1.0)
    with pytest.raises(ValueError, match="x"):
        input_kernel(torch.ones(2, 3, 4), 0.0, 1.0)


def test_ntk_recursion_closed_form_for_critical_relu() -> None:
    from dltheory.rgflow import ntk_recursion

    # ReLU at C_W = 2, C_b = 0: K = K0 and chi_perp = 1 at every layer, so Theta^(l) = Theta^(0) + l (lambda_b + lambda_W K0 / 2).
    theta = ntk_recursion("relu", 0.0, 2.0, 1.4, 6, lambda_b=0.3, lambda_W=0.5)
    expected = 0.3 + 0.5 * 1.4 / 2 + torch.arange(7, dtype=torch.float64) * (0.3 + 0.5 * 1.4 / 2)
    assert torch.allclose(theta, expected, rtol=1e-12)


def test_ntk_recursion_matches_the_empirical_tangent_kernel() -> None:
    from dltheory.ensembles import random_mlp, tangent_kernel
    from dltheory.rgflow import ntk_recursion

    # One input, tanh, depth 3 plus a readout, width 256, 40 networks. The empirical NTK fluctuates by O(depth / width)
    # relative per network; the mean over 40 networks has a standard error of a few tenths of a percent and an O(1/n)
    # bias: 3% relative is safe and still rejects a missing term (each term is >= 15% of the total here).
    gen = torch.Generator().manual_seed(11)
    x = torch.randn(1, 20, generator=gen, dtype=torch.float64)
    C_b, C_W, depth, width = 0.1, 1.5, 3, 256
    values = []
    for _ in range(40):
        model = random_mlp("tanh", C_b, C_W, 20, width, depth, gen).double()
        values.append(tangent_kernel(model, x))
    K0 = C_b + C_W * float(x @ x.T) / 20
    predicted = float(ntk_recursion("tanh", C_b, C_W, K0, depth + 1)[-1])
    assert abs(sum(values) / len(values) / predicted - 1) < 0.03


def test_ntk_recursion_bad_inputs() -> None:
    from dltheory.rgflow import ntk_recursion

    with pytest.raises(ValueError, match="C_W"):
        ntk_recursion("relu", 0.0, 0.0, 1.0, 3)
    with pytest.raises(ValueError, match="K0"):
        ntk_recursion("relu", 0.5, 2.0, 0.1, 3)
    with pytest.raises(ValueError, match="lambda_b"):
        ntk_recursion("relu", 0.0, 2.0, 1.0, 3, lambda_b=-1.0)


def test_second_derivative_of_moment() -> None:
    # Closed forms: <z^2>'' = 0, <z^4>'' = 6 (as sigma = z^2), ReLU 0; tanh against central differences.
    assert float(second_derivative_of_moment(lambda z: z, 2.0)) == pytest.approx(0.0, abs=1e-12)
    assert float(second_derivative_of_moment(lambda z: z**2, 2.0)) == pytest.approx(6.0, rel=1e-12)
    assert float(second_derivative_of_moment("relu", 3.0)) == pytest.approx(0.0, abs=1e-12)
    K, h = 0.7, 1e-3
    moment = lambda k: gaussian_expectation(lambda z: torch.tanh(z) ** 2, k)  # noqa: E731
    difference = (moment(K + h) - 2 * moment(K) + moment(K - h)) / h**2  # error O(h^2) ~ 1e-6
    assert float(second_derivative_of_moment("tanh", K)) == pytest.approx(difference, rel=1e-5)
    with pytest.raises(ValueError, match="K"):
        second_derivative_of_moment("tanh", -1.0)


def test_mean_kernel_shift() -> None:
    # Exactly zero for the scale-invariant class (the mean variance follows the recursion at any width).
    assert float(mean_kernel_shift("relu", 0.0, 2.0, 1.0, 10, 8).abs().max()) < 1e-12
    assert float(mean_kernel_shift("relu", 0.5, 1.2, 1.0, 10, 8).abs().max()) < 1e-12
    # tanh at width 16, depth 6: the shift (about -4% of K) against 20000 networks, within four standard errors
    # plus the next order (l/n) |dK|.
    depth, width = 6, 16
    shift = mean_kernel_shift("tanh", 0.0, 1.0, 1.0, depth, width)
    K = kernel_recursion("tanh", 0.0, 1.0, 1.0, depth)
    assert float(shift[0]) == 0.0 and float(shift[-1]) < 0
    sample = sample_preactivations("tanh", 0.0, 1.0, 1.0, depth, width, 20000, torch.Generator().manual_seed(3))
    measured = sample.kernel()
    gap = abs(float(measured.value[-1] - K[-1] - shift[-1]))
    assert gap <= 4 * float(measured.stderr[-1]) + depth / width * abs(float(shift[-1]))
    assert abs(float(measured.value[-1] - K[-1])) > 2 * gap  # the shift is resolved: infinite width is further off


# ---------------------------------------------------------------------------------------------
# Beyond perturbation theory: the log-normal norm.


def test_relu_log_norm_matches_monte_carlo() -> None:
    from dltheory.rgflow import relu_log_norm

    n, depth, networks = 32, 16, 20000  # no layer without an active neuron: probability 2^-32 per layer
    X = sample_preactivations("relu", 0.0, 2.0, 1.0, depth, n, networks, torch.Generator().manual_seed(7)).second_moments.double()
    law = relu_log_norm(depth, n)
    log_X = X[-1].log()
    assert float(log_X.mean()) == pytest.approx(law.mean, abs=4 * math.sqrt(law.variance / networks))
    assert float(log_X.var()) == pytest.approx(law.variance, abs=4 * law.variance * math.sqrt(2 / networks))
    assert float((X[-1] < 0.5).double().mean()) == pytest.approx(law.probability_below(0.5), abs=4 * math.sqrt(0.25 / networks) + 0.01)


def test_relu_log_norm_limits_and_inputs() -> None:
    from dltheory.rgflow import relu_log_norm

    law = relu_log_norm(100, 2000)  # each layer: variance about 5/n, mean about -5/(2n)
    assert law.variance == pytest.approx(5 * 100 / 2000, rel=0.01)
    assert law.mean == pytest.approx(-2.5 * 100 / 2000, rel=0.02)
    assert relu_log_norm(0, 64).variance == pytest.approx(2 / 64, rel=0.02)  # the readout's chi^2_n / n alone
    with pytest.raises(ValueError, match="width"):
        relu_log_norm(4, 1)
    with pytest.raises(ValueError, match="depth"):
        relu_log_norm(-1, 8)
    with pytest.raises(ValueError, match="ratio"):
        law.probability_below(0.0)


def test_a1_coefficient() -> None:
    from dltheory.rgflow import a1_coefficient

    assert a1_coefficient("tanh") == pytest.approx(-2.0, rel=1e-12)
    assert a1_coefficient("sin") == pytest.approx(-1.0, rel=1e-12)
    assert a1_coefficient(torch.erf) == pytest.approx(-2.0, rel=1e-12)
    assert a1_coefficient("gelu") == pytest.approx(6 / math.pi, rel=1e-12)
    assert a1_coefficient("silu") == pytest.approx(0.75, rel=1e-12)
    assert a1_coefficient(lambda z: torch.tanh(z) + 0.5 * torch.tanh(z) ** 2) == pytest.approx(-1.25, rel=1e-12)
    with pytest.raises(ValueError, match="sigma\\(0\\) = 0.5"):
        a1_coefficient(torch.sigmoid)


def test_effective_aspect_ratio() -> None:
    from dltheory.rgflow import effective_aspect_ratio

    # the plain network is its own effective network; the ratio scales as 1 / width at leading order
    assert effective_aspect_ratio("relu", 0.0, 2.0, 1.0, 8, 128) == pytest.approx(8 / 128, rel=1e-12)
    assert effective_aspect_ratio("tanh", 0.0, 1.0, 1.0, 8, 64) == pytest.approx(8 / 64, rel=1e-9)
    relu = effective_aspect_ratio("relu", 0.0, 2.0, 1.0, 16, 128, shortcut=0.8, branch=0.6)
    assert 64 * effective_aspect_ratio("relu", 0.0, 2.0, 1.0, 16, 64, shortcut=0.8, branch=0.6) == pytest.approx(128 * relu, rel=1e-9)
    # the linear network: each layer adds 2 K^2 (branch^4 + 2 shortcut^2 branch^2) = 2 K^2 (1 - shortcut^4) to V
    for shortcut in (0.3, 0.8, 0.95):
        branch = math.sqrt(1 - shortcut**2)
        value = effective_aspect_ratio("linear", 0.0, 1.0, 1.0, 12, 32, shortcut=shortcut, branch=branch)
        assert value == pytest.approx((1 - shortcut**4) * 12 / 32, rel=1e-9)
    # ReLU's slope per layer c = 5 of the plain network: its effective depth is the trajectory sum over 5 / n
    vertex = normalized_vertex("relu", 0.0, 2.0, 1.0, 16, 128, shortcut=0.8, branch=0.6)[-1]
    assert relu == pytest.approx(float(vertex) / 5, rel=1e-9)
    with pytest.raises(ValueError, match="depth"):
        effective_aspect_ratio("relu", 0.0, 2.0, 1.0, 0, 128)
    with pytest.raises(ValueError, match="width"):
        effective_aspect_ratio("relu", 0.0, 2.0, 1.0, 4, 0)
