// Start plotly.js (about 5 MB to fetch and run) when the page starts, while the page's first
// callbacks are computed on the server, instead of after the first graph has been rendered.
// dcc.Graph takes window.Plotly when it is set (Promise.resolve adopts the promise put here), so
// the library is fetched and run once; plotly.js replaces window.Plotly with itself when it runs.
(function () {
    if (window.Plotly) { return; }
    const node = document.getElementById("_dash-config");
    if (!node) { return; }
    let config;
    try { config = JSON.parse(node.textContent); } catch (e) { return; }
    const url = config.plotlyjs_url
        || (config.requests_pathname_prefix || "/") + "_dash-component-suites/plotly/package_data/plotly.min.js";
    window.Plotly = new Promise(function (resolve, reject) {
        const script = document.createElement("script");
        script.src = url;
        script.async = true;
        script.onload = function () { resolve(window.Plotly); };
        script.onerror = function () { reject(new Error("plotly.js could not be loaded: " + url)); };
        document.head.appendChild(script);
    });
})();
