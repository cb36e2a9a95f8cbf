"""Records in, documents out: loading JSONL(.gz), validation, fingerprints and outlet-neutral text.

A *record* is a dict with ``title``, ``text``, ``label`` (``left``, ``center`` or ``right``) and ``domain`` (the
outlet, used to group cross-validation folds and to balance outlets). Extra fields are ignored.

The *document* the model reads is ``title + "\\n\\n" + text`` cut to :data:`MAX_CHARS` characters. Before the
pipeline sees it, :func:`neutralise` removes text that identifies the outlet rather than the argument: outlet
names, bylines and bios, "Reporting by", "... contributed to this report", newsletter and app plugs, copyright
lines, photo credits, "(CNN) -" and "WASHINGTON (Reuters) -" datelines, URLs, e-mail addresses and @handles.
The same function runs at training and at scoring time. It works by finding character ranges to drop in the
original document (:func:`kept_segments`), so explanations can point back at the original characters.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

LOGGER = logging.getLogger(__name__)

LABELS = ("left", "center", "right")
#: Ordinal position of each label, for the mean absolute error and the -1..+1 score.
ORDINAL = {"left": -1, "center": 0, "right": 1}
SEPARATOR = "\n\n"
#: Characters of ``title + SEPARATOR + text`` that are scored; the rest is ignored.
MAX_CHARS = 100_000
#: Word tokens: two or more letters. Digits are left out on purpose (years and tallies date an article and
#: its outlet's archive more than its slant). The vectoriser and the explanation spans share this pattern.
TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]+\b"
TOKEN_RE = re.compile(TOKEN_PATTERN)


# --------------------------------------------------------------------------------------------------- loading
def read_jsonl(path: str | Path) -> Iterator[dict]:
    """Yield the JSON objects of a ``.jsonl`` or ``.jsonl.gz`` file; a broken line is logged and skipped."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                LOGGER.warning("%s:%d: skipped, not JSON (%s)", path, number, exc)
                continue
            if isinstance(record, dict):
                yield record
            else:
                LOGGER.warning("%s:%d: skipped, not a JSON object", path, number)


def clean_records(records: Iterable[dict]) -> list[dict]:
    """The usable records, normalised to ``{"title", "text", "label", "domain"}`` (strings, label lower-case).

    A record without text, without a domain or with a label outside :data:`LABELS` is skipped and counted in
    one logged warning, like a broken feed entry: it never sinks the whole training set.
    """
    kept: list[dict] = []
    skipped = 0
    for record in records:
        label = str(record.get("label") or "").strip().lower()
        domain = str(record.get("domain") or "").strip().lower()
        title = record.get("title") or ""
        text = record.get("text") or ""
        if label not in LABELS or not domain or not isinstance(text, str) or not isinstance(title, str):
            skipped += 1
            continue
        if not (title.strip() or text.strip()):
            skipped += 1
            continue
        kept.append({"title": title, "text": text, "label": label, "domain": domain})
    if skipped:
        LOGGER.warning("skipped %d record(s) without a usable title/text, label or domain", skipped)
    return kept


def fingerprint(records: Iterable[dict]) -> str:
    """sha256 over the records' ``title``, ``text``, ``label`` and ``domain``, independent of their order."""
    digests = sorted(
        hashlib.sha256(
            json.dumps([r["title"], r["text"], r["label"], r["domain"]], ensure_ascii=False).encode("utf-8")
        ).digest()
        for r in records
    )
    total = hashlib.sha256()
    for digest in digests:
        total.update(digest)
    return total.hexdigest()


# ------------------------------------------------------------------------------------------------ documents
def compose(title: str | None, text: str | None) -> tuple[str, int, bool]:
    """``(document, text_offset, truncated)``: ``title + "\\n\\n" + text`` capped at :data:`MAX_CHARS`.

    ``text_offset`` is where ``text`` starts inside the document (``len(title) + 2``).
    """
    title = title or ""
    text = text or ""
    document = title + SEPARATOR + text
    truncated = len(document) > MAX_CHARS
    return document[:MAX_CHARS], len(title) + len(SEPARATOR), truncated


# Outlet names, matched as written or in capitals where the name is unambiguous, exactly as written where it is
# also an ordinary word ("Reason", "Vox", "The Hill", "Slate"). Possessives ("CNN's") lose the name, keep "'s".
_OUTLETS_ANY_CASE = (
    r"ABC News", r"AllSides", r"Al Jazeera(?: English| America)?", r"AlterNet", r"American Conservative",
    r"American Prospect", r"American Spectator", r"American Thinker", r"Associated Press", r"Axios",
    r"BBC(?: News| World)?", r"Bloomberg(?: News| Opinion| Businessweek)?", r"Boston Globe", r"Breitbart(?: News)?",
    r"Buzz ?Feed(?: News)?", r"Business Insider", r"CBN(?: News)?", r"CBS(?: News| This Morning)?",
    r"Chicago Sun-Times", r"Chicago Tribune", r"Christian Science Monitor", r"CNBC", r"CNN(?:Money|Politics)?",
    r"CNN ?Opinion", r"CNS ?News(?:\.com)?", r"C-SPAN", r"Daily Beast", r"Daily Caller", r"Daily Kos",
    r"Daily Mail", r"Daily Signal", r"Daily Wire", r"Democracy Now!?", r"Deseret News", r"Drudge Report",
    r"Epoch Times", r"FiveThirtyEight", r"Fox Business(?: Network)?", r"Fox News(?: Channel| Digital| Radio)?",
    r"Fox & Friends", r"Free Beacon", r"Guardian US", r"Hot Air", r"Huff(?:ington)? ?Post",
    r"Independent Journal Review", r"InfoWars", r"Jacobin(?: Magazine)?", r"Los Angeles Times", r"LA Times",
    r"MarketWatch", r"McClatchy", r"Media Matters(?: for America)?", r"Media Research Center", r"Mediaite",
    r"Mother Jones", r"MSNBC", r"National Public Radio", r"National Review(?: Online)?", r"NBC(?: News)?",
    r"New York Daily News", r"New York Magazine", r"New York Post", r"New York Times", r"New Yorker",
    r"New Republic", r"NewsBusters", r"Newsmax", r"Newsweek", r"NPR(?: News)?", r"NRPLUS", r"NYT", r"OANN?",
    r"One America News(?: Network)?", r"PBS(?: NewsHour)?", r"Pew Research Center", r"PJ Media", r"Politico",
    r"ProPublica", r"Quillette", r"Raw Story", r"RealClear ?Politics", r"RedState", r"Reuters(?: Breakingviews)?",
    r"Rolling Stone", r"Salon\.com", r"Scientific American", r"Sinclair Broadcast Group", r"Sun-Times",
    r"TheBlaze", r"The Blaze", r"The Flip ?Side", r"The Intercept", r"ThinkProgress", r"Townhall(?:\.com)?",
    r"UPI", r"USA TODAY", r"USA Today", r"Vanity Fair", r"Voice of America", r"Wall Street Journal",
    r"Washington Examiner", r"Washington Free Beacon", r"Washington Post", r"Washington Times", r"WSJ",
    r"Yahoo!?(?: News| Finance)?", r"The 360",
)
_OUTLETS_EXACT_CASE = (
    r"AFP", r"AP", r"NR", r"TIME", r"Time magazine", r"The Atlantic(?! Council| Ocean)", r"The Economist",
    r"The Guardian", r"Guardian", r"The Federalist(?! Society| Papers)", r"The Hill", r"The Monitor", r"The Nation",
    r"Reason(?: Foundation| magazine|\.com| TV)", r"Slate", r"The Spectator", r"The Week", r"VICE(?: News)?",
    r"Vice News", r"Vox(?: Media)?",
)
# Case-sensitive alternation of the names as written and in capitals: the regex engine can then skip quickly
# to candidate first letters (a case-insensitive alternation is twenty times slower on long texts).
_OUTLET_RE = re.compile(
    r"(?:"
    + "|".join(
        sorted({*_OUTLETS_ANY_CASE, *(name.upper() for name in _OUTLETS_ANY_CASE), *_OUTLETS_EXACT_CASE},
               key=len, reverse=True)
    )
    + r")(?![\w@])"
)
_THE = ("The ", "the ", "THE ")


# Whole lines that are furniture, matched against the stripped line, case-insensitively.
_FURNITURE_LINE = re.compile(
    r"""(?ix)
    (?:advertisement\s*)+ | ad | story\ continued\ below | continue\ reading(?:\ below|\ the\ main\ story)?
    | read\ more:? | read\ more\ here\.? | more\ on\ this\.{0,3} | also\ see:? | related:? | more: | loading\.{0,3}
    | close | photo | photos | video | print | link\ copied | share | tweet | email | comments?
    | _{3,} | \*{3,} | -{3,} | [•⦁*]+ | \[pullquote\] | (?:next|prev)\ image\ \d+\ of\ \d+
    | slideshow\ \(\d+\ images?\) | \d+\ (?:years?|months?|weeks?|days?|hours?|minutes?)\ ago
    | analysis/opinion: | opinion: | this\ (?:article|story)\ is\ more\ than\ \d+\ \w+\ old
    | other\ opinions\ below\.? | our\ original\ post\ continues: | what'?s\ (?:happening|next)
    """
)
# Short lines (<= 400 characters) that are plugs, credits, disclaimers or contact lines. Matched on the
# lower-cased line; each branch starts with a literal so the search stays fast on long texts.
_SHORT_LINE_MAX = 400
_PLUG_ANYWHERE = re.compile(
    r"""(?x)
    \bsign(?:ing)?\ ?up\b | subscrib(?:e|er|ing)\b | newsletter | in\ your\ inbox | click\ (?:here|to)\b
    | download\ (?:the|our)\b | get\ (?:the|our)\ .{0,40}\bapp\b | privacy\ policy | terms\ of\ (?:service|use)
    | © | copyright | all\ rights\ reserved | reprint\ permission
    | contributed\ (?:to\ (?:this|the)\ (?:report|story|article|post)|reporting|additional\ reporting)
    | wire\ (?:service\ )?reports | join\ us\ on\b | like\ us\ on\b | read\ or\ share\ this\ story
    | (?:opinions?|views?)\ expressed | rush\ transcript | transcripts?\ (?:are|is)\ (?:created|produced)
    | this\ transcript | toggle\ caption | getty\ images | ap\ photo | reuters\ photo | shutterstock | pixabay
    | (?:listen|subscribe)\ on\ (?:apple\ podcasts|spotify) | podcast\ at\ itunes
    """
)
_PLUG_START = re.compile(
    r"""(?x)[-—–•⦁*\s]*(?:
    contributing: | \(?(?:additional\ )?(?:reporting|writing|editing|research|compiled|produced|graphics)\ by\b
    | follow\b.{0,200}(?:twitter|facebook|instagram|@)
    | (?:contact|write\ to|send\ (?:letters?|a\ tip|tips|us)|got\ a\ tip|e-?mail\ (?:us|the\ author))\b
    | editor['’]?s\ note\b | enlarge\ this\ image\b | (?:photo|image|photograph|video)s?(?:\ credit)?:
    )"""
)
_PLUG_END = re.compile(r"(?:\bcontributed|\bwith\ (?:post\ )?wires?)\.?$", re.X)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


_PLUG_HINTS = (
    "sign", "subscri", "newsletter", "inbox", "click", "download", "get ", "privacy", "terms", "©", "copyright",
    "rights", "reprint", "contributed", "wire", "join", "like", "read", "expressed", "transcript", "caption",
    "getty", "photo", "shutterstock", "pixabay", "podcast", "listen",
)


def _is_plug(line: str) -> bool:
    lower = line.lower()
    return bool(
        (any(hint in lower for hint in _PLUG_HINTS) and _PLUG_ANYWHERE.search(lower))
        or _PLUG_START.match(lower)
        or _PLUG_END.search(lower[-40:])
        or ("@" in line and _EMAIL.search(line))
    )


# A bio line near the end: "— Jane Doe is a columnist for ..." / "John Smith is senior editor at ...".
_BIO_LINE = re.compile(
    r"""(?x)^[-—–•⦁*\s]*(?:[A-Z][\w.'’-]*\s+){1,4}(?:is|was)\s+(?:a|an|the|our|senior|deputy|chief|contributing)\b
    .{0,250}\b(?:editor|columnist|correspondent|contributor|reporter|writer|author|host|fellow|analyst
    |commentator|producer|president|director|professor|syndicated)s?\b"""
)
# Bylines among the first lines of the text: "By Jane Doe", "By JANE DOE and JOHN ROE, Associated Press",
# "Jane Doe", "Jane Doe and John Roe", "Jane Q. Doe, USA TODAY".
_NAME = r"[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){1,3}"
_BYLINE_LINE = re.compile(
    rf"""(?x)^(?:by|BY|By)\s+{_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*(?:\s*[,|–—-]\s*.{{0,60}})?$
    |^{_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*(?:\s*,\s*[\w .-]{{0,40}})?$"""
)
# Inline tells, each its own regex with a cheap substring test first (one big alternation is several times
# slower): URLs, e-mail addresses, @handles, bare domains, Reuters-style credits, datelines, and The Hill's
# "Full Name<related headlines> MORE" link residue.
_URL = re.compile(r"https?://\S+|\bwww\.\S+")
_HANDLE = re.compile(r"(?<![\w@])@\w{2,}")
_DOMAIN = re.compile(r"\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|co\.uk|io|tv|news)\b")
_DOMAIN_HINT = re.compile(r"\.(?:com|org|net|co\.uk|io|tv|news)\b")
_CREDIT = re.compile(r"\((?i:(?:additional )?(?:reporting|writing|editing|compiled|produced) by)[^()]{0,300}\)")
_DATELINE = re.compile(
    r"^[ \t]*(?:[A-Z][A-Za-z .,'’-]{0,50}?\s*\([A-Z][\w.]{1,20}\)\s*[-—–]+"  # Washington (CNN) -
    r"|[A-Z][A-Z .,'’-]{2,40}\s*(?:—|–|--|\s-\s))\s*",  # WASHINGTON—
    re.MULTILINE,
)
_LINK_RESIDUE = re.compile(
    r"(?:[A-Z][\w.'’-]*\s+|\([A-Z][\w.]*\)\s+){1,3}[A-Z][\w'’-]*?[a-z]{2}(?=[A-Z0-9])\S[^\n]{0,400}?\sMORE\b"
)


def _inline_spans(document: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    if "://" in document or "www." in document:
        spans += [m.span() for m in _URL.finditer(document)]
    if "@" in document:
        spans += [m.span() for m in _EMAIL.finditer(document)]
        spans += [m.span() for m in _HANDLE.finditer(document)]
    if _DOMAIN_HINT.search(document):
        spans += [m.span() for m in _DOMAIN.finditer(document)]
    if " by" in document or " By" in document or " BY" in document:
        spans += [m.span() for m in _CREDIT.finditer(document)]
    if " MORE" in document:
        spans += [m.span() for m in _LINK_RESIDUE.finditer(document)]
    spans += [m.span() for m in _DATELINE.finditer(document)]
    for match in _OUTLET_RE.finditer(document):
        start, end = match.span()
        if start and (document[start - 1].isalnum() or document[start - 1] in "_@."):
            continue
        if document[max(0, start - 4) : start] in _THE:
            start -= 4
        spans.append((start, end))
    return spans


_HEAD_LINES = 3
_TAIL_LINES = 3


def _lines(document: str, start: int) -> list[tuple[int, int]]:
    """``(start, end)`` of each non-blank line of ``document[start:]``, whitespace trimmed."""
    spans = []
    for match in re.finditer(r"[^\n]+", document[start:]):
        line = match.group()
        stripped = line.strip()
        if stripped:
            left = start + match.start() + (len(line) - len(line.lstrip()))
            spans.append((left, left + len(stripped)))
    return spans


def removed_spans(document: str, text_offset: int) -> list[tuple[int, int]]:
    """Sorted, merged ``(start, end)`` ranges of ``document`` that :func:`neutralise` drops.

    Line rules apply to the text part (from ``text_offset``); inline rules (outlet names, URLs, datelines...)
    apply to the whole document, title included.
    """
    spans: list[tuple[int, int]] = []
    lines = _lines(document, min(text_offset, len(document)))
    for index, (start, end) in enumerate(lines):
        line = document[start:end]
        if _FURNITURE_LINE.fullmatch(line):
            spans.append((start, end))
        elif len(line) <= _SHORT_LINE_MAX and (
            _is_plug(line)
            or (index < _HEAD_LINES and _BYLINE_LINE.match(line))
            or (index >= len(lines) - _TAIL_LINES and _BIO_LINE.match(line))
        ):
            spans.append((start, end))
    spans.extend(_inline_spans(document))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        elif end > start:
            merged.append((start, end))
    return merged


def kept_segments(document: str, text_offset: int) -> list[tuple[int, int]]:
    """The complement of :func:`removed_spans`: ``(start, end)`` ranges of ``document`` the model reads."""
    segments = []
    position = 0
    for start, end in removed_spans(document, text_offset):
        if start > position:
            segments.append((position, start))
        position = max(position, end)
    if position < len(document):
        segments.append((position, len(document)))
    return segments


def neutralise_document(document: str, text_offset: int) -> str:
    """``document`` without outlet-identifying text; kept pieces are joined by a newline."""
    return "\n".join(document[start:end] for start, end in kept_segments(document, text_offset))


def neutralise(title: str | None, text: str | None) -> str:
    """The text the pipeline reads for an article: composed, capped, and stripped of outlet tells."""
    document, text_offset, _ = compose(title, text)
    return neutralise_document(document, text_offset)


# ------------------------------------------------------------------------------------------------- language
# A small closed list of English function words. Real English prose has roughly 40-50 % of its words here;
# French, German, Spanish or Italian text well under 10 %.
_ENGLISH_FUNCTION_WORDS = frozenset(
    """the of and to in is was for that on with as by at from it he she they we you his her their our its be
    are were been has have had not but or this these those which who whom what when where will would can could
    should may might said says about after over into than then there also more most some any all just only
    a an i""".split()
)


_WORD_OR_LETTER = re.compile(r"(?u)[a-z\u00c0-\u024f]+|[^\W\d_]")


def english_ratio(document: str) -> tuple[float, int]:
    """``(share of words that are common English function words, number of words)`` of ``document``.

    A run of Latin letters is a word; every other letter counts as a word of its own, so Chinese or Japanese
    (written without spaces) or Russian text has many words and almost no English ones, and is refused as
    not English instead of slipping under :data:`~classifier.model.LANGUAGE_MIN_WORDS` as "a few words".
    """
    words = _WORD_OR_LETTER.findall(document.lower())
    if not words:
        return 0.0, 0
    return sum(word in _ENGLISH_FUNCTION_WORDS for word in words) / len(words), len(words)
