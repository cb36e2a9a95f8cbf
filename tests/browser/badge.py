"""The badge's closed shadow root, read by the tests the way no page script can: over the DevTools protocol.

The extension attaches the badge's shadow root in closed mode, so `host.shadowRoot` is null for the page, and
Playwright's locators (which only cross open roots) do not find anything inside it either. The browser's owner
can: `DOM.getDocument` with `pierce` lists closed roots too, `DOM.resolveNode` hands one over as an object, and
`Runtime.callFunctionOn` runs a function with it. Nothing in the extension exists for the tests' sake.

`Badge(page).locator(css)` gives a `Part` with the parts of Playwright's Locator the tests use, and
`expect_badge(part)` the assertions, polling as Playwright's `expect` does. Clicks are real mouse clicks at the
element's centre (trusted input, as a reader's), screenshots are clips of the page at the card's box; both wait
until the badge is settled (drawn for the last time, ui/badge.js `data-settled`).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

HOST = "NEWSTILT-BADGE"
CARD = '[data-newstilt="badge"]'
SETTLED_CARD = '[data-newstilt="badge"][data-settled="true"]'
DEFAULT_TIMEOUT = 15_000  # ms, as the tests' browser context

# Run with the shadow root as `root`: the elements the steps select, as Playwright's chained locators do.
_SELECT = """function select(root, steps) {
    let nodes = [root];
    for (const [selector, nth] of steps) {
        const found = [];
        for (const node of nodes) {
            for (const match of node.querySelectorAll(selector)) if (!found.includes(match)) found.push(match);
        }
        if (nth === null) nodes = found;
        else {
            const picked = found[nth < 0 ? found.length + nth : nth];
            nodes = picked ? [picked] : [];
        }
    }
    return nodes;
}"""

_READ = f"""(root, {{steps, attribute}}) => {{
    {_SELECT}
    return select(root, steps).map((node) => {{
        const box = node.getBoundingClientRect();
        return {{
            text: node.textContent,
            attribute: attribute === null ? null : node.getAttribute(attribute),
            visible: box.width > 0 && box.height > 0 && getComputedStyle(node).visibility !== "hidden",
        }};
    }});
}}"""

_AIM = f"""(root, {{steps}}) => {{
    {_SELECT}
    const nodes = select(root, steps);
    if (nodes.length !== 1) return {{count: nodes.length}};
    const node = nodes[0];
    node.scrollIntoView({{block: "nearest", inline: "nearest"}});
    const box = node.getBoundingClientRect();
    const x = box.left + box.width / 2;
    const y = box.top + box.height / 2;
    const hit = root.elementFromPoint(x, y);
    return {{count: 1, x, y, visible: box.width > 0 && box.height > 0, hit: Boolean(hit) && node.contains(hit)}};
}}"""

_BOX = f"""(root, {{steps}}) => {{
    {_SELECT}
    const nodes = select(root, steps);
    if (nodes.length !== 1) return null;
    const box = nodes[0].getBoundingClientRect();
    return {{x: box.left, y: box.top, width: box.width, height: box.height}};
}}"""


def _normalize(text: str | None) -> str | None:
    """Whitespace as Playwright's to_have_text compares it: runs collapsed, ends trimmed."""
    return None if text is None else re.sub(r"\s+", " ", text.replace("\u200b", "")).strip()


class Badge:
    """The badge in one page (or extension page), through a DevTools session of its own."""

    def __init__(self, page):
        self.page = page
        self.cdp = page.context.new_cdp_session(page)

    def _root_node(self) -> dict | None:
        """The DOM.getDocument node of the last badge host's shadow root, or None when there is no badge."""
        document = self.cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
        found = None
        stack = [document]
        while stack:
            node = stack.pop()
            if node.get("nodeName") == HOST and node.get("shadowRoots"):
                found = node["shadowRoots"][0]
            # only the top document: the badge is never drawn inside frames
            stack.extend(reversed([*node.get("children", []), *node.get("shadowRoots", [])]))
        return found

    def root_mode(self) -> str | None:
        """"open" or "closed", as the browser reports the root; None without a badge."""
        node = self._root_node()
        return node.get("shadowRootType") if node else None

    def evaluate(self, function: str, arg=None):
        """`function(root, arg)` run against the badge's shadow root (in the page's main world); returns its
        JSON value. Raises LookupError when there is no badge."""
        node = self._root_node()
        if node is None:
            raise LookupError("no newstilt badge in the page")
        root = self.cdp.send("DOM.resolveNode", {"backendNodeId": node["backendNodeId"]})["object"]["objectId"]
        try:
            answer = self.cdp.send("Runtime.callFunctionOn", {
                "objectId": root,
                "functionDeclaration": f"function (arg) {{ return ({function})(this, arg); }}",
                "arguments": [{"value": arg}],
                "returnByValue": True,
                "awaitPromise": True,
            })
        finally:
            self.cdp.send("Runtime.releaseObject", {"objectId": root})
        if "exceptionDetails" in answer:
            raise RuntimeError(answer["exceptionDetails"].get("exception", {}).get("description", answer))
        return answer["result"].get("value")

    def locator(self, selector: str) -> Part:
        return Part(self, ((selector, None),))

    @property
    def card(self) -> Part:
        return self.locator(CARD)

    def settled(self, timeout: float = 30_000) -> Badge:
        """Wait until the badge is drawn for the last time for this page (see ui/badge.js data-settled)."""
        expect_badge(self.locator(SETTLED_CARD)).to_have_count(1, timeout=timeout)
        return self

    def screenshot(self, path: Path | str) -> None:
        """A picture of the card as it stands once settled (a clip of the page: the card is in a closed root)."""
        self.settled()
        box = self.evaluate(_BOX, {"steps": [[CARD, None]]})
        self.page.screenshot(path=path, clip=box, caret="initial")


class Part:
    """Elements inside the badge, selected by chained CSS selectors (each inside the previous ones' matches)."""

    def __init__(self, badge: Badge, steps: tuple[tuple[str, int | None], ...]):
        self.badge = badge
        self.steps = steps

    def __repr__(self) -> str:
        return " >> ".join(sel if nth is None else f"{sel} >> nth={nth}" for sel, nth in self.steps)

    def locator(self, selector: str) -> Part:
        return Part(self.badge, (*self.steps, (selector, None)))

    def nth(self, index: int) -> Part:
        *head, (selector, _) = self.steps
        return Part(self.badge, (*head, (selector, index)))

    def read(self, attribute: str | None = None) -> list[dict]:
        """Each element's text, `attribute` and visibility; [] when there is no badge."""
        try:
            return self.badge.evaluate(_READ, {"steps": [list(step) for step in self.steps], "attribute": attribute})
        except LookupError:
            return []

    def count(self) -> int:
        return len(self.read())

    def _one(self, attribute: str | None = None) -> dict:
        found = self.read(attribute)
        if len(found) != 1:
            raise AssertionError(f"{self!r} matches {len(found)} elements, not one")
        return found[0]

    def text_content(self) -> str:
        return self._one()["text"]

    def get_attribute(self, name: str) -> str | None:
        return self._one(name)["attribute"]

    def all_text_contents(self) -> list[str]:
        return [item["text"] for item in self.read()]

    def click(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """A real mouse click at the element's centre, once the badge is drawn for the last time (a badge drawn
        again between aiming and clicking moves its controls) and the element is the one there, uncovered."""
        self.badge.settled()
        deadline = time.monotonic() + timeout / 1000
        while True:
            try:
                aim = self.badge.evaluate(_AIM, {"steps": [list(step) for step in self.steps]})
            except LookupError:
                aim = {"count": 0}
            if aim["count"] == 1 and aim["visible"] and aim["hit"]:
                self.badge.page.mouse.click(aim["x"], aim["y"])
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"could not click {self!r}: {aim}")
            time.sleep(0.05)


class expect_badge:  # noqa: N801 - reads like Playwright's expect()
    """Polling assertions on a Part, named as Playwright's LocatorAssertions."""

    def __init__(self, part: Part):
        self.part = part

    def _wait(self, attribute: str | None, check, describe: str, timeout: float | None) -> None:
        deadline = time.monotonic() + (timeout or DEFAULT_TIMEOUT) / 1000
        while True:
            found = self.part.read(attribute)
            if check(found):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.part!r} {describe}; found {found}")
            time.sleep(0.05)

    def to_have_count(self, count: int, timeout: float | None = None) -> None:
        self._wait(None, lambda found: len(found) == count, f"should match {count} elements", timeout)

    def to_be_visible(self, timeout: float | None = None) -> None:
        self._wait(None, lambda found: len(found) == 1 and found[0]["visible"], "should be visible", timeout)

    def to_be_hidden(self, timeout: float | None = None) -> None:
        self._wait(None, lambda found: all(not item["visible"] for item in found), "should be hidden", timeout)

    def to_have_text(self, expected: str | list[str], timeout: float | None = None) -> None:
        if isinstance(expected, str):
            want = _normalize(expected)
            self._wait(None, lambda found: len(found) == 1 and _normalize(found[0]["text"]) == want,
                       f"should have the text {want!r}", timeout)
        else:
            wants = [_normalize(text) for text in expected]
            self._wait(None, lambda found: [_normalize(item["text"]) for item in found] == wants,
                       f"should have the texts {wants!r}", timeout)

    def to_contain_text(self, expected: str, timeout: float | None = None) -> None:
        want = _normalize(expected)
        self._wait(None, lambda found: len(found) == 1 and want in _normalize(found[0]["text"]),
                   f"should contain the text {want!r}", timeout)

    def to_have_attribute(self, name: str, value: str, timeout: float | None = None) -> None:
        self._wait(name, lambda found: len(found) == 1 and found[0]["attribute"] == value,
                   f"should have {name}={value!r}", timeout)

    def not_to_have_attribute(self, name: str, value: str, timeout: float | None = None) -> None:
        self._wait(name, lambda found: len(found) == 1 and found[0]["attribute"] != value,
                   f"should not have {name}={value!r}", timeout)
