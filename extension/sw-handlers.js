// One map of named message handlers. Each says who may send it: the content script (a page's renderer, so it
// is trusted only about its own page, and only the browser-reported sender URL counts) or an extension page
// (popup, options). Replies are `{ok: true, result}` or `{ok: false, error}`. A message from anyone else (another
// extension, a frame inside a page), of an unknown type, or not a `{type, ...}` object gets no answer at all;
// every field a handler reads is type-checked where it is read.
import { ext } from "./lib/ext.js";
import { capHtml, looksLikeArticle, pageView } from "./lib/analysis.js";
import { MSG } from "./lib/messages.js";
import { normalizeServerUrl, serverPermissionPattern, siteOf } from "./lib/settings.js";
import { admitAutomaticAnalysis, cacheAnalysis, cachedAnalysis, requestAnalysis } from "./sw-analyze.js";
import { describePage } from "./sw-lookup.js";
import { getSettings, getState, putSettings } from "./sw-store.js";
import { checkServer, refreshTable } from "./sw-table.js";
import { showOnToolbar } from "./sw-toolbar.js";

const FROM_CONTENT = "content";
const FROM_EXTENSION_PAGE = "extension-page";

/** The URL the content script asks about, if it is on the sender's own origin, else the sender's URL. */
function pageUrlOf(message, sender) {
  try {
    if (new URL(message.url).origin === new URL(sender.url).origin) return message.url;
  } catch {
    // Missing or malformed: use the browser's word for it.
  }
  return sender.url;
}

/** The content script's hints that a page is an article (ui/capture.js pageHints), type-checked. */
function hintsOf(message) {
  const hints = message.hints && typeof message.hints === "object" ? message.hints : {};
  return {
    ogType: typeof hints.ogType === "string" ? hints.ogType.slice(0, 100) : null,
    hasArticle: hints.hasArticle === true,
  };
}

/**
 * Whether a page's address and HTML may go to the server: the reader asked (the popup's "Analyze this page",
 * relayed by the content script as `requested`; believed, since at worst a content script sends its own page,
 * which it already has, to the reader's own server), or it is an article page of a rated site with the badge
 * and coverage on.
 */
function mayAnalyze(url, page, message) {
  return message.requested === true || (page.coverage && looksLikeArticle(url, hintsOf(message)));
}

/**
 * The badge's view for a page and whether to show it. With coverage wanted, the view carries a cached
 * analysis, or a "looking" state and `analyze: true`, asking the content script for the page's HTML.
 */
async function lookupPage(message, sender) {
  const url = pageUrlOf(message, sender);
  const page = await describePage(url);
  await showOnToolbar(sender.tab?.id, page.view);
  const show = page.show || message.requested === true;
  const reply = { view: show ? page.view : null, show, site: page.site, analyze: false };
  if (!show || !mayAnalyze(url, page, message)) return reply;
  const options = { serverUrl: page.serverUrl, site: page.site };
  const cached = await cachedAnalysis(url, page.serverUrl);
  if (cached) return { ...reply, view: pageView(page.view, cached, { ...options, truncated: cached.truncated }) };
  return { ...reply, view: pageView(page.view, { loading: true }, options), analyze: true };
}

/** Send the page to the server (unless a fresh answer is cached) and return the badge's view with it. */
async function analyzePage(message, sender) {
  const url = pageUrlOf(message, sender);
  const page = await describePage(url);
  if (!mayAnalyze(url, page, message)) throw new Error("Coverage is not shown for this page.");
  const options = { serverUrl: page.serverUrl, site: page.site };
  const cached = await cachedAnalysis(url, page.serverUrl);
  if (cached) return { view: pageView(page.view, cached, { ...options, truncated: cached.truncated }) };
  if (message.requested !== true && !(await admitAutomaticAnalysis(sender.tab?.id))) {
    return { view: pageView(page.view, { error: { kind: "paused", status: null, message: "" } }, options) };
  }
  // The content script caps the HTML already; a larger one (from an old content script) is cut here.
  const { html, truncated } = capHtml(message.html);
  const result = await requestAnalysis(page.serverUrl, { url, html, title: message.title });
  const cut = truncated || message.truncated === true;
  if (result.analysis) {
    await cacheAnalysis(url, page.serverUrl, result.analysis, cut).catch((error) => {
      console.warn("newstilt: analysis not cached:", error);
    });
  }
  return { view: pageView(page.view, result, { ...options, truncated: cut }) };
}

async function openOptions() {
  await ext.runtime.openOptionsPage();
  return {};
}

async function hideThisSite(message, sender) {
  const site = siteOf(sender.url);
  if (!site) throw new Error("This page cannot be hidden.");
  return setSiteHidden({ site, hidden: true });
}

function tableSummary(meta) {
  if (!meta) return null;
  const { serverUrl, version, generatedAt, fetchedAt, checkedAt, outletCount } = meta;
  return { serverUrl, version, generatedAt, fetchedAt, checkedAt, outletCount };
}

async function getPageState(message) {
  const { settings, meta, status } = await getState();
  const page = typeof message.url === "string" ? await describePage(message.url) : null;
  return { settings, table: tableSummary(meta), status, page };
}

async function saveSettings(message) {
  const incoming = message.settings ?? {};
  const current = await getSettings();
  const serverUrl = normalizeServerUrl(incoming.serverUrl ?? current.serverUrl);
  const serverChanged = serverUrl !== current.serverUrl;
  const pattern = serverPermissionPattern(serverUrl);
  if (serverChanged && pattern && !(await ext.permissions.contains({ origins: [pattern] }))) {
    throw new Error(`newstilt needs your permission to reach ${new URL(serverUrl).origin}.`);
  }
  const settings = await putSettings({
    ...current,
    serverUrl,
    badgeEnabled: typeof incoming.badgeEnabled === "boolean" ? incoming.badgeEnabled : current.badgeEnabled,
    coverageEnabled: typeof incoming.coverageEnabled === "boolean" ? incoming.coverageEnabled : current.coverageEnabled,
  });
  if (!serverChanged && !message.refresh) return { settings };
  const refresh = await refreshTable();
  return { settings, table: tableSummary(refresh.meta), status: refresh.status };
}

async function setSiteHidden(message) {
  const site = typeof message.site === "string" ? message.site.trim().toLowerCase() : "";
  if (!/^[a-z0-9.-]+$/.test(site) && !/^\[[0-9a-f:.]+\]$/.test(site)) throw new Error("Not a site name.");
  const current = await getSettings();
  const others = current.hiddenSites.filter((hidden) => hidden !== site);
  const settings = await putSettings({ ...current, hiddenSites: message.hidden ? [...others, site] : others });
  return { settings };
}

async function refreshNow() {
  const refresh = await refreshTable();
  return { table: tableSummary(refresh.meta), status: refresh.status };
}

const HANDLERS = {
  [MSG.LOOKUP_PAGE]: { from: FROM_CONTENT, handle: lookupPage },
  [MSG.ANALYZE_PAGE]: { from: FROM_CONTENT, handle: analyzePage },
  [MSG.HIDE_THIS_SITE]: { from: FROM_CONTENT, handle: hideThisSite },
  [MSG.OPEN_OPTIONS]: { from: FROM_CONTENT, handle: openOptions },
  [MSG.GET_STATE]: { from: FROM_EXTENSION_PAGE, handle: getPageState },
  [MSG.SAVE_SETTINGS]: { from: FROM_EXTENSION_PAGE, handle: saveSettings },
  [MSG.SET_SITE_HIDDEN]: { from: FROM_EXTENSION_PAGE, handle: setSiteHidden },
  [MSG.REFRESH_TABLE]: { from: FROM_EXTENSION_PAGE, handle: refreshNow },
  [MSG.CHECK_SERVER]: { from: FROM_EXTENSION_PAGE, handle: checkServer },
};

function senderKind(sender) {
  if (sender.id !== ext.runtime.id || typeof sender.url !== "string") return null;
  if (sender.url.startsWith(ext.runtime.getURL(""))) return FROM_EXTENSION_PAGE;
  if (sender.tab && sender.frameId === 0 && /^https?:/.test(sender.url)) return FROM_CONTENT;
  return null;
}

/** The handler for a message, or null: only the map's own entries count (not "constructor", "__proto__"...). */
function handlerFor(message) {
  if (!message || typeof message !== "object" || typeof message.type !== "string") return null;
  return Object.hasOwn(HANDLERS, message.type) ? HANDLERS[message.type] : null;
}

/** The runtime.onMessage listener. */
export function onMessage(message, sender, sendResponse) {
  const handler = handlerFor(message);
  if (!handler || !sender || senderKind(sender) !== handler.from) return false;
  handler
    .handle(message, sender)
    .then(
      (result) => sendResponse({ ok: true, result }),
      (error) => sendResponse({ ok: false, error: String(error?.message ?? error) }),
    );
  return true;
}
