// The toolbar popup: the current tab's rating with the story's coverage when known, "Analyze this page", the
// two toggles, and whether the server is reachable.
import { ext } from "../lib/ext.js";
import { MSG } from "../lib/messages.js";
import { describeTable, send } from "./common.js";

const $ = (id) => document.getElementById(id);

/**
 * The tab the popup is about: the active tab of its window, or `?tab=<id>` when the popup is opened as a page
 * of its own (as the real-browser tests do). `url` is null when the browser does not show it to the popup.
 */
async function targetTab() {
  const param = new URLSearchParams(location.search).get("tab");
  if (param !== null && /^\d+$/.test(param)) return { id: Number(param), url: null };
  // activeTab lets the popup see the URL of the tab it was opened on; nothing else is visible.
  const [tab] = await ext.tabs.query({ active: true, currentWindow: true });
  return tab ? { id: tab.id, url: tab.url ?? null } : null;
}

/** Ask the tab's content script (PAGE_STATUS, RUN_ANALYSIS); rejects when the tab has none. */
async function askTab(tabId, type) {
  const reply = await ext.tabs.sendMessage(tabId, { type }, { frameId: 0 });
  if (!reply || !reply.ok) throw new Error(reply ? reply.error : "The page did not answer.");
  return reply.result;
}

function openSettings() {
  ext.runtime.openOptionsPage();
  window.close();
}

/** The badge for the tab: the content script's view (with coverage) if it has one, else the table's rating. */
function renderOutlet(page, view) {
  const empty = $("outlet-empty");
  globalThis.NewstiltBadge.unmount();
  const shown = view ?? page?.view;
  if (shown) {
    empty.hidden = true;
    globalThis.NewstiltBadge.mount(shown, {
      container: $("outlet"), embedded: true, expanded: true, onOpenSettings: openSettings,
    });
  } else {
    empty.hidden = false;
    empty.textContent = page?.site ? `newstilt has no rating for ${page.site}.` : "This is not a web page newstilt rates.";
  }
}

function showAnalyzeStatus(text, state = "ok") {
  $("analyze-status").textContent = text;
  $("analyze-status").dataset.state = state;
}

function renderAnalyze(tab, page, status) {
  const button = $("analyze");
  if (!tab || !status) {
    button.disabled = true;
    showAnalyzeStatus(page?.site
      ? "newstilt cannot read this tab. If it was open before newstilt was installed, reload it."
      : "newstilt can analyse web pages only.", "error");
    return;
  }
  button.onclick = async () => {
    button.disabled = true;
    showAnalyzeStatus("Analysing\u2026");
    try {
      const result = await askTab(tab.id, MSG.RUN_ANALYSIS);
      renderOutlet(page, result.view);
      showAnalyzeStatus(result.view ? "" : "newstilt could not analyse this page.", result.view ? "ok" : "error");
    } catch (error) {
      showAnalyzeStatus(`newstilt could not analyse this page: ${error.message}`, "error");
    } finally {
      button.disabled = false;
    }
  };
}

function renderToggles(state, url) {
  $("badge-enabled").checked = state.settings.badgeEnabled;
  const site = state.page?.site;
  $("hide-site-row").hidden = !site;
  if (site) {
    $("hide-site-label").textContent = `Hide the badge on ${site}`;
    $("hide-site").checked = state.page.hidden;
  }
  $("badge-enabled").onchange = async (event) => {
    await send(MSG.SAVE_SETTINGS, { settings: { badgeEnabled: event.target.checked } }).catch(showError);
  };
  $("hide-site").onchange = async (event) => {
    await send(MSG.SET_SITE_HIDDEN, { site, hidden: event.target.checked }).catch(showError);
    await refresh(url);
  };
}

function renderServer(state) {
  $("server-url").textContent = state.settings.serverUrl;
  $("table-status").textContent = describeTable(state.table, state.status);
}

function showError(error) {
  $("table-status").textContent = error.message;
}

async function refresh(url, status = null) {
  const state = await send(MSG.GET_STATE, { url });
  renderOutlet(state.page, status?.view);
  renderToggles(state, url);
  renderServer(state);
  return state;
}

async function main() {
  $("options-link").addEventListener("click", (event) => {
    event.preventDefault();
    openSettings();
  });
  const tab = await targetTab();
  const status = tab ? await askTab(tab.id, MSG.PAGE_STATUS).catch(() => null) : null;
  const url = tab?.url ?? status?.url ?? null;
  const state = await refresh(url, status);
  renderAnalyze(tab, state.page, status);
  const health = await send(MSG.CHECK_SERVER);
  const serverState = $("server-state");
  serverState.dataset.state = health.reachable ? "ok" : "error";
  serverState.textContent = health.reachable ? "Reachable" : "Unreachable";
  serverState.title = health.error ?? "";
}

main().catch(showError);
