// Keeping the cached ratings table current: a conditional GET of <server>/api/v1/sources with the stored
// ETag, at install and startup, every six hours (an alarm), and whenever the reader saves the settings or asks
// for it. These downloads, the popup's health check and the page analyses (sw-analyze.js) are the only requests
// the extension makes.
import { ext } from "./lib/ext.js";
import { clearTable, getState, putStatus, putTable, touchTable } from "./sw-store.js";

export const REFRESH_ALARM = "newstilt-refresh";
export const RETRY_ALARM = "newstilt-retry";
const REFRESH_MINUTES = 6 * 60;
const RETRY_MINUTES = 5;
const DOWNLOAD_TIMEOUT_MS = 30_000;
const HEALTH_TIMEOUT_MS = 5_000;

/** Make sure the six-hourly refresh alarm exists (alarms survive worker restarts, not browser restarts). */
export async function scheduleRefresh() {
  if (!(await ext.alarms.get(REFRESH_ALARM))) {
    await ext.alarms.create(REFRESH_ALARM, { delayInMinutes: REFRESH_MINUTES, periodInMinutes: REFRESH_MINUTES });
  }
}

/**
 * Download the table if it changed and store it. One download at a time (a Web Lock, not a worker global).
 * Resolves to `{ok, meta, status}`; never rejects: a failure is recorded and retried in a few minutes.
 */
export function refreshTable() {
  return navigator.locks.request("newstilt-refresh-table", downloadTable);
}

async function downloadTable() {
  let { settings, meta } = await getState();
  if (meta && meta.serverUrl !== settings.serverUrl) {
    // Ratings from a server the reader no longer uses must not be shown, nor its ETag sent elsewhere.
    await clearTable();
    meta = null;
  }
  const attemptedAt = new Date().toISOString();
  try {
    const headers = { Accept: "application/json" };
    if (meta?.etag) headers["If-None-Match"] = meta.etag;
    const response = await fetch(`${settings.serverUrl}/api/v1/sources`, {
      headers,
      cache: "no-store",
      credentials: "omit",
      signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS),
    });
    if (response.status === 304 && meta) {
      meta = await touchTable(meta, attemptedAt);
    } else if (response.ok) {
      const table = parseTable(await response.json());
      const etag = response.headers.get("ETag");
      meta = await putTable({ serverUrl: settings.serverUrl, etag, table, fetchedAt: attemptedAt });
    } else {
      throw new Error(await serverErrorMessage(response));
    }
    const status = { ok: true, attemptedAt, error: null };
    await putStatus(status);
    await ext.alarms.clear(RETRY_ALARM);
    return { ok: true, meta, status };
  } catch (error) {
    const status = { ok: false, attemptedAt, error: describeError(error, settings.serverUrl) };
    console.warn("newstilt: could not refresh the ratings table:", status.error);
    await putStatus(status);
    await ext.alarms.create(RETRY_ALARM, { delayInMinutes: RETRY_MINUTES });
    return { ok: false, meta, status };
  }
}

/** Check and trim the server's answer: anything malformed is dropped here, not at lookup time. */
export function parseTable(body) {
  if (!body || typeof body !== "object" || !Array.isArray(body.outlets)) {
    throw new Error("The server's ratings table is not in the expected format (no outlets list).");
  }
  const outlets = body.outlets.filter(
    (outlet) => outlet && typeof outlet === "object" && typeof outlet.domain === "string" && outlet.domain,
  );
  const platforms = Array.isArray(body.platforms)
    ? body.platforms.filter((host) => typeof host === "string").map((host) => host.toLowerCase())
    : [];
  return {
    version: typeof body.version === "string" ? body.version : null,
    generated_at: typeof body.generated_at === "string" ? body.generated_at : null,
    platforms,
    outlets,
  };
}

/** The message of the server's JSON error answer (`{"error": {"code", "message"}}`), or null. */
export async function serverErrorDetail(response) {
  try {
    const body = await response.json();
    if (typeof body?.error?.message === "string" && body.error.message) return body.error.message;
  } catch {
    // Not JSON: no detail.
  }
  return null;
}

async function serverErrorMessage(response) {
  const detail = await serverErrorDetail(response);
  if (detail) return `The server answered ${response.status}: ${detail}`;
  return `The server answered ${response.status} ${response.statusText}`.trim();
}

function describeError(error, serverUrl) {
  if (error?.name === "TimeoutError") return `${serverUrl} did not answer in time.`;
  if (error instanceof TypeError) return `Could not reach ${serverUrl}.`;
  if (error instanceof SyntaxError) return "The server's answer was not valid JSON.";
  return String(error?.message ?? error);
}

/** Whether the configured server answers its health check: `{reachable, error}`. */
export async function checkServer() {
  const { settings } = await getState();
  try {
    const response = await fetch(`${settings.serverUrl}/healthz`, {
      cache: "no-store",
      credentials: "omit",
      signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS),
    });
    const body = await response.json().catch(() => null);
    if (response.ok && body?.status === "ok") return { reachable: true, error: null };
    return { reachable: false, error: `The server answered ${response.status}.` };
  } catch (error) {
    return { reachable: false, error: describeError(error, settings.serverUrl) };
  }
}

/** At install, update and browser startup: make sure the alarm exists and fetch the table. */
export async function onInstalledOrStartup() {
  await scheduleRefresh();
  await refreshTable();
}

export async function onAlarm(alarm) {
  if (alarm.name === REFRESH_ALARM || alarm.name === RETRY_ALARM) await refreshTable();
}
