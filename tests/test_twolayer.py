"""Tests for dltheory.twolayer: the two-layer ReLU network of Du et al. (2019)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dltheory.twolayer import TwoLayerReLU, activation_patterns, gram_of_patterns

F64 = torch.float64


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_output_is_the_formula() -> None:
    net = TwoLayerReLU(3, 40, init_scale=0.5, generator=seeded(0))
    X = torch.randn(5, 3, generator=seeded(1), dtype=F64)
    by_hand = torch.stack([
        sum(net.a[r] * torch.relu(net.W[r] @ x) for r in range(40)) / math.sqrt(40) for x in X
    ])
    assert net(X).shape == (5, 1)
    assert torch.allclose(net(X).squeeze(1), by_hand, rtol=0, atol=1e-13)


def test_only_the_first_layer_is_trained_and_signs_are_plus_minus_one() -> None:
    net = TwoLayerReLU(4, 1000, generator=seeded(2))
    assert [p.shape for p in net.parameters() if p.requires_grad] == [torch.Size([1000, 4])]
    assert set(net.a.tolist()) == {-1.0, 1.0}
    # the number of +1 signs is Binomial(1000, 1/2): standard deviation 15.8, we allow 5 of them
    assert abs(int((net.a > 0).sum()) - 500) < 80
    assert net.width == 1000 and net.W.dtype == F64


def test_initialization_scale_and_seed() -> None:
    # the sample standard deviation of N = m d Gaussians has relative error about 1 / sqrt(2 N) = 0.0035;
    # we allow 5 of those
    kappa = 0.01
    net = TwoLayerReLU(8, 5000, init_scale=kappa, generator=seeded(3))
    assert abs(float(net.W.detach().std()) / kappa - 1) < 5 / math.sqrt(2 * 8 * 5000)
    again = TwoLayerReLU(8, 5000, init_scale=kappa, generator=seeded(3))
    assert torch.equal(net.W, again.W) and torch.equal(net.a, again.a)
    before = torch.random.get_rng_state()
    TwoLayerReLU(8, 50, generator=seeded(3))
    assert torch.equal(before, torch.random.get_rng_state())  # the global stream is not touched


def test_gram_and_patterns() -> None:
    net = TwoLayerReLU(3, 200, generator=seeded(4))
    X = nn.functional.normalize(torch.randn(6, 3, generator=seeded(5), dtype=F64), dim=1)
    active = net.patterns(X)
    assert active.dtype == torch.bool and active.shape == (6, 200)
    both = [[sum(bool(active[i, r] and active[j, r]) for r in range(200)) for j in range(6)] for i in range(6)]
    expected = (X @ X.T) * torch.tensor(both, dtype=F64) / 200
    assert torch.allclose(net.gram(X), expected, rtol=0, atol=1e-14)
    # the diagonal is the fraction of active neurons for each input
    assert torch.allclose(net.gram(X).diagonal(), active.to(F64).mean(1), atol=1e-14)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"d": 0, "m": 10}, "d must be an integer >= 1"),
        ({"d": 3, "m": 2.5}, "m must be an integer >= 1"),
        ({"d": 3, "m": True}, "m must be an integer >= 1"),
        ({"d": 3, "m": 10, "init_scale": 0.0}, "init_scale must be"),
        ({"d": 3, "m": 10, "init_scale": float("inf")}, "init_scale must be"),
    ],
)
def test_rejects_bad_construction(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TwoLayerReLU(**kwargs)  # type: ignore[arg-type]


def test_gram_rejects_bad_inputs() -> None:
    net = TwoLayerReLU(3, 10, generator=seeded(6))
    with pytest.raises(ValueError, match=r"X must have shape \(n, 3\)"):
        net.gram(torch.ones(4, 2, dtype=F64))
    with pytest.raises(TypeError, match="X must be a floating-point"):
        net.patterns(torch.ones(4, 3, dtype=torch.int64))


def test_signs_are_read_exactly_from_the_output_weights() -> None:
    # the signs come from sign(a_r / sqrt(m)), not from rounding a rescaled float: any width, any output scale
    net = TwoLayerReLU(3, 7, generator=seeded(8))
    with torch.no_grad():
        net[2].weight.mul_(0.3)  # output weights that are no longer exactly +-1/sqrt(m)
    assert set(net.a.tolist()) <= {-1.0, 1.0} and net.a.shape == (7,)
    assert torch.equal(net.a, torch.sign(net[2].weight[0]))


def test_patterns_and_gram_helpers_are_what_the_network_uses() -> None:
    net = TwoLayerReLU(3, 50, generator=seeded(9))
    X = nn.functional.normalize(torch.randn(4, 3, generator=seeded(10), dtype=F64), dim=1)
    Z = X @ net.W.detach().T
    assert torch.equal(activation_patterns(Z), net.patterns(X))
    assert bool(activation_patterns(torch.zeros(1, 1))[0, 0])  # a unit exactly at 0 counts as active
    assert torch.equal(gram_of_patterns(X, net.patterns(X)), net.gram(X))
