"""Tests for dltheory.games: the rules of each game, and bad input raising clear errors."""

from __future__ import annotations

import chess
import pytest

from dltheory.games import Chess, Game, Hexapawn, IndependentTree, RandomTree, TicTacToe
from dltheory.search import alphabeta, minimax, perft

KIWIPETE = "r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 0 1"


def test_every_game_follows_the_protocol() -> None:
    for game in (Hexapawn(), TicTacToe(), Chess(), RandomTree(2, 2)):
        assert isinstance(game, Game)
        assert game.to_move == 0
        hash(game.key())


# ----------------------------------------------------------------------------- Hexapawn


def test_hexapawn_start_and_first_replies() -> None:
    game = Hexapawn()
    assert str(game).splitlines() == ["ppp", "...", "PPP", "White to move"]
    assert game.legal_moves() == ["a1a2", "b1b2", "c1c2"]
    after = game.play("b1b2")
    assert after.to_move == 1
    assert after.legal_moves() == ["a3b2", "c3b2", "a3a2", "c3c2"]
    assert game.board == "PPP...ppp"  # the old state is unchanged


def test_hexapawn_ends_on_last_rank_capture_of_all_or_no_move() -> None:
    # White pawn reaches rank 3: Black to move has lost even though it has pawns.
    reached = Hexapawn(3, "....p.P.p", to_move=1)
    with pytest.raises(ValueError, match="board"):
        Hexapawn(3, "....p.P.p", to_move=0)  # White on its last rank and still to move
    assert reached.is_terminal() and reached.result() == -1
    # Black has no pawns left.
    wiped = Hexapawn(3, "P.P.P....", to_move=1)
    assert wiped.is_terminal() and wiped.result() == -1
    # White's only pawn is blocked and has nothing to capture.
    blocked = Hexapawn(3, "P..p.....", to_move=0)
    assert blocked.legal_moves() == [] and blocked.is_terminal()
    # Not over: a move is available.
    assert not Hexapawn(3, "P...p....", to_move=0).is_terminal()


def test_hexapawn_evaluate_is_inside_the_open_interval() -> None:
    for board in ("PPP...ppp", "PP..p...p", "P.......p"):
        value = Hexapawn(3, board).evaluate()
        assert -1 < value < 1
    assert Hexapawn(3, "PPP....pp").evaluate() > 0  # a pawn up


def test_hexapawn_solved_second_player_wins() -> None:
    # Gardner (1962): with perfect play the second player wins 3x3 Hexapawn.
    assert minimax(Hexapawn(3)).value == -1
    assert alphabeta(Hexapawn(3)).value == -1


def test_hexapawn_actions_are_distinct_and_in_range() -> None:
    for size in (3, 4):
        game = Hexapawn(size)
        seen_states = [game, game.play(game.legal_moves()[1])]
        for state in seen_states:
            actions = [state.action(m) for m in state.legal_moves()]
            assert len(set(actions)) == len(actions)
            assert all(0 <= a < state.num_actions for a in actions)
            assert len(state.features()) == 2 * size * size
    # The same pawn move has the same index for both colours (the board is seen from the mover).
    assert Hexapawn().action("a1a2") == Hexapawn(3, "PPP...ppp", 1).action("a3a2")


def test_hexapawn_bad_input() -> None:
    with pytest.raises(ValueError, match="size"):
        Hexapawn(2)
    with pytest.raises(ValueError, match="size"):
        Hexapawn(9)
    with pytest.raises(ValueError, match="board"):
        Hexapawn(3, "PPPxxxppp")
    with pytest.raises(ValueError, match="to_move"):
        Hexapawn(3, "PPP...ppp", to_move=2)
    with pytest.raises(ValueError, match="move"):
        Hexapawn().play("a1b2")  # a diagonal step onto an empty square is not a capture
    with pytest.raises(ValueError, match="result"):
        Hexapawn().result()


# ----------------------------------------------------------------------------- Tic-tac-toe


def test_tictactoe_rules() -> None:
    game = TicTacToe().play(4).play(0)
    assert game.board == "O...X...." and game.to_move == 0
    won = TicTacToe("XX.OO....").play(2)
    assert won.is_terminal() and won.result() == -1 and won.legal_moves() == []
    draw = TicTacToe("XOXXOOOXX")
    assert draw.is_terminal() and draw.result() == 0


def test_tictactoe_is_a_draw_and_its_tree_has_the_known_size() -> None:
    # The full tic-tac-toe game tree has 549,946 nodes and 255,168 finished games.
    result = minimax(TicTacToe())
    assert result.value == 0
    assert (result.nodes, result.leaves) == (549_946, 255_168)


def test_tictactoe_bad_input() -> None:
    with pytest.raises(ValueError, match="board"):
        TicTacToe("XXX")
    with pytest.raises(ValueError, match="board"):
        TicTacToe("XX.......")  # two X and no O
    with pytest.raises(ValueError, match="move"):
        TicTacToe().play(4).play(4)
    with pytest.raises(ValueError, match="move"):
        TicTacToe().play(9)


# ----------------------------------------------------------------------------- Chess


@pytest.mark.parametrize(
    ("fen", "counts"),
    [(None, [20, 400, 8902]), (KIWIPETE, [48, 2039])],
)
def test_chess_perft_through_the_game_interface(fen: str | None, counts: list[int]) -> None:
    # Published perft counts: the interface exposes every legal move, and no illegal one.
    game = Chess(fen)
    assert [perft(game, depth) for depth in range(1, len(counts) + 1)] == counts


def test_chess_perft_counts_legal_moves_whatever_the_material_and_counters() -> None:
    # Two lone kings: the game is over (insufficient material), but perft counts the rules' moves.
    kings = Chess("8/8/8/4k3/8/8/8/4K3 w - - 0 1")
    assert kings.is_terminal() and kings.legal_moves() == []
    # White's king has 5 moves; after each, none of Black's 8 king moves comes near it.
    assert [perft(kings, d) for d in range(3)] == [1, 5, 5 * 8]
    # The 75-move rule ends the game too; perft still counts (position 3 of the perft lists: 14, 191).
    late = Chess("8/2p5/3p4/KP5r/1R3p1k/8/4P1P1/8 w - - 150 200")
    assert late.is_terminal() and [perft(late, d) for d in (1, 2)] == [14, 191]
    # Checkmate and stalemate still end a sequence.
    assert perft(Chess("rnb1kbnr/pppp1ppp/8/4p3/6Pq/5P2/PPPPP2P/RNBQKBNR w KQkq - 1 3"), 2) == 0


def test_chess_play_is_immutable_and_accepts_uci() -> None:
    game = Chess()
    after = game.play("e2e4")
    assert game.fen == chess.STARTING_FEN
    assert after.to_move == 1
    assert after.play(chess.Move.from_uci("e7e5")).fen.startswith("rnbqkbnr/pppp1ppp/8/4p3/4P3")


def test_chess_results() -> None:
    mated = Chess().play("f2f3").play("e7e5").play("g2g4").play("d8h4")  # fool's mate
    assert mated.is_terminal() and mated.result() == -1
    stalemate = Chess("7k/5Q2/6K1/8/8/8/8/8 b - - 0 1")
    assert stalemate.is_terminal() and stalemate.result() == 0
    assert -1 < Chess(KIWIPETE).evaluate() < 1
    assert Chess("4k3/8/8/8/8/8/8/3QK3 w - - 0 1").evaluate() > 0.5  # a queen up


def test_chess_bad_input() -> None:
    with pytest.raises(ValueError, match="fen"):
        Chess("not a fen")
    with pytest.raises(ValueError, match="fen"):
        Chess("8/8/8/8/8/8/8/8 w - - 0 1")  # no kings
    with pytest.raises(ValueError, match="move"):
        Chess().play("e2e5")
    with pytest.raises(ValueError, match="move"):
        Chess().play("hello")
    with pytest.raises(ValueError, match="move"):
        Chess().play(chess.Move.from_uci("e7e5"))  # Black's move, White to play


# ----------------------------------------------------------------------------- Random trees


def leaves(tree: RandomTree) -> list[int]:
    if tree.is_terminal():
        return [tree.result()]
    return [v for m in tree.legal_moves() for v in leaves(tree.play(m))]


def test_random_tree_values_are_fixed_by_the_seed() -> None:
    assert leaves(RandomTree(3, 3, seed=5)) == leaves(RandomTree(3, 3, seed=5))
    assert leaves(RandomTree(3, 3, seed=5)) != leaves(RandomTree(3, 3, seed=6))
    # The orderings relabel the moves of one tree: same multiset of leaves, same value.
    trees = [RandomTree(3, 4, seed=2, ordering=o) for o in ("random", "best_first", "worst_first")]
    assert len({tuple(sorted(leaves(t))) for t in trees}) == 1
    assert len({minimax(t).value for t in trees}) == 1


@pytest.mark.parametrize("seed", range(5))
def test_random_tree_orderings(seed: int) -> None:
    for ordering, expected in (("best_first", 0), ("worst_first", 3)):
        node = RandomTree(4, 3, seed=seed, ordering=ordering)
        while not node.is_terminal():
            values = [-minimax(node.play(m)).value for m in node.legal_moves()]
            assert values.index(max(values)) == expected  # the best move is first / last
            assert len(set(values)) == len(values)  # no ties: the best move is unique
            assert minimax(node).value == node.value  # the stored value is the negamax value
            node = node.play(1)


def test_random_tree_bad_input() -> None:
    with pytest.raises(ValueError, match="branching"):
        RandomTree(0, 3)
    with pytest.raises(ValueError, match="depth"):
        RandomTree(2, -1)
    with pytest.raises(ValueError, match="ordering"):
        RandomTree(2, 2, ordering="sorted")
    with pytest.raises(ValueError, match="seed"):
        RandomTree(2, 2, seed=1.5)
    with pytest.raises(ValueError, match="move"):
        RandomTree(2, 2).play(2)
    assert RandomTree(2, 0).legal_moves() == []


def test_independent_tree() -> None:
    tree = IndependentTree(3, 2, seed=4)
    assert isinstance(tree, Game) and tree.to_move == 0 and tree.legal_moves() == [0, 1, 2]
    leaf = tree.play(1).play(2)
    assert leaf.is_terminal() and leaf.legal_moves() == [] and leaf.to_move == 0
    assert -1 < leaf.result() < 1 and leaf.result() == IndependentTree(3, 2, seed=4).play(1).play(2).result()
    values = {tree.play(a).play(b).result() for a in range(3) for b in range(3)}
    assert len(values) == 9  # independent draws, all different
    assert IndependentTree(3, 2, seed=5).play(1).play(2).result() != leaf.result()
    assert tree.evaluate() == 0.0 and leaf.key() == (1, 2)
    with pytest.raises(ValueError, match="result"):
        tree.result()
    with pytest.raises(ValueError, match="move"):
        leaf.play(0)
    with pytest.raises(ValueError, match="move"):
        tree.play(3)
    for args, name in (((0, 2), "branching"), ((2, -1), "depth"), ((2, 2, -1), "seed"), ((2.0, 2), "branching")):
        with pytest.raises(ValueError, match=name):
            IndependentTree(*args)
