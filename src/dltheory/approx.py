"""ReLU networks built by hand, and their linear pieces (Chapter 3, "Approximation").

Every network here is an `nn.Sequential` of plain `nn.Linear` and `nn.ReLU` layers with float64
weights set exactly, so the book can state its errors as equalities:

- `interpolation_net`: the piecewise-linear interpolant as a one-hidden-layer network, the
  constructive proof of universal approximation in one dimension (Sec. "Universal approximation").
- `sawtooth_net`: the k-fold tent map of Telgarsky (2015, 2016), 2^k pieces from 2k units (Sec. "Depth separation").
- `yarotsky_square_net`, `product_net`: x^2 and xy with errors 2^{-2m-2} and 2^{-2m-1}
  (Yarotsky 2017; Sec. "Yarotsky's construction").
- `count_linear_pieces`: the exact number of affine pieces of a one-input ReLU network, from its
  breakpoints, with the upper bound of Serra et al. (2018) and the construction of Montufar et al. (2014)
  (Sec. "Linear regions").
- `fit_relu_net`: the one Adam trainer of the chapter (Secs. "Linear regions", "Depth separation", "Rates
  and dimension").
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from numbers import Real

import torch
from torch import nn

from dltheory.checks import DTYPE, check_integer, check_interval, check_positive

# A layer given by its weight rows and bias, before it becomes an nn.Linear.
Affine = tuple[list[list[float]], list[float]]


def _network(layers: Sequence[Affine]) -> nn.Sequential:
    """Linear layers with the given float64 weights, a ReLU between each two (the global random state is untouched)."""
    modules: list[nn.Module] = []
    for i, (weight, bias) in enumerate(layers):
        w = torch.tensor(weight, dtype=DTYPE)
        with torch.random.fork_rng(devices=[]):  # nn.Linear's own initialisation is overwritten below
            linear = nn.Linear(w.shape[1], w.shape[0], dtype=DTYPE)
        with torch.no_grad():
            linear.weight.copy_(w)
            linear.bias.copy_(torch.tensor(bias, dtype=DTYPE))
        modules.append(linear)
        if i < len(layers) - 1:
            modules.append(nn.ReLU())
    return nn.Sequential(*modules)


# ---------------------------------------------------------------- Sec. "Universal approximation"


def interpolation_net(knots: torch.Tensor, values: torch.Tensor) -> nn.Sequential:
    """The one-hidden-layer ReLU network equal to the piecewise-linear interpolant of (knots, values).

    Chapter 3, Sec. "Universal approximation", eq. `eq-pl-interpolant`:
    f(x) = v_0 + sum_{j=0}^{n-1} (s_j - s_{j-1}) ReLU(x - t_j), with s_j the slope on [t_j, t_{j+1}]
    and s_{-1} = 0. On [t_0, t_n] it passes through every (t_j, v_j); it has n hidden units.

    Args:
        knots: strictly increasing t_0 < ... < t_n, shape (n + 1,), n >= 1.
        values: v_j = f(t_j), shape (n + 1,).

    Raises:
        ValueError: if knots is not 1-D, strictly increasing and of length >= 2, or values does not match it.
    """
    if knots.ndim != 1 or knots.numel() < 2:
        raise ValueError(f"knots must be a 1-D tensor of length >= 2, got shape {tuple(knots.shape)}")
    if values.shape != knots.shape:
        raise ValueError(f"values must have the shape of knots {tuple(knots.shape)}, got {tuple(values.shape)}")
    t, v = knots.detach().to("cpu", DTYPE), values.detach().to("cpu", DTYPE)
    if not bool((t[1:] > t[:-1]).all()):
        raise ValueError("knots must be strictly increasing")
    slopes = (v[1:] - v[:-1]) / (t[1:] - t[:-1])
    jumps = torch.diff(slopes, prepend=slopes.new_zeros(1))
    n = slopes.numel()
    return _network(
        [
            ([[1.0]] * n, (-t[:-1]).tolist()),
            ([jumps.tolist()], [float(v[0])]),
        ]
    ).to(knots.device)


class Power(nn.Module):
    """The activation u -> u^p: with it a one-hidden-layer network is a polynomial of degree at most p.

    Chapter 3, Sec. "Universal approximation": the activation that Leshno et al. (1993) exclude.
    """

    def __init__(self, p: int) -> None:
        super().__init__()
        self.p = check_integer("p", p, 1)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """u ** p, elementwise."""
        return u**self.p


def random_feature_least_squares(
    x: torch.Tensor, y: torch.Tensor, width: int, activation: nn.Module, scale: float = 1.0, seed: int = 0
) -> nn.Sequential:
    """A one-hidden-layer network with a random frozen first layer and the output layer fitted to (x, y) by least squares.

    Chapter 3, Sec. "Universal approximation": any activation, no penalty, Gaussian first-layer weights.
    (Its counterpart `dltheory.splines.random_feature_ridge` is ReLU only, with unit-size weights, a ridge
    penalty and a free affine part: the features whose limit is the smoothing spline.)
    Unit k computes activation(w_k (x - xi_k)) with
    w_k ~ N(0, scale^2) and centre xi_k uniform on [min x, max x] (bias -w_k xi_k), drawn from a
    generator seeded by `seed`; the output weights and bias minimise the squared error on the data
    (minimum-norm solution through the pseudo-inverse, so rank-deficient features such as those of
    `Power` are fine). Float64, on the device of x.

    Args:
        x: inputs, shape (N,).
        y: targets, shape (N,).
        width: hidden units, >= 1.
        activation: an elementwise nn.Module, such as nn.ReLU(), nn.Tanh() or Power(3).
        scale: the standard deviation of the first-layer weights, > 0.
        seed: seeds the first layer.

    Raises:
        ValueError: if x and y are not 1-D of the same length with two distinct values, or width, scale
            or seed is invalid.
        TypeError: if activation is not an nn.Module.
    """
    if x.ndim != 1 or y.shape != x.shape or not float(x.max()) > float(x.min()):
        raise ValueError(f"x and y must be 1-D of the same length with two distinct x, got {tuple(x.shape)} "
                         f"and {tuple(y.shape)}")
    width = check_integer("width", width, 1)
    seed = check_integer("seed", seed, 0)
    if not isinstance(activation, nn.Module):
        raise TypeError(f"activation must be an nn.Module, got {type(activation).__name__}")
    scale = check_positive("scale", scale)
    generator = torch.Generator().manual_seed(seed)
    weights = scale * torch.randn(width, 1, generator=generator, dtype=DTYPE)
    centres = float(x.min()) + (float(x.max()) - float(x.min())) * torch.rand(width, generator=generator, dtype=DTYPE)
    first = nn.Linear(1, width, dtype=DTYPE)
    with torch.no_grad():
        first.weight.copy_(weights)
        first.bias.copy_(-weights[:, 0] * centres)
    first = first.to(x.device)
    inputs = x.to(DTYPE)[:, None]
    with torch.no_grad():
        features = activation(first(inputs))
        design = torch.cat([features, torch.ones_like(inputs)], dim=1)
        solution = torch.linalg.pinv(design) @ y.to(DTYPE)
    last = nn.Linear(width, 1, dtype=DTYPE).to(x.device)
    with torch.no_grad():
        last.weight.copy_(solution[:-1][None, :])
        last.bias.copy_(solution[-1:])
    return nn.Sequential(first, activation, last)


def interpolation_error_bound(h: float, second_derivative_sup: float) -> float:
    """The sup error h^2 M / 8 of piecewise-linear interpolation with spacing h when ``abs(f'') <= M``.

    Chapter 3, Sec. "Universal approximation", eq. `eq-interp-error`. On one interval [t, t + h]
    the error f - p vanishes at both ends, so ``abs(f - p) <= M (x - t)(t + h - x) / 2 <= M h^2 / 8``;
    equality holds for f = x^2 at the midpoints. With n equal pieces on [a, b], h = (b - a) / n.

    Raises:
        ValueError: if h or second_derivative_sup is negative or not finite.
    """
    for name, value in (("h", h), ("second_derivative_sup", second_derivative_sup)):
        if not (isinstance(value, Real) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return h * h * second_derivative_sup / 8


def shifted_interpolation_error_bound(h: float, second_derivative_sup: float) -> float:
    """The sup error M h^2 / 16 of the interpolant shifted down by M h^2 / 16, for a convex f with ``f'' <= M``.

    Chapter 3, Sec. "Universal approximation", eq. `eq-shifted-error`. For convex f the interpolation error
    p - f lies in [0, M h^2 / 8] (eq. `eq-interp-error`), so p - M h^2 / 16 is within M h^2 / 16 of f. For
    f = x^2 (M = 2) on n equal pieces of [0, 1] this is 1 / (8 n^2), with equality: the shifted chord
    equioscillates on every piece, and no affine function does better on a piece of length h, so the
    bound is also the least error of any function with n pieces of equal length. The network is still
    `interpolation_net` with n units (the shift is its output bias).

    Raises:
        ValueError: if h or second_derivative_sup is negative or not finite.
    """
    return interpolation_error_bound(h, second_derivative_sup) / 2


def _grid_errors(net: nn.Module, target: Callable[[torch.Tensor], torch.Tensor], a: float, b: float,
                 points: int) -> torch.Tensor:
    """net(x) - target(x) on `points` equally spaced x in [a, b], in the network's dtype and device."""
    a, b = check_interval(a, b)
    points = check_integer("points", points, 2)
    reference = next(net.parameters(), torch.empty(0, dtype=DTYPE))
    x = torch.linspace(a, b, points, dtype=reference.dtype, device=reference.device)
    with torch.no_grad():
        return net(x[:, None]).squeeze(-1) - target(x)


def sup_error(
    net: nn.Module, target: Callable[[torch.Tensor], torch.Tensor], a: float, b: float, points: int = 2**16 + 1
) -> float:
    """``max abs(net(x) - target(x))`` over `points` equally spaced x in [a, b], both ends included.

    Chapter 3, Sec. "Universal approximation": how every sup error in the chapter is measured.
    A grid of 2^j + 1 points on [0, 1] contains every dyadic point i / 2^j exactly, so the maxima
    of the errors of `yarotsky_square_net` (at the midpoints i / 2^{m+1}) are on the grid.

    Args:
        net: maps a tensor of shape (N, 1) to shape (N, 1); it is evaluated in its own dtype and device.
        target: maps x of shape (N,) to shape (N,).
        a, b: the interval, a < b.
        points: the number of grid points, >= 2.

    Raises:
        ValueError: if a >= b or points < 2.
    """
    return float(_grid_errors(net, target, a, b, points).abs().max())


def mean_abs_error(
    net: nn.Module, target: Callable[[torch.Tensor], torch.Tensor], a: float, b: float, points: int = 2**16 + 1
) -> float:
    """The mean of ``abs(net(x) - target(x))`` over `points` equally spaced x in [a, b]: the L1 error per unit length.

    Chapter 3, Sec. "Depth separation": the error that eq. `eq-sawtooth-l1` bounds from below. On a grid
    of N points the mean differs from the integral (divided by b - a) by O(L / N) for an error with
    Lipschitz constant L. Arguments and errors as in `sup_error`.

    Raises:
        ValueError: if a >= b or points < 2.
    """
    return float(_grid_errors(net, target, a, b, points).abs().mean())


# ---------------------------------------------------------------- Sec. "Depth separation"


def tent_map(x: torch.Tensor) -> torch.Tensor:
    """The tent map g(x) = 2x on [0, 1/2], 2(1 - x) on [1/2, 1], written as 2 ReLU(x) - 4 ReLU(x - 1/2).

    Chapter 3, Sec. "Depth separation", eq. `eq-tent-map` (Telgarsky 2016). Defined for all real x;
    it maps [0, 1] onto [0, 1].
    """
    return 2 * torch.relu(x) - 4 * torch.relu(x - 0.5)


def sawtooth_net(k: int) -> nn.Sequential:
    """The k-fold composition g∘...∘g of the tent map as a ReLU network of depth k and width 2.

    Chapter 3, Sec. "Depth separation", eq. `eq-sawtooth` (Telgarsky 2016). On [0, 1] the result
    has exactly 2^k affine pieces, slopes ±2^k, and zeros at the even multiples of 2^{-k}; a
    one-hidden-layer network needs at least 2^k - 1 units for that many pieces. k = 0 is the identity.

    Each hidden layer holds (ReLU(h), ReLU(h - 1/2)) for the current value h; the next layer
    forms g(h) = 2 ReLU(h) - 4 ReLU(h - 1/2) inside its own weights. Float64, weights exact.

    Raises:
        ValueError: if k is not an integer >= 0.

    Example:
        >>> net = sawtooth_net(3)
        >>> count_linear_pieces(net, 0.0, 1.0)
        8
    """
    k = check_integer("k", k, 0)
    if k == 0:
        return _network([([[1.0]], [0.0])])
    first: Affine = ([[1.0], [1.0]], [0.0, -0.5])
    middle: Affine = ([[2.0, -4.0], [2.0, -4.0]], [0.0, -0.5])
    last: Affine = ([[2.0, -4.0]], [0.0])
    return _network([first] + [middle] * (k - 1) + [last])


def sawtooth_l1_lower_bound(k: int, pieces: int) -> float:
    """(1 - (pieces - 1) / 2^{k-1}) / 4, clipped at 0: the least L1 error on [0, 1] of a function with `pieces` affine pieces against the sawtooth.

    Chapter 3, Sec. "Depth separation", eq. `eq-sawtooth-l1` (the counting argument of Telgarsky 2015).
    The k-fold tent map has 2^{k-1} teeth of width 2^{1-k} and height 1. On a tooth that contains no
    breakpoint of f, f is affine, and no affine function comes closer than width / 4 in L1 to a tent
    (the best is the constant 1/2, by symmetry and convexity). A function with P pieces has P - 1
    breakpoints, each inside at most one tooth, so at least 2^{k-1} - (P - 1) teeth each add 2^{1-k} / 4.

    Args:
        k: the number of tent maps composed, >= 1.
        pieces: the number P of affine pieces of the approximating function on [0, 1], >= 1.

    Raises:
        ValueError: if k or pieces is not a positive integer.

    Example:
        >>> sawtooth_l1_lower_bound(6, 13)  # a width-12 one-hidden-layer net against 64 pieces
        0.15625
    """
    k = check_integer("k", k, 1)
    pieces = check_integer("pieces", pieces, 1)
    untouched = max(2 ** (k - 1) - (pieces - 1), 0)
    return untouched * 2.0 ** (1 - k) / 4


# ---------------------------------------------------------------- Sec. "Yarotsky's construction"


def _square_layers(m: int) -> list[Affine]:
    """Layers of f_m(x) = x - sum_s g_s(x) / 4^s; hidden state (x, ReLU(h), ReLU(h - 1/2), S)."""
    layers: list[Affine] = [([[1.0], [1.0], [1.0], [0.0]], [0.0, 0.0, -0.5, 0.0])]
    for s in range(1, m):
        # from (x, a, b, S) with g_s = 2a - 4b: carry x, split g_s at 1/2, add g_s / 4^s to S.
        scale = 0.25**s
        layers.append(
            (
                [
                    [1.0, 0.0, 0.0, 0.0],
                    [0.0, 2.0, -4.0, 0.0],
                    [0.0, 2.0, -4.0, 0.0],
                    [0.0, 2 * scale, -4 * scale, 1.0],
                ],
                [0.0, 0.0, -0.5, 0.0],
            )
        )
    scale = 0.25**m
    layers.append(([[1.0, -2 * scale, 4 * scale, -1.0]], [0.0]))
    return layers


def yarotsky_square_net(m: int) -> nn.Sequential:
    """Yarotsky's approximation f_m(x) = x - sum_{s=1}^m g_s(x) / 2^{2s} of x^2 on [0, 1].

    Chapter 3, Sec. "Yarotsky's construction", eq. `eq-yarotsky-square` (Yarotsky 2017), with g_s the
    s-fold tent map (eq. `eq-tent-map`). f_m is the piecewise-linear interpolant of x^2 at the
    2^m + 1 points i / 2^m, so by eq. `eq-interp-error` (M = 2, h = 2^{-m}) its error is
    ``sup_{[0,1]} abs(f_m(x) - x^2) = 2^{-2m-2}`` (eq. `eq-square-error`), reached at the midpoints
    (2i + 1) / 2^{m+1}: each extra layer divides the error by 4. Also f_m >= x^2 on [0, 1].

    The network has m hidden layers of width 4 (in the first, the sum unit is still 0). Each holds
    x itself (ReLU(x) = x on [0, 1]), the two units of the next tooth, and the running sum
    S = sum_{t < s} g_t(x) / 4^t >= 0; the output layer returns x - S - g_m(x) / 4^m. Float64, weights
    exact (powers of two), so at dyadic inputs the evaluation is exact for m up to about 20.

    Raises:
        ValueError: if m is not an integer >= 1.
    """
    m = check_integer("m", m, 1)
    return _network(_square_layers(m))


def _block_diagonal(blocks: Sequence[Affine]) -> Affine:
    weights = torch.block_diag(*(torch.tensor(w, dtype=DTYPE) for w, _ in blocks))
    return weights.tolist(), [value for _, bias in blocks for value in bias]


def product_net(m: int) -> nn.Sequential:
    """An approximation of xy on [0, 1]^2 by polarization: 2 f_m((x + y)/2) - f_m(x)/2 - f_m(y)/2.

    Chapter 3, Sec. "Yarotsky's construction", eq. `eq-polarization` (Yarotsky 2017), from the identity
    xy = 2((x + y)/2)^2 - x^2/2 - y^2/2 and three copies of `yarotsky_square_net(m)` run side by side.

    Error (eq. `eq-product-error`): each f_m(u) - u^2 = e(u) lies in [0, 2^{-2m-2}], so the
    error 2 e((x+y)/2) - e(x)/2 - e(y)/2 lies in [-2^{-2m-2}, 2^{-2m-1}], and
    ``sup_{[0,1]^2} abs(product(x, y) - xy) = 2^{-2m-1}``. The upper end is reached where (x + y)/2 is a
    midpoint of the grid i / 2^m and x, y are grid points (e.g. x = 0, y = 2^{-m}).

    The network takes input of shape (N, 2) and has m hidden layers of width 12. Float64, weights exact.

    Raises:
        ValueError: if m is not an integer >= 1.
    """
    m = check_integer("m", m, 1)
    square = _square_layers(m)
    first_weight, first_bias = square[0]
    # the three square nets read u = (x + y)/2, x and y.
    inputs = torch.tensor([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]], dtype=DTYPE)
    first_block = torch.block_diag(*[torch.tensor(first_weight, dtype=DTYPE)] * 3) @ inputs
    layers: list[Affine] = [(first_block.tolist(), first_bias * 3)]
    layers += [_block_diagonal([layer] * 3) for layer in square[1:-1]]
    last_weight, _ = _block_diagonal([square[-1]] * 3)
    combine = torch.tensor([[2.0, -0.5, -0.5]], dtype=DTYPE)
    layers.append(((combine @ torch.tensor(last_weight, dtype=DTYPE)).tolist(), [0.0]))
    return _network(layers)


def _check_coefficients(coefficients: Sequence[float]) -> list[float]:
    if isinstance(coefficients, (str, bytes)) or not isinstance(coefficients, Sequence) or len(coefficients) == 0:
        raise ValueError(f"coefficients must be a non-empty sequence of numbers, got {coefficients!r}")
    values = []
    for c in coefficients:
        if isinstance(c, bool) or not isinstance(c, Real) or not math.isfinite(c):
            raise ValueError(f"coefficients must be finite numbers, got {c!r}")
        values.append(float(c))
    return values


class YarotskyPolynomial(nn.Module):
    """A ReLU network approximating the polynomial sum_j c_j x^j on [0, 1], built from `product_net(m)`.

    Chapter 3, Sec. "Yarotsky's construction", eq. `eq-polynomial-error`. The powers are made one at a
    time: p_1 = x and p_{j+1} = clamp(product(x, p_j)), with clamp(u) = ReLU(u) - ReLU(u - 1) keeping
    the next product's inputs in [0, 1]. Every stage is a ReLU network (x is carried beside it, since
    ReLU(x) = x on [0, 1]), so the whole is one, of depth about (degree - 1)(m + 1). Float64.

    Attributes:
        coefficients: c_0, ..., c_D, lowest degree first.
        product: the shared `product_net(m)`.
    """

    def __init__(self, coefficients: Sequence[float], m: int) -> None:
        super().__init__()
        self.coefficients = _check_coefficients(coefficients)
        self.product = product_net(check_integer("m", m, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The approximation at x of shape (N, 1), returned with shape (N, 1)."""
        power, out = x, self.coefficients[0] + 0 * x
        for j, c in enumerate(self.coefficients[1:], start=1):
            if j > 1:
                power = torch.relu(self.product(torch.cat([x, power], dim=1)))
                power = power - torch.relu(power - 1)
            out = out + c * power
        return out


def polynomial_error_bound(coefficients: Sequence[float], m: int) -> float:
    """sum_j ``abs(c_j)`` (j - 1) 2^{-2m-1}: the sup error on [0, 1] of `YarotskyPolynomial(coefficients, m)`.

    Chapter 3, Sec. "Yarotsky's construction", eq. `eq-polynomial-error`. With e_j the error of p_j,
    ``abs(product(x, p_j) - x^{j+1}) <= abs(product(x, p_j) - x p_j) + x abs(p_j - x^j)``, so
    e_{j+1} <= 2^{-2m-1} + e_j (eq. `eq-product-error`; clamping to [0, 1] cannot increase the error
    since x^{j+1} lies there), and e_1 = 0 gives e_j <= (j - 1) 2^{-2m-1}.

    Raises:
        ValueError: if coefficients is empty or not finite numbers, or m is not an integer >= 1.
    """
    values = _check_coefficients(coefficients)
    m = check_integer("m", m, 1)
    return sum(abs(c) * max(j - 1, 0) for j, c in enumerate(values)) * 2.0 ** (-2 * m - 1)


# ---------------------------------------------------------------- Sec. "Linear regions"


def _relu_layers(net: nn.Module) -> list[nn.Module]:
    """The layers of a one-input nn.Sequential of nn.Linear and nn.ReLU, or a ValueError naming net."""
    if not isinstance(net, nn.Sequential) or len(net) == 0:
        raise ValueError(f"net must be a non-empty nn.Sequential of nn.Linear and nn.ReLU, got {type(net).__name__}")
    layers = list(net)
    for i, layer in enumerate(layers):
        if type(layer) not in (nn.Linear, nn.ReLU):
            raise ValueError(f"net may contain only nn.Linear and nn.ReLU layers; layer {i} is {type(layer).__name__}")
    linears = [layer for layer in layers if isinstance(layer, nn.Linear)]
    if not linears:
        raise ValueError("net must contain at least one nn.Linear layer")
    if linears[0].in_features != 1:
        raise ValueError(f"net must have one input, but its first nn.Linear has in_features={linears[0].in_features}")
    return layers


@dataclass(frozen=True)
class LinearPieces:
    """The affine pieces of a one-input ReLU network on [a, b], as `linear_pieces` finds them.

    On [breakpoints[i], breakpoints[i + 1]] the network equals slopes[i] * x + intercepts[i], and
    neighbouring pieces differ in slope.

    Attributes:
        breakpoints: a = t_0 < t_1 < ... < t_P = b, shape (P + 1,), float64.
        slopes: shape (P, outputs), float64.
        intercepts: shape (P, outputs), float64.
    """

    breakpoints: torch.Tensor
    slopes: torch.Tensor
    intercepts: torch.Tensor

    def __len__(self) -> int:
        return self.slopes.shape[0]


def _split_at_kinks(
    t: torch.Tensor, slope: torch.Tensor, offset: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Apply ReLU to pre-activations slope * x + offset given per piece; split pieces where one crosses 0."""
    left, right = t[:-1, None], t[1:, None]
    root = -offset / slope  # inf or nan where slope == 0: never strictly inside a piece
    crosses = (root > left) & (root < right)
    new_t = torch.unique(torch.cat([t, root[crosses]]))
    new_left = new_t[:-1]
    parent = torch.searchsorted(t, new_left, right=True) - 1
    # A unit that crosses inside the parent piece is on where it rises past its root. Deciding this by
    # comparing breakpoints (exact) rather than by evaluating at a point keeps tiny pieces consistent.
    rises_here = (new_left[:, None] >= root[parent]) == (slope[parent] > 0)
    middle = (left + right) / 2
    on_at_middle = (slope * middle + offset)[parent] > 0
    active = torch.where(crosses[parent], rises_here, on_at_middle)
    return new_t, slope[parent] * active, offset[parent] * active


def linear_pieces(net: nn.Module, a: float, b: float, rtol: float = 1e-9) -> LinearPieces:
    """The affine pieces of a one-input ReLU network on [a, b], found by an exact sweep over breakpoints.

    Chapter 3, Sec. "Linear regions", eq. `eq-linear-pieces`. The sweep carries, on every current
    interval, each unit's value as an affine function slope * x + offset of the input. A Linear layer
    maps these exactly; at a ReLU, a unit whose pre-activation crosses zero strictly inside an
    interval splits it at the root -offset/slope. After the last layer, neighbouring intervals whose
    slopes agree to `rtol` times the largest ``abs(slope)`` are merged (the network is continuous, so equal
    slopes mean equal maps): what is counted are true pieces, not candidate breakpoints where a unit
    switches without changing the output. All arithmetic is float64 on the device of the network.
    The cost is O(pieces x width) per layer, with no sampling.

    Args:
        net: an nn.Sequential of nn.Linear and nn.ReLU layers whose first Linear has one input.
        a, b: the interval, a < b.
        rtol: relative tolerance for "equal slopes" at the merge.

    Raises:
        ValueError: if net has another layer type or more than one input, if a >= b, or rtol < 0.
    """
    layers = _relu_layers(net)
    a, b = check_interval(a, b)
    if not (isinstance(rtol, Real) and rtol >= 0):
        raise ValueError(f"rtol must be a number >= 0, got {rtol!r}")
    device = next(net.parameters()).device
    t = torch.tensor([a, b], dtype=DTYPE, device=device)
    slope = torch.ones(1, 1, dtype=DTYPE, device=device)
    offset = torch.zeros(1, 1, dtype=DTYPE, device=device)
    with torch.no_grad():
        for layer in layers:
            if isinstance(layer, nn.Linear):
                weight = layer.weight.to(DTYPE)
                slope = slope @ weight.T
                offset = offset @ weight.T
                if layer.bias is not None:
                    offset = offset + layer.bias.to(DTYPE)
            else:
                t, slope, offset = _split_at_kinks(t, slope, offset)
    scale = float(slope.abs().max()) if slope.numel() else 0.0
    changes = (slope[1:] - slope[:-1]).abs().amax(dim=1) > rtol * scale
    keep = torch.cat([changes.new_ones(1), changes])
    inner = t[1:-1][changes]
    return LinearPieces(
        breakpoints=torch.cat([t[:1], inner, t[-1:]]),
        slopes=slope[keep],
        intercepts=offset[keep],
    )


def count_linear_pieces(net: nn.Module, a: float, b: float) -> int:
    """The exact number of affine pieces of a one-input ReLU network on [a, b].

    Chapter 3, Sec. "Linear regions", eq. `eq-linear-pieces`: `len(linear_pieces(net, a, b))`, found
    from the network's breakpoints by an exact sweep, not by sampling. Exact on `sawtooth_net(k)`
    (2^k on [0, 1]) and `yarotsky_square_net(m)` (2^m on [0, 1]).

    Raises:
        ValueError: if net is not an nn.Sequential of nn.Linear and nn.ReLU with one input, or a >= b.

    Example:
        >>> count_linear_pieces(yarotsky_square_net(4), 0.0, 1.0)
        16
    """
    return len(linear_pieces(net, a, b))


def grid_piece_count(net: nn.Module, a: float, b: float, points: int, rtol: float = 1e-6) -> int:
    """The number of affine pieces that sampling `net` at `points` equally spaced x in [a, b] reveals.

    Chapter 3, Sec. "Linear regions": the sampling method that `count_linear_pieces` replaces. The
    slopes of the points - 1 grid cells are compared; a run of two or more neighbouring cells with
    the same slope (to `rtol` times the largest ``abs(slope)``) is one piece. A cell that contains a
    breakpoint has a mixed slope and belongs to no run, so a piece shorter than about two cells is
    missed: the count is exact only once the grid is fine enough. Evaluated in chunks of 2^16 points.

    Raises:
        ValueError: if net is not a one-input ReLU nn.Sequential, a >= b, or points < 3.
    """
    _relu_layers(net)
    a, b = check_interval(a, b)
    points = check_integer("points", points, 3)
    reference = next(net.parameters())
    x = torch.linspace(a, b, points, dtype=DTYPE, device=reference.device)
    with torch.no_grad():
        y = torch.cat([net(chunk[:, None].to(reference.dtype)) for chunk in x.split(2**16)]).to(DTYPE)
    cell_slopes = torch.diff(y, dim=0) / torch.diff(x)[:, None]
    scale = float(cell_slopes.abs().max())
    same = ((cell_slopes[1:] - cell_slopes[:-1]).abs().amax(dim=1) <= rtol * scale).long()
    starts = torch.diff(same, prepend=same.new_zeros(1)) == 1
    return int(starts.sum())


def pieces_upper_bound(widths: Sequence[int]) -> int:
    """prod_l (n_l + 1): the most affine pieces a one-input ReLU network with hidden widths n_l can have.

    Chapter 3, Sec. "Linear regions", eq. `eq-region-upper`. On each piece coming into hidden layer l,
    every one of its n_l units is affine and crosses zero at most once, so a piece splits into at
    most n_l + 1. This is the bound of Serra, Tjandraatmadja and Ramalingam (2018) (their Theorem 1 with
    one input); Montufar et al. (2014) bound the count by 2^N for N hidden units in
    all, which is larger. One hidden layer of width n: n + 1 pieces.

    Raises:
        ValueError: if widths is empty or has an entry that is not a positive integer.
    """
    return math.prod(n + 1 for n in _check_widths(widths))


def pieces_lower_bound(widths: Sequence[int]) -> int:
    """(prod_{l<L} n_l) (n_L + 1): pieces that some one-input ReLU network with hidden widths n_l reaches.

    Chapter 3, Sec. "Linear regions", eq. `eq-region-lower`: the construction of Montufar et al.
    (2014) for one input. Each hidden layer but the last folds [0, 1] onto itself n_l times (a zigzag
    of n_l pieces, the tent map for n_l = 2); the last layer puts n_L kinks inside every fold.
    The maximum over all weights lies between this and `pieces_upper_bound`.

    Raises:
        ValueError: if widths is empty or has an entry that is not a positive integer.
    """
    widths = _check_widths(widths)
    return math.prod(widths[:-1]) * (widths[-1] + 1)


def expected_random_pieces(width: int, a: float, b: float) -> float:
    """The expected number of affine pieces on [a, b] of ``random_relu_net([width])``: 1 + width * P(kink in (a, b)).

    Chapter 3, Sec. "Linear regions". A one-hidden-layer network with one input changes slope exactly at the
    kinks -b_k / w_k of its units (the output weights are nonzero with probability one), so its count on
    [a, b] is one plus the number of kinks inside. With w_k ~ N(0, 2) and b_k ~ N(0, 1), as drawn by
    `random_relu_net`, the kink -b_k / w_k is a ratio of centred Gaussians: Cauchy with scale
    ``1/sqrt(2)``, so P(a < kink < b) = (arctan(sqrt(2) b) - arctan(sqrt(2) a)) / π. The count is a binomial
    plus one: its variance is width * p * (1 - p). The upper bound `pieces_upper_bound([width])` = width + 1
    is reached only when every kink falls inside.

    Raises:
        ValueError: if width is not a positive integer or not a < b.
    """
    width = check_integer("width", width, 1)
    a, b = check_interval(a, b)
    inside = (math.atan(math.sqrt(2) * b) - math.atan(math.sqrt(2) * a)) / math.pi
    return 1 + width * inside


def kac_rice_pieces(net: nn.Module, a: float, b: float, points: int = 2**14 + 1) -> float:
    """1 + sum_l n_l ∫_a^b ρ_l(x) dx: the pieces of a random ReLU network that the Kac–Rice formula predicts, layer by layer.

    Chapter 3, Sec. "Linear regions", eq. `eq-kac-rice` (the one-input case of Hanin and Rolnick 2019). Condition on
    the layers below layer l, whose activations h(x) (the input x itself for l = 1) are then fixed functions of x.
    With weights N(0, 2/n) and biases N(0, 1/n) (n the fan-in), as drawn by `random_relu_net`, each unit of layer
    l has the pre-activation z(x) = w · h(x) + b, a Gaussian process in x with variance ``s0 = (2 h·h + 1) / n``,
    slope variance ``s1 = 2 h'·h' / n`` and covariance ``c = 2 h·h' / n``. By the Kac–Rice formula the expected
    number of zeros of z in [a, b] is ``∫ ρ_l(x) dx`` with ``ρ_l = sqrt(s0 s1 - c^2) / (π s0)``; each zero is a kink
    of the unit, and a kink of the network unless no active path carries it to the output. So the expected
    count is at most this sum plus one, and equal to it when every kink shows (always for one hidden layer, where
    ρ_1 is the Cauchy density of `expected_random_pieces`). The prediction uses the network's own lower layers
    (it is the expectation over each layer's weights given those below), evaluated on `points` grid points:
    h is piecewise linear, so its slope on each cell is exact except in the cells that contain a kink.

    Args:
        net: a one-input nn.Sequential of nn.Linear and nn.ReLU, such as `random_relu_net(widths, seed)`.
        a, b: the interval, a < b.
        points: grid points, >= 3.

    Raises:
        ValueError: if net is not a one-input ReLU nn.Sequential, a >= b, or points < 3.
    """
    layers = _relu_layers(net)
    a, b = check_interval(a, b)
    points = check_integer("points", points, 3)
    reference = next(net.parameters())
    x = torch.linspace(a, b, points, dtype=DTYPE, device=reference.device)
    h, total = x[:, None], 1.0
    linears = [i for i, layer in enumerate(layers) if isinstance(layer, nn.Linear)]
    with torch.no_grad():
        for i, layer in enumerate(layers):
            if i in linears[:-1]:  # a hidden layer: its units' zeros, given h
                fan_in = h.shape[1]
                middle, slope = (h[1:] + h[:-1]) / 2, torch.diff(h, dim=0) / torch.diff(x)[:, None]
                s0 = (2 * (middle * middle).sum(1) + 1) / fan_in
                s1 = 2 * (slope * slope).sum(1) / fan_in
                c = 2 * (middle * slope).sum(1) / fan_in
                density = torch.sqrt((s0 * s1 - c * c).clamp(min=0)) / (math.pi * s0)
                total += layer.out_features * float((density * torch.diff(x)).sum())
            h = layer(h.to(reference.dtype)).to(DTYPE) if isinstance(layer, nn.Linear) else torch.relu(h)
    return total


def _check_widths(widths: Sequence[int]) -> list[int]:
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or len(widths) == 0:
        raise ValueError(f"widths must be a non-empty sequence of hidden-layer widths, got {widths!r}")
    return [check_integer("widths[i]", n, 1) for n in widths]


def hidden_widths(net: nn.Module) -> list[int]:
    """The widths of the hidden layers of a ReLU nn.Sequential: the out_features of all but the last Linear.

    Chapter 3, Sec. "Linear regions": the argument of `pieces_upper_bound` for a given network.

    Raises:
        ValueError: if net is not a one-input nn.Sequential of nn.Linear and nn.ReLU.
    """
    linears = [layer for layer in _relu_layers(net) if isinstance(layer, nn.Linear)]
    return [layer.out_features for layer in linears[:-1]]


def random_relu_net(widths: Sequence[int], seed: int = 0, inputs: int = 1) -> nn.Sequential:
    """A float64 ReLU network with `inputs` inputs, hidden widths `widths`, one output, and random weights and biases.

    Chapter 3, Sec. "Linear regions": the random networks whose pieces are counted, and the start of
    `fit_relu_net`. Every weight of a layer with fan-in n is drawn from N(0, 2/n) and every bias from
    N(0, 1/n), with a generator seeded by `seed` (the global random state is not touched). Nonzero biases
    matter: without them a one-input ReLU network is positively homogeneous and has at most two pieces.

    Raises:
        ValueError: if widths is empty or not positive integers, seed is negative or inputs < 1.
    """
    widths = _check_widths(widths)
    seed = check_integer("seed", seed, 0)
    inputs = check_integer("inputs", inputs, 1)
    generator = torch.Generator().manual_seed(seed)
    sizes = [inputs, *widths, 1]
    layers: list[Affine] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weight = torch.randn(fan_out, fan_in, generator=generator, dtype=DTYPE) * math.sqrt(2 / fan_in)
        bias = torch.randn(fan_out, generator=generator, dtype=DTYPE) / math.sqrt(fan_in)
        layers.append((weight.tolist(), bias.tolist()))
    return _network(layers)


def fit_relu_net(
    x: torch.Tensor, y: torch.Tensor, widths: Sequence[int], steps: int = 2000, lr: float = 1e-2, seed: int = 0,
    start: nn.Sequential | None = None,
) -> nn.Sequential:
    """A ReLU network with hidden widths `widths`, started at `start` (by default `random_relu_net(widths,
    seed, inputs=d)`) and fitted to (x, y) by full-batch Adam on the mean squared error.

    Chapter 3, Secs. "Linear regions", "Depth separation" and "Rates and dimension": the one trainer of the
    chapter, for the trained networks whose pieces and errors are compared with the hand-built ones and
    with Barron's bound. Float64, on the device of x; the global random state is not touched, and `start`
    itself is left unchanged (a copy is trained).

    Args:
        x: inputs, shape (N,) for one input or (N, d).
        y: targets, shape (N,).
        widths: hidden-layer widths, each >= 1.
        steps: Adam steps, >= 1.
        lr: Adam learning rate, > 0.
        seed: seeds the initialisation (unused when `start` is given).
        start: a ReLU nn.Sequential with d inputs, hidden widths `widths` and one output to start from,
            such as `dltheory.rates.shallow_relu_net`; None for the default.

    Raises:
        ValueError: if x is not of shape (N,) or (N, d), y not of shape (N,), widths, steps, lr or seed
            is invalid, or `start` does not have d inputs and hidden widths `widths`.
    """
    if x.ndim not in (1, 2) or y.shape != (x.shape[0],):
        raise ValueError(f"x must have shape (N,) or (N, d) and y shape (N,), got {tuple(x.shape)} and {tuple(y.shape)}")
    steps = check_integer("steps", steps, 1)
    lr = check_positive("lr", lr)
    inputs = x.to(DTYPE) if x.ndim == 2 else x.to(DTYPE)[:, None]
    if start is None:
        net = random_relu_net(widths, seed=seed, inputs=inputs.shape[1]).to(x.device)
    else:
        linears = [layer for layer in start if isinstance(layer, nn.Linear)] if isinstance(start, nn.Sequential) else []
        if (not linears or linears[0].in_features != inputs.shape[1]
                or [layer.out_features for layer in linears[:-1]] != _check_widths(widths)):
            raise ValueError(f"start must be a ReLU nn.Sequential with {inputs.shape[1]} inputs and hidden widths {list(widths)}")
        net = copy.deepcopy(start).to(x.device, DTYPE)
    targets = y.to(DTYPE)[:, None]
    adam_steps(net.parameters(), lambda: ((net(inputs) - targets) ** 2).mean(), steps, lr)
    return net


def adam_steps(parameters: Iterable[torch.Tensor], loss: Callable[[], torch.Tensor], steps: int, lr: float) -> None:
    """Take `steps` full-batch Adam steps of learning rate `lr` on the scalar `loss()`, in place.

    Chapter 3: the one optimisation loop of the chapter, shared by `fit_relu_net` and
    `dltheory.splines.fit_weight_decay`. The parameters are changed in place; nothing is returned.

    Raises:
        ValueError: if steps is not an integer >= 1 or lr is not positive.
    """
    steps = check_integer("steps", steps, 1)
    lr = check_positive("lr", lr)
    optimizer = torch.optim.Adam(list(parameters), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        value = loss()
        value.backward()
        optimizer.step()
