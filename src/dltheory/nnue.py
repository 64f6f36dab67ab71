"""An efficiently updatable neural network (NNUE) for the chess engine (Chapter 4, Sec. 'Networks for chess').

Nasu (2018): the first layer of the network is an affine map of sparse binary *HalfKP* features, one per
(own king square, non-king piece type and colour, piece square) for each side's point of view. Its output,
the *accumulator*, is the bias plus the sum of the weight columns of the active features, so a move changes
it by subtracting the columns of the features it removes and adding those it adds; only a move of a side's
own king changes every feature of that side's half, which is then recomputed. The two halves (side to move
first) go through a clipped ReLU and two small dense layers to a score in centipawns.

Indexing follows Stockfish's HalfKP: each king square owns ``HALFKP_PIECE_SLOTS = 10 * 64 + 1`` inputs, the
first of which is never active, so a half has ``HALFKP_INPUTS = 64 * 641 = 41024`` inputs of which
``HALFKP_MEANINGFUL = 40960`` can be active. Squares are seen from each side's own point of view (Black's are
flipped vertically), so one set of weights serves both halves.

`NNUE` is usable as the engine's evaluation, ``Engine(evaluate=NNUE(...))``: it defines ``reset``, ``push``
and ``pop`` and keeps its accumulator incrementally, counting the weight columns it adds and subtracts.
"""

from __future__ import annotations

from collections.abc import Sequence

import random
import time
from dataclasses import dataclass

import chess
import numpy as np
import torch
from torch import nn

from dltheory.checks import check_integer
from dltheory.engine import MATE, Engine

HALFKP_PIECE_SLOTS = 10 * 64 + 1
"""The inputs per king square in HalfKP, ten non-king piece kinds on 64 squares plus one never-active slot."""

HALFKP_INPUTS = 64 * HALFKP_PIECE_SLOTS
"""The inputs per half, that is per side's point of view, 64 x 641 = 41024."""

HALFKP_MEANINGFUL = 64 * 10 * 64
"""The inputs per half that a position can activate, 64 x 10 x 64 = 40960."""


def halfkp_index(king: chess.Square, piece: chess.Piece, square: chess.Square, perspective: chess.Color) -> int:
    """The HalfKP input of `piece` on `square` seen by `perspective`, whose king is on `king`.

    Chapter 4, Sec. 'Networks for chess'. Black's squares are flipped vertically (``square ^ 56``) and
    "own" and "enemy" replace the colours, so the index is
    ``king * 641 + 1 + 64 * (2 * (piece_type - 1) + enemy) + square``.

    Raises:
        ValueError: if `piece` is a king.
    """
    if piece.piece_type == chess.KING:
        raise ValueError("piece must not be a king: HalfKP has no feature for kings")
    if perspective == chess.BLACK:
        king, square = king ^ 56, square ^ 56
    slot = 2 * (piece.piece_type - 1) + (piece.color != perspective)
    return king * HALFKP_PIECE_SLOTS + 1 + 64 * slot + square


def halfkp_features(board: chess.Board, perspective: chess.Color) -> list[int]:
    """The active HalfKP inputs of `board` for `perspective`: one per non-king piece of either colour.

    Chapter 4, Sec. 'Networks for chess'. Raises ValueError if `perspective` has no king.
    """
    king = board.king(perspective)
    if king is None:
        raise ValueError(f"board has no {chess.COLOR_NAMES[perspective]} king: {board.fen()!r}")
    return sorted(
        halfkp_index(king, piece, square, perspective)
        for square, piece in board.piece_map().items()
        if piece.piece_type != chess.KING
    )


def changed_features(board: chess.Board, move: chess.Move) -> int:
    """The weight columns the incremental update adds or subtracts for `move`, over both halves.

    Chapter 4, Sec. 'Networks for chess': the predicted work of the update, counted from the kind of move.
    In a half whose king does not move, a moving non-king piece leaves one square and arrives on another
    (2 columns; a promotion changes the piece's kind on arrival, still 2), and a capture removes the victim
    (1 more, en passant included). Kings are not features, so a king move changes the opponent's half only
    by its capture or, when castling, by the rook's move (2); the mover's own half is recomputed from its
    active features, one column each.

    Raises:
        ValueError: if `move` is not legal in `board`.
    """
    if move not in board.legal_moves:
        raise ValueError(f"move must be legal in the position, got {move.uci()!r} in {board.fen()!r}")
    capture = 1 if board.is_capture(move) else 0
    if board.piece_type_at(move.from_square) != chess.KING:
        return 2 * (2 + capture)
    pieces = sum(1 for piece in board.piece_map().values() if piece.piece_type != chess.KING) - capture
    return pieces + (2 if board.is_castling(move) else 0) + capture


def refresh_columns(board: chess.Board) -> int:
    """The weight columns a full recomputation of both halves adds: one per active feature of each half.

    Chapter 4, Sec. 'Networks for chess': the cost that `changed_features` is compared with.
    """
    return 2 * sum(1 for piece in board.piece_map().values() if piece.piece_type != chess.KING)


def engine_positions(
    count: int, *, depth: int = 2, plies: tuple[int, int] = (8, 40), clip: int = 1500, seed: int = 0
) -> tuple[list[chess.Board], list[int]]:
    """`count` positions and the engine's search scores of them: the training data of the NNUE notebook.

    Chapter 4, Sec. 'Networks for chess'. Each position ends a game of uniformly random moves whose length
    is drawn from `plies` (inclusive low, exclusive high); finished games, positions in check and positions
    the engine scores as a forced mate are skipped. Each is searched by `Engine()` to `depth`; the score
    (centipawns for the side to move) is clipped to ``[-clip, clip]``. Reproducible given `seed`.

    Raises:
        ValueError: if `count` or `depth` is not a positive integer or `plies` is not a range of lengths.
    """
    check_integer("count", count, 1)
    check_integer("depth", depth, 1)
    low, high = plies
    if not 0 <= low < high:
        raise ValueError(f"plies must be (low, high) with 0 <= low < high, got {plies!r}")
    rng, engine = random.Random(seed), Engine()
    boards: list[chess.Board] = []
    scores: list[int] = []
    while len(boards) < count:
        board = chess.Board()
        for _ in range(rng.randrange(low, high)):
            moves = list(board.legal_moves)
            if not moves:
                break
            board.push(rng.choice(moves))
        if board.is_game_over() or board.is_check():
            continue
        score = engine.search(board, depth=depth).score
        if abs(score) < MATE - 1000:
            boards.append(board.copy(stack=False))
            scores.append(max(-clip, min(clip, score)))
    return boards, scores


class HalfKPNet(nn.Module):
    """The network: HalfKP (41024 inputs per half) -> `hidden` per half -> clipped ReLU -> 32 -> 1 centipawns.

    Chapter 4, Sec. 'Networks for chess'. The first layer is stored as an embedding bag of shape
    (HALFKP_INPUTS, hidden), whose rows are the weight columns of the features; the same layer serves both
    halves, and the side to move's half comes first. For training, each column is factorised, in the spirit
    of Stockfish's trainer: a king-relative part (`first`, starting at zero), a part shared by all king
    squares (`shared`, indexed by piece and square) and a part shared by all squares (`kind`, indexed by
    piece kind alone), so that a few hundred positions teach every king square what a piece is worth;
    `columns` merges them into the HalfKP columns the accumulator adds.
    """

    def __init__(self, hidden: int = 16) -> None:
        super().__init__()
        check_integer("hidden", hidden, 1)
        self.first = nn.EmbeddingBag(HALFKP_INPUTS, hidden, mode="sum")
        nn.init.zeros_(self.first.weight)
        self.shared = nn.EmbeddingBag(HALFKP_PIECE_SLOTS, hidden, mode="sum")
        nn.init.normal_(self.shared.weight, std=0.1)
        self.kind = nn.EmbeddingBag(10, hidden, mode="sum")
        nn.init.normal_(self.kind.weight, std=0.1)
        self.bias = nn.Parameter(torch.zeros(hidden))
        self.dense = nn.Sequential(nn.Linear(2 * hidden, 32), nn.ReLU(), nn.Linear(32, 1))

    def columns(self) -> np.ndarray:
        """The merged first-layer weight columns, one row per HalfKP input, shape (HALFKP_INPUTS, hidden)."""
        shared = self.shared.weight.detach().numpy().astype(np.float64)
        kind = np.vstack([np.zeros((1, shared.shape[1])), self.kind.weight.detach().numpy().astype(np.float64)])
        slots = np.arange(HALFKP_INPUTS) % HALFKP_PIECE_SLOTS
        kinds = np.where(slots > 0, (slots - 1) // 64 + 1, 0)  # the never-active slot gets no kind
        return self.first.weight.detach().numpy().astype(np.float64) + shared[slots] + kind[kinds]

    def head(self, own: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
        """Scores from the two accumulators (side to move's first), each of shape (batch, hidden)."""
        x = torch.cat([own, other], dim=1).clamp(0.0, 1.0)
        return self.dense(x).squeeze(-1) * 100.0

    def forward(self, own: Sequence[Sequence[int]], other: Sequence[Sequence[int]]) -> torch.Tensor:
        """Scores (centipawns, side to move) of a batch given each half's active features."""

        def accumulate(features: Sequence[Sequence[int]]) -> torch.Tensor:
            flat = torch.tensor([i for f in features for i in f], dtype=torch.long)
            offsets = torch.tensor([0] + [len(f) for f in features][:-1]).cumsum(0)
            slots = flat % HALFKP_PIECE_SLOTS
            return self.first(flat, offsets) + self.shared(slots, offsets) + self.kind((slots - 1) // 64, offsets) + self.bias

        return self.head(accumulate(own), accumulate(other))


def _halves(board: chess.Board) -> tuple[list[int], list[int]]:
    return halfkp_features(board, board.turn), halfkp_features(board, not board.turn)


def train_nnue(
    boards: Sequence[chess.Board], scores: Sequence[float], *, hidden: int = 16, epochs: int = 150,
    lr: float = 1e-2, weight_decay: float = 1.0, seed: int = 0,
) -> HalfKPNet:
    """Fit a `HalfKPNet` to `scores` (centipawns for the side to move) of `boards` by Adam on the squared error.

    Chapter 4, Sec. 'Networks for chess'. Full-batch training, `epochs` steps; reproducible given `seed`.
    `weight_decay` is an L2 penalty on the king-relative and piece-square parts of the columns only, so that
    with few positions the network leans on the piece-kind part, which every position trains.

    Raises:
        ValueError: if the lengths differ, there are no boards, or a count is not positive.
    """
    if len(boards) != len(scores) or not boards:
        raise ValueError(f"boards and scores must be non-empty and of equal length, got {len(boards)} and {len(scores)}")
    check_integer("epochs", epochs, 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = HalfKPNet(hidden)
    own, other = zip(*(_halves(b) for b in boards))
    target = torch.tensor(scores, dtype=torch.float32)
    king_relative = [net.first.weight, net.shared.weight]
    others = [p for p in net.parameters() if all(p is not q for q in king_relative)]
    optimizer = torch.optim.Adam([{"params": others}, {"params": king_relative, "weight_decay": weight_decay}], lr=lr)
    for _ in range(epochs):
        loss = ((net(own, other) - target) / 100.0).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return net.eval()


class NNUE:
    """A trained `HalfKPNet` as the engine's evaluation, with its accumulator updated on make and unmake.

    Chapter 4, Sec. 'Networks for chess'. ``reset(board)`` computes both halves from scratch;
    ``push(board, move)`` (before `move` is made on `board`) updates them by the weight columns of the features the move
    removes and adds, recomputing a half only when its own king moves; ``pop()`` restores the previous
    accumulators. Calling the object on a board returns its score in centipawns for the side to move, from
    the current accumulators. `columns` counts the weight columns added or subtracted so far.
    """

    def __init__(self, net: HalfKPNet) -> None:
        if not isinstance(net, HalfKPNet):
            raise ValueError(f"net must be a HalfKPNet, got {type(net).__name__}")
        self.net = net
        self.weights = net.columns()
        self.bias = net.bias.detach().numpy().astype(np.float64)
        self.columns = 0
        self.stack: list[dict[chess.Color, np.ndarray]] = []
        self.acc: dict[chess.Color, np.ndarray] = {}

    def refresh(self, board: chess.Board, perspective: chess.Color) -> np.ndarray:
        """One half's accumulator recomputed from its active features: bias plus one column per feature."""
        acc = self.bias.copy()
        for i in halfkp_features(board, perspective):
            acc += self.weights[i]
            self.columns += 1
        return acc

    def reset(self, board: chess.Board) -> None:
        """Compute both halves of `board` from scratch and forget the move stack."""
        self.stack.clear()
        self.acc = {color: self.refresh(board, color) for color in chess.COLORS}

    def push(self, board: chess.Board, move: chess.Move) -> None:
        """Update the accumulators for `move`, about to be made on `board` (a null move changes nothing)."""
        self.stack.append(self.acc)
        if move == chess.Move.null():
            return
        mover = board.turn
        king_move = board.piece_type_at(move.from_square) == chess.KING
        before = {color: set(halfkp_features(board, color)) for color in chess.COLORS if not (king_move and color == mover)}
        board.push(move)
        try:
            new = {}
            for color in chess.COLORS:
                if color in before:
                    after = set(halfkp_features(board, color))
                    acc = self.acc[color].copy()
                    for i in before[color] - after:
                        acc -= self.weights[i]
                        self.columns += 1
                    for i in after - before[color]:
                        acc += self.weights[i]
                        self.columns += 1
                    new[color] = acc
                else:
                    new[color] = self.refresh(board, color)
        finally:
            board.pop()
        self.acc = new

    def pop(self) -> None:
        """Restore the accumulators from before the last `push`."""
        self.acc = self.stack.pop()

    def __call__(self, board: chess.Board) -> int:
        """The score of the current accumulators in centipawns for `board`'s side to move."""
        with torch.no_grad():
            own = torch.tensor(self.acc[board.turn], dtype=torch.float32).unsqueeze(0)
            other = torch.tensor(self.acc[not board.turn], dtype=torch.float32).unsqueeze(0)
            return int(round(float(self.net.head(own, other)[0])))


@dataclass(frozen=True)
class UpdateCosts:
    """The accumulator's work along random games (Chapter 4, Sec. 'Networks for chess').

    Attributes:
        moves: each move with (a copy of) the position it was made in.
        incremental: weight columns the incremental update added or subtracted, per move.
        recomputed: weight columns a recomputation of both halves after the move added, per move.
        seconds_incremental, seconds_recomputed: wall-clock time of all the updates and all the recomputations.
    """

    moves: tuple[tuple[chess.Board, chess.Move], ...]
    incremental: tuple[int, ...]
    recomputed: tuple[int, ...]
    seconds_incremental: float
    seconds_recomputed: float


def update_costs(net: HalfKPNet, *, games: int = 20, plies: int = 30, seed: int = 0) -> UpdateCosts:
    """Follow `games` games of `plies` uniformly random moves with an `NNUE` of `net`, counting and timing its work.

    Chapter 4, Sec. 'Networks for chess'. At every move the accumulator is updated incrementally (`NNUE.push`)
    and, separately, a fresh `NNUE` recomputes both halves of the new position (`NNUE.reset`); both are
    measured by the columns they actually add and subtract and by the time they take.

    Raises:
        ValueError: if `games` or `plies` is not a positive integer.
    """
    check_integer("games", games, 1)
    check_integer("plies", plies, 1)
    rng, nnue = random.Random(seed), NNUE(net)
    moves, incremental, recomputed, seconds = [], [], [], [0.0, 0.0]
    for _ in range(games):
        board = chess.Board()
        nnue.reset(board)
        for _ in range(plies):
            legal = list(board.legal_moves)
            if not legal:
                break
            move = rng.choice(legal)
            moves.append((board.copy(), move))
            before, start = nnue.columns, time.perf_counter()
            nnue.push(board, move)
            seconds[0] += time.perf_counter() - start
            incremental.append(nnue.columns - before)
            board.push(move)
            fresh, start = NNUE(net), time.perf_counter()
            fresh.reset(board)
            seconds[1] += time.perf_counter() - start
            recomputed.append(fresh.columns)
    return UpdateCosts(tuple(moves), tuple(incremental), tuple(recomputed), seconds[0], seconds[1])
