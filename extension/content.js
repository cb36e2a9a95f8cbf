// The content script, in every top-level http(s) page: asks the worker which outlet this page belongs to (the
// worker answers from its cached table) and shows the badge when there is one. When the worker wants the
// page's coverage (an article on a rated site with coverage on, or the reader pressed "Analyze this page" in the
// popup), it sends the worker the page's HTML, capped; the worker alone talks to the server. It also highlights
// the phrases behind the article's lean on request.
// Runs after messages.js and the ui/ scripts (see the manifest); all of its state is this page's.
// `global` is the content-script global (in Firefox a sandbox, not the window itself), so page-facing calls go
// through `window`.
(function newstiltContent(global) {
  "use strict";

  if (window.top !== window) return;
  const ext = global.browser ?? global.chrome;
  const MSG = global.NEWSTILT_MESSAGES;
  const Badge = global.NewstiltBadge;
  const Highlight = global.NewstiltHighlight;
  const Capture = global.NewstiltCapture;

  let dismissed = false; // the reader closed the badge on this page view
  let generation = 0; // only the newest lookup's answer is drawn
  let latest = null; // the newest update's promise, which a superseded one hands on
  let latestGeneration = 0; // ...and its generation
  let lookedUp = null; // the URL last looked up, to notice same-document navigations
  let requestedFor = null; // the URL the reader asked to analyse from the popup
  let view = null; // the view last drawn
  let shown = null; // ...serialised with the highlight count, to leave an unchanged badge alone
  let highlights = null; // how many phrases are highlighted, or null when none are

  async function ask(type, fields = {}) {
    const reply = await ext.runtime.sendMessage({ type, ...fields });
    if (!reply || !reply.ok) throw new Error(reply ? reply.error : "no reply from the newstilt worker");
    return reply.result;
  }

  function removeHighlights() {
    if (highlights !== null) Highlight.remove(document);
    highlights = null;
  }

  function hide() {
    generation += 1; // an answer still on its way must not bring the badge back
    Badge.unmount();
    view = null;
    shown = null;
  }

  function toggleHighlight() {
    if (highlights !== null) removeHighlights();
    else highlights = Highlight.highlight(view?.lean?.terms ?? [], document);
    draw(view);
  }

  function draw(next) {
    const serialized = JSON.stringify([next, highlights]);
    view = next;
    if (serialized === shown && Badge.isMounted()) return;
    Badge.mount(next, {
      highlights,
      onClose() {
        dismissed = true;
        removeHighlights();
        hide();
      },
      onHideSite() {
        removeHighlights();
        hide();
        ask(MSG.HIDE_THIS_SITE).catch((error) => console.warn("newstilt:", error.message));
      },
      onOpenSettings() {
        ask(MSG.OPEN_OPTIONS).catch((error) => console.warn("newstilt:", error.message));
      },
      onToggleHighlight: toggleHighlight,
    });
    shown = serialized;
  }

  /** Look the page up (and analyse it if the worker asks); resolves to the view drawn, or null. */
  function update({ requested = false } = {}) {
    latest = run(requested);
    latestGeneration = generation;
    return latest;
  }

  /** What a run that lost to a newer one resolves to: the newer run's view, or null if the badge was closed. */
  function superseded(mine) {
    return mine === latestGeneration ? null : latest;
  }

  async function run(requested) {
    const mine = ++generation;
    if (lookedUp !== location.href) removeHighlights();
    lookedUp = location.href;
    if (requested) {
      requestedFor = lookedUp;
      dismissed = false;
    }
    const fields = { url: lookedUp, hints: Capture.pageHints(document), requested: requestedFor === lookedUp };
    let result;
    try {
      result = await ask(MSG.LOOKUP_PAGE, fields);
    } catch (error) {
      if (requested) throw error;
      return null; // the extension was reloaded or removed: this script is an orphan now
    }
    if (mine !== generation) return superseded(mine);
    if (!result.view || dismissed) {
      removeHighlights();
      hide();
      return null;
    }
    draw(result.view);
    if (!result.analyze) return view;
    try {
      result = await ask(MSG.ANALYZE_PAGE, { ...fields, ...Capture.pageHtml(document), title: document.title });
    } catch (error) {
      if (requested) throw error;
      if (mine === generation) draw({ ...view, coverage: null }); // not "looking" for ever
      return view;
    }
    if (mine !== generation) return superseded(mine);
    if (dismissed) return null;
    draw(result.view);
    return view;
  }

  function updateIfMoved() {
    if (location.href !== lookedUp) update();
  }

  /** The view once the newest update has settled, or the one drawn now if that takes more than a moment. */
  function settledView() {
    const moment = new Promise((resolve) => setTimeout(resolve, 3000));
    return Promise.race([Promise.resolve(latest).catch(() => null), moment]).then(() => view);
  }

  /** What extension pages (the popup) may ask of this page. */
  const HANDLERS = {
    [MSG.PAGE_STATUS]: async () => ({ url: location.href, view: await settledView() }),
    [MSG.RUN_ANALYSIS]: async () => ({ url: location.href, view: await update({ requested: true }) }),
  };

  ext.runtime.onMessage.addListener((message, sender, sendResponse) => {
    const handler = typeof message?.type === "string" && Object.hasOwn(HANDLERS, message.type)
      ? HANDLERS[message.type] : null;
    const fromExtensionPage = sender.id === ext.runtime.id && typeof sender.url === "string"
      && sender.url.startsWith(ext.runtime.getURL(""));
    if (!handler || !fromExtensionPage) return false;
    handler().then(
      (result) => sendResponse({ ok: true, result }),
      (error) => sendResponse({ ok: false, error: String(error?.message ?? error) }),
    );
    return true;
  });

  update();
  // New settings (badge or coverage off, a hidden site) or a new table: look again.
  ext.storage.onChanged.addListener((changes, area) => {
    if (area === "local" && ("settings" in changes || "meta" in changes)) update();
  });
  // Same-document navigations can move the page into (or out of) a path-scoped outlet ("al.com/birmingham").
  // Only the browser's own events count: a page script can dispatch a fake popstate at any time.
  const onNavigation = (event) => {
    if (event.isTrusted) updateIfMoved();
  };
  window.addEventListener("popstate", onNavigation);
  if (window.navigation) window.navigation.addEventListener("currententrychange", onNavigation);
})(globalThis);
