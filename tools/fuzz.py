"""Coverage-guided fuzzing (atheris/libFuzzer), on demand, not in CI: `pip install -e '.[fuzz]'`, then

    python tools/fuzz.py TARGET [libFuzzer options, e.g. -runs=100000 -max_total_time=60 CORPUS_DIR]

Targets: protocol (streaming decoder + body parsers), lookup (build_lookup + schema + redaction),
twoddoc (2D-Doc header), gs1 (element strings), config (firmware config loader), api (the bridge API's
request parsing: bearer token, paging query, manual-entry body, then the manual lookup itself).
Each target turns the input into the module's documented errors; any other exception is a crash
that libFuzzer reports with the input that caused it (written to crash-<sha1>).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import tempfile
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qsl

import atheris

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import jsonschema

with atheris.instrument_imports():
    from firmware import config
    from firmware import protocol as P
    from host_bridge.bridge.api import BadRequest, bearer_token, manual_code, paging
    from host_bridge.errors import UserError
    from host_bridge.payloads import build_lookup, gs1, redacted, twoddoc
    from host_bridge.payloads.manual import manual_lookup
    from host_bridge.payloads.lookup import decode_text

from host_bridge.testbench.samples.content import KIND_WEIGHTS, make

LOOKUP = jsonschema.Draft202012Validator(json.loads((REPO / "docs/schemas/epu-lookup.v1.json").read_text()))
SOURCE = {"reader": "fuzz", "read_id": "1", "engine": None, "time": "2026-11-23T10:00:00+00:00"}
PARSERS = {P.READ: P.parse_read, P.FRAME_START: P.parse_frame_start, P.FRAME_CHUNK: P.parse_frame_chunk,
           P.FRAME_END: P.parse_frame_end, P.STATUS: P.Message.json, P.HELLO: P.Message.json}
_CONFIG_FILE = Path(tempfile.mkdtemp(prefix="electeur-fuzz-")) / "config.json"


def fuzz_protocol(data: bytes) -> None:
    dec = P.Decoder()
    for msg in dec.feed(data) + dec.feed(b"\x00"):
        try:
            PARSERS.get(msg.type, lambda m: None)(msg)
        except P.ProtocolError:
            pass
    try:
        P.decode_frame(data)
    except P.ProtocolError:
        pass


def fuzz_lookup(data: bytes) -> None:
    lookup = build_lookup(data, source=SOURCE)
    LOOKUP.validate(lookup)
    json.dumps(redacted(lookup))


def _text(data: bytes) -> str:
    """The text the pipeline parses: UTF-8, else ISO-8859-1, as build_lookup decodes a payload."""
    return decode_text(data)[0]


def fuzz_twoddoc(data: bytes) -> None:
    try:
        twoddoc.parse_header(_text(data))
    except twoddoc.HeaderError:
        pass


def fuzz_gs1(data: bytes) -> None:
    try:
        gs1.parse(_text(data))
    except gs1.ElementStringError:
        pass


def fuzz_config(data: bytes) -> None:
    _CONFIG_FILE.write_bytes(data)
    cfg, errors = config.load(str(_CONFIG_FILE))
    assert set(cfg) == set(config.SCHEMA) and all(config.check(k, v) is None for k, v in cfg.items())


def fuzz_api(data: bytes) -> None:
    """One request's inputs, NUL-separated: query string, Authorization, WebSocket subprotocols, body.
    BadRequest/UserError (and ValueError for a cursor we never gave out) are the documented refusals."""
    query_b, auth, proto, body = (data.split(b"\0", 3) + [b""] * 4)[:4]
    query = dict(parse_qsl(query_b.decode("utf-8", "surrogateescape")))
    headers = {"Authorization": auth.decode("utf-8", "surrogateescape"),
               "Sec-WebSocket-Protocol": proto.decode("utf-8", "surrogateescape")}
    given = bearer_token(headers, query, websocket=len(data) % 2 == 0)
    assert given is None or isinstance(given, str)
    try:
        paging(query)
    except ValueError:  # BadRequest is a ValueError
        pass
    try:
        lookup = manual_lookup(manual_code(body), source=SOURCE)
    except (BadRequest, UserError):
        return
    LOOKUP.validate(lookup)


TARGETS: dict[str, Callable[[bytes], None]] = {"protocol": fuzz_protocol, "lookup": fuzz_lookup,
                                                "twoddoc": fuzz_twoddoc, "gs1": fuzz_gs1, "config": fuzz_config,
                                                "api": fuzz_api}


def seeds(target: str) -> list[bytes]:
    """Valid inputs to start from: one generated payload of every kind (framed for `protocol`)."""
    rng = random.Random(8)
    payloads = [make(kind, rng, dt.date(2026, 1, 1)).payload for kind in KIND_WEIGHTS]
    if target == "protocol":
        return [P.read(1, n, p) for n, p in enumerate(payloads)] + [P.status(1, {"ok": True}), P.ack(1, 3)]
    if target == "api":
        return [b"after=3&limit=10\0Bearer t\0bearer.t\0" + json.dumps({"code": "K7P3 9QXA 2M4T B8RD"}).encode(),
                b"last=20" + b"\0" * 3 + b'{"code": "K7P39QXA2M4TB8RD"}']
    if target == "config":
        return [json.dumps(config.defaults()).encode(), b'{"output": "hid", "hid_gs": "~"}']
    return payloads


def main() -> None:
    """Fuzz one target; with no corpus directory given, start from a temporary one holding the seeds."""
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: python tools/fuzz.py {{{','.join(TARGETS)}}} [libFuzzer options] [CORPUS_DIR]")
    name, args = sys.argv[1], sys.argv[2:]
    if not any(not a.startswith("-") for a in args):
        corpus = Path(tempfile.mkdtemp(prefix=f"electeur-fuzz-{name}-"))
        for n, seed in enumerate(seeds(name)):
            (corpus / f"seed-{n}").write_bytes(seed)
        args.append(str(corpus))
    atheris.Setup([sys.argv[0]] + args, TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
