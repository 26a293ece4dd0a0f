// Bridges a login page and this extension (docs/card-login.md §8.1). The page and this script
// share the window: the page posts {source: "mykey-page"} messages, this script answers with
// {source: "mykey-extension"} ones. Only messages from the page's own window are taken; the
// page's origin is not sent on: the background script reads it from the browser.
"use strict";
(() => {
  const api = globalThis.browser ?? globalThis.chrome;
  const target = window.location.origin;

  function answer(message) {
    window.postMessage({ source: "mykey-extension", ...message }, target);
  }

  window.addEventListener("message", (event) => {
    if (event.source !== window || event.origin !== target) { return; }
    const m = event.data;
    if (!m || m.source !== "mykey-page") { return; }
    if (m.type === "ping") {
      answer({ type: "pong", version: api.runtime.getManifest().version });
    } else if (m.type === "login" && typeof m.id === "string" && typeof m.challenge === "string") {
      api.runtime.sendMessage({ type: "login", challenge: m.challenge }, (reply) => {
        const failed = api.runtime.lastError || !reply;
        answer({ type: "result", id: m.id, reply: failed ? unreachable() : reply });
      });
    }
  });

  function unreachable() {
    return {
      type: "refused",
      error: "extension_unavailable",
      retry: true,
      message: {
        ja: "ブラウザ拡張機能が応答しません。ページを再読み込みしてください。",
        en: "The browser extension did not answer. Reload the page.",
      },
    };
  }
})();
