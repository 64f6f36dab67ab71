"""Chapter 0: gradient descent on a quadratic against its exact theory."""

from __future__ import annotations

import math

import pytest
import torch

from dltheory.quadratic import (Quadratic, gd_rate, gradient_descent, max_stable_step, measured_rate,
                                optimal_rate, optimal_step, random_quadratic, steps_to_reach)


@pytest.fixture
def q() -> Quadratic:
    return random_quadratic(n=10, lambda_min=2.0, lambda_max=20.0, seed=4)


def test_random_quadratic_has_the_asked_spectrum(q: Quadratic) -> None:
    assert q.lambda_min == pytest.approx(2.0) and q.lambda_max == pytest.approx(20.0)
    assert q.condition_number == pytest.approx(10.0)
    assert torch.allclose(q.gradient(q.minimizer), torch.zeros(10, dtype=torch.float64), atol=1e-12)


def test_error_follows_the_eigen_decomposition_exactly(q: Quadratic) -> None:
    eta, steps = 0.07, 25
    lam, V = torch.linalg.eigh(q.A)
    c = V.T @ (torch.zeros(10, dtype=torch.float64) - q.minimizer)
    predicted = torch.stack([torch.linalg.vector_norm((1 - eta * lam) ** k * c) for k in range(steps + 1)])
    assert torch.allclose(gradient_descent(q, eta, steps).errors, predicted, rtol=1e-10)


def test_measured_rate_matches_the_slowest_direction(q: Quadratic) -> None:
    eta = 1 / q.lambda_max
    rate = measured_rate(gradient_descent(q, eta, 300).errors, skip=100)
    assert rate == pytest.approx(gd_rate(eta, q.eigenvalues), rel=1e-6)
    assert gd_rate(eta, q.eigenvalues) == pytest.approx(1 - 1 / q.condition_number)


def test_divergence_beyond_the_step_limit(q: Quadratic) -> None:
    eta = 1.05 * max_stable_step(q)
    errors = gradient_descent(q, eta, 100).errors
    assert errors[-1] > errors[0] and gd_rate(eta, q.eigenvalues) > 1


def test_optimal_step_balances_the_ends(q: Quadratic) -> None:
    eta = optimal_step(q)
    assert gd_rate(eta, q.eigenvalues) == pytest.approx(optimal_rate(q.condition_number))
    for other in (0.9 * eta, 1.1 * eta):
        assert gd_rate(other, q.eigenvalues) > gd_rate(eta, q.eigenvalues)


def test_steps_to_reach_is_the_exact_bound() -> None:
    assert steps_to_reach(0.5, 1e-3) == 10  # 0.5**10 < 1e-3 < 0.5**9
    assert 0.9 ** steps_to_reach(0.9, 1e-6) <= 1e-6 < 0.9 ** (steps_to_reach(0.9, 1e-6) - 1)


def test_fit_stops_at_the_round_off_floor() -> None:
    errors = torch.tensor([0.5**k for k in range(60)], dtype=torch.float64)
    errors[40:] = 1e-300  # a plateau of round-off after the floor must not bend the fit
    assert measured_rate(errors, skip=0, floor=1e-10) == pytest.approx(0.5, rel=1e-12)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: random_quadratic(1, 1.0, 2.0), "n must"),
        (lambda: random_quadratic(3, 0.0, 2.0), "lambda_min"),
        (lambda: random_quadratic(3, 3.0, 2.0), "lambda_min"),
        (lambda: Quadratic(torch.eye(2, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)), "b must"),
        (lambda: Quadratic(torch.tensor([[1.0, 2.0], [0.0, 1.0]], dtype=torch.float64),
                           torch.zeros(2, dtype=torch.float64)), "symmetric"),
        (lambda: Quadratic(-torch.eye(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)),
         "positive definite"),
        (lambda: gradient_descent(random_quadratic(3, 1.0, 2.0), 0.0, 5), "eta"),
        (lambda: gradient_descent(random_quadratic(3, 1.0, 2.0), 0.1, -1), "steps"),
        (lambda: gradient_descent(random_quadratic(3, 1.0, 2.0), 0.1, 5, torch.zeros(4)), "x0"),
        (lambda: gd_rate(-1.0, torch.ones(2)), "eta"),
        (lambda: optimal_rate(0.5), "kappa"),
        (lambda: measured_rate(torch.ones(5), skip=-1), "skip"),
        (lambda: measured_rate(torch.tensor([1.0, 0.0, 0.0])), "at least two"),
        (lambda: steps_to_reach(1.0, 0.1), "rate"),
        (lambda: steps_to_reach(0.5, 2.0), "reduction"),
    ],
)
def test_bad_inputs_name_the_parameter(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_optimal_rate_formula() -> None:
    assert optimal_rate(1.0) == 0.0
    assert optimal_rate(9.0) == pytest.approx(0.8)
    assert math.isclose(optimal_rate(3.0), 0.5)
