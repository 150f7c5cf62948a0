// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  }

  // Home community picker: cascading selects filled from /api/v1/regions/public.
  function fill(select, regions, placeholder) {
    select.innerHTML = "";
    var blank = document.createElement("option");
    blank.value = "";
    blank.textContent = placeholder;
    select.appendChild(blank);
    regions.forEach(function (r) {
      var opt = document.createElement("option");
      opt.value = r.id;
      opt.textContent = r.name;
      opt.dataset.level = r.level;
      select.appendChild(opt);
    });
    select.disabled = regions.length === 0;
  }
  function load(parent) {
    var url = "/api/v1/regions/public" + (parent ? "?parent=" + encodeURIComponent(parent) : "");
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : []; });
  }
  function setupPicker(root) {
    var target = document.getElementById(root.dataset.target);
    var selects = Array.prototype.slice.call(root.querySelectorAll("select"));
    var placeholder = root.dataset.placeholder || "—";
    var original = target.value;  // kept until a community is actually chosen
    selects.forEach(function (sel, i) {
      sel.addEventListener("change", function () {
        var opt = sel.options[sel.selectedIndex];
        target.value = opt && opt.dataset.level === "community" ? sel.value : original;
        for (var j = i + 1; j < selects.length; j++) fill(selects[j], [], placeholder);
        if (sel.value && selects[i + 1] && !(opt && opt.dataset.level === "community")) {
          load(sel.value).then(function (rows) { fill(selects[i + 1], rows, placeholder); });
        }
      });
    });
    // Start at the top of the tree, skipping levels that have a single region (one city).
    (function descend(parent, i) {
      load(parent).then(function (rows) {
        if (rows.length === 1 && rows[0].level !== "community" && i === 0) { return descend(rows[0].id, 0); }
        fill(selects[i], rows, placeholder);
      });
    })(null, 0);
    root.hidden = false;
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-region-picker]"), setupPicker);
  });
})();
