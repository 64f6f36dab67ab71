"""Wrong theories that Chapter 3's notebooks must catch (see tests/wrong_theories/__init__.py)."""

from __future__ import annotations

from wrong_theories import WrongTheory

UNIVERSAL = "book/ch03/universal_approximation.ipynb"
DEPTH = "book/ch03/depth_separation.ipynb"
YAROTSKY = "book/ch03/yarotsky.ipynb"
RATES = "book/ch03/rates_dimension.ipynb"
SPLINES = "book/ch03/random_features_splines.ipynb"
EARLY = "book/ch03/early_stopping.ipynb"
REGIONS = "book/ch03/linear_regions.ipynb"
NORMS = "book/ch03/trained_vs_random.ipynb"

# The stationary Rice formula sqrt(s1/s0)/π: the value and the slope of a unit's pre-activation taken as uncorrelated.
_STATIONARY_RICE = (
    "import math\n"
    "import torch\n"
    "from torch import nn\n"
    "import dltheory.approx as _approx\n"
    "def _stationary_rice(net, a, b, points=2**14 + 1):\n"
    "    x = torch.linspace(a, b, points, dtype=torch.float64)\n"
    "    h, total, layers = x[:, None], 1.0, list(net)\n"
    "    hidden = [i for i, layer in enumerate(layers) if isinstance(layer, nn.Linear)][:-1]\n"
    "    with torch.no_grad():\n"
    "        for i, layer in enumerate(layers):\n"
    "            if i in hidden:\n"
    "                mid, slope = (h[1:] + h[:-1]) / 2, torch.diff(h, dim=0) / torch.diff(x)[:, None]\n"
    "                s0, s1 = 2 * (mid * mid).sum(1) + 1, 2 * (slope * slope).sum(1)\n"
    "                total += layer.out_features * float((torch.sqrt(s1 / s0) / math.pi * torch.diff(x)).sum())\n"
    "            h = layer(h) if isinstance(layer, nn.Linear) else torch.relu(h)\n"
    "    return total\n"
    "_approx.kac_rice_pieces = _stationary_rice"
)

WRONG_THEORIES: list[WrongTheory] = [
    WrongTheory(
        notebook=UNIVERSAL, name="interp-bound-5pct-high", kind="constant",
        description="the interpolation error M h²/8 overestimated by 5%",
        patch="import dltheory.approx as m\n_bound = m.interpolation_error_bound\n"
              "m.interpolation_error_bound = lambda h, M: 1.05 * _bound(h, M)",
        caught_by="ch03.universal.interp-tight"),
    WrongTheory(
        notebook=UNIVERSAL, name="interp-bound-h-exponent", kind="exponent",
        description="the interpolation error taken as M h^1.9/8, an exponent slightly below 2",
        patch="import dltheory.approx as m\n_bound = m.interpolation_error_bound\n"
              "m.interpolation_error_bound = lambda h, M: _bound(h, M) * h ** -0.1",
        caught_by="ch03.universal.interp-tight"),
    WrongTheory(
        notebook=YAROTSKY, name="square-error-chord-gap", kind="constant",
        description="M h²/4: the chord's midpoint gap h²/4 of x² taken as the general constant, twice the error",
        patch="import dltheory.approx as m\n_bound = m.interpolation_error_bound\n"
              "m.interpolation_error_bound = lambda h, M: 2 * _bound(h, M)",
        caught_by="ch03.yarotsky.square-m1"),
    WrongTheory(
        notebook=YAROTSKY, name="shallow-square-shift-by-mean", kind="constant",
        description="the chord shifted by the mean of the parabolic error (M h²/12) instead of half its maximum: error M h²/12",
        patch="import dltheory.approx as m\n_bound = m.interpolation_error_bound\n"
              "m.shifted_interpolation_error_bound = lambda h, M: _bound(h, M) * 8 / 12",
        caught_by="ch03.yarotsky.shallow-shifted-m2"),
    WrongTheory(
        notebook=YAROTSKY, name="shallow-square-pieces-off-by-one", kind="off-by-one",
        description="the shifted error with n + 1 pieces for n units, 1/(8(n+1)²): the lower bound's count taken for the construction",
        patch="import dltheory.approx as m\n_bound = m.shifted_interpolation_error_bound\n"
              "m.shifted_interpolation_error_bound = lambda h, M: _bound(h / (1 + h), M)",
        caught_by="ch03.yarotsky.shallow-shifted-m2"),
    WrongTheory(
        notebook=YAROTSKY, name="poly-error-per-network-layer", kind="exponent",
        description="the polynomial's error falling by 4 per layer of the whole network, depth (D − 1) m, not per tooth layer",
        patch="import dltheory.approx as m\n_bound = m.polynomial_error_bound\n"
              "m.polynomial_error_bound = lambda c, layers: _bound(c, layers) * 4.0 ** (-(len(c) - 2) * layers)",
        caught_by="ch03.yarotsky.poly-rate"),
    WrongTheory(
        notebook=DEPTH, name="random-pieces-without-the-first", kind="off-by-one",
        description="a random shallow network's pieces counted as its kinks inside the interval, n p, not 1 + n p",
        patch="import dltheory.approx as m\n_expected = m.expected_random_pieces\n"
              "m.expected_random_pieces = lambda width, a, b: _expected(width, a, b) - 1",
        caught_by="ch03.regions.random-shallow"),
    WrongTheory(
        notebook=DEPTH, name="kink-scale-inverted", kind="constant",
        description="the kink −b/w taken as Cauchy with scale √2 instead of 1/√2 (weight and bias variances swapped)",
        patch="import math\nimport dltheory.approx as m\n"
              "m.expected_random_pieces = lambda width, a, b: 1 + width * (math.atan(b / math.sqrt(2))"
              " - math.atan(a / math.sqrt(2))) / math.pi",
        caught_by="ch03.regions.random-shallow"),
    WrongTheory(
        notebook=DEPTH, name="tooth-cost-half-width", kind="constant",
        description="an untouched tooth taken to cost width/2 in L1 (its distance to 0) instead of width/4 (to the constant 1/2)",
        patch="import dltheory.approx as m\n_bound = m.sawtooth_l1_lower_bound\n"
              "m.sawtooth_l1_lower_bound = lambda k, pieces: 2 * _bound(k, pieces)",
        caught_by="ch03.depth.shallow-l1-seed0"),
    WrongTheory(
        notebook=RATES, name="barron-squared-error-as-error", kind="exponent",
        description="Barron's bound (2rC_f)²/n on the squared error quoted as a bound on the error: rate n^-1",
        patch="import dltheory.rates as m\n"
              "m.barron_bound = lambda barron_norm, radius, width: (2 * radius * barron_norm) ** 2 / (width // 2)",
        caught_by="ch03.rates.barron-d8"),
    WrongTheory(
        notebook=SPLINES, name="spline-lambda-2pct-high", kind="constant",
        description="the smoothing parameter Λ = λ L / n overestimated by 2%",
        patch="import dltheory.splines as m\n_lam = m.spline_lambda\n"
              "m.spline_lambda = lambda ridge, width, length: 1.02 * _lam(ridge, width, length)",
        caught_by="ch03.splines.lambda"),
    WrongTheory(
        notebook=SPLINES, name="spline-lambda-without-length", kind="dropped-term",
        description="Λ = λ / n: the length of the data interval dropped from eq-spline-lambda",
        patch="import dltheory.splines as m\n"
              "m.spline_lambda = lambda ridge, width, length: ridge / width",
        caught_by="ch03.splines.lambda"),
    WrongTheory(
        notebook=EARLY, name="early-stopping-mirror-pairs", kind="constant",
        description="the ridge-to-spline map with the units counted in mirror pairs, Λ = 2 λ L / n, on the early-stopping path",
        patch="import dltheory.splines as m\n_lam = m.spline_lambda\n"
              "m.spline_lambda = lambda ridge, width, length: 2 * _lam(ridge, width, length)",
        caught_by="ch03.early.constant"),
    WrongTheory(
        notebook=EARLY, name="early-stopping-loss-rate", kind="exponent",
        description="the unfitted part taken to decay like the loss, (1 - ημ)^(2t): the constant halved",
        patch="import dltheory.splines as m\n_constant = m.early_stopping_constant\n"
              "m.early_stopping_constant = lambda: _constant() / 2",
        caught_by="ch03.early.constant"),
    WrongTheory(
        notebook=REGIONS, name="kinks-of-the-first-layer-only", kind="dropped-term",
        description="deeper layers taken to fold the first layer's pieces without adding kinks: 1 + n_1 p",
        patch="import dltheory.approx as _approx\n"
              "_approx.kac_rice_pieces = lambda net, a, b, points=2**14 + 1: "
              "_approx.expected_random_pieces(_approx.hidden_widths(net)[0], a, b)",
        caught_by="ch03.regions.kac-rice-depth2"),
    WrongTheory(
        notebook=REGIONS, name="stationary-rice-formula", kind="dropped-term",
        description="the stationary Rice density sqrt(s1/s0)/π: the correlation of a unit's value and slope dropped",
        patch=_STATIONARY_RICE, caught_by="ch03.regions.kac-rice-depth2"),
    WrongTheory(
        notebook=NORMS, name="signed-slope-jumps", kind="sign",
        description="the jumps a_k w_k summed with their signs, so the least slope variation telescopes to |s_last - s_first|",
        patch="import dltheory.splines as _splines\nimport torch as _torch\n"
              "_splines.linear_spline_slope_variation = lambda x, y: abs(float("
              "((y[-1] - y[-2]) / (x[-1] - x[-2]) - (y[1] - y[0]) / (x[1] - x[0])).to(_torch.float64)))",
        caught_by="ch03.norms.trained-tv"),
    WrongTheory(
        notebook=NORMS, name="cubic-spline-squared-curvature", kind="exponent",
        description="the cubic spline's own norm, the integral of s''^2, taken for the integral of |s''|",
        patch="import numpy as _np\nimport dltheory.splines as _splines\nfrom scipy.interpolate import CubicSpline as _Cubic\n"
              "def _squared(x, y):\n"
              "    u = _np.linspace(float(x.min()), float(x.max()), 20001)\n"
              "    return float(_np.trapezoid(_Cubic(x.numpy(), y.numpy(), bc_type='natural')(u, 2) ** 2, u))\n"
              "_splines.cubic_spline_slope_variation = _squared",
        caught_by="ch03.norms.random-tv"),
]


BARRON = "book/ch03/barron.ipynb"

WRONG_THEORIES += [
    WrongTheory(
        notebook=BARRON, name="ball-projection-of-the-sphere", kind="exponent",
        description="the law of u·x on the uniform ball taken as that on the sphere, density (1 - z²)^((d-3)/2) "
                    "instead of (1 - z²)^((d-1)/2)",
        patch="import scipy.stats\nimport dltheory.rates as m\n"
              "m.ball_projection = lambda d, radius=1.0: scipy.stats.beta((d - 1) / 2, (d - 1) / 2, loc=-radius, scale=2 * radius)",
        caught_by="ch03.barron.maurey-d2"),
    WrongTheory(
        notebook=BARRON, name="ball-projection-uniform", kind="dropped-term",
        description="the projection u·x of the uniform ball taken as uniform on [-r, r], its concentration in d dimensions dropped",
        patch="import scipy.stats\nimport dltheory.rates as m\n"
              "m.ball_projection = lambda d, radius=1.0: scipy.stats.uniform(loc=-radius, scale=2 * radius)",
        caught_by="ch03.barron.maurey-d8"),
    WrongTheory(
        notebook=BARRON, name="barron-squared-error-as-error-maurey", kind="exponent",
        description="Barron's bound (2rC_f)²/n on the squared error quoted as a bound on the error: rate n^-1",
        patch="import dltheory.rates as m\n"
              "m.barron_bound = lambda barron_norm, radius, width: (2 * radius * barron_norm) ** 2 / (width // 2)",
        caught_by="ch03.barron.maurey-rate-d8"),
]

WRONG_THEORIES += [
    WrongTheory(
        notebook=BARRON, name="affine-floor-squared", kind="exponent",
        description="the fixed basis's floor read as the mean squared residual of the best affine fit "
                    "(Var g - Cov(g, z)^2 / Var z, no square root) and compared with an RMS error",
        patch="import dltheory.rates as m\n"
              "_rms = m.affine_residual\n"
              "m.affine_residual = lambda target, radius=1.0: _rms(target, radius) ** 2",
        caught_by="ch03.barron.random-basis-affine-d8"),
]
