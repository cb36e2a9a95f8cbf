"""The pages to browse in a real Chromium: the front page and a story page, at desktop and at 400 px wide,
keyboard use, and a strict Content-Security-Policy (no inline script or style) that the pages never break.

The real service runs as a subprocess on 127.0.0.1 over a store bulk-imported from the test resources (the
extension's coverage fixture, the invented primary season, the clustering sample). Screenshots of ``/`` and of
a story page are kept in the test's tmp directory.
"""
from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from .service import NEWSTILT, REPO, running_service

CHROMIUM = Path("/usr/bin/chromium")
RESOURCES = REPO / "tests" / "resources"
STORE_FILES = [RESOURCES / "browser" / "coverage-articles.jsonl", RESOURCES / "stories" / "primaries.jsonl",
               RESOURCES / "stories" / "articles.jsonl"]
#: What the pages must work under (``serve`` will send a policy like it).
CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real service on a free port, over a store of the test resources; yields its base URL."""
    data_dir = tmp_path_factory.mktemp("pages-data")
    for path in STORE_FILES:
        subprocess.run([*NEWSTILT, "import", str(path), "--data-dir", str(data_dir), "--no-progress"], cwd=REPO,
                       check=True, capture_output=True, text=True, timeout=120)
    with running_service(data_dir) as base:
        yield base


def api(server: str, path: str) -> dict:
    with urllib.request.urlopen(server + path.lstrip("/"), timeout=10) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, server):
    """A tab that serves the pages under a strict CSP and records every console error and CSP violation."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(15_000)

    def with_csp(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": CSP})

    context.route(lambda url: url.startswith(server), with_csp)
    context.route(lambda url: not url.startswith(server), lambda route: route.abort())  # nothing leaves
    tab = context.new_page()
    tab.problems = []
    tab.on("console", lambda msg: tab.problems.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: tab.problems.append(str(exc)))
    yield tab
    context.close()


def no_horizontal_scroll(tab) -> bool:
    return tab.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_front_page_and_a_story_page_render_under_a_strict_csp(page, server, tmp_path):
    stories = api(server, "api/v1/stories?min_sources=2&limit=50")["stories"]
    biggest = max(stories, key=lambda s: (s["source_count"], s["id"]))

    page.goto(server)
    expect(page.locator("h1")).to_have_text("Latest stories")
    cards = page.locator("li.card")
    expect(cards).to_have_count(min(20, len(stories)))
    expect(page.locator("link[rel=stylesheet]")).to_have_count(1)
    assert page.evaluate("() => getComputedStyle(document.body).fontFamily").startswith("system-ui")  # CSS loaded
    page.screenshot(path=tmp_path / "front-page.png", full_page=True)

    page.goto(f"{server}stories/{biggest['id']}")
    expect(page.locator("h1")).to_have_text(biggest["title"])
    story = api(server, f"api/v1/stories/{biggest['id']}")
    for side in ("left", "center", "right", "unrated"):
        heading = page.locator(f"#side-{side}")
        if story["distribution"][side]["count"]:
            expect(heading).to_contain_text(f"· {story['distribution'][side]['count']} source")
    expect(page.locator("ul.summary > li")).to_have_count(len(story["summary"]))
    expect(page.locator("ol.timeline > li")).to_have_count(story["article_count"])
    bar = page.locator("svg.bar").first
    expect(bar).to_have_attribute("role", "img")
    assert bar.bounding_box()["width"] > 500
    page.screenshot(path=tmp_path / "story-page.png", full_page=True)
    print(f"\npage screenshots in {tmp_path}")
    assert page.problems == [], page.problems


@pytest.mark.parametrize("path", ["", "blindspot", "search?q=marsh", "sources/nytimes.com"])
def test_pages_are_usable_at_400_px(page, server, tmp_path, path):
    page.set_viewport_size({"width": 400, "height": 800})
    page.goto(server + path)
    assert no_horizontal_scroll(page), path
    expect(page.locator("input[type=search]").first).to_be_visible()
    name = path.split("?")[0].replace("/", "-") or "front"
    page.screenshot(path=tmp_path / f"narrow-{name}.png", full_page=True)
    assert page.problems == [], page.problems


def test_a_story_page_is_usable_at_400_px(page, server, tmp_path):
    stories = api(server, "api/v1/stories?min_sources=2&limit=50")["stories"]
    biggest = max(stories, key=lambda s: (s["source_count"], s["id"]))
    page.set_viewport_size({"width": 400, "height": 800})
    page.goto(f"{server}stories/{biggest['id']}")
    assert no_horizontal_scroll(page)
    page.screenshot(path=tmp_path / "narrow-story.png", full_page=True)


def test_the_keyboard_reaches_the_content_and_the_search(page, server):
    page.goto(server)
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["x"] >= 0  # visible when focused
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    page.locator("#site-search").focus()
    page.keyboard.type("Castellano")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Search stories")
    expect(page.locator("li.card", has_text="Castellano").first).to_be_visible()
    first_link = page.locator("li.card h3 a").first
    first_link.focus()
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # focus is visible
