"""Benchmark for Chapter 2, 'Effective theory and RG flow': what quadrature and batched sampling buy.

Run: python benchmarks/bench_rgflow.py [--threads N]   (about a minute on 2 CPU cores; by default
torch runs single-threaded here so that both sides of each comparison get the same one core)

(a) The infinite-width kernel flow K^(l+1) = C_b + C_W <tanh(z)^2>_{K^(l)}, l = 0..50, computed by
    `kernel_recursion` (quadrature) and by Monte Carlo of the same recursion with 10^5 fresh
    samples per layer (float32, torch's fastest path), both against a reference that integrates
    every layer with scipy.integrate.quad. Measured twice:
    (a1) one setting (C_b, C_W) = (0.05, 1.8): both sides loop over layers in Python; the quadrature
         is then bound by torch's per-call overhead (microseconds per layer). Reported, no target.
    (a2) a sweep over 64 settings of C_W, as for a phase diagram: both sides vectorised over the
         settings. Target: >= 100x faster, with a quadrature error below the Monte-Carlo error.
(b) Drawing the last-layer preactivations at two inputs of 10^4 random tanh networks of width 256
    and depth 32: `sample_preactivations` (one batched tensor, exact conditional law of each layer
    given the previous, no weight matrices) against a loop over torch.nn.Sequential models built
    and initialised one by one. The loop is timed on 200 networks and scaled linearly to 10^4
    (it is linear: every network costs the same). Target: >= 20x. For information, the same
    networks drawn weight by weight in one batch (torch.bmm) are timed too, to show how much of the
    gain is batching and how much is not drawing the weights.

Prints the measured values next to their targets and exits with status 1 if one is missed.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable

import torch
from scipy.integrate import quad
from torch import nn

from dltheory.ensembles import sample_preactivations
from dltheory.rgflow import input_kernel, kernel_recursion

DEPTH_A, SAMPLES = 50, 100_000
C_B, C_W = 0.05, 1.8
SPEEDUP_A, SPEEDUP_B = 100.0, 20.0
NETWORKS, WIDTH, DEPTH_B, LOOP_NETWORKS = 10_000, 256, 32, 200


def best_time(run: Callable[[], object], repeats: int) -> float:
    """The fastest of `repeats` wall-clock timings, in seconds (the least disturbed by other load)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def reference_flow(C_b: float, C_W: float) -> torch.Tensor:
    """K^(0..DEPTH_A) with every Gaussian average done by adaptive quadrature (scipy.integrate.quad)."""
    flow = [1.0]
    for _ in range(DEPTH_A):
        sd = math.sqrt(flow[-1])
        density = lambda u: math.tanh(sd * u) ** 2 * math.exp(-0.5 * u * u) / math.sqrt(2 * math.pi)  # noqa: E731
        average = 2 * quad(density, 0.0, 12.0, epsabs=1e-15, epsrel=1e-13, limit=200)[0]
        flow.append(C_b + C_W * average)
    return torch.tensor(flow, dtype=torch.float64)


def monte_carlo_flow(C_b: torch.Tensor, C_W: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The same recursion with <tanh^2>_K estimated from SAMPLES fresh normal samples per layer and setting."""
    K = torch.ones_like(C_W, dtype=torch.float32)
    flow = [K]
    for _ in range(DEPTH_A):
        z = torch.randn(*K.shape, SAMPLES, generator=generator) * K.sqrt().unsqueeze(-1)
        K = C_b + C_W * torch.tanh(z).square().mean(-1)
        flow.append(K)
    return torch.stack(flow)


def relative_error(flow: torch.Tensor, reference: torch.Tensor) -> float:
    return float(((flow.double() - reference) / reference).abs().max())


def kernel_flow() -> bool:
    print(f"(a) kernel flow of tanh to depth {DEPTH_A}: quadrature against Monte Carlo ({SAMPLES:.0e} samples/layer)")
    generator = torch.Generator().manual_seed(0)

    reference = reference_flow(C_B, C_W)
    quad_flow = kernel_recursion("tanh", C_B, C_W, 1.0, DEPTH_A)
    mc_flow = monte_carlo_flow(torch.tensor(C_B), torch.tensor(C_W), generator)
    t_quad = best_time(lambda: kernel_recursion("tanh", C_B, C_W, 1.0, DEPTH_A), 20)
    t_mc = best_time(lambda: monte_carlo_flow(torch.tensor(C_B), torch.tensor(C_W), generator), 3)
    print(f"    (a1) one setting (C_b, C_W) = ({C_B}, {C_W}):")
    quad_error, mc_error = relative_error(quad_flow, reference), relative_error(mc_flow, reference)
    print(f"         quadrature  {t_quad * 1e3:8.2f} ms   max relative error {quad_error:.1e}")
    print(f"         Monte Carlo {t_mc * 1e3:8.2f} ms   max relative error {mc_error:.1e}")
    per_layer = t_quad / DEPTH_A * 1e6
    print(f"         speed-up {t_mc / t_quad:.0f}x (no target: {per_layer:.0f} us per layer, torch's call overhead)")

    C_Ws = torch.linspace(0.5, 3.0, 64, dtype=torch.float64)
    references = torch.stack([reference_flow(C_B, float(c)) for c in C_Ws], -1)
    quad_sweep = kernel_recursion("tanh", C_B, C_Ws, 1.0, DEPTH_A)
    mc_sweep = monte_carlo_flow(torch.tensor(C_B), C_Ws.float(), generator)
    t_quad = best_time(lambda: kernel_recursion("tanh", C_B, C_Ws, 1.0, DEPTH_A), 5)
    t_mc = best_time(lambda: monte_carlo_flow(torch.tensor(C_B), C_Ws.float(), generator), 1)
    quad_error, mc_error = relative_error(quad_sweep, references), relative_error(mc_sweep, references)
    speedup = t_mc / t_quad
    ok = speedup >= SPEEDUP_A and quad_error < mc_error
    print(f"    (a2) a sweep over {C_Ws.numel()} settings of C_W in [0.5, 3], C_b = {C_B}:")
    print(f"         quadrature  {t_quad * 1e3:8.2f} ms   max relative error {quad_error:.1e}")
    print(f"         Monte Carlo {t_mc * 1e3:8.2f} ms   max relative error {mc_error:.1e}")
    print(f"         speed-up {speedup:.0f}x (target >= {SPEEDUP_A:.0f}x), quadrature error < Monte-Carlo error: "
          f"{quad_error < mc_error}\n")
    return ok


def sequential_loop(x: torch.Tensor, networks: int) -> torch.Tensor:
    """Last-layer preactivations of `networks` tanh MLPs built one by one as torch.nn.Sequential."""
    outputs = []
    with torch.no_grad():
        for _ in range(networks):
            layers: list[nn.Module] = [nn.Linear(x.shape[1], WIDTH)]
            for _ in range(DEPTH_B):
                layers += [nn.Tanh(), nn.Linear(WIDTH, WIDTH)]
            model = nn.Sequential(*layers)
            for layer in model:
                if isinstance(layer, nn.Linear):
                    layer.weight.normal_(0.0, math.sqrt(C_W / layer.in_features))
                    layer.bias.normal_(0.0, math.sqrt(C_B))
            outputs.append(model(x).T)
    return torch.stack(outputs)  # (networks, WIDTH, inputs)


def batched_weights(x: torch.Tensor, networks: int) -> torch.Tensor:
    """The same networks drawn weight by weight, all in one batch (torch.bmm)."""
    W = torch.randn(networks, WIDTH, x.shape[1]) * math.sqrt(C_W / x.shape[1])
    z = W @ x.T + torch.randn(networks, WIDTH, 1) * math.sqrt(C_B)
    for _ in range(DEPTH_B):
        W = torch.randn(networks, WIDTH, WIDTH) * math.sqrt(C_W / WIDTH)
        z = torch.bmm(W, torch.tanh(z)) + torch.randn(networks, WIDTH, 1) * math.sqrt(C_B)
    return z


def sampler() -> bool:
    print(f"(b) last-layer preactivations at 2 inputs of {NETWORKS} tanh networks, width {WIDTH}, depth {DEPTH_B}")
    x = torch.randn(2, 16, generator=torch.Generator().manual_seed(1))
    K0 = input_kernel(x, C_B, C_W).float()
    generator = torch.Generator().manual_seed(2)
    run = lambda: sample_preactivations("tanh", C_B, C_W, K0, DEPTH_B, WIDTH, NETWORKS, generator)  # noqa: E731
    t_sampler = best_time(run, 3)
    t_loop = best_time(lambda: sequential_loop(x, LOOP_NETWORKS), 1) * NETWORKS / LOOP_NETWORKS
    t_batch = best_time(lambda: batched_weights(x, LOOP_NETWORKS), 1) * NETWORKS / LOOP_NETWORKS
    ours, theirs = run().z, sequential_loop(x, LOOP_NETWORKS)
    speedup = t_loop / t_sampler
    print(f"    sample_preactivations, all {NETWORKS} at once   {t_sampler:8.2f} s")
    print(f"    loop over nn.Sequential ({LOOP_NETWORKS} timed, x{NETWORKS // LOOP_NETWORKS})  {t_loop:8.2f} s")
    scale = NETWORKS // LOOP_NETWORKS
    print(f"    weights drawn in one batch ({LOOP_NETWORKS} timed, x{scale}) {t_batch:8.2f} s   (information)")
    for name, z in (("sampler", ours), ("loop", theirs)):
        per_network = (z[..., 0] * z[..., 1]).mean(1)
        print(f"    same law? last-layer K_12 from the {name:7s}: {float(per_network.mean()):.4f} "
              f"+- {float(per_network.std() / per_network.numel() ** 0.5):.4f}")
    print(f"    speed-up vs loop: {speedup:.0f}x (target >= {SPEEDUP_B:.0f}x)\n")
    return speedup >= SPEEDUP_B


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads for both sides (default 1)")
    torch.set_num_threads(parser.parse_args().threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)\n")
    results = [kernel_flow(), sampler()]
    print("all targets met" if all(results) else "TARGET MISSED")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
