// The toolbar popup: the current tab's rating, the two toggles, and whether the server is reachable.
import { ext } from "../lib/ext.js";
import { MSG } from "../lib/messages.js";
import { describeTable, send } from "./common.js";

const $ = (id) => document.getElementById(id);

async function currentTabUrl() {
  // activeTab lets the popup see the URL of the tab it was opened on; nothing else is visible.
  const [tab] = await ext.tabs.query({ active: true, currentWindow: true });
  return tab?.url ?? null;
}

function renderOutlet(page) {
  const empty = $("outlet-empty");
  globalThis.NewstiltBadge.unmount();
  if (page?.view) {
    empty.hidden = true;
    globalThis.NewstiltBadge.mount(page.view, { container: $("outlet"), embedded: true, expanded: true });
  } else {
    empty.hidden = false;
    empty.textContent = page?.site ? `newstilt has no rating for ${page.site}.` : "This is not a web page newstilt rates.";
  }
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

async function refresh(url) {
  const state = await send(MSG.GET_STATE, { url });
  renderOutlet(state.page);
  renderToggles(state, url);
  renderServer(state);
}

async function main() {
  $("options-link").addEventListener("click", (event) => {
    event.preventDefault();
    ext.runtime.openOptionsPage();
    window.close();
  });
  const url = await currentTabUrl();
  await refresh(url);
  const health = await send(MSG.CHECK_SERVER);
  const serverState = $("server-state");
  serverState.dataset.state = health.reachable ? "ok" : "error";
  serverState.textContent = health.reachable ? "Reachable" : "Unreachable";
  serverState.title = health.error ?? "";
}

main().catch(showError);
