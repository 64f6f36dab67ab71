"""Tests for dltheory.mcts: UCT and PUCT find solved moves; PUCT follows its formula exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dltheory.games import Game, Hexapawn, RandomTree, TicTacToe
from dltheory.mcts import (
    Bandit,
    grill_multiplier,
    puct,
    puct_crossover,
    puct_equilibrium_visits,
    puct_exploration,
    regularized_policy,
    rollout,
    uct,
    ucb1,
    ucb1_pull_bound,
)
from dltheory.search import solve


def positions_with_one_winning_move(game: Game) -> list[tuple[Game, object]]:
    """Positions of `game` with several moves of which exactly one wins, by the exact solver."""
    values = solve(game)
    found, seen, stack = [], set(), [game]
    while stack:
        state = stack.pop()
        if state.key() in seen or state.is_terminal():
            continue
        seen.add(state.key())
        moves = state.legal_moves()
        wins = [m for m in moves if values[state.play(m).key()] == -1]
        if len(moves) > 1 and len(wins) == 1:
            found.append((state, wins[0]))
        stack.extend(state.play(m) for m in moves)
    return found


def test_uct_and_puct_find_the_winning_move_in_hexapawn() -> None:
    cases = positions_with_one_winning_move(Hexapawn(3))
    assert len(cases) >= 10
    for state, win in cases:
        assert uct(state, 300, rng=1).move == win
        assert puct(state, 300, rng=1).move == win


def test_tictactoe_win_and_block() -> None:
    assert uct(TicTacToe("XX.OO...."), 300).move == 2  # win at once
    assert puct(TicTacToe("XX.OO...."), 300).move == 2
    assert uct(TicTacToe("OO.XX...X"), 1000).move == 2  # O to move: win; (X threatens 5 too)
    assert puct(TicTacToe("X...O...X"), 2000).move in (1, 3, 5, 7)  # only an edge holds the draw


def test_visits_add_up_and_seeds_reproduce() -> None:
    game = Hexapawn(4)
    for search in (uct, puct):
        result = search(game, 200, rng=3)
        assert sum(result.visits.values()) == 200 == result.simulations
        assert list(result.visits) == game.legal_moves()
        assert result.visits == search(game, 200, rng=3).visits
        assert result.visits == search(game, 200, rng=np.random.default_rng(3)).visits
        assert -1 <= result.value <= 1


def test_rollout_reports_for_the_side_to_move() -> None:
    # One move to one leaf: the root's value is minus the leaf's value for its own mover.
    root = RandomTree(1, 1, seed=4)
    assert rollout(root, np.random.default_rng(0)) == -root.play(0).result() == root.value


@pytest.mark.parametrize("c_base", [1.0, 19652.0])
def test_puct_follows_its_formula(c_base: float) -> None:
    # On a tree one ply deep every child is a leaf of fixed value, so the whole search can be
    # replayed by hand from U = c(s) P sqrt(N) / (1 + n)
    # (with N counting the root's own evaluation) and c(s) = log((1 + N + c_base)/c_base) + c_init.
    root = RandomTree(4, 1, seed=7)
    priors = [0.4, 0.3, 0.2, 0.1]
    result = puct(root, 60, prior=lambda g: priors, c_init=0.5, c_base=c_base)
    q = [-root.play(m).result() for m in root.legal_moves()]
    n = [0, 0, 0, 0]
    for total in range(1, 61):  # N(s) counts the root's own evaluation
        c = math.log((1 + total + c_base) / c_base) + 0.5
        score = [(q[a] if n[a] else 0.0) + c * priors[a] * math.sqrt(total) / (1 + n[a]) for a in range(4)]
        n[score.index(max(score))] += 1
    assert list(result.visits.values()) == n
    assert result.q == pytest.approx({a: q[a] for a in range(4) if n[a]} | {a: 0.0 for a in range(4) if not n[a]})


def test_puct_uses_prior_and_value_callables() -> None:
    game = TicTacToe()
    def centre_first(g: Game) -> list[float]:
        moves = g.legal_moves()
        return [float(m == 4) for m in moves] if 4 in moves else [1.0] * len(moves)

    one_hot = puct(game, 50, prior=centre_first, value=lambda g: 0.0)
    assert one_hot.visits[4] == 50  # zero prior, zero value: the other moves are never tried
    calls = []
    puct(game, 30, value=lambda g: calls.append(g) or 0.0)
    assert len(calls) == 31  # the root, then one new position per simulation (none finished yet)


def test_dirichlet_noise() -> None:
    # A value function instead of playouts, so that the noise is the only randomness.
    game, zero = Hexapawn(4), lambda g: 0.0
    plain = puct(game, 100, value=zero)
    assert puct(game, 100, value=zero, dirichlet_alpha=0.3, dirichlet_epsilon=0.0).visits == plain.visits
    noisy = [puct(game, 100, value=zero, dirichlet_alpha=0.3, dirichlet_epsilon=1.0, rng=s).visits for s in range(3)]
    assert any(v != plain.visits for v in noisy)
    assert noisy[0] == puct(game, 100, value=zero, dirichlet_alpha=0.3, dirichlet_epsilon=1.0, rng=0).visits


def test_bad_input() -> None:
    game = TicTacToe()
    with pytest.raises(ValueError, match="simulations"):
        uct(game, 0)
    with pytest.raises(ValueError, match="simulations"):
        puct(game, 1.5)
    with pytest.raises(ValueError, match="c must"):
        uct(game, 10, c=-1)
    with pytest.raises(ValueError, match="c_init"):
        puct(game, 10, c_init=-0.1)
    with pytest.raises(ValueError, match="c_base"):
        puct(game, 10, c_base=0)
    with pytest.raises(ValueError, match="dirichlet_alpha"):
        puct(game, 10, dirichlet_alpha=0)
    with pytest.raises(ValueError, match="dirichlet_epsilon"):
        puct(game, 10, dirichlet_alpha=0.3, dirichlet_epsilon=1.5)
    with pytest.raises(ValueError, match="rng"):
        uct(game, 10, rng=-1)
    with pytest.raises(ValueError, match="prior"):
        puct(game, 10, prior=lambda g: [1.0, 2.0])
    with pytest.raises(ValueError, match="game is over"):
        puct(TicTacToe("XXXOO...."), 10)


def test_puct_exploration_schedule() -> None:
    # eq. (eq-puct-schedule): c_init at N = 0, + log 2 each time 1 + N + c_base doubles.
    assert puct_exploration(0) == pytest.approx(1.25 + math.log(19653 / 19652))
    assert puct_exploration(19653) - puct_exploration(0) == pytest.approx(math.log(2), rel=1e-12)
    assert puct_exploration(10, c_init=0.5, c_base=1.0) == pytest.approx(math.log(12) + 0.5)
    for bad in ({"visits": -1}, {"visits": 1, "c_init": -0.1}, {"visits": 1, "c_base": 0}):
        with pytest.raises(ValueError):
            puct_exploration(**bad)


@pytest.mark.parametrize("simulations", [300, 3_000, 30_000])
def test_puct_visits_of_the_worse_move_follow_the_balance(simulations: int) -> None:
    # Two root moves, a win (8) and a draw (0) whose values are exact after one visit: the count of the
    # draw is an integer within one visit of the balance of eq. (eq-puct).
    game = TicTacToe(".XXXXOOO.")
    visits = puct(game, simulations).visits
    assert visits[8] > visits[0]
    assert abs(visits[0] - puct_equilibrium_visits(simulations, 1.0)) <= 1.0
    constant = puct_equilibrium_visits(simulations, 1.0, c_base=1e300)  # c = c_init throughout
    assert constant < puct_equilibrium_visits(simulations, 1.0)
    with pytest.raises(ValueError, match="simulations"):
        puct_equilibrium_visits(1, 1.0)
    with pytest.raises(ValueError, match="gap"):
        puct_equilibrium_visits(10, 0.0)


def test_bandit_is_a_one_move_game() -> None:
    game = Bandit((0.5, -0.25))
    assert game.to_move == 0 and game.legal_moves() == [0, 1] and not game.is_terminal()
    child = game.play(1)
    assert child.is_terminal() and child.to_move == 1 and child.result() == 0.25  # for the side to move after
    assert solve(game)[game.key()] == 0.5
    with pytest.raises(ValueError, match="move"):
        game.play(2)
    with pytest.raises(ValueError, match="values"):
        Bandit((2.0, 0.0))


def test_ucb1_against_its_bound_and_a_closed_form() -> None:
    pulls = ucb1([0.9, 0.1], 2000, runs=20, rng=1)
    assert pulls.shape == (20, 2) and (pulls.sum(axis=1) == 2000).all()
    assert pulls[:, 1].mean() <= ucb1_pull_bound(0.8, 2000)
    # with no exploration bonus (c = 0) and deterministic arms, the first pulls decide: each arm once, then the best
    assert ucb1([1.0, 0.0], 50, c=0.0)[0].tolist() == [49.0, 1.0]
    assert ucb1_pull_bound(0.5, 100) == pytest.approx(8 * math.log(100) / 0.25 + 1 + math.pi**2 / 3)
    for bad in ({"means": [0.5]}, {"means": [0.5, 1.5]}, {"rounds": 1}, {"runs": 0}, {"c": -1.0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            ucb1(**{"means": [0.6, 0.4], "rounds": 10, **bad})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="gap"):
        ucb1_pull_bound(1.5, 10)


def test_puct_crossover_matches_the_search_and_the_balance() -> None:
    for gap, prior in ((0.1, 0.1), (0.05, 0.3)):
        s = puct_crossover(gap, prior)
        # at S* the balance has equal counts
        assert puct_equilibrium_visits(round(s), gap, prior_worse=1 - prior) == pytest.approx(s / 2, abs=1.0)
        last, count = 0, 0

        def watch(visits: dict) -> None:
            nonlocal last, count
            count += 1
            if visits[0] <= visits[1]:
                last = count

        puct(Bandit((1.0, 1.0 - gap)), int(2 * s) + 50, prior=lambda g, p=prior: [p, 1 - p], on_simulation=watch)
        assert abs(last + 1 - s) < 12
    assert puct_crossover(0.1, 0.6) == 0.0  # a good prior costs nothing
    assert puct_crossover(0.02, 0.1, c_base=1e300) == pytest.approx((2 * 1.25 * 0.8 / 0.02) ** 2, rel=0.01)
    with pytest.raises(ValueError, match="prior_better"):
        puct_crossover(0.1, 1.0)
    with pytest.raises(ValueError, match="prior_worse"):
        puct_equilibrium_visits(10, 0.1, prior_worse=0.0)


def test_regularized_policy_solves_its_problem() -> None:
    q, prior = np.array([0.3, 0.1, -0.2]), np.array([0.2, 0.5, 0.3])
    for lam in (0.01, 0.3, 5.0):
        y = regularized_policy(q, prior, lam)
        assert y.sum() == pytest.approx(1.0) and (y > 0).all()
        # stationarity of q . y - lam KL(prior || y) on the simplex: q + lam prior / y is the same for every move
        assert np.ptp(q + lam * prior / y) < 1e-6
    assert regularized_policy(q, prior, 1e6) == pytest.approx(prior, abs=1e-5)  # a heavy KL weight keeps the prior
    assert regularized_policy(q, prior, 1e-4).argmax() == 0  # a light one is greedy
    assert grill_multiplier(100, 2) == pytest.approx(puct_exploration(100) * 10 / 102)
    with pytest.raises(ValueError, match="prior"):
        regularized_policy(q, [0.5, 0.5, 0.0], 1.0)
    with pytest.raises(ValueError, match="multiplier"):
        regularized_policy(q, prior, 0.0)
    with pytest.raises(ValueError, match="num_actions"):
        grill_multiplier(10, 0)
