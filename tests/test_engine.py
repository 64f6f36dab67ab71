"""Tests for dltheory.engine: Zobrist keys, incremental evaluation, mates, budgets, switches."""

from __future__ import annotations

import random
import threading
import time

import chess
import chess.polyglot
import pytest

from dltheory.engine import (
    MATE, SWITCHES, Engine, _Search, effective_branching_factor, evaluate, iteration_overhead, move_delta, piece_square,
    static_exchange, structure, zobrist_after, zobrist_null,
)
from dltheory.games import Chess
from dltheory.search import alphabeta, minimax

KIWIPETE = "r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 0 1"
# Perft positions 3 and 4 of the chess programming community: en passant, promotions, castling.
POSITION_3 = "8/2p5/3p4/KP5r/1R3p1k/8/4P1P1/8 w - - 0 1"
POSITION_4 = "r3k2r/Pppp1ppp/1b3nbN/nP6/BBP1P3/q4N2/Pp1P2PP/R2Q1RK1 w kq - 0 1"
ITALIAN = "r1bq1rk1/pppp1ppp/2n2n2/2b1p3/2B1P3/2NP1N2/PPP2PPP/R1BQ1RK1 w - - 0 7"

# Mate in two, each checked below by a plain search over all replies (not by the engine).
MATE_IN_TWO = {
    "r2qkb1r/pp2nppp/3p4/2pNN1B1/2BnP3/3P4/PPP2PPP/R2bK2R w KQkq - 1 10": "d5f6",  # Nf6+ gxf6 Bxf7#
    "6k1/pp4p1/2p5/2bp4/8/P5Pb/1P3rrP/2BRRN1K b - - 0 1": "g2g1",  # ...Rg1+ Kxg1 Rxf1#
    "kbK5/pp6/1P6/8/8/8/8/R7 w - - 0 1": "a1a6",  # Ra6 (quiet) bxa6 b7#
}


PLAIN = {switch: False for switch in SWITCHES}  # plain fixed-depth alpha-beta


def plain(**on: bool) -> Engine:
    """Plain alpha-beta with the techniques named in `on` switched on."""
    return Engine(**{**PLAIN, **on})


def random_positions(seed: int, games: int, plies: int) -> list[chess.Board]:
    rng = random.Random(seed)
    boards = [chess.Board(fen) for fen in (KIWIPETE, POSITION_3, POSITION_4)]
    for _ in range(games):
        board = chess.Board()
        for _ in range(plies):
            moves = list(board.legal_moves)
            if not moves:
                break
            board.push(rng.choice(moves))
            boards.append(board.copy())
    return boards


def test_zobrist_after_matches_polyglot_and_delta_matches_piece_square() -> None:
    # Every legal move of several hundred positions, special moves included.
    checked = 0
    for board in random_positions(seed=0, games=6, plies=80):
        key, score = chess.polyglot.zobrist_hash(board), piece_square(board)
        for move in board.legal_moves:
            new_key, delta = zobrist_after(board, move, key), move_delta(board, move)
            board.push(move)
            assert new_key == chess.polyglot.zobrist_hash(board), (board.fen(), move)
            assert -(score + delta) == piece_square(board), (board.fen(), move)
            board.pop()
            checked += 1
    assert checked > 10_000


def test_evaluate_is_colour_symmetric() -> None:
    # The Black tables are the White ones mirrored: a mirrored position scores the same.
    for board in random_positions(seed=1, games=4, plies=80):
        assert evaluate(board) == evaluate(board.mirror())
        assert structure(board) == structure(board.mirror())
        assert evaluate(board) == piece_square(board) + structure(board)
    assert evaluate(chess.Board()) == 0
    assert evaluate(chess.Board("4k3/8/8/8/8/8/8/3QK3 w - - 0 1")) > 800


def test_structure_terms_have_their_signs() -> None:
    # Each term against the same position without it, White to move.
    def gain(with_term: str, without: str) -> int:
        return structure(chess.Board(with_term)) - structure(chess.Board(without))

    assert gain("4k3/8/8/3P4/8/8/8/4K3 w - - 0 1", "4k3/4p3/8/3P4/8/8/8/4K3 w - - 0 1") > 0  # passed pawn
    assert gain("4k3/8/8/8/8/8/8/2BBK3 w - - 0 1", "4k3/8/8/8/8/8/8/2BNK3 w - - 0 1") > 0  # bishop pair
    assert gain("4k3/8/8/8/8/8/PP6/2R1K3 w - - 0 1", "4k3/8/8/8/8/8/PP6/R3K3 w - - 0 1") > 0  # rook on an open file
    assert gain("4k3/8/8/8/8/8/2P1P3/4K3 w - - 0 1", "4k3/8/8/8/8/2P5/2P5/4K3 w - - 0 1") > 0  # doubled
    # The king: at home in the middlegame, in the centre in the endgame.
    middle, end = "rnbq1bnr/pppppppp/8/8/3k4/8/PPPPPPPP/RNBQKBNR w KQ - 0 1", "8/8/8/8/3k4/8/8/4K3 w - - 0 1"
    assert structure(chess.Board(middle)) > 0 > structure(chess.Board(end))


@pytest.mark.parametrize(("fen", "key_move"), list(MATE_IN_TWO.items()))
def test_mate_in_two(fen: str, key_move: str) -> None:
    game = Chess(fen)
    assert alphabeta(game, depth=1).value < 1  # no mate in one
    assert alphabeta(game, depth=3).value == 1  # a forced mate within two moves
    # Found at depth 3 = 2k - 1: the mate on the last ply is seen at the horizon.
    result = Engine(null_move=False, lmr=False).search(chess.Board(fen), depth=3)
    assert result.mate == 2 and result.score == MATE - 3
    assert result.move.uci() == key_move
    board = chess.Board(fen)
    for move in result.pv:
        board.push(move)
    assert len(result.pv) == 3 and board.is_checkmate()


def test_mate_on_the_horizon_is_seen_with_or_without_quiescence() -> None:
    back_rank = chess.Board("6k1/5ppp/8/8/8/8/5PPP/3R2K1 w - - 0 1")
    for engine in (plain(), plain(quiescence=True), plain(check_extension=True), Engine()):
        result = engine.search(back_rank, depth=1)
        assert (result.move.uci(), result.mate) == ("d1d8", 1), engine


def test_fifty_move_rule_does_not_hide_a_checkmate() -> None:
    # Rd8# is the hundredth half-move without capture or pawn move: checkmate, not a draw (FIDE 9.3).
    board = chess.Board("6k1/5ppp/8/8/8/8/5PPP/3R2K1 w - - 99 80")
    for engine in (plain(), Engine()):
        assert engine.search(board, depth=2).mate == 1, engine
    # Without mate the hundredth half-move draws: a rook up, White still scores 0 at every leaf.
    drawn = chess.Board("6k1/8/8/8/8/8/8/R5K1 w - - 99 80")
    assert plain().search(drawn, depth=2).score == 0


def test_en_passant_captures_are_ordered_as_captures() -> None:
    board = chess.Board("4k3/8/8/3pP3/8/8/8/4K3 w - d6 0 2")  # exd6 e.p. is the only capture
    ordered = _Search(plain(ordering=True), board, None, None, None).order(list(board.legal_moves), None, 0)
    assert ordered[0].uci() == "e5d6"


def test_mate_scores_and_finished_games() -> None:
    assert Engine().search(chess.Board("6k1/5ppp/8/8/8/8/r4PPP/1R1R2K1 w - - 0 1"), depth=3).mate == 1
    after_key = chess.Board("kbK5/pp6/1P6/8/8/8/8/R7 w - - 0 1")
    after_key.push_uci("a1a6")  # every Black move now allows mate
    assert Engine().search(after_key, depth=4).mate == -1
    fools = chess.Board("rnb1kbnr/pppp1ppp/8/4p3/6Pq/5P2/PPPPP2P/RNBQKBNR w KQkq - 1 3")
    over = Engine().search(fools, depth=3)
    assert (over.move, over.score, over.depth) == (None, -MATE, 0)
    stalemate = Engine().search(chess.Board("7k/5Q2/6K1/8/8/8/8/8 b - - 0 1"), depth=3)
    assert (stalemate.move, stalemate.score) == (None, 0)


@pytest.mark.parametrize(("fen", "depth", "quiescence"), [(KIWIPETE, 3, False), (POSITION_4, 3, False), (ITALIAN, 1, True)])
def test_ordering_changes_nodes_not_values(fen: str, depth: int, quiescence: bool) -> None:
    # Alpha-beta's value does not depend on move order (Knuth & Moore 1975). (Unordered
    # quiescence explodes on sharp positions: millions of nodes for Kiwipete at depth 1.)
    board = chess.Board(fen)
    unordered = plain(quiescence=quiescence).search(board, depth=depth)
    ordered = plain(quiescence=quiescence, ordering=True, history=True).search(board, depth=depth)
    assert unordered.score == ordered.score
    assert ordered.nodes * 2 < unordered.nodes


def test_plain_engine_equals_the_generic_search() -> None:
    # Without table, ordering and quiescence the engine is plain alpha-beta on the same
    # evaluation; Chess.evaluate squashes it by cp / (|cp| + 400).
    board = chess.Board(ITALIAN)
    cp = plain().search(board, depth=2).score
    assert minimax(Chess(ITALIAN), depth=2).value == pytest.approx(cp / (abs(cp) + 400), abs=1e-12)


def test_full_engine_searches_fewer_nodes() -> None:
    board = chess.Board(KIWIPETE)
    alpha_beta = plain().search(board, depth=3)
    full = Engine(quiescence=False).search(board, depth=3)
    assert full.nodes * 3 < alpha_beta.nodes


def test_principal_variation_is_legal() -> None:
    board = chess.Board(KIWIPETE)
    result = Engine().search(board, depth=3)
    assert result.pv[0] == result.move and result.depth == 3
    for move in result.pv:
        assert board.is_legal(move)
        board.push(move)


def test_repetition_is_a_draw() -> None:
    # A queen down, White can only hope to repeat a position of the game: Nf3 does.
    board = chess.Board("1n1qk3/8/8/8/8/8/8/4K1N1 w - - 0 1")
    for move in ("g1f3", "b8c6", "f3g1", "c6b8"):
        board.push_uci(move)
    result = Engine().search(board, depth=3)
    assert (result.move.uci(), result.score) == ("g1f3", 0)
    fresh = Engine().search(chess.Board(board.fen()), depth=3)  # the same position without its history
    assert fresh.score < -500


def test_budgets() -> None:
    board = chess.Board(KIWIPETE)
    assert Engine().search(board, nodes=500).nodes == 500
    start = time.perf_counter()
    result = Engine().search(board, movetime=0.5)
    # The clock is read every 64 nodes (~2 ms); a second of slack covers a loaded machine.
    assert time.perf_counter() - start < 0.5 + 1.0
    assert result.depth >= 1 and board.is_legal(result.move)
    stop = threading.Event()
    threading.Timer(0.1, stop.set).start()
    start = time.perf_counter()
    result = Engine().search(board, stop=stop)
    # Stopped before depth 1 finished, the engine still answers with a legal move from the partial search.
    assert stop.is_set() and time.perf_counter() - start < 0.1 + 1.0 and board.is_legal(result.move)
    assert board.fen() == KIWIPETE  # the caller's board is untouched


def test_table_is_kept_between_searches_and_cleared() -> None:
    engine = Engine()
    board = chess.Board(ITALIAN)
    first = engine.search(board, depth=3)
    again = engine.search(board, depth=3)
    assert again.nodes < first.nodes  # the table remembers
    engine.clear()
    assert engine.search(board, depth=3).nodes == first.nodes


def test_bad_input() -> None:
    board = chess.Board()
    with pytest.raises(ValueError, match="depth"):
        Engine().search(board, depth=0)
    with pytest.raises(ValueError, match="depth"):
        Engine().search(board, depth=-1)
    with pytest.raises(ValueError, match="movetime"):
        Engine().search(board, movetime=0)
    with pytest.raises(ValueError, match="nodes"):
        Engine().search(board, nodes=0)
    with pytest.raises(ValueError, match="depth, movetime, nodes or stop"):
        Engine().search(board)
    with pytest.raises(ValueError, match="Chess960"):
        Engine().search(chess.Board(chess960=True), depth=1)
    with pytest.raises(ValueError, match="tt_entries"):
        Engine(tt_entries=0)
    with pytest.raises(ValueError, match="lmr"):
        Engine(lmr=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="capture"):
        static_exchange(board, chess.Move.from_uci("e2e4"))


class _CountingEvaluation:
    """The module's evaluation behind the pluggable interface, with make/unmake hooks that track a stack."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.calls = self.resets = 0

    def __call__(self, board: chess.Board) -> int:
        self.calls += 1
        assert len(self.stack) == len(board.move_stack) - self.root_plies
        return evaluate(board)

    def reset(self, board: chess.Board) -> None:
        self.resets += 1
        self.root_plies = len(board.move_stack)
        self.stack.clear()

    def push(self, board: chess.Board, move: chess.Move) -> None:
        assert board.is_legal(move)
        self.stack.append(move.uci())

    def pop(self) -> None:
        self.stack.pop()


@pytest.mark.parametrize("quiescence", [True, False])
def test_pluggable_evaluation_gives_the_same_search_as_the_incremental_one(quiescence: bool) -> None:
    board = chess.Board(ITALIAN)
    board.push_uci("h2h3")
    plugged = _CountingEvaluation()
    a = Engine(quiescence=quiescence).search(board, depth=3)
    b = Engine(quiescence=quiescence, evaluate=plugged).search(board, depth=3)
    assert (a.move, a.score, a.nodes, a.pv) == (b.move, b.score, b.nodes, b.pv)
    assert plugged.resets == 1 and plugged.calls > 100 and plugged.stack == []


def test_pluggable_evaluation_is_used() -> None:
    # An evaluation with the sign reversed values material for the opponent: the score must change.
    flipped = Engine(evaluate=lambda board: -evaluate(board)).search(chess.Board(ITALIAN), depth=2)
    normal = Engine().search(chess.Board(ITALIAN), depth=2)
    assert flipped.score != normal.score
    with pytest.raises(ValueError, match="evaluate"):
        Engine(evaluate=3)  # type: ignore[arg-type]


class _NodeClock:
    """A stand-in for `time` whose clock advances a fixed step per reading: the engine reads it
    once every 64 nodes (and a few times per iteration), so elapsed "seconds" follow the node count
    and the time-management decision is the same on every machine, however loaded."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def perf_counter(self) -> float:
        self.now += self.step
        return self.now


@pytest.mark.parametrize("step", [1e-3, 2e-3, 4e-3])
def test_time_management_does_not_start_an_iteration_it_cannot_finish(
    monkeypatch: pytest.MonkeyPatch, step: float
) -> None:
    import dltheory.engine as engine_module

    monkeypatch.setattr(engine_module, "time", _NodeClock(step))
    finished: list[float] = []
    result = Engine().search(chess.Board(ITALIAN), movetime=1.0, on_iteration=lambda r: finished.append(r.seconds))
    # Either the engine declined the next iteration and returned early, or its last iteration
    # ended close to the deadline; it never spends most of the budget on an iteration it abandons.
    # (The prediction can be wrong when one iteration grows much faster than the last: half the budget is slack.)
    assert finished and (result.seconds < 0.95 or result.seconds - finished[-1] < 0.5)


def test_time_management_declines_an_iteration_it_predicts_will_not_finish(monkeypatch: pytest.MonkeyPatch) -> None:
    # With the clock tied to nodes, some budget must end with an early return: the engine saw that the
    # next iteration (at least twice the last) would overrun and stopped before the deadline.
    import dltheory.engine as engine_module

    early = []
    for step in (1e-3, 2e-3, 4e-3, 8e-3):
        monkeypatch.setattr(engine_module, "time", _NodeClock(step))
        early.append(Engine().search(chess.Board(ITALIAN), movetime=1.0).seconds < 0.95)
    assert any(early)


@pytest.mark.parametrize("switch", SWITCHES)
def test_each_switch_off_still_plays_a_legal_move_and_finds_mate(switch: str) -> None:
    board = chess.Board(ITALIAN)
    result = Engine(**{switch: False}).search(board, depth=3)
    assert board.is_legal(result.move) and result.depth == 3
    assert Engine(**{switch: False}).search(chess.Board("6k1/5ppp/8/8/8/8/5PPP/3R2K1 w - - 0 1"), depth=1).mate == 1


@pytest.mark.parametrize("switch", ["pvs", "aspiration"])
def test_exact_techniques_keep_the_alpha_beta_score(switch: str) -> None:
    # PVS and aspiration windows re-search whenever the narrow window fails: same score, fewer nodes.
    for fen in (KIWIPETE, ITALIAN, POSITION_4):
        base = plain(ordering=True, history=True, iterative=True).search(chess.Board(fen), depth=4)
        with_it = plain(ordering=True, history=True, iterative=True, **{switch: True}).search(chess.Board(fen), depth=4)
        assert with_it.score == base.score, fen


def test_zobrist_null_matches_polyglot() -> None:
    for board in random_positions(seed=2, games=3, plies=40):
        if board.is_check():
            continue
        key = zobrist_null(board, chess.polyglot.zobrist_hash(board))
        board.push(chess.Move.null())
        assert key == chess.polyglot.zobrist_hash(board)
        board.pop()


def _exchange_by_play(board: chess.Board, square: chess.Square) -> int:
    """The exchange on `square` played out with real moves: each side recaptures with its least
    valuable piece (pins and checks ignored, as pseudo-legal moves) or stops, whichever is better."""
    values = {chess.PAWN: 100, chess.KNIGHT: 310, chess.BISHOP: 330, chess.ROOK: 510, chess.QUEEN: 920, chess.KING: 20_000}
    captures = [m for m in board.generate_pseudo_legal_captures() if m.to_square == square and not m.promotion]
    if not captures:
        return 0
    move = min(captures, key=lambda m: values[board.piece_type_at(m.from_square)])
    taken = values[board.piece_type_at(square)]
    if board.piece_type_at(move.from_square) == chess.KING:
        board.push(move)
        defended = board.is_attacked_by(board.turn, square)
        board.pop()
        if defended:
            return 0
    board.push(move)
    value = taken - _exchange_by_play(board, square)
    board.pop()
    return max(0, value)


def test_static_exchange_against_the_exchange_played_out() -> None:
    assert static_exchange(chess.Board("4k3/8/4p3/3p4/8/8/8/3QK3 w - - 0 1"), chess.Move.from_uci("d1d5")) == 100 - 920
    assert static_exchange(chess.Board("4k3/8/8/3p4/8/8/8/3QK3 w - - 0 1"), chess.Move.from_uci("d1d5")) == 100
    # An x-ray: the rook behind the rook recaptures after the first one is taken.
    xray = chess.Board("3rk3/3r4/8/3p4/8/8/3R4/3RK3 w - - 0 1")
    # Rxd5 Rxd5 Rxd5 Rxd5: White wins a pawn and a rook and loses two rooks.
    assert static_exchange(xray, chess.Move.from_uci("d2d5")) == 100 - 510 + 510 - 510
    checked = 0
    for board in random_positions(seed=3, games=8, plies=60):
        for move in board.generate_legal_captures():
            if move.promotion or board.is_en_passant(move) or chess.square_rank(move.to_square) in (0, 7):
                continue
            taken = static_exchange(board, move)
            victim = board.piece_type_at(move.to_square)
            value = {chess.PAWN: 100, chess.KNIGHT: 310, chess.BISHOP: 330, chess.ROOK: 510, chess.QUEEN: 920}[victim]
            board.push(move)
            expected = value - _exchange_by_play(board, move.to_square)
            board.pop()
            assert taken == expected, (board.fen(), move.uci())
            checked += 1
    assert checked > 200


def test_iteration_overhead_is_the_geometric_series() -> None:
    # Exact geometric growth: the ratio of all iterations to the last is sum_j b^-j, and tends to b / (b - 1).
    nodes = [5 * 3**k for k in range(6)]
    b = effective_branching_factor(nodes)
    assert b == pytest.approx(3.0)
    assert iteration_overhead(b, len(nodes)) == pytest.approx(sum(nodes) / nodes[-1])
    assert iteration_overhead(3.0, 60) == pytest.approx(1.5)
    assert effective_branching_factor([10, 90, 160]) == pytest.approx(4.0)  # the geometric mean of the ratios
    with pytest.raises(ValueError, match="iteration_nodes"):
        effective_branching_factor([10])
    with pytest.raises(ValueError, match="iteration_nodes"):
        effective_branching_factor([10, 0])
    with pytest.raises(ValueError, match="branching"):
        iteration_overhead(1.0, 3)
    with pytest.raises(ValueError, match="depth"):
        iteration_overhead(2.0, 0)
