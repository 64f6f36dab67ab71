"""Claims: the numbers the book states, checked against what the notebooks measure.

Serves the Preface, "Claims", and every notebook's closing cells. A claim names the source of the
prediction (a key of `book/references.bib`), the predicted and the measured value, and a tolerance
together with the reason for it. `claim` shows the result in the notebook, appends it to the
machine-readable file named by the variable `DLTHEORY_CLAIMS_FILE` when it is set, and raises
`ClaimError` when theory and experiment disagree, so that a notebook test fails loudly. The
Claims ledger appendix of the book is made from these records after every build.
"""

from __future__ import annotations

import html
import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

Relation = Literal["approx", "at_least", "at_most"]

#: The MIME type under which a claim is stored in a notebook's outputs (read by the ledger).
CLAIM_MIME = "application/vnd.dltheory.claim+json"

_SYMBOL = {"approx": "≈", "at_least": "≥", "at_most": "≤"}


class ClaimError(AssertionError):
    """Raised when a measurement disagrees with the prediction beyond the stated tolerance."""


@dataclass(frozen=True)
class Claim:
    """One checked claim: a prediction, a measurement, a tolerance and the reason for it."""

    id: str
    statement: str
    source: str
    predicted: float
    measured: float
    tolerance: float
    relative: bool
    relation: Relation
    reason: str
    notebook: str | None
    passed: bool

    @property
    def bound(self) -> float:
        """The allowed deviation in the units of the measurement."""
        return self.tolerance * abs(self.predicted) if self.relative else self.tolerance

    def tolerance_text(self) -> str:
        """The tolerance as the ledger prints it, such as '±2%' or '±0.01'."""
        return f"±{self.tolerance:.3g}" + (" (relative)" if self.relative else "")

    def describe(self) -> str:
        """A one-paragraph human-readable account of the claim and its verdict."""
        verdict = "PASSED" if self.passed else "FAILED"
        return (
            f"Claim {self.id} {verdict}: {self.statement}\n"
            f"  predicted {_SYMBOL[self.relation]} {self.predicted:.6g}, measured {self.measured:.6g}, "
            f"tolerance {self.tolerance_text()} [{self.source}]\n"
            f"  why this tolerance: {self.reason}"
        )

    def _repr_html_(self) -> str:
        colour = "#1b7f3b" if self.passed else "#b00020"
        verdict = "✔ claim holds" if self.passed else "✘ claim FAILED"
        cells = (
            f"<b style='color:{colour}'>{verdict}</b> <code>{html.escape(self.id)}</code>: "
            f"{html.escape(self.statement)}<br>"
            f"predicted {_SYMBOL[self.relation]} <b>{self.predicted:.6g}</b>, "
            f"measured <b>{self.measured:.6g}</b>, tolerance {html.escape(self.tolerance_text())} "
            f"({html.escape(self.reason)}) [{html.escape(self.source)}]"
        )
        return f"<div class='dltheory-claim' style='border-left:4px solid {colour};padding-left:8px'>{cells}</div>"


_notebook: str | None = None


def set_notebook(name: str | None) -> None:
    """Record the notebook that later claims belong to (called by `dltheory.setup`)."""
    global _notebook
    _notebook = name


def _check_number(name: str, value: object) -> float:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a real number, got a bool")
    try:
        number = float(value)  # accepts Python numbers, NumPy scalars and one-element tensors
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}") from None
    return number


def claim(
    id: str,
    *,
    statement: str,
    source: str,
    predicted: float,
    measured: float,
    reason: str,
    rtol: float | None = None,
    atol: float | None = None,
    relation: Relation = "approx",
) -> Claim:
    """Check a measured number against its prediction and record the result.

    Serves the Preface, "Claims". With ``relation="approx"`` the claim holds when
    ``abs(measured - predicted) <= tolerance``; with ``"at_least"`` when
    ``measured >= predicted - tolerance``; with ``"at_most"`` when ``measured <= predicted + tolerance``.
    The tolerance is ``rtol * abs(predicted)`` or ``atol``: give exactly one of them.

    Args:
        id: a unique dotted name, such as "ch00.rate.inverse-lmax".
        statement: the claim in words, as the text states it.
        source: the bibliography key of the source of the prediction.
        predicted: the value theory predicts.
        measured: the value the notebook measured.
        reason: why the tolerance is what it is (finite width, samples, steps, ...).
        rtol: relative tolerance, a non-negative number.
        atol: absolute tolerance, a non-negative number.
        relation: "approx", "at_least" or "at_most".

    Returns:
        The `Claim`, which the notebook displays.

    Raises:
        ClaimError: when the measurement disagrees with the prediction beyond the tolerance.
        ValueError, TypeError: when the arguments are malformed (empty id, source or reason,
            both or neither tolerance given, a negative tolerance, a non-finite prediction).
    """
    for name, text in (("id", id), ("statement", statement), ("source", source), ("reason", reason)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{name} must be a non-empty string, got {text!r}")
    if relation not in _SYMBOL:
        raise ValueError(f"relation must be one of {sorted(_SYMBOL)}, got {relation!r}")
    if (rtol is None) == (atol is None):
        raise ValueError("give exactly one of rtol and atol")
    tolerance = _check_number("rtol" if rtol is not None else "atol", rtol if rtol is not None else atol)
    if not tolerance >= 0 or math.isinf(tolerance):
        raise ValueError(f"the tolerance must be a finite non-negative number, got {tolerance}")
    predicted_value = _check_number("predicted", predicted)
    if not math.isfinite(predicted_value):
        raise ValueError(f"predicted must be finite, got {predicted_value}")
    measured_value = _check_number("measured", measured)

    relative = rtol is not None
    bound = tolerance * abs(predicted_value) if relative else tolerance
    gap = measured_value - predicted_value
    if relation == "approx":
        passed = abs(gap) <= bound
    elif relation == "at_least":
        passed = gap >= -bound
    else:
        passed = gap <= bound
    passed = passed and math.isfinite(measured_value)

    result = Claim(
        id=id,
        statement=statement,
        source=source,
        predicted=predicted_value,
        measured=measured_value,
        tolerance=tolerance,
        relative=relative,
        relation=relation,
        reason=reason,
        notebook=_notebook,
        passed=passed,
    )
    _record(result)
    _show(result)
    if not passed:
        raise ClaimError(result.describe())
    return result


def _record(result: Claim) -> None:
    path = os.environ.get("DLTHEORY_CLAIMS_FILE")
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(asdict(result)) + "\n")


def _show(result: Claim) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: the returned value and the exception say it all
        return
    if get_ipython() is None:
        return
    bundle = {
        "text/plain": result.describe(),
        "text/html": result._repr_html_(),
        CLAIM_MIME: asdict(result),
    }
    display(bundle, raw=True)


def read_claims(path: str | os.PathLike[str]) -> list[Claim]:
    """Read the claims recorded in a JSON-lines file written during a run."""
    claims = []
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            if line.strip():
                claims.append(Claim(**json.loads(line)))
    return claims
