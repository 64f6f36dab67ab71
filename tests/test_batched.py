"""Tests of dltheory.batched: a batch of random networks as stacked weight tensors (Chapter 2, eq-mlp)."""

from __future__ import annotations

import pytest
import torch

from dltheory.batched import BatchedMLP, random_mlps
from dltheory.ensembles import random_mlp


def _linears(model: torch.nn.Sequential) -> list[torch.nn.Linear]:
    return [module for module in model if isinstance(module, torch.nn.Linear)]


def _as_sequentials(network: BatchedMLP, activation: str) -> list[torch.nn.Sequential]:
    """Every network of the batch as a torch.nn.Sequential of random_mlp's shape, holding copies of its weights."""
    n_0, width, depth = network.fan_ins[0], network.weights[0].shape[1], len(network.weights) - 2
    models = []
    for i in range(network.n_networks):
        model = random_mlp(activation, 0.0, 1.0, n_0, width, depth).to(network.weights[0].dtype)
        with torch.no_grad():
            for linear, W, b in zip(_linears(model), network.weights, network.biases):
                linear.weight.copy_(W[i])
                linear.bias.copy_(b[i, 0])
        models.append(model)
    return models


def _draws_of_eq_mlp(C_b: float, C_W: float, sizes: list[int], seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """eq-mlp's weights and biases drawn one layer after another, the weights then the biases, written out."""
    generator = torch.Generator().manual_seed(seed)
    return [(torch.randn(fan_out, fan_in, generator=generator) * (C_W / fan_in) ** 0.5,
             torch.randn(fan_out, generator=generator) * C_b**0.5) for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]


@pytest.mark.parametrize("width", [8, 16])  # below 16 numbers torch draws normals one by one, from 16 on in blocks
def test_one_network_and_random_mlp_are_the_draws_of_eq_mlp(width: int) -> None:
    draws = _draws_of_eq_mlp(0.1, 1.7, [5] + [width] * 3 + [1], seed=9)
    batch = random_mlps("tanh", 0.1, 1.7, 5, width, 2, 1, torch.Generator().manual_seed(9))
    model = random_mlp("tanh", 0.1, 1.7, 5, width, 2, torch.Generator().manual_seed(9))
    for (W, b), W_batch, b_batch, linear in zip(draws, batch.weights, batch.biases, _linears(model), strict=True):
        assert torch.equal(W_batch[0], W) and torch.equal(b_batch[0, 0], b)
        assert torch.equal(linear.weight, W) and torch.equal(linear.bias, b)
    X = torch.randn(7, 5, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(batch(X)[0], model(X)[:, 0], rtol=1e-5, atol=1e-6)  # float32: bmm and linear round apart


def test_the_law_of_eq_mlp_per_network() -> None:
    # each network's weights have variance C_W / fan-in with its own C_W, biases C_b; networks are independent draws
    C_W = torch.tensor([0.5, 2.0, 4.0], dtype=torch.float64)
    batch = random_mlps("relu", 0.3, C_W, 200, 200, 1, 3, torch.Generator().manual_seed(2), dtype=torch.float64)
    assert batch.n_networks == 3 and batch.fan_ins == [200, 200, 200]
    for W in batch.weights[:2]:  # 40,000 entries each: relative standard error of the variance about 0.007
        assert torch.allclose(W.var(dim=(1, 2)) * W.shape[2], C_W, rtol=0.04)
    assert float(torch.cat([b.detach().flatten() for b in batch.biases[:2]]).var()) == pytest.approx(0.3, rel=0.1)
    assert not torch.equal(batch.weights[0][1] / 2**0.5, batch.weights[0][2] / 2)


def test_the_forward_pass_is_a_loop_over_sequentials() -> None:
    batch = random_mlps("tanh", 0.2, torch.tensor([0.8, 1.5, 3.0]), 6, 12, 3, 3, torch.Generator().manual_seed(3),
                        dtype=torch.float64)
    X = torch.randn(10, 6, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    expected = torch.stack([model(X)[:, 0] for model in _as_sequentials(batch, "tanh")])
    assert batch(X).shape == (3, 10)
    assert torch.allclose(batch(X), expected, rtol=1e-12, atol=1e-12)


def test_the_gradient_step_is_sgd_with_a_rate_per_layer() -> None:
    # one step with rates per layer equals torch.optim.SGD on each network with one parameter group per tensor
    batch = random_mlps("tanh", 0.2, 1.5, 6, 12, 2, 4, torch.Generator().manual_seed(5), dtype=torch.float64)
    X = torch.randn(9, 6, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    y = torch.randn(4, 9, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    weight_rates, bias_rate = [0.3 / fan_in for fan_in in batch.fan_ins], 0.05
    models = _as_sequentials(batch, "tanh")
    for model, target in zip(models, y):
        groups = [{"params": [linear.weight], "lr": rate} for linear, rate in zip(_linears(model), weight_rates)]
        optimizer = torch.optim.SGD(groups + [{"params": [linear.bias for linear in _linears(model)]}], lr=bias_rate)
        loss = ((model(X)[:, 0] - target) ** 2).mean()
        loss.backward()
        optimizer.step()
    batch.gradient_step(((batch(X) - y) ** 2).mean(1), weight_rates, bias_rate)
    for i, model in enumerate(models):
        for linear, W, b in zip(_linears(model), batch.weights, batch.biases):
            assert torch.allclose(W[i], linear.weight, rtol=1e-12, atol=1e-14)
            assert torch.allclose(b[i, 0], linear.bias, rtol=1e-12, atol=1e-14)


def test_bad_inputs_are_named() -> None:
    batch = random_mlps("relu", 0.0, 2.0, 4, 8, 1, 2)
    with pytest.raises(ValueError, match="C_W"):
        random_mlps("relu", 0.0, torch.tensor([1.0, 2.0]), 4, 8, 1, 3)
    with pytest.raises(ValueError, match="C_W"):
        random_mlps("relu", 0.0, torch.tensor([1.0, -2.0]), 4, 8, 1, 2)
    with pytest.raises(ValueError, match="C_W"):
        random_mlps("relu", 0.0, -1.0, 4, 8, 1, 2)
    with pytest.raises(ValueError, match="n_networks"):
        random_mlps("relu", 0.0, 2.0, 4, 8, 1, 0)
    with pytest.raises(ValueError, match="width"):
        random_mlps("relu", 0.0, 2.0, 4, 0, 1, 2)
    with pytest.raises(ValueError, match="X must be"):
        batch(torch.ones(3, 5))
    loss = batch(torch.ones(3, 4)).pow(2).mean(1)
    with pytest.raises(ValueError, match="loss must be"):
        batch.gradient_step(loss.sum(), 0.1, 0.1)
    with pytest.raises(ValueError, match="weight_rates"):
        batch.gradient_step(loss, [0.1, 0.1], 0.1)
    with pytest.raises(ValueError, match="bias_rates"):
        batch.gradient_step(loss, 0.1, -0.1)
    with pytest.raises(ValueError, match="biases"):
        BatchedMLP(torch.tanh, batch.weights, [b.detach()[:, :, :1] for b in batch.biases])
    with pytest.raises(ValueError, match="weights must be"):
        BatchedMLP(torch.tanh, [torch.ones(2, 3)], [torch.ones(2, 1, 2)])
