"""Learning to play a small game: AlphaZero's self-play loop against learning from the solver.

Chapter 4, Sec. 'AlphaZero on Hexapawn'. A policy-value network f(s) = (p, v) maps a position
to prior probabilities p over a fixed action space and a value v in (-1, 1) for the side to
move (Silver et al. 2018; Klein 2022 describes the same design). Two ways to train it:

- `alphazero`: play games against itself, choosing each move by PUCT search (`dltheory.mcts.puct`)
  guided by the network, and fit the network to the search's visit distribution pi and the
  game's outcome z with the loss l = (z - v)^2 - pi . log p (eq. (eq-az-loss); weight decay adds
  the c ||theta||^2 term);
- `supervised`: fit the same network to the exact solution: pi uniform over the optimal moves,
  z the exact value (`dltheory.search.solve`).

Both are measured against the solved game by `agreement` (how often the network's favourite
move is optimal) and `match` (results against random and perfect opponents).

Games need, besides the `Game` protocol, `features()`, `num_actions` and `action(move)`, as
`Hexapawn` and `TicTacToe` provide.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from dltheory.checks import check_integer
from dltheory.games import Game
from dltheory.mcts import puct
from dltheory.search import solve

Player = Callable[[Game], Hashable]
Policy = Callable[[Game], dict[Hashable, float]]


class PolicyValueNet(nn.Module):
    """A small policy-value network: an MLP trunk with a policy head and a value head.

    Chapter 4, Sec. 'Networks for chess' (the AlphaZero design, Silver et al. 2018, at toy size).

    Args:
        num_features: length of `game.features()`.
        num_actions: size of the game's action space.
        hidden: width of the two hidden layers.
    """

    def __init__(self, num_features: int, num_actions: int, hidden: int = 64) -> None:
        super().__init__()
        for name, v in (("num_features", num_features), ("num_actions", num_actions), ("hidden", hidden)):
            check_integer(name, v, 1)
        self.trunk = nn.Sequential(nn.Linear(num_features, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.policy = nn.Linear(hidden, num_actions)
        self.value = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Policy logits of shape (batch, num_actions) and values of shape (batch,) in (-1, 1)."""
        h = self.trunk(x)
        return self.policy(h), torch.tanh(self.value(h)).squeeze(-1)

    @classmethod
    def for_game(cls, game: Game, hidden: int = 64) -> PolicyValueNet:
        """A network sized for `game` (which must have `features()` and `num_actions`)."""
        return cls(len(game.features()), game.num_actions, hidden)


def _device(net: nn.Module) -> torch.device:
    return next(net.parameters()).device


@torch.no_grad()
def predict(net: PolicyValueNet, game: Game) -> tuple[list[float], float]:
    """The network's priors over `game.legal_moves()` (softmax over legal actions only) and value.

    Chapter 4, Sec. 'AlphaZero on Hexapawn': the `prior` and `value` that PUCT asks for.
    """
    x = torch.tensor(game.features(), dtype=torch.float32, device=_device(net)).unsqueeze(0)
    logits, value = net(x)
    actions = torch.tensor([game.action(m) for m in game.legal_moves()], device=logits.device)
    return torch.softmax(logits[0, actions], dim=0).tolist(), float(value[0])


def _evaluator(net: PolicyValueNet) -> tuple[Callable[[Game], list[float]], Callable[[Game], float]]:
    """`prior` and `value` callables for PUCT sharing one forward pass per position."""
    cache: dict[Hashable, tuple[list[float], float]] = {}

    def look(game: Game) -> tuple[list[float], float]:
        key = game.key()
        if key not in cache:
            cache[key] = predict(net, game)
        return cache[key]

    return (lambda g: look(g)[0]), (lambda g: look(g)[1])


@dataclass(frozen=True)
class Example:
    """One training example: features, a target distribution over actions, a target value."""

    features: tuple[float, ...]
    policy: tuple[float, ...]
    value: float


def self_play(
    net: PolicyValueNet,
    game: Game,
    *,
    simulations: int = 50,
    temperature_moves: int = 4,
    dirichlet_alpha: float = 0.3,
    dirichlet_epsilon: float = 0.25,
    rng: np.random.Generator,
) -> list[Example]:
    """The examples of one game the network plays against itself with PUCT (Silver et al. 2018).

    Chapter 4, Sec. 'AlphaZero on Hexapawn'. At each position PUCT (with Dirichlet noise at the
    root) gives visit counts N(a); the target is pi(a) = N(a) / sum N; the move played is drawn
    from pi for the first `temperature_moves` plies and is the most visited afterwards. When the
    game ends every position gets z = the final result for its side to move.
    """
    prior, value = _evaluator(net)
    state, history = game, []
    while not state.is_terminal():
        result = puct(
            state,
            simulations,
            prior=prior,
            value=value,
            dirichlet_alpha=dirichlet_alpha,
            dirichlet_epsilon=dirichlet_epsilon,
            rng=rng,
        )
        moves = list(result.visits)
        counts = np.array([result.visits[m] for m in moves], dtype=float)
        pi = np.zeros(game.num_actions)
        pi[[state.action(m) for m in moves]] = counts / counts.sum()
        history.append((state, tuple(pi.tolist())))
        if len(history) <= temperature_moves:
            move = moves[int(rng.choice(len(moves), p=counts / counts.sum()))]
        else:
            move = result.move
        state = state.play(move)
    final, winner_view = state.result(), state.to_move
    return [Example(s.features(), pi, final if s.to_move == winner_view else -final) for s, pi in history]


def train(
    net: PolicyValueNet,
    examples: Sequence[Example],
    *,
    epochs: int = 1,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    generator: torch.Generator | None = None,
) -> float:
    """Fit `net` to `examples` by Adam on l = (z - v)^2 - pi . log p; the mean loss of the last epoch.

    Chapter 4, Sec. 'AlphaZero on Hexapawn', eq. (eq-az-loss) (Silver et al. 2018); Adam's weight
    decay supplies the c ||theta||^2 term.

    Args:
        net: the network, trained in place (on the device of its parameters).
        examples: the training set.
        epochs: passes over `examples`, in shuffled mini-batches of `batch_size`.
        lr: Adam's learning rate; weight_decay: its L2 coefficient c.
        generator: seeds the shuffling.

    Raises:
        ValueError: if `examples` is empty or a hyperparameter is not positive.
    """
    if not examples:
        raise ValueError("examples must not be empty")
    for name, v in (("epochs", epochs), ("batch_size", batch_size)):
        check_integer(name, v, 1)
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    device = _device(net)
    x = torch.tensor([e.features for e in examples], dtype=torch.float32, device=device)
    pi = torch.tensor([e.policy for e in examples], dtype=torch.float32, device=device)
    z = torch.tensor([e.value for e in examples], dtype=torch.float32, device=device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    net.train()
    for _ in range(epochs):
        order = torch.randperm(len(examples), generator=generator).to(device)
        total = 0.0
        for start in range(0, len(examples), batch_size):
            idx = order[start : start + batch_size]
            logits, v = net(x[idx])
            loss = ((z[idx] - v) ** 2).mean() - (pi[idx] * torch.log_softmax(logits, dim=1)).sum(1).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
    net.eval()
    return total / len(examples)


# ------------------------------------------------------------------------------------------
# Measuring against the solved game


def positions(game: Game) -> list[Game]:
    """Every unfinished position reachable from `game`, each once."""
    found: dict[Hashable, Game] = {}
    stack = [game]
    while stack:
        state = stack.pop()
        if state.key() in found or state.is_terminal():
            continue
        found[state.key()] = state
        stack.extend(state.play(m) for m in state.legal_moves())
    return list(found.values())


def optimal_moves(state: Game, values: dict[Hashable, float]) -> list[Hashable]:
    """The moves of `state` that keep its exact value, given the solver's table `values`."""
    best = values[state.key()]
    return [m for m in state.legal_moves() if -values[state.play(m).key()] == best]


def solver_examples(game: Game) -> list[Example]:
    """Supervised targets from the exact solution: pi uniform over optimal moves, z the exact value.

    Chapter 4, Sec. 'AlphaZero on Hexapawn'; one example per unfinished reachable position.
    """
    values = solve(game)
    examples = []
    for state in positions(game):
        best = optimal_moves(state, values)
        pi = np.zeros(game.num_actions)
        pi[[state.action(m) for m in best]] = 1.0 / len(best)
        examples.append(Example(state.features(), tuple(pi.tolist()), values[state.key()]))
    return examples


def decisive_positions(game: Game) -> tuple[list[Game], dict[Hashable, float]]:
    """The decisive positions reachable from `game`, and the solver's table of exact values.

    Chapter 4, Sec. 'AlphaZero on Hexapawn': a position is decisive when some legal move is not
    optimal; elsewhere every move agrees with the solver, so such positions would flatter any
    player that is measured on them.
    """
    values = solve(game)
    return [s for s in positions(game) if len(optimal_moves(s, values)) < len(s.legal_moves())], values


@functools.lru_cache(maxsize=8)
def _decisive(game: Game) -> tuple[torch.Tensor, list[list[int]], list[set[int]]]:
    """Features, legal actions and optimal actions of the decisive positions of `game`."""
    states, values = decisive_positions(game)
    features = [state.features() for state in states]
    legal = [[state.action(m) for m in state.legal_moves()] for state in states]
    best = [{state.action(m) for m in optimal_moves(state, values)} for state in states]
    return torch.tensor(features, dtype=torch.float32), legal, best


@torch.no_grad()
def agreement(net: PolicyValueNet, game: Game) -> float:
    """The fraction of decisive positions where the network's most likely move is optimal.

    Chapter 4, Sec. 'AlphaZero on Hexapawn'. Decisive: reachable positions where some move is
    not optimal (elsewhere any move agrees with the solver, which would flatter the network).
    The solution is computed once per game and remembered.
    """
    features, legal, best = _decisive(game)
    if not legal:
        return 1.0
    logits = net(features.to(_device(net)))[0].cpu().numpy()
    hits = sum(max(actions, key=row.__getitem__) in optimal for row, actions, optimal in zip(logits, legal, best))
    return hits / len(legal)


def net_player(net: PolicyValueNet) -> Player:
    """Plays the network's most likely move, without search."""
    return lambda g: g.legal_moves()[int(np.argmax(predict(net, g)[0]))]


def random_player(rng: np.random.Generator) -> Player:
    """Plays a uniformly random legal move."""
    return lambda g: g.legal_moves()[int(rng.integers(len(g.legal_moves())))]


def perfect_player(game: Game, rng: np.random.Generator) -> Player:
    """Plays a uniformly random optimal move, from the exact solution of `game`."""
    values = solve(game)
    return lambda g: (lambda best: best[int(rng.integers(len(best)))])(optimal_moves(g, values))


def random_agreement(game: Game) -> float:
    """The expected `agreement` of a uniformly random move: the mean share of optimal moves in the decisive positions.

    Chapter 4, Sec. 'AlphaZero on Hexapawn': what a player that has learned nothing scores on the solver's test.
    """
    states, values = decisive_positions(game)
    if not states:
        return 1.0
    return sum(len(optimal_moves(s, values)) / len(s.legal_moves()) for s in states) / len(states)


def uniform_policy(state: Game) -> dict[Hashable, float]:
    """Every legal move with the same probability (the random player's distribution)."""
    moves = state.legal_moves()
    return {m: 1.0 / len(moves) for m in moves}


def perfect_policy(game: Game) -> Policy:
    """Uniform over the optimal moves of each position, from the exact solution of `game` (the perfect player's distribution)."""
    values = solve(game)
    return lambda state: (lambda best: {m: 1.0 / len(best) for m in best})(optimal_moves(state, values))


def net_policy(net: PolicyValueNet) -> Policy:
    """All weight on the network's most likely move (`net_player`'s choice, as a distribution)."""
    player = net_player(net)
    return lambda state: {player(state): 1.0}


def expected_score(policy: Policy, opponent: Policy, game: Game, seat: int) -> float:
    """The exact expected result (+1 win, 0 draw, -1 loss) of `policy` playing seat `seat` against `opponent`.

    Chapter 4, Sec. 'AlphaZero on Hexapawn'. Seat 0 moves first. The expectation runs over both players'
    move distributions, position by position (each reachable position once), so it has no sampling error.

    Raises:
        ValueError: if `seat` is not 0 or 1, or a policy's probabilities do not sum to 1.
    """
    if seat not in (0, 1) or isinstance(seat, bool):
        raise ValueError(f"seat must be 0 (first) or 1 (second), got {seat!r}")
    memo: dict[Hashable, float] = {}

    def score(state: Game) -> float:  # for the player in `seat`
        key = state.key()
        if key not in memo:
            if state.is_terminal():
                memo[key] = state.result() if state.to_move == seat else -state.result()
            else:
                dist = (policy if state.to_move == seat else opponent)(state)
                if abs(sum(dist.values()) - 1) > 1e-9:
                    raise ValueError(f"a policy's probabilities must sum to 1, got {sum(dist.values())}")
                memo[key] = sum(p * score(state.play(m)) for m, p in dist.items() if p > 0)
        return memo[key]

    return score(game)


def match(player: Player, opponent: Player, game: Game, games: int) -> float:
    """`player`'s mean score (+1 win, 0 draw, -1 loss) over `games` games, alternating who starts."""
    check_integer("games", games, 1)
    total = 0.0
    for i in range(games):
        seats = (player, opponent) if i % 2 == 0 else (opponent, player)
        state = game
        while not state.is_terminal():
            state = state.play(seats[state.to_move](state))
        mine = i % 2  # the player's seat: 0 in even games, 1 in odd
        total += state.result() if state.to_move == mine else -state.result()
    return total / games


# ------------------------------------------------------------------------------------------
# The two training regimes


def initial_net(game: Game, hidden: int = 64, seed: int = 0) -> PolicyValueNet:
    """The untrained network that `alphazero` and `supervised` start from with the same `seed`.

    Chapter 4, Sec. 'AlphaZero on Hexapawn': its `agreement` is what training has to beat. The
    global torch random state is left untouched.
    """
    check_integer("seed", seed, 0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = PolicyValueNet.for_game(game, hidden)
    return net.eval()


@dataclass(frozen=True)
class Run:
    """A trained network and its learning curve (one entry per iteration or epoch)."""

    net: PolicyValueNet
    loss: tuple[float, ...]
    agreement: tuple[float, ...]


def alphazero(
    game: Game,
    *,
    iterations: int = 10,
    games_per_iteration: int = 20,
    simulations: int = 50,
    epochs: int = 4,
    window: int = 4,
    hidden: int = 64,
    lr: float = 1e-2,
    temperature_moves: int = 4,
    seed: int = 0,
) -> Run:
    """Train a policy-value network by self-play with PUCT (Silver et al. 2018).

    Chapter 4, Sec. 'AlphaZero on Hexapawn'. Each iteration plays `games_per_iteration` games
    with `self_play`, then trains for `epochs` passes over the examples of the last `window`
    iterations. The learning curve records the training loss and `agreement` after each iteration.

    Args:
        game: the starting position of a small game (`Hexapawn(3)`, `TicTacToe()`).
        iterations: rounds of self-play followed by training.
        games_per_iteration: self-play games per round.
        simulations: PUCT simulations per move.
        epochs: passes over the replay window per round.
        window: how many rounds of games the replay buffer keeps.
        hidden: width of the network.
        lr: Adam's learning rate.
        temperature_moves: plies of each game whose move is drawn from the visit distribution
            (the rest play the most visited move), >= 0; a value above the game's length samples
            every move, so that self-play also reaches positions off the best lines.
        seed: seeds the network (`initial_net`), the searches and the batches (the run is reproducible).

    Raises:
        ValueError: if a count is not a positive integer.

    Example:
        >>> from dltheory.games import Hexapawn
        >>> run = alphazero(Hexapawn(3))  # doctest: +SKIP
        >>> run.agreement[-1]  # fraction of decisive positions where the policy is optimal  # doctest: +SKIP
    """
    for name, v in (("iterations", iterations), ("games_per_iteration", games_per_iteration), ("window", window)):
        check_integer(name, v, 1)
    check_integer("temperature_moves", temperature_moves, 0)
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = initial_net(game, hidden, seed)
    buffer: list[list[Example]] = []
    losses, agreements = [], []
    for _ in range(iterations):
        fresh = [
            e
            for _ in range(games_per_iteration)
            for e in self_play(net, game, simulations=simulations, temperature_moves=temperature_moves, rng=rng)
        ]
        buffer = (buffer + [fresh])[-window:]
        losses.append(train(net, [e for batch in buffer for e in batch], epochs=epochs, lr=lr, generator=generator))
        agreements.append(agreement(net, game))
    return Run(net, tuple(losses), tuple(agreements))


def supervised(game: Game, *, epochs: int = 200, hidden: int = 64, lr: float = 1e-2, seed: int = 0) -> Run:
    """Train the same network on the solver's labels (`solver_examples`), one curve point per epoch.

    Chapter 4, Sec. 'AlphaZero on Hexapawn': the baseline that self-play is compared with.
    Arguments as for `alphazero`; `epochs` full passes over all positions.

    Raises:
        ValueError: if `epochs` is not a positive integer.
    """
    check_integer("epochs", epochs, 1)
    generator = torch.Generator().manual_seed(seed)
    net = initial_net(game, hidden, seed)
    examples = solver_examples(game)
    losses, agreements = [], []
    for _ in range(epochs):
        losses.append(train(net, examples, lr=lr, generator=generator))
        agreements.append(agreement(net, game))
    return Run(net, tuple(losses), tuple(agreements))
