"""The built HTML book in a real browser, with no internet (issue 2, item 8; CONTRIBUTING.md, "Tests").

Serves `_build/html` on 127.0.0.1, opens the preface, Chapter 0's notebook page and the claims ledger in
headless Chromium (Debian's `chromium` package, installed here when missing) and checks what a reader
sees: typeset math, the ipywidgets slider, the figures, the Colab button, the runtime badge and the ledger
table. Every request to another host is blocked and recorded, so a page that needs a CDN fails the test.
Full-page screenshots go to `artifacts/screenshots/` (light theme, plus Chapter 0 in the dark theme).

The book is built once per test session by the `built_book` fixture of conftest.py, which tests/test_book.py
shares. One browser serves the whole module; each page is loaded once.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser as PlaywrightBrowser
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Request, Route, sync_playwright

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# The preface is opened as a reader does, from the site root, which redirects to it.
PREFACE, CH00, LEDGER = "index.html", "book/ch00/gd_quadratic.html", "book/appendix/claims_ledger.html"
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
    """Debian's chromium, installed with apt-get when missing. Fails (never skips) when it cannot be had."""
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") is None:
        pytest.fail(f"{CHROMIUM} is missing and there is no apt-get to install Debian's chromium package")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
        if result.returncode != 0:
            pytest.fail(f"`{' '.join(command)}` failed with exit code {result.returncode}; the browser test needs "
                        f"Debian's chromium (run it as root with apt reachable):\n{result.stderr[-3000:]}")
    if not CHROMIUM.exists():
        pytest.fail(f"apt-get installed chromium but {CHROMIUM} does not exist")
    return CHROMIUM


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="module")
def server(book_html: Path) -> Iterator[str]:
    """The base URL of `_build/html` served over HTTP on 127.0.0.1, on a free port, in a thread."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=book_html))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


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

    def _open(self, path: str, scheme: str) -> Page:
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


@pytest.mark.parametrize("path, has_math", [(PREFACE, True), (CH00, True), (LEDGER, False)])
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
    badge = page.locator(".dltheory-runtime")
    assert badge.count() > 0, "no runtime badge (.dltheory-runtime)"
    assert badge.first.inner_text().strip(), "the runtime badge is empty"


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
    for path in (PREFACE, CH00, LEDGER):
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
