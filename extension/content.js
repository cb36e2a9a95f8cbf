// The content script, in every top-level http(s) page: asks the worker which outlet this page belongs to (the
// worker answers from its cached table; nothing leaves the browser) and shows the badge when there is one.
// Runs after messages.js and ui/badge.js (see the manifest); all of its state is this page's.
// `global` is the content-script global (in Firefox a sandbox, not the window itself), so page-facing calls go
// through `window`.
(function newstiltContent(global) {
  "use strict";

  if (window.top !== window) return;
  const ext = global.browser ?? global.chrome;
  const MSG = global.NEWSTILT_MESSAGES;
  const Badge = global.NewstiltBadge;

  let dismissed = false; // the reader closed the badge on this page view
  let generation = 0; // only the newest lookup's answer is drawn
  let lookedUp = null; // the URL last looked up, to notice same-document navigations
  let shown = null; // the view last drawn, to leave an unchanged badge alone

  async function ask(type, fields = {}) {
    const reply = await ext.runtime.sendMessage({ type, ...fields });
    if (!reply || !reply.ok) throw new Error(reply ? reply.error : "no reply from the newstilt worker");
    return reply.result;
  }

  function hide() {
    Badge.unmount();
    shown = null;
  }

  async function update() {
    const mine = ++generation;
    lookedUp = location.href;
    let result;
    try {
      result = await ask(MSG.LOOKUP_PAGE, { url: lookedUp });
    } catch {
      return; // the extension was reloaded or removed: this script is an orphan now
    }
    if (mine !== generation) return;
    if (!result.view || dismissed) {
      hide();
      return;
    }
    const serialized = JSON.stringify(result.view);
    if (serialized === shown && document.querySelector(Badge.HOST_TAG)) return;
    Badge.mount(result.view, {
      onClose() {
        dismissed = true;
        hide();
      },
      onHideSite() {
        hide();
        ask(MSG.HIDE_THIS_SITE).catch((error) => console.warn("newstilt:", error.message));
      },
    });
    shown = serialized;
  }

  function updateIfMoved() {
    if (location.href !== lookedUp) update();
  }

  update();
  // New settings (badge off, a hidden site) or a new table: look again.
  ext.storage.onChanged.addListener((changes, area) => {
    if (area === "local" && ("settings" in changes || "meta" in changes)) update();
  });
  // Same-document navigations can move the page into (or out of) a path-scoped outlet ("al.com/birmingham").
  window.addEventListener("popstate", updateIfMoved);
  if (window.navigation) window.navigation.addEventListener("currententrychange", updateIfMoved);
})(globalThis);
