"""Tests of dltheory.rates: Barron-class targets, the Barron bound, ball sampling and rate fits."""

from __future__ import annotations

import math

import pytest
import torch

from dltheory.approx import fit_relu_net
from dltheory.rates import (BarronTarget, affine_residual, ball_projection, barron_bound, barron_target, cosine_ridge, maurey_constant,
                            maurey_squared_errors, maurey_unit_norm, random_feature_width_sweep, rms_rate,
                            shallow_relu_net, trained_width_sweep, uniform_ball)
from dltheory.scaling import loglog_slope

F64 = torch.float64


def test_barron_target_values_and_norm() -> None:
    target = BarronTarget(
        frequencies=torch.tensor([[3.0, 4.0], [0.0, 1.0]], dtype=F64),
        phases=torch.tensor([0.0, math.pi / 2], dtype=F64),
        amplitudes=torch.tensor([0.5, -2.0], dtype=F64),
    )
    assert target.barron_norm == pytest.approx(0.5 * 5 + 2.0 * 1, rel=1e-15)
    x = torch.tensor([[0.0, 0.0], [0.1, 0.2]], dtype=F64)
    expected = 0.5 * torch.cos(3 * x[:, 0] + 4 * x[:, 1]) - 2.0 * torch.cos(x[:, 1] + math.pi / 2)
    assert torch.allclose(target(x), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("d", [1, 4, 64])
def test_random_barron_target_is_bounded_with_a_norm_independent_of_d(d: int) -> None:
    target = barron_target(d, terms=200, seed=1)
    # |ω|^2 (d/4) is chi-square with d degrees of freedom: E|ω| -> 2, and the average of 200 terms
    # lies within 2 * 3 sd / sqrt(200) of its mean (sd of |ω| is at most sqrt(2))
    expected = 2 * math.sqrt(2 / d) * math.gamma((d + 1) / 2) / math.gamma(d / 2)
    assert abs(target.barron_norm - expected) < 3 * math.sqrt(2) / math.sqrt(200)
    assert float(target(uniform_ball(1000, d, seed=2)).abs().max()) <= 1.0


def test_barron_bound() -> None:
    assert barron_bound(2.0, 1.0, 8) == pytest.approx(2.0, rel=1e-15)  # 2 * 1 * 2 / sqrt(4)
    assert barron_bound(2.0, 1.0, 9) == barron_bound(2.0, 1.0, 8)  # an odd unit makes no extra ramp


def test_uniform_ball() -> None:
    d, n = 3, 20_000
    points = uniform_ball(n, d, radius=2.0, seed=0)
    norms = torch.linalg.vector_norm(points, dim=1)
    assert points.shape == (n, d) and float(norms.max()) <= 2.0
    # P(|x| < r/2) = 2^-d = 1/8; binomial sd sqrt(p(1-p)/n) = 0.0023, allow 4 sd
    assert abs(float((norms < 1.0).double().mean()) - 1 / 8) < 4 * math.sqrt(1 / 8 * 7 / 8 / n)


def test_shallow_relu_net_is_pytorchs_default_and_a_start_for_fit_relu_net() -> None:
    state = torch.get_rng_state()
    net = shallow_relu_net(8, 16, seed=3)
    assert torch.equal(state, torch.get_rng_state())
    assert net[0].weight.dtype == F64 and net[0].weight.shape == (16, 8)
    assert float(net[0].weight.detach().abs().max()) <= 1 / math.sqrt(8)  # uniform on [-1/sqrt(fan_in), 1/sqrt(fan_in)]
    assert float(net[2].weight.detach().abs().max()) <= 1 / math.sqrt(16)
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), shallow_relu_net(8, 16, seed=3).parameters()))
    x = uniform_ball(200, 8, seed=0)
    y = barron_target(8, terms=1, seed=0)(x)
    before = [p.clone() for p in net.parameters()]
    fitted = fit_relu_net(x, y, [16], steps=200, start=net)
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), before))  # the start is copied
    with torch.no_grad():
        assert float(((fitted(x).squeeze(-1) - y) ** 2).mean()) < 0.1 * float(y.var())
    with pytest.raises(ValueError, match="start"):
        fit_relu_net(x, y, [8], start=net)
    with pytest.raises(ValueError, match="width"):
        shallow_relu_net(8, 0)


def test_loglog_slope_recovers_a_power_law() -> None:
    sizes = [4, 8, 16, 32, 64]
    assert loglog_slope(sizes, [3.0 * n**-0.5 for n in sizes]) == pytest.approx(-0.5, abs=1e-12)
    two_points = loglog_slope(torch.tensor([1.0, 10.0], dtype=F64), torch.tensor([1.0, 0.01], dtype=F64))
    assert two_points == pytest.approx(-2.0, abs=1e-12)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="d must"):
        barron_target(0)
    with pytest.raises(ValueError, match="x must"):
        barron_target(3)(torch.zeros(4, 2, dtype=F64))
    with pytest.raises(ValueError, match="width"):
        barron_bound(1.0, 1.0, 1)
    with pytest.raises(ValueError, match="radius"):
        uniform_ball(10, 2, radius=0.0)
    with pytest.raises(ValueError, match="positive"):
        loglog_slope([1, 2], [1.0, 0.0])
    with pytest.raises(ValueError, match="same length"):
        loglog_slope([1, 2, 3], [1.0, 0.5])


@pytest.mark.parametrize("d, sides", [(1, [4, 8, 16, 32, 64]), (2, [4, 8, 16, 32, 64]), (3, [2, 4, 8, 16])])
def test_cell_by_cell_error_of_a_lipschitz_target_is_h_over_sqrt12(d: int, sides: list[int]) -> None:
    # Chapter 3, Sec. "Rates and dimension", the classical baseline of the text (an identity, not a claim): the value
    # of f(x) = ||x - c|| at the centre of each of n = m^d cells errs by grad f . (x - x_cell), uniform on a cube
    # of side h = 1/m, so the RMS error is h / sqrt(12) up to the cells near c, and the slope against n is -1/d.
    points = torch.rand(200_000, d, generator=torch.Generator().manual_seed(0), dtype=F64)
    c = torch.full((d,), 0.3, dtype=F64)
    f = lambda u: torch.linalg.vector_norm(u - c, dim=1)  # noqa: E731
    rms = [float((f(points) - f((torch.floor(points * m) + 0.5) / m)).pow(2).mean().sqrt()) for m in sides]
    for m, e in zip(sides, rms):
        assert e * m * math.sqrt(12) == pytest.approx(1.0, abs=0.05)  # cells near the kink: a fraction O(1/m)
    assert loglog_slope([m**d for m in sides], rms) == pytest.approx(-1 / d, abs=0.02)


# ---------------------------------------------------------------- Sec. "Barron, done properly"


def test_cosine_ridge_has_the_exact_norm_and_unit_direction() -> None:
    target = cosine_ridge(5, 1.5, phase=-math.pi / 2, seed=2)
    assert target.barron_norm == pytest.approx(1.5, rel=1e-14)
    x = uniform_ball(100, 5, seed=0)
    u = target.frequencies[0] / 1.5
    assert torch.allclose(target(x), torch.sin(1.5 * x @ u), atol=1e-14)


@pytest.mark.parametrize("d", [1, 3, 8])
def test_ball_projection_matches_sampling(d: int) -> None:
    law = ball_projection(d, radius=2.0)
    z = uniform_ball(40_000, d, radius=2.0, seed=1)[:, 0].numpy()
    assert law.var() == pytest.approx(4.0 / (d + 2), rel=1e-12)  # E x_1^2 = r^2 / (d + 2)
    for q in (-1.0, 0.3, 1.2):  # the distribution function against the sample's, within 4 binomial standard errors
        p = float(law.cdf(q))
        assert abs(float((z <= q).mean()) - p) < 4 * math.sqrt(p * (1 - p) / z.size)


def test_maurey_constant_for_a_monotone_profile_in_closed_form() -> None:
    # sin(w z) with w < π/2 is monotone on [-1, 1]: V = 2 sin w, E||φ||^2 = V^2 / 2 for a symmetric law,
    # ||g - g(-1)||^2 = E sin^2(w z) + sin^2 w; in d = 1 the law of z is uniform: E sin^2(w z) = 1/2 - sin(2w)/(4w)
    w = 1.2
    target = cosine_ridge(1, w, phase=-math.pi / 2)
    expected = 2 * math.sin(w) ** 2 - (0.5 - math.sin(2 * w) / (4 * w) + math.sin(w) ** 2)
    assert maurey_unit_norm(target) == pytest.approx(2 * math.sin(w) ** 2, rel=1e-9)
    assert maurey_constant(target) == pytest.approx(expected, rel=1e-9)


def test_maurey_squared_errors_have_the_lemmas_mean() -> None:
    target = cosine_ridge(3, 2.0, phase=0.3, seed=1)
    errors = 8 * maurey_squared_errors(target, 8, draws=4000, points=200, seed=0)
    se = float(errors.std()) / math.sqrt(errors.numel())
    assert abs(float(errors.mean()) - maurey_constant(target)) < 4 * se
    assert abs(float(errors.mean()) - maurey_unit_norm(target)) > 10 * se  # the mean term is visible


def test_rms_rate_recovers_a_known_slope() -> None:
    widths = [4, 16, 64]
    generator = torch.Generator().manual_seed(0)
    errors = [n ** -1.0 * (1 + 0.1 * torch.randn(500, generator=generator, dtype=F64)) for n in widths]
    slope, se = rms_rate(widths, errors)
    assert slope == pytest.approx(-0.5, abs=4 * se)
    assert 0 < se < 0.01


def test_width_sweeps_fit_a_ridge_function() -> None:
    target = cosine_ridge(2, 1.0, phase=-math.pi / 2, seed=0)
    spread = float(target(uniform_ball(20_000, 2, seed=9)).std())
    trained = trained_width_sweep(target, [4, 32], seeds=2, steps=150, batch=64)
    fixed = random_feature_width_sweep(target, [4, 32], seeds=2, samples=500)
    for sweep in (trained, fixed):
        assert sweep.errors.shape == (2, 2)
        assert float(sweep.mean()[-1]) < 0.2 * spread  # both learn the target, far better than a constant
        assert sweep.slopes().shape == (2,)
    assert float(fixed.mean()[-1]) < float(fixed.mean()[0])  # more random features help


def test_barron_done_properly_bad_inputs() -> None:
    with pytest.raises(ValueError, match="frequency_norm"):
        cosine_ridge(2, 0.0)
    with pytest.raises(ValueError, match="one term"):
        maurey_constant(barron_target(2, terms=3))
    with pytest.raises(ValueError, match="width"):
        maurey_squared_errors(cosine_ridge(2, 1.0), 0, draws=2)
    with pytest.raises(ValueError, match="same length"):
        rms_rate([4, 16], [torch.ones(3)])
    with pytest.raises(ValueError, match="seeds"):
        trained_width_sweep(cosine_ridge(2, 1.0), [4, 8], seeds=1)
    with pytest.raises(ValueError, match="widths"):
        random_feature_width_sweep(cosine_ridge(2, 1.0), [4])


def test_affine_residual_matches_least_squares_on_the_ball() -> None:
    target = cosine_ridge(5, 3.0, phase=-0.4, seed=2)
    x = uniform_ball(200_000, 5, seed=1)
    y = target(x)
    features = torch.cat([torch.ones(len(x), 1, dtype=x.dtype), x], dim=1)
    fit = torch.linalg.lstsq(features, y.unsqueeze(1)).solution
    residual = float((y - (features @ fit).squeeze(1)).pow(2).mean().sqrt())
    assert affine_residual(target) == pytest.approx(residual, rel=1e-2)
    assert affine_residual(cosine_ridge(5, 1e-3, phase=-math.pi / 2)) < 1e-6  # sin of a small argument is linear
    with pytest.raises(ValueError, match="radius"):
        affine_residual(target, radius=0.0)
