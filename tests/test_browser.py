"""The built HTML book in a real browser, with no internet (issue 2, item 8; CONTRIBUTING.md, "Tests").

Serves `_build/html` on 127.0.0.1, opens the preface, Chapter 0's notebook page and the claims ledger in
headless Chromium (Debian's `chromium` package, installed here when missing) and checks what a reader
sees: typeset math, the ipywidgets slider, the figures, the Colab and Binder buttons, the runtime badge, the
setup cell collapsed behind "show setup", claim verdicts legible in both themes, the ledger table and the
notation page. Every request to another host is blocked and recorded, so a page that needs a CDN fails the test.
Full-page screenshots go to `artifacts/screenshots/` (light theme, plus Chapter 0 in the dark theme).

The book is built once per test session by the `built_book` fixture of conftest.py, which tests/test_book.py
shares. One browser serves the whole module; each page is loaded once.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser as PlaywrightBrowser
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Request, Route, sync_playwright

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import book_pdf  # noqa: E402  (finds or installs Debian's chromium, for the PDF too)

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = book_pdf.CHROMIUM_ARGS
# The preface is opened as a reader does, from the site root, which redirects to it.
PREFACE, CH00, LEDGER = "index.html", "book/ch00/gd_quadratic.html", "book/appendix/claims_ledger.html"
NOTATION = "book/appendix/notation.html"
TIMEOUT_MS = 30_000
# Not ours and harmless: sphinx-thebe 0.3.1 under Sphinx 7.4 writes its one-line config script twice on
# every page, so the second `const` declaration throws; the first has set the same values, and Thebe is off.
KNOWN_ERROR = "Identifier 'THEBE_JS_URL' has already been declared"

# Readable text of the page's article: code, scripts and typeset math removed. Any TeX left in it
# (a backslash command or a $$) is math that MathJax did not typeset.
ARTICLE_TEXT_JS = """() => {
    const article = document.querySelector("article") || document.body;
    const copy = article.cloneNode(true);
    copy.querySelectorAll("pre, code, script, style, mjx-container, .highlight").forEach(e => e.remove());
    document.body.appendChild(copy);           // innerText needs the node in the document to lay it out
    copy.style.position = "absolute"; copy.style.left = "-100000px";
    const text = copy.innerText;
    copy.remove();
    return text;
}"""
RAW_TEX = re.compile(r"\$\$|\\[(\[]|\\[A-Za-z]+")
MATH = "article .math"  # where Sphinx puts each formula, as \(...\) or \[...\], for MathJax to replace


@pytest.fixture(scope="module")
def book_html(built_book: Path) -> Path:
    """`_build/html`, built once per test session like `make book` (the `built_book` fixture in conftest.py)."""
    assert (built_book / "index.html").exists(), f"the build wrote no {built_book / 'index.html'}"
    return built_book


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's chromium, installed with apt-get when missing (tools/book_pdf.py). Fails (never skips) without it."""
    try:
        return book_pdf.chromium()
    except RuntimeError as error:
        pytest.fail(f"the browser test needs Debian's chromium: {error}")


@pytest.fixture(scope="module")
def server(book_html: Path) -> Iterator[str]:
    """The base URL of `_build/html` served over HTTP on 127.0.0.1, on a free port, in a thread."""
    with book_pdf.serve(book_html) as base:
        yield base


class Browser:
    """One headless Chromium for the module: opens each page once, screenshots it and remembers what went
    wrong (requests to other hosts, local requests that failed, uncaught JavaScript errors)."""

    def __init__(self, chrome: PlaywrightBrowser, base: str) -> None:
        self.base = base
        self.blocked: list[str] = []  # requests to any host but 127.0.0.1, all aborted
        self.failed: list[str] = []   # local requests that failed or answered >= 400
        self.errors: list[str] = []   # uncaught JavaScript errors
        self._pages: dict[tuple[str, str], Page | str] = {}  # a loaded page, or why it did not load
        self._contexts = {scheme: chrome.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
                          for scheme in ("light", "dark")}
        for context in self._contexts.values():
            context.route("**/*", self._route)

    def _route(self, route: Route, request: Request) -> None:
        if urlsplit(request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.blocked.append(request.url)
            route.abort("blockedbyclient")

    def page(self, path: str, scheme: str = "light") -> Page:
        """The page at `path` (relative to the site root) in the light or dark theme, loaded once."""
        if (path, scheme) not in self._pages:
            try:
                self._pages[path, scheme] = self._open(path, scheme)
            except PlaywrightError as error:
                self._pages[path, scheme] = (f"{path} ({scheme} theme) did not finish loading: {error.message}\n"
                                             f"requests to other hosts (blocked): {sorted(set(self.blocked))}\n"
                                             f"local requests that failed: {sorted(set(self.failed))}\n"
                                             f"JavaScript errors: {self.errors}")
        page = self._pages[path, scheme]
        if isinstance(page, str):
            pytest.fail(page)
        return page

    def context_page(self, path: str, scheme: str = "light") -> Page:
        """A fresh copy of the page at `path`, loaded like `page` but not shared: for a test that changes it."""
        self.page(path, scheme)  # loaded and screenshotted once as the reader first sees it
        return self._open(path, scheme, screenshot=False)

    def _open(self, path: str, scheme: str, screenshot: bool = True) -> Page:
        page = self._contexts[scheme].new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{path}: {error}"))
        page.on("requestfailed", lambda request: self.failed.append(f"{request.url} ({request.failure})")
                if urlsplit(request.url).hostname == "127.0.0.1" else None)
        page.on("response", lambda response: self.failed.append(f"{response.url} (HTTP {response.status})")
                if response.status >= 400 else None)
        page.goto(self.base + path, wait_until="load", timeout=TIMEOUT_MS)
        if path == PREFACE:
            page.wait_for_url("**/book/intro.html", wait_until="load", timeout=TIMEOUT_MS)
        # Sphinx loads MathJax only on pages with math. MathJax 3 typesets after it loads; its startup
        # promise resolves when the page is done.
        if page.locator(MATH).count():
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                   timeout=TIMEOUT_MS)
            page.evaluate("() => MathJax.startup.promise")
        if path == CH00:  # the widget manager renders after the load event
            page.wait_for_selector(".widget-slider", state="visible", timeout=TIMEOUT_MS)
        page.wait_for_function("() => [...document.images].every(img => img.complete)", timeout=TIMEOUT_MS)
        name = Path(urlsplit(page.url).path).stem + ("" if scheme == "light" else f"-{scheme}")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        if screenshot:
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        return page


@pytest.fixture(scope="module")
def browser(chromium: Path, server: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chrome = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield Browser(chrome, server)
        chrome.close()


def _article_text(page: Page) -> str:
    return page.evaluate(ARTICLE_TEXT_JS)


@pytest.mark.parametrize("path, has_math", [(PREFACE, True), (CH00, True), (LEDGER, False), (NOTATION, True)])
def test_math_is_typeset_offline(browser: Browser, path: str, has_math: bool) -> None:
    page = browser.page(path)
    formulas = page.locator(MATH).count()
    assert (formulas > 0) == has_math, f"{path}: {formulas} formulas, expected {'some' if has_math else 'none'}"
    untypeset = page.eval_on_selector_all(MATH, "els => els.filter(e => !e.querySelector('mjx-container')).length")
    assert untypeset == 0, f"{path}: MathJax left {untypeset} of {formulas} formulas untypeset"
    leftovers = sorted(set(RAW_TEX.findall(_article_text(page))))
    assert not leftovers, f"{path}: raw TeX left in the visible text: {leftovers}"


def test_index_leads_to_the_preface(browser: Browser) -> None:
    page = browser.page(PREFACE)
    assert page.url.endswith("book/intro.html"), f"index.html should lead to the preface, not {page.url}"
    assert "Colab" in _article_text(page), "the preface does not say how to run the notebooks in Colab"


def test_chapter0_widget_renders(browser: Browser) -> None:
    page = browser.page(CH00)
    assert page.locator(".jupyter-widgets").count() > 0, "no ipywidgets DOM on Chapter 0's page"
    slider = page.locator(".widget-slider").first
    assert slider.is_visible(), "the step-size slider is not visible"
    readout = page.locator(".widget-readout").first.inner_text().strip()
    assert readout, "the slider shows no value"
    views = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
    assert views > 0, "the page embeds no widget view (was the notebook executed with the widget?)"
    # the interactive's output area shows the figure saved with the widget state
    widths = page.eval_on_selector_all(".widget-output img", "imgs => imgs.map(img => img.naturalWidth)")
    assert widths and all(width > 0 for width in widths), f"no figure in the widget's output (widths {widths})"


def test_chapter0_figures_are_present(browser: Browser) -> None:
    page = browser.page(CH00)
    widths = page.eval_on_selector_all(".cell_output img", "imgs => imgs.map(img => img.naturalWidth)")
    assert widths, "Chapter 0's notebook page shows no output figure"
    assert all(width > 0 for width in widths), f"a figure did not load (natural widths {widths})"


def test_chapter0_has_colab_button_and_runtime_badge(browser: Browser) -> None:
    page = browser.page(CH00)
    assert page.locator('a[href*="colab.research.google.com"]').count() > 0, "no Colab launch button"
    assert page.locator('a[href*="mybinder.org/v2/gh/"]').count() > 0, "no Binder launch button"
    pdf = page.locator(".dropdown-download-buttons a.dltheory-book-pdf")
    assert pdf.count() == 1, "the download button does not offer the PDF of the whole book"
    assert pdf.get_attribute("href") == "../../theory-you-can-run.pdf", pdf.get_attribute("href")
    badge = page.locator(".dltheory-runtime")
    assert badge.count() > 0, "no runtime badge (.dltheory-runtime)"
    assert badge.first.inner_text().strip(), "the runtime badge is empty"


def test_setup_cell_is_collapsed_behind_show_setup(browser: Browser) -> None:
    """The setup cell's code is hidden until the reader opens its "show setup" toggle (SETUP_METADATA)."""
    page = browser.context_page(CH00)  # a page of its own: opening the toggle changes it
    toggle = page.locator("details.hide.above-input").first
    assert toggle.count(), "Chapter 0's notebook page has no collapsed cell (details.hide.above-input)"
    summary = toggle.locator("summary")
    assert summary.inner_text().strip() == "show setup", f"the toggle says {summary.inner_text()!r}"
    code = toggle.locator(".cell_input")
    assert not code.is_visible(), "the setup cell's code is visible before the toggle is opened"
    first_code = page.locator("div.cell").first
    assert first_code.locator("details.hide.above-input").count(), "the collapsed cell is not the first code cell"
    summary.click()
    code.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert "dltheory.setup(" in code.inner_text(), "the opened toggle does not show the setup code"
    assert summary.inner_text().strip() == "hide setup", f"the open toggle says {summary.inner_text()!r}"
    page.screenshot(path=str(SCREENSHOTS / "gd_quadratic-setup-open.png"), full_page=False)
    page.close()


# The verdict's text colour against the card behind it, as a WCAG contrast ratio (4.5 is AA for body text).
CONTRAST_JS = """el => {
    const rgb = c => (c.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
    const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 :
                                                   Math.pow((v + 0.055) / 1.055, 2.4); })
                                       .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
    let card = el.closest(".dltheory-claim");
    const fg = lum(rgb(getComputedStyle(el).color));
    const bg = lum(rgb(getComputedStyle(card).backgroundColor));
    return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_claim_verdicts_stand_out(browser: Browser, scheme: str) -> None:
    page = browser.page(CH00, scheme=scheme)
    verdicts = page.locator(".dltheory-claim > b[style]").all()  # the verdict; the library colours it inline
    assert verdicts, "Chapter 0's page shows no claim verdict"
    for verdict in verdicts:
        assert "claim holds" in verdict.inner_text()
        ratio = verdict.evaluate(CONTRAST_JS)
        assert ratio >= 4.5, f"{scheme} theme: a verdict's contrast against its card is {ratio:.2f}, below 4.5"
    card = page.locator(".dltheory-claim").first.evaluate("el => getComputedStyle(el).backgroundColor")
    page_bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert card not in (page_bg, "rgba(0, 0, 0, 0)"), f"{scheme} theme: the claim card has no background of its own"


def test_long_output_lines_wrap(browser: Browser) -> None:
    page = browser.page(CH00)
    overflowing = page.eval_on_selector_all(
        "div.cell_output pre", "els => els.filter(e => e.scrollWidth > e.clientWidth + 1).length")
    assert overflowing == 0, f"{overflowing} output blocks on Chapter 0's page scroll sideways instead of wrapping"


def test_notation_page_lists_symbols(browser: Browser) -> None:
    page = browser.page(NOTATION)
    rows = page.locator("article table.dltheory-notation tbody tr")
    assert rows.count() >= 20, f"the notation table has {rows.count()} rows, expected at least 20"
    assert page.locator("article table.dltheory-notation mjx-container").count() >= rows.count(), \
        "not every symbol of the notation table is typeset"
    links = page.locator("article table.dltheory-notation a.reference.internal").count()
    assert links >= rows.count(), "not every symbol links to the chapter that introduces it"


def test_ledger_lists_the_claims(browser: Browser) -> None:
    page = browser.page(LEDGER)
    rows = page.locator("article table tbody tr").count()
    assert rows >= 6, f"the claims ledger table has {rows} rows, expected at least 6"


def test_dark_theme_page_loads(browser: Browser) -> None:
    page = browser.page(CH00, scheme="dark")
    assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
    assert page.locator(".widget-slider").first.is_visible()


def test_nothing_left_localhost(browser: Browser) -> None:
    """Runs last in this module: by now every page above has loaded, with all other hosts blocked."""
    for path in (PREFACE, CH00, LEDGER, NOTATION):
        browser.page(path)
    browser.page(CH00, scheme="dark")
    assert not browser.blocked, "pages asked for other hosts (blocked):\n" + "\n".join(sorted(set(browser.blocked)))
    assert not browser.failed, "local requests failed:\n" + "\n".join(sorted(set(browser.failed)))
    errors = [error for error in browser.errors if KNOWN_ERROR not in error]
    assert not errors, "uncaught JavaScript errors:\n" + "\n".join(errors)


def test_solutions_never_reach_the_html(book_html: Path) -> None:
    """`solutions/` holds the graded labs' answers: no built file may come from it or link to it."""
    paths = [str(path.relative_to(book_html)) for path in book_html.rglob("*") if "solutions" in
             str(path.relative_to(book_html))]
    assert not paths, f"files from solutions/ in the HTML: {paths}"
    link = re.compile(r"""(?:href|src)\s*=\s*["'][^"']*solutions/""")
    linking = [str(path.relative_to(book_html)) for path in book_html.rglob("*.html")
               if link.search(path.read_text(encoding="utf-8", errors="replace"))]
    assert not linking, f"pages linking into solutions/: {linking}"
