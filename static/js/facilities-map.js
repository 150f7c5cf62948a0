// Facility map and "near me" (progressive enhancement: the list works without this file).
// The map draws markers on a plain background unless a tile URL is configured
// (settings.FACILITY_MAP_TILES); coordinates are WGS-84 as stored.
(function () {
  "use strict";

  function drawMap(el) {
    var source = document.getElementById(el.dataset.source);
    if (!source || typeof L === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var markers = data.markers || [];
    if (!markers.length && !data.center) { el.hidden = true; return; }
    var map = L.map(el, { attributionControl: !!data.tiles, zoomSnap: 0.5 });
    if (data.tiles) {
      L.tileLayer(data.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    var points = [];
    markers.forEach(function (m) {
      var marker = L.circleMarker([m.lat, m.lng], {
        radius: 9, weight: 2, color: "#0b6e4f",
        fillColor: m.open ? "#1f9d6c" : "#9aa5a0", fillOpacity: 0.9
      }).addTo(map);
      var label = document.createElement(m.url ? "a" : "span");
      label.textContent = m.name;
      if (m.url) { label.href = m.url; }
      marker.bindPopup(label);
      points.push([m.lat, m.lng]);
    });
    if (data.center) {
      L.circleMarker(data.center, { radius: 5, color: "#c0392b", fillOpacity: 1 }).addTo(map);
      points.push(data.center);
    }
    if (points.length === 1) {
      map.setView(points[0], 15);
    } else {
      map.fitBounds(points, { padding: [24, 24], maxZoom: 16 });
    }
  }

  function setupLocate(button) {
    if (!("geolocation" in navigator)) { button.hidden = true; return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var form = document.getElementById(button.dataset.form);
      var status = document.getElementById(button.dataset.status);
      if (status) { status.textContent = button.dataset.waiting || ""; }
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.elements.lat.value = pos.coords.latitude.toFixed(6);
        form.elements.lng.value = pos.coords.longitude.toFixed(6);
        form.elements.near.value = "me";
        if (form.elements.cursor) { form.elements.cursor.value = ""; }
        form.submit();
      }, function () {
        if (status) { status.textContent = button.dataset.failed || ""; }
      }, { enableHighAccuracy: false, timeout: 10000, maximumAge: 60000 });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-facility-map]"), drawMap);
    Array.prototype.forEach.call(document.querySelectorAll("[data-locate]"), setupLocate);
  });
})();
