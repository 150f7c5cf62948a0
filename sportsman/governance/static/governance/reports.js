// The report form's "use my position" (progressive enhancement: the form works without it).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-locate]");
    if (!button || !("geolocation" in navigator)) { return; }
    var status = document.getElementById("locate-status");
    var form = document.getElementById("report-form");
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = button.dataset.waiting || "";
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.elements.lat.value = pos.coords.latitude.toFixed(6);
        form.elements.lng.value = pos.coords.longitude.toFixed(6);
        if (form.elements.facility) { form.elements.facility.value = ""; }
        status.textContent = "";
      }, function () {
        status.textContent = button.dataset.failed || "";
      }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
  });
}());
