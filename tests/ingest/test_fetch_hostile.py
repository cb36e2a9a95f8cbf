"""The fetcher against hostile servers on 127.0.0.1 (security audit, issue #10; reliability run, issue #11):
whatever a server answers ends in a ``FetchError`` (or a result), within the limits in time and memory, and a
refused address costs no politeness delay."""
from __future__ import annotations

import functools
import gzip
import socket
import threading
import time
import tracemalloc
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newstilt.errors import BlockedAddressError, FetchError
from newstilt.fetch import FetchResult

from .conftest import Reply

PAGE = b"<html><body><p>" + b"A sentence of an ordinary news article. " * 50 + b"</p></body></html>"


@functools.cache
def _bomb(size: int, wbits: int) -> bytes:
    """``size`` zero bytes compressed in chunks (never holding them all), as gzip (31), zlib (15) or raw (-15)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = b"\0" * (1 << 20)
    parts = [compressor.compress(block) for _ in range(size >> 20)]
    return b"".join(parts) + compressor.flush()


def _peak_while(call) -> tuple[object, int]:
    """What ``call()`` returned or raised, and the peak of Python memory allocated meanwhile."""
    tracemalloc.start()
    try:
        try:
            outcome = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _raw(data: bytes, *, close: bool = True):
    """A route that writes ``data`` as the whole answer, bytes exactly as given."""
    def route(handler, hit):
        handler.close_connection = True
        try:
            handler.wfile.write(data)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
    return route


@pytest.mark.parametrize("location", [
    "mailto:x@example.org",
    "javascript:alert(1)",
    "javascript:",
    "data:text/html,<script>alert(1)</script>",
    "http://[::1",
    "http://exa mple.com/",
    "http://example.com:99999/",
    "https://ex%00ample.com/",
    "http://%zz/",
    "http://\xe9\xe9.example\\@10.0.0.1/",
    "//[fe80::1%25eth0]/",
])
def test_a_redirect_anywhere_strange_is_a_fetch_error(http_server, make_fetcher, location):
    """``302 Location: mailto:...`` raised httpx.InvalidURL out of the fetcher: httpx built the next request
    of a redirect it was told not to follow. Every such hop is now a FetchError, and is not retried."""
    http_server.route("/r", Reply(302, headers={"Location": location}))
    with pytest.raises(FetchError):
        make_fetcher().fetch(http_server.url("/r"))
    assert http_server.hits["/r"] == 1


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",  # shorter than its Content-Length
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",  # chunked, cut off
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",  # bad chunk size
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",  # conflicting lengths
    b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    b"HTTP/1.1 999999 WHAT\r\n\r\n",
    b"NOT HTTP AT ALL\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nBad Header Name: x\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n\x00\xff: \xff\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX: " + b"a" * 200_000 + b"\r\n\r\n",  # endless header
    b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\n\r\nnot gzip!!",
    b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: 10\r\n\r\nnot zlib!!",
    b"HTTP/1.1 302 Found\r\nLocation: \xff\xfe\r\nContent-Length: 0\r\n\r\n",
    b"",  # the connection closes without an answer
])
def test_a_broken_answer_is_a_fetch_error(http_server, make_fetcher, answer):
    http_server.route("/x", _raw(answer))
    with pytest.raises(FetchError):
        make_fetcher(retries=1).fetch(http_server.url("/x"))


def test_a_body_shorter_than_its_content_length_is_a_fetch_error_after_retries(http_server, make_fetcher):
    http_server.route("/short", _raw(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + PAGE[:400]))
    with pytest.raises(FetchError, match="failed after 2 attempt"):
        make_fetcher(retries=1).fetch(http_server.url("/short"), expect="html")
    assert http_server.hits["/short"] == 2


@pytest.mark.parametrize("encoding", ["gzip, gzip", "gzip,deflate", "deflate, gzip", "x-gzip, gzip"])
def test_stacked_content_encodings_are_refused(http_server, make_fetcher, encoding):
    """``Content-Encoding: gzip, gzip`` with a 1.8 KB body took the fetcher to 2.1 GB: refused outright."""
    inner = gzip.compress(gzip.compress(b"\0" * 10_000_000))
    http_server.route("/double", Reply(200, inner, {"Content-Encoding": encoding, "Content-Type": "text/html"}))
    with pytest.raises(FetchError, match="stacked content encodings"):
        make_fetcher(max_bytes=100_000).fetch(http_server.url("/double"))


def test_repeated_content_encoding_headers_are_stacked_too(http_server, make_fetcher):
    def route(handler, hit):
        body = gzip.compress(gzip.compress(PAGE))
        handler.send_response(200)
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    http_server.route("/twice", route)
    with pytest.raises(FetchError, match="stacked"):
        make_fetcher().fetch(http_server.url("/twice"))


@pytest.mark.parametrize("coding, wbits", [("gzip", 31), ("x-gzip", 31), ("deflate", 15), ("deflate", -15)])
def test_compression_bombs_are_cut_off_with_bounded_memory(http_server, make_fetcher, coding, wbits):
    """One 64 KB chunk of a bomb used to be decoded at once (64 MB); now zlib gives at most what is left of
    the cap per step, so the peak stays near the cap whatever the ratio."""
    bomb = _bomb(64 << 20, wbits)  # 64 MiB of zeros in about 64 KB: one chunk of the stream
    assert len(bomb) < 100_000
    http_server.route("/bomb", Reply(200, bomb, {"Content-Encoding": coding, "Content-Type": "text/html"}))
    fetcher = make_fetcher(max_bytes=1_000_000)
    outcome, peak = _peak_while(lambda: fetcher.fetch(http_server.url("/bomb"), expect="html"))
    assert isinstance(outcome, FetchError) and "too large" in str(outcome), outcome
    assert peak < 8_000_000, f"peak {peak / 1e6:.1f} MB"


@pytest.mark.parametrize("coding, wbits", [("gzip", 31), ("deflate", 15), ("deflate", -15)])
def test_compressed_bodies_just_under_the_cap_are_decoded(http_server, make_fetcher, coding, wbits):
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    body = compressor.compress(PAGE) + compressor.flush()
    http_server.route("/page", Reply(200, body, {"Content-Encoding": coding, "Content-Type": "text/html"}))
    assert make_fetcher(max_bytes=len(PAGE)).fetch(http_server.url("/page"), expect="html").body == PAGE
    with pytest.raises(FetchError, match="too large"):
        make_fetcher(max_bytes=len(PAGE) - 1).fetch(http_server.url("/page"), expect="html")


def test_concatenated_gzip_members_are_one_body(http_server, make_fetcher):
    body = gzip.compress(PAGE[:100]) + gzip.compress(PAGE[100:])
    http_server.route("/members", Reply(200, body, {"Content-Encoding": "gzip", "Content-Type": "text/html"}))
    assert make_fetcher().fetch(http_server.url("/members")).body == PAGE


def test_compressed_size_is_capped_too(http_server, make_fetcher):
    incompressible = bytes(range(256)) * 4000
    body = gzip.compress(incompressible, compresslevel=0)  # no Content-Length: the cap is met while streaming

    def chunked(handler, hit):
        handler.send_response(200)
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        try:
            for start in range(0, len(body), 4096):
                piece = body[start:start + 4096]
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            handler.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    http_server.route("/big", chunked)
    with pytest.raises(FetchError, match="too large"):
        make_fetcher(max_bytes=100_000).fetch(http_server.url("/big"))


def test_a_truncated_gzip_body_is_a_fetch_error(http_server, make_fetcher):
    body = gzip.compress(PAGE)[:-12]
    http_server.route("/cut", Reply(200, body, {"Content-Encoding": "gzip", "Content-Type": "text/html"}))
    with pytest.raises(FetchError, match="truncated"):
        make_fetcher().fetch(http_server.url("/cut"))


@pytest.mark.parametrize("coding", ["br", "zstd", "compress", "bogus"])
def test_encodings_that_were_not_asked_for_are_refused(http_server, make_fetcher, coding):
    """Only gzip and deflate are decoded (with bounded output per step), and only they are asked for."""
    http_server.route("/enc", Reply(200, b"\x1b\x00\x00\x00" * 10, {"Content-Encoding": coding}))
    fetcher = make_fetcher()
    with pytest.raises(FetchError, match="not asked for"):
        fetcher.fetch(http_server.url("/enc"))
    assert http_server.requests[0][2]["accept-encoding"] == "gzip, deflate"


def test_identity_encoding_is_no_encoding(http_server, make_fetcher):
    http_server.route("/id", Reply(200, PAGE, {"Content-Encoding": "identity"}))
    assert make_fetcher().fetch(http_server.url("/id")).body == PAGE


def _trickle(prefix: bytes, rest: bytes, pause: float):
    """A route that sends ``prefix`` at once, then ``rest`` one byte every ``pause`` seconds."""
    def route(handler, hit):
        handler.close_connection = True
        try:
            handler.wfile.write(prefix)
            handler.wfile.flush()
            for byte in rest:
                time.sleep(pause)
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
    return route


@pytest.mark.parametrize("prefix, rest", [
    (b"", b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + b"p" * 200 + b"\r\n\r\n"),
    (b"HTTP/1.1 200 OK\r\n", b"X-Slow: " + b"s" * 200 + b"\r\nContent-Length: 2\r\n\r\nok"),
    (b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n", b"X-Slow: " + b"s" * 200 + b"\r\n\r\n"),
])
def test_headers_sent_a_byte_at_a_time_cannot_outlast_the_total_timeout(http_server, make_fetcher, prefix, rest):
    """A server sending its headers a byte a second kept a fetch for 75 s with a 45 s limit: the deadline was
    only checked while reading the body. Here every read is bounded by what is left of the deadline."""
    http_server.route("/slow", _trickle(prefix, rest, 0.02))  # 4+ s of headers, never a 1 s silence
    fetcher = make_fetcher(read_timeout=1.0, total_timeout=0.6, retries=2)
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        fetcher.fetch(http_server.url("/slow"))
    assert time.monotonic() - started < 1.2


def test_retries_and_backoff_count_against_the_total_timeout(http_server, make_fetcher):
    """A retry's wait used to be added to the deadline (the host's slot was pushed back by the backoff, and
    waiting for a slot did not count); now every hop, retry and backoff is inside one deadline."""
    http_server.route("/flaky", Reply(503, b"busy", {"Retry-After": "1"}))
    fetcher = make_fetcher(retries=5, total_timeout=2.5, retry_after_max=5)
    started = time.monotonic()
    with pytest.raises(FetchError):
        fetcher.fetch(http_server.url("/flaky"))
    assert time.monotonic() - started < 2.7
    assert http_server.hits["/flaky"] <= 3


def test_a_slow_connect_is_bounded_by_the_total_timeout(make_fetcher, connections, monkeypatch):
    """Each step (connect, TLS, each read and write) waits at most what is left of the total deadline."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    try:  # a server that accepts the connection and then says nothing at all
        fetcher = make_fetcher(connect_timeout=5.0, read_timeout=5.0, total_timeout=0.5, retries=3)
        started = time.monotonic()
        with pytest.raises(FetchError, match="timed out"):
            fetcher.fetch(f"http://127.0.0.1:{port}/")
        assert time.monotonic() - started < 1.0
    finally:
        listener.close()


def test_a_refused_address_costs_no_polite_delay_and_no_slot(http_server, make_fetcher, connections):
    """The politeness delay was applied to refused addresses too: a feed listing 50 links to an internal
    host waited 50 seconds to be told 50 times that it may not go there."""
    http_server.route("/ok", Reply(200, b"fine"))
    addresses = {"intranet.example": ["10.1.2.3"], "public.example": ["127.0.0.1"]}
    fetcher = make_fetcher(resolver=lambda host, port: addresses[host], per_host_delay=5.0,
                           per_host_concurrency=1, allow_addresses=("127.0.0.1",))
    started = time.monotonic()
    for _ in range(5):
        with pytest.raises(BlockedAddressError):
            fetcher.fetch("http://intranet.example/page")
        with pytest.raises(BlockedAddressError):
            fetcher.fetch("http://10.9.9.9/")
    assert time.monotonic() - started < 0.5
    assert connections == []


def test_a_refused_redirect_target_takes_no_slot_on_the_next_fetch(http_server, make_fetcher):
    """A hop refused mid-redirect leaves the host's slot free: the next fetch to the same host goes at once."""
    http_server.route("/go", Reply(302, headers={"Location": "http://10.0.0.1/admin"}))
    http_server.route("/ok", Reply(200, b"fine"))
    fetcher = make_fetcher(per_host_concurrency=1, per_host_delay=0.0)
    with pytest.raises(BlockedAddressError):
        fetcher.fetch(http_server.url("/go"))
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("r", fetcher.fetch(http_server.url("/ok"))))
    thread.start()
    thread.join(timeout=2)
    assert isinstance(result.get("r"), FetchResult) and result["r"].body == b"fine"


def test_the_per_host_delay_still_spaces_permitted_requests(http_server, make_fetcher):
    http_server.route("/a", Reply(200, b"a"))
    fetcher = make_fetcher(per_host_delay=0.3)
    for _ in range(2):
        fetcher.fetch(http_server.url("/a"))
    (first, _, _), (second, _, _) = http_server.requests
    assert second - first >= 0.28


def test_no_cookies_are_kept_between_fetches(http_server, make_fetcher):
    http_server.route("/set", Reply(200, b"x", {"Set-Cookie": "tracker=1; Path=/"}))
    http_server.route("/next", Reply(200, b"y"))
    fetcher = make_fetcher()
    fetcher.fetch(http_server.url("/set"))
    fetcher.fetch(http_server.url("/next"))
    assert "cookie" not in http_server.requests[1][2]


_WELL_FORMED = st.sampled_from([
    b"Content-Length: 5", b"Transfer-Encoding: chunked", b"Content-Encoding: gzip", b"Content-Encoding: deflate",
    b"Content-Encoding: br", b"Content-Encoding: gzip, gzip", b"Location: mailto:x@example.org",
    b"Location: javascript:alert(1)", b"Location: //", b"Location: http://10.0.0.1/", b"Location: http://[::1",
    b"Location: \xff\xfe", b"Retry-After: Fri, 31 Dec 9999 23:59:59 -2359", b"Retry-After: 99999999999999999999",
    b"Retry-After: -1", b"Content-Type: text/html; charset=base64", b"Content-Type: image/png", b"Set-Cookie: a=b",
])
_MALFORMED = st.sampled_from([
    b"Content-Length: 99999999999999999999", b"Content-Length: x", b"Content-Length: -3", b"ETag: \x00",
    b"X: " + b"y" * 70_000, b": empty name", b"Bad Name: x", b"Transfer-Encoding: gzip, chunked",
])


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow,
                                                                                 HealthCheck.function_scoped_fixture])
@given(status=st.sampled_from([b"200 OK", b"301 Moved", b"302 Found", b"303 See Other", b"307 Temporary",
                               b"304 Not Modified", b"429 Slow down", b"503 Busy", b"999 What", b"abc"]),
       headers=st.lists(_WELL_FORMED, max_size=4), malformed=st.none() | _MALFORMED,
       body=st.binary(max_size=200) | st.sampled_from([gzip.compress(PAGE), b"5\r\nhello\r\n0\r\n\r\n"]),
       version=st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2", b"ICY"]))
def test_fuzzed_answers_give_a_result_or_a_fetch_error(http_server, make_fetcher, status, headers, malformed, body,
                                                       version):
    """Whatever one hostile server answers: a FetchResult or a FetchError (or subclass), nothing else."""
    lines = [version + b" " + status, *headers, *([malformed] if malformed else [])]
    http_server.route("/fuzz", _raw(b"\r\n".join(lines) + b"\r\n\r\n" + body))
    fetcher = make_fetcher(retries=1, total_timeout=3.0, read_timeout=0.5, retry_after_max=0.2)
    try:
        result = fetcher.fetch(http_server.url("/fuzz"), expect="html")
    except FetchError:
        return
    assert isinstance(result, FetchResult)
