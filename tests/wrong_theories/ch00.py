"""Wrong theories that Chapter 0's notebook must catch (see tests/wrong_theories/__init__.py)."""

from __future__ import annotations

from wrong_theories import WrongTheory

NOTEBOOK = "book/ch00/gd_quadratic.ipynb"

WRONG_THEORIES: list[WrongTheory] = [
    WrongTheory(
        notebook=NOTEBOOK, name="rate-1pct-high", kind="constant",
        description="the rate ρ(η) = max|1 − ηλ_i| overestimated by 1%",
        patch="import dltheory.quadratic as m\n_gd_rate = m.gd_rate\n"
              "m.gd_rate = lambda eta, eigenvalues: 1.01 * _gd_rate(eta, eigenvalues)",
        caught_by="ch00.rate.sweep-0.50"),
    WrongTheory(
        notebook=NOTEBOOK, name="optimal-rate-sqrt-kappa", kind="exponent",
        description="the best step's rate (√κ − 1)/(√κ + 1), momentum's rate taken for gradient descent's",
        patch="import dltheory.quadratic as m\n_optimal_rate = m.optimal_rate\n"
              "m.optimal_rate = lambda kappa: _optimal_rate(kappa ** 0.5)",
        caught_by="ch00.rate.optimal"),
    WrongTheory(
        notebook=NOTEBOOK, name="optimal-step-sign", kind="sign",
        description="the best step 2/(λmax − λmin), a sign slipped in the denominator",
        patch="import dltheory.quadratic as m\n"
              "m.optimal_step = lambda quadratic: 2 / (quadratic.lambda_max - quadratic.lambda_min)",
        caught_by="ch00.rate.optimal"),
    WrongTheory(
        notebook=NOTEBOOK, name="steps-log10", kind="constant",
        description="the step count log₁₀(1/ε)/log₁₀(1/ρ) computed with a natural log in one place only",
        patch="import math\nimport dltheory.quadratic as m\n"
              "m.steps_to_reach = lambda rate, reduction: math.ceil(math.log10(reduction) / math.log(rate))",
        caught_by="ch00.steps.bound"),
    WrongTheory(
        notebook=NOTEBOOK, name="rate-from-lambda-min-only", kind="dropped-term",
        description="ρ(η) = |1 − ηλmin|: the steepest direction dropped from the max",
        patch="import dltheory.quadratic as m\n"
              "m.gd_rate = lambda eta, eigenvalues: abs(1 - eta * float(eigenvalues.min()))",
        caught_by="ch00.rate.divergence"),
]
