// The cockpit's charts, live occupancy map, big-screen refresh, clock and full-screen button.
// Progressive enhancement: every number is in the page's tables without this file. Chart data
// comes from json_script islands (no inline script: the CSP refuses them) and, on the big
// screen, from the page's JSON view every minute.
(function () {
  "use strict";

  var REFRESH_MS = 60000;
  var COLORS = ["#1f9d6c", "#2f7ed8", "#e0a800", "#c0392b", "#7b4fb8", "#13a3b5"];
  var charts = [];  // {el, draw}
  var maps = [];    // {el, draw}

  function island(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function setIsland(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = JSON.stringify(value); }
  }

  function isDark(el) {
    return !!el.closest("[data-theme=dark]");
  }

  function makeChart(el) {
    if (typeof echarts === "undefined") { return null; }
    var chart = echarts.init(el, isDark(el) ? "dark" : null, { renderer: "canvas" });
    window.addEventListener("resize", function () { chart.resize(); });
    return chart;
  }

  // A trend: the figure chosen in the linked <select> (or the first of data-keys), bars for
  // flows, lines for stocks and ratios.
  function setupTrend(el) {
    var chart = makeChart(el);
    if (!chart) { return; }
    var picker = el.dataset.picker ? document.getElementById(el.dataset.picker) : null;
    if (picker) {
      picker.hidden = false;
      var label = document.querySelector("label[for='" + picker.id + "']");
      if (label) { label.hidden = false; }
      picker.addEventListener("change", function () { draw(); });
    }
    function draw() {
      var data = island(el.dataset.source);
      if (!data) { return; }
      var key = picker ? picker.value : (el.dataset.keys || "").split(",")[0];
      var figure = data.figures[key];
      if (!figure) { return; }
      var isFlow = figure.kind === "flow";
      chart.setOption({
        backgroundColor: "transparent",
        color: COLORS,
        grid: { left: 56, right: 16, top: 24, bottom: 32 },
        tooltip: { trigger: "axis", renderMode: "richText" },
        xAxis: { type: "category", data: data.trend.labels, boundaryGap: isFlow },
        yAxis: { type: "value", name: figure.unit === "%" ? "%" : "" },
        series: [{ name: figure.label, type: isFlow ? "bar" : "line", smooth: !isFlow,
                   showSymbol: data.trend.labels.length < 40, connectNulls: false,
                   data: data.trend.series[key] || [] }]
      }, true);
    }
    draw();
    charts.push({ el: el, draw: draw, chart: chart });
  }

  // Subunits ranked by the chosen figure: horizontal bars, the first on top; a click on a bar
  // opens that subunit's cockpit.
  function setupRanking(el) {
    var chart = makeChart(el);
    if (!chart) { return; }
    var shown = [];  // the ranked rows, last first (a category axis draws upwards)
    var labels = [];
    chart.on("click", function (p) {
      var row = p.componentType === "yAxis" ? shown[labels.indexOf(p.value)] : shown[p.dataIndex];
      if (row && row.url) { window.location.href = row.url; }
    });
    function draw() {
      var data = island(el.dataset.source);
      if (!data) { return; }
      shown = data.subunits.rows.slice().reverse();
      labels = shown.map(function (r) { return r.rank + ". " + r.name; });
      el.classList.toggle("chart-tall", shown.length > 12);
      chart.setOption({
        backgroundColor: "transparent",
        color: COLORS,
        grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText" },
        xAxis: { type: "value" },
        yAxis: { type: "category", data: labels, triggerEvent: true },
        series: [{ name: data.subunits.label, type: "bar", cursor: "pointer", barMaxWidth: 36,
                   label: { show: true, position: "right",
                            formatter: function (p) { return shown[p.dataIndex].text; } },
                   data: shown.map(function (r) { return r.value; }) }]
      }, true);
      chart.resize();
    }
    draw();
    charts.push({ el: el, draw: draw, chart: chart });
  }

  // Facilities with the people there now: circles sized by the count, coloured by the crowd
  // level; a plain background unless a tile URL is configured (settings.FACILITY_MAP_TILES).
  var CROWD = { quiet: "#1f9d6c", moderate: "#e0a800", busy: "#c0392b", unknown: "#8a9590" };

  function setupMap(el) {
    if (typeof L === "undefined") { return; }
    var data = island(el.dataset.source);
    if (!data || !data.points.length) { el.hidden = true; return; }
    var map = L.map(el, { attributionControl: !!data.tiles, zoomSnap: 0.5 });
    if (data.tiles) { L.tileLayer(data.tiles, { maxZoom: 19 }).addTo(map); }
    var layer = L.layerGroup().addTo(map);
    var fitted = false;
    function draw() {
      var current = island(el.dataset.source);
      layer.clearLayers();
      var bounds = [];
      current.points.forEach(function (p) {
        var marker = L.circleMarker([p.lat, p.lng], {
          radius: 5 + Math.min(20, Math.sqrt(p.people) * 2), weight: 1, color: "#ffffff",
          fillColor: p.open ? CROWD[p.crowd] || CROWD.unknown : "#555555", fillOpacity: 0.85
        }).addTo(layer);
        var label = document.createElement("a");
        label.href = p.url;
        label.textContent = p.name + " · " + p.people + (p.capacity ? " / " + p.capacity : "") +
          (p.at ? " · " + p.at : "");
        marker.bindPopup(label);
        marker.bindTooltip(p.name + " " + p.people);
        bounds.push([p.lat, p.lng]);
      });
      if (!fitted && bounds.length) {
        if (bounds.length === 1) { map.setView(bounds[0], 15); }
        else { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 }); }
        fitted = true;
      }
      text("[data-occupancy-people]", String(current.people));
      text("[data-occupancy-time]", (current.at || "").substring(11, 16));
    }
    draw();
    maps.push({ el: el, draw: draw });
  }

  function text(selector, value) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), function (el) {
      el.textContent = value;
    });
  }

  function updateKpis(data) {
    data.headline.forEach(function (v) {
      var card = document.querySelector("[data-kpi='" + v.key + "']");
      if (!card) { return; }
      card.querySelector(".kpi-value").textContent = v.text;
      var change = card.querySelector(".kpi-change");
      change.lastChild.textContent = v.change_text;
      change.classList.remove("up", "down", "flat");
      if (v.direction) { change.classList.add(v.direction); }
    });
    text("[data-period-label]", data.period.label);
    text("[data-as-of]", data.as_of || "—");
  }

  function fetchJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; });
  }

  function refreshOccupancy(url) {
    fetchJson(url).then(function (data) {
      if (!data) { return; }
      setIsland("cockpit-occupancy", data);
      maps.forEach(function (m) { m.draw(); });
    });
  }

  function refreshFigures(url) {
    fetchJson(url).then(function (data) {
      if (!data) { return; }
      setIsland("cockpit-data", data);
      updateKpis(data);
      charts.forEach(function (c) { c.draw(); });
    });
  }

  function setupClock(el) {
    function tick() {
      el.textContent = new Date().toLocaleString("zh-CN", {
        timeZone: "Asia/Shanghai", hour12: false, year: "numeric", month: "2-digit",
        day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"
      });
    }
    tick();
    window.setInterval(tick, 1000);
  }

  function setupFullscreen(button) {
    var root = document.documentElement;
    if (!root.requestFullscreen) { return; }
    var enter = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      if (document.fullscreenElement) { document.exitFullscreen(); }
      else { root.requestFullscreen().catch(function () {}); }
    });
    document.addEventListener("fullscreenchange", function () {
      button.textContent = document.fullscreenElement ? button.dataset.exitLabel : enter;
      charts.forEach(function (c) { c.chart.resize(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var each = function (selector, fn) {
      Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
    };
    each("[data-chart=trend]", setupTrend);
    each("[data-chart=ranking]", setupRanking);
    each("[data-occupancy-map]", setupMap);
    each("[data-clock]", setupClock);
    each("[data-fullscreen]", setupFullscreen);
    each("[data-print]", function (b) {
      b.hidden = false;
      b.addEventListener("click", function () { window.print(); });
    });

    var page = document.getElementById("cockpit");
    if (page && page.dataset.occupancyUrl) {
      window.setInterval(function () { refreshOccupancy(page.dataset.occupancyUrl); }, REFRESH_MS);
    }
    var screen = document.getElementById("cockpit-screen");
    if (screen) {
      window.setInterval(function () {
        refreshFigures(screen.dataset.dataUrl);
        refreshOccupancy(screen.dataset.occupancyUrl);
      }, Number(screen.dataset.refresh || 60) * 1000);
    }
    // Printing: charts give way to the tables under them (print.css, cockpit.css).
    window.addEventListener("beforeprint", function () {
      charts.forEach(function (c) { c.chart.resize(); });
    });
  });
})();
