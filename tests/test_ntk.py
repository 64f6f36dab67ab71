"""Tests for dltheory.ntk: the closed-form Gram matrix, the empirical NTK and the kernel predictions."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dltheory.ntk import (
    _linear_chain,
    data_complexity,
    eigen_dynamics,
    empirical_ntk,
    kernel_regression,
    lambda_0,
    relu_angle,
    relu_gram,
)
from dltheory.scaling import loglog_slope
from dltheory.twolayer import TwoLayerReLU

F64 = torch.float64


def unit_rows(n: int, d: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return nn.functional.normalize(torch.randn(n, d, generator=generator, dtype=F64), dim=1)


def reference_ntk(model: nn.Module, X1: torch.Tensor, X2: torch.Tensor | None = None) -> torch.Tensor:
    """The NTK from the Jacobian built row by row: one backward pass per example."""
    params = [p for p in model.parameters() if p.requires_grad]

    def jacobian(X: torch.Tensor) -> torch.Tensor:
        rows = []
        for x in X:
            grads = torch.autograd.grad(model(x[None]).sum(), params, allow_unused=True)
            rows.append(torch.cat([(g if g is not None else torch.zeros_like(p)).flatten()
                                   for g, p in zip(grads, params)]))
        return torch.stack(rows)

    J1 = jacobian(X1)
    return J1 @ (J1 if X2 is None else jacobian(X2)).T


# ----------------------------------------------------------------------------- relu_gram


def test_relu_gram_matches_monte_carlo() -> None:
    # H(0) of a width-m network is the average of m i.i.d. terms x_i.x_j 1{w.x_i >= 0, w.x_j >= 0},
    # each x_i.x_j times a Bernoulli(p_ij): its standard deviation is |x_i.x_j| sqrt(p_ij (1 - p_ij) / m).
    # We allow 5 standard deviations per entry, so 36 entries fail together with probability < 1e-4.
    X = unit_rows(8, 5, seed=1)
    X[7] = nn.functional.normalize(X[0] + 0.1 * X[1], dim=0)  # a nearly parallel pair
    m = 40_000
    sampled = TwoLayerReLU(5, m, generator=torch.Generator().manual_seed(2)).gram(X)
    closed = relu_gram(X)
    cosine = (X @ X.T).clamp(-1, 1)
    p = (math.pi - torch.arccos(cosine)) / (2 * math.pi)
    sd = cosine.abs() * (p * (1 - p) / m).sqrt()
    assert ((sampled - closed).abs() <= 5 * sd + 1e-12).all()
    # the test has power: halving the overlap probability would be off by >= 40 standard deviations
    assert ((sampled - closed / 2).abs().max() > 40 * sd.max())


def test_relu_gram_exact_values() -> None:
    e1, e2 = torch.tensor([1.0, 0.0], dtype=F64), torch.tensor([0.0, 1.0], dtype=F64)
    at_60_degrees = torch.tensor([0.5, math.sqrt(3) / 2], dtype=F64)
    X = torch.stack([e1, e2, -e1, at_60_degrees])
    H = relu_gram(X)
    assert torch.allclose(H.diagonal(), torch.full((4,), 0.5, dtype=F64), atol=1e-15)
    assert abs(float(H[0, 1])) < 1e-15  # orthogonal
    assert abs(float(H[0, 2])) < 1e-15  # antipodal: the half-spaces never overlap
    assert float(H[0, 3]) == pytest.approx(0.5 * (math.pi - math.pi / 3) / (2 * math.pi), abs=1e-15)
    assert torch.equal(H, H.T)


def test_relu_gram_cross_kernel_is_a_block_of_the_full_one() -> None:
    X = unit_rows(7, 3, seed=3)
    assert torch.allclose(relu_gram(X[:4], X[4:]), relu_gram(X)[:4, 4:], atol=1e-15)


def test_relu_gram_invariant_to_the_init_scale() -> None:
    X = unit_rows(6, 4, seed=4)
    big = TwoLayerReLU(4, 300, init_scale=1.0, generator=torch.Generator().manual_seed(5)).gram(X)
    small = TwoLayerReLU(4, 300, init_scale=1e-3, generator=torch.Generator().manual_seed(5)).gram(X)
    assert torch.equal(big, small)


def test_lambda_0_of_two_inputs() -> None:
    # H = [[1/2, h], [h, 1/2]] has eigenvalues 1/2 -+ h; h -> 1/2 as the inputs become parallel
    values = []
    for angle in (1.0, 0.1, 0.01):
        X = torch.tensor([[1.0, 0.0], [math.cos(angle), math.sin(angle)]], dtype=F64)
        h = math.cos(angle) * (math.pi - angle) / (2 * math.pi)
        values.append(lambda_0(relu_gram(X)))
        assert values[-1] == pytest.approx(0.5 - h, rel=1e-12)
    assert values[0] > values[1] > values[2] > 0


def test_relu_gram_diagonal_is_one_half_so_the_trace_is_n_over_two() -> None:
    # Demoted from the notebook's claim ch01.gram.trace: an identity of eq. (eq-gram-limit). A unit norm off by
    # eps in floating point gives arccos(1 - eps) ~ sqrt(2 eps), about 2e-9 per diagonal entry.
    H = relu_gram(unit_rows(200, 3, seed=3))
    assert torch.allclose(H.diagonal(), torch.full((200,), 0.5, dtype=F64), atol=1e-8)
    assert abs(float(torch.linalg.eigvalsh(H).sum()) - 100.0) < 1e-6


def test_relu_gram_is_positive_definite_for_non_parallel_inputs() -> None:
    # Demoted from ch01.gram.positive: Theorem thm-lambda0-positive (Du et al. 2019, Sec. 3).
    for seed in range(3):
        assert lambda_0(relu_gram(unit_rows(200, 3, seed=seed))) > 0


def test_lambda_0_never_exceeds_the_rayleigh_quotient_of_a_pair() -> None:
    # Demoted from ch01.gram.rayleigh-bound: for every pair (i, j), the vector (e_i - e_j)/sqrt(2) has Rayleigh
    # quotient (H_ii + H_jj)/2 - H_ij = 1/2 - H_ij, which bounds the smallest eigenvalue.
    for theta in (1e-3, 1e-2, 0.1, 0.5):
        Z = unit_rows(10, 6, seed=4)
        u, v = Z[0], torch.randn(6, generator=torch.Generator().manual_seed(5), dtype=F64)
        v = nn.functional.normalize(v - (v @ u) * u, dim=0)
        H = relu_gram(torch.cat([Z, (math.cos(theta) * u + math.sin(theta) * v)[None]]))
        pairs = 0.5 - H + torch.eye(11, dtype=F64)  # the diagonal (i = j) is no pair
        assert lambda_0(H) <= float(pairs.min()) + 1e-12


def test_lambda_0_of_two_near_parallel_inputs_is_theta_over_two_pi() -> None:
    # Formerly the claims ch01.gram.small-angle and linear-in-angle: for two inputs at a small angle theta the
    # Rayleigh quotient 1/2 - H_ij = theta/(2 pi) + O(theta^2) sets lambda_0 (rival theta/pi: the 1/2 forgotten),
    # and log lambda_0 grows with slope 1 in log theta (rival 2: a smooth kernel).
    Z = unit_rows(10, 6, seed=4)
    u, v = Z[0], torch.randn(6, generator=torch.Generator().manual_seed(5), dtype=F64)
    v = nn.functional.normalize(v - (v @ u) * u, dim=0)
    thetas = [1e-3, 2e-3, 5e-3, 1e-2]
    lam0 = [lambda_0(relu_gram(torch.cat([Z, (math.cos(t) * u + math.sin(t) * v)[None]]))) for t in thetas]
    assert lam0[0] == pytest.approx(thetas[0] / (2 * math.pi), rel=0.01)
    assert loglog_slope(thetas, lam0) == pytest.approx(1.0, abs=0.03)


def test_relu_angle_keeps_its_digits_for_nearly_parallel_and_opposite_inputs() -> None:
    # arccos of the rounded dot product returns 0 at theta = 1e-9 (cos theta rounds to 1): every digit lost.
    # The stable angle 2 atan2(|x - y|, |x + y|) is exact to a few ulps, and so is the kernel's 1/2 - H_ij.
    u = torch.tensor([1.0, 0.0, 0.0], dtype=F64)
    v = torch.tensor([0.0, 1.0, 0.0], dtype=F64)
    for theta in [1e-12, 1e-9, 1e-6, 1e-3, math.pi / 3, math.pi - 1e-7]:
        X = torch.stack([u, math.cos(theta) * u + math.sin(theta) * v])
        assert float(relu_angle(X)[0, 1]) == pytest.approx(theta, rel=1e-9)
        H = relu_gram(X)
        expected = math.cos(theta) * (math.pi - theta) / (2 * math.pi)
        assert float(H[0, 1]) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    X = torch.stack([u, math.cos(1e-9) * u + math.sin(1e-9) * v])
    assert float(0.5 - relu_gram(X)[0, 1]) == pytest.approx(1e-9 / (2 * math.pi), rel=1e-6)
    assert torch.allclose(relu_angle(X).diagonal(), torch.zeros(2, dtype=F64), atol=1e-15)


def test_relu_angle_is_arccos_away_from_the_ends() -> None:
    X, X2 = unit_rows(7, 4, seed=11), unit_rows(5, 4, seed=12)
    assert torch.allclose(relu_angle(X, X2), torch.arccos(X @ X2.T), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="X2 must have 4 columns"):
        relu_angle(X, unit_rows(3, 2, seed=1))


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        (torch.ones(3, 2, dtype=F64), ValueError, "unit-norm"),
        (torch.tensor([1.0, 0.0], dtype=F64), ValueError, "X must have shape"),
        (torch.ones(2, 1, 1, dtype=F64), ValueError, "X must have shape"),
        (torch.empty(0, 3, dtype=F64), ValueError, "X must have shape"),
        (torch.tensor([[1, 0]]), TypeError, "X must be a floating-point"),
        (torch.tensor([[float("nan"), 0.0]], dtype=F64), ValueError, "X must be finite"),
        ([[1.0, 0.0]], TypeError, "X must be"),
    ],
)
def test_relu_gram_rejects_bad_inputs(X: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        relu_gram(X)  # type: ignore[arg-type]


def test_relu_gram_rejects_bad_second_inputs() -> None:
    X = unit_rows(3, 2, seed=0)
    with pytest.raises(ValueError, match="X2 must have 2 columns"):
        relu_gram(X, unit_rows(3, 3, seed=0))
    with pytest.raises(ValueError, match="X2 must have unit-norm"):
        relu_gram(X, 2 * X)


def test_lambda_0_rejects_non_symmetric() -> None:
    with pytest.raises(ValueError, match="H must be symmetric"):
        lambda_0(torch.tensor([[1.0, 2.0], [0.0, 1.0]], dtype=F64))
    with pytest.raises(ValueError, match="H must be a non-empty square"):
        lambda_0(torch.ones(2, 3, dtype=F64))


# ----------------------------------------------------------------------------- empirical_ntk


def mlp(bias: bool = True, activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(4, 7, bias=bias), activation(), nn.Linear(7, 5, bias=bias), nn.Tanh(), nn.Linear(5, 1, bias=bias)
    ).double()


def frozen(model: nn.Sequential, index: int) -> nn.Sequential:
    for p in model[index].parameters():
        p.requires_grad_(False)
    return model


class Residual(nn.Module):
    """A custom forward with a skip connection and a LayerNorm, returning shape (n,)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.inner = nn.Linear(4, 4)
        self.norm = nn.LayerNorm(4)
        self.out = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(x + torch.tanh(self.norm(self.inner(x)))).squeeze(-1)


class Squeezed(nn.Sequential):
    """A Sequential whose own forward changes the chain: it must not take the fast path."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * super().forward(x).squeeze(-1)


def shared() -> nn.Sequential:
    torch.manual_seed(2)
    square = nn.Linear(4, 4)
    return nn.Sequential(square, nn.Tanh(), square, nn.Tanh(), nn.Linear(4, 1)).double()


FAST = {
    "relu-tanh": lambda: mlp(),
    "no-bias": lambda: mlp(bias=False),
    "gelu": lambda: mlp(activation=nn.GELU),
    "first-layer-frozen": lambda: frozen(mlp(), 0),
    "last-layer-frozen": lambda: frozen(mlp(), 4),
    "du-model": lambda: TwoLayerReLU(4, 50, generator=torch.Generator().manual_seed(3)),
}
FALLBACK = {
    "layernorm": lambda: nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6), nn.Tanh(), nn.Linear(6, 1)).double(),
    "custom-forward": lambda: Residual().double(),
    "sequential-subclass": lambda: Squeezed(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1)).double(),
    "shared-weights": shared,
}


@pytest.mark.parametrize("name", list(FAST) + list(FALLBACK))
def test_empirical_ntk_matches_per_example_autograd(name: str) -> None:
    model = {**FAST, **FALLBACK}[name]()
    assert (_linear_chain(model) is not None) == (name in FAST)  # the path we mean to test is taken
    X1, X2 = unit_rows(6, 4, seed=5), unit_rows(3, 4, seed=6)
    # float64 round-off on a few hundred products: 1e-10 is loose yet far below any real error
    assert torch.allclose(empirical_ntk(model, X1), reference_ntk(model, X1), rtol=0, atol=1e-10)
    assert torch.allclose(empirical_ntk(model, X1, X2), reference_ntk(model, X1, X2), rtol=0, atol=1e-10)


def test_empirical_ntk_of_the_du_model_is_its_gram_matrix() -> None:
    # d f / d w_r = a_r 1{w_r.x >= 0} x / sqrt(m) and a_r^2 = 1, so Theta(t) = H(t) exactly
    net = TwoLayerReLU(5, 2000, generator=torch.Generator().manual_seed(7))
    X = unit_rows(9, 5, seed=8)
    assert torch.allclose(empirical_ntk(net, X), net.gram(X), rtol=0, atol=1e-13)


@pytest.mark.parametrize("fast", [True, False])
def test_empirical_ntk_has_no_side_effects(fast: bool) -> None:
    torch.manual_seed(3)
    middle = nn.Identity() if fast else nn.LayerNorm(8)
    model = nn.Sequential(nn.Linear(4, 8), middle, nn.Dropout(0.5), nn.ReLU(), nn.Linear(8, 1)).double()
    assert (_linear_chain(model) is not None) == fast
    model.train()
    marks = [torch.full_like(p, 7.0) for p in model.parameters()]
    for p, mark in zip(model.parameters(), marks):
        p.grad = mark.clone()
    X = unit_rows(5, 4, seed=9).requires_grad_(True)
    with torch.no_grad():  # a caller's no_grad does not break it
        theta = empirical_ntk(model, X)
    assert all(module.training for module in model.modules())
    assert all(torch.equal(p.grad, mark) for p, mark in zip(model.parameters(), marks))
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())
    assert X.grad is None and not theta.requires_grad
    model.eval()  # the kernel is that of the evaluation-mode function, whatever the mode
    assert torch.allclose(theta, reference_ntk(model, X.detach()), rtol=0, atol=1e-12)


def test_empirical_ntk_rejects_bad_inputs() -> None:
    model = mlp()
    X = unit_rows(4, 4, seed=0)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        empirical_ntk(lambda x: x, X)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="model has no trainable parameter"):
        empirical_ntk(nn.Sequential(nn.Linear(4, 1)).double().requires_grad_(False), X)
    with pytest.raises(ValueError, match="model must return one number per example"):
        empirical_ntk(nn.Sequential(nn.Linear(4, 2)).double(), X)  # fast path
    with pytest.raises(ValueError, match="model must return one number per example"):
        empirical_ntk(nn.Sequential(nn.Linear(4, 2), nn.LayerNorm(2)).double(), X)  # fallback
    with pytest.raises(ValueError, match="X1 must have shape"):
        empirical_ntk(model, X[0])
    with pytest.raises(ValueError, match="X2 must have trailing shape"):
        empirical_ntk(model, X, unit_rows(4, 3, seed=0))
    with pytest.raises(TypeError, match="X1 has dtype torch.float32"):
        empirical_ntk(model, X.float())
    with pytest.raises(TypeError, match="X2 must be a floating-point"):
        empirical_ntk(model, X, [[1.0]])  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- predictions


def test_eigen_dynamics_is_the_linear_recursion() -> None:
    X = unit_rows(6, 3, seed=10)
    H = relu_gram(X)
    y = torch.randn(6, generator=torch.Generator().manual_seed(11), dtype=F64)
    u0 = 0.1 * y.flip(0)
    eta, steps = 0.8, 30
    prediction = eigen_dynamics(H, y, eta, steps, u0=u0)
    residual, expected = u0 - y, []
    for _ in range(steps + 1):
        expected.append(residual)
        residual = residual - eta * H @ residual
    expected_t = torch.stack(expected)
    assert torch.allclose(prediction.project(expected_t), prediction.projections, rtol=0, atol=1e-12)
    assert torch.allclose(prediction.residual_norms, expected_t.norm(dim=1), rtol=0, atol=1e-12)
    assert (prediction.eigenvalues[:-1] >= prediction.eigenvalues[1:]).all()
    # with u0 omitted the start is -y (Arora et al. 2019)
    assert torch.allclose(eigen_dynamics(H, y, eta, 0).residual_norms, y.norm()[None], atol=1e-14)


def test_eigen_dynamics_rejects_bad_inputs() -> None:
    H, y = relu_gram(unit_rows(3, 2, seed=0)), torch.zeros(3, dtype=F64)
    with pytest.raises(ValueError, match="y must have shape"):
        eigen_dynamics(H, torch.zeros(4, dtype=F64), 0.1, 5)
    with pytest.raises(ValueError, match="u0 must have shape"):
        eigen_dynamics(H, y, 0.1, 5, u0=torch.zeros(2, dtype=F64))
    with pytest.raises(ValueError, match="eta must be a positive finite number"):
        eigen_dynamics(H, y, 0.0, 5)
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        eigen_dynamics(H, y, 0.1, -1)
    with pytest.raises(ValueError, match="residuals must have shape"):
        eigen_dynamics(H, y, 0.1, 5).project(torch.zeros(2, 4, dtype=F64))


def test_data_complexity_is_the_quadratic_form() -> None:
    H = relu_gram(unit_rows(7, 4, seed=12))
    y = torch.randn(7, generator=torch.Generator().manual_seed(13), dtype=F64)
    eigenvalues, eigenvectors = torch.linalg.eigh(H)
    by_directions = float(((eigenvectors.T @ y) ** 2 / eigenvalues).sum())
    assert data_complexity(H, y) == pytest.approx(float(y @ torch.linalg.solve(H, y)), rel=1e-10)
    assert data_complexity(H, y) == pytest.approx(by_directions, rel=1e-10)
    # labels along the top eigenvector cost 1 / lambda_max, along the bottom one 1 / lambda_0
    assert data_complexity(H, eigenvectors[:, -1]) < data_complexity(H, eigenvectors[:, 0])
    with pytest.raises(ValueError, match="H must be positive definite"):
        data_complexity(-H, y)


def test_kernel_regression_interpolates_and_matches_the_solve() -> None:
    X = unit_rows(10, 3, seed=14)
    K = relu_gram(X)
    y = torch.randn(8, generator=torch.Generator().manual_seed(15), dtype=F64)
    train, test = K[:8, :8], K[8:, :8]
    assert torch.allclose(kernel_regression(train, y, train), y, rtol=0, atol=1e-9)
    assert torch.allclose(kernel_regression(train, y, test), test @ torch.linalg.solve(train, y), atol=1e-10)
    with pytest.raises(ValueError, match="K_test must have shape"):
        kernel_regression(train, y, K[8:, :7])
    with pytest.raises(ValueError, match="K_train must be positive definite"):
        kernel_regression(torch.zeros(8, 8, dtype=F64), y, test)


# ----------------------------------------------------------------------------- the spectrum on the sphere


def test_funk_hecke_eigenvalues_closed_forms_and_the_odd_null_space() -> None:
    from dltheory.ntk import funk_hecke_eigenvalues

    for d in (3, 4, 7):
        mu = funk_hecke_eigenvalues(d, 9)
        assert float(mu[1]) == pytest.approx(1 / (4 * d), rel=1e-12)  # thm-odd-null
        assert torch.all(mu[3::2].abs() < 1e-14)  # odd degrees >= 3 vanish
        assert torch.all(mu[0::2] > 0) and torch.all(mu[2::2].diff() < 0)  # even degrees decay
    # d = 3: mu_0 = E[h(t)] with t uniform on [-1, 1] (Archimedes), in closed form 1/16
    assert float(funk_hecke_eigenvalues(3, 0)[0]) == pytest.approx(1 / 16, rel=1e-12)


def test_funk_hecke_trace_is_the_diagonal() -> None:
    # Mercer: h(1) = sum_l N(d, l) mu_l = 1/2; the tail falls like 1/L (mu_l N(d, l) ~ l^-2 for even l)
    from dltheory.ntk import funk_hecke_eigenvalues, harmonic_multiplicity

    mu = funk_hecke_eigenvalues(3, 400, nodes=1024)
    total = sum(harmonic_multiplicity(3, ell) * float(m) for ell, m in enumerate(mu))
    assert 0.5 - 2 / 400 < total < 0.5


def test_funk_hecke_against_the_gram_matrix_of_sampled_points() -> None:
    # Rayleigh quotients of harmonics on n uniform points: y^T H y / (n |y|^2) -> mu_l, error O(n^-1/2)
    from dltheory.ntk import funk_hecke_eigenvalues

    X = unit_rows(1500, 3, seed=21)
    H = relu_gram(X)
    mu = funk_hecke_eigenvalues(3, 3)
    for ell, y in [(1, X[:, 0]), (2, X[:, 0] * X[:, 1]), (3, X[:, 0] * X[:, 1] * X[:, 2])]:
        quotient = float(y @ H @ y / (1500 * y @ y))
        assert quotient == pytest.approx(float(mu[ell]), abs=0.1 * float(mu[2]))
    # the null-space harmonic keeps only what a finite sample leaves: the diagonal h(1) = 1/2 and fluctuations of
    # the same order, a Rayleigh quotient of H of order one, against n mu_l for the other degrees
    y = X[:, 0] * X[:, 1] * X[:, 2]
    assert 0 < float(y @ H @ y / (y @ y)) < 3


def test_harmonic_multiplicity() -> None:
    from dltheory.ntk import harmonic_multiplicity

    assert [harmonic_multiplicity(3, ell) for ell in range(5)] == [1, 3, 5, 7, 9]
    assert [harmonic_multiplicity(5, ell) for ell in range(4)] == [1, 5, 14, 30]
    # dim of homogeneous polynomials of degree l minus that of degree l - 2
    assert harmonic_multiplicity(6, 4) == math.comb(9, 4) - math.comb(7, 2)
    with pytest.raises(ValueError, match="d"):
        harmonic_multiplicity(1, 2)
