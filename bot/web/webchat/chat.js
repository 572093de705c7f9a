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
})();
