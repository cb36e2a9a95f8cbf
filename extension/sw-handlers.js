// One map of named message handlers. Each says who may send it: the content script (a page's renderer, so it
// is trusted only about its own page, and only the browser-reported sender URL counts) or an extension page
// (popup, options). Replies are `{ok: true, result}` or `{ok: false, error}`.
import { ext } from "./lib/ext.js";
import { MSG } from "./lib/messages.js";
import { normalizeServerUrl, serverPermissionPattern, siteOf } from "./lib/settings.js";
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

async function lookupPage(message, sender) {
  const page = await describePage(pageUrlOf(message, sender));
  await showOnToolbar(sender.tab?.id, page.view);
  return { view: page.show ? page.view : null, show: page.show, site: page.site };
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
  [MSG.HIDE_THIS_SITE]: { from: FROM_CONTENT, handle: hideThisSite },
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

/** The runtime.onMessage listener. */
export function onMessage(message, sender, sendResponse) {
  const handler = HANDLERS[message?.type];
  if (!handler || senderKind(sender) !== handler.from) return false;
  handler
    .handle(message, sender)
    .then(
      (result) => sendResponse({ ok: true, result }),
      (error) => sendResponse({ ok: false, error: String(error?.message ?? error) }),
    );
  return true;
}
