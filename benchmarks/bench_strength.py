"""Benchmark for Chapter 4, 'Search techniques every engine uses': strength in games, not only nodes.

Run:  python benchmarks/bench_strength.py [--movetime 0.2 | --nodes N] [--games 60] [--match sunfish|FEATURE|all] [--play-all]
      (sunfish: pip install --no-deps sunfish==2026.1; its own metadata pins chess==1.9.4, which
      this project's chess does not meet, but the engine itself, `python -m sunfish`, does not import it)

Plays matches at a fixed time per move from the shipped opening positions below, each opening
twice with the colours swapped:

- the full engine (`Engine()`) against sunfish at equal time, sunfish run as a UCI subprocess
  (`python -m sunfish`), our engine in this process;
- for each technique of `dltheory.engine.SWITCHES` asked for (`--match lmr`, or `all`), the
  full engine against the same engine with that technique switched off.

With `--nodes N` the two engines of a technique match get N nodes per move instead of a time (the
search stops after about N nodes and plays the last completed iteration's move). A fixed-nodes match
is independent of the machine and its load, and of the technique's cost per node: it measures what
the technique does to the tree, not to the speed. Sunfish has no node budget, so its match needs a time.

For each match it prints wins, draws and losses, the score, the Elo difference
``-400 log10(1/s - 1)`` with its 95% interval from the games' own variance, and a sequential
probability ratio test (SPRT) of Elo 0 against Elo +50 (alpha = beta = 0.05, normal approximation
of the log-likelihood ratio), stopping the match early when the test decides (unless `--play-all`). A game is drawn by
the rules (stalemate, insufficient material, threefold repetition, fifty moves) or after 200
plies. Speeds depend on the machine and its load: run it alone, and name the machine with the
numbers. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable

import chess
import chess.engine

from dltheory.engine import SWITCHES, Engine
from dltheory.envcheck import machine

# Short main lines of common openings (SAN), each played from both sides.
OPENINGS = [
    "e4 e5 Nf3 Nc6 Bb5 a6",  # Ruy Lopez
    "e4 e5 Nf3 Nc6 Bc4 Bc5",  # Italian
    "e4 e5 Nf3 Nc6 d4 exd4",  # Scotch
    "e4 e5 Nf3 Nf6",  # Petrov
    "e4 e5 Nc3 Nf6",  # Vienna
    "e4 e5 f4 exf4",  # King's Gambit accepted
    "e4 c5 Nf3 d6 d4 cxd4 Nxd4 Nf6 Nc3 a6",  # Najdorf
    "e4 c5 Nf3 Nc6 d4 cxd4 Nxd4 g6",  # Accelerated Dragon
    "e4 c5 c3 Nf6",  # Alapin
    "e4 c5 Nc3 Nc6 g3",  # Closed Sicilian
    "e4 e6 d4 d5 Nc3 Bb4",  # French Winawer
    "e4 e6 d4 d5 e5 c5",  # French Advance
    "e4 c6 d4 d5 e5 Bf5",  # Caro-Kann Advance
    "e4 c6 d4 d5 Nc3 dxe4 Nxe4 Bf5",  # Caro-Kann Classical
    "e4 d5 exd5 Qxd5 Nc3 Qa5",  # Scandinavian
    "e4 Nf6 e5 Nd5 d4 d6",  # Alekhine
    "e4 d6 d4 Nf6 Nc3 g6",  # Pirc
    "d4 d5 c4 e6 Nc3 Nf6",  # Queen's Gambit Declined
    "d4 d5 c4 dxc4 Nf3 Nf6",  # Queen's Gambit Accepted
    "d4 d5 c4 c6 Nf3 Nf6",  # Slav
    "d4 Nf6 c4 g6 Nc3 Bg7 e4 d6",  # King's Indian
    "d4 Nf6 c4 e6 Nc3 Bb4",  # Nimzo-Indian
    "d4 Nf6 c4 e6 Nf3 b6",  # Queen's Indian
    "d4 Nf6 c4 c5 d5 e6",  # Benoni
    "d4 Nf6 c4 g6 Nc3 d5",  # Gruenfeld
    "d4 f5 g3 Nf6 Bg2 g6",  # Leningrad Dutch
    "d4 d5 Bf4 Nf6 e3 c5",  # London
    "c4 e5 Nc3 Nf6 g3 d5",  # English, reversed Sicilian
    "c4 c5 Nc3 Nc6 g3 g6",  # Symmetrical English
    "Nf3 d5 g3 Nf6 Bg2 c6",  # Reti
]

MAX_PLIES = 200
SPRT_ELO = (0.0, 50.0)
SPRT_ALPHA = SPRT_BETA = 0.05

Player = Callable[[chess.Board], chess.Move]


def opening_board(line: str) -> chess.Board:
    board = chess.Board()
    for san in line.split():
        board.push_san(san)
    return board


def our_player(engine: Engine, movetime: float | None, nodes: int | None = None) -> Player:
    if nodes is not None:
        return lambda board: engine.search(board, nodes=nodes).move
    return lambda board: engine.search(board, movetime=movetime).move


def sunfish_player(process: chess.engine.SimpleEngine, movetime: float) -> Player:
    return lambda board: process.play(board, chess.engine.Limit(time=movetime)).move


def play(white: Player, black: Player, board: chess.Board) -> float:
    """One game from `board`; the result for White (1, 1/2 or 0)."""
    board = board.copy()
    while not board.is_game_over(claim_draw=True) and board.ply() < MAX_PLIES:
        move = (white if board.turn == chess.WHITE else black)(board)
        if move is None or not board.is_legal(move):
            return 0.0 if board.turn == chess.WHITE else 1.0  # an illegal move or none loses
        board.push(move)
    outcome = board.outcome(claim_draw=True)
    if outcome is None or outcome.winner is None:
        return 0.5
    return 1.0 if outcome.winner == chess.WHITE else 0.0


def expected_score(elo: float) -> float:
    return 1 / (1 + 10 ** (-elo / 400))


def elo(score: float) -> float:
    score = min(max(score, 1e-3), 1 - 1e-3)
    return -400 * math.log10(1 / score - 1)


def summary(results: list[float]) -> tuple[float, float, float, float, float]:
    """Score, Elo, the Elo's 95% interval (low, high) and the SPRT log-likelihood ratio, from per-game results."""
    n = len(results)
    mean = sum(results) / n
    var = sum((r - mean) ** 2 for r in results) / max(n - 1, 1) or 0.25 / n
    half = 1.96 * math.sqrt(var / n)
    s0, s1 = (expected_score(e) for e in SPRT_ELO)
    llr = n * (s1 - s0) * (2 * mean - s0 - s1) / (2 * var)
    return mean, elo(mean), elo(mean - half), elo(mean + half), llr


def match(
    name: str, first: Callable[[], Player], second: Callable[[], Player], games: int, stop_early: bool = True
) -> list[float]:
    """Play `games` games (openings in turn, colours alternating); results for `first`.

    With `stop_early`, the match ends as soon as the SPRT decides; otherwise all games are played
    and the SPRT verdict is only reported.
    """
    upper, lower = math.log((1 - SPRT_BETA) / SPRT_ALPHA), math.log(SPRT_BETA / (1 - SPRT_ALPHA))
    results: list[float] = []
    start = time.perf_counter()
    for i in range(games):
        board = opening_board(OPENINGS[(i // 2) % len(OPENINGS)])
        a, b = first(), second()  # fresh players (and tables) for every game
        results.append(play(a, b, board) if i % 2 == 0 else 1 - play(b, a, board))
        score, e, low, high, llr = summary(results)
        verdict = "H1 (stronger)" if llr >= upper else "H0 (not stronger)" if llr <= lower else "undecided"
        wins, draws = results.count(1.0), results.count(0.5)
        print(f"  {name}: game {i + 1:>3}  +{wins} ={draws} -{len(results) - wins - draws}  score {score:.3f}  "
              f"Elo {e:+.0f} [{low:+.0f}, {high:+.0f}]  SPRT LLR {llr:+.2f} ({lower:.2f}, {upper:.2f}): {verdict}  "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
        if stop_early and verdict != "undecided":
            break
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movetime", type=float, default=0.2, help="seconds per move (default 0.2)")
    parser.add_argument("--nodes", type=int, default=None,
                        help="nodes per move for the technique matches instead of --movetime (not for sunfish)")
    parser.add_argument("--games", type=int, default=60, help="games per match at most (default 60)")
    parser.add_argument("--match", default="sunfish", help="'sunfish', a switch name, or 'all'")
    parser.add_argument("--play-all", action="store_true", help="play every game even when the SPRT has decided")
    args = parser.parse_args()
    if args.nodes is not None and args.nodes < 1:
        parser.error(f"--nodes must be a positive number of nodes, got {args.nodes}")
    print(f"machine: {machine()}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {os.getloadavg()[0]:.1f}")
    budget = f"{args.nodes} nodes per move" if args.nodes is not None else f"{args.movetime} s per move"
    print(f"{budget}, at most {args.games} games, {len(OPENINGS)} openings from both sides")
    everyone = [*SWITCHES] if args.nodes is not None else ["sunfish", *SWITCHES]  # sunfish has no node budget
    names = everyone if args.match == "all" else [args.match]
    for name in names:
        if name == "sunfish":
            if args.nodes is not None:
                parser.error("sunfish has no node budget: play its match with --movetime")
            process = chess.engine.SimpleEngine.popen_uci([sys.executable, "-m", "sunfish"])
            try:
                match("engine vs sunfish", lambda: our_player(Engine(), args.movetime),
                      lambda: sunfish_player(process, args.movetime), args.games, not args.play_all)
            finally:
                process.quit()
        elif name in SWITCHES:
            match(f"engine vs engine without {name}", lambda: our_player(Engine(), args.movetime, args.nodes),
                  lambda: our_player(Engine(**{name: False}), args.movetime, args.nodes), args.games, not args.play_all)
        else:
            parser.error(f"unknown match {name!r}: use sunfish, all, or one of {', '.join(SWITCHES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
