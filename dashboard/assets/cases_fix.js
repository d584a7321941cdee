// 案件列表: a click anywhere on the map (not only on a case point) gives the point an admin may place
// the selected case at. Only where the fix panel is on the page (admins).
(function () {
    function attach() {
        if (!document.getElementById("cases-fix-panel")) { return; }
        const holder = document.getElementById("cases-map");
        const gd = holder && holder.querySelector(".js-plotly-plot");
        const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
        if (!sub || !sub.map || sub.map._egisFixClick) { return; }
        sub.map._egisFixClick = true;
        sub.map.on("click", function (event) {
            window.dash_clientside.set_props("cases-fix-point", {
                data: {lon: event.lngLat.lng, lat: event.lngLat.lat},
            });
        });
    }
    setInterval(attach, 700);
})();
