"""Encoding sniffing, binary detection and truncation, the way the HTML standard and browsers read pages."""
from __future__ import annotations

import pytest

from newstilt.content import (
    binary_signature,
    codec_for_label,
    decode_html,
    prescan_meta_charset,
    truncation,
)

TEXT = "Zürich, Genève – « déjà vu » "


@pytest.mark.parametrize("label, codec", [
    ("utf-8", "utf-8"), ("UTF8", "utf-8"), (" unicode-1-1-utf-8 ", "utf-8"), ("iso-8859-1", "cp1252"),
    ("latin1", "cp1252"), ("us-ascii", "cp1252"), ("windows-1252", "cp1252"), ("iso-8859-9", "cp1254"),
    ("iso-8859-2", "iso8859-2"), ("shift_jis", "cp932"), ("sjis", "cp932"), ("gb2312", "gb18030"),
    ("gbk", "gb18030"), ("big5", "big5hkscs"), ("euc-kr", "cp949"), ("koi8-r", "koi8-r"),
    ("x-user-defined", "cp1252"), ("utf-16", "utf-16-le"), ("UTF-16BE", "utf-16-be"),
    ("iso-2022-kr", "replacement"), ("hz-gb-2312", "replacement"),
    ("base64", None), ("rot13", None), ("zlib", None), ("utf-7", None), ("cp037", None), ("utf-32", None),
    ("", None), ("é", None), (None, None),
])
def test_only_the_encoding_standards_labels_are_known(label, codec):
    assert codec_for_label(label) == codec


@pytest.mark.parametrize("head, codec", [
    (b'<meta charset="iso-8859-2">', "iso8859-2"),
    (b"<meta charset=windows-1251>", "cp1251"),
    (b'<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=koi8-r">', "koi8-r"),
    (b"<meta content='text/html; charset=\"shift_jis\"' http-equiv='content-type'>", "cp932"),
    (b'<meta content="text/html; charset=iso-8859-2">', None),  # no http-equiv: not a declaration
    (b'<!-- <meta charset="koi8-r"> --><meta charset="iso-8859-2">', "iso8859-2"),
    (b'<script>var s = "<meta charset=koi8-r>"</script>', "koi8-r"),  # the prescan does not know scripts
    (b'<meta name="x" charset="bogus"><meta charset="iso-8859-2">', "iso8859-2"),
    (b'<meta charset="utf-16">', "utf-8"),  # a page that says so in ASCII is not UTF-16
    (b'<meta charset="base64">', None),
    (b"<meta charset=", None),
    (b"<!-- unterminated <meta charset=koi8-r>", None),
    (b"<p a=\"<meta charset=koi8-r>\">", None),
])
def test_meta_prescan(head, codec):
    assert prescan_meta_charset(b"<html><head>" + head + b"</head>") == codec


def test_meta_prescan_reads_only_the_first_kilobyte_then_a_little_further():
    late = b"<html><head>" + b"<link rel=x>" * 100 + b'<meta charset="iso-8859-2">'
    assert prescan_meta_charset(late) is None
    assert decode_html(late + "ł".encode("iso8859-2")).encoding == "iso8859-2"


def test_sniffing_order_bom_then_http_then_meta_then_detection():
    meta = b'<meta charset="iso-8859-2">'
    assert decode_html(b"\xef\xbb\xbf" + meta + TEXT.encode(), "koi8-r").source == "bom"
    assert decode_html(meta + TEXT.encode("cp1252"), "windows-1252").source == "http"
    assert decode_html(meta + TEXT.encode("cp1252"), "base64").source == "meta"  # an unknown HTTP label
    detected = decode_html(b"<p>" + TEXT.encode())
    assert (detected.source, detected.encoding, detected.text) == ("detected", "utf-8", "<p>" + TEXT)
    default = decode_html(b"<p>" + TEXT.encode("cp1252"))
    assert (default.source, default.encoding, default.text) == ("default", "cp1252", "<p>" + TEXT)
    utf16 = decode_html("\ufeff<p>".encode("utf-16-le") + TEXT.encode("utf-16-le"))
    assert (utf16.encoding, utf16.text) == ("utf-16-le", "<p>" + TEXT)


def test_invalid_bytes_are_replaced_and_counted_never_a_reason_to_switch_codecs():
    data = b"<p>" + TEXT.encode() * 5 + b"\xff\xfe" + TEXT.encode()
    for charset in ("utf-8", None):
        decoded = decode_html(data, charset)
        assert decoded.encoding == "utf-8" and decoded.replaced == 2
        assert decoded.text.count(TEXT) == 6
    written = decode_html(b"<p>\xef\xbf\xbd is U+FFFD written in the page", "utf-8")
    assert written.replaced == 0


def test_replacement_encodings_are_refused():
    with pytest.raises(LookupError, match="refuses"):
        decode_html(b'<meta charset="iso-2022-kr"><p>\x1b$)C', None)


@pytest.mark.parametrize("data, what", [
    (b"%PDF-1.7 ...", "a PDF document"),
    (b"(\xb5/\xfd\x00\x00", "zstd-compressed data"),
    (b"<html>" + b"\x00" * 10, "binary data"),
    (b"<html>" + b"a" * 2000 + bytes(range(256)) * 10, "binary data"),  # beyond the first kilobyte
])
def test_binary_signature(data, what):
    assert binary_signature(data) == what


@pytest.mark.parametrize("data", [b"<html><p>text</p>", b"<html>" + b"a" * 5000 + b"\x00" + b"b" * 5000,
                                  "<p>é</p>".encode("utf-16"), b"<p>\x1b$B ISO-2022-JP escapes</p>" * 50])
def test_text_is_not_binary(data):
    assert binary_signature(data) is None


@pytest.mark.parametrize("text, cut", [
    ("<html><body><p>one</p><p>tw", None),  # text may end anywhere
    ("<html><body><p>one</p><p class='x", "it ends inside a tag"),
    ("<html><body><p>one &#", "it ends inside a character reference"),
    ("<html><body><p>one &#x1F60", "it ends inside a character reference"),
    ("<html><body><p>one &amp", "it ends inside a character reference"),
    ("<html><body><p>one</p><!-- comment", "it ends inside a comment"),
    ("<html><body><p>one</p></body></html><p cla", None),  # a whole document with junk after it
    ("<html><body><p>one</p></BODY ><script>x<", None),
    ("", None),
])
def test_truncation(text, cut):
    assert truncation(text) == cut


def test_a_stray_nul_byte_is_damage_not_a_file_format():
    """A short page cut off in transit with a NUL at its end is not 'binary data': extraction says what it is."""
    assert binary_signature(b"<html><body><p>the first third of a page\x00\xff<<<&#") is None
