"""Mates on the horizon: a mate in k moves is found by a search of 2k - 1 plies (Chapter 4, Sec. 'Quiescence').

The positions are in tests/data/mates.txt; each one's mate length is verified here by brute
force over python-chess's legal moves, independently of the engine.
"""

from __future__ import annotations

from pathlib import Path

import chess
import pytest

from dltheory.engine import MATE, Engine

MATES = [
    (int(line.split(" ", 1)[0]), line.split(" ", 1)[1])
    for line in (Path(__file__).parent / "data" / "mates.txt").read_text().splitlines()
    if line and not line.startswith("#")
]


def mates_within(board: chess.Board, k: int) -> bool:
    """Whether the side to move can force checkmate within `k` of its moves, by brute force."""
    if k <= 0:
        return False
    moves = sorted(board.legal_moves, key=lambda m: (not board.gives_check(m), not board.is_capture(m)))
    for move in moves:
        board.push(move)
        try:
            if board.is_checkmate():
                return True
            replies = list(board.legal_moves)
            if k > 1 and replies and all(_reply_then_mates(board, reply, k - 1) for reply in replies):
                return True
        finally:
            board.pop()
    return False


def _reply_then_mates(board: chess.Board, reply: chess.Move, k: int) -> bool:
    board.push(reply)
    try:
        return mates_within(board, k)
    finally:
        board.pop()


def test_the_list_has_at_least_thirty_mates_of_each_length_one_to_three() -> None:
    lengths = [k for k, _ in MATES]
    assert len(MATES) >= 30 and {1, 2, 3} <= set(lengths) and len(set(fen for _, fen in MATES)) == len(MATES)


@pytest.mark.parametrize(("k", "fen"), MATES, ids=[f"mate{k}-{i}" for i, (k, _) in enumerate(MATES)])
def test_mate_in_k_is_found_at_depth_2k_minus_1(k: int, fen: str) -> None:
    board = chess.Board(fen)
    assert mates_within(board, k) and not mates_within(board, k - 1), "the list's mate length is wrong"
    # The exact search (no null move, no late-move reductions; the check extension off, so that the
    # horizon alone must see the mate): mate on the last ply is recognised, never scored as material.
    result = Engine(null_move=False, lmr=False, check_extension=False).search(board, depth=2 * k - 1)
    assert (result.mate, result.score) == (k, MATE - (2 * k - 1))
    for move in result.pv:
        board.push(move)
    assert len(result.pv) == 2 * k - 1 and board.is_checkmate()
