"""Monte-Carlo tree search: UCT and AlphaZero's PUCT (Chapter 4, Sec. 'Monte-Carlo tree search').

A simulation walks down the tree choosing moves by a selection rule, adds a position at the
bottom, scores it (by a random playout or by a value function) and adds that score to every
move on the way back up. The move played is the most visited one at the root.

- UCT (Kocsis & Szepesvari 2006), eq. (eq-uct): choose argmax_a Q(s,a) + c sqrt(ln N(s) / N(s,a)),
  trying every move once first; score new positions by random playouts.
- PUCT (Silver et al. 2018), eq. (eq-puct): choose argmax_a Q(s,a) + U(s,a) with
  U(s,a) = c(s) P(s,a) sqrt(N(s)) / (1 + N(s,a)) and the exploration schedule
  c(s) = log((1 + N(s) + c_base) / c_base) + c_init (eq. (eq-puct-schedule)); the priors P come
  from a policy (uniform if none), unvisited moves count Q = 0, N(s) counts s's own
  evaluation plus the simulations through it (so the first simulation already follows the
  priors), and Dirichlet noise
  P <- (1 - epsilon) P + epsilon Dir(alpha) may be mixed into the root priors for exploration.

Q(s,a) is the mean value for the player who chooses a at s; values are in the negamax
convention of `dltheory.games` (for the side to move).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from dltheory.checks import check_integer, check_number, check_positive
from dltheory.games import Game

Prior = Callable[[Game], Sequence[float]]
Value = Callable[[Game], float]


@dataclass(frozen=True)
class MCTSResult:
    """The root statistics after a search (Chapter 4, Sec. 'Monte-Carlo tree search').

    Attributes:
        visits: N(root, a) for every legal root move, in `legal_moves()` order.
        q: Q(root, a), the mean value of each move for the side to move (0 for unvisited moves).
        value: the mean value of all simulations for the side to move at the root.
        simulations: the number of simulations run.
    """

    visits: dict[Hashable, int]
    q: dict[Hashable, float]
    value: float
    simulations: int

    @property
    def move(self) -> Hashable:
        """The most visited root move (the first in `legal_moves()` order on a tie)."""
        return max(self.visits, key=self.visits.__getitem__)


@dataclass(eq=False)
class _Node:
    game: Game
    prior: float = 1.0
    visits: int = 0
    total: float = 0.0  # sum of values for the player who moved into this node
    children: dict[Hashable, _Node] | None = None  # None until expanded
    untried: list[Hashable] = field(default_factory=list)  # UCT: moves not yet added

    @property
    def q(self) -> float:
        return self.total / self.visits if self.visits else 0.0


def _rng(rng: np.random.Generator | int) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, bool) or not isinstance(rng, int) or rng < 0:
        raise ValueError(f"rng must be a numpy Generator or a non-negative integer seed, got {rng!r}")
    return np.random.default_rng(rng)


def _check(game: Game, simulations: int) -> None:
    check_integer("simulations", simulations, 1)
    if game.is_terminal():
        raise ValueError("game is over: there is no move to search for")


def rollout(game: Game, rng: np.random.Generator) -> float:
    """The result of a game finished by uniformly random moves, for the side to move at `game`."""
    state = game
    while not state.is_terminal():
        moves = state.legal_moves()
        state = state.play(moves[int(rng.integers(len(moves)))])
    value = state.result()
    return value if state.to_move == game.to_move else -value


def _backup(path: list[tuple[_Node, int]], value: float, player: int) -> None:
    """Add `value` (for `player`) to every node on the path, each from its chooser's view."""
    for node, chooser in path:
        node.visits += 1
        node.total += value if chooser == player else -value


def _result(root: _Node, simulations: int) -> MCTSResult:
    children = root.children or {}
    moves = root.game.legal_moves()
    visits = {m: children[m].visits if m in children else 0 for m in moves}
    q = {m: children[m].q if m in children else 0.0 for m in moves}
    value = sum(c.total for c in children.values()) / max(sum(visits.values()), 1)
    return MCTSResult(visits, q, value, simulations)


def uct(game: Game, simulations: int, *, c: float = math.sqrt(2), rng: np.random.Generator | int = 0) -> MCTSResult:
    """Visit counts of the root moves after `simulations` UCT simulations with random playouts.

    Chapter 4, Sec. 'Monte-Carlo tree search', eq. (eq-uct) (Kocsis & Szepesvari 2006): inside the
    tree choose argmax_a Q(s,a) + c sqrt(ln N(s) / N(s,a)); at a position with untried moves add
    one (chosen at random), finish the game from it by random moves and back the result up.

    Args:
        game: the root position (not finished).
        simulations: number of simulations, >= 1.
        c: the exploration constant, >= 0.
        rng: a numpy Generator or an integer seed (the search is reproducible given it).

    Raises:
        ValueError: if `simulations` < 1, `c` < 0, `rng` is not a generator or seed, or the game is over.
    """
    _check(game, simulations)
    if not c >= 0:
        raise ValueError(f"c must be >= 0, got {c!r}")
    gen = _rng(rng)
    root = _Node(game, children={}, untried=game.legal_moves())
    for _ in range(simulations):
        node, path = root, []
        while not node.untried and node.children:  # select
            log_n = math.log(node.visits)
            chooser = node.game.to_move
            node = max(node.children.values(), key=lambda ch: ch.q + c * math.sqrt(log_n / ch.visits))
            path.append((node, chooser))
        if node.untried:  # expand one untried move
            move = node.untried.pop(int(gen.integers(len(node.untried))))
            chooser = node.game.to_move
            child = node.game.play(move)
            node.children[move] = node = _Node(child, children={}, untried=child.legal_moves())
            path.append((node, chooser))
        root.visits += 1
        _backup(path, rollout(node.game, gen), node.game.to_move)
    return _result(root, simulations)


def puct_exploration(visits: float, c_init: float = 1.25, c_base: float = 19652.0) -> float:
    """c(s) = log((1 + N(s) + c_base) / c_base) + c_init, PUCT's exploration rate at a node visited N(s) times.

    Chapter 4, Sec. 'Monte-Carlo tree search', eq. (eq-puct-schedule) (Silver et al. 2018, with AlphaZero's
    constants as defaults). It is c_init at N = 0 and grows by log 2 each time N(s) + 1 doubles past c_base.

    Raises:
        ValueError: if `visits` < 0, `c_init` < 0 or `c_base` <= 0.
    """
    n = check_number("visits", visits, minimum=0.0)
    check_number("c_init", c_init, minimum=0.0)
    return math.log((1 + n + check_positive("c_base", c_base)) / c_base) + c_init


def puct_equilibrium_visits(
    simulations: int, gap: float, *, prior_worse: float = 0.5, c_init: float = 1.25, c_base: float = 19652.0
) -> float:
    """The visits PUCT gives the worse of two root moves, by the balance of eq. (eq-puct), as a real number.

    Chapter 4, Sec. 'Monte-Carlo tree search'. With two root moves of priors `prior_worse` and
    ``1 - prior_worse`` whose values are known exactly after one visit and differ by `gap` > 0, PUCT keeps
    their scores Q + U level: after `simulations` simulations, with N = simulations + 1 (the root's own
    evaluation included) and n_1 + n_2 = simulations, the worse move's visits n_2 solve

        ``gap = c(N) sqrt(N) * (P_2 / (1 + n_2) - P_1 / (1 + n_1))``,

    c(N) the schedule `puct_exploration`. The search's count is an integer within one visit of the
    balance point (measured: it reaches it and passes it by less than one). For large N, n_2 ~ c(N) sqrt(N) / (2 gap): the schedule's growth is what
    makes the neglected move's share fall more slowly than 1 / sqrt(N). The search `puct` writes the
    schedule out itself, so that this prediction and the search share no code.

    Raises:
        ValueError: if `simulations` < 2, `gap` <= 0 or `prior_worse` is not in (0, 1).
    """
    s = check_integer("simulations", simulations, 2)
    g = check_positive("gap", gap)
    p2 = check_number("prior_worse", prior_worse, minimum=0.0)
    if not 0 < p2 < 1:
        raise ValueError(f"prior_worse must be in (0, 1), got {prior_worse!r}")
    scale = puct_exploration(s + 1, c_init, c_base) * math.sqrt(s + 1)

    def excess(n2: float) -> float:  # decreasing in n2 on [0, s]
        return scale * (p2 / (1 + n2) - (1 - p2) / (1 + s - n2)) - g

    if excess(0.0) <= 0:
        return 0.0
    if excess(float(s)) >= 0:
        return float(s)
    return brentq(excess, 0.0, float(s), xtol=1e-12)


def puct(
    game: Game,
    simulations: int,
    *,
    prior: Prior | None = None,
    value: Value | None = None,
    c_init: float = 1.25,
    c_base: float = 19652.0,
    dirichlet_alpha: float | None = None,
    dirichlet_epsilon: float = 0.25,
    rng: np.random.Generator | int = 0,
    on_simulation: Callable[[dict[Hashable, int]], None] | None = None,
) -> MCTSResult:
    """Visit counts of the root moves after `simulations` PUCT simulations (AlphaZero's search).

    Chapter 4, Sec. 'Monte-Carlo tree search', eqs. (eq-puct) and (eq-puct-schedule) (Silver et al. 2018):
    choose argmax_a Q(s,a) + c(s) P(s,a) sqrt(N(s)) / (1 + N(s,a)) with
    c(s) = log((1 + N(s) + c_base) / c_base) + c_init; a new position is expanded with all its
    moves at once, with priors from `prior`, and scored by `value` (or a random playout).
    The defaults c_init = 1.25 and c_base = 19652 are AlphaZero's.

    Args:
        game: the root position (not finished).
        simulations: number of simulations, >= 1.
        prior: maps a position to non-negative weights for its `legal_moves()` (in that order;
            normalised here); None for uniform priors.
        value: maps an unfinished position to its value in [-1, 1] for the side to move; None
            to score by a random playout.
        c_init, c_base: the exploration schedule, c_init >= 0, c_base > 0.
        dirichlet_alpha: when given (> 0), mix Dir(alpha) noise into the root priors
            (AlphaZero used 0.3 for chess); None for no noise.
        dirichlet_epsilon: the weight of the noise, in [0, 1].
        rng: a numpy Generator or an integer seed.
        on_simulation: when given, called after every simulation with the root's visit counts
            {move: N(root, move)} (to follow the search's choice as the budget grows, in one run).

    Raises:
        ValueError: if a parameter is out of range, `prior` returns a wrong number of weights or
            negative ones, or the game is over.

    Example:
        >>> from dltheory.games import TicTacToe
        >>> puct(TicTacToe("XX.OO...."), 200).move
        2
    """
    _check(game, simulations)
    if not c_init >= 0:
        raise ValueError(f"c_init must be >= 0, got {c_init!r}")
    if not c_base > 0:
        raise ValueError(f"c_base must be > 0, got {c_base!r}")
    if dirichlet_alpha is not None and not dirichlet_alpha > 0:
        raise ValueError(f"dirichlet_alpha must be > 0 or None, got {dirichlet_alpha!r}")
    if not 0 <= dirichlet_epsilon <= 1:
        raise ValueError(f"dirichlet_epsilon must be in [0, 1], got {dirichlet_epsilon!r}")
    gen = _rng(rng)

    def expand(node: _Node) -> float:
        """Give `node` its children with their priors; return its value for its side to move."""
        moves = node.game.legal_moves()
        if prior is None:
            weights = np.full(len(moves), 1.0 / len(moves))
        else:
            weights = np.asarray(prior(node.game), dtype=float)
            if weights.shape != (len(moves),) or (weights < 0).any() or not weights.sum() > 0:
                raise ValueError(f"prior must return {len(moves)} non-negative weights, not all 0; got {weights}")
            weights = weights / weights.sum()
        node.children = {m: _Node(node.game.play(m), float(p)) for m, p in zip(moves, weights)}
        return float(value(node.game)) if value is not None else rollout(node.game, gen)

    root = _Node(game)
    expand(root)
    root.visits = 1  # N(s) counts the evaluation of s itself, as for every node below
    if dirichlet_alpha is not None:
        noise = gen.dirichlet([dirichlet_alpha] * len(root.children))
        for child, eta in zip(root.children.values(), noise):
            child.prior = (1 - dirichlet_epsilon) * child.prior + dirichlet_epsilon * float(eta)

    for _ in range(simulations):
        node, path = root, []
        while node.children:  # select
            c = math.log((1 + node.visits + c_base) / c_base) + c_init  # eq. (eq-puct-schedule), written out
            scale = c * math.sqrt(node.visits)
            chooser = node.game.to_move
            node = max(node.children.values(), key=lambda ch: ch.q + scale * ch.prior / (1 + ch.visits))
            path.append((node, chooser))
        if node.game.is_terminal():
            leaf_value = node.game.result()
        else:
            leaf_value = expand(node)
        root.visits += 1
        _backup(path, leaf_value, node.game.to_move)
        if on_simulation is not None:
            on_simulation({m: child.visits for m, child in root.children.items()})
    return _result(root, simulations)


# ------------------------------------------------------------------------------------------
# The theory chain: bandits, priors, and what they cost PUCT (Sec. 'Monte-Carlo tree search')


@dataclass(frozen=True)
class Bandit:
    """A one-move game: the root's moves 0..K-1 end the game at once with known values (a bandit as a `Game`).

    Chapter 4, Sec. 'Monte-Carlo tree search'. `values[a]` is the result of move a for the player who
    chooses it (in [-1, 1]); every visit of a move returns exactly that value, so a search on it sees the
    bandit of UCB1 with the noise removed.
    """

    values: tuple[float, ...]
    chosen: int | None = None  # the move played, None at the root

    def __post_init__(self) -> None:
        if len(self.values) < 2 or not all(-1 <= v <= 1 for v in self.values):
            raise ValueError(f"values must be at least two numbers in [-1, 1], got {self.values!r}")

    @property
    def to_move(self) -> int:
        return 0 if self.chosen is None else 1

    def legal_moves(self) -> list[int]:
        return [] if self.chosen is not None else list(range(len(self.values)))

    def play(self, move: int) -> Bandit:
        if move not in self.legal_moves():
            raise ValueError(f"move must be one of {self.legal_moves()}, got {move!r}")
        return Bandit(self.values, move)

    def is_terminal(self) -> bool:
        return self.chosen is not None

    def result(self) -> float:
        if self.chosen is None:
            raise ValueError("the game is not over")
        return -float(self.values[self.chosen])  # for the side to move after the choice

    def evaluate(self) -> float:
        return 0.0

    def key(self) -> tuple[tuple[float, ...], int | None]:
        return self.values, self.chosen


def ucb1(means: Sequence[float], rounds: int, *, c: float = math.sqrt(2), runs: int = 1,
         rng: np.random.Generator | int = 0) -> np.ndarray:
    """The number of pulls of each arm after `rounds` rounds of UCB1 on Bernoulli arms, shape (runs, arms).

    Chapter 4, Sec. 'Monte-Carlo tree search' (Auer et al. 2002): pull each arm once, then the arm with the
    largest ``mean_i + c sqrt(ln n / T_i)``; arm i pays 1 with probability ``means[i]``, else 0. UCB1's own
    constant is ``c = sqrt(2)`` for rewards in [0, 1].

    Raises:
        ValueError: if a mean is outside [0, 1], there are fewer than two arms, `rounds` < number of arms,
            `runs` < 1 or `c` < 0.
    """
    mu = np.asarray(means, dtype=float)
    if mu.ndim != 1 or len(mu) < 2 or not ((mu >= 0) & (mu <= 1)).all():
        raise ValueError(f"means must be at least two probabilities in [0, 1], got {means!r}")
    check_integer("rounds", rounds, len(mu))
    check_integer("runs", runs, 1)
    if not c >= 0:
        raise ValueError(f"c must be >= 0, got {c!r}")
    gen = _rng(rng)
    k = len(mu)
    pulls = np.zeros((runs, k))
    totals = np.zeros((runs, k))
    rows = np.arange(runs)
    draws = gen.random((runs, rounds))
    for t in range(rounds):
        if t < k:
            arm = np.full(runs, t)
        else:
            index = totals / pulls + c * np.sqrt(math.log(t) / pulls)
            arm = index.argmax(axis=1)
        pulls[rows, arm] += 1
        totals[rows, arm] += draws[:, t] < mu[arm]
    return pulls


def ucb1_pull_bound(gap: float, rounds: int) -> float:
    """Auer et al.'s bound on the expected pulls of an arm `gap` below the best after `rounds` rounds of UCB1.

    Chapter 4, Sec. 'Monte-Carlo tree search', Theorem thm-ucb1: ``8 ln n / gap^2 + 1 + pi^2 / 3`` for rewards
    in [0, 1].

    Raises:
        ValueError: if `gap` is not in (0, 1] or `rounds` < 1.
    """
    g = check_positive("gap", gap)
    if g > 1:
        raise ValueError(f"gap must be in (0, 1], got {gap!r}")
    n = check_integer("rounds", rounds, 1)
    return 8 * math.log(n) / g**2 + 1 + math.pi**2 / 3


def puct_crossover(gap: float, prior_better: float, *, c_init: float = 1.25, c_base: float = 19652.0) -> float:
    """The simulations PUCT needs before the better of two root moves is the more visited, by the balance of eq. (eq-puct).

    Chapter 4, Sec. 'Monte-Carlo tree search'. Two root moves with exact values `gap` apart and priors
    `prior_better` and ``1 - prior_better``: PUCT keeps their scores Q + U level, so while the worse move has
    the larger prior it also has more visits; the counts are equal when

        ``gap * (1 + S / 2) = c(N) sqrt(N) (prior_worse - prior_better)``, N = S + 1,

    c(N) the schedule `puct_exploration`. Returns that S (a real number); 0 when the better move has the
    larger prior (it leads from the start). For large S, S grows like ``(2 c (prior_worse - prior_better) / gap)^2``.

    Raises:
        ValueError: if `gap` <= 0 or `prior_better` is not in (0, 1).
    """
    g = check_positive("gap", gap)
    p = check_number("prior_better", prior_better, minimum=0.0)
    if not 0 < p < 1:
        raise ValueError(f"prior_better must be in (0, 1), got {prior_better!r}")
    spread = (1 - p) - p
    if spread <= 0:
        return 0.0

    def excess(s: float) -> float:  # > 0 while the worse move still has more visits
        n = s + 1
        return puct_exploration(n, c_init, c_base) * math.sqrt(n) * spread - g * (1 + s / 2)

    if excess(0.0) <= 0:
        return 0.0
    hi = 1.0
    while excess(hi) > 0:
        hi *= 2
    return brentq(excess, 0.0, hi, xtol=1e-12)


def grill_multiplier(visits: float, num_actions: int, *, c_init: float = 1.25, c_base: float = 19652.0) -> float:
    """lambda_N = c(N) sqrt(N) / (num_actions + N), the weight of the KL term in eq. (eq-regularized-policy).

    Chapter 4, Sec. 'Monte-Carlo tree search' (Grill et al. 2020), with AlphaZero's schedule c(N)
    (`puct_exploration`); N is the node's visit count.

    Raises:
        ValueError: if `visits` < 0 or `num_actions` < 1.
    """
    n = check_number("visits", visits, minimum=0.0)
    k = check_integer("num_actions", num_actions, 1)
    return puct_exploration(n, c_init, c_base) * math.sqrt(n) / (k + n)


def regularized_policy(q: Sequence[float], prior: Sequence[float], multiplier: float) -> np.ndarray:
    """The policy of eq. (eq-regularized-policy): ``argmax_y q . y - multiplier KL(prior || y)`` over distributions y.

    Chapter 4, Sec. 'Monte-Carlo tree search' (Grill et al. 2020). The solution is
    ``y(a) = multiplier * prior(a) / (alpha - q(a))`` with the scalar alpha > max_a q(a) that makes y sum to 1,
    found by bisection (the sum decreases in alpha).

    Raises:
        ValueError: if the lengths differ, `prior` is not a distribution with positive entries, or
            `multiplier` <= 0.
    """
    qs, ps = np.asarray(q, dtype=float), np.asarray(prior, dtype=float)
    if qs.shape != ps.shape or qs.ndim != 1 or len(qs) < 1:
        raise ValueError(f"q and prior must be vectors of the same length, got {qs.shape} and {ps.shape}")
    if not (ps > 0).all() or abs(ps.sum() - 1) > 1e-9:
        raise ValueError(f"prior must be a distribution with positive entries, got {prior!r}")
    lam = check_positive("multiplier", multiplier)
    lo, hi = float(np.max(qs + lam * ps)), float(np.max(qs)) + lam  # the sum is >= 1 at lo and <= 1 at hi
    for _ in range(200):
        mid = (lo + hi) / 2
        if (lam * ps / (mid - qs)).sum() > 1:
            lo = mid
        else:
            hi = mid
    y = lam * ps / ((lo + hi) / 2 - qs)
    return y / y.sum()
