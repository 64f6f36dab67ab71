"""The kernel flow of deep random networks, Chapter 2, "Effective theory and RG flow".

A multilayer perceptron of width n with weights W ~ N(0, C_W / n) and biases b ~ N(0, C_b) maps
its preactivations layer to layer by z^(l+1) = b + W sigma(z^(l)) (eq. `eq-mlp`). At infinite
width the preactivations are Gaussian with a kernel that flows by

    K^(l+1) = C_b + C_W <sigma(z_1) sigma(z_2)>_{K^(l)}                      (eq. `eq-kernel-recursion`)

(Poole et al. 2016; Schoenholz et al. 2017; Roberts, Yaida, Hanin 2022, Ch. 4-5), where
<f>_K is the average over a centred Gaussian with covariance K. This module computes that flow,
its fixed points and two susceptibilities, the critical initialisations and the correlation
depth scale, and the leading finite-width correction: the four-point vertex V^(l), whose size
V / (n K^2) grows in proportion to depth over width.

Layers are counted from the first preactivations z^(0) = b + W x of the inputs x, which are exactly
Gaussian with kernel K0 = C_b + C_W x x^T / n_0 (`input_kernel`); element l of every returned flow
belongs to the preactivations after l nonlinear layers.

Gaussian averages are computed by Gauss-Legendre quadrature on panels of each half-line that shrink
geometrically towards the origin (one variable), or in polar coordinates with the angle cut along
the rays where z_1 = 0 or z_2 = 0 (two variables), truncated at 10 standard deviations. Plain
Gauss-Hermite quadrature converges only like 1/nodes for activations with a kink at the origin (for
ReLU's two-input average, an error of about 1e-3 with 100 nodes per variable); these rules are exact
to rounding for the scale-invariant class and accurate to about 1e-15 for the smooth named
activations at variances up to K = 1e4 (sin only up to K of about 10: beyond, it oscillates faster
than the nodes resolve, 1e-6 at K = 100).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.optimize import brentq

from dltheory.activations import Activation, activation_name, derivative, get_activation
from dltheory.checks import DTYPE, check_integer, check_number

_BREAKS = (0.0, 0.04, 0.13, 0.4, 1.3, 4.0, 10.0)  # panels in standard deviations; cut at 10 (weight 2e-22)
_PANEL_NODES = 24  # Gauss-Legendre nodes per panel of the one-variable rule
_RADIAL_NODES = 16  # ... per panel of the radial part of the two-variable rule
_ARC_NODES = 24  # ... per arc between two cuts of the angular part
_K_SMALL = 1e-8  # the susceptibilities at K < _K_SMALL are their limits K -> 0+, taken at _K_SMALL


def _panels(nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Gauss-Legendre nodes and weights on each panel of _BREAKS (the half-line [0, 10])."""
    t, w = np.polynomial.legendre.leggauss(nodes)
    lo, hi = np.array(_BREAKS[:-1])[:, None], np.array(_BREAKS[1:])[:, None]
    x, weights = lo + (hi - lo) * (t + 1) / 2, (hi - lo) * w / 2
    return torch.tensor(x.ravel(), dtype=DTYPE), torch.tensor(weights.ravel(), dtype=DTYPE)


# One variable: u ~ N(0, 1) on both half-lines. The panels shrink towards u = 0 geometrically, so that
# an activation's features at |z| ~ 1 stay resolved for variances K up to 1e4 (u ~ 1 / sqrt(K)).
_x, _w = _panels(_PANEL_NODES)
_U = torch.cat([-_x.flip(0), _x])
_W = torch.cat([_w.flip(0), _w]) * torch.exp(-0.5 * _U**2) / math.sqrt(2 * math.pi)
# Two variables: the radius of a standard normal pair, with density r exp(-r^2 / 2).
_R, _w = _panels(_RADIAL_NODES)
_W_R = _w * _R * torch.exp(-0.5 * _R**2)
_T_ARC, _W_ARC = (torch.tensor(a, dtype=DTYPE) for a in np.polynomial.legendre.leggauss(_ARC_NODES))
_T_ARC, _W_ARC = (_T_ARC + 1) / 2, _W_ARC / 2  # mapped to [0, 1]
del _x, _w


def _expect(f: Callable[[torch.Tensor], torch.Tensor], K: torch.Tensor) -> torch.Tensor:
    """<f(z)> for z ~ N(0, K), for every variance in the tensor K (any shape, float64, K >= 0)."""
    return (f(K.sqrt().unsqueeze(-1) * _U) * _W).sum(-1)


def _expect2(
    f: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], K11: torch.Tensor, K12: torch.Tensor, K22: torch.Tensor
) -> torch.Tensor:
    """<f(z_1, z_2)> for (z_1, z_2) centred Gaussian with covariance [[K11, K12], [K12, K22]] (batched).

    With z_1 = a u_1, z_2 = b (rho u_1 + s u_2), (u_1, u_2) standard normal, the integral is done in
    polar coordinates (r, theta) of u, with the angle cut at the four rays where z_1 = 0 or z_2 = 0.
    """
    a, b = K11.sqrt(), K22.sqrt()
    rho = torch.where(a * b > 0, K12 / (a * b).clamp_min(1e-300), torch.zeros_like(K12)).clamp(-1.0, 1.0)
    s = (1 - rho**2).clamp_min(0).sqrt()
    ray = torch.atan2(-rho, s) % (2 * math.pi)  # z_2 = 0 along this ray and the opposite one
    z1_zero = torch.full_like(ray, math.pi / 2)  # and 3 pi / 2
    cuts = torch.stack([z1_zero, z1_zero + math.pi, ray, (ray + math.pi) % (2 * math.pi)], -1).sort(-1).values
    ends = torch.cat([cuts, cuts[..., :1] + 2 * math.pi], -1)
    lo, width = ends[..., :-1, None], (ends[..., 1:] - ends[..., :-1])[..., None]
    theta = (lo + width * _T_ARC).flatten(-2)  # (..., 4 * _ARC_NODES)
    w_theta = (width * _W_ARC).flatten(-2) / (2 * math.pi)
    u1 = theta.cos()
    u2 = rho[..., None] * u1 + s[..., None] * theta.sin()
    z1 = a[..., None, None] * _R[:, None] * u1[..., None, :]
    z2 = b[..., None, None] * _R[:, None] * u2[..., None, :]
    return (f(z1, z2) * _W_R[:, None] * w_theta[..., None, :]).sum((-2, -1))


# ----------------------------------------------------------------------------------------------
# Validation at the boundary.


def _nonnegative_tensor(name: str, value: float | torch.Tensor) -> torch.Tensor:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number or a tensor, got a bool")
    tensor = torch.as_tensor(value, dtype=DTYPE).detach().cpu()
    if not torch.isfinite(tensor).all() or (tensor < 0).any():
        raise ValueError(f"{name} must be finite and non-negative, got {value!r}")
    return tensor


def check_kernel(name: str, K: float | torch.Tensor | object) -> torch.Tensor:
    """``K`` as a float64 CPU tensor: a variance (shape ()) or a covariance matrix (shape (m, m)).

    The boundary check of every function of Chapter 2 that takes a kernel (`gaussian_expectation`,
    `kernel_recursion`, `dltheory.ensembles.sample_preactivations`).

    Raises:
        TypeError: if ``K`` is a bool or not convertible to a tensor.
        ValueError: naming ``name``, if ``K`` is not finite, a negative variance, not square, not symmetric or
            not positive semi-definite.
    """
    if isinstance(K, bool):
        raise TypeError(f"{name} must be a variance or a covariance matrix, got a bool")
    try:
        given = K if isinstance(K, torch.Tensor) else torch.as_tensor(K, dtype=DTYPE)
        tensor = given.detach().to("cpu", DTYPE)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{name} must be a variance or a covariance matrix, got {type(K).__name__}") from None
    eps = torch.finfo(given.dtype).eps if given.is_floating_point() else torch.finfo(DTYPE).eps
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{name} must be finite, got {K!r}")
    if tensor.ndim == 0:
        if tensor < 0:
            raise ValueError(f"{name} must be a non-negative variance, got {float(tensor)}")
        return tensor
    if tensor.ndim != 2 or tensor.shape[0] != tensor.shape[1] or tensor.shape[0] == 0:
        raise ValueError(f"{name} must be a variance or a square covariance matrix, got shape {tuple(tensor.shape)}")
    scale = float(tensor.diagonal().abs().max())
    if not torch.allclose(tensor, tensor.T, rtol=100 * eps, atol=100 * eps * scale):
        raise ValueError(f"{name} must be symmetric")
    if float(torch.linalg.eigvalsh(tensor).min()) < -100 * eps * scale:
        raise ValueError(f"{name} must be positive semi-definite (a covariance), it has a negative eigenvalue")
    return 0.5 * (tensor + tensor.T)


# ----------------------------------------------------------------------------------------------
# Gaussian averages and the kernel flow.


def gaussian_expectation(f: Callable[..., torch.Tensor], K: float | torch.Tensor) -> float:
    """<f(z)>_K, the average of f over a centred Gaussian with variance or 2x2 covariance K.

    Implements the Gaussian average of Chapter 2, Sec. "Kernel flow", eq. `eq-gaussian-average`,
    by the quadrature described in the module docstring (exact to rounding for ReLU moments and for
    the arc-cosine kernels of Cho & Saul 2009).

    Args:
        f: an elementwise torch function of one tensor (when K is a variance) or of two tensors
            z_1, z_2 (when K is a 2x2 covariance), evaluated on float64 tensors of nodes.
        K: a non-negative number (a variance), or a symmetric positive semi-definite 2x2 matrix
            (a tensor, array or nested list).

    Raises:
        ValueError: if K is negative, not finite, not symmetric, not positive semi-definite, or
            neither a number nor 2x2.

    Example:
        >>> gaussian_expectation(lambda z: torch.relu(z) ** 2, 3.0)  # K / 2
        1.5
    """
    kernel = check_kernel("K", K)
    if kernel.ndim == 0:
        return float(_expect(f, kernel))
    if kernel.shape != (2, 2):
        raise ValueError(f"K must be a variance or a 2x2 covariance matrix, got shape {tuple(kernel.shape)}")
    return float(_expect2(f, kernel[0, 0], kernel[0, 1], kernel[1, 1]))


def input_kernel(x: torch.Tensor, C_b: float, C_W: float) -> torch.Tensor:
    """K0 = C_b + C_W x x^T / n_0, the kernel of the first preactivations z^(0) = b + W x.

    Implements Chapter 2, Sec. "Random networks", eq. `eq-input-kernel`. The first preactivations
    are exactly Gaussian with this kernel, for any width.

    Args:
        x: the inputs, shape (m, n_0) for m inputs of dimension n_0, or (n_0,) for one input.
        C_b: bias variance, >= 0.
        C_W: weight variance times fan-in, >= 0.

    Returns:
        A float64 tensor of shape (m, m), or shape () for a single input of shape (n_0,).

    Raises:
        ValueError: if x is not one- or two-dimensional or not finite, or C_b or C_W is negative.
    """
    C_b, C_W = check_number("C_b", C_b, minimum=0.0), check_number("C_W", C_W, minimum=0.0)
    if not isinstance(x, torch.Tensor) or x.ndim not in (1, 2) or x.shape[-1] == 0:
        raise ValueError("x must be a tensor of shape (m, n_0) or (n_0,)")
    if not torch.isfinite(x).all():
        raise ValueError("x must be finite")
    inputs = x.detach().to("cpu", DTYPE)
    if inputs.ndim == 1:
        return C_b + C_W * (inputs @ inputs) / inputs.shape[0]
    return C_b + C_W * (inputs @ inputs.T) / inputs.shape[1]


def _next_kernel(sigma: Activation, C_b: float, C_W: float, K: torch.Tensor) -> torch.Tensor:
    """C_b + C_W <sigma(z_a) sigma(z_b)>_K for every pair a, b of an (m, m) covariance K."""
    m = K.shape[0]
    diagonal = _expect(lambda z: sigma(z) ** 2, K.diagonal())
    rows, cols = torch.triu_indices(m, m, offset=1)
    off = _expect2(lambda z1, z2: sigma(z1) * sigma(z2), K.diagonal()[rows], K[rows, cols], K.diagonal()[cols])
    moment = torch.diag(diagonal)
    moment[rows, cols] = off
    moment[cols, rows] = off
    return C_b + C_W * moment


def kernel_recursion(
    activation: str | Activation,
    C_b: float | torch.Tensor,
    C_W: float | torch.Tensor,
    K0: float | torch.Tensor,
    depth: int,
    *,
    shortcut: float = 0.0,
    branch: float = 1.0,
) -> torch.Tensor:
    """The infinite-width kernels K^(0) = K0, K^(1), ..., K^(depth) of a deep random network.

    Implements Chapter 2, Sec. "Kernel flow", eq. `eq-kernel-recursion`,
    K^(l+1) = C_b + C_W <sigma(z_a) sigma(z_b)>_{K^(l)} (Poole et al. 2016; Roberts, Yaida,
    Hanin 2022, eq. for the two-point correlator at leading order), for one input (K0 a variance) or
    several (K0 an m x m covariance; each off-diagonal entry uses the two-input average, which for
    ReLU is the degree-1 arc-cosine kernel of Cho & Saul 2009). With a
    residual connection z^(l+1) = shortcut * z^(l) + branch * (b + W sigma(z^(l))) (Sec. "Residual
    connections", eq. `eq-residual-mlp`), the cross terms vanish because W and b have mean zero:
    K^(l+1) = shortcut^2 K^(l) + branch^2 (C_b + C_W <sigma sigma>_{K^(l)}) (eq. `eq-residual-kernel`).
    The defaults shortcut = 0, branch = 1 give the plain network.

    Args:
        activation: a name from `dltheory.activations.ACTIVATION_NAMES` or an elementwise callable.
        C_b: bias variance, >= 0.
        C_W: weight variance times fan-in, >= 0.
        K0: the kernel of the first preactivations (see `input_kernel`): a variance, or an m x m
            positive semi-definite matrix for m inputs.
        depth: the number of nonlinear layers, >= 0.
        shortcut, branch: the residual weights (finite numbers).

    For one input, C_b and C_W may also be tensors that broadcast together, giving one flow per
    setting at once (a sweep, or a phase diagram).

    Returns:
        A float64 tensor of shape (depth + 1,) for a variance K0, (depth + 1, ...) with the broadcast shape of C_b and C_W appended for a sweep, or
        (depth + 1, m, m); element l is the kernel after l layers. Entries become inf (or nan off the
        diagonal) where the flow diverges.

    Raises:
        ValueError: for an unknown activation name, negative C_b or C_W, a K0 that is not a
            variance or a positive semi-definite matrix, a sweep with several inputs, or depth < 0.

    Example:
        >>> kernel_recursion("relu", 0.0, torch.tensor([1.5, 2.0, 2.5]), 1.0, 2)[-1]  # (C_W / 2)^2
        tensor([0.5625, 1.0000, 1.5625], dtype=torch.float64)
    """
    sigma = get_activation(activation)
    shortcut, branch = check_number("shortcut", shortcut), check_number("branch", branch)
    depth = check_integer("depth", depth, minimum=0)
    K = check_kernel("K0", K0)
    branch_kernel: Callable[[torch.Tensor], torch.Tensor]  # K -> C_b + C_W <sigma sigma>_K, the plain layer map
    if any(isinstance(c, torch.Tensor) and c.ndim > 0 for c in (C_b, C_W)):  # a sweep over settings
        if K.ndim != 0:
            raise ValueError("C_b and C_W can be tensors only for one input (K0 a variance)")
        C_b_, C_W_ = torch.broadcast_tensors(_nonnegative_tensor("C_b", C_b), _nonnegative_tensor("C_W", C_W))
        K = K.expand_as(C_b_)

        def branch_kernel(k: torch.Tensor) -> torch.Tensor:
            return C_b_ + C_W_ * _expect(lambda z: sigma(z) ** 2, k)

    else:
        C_b_f, C_W_f = check_number("C_b", C_b, minimum=0.0), check_number("C_W", C_W, minimum=0.0)
        if K.ndim == 0:  # one input: a dot product of the nodes, a few microseconds per layer

            def branch_kernel(k: torch.Tensor) -> torch.Tensor:
                return C_b_f + C_W_f * (sigma(k.sqrt() * _U).square() @ _W)

        else:

            def branch_kernel(k: torch.Tensor) -> torch.Tensor:
                return _next_kernel(sigma, C_b_f, C_W_f, k)

    flow = [K]
    for _ in range(depth):  # eq. `eq-residual-kernel`; the plain network is shortcut = 0, branch = 1
        K = shortcut**2 * K + branch**2 * branch_kernel(K)
        flow.append(K)
    return torch.stack(flow)


# ----------------------------------------------------------------------------------------------
# Susceptibilities and fixed points.


def chi_parallel(activation: str | Activation, C_W: float | torch.Tensor, K: float | torch.Tensor) -> torch.Tensor:
    """The parallel susceptibility chi_par(K) = dK^(l+1)/dK^(l) of the single-input kernel flow.

    Implements Chapter 2, Sec. "Fixed points and susceptibilities", eq. `eq-chi-parallel`
    (Roberts, Yaida, Hanin 2022, Ch. 5). Differentiating eq. `eq-kernel-recursion` and using
    d/dK of the Gaussian density, (z^2 - K) / (2 K^2) times the density, gives

        chi_par(K) = C_W d<sigma^2>_K / dK = C_W / (2 K^2) <sigma(z)^2 (z^2 - K)>_K,

    which equals C_W <sigma'^2 + sigma sigma''>_K after two Gaussian integrations by parts. It is the
    factor by which a small change of the input's length grows per layer. We evaluate it as
    C_W / (2K) <(sigma(sqrt(K) u)^2 - sigma(0)^2)(u^2 - 1)> over a standard normal u; the subtracted
    constant has average zero and removes the rounding error at small K. For K < 1e-8 the value at
    K = 1e-8 is returned, the limit K -> 0+ to about 1e-8.

    Args:
        activation: a name or an elementwise callable.
        C_W: weight variance, >= 0 (a number or a tensor broadcastable with K).
        K: variance(s), >= 0 (a number or a tensor).

    Returns:
        A float64 tensor of the broadcast shape of C_W and K.

    Raises:
        ValueError: for an unknown activation name or negative or non-finite C_W or K.
    """
    sigma = get_activation(activation)
    C_W_, K_ = _nonnegative_tensor("C_W", C_W), _nonnegative_tensor("K", K).clamp_min(_K_SMALL)
    offset = float(sigma(torch.zeros((), dtype=DTYPE))) ** 2
    moment = ((sigma(K_.sqrt().unsqueeze(-1) * _U) ** 2 - offset) * (_U**2 - 1) * _W).sum(-1)
    return C_W_ * moment / (2 * K_)


def chi_perp(activation: str | Activation, C_W: float | torch.Tensor, K: float | torch.Tensor) -> torch.Tensor:
    """The perpendicular susceptibility chi_perp(K) = C_W <sigma'(z)^2>_K.

    Implements Chapter 2, Sec. "Fixed points and susceptibilities", eq. `eq-chi-perp` (Roberts,
    Yaida, Hanin 2022, Ch. 5; it is chi_1 of Poole et al. 2016 and Schoenholz et al. 2017). For two
    inputs with the same variance K and nearby directions, write K_12 = K - delta. Expanding the
    two-input average of eq. `eq-kernel-recursion` to first order in delta (Price's theorem:
    d<sigma(z_1) sigma(z_2)>/dK_12 = <sigma'(z_1) sigma'(z_2)>) gives, with the diagonal held at a
    fixed point, delta^(l+1) = chi_perp delta^(l): the factor by which the distance between nearby
    inputs (and the mean squared gradient) grows per layer. sigma' is taken by autograd; for
    K < 1e-8 the value at K = 1e-8 is returned (the limit K -> 0+).

    Args, Returns, Raises: as `chi_parallel`.
    """
    sigma_prime = derivative(activation)
    C_W_, K_ = _nonnegative_tensor("C_W", C_W), _nonnegative_tensor("K", K).clamp_min(_K_SMALL)
    return C_W_ * _expect(lambda z: sigma_prime(z) ** 2, K_)


def fixed_point(
    activation: str | Activation,
    C_b: float | torch.Tensor,
    C_W: float | torch.Tensor,
    K0: float | torch.Tensor = 1.0,
) -> torch.Tensor:
    """K*, the fixed point K* = C_b + C_W <sigma^2>_{K*} that the single-input flow reaches from K0.

    Implements Chapter 2, Sec. "Fixed points and susceptibilities", eq. `eq-fixed-point`. The map
    F(K) = C_b + C_W <sigma^2>_K is increasing for the activations of the chapter, so the flow moves
    monotonically from K0 to the nearest root of F(K) = K in the direction of F(K0) - K0. We find
    that root by scanning K0 * 10^(+-j/10) over twelve decades and bisecting the first sign change.
    Vectorised: C_b, C_W and K0 broadcast together, so a whole phase diagram takes one call.

    Returns:
        K* as a float64 tensor of the broadcast shape of C_b, C_W and K0. It is K0 where
        F(K0) = K0 (to 1e-12 relative; every K is a fixed point of the scale-invariant class at
        criticality), inf where the flow diverges past
        1e12 * K0, and 0 where it decays below 1e-12 * K0 (the K* = 0 class: tanh and sin with
        C_b = 0 and C_W <= 1).

    Raises:
        ValueError: for an unknown activation name, negative or non-finite C_b or C_W, or K0 that
            is not positive.

    Example:
        >>> fixed_point("relu", 1.0, 1.0)  # C_b / (1 - C_W / 2)
        tensor(2.0000, dtype=torch.float64)
    """
    sigma = get_activation(activation)
    C_b_, C_W_ = _nonnegative_tensor("C_b", C_b), _nonnegative_tensor("C_W", C_W)
    K0_ = _nonnegative_tensor("K0", K0)
    if (K0_ <= 0).any():
        raise ValueError(f"K0 must be positive, got {K0!r}")
    C_b_, C_W_, K0_ = torch.broadcast_tensors(C_b_, C_W_, K0_)
    shape = K0_.shape
    C_b_, C_W_, K0_ = C_b_.flatten(), C_W_.flatten(), K0_.flatten()

    def gap(K: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return C_b_[index] + C_W_[index] * _expect(lambda z: sigma(z) ** 2, K) - K

    everything = torch.arange(K0_.numel())
    gap0 = gap(K0_, everything)
    up = gap0 > 0
    result = torch.where(up, torch.full_like(K0_, math.inf), torch.zeros_like(K0_))
    fixed = gap0.abs() <= 1e-12 * (K0_ + C_b_)
    result[fixed] = K0_[fixed]
    lo, hi, bracketed = K0_.clone(), K0_.clone(), torch.zeros_like(fixed)
    step = 10.0**0.1  # scan ten points per decade, over twelve decades, in the direction of the flow
    for j in range(1, 121):
        index = torch.nonzero(~fixed & ~bracketed).flatten()
        if index.numel() == 0:
            break
        factor = torch.where(up[index], torch.tensor(step**j, dtype=DTYPE), torch.tensor(step**-j, dtype=DTYPE))
        K = K0_[index] * factor
        gaps = gap(K, index)
        crossed = torch.where(up[index], gaps <= 0, gaps >= 0)
        previous = K / torch.where(up[index], torch.tensor(step, dtype=DTYPE), torch.tensor(1 / step, dtype=DTYPE))
        done = index[crossed]
        lo[done] = torch.minimum(K, previous)[crossed]
        hi[done] = torch.maximum(K, previous)[crossed]
        bracketed[done] = True
    index = torch.nonzero(bracketed).flatten()
    lo, hi = lo[index], hi[index]
    for _ in range(45):  # gap(lo) >= 0 >= gap(hi) and hi / lo = 10^0.1; 45 halvings reach 1e-14 relative
        mid = 0.5 * (lo + hi)
        positive = gap(mid, index) > 0
        lo, hi = torch.where(positive, mid, lo), torch.where(positive, hi, mid)
    result[index] = 0.5 * (lo + hi)
    return result.reshape(shape)


#: The two notions a `Criticality` can stand for (Chapter 2, Sec. "Criticality and phases").
CRITICALITY = "criticality"  # both susceptibilities one, eq. `eq-criticality` (Roberts, Yaida, Hanin 2022)
EDGE_OF_CHAOS = "edge of chaos"  # chi_perp(K*) = 1 only, with chi_par(K*) < 1 (Poole et al. 2016; Schoenholz et al. 2017)


@dataclass(frozen=True)
class Criticality:
    """An initialisation with chi_perp(K*) = 1 (Chapter 2, Sec. "Criticality and phases").

    Attributes:
        C_b: the bias variance.
        C_W: the weight variance at which chi_perp(K*) = 1.
        K_star: the fixed point there; None for the scale-invariant class, where every K is one.
        chi_parallel: chi_par(K*) at that point (<= 1, so the flow reaches K*).
        notion: which notion the point satisfies, computed from ``chi_parallel``: `CRITICALITY`
            (``"criticality"``) when chi_par(K*) = 1 as well (to 1e-6), the effective theory's criticality of
            eq. `eq-criticality`, as for the scale-invariant and K* = 0 classes at C_b = 0 and the half-stable
            class at its one C_b; otherwise `EDGE_OF_CHAOS` (``"edge of chaos"``), Poole and Schoenholz's
            order-to-chaos line, where the variance settles exponentially fast (as for tanh with C_b > 0).
    """

    C_b: float
    C_W: float
    K_star: float | None
    chi_parallel: float
    notion: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "notion", CRITICALITY if abs(self.chi_parallel - 1) <= 1e-6 else EDGE_OF_CHAOS)


def critical_point(activation: str | Activation, C_b: float = 0.0) -> Criticality:
    """The point of the edge of chaos at this C_b: C_W and the stable fixed point K* with chi_perp(K*) = 1.

    Implements Chapter 2, Sec. "Criticality and phases", the order-to-chaos line chi_perp(K*) = 1 of Poole et
    al. 2016 and Schoenholz et al. 2017. It is criticality in the effective theory's sense (eq. `eq-criticality`,
    both susceptibilities one; Roberts, Yaida, Hanin 2022, Sec. 5.2-5.3) only where chi_par(K*) = 1 as well: the
    returned point's ``notion`` says which (`CRITICALITY` or `EDGE_OF_CHAOS`); `criticality` solves for the C_b
    at which both hold. Eliminating C_W between the
    two conditions K* = C_b + C_W <sigma^2>_{K*} and C_W <sigma'^2>_{K*} = 1 leaves one equation,

        C_b + <sigma^2>_K / <sigma'^2>_K - K = 0,   with then C_W = 1 / <sigma'^2>_K,

    whose roots on 1e-6 <= K <= 1e3 are found by a scan and Brent's method (scipy). Only stable fixed
    points (chi_par(K*) <= 1, so that the flow reaches them) count; the smallest is returned. Two
    universality classes are handled in closed form: the scale-invariant class (relu, leaky_relu,
    linear: the equation holds for every K when C_b = 0, and C_W = 1 / A_2 with
    ``A_2 = (a_+^2 + a_-^2) / 2`` for slopes ``a_+`` and ``a_-`` on the two half-lines), and the K* = 0 class (sigma(0) = 0, sigma'(0) != 0, C_b = 0:
    C_W = 1 / sigma'(0)^2, valid when K = 0 attracts the flow from above, as for tanh and sin).

    Args:
        activation: a name or an elementwise callable.
        C_b: the bias variance, >= 0.

    Raises:
        ValueError: when no such point exists, naming the activation and C_b (relu with C_b > 0,
            softplus, or gelu and silu at C_b = 0, whose K = 0 fixed point repels the flow), or
            for an unknown activation name or a negative C_b.

    Example:
        >>> critical_point("tanh", C_b=0.0)
        Criticality(C_b=0.0, C_W=1.0, K_star=0.0, chi_parallel=1.0)
    """
    sigma, sigma_prime = get_activation(activation), derivative(activation)
    C_b = check_number("C_b", C_b, minimum=0.0)
    K = torch.logspace(-6, 3, 181, dtype=DTYPE)
    second = _expect(lambda z: sigma(z) ** 2, K)
    slope = _expect(lambda z: sigma_prime(z) ** 2, K)
    gap = C_b + second / slope - K
    if C_b == 0 and bool((gap.abs() <= 1e-9 * K).all()):  # scale invariant: every K is a fixed point
        C_W = float(1 / slope.mean())
        return Criticality(C_b, C_W, None, float(chi_parallel(sigma, C_W, 1.0)))

    def gap_at(k: float) -> float:
        k_ = torch.tensor(k, dtype=DTYPE)
        return C_b + float(_expect(lambda z: sigma(z) ** 2, k_) / _expect(lambda z: sigma_prime(z) ** 2, k_)) - k

    candidates = []
    zero = torch.zeros((), dtype=DTYPE)
    if C_b == 0 and abs(float(sigma(zero))) < 1e-12 and float(sigma_prime(zero)) != 0:
        # K* = 0 class: at K -> 0, chi_par = chi_perp = C_W sigma'(0)^2; K = 0 must attract from above.
        C_W = 1 / float(sigma_prime(zero)) ** 2
        small = torch.tensor(1e-4, dtype=DTYPE)
        if float(C_W * _expect(lambda z: sigma(z) ** 2, small) - small) < 0:
            candidates.append(Criticality(C_b, C_W, 0.0, 1.0))
    signs = torch.sign(gap)
    for j in torch.nonzero(signs[:-1] * signs[1:] < 0).flatten().tolist():
        k = brentq(gap_at, float(K[j]), float(K[j + 1]), xtol=1e-14, rtol=1e-13)
        C_W = float(1 / chi_perp(sigma, 1.0, k))
        chi = float(chi_parallel(sigma, C_W, k))
        if chi <= 1 + 1e-6:
            candidates.append(Criticality(C_b, C_W, k, chi))
    if not candidates:
        raise ValueError(
            f"no criticality for activation {activation_name(activation)!r} with C_b={C_b}: no stable fixed "
            "point K* in [0, 1e3] has chi_perp(K*) = 1"
        )
    return min(candidates, key=lambda c: c.K_star if c.K_star is not None else 0.0)


def criticality(activation: str | Activation) -> Criticality:
    """The effective theory's criticality: C_b, C_W and K* at which both susceptibilities are one.

    Implements Chapter 2, Sec. "Universality classes", eq. `eq-criticality` (Roberts, Yaida, Hanin 2022,
    Ch. 5), solving for the bias variance too. The three conditions K* = C_b + C_W <sigma^2>_{K*},
    chi_perp(K*) = 1 and chi_par(K*) = 1 fix the three numbers. Dividing the two susceptibilities leaves one
    equation for K* alone,

        d<sigma^2>_K / dK = <sigma'^2>_K,      then C_W = 1 / <sigma'^2>_{K*},  C_b = K* - C_W <sigma^2>_{K*},

    which must give C_b >= 0. Three classes come out: the scale-invariant class (every K, C_b = 0, the point
    of `critical_point`), the K* = 0 class (C_b = 0, C_W = 1 / sigma'(0)^2, when K = 0 attracts the flow from
    above, as for tanh and sin), and otherwise the *half-stable* class (gelu, silu): a root K* > 0 of the
    equation above, found by a scan of 1e-6 <= K <= 1e3 and Brent's method; there F(K) - K, with
    F(K) = C_b + C_W <sigma^2>_K, touches zero without crossing, so the flow reaches K* from one side only
    and as a power of the depth. When several roots give C_b >= 0, the one with the smallest K* is returned.

    Args:
        activation: a name or an elementwise callable.

    Returns:
        A `Criticality` whose ``notion`` is `CRITICALITY`.

    Raises:
        ValueError: naming the activation when no (C_b >= 0, C_W, K*) has both susceptibilities one (relu's
            C_b > 0 line, softplus), or for an unknown activation name.

    Example:
        >>> point = criticality("gelu")  # half-stable: C_b > 0 and K* > 0
        >>> point.notion, point.C_b > 0
        ('criticality', True)
    """
    sigma, sigma_prime = get_activation(activation), derivative(activation)
    zero = torch.zeros((), dtype=DTYPE)
    if abs(float(sigma(zero))) < 1e-12:  # the scale-invariant or the K* = 0 class, at C_b = 0
        try:
            point = critical_point(sigma, 0.0)
        except ValueError:
            point = None
        if point is not None and point.notion == CRITICALITY:
            return point

    def gap(k: float) -> float:  # (chi_par - chi_perp) / C_W at K = k
        k_ = torch.tensor(k, dtype=DTYPE)
        return float(chi_parallel(sigma, 1.0, k_) - _expect(lambda z: sigma_prime(z) ** 2, k_))

    K = torch.logspace(-6, 3, 361, dtype=DTYPE)
    gaps = chi_parallel(sigma, 1.0, K) - _expect(lambda z: sigma_prime(z) ** 2, K)
    signs = torch.sign(gaps)
    for j in torch.nonzero(signs[:-1] * signs[1:] < 0).flatten().tolist():
        k = brentq(gap, float(K[j]), float(K[j + 1]), xtol=1e-14, rtol=1e-13)
        k_ = torch.tensor(k, dtype=DTYPE)
        C_W = 1 / float(_expect(lambda z: sigma_prime(z) ** 2, k_))
        C_b = k - C_W * float(_expect(lambda z: sigma(z) ** 2, k_))
        if C_b >= -1e-12:
            return Criticality(max(C_b, 0.0), C_W, k, float(chi_parallel(sigma, C_W, k_)))
    raise ValueError(
        f"no criticality for activation {activation_name(activation)!r}: no K* in [1e-6, 1e3] with both "
        "susceptibilities one and C_b >= 0"
    )


def a1_coefficient(activation: str | Activation) -> float:
    """a_1 = sigma_3 / sigma_1 + (3/4) (sigma_2 / sigma_1)^2, the coefficient of the K* = 0 class's flow K -> K + a_1 K^2.

    Implements Chapter 2, Sec. "Universality classes", eq. `eq-a1` (Roberts, Yaida, Hanin 2022, Ch. 5): for an activation
    analytic at the origin with sigma(0) = 0 and Taylor coefficients sigma(z) = sigma_1 z + sigma_2 z^2 / 2 + sigma_3 z^3 / 6 + ...,
    the flow at C_b = 0, C_W = 1 / sigma_1^2 is K^(l+1) = K^(l) + a_1 (K^(l))^2 + O(K^3), so K^(l) ~ 1 / (-a_1 l) when a_1 < 0
    (tanh: -2, sin: -1, erf: -2) and K = 0 repels when a_1 > 0 (gelu: 6 / pi, silu: 3/4). The derivatives at 0 are taken by
    autograd; for an activation that is not analytic there (relu, softsign) the number has no meaning.

    Raises:
        ValueError: if sigma(0) != 0 or sigma'(0) = 0 (then the activation is not in the class), or for an unknown name.
    """
    sigma = get_activation(activation)
    with torch.enable_grad():
        z = torch.zeros((), dtype=DTYPE, requires_grad=True)
        value = sigma(z)
        derivatives = []
        current = value
        for _ in range(3):
            (current,) = torch.autograd.grad(current, z, create_graph=True)
            derivatives.append(float(current.detach()))
    value = value.detach()
    if abs(float(value)) > 1e-12 or derivatives[0] == 0:
        raise ValueError(
            f"activation {activation_name(activation)!r} has sigma(0) = {float(value):g} and sigma'(0) = {derivatives[0]:g}: "
            "a_1 needs sigma(0) = 0 and sigma'(0) != 0"
        )
    sigma_1, sigma_2, sigma_3 = derivatives
    return sigma_3 / sigma_1 + 0.75 * (sigma_2 / sigma_1) ** 2


def critical_C_W(activation: str | Activation, C_b: float = 0.0) -> float:
    """The C_W at which the fixed point of the kernel flow has perpendicular susceptibility 1.

    Implements Chapter 2, Sec. "Criticality and phases", eq. `eq-criticality`; see
    `critical_point` for the method and for K*. ReLU: 2 (C_b = 0); tanh: 1 (C_b = 0).

    Raises:
        ValueError: as `critical_point`, when no criticality exists.
    """
    return critical_point(activation, C_b).C_W


def correlation_depth(activation: str | Activation, C_b: float, C_W: float, K0: float = 1.0) -> float:
    """xi_c = -1 / log chi_c, the depth over which the correlation of two inputs approaches its fixed point.

    Implements Chapter 2, Sec. "Criticality and phases", eq. `eq-correlation-depth` (Schoenholz et
    al. 2017, xi_c; Poole et al. 2016). With the variance at its fixed point K* (`fixed_point`
    from K0), the correlation rho = K_12 / K* of two inputs follows the map
    rho -> (C_b + C_W <sigma(z_1) sigma(z_2)>) / K*, whose slope is chi_c = C_W <sigma'(z_1)
    sigma'(z_2)> (Price's theorem). In the ordered phase (chi_perp(K*) <= 1) the stable fixed point is
    rho* = 1 and chi_c = chi_perp(K*); in the chaotic phase it is the root rho* < 1 of the map, found
    by Brent's method. Deviations from rho* shrink like chi_c^l = exp(-l / xi_c); at criticality
    xi_c is infinite. When K* = 0 the limit K -> 0+ of chi_perp is used.

    Args:
        activation: a name or an elementwise callable.
        C_b: bias variance, >= 0.
        C_W: weight variance, >= 0.
        K0: the single-input variance the flow starts from, > 0.

    Returns:
        xi_c in layers (a positive float, or inf at criticality).

    Raises:
        ValueError: when the kernel has no finite fixed point (it diverges, e.g. relu with C_W > 2),
            or for invalid arguments.
    """
    sigma, sigma_prime = get_activation(activation), derivative(activation)
    C_b, C_W = check_number("C_b", C_b, minimum=0.0), check_number("C_W", C_W, minimum=0.0)
    K_star = float(fixed_point(sigma, C_b, C_W, check_number("K0", K0)))
    if not math.isfinite(K_star):
        raise ValueError(
            f"the kernel of activation {activation_name(activation)!r} with C_b={C_b}, C_W={C_W} diverges: "
            "no fixed point, no correlation depth"
        )
    chi = float(chi_perp(sigma, C_W, K_star))
    if chi > 1 + 1e-12 and K_star > 0:  # chaotic: the correlation settles at rho* < 1
        K = torch.tensor(K_star, dtype=DTYPE)

        def gap(rho: float) -> float:
            K12 = torch.tensor(rho * K_star, dtype=DTYPE)
            return (C_b + C_W * float(_expect2(lambda a, b: sigma(a) * sigma(b), K, K12, K))) / K_star - rho

        below_one = [1 - delta for delta in (1e-2, 1e-4, 1e-6) if gap(1 - delta) < 0]
        if gap(0.0) <= 0:
            rho_star = 0.0
        elif below_one:
            rho_star = brentq(gap, 0.0, below_one[0], xtol=1e-14)
        else:  # rho* within 1e-6 of 1: indistinguishable from the critical line
            rho_star = 1.0
        K12 = torch.tensor(rho_star * K_star, dtype=DTYPE)
        chi = C_W * float(_expect2(lambda a, b: sigma_prime(a) * sigma_prime(b), K, K12, K))
    if chi >= 1 - 1e-12:
        return math.inf
    return -1.0 / math.log(chi) if chi > 0 else 0.0


def ntk_recursion(
    activation: str | Activation,
    C_b: float,
    C_W: float,
    K0: float,
    depth: int,
    *,
    lambda_b: float = 1.0,
    lambda_W: float = 1.0,
) -> torch.Tensor:
    """The infinite-width neural tangent kernel Theta^(l) of one input at every layer l = 0..depth.

    Implements Chapter 2, Sec. "Criticality and phases", eq. `eq-ntk-recursion` (Roberts, Yaida,
    Hanin 2022, Ch. 8, for one input and layer-independent learning rates; Jacot et al. 2018).
    With the learning rate lambda_b for every bias and lambda_W / fan-in for every weight, the
    tangent kernel of the layer-(l+1) preactivations collects the new layer's parameters,
    lambda_b + lambda_W <sigma^2>, and the earlier ones through the chain rule, whose square
    averages to C_W <sigma'^2> = chi_perp at infinite width:

        Theta^(l+1) = lambda_b + lambda_W <sigma(z)^2>_{K^(l)} + chi_perp(K^(l)) Theta^(l),

    with Theta^(0) = lambda_b + lambda_W x.x / n_0 = lambda_b + lambda_W (K0 - C_b) / C_W. At
    criticality chi_perp = 1, so Theta grows linearly with depth for the scale-invariant class: the
    learning rate has to shrink like 1 / depth.

    Args:
        activation: a name or an elementwise callable.
        C_b: bias variance, >= 0.
        C_W: weight variance times fan-in, > 0.
        K0: the single-input variance of the first preactivations, >= C_b.
        depth: the number of nonlinear layers, >= 0.
        lambda_b, lambda_W: the learning rates of biases and of weights (times fan-in), >= 0.

    Returns:
        A float64 tensor of shape (depth + 1,); element l is the kernel of the preactivations after
        l layers (for a readout of width one on top of `depth` layers, take depth + 1 layers).

    Raises:
        ValueError: for an unknown activation name, C_W <= 0, negative C_b, K0 < C_b, negative
            learning rates or depth < 0.
    """
    sigma = get_activation(activation)
    C_b, C_W = check_number("C_b", C_b, minimum=0.0), check_number("C_W", C_W, minimum=0.0)
    if C_W == 0:
        raise ValueError("C_W must be positive for the tangent kernel (the input term divides by it)")
    K0 = check_number("K0", K0, minimum=C_b)
    lambda_b, lambda_W = check_number("lambda_b", lambda_b, minimum=0.0), check_number("lambda_W", lambda_W, minimum=0.0)
    depth = check_integer("depth", depth, minimum=0)
    K = kernel_recursion(sigma, C_b, C_W, K0, depth)[:-1]
    source = lambda_b + lambda_W * _expect(lambda z: sigma(z) ** 2, K)
    chi = chi_perp(sigma, C_W, K)
    theta = [torch.tensor(lambda_b + lambda_W * (K0 - C_b) / C_W, dtype=DTYPE)]
    for l in range(depth):
        theta.append(source[l] + chi[l] * theta[-1])
    return torch.stack(theta)


# ----------------------------------------------------------------------------------------------
# Finite width: the four-point vertex.


def normalized_vertex(
    activation: str | Activation,
    C_b: float,
    C_W: float,
    K0: float,
    depth: int,
    width: int,
    *,
    shortcut: float = 0.0,
    branch: float = 1.0,
    memory: bool = True,
) -> torch.Tensor:
    """V^(l) / (n K^(l)^2), the predicted size of the four-point vertex at every layer l = 0..depth.

    Implements Chapter 2, Sec. "Finite width: the four-point vertex", eq. `eq-vertex-recursion`
    (Roberts, Yaida, Hanin 2022, Ch. 4-5), for a single input and all hidden widths equal to n.
    Convention: the connected four-point correlator of layer-l preactivations is
    E[z_i z_j z_k z_m]_c = (V^(l) / n) (d_ij d_km + d_ik d_jm + d_im d_jk), so V^(l) / n is the
    covariance of z_i^2 and z_j^2 for two neurons i != j, and the excess kurtosis of one
    preactivation is 3 V^(l) / (n K^(l)^2) (eq. `eq-excess-kurtosis`; the identity
    E[z_i^4] = 3 E[z_i^2 z_j^2] holds exactly, also with residual connections).

    Plain network. Given layer l, the next preactivations are independent Gaussians with the random
    variance G = C_b + (C_W / n) sum_j sigma(z_j)^2, so V^(l+1) / n = Var(G). Splitting Var(G) into
    n diagonal terms C_W^2 (<sigma^4> - <sigma^2>^2) / n^2 and n(n-1) covariances of distinct
    neurons, each (V^(l) / n) (d<sigma^2>_K / dK)^2 to leading order in 1/n, gives

        V^(l+1) = chi_par(K^(l))^2 V^(l) + C_W^2 (<sigma^4>_{K^(l)} - <sigma^2>_{K^(l)}^2),

    with V^(0) = 0 because the first preactivations are exactly Gaussian. For ReLU at criticality
    this is V^(l) / (n K^2) = 5 l / n, the first-order term of the exact E[z^4] / (3 K^2) =
    1 + V^(l) / (n K^2) = (1 + 5/n)^l (each layer multiplies the variance by (2/n) chi^2_B with
    B ~ Binomial(n, 1/2) degrees of freedom).

    Residual network, z^(l+1) = shortcut z^(l) + branch (b + W sigma(z^(l))) (eq.
    `eq-residual-vertex`). Now a neuron remembers its past, and its own earlier activations feed the
    variance of every other neuron, so V alone no longer closes (where <z sigma(z)^2> != 0, as for
    ReLU, a three-point correlator appears too). Linearising the layer variances
    G^(k) around their infinite-width values, each neuron's trajectory is Gaussian with
    E[z^(k) z^(k')] = shortcut^|k-k'| K^(min(k, k')), and V^(l) / n = Cov(z_i^2, z_j^2) sums the
    ways a fluctuation of some G^(k) reaches K^(l): to leading order in 1/n

        V^(l) = C_W^2 q^(l) + 2 C_W m^(l),
        q^(l) = sum_{k,k'<l} R_lk R_lk' S_kk',      m^(l) = sum_{k<l} R_lk shortcut^(2(l-k)) omega_k,

    with R_lk = branch^2 prod_{t=k+1}^{l-1} g_t, g_t = shortcut^2 + branch^2 chi_par(K^(t)), the
    response of K^(l) to a change of G^(k); S_kk' = Cov(sigma(z^(k))^2, sigma(z^(k'))^2) along one
    trajectory; omega_k = Cov(z^2, sigma^2) at K^(k). Both sums obey recursions,

        q^(l+1) = g_l^2 q^(l) + 2 g_l branch^2 sum_{k<l} R_lk S_kl + branch^4 S_ll,
        m^(l+1) = shortcut^2 (g_l m^(l) + branch^2 c_l),

    and with shortcut = 0 (so S_kl = 0 for k != l and m = 0) they reduce to the recursion above.
    All formulas are leading order in 1/n; the corrections are O(depth^2 / n^2).

    With ``memory=False`` the residual vertex follows instead the closed recursion in V alone (eq.
    `eq-residual-closure`), the form of the effective theory's treatment of residual networks (Roberts,
    Yaida, Hanin 2022, App. B): each layer is taken as nearly Gaussian with kernel K and vertex V only, so
    that Cov(f(z_i), g(z_j)) = (V / n) d<f>/dK d<g>/dK for i != j, which gives

        V^(l+1) = g_l^2 V^(l) + branch^4 C_W^2 (<sigma^4> - <sigma^2>^2) + 2 shortcut^2 branch^2 C_W c_l.

    Both agree for the plain network and for the linear one (whose law is rotation invariant); they differ
    where a neuron's own past skews its distribution, as for ReLU (notebook "Residual connections").

    Args:
        activation: a name or an elementwise callable.
        C_b, C_W: bias and weight variances, >= 0.
        K0: the single-input variance of the first preactivations, > 0.
        depth: the number of nonlinear layers, >= 0.
        width: the hidden width n, >= 1.
        shortcut, branch: the residual weights; the defaults give the plain network.
        memory: True for eq. `eq-residual-vertex` (a neuron's memory of its own past kept), False for the
            closed recursion eq. `eq-residual-closure`.

    Returns:
        A float64 tensor of shape (depth + 1,), element 0 equal to 0.

    Raises:
        ValueError: for an unknown activation name, negative C_b or C_W, K0 that is not a positive
            number, depth < 0 or width < 1.
        TypeError: if memory is not a bool.
    """
    sigma = get_activation(activation)
    C_b, C_W = check_number("C_b", C_b, minimum=0.0), check_number("C_W", C_W, minimum=0.0)
    shortcut, branch = check_number("shortcut", shortcut), check_number("branch", branch)
    depth, width = check_integer("depth", depth, minimum=0), check_integer("width", width, minimum=1)
    if isinstance(K0, torch.Tensor) and K0.numel() != 1:
        raise ValueError(f"K0 must be a single positive variance (one input), got shape {tuple(K0.shape)}")
    K0 = check_number("K0", K0)
    if K0 <= 0:
        raise ValueError(f"K0 must be a positive variance, got {K0}")
    if not isinstance(memory, bool):
        raise TypeError(f"memory must be a bool, got {type(memory).__name__}")
    kernels = kernel_recursion(sigma, C_b, C_W, K0, depth, shortcut=shortcut, branch=branch)
    K = kernels[:-1]  # the layers k = 0..depth-1 that feed later ones
    second = _expect(lambda z: sigma(z) ** 2, K)
    S = torch.diag(_expect(lambda z: sigma(z) ** 4, K) - second**2)
    c = _expect(lambda z: z**2 * sigma(z) ** 2, K) - K * second  # Cov(z^2, sigma^2) at K^(k)
    g = shortcut**2 + branch**2 * chi_parallel(sigma, C_W, K)
    if not memory:  # eq. `eq-residual-closure`
        closed = [torch.zeros((), dtype=DTYPE)]
        for l in range(depth):
            closed.append(g[l] ** 2 * closed[-1] + branch**4 * C_W**2 * S[l, l] + 2 * shortcut**2 * branch**2 * C_W * c[l])
        return torch.stack(closed) / (width * kernels**2)
    if shortcut != 0 and depth > 1:  # S_kk' for k < k': a two-variable average along the trajectory
        rows, cols = torch.triu_indices(depth, depth, offset=1)
        for part in torch.arange(rows.numel()).split(256):
            i, j = rows[part], cols[part]
            K12 = shortcut ** (j - i).to(DTYPE) * K[i]
            S[i, j] = _expect2(lambda a, b: sigma(a) ** 2 * sigma(b) ** 2, K[i], K12, K[j]) - second[i] * second[j]
            S[j, i] = S[i, j]
    q = m = torch.zeros((), dtype=DTYPE)
    R = torch.zeros(0, dtype=DTYPE)  # R_lk for k < l
    vertex = [q]
    for l in range(depth):
        q = g[l] ** 2 * q + 2 * g[l] * branch**2 * (R @ S[:l, l]) + branch**4 * S[l, l]
        m = shortcut**2 * (g[l] * m + branch**2 * c[l])
        R = torch.cat([g[l] * R, R.new_tensor([branch**2])])
        vertex.append(C_W**2 * q + 2 * C_W * m)
    return torch.stack(vertex) / (width * kernels**2)


def second_derivative_of_moment(activation: str | Activation, K: float | torch.Tensor) -> torch.Tensor:
    """d^2 <sigma(z)^2>_K / dK^2, the curvature of the kernel map, at every variance in K.

    Serves `mean_kernel_shift`. Differentiating the Gaussian density twice in K gives
    ``d^2/dK^2 <g>_K = <g(sqrt(K) u) He_4(u)> / (4 K^2)`` over a standard normal u, with the Hermite
    polynomial ``He_4(u) = u^4 - 6 u^2 + 3``; sigma(0)^2 is subtracted first (``<He_4> = 0``) to spare the
    rounding at small K. It vanishes for the scale-invariant class, whose ``<sigma^2>_K = A_2 K`` is linear.

    Raises:
        ValueError: for an unknown activation name or a negative or non-finite K.
    """
    sigma = get_activation(activation)
    K_ = _nonnegative_tensor("K", K).clamp_min(_K_SMALL)
    offset = float(sigma(torch.zeros((), dtype=DTYPE))) ** 2
    hermite = _U**4 - 6 * _U**2 + 3
    moment = ((sigma(K_.sqrt().unsqueeze(-1) * _U) ** 2 - offset) * hermite * _W).sum(-1)
    return moment / (4 * K_**2)


def mean_kernel_shift(
    activation: str | Activation, C_b: float, C_W: float, K0: float, depth: int, width: int
) -> torch.Tensor:
    """The leading finite-width shift of the mean single-input kernel, E[z^2] - K^(l), at every layer l = 0..depth.

    Serves Chapter 2, notebooks "Kernel flow" and "Universality": the tolerance of a measured mean kernel.
    The next layer's variance is G = C_b + (C_W / n) sum_j sigma(z_j)^2, whose mean is
    C_b + C_W E[<sigma^2>_{G'}] over the previous layer's random variance G' (mean K, variance V / n).
    Expanding <sigma^2>_{G'} to second order around its mean (the delta method) gives, to leading order in 1/n,

        dK^(l+1) = chi_par(K^(l)) dK^(l) + (C_W / 2) (d^2 <sigma^2>_K / dK^2) V^(l) / n,    dK^(0) = 0,

    with V^(l) / n from `normalized_vertex` (Roberts, Yaida, Hanin 2022, Ch. 4, where this is the 1/n part
    of the two-point correlator). It is exactly zero for the scale-invariant class, whose map is linear in K:
    there the mean kernel follows the recursion at every width. Plain networks only (no shortcut).

    Args:
        activation: a name or an elementwise callable.
        C_b, C_W: bias and weight variances, >= 0.
        K0: the variance of the first preactivations, > 0.
        depth: the number of nonlinear layers, >= 0.
        width: the hidden width n, >= 1.

    Returns:
        A float64 tensor of shape (depth + 1,), element 0 equal to 0; the next corrections are O(depth^2 / n^2).

    Raises:
        ValueError: as `normalized_vertex`.
    """
    sigma = get_activation(activation)
    vertex = normalized_vertex(sigma, C_b, C_W, K0, depth, width)
    K = kernel_recursion(sigma, C_b, C_W, K0, depth)
    chi = chi_parallel(sigma, C_W, K)
    curvature = second_derivative_of_moment(sigma, K)
    shift = [torch.zeros((), dtype=DTYPE)]
    for l in range(depth):
        shift.append(chi[l] * shift[-1] + 0.5 * C_W * curvature[l] * vertex[l] * K[l] ** 2)
    return torch.stack(shift)


# ----------------------------------------------------------------------------------------------
# Beyond perturbation theory: the log-normal output norm of ReLU networks.


@dataclass(frozen=True)
class LogNormLaw:
    """The law of ``log(|z^(L)|^2 / (n K))`` for a critical ReLU network (Chapter 2, Sec. "Beyond perturbation theory").

    Attributes:
        mean: its exact mean.
        variance: its exact variance.
        depth, width: the network it describes.
    """

    mean: float
    variance: float
    depth: int
    width: int

    def probability_below(self, ratio: float) -> float:
        """``P(|z^(L)|^2 / (n K) < ratio)`` in the log-normal approximation (Hanin and Nica 2020): ``Phi((log ratio - mean) / sd)``."""
        ratio = check_number("ratio", ratio)
        if ratio <= 0:
            raise ValueError(f"ratio must be positive, got {ratio}")
        return float(0.5 * math.erfc(-(math.log(ratio) - self.mean) / math.sqrt(2 * self.variance)))


def relu_log_norm(depth: int, width: int) -> LogNormLaw:
    """The exact mean and variance of ``log(|z^(L)|^2 / (n K))`` for ReLU at criticality (C_b = 0, C_W = 2), one input.

    Implements Chapter 2, Sec. "Beyond perturbation theory", eq. `eq-log-norm`, derived there. Given layer l - 1, the
    layer-l preactivations are independent N(0, G) and ``relu(z_j)^2 = G u_j^2 1{u_j > 0}``, so the next variance is
    ``G' = G (2/n) X`` with ``X ~ chi^2_B`` and ``B ~ Binomial(n, 1/2)`` active neurons, independent of G; the output's
    second moment is ``G^(L-1) chi^2_n / n``. Hence ``log(|z^(L)|^2 / (n K))`` is exactly a sum of ``depth`` independent
    copies of ``log((2/n) chi^2_B)`` and one ``log(chi^2_n / n)``, with ``E log chi^2_k = psi(k/2) + log 2`` and
    ``Var log chi^2_k = psi'(k/2)`` (digamma and trigamma). The event B = 0 (probability ``2^-n`` per layer, where the
    norm vanishes) is left out. At large width each layer contributes a variance of about 5/n and a mean of about -5/(2n).
    By the central limit theorem the sum is nearly Gaussian, so the norm is nearly log-normal (Hanin and Nica 2020).

    Args:
        depth: the number L of nonlinear layers, >= 0.
        width: the hidden width n, >= 2.

    Returns:
        A `LogNormLaw`.

    Raises:
        ValueError: if depth < 0 or width < 2.
    """
    from scipy.special import polygamma, psi
    from scipy.stats import binom

    depth, width = check_integer("depth", depth, minimum=0), check_integer("width", width, minimum=2)
    B = np.arange(1, width + 1)
    p = binom.pmf(B, width, 0.5)
    p = p / p.sum()  # conditioned on B >= 1
    log_mean_B = psi(B / 2) + math.log(2) + math.log(2 / width)
    layer_mean = float(p @ log_mean_B)
    layer_variance = float(p @ polygamma(1, B / 2) + p @ (log_mean_B - layer_mean) ** 2)
    readout_mean = float(psi(width / 2) + math.log(2) - math.log(width))
    readout_variance = float(polygamma(1, width / 2))
    return LogNormLaw(depth * layer_mean + readout_mean, depth * layer_variance + readout_variance, depth, width)


# ----------------------------------------------------------------------------------------------
# Dynamical isometry: the spread of the Jacobian's singular values.


def jacobian_spread(
    activation: str | Activation, C_b: float, C_W: float, K0: float, depth: int, *, orthogonal: bool = False
) -> float:
    """The relative variance m_2 / m_1^2 - 1 of the eigenvalues of J J^T at large width, J the input-output Jacobian.

    Implements Chapter 2, Sec. "Dynamical isometry", eq. `eq-jacobian-spread` (Pennington, Schoenholz, Ganguli 2017,
    whose free-probability analysis this follows; derived in the text). J J^T is a product of the factors
    W^(l) W^(l)T and D^(l-1)^2, D = diag(sigma'(z)), which become free at large width; for free positive elements the
    relative second moment r = m_2 / m_1^2 obeys r(ab) - 1 = (r(a) - 1) + (r(b) - 1), so

        m_2 / m_1^2 - 1 = sum_{l<L} (mu_2(K^(l)) / mu_1(K^(l))^2 - 1) + L s,     mu_k(K) = <sigma'(z)^(2k)>_K,

    with s = 1 for Gaussian weights (W W^T is a Wishart matrix, r = 2) and s = 0 for orthogonal ones (r = 1), and
    K^(l) the kernel flow from K0 (`kernel_recursion`). Zero means dynamical isometry: every singular value equal.

    Args:
        activation: a name or an elementwise callable.
        C_b, C_W: bias and weight variances, >= 0.
        K0: the variance of the first preactivations, > 0.
        depth: the number L of layers, >= 0.
        orthogonal: orthogonal instead of Gaussian weights.

    Raises:
        ValueError: as `kernel_recursion`, or if sigma' vanishes on average at some layer.
        TypeError: if orthogonal is not a bool.
    """
    if not isinstance(orthogonal, bool):
        raise TypeError(f"orthogonal must be a bool, got {type(orthogonal).__name__}")
    sigma_prime = derivative(activation)
    depth = check_integer("depth", depth, minimum=0)
    K = kernel_recursion(activation, C_b, C_W, K0, depth)[:-1]
    mu_1, mu_2 = _expect(lambda z: sigma_prime(z) ** 2, K), _expect(lambda z: sigma_prime(z) ** 4, K)
    if bool((mu_1 <= 0).any()):
        raise ValueError(f"activation {activation_name(activation)!r}: <sigma'^2> vanishes, the Jacobian is zero")
    return float((mu_2 / mu_1**2 - 1).sum()) + (0.0 if orthogonal else float(depth))


# ----------------------------------------------------------------------------------------------
# The NTK at finite width: the fluctuation of a deep linear network's tangent kernel.


def linear_ntk_relative_variance(depth: int, width: int) -> float:
    """``Var(Theta) / E[Theta]^2`` across initialisations for a critical deep linear network's weight tangent kernel.

    Implements Chapter 2, Sec. "The NTK at finite width", eq. `eq-ntk-fluctuation` (derived there). For the network of
    `dltheory.ensembles.random_mlp` with the identity activation, C_W = 1, C_b = 0, and learning rates lambda_W / fan-in
    for its M = depth + 2 weight matrices (no biases), the tangent kernel of one input is
    ``Theta = sum_k |a_(k-1)|^2 |g_k|^2 / n_(k-1)``, with forward vectors a and backward vectors g. The forward factors of
    term k and its backward factors use disjoint weight matrices, and each layer multiplies a squared norm by an
    independent ``chi^2_n / n``; so, up to correlations of relative size ``2 / n^2`` between a matrix's forward and
    backward factors, ``E[T_k T_k'] = q^2 (1 + 2/n)^(M - 1 - |k - k'|)`` and::

        Var(Theta) / E[Theta]^2 = (1 / M^2) sum_{k, k'} (1 + 2/n)^(M - 1 - |k - k'|) - 1  ~  (4/3) M / n.

    Args:
        depth: the number of hidden layers after the first preactivations, >= 0.
        width: the hidden width n, >= 1.

    Raises:
        ValueError: if depth < 0 or width < 1.
    """
    depth, width = check_integer("depth", depth, minimum=0), check_integer("width", width, minimum=1)
    M = depth + 2
    k = np.arange(M)
    gaps = np.abs(k[:, None] - k[None, :])
    return float(((1 + 2 / width) ** (M - 1 - gaps)).sum() / M**2 - 1)


# ----------------------------------------------------------------------------------------------
# The aspect ratio: the depth-to-width ratio a plain network needs for the same vertex.


def effective_aspect_ratio(
    activation: str | Activation,
    C_b: float,
    C_W: float,
    K0: float,
    depth: int,
    width: int,
    *,
    shortcut: float = 0.0,
    branch: float = 1.0,
    memory: bool = True,
) -> float:
    """The ratio L' / n of the plain network whose four-point vertex equals that of the given network at its last layer.

    Implements Chapter 2, Sec. "The aspect ratio", eq. `eq-effective-ratio` (derived there). The leading-order vertex
    ``V / (n K^2)`` of `normalized_vertex` is what the finite-width corrections of a network of this activation see, and
    for the plain network it grows with depth (linearly, ``c L / n``, in the scale-invariant class). This function
    computes the residual network's vertex at ``depth`` and returns the depth L' (interpolated between integers) at
    which the plain network of the same activation, ``C_b``, ``C_W`` and ``K0`` reaches it, divided by the width. Both
    vertices scale as 1 / n at leading order, so the result is ``depth / width`` times a number that does not depend on
    the width; for the plain network it is ``depth / width``. For the linear network with ``shortcut^2 + branch^2 = 1``
    it is ``(1 - shortcut^4) depth / width``.

    Args:
        activation: a name or an elementwise callable.
        C_b, C_W: bias and weight variances, >= 0.
        K0: the single-input variance of the first preactivations, > 0.
        depth: the number of nonlinear layers, >= 1.
        width: the hidden width n, >= 1.
        shortcut, branch: the residual weights, as in `normalized_vertex`.
        memory: as in `normalized_vertex` (False for the closed recursion eq. `eq-residual-closure`).

    Raises:
        ValueError: as `normalized_vertex`, if depth < 1, or if the plain vertex stops growing before it reaches the
            residual one (beyond 64 times ``depth`` layers).
    """
    depth = check_integer("depth", depth, minimum=1)
    target = float(normalized_vertex(activation, C_b, C_W, K0, depth, width, shortcut=shortcut, branch=branch,
                                     memory=memory)[-1])
    horizon = depth
    while True:
        plain = normalized_vertex(activation, C_b, C_W, K0, horizon, width).numpy()
        if plain[-1] >= target or horizon >= 64 * depth:
            break
        horizon *= 2
    if plain[-1] < target or bool((np.diff(plain) <= 0).any()):
        raise ValueError(f"the plain vertex of {activation_name(activation)!r} does not grow to the residual one "
                         f"({target:.3g}) within {horizon} layers")
    return float(np.interp(target, plain, np.arange(horizon + 1))) / width
