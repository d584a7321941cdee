// Map traces of whole street segments name segment ids instead of carrying coordinates
// (layers/_geometry.segment_trace: empty lon/lat, meta.geometry = {set, ids, url}). Before plotly
// draws a figure, this expands them from the segments' geometry, fetched once per data version from
// meta.geometry.url (dashboard/segment_geometry.py; the browser keeps it: ETag + max-age). Each
// vertex gets its segment id as customdata, so a click on a line reports the segment.
//
// It wraps Plotly.react, which dcc.Graph calls for every figure it draws (the layout's figure, a
// callback's figure or Patch, a clientside legend toggle), so every page's map works the same way
// and the figure kept by Dash (and sent back as State) stays without coordinates.
(function () {
    const loaded = {};  // url -> Promise of the decoded geometry (null when it could not be loaded)
    const drawn = new WeakMap();  // a trace's meta.geometry object -> its {lon, lat, customdata}

    function decode(body) {
        const total = body.x.length;
        const lon = new Float64Array(total);
        const lat = new Float64Array(total);
        let x = 0;
        let y = 0;
        for (let i = 0; i < total; i++) {
            x += body.x[i];
            y += body.y[i];
            lon[i] = x / 1e5;
            lat[i] = y / 1e5;
        }
        const spans = new Map();
        let at = 0;
        for (let i = 0; i < body.ids.length; i++) {
            spans.set(body.ids[i], [at, at + body.n[i]]);
            at += body.n[i];
        }
        return {lon: lon, lat: lat, spans: spans, breaks: new Set(body.breaks)};
    }

    function load(url) {
        if (!(url in loaded)) {
            loaded[url] = fetch(url, {credentials: "same-origin"})
                .then(function (r) {
                    if (r.status !== 200) { throw new Error("HTTP " + r.status); }
                    return r.json();
                })
                .then(decode)
                .catch(function (e) {
                    console.error("segment geometry " + url + ": " + e);
                    delete loaded[url];  // asked again at the next update
                    return null;
                });
        }
        return loaded[url];
    }

    function expand(ref, geometry) {
        let done = drawn.get(ref);
        if (done) { return done; }
        const lon = [];
        const lat = [];
        const ids = [];
        for (const id of ref.ids) {
            const span = geometry.spans.get(id);
            if (!span) { continue; }
            for (let k = span[0]; k < span[1]; k++) {
                if (k > span[0] && geometry.breaks.has(k)) { lon.push(null); lat.push(null); ids.push(null); }
                lon.push(geometry.lon[k]);
                lat.push(geometry.lat[k]);
                ids.push(id);
            }
            lon.push(null);
            lat.push(null);
            ids.push(null);
        }
        done = {lon: lon, lat: lat, customdata: ids};
        drawn.set(ref, done);
        return done;
    }

    function referenced(data) {
        return Array.isArray(data) && data.some(function (t) { return t && t.meta && t.meta.geometry && t.meta.geometry.url; });
    }

    function expandAll(data) {
        const urls = Array.from(new Set(data.filter(function (t) {
            return t && t.meta && t.meta.geometry && t.meta.geometry.url;
        }).map(function (t) { return t.meta.geometry.url; })));
        return Promise.all(urls.map(load)).then(function (sets) {
            const byUrl = {};
            urls.forEach(function (u, i) { byUrl[u] = sets[i]; });
            return data.map(function (t) {
                const ref = t && t.meta && t.meta.geometry;
                if (!ref || !ref.url || !byUrl[ref.url]) { return t; }
                return Object.assign({}, t, expand(ref, byUrl[ref.url]));
            });
        });
    }

    function wrap(plotly) {
        if (!plotly || plotly._egisGeomref) { return plotly; }
        const react = plotly.react;
        function geomReact(gd, first) {
            const args = Array.prototype.slice.call(arguments);
            const figure = first && !Array.isArray(first) && typeof first === "object" ? first : null;
            const data = figure ? figure.data : first;
            if (!referenced(data) && !gd._egisQueue) { return react.apply(plotly, args); }
            // Draws stay in order: a later figure never lands before an earlier one still waiting.
            const before = gd._egisQueue || Promise.resolve();
            const next = before.then(function () { return referenced(data) ? expandAll(data) : data; })
                .then(function (full) {
                    if (figure) { args[1] = Object.assign({}, figure, {data: full}); } else { args[1] = full; }
                    return react.apply(plotly, args);
                });
            const mine = next.catch(function () {}).then(function () {
                if (gd._egisQueue === mine) { gd._egisQueue = null; }
            });
            gd._egisQueue = mine;
            return next;
        }
        let target = plotly;
        try {
            plotly.react = geomReact;
        } catch (e) { /* a read-only module object: wrapped below */ }
        if (plotly.react !== geomReact) {
            target = new Proxy(plotly, {
                get: function (t, key) { return key === "react" ? geomReact : Reflect.get(t, key); },
            });
        }
        try { Object.defineProperty(plotly, "_egisGeomref", {value: true}); } catch (e) { /* proxied */ }
        return target;
    }

    window.egisGeometry = {load: load, expandAll: expandAll};
    if (window.Plotly) {
        window.Plotly = wrap(window.Plotly);
    } else {
        let current;
        Object.defineProperty(window, "Plotly", {
            configurable: true,
            enumerable: true,
            get: function () { return current; },
            set: function (value) { current = wrap(value); },
        });
    }
})();
