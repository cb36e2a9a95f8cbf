// The rating badge: drawn from an outlet view model (lib/format.js outletView) inside an open shadow root, so
// the page's styles cannot reach it and tests can read it. Built with DOM calls and textContent only.
//
// Loaded as a classic script by the content script and by the popup; it defines `NewstiltBadge` on the
// global object. The badge is a list of sections, each placed in the always-visible summary or in the details
// that a click opens; a later section (the story's coverage, the article's own lean) is one more entry.
(function defineBadge(global) {
  "use strict";

  const HOST_TAG = "newstilt-badge";

  const STYLE = `
    :host { all: initial; }
    .card {
      position: fixed; right: 16px; bottom: 16px; z-index: 2147483647;
      box-sizing: border-box; width: 296px; max-width: calc(100vw - 32px);
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
    @media (prefers-color-scheme: dark) {
      .card { color: #e6e8eb; background: #1e2227; border-color: rgba(255, 255, 255, 0.12); }
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

  function externalLink(href, text, attributes = {}) {
    return el("a", { href, target: "_blank", rel: "noopener noreferrer", ...attributes }, text);
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
      el("dd", { "data-newstilt": "ownership", class: view.ownership ? null : "muted" }, view.ownership ?? "Unknown"),
    );
    return el(
      "div",
      { class: "rating" },
      el("div", { class: "bias" }, renderBiasBar(view), label),
      el("div", { class: "axis", "aria-hidden": "true" }, el("span", {}, "Left"), el("span", {}, "Right")),
      facts,
    );
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
      hide.addEventListener("click", (event) => {
        event.stopPropagation();
        options.onHideSite();
      });
      links.append(hide);
    }
    return links.childElementCount ? links : null;
  }

  /** The badge's sections, in order. `place` is "summary" (always shown) or "details" (shown on click). */
  const SECTIONS = [
    { id: "rating", place: "summary", render: renderRating },
    { id: "raters", place: "details", render: renderRaters },
    { id: "links", place: "details", render: renderLinks },
  ];

  function renderCard(view, options) {
    const card = el("section", {
      class: options.embedded ? "card embedded" : "card",
      "data-newstilt": "badge",
      "data-expanded": "false",
      "aria-label": `newstilt rating of ${view.name}`,
    });
    const details = el("div", { class: "details", id: "newstilt-details", "data-newstilt": "details", hidden: "" });
    const summary = el("div", { class: "summary" });
    const toggle = el(
      "button",
      { type: "button", class: "toggle", "aria-expanded": "false", "aria-controls": "newstilt-details",
        title: "Show the ratings behind this", "data-newstilt": "toggle" },
      el("span", { class: "mark", "aria-hidden": "true" }),
      el("span", { class: "name", "data-newstilt": "name" }, view.name),
      el("span", { class: "chevron", "aria-hidden": "true" }, "\u25BE"),
    );
    const head = el("div", { class: "head" }, toggle);
    if (options.onClose) {
      const close = el("button", { type: "button", class: "close", "data-newstilt": "close",
        "aria-label": "Close the newstilt badge", title: "Close" }, "\u00D7");
      close.addEventListener("click", (event) => {
        event.stopPropagation();
        options.onClose();
      });
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
    toggle.addEventListener("click", (event) => {
      event.stopPropagation();
      setExpanded(details.hidden);
    });
    if (!options.embedded) {
      // The whole card is the click target, except its links and buttons and the open details.
      card.addEventListener("click", (event) => {
        if (event.target.closest("a, button") || details.contains(event.target)) return;
        setExpanded(details.hidden);
      });
    }
    setExpanded(Boolean(options.expanded));
    return card;
  }

  let current = null;

  /** Remove the badge this script mounted, if any. */
  function unmount() {
    if (current) current.remove();
    current = null;
  }

  /**
   * Show the badge for a view: a `<newstilt-badge>` host with an open shadow root, appended to `container`
   * (the document's root element by default). Options: `embedded` (in flow, for the popup), `expanded`,
   * `onClose` and `onHideSite` callbacks (their controls appear only when given). Returns the host element.
   */
  function mount(view, options = {}) {
    const expanded = current?.shadowRoot?.querySelector('[data-newstilt="badge"]')?.getAttribute("data-expanded");
    unmount();
    const host = document.createElement(HOST_TAG);
    host.style.setProperty("all", "initial", "important");
    host.style.setProperty("display", "block", "important");
    const root = host.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = STYLE;
    root.append(style, renderCard(view, { ...options, expanded: options.expanded ?? expanded === "true" }));
    (options.container ?? document.documentElement).append(host);
    current = host;
    return host;
  }

  global.NewstiltBadge = Object.freeze({ HOST_TAG, SECTIONS, mount, unmount });
})(globalThis);
