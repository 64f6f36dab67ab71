"""Tests of dltheory.diagonal: exact identities, the two limits of the initialization scale, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import linprog

from dltheory.diagonal import implicit_bias_interpolator, implicit_bias_potential, train_diagonal


def _sparse_problem(n: int = 20, d: int = 40) -> tuple[torch.Tensor, torch.Tensor]:
    X = torch.randn(n, d, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    beta = torch.zeros(d, dtype=torch.float64)
    beta[:2] = torch.tensor([1.0, -1.0])
    return X, X @ beta


def test_zero_steps_start_at_beta_zero() -> None:
    X, y = _sparse_problem()
    run = train_diagonal(X, y, alpha=0.5, eta=0.01, steps=0)
    assert torch.equal(run.beta, torch.zeros(40, dtype=torch.float64))
    assert run.loss.shape == (1,) and run.loss[0].item() == pytest.approx(0.5 * float((y**2).mean()), rel=1e-15)


def test_width_k_equals_width_one_at_scale_alpha_sqrt_k() -> None:
    X, y = _sparse_problem()
    wide = train_diagonal(X, y, alpha=0.1, eta=0.02, steps=200, width=4)
    single = train_diagonal(X, y, alpha=0.2, eta=0.02, steps=200)
    # k copies stay equal, so sum_k u_k^2 = k u^2 = (sqrt(k) u)^2: the same dynamics exactly (round-off only).
    assert torch.allclose(wide.beta, single.beta, rtol=1e-10, atol=1e-12)


def test_small_alpha_finds_the_minimum_l1_interpolator() -> None:
    X, y = _sparse_problem()
    result = linprog(np.ones(80), A_eq=np.hstack([X.numpy(), -X.numpy()]), b_eq=y.numpy(), bounds=(0, None))
    l1 = torch.tensor(result.x[:40] - result.x[40:])
    run = train_diagonal(X, y, alpha=1e-3, eta=0.05, steps=3000)
    # The implicit bias tends to l1 as alpha -> 0 with an error of order alpha^2 log(1/alpha) per
    # coordinate plus the unfitted residual (loss ~1e-5 here): 3% of ||beta||.
    assert float((run.beta - l1).norm() / l1.norm()) < 0.03


def test_large_alpha_finds_the_minimum_l2_interpolator() -> None:
    X, y = _sparse_problem()
    l2 = torch.linalg.pinv(X) @ y
    lmax = float(torch.linalg.eigvalsh(X.T @ X / 20)[-1])
    run = train_diagonal(X, y, alpha=10.0, eta=0.5 / (400 * lmax), steps=8000)
    # alpha = 10 is lazy: beta moves by O(1/alpha^2) relative to the kernel solution.
    assert float((run.beta - l2).norm() / l2.norm()) < 1e-3


def test_sgd_is_reproducible_with_a_generator() -> None:
    X, y = _sparse_problem()
    first = train_diagonal(X, y, 0.3, 0.02, 100, batch_size=1, generator=torch.Generator().manual_seed(3))
    again = train_diagonal(X, y, 0.3, 0.02, 100, batch_size=1, generator=torch.Generator().manual_seed(3))
    other = train_diagonal(X, y, 0.3, 0.02, 100, batch_size=1, generator=torch.Generator().manual_seed(4))
    assert torch.equal(first.beta, again.beta) and not torch.equal(first.beta, other.beta)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"alpha": 0.0}, "alpha"),
        ({"eta": -1.0}, "eta"),
        ({"steps": -1}, "steps"),
        ({"width": 0}, "width"),
        ({"batch_size": 21}, "batch_size"),
        ({"y": torch.zeros(3, dtype=torch.float64)}, "y"),
        ({"X": torch.zeros(20, dtype=torch.float64)}, "X"),
    ],
)
def test_bad_inputs_name_the_parameter(kwargs: dict, name: str) -> None:
    X, y = _sparse_problem()
    arguments = {"X": X, "y": y, "alpha": 0.1, "eta": 0.01, "steps": 5} | kwargs
    with pytest.raises(ValueError, match=name):
        train_diagonal(**arguments)


def test_integer_inputs_raise_type_error() -> None:
    with pytest.raises(TypeError, match="X"):
        train_diagonal(torch.zeros(2, 2, dtype=torch.int64), torch.zeros(2), 0.1, 0.1, 1)


def test_implicit_bias_interpolator_is_where_small_step_gradient_descent_lands() -> None:
    # Woodworth et al. (2020), Theorem 1: gradient flow from alpha ends at argmin Q_alpha; a small step is close to
    # the flow (the discrete bias is first order in the step).
    X, y = _sparse_problem()
    beta = implicit_bias_interpolator(X, y, 0.3)
    assert float((X @ beta - y).norm()) < 1e-10
    run = train_diagonal(X, y, alpha=0.3, eta=0.01, steps=8000)
    assert float((run.beta - beta).norm() / beta.norm()) < 5e-3


def test_implicit_bias_interpolator_limits_and_width() -> None:
    X, y = _sparse_problem()
    lp = linprog(np.ones(80), A_eq=np.hstack([X.numpy(), -X.numpy()]), b_eq=y.numpy(), bounds=(0, None))
    beta_l1, beta_l2 = torch.tensor(lp.x[:40] - lp.x[40:]), torch.linalg.pinv(X) @ y
    relative = lambda beta, target: float((beta - target).norm() / target.norm())
    assert relative(implicit_bias_interpolator(X, y, 1e-4), beta_l1) < 1e-3
    # the lazy side departs from l2 at the relative order beta^2 / (48 alpha^4) of the quartic term of q
    assert relative(implicit_bias_interpolator(X, y, 10.0), beta_l2) < 1e-5
    wide = implicit_bias_interpolator(X, y, 0.2, width=4)
    assert torch.allclose(wide, implicit_bias_interpolator(X, y, 0.4), atol=1e-12)


def test_implicit_bias_interpolator_rejects_bad_inputs() -> None:
    X, y = _sparse_problem()
    with pytest.raises(ValueError, match="alpha"):
        implicit_bias_interpolator(X, y, 0.0)
    with pytest.raises(ValueError, match="width"):
        implicit_bias_interpolator(X, y, 0.3, width=0)


def test_potential_has_the_two_limits_of_the_text() -> None:
    beta = torch.tensor([1.0, -2.0, 0.5, 0.0], dtype=torch.float64)
    # large alpha: sum beta^2 / (4 alpha^2) - beta^4 / (192 alpha^6); the next term is (beta^2 / alpha^4)^2 ~ 2e-7
    # relative, while the quartic term itself is beta^2 / (48 alpha^4) ~ 7e-6 relative: dropping it must show
    alpha = 10.0
    quadratic = float((beta**2).sum()) / (4 * alpha**2)
    quartic = float((beta**4).sum()) / (192 * alpha**6)
    Q = implicit_bias_potential(beta, alpha)
    assert abs(Q - (quadratic - quartic)) < 1e-6 * quadratic < abs(Q - quadratic)
    assert implicit_bias_potential(beta, alpha / 2, width=4) == pytest.approx(Q, rel=1e-14)
    # small alpha: ||beta||_1 log(1/alpha^2) + sum |beta| (log |beta| - 1), up to O(alpha^2)
    alpha = 1e-4
    b = beta.abs()[beta != 0]
    expansion = float(b.sum()) * np.log(1 / alpha**2) + float((b * (torch.log(b) - 1)).sum())
    assert implicit_bias_potential(beta, alpha) == pytest.approx(expansion, abs=1e-6)


def test_interpolator_minimizes_the_potential_on_the_constraint_set() -> None:
    X, y = _sparse_problem(n=6, d=10)
    for alpha in (0.05, 0.5, 3.0):
        beta = implicit_bias_interpolator(X, y, alpha)
        null = torch.linalg.svd(X).Vh[6:]  # directions that keep X beta = y
        best = implicit_bias_potential(beta, alpha)
        for v in null:
            for t in (1e-3, -1e-3):
                assert implicit_bias_potential(beta + t * v, alpha) > best


def test_potential_rejects_bad_inputs() -> None:
    with pytest.raises(TypeError, match="beta must be"):
        implicit_bias_potential(torch.tensor([1, 2]), 1.0)
    with pytest.raises(ValueError, match="beta must be"):
        implicit_bias_potential(torch.ones(2, 2, dtype=torch.float64), 1.0)
    with pytest.raises(ValueError, match="alpha"):
        implicit_bias_potential(torch.ones(2, dtype=torch.float64), 0.0)


@pytest.mark.parametrize("threads", [1, 2])
def test_interpolator_converges_at_round_off_for_many_designs(threads: int) -> None:
    # Near the solution the dual's decrease falls below its round-off; a line search that still compares
    # dual values there stalls and the solver gave up on 4 of these 6 designs (seen on a CI machine).
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for seed in range(6):
            X = torch.randn(30, 60, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
            y = X[:, 0] - X[:, 1] + X[:, 2]
            for alpha in (1e-3, 1e-2, 0.3, 10.0, 100.0):
                beta = implicit_bias_interpolator(X, y, alpha)
                assert float((X @ beta - y).norm()) <= 1e-10 * float(y.norm()), (seed, alpha)
    finally:
        torch.set_num_threads(before)
