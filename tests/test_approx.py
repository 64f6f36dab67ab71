"""Tests of dltheory.approx: hand-built ReLU networks with exact errors, and exact piece counts."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dltheory.approx import (
    Power,
    YarotskyPolynomial,
    count_linear_pieces,
    expected_random_pieces,
    fit_relu_net,
    mean_abs_error,
    polynomial_error_bound,
    random_feature_least_squares,
    sawtooth_l1_lower_bound,
    grid_piece_count,
    hidden_widths,
    interpolation_error_bound,
    kac_rice_pieces,
    shifted_interpolation_error_bound,
    interpolation_net,
    linear_pieces,
    pieces_lower_bound,
    pieces_upper_bound,
    product_net,
    random_relu_net,
    sawtooth_net,
    sup_error,
    tent_map,
    yarotsky_square_net,
)

F64 = torch.float64


def only_linear_and_relu(net: nn.Module) -> bool:
    return isinstance(net, nn.Sequential) and all(type(layer) in (nn.Linear, nn.ReLU) for layer in net)


def dyadic_grid(level: int) -> torch.Tensor:
    """The 2^level + 1 points i / 2^level, all exact in float64."""
    return torch.arange(2**level + 1, dtype=F64) / 2**level


# ---------------------------------------------------------------- sawtooth


@pytest.mark.parametrize("k", range(9))
def test_sawtooth_has_exactly_two_to_the_k_pieces(k: int) -> None:
    net = sawtooth_net(k)
    assert only_linear_and_relu(net)
    assert all(p.dtype == F64 for p in net.parameters())
    assert count_linear_pieces(net, 0.0, 1.0) == 2**k


def test_sawtooth_is_the_composed_tent_map_exactly() -> None:
    x = dyadic_grid(12)
    value = x.clone()
    for k in range(9):
        with torch.no_grad():
            out = sawtooth_net(k)(x[:, None]).squeeze(-1)
        assert torch.equal(out, value), k  # dyadic inputs and power-of-two weights: no rounding at all
        value = tent_map(value)


def test_sawtooth_alternates_between_zero_and_one_at_its_breakpoints() -> None:
    k = 6
    x = dyadic_grid(k)
    with torch.no_grad():
        out = sawtooth_net(k)(x[:, None]).squeeze(-1)
    assert torch.equal(out, (torch.arange(2**k + 1) % 2).to(F64))
    pieces = linear_pieces(sawtooth_net(k), 0.0, 1.0)
    assert torch.equal(pieces.breakpoints, x)
    assert torch.equal(pieces.slopes.abs().squeeze(-1), torch.full((2**k,), 2.0**k, dtype=F64))


# ---------------------------------------------------------------- Yarotsky


@pytest.mark.parametrize("m", range(1, 9))
def test_yarotsky_square_error_is_exactly_two_to_the_minus_2m_minus_2(m: int) -> None:
    net = yarotsky_square_net(m)
    assert only_linear_and_relu(net)
    predicted = 2.0 ** (-2 * m - 2)
    # a grid of 2^(m+3) + 1 points contains the midpoints (2i + 1) / 2^(m+1) where the error peaks
    assert sup_error(net, lambda x: x**2, 0.0, 1.0, points=2 ** (m + 3) + 1) == pytest.approx(predicted, abs=1e-12)
    midpoints = (2 * torch.arange(2**m, dtype=F64) + 1) / 2 ** (m + 1)
    with torch.no_grad():
        at_midpoints = net(midpoints[:, None]).squeeze(-1) - midpoints**2
    assert torch.allclose(at_midpoints, torch.full_like(midpoints, predicted), rtol=0, atol=1e-12)
    assert count_linear_pieces(net, 0.0, 1.0) == 2**m


def test_yarotsky_square_is_the_interpolant_and_lies_above_the_square() -> None:
    m = 5
    knots = dyadic_grid(m)
    x = torch.rand(10_000, generator=torch.Generator().manual_seed(0), dtype=F64)
    with torch.no_grad():
        square = yarotsky_square_net(m)(x[:, None]).squeeze(-1)
        interpolant = interpolation_net(knots, knots**2)(x[:, None]).squeeze(-1)
    assert torch.allclose(square, interpolant, rtol=0, atol=1e-14)
    assert bool((square >= x**2 - 1e-15).all())


def test_yarotsky_error_quarters_with_each_layer() -> None:
    errors = [sup_error(yarotsky_square_net(m), lambda x: x**2, 0.0, 1.0, 2**10 + 1) for m in range(1, 7)]
    ratios = [errors[i] / errors[i + 1] for i in range(len(errors) - 1)]
    assert ratios == pytest.approx([4.0] * len(ratios), rel=1e-12)


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_product_net_error_lies_within_its_exact_bounds(m: int) -> None:
    net = product_net(m)
    assert only_linear_and_relu(net)
    # on the grid i / 2^(m+2) the bounds 2^(-2m-1) (above) and -2^(-2m-2) (below) are attained exactly
    g = dyadic_grid(m + 2)
    x, y = torch.meshgrid(g, g, indexing="ij")
    points = torch.stack([x.flatten(), y.flatten()], dim=1)
    random_points = torch.rand(20_000, 2, generator=torch.Generator().manual_seed(1), dtype=F64)
    with torch.no_grad():
        grid_error = net(points).squeeze(-1) - points.prod(dim=1)
        random_error = net(random_points).squeeze(-1) - random_points.prod(dim=1)
    upper, lower = 2.0 ** (-2 * m - 1), -(2.0 ** (-2 * m - 2))
    assert float(grid_error.max()) == pytest.approx(upper, abs=1e-12)
    assert float(grid_error.min()) == pytest.approx(lower, abs=1e-12)
    assert float(random_error.max()) <= upper + 1e-12
    assert float(random_error.min()) >= lower - 1e-12


def test_product_net_at_its_worst_point() -> None:
    m = 3
    with torch.no_grad():
        value = product_net(m)(torch.tensor([[0.0, 2.0**-m]], dtype=F64))
    assert float(value) == 2.0 ** (-2 * m - 1)  # the true product is 0


# ---------------------------------------------------------------- interpolation


def test_interpolation_net_passes_through_the_knots_and_meets_the_error_bound() -> None:
    n = 16
    knots = torch.linspace(0, math.pi, n + 1, dtype=F64)
    net = interpolation_net(knots, torch.sin(knots))
    assert only_linear_and_relu(net) and hidden_widths(net) == [n]
    with torch.no_grad():
        assert torch.allclose(net(knots[:, None]).squeeze(-1), torch.sin(knots), rtol=0, atol=1e-14)
    bound = interpolation_error_bound(math.pi / n, 1.0)  # |sin''| <= 1
    measured = sup_error(net, torch.sin, 0.0, math.pi, points=2**14 + 1)
    # near x = pi/2, |sin''| is within (h/2)^2/2 of 1, so the bound is nearly attained there
    assert bound * 0.98 <= measured <= bound


def test_interpolation_error_bound_is_exact_for_the_square() -> None:
    # f = x^2: M = 2, error h^2/4 at every midpoint
    h = 1 / 8
    assert interpolation_error_bound(h, 2.0) == h**2 / 4
    net = interpolation_net(dyadic_grid(3), dyadic_grid(3) ** 2)
    assert sup_error(net, lambda x: x**2, 0.0, 1.0, points=2**6 + 1) == pytest.approx(h**2 / 4, abs=1e-15)


# ---------------------------------------------------------------- counting pieces


@pytest.mark.parametrize("n", [1, 3, 8, 33])
def test_shifted_interpolant_of_the_square_has_error_one_over_8n2(n: int) -> None:
    # eq-shifted-error: the interpolant of x^2 on n equal pieces, moved down by h^2/8, errs by exactly h^2/8,
    # with equioscillation (+h^2/8 at the knots, -h^2/8 at the midpoints)
    h = 1 / n
    assert shifted_interpolation_error_bound(h, 2.0) == pytest.approx(1 / (8 * n * n), rel=1e-15)
    knots = torch.linspace(0, 1, n + 1, dtype=F64)
    net = interpolation_net(knots, knots**2 - h * h / 8)
    x = torch.linspace(0, 1, 64 * n + 1, dtype=F64)
    with torch.no_grad():
        error = net(x[:, None]).squeeze(-1) - x**2
    assert float(error.max()) == pytest.approx(h * h / 8, rel=1e-9)
    assert float(error.min()) == pytest.approx(-h * h / 8, rel=1e-9)
    with pytest.raises(ValueError, match="h must"):
        shifted_interpolation_error_bound(-1.0, 2.0)


@pytest.mark.parametrize("seed, widths", [(0, [8]), (1, [8, 8]), (2, [6, 6, 6]), (3, [10, 5]), (4, [4, 4, 4, 4])])
def test_count_matches_a_fine_grid_on_small_random_nets(seed: int, widths: list[int]) -> None:
    net = random_relu_net(widths, seed=seed)
    a, b, points = -2.0, 2.0, 2**17 + 1
    pieces = linear_pieces(net, a, b)
    # the grid sees every piece at least 3 cells long; check that the sweep's pieces all are, so that
    # a disagreement below is a counting error and not the grid's blindness
    cell = (b - a) / (points - 1)
    assert float(torch.diff(pieces.breakpoints).min()) > 3 * cell
    assert len(pieces) == grid_piece_count(net, a, b, points)
    assert len(pieces) <= pieces_upper_bound(widths)


def test_pieces_reproduce_the_network() -> None:
    net = random_relu_net([16, 16, 16], seed=5)
    pieces = linear_pieces(net, -3.0, 3.0)
    t = pieces.breakpoints
    inside = t[:-1, None] + torch.tensor([0.1, 0.5, 0.9], dtype=F64) * torch.diff(t)[:, None]
    with torch.no_grad():
        values = net(inside.reshape(-1, 1)).reshape(inside.shape)
    affine = pieces.slopes * inside + pieces.intercepts
    assert torch.allclose(values, affine, rtol=0, atol=1e-12)
    assert bool((pieces.slopes[1:] != pieces.slopes[:-1]).all())


def test_switching_units_that_cancel_add_no_pieces() -> None:
    # ReLU(x) - ReLU(x) + ReLU(x - 1/2): the kink at 0 is a candidate breakpoint but no true one
    net = nn.Sequential(nn.Linear(1, 3, dtype=F64), nn.ReLU(), nn.Linear(3, 1, bias=False, dtype=F64))
    with torch.no_grad():
        net[0].weight.copy_(torch.ones(3, 1))
        net[0].bias.copy_(torch.tensor([0.0, 0.0, -0.5]))
        net[2].weight.copy_(torch.tensor([[1.0, -1.0, 1.0]]))
    assert count_linear_pieces(net, -1.0, 1.0) == 2
    assert torch.equal(linear_pieces(net, -1.0, 1.0).breakpoints, torch.tensor([-1.0, 0.5, 1.0], dtype=F64))
    assert count_linear_pieces(nn.Sequential(nn.Linear(1, 1, dtype=F64)), -5.0, 5.0) == 1


def test_grid_count_misses_pieces_when_too_coarse() -> None:
    net = sawtooth_net(6)
    assert grid_piece_count(net, 0.0, 1.0, 2**10 + 1) == 64
    assert grid_piece_count(net, 0.0, 1.0, 2**5 + 1) < 64  # cells as long as the pieces


def test_region_bounds() -> None:
    assert pieces_upper_bound([64, 64, 64, 64]) == 65**4
    assert pieces_upper_bound([7]) == 8  # one hidden layer: n + 1
    assert pieces_lower_bound([7]) == 8
    assert pieces_lower_bound([2, 2, 2]) == 12
    for k in range(1, 8):
        widths = hidden_widths(sawtooth_net(k))
        assert widths == [2] * k
        assert count_linear_pieces(sawtooth_net(k), 0.0, 1.0) <= pieces_upper_bound(widths) == 3**k


def test_linear_pieces_follow_the_device_and_dtype() -> None:
    net = random_relu_net([8, 8], seed=0).float()
    pieces = linear_pieces(net, -1.0, 1.0)
    assert pieces.breakpoints.dtype == F64 and pieces.breakpoints.device == next(net.parameters()).device


# ---------------------------------------------------------------- bad inputs


@pytest.mark.parametrize("k", [-1, 1.5, True, "3"])
def test_sawtooth_rejects_bad_k(k: object) -> None:
    with pytest.raises(ValueError, match="k"):
        sawtooth_net(k)  # type: ignore[arg-type]


@pytest.mark.parametrize("m", [0, -2, 2.0])
def test_square_and_product_reject_bad_m(m: object) -> None:
    with pytest.raises(ValueError, match="m must"):
        yarotsky_square_net(m)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="m must"):
        product_net(m)  # type: ignore[arg-type]


@pytest.mark.parametrize("a, b", [(1.0, 0.0), (0.5, 0.5), (0.0, math.inf)])
def test_count_rejects_bad_interval(a: float, b: float) -> None:
    with pytest.raises(ValueError, match="a|b"):
        count_linear_pieces(sawtooth_net(2), a, b)


@pytest.mark.parametrize(
    "net",
    [
        nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1)),
        nn.Sequential(nn.Linear(1, 4), nn.LeakyReLU(), nn.Linear(4, 1)),
        nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1)),
        nn.Sequential(nn.Sequential(nn.Linear(1, 1))),
        nn.Sequential(),
        nn.Linear(1, 1),
    ],
)
def test_count_rejects_other_networks(net: nn.Module) -> None:
    with pytest.raises(ValueError, match="net"):
        count_linear_pieces(net, 0.0, 1.0)


def test_other_bad_inputs() -> None:
    with pytest.raises(ValueError, match="knots"):
        interpolation_net(torch.tensor([0.0, 0.0, 1.0]), torch.zeros(3))
    with pytest.raises(ValueError, match="values"):
        interpolation_net(torch.tensor([0.0, 1.0]), torch.zeros(3))
    with pytest.raises(ValueError, match="h"):
        interpolation_error_bound(-0.1, 1.0)
    with pytest.raises(ValueError, match="widths"):
        pieces_upper_bound([])
    with pytest.raises(ValueError, match="widths"):
        pieces_lower_bound([4, 0])
    with pytest.raises(ValueError, match="points"):
        sup_error(sawtooth_net(1), torch.sin, 0.0, 1.0, points=1)
    with pytest.raises(ValueError, match="rtol"):
        linear_pieces(sawtooth_net(1), 0.0, 1.0, rtol=-1.0)


# ---------------------------------------------------------------- helpers of the chapter's notebooks


def test_power_features_give_exactly_the_best_polynomial() -> None:
    # A network with activation u^3 is a cubic, and with >= 4 generic units it spans all cubics, so its
    # least-squares fit is the least-squares cubic: equal up to the round-off of the two solvers.
    x = torch.linspace(-1, 1, 401, dtype=F64)
    y = torch.sin(3 * x)
    net = random_feature_least_squares(x, y, 12, Power(3), seed=1)
    with torch.no_grad():
        fitted = net(x[:, None]).squeeze(-1)
    vander = torch.stack([x**j for j in range(4)], dim=1)
    cubic = vander @ torch.linalg.lstsq(vander, y[:, None]).solution.squeeze(-1)
    assert torch.allclose(fitted, cubic, atol=1e-9)


def test_relu_features_interpolate_better_with_width() -> None:
    x = torch.linspace(0, 1, 501, dtype=F64)
    y = torch.cos(5 * x)
    errors = [sup_error(random_feature_least_squares(x, y, n, nn.ReLU(), seed=0), lambda t: torch.cos(5 * t), 0.0, 1.0, 501)
              for n in (8, 64)]
    assert errors[1] < errors[0] / 10  # pieces ~ n, error ~ n^-2: a factor ~64 expected, 10 is safe


def test_random_feature_least_squares_rejects_bad_inputs() -> None:
    x = torch.linspace(0, 1, 10, dtype=F64)
    with pytest.raises(ValueError, match="width"):
        random_feature_least_squares(x, x, 0, nn.ReLU())
    with pytest.raises(ValueError, match="scale"):
        random_feature_least_squares(x, x, 3, nn.ReLU(), scale=-1.0)
    with pytest.raises(TypeError, match="activation"):
        random_feature_least_squares(x, x, 3, torch.relu)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="x and y"):
        random_feature_least_squares(x, x[:5], 3, nn.ReLU())
    with pytest.raises(ValueError, match="p must"):
        Power(0)


def test_mean_abs_error_of_a_constant_against_the_identity() -> None:
    net = interpolation_net(torch.tensor([0.0, 1.0], dtype=F64), torch.tensor([0.5, 0.5], dtype=F64))
    # mean of |0.5 - x| on a symmetric grid of 2^10 + 1 points: exactly 1/4 + 1/(4N) (grid bias).
    n = 2**10 + 1
    assert mean_abs_error(net, lambda x: x, 0.0, 1.0, n) == pytest.approx(0.25 + 0.25 / n, rel=1e-12)
    with pytest.raises(ValueError, match="points"):
        mean_abs_error(net, lambda x: x, 0.0, 1.0, 1)


def test_sawtooth_l1_bound_is_met_by_the_best_constant_and_never_beaten() -> None:
    # The constant 1/2 (one piece) has L1 error exactly 1/4 against every sawtooth: the bound is tight there.
    half = interpolation_net(torch.tensor([0.0, 1.0], dtype=F64), torch.tensor([0.5, 0.5], dtype=F64))
    for k in (1, 3, 5):
        saw = sawtooth_net(k)
        error = mean_abs_error(half, lambda x: saw(x[:, None]).squeeze(-1), 0.0, 1.0, 2**14 + 1)
        assert error == pytest.approx(sawtooth_l1_lower_bound(k, 1), abs=1e-4)  # grid bias O(2^k / N)
    # the sawtooth itself has 2^k pieces and error 0; the bound must allow it
    assert sawtooth_l1_lower_bound(4, 16) == 0.0
    assert sawtooth_l1_lower_bound(6, 13) == pytest.approx((1 - 12 / 32) / 4)
    with pytest.raises(ValueError, match="pieces"):
        sawtooth_l1_lower_bound(3, 0)
    with pytest.raises(ValueError, match="k must"):
        sawtooth_l1_lower_bound(0, 3)


@pytest.mark.parametrize("m", [1, 3, 6])
def test_yarotsky_polynomial_meets_its_bound(m: int) -> None:
    coefficients = [0.5, -1.0, 2.0, -3.0, 1.5]
    net = YarotskyPolynomial(coefficients, m)
    error = sup_error(net, lambda x: sum(c * x**j for j, c in enumerate(coefficients)), 0.0, 1.0)
    assert error <= polynomial_error_bound(coefficients, m)
    assert error > polynomial_error_bound(coefficients, m) / 20  # the bound is not vacuous: within 20x


def test_yarotsky_polynomial_of_degree_two_is_the_square_net_exactly() -> None:
    x = dyadic_grid(8)[:, None]
    with torch.no_grad():
        assert torch.equal(YarotskyPolynomial([0.0, 0.0, 1.0], 4)(x)[:, 0] >= 0, torch.ones(257, dtype=torch.bool))
    assert polynomial_error_bound([1.0, 2.0], 3) == 0.0  # affine: exact
    assert polynomial_error_bound([0.0, 0.0, 0.0, -2.0], 2) == 2 * 2 * 2.0**-5
    with pytest.raises(ValueError, match="coefficients"):
        YarotskyPolynomial([], 2)
    with pytest.raises(ValueError, match="m must"):
        polynomial_error_bound([1.0], 0)


def test_fit_relu_net_reduces_the_loss() -> None:
    x = torch.linspace(0, 1, 64, dtype=F64)
    y = torch.abs(x - 0.3)
    net0 = random_relu_net([8, 8], seed=2)
    net = fit_relu_net(x, y, [8, 8], steps=300, seed=2)
    with torch.no_grad():
        before = ((net0(x[:, None]).squeeze(-1) - y) ** 2).mean()
        after = ((net(x[:, None]).squeeze(-1) - y) ** 2).mean()
    assert after < before / 10
    assert hidden_widths(net) == [8, 8]
    with pytest.raises(ValueError, match="lr"):
        fit_relu_net(x, y, [4], lr=0.0)
    with pytest.raises(ValueError, match="x must"):
        fit_relu_net(x[:, None, None], y, [4])


def test_fit_relu_net_takes_d_inputs_and_leaves_the_global_rng_alone() -> None:
    from dltheory.rates import barron_target, uniform_ball

    x = uniform_ball(200, 2, seed=0)
    y = barron_target(2, seed=0)(x)
    state = torch.get_rng_state()
    net = fit_relu_net(x, y, [32], steps=200, seed=0)
    assert torch.equal(state, torch.get_rng_state())
    assert net[0].in_features == 2
    with torch.no_grad():
        mse = float(((net(x).squeeze(-1) - y) ** 2).mean())
    assert mse < 0.05 * float(y.var())
    same = fit_relu_net(x, y, [32], steps=200, seed=0)
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), same.parameters()))
    with pytest.raises(ValueError, match="x must"):
        fit_relu_net(x, y[:-1], [4])
    with pytest.raises(ValueError, match="inputs"):
        random_relu_net([4], inputs=0)


def test_expected_random_pieces_matches_the_kinks_of_random_weights() -> None:
    # Closed form 1 + n P(a < -b/w < b) against the kinks of the weights random_relu_net draws (w ~ N(0, 2),
    # b ~ N(0, 1)), counted directly: 10^6 kinks give P to +-5e-4 (1 standard error), so 3e-3 is 6 of them.
    generator = torch.Generator().manual_seed(0)
    w = torch.randn(10**6, generator=generator, dtype=F64) * math.sqrt(2)
    b = torch.randn(10**6, generator=generator, dtype=F64)
    kinks = -b / w
    for a, c in ((-3.0, 3.0), (0.0, 1.0), (-1.0, 0.5)):
        inside = float(((kinks > a) & (kinks < c)).double().mean())
        assert expected_random_pieces(10, a, c) == pytest.approx(1 + 10 * inside, abs=3e-3 * 10)
    assert expected_random_pieces(32, -1e9, 1e9) == pytest.approx(33, abs=1e-6)  # every kink inside: the bound


def test_random_networks_never_exceed_the_upper_bound() -> None:
    # The theorem behind eq-region-upper, on the random shapes of the depth-separation notebook (an exact count).
    for widths in ([32], [16, 16], [8, 8, 8], [4, 4, 4, 4, 4]):
        for seed in range(5):
            assert count_linear_pieces(random_relu_net(widths, seed=seed), -3.0, 3.0) <= pieces_upper_bound(widths)


def test_expected_random_pieces_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="width"):
        expected_random_pieces(0, -1.0, 1.0)
    with pytest.raises(ValueError, match="a < b"):
        expected_random_pieces(4, 1.0, -1.0)


def test_kac_rice_pieces_is_the_cauchy_count_for_one_layer_and_matches_deep_counts() -> None:
    # one hidden layer: the first layer's density is the Cauchy density of the kinks, whatever the weights drawn
    net = random_relu_net([20], seed=0)
    assert kac_rice_pieces(net, -3.0, 3.0) == pytest.approx(expected_random_pieces(20, -3.0, 3.0), rel=1e-6)
    # deep networks: the mean of the exact counts over seeds agrees with the mean prediction (3 standard errors)
    diffs = torch.tensor([count_linear_pieces(n, -2.0, 2.0) - kac_rice_pieces(n, -2.0, 2.0, 2**11 + 1)
                          for n in (random_relu_net([12, 12, 12], seed=s) for s in range(40))], dtype=F64)
    assert abs(float(diffs.mean())) < 3 * float(diffs.std()) / math.sqrt(40) + 0.05
    with pytest.raises(ValueError, match="points"):
        kac_rice_pieces(net, -1.0, 1.0, points=2)

