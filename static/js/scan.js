// Scan a QR code with the camera where the browser has BarcodeDetector; otherwise (or when the
// camera is refused) the code is typed into the same form. One scanner for every counter:
//   <button data-scan data-form="FORM_ID" data-video="VIDEO_ID" data-field="INPUT_NAME"
//           data-needs="OTHER_INPUT" hidden>
// fills the form's INPUT_NAME with the code read and submits, unless OTHER_INPUT is named and
// still empty (then it is focused: e.g. the amount of a voucher redemption).
(function () {
  "use strict";
  function setupScanner(button) {
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var form = document.getElementById(button.dataset.form);
      var video = document.getElementById(button.dataset.video);
      var field = form.elements[button.dataset.field || "code"];
      var needs = button.dataset.needs ? form.elements[button.dataset.needs] : null;
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
        video.hidden = false;
        video.srcObject = stream;
        video.play();
        var stop = function () { stream.getTracks().forEach(function (t) { t.stop(); }); video.hidden = true; };
        var tick = function () {
          detector.detect(video).then(function (codes) {
            if (codes.length) {
              stop();
              field.value = codes[0].rawValue;
              if (needs && !needs.value) { needs.focus(); } else { form.submit(); }
            } else {
              window.requestAnimationFrame(tick);
            }
          }).catch(function () { window.requestAnimationFrame(tick); });
        };
        tick();
      }).catch(function () { button.hidden = true; });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-scan]"), setupScanner);
  });
})();
