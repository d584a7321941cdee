// Map traces of whole street segments name segment ids instead of carrying coordinates
// (layers/_geometry.segment_trace: empty lon/lat, meta.geometry = {set, ids, url}). Before plotly
// draws a figure, this expands them from the segments' geometry, fetched once per data version from
// meta.geometry.url (dashboard/segment_geometry.py; the browser keeps it: ETag + max-age). Each
// vertex gets its segment id as customdata, so a click on a line reports the segment. The map is not
// held back while the set loads: it is drawn at once and again with the lines when they arrive.
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

    const ready = {};  // url -> the decoded geometry, once loaded

    function load(url) {
        if (!(url in loaded)) {
            loaded[url] = fetch(url, {credentials: "same-origin"})
                .then(function (r) {
                    if (r.status !== 200) { throw new Error("HTTP " + r.status); }
                    return r.json();
                })
                .then(function (body) {
                    ready[url] = decode(body);
                    return ready[url];
                })
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

    function urlsOf(data) {
        if (!Array.isArray(data)) { return []; }
        const urls = new Set();
        data.forEach(function (t) {
            if (t && t.meta && t.meta.geometry && t.meta.geometry.url) { urls.add(t.meta.geometry.url); }
        });
        return Array.from(urls);
    }

    function expanded(data) {
        return data.map(function (t) {
            const ref = t && t.meta && t.meta.geometry;
            const geometry = ref && ref.url && ready[ref.url];
            return geometry ? Object.assign({}, t, expand(ref, geometry)) : t;
        });
    }

    function wrap(plotly) {
        // plotly_early.js puts a promise of plotly.js here until the library has run: nothing to wrap yet.
        if (!plotly || plotly._egisGeomref || typeof plotly.then === "function") { return plotly; }
        const react = plotly.react;
        // Draw with what is loaded; a set still loading is drawn when it arrives, unless a newer figure
        // was drawn meanwhile (that one expands it itself). The map never waits for the lines.
        function geomReact(gd, first) {
            const args = Array.prototype.slice.call(arguments);
            const figure = first && !Array.isArray(first) && typeof first === "object" ? first : null;
            const data = figure ? figure.data : first;
            const urls = urlsOf(data);
            gd._egisLatest = args;
            if (!urls.length) { return react.apply(plotly, args); }
            urls.forEach(load);  // fetched while plotly draws the rest of the map
            const full = expanded(data);
            const call = args.slice();
            call[1] = figure ? Object.assign({}, figure, {data: full}) : full;
            const drawn = react.apply(plotly, call);
            const missing = urls.filter(function (u) { return !ready[u]; });
            if (missing.length) {
                Promise.all(missing.map(load)).then(function () {
                    if (gd._egisLatest !== args) { return; }
                    const later = args.slice();
                    later[1] = figure ? Object.assign({}, figure, {data: expanded(data)}) : expanded(data);
                    return Promise.resolve(drawn).then(function () { return react.apply(plotly, later); });
                });
            }
            return drawn;
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

    window.egisGeometry = {load: load};
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
