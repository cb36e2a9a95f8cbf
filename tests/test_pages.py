"""The pages to browse: latest stories, blindspots, an outlet's page, search, a story. Server-rendered HTML,
every piece of data escaped, no script and no inline style (a strict CSP is coming), paginated."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from newstilt.storage import articles, stories

XSS = '<script>alert(1)</script><img src=x onerror=alert(2)> "quoted" & more'
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"
DAY = datetime(2024, 5, 1, 12, tzinfo=UTC)


def add_story(nt, title: str, members: list[tuple[str, str]], *, when=DAY, text="The storm hit the coast.") -> int:
    """A story of ``members`` (url, outlet), its row filled as a join fills it."""
    with nt.store.begin() as conn:
        sid = conn.execute(stories.insert().values(title=title, first_published=when, last_published=when,
                                                   article_count=len(members), created_at=when, updated_at=when)
                           .returning(stories.c.id)).scalar()
        for url, outlet in members:
            conn.execute(articles.insert().values(url=url, outlet=outlet, title=title, text=text, origin="import",
                                                  published=when, story_id=sid, added_at=when))
        nt.story_rows.changed(conn, sid)
    return sid


@pytest.fixture
def site(app):
    """A few stories: one with a hostile headline, one blindspot for the left, 25 filler stories a day apart."""
    nt = app.extensions["newstilt"]
    ids = {"xss": add_story(nt, XSS, [("https://www.nytimes.com/x", "nytimes.com"),
                                      ("https://www.foxnews.com/x", "foxnews.com"),
                                      ("https://evil.example/x?a=1&b=<2>", "evil.example")],
                            text=f"{XSS} It was a storm. " * 3)}
    ids["blindspot"] = add_story(nt, "Audit finds missing ballots", [
        ("https://www.foxnews.com/audit", "foxnews.com"), ("https://www.breitbart.com/audit", "breitbart.com"),
        ("https://www.al.com/audit", "al.com"), ("https://www.reuters.com/audit", "reuters.com")])
    for n in range(25):
        add_story(nt, f"Filler story number {n}", [(f"https://www.nytimes.com/f{n}", "nytimes.com"),
                                                   (f"https://www.reuters.com/f{n}", "reuters.com")],
                  when=DAY - timedelta(days=n + 1))
    return ids


PAGES = ["/", "/blindspot", "/blindspot?side=left", "/search?q=script", "/search?q=storm", "/sources/nytimes.com",
         "/sources/evil.example", "/about", "/methodology"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_html_without_script_or_inline_style(client, site, path):
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<script" not in html and "<style" not in html
    assert not re.search(r"<[^>]*\s(style|on\w+)=", html)  # no inline style or event handler in any tag
    assert '<html lang="en">' in html and html.count("<h1") == 1
    assert 'href="#main"' in html and 'id="main"' in html  # a skip link for keyboard users
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    for field in re.findall(r'<input id="([\w-]+)"', html):
        assert f'<label for="{field}"' in html, field


def test_a_hostile_headline_is_inert_everywhere(client, site):
    for path in ("/", f"/stories/{site['xss']}", "/search?q=alert", "/sources/evil.example"):
        html = client.get(path).get_data(as_text=True)
        assert XSS_ESCAPED in html, path
        assert "<script>alert" not in html and "<img src=x" not in html, path
    story = client.get(f"/stories/{site['xss']}").get_data(as_text=True)
    assert 'href="https://evil.example/x?a=1&amp;b=&lt;2&gt;"' in story


def test_a_link_that_is_not_http_never_reaches_an_href(client, app):
    nt = app.extensions["newstilt"]
    sid = add_story(nt, "Links", [("javascript:alert(1)", "nytimes.com"), ("https://www.foxnews.com/l", "foxnews.com")])
    html = client.get(f"/stories/{sid}").get_data(as_text=True)
    assert "javascript:" not in html


def test_the_front_page_lists_the_latest_stories_with_their_bars_and_pages(client, site):
    first = client.get("/").get_data(as_text=True)
    assert first.index(XSS_ESCAPED) < first.index("Filler story number 0") < first.index("Filler story number 1")
    assert first.count('<li class="card">') == 20 and 'href="/?page=2"' in first
    assert first.count('<svg class="bar"') == 20 and 'role="img"' in first
    second = client.get("/?page=2").get_data(as_text=True)
    assert second.count('<li class="card">') == 7 and 'rel="prev"' in second and 'rel="next"' not in second
    assert "Filler story number 24" in second


def test_the_front_page_filters_by_day(client, site):
    html = client.get("/?date=2024-04-28").get_data(as_text=True)
    assert html.count('<li class="card">') == 1 and "Filler story number 2<" in html
    assert client.get("/?date=2030-01-01").get_data(as_text=True).count('<li class="card">') == 0


@pytest.mark.parametrize("path", ["/?date=yesterday", "/?page=0", "/?page=x", "/blindspot?side=up"])
def test_bad_parameters_are_a_400(client, path):
    assert client.get(path).status_code == 400


def test_the_blindspot_page_lists_each_sides_blindspots(client, site):
    html = client.get("/blindspot").get_data(as_text=True)
    left = html[html.index('id="blindspot-left"'):html.index('id="blindspot-right"')]
    assert "Audit finds missing ballots" in left and "Filler" not in html
    assert "No blindspot for the right yet." in html
    only_left = client.get("/blindspot?side=left").get_data(as_text=True)
    assert "Audit finds missing ballots" in only_left and 'id="blindspot-right"' not in only_left


def test_the_source_page_shows_ratings_details_articles_and_blindspots(client, site):
    html = client.get("/sources/foxnews.com").get_data(as_text=True)
    assert "<h1>Fox News</h1>" in html and "right" in html and "corporation" in html and "US" in html
    assert "newstilt bundled ratings" in html  # each rater's values
    assert "Audit finds missing ballots" in html and "1 of them blindspot for the left" in html
    alias = client.get("/sources/bbc.co.uk").get_data(as_text=True)
    assert "<h1>BBC News</h1>" in alias
    assert client.get("/sources/nothing.example").status_code == 404


def test_search_finds_stories_by_headline_words(client, site):
    html = client.get("/search?q=FILLER+number+17").get_data(as_text=True)
    assert "Filler story number 17<" in html and html.count('<li class="card">') == 1
    assert client.get("/search?q=%25").get_data(as_text=True).count('<li class="card">') == 0  # no LIKE wildcard
    assert client.get("/search?q=filler").get_data(as_text=True).count('<li class="card">') == 20


def test_the_story_page_has_summary_details_framing_and_timeline(client, app):
    nt = app.extensions["newstilt"]
    left = ("The Elm Street bridge in Portsmouth collapsed on Tuesday after the cargo ship Marlow Star struck a "
            "pier, and Governor Dana Whitfield said six workers were missing. Advocates blamed decades of "
            "neglected infrastructure funding for the disaster.")
    right = ("A foreign-flagged cargo ship, the Marlow Star, knocked down the Elm Street bridge in Portsmouth on "
             "Tuesday, and six workers were missing, Governor Dana Whitfield said. The crew's captain was "
             "detained for questioning by federal agents.")
    with nt.store.begin() as conn:
        for url, outlet, text, title in (
                ("https://www.nytimes.com/bridge", "nytimes.com", left, "Neglected bridge collapses in Portsmouth"),
                ("https://www.foxnews.com/bridge", "foxnews.com", right, "Foreign ship knocks down Portsmouth bridge")):
            article_id = nt.store.add_article(conn, url=url, title=title, text=text, origin="import", outlet=outlet,
                                              published=DAY)
            nt.clusterer.add(conn, article_id)
    [listed] = client.get("/api/v1/stories").json["stories"]
    story = client.get(f"/api/v1/stories/{listed['id']}").json
    assert story["source_count"] == 2 and 2 <= len(story["summary"]) <= 5
    assert story["framing"]["available"]
    left_terms, right_terms = (" ".join(t["term"] for t in story["framing"][s]) for s in ("left", "right"))
    assert "neglected" in left_terms and "neglected" not in right_terms
    assert "foreign" in right_terms and "foreign" not in left_terms
    assert all(t["articles"][0]["outlet"] == "The New York Times" for t in story["framing"]["left"])
    assert [t["outlet"]["domain"] for t in story["timeline"]] == ["nytimes.com", "foxnews.com"]
    html = client.get(f"/stories/{listed['id']}").get_data(as_text=True)
    for heading in ("Summary", "Coverage details", "How each side frames it", "Coverage by side", "Timeline"):
        assert f">{heading}</h2>" in html
    assert story["summary"][0]["text"] in html
