// The reader's settings: their shape, defaults and validation. Pure functions, no browser APIs.

import { pageLocation, stripSameSitePrefix } from "./match.js";

export const DEFAULT_SERVER_URL = "http://127.0.0.1:8470";

export const DEFAULT_SETTINGS = Object.freeze({
  serverUrl: DEFAULT_SERVER_URL,
  badgeEnabled: true,
  /** Send a rated news site's article pages (address and HTML) to the server for their coverage and lean. */
  coverageEnabled: true,
  hiddenSites: Object.freeze([]),
});

/** Hosts whose permission the manifest grants up front (`host_permissions`), so no prompt is needed. */
const PRE_GRANTED_HOSTS = new Set(["127.0.0.1", "localhost"]);

/** Thrown for a server URL the extension will not use; `message` is shown to the reader. */
export class InvalidServerUrl extends Error {}

/**
 * A server URL as stored: http(s), no credentials, query or fragment, no trailing slash (a path prefix is kept,
 * for a server behind a reverse proxy at https://example.org/newstilt). Throws InvalidServerUrl.
 */
export function normalizeServerUrl(value) {
  const text = typeof value === "string" ? value.trim() : "";
  if (!text) throw new InvalidServerUrl("Enter the address of your newstilt server.");
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidServerUrl("That is not a web address (it should look like http://127.0.0.1:8470).");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidServerUrl("The server address must start with http:// or https://.");
  }
  if (url.username || url.password) {
    throw new InvalidServerUrl("Leave the user name and password out of the server address.");
  }
  if (url.search || url.hash) {
    throw new InvalidServerUrl("The server address cannot have a ?query or #fragment.");
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/**
 * The host-permission pattern the extension needs to reach a server, or null when the manifest grants it
 * already. Ports are left out: Firefox's match patterns cannot carry one, and Chrome's then match any port.
 */
export function serverPermissionPattern(serverUrl) {
  const url = new URL(serverUrl);
  if (PRE_GRANTED_HOSTS.has(url.hostname) && url.protocol === "http:") return null;
  return `${url.protocol}//${url.hostname}/*`;
}

/** A stored settings object with defaults filled in and anything malformed replaced. */
export function withDefaults(stored) {
  const settings = { ...DEFAULT_SETTINGS, ...(stored && typeof stored === "object" ? stored : {}) };
  try {
    settings.serverUrl = normalizeServerUrl(settings.serverUrl);
  } catch {
    settings.serverUrl = DEFAULT_SERVER_URL;
  }
  settings.badgeEnabled = settings.badgeEnabled !== false;
  settings.coverageEnabled = settings.coverageEnabled !== false;
  settings.hiddenSites = Array.isArray(settings.hiddenSites)
    ? [...new Set(settings.hiddenSites.filter((site) => typeof site === "string" && site))].sort()
    : [];
  return settings;
}

/** The "site" a page is on, as the reader hides it: its host without a leading www/m/amp label. */
export function siteOf(href) {
  const location = pageLocation(href);
  if (!location) return null;
  return stripSameSitePrefix(location.host);
}

/** Whether the reader hid the badge on this page's site (a hidden site covers its subdomains too). */
export function isHiddenSite(hiddenSites, href) {
  const site = siteOf(href);
  if (!site) return false;
  return hiddenSites.some((hidden) => site === hidden || site.endsWith(`.${hidden}`));
}
