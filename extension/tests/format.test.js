import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  biasStep, biasView, factualityView, labelText, outletView, questionableView, safeHttpUrl, toolbarView, unratedView,
} from "../lib/format.js";

const BBC = {
  domain: "bbc.com",
  name: "BBC News",
  aliases: ["bbc.co.uk"],
  bias: { label: "lean-left", score: -0.67 },
  factuality: "high",
  ownership: "public-broadcaster",
  country: "GB",
  raters: [
    { rater: "mbfc", name: "Media Bias/Fact Check", bias: { label: "lean-left", score: -1 }, factuality: "high",
      url: "https://mediabiasfactcheck.com/bbc/" },
    { rater: "other", name: "Other", bias: null, factuality: "mixed", url: "javascript:alert(1)" },
  ],
};

describe("labels", () => {
  test("words from the server's labels", () => {
    assert.equal(labelText("lean-left"), "Lean Left");
    assert.equal(labelText("mostly-factual"), "Mostly Factual");
    assert.equal(labelText("public-broadcaster"), "Public Broadcaster");
    assert.equal(labelText(null), null);
    assert.equal(labelText(""), null);
  });

  test("bias steps come from the label, else from the rounded score", () => {
    assert.equal(biasStep({ label: "far-left", score: -2.6 }), -3);
    assert.equal(biasStep({ label: "center", score: 0.4 }), 0);
    assert.equal(biasStep({ label: "far-right" }), 3);
    assert.equal(biasStep({ score: -0.5 }), -1);
    assert.equal(biasStep({ score: 0.5 }), 1);
    assert.equal(biasStep({ score: 7 }), 3);
    assert.equal(biasStep(null), null);
    assert.equal(biasStep({ label: "unknown" }), null);
  });

  test("bias colours run from blue through grey to red", () => {
    const views = [-3, -2, -1, 0, 1, 2, 3].map((score) => biasView({ score }));
    assert.deepEqual(views.map((view) => view.abbreviation), ["FL", "L", "LL", "C", "LR", "R", "FR"]);
    const [r, , b] = [1, 3, 5].map((i) => parseInt(views[0].color.slice(i, i + 2), 16));
    assert.ok(b > r, "far left is blue");
    const [r2, , b2] = [1, 3, 5].map((i) => parseInt(views[6].color.slice(i, i + 2), 16));
    assert.ok(r2 > b2, "far right is red");
  });

  test("factuality", () => {
    assert.deepEqual(factualityView("very-high").text, "Very High");
    assert.equal(factualityView(null), null);
  });
});

describe("outletView", () => {
  const view = outletView(BBC, { serverUrl: "http://127.0.0.1:8470" });

  test("the outlet's own values", () => {
    assert.equal(view.name, "BBC News");
    assert.equal(view.bias.text, "Lean Left");
    assert.equal(view.bias.step, -1);
    assert.equal(view.factuality.text, "High");
    assert.equal(view.ownership, "Public Broadcaster");
    assert.equal(view.methodologyUrl, "http://127.0.0.1:8470/methodology");
    assert.equal(view.biasScale.length, 7);
  });

  test("raters, with only http(s) links kept", () => {
    assert.equal(view.raters.length, 2);
    assert.equal(view.raters[0].url, "https://mediabiasfactcheck.com/bbc/");
    assert.equal(view.raters[1].url, null);
    assert.equal(view.raters[1].bias, null);
    assert.equal(safeHttpUrl("data:text/html,x"), null);
  });

  test("missing values stay missing", () => {
    const bare = outletView({ domain: "x.example" });
    assert.equal(bare.name, "x.example");
    assert.equal(bare.bias, null);
    assert.equal(bare.factuality, null);
    assert.equal(bare.ownership, null);
    assert.deepEqual(bare.raters, []);
    assert.equal(bare.methodologyUrl, null);
    assert.equal(bare.owner, null);
    assert.equal(bare.questionable, null);
  });

  test("the owner beside the ownership category", () => {
    const station = outletView({ domain: "wjla.com", name: "7News WJLA", ownership: "corporation",
      owner: "  Sinclair Broadcast Group ", language: "en", flags: [], questionable: false });
    assert.equal(station.ownership, "Corporation");
    assert.equal(station.owner, "Sinclair Broadcast Group");
    assert.equal(station.questionable, null);
    assert.equal(unratedView("example.org").owner, null);
  });
});

describe("questionableView", () => {
  test("the reasons in words, in one order whatever the server's", () => {
    const infowars = questionableView({ flags: ["failed-fact-checks", "pseudoscience", "conspiracy"], questionable: true });
    assert.equal(infowars.kind, "questionable");
    assert.deepEqual(infowars.flags, ["conspiracy", "pseudoscience", "failed-fact-checks"]);
    assert.equal(infowars.title, "Questionable source");
    assert.equal(infowars.text, "Questionable source: conspiracy, pseudoscience, failed fact checks");
    assert.equal(questionableView({ flags: ["propaganda", "conspiracy"] }).text,
      "Questionable source: conspiracy, propaganda");
  });

  test("satire is worded as satire", () => {
    const onion = questionableView({ flags: ["satire"], questionable: true });
    assert.equal(onion.kind, "satire");
    assert.equal(onion.text, "Satire: this site's stories are made up, not news");
    assert.equal(questionableView({ flags: ["satire", "conspiracy"] }).text, "Questionable source: conspiracy; also satire");
  });

  test("ordinary outlets, odd values and flags this version does not know", () => {
    for (const outlet of [null, {}, { flags: [] }, { flags: [], questionable: false }, { flags: "conspiracy" },
      { flags: [null, 3, " "] }]) {
      assert.equal(questionableView(outlet), null, JSON.stringify(outlet));
    }
    assert.equal(questionableView({ flags: [], questionable: true }).text, "Questionable source");
    assert.equal(questionableView({ flags: ["Hate-Speech", "conspiracy", "conspiracy"] }).text,
      "Questionable source: conspiracy, hate speech");
  });
});

describe("toolbarView", () => {
  test("rated and unrated", () => {
    const rated = toolbarView(outletView(BBC));
    assert.equal(rated.text, "LL");
    assert.equal(rated.title, "BBC News: Lean Left, High factuality (newstilt)");
    assert.equal(toolbarView(null).text, "");
    assert.equal(toolbarView(outletView({ domain: "x.example", factuality: "high" })).text, "?");
  });

  test("a questionable source says so in the tooltip", () => {
    const view = outletView({ domain: "infowars.com", name: "InfoWars", bias: { label: "far-right", score: 3 },
      factuality: "very-low", flags: ["conspiracy", "pseudoscience", "failed-fact-checks"], questionable: true });
    assert.equal(toolbarView(view).title, "InfoWars: Far Right, Very Low factuality. Questionable source: "
      + "conspiracy, pseudoscience, failed fact checks (newstilt)");
  });
});
