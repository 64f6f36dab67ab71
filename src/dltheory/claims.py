"""Claims: the numbers the book states, checked against what the notebooks measure.

Serves the Preface, "Claims", and every notebook's closing cells. A claim names the source of the
prediction (a key of `book/references.bib`), the predicted and the measured value, a tolerance
together with the reason for it, and a *rival*: the value a plausible wrong theory predicts. A claim
whose tolerance cannot tell the prediction from its rival is refused when it is made, so every claim
the book records can fail. `claim` shows the result in the notebook, appends it to the
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
    rival: float
    rival_reason: str
    notebook: str | None
    passed: bool

    @property
    def resolving_power(self) -> float:
        """The distance from the prediction to the rival in units of the tolerance (infinite for an exact claim).

        For ``approx`` it is above 2, so a passing measurement is always closer to the prediction than to
        the rival; for a bound it is above 1, so the rival's value would fail the claim.
        """
        return resolving_power(self.predicted, self.rival, self.bound)

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
            f"  why this tolerance: {self.reason}\n"
            f"  rival {self.rival:.6g} ({self.rival_reason}), resolving power {_power_text(self.resolving_power)}"
        )

    def _repr_html_(self) -> str:
        colour = "#1b7f3b" if self.passed else "#b00020"
        verdict = "✔ claim holds" if self.passed else "✘ claim FAILED"
        cells = (
            f"<b style='color:{colour}'>{verdict}</b> <code>{html.escape(self.id)}</code>: "
            f"{html.escape(self.statement)}<br>"
            f"predicted {_SYMBOL[self.relation]} <b>{self.predicted:.6g}</b>, "
            f"measured <b>{self.measured:.6g}</b>, tolerance {html.escape(self.tolerance_text())} "
            f"({html.escape(self.reason)}) [{html.escape(self.source)}]<br>"
            f"rival <b>{self.rival:.6g}</b> ({html.escape(self.rival_reason)}), "
            f"resolving power {_power_text(self.resolving_power)}"
        )
        return f"<div class='dltheory-claim' style='border-left:4px solid {colour};padding-left:8px'>{cells}</div>"


_notebook: str | None = None
_FIELDS = tuple(Claim.__dataclass_fields__)


def set_notebook(name: str | None) -> None:
    """Record the notebook that later claims belong to (called by `dltheory.setup`)."""
    global _notebook
    _notebook = name


def resolving_power(predicted: float, rival: float, bound: float) -> float:
    """``abs(rival - predicted) / bound``: how many tolerances separate the prediction from its rival."""
    distance = abs(rival - predicted)
    if bound == 0:
        return math.inf if distance > 0 else 0.0
    return distance / bound


def _power_text(power: float) -> str:
    return "∞ (exact)" if math.isinf(power) else f"{power:.3g}"


def _check_rival(relation: Relation, predicted: float, rival: float, bound: float) -> None:
    """Refuse a claim whose tolerance cannot tell its prediction from its rival (Preface, "Claims")."""
    if relation == "approx" and not abs(rival - predicted) > 2 * bound:
        raise ValueError(
            f"rival {rival:.6g} lies within twice the tolerance ({bound:.3g}) of the prediction {predicted:.6g}: "
            "a measurement could pass and still be closer to the rival; tighten the tolerance or name a "
            "rival the experiment can exclude")
    if relation == "at_least" and not rival < predicted - bound:
        raise ValueError(
            f"rival {rival:.6g} must lie on the failing side of an at_least claim, below "
            f"predicted - tolerance = {predicted - bound:.6g}")
    if relation == "at_most" and not rival > predicted + bound:
        raise ValueError(
            f"rival {rival:.6g} must lie on the failing side of an at_most claim, above "
            f"predicted + tolerance = {predicted + bound:.6g}")


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
    rival: float,
    rival_reason: str,
    rtol: float | None = None,
    atol: float | None = None,
    relation: Relation = "approx",
) -> Claim:
    """Check a measured number against its prediction and record the result.

    Serves the Preface, "Claims". With ``relation="approx"`` the claim holds when
    ``abs(measured - predicted) <= tolerance``; with ``"at_least"`` when
    ``measured >= predicted - tolerance``; with ``"at_most"`` when ``measured <= predicted + tolerance``.
    The tolerance is ``rtol * abs(predicted)`` or ``atol``: give exactly one of them.

    Every claim names its rival, the value a plausible wrong theory predicts (the competing scaling law,
    the naive or infinite-width model, the bound without the effect, or the prediction shifted by the
    smallest error the experiment exists to detect). The claim is refused unless the tolerance tells
    the two apart: for ``"approx"`` the rival must lie more than twice the tolerance from the
    prediction, so a passing measurement is closer to the prediction than to the rival; for
    ``"at_least"`` and ``"at_most"`` it must lie on the failing side, beyond the tolerance.

    Args:
        id: a unique dotted name, such as "ch00.rate.inverse-lmax".
        statement: the claim in words, as the text states it.
        source: the bibliography key of the source of the prediction.
        predicted: the value theory predicts.
        measured: the value the notebook measured.
        reason: why the tolerance is what it is (finite width, samples, steps, ...).
        rival: the value a plausible wrong theory predicts for the same measurement.
        rival_reason: which wrong theory that is, in a few words.
        rtol: relative tolerance, a non-negative number.
        atol: absolute tolerance, a non-negative number.
        relation: "approx", "at_least" or "at_most".

    Returns:
        The `Claim`, which the notebook displays.

    Raises:
        ClaimError: when the measurement disagrees with the prediction beyond the tolerance.
        ValueError, TypeError: when the arguments are malformed (empty id, source, reason or
            rival_reason, both or neither tolerance given, a negative tolerance, a non-finite prediction
            or rival), or when the tolerance cannot tell the prediction from the rival.
    """
    for name, text in (("id", id), ("statement", statement), ("source", source), ("reason", reason),
                       ("rival_reason", rival_reason)):
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
    rival_value = _check_number("rival", rival)
    if not math.isfinite(rival_value):
        raise ValueError(f"rival must be finite, got {rival_value}")

    relative = rtol is not None
    bound = tolerance * abs(predicted_value) if relative else tolerance
    _check_rival(relation, predicted_value, rival_value, bound)
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
        rival=rival_value,
        rival_reason=rival_reason,
        notebook=_notebook,
        passed=passed,
    )
    _record(result)
    _show(result)
    if not passed:
        raise ClaimError(result.describe())
    return result


def record_of(result: Claim) -> dict[str, object]:
    """The claim as the JSON record the ledger and ``claims.json`` read (resolving power included; None if exact)."""
    power = result.resolving_power
    return {**asdict(result), "bound": result.bound, "resolving_power": None if math.isinf(power) else power}


def _record(result: Claim) -> None:
    path = os.environ.get("DLTHEORY_CLAIMS_FILE")
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(record_of(result)) + "\n")


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
        CLAIM_MIME: record_of(result),
    }
    display(bundle, raw=True)


def read_claims(path: str | os.PathLike[str]) -> list[Claim]:
    """Read the claims recorded in a JSON-lines file written during a run."""
    claims = []
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            if line.strip():
                record = json.loads(line)
                claims.append(Claim(**{name: record[name] for name in _FIELDS}))
    return claims
