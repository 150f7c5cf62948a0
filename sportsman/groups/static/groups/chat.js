// Group chat over the socket at data-socket. Every message carries a client id chosen here;
// messages not yet acknowledged stay in the outbox (kept in sessionStorage across a reload) and
// are sent again after a reconnect, and the server answers a resend with the stored message, so
// nothing is lost or doubled. After each (re)connect the page asks for everything after the last
// id it shows. Lines are keyed by message id: a message arriving twice is shown once.
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root) { return; }
  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-text");
  var statusLine = document.getElementById("chat-status");
  var errorLine = document.getElementById("chat-error");
  var me = root.dataset.me;
  var lastId = parseInt(root.dataset.last || "0", 10);
  var storeKey = "sportsman-chat-outbox:" + root.dataset.socket;
  var outbox = [];
  try { outbox = JSON.parse(sessionStorage.getItem(storeKey) || "[]"); } catch (e) { outbox = []; }
  var socket = null;
  var retry = 500;
  var closedOnPurpose = false;

  function saveOutbox() {
    root.dataset.outbox = String(outbox.length);
    try { sessionStorage.setItem(storeKey, JSON.stringify(outbox)); } catch (e) { /* private mode */ }
  }

  function newClientId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function lineFor(clientId) {
    return log.querySelector('li[data-client="' + CSS.escape(clientId) + '"]');
  }

  function render(m) {
    if (m.id && log.querySelector('li[data-id="' + m.id + '"]')) { return; }
    var li = lineFor(m.client_id || "") && String(m.sender_id) === me ? lineFor(m.client_id) : null;
    if (!li) { li = document.createElement("li"); log.appendChild(li); }
    li.className = "chat-line" + (String(m.sender_id) === me ? " mine" : "") + (m.id ? "" : " pending");
    if (m.id) { li.dataset.id = m.id; }
    li.dataset.client = m.client_id || "";
    li.textContent = "";
    var who = document.createElement("span"); who.className = "who"; who.textContent = m.sender || "";
    var text = document.createElement("span"); text.className = "text"; text.textContent = m.text;
    li.appendChild(who); li.appendChild(document.createTextNode(" ")); li.appendChild(text);
    if (m.created_at) {
      var t = document.createElement("time"); t.dateTime = m.created_at;
      var when = new Date(m.created_at), today = new Date();
      t.textContent = (when.toDateString() === today.toDateString() ? "" :
        String(when.getMonth() + 1).padStart(2, "0") + "-" + String(when.getDate()).padStart(2, "0") + " ") +
        when.toTimeString().slice(0, 5);
      li.appendChild(document.createTextNode(" ")); li.appendChild(t);
    }
    if (m.id && m.id > lastId) { lastId = m.id; }
    li.scrollIntoView({block: "end"});
  }

  function setStatus(text) { statusLine.textContent = text; }

  function flush() {
    if (!socket || socket.readyState !== WebSocket.OPEN) { return; }
    outbox.forEach(function (m) {
      socket.send(JSON.stringify({type: "send", client_id: m.client_id, text: m.text}));
    });
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.dataset.socket);
    socket.addEventListener("open", function () {
      retry = 500;
      setStatus(root.dataset.online);
      root.dataset.state = "open";
      socket.send(JSON.stringify({type: "catch_up", after: lastId}));
      flush();
    });
    socket.addEventListener("message", function (event) {
      var frame = JSON.parse(event.data);
      if (frame.type === "message") {
        render(frame.message);
        socket.send(JSON.stringify({type: "read", up_to: lastId}));
      } else if (frame.type === "history") {
        frame.messages.forEach(render);
        if (frame.messages.length >= 200) { socket.send(JSON.stringify({type: "catch_up", after: lastId})); }
      } else if (frame.type === "ack") {
        outbox = outbox.filter(function (m) { return m.client_id !== frame.client_id; });
        saveOutbox();
        render(frame.message);
      } else if (frame.type === "error") {
        if (frame.client_id) {
          outbox = outbox.filter(function (m) { return m.client_id !== frame.client_id; });
          saveOutbox();
          var li = lineFor(frame.client_id);
          if (li && !li.dataset.id) { li.remove(); }
        }
        if (errorLine) { errorLine.textContent = frame.message; errorLine.hidden = false; }
      }
    });
    socket.addEventListener("close", function (event) {
      root.dataset.state = "closed";
      if (event.code === 4403 || event.code === 4401 || closedOnPurpose) {
        setStatus(event.code === 4401 || event.code === 4403 ? "" : root.dataset.offline);
        if (event.code === 4401 || event.code === 4403) { return; }
      }
      closedOnPurpose = false;
      setStatus(root.dataset.offline);
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    });
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) { return; }
      var m = {client_id: newClientId(), text: text};
      outbox.push(m);
      saveOutbox();
      render({client_id: m.client_id, text: text, sender_id: me, sender: ""});
      input.value = "";
      if (errorLine) { errorLine.hidden = true; }
      if (socket && socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify({type: "send", client_id: m.client_id, text: text}));
      }
    });
  }

  // For tests and for a phone coming back from the background: drop the connection (it comes
  // back by itself and catches up).
  window.sportsmanChat = {
    drop: function () {
      closedOnPurpose = true;
      root.dataset.state = "closing";
      if (socket) { socket.close(); }
    },
    outbox: function () { return outbox.slice(); },
    state: function () { return root.dataset.state; }
  };
  outbox.forEach(function (m) { render({client_id: m.client_id, text: m.text, sender_id: me, sender: ""}); });
  root.dataset.outbox = String(outbox.length);
  connect();
}());
