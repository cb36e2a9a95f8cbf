"""What the bytes of a fetched page are: binary or text, in which encoding, whole or cut off, clean or damaged.

* ``binary_signature`` tells binary data from text by magic numbers and by the share of control bytes in the
  *whole* body, not only its start.
* ``decode_html`` follows the HTML standard's encoding sniffing: a byte order mark, then the HTTP charset, then
  a prescan of the first 1024 bytes for ``<meta charset>`` / ``<meta http-equiv=content-type>`` (then the same
  prescan a little further, standing in for the parser's "change the encoding" step), then detection (the
  bytes are UTF-8 when most of their non-ASCII sequences are valid UTF-8), then windows-1252. Only the
  standard's encoding labels are honoured, so ``<meta charset="base64">`` or UTF-7 is ignored like any unknown
  label. The chosen codec decodes the whole page; a byte that is invalid in it becomes U+FFFD, counted, and
  is never a reason to switch codecs.
* ``truncation`` says why a document's markup looks cut off at its end (no ``</body>``/``</html>`` anywhere,
  and the text stops inside a tag, a comment or a character reference); a page damaged that way is worth
  fetching again later, not storing.
* ``TextQuality`` is the verdict on extracted text that a caller uses to decide whether to store it and to
  prefer a later, cleaner fetch of the same page.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import lru_cache

#: Share of control bytes (C0 other than tab, newline, form feed, carriage return, escape) above which a body
#: is binary data, wherever in the body they are. Text has none; compressed or random data about 11%.
BINARY_CONTROL_SHARE = 0.05
#: Above this share of U+FFFD (bytes invalid in the page's encoding) in the article text, or of control
#: characters in the page, the text is damaged: it is refused rather than stored.
MAX_DAMAGE_SHARE = 0.005
#: The HTML standard's prescan window, and the wider one standing in for "change the encoding".
PRESCAN_BYTES = 1024
LATE_META_BYTES = 16 * 1024

MAGIC_NUMBERS = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"RIFF", "a RIFF (WebP/WAV/AVI) file"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"(\xb5/\xfd", "zstd-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "an executable"),
    (b"MZ", "an executable"),
    (b"\x00\x00\x00\x18ftyp", "an MP4 video"),
    (b"\x00\x00\x00\x20ftyp", "an MP4 video"),
    (b"ID3", "an MP3 file"),
    (b"OggS", "an Ogg file"),
    (b"wOFF", "a web font"),
    (b"wOF2", "a web font"),
)
#: Starts of UTF-16/32 text, where NUL bytes are part of the characters.
UTF16_32_STARTS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"<\x00", b"\x00<")

_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\x0c\r\x1b")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF16_LE, "utf-16-le"))

#: Python codec of each encoding of the Encoding Standard, by the name Python's ``codecs.lookup`` gives it.
#: Labels Python knows but the standard does not (utf-7, utf-32, cp037, base64, rot13, ...) map to nothing.
_CODECS = {
    "utf-8": "utf-8", "cp866": "cp866", "koi8-r": "koi8-r", "koi8-u": "koi8-u", "mac-roman": "mac-roman",
    "mac-cyrillic": "mac-cyrillic", "cp874": "cp874", "tis-620": "cp874", "iso8859-11": "cp874",
    "ascii": "cp1252", "latin-1": "cp1252", "iso8859-1": "cp1252", "iso8859-9": "cp1254",
    **{f"iso8859-{n}": f"iso8859-{n}" for n in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)},
    **{f"cp{n}": f"cp{n}" for n in range(1250, 1259)},
    "gbk": "gb18030", "gb2312": "gb18030", "gb18030": "gb18030", "big5": "big5hkscs", "big5hkscs": "big5hkscs",
    "euc_jp": "euc_jp", "iso2022_jp": "iso2022_jp", "shift_jis": "cp932", "cp932": "cp932",
    "euc_kr": "cp949", "cp949": "cp949", "utf-16-be": "utf-16-be", "utf-16-le": "utf-16-le",
    "utf-16": "utf-16-le",
}
#: Labels the standard maps to its "replacement" encoding: decoding them is how some XSS attacks worked.
_REPLACEMENT_LABELS = frozenset({"csiso2022kr", "hz-gb-2312", "iso-2022-cn", "iso-2022-cn-ext", "iso-2022-kr",
                                 "replacement"})
_EXTRA_LABELS = {"unicode-1-1-utf-8": "utf-8", "unicode11utf8": "utf-8", "unicode20utf8": "utf-8",
                 "x-unicode20utf8": "utf-8", "x-user-defined": "cp1252", "windows-874": "cp874",
                 "x-mac-roman": "mac-roman", "x-sjis": "cp932", "ms932": "cp932", "windows-31j": "cp932",
                 "x-gbk": "gb18030", "x-cp1252": "cp1252", "unicode": "utf-16-le", "ks_c_5601-1987": "cp949"}

_META = re.compile(rb"<meta[\s/]", re.IGNORECASE)
_ATTRIBUTE = re.compile(rb"""[\s/]*([^\s/>=][^\s/>=]*)\s*(?:=\s*("[^"]*"|'[^']*'|[^\s>"']*))?""")
_CONTENT_CHARSET = re.compile(rb"""charset\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s;"']+))""", re.IGNORECASE)
_SKIP_TAG = re.compile(rb"<(?:!--.*?-->|(?!!--)[!/?][^>]*>|/?[A-Za-z][^>]*>)", re.DOTALL)
_CLOSING_TAG = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)
_OPEN_REFERENCE = re.compile(r"&(?:#[xX]?[0-9A-Fa-f]*|[A-Za-z][A-Za-z0-9]{0,31})$")
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True)
class Decoded:
    """A page decoded to text: ``encoding`` (a Python codec name) chosen from ``source``: ``"bom"``,
    ``"http"``, ``"meta"``, ``"detected"`` or ``"default"``; ``replaced`` bytes were invalid in it."""

    text: str
    encoding: str
    source: str
    replaced: int


@dataclass(frozen=True)
class TextQuality:
    """How clean an extracted text is. ``replaced`` counts U+FFFD in the text (bytes that were invalid in the
    page's encoding), ``controls`` the control characters removed from the page, ``length`` the text's size.

    A text that reaches the caller is never worse than ``MAX_DAMAGE_SHARE`` (worse is refused with
    ``DamagedContentError``); ``clean`` says it has no flaw at all. Store a text that is not clean if there is
    nothing better, and replace it by a later fetch that is ``better_than`` it."""

    encoding: str
    encoding_source: str
    replaced: int
    controls: int
    length: int

    @property
    def damage(self) -> float:
        """Flawed characters per character of text (0.0 for a clean text)."""
        return self.replaced / max(1, self.length)

    @property
    def clean(self) -> bool:
        return self.replaced == 0 and self.controls == 0

    def better_than(self, other: TextQuality | None) -> bool:
        """Whether a text of this quality should replace one of ``other`` quality (``None``: nothing yet)."""
        if other is None:
            return True
        return (self.replaced, self.controls) < (other.replaced, other.controls)


def binary_signature(data: bytes) -> str | None:
    """What binary format ``data`` looks like (``"a PDF document"``), or None if it may be text.

    Magic numbers at the start; otherwise several NUL bytes near the start, or control bytes making up more
    than ``BINARY_CONTROL_SHARE`` of the whole body (UTF-16/32 text, where NUL bytes belong, excepted). A
    stray NUL in text is damage, not a file format: ``extract_article`` refuses it as such."""
    for magic, what in MAGIC_NUMBERS:
        if data.startswith(magic):
            return what
    if data.startswith(UTF16_32_STARTS):
        return None
    if data.count(b"\x00", 0, 1024) > 4:
        return "binary data"
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if controls > 8 and controls > BINARY_CONTROL_SHARE * len(data):
        return "binary data"
    return None


def codec_for_label(label: str | bytes | None) -> str | None:
    """The Python codec for an encoding label of the Encoding Standard; ``"replacement"`` for the labels the
    standard refuses to decode; None for anything else (unknown labels are ignored, as browsers do)."""
    if label is None:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "replace")
    return _codec_for_label(label.strip("\t\n\x0c\r \"'").lower()[:64])


@lru_cache(maxsize=256)
def _codec_for_label(label: str) -> str | None:
    if label in _REPLACEMENT_LABELS:
        return "replacement"
    if label in _EXTRA_LABELS:
        return _EXTRA_LABELS[label]
    if not label or not label.isascii():
        return None
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError, TypeError):
        return None
    return _CODECS.get(name)


def prescan_meta_charset(data: bytes, limit: int = PRESCAN_BYTES) -> str | None:
    """The codec named by the first usable ``<meta>`` charset declaration in ``data[:limit]`` (the HTML
    standard's prescan: comments and other tags are skipped, attributes read as the standard reads them)."""
    head = data[:limit]
    pos = 0
    while True:
        lt = head.find(b"<", pos)
        if lt < 0:
            return None
        meta = _META.match(head, lt)
        if meta is None:
            skipped = _SKIP_TAG.match(head, lt)
            if skipped is not None:
                pos = skipped.end()
            elif head.startswith(b"<!--", lt) or head.find(b">", lt) < 0:
                return None  # an unterminated comment or tag hides the rest of the window
            else:
                pos = lt + 1
            continue
        codec, pos = _meta_declaration(head, meta.end() - 1)
        if codec is not None:
            return codec


def _meta_declaration(head: bytes, pos: int) -> tuple[str | None, int]:
    """Read the attributes of the ``<meta`` tag whose name ends at ``pos``: (codec or None, end of tag)."""
    seen: set[bytes] = set()
    got_pragma = False
    need_pragma: bool | None = None
    charset: str | None = None
    while pos < len(head):
        if head[pos:pos + 1] == b">":
            pos += 1
            break
        match = _ATTRIBUTE.match(head, pos)
        if match is None or match.end() == pos:
            pos += 1
            continue
        pos = match.end()
        name = match.group(1).lower()
        value = match.group(2) or b""
        if value[:1] in (b'"', b"'"):
            value = value[1:-1]
        if name in seen:
            continue
        seen.add(name)
        if name == b"http-equiv" and value.lower() == b"content-type":
            got_pragma = True
        elif name == b"content" and charset is None:
            found = _CONTENT_CHARSET.search(value)
            if found:
                charset = codec_for_label(next(g for g in found.groups() if g is not None))
                need_pragma = True
        elif name == b"charset":
            charset = codec_for_label(value)
            need_pragma = False
    if need_pragma is None or (need_pragma and not got_pragma) or charset is None:
        return None, pos
    if charset.startswith("utf-16"):
        charset = "utf-8"  # a page that can state its encoding in ASCII is not UTF-16
    return charset, pos


def decode_html(data: bytes, http_charset: str | None = None) -> Decoded:
    """Decode an HTML page the way browsers do (see the module docstring). Raises ``LookupError`` only for
    the standard's "replacement" encodings (ISO-2022-KR, HZ, ...), which must not be decoded."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _decode(data[len(bom):], codec, "bom")
    codec = codec_for_label(http_charset)
    if codec is not None:
        return _decode(data, codec, "http")
    codec = prescan_meta_charset(data) or prescan_meta_charset(data, LATE_META_BYTES)
    if codec is not None:
        return _decode(data, codec, "meta")
    try:
        return Decoded(data.decode("utf-8"), "utf-8", "detected", 0)
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", "replace")
    invalid = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    valid = len(text) - len(text.encode("ascii", "ignore")) - invalid
    if valid > 2 * invalid:  # mostly well-formed multi-byte sequences: UTF-8 with a few bad bytes
        return Decoded(text, "utf-8", "detected", invalid)
    return _decode(data, "cp1252", "default")


def _decode(data: bytes, codec: str, source: str) -> Decoded:
    if codec == "replacement":
        raise LookupError("the page's encoding is one the HTML standard refuses to decode (ISO-2022-KR, HZ, ...)")
    text = data.decode(codec, "replace")
    replaced = text.count("\ufffd")
    if replaced and codec.startswith("utf-"):
        replaced -= data.decode(codec, "ignore").count("\ufffd")  # U+FFFD written in the page is not damage
    return Decoded(text, codec, source, replaced)


def remove_control_characters(text: str) -> tuple[str, int]:
    """``text`` without C0 controls (but tab, newlines, form feed), noncharacters and lone surrogates: what an
    XML tree cannot hold. Also returns how many were removed."""
    return _CONTROL_CHARS.subn("", text)


def truncation(text: str) -> str | None:
    """Why the markup of an HTML document looks cut off at its end, or None when it looks whole.

    Cut off means both: the document has no ``</body>`` or ``</html>``, and its text stops inside a tag, a
    comment or a character reference (``&#``, ``&#x4``, ``&amp``). HTML may omit its end tags, and text may
    end anywhere, so neither alone is a sign."""
    tail = text[-4096:].rstrip()
    if not tail:
        return None
    if tail.rfind("<!--") > tail.rfind("-->"):
        reason = "it ends inside a comment"
    elif tail.rfind("<") > tail.rfind(">"):
        reason = "it ends inside a tag"
    elif _OPEN_REFERENCE.search(tail, max(0, len(tail) - 40)):
        reason = "it ends inside a character reference"
    else:
        return None
    if _CLOSING_TAG.search(text):
        return None
    return reason
