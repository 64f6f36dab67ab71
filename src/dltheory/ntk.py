"""The neural tangent kernel and what it predicts, Chapter 1, "Over-parameterized convergence".

Training a network f(x; theta) by gradient descent on the squared loss 1/2 ||f(X) - y||^2 moves the
outputs u = f(X) by u(k+1) - u(k) ~ -eta Theta(k) (u(k) - y), where Theta is the Gram matrix of the
neural tangent kernel Theta(x, x') = <df(x)/dtheta, df(x')/dtheta> (Jacot et al. 2018). When the
network is wide, Theta barely moves during training (Du et al. 2019; Lee et al. 2019), so the
residual decays along the eigenvectors of Theta at the rates (1 - eta lambda_i)^k (Arora et al. 2019).

This module computes the kernel of the two-layer ReLU network in the infinite-width limit
(`relu_gram`), the empirical kernel of any scalar-output torch module (`empirical_ntk`), and the
predictions the kernel makes: the training curve (`eigen_dynamics`), the data-dependent
complexity (`data_complexity`) and the kernel-regression predictor (`kernel_regression`).

Sections and equation labels of Chapter 1 served here: "The Gram matrix" (eq-gram-limit,
eq-lambda-0), "The neural tangent kernel" (eq-ntk, eq-ntk-layer), "Eigen-dynamics" (eq-residual-decay,
eq-data-complexity), "The linearized model" (eq-kernel-regression).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap

from dltheory.checks import check_integer, check_positive

#: Parameter-free modules applied elementwise (in evaluation mode, where dropout is the identity); a chain
#: of these and `nn.Linear` takes the fast path of `empirical_ntk`.
ELEMENTWISE: tuple[type[nn.Module], ...] = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.GELU,
    nn.SiLU,
    nn.Softplus,
    nn.ELU,
    nn.Identity,
    nn.Dropout,
)


def relu_gram(X: torch.Tensor, X2: torch.Tensor | None = None) -> torch.Tensor:
    """The limiting Gram matrix H-infinity of the two-layer ReLU network, in closed form.

    Chapter 1, Sec. "The Gram matrix", eq. (eq-gram-limit):
    H_ij = E_{w ~ N(0, I)}[x_i.x_j 1{w.x_i >= 0, w.x_j >= 0}] = x_i.x_j (pi - arccos(x_i.x_j)) / (2 pi)
    for unit-norm inputs (Du et al. 2019, Sec. 3): x_i.x_j / 2 times the arc-cosine kernel of degree 0,
    1 - angle / pi (Cho and Saul 2009). A Gaussian direction w has w.x_i >= 0 and w.x_j >= 0 with
    probability (pi - angle) / (2 pi), where angle = arccos(x_i.x_j), which gives the closed form. The
    scale of w does not matter, so the same matrix is the limit for w ~ N(0, omega^2 I). The angle comes
    from `relu_angle`, which stays accurate for nearly parallel inputs.

    Args:
        X: inputs, shape (n, d), each row of Euclidean norm 1.
        X2: optional second set of unit-norm inputs, shape (n2, d); the result is then the
            cross-kernel H(X, X2) of shape (n, n2). Defaults to X.

    Returns:
        H, shape (n, n) (or (n, n2)), with 1/2 on the diagonal when X2 is None.

    Raises:
        TypeError: if X or X2 is not a floating-point tensor.
        ValueError: if X or X2 is not 2-D, is empty, is not finite, has a row whose norm is not 1
            (within the square root of the dtype's machine epsilon), or X2 has a different number
            of columns.

    Example:
        X = torch.nn.functional.normalize(torch.randn(5, 3, dtype=torch.float64), dim=1)
        H = relu_gram(X)  # H.diagonal() is 1/2 everywhere
    """
    theta = relu_angle(X, X2)  # checks both inputs
    return X @ (X if X2 is None else X2).T * (math.pi - theta) / (2 * math.pi)


def relu_angle(X: torch.Tensor, X2: torch.Tensor | None = None) -> torch.Tensor:
    """The angles theta_ij between unit-norm inputs, computed stably, shape (n, n2).

    Chapter 1, Sec. "The Gram matrix": theta_ij = 2 atan2(``||x_i - x_j||``, ``||x_i + x_j||``), which equals
    arccos(x_i.x_j) for unit vectors but keeps every digit when the inputs are nearly parallel or nearly
    opposite, where arccos of a rounded dot product loses them all (at an angle of 1e-9 the dot product
    rounds to 1 and arccos returns 0). The distances are computed directly, never from the dot product.

    Args:
        X: inputs, shape (n, d), each row of Euclidean norm 1.
        X2: optional second set of unit-norm inputs, shape (n2, d). Defaults to X.

    Returns:
        theta, shape (n, n2), in [0, pi].

    Raises:
        TypeError: if X or X2 is not a floating-point tensor.
        ValueError: as `relu_gram`.
    """
    _check_unit_rows("X", X)
    if X2 is None:
        X2 = X
    else:
        _check_unit_rows("X2", X2)
        if X2.shape[1] != X.shape[1]:
            raise ValueError(f"X2 must have {X.shape[1]} columns like X, got shape {tuple(X2.shape)}")
    mode = "donot_use_mm_for_euclid_dist"  # the matmul shortcut would compute 2 - 2 x.y again
    difference = torch.cdist(X, X2, compute_mode=mode)
    total = torch.cdist(X, -X2, compute_mode=mode)
    return 2 * torch.atan2(difference, total)


def funk_hecke_eigenvalues(d: int, degrees: int, *, nodes: int = 256) -> torch.Tensor:
    """The eigenvalues mu_0, ..., mu_{degrees} of H-infinity's kernel on the sphere, by degree (Funk-Hecke).

    Chapter 1, Sec. "The spectrum of the kernel", eq. (eq-funk-hecke): for x uniform on the unit sphere of
    R^d, every spherical harmonic of degree l is an eigenfunction of f -> E_x'[h(x.x') f(x')], with
    h(t) = t (pi - arccos t) / (2 pi) (eq. `eq-gram-limit`), and eigenvalue
    ``mu_l = Gamma(d/2) / (sqrt(pi) Gamma((d-1)/2)) int_{-1}^{1} h(t) P_l(t) (1 - t^2)^((d-3)/2) dt``
    with P_l the Gegenbauer polynomial of index (d - 2) / 2 normalized to P_l(1) = 1. The integral is taken
    in the angle, t = cos(theta), where the integrand cos(theta) (pi - theta) P_l(cos theta) sin(theta)^(d-2)
    is smooth, by Gauss-Legendre quadrature with `nodes` points (exact to round-off for degrees well below
    `nodes`). The n x n matrix H-infinity of n uniform points has eigenvalues near n mu_l, each about
    `harmonic_multiplicity(d, l)` times; mu_1 = 1 / (4 d) and mu_l = 0 for odd l >= 3 (thm-odd-null).

    Args:
        d: the input dimension, an integer >= 3.
        degrees: the largest degree, a non-negative integer.
        nodes: the number of quadrature points, an integer >= 2 (degrees + 1) and >= 16.

    Returns:
        mu, float64, shape (degrees + 1,), with mu[l] the eigenvalue of degree l.

    Raises:
        ValueError: if d, degrees or nodes is out of range.
    """
    import numpy as np
    from scipy.special import eval_gegenbauer, gammaln

    d = check_integer("d", d, minimum=3)
    degrees = check_integer("degrees", degrees, minimum=0)
    nodes = check_integer("nodes", nodes, minimum=max(16, 2 * (degrees + 1)))
    x, weights = np.polynomial.legendre.leggauss(nodes)
    theta = 0.5 * np.pi * (x + 1)  # Gauss-Legendre on [0, pi]
    weights = 0.5 * np.pi * weights
    t = np.cos(theta)
    h = t * (np.pi - theta) / (2 * np.pi)
    index = (d - 2) / 2
    prefactor = np.exp(gammaln(d / 2) - gammaln((d - 1) / 2)) / np.sqrt(np.pi)
    measure = weights * np.sin(theta) ** (d - 2) * h
    mu = [
        prefactor * float(np.sum(measure * eval_gegenbauer(ell, index, t) / eval_gegenbauer(ell, index, 1.0)))
        for ell in range(degrees + 1)
    ]
    return torch.tensor(mu, dtype=torch.float64)


def harmonic_multiplicity(d: int, degree: int) -> int:
    """The number N(d, l) of linearly independent spherical harmonics of degree l on the sphere of R^d.

    Chapter 1, Sec. "The spectrum of the kernel", eq. (eq-funk-hecke):
    ``N(d, l) = (2 l + d - 2) / (l + d - 2) * binomial(l + d - 2, l)``, so N(d, 0) = 1, N(d, 1) = d and
    N(3, l) = 2 l + 1. It is the multiplicity of the eigenvalue mu_l of `funk_hecke_eigenvalues`.

    Raises:
        ValueError: if d is not an integer >= 2 or degree is not a non-negative integer.
    """
    d = check_integer("d", d, minimum=2)
    degree = check_integer("degree", degree, minimum=0)
    if degree == 0:
        return 1
    return (2 * degree + d - 2) * math.comb(degree + d - 3, degree - 1) // degree


def lambda_0(H: torch.Tensor) -> float:
    """The smallest eigenvalue lambda_0 of a symmetric Gram matrix.

    Chapter 1, Sec. "The Gram matrix", eq. (eq-lambda-0). For H-infinity it is positive when no two
    inputs are parallel (Du et al. 2019, Sec. 3), and it sets the convergence rate
    1 - eta lambda_0 / 2 of gradient descent.

    Args:
        H: a symmetric matrix, shape (n, n).

    Raises:
        ValueError: if H is not a finite symmetric square matrix.
    """
    _check_gram("H", H)
    return float(torch.linalg.eigvalsh(H)[0])


def empirical_ntk(model: nn.Module, X1: torch.Tensor, X2: torch.Tensor | None = None) -> torch.Tensor:
    """The empirical neural tangent kernel Gram matrix Theta(X1, X2) of a scalar-output network.

    Chapter 1, Sec. "The neural tangent kernel", eq. (eq-ntk):
    Theta(x, x') = sum over trainable parameters p of <df(x)/dp, df(x')/dp> (Jacot et al. 2018),
    at the current parameters, over every parameter with `requires_grad=True`.

    When `model` is an `nn.Sequential` (with the plain chained forward) of `nn.Linear` layers and
    parameter-free elementwise activations (`ELEMENTWISE`), the full Jacobian is never formed.
    A linear layer z = a W^T + b with input a(x) and output gradient g(x) = df(x)/dz has
    df(x)/dW = g(x) a(x)^T, so its weight contributes (g(x).g(x')) (a(x).a(x')) and its bias
    g(x).g(x') (eq. (eq-ntk-layer); the structured kernel of Novak et al. 2022). The gradients g
    of all layers and all inputs come from one batched backward pass of sum_i f(x_i), since each
    output depends only on its own input. The cost is O(n1 n2 (d_in + d_out)) per layer instead
    of O(n1 n2 d_in d_out). Any other module goes through `torch.func` (`vmap` of `jacrev`), which
    does form the per-example Jacobian.

    The kernel is that of the function the module computes in evaluation mode (dropout off,
    batch-norm with running statistics), whatever mode it is in; the module's modes, parameters
    and `.grad` fields are left as they were.

    Args:
        model: a `torch.nn.Module` mapping a batch of shape (n, ...) to outputs of shape (n,) or (n, 1).
        X1: inputs, shape (n1, ...), with the dtype and device of the model's parameters.
        X2: inputs, shape (n2, ...) with the same trailing shape as X1. Defaults to X1.

    Returns:
        Theta, shape (n1, n2), detached, on the device of X1.

    Raises:
        TypeError: if model is not an `nn.Module`, or X1 or X2 is not a floating-point tensor of the
            dtype of the model's parameters.
        ValueError: if the model has no trainable parameter, X1 or X2 has fewer than two dimensions
            or no rows, their trailing shapes differ, or the output is not one number per example.

    Example:
        net = nn.Sequential(nn.Linear(3, 512), nn.ReLU(), nn.Linear(512, 1))
        theta = empirical_ntk(net, torch.randn(10, 3))  # shape (10, 10)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise ValueError("model has no trainable parameter (requires_grad=True): its NTK is zero")
    _check_inputs("X1", X1, trainable[0].dtype)
    if X2 is not None:
        _check_inputs("X2", X2, trainable[0].dtype)
        if X2.shape[1:] != X1.shape[1:]:
            raise ValueError(
                f"X2 must have trailing shape {tuple(X1.shape[1:])} like X1, got shape {tuple(X2.shape)}"
            )
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with torch.enable_grad():
            chain = _linear_chain(model)
            if chain is not None and X1.ndim == 2:
                return _structured_ntk(model, chain, X1, X2)
            return _jacobian_ntk(model, X1, X2)
    finally:
        for module, training in modes:
            module.training = training


@dataclass(frozen=True)
class EigenDynamics:
    """The training curve predicted by the eigen-decomposition of a Gram matrix (`eigen_dynamics`).

    Attributes:
        eigenvalues: lambda_1 >= ... >= lambda_n of H, shape (n,).
        eigenvectors: the orthonormal eigenvectors v_i as columns, shape (n, n), in the same order.
        projections: the predicted v_i.(u(k) - y) for k = 0..steps, shape (steps + 1, n).
    """

    eigenvalues: torch.Tensor
    eigenvectors: torch.Tensor
    projections: torch.Tensor

    @property
    def residual_norms(self) -> torch.Tensor:
        """The predicted ||u(k) - y|| for k = 0..steps, shape (steps + 1,)."""
        return torch.linalg.vector_norm(self.projections, dim=1)

    def project(self, residuals: torch.Tensor) -> torch.Tensor:
        """Measured residuals u(k) - y, shape (K, n), in the eigenbasis: shape (K, n)."""
        n = self.eigenvalues.shape[0]
        if residuals.ndim != 2 or residuals.shape[1] != n:
            raise ValueError(f"residuals must have shape (K, {n}), got {tuple(residuals.shape)}")
        return residuals.to(self.eigenvectors.dtype) @ self.eigenvectors


def eigen_dynamics(
    H: torch.Tensor, y: torch.Tensor, eta: float, steps: int, u0: torch.Tensor | None = None
) -> EigenDynamics:
    """The residual u(k) - y that gradient descent with a constant kernel H produces, per eigen-direction.

    Chapter 1, Sec. "Eigen-dynamics", eq. (eq-residual-decay): with the kernel frozen at H,
    u(k) - y = (I - eta H)^k (u0 - y), so the projection on the eigenvector v_i shrinks by
    (1 - eta lambda_i) per step (Arora et al. 2019, Sec. 4, where u0 ~ 0 gives -(I - eta H)^k y).
    Labels aligned with the top eigenvectors are fitted fast; those in the bottom directions slowly.

    Args:
        H: the Gram matrix, symmetric, shape (n, n).
        y: labels, shape (n,).
        eta: the step size, positive.
        steps: the number of steps, a non-negative integer.
        u0: the network's outputs at initialization, shape (n,); zero when None.

    Returns:
        An `EigenDynamics` with the eigen-decomposition and the predicted projections.

    Raises:
        ValueError: if H is not a finite symmetric square matrix, y or u0 has the wrong shape,
            eta is not positive or steps is not a non-negative integer.
    """
    _check_gram("H", H)
    n = H.shape[0]
    _check_vector("y", y, n)
    if u0 is not None:
        _check_vector("u0", u0, n)
    eta = check_positive("eta", eta)
    steps = check_integer("steps", steps, minimum=0)
    eigenvalues, eigenvectors = torch.linalg.eigh(H)
    eigenvalues, eigenvectors = eigenvalues.flip(0), eigenvectors.flip(1)
    start = -y if u0 is None else u0 - y
    k = torch.arange(steps + 1, dtype=H.dtype, device=H.device)
    factors = (1 - eta * eigenvalues)[None, :] ** k[:, None]
    projections = factors * (start.to(H.dtype) @ eigenvectors)[None, :]
    return EigenDynamics(eigenvalues=eigenvalues, eigenvectors=eigenvectors, projections=projections)


def data_complexity(H: torch.Tensor, y: torch.Tensor) -> float:
    """The data-dependent complexity y^T H^{-1} y of labels y under the kernel H.

    Chapter 1, Sec. "Eigen-dynamics", eq. (eq-data-complexity) (Arora et al. 2019, Sec. 5): it equals
    sum_i (v_i.y)^2 / lambda_i, large when the labels lie along small-eigenvalue directions (random
    labels) and small when they lie along the top ones (true labels). Its square root bounds how far
    the first-layer weights travel, ||W(k) - W(0)||_F, in the wide limit (Arora et al. 2019, Sec. 5).

    Args:
        H: a symmetric positive definite Gram matrix, shape (n, n).
        y: labels, shape (n,).

    Raises:
        ValueError: if H is not symmetric positive definite or y does not have shape (n,).
    """
    _check_gram("H", H)
    _check_vector("y", y, H.shape[0])
    factor = _cholesky("H", H)
    z = torch.linalg.solve_triangular(factor, y.to(H.dtype)[:, None], upper=False)
    return float((z**2).sum())


def kernel_regression(K_train: torch.Tensor, y: torch.Tensor, K_test: torch.Tensor) -> torch.Tensor:
    """The kernel-regression predictor K(X_test, X) K(X, X)^{-1} y.

    Chapter 1, Sec. "The linearized model", eq. (eq-kernel-regression): a network trained to zero
    loss by gradient flow from zero output with its kernel frozen at K predicts this at new inputs
    (Jacot et al. 2018; Lee et al. 2019, where it is the t -> infinity limit of the linearized model;
    Arora et al. 2019 for the two-layer ReLU network with K = H-infinity).

    Args:
        K_train: the kernel among the n training inputs, symmetric positive definite, shape (n, n).
        y: training labels, shape (n,).
        K_test: the kernel between n_test new inputs and the training inputs, shape (n_test, n).

    Returns:
        The predictions at the new inputs, shape (n_test,).

    Raises:
        ValueError: if K_train is not symmetric positive definite, or y or K_test has the wrong shape.
    """
    _check_gram("K_train", K_train)
    n = K_train.shape[0]
    _check_vector("y", y, n)
    if K_test.ndim != 2 or K_test.shape[1] != n:
        raise ValueError(f"K_test must have shape (n_test, {n}), got {tuple(K_test.shape)}")
    factor = _cholesky("K_train", K_train)
    alpha = torch.cholesky_solve(y.to(K_train.dtype)[:, None], factor).squeeze(1)
    return K_test.to(K_train.dtype) @ alpha


# ----------------------------------------------------------------------------- the NTK, two ways


def _linear_chain(model: nn.Module) -> list[nn.Linear] | None:
    """The linear layers of `model` if it is a plain chain of Linear and elementwise modules, else None."""
    if not isinstance(model, nn.Sequential) or type(model).forward is not nn.Sequential.forward:
        return None
    if not all(type(layer) in (nn.Linear, *ELEMENTWISE) for layer in model):
        return None  # exact types: a subclass may have its own forward
    linear = [layer for layer in model if isinstance(layer, nn.Linear)]
    if len({id(layer) for layer in linear}) < len(linear):
        return None  # a layer used twice shares its weights between two places in the chain
    covered = {id(p) for layer in linear for p in layer.parameters()}
    if any(p.requires_grad and id(p) not in covered for p in model.parameters()):
        return None
    return linear


def _structured_ntk(
    model: nn.Sequential, linear: list[nn.Linear], X1: torch.Tensor, X2: torch.Tensor | None
) -> torch.Tensor:
    """eq. (eq-ntk-layer): the sum over linear layers of (G1 G2^T) * (A1 A2^T), plus G1 G2^T for a bias."""
    n1 = X1.shape[0]
    X = X1 if X2 is None else torch.cat([X1, X2])
    trained = [layer for layer in linear if any(p.requires_grad for p in layer.parameters())]
    inputs: list[torch.Tensor] = []
    outputs: list[torch.Tensor] = []
    h = X.detach().requires_grad_(True)  # so that every layer output is in the graph
    for layer in model:
        if layer in trained:
            inputs.append(h.detach())
            h = layer(h)
            outputs.append(h)
        else:
            h = layer(h)
    _check_output(h, X.shape[0])
    gradients = torch.autograd.grad(h.sum(), outputs)  # row i is df(x_i)/dz(x_i): no batch coupling
    theta = X.new_zeros(n1, X.shape[0] - n1 if X2 is not None else n1)
    for layer, a, g in zip(trained, inputs, gradients):
        a1, a2 = (a[:n1], a[n1:]) if X2 is not None else (a, a)
        g1, g2 = (g[:n1], g[n1:]) if X2 is not None else (g, g)
        gg = g1 @ g2.T
        if layer.weight.requires_grad:
            theta += gg * (a1 @ a2.T)
        if layer.bias is not None and layer.bias.requires_grad:
            theta += gg
    return theta


def _jacobian_ntk(model: nn.Module, X1: torch.Tensor, X2: torch.Tensor | None) -> torch.Tensor:
    """eq. (eq-ntk) through the per-example Jacobian from torch.func (vmap of jacrev)."""
    with torch.no_grad():
        _check_output(model(X1[:2]), min(2, X1.shape[0]))
    named = [module for _, module in model.named_modules(remove_duplicate=False)]
    if len({id(module) for module in named}) < len(named):
        # functional_call cannot put back the parameters of a module registered under two names
        model = copy.deepcopy(model)
    trainable = {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}
    frozen = {name: p.detach() for name, p in model.named_parameters() if not p.requires_grad}
    frozen.update(dict(model.named_buffers()))

    def output(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        return functional_call(model, (params, frozen), (x.unsqueeze(0),)).reshape(())

    jacobian = vmap(jacrev(output), in_dims=(None, 0))
    J1 = jacobian(trainable, X1.detach())
    J2 = J1 if X2 is None else jacobian(trainable, X2.detach())
    theta = sum(J1[name].flatten(1) @ J2[name].flatten(1).T for name in trainable)
    return theta.detach()


# ----------------------------------------------------------------------------- input checks


def _check_output(f: torch.Tensor, n: int) -> None:
    if f.shape not in ((n,), (n, 1)):
        raise ValueError(
            f"model must return one number per example, shape ({n},) or ({n}, 1), got {tuple(f.shape)}"
        )


def _check_inputs(name: str, X: object, dtype: torch.dtype) -> None:
    if not isinstance(X, torch.Tensor) or not X.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {_describe(X)}")
    if X.ndim < 2 or X.shape[0] == 0:
        raise ValueError(f"{name} must have shape (n, ...) with n >= 1 rows, got {tuple(X.shape)}")
    if X.dtype != dtype:
        raise TypeError(f"{name} has dtype {X.dtype} but the model's parameters are {dtype}")


def _check_unit_rows(name: str, X: object) -> None:
    if not isinstance(X, torch.Tensor) or not X.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {_describe(X)}")
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"{name} must have shape (n, d) with n >= 1, got {tuple(X.shape)}")
    if not torch.isfinite(X).all():
        raise ValueError(f"{name} must be finite")
    tolerance = torch.finfo(X.dtype).eps ** 0.5
    deviation = float((torch.linalg.vector_norm(X, dim=1) - 1).abs().max())
    if deviation > tolerance:
        raise ValueError(
            f"{name} must have unit-norm rows (Du et al. 2019 assume ||x_i|| = 1); a row norm is off by "
            f"{deviation:.3g} > {tolerance:.1g}: use torch.nn.functional.normalize({name}, dim=1)"
        )


def _check_gram(name: str, H: object) -> None:
    if not isinstance(H, torch.Tensor) or not H.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {_describe(H)}")
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {tuple(H.shape)}")
    if not torch.isfinite(H).all():
        raise ValueError(f"{name} must be finite")
    tolerance = 1e3 * torch.finfo(H.dtype).eps * max(float(H.abs().max()), 1e-300)
    if float((H - H.T).abs().max()) > tolerance:
        raise ValueError(f"{name} must be symmetric")


def _check_vector(name: str, v: object, n: int) -> None:
    if not isinstance(v, torch.Tensor) or not v.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {_describe(v)}")
    if v.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {tuple(v.shape)}")


def _cholesky(name: str, H: torch.Tensor) -> torch.Tensor:
    factor, info = torch.linalg.cholesky_ex(H)
    if int(info) != 0:
        raise ValueError(f"{name} must be positive definite (its Cholesky factorization failed)")
    return factor


def _describe(value: object) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of dtype {value.dtype}"
    return type(value).__name__
