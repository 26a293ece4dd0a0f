// Takes a login page's request to use the card to the native host, mykey-helper
// (docs/card-login.md §8). The page origin sent with it is the browser's record of which page
// the content script runs in, never something the page said: the host refuses a challenge
// that is not on that origin, so a page can only have the card answer its own site's login.
"use strict";
const api = globalThis.browser ?? globalThis.chrome;
const HOST = "jp.mykey.helper";

function senderOrigin(sender) {
  if (sender.id !== api.runtime.id || !sender.tab || sender.frameId !== 0) { return null; }
  if (typeof sender.origin === "string" && sender.origin !== "null") { return sender.origin; }
  try { return new URL(sender.url).origin; } catch (e) { return null; }
}

function refused(error, ja, en, retry) {
  return { type: "refused", error, retry, message: { ja, en } };
}

api.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (!message || message.type !== "login" || typeof message.challenge !== "string") {
    return false;
  }
  const origin = senderOrigin(sender);
  if (!origin) {
    sendResponse(refused("invalid_request",
      "このページからはカードを使えません。", "This page cannot use the card.", false));
    return false;
  }
  let answered = false;
  const reply = (answer) => {
    if (!answered) { answered = true; sendResponse(answer); }
  };
  let port;
  try {
    port = api.runtime.connectNative(HOST);
  } catch (e) {
    reply(helperMissing());
    return false;
  }
  port.onMessage.addListener((answer) => {
    reply(answer);
    port.disconnect();
  });
  port.onDisconnect.addListener((closed) => {
    const why = ((api.runtime.lastError || closed.error || {}).message || "");
    reply(/not found/i.test(why) ? helperMissing() : helperStopped());
  });
  port.postMessage({ type: "login", challenge: message.challenge, origin });
  return true;
});

function helperMissing() {
  return refused("helper_unavailable",
    "このパソコンに mykey-helper が見つかりません。mykey-helper のパッケージをインストールしてから、ページを再読み込みしてください。",
    "mykey-helper was not found on this computer. Install the mykey-helper package, then reload the page.",
    true);
}

function helperStopped() {
  return refused("helper_unavailable",
    "mykey-helper が途中で終了しました。もう一度お試しください。",
    "mykey-helper stopped before answering. Please try again.",
    true);
}
