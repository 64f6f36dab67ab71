"""Benchmark for Chapter 4, 'Chess-engine search': what alpha-beta and the engine's parts buy.

Run: python benchmarks/bench_search.py   (about one to two minutes on 2 CPU cores)

(a) Knuth & Moore (1975), eq. (minimal-tree): on best-first uniform trees alpha-beta evaluates
    exactly b^ceil(d/2) + b^floor(d/2) - 1 leaves; worst-first ordering evaluates all b^d.
(b) On five middlegame positions, plain alpha-beta (no table, no ordering, one iteration) against the
    classical engine (transposition table + move ordering + iterative deepening; the techniques of
    Sec. 'Search techniques every engine uses' off) to the same depth, quiescence off in both. The
    ratio has no per-position floor in theory: the classical engine cannot search fewer nodes than the
    minimal tree, while plain alpha-beta's tree is anywhere between the minimal tree and the whole tree,
    depending on where the move generator happens to put the refutations (Pearl's random-order rate is
    an average over orderings, not a bound for one). So plain / minimal is the most any ordering can
    save on a position, printed next to the ratio; the minimal tree is estimated by Knuth & Moore's count
    on a tree with the position's own branching, b0 moves at even plies and b1 (the mean number of
    replies) at odd plies. The target, a design target and not a derived bound: the geometric mean of
    plain / classical over the five positions at least 5x. Ordering alone cannot change the score
    (alpha-beta is exact for any order), so plain and +ordering must agree; the table can (it accepts
    deeper entries, and repetition draws make values path-dependent).
(c) The engine's nodes per second, as it plays (quiescence on), against python-chess's own
    speed: perft with board.legal_moves and push/pop, the floor beneath any engine built on it.

Prints the measured values next to their targets and exits with status 1 if one is missed.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time

import chess

from dltheory.engine import SWITCHES, Engine
from dltheory.envcheck import machine
from dltheory.games import RandomTree
from dltheory.search import alphabeta, minimal_tree_leaves

POSITIONS = {
    # Perft position 2 of the chess programming community, "Kiwipete" (Peter McKenzie).
    "kiwipete": "r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 0 1",
    # Quiet main-line middlegames after ten moves of each opening.
    "italian": "r1bqr1k1/bpp2pp1/p1np1n1p/4p3/4P3/1BPP1N1P/PP1N1PP1/R1BQR1K1 w - - 2 11",
    "ruy_lopez": "r1bq1rk1/2pnbppp/p2p1n2/1p2p3/3PP3/1BP2N1P/PP3PP1/RNBQR1K1 w - - 1 11",
    "qgd": "r1bq1rk1/pp1nbppp/2p1p3/3n2B1/2BP4/2N1PN2/PP3PPP/2RQK2R w K - 1 10",
    "najdorf": "r2q1rk1/1p1nbppp/p2pbn2/4p3/4P3/1NN1BP2/PPPQ2PP/2KR1B1R w - - 5 11",
}
DEPTH = 4
NODE_RATIO_TARGET = 5.0
NPS_RATIO_TARGET = 0.05


def knuth_moore() -> bool:
    print("(a) alpha-beta leaves on uniform trees (Knuth & Moore 1975)")
    print(f"{'b':>4} {'d':>3} {'best-first':>11} {'formula':>8} {'random (5 seeds)':>17} {'worst-first':>12} {'b^d':>7}")
    ok = True
    for b, d in [(2, 12), (3, 8), (4, 6), (5, 5), (8, 4), (10, 4), (20, 3), (35, 2)]:
        best = alphabeta(RandomTree(b, d, seed=d, ordering="best_first")).leaves
        worst = alphabeta(RandomTree(b, d, seed=d, ordering="worst_first")).leaves
        rand = statistics.mean(alphabeta(RandomTree(b, d, seed=s)).leaves for s in range(5))
        formula = minimal_tree_leaves(b, d)
        ok &= best == formula and worst == b**d
        print(f"{b:>4} {d:>3} {best:>11} {formula:>8} {rand:>17.0f} {worst:>12} {b**d:>7}")
    print(f"    best-first = formula and worst-first = b^d in every row: {ok} (target: True)\n")
    return ok


def minimal_nodes(board: chess.Board, depth: int) -> tuple[int, float, int]:
    """Knuth & Moore's minimal tree, all plies counted, on a tree with b0 moves at even plies and b1 at odd.

    Returns (b0, b1, nodes), b1 the mean number of replies to the root's moves. At ply k the minimal tree
    is one strategy of each side sharing one node: the side to move's (all its b0 moves, one reply each)
    has b0^ceil(k/2) nodes there, the opponent's (all b1 replies) b1^floor(k/2).
    """
    moves = list(board.legal_moves)
    replies = 0
    for move in moves:
        board.push(move)
        replies += board.legal_moves.count()
        board.pop()
    b0, b1 = len(moves), replies / len(moves)
    nodes = 0.0
    for k in range(depth + 1):
        nodes += b0 ** math.ceil(k / 2) + b1 ** (k // 2) - 1
    return b0, b1, round(nodes)


def chess_nodes() -> bool:
    print(f"(b) nodes to depth {DEPTH}, quiescence off: plain alpha-beta against the classical engine")
    plain = {switch: False for switch in SWITCHES}  # quiescence and the newer techniques off throughout
    configs = {
        "plain": plain,
        "+ordering": {**plain, "ordering": True, "history": True},
        "+tt+id": {**plain, "tt": True, "iterative": True},
        "classical": {**plain, "ordering": True, "history": True, "tt": True, "iterative": True},
    }
    print(f"{'position':>10} " + " ".join(f"{name:>10}" for name in configs)
          + f" {'b0':>4} {'b1':>5} {'minimal':>8} {'plain/classical':>16} {'plain/minimal':>14}")
    same_score, ratios = True, []
    for name, fen in POSITIONS.items():
        results = {label: Engine(**cfg).search(chess.Board(fen), depth=DEPTH) for label, cfg in configs.items()}
        b0, b1, minimal = minimal_nodes(chess.Board(fen), DEPTH)
        ratio = results["plain"].nodes / results["classical"].nodes
        ratios.append(ratio)
        same_score &= results["plain"].score == results["+ordering"].score
        print(f"{name:>10} " + " ".join(f"{r.nodes:>10}" for r in results.values())
              + f" {b0:>4} {b1:>5.1f} {minimal:>8} {ratio:>15.1f}x {results['plain'].nodes / minimal:>13.1f}x")
    mean = statistics.geometric_mean(ratios)
    ok = mean >= NODE_RATIO_TARGET and same_score
    print(
        f"    plain / classical: geometric mean {mean:.1f}x, min {min(ratios):.1f}x, max {max(ratios):.1f}x "
        f"(target: geometric mean >= {NODE_RATIO_TARGET:.0f}x); ordering keeps the score: {same_score} "
        f"(target: True)\n"
    )
    return ok


def perft(board: chess.Board, depth: int) -> int:
    if depth == 0:
        return 1
    count = 0
    for move in board.legal_moves:
        board.push(move)
        count += perft(board, depth - 1)
        board.pop()
    return count


def chess_speed() -> bool:
    print("(c) speed: the engine against python-chess's move generation")
    start, perft_nodes = time.perf_counter(), 0
    for fen in POSITIONS.values():
        perft_nodes += perft(chess.Board(fen), 3)
    perft_nps = perft_nodes / (time.perf_counter() - start)
    boards = [chess.Board(fen) for fen in POSITIONS.values()]
    start, lists = time.perf_counter(), 0
    while time.perf_counter() - start < 1.0:
        for board in boards:
            list(board.legal_moves)
            lists += 1
    lists_per_s = lists / (time.perf_counter() - start)
    nodes = seconds = 0.0
    for fen in POSITIONS.values():
        result = Engine().search(chess.Board(fen), depth=DEPTH)
        nodes, seconds = nodes + result.nodes, seconds + result.seconds
    engine_nps = nodes / seconds
    ratio = engine_nps / perft_nps
    print(f"    python-chess perft (legal_moves + push/pop): {perft_nps:>9,.0f} nodes/s (the floor)")
    print(f"    python-chess legal-move lists:               {lists_per_s:>9,.0f} positions/s")
    print(f"    engine, depth {DEPTH} with quiescence:             {engine_nps:>9,.0f} nodes/s")
    print(f"    engine / perft: {ratio:.2f} (target >= {NPS_RATIO_TARGET})\n")
    return ratio >= NPS_RATIO_TARGET


def main() -> int:
    start = time.perf_counter()
    print(f"machine: {machine()}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {os.getloadavg()[0]:.1f}\n")
    results = [knuth_moore(), chess_nodes(), chess_speed()]
    print(f"all targets met: {all(results)}  ({time.perf_counter() - start:.0f} s)")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
