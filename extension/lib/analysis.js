// Turning the server's analysis of one page (POST /api/v1/analyze) into what the badge shows: the story's
// coverage across the spectrum and the article's own lean. Pure functions, no browser APIs; everything from the
// network is checked here, and only http(s) links survive.
import "../ui/capture.js";
import { BIAS_COLORS, biasStep, biasView, labelText, outletView, safeHttpUrl, unratedView } from "./format.js";
import { percentDecode } from "./match.js";

/** The HTML cap the content script applies (ui/capture.js), for the worker and the node tests. */
export const { MAX_HTML_BYTES, capHtml } = globalThis.NewstiltCapture;

/** The sides a story's outlets are grouped on, as the server's `distribution` and `articles` name them. */
export const GROUPS = Object.freeze(["left", "center", "right", "unrated"]);

/** Bar colours per group: the bias scale's blue, grey and red, and a pale grey for unrated outlets. */
export const GROUP_COLORS = Object.freeze({
  left: BIAS_COLORS[1],
  center: "#8b95a3",
  right: BIAS_COLORS[5],
  unrated: "#d4d8de",
});

const GROUP_TEXT = Object.freeze({ left: "Left", center: "Center", right: "Right", unrated: "Unrated" });

/** Headlines listed per side; the story page on the server has them all. */
const MAX_ARTICLES_PER_GROUP = 25;
/** Summary bullets kept (the server sends 3-5). */
const MAX_SUMMARY_BULLETS = 10;
/** Levels, categories and names kept per row of the coverage details. */
const MAX_TALLY_ENTRIES = 12;
/** How the server lets a label be shown (`lean.model.presentation`). */
const PRESENTATIONS = Object.freeze(["article_lean", "wording_resemblance"]);

/** Explanatory terms kept from the model's explanation. */
const MAX_TERMS = 60;

function text(value) {
  return typeof value === "string" && value.trim() ? value.trim() : null;
}

function count(value) {
  return Number.isInteger(value) && value >= 0 ? value : 0;
}

function finite(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function plural(n, one, many = `${one}s`) {
  return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
}

/** "33%" for 33.3, halves rounded up; "<1%" for a share above zero that would round to nothing. */
export function percentText(percent) {
  const value = finite(percent) ?? 0;
  if (value > 0 && value < 0.5) return "<1%";
  return `${Math.round(value)}%`;
}

/**
 * Whether a page is worth analysing, told cheaply from its address and two hints the content script reads
 * (`ogType`, the page's `og:type`; `hasArticle`, whether it has an `<article>` or `[itemprop=articleBody]`).
 * Home pages never are; a section front ("/politics", og:type "website") is not; anything deeper is.
 * Nothing here depends on the page's language: the slug is read decoded ("/%E5%9B%BD%E9%9A%9B" is "/国際", a
 * section's name, not a string of hex digits), digits are any script's, and words are told by "-" or "_".
 */
export function looksLikeArticle(href, { ogType = null, hasArticle = false } = {}) {
  let url;
  try {
    url = new URL(href);
  } catch {
    return false;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  const segments = url.pathname.split("/").filter(Boolean);
  const last = percentDecode(segments.at(-1) ?? "").toLowerCase();
  if (!segments.length || (segments.length === 1 && /^(?:index|default|home)(?:\.\w+)?$/.test(last))) return false;
  const type = typeof ogType === "string" ? ogType.trim().toLowerCase() : "";
  if (type === "article" || type.startsWith("article.") || type === "news") return true;
  if (segments.length > 1) return true;
  // One segment: an article's slug ("/senate-passes-stopgap-bill", "/123456") or a section's name ("/world").
  return /\p{Nd}/u.test(last) || last.split(/[-_]+/).filter(Boolean).length >= 3 || (hasArticle && type !== "website");
}

/** Keep what the badge needs from a server's outlet summary (`{domain, name, bias, factuality}`). */
function outletSummary(outlet) {
  if (!outlet || typeof outlet !== "object") return null;
  return {
    domain: text(outlet.domain),
    name: text(outlet.name) ?? text(outlet.domain),
    bias: outlet.bias && typeof outlet.bias === "object" ? { label: outlet.bias.label, score: outlet.bias.score } : null,
    factuality: text(outlet.factuality),
  };
}

function parseArticle(article) {
  if (!article || typeof article !== "object") return null;
  const carried = Array.isArray(article.also_carried_by) ? article.also_carried_by : [];
  return {
    url: typeof article.url === "string" ? article.url : null,
    title: text(article.title),
    published: text(article.published),
    outlet: outletSummary(article.outlet),
    also_carried_by: carried
      .filter((copy) => copy && typeof copy === "object")
      .map((copy) => ({ url: typeof copy.url === "string" ? copy.url : null, outlet: outletSummary(copy.outlet) })),
  };
}

/** A summary bullet (`{text, url, outlet}`), or null without text. */
function parseBullet(bullet) {
  if (!bullet || typeof bullet !== "object" || !text(bullet.text)) return null;
  return { text: text(bullet.text), url: typeof bullet.url === "string" ? bullet.url : null,
    outlet: outletSummary(bullet.outlet) };
}

/** `{"high": 2, "mixed": 1}` as `[["high", 2], ["mixed", 1]]`, the server's order kept; null when not a tally. */
function parseTally(value) {
  if (!value || typeof value !== "object" || Array.isArray(value)) return null;
  return Object.entries(value)
    .filter(([key, n]) => text(key) && Number.isInteger(n) && n > 0)
    .slice(0, MAX_TALLY_ENTRIES)
    .map(([key, n]) => [key.trim(), n]);
}

/** The story's coverage details (server/coverage.py `coverage_details`), each part null when absent. */
function parseDetails(details) {
  if (!details || typeof details !== "object") return null;
  const questionable = details.questionable && typeof details.questionable === "object" ? details.questionable : null;
  const flagged = Array.isArray(questionable?.sources) ? questionable.sources : [];
  return {
    factuality: parseTally(details.factuality),
    ownership: parseTally(details.ownership),
    questionable: questionable && Number.isInteger(questionable.count) && questionable.count >= 0
      ? { count: questionable.count,
        names: flagged.map((source) => text(source?.name) ?? text(source?.domain)).filter(Boolean)
          .slice(0, MAX_TALLY_ENTRIES) }
      : null,
  };
}

function parseStory(story) {
  if (!story || typeof story !== "object" || Array.isArray(story)) return null;
  // a story without an id still has its coverage to show, but no page on the server to link to
  if (story.id !== undefined && story.id !== null && !Number.isInteger(story.id)) return null;
  const dist = story.distribution && typeof story.distribution === "object" ? story.distribution : {};
  const distribution = { total: count(dist.total), rated: count(dist.rated) };
  for (const group of GROUPS) {
    const part = dist[group] && typeof dist[group] === "object" ? dist[group] : {};
    distribution[group] = { count: count(part.count), percent: finite(part.percent) ?? 0 };
  }
  const blindspot = story.blindspot && typeof story.blindspot === "object" ? story.blindspot : {};
  const articles = {};
  for (const group of GROUPS) {
    const list = Array.isArray(story.articles?.[group]) ? story.articles[group] : [];
    articles[group] = list.map(parseArticle).filter(Boolean);
  }
  return {
    id: Number.isInteger(story.id) ? story.id : null,
    title: text(story.title),
    source_count: count(story.source_count),
    article_count: count(story.article_count),
    first_published: text(story.first_published),
    last_updated: text(story.last_updated),
    distribution,
    blindspot: {
      side: blindspot.side === "left" || blindspot.side === "right" ? blindspot.side : null,
      explanation: text(blindspot.explanation),
    },
    summary: (Array.isArray(story.summary) ? story.summary : []).map(parseBullet).filter(Boolean)
      .slice(0, MAX_SUMMARY_BULLETS),
    details: parseDetails(story.coverage),
    articles,
  };
}

/** "short_text: only 40 words were scored" -> "Only 40 words were scored": the classifier's code dropped. */
function warningSentence(value) {
  const sentence = text(value)?.replace(/^[a-z_]+:\s*/, "");
  return sentence ? sentence.charAt(0).toUpperCase() + sentence.slice(1) : null;
}

/** The model's warnings as one text: a `warning` string, or the sentences of a `warnings` list. */
function leanWarning(lean) {
  const list = Array.isArray(lean.warnings) ? lean.warnings : [lean.warning];
  const sentences = list.map(warningSentence).filter(Boolean);
  return sentences.length ? sentences.map((s) => (/[.!?]$/.test(s) ? s : `${s}.`)).join(" ") : null;
}

function parseLean(lean) {
  if (!lean || typeof lean !== "object") return null;
  const explanation = Array.isArray(lean.explanation) ? lean.explanation : [];
  const probabilities = lean.probabilities && typeof lean.probabilities === "object" ? lean.probabilities : {};
  const model = lean.model && typeof lean.model === "object" ? lean.model : null;
  return {
    hasModel: lean.model !== null && lean.model !== undefined,
    label: ["left", "center", "right"].includes(lean.label) ? lean.label : null,
    // How the server says its label may be shown: "article_lean" (a rating of the article) or
    // "wording_resemblance" (a hint); null when it does not say, which leanView reads as a hint.
    presentation: PRESENTATIONS.includes(model?.presentation) ? model.presentation : null,
    reasonCode: text(lean.reason),
    score: finite(lean.score),
    confidence: finite(lean.confidence),
    probabilities: Object.fromEntries(
      ["left", "center", "right"].map((side) => [side, finite(probabilities[side])]),
    ),
    warning: leanWarning(lean),
    // The server's sentence when it has no model; the classifier's `message` (its `reason` is then a code).
    reason: text(lean.message) ?? text(lean.reason),
    terms: explanation
      .filter((item) => item && typeof item === "object" && text(item.term))
      .slice(0, MAX_TERMS)
      .map((item) => ({
        term: text(item.term),
        side: ["left", "center", "right"].includes(item.side) ? item.side : "other",
        weight: finite(item.weight) ?? 0,
      })),
  };
}

/**
 * The server's answer, checked and trimmed to what the extension uses (this is what the worker caches).
 * Throws when it is not an analysis at all.
 */
export function parseAnalysis(body) {
  if (!body || typeof body !== "object" || Array.isArray(body) || !("story" in body)) {
    throw new TypeError("The server's answer is not an analysis (no 'story' field).");
  }
  const outlet = body.outlet && typeof body.outlet === "object" ? body.outlet.outlet : null;
  const article = body.article && typeof body.article === "object" ? body.article : null;
  return {
    url: text(body.url),
    outlet: outlet && typeof outlet === "object" && text(outlet.domain) ? outlet : null,
    article: article
      ? { title: text(article.title), stored: article.stored === true, textLength: count(article.text_length),
        error: text(article.error) }
      : null,
    story: parseStory(body.story),
    lean: parseLean(body.lean),
  };
}

/** The story page on the reader's server, or null. */
export function storyUrl(serverUrl, storyId) {
  if (!serverUrl || !Number.isInteger(storyId)) return null;
  return safeHttpUrl(`${serverUrl}/stories/${storyId}`);
}

function articleView(article) {
  const outletName = article.outlet?.name ?? article.outlet?.domain ?? null;
  return {
    title: article.title ?? article.url ?? "Untitled",
    url: safeHttpUrl(article.url),
    outlet: outletName,
    bias: biasView(article.outlet?.bias),
    alsoCarriedBy: article.also_carried_by.map((copy) => ({
      name: copy.outlet?.name ?? copy.outlet?.domain ?? hostOf(copy.url) ?? "another site",
      url: safeHttpUrl(copy.url),
    })),
  };
}

function hostOf(href) {
  const url = safeHttpUrl(href);
  return url ? new URL(url).hostname.replace(/^www\./, "") : null;
}

/**
 * THE numbers of a story's sources, from the server's one count (`distribution`): `{left, center, right,
 * unrated, rated, total}`. The bar, the legend, the group headings and the details all take them from here, so
 * a heading never counts articles: an outlet with two articles is one source, and the reader's own outlet (which
 * the server counts whether or not the page is stored) is in its side's number though its page is not listed.
 */
export function sourceCounts(story) {
  const dist = story?.distribution ?? {};
  const counts = Object.fromEntries(GROUPS.map((group) => [group, count(dist[group]?.count)]));
  const rated = counts.left + counts.center + counts.right;
  return { ...counts, rated, total: rated + counts.unrated };
}

/** The group the reader's own outlet is counted in (its side, or "unrated"). */
function groupOf(outlet) {
  const step = biasStep(outlet?.bias);
  if (step === null) return "unrated";
  return step < 0 ? "left" : step > 0 ? "right" : "center";
}

/**
 * "and this page's outlet, The Washington Post" under the heading of the group the reader's outlet is counted in,
 * when none of the group's listed articles is from it (the page itself is never listed): so "Left · 2 sources"
 * over one headline says where the other source is.
 */
function readerNote(analysis, group, sources, articles) {
  const outlet = analysis?.outlet ?? null;
  if (groupOf(outlet) !== group) return null;
  const listed = new Set(articles.map((article) => article.outlet?.domain ?? hostOf(article.url)).filter(Boolean));
  if (sources <= listed.size || (outlet?.domain && listed.has(outlet.domain))) return null;
  const name = text(outlet?.name) ?? text(outlet?.domain);
  return name ? `and this page's outlet, ${name}` : "and this page's site";
}

/** The story's summary: the first bullet, and the others behind "Show all N points". */
function summaryView(bullets) {
  if (!bullets?.length) return null;
  return {
    bullets: bullets.map((bullet) => ({
      text: bullet.text,
      url: safeHttpUrl(bullet.url),
      outlet: bullet.outlet?.name ?? bullet.outlet?.domain ?? hostOf(bullet.url) ?? "unnamed source",
    })),
    shown: 1,
    expandText: bullets.length > 1 ? `Show all ${bullets.length} points` : null,
    collapseText: "Show fewer points",
  };
}

const DAY = new Intl.DateTimeFormat("en", { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });

/** "Oct 14, 2026" for an ISO timestamp (its UTC day, as the server's pages show it), or null. */
export function dayText(iso) {
  const at = typeof iso === "string" ? Date.parse(iso) : NaN;
  return Number.isFinite(at) ? DAY.format(at) : null;
}

/** "High: 2 · Mixed: 1" for `[["high", 2], ["mixed", 1]]`, `unknown` worded as `unknownText`; null when empty. */
function tallyText(tally, unknownText) {
  if (!tally?.length) return null;
  return tally.map(([key, n]) => `${key === "unknown" ? unknownText : labelText(key)}: ${n}`).join(" \u00B7 ");
}

/**
 * The compact coverage details: `[{key, label, value, datetime?}]`, a row only for what the server sent (no row
 * ever reads "undefined" or "NaN"). The sources row is the same count as the bar's.
 */
function detailsView(story, counts) {
  const rows = [{ key: "sources", label: "Sources",
    value: `${counts.total.toLocaleString("en")} (${counts.rated.toLocaleString("en")} rated, ` +
      `${counts.unrated.toLocaleString("en")} unrated)` }];
  for (const [key, label, iso] of [["first-published", "First published", story.first_published],
    ["last-updated", "Last updated", story.last_updated]]) {
    const day = dayText(iso);
    if (day) rows.push({ key, label, value: day, datetime: iso });
  }
  const details = story.details;
  const factuality = tallyText(details?.factuality, "Not rated");
  if (factuality) rows.push({ key: "factuality", label: "Factuality", value: factuality });
  const ownership = tallyText(details?.ownership, "Unknown");
  if (ownership) rows.push({ key: "ownership", label: "Ownership", value: ownership });
  const questionable = details?.questionable;
  if (questionable) {
    rows.push({ key: "questionable", label: "Questionable",
      value: questionable.count
        ? `${plural(questionable.count, "source")}${questionable.names.length ? `: ${questionable.names.join(", ")}` : ""}`
        : "None" });
  }
  return rows;
}

/**
 * The coverage section's view of a parsed analysis:
 *   {state: "story", sourceCount, countText, shortText, segments, legend, unrated, blindspot, groups, summary,
 *    details, storyUrl, storyLinkText}
 *   {state: "none", text, detail?}  no story, a story with no other article, or no article in the page
 * Every count is a count of sources, from `sourceCounts`: the bar's segments are sized by it and each group's
 * heading shows it. Percentages are the server's (of the rated sources), shown rounded.
 */
export function coverageView(analysis, { serverUrl } = {}) {
  const story = analysis?.story;
  const none = { state: "none", text: "No other coverage found yet" };
  if (!story && analysis?.article?.error) {
    // The server could not read an article out of the page (not HTML, no text): say so, its words on hover.
    return { state: "none", text: "Your newstilt server found no article in this page", detail: analysis.article.error };
  }
  if (!story) return none;
  const counts = sourceCounts(story);
  const groups = GROUPS.map((group) => ({
    group,
    heading: GROUP_TEXT[group],
    color: GROUP_COLORS[group],
    count: counts[group],
    countText: plural(counts[group], "source"),
    articles: story.articles[group].slice(0, MAX_ARTICLES_PER_GROUP).map(articleView),
    more: Math.max(0, story.articles[group].length - MAX_ARTICLES_PER_GROUP),
    reader: readerNote(analysis, group, counts[group], story.articles[group]),
  })).filter((group) => group.count > 0 || group.articles.length);
  const others = GROUPS.reduce((sum, group) => sum + story.articles[group].length, 0);
  if (!others) return { ...none, storyUrl: storyUrl(serverUrl, story.id) };
  const dist = story.distribution;
  const part = (group) => ({
    group,
    text: GROUP_TEXT[group],
    count: counts[group],
    percent: dist[group].percent,
    percentText: percentText(dist[group].percent),
    color: GROUP_COLORS[group],
  });
  const blindspot = story.blindspot.side
    ? {
      side: story.blindspot.side,
      text: `Blindspot: the ${story.blindspot.side} is missing this story`,
      explanation: story.blindspot.explanation,
    }
    : null;
  return {
    state: "story",
    storyId: story.id,
    title: story.title,
    sourceCount: counts.total,
    countText: `Covered by ${plural(counts.total, "source")}`,
    shortText: plural(counts.total, "source"),
    segments: GROUPS.map(part).filter((segment) => segment.count > 0),
    legend: ["left", "center", "right"].map(part),
    unrated: counts.unrated ? { ...part("unrated"), text: `${plural(counts.unrated, "unrated source")}` } : null,
    blindspot,
    groups,
    summary: summaryView(story.summary),
    details: detailsView(story, counts),
    otherCount: others,
    storyUrl: storyUrl(serverUrl, story.id),
    storyLinkText: "Full story on your newstilt server",
  };
}

/** Words for an article's lean: the label, made "Lean …" when the score is mild. */
export function leanWords(label, score) {
  if (label === "center") return { text: "Center", step: 0 };
  if (label === "left" || label === "right") {
    const sign = label === "left" ? -1 : 1;
    const strong = score !== null && Math.abs(score) >= 0.6;
    return { text: strong ? labelText(label) : `Lean ${labelText(label)}`, step: sign * (strong ? 2 : 1) };
  }
  return null;
}

/** Whose wording an article's resembles, per label. */
const RESEMBLES = Object.freeze({ left: "left-leaning outlets", center: "center outlets", right: "right-leaning outlets" });

/** "Left 10% · Center 18% · Right 72%", or null unless all three are known. */
function oddsText(probabilities) {
  const sides = ["left", "center", "right"];
  if (!sides.every((side) => probabilities[side] !== null)) return null;
  return sides.map((side) => `${labelText(side)} ${percentText(probabilities[side] * 100)}`).join(" \u00B7 ");
}

/**
 * The article-lean sections' view of a parsed analysis, or null when the server said nothing about it. The
 * article's lean is shown only when the model gave a label and the server says it may be shown as the
 * article's (`presentation` "article_lean"); otherwise, at most, as a hint about the wording:
 *   {state: "no-model", text, reason}
 *   {state: "unscored", text, reason}    a model, but nothing to score (empty, not English...)
 *   {state: "uncertain", line, text, reason, ...}   scored, but not confident enough for a label
 *   {state: "resemblance", label, line, text, note, ...}   a label the server does not vouch for as the
 *                                        article's (or does not say): "Wording resembles right-leaning outlets"
 *   {state: "scored", label, words, line, confidence, confidenceText, color, ...}   "This article: Lean Right"
 * The last three also carry `oddsLine` (the probabilities, worded for their state, or null), `termsHeading`,
 * `terms`, `score` and `warning`. `line` is the collapsed badge's line.
 */
export function leanView(lean) {
  if (!lean) return null;
  if (!lean.hasModel) {
    return { state: "no-model", text: "No article model installed on your server", reason: lean.reason };
  }
  const odds = oddsText(lean.probabilities);
  const hint = {
    oddsLine: odds ? `How much its wording resembles each side's outlets: ${odds}` : null,
    termsHeading: "Words behind the resemblance:",
    score: lean.score,
    warning: lean.warning,
    terms: lean.terms,
  };
  if (!lean.label) {
    // "uncertain" is the scorer's word for a text it read but could not call; an older server said nothing
    // and gave no odds for a text it could not read.
    if (lean.reasonCode === "uncertain" || (lean.reasonCode === null && odds)) {
      return {
        ...hint,
        state: "uncertain",
        label: null,
        line: "This article: not enough evidence",
        text: "Not enough evidence to tell how this article leans.",
        reason: lean.reason === lean.reasonCode ? null : lean.reason, // the message, never the bare code
      };
    }
    return { state: "unscored", text: "This article's lean could not be scored", reason: lean.reason };
  }
  if (lean.presentation !== "article_lean") {
    const resembles = RESEMBLES[lean.label];
    return {
      ...hint,
      state: "resemblance",
      label: lean.label,
      line: `Wording resembles ${resembles}`,
      text: `Its wording resembles that of ${resembles}: a hint about word choice, not a rating of this article.`,
      note: lean.presentation === "wording_resemblance"
        ? "Your server's model does not yet rank articles by lean better than their outlets' own ratings do."
        : "Your server does not say its model can rate single articles.",
    };
  }
  const words = leanWords(lean.label, lean.score);
  const confidence = lean.confidence === null ? null : Math.round(Math.max(0, Math.min(1, lean.confidence)) * 100);
  const confidenceText = confidence === null ? null : `${confidence}% confident`;
  return {
    state: "scored",
    label: lean.label,
    words: words.text,
    line: [`This article: ${words.text}`, confidenceText].filter(Boolean).join(" \u00B7 "),
    confidence,
    confidenceText,
    oddsLine: odds ? `Model's odds: ${odds}` : null,
    termsHeading: "Phrases that weighed most:",
    color: BIAS_COLORS[words.step + 3],
    score: lean.score,
    warning: lean.warning,
    terms: lean.terms,
  };
}

/** Automatic analyses (not asked for by the reader) a tab may send per window: a page that rewrites its address
 * again and again (history.pushState) must not turn into a stream of its HTML to the reader's server. */
export const AUTO_ANALYSIS_LIMIT = 6;
export const AUTO_ANALYSIS_WINDOW_MS = 60_000;

/**
 * Whether one more automatic analysis fits among a tab's recent ones (timestamps, ms). Returns the answer and
 * the timestamps to keep (the new one included when admitted).
 */
export function admitAutomatic(recent, now = Date.now()) {
  const kept = (Array.isArray(recent) ? recent : [])
    .filter((at) => typeof at === "number" && at <= now && now - at < AUTO_ANALYSIS_WINDOW_MS);
  if (kept.length >= AUTO_ANALYSIS_LIMIT) return { admit: false, recent: kept };
  return { admit: true, recent: [...kept, now] };
}

/**
 * What an analysis that failed looks like in the coverage section. `error` is the worker's
 * `{kind, status, message}`; `kind` is unreachable, timeout, too-large, rejected, server, invalid or paused.
 */
export function coverageErrorView(error, { serverUrl } = {}) {
  const server = serverUrl ?? "your server";
  const detail = text(error?.message);
  switch (error?.kind) {
    case "unreachable":
      return { state: "error", kind: "unreachable", text: `Can't reach your newstilt server at ${server}.`, settings: true };
    case "timeout":
      return { state: "error", kind: "timeout", text: `Your newstilt server at ${server} did not answer in time.`,
        settings: true };
    case "too-large":
      return { state: "error", kind: "too-large", text: "This page is too large for your newstilt server to analyse.",
        settings: false };
    case "rejected":
      return { state: "error", kind: "rejected",
        text: `Your newstilt server could not analyse this page${detail ? `: ${detail}` : "."}`, settings: false };
    case "invalid":
      return { state: "error", kind: "invalid", text: "Your newstilt server's answer was not an analysis.",
        settings: true };
    case "paused":
      return { state: "error", kind: "paused",
        text: "Coverage paused: this page changed its address many times in a minute. " +
          "Use \u201cAnalyze this page\u201d in the toolbar to ask again.", settings: false };
    default: {
      const status = Number.isInteger(error?.status) ? ` (${error.status})` : "";
      return { state: "error", kind: "server",
        text: `Your newstilt server had an error analysing this page${status}${detail ? `: ${detail}` : "."}`,
        settings: false };
    }
  }
}

/** The note shown when only the start of a long page was sent. */
export const TRUNCATED_NOTE = `Only the first ${MAX_HTML_BYTES / (1024 * 1024)} MB of this page was sent to your server.`;

/**
 * The badge's whole view for a page: the outlet view (the cached table's, else the server's, else an unrated
 * card for the site) with `coverage` and `lean` added. `result` is `{analysis}` or `{error}` or `{loading}`.
 */
export function pageView(outlet, result, { serverUrl, site, truncated = false } = {}) {
  const analysis = result?.analysis ?? null;
  const base = outlet
    ?? (analysis?.outlet ? outletView(analysis.outlet, { serverUrl }) : unratedView(site, { serverUrl }));
  let coverage;
  if (result?.loading) coverage = { state: "loading", text: "Looking for other coverage\u2026" };
  else if (result?.error) coverage = coverageErrorView(result.error, { serverUrl });
  else coverage = coverageView(analysis, { serverUrl });
  if (truncated && coverage.state !== "loading") coverage = { ...coverage, note: TRUNCATED_NOTE };
  return { ...base, coverage, lean: analysis ? leanView(analysis.lean) : null };
}
