"""URL normalisation: one identity per article, and junk refused with a reason."""
from __future__ import annotations

import pytest

from newstilt.errors import InvalidURLError
from newstilt.urls import MAX_URL_LENGTH, clean_url, host_of, normalize_url


@pytest.mark.parametrize("url, expected", [
    ("HTTP://WWW.Example.COM/News/Story", "http://www.example.com/News/Story"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("http://example.com:80/a", "http://example.com/a"),
    ("http://example.com:8080/a", "http://example.com:8080/a"),
    ("https://example.com", "https://example.com/"),
    ("https://user:secret@example.com/a", "https://example.com/a"),
    ("https://example.com/a#section-2", "https://example.com/a"),
    ("https://example.com/a?", "https://example.com/a"),
    ("https://example.com/a/", "https://example.com/a/"),
    ("https://example.com//a///b//", "https://example.com/a/b/"),
    ("https://example.com/a/./b/../c", "https://example.com/a/c"),
    ("https://example.com/a%7eb%2Fc%zz", "https://example.com/a~b%2Fc%25zz"),
    ("https://example.com/caf\u00e9 menu", "https://example.com/caf%C3%A9%20menu"),
    ("https://b\u00fccher.example/", "https://xn--bcher-kva.example/"),
    ("https://example.com./a", "https://example.com/a"),
    ("  https://example.com/a  ", "https://example.com/a"),
    ("https://example.com/?b=2&a=1&b=1", "https://example.com/?a=1&b=2&b=1"),
    ("https://example.com/a?utm_source=tw&utm_Medium=social&UTM_CAMPAIGN=x&id=7",
     "https://example.com/a?id=7"),
    ("https://example.com/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&ocid=5&cmpid=6&smid=7&CMP=8&ref=9&ref_src=10"
     "&taid=11&icid=12&_ga=13&igshid=14&at_medium=15&at_campaign=16&page=3", "https://example.com/a?page=3"),
    ("https://example.com/search?q=a+b&q2=%e2%82%ac", "https://example.com/search?q=a+b&q2=%E2%82%AC"),
    ("http://2130706433/", "http://127.0.0.1/"),
    ("http://0177.0.0.1/", "http://127.0.0.1/"),
    ("http://0x7f.0.0.1/", "http://127.0.0.1/"),
    ("http://127.1/", "http://127.0.0.1/"),
    ("http://[::FFFF:7F00:1]:8080/", "http://[::ffff:7f00:1]:8080/"),
    ("http://[2001:DB8:0:0::1]/", "http://[2001:db8::1]/"),
    ("http://evil.example\\@good.example/", "http://evil.example/@good.example/"),
])
def test_normalize_url(url, expected):
    assert normalize_url(url) == expected
    assert normalize_url(expected) == expected  # idempotent


def test_www_is_kept():
    assert normalize_url("https://www.example.com/") != normalize_url("https://example.com/")


def test_clean_url_keeps_query_and_path_as_they_are():
    url = "https://Example.com:443//a//b?utm_source=x&b=2&a=1#frag"
    assert clean_url(url) == "https://example.com//a//b?utm_source=x&b=2&a=1"


@pytest.mark.parametrize("url, reason", [
    ("", "empty"),
    (None, "string"),
    ("ftp://example.com/file", "only http and https"),
    ("javascript:alert(1)", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("mailto:someone@example.com", "only http and https"),
    ("example.com/page", "no scheme"),
    ("//example.com/page", "no scheme"),
    ("http:///page", "no host"),
    ("https://", "no host"),
    ("http://exa mple.com/", "host"),
    ("http://example.com:99999/", "Port"),
    ("http://example.com:0/", "port 0"),
    ("http://[::1/", "IPv6"),
    ("http://1.2.3.4.5/", "IPv4"),
    ("http://example.123/", "IPv4"),
    ("http://09.1.1.1/", "IPv4"),
    ("http://a..b/", "host"),
    ("http://exa\nmple.com/", "control characters"),
    ("http://example.com/" + "a" * MAX_URL_LENGTH, "longer than 2048"),
])
def test_junk_is_refused_with_a_reason(url, reason):
    with pytest.raises(InvalidURLError, match=reason):
        normalize_url(url)


def test_invalid_url_error_is_a_value_error():
    with pytest.raises(ValueError):
        normalize_url("nonsense")


@pytest.mark.parametrize("url, host", [
    ("https://WWW.Example.com:8443/a", "www.example.com"),
    ("http://[::1]:8080/", "::1"),
    ("http://b\u00fccher.example/", "xn--bcher-kva.example"),
    ("http://2130706433/", "127.0.0.1"),
])
def test_host_of(url, host):
    assert host_of(url) == host
