// Starts the rasa-webchat widget with the settings the server put in #widget-config. A file of its
// own, not an inline script, so the page's Content-Security-Policy can forbid inline scripts (and
// with them `javascript:` links in messages).
(function () {
  var config = JSON.parse(document.getElementById("widget-config").textContent);
  var status = document.getElementById("connection");
  window.WebChat.default({
    embedded: true,
    socketUrl: config.socketUrl,
    socketPath: "/socket.io/",
    initPayload: "/greet",
    title: config.title,
    inputTextFieldHint: "Type a message, e.g. where is my order?",
    hideWhenNotConnected: false,
    params: { storage: "local" },
    onSocketEvent: {
      connect: function () { status.hidden = true; },
      disconnect: function () {
        status.textContent = "Lost the connection to the assistant; trying again\u2026";
        status.hidden = false;
      }
    }
  }, document.getElementById("chat"));
  sendPhotos(config.photo);

  // "Send a photo": uploads the chosen picture for this chat's session (the widget keeps it in
  // localStorage under "chat_session", as {session_id, ...}: params.storage "local") and shows
  // the server's answer (kept, or why not) in the status line; the bot answers in the chat.
  function sendPhotos(photo) {
    var input = document.getElementById("photo-file");
    var line = document.getElementById("photo-status");
    input.addEventListener("change", function () {
      var file = input.files[0];
      if (!file) { return; }
      var session = sessionId();
      if (file.size > photo.maxBytes) {
        finish(photo.tooBig);
      } else if (!session) {
        finish(photo.notStarted);
      } else {
        var form = new FormData();
        form.append("session_id", session);
        form.append("photo", file);
        line.textContent = photo.sending;
        fetch(photo.url, { method: "POST", body: form })
          .then(function (reply) { return reply.json(); })
          .then(function (answer) { finish(answer.message || photo.failed); })
          .catch(function () { finish(photo.failed); });
      }
    });

    function finish(message) {
      line.textContent = message;
      input.value = "";
    }
  }

  function sessionId() {
    try {
      var saved = JSON.parse(window.localStorage.getItem("chat_session") || "null");
      return saved && saved.session_id ? String(saved.session_id) : null;
    } catch (error) {
      return null;
    }
  }
})();
