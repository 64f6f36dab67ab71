"""Tests for dltheory.information (Chapter 2, "The aspect ratio"): the information neurons share at finite width."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
import sympy
import torch

from dltheory.ensembles import sample_preactivations
from dltheory.information import (
    information_expansion,
    information_turnover,
    mutual_information,
    relu_variance_moments,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from information_series import total_correlation_series  # noqa: E402

m2, m3, m4 = sympy.symbols("m2 m3 m4")


def test_the_symbolic_expansion_gives_the_library_coefficients() -> None:
    """The coefficients typed into `information_expansion` are those of the exact expansion (thm-information-expansion)."""
    series = total_correlation_series(2, 8)
    values = {m2: sympy.Rational(3, 100), m3: sympy.Rational(1, 250), m4: sympy.Rational(3, 1000)}
    assert float(series.subs(values)) == pytest.approx(information_expansion(0.03, 0.004, 0.003, order=3), rel=1e-12)
    assert series.coeff(m2, 2).subs({m3: 0, m4: 0}) == sympy.Rational(1, 8)
    assert series.coeff(m2, 3) == sympy.Rational(-13, 24)


def test_the_q_neuron_coefficients_and_the_turnover() -> None:
    """C(q,2)/8 and -(13/24 C(q,2) + C(q,3)/8) for q = 2, 3 (`--neurons 4` checks q = 4, in 5 s); the peak at m_2 = 2/(11 + q)."""
    for q in (2, 3):
        series = total_correlation_series(q, 6)
        assert series.coeff(m2, 2) == sympy.Rational(math.comb(q, 2), 8)
        assert series.coeff(m2, 3) == -(sympy.Rational(13, 24) * math.comb(q, 2) + sympy.Rational(math.comb(q, 3), 8))
        a, b = series.coeff(m2, 2), -series.coeff(m2, 3)
        assert float(2 * a / (3 * b)) == pytest.approx(information_turnover(1.0, neurons=q))
    assert information_turnover(5.0) == pytest.approx(2 / 65)


def test_the_tool_runs_from_the_command_line() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "information_series.py"), "--order", "6"],
                         capture_output=True, text=True, check=True).stdout
    assert "13*m2**3/24" in out and "m2**2/8" in out


def test_a_two_point_mixture_matches_the_expansion() -> None:
    """G = 1 -+ d with equal weights: m_2 = d^2, m_3 = 0, m_4 = d^4; the quadrature against the series."""
    for d in (0.05, 0.1):
        G = torch.tensor([1 - d, 1 + d] * 50, dtype=torch.float64)
        measured = float(mutual_information(G, bins=2).value)
        expansion = information_expansion(d**2, 0.0, d**4, order=3)
        assert measured == pytest.approx(expansion, rel=3e-3)
        assert abs(measured - information_expansion(d**2, order=1)) > 10 * abs(measured - expansion)


def test_a_constant_variance_shares_no_information() -> None:
    result = mutual_information(torch.full((100,), 2.5, dtype=torch.float64))
    assert abs(float(result.value)) < 1e-10 and float(result.stderr) < 1e-10


def test_the_information_does_not_depend_on_the_scale() -> None:
    G = (0.5 * torch.randn(2000, generator=torch.Generator().manual_seed(2), dtype=torch.float64)).exp()
    fast = dict(bins=128, grid=200, blocks=2)
    assert float(mutual_information(7.0 * G, **fast).value) == pytest.approx(float(mutual_information(G, **fast).value), rel=1e-9)


def test_relu_moments_are_those_of_sampled_networks() -> None:
    """The exact law of the readout variance (thm-vertex-growth) against 40000 sampled networks of width 32."""
    gen = torch.Generator().manual_seed(3)
    ensemble = sample_preactivations("relu", 0.0, 2.0, 1.0, depth=3, width=32, n_networks=40000, generator=gen)
    for layer in (0, 3):
        G = ensemble.readout_variances[layer].double()
        delta = G / G.mean() - 1
        exact = relu_variance_moments(32, layer)
        assert exact[0] == pytest.approx((1 + 5 / 32) ** (layer + 1) - 1, rel=1e-12)
        for k, value in zip((2, 3, 4), exact):
            assert float((delta**k).mean()) == pytest.approx(value, rel=0.08), (layer, k)


def test_readout_variances_are_the_next_layers_variance() -> None:
    """E[G^(l)] is the kernel of layer l + 1, for one input and for two."""
    gen = torch.Generator().manual_seed(5)
    ensemble = sample_preactivations("tanh", 0.1, 1.5, 1.0, depth=3, width=16, n_networks=20000, generator=gen)
    kernel = ensemble.kernel().value
    assert ensemble.readout_variances.shape == (4, 20000)
    assert ensemble.readout_variances[:-1].mean(1) == pytest.approx(kernel[1:], rel=0.01)
    K0 = torch.tensor([[1.0, 0.3], [0.3, 0.8]])
    two = sample_preactivations("relu", 0.0, 2.0, K0, depth=1, width=8, n_networks=10, generator=gen)
    assert two.readout_variances.shape == (2, 10, 2, 2)


@pytest.mark.parametrize("bad", [torch.tensor([1.0, -1.0] * 10), torch.tensor([[1.0] * 10]), torch.tensor([1.0, 2.0]),
                                 torch.tensor([1.0, float("nan")] * 10)])
def test_mutual_information_rejects_bad_variances(bad: torch.Tensor) -> None:
    with pytest.raises(ValueError, match="variances"):
        mutual_information(bad)


def test_bad_arguments_name_the_parameter() -> None:
    G = torch.ones(20)
    with pytest.raises(ValueError, match="bins"):
        mutual_information(G, bins=0)
    with pytest.raises(ValueError, match="grid"):
        mutual_information(G, grid=4)
    with pytest.raises(ValueError, match="blocks"):
        mutual_information(G, blocks=1)
    with pytest.raises(ValueError, match="m2"):
        information_expansion(-0.1)
    with pytest.raises(ValueError, match="order"):
        information_expansion(0.1, order=4)
    with pytest.raises(ValueError, match="m4"):
        information_expansion(0.1, order=3)
    with pytest.raises(ValueError, match="vertex_slope"):
        information_turnover(0.0)
    with pytest.raises(ValueError, match="neurons"):
        information_turnover(5.0, neurons=1)
    with pytest.raises(ValueError, match="width"):
        relu_variance_moments(0, 1)
    with pytest.raises(ValueError, match="layer"):
        relu_variance_moments(8, -1)
