"""Plausible wrong answers must lose points (README, "Grade labs"; CONTRIBUTING.md, "Add a lab").

For every question of every lab, at least three mutants of the solution: off-by-one, a wrong sign, a missing
factor, a wrong edge case, the wrong-but-close formula. Each is graded by calling the lab's tests (public and
hidden, from otter assign's autograder) directly in this process with the solution's functions and the
mutant's replacement; the mutant must lose points on its question. These are our code, not a student's, so they
need no sandbox; the sandbox is tested with cheating submissions in tests/test_grading_redteam.py.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_tool():
    spec = importlib.util.spec_from_file_location("labs_tool_mutants", ROOT / "tools" / "labs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["labs_tool_mutants"] = module
    spec.loader.exec_module(module)
    return module


tool = _load_tool()

MUTANTS: dict[str, dict[str, dict[str, str]]] = {
    "lab00": {
        "q1": {
            "off_by_one": '''
def gd_errors(quadratic, eta, steps, x0=None):
    A, b = quadratic.A, quadratic.b
    x = torch.zeros_like(b) if x0 is None else x0.to(b.dtype).clone()
    x_star = torch.linalg.solve(A, b)
    errors = []
    for _ in range(steps):
        x = x - eta * (A @ x - b)
        errors.append(torch.linalg.vector_norm(x - x_star))
    return torch.stack(errors)
''',
            "wrong_sign": '''
def gd_errors(quadratic, eta, steps, x0=None):
    A, b = quadratic.A, quadratic.b
    x = torch.zeros_like(b) if x0 is None else x0.to(b.dtype).clone()
    x_star = torch.linalg.solve(A, b)
    errors = [torch.linalg.vector_norm(x - x_star)]
    for _ in range(steps):
        x = x + eta * (A @ x - b)
        errors.append(torch.linalg.vector_norm(x - x_star))
    return torch.stack(errors)
''',
            "ignores_x0": '''
def gd_errors(quadratic, eta, steps, x0=None):
    A, b = quadratic.A, quadratic.b
    x = torch.zeros_like(b)
    x_star = torch.linalg.solve(A, b)
    errors = [torch.linalg.vector_norm(x - x_star)]
    for _ in range(steps):
        x = x - eta * (A @ x - b)
        errors.append(torch.linalg.vector_norm(x - x_star))
    return torch.stack(errors)
''',
            "norm_of_the_iterate": '''
def gd_errors(quadratic, eta, steps, x0=None):
    A, b = quadratic.A, quadratic.b
    x = torch.zeros_like(b) if x0 is None else x0.to(b.dtype).clone()
    errors = [torch.linalg.vector_norm(x)]
    for _ in range(steps):
        x = x - eta * (A @ x - b)
        errors.append(torch.linalg.vector_norm(x))
    return torch.stack(errors)
''',
        },
        "q2": {
            "ignores_skip": '''
def fitted_rate(errors, skip=0):
    y = torch.as_tensor(errors, dtype=torch.float64).log()
    j = torch.arange(len(y), dtype=torch.float64)
    slope = ((j - j.mean()) * (y - y.mean())).sum() / ((j - j.mean()) ** 2).sum()
    return float(slope.exp())
''',
            "endpoint_slope": '''
def fitted_rate(errors, skip=0):
    y = torch.as_tensor(errors[skip:], dtype=torch.float64).log()
    return float(((y[-1] - y[0]) / (len(y) - 1)).exp())
''',
            "no_absolute_value": '''
def predicted_rate(eta, eigenvalues):
    return float((1 - eta * eigenvalues).max())
''',
            "only_lambda_max": '''
def predicted_rate(eta, eigenvalues):
    return float(abs(1 - eta * eigenvalues.max()))
''',
        },
        "q3": {
            "one_over_lambda_max": '''
def best_step(quadratic):
    return 1.0 / quadratic.lambda_max
''',
            "truncates": '''
def steps_needed(quadratic, reduction=1e-6):
    kappa = quadratic.condition_number
    return int(math.log(reduction) / math.log((kappa - 1) / (kappa + 1)))
''',
            "rate_of_the_simple_step": '''
def steps_needed(quadratic, reduction=1e-6):
    kappa = quadratic.condition_number
    return math.ceil(math.log(reduction) / math.log(1 - 1 / kappa))
''',
            "wrong_default": '''
def steps_needed(quadratic, reduction=1e-3):
    kappa = quadratic.condition_number
    return math.ceil(math.log(reduction) / math.log((kappa - 1) / (kappa + 1)))
''',
        },
        "q4": {
            "the_best_step": '''
def matching_step(quadratic):
    return 2.0 / (quadratic.lambda_min + quadratic.lambda_max)
''',
            "wrong_sign": '''
def matching_step(quadratic):
    return (2.0 + 1.0 / quadratic.condition_number) / quadratic.lambda_max
''',
            "the_stability_limit": '''
def matching_step(quadratic):
    return 2.0 / quadratic.lambda_max
''',
            "left_branch": '''
def matching_step(quadratic):
    return 1.0 / quadratic.lambda_max
''',
        },
    },
    "lab01": {
        "q1": {
            "missing_factor": '''
def gram_limit(X):
    cosine = (X @ X.T).clamp(-1.0, 1.0)
    return cosine * (math.pi - torch.arccos(cosine)) / math.pi
''',
            "missing_cosine": '''
def gram_limit(X):
    cosine = (X @ X.T).clamp(-1.0, 1.0)
    return (math.pi - torch.arccos(cosine)) / (2 * math.pi)
''',
            "wrong_sign": '''
def gram_limit(X):
    cosine = (X @ X.T).clamp(-1.0, 1.0)
    return cosine * (math.pi + torch.arccos(cosine)) / (2 * math.pi)
''',
        },
        "q2": {
            "missing_width": '''
def gram_empirical(net, X):
    active = (X @ net.W.detach().T >= 0).to(X.dtype) * net.a.to(X.dtype).abs()
    return (X @ X.T) * (active @ active.T)
''',
            "missing_inputs": '''
def gram_empirical(net, X):
    active = (X @ net.W.detach().T >= 0).to(X.dtype) * net.a.to(X.dtype).abs()
    return (active @ active.T) / net.width
''',
            "square_root_of_width": '''
def gram_empirical(net, X):
    active = (X @ net.W.detach().T >= 0).to(X.dtype) * net.a.to(X.dtype).abs()
    return (X @ X.T) * (active @ active.T) / math.sqrt(net.width)
''',
        },
        "q3": {
            "off_by_one": '''
def predicted_residuals(H, y, u0, eta, steps):
    eigenvalues, V = torch.linalg.eigh(H)
    k = torch.arange(1, steps + 2, dtype=H.dtype)
    factors = (1 - eta * eigenvalues)[None, :] ** k[:, None]
    return (factors * ((u0 - y) @ V)[None, :]) @ V.T
''',
            "wrong_sign": '''
def predicted_residuals(H, y, u0, eta, steps):
    eigenvalues, V = torch.linalg.eigh(H)
    k = torch.arange(steps + 1, dtype=H.dtype)
    factors = (1 + eta * eigenvalues)[None, :] ** k[:, None]
    return (factors * ((u0 - y) @ V)[None, :]) @ V.T
''',
            "not_rotated_back": '''
def predicted_residuals(H, y, u0, eta, steps):
    eigenvalues, V = torch.linalg.eigh(H)
    k = torch.arange(steps + 1, dtype=H.dtype)
    factors = (1 - eta * eigenvalues)[None, :] ** k[:, None]
    return factors * ((u0 - y) @ V)[None, :]
''',
        },
        "q4": {
            "absolute_target": '''
def predicted_steps(H, y, u0, eta, reduction):
    horizon = 64
    while horizon <= 100_000:
        losses = 0.5 * (predicted_residuals(H, y, u0, eta, horizon) ** 2).sum(dim=1)
        reached = (losses <= reduction).nonzero()
        if len(reached):
            return int(reached[0])
        horizon *= 2
    raise ValueError("not reached")
''',
            "off_by_one": '''
def predicted_steps(H, y, u0, eta, reduction):
    horizon = 64
    while horizon <= 100_000:
        losses = (predicted_residuals(H, y, u0, eta, horizon) ** 2).sum(dim=1)
        reached = (losses <= reduction * losses[0]).nonzero()
        if len(reached):
            return int(reached[0]) + 1
        horizon *= 2
    raise ValueError("not reached")
''',
            "norm_not_loss": '''
def predicted_steps(H, y, u0, eta, reduction):
    horizon = 64
    while horizon <= 100_000:
        norms = predicted_residuals(H, y, u0, eta, horizon).norm(dim=1)
        reached = (norms <= reduction * norms[0]).nonzero()
        if len(reached):
            return int(reached[0])
        horizon *= 2
    raise ValueError("not reached")
''',
        },
        "q5": {
            "no_prefactor": '''
def degree_eigenvalue(d, ell):
    from scipy.integrate import quad
    from scipy.special import eval_gegenbauer
    alpha = (d - 2) / 2
    norm = float(eval_gegenbauer(ell, alpha, 1.0))
    f = lambda th: math.cos(th) * (math.pi - th) / (2 * math.pi) * float(eval_gegenbauer(ell, alpha, math.cos(th))) / norm * math.sin(th) ** (d - 2)
    return quad(f, 0.0, math.pi, epsabs=1e-13, limit=200)[0]
''',
            "sphere_one_dimension_up": '''
def degree_eigenvalue(d, ell):
    from scipy.integrate import quad
    from scipy.special import eval_gegenbauer
    alpha = (d - 1) / 2
    norm = float(eval_gegenbauer(ell, alpha, 1.0))
    c = math.gamma((d + 1) / 2) / (math.sqrt(math.pi) * math.gamma(d / 2))
    f = lambda th: math.cos(th) * (math.pi - th) / (2 * math.pi) * float(eval_gegenbauer(ell, alpha, math.cos(th))) / norm * math.sin(th) ** (d - 1)
    return c * quad(f, 0.0, math.pi, epsabs=1e-13, limit=200)[0]
''',
            "gegenbauer_not_normalized": '''
def degree_eigenvalue(d, ell):
    from scipy.integrate import quad
    from scipy.special import eval_gegenbauer
    alpha = (d - 2) / 2
    c = math.gamma(d / 2) / (math.sqrt(math.pi) * math.gamma((d - 1) / 2))
    f = lambda th: math.cos(th) * (math.pi - th) / (2 * math.pi) * float(eval_gegenbauer(ell, alpha, math.cos(th))) * math.sin(th) ** (d - 2)
    return c * quad(f, 0.0, math.pi, epsabs=1e-13, limit=200)[0]
''',
            "dot_product_in_theta": '''
def degree_eigenvalue(d, ell):
    from scipy.integrate import quad
    from scipy.special import eval_gegenbauer
    alpha = (d - 2) / 2
    norm = float(eval_gegenbauer(ell, alpha, 1.0))
    c = math.gamma(d / 2) / (math.sqrt(math.pi) * math.gamma((d - 1) / 2))
    f = lambda t: t * (math.pi - math.acos(t)) / (2 * math.pi) * float(eval_gegenbauer(ell, alpha, t)) / norm
    return c * quad(f, -1.0, 1.0, epsabs=1e-13, limit=200)[0]
''',
        },
    },
    "lab02": {
        "q1": {
            "forgets_the_bias": '''
def kernel_flow(sigma, C_b, C_W, K0, depth):
    K = [float(K0)]
    for _ in range(depth):
        K.append(C_W * gaussian_expectation(lambda z: sigma(z) ** 2, K[-1]))
    return torch.tensor(K, dtype=torch.float64)
''',
            "off_by_one": '''
def kernel_flow(sigma, C_b, C_W, K0, depth):
    K = [float(K0)]
    for _ in range(depth):
        K.append(C_b + C_W * gaussian_expectation(lambda z: sigma(z) ** 2, K[-1]))
    return torch.tensor(K[1:], dtype=torch.float64)
''',
            "square_of_the_mean": '''
def kernel_flow(sigma, C_b, C_W, K0, depth):
    K = [float(K0)]
    for _ in range(depth):
        K.append(C_b + C_W * gaussian_expectation(lambda z: sigma(z).abs(), K[-1]) ** 2)
    return torch.tensor(K, dtype=torch.float64)
''',
        },
        "q2": {
            "missing_half": '''
def susceptibilities(sigma, C_W, K):
    sigma_prime = derivative(sigma)
    parallel = C_W / K**2 * gaussian_expectation(lambda z: sigma(z) ** 2 * (z**2 - K), K)
    perp = C_W * gaussian_expectation(lambda z: sigma_prime(z) ** 2, K)
    return float(parallel), float(perp)
''',
            "derivative_not_squared": '''
def susceptibilities(sigma, C_W, K):
    sigma_prime = derivative(sigma)
    parallel = C_W / (2 * K**2) * gaussian_expectation(lambda z: sigma(z) ** 2 * (z**2 - K), K)
    perp = C_W * gaussian_expectation(lambda z: sigma_prime(z).abs(), K)
    return float(parallel), float(perp)
''',
            "swapped": '''
def susceptibilities(sigma, C_W, K):
    sigma_prime = derivative(sigma)
    parallel = C_W / (2 * K**2) * gaussian_expectation(lambda z: sigma(z) ** 2 * (z**2 - K), K)
    perp = C_W * gaussian_expectation(lambda z: sigma_prime(z) ** 2, K)
    return float(perp), float(parallel)
''',
        },
        "q3": {
            "forgets_the_bias": '''
def critical_initialization(sigma, C_b):
    from scipy.optimize import brentq
    sigma_prime = derivative(sigma)
    def gap(K):
        return 0.5 * C_b + gaussian_expectation(lambda z: sigma(z) ** 2, K) / gaussian_expectation(lambda z: sigma_prime(z) ** 2, K) - K
    K_star = brentq(gap, 1e-3, 1e2, xtol=1e-14, rtol=1e-13)
    return 1.0 / gaussian_expectation(lambda z: sigma_prime(z) ** 2, K_star), K_star
''',
            "swapped": '''
def critical_initialization(sigma, C_b):
    from scipy.optimize import brentq
    sigma_prime = derivative(sigma)
    def gap(K):
        return C_b + gaussian_expectation(lambda z: sigma(z) ** 2, K) / gaussian_expectation(lambda z: sigma_prime(z) ** 2, K) - K
    K_star = brentq(gap, 1e-3, 1e2, xtol=1e-14, rtol=1e-13)
    return K_star, 1.0 / gaussian_expectation(lambda z: sigma_prime(z) ** 2, K_star)
''',
            "wrong_weight_variance": '''
def critical_initialization(sigma, C_b):
    from scipy.optimize import brentq
    sigma_prime = derivative(sigma)
    def gap(K):
        return C_b + gaussian_expectation(lambda z: sigma(z) ** 2, K) / gaussian_expectation(lambda z: sigma_prime(z) ** 2, K) - K
    K_star = brentq(gap, 1e-3, 1e2, xtol=1e-14, rtol=1e-13)
    return (K_star - C_b) / gaussian_expectation(lambda z: sigma_prime(z), K_star) ** 2, K_star
''',
        },
        "q4": {
            "missing_three": '''
def predicted_kurtosis(sigma, C_b, C_W, K0, depth, width):
    K = kernel_flow(sigma, C_b, C_W, K0, depth)
    V = 0.0
    for l in range(depth):
        k = float(K[l])
        parallel, _ = susceptibilities(sigma, C_W, k)
        second = gaussian_expectation(lambda z: sigma(z) ** 2, k)
        fourth = gaussian_expectation(lambda z: sigma(z) ** 4, k)
        V = parallel**2 * V + C_W**2 * (fourth - second**2)
    return V / (width * float(K[-1]) ** 2)
''',
            "parallel_not_squared": '''
def predicted_kurtosis(sigma, C_b, C_W, K0, depth, width):
    K = kernel_flow(sigma, C_b, C_W, K0, depth)
    V = 0.0
    for l in range(depth):
        k = float(K[l])
        parallel, _ = susceptibilities(sigma, C_W, k)
        second = gaussian_expectation(lambda z: sigma(z) ** 2, k)
        fourth = gaussian_expectation(lambda z: sigma(z) ** 4, k)
        V = parallel * V + C_W**2 * (fourth - second**2)
    return 3 * V / (width * float(K[-1]) ** 2)
''',
            "first_layer_measured": '''
def measured_kurtosis(activation, C_b, C_W, K0, depth, width, n_networks, seed):
    generator = torch.Generator().manual_seed(seed)
    estimate = sample_preactivations(activation, C_b, C_W, K0, depth, width, n_networks, generator).excess_kurtosis()
    return float(estimate.value[1]), float(estimate.stderr[1])
''',
            "initial_variance_in_denominator": '''
def predicted_kurtosis(sigma, C_b, C_W, K0, depth, width):
    K = kernel_flow(sigma, C_b, C_W, K0, depth)
    V = 0.0
    for l in range(depth):
        k = float(K[l])
        parallel, _ = susceptibilities(sigma, C_W, k)
        second = gaussian_expectation(lambda z: sigma(z) ** 2, k)
        fourth = gaussian_expectation(lambda z: sigma(z) ** 4, k)
        V = parallel**2 * V + C_W**2 * (fourth - second**2)
    return 3 * V / (width * float(K[0]) ** 2)
''',
        },
        "q5": {
            "cubic_term_only": '''
def decay_coefficient(sigma):
    z = torch.zeros((), dtype=torch.float64, requires_grad=True)
    derivatives, current = [], sigma(z)
    for _ in range(3):
        (current,) = torch.autograd.grad(current, z, create_graph=True)
        derivatives.append(float(current.detach()))
    s1, s2, s3 = derivatives
    return 1 / s1**2, s3 / s1
''',
            "taylor_coefficients_for_derivatives": '''
def decay_coefficient(sigma):
    z = torch.zeros((), dtype=torch.float64, requires_grad=True)
    derivatives, current = [], sigma(z)
    for _ in range(3):
        (current,) = torch.autograd.grad(current, z, create_graph=True)
        derivatives.append(float(current.detach()))
    c1, c2, c3 = derivatives[0], derivatives[1] / 2, derivatives[2] / 6
    return 1 / c1**2, 3 * c3 / c1 + 0.75 * (c2 / c1) ** 2
''',
            "slope_not_squared": '''
def decay_coefficient(sigma):
    z = torch.zeros((), dtype=torch.float64, requires_grad=True)
    derivatives, current = [], sigma(z)
    for _ in range(3):
        (current,) = torch.autograd.grad(current, z, create_graph=True)
        derivatives.append(float(current.detach()))
    s1, s2, s3 = derivatives
    return 1 / s1, s3 / s1 + 0.75 * (s2 / s1) ** 2
''',
            "cross_term_halved": '''
def decay_coefficient(sigma):
    z = torch.zeros((), dtype=torch.float64, requires_grad=True)
    derivatives, current = [], sigma(z)
    for _ in range(3):
        (current,) = torch.autograd.grad(current, z, create_graph=True)
        derivatives.append(float(current.detach()))
    s1, s2, s3 = derivatives
    return 1 / s1**2, s3 / s1 + 0.25 * (s2 / s1) ** 2
''',
        },
    },
    "lab03": {
        "q1": {
            "wrong_sign_of_the_fall": '''
def hat_net(left, peak, right):
    s1, s2 = 1 / (peak - left), 1 / (right - peak)
    return set_weights([([[1.0], [1.0], [1.0]], [-left, -peak, -right]), ([[s1, s2 - s1, -s2]], [0.0])])
''',
            "symmetric_hat": '''
def hat_net(left, peak, right):
    peak = (left + right) / 2
    s1, s2 = 1 / (peak - left), -1 / (right - peak)
    return set_weights([([[1.0], [1.0], [1.0]], [-left, -peak, -right]), ([[s1, s2 - s1, -s2]], [0.0])])
''',
            "missing_last_unit": '''
def hat_net(left, peak, right):
    s1, s2 = 1 / (peak - left), -1 / (right - peak)
    return set_weights([([[1.0], [1.0], [1.0]], [-left, -peak, -right]), ([[s1, s2 - s1, 0.0]], [0.0])])
''',
            "slope_not_jump": '''
def hat_net(left, peak, right):
    s1, s2 = 1 / (peak - left), -1 / (right - peak)
    return set_weights([([[1.0], [1.0], [1.0]], [-left, -peak, -right]), ([[s1, s2, -s2]], [0.0])])
''',
        },
        "q2": {
            "off_by_one": '''
def sawtooth(k):
    first = ([[1.0], [1.0]], [0.0, -0.5])
    middle = ([[2.0, -4.0], [2.0, -4.0]], [0.0, -0.5])
    last = ([[2.0, -4.0]], [0.0])
    return set_weights([first] + [middle] * max(k - 2, 0) + [last])
''',
            "wrong_kink": '''
def sawtooth(k):
    first = ([[1.0], [1.0]], [0.0, -0.25])
    middle = ([[2.0, -4.0], [2.0, -4.0]], [0.0, -0.25])
    last = ([[2.0, -4.0]], [0.0])
    return set_weights([first] + [middle] * (k - 1) + [last])
''',
            "wrong_fold": '''
def sawtooth(k):
    first = ([[1.0], [1.0]], [0.0, -0.5])
    middle = ([[2.0, -2.0], [2.0, -2.0]], [0.0, -0.5])
    last = ([[2.0, -2.0]], [0.0])
    return set_weights([first] + [middle] * (k - 1) + [last])
''',
        },
        "q3": {
            "half_not_quarter": '''
def square_net(m):
    layers = [([[1.0], [1.0], [1.0], [0.0]], [0.0, 0.0, -0.5, 0.0])]
    for s in range(1, m):
        scale = 0.5**s
        layers.append(([[1.0, 0.0, 0.0, 0.0], [0.0, 2.0, -4.0, 0.0], [0.0, 2.0, -4.0, 0.0],
                        [0.0, 2 * scale, -4 * scale, 1.0]], [0.0, 0.0, -0.5, 0.0]))
    scale = 0.5**m
    layers.append(([[1.0, -2 * scale, 4 * scale, -1.0]], [0.0]))
    return set_weights(layers)
''',
            "one_tooth_short": '''
def square_net(m):
    m = max(m - 1, 1) if m > 1 else m
    layers = [([[1.0], [1.0], [1.0], [0.0]], [0.0, 0.0, -0.5, 0.0])]
    for s in range(1, m):
        scale = 0.25**s
        layers.append(([[1.0, 0.0, 0.0, 0.0], [0.0, 2.0, -4.0, 0.0], [0.0, 2.0, -4.0, 0.0],
                        [0.0, 2 * scale, -4 * scale, 1.0]], [0.0, 0.0, -0.5, 0.0]))
    scale = 0.25**m
    layers.append(([[1.0, -2 * scale, 4 * scale, -1.0]], [0.0]))
    return set_weights(layers)
''',
            "wrong_sign_of_the_sum": '''
def square_net(m):
    layers = [([[1.0], [1.0], [1.0], [0.0]], [0.0, 0.0, -0.5, 0.0])]
    for s in range(1, m):
        scale = 0.25**s
        layers.append(([[1.0, 0.0, 0.0, 0.0], [0.0, 2.0, -4.0, 0.0], [0.0, 2.0, -4.0, 0.0],
                        [0.0, 2 * scale, -4 * scale, 1.0]], [0.0, 0.0, -0.5, 0.0]))
    scale = 0.25**m
    layers.append(([[1.0, -2 * scale, 4 * scale, 1.0]], [0.0]))
    return set_weights(layers)
''',
        },
        "q4": {
            "signed_jump": '''
def count_pieces(net, a, b):
    w = net[0].weight.detach().double().squeeze(-1)
    bias = net[0].bias.detach().double()
    out = net[2].weight.detach().double().squeeze(0)
    on = w != 0
    kinks, jumps = -bias[on] / w[on], out[on] * w[on]
    scale = float((out * w).abs().max()) if w.numel() else 0.0
    inside = (kinks > a) & (kinks < b)
    kinks, jumps = kinks[inside], jumps[inside]
    order = torch.argsort(kinks)
    totals, previous = [], None
    for t, jump in zip(kinks[order].tolist(), jumps[order].tolist()):
        if previous is not None and t - previous < 1e-12:
            totals[-1] += jump
        else:
            totals.append(jump)
        previous = t
    return 1 + sum(1 for total in totals if abs(total) > 1e-9 * scale)
''',
            "closed_interval": '''
def count_pieces(net, a, b):
    w = net[0].weight.detach().double().squeeze(-1)
    bias = net[0].bias.detach().double()
    out = net[2].weight.detach().double().squeeze(0)
    on = w != 0
    kinks, jumps = -bias[on] / w[on], out[on] * w[on].abs()
    scale = float((out * w).abs().max()) if w.numel() else 0.0
    inside = (kinks >= a - 0.5) & (kinks <= b + 0.5)
    kinks, jumps = kinks[inside], jumps[inside]
    order = torch.argsort(kinks)
    totals, previous = [], None
    for t, jump in zip(kinks[order].tolist(), jumps[order].tolist()):
        if previous is not None and t - previous < 1e-12:
            totals[-1] += jump
        else:
            totals.append(jump)
        previous = t
    return 1 + sum(1 for total in totals if abs(total) > 1e-9 * scale)
''',
            "no_cancellation": '''
def count_pieces(net, a, b):
    w = net[0].weight.detach().double().squeeze(-1)
    bias = net[0].bias.detach().double()
    on = w != 0
    kinks = -bias[on] / w[on]
    inside = kinks[(kinks > a) & (kinks < b)]
    return 1 + len(set(inside.tolist()))
''',
            "ends_counted": '''
def count_pieces(net, a, b):
    w = net[0].weight.detach().double().squeeze(-1)
    bias = net[0].bias.detach().double()
    out = net[2].weight.detach().double().squeeze(0)
    on = w != 0
    kinks, jumps = -bias[on] / w[on], out[on] * w[on].abs()
    scale = float((out * w).abs().max()) if w.numel() else 0.0
    inside = (kinks >= a) & (kinks <= b)
    kinks, jumps = kinks[inside], jumps[inside]
    order = torch.argsort(kinks)
    totals, previous = [], None
    for t, jump in zip(kinks[order].tolist(), jumps[order].tolist()):
        if previous is not None and t - previous < 1e-12:
            totals[-1] += jump
        else:
            totals.append(jump)
        previous = t
    return 1 + sum(1 for total in totals if abs(total) > 1e-9 * scale)
''',
        },
    },
    "lab04": {
        "q1": {
            "no_cutoff": '''
def alphabeta_count(game, depth=None):
    nodes = leaves = 0
    def search(state, remaining):
        nonlocal nodes, leaves
        nodes += 1
        if state.is_terminal():
            leaves += 1
            return state.result()
        if remaining == 0:
            leaves += 1
            return state.evaluate()
        return max(-search(state.play(move), remaining - 1) for move in state.legal_moves())
    value = search(game, math.inf if depth is None else depth)
    return float(value), nodes, leaves
''',
            "root_not_counted": '''
def alphabeta_count(game, depth=None):
    nodes = leaves = 0
    def search(state, remaining, alpha, beta):
        nonlocal nodes, leaves
        nodes += 1
        if state.is_terminal():
            leaves += 1
            return state.result()
        if remaining == 0:
            leaves += 1
            return state.evaluate()
        best = -math.inf
        for move in state.legal_moves():
            best = max(best, -search(state.play(move), remaining - 1, -beta, -alpha))
            alpha = max(alpha, best)
            if alpha >= beta:
                break
        return best
    value = search(game, math.inf if depth is None else depth, -math.inf, math.inf)
    return float(value), nodes - 1, leaves
''',
            "strict_cutoff": '''
def alphabeta_count(game, depth=None):
    nodes = leaves = 0
    def search(state, remaining, alpha, beta):
        nonlocal nodes, leaves
        nodes += 1
        if state.is_terminal():
            leaves += 1
            return state.result()
        if remaining == 0:
            leaves += 1
            return state.evaluate()
        best = -math.inf
        for move in state.legal_moves():
            best = max(best, -search(state.play(move), remaining - 1, -beta, -alpha))
            alpha = max(alpha, best)
            if alpha > beta:
                break
        return best
    value = search(game, math.inf if depth is None else depth, -math.inf, math.inf)
    return float(value), nodes, leaves
''',
            "wraps_the_library": '''
def alphabeta_count(game, depth=None):
    from dltheory.search import alphabeta
    result = alphabeta(game, depth)
    return float(result.value), result.nodes, result.leaves
''',
            "window_not_negated": '''
def alphabeta_count(game, depth=None):
    nodes = leaves = 0
    def search(state, remaining, alpha, beta):
        nonlocal nodes, leaves
        nodes += 1
        if state.is_terminal():
            leaves += 1
            return state.result()
        if remaining == 0:
            leaves += 1
            return state.evaluate()
        best = -math.inf
        for move in state.legal_moves():
            best = max(best, -search(state.play(move), remaining - 1, alpha, beta))
            alpha = max(alpha, best)
            if alpha >= beta:
                break
        return best
    value = search(game, math.inf if depth is None else depth, -math.inf, math.inf)
    return float(value), nodes, leaves
''',
        },
        "q2": {
            "missing_minus_one": '''
def minimal_leaves(b, d):
    return b ** math.ceil(d / 2) + b ** (d // 2)
''',
            "floor_twice": '''
def minimal_leaves(b, d):
    return 2 * b ** (d // 2) - 1
''',
            "not_negated": '''
def winning_moves(game):
    values = {move: alphabeta_count(game.play(move))[0] for move in game.legal_moves()}
    best = max(values.values())
    return [move for move, value in values.items() if value == best]
''',
            "first_only": '''
def winning_moves(game):
    values = {move: -alphabeta_count(game.play(move))[0] for move in game.legal_moves()}
    best = max(values.values())
    return [move for move, value in values.items() if value == best][:1]
''',
        },
        "q3": {
            "constant_exploration": '''
def puct_choice(q, visits, prior, parent_visits, c_init=1.25, c_base=19652.0):
    c = c_init
    scores = np.asarray(q, dtype=float) + c * np.asarray(prior, dtype=float) * math.sqrt(parent_visits) / (1 + np.asarray(visits, dtype=float))
    return int(np.argmax(scores))
''',
            "no_square_root": '''
def puct_choice(q, visits, prior, parent_visits, c_init=1.25, c_base=19652.0):
    c = math.log((1 + parent_visits + c_base) / c_base) + c_init
    scores = np.asarray(q, dtype=float) + c * np.asarray(prior, dtype=float) * parent_visits / (1 + np.asarray(visits, dtype=float))
    return int(np.argmax(scores))
''',
            "visits_without_one": '''
def puct_choice(q, visits, prior, parent_visits, c_init=1.25, c_base=19652.0):
    c = math.log((1 + parent_visits + c_base) / c_base) + c_init
    scores = np.asarray(q, dtype=float) + c * np.asarray(prior, dtype=float) * math.sqrt(parent_visits) / np.maximum(np.asarray(visits, dtype=float), 1)
    return int(np.argmax(scores))
''',
            "ties_to_the_last": '''
def puct_choice(q, visits, prior, parent_visits, c_init=1.25, c_base=19652.0):
    c = math.log((1 + parent_visits + c_base) / c_base) + c_init
    scores = np.asarray(q, dtype=float) + c * np.asarray(prior, dtype=float) * math.sqrt(parent_visits) / (1 + np.asarray(visits, dtype=float))
    return int(len(scores) - 1 - np.argmax(scores[::-1]))
''',
        },
    },
}


def _solution_namespace(lab: str) -> dict:
    """The master's set-up cells (before the first question, without the setup cell) and solution cells, run."""
    notebook = nbformat.read(tool.masters()[lab], as_version=4)
    namespace: dict = {"__name__": f"solution_{lab}"}
    seen_question = False
    for cell in notebook.cells:
        if cell.cell_type == "raw" and cell.source.startswith("# BEGIN QUESTION"):
            seen_question = True
        if cell.cell_type != "code" or "dltheory.setup(" in cell.source:
            continue
        if (not seen_question and "BEGIN TEST CONFIG" not in cell.source) or "    # BEGIN SOLUTION" in cell.source:
            exec(compile(cell.source, f"<{lab} solution>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def lab_tests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("mutants")
    tests = {}
    for lab in sorted(tool.masters()):
        built = tool.build(lab, out / lab)
        tests[lab] = tool.grading.tests_from_autograder(built.autograder, out / lab / "tests")
    return tests


def _score(specs, namespace: dict) -> tuple[float, list[str]]:
    score, failures = 0.0, []
    for spec in specs:
        try:
            spec.function(**{name: namespace[name] for name in spec.parameters})
            score += spec.points
        except Exception as error:  # noqa: BLE001
            failures.append(f"{spec.name}: {type(error).__name__}: {str(error)[:200]}")
    return score, failures


@pytest.fixture(scope="module", autouse=True)
def secret():
    import secrets

    import dltheory.labs

    dltheory.labs.set_grading_secret("mutants " + secrets.token_hex(8))  # as when an instructor grades
    yield
    dltheory.labs.set_grading_secret(None)


def test_every_question_has_at_least_three_mutants(lab_tests: dict[str, dict]) -> None:
    for lab, questions in lab_tests.items():
        assert set(MUTANTS[lab]) == set(questions), f"{lab}: mutants for {sorted(MUTANTS[lab])}, questions {sorted(questions)}"
        for question in questions:
            assert len(MUTANTS[lab][question]) >= 3, f"{lab} {question} has fewer than three mutants"


@pytest.mark.parametrize("lab", sorted(MUTANTS))
def test_the_solution_passes_every_test_in_process(lab_tests: dict[str, dict], lab: str) -> None:
    import dltheory.labs

    namespace = _solution_namespace(lab)
    for question, specs in lab_tests[lab].items():
        with dltheory.labs.unavailable(lab):  # as in grading: the tests may call the references, the answer not
            score, failures = _score(specs, namespace)
        assert score == sum(spec.points for spec in specs), f"{lab} {question}: {failures}"


@pytest.mark.parametrize("lab,question,mutant", [(lab, question, mutant) for lab, questions in MUTANTS.items()
                                                 for question, mutants in questions.items() for mutant in mutants])
def test_every_mutant_loses_points_on_its_question(lab_tests: dict[str, dict], lab: str, question: str,
                                                   mutant: str) -> None:
    namespace = _solution_namespace(lab)
    exec(compile(MUTANTS[lab][question][mutant], f"<mutant {mutant}>", "exec"), namespace)
    specs = lab_tests[lab][question]
    import dltheory.labs

    with dltheory.labs.unavailable(lab):  # a mutant that calls the library's own answer must lose points
        score, failures = _score(specs, namespace)
    assert score < sum(spec.points for spec in specs), f"{lab} {question}: the mutant {mutant} scored full marks"
    assert failures
