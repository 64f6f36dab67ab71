"""Benchmark for Chapter 4, 'An engine you can play': a standard tactical suite, our engine against sunfish.

Run:  python benchmarks/bench_tactics.py [--movetime 1.0] [--limit N] [--engine ours|sunfish|both]
      (sunfish: pip install --no-deps sunfish==2026.1, run as a UCI subprocess, `python -m sunfish`)

Each engine gets `--movetime` seconds per position of Win at Chess (`benchmarks/data/wac.epd`, 300
positions; the file's header names its source and revision). A position is solved when the move
played is one of its `bm` moves (or, for a position with only `am`, not one of those). The script
prints, per engine, the number solved (of all positions, and without the positions the file flags as
disputed), the nodes per second, and then the positions that one engine solves and the other does not.
The two engines run one after the other in this one process, so they share the machine's load; a
time limit makes the counts depend on the machine, so run it alone and name the machine with the
numbers. Not part of the test suite (`tests/test_tactics.py` checks a fixed node budget instead).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import chess
import chess.engine

from dltheory.engine import Engine
from dltheory.envcheck import machine

SUITE = Path(__file__).with_name("data") / "wac.epd"


@dataclass(frozen=True)
class Position:
    """One test position: its id, the board, the best moves (`bm`), the moves to avoid (`am`), whether it is disputed."""

    id: str
    board: chess.Board
    best: frozenset[chess.Move]
    avoid: frozenset[chess.Move]
    disputed: bool

    def solved_by(self, move: chess.Move | None) -> bool:
        """True when `move` is a best move, or, for a position without `bm`, not a move to avoid."""
        if move is None:
            return False
        return move in self.best if self.best else move not in self.avoid


def load_suite(path: Path = SUITE) -> list[Position]:
    """The positions of an EPD file (lines starting with '#' are comments).

    Raises:
        ValueError: if a line is not a legal position or has neither a `bm` nor an `am` operation.
    """
    positions = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        board, ops = chess.Board.from_epd(line)  # parses bm/am SAN against the board, raising on an illegal move
        if not board.is_valid():
            raise ValueError(f"{path.name} line {number}: not a legal position ({board.status()!r})")
        best, avoid = frozenset(ops.get("bm", ())), frozenset(ops.get("am", ()))
        if not best and not avoid:
            raise ValueError(f"{path.name} line {number}: no bm or am operation")
        disputed = str(ops.get("c0", "")).startswith("disputed")
        positions.append(Position(str(ops.get("id", f"line {number}")), board, best, avoid, disputed))
    return positions


def run_ours(positions: list[Position], movetime: float) -> tuple[dict[str, bool], int, float]:
    """Solved flag per position id, total nodes and total seconds for `Engine()` (a fresh engine per position)."""
    solved, nodes, seconds = {}, 0, 0.0
    for p in positions:
        result = Engine().search(p.board, movetime=movetime)
        solved[p.id] = p.solved_by(result.move)
        nodes, seconds = nodes + result.nodes, seconds + result.seconds
    return solved, nodes, seconds


def run_sunfish(positions: list[Position], movetime: float) -> tuple[dict[str, bool], int, float]:
    """The same for sunfish over UCI (a new game, so a fresh table, per position); nodes from its `info` lines."""
    solved, nodes, seconds = {}, 0, 0.0
    with chess.engine.SimpleEngine.popen_uci([sys.executable, "-m", "sunfish"], stderr=subprocess.DEVNULL) as sunfish:
        for p in positions:
            start = time.perf_counter()
            result = sunfish.play(p.board, chess.engine.Limit(time=movetime), info=chess.engine.INFO_BASIC, game=p.id)
            seconds += time.perf_counter() - start
            nodes += int(result.info.get("nodes", 0))
            solved[p.id] = p.solved_by(result.move)
    return solved, nodes, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movetime", type=float, default=1.0, help="seconds per position (default 1)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N positions")
    parser.add_argument("--engine", choices=("ours", "sunfish", "both"), default="both")
    args = parser.parse_args()
    positions = load_suite()[: args.limit]
    here = Path(__file__).parent
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=here).stdout.strip()
    edited = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "../src/dltheory/engine.py"], cwd=here).returncode
    last = subprocess.run(["git", "log", "-1", "--format=%h", "--", "../src/dltheory/engine.py"], capture_output=True,
                          text=True, cwd=here).stdout.strip()
    commit = f"{commit or 'unknown'}, engine.py last changed in {last or 'unknown'}" + (" and edited since" if edited else "")
    print(f"machine: {machine()}; "
          f"commit {commit}; {len(positions)} positions of {SUITE.name}, {args.movetime} s each", flush=True)
    runners = {"ours": run_ours, "sunfish": run_sunfish}
    names = list(runners) if args.engine == "both" else [args.engine]
    disputed = {p.id for p in positions if p.disputed}
    results = {}
    for name in names:
        solved, nodes, seconds = runners[name](positions, args.movetime)
        results[name] = solved
        count = sum(solved.values())
        undisputed = sum(v for k, v in solved.items() if k not in disputed)
        print(f"{name}: solved {count} of {len(positions)} ({undisputed} of {len(positions) - len(disputed)} "
              f"without the disputed); {nodes:,} nodes in {seconds:.0f} s, {nodes / max(seconds, 1e-9):,.0f} nodes/s",
              flush=True)
    if len(results) == 2:
        for a, b in (("ours", "sunfish"), ("sunfish", "ours")):
            only = [k for k in results[a] if results[a][k] and not results[b][k]]
            print(f"solved by {a} only ({len(only)}): {' '.join(only)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
