"""Wide random ReLU features with a ridge penalty, and the cubic smoothing spline they converge to.

Chapter 3, Sec. "Random features and splines". A one-input network whose first layer is random
and frozen, trained only in its output layer with a ridge penalty, converges as its width n grows
to a cubic smoothing spline (Heiss, Teichmann and Wutte 2019). In general the limit penalises
∫ f''(x)^2 / g(x) dx with the weight g(x) = p(x) ``E[v^2 given a kink at x]``, where p is the density of the
kink positions -b/v of the units ReLU(v x + b). Here the kinks are uniform on the data interval
[x_min, x_max] and ``abs(v) = 1``, so g is constant there, and the limit is the ordinary (unweighted)
natural cubic smoothing spline that `scipy.interpolate.make_smoothing_spline` computes, with the
explicit λ of `spline_lambda`. The derivation is in the docstring of `smoothing_spline_reference`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.interpolate import CubicSpline, make_smoothing_spline
from scipy.integrate import quad
from scipy.optimize import minimize_scalar
from torch import nn

from dltheory.approx import adam_steps
from dltheory.checks import DTYPE, check_integer, check_interval, check_positive
_CHUNK = 2**14  # units per block when forming features, to bound memory at 8 * N * _CHUNK bytes


def _check_data(x: torch.Tensor, y: torch.Tensor) -> None:
    if x.ndim != 1 or x.numel() < 2:
        raise ValueError(f"x must be a 1-D tensor of at least 2 points, got shape {tuple(x.shape)}")
    if y.shape != x.shape:
        raise ValueError(f"y must have the shape of x {tuple(x.shape)}, got {tuple(y.shape)}")
    if not bool(torch.isfinite(x).all() and torch.isfinite(y).all()):
        raise ValueError("x and y must be finite")
    if not float(x.max()) > float(x.min()):
        raise ValueError("x must contain at least two distinct points")


@dataclass(frozen=True)
class RandomFeatureFit:
    """The trained random-feature network f(x) = c_0 + c_1 x + sum_k w_k ReLU(s_k (x - xi_k)).

    Chapter 3, Sec. "Random features and splines", eq. `eq-rf-ridge`.

    Attributes:
        kinks: the kink positions xi_k, shape (n,), drawn uniformly on [x_min, x_max] and frozen.
        signs: the first-layer weights s_k = ±1, shape (n,), frozen (bias -s_k xi_k).
        weights: the trained output weights w_k, shape (n,).
        intercept: c_0, trained and not penalised.
        slope: c_1, trained and not penalised.
    """

    kinks: torch.Tensor
    signs: torch.Tensor
    weights: torch.Tensor
    intercept: float
    slope: float

    @property
    def width(self) -> int:
        """The number n of random units."""
        return self.kinks.numel()

    def slope_variation(self, lo: float, hi: float) -> float:
        """``∫_lo^hi abs(f'')``: the sum of ``abs(w_k)`` over the kinks inside (lo, hi), since f'' = sum_k w_k δ(x - xi_k).

        Chapter 3, Sec. "Trained against random first layers", eq. `eq-tv-norm` (kinks are distinct with
        probability one, so no two jumps cancel).
        """
        lo, hi = check_interval(lo, hi)
        inside = (self.kinks > lo) & (self.kinks < hi)
        return float(self.weights[inside].abs().sum())

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """f(x) for x of shape (M,), returned with shape (M,) on the device of x.

        Uses sum_{xi_k < x} w_k (x - xi_k) = x W(x) - V(x), with W and V cumulative sums of w_k and
        w_k xi_k over the sorted kinks (and the mirror image for s_k = -1): O((n + M) log n).
        """
        if x.ndim != 1:
            raise ValueError(f"x must be a 1-D tensor, got shape {tuple(x.shape)}")
        x = x.to(DTYPE)
        order = torch.argsort(self.kinks)
        kinks, signs, weights = (t[order].to(x.device) for t in (self.kinks, self.signs, self.weights))
        below = torch.searchsorted(kinks, x)  # the number of kinks left of each x
        out = self.intercept + self.slope * x
        for sign in (1.0, -1.0):
            w = weights * (signs == sign)
            w_sum = torch.cat([w.new_zeros(1), w.cumsum(0)])
            v_sum = torch.cat([w.new_zeros(1), (w * kinks).cumsum(0)])
            if sign > 0:  # units ReLU(x - xi) are on for xi < x
                out = out + x * w_sum[below] - v_sum[below]
            else:  # units ReLU(xi - x) are on for xi > x
                out = out + (v_sum[-1] - v_sum[below]) - x * (w_sum[-1] - w_sum[below])
        return out


def _features(x: torch.Tensor, kinks: torch.Tensor, signs: torch.Tensor) -> torch.Tensor:
    """ReLU(s_k (x_i - xi_k)), shape (len(x), len(kinks))."""
    return torch.relu(signs * (x[:, None] - kinks))


def random_feature_ridge(x: torch.Tensor, y: torch.Tensor, width: int, ridge: float, seed: int = 0) -> RandomFeatureFit:
    """Fit the output layer of n = `width` random ReLU units by ridge regression, in closed form.

    Chapter 3, Sec. "Random features and splines", eq. `eq-rf-ridge`: minimise over w and (c_0, c_1)::

        sum_i (f(x_i) - y_i)^2 + ridge * sum_k w_k^2,

    with f as in `RandomFeatureFit`, kinks xi_k uniform on [min x, max x] and signs s_k = ±1 with
    equal probability (both frozen, drawn from a generator seeded by `seed`). Only the output weights
    w_k are penalised; the affine part c_0 + c_1 x is free, like the null space of the spline penalty.
    (Because it is free, the signs do not change the fitted function: ReLU(-u) = ReLU(u) - u.)

    Solved in the dual: with the N x N Gram matrix K = Φ Φ^T of the features Φ_ik and X = [1, x],
    [[K + ridge I, X], [X^T, 0]] [α; c] = [y; 0], then w = Φ^T α. Cost O(N^2 n) time and O(N^2 + n)
    memory (features are formed in blocks), so widths of 10^6 are fine for N of a few hundred.
    Computed in float64 on the device of x.

    Args:
        x: inputs, shape (N,), at least two distinct values.
        y: targets, shape (N,).
        width: the number n of random units, >= 1.
        ridge: the penalty λ > 0 on sum_k w_k^2.
        seed: seeds the kinks and signs.

    Raises:
        ValueError: if x, y are not matching 1-D finite tensors with two distinct x, or width or ridge
            is not positive.
    """
    _check_data(x, y)
    check_positive("ridge", ridge)
    x, y = x.to(DTYPE), y.to(DTYPE)
    kinks, signs = _random_units(x, width, seed)
    n_data = x.numel()
    gram = _gram(x, kinks, signs)
    affine = torch.stack([torch.ones_like(x), x], dim=1)
    system = torch.zeros(n_data + 2, n_data + 2, dtype=DTYPE, device=x.device)
    system[:n_data, :n_data] = gram + ridge * torch.eye(n_data, dtype=DTYPE, device=x.device)
    system[:n_data, n_data:] = affine
    system[n_data:, :n_data] = affine.T
    solution = torch.linalg.solve(system, torch.cat([y, y.new_zeros(2)]))
    alpha, (intercept, slope) = solution[:n_data], solution[n_data:]
    weights = _output_weights(x, kinks, signs, alpha)
    return RandomFeatureFit(kinks=kinks, signs=signs, weights=weights, intercept=float(intercept), slope=float(slope))


def _random_units(x: torch.Tensor, width: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Kinks uniform on [min x, max x] and signs ±1, shape (width,) each, from a generator seeded by `seed`."""
    check_integer("width", width, 1)
    check_integer("seed", seed, 0)
    generator = torch.Generator().manual_seed(seed)
    low, high = float(x.min()), float(x.max())
    kinks = (low + (high - low) * torch.rand(width, generator=generator, dtype=DTYPE)).to(x.device)
    signs = (2.0 * torch.randint(0, 2, (width,), generator=generator) - 1).to(DTYPE).to(x.device)
    return kinks, signs


def _gram(x: torch.Tensor, kinks: torch.Tensor, signs: torch.Tensor) -> torch.Tensor:
    """Φ Φ^T for the features Φ_ik = ReLU(s_k (x_i - xi_k)), formed in blocks of units."""
    gram = torch.zeros(x.numel(), x.numel(), dtype=DTYPE, device=x.device)
    for k, s in zip(kinks.split(_CHUNK), signs.split(_CHUNK)):
        phi = _features(x, k, s)
        gram += phi @ phi.T
    return gram


def _output_weights(x: torch.Tensor, kinks: torch.Tensor, signs: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Φ^T α, formed in blocks of units."""
    return torch.cat([_features(x, k, s).T @ alpha for k, s in zip(kinks.split(_CHUNK), signs.split(_CHUNK))])


@dataclass(frozen=True)
class GradientDescentPath:
    """Gradient descent from zero on the output layer of random ReLU units, recorded at some steps.

    Chapter 3, Sec. "Early stopping is smoothing", eq. `eq-early-filters`.

    Attributes:
        steps: the recorded step counts t, increasing.
        eta: the step size η = lr / μ_max, with μ_max the largest eigenvalue of the Gram matrix P Φ Φ^T P.
        fits: the network after each recorded step, `RandomFeatureFit` objects sharing one set of units.
    """

    steps: tuple[int, ...]
    eta: float
    fits: tuple[RandomFeatureFit, ...]


def random_feature_gradient_descent(x: torch.Tensor, y: torch.Tensor, width: int, steps: Sequence[int],
                                    lr: float = 1.0, seed: int = 0) -> GradientDescentPath:
    """Gradient descent from w = 0 on the unpenalised loss of the features of `random_feature_ridge`, stopped at `steps`.

    Chapter 3, Sec. "Early stopping is smoothing", eq. `eq-early-filters`. The units (kinks and signs) are those
    that `random_feature_ridge(x, y, width, ridge, seed)` draws. The loss is
    ``1/2 sum_i (f(x_i) - y_i)^2`` with f as in `RandomFeatureFit`; the affine part (c_0, c_1) is free, as in
    ridge, and is kept at its least-squares value for the current w (it is minimised exactly at every step),
    so the steps are gradient steps on w for the loss ``1/2 ||P (Φ w - y)||^2``, P the projection off the
    affine functions on the data: ``w_{t+1} = w_t - η Φ^T P (Φ w_t - y)``. From w_0 = 0 every iterate is
    ``w_t = Φ^T P a_t`` with ``a_{t+1} = a_t - η (K a_t - P y)``, K = P Φ Φ^T P; the iteration runs on a_t (the
    kernel trick: the same iterates at a cost O(N^2) per step instead of O(N n)). The step is η = lr / μ_max,
    stable for 0 < lr < 2. Float64, on the device of x.

    Args:
        x: inputs, shape (N,), at least two distinct values.
        y: targets, shape (N,).
        width: the number n of random units, >= 1.
        steps: the step counts at which to record the network, non-negative and increasing.
        lr: the step as a fraction of 1 / μ_max, in (0, 2).
        seed: seeds the units, as in `random_feature_ridge`.

    Raises:
        ValueError: if x, y are invalid, width or seed is invalid, steps is empty or not increasing
            non-negative integers, or lr is not in (0, 2).
    """
    _check_data(x, y)
    lr = check_positive("lr", lr)
    if not lr < 2:
        raise ValueError(f"lr must be below 2 for a stable step, got {lr}")
    if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence) or len(steps) == 0:
        raise ValueError(f"steps must be a non-empty sequence of step counts, got {steps!r}")
    recorded = [check_integer("steps[i]", t, 0) for t in steps]
    if any(b <= a for a, b in zip(recorded, recorded[1:])):
        raise ValueError(f"steps must be increasing, got {recorded}")
    x, y = x.to(DTYPE), y.to(DTYPE)
    kinks, signs = _random_units(x, width, seed)
    affine = torch.stack([torch.ones_like(x), x], dim=1)
    projection = torch.eye(x.numel(), dtype=DTYPE, device=x.device) - affine @ torch.linalg.pinv(affine)
    gram = projection @ _gram(x, kinks, signs) @ projection
    eta = lr / float(torch.linalg.eigvalsh(gram).max())
    alpha, target, done, fits = torch.zeros_like(y), projection @ y, 0, []
    for t in recorded:
        for _ in range(t - done):
            alpha = alpha - eta * (gram @ alpha - target)
        done = t
        weights = _output_weights(x, kinks, signs, projection @ alpha)
        residual = y - sum(_features(x, k, s) @ w
                           for k, s, w in zip(kinks.split(_CHUNK), signs.split(_CHUNK), weights.split(_CHUNK)))
        intercept, slope = torch.linalg.lstsq(affine, residual[:, None]).solution[:, 0]
        fits.append(RandomFeatureFit(kinks=kinks, signs=signs, weights=weights, intercept=float(intercept),
                                     slope=float(slope)))
    return GradientDescentPath(steps=tuple(recorded), eta=eta, fits=tuple(fits))


@functools.cache
def early_stopping_constant() -> float:
    """``c* ≈ 0.61``: gradient descent stopped at t matches ridge with ``λ = c* / (η t)`` when the signal is spread evenly over log μ.

    Chapter 3, Sec. "Early stopping is smoothing", eq. `eq-early-constant`. On an eigenvector of the Gram matrix
    with eigenvalue μ, the part of the target left unfitted is ``e^{-s}`` after gradient flow to time ηt
    (s = η μ t), and ``λ / (μ + λ) = 1 / (1 + s / c)`` under ridge with λ = c / (η t). The filters depend on μ and
    t only through s, so if the target's weight is spread evenly over log μ (a scale-free spectrum), the best
    c is the same for every t: the minimiser of ``∫ (e^{-s} - 1 / (1 + s / c))^2 ds / s`` over s > 0, computed
    here by quadrature (the integrand is integrable at both ends for every c > 0).
    """
    def mismatch(log_c: float) -> float:
        c = math.exp(log_c)
        return quad(lambda u: (math.exp(-math.exp(u)) - 1 / (1 + math.exp(u) / c)) ** 2, -40.0, 12.0, limit=400)[0]

    result = minimize_scalar(mismatch, bounds=(-3.0, 3.0), method="bounded", options={"xatol": 1e-10})
    return math.exp(float(result.x))


def spline_lambda(ridge: float, width: int, length: float) -> float:
    """The smoothing-spline λ that ridge regression on `width` random units converges to: ridge * length / width.

    Chapter 3, Sec. "Random features and splines", eq. `eq-spline-lambda`, for the features of
    `random_feature_ridge` (kinks uniform on an interval of this length, ``abs(v) = 1``). See
    `smoothing_spline_reference` for the derivation.

    Raises:
        ValueError: if ridge, width or length is not positive.
    """
    check_positive("ridge", ridge)
    check_integer("width", width, 1)
    check_positive("length", length)
    return ridge * length / width


@dataclass(frozen=True)
class SmoothingSpline:
    """A natural cubic smoothing spline, computed by scipy, and the λ it was computed with.

    Attributes:
        spline: the spline as computed by scipy (a ``scipy.interpolate.BSpline``), a callable on
            arrays; used only on [min x, max x] of its data.
        lam: the λ of the penalty λ ∫ f''^2.
    """

    spline: Callable[[np.ndarray], np.ndarray]
    lam: float

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The spline at x of shape (M,), returned as float64 on the device of x."""
        values = self.spline(x.detach().to("cpu", DTYPE).numpy())
        return torch.as_tensor(np.asarray(values), dtype=DTYPE).to(x.device)


def smoothing_spline_reference(x: torch.Tensor, y: torch.Tensor, lam: float) -> SmoothingSpline:
    """The natural cubic smoothing spline of (x, y) with its own smoothing parameter λ = `lam`.

    Chapter 3, Sec. "Random features and splines", eq. `eq-spline-limit`: the minimiser of::

        sum_i (f(x_i) - y_i)^2 + λ ∫_{x_min}^{x_max} f''(u)^2 du,

    computed independently by `scipy.interpolate.make_smoothing_spline` (whose objective is exactly this).
    The network `random_feature_ridge(x, y, width, ridge)` approaches it as the width grows when
    λ = `spline_lambda(ridge, width, x_max - x_min)` = ridge * (x_max - x_min) / width.

    What is matched, and why (Heiss, Teichmann and Wutte 2019, derived here for these features).
    A unit ReLU(s (x - xi)) has second derivative δ(x - xi), so f'' = sum_k w_k δ(x - xi_k): the
    curvature on [u, u + du] is the sum of the w_k of the units with kinks there, about n p(u) du of
    them, p = 1/(x_max - x_min). The cheapest way to make curvature γ(u) du there, in sum w_k^2, is to
    share it equally, at cost (γ du)^2 / (n p du); summed, ridge * sum w_k^2 becomes
    ridge / (n p) * ∫ f''^2. The affine part is free in both problems, and the minimiser is affine
    outside [x_min, x_max] in both. In kernel terms: Φ Φ^T is a Monte Carlo estimate of n times the
    kernel of the space with norm ∫ f''^2, so the finite-n fit differs from the spline by O(n^{-1/2})
    (Monte Carlo error of the kernel), which is the rate the chapter measures. For kinks with a
    non-uniform density p or random ``abs(v)``, the same argument gives the weighted penalty ∫ f''^2 / g with
    ``g = p E[v^2 given the kink]`` of Heiss et al. (2019), which scipy does not compute; this is why the features
    here are uniform.

    Args:
        x: inputs, shape (N,), N >= 5 distinct values (a requirement of scipy).
        y: targets, shape (N,).
        lam: the smoothing parameter λ > 0 of the penalty λ ∫ f''^2.

    Raises:
        ValueError: if x has fewer than 5 or repeated values, or y or lam is invalid.
    """
    lam = check_positive("lam", lam)
    xs, ys = _sorted_data(x, y)
    return SmoothingSpline(spline=make_smoothing_spline(xs, ys, lam=lam), lam=lam)


def _sorted_data(x: torch.Tensor, y: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) sorted by x as float64 arrays, checked for what scipy's smoothing spline needs."""
    _check_data(x, y)
    order = torch.argsort(x)
    xs = x.detach().to("cpu", DTYPE)[order].numpy()
    ys = y.detach().to("cpu", DTYPE)[order].numpy()
    if xs.size < 5 or not bool(np.all(np.diff(xs) > 0)):
        raise ValueError(f"x must hold at least 5 distinct values, got {xs.size} values with repeats or fewer")
    return xs, ys


def matching_spline_lambda(x: torch.Tensor, y: torch.Tensor, f: Callable[[torch.Tensor], torch.Tensor],
                           grid: torch.Tensor, guess: float, span: float = 4.0) -> float:
    """The λ of the cubic smoothing spline of (x, y) that is closest to f: a measurement of the limit's λ.

    Chapter 3, Sec. "Random features and splines", eq. `eq-spline-lambda`. Searches λ in
    [guess / span, guess * span] (on a log scale, by bounded Brent minimisation) for the natural cubic
    smoothing spline of `scipy.interpolate.make_smoothing_spline` whose mean-square distance to f on `grid`
    is least. It uses neither `spline_lambda` nor the features of f, so comparing its result with
    `spline_lambda` tests eq. `eq-spline-lambda` against an experiment.

    Args:
        x: inputs, shape (N,), N >= 5 distinct values.
        y: targets, shape (N,).
        f: the function to match (such as a `RandomFeatureFit`), mapping shape (M,) to (M,).
        grid: where the distance is measured, shape (M,), inside [min x, max x].
        guess: the centre of the search, > 0.
        span: the search covers a factor `span` on either side of `guess`, > 1.

    Raises:
        ValueError: if x, y are invalid, or guess or span is not positive (span > 1).
    """
    guess = check_positive("guess", guess)
    span = check_positive("span", span)
    if not span > 1:
        raise ValueError(f"span must be > 1, got {span}")
    xs, ys = _sorted_data(x, y)
    points = grid.detach().to("cpu", DTYPE).numpy()
    values = f(grid).detach().to("cpu", DTYPE).numpy()

    def distance(log_lam: float) -> float:
        return float(np.mean((make_smoothing_spline(xs, ys, lam=math.exp(log_lam))(points) - values) ** 2))

    centre, half = math.log(guess), math.log(span)
    result = minimize_scalar(distance, bounds=(centre - half, centre + half), method="bounded",
                             options={"xatol": 1e-6})
    return math.exp(float(result.x))


# ---------------------------------------------------------------- Sec. "Trained against random first layers"


class SkipReLUNet(nn.Module):
    """f(x) = c_0 + c_1 x + sum_k a_k ReLU(w_k x + b_k): one hidden layer with a free affine part, float64.

    Chapter 3, Sec. "Trained against random first layers", eq. `eq-tv-norm`: the network whose weight norm
    ``1/2 sum_k (a_k^2 + w_k^2)`` (biases and the affine part unpenalised) is at least ``∫ abs(f'')``, with equality
    when every unit is balanced (``abs(a_k) = abs(w_k)``) and the kinks are distinct. Initialised with w_k, b_k ~ N(0, 1),
    a_k ~ N(0, 1/width^2) and c = 0, from a generator seeded by `seed`.

    Raises:
        ValueError: if width is not a positive integer or seed is negative.
    """

    def __init__(self, width: int, seed: int = 0) -> None:
        super().__init__()
        width = check_integer("width", width, 1)
        generator = torch.Generator().manual_seed(check_integer("seed", seed, 0))
        self.w = nn.Parameter(torch.randn(width, generator=generator, dtype=DTYPE))
        self.b = nn.Parameter(torch.randn(width, generator=generator, dtype=DTYPE))
        self.a = nn.Parameter(torch.randn(width, generator=generator, dtype=DTYPE) / width)
        self.c = nn.Parameter(torch.zeros(2, dtype=DTYPE))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """f(x) for x of shape (N,), returned with shape (N,)."""
        return torch.relu(x[:, None] * self.w + self.b) @ self.a + self.c[0] + self.c[1] * x

    def weight_norm(self) -> float:
        """``1/2 sum_k (a_k^2 + w_k^2)``, the penalised part of the squared weights."""
        return 0.5 * float((self.a.detach() ** 2).sum() + (self.w.detach() ** 2).sum())

    def slope_variation(self, lo: float, hi: float) -> float:
        """``∫_lo^hi abs(f'')`` = sum of ``abs(a_k w_k)`` over the kinks -b_k / w_k inside (lo, hi) (distinct kinks)."""
        lo, hi = check_interval(lo, hi)
        a, w, b = self.a.detach(), self.w.detach(), self.b.detach()
        kinks = -b / w
        inside = (kinks > lo) & (kinks < hi)
        return float((a * w).abs()[inside].sum())


def fit_weight_decay(x: torch.Tensor, y: torch.Tensor, width: int, weight_decay: float, steps: int = 6000,
                     lr: float = 1e-2, seed: int = 0) -> SkipReLUNet:
    """A `SkipReLUNet` trained in both layers by full-batch Adam on the squared error plus weight decay.

    Chapter 3, Sec. "Trained against random first layers": minimises
    ``sum_i (f(x_i) - y_i)^2 + weight_decay / 2 * sum_k (a_k^2 + w_k^2)`` (`adam_steps`). As the decay goes to 0
    the minimisers tend to the interpolants of least ``∫ abs(f'')`` (Savarese et al. 2019), which on
    [x_min, x_max] include the linear spline through the data.

    Raises:
        ValueError: if x, y are invalid, or width, weight_decay, steps, lr or seed is.
    """
    _check_data(x, y)
    weight_decay = check_positive("weight_decay", weight_decay)
    net = SkipReLUNet(width, seed).to(x.device)
    x, y = x.to(DTYPE), y.to(DTYPE)
    adam_steps(net.parameters(),
               lambda: ((net(x) - y) ** 2).sum() + weight_decay / 2 * ((net.a**2).sum() + (net.w**2).sum()), steps, lr)
    return net


def linear_spline_slope_variation(x: torch.Tensor, y: torch.Tensor) -> float:
    """sum_j ``abs(s_j - s_{j-1})``, s_j the chord slopes: the least ``∫ abs(f'')`` on [x_min, x_max] of any interpolant.

    Chapter 3, Sec. "Trained against random first layers", eq. `eq-tv-least`: by the mean value theorem an
    interpolant takes the slope s_j somewhere in (x_j, x_{j+1}), in increasing order, so its f' varies by at
    least this much; the linear spline, whose f' jumps by s_j - s_{j-1} at x_j, attains it.

    Raises:
        ValueError: if x, y are not matching 1-D finite tensors with distinct x.
    """
    xs, ys = _sorted_data(x, y)
    slopes = np.diff(ys) / np.diff(xs)
    return float(np.abs(np.diff(slopes)).sum())


def cubic_spline_slope_variation(x: torch.Tensor, y: torch.Tensor) -> float:
    """``∫ abs(s'')`` on [x_min, x_max] of the natural cubic spline s through the data (scipy's CubicSpline).

    Chapter 3, Sec. "Trained against random first layers": what random features with a vanishing ridge
    produce (the smoothing spline of eq. `eq-spline-limit` as Λ → 0), in the norm that trained networks minimise.
    s'' is linear on each interval, so the integral is exact: ``h (abs(m_0) + abs(m_1)) / 2`` without a sign change,
    ``h (m_0^2 + m_1^2) / (2 (abs(m_0) + abs(m_1)))`` with one.

    Raises:
        ValueError: if x, y are invalid or x has fewer than 5 distinct values.
    """
    xs, ys = _sorted_data(x, y)
    curvature = CubicSpline(xs, ys, bc_type="natural")(xs, 2)
    h, m0, m1 = np.diff(xs), np.abs(curvature[:-1]), np.abs(curvature[1:])
    same = curvature[:-1] * curvature[1:] >= 0
    total = m0 + m1
    crossing = np.divide(m0**2 + m1**2, total, out=np.zeros_like(total), where=total > 0)
    return float(np.sum(h * np.where(same, total, crossing) / 2))

