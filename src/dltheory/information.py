"""The information two neurons share at finite width, for Chapter 2, Sec. "The aspect ratio".

At infinite width the neurons of a layer are independent Gaussians. At finite width they are, given the
previous layer, independent Gaussians with one shared random variance G (eq. `eq-layer-given-previous`):
their joint law is a Gaussian scale mixture, and two of them share information although they are
uncorrelated. `mutual_information` measures that information for the variances G of an ensemble of
sampled networks; `information_expansion` is its expansion in the relative variance of G, eq.
`eq-information-expansion` (derived in the chapter, Sec. "The aspect ratio"), and
`information_turnover` the ratio at which that truncated expansion stops growing.
"""

from __future__ import annotations

import math

import torch

from dltheory.checks import check_integer, check_number, check_positive
from dltheory.ensembles import Estimate


def _binned(variances: torch.Tensor, bins: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights and mean values of the variances in `bins` equal bins of log G (empty bins dropped).

    Each bin keeps the mean of its variances, so the mixture's mean is exact; the bins are narrow in
    log G, so its variance changes by a relative (bin width)^2 / 12 at most.
    """
    logs = variances.log()
    low, high = float(logs.min()), float(logs.max())
    index = ((logs - low) / max(high - low, 1e-12) * bins).long().clamp(0, bins - 1)
    counts = torch.bincount(index, minlength=bins).to(variances.dtype)
    sums = torch.bincount(index, weights=variances, minlength=bins)
    keep = counts > 0
    return counts[keep] / counts.sum(), sums[keep] / counts[keep]


def _mixture_information(weights: torch.Tensor, values: torch.Tensor, grid: int) -> float:
    """I(z_1; z_2) in nats for z_1, z_2 independent N(0, G) given G, with G = values[k] w.p. weights[k].

    The density depends on |z_1| and |z_2| only; the integral runs over one quadrant on a uniform
    grid in log|z|, whose Riemann sum converges fast for these smooth, quickly decaying integrands.
    The integrand f log(f / g) - f + g (g the product of the marginals) is non-negative and integrates
    to the information whatever the grid loses of the total mass.
    """
    values = values / (weights * values).sum()  # the information does not depend on the scale
    low, high = 0.5 * math.log(float(values.min())) - 12.0, 0.5 * math.log(float(values.max())) + 3.5
    t = torch.linspace(low, high, grid, dtype=torch.float64)
    z, step = t.exp(), (high - low) / (grid - 1)
    v = values.to(torch.float64)[:, None]
    density = torch.exp(-(z[None, :] ** 2) / (2 * v) - 0.5 * torch.log(2 * math.pi * v))  # (bins, grid)
    w = weights.to(torch.float64)
    joint = (density * w[:, None]).T @ density
    marginal = w @ density
    product = marginal[:, None] * marginal[None, :]
    positive = product > 0
    ratio = torch.where(positive, joint / torch.where(positive, product, 1.0), 1.0)
    integrand = torch.where(positive, torch.xlogy(joint, ratio) - joint + product, 0.0)
    measure = z * step  # dz = z dt
    return float(4 * (integrand * measure[:, None] * measure[None, :]).sum())


def mutual_information(variances: torch.Tensor, *, bins: int = 1024, grid: int = 800, blocks: int = 10) -> Estimate:
    """The mutual information, in nats, between two neurons of a layer, from an ensemble's variances G.

    Implements Chapter 2, Sec. "The aspect ratio", eq. `eq-two-neuron-information`: given the previous
    layer, two neurons z_1, z_2 of a plain network are independent N(0, G) with the same G (eq.
    `eq-layer-given-previous`), so over the ensemble their joint density is E_G[N(z_1; G) N(z_2; G)]
    and I(z_1; z_2) = E[log p(z_1, z_2) / (p(z_1) p(z_2))]. The expectation over G is the empirical law
    of the given variances (binned in log G); the integral over z_1, z_2 is a quadrature.

    Args:
        variances: shape (n_networks,), one network's G each (`Ensemble.readout_variances` at a layer),
            all positive.
        bins: how many bins of log G the empirical law is reduced to, >= 1.
        grid: quadrature points per axis in log|z|, >= 16.
        blocks: the jackknife's number of blocks of networks for the standard error, >= 2.

    Returns:
        An `Estimate` with the information of the empirical law and its jackknife standard error over
        networks.

    Raises:
        ValueError: for variances that are not a one-dimensional tensor of at least `blocks` positive
            finite numbers, or bins, grid, blocks out of range.

    Example:
        >>> ens = sample_preactivations("relu", 0.0, 2.0, 1.0, depth=4, width=1024, n_networks=100000)
        >>> mutual_information(ens.readout_variances[-1]).value  # about 6.9e-5 nats at m_2 = 0.025
    """
    bins, grid = check_integer("bins", bins, minimum=1), check_integer("grid", grid, minimum=16)
    blocks = check_integer("blocks", blocks, minimum=2)
    if not isinstance(variances, torch.Tensor) or variances.ndim != 1 or variances.numel() < blocks:
        raise ValueError(f"variances must be a one-dimensional tensor of at least blocks = {blocks} numbers")
    variances = variances.detach().to(device="cpu", dtype=torch.float64)
    if not bool(torch.isfinite(variances).all()) or not bool((variances > 0).all()):
        raise ValueError("variances must all be positive and finite")
    value = _mixture_information(*_binned(variances, bins), grid)
    leave_out = []
    for block in torch.arange(variances.numel()).chunk(blocks):
        keep = torch.ones(variances.numel(), dtype=torch.bool)
        keep[block] = False
        leave_out.append(_mixture_information(*_binned(variances[keep], bins), grid))
    spread = torch.tensor(leave_out, dtype=torch.float64)
    stderr = math.sqrt((blocks - 1) / blocks * float(((spread - spread.mean()) ** 2).sum()))
    return Estimate(torch.tensor(value, dtype=torch.float64), torch.tensor(stderr, dtype=torch.float64))


def information_expansion(m2: float, m3: float = 0.0, m4: float | None = None, order: int = 2) -> float:
    """The two-neuron information expanded in the moments of G / E[G], eq. `eq-information-expansion`.

    Implements Chapter 2, thm-information-expansion (derived there; the coefficients come from the exact
    symbolic expansion of `tools/information_series.py`). With m_k = E[(G / E[G] - 1)^k]::

        I = m_2^2 / 8 - 13 m_2^3 / 24
            + 3 m_3^2 / 16 - 9 m_2^2 m_3 / 4 + 1251 m_2^4 / 128 - 87 m_2^2 m_4 / 64 + 29 m_4^2 / 128
            - 159 m_2 m_3^2 / 32 + ...

    At finite width the k-th cumulant of G / E[G] is of order (L/n)^(k - 1), so the first line holds the
    terms of order (L/n)^2 and (L/n)^3 (order 2) and the others those of order (L/n)^4 and one of order
    (L/n)^5 (order 3 adds them: every term through the eighth order in the fluctuation).

    Args:
        m2: Var G / E[G]^2, >= 0 (at leading order the normalized vertex V / (n K^2) of the next layer).
        m3, m4: the third and fourth central moments, needed for order 3 only (m4 >= 0).
        order: 1 (m_2^2 / 8 alone), 2 or 3.

    Raises:
        ValueError: for a negative m2, an order other than 1, 2, 3, or order 3 without m4.
    """
    m2 = check_number("m2", m2, minimum=0.0)
    if order not in (1, 2, 3):
        raise ValueError(f"order must be 1, 2 or 3, got {order!r}")
    value = m2**2 / 8
    if order >= 2:
        value -= 13 * m2**3 / 24
    if order == 3:
        if m4 is None:
            raise ValueError("order 3 needs the fourth central moment m4")
        m3, m4 = check_number("m3", m3), check_number("m4", m4, minimum=0.0)
        value += (3 * m3**2 / 16 - 9 * m2**2 * m3 / 4 + 1251 * m2**4 / 128 - 87 * m2**2 * m4 / 64 + 29 * m4**2 / 128
                  - 159 * m2 * m3**2 / 32)
    return value


def relu_variance_moments(width: int, layer: int) -> tuple[float, float, float]:
    """The exact central moments m_2, m_3, m_4 of G / E[G] for the readout on layer l of a critical ReLU network.

    Implements the exact law of Chapter 2, thm-vertex-growth, for C_b = 0, C_W = 2 and one input: given
    the previous layer's G, the positive preactivations number B ~ Binomial(n, 1/2) and their squares
    sum to G chi^2_B, so each layer multiplies G by an independent F = (2/n) chi^2_B with E[F] = 1 and
    E[F^k] = (2/n)^k E[B (B + 2) ... (B + 2k - 2)]. The readout on layer l (`Ensemble.readout_variances[l]`)
    carries l + 1 such factors, so E[(G / E G)^k] = E[F^k]^(l + 1).

    Args:
        width: n, >= 1.
        layer: l, >= 0.
    """
    n, l = check_integer("width", width, minimum=1), check_integer("layer", layer, minimum=0)
    B = torch.arange(n + 1, dtype=torch.float64)
    log_pmf = torch.lgamma(torch.tensor(n + 1.0, dtype=torch.float64)) - torch.lgamma(B + 1) - torch.lgamma(n - B + 1)
    pmf = torch.exp(log_pmf - n * math.log(2))
    raw = []
    for k in (2, 3, 4):
        rising = torch.ones_like(B)
        for j in range(k):
            rising = rising * (B + 2 * j)
        raw.append(float((pmf * rising).sum()) * (2 / n) ** k)
    r2, r3, r4 = (value ** (l + 1) for value in raw)
    return r2 - 1, r3 - 3 * r2 + 2, r4 - 4 * r3 + 6 * r2 - 3


def information_turnover(vertex_slope: float, neurons: int = 2) -> float:
    """The aspect ratio L/n at which the two-term expansion of the shared information peaks.

    Implements Chapter 2, Sec. "The aspect ratio", eq. `eq-information-turnover` (derived there). The
    total correlation of n_L neurons of a layer, sum_i H(z_i) - H(z_1, ..., z_n_L), is
    C(n_L, 2) m_2^2 / 8 - (13 C(n_L, 2) / 24 + C(n_L, 3) / 8) m_2^3 + ... (for two neurons, the
    mutual information of `information_expansion`), which is largest at m_2 = 2 / (11 + n_L). With
    m_2 = c L/n at leading order, c the slope of the normalized vertex at criticality (5 for ReLU,
    2 for the linear network, 2/3 for tanh; thm-vertex-growth), that is L/n = 2 / ((11 + n_L) c).
    Beyond it the truncated expansion falls while the information itself keeps growing: the turnover
    marks where the expansion fails, not a maximum of the information.

    Args:
        vertex_slope: c, > 0.
        neurons: n_L, >= 2.
    """
    c, neurons = check_positive("vertex_slope", vertex_slope), check_integer("neurons", neurons, minimum=2)
    return 2 / ((11 + neurons) * c)
