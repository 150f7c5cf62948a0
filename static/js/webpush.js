// Push messages in this browser (notification settings page): subscribe with the server's VAPID
// public key through the service worker's PushManager and register the subscription with the
// API; unsubscribe both ways. Progressive enhancement: the section stays hidden without support.
(function () {
  "use strict";

  function keyBytes(base64url) {
    var b64 = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function api(url, method, body) {
    return fetch(url, {
      method: method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r; });
  }

  function setup(section) {
    var on = document.getElementById("web-push-on");
    var off = document.getElementById("web-push-off");
    var status = document.getElementById("web-push-status");
    var url = section.dataset.pushSubscriptions;
    var ready = navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    });

    function show(sub) {
      section.dataset.state = sub ? "on" : (Notification.permission === "denied" ? "denied" : "off");
      status.textContent = section.dataset["msg" + section.dataset.state.charAt(0).toUpperCase() + section.dataset.state.slice(1)];
      on.hidden = !!sub || Notification.permission === "denied";
      off.hidden = !sub;
    }
    function failed(err) {
      section.dataset.state = "failed";
      section.dataset.error = String(err && err.name ? err.name + ": " + err.message : err);
      status.textContent = Notification.permission === "denied" ? section.dataset.msgDenied : section.dataset.msgFailed;
    }

    on.addEventListener("click", function () {
      on.disabled = true;
      ready.then(function (reg) {
        return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(section.dataset.vapidKey) });
      }).then(function (sub) {
        return api(url, "POST", sub.toJSON()).then(function () { show(sub); });
      }).catch(failed).then(function () { on.disabled = false; });
    });
    off.addEventListener("click", function () {
      off.disabled = true;
      ready.then(function (reg) { return reg.pushManager.getSubscription(); }).then(function (sub) {
        if (!sub) return show(null);
        // Tell the server first: a failed unsubscribe must not leave it pushing to a dead endpoint.
        return api(url, "DELETE", { endpoint: sub.endpoint }).then(function () {
          return sub.unsubscribe();
        }).then(function () { show(null); });
      }).catch(failed).then(function () { off.disabled = false; });
    });

    ready.then(function (reg) { return reg.pushManager.getSubscription(); }).then(function (sub) {
      section.hidden = false;
      show(sub);
    }).catch(failed);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var section = document.getElementById("web-push");
    if (!section || !section.dataset.vapidKey) return;
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window) || !window.isSecureContext) return;
    setup(section);
  });
})();
