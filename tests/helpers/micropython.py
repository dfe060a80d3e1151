"""Running scripts under the two real MicroPythons the firmware tests use (the wasm port and the unix port)."""

from __future__ import annotations

import subprocess

import pytest

from conftest import REPO
from host_bridge.testbench import unix_port

RUNNER = REPO / "tools" / "micropython" / "run.mjs"
# The two real MicroPythons: "micropython" (wasm port: its heap grows, its files live in memory) and
# "micropython-unix" (unix port: a fixed heap that raises MemoryError as a board's does, files on disk)
MP_RUNTIMES = [pytest.param("micropython", marks=pytest.mark.micropython),
               pytest.param("micropython-unix", marks=pytest.mark.micropython)]


def mp_argv(runtime: str, heap: str, script, *args: str, mounts: dict | None = None, cwd=None) -> list[str]:
    """argv running `script` with `args` on `runtime`; `mounts` (host dir -> path in the wasm port's memory
    file system, where `args` name them) are used as they are on the unix port, whose files are the host's."""
    if runtime == "micropython-unix":
        for host, mp_path in (mounts or {}).items():
            args = tuple(a.replace(mp_path, str(host)) for a in args)
        return unix_port.argv(heap, str(script), *args, cwd=cwd)
    mount_args = [x for host, mp_path in (mounts or {}).items() for x in ("--mount", f"{host}:{mp_path}")]
    return ["node", str(RUNNER), "--heap", heap, "--mount", f"{REPO / 'firmware'}:/lib/firmware", *mount_args,
            str(script), *args]


def run_micropython(script: str, tmp_path, heap: str = "192k", stdin: bytes = b"", timeout: float = 120,
                    runtime: str = "micropython") -> subprocess.CompletedProcess:
    """Run `script` under MicroPython with the firmware importable (on the unix port, in tmp_path)."""
    path = tmp_path / "script.py"
    path.write_text(script, encoding="utf-8")
    return subprocess.run(mp_argv(runtime, heap, path, cwd=tmp_path), input=stdin, capture_output=True, timeout=timeout)


PICO_HEAP = 240_608    # free heap at boot of MicroPython 1.27's rp2 build on a Pico (docs/firmware.md, board heaps)
