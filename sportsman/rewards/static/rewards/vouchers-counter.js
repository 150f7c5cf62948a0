// Voucher counter: scan a voucher's QR code with the camera where the browser has
// BarcodeDetector; otherwise (or when refused) the code is typed into the same form.
(function () {
  "use strict";
  function setupScanner(button) {
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var form = document.getElementById(button.dataset.form);
      var video = document.getElementById(button.dataset.video);
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
              form.elements.code.value = codes[0].rawValue;
              // Redeem at once only when the amount is there; otherwise ask for it first.
              if (form.elements.amount.value) { form.submit(); } else { form.elements.amount.focus(); }
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
    Array.prototype.forEach.call(document.querySelectorAll("[data-voucher-scan]"), setupScanner);
  });
})();
