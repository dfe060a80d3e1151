"""Hostile input on the bridge's HTTP API and WebSocket, against the real aiohttp app on 127.0.0.1.

Any method, path (traversal included), query, header (forged tokens, odd Origins, bytes that are not
UTF-8), body (random bytes, random JSON, nested a thousand deep, over the size limit): the answer is never
a 5xx nor a traceback; a refused request gets a 4xx with a JSON `{"error": "..."}` saying why, writes
nothing to the journal, and the service answers normally afterwards.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
from urllib.parse import quote, urlencode

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from host_bridge.bridge.journal import Journal
from api_server import ApiServer

TOKEN = "inputs-test-token-0123456789"
GOOD_CODE = "K7P3 9QXA 2M4T B8RD"
RUNS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ROUTES = ["/api/lookups", "/api/lookups/manual", "/api/lookups/x", "/api/health", "/api/devices", "/api/events",
          "/api/openapi.json", "/", "/index.html", "/counter.js", "/counter.css"]
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"), max_size=60)
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    journal = Journal(tmp_path_factory.mktemp("api") / "journal.sqlite")
    srv = ApiServer(journal, TOKEN)
    yield srv
    srv.stop()
    journal.close()


def paths() -> st.SearchStrategy[str]:
    traversal = st.sampled_from(["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fpyproject.toml",
                                 "/api/../counter.js", "/api/lookups/..%2F..%2Fjournal.sqlite", "//etc/passwd",
                                 "/counter.js/../../host_bridge/bridge/api.py", "/%00", "/index.html%00.js"])
    tail = st.text(max_size=30).map(lambda t: quote(t, safe="/.%"))
    return st.sampled_from(ROUTES) | traversal | st.tuples(st.sampled_from(ROUTES), tail).map("".join)


def auths() -> st.SearchStrategy[str | None]:
    return st.sampled_from([None, f"Bearer {TOKEN}", "Bearer", "Bearer ", TOKEN, f"Basic {TOKEN}",
                            f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", f"bearer {TOKEN[::-1]}"]) | \
        HEADER_TEXT.map(lambda t: "Bearer " + t)


def origins(port_hint: str = "PORT") -> st.SearchStrategy[str | None]:
    return st.sampled_from([None, "OWN", "http://localhost:PORT", "http://evil.example", "null", "http://127.0.0.1",
                            "http://127.0.0.1:PORT.evil.example", "https://127.0.0.1:PORT", "http://127.0.0.1:PORT/",
                            "file://", ""]) | HEADER_TEXT


def bodies() -> st.SearchStrategy[bytes | None]:
    return st.one_of(
        st.none(), st.binary(max_size=300),
        JSON.map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries({"code": JSON | st.text(max_size=100)}).map(lambda v: json.dumps(v).encode()),
        st.text(max_size=100).map(lambda t: json.dumps({"code": t}, ensure_ascii=False).encode("utf-8", "surrogatepass")),
        st.sampled_from([b"[" * 5000, b'{"code": "' + b"A" * 70_000 + b'"}', b'{"code": "\xff\xfe"}',
                         json.dumps({"code": "A" * 5000}).encode(), b'{"code": "' + GOOD_CODE.encode() + b'\x00"}']))


def request(server: ApiServer, method: str, target: str, headers: dict[str, str], body: bytes | None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, target, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        conn.close()


def assert_refusal_is_clear(status: int, ctype: str, data: bytes) -> None:
    assert status < 500, data
    assert b"Traceback" not in data and b'File "' not in data
    if status >= 400:
        assert ctype.startswith("application/json"), (status, ctype, data[:200])
        error = json.loads(data)["error"]
        assert isinstance(error, str) and error


def assert_still_serving(server: ApiServer) -> None:
    status, _, data = request(server, "GET", "/api/health", {"Authorization": f"Bearer {TOKEN}"}, None)
    assert status == 200 and json.loads(data)["status"] == "ok"


@RUNS
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]), path=paths(),
       query=st.dictionaries(st.sampled_from(["after", "limit", "last", "token", "x"]), st.text(max_size=30) | st.sampled_from(
           ["99999999999999999999", "9" * 2000, "-1", "0", "1e3", "\u00b2", " 5", TOKEN]), max_size=3),
       auth=auths(), origin=origins(), body=bodies(), ctype=st.sampled_from([None, "application/json", "text/plain",
                                                                              "application/json; charset=latin-1"]))
def test_any_request_gets_an_answer_or_a_clear_json_refusal_and_journals_only_valid_codes(
        server, method, path, query, auth, origin, body, ctype) -> None:
    port = str(server.port)
    headers = {k: v for k, v in {"Authorization": auth, "Content-Type": ctype}.items() if v is not None}
    if origin is not None:
        headers["Origin"] = server.base if origin == "OWN" else origin.replace("PORT", port)
    before = server.journal.count()
    target = path + ("?" + urlencode(query) if query else "")
    status, ctype_got, data = request(server, method, target, headers, body)
    assert_refusal_is_clear(status, ctype_got, data)

    foreign = "Origin" in headers and headers["Origin"] not in server.api.origins
    if foreign:
        assert status == 403
    elif path.startswith("/api/") and auth != f"Bearer {TOKEN}" and not (path.startswith("/api/events") and "token" in query):
        assert status == 401
    created = status == 201
    assert not created or (method == "POST" and path == "/api/lookups/manual" and auth == f"Bearer {TOKEN}")
    assert server.journal.count() == before + created          # rejected input writes nothing
    if created:
        assert server.journal.get(json.loads(data)["id"]) is not None
    assert_still_serving(server)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=st.text(max_size=80) | st.sampled_from(["\u202eDR8BT4M2AXQ93P7K", GOOD_CODE + "\x1b[2J", "<script>x</script>",
                                                      GOOD_CODE.replace(" ", "\u2028"), GOOD_CODE.lower()]))
def test_manual_entry_of_any_text_is_journaled_once_valid_else_422_with_the_reason(server, code) -> None:
    before = server.journal.count()
    body = json.dumps({"code": code}).encode()
    status, ctype, data = request(server, "POST", "/api/lookups/manual",
                                  {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}, body)
    assert_refusal_is_clear(status, ctype, data)
    assert status in (201, 422)
    if status == 422:
        assert len(data) < 600                                  # a huge code is not echoed back in full
        assert server.journal.count() == before
    else:
        lookup = json.loads(data)
        assert lookup["fields"]["prescription_number"] == "K7P39QXA2M4TB8RD" and lookup["text"] == code
        assert server.journal.count() == before + 1 or server.journal.get(lookup["id"]) is not None


MALFORMED = [
    b"GET /api/h\xffealth HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer \xff\xfe" + TOKEN.encode() + b"\r\n\r\n",
    b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nOrigin: http://\xc3\x28\r\n\r\n",
    b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " + b"a" * 10_000 + b"\r\n\r\n",
    b"GARBAGE\r\n\r\n",
    b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\n\r\n",
    b"POST /api/lookups/manual HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " + TOKEN.encode()
    + b"\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"POST /api/lookups/manual HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " + TOKEN.encode()
    + b"\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)),   # a TLS ClientHello on the plain port
]


def raw(server: ApiServer, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(data)  # no half-close: aiohttp drops the answer to a client that stopped sending
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
    return out


@pytest.mark.parametrize("data", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_http_is_refused_with_a_4xx_and_no_traceback(server, data) -> None:
    before = server.journal.count()
    answer = raw(server, data)
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else None
    assert status is None or 400 <= status < 500, answer[:300]  # the HTTP parser's own 400, or the app's JSON 4xx
    assert b"Traceback" not in answer and b'File "' not in answer
    assert server.journal.count() == before
    assert_still_serving(server)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.sampled_from(["query", "protocol", "header", "none"]), token=st.sampled_from([TOKEN, TOKEN + "x", "", "x"]) | HEADER_TEXT,
       origin=origins(), frames=st.lists(st.binary(max_size=200) | st.text(max_size=200), max_size=5))
def test_websocket_opens_only_with_the_token_and_own_origin_and_survives_any_frames(server, where, token, origin, frames) -> None:
    async def scenario() -> tuple[int, int]:
        headers = {} if origin is None else {"Origin": server.base if origin == "OWN" else origin.replace("PORT", str(server.port))}
        url, protocols = server.base + "/api/events", ()
        if where == "query":
            url += "?" + urlencode({"token": token})
        elif where == "protocol":
            protocols = (f"bearer.{token}",)
        elif where == "header":
            headers["Authorization"] = f"Bearer {token}"
        async with aiohttp.ClientSession() as http:
            try:
                ws = await http.ws_connect(url, headers=headers, protocols=protocols)
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status, 0
            except (aiohttp.ClientError, ValueError):  # a header aiohttp itself will not send
                return 0, 0
            hello = await ws.receive_json(timeout=5)
            for frame in frames:
                await (ws.send_str(frame) if isinstance(frame, str) else ws.send_bytes(frame))
            await ws.close()
            return 101, hello["type"] == "hello"

    status, hello = asyncio.run(scenario())
    sent_origin = None if origin is None else (server.base if origin == "OWN" else origin.replace("PORT", str(server.port)))
    allowed = (sent_origin is None or sent_origin in server.api.origins) and token == TOKEN and where != "none"
    if status:
        assert (status == 101) == allowed, (status, where, token, sent_origin)
        assert status != 101 or hello
    assert_still_serving(server)


@pytest.mark.parametrize("method, target, body, status", [
    ("GET", "/api/lookups?after=99999999999999999999", None, 400),     # was 500: SQLite integer overflow
    ("POST", "/api/lookups/manual", b"[" * 5000, 400),                  # was 500: RecursionError in json
    ("POST", "/api/lookups/manual", b'{"code": "' + b"A" * 70_000 + b'"}', 413),   # was a text/plain 413
    ("GET", "/api/nothing-here", None, 404),                            # was a text/plain 404
    ("DELETE", "/api/lookups", None, 405),                              # was a text/plain 405
    ("POST", "/api/lookups/manual", json.dumps({"code": "A" * 60}).encode(), 422),
])
def test_bugs_found_by_the_properties_now_answer_a_json_4xx(server, method, target, body, status) -> None:
    got, ctype, data = request(server, method, target, {"Authorization": f"Bearer {TOKEN}"}, body)
    assert got == status and ctype.startswith("application/json") and json.loads(data)["error"]
