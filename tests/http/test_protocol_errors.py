"""Requests aiohttp refuses before any handler runs (framing, headers, encodings) still get the OpenAI
envelope, and the server logs each as one line, never a traceback."""

from __future__ import annotations

import gzip
import json
import logging
import zlib
from collections.abc import Iterator

import pytest
from wire import PLAIN, assert_completion, assert_error, exchange, post

from mockserver import Config, MockServer

LIMIT = 64 * 1024
BODY = json.dumps(PLAIN).encode()
STREAMED = json.dumps({**PLAIN, "stream": True}).encode()
PATH = b"/v1/chat/completions"
JSON = b"Content-Type: application/json"
CHUNKED = b"Transfer-Encoding: chunked"
GZIPPED = gzip.compress(BODY)
BOMB = gzip.compress(b" " * (LIMIT * 64))


def request(headers: list[bytes], body: bytes = BODY, line: bytes = b"POST " + PATH + b" HTTP/1.1") -> bytes:
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in [b"Host: 127.0.0.1", *headers]) + b"\r\n" + body


def length(body: bytes = BODY) -> bytes:
    return b"Content-Length: %d" % len(body)


def chunks(*parts: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


CONTENT_LENGTH = [
    ("not a number", request([JSON, b"Content-Length: abc"]), 400),
    ("negative", request([JSON, b"Content-Length: -5"]), 400),
    ("plus sign", request([JSON, b"Content-Length: +%d" % len(BODY)]), 400),
    ("hexadecimal", request([JSON, b"Content-Length: 0x10"]), 400),
    ("decimal point", request([JSON, b"Content-Length: 10.0"]), 400),
    ("empty", request([JSON, b"Content-Length: "]), 400),
    ("space inside", request([JSON, b"Content-Length: 1 0"]), 400),
    ("two different", request([JSON, length(), b"Content-Length: 5"]), 400),
    ("two equal", request([JSON, length(), length()]), 400),
    ("comma list", request([JSON, b"Content-Length: %d, %d" % (len(BODY), len(BODY))]), 400),
    ("beyond 64 bits", request([JSON, b"Content-Length: 99999999999999999999999"]), 400),
    ("over the body limit", request([JSON, b"Content-Length: 999999999999"]), 413),
    ("zero with a body", request([JSON, b"Content-Length: 0"]), 400),
    ("shorter than the body", request([JSON, b"Content-Length: 10"]), 400),
    ("with chunked", request([JSON, length(chunks(BODY)), CHUNKED], chunks(BODY)), 400),
]
TRANSFER_ENCODING = [
    ("unknown coding", request([JSON, b"Transfer-Encoding: foo"]), 400),
    ("chunked not last", request([JSON, b"Transfer-Encoding: chunked, gzip"], chunks(BODY)), 400),
    ("chunked twice", request([JSON, CHUNKED, CHUNKED], chunks(BODY)), 400),
    ("size not hex", request([JSON, CHUNKED], b"zz\r\n" + BODY + b"\r\n0\r\n\r\n"), 400),
    ("negative size", request([JSON, CHUNKED], b"-5\r\n" + BODY + b"\r\n0\r\n\r\n"), 400),
    ("size overflow", request([JSON, CHUNKED], b"f" * 20 + b"\r\n" + BODY + b"\r\n0\r\n\r\n"), 400),
    ("size too small", request([JSON, CHUNKED], b"5\r\n" + BODY + b"\r\n0\r\n\r\n"), 400),
    ("no CRLF after data", request([JSON, CHUNKED], b"%x\r\n" % len(BODY) + BODY + b"0\r\n\r\n"), 400),
    ("bare LF", request([JSON, CHUNKED], b"%x\n" % len(BODY) + BODY + b"\n0\n\n"), 400),
    ("control bytes in extension", request([JSON, CHUNKED], b"%x;\x00\x01\r\n" % len(BODY) + BODY + b"\r\n0\r\n\r\n"),
     400),
    ("space before size", request([JSON, CHUNKED], b" %x\r\n" % len(BODY) + BODY + b"\r\n0\r\n\r\n"), 400),
    ("garbage trailer", request([JSON, CHUNKED], b"%x\r\n" % len(BODY) + BODY + b"\r\n0\r\nno colon here\r\n\r\n"),
     400),
    ("over the body limit", request([JSON, CHUNKED], chunks(b" " * LIMIT, BODY)), 413),
    ("chunked on HTTP/1.0", request([JSON, CHUNKED], chunks(BODY), line=b"POST " + PATH + b" HTTP/1.0"), 200),
    ("split in many chunks", request([JSON, CHUNKED], chunks(*(BODY[i:i + 3] for i in range(0, len(BODY), 3)))),
     200),
]
CONTENT_ENCODING = [
    ("gzip, not gzip data", request([JSON, b"Content-Encoding: gzip", b"Content-Length: 20"], b"this is not gzip!!!!"),
     400),
    ("gzip, truncated", request([JSON, b"Content-Encoding: gzip", length(GZIPPED[:30])], GZIPPED[:30]), 400),
    ("deflate, not deflate data", request([JSON, b"Content-Encoding: deflate", b"Content-Length: 20"],
                                          b"this is not zlib!!!!"), 400),
    ("brotli, not installed", request([JSON, b"Content-Encoding: br", b"Content-Length: 20"], b"this is not brotli!!"),
     400),
    ("zstd, not installed", request([JSON, b"Content-Encoding: zstd", b"Content-Length: 20"], b"this is not zstd!!!!"),
     400),
    ("gzip declared twice", request([JSON, b"Content-Encoding: gzip, gzip", length(GZIPPED)], GZIPPED), 400),
    ("gzip bomb", request([JSON, b"Content-Encoding: gzip", length(BOMB)], BOMB), 413),
    ("gzip, chunked, not gzip data", request([JSON, b"Content-Encoding: gzip", CHUNKED], chunks(b"garbage garbage")),
     400),
    ("gzip", request([JSON, b"Content-Encoding: gzip", length(GZIPPED)], GZIPPED), 200),
    ("deflate", request([JSON, b"Content-Encoding: deflate", length(zlib.compress(BODY))], zlib.compress(BODY)), 200),
    ("unknown coding", request([JSON, b"Content-Encoding: snappy", length()]), 200),
]
HEADERS = [
    ("no colon", request([JSON, length(), b"NoColonHere"]), 400),
    ("space before colon", request([JSON, length(), b"X-Test : 1"]), 400),
    ("space in name", request([JSON, length(), b"X Test: 1"]), 400),
    ("empty name", request([JSON, length(), b": value"]), 400),
    ("non-ASCII name", request([JSON, length(), "X-Tést: 1".encode()]), 400),
    ("control byte in name", request([JSON, length(), b"X-\x01Test: 1"]), 400),
    ("NUL in value", request([JSON, length(), b"X-Test: a\x00b"]), 400),
    ("CR in value", request([JSON, length(), b"X-Test: a\rb"]), 400),
    ("DEL in value", request([JSON, length(), b"X-Test: a\x7fb"]), 400),
    ("folded line", request([JSON, length(), b"X-Test: a", b" continued"]), 400),
    ("line too long", request([JSON, length(), b"X-Test: " + b"a" * 9000]), 400),
    ("name too long", request([JSON, length(), b"X-" + b"a" * 9000 + b": 1"]), 400),
    ("too many", request([JSON, length(), *[b"X-H%d: 1" % i for i in range(200)]]), 400),
    ("bare LF line ends", b"POST " + PATH + b" HTTP/1.1\nHost: x\n" + JSON + b"\n" + length() + b"\n\n" + BODY, 400),
    ("bare CR line ends", b"POST " + PATH + b" HTTP/1.1\rHost: x\r" + length() + b"\r\r" + BODY, 400),
    ("Host twice", request([JSON, length(), b"Host: other"]), 400),
    ("Expect other than 100-continue", request([JSON, length(), b"Expect: teapot"]), 417),
    ("invalid UTF-8 in X-Mock-Timing", request([JSON, length(), b"X-Mock-Timing: \xff\xfe"]), 400),
    ("invalid UTF-8 in X-Mock-Fault", request([JSON, length(), b"X-Mock-Fault: cut-after=\xff"]), 400),
    ("invalid UTF-8 in Content-Type", request([b"Content-Type: application/\xffjson", length()]), 415),
    ("Latin-1 in a value", request([JSON, length(), b"X-Test: caf\xe9"]), 200),
    ("invalid UTF-8 in Authorization", request([JSON, length(), b"Authorization: Bearer \xff\xfe"]), 200),
    ("invalid UTF-8 in X-Mock-Refusal", request([JSON, length(), b"X-Mock-Refusal: no \xff\xfe way"]), 200),
    ("invalid UTF-8 in X-Mock-Refusal, streamed", request([JSON, length(STREAMED), b"X-Mock-Refusal: \xff"], STREAMED),
     200),
    ("Upgrade to h2c", request([JSON, length(), b"Connection: Upgrade, HTTP2-Settings", b"Upgrade: h2c",
                                b"HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA"]), 200),
    ("Expect 100-continue", request([JSON, length(), b"Expect: 100-continue"]), 200),
]
REQUEST_LINE = [
    ("method with a symbol", request([JSON, length()], line=b"P@ST " + PATH + b" HTTP/1.1"), 400),
    ("lowercase method", request([JSON, length()], line=b"post " + PATH + b" HTTP/1.1"), 400),
    ("unknown method", request([JSON, length()], line=b"BREW " + PATH + b" HTTP/1.1"), 400),
    ("HTTP/x.y", request([JSON, length()], line=b"POST " + PATH + b" HTTP/x.y"), 400),
    ("lowercase version", request([JSON, length()], line=b"POST " + PATH + b" http/1.1"), 400),
    ("tabs", request([JSON, length()], line=b"POST\t" + PATH + b"\tHTTP/1.1"), 400),
    ("target too long", request([JSON, length()], line=b"POST /" + b"a" * 9000 + b" HTTP/1.1"), 400),
    ("NUL in target", request([JSON, length()], line=b"POST /v1/chat\x00/completions HTTP/1.1"), 400),
    ("space in target", request([JSON, length()], line=b"POST /v1/chat completions HTTP/1.1"), 400),
    ("invalid UTF-8 in target", request([JSON, length()], line=b"POST /v1/\xff\xfe HTTP/1.1"), 400),
    ("asterisk target", request([JSON, length()], line=b"POST * HTTP/1.1"), 400),
    ("target without slash", request([JSON, length()], line=b"POST v1/chat/completions HTTP/1.1"), 400),
    ("TLS handshake", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40, 400),
    ("body sent as a request", BODY + b"\r\n\r\n", 400),
    ("garbage after a request", request([JSON, length()]) + b"GARBAGE\r\n\r\n", 400),
    ("bad percent escape", request([JSON, length()], line=b"POST /v1/chat/%zz HTTP/1.1"), 404),
    ("absolute-form target", request([JSON, length()], line=b"POST http://127.0.0.1" + PATH + b" HTTP/1.1"), 200),
    ("no version (HTTP/0.9)", request([JSON, length()], line=b"POST " + PATH), 200),
    ("HTTP/2.0 in text", request([JSON, length()], line=b"POST " + PATH + b" HTTP/2.0"), 200),
    ("extra spaces", request([JSON, length()], line=b"POST  " + PATH + b"  HTTP/1.1"), 200),
    ("empty lines first", b"\r\n\r\n" + request([JSON, length()]), 200),
]
CASES = [(f"{group}: {name}", data, status) for group, cases in (
    ("Content-Length", CONTENT_LENGTH), ("Transfer-Encoding", TRANSFER_ENCODING),
    ("Content-Encoding", CONTENT_ENCODING), ("header", HEADERS), ("request line", REQUEST_LINE))
    for name, data, status in cases]
INCOMPLETE = [
    ("Content-Length beyond the body", request([JSON, b"Content-Length: %d" % (len(BODY) + 50)])),
    ("chunk longer than its data", request([JSON, CHUNKED], b"%x\r\n" % (len(BODY) + 40) + BODY + b"\r\n")),
    ("no last chunk", request([JSON, CHUNKED], b"%x\r\n" % len(BODY) + BODY + b"\r\n")),
    ("headers never end", b"POST " + PATH + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(Config(seed=5, max_body_bytes=LIMIT)) as running:
        yield running


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def _one_liners(log: pytest.LogCaptureFixture) -> None:
    loud = [record for record in log.records if record.exc_info or record.levelno >= logging.WARNING
            or "Traceback" in record.getMessage()]
    assert loud == [], [record.getMessage() for record in loud]


def test_there_are_enough_cases() -> None:
    assert len(CASES) + len(INCOMPLETE) >= 80


@pytest.mark.parametrize(("data", "status"), [(data, status) for _, data, status in CASES],
                         ids=[name for name, _, _ in CASES])
def test_malformed_request_gets_the_envelope(server: MockServer, log: pytest.LogCaptureFixture, data: bytes,
                                             status: int) -> None:
    reply = exchange(server.port, data)
    assert reply is not None, "no answer"
    if status == 200 and reply.raw.startswith((b'{"object":"list"', b"data: ")):
        assert reply.status == 200
    elif status == 200:
        assert_completion(reply)
    else:
        assert_error(reply, status=status)
    _one_liners(log)


@pytest.mark.parametrize("data", [data for _, data in INCOMPLETE], ids=[name for name, _ in INCOMPLETE])
def test_incomplete_request_waits_quietly_and_the_server_carries_on(server: MockServer, log: pytest.LogCaptureFixture,
                                                                   data: bytes) -> None:
    assert exchange(server.port, data, timeout=0.5) is None, "answered before the request was complete"
    assert_completion(post(server.url, PLAIN))
    _one_liners(log)


def test_refusals_are_logged_one_line_each(server: MockServer, log: pytest.LogCaptureFixture) -> None:
    exchange(server.port, request([JSON, length(), b"X Test: 1"]))
    exchange(server.port, request([JSON, b"Content-Encoding: gzip", b"Content-Length: 20"], b"this is not gzip!!!!"))
    messages = [record.getMessage() for record in log.records if record.name == "mockserver"]
    assert any("malformed HTTP request" in message and "Invalid header token" in message for message in messages)
    assert all("\n" not in message for message in messages)
    _one_liners(log)
