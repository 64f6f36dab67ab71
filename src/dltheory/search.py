"""Minimax and alpha-beta on any `Game`, with the node counts that Chapter 4 measures.

Both searches are written in negamax form (Chapter 4, Sec. 'Minimax and negamax', eq. (eq-negamax)):
the value of a position for the side to move is the largest over its moves of minus the value
of the position reached, V(s) = max_a -V(s.play(a)), with V = result() at the end of the game and
V = evaluate() where the depth runs out. Alpha-beta (Chapter 4, Sec. 'Alpha-beta') returns the
same value while skipping moves that cannot change it; Knuth & Moore (1975) showed that with
the best move always searched first it evaluates exactly b^ceil(d/2) + b^floor(d/2) - 1
leaves of a uniform tree (eq. (eq-minimal-tree)), against b^d for minimax.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

from dltheory.checks import check_integer
import chess

from dltheory.games import Chess, Game


@dataclass(frozen=True)
class SearchResult:
    """What a search found (Chapter 4, Sec. 'Minimax and negamax').

    Attributes:
        value: the value for the side to move at the root (+1 win, 0 draw, -1 loss in a solved game).
        move: the first best move in `legal_moves()` order; None when the root is terminal or depth is 0.
        nodes: positions visited, the root included.
        leaves: positions scored by `result()` or `evaluate()`.
    """

    value: float
    move: Hashable | None
    nodes: int
    leaves: int


def _check_depth(depth: int | None) -> float:
    if depth is None:
        return math.inf
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise ValueError(f"depth must be a non-negative integer or None (search to the end), got {depth!r}")
    return depth


def minimax(game: Game, depth: int | None = None) -> SearchResult:
    """The negamax value and best move of `game`, looking at every position (eq. (eq-negamax)).

    Chapter 4, Sec. 'Minimax and negamax'. A full search to the end solves the game; with
    depth=None, `nodes` counts the whole game tree.

    Args:
        game: any position following the `Game` protocol.
        depth: plies to look ahead; None searches to the end of the game (finite games only).

    Raises:
        ValueError: if `depth` is negative or not an integer.
    """
    limit = _check_depth(depth)
    nodes = leaves = 0

    def negamax(state: Game, remaining: float) -> tuple[float, Hashable | None]:
        nonlocal nodes, leaves
        nodes += 1
        if state.is_terminal():
            leaves += 1
            return state.result(), None
        if remaining == 0:
            leaves += 1
            return state.evaluate(), None
        best, best_move = -math.inf, None
        for move in state.legal_moves():
            value = -negamax(state.play(move), remaining - 1)[0]
            if value > best:
                best, best_move = value, move
        return best, best_move

    value, move = negamax(game, limit)
    return SearchResult(value + 0.0, move, nodes, leaves)  # + 0.0 turns -0.0 into 0.0


def alphabeta(
    game: Game, depth: int | None = None, alpha: float = -math.inf, beta: float = math.inf
) -> SearchResult:
    """The negamax value and best move of `game` by alpha-beta pruning (eq. (eq-alpha-beta)).

    Chapter 4, Sec. 'Alpha-beta'. Fail-soft negamax alpha-beta with the window (alpha, beta):
    a move whose value reaches beta refutes the position, and the remaining moves are skipped
    (Knuth & Moore 1975). With the full window the value and move equal those of `minimax` at
    the same depth; only `nodes` and `leaves` shrink, by how much depending on the move order.
    With a narrower window the value is exact only inside it, and a bound outside it
    (thm-alphabeta-correct): a null window (t - e, t) answers whether the value is below t, the
    test that principal variation search makes (Sec. 'Search techniques every engine uses').

    Args:
        game: any position following the `Game` protocol.
        depth: plies to look ahead; None searches to the end of the game (finite games only).
        alpha, beta: the window, alpha < beta.

    Raises:
        ValueError: if `depth` is negative or not an integer, or alpha >= beta.

    Example:
        >>> from dltheory.games import TicTacToe
        >>> alphabeta(TicTacToe()).value
        0.0
    """
    limit = _check_depth(depth)
    if not alpha < beta:
        raise ValueError(f"the window must have alpha < beta, got alpha={alpha!r}, beta={beta!r}")
    nodes = leaves = 0

    def negamax(state: Game, remaining: float, alpha: float, beta: float) -> tuple[float, Hashable | None]:
        nonlocal nodes, leaves
        nodes += 1
        if state.is_terminal():
            leaves += 1
            return state.result(), None
        if remaining == 0:
            leaves += 1
            return state.evaluate(), None
        best, best_move = -math.inf, None
        for move in state.legal_moves():
            value = -negamax(state.play(move), remaining - 1, -beta, -alpha)[0]
            if value > best:
                best, best_move = value, move
                alpha = max(alpha, value)
                if alpha >= beta:
                    break  # a refutation: the opponent will not allow this position
        return best, best_move

    value, move = negamax(game, limit, alpha, beta)
    return SearchResult(value + 0.0, move, nodes, leaves)  # + 0.0 turns -0.0 into 0.0


def solve(game: Game) -> dict[Hashable, float]:
    """The exact value for the side to move of every position reachable from `game`, by `key()`.

    Chapter 4, Sec. 'Solving Hexapawn': negamax to the end of the game (eq. (eq-negamax)) with
    each position solved once and remembered, so the cost is the number of distinct positions,
    not the size of the tree. These are the labels of supervised learning in Sec. 'AlphaZero
    on Hexapawn'. Finite games only.

    Example:
        >>> from dltheory.games import Hexapawn
        >>> values = solve(Hexapawn(3))
        >>> values[Hexapawn(3).key()]  # the second player wins (Gardner 1962)
        -1.0
    """
    values: dict[Hashable, float] = {}

    def negamax(state: Game) -> float:
        key = state.key()
        if key not in values:
            if state.is_terminal():
                values[key] = state.result()
            else:
                values[key] = max(-negamax(state.play(m)) for m in state.legal_moves()) + 0.0
        return values[key]

    negamax(game)
    return values


@dataclass(frozen=True)
class TreeProfile:
    """The size of a whole game tree, ply by ply (Chapter 4, Sec. 'Games as trees').

    Attributes:
        nodes: nodes[k] is the number of positions k plies below the root, counted once per path.
        games: games[k] is the number of those that are finished games (leaves of the tree).
    """

    nodes: tuple[int, ...]
    games: tuple[int, ...]


def tree_profile(game: Game) -> TreeProfile:
    """The number of nodes and of finished games at each ply of the whole game tree of `game`.

    Chapter 4, Sec. 'Games as trees'. Counts paths, as a full minimax search visits them
    (``sum(nodes)`` equals `minimax(game).nodes`), but computes them over distinct positions:
    the profile of a position is one node at ply 0 plus its children's profiles shifted by one
    ply, and each position's profile is computed once. So it costs the number of distinct
    positions (5,478 for tic-tac-toe) rather than the size of the tree (549,946 nodes).
    Finite games only, whose `key()` determines everything below a position.

    Example:
        >>> from dltheory.games import TicTacToe
        >>> profile = tree_profile(TicTacToe())
        >>> sum(profile.nodes), sum(profile.games)
        (549946, 255168)
    """
    memo: dict[Hashable, tuple[list[int], list[int]]] = {}

    def walk(state: Game) -> tuple[list[int], list[int]]:
        key = state.key()
        if key not in memo:
            nodes, games = [1], [1 if state.is_terminal() else 0]
            for move in state.legal_moves():
                child_nodes, child_games = walk(state.play(move))
                for ply, (n, g) in enumerate(zip(child_nodes, child_games), start=1):
                    if ply == len(nodes):
                        nodes.append(0)
                        games.append(0)
                    nodes[ply] += n
                    games[ply] += g
            memo[key] = (nodes, games)
        return memo[key]

    nodes, games = walk(game)
    return TreeProfile(tuple(nodes), tuple(games))


def strategy_leaves(branching: int, depth: int, side: str) -> int:
    """The leaves of one side's strategy on a uniform tree: b^floor(d/2) for the side to move, b^ceil(d/2) for the opponent.

    Chapter 4, Sec. 'Alpha-beta', proof of thm-minimal-tree, and Sec. 'Search techniques every
    engine uses'. A strategy of the side to move (one move at each of its nodes, every reply of
    the opponent) branches at the opponent's floor(d/2) plies and proves a lower bound on the
    value; a strategy of the opponent (one refutation at each of its nodes, every move of the
    side to move) branches at the ceil(d/2) plies of the side to move and proves an upper bound.
    A null-window search that fails high evaluates the first, one that fails low the second,
    when the best move comes first.

    Args:
        branching: b, an integer >= 1.
        depth: d, an integer >= 0.
        side: "to_move" or "opponent".

    Raises:
        ValueError: if `branching` < 1, `depth` < 0 or `side` is neither.
    """
    check_integer("branching", branching, 1)
    check_integer("depth", depth, 0)
    if side == "to_move":
        return branching ** (depth // 2)
    if side == "opponent":
        return branching ** math.ceil(depth / 2)
    raise ValueError(f"side must be 'to_move' or 'opponent', got {side!r}")


def minimal_tree_leaves(branching: int, depth: int) -> int:
    """b^ceil(d/2) + b^floor(d/2) - 1, the leaves alpha-beta evaluates under perfect ordering.

    Chapter 4, Sec. 'Alpha-beta', eq. (eq-minimal-tree) (Knuth & Moore 1975): on a uniform tree of
    branching b and depth d, with the best move always first, alpha-beta must and does evaluate
    exactly this many leaves, roughly the square root of the b^d that minimax evaluates.

    Raises:
        ValueError: if `branching` < 1 or `depth` < 0.
    """
    check_integer("branching", branching, 1)
    check_integer("depth", depth, 0)
    return branching ** math.ceil(depth / 2) + branching ** (depth // 2) - 1


def pearl_branching_factor(branching: int) -> float:
    """xi / (1 - xi), xi the positive root of x^b + x - 1 = 0: alpha-beta's branching factor under random order.

    Chapter 4, Sec. 'Alpha-beta' (Pearl 1982): on a uniform tree of branching b whose leaf values are
    independent draws from a continuous distribution (`dltheory.games.IndependentTree`), the mean
    number of leaves alpha-beta evaluates grows like R^d with R = xi_b / (1 - xi_b), between the
    minimal tree's sqrt(b) and minimax's b (for b = 2, R is the golden ratio 1.618...); it is close to
    b^(3/4) for moderate b and grows like b / ln b as b -> infinity. It is a limit as d grows: at small
    depths the growth is faster.

    Raises:
        ValueError: if `branching` is not an integer >= 1.
    """
    b = check_integer("branching", branching, 1)
    if b == 1:
        return 1.0
    lo, hi = 0.0, 1.0  # x^b + x - 1 is increasing on [0, 1], -1 at 0 and +1 at 1
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid**b + mid - 1 > 0:
            hi = mid
        else:
            lo = mid
    xi = (lo + hi) / 2
    return xi / (1 - xi)


def perft(game: Game, depth: int) -> int:
    """The number of move sequences of exactly `depth` plies from `game` (Chapter 4, Sec. 'Perft').

    The standard check of a move generator: its counts from known positions are published
    (for chess from the start: 20, 400, 8902, 197281, ...). Finished games contribute nothing
    beyond their own ply. For `Chess` the count is of the rules' legal moves whatever the
    material and the move counters, as in the published counts: a game that `Chess` ends by an
    automatic draw (insufficient material, the 75-move rule, fivefold repetition) still has its
    legal moves counted; only checkmate and stalemate end a sequence.

    Raises:
        ValueError: if `depth` is negative or not an integer.
    """
    if depth is None or _check_depth(depth) < 0:
        raise ValueError(f"depth must be a non-negative integer, got {depth!r}")
    if isinstance(game, Chess):
        return _chess_perft(game.board, depth)
    if depth == 0:
        return 1
    if depth == 1:  # bulk counting: the moves of the last ply need not be played
        return len(game.legal_moves())
    return sum(perft(game.play(move), depth - 1) for move in game.legal_moves())


def _chess_perft(board: chess.Board, depth: int) -> int:
    if depth == 0:
        return 1
    moves = list(board.legal_moves)
    if depth == 1:
        return len(moves)
    count = 0
    for move in moves:
        board.push(move)
        count += _chess_perft(board, depth - 1)
        board.pop()
    return count
