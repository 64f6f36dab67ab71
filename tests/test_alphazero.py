"""Tests for dltheory.alphazero: targets, training, and the two regimes against the solved game."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from dltheory.alphazero import (
    PolicyValueNet,
    agreement,
    alphazero,
    decisive_positions,
    expected_score,
    initial_net,
    match,
    net_policy,
    optimal_moves,
    perfect_player,
    perfect_policy,
    positions,
    predict,
    random_agreement,
    random_player,
    self_play,
    solver_examples,
    supervised,
    train,
    uniform_policy,
)
from dltheory.games import Hexapawn, TicTacToe
from dltheory.search import solve


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    # Tiny networks run many times faster on one thread than on a contended pair of cores.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_network_shapes_and_predictions() -> None:
    game = TicTacToe().play(4)
    torch.manual_seed(0)
    net = PolicyValueNet.for_game(game, hidden=16)
    logits, value = net(torch.zeros(3, 18))
    assert logits.shape == (3, 9) and value.shape == (3,) and bool((value.abs() < 1).all())
    priors, v = predict(net, game)
    assert len(priors) == 8 and sum(priors) == pytest.approx(1.0) and -1 < v < 1
    with pytest.raises(ValueError, match="hidden"):
        PolicyValueNet(18, 9, hidden=0)


def test_solver_examples() -> None:
    game = Hexapawn(3)
    examples = solver_examples(game)
    values = solve(game)
    assert len(examples) == len(positions(game)) == sum(1 for k in values if not _terminal(k))
    for example in examples:
        assert sum(example.policy) == pytest.approx(1.0)
        assert example.value in (-1.0, 1.0)  # Hexapawn has no draws
    assert examples[0].value == -1.0  # the start: the first player loses (Gardner 1962)


def _terminal(key: tuple[str, int]) -> bool:
    return Hexapawn(3, key[0], key[1]).is_terminal()


def test_self_play_targets() -> None:
    torch.manual_seed(0)
    net = PolicyValueNet.for_game(Hexapawn(3), hidden=16)
    examples = self_play(net, Hexapawn(3), simulations=10, rng=np.random.default_rng(0))
    again = self_play(net, Hexapawn(3), simulations=10, rng=np.random.default_rng(0))
    assert examples == again  # reproducible given the generator
    assert all(sum(e.policy) == pytest.approx(1.0) for e in examples)
    # Outcomes alternate in sign along the game, and the last mover won.
    assert [e.value for e in examples][::-1] == [(-1.0) ** i for i in range(len(examples))]


def test_train_lowers_the_loss() -> None:
    examples = solver_examples(Hexapawn(3))
    torch.manual_seed(0)
    net = PolicyValueNet.for_game(Hexapawn(3), hidden=32)
    generator = torch.Generator().manual_seed(0)
    first = train(net, examples, generator=generator)
    later = train(net, examples, epochs=50, lr=1e-2, generator=generator)
    assert later < first / 2
    with pytest.raises(ValueError, match="examples"):
        train(net, [])
    with pytest.raises(ValueError, match="lr"):
        train(net, examples, lr=0)


def test_supervised_learns_the_solution() -> None:
    run = supervised(Hexapawn(3), epochs=150)
    assert len(run.agreement) == 150
    assert run.agreement[-1] == 1.0  # deterministic given the seed
    assert run.agreement[0] < 1.0


def test_alphazero_improves_on_hexapawn() -> None:
    run = alphazero(Hexapawn(3), iterations=6, games_per_iteration=15, simulations=30)
    assert len(run.loss) == len(run.agreement) == 6
    assert max(run.agreement[-2:]) > run.agreement[0]
    assert alphazero(Hexapawn(3), iterations=1, games_per_iteration=2, simulations=5).loss == alphazero(
        Hexapawn(3), iterations=1, games_per_iteration=2, simulations=5
    ).loss
    with pytest.raises(ValueError, match="iterations"):
        alphazero(Hexapawn(3), iterations=0)
    with pytest.raises(ValueError, match="temperature_moves"):
        alphazero(Hexapawn(3), temperature_moves=-1)


def test_initial_net_is_where_training_starts() -> None:
    game = Hexapawn(3)
    state = torch.random.get_rng_state()
    net = initial_net(game, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global random state is untouched
    again = initial_net(game, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), again.parameters()))
    # supervised and alphazero start from it: one step of a run from seed 3 differs from it only by training
    run = alphazero(game, iterations=1, games_per_iteration=1, simulations=2, epochs=1, seed=3)
    assert run.net.trunk[0].weight.shape == net.trunk[0].weight.shape
    assert (run.net.trunk[0].weight - net.trunk[0].weight).abs().max() < 0.1
    with pytest.raises(ValueError, match="seed"):
        initial_net(game, seed=-1)


def test_hexapawn_has_135_positions() -> None:
    # Enumerate every position reachable from the start, by walking the tree over distinct keys.
    game, seen, stack = Hexapawn(3), {}, [Hexapawn(3)]
    while stack:
        state = stack.pop()
        if state.key() not in seen:
            seen[state.key()] = state
            if not state.is_terminal():
                stack.extend(state.play(m) for m in state.legal_moves())
    assert len(seen) == 135
    assert len(solve(game)) == 135
    assert len(positions(game)) == sum(not s.is_terminal() for s in seen.values()) == 70
    assert len(decisive_positions(game)[0]) == 27


def test_match_against_the_solution() -> None:
    game, rng = Hexapawn(3), np.random.default_rng(0)
    perfect = perfect_player(game, rng)
    # The second player wins every game between perfect players; seats alternate, so the mean is 0.
    assert match(perfect, perfect_player(game, rng), game, 10) == 0.0
    assert match(perfect, random_player(rng), game, 50) > 0
    assert agreement(PolicyValueNet.for_game(game), game) <= 1.0
    with pytest.raises(ValueError, match="games"):
        match(perfect, perfect, game, 0)


def test_decisive_positions_are_exactly_those_with_a_losing_choice() -> None:
    game = Hexapawn(3)
    decisive, values = decisive_positions(game)
    keys = {state.key() for state in decisive}
    for state in positions(game):
        has_bad_move = len(optimal_moves(state, values)) < len(state.legal_moves())
        assert has_bad_move == (state.key() in keys)
    assert len(decisive) == 27


def test_expected_score_is_exact() -> None:
    game = Hexapawn(3)
    perfect = perfect_policy(game)
    # Hexapawn is won by the second player (Gardner 1962): perfect play wins every game as the second player.
    assert expected_score(perfect, uniform_policy, game, 1) == 1.0
    assert expected_score(perfect, perfect, game, 0) == -1.0
    # zero-sum: the two seats' expectations are opposite
    assert expected_score(uniform_policy, perfect, game, 1) == pytest.approx(-expected_score(perfect, uniform_policy, game, 0))
    # against Monte Carlo: 4000 random games, standard error below 1/sqrt(2000) per seat
    rng = np.random.default_rng(0)
    sampled = match(random_player(rng), random_player(rng), game, 4000)  # alternating seats: mean of the two
    exact = (expected_score(uniform_policy, uniform_policy, game, 0) + expected_score(uniform_policy, uniform_policy, game, 1)) / 2
    assert abs(sampled - exact) < 4 / 4000**0.5
    # a tic-tac-toe draw under perfect play, from either seat
    ttt = TicTacToe()
    assert expected_score(perfect_policy(ttt), perfect_policy(ttt), ttt, 0) == 0.0
    with pytest.raises(ValueError, match="seat"):
        expected_score(uniform_policy, uniform_policy, game, 2)
    with pytest.raises(ValueError, match="sum to 1"):
        expected_score(lambda s: {s.legal_moves()[0]: 0.5}, uniform_policy, game, 0)


def test_random_agreement_and_net_policy() -> None:
    states, values = decisive_positions(Hexapawn(3))
    share = sum(len(optimal_moves(s, values)) / len(s.legal_moves()) for s in states) / len(states)
    assert random_agreement(Hexapawn(3)) == pytest.approx(share) and 0 < share < 1
    net = PolicyValueNet.for_game(Hexapawn(3))
    policy = net_policy(net)(Hexapawn(3))
    assert list(policy.values()) == [1.0] and next(iter(policy)) in Hexapawn(3).legal_moves()
