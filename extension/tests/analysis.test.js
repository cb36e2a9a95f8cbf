import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  AUTO_ANALYSIS_LIMIT,
  AUTO_ANALYSIS_WINDOW_MS,
  admitAutomatic,
  MAX_HTML_BYTES,
  capHtml,
  coverageErrorView,
  coverageView,
  leanView,
  looksLikeArticle,
  pageView,
  parseAnalysis,
  percentText,
  sourceCounts,
  storyUrl,
} from "../lib/analysis.js";
import { outletView } from "../lib/format.js";

const SERVER = "http://127.0.0.1:8470";

function outlet(domain, name, label, score) {
  return { domain, name, bias: label ? { label, score } : null, factuality: "high" };
}

function article(id, url, title, out, also = []) {
  return { id, url, title, published: "2026-10-14T00:00:00+00:00", outlet: out, also_carried_by: also };
}

/** The shape of the server's POST /api/v1/analyze answer for a stored article (server/analysis.py). */
const ANSWER = {
  url: "https://www.nytimes.com/2026/10/14/us/dam.html",
  outlet: {
    outlet: { domain: "nytimes.com", name: "The New York Times", aliases: [], bias: { label: "lean-left", score: -1 },
      factuality: "high", ownership: "corporation", raters: [] },
    match: { key: "nytimes.com", host: "www.nytimes.com", kind: "domain" },
  },
  article: { id: 1, title: "Dam fails", published: null, text_length: 1200, stored: true },
  story: {
    id: 7,
    title: "Dam fails upstream of Harlow",
    first_published: null,
    last_published: null,
    article_count: 6,
    source_count: 6,
    distribution: {
      total: 6, rated: 5,
      left: { count: 2, percent: 33.3 }, center: { count: 1, percent: 16.7 },
      right: { count: 2, percent: 33.3 }, unrated: { count: 1, percent: 16.7 },
      detail: { "far-left": 0, left: 0, "lean-left": 2, center: 1, "lean-right": 0, right: 2, "far-right": 0 },
    },
    blindspot: { side: null, rule: {}, explanation: "covered across the spectrum" },
    articles: {
      left: [article(2, "https://www.theguardian.com/a", "Guardian headline", outlet("theguardian.com", "The Guardian", "lean-left", -1))],
      center: [article(3, "https://apnews.com/b", "AP headline", outlet("apnews.com", "Associated Press", "center", 0),
        [{ url: "https://news.yahoo.com/b", outlet: { domain: "yahoo.com", name: "Yahoo News", bias: null, factuality: null } },
          { url: "javascript:alert(1)", outlet: null }])],
      right: [
        article(4, "https://www.foxnews.com/c", "Fox headline", outlet("foxnews.com", "Fox News", "right", 2)),
        article(5, "javascript:alert(document.cookie)", "Evil headline", outlet("evil.example", "Evil", "right", 2)),
      ],
      unrated: [article(6, "https://blog.example/d", "Blog headline", { domain: "blog.example", name: "blog.example", bias: null, factuality: null })],
    },
  },
  match: { score: 0.8, stored: true },
  lean: {
    label: "right", score: 0.44, probabilities: { left: 0.1, center: 0.18, right: 0.72 }, confidence: 0.72,
    explanation: [
      { term: "border security", weight: 0.4, side: "right", spans: [[0, 15]] },
      { term: "climate", weight: -0.3, side: "left", spans: [] },
      { term: "", weight: 1, side: "left" },
      "junk",
    ],
    model: { version: "x" },
  },
};

describe("parseAnalysis", () => {
  test("keeps what the badge needs", () => {
    const analysis = parseAnalysis(ANSWER);
    assert.equal(analysis.outlet.domain, "nytimes.com");
    assert.equal(analysis.story.id, 7);
    assert.equal(analysis.story.distribution.left.percent, 33.3);
    assert.equal(analysis.story.articles.center[0].also_carried_by.length, 2);
    assert.deepEqual(analysis.lean.terms.map((term) => term.term), ["border security", "climate"]);
    assert.equal(analysis.lean.hasModel, true);
    assert.equal(analysis.lean.presentation, null);
    assert.equal(analysis.lean.reasonCode, null);
  });

  test("refuses what is not an analysis, tolerates missing parts", () => {
    for (const bad of [null, [], "x", { error: { code: "x" } }]) assert.throws(() => parseAnalysis(bad), TypeError);
    const bare = parseAnalysis({ url: "https://x.example/a", story: null });
    assert.equal(bare.story, null);
    assert.equal(bare.lean, null);
    assert.equal(bare.outlet, null);
    const odd = parseAnalysis({ story: { id: 3, distribution: "x", articles: { left: "x" } }, lean: { model: null } });
    assert.equal(odd.story.distribution.left.count, 0);
    assert.deepEqual(odd.story.articles.left, []);
    assert.equal(odd.lean.hasModel, false);
  });
});

describe("coverageView", () => {
  const view = coverageView(parseAnalysis(ANSWER), { serverUrl: SERVER });

  test("counts, segments sized by count, the server's percentages", () => {
    assert.equal(view.state, "story");
    assert.equal(view.countText, "Covered by 6 sources");
    assert.equal(view.shortText, "6 sources");
    assert.deepEqual(view.segments.map((s) => [s.group, s.count]), [["left", 2], ["center", 1], ["right", 2], ["unrated", 1]]);
    assert.deepEqual(view.legend.map((s) => s.percentText), ["33%", "17%", "33%"]);
    assert.equal(view.unrated.text, "1 unrated source");
    assert.equal(view.unrated.percentText, "17%");
    assert.equal(view.storyUrl, `${SERVER}/stories/7`);
    assert.equal(view.blindspot, null);
  });

  test("headlines grouped by side, with only http(s) links", () => {
    assert.deepEqual(view.groups.map((g) => g.group), ["left", "center", "right", "unrated"]);
    const right = view.groups[2].articles;
    assert.equal(right[0].url, "https://www.foxnews.com/c");
    assert.equal(right[0].outlet, "Fox News");
    assert.equal(right[0].bias.text, "Right");
    assert.equal(right[1].url, null, "a javascript: link is dropped, its headline kept as text");
    const also = view.groups[1].articles[0].alsoCarriedBy;
    assert.deepEqual(also.map((c) => [c.name, c.url]), [["Yahoo News", "https://news.yahoo.com/b"], ["another site", null]]);
    assert.equal(view.groups[3].articles[0].bias, null);
  });

  test("a blindspot", () => {
    const answer = structuredClone(ANSWER);
    answer.story.blindspot = { side: "left", explanation: "4 of 5 rated outlets lean right and 0 lean left" };
    const blind = coverageView(parseAnalysis(answer), { serverUrl: SERVER });
    assert.equal(blind.blindspot.text, "Blindspot: the left is missing this story");
    assert.match(blind.blindspot.explanation, /4 of 5/);
  });

  test("no story, or nobody else covering it", () => {
    assert.deepEqual(coverageView(parseAnalysis({ story: null })), { state: "none", text: "No other coverage found yet" });
    const alone = structuredClone(ANSWER);
    alone.story.articles = { left: [], center: [], right: [], unrated: [] };
    const view2 = coverageView(parseAnalysis(alone), { serverUrl: SERVER });
    assert.equal(view2.state, "none");
    assert.equal(view2.storyUrl, `${SERVER}/stories/7`);
  });

  test("a page the server found no article in", () => {
    const answer = { story: null, article: { id: null, title: "", text_length: 0, stored: false,
      error: "no article text found in the page at https://x.example/a" } };
    const view = coverageView(parseAnalysis(answer));
    assert.equal(view.state, "none");
    assert.equal(view.text, "Your newstilt server found no article in this page");
    assert.match(view.detail, /no article text found/);
  });

  test("percentages and story links", () => {
    assert.equal(percentText(33.3), "33%");
    assert.equal(percentText(16.7), "17%");
    assert.equal(percentText(12.5), "13%");
    assert.equal(percentText(0), "0%");
    assert.equal(percentText(0.2), "<1%");
    assert.equal(percentText(undefined), "0%");
    assert.equal(storyUrl(SERVER, 3), `${SERVER}/stories/3`);
    assert.equal(storyUrl(SERVER, "3"), null);
    assert.equal(storyUrl(null, 3), null);
  });
});

describe("one count of sources", () => {
  /**
   * What the server answers for a page of The Washington Post (lean-left, not stored) about a story stored from
   * NPR (lean-left, two articles) and Fox News (right): the reader's outlet is counted on its side, each outlet
   * once (server/coverage.py distribution).
   */
  const WAPO = {
    url: "https://www.washingtonpost.com/nation/2026/10/15/cargo-ship-fire/",
    outlet: { outlet: { domain: "washingtonpost.com", name: "The Washington Post", bias: { label: "lean-left", score: -1 },
      factuality: "high", ownership: "individual", raters: [] } },
    article: { id: null, title: "Cargo ship fire", published: null, text_length: 900, stored: false },
    story: {
      id: 12,
      title: "Fire aboard the cargo ship Maren Holt",
      first_published: "2026-10-15T00:00:00+00:00",
      last_published: "2026-10-15T00:00:00+00:00",
      last_updated: "2026-10-16T09:30:00+00:00",
      article_count: 3,
      source_count: 3,
      distribution: {
        total: 3, rated: 3, left: { count: 2, percent: 67 }, center: { count: 0, percent: 0 },
        right: { count: 1, percent: 33 }, unrated: { count: 0, percent: 0 }, percent_of: "rated",
      },
      blindspot: { side: null, explanation: "3 rated source(s); a blindspot needs at least 4" },
      summary: [
        { text: "The Coast Guard rescued all 19 crew members.", url: "https://www.npr.org/2026/10/15/ship-fire",
          outlet: outlet("npr.org", "NPR", "lean-left", -1), article_id: 1 },
        { text: "The fire started in the engine room.", url: "https://www.foxnews.com/us/ship-fire",
          outlet: outlet("foxnews.com", "Fox News", "right", 2), article_id: 3 },
        { text: "A third point.", url: "javascript:alert(1)", outlet: null, article_id: 4 },
        { text: "   ", url: "https://x.example/", outlet: null },
        "junk",
      ],
      coverage: {
        sources: 3,
        factuality: { high: 2, mixed: 1 },
        ownership: { "non-profit": 1, corporation: 1, individual: 1 },
        owners: {}, countries: { US: 3 },
        questionable: { count: 0, sources: [] },
        original_reporting: { articles: 3, original: 3, syndicated: 0, percent: 100 },
      },
      articles: {
        left: [
          article(1, "https://www.npr.org/2026/10/15/ship-fire", "NPR: ship fire", outlet("npr.org", "NPR", "lean-left", -1)),
          article(2, "https://www.npr.org/2026/10/15/ship-fire-update", "NPR: update", outlet("npr.org", "NPR", "lean-left", -1)),
        ],
        center: [],
        right: [article(3, "https://www.foxnews.com/us/ship-fire", "Fox: ship fire", outlet("foxnews.com", "Fox News", "right", 2))],
        unrated: [],
      },
    },
    lean: null,
  };
  const view = coverageView(parseAnalysis(WAPO), { serverUrl: SERVER });

  test("the group headings count sources, the same numbers as the bar's", () => {
    const counts = sourceCounts(parseAnalysis(WAPO).story);
    assert.deepEqual(counts, { left: 2, center: 0, right: 1, unrated: 0, rated: 3, total: 3 });
    assert.equal(view.countText, "Covered by 3 sources");
    const bar = Object.fromEntries(view.legend.map((part) => [part.group, part.count]));
    const headings = Object.fromEntries(view.groups.map((group) => [group.group, group.count]));
    for (const group of view.groups) assert.equal(group.count, bar[group.group] ?? counts.unrated, group.group);
    for (const segment of view.segments) assert.equal(headings[segment.group], segment.count, segment.group);
    assert.equal(view.groups.reduce((sum, group) => sum + group.count, 0), view.sourceCount);
    assert.equal(bar.left + bar.center + bar.right + counts.unrated, view.sourceCount);
    // two NPR headlines and the page's own outlet: two sources, never two or three articles
    const left = view.groups.find((group) => group.group === "left");
    assert.equal(left.articles.length, 2);
    assert.equal(left.countText, "2 sources");
    assert.equal(left.reader, "and this page's outlet, The Washington Post", "NPR's second article is not a source");
    assert.equal(view.groups.find((group) => group.group === "right").countText, "1 source");
    assert.deepEqual(view.groups.map((group) => group.group), ["left", "right"]);
  });

  test("the reader's outlet is named under its side when none of the listed headlines is its", () => {
    const answer = structuredClone(WAPO);
    answer.story.articles.left[1] = article(5, "https://www.washingtonpost.com/other", "WaPo: earlier",
      outlet("washingtonpost.com", "The Washington Post", "lean-left", -1));
    const left = coverageView(parseAnalysis(answer), { serverUrl: SERVER }).groups[0];
    assert.equal(left.count, 2);
    assert.equal(left.reader, null, "another article of the page's outlet is listed: nothing to add");
    // the page's own outlet, alone on its side, still gets its heading
    const alone = structuredClone(WAPO);
    alone.outlet.outlet.bias = { label: "center", score: 0 };
    alone.story.distribution.center.count = 1;
    alone.story.distribution.left.count = 1;
    const groups = coverageView(parseAnalysis(alone), { serverUrl: SERVER }).groups;
    assert.deepEqual(groups.map((group) => [group.group, group.count, group.articles.length]),
      [["left", 1, 2], ["center", 1, 0], ["right", 1, 1]]);
    assert.equal(groups[1].reader, "and this page's outlet, The Washington Post");
  });

  test("the summary: bullets with text, each citing its outlet, links only for http(s)", () => {
    const summary = view.summary;
    assert.equal(summary.bullets.length, 3);
    assert.equal(summary.shown, 1);
    assert.equal(summary.expandText, "Show all 3 points");
    assert.deepEqual(summary.bullets.map((bullet) => [bullet.outlet, bullet.url]), [
      ["NPR", "https://www.npr.org/2026/10/15/ship-fire"],
      ["Fox News", "https://www.foxnews.com/us/ship-fire"],
      ["unnamed source", null],
    ]);
    const one = structuredClone(WAPO);
    one.story.summary = one.story.summary.slice(0, 1);
    assert.equal(coverageView(parseAnalysis(one)).summary.expandText, null, "one point needs no button");
    one.story.summary = [];
    assert.equal(coverageView(parseAnalysis(one)).summary, null);
  });

  test("coverage details: a row for each part the server sent", () => {
    assert.deepEqual(view.details.map((row) => [row.label, row.value]), [
      ["Sources", "3 (3 rated, 0 unrated)"],
      ["First published", "Oct 15, 2026"],
      ["Last updated", "Oct 16, 2026"],
      ["Factuality", "High: 2 \u00B7 Mixed: 1"],
      ["Ownership", "Non Profit: 1 \u00B7 Corporation: 1 \u00B7 Individual: 1"],
      ["Questionable", "None"],
    ]);
    assert.equal(view.details[1].datetime, "2026-10-15T00:00:00+00:00");
    const flagged = structuredClone(WAPO);
    flagged.story.coverage.questionable = { count: 1, sources: [{ domain: "infowars.com", name: "InfoWars", flags: [] }] };
    flagged.story.coverage.factuality = { high: 2, unknown: 1 };
    const rows = Object.fromEntries(coverageView(parseAnalysis(flagged)).details.map((row) => [row.key, row.value]));
    assert.equal(rows.questionable, "1 source: InfoWars");
    assert.equal(rows.factuality, "High: 2 \u00B7 Not rated: 1");
  });

  test("absent details leave their rows out; nothing reads undefined or NaN", () => {
    const bare = structuredClone(WAPO);
    for (const field of ["first_published", "last_updated", "coverage"]) delete bare.story[field];
    const rows = coverageView(parseAnalysis(bare)).details;
    assert.deepEqual(rows.map((row) => row.key), ["sources"]);
    const odd = structuredClone(WAPO);
    Object.assign(odd.story, { first_published: "not a date", last_updated: 5,
      coverage: { factuality: { high: "2", mixed: -1, low: 1.5 }, ownership: [], questionable: { count: "x" } } });
    const oddView = coverageView(parseAnalysis(odd));
    assert.deepEqual(oddView.details.map((row) => row.key), ["sources"]);
    assert.doesNotMatch(JSON.stringify([view, oddView, coverageView(parseAnalysis(bare))]), /undefined|NaN/);
  });

  test("the story page link, only with an id", () => {
    assert.equal(view.storyUrl, `${SERVER}/stories/12`);
    assert.equal(view.storyLinkText, "Full story on your newstilt server");
    const anonymous = structuredClone(WAPO);
    delete anonymous.story.id;
    const noId = coverageView(parseAnalysis(anonymous), { serverUrl: SERVER });
    assert.equal(noId.state, "story", "the coverage is shown without an id");
    assert.equal(noId.storyUrl, null);
    assert.equal(noId.sourceCount, 3);
    const forged = structuredClone(WAPO);
    forged.story.id = "12/../../evil";
    assert.equal(parseAnalysis(forged).story, null);
  });
});

describe("leanView", () => {
  /** The scorer's answer for a model whose labels the server vouches for as the article's. */
  const VOUCHED = { ...ANSWER.lean, model: { version: "x", presentation: "article_lean" } };
  const viewOf = (lean) => leanView(parseAnalysis({ story: null, lean }).lean);
  /** Nothing in the collapsed line may read as a lean label. */
  const NO_LABEL = /\b(?:left|center|right)\b/i;

  test("the article's lean, when the server vouches for its labels", () => {
    const view = viewOf(VOUCHED);
    assert.equal(view.state, "scored");
    assert.equal(view.words, "Lean Right");
    assert.equal(view.line, "This article: Lean Right \u00B7 72% confident");
    assert.equal(view.oddsLine, "Model's odds: Left 10% \u00B7 Center 18% \u00B7 Right 72%");
    assert.equal(view.terms.length, 2);
    assert.equal(view.warning, null);
  });

  test("a strong score drops the 'Lean'; center is Center", () => {
    assert.equal(viewOf({ ...VOUCHED, label: "left", score: -0.8 }).words, "Left");
    assert.equal(viewOf({ ...VOUCHED, label: "center", score: 0.1 }).words, "Center");
  });

  test("a warning is kept; a missing confidence leaves the line short", () => {
    const view = viewOf({ model: { presentation: "article_lean" }, label: "left", score: -0.3,
      warning: "Short text: low confidence.", explanation: [] });
    assert.equal(view.line, "This article: Lean Left");
    assert.equal(view.warning, "Short text: low confidence.");
    assert.equal(view.oddsLine, null);
  });

  test("wording_resemblance: a hint about the wording, never the article's lean", () => {
    const view = viewOf({ ...ANSWER.lean, model: { version: "x", presentation: "wording_resemblance" } });
    assert.equal(view.state, "resemblance");
    assert.equal(view.label, "right");
    assert.equal(view.line, "Wording resembles right-leaning outlets");
    assert.equal(view.text, "Its wording resembles that of right-leaning outlets: a hint about word choice, not a "
      + "rating of this article.");
    assert.match(view.note, /outlets' own ratings/);
    assert.equal(view.oddsLine, "How much its wording resembles each side's outlets: Left 10% \u00B7 Center 18% \u00B7 Right 72%");
    assert.equal(view.termsHeading, "Words behind the resemblance:");
    assert.equal(view.terms.length, 2, "the phrases stay, for highlighting");
    for (const field of ["words", "confidence", "confidenceText", "color"]) assert.equal(view[field], undefined, field);
    assert.doesNotMatch(JSON.stringify(view), /This article:|confident/);
    assert.equal(viewOf({ ...ANSWER.lean, label: "center", model: { presentation: "wording_resemblance" } }).line,
      "Wording resembles center outlets");
    assert.equal(viewOf({ ...ANSWER.lean, label: "left", model: { presentation: "wording_resemblance" } }).line,
      "Wording resembles left-leaning outlets");
  });

  test("a missing or unknown presentation is read as a hint", () => {
    for (const model of [{ version: "x" }, { presentation: "ARTICLE_LEAN" }, { presentation: true },
      { presentation: ["article_lean"] }, "v1", 3]) {
      const view = viewOf({ ...ANSWER.lean, model });
      assert.equal(view.state, "resemblance", JSON.stringify(model));
      assert.equal(view.line, "Wording resembles right-leaning outlets");
    }
    assert.equal(viewOf({ ...ANSWER.lean, model: { version: "x" } }).note,
      "Your server does not say its model can rate single articles.");
  });

  test("uncertain: not enough evidence, and no label in the collapsed line", () => {
    const uncertain = { label: null, reason: "uncertain", message: "The model is not confident enough to say.",
      score: 0.04, confidence: 0.38, probabilities: { left: 0.3, center: 0.38, right: 0.32 },
      explanation: ANSWER.lean.explanation, warnings: [] };
    for (const presentation of ["article_lean", "wording_resemblance", undefined]) {
      const view = viewOf({ ...uncertain, model: { version: "2", presentation } });
      assert.equal(view.state, "uncertain", String(presentation));
      assert.equal(view.label, null);
      assert.equal(view.line, "This article: not enough evidence");
      assert.doesNotMatch(view.line, NO_LABEL);
      assert.equal(view.text, "Not enough evidence to tell how this article leans.");
      assert.equal(view.reason, "The model is not confident enough to say.");
      assert.equal(view.oddsLine, "How much its wording resembles each side's outlets: Left 30% \u00B7 Center 38% \u00B7 Right 32%");
      assert.equal(view.terms.length, 2);
    }
    const bare = viewOf({ ...uncertain, message: null, probabilities: null, model: {} });
    assert.equal(bare.state, "uncertain");
    assert.equal(bare.reason, null, "the bare code is not shown to the reader");
    assert.equal(bare.oddsLine, null);
  });

  test("the classifier's warnings list and message", () => {
    const lean = { model: { version: "1", presentation: "article_lean" }, label: "right", score: 0.2, confidence: 0.5,
      explanation: [], warnings: ["short_text: only 40 words were scored; treat the figure as weak evidence",
        "truncated: only the first 100 characters"] };
    assert.equal(viewOf(lean).warning,
      "Only 40 words were scored; treat the figure as weak evidence. Only the first 100 characters.");
    assert.equal(viewOf({ ...lean, model: {} }).warning, viewOf(lean).warning, "hints keep the warnings");
    const refused = { model: { version: "1" }, label: null, reason: "not_english", message: "Not scored: not English.",
      warnings: [] };
    const view = viewOf(refused);
    assert.equal(view.state, "unscored");
    assert.equal(view.reason, "Not scored: not English.");
  });

  test("no model, no label, nothing at all", () => {
    const none = viewOf({ model: null, reason: "no model installed at /x" });
    assert.equal(none.state, "no-model");
    assert.equal(none.reason, "no model installed at /x");
    const unscored = viewOf({ model: {}, label: null, reason: "too short" });
    assert.equal(unscored.state, "unscored");
    assert.equal(leanView(null), null);
  });

  test("an answer cached before presentations existed is a hint", () => {
    const cached = parseAnalysis(ANSWER).lean;
    delete cached.presentation;
    delete cached.reasonCode;
    assert.equal(leanView(cached).state, "resemblance");
  });
});

describe("errors", () => {
  test("each failure says what happened, in the reader's words", () => {
    const unreachable = coverageErrorView({ kind: "unreachable" }, { serverUrl: SERVER });
    assert.equal(unreachable.text, `Can't reach your newstilt server at ${SERVER}.`);
    assert.equal(unreachable.settings, true);
    assert.match(coverageErrorView({ kind: "too-large", status: 413 }).text, /too large/);
    assert.equal(coverageErrorView({ kind: "rejected", status: 400, message: "bad url" }).text,
      "Your newstilt server could not analyse this page: bad url");
    assert.equal(coverageErrorView({ kind: "server", status: 500, message: null }).text,
      "Your newstilt server had an error analysing this page (500).");
    assert.match(coverageErrorView({ kind: "timeout" }, { serverUrl: SERVER }).text, /did not answer in time/);
  });
});

describe("pageView", () => {
  const rated = outletView(ANSWER.outlet.outlet, { serverUrl: SERVER });

  test("the outlet's view with coverage and lean added", () => {
    const view = pageView(rated, { analysis: parseAnalysis(ANSWER) }, { serverUrl: SERVER, site: "nytimes.com" });
    assert.equal(view.name, "The New York Times");
    assert.equal(view.coverage.state, "story");
    assert.equal(view.lean.state, "resemblance", "the answer's model does not say how to present its labels");
    const vouched = { ...ANSWER, lean: { ...ANSWER.lean, model: { presentation: "article_lean" } } };
    assert.equal(pageView(rated, { analysis: parseAnalysis(vouched) }, { serverUrl: SERVER }).lean.state, "scored");
  });

  test("loading, failing, truncated", () => {
    assert.equal(pageView(rated, { loading: true }).coverage.state, "loading");
    const failed = pageView(rated, { error: { kind: "unreachable" } }, { serverUrl: SERVER });
    assert.equal(failed.coverage.kind, "unreachable");
    assert.equal(failed.lean, null);
    const cut = pageView(rated, { analysis: parseAnalysis(ANSWER) }, { truncated: true });
    assert.match(cut.coverage.note, /first 4 MB/);
  });

  test("an unrated site gets a card of its own, or the server's outlet when the table is behind", () => {
    const unrated = pageView(null, { analysis: parseAnalysis({ story: null }) }, { serverUrl: SERVER, site: "example.org" });
    assert.equal(unrated.rated, false);
    assert.equal(unrated.name, "example.org");
    assert.equal(unrated.coverage.text, "No other coverage found yet");
    const fromServer = pageView(null, { analysis: parseAnalysis(ANSWER) }, { serverUrl: SERVER, site: "nytimes.com" });
    assert.equal(fromServer.rated, true);
    assert.equal(fromServer.bias.text, "Lean Left");
  });
});

describe("looksLikeArticle", () => {
  test("home pages and section fronts are not articles", () => {
    for (const href of ["https://www.nytimes.com/", "https://www.nytimes.com", "https://www.bbc.com/index.html",
      "https://www.foxnews.com/politics", "ftp://x.example/a/b", "not a url"]) {
      assert.equal(looksLikeArticle(href), false, href);
    }
    assert.equal(looksLikeArticle("https://x.example/world", { ogType: "website", hasArticle: true }), false);
  });

  test("deeper paths, slugs, ids and og:type article are", () => {
    for (const href of ["https://www.nytimes.com/2026/10/14/us/dam.html", "https://apnews.com/article/dam-fails-1a2b",
      "https://www.example.org/senate-passes-stopgap-bill", "https://www.example.org/123456"]) {
      assert.equal(looksLikeArticle(href), true, href);
    }
    assert.equal(looksLikeArticle("https://x.example/story", { ogType: "article" }), true);
    assert.equal(looksLikeArticle("https://x.example/story", { hasArticle: true }), true);
  });

  test("in any language", () => {
    const articles = [
      "https://www.tagesschau.de/inland/innenpolitik/bundestag-haushalt-beschlossen-100.html",
      "https://www.spiegel.de/bundestag-beschließt-haushalt-für-2027", // a slug of words, non-ASCII letters
      "https://www3.nhk.or.jp/news/html/20261124/k10014612345000.html",
      "https://www.asahi.com/articles/ASV1N3ABCV1NUTFK00ZM.html",
      "https://www.example.jp/２０２６１１２４", // full-width digits
      "https://www.example.eg/١٢٣٤٥", // Arabic-Indic digits
      "https://www.example.de/haushalt_bundestag_beschlossen",
    ];
    for (const href of articles) assert.equal(looksLikeArticle(href), true, href);
    // A section's name in another script is a name, not a string of %XX escapes with digits in them.
    for (const href of ["https://www.asahi.com/国際", "https://www.asahi.com/%E5%9B%BD%E9%9A%9B/",
      "https://www.sueddeutsche.de/m%C3%BCnchen", "https://www.aljazeera.net/سياسة"]) {
      assert.equal(looksLikeArticle(href), false, href);
    }
    // ...unless the page says it is an article, in any script.
    assert.equal(looksLikeArticle("https://www.asahi.com/国際", { ogType: "article" }), true);
    assert.equal(looksLikeArticle("https://www.asahi.com/首相が辞任を表明", { hasArticle: true }), true);
  });
});

describe("capHtml", () => {
  test("short pages pass whole", () => {
    assert.deepEqual(capHtml("<p>hi</p>"), { html: "<p>hi</p>", truncated: false });
    assert.deepEqual(capHtml(null), { html: "", truncated: false });
  });

  test("long pages are cut on a character boundary, within the byte budget", () => {
    const html = "é".repeat(10) + "😀".repeat(5);
    const { html: cut, truncated } = capHtml(html, 13);
    assert.equal(truncated, true);
    assert.equal(cut, "é".repeat(6));
    assert.ok(new TextEncoder().encode(cut).length <= 13);
    const emoji = capHtml("😀😀", 6);
    assert.equal(emoji.html, "😀", "no lone surrogate");
    assert.equal(MAX_HTML_BYTES, 4 * 1024 * 1024);
    const big = "a".repeat(MAX_HTML_BYTES + 10);
    assert.equal(capHtml(big).html.length, MAX_HTML_BYTES);
  });
});

describe("admitAutomatic", () => {
  test("a page rewriting its address in a loop is paused after the limit, then let through again", () => {
    let recent = [];
    const start = 1_000_000;
    for (let i = 0; i < AUTO_ANALYSIS_LIMIT; i++) {
      const result = admitAutomatic(recent, start + i);
      assert.equal(result.admit, true);
      recent = result.recent;
    }
    const refused = admitAutomatic(recent, start + 100);
    assert.equal(refused.admit, false);
    assert.equal(refused.recent.length, AUTO_ANALYSIS_LIMIT);
    assert.equal(admitAutomatic(refused.recent, start + AUTO_ANALYSIS_WINDOW_MS + 10).admit, true);
  });

  test("ignores junk in the stored history", () => {
    assert.deepEqual(admitAutomatic(["x", null, -5, 9e15], 1000), { admit: true, recent: [-5, 1000] });
    assert.equal(admitAutomatic(undefined, 5).admit, true);
  });

  test("the paused state is worded for the reader", () => {
    const view = coverageErrorView({ kind: "paused", status: null, message: "" });
    assert.equal(view.kind, "paused");
    assert.match(view.text, /Analyze this page/);
  });
});
