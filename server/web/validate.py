"""Input validation at the edge, used by every blueprint: query parameters, path ids and JSON bodies.

Whatever a client sends gets either a typed value or a 400 with a message naming the parameter; nothing a
client can send reaches the domain code in a form that makes it fail with a 500 (a digit Python's ``int``
refuses, an id wider than the database's integers, a JSON body nested past the parser's recursion limit, a
string with a lone surrogate that cannot be encoded).

Each declared parameter also knows its JSON Schema, from which ``newstilt.web.openapi`` documents it: the
checks and the document cannot drift apart. Request bodies are the ``TypedDict`` classes of
``newstilt.api_types``.
"""
from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import BaseConverter

from .. import api_types
from ..errors import BadRequestError, InvalidURLError

_SURROGATE = re.compile("[\ud800-\udfff]")
_INTEGER = re.compile(r"-?[0-9]{1,19}")  # ASCII digits only: str.isdigit and int() accept '²', '١', ...


def has_surrogates(text: str) -> bool:
    """A lone surrogate (a JSON ``"\\ud800"`` escape) cannot be encoded as UTF-8: lxml, the database and the
    JSON encoder all fail on it."""
    return _SURROGATE.search(text) is not None


def replace_surrogates(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text) if has_surrogates(text) else text


# -- path ids ------------------------------------------------------------------------------------------------

class IdConverter(BaseConverter):
    """``<id:name>``: a positive integer of at most 19 ASCII digits that fits the databases' 64-bit integers;
    other digit strings are a 400 (not a 404 nor a 500)."""

    regex = r"[0-9]+"
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = int(value) if len(value) <= 19 else api_types.MAX_ID + 1
        if not 1 <= number <= api_types.MAX_ID:
            raise BadRequest(f"an id is a whole number from 1 to {api_types.MAX_ID}, not {value[:40]}")
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))


#: The JSON Schema of an ``<id:...>`` path parameter.
ID_SCHEMA = api_types.json_schema(api_types.Id)


# -- query parameters ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Query:
    """One declared query parameter: how to read it, and its JSON Schema for the OpenAPI document."""

    name: str
    schema: dict
    parse: Callable[[str], Any]
    description: str = ""
    default: Any = None
    required: bool = False
    error: type[Exception] = field(default=BadRequestError)

    def read(self, args) -> Any:
        raw = args.get(self.name)
        if raw is None:
            if self.required:
                raise self.error(f"the '{self.name}' query parameter is required")
            return self.default
        return self.parse(raw)

    def openapi(self) -> dict:
        out = {"name": self.name, "in": "query", "required": self.required, "schema": self.schema}
        if self.description:
            out["description"] = self.description
        return out


def read_query(params: Iterable[Query]) -> dict[str, Any]:
    """The values of ``params`` in this request's query string (defaults for the absent ones)."""
    return {p.name: p.read(request.args) for p in params}


def integer(name: str, *, default: int | None = None, minimum: int, maximum: int, description: str = "") -> Query:
    def parse(raw: str) -> int:
        if not _INTEGER.fullmatch(raw) or not minimum <= int(raw) <= maximum:
            raise BadRequestError(f"'{name}' must be a whole number from {minimum} to {maximum}")
        return int(raw)

    schema = {"type": "integer", "minimum": minimum, "maximum": maximum}
    if default is not None:
        schema["default"] = default
    return Query(name, schema, parse, description, default)


def choice(name: str, choices: tuple[str, ...], *, description: str = "") -> Query:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise BadRequestError(f"'{name}' must be {' or '.join(choices)}")
        return raw

    return Query(name, {"enum": list(choices)}, parse, description)


#: A date, or a date and time with an optional offset (naive times are UTC): what ``date_time`` accepts.
DATE_OR_TIME = r"^\d{4}-\d\d-\d\d([Tt ]\d\d:\d\d(:\d\d(\.\d{1,6})?)?([Zz]|[+-]\d\d:\d\d)?)?$"


def date_time(name: str, *, description: str = "") -> Query:
    """An ISO 8601 date or date-time; naive values are taken as UTC. Returned as an aware UTC datetime."""
    pattern = re.compile(DATE_OR_TIME)

    def parse(raw: str) -> datetime:
        try:
            if not pattern.match(raw):
                raise ValueError(raw)
            parsed = datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
        except (ValueError, OverflowError):
            raise BadRequestError(f"'{name}' must be an ISO 8601 date or date-time, not {raw[:60]!r}") from None

    schema = {"type": "string", "pattern": DATE_OR_TIME,
              "description": "A date (2024-03-12) or a date-time (2024-03-12T09:00:00Z); without an offset, UTC"}
    return Query(name, schema, parse, description)


def day(name: str, *, description: str = "") -> Query:
    """A calendar day as ``YYYY-MM-DD``, returned as the aware UTC midnight it starts at."""
    pattern = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

    def parse(raw: str) -> datetime:
        try:
            if not pattern.fullmatch(raw):
                raise ValueError(raw)
            start = date.fromisoformat(raw)
        except ValueError:
            raise BadRequestError(f"'{name}' must be a day as YYYY-MM-DD, not {raw[:60]!r}") from None
        return datetime(start.year, start.month, start.day, tzinfo=UTC)

    schema = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "description": "A day, YYYY-MM-DD"}
    return Query(name, schema, parse, description)


def text(name: str, *, max_length: int = 200, description: str = "") -> Query:
    """Free text (search words): at most ``max_length`` characters; lone surrogates become U+FFFD."""

    def parse(raw: str) -> str:
        if len(raw) > max_length:
            raise BadRequestError(f"'{name}' is longer than {max_length} characters")
        return replace_surrogates(raw)

    return Query(name, {"type": "string", "maxLength": max_length}, parse, description)


def url(name: str, *, description: str = "") -> Query:
    def parse(raw: str) -> str:
        if not raw:
            raise InvalidURLError(f"the '{name}' query parameter is empty")
        if len(raw) > api_types.MAX_URL:
            raise InvalidURLError(f"the URL is longer than {api_types.MAX_URL} characters")
        return raw

    schema = {"type": "string", "minLength": 1, "maxLength": api_types.MAX_URL, "pattern": api_types.URL_PATTERN}
    return Query(name, schema, parse, description, required=True, error=InvalidURLError)


# -- JSON bodies ---------------------------------------------------------------------------------------------

def json_body(shape: type) -> dict:
    """This request's JSON body, checked against ``shape`` (a request ``TypedDict`` of ``api_types``).

    The body must be a JSON object; each declared key must have its declared type (a string, or null where
    the type allows it) within its ``maxLength``; undeclared keys are dropped (newer clients may send more).
    Lone surrogates are replaced by U+FFFD, except in a URL (``api_types.IsURL``), where they are a 400.
    """
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # json.loads of a body nested deeper than the interpreter's recursion limit
        raise BadRequestError("the JSON body is nested too deeply") from None
    if not isinstance(body, dict):
        required = [k for k, (_, req) in api_types.fields(shape).items() if req]
        hint = f" with {', '.join(repr(k) for k in required)}" if required else ""
        raise BadRequestError(f"the body must be a JSON object{hint}")
    out = {}
    for key, (tp, required) in api_types.fields(shape).items():
        if key not in body:
            if required:
                raise _error_class(tp)(f"'{key}' is required")
            continue
        out[key] = _check(key, body[key], tp)
    return out


def _metadata(tp) -> tuple:
    return tuple(typing.get_args(tp)[1:]) if typing.get_origin(tp) is typing.Annotated else ()


def _error_class(tp) -> type[Exception]:
    return InvalidURLError if api_types.IsURL() in _metadata(tp) else BadRequestError


def _check(key: str, value: Any, tp) -> Any:
    extras, error = _metadata(tp), _error_class(tp)
    if extras:
        tp = typing.get_args(tp)[0]
    allows_null = type(None) in typing.get_args(tp)
    if value is None and allows_null:
        return None
    if not isinstance(value, str):
        raise error(f"'{key}' must be a string{' or null' if allows_null else ''}")
    limits = {k: v for meta in extras if isinstance(meta, api_types.Schema) for k, v in meta.items()}
    if len(value) > limits.get("maxLength", len(value)):
        raise error(f"'{key}' is longer than {limits['maxLength']} characters")
    if has_surrogates(value):
        if error is InvalidURLError:
            raise error(f"'{key}' holds a lone surrogate (an unpaired \\ud800-\\udfff escape)")
        value = replace_surrogates(value)
    return value
