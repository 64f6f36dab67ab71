"""Wrong theories that Chapter 1's notebooks must catch (see tests/wrong_theories/__init__.py)."""

from __future__ import annotations

from wrong_theories import WrongTheory

GRAM = "book/ch01/gram_matrix.ipynb"
WIDTH = "book/ch01/width_sweep.ipynb"
EIGEN = "book/ch01/eigen_dynamics.ipynb"
MOMENTUM = "book/ch01/momentum.ipynb"
BEYOND = "book/ch01/beyond_lazy.ipynb"
SPECTRUM = "book/ch01/spectrum.ipynb"
DEEP = "book/ch01/deep_relu.ipynb"
LARGE = "book/ch01/large_steps.ipynb"

WRONG_THEORIES: list[WrongTheory] = [
    WrongTheory(
        notebook=GRAM, name="gram-2pct-high", kind="constant",
        description="the closed form of H∞ 2% too large (a slipped constant in the arc-cosine kernel)",
        patch="import dltheory.ntk as m\n_relu_gram = m.relu_gram\n"
              "m.relu_gram = lambda X, X2=None: 1.02 * _relu_gram(X, X2)",
        caught_by="ch01.gram.monte-carlo"),
    WrongTheory(
        notebook=WIDTH, name="lambda0-second-eigenvalue", kind="off-by-one",
        description="λ0 read as the second smallest eigenvalue of H∞ (an index off by one)",
        patch="import torch\nimport dltheory.ntk as m\n"
              "m.lambda_0 = lambda H: float(torch.linalg.eigvalsh(H)[1])",
        caught_by="ch01.width.rate"),
    WrongTheory(
        notebook=EIGEN, name="residual-decays-at-loss-rate", kind="exponent",
        description="each eigen-direction of the residual shrinks by (1 − ηλ_i)^2 per step, the loss's factor",
        patch="import torch\nimport dltheory.ntk as m\n_eigen_dynamics = m.eigen_dynamics\n"
              "def eigen_dynamics(H, y, eta, steps, u0=None):\n"
              "    dyn = _eigen_dynamics(H, y, eta, steps, u0=u0)\n"
              "    k = torch.arange(steps + 1, dtype=H.dtype)[:, None]\n"
              "    factors = (1 - eta * dyn.eigenvalues)[None, :] ** k\n"
              "    return m.EigenDynamics(dyn.eigenvalues, dyn.eigenvectors, dyn.projections * factors)\n"
              "m.eigen_dynamics = eigen_dynamics",
        caught_by="ch01.eigen.trajectory-width"),
    WrongTheory(
        notebook=EIGEN, name="kernel-regression-sign", kind="sign",
        description="the linearized network moves against its kernel-regression update: f0 − H(x, X) H⁻¹ Δu",
        patch="import dltheory.ntk as m\n_kernel_regression = m.kernel_regression\n"
              "m.kernel_regression = lambda K_train, y, K_test: -_kernel_regression(K_train, y, K_test)",
        caught_by="ch01.linear.test-width"),
    WrongTheory(
        notebook=MOMENTUM, name="nesterov-as-heavy-ball", kind="dropped-term",
        description="Nesterov's frozen-kernel recursion without the extrapolated gradient point (heavy ball's)",
        patch="import dltheory.train as m\n_linearized = m.linearized_residuals\n"
              "def linearized_residuals(H, residual, eta, steps, *, method='gd', momentum=0.0):\n"
              "    method = 'heavy_ball' if method == 'nesterov' else method\n"
              "    return _linearized(H, residual, eta, steps, method=method, momentum=momentum)\n"
              "m.linearized_residuals = linearized_residuals",
        caught_by="ch01.momentum.nesterov-count-2"),
    WrongTheory(
        notebook=BEYOND, name="potential-scale-alpha", kind="exponent",
        description="the potential Q_α at scale α instead of α² (β = 2α sinh(Xᵀν) on the flow's manifold)",
        patch="import dltheory.diagonal as m\n_interpolator = m.implicit_bias_interpolator\n"
              "m.implicit_bias_interpolator = lambda X, y, alpha, *, width=1: _interpolator(X, y, alpha ** 0.5, width=width)",
        caught_by="ch01.diagonal.rich"),
    WrongTheory(
        notebook=SPECTRUM, name="funk-hecke-dimension-plus-one", kind="off-by-one",
        description="the Funk–Hecke eigenvalues of the sphere in d + 1 dimensions (the weight (1 − t²)^((d−2)/2))",
        patch="import dltheory.ntk as m\n_funk_hecke = m.funk_hecke_eigenvalues\n"
              "m.funk_hecke_eigenvalues = lambda d, degrees, *, nodes=256: _funk_hecke(d + 1, degrees, nodes=nodes)",
        caught_by="ch01.spectrum.degree4-count"),
    WrongTheory(
        notebook=SPECTRUM, name="odd-degrees-interpolated", kind="dropped-term",
        description="the parity forgotten: each odd degree >= 3 given the mean of its even neighbours' eigenvalues",
        patch="import dltheory.ntk as m\n_funk_hecke = m.funk_hecke_eigenvalues\n"
              "def funk_hecke_eigenvalues(d, degrees, *, nodes=256):\n"
              "    mu = _funk_hecke(d, degrees + 1, nodes=nodes)\n"
              "    for odd in range(3, degrees + 1, 2):\n"
              "        mu[odd] = (mu[odd - 1] + mu[odd + 1]) / 2\n"
              "    return mu[:degrees + 1]\n"
              "m.funk_hecke_eigenvalues = funk_hecke_eigenvalues",
        caught_by="ch01.spectrum.rate-degree3"),
    WrongTheory(
        notebook=SPECTRUM, name="multiplicity-without-subtraction", kind="dropped-term",
        description="N(d, l) counted as all homogeneous polynomials of degree l, binom(l + d - 1, l), without "
                    "subtracting those of degree l - 2 (|x|^2 times them)",
        patch="import math\nimport dltheory.ntk as m\n"
              "m.harmonic_multiplicity = lambda d, degree: math.comb(degree + d - 1, degree)",
        caught_by="ch01.spectrum.degree4-count"),
    WrongTheory(
        notebook=DEEP, name="logistic-loss-sign", kind="sign",
        description="the logistic loss written log(1 + exp(+y f(x))), so gradient descent pushes the margins down",
        patch="import torch\nimport dltheory.deep as m\n_loss = m.classification_loss\n"
              "m.classification_loss = lambda margins, loss='logistic': _loss(-margins, loss)",
        caught_by="ch01.deep.train-error"),
    WrongTheory(
        notebook=DEEP, name="deep-output-over-sqrt-width", kind="constant",
        description="the output signs divided by sqrt(m), the 1/sqrt(m) of the two-layer model carried into a deep "
                    "network whose He initialization already keeps f(x) of order one (a mean-field-like output)",
        patch="import math\nimport torch\nimport dltheory.deep as m\n_deep_relu = m.deep_relu\n"
              "def deep_relu(d, width, depth, **kwargs):\n"
              "    net = _deep_relu(d, width, depth, **kwargs)\n"
              "    with torch.no_grad():\n"
              "        net[-1].weight /= math.sqrt(width)\n"
              "    return net\n"
              "m.deep_relu = deep_relu",
        caught_by="ch01.deep.ball-radius"),
    WrongTheory(
        notebook=DEEP, name="sgd-batch-normalized-by-n", kind="constant",
        description="the mini-batch estimate of the full gradient normalized by n instead of B, (1/n) sum over the "
                    "batch of the per-example gradients: an SGD step B/n as long as gradient descent's",
        patch="import dltheory.deep as m\n_train_deep = m.train_deep\n"
              "def train_deep(model, X, y, eta, steps, *, batch_size=None, **kwargs):\n"
              "    eta = eta if batch_size is None else eta * batch_size / X.shape[0]\n"
              "    return _train_deep(model, X, y, eta, steps, batch_size=batch_size, **kwargs)\n"
              "m.train_deep = train_deep",
        caught_by="ch01.deep.sgd-steps"),
    WrongTheory(
        notebook=LARGE, name="stability-limit-one-over-lambda", kind="constant",
        description="gradient descent's stability limit taken as 1/lambda_max (where the steps stop being monotone) "
                    "instead of 2/lambda_max, so the edge of stability put at 1/eta",
        patch="import dltheory.quadratic as m\n"
              "m.max_stable_step = lambda quadratic: 1.0 / quadratic.lambda_max",
        caught_by="ch01.large.edge-of-stability"),
]
