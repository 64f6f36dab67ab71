"""Wrong theories that Chapter 4's notebooks must catch (see tests/wrong_theories/__init__.py)."""

from __future__ import annotations

from wrong_theories import WrongTheory

GAME_TREES = "book/ch04/game_trees.ipynb"
ALPHA_BETA = "book/ch04/alpha_beta.ipynb"
ENGINE_PLAY = "book/ch04/engine_play.ipynb"
MCTS = "book/ch04/mcts.ipynb"
ALPHAZERO = "book/ch04/alphazero_hexapawn.ipynb"
TECHNIQUES = "book/ch04/search_techniques.ipynb"
NNUE = "book/ch04/nnue.ipynb"
MCTS_THEORY = "book/ch04/mcts_theory.ipynb"

WRONG_THEORIES: list[WrongTheory] = [
    WrongTheory(
        notebook=GAME_TREES, name="negamax-sign-dropped", kind="sign",
        description="V(s) = max_a V(s·a): negamax without its minus sign, each side's results taken as the other's",
        patch="import dltheory.search as m\n"
              "def minimax(game, depth=None):\n"
              "    count = [0, 0]\n"
              "    def value(state):\n"
              "        count[0] += 1\n"
              "        if state.is_terminal():\n"
              "            count[1] += 1\n"
              "            return state.result()\n"
              "        return max(value(state.play(move)) for move in state.legal_moves())\n"
              "    v = value(game)\n"
              "    return m.SearchResult(v + 0.0, None, count[0], count[1])\n"
              "m.minimax = minimax",
        caught_by="ch04.trees.hexapawn-black-after-any"),
    WrongTheory(
        notebook=GAME_TREES, name="tree-counted-by-positions", kind="other",
        description="the game tree's plies counted by distinct positions, not by paths",
        patch="import dltheory.search as m\n"
              "def tree_profile(game):\n"
              "    nodes, games, ply = [], [], {game.key(): game}\n"
              "    while ply:\n"
              "        nodes.append(len(ply))\n"
              "        games.append(sum(s.is_terminal() for s in ply.values()))\n"
              "        ply = {c.key(): c for s in ply.values() for c in (s.play(a) for a in s.legal_moves())}\n"
              "    return m.TreeProfile(tuple(nodes), tuple(games))\n"
              "m.tree_profile = tree_profile",
        caught_by="ch04.trees.tictactoe-nodes"),
    WrongTheory(
        notebook=ALPHA_BETA, name="minimal-tree-shared-leaf-counted-twice", kind="dropped-term",
        description="L_min = b^⌈d/2⌉ + b^⌊d/2⌋: the leaf the two strategies share (the −1) dropped",
        patch="import math\nimport dltheory.search as m\n"
              "m.minimal_tree_leaves = lambda b, d: b ** math.ceil(d / 2) + b ** (d // 2)",
        caught_by="ch04.alphabeta.best-first-d6"),
    WrongTheory(
        notebook=ALPHA_BETA, name="pearl-root-degree-off-by-one", kind="off-by-one",
        description="Pearl's ξ taken as the root of x^(b−1) + x − 1 = 0 instead of x^b + x − 1 = 0",
        patch="import dltheory.search as m\n_pearl = m.pearl_branching_factor\n"
              "m.pearl_branching_factor = lambda b: _pearl(b - 1)",
        caught_by="ch04.alphabeta.pearl-rate"),
    WrongTheory(
        notebook=MCTS, name="c-base-10pct-low", kind="constant",
        description="PUCT's schedule c(N) with c_base 10% too small (17,687 instead of 19,652)",
        patch="import dltheory.mcts as m\n_schedule = m.puct_exploration\n"
              "m.puct_exploration = lambda visits, c_init=1.25, c_base=19652.0: _schedule(visits, c_init, 0.9 * c_base)",
        caught_by="ch04.mcts.puct-schedule"),
    WrongTheory(
        notebook=ENGINE_PLAY, name="move-delta-ignores-captures", kind="dropped-term",
        description="the incremental evaluation drops the captured piece: a capture changes the score only by squares",
        patch="import chess\nimport dltheory.engine as m\n_delta = m.move_delta\n"
              "def move_delta(board, move):\n"
              "    victim = board.piece_type_at(move.to_square)\n"
              "    lost = m.PIECE_VALUES[victim] if victim else 0\n"
              "    return _delta(board, move) - lost\n"
              "m.move_delta = move_delta",
        caught_by="ch04.engine.fork"),
    WrongTheory(
        notebook=ALPHAZERO, name="value-target-wrong-side", kind="sign",
        description="the value target z given for the player who just moved instead of the side to move",
        patch="import dataclasses\nimport dltheory.alphazero as m\n_examples = m.solver_examples\n"
              "m.solver_examples = lambda game: [dataclasses.replace(e, value=-e.value) for e in _examples(game)]",
        caught_by="ch04.az.supervised-value-signs"),
    WrongTheory(
        notebook=ALPHAZERO, name="policy-target-is-the-prior", kind="other",
        description="self-play trains the policy towards the network's own prior: the search taken to improve nothing",
        patch="import dataclasses\nimport torch\nimport dltheory.alphazero as m\n_self_play = m.self_play\n"
              "def self_play(net, game, **kwargs):\n"
              "    examples = _self_play(net, game, **kwargs)\n"
              "    with torch.no_grad():\n"
              "        prior = torch.softmax(net(torch.tensor([e.features for e in examples]))[0], dim=1)\n"
              "    return [dataclasses.replace(e, policy=tuple(row.tolist())) for e, row in zip(examples, prior)]\n"
              "m.self_play = self_play",
        caught_by="ch04.az.selfplay-second-seat"),
    WrongTheory(
        notebook=ALPHAZERO, name="selfplay-value-wrong-side", kind="sign",
        description="self-play labels each position with the result for the player who just moved, not the side to move",
        patch="import dataclasses\nimport dltheory.alphazero as m\n_self_play = m.self_play\n"
              "m.self_play = lambda net, game, **kwargs: [dataclasses.replace(e, value=-e.value) for e in _self_play(net, game, **kwargs)]",
        caught_by="ch04.az.selfplay-second-seat"),
    WrongTheory(
        notebook=NNUE, name="capture-changes-no-column", kind="dropped-term",
        description="a capture changes only the mover's two squares in each half: the victim's column forgotten",
        patch="import chess\nimport dltheory.nnue as m\n_changed = m.changed_features\n"
              "def changed_features(board, move):\n"
              "    king = board.piece_type_at(move.from_square) == chess.KING\n"
              "    return _changed(board, move) - (0 if king else 2 * board.is_capture(move))\n"
              "m.changed_features = changed_features",
        caught_by="ch04.nnue.update-cost"),
    WrongTheory(
        notebook=NNUE, name="update-touches-one-half", kind="other",
        description="a move updates only the mover's half of the accumulator; the opponent's half is left alone",
        patch="import chess\nimport dltheory.nnue as m\n_changed = m.changed_features\n"
              "def changed_features(board, move):\n"
              "    king = board.piece_type_at(move.from_square) == chess.KING\n"
              "    return _changed(board, move) if king else _changed(board, move) // 2\n"
              "m.changed_features = changed_features",
        caught_by="ch04.nnue.update-cost"),
    WrongTheory(
        notebook=NNUE, name="training-target-from-white", kind="sign",
        description="the network trained on the search's scores from White's point of view, as engines store them, "
                    "while its two halves are ordered side to move first: Black's targets have the wrong sign",
        patch="import chess\nimport dltheory.nnue as m\n_train = m.train_nnue\n"
              "def train_nnue(boards, scores, **kwargs):\n"
              "    white = [s if b.turn == chess.WHITE else -s for b, s in zip(boards, scores)]\n"
              "    return _train(boards, white, **kwargs)\n"
              "m.train_nnue = train_nnue",
        caught_by="ch04.nnue.predicts-search"),
    WrongTheory(
        notebook=MCTS_THEORY, name="crossover-c-base-10pct-low", kind="constant",
        description="the cost of a bad prior computed with c_base 10% too small (17,687 instead of 19,652)",
        patch="import dltheory.mcts as m\n_schedule = m.puct_exploration\n"
              "m.puct_exploration = lambda visits, c_init=1.25, c_base=19652.0: _schedule(visits, c_init, 0.9 * c_base)",
        caught_by="ch04.mcts.prior-cost-schedule"),
    WrongTheory(
        notebook=MCTS_THEORY, name="crossover-better-bonus-dropped", kind="dropped-term",
        description="the balance at equal counts written with the worse move's prior alone, the better move's bonus forgotten",
        patch="import math\nimport dltheory.mcts as m\n"
              "def puct_crossover(gap, prior_better, *, c_init=1.25, c_base=19652.0):\n"
              "    s = 1.0\n"
              "    while m.puct_exploration(s + 1, c_init, c_base) * math.sqrt(s + 1) * (1 - prior_better) > gap * (1 + s / 2):\n"
              "        s += 1.0\n"
              "    return s\n"
              "m.puct_crossover = puct_crossover",
        caught_by="ch04.mcts.prior-cost-schedule"),
    WrongTheory(
        notebook=TECHNIQUES, name="strategy-leaves-swapped", kind="other",
        description="the two sides' strategies swapped: the side to move's b^ceil(d/2) leaves, the opponent's b^floor(d/2)",
        patch="import dltheory.search as m\n_leaves = m.strategy_leaves\n"
              "m.strategy_leaves = lambda b, d, side: _leaves(b, d, 'opponent' if side == 'to_move' else 'to_move')",
        caught_by="ch04.techniques.null-window-fails-high"),
    WrongTheory(
        notebook=TECHNIQUES, name="see-without-x-rays", kind="dropped-term",
        description="the static exchange counted with the attackers of the first position only: pieces behind the capturers never join",
        patch="import chess\nimport dltheory.engine as m\n"
              "def static_exchange(board, move):\n"
              "    values = {**m.PIECE_VALUES, chess.KING: 20_000}\n"
              "    to, mover = move.to_square, board.turn\n"
              "    lists = {c: sorted(values[board.piece_type_at(sq)] for sq in board.attackers(c, to)) for c in chess.COLORS}\n"
              "    on_square = values[board.piece_type_at(move.from_square)]\n"
              "    lists[mover].remove(on_square)\n"
              "    gains, side = [values[board.piece_type_at(to) or chess.PAWN]], not mover\n"
              "    while lists[side]:\n"
              "        gains.append(on_square - gains[-1])\n"
              "        on_square, side = lists[side].pop(0), not side\n"
              "    for k in range(len(gains) - 1, 0, -1):\n"
              "        gains[k - 1] = -max(-gains[k - 1], gains[k])\n"
              "    return gains[0]\n"
              "m.static_exchange = static_exchange",
        caught_by="ch04.techniques.see-xray"),
    WrongTheory(
        notebook=TECHNIQUES, name="id-overhead-last-iteration-dropped", kind="dropped-term",
        description="the overhead of iterative deepening counted as the earlier iterations alone, sum_{j>=1} b^-j ~ 1/(b - 1), the last iteration's own 1 dropped",
        patch="import dltheory.engine as m\n_overhead = m.iteration_overhead\n"
              "m.iteration_overhead = lambda branching, depth: _overhead(branching, depth) - 1.0",
        caught_by="ch04.techniques.id-overhead"),
    WrongTheory(
        notebook=TECHNIQUES, name="ebf-square-root", kind="exponent",
        description="the effective branching factor as the minimal tree's sqrt of the growth, (N(k)/N(1))^(1/(2(k-1))), as if b^(d/2) held per iteration",
        patch="import dltheory.engine as m\n_ebf = m.effective_branching_factor\n"
              "m.effective_branching_factor = lambda nodes: _ebf(nodes) ** 0.5",
        caught_by="ch04.techniques.id-overhead"),
]
