"""The OpenAPI 3.1 description of the service, served at ``/api/v1/openapi.json``.

Built, never written by hand: response and request bodies are the ``TypedDict`` classes of
``newstilt.api_types`` (each becomes a component schema), query parameters are the declarations the views
validate with (``newstilt.web.validate``). ``tests/test_contract.py`` checks that every route of the app is
here and every path here is a route, and validates real responses of every endpoint against this document.
"""
from __future__ import annotations

from functools import cache

from flask import Blueprint

from .. import __version__, api_types
from ..api_types import (
    Analysis,
    AnalyzeRequest,
    Error,
    Health,
    Lean,
    Lookup,
    NoModel,
    ScoreRequest,
    Story,
    StoryList,
    Table,
)

bp = Blueprint("openapi", __name__)

ERROR_TEXT = {
    "400": "Bad input: a missing, malformed or over-long parameter or body, or a host name the server does not "
           "answer to",
    "404": "Not found",
    "413": "Body over the configured limit (default 5 MB)",
}


def _id_parameter(name: str, description: str) -> dict:
    from .validate import ID_SCHEMA

    return {"name": name, "in": "path", "required": True, "schema": ID_SCHEMA, "description": description}


def _operations(schema_of) -> dict:
    """``{path: {method: operation}}``; ``schema_of(type)`` gives a type's schema (components by reference)."""
    from .pages import DAY, PAGE, SIDE, WORDS
    from .sources import LOOKUP_QUERY
    from .stories import LIST_QUERY

    def json(tp, description: str) -> dict:
        return {"description": description, "content": {"application/json": {"schema": schema_of(tp)}}}

    def errors(*statuses: str) -> dict:
        return {status: json(Error, ERROR_TEXT[status]) for status in statuses}

    def body(tp) -> dict:
        return {"required": True, "content": {"application/json": {"schema": schema_of(tp)}}}

    html = {"description": "An HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}
    story_id = _id_parameter("story_id", "The story's id")
    return {
        "/healthz": {"get": {
            "summary": "Liveness: the service is up, its database answers, and whether a scorer is loaded",
            "responses": {"200": json(Health, "The service is up")}}},
        "/api/v1/openapi.json": {"get": {
            "summary": "This document", "responses": {"200": {
                "description": "The OpenAPI document",
                "content": {"application/json": {"schema": {"type": "object", "required": ["openapi", "paths"]}}}}}}},
        "/api/v1/sources": {"get": {
            "summary": "Every rated outlet, for the extension's local cache",
            "parameters": [{"name": "If-None-Match", "in": "header", "required": False,
                            "schema": {"type": "string"}}],
            "responses": {"200": json(Table, "The table, with an ETag"),
                          "304": {"description": "Unchanged since the ETag given in If-None-Match"}}}},
        "/api/v1/sources/lookup": {"get": {
            "summary": "The outlet a URL belongs to",
            "parameters": [p.openapi() for p in LOOKUP_QUERY],
            "responses": {"200": json(Lookup, "The matched outlet"), **errors("400", "404")}}},
        "/api/v1/analyze": {"post": {
            "summary": "The outlet, article, story and lean of a page the reader is on",
            "requestBody": body(AnalyzeRequest),
            "responses": {"200": json(Analysis, "The analysis"), **errors("400", "413")}}},
        "/api/v1/score": {"post": {
            "summary": "How an article leans: left/center/right probabilities, a score, and the phrases that "
                       "drove it",
            "requestBody": body(ScoreRequest),
            "responses": {"200": json(Lean | NoModel, "The lean, or model: null and a reason"),
                          **errors("400", "413")}}},
        "/api/v1/stories": {"get": {
            "summary": "Recent stories, newest first",
            "parameters": [p.openapi() for p in LIST_QUERY],
            "responses": {"200": json(StoryList, "Stories"), **errors("400")}}},
        "/api/v1/stories/{story_id}": {"get": {
            "summary": "One story's full coverage",
            "parameters": [story_id],
            "responses": {"200": json(Story, "The story"), **errors("400", "404")}}},
        "/": {"get": {"summary": "The latest stories covered by two sources or more",
                      "parameters": [DAY.openapi(), PAGE.openapi()], "responses": {"200": html, "400": html}}},
        "/blindspot": {"get": {"summary": "The stories that are blindspots for each side",
                               "parameters": [SIDE.openapi(), PAGE.openapi()],
                               "responses": {"200": html, "400": html}}},
        "/search": {"get": {"summary": "Stories whose headlines hold every word of q",
                            "parameters": [WORDS.openapi(), PAGE.openapi()], "responses": {"200": html, "400": html}}},
        "/sources/{domain}": {"get": {
            "summary": "An outlet's page: its ratings, ownership, recent articles, blindspot appearances",
            "parameters": [{"name": "domain", "in": "path", "required": True, "schema": {"type": "string"},
                            "description": "The outlet's domain or one of its aliases"}, PAGE.openapi()],
            "responses": {"200": html, "400": html, "404": html}}},
        "/about": {"get": {"summary": "What this server is, and where its API lives", "responses": {"200": html}}},
        "/methodology": {"get": {"summary": "How the ratings are chosen and combined", "responses": {"200": html}}},
        "/stories/{story_id}": {"get": {
            "summary": "A story's full coverage as a page", "parameters": [story_id],
            "responses": {"200": html, "400": {**html, "description": "Not a story id"},
                          "404": {**html, "description": "No such story"}}}},
    }


@cache
def document() -> dict:
    """The OpenAPI document (built once per process)."""
    components: dict[str, dict] = {}

    def ref(td) -> dict:
        name = td.__name__
        if name not in components:
            components[name] = {}  # a placeholder first: a class may refer to itself
            components[name] = api_types.object_schema(td, ref)
        return {"$ref": f"#/components/schemas/{name}"}

    def schema_of(tp) -> dict:
        return api_types.json_schema(tp, ref)

    paths = _operations(schema_of)
    return {
        "openapi": "3.1.0",
        "info": {"title": "newstilt API", "version": __version__,
                 "description": "Outlet ratings, story coverage and article scoring from a self-hosted server. "
                                "Every error is `{\"error\": {\"code\", \"message\"}}`."},
        "paths": paths,
        "components": {"schemas": dict(sorted(components.items()))},
    }


@bp.get("/api/v1/openapi.json")
def openapi():
    """This API's OpenAPI document."""
    return document()
