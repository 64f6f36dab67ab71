"""Tests of dltheory.splines: random-feature ridge regression and its smoothing-spline limit."""

from __future__ import annotations

import pytest
import torch

import math

from dltheory.splines import (
    SkipReLUNet,
    cubic_spline_slope_variation,
    early_stopping_constant,
    fit_weight_decay,
    linear_spline_slope_variation,
    matching_spline_lambda,
    random_feature_gradient_descent,
    random_feature_ridge,
    smoothing_spline_reference,
    spline_lambda,
)

F64 = torch.float64


def noisy_data(n: int = 40, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = 2 * torch.rand(n, generator=generator, dtype=F64) - 1
    y = torch.sin(3 * x) + 0.3 * torch.randn(n, generator=generator, dtype=F64)
    return x, y


def sup_gap(f, g, x: torch.Tensor) -> float:  # type: ignore[no-untyped-def]
    grid = torch.linspace(float(x.min()), float(x.max()), 2001, dtype=F64)
    return float((f(grid) - g(grid)).abs().max())


def test_closed_form_solves_the_ridge_problem() -> None:
    # first-order conditions of sum (f - y)^2 + ridge |w|^2: Φ^T r + ridge w = 0 and [1, x]^T r = 0
    x, y = noisy_data()
    ridge = 0.5
    fit = random_feature_ridge(x, y, width=300, ridge=ridge, seed=3)
    residual = fit(x) - y
    phi = torch.relu(fit.signs * (x[:, None] - fit.kinks))
    assert torch.allclose(fit(x), fit.intercept + fit.slope * x + phi @ fit.weights, rtol=0, atol=1e-12)
    assert torch.allclose(phi.T @ residual, -ridge * fit.weights, rtol=0, atol=1e-9)
    assert float(residual.sum().abs()) < 1e-9 and float((x * residual).sum().abs()) < 1e-9
    assert fit.width == 300 and bool((fit.kinks >= x.min()).all() and (fit.kinks <= x.max()).all())


def test_evaluation_by_cumulative_sums_matches_the_direct_sum() -> None:
    x, y = noisy_data()
    fit = random_feature_ridge(x, y, width=2_000, ridge=3.0, seed=1)
    grid = torch.linspace(-1.5, 1.5, 301, dtype=F64)  # inside and outside the data
    direct = fit.intercept + fit.slope * grid + torch.relu(fit.signs * (grid[:, None] - fit.kinks)) @ fit.weights
    assert torch.allclose(fit(grid), direct, rtol=0, atol=1e-12)


def test_wide_random_features_converge_to_the_smoothing_spline_at_rate_one_over_sqrt_width() -> None:
    x, y = noisy_data()
    ridge_per_unit = 1e-2  # ridge grows with the width so that the spline's λ stays fixed
    gaps = {}
    for width in (1_000, 100_000):
        ridge = ridge_per_unit * width
        spline = smoothing_spline_reference(x, y, spline_lambda(ridge, width, float(x.max() - x.min())))
        # averaged over 3 draws of the features: the gap is a Monte Carlo error, and one draw fluctuates
        gaps[width] = sum(sup_gap(random_feature_ridge(x, y, width, ridge, seed=s), spline, x) for s in range(3)) / 3
    assert gaps[100_000] < 2e-3  # a function of size ~1: the limit is reached
    # predicted ratio sqrt(100) = 10; the spread of the 3-draw averages is about ±50% at these widths
    assert 5 < gaps[1_000] / gaps[100_000] < 20


def test_the_lambda_mapping_is_the_one_that_matches() -> None:
    # at a large width the fit is much closer to the spline with λ = ridge L / n than with half or twice it
    x, y = noisy_data()
    width, ridge = 100_000, 1_000.0
    fit = random_feature_ridge(x, y, width, ridge, seed=0)
    right = sup_gap(fit, smoothing_spline_reference(x, y, spline_lambda(ridge, width, float(x.max() - x.min()))), x)
    for factor in (0.5, 2.0):
        wrong = sup_gap(fit, smoothing_spline_reference(x, y, factor * spline_lambda(ridge, width, float(x.max() - x.min()))), x)
        assert wrong > 10 * right


def test_spline_lambda_formula() -> None:
    assert spline_lambda(2.0, 1000, 3.0) == pytest.approx(6e-3, rel=1e-15)
    x, y = noisy_data()
    spline = smoothing_spline_reference(x, y, lam=spline_lambda(10.0, 500, float(x.max() - x.min())))
    assert spline.lam == pytest.approx(10.0 * float(x.max() - x.min()) / 500, rel=1e-15)


def test_bad_inputs() -> None:
    x, y = noisy_data()
    with pytest.raises(ValueError, match="width"):
        random_feature_ridge(x, y, width=0, ridge=1.0)
    with pytest.raises(ValueError, match="ridge"):
        random_feature_ridge(x, y, width=10, ridge=0.0)
    with pytest.raises(ValueError, match="y"):
        random_feature_ridge(x, y[:-1], width=10, ridge=1.0)
    with pytest.raises(ValueError, match="x"):
        random_feature_ridge(torch.ones(5, dtype=F64), torch.zeros(5, dtype=F64), width=10, ridge=1.0)
    with pytest.raises(ValueError, match="x"):
        smoothing_spline_reference(x[:4], y[:4], lam=1.0)
    with pytest.raises(ValueError, match="x"):
        smoothing_spline_reference(torch.cat([x, x[:1]]), torch.cat([y, y[:1]]), lam=1.0)
    with pytest.raises(ValueError, match="lam"):
        smoothing_spline_reference(x, y, lam=0.0)
    with pytest.raises(ValueError, match="length"):
        spline_lambda(1.0, 10, -1.0)


def test_matching_spline_lambda_recovers_the_lambda_of_a_spline() -> None:
    generator = torch.Generator().manual_seed(1)
    x = torch.sort(torch.rand(30, generator=generator, dtype=torch.float64)).values
    y = torch.sin(6 * x) + 0.1 * torch.randn(30, generator=generator, dtype=torch.float64)
    grid = torch.linspace(float(x.min()), float(x.max()), 501, dtype=torch.float64)
    reference = smoothing_spline_reference(x, y, 5e-3)
    found = matching_spline_lambda(x, y, reference, grid, guess=3 * reference.lam)
    assert found == pytest.approx(reference.lam, rel=1e-3)
    with pytest.raises(ValueError, match="span"):
        matching_spline_lambda(x, y, reference, grid, guess=1.0, span=1.0)
    with pytest.raises(ValueError, match="guess"):
        matching_spline_lambda(x, y, reference, grid, guess=-1.0)


def test_gradient_descent_path_is_gradient_descent_on_the_output_weights() -> None:
    # the kernel-trick iterates equal plain gradient steps on w with the affine part minimised at every step
    x, y = noisy_data(12)
    width, steps = 50, [0, 1, 7, 30]
    path = random_feature_gradient_descent(x, y, width, steps, lr=0.9, seed=4)
    units = random_feature_ridge(x, y, width, 1.0, seed=4)  # the same kinks and signs
    assert torch.equal(path.fits[0].kinks, units.kinks) and torch.equal(path.fits[0].signs, units.signs)
    phi = torch.relu(units.signs * (x[:, None] - units.kinks))
    affine = torch.stack([torch.ones_like(x), x], dim=1)
    projection = torch.eye(12, dtype=F64) - affine @ torch.linalg.pinv(affine)
    w = torch.zeros(width, dtype=F64)
    for t in range(steps[-1] + 1):
        if t in steps:
            fit = path.fits[steps.index(t)]
            assert torch.allclose(fit.weights, w, rtol=1e-9, atol=1e-12)
            assert torch.allclose(fit(x), phi @ w + affine @ torch.linalg.lstsq(affine, (y - phi @ w)[:, None]).solution[:, 0],
                                  atol=1e-10)
        w = w - path.eta * phi.T @ projection @ (phi @ w - y)
    assert path.steps == tuple(steps)


def test_gradient_descent_filters_the_spectrum_and_ends_at_the_interpolant() -> None:
    # on the data, P f_t = V (1 - (1 - eta mu)^t) V^T P y; as t grows the fit interpolates (N < n units)
    x, y = noisy_data(10)
    path = random_feature_gradient_descent(x, y, 400, [5, 200_000], lr=1.0, seed=0)
    units = path.fits[0]
    phi = torch.relu(units.signs * (x[:, None] - units.kinks))
    affine = torch.stack([torch.ones_like(x), x], dim=1)
    projection = torch.eye(10, dtype=F64) - affine @ torch.linalg.pinv(affine)
    mu, v = torch.linalg.eigh(projection @ phi @ phi.T @ projection)
    assert path.eta == pytest.approx(1 / float(mu.max()), rel=1e-12)
    filtered = v @ ((1 - (1 - path.eta * mu.clamp(min=0)) ** 5) * (v.T @ projection @ y))
    assert torch.allclose(projection @ path.fits[0](x), filtered, atol=1e-10)
    assert float((path.fits[1](x) - y).abs().max()) < 1e-6


def test_early_stopping_constant_minimises_the_log_uniform_mismatch() -> None:
    c = early_stopping_constant()
    s = torch.logspace(-12, 5, 200_001, dtype=F64)  # an independent Riemann sum over log s
    def mismatch(c: float) -> float:
        return float(((torch.exp(-s) - 1 / (1 + s / c)) ** 2).mean())
    assert 0.6 < c < 0.62
    assert mismatch(c) < mismatch(0.97 * c) and mismatch(c) < mismatch(1.03 * c)
    assert mismatch(c) < 0.5 * mismatch(1.0)  # the naive lambda = 1/(eta t) matches much worse


def test_gradient_descent_rejects_bad_inputs() -> None:
    x, y = noisy_data(10)
    with pytest.raises(ValueError, match="lr"):
        random_feature_gradient_descent(x, y, 10, [1], lr=2.0)
    with pytest.raises(ValueError, match="steps"):
        random_feature_gradient_descent(x, y, 10, [3, 3])
    with pytest.raises(ValueError, match="steps"):
        random_feature_gradient_descent(x, y, 10, [])
    with pytest.raises(ValueError, match="width"):
        random_feature_gradient_descent(x, y, 0, [1])
    assert math.isfinite(random_feature_gradient_descent(x, y, 10, [1]).eta)


def grid_slope_variation(f, lo: float, hi: float, points: int = 200_001) -> float:  # type: ignore[no-untyped-def]
    u = torch.linspace(lo, hi, points, dtype=F64)
    with torch.no_grad():
        slopes = torch.diff(f(u)) / torch.diff(u)
    return float(torch.diff(slopes).abs().sum())


def test_slope_variations_agree_with_the_grid() -> None:
    net = SkipReLUNet(12, seed=3)
    assert net.slope_variation(-1.0, 1.0) == pytest.approx(grid_slope_variation(net, -1.0, 1.0), rel=1e-4)
    assert net.weight_norm() >= net.slope_variation(-50.0, 50.0)  # 1/2 (a^2 + w^2) >= |a w|
    x, y = noisy_data(20)
    fit = random_feature_ridge(x, y, 300, 1.0, seed=1)
    lo, hi = float(x.min()), float(x.max())
    assert fit.slope_variation(lo, hi) == pytest.approx(grid_slope_variation(fit, lo, hi), rel=1e-4)


def test_linear_and_cubic_spline_slope_variations() -> None:
    x = torch.linspace(-1, 1, 7, dtype=F64)
    y = torch.tensor([0.0, 0.6, 0.2, -0.4, 0.1, 0.7, 0.3], dtype=F64)
    # chord slopes 1.8, -1.2, -1.8, 1.5, 1.8, -1.2: changes 3 + 0.6 + 3.3 + 0.3 + 3 = 10.2
    assert linear_spline_slope_variation(x, y) == pytest.approx(10.2, rel=1e-12)
    from scipy.interpolate import CubicSpline

    u = torch.linspace(-1, 1, 400_001, dtype=F64).numpy()
    curvature = CubicSpline(x.numpy(), y.numpy(), bc_type="natural")(u, 2)
    numeric = float((abs(curvature[1:]) + abs(curvature[:-1])).sum() / 2 * (u[1] - u[0]))
    assert cubic_spline_slope_variation(x, y) == pytest.approx(numeric, rel=1e-6)
    assert cubic_spline_slope_variation(x, y) > linear_spline_slope_variation(x, y)  # the linear spline is least


def test_fit_weight_decay_interpolates_with_the_least_slope_variation() -> None:
    x = torch.linspace(-1, 1, 6, dtype=F64)
    y = torch.tensor([0.0, 0.5, 0.1, 0.4, -0.2, 0.3], dtype=F64)
    net = fit_weight_decay(x, y, 32, 1e-4, steps=3000, seed=0)
    with torch.no_grad():
        assert float((net(x) - y).abs().max()) < 0.05
    assert net.slope_variation(-1.0, 1.0) == pytest.approx(linear_spline_slope_variation(x, y), rel=0.1)
    with pytest.raises(ValueError, match="weight_decay"):
        fit_weight_decay(x, y, 8, 0.0)
    with pytest.raises(ValueError, match="steps"):
        fit_weight_decay(x, y, 8, 1e-3, steps=0)
    with pytest.raises(ValueError, match="width"):
        SkipReLUNet(0)

