#!/usr/bin/env bash
# Re-fetch the JavaScript that renders ipywidgets in the HTML book without internet
# (book/_static/vendor/README.md says what is there and why).
#
#   tools/vendor_widgets.sh                 # the pinned versions below
#   HTML_MANAGER_VERSION=1.0.16 tools/vendor_widgets.sh
#
# Downloads the npm tarballs with `npm pack` (registry only, no build step), copies the few files a page
# loads into book/_static/vendor/ (replacing the old copies) and rewrites SOURCES.txt (package@version,
# the tarball's npm integrity, sha256 of each copied file). Kept in git as they are: the LICENSE files
# of requirejs and jupyter-widgets (not in the tarballs) and jupyter-widgets/offline.js (ours).
# After a version change: update nb_ipywidgets_js in _config.yml if a path changed, rebuild the book and
# run tests/test_browser.py.
set -euo pipefail

# html-manager 1.0.x is the embedder of ipywidgets 8.1.x (widget state format 2, @jupyter-widgets/controls 5).
HTML_MANAGER_VERSION="${HTML_MANAGER_VERSION:-1.0.15}"
REQUIREJS_VERSION="${REQUIREJS_VERSION:-2.3.8}"

root="$(cd "$(dirname "$0")/.." && pwd)"
vendor="$root/book/_static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

pack() {  # pack <spec> <dest-dir>: fetch one npm tarball and unpack it; prints "name@version  integrity"
    local spec="$1" dest="$2"
    (cd "$work" && npm pack --json --silent "$spec") > "$work/pack.json"
    mkdir -p "$dest"
    tar -xzf "$work/$(node -e 'console.log(require(process.argv[1])[0].filename)' "$work/pack.json")" \
        -C "$dest" --strip-components=1
    node -e 'const p = require(process.argv[1])[0]; console.log(`${p.id}  ${p.integrity}`)' "$work/pack.json"
}

{
    echo "# Written by tools/vendor_widgets.sh; do not edit. npm package@version  tarball integrity"
    pack "requirejs@$REQUIREJS_VERSION" "$work/requirejs"
    pack "@jupyter-widgets/html-manager@$HTML_MANAGER_VERSION" "$work/html-manager"
    # The widget CSS inside embed-amd.js embeds Font Awesome; take its licence from the version it names.
    fontawesome="$(grep -o -m1 'Font Awesome Free [0-9.]*[0-9]' "$work/html-manager/dist/embed-amd.js" | awk '{print $4}')"
    pack "@fortawesome/fontawesome-free@$fontawesome" "$work/fontawesome"
} > "$work/SOURCES.txt"

widgets="$vendor/jupyter-widgets"
rm -f "$vendor/requirejs/require.js" "$widgets/embed-amd.js" "$widgets"/*.woff2 "$widgets/THIRD-PARTY-NOTICES.txt"
mkdir -p "$vendor/requirejs" "$widgets"
cp "$work/requirejs/require.js" "$vendor/requirejs/require.js"
# embed-amd.js defines @jupyter-widgets/base, controls (and their ipywidgets 7 versions), output and the
# HTML manager as AMD modules, so require.js resolves them from this one file and never asks a CDN.
cp "$work/html-manager/dist/embed-amd.js" "$widgets/embed-amd.js"
# The licence notices of the third-party code bundled into it (jQuery, jQuery UI, ...).
cp "$work/html-manager/dist/embed.js.LICENSE.txt" "$widgets/THIRD-PARTY-NOTICES.txt"
# Its Font Awesome fonts, under the hashed names its CSS asks for. Only WOFF2: every browser that runs
# the rest of the bundle reads it, and the CSS lists it before the older formats.
cp "$work/html-manager/dist/"*.woff2 "$widgets/"
cp "$work/fontawesome/LICENSE.txt" "$widgets/LICENSE-fontawesome.txt"

for kept in "$vendor/requirejs/LICENSE" "$widgets/LICENSE" "$widgets/offline.js"; do
    [[ -s "$kept" ]] || { echo "missing $kept (kept in git, see book/_static/vendor/README.md)" >&2; exit 1; }
done

{
    cat "$work/SOURCES.txt"
    echo "# sha256 of the copied files"
    (cd "$vendor" && sha256sum requirejs/require.js jupyter-widgets/embed-amd.js jupyter-widgets/*.woff2 \
        jupyter-widgets/THIRD-PARTY-NOTICES.txt jupyter-widgets/LICENSE-fontawesome.txt)
} > "$vendor/SOURCES.txt"

cat "$vendor/SOURCES.txt"
du -sh "$vendor"
