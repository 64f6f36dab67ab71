"""Wrong theories that Chapter 2's notebooks must catch (see tests/wrong_theories/__init__.py)."""

from __future__ import annotations

from wrong_theories import WrongTheory

WRONG_THEORIES: list[WrongTheory] = []
