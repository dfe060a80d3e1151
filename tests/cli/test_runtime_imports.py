"""What a command loads: the bridge a pharmacy runs imports nothing of the test bench (simulators, sample
generators, fault rigs, the ePU sandbox), and `electeur version` loads no decoder or web server and is quick."""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
from pathlib import Path

from host_bridge.testbench.fault_rig import free_port

# Runs `electeur run` in the main thread (it handles signals there); a helper thread waits for the API,
# writes sys.modules to a file and interrupts the bridge as Ctrl-C would.
RUN_AND_LIST = """
import json, os, signal, socket, sys, threading, time
from host_bridge.cli import main

def list_modules():
    port = int(sys.argv[2])
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    with open(sys.argv[1], "w") as out:
        json.dump(sorted(sys.modules), out)
    os.kill(os.getpid(), signal.SIGINT)

threading.Thread(target=list_modules, daemon=True).start()
sys.exit(main(sys.argv[3:]))
"""

BENCH_ONLY = ("host_bridge.testbench", "segno")   # the test bench, and the QR writer only it uses


def test_the_running_bridge_imports_nothing_of_the_test_bench(tmp_path: Path) -> None:
    port, listed = free_port(), tmp_path / "modules.json"
    proc = subprocess.run([sys.executable, "-c", RUN_AND_LIST, str(listed), str(port), "run",
                           "--api", f"127.0.0.1:{port}", "--device", "tcp://127.0.0.1:1", "--token", "t" * 24,
                           "--journal", str(tmp_path / "journal.sqlite")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    modules = json.loads(listed.read_text())
    assert "host_bridge.bridge.service" in modules and "aiohttp.web" in modules, proc.stderr
    assert [m for m in modules if m.startswith(BENCH_ONLY)] == []


def test_version_lists_the_decoders_without_loading_them_in_under_150_ms() -> None:
    code = "import json, sys; from host_bridge.cli import main; main(['version']); print(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("electeur ") and lines[2].startswith("zxing-cpp 3.") and lines[3].startswith("pyzbar ")
    loaded = set(json.loads(lines[-1]))
    assert not loaded & {"zxingcpp", "numpy", "PIL", "aiohttp", "serial", "host_bridge.decode.engines"}

    # CPU time of the whole process (Python's own start included), median of 5: wall time on a shared
    # machine measures the other processes as much as this one.
    spent = []
    for _ in range(5):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-m", "host_bridge.cli", "version"], stdout=subprocess.DEVNULL, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    print(f"electeur version: {statistics.median(spent):.0f} ms CPU (median of 5)")
    assert statistics.median(spent) < 150
