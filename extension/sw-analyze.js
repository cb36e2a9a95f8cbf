// The one request that carries a page to the reader's server: POST <server>/api/v1/analyze with the page's
// address and HTML, answered with the story the page belongs to (its coverage across the spectrum) and the
// article's own lean. It is sent for the article pages of rated news sites while the "Show coverage" setting is
// on, and for any page when the reader asks (the popup's "Analyze this page"); sw-handlers.js decides which.
//
// Answers are kept for ten minutes per page in storage.session (in memory, gone when the browser closes;
// storage.local where a browser has no session area), so reopening a page or its badge does not send it again:
//   a:<url>        {serverUrl, at, analysis, truncated}, the checked, trimmed answer (lib/analysis.js)
//   analysisIndex  {<key>: at} for every cached answer, to drop old ones without reading the whole area
import { ext } from "./lib/ext.js";
import { admitAutomatic, parseAnalysis } from "./lib/analysis.js";
import { serverErrorDetail } from "./sw-table.js";

const ANALYZE_TIMEOUT_MS = 30_000;
export const CACHE_TTL_MS = 10 * 60_000;
const CACHE_MAX_ENTRIES = 40;
const CACHE_PREFIX = "a:";
const CACHE_INDEX = "analysisIndex";

function cacheArea() {
  return ext.storage.session ?? ext.storage.local;
}

/** A page's cache key: its address without the fragment. */
function cacheKey(href) {
  const url = new URL(href);
  url.hash = "";
  return CACHE_PREFIX + url.href;
}

/** The cached `{analysis, truncated}` for a page from this server, if fresh; else null. */
export async function cachedAnalysis(href, serverUrl, now = Date.now()) {
  const key = cacheKey(href);
  const { [key]: entry } = await cacheArea().get(key);
  if (!entry || entry.serverUrl !== serverUrl || now < entry.at || now - entry.at >= CACHE_TTL_MS) return null;
  return { analysis: entry.analysis, truncated: entry.truncated === true };
}

/** Keep an answer; drop expired ones and the oldest beyond CACHE_MAX_ENTRIES. One writer at a time. */
export function cacheAnalysis(href, serverUrl, analysis, truncated) {
  return navigator.locks.request("newstilt-analysis-cache", async () => {
    const area = cacheArea();
    const now = Date.now();
    const key = cacheKey(href);
    const { [CACHE_INDEX]: stored = {} } = await area.get(CACHE_INDEX);
    const kept = Object.entries({ ...stored, [key]: now })
      .filter(([, at]) => typeof at === "number" && at <= now && now - at < CACHE_TTL_MS)
      .sort(([, a], [, b]) => b - a)
      .slice(0, CACHE_MAX_ENTRIES);
    const index = Object.fromEntries(kept);
    const dropped = Object.keys(stored).filter((old) => !(old in index));
    const entry = { serverUrl, at: now, analysis, truncated };
    try {
      await area.set({ [key]: entry, [CACHE_INDEX]: index });
    } catch (error) {
      // Over the area's quota: start the cache afresh with this answer alone.
      console.warn("newstilt: analysis cache reset:", error);
      await area.remove([...Object.keys(stored), CACHE_INDEX]);
      await area.set({ [key]: entry, [CACHE_INDEX]: { [key]: now } });
      return;
    }
    if (dropped.length) await area.remove(dropped);
  });
}

/**
 * Whether tab `tabId` may send one more automatic analysis now (lib/analysis.js admitAutomatic); its recent
 * ones are kept in the session area under `auto:<tabId>`.
 */
export async function admitAutomaticAnalysis(tabId, now = Date.now()) {
  if (!Number.isInteger(tabId)) return true;
  const key = `auto:${tabId}`;
  const area = cacheArea();
  const { [key]: recent } = await area.get(key);
  const result = admitAutomatic(recent, now);
  await area.set({ [key]: result.recent });
  return result.admit;
}

/**
 * Ask the server about a page. Resolves to `{analysis}` or `{error: {kind, status, message}}` (kinds as
 * lib/analysis.js coverageErrorView words them); never rejects.
 */
export async function requestAnalysis(serverUrl, { url, html, title }) {
  const body = { url };
  if (typeof html === "string" && html) body.html = html;
  if (typeof title === "string" && title.trim()) body.title = title.trim().slice(0, 1000);
  let response;
  try {
    response = await fetch(`${serverUrl}/api/v1/analyze`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      signal: AbortSignal.timeout(ANALYZE_TIMEOUT_MS),
    });
  } catch (error) {
    const kind = error?.name === "TimeoutError" ? "timeout" : "unreachable";
    return { error: { kind, status: null, message: String(error?.message ?? error) } };
  }
  if (!response.ok) {
    const message = await serverErrorDetail(response);
    const kind = response.status === 413 ? "too-large" : response.status === 400 ? "rejected" : "server";
    return { error: { kind, status: response.status, message } };
  }
  try {
    return { analysis: parseAnalysis(await response.json()) };
  } catch (error) {
    return { error: { kind: "invalid", status: response.status, message: String(error?.message ?? error) } };
  }
}
