// The options page: the server URL (validated, permission asked for at run time), the badge and coverage
// switches, the sites where the badge is hidden, and the state of the cached ratings table.
import { ext } from "../lib/ext.js";
import { MSG } from "../lib/messages.js";
import { InvalidServerUrl, normalizeServerUrl, serverPermissionPattern } from "../lib/settings.js";
import { describeTable, send } from "./common.js";

const $ = (id) => document.getElementById(id);

function renderTable(table, status) {
  const state = $("table-state");
  const failed = status && !status.ok;
  state.dataset.state = failed ? "error" : table ? "ok" : "unknown";
  state.textContent = failed ? "Last refresh failed" : table ? "Ratings up to date" : "No ratings yet";
  $("table-status").textContent = describeTable(table, status);
  $("table-status").dataset.outlets = table ? String(table.outletCount) : "0";
  $("table-status").dataset.server = table ? table.serverUrl : "";
  $("table-status").dataset.checkedAt = table?.checkedAt ?? "";
}

function renderHiddenSites(sites) {
  const list = $("hidden-sites");
  list.replaceChildren(
    ...sites.map((site) => {
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", `Show the badge on ${site} again`);
      remove.addEventListener("click", async () => {
        const { settings } = await send(MSG.SET_SITE_HIDDEN, { site, hidden: false });
        renderHiddenSites(settings.hiddenSites);
      });
      const name = document.createElement("span");
      name.textContent = site;
      const item = document.createElement("li");
      item.dataset.site = site;
      item.append(name, remove);
      return item;
    }),
  );
  $("hidden-empty").hidden = sites.length > 0;
}

function renderSettings(settings) {
  $("server-url").value = settings.serverUrl;
  $("badge-enabled").checked = settings.badgeEnabled;
  $("coverage-enabled").checked = settings.coverageEnabled;
  $("methodology").href = `${settings.serverUrl}/methodology`;
  renderHiddenSites(settings.hiddenSites);
}

function showServerError(message) {
  const error = $("server-error");
  error.textContent = message ?? "";
  error.hidden = !message;
  $("server-url").setAttribute("aria-invalid", message ? "true" : "false");
}

function showSaveStatus(text, state = "ok") {
  $("save-status").textContent = text;
  $("save-status").dataset.state = state;
}

async function save(serverUrl, permission) {
  $("save").disabled = true;
  showSaveStatus("Saving…");
  try {
    if (!(await permission)) {
      showServerError(`Without your permission newstilt cannot reach ${new URL(serverUrl).origin}.`);
      showSaveStatus("Not saved.", "error");
      return;
    }
    const result = await send(MSG.SAVE_SETTINGS, {
      settings: { serverUrl, badgeEnabled: $("badge-enabled").checked, coverageEnabled: $("coverage-enabled").checked },
      refresh: true,
    });
    renderSettings(result.settings);
    renderTable(result.table, result.status);
    showSaveStatus(result.status?.ok ? "Saved; ratings downloaded." : "Saved, but the ratings could not be downloaded.",
      result.status?.ok ? "ok" : "error");
  } catch (error) {
    showSaveStatus(error.message, "error");
  } finally {
    $("save").disabled = false;
  }
}

$("settings-form").addEventListener("submit", (event) => {
  event.preventDefault();
  let serverUrl;
  try {
    serverUrl = normalizeServerUrl($("server-url").value);
  } catch (error) {
    if (!(error instanceof InvalidServerUrl)) throw error;
    showServerError(error.message);
    $("server-url").focus();
    return;
  }
  showServerError(null);
  // permissions.request must be called while the click still counts as a user gesture: before any await.
  const pattern = serverPermissionPattern(serverUrl);
  const permission = pattern ? ext.permissions.request({ origins: [pattern] }) : Promise.resolve(true);
  save(serverUrl, permission);
});

$("refresh").addEventListener("click", async () => {
  $("refresh").disabled = true;
  try {
    const { table, status } = await send(MSG.REFRESH_TABLE);
    renderTable(table, status);
  } catch (error) {
    $("table-status").textContent = error.message;
  } finally {
    $("refresh").disabled = false;
  }
});

async function main() {
  const state = await send(MSG.GET_STATE);
  renderSettings(state.settings);
  renderTable(state.table, state.status);
}

main().catch((error) => showSaveStatus(error.message, "error"));
