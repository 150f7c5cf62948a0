// "Near me" on the group finder: the phone's position into the form, then search.
(function () {
  "use strict";
  var button = document.getElementById("near-me");
  if (!button || !navigator.geolocation) { if (button) { button.hidden = true; } return; }
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("f-lat").value = pos.coords.latitude.toFixed(5);
      document.getElementById("f-lng").value = pos.coords.longitude.toFixed(5);
      document.getElementById("f-order").value = "active";
      document.getElementById("group-filters").submit();
    });
  });
}());
