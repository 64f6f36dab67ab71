"""Tests for dltheory.deep: the deep ReLU network of Zou et al. (2020) and its logistic-loss trainer."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn.functional import normalize

from dltheory.deep import classification_loss, deep_relu, train_deep

F64 = torch.float64


def data(n: int = 12, d: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = normalize(torch.randn(n, d, generator=g, dtype=F64), dim=1)
    return X, torch.where(X[:, 0] >= 0, 1.0, -1.0).to(F64)


def test_architecture_and_initialization() -> None:
    net = deep_relu(5, 400, 3, generator=torch.Generator().manual_seed(1))
    trained = [p for p in net.parameters() if p.requires_grad]
    assert [tuple(p.shape) for p in trained] == [(400, 5), (400, 400), (400, 400)]
    assert set(net[-1].weight.flatten().tolist()) == {-1.0, 1.0} and not net[-1].weight.requires_grad
    # He initialization: the variance of each entry is 2/m; 160000 draws give a relative error ~ 0.35%
    assert float(trained[1].detach().var()) == pytest.approx(2 / 400, rel=0.02)
    # the norm of the hidden representation is preserved on average, so f(x) is of order one
    X, _ = data(200, 5, seed=2)
    assert 0.2 < float(net(X).detach().squeeze(1).pow(2).mean()) < 5


def test_zero_steps_and_a_manual_step() -> None:
    X, y = data()
    net = deep_relu(5, 30, 3, generator=torch.Generator().manual_seed(3))
    run = train_deep(net, X, y, 0.01, 0)
    assert run.loss.shape == (1,) and float(run.movement.abs().max()) == 0.0
    copy = deep_relu(5, 30, 3, generator=torch.Generator().manual_seed(3))
    weights = [p for p in copy.parameters() if p.requires_grad]
    loss = torch.nn.functional.softplus(-y * copy(X).squeeze(1)).mean()
    grads = torch.autograd.grad(loss, weights)
    one = train_deep(net, X, y, 0.01, 1)
    for w, g, new in zip(weights, grads, [p for p in one.model.parameters() if p.requires_grad]):
        assert torch.allclose(new, w - 0.01 * g, atol=1e-14)
    assert torch.equal(net[0].weight, copy[0].weight)  # the network passed in is unchanged


def test_gradient_descent_fits_and_movement_is_small_and_shrinks_with_width() -> None:
    X, y = data(12, 5, seed=4)
    moved = []
    for m in (32, 256):
        net = deep_relu(5, m, 3, generator=torch.Generator().manual_seed(5))
        run = train_deep(net, X, y, 2.0 / m, 100)
        assert int(run.errors[-1]) == 0 and float(run.loss[-1]) < float(run.loss[0])
        moved.append(float(run.movement[1]))
    # m^(-1/2): a factor sqrt(8) ~ 2.8 between the widths; we only ask for a clear decrease
    assert moved[1] < moved[0] / 1.8


def test_sgd_is_reproducible_and_rejects_bad_inputs() -> None:
    X, y = data()
    net = deep_relu(5, 20, 3, generator=torch.Generator().manual_seed(6))
    a = train_deep(net, X, y, 0.05, 5, batch_size=4, generator=torch.Generator().manual_seed(7))
    b = train_deep(net, X, y, 0.05, 5, batch_size=4, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a.loss, b.loss)
    with pytest.raises(ValueError, match="y must"):
        train_deep(net, X, 0.5 * y, 0.1, 1)
    with pytest.raises(ValueError, match="batch_size"):
        train_deep(net, X, y, 0.1, 1, batch_size=100)
    with pytest.raises(ValueError, match="eta"):
        train_deep(net, X, y, 0.0, 1)
    with pytest.raises(TypeError, match="model"):
        train_deep(torch.nn.Linear(5, 1), X, y, 0.1, 1)
    with pytest.raises(ValueError, match="depth"):
        deep_relu(5, 10, 0)
    assert math.isfinite(float(a.loss[-1]))


def test_the_two_losses() -> None:
    z = torch.tensor([-1.0, 0.0, 2.0], dtype=F64)
    assert float(classification_loss(z)) == pytest.approx(float(torch.log1p(torch.exp(-z)).mean()), rel=1e-14)
    assert float(classification_loss(z, "exponential")) == pytest.approx(float(torch.exp(-z).mean()), rel=1e-14)
    X, y = data()
    net = deep_relu(5, 30, 3, generator=torch.Generator().manual_seed(8))
    run = train_deep(net, X, y, 0.01, 30, loss="exponential")
    assert float(run.loss[-1]) < float(run.loss[0])
    with pytest.raises(ValueError, match="loss must be one of"):
        train_deep(net, X, y, 0.01, 1, loss="hinge")


def test_radius_bounds_the_path_and_equals_the_exact_norm_where_the_path_is_monotone() -> None:
    X, y = data(12, 5, seed=8)
    net = deep_relu(5, 64, 3, generator=torch.Generator().manual_seed(9))
    run = train_deep(net, X, y, 2.0 / 64, 30)
    start = [p for p in net.parameters() if p.requires_grad]
    end = [p for p in run.model.parameters() if p.requires_grad]
    exact = torch.stack([torch.linalg.matrix_norm(w - w0, ord=2) for w, w0 in zip(end, start)]).detach()
    # the radius is a maximum over the path, so at least the final distance; for gradient descent on the logistic
    # loss the distance grows step by step, so the maximum is the final distance itself
    assert bool((run.radius >= exact - 1e-12).all())
    assert torch.allclose(run.radius, exact, rtol=1e-9)
    # one step of power iteration per update is a lower bound of the spectral norm at every step: after a single
    # step (rank <= n) the radius is the exact norm of the update
    one = train_deep(net, X, y, 2.0 / 64, 1)
    moved = [p for p in one.model.parameters() if p.requires_grad]
    first = torch.stack([torch.linalg.matrix_norm(w - w0, ord=2) for w, w0 in zip(moved, start)]).detach()
    assert torch.allclose(one.radius, first, rtol=1e-12)


def test_steps_to_loss_interpolates_in_log_loss() -> None:
    from dltheory.deep import steps_to_loss

    loss = torch.tensor([1.0, 0.5, 0.25, 0.125], dtype=F64)
    assert steps_to_loss(loss, 0.5) == 1.0
    assert steps_to_loss(loss, 2.0) == 0.0
    assert steps_to_loss(loss, 0.25 * 2 ** -0.5) == pytest.approx(2.5, abs=1e-12)
    with pytest.raises(ValueError, match="never reached"):
        steps_to_loss(loss, 0.1)
    with pytest.raises(ValueError, match="level"):
        steps_to_loss(loss, 0.0)
    with pytest.raises(ValueError, match="loss must"):
        steps_to_loss(torch.tensor([1.0, -1.0]), 0.5)
