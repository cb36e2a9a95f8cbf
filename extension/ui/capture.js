// Collecting the page for an analysis: its HTML, capped, and two cheap hints that it is an article. Loaded as
// a classic script by the content script (which collects) and imported for its side effect by lib/analysis.js
// (the worker and the node tests use the same cap); it only sets `NewstiltCapture` on the global object.
(function defineCapture(global) {
  "use strict";

  /** How much of a page's HTML is sent at most, in UTF-8 bytes (the server refuses 5 MB by default). */
  const MAX_HTML_BYTES = 4 * 1024 * 1024;

  /** Cut HTML to at most `maxBytes` UTF-8 bytes, never inside a character: `{html, truncated}`. */
  function capHtml(html, maxBytes = MAX_HTML_BYTES) {
    if (typeof html !== "string") return { html: "", truncated: false };
    // At most three bytes per UTF-16 unit: anything this short fits without encoding it.
    if (html.length * 3 <= maxBytes) return { html, truncated: false };
    const { read } = new TextEncoder().encodeInto(html, new Uint8Array(maxBytes));
    return read < html.length ? { html: html.slice(0, read), truncated: true } : { html, truncated: false };
  }

  /** The document's HTML, capped. */
  function pageHtml(doc) {
    return capHtml(doc.documentElement.outerHTML);
  }

  /** Cheap signs that a document is an article: its og:type, and whether it has an article element. */
  function pageHints(doc) {
    const ogType = doc.querySelector("meta[property='og:type']")?.getAttribute("content") ?? null;
    const hasArticle = Boolean(doc.querySelector("article, [itemprop~='articleBody']"));
    return { ogType, hasArticle };
  }

  global.NewstiltCapture = Object.freeze({ MAX_HTML_BYTES, capHtml, pageHtml, pageHints });
})(globalThis);
