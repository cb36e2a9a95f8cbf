"""The OpenAPI 3.1 description of the JSON API, served at ``/api/v1/openapi.json``."""
from __future__ import annotations

from flask import Blueprint

from .. import __version__
from ..scale import BIAS_LABELS, FACTUALITY_LEVELS, OWNERSHIP_CATEGORIES

bp = Blueprint("openapi", __name__)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {status: _json(_ref("Error"), text) for status, text in (
    ("400", "Bad input: missing, malformed or non-http URL, oversized query"),
    ("404", "Not found"),
)}

BIAS = {"type": ["object", "null"], "required": ["label", "score"], "properties": {
    "label": {"enum": list(BIAS_LABELS)},
    "score": {"type": "number", "minimum": -3, "maximum": 3,
              "description": "Mean of the raters' scores on the seven-step scale, -3 far left .. +3 far right"}}}

SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
    "Bias": BIAS,
    "RaterRating": {"type": "object", "required": ["rater", "name", "bias", "factuality"], "properties": {
        "rater": {"type": "string", "description": "newstilt (bundled table), mbfc, allsides"},
        "name": {"type": "string"}, "key": {"type": "string"}, "bias": BIAS,
        "bias_raw": {"type": ["string", "null"], "description": "The rater's own label"},
        "factuality": {"enum": [*FACTUALITY_LEVELS, None]},
        "url": {"type": ["string", "null"]}}},
    "Outlet": {"type": "object", "required": ["domain", "name", "aliases", "bias", "factuality", "raters"],
               "properties": {
        "domain": {"type": "string", "description": "Canonical key: host, or host/path for path-scoped outlets"},
        "name": {"type": "string"},
        "aliases": {"type": "array", "items": {"type": "string"}},
        "bias": BIAS,
        "factuality": {"enum": [*FACTUALITY_LEVELS, None]},
        "ownership": {"enum": [*OWNERSHIP_CATEGORIES, None]},
        "country": {"type": ["string", "null"]},
        "raters": {"type": "array", "items": _ref("RaterRating")}}},
    "Lookup": {"type": "object", "required": ["outlet", "match"], "properties": {
        "outlet": _ref("Outlet"),
        "match": {"type": "object", "properties": {
            "key": {"type": "string"}, "host": {"type": "string"}, "kind": {"enum": ["domain", "alias"]}}}}},
    "Table": {"type": "object", "required": ["version", "scale", "platforms", "outlets"], "properties": {
        "version": {"type": "string"},
        "scale": {"type": "object"},
        "platforms": {"type": "array", "items": {"type": "string"}},
        "outlets": {"type": "array", "items": _ref("Outlet")}}},
    "Distribution": {"type": "object", "description": "Distinct outlets (sources) per side; each outlet counts "
                     "once, a syndicated copy not at all, the reader's own outlet (analyze) once. left/center/right "
                     "percent: whole percentages of the rated sources, summing to 100 (0 when none is rated); "
                     "unrated percent: the unrated sources' share of all sources",
                     "properties": {
        "total": {"type": "integer"}, "rated": {"type": "integer"},
        **{side: {"type": "object", "properties": {"count": {"type": "integer"}, "percent": {"type": "integer"}}}
           for side in ("left", "center", "right", "unrated")},
        "percent_of": {"const": "rated"},
        "detail": {"type": "object", "description": "Count per seven-step label",
                   "properties": {label: {"type": "integer"} for label in BIAS_LABELS}}}},
    "SummaryBullet": {"type": "object", "required": ["text", "url", "outlet"], "properties": {
        "text": {"type": "string", "description": "A sentence (or a contiguous span of one) quoted verbatim"},
        "url": {"type": "string"}, "outlet": {"type": ["object", "null"]}, "article_id": {"type": "integer"}}},
    "CoverageDetails": {"type": "object", "properties": {
        "sources": {"type": "integer"},
        "factuality": {"type": "object", "description": "Sources per factuality level (and unknown)"},
        "ownership": {"type": "object", "description": "Sources per ownership category (and unknown)"},
        "owners": {"type": "object", "description": "Sources per owner name"},
        "countries": {"type": "object", "description": "Sources per country code (and unknown)"},
        "questionable": {"type": "object", "properties": {"count": {"type": "integer"},
                                                          "sources": {"type": "array", "items": {"type": "object"}}}},
        "original_reporting": {"type": "object", "description": "Articles, original ones, syndicated copies, "
                               "percent original"}}},
    "Blindspot": {"type": "object", "properties": {
        "side": {"enum": ["left", "right", None], "description": "The side that is missing the story"},
        "rule": {"type": "object"}, "explanation": {"type": "string"}}},
    "StoryArticle": {"type": "object", "properties": {
        "id": {"type": "integer"}, "url": {"type": "string"}, "title": {"type": "string"},
        "published": {"type": ["string", "null"], "format": "date-time"},
        "outlet": {"type": ["object", "null"]},
        "also_carried_by": {"type": "array", "items": {"type": "object"}}}},
    "Story": {"type": "object", "required": ["id", "title", "distribution", "blindspot"], "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"},
        "first_published": {"type": ["string", "null"]}, "last_published": {"type": ["string", "null"]},
        "last_updated": {"type": ["string", "null"], "description": "When an article last joined"},
        "article_count": {"type": "integer"},
        "source_count": {"type": "integer", "description": "= distribution.total"},
        "includes_this_page": {"type": "boolean", "description": "In analyze: whether the analysed page is a "
                               "stored member (true) or a new page matched to the story (false); its outlet is "
                               "counted in the distribution either way"},
        "distribution": _ref("Distribution"), "blindspot": _ref("Blindspot"),
        "summary": {"type": "array", "items": _ref("SummaryBullet"), "description": "3-5 quoted sentences for a "
                    "story of 2+ sources (fewer when the texts are short), else empty"},
        "coverage": _ref("CoverageDetails"),
        "framing": {"type": "object", "description": "Words only one side's headlines and ledes use",
                    "properties": {"available": {"type": "boolean"}, "left": {"type": "array"},
                                   "right": {"type": "array"}}},
        "timeline": {"type": "array", "items": {"type": "object"}, "description": "Every article by publication"},
        "articles": {"type": "object", "description": "Articles grouped by side: left, center, right, unrated "
                     "(group headings count sources: distribution[side].count)",
                     "additionalProperties": {"type": "array", "items": _ref("StoryArticle")}}}},
    "Analysis": {"type": "object", "properties": {
        "url": {"type": "string"}, "outlet": {"oneOf": [_ref("Lookup"), {"type": "null"}]},
        "article": {"type": ["object", "null"]}, "story": {"oneOf": [_ref("Story"), {"type": "null"}]},
        "match": {"type": ["object", "null"], "description": "Similarity score, shared key terms, time gap"},
        "lean": {"type": ["object", "null"],
                 "description": "The article scorer's answer, or model: null and a reason"}}},
}

PATHS = {
    "/healthz": {"get": {"summary": "Liveness and database check", "responses": {"200": _json(
        {"type": "object"}, "The service is up")}}},
    "/api/v1/sources": {"get": {
        "summary": "Every rated outlet, for the extension's local cache",
        "parameters": [{"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}],
        "responses": {"200": _json(_ref("Table"), "The table, with an ETag"), "304": {"description": "Unchanged"}}}},
    "/api/v1/sources/lookup": {"get": {
        "summary": "The outlet a URL belongs to",
        "parameters": [{"name": "url", "in": "query", "required": True, "schema": {"type": "string",
                                                                                   "maxLength": 2048}}],
        "responses": {"200": _json(_ref("Lookup"), "The matched outlet"), **ERRORS}}},
    "/api/v1/analyze": {"post": {
        "summary": "The outlet, article, story and lean of a page the reader is on",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["url"], "properties": {
                "url": {"type": "string", "maxLength": 2048},
                "html": {"type": "string", "description": "The page's HTML; extracted, never stored by default"},
                "title": {"type": "string"}}}}}},
        "responses": {"200": _json(_ref("Analysis"), "The analysis"), **ERRORS,
                      "413": _json(_ref("Error"), "Body over the configured limit (default 5 MB)")}}},
    "/api/v1/score": {"post": {
        "summary": "How an article leans: left/center/right probabilities, a score, and the phrases that drove it",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "properties": {"title": {"type": "string"}, "text": {"type": "string"}}}}}},
        "responses": {"200": _json({"type": "object"}, "The lean, or model: null and a reason"), **ERRORS,
                      "413": _json(_ref("Error"), "Body over the configured limit")}}},
    "/api/v1/stories": {"get": {
        "summary": "Recent stories, newest first",
        "parameters": [
            {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
            {"name": "date", "in": "query", "schema": {"type": "string", "format": "date"}},
            {"name": "blindspot", "in": "query", "schema": {"enum": ["left", "right", "any"]}},
            {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "Headline words"},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
            {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 10000}},
            {"name": "min_sources", "in": "query", "schema": {"type": "integer", "minimum": 0}}],
        "responses": {"200": _json({"type": "object", "properties": {
            "stories": {"type": "array", "items": _ref("Story")},
            "next_offset": {"type": ["integer", "null"]}}}, "Stories"), **ERRORS}}},
    "/api/v1/stories/{story_id}": {"get": {
        "summary": "One story's full coverage",
        "parameters": [{"name": "story_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": _json(_ref("Story"), "The story"), **ERRORS}}},
}


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "newstilt API", "version": __version__,
                 "description": "Outlet ratings, story coverage and article scoring from a self-hosted server."},
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    }


@bp.get("/api/v1/openapi.json")
def openapi():
    """This API's OpenAPI document."""
    return document()
