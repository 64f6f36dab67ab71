"""Sphinx extension of the book: the Claims ledger and the runtime badge of each notebook page.

Both are made from the last execution of the notebooks, never typed by hand:
- the ledger reads the claims that `dltheory.claim` stored in the outputs of the executed notebooks
  (MIME type `application/vnd.dltheory.claim+json`), from the jupyter-cache myst-nb executes them into;
- the badge reads the run time myst-nb recorded when it executed (or cached) the notebook.
The build also writes every claim to `claims.json` at the root of the HTML output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

CLAIM_MIME = "application/vnd.dltheory.claim+json"
LEDGER_COLUMNS = ("Claim and notebook", "Statement", "Predicted", "Measured", "Why this tolerance", "Source", "Holds")
_SYMBOL = {"approx": "≈", "at_least": "≥", "at_most": "≤"}

logger = logging.getLogger(__name__)


class ledger_placeholder(nodes.General, nodes.Element):
    """Replaced by the claims table once every notebook has been executed."""


class ClaimsLedgerDirective(SphinxDirective):
    """`{claims-ledger}`: the table of every claim in the book."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        self.env.dltheory_ledger_docs = getattr(self.env, "dltheory_ledger_docs", set()) | {self.env.docname}
        return [ledger_placeholder()]


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
    for record in claims:
        row = nodes.row()
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


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if Path(app.env.doc2path(docname)).suffix == ".ipynb":
        _runtime_badge(app, doctree, docname)
    placeholders = list(doctree.findall(ledger_placeholder))
    if placeholders:
        claims = collect_claims(app)
        failed = [c["id"] for c in claims if not c["passed"]]
        if failed:
            logger.warning(f"claims failed in the last execution: {', '.join(failed)}")
        for placeholder in placeholders:
            notebooks = len({c["docname"] for c in claims})
            summary = _text(f"{len(claims)} claims from {notebooks} notebook{'s' if notebooks != 1 else ''}; "
                            f"{len(claims) - len(failed)} hold.")
            placeholder.replace_self([summary, _ledger_table(app, docname, claims)])


def always_rebuild_ledger(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str],
                          removed: set[str]) -> list[str]:
    """The ledger depends on every notebook, so it is written again on every build."""
    return sorted(getattr(env, "dltheory_ledger_docs", set()))


def write_claims_json(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        claims = collect_claims(app)
        Path(app.outdir, "claims.json").write_text(json.dumps(claims, indent=1), encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_node(ledger_placeholder)
    app.add_directive("claims-ledger", ClaimsLedgerDirective)
    app.connect("doctree-resolved", on_doctree_resolved)
    app.connect("env-get-outdated", always_rebuild_ledger)
    app.connect("build-finished", write_claims_json)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
