// The worker's message listener (sw-handlers.js) with a stand-in for the browser's API: who may send what, and
// that nothing answers a message of the wrong shape or from the wrong sender.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

const ID = "newstiltextensionid";
const BASE = `chrome-extension://${ID}/`;
const stored = {};

globalThis.chrome = {
  runtime: { id: ID, getURL: (path) => BASE + path, openOptionsPage: async () => {} },
  storage: {
    local: {
      async get(keys) {
        const wanted = typeof keys === "string" ? [keys] : keys;
        return Object.fromEntries(wanted.filter((key) => key in stored).map((key) => [key, structuredClone(stored[key])]));
      },
      async set(items) {
        Object.assign(stored, structuredClone(items));
      },
    },
  },
};
const { onMessage } = await import("../sw-handlers.js");
const { MSG } = await import("../lib/messages.js");

const CONTENT = { id: ID, url: "https://www.infowars.com/posts/a-story", tab: { id: 4 }, frameId: 0 };
const EXTENSION_PAGE = { id: ID, url: `${BASE}pages/options.html` };

/** Send a message as `sender`; resolves to the reply, or to "no answer" when the listener declines it. */
function send(message, sender) {
  return new Promise((resolve) => {
    const answered = onMessage(message, sender, resolve);
    if (answered !== true) resolve("no answer");
  });
}

async function hiddenSites() {
  return (await chrome.storage.local.get("settings")).settings?.hiddenSites ?? [];
}

beforeEach(() => {
  for (const key of Object.keys(stored)) delete stored[key];
});

describe("onMessage", () => {
  test("declines messages that are not {type} objects of a known type", async () => {
    for (const message of [null, undefined, "hide-this-site", 7, [], {}, { type: 3 }, { type: "nope" },
      { type: "constructor" }, { type: "__proto__" }, { type: "toString" }, { type: "hasOwnProperty" }]) {
      assert.equal(await send(message, CONTENT), "no answer", JSON.stringify(message));
      assert.equal(await send(message, EXTENSION_PAGE), "no answer", JSON.stringify(message));
    }
  });

  test("declines senders other than this extension's content script and pages", async () => {
    const hide = { type: MSG.HIDE_THIS_SITE };
    for (const sender of [
      undefined,
      {},
      { ...CONTENT, id: "another-extension" },
      { ...CONTENT, id: undefined },
      { ...CONTENT, frameId: 2 }, // a frame inside the page
      { ...CONTENT, tab: undefined },
      { ...CONTENT, url: "file:///etc/passwd" },
      { ...CONTENT, url: undefined },
    ]) {
      assert.equal(await send(hide, sender), "no answer", JSON.stringify(sender));
    }
    assert.deepEqual(await hiddenSites(), []);
  });

  test("a content script cannot send what only extension pages may", async () => {
    for (const type of [MSG.SET_SITE_HIDDEN, MSG.SAVE_SETTINGS, MSG.GET_STATE, MSG.REFRESH_TABLE, MSG.CHECK_SERVER]) {
      assert.equal(await send({ type, site: "nytimes.com", hidden: true }, CONTENT), "no answer", type);
    }
    assert.equal(await send({ type: MSG.HIDE_THIS_SITE }, EXTENSION_PAGE), "no answer");
    assert.deepEqual(await hiddenSites(), []);
  });

  test("a content script hides its own site only, whatever the message says", async () => {
    const reply = await send({ type: MSG.HIDE_THIS_SITE, site: "nytimes.com", url: "https://nytimes.com/" }, CONTENT);
    assert.equal(reply.ok, true);
    assert.deepEqual(await hiddenSites(), ["infowars.com"]);
  });

  test("site names from extension pages are checked", async () => {
    for (const site of [null, 3, "", "<b>x</b>", "a b", { toString: () => "x.com" }]) {
      const reply = await send({ type: MSG.SET_SITE_HIDDEN, site, hidden: true }, EXTENSION_PAGE);
      assert.deepEqual(reply, { ok: false, error: "Not a site name." }, String(site));
    }
    assert.deepEqual(await hiddenSites(), []);
    assert.equal((await send({ type: MSG.SET_SITE_HIDDEN, site: " BBC.co.uk ", hidden: true }, EXTENSION_PAGE)).ok, true);
    assert.deepEqual(await hiddenSites(), ["bbc.co.uk"]);
  });
});
