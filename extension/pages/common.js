// Shared by the popup and the options page: talking to the worker and describing the table's state.
import { ext } from "../lib/ext.js";

/** Send `{type, ...fields}` to the worker; resolves to its result or rejects with its error message. */
export async function send(type, fields = {}) {
  const reply = await ext.runtime.sendMessage({ type, ...fields });
  if (!reply || !reply.ok) throw new Error(reply ? reply.error : "The newstilt worker did not answer.");
  return reply.result;
}

/** "just now", "5 minutes ago", "3 hours ago", "2 days ago". */
export function age(iso, now = Date.now()) {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "at an unknown time";
  const minutes = Math.round((now - then) / 60000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? "" : "s"} ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} hour${hours === 1 ? "" : "s"} ago`;
  const days = Math.round(hours / 24);
  return `${days} days ago`;
}

/** One line about the cached table, e.g. "1,204 outlets, version 3f2a…, checked 5 minutes ago". */
export function describeTable(table, status) {
  if (!table) {
    return status?.error ? `No ratings yet: ${status.error}` : "No ratings downloaded yet.";
  }
  const parts = [`${table.outletCount.toLocaleString("en")} outlets`];
  if (table.version) parts.push(`version ${table.version.length > 12 ? `${table.version.slice(0, 12)}…` : table.version}`);
  parts.push(`checked ${age(table.checkedAt ?? table.fetchedAt)}`);
  let line = parts.join(", ");
  if (status && !status.ok && status.error) line += `. Last refresh failed: ${status.error}`;
  return line;
}
