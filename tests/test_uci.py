"""Tests for dltheory.uci: the protocol in a real subprocess, and bad input never ending it."""

from __future__ import annotations

import io
import subprocess
import sys
import time

import chess
import pytest

from dltheory.uci import UCI, main, parse_go, parse_position


def read_until(process: subprocess.Popen, prefix: str, timeout: float) -> list[str]:
    """Lines from the engine up to and including the first one starting with `prefix`."""
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
        if line.startswith(prefix):
            return lines
    raise AssertionError(f"no {prefix!r} within {timeout} s; got {lines}")


def test_uci_session_in_a_subprocess() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "dltheory.uci"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    try:
        process.stdin.write("uci\n")
        process.stdin.flush()
        hello = read_until(process, "uciok", timeout=60)  # the first import of torch can be slow
        assert any(line.startswith("id name") for line in hello)
        process.stdin.write("isready\n")
        process.stdin.flush()
        read_until(process, "readyok", timeout=10)
        process.stdin.write("position startpos moves e2e4\ngo movetime 200\n")
        process.stdin.flush()
        start = time.monotonic()
        lines = read_until(process, "bestmove", timeout=5)
        elapsed = time.monotonic() - start
        assert elapsed < 0.2 + 1.0  # the budget, plus a second of slack for a loaded machine
        board = chess.Board()
        board.push_uci("e2e4")
        assert board.is_legal(chess.Move.from_uci(lines[-1].split()[1]))
        assert any(" score cp " in line and " pv " in line for line in lines if line.startswith("info depth"))
        process.stdin.write("quit\n")
        process.stdin.flush()
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()


def session() -> tuple[UCI, io.StringIO]:
    out = io.StringIO()
    return UCI(out), out


def wait_for_bestmove(out: io.StringIO, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        moves = [line.split()[1] for line in out.getvalue().splitlines() if line.startswith("bestmove")]
        if moves:
            return moves[-1]
        time.sleep(0.01)
    raise AssertionError(f"no bestmove; output: {out.getvalue()}")


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("position startpos moves e2e5", "illegal move 'e2e5'"),
        ("position startpos moves e2", "not in UCI notation"),
        ("position fen not/a/fen w - - 0 1", "fen is not a valid FEN"),
        ("position fen 8/8/8/8/8/8/8/8 w - - 0 1", "fen describes an impossible position"),
        ("position", "startpos"),
        ("go depth -1", "depth must be non-negative"),
        ("go depth", "needs an integer"),
        ("go movetime soon", "needs an integer"),
        ("go sideways", "unknown go parameter"),
        ("xyzzy", "unknown command"),
    ],
)
def test_bad_input_becomes_an_info_string(command: str, message: str) -> None:
    uci, out = session()
    uci.handle("position startpos moves d2d4")
    assert uci.handle(command) is True
    assert "info string" in out.getvalue() and message in out.getvalue()
    uci.handle("go depth 1")
    if command.startswith("position"):
        # After an invalid position there is none: go must not search the previous one.
        assert wait_for_bestmove(out) == "0000" and "no valid position" in out.getvalue()
        uci.handle("position startpos moves d2d4")
        uci.handle("go depth 1")
        uci.handle("stop")  # waits for the search thread, so its bestmove is the last line
    # The session goes on, with the last good position.
    after_d4 = chess.Board()
    after_d4.push_uci("d2d4")
    assert after_d4.is_legal(chess.Move.from_uci(wait_for_bestmove(out)))
    uci.handle("quit")


def test_ponder_answers_only_after_ponderhit_or_stop() -> None:
    uci, out = session()
    uci.handle("position startpos moves e2e4")
    uci.handle("go ponder movetime 200")
    time.sleep(0.5)
    assert "bestmove" not in out.getvalue()  # pondering: no answer before ponderhit
    uci.handle("ponderhit")
    start = time.monotonic()
    move = wait_for_bestmove(out, timeout=5)
    assert time.monotonic() - start < 0.2 + 1.0  # then the go command's own limits, from the ponderhit
    after_e4 = chess.Board()
    after_e4.push_uci("e2e4")
    assert after_e4.is_legal(chess.Move.from_uci(move))
    uci, out = session()
    uci.handle("go ponder wtime 1000 btime 1000")
    time.sleep(0.3)
    assert "bestmove" not in out.getvalue()
    uci.handle("stop")  # the opponent played something else: answer at once
    assert chess.Board().is_legal(chess.Move.from_uci(wait_for_bestmove(out, timeout=2)))


def test_go_variants_and_stop() -> None:
    uci, out = session()
    uci.handle("position fen kbK5/pp6/1P6/8/8/8/8/R7 w - - 0 1")
    uci.handle("go depth 4")
    assert wait_for_bestmove(out) == "a1a6"
    assert "score mate 2" in out.getvalue()
    uci, out = session()
    uci.handle("go infinite")
    time.sleep(0.3)
    assert "bestmove" not in out.getvalue()  # infinite: no answer until told
    uci.handle("stop")
    assert chess.Board().is_legal(chess.Move.from_uci(wait_for_bestmove(out, timeout=2)))
    uci, out = session()
    uci.handle("go nodes 300")
    wait_for_bestmove(out)
    uci.handle("ucinewgame")
    uci.handle("isready")
    assert out.getvalue().splitlines()[-1] == "readyok"


def test_clock_budgets() -> None:
    white = parse_go(["wtime", "10000", "btime", "2000", "winc", "100"], chess.WHITE)
    assert white["movetime"] == pytest.approx(10 / 20 + 0.075 - 0.03)
    black = parse_go(["wtime", "10000", "btime", "2000", "movestogo", "9"], chess.BLACK)
    assert black["movetime"] == pytest.approx(2 / 10 - 0.03)
    assert parse_go(["wtime", "100", "winc", "5000"], chess.WHITE)["movetime"] == pytest.approx(0.05 - 0.03)
    assert parse_go(["infinite"], chess.WHITE) == {"infinite": True}
    assert parse_go(["ponder", "movetime", "100"], chess.WHITE) == {"infinite": False, "ponder": True, "movetime": 0.1 - 0.03}
    assert parse_position(["startpos", "moves", "e2e4", "e7e5"]).fen().startswith("rnbqkbnr/pppp1ppp/8/4p3/4P3")


def test_main_reads_until_quit() -> None:
    out = io.StringIO()
    main(io.StringIO("uci\nisready\nposition startpos\ngo depth 2\nquit\nisready\n"), out)
    lines = out.getvalue().splitlines()
    assert lines[:4] == ["id name dltheory (Theory You Can Run, Chapter 4)", lines[1], "uciok", "readyok"]
    assert lines[-1].startswith("bestmove") and lines.count("readyok") == 1  # nothing after quit
