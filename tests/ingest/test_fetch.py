"""The fetcher against a real HTTP server on 127.0.0.1: limits, retries, politeness and SSRF refusals."""
from __future__ import annotations

import gzip
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from newstilt import __version__
from newstilt.errors import BlockedAddressError, FetchError, HTTPStatusError, InvalidURLError
from newstilt.fetch import USER_AGENT, FetchConfig, is_public_address

from .conftest import Reply

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


def test_fetch_returns_body_headers_and_sends_a_project_user_agent(http_server, make_fetcher, connections):
    http_server.route("/feed.xml", Reply(200, FEED, {
        "Content-Type": "application/rss+xml; charset=UTF-8", "ETag": '"v1"',
        "Last-Modified": "Tue, 10 Jun 2025 12:00:00 GMT"}))
    result = make_fetcher().fetch(http_server.url("/feed.xml"), expect="feed")

    assert result.status == 200 and result.body == FEED and not result.not_modified
    assert result.url == result.final_url == http_server.url("/feed.xml")
    assert result.etag == '"v1"' and result.last_modified == "Tue, 10 Jun 2025 12:00:00 GMT"
    assert result.content_type == "application/rss+xml" and result.charset == "utf-8"
    assert result.headers["content-type"].startswith("application/rss+xml")
    assert 0 <= result.elapsed < 5
    with pytest.raises(TypeError):
        result.headers["x"] = "y"  # type: ignore[index]
    headers = http_server.requests[0][2]
    assert headers["user-agent"] == USER_AGENT
    assert USER_AGENT == (f"newstilt/{__version__} "
                          "(+https://github.com/newstilt/newstilt; self-hosted news reader)")
    assert "application/rss+xml" in headers["accept"]
    assert connections == [("127.0.0.1", http_server.port)]


def test_conditional_get_gives_not_modified(http_server, make_fetcher):
    def conditional(handler, hit):
        if handler.headers.get("If-None-Match") == '"v1"':
            return Reply(304, headers={"ETag": '"v1"', "Content-Length": "0"})
        return Reply(200, FEED, {"ETag": '"v1"', "Last-Modified": "Tue, 10 Jun 2025 12:00:00 GMT"})

    http_server.route("/feed.xml", conditional)
    fetcher = make_fetcher()
    first = fetcher.fetch(http_server.url("/feed.xml"))
    second = fetcher.fetch(http_server.url("/feed.xml"), etag=first.etag, last_modified=first.last_modified)

    assert second.not_modified and second.status == 304 and second.body == b""
    assert second.etag == '"v1"'
    # The server sent no Last-Modified with its 304: the caller's value is kept.
    assert second.last_modified == "Tue, 10 Jun 2025 12:00:00 GMT"
    sent = http_server.requests[1][2]
    assert sent["if-none-match"] == '"v1"' and sent["if-modified-since"] == "Tue, 10 Jun 2025 12:00:00 GMT"


def test_redirects_are_followed_hop_by_hop(http_server, make_fetcher):
    http_server.route("/old", Reply(301, headers={"Location": "/middle?x=1"}))
    http_server.route("/middle?x=1", Reply(302, headers={"Location": f"http://localhost:{http_server.port}/new"}))
    http_server.route("/new", Reply(200, b"<html>final</html>", {"Content-Type": "text/html"}))
    result = make_fetcher().fetch(http_server.url("/old"), expect="html")
    assert result.body == b"<html>final</html>"
    assert result.url == http_server.url("/old")
    assert result.final_url == f"http://localhost:{http_server.port}/new"


def test_too_many_redirects(http_server, make_fetcher):
    http_server.route("/loop", Reply(302, headers={"Location": "/loop"}))
    with pytest.raises(FetchError, match="too many redirects"):
        make_fetcher(max_redirects=5).fetch(http_server.url("/loop"))
    assert http_server.hits["/loop"] == 6


def test_connection_refused_is_a_fetch_error(http_server, make_fetcher):
    port = http_server.port
    http_server.close()
    with pytest.raises(FetchError, match="cannot fetch"):
        make_fetcher().fetch(f"http://127.0.0.1:{port}/")


def test_tls_is_verified(http_server, make_fetcher):
    """https to a server that does not speak TLS (and has no certificate for the name) fails cleanly."""
    with pytest.raises(FetchError):
        make_fetcher(retries=0).fetch(f"https://127.0.0.1:{http_server.port}/")


def test_redirect_to_a_non_http_url_is_refused(http_server, make_fetcher):
    http_server.route("/r", Reply(302, headers={"Location": "file:///etc/passwd"}))
    with pytest.raises(FetchError, match="unusable URL"):
        make_fetcher().fetch(http_server.url("/r"))


@pytest.mark.parametrize("target", [
    "http://10.0.0.1/admin",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:{port}/",
    "http://127.0.0.2:{port}/",
    "http://0.0.0.0:{port}/",
    "http://017700000002:{port}/",  # 127.0.0.2 in octal
    "http://intranet.corp.example/",
])
def test_redirect_to_a_blocked_address_is_refused_before_connecting(http_server, make_fetcher, connections,
                                                                     target):
    target = target.format(port=http_server.port)
    http_server.route("/go", Reply(302, headers={"Location": target}))
    resolver_calls = []

    def resolver(host, port):
        resolver_calls.append(host)
        return {"intranet.corp.example": ["192.168.10.20"]}[host]

    fetcher = make_fetcher(resolver=resolver)  # 127.0.0.1 itself is allowed: the first hop works
    with pytest.raises(BlockedAddressError):
        fetcher.fetch(http_server.url("/go"))
    assert http_server.hits["/go"] == 1
    assert connections == [("127.0.0.1", http_server.port)]  # only the first hop ever connected


@pytest.mark.parametrize("allow, followed", [((), False), (("127.0.0.1",), True)])
def test_redirect_to_loopback_depends_on_the_allow_list(http_server, make_fetcher, connections, monkeypatch,
                                                        allow, followed):
    """A public site redirecting to http://127.0.0.1/: refused at that hop unless 127.0.0.1 is allowed."""
    http_server.route("/go", Reply(302, headers={"Location": f"http://127.0.0.1:{http_server.port}/page"}))
    http_server.route("/page", Reply(200, b"<p>internal</p>", {"Content-Type": "text/html"}))
    fetcher = make_fetcher(resolver=lambda host, port: ["127.0.0.1"], allow_addresses=allow)
    # Stand-in for a public web site: the test server can only listen on 127.0.0.1, so the policy is told
    # that this one name is public. Every other host (here, the redirect target) gets the real check.
    real_vet = fetcher.policy.vet
    monkeypatch.setattr(fetcher.policy, "vet", lambda host, addresses: list(addresses)
                        if host == "public-site.example" else real_vet(host, addresses))

    url = f"http://public-site.example:{http_server.port}/go"
    if followed:
        assert fetcher.fetch(url).body == b"<p>internal</p>"
        assert http_server.hits["/page"] == 1
    else:
        with pytest.raises(BlockedAddressError, match="127.0.0.1"):
            fetcher.fetch(url)
        assert http_server.hits["/page"] == 0
        assert connections == [("127.0.0.1", http_server.port)]  # the public hop only


def test_a_name_resolving_to_public_and_private_addresses_only_reaches_the_permitted_one(
        http_server, make_fetcher, connections):
    http_server.route("/", Reply(200, b"hello"))
    calls = []

    def rebinding_resolver(host, port):
        calls.append(host)  # a rebinding attacker would answer differently the second time
        return ["10.0.0.7", "127.0.0.1"] if len(calls) == 1 else ["10.0.0.7"]

    fetcher = make_fetcher(resolver=rebinding_resolver)
    assert fetcher.fetch(f"http://rebind.example:{http_server.port}/").body == b"hello"
    assert calls == ["rebind.example"]  # resolved once; the socket went to the vetted IP, no second lookup
    assert connections == [("127.0.0.1", http_server.port)]


SSRF_URLS = [
    "http://127.0.0.1:{port}/",
    "http://localhost:{port}/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/iam/",
    "http://100.64.0.1/",
    "http://0.0.0.0:{port}/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://[::1]:{port}/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[::ffff:10.0.0.1]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[64:ff9b::a00:1]/",  # NAT64 form of 10.0.0.1
    "http://[2002:a00:1::1]/",  # 6to4 form of 10.0.0.1
    "http://2130706433:{port}/",  # 127.0.0.1 as one decimal number
    "http://0177.0.0.1:{port}/",  # octal
    "http://0x7f.1:{port}/",  # hex, two parts
    "https://127.0.0.1:{port}/",
]


@pytest.mark.parametrize("url", SSRF_URLS)
def test_private_and_special_addresses_are_refused_before_connecting(http_server, make_fetcher, connections,
                                                                     url):
    fetcher = make_fetcher(allow_addresses=())
    with pytest.raises(BlockedAddressError, match="not a public address"):
        fetcher.fetch(url.format(port=http_server.port))
    assert connections == []
    assert not http_server.requests


def test_a_name_resolving_to_a_private_address_is_refused(make_fetcher, connections):
    fetcher = make_fetcher(resolver=lambda host, port: ["10.20.30.40"])
    with pytest.raises(BlockedAddressError, match="10.20.30.40"):
        fetcher.fetch("https://internal-dashboard.example/")
    assert connections == []


def test_unresolvable_host_is_a_fetch_error(make_fetcher, connections):
    def resolver(host, port):
        raise FetchError(f"cannot resolve host {host!r}")

    with pytest.raises(FetchError, match="cannot resolve"):
        make_fetcher(resolver=resolver).fetch("http://nowhere.example/")
    assert connections == []


@pytest.mark.parametrize("url", ["ftp://example.com/file", "file:///etc/passwd", "gopher://127.0.0.1/",
                                 "http:///nohost", "not a url", ""])
def test_non_http_urls_are_invalid(make_fetcher, url, connections):
    with pytest.raises(InvalidURLError):
        make_fetcher().fetch(url)
    assert connections == []


def test_public_address_classification():
    for public in ("8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert is_public_address(public), public
    for private in ("127.0.0.1", "10.1.1.1", "192.168.0.1", "172.31.255.255", "169.254.169.254", "100.64.1.1",
                    "0.0.0.0", "240.0.0.1", "198.18.0.1", "192.0.2.1", "224.0.0.251", "::1", "::", "fe80::1",
                    "fd12:3456::1", "ff02::1", "::ffff:192.168.1.1", "64:ff9b::7f00:1", "2002:7f00:1::",
                    "2001:db8::1"):
        assert not is_public_address(private), private


def test_5xx_then_success_is_retried(http_server, make_fetcher):
    http_server.route("/flaky", lambda handler, hit: Reply(503 if hit < 3 else 200, b"finally"))
    result = make_fetcher(retries=3).fetch(http_server.url("/flaky"))
    assert result.body == b"finally"
    assert http_server.hits["/flaky"] == 3


def test_persistent_5xx_gives_up_after_the_retries(http_server, make_fetcher):
    http_server.route("/down", Reply(500, b"oops"))
    with pytest.raises(HTTPStatusError) as caught:
        make_fetcher(retries=2).fetch(http_server.url("/down"))
    assert caught.value.http_status == 500
    assert http_server.hits["/down"] == 3


def test_404_is_not_retried(http_server, make_fetcher):
    with pytest.raises(HTTPStatusError) as caught:
        make_fetcher(retries=3).fetch(http_server.url("/missing"))
    assert caught.value.http_status == 404 and isinstance(caught.value, FetchError)
    assert http_server.hits["/missing"] == 1


def test_429_retry_after_is_honoured(http_server, make_fetcher):
    http_server.route("/busy", lambda handler, hit: Reply(429, headers={"Retry-After": "1"}) if hit == 1
                      else Reply(200, b"served"))
    started = time.monotonic()
    result = make_fetcher(retries=1).fetch(http_server.url("/busy"))
    waited = http_server.requests[1][0] - http_server.requests[0][0]
    assert result.body == b"served"
    assert waited >= 0.95, waited
    assert time.monotonic() - started < 5


def test_429_retry_after_beyond_the_cap_is_not_waited_for(http_server, make_fetcher):
    http_server.route("/busy", Reply(429, headers={"Retry-After": "3600"}))
    started = time.monotonic()
    with pytest.raises(HTTPStatusError, match="retry after 3600s") as caught:
        make_fetcher(retries=3, retry_after_max=30).fetch(http_server.url("/busy"))
    assert caught.value.http_status == 429
    assert http_server.hits["/busy"] == 1
    assert time.monotonic() - started < 1


def test_read_timeout_is_retried_then_reported(http_server, make_fetcher):
    http_server.route("/slow", Reply(200, b"late", delay=0.6))
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        make_fetcher(read_timeout=0.15, retries=1).fetch(http_server.url("/slow"))
    assert time.monotonic() - started < 2
    assert http_server.hits["/slow"] == 2


def test_total_timeout_bounds_a_trickling_body(http_server, make_fetcher):
    def trickle(handler, hit):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        try:
            for _ in range(40):
                handler.wfile.write(b"x" * 10)
                handler.wfile.flush()
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass

    http_server.route("/trickle", trickle)
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out|total timeout"):
        make_fetcher(read_timeout=1.0, total_timeout=0.4, retries=2).fetch(http_server.url("/trickle"))
    assert time.monotonic() - started < 1.5


def test_declared_oversize_body_is_refused_without_reading(http_server, make_fetcher):
    http_server.route("/big", Reply(200, b"x" * 5000))
    with pytest.raises(FetchError, match="too large"):
        make_fetcher(max_bytes=1000).fetch(http_server.url("/big"))


def test_undeclared_oversize_body_is_cut_off_while_streaming(http_server, make_fetcher):
    def endless(handler, hit):
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        try:
            for _ in range(200):
                handler.wfile.write(b"400\r\n" + b"y" * 0x400 + b"\r\n")
            handler.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    http_server.route("/endless", endless)
    with pytest.raises(FetchError, match="too large"):
        make_fetcher(max_bytes=10_000).fetch(http_server.url("/endless"))


def test_compression_bomb_is_cut_off_on_decoded_size(http_server, make_fetcher):
    bomb = gzip.compress(b"\0" * 5_000_000)
    assert len(bomb) < 10_000
    http_server.route("/bomb", Reply(200, bomb, {"Content-Encoding": "gzip", "Content-Type": "text/html"}))
    with pytest.raises(FetchError, match="too large"):
        make_fetcher(max_bytes=100_000).fetch(http_server.url("/bomb"))


def test_gzip_bodies_are_decoded(http_server, make_fetcher):
    http_server.route("/gz", Reply(200, gzip.compress(FEED), {"Content-Encoding": "gzip"}))
    assert make_fetcher().fetch(http_server.url("/gz")).body == FEED


@pytest.mark.parametrize("content_type, body", [
    ("image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100),
    ("application/octet-stream", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"),
    ("text/html", b"\x00\x01\x02\x03binary\xff\xfe" * 20),
])
def test_binary_answers_are_refused_where_html_is_expected(http_server, make_fetcher, content_type, body):
    http_server.route("/file", Reply(200, body, {"Content-Type": content_type}))
    fetcher = make_fetcher()
    with pytest.raises(FetchError, match="not HTML"):
        fetcher.fetch(http_server.url("/file"), expect="html")
    assert fetcher.fetch(http_server.url("/file")).body == body  # without an expectation, bytes are bytes


def test_per_host_delay_spaces_requests_to_the_same_host(http_server, make_fetcher):
    http_server.route("/a", Reply(200, b"a"))
    fetcher = make_fetcher(per_host_delay=0.25)
    for _ in range(3):
        fetcher.fetch(http_server.url("/a"))
    starts = [when for when, _, _ in http_server.requests]
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert all(gap >= 0.22 for gap in gaps), gaps


def test_per_host_concurrency_limit_holds_across_threads(http_server, make_fetcher):
    http_server.route("/work", Reply(200, b"done", delay=0.1))
    fetcher = make_fetcher(per_host_concurrency=2)
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: fetcher.fetch(http_server.url("/work")), range(6)))
    assert all(r.body == b"done" for r in results)
    assert http_server.max_in_flight == 2


def test_proxy_settings_from_the_environment_are_ignored(http_server, make_fetcher, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    http_server.route("/direct", Reply(200, b"direct"))
    assert make_fetcher().fetch(http_server.url("/direct")).body == b"direct"


def test_config_from_a_mapping_of_field_names():
    config = FetchConfig.from_mapping({"allow_addresses": ["127.0.0.1", "10.0.0.0/8"], "retries": "4",
                                       "per_host_delay": "0.5", "per_host_concurrency": "3", "max_bytes": None})
    assert config.allow_addresses == ("127.0.0.1", "10.0.0.0/8")
    assert config.per_host_delay == 0.5 and config.retries == 4 and config.per_host_concurrency == 3
    assert config.max_bytes == FetchConfig().max_bytes  # None means the default
    assert FetchConfig(allow_addresses="127.0.0.1, ::1").allow_addresses == ("127.0.0.1", "::1")
    with pytest.raises(ValueError, match="allow_addresses"):
        FetchConfig(allow_addresses=("localhost",))
    with pytest.raises(ValueError, match="max_bytes"):
        FetchConfig(max_bytes=0)


@pytest.mark.parametrize("mapping, message", [
    # One spelling per setting: the Flask-style aliases are gone, and an unknown key is never ignored.
    ({"FETCH_RETRIES": "4"}, "unknown fetch setting.*FETCH_RETRIES"),
    ({"FETCH_ALLOW": ["127.0.0.1"]}, "unknown fetch setting.*FETCH_ALLOW"),
    ({"per_host_delai": 1}, "per_host_delai"),
    ({"per_host_delay": "soon"}, "per_host_delay must be a number"),
    ({"per_host_delay": "-1"}, "per_host_delay must not be negative"),
    ({"per_host_delay": "inf"}, "per_host_delay must not be negative"),
    ({"per_host_concurrency": "0"}, "per_host_concurrency must be at least 1"),
    ({"per_host_concurrency": "1.5"}, "per_host_concurrency must be a number"),
    ({"total_timeout": "nan"}, "total_timeout must be a positive number"),
])
def test_config_from_a_mapping_refuses_unknown_keys_and_bad_values(mapping, message):
    with pytest.raises(ValueError, match=message):
        FetchConfig.from_mapping(mapping)


def test_a_host_is_resolved_once_for_many_fetches(http_server, make_fetcher, monkeypatch):
    """Names are resolved before queueing for the host (so a refused one costs no politeness): the vetted
    addresses are reused for a while rather than asked of DNS again for every article of an outlet."""
    http_server.route("/a", Reply(200, b"a"))
    calls = []

    def resolver(host, port):
        calls.append(host)
        return ["127.0.0.1"]

    fetcher = make_fetcher(resolver=resolver)
    for _ in range(3):
        fetcher.fetch(f"http://news.example:{http_server.port}/a")
    assert calls == ["news.example"]
    monkeypatch.setattr(type(fetcher._transport.backend), "ADDRESS_TTL", 0.0)
    calls.clear()
    fetcher = make_fetcher(resolver=resolver)
    for _ in range(2):
        fetcher.fetch(f"http://news.example:{http_server.port}/a")
    assert calls == ["news.example", "news.example"]
