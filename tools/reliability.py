"""Print the reliability figures of docs/reliability.md, each measured in this run:

    python tools/reliability.py [--seeds N] [--inputs N]
    python tools/reliability.py faults [--seeds N] [--reads N]     (bridge faults, real processes, ~2 min)
    python tools/reliability.py attacks                             (attacks on a real bridge, ~1 min)

1. link faults: reads sent through a byte stream with bytes dropped, bits flipped, runs duplicated and
   frames cut mid-way (reader reset), ACKs through the same faults; reads lost, duplicates delivered,
   reads delivered out of reading order;
2. random inputs: arbitrary bytes into the protocol decoder, build_lookup, the firmware config validator
   and the hid planner; crashes (any exception that is not the module's documented error);
3. hostile codes (tools/hostile_codes.py) through decode, classify, hid, line and framed: crashes,
   control keys typed, reads split, refused reads without error feedback, hostile codes taken as usable;
4. generated samples replayed through the CLI: identifiers (NIR, names, birth dates) in clear in the
   logs, stderr, table and report;
5. API inputs: random requests (method, path with traversal, token, Origin, body) against the bridge's real
   aiohttp app on 127.0.0.1: 5xx answers, tracebacks, refusals without a JSON error, journal writes by
   refused requests.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import importlib.util
import io
import json
import logging
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from firmware import config, keymaps  # noqa: E402
from firmware import protocol as P  # noqa: E402
from firmware.outputs import Refused  # noqa: E402
from firmware.outputs.hid import SUFFIX, plan  # noqa: E402
from firmware.outputs.line import LineOutput  # noqa: E402
from host_bridge.bridge.api import Api, own_origins  # noqa: E402
from host_bridge.bridge.journal import Journal  # noqa: E402
from host_bridge.cli import main as electeur  # noqa: E402
from host_bridge.decode.engines import get_engine  # noqa: E402
from host_bridge.decode.image import load_gray  # noqa: E402
from host_bridge.link.reader_link import ReaderLink  # noqa: E402
from host_bridge.payloads import build_lookup, now_source  # noqa: E402

SAFE_MODS = (0, keymaps.SHIFT, keymaps.ALTGR)


def _load_tool(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


class ByteFaults:
    """Byte-level faults on a stream: drop a byte, flip a bit, duplicate a run, cut the stream (reset)."""

    def __init__(self, rng: random.Random, rate: float) -> None:
        self.rng, self.rate, self.injected = rng, rate, 0

    def apply(self, data: bytes) -> bytes:
        out = bytearray()
        rng = self.rng
        for b in data:
            r = rng.random()
            if r < self.rate:
                self.injected += 1
                continue                                            # dropped
            if r < 2 * self.rate:
                self.injected += 1
                b ^= 1 << rng.randrange(8)                          # flipped
            out.append(b)
            if r > 1 - self.rate and len(out) > 8:
                self.injected += 1
                out += out[-rng.randrange(1, 8):]                   # a run sent twice
        if out and rng.random() < self.rate * 20:
            self.injected += 1
            out = out[:rng.randrange(len(out))]                      # reader reset mid-frame: the rest never comes
        return bytes(out)


class _Sink:
    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += bytes(data)

    def read(self, *_: int) -> bytes:
        return b""


def link_faults(seeds: int, reads: int = 300, rate: float = 0.002) -> dict[str, int]:
    """Every read through faulty byte streams (both ways) until acknowledged."""
    sent = delivered_total = lost = duplicates = injected = out_of_order = 0
    for seed in range(seeds):
        rng = random.Random(seed)
        codes = {i: b"code-%d-" % i + rng.randbytes(rng.randrange(0, 400)) for i in range(1, reads + 1)}
        delivered: list[bytes] = []
        host = _Sink()
        link = ReaderLink(host, lambda reader, seq, data, meta: delivered.append(data))
        box, acks = P.Outbox(reader=1, capacity=8, retry_ms=40, max_retry_ms=160), P.Decoder()
        up, down = ByteFaults(rng, rate), ByteFaults(rng, rate)
        pending, now = sorted(codes), 0
        while (pending or len(box)) and now < 2_000_000:
            while pending and box.add(pending[0], codes[pending[0]]):
                pending.pop(0)
            link.feed(up.apply(b"".join(box.due(now))))
            for msg in acks.feed(down.apply(host.data)):
                if msg.type == P.ACK:
                    box.ack(msg.seq)
            host.data = b""
            now += 20
        sent += len(codes)
        delivered_total += len(delivered)
        lost += len(set(codes.values()) - set(delivered))
        duplicates += len(delivered) - len(set(delivered))
        order = {code: i for i, code in codes.items()}
        out_of_order += sum(order[a] > order[b] for a, b in zip(delivered, delivered[1:]))
        injected += up.injected + down.injected
    return {"reads sent": sent, "faults injected": injected, "reads delivered": delivered_total,
            "reads lost": lost, "duplicates delivered": duplicates, "delivered out of reading order": out_of_order}


def random_inputs(n: int) -> dict[str, int]:
    """Arbitrary bytes into every input parser; a crash is an exception other than the documented one."""
    rng = random.Random(8)
    crashes, first = 0, ""
    azerty = keymaps.azerty()
    for _ in range(n):
        data = rng.randbytes(rng.randrange(0, 600))
        if rng.random() < 0.5:
            data = rng.choice([b"EP1|", b"IS01" + b"0" * 22, b"DC04", b"01", b"]d201", b"APCV1.", b"AMC1|"]) + data
        for name, target in (("protocol", lambda d: P.Decoder().feed(d + b"\x00")),
                             ("lookup", lambda d: build_lookup(d, source=now_source("fuzz"))),
                             ("config", lambda d: config.validate(json.loads(d.decode("latin-1")))),
                             ("hid", lambda d: plan(d, azerty, "<GS>", 512, SUFFIX["enter"]))):
            try:
                target(data)
            except (Refused, ValueError):                            # refused read, not JSON: documented
                pass
            except Exception as exc:  # noqa: BLE001 - counting crashes is the point
                crashes += 1
                first = first or f"{name}: {exc!r} on {data[:60]!r}"
    return {"inputs tried": n * 4, "crashes": crashes, **({"first crash": first} if first else {})}  # type: ignore


def hostile(out: Path) -> dict[str, int]:
    """The hostile corpus through decode, classify, hid, line and framed."""
    manifest = _load_tool("hostile_codes").write(out)
    engine = get_engine()
    fig = {"hostile codes": len(manifest), "decoded exactly": 0, "crashes": 0, "control keys typed": 0,
           "reads split": 0, "refused without error feedback": 0, "hostile codes taken as usable": 0,
           "framed delivered exactly once": 0}
    for entry in manifest:
        payload = base64.b64decode(entry["bytes_b64"])
        try:
            fig["decoded exactly"] += [s.data for s in engine.decode(load_gray(out / entry["file"]))] == [payload]
            lookup = build_lookup(payload, source=now_source("hostile"))
            if not entry["expect"]["usable"] and lookup["status"] == "ok":
                fig["hostile codes taken as usable"] += 1
            try:
                keys = [k for g in plan(payload, keymaps.azerty(), "<GS>", 512, ()) for k in g]
                fig["control keys typed"] += sum(m not in SAFE_MODS or c in (keymaps.ENTER, keymaps.TAB) for c, m in keys)
            except Refused as exc:
                fig["refused without error feedback"] += not str(exc)
            port = _Sink()
            try:
                asyncio.run(LineOutput(port, config.defaults()).emit(payload))
                fig["reads split"] += port.data.count(b"\n") != 1
            except Refused:
                pass
            got: list[bytes] = []
            host = _Sink()
            ReaderLink(host, lambda r, s, d, m: got.append(d)).feed(P.read(1, 1, payload))
            fig["framed delivered exactly once"] += got == [payload] and P.Decoder().feed(host.data)[0].type == P.ACK
        except Exception:  # noqa: BLE001
            fig["crashes"] += 1
    return fig


def redaction(out: Path) -> dict[str, int]:
    """Replay generated samples; count identifiers found in clear in logs, stderr, the table and the report."""
    with contextlib.redirect_stdout(io.StringIO()):
        electeur(["samples", "--out", str(out), "--count", "40", "--seed", "8"])
    secrets = {v for e in json.loads((out / "manifest.json").read_text()) for k, v in e["fields"].items()
               if v and any(w in k for w in ("name", "birth_date", "ins_number"))}
    logs, stdout, stderr = io.StringIO(), io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(logs)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG)
    report = out / "report.json"
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        electeur(["replay", str(out), "--session", "--report", str(report)])
    logging.getLogger().removeHandler(handler)
    text = logs.getvalue() + stdout.getvalue() + stderr.getvalue() + report.read_text(encoding="utf-8")
    return {"identifiers in the samples": len(secrets), "unredacted identifiers in logs": sum(s in text for s in secrets)}


API_TOKEN = "reliability-token-0123456789"
API_PATHS = ["/api/lookups", "/api/lookups/manual", "/api/lookups/x", "/api/health", "/api/devices", "/api/events",
             "/api/openapi.json", "/", "/counter.js", "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
             "/api/lookups/..%2F..%2Fjournal.sqlite", "/index.html%00.js", "/nothing"]


def _api_request(rng: random.Random, own: str) -> tuple[str, str, dict[str, str], bytes | None]:
    """One random request: mostly plausible, often hostile."""
    path = rng.choice(API_PATHS) + rng.choice(["", "", "?after=" + str(rng.choice([3, 10**20, -1, "x"])),
                                                f"?limit={rng.randrange(-5, 5000)}", "?last=abc", f"/{rng.random()}"])
    headers = {"Authorization": rng.choice([f"Bearer {API_TOKEN}"] * 3 + ["", "Bearer", f"Bearer {API_TOKEN}x",
                                                                            API_TOKEN, "Bearer \u00e9\u00ff"]),
               "Origin": rng.choice(["", "", own, "http://evil.example", "null", own + ".evil.example"])}
    code = rng.choice(["K7P3 9QXA 2M4T B8RD", "K7P3 9QXA 2M4T B8RC", "<script>x</script>", "\u202eDR8BT4M2AXQ93P7K",
                       "A" * rng.randrange(0, 200), "".join(chr(rng.randrange(0, 0x3000)) for _ in range(20))])
    body = rng.choice([None, rng.randbytes(rng.randrange(300)), json.dumps({"code": code}).encode(),
                       json.dumps({"code": rng.randrange(9)}).encode(), b"[" * 3000, b"x" * 70_000, b"\xff\xfe"])
    return rng.choice(["GET", "GET", "POST", "PUT", "DELETE"]), path, {k: v for k, v in headers.items() if v}, body


def api_inputs(n: int, journal_path: Path) -> dict[str, int]:
    """Random requests against the real API app (aiohttp test server on 127.0.0.1)."""
    from aiohttp.test_utils import TestClient, TestServer
    from yarl import URL

    logging.getLogger("electeur").addHandler(logging.NullHandler())  # refusals are logged; not this report's output

    fig = {"requests": n, "answered 2xx": 0, "refused 4xx with a JSON error": 0, "5xx answers": 0,
           "tracebacks in answers": 0, "refusals without a JSON error": 0, "journal rows written by refusals": 0,
           "manual entries journaled": 0, "still answering after": 0}

    async def run() -> None:
        rng, journal = random.Random(8), Journal(journal_path)
        api = Api(journal, token=API_TOKEN, origins=set())
        async with TestClient(TestServer(api.build(), host="127.0.0.1")) as client:
            api.origins = own_origins("127.0.0.1", client.port)
            for _ in range(n):
                method, path, headers, body = _api_request(rng, f"http://127.0.0.1:{client.port}")
                before = journal.count()
                url = URL(f"http://127.0.0.1:{client.port}{path}", encoded=True)   # sent as written, '..' included
                async with client.session.request(method, url, headers=headers, data=body) as r:
                    data, status, ctype = await r.read(), r.status, r.content_type
                fig["tracebacks in answers"] += b"Traceback" in data
                fig["5xx answers"] += status >= 500
                if status < 400:
                    fig["answered 2xx"] += 1
                    fig["manual entries journaled"] += journal.count() - before
                    continue
                fig["journal rows written by refusals"] += journal.count() - before
                try:
                    ok = ctype == "application/json" and isinstance(json.loads(data)["error"], str)
                except ValueError:
                    ok = False
                fig["refused 4xx with a JSON error" if ok else "refusals without a JSON error"] += 1
            async with client.get("/api/health", headers={"Authorization": f"Bearer {API_TOKEN}"}) as r:
                fig["still answering after"] = int(r.status == 200)
        journal.close()

    asyncio.run(run())
    return fig


def faults(argv: list[str]) -> int:
    """Bridge faults against real processes (host_bridge/testbench/bridge_faults.py): per fault, reads sent,
    delivered per sink, lost, duplicates, and what the pharmacist saw."""
    from host_bridge.testbench import bridge_faults as bf

    parser = argparse.ArgumentParser(prog="reliability.py faults", description=faults.__doc__)
    parser.add_argument("--seeds", type=int, default=5, help="bridge-kill runs, 3 kills each (default 5)")
    parser.add_argument("--reads", type=int, default=60, help="reads per run (default 60)")
    args = parser.parse_args(argv)
    runs: list[tuple[str, Any]] = [(f"bridge SIGKILLed, seed {seed}", lambda d, s=seed: bf.bridge_killed(d, seed=s, reads=args.reads))
                                   for seed in range(args.seeds)]
    runs += [("journal disk full", lambda d: bf.journal_full(d, reads=args.reads)),
             ("webhook 500 then refused, MQTT broker stopped", lambda d: bf.sinks_down(d, reads=args.reads)),
             ("ePU slow, 500, stopped", lambda d: bf.epu_faults(d))]
    return _run_scenarios(runs, 44)


def _run_scenarios(runs: list[tuple[str, Any]], width: int) -> int:
    """Run each (title, run(workdir) -> figures) in a fresh directory and print its figures as they come."""
    for title, run in runs:
        with tempfile.TemporaryDirectory() as tmp:
            figures = run(Path(tmp))
        print(f"{title}:")
        for name, value in figures.items():
            print(f"  {name:<{width}} {json.dumps(value, ensure_ascii=False) if not isinstance(value, (int, str)) else value}")
        sys.stdout.flush()
    return 0


def _attacks() -> list[tuple[str, Any]]:
    """Each attack: (title, run(workdir) -> figures); the last three on the reader <-> bridge TCP link
    (host_bridge/testbench/link_attacks.py, pairing): unpaired TCP peers -> reads obtained, ACKed away, CONFIG_SET
    accepted; a fake reader at the bridge's tcp:// address -> forged READs journaled."""
    from host_bridge.testbench import attacks as at
    from host_bridge.testbench import link_attacks as la

    return [("frame bombs from a rogue reader (TCP)", at.frame_bombs),
            ("junk on a TCP reader link", lambda d: at.tcp_junk()),
            ("webhook redirects to another host", lambda d: at.redirects()),
            ("slow connections on the API (1,100 half-sent requests)", at.slow_clients),
            ("a LAN stranger connects to a paired Wi-Fi reader before the bridge", la.stranger_first),
            ("an unpaired Wi-Fi reader, a peer connects", la.unpaired_reader),
            ("a fake reader at the bridge's tcp:// address, then the genuine one", la.fake_endpoint)]


def attacks(argv: list[str]) -> int:
    """Attacks on a real bridge (host_bridge/testbench/attacks.py, link_attacks.py): what each cost and what it
    obtained."""
    argparse.ArgumentParser(prog="reliability.py attacks", description=attacks.__doc__).parse_args(argv)
    return _run_scenarios(_attacks(), 52)


def main() -> int:
    if sys.argv[1:2] == ["faults"]:
        return faults(sys.argv[2:])
    if sys.argv[1:2] == ["attacks"]:
        return attacks(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="link-fault runs of 300 reads each (default 5)")
    parser.add_argument("--inputs", type=int, default=5000, help="random inputs per parser (default 5000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sections = {"link faults": link_faults(args.seeds), "random inputs": random_inputs(args.inputs),
                    "hostile codes": hostile(Path(tmp) / "hostile"), "health data": redaction(Path(tmp) / "samples")}
        sections["api inputs"] = api_inputs(args.inputs, Path(tmp) / "api.sqlite")
    for title, figures in sections.items():
        print(f"{title}:")
        for name, value in figures.items():
            print(f"  {name:<34} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
