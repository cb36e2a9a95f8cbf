// Highlighting the phrases that explain an article's lean, in the page itself. The model's explanation gives
// terms (and character spans in the server's extracted text, which do not map onto the page's DOM), so the
// terms are looked for again in the page's article text: whole words, any case, any run of spaces between
// the words of a phrase, one text node at a time.
//
// Each match is wrapped by splitting its text node and moving the matched part into a
// `<mark data-newstilt-highlight>` built with DOM calls and inline !important styles (so page CSS cannot hide
// it). Removing unwraps every mark and joins exactly the text nodes this script split back into the node they
// came from: the page's own adjacent text nodes (which frameworks hold on to) are left alone, so the page is
// as it was.
//
// Loaded as a classic script by the content script; it defines `NewstiltHighlight` on the global object and
// touches no document until called, so the node tests import it for `findMatches`.
(function defineHighlight(global) {
  "use strict";

  const ATTRIBUTE = "data-newstilt-highlight";
  const MAX_MARKS = 200;
  /** Text inside these is not the article's prose, or is the reader's own (inputs, editors), or is ours. */
  const SKIP = [
    "script", "style", "noscript", "template", "textarea", "input", "select", "option", "button", "svg", "math",
    "code", "pre", "[contenteditable]:not([contenteditable='false'])", "[aria-hidden='true']", "newstilt-badge",
    `mark[${ATTRIBUTE}]`,
  ].join(", ");
  /** Background and underline per side the term pulls towards. */
  const SIDE_STYLES = {
    left: ["rgba(37, 99, 235, 0.20)", "#2563eb"],
    center: ["rgba(107, 114, 128, 0.22)", "#6b7280"],
    right: ["rgba(220, 38, 38, 0.18)", "#dc2626"],
    other: ["rgba(234, 179, 8, 0.30)", "#ca8a04"],
  };
  const WORD = "[\\p{L}\\p{M}\\p{N}_]";

  function escapeRegExp(value) {
    return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  /** The phrase's words, lower-cased, or null for a term with no word in it. */
  function words(term) {
    if (typeof term !== "string") return null;
    const parts = term.toLowerCase().split(/\s+/).filter(Boolean);
    return parts.length ? parts : null;
  }

  /**
   * One regular expression for all terms (`[{term, side}]`): longest first, so a phrase wins over its own
   * first word; whole words only. `sides` maps each term's normalised form to its side. Null when no term.
   */
  function termPattern(terms) {
    const sides = new Map();
    for (const item of Array.isArray(terms) ? terms : []) {
      const parts = words(item?.term);
      if (!parts) continue;
      const key = parts.join(" ");
      if (!sides.has(key)) sides.set(key, typeof item.side === "string" ? item.side : "other");
    }
    if (!sides.size) return null;
    const alternatives = [...sides.keys()]
      .sort((a, b) => b.length - a.length)
      .map((key) => key.split(" ").map(escapeRegExp).join("\\s+"));
    const regexp = new RegExp(`(?<!${WORD})(?:${alternatives.join("|")})(?!${WORD})`, "giu");
    return { regexp, sides };
  }

  /**
   * Where the terms occur in a string: `[{start, end, term, side}]` in order, never overlapping, at most
   * `limit`. Pure; the node tests run it.
   */
  function findMatches(text, terms, limit = MAX_MARKS, pattern = termPattern(terms)) {
    if (!pattern || typeof text !== "string" || limit <= 0) return [];
    const found = [];
    for (const match of text.matchAll(pattern.regexp)) {
      const term = match[0].toLowerCase().split(/\s+/).join(" ");
      found.push({ start: match.index, end: match.index + match[0].length, term, side: pattern.sides.get(term) ?? "other" });
      if (found.length >= limit) break;
    }
    return found;
  }

  /** The element holding the article's text: its articleBody, the longest `<article>`, `<main>`, or the body. */
  function articleRoot(doc) {
    const body = doc.querySelector("[itemprop~='articleBody']");
    if (body) return body;
    const articles = [...doc.querySelectorAll("article")];
    if (articles.length) {
      return articles.reduce((best, node) => (node.textContent.length > best.textContent.length ? node : best));
    }
    return doc.querySelector("main, [role='main']") ?? doc.body;
  }

  function textNodes(root) {
    const doc = root.ownerDocument;
    const walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode(node) {
        const parent = node.parentElement;
        if (!parent || !node.data.trim() || parent.closest(SKIP) || parent.isContentEditable) {
          return NodeFilter.FILTER_REJECT;
        }
        return NodeFilter.FILTER_ACCEPT;
      },
    });
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    return nodes;
  }

  function markFor(doc, match) {
    const [background, line] = SIDE_STYLES[match.side] ?? SIDE_STYLES.other;
    const mark = doc.createElement("mark");
    mark.setAttribute(ATTRIBUTE, match.side);
    mark.title = `newstilt: \u201C${match.term}\u201D ${match.side === "other" ? "explains the lean" : `leans ${match.side}`}`;
    const styles = {
      all: "unset",
      display: "inline",
      "background-color": background,
      color: "inherit",
      "box-shadow": `inset 0 -2px 0 ${line}`,
      "border-radius": "2px",
      font: "inherit",
      "text-decoration": "inherit",
      visibility: "visible",
      opacity: "1",
    };
    for (const [name, value] of Object.entries(styles)) mark.style.setProperty(name, value, "important");
    return mark;
  }

  /** The text nodes split by the last `highlight`: each original node with the pieces cut from it, in order. */
  let splits = [];

  /** Remove every highlight this script made; returns how many marks were removed. */
  function remove(doc = document) {
    const marks = [...doc.querySelectorAll(`mark[${ATTRIBUTE}]`)];
    for (const mark of marks) {
      const parent = mark.parentNode;
      if (!parent) continue;
      while (mark.firstChild) parent.insertBefore(mark.firstChild, mark);
      mark.remove();
    }
    for (const { head, pieces } of splits) {
      for (const piece of pieces) {
        if (piece.parentNode && piece.parentNode === head.parentNode) {
          head.appendData(piece.data);
          piece.remove();
        }
      }
    }
    splits = [];
    return marks.length;
  }

  /**
   * Highlight the terms (`[{term, side}]`) in the article's text, at most MAX_MARKS of them; returns how many
   * marks were made. Any earlier highlights are removed first.
   */
  function highlight(terms, doc = document) {
    remove(doc);
    const pattern = termPattern(terms);
    const root = articleRoot(doc);
    if (!pattern || !root) return 0;
    let made = 0;
    for (const node of textNodes(root)) {
      if (made >= MAX_MARKS) break;
      const matches = findMatches(node.data, null, MAX_MARKS - made, pattern);
      if (!matches.length) continue;
      const pieces = [];
      // From the end, so the offsets of the earlier matches stay valid in the (shrinking) original node.
      for (const match of matches.reverse()) {
        const after = node.splitText(match.end);
        const word = node.splitText(match.start);
        const mark = markFor(doc, match);
        word.before(mark);
        mark.append(word);
        pieces.unshift(word, after);
      }
      splits.push({ head: node, pieces });
      made += matches.length;
    }
    return made;
  }

  global.NewstiltHighlight = Object.freeze({
    ATTRIBUTE, MAX_MARKS, termPattern, findMatches, articleRoot, highlight, remove,
  });
})(globalThis);
