"""The JSON API's shapes, defined once.

Every body the API answers with (and every body it accepts) is a ``TypedDict`` here. The OpenAPI document
(``newstilt.web.openapi``) is built from these classes, the request validation (``newstilt.web.validate``) reads
the request classes, and the contract tests validate real responses of every endpoint against the document. So
a field added to a payload is added here, once, and the document, the checks and the tests follow.

How a class becomes a JSON Schema (``json_schema``):

- every key of a class is listed; keys are required unless marked ``NotRequired[...]``, and no other key is
  allowed (``additionalProperties: false``) unless the class sets ``__open__ = True``;
- ``X | None`` may be null; ``Literal[...]`` is an enum; ``list[X]``/``dict[str, X]`` are arrays/maps;
- ``Annotated[X, Schema(...)]`` adds JSON Schema keywords (bounds, lengths, formats, descriptions), as the
  named types below do (``Id``, ``Count``, ``DateTime``, ...).

This module is plain Python: the domain code may import it to annotate what it returns. (No ``from __future__
import annotations`` here: ``NotRequired`` inside string annotations is not seen by Python 3.11.)
"""
import functools
import json
import types
import typing
from datetime import UTC
from typing import Annotated, Any, Literal, NotRequired, TypedDict, Union

from .scale import BIAS_LABELS, FACTUALITY_LEVELS, OWNERSHIP_CATEGORIES, QUESTIONABLE_FLAGS

#: The largest id the API accepts or returns: a signed 64-bit integer (the databases' widest integer).
MAX_ID = 2**63 - 1
#: The longest URL accepted (query parameter or body).
MAX_URL = 2048
#: What a URL the API accepts starts with (the rest is checked by the URL parser).
URL_PATTERN = "^[Hh][Tt][Tt][Pp][Ss]?://"
#: The longest title accepted in a body.
MAX_TITLE = 4096
#: RFC 3339 date-time with a UTC offset, as ``datetime.isoformat()`` writes an aware datetime (or ``Z``).
DATE_TIME_PATTERN = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$"


def iso_datetime(value) -> str | None:
    """A datetime as the API writes it: ISO 8601 with its UTC offset. A naive value (SQLite gives back the
    aware datetimes it stored without their offset) is UTC."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def to_json(value) -> bytes:
    """A JSON answer as the API sends it: compact UTF-8. Answers kept in memory are encoded once this way, not
    on every request."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class Schema(dict):
    """JSON Schema keywords attached to a type with ``Annotated[X, Schema(minimum=0)]``."""

    def __hash__(self):  # ``Annotated`` metadata must be hashable
        return hash(tuple(sorted((key, repr(value)) for key, value in self.items())))


class IsURL:
    """Marks a request string that is a URL: a lone surrogate in it is a 400 (other strings get U+FFFD
    instead), and every error about it has the code ``invalid_url``."""

    def __eq__(self, other):
        return isinstance(other, IsURL)

    def __hash__(self):
        return hash(IsURL)


def _enum(values) -> Schema:
    return Schema(enum=list(values))


# -- named scalar types ----------------------------------------------------------------------------------------

Id = Annotated[int, Schema(minimum=1, maximum=MAX_ID)]
Count = Annotated[int, Schema(minimum=0)]
Percent = Annotated[float, Schema(minimum=0, maximum=100)]
Share = Annotated[float, Schema(minimum=0, maximum=1)]
Probability = Annotated[float, Schema(minimum=0, maximum=1)]
DateTime = Annotated[str, Schema(format="date-time", pattern=DATE_TIME_PATTERN)]
Url = Annotated[str, Schema(minLength=1, maxLength=MAX_URL)]
BiasLabel = Annotated[str, _enum(BIAS_LABELS)]
BiasScore = Annotated[float, Schema(minimum=-3, maximum=3, description="-3 far left .. +3 far right")]
Factuality = Annotated[str, _enum(FACTUALITY_LEVELS)]
Ownership = Annotated[str, _enum(OWNERSHIP_CATEGORIES)]
QuestionableFlag = Annotated[str, _enum(QUESTIONABLE_FLAGS)]
Side = Literal["left", "center", "right"]


# -- errors and health -----------------------------------------------------------------------------------------

class ErrorDetail(TypedDict):
    code: Annotated[str, Schema(pattern=r"^[a-z0-9_]+$", description="Stable, machine-readable")]
    message: str


class Error(TypedDict):
    """Every error of the API (and of /healthz)."""

    error: ErrorDetail


class ModelInfo(TypedDict):
    version: str
    created: str | None
    sha256: Annotated[str, Schema(pattern="^[0-9a-f]{12}$")] | None
    presentation: Annotated[Literal["article_lean", "wording_resemblance"], Schema(
        description="How the label may be shown: as the article's lean only when the model ordered articles by "
                    "people's judgement better than their outlets' ratings did; otherwise as a resemblance")]
    threshold: Annotated[Probability | None, Schema(
        description="Labels are given from this confidence (measured on outlets the model never saw); None: never")]


class ModelLoaded(TypedDict):
    loaded: Literal[True]
    version: str
    created: str | None
    sha256: str | None
    presentation: Literal["article_lean", "wording_resemblance"]
    threshold: Probability | None
    path: str
    trained_on: Annotated[Any, Schema(description="What the model was trained on (its metadata)")]
    evaluation: Annotated[Any, Schema(description="Its measured figures (its metadata)")]


class ModelMissing(TypedDict):
    loaded: Literal[False]
    reason: str


class Health(TypedDict):
    status: Literal["ok"]
    version: str
    database: Literal["sqlite", "postgresql"]
    outlets: Count
    ratings_version: str
    scorer: ModelLoaded | ModelMissing


# -- outlets and ratings ---------------------------------------------------------------------------------------

class Bias(TypedDict):
    label: BiasLabel
    score: BiasScore


class RaterRating(TypedDict):
    rater: Annotated[str, Schema(description="newstilt (the bundled table), mbfc, allsides")]
    name: str
    key: str
    bias: Bias | None
    bias_raw: Annotated[str | None, Schema(description="The rater's own label")]
    factuality: Factuality | None
    url: str | None


class Outlet(TypedDict):
    domain: Annotated[str, Schema(description="Canonical key: host, or host/path for path-scoped outlets")]
    name: str
    aliases: list[str]
    bias: Annotated[Bias | None, Schema(description="The mean of the raters' scores, with its seven-step label")]
    factuality: Factuality | None
    ownership: Ownership | None
    owner: Annotated[str | None, Schema(description="Who owns it: the ultimate owner, then the unit or detail in "
                                                    "parentheses")]
    country: Annotated[str | None, Schema(description="ISO 3166-1 alpha-2 code of its home")]
    language: Annotated[str | None, Schema(description="ISO 639-1 code of its main edition's language")]
    flags: Annotated[list[QuestionableFlag], Schema(description="Why the source is questionable (empty for an "
                                                                "ordinary outlet)")]
    questionable: Annotated[bool, Schema(description="Whether it carries any questionable-source flag")]
    raters: list[RaterRating]


class MatchedKey(TypedDict):
    key: str
    host: str
    kind: Literal["domain", "alias"]


class Lookup(TypedDict):
    outlet: Outlet
    match: MatchedKey


class Scale(TypedDict):
    bias: list[BiasLabel]
    factuality: list[Factuality]


class Table(TypedDict):
    version: str
    generated_at: DateTime
    scale: Scale
    platforms: list[str]
    outlets: list[Outlet]


# -- stories ---------------------------------------------------------------------------------------------------
# STORY PAYLOADS: the shapes ``newstilt.coverage`` and ``newstilt.analysis`` return. Add a field here when the
# payload gains one (``NotRequired[...]`` while some answers lack it); the contract tests check real answers.

class OutletSummary(TypedDict):
    domain: str
    name: str
    bias: Bias | None
    factuality: Factuality | None


class SideCount(TypedDict):
    count: Count
    percent: Annotated[int, Schema(minimum=0, maximum=100, description="Whole percent: of the rated sources for "
                                                                       "left/center/right (summing to 100), of "
                                                                       "all sources for unrated")]


#: Outlets per seven-step label.
BiasDetail = TypedDict("BiasDetail", dict.fromkeys(BIAS_LABELS, Count))


class Distribution(TypedDict):
    """Distinct outlets (sources) per side: each outlet counts once, a syndicated copy not at all, the reader's
    own outlet (in analyze) once whether or not its page is stored. Every count and heading of a story comes from
    this one computation (``newstilt.coverage.distribution``)."""

    total: Count
    rated: Count
    left: SideCount
    center: SideCount
    right: SideCount
    unrated: SideCount
    percent_of: Annotated[Literal["rated"], Schema(description="What left/center/right percent are shares of")]
    detail: BiasDetail


class BlindspotRule(TypedDict):
    min_rated_outlets: Annotated[int, Schema(minimum=1)]
    max_missing_share: Share
    min_dominant_share: Share


class Blindspot(TypedDict):
    side: Annotated[Literal["left", "right"] | None, Schema(description="The side that is missing the story")]
    rule: BlindspotRule
    explanation: str


class CarriedBy(TypedDict):
    url: str
    outlet: OutletSummary | None


class StoryArticle(TypedDict):
    id: Id
    url: str
    title: str
    published: DateTime | None
    outlet: OutletSummary | None
    also_carried_by: list[CarriedBy]


class ArticlesBySide(TypedDict):
    left: list[StoryArticle]
    center: list[StoryArticle]
    right: list[StoryArticle]
    unrated: list[StoryArticle]


class SummaryBullet(TypedDict):
    """A sentence (or a contiguous span of one) quoted verbatim from one of the story's articles, with its source."""

    text: str
    url: str
    outlet: OutletSummary | None
    article_id: Id | None


class Questionable(TypedDict):
    domain: str
    name: str
    flags: list[QuestionableFlag]


class QuestionableSources(TypedDict):
    count: Count
    sources: list[Questionable]


class OriginalReporting(TypedDict):
    articles: Count
    original: Count
    syndicated: Annotated[int, Schema(minimum=0, description="Syndicated copies (the same wire story reprinted)")]
    percent: Annotated[int, Schema(minimum=0, maximum=100)]


class CoverageDetails(TypedDict):
    """What the story's sources are (``unknown`` counts sources without that rating)."""

    sources: Count
    factuality: Annotated[dict[str, Count], Schema(description="Sources per factuality level")]
    ownership: Annotated[dict[str, Count], Schema(description="Sources per ownership category")]
    owners: Annotated[dict[str, Count], Schema(description="Rated sources per owner")]
    countries: Annotated[dict[str, Count], Schema(description="Sources per country (ISO 3166-1 alpha-2)")]
    questionable: QuestionableSources
    original_reporting: OriginalReporting


class TimelineEntry(TypedDict):
    id: Id
    url: str
    title: str
    published: DateTime | None
    outlet: OutletSummary | None
    group: Literal["left", "center", "right", "unrated"]
    syndicated: bool
    first_for_outlet: bool


class FramingArticle(TypedDict):
    id: Id
    url: str
    title: str
    outlet: str | None


class FramingTerm(TypedDict):
    term: str
    articles: list[FramingArticle]


class Framing(TypedDict):
    """Terms one side's headlines and ledes use that the other side's do not, within this story."""

    available: bool
    left: list[FramingTerm]
    right: list[FramingTerm]


class StorySummary(TypedDict):
    """A story as listed: its counts and summary, no articles."""

    id: Id
    title: str
    first_published: DateTime | None
    last_published: DateTime | None
    last_updated: DateTime | None
    article_count: Count
    source_count: Count
    distribution: Distribution
    blindspot: Blindspot
    summary: list[SummaryBullet]


class Story(StorySummary):
    """One story's full coverage."""

    coverage: CoverageDetails
    articles: ArticlesBySide
    timeline: list[TimelineEntry]
    framing: Framing
    includes_this_page: NotRequired[Annotated[bool, Schema(
        description="In analyze: whether the analysed page itself is stored among the story's articles (its "
                    "outlet counts among the sources either way)")]]


class StoryList(TypedDict):
    stories: list[StorySummary]
    next_offset: Annotated[int | None, Schema(description="The offset of the next page; null on the last")]


# -- the article scorer ----------------------------------------------------------------------------------------

class Probabilities(TypedDict):
    left: Probability
    center: Probability
    right: Probability


class ExplainedTerm(TypedDict):
    term: str
    weight: float
    side: Side
    spans: list[Annotated[list[Count], Schema(minItems=2, maxItems=2)]]


class Language(TypedDict):
    english_ratio: Share
    words: Count


class Lean(TypedDict):
    """The article scorer's answer (see ``newstilt.classifier.model.ScoringModel.score``)."""

    label: Side | None
    score: Annotated[float, Schema(minimum=-1, maximum=1)] | None
    probabilities: Probabilities | None
    confidence: Probability | None
    explanation: list[ExplainedTerm]
    reason: Literal["empty", "not_english", "uncertain"] | None
    message: str | None
    warnings: list[str]
    truncated: bool
    text_offset: Count
    language: Language
    model: ModelInfo


class NoModel(TypedDict):
    """No usable scoring model: why not."""

    model: None
    reason: str


# -- analyze ---------------------------------------------------------------------------------------------------

class AnalyzedArticle(TypedDict):
    id: Id | None
    title: str
    published: DateTime | None
    text_length: Count
    stored: bool
    error: NotRequired[Annotated[str, Schema(description="Why no article could be extracted")]]


class StoryMatch(TypedDict):
    score: float | None
    stored: bool
    shared_terms: NotRequired[list[str]]
    time_gap_hours: NotRequired[float | None]


class Analysis(TypedDict):
    url: str
    outlet: Lookup | None
    article: AnalyzedArticle | None
    story: Story | None
    match: Annotated[StoryMatch | None, Schema(description="Similarity score, shared key terms, time gap")]
    lean: Lean | NoModel


# -- request bodies --------------------------------------------------------------------------------------------

class AnalyzeRequest(TypedDict):
    __open__ = True  # a newer extension may send more; unknown keys are ignored

    url: Annotated[str, Schema(maxLength=MAX_URL, pattern=URL_PATTERN), IsURL()]
    html: NotRequired[Annotated[str | None, Schema(description="The page's HTML; extracted, never stored "
                                                                "unless the server is set to")]]
    title: NotRequired[Annotated[str | None, Schema(maxLength=MAX_TITLE)]]


class ScoreRequest(TypedDict):
    __open__ = True

    title: NotRequired[Annotated[str, Schema(maxLength=MAX_TITLE)]]
    text: NotRequired[str]


# -- JSON Schema -----------------------------------------------------------------------------------------------

def is_typed_dict(tp) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


@functools.cache
def fields(td) -> dict[str, tuple[Any, bool]]:
    """``{key: (type, required)}`` of a TypedDict, with its ``Annotated`` metadata kept."""
    hints = typing.get_type_hints(td, include_extras=True)
    out = {}
    for key, tp in hints.items():
        required = key in td.__required_keys__
        while typing.get_origin(tp) in (NotRequired, typing.Required):
            tp = typing.get_args(tp)[0]
        out[key] = (tp, required)
    return out


def json_schema(tp, ref: typing.Callable[[type], dict] | None = None) -> dict:
    """The JSON Schema of a type of this module. ``ref(td)`` turns a nested TypedDict into a reference
    (default: inline it)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Annotated:
        base = json_schema(args[0], ref)
        extra = {k: v for meta in args[1:] if isinstance(meta, Schema) for k, v in meta.items()}
        if "enum" in extra:
            base.pop("type", None)
        if "anyOf" in base and extra.keys() - {"description"}:  # constraints apply to the non-null branch
            base["anyOf"][0] = {**base["anyOf"][0], **{k: v for k, v in extra.items() if k != "description"}}
            extra = {k: v for k, v in extra.items() if k == "description"}
        return {**base, **extra}
    if origin in (Union, types.UnionType):
        nullable = type(None) in args
        branches = [json_schema(a, ref) for a in args if a is not type(None)]
        if nullable and len(branches) == 1 and set(branches[0]) <= {"type", "minimum", "maximum", "minLength",
                                                                    "maxLength", "pattern", "format"} \
                and isinstance(branches[0].get("type"), str):
            return {**branches[0], "type": [branches[0]["type"], "null"]}
        if nullable and len(branches) == 1 and "enum" in branches[0]:
            return {**branches[0], "enum": [*branches[0]["enum"], None]}
        return {"anyOf": branches + ([{"type": "null"}] if nullable else [])}
    if origin is Literal:
        return {"enum": list(args)}
    if origin is list:
        return {"type": "array", "items": json_schema(args[0], ref)}
    if origin is dict:
        return {"type": "object", "additionalProperties": json_schema(args[1], ref)}
    if is_typed_dict(tp):
        if ref is not None:
            return ref(tp)
        return object_schema(tp, ref)
    simple = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}
    if tp in simple:
        return {"type": simple[tp]}
    if tp is None:
        return {"type": "null"}
    if tp is Any:
        return {}
    raise TypeError(f"no JSON Schema for {tp!r}")


def object_schema(td, ref: typing.Callable[[type], dict] | None = None) -> dict:
    """The JSON Schema of one TypedDict, its nested TypedDicts given to ``ref``."""
    props, required = {}, []
    for key, (tp, is_required) in fields(td).items():
        props[key] = json_schema(tp, ref)
        if is_required:
            required.append(key)
    schema: dict = {"type": "object", "properties": props, "required": required,
                    "additionalProperties": bool(getattr(td, "__open__", False))}
    doc = td.__doc__
    if doc and not doc.startswith(f"{td.__name__}("):  # not the docstring TypedDict makes up
        schema["description"] = " ".join(doc.split())
    return schema
