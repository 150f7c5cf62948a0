// The demand page's heat map (sport × time of the week) drawn with ECharts from the page's
// json_script island. Progressive enhancement: the same numbers are in the heat table, which
// stays for printing and for browsers without this file.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.querySelector("[data-demand-heat]");
    var source = el ? document.getElementById(el.dataset.demandHeat) : null;
    if (!el || !source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    el.style.height = Math.max(12, 4 + data.sports.length * 2.2) + "rem";
    chart.resize();
    chart.setOption({
      tooltip: {
        renderMode: "richText",
        formatter: function (p) {
          var v = p.data;
          return data.sports[v[1]] + " · " + data.bands[v[0]] + "\n" +
            (v[2] === null ? "—" : v[2] + "×") + "  " + v[3] + " / " + v[4] +
            (v[5] ? "  (" + v[5] + ")" : "");
        }
      },
      grid: { left: 110, right: 24, top: 16, bottom: 56 },
      xAxis: { type: "category", data: data.bands,
               axisLabel: { interval: 0, width: 96, overflow: "break" } },
      yAxis: { type: "category", data: data.sports, inverse: true },
      visualMap: {
        show: false, min: 0, max: 2,
        inRange: { color: ["#f4f7f5", "#b9dfc9", "#fbe7a6", "#f6b77a", "#e8745f"] },
        dimension: 2
      },
      series: [{
        type: "heatmap", data: data.cells,
        label: { show: true, formatter: function (p) {
          return p.data[2] === null ? "—" : p.data[2].toFixed(1);
        } }
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
    var table = document.getElementById("demand-heat-table");
    if (table) { table.setAttribute("data-charted", ""); }
  });
})();
