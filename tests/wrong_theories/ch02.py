"""Wrong theories that Chapter 2's notebooks must catch (see tests/wrong_theories/__init__.py)."""

from __future__ import annotations

from wrong_theories import WrongTheory

WRONG_THEORIES: list[WrongTheory] = [
    WrongTheory(
        notebook="book/ch02/kernel_flow.ipynb", name="kernel-recursion-without-bias", kind="dropped-term",
        description="the kernel recursion K -> C_W <sigma^2>_K with the bias variance C_b dropped",
        patch="import dltheory.rgflow as m\n_kernel_recursion = m.kernel_recursion\n"
              "m.kernel_recursion = lambda activation, C_b, C_W, K0, depth, **kw: "
              "_kernel_recursion(activation, 0.0, C_W, K0, depth, **kw)",
        caught_by="ch02.kernel-flow.tanh-bias"),
    WrongTheory(
        notebook="book/ch02/kernel_flow.ipynb", name="mean-kernel-shift-sign", kind="sign",
        description="the finite-width shift of the mean kernel with the wrong sign (a random variance taken to raise "
                    "the mean of tanh^2)",
        patch="import dltheory.rgflow as m\n_mean_kernel_shift = m.mean_kernel_shift\n"
              "m.mean_kernel_shift = lambda *args, **kw: -_mean_kernel_shift(*args, **kw)",
        caught_by="ch02.kernel-flow.tanh-critical"),
    WrongTheory(
        notebook="book/ch02/universality.ipynb", name="mean-kernel-shift-half-dropped", kind="constant",
        description="the finite-width shift of the mean kernel twice too large (the 1/2 of the second-order delta "
                    "method dropped)",
        patch="import dltheory.rgflow as m\n_mean_kernel_shift = m.mean_kernel_shift\n"
              "m.mean_kernel_shift = lambda *args, **kw: 2 * _mean_kernel_shift(*args, **kw)",
        caught_by="ch02.universality.monte-carlo"),
    WrongTheory(
        notebook="book/ch02/finite_width.ipynb", name="vertex-5pct-high", kind="constant",
        description="the four-point vertex V/(n K^2) overestimated by 5%",
        patch="import dltheory.rgflow as m\n_normalized_vertex = m.normalized_vertex\n"
              "m.normalized_vertex = lambda *args, **kw: 1.05 * _normalized_vertex(*args, **kw)",
        caught_by="ch02.finite-width.relu-exact"),
    WrongTheory(
        notebook="book/ch02/trainability.ipynb", name="chi-perp-5pct-high", kind="constant",
        description="the perpendicular susceptibility C_W <sigma'^2> overestimated by 5%",
        patch="import dltheory.rgflow as m\n_chi_perp = m.chi_perp\n"
              "m.chi_perp = lambda activation, C_W, K: 1.05 * _chi_perp(activation, C_W, K)",
        caught_by="ch02.trainability.gradient-ordered"),
    WrongTheory(
        notebook="book/ch02/trainability.ipynb", name="ntk-one-layer-short", kind="off-by-one",
        description="the tangent-kernel recursion run one layer short (the readout layer forgotten)",
        patch="import dltheory.rgflow as m\n_ntk_recursion = m.ntk_recursion\n"
              "m.ntk_recursion = lambda activation, C_b, C_W, K0, depth, **kw: "
              "_ntk_recursion(activation, C_b, C_W, K0, max(depth - 1, 0), **kw)",
        caught_by="ch02.trainability.ntk-depth-16"),
    WrongTheory(
        notebook="book/ch02/residual.ipynb", name="residual-kernel-shortcut-not-squared", kind="exponent",
        description="the residual kernel recursion with gamma K instead of gamma^2 K for the shortcut's share",
        patch="import torch\nimport dltheory.rgflow as m\n_kernel_recursion = m.kernel_recursion\n"
              "def _wrong(activation, C_b, C_W, K0, depth, *, shortcut=0.0, branch=1.0):\n"
              "    if shortcut == 0:\n"
              "        return _kernel_recursion(activation, C_b, C_W, K0, depth, branch=branch)\n"
              "    flow = [torch.as_tensor(K0, dtype=torch.float64)]\n"
              "    for _ in range(depth):\n"
              "        flow.append(shortcut * flow[-1] + branch**2 * _kernel_recursion(activation, C_b, C_W, flow[-1], 1)[1])\n"
              "    return torch.stack(flow)\n"
              "m.kernel_recursion = _wrong",
        caught_by="ch02.residual.kernel-tanh-0.8"),
    WrongTheory(
        notebook="book/ch02/residual.ipynb", name="residual-vertex-10pct-high", kind="constant",
        description="the residual four-point vertex (the trajectory sum) overestimated by 10%",
        patch="import dltheory.rgflow as m\n_normalized_vertex = m.normalized_vertex\n"
              "m.normalized_vertex = lambda *args, **kw: 1.1 * _normalized_vertex(*args, **kw)",
        caught_by="ch02.residual.vertex-relu-0.8"),
    WrongTheory(
        notebook="book/ch02/residual.ipynb", name="residual-vertex-10pct-low", kind="constant",
        description="the residual four-point vertex (the trajectory sum) underestimated by 10% at the strong shortcut "
                    "gamma = 0.95, which only the suppression claim measures",
        patch="import dltheory.rgflow as m\n_normalized_vertex = m.normalized_vertex\n"
              "m.normalized_vertex = lambda *args, **kw: (0.9 if kw.get('shortcut') == 0.95 else 1.0) * _normalized_vertex(*args, **kw)",
        caught_by="ch02.residual.suppression"),
    WrongTheory(
        notebook="book/ch02/universality.ipynb", name="half-stable-bias-10pct-high", kind="constant",
        description="the bias of GELU's half-stable critical point found 10% high",
        patch="import dltheory.rgflow as m\n_criticality = m.criticality\n"
              "def _wrong(activation):\n"
              "    point = _criticality(activation)\n"
              "    return m.Criticality(1.1 * point.C_b, point.C_W, point.K_star, point.chi_parallel)\n"
              "m.criticality = _wrong",
        caught_by="ch02.universality.gelu-half-stable"),
    WrongTheory(
        notebook="book/ch02/beyond_perturbation.ipynb", name="log-norm-variance-10pct-high", kind="constant",
        description="the variance of log |z|^2 of critical ReLU networks overestimated by 10%",
        patch="import dltheory.rgflow as m\n_relu_log_norm = m.relu_log_norm\n"
              "def _wrong(depth, width):\n"
              "    law = _relu_log_norm(depth, width)\n"
              "    return m.LogNormLaw(law.mean, 1.1 * law.variance, depth, width)\n"
              "m.relu_log_norm = _wrong",
        caught_by="ch02.beyond.log-variance"),
    WrongTheory(
        notebook="book/ch02/beyond_perturbation.ipynb", name="log-norm-mean-from-unit-mean", kind="dropped-term",
        description="the log-normal's mean fixed by E[X] = K (mu = -s^2/2), as if log |z|^2 were exactly Gaussian",
        patch="import dltheory.rgflow as m\n_relu_log_norm = m.relu_log_norm\n"
              "def _wrong(depth, width):\n"
              "    law = _relu_log_norm(depth, width)\n"
              "    return m.LogNormLaw(-law.variance / 2, law.variance, depth, width)\n"
              "m.relu_log_norm = _wrong",
        caught_by="ch02.beyond.lognormal-tail"),
    WrongTheory(
        notebook="book/ch02/dynamical_isometry.ipynb", name="wishart-ratio-not-minus-one", kind="constant",
        description="Gaussian weights add the Wishart's relative second moment 2 per layer instead of 2 - 1 to the Jacobian's spread",
        patch="import dltheory.rgflow as m\n_jacobian_spread = m.jacobian_spread\n"
              "def _wrong(activation, C_b, C_W, K0, depth, *, orthogonal=False):\n"
              "    return _jacobian_spread(activation, C_b, C_W, K0, depth, orthogonal=orthogonal) + (0.0 if orthogonal else float(depth))\n"
              "m.jacobian_spread = _wrong",
        caught_by="ch02.isometry.linear-gaussian"),
    WrongTheory(
        notebook="book/ch02/dynamical_isometry.ipynb", name="jacobian-spread-derivative-not-squared", kind="exponent",
        description="the D factors' spread from <|sigma'|^2> / <|sigma'|>^2 (D taken once, not squared, in J J^T)",
        patch="import dltheory.rgflow as m\nfrom dltheory.activations import derivative\n"
              "def _wrong(activation, C_b, C_W, K0, depth, *, orthogonal=False):\n"
              "    sigma_prime = derivative(activation)\n"
              "    K = m.kernel_recursion(activation, C_b, C_W, K0, depth)[:-1]\n"
              "    mu_1, mu_2 = m._expect(lambda z: sigma_prime(z).abs(), K), m._expect(lambda z: sigma_prime(z) ** 2, K)\n"
              "    return float((mu_2 / mu_1**2 - 1).sum()) + (0.0 if orthogonal else float(depth))\n"
              "m.jacobian_spread = _wrong",
        caught_by="ch02.isometry.tanh-orthogonal"),
    WrongTheory(
        notebook="book/ch02/trainability.ipynb", name="ntk-10pct-high", kind="constant",
        description="the tangent-kernel recursion 10% high at every depth",
        patch="import dltheory.rgflow as m\n_ntk_recursion = m.ntk_recursion\n"
              "m.ntk_recursion = lambda *args, **kw: 1.1 * _ntk_recursion(*args, **kw)",
        caught_by="ch02.trainability.ntk-depth-16"),
    WrongTheory(
        notebook="book/ch02/trainability.ipynb", name="ntk-increment-10pct-low", kind="constant",
        description="each layer's addition to the tangent kernel 10% low (the input term Theta^(0) kept)",
        patch="import dltheory.rgflow as m\n_ntk_recursion = m.ntk_recursion\n"
              "def _wrong(*args, **kw):\n"
              "    theta = _ntk_recursion(*args, **kw)\n"
              "    return theta[0] + 0.9 * (theta - theta[0])\n"
              "m.ntk_recursion = _wrong",
        caught_by="ch02.trainability.ntk-depth-16"),
    WrongTheory(
        notebook="book/ch02/ntk_finite_width.ipynb", name="ntk-fluctuation-half-per-layer", kind="constant",
        description="each layer's chi^2_n / n factor given relative variance 1/n instead of 2/n in the tangent kernel's fluctuation",
        patch="import dltheory.rgflow as m\n_linear_ntk_relative_variance = m.linear_ntk_relative_variance\n"
              "m.linear_ntk_relative_variance = lambda depth, width: _linear_ntk_relative_variance(depth, 2 * width)",
        caught_by="ch02.ntk-finite.relative-variance"),
    WrongTheory(
        notebook="book/ch02/aspect_ratio.ipynb", name="effective-ratio-from-closure", kind="dropped-term",
        description="the residual network's effective aspect ratio from the closed recursion in V alone (a neuron's memory of its "
                    "own past dropped), as if the nearly-Gaussian closure held for ReLU",
        patch="import dltheory.rgflow as m\n_effective_aspect_ratio = m.effective_aspect_ratio\n"
              "m.effective_aspect_ratio = lambda *args, **kw: _effective_aspect_ratio(*args, **{**kw, 'memory': False})",
        caught_by="ch02.aspect.residual-effective-ratio"),
    WrongTheory(
        notebook="book/ch02/aspect_ratio.ipynb", name="information-cubic-term-sign", kind="sign",
        description="the information two neurons share with its m_2^3 term of the wrong sign, +13 m_2^3 / 24 (the second "
                    "order of log(1 + u) taken with a plus)",
        patch="import dltheory.information as m\n_information_expansion = m.information_expansion\n"
              "m.information_expansion = lambda m2, m3=0.0, m4=None, order=2: "
              "_information_expansion(m2, m3, m4, order) + (26 * m2**3 / 24 if order >= 2 else 0.0)",
        caught_by="ch02.aspect.information"),
    WrongTheory(
        notebook="book/ch02/ntk_finite_width.ipynb", name="step-scale-ntk-one-layer-short", kind="off-by-one",
        description="the learning rate scaled by the tangent kernel one layer short (the readout layer forgotten in Theta^(L))",
        patch="import dltheory.rgflow as m\n_ntk_recursion = m.ntk_recursion\n"
              "m.ntk_recursion = lambda activation, C_b, C_W, K0, depth, **kw: "
              "_ntk_recursion(activation, C_b, C_W, K0, max(depth - 1, 0), **kw)",
        caught_by="ch02.ntk-finite.step-scaled"),
    WrongTheory(
        notebook="book/ch02/phase_diagram.ipynb", name="xi-c-at-input-variance", kind="dropped-term",
        description="the correlation depth from chi_perp at the input variance K0, not at the fixed point K* the variance settles at",
        patch="import math\nimport dltheory.rgflow as m\n"
              "def _wrong(activation, C_b, C_W, K0=1.0):\n"
              "    chi = float(m.chi_perp(activation, C_W, K0))\n"
              "    return math.inf if chi >= 1 else -1.0 / math.log(chi)\n"
              "m.correlation_depth = _wrong",
        caught_by="ch02.phase-diagram.boundary-exponent"),
    WrongTheory(
        notebook="book/ch02/phase_diagram.ipynb", name="xi-c-derivative-not-squared", kind="exponent",
        description="the correlation depth from chi_c = C_W <sigma'> (the derivative taken once, not squared) at the fixed point",
        patch="import math\nimport torch\nimport dltheory.rgflow as m\nfrom dltheory.activations import derivative\n"
              "def _wrong(activation, C_b, C_W, K0=1.0):\n"
              "    K_star = torch.as_tensor(float(m.fixed_point(activation, C_b, C_W, K0)), dtype=torch.float64)\n"
              "    chi = C_W * float(m._expect(derivative(activation), K_star))\n"
              "    return math.inf if chi >= 1 else -1.0 / math.log(chi)\n"
              "m.correlation_depth = _wrong",
        caught_by="ch02.phase-diagram.boundary-exponent"),
    WrongTheory(
        notebook="book/ch02/residual.ipynb", name="residual-branch-10pct-high", kind="constant",
        description="the residual kernel recursion with the branch's share beta^2 (C_b + C_W <sigma^2>) 10% high",
        patch="import dltheory.rgflow as m\n_kernel_recursion = m.kernel_recursion\n"
              "def _wrong(activation, C_b, C_W, K0, depth, *, shortcut=0.0, branch=1.0):\n"
              "    return _kernel_recursion(activation, C_b, C_W, K0, depth, shortcut=shortcut,\n"
              "                             branch=branch * 1.1**0.5 if shortcut != 0 else branch)\n"
              "m.kernel_recursion = _wrong",
        caught_by="ch02.residual.kernel-tanh-0.8"),
    WrongTheory(
        notebook="book/ch02/ntk_finite_width.ipynb", name="ntk-recursion-bias-rate-ignored", kind="dropped-term",
        description="the infinite-width tangent-kernel recursion that ignores lambda_b (the biases' learning rate "
                    "always 1), which moves Theta_inf of the networks without trained biases",
        patch="import dltheory.rgflow as m\n_ntk_recursion = m.ntk_recursion\n"
              "m.ntk_recursion = lambda activation, C_b, C_W, K0, depth, lambda_b=1.0, lambda_W=1.0: "
              "_ntk_recursion(activation, C_b, C_W, K0, depth, lambda_b=1.0, lambda_W=lambda_W)",
        caught_by="ch02.ntk-finite.mean-shift-slope"),
]
