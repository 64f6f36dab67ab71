"""Approximation rates in d dimensions: Barron's dimension-free rate for shallow networks.

Chapter 3, Sec. "Rates and dimension". A function with finite Barron norm ``C_f = ∫ ||ω|| abs(f̂(ω)) dω``
is approximated on the ball of radius r, in L2 of any probability measure there, by a one-hidden-layer
network of n sigmoidal units with error at most 2 r C_f / sqrt(n), whatever d is (Barron 1993).
This module makes such targets, states the bound for ReLU widths and samples the ball; the networks start at
`shallow_relu_net` and are trained by `dltheory.approx.fit_relu_net` and rates are measured by `dltheory.scaling.loglog_slope`.

Sec. "Barron, done properly": `cosine_ridge` (C_f exact), the law of a projection of the ball (`ball_projection`),
Maurey's lemma as an equality for Barron's random networks (`maurey_constant`, checked by `maurey_squared_errors`
and `rms_rate`), and trained networks against a fixed random basis over widths (`trained_width_sweep`,
`random_feature_width_sweep`), whose floor for d << N << d^2 is the best affine fit (`affine_residual`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import scipy.integrate
import scipy.stats
import torch
from torch import nn

from dltheory.approx import adam_steps
from dltheory.checks import DTYPE, check_integer, check_positive


@dataclass(frozen=True)
class BarronTarget:
    """f(x) = sum_k a_k cos(ω_k · x + φ_k), a function of d variables with a known Barron norm.

    Chapter 3, Sec. "Rates and dimension", eq. `eq-barron-norm`.

    Attributes:
        frequencies: ω_k, shape (K, d).
        phases: φ_k, shape (K,).
        amplitudes: a_k, shape (K,).
    """

    frequencies: torch.Tensor
    phases: torch.Tensor
    amplitudes: torch.Tensor

    @property
    def dimension(self) -> int:
        """The number d of input variables."""
        return self.frequencies.shape[1]

    @property
    def barron_norm(self) -> float:
        """``sum_k abs(a_k) ||ω_k||``, an upper bound on ``C_f = ∫ ||ω|| abs(f̂(ω)) dω`` (equal when the ±ω_k are distinct).

        Each term a cos(ω · x + φ) puts Fourier mass ``abs(a)/2`` at ω and at -ω (Barron 1993, eq. `eq-barron-norm`).
        """
        return float((self.amplitudes.abs() * torch.linalg.vector_norm(self.frequencies, dim=1)).sum())

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """f at the rows of x, shape (N, d) -> (N,), in the dtype and on the device of x."""
        if x.ndim != 2 or x.shape[1] != self.dimension:
            raise ValueError(f"x must have shape (N, {self.dimension}), got {tuple(x.shape)}")
        frequencies, phases, amplitudes = (
            t.to(x.device, x.dtype) for t in (self.frequencies, self.phases, self.amplitudes)
        )
        return torch.cos(x @ frequencies.T + phases) @ amplitudes


def barron_target(d: int, terms: int = 8, seed: int = 0) -> BarronTarget:
    """A random `BarronTarget` in d dimensions whose Barron norm does not grow with d.

    Chapter 3, Sec. "Rates and dimension", eq. `eq-barron-norm`. The frequencies are Gaussian with
    covariance (4/d) I, so ``||ω_k|| ≈ 2`` in every dimension; the phases are uniform on [0, 2π) and the
    amplitudes are ±1/terms, so ``abs(f) <= 1`` and the Barron norm is about 2 for any d. Drawn from a
    generator seeded by `seed`; the global random state is not touched.

    Raises:
        ValueError: if d or terms is not a positive integer, or seed is negative.
    """
    d = check_integer("d", d, 1)
    terms = check_integer("terms", terms, 1)
    seed = check_integer("seed", seed, 0)
    generator = torch.Generator().manual_seed(seed)
    frequencies = torch.randn(terms, d, generator=generator, dtype=DTYPE) * (2 / math.sqrt(d))
    phases = 2 * math.pi * torch.rand(terms, generator=generator, dtype=DTYPE)
    signs = 2.0 * torch.randint(0, 2, (terms,), generator=generator, dtype=DTYPE) - 1
    return BarronTarget(frequencies=frequencies, phases=phases, amplitudes=signs / terms)


def barron_bound(barron_norm: float, radius: float, width: int) -> float:
    """2 r C_f / sqrt(floor(width / 2)): Barron's L2 error bound for a one-hidden-layer ReLU network.

    Chapter 3, Sec. "Rates and dimension", eq. `eq-barron-rate`. Barron (1993, Theorem 1): for every
    probability measure on the ball of radius r there are n sigmoidal units with L2 error at most
    2 r C_f / sqrt(n). A ramp ReLU(z) - ReLU(z - 1) is sigmoidal (bounded, tends to 0 and 1), so `width`
    ReLU units make floor(width / 2) of them, plus an output bias. No power of d appears.

    Raises:
        ValueError: if barron_norm or radius is not positive, or width < 2.
    """
    barron_norm = check_positive("barron_norm", barron_norm)
    radius = check_positive("radius", radius)
    width = check_integer("width", width, 2)
    return 2 * radius * barron_norm / math.sqrt(width // 2)


def uniform_ball(n: int, d: int, radius: float = 1.0, seed: int = 0) -> torch.Tensor:
    """n points drawn uniformly from the ball of radius r in d dimensions, shape (n, d), float64.

    Chapter 3, Sec. "Rates and dimension": the measure of the Barron bound. A Gaussian direction
    scaled by r U^{1/d}, U uniform on [0, 1], from a generator seeded by `seed`.

    Raises:
        ValueError: if n or d is not a positive integer, radius is not positive, or seed is negative.
    """
    n = check_integer("n", n, 1)
    d = check_integer("d", d, 1)
    radius = check_positive("radius", radius)
    seed = check_integer("seed", seed, 0)
    generator = torch.Generator().manual_seed(seed)
    directions = torch.randn(n, d, generator=generator, dtype=DTYPE)
    directions = directions / torch.linalg.vector_norm(directions, dim=1, keepdim=True)
    radii = radius * torch.rand(n, 1, generator=generator, dtype=DTYPE) ** (1 / d)
    return directions * radii


def shallow_relu_net(d: int, width: int, seed: int = 0) -> nn.Sequential:
    """A one-hidden-layer ReLU network with d inputs at PyTorch's default initialisation, in float64.

    Chapter 3, Sec. "Rates and dimension": the start of the trained networks compared with Barron's bound
    (trained by `dltheory.approx.fit_relu_net` with ``start=``). Every weight and bias of a layer with fan-in
    n is uniform on [-1/sqrt(n), 1/sqrt(n)] (PyTorch's default for nn.Linear), drawn under `seed` without
    changing the global random state. In d = 8 these first-layer weights are about half the size of the
    He-scaled ones of `dltheory.approx.random_relu_net`, and the fits on 1000 samples overfit less.

    Raises:
        ValueError: if d or width is not a positive integer, or seed is negative.
    """
    d = check_integer("d", d, 1)
    width = check_integer("width", width, 1)
    seed = check_integer("seed", seed, 0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(d, width), nn.ReLU(), nn.Linear(width, 1))
    return net.to(DTYPE)


# ---------------------------------------------------------------- Sec. "Barron, done properly"


def cosine_ridge(d: int, frequency_norm: float, phase: float = 0.0, seed: int = 0) -> BarronTarget:
    """f(x) = cos(ω · x + φ) with ``||ω||`` = `frequency_norm` in a random direction: a Barron target with C_f known exactly.

    Chapter 3, Sec. "Barron, done properly", eq. `eq-barron-norm`: the Fourier transform puts mass 1/2 at ω and
    at -ω, so ``C_f = ||ω||`` exactly, in every dimension. The direction is uniform on the sphere, drawn from a
    generator seeded by `seed` (the global random state is not touched).

    Raises:
        ValueError: if d is not a positive integer, frequency_norm is not positive, or seed is negative.
    """
    d = check_integer("d", d, 1)
    frequency_norm = check_positive("frequency_norm", frequency_norm)
    seed = check_integer("seed", seed, 0)
    generator = torch.Generator().manual_seed(seed)
    direction = torch.randn(1, d, generator=generator, dtype=DTYPE)
    frequencies = frequency_norm * direction / torch.linalg.vector_norm(direction)
    return BarronTarget(frequencies=frequencies, phases=torch.tensor([float(phase)], dtype=DTYPE),
                        amplitudes=torch.ones(1, dtype=DTYPE))


def _single_ridge(target: BarronTarget) -> tuple[torch.Tensor, float, float, float]:
    """The unit direction u, ``||ω||``, φ and a of a one-term target a cos(||ω|| u · x + φ)."""
    if not isinstance(target, BarronTarget) or target.frequencies.shape[0] != 1:
        raise ValueError("target must be a BarronTarget with one term, such as cosine_ridge(...)")
    norm = float(torch.linalg.vector_norm(target.frequencies))
    if norm == 0:
        raise ValueError("target must have a nonzero frequency")
    return target.frequencies[0] / norm, norm, float(target.phases[0]), float(target.amplitudes[0])


def ball_projection(d: int, radius: float = 1.0) -> Any:
    """The law of z = u · x for x uniform on the ball of radius r in d dimensions and a fixed unit vector u.

    Chapter 3, Sec. "Barron, done properly": the measure μ seen by a ridge function. Its density is
    proportional to ``(1 - (z/r)^2)^((d-1)/2)`` on [-r, r], i.e. z = r (2 B - 1) with B ~ Beta((d+1)/2, (d+1)/2);
    returned as a frozen scipy distribution (``scipy.stats.beta`` with loc -r and scale 2r: ``pdf``, ``sf``, ``var``).

    Raises:
        ValueError: if d is not a positive integer or radius is not positive.
    """
    d = check_integer("d", d, 1)
    radius = check_positive("radius", radius)
    return scipy.stats.beta((d + 1) / 2, (d + 1) / 2, loc=-radius, scale=2 * radius)


def _profile(target: BarronTarget) -> tuple[torch.Tensor, Callable[[float], float], Callable[[float], float]]:
    """The unit direction u, the profile g(z) = a cos(||ω|| z + φ) and ``abs(g')`` of a one-term target."""
    u, w, phi, a = _single_ridge(target)
    return u, (lambda z: a * math.cos(w * z + phi)), (lambda t: abs(a * w * math.sin(w * t + phi)))


def maurey_unit_norm(target: BarronTarget, radius: float = 1.0) -> float:
    """``E||φ||^2`` in L2(μ) for the random unit ``φ = V sign(g'(t)) 1{z > t}`` of Barron's construction.

    Chapter 3, Sec. "Barron, done properly", eq. `eq-maurey-identity`: with t drawn from ``abs(g'(t)) / V``
    on [-r, r], ``E||φ||^2 = V ∫ abs(g'(t)) P(z > t) dt``, z = u · x the projection of μ (`ball_projection`),
    V = ``∫ abs(g')`` the total variation of the profile. Integrals by scipy quadrature.

    Raises:
        ValueError: if target is not a one-term BarronTarget or radius is not positive.
    """
    radius = check_positive("radius", radius)
    u, _, slope = _profile(target)
    law = ball_projection(u.numel(), radius)
    variation = scipy.integrate.quad(slope, -radius, radius, limit=200)[0]
    return variation * scipy.integrate.quad(lambda t: slope(t) * law.sf(t), -radius, radius, limit=200)[0]


def ridge_mean_square(target: BarronTarget, radius: float = 1.0) -> float:
    """``||g - g(-r)||^2`` in L2(μ), μ uniform on the ball: the squared norm of the mean unit E φ.

    Chapter 3, Sec. "Barron, done properly", eq. `eq-maurey-identity`: ``E (g(z) - g(-r))^2`` under the law
    of z = u · x (`ball_projection`), by scipy quadrature.

    Raises:
        ValueError: if target is not a one-term BarronTarget or radius is not positive.
    """
    radius = check_positive("radius", radius)
    u, g, _ = _profile(target)
    law = ball_projection(u.numel(), radius)
    start = g(-radius)
    return scipy.integrate.quad(lambda z: (g(z) - start) ** 2 * law.pdf(z), -radius, radius, limit=200)[0]


def affine_residual(target: BarronTarget, radius: float = 1.0) -> float:
    """The RMS error in L2(μ) of the best affine function of x for a one-term target, μ uniform on the ball.

    Chapter 3, Sec. "Barron, done properly": the floor of a fixed random basis of N units with d << N << d^2,
    which Ghorbani, Mei, Misiakiewicz and Montanari (2019, arXiv:1904.12191v1, abstract) prove performs no better than
    linear regression on the raw features (x uniform on the sphere, d and N large, infinitely many samples).
    μ is rotation invariant, so the projection of g(u · x) onto affine functions of x is affine in z = u · x and
    the error is ``sqrt(Var g(z) - Cov(g(z), z)^2 / Var z)`` under the law of z (`ball_projection`), by scipy
    quadrature.

    Raises:
        ValueError: if target is not a one-term BarronTarget or radius is not positive.
    """
    radius = check_positive("radius", radius)
    u, g, _ = _profile(target)
    law = ball_projection(u.numel(), radius)

    def moment(h: Callable[[float], float]) -> float:
        return scipy.integrate.quad(lambda z: h(z) * law.pdf(z), -radius, radius, limit=200)[0]

    mean = moment(g)
    variance = moment(lambda z: (g(z) - mean) ** 2)
    covariance = moment(lambda z: (g(z) - mean) * z)  # E z = 0: the law is symmetric
    return math.sqrt(max(variance - covariance ** 2 / law.var(), 0.0))


def maurey_constant(target: BarronTarget, radius: float = 1.0) -> float:
    """``n E||f - f_n||^2`` for Barron's random n-unit network of a one-term target: Maurey's lemma as an equality.

    Chapter 3, Sec. "Barron, done properly", eq. `eq-maurey-identity` (derived here from the lemma of Maurey
    and Jones in the form Barron 1993 uses). With z = u · x and the profile g(z) = f(x), on [-r, r]
    ``g(z) - g(-r) = ∫ g'(t) 1{z > t} dt``; a unit ``φ = V sign(g'(t)) 1{z > t}`` with t drawn from
    ``abs(g'(t)) / V`` has mean g - g(-r), and the average f_n of n independent units, plus the constant
    g(-r), has ``n E||f - f_n||^2 = E||φ||^2 - ||g - g(-r)||^2`` (`maurey_unit_norm` minus
    `ridge_mean_square`), at most ``V^2 <= (2 r C_f)^2``.

    Raises:
        ValueError: if target is not a one-term BarronTarget or radius is not positive.
    """
    return maurey_unit_norm(target, radius) - ridge_mean_square(target, radius)


def maurey_squared_errors(target: BarronTarget, width: int, draws: int, points: int = 500, radius: float = 1.0,
                          seed: int = 0) -> torch.Tensor:
    """Squared L2(μ) errors of `draws` independent random n-unit networks f_n of Barron's construction.

    Chapter 3, Sec. "Barron, done properly": the experiment behind `maurey_constant`. Each network is
    ``g(-r) + (V / n) sum_k s_k 1{u · x > t_k}`` with thresholds t_k drawn from ``abs(g'(t)) / V`` on [-r, r] by
    rejection (uniform proposals accepted with probability ``abs(g'(t)) / max abs(g')``), ``s_k = sign(g'(t_k))``,
    and V the total variation of the profile, summed here over a grid of 20001 points of [-r, r]. Each
    network's error ``||f - f_n||^2`` is estimated on its own `points` fresh points uniform on the ball
    (`uniform_ball`), so the returned values, shape (draws,), are independent unbiased estimates of
    ``E||f - f_n||^2`` and their scatter includes the test sample's.

    Args:
        target: a one-term `BarronTarget`, ``a cos(||ω|| u · x + φ)``.
        width: n, the units per network, >= 1.
        draws: the number of networks, >= 1.
        points: test points per network, >= 1.
        radius: r, > 0.
        seed: seeds the thresholds and the test points.

    Raises:
        ValueError: if target is not a one-term BarronTarget, or width, draws, points, radius or seed is invalid.
    """
    width = check_integer("width", width, 1)
    draws = check_integer("draws", draws, 1)
    points = check_integer("points", points, 1)
    radius = check_positive("radius", radius)
    seed = check_integer("seed", seed, 0)
    u, w, phi, a = _single_ridge(target)
    slope = lambda t: -a * w * torch.sin(w * t + phi)  # noqa: E731
    grid = torch.linspace(-radius, radius, 20001, dtype=DTYPE)
    variation = float(torch.diff(a * torch.cos(w * grid + phi)).abs().sum())
    generator = torch.Generator().manual_seed(seed)
    needed, thresholds = draws * width, torch.empty(0, dtype=DTYPE)
    while thresholds.numel() < needed:
        t = radius * (2 * torch.rand(2 * needed, generator=generator, dtype=DTYPE) - 1)
        keep = torch.rand(2 * needed, generator=generator, dtype=DTYPE) * abs(a * w) < slope(t).abs()
        thresholds = torch.cat([thresholds, t[keep]])
    t = thresholds[:needed].reshape(draws, width).sort(dim=1).values
    # the step sum at z is the sum of the signs of the thresholds below z: a cumulative sum read by searchsorted
    below = torch.cat([torch.zeros(draws, 1, dtype=DTYPE), torch.sign(slope(t)).cumsum(dim=1)], dim=1)
    x = uniform_ball(draws * points, u.numel(), radius, seed=seed)
    z = (x @ u.to(DTYPE)).reshape(draws, points)
    steps = below.gather(1, torch.searchsorted(t, z))
    start = a * math.cos(-w * radius + phi)
    return (target(x).reshape(draws, points) - start - variation / width * steps).pow(2).mean(dim=1)


def rms_rate(widths: Sequence[int], squared_errors: Sequence[torch.Tensor]) -> tuple[float, float]:
    """The slope of log RMS error against log width, and its standard error, from independent squared errors.

    Chapter 3, Sec. "Barron, done properly": the measured rate of ``sqrt(E||f - f_n||^2)``. At width n_j the
    mean m_j of the draws ``squared_errors[j]`` estimates ``E||f - f_n||^2`` with relative standard error
    ``s_j / (m_j sqrt(M_j))``; half of it is that of log sqrt(m_j), and the least-squares slope
    ``sum_j c_j log sqrt(m_j)`` with ``c_j = (log n_j - mean) / sum (log n - mean)^2`` has the standard error
    ``sqrt(sum_j c_j^2 se_j^2)`` (delta method, independent widths).

    Raises:
        ValueError: if the lengths differ, fewer than two widths are given, a width is not a positive integer,
            or a set of squared errors has fewer than two values or a non-positive mean.
    """
    if len(widths) != len(squared_errors) or len(widths) < 2:
        raise ValueError("widths and squared_errors must have the same length >= 2")
    log_n = torch.tensor([math.log(check_integer("widths[j]", n, 1)) for n in widths], dtype=DTYPE)
    logs, ses = [], []
    for errors in squared_errors:
        errors = torch.as_tensor(errors, dtype=DTYPE).flatten()
        if errors.numel() < 2 or not float(errors.mean()) > 0:
            raise ValueError("each set of squared_errors needs two or more values with a positive mean")
        logs.append(0.5 * math.log(float(errors.mean())))
        ses.append(0.5 * float(errors.std()) / (float(errors.mean()) * math.sqrt(errors.numel())))
    centred = log_n - log_n.mean()
    if not float((centred**2).sum()) > 0:
        raise ValueError("widths must not all be equal")
    weights = centred / (centred**2).sum()
    slope = float((weights * torch.tensor(logs, dtype=DTYPE)).sum())
    return slope, float(torch.sqrt((weights**2 * torch.tensor(ses, dtype=DTYPE) ** 2).sum()))


@dataclass(frozen=True)
class WidthSweep:
    """Test RMS errors of one-hidden-layer networks over widths and independent seeds.

    Chapter 3, Sec. "Barron, done properly": the result of `trained_width_sweep` and
    `random_feature_width_sweep`.

    Attributes:
        widths: the widths n, length J.
        errors: the RMS error on fresh test points, shape (seeds, J).
    """

    widths: tuple[int, ...]
    errors: torch.Tensor

    def mean(self) -> torch.Tensor:
        """The mean error over seeds at each width, shape (J,)."""
        return self.errors.mean(dim=0)

    def standard_error(self) -> torch.Tensor:
        """The standard error of `mean` from the scatter over seeds, shape (J,)."""
        return self.errors.std(dim=0) / math.sqrt(self.errors.shape[0])

    def slopes(self) -> torch.Tensor:
        """The least-squares slope of log error against log width for each seed, shape (seeds,)."""
        log_n = torch.tensor(self.widths, dtype=DTYPE).log()
        centred = log_n - log_n.mean()
        log_e = self.errors.log()
        return (log_e - log_e.mean(dim=1, keepdim=True)) @ centred / (centred**2).sum()


def _check_sweep(widths: Sequence[int], seeds: int) -> tuple[tuple[int, ...], int]:
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or len(widths) < 2:
        raise ValueError(f"widths must be a sequence of two or more widths, got {widths!r}")
    return tuple(check_integer("widths[j]", n, 1) for n in widths), check_integer("seeds", seeds, 2)


def _test_errors(target: BarronTarget, predict: Callable[[torch.Tensor], torch.Tensor], seeds: int, points: int,
                 radius: float, seed: int, device: torch.device) -> torch.Tensor:
    """RMS errors, shape (seeds, J), of the batched predictor on `points` fresh test points per seed."""
    x = torch.stack([uniform_ball(points, target.dimension, radius, seed=seed + 7919 * (s + 1)) for s in range(seeds)])
    x = x.to(device)
    with torch.no_grad():
        return (predict(x) - target(x.reshape(-1, target.dimension)).reshape(seeds, points, 1)).pow(2).mean(1).sqrt().cpu()


def trained_width_sweep(target: BarronTarget, widths: Sequence[int], seeds: int = 3, steps: int = 200, batch: int = 128,
                        lr: float = 1e-2, test_points: int = 2000, radius: float = 1.0, seed: int = 0,
                        device: str | torch.device = "cpu") -> WidthSweep:
    """Test errors of one-hidden-layer ReLU networks of every width, all layers trained by Adam on fresh samples.

    Chapter 3, Sec. "Barron, done properly": the trained networks compared with Barron's bound
    (eq. `eq-barron-rate`) and with `random_feature_width_sweep`. Every width and seed is an independent network
    f(x) = c + sum_k a_k ReLU(w_k · x + b_k) at PyTorch's default initialisation (as `shallow_relu_net`); all are
    trained together as one batched computation by `dltheory.approx.adam_steps` on the summed mean squared
    errors (Adam acts coordinate by coordinate, so the networks do not interact). Each step draws a fresh batch
    uniform on the ball for each seed, so the loss is an unbiased estimate of the L2(μ) error and there is no
    estimation error to separate from approximation and optimisation. Float64 on `device`.

    Raises:
        ValueError: if widths has fewer than two entries or a width is not a positive integer, seeds < 2, or
            steps, batch, lr, test_points, radius or seed is invalid.
    """
    widths, seeds = _check_sweep(widths, seeds)
    steps, batch = check_integer("steps", steps, 1), check_integer("batch", batch, 1)
    test_points, seed = check_integer("test_points", test_points, 1), check_integer("seed", seed, 0)
    radius, device, d = check_positive("radius", radius), torch.device(device), target.dimension
    total = sum(widths)
    owner = torch.repeat_interleave(torch.arange(len(widths)), torch.tensor(widths))
    mask = torch.nn.functional.one_hot(owner, len(widths)).to(DTYPE)  # unit k -> its network, (total, J)
    generator = torch.Generator().manual_seed(seed)
    first = (2 * torch.rand(seeds, d + 1, total, generator=generator, dtype=DTYPE) - 1) / math.sqrt(d)
    fan_in = torch.tensor(widths, dtype=DTYPE)[owner].sqrt()
    second = (2 * torch.rand(seeds, total, 1, generator=generator, dtype=DTYPE) - 1) / fan_in[:, None]
    bias = (2 * torch.rand(seeds, 1, len(widths), generator=generator, dtype=DTYPE) - 1) / fan_in.new_tensor(widths).sqrt()
    weight, offset = first[:, :d].clone(), first[:, d:].clone()
    parameters = [p.to(device).requires_grad_() for p in (weight, offset, second, bias)]
    mask = mask.to(device)

    def predict(x: torch.Tensor) -> torch.Tensor:  # (seeds, N, d) -> (seeds, N, J)
        w, b, a, c = parameters
        return torch.relu(x @ w + b) @ (a * mask) + c

    x = uniform_ball(steps * seeds * batch, d, radius, seed=seed).reshape(steps, seeds, batch, d).to(device)
    y = target(x.reshape(-1, d)).reshape(steps, seeds, batch, 1)
    step = iter(range(steps))

    def loss() -> torch.Tensor:
        t = next(step)
        return (predict(x[t]) - y[t]).pow(2).mean(dim=1).sum()

    adam_steps(parameters, loss, steps, lr)
    return WidthSweep(widths, _test_errors(target, predict, seeds, test_points, radius, seed, device))


def random_feature_width_sweep(target: BarronTarget, widths: Sequence[int], seeds: int = 3, samples: int = 4000,
                               test_points: int = 2000, radius: float = 1.0, seed: int = 0,
                               device: str | torch.device = "cpu") -> WidthSweep:
    """Test errors of one-hidden-layer ReLU networks whose first layer is fixed at random, over widths.

    Chapter 3, Sec. "Barron, done properly": the fixed random basis against `trained_width_sweep`. Unit k is
    ``ReLU(v_k · x - τ_k)`` with v_k uniform on the unit sphere and τ_k uniform on [-r, r] (the reduced
    parameter space of Sec. "Remark: a reduced parameter space", drawn from a generator seeded by `seed`);
    only the output weights and bias are fitted, by least squares on `samples` points uniform on the ball
    (minimum-norm, through the pseudo-inverse: in high d many units are dead or affine on the ball).
    Float64 on `device`.

    Raises:
        ValueError: if widths has fewer than two entries or a width is not a positive integer, seeds < 2, or
            samples, test_points, radius or seed is invalid.
    """
    widths, seeds = _check_sweep(widths, seeds)
    samples, test_points = check_integer("samples", samples, 1), check_integer("test_points", test_points, 1)
    radius, seed, device, d = check_positive("radius", radius), check_integer("seed", seed, 0), torch.device(device), target.dimension
    generator = torch.Generator().manual_seed(seed)
    x = uniform_ball(seeds * samples, d, radius, seed=seed + 1).to(device)
    y = target(x).reshape(seeds, samples, 1)
    x = x.reshape(seeds, samples, d)
    bases, outputs = [], []
    for n in widths:
        v = torch.randn(seeds, d, n, generator=generator, dtype=DTYPE)
        v = (v / torch.linalg.vector_norm(v, dim=1, keepdim=True)).to(device)
        tau = (radius * (2 * torch.rand(seeds, 1, n, generator=generator, dtype=DTYPE) - 1)).to(device)
        design = torch.cat([torch.relu(x @ v - tau), torch.ones(seeds, samples, 1, dtype=DTYPE, device=device)], dim=2)
        bases.append((v, tau))
        outputs.append(torch.linalg.pinv(design) @ y)  # minimum-norm least squares: units dead on the ball are fine

    def predict(points: torch.Tensor) -> torch.Tensor:
        ones = torch.ones(*points.shape[:2], 1, dtype=DTYPE, device=points.device)
        return torch.cat([torch.cat([torch.relu(points @ v - tau), ones], dim=2) @ out
                          for (v, tau), out in zip(bases, outputs)], dim=2)

    return WidthSweep(widths, _test_errors(target, predict, seeds, test_points, radius, seed, device))
