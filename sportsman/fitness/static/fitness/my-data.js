// A resident's fitness trend: the total, or one item's points, at each test. Progressive
// enhancement: every number is in the page's tables without this file; the data comes from a
// json_script island (the CSP refuses inline scripts).
(function () {
  "use strict";

  function setup(el) {
    if (typeof echarts === "undefined") { return; }
    var source = document.getElementById(el.dataset.source);
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    var picker = document.getElementById(el.dataset.picker);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    window.addEventListener("resize", function () { chart.resize(); });
    function draw() {
      var key = picker ? picker.value : "";
      var item = data.items.filter(function (i) { return i.item === key; })[0];
      var values = item ? item.points : data.total;
      chart.setOption({
        color: ["#1f9d6c"],
        grid: { left: 40, right: 12, top: 16, bottom: 32 },
        tooltip: { trigger: "axis", renderMode: "richText" },
        xAxis: { type: "category", data: data.labels },
        yAxis: item ? { type: "value", min: 0, max: 5, interval: 1 } : { type: "value", min: 0 },
        series: [{ type: "line", data: values, connectNulls: true, smooth: false,
                   symbolSize: 8, name: item ? item.label : "" }]
      }, true);
    }
    if (picker) {
      picker.hidden = false;
      var label = document.querySelector("label[for='" + picker.id + "']");
      if (label) { label.hidden = false; }
      picker.addEventListener("change", draw);
    }
    draw();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("fitness-trend");
    if (el) { setup(el); }
  });
})();
