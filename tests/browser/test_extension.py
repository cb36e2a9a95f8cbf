"""The extension in a real Chromium, against the real newstilt service.

Debian's /usr/bin/chromium loads the unpacked extension; the service runs as a subprocess on 127.0.0.1 with
the bundled ratings plus two small rater files (so outlets have several raters); news pages are served at
their real https addresses by request routing, from tests/resources/browser/. Expected ratings are asked of
the server's own lookup endpoint, never written down here. Assertions read the badge through its open shadow
root.
"""

from __future__ import annotations

import http.client
import json
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
NEWSTILT = [sys.executable, "-m", "server"]
REPO = Path(__file__).resolve().parents[2]
EXTENSION = REPO / "extension"
RESOURCES = REPO / "tests" / "resources" / "browser"
ARTICLE_HTML = (RESOURCES / "article.html").read_text(encoding="utf-8")

NYT_ARTICLE = "https://www.nytimes.com/2026/11/24/us/politics/senate-stopgap-shutdown.html"
UNRATED_PAGE = "https://www.example.org/news/2026/11/24/local-council-budget"
FORGED_PAGE = "https://unrated-example.test/2026/11/24/senate-stopgap-shutdown.html"
PLATFORM_PAGE = "https://someone.substack.com/p/why-the-stopgap-bill-matters"
PATH_SCOPED_PAGE = "https://www.al.com/birmingham/2026/11/city-council-approves-budget.html"
NOT_PATH_SCOPED_PAGE = "https://www.al.com/birminghamx/2026/11/story.html"
ROUTED_HOSTS = (
    "www.nytimes.com",
    "www.example.org",
    "unrated-example.test",
    "someone.substack.com",
    "www.al.com",
)

DEFAULT_TITLE = "newstilt"
UNRATED_TITLE = "newstilt: no rating for this site"
BADGE = '[data-newstilt="badge"]'

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"
    ),
]


# -- the service -------------------------------------------------------------------------------------


def _drain(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real service on a free port; yields its base URL (ending in '/')."""
    data_dir = tmp_path_factory.mktemp("server-data")
    for fmt, name in (("mbfc", "mbfc-ratings.json"), ("allsides", "allsides-ratings.csv")):
        args = ["ratings", "import", "--data-dir", str(data_dir), "--format", fmt, str(RESOURCES / name)]
        subprocess.run([*NEWSTILT, *args], cwd=REPO, check=True, capture_output=True, text=True, timeout=60)
    stderr = (data_dir / "server.stderr").open("w", encoding="utf-8")
    args = ["serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data_dir), "--no-ingest"]
    process = subprocess.Popen([*NEWSTILT, *args], cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, text=True)
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_drain, args=(process.stdout, lines), daemon=True)
    reader.start()
    try:
        first = lines.get(timeout=60)
        match = re.match(r"newstilt serving on (http://127\.0\.0\.1:\d+/)", first or "")
        if not match:
            raise RuntimeError(f"the service did not start: {first!r}; see {data_dir / 'server.stderr'}")
        yield match.group(1)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        process.stdout.close()
        stderr.close()


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


def label_text(label: str) -> str:
    """The badge's wording of a scale label: "lean-left" -> "Lean Left"."""
    return " ".join(word.capitalize() for word in label.split("-"))


# -- the browser -------------------------------------------------------------------------------------


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
            for host in ROUTED_HOSTS:
                context.route(
                    f"https://{host}/**",
                    lambda route: route.fulfill(
                        status=200, content_type="text/html; charset=utf-8", body=ARTICLE_HTML
                    ),
                )
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
        if state["title"] != DEFAULT_TITLE:
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
    badge = page.locator(BADGE)
    expect(badge).to_be_visible()

    host = page.evaluate("""() => {
        const host = document.querySelector('newstilt-badge');
        return {count: document.querySelectorAll('newstilt-badge').length, mode: host.shadowRoot.mode,
                inLightDom: document.querySelectorAll('[data-newstilt]').length};
    }""")
    assert host == {"count": 1, "mode": "open", "inLightDom": 0}

    scale = api(extension["server"], "api/v1/sources")["scale"]["bias"]
    step = scale.index(expected["bias"]["label"]) - len(scale) // 2
    expect(page.locator('[data-newstilt="name"]')).to_have_text(expected["name"])
    expect(page.locator('[data-newstilt="bias-label"]')).to_have_text(label_text(expected["bias"]["label"]))
    expect(page.locator('[data-newstilt="bias-label"]')).to_have_attribute(
        "data-label", expected["bias"]["label"]
    )
    expect(page.locator('[data-newstilt="factuality"]')).to_have_text(label_text(expected["factuality"]))
    expect(page.locator('[data-newstilt="factuality"]')).to_have_attribute(
        "data-level", expected["factuality"]
    )
    expect(page.locator('[data-newstilt="ownership"]')).to_have_text(label_text(expected["ownership"]))
    expect(page.locator('[data-newstilt="bias-bar"]')).to_have_attribute("data-step", str(step))
    expect(page.locator('[data-newstilt="bias-bar"] [data-marked="true"]')).to_have_attribute(
        "data-cell-step", str(step)
    )
    expect(page.locator('[data-newstilt="details"]')).to_be_hidden()
    collapsed = tmp_path / "badge-collapsed.png"
    badge.screenshot(path=collapsed)
    page.screenshot(path=tmp_path / "page-collapsed.png")

    badge.click()
    details = page.locator('[data-newstilt="details"]')
    expect(details).to_be_visible()
    rows = page.locator('[data-newstilt="rater"]')
    expect(rows).to_have_count(len(expected["raters"]))
    assert len(expected["raters"]) >= 2
    for i, rater in enumerate(expected["raters"]):
        row = rows.nth(i)
        expect(row.locator('[data-newstilt="rater-name"]')).to_have_text(rater["name"])
        bias = label_text(rater["bias"]["label"]) if rater["bias"] else "Bias not rated"
        expect(row.locator('[data-newstilt="rater-bias"]')).to_have_text(bias)
        if rater["url"]:
            expect(row.locator("a")).to_have_attribute("href", rater["url"])
        else:
            expect(row.locator("a")).to_have_count(0)
    expect(page.locator('[data-newstilt="methodology"]')).to_have_attribute(
        "href", extension["server"] + "methodology"
    )
    expanded = tmp_path / "badge-expanded.png"
    badge.screenshot(path=expanded)
    page.screenshot(path=tmp_path / "page-expanded.png")
    print(f"\nbadge screenshots: {collapsed} {expanded}")

    state = toolbar(extension, tab_id)
    assert state["text"] == {-3: "FL", -2: "L", -1: "LL", 0: "C", 1: "LR", 2: "R", 3: "FR"}[step]
    assert state["title"].startswith(f"{expected['name']}: {label_text(expected['bias']['label'])}")

    page.locator('[data-newstilt="close"]').click()
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
        expect(page.locator('[data-newstilt="name"]')).to_have_text(expected["outlet"]["name"])
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
    expect(page.locator('[data-newstilt="name"]')).to_have_text(after["outlet"]["name"])
    page.close()


def test_lookups_send_nothing_to_the_server(extension):
    worker = extension["worker"]
    worker.evaluate("""() => {
        const real = globalThis.fetch;
        globalThis.newstiltRealFetch = real;
        globalThis.newstiltTestFetches = [];
        globalThis.fetch = (resource, init) => {
            globalThis.newstiltTestFetches.push(String(resource.url ?? resource));
            return real(resource, init);
        };
    }""")
    try:
        page, tab_id = open_tab(extension)
        for url in (NYT_ARTICLE, UNRATED_PAGE, PATH_SCOPED_PAGE):
            page.goto(url)
            wait_for_lookup(extension, tab_id)
        assert worker.evaluate("globalThis.newstiltTestFetches") == []
        page.close()
    finally:
        worker.evaluate("() => { globalThis.fetch = globalThis.newstiltRealFetch; }")


def test_hiding_a_site_and_showing_it_again(extension):
    page, tab_id = open_tab(extension)
    page.goto(NYT_ARTICLE)
    page.locator(BADGE).click()
    page.locator('[data-newstilt="hide-site"]').click()
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
    expect(page.locator(BADGE)).to_be_visible()
    options.close()
    page.close()


def test_badge_switch_in_the_options(extension):
    page, _ = open_tab(extension)
    page.goto(NYT_ARTICLE)
    expect(page.locator(BADGE)).to_be_visible()
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
    expect(page.locator(BADGE)).to_be_visible()
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
