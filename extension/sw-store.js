// Everything the worker keeps lives in storage.local (the worker itself may be stopped at any moment):
//   settings    the reader's settings (lib/settings.js)
//   meta        the cached table's server, ETag, version, dates, platforms and deepest key scope
//   status      the last download attempt: when, and the error if it failed
//   tableKeys   the storage keys of the cached outlets, to drop the stale ones on the next download
//   k:<key>     one outlet per lookup key (its domain and each alias), so a page lookup reads a few small
//               entries instead of parsing the whole table
import { ext } from "./lib/ext.js";
import { buildIndex } from "./lib/match.js";
import { withDefaults } from "./lib/settings.js";

const OUTLET_PREFIX = "k:";

export function outletStorageKey(key) {
  return OUTLET_PREFIX + key;
}

export async function getSettings() {
  const { settings } = await ext.storage.local.get("settings");
  return withDefaults(settings);
}

export async function putSettings(settings) {
  const clean = withDefaults(settings);
  await ext.storage.local.set({ settings: clean });
  return clean;
}

/** Settings, table metadata and download status in one read. */
export async function getState() {
  const { settings, meta = null, status = null } = await ext.storage.local.get(["settings", "meta", "status"]);
  return { settings: withDefaults(settings), meta, status };
}

export async function putStatus(status) {
  await ext.storage.local.set({ status });
}

/** The stored outlets for some lookup keys, as an object keyed by lookup key. */
export async function getOutlets(keys) {
  const stored = await ext.storage.local.get(keys.map(outletStorageKey));
  const found = {};
  for (const key of keys) {
    const outlet = stored[outletStorageKey(key)];
    if (outlet) found[key] = outlet;
  }
  return found;
}

/** Replace the cached table with a freshly downloaded one; returns the new metadata. */
export async function putTable({ serverUrl, etag, table, fetchedAt }) {
  const { index, maxDepth } = buildIndex(table.outlets);
  const entries = {};
  for (const [key, outlet] of index) entries[outletStorageKey(key)] = outlet;
  const meta = {
    serverUrl,
    etag,
    version: table.version ?? null,
    generatedAt: table.generated_at ?? null,
    fetchedAt,
    checkedAt: fetchedAt,
    outletCount: table.outlets.length,
    platforms: table.platforms,
    maxDepth,
  };
  const { tableKeys: oldKeys = [] } = await ext.storage.local.get("tableKeys");
  const newKeys = Object.keys(entries);
  await ext.storage.local.set({ ...entries, meta, tableKeys: newKeys });
  const kept = new Set(newKeys);
  const stale = oldKeys.filter((key) => !kept.has(key));
  if (stale.length) await ext.storage.local.remove(stale);
  return meta;
}

/** Record that the server confirmed (304) that the cached table is current. */
export async function touchTable(meta, checkedAt) {
  const updated = { ...meta, checkedAt };
  await ext.storage.local.set({ meta: updated });
  return updated;
}

/** Forget the cached table (the reader pointed the extension at another server). */
export async function clearTable() {
  const { tableKeys = [] } = await ext.storage.local.get("tableKeys");
  await ext.storage.local.remove([...tableKeys, "tableKeys", "meta", "status"]);
}
