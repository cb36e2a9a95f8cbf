// The message types between the extension's parts, defined once. Every message is `{type, ...fields}`.
// This file is loaded as a classic script by the content script and the extension pages (content scripts
// cannot be ES modules) and imported for its side effect by the service worker, so it only sets a frozen
// constant on the global object and declares nothing else.
(function defineMessages(global) {
  "use strict";
  global.NEWSTILT_MESSAGES = Object.freeze({
    /** content script -> worker `{url, hints, requested?}`: `{view, show, site, analyze}` for the page the
     *  content script runs in; `analyze` asks for the page's HTML (ANALYZE_PAGE) to find its coverage. */
    LOOKUP_PAGE: "lookup-page",
    /** content script -> worker `{url, html, truncated, title, hints, requested?}`: the worker sends the page to
     *  the server (or reads its cached answer) and replies `{view}` with the coverage and the article's lean. */
    ANALYZE_PAGE: "analyze-page",
    /** content script -> worker: hide the badge on the sender's own site. */
    HIDE_THIS_SITE: "hide-this-site",
    /** content script -> worker: open the options page (content scripts cannot). */
    OPEN_OPTIONS: "open-options",
    /** extension page -> worker `{url?}`: settings, table status, and the view for `url` if given. */
    GET_STATE: "get-state",
    /** extension page -> worker `{settings, refresh?}`: validate and store settings; download the table if
     *  the server changed or `refresh` is set. */
    SAVE_SETTINGS: "save-settings",
    /** extension page -> worker `{site, hidden}`: add a site to, or remove it from, the hidden sites. */
    SET_SITE_HIDDEN: "set-site-hidden",
    /** extension page -> worker: download the ratings table now (conditionally, with its ETag). */
    REFRESH_TABLE: "refresh-table",
    /** extension page -> worker: ask the server's /healthz whether it is up. */
    CHECK_SERVER: "check-server",
    /** extension page -> a tab's content script: `{url, view}`, the page's address and the badge's view. */
    PAGE_STATUS: "page-status",
    /** extension page -> a tab's content script: analyse this page now (the reader asked); `{url, view}`. */
    RUN_ANALYSIS: "run-analysis",
  });
})(globalThis);
