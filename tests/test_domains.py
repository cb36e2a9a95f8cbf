"""Domain matching, case by case: every rule in server/domains.py has a test here."""
from __future__ import annotations

import pytest

from newstilt import domains
from newstilt.errors import InvalidURLError, NotFoundError
from newstilt.ratings import build_index, parse_bundled

from .conftest import FIXTURE_OUTLETS


@pytest.fixture(scope="module")
def index():
    return build_index(parse_bundled(FIXTURE_OUTLETS.read_text()), [], {}, {}, "test")


@pytest.mark.parametrize(("url", "domain", "key"), [
    ("https://www.nytimes.com/2024/01/01/us/x.html", "nytimes.com", "nytimes.com"),
    ("HTTPS://WWW.NYTimes.COM/2024/x", "nytimes.com", "nytimes.com"),            # case
    ("https://www2.nytimes.com/x", "nytimes.com", "nytimes.com"),                # wwwN
    ("https://m.nytimes.com/x", "nytimes.com", "nytimes.com"),                   # mobile
    ("https://amp.nytimes.com/x", "nytimes.com", "nytimes.com"),                 # amp
    ("https://nytimes.com./x", "nytimes.com", "nytimes.com"),                    # trailing dot
    ("https://www.nytimes.com:8443/x", "nytimes.com", "nytimes.com"),            # port
    ("https://user:pw@www.nytimes.com/x", "nytimes.com", "nytimes.com"),         # userinfo
    ("https://cooking.nytimes.com/recipes/1", "nytimes.com", "nytimes.com"),     # subdomain inherits
    ("https://nyti.ms/abc", "nytimes.com", "nyti.ms"),                           # alias
    ("https://news.bbc.co.uk/2/hi/x.stm", "bbc.com", "bbc.co.uk"),               # PSL: bbc.co.uk, alias of bbc.com
    ("https://www.bbc.co.uk/news", "bbc.com", "bbc.co.uk"),
    ("https://al.com/birmingham/2024/x.html", "al.com/birmingham", "al.com/birmingham"),  # path-scoped
    ("https://www.al.com/Birmingham/", "al.com/birmingham", "al.com/birmingham"),
    ("https://al.com/birminghamx/2024/x.html", "al.com", "al.com"),              # whole segments only
    ("https://al.com/news/birmingham/x", "al.com", "al.com"),                    # prefix, not substring
    ("https://abcnews.go.com/538/polls", "abcnews.go.com/538", "abcnews.go.com/538"),
    ("https://abcnews.go.com/Politics/x", "abcnews.go.com", "abcnews.go.com"),
    ("https://fivethirtyeight.com/features/x", "abcnews.go.com/538", "fivethirtyeight.com"),
    ("https://bücher.de/artikel", "xn--bcher-kva.de", "xn--bcher-kva.de"),  # IDN
    ("https://xn--bcher-kva.de/artikel", "xn--bcher-kva.de", "xn--bcher-kva.de"),
])
def test_matches(index, url, domain, key):
    match = index.match(url)
    assert (match.outlet.domain, match.key) == (domain, key)


@pytest.mark.parametrize("url", [
    "https://someone.substack.com/p/post",          # platform subdomain never inherits
    "https://www.substack.com/",                    # the platform itself is not an outlet
    "https://medium.com/@writer/story",
    "https://nytimes.com.evil.example/x",           # suffix trick
    "https://evilnytimes.com/x",                    # not a label boundary
    "https://co.uk/x",                              # a public suffix
    "http://127.0.0.1/x",
    "https://example.org/",
])
def test_does_not_match(index, url):
    with pytest.raises(NotFoundError):
        index.match(url)


@pytest.mark.parametrize("url", [
    "", "   ", "not a url", "nytimes.com/x", "ftp://nytimes.com/x", "javascript:alert(1)",
    "https://", "https://exa mple.com/", "https://nytimes.com:99999/", "https://nytimes.com:abc/",
    "http://[::1/", "https://a..b.com/", "https://-bad-.com/", "https://x" + "y" * 3000 + ".com/",
    "https://nytimes.com/\x00", None, 42,
])
def test_junk_is_invalid(index, url):
    with pytest.raises(InvalidURLError):
        index.match(url)


def test_candidate_hosts_stop_at_registrable_domain_and_platforms():
    assert domains.candidate_hosts("a.b.nytimes.com") == ["a.b.nytimes.com", "b.nytimes.com", "nytimes.com"]
    assert domains.candidate_hosts("www.news.bbc.co.uk") == ["www.news.bbc.co.uk", "news.bbc.co.uk", "bbc.co.uk"]
    assert domains.candidate_hosts("x.substack.com", {"substack.com"}) == ["x.substack.com"]


def test_public_suffix_list_works_offline():
    # the bundled snapshot, including the private section (blogspot.com subdomains are registrable)
    assert domains.registrable_domain("news.bbc.co.uk") == "bbc.co.uk"
    assert domains.registrable_domain("someone.blogspot.com") == "someone.blogspot.com"
    assert domains.is_public_suffix("co.uk")


@pytest.mark.parametrize(("value", "key"), [
    ("https://www.USAToday.com/", "usatoday.com"),
    ("abcnews.go.com/538/", "abcnews.go.com/538"),
    ("al.com/Birmingham", "al.com/birmingham"),
    ("m.example.com", "example.com"),
])
def test_normalise_key(value, key):
    assert domains.normalise_key(value) == key
