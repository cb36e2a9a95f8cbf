// The service worker (Chromium) or event page (Firefox): only the index. Listeners are registered
// synchronously at the top level so the browser can wake the worker for them; nothing is kept in globals.
import { ext } from "./lib/ext.js";
import { onMessage } from "./sw-handlers.js";
import { onAlarm, onInstalledOrStartup } from "./sw-table.js";

ext.runtime.onMessage.addListener(onMessage);
ext.runtime.onInstalled.addListener(onInstalledOrStartup);
ext.runtime.onStartup.addListener(onInstalledOrStartup);
ext.alarms.onAlarm.addListener(onAlarm);
