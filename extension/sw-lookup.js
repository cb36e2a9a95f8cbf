// Which outlet a page belongs to, answered from the cached table alone: nothing about the page leaves the
// browser. The rules are lib/match.js's (the server's); the data are the per-key entries sw-store.js keeps.
import { candidateKeys, firstMatch } from "./lib/match.js";
import { outletView } from "./lib/format.js";
import { isHiddenSite, siteOf } from "./lib/settings.js";
import { getOutlets, getState } from "./sw-store.js";

/** The cached outlet for a page URL as `{outlet, match}` (the server's lookup shape), or null. */
export async function findOutlet(href, meta) {
  if (!meta) return null;
  const keys = candidateKeys(href, { platforms: meta.platforms, maxDepth: meta.maxDepth });
  if (!keys.length) return null;
  const found = await getOutlets(keys);
  return firstMatch(href, keys, (key) => found[key]);
}

/**
 * What the extension shows for a page: the outlet's view model (or null when unrated), the page's site as
 * the reader hides it, whether the in-page badge should show there, and whether its coverage may be asked for
 * (the badge shows and the reader left "Show coverage on rated news sites" on), from which server.
 */
export async function describePage(href) {
  const { settings, meta } = await getState();
  const found = await findOutlet(href, meta);
  const view = found ? outletView(found.outlet, { serverUrl: settings.serverUrl }) : null;
  const hidden = isHiddenSite(settings.hiddenSites, href);
  const show = Boolean(view) && settings.badgeEnabled && !hidden;
  return {
    view,
    site: siteOf(href),
    hidden,
    show,
    coverage: show && settings.coverageEnabled,
    serverUrl: settings.serverUrl,
  };
}
