"""A small chess engine: iterative deepening alpha-beta with the classical refinements.

Chapter 4, Sec. 'An engine you can play'. The rules come from python-chess; everything that
makes a search an engine is here, each part behind a switch so that Chapter 4 can measure what
it buys (Sec. 'What each part buys', eq. (eq-node-ratio)):

- negamax alpha-beta (Knuth & Moore 1975), Sec. 'Alpha-beta', eq. (eq-alpha-beta);
- iterative deepening: search depth 1, 2, 3, ... and keep the last finished answer, so any
  time or node budget can stop the search;
- a transposition table keyed by Zobrist (1970) hashes, updated incrementally move by move,
  storing depth, value, bound type (exact, lower, upper) and best move,
  Sec. 'Transposition tables', eq. (eq-zobrist);
- move ordering: the table's move first, then captures by most valuable victim / least
  valuable attacker (MVV-LVA), then killer moves and the history heuristic, Sec. 'Move ordering';
- quiescence search: at the horizon, captures are played out until the position is quiet, and a
  position in check is searched with all its evasions (never scored statically, so checkmate on
  the horizon is seen), Sec. 'Quiescence';
- the search techniques every engine uses, Sec. 'Search techniques every engine uses': principal
  variation search, aspiration windows, null-move pruning, late-move reductions, check
  extensions, static exchange evaluation (`static_exchange`), killer and history ordering
  (Schaeffer 1989);
- evaluation by material and piece-square tables, updated incrementally (the idea as described by
  Klein 2022; the numbers here are this book's own, made from simple rules: centralise knights and
  bishops, advance pawns, rooks to the seventh), plus a structure term computed where the search
  stops: passed, doubled and isolated pawns and the king's square and pawn shelter, mixed between
  middlegame and endgame values by the game phase, the bishop pair and rooks on open files,
  Sec. 'Evaluation', eqs. (eq-pst) and (eq-eval); or any evaluation passed as `Engine(evaluate=...)`.

Scores are centipawns for the side to move. A mate found at ply p scores MATE - p (so shorter
mates score higher); `EngineResult.mate` turns it into moves. A position that repeats one of
the game or of the search scores 0, as does one after 100 plies without capture or pawn move
unless it is checkmate.

Deliberate simplifications, to keep it readable in one sitting: no mobility or attack terms in the
evaluation, fixed reductions (R = 2 for the null move, one ply for late moves), and no pruning by
futility or move count.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import chess
import chess.polyglot

from dltheory.checks import check_integer

MATE = 100_000
"""The score of checkmating at the root; a mate p plies away scores MATE - p."""

_MATE_BOUND = MATE - 1_000
_INF = MATE + 1
_MAX_PLY = 128
_EXACT, _LOWER, _UPPER = 0, 1, 2

# ------------------------------------------------------------------------------------------
# Evaluation (Sec. 'Evaluation', eqs. (eq-pst) and (eq-eval))
#
# Two parts. The piece-square part E_pst (eq. (eq-pst)) is a sum over pieces, updated move by move
# by `move_delta`. The structure part E_str reads the board as a whole (pawn structure, bishop pair,
# rooks on open files, the king's place and shelter) and is computed where the search stops.

PIECE_VALUES = {chess.PAWN: 100, chess.KNIGHT: 310, chess.BISHOP: 330, chess.ROOK: 510, chess.QUEEN: 920, chess.KING: 0}
"""Material in centipawns for pawn, knight, bishop, rook and queen, near the ratios 1, 3, 3, 5, 9 of Shannon (1950)."""


def _square_bonus(piece: chess.PieceType, square: chess.Square) -> int:
    """Our piece-square rule for a White piece: small bonuses for good squares, in centipawns.

    The king has none here: its place depends on the phase of the game, in `structure`.
    """
    f, r = chess.square_file(square), chess.square_rank(square)
    rim = max(abs(2 * f - 7), abs(2 * r - 7)) // 2  # 0 on d4/e4/d5/e5, 3 on the edge
    central_file = f in (3, 4)
    if piece == chess.PAWN:
        return (0, 0, 3, 8, 18, 32, 56, 0)[r] + 10 * (central_file and r in (3, 4)) - 12 * (central_file and r == 1)
    if piece == chess.KNIGHT:
        return 12 - 9 * rim
    if piece == chess.BISHOP:
        return 8 - 5 * rim
    if piece == chess.ROOK:
        return 18 * (r == 6) + 6 * central_file
    if piece == chess.QUEEN:
        return 4 - 3 * rim
    return 0


# _TABLE[color][piece][square]: material + square bonus for a piece of that color.
_TABLE = [[(0,) * 64] * 7 for _ in (chess.BLACK, chess.WHITE)]
for _piece in chess.PIECE_TYPES:
    _white = tuple(PIECE_VALUES[_piece] + _square_bonus(_piece, sq) for sq in chess.SQUARES)
    _TABLE[chess.WHITE][_piece] = _white
    _TABLE[chess.BLACK][_piece] = tuple(_white[chess.square_mirror(sq)] for sq in chess.SQUARES)


def piece_square(board: chess.Board) -> int:
    """Material plus piece-square score E_pst in centipawns for the side to move (eq. (eq-pst)).

    Chapter 4, Sec. 'Evaluation'. Sum over the pieces of (value + square bonus), the side to
    move's minus the opponent's; the part of `evaluate` that `move_delta` updates move by move.
    """
    score = 0
    for color, sign in ((chess.WHITE, 1), (chess.BLACK, -1)):
        own = board.occupied_co[color]
        table = _TABLE[color]
        for piece, bb in (
            (chess.PAWN, board.pawns),
            (chess.KNIGHT, board.knights),
            (chess.BISHOP, board.bishops),
            (chess.ROOK, board.rooks),
            (chess.QUEEN, board.queens),
        ):
            row = table[piece]
            for sq in chess.scan_forward(bb & own):
                score += sign * row[sq]
    return score if board.turn == chess.WHITE else -score


PHASE_MAX = 24
"""The largest game phase phi, which counts 1 per knight or bishop, 2 per rook and 4 per queen on the board (24 at the start)."""

PASSED_PAWN = (0, 5, 8, 14, 24, 40, 64, 0)
"""Middlegame bonus of a passed pawn by its rank counted from its own side (0-7); twice as much in the endgame."""

DOUBLED_PAWN, ISOLATED_PAWN = 12, 10
"""Penalties for each pawn beyond the first on a file, and for a pawn with no own pawn on the files beside it."""

BISHOP_PAIR = 30
"""Bonus for having two bishops or more."""

ROOK_OPEN_FILE, ROOK_HALF_OPEN_FILE = 20, 10
"""Bonuses for a rook on a file without pawns, and on one without own pawns."""

KING_SHELTER = 10
"""Middlegame penalty for each of the three files around a king on its first two ranks without an own pawn in front."""


def _front_span(color: chess.Color, square: chess.Square) -> chess.Bitboard:
    """The squares ahead of `square` (for `color`) on its file and the two beside it."""
    f, r = chess.square_file(square), chess.square_rank(square)
    files = chess.BB_FILES[f] | (chess.BB_FILES[f - 1] if f > 0 else 0) | (chess.BB_FILES[f + 1] if f < 7 else 0)
    ahead = (chess.BB_ALL << (8 * (r + 1))) & chess.BB_ALL if color == chess.WHITE else (1 << (8 * r)) - 1
    return files & ahead


_FRONT_SPAN = [[_front_span(c, sq) for sq in chess.SQUARES] for c in (chess.BLACK, chess.WHITE)]
_BESIDE = [(chess.BB_FILES[f - 1] if f > 0 else 0) | (chess.BB_FILES[f + 1] if f < 7 else 0) for f in range(8)]
_SHIELD = [
    [_front_span(c, sq) & (chess.BB_RANK_2 | chess.BB_RANK_3 if c == chess.WHITE else chess.BB_RANK_7 | chess.BB_RANK_6)
     for sq in chess.SQUARES]
    for c in (chess.BLACK, chess.WHITE)
]


def _king_middlegame(square: chess.Square) -> int:
    """A White king's middlegame square bonus: stay home, preferably castled."""
    return (8, 16, 4, -6, -6, 0, 18, 10)[chess.square_file(square)] - 15 * chess.square_rank(square)


def _king_endgame(square: chess.Square) -> int:
    """A king's endgame square bonus: come to the centre."""
    f, r = chess.square_file(square), chess.square_rank(square)
    return 24 - 12 * (max(abs(2 * f - 7), abs(2 * r - 7)) // 2)


_KING_MG = [[_king_middlegame(chess.square_mirror(sq) if c == chess.BLACK else sq) for sq in chess.SQUARES]
            for c in (chess.BLACK, chess.WHITE)]
_KING_EG = [_king_endgame(sq) for sq in chess.SQUARES]

_pawn_cache: dict[tuple[int, int], tuple[int, int]] = {}


def _pawn_structure(white: chess.Bitboard, black: chess.Bitboard) -> tuple[int, int]:
    """(middlegame, endgame) pawn-structure score for White, from the two sides' pawns; cached."""
    cached = _pawn_cache.get((white, black))
    if cached is not None:
        return cached
    mg = eg = 0
    for color, own, opp, sign in ((chess.WHITE, white, black, 1), (chess.BLACK, black, white, -1)):
        span = _FRONT_SPAN[color]
        for sq in chess.scan_forward(own):
            f = sq & 7
            if not own & _BESIDE[f]:
                mg -= sign * ISOLATED_PAWN
                eg -= sign * ISOLATED_PAWN
            if not opp & span[sq] and not own & span[sq] & chess.BB_FILES[f]:
                bonus = PASSED_PAWN[sq >> 3 if color == chess.WHITE else 7 - (sq >> 3)]
                mg += sign * bonus
                eg += sign * 2 * bonus
        for file in chess.BB_FILES:
            extra = chess.popcount(own & file) - 1
            if extra > 0:
                mg -= sign * DOUBLED_PAWN * extra
                eg -= sign * DOUBLED_PAWN * extra
    if len(_pawn_cache) > 200_000:
        _pawn_cache.clear()
    _pawn_cache[(white, black)] = (mg, eg)
    return mg, eg


def structure(board: chess.Board) -> int:
    """The structure part E_str of the evaluation in centipawns for the side to move (eq. (eq-eval)).

    Chapter 4, Sec. 'Evaluation'. Middlegame and endgame scores mixed by the game phase phi,
    ``(phi * mg + (PHASE_MAX - phi) * eg) / PHASE_MAX`` (rounded toward zero), where both count
    passed, doubled and isolated pawns and the king's square (home in the middlegame, centre in the
    endgame), and the middlegame score also the king's pawn shelter; plus, in every phase, the
    bishop pair and rooks on open and half-open files. Colour-symmetric, as `piece_square` is.
    """
    pawns, white, black = board.pawns, board.occupied_co[chess.WHITE], board.occupied_co[chess.BLACK]
    mg, eg = _pawn_structure(pawns & white, pawns & black)
    phase = min(
        chess.popcount(board.knights | board.bishops) + 2 * chess.popcount(board.rooks) + 4 * chess.popcount(board.queens),
        PHASE_MAX,
    )
    flat = 0
    for color, own, sign in ((chess.WHITE, white, 1), (chess.BLACK, black, -1)):
        king = chess.msb(board.kings & own)
        mg += sign * _KING_MG[color][king]
        eg += sign * _KING_EG[king]
        if (chess.square_rank(king) < 2) if color == chess.WHITE else (chess.square_rank(king) > 5):
            shield = _SHIELD[color][king] & pawns & own
            for file in range(max(king % 8 - 1, 0), min(king % 8 + 2, 8)):
                if not shield & chess.BB_FILES[file]:
                    mg -= sign * KING_SHELTER
        if chess.popcount(board.bishops & own) >= 2:
            flat += sign * BISHOP_PAIR
        for sq in chess.scan_forward(board.rooks & own):
            file = chess.BB_FILES[sq & 7]
            if not pawns & file:
                flat += sign * ROOK_OPEN_FILE
            elif not pawns & own & file:
                flat += sign * ROOK_HALF_OPEN_FILE
    mixed = phase * mg + (PHASE_MAX - phase) * eg
    score = flat + (mixed // PHASE_MAX if mixed >= 0 else -(-mixed // PHASE_MAX))
    return score if board.turn == chess.WHITE else -score


def evaluate(board: chess.Board) -> int:
    """The engine's static evaluation E = E_pst + E_str in centipawns for the side to move (eq. (eq-eval)).

    Chapter 4, Sec. 'Evaluation': `piece_square` (material and piece-square bonuses, eq. (eq-pst))
    plus `structure` (pawn structure, king, bishop pair, rooks). Knows nothing of mate or
    stalemate: the search finds those.
    """
    return piece_square(board) + structure(board)


def move_delta(board: chess.Board, move: chess.Move) -> int:
    """How much `move` raises `evaluate` for the side making it (incremental evaluation).

    Chapter 4, Sec. 'Evaluation': piece_square(after) = -(piece_square(before) + move_delta(before, move)),
    so the search updates that part of the score move by move instead of recounting the board.
    Call it before pushing `move`.
    """
    us, them = board.turn, not board.turn
    frm, to = move.from_square, move.to_square
    piece = board.piece_type_at(frm)
    ours = _TABLE[us]
    delta = ours[move.promotion or piece][to] - ours[piece][frm]
    captured = board.piece_type_at(to)
    if captured:
        delta += _TABLE[them][captured][to]
    elif piece == chess.PAWN and to == board.ep_square:
        delta += _TABLE[them][chess.PAWN][to - 8 if us == chess.WHITE else to + 8]
    if piece == chess.KING and abs(to - frm) == 2:  # castling also moves the rook
        rook_from, rook_to = (frm + 3, frm + 1) if to > frm else (frm - 4, frm - 1)
        delta += ours[chess.ROOK][rook_to] - ours[chess.ROOK][rook_from]
    return delta


# ------------------------------------------------------------------------------------------
# Zobrist keys (Sec. 'Transposition tables', eq. (eq-zobrist))

_Z = chess.polyglot.POLYGLOT_RANDOM_ARRAY
_Z_TURN = _Z[780]
_Z_CASTLE = ((chess.BB_H1, _Z[768]), (chess.BB_A1, _Z[769]), (chess.BB_H8, _Z[770]), (chess.BB_A8, _Z[771]))


def _z_piece(piece: chess.PieceType, color: chess.Color, square: chess.Square) -> int:
    return _Z[64 * (2 * (piece - 1) + color) + square]


def _z_castling(rights: chess.Bitboard) -> int:
    key = 0
    for bb, z in _Z_CASTLE:
        if rights & bb:
            key ^= z
    return key


def _z_ep(board: chess.Board, ep_square: chess.Square | None, mover: chess.Color) -> int:
    """The en-passant part: only when a pawn of the side to move could capture (the Polyglot rule)."""
    if ep_square is None:
        return 0
    if chess.BB_PAWN_ATTACKS[not mover][ep_square] & board.pawns & board.occupied_co[mover]:
        return _Z[772 + chess.square_file(ep_square)]
    return 0


def zobrist_after(board: chess.Board, move: chess.Move, key: int) -> int:
    """The Zobrist key of the position after `move`, from the key `key` of the current position.

    Chapter 4, Sec. 'Transposition tables', eq. (eq-zobrist) (Zobrist 1970): a position's key is
    the XOR of one random 64-bit number per (piece, square), castling right, en-passant file
    and side to move, so a move changes it by XOR-ing out what left and in what arrived. Uses
    the Polyglot numbers, so the result equals `chess.polyglot.zobrist_hash` of the new
    position (standard chess, not Chess960). Call it before pushing `move`.
    """
    us, them = board.turn, not board.turn
    frm, to = move.from_square, move.to_square
    piece = board.piece_type_at(frm)
    key ^= _Z_TURN ^ _z_piece(piece, us, frm) ^ _z_piece(move.promotion or piece, us, to)
    captured = board.piece_type_at(to)
    if captured:
        key ^= _z_piece(captured, them, to)
    elif piece == chess.PAWN and to == board.ep_square:
        key ^= _z_piece(chess.PAWN, them, to - 8 if us == chess.WHITE else to + 8)
    if piece == chess.KING and abs(to - frm) == 2:
        rook_from, rook_to = (frm + 3, frm + 1) if to > frm else (frm - 4, frm - 1)
        key ^= _z_piece(chess.ROOK, us, rook_from) ^ _z_piece(chess.ROOK, us, rook_to)
    rights = board.clean_castling_rights() if board.castling_rights else 0
    if rights:
        after = rights & ~chess.BB_SQUARES[frm] & ~chess.BB_SQUARES[to]
        if piece == chess.KING:
            after &= ~(chess.BB_RANK_1 if us == chess.WHITE else chess.BB_RANK_8)
        if after != rights:
            key ^= _z_castling(rights) ^ _z_castling(after)
    key ^= _z_ep(board, board.ep_square, us)
    if piece == chess.PAWN and abs(to - frm) == 16:
        key ^= _z_ep(board, (frm + to) // 2, them)
    return key


# ------------------------------------------------------------------------------------------
# Search


@dataclass(frozen=True)
class EngineResult:
    """What the engine found after its last completed iteration (Chapter 4, Sec. 'An engine you can play').

    Attributes:
        move: the best move, or None when the side to move has no legal move.
        score: centipawns for the side to move; MATE - p for mating in p plies, -(MATE - p) for being mated.
        depth: the deepest completed iteration (0 when the game is already over).
        nodes: positions visited by the whole search, all iterations and quiescence included.
        pv: the principal variation, starting with `move` (may be cut short by a table hit).
        seconds: wall-clock time of the search.
    """

    move: chess.Move | None
    score: int
    depth: int
    nodes: int
    pv: tuple[chess.Move, ...]
    seconds: float

    @property
    def mate(self) -> int | None:
        """Moves to mate, positive when the side to move mates and negative when it is mated; None without a mate."""
        if self.score > _MATE_BOUND:
            return (MATE - self.score + 1) // 2
        if self.score < -_MATE_BOUND:
            return -((MATE + self.score) // 2)
        return None

    @property
    def nps(self) -> float:
        """Nodes per second."""
        return self.nodes / max(self.seconds, 1e-9)


def effective_branching_factor(iteration_nodes: Sequence[int]) -> float:
    """The effective branching factor ``(N(k) / N(1)) ** (1 / (k - 1))`` of iterations 1..k of iterative deepening.

    Chapter 4, Sec. 'Search techniques every engine uses', eq. (eq-id-overhead): the mean growth per
    ply of the node counts ``N(1), ..., N(k)`` of successive iterations (the geometric mean of the
    ratios ``N(j) / N(j - 1)``, so the alternation between odd and even depths averages out over
    whole pairs of plies).

    Raises:
        ValueError: if fewer than two counts are given or a count is not a positive integer.
    """
    counts = list(iteration_nodes)
    if len(counts) < 2:
        raise ValueError(f"iteration_nodes must hold at least two counts, got {counts!r}")
    for n in counts:
        check_integer("iteration_nodes", n, 1)
    return (counts[-1] / counts[0]) ** (1 / (len(counts) - 1))


def iteration_overhead(branching: float, depth: int) -> float:
    """Nodes of iterations 1..d together over the last one's, ``sum_{j=0}^{d-1} b**(-j)``, when N(k) grows as b^k.

    Chapter 4, Sec. 'Search techniques every engine uses', eq. (eq-id-overhead) (derived here, for the
    iterative deepening of Slate & Atkin 1977): if each iteration visits `branching` times the nodes of the
    one before, the shallower iterations add a geometric series to the last one, and the ratio tends
    to ``b / (b - 1)`` as the depth grows.

    Raises:
        ValueError: if `branching` is not a number > 1 or `depth` not an integer >= 1.
    """
    if not isinstance(branching, (int, float)) or not branching > 1:
        raise ValueError(f"branching must be a number > 1, got {branching!r}")
    d = check_integer("depth", depth, 1)
    return sum(branching ** -j for j in range(d))


class _Stop(Exception):
    """Raised inside the search when the budget is spent."""


SWITCHES = (
    "tt",
    "ordering",
    "history",
    "quiescence",
    "see",
    "iterative",
    "aspiration",
    "pvs",
    "null_move",
    "lmr",
    "check_extension",
)
"""The names of the engine's switches, the keyword arguments of `Engine` that turn one technique on or off.

``Engine(**{s: False for s in SWITCHES})`` is plain fixed-depth alpha-beta; ``Engine()`` has all on.
"""

ASPIRATION_WINDOW = 50
"""Half-width in centipawns of the aspiration window around the previous iteration's score."""

NULL_MOVE_REDUCTION = 2
"""The reduction R, so that the null-move search is R plies shallower than the depth it replaces, besides the null move itself."""

LMR_FIRST = 3
"""Late-move reductions apply from the (LMR_FIRST + 1)-th move of a node on (the first LMR_FIRST are searched fully)."""

_SEE_VALUES = {**PIECE_VALUES, chess.KING: 20_000}


def _attackers(board: chess.Board, square: chess.Square, occupied: chess.Bitboard) -> chess.Bitboard:
    """Pieces of both colours attacking `square` when the occupied squares are `occupied` (x-rays included)."""
    diagonal = chess.BB_DIAG_ATTACKS[square][chess.BB_DIAG_MASKS[square] & occupied]
    straight = (
        chess.BB_RANK_ATTACKS[square][chess.BB_RANK_MASKS[square] & occupied]
        | chess.BB_FILE_ATTACKS[square][chess.BB_FILE_MASKS[square] & occupied]
    )
    queens = board.queens
    attackers = (
        (chess.BB_KNIGHT_ATTACKS[square] & board.knights)
        | (chess.BB_KING_ATTACKS[square] & board.kings)
        | (chess.BB_PAWN_ATTACKS[chess.WHITE][square] & board.pawns & board.occupied_co[chess.BLACK])
        | (chess.BB_PAWN_ATTACKS[chess.BLACK][square] & board.pawns & board.occupied_co[chess.WHITE])
        | (diagonal & (board.bishops | queens))
        | (straight & (board.rooks | queens))
    )
    return attackers & occupied


def static_exchange(board: chess.Board, move: chess.Move) -> int:
    """The static exchange evaluation (SEE) of the capture `move`, in centipawns for the side making it.

    Chapter 4, Sec. 'Search techniques every engine uses'. After `move`, the two sides take turns
    recapturing on its target square, each with its least valuable attacker (pieces uncovered
    behind the capturers, x-rays, join in), and each may stop instead of recapturing; the value is
    the material balance of that exchange under best play by both, computed backwards from the
    last capture: ``gain[k] = value(piece taken at step k) - gain[k+1]`` clipped below at 0 for the
    side that may stop. Pins and checks are ignored (as in every SEE); a king never captures onto
    a square the other side still attacks. A promotion counts as a pawn; an en-passant capture takes
    a pawn. Only the squares of `board` are read: call it before pushing `move`.

    Raises:
        ValueError: if `move` is not a capture in `board`.
    """
    if not board.is_capture(move):
        raise ValueError(f"move must be a capture in this position, got {move.uci()!r} in {board.fen()!r}")
    to, frm = move.to_square, move.from_square
    occupied = board.occupied & ~chess.BB_SQUARES[frm]
    if board.is_en_passant(move):
        victim = chess.PAWN
        occupied &= ~chess.BB_SQUARES[to - 8 if board.turn == chess.WHITE else to + 8]
    else:
        victim = board.piece_type_at(to)
    gains = [_SEE_VALUES[victim]]
    on_square = board.piece_type_at(frm)
    side = not board.turn
    while True:
        attackers = _attackers(board, to, occupied) & board.occupied_co[side]
        if not attackers:
            break
        piece, square = min(
            ((board.piece_type_at(sq), sq) for sq in chess.scan_forward(attackers)), key=lambda p: _SEE_VALUES[p[0]]
        )
        if piece == chess.KING and _attackers(board, to, occupied & ~chess.BB_SQUARES[square]) & board.occupied_co[not side]:
            break  # the king may not capture into an attack
        gains.append(_SEE_VALUES[on_square] - gains[-1])
        on_square, occupied, side = piece, occupied & ~chess.BB_SQUARES[square], not side
    for k in range(len(gains) - 1, 0, -1):
        gains[k - 1] = -max(-gains[k - 1], gains[k])
    return gains[0]


def _loses_material(board: chess.Board, move: chess.Move) -> bool:
    """Whether the capture `move` has a negative static exchange (taking a piece worth at least the taker never does)."""
    attacker = board.piece_type_at(move.from_square)
    victim = board.piece_type_at(move.to_square) or chess.PAWN  # en passant takes a pawn
    if attacker == chess.KING or _SEE_VALUES[victim] >= _SEE_VALUES[attacker]:
        return False
    return static_exchange(board, move) < 0


def zobrist_null(board: chess.Board, key: int) -> int:
    """The Zobrist key after a null move (the side to move passes) from the key `key` of `board`.

    Chapter 4, Sec. 'Search techniques every engine uses' (null-move pruning), eq. (eq-zobrist):
    the side to move changes and any en-passant right lapses; nothing else does. Equals
    `chess.polyglot.zobrist_hash` after ``board.push(chess.Move.null())``.
    """
    return key ^ _Z_TURN ^ _z_ep(board, board.ep_square, board.turn)


class Engine:
    """An iterative-deepening alpha-beta chess engine (Chapter 4, Secs. 'An engine you can play' and
    'Search techniques every engine uses').

    The transposition table persists between calls of `search` (as it does across the moves of
    a game); `clear` empties it. Every technique is a switch (their names are `SWITCHES`), all on
    by default; with all off the engine is plain fixed-depth alpha-beta (eq. (eq-alpha-beta)).
    Checkmate is recognised at the horizon whatever the switches: a position in check is never
    scored by its static evaluation, so a mate in k moves is found by a search of 2k - 1 plies.

    Args:
        tt: use the transposition table (cutoffs from stored bounds; Zobrist 1970).
        ordering: order moves: table move first, then captures by MVV-LVA (most valuable victim,
            least valuable attacker). Without it moves are searched in python-chess's order.
        history: with `ordering`, order quiet moves by killer moves and the history heuristic
            (Schaeffer 1989).
        quiescence: extend the horizon with captures (and, in check, all evasions) instead of
            evaluating noisy positions.
        see: order captures that lose material by static exchange (`static_exchange`) after the
            quiet killer moves, and skip them in quiescence.
        iterative: search depths 1, 2, ..., depth (Slate & Atkin 1977); without it only the final
            depth is searched (then a time or stop budget may end with no answer beyond the first
            legal move).
        aspiration: search each iteration from depth 4 on with the window of half-width
            `ASPIRATION_WINDOW` around the previous score, widened to infinity on the side that fails.
        pvs: principal variation search: every move after the first is searched with the null
            window (alpha, alpha + 1) and searched again with the full window only if it beats alpha.
        null_move: null-move pruning: where the static score already reaches beta and the side to
            move has a piece besides pawns and is not in check, let it pass; if a search
            `NULL_MOVE_REDUCTION` plies shallower still reaches beta, cut off.
        lmr: late-move reductions: quiet moves that give no check, after the first `LMR_FIRST`,
            at depth >= 3 and not in check, are searched one ply shallower with a null window, and
            again at full depth if they beat alpha.
        check_extension: search one ply deeper from a position in check (up to twice the depth
            of the iteration in plies from the root).
        tt_entries: the table is emptied when it grows beyond this many entries.
        evaluate: the static evaluation, a callable ``evaluate(board) -> int`` giving centipawns
            for the side to move of a `chess.Board` (its move stack included), called wherever the
            search stops (stand pat in quiescence, the horizon without it, the null-move test).
            None (the default) uses this module's `evaluate` (eq. (eq-eval)), its piece-square part
            updated incrementally by `move_delta`. An evaluation that keeps its own incremental state (an NNUE
            accumulator, Sec. 'Networks for chess') may also define the methods ``reset(board)``,
            called once at the start of each search with (a copy of) the root position;
            ``push(board, move)``, called just before the search makes `move` on `board` (`move`
            may be ``chess.Move.null()``, a pass, for null-move pruning); and ``pop()``, called
            just after it unmakes that move. Any of the three may be left out.

    Example:
        >>> r = Engine().search(chess.Board(), depth=3)
        >>> r.depth, r.move in chess.Board().legal_moves
        (3, True)
    """

    def __init__(
        self,
        *,
        tt: bool = True,
        ordering: bool = True,
        history: bool = True,
        quiescence: bool = True,
        see: bool = True,
        iterative: bool = True,
        aspiration: bool = True,
        pvs: bool = True,
        null_move: bool = True,
        lmr: bool = True,
        check_extension: bool = True,
        tt_entries: int = 2_000_000,
        evaluate: Callable[[chess.Board], int] | None = None,
    ) -> None:
        check_integer("tt_entries", tt_entries, 1)
        if evaluate is not None and not callable(evaluate):
            raise ValueError(f"evaluate must be a callable board -> centipawns or None, got {evaluate!r}")
        switches = dict(
            tt=tt, ordering=ordering, history=history, quiescence=quiescence, see=see, iterative=iterative,
            aspiration=aspiration, pvs=pvs, null_move=null_move, lmr=lmr, check_extension=check_extension,
        )
        for name, value in switches.items():
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be True or False, got {value!r}")
        self.switches = switches
        self.use_tt, self.use_ordering, self.use_quiescence, self.iterative = tt, ordering, quiescence, iterative
        self.use_history, self.use_see, self.use_aspiration, self.use_pvs = ordering and history, see, aspiration, pvs
        self.use_null_move, self.use_lmr, self.use_check_extension = null_move, lmr, check_extension
        self.tt_entries = tt_entries
        self.evaluate = evaluate
        self.table: dict[int, tuple[int, int, int, chess.Move | None]] = {}

    def __repr__(self) -> str:
        off = [name for name, on in self.switches.items() if not on]
        return f"Engine({', '.join(f'{name}=False' for name in off)})"

    def clear(self) -> None:
        """Forget the transposition table (a new game)."""
        self.table.clear()

    def search(
        self,
        board: chess.Board,
        *,
        depth: int | None = None,
        movetime: float | None = None,
        nodes: int | None = None,
        stop: threading.Event | None = None,
        on_iteration: Callable[[EngineResult], None] | None = None,
    ) -> EngineResult:
        """Search `board` until the depth, time or node budget is spent or `stop` is set.

        With a time budget the engine does not start an iteration that it does not expect to
        finish: the next iteration is predicted to take the last one's time multiplied by the
        last ratio of node counts between iterations (the effective branching factor, at least 2),
        and the search returns when that would pass `movetime`.

        Args:
            board: the position (with its move stack, for repetitions); it is left as it was.
            depth: the last iteration's depth in plies, >= 1 (at most 100).
            movetime: seconds to think; the search returns a few milliseconds after at most.
            nodes: stop after about this many nodes.
            stop: an event that ends the search when set (from another thread).
            on_iteration: called with the result of each completed iteration (for UCI `info`).

        Returns:
            The result of the last completed iteration.

        Raises:
            ValueError: if a budget is not positive, none of depth, movetime, nodes, stop is
                given, or `board` is a Chess960 board.
        """
        if depth is not None:
            check_integer("depth", depth, 1)
        if movetime is not None and not movetime > 0:
            raise ValueError(f"movetime must be a positive number of seconds, got {movetime!r}")
        if nodes is not None:
            check_integer("nodes", nodes, 1)
        if depth is None and movetime is None and nodes is None and stop is None:
            raise ValueError("give at least one of depth, movetime, nodes or stop")
        if board.chess960:
            raise ValueError("board must be a standard chess board; Chess960 is not supported")
        run = _Search(self, board.copy(), movetime, nodes, stop)
        return run.iterate(min(depth or 100, 100), on_iteration)


class _Search:
    """One call of `Engine.search`: the board, the counters, the budget, the killer moves."""

    def __init__(
        self,
        engine: Engine,
        board: chess.Board,
        movetime: float | None,
        max_nodes: int | None,
        stop: threading.Event | None,
    ) -> None:
        self.engine, self.board = engine, board
        self.table = engine.table
        self.evaluator = engine.evaluate
        self.on_push = getattr(engine.evaluate, "push", None)
        self.on_pop = getattr(engine.evaluate, "pop", None)
        reset = getattr(engine.evaluate, "reset", None)
        if reset is not None:
            reset(board.copy())
        self.start = time.perf_counter()
        self.deadline = self.start + movetime if movetime is not None else None
        self.max_nodes = max_nodes if max_nodes is not None else 1 << 62
        self.stop = stop
        self.nodes = 0
        self.root_depth = 1
        self.killers: list[list[chess.Move | None]] = [[None, None] for _ in range(_MAX_PLY + 1)]
        self.history = [0] * (2 * 64 * 64)
        self.pv: list[list[chess.Move]] = [[] for _ in range(_MAX_PLY + 2)]
        # Keys of every position of the game so far, for repetition draws.
        replay = board.root()
        self.keys = [chess.polyglot.zobrist_hash(replay)]
        for move in board.move_stack:
            self.keys.append(zobrist_after(replay, move, self.keys[-1]))
            replay.push(move)

    # -- budget --------------------------------------------------------------------------------

    def check(self) -> None:
        if self.nodes >= self.max_nodes:
            raise _Stop
        if self.nodes & 63 == 0:
            if self.stop is not None and self.stop.is_set():
                raise _Stop
            if self.deadline is not None and time.perf_counter() >= self.deadline:
                raise _Stop

    # -- evaluation and make / unmake --------------------------------------------------------

    def child_score(self, move: chess.Move, score: int) -> int:
        """The incremental piece-square score after `move` for the side then to move (0 with an evaluate callable)."""
        if self.evaluator is not None:
            return 0
        return -(score + move_delta(self.board, move))

    def static(self, score: int) -> int:
        """The static evaluation of the current position: the incremental piece-square score `score`
        plus `structure` (eq. (eq-eval)), or the callable's value."""
        if self.evaluator is None:
            return score + structure(self.board)
        return int(self.evaluator(self.board))

    def push(self, move: chess.Move) -> None:
        if self.on_push is not None:
            self.on_push(self.board, move)
        self.board.push(move)

    def pop(self) -> None:
        self.board.pop()
        if self.on_pop is not None:
            self.on_pop()

    # -- iterative deepening (Slate & Atkin 1977) with aspiration windows ----------------------

    def iterate(self, max_depth: int, on_iteration: Callable[[EngineResult], None] | None) -> EngineResult:
        board, engine = self.board, self.engine
        moves = list(board.legal_moves)
        if not moves:
            score = -MATE if board.is_check() else 0
            return EngineResult(None, score, 0, 0, (), time.perf_counter() - self.start)
        # Until an iteration completes, the answer is the first move in search order.
        result = EngineResult(self.order(moves, None, 0)[0] if engine.use_ordering else moves[0], 0, 0, 0, (), 0.0)
        if len(self.table) > engine.tt_entries:
            self.table.clear()
        score = piece_square(board) if self.evaluator is None else 0
        key = self.keys[-1]
        last_nodes = 0
        for depth in range(1 if engine.iterative else max_depth, max_depth + 1):
            self.root_depth = depth
            began, began_nodes = time.perf_counter(), self.nodes
            try:
                if engine.use_aspiration and result.depth >= 3 and abs(result.score) < _MATE_BOUND:
                    low, high = result.score - ASPIRATION_WINDOW, result.score + ASPIRATION_WINDOW
                    while True:
                        value = self.negamax(depth, 0, low, high, score, key)
                        if value <= low:
                            low = -_INF
                        elif value >= high:
                            high = _INF
                        else:
                            break
                else:
                    value = self.negamax(depth, 0, -_INF, _INF, score, key)
            except _Stop:
                break
            pv = tuple(self.pv[0])
            now = time.perf_counter()
            result = EngineResult(pv[0], value, depth, self.nodes, pv, now - self.start)
            if on_iteration is not None:
                on_iteration(result)
            # Time management: start the next iteration only if it is expected to finish.
            nodes_now, seconds_now = self.nodes - began_nodes, now - began
            if self.deadline is not None and depth < max_depth:
                growth = max(nodes_now / last_nodes, 2.0) if last_nodes else 2.0
                if now + growth * seconds_now > self.deadline:
                    break
            last_nodes = nodes_now
        return EngineResult(
            result.move, result.score, result.depth, self.nodes, result.pv, time.perf_counter() - self.start
        )

    # -- move ordering (Sec. 'Move ordering') --------------------------------------------------

    def order(self, moves: list[chess.Move], tt_move: chess.Move | None, ply: int) -> list[chess.Move]:
        board, engine = self.board, self.engine
        killers = self.killers[ply]
        history = self.history
        use_history, use_see = engine.use_history, engine.use_see
        turn = 4096 * board.turn
        piece_type_at = board.piece_type_at
        ep_square = board.ep_square

        def priority(move: chess.Move) -> int:
            if move == tt_move:
                return 1 << 30
            victim = piece_type_at(move.to_square)
            attacker = piece_type_at(move.from_square)
            if victim is None and move.to_square == ep_square and attacker == chess.PAWN:
                victim = chess.PAWN  # en passant takes a pawn that is not on the target square
            if victim or move.promotion:
                # MVV-LVA: most valuable victim first, then least valuable attacker. Captures that
                # may lose material wait behind the killers: by SEE, or else a dearer piece taking a cheaper one.
                mvv_lva = 16 * (victim or 0) + 8 * (move.promotion or 0) - attacker
                if move.promotion:
                    good = True
                elif use_see:
                    good = not _loses_material(board, move)
                else:
                    good = victim >= attacker
                return (1 << 29) + mvv_lva if good else (1 << 27) + mvv_lva
            if not use_history:
                return 0
            if move == killers[0]:
                return (1 << 28) + 1
            if move == killers[1]:
                return 1 << 28
            return history[turn + 64 * move.from_square + move.to_square]

        moves.sort(key=priority, reverse=True)
        return moves

    # -- alpha-beta ----------------------------------------------------------------------------

    def repeated(self, key: int) -> bool:
        keys = self.keys
        last = len(keys) - 1
        stop = max(last - self.board.halfmove_clock, 0)
        for i in range(last - 4, stop - 1, -2):
            if keys[i] == key:
                return True
        return False

    def negamax(
        self, depth: int, ply: int, alpha: int, beta: int, score: int, key: int, null_allowed: bool = True
    ) -> int:
        """Fail-soft negamax alpha-beta (eq. (eq-alpha-beta)) with the engine's techniques."""
        self.nodes += 1
        self.check()
        board, engine = self.board, self.engine
        self.pv[ply] = []
        in_check = board.is_check()
        if ply > 0:
            if board.halfmove_clock >= 100:  # fifty-move rule, unless the last move mated
                return -MATE + ply if in_check and not any(board.generate_legal_moves()) else 0
            if self.repeated(key):
                return 0
        if in_check and engine.use_check_extension and ply < 2 * self.root_depth:
            depth += 1
        tt_move = None
        if engine.use_tt:
            entry = self.table.get(key)
            if entry is not None:
                e_depth, e_value, e_bound, tt_move = entry
                if e_depth >= depth and ply > 0:
                    value = _from_table(e_value, ply)
                    if (
                        e_bound == _EXACT
                        or (e_bound == _LOWER and value >= beta)
                        or (e_bound == _UPPER and value <= alpha)
                    ):
                        return value
        if depth <= 0 or ply >= _MAX_PLY:
            if in_check and ply < _MAX_PLY and not engine.use_quiescence:
                # Checkmate is seen at the horizon: a position in check has no static value.
                if not any(board.generate_legal_moves()):
                    return -MATE + ply
            if not engine.use_quiescence:
                return self.static(score)
            self.nodes -= 1  # the same position: quiesce counts it
            return self.quiesce(ply, alpha, beta, score)

        if (
            engine.use_null_move
            and null_allowed
            and ply > 0
            and depth >= 3
            and not in_check
            and abs(beta) < _MATE_BOUND
            and chess.popcount(board.occupied_co[board.turn] & ~(board.pawns | board.kings)) >= 2
            and self.static(score) >= beta
        ):
            null_key = zobrist_null(board, key)
            self.push(chess.Move.null())
            self.keys.append(null_key)
            value = -self.negamax(depth - 1 - NULL_MOVE_REDUCTION, ply + 1, -beta, -beta + 1, -score, null_key, False)
            self.pop()
            self.keys.pop()
            if value >= beta:
                return value if value < _MATE_BOUND else beta

        moves = list(board.legal_moves)
        if not moves:
            return -MATE + ply if in_check else 0
        if engine.use_ordering:
            moves = self.order(moves, tt_move, ply)

        alpha_start, best, best_move = alpha, -_INF, None
        for i, move in enumerate(moves):
            child_key = zobrist_after(board, move, key)
            child_score = self.child_score(move, score)
            quiet = not board.is_capture(move) and not move.promotion
            self.push(move)
            self.keys.append(child_key)
            if i == 0:
                value = -self.negamax(depth - 1, ply + 1, -beta, -alpha, child_score, child_key)
            else:
                reduce = (
                    engine.use_lmr and ply > 0 and depth >= 3 and i >= LMR_FIRST and quiet and not in_check and not board.is_check()
                )
                if reduce:
                    value = -self.negamax(depth - 2, ply + 1, -alpha - 1, -alpha, child_score, child_key)
                if not reduce or value > alpha:
                    if engine.use_pvs:
                        value = -self.negamax(depth - 1, ply + 1, -alpha - 1, -alpha, child_score, child_key)
                        if alpha < value < beta:
                            value = -self.negamax(depth - 1, ply + 1, -beta, -alpha, child_score, child_key)
                    else:
                        value = -self.negamax(depth - 1, ply + 1, -beta, -alpha, child_score, child_key)
            self.pop()
            self.keys.pop()
            if value > best:
                best, best_move = value, move
                if value > alpha:
                    alpha = value
                    self.pv[ply] = [move] + self.pv[ply + 1]
                    if value >= beta:
                        if quiet and engine.use_history:
                            killers = self.killers[ply]
                            if killers[0] != move:
                                killers[1], killers[0] = killers[0], move
                            self.history[4096 * board.turn + 64 * move.from_square + move.to_square] += depth * depth
                        break
        if engine.use_tt:
            bound = _UPPER if best <= alpha_start else _LOWER if best >= beta else _EXACT
            self.table[key] = (depth, _to_table(best, ply), bound, best_move)
        return best

    def quiesce(self, ply: int, alpha: int, beta: int, score: int) -> int:
        """Captures only, with the option to stand pat; in check, every evasion (Sec. 'Quiescence')."""
        self.nodes += 1
        self.check()
        self.pv[ply] = []
        board, engine = self.board, self.engine
        if ply >= _MAX_PLY:
            return self.static(score)
        if board.is_check():  # no standing pat in check: every evasion, and mate when there is none
            moves = list(board.legal_moves)
            if not moves:
                return -MATE + ply
            best = -_INF
        else:
            stand_pat = self.static(score)
            if stand_pat >= beta:
                return stand_pat
            alpha = max(alpha, stand_pat)
            best = stand_pat
            moves = list(board.generate_legal_captures())
            if engine.use_see:
                moves = [m for m in moves if m.promotion or not _loses_material(board, m)]
        if engine.use_ordering:
            moves = self.order(moves, None, ply)
        for move in moves:
            child_score = self.child_score(move, score)
            self.push(move)
            value = -self.quiesce(ply + 1, -beta, -alpha, child_score)
            self.pop()
            if value > best:
                best = value
                if value > alpha:
                    alpha = value
                    if value >= beta:
                        break
        return best


def _to_table(value: int, ply: int) -> int:
    """Mate scores are stored relative to the node, not the root."""
    if value > _MATE_BOUND:
        return value + ply
    if value < -_MATE_BOUND:
        return value - ply
    return value


def _from_table(value: int, ply: int) -> int:
    if value > _MATE_BOUND:
        return value - ply
    if value < -_MATE_BOUND:
        return value + ply
    return value
