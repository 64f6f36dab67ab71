"""Benchmark: exact piece counting against sampling on a grid (Chapter 3, Sec. "Linear regions").

Target (issue 5): on a random ReLU network with 4 hidden layers of width 64 (1 input, 1 output),
`count_linear_pieces` is exact and at least 50x faster than sampling the function on a grid fine
enough to find the same count.

The grid method: evaluate the network at N + 1 equally spaced points of [a, b] (float64, in chunks),
and count runs of cells with equal slope (`grid_piece_count`). N starts at 2^10 and doubles until
the grid count equals the exact count. The ratio that must reach the target is the time of ONE
evaluation + count at that final N (the grid method's best case: told the right N in advance)
against the sweep; the time of the whole doubling search is printed beside it. The sweep's time is
the median of 21 runs; the final grid pass is timed twice (in the search and once more) and the
faster is kept, which favours the grid. Exit status 1 when the sweep is not exact or the target is missed.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import torch

from dltheory.approx import count_linear_pieces, grid_piece_count, linear_pieces, pieces_upper_bound, random_relu_net

WIDTHS = [64, 64, 64, 64]
A, B = -3.0, 3.0
SEED = 0
TARGET = 50.0
MAX_POINTS = 2**25


def median_time(task: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        task()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    net = random_relu_net(WIDTHS, seed=SEED)
    exact = count_linear_pieces(net, A, B)
    pieces = linear_pieces(net, A, B)
    shortest = float(pieces.breakpoints.diff().min())
    middles = (pieces.breakpoints[1:] + pieces.breakpoints[:-1]) / 2
    with torch.no_grad():
        mismatch = float((net(middles[:, None]) - (pieces.slopes * middles[:, None] + pieces.intercepts)).abs().max())
    print(f"network: 1 -> {' -> '.join(map(str, WIDTHS))} -> 1 (float64, seed {SEED}), interval [{A}, {B}]")
    print(f"exact sweep: {exact} pieces (upper bound {pieces_upper_bound(WIDTHS):,}); shortest piece {shortest:.2e}")
    print(f"largest |net - affine piece| at the middles of the pieces: {mismatch:.1e}")
    if mismatch > 1e-9:
        print("FAILED: the pieces do not reproduce the network")
        return 1

    # exactness: the grid, refined until it agrees, must converge to the sweep's count
    search_time, cells = 0.0, 2**10
    while True:
        start = time.perf_counter()
        found = grid_piece_count(net, A, B, cells + 1)
        last_pass = time.perf_counter() - start
        search_time += last_pass
        if found == exact or cells >= MAX_POINTS:
            break
        cells *= 2
    if found != exact:
        print(f"FAILED: the grid found {found} pieces at N = {cells}, the sweep {exact}")
        return 1
    print(f"grid: first reaches the exact count at N = 2^{cells.bit_length() - 1} = {cells:,} cells")

    sweep_time = median_time(lambda: count_linear_pieces(net, A, B), repeats=21)
    grid_time = min(last_pass, median_time(lambda: grid_piece_count(net, A, B, cells + 1), repeats=1))
    ratio = grid_time / sweep_time
    print(f"time, exact sweep:                     {sweep_time * 1e3:9.2f} ms")
    print(f"time, grid at the final N (one pass):  {grid_time * 1e3:9.2f} ms")
    print(f"time, grid doubling search (all N):    {search_time * 1e3:9.2f} ms")
    print(f"speed-up vs final grid: {ratio:.0f}x (target >= {TARGET:.0f}x)")
    print(f"speed-up vs whole search: {search_time / sweep_time:.0f}x")
    if ratio < TARGET:
        print("FAILED: target missed")
        return 1
    print("PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
