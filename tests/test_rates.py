"""Tests of dltheory.rates: Barron-class targets, the Barron bound, ball sampling and rate fits."""

from __future__ import annotations

import math

import pytest
import torch

from dltheory.approx import fit_relu_net
from dltheory.rates import BarronTarget, barron_bound, barron_target, shallow_relu_net, uniform_ball
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
