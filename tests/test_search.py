"""Tests for dltheory.search: alpha-beta against minimax, the Knuth-Moore count, solved games."""

from __future__ import annotations

import itertools
import math

import pytest

from dltheory.games import Chess, Hexapawn, IndependentTree, RandomTree, TicTacToe
from dltheory.search import (
    alphabeta,
    minimal_tree_leaves,
    minimax,
    pearl_branching_factor,
    perft,
    solve,
    strategy_leaves,
    tree_profile,
)


@pytest.mark.parametrize(("branching", "depth"), [(2, 6), (3, 5), (4, 4), (5, 3), (7, 2), (1, 4)])
def test_alphabeta_equals_minimax_on_random_trees(branching: int, depth: int) -> None:
    # Best moves are unique by construction, so the move must agree too.
    for seed in range(20):
        tree = RandomTree(branching, depth, seed=seed)
        full, pruned = minimax(tree), alphabeta(tree)
        assert pruned.value == full.value == tree.value
        assert pruned.move == full.move
        assert pruned.leaves <= full.leaves == branching**depth
        assert full.nodes == sum(branching**k for k in range(depth + 1))


@pytest.mark.parametrize(("branching", "depth"), list(itertools.product(range(1, 6), range(0, 7))))
def test_knuth_moore_minimal_tree_is_exact(branching: int, depth: int) -> None:
    # Knuth & Moore (1975): perfect ordering gives exactly b^ceil(d/2) + b^floor(d/2) - 1 leaves;
    # worst-first ordering of a tree whose values lie inside their windows prunes nothing.
    if branching**depth > 20_000:
        pytest.skip("too large for a unit test")
    best = alphabeta(RandomTree(branching, depth, seed=depth, ordering="best_first"))
    worst = alphabeta(RandomTree(branching, depth, seed=depth, ordering="worst_first"))
    assert best.leaves == minimal_tree_leaves(branching, depth)
    assert worst.leaves == branching**depth
    assert best.value == worst.value


def test_random_ordering_lies_between() -> None:
    counts = [alphabeta(RandomTree(4, 6, seed=s)).leaves for s in range(5)]
    assert all(minimal_tree_leaves(4, 6) < c < 4**6 for c in counts)


def test_minimal_tree_formula_values() -> None:
    assert minimal_tree_leaves(2, 0) == 1
    assert minimal_tree_leaves(10, 2) == 19
    assert minimal_tree_leaves(10, 3) == 109
    assert minimal_tree_leaves(1, 9) == 1


def test_depth_limited_search_agrees_on_real_games() -> None:
    positions = [Hexapawn(4), Hexapawn(4).play("b1b2"), TicTacToe("X...O...."), TicTacToe()]
    for game, depth in itertools.product(positions, (1, 2, 3)):
        full, pruned = minimax(game, depth), alphabeta(game, depth)
        assert (pruned.value, pruned.move) == (full.value, full.move)
        assert pruned.nodes <= full.nodes


def test_depth_limited_chess_agrees() -> None:
    game = Chess("r1bqkb1r/pppp1ppp/2n2n2/4p2Q/2B1P3/8/PPPP1PPP/RNB1K1NR w KQkq - 4 4")
    full, pruned = minimax(game, 2), alphabeta(game, 2)
    assert pruned.value == full.value == 1.0  # Qxf7 is mate
    assert pruned.move == full.move
    assert str(full.move) == "h5f7"
    assert pruned.nodes < full.nodes


def test_solved_games() -> None:
    # Gardner (1962): the second player wins 3x3 Hexapawn.
    assert minimax(Hexapawn(3)).value == -1
    hexapawn = solve(Hexapawn(3))
    assert hexapawn[Hexapawn(3).key()] == -1
    # Tic-tac-toe is a draw, and it has 5,478 reachable positions.
    tictactoe = solve(TicTacToe())
    assert tictactoe[TicTacToe().key()] == 0 == alphabeta(TicTacToe()).value
    assert len(tictactoe) == 5478
    # The table agrees with a fresh search from positions inside the game.
    for game in (Hexapawn(3).play("a1a2"), TicTacToe("X...O...X")):
        assert solve(game)[game.key()] == alphabeta(game).value


def test_depth_zero_evaluates_the_root() -> None:
    result = alphabeta(Hexapawn(3), depth=0)
    assert (result.nodes, result.leaves, result.move) == (1, 1, None)
    assert result.value == Hexapawn(3).evaluate()


def test_bad_input() -> None:
    for search in (minimax, alphabeta):
        with pytest.raises(ValueError, match="depth"):
            search(TicTacToe(), depth=-1)
        with pytest.raises(ValueError, match="depth"):
            search(TicTacToe(), depth=1.5)
    with pytest.raises(ValueError, match="depth"):
        perft(TicTacToe(), -1)
    with pytest.raises(ValueError, match="depth"):
        perft(TicTacToe(), None)
    with pytest.raises(ValueError, match="branching"):
        minimal_tree_leaves(0, 3)
    with pytest.raises(ValueError, match="depth"):
        minimal_tree_leaves(2, -1)


def test_tree_profile_counts_the_whole_tree() -> None:
    # Exact: the profile over distinct positions must count the same paths as a full minimax walk
    # and as perft at every ply; for tic-tac-toe the first 4 plies have no finished game, so
    # nodes[k] = 9!/(9-k)! there.
    for game in (Hexapawn(3), Hexapawn(3).play("b1b2")):
        profile = tree_profile(game)
        full = minimax(game)
        assert (sum(profile.nodes), sum(profile.games)) == (full.nodes, full.leaves)
        assert list(profile.nodes) == [perft(game, k) for k in range(len(profile.nodes))]
    ttt = tree_profile(TicTacToe())
    assert (sum(ttt.nodes), sum(ttt.games)) == (549_946, 255_168)
    assert ttt.nodes[:5] == (1, 9, 72, 504, 3024) and ttt.games[:5] == (0, 0, 0, 0, 0)
    assert tree_profile(TicTacToe("XXXOO....")) == tree_profile(TicTacToe("XXXOO....")) and tree_profile(
        TicTacToe("XXXOO....")
    ).nodes == (1,)


def test_pearl_branching_factor() -> None:
    # Pearl (1982): R = xi / (1 - xi), xi^b + xi - 1 = 0; the golden ratio for b = 2, between sqrt(b) and b.
    assert pearl_branching_factor(1) == 1.0
    assert pearl_branching_factor(2) == pytest.approx((1 + 5**0.5) / 2, rel=1e-12)
    for b in (2, 3, 5, 10, 40):
        r = pearl_branching_factor(b)
        xi = r / (1 + r)
        assert xi**b + xi - 1 == pytest.approx(0.0, abs=1e-12)
        assert b**0.5 < r < b
    # close to b^(3/4) for moderate b; b / ln b as b grows (xi = 1 - eps with eps ~ ln(b) / b), slowly
    assert all(abs(pearl_branching_factor(b) / b**0.75 - 1) < 0.12 for b in (10, 35, 100, 1000))
    ratios = [pearl_branching_factor(b) / (b / math.log(b)) for b in (10**2, 10**4, 10**6)]
    assert ratios[0] > ratios[1] > ratios[2] > 1
    with pytest.raises(ValueError, match="branching"):
        pearl_branching_factor(0)


def test_alphabeta_on_independent_trees_and_bulk_perft() -> None:
    for seed in range(10):
        tree = IndependentTree(3, 4, seed=seed)
        full, pruned = minimax(tree), alphabeta(tree)
        assert pruned.value == full.value and pruned.move == full.move
        assert minimal_tree_leaves(3, 4) <= pruned.leaves <= 3**4
    # bulk counting at the last ply changes nothing: the plies of tic-tac-toe by full expansion
    game = TicTacToe()
    assert [perft(game, k) for k in range(6)] == [1, 9, 72, 504, 3024, 15120]
    assert perft(TicTacToe("XXXOO...."), 1) == 0


def test_null_window_searches_evaluate_one_strategy() -> None:
    # Best first, a null window just below the value fails high on the side to move's strategy,
    # one just above fails low on the opponent's (Knuth & Moore 1975).
    for b, d in [(2, 5), (3, 4), (4, 7)]:
        game = RandomTree(b, d, seed=b + d, ordering="best_first")
        value = alphabeta(game).value
        high = alphabeta(game, d, value - 1e-9, value)
        low = alphabeta(game, d, value, value + 1e-9)
        assert high.value >= value and high.leaves == strategy_leaves(b, d, "to_move")
        assert low.value <= value and low.leaves == strategy_leaves(b, d, "opponent")
        assert strategy_leaves(b, d, "to_move") + strategy_leaves(b, d, "opponent") - 1 == minimal_tree_leaves(b, d)
    with pytest.raises(ValueError, match="alpha < beta"):
        alphabeta(TicTacToe(), 1, 0.5, 0.5)
    with pytest.raises(ValueError, match="side"):
        strategy_leaves(2, 3, "white")
