// The login page's two jobs: use the card through the browser extension when it is installed
// (docs/card-login.md §8), and follow the challenge (§6) to continue once the helper has
// answered, however it was started.
"use strict";
(function () {
  var status = document.getElementById("status");
  var form = document.getElementById("complete-form");
  if (!status || !form) { return; }
  var statusUrl = status.getAttribute("data-status-url");
  var failedPrefix = status.getAttribute("data-failed-prefix");
  var delay = 1000;
  var done = false;

  function poll() {
    if (done) { return; }
    fetch(statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : { state: "pending" }; })
      .then(function (s) {
        if (s.state === "completed") {
          done = true;
          form.submit();
        } else if (s.state === "failed" || s.state === "expired") {
          done = true;
          var code = s.state === "expired" ? "expired_challenge" : (s.error || "failed");
          window.location.assign(failedPrefix + encodeURIComponent(code));
        } else {
          delay = 1000;
          setTimeout(poll, delay);
        }
      })
      .catch(function () {
        // Network hiccup: back off a little and keep following.
        delay = Math.min(delay * 2, 8000);
        setTimeout(poll, delay);
      });
  }
  setTimeout(poll, 500);

  // The extension's content script may start before or after this script, so the page asks
  // until it answers (and stops asking after a while: without the extension, the helper link
  // and the command stay).
  var panel = document.getElementById("extension");
  if (!panel) { return; }
  var helper = document.getElementById("helper");
  var state = document.getElementById("extension-state");
  var again = document.getElementById("use-card");
  var challenge = panel.getAttribute("data-challenge-url");
  var lang = document.documentElement.lang === "en" ? "en" : "ja";
  var origin = window.location.origin;
  var found = false;
  var pending = null;
  var pings = 0;

  function post(message) {
    message.source = "mykey-page";
    window.postMessage(message, origin);
  }

  function useCard() {
    if (pending || done) { return; }
    pending = "login-" + Date.now();
    again.hidden = true;
    state.classList.remove("refused");
    state.textContent = state.getAttribute("data-working");
    post({ type: "login", id: pending, challenge: challenge });
  }

  function result(reply) {
    pending = null;
    if (!reply || reply.type === "accepted") {
      // The status poll sees the answer and continues the login.
      state.textContent = state.getAttribute("data-accepted");
      return;
    }
    state.classList.add("refused");
    state.textContent = (reply.message && reply.message[lang]) || reply.error || "";
    again.hidden = !reply.retry;
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window || event.origin !== origin) { return; }
    var m = event.data;
    if (!m || m.source !== "mykey-extension") { return; }
    if (m.type === "pong" && !found) {
      found = true;
      panel.hidden = false;
      helper.hidden = true;
      // The resident came here by choosing to log in with the card: start at once. The
      // helper's dialog shows the site, origin and match code before any PIN.
      useCard();
    } else if (m.type === "result" && m.id === pending) {
      result(m.reply);
    }
  });
  again.addEventListener("click", useCard);

  (function ping() {
    if (found || pings++ > 40) { return; }
    post({ type: "ping" });
    setTimeout(ping, 250);
  })();
})();
