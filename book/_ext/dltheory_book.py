"""Sphinx extension of the book: the Claims ledger, numbers from the ledger in the text, runtime badges.

All are made from the last execution of the notebooks, never typed by hand:
- the ledger reads the claims that `dltheory.claim` stored in the outputs of the executed notebooks
  (MIME type `application/vnd.dltheory.claim+json`), from the jupyter-cache myst-nb executes them into,
  with each claim's rival and resolving power, and marks the weakest claims;
- the role ``{claim}`id` `` renders a claim's measured value into the prose (``{claim}`id:predicted` ``,
  ``:tolerance``, ``:rival`` or ``:power`` for the others; a third part is a Python format spec, as in
  ``{claim}`ch04.alphabeta.nodes:measured:,.0f` ``), so a number the text quotes from a notebook is
  the number the notebook last measured;
- the badge reads the run time myst-nb recorded when it executed (or cached) the notebook.
The build also writes every claim to `claims.json` at the root of the HTML output.

It also renders the notation appendix: the directive ``{notation-table}`` turns the one source of the book's
notation (`book/appendix/notation.yml`, checked against the chapters by tests/test_notation.py) into a table
of every symbol, its meaning and the chapter that introduces it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import yaml
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

CLAIM_MIME = "application/vnd.dltheory.claim+json"
LEDGER_COLUMNS = ("Claim and notebook", "Statement", "Predicted", "Measured", "Why this tolerance", "Rival",
                  "Resolving power", "Source", "Holds")
_SYMBOL = {"approx": "≈", "at_least": "≥", "at_most": "≤"}
#: How many of the claims with the least resolving power the ledger marks as the weakest.
WEAKEST = 10
#: The fields ``{claim}`id:field` `` can render.
ROLE_FIELDS = {"measured", "predicted", "tolerance", "rival", "power"}

logger = logging.getLogger(__name__)


class ledger_placeholder(nodes.General, nodes.Element):
    """Replaced by the claims table once every notebook has been executed."""


class claim_value(nodes.Inline, nodes.TextElement):
    """A number from the ledger in the prose; replaced by its value once every notebook has been executed."""


def claim_role(name: str, rawtext: str, text: str, lineno: int, inliner: Any, options: dict | None = None,
               content: list | None = None) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    """``{claim}`id[:field[:format]]` ``: a claim's measured value (or another field) from the last execution."""
    claim_id, _, rest = text.strip().partition(":")
    field, _, spec = rest.partition(":")
    field = field or "measured"
    if field not in ROLE_FIELDS:
        message = inliner.reporter.error(f"{{claim}} field must be one of {sorted(ROLE_FIELDS)}, got {field!r}",
                                         line=lineno)
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    node = claim_value(rawtext, text, claim_id=claim_id, field=field, spec=spec)
    return [node], []


def format_number(value: float, spec: str = "") -> str:
    """A claim's number as the prose shows it: with `spec` if given, else whole numbers with thousands
    separators, large ones rounded to units, and others to three significant digits."""
    if spec:
        return format(value, spec)
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _field(record: dict[str, Any], field: str) -> float | None:
    if field == "tolerance":
        return record.get("bound")
    if field == "power":
        return record.get("resolving_power")
    return record.get(field)


class ClaimsLedgerDirective(SphinxDirective):
    """`{claims-ledger}`: the table of every claim in the book."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        self.env.dltheory_ledger_docs = getattr(self.env, "dltheory_ledger_docs", set()) | {self.env.docname}
        return [ledger_placeholder()]


NOTATION_COLUMNS = ("Symbol", "Meaning", "Introduced in", "Also used in")


def _chapter_link(docname: str, chapter: str) -> addnodes.pending_xref:
    """A link to `chapter`'s page (``chNN`` is book/chNN/index), resolved like ``{doc}`` (so -n checks it)."""
    number = int(chapter.removeprefix("ch"))
    link = addnodes.pending_xref("", refdomain="std", reftype="doc", reftarget=f"/book/{chapter}/index",
                                 refexplicit=True, refwarn=True, refdoc=docname)
    link += nodes.inline(text=f"Chapter {number}", classes=["std", "std-doc"])
    return link


def _text_with_math(text: str) -> nodes.paragraph:
    """A paragraph of `text` whose ``$...$`` parts are inline math."""
    paragraph = nodes.paragraph()
    for index, part in enumerate(text.split("$")):
        if part:
            paragraph += nodes.math(text=part) if index % 2 else nodes.Text(part)
    return paragraph


class NotationTableDirective(SphinxDirective):
    """`{notation-table} path`: the table of the book's notation from its YAML source (path from the source root)."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        path = Path(self.env.srcdir, self.arguments[0])
        self.env.note_dependency(str(path))
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))["symbols"]
        table = nodes.table(classes=["dltheory-notation"])
        group = nodes.tgroup(cols=len(NOTATION_COLUMNS))
        table += group
        for width in (1, 4, 1, 1):
            group += nodes.colspec(colwidth=width)
        head, row = nodes.thead(), nodes.row()
        for title in NOTATION_COLUMNS:
            row += nodes.entry("", _text(title))
        head += row
        group += head
        body = nodes.tbody()
        # book order: by chapter, the book-wide meaning of a letter before a chapter's own reuse of it
        for entry in sorted(entries, key=lambda e: (e["chapter"], bool(e.get("local")))):
            row = nodes.row()
            meaning = _text_with_math(entry["meaning"])
            if entry.get("local"):
                meaning += nodes.emphasis(text=f" (in Chapter {int(entry['chapter'].removeprefix('ch'))} only)")
            also = nodes.paragraph()
            for index, chapter in enumerate(entry.get("also", [])):
                if index:
                    also += nodes.Text(", ")
                also += _chapter_link(self.env.docname, chapter)
            introduced = nodes.paragraph()
            introduced += _chapter_link(self.env.docname, entry["chapter"])
            symbol = nodes.paragraph()
            symbol += nodes.math(text=entry["symbol"])
            for cell in (symbol, meaning, introduced, also):
                row += nodes.entry("", cell)
            body += row
        group += body
        return [table]


def _notebook_docnames(env: BuildEnvironment) -> list[str]:
    return sorted(doc for doc in env.found_docs if Path(env.doc2path(doc)).suffix == ".ipynb")


def collect_claims(app: Sphinx) -> list[dict[str, Any]]:
    """Every claim stored in the outputs of the last execution of each notebook, in book order.

    The outputs come from the jupyter-cache that myst-nb executes the notebooks into.
    """
    from jupyter_cache import get_cache

    cache_path = Path(app.config.nb_execution_cache_path)
    cache = get_cache(cache_path if cache_path.is_absolute() else Path(app.srcdir, cache_path))
    claims = []
    for docname in _notebook_docnames(app.env):
        source = nbformat.read(app.env.doc2path(docname), as_version=4)
        try:
            _, notebook = cache.merge_match_into_notebook(source)
        except KeyError:
            logger.warning(f"{docname} has no executed copy in the cache to read its claims from")
            continue
        for cell in notebook.cells:
            for output in cell.get("outputs", []):
                record = output.get("data", {}).get(CLAIM_MIME)
                if record is not None:
                    claims.append({**record, "docname": docname})
    return claims


def _text(value: str) -> nodes.paragraph:
    return nodes.paragraph(text=value)


def _claims(app: Sphinx) -> list[dict[str, Any]]:
    """The claims of the last execution, read once per build."""
    if getattr(app, "_dltheory_claims", None) is None:
        app._dltheory_claims = collect_claims(app)
    return app._dltheory_claims


def weakest_ids(claims: list[dict[str, Any]], count: int = WEAKEST) -> set[str]:
    """The ids of the `count` claims with the least resolving power (exact claims are never among them)."""
    finite = [c for c in claims if c.get("resolving_power") is not None]
    return {c["id"] for c in sorted(finite, key=lambda c: c["resolving_power"])[:count]}


def _power_text(record: dict[str, Any]) -> str:
    power = record.get("resolving_power")
    return "∞ (exact)" if power is None else f"{power:.3g}"


def _ledger_table(app: Sphinx, fromdocname: str, claims: list[dict[str, Any]]) -> nodes.table:
    table = nodes.table(classes=["dltheory-ledger"])
    group = nodes.tgroup(cols=len(LEDGER_COLUMNS))
    table += group
    for _ in LEDGER_COLUMNS:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    row = nodes.row()
    for title in LEDGER_COLUMNS:
        row += nodes.entry("", _text(title))
    head += row
    group += head
    body = nodes.tbody()
    weakest = weakest_ids(claims)
    for record in claims:
        row = nodes.row(classes=["dltheory-weakest"] if record["id"] in weakest else [])
        link = nodes.reference("", record["docname"].split("/")[-1],
                               refuri=app.builder.get_relative_uri(fromdocname, record["docname"]),
                               internal=True)
        tolerance = f"±{record['tolerance']:.3g}" + (" rel." if record["relative"] else "")
        claim_cell = nodes.paragraph()
        claim_cell += nodes.literal(text=record["id"])
        claim_cell += nodes.Text(" in ")
        claim_cell += link
        cells = [
            claim_cell,
            _text(record["statement"]),
            _text(f"{_SYMBOL[record['relation']]} {record['predicted']:.6g} ({tolerance})"),
            _text(f"{record['measured']:.6g}"),
            _text(record["reason"]),
            _text(f"{record['rival']:.6g}: {record['rival_reason']}"),
            _text(_power_text(record) + (" (among the weakest)" if record["id"] in weakest else "")),
            nodes.literal(text=record["source"]),
            _text("✔" if record["passed"] else "✘ FAILED"),
        ]
        for cell in cells:
            entry = nodes.entry()
            entry += cell if isinstance(cell, nodes.paragraph) else nodes.paragraph("", "", cell)
            row += entry
        body += row
    group += body
    return table


def _runtime_badge(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    from myst_nb.sphinx_ import NbMetadataCollector

    data = NbMetadataCollector.get_exec_data(app.env, docname)
    if not data or data.get("runtime") is None:
        return
    how = "from the execution cache" if data.get("method") == "cache" else "when the book was built"
    badge = nodes.paragraph(classes=["dltheory-runtime"])
    badge += nodes.inline(text=f"Runs in {data['runtime']:.1f} s (measured {how})",
                          classes=["sd-badge", "sd-bg-info", "sd-bg-text-info"])
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is not None and section.children and isinstance(section.children[0], nodes.title):
        section.insert(1, badge)


def _resolve_claim_values(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    values = list(doctree.findall(claim_value))
    if not values:
        return
    by_id = {record["id"]: record for record in _claims(app)}
    for node in values:
        record = by_id.get(node["claim_id"])
        value = None if record is None else _field(record, node["field"])
        if record is None:
            logger.warning(f"{{claim}}`{node.astext()}`: no claim {node['claim_id']!r} in the last execution",
                           location=node)
        elif value is None:
            logger.warning(f"{{claim}}`{node.astext()}`: the claim has no finite {node['field']}", location=node)
        if value is None:
            node.replace_self(nodes.literal(text=node.astext()))
            continue
        try:
            shown = format_number(value, node["spec"])
        except ValueError as error:
            logger.warning(f"{{claim}}`{node.astext()}`: bad format {node['spec']!r} ({error})", location=node)
            shown = format_number(value)
        node.replace_self(nodes.inline(text=shown, classes=["dltheory-claim-value"]))


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if Path(app.env.doc2path(docname)).suffix == ".ipynb":
        _runtime_badge(app, doctree, docname)
    _resolve_claim_values(app, doctree, docname)
    placeholders = list(doctree.findall(ledger_placeholder))
    if placeholders:
        claims = _claims(app)
        failed = [c["id"] for c in claims if not c["passed"]]
        if failed:
            logger.warning(f"claims failed in the last execution: {', '.join(failed)}")
        weakest = sorted((c for c in claims if c["id"] in weakest_ids(claims)), key=lambda c: c["resolving_power"])
        for placeholder in placeholders:
            notebooks = len({c["docname"] for c in claims})
            summary = _text(f"{len(claims)} claims from {notebooks} notebook{'s' if notebooks != 1 else ''}; "
                            f"{len(claims) - len(failed)} hold. The weakest, by resolving power (the distance "
                            "from the prediction to the rival in tolerances): "
                            + "; ".join(f"{c['id']} ({_power_text(c)})" for c in weakest) + ".")
            placeholder.replace_self([summary, _ledger_table(app, docname, claims)])


def always_rebuild_ledger(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str],
                          removed: set[str]) -> list[str]:
    """The ledger depends on every notebook, so it is written again on every build."""
    return sorted(getattr(env, "dltheory_ledger_docs", set()))


def write_claims_json(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        claims = _claims(app)
        Path(app.outdir, "claims.json").write_text(json.dumps(claims, indent=1), encoding="utf-8")


def _forget_claims(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    app._dltheory_claims = None  # read again after this build's notebooks have been executed


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_node(ledger_placeholder)
    app.add_node(claim_value)
    app.add_role("claim", claim_role)
    app.add_directive("claims-ledger", ClaimsLedgerDirective)
    app.add_directive("notation-table", NotationTableDirective)
    app.connect("env-before-read-docs", _forget_claims)
    app.connect("doctree-resolved", on_doctree_resolved)
    app.connect("env-get-outdated", always_rebuild_ledger)
    app.connect("build-finished", write_claims_json)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
