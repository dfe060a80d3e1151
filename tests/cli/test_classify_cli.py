"""`electeur classify` and `electeur lookup --code` as a user runs them, hostile input included."""

import json
import subprocess
import sys

import payload_examples as ex
from host_bridge.payloads.manual import printed_form


def electeur(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "host_bridge.cli", *args], input=stdin, capture_output=True, timeout=60)


HOSTILE = [
    b"\x01\x02\x1b[2J\x07\x08\x7f",                       # control characters (terminal escape, bell)
    b"A" * 100_000,                                       # a 100 KB line
    b"\xff\xfe\xc3\x28\x80abc",                           # invalid UTF-8
    b"EP1|\x00\x00\x00",                                  # NUL bytes after a real prefix
    b"|" * 5000,                                          # thousands of separators
    b"EP1|" + b"|" * 5000,                                # ... after the e-prescription marker
    b"\x1d" * 3000,                                       # thousands of GS
    b"DC04FR0000011E5A1E5A01A1FR" + bytes(b for b in range(256) if b != 10) * 4,  # 2D-Doc header + garbage
    b"DC04FR0000011E5A1E5A01A1FR" + b"zzzz!!%%garbage garbage",  # ... with printable garbage
    b"DC04\xff\xfe garbage",                              # 2D-Doc marker with a broken header
    b"IS01" + b"0" * 22 + b"S1" + b"\x1d" * 2000,         # INS header with garbage
    b"APCV1." + b"." * 3000,                              # apCV marker with thousands of dots
    b"",                                                  # empty line
]


def test_hostile_inputs_each_give_one_unknown_or_invalid_lookup_and_exit_0() -> None:
    result = electeur("classify", stdin=b"\n".join(HOSTILE) + b"\n")
    assert result.returncode == 0, result.stderr[-500:]
    assert b"Traceback" not in result.stderr
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(lines) == len(HOSTILE)
    for line in lines:
        assert line["kind"] == "unknown" or line["status"] == "invalid", line["kind"]
        assert line["action"]["reason"] and line["warnings"], line["kind"]


def test_classify_reads_arguments_and_a_session_flags_the_mismatch() -> None:
    result = electeur("classify", "--session", ex.apcv(family="Durand").decode(), ex.ordonnance().decode())
    kinds = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [k["kind"] for k in kinds] == ["apcv", "ordonnance"]
    assert kinds[1]["warnings"][0]["code"] == "patient_mismatch"


def test_lookup_code_accepts_the_printed_form_and_refuses_a_typo() -> None:
    ok = electeur("lookup", "--code", printed_form(ex.NUMBER).lower())
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["fields"] == {"prescription_number": ex.NUMBER}
    typo = electeur("lookup", "--code", "0" + ex.NUMBER[1:] if ex.NUMBER[0] != "0" else "1" + ex.NUMBER[1:])
    assert typo.returncode == 2 and "caractère de contrôle" in typo.stderr.decode() and b"Traceback" not in typo.stderr


def test_samples_command_refuses_bad_arguments_in_one_line(tmp_path) -> None:
    (tmp_path / "file").write_text("x")
    for args in (["--out", str(tmp_path / "file")], ["--out", str(tmp_path / "d"), "--count", "0"]):
        result = electeur("samples", *args)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1 and b"Traceback" not in result.stderr
