// The toolbar icon mirrors the current tab's outlet: a short colour-coded bias badge and a tooltip, set per
// tab (the browser drops per-tab values when the tab navigates away), cleared on unrated pages.
import { ext } from "./lib/ext.js";
import { toolbarView } from "./lib/format.js";

export async function showOnToolbar(tabId, view) {
  if (typeof tabId !== "number" || tabId < 0) return;
  const { text, color, title } = toolbarView(view);
  try {
    await Promise.all([
      ext.action.setBadgeText({ tabId, text }),
      ext.action.setBadgeBackgroundColor({ tabId, color }),
      ext.action.setBadgeTextColor?.({ tabId, color: "#ffffff" }),
      ext.action.setTitle({ tabId, title }),
    ]);
  } catch (error) {
    // The tab may have closed meanwhile; nothing to update then.
    console.debug("newstilt: toolbar not updated for tab", tabId, error);
  }
}
