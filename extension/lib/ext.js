// The WebExtension API namespace: Firefox's promise-based `browser`, else Chromium's `chrome` (whose MV3 APIs
// return promises too). Extension pages and the worker import this; the content script has the same one line.
export const ext = globalThis.browser ?? globalThis.chrome;
