"""The extension in a real Chromium, against the real newstilt service.

Debian's /usr/bin/chromium loads the unpacked extension; the service runs as a subprocess on 127.0.0.1 with
the bundled ratings plus two small rater files (so outlets have several raters) and a small store of articles
bulk-imported from tests/resources/browser/coverage-articles.jsonl (one story told by six outlets across the
spectrum, one told mostly on the right, two on other events) and panel-articles.jsonl (a story told by NPR and
Fox News, which a page of The Washington Post joins without being stored); news pages are served at their real https
addresses by request routing, from tests/resources/browser/. Expected ratings, coverage and lean are asked of
the server's own endpoints (lookup, analyze), never written down here. The badge's shadow root is closed, so
assertions read it over the DevTools protocol (tests/browser/badge.py), which no page script can use.
"""

from __future__ import annotations

import html
import http.client
import json
import math
import re
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from .badge import Badge, expect_badge
from .service import NEWSTILT, REPO, running_service

CHROMIUM = Path("/usr/bin/chromium")
EXTENSION = REPO / "extension"
RESOURCES = REPO / "tests" / "resources" / "browser"
ARTICLE_HTML = (RESOURCES / "article.html").read_text(encoding="utf-8")
STORE_FILE = RESOURCES / "coverage-articles.jsonl"
STORED = {record["id"]: record for record in map(json.loads, STORE_FILE.read_text(encoding="utf-8").splitlines())}
NEW_PAGE = json.loads((RESOURCES / "coverage-new-page.json").read_text(encoding="utf-8"))
# A story of two rated outlets on another event (NPR, Fox News), and a page of a third (The Washington Post) that
# the server matches to it without storing it: the reader's own outlet makes the third source.
PANEL_FILE = RESOURCES / "panel-articles.jsonl"
PANEL_STORED = [json.loads(line) for line in PANEL_FILE.read_text(encoding="utf-8").splitlines()]
PANEL_PAGE = json.loads((RESOURCES / "panel-new-page.json").read_text(encoding="utf-8"))
STORY_TEMPLATE = string.Template((RESOURCES / "story-article.html").read_text(encoding="utf-8"))
# Article pages of rated outlets in German, Japanese (served as Shift_JIS) and Arabic (right to left).
FOREIGN = json.loads((RESOURCES / "foreign-articles.json").read_text(encoding="utf-8"))
# Another write-up of the mine story, on a site the server does not rate (for "Analyze this page").
UNRATED_MINE_PAGE = "https://www.example.org/news/2026/10/14/nevada-lithium-mine-approved"
# A rated outlet's page whose own script tries to work the badge.
HOSTILE_PAGE = "https://www.infowars.com/posts/the-page-clicks-the-badge"
HOSTILE_SCRIPT = """<script>
  // Every 100 ms: click whatever of the newstilt badge this page can reach, by every means a page has.
  window.attempts = [];
  setInterval(() => {
    const host = document.querySelector("newstilt-badge");
    if (!host) return;
    const root = host.shadowRoot;
    window.attempts.push(root ? "open" : "closed");
    const click = (node) => {
      node.click?.();
      node.dispatchEvent(new MouseEvent("click", {bubbles: true, composed: true, cancelable: true}));
    };
    if (root) {
      const hide = root.querySelector('[data-newstilt="hide-site"]');
      if (hide) click(hide);
      root.querySelectorAll("button, [data-newstilt]").forEach(click);
    }
    click(host);
    const under = document.elementFromPoint(innerWidth - 60, innerHeight - 40);
    if (under) click(under);
  }, 100);
</script>"""

NYT_ARTICLE = "https://www.nytimes.com/2026/11/24/us/politics/senate-stopgap-shutdown.html"
UNRATED_PAGE = "https://www.example.org/news/2026/11/24/local-council-budget"
FORGED_PAGE = "https://unrated-example.test/2026/11/24/senate-stopgap-shutdown.html"
PLATFORM_PAGE = "https://someone.substack.com/p/why-the-stopgap-bill-matters"
PATH_SCOPED_PAGE = "https://www.al.com/birmingham/2026/11/city-council-approves-budget.html"
NOT_PATH_SCOPED_PAGE = "https://www.al.com/birminghamx/2026/11/story.html"
# Questionable sources (issue #14), and local stations of the large broadcast groups.
QUESTIONABLE_PAGES = {
    "conspiracy": "https://www.infowars.com/posts/senate-passes-stopgap-bill",
    "satire": "https://www.theonion.com/senate-passes-stopgap-bill-to-avert-shutdown-1851234567",
    "state-propaganda": "https://www.rt.com/news/612345-us-senate-stopgap-bill/",
}
OWNED_PAGES = {
    "sinclair": "https://wjla.com/news/nation-world/senate-passes-stopgap-bill-shutdown",
    "nexstar": "https://ktla.com/news/politics/senate-passes-stopgap-bill-to-avert-shutdown/",
}
ROUTED_HOSTS = (
    "www.nytimes.com",
    "www.example.org",
    "unrated-example.test",
    "someone.substack.com",
    "www.al.com",
    *(urllib.parse.urlsplit(url).hostname for url in (*QUESTIONABLE_PAGES.values(), *OWNED_PAGES.values())),
)

DEFAULT_TITLE = "newstilt"
UNRATED_TITLE = "newstilt: no rating for this site"
COVERAGE_LINE = '[data-newstilt="coverage-summary"]'
GROUPS = ("left", "center", "right", "unrated")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"
    ),
]


# -- the service -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real service on a free port; yields its base URL (ending in '/')."""
    data_dir = tmp_path_factory.mktemp("server-data")
    for fmt, name in (("mbfc", "mbfc-ratings.json"), ("allsides", "allsides-ratings.csv")):
        args = ["ratings", "import", "--data-dir", str(data_dir), "--format", fmt, str(RESOURCES / name)]
        subprocess.run([*NEWSTILT, *args], cwd=REPO, check=True, capture_output=True, text=True, timeout=60)
    for store_file in (STORE_FILE, PANEL_FILE):
        subprocess.run([*NEWSTILT, "import", str(store_file), "--data-dir", str(data_dir), "--no-progress"],
                       cwd=REPO, check=True, capture_output=True, text=True, timeout=120)
    model_path = data_dir / "models" / "test-model.joblib"
    _train_tiny_model(model_path)
    with running_service(data_dir, {"NEWSTILT_MODEL_PATH": str(model_path)}) as base:
        yield base


TRAIN_TINY_MODEL = """import sys
from newstilt.classifier import read_jsonl, save, train
save(train(read_jsonl(sys.argv[1]), progress=False), sys.argv[2])
"""


def _train_tiny_model(path: Path) -> None:
    """A tiny scorer trained on the fixture's twelve articles with the classifier's API, where the server loads
    its model from (in a subprocess: scikit-learn stays out of the test process and its warning filters)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", TRAIN_TINY_MODEL, str(STORE_FILE), str(path)], cwd=REPO, check=True,
                   capture_output=True, text=True, timeout=120)


def api(server: str, path: str, **params) -> dict | None:
    """GET a JSON endpoint of the service; None for a 404."""
    url = server + path.lstrip("/") + (f"?{urllib.parse.urlencode(params)}" if params else "")
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 404:
            return None
        raise


def analyze(server: str, url: str, page_html: str | None = None) -> dict:
    """The server's own analysis of a page, as the extension asks for it."""
    body = json.dumps({"url": url, **({"html": page_html} if page_html else {})}).encode()
    request = urllib.request.Request(server + "api/v1/analyze", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def label_text(label: str) -> str:
    """The badge's wording of a scale label: "lean-left" -> "Lean Left"."""
    return " ".join(word.capitalize() for word in label.split("-"))


def percent_text(percent: float) -> str:
    """The badge's rounding of a share: halves up, "<1%" for a sliver."""
    return "<1%" if 0 < percent < 0.5 else f"{math.floor(percent + 0.5)}%"


def story_page(title: str, text: str, site: str, author: str, published: str) -> str:
    """A news article page for some prose, as the routed hosts serve it."""
    paragraphs = "\n".join(f"      <p>{html.escape(part)}</p>" for part in text.split("\n\n"))
    fields = {"title": title, "site": site, "author": author, "published": published}
    return STORY_TEMPLATE.substitute({k: html.escape(v) for k, v in fields.items()}, paragraphs=paragraphs)


def foreign_page(spec: dict) -> str:
    """A news article page in another language, as its outlet would serve it (before encoding)."""
    paragraphs = "\n".join(f"      <p>{html.escape(part)}</p>" for part in spec["paragraphs"])
    title, site = html.escape(spec["title"]), html.escape(spec["site"])
    return f"""<!doctype html>
<html lang="{spec['lang']}" dir="{spec['dir']}">
<head>
  <meta http-equiv="Content-Type" content="text/html; charset={spec['charset']}">
  <title>{title} | {site}</title>
  <meta property="og:type" content="article">
  <meta property="og:site_name" content="{site}">
  <meta property="article:published_time" content="2026-11-24T17:42:00+00:00">
</head>
<body>
  <header>{site}</header>
  <main>
    <article>
      <h1>{title}</h1>
      <p><time datetime="2026-11-24T17:42:00+00:00">{html.escape(spec['date'])}</time></p>
{paragraphs}
    </article>
  </main>
</body>
</html>
"""


def page_for(url: str) -> str:
    """The HTML served at one of the story URLs (stored articles, the new write-up, the unrated copy)."""
    for record in STORED.values():
        if record["url"] == url:
            return story_page(record["title"], record["text"], record["source"], record["authors"],
                              record["published"])
    if url == NEW_PAGE["url"]:
        return story_page(NEW_PAGE["title"], NEW_PAGE["text"], NEW_PAGE["source"], "Leah Brandt",
                          NEW_PAGE["published"])
    if url == PANEL_PAGE["url"]:
        return story_page(PANEL_PAGE["title"], PANEL_PAGE["text"], PANEL_PAGE["source"], PANEL_PAGE["authors"],
                          PANEL_PAGE["published"])
    if url == UNRATED_MINE_PAGE:
        return story_page("Lithium mine near Fish Lake Valley approved; tribe plans lawsuit", NEW_PAGE["text"],
                          "The Example Gazette", "Staff", NEW_PAGE["published"])
    raise KeyError(url)


# -- the browser -------------------------------------------------------------------------------------


def _serve(body: str, charset: str = "utf-8"):
    """A route handler answering with an HTML page, encoded in `charset`."""
    data = body.encode(charset)
    return lambda route: route.fulfill(status=200, content_type=f"text/html; charset={charset}", body=data)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A persistent Chromium context with the unpacked extension loaded, and its service worker."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            viewport={"width": 1100, "height": 760},
            args=[
                "--no-sandbox",
                f"--disable-extensions-except={EXTENSION}",
                f"--load-extension={EXTENSION}",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-gpu",
            ],
        )
        context.set_default_timeout(15_000)
        try:
            worker = (
                context.service_workers[0]
                if context.service_workers
                else context.wait_for_event("serviceworker")
            )
            # Nothing leaves the machine: a web address not routed below (nor on 127.0.0.1) is refused.
            context.route(
                lambda url: url.startswith(("http:", "https:")) and urllib.parse.urlsplit(url).hostname != "127.0.0.1",
                lambda route: route.abort(),
            )
            for host in ROUTED_HOSTS:
                context.route(
                    f"https://{host}/**",
                    lambda route: route.fulfill(
                        status=200, content_type="text/html; charset=utf-8", body=ARTICLE_HTML
                    ),
                )
            # Routed later, so they win over the host-wide routes above.
            context.route(HOSTILE_PAGE, _serve(ARTICLE_HTML.replace("</body>", HOSTILE_SCRIPT + "</body>")))
            for spec in FOREIGN.values():
                context.route(f"https://{urllib.parse.urlsplit(spec['url']).hostname}/**",
                              _serve(foreign_page(spec), spec["charset"]))
            for url in [*(record["url"] for record in STORED.values()), NEW_PAGE["url"], UNRATED_MINE_PAGE,
                        PANEL_PAGE["url"]]:
                context.route(lambda candidate, url=url: candidate == url, _serve(page_for(url)))
            yield context, worker
        finally:
            context.close()


@pytest.fixture(scope="module")
def extension(server, browser):
    """The extension pointed at the test service through its options page, with the table downloaded.

    `server` comes first so that it is torn down last: the browser's idle keep-alive connections would
    otherwise hold up the service's shutdown.
    """
    context, worker = browser
    extension_id = worker.url.split("/")[2]
    base = f"chrome-extension://{extension_id}/"
    page = context.new_page()
    page.goto(base + "pages/options.html")
    page.fill("#server-url", server)
    page.click("#save")
    expect(page.locator("#save-status")).to_have_text("Saved; ratings downloaded.")
    expect(page.locator("#table-status")).to_have_attribute("data-server", server.rstrip("/"))
    page.close()
    meta = worker.evaluate("chrome.storage.local.get('meta').then(({meta}) => meta)")
    assert meta["serverUrl"] == server.rstrip("/")
    assert meta["version"] == api(server, "api/v1/sources")["version"]
    return {"context": context, "worker": worker, "base": base, "server": server}


def tab_ids(worker) -> set[int]:
    return set(worker.evaluate("chrome.tabs.query({}).then((tabs) => tabs.map((tab) => tab.id))"))


def open_tab(ext):
    """A new page and its tab id (the extension sees tab ids but, without the tabs permission, no URLs)."""
    before = tab_ids(ext["worker"])
    page = ext["context"].new_page()
    (tab_id,) = tab_ids(ext["worker"]) - before
    return page, tab_id


def toolbar(ext, tab_id: int) -> dict:
    return ext["worker"].evaluate(
        """async (tabId) => ({
            text: await chrome.action.getBadgeText({tabId}),
            title: await chrome.action.getTitle({tabId}),
        })""",
        tab_id,
    )


def wait_for_lookup(ext, tab_id: int, timeout: float = 10.0) -> dict:
    """Poll until the worker has answered this tab's lookup (it sets the tab's own title), then return it."""
    deadline = time.monotonic() + timeout
    while True:
        state = toolbar(ext, tab_id)
        # the worker sets text and title together but they land one after the other: wait for both
        if state["title"] != DEFAULT_TITLE and (state["text"] or state["title"] == UNRATED_TITLE):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"the extension never looked tab {tab_id} up")
        time.sleep(0.05)


def badge_hosts(page) -> int:
    return page.evaluate("document.querySelectorAll('newstilt-badge').length")


# -- the tests ---------------------------------------------------------------------------------------


def test_badge_shows_the_servers_rating(extension, tmp_path):
    expected = api(extension["server"], "api/v1/sources/lookup", url=NYT_ARTICLE)["outlet"]
    page, tab_id = open_tab(extension)
    page.goto(NYT_ARTICLE)
    badge = Badge(page).settled()

    # The page sees a host element and nothing in it: the root is closed.
    host = page.evaluate("""() => {
        const host = document.querySelector('newstilt-badge');
        return {count: document.querySelectorAll('newstilt-badge').length, shadowRoot: host.shadowRoot,
                inLightDom: document.querySelectorAll('[data-newstilt]').length};
    }""")
    assert host == {"count": 1, "shadowRoot": None, "inLightDom": 0}
    assert badge.root_mode() == "closed"

    scale = api(extension["server"], "api/v1/sources")["scale"]["bias"]
    step = scale.index(expected["bias"]["label"]) - len(scale) // 2
    expect_badge(badge.locator('[data-newstilt="name"]')).to_have_text(expected["name"])
    expect_badge(badge.locator('[data-newstilt="bias-label"]')).to_have_text(label_text(expected["bias"]["label"]))
    expect_badge(badge.locator('[data-newstilt="bias-label"]')).to_have_attribute(
        "data-label", expected["bias"]["label"]
    )
    expect_badge(badge.locator('[data-newstilt="factuality"]')).to_have_text(label_text(expected["factuality"]))
    expect_badge(badge.locator('[data-newstilt="factuality"]')).to_have_attribute(
        "data-level", expected["factuality"]
    )
    expect_badge(badge.locator('[data-newstilt="ownership"]')).to_have_text(label_text(expected["ownership"]))
    expect_badge(badge.locator('[data-newstilt="bias-bar"]')).to_have_attribute("data-step", str(step))
    expect_badge(badge.locator('[data-newstilt="bias-bar"] [data-marked="true"]')).to_have_attribute(
        "data-cell-step", str(step)
    )
    expect_badge(badge.locator('[data-newstilt="details"]')).to_be_hidden()
    collapsed = tmp_path / "badge-collapsed.png"
    badge.screenshot(collapsed)
    page.screenshot(path=tmp_path / "page-collapsed.png")

    badge.locator('[data-newstilt="bias-label"]').click()  # anywhere on the card opens the details
    details = badge.locator('[data-newstilt="details"]')
    expect_badge(details).to_be_visible()
    rows = badge.locator('[data-newstilt="rater"]')
    expect_badge(rows).to_have_count(len(expected["raters"]))
    assert len(expected["raters"]) >= 2
    for i, rater in enumerate(expected["raters"]):
        row = rows.nth(i)
        expect_badge(row.locator('[data-newstilt="rater-name"]')).to_have_text(rater["name"])
        bias = label_text(rater["bias"]["label"]) if rater["bias"] else "Bias not rated"
        expect_badge(row.locator('[data-newstilt="rater-bias"]')).to_have_text(bias)
        if rater["url"]:
            expect_badge(row.locator("a")).to_have_attribute("href", rater["url"])
        else:
            expect_badge(row.locator("a")).to_have_count(0)
    expect_badge(badge.locator('[data-newstilt="methodology"]')).to_have_attribute(
        "href", extension["server"] + "methodology"
    )
    expanded = tmp_path / "badge-expanded.png"
    badge.screenshot(expanded)
    page.screenshot(path=tmp_path / "page-expanded.png")
    print(f"\nbadge screenshots: {collapsed} {expanded}")

    state = toolbar(extension, tab_id)
    assert state["text"] == {-3: "FL", -2: "L", -1: "LL", 0: "C", 1: "LR", 2: "R", 3: "FR"}[step]
    assert state["title"].startswith(f"{expected['name']}: {label_text(expected['bias']['label'])}")

    badge.locator('[data-newstilt="close"]').click()
    assert badge_hosts(page) == 0
    page.close()


def test_toolbar_is_cleared_when_the_tab_moves_to_an_unrated_site(extension):
    page, tab_id = open_tab(extension)
    page.goto(NYT_ARTICLE)
    assert wait_for_lookup(extension, tab_id)["text"]
    page.goto(UNRATED_PAGE)
    assert wait_for_lookup(extension, tab_id) == {"text": "", "title": UNRATED_TITLE}
    page.close()


@pytest.mark.parametrize(
    "url",
    [UNRATED_PAGE, FORGED_PAGE, PLATFORM_PAGE],
    ids=["unrated", "forged-canonical", "platform-subdomain"],
)
def test_no_badge_where_the_server_has_no_rating(extension, url):
    assert api(extension["server"], "api/v1/sources/lookup", url=url) is None
    page, tab_id = open_tab(extension)
    page.goto(url)
    assert page.evaluate("document.querySelector('link[rel=canonical]').href").startswith(
        "https://www.nytimes.com/"
    )
    assert wait_for_lookup(extension, tab_id) == {"text": "", "title": UNRATED_TITLE}
    assert badge_hosts(page) == 0
    page.close()


@pytest.mark.parametrize(
    "url", [PATH_SCOPED_PAGE, NOT_PATH_SCOPED_PAGE], ids=["in-scope", "segment-prefix-only"]
)
def test_path_scoped_outlets(extension, url):
    expected = api(extension["server"], "api/v1/sources/lookup", url=url)
    page, tab_id = open_tab(extension)
    page.goto(url)
    wait_for_lookup(extension, tab_id)
    if expected is None:
        assert badge_hosts(page) == 0
    else:
        expect_badge(Badge(page).locator('[data-newstilt="name"]')).to_have_text(expected["outlet"]["name"])
    page.close()


def test_same_document_navigation_into_a_path_scoped_outlet(extension):
    """A single-page site moving by pushState from /birminghamx/ into /birmingham/ is looked up again."""
    before = api(extension["server"], "api/v1/sources/lookup", url=NOT_PATH_SCOPED_PAGE)
    after = api(extension["server"], "api/v1/sources/lookup", url=PATH_SCOPED_PAGE)
    assert after and (before is None or before["outlet"]["name"] != after["outlet"]["name"])
    page, tab_id = open_tab(extension)
    page.goto(NOT_PATH_SCOPED_PAGE)
    wait_for_lookup(extension, tab_id)
    page.evaluate("(path) => history.pushState({}, '', path)", urllib.parse.urlsplit(PATH_SCOPED_PAGE).path)
    expect_badge(Badge(page).locator('[data-newstilt="name"]')).to_have_text(after["outlet"]["name"])
    page.close()


class FetchSpy:
    """Records the worker's fetches (method and URL) while installed."""

    def __init__(self, worker):
        self.worker = worker

    def __enter__(self):
        self.worker.evaluate("""() => {
            const real = globalThis.fetch;
            globalThis.newstiltRealFetch = real;
            globalThis.newstiltTestFetches = [];
            globalThis.fetch = (resource, init) => {
                globalThis.newstiltTestFetches.push(`${init?.method ?? "GET"} ${resource.url ?? resource}`);
                return real(resource, init);
            };
        }""")
        return self

    def fetches(self) -> list[str]:
        return self.worker.evaluate("globalThis.newstiltTestFetches")

    def __exit__(self, *exc):
        self.worker.evaluate("() => { globalThis.fetch = globalThis.newstiltRealFetch; }")


def clear_analysis_cache(ext) -> None:
    ext["worker"].evaluate("(chrome.storage.session ?? chrome.storage.local).clear()")


def set_coverage(ext, enabled: bool) -> None:
    """Switch "Show coverage on rated news sites" in the options page, as a reader would."""
    options = ext["context"].new_page()
    options.goto(ext["base"] + "pages/options.html")
    expect(options.locator("#server-url")).to_have_value(ext["server"].rstrip("/"))
    options.set_checked("#coverage-enabled", enabled)
    options.click("#save")
    expect(options.locator("#save-status")).to_have_text("Saved; ratings downloaded.")
    options.close()


def wait_for_coverage(badge: Badge) -> str:
    """Wait until the badge is drawn for the last time (the server's answer has arrived: it is drawn again then,
    so reading or photographing the first one races with its replacement); returns the coverage line's state."""
    badge.settled()
    line = badge.locator(COVERAGE_LINE)
    expect_badge(line).to_be_visible()
    return line.get_attribute("data-state")


class HeldAnalyses:
    """Holds the worker's requests to /api/v1/analyze until released, to see the badge while it waits."""

    def __init__(self, worker):
        self.worker = worker

    def __enter__(self):
        self.worker.evaluate("""() => {
            const real = globalThis.fetch;
            globalThis.newstiltRealFetch = real;
            globalThis.newstiltHeld = new Promise((resolve) => { globalThis.newstiltRelease = resolve; });
            globalThis.fetch = async (resource, init) => {
                if (String(resource.url ?? resource).endsWith("/api/v1/analyze")) await globalThis.newstiltHeld;
                return real(resource, init);
            };
        }""")
        return self

    def release(self):
        self.worker.evaluate("() => globalThis.newstiltRelease()")

    def __exit__(self, *exc):
        self.worker.evaluate("() => { globalThis.newstiltRelease(); globalThis.fetch = globalThis.newstiltRealFetch; }")


def test_the_badge_says_when_it_is_drawn_for_the_last_time(extension, tmp_path):
    """The badge is drawn again when the server's answer arrives: until then it says it is not settled, so that
    tests (and screenshots) wait for the final one instead of catching the one about to be replaced."""
    url = STORED["mine-fox"]["url"]
    clear_analysis_cache(extension)
    page, _ = open_tab(extension)
    badge = Badge(page)
    with HeldAnalyses(extension["worker"]) as held:
        page.goto(url)
        expect_badge(badge.locator(COVERAGE_LINE)).to_have_attribute("data-state", "loading")
        expect_badge(badge.card).to_have_attribute("data-settled", "false")
        held.release()
        badge.settled()
    expect_badge(badge.locator(COVERAGE_LINE)).not_to_have_attribute("data-state", "loading")
    badge.screenshot(tmp_path / "settled.png")
    page.close()


def test_only_rated_article_pages_are_sent_and_only_for_analysis(extension):
    """Outlet lookups stay in the browser. An article on a rated site goes to /api/v1/analyze, once (reopening it
    is answered from the cache); unrated pages and a site's home page never are; with coverage off, nothing is."""
    analyze_url = "POST " + extension["server"] + "api/v1/analyze"
    home = "https://www.nytimes.com/"
    # Addresses no other test visits: an earlier test's analysis still on its way could fill the cache.
    article, scoped = NYT_ARTICLE + "?spy=1", PATH_SCOPED_PAGE + "?spy=1"
    with FetchSpy(extension["worker"]) as spy:
        page, tab_id = open_tab(extension)
        badge = Badge(page)
        for url, coverage in ((article, True), (UNRATED_PAGE, False), (home, False), (scoped, True),
                              (article, True)):
            page.goto(url)
            wait_for_lookup(extension, tab_id)
            if coverage:
                wait_for_coverage(badge)
            elif url == home:
                expect_badge(badge.card).to_be_visible()
                expect_badge(badge.locator(COVERAGE_LINE)).to_have_count(0)
        assert spy.fetches() == [analyze_url, analyze_url], "one per article page; the second visit is cached"

        set_coverage(extension, False)
        try:
            clear_analysis_cache(extension)
            for url in (article, scoped):
                page.goto(url)
                wait_for_lookup(extension, tab_id)
                expect_badge(badge.card).to_be_visible()
                expect_badge(badge.locator(COVERAGE_LINE)).to_have_count(0)
            table_download = "GET " + extension["server"] + "api/v1/sources"  # saving the options does that
            assert [fetch for fetch in spy.fetches() if fetch != table_download] == [analyze_url, analyze_url]
        finally:
            set_coverage(extension, True)
    page.close()


def test_hiding_a_site_and_showing_it_again(extension):
    page, tab_id = open_tab(extension)
    badge = Badge(page)
    page.goto(NYT_ARTICLE)
    badge.locator('[data-newstilt="toggle"]').click()
    badge.locator('[data-newstilt="hide-site"]').click()
    expect(page.locator("newstilt-badge")).to_have_count(0)
    page.reload()
    assert wait_for_lookup(extension, tab_id)["text"], "the toolbar still shows the rating"
    assert badge_hosts(page) == 0

    options = extension["context"].new_page()
    options.goto(extension["base"] + "pages/options.html")
    site = options.locator('#hidden-sites li[data-site="nytimes.com"]')
    expect(site).to_be_visible()
    site.get_by_role("button").click()
    expect(site).to_have_count(0)
    expect(options.locator("#hidden-empty")).to_be_visible()
    # The open article notices the change by itself.
    expect_badge(badge.card).to_be_visible()
    options.close()
    page.close()


def hidden_sites(ext) -> list[str]:
    return ext["worker"].evaluate("chrome.storage.local.get('settings').then(({settings}) => settings.hiddenSites)")


def test_a_hostile_page_cannot_work_the_badge(extension):
    """A page's script cannot reach into the badge (the shadow root is closed), and clicks that are not the
    reader's do nothing even on the badge's own buttons: nothing is stored, the badge stays, nothing opens."""
    assert api(extension["server"], "api/v1/sources/lookup", url=HOSTILE_PAGE), "the hostile page's outlet is rated"
    assert hidden_sites(extension) == []
    context = extension["context"]
    page, _ = open_tab(extension)
    badge = Badge(page)
    try:
        page.goto(HOSTILE_PAGE)
        badge.settled()
        page.wait_for_function("window.attempts.length >= 10")
        assert set(page.evaluate("window.attempts")) == {"closed"}, "the page never sees into the badge"

        # A page that got hold of the badge's controls anyway (were the root open): untrusted clicks on each.
        pages_before = len(context.pages)
        clicked = badge.evaluate("""(root) => {
            const buttons = [...root.querySelectorAll("button")];
            for (const button of buttons) {
                button.click();
                button.dispatchEvent(new MouseEvent("click", {bubbles: true, composed: true, cancelable: true}));
            }
            root.querySelector('[data-newstilt="badge"]').click();
            return buttons.map((button) => button.dataset.newstilt);
        }""")
        assert {"toggle", "close", "hide-site"} <= set(clicked)
        page.wait_for_timeout(500)  # what a click would have set off (a message, a storage change) has happened

        assert hidden_sites(extension) == []
        expect_badge(badge.card).to_be_visible()
        expect_badge(badge.card).to_have_attribute("data-expanded", "false")
        assert page.locator(MARKS).count() == 0
        assert len(context.pages) == pages_before, "no options page was opened"
        page.reload()
        expect_badge(Badge(page).card).to_be_visible()

        # The reader's own click still works.
        badge.locator('[data-newstilt="toggle"]').click()
        expect_badge(badge.card).to_have_attribute("data-expanded", "true")
    finally:
        extension["worker"].evaluate("""chrome.storage.local.get('settings').then(({settings}) =>
            chrome.storage.local.set({settings: {...settings, hiddenSites: []}}))""")
        page.close()


def test_badge_switch_in_the_options(extension):
    page, _ = open_tab(extension)
    badge = Badge(page)
    page.goto(NYT_ARTICLE)
    expect_badge(badge.card).to_be_visible()
    options = extension["context"].new_page()
    options.goto(extension["base"] + "pages/options.html")
    try:
        options.uncheck("#badge-enabled")
        options.click("#save")
        expect(options.locator("#save-status")).to_have_text("Saved; ratings downloaded.")
        expect(page.locator("newstilt-badge")).to_have_count(0)
    finally:
        options.check("#badge-enabled")
        options.click("#save")
        expect(options.locator("#save-status")).to_have_text("Saved; ratings downloaded.")
    expect_badge(badge.card).to_be_visible()
    options.close()
    page.close()


def test_options_refuse_a_bad_server_url_and_refresh_conditionally(extension):
    worker = extension["worker"]
    before = worker.evaluate("chrome.storage.local.get('meta').then(({meta}) => meta)")
    options = extension["context"].new_page()
    options.goto(extension["base"] + "pages/options.html")
    options.fill("#server-url", "ftp://ratings.example.org")
    options.click("#save")
    expect(options.locator("#server-error")).to_have_text(
        "The server address must start with http:// or https://."
    )
    settings = worker.evaluate("chrome.storage.local.get('settings').then(({settings}) => settings)")
    assert settings["serverUrl"] == extension["server"].rstrip("/")

    options.click("#refresh")
    expect(options.locator("#table-status")).not_to_have_attribute("data-checked-at", before["checkedAt"])
    expect(options.locator("#table-state")).to_have_text("Ratings up to date")
    after = worker.evaluate("chrome.storage.local.get('meta').then(({meta}) => meta)")
    assert after["fetchedAt"] == before["fetchedAt"], "an unchanged table is not downloaded again (ETag, 304)"
    assert after["checkedAt"] > before["checkedAt"]
    options.close()


def test_popup_shows_the_server_status(extension):
    count = len(api(extension["server"], "api/v1/sources")["outlets"])
    popup = extension["context"].new_page()
    popup.goto(extension["base"] + "pages/popup.html")
    expect(popup.locator("#server-state")).to_have_attribute("data-state", "ok")
    expect(popup.locator("#server-url")).to_have_text(extension["server"].rstrip("/"))
    expect(popup.locator("#table-status")).to_contain_text(f"{count:,} outlets")
    expect(popup.locator("#badge-enabled")).to_be_checked()
    popup.close()


def test_matching_agrees_with_the_server(extension):
    """The extension's local matcher and the server's lookup pick the same key for a spread of URLs."""
    server = extension["server"]
    table = api(server, "api/v1/sources")
    keys = sorted(key for outlet in table["outlets"] for key in (outlet["domain"], *outlet["aliases"]))
    sample = [key for i, key in enumerate(keys) if "/" in key or i % 6 == 0]
    urls = ["https://www.example.org/", "http://127.0.0.1:8470/", "https://substack.com/"]
    for key in sample:
        host, _, path = key.partition("/")
        urls += [
            f"https://www.{host}/{path}/2026/story.html" if path else f"https://www.{host}/2026/story.html",
            f"https://news.{host.upper()}./{path.upper()}" if path else f"https://news.{host}./",
            f"https://m.{host}/{path}x/" if path else f"https://amp.{host}:8443/a?b#c",
        ]
    for platform in table["platforms"]:
        urls += [f"https://someone.{platform}/p/x", f"https://www.{platform}/"]
    page = extension["context"].new_page()
    page.goto(extension["base"] + "pages/options.html")
    local = page.evaluate(
        """async ({urls, table}) => {
            const {matchOutlet} = await import("/lib/match.js");
            return urls.map((url) => matchOutlet(url, table)?.match.key ?? null);
        }""",
        {"urls": urls, "table": table},
    )
    page.close()
    remote = []
    connection = http.client.HTTPConnection(urllib.parse.urlsplit(server).netloc, timeout=10)
    try:
        for url in urls:
            connection.request("GET", "/api/v1/sources/lookup?" + urllib.parse.urlencode({"url": url}))
            response = connection.getresponse()
            found = json.load(response)
            assert response.status in (200, 404), found
            remote.append(found["match"]["key"] if response.status == 200 else None)
    finally:
        connection.close()
    disagreements = [
        (url, mine, theirs) for url, mine, theirs in zip(urls, local, remote, strict=True) if mine != theirs
    ]
    assert not disagreements
    assert sum(key is not None for key in remote) > len(sample)


# -- coverage and the article's lean ------------------------------------------------------------------


def shadow_links(badge: Badge) -> list[dict]:
    """Every link in the badge's shadow root."""
    return badge.evaluate("""(root) => [...root.querySelectorAll('a')]
        .map((a) => ({href: a.getAttribute('href'), target: a.target, rel: a.rel, text: a.textContent}))""")


def assert_coverage_matches(badge: Badge, ext, expected: dict) -> None:
    """The expanded badge shows the story exactly as the server's analysis has it."""
    story = expected["story"]
    coverage = badge.locator('[data-newstilt="coverage"]')
    expect_badge(coverage).to_have_attribute("data-story", str(story["id"]))
    count = badge.locator('[data-newstilt="source-count"]')
    expect_badge(count).to_have_attribute("data-count", str(story["source_count"]))
    sources = story["source_count"]
    expect_badge(count).to_have_text(f"Covered by {sources} source{'' if sources == 1 else 's'}")
    for side in ("left", "center", "right"):
        share = badge.locator(f'[data-newstilt="share"][data-group="{side}"]')
        part = story["distribution"][side]
        expect_badge(share).to_have_attribute("data-count", str(part["count"]))
        expect_badge(share).to_have_attribute("data-percent", str(part["percent"]).removesuffix(".0"))
        expect_badge(share).to_have_text(f"{side.capitalize()} {percent_text(part['percent'])}")
    segments = badge.locator('[data-newstilt="distribution"] .seg')
    expect_badge(segments).to_have_count(sum(1 for g in GROUPS if story["distribution"][g]["count"]))
    blindspot = badge.locator('[data-newstilt="blindspot"]')
    if story["blindspot"]["side"]:
        expect_badge(blindspot).to_have_attribute("data-side", story["blindspot"]["side"])
        expect_badge(blindspot.locator("summary")).to_have_text(
            f"Blindspot: the {story['blindspot']['side']} is missing this story")
    else:
        expect_badge(blindspot).to_have_count(0)

    shown = badge.evaluate("""(root) => [...root.querySelectorAll('[data-newstilt="group"]')].map((group) => ({
            group: group.dataset.group,
            sources: Number(group.querySelector('[data-newstilt="group-count"]').dataset.count),
            articles: [...group.querySelectorAll('[data-newstilt="article"]')].map((item) => ({
                title: item.querySelector('[data-newstilt="headline"]').textContent,
                href: item.querySelector('[data-newstilt="headline"]').getAttribute('href'),
                outlet: item.querySelector('[data-newstilt="outlet"]')?.textContent ?? null,
                bias: item.querySelector('[data-newstilt="outlet-bias"]').dataset.label,
            })),
        }))""")
    # a side with sources has its heading, with the number of sources, even when it lists no headline (the
    # reader's own outlet, which is counted but not listed)
    wanted = [
        {"group": group, "sources": story["distribution"][group]["count"], "articles": [
            {"title": a["title"], "href": a["url"], "outlet": a["outlet"]["name"] if a["outlet"] else None,
             "bias": a["outlet"]["bias"]["label"] if a["outlet"] and a["outlet"]["bias"] else ""}
            for a in story["articles"][group]]}
        for group in GROUPS if story["articles"][group] or story["distribution"][group]["count"]
    ]
    assert shown == wanted
    expect_badge(badge.locator('[data-newstilt="full-coverage"]')).to_have_attribute(
        "href", f"{ext['server']}stories/{story['id']}")

    links = shadow_links(badge)
    assert links, "the panel has links"
    for link in links:
        assert urllib.parse.urlsplit(link["href"]).scheme in ("http", "https"), link
        assert link["target"] == "_blank" and set(link["rel"].split()) == {"noopener", "noreferrer"}, link


@pytest.mark.parametrize("record", ["mine-nyt", "audit-fox"], ids=["across-the-spectrum", "one-sided"])
def test_coverage_of_a_stored_article(extension, tmp_path, record):
    url = STORED[record]["url"]
    expected = analyze(extension["server"], url)
    assert expected["article"]["stored"] and expected["story"], "the fixture's article is stored in a story"
    assert url not in [a["url"] for side in expected["story"]["articles"].values() for a in side]
    page, _ = open_tab(extension)
    badge = Badge(page)
    page.goto(url)
    assert wait_for_coverage(badge) == "story"
    sources = expected["story"]["source_count"]
    expect_badge(badge.locator('[data-newstilt="coverage-count"]')).to_have_text(f"{sources} sources")
    badge.screenshot(tmp_path / f"coverage-{record}-collapsed.png")
    badge.locator('[data-newstilt="toggle"]').click()
    assert_coverage_matches(badge, extension, expected)
    if expected["story"]["blindspot"]["side"]:
        badge.locator('[data-newstilt="blindspot"] summary').click()
        expect_badge(badge.locator('[data-newstilt="blindspot"] p')).to_have_text(
            expected["story"]["blindspot"]["explanation"])
    page.set_viewport_size({"width": 1100, "height": 1400})
    badge.screenshot(tmp_path / f"coverage-{record}-expanded.png")
    page.screenshot(path=tmp_path / f"coverage-{record}-page.png")
    print(f"\ncoverage screenshots in {tmp_path}")
    page.close()


def test_a_new_page_about_the_story_finds_it(extension):
    """A write-up the server has never stored, on a rated outlet, is matched to the stored story."""
    stored = analyze(extension["server"], STORED["mine-nyt"]["url"])["story"]
    expected = analyze(extension["server"], NEW_PAGE["url"], page_for(NEW_PAGE["url"]))
    assert expected["article"]["stored"] is False
    assert expected["story"] and expected["story"]["id"] == stored["id"], "the server matches it to the story"
    assert api(extension["server"], "api/v1/sources/lookup", url=NEW_PAGE["url"]), "on a rated outlet"
    page, _ = open_tab(extension)
    badge = Badge(page)
    page.goto(NEW_PAGE["url"])
    assert wait_for_coverage(badge) == "story"
    badge.locator('[data-newstilt="toggle"]').click()
    assert_coverage_matches(badge, extension, expected)
    page.close()


def day_text(iso: str) -> str:
    """The badge's wording of a timestamp: its UTC day, "Oct 15, 2026" (lib/analysis.js dayText)."""
    day = datetime.fromisoformat(iso).astimezone(UTC)
    return f"{day:%b} {day.day}, {day.year}"


def tally_text(tally: dict, unknown: str) -> str:
    """The badge's wording of a tally of the sources: "High: 2 · Mixed: 1", in the server's order."""
    return " \u00b7 ".join(f"{unknown if key == 'unknown' else label_text(key)}: {n}" for key, n in tally.items())


# Runs in the badge's root: each group's heading count, the bar's count for its side, its distinct listed outlets.
READ_GROUPS = """(root) => [...root.querySelectorAll('[data-newstilt="group"]')].map((group) => ({
    group: group.dataset.group,
    heading: group.querySelector('h3').textContent,
    count: Number(group.querySelector('[data-newstilt="group-count"]').dataset.count),
    bar: Number(root.querySelector(`[data-newstilt="share"][data-group="${group.dataset.group}"]`)?.dataset.count
                ?? root.querySelector('[data-newstilt="unrated-share"]')?.dataset.count ?? 0),
    outlets: [...new Set([...group.querySelectorAll('[data-newstilt="outlet"]')].map((o) => o.textContent))],
    reader: group.querySelector('[data-newstilt="group-reader"]')?.textContent ?? null,
}))"""

READ_SUMMARY = """(root) => [...root.querySelectorAll('[data-newstilt="summary-point"]')].map((item) => ({
    text: item.querySelector('[data-newstilt="summary-text"]').textContent,
    source: item.querySelector('[data-newstilt="summary-source"]').textContent,
    href: item.querySelector('[data-newstilt="summary-source"]').getAttribute('href'),
    shown: !item.hidden && item.getBoundingClientRect().height > 0,
}))"""


def test_the_panel_counts_sources_summarises_and_links_the_story(extension, tmp_path):
    """A page of a third rated outlet, not stored, joins a story two other outlets told: the panel counts three
    sources, the page's own outlet in its side's heading; every heading shows the bar's number for its side (not
    the articles under it); the summary opens on a trusted click or key only; the details and the link to the
    story page are there. A screenshot of the open panel is kept in the test's directory (panel.png)."""
    server = extension["server"]
    url = PANEL_PAGE["url"]
    expected = analyze(server, url, page_for(url))
    story = expected["story"]
    assert expected["article"]["stored"] is False, "the reader's page is not stored"
    stored_urls = sorted(record["url"] for record in PANEL_STORED)
    assert sorted(a["url"] for side in story["articles"].values() for a in side) == stored_urls
    reader = api(server, "api/v1/sources/lookup", url=url)["outlet"]
    assert reader["bias"]["label"] == "lean-left"  # The Washington Post: counted on the left
    others = [api(server, "api/v1/sources/lookup", url=u)["outlet"] for u in stored_urls]
    assert all(outlet["bias"] for outlet in others), "two other rated outlets"
    dist = story["distribution"]
    assert story["source_count"] == dist["total"] == 3
    assert (dist["left"]["count"], dist["right"]["count"]) == (2, 1)

    page, _ = open_tab(extension)
    page.set_viewport_size({"width": 1100, "height": 1600})  # the whole open panel in view, for the screenshot
    badge = Badge(page)
    page.goto(url)
    assert wait_for_coverage(badge) == "story"
    expect_badge(badge.locator('[data-newstilt="coverage-count"]')).to_have_text("3 sources")
    badge.locator('[data-newstilt="toggle"]').click()
    expect_badge(badge.locator('[data-newstilt="source-count"]')).to_have_text("Covered by 3 sources")

    # The headings count sources, the bar's numbers; the page's own outlet is in the left one.
    groups = badge.evaluate(READ_GROUPS)
    assert [g["group"] for g in groups] == ["left", "right"]
    for group in groups:
        assert group["count"] == group["bar"] == dist[group["group"]]["count"], group
        n = group["count"]
        assert f"\u00b7 {n} source{'' if n == 1 else 's'}" in group["heading"], group
    assert sum(g["count"] for g in groups) == dist["total"] == 3
    left = groups[0]
    assert left["outlets"] == ["NPR"] and left["count"] == 2, "NPR and the reader's Washington Post"
    assert left["reader"] == f"and this page's outlet, {reader['name']}"

    # The summary: its first point, the others behind a button that only the reader can press.
    bullets = story["summary"]
    assert len(bullets) >= 2, "the fixture's story has a summary of several points"
    toggle = badge.locator('[data-newstilt="summary-toggle"]')
    expect_badge(toggle).to_have_text(f"Show all {len(bullets)} points")
    expect_badge(toggle).to_have_attribute("aria-expanded", "false")
    expect_badge(toggle).to_have_attribute("aria-controls", "newstilt-summary")
    assert badge.evaluate("(root) => root.querySelector('[data-newstilt=\"summary-toggle\"]').tagName") == "BUTTON"
    wanted = [{"text": b["text"], "source": b["outlet"]["name"], "href": b["url"]} for b in bullets]
    shown = badge.evaluate(READ_SUMMARY)
    assert [{k: item[k] for k in ("text", "source", "href")} for item in shown] == wanted
    assert [item["shown"] for item in shown] == [True] + [False] * (len(bullets) - 1)
    # a script's click (untrusted) does nothing
    badge.evaluate("(root) => root.querySelector('[data-newstilt=\"summary-toggle\"]').click()")
    expect_badge(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()  # a real click
    expect_badge(toggle).to_have_attribute("aria-expanded", "true")
    expect_badge(toggle).to_have_text("Show fewer points")
    assert all(item["shown"] for item in badge.evaluate(READ_SUMMARY))
    # and from the keyboard
    badge.evaluate("(root) => root.querySelector('[data-newstilt=\"summary-toggle\"]').focus()")
    page.keyboard.press("Enter")
    expect_badge(toggle).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Space")
    expect_badge(toggle).to_have_attribute("aria-expanded", "true")

    # Coverage details, from the same count; the link to the story page on the server.
    coverage = story["coverage"]
    rows = badge.locator('[data-newstilt="story-detail"]').read("data-key")
    details = {row["attribute"]: row["text"] for row in rows}
    assert details == {
        "sources": "3 (3 rated, 0 unrated)",
        "first-published": day_text(story["first_published"]),
        "last-updated": day_text(story["last_updated"]),
        "factuality": tally_text(coverage["factuality"], "Not rated"),
        "ownership": tally_text(coverage["ownership"], "Unknown"),
        "questionable": "None",
    }
    assert details["factuality"] == "High: 2 \u00b7 Mixed: 1"
    link = badge.locator('[data-newstilt="full-coverage"]')
    expect_badge(link).to_have_text("Full story on your newstilt server")
    expect_badge(link).to_have_attribute("href", f"{server}stories/{story['id']}")
    text = badge.card.text_content()
    assert "undefined" not in text and "NaN" not in text
    for link in shadow_links(badge):
        assert urllib.parse.urlsplit(link["href"]).scheme in ("http", "https"), link
        assert link["target"] == "_blank" and set(link["rel"].split()) == {"noopener", "noreferrer"}, link

    badge.screenshot(tmp_path / "panel.png")
    print(f"\npanel screenshot: {tmp_path / 'panel.png'}")
    page.close()


def test_an_article_about_something_else_has_no_coverage(extension):
    expected = analyze(extension["server"], NYT_ARTICLE, ARTICLE_HTML)
    others = [a for side in (expected["story"] or {"articles": {}})["articles"].values() for a in side]
    assert not others
    page, _ = open_tab(extension)
    badge = Badge(page)
    page.goto(NYT_ARTICLE)
    assert wait_for_coverage(badge) == "none"
    expect_badge(badge.locator(COVERAGE_LINE)).to_have_text("No other coverage found yet")
    page.close()


def test_an_unreachable_server_is_said_plainly(extension):
    """The configured server stops answering: the badge keeps the cached rating and says it cannot reach it."""
    worker = extension["worker"]
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    settings = worker.evaluate("chrome.storage.local.get('settings').then(({settings}) => settings)")
    worker.evaluate("(settings) => chrome.storage.local.set({settings})", {**settings, "serverUrl": dead})
    try:
        page, _ = open_tab(extension)
        badge = Badge(page)
        page.goto(STORED["mine-guardian"]["url"])
        assert wait_for_coverage(badge) == "error"
        line = badge.locator(COVERAGE_LINE)
        expect_badge(line).to_have_attribute("data-kind", "unreachable")
        expect_badge(line.locator('[data-newstilt="coverage-message"]')).to_have_text(
            f"Can't reach your newstilt server at {dead}.")
        expect_badge(badge.locator('[data-newstilt="name"]')).to_have_text("The Guardian")
        with extension["context"].expect_page() as opened:
            line.locator('[data-newstilt="open-settings"]').click()
        options = opened.value
        options.wait_for_load_state()
        assert options.url == extension["base"] + "pages/options.html"
        options.close()
        page.close()
    finally:
        worker.evaluate("(settings) => chrome.storage.local.set({settings})", settings)


FLAG_WORDS = {"conspiracy": "conspiracy", "pseudoscience": "pseudoscience", "propaganda": "propaganda",
              "failed-fact-checks": "failed fact checks"}


def warning_words(flags: list[str]) -> str:
    """What the badge says about a questionable source (lib/format.js questionableView), for the known flags."""
    if flags == ["satire"]:
        return "Satire: this site's stories are made up, not news"
    reasons = [FLAG_WORDS[flag] for flag in FLAG_WORDS if flag in flags]
    return "Questionable source: " + ", ".join(reasons) + ("; also satire" if "satire" in flags else "")


@pytest.mark.parametrize("kind", QUESTIONABLE_PAGES)
def test_a_questionable_source_is_flagged_in_the_collapsed_badge(extension, tmp_path, kind):
    url = QUESTIONABLE_PAGES[kind]
    outlet = api(extension["server"], "api/v1/sources/lookup", url=url)["outlet"]
    assert outlet["questionable"] is True and outlet["flags"]
    page, tab_id = open_tab(extension)
    badge = Badge(page)
    page.goto(url)
    badge.settled()
    expect_badge(badge.locator('[data-newstilt="details"]')).to_be_hidden()
    flag = badge.locator('[data-newstilt="questionable"]')
    expect_badge(flag).to_be_visible()
    expect_badge(flag).to_have_attribute("data-kind", "satire" if outlet["flags"] == ["satire"] else "questionable")
    expect_badge(flag).to_have_attribute("role", "note")
    expect_badge(flag.locator('[data-newstilt="questionable-text"]')).to_have_text(warning_words(outlet["flags"]))
    expect_badge(badge.card).to_have_attribute("aria-describedby", "newstilt-flag")
    assert badge.evaluate("(root) => root.querySelector('[data-newstilt=\"badge\"] > .summary').firstElementChild"
                          ".dataset.section") == "questionable", "the warning comes first"
    expect_badge(badge.locator('[data-newstilt="owner"]')).to_have_text(outlet["owner"])
    assert warning_words(outlet["flags"]) in wait_for_lookup(extension, tab_id)["title"]
    badge.screenshot(tmp_path / f"questionable-{kind}.png")
    print(f"\nquestionable-source screenshot: {tmp_path / f'questionable-{kind}.png'}")
    page.close()


@pytest.mark.parametrize("group", OWNED_PAGES)
def test_the_owner_is_named_beside_the_ownership(extension, tmp_path, group):
    url = OWNED_PAGES[group]
    outlet = api(extension["server"], "api/v1/sources/lookup", url=url)["outlet"]
    assert group in outlet["owner"].lower() and not outlet["questionable"]
    page, _ = open_tab(extension)
    badge = Badge(page)
    page.goto(url)
    badge.settled()
    expect_badge(badge.locator('[data-newstilt="ownership"]')).to_have_text(label_text(outlet["ownership"]))
    owner = badge.locator('[data-newstilt="owner"]')
    expect_badge(owner).to_be_visible()
    expect_badge(owner).to_have_text(outlet["owner"])
    expect_badge(badge.locator('[data-newstilt="questionable"]')).to_have_count(0)
    # Screen readers hear "Corporation, owned by Sinclair Broadcast Group".
    spoken = badge.evaluate("(root) => root.querySelector('dd.ownership').textContent")
    assert spoken == f"{label_text(outlet['ownership'])}, owned by {outlet['owner']}"
    badge.screenshot(tmp_path / f"owner-{group}-collapsed.png")
    badge.locator('[data-newstilt="toggle"]').click()
    badge.screenshot(tmp_path / f"owner-{group}-expanded.png")
    print(f"\nowner screenshots in {tmp_path}")
    page.close()


@pytest.mark.parametrize("language", FOREIGN)
def test_the_badge_works_whatever_the_pages_language(extension, tmp_path, language):
    """An article page of a rated outlet in German, Japanese (in Shift_JIS) or Arabic (right to left): the badge
    shows, the page goes to the server as the reader sees it, and the badge still speaks English, left to right."""
    spec = FOREIGN[language]
    outlet = api(extension["server"], "api/v1/sources/lookup", url=spec["url"])["outlet"]
    assert outlet["language"] == language
    expected = analyze(extension["server"], spec["url"], foreign_page(spec))
    assert expected["article"]["title"] == spec["title"] and expected["article"]["text_length"] > 0
    page, _ = open_tab(extension)
    badge = Badge(page)
    page.goto(spec["url"])
    assert page.evaluate("[document.documentElement.lang, document.characterSet, document.dir]") == [
        language, "Shift_JIS" if spec["charset"] == "Shift_JIS" else "UTF-8", spec["dir"]]
    assert wait_for_coverage(badge) in ("story", "none")
    expect_badge(badge.locator('[data-newstilt="name"]')).to_have_text(outlet["name"])
    expect_badge(badge.locator('[data-newstilt="owner"]')).to_have_text(outlet["owner"])

    # What the server was sent and answered: the page's own words, not mojibake.
    key = "a:" + page.evaluate("location.href")
    cached = extension["worker"].evaluate("(key) => chrome.storage.session.get(key).then((items) => items[key])", key)
    assert cached["analysis"]["article"]["title"] == spec["title"]
    assert cached["analysis"]["article"]["textLength"] == expected["article"]["text_length"]

    # The badge is English, left to right, on a page that is neither.
    card = badge.evaluate("""(root) => {
        const card = root.querySelector('[data-newstilt="badge"]');
        const name = root.querySelector('[data-newstilt="name"]');
        return {english: card.matches(':lang(en)'), direction: getComputedStyle(card).direction,
                nameDirection: name.getAttribute('dir'), cardRight: card.getBoundingClientRect().right};
    }""")
    assert card == {"english": True, "direction": "ltr", "nameDirection": "auto",
                    "cardRight": page.viewport_size["width"] - 16}

    # The model reads English only: the server says why it gave no lean, and the badge passes that on.
    lean = expected["lean"]
    if lean and lean.get("model") is not None and lean.get("label") is None:
        expect_badge(badge.locator('[data-newstilt="lean"]')).to_have_count(0)
        badge.locator('[data-newstilt="toggle"]').click()
        expect_badge(badge.locator('[data-newstilt="lean-reason"]')).to_have_text(lean["message"])
    badge.screenshot(tmp_path / f"language-{language}.png")
    page.screenshot(path=tmp_path / f"language-{language}-page.png")
    print(f"\nlanguage screenshots in {tmp_path}")
    page.close()


def lean_words(label: str, score: float | None) -> str:
    """The badge's words for an article's lean (lib/analysis.js leanWords)."""
    if label == "center":
        return "Center"
    strong = score is not None and abs(score) >= 0.6
    return label.capitalize() if strong else f"Lean {label.capitalize()}"


RESEMBLES = {"left": "left-leaning outlets", "center": "center outlets", "right": "right-leaning outlets"}


def lean_line(lean: dict | None) -> tuple[str, str] | None:
    """The state and text of the collapsed badge's line about the article, for the server's `lean`
    (lib/analysis.js leanView): the article's lean only when labelled and presented as the article's."""
    model = lean.get("model") if lean else None
    if model is None:
        return None
    if lean.get("label") is None:
        uncertain = lean.get("reason") == "uncertain" or (lean.get("reason") is None and lean.get("probabilities"))
        return ("uncertain", "This article: not enough evidence") if uncertain else None
    if not isinstance(model, dict) or model.get("presentation") != "article_lean":
        return "resemblance", f"Wording resembles {RESEMBLES[lean['label']]}"
    text = f"This article: {lean_words(lean['label'], lean.get('score'))}"
    if lean.get("confidence") is not None:
        text += f" \u00b7 {math.floor(lean['confidence'] * 100 + 0.5)}% confident"
    return "scored", text


def test_the_articles_own_lean(extension, tmp_path):
    """The article's lean as the server's scorer gives it: "This article: Lean Right" only when it has a label
    and says it may be shown as the article's; else a hint about the wording, or "not enough evidence"."""
    url = STORED["mine-breitbart"]["url"]
    lean = analyze(extension["server"], url)["lean"]
    page, _ = open_tab(extension)
    badge = Badge(page)
    page.goto(url)
    wait_for_coverage(badge)
    line = badge.locator('[data-newstilt="lean"]')
    details = badge.locator('[data-newstilt="lean-details"]')
    expected = lean_line(lean)
    if expected is None:
        expect_badge(line).to_have_count(0)
        badge.locator('[data-newstilt="toggle"]').click()
        if lean and lean.get("model") is None:
            expect_badge(details.locator('[data-newstilt="lean-none"]')).to_have_text(
                "No article model installed on your server")
        elif lean:
            expect_badge(details).to_have_attribute("data-state", "unscored")
        page.close()
        return
    state, text = expected
    expect_badge(line).to_have_text(text)
    expect_badge(line).to_have_attribute("data-state", state)
    expect_badge(line).to_have_attribute("data-label", lean["label"] or "")
    summary = badge.evaluate("(root) => root.querySelector('.summary').textContent")
    if state != "scored":
        assert not re.search(r"This article: (Lean |Far )?(Left|Center|Right)", summary), summary
    badge.screenshot(tmp_path / "lean-collapsed.png")

    badge.locator('[data-newstilt="toggle"]').click()
    expect_badge(details).to_have_attribute("data-state", state)
    odds = badge.locator('[data-newstilt="lean-odds"]')
    if state == "scored":
        expect_badge(odds).to_contain_text("Model's odds: ")
    else:
        expect_badge(details.locator("h2")).to_have_text(
            "This article's wording" if state == "resemblance" else "This article's lean")
        expect_badge(details.locator('[data-newstilt="lean-meter"]')).to_have_count(0)
        if lean.get("probabilities"):
            expect_badge(odds).to_contain_text("How much its wording resembles each side's outlets: ")
    warnings = [lean["warning"]] if lean.get("warning") else lean.get("warnings") or []
    if warnings:
        shown = details.locator('[data-newstilt="lean-warning"]').text_content().lower()
        for warning in warnings:
            assert warning.split(": ", 1)[-1].lower() in shown, (warning, shown)
    else:
        expect_badge(details.locator('[data-newstilt="lean-warning"]')).to_have_count(0)
    terms = badge.locator('[data-newstilt="lean-details"] .term')
    expect_badge(terms).to_have_text([item["term"] for item in lean["explanation"][:10]])
    page.set_viewport_size({"width": 1100, "height": 1400})
    badge.screenshot(tmp_path / "lean-expanded.png")
    print(f"\nlean screenshots in {tmp_path} ({state})")
    page.close()


def test_an_uncertain_article_shows_no_lean_label(extension, tmp_path):
    """A scorer that read the article but abstained (`label` null, `reason` "uncertain", its odds given): the badge
    says there is not enough evidence and shows no lean label. The server's scorer does not abstain yet (its
    threshold comes with the classifier's `presentation`), so the server's real answer for the page is taken and
    only its `lean` changed to an abstention, then served in its place to the extension's worker."""
    server = extension["server"]
    url = STORED["mine-reuters"]["url"]
    real = analyze(server, url)
    assert real["story"] and isinstance(real["lean"].get("model"), dict), "a real answer, with a model's lean"
    uncertain = {**real, "lean": {
        **real["lean"], "label": None, "reason": "uncertain",
        "message": "The model is not confident enough to say how this article leans.",
        "score": 0.02, "confidence": 0.36, "probabilities": {"left": 0.31, "center": 0.36, "right": 0.33},
        "model": {**real["lean"]["model"], "presentation": "article_lean"},
    }}
    served = []

    def answer_uncertain(route):
        served.append(route.request.post_data_json["url"])
        route.fulfill(status=200, content_type="application/json", body=json.dumps(uncertain))

    context = extension["context"]
    analyze_url = server + "api/v1/analyze"
    clear_analysis_cache(extension)
    context.route(analyze_url, answer_uncertain)
    try:
        page, _ = open_tab(extension)
        badge = Badge(page)
        page.goto(url)
        assert wait_for_coverage(badge) == "story"
        assert served == [url], "the worker's request was answered with the abstention"
        line = badge.locator('[data-newstilt="lean"]')
        expect_badge(line).to_have_attribute("data-state", "uncertain")
        expect_badge(line).to_have_attribute("data-label", "")
        expect_badge(line).to_have_text("This article: not enough evidence")
        badge.locator('[data-newstilt="toggle"]').click()
        details = badge.locator('[data-newstilt="lean-details"]')
        expect_badge(details).to_have_attribute("data-state", "uncertain")
        expect_badge(details.locator('[data-newstilt="lean-summary"]')).to_have_text(
            "Not enough evidence to tell how this article leans.")
        expect_badge(details.locator('[data-newstilt="lean-reason"]')).to_have_text(uncertain["lean"]["message"])
        expect_badge(details.locator('[data-newstilt="lean-odds"]')).to_have_text(
            "How much its wording resembles each side's outlets: Left 31% \u00b7 Center 36% \u00b7 Right 33%")
        expect_badge(details.locator('[data-newstilt="lean-meter"]')).to_have_count(0)
        said = " ".join([line.text_content(), details.text_content()])
        label = r"Lean (?:Left|Right|Center)|This article: (?:Left|Right|Center)|\d+% confident"
        assert not re.search(label, said), said
        badge.screenshot(tmp_path / "lean-uncertain.png")
        page.close()
    finally:
        context.unroute(analyze_url, answer_uncertain)
        clear_analysis_cache(extension)  # the abstention must not stand in for the real answer later


INNER_TEXT = "document.body.innerText"
BODY_HTML = "document.body.innerHTML"
TEXT_NODES = """() => { const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT); let n = 0;
    while (w.nextNode()) n++; return n; }"""
MARKS = "mark[data-newstilt-highlight]"


def test_highlighting_phrases_leaves_the_page_as_it_was(extension, tmp_path):
    """The highlighter, in the page: marks whole words in the article only, and removing them restores the
    page exactly (same text, same nodes). Then the badge's own button, when the server has a model."""
    url = STORED["mine-guardian"]["url"]
    page, _ = open_tab(extension)
    badge = Badge(page)
    page.goto(url)
    wait_for_coverage(badge)
    before = page.evaluate(f"() => [{INNER_TEXT}, {BODY_HTML}, ({TEXT_NODES})()]")

    # The highlighter itself, loaded into the page's own world, with terms known to be in the text.
    page.add_script_tag(path=str(EXTENSION / "ui" / "highlight.js"))
    terms = [{"term": "groundwater", "side": "left"}, {"term": "Pine Creek Tribal Council", "side": "left"},
             {"term": "Halvorsen", "side": "right"}, {"term": "jobs", "side": "right"}]
    made = page.evaluate("(terms) => NewstiltHighlight.highlight(terms)", terms)
    marks = page.locator(MARKS)
    assert made == marks.count() >= 4
    texts = {t.lower() for t in marks.all_text_contents()}
    assert texts <= {"groundwater", "pine creek tribal council", "halvorsen", "jobs"}
    assert page.evaluate(f"document.querySelectorAll('header {MARKS}, input {MARKS}').length") == 0
    assert page.evaluate("document.querySelector('input').value").endswith("groundwater and jobs")
    style = page.evaluate(f"getComputedStyle(document.querySelector('{MARKS}')).backgroundColor")
    assert style not in ("rgba(0, 0, 0, 0)", "transparent"), "page CSS cannot hide the marks"
    assert page.evaluate(INNER_TEXT) == before[0]
    assert page.evaluate("NewstiltHighlight.remove()") == made
    assert page.evaluate(f"() => [{INNER_TEXT}, {BODY_HTML}, ({TEXT_NODES})()]") == before

    lean = analyze(extension["server"], url)["lean"]
    if not lean or lean.get("model") is None or not lean.get("explanation"):
        expect_badge(badge.locator('[data-newstilt="highlight"]')).to_have_count(0)
        page.close()
        return
    badge.locator('[data-newstilt="toggle"]').click()
    button = badge.locator('[data-newstilt="highlight"]')
    expect_badge(button).to_have_text("Highlight phrases")
    button.click()
    expect_badge(button).to_have_text("Remove highlights")
    count = int(badge.locator('[data-newstilt="highlight-count"]').get_attribute("data-count"))
    assert count == marks.count() <= 200
    # caret="initial": hiding the caret would leave a style="" on the page's input.
    page.screenshot(path=tmp_path / "highlighted-page.png", caret="initial")
    assert page.evaluate(INNER_TEXT) == before[0]
    button.click()
    expect_badge(button).to_have_text("Highlight phrases")
    assert marks.count() == 0
    assert page.evaluate(f"() => [{INNER_TEXT}, {BODY_HTML}, ({TEXT_NODES})()]") == before
    page.close()


def test_analyze_this_page_from_the_popup(extension, tmp_path):
    """On a site the server does not rate there is no badge until the reader asks; then the badge shows the
    story's coverage there and in the popup."""
    assert api(extension["server"], "api/v1/sources/lookup", url=UNRATED_MINE_PAGE) is None
    expected = analyze(extension["server"], UNRATED_MINE_PAGE, page_for(UNRATED_MINE_PAGE))
    assert expected["outlet"] is None and expected["story"]
    page, tab_id = open_tab(extension)
    badge = Badge(page)
    page.goto(UNRATED_MINE_PAGE)
    assert wait_for_lookup(extension, tab_id)["title"] == UNRATED_TITLE
    assert badge_hosts(page) == 0

    popup = extension["context"].new_page()
    shown = Badge(popup)
    popup.goto(extension["base"] + f"pages/popup.html?tab={tab_id}")
    expect(popup.locator("#outlet-empty")).to_have_text("newstilt has no rating for example.org.")
    popup.click("#analyze")
    expect_badge(shown.locator('[data-newstilt="coverage"]')).to_have_attribute("data-story",
                                                                               str(expected["story"]["id"]))
    expect_badge(shown.locator('[data-newstilt="name"]')).to_have_text("example.org")
    expect_badge(shown.locator('[data-newstilt="unrated"]')).to_be_visible()
    popup.screenshot(path=tmp_path / "popup-analyzed.png", full_page=True)
    popup.close()

    expect_badge(badge.card).to_be_visible()
    assert wait_for_coverage(badge) == "story"
    badge.locator('[data-newstilt="toggle"]').click()
    assert_coverage_matches(badge, extension, expected)
    page.close()


def test_popup_shows_the_coverage_of_the_current_tab(extension):
    url = STORED["mine-reuters"]["url"]
    expected = analyze(extension["server"], url)
    page, tab_id = open_tab(extension)
    page.goto(url)
    wait_for_coverage(Badge(page))
    popup = extension["context"].new_page()
    shown = Badge(popup)
    popup.goto(extension["base"] + f"pages/popup.html?tab={tab_id}")
    expect_badge(shown.locator('[data-newstilt="coverage"]')).to_have_attribute("data-story",
                                                                               str(expected["story"]["id"]))
    sources = expected["story"]["source_count"]
    expect_badge(shown.locator('[data-newstilt="coverage-count"]')).to_have_text(f"{sources} sources")
    expect_badge(shown.locator('[data-newstilt="name"]')).to_have_text(expected["outlet"]["outlet"]["name"])
    popup.close()
    page.close()
