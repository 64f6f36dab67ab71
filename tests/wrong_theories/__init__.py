"""Wrong theories for the claims-bite test (CONTRIBUTING.md, "The claims-bite test").

Each chapter lists, in ``chNN.py``, the wrong theories that its notebooks must catch: a first cell that
patches one library function (a constant off by a few percent, a wrong exponent, a dropped term, an
off-by-one depth, a sign), and the claim that must then fail first. ``tests/test_claims_bite.py`` runs each
notebook with its patch as the first cell and asserts that it stops with a `ClaimError` naming that claim.
No hook in the library serves this: the patch replaces a public function of a module, as a student's wrong
derivation would, and every claim that depends on it downstream sees the wrong value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["constant", "exponent", "dropped-term", "off-by-one", "sign", "other"]
KINDS = ("constant", "exponent", "dropped-term", "off-by-one", "sign", "other")


@dataclass(frozen=True)
class WrongTheory:
    """A wrong theory injected into one notebook, and the claim that must catch it.

    Attributes:
        notebook: the notebook's path from the repository root, such as "book/ch00/gd_quadratic.ipynb".
        name: a short unique name, such as "rate-5pct-high".
        kind: what kind of mistake it is (one of KINDS).
        description: the wrong theory in words, as a reader of the claim would state it.
        patch: Python code run as the notebook's first cell; it imports a dltheory module and replaces a
            function in it (keep the original to call it, so the patch changes only the theory).
        caught_by: the id of the claim that must fail first.
    """

    notebook: str
    name: str
    kind: Kind
    description: str
    patch: str
    caught_by: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        for field in ("notebook", "name", "description", "patch", "caught_by"):
            if not getattr(self, field).strip():
                raise ValueError(f"{field} must not be empty")

    @property
    def key(self) -> str:
        """The theory's name within its notebook, unique in the whole book: "notebook::name"."""
        return f"{self.notebook}::{self.name}"
