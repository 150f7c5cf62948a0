// The teaching-video uploader: a small tus 1.0.0 client (creation, PATCH in chunks, HEAD to
// resume). The upload URL is remembered per file (name, size, last change) in localStorage,
// so choosing the same file again after a dropped connection continues where it stopped.
(function () {
  "use strict";
  var form = document.getElementById("video-upload");
  if (!form) return;
  var endpoint = form.dataset.endpoint;
  var chunk = parseInt(form.dataset.chunk, 10) || 5242880;
  var progress = document.getElementById("u-progress");
  var status = document.getElementById("u-status");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var fileInput = document.getElementById("u-file");
  var titleInput = document.getElementById("u-title");

  fileInput.addEventListener("change", function () {
    var f = fileInput.files[0];
    if (f && !titleInput.value) titleInput.value = f.name.replace(/\.[^.]+$/, "");
  });

  function b64(text) {
    return btoa(String.fromCharCode.apply(null, new TextEncoder().encode(text)));
  }
  function headers(extra) {
    var h = {"Tus-Resumable": "1.0.0", "X-CSRFToken": csrf};
    for (var k in extra) h[k] = extra[k];
    return h;
  }
  function say(state, text) { status.dataset.state = state; status.textContent = text; }
  function fail(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      say(body.code || "error", body.message || String(response.status));
      throw new Error(body.code || response.status);
    });
  }

  async function locate(file, key) {
    var known = localStorage.getItem(key);
    if (known) {
      var head = await fetch(known, {method: "HEAD", headers: headers({}), credentials: "same-origin"});
      if (head.ok) return {url: known, offset: parseInt(head.headers.get("Upload-Offset"), 10)};
      localStorage.removeItem(key);
    }
    var meta = [["filename", file.name], ["title", titleInput.value],
                ["sport", form.sport.value], ["level", form.level.value]]
      .filter(function (p) { return p[1]; })
      .map(function (p) { return p[0] + " " + b64(p[1]); }).join(",");
    var made = await fetch(endpoint, {method: "POST", credentials: "same-origin",
      headers: headers({"Upload-Length": String(file.size), "Upload-Metadata": meta})});
    if (made.status !== 201) await fail(made);
    var url = made.headers.get("Location");
    localStorage.setItem(key, url);
    return {url: url, offset: 0};
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    var file = fileInput.files[0];
    if (!file) return;
    var key = "tus:" + [file.name, file.size, file.lastModified].join(":");
    progress.hidden = false;
    try {
      var at = await locate(file, key);
      var offset = at.offset, videoId = null;
      while (offset < file.size) {
        progress.value = Math.floor(100 * offset / file.size);
        var sent = await fetch(at.url, {method: "PATCH", credentials: "same-origin",
          headers: headers({"Upload-Offset": String(offset),
                            "Content-Type": "application/offset+octet-stream"}),
          body: file.slice(offset, offset + chunk)});
        if (sent.status !== 204) await fail(sent);
        offset = parseInt(sent.headers.get("Upload-Offset"), 10);
        videoId = sent.headers.get("Video-Id");
      }
      progress.value = 100;
      localStorage.removeItem(key);
      say("done", "✓");
      if (videoId) window.location.reload();
    } catch (err) {
      if (!status.dataset.state) say("error", String(err));
    }
  });
})();
