"""The Universal Chess Interface front end: `python -m dltheory.uci` (Chapter 4, Sec. 'An engine you can play').

Speaks enough of UCI for any chess GUI or match runner: `uci`, `isready`, `ucinewgame`,
`position startpos|fen <fen> [moves <m1> <m2> ...]`, `go` with `movetime`, `wtime`/`btime`
(+ `winc`/`binc`, `movestogo`), `depth`, `nodes`, `infinite` or `ponder`, `ponderhit`, `stop`
and `quit`. The search runs in a thread so that `stop` and `isready` are answered while it
thinks; after each iteration it prints `info depth .. score cp|mate .. nodes .. nps .. time .. pv ..`.
`go ponder` thinks on the opponent's time without a budget and answers only after `stop`
(the opponent played another move) or `ponderhit` (it played the expected one: the search then
goes on under the time limits of the `go` command, counted from the `ponderhit`). Bad input
never ends the program: it is reported on an `info string` line; after an invalid `position`
there is no position until the next valid one, and `go` answers `bestmove 0000`.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

import chess

from dltheory.engine import Engine, EngineResult
from dltheory.games import Chess

NAME = "dltheory (Theory You Can Run, Chapter 4)"
AUTHOR = "Theory You Can Run contributors"
OVERHEAD = 0.03
"""Seconds kept in hand for printing and thread hand-over when a time budget is given."""


class UCI:
    """One UCI session: a position, an engine, and at most one search thread.

    Args:
        out: where responses are written (standard output by default).
    """

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out if out is not None else sys.stdout
        self.engine = Engine()
        self.board: chess.Board | None = chess.Board()
        self.stop_event = threading.Event()
        self.ponderhit_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def send(self, line: str) -> None:
        """Write one line and flush (GUIs read line by line)."""
        with self.lock:
            self.out.write(line + "\n")
            self.out.flush()

    def handle(self, line: str) -> bool:
        """Act on one command line; returns False after `quit`."""
        words = line.split()
        if not words:
            return True
        command, args = words[0], words[1:]
        try:
            if command == "uci":
                self.send(f"id name {NAME}")
                self.send(f"id author {AUTHOR}")
                self.send("uciok")
            elif command == "isready":
                self.send("readyok")
            elif command == "ucinewgame":
                self.halt()
                self.engine.clear()
                self.board = chess.Board()
            elif command == "position":
                self.halt()
                self.board = None  # an invalid position must not leave the previous one in place
                self.board = parse_position(args)
            elif command == "go":
                self.halt()
                self.go(args)
            elif command == "stop":
                self.halt()
            elif command == "quit":
                self.halt()
                return False
            elif command == "ponderhit":
                self.ponderhit_event.set()
            elif command in ("setoption", "register", "debug"):
                pass  # no options; nothing to do
            else:
                self.send(f"info string unknown command: {line.strip()}")
        except Exception as err:  # bad input must never end the session
            self.send(f"info string error: {err}")
        return True

    def halt(self) -> None:
        """Stop a running search and wait for its `bestmove`."""
        if self.thread is not None:
            self.stop_event.set()
            self.ponderhit_event.set()
            self.thread.join()
            self.thread = None

    def go(self, args: list[str]) -> None:
        """Start a search thread for `go <args>` (or answer `bestmove 0000` without a valid position)."""
        if self.board is None:
            self.send("info string error: no valid position; send a valid 'position' command first")
            self.send("bestmove 0000")
            return
        limits = parse_go(args, self.board.turn)
        self.stop_event = threading.Event()
        self.ponderhit_event = threading.Event()
        board = self.board.copy()
        self.thread = threading.Thread(target=self._think, args=(board, limits), daemon=True)
        self.thread.start()

    def _think(self, board: chess.Board, limits: dict) -> None:
        stop, ponderhit = self.stop_event, self.ponderhit_event
        infinite = limits.pop("infinite", False)
        ponder = limits.pop("ponder", False)
        if not limits and not infinite:
            limits["depth"] = 6  # a bare `go`: something sensible
        try:
            if ponder:
                # Think until `ponderhit` or `stop` (halt sets both events). After a ponderhit, search
                # under the limits from now on (the table keeps what pondering found); after a
                # stop, answer with the pondering's move.
                pondered = self.engine.search(board, stop=ponderhit, on_iteration=self._info)
                ponderhit.wait()
                if stop.is_set():
                    move = pondered.move
                else:
                    move = self.engine.search(board, stop=stop, on_iteration=self._info, **limits).move
            else:
                move = self.engine.search(board, stop=stop, on_iteration=self._info, **limits).move
        except Exception as err:  # a bug must not leave the GUI without a move
            self.send(f"info string error: {err}")
            move = next(iter(board.legal_moves), None)
        if infinite:
            stop.wait()  # UCI: in infinite mode, bestmove only after stop
        self.send(f"bestmove {move.uci() if move else '0000'}")

    def _info(self, r: EngineResult) -> None:
        score = f"mate {r.mate}" if r.mate is not None else f"cp {r.score}"
        pv = " ".join(m.uci() for m in r.pv)
        ms = int(r.seconds * 1000)
        self.send(f"info depth {r.depth} score {score} nodes {r.nodes} nps {int(r.nps)} time {ms} pv {pv}")


def parse_position(args: list[str]) -> chess.Board:
    """The board described by the arguments of a `position` command.

    Raises:
        ValueError: naming the FEN or the move that is invalid.
    """
    if not args or args[0] not in ("startpos", "fen"):
        raise ValueError("position must be followed by 'startpos' or 'fen <fen>'")
    rest = args[1:]
    if args[0] == "startpos":
        board = chess.Board()
    else:
        fen_words = rest[: rest.index("moves")] if "moves" in rest else rest
        rest = rest[len(fen_words) :]
        board = Chess(" ".join(fen_words)).board  # games.Chess validates the FEN and names what is wrong
    if rest:
        if rest[0] != "moves":
            raise ValueError(f"expected 'moves' after the position, got {rest[0]!r}")
        for uci in rest[1:]:
            try:
                move = chess.Move.from_uci(uci)
            except ValueError:
                raise ValueError(f"move {uci!r} is not in UCI notation") from None
            if not board.is_legal(move):
                raise ValueError(f"illegal move {uci!r} in position {board.fen()!r}")
            board.push(move)
    return board


def parse_go(args: list[str], turn: chess.Color) -> dict:
    """Search limits (keyword arguments of `Engine.search`) from the arguments of `go`.

    With `wtime`/`btime` the engine spends about a twentieth of its remaining time (or
    time / (movestogo + 1)) plus most of its increment, never more than half of what is left.

    Raises:
        ValueError: when a number is missing or negative.
    """
    numbers: dict[str, int] = {}
    infinite = ponder = False
    i = 0
    while i < len(args):
        word = args[i]
        if word in ("infinite", "ponder"):
            infinite = infinite or word == "infinite"
            ponder = ponder or word == "ponder"
            i += 1
        elif word in ("movetime", "wtime", "btime", "winc", "binc", "movestogo", "depth", "nodes", "mate"):
            try:
                numbers[word] = int(args[i + 1])
            except (IndexError, ValueError):
                raise ValueError(f"go {word} needs an integer") from None
            if numbers[word] < 0 and word not in ("wtime", "btime"):
                raise ValueError(f"go {word} must be non-negative, got {numbers[word]}")
            i += 2
        elif word == "searchmoves":
            raise ValueError("go searchmoves is not supported")
        else:
            raise ValueError(f"unknown go parameter {word!r}")
    limits: dict = {"infinite": infinite}
    if ponder:
        limits["ponder"] = True
    if "depth" in numbers:
        limits["depth"] = max(numbers["depth"], 1)
    if "mate" in numbers:
        limits["depth"] = max(2 * numbers["mate"], 1)
    if "nodes" in numbers:
        limits["nodes"] = max(numbers["nodes"], 1)
    if "movetime" in numbers:
        limits["movetime"] = max(numbers["movetime"] / 1000 - OVERHEAD, 0.001)
    clock, inc = ("wtime", "winc") if turn == chess.WHITE else ("btime", "binc")
    if clock in numbers:
        left, increment = max(numbers[clock], 0) / 1000, numbers.get(inc, 0) / 1000
        share = left / (numbers["movestogo"] + 1) if numbers.get("movestogo") else left / 20
        budget = min(share + 0.75 * increment, 0.5 * left) - OVERHEAD
        limits["movetime"] = max(budget, 0.001)
    return limits


def main(stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
    """Read UCI commands line by line until `quit` or the end of input."""
    session = UCI(stdout)
    stream = stdin if stdin is not None else sys.stdin
    for line in iter(stream.readline, ""):
        if not session.handle(line):
            return
    session.halt()  # end of input: finish the search that is running


if __name__ == "__main__":
    main()
