"""Tests for dltheory.train: gradient descent and momentum on the two-layer ReLU network."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dltheory.ntk import eigen_dynamics, lambda_0, relu_gram
from dltheory.train import METHODS, linearized_residuals, train, tuned_step
from dltheory.twolayer import TwoLayerReLU

F64 = torch.float64


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def sphere(n: int, d: int, seed: int) -> torch.Tensor:
    return nn.functional.normalize(torch.randn(n, d, generator=seeded(seed), dtype=F64), dim=1)


def autograd_step(net: TwoLayerReLU, W: torch.Tensor, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The gradient of 1/2 ||f(X) - y||^2 at first-layer weights W, by autograd."""
    W = W.clone().requires_grad_(True)
    f = torch.relu(X @ W.T) @ net.a / math.sqrt(net.width)
    return torch.autograd.grad(0.5 * ((f - y) ** 2).sum(), W)[0]


def test_updates_match_autograd_for_every_method() -> None:
    net = TwoLayerReLU(3, 30, generator=seeded(0))
    X, y = sphere(5, 3, seed=1), torch.randn(5, generator=seeded(2), dtype=F64)
    eta, beta = 0.3, 0.6
    W0 = net.W.detach().clone()
    W1 = W0 - eta * autograd_step(net, W0, X, y)  # the first step of every method is a GD step
    expected = {
        "gd": W1 - eta * autograd_step(net, W1, X, y),
        "heavy_ball": W1 - eta * autograd_step(net, W1, X, y) + beta * (W1 - W0),
        "nesterov": (V := W1 + beta * (W1 - W0)) - eta * autograd_step(net, V, X, y),
    }
    for method, W2 in expected.items():
        run = train(net, X, y, eta, 2, method=method, momentum=0.0 if method == "gd" else beta)
        assert torch.allclose(run.model.W, W2, rtol=0, atol=1e-13), method
    assert torch.equal(net.W, W0)  # the network passed in is not trained


def test_records() -> None:
    net = TwoLayerReLU(4, 200, generator=seeded(3))
    X, y = sphere(6, 4, seed=4), torch.randn(6, generator=seeded(5), dtype=F64)
    run = train(net, X, y, 0.5, 20, record_every=7)
    assert run.kernel_steps.tolist() == [0, 7, 14, 20]
    assert run.residuals.shape == (21, 6) and run.kernel_movement.shape == (4,)
    assert torch.allclose(run.residuals[0], net(X).squeeze(1) - y, atol=1e-14)
    assert torch.allclose(run.residuals[-1], run.model(X).squeeze(1) - y, atol=1e-14)
    assert torch.allclose(run.loss, 0.5 * (run.residuals**2).sum(1))
    for series in (run.weight_movement, run.max_neuron_movement, run.flipped_fraction, run.kernel_movement):
        assert series[0] == 0 and (series[1:] > 0).all()
    W0, W20 = net.W.detach(), run.model.W.detach()
    assert float(run.weight_movement[-1]) == pytest.approx(float((W20 - W0).norm() / W0.norm()), rel=1e-12)
    assert float(run.max_neuron_movement[-1]) == pytest.approx(float((W20 - W0).norm(dim=1).max()), rel=1e-12)
    flipped = (run.model.patterns(X) != net.patterns(X)).to(F64).mean()
    assert float(run.flipped_fraction[-1]) == pytest.approx(float(flipped), abs=1e-15)
    H0, H20 = net.gram(X), run.model.gram(X)
    assert float(run.kernel_movement[-1]) == pytest.approx(float((H20 - H0).norm() / H0.norm()), rel=1e-12)


def test_wide_network_follows_the_kernel_prediction() -> None:
    X, y = sphere(8, 5, seed=6), torch.randn(8, generator=seeded(7), dtype=F64)
    H = relu_gram(X)
    eta, steps = 1 / float(torch.linalg.eigvalsh(H)[-1]), 50
    net = TwoLayerReLU(5, 40_000, generator=seeded(8))
    run = train(net, X, y, eta, steps)
    predicted = eigen_dynamics(net.gram(X), y, eta, steps, u0=net(X).detach().squeeze(1))
    loss_predicted = 0.5 * predicted.residual_norms**2
    measured_decay = float((run.loss[-1] / run.loss[0]).log() / (loss_predicted[-1] / loss_predicted[0]).log())
    # Du et al. (2019): loss(k) <= (1 - eta lambda_0 / 2)^k loss(0)
    k = torch.arange(1, steps + 1, dtype=F64)
    bounded = bool((run.loss[1:] <= (1 - eta * lambda_0(H) / 2) ** k * run.loss[0]).all())
    # The log of the loss falls by the predicted amount (about 17 e-folds) up to 10%: the kernel moves
    # by O(m^-1/2), about 0.5% here, and the slowest eigen-direction, which dominates late, feels it most.
    # A wrong gradient scale (say a factor 2) would put the ratio near 2 or 1/2.
    assert measured_decay == pytest.approx(1.0, abs=0.1)
    assert bounded


def test_movement_shrinks_like_inverse_square_root_of_width() -> None:
    # 16 times the width should move weights and patterns 4 times less (Du et al. 2019); we allow a
    # factor 1.6 either way for the finite-width and finite-sample fluctuations of one seed
    X, y = sphere(8, 5, seed=9), torch.randn(8, generator=seeded(10), dtype=F64)
    eta = 1 / float(torch.linalg.eigvalsh(relu_gram(X))[-1])
    runs = {m: train(TwoLayerReLU(5, m, generator=seeded(11)), X, y, eta, 40) for m in (1000, 16_000)}
    for name in ("weight_movement", "flipped_fraction"):
        ratio = float(getattr(runs[1000], name)[-1] / getattr(runs[16_000], name)[-1])
        assert 4 / 1.6 < ratio < 4 * 1.6, name


def test_momentum_needs_fewer_steps_on_an_ill_conditioned_problem() -> None:
    # n = 20 points on the 2-sphere: kappa = lambda_max / lambda_0 ~ 120. Labels start 0.01 from the
    # initial outputs so that the kernel stays put and the quadratic rates of `tuned_step` apply.
    X = sphere(20, 3, seed=13)
    net = TwoLayerReLU(3, 1000, generator=seeded(13))
    y = net(X).detach().squeeze(1) + 0.01 * torch.randn(20, generator=seeded(14), dtype=F64)
    eigenvalues = torch.linalg.eigvalsh(net.gram(X))
    assert 50 < float(eigenvalues[-1] / eigenvalues[0]) < 200
    steps_needed = {}
    for method, budget in (("gd", 450), ("heavy_ball", 100), ("nesterov", 150)):
        tuning = tuned_step(method, float(eigenvalues[0]), float(eigenvalues[-1]))
        run = train(net, X, y, tuning.eta, budget, method=method, momentum=tuning.momentum)
        reached = (run.loss <= 1e-6 * run.loss[0]).nonzero()
        assert len(reached) > 0, method
        steps_needed[method] = int(reached[0])
        # the residual falls by 1e-3 in about log(1e-3) / log(rate) steps; momentum methods add a
        # transient factor k to the geometric decay, so we allow a factor 2 either way
        predicted = math.log(1e-3) / math.log(tuning.rate)
        assert predicted / 2 < steps_needed[method] < 2 * predicted, method
    assert steps_needed["heavy_ball"] < steps_needed["gd"] / 3
    assert steps_needed["nesterov"] < steps_needed["gd"] / 3


def test_mini_batches() -> None:
    net = TwoLayerReLU(4, 500, generator=seeded(15))
    X, y = sphere(12, 4, seed=16), torch.randn(12, generator=seeded(17), dtype=F64)
    one = train(net, X, y, 0.6, 200, batch_size=4, generator=seeded(18))
    assert one.loss[-1] < 1e-2 * one.loss[0]  # the network interpolates, so SGD still reaches zero loss
    again = train(net, X, y, 0.6, 20, batch_size=4, generator=seeded(18))
    other = train(net, X, y, 0.6, 20, batch_size=4, generator=seeded(19))
    assert torch.equal(one.residuals[:21], again.residuals)  # same seed, same batches
    assert not torch.allclose(one.residuals[:21], other.residuals)
    full = train(net, X, y, 0.6, 20, batch_size=12, generator=seeded(18))
    assert torch.allclose(full.residuals, train(net, X, y, 0.6, 20).residuals, rtol=0, atol=1e-12)


def test_tuned_step_formulas() -> None:
    gd, hb, nag = (tuned_step(method, 1.0, 100.0) for method in ("gd", "heavy_ball", "nesterov"))
    assert (gd.eta, gd.momentum, gd.rate) == pytest.approx((2 / 101, 0.0, 99 / 101))
    assert (hb.eta, hb.momentum, hb.rate) == pytest.approx((4 / 121, (9 / 11) ** 2, 9 / 11))
    assert (nag.eta, nag.momentum, nag.rate) == pytest.approx((0.01, 9 / 11, 0.9))
    with pytest.raises(ValueError, match="method must be one of"):
        tuned_step("adam", 1.0, 2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lambda_min"):
        tuned_step("gd", 0.0, 2.0)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"model": nn.Linear(3, 1)}, TypeError, "model must be a TwoLayerReLU"),
        ({"X": torch.ones(4, 2, dtype=F64)}, ValueError, r"X must have shape \(n, 3\)"),
        ({"X": torch.ones(4, 3, dtype=torch.float32)}, TypeError, "X has dtype torch.float32"),
        ({"y": torch.ones(5, dtype=F64)}, ValueError, r"y must have shape \(4,\)"),
        ({"y": [1.0, 2.0, 3.0, 4.0]}, TypeError, "y must be a floating-point"),
        ({"eta": 0.0}, ValueError, "eta must be"),
        ({"steps": -1}, ValueError, "steps must be"),
        ({"method": "adam"}, ValueError, "method must be one of"),
        ({"momentum": 0.5}, ValueError, "momentum must be 0 for method 'gd'"),
        ({"method": "nesterov", "momentum": 1.0}, ValueError, "momentum must lie in"),
        ({"method": "heavy_ball"}, ValueError, "momentum must lie in"),
        ({"batch_size": 0}, ValueError, "batch_size must be"),
        ({"batch_size": 5}, ValueError, "batch_size must be"),
        ({"record_every": 0}, ValueError, "record_every must be"),
    ],
)
def test_train_rejects_bad_inputs(change: dict[str, object], error: type[Exception], match: str) -> None:
    arguments: dict[str, object] = {
        "model": TwoLayerReLU(3, 10, generator=seeded(20)),
        "X": sphere(4, 3, seed=21),
        "y": torch.zeros(4, dtype=F64),
        "eta": 0.1,
        "steps": 3,
    }
    arguments.update(change)
    with pytest.raises(error, match=match):
        train(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("method", METHODS)
def test_linearized_residuals_follow_a_network_whose_kernel_stays_put(method: str) -> None:
    # Started within 1e-6 of the labels the weights barely move, so no pattern flips and the network's
    # residual is exactly the frozen-kernel recursion (up to round-off).
    X = sphere(6, 5, seed=3)
    net = TwoLayerReLU(5, 512, generator=seeded(4))
    noise = 1e-6 * torch.randn(6, generator=seeded(5), dtype=F64)
    y = net(X).detach().squeeze(1) + noise
    H0 = net.gram(X)
    eigenvalues = torch.linalg.eigvalsh(H0)
    tuning = tuned_step(method, float(eigenvalues[0]), float(eigenvalues[-1]))
    run = train(net, X, y, tuning.eta, 40, method=method, momentum=tuning.momentum)
    frozen = linearized_residuals(H0, -noise, tuning.eta, 40, method=method, momentum=tuning.momentum)
    assert float(run.flipped_fraction[-1]) == 0.0
    assert torch.allclose(run.residuals, frozen, atol=1e-14, rtol=1e-9)


def test_linearized_residuals_of_gd_are_the_eigen_dynamics() -> None:
    X = sphere(7, 4, seed=6)
    H, y = relu_gram(X), torch.randn(7, generator=seeded(7), dtype=F64)
    predicted = eigen_dynamics(H, y, 0.3, 25)
    frozen = linearized_residuals(H, -y, 0.3, 25)
    assert torch.allclose(predicted.project(frozen), predicted.projections, atol=1e-12)


def test_linearized_residuals_rejects_bad_inputs() -> None:
    H = torch.eye(3, dtype=F64)
    r = torch.ones(3, dtype=F64)
    with pytest.raises(ValueError, match="residual must have shape"):
        linearized_residuals(H, torch.ones(2, dtype=F64), 0.1, 3)
    with pytest.raises(ValueError, match="eta"):
        linearized_residuals(H, r, -0.1, 3)
    with pytest.raises(ValueError, match="steps"):
        linearized_residuals(H, r, 0.1, -1)
    with pytest.raises(ValueError, match="momentum must lie"):
        linearized_residuals(H, r, 0.1, 3, method="nesterov")
    with pytest.raises(TypeError, match="H must be"):
        linearized_residuals([[1.0]], r, 0.1, 3)


def test_top_hessian_eigenvalue_of_a_quadratic_and_gd_sharpness_of_a_linear_model() -> None:
    from dltheory.train import gd_sharpness, top_hessian_eigenvalue

    A = torch.diag(torch.tensor([5.0, 2.0, 1.0, 0.5], dtype=torch.float64))
    value, vector = top_hessian_eigenvalue(lambda t: 0.5 * t @ A @ t, torch.ones(4, dtype=torch.float64), iterations=60)
    assert value == pytest.approx(5.0, rel=1e-10) and abs(float(vector[0])) == pytest.approx(1.0, rel=1e-10)
    # a linear model on the squared loss (1/2n)||Xw - y||^2 has the constant Hessian X^T X / n
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(20, 3, generator=g, dtype=torch.float64), torch.randn(20, generator=g, dtype=torch.float64)
    model = torch.nn.Linear(3, 1, bias=False).double()
    run = gd_sharpness(model, X, y, 0.1, 40, every=20, iterations=60)
    exact = float(torch.linalg.eigvalsh(X.T @ X / 20)[-1])
    assert run.steps.tolist() == [0, 20, 40] and torch.allclose(run.sharpness, torch.full((3,), exact, dtype=torch.float64))
    assert float(run.loss[-1]) < float(run.loss[0])
    with pytest.raises(ValueError, match="every"):
        gd_sharpness(model, X, y, 0.1, 5, every=0)
    with pytest.raises(ValueError, match="theta"):
        top_hessian_eigenvalue(lambda t: t.sum(), torch.ones(2, 2))
