// Turning the server's rating values into what the reader sees: words, steps, colours, and the view model
// that the in-page badge, the popup and the toolbar icon are drawn from. Pure functions, no browser APIs.

/** The seven bias steps, -3..+3, as the server's `scale.bias` lists them. */
export const BIAS_LABELS = Object.freeze([
  "far-left", "left", "lean-left", "center", "lean-right", "right", "far-right",
]);

/** Best first, as the server's `scale.factuality` lists them. */
export const FACTUALITY_LEVELS = Object.freeze([
  "very-high", "high", "mostly-factual", "mixed", "low", "very-low",
]);

/** Toolbar badge text for each bias step, -3..+3. */
const BIAS_ABBREVIATIONS = Object.freeze(["FL", "L", "LL", "C", "LR", "R", "FR"]);

/** Blue through grey to red, dark enough for white text on the toolbar badge. */
export const BIAS_COLORS = Object.freeze([
  "#1e3a8a", "#2563eb", "#5b8def", "#6b7280", "#e0736f", "#dc2626", "#991b1b",
]);

/** Green for the most factual down to red for the least. */
const FACTUALITY_COLORS = Object.freeze(["#15803d", "#4d9a3a", "#8a9a2b", "#c98a12", "#d9622b", "#c0262d"]);

const UNRATED_COLOR = "#6b7280";

/** The seven steps as the bias bar draws them. */
const BIAS_SCALE = Object.freeze(
  BIAS_LABELS.map((label, index) =>
    Object.freeze({ step: index - 3, label, text: labelText(label), color: BIAS_COLORS[index] }),
  ),
);

/** "lean-left" -> "Lean Left", "public-broadcaster" -> "Public Broadcaster"; null for a missing value. */
export function labelText(label) {
  if (typeof label !== "string" || !label.trim()) return null;
  return label
    .trim()
    .split(/[-_\s]+/)
    .filter(Boolean)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(" ");
}

/** Round to the nearest integer, halves away from zero (the server's rule). */
function roundHalfAway(value) {
  return Math.sign(value) * Math.floor(Math.abs(value) + 0.5);
}

/** The bias step -3..+3 of a `{label, score}` rating: the label's position, else the rounded score; or null. */
export function biasStep(bias) {
  if (!bias || typeof bias !== "object") return null;
  const index = BIAS_LABELS.indexOf(bias.label);
  if (index >= 0) return index - 3;
  if (typeof bias.score === "number" && Number.isFinite(bias.score)) {
    return Math.max(-3, Math.min(3, roundHalfAway(bias.score)));
  }
  return null;
}

/** Everything the UI shows about a bias rating, or null when there is none. */
export function biasView(bias) {
  const step = biasStep(bias);
  if (step === null) return null;
  const label = BIAS_LABELS[step + 3];
  return {
    step,
    label,
    text: labelText(label),
    abbreviation: BIAS_ABBREVIATIONS[step + 3],
    color: BIAS_COLORS[step + 3],
  };
}

/** Everything the UI shows about a factuality level, or null when there is none. */
export function factualityView(level) {
  const text = labelText(level);
  if (!text) return null;
  const index = FACTUALITY_LEVELS.indexOf(level);
  return { level, text, color: index >= 0 ? FACTUALITY_COLORS[index] : UNRATED_COLOR };
}

/** An http(s) URL as a string, or null: a link from the network must never be javascript: or data:. */
export function safeHttpUrl(value) {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function plainText(value) {
  return typeof value === "string" && value.trim() ? value.trim() : null;
}

/** Why a source is questionable (the server's `flags`), in its order, with the words the badge uses. */
const FLAG_WORDS = Object.freeze({
  conspiracy: "conspiracy",
  pseudoscience: "pseudoscience",
  propaganda: "propaganda",
  "failed-fact-checks": "failed fact checks",
  satire: "satire",
});
const FLAG_ORDER = Object.keys(FLAG_WORDS);

/**
 * The warning for a questionable source, or null for an ordinary one. From the outlet's `flags` (reasons) and
 * `questionable`; a flag this version does not know is shown in words too ("new-reason" -> "new reason").
 * `text` is `title` and `detail` as one sentence:
 *   {kind: "questionable", flags, reasons, title: "Questionable source", detail: "conspiracy, failed fact checks", text}
 *   {kind: "satire", flags, reasons: [], title: "Satire", detail, text}  satire alone: worded as satire
 */
export function questionableView(outlet) {
  const given = Array.isArray(outlet?.flags) ? outlet.flags : [];
  const rank = (flag) => (FLAG_ORDER.includes(flag) ? FLAG_ORDER.indexOf(flag) : FLAG_ORDER.length);
  const flags = [...new Set(given.map((flag) => plainText(flag)?.toLowerCase()).filter(Boolean))]
    .sort((a, b) => rank(a) - rank(b));
  if (!flags.length && outlet?.questionable !== true) return null;
  const satire = flags.includes("satire");
  const reasons = flags.filter((flag) => flag !== "satire").map((flag) => FLAG_WORDS[flag] ?? flag.replace(/[-_]+/g, " "));
  const warning = satire && !reasons.length
    ? { kind: "satire", title: "Satire", detail: "this site's stories are made up, not news" }
    : { kind: "questionable", title: "Questionable source",
      detail: [reasons.join(", "), satire ? "also satire" : ""].filter(Boolean).join("; ") || null };
  return { ...warning, flags, reasons, text: warning.detail ? `${warning.title}: ${warning.detail}` : warning.title };
}

/**
 * The view model of one outlet: the only thing the badge, the popup and the toolbar icon are drawn from.
 * `serverUrl` is the configured server (for the methodology link). The story's coverage and the article's own
 * lean go in as further fields (`coverage`, `lean`, lib/analysis.js) that their own badge sections render.
 */
export function outletView(outlet, { serverUrl } = {}) {
  const raters = Array.isArray(outlet.raters) ? outlet.raters : [];
  return {
    rated: true,
    name: plainText(outlet.name) ?? plainText(outlet.domain) ?? "Unknown outlet",
    domain: plainText(outlet.domain),
    bias: biasView(outlet.bias),
    factuality: factualityView(outlet.factuality),
    ownership: labelText(outlet.ownership),
    owner: plainText(outlet.owner),
    questionable: questionableView(outlet),
    country: plainText(outlet.country),
    raters: raters
      .filter((rater) => rater && typeof rater === "object")
      .map((rater) => ({
        name: plainText(rater.name) ?? plainText(rater.rater) ?? "Unnamed rater",
        bias: biasView(rater.bias),
        factuality: factualityView(rater.factuality),
        url: safeHttpUrl(rater.url),
      })),
    methodologyUrl: serverUrl ? safeHttpUrl(`${serverUrl}/methodology`) : null,
    biasScale: BIAS_SCALE,
  };
}

/**
 * The view of a page whose outlet the server does not rate (shown only when the reader asked for an analysis):
 * the page's site as its name and no rating, so the coverage and lean sections have a card to sit in.
 */
export function unratedView(site, { serverUrl } = {}) {
  return {
    rated: false,
    name: plainText(site) ?? "This page",
    domain: plainText(site),
    bias: null,
    factuality: null,
    ownership: null,
    owner: null,
    questionable: null,
    country: null,
    raters: [],
    methodologyUrl: serverUrl ? safeHttpUrl(`${serverUrl}/methodology`) : null,
    biasScale: BIAS_SCALE,
  };
}

/** The toolbar icon's badge text, colour and tooltip for a view (or for no rating at all). */
export function toolbarView(view) {
  if (!view) return { text: "", color: UNRATED_COLOR, title: "newstilt: no rating for this site" };
  const parts = [view.bias ? view.bias.text : "Bias not rated"];
  if (view.factuality) parts.push(`${view.factuality.text} factuality`);
  const warning = view.questionable ? `. ${view.questionable.text}` : "";
  return {
    text: view.bias ? view.bias.abbreviation : "?",
    color: view.bias ? view.bias.color : UNRATED_COLOR,
    title: `${view.name}: ${parts.join(", ")}${warning} (newstilt)`,
  };
}
