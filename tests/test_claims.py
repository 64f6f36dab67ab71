"""The claims mechanism (Preface, "Claims"): verdicts, errors, records."""

from __future__ import annotations

import json

import pytest
import torch

from dltheory.claims import Claim, ClaimError, claim, read_claims, set_notebook

BASE = dict(statement="s", source="key2024", reason="because", rival=5.0, rival_reason="a wrong theory")


def test_approx_claim_passes_within_relative_tolerance() -> None:
    result = claim("t.pass", predicted=1.0, measured=1.009, rtol=0.01, **BASE)
    assert result.passed and result.bound == pytest.approx(0.01)


def test_approx_claim_fails_loudly_with_a_readable_message() -> None:
    with pytest.raises(ClaimError, match=r"(?s)t\.fail FAILED.*predicted ≈ 1, measured 1\.02.*why this tolerance: because"):
        claim("t.fail", predicted=1.0, measured=1.02, rtol=0.01, **BASE)


def test_absolute_tolerance_and_inequalities() -> None:
    assert claim("t.abs", predicted=0.0, measured=-0.05, atol=0.1, **BASE).passed
    assert claim("t.ge", predicted=10.0, measured=12.0, atol=0.0, relation="at_least", **BASE).passed
    with pytest.raises(ClaimError):
        claim("t.ge2", predicted=10.0, measured=9.0, atol=0.5, relation="at_least", **BASE)
    assert claim("t.le", predicted=1.0, measured=1.05, atol=0.1, relation="at_most", **BASE).passed
    with pytest.raises(ClaimError):
        claim("t.le2", predicted=1.0, measured=1.2, atol=0.1, relation="at_most", **BASE)


def test_nan_measurement_never_passes() -> None:
    with pytest.raises(ClaimError):
        claim("t.nan", predicted=1.0, measured=float("nan"), rtol=1.0, **BASE)


def test_accepts_tensors_and_numpy_scalars() -> None:
    import numpy as np

    result = claim("t.tensor", predicted=np.float64(2.0), measured=torch.tensor(2.0), rtol=1e-6, **BASE)
    assert isinstance(result.measured, float)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(rtol=0.1, atol=0.1), "exactly one of rtol and atol"),
        (dict(), "exactly one of rtol and atol"),
        (dict(rtol=-1.0), "tolerance"),
        (dict(rtol=0.1, relation="roughly"), "relation"),
        (dict(rtol=0.1, source=""), "source"),
        (dict(rtol=0.1, reason="  "), "reason"),
        (dict(rtol=0.1, predicted=float("inf")), "predicted"),
        (dict(rtol=0.1, rival_reason=""), "rival_reason"),
        (dict(rtol=0.1, rival=float("nan")), "rival"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs: dict, match: str) -> None:
    arguments = dict(predicted=1.0, measured=1.0, **BASE) | kwargs
    with pytest.raises(ValueError, match=match):
        claim("t.bad", **arguments)


def test_non_numbers_are_rejected() -> None:
    with pytest.raises(TypeError, match="measured"):
        claim("t.type", predicted=1.0, measured="1.0x", rtol=0.1, **BASE)
    with pytest.raises(TypeError, match="predicted"):
        claim("t.bool", predicted=True, measured=1.0, rtol=0.1, **BASE)


def test_records_go_to_the_claims_file(tmp_path, monkeypatch) -> None:
    path = tmp_path / "claims.jsonl"
    monkeypatch.setenv("DLTHEORY_CLAIMS_FILE", str(path))
    set_notebook("ch99/example")
    try:
        claim("t.rec1", predicted=1.0, measured=1.0, rtol=0.1, **BASE)
        with pytest.raises(ClaimError):
            claim("t.rec2", predicted=1.0, measured=3.0, rtol=0.1, **BASE)
    finally:
        set_notebook(None)
    records = read_claims(path)
    assert [r.id for r in records] == ["t.rec1", "t.rec2"]
    assert [r.passed for r in records] == [True, False]
    assert records[0].notebook == "ch99/example"
    assert json.loads(path.read_text().splitlines()[0])["source"] == "key2024"


def test_html_and_text_views_show_the_verdict() -> None:
    result = Claim(id="x", statement="s", source="k", predicted=1, measured=2, tolerance=0.1, relative=False,
                   relation="approx", reason="r", rival=1.5, rival_reason="w", notebook=None, passed=False)
    assert "FAILED" in result._repr_html_() and "FAILED" in result.describe()
    assert result.tolerance_text() == "±0.1"
    assert "rival 1.5 (w), resolving power 5" in result.describe()


def test_a_rival_within_twice_the_tolerance_is_refused() -> None:
    arguments = BASE | dict(predicted=1.0, measured=1.0)
    with pytest.raises(ValueError, match="within twice the tolerance"):
        claim("t.weak", **(arguments | dict(rival=1.15, rtol=0.1)))
    with pytest.raises(ValueError, match="within twice the tolerance"):
        claim("t.weak2", **(arguments | dict(rival=1.0, atol=0.0)))  # even an exact claim needs a distinct rival
    assert claim("t.strong", **(arguments | dict(rival=1.25, rtol=0.1))).resolving_power == pytest.approx(2.5)


def test_a_bound_needs_its_rival_on_the_failing_side() -> None:
    arguments = BASE | dict(predicted=1.0, measured=1.0, atol=0.1)
    with pytest.raises(ValueError, match="failing side of an at_least claim"):
        claim("t.ge-rival", **(arguments | dict(rival=1.5, relation="at_least")))
    with pytest.raises(ValueError, match="failing side of an at_least claim"):
        claim("t.ge-rival2", **(arguments | dict(rival=0.95, relation="at_least")))  # inside the tolerance
    with pytest.raises(ValueError, match="failing side of an at_most claim"):
        claim("t.le-rival", **(arguments | dict(rival=0.5, relation="at_most")))
    assert claim("t.le-ok", **(arguments | dict(rival=1.3, relation="at_most"))).resolving_power == pytest.approx(3)


def test_an_exact_claim_has_infinite_resolving_power_recorded_as_none(tmp_path, monkeypatch) -> None:
    path = tmp_path / "claims.jsonl"
    monkeypatch.setenv("DLTHEORY_CLAIMS_FILE", str(path))
    result = claim("t.exact", **(BASE | dict(predicted=3.0, measured=3.0, atol=0.0, rival=4.0)))
    assert result.resolving_power == float("inf")
    record = json.loads(path.read_text())
    assert record["resolving_power"] is None and record["rival"] == 4.0 and record["bound"] == 0.0
    assert read_claims(path)[0].rival_reason == "a wrong theory"
