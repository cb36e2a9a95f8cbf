"""The security audit's findings (issue #10), each pinned: bad input is a 400 never a 500, only the
configured host names are answered, and every response carries the security headers."""
from __future__ import annotations

import json

import pytest

from newstilt.config import Settings
from newstilt.web import create_app
from newstilt.web.security import host_name

from .conftest import FIXTURE_OUTLETS

NESTED = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def sqlite_client(tmp_path):
    """The app on SQLite only: these checks are about the edge, not the backend."""
    app = create_app(Settings.from_env({}, data_dir=tmp_path, ratings_file=FIXTURE_OUTLETS), testing=True)
    yield app.test_client()
    app.extensions["newstilt"].close()


@pytest.mark.parametrize("path", [
    "/api/v1/stories?limit=%C2%B2",                      # '²': str.isdigit says yes, int() says no
    "/api/v1/stories?min_sources=%C2%B2",
    "/api/v1/stories?limit=%D9%A1",                      # '١' (Arabic-Indic one): int() accepts it; we do not
    "/api/v1/stories?limit=99999999999999999999999",
    "/api/v1/stories?min_sources=-1",
    "/api/v1/stories?since=0001-01-01T00:00:00%2B14:00",  # before year 1 once in UTC
    "/api/v1/stories/9223372036854775808",               # 2**63: past the databases' integers
    "/api/v1/stories/100000000000000000000000000000",
    "/api/v1/stories/0",
])
def test_bad_parameters_are_json_400s(sqlite_client, path):
    response = sqlite_client.get(path)
    assert response.status_code == 400, response.data[:300]
    assert response.json["error"]["code"] == "bad_request" and response.json["error"]["message"]


def test_story_page_with_an_id_past_the_integers_is_a_400(sqlite_client):
    assert sqlite_client.get("/stories/9223372036854775808").status_code == 400
    assert sqlite_client.get("/stories/9223372036854775807").status_code == 404   # the largest id: none such


@pytest.mark.parametrize("path", ["/api/v1/analyze", "/api/v1/score"])
def test_a_body_nested_past_the_recursion_limit_is_a_400(sqlite_client, path):
    response = sqlite_client.post(path, data=NESTED, content_type="application/json")
    assert response.status_code == 400 and "nested too deeply" in response.json["error"]["message"]


def test_a_url_with_a_lone_surrogate_is_a_400(sqlite_client):
    body = '{"url": "http://a.com/\\ud800"}'
    response = sqlite_client.post("/api/v1/analyze", data=body, content_type="application/json")
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_url"


def test_lone_surrogates_in_page_text_are_replaced_not_fatal(sqlite_client):
    text = "Officials said the plan would go ahead. " * 30
    body = json.dumps({"url": "https://www.nytimes.com/2024/a.html", "title": "Plan \ud800 ahead",
                       "html": f"<html><body><article><h1>Plan</h1><p>{text}\ud83d</p></article></body></html>"})
    response = sqlite_client.post("/api/v1/analyze", data=body, content_type="application/json")
    assert response.status_code == 200
    assert sqlite_client.post("/api/v1/score", data=json.dumps({"title": "a\udfff", "text": text}),
                              content_type="application/json").status_code == 200


@pytest.mark.parametrize(("body", "code"), [
    ({"url": "https://x.com/" + "a" * 3000}, "invalid_url"),
    ({"url": 5}, "invalid_url"),
    ({"url": "https://x.com/a", "title": "t" * 5000}, "bad_request"),
    ({"title": "t" * 5000}, "bad_request"),
])
def test_over_long_or_mistyped_fields_are_400s(sqlite_client, body, code):
    path = "/api/v1/score" if "url" not in body else "/api/v1/analyze"
    response = sqlite_client.post(path, json=body)
    assert response.status_code == 400 and response.json["error"]["code"] == code


# -- DNS rebinding: the Host allowlist ----------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1:8470", "localhost", "LOCALHOST:8470", "[::1]:8470", "[::1]"])
def test_loopback_host_names_are_answered(sqlite_client, host):
    assert sqlite_client.get("/healthz", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8470", "127.0.0.1.evil.example", "x",
                                  "localhost.", "[::2]:8470"])
def test_other_host_names_are_refused(sqlite_client, host):
    response = sqlite_client.get("/api/v1/sources/lookup?url=https://www.nytimes.com/", headers={"Host": host})
    assert response.status_code == 400 and "host" in response.json["error"]["message"]
    assert sqlite_client.get("/", headers={"Host": host}).status_code == 400


def test_allowed_hosts_and_the_listening_address_are_answered(tmp_path):
    settings = Settings.from_env({"NEWSTILT_ALLOWED_HOSTS": "news.example.org, [2001:db8::1]"}, data_dir=tmp_path,
                                 host="192.0.2.10", ratings_file=FIXTURE_OUTLETS)
    client = create_app(settings, testing=True).test_client()
    for host in ("news.example.org", "NEWS.example.org:443", "[2001:db8::1]:8470", "192.0.2.10:8470", "localhost"):
        assert client.get("/healthz", headers={"Host": host}).status_code == 200, host
    assert client.get("/healthz", headers={"Host": "other.example.org"}).status_code == 400
    anything = create_app(settings.replace(allowed_hosts=("*",)), testing=True).test_client()
    assert anything.get("/healthz", headers={"Host": "other.example.org"}).status_code == 200


def test_the_allowed_host_flag_takes_a_comma_list_and_repeats():
    settings = Settings.from_env({}, allowed_hosts=("a.example.org,b.example.org", "c.example.org"))
    assert {"a.example.org", "b.example.org", "c.example.org"} <= settings.hosts


def test_forwarded_headers_are_ignored_unless_a_proxy_is_trusted(tmp_path):
    settings = Settings.from_env({}, data_dir=tmp_path, allowed_hosts=("news.example.org",),
                                 ratings_file=FIXTURE_OUTLETS)
    forwarded = {"Host": "localhost", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    direct = create_app(settings, testing=True).test_client()
    assert direct.get("/healthz", headers=forwarded).status_code == 200       # X-Forwarded-Host not believed
    proxied = create_app(settings.replace(trusted_proxies=1), testing=True).test_client()
    assert proxied.get("/healthz", headers=forwarded).status_code == 400      # believed, and not allowed
    assert proxied.get("/healthz", headers={**forwarded, "X-Forwarded-Host": "news.example.org"}).status_code == 200


def test_host_name_parsing():
    assert host_name("Example.ORG:8470") == "example.org"
    assert host_name("[::1]:80") == "[::1]" and host_name("[::1]") == "[::1]"
    assert host_name("example.org") == "example.org" and host_name("a:b") == "a:b"


# -- security headers ---------------------------------------------------------------------------------------------

def test_html_pages_have_a_strict_content_security_policy(sqlite_client):
    for path in ("/", "/methodology", "/no-such-page"):
        response = sqlite_client.get(path)
        assert response.mimetype == "text/html", path
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert b"<script" not in response.data.lower()


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/sources", "/api/v1/openapi.json", "/api/v1/nothing",
                                  "/api/v1/stories/0"])
def test_every_response_has_the_security_headers(sqlite_client, path):
    response = sqlite_client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
