"""The whole book as one PDF, from the same sources as the HTML, without LaTeX (`make pdf`).

    python tools/book_pdf.py [--skip-build] [--out _build/html/theory-you-can-run.pdf]

1. Sphinx's single-page HTML builder writes the whole book as one page (`_build/singlehtml`). It reuses the
   doctrees of the HTML build (`_build/.doctrees`) and the execution cache, so after `make book` it parses
   only what changed and executes nothing; from a fresh clone it executes the notebooks first, like `make book`.
2. Headless Chromium (Debian's `chromium` package, installed with apt-get when missing, as the browser test
   does) opens that page from a local server with every other host blocked, waits until MathJax has typeset
   every formula and every figure has loaded, and prints it with the print style sheet: math, figures, claim
   verdicts and code as a reader sees them, with page numbers.

The PDF goes next to the HTML book (`_build/html/theory-you-can-run.pdf`), where the download button of every
page links to it (`book/_static/dltheory-pdf.js`). `tests/test_pdf.py` builds it and checks what is in it.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
SINGLE = ROOT / "_build" / "singlehtml"
PDF = ROOT / "_build" / "html" / "theory-you-can-run.pdf"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: The single page holds every formula of the book; MathJax needs a while for them on a slow machine.
TYPESET_TIMEOUT_MS = 300_000
#: The printed table of contents: the theme's print header lists the headings of one page, which for the single
#: page is nearly nothing, so it is replaced by every document of the book (chapters and appendices, with their
#: sections indented), in book order, each linked to where it starts in the PDF.
TABLE_OF_CONTENTS_JS = """() => {
    const list = document.querySelector("#jb-print-toc nav ul");
    if (!list) return 0;
    list.innerHTML = "";
    let count = 0;
    document.querySelectorAll('span[id^="document-book/"] + section').forEach(section => {
        const name = section.previousElementSibling.id.slice("document-".length);
        const heading = section.querySelector(":scope > :is(h1, h2, h3, h4, h5, h6)");
        if (!heading) return;
        const top = name.endsWith("/index") || name.startsWith("book/appendix/") || name === "book/reference/library";
        const item = document.createElement("li");
        item.className = "nav-item toc-entry " + (top ? "toc-h2" : "toc-h3");
        item.style.marginLeft = top ? "0" : "1.5em";
        const link = document.createElement("a");
        link.href = "#" + section.previousElementSibling.id;
        const title = heading.cloneNode(true);  // with its typeset math, without the "#" permalink
        title.querySelectorAll("a.headerlink").forEach(anchor => anchor.remove());
        link.append(...title.childNodes);
        item.appendChild(link);
        list.appendChild(item);
        count += 1;
    });
    return count;
}"""
#: A4's width less the side margins, in CSS pixels (96 per inch): the width the print lays the page out at.
PRINTABLE_WIDTH_PX = round((210 - 2 * 14) / 25.4 * 96)
#: Tables and code blocks wider than the printed page (the PDF would cut them at its edge), by a short label.
OVERFLOW_JS = """() => [...document.querySelectorAll("article table, article pre")]
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 8)  // a border is not a cut
    .map(e => (e.closest("section[id]") || {id: "?"}).id + ": " + e.tagName.toLowerCase() + "."
              + [...e.classList].join("."))"""
#: The footer of every page: the book's title and the page number, in Chromium's print template.
FOOTER = ('<div style="font-size:8px;width:100%;padding:0 15mm;display:flex;justify-content:space-between;'
          'color:#555"><span>Theory You Can Run</span><span><span class="pageNumber"></span> / '
          '<span class="totalPages"></span></span></div>')


def chromium() -> Path:
    """Debian's chromium, installed with apt-get when missing; RuntimeError (with apt's output) when it cannot be."""
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") is None:
        raise RuntimeError(f"{CHROMIUM} is missing and there is no apt-get to install Debian's chromium package")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
        if result.returncode != 0:
            raise RuntimeError(f"`{' '.join(command)}` failed with exit code {result.returncode}; Debian's chromium "
                               f"is needed (run as root with apt reachable):\n{result.stderr[-3000:]}")
    if not CHROMIUM.exists():
        raise RuntimeError(f"apt-get installed chromium but {CHROMIUM} does not exist")
    return CHROMIUM


def build_single_page() -> Path:
    """Build `_build/singlehtml` with -W -n, reusing the HTML build's doctrees; return its root page."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book), "build", str(ROOT), "--builder", "singlehtml", "-W", "-n", "--keep-going"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    log = ROOT / "_build" / "pdf-build.log"
    log.write_text(result.stdout + result.stderr, encoding="utf-8")
    if result.returncode != 0:
        raise RuntimeError(f"the single-page build failed; see {log}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return single_page()


def single_page() -> Path:
    """The one page of the single-page build (the table of contents' root document, with every other inside),
    copied to the build's root folder: its links to `_static/` and `_images/` are relative to that folder."""
    import yaml

    root = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))["root"]
    page = SINGLE / f"{PDF.stem}.html"
    shutil.copyfile(SINGLE / f"{root}.html", page)
    return page


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """`folder` served over HTTP on 127.0.0.1 on a free port, in a thread; yields the base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=folder))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def print_pdf(page_url: str, out: Path) -> float:
    """Print the page at `page_url` to `out` once MathJax and the figures are done; return the seconds it took."""
    from playwright.sync_api import sync_playwright

    start = time.perf_counter()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium()), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        page.route("**/*", lambda route, request: route.continue_()
                   if urlsplit(request.url).hostname == "127.0.0.1" else route.abort("blockedbyclient"))
        page.goto(page_url, wait_until="load", timeout=TYPESET_TIMEOUT_MS)
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                               timeout=TYPESET_TIMEOUT_MS)
        page.evaluate("() => MathJax.startup.promise")
        page.wait_for_function("() => [...document.images].every(img => img.complete)", timeout=TYPESET_TIMEOUT_MS)
        if page.evaluate(TABLE_OF_CONTENTS_JS) < 10:
            raise RuntimeError(f"{page_url}: fewer than ten documents found for the table of contents")
        page.emulate_media(media="print")
        page.set_viewport_size({"width": PRINTABLE_WIDTH_PX, "height": 1400})
        cut = page.evaluate(OVERFLOW_JS)
        if cut:
            raise RuntimeError(f"{len(cut)} blocks are wider than the printed page and would be cut: {cut[:10]}")
        out.parent.mkdir(parents=True, exist_ok=True)
        page.pdf(path=str(out), format="A4", print_background=True, display_header_footer=True,
                 header_template="<span></span>", footer_template=FOOTER,
                 margin={"top": "15mm", "bottom": "18mm", "left": "14mm", "right": "14mm"})
        browser.close()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/book_pdf.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-build", action="store_true", help="print the existing _build/singlehtml")
    parser.add_argument("--out", type=Path, default=PDF, help=f"where the PDF goes (default: {PDF})")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    page = single_page() if args.skip_build else build_single_page()
    built = time.perf_counter() - start
    with serve(SINGLE) as base:
        seconds = print_pdf(base + page.relative_to(SINGLE).as_posix(), args.out)
    print(f"{args.out}: single-page build {built:.0f} s, typeset and print {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
