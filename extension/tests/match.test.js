import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  candidateHosts,
  candidateKeys,
  keyDepth,
  matchOutlet,
  pageLocation,
  percentDecode,
} from "../lib/match.js";

const outlet = (domain, aliases = []) => ({ domain, name: domain, aliases });

const TABLE = {
  platforms: ["substack.com", "medium.com", "blogspot.com", "wordpress.com"],
  outlets: [
    outlet("bbc.com", ["bbc.co.uk"]),
    outlet("nytimes.com"),
    outlet("al.com"),
    outlet("al.com/birmingham"),
    outlet("al.com/birmingham/sports"),
    outlet("someone.substack.com"),
    outlet("xn--bcher-kva.example"),
    outlet("lemonde.fr/blog/été"),
  ],
};

const keyOf = (href) => matchOutlet(href, TABLE)?.match.key ?? null;

describe("pageLocation", () => {
  test("lowercases, punycodes, drops the trailing dot, port and userinfo", () => {
    assert.deepEqual(pageLocation("https://user:pw@WWW.BBC.co.uk.:8443/News/Item?q=1#x"), {
      host: "www.bbc.co.uk",
      segments: ["news", "item"],
    });
    assert.equal(pageLocation("https://bücher.example/").host, "xn--bcher-kva.example");
  });

  test("refuses what is not an http(s) URL", () => {
    for (const href of ["", "not a url", "ftp://bbc.com/", "chrome://extensions", "file:///etc/passwd"]) {
      assert.equal(pageLocation(href), null, href);
    }
  });

  test("decodes path escapes like urllib.parse.unquote", () => {
    assert.equal(percentDecode("/caf%C3%A9/%2F/100%/%zz"), "/café///100%/%zz");
    assert.equal(percentDecode("/%E2%82/"), "/\uFFFD/");
  });
});

describe("candidateHosts", () => {
  test("host, then without the same-site prefix, then the parents", () => {
    assert.deepEqual(candidateHosts("www.news.bbc.co.uk"), [
      "www.news.bbc.co.uk",
      "news.bbc.co.uk",
      "bbc.co.uk",
      "co.uk",
    ]);
  });

  test("strips exactly one of www, wwwN, m, amp, mobile", () => {
    for (const prefix of ["www", "www2", "www10", "m", "amp", "mobile"]) {
      assert.equal(candidateHosts(`${prefix}.bbc.com`)[1], "bbc.com", prefix);
    }
    assert.deepEqual(candidateHosts("www.m.bbc.com").slice(0, 3), ["www.m.bbc.com", "m.bbc.com", "bbc.com"]);
    assert.deepEqual(candidateHosts("wwwx.bbc.com"), ["wwwx.bbc.com", "bbc.com"]);
  });

  test("stops below a platform", () => {
    const platforms = new Set(["substack.com"]);
    assert.deepEqual(candidateHosts("m.someone.substack.com", platforms), ["m.someone.substack.com", "someone.substack.com"]);
    assert.deepEqual(candidateHosts("www.substack.com", platforms), ["www.substack.com", "substack.com"]);
  });

  test("an IP address is only itself", () => {
    assert.deepEqual(candidateHosts("127.0.0.1"), ["127.0.0.1"]);
    assert.deepEqual(candidateHosts("[::1]"), ["[::1]"]);
  });
});

describe("candidateKeys", () => {
  test("path scopes longest first at each host, capped at the table's deepest key", () => {
    assert.deepEqual(candidateKeys("https://www.al.com/birmingham/2024/x", { maxDepth: 2 }), [
      "www.al.com/birmingham/2024",
      "www.al.com/birmingham",
      "www.al.com",
      "al.com/birmingham/2024",
      "al.com/birmingham",
      "al.com",
    ]);
    assert.equal(keyDepth("al.com/birmingham/sports"), 2);
    assert.equal(keyDepth("al.com"), 0);
  });

  test("nothing for a URL that cannot be matched", () => {
    assert.deepEqual(candidateKeys("about:blank"), []);
  });
});

describe("matchOutlet", () => {
  test("domains and aliases, with the server's match shape", () => {
    assert.deepEqual(matchOutlet("https://news.bbc.co.uk/1/hi", TABLE).match, {
      key: "bbc.co.uk",
      host: "news.bbc.co.uk",
      kind: "alias",
    });
    assert.equal(matchOutlet("https://www.bbc.com/news", TABLE).match.kind, "domain");
    assert.equal(keyOf("https://www.nytimes.com/2026/11/24/us/politics/story.html"), "nytimes.com");
    assert.equal(keyOf("https://cooking.nytimes.com/"), "nytimes.com");
  });

  test("path-scoped keys match whole segments only, longest first", () => {
    assert.equal(keyOf("https://www.al.com/birmingham/2024/x"), "al.com/birmingham");
    assert.equal(keyOf("https://www.al.com/Birmingham"), "al.com/birmingham");
    assert.equal(keyOf("https://www.al.com/birmingham/sports/football"), "al.com/birmingham/sports");
    assert.equal(keyOf("https://www.al.com/birminghamx/2024"), "al.com");
    assert.equal(keyOf("https://www.al.com/"), "al.com");
    assert.equal(keyOf("https://www.lemonde.fr/blog/%C3%A9t%C3%A9/x"), "lemonde.fr/blog/été");
  });

  test("a platform's subdomains never inherit the platform, but exact keys still match", () => {
    assert.equal(keyOf("https://someone.substack.com/p/x"), "someone.substack.com");
    assert.equal(keyOf("https://other.substack.com/p/x"), null);
    assert.equal(keyOf("https://a.b.wordpress.com/"), null);
  });

  test("unrated and unmatchable pages", () => {
    assert.equal(keyOf("https://www.example.org/"), null);
    assert.equal(keyOf("https://notbbc.com/"), null);
    assert.equal(keyOf("https://bbc.com.evil.test/"), null);
    assert.equal(keyOf("chrome://newtab"), null);
  });

  test("internationalised hosts match their punycode key", () => {
    assert.equal(keyOf("https://www.BÜCHER.example/"), "xn--bcher-kva.example");
  });
});
