"""Two-player games as trees, behind one small interface (Chapter 4, Sec. 'Games as trees').

Every game and every search of Chapter 4 speaks the `Game` protocol. A state is immutable:
`play(move)` returns a new state and leaves the old one untouched, as in sunfish, so a search
never has to undo a move. Values are always from the point of view of the side to move
(the negamax convention, eq. (eq-negamax)): `result()` is +1 when the side to move has won,
0 for a draw and -1 when it has lost, and `evaluate()` is a guess strictly between -1 and +1
for positions the search does not look beyond.

The games:

- `Hexapawn(size)`: Gardner's (1962) pawn game on an n x n board, small enough to solve.
- `TicTacToe()`: noughts and crosses.
- `Chess(fen)`: chess, with every rule delegated to python-chess.
- `RandomTree(branching, depth, seed, ordering)`: synthetic uniform trees whose move ordering
  is under our control, for measuring alpha-beta against Knuth & Moore (1975).
- `IndependentTree(branching, depth, seed)`: uniform trees with independent leaf values, the
  model of Pearl (1982) for alpha-beta under random order.
"""

from __future__ import annotations

import random
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, Protocol, runtime_checkable

import chess
import chess.polyglot

from dltheory import engine
from dltheory.checks import check_integer

Move = Hashable
Ordering = Literal["random", "best_first", "worst_first"]


@runtime_checkable
class Game(Protocol):
    """A position of a two-player, zero-sum, perfect-information game (Chapter 4, Sec. 'Games as trees').

    Attributes:
        to_move: the player to move, 0 for the first player (White, X) and 1 for the second.
    """

    to_move: int

    def legal_moves(self) -> list[Move]:
        """The moves of the side to move; empty exactly when the game is over."""
        ...

    def play(self, move: Move) -> Game:
        """The position after `move`; raises ValueError when `move` is not legal here."""
        ...

    def is_terminal(self) -> bool:
        """Whether the game is over."""
        ...

    def result(self) -> float:
        """The outcome for the side to move of a finished game: +1 won, 0 drawn, -1 lost."""
        ...

    def evaluate(self) -> float:
        """A static guess of `result()` for an unfinished game, strictly between -1 and +1."""
        ...

    def key(self) -> Hashable:
        """A hashable key equal for equal positions, for tables of solved positions."""
        ...


def _check_move(game: Game, move: Move) -> None:
    if move not in game.legal_moves():
        raise ValueError(f"move {move!r} is not legal in this position; legal moves: {game.legal_moves()}")


# --------------------------------------------------------------------------------------------
# Hexapawn


@dataclass(frozen=True)
class Hexapawn:
    """Gardner's (1962) Hexapawn on a size x size board (Chapter 4, Sec. 'Solving Hexapawn').

    Each side has `size` pawns on its first rank. A pawn moves one square straight ahead onto an
    empty square or one square diagonally ahead onto an enemy pawn, capturing it; there is no
    double step, en passant or promotion. A player wins by reaching the last rank, by capturing
    every enemy pawn, or by leaving the opponent without a legal move; there are no draws.
    White (player 0, "P") starts from rank 1; Black (player 1, "p") from rank `size`.

    Moves are strings of two square names such as "b1b2" (files a, b, ..., ranks 1, 2, ...).

    Args:
        size: the board is size x size, 3 <= size <= 8 (3 is Gardner's Hexapawn).
        board: the squares row by row from a1, "P", "p" or ".", length size**2; "" for the start.
        to_move: 0 when White is to move, 1 for Black.

    Raises:
        ValueError: if `size`, `board` or `to_move` is out of range, or the side to move already
            stands on its last rank.

    Example:
        >>> Hexapawn().play("b1b2").legal_moves()
        ['a3b2', 'c3b2', 'a3a2', 'c3c2']
    """

    size: int = 3
    board: str = ""
    to_move: int = 0

    def __post_init__(self) -> None:
        n = self.size
        if isinstance(n, bool) or not isinstance(n, int) or not 3 <= n <= 8:
            raise ValueError(f"size must be an integer from 3 to 8, got {n!r}")
        if self.board == "":
            object.__setattr__(self, "board", "P" * n + "." * (n * n - 2 * n) + "p" * n)
        if not isinstance(self.board, str) or len(self.board) != n * n or set(self.board) - set("Pp."):
            raise ValueError(f"board must be a string of {n * n} characters from 'P', 'p', '.', got {self.board!r}")
        if self.to_move not in (0, 1):
            raise ValueError(f"to_move must be 0 or 1, got {self.to_move!r}")
        if ("P" in self.board[-n:]) if self.to_move == 0 else ("p" in self.board[:n]):
            raise ValueError(f"board has a pawn of the side to move on its last rank (the game is over): {self.board!r}")

    def square_name(self, square: int) -> str:
        """The name of a square index (a1 = 0, b1 = 1, ...)."""
        return "abcdefgh"[square % self.size] + str(square // self.size + 1)

    @cached_property
    def _moves(self) -> list[str]:
        n, board = self.size, self.board
        mine, theirs, step = ("P", "p", n) if self.to_move == 0 else ("p", "P", -n)
        if theirs in (board[:n] if self.to_move == 0 else board[-n:]):
            return []  # the opponent's pawn stands on our first rank: we have lost
        captures, advances = [], []
        for sq, piece in enumerate(board):
            if piece != mine:
                continue
            ahead = sq + step
            if board[ahead] == ".":
                advances.append((sq, ahead))
            file = sq % n
            for target, ok in ((ahead - 1, file > 0), (ahead + 1, file < n - 1)):
                if ok and board[target] == theirs:
                    captures.append((sq, target))
        return [self.square_name(a) + self.square_name(b) for a, b in captures + advances]

    def legal_moves(self) -> list[str]:
        """The moves of the side to move, captures first; empty when the game is over."""
        return list(self._moves)

    def play(self, move: str) -> Hexapawn:
        """The position after `move` (such as "a1a2"); raises ValueError when it is illegal."""
        _check_move(self, move)
        cut = 2 if move[2].isalpha() else 3  # rank numbers are one digit for size <= 8
        frm, to = self._square(move[:cut]), self._square(move[cut:])
        squares = list(self.board)
        squares[to], squares[frm] = squares[frm], "."
        return Hexapawn(self.size, "".join(squares), 1 - self.to_move)

    def _square(self, name: str) -> int:
        return "abcdefgh".index(name[0]) + (int(name[1:]) - 1) * self.size

    def is_terminal(self) -> bool:
        """Whether the side to move has lost (Hexapawn has no draws)."""
        return not self._moves

    def result(self) -> float:
        """-1: a finished game of Hexapawn is always lost by the side to move."""
        if not self.is_terminal():
            raise ValueError("result() is defined only for a finished game; use evaluate()")
        return -1.0

    def evaluate(self) -> float:
        """Pawn count difference plus the furthest advance, squashed into (-1, 1)."""
        n = self.size
        white = [sq // n for sq, p in enumerate(self.board) if p == "P"]  # rows advanced
        black = [n - 1 - sq // n for sq, p in enumerate(self.board) if p == "p"]
        score = len(white) - len(black) + (max(white, default=0) - max(black, default=0)) / n
        score = score if self.to_move == 0 else -score
        return score / (abs(score) + n)

    def key(self) -> tuple[str, int]:
        """(board, to_move)."""
        return self.board, self.to_move

    def __str__(self) -> str:
        n = self.size
        rows = [self.board[r * n : (r + 1) * n] for r in reversed(range(n))]
        return "\n".join(rows) + f"\n{'White' if self.to_move == 0 else 'Black'} to move"

    # Fixed action space for policy networks (Chapter 4, Sec. 'AlphaZero on Hexapawn').
    @property
    def num_actions(self) -> int:
        """The size of the fixed action space, size**2 from-squares times 3 directions."""
        return 3 * self.size * self.size

    def action(self, move: str) -> int:
        """The index of `move` in the fixed action space, from the mover's point of view.

        Squares are counted from the mover's own first rank, so the same pawn move has the same
        index for White and Black; direction 0 captures towards file a, 1 advances, 2 captures
        towards the last file.
        """
        cut = 2 if move[2].isalpha() else 3
        frm, to = self._square(move[:cut]), self._square(move[cut:])
        direction = to % self.size - frm % self.size + 1
        if self.to_move == 1:
            frm = (self.size - 1 - frm // self.size) * self.size + frm % self.size
        return 3 * frm + direction

    def features(self) -> tuple[float, ...]:
        """The board seen by the side to move: its pawns, then the opponent's, size**2 each."""
        n = self.size
        rows = range(n) if self.to_move == 0 else reversed(range(n))
        order = [r * n + f for r in rows for f in range(n)]
        mine, theirs = ("P", "p") if self.to_move == 0 else ("p", "P")
        return tuple(float(self.board[s] == mine) for s in order) + tuple(float(self.board[s] == theirs) for s in order)


# --------------------------------------------------------------------------------------------
# Tic-tac-toe

_LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))


@dataclass(frozen=True)
class TicTacToe:
    """Tic-tac-toe (Chapter 4, Sec. 'Games as trees'); X (player 0) moves first.

    Squares are numbered 0..8 row by row from the top left; a move is the number of an empty square.

    Args:
        board: nine characters from "X", "O", "."; the default is the empty board.

    Raises:
        ValueError: if `board` is not nine such characters, or its counts of X and O or its
            lines are impossible.
    """

    board: str = "........."

    def __post_init__(self) -> None:
        b = self.board
        if not isinstance(b, str) or len(b) != 9 or set(b) - set("XO."):
            raise ValueError(f"board must be 9 characters from 'X', 'O', '.', got {b!r}")
        if b.count("X") - b.count("O") not in (0, 1):
            raise ValueError(f"board must have as many X as O or one more, got {b!r}")
        winners = {b[i] for i, j, k in _LINES if b[i] != "." and b[i] == b[j] == b[k]}
        if len(winners) == 2 or winners == {"XO"[self.to_move]}:
            raise ValueError(f"board has a line for the side to move or for both sides: {b!r}")

    @property
    def to_move(self) -> int:
        """0 when X is to move, 1 for O."""
        return self.board.count("X") - self.board.count("O")

    @cached_property
    def _winner(self) -> str | None:
        for a, b, c in _LINES:
            if self.board[a] != "." and self.board[a] == self.board[b] == self.board[c]:
                return self.board[a]
        return None

    def legal_moves(self) -> list[int]:
        """The empty squares; empty when the game is over."""
        if self._winner:
            return []
        return [i for i, s in enumerate(self.board) if s == "."]

    def play(self, move: int) -> TicTacToe:
        """The position after marking square `move`; raises ValueError when it is not a legal move."""
        _check_move(self, move)
        mark = "XO"[self.to_move]
        return TicTacToe(self.board[:move] + mark + self.board[move + 1 :])

    def is_terminal(self) -> bool:
        """Whether someone has three in a row or the board is full."""
        return self._winner is not None or "." not in self.board

    def result(self) -> float:
        """-1 when the previous player completed a line, 0 for a full board without one."""
        if not self.is_terminal():
            raise ValueError("result() is defined only for a finished game; use evaluate()")
        return -1.0 if self._winner else 0.0

    def evaluate(self) -> float:
        """Lines still open to the side to move minus those open to the opponent, over 9."""
        me, them = "XO"[self.to_move], "XO"[1 - self.to_move]
        open_me = sum(all(self.board[i] != them for i in line) for line in _LINES)
        open_them = sum(all(self.board[i] != me for i in line) for line in _LINES)
        return (open_me - open_them) / 9

    def key(self) -> str:
        """The board string (it determines the side to move)."""
        return self.board

    def __str__(self) -> str:
        return "\n".join(self.board[r : r + 3] for r in (0, 3, 6))

    @property
    def num_actions(self) -> int:
        """Nine, one action per square."""
        return 9

    def action(self, move: int) -> int:
        """The square itself."""
        return move

    def features(self) -> tuple[float, ...]:
        """The side to move's marks, then the opponent's, 9 each."""
        me, them = "XO"[self.to_move], "XO"[1 - self.to_move]
        return tuple(float(s == me) for s in self.board) + tuple(float(s == them) for s in self.board)


# --------------------------------------------------------------------------------------------
# Chess


class Chess:
    """A chess position with every rule from python-chess (Chapter 4, Sec. 'An engine you can play').

    Moves are `chess.Move` objects; `play` also accepts a UCI string such as "e2e4". The game is
    over at checkmate, stalemate, insufficient material, the 75-move rule and fivefold
    repetition (python-chess's automatic endings; draws that must be claimed do not end it).
    `evaluate()` squashes the engine's material and piece-square score cp (in centipawns) into
    (-1, 1) by ``cp / (abs(cp) + 400)``, so that any checkmate outranks any evaluated position.

    Args:
        fen: a position in Forsyth-Edwards Notation; None for the starting position.

    Raises:
        ValueError: if `fen` cannot be parsed or describes an impossible position.
    """

    def __init__(self, fen: str | None = None) -> None:
        if fen is None:
            board = chess.Board()
        else:
            if not isinstance(fen, str):
                raise ValueError(f"fen must be a string, got {fen!r}")
            try:
                board = chess.Board(fen)
            except ValueError as err:
                raise ValueError(f"fen is not a valid FEN ({err}): {fen!r}") from None
            if not board.is_valid():
                raise ValueError(f"fen describes an impossible position ({board.status()!r}): {fen!r}")
        self._board = board

    @classmethod
    def _from_board(cls, board: chess.Board) -> Chess:
        game = cls.__new__(cls)
        game._board = board
        return game

    @property
    def board(self) -> chess.Board:
        """A copy of the python-chess board (for drawing, or for the engine)."""
        return self._board.copy()

    @property
    def fen(self) -> str:
        """The position in Forsyth-Edwards Notation."""
        return self._board.fen()

    @property
    def to_move(self) -> int:
        """0 when White is to move, 1 for Black."""
        return 0 if self._board.turn == chess.WHITE else 1

    @cached_property
    def _moves(self) -> list[chess.Move]:
        if self._board.is_game_over():
            return []
        return list(self._board.legal_moves)

    def legal_moves(self) -> list[chess.Move]:
        """All legal moves of the side to move, in python-chess's order; empty when the game is over."""
        return list(self._moves)

    def play(self, move: chess.Move | str) -> Chess:
        """The position after `move` (a `chess.Move` or a UCI string); raises ValueError when illegal."""
        if isinstance(move, str):
            try:
                move = chess.Move.from_uci(move)
            except ValueError:
                raise ValueError(f"move {move!r} is not a move in UCI notation such as 'e2e4'") from None
        if move not in self._moves:
            raise ValueError(f"move {str(move)!r} is not legal in the position {self.fen!r}")
        board = self._board.copy()
        board.push(move)
        return Chess._from_board(board)

    def is_terminal(self) -> bool:
        """Whether the game is over (see the class docstring for which endings count)."""
        return not self._moves

    def result(self) -> float:
        """-1 when the side to move is checkmated, otherwise 0 (a draw)."""
        if not self.is_terminal():
            raise ValueError("result() is defined only for a finished game; use evaluate()")
        return -1.0 if self._board.is_checkmate() else 0.0

    def evaluate(self) -> float:
        """The engine's centipawn score cp for the side to move, squashed to ``cp / (abs(cp) + 400)``."""
        cp = engine.evaluate(self._board)
        return cp / (abs(cp) + 400)

    def key(self) -> int:
        """The position's Zobrist (1970) hash in the Polyglot convention (move counters ignored)."""
        return chess.polyglot.zobrist_hash(self._board)

    def __str__(self) -> str:
        return str(self._board)

    def __repr__(self) -> str:
        return f"Chess({self.fen!r})"


# --------------------------------------------------------------------------------------------
# Synthetic uniform trees


@dataclass(frozen=True)
class RandomTree:
    """A uniform game tree of `branching` moves per position and `depth` plies (Chapter 4, Sec. 'Alpha-beta').

    The tree is generated from the root down, so every node's negamax value is fixed before
    its subtree is looked at. Each node carries its value v for the side to move and an open
    interval (lo, hi) around it, the alpha-beta window it receives when the tree is searched
    worst move first. Its children, worst first, get values w_1 < w_2 < ... < w_b = v from its
    point of view, w_1 .. w_{b-1} drawn uniformly in (lo, v); child i gets value -w_i and
    interval (-hi, -w_{i-1}) with w_0 = lo (the window it will see). So the best move is
    unique, all values lie in (-1, 1), and they are fixed by `seed`.

    `ordering` only decides the order in which children are listed: "best_first" puts the best
    move for the side to move first, so alpha-beta evaluates exactly the minimal tree of Knuth &
    Moore (1975), eq. (eq-minimal-tree); "worst_first" puts it last, and because every value lies
    inside the window it is searched with, alpha-beta cuts nothing and evaluates all b^d
    leaves (the worst case, eq. (eq-worst-case)); "random" shuffles the children. The three
    orderings of one seed are the same tree with the moves relabelled.

    Moves are the integers 0 .. branching-1. `value` is the node's exact negamax value, and
    `evaluate()` returns it too (an oracle evaluation, for searches that stop early).

    Args:
        branching: moves per non-leaf position, an integer >= 1.
        depth: plies from the root to every leaf, an integer >= 0.
        seed: fixes the values.
        ordering: "random", "best_first" or "worst_first".

    Raises:
        ValueError: naming the parameter that is out of range.

    Example:
        >>> from dltheory.search import alphabeta, minimal_tree_leaves
        >>> alphabeta(RandomTree(3, 4, seed=0, ordering="best_first")).leaves == minimal_tree_leaves(3, 4)
        True
    """

    branching: int
    depth: int
    seed: int = 0
    ordering: Ordering = "random"
    path: tuple[int, ...] = field(default=(), repr=False)  # canonical (worst-first) child indices
    value: float = field(default=0.0, compare=False)
    window: tuple[float, float] = field(default=(-1.0, 1.0), repr=False, compare=False)

    def __post_init__(self) -> None:
        check_integer("branching", self.branching, 1)
        check_integer("depth", self.depth, 0)
        check_integer("seed", self.seed)
        if self.ordering not in ("random", "best_first", "worst_first"):
            raise ValueError(f"ordering must be 'random', 'best_first' or 'worst_first', got {self.ordering!r}")
        if not self.path:
            object.__setattr__(self, "value", random.Random(self.seed).uniform(-0.5, 0.5))

    @property
    def to_move(self) -> int:
        """0 at even plies from the root, 1 at odd plies."""
        return len(self.path) % 2

    @cached_property
    def _children(self) -> list[tuple[int, float, tuple[float, float]]]:
        """(canonical index, child value, child window), in listing order."""
        if len(self.path) == self.depth:
            return []
        b, v, (lo, hi) = self.branching, self.value, self.window
        rng = random.Random(hash((self.seed, self.path)))
        ours = sorted(lo + (v - lo) * (1.0 - rng.random()) for _ in range(b - 1)) + [v]  # worst first
        children = [(i, -w, (-hi, -(ours[i - 1] if i else lo))) for i, w in enumerate(ours)]
        if self.ordering == "best_first":
            children.reverse()
        elif self.ordering == "random":
            rng.shuffle(children)
        return children

    def legal_moves(self) -> list[int]:
        """0 .. branching-1 at an inner node, [] at a leaf."""
        return list(range(len(self._children)))

    def play(self, move: int) -> RandomTree:
        """The child reached by `move`; raises ValueError when there is no such child."""
        if not isinstance(move, int) or not 0 <= move < len(self._children):
            raise ValueError(f"move must be an integer in [0, {len(self._children)}), got {move!r}")
        canonical, value, window = self._children[move]
        return RandomTree(self.branching, self.depth, self.seed, self.ordering, self.path + (canonical,), value, window)

    def is_terminal(self) -> bool:
        """Whether this is a leaf (depth plies from the root)."""
        return len(self.path) == self.depth

    def result(self) -> float:
        """The leaf's value for the side to move, in (-1, 1)."""
        if not self.is_terminal():
            raise ValueError("result() is defined only at a leaf; use evaluate()")
        return self.value

    def evaluate(self) -> float:
        """The node's exact negamax value (an oracle evaluation)."""
        return self.value

    def key(self) -> tuple[int, ...]:
        """The path of canonical child indices from the root."""
        return self.path


_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class IndependentTree:
    """A uniform game tree whose leaf values are independent and uniform (Chapter 4, Sec. 'Alpha-beta').

    The model of Pearl (1982): `branching` moves per position, `depth` plies, and at every leaf
    a value for the side to move drawn independently and uniformly from (-1, 1), fixed by `seed`
    and the path. Nothing in the move order favours the best move, so it is the tree on which
    alpha-beta's random-order branching factor, `dltheory.search.pearl_branching_factor`, is
    measured. Moves are the integers 0 .. branching-1; `evaluate()` is 0 (no knowledge).

    Args:
        branching: moves per non-leaf position, an integer >= 1.
        depth: plies from the root to every leaf, an integer >= 0.
        seed: fixes the leaf values, a non-negative integer.

    Raises:
        ValueError: naming the parameter that is out of range.
    """

    branching: int
    depth: int
    seed: int = 0
    path: tuple[int, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if not self.path:  # the root is checked; its children inherit the checked numbers
            for name, low in (("branching", 1), ("depth", 0), ("seed", 0)):
                check_integer(name, getattr(self, name), low)

    @property
    def to_move(self) -> int:
        """0 at even plies from the root, 1 at odd plies."""
        return len(self.path) % 2

    def legal_moves(self) -> list[int]:
        """0 .. branching-1 at an inner node, [] at a leaf."""
        return [] if len(self.path) == self.depth else list(range(self.branching))

    def play(self, move: int) -> IndependentTree:
        """The child reached by `move`; raises ValueError when there is no such child."""
        if self.is_terminal() or isinstance(move, bool) or not isinstance(move, int) or not 0 <= move < self.branching:
            raise ValueError(f"move must be an integer in [0, {len(self.legal_moves())}), got {move!r}")
        return IndependentTree(self.branching, self.depth, self.seed, self.path + (move,))

    def is_terminal(self) -> bool:
        """Whether this is a leaf (depth plies from the root)."""
        return len(self.path) == self.depth

    def result(self) -> float:
        """The leaf's value for the side to move, uniform in (-1, 1) and independent of every other leaf's."""
        if not self.is_terminal():
            raise ValueError("result() is defined only at a leaf; use evaluate()")
        # splitmix64's finaliser of the path's hash: a cheap, well-mixed 64-bit number per leaf
        z = (hash((self.seed, self.path)) + 0x9E3779B97F4A7C15) & _MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        z ^= z >> 31
        return ((z >> 11) + 0.5) / 2**52 - 1.0  # uniform on a grid of 2^53 points strictly inside (-1, 1)

    def evaluate(self) -> float:
        """0: the tree gives no hint before a leaf."""
        return 0.0

    def key(self) -> tuple[int, ...]:
        """The path of moves from the root."""
        return self.path
