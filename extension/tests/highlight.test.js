import assert from "node:assert/strict";
import { describe, test } from "node:test";

import "../ui/highlight.js";

const { findMatches, termPattern, MAX_MARKS } = globalThis.NewstiltHighlight;

function matched(text, terms, limit) {
  return findMatches(text, terms, limit).map(({ start, end, side }) => [text.slice(start, end), side]);
}

describe("findMatches", () => {
  const terms = [{ term: "tax", side: "right" }, { term: "tax cuts", side: "left" }, { term: "border security", side: "right" }];

  test("whole words, any case, a phrase before its own first word", () => {
    assert.deepEqual(matched("Tax cuts, taxes and a TAX. Syntax.", terms), [["Tax cuts", "left"], ["TAX", "right"]]);
  });

  test("any run of spaces between a phrase's words", () => {
    assert.deepEqual(matched("more border\n   security now", terms), [["border\n   security", "right"]]);
    assert.deepEqual(matched("bordersecurity", terms), []);
  });

  test("letters beyond ASCII count as word characters", () => {
    const accented = [{ term: "café", side: "left" }, { term: "naïve", side: "right" }];
    assert.deepEqual(matched("Le café naïve, cafés", accented), [["café", "left"], ["naïve", "right"]]);
    assert.deepEqual(matched("xtax taxé", terms), []);
  });

  test("regular-expression characters in a term are literal", () => {
    assert.deepEqual(matched("a c++ b (c) c", [{ term: "(c)", side: "left" }]), [["(c)", "left"]]);
    assert.deepEqual(matched("costs $5 now", [{ term: "costs", side: "other" }]), [["costs", "other"]]);
    assert.equal(termPattern([{ term: ".*", side: "left" }]).regexp.test("anything"), false);
  });

  test("the cap, and nothing to look for", () => {
    assert.equal(findMatches("tax ".repeat(500), terms).length, MAX_MARKS);
    assert.equal(findMatches("tax tax tax", terms, 2).length, 2);
    assert.deepEqual(findMatches("tax", []), []);
    assert.deepEqual(findMatches("tax", [{ term: "  " }, null, { term: 5 }]), []);
    assert.equal(termPattern(undefined), null);
  });

  test("a term without a known side is 'other'; the same term twice keeps its first side", () => {
    const view = findMatches("Tax", [{ term: "tax" }, { term: "TAX", side: "left" }]);
    assert.equal(view[0].side, "other");
  });
});
