"""The expansion of the information neurons share at finite width, done exactly (Chapter 2, thm-information-expansion).

    python tools/information_series.py [--neurons 2] [--order 8]

For q neurons that are independent N(0, G) given G, the density of each is, with G = E[G](1 + delta) and
x = z / sqrt(E[G]), phi(x) * sum_k delta^k He_2k(x) / (2^k k!) (the heat equation in the variance). Averaged
over delta the joint density is phi(x_1)...phi(x_q) * F and the marginals phi(x_i) * F_i, with the moments
m_k = E[delta^k] in place of delta^k. The total correlation is the Gaussian mean of F log(F / (F_1 ... F_q)),
expanded here in powers of a bookkeeping scale t (m_k counted as t^k) up to `order`, in exact rational
arithmetic, and integrated term by term with E[x^(2j)] = (2j - 1)!!. For q = 2 it is the mutual information.
"""

from __future__ import annotations

import argparse
import itertools
from math import factorial, prod

import sympy
from sympy import QQ
from sympy.polys.rings import ring


def total_correlation_series(neurons: int, order: int) -> sympy.Expr:
    """The total correlation of `neurons` neurons as a polynomial in m_2, ..., m_order (terms up to t^order)."""
    names = [f"x{i}" for i in range(neurons)] + ["t"] + [f"m{k}" for k in range(2, order + 1)]
    R, *generators = ring(",".join(names), QQ)
    xs, t, moments = generators[:neurons], generators[neurons], generators[neurons + 1:]

    def truncate(p):  # drop the powers of t above `order`
        return R({monomial: c for monomial, c in p.items() if monomial[neurons] <= order})

    def mu(k):  # E[delta^k] times its bookkeeping power of t
        return R(1) if k == 0 else R(0) if k == 1 else moments[k - 2] * t**k

    y = sympy.Symbol("y")

    def h(k, x):  # He_2k(x) / (2^k k!)
        poly = sympy.Poly(sympy.hermite_prob(2 * k, y), y)
        return sum((R(QQ(int(c.p), int(c.q))) * x**e for (e,), c in poly.terms()), R(0)) * QQ(1, 2**k * factorial(k))

    hermite = {(k, i): h(k, xs[i]) for k in range(order + 1) for i in range(neurons)}

    def log1p(u):  # log(1 + u) for u of order t^2, truncated
        total, power = R(0), R(1)
        for j in range(1, order // 2 + 1):
            power = truncate(power * u)
            total += power * QQ((-1) ** (j + 1), j)
        return total

    joint = R(0)
    for ks in itertools.product(range(order + 1), repeat=neurons):
        if sum(ks) <= order:
            joint += truncate(mu(sum(ks)) * prod((hermite[k, i] for i, k in enumerate(ks)), start=R(1)))
    log_ratio = log1p(joint - 1)
    for i in range(neurons):
        log_ratio -= log1p(sum((mu(k) * hermite[k, i] for k in range(order + 1)), R(0)) - 1)
    integrand = truncate(joint * log_ratio)

    def gaussian_moment(a):
        return 0 if a % 2 else prod(range(a - 1, 0, -2))

    m = [sympy.Symbol(f"m{k}") for k in range(2, order + 1)]
    result = sympy.Integer(0)
    for monomial, c in integrand.items():
        weight = prod(gaussian_moment(a) for a in monomial[:neurons])
        if weight:
            result += sympy.Rational(int(c.numerator), int(c.denominator)) * weight * prod(
                (mk**p for mk, p in zip(m, monomial[neurons + 1:])), start=sympy.Integer(1))
    return sympy.expand(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=2, help="how many neurons (>= 2)")
    parser.add_argument("--order", type=int, default=8, help="the highest power of the fluctuation kept (>= 4)")
    args = parser.parse_args()
    if args.neurons < 2 or args.order < 4:
        parser.error("--neurons must be at least 2 and --order at least 4")
    print(total_correlation_series(args.neurons, args.order))


if __name__ == "__main__":
    main()
