// The rating badge: drawn from an outlet view model (lib/format.js outletView) inside a shadow root, so the
// page's styles cannot reach it. Built with DOM calls and textContent only.
//
// The page is hostile too: it could rewrite an open shadow root (drop a "questionable source" warning, change a
// rating), read what the reader's server answered, or click the badge's buttons. So the root is closed (the page
// sees `host.shadowRoot === null`; only this script keeps a reference), and every control acts only on trusted
// input (`event.isTrusted`: a real click, tap or key press, never a script's `click()` or `dispatchEvent`). The
// browser tests read the closed root over the DevTools protocol, which a page cannot use.
//
// Loaded as a classic script by the content script and by the popup; it defines `NewstiltBadge` on the
// global object. The badge is a list of sections, each placed in the always-visible summary or in the details
// that a click opens: the outlet's rating, the article's own lean and a one-line coverage summary stay in view;
// the story's coverage by side, the lean's details, the raters and the links open on a click.
(function defineBadge(global) {
  "use strict";

  const HOST_TAG = "newstilt-badge";

  const STYLE = `
    :host { all: initial; }
    .card {
      position: fixed; right: 16px; bottom: 16px; z-index: 2147483647;
      box-sizing: border-box; width: 304px; max-width: calc(100vw - 32px);
      max-height: calc(100vh - 32px); overflow: auto;
      padding: 10px 12px 12px;
      font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", Arial, sans-serif;
      color: #1f2328; background: #ffffff; text-align: left; letter-spacing: normal;
      border: 1px solid rgba(31, 35, 40, 0.14); border-radius: 12px;
      box-shadow: 0 8px 28px rgba(15, 23, 42, 0.18), 0 1px 3px rgba(15, 23, 42, 0.10);
      cursor: pointer;
    }
    .card.embedded {
      position: static; width: auto; max-width: none; max-height: none; overflow: visible;
      box-shadow: none; cursor: default;
    }
    .card *, .card *::before, .card *::after { box-sizing: border-box; }
    .head { display: flex; align-items: center; gap: 6px; margin: 0 0 8px; }
    button {
      font: inherit; color: inherit; background: none; border: 0; margin: 0; padding: 0; cursor: pointer;
    }
    button:focus-visible, a:focus-visible { outline: 2px solid #2563eb; outline-offset: 2px; border-radius: 4px; }
    .toggle { flex: 1; min-width: 0; display: flex; align-items: center; gap: 7px; text-align: left; }
    .mark {
      flex: none; width: 14px; height: 14px; border-radius: 4px;
      background: linear-gradient(135deg, #2563eb 0%, #9ca3af 50%, #dc2626 100%);
    }
    .name {
      flex: 1; min-width: 0; font-weight: 650; font-size: 14px;
      overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
    }
    .chevron { flex: none; color: #6b7280; font-size: 11px; transition: transform 120ms ease; }
    .card[data-expanded="true"] .chevron { transform: rotate(180deg); }
    .close {
      flex: none; width: 22px; height: 22px; border-radius: 6px; color: #6b7280;
      font-size: 17px; line-height: 22px; text-align: center;
    }
    .close:hover { background: rgba(107, 114, 128, 0.14); color: #1f2328; }
    .bias { display: flex; align-items: center; gap: 10px; }
    .bar { display: flex; align-items: center; gap: 2px; flex: none; height: 16px; }
    .cell { width: 19px; height: 8px; border-radius: 2px; background: var(--c); opacity: 0.28; }
    .cell:first-child { border-radius: 4px 2px 2px 4px; }
    .cell:last-child { border-radius: 2px 4px 4px 2px; }
    .cell[data-marked="true"] {
      height: 16px; opacity: 1; border-radius: 4px;
      box-shadow: 0 0 0 2px #ffffff, 0 0 0 3px var(--c);
    }
    .bias-label { font-weight: 650; white-space: nowrap; }
    .axis {
      display: flex; justify-content: space-between; width: 145px;
      margin: 3px 0 0; color: #6b7280; font-size: 10px; text-transform: uppercase; letter-spacing: 0.04em;
    }
    .facts { display: grid; grid-template-columns: auto 1fr; gap: 3px 10px; margin: 9px 0 0; }
    .facts dt { color: #6b7280; margin: 0; }
    .facts dd { margin: 0; font-weight: 550; display: flex; align-items: center; gap: 6px; min-width: 0; }
    .facts dd.ownership { flex-wrap: wrap; row-gap: 0; }
    .owner { flex: 1 0 100%; min-width: 0; color: #4b5563; font-weight: 450; overflow-wrap: anywhere; }
    .card:not([data-expanded="true"]):not(.embedded) .owner {
      white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
    }
    .sr-only {
      position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0;
      overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap;
    }
    .flag {
      display: flex; align-items: flex-start; gap: 6px; margin: 0 0 9px; padding: 6px 8px; border-radius: 8px;
      font-size: 12.5px; line-height: 1.4; color: #7f1d1d; background: #fef2f2; border: 1px solid #f87171;
    }
    .flag strong { font-weight: 700; }
    .flag-icon { flex: none; font-weight: 700; }
    .flag[data-kind="satire"] { color: #4c1d95; background: #f5f3ff; border-color: #a78bfa; }
    .dot { flex: none; width: 8px; height: 8px; border-radius: 50%; background: var(--c); }
    .muted { color: #6b7280; font-weight: 400; }
    .details { margin: 10px 0 0; padding: 10px 0 0; border-top: 1px solid rgba(31, 35, 40, 0.10); }
    .details[hidden] { display: none; }
    h2 {
      margin: 0 0 6px; font: inherit; font-size: 11px; font-weight: 650; color: #6b7280;
      text-transform: uppercase; letter-spacing: 0.05em;
    }
    .raters { list-style: none; margin: 0; padding: 0; display: grid; gap: 6px; }
    .rater { display: grid; grid-template-columns: 1fr auto; gap: 1px 8px; align-items: baseline; }
    .rater-name { font-weight: 600; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .rater-values { grid-column: 1 / -1; display: flex; flex-wrap: wrap; align-items: center; gap: 4px 10px; }
    .chip { display: inline-flex; align-items: center; gap: 5px; }
    .chip .dot { width: 7px; height: 7px; }
    a { color: #1d4ed8; text-decoration: none; }
    a:hover { text-decoration: underline; }
    .source { font-size: 12px; white-space: nowrap; }
    .links { display: flex; justify-content: space-between; align-items: center; gap: 8px; margin: 10px 0 0; }
    .hide-site { color: #6b7280; font-size: 12px; }
    .hide-site:hover { color: #1f2328; text-decoration: underline; }
    .card[data-expanded="true"]:not(.embedded) { width: 344px; }
    .unrated-note { margin: 0; }
    .lean-line, .cov-line {
      display: flex; align-items: center; flex-wrap: wrap; gap: 4px 6px; margin: 8px 0 0; min-width: 0;
    }
    .lean-line { flex-wrap: nowrap; white-space: nowrap; }
    .lean-word { display: inline-flex; align-items: center; gap: 5px; font-weight: 650; }
    .confidence { font-size: 12px; overflow: hidden; text-overflow: ellipsis; }
    .lean-hint { min-width: 0; overflow: hidden; text-overflow: ellipsis; }
    .lean-text { margin: 0; }
    .warn-mark { color: #b45309; cursor: help; }
    .mini {
      display: flex; flex: none; width: 64px; height: 8px; border-radius: 4px; overflow: hidden; gap: 1px;
      background: rgba(107, 114, 128, 0.18);
    }
    .dist {
      display: flex; height: 12px; margin: 6px 0 0; border-radius: 6px; overflow: hidden; gap: 2px;
      background: rgba(107, 114, 128, 0.18);
    }
    .seg { flex: var(--n) 1 0; min-width: 4px; background: var(--c); }
    .seg[data-group="unrated"] {
      background: repeating-linear-gradient(135deg, var(--c) 0 3px, rgba(212, 216, 222, 0.45) 3px 6px);
    }
    .cov-count { font-weight: 600; }
    .tag {
      display: inline-block; padding: 0 6px; border-radius: 999px; font-size: 11px; font-weight: 650;
      line-height: 17px; color: #92400e; background: #fef3c7; text-transform: uppercase; letter-spacing: 0.03em;
    }
    .cov-line[data-state="error"] {
      display: block; padding: 6px 8px; border-radius: 8px; font-size: 12px;
      color: #9f1c1c; background: #fef2f2; border: 1px solid #fecaca;
    }
    .cov-line[data-state="error"] .linkish { margin: 0 0 0 4px; }
    .linkish { color: #1d4ed8; font-size: 12px; }
    .linkish:hover { text-decoration: underline; }
    .note { margin: 4px 0 0; font-size: 12px; }
    .coverage .count-line { margin: 0; font-weight: 650; font-size: 14px; }
    .legend { display: flex; flex-wrap: wrap; gap: 2px 12px; margin: 6px 0 0; font-size: 12px; }
    .share { display: inline-flex; align-items: center; gap: 5px; }
    .share b { font-weight: 650; }
    .blindspot {
      margin: 8px 0 0; padding: 6px 8px; border-radius: 8px; background: #fffbeb;
      border: 1px solid #fcd34d; color: #78350f; font-size: 12px;
    }
    .blindspot summary { cursor: pointer; font-weight: 650; }
    .blindspot p { margin: 4px 0 0; }
    .group { margin: 12px 0 0; }
    h3 {
      display: flex; align-items: center; gap: 6px; margin: 0 0 4px; font: inherit; font-size: 12px;
      font-weight: 650; text-transform: uppercase; letter-spacing: 0.04em;
    }
    .group ul { list-style: none; margin: 0; padding: 0 0 0 12px; display: grid; gap: 7px;
      border-left: 3px solid var(--c); }
    .headline { display: block; font-weight: 600; line-height: 1.3; overflow-wrap: anywhere; }
    span.headline { color: inherit; }
    .meta, .also { display: flex; flex-wrap: wrap; align-items: center; gap: 2px 6px; margin: 2px 0 0;
      font-size: 12px; color: #6b7280; }
    .meta .outlet { color: #374151; font-weight: 550; }
    .also a { font-size: 12px; }
    .more { margin: 0; font-size: 12px; }
    .group .reader { font-size: 12px; }
    .summary-part, .story-details { margin: 12px 0 0; }
    ul.summary { list-style: none; margin: 0; padding: 0; display: grid; gap: 6px; }
    ul.summary li { padding: 0 0 0 10px; border-left: 3px solid rgba(107, 114, 128, 0.35); line-height: 1.4;
      overflow-wrap: anywhere; }
    ul.summary li[hidden] { display: none; }
    .cite { font-size: 12px; }
    .summary-part .linkish { margin: 4px 0 0; }
    .story-details .facts { margin: 0; font-size: 12px; }
    .story-details .facts dd { display: block; font-weight: 500; overflow-wrap: anywhere; }
    .full { display: inline-block; margin: 12px 0 0; font-weight: 600; }
    .meter { position: relative; height: 8px; margin: 6px 0 2px; border-radius: 4px;
      background: linear-gradient(90deg, rgba(37, 99, 235, 0.35), rgba(156, 163, 175, 0.35), rgba(220, 38, 38, 0.35)); }
    .meter-dot { position: absolute; top: 50%; left: var(--x); width: 12px; height: 12px; margin: -6px 0 0 -6px;
      border-radius: 50%; background: var(--c); box-shadow: 0 0 0 2px #ffffff; }
    .meter-axis { display: flex; justify-content: space-between; color: #6b7280; font-size: 10px;
      text-transform: uppercase; letter-spacing: 0.04em; }
    .probabilities { margin: 6px 0 0; font-size: 12px; }
    .warning { margin: 6px 0 0; padding: 5px 8px; border-radius: 6px; background: #fffbeb; color: #78350f; font-size: 12px; }
    .terms { display: flex; flex-wrap: wrap; gap: 4px; margin: 4px 0 0; padding: 0; list-style: none; }
    .term { padding: 0 6px; border-radius: 4px; font-size: 12px; line-height: 19px;
      background: var(--bg); box-shadow: inset 0 -2px 0 var(--c); }
    .actions { display: flex; align-items: center; flex-wrap: wrap; gap: 6px 10px; margin: 10px 0 0; }
    .pill {
      padding: 3px 10px; border-radius: 999px; font-size: 12px; font-weight: 600;
      color: #1d4ed8; border: 1px solid rgba(29, 78, 216, 0.35); background: rgba(29, 78, 216, 0.06);
    }
    .pill:hover { background: rgba(29, 78, 216, 0.12); }
    .pill[aria-pressed="true"] { color: #ffffff; background: #1d4ed8; border-color: #1d4ed8; }
    .section + .section, .details > * + * { margin-top: 14px; }
    @media (prefers-color-scheme: dark) {
      .card { color: #e6e8eb; background: #1e2227; border-color: rgba(255, 255, 255, 0.12); }
      .cov-line[data-state="error"] { color: #fecaca; background: rgba(185, 28, 28, 0.18); border-color: rgba(248, 113, 113, 0.35); }
      .linkish { color: #7aa7ff; }
      .owner { color: #b8bfc8; }
      .flag { color: #fecaca; background: rgba(185, 28, 28, 0.22); border-color: rgba(248, 113, 113, 0.55); }
      .flag[data-kind="satire"] { color: #ddd6fe; background: rgba(109, 40, 217, 0.22); border-color: rgba(167, 139, 250, 0.55); }
      .tag { color: #fde68a; background: rgba(180, 83, 9, 0.35); }
      .blindspot, .warning { color: #fde68a; background: rgba(180, 83, 9, 0.18); border-color: rgba(252, 211, 77, 0.35); }
      .meta .outlet { color: #d1d5db; }
      .meta, .also { color: #9aa3ad; }
      .meter-dot { box-shadow: 0 0 0 2px #1e2227; }
      .pill { color: #a5c3ff; border-color: rgba(122, 167, 255, 0.4); background: rgba(122, 167, 255, 0.08); }
      .pill[aria-pressed="true"] { color: #0b1220; background: #7aa7ff; }
      .cell { opacity: 0.4; }
      .cell[data-marked="true"] { opacity: 1; box-shadow: 0 0 0 2px #1e2227, 0 0 0 3px var(--c); }
      .details { border-top-color: rgba(255, 255, 255, 0.12); }
      .close:hover, .hide-site:hover { color: #ffffff; }
      a { color: #7aa7ff; }
    }
  `;

  /** `el("span", {class: "x", "data-newstilt": "name"}, "text", child)`: attributes are set, never parsed. */
  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function colorDot(color) {
    const dot = el("span", { class: "dot", "aria-hidden": "true" });
    dot.style.setProperty("--c", color);
    return dot;
  }

  /** Whether a link target is an http(s) URL: the view models only let those through; checked here again. */
  function isHttpUrl(href) {
    try {
      const { protocol } = new URL(href);
      return protocol === "http:" || protocol === "https:";
    } catch {
      return false;
    }
  }

  /** A link opened in a new tab without referrer; plain text if `href` is not an http(s) URL. */
  function externalLink(href, text, attributes = {}) {
    if (!isHttpUrl(href)) return el("span", attributes, text);
    return el("a", { href, target: "_blank", rel: "noopener noreferrer", ...attributes }, text);
  }

  /**
   * Run `handler(event)` on a click the reader made: untrusted clicks (a page script's `click()` or
   * `dispatchEvent`) are ignored. Clicks do not bubble out to the page's listeners either way.
   */
  function onTrustedClick(node, handler) {
    node.addEventListener("click", (event) => {
      event.stopPropagation();
      if (event.isTrusted) handler(event);
    });
  }

  function renderBiasBar(view) {
    const bias = view.bias;
    const bar = el("div", {
      class: "bar",
      role: "img",
      "data-newstilt": "bias-bar",
      "data-step": bias ? bias.step : "",
      "aria-label": bias ? `Bias: ${bias.text}, on a scale from Far Left to Far Right` : "Bias not rated",
    });
    for (const step of view.biasScale) {
      const cell = el("span", {
        class: "cell",
        title: step.text,
        "data-cell-step": step.step,
        "data-marked": bias && bias.step === step.step ? "true" : null,
      });
      cell.style.setProperty("--c", step.color);
      bar.append(cell);
    }
    return bar;
  }

  function renderRating(view) {
    if (view.rated === false) {
      return el("p", { class: "unrated-note muted", "data-newstilt": "unrated" },
        "Your newstilt server has no rating for this site.");
    }
    const label = view.bias
      ? el("span", { class: "bias-label", "data-newstilt": "bias-label", "data-label": view.bias.label }, view.bias.text)
      : el("span", { class: "bias-label muted", "data-newstilt": "bias-label", "data-label": "" }, "Bias not rated");
    const facts = el("dl", { class: "facts" });
    facts.append(
      el("dt", {}, "Factuality"),
      view.factuality
        ? el("dd", { "data-newstilt": "factuality", "data-level": view.factuality.level },
          colorDot(view.factuality.color), view.factuality.text)
        : el("dd", { "data-newstilt": "factuality", "data-level": "", class: "muted" }, "Not rated"),
      el("dt", {}, "Ownership"),
      el("dd", { class: "ownership" },
        el("span", { "data-newstilt": "ownership", class: view.ownership ? null : "muted" }, view.ownership ?? "Unknown"),
        view.owner ? el("span", { class: "sr-only" }, ", owned by ") : null,
        view.owner ? el("span", { class: "owner", "data-newstilt": "owner", dir: "auto", title: view.owner }, view.owner) : null),
    );
    return el(
      "div",
      { class: "rating" },
      el("div", { class: "bias" }, renderBiasBar(view), label),
      el("div", { class: "axis", "aria-hidden": "true" }, el("span", {}, "Left"), el("span", {}, "Right")),
      facts,
    );
  }

  /**
   * The warning for a questionable source (or the note that a site is satire), first in the summary: a word and
   * the reasons in words, so it does not rely on its colour.
   */
  function renderQuestionable(view) {
    const flag = view.questionable;
    if (!flag) return null;
    return el("p", { class: "flag", role: "note", id: "newstilt-flag", "data-newstilt": "questionable",
      "data-kind": flag.kind, "data-flags": flag.flags.join(" ") },
    flag.kind === "satire" ? null : el("span", { class: "flag-icon", "aria-hidden": "true" }, "\u26A0"),
    el("span", { "data-newstilt": "questionable-text" }, el("strong", {}, flag.title), flag.detail ? `: ${flag.detail}` : null));
  }

  function renderRaters(view) {
    if (!view.raters.length) return null;
    const list = el("ul", { class: "raters" });
    for (const rater of view.raters) {
      const values = el("div", { class: "rater-values" });
      values.append(
        rater.bias
          ? el("span", { class: "chip", "data-newstilt": "rater-bias" }, colorDot(rater.bias.color), rater.bias.text)
          : el("span", { class: "chip muted", "data-newstilt": "rater-bias" }, "Bias not rated"),
        rater.factuality
          ? el("span", { class: "chip", "data-newstilt": "rater-factuality" },
            colorDot(rater.factuality.color), `${rater.factuality.text} factuality`)
          : el("span", { class: "chip muted", "data-newstilt": "rater-factuality" }, "Factuality not rated"),
      );
      list.append(
        el(
          "li",
          { class: "rater", "data-newstilt": "rater" },
          el("span", { class: "rater-name", "data-newstilt": "rater-name", title: rater.name }, rater.name),
          rater.url ? externalLink(rater.url, "Their review", { class: "source" }) : el("span"),
          values,
        ),
      );
    }
    return el("section", { class: "section" }, el("h2", {}, "Ratings by source"), list);
  }

  function renderLinks(view, options) {
    const links = el("div", { class: "links" });
    if (view.methodologyUrl) links.append(externalLink(view.methodologyUrl, "How newstilt rates", { "data-newstilt": "methodology" }));
    if (options.onHideSite) {
      const hide = el("button", { type: "button", class: "hide-site", "data-newstilt": "hide-site" }, "Hide on this site");
      onTrustedClick(hide, () => options.onHideSite());
      links.append(hide);
    }
    return links.childElementCount ? links : null;
  }

  /** A link if `href` is a safe http(s) URL (the view model checked it), else plain text. */
  function linkOrText(href, text, attributes = {}) {
    return href ? externalLink(href, text, attributes) : el("span", attributes, text);
  }

  function segmentsOf(segments, className) {
    return segments.map((segment) => {
      const node = el("span", { class: className, "data-group": segment.group, title: `${segment.text}: ${segment.percentText}` });
      node.style.setProperty("--c", segment.color);
      node.style.setProperty("--n", String(segment.count));
      return node;
    });
  }

  function distributionLabel(coverage) {
    return coverage.legend.map((part) => `${part.text} ${part.percentText}`).join(", ");
  }

  function settingsButton(options) {
    if (!options.onOpenSettings) return null;
    const button = el("button", { type: "button", class: "linkish", "data-newstilt": "open-settings" }, "Open settings");
    onTrustedClick(button, () => options.onOpenSettings());
    return button;
  }

  /** What the collapsed line about the article says when hovered, per lean state. */
  const LEAN_TITLES = {
    scored: "How the article's own text leans, by your server's model",
    resemblance: "A hint about the article's word choice, not a rating of the article",
    uncertain: "Your server's model is not confident enough to say how this article leans",
  };

  /**
   * The article's own lean, one line beside the outlet's rating: "This article: Lean Right" only when the
   * server vouches for it, else "Wording resembles right-leaning outlets" or "This article: not enough evidence".
   */
  function renderLeanLine(view) {
    const lean = view.lean;
    if (!lean || !(lean.state in LEAN_TITLES)) return null;
    const line = el("div", { class: "lean-line", "data-newstilt": "lean", "data-state": lean.state,
      "data-label": lean.label ?? "", "data-confidence": lean.confidence ?? "", title: LEAN_TITLES[lean.state] });
    if (lean.state === "scored") {
      line.append(
        el("span", { class: "muted" }, "This article:"),
        " ", // read as text (and by screen readers) with the spaces the flex gaps draw
        el("span", { class: "lean-word", "data-newstilt": "lean-words" }, colorDot(lean.color), lean.words),
        lean.confidenceText ? " " : null,
        lean.confidenceText ? el("span", { class: "muted confidence" }, `\u00B7 ${lean.confidenceText}`) : null,
      );
    } else {
      line.append(el("span", { class: lean.state === "uncertain" ? "lean-hint muted" : "lean-hint",
        "data-newstilt": "lean-words" }, lean.line));
    }
    if (lean.warning && lean.state !== "uncertain") {
      line.append(el("span", { class: "warn-mark", title: lean.warning, "aria-label": lean.warning }, "\u26A0"));
    }
    return line;
  }

  /** One line about the story's coverage: a small bar and the number of sources, or what went wrong. */
  function renderCoverageLine(view, options) {
    const coverage = view.coverage;
    if (!coverage) return null;
    const line = el("div", { class: "cov-line", "data-newstilt": "coverage-summary", "data-state": coverage.state });
    if (coverage.state === "story") {
      const mini = el("span", { class: "mini", role: "img", "aria-label": distributionLabel(coverage) },
        ...segmentsOf(coverage.segments, "seg"));
      line.append(mini, el("span", { class: "cov-count", "data-newstilt": "coverage-count" }, coverage.shortText));
      if (coverage.blindspot) {
        line.append(" ", el("span", { class: "tag", "data-newstilt": "blindspot-tag", title: coverage.blindspot.text },
          `${coverage.blindspot.side} blindspot`));
      }
    } else if (coverage.state === "error") {
      line.setAttribute("data-kind", coverage.kind);
      line.setAttribute("role", "status");
      line.append(el("span", { "data-newstilt": "coverage-message" }, coverage.text),
        coverage.settings ? settingsButton(options) : null);
    } else {
      line.classList.add("muted");
      line.append(el("span", { "data-newstilt": "coverage-message", title: coverage.detail ?? null }, coverage.text));
    }
    if (coverage.note) line.append(el("span", { class: "note muted", "data-newstilt": "coverage-note" }, coverage.note));
    return line;
  }

  function renderStoryArticle(article) {
    const item = el("li", { class: "item", "data-newstilt": "article" },
      linkOrText(article.url, article.title, { class: "headline", "data-newstilt": "headline", dir: "auto" }));
    const meta = el("div", { class: "meta" });
    if (article.outlet) meta.append(el("span", { class: "outlet", "data-newstilt": "outlet", dir: "auto" }, article.outlet));
    meta.append(article.bias
      ? el("span", { class: "chip", "data-newstilt": "outlet-bias", "data-label": article.bias.label },
        colorDot(article.bias.color), article.bias.text)
      : el("span", { class: "chip", "data-newstilt": "outlet-bias", "data-label": "" }, "Not rated"));
    item.append(meta);
    if (article.alsoCarriedBy.length) {
      const also = el("div", { class: "also", "data-newstilt": "also-carried" }, "Also carried by");
      article.alsoCarriedBy.forEach((copy, i) => {
        also.append(linkOrText(copy.url, copy.name + (i < article.alsoCarriedBy.length - 1 ? "," : ""), { dir: "auto" }));
      });
      item.append(also);
    }
    return item;
  }

  /** The story's coverage: how many sources, the spread, the blindspot, and the other outlets' headlines. */
  function renderCoverage(view, options) {
    const coverage = view.coverage;
    if (!coverage || coverage.state !== "story") return null;
    const section = el("section", { class: "section coverage", "data-newstilt": "coverage", "data-story": coverage.storyId },
      el("h2", {}, "Coverage of this story"),
      el("p", { class: "count-line", "data-newstilt": "source-count", "data-count": coverage.sourceCount },
        coverage.countText),
      el("div", { class: "dist", role: "img", "data-newstilt": "distribution",
        "aria-label": distributionLabel(coverage) }, ...segmentsOf(coverage.segments, "seg")));
    const legend = el("div", { class: "legend" });
    for (const part of coverage.legend) {
      legend.append(el("span", { class: "share", "data-newstilt": "share", "data-group": part.group,
        "data-count": part.count, "data-percent": part.percent },
      colorDot(part.color), `${part.text} `, el("b", {}, part.percentText)));
    }
    section.append(legend);
    if (coverage.unrated) {
      section.append(el("p", { class: "note muted", "data-newstilt": "unrated-share", "data-count": coverage.unrated.count,
        "data-percent": coverage.unrated.percent }, `${coverage.unrated.text} (${coverage.unrated.percentText})`));
    }
    if (coverage.blindspot) {
      const details = el("details", { class: "blindspot", "data-newstilt": "blindspot", "data-side": coverage.blindspot.side,
        title: coverage.blindspot.explanation ?? "" },
      el("summary", {}, coverage.blindspot.text));
      if (coverage.blindspot.explanation) details.append(el("p", {}, coverage.blindspot.explanation));
      section.append(details);
    }
    const summary = renderSummary(coverage.summary, options);
    if (summary) section.append(summary);
    for (const group of coverage.groups) {
      // The heading counts sources, as the bar does (lib/analysis.js sourceCounts), never the headlines below it.
      const heading = el("h3", {}, colorDot(group.color), group.heading,
        el("span", { class: "muted", "data-newstilt": "group-count", "data-count": group.count }, `\u00B7 ${group.countText}`));
      const list = el("ul", {}, ...group.articles.map(renderStoryArticle),
        group.reader ? el("li", { class: "reader muted", "data-newstilt": "group-reader" }, group.reader) : null);
      list.style.setProperty("--c", group.color);
      const part = el("section", { class: "group", "data-newstilt": "group", "data-group": group.group }, heading, list);
      if (group.more) part.append(el("p", { class: "more muted" }, `and ${group.more} more`));
      section.append(part);
    }
    if (coverage.details?.length) section.append(renderCoverageDetails(coverage.details));
    if (coverage.storyUrl) {
      section.append(externalLink(coverage.storyUrl, coverage.storyLinkText, { class: "full", "data-newstilt": "full-coverage" }));
    }
    if (coverage.note) section.append(el("p", { class: "note muted" }, coverage.note));
    return section;
  }

  /**
   * The story's summary: its first point, and a "Show all N points" button for the others. Each point cites its
   * outlet, a link to the article it is quoted from. `options.summaryExpanded` keeps the reader's choice when
   * the badge is drawn again.
   */
  function renderSummary(summary, options) {
    if (!summary) return null;
    const list = el("ul", { class: "summary", id: "newstilt-summary", "data-newstilt": "summary-points" });
    summary.bullets.forEach((bullet, i) => {
      list.append(el("li", { "data-newstilt": "summary-point", hidden: i < summary.shown ? null : "" },
        el("span", { "data-newstilt": "summary-text", dir: "auto" }, bullet.text), " ",
        el("span", { class: "cite muted" }, "\u2014 ",
          linkOrText(bullet.url, bullet.outlet, { "data-newstilt": "summary-source", dir: "auto" }))));
    });
    const part = el("section", { class: "summary-part", "data-newstilt": "summary" }, el("h3", {}, "Summary"), list);
    if (summary.expandText) {
      const toggle = el("button", { type: "button", class: "linkish", "data-newstilt": "summary-toggle",
        "aria-expanded": "false", "aria-controls": "newstilt-summary" });
      const setShown = (all) => {
        toggle.setAttribute("aria-expanded", String(all));
        toggle.textContent = all ? summary.collapseText : summary.expandText;
        [...list.children].forEach((item, i) => { item.hidden = !all && i >= summary.shown; });
      };
      onTrustedClick(toggle, () => setShown(toggle.getAttribute("aria-expanded") !== "true"));
      setShown(Boolean(options.summaryExpanded));
      part.append(toggle);
    }
    return part;
  }

  /** Who covered the story, in a few rows: how many sources, when, how factual, who owns them. */
  function renderCoverageDetails(rows) {
    const list = el("dl", { class: "facts" });
    for (const row of rows) {
      list.append(el("dt", {}, row.label),
        el("dd", { "data-newstilt": "story-detail", "data-key": row.key },
          row.datetime ? el("time", { datetime: row.datetime }, row.value) : row.value));
    }
    return el("section", { class: "story-details", "data-newstilt": "story-details" }, el("h3", {}, "Coverage details"), list);
  }

  function highlightControls(lean, options) {
    if (!options.onToggleHighlight || !lean.terms.length) return null;
    const on = Number.isInteger(options.highlights);
    const button = el("button", { type: "button", class: "pill", "data-newstilt": "highlight", "aria-pressed": String(on) },
      on ? "Remove highlights" : "Highlight phrases");
    onTrustedClick(button, () => options.onToggleHighlight());
    const actions = el("div", { class: "actions" }, button);
    if (on) {
      actions.append(el("span", { class: "muted", "data-newstilt": "highlight-count", "data-count": options.highlights },
        options.highlights ? `${options.highlights} highlighted in the page` : "None of these phrases is in the page's text"));
    }
    return actions;
  }

  /**
   * The article's lean in full: where it sits and how sure the model is (when the server vouches for it), or the
   * hint its wording gives, or why there is none; and the phrases behind it.
   */
  function renderLeanDetails(view, options) {
    const lean = view.lean;
    if (!lean) return null;
    const section = el("section", { class: "section", "data-newstilt": "lean-details", "data-state": lean.state },
      el("h2", {}, lean.state === "resemblance" ? "This article's wording" : "This article's lean"));
    if (lean.state === "no-model" || lean.state === "unscored") {
      section.append(el("p", { class: "muted", "data-newstilt": "lean-none", title: lean.reason ?? "" }, lean.text));
      // Why a model gave no label is for the reader; why there is no model is for the server's operator.
      if (lean.state === "unscored" && lean.reason) {
        section.append(el("p", { class: "note muted", "data-newstilt": "lean-reason" }, lean.reason));
      }
      return section;
    }
    if (lean.state === "scored") {
      if (lean.score !== null) {
        const dot = el("span", { class: "meter-dot" });
        dot.style.setProperty("--x", `${((Math.max(-1, Math.min(1, lean.score)) + 1) / 2) * 100}%`);
        dot.style.setProperty("--c", lean.color);
        section.append(
          el("div", { class: "meter", role: "img", "aria-label": lean.line, "data-newstilt": "lean-meter" }, dot),
          el("div", { class: "meter-axis", "aria-hidden": "true" }, el("span", {}, "Left"), el("span", {}, "Center"),
            el("span", {}, "Right")),
        );
      }
      section.append(el("p", { class: "probabilities", "data-newstilt": "lean-summary" }, lean.line));
    } else {
      section.append(el("p", { class: "lean-text", "data-newstilt": "lean-summary" }, lean.text));
      const why = lean.state === "resemblance" ? lean.note : lean.reason;
      if (why) section.append(el("p", { class: "note muted", "data-newstilt": "lean-reason" }, why));
    }
    if (lean.oddsLine) section.append(el("p", { class: "probabilities", "data-newstilt": "lean-odds" }, lean.oddsLine));
    if (lean.warning) section.append(el("p", { class: "warning", "data-newstilt": "lean-warning" }, lean.warning));
    if (lean.terms.length) {
      section.append(el("p", { class: "note muted" }, lean.termsHeading));
      const terms = el("ul", { class: "terms", "aria-label": lean.termsHeading.replace(/:$/, "") });
      for (const term of lean.terms.slice(0, 10)) {
        const chip = el("li", { class: "term", "data-side": term.side, title: `Leans ${term.side}`, dir: "auto" }, term.term);
        const color = { left: "#2563eb", center: "#6b7280", right: "#dc2626" }[term.side] ?? "#ca8a04";
        chip.style.setProperty("--c", color);
        chip.style.setProperty("--bg", `${color}1f`);
        terms.append(chip);
      }
      section.append(terms);
    }
    const controls = highlightControls(lean, options);
    if (controls) section.append(controls);
    return section;
  }

  /** The badge's sections, in order. `place` is "summary" (always shown) or "details" (shown on click). */
  const SECTIONS = [
    { id: "questionable", place: "summary", render: renderQuestionable },
    { id: "rating", place: "summary", render: renderRating },
    { id: "lean", place: "summary", render: renderLeanLine },
    { id: "coverage-summary", place: "summary", render: renderCoverageLine },
    { id: "coverage", place: "details", render: renderCoverage },
    { id: "lean-details", place: "details", render: renderLeanDetails },
    { id: "raters", place: "details", render: renderRaters },
    { id: "links", place: "details", render: renderLinks },
  ];

  function renderCard(view, options) {
    const card = el("section", {
      class: options.embedded ? "card embedded" : "card",
      "data-newstilt": "badge",
      "data-expanded": "false",
      // "false" while the server's answer is on its way (the badge is drawn again when it arrives), else "true".
      "data-settled": String(view.coverage?.state !== "loading"),
      "aria-label": `newstilt rating of ${view.name}`,
      // The badge is written in English, left to right, whatever the page's language and direction (`all:
      // initial` on the host resets neither `lang` nor `direction`); text from the web sets its own direction.
      lang: "en",
      dir: "ltr",
      "aria-describedby": view.questionable ? "newstilt-flag" : null,
    });
    const details = el("div", { class: "details", id: "newstilt-details", "data-newstilt": "details", hidden: "" });
    const summary = el("div", { class: "summary" });
    const toggle = el(
      "button",
      { type: "button", class: "toggle", "aria-expanded": "false", "aria-controls": "newstilt-details",
        title: "Show the ratings behind this", "data-newstilt": "toggle" },
      el("span", { class: "mark", "aria-hidden": "true" }),
      el("span", { class: "name", "data-newstilt": "name", dir: "auto" }, view.name),
      el("span", { class: "chevron", "aria-hidden": "true" }, "\u25BE"),
    );
    const head = el("div", { class: "head" }, toggle);
    if (options.onClose) {
      const close = el("button", { type: "button", class: "close", "data-newstilt": "close",
        "aria-label": "Close the newstilt badge", title: "Close" }, "\u00D7");
      onTrustedClick(close, () => options.onClose());
      head.append(close);
    }
    for (const section of SECTIONS) {
      const node = section.render(view, options);
      if (!node) continue;
      node.setAttribute("data-section", section.id);
      (section.place === "details" ? details : summary).append(node);
    }
    card.append(head, summary, details);

    const setExpanded = (expanded) => {
      card.setAttribute("data-expanded", String(expanded));
      toggle.setAttribute("aria-expanded", String(expanded));
      details.hidden = !expanded;
    };
    onTrustedClick(toggle, () => setExpanded(details.hidden));
    if (!options.embedded) {
      // The whole card is the click target, except its links and buttons and the open details.
      onTrustedClick(card, (event) => {
        if (event.target.closest("a, button, summary") || details.contains(event.target)) return;
        setExpanded(details.hidden);
      });
    }
    setExpanded(Boolean(options.expanded));
    return card;
  }

  let current = null; // the host element this script mounted
  let currentRoot = null; // ...and its closed shadow root, which only this reference reaches

  /** Remove the badge this script mounted, if any. */
  function unmount() {
    if (current) current.remove();
    current = null;
    currentRoot = null;
  }

  /** Whether the badge this script mounted is still in the document (the page may have removed it). */
  function isMounted() {
    return Boolean(current?.isConnected);
  }

  /**
   * Show the badge for a view: a `<newstilt-badge>` host with a closed shadow root, appended to `container`
   * (the document's root element by default). Options: `embedded` (in flow, for the popup), `expanded` and
   * `summaryExpanded` (both default to the badge being replaced's, so a redraw keeps what the reader opened),
   * `highlights` (how many phrases are highlighted in the page, or null), and the `onClose`, `onHideSite`,
   * `onOpenSettings` and `onToggleHighlight` callbacks (their controls appear only when given). Returns the host
   * element.
   */
  function mount(view, options = {}) {
    const expanded = currentRoot?.querySelector('[data-newstilt="badge"]')?.getAttribute("data-expanded");
    const summaryExpanded = currentRoot?.querySelector('[data-newstilt="summary-toggle"]')?.getAttribute("aria-expanded");
    unmount();
    const host = document.createElement(HOST_TAG);
    host.style.setProperty("all", "initial", "important");
    host.style.setProperty("display", "block", "important");
    const root = host.attachShadow({ mode: "closed" });
    const style = document.createElement("style");
    style.textContent = STYLE;
    root.append(style, renderCard(view, { ...options, expanded: options.expanded ?? expanded === "true",
      summaryExpanded: options.summaryExpanded ?? summaryExpanded === "true" }));
    (options.container ?? document.documentElement).append(host);
    current = host;
    currentRoot = root;
    return host;
  }

  global.NewstiltBadge = Object.freeze({ HOST_TAG, SECTIONS, mount, unmount, isMounted });
})(globalThis);
