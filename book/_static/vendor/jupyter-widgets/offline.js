// Theory You Can Run (not vendored; code licence MIT). Loaded after require.js and before embed-amd.js
// (nb_ipywidgets_js in _config.yml): it makes the widget embedder find everything in this folder, at any
// page depth, and never on a CDN. README.md next to it explains.
(function () {
  "use strict";
  var script = document.currentScript;
  var here = script.src.replace(/[?#].*$/, "").replace(/[^/]*$/, ""); // this folder, as an absolute URL

  // embed-amd.js computes where its Font Awesome fonts are from the address require.js gives each of
  // its modules. Those modules are all defined inside embed-amd.js, so these addresses are never
  // fetched; they only put the fonts' address in this folder.
  var modules = ["@jupyter-widgets/base", "@jupyter-widgets/controls", "@jupyter-widgets/base7",
                 "@jupyter-widgets/controls7", "@jupyter-widgets/html-manager",
                 "@jupyter-widgets/html-manager/dist/libembed-amd"];
  var paths = {};
  modules.forEach(function (name) { paths[name] = here + name.replace(/\W+/g, "-"); });
  window.requirejs.config({ paths: paths });
  window.__jupyter_widgets_assets_path__ = here; // the same, for the CSS it loads later

  // A widget module outside the bundle would be fetched from "<cdn><package>@<version>/dist/index.js";
  // the embedder reads the prefix from this attribute. Point it here, where nothing is vendored, so
  // such a widget fails on this site instead of loading from the internet.
  script.setAttribute("data-jupyter-widgets-cdn", here + "not-vendored/");

  // The widgets typeset their labels with MathJax 2's call, MathJax.Hub.Queue(["Typeset", Hub, element]);
  // the book runs MathJax 3, which has no Hub. Forward that call to MathJax 3. MathJax (loaded async on
  // pages with math) has replaced its configuration object by the time of the load event, at which the
  // widgets render; this listener is registered before theirs, so it runs first.
  window.addEventListener("load", function () {
    var mathjax = window.MathJax;
    if (!mathjax || mathjax.Hub || !mathjax.startup) return;
    mathjax.Hub = {
      Queue: function (job) {
        mathjax.startup.promise.then(function () { return mathjax.typesetPromise([job[2]]); });
      }
    };
  });
})();
