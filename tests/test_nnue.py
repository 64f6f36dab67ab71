"""Tests for dltheory.nnue: HalfKP indexing, the incremental accumulator, training, and use by the engine."""

from __future__ import annotations

import random

import chess
import numpy as np
import pytest
import torch

from dltheory.engine import Engine
from dltheory.nnue import (
    HALFKP_INPUTS,
    HALFKP_MEANINGFUL,
    HALFKP_PIECE_SLOTS,
    NNUE,
    HalfKPNet,
    changed_features,
    engine_positions,
    halfkp_features,
    halfkp_index,
    refresh_columns,
    train_nnue,
    update_costs,
)


def random_line(plies: int, seed: int) -> tuple[chess.Board, list[chess.Move]]:
    rng, board, moves = random.Random(seed), chess.Board(), []
    for _ in range(plies):
        legal = list(board.legal_moves)
        if not legal:
            break
        moves.append(rng.choice(legal))
        board.push(moves[-1])
    return chess.Board(), moves


def test_sizes_and_indices() -> None:
    assert HALFKP_PIECE_SLOTS == 641 and HALFKP_INPUTS == 41024 and HALFKP_MEANINGFUL == 40960
    used = {
        halfkp_index(k, chess.Piece(t, c), s, p)
        for k in chess.SQUARES for t in range(1, 6) for c in chess.COLORS for s in chess.SQUARES for p in (chess.WHITE,)
    }
    assert len(used) == HALFKP_MEANINGFUL and max(used) < HALFKP_INPUTS
    assert all(i % HALFKP_PIECE_SLOTS != 0 for i in used)  # the first slot of each king square is never active
    board = chess.Board()
    assert len(halfkp_features(board, chess.WHITE)) == len(halfkp_features(board, chess.BLACK)) == 30
    # the start is symmetric: each side sees the same features from its own point of view
    assert halfkp_features(board, chess.WHITE) == halfkp_features(board, chess.BLACK)
    with pytest.raises(ValueError, match="king"):
        halfkp_index(chess.E1, chess.Piece(chess.KING, chess.WHITE), chess.E1, chess.WHITE)
    with pytest.raises(ValueError, match="king"):
        halfkp_features(chess.Board("8/8/8/8/8/8/8/4K3 w - - 0 1"), chess.BLACK)


def test_accumulator_matches_recomputation_on_make_and_unmake() -> None:
    torch.manual_seed(0)
    nnue = NNUE(HalfKPNet(hidden=8))
    start, moves = random_line(40, seed=1)
    board = start.copy()
    nnue.reset(board)
    history = [dict(nnue.acc)]
    for move in moves:
        before, expected = nnue.columns, changed_features(board, move)
        nnue.push(board, move)
        board.push(move)
        assert nnue.columns - before == expected, move.uci()
        fresh = NNUE(nnue.net)
        fresh.reset(board)
        assert fresh.columns == refresh_columns(board)
        for color in chess.COLORS:
            np.testing.assert_allclose(nnue.acc[color], fresh.acc[color], atol=1e-9)
        history.append(dict(nnue.acc))
    for _ in moves:
        nnue.pop()
        board.pop()
        history.pop()
        for color in chess.COLORS:
            np.testing.assert_array_equal(nnue.acc[color], history[-1][color])
    nnue.push(board, chess.Move.null())  # a pass changes nothing
    nnue.pop()


def test_changed_features_rejects_bad_moves() -> None:
    board = chess.Board()
    assert changed_features(board, chess.Move.from_uci("e2e4")) == 4
    with pytest.raises(ValueError, match="legal"):
        changed_features(board, chess.Move.from_uci("e2e5"))
    castle = chess.Board("r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1")
    assert changed_features(castle, chess.Move.from_uci("e1g1")) == 4 + 2  # own half: 4 rooks; other: the rook
    assert changed_features(chess.Board("4k3/8/8/8/8/8/8/4K3 w - - 0 1"), chess.Move.from_uci("e1e2")) == 0
    ep = chess.Board("4k3/8/8/3Pp3/8/8/8/4K3 w - e6 0 1")
    assert changed_features(ep, chess.Move.from_uci("d5e6")) == 6


def test_training_fits_and_the_engine_uses_it() -> None:
    boards = []
    for seed in range(12):
        start, moves = random_line(10 + seed, seed)
        for move in moves:
            start.push(move)
        boards.append(start)
    scores = [100.0 * (len(b.pieces(chess.PAWN, b.turn)) - len(b.pieces(chess.PAWN, not b.turn))) for b in boards]
    net = train_nnue(boards, scores, hidden=8, epochs=150, weight_decay=0.0)
    nnue = NNUE(net)
    errors = []
    for board, score in zip(boards, scores):
        nnue.reset(board)
        with torch.no_grad():
            direct = float(net([halfkp_features(board, board.turn)], [halfkp_features(board, not board.turn)])[0])
        assert abs(nnue(board) - direct) <= 1
        errors.append(abs(direct - score))
    assert np.mean(errors) < 0.5 * np.mean(np.abs(scores))
    result = Engine(evaluate=nnue).search(chess.Board(), depth=2)
    assert result.move in chess.Board().legal_moves
    with pytest.raises(ValueError, match="equal length"):
        train_nnue(boards, scores[:-1])
    with pytest.raises(ValueError, match="HalfKPNet"):
        NNUE(object())  # type: ignore[arg-type]


def test_engine_positions_and_update_costs() -> None:
    boards, scores = engine_positions(3, depth=1, plies=(4, 8), seed=2)
    assert len(boards) == len(scores) == 3
    assert all(not b.is_check() and not b.is_game_over() and abs(s) <= 1500 for b, s in zip(boards, scores))
    assert engine_positions(3, depth=1, plies=(4, 8), seed=2)[1] == scores  # reproducible
    for bad in ({"count": 0}, {"depth": 0}, {"plies": (5, 5)}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            engine_positions(**{"count": 1, **bad})  # type: ignore[arg-type]
    torch.manual_seed(0)
    costs = update_costs(HalfKPNet(hidden=4), games=2, plies=12, seed=3)
    assert len(costs.moves) == len(costs.incremental) == len(costs.recomputed) == 24
    assert costs.incremental == tuple(changed_features(b, m) for b, m in costs.moves)
    for (board, move), columns in zip(costs.moves, costs.recomputed):
        board = board.copy()
        board.push(move)
        assert columns == refresh_columns(board)
    assert costs.seconds_incremental > 0 and costs.seconds_recomputed > 0
    with pytest.raises(ValueError, match="games"):
        update_costs(HalfKPNet(hidden=4), games=0)
