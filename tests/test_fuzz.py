"""Fuzzing the API from its OpenAPI document (schemathesis, in process through WSGI): for generated valid and
invalid parameters and bodies, no answer is a 5xx, and every answer is one the document lists, with a body
that matches its schema. Bounded: a few dozen examples per operation, seconds in all.

Beside the generated cases, the inputs the security audit (issue #10) and the extractor's own fuzzing found
are replayed as explicit examples (JSON-LD and dates inside ``html`` among them).
"""
from __future__ import annotations

import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from newstilt.web.openapi import document

from .test_contract import check, served  # noqa: F401 - the module-scoped app fixture

MAX_EXAMPLES = int(os.environ.get("NEWSTILT_FUZZ_EXAMPLES", "25"))
FUZZ_SETTINGS = settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                         derandomize=bool(os.environ.get("CI")),
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def api_schema(served):  # noqa: F811
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", served)


OPERATIONS = [(path, method) for path, ops in document()["paths"].items() for method in ops]
#: Operations that take input that can be invalid (any header value is a valid string).
WITH_INPUT = {(path, method) for path, ops in document()["paths"].items() for method, op in ops.items()
              if op.get("requestBody") or any(p["in"] != "header" for p in op.get("parameters", ()))}
#: No 5xx, a documented status and content type, a body matching its schema, and invalid input refused. Not
#: schemathesis' "positive data acceptance": a string the schema allows may still be no URL, a 400.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]


# schemathesis' own pytest integration (``from_fixture``) does not run under pytest 9, so each operation's
# strategy is drawn by Hypothesis here: valid input (positive) and input the document forbids (negative).
RUNS = [(path, method, mode) for path, method in OPERATIONS
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if mode is GenerationMode.POSITIVE or (path, method) in WITH_INPUT]


@pytest.mark.parametrize(("path", "method", "mode"), RUNS, ids=[f"{m.upper()} {p} {g.value}" for p, m, g in RUNS])
def test_no_input_makes_the_api_fail_or_break_its_contract(api_schema, path, method, mode):
    operation = api_schema[path][method]

    @FUZZ_SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        case.call_and_validate(checks=CHECKS)

    run()


# -- hand-picked hostile input, replayed on every run ---------------------------------------------------------

JSON_LD = '<script type="application/ld+json">{}</script>'
PAGES = [
    # dates past the datetime range once in UTC (extract.py raised OverflowError)
    JSON_LD.format('{"@type": "NewsArticle", "datePublished": "9999-12-31T23:59:59-23:59"}'),
    JSON_LD.format('{"@type": "NewsArticle", "datePublished": "0001-01-01T00:00:00+14:00"}'),
    JSON_LD.format('{"@type": "NewsArticle", "datePublished": 1e400, "headline": ["a", {"b": null}]}'),
    JSON_LD.format('{"@graph": ' + "[" * 5000 + "]" * 5000 + "}"),
    JSON_LD.format('[{"@type": ["NewsArticle"], "author": {"name": {"name": 5}}, "datePublished": "2024-02-30"}]'),
    JSON_LD.format("{\"headline\": \"\\ud800\"}"),
    '<meta property="article:published_time" content="99999-01-01T00:00:00Z">',
    '<meta property="article:published_time" content="-0001-01-01">',
    '<meta property="article:published_time" content="2024-01-01T25:61:61+99:99">',
    '<time datetime="\U0010ffff"></time><p>' + "x " * 300 + "</p>",
    "<html>" + "<div>" * 5000 + "deep" + "</div>" * 5000 + "</html>",
    "\x00" * 100 + "<p>nul</p>",
    "<?xml version='1.0' encoding='x-unknown'?><html><p>text</p></html>",
]


@pytest.mark.parametrize("html", PAGES)
def test_hostile_pages_are_answered_without_a_server_error(served, html):  # noqa: F811
    page = f"<html><head><title>T</title>{html}</head><body><article><p>{'Words of the article. ' * 40}</p>" \
           "</article></body></html>"
    response = served.test_client().post("/api/v1/analyze", json={"url": "https://www.nytimes.com/2024/x.html",
                                                                  "html": page})
    assert response.status_code < 500, response.data[:500]
    check(response, "/api/v1/analyze", "post")


@FUZZ_SETTINGS
@given(body=st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                         lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                         max_leaves=20))
@example(body="[" * 100_000)
@example(body={"url": "http://a.com/\ud800"})
@example(body={"url": "https://www.nytimes.com/a", "html": "\ud800" * 10, "title": "\udfff"})
@example(body={"url": "https://www.nytimes.com/a", "html": None, "title": None, "extra": [1, 2]})
@example(body={"title": "", "text": "\u0000" * 100})
def test_any_json_body_is_answered_without_a_server_error(served, body):  # noqa: F811
    client = served.test_client()
    data = body if isinstance(body, str) and body.startswith("[") else json.dumps(body)
    for path in ("/api/v1/analyze", "/api/v1/score"):
        response = client.post(path, data=data, content_type="application/json")
        assert response.status_code < 500, (path, response.data[:300])
        check(response, path, "post")
