// Which outlet a page belongs to, decided locally from the ratings table: the same rules as the server's
// /api/v1/sources/lookup, so that looking an outlet up never sends the reader's URL anywhere.
//
// Keys (an outlet's domain and each alias) are lowercase punycode hosts without "www.", optionally scoped to
// leading path segments ("al.com/birmingham"). For a page we try, in order:
//   1. the host itself, then the host with one leading www/wwwN/m/amp/mobile label removed,
//   2. each parent domain, walking up the labels, stopping (no match) before a parent that is a blogging or
//      hosting platform, so "someone.substack.com" never inherits "substack.com";
// and at each of those hosts the path-scoped keys first (longest first, whole segments only), then the host.
// No key is ever a public suffix, so walking the labels needs no public-suffix list.

/** A leading label that names the same site: www, www1..www999, m, amp, mobile. */
const SAME_SITE_PREFIX = /^(?:www\d{0,3}|m|amp|mobile)\./;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** Deepest path scope tried when the table does not say (keys are rarely more than two segments deep). */
export const DEFAULT_MAX_DEPTH = 4;

/**
 * The host and path segments a page is matched on, or null for anything that is not an http(s) URL.
 * The host is lowercase punycode (the URL parser's doing) with any trailing dot, port and userinfo dropped.
 */
export function pageLocation(href) {
  let url;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (!host) return null;
  const segments = percentDecode(url.pathname)
    .split("/")
    .filter((segment) => segment !== "")
    .map((segment) => segment.toLowerCase());
  return { host, segments };
}

/**
 * Decode %XX escapes as UTF-8 (invalid sequences become U+FFFD, a stray "%" stays), as the server's
 * urllib.parse.unquote does, so that a key with a non-ASCII path segment matches the same pages.
 */
export function percentDecode(text) {
  if (!text.includes("%")) return text;
  const bytes = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < text.length; ) {
    if (text[i] === "%" && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      const char = String.fromCodePoint(text.codePointAt(i));
      bytes.push(...encoder.encode(char));
      i += char.length;
    }
  }
  return new TextDecoder("utf-8").decode(new Uint8Array(bytes));
}

/** The host without one leading www/wwwN/m/amp/mobile label (unless that would leave a single label). */
export function stripSameSitePrefix(host) {
  const stripped = host.replace(SAME_SITE_PREFIX, "");
  return stripped.includes(".") ? stripped : host;
}

/** How many path segments a key is scoped to: "al.com/birmingham" -> 1, "bbc.com" -> 0. */
export function keyDepth(key) {
  const slash = key.indexOf("/");
  return slash < 0 ? 0 : key.slice(slash + 1).split("/").length;
}

/** The hosts to try for a page host, in order (see the rules at the top of this file). */
export function candidateHosts(host, platforms = new Set()) {
  if (IPV4.test(host) || host.startsWith("[")) return [host];
  const hosts = [host];
  let current = host;
  const stripped = stripSameSitePrefix(host);
  if (stripped !== host) {
    hosts.push(stripped);
    current = stripped;
  }
  for (;;) {
    const parent = current.slice(current.indexOf(".") + 1);
    if (parent === current || !parent.includes(".") || platforms.has(parent)) break;
    hosts.push(parent);
    current = parent;
  }
  return hosts;
}

/**
 * Every key that could match a page, best first, each with the host it was tried at.
 * `platforms` is a Set (or array) of platform hosts; `maxDepth` the deepest path scope in the table.
 */
export function candidateKeys(href, { platforms = [], maxDepth = DEFAULT_MAX_DEPTH } = {}) {
  const location = pageLocation(href);
  if (!location) return [];
  const platformSet = platforms instanceof Set ? platforms : new Set(platforms);
  const depth = Math.min(location.segments.length, maxDepth);
  const keys = [];
  for (const host of candidateHosts(location.host, platformSet)) {
    for (let n = depth; n > 0; n -= 1) {
      keys.push(`${host}/${location.segments.slice(0, n).join("/")}`);
    }
    keys.push(host);
  }
  return keys;
}

/** The lookup keys of one outlet: its domain and its aliases, lowercased. */
export function outletKeys(outlet) {
  const keys = [outlet.domain, ...(Array.isArray(outlet.aliases) ? outlet.aliases : [])];
  return [...new Set(keys.filter((key) => typeof key === "string" && key).map((key) => key.toLowerCase()))];
}

/** A Map from every key to its outlet (the first outlet claiming a key keeps it), and the deepest key scope. */
export function buildIndex(outlets) {
  const index = new Map();
  let maxDepth = 0;
  for (const outlet of outlets) {
    for (const key of outletKeys(outlet)) {
      if (!index.has(key)) index.set(key, outlet);
      maxDepth = Math.max(maxDepth, keyDepth(key));
    }
  }
  return { index, maxDepth };
}

/**
 * The first candidate key that `lookup(key)` knows, as `{outlet, match: {key, host, kind}}` (the server's
 * lookup shape), or null. `lookup` may be a Map's get or a read from stored entries.
 */
export function firstMatch(href, keys, lookup) {
  for (const key of keys) {
    const outlet = lookup(key);
    if (outlet) {
      const kind = key === String(outlet.domain).toLowerCase() ? "domain" : "alias";
      return { outlet, match: { key, host: pageLocation(href).host, kind } };
    }
  }
  return null;
}

/** Match a page against an in-memory table (`platforms` and `outlets` as the server sends them). */
export function matchOutlet(href, table) {
  const { index, maxDepth } = buildIndex(table.outlets ?? []);
  const keys = candidateKeys(href, { platforms: table.platforms ?? [], maxDepth });
  return firstMatch(href, keys, (key) => index.get(key));
}
