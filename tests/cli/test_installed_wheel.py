"""The built wheel installed into a fresh venv outside the checkout: board profiles, firmware sources and the
MicroPython runner come with the package, so `electeur` works with no git checkout around it.

The venv reuses this environment's dependencies through a path entry (no download); its own site-packages
comes first, so `host_bridge` and `firmware` are the wheel's. The MicroPython WebAssembly port is an npm package,
not in the wheel: without it the error says how to install it; $ELECTEUR_MICROPYTHON_DIR points at one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import sysconfig
import urllib.request
from pathlib import Path

import pytest
import segno

from conftest import REPO
from host_bridge.testbench.fault_rig import free_port, wait_until


def run(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def healthy(port: int, token: str) -> bool:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/health", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


@pytest.mark.slow
def test_the_wheel_installed_outside_the_checkout_runs_every_command(tmp_path: Path) -> None:
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(REPO)],
                dict(os.environ), tmp_path, timeout=300)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("electeur-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python, electeur = venv / "bin" / "python", venv / "bin" / "electeur"
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    {}, tmp_path).stdout.strip())
    (site / "reuse-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "ELECTEUR_MICROPYTHON_DIR")}
    # --force-reinstall: the editable install this environment holds (seen through reuse-deps.pth) has the same version
    installed = run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--force-reinstall",
                     "-q", str(wheel)], env, tmp_path)
    assert installed.returncode == 0, installed.stderr

    home = tmp_path / "home"
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               XDG_CACHE_HOME=str(home / "cache"))
    where = run([str(python), "-c", "import firmware, host_bridge; print(host_bridge.__file__, firmware.__file__)"], env, tmp_path)
    assert where.stdout.split() and all(p.startswith(str(venv)) for p in where.stdout.split()), where

    devices = run([str(electeur), "devices", "--timeout", "0", "--json"], env, tmp_path)
    assert devices.returncode == 0 and devices.stdout.strip().startswith("["), devices.stderr

    deploy = run([str(electeur), "deploy", "--dry-run", "--board", "esp32-s3-eye", "--port", "/dev/ttyNOPE"], env, tmp_path)
    assert deploy.returncode == 0, deploy.stderr
    assert "board.json" in deploy.stdout and "firmware/main.mpy" in deploy.stdout and str(venv) in deploy.stdout

    images = tmp_path / "images"
    images.mkdir()
    for n in range(2):
        segno.make_qr(f"WHEEL-{n}").save(str(images / f"{n}.png"), scale=4, border=4)
    sim = [str(electeur), "sim", "--images", str(images), "--runtime", "micropython", "--mode", "line", "--show-ms", "0"]
    missing = run(sim, env, tmp_path)
    assert missing.returncode == 2 and "npm install --prefix" in missing.stderr, missing.stderr
    simulated = run(sim, {**env, "ELECTEUR_MICROPYTHON_DIR": str(REPO / "tools" / "micropython")}, tmp_path)
    assert simulated.returncode == 0 and simulated.stdout.split() == ["WHEEL-0", "WHEEL-1"], simulated.stderr

    port, token = free_port(), "wheel-test-token-0123456789"
    bridge = subprocess.Popen([str(electeur), "run", "--api", f"127.0.0.1:{port}", "--device", "tcp://127.0.0.1:1",
                               "--token", token, "--journal", str(tmp_path / "journal.sqlite")],
                              env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: healthy(port, token) or bridge.poll() is not None, 30, "the bridge's /api/health")
        assert bridge.poll() is None, bridge.communicate()[1]
    finally:
        bridge.send_signal(signal.SIGINT)
        bridge.communicate(timeout=30)

    demo = run([str(electeur), "demo", "--workdir", str(tmp_path / "demo"), "--count", "6"], env, tmp_path, timeout=300)
    assert demo.returncode == 0, demo.stderr
    assert "accuracy: 6/6" in demo.stdout and "refused by ePU: already_dispensed" in demo.stdout, demo.stdout
