import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  DEFAULT_SERVER_URL,
  InvalidServerUrl,
  isHiddenSite,
  normalizeServerUrl,
  serverPermissionPattern,
  siteOf,
  withDefaults,
} from "../lib/settings.js";

describe("server URL", () => {
  test("normalised", () => {
    assert.equal(normalizeServerUrl(" http://127.0.0.1:8470/ "), "http://127.0.0.1:8470");
    assert.equal(normalizeServerUrl("https://News.Example.org/newstilt/"), "https://news.example.org/newstilt");
  });

  test("refused with a message for the reader", () => {
    for (const bad of ["", "127.0.0.1:8470", "ftp://x.example", "https://u:p@x.example", "https://x.example/?a=1",
      "https://x.example/#top", "http://"]) {
      assert.throws(() => normalizeServerUrl(bad), InvalidServerUrl, bad);
    }
  });

  test("permission needed only beyond the pre-granted local hosts", () => {
    assert.equal(serverPermissionPattern("http://127.0.0.1:8470"), null);
    assert.equal(serverPermissionPattern("http://localhost:9000"), null);
    assert.equal(serverPermissionPattern("https://localhost"), "https://localhost/*");
    assert.equal(serverPermissionPattern("https://news.example.org:8443/nt"), "https://news.example.org/*");
  });
});

describe("settings", () => {
  test("defaults fill in and junk is replaced", () => {
    assert.deepEqual(withDefaults(undefined),
      { serverUrl: DEFAULT_SERVER_URL, badgeEnabled: true, coverageEnabled: true, hiddenSites: [] });
    assert.deepEqual(withDefaults({ serverUrl: "javascript:x", badgeEnabled: false, coverageEnabled: "no",
      hiddenSites: ["b.com", 3, "a.com", "b.com"] }), {
      serverUrl: DEFAULT_SERVER_URL,
      badgeEnabled: false,
      coverageEnabled: true,
      hiddenSites: ["a.com", "b.com"],
    });
  });

  test("hidden sites cover their subdomains", () => {
    assert.equal(siteOf("https://www.nytimes.com/x"), "nytimes.com");
    assert.equal(siteOf("https://www.com/"), "www.com");
    assert.equal(siteOf("about:blank"), null);
    assert.ok(isHiddenSite(["nytimes.com"], "https://cooking.nytimes.com/"));
    assert.ok(isHiddenSite(["nytimes.com"], "https://www.nytimes.com/"));
    assert.ok(!isHiddenSite(["nytimes.com"], "https://notnytimes.com/"));
    assert.ok(!isHiddenSite([], "https://www.nytimes.com/"));
  });
});
