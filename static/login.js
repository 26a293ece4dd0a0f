// Follows the card challenge (card-login spec §6) and continues when the helper has answered.
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
})();
