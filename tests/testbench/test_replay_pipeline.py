"""`electeur replay` through the whole pipeline: lookups in rows, ePU states, accuracy per kind from manifest.json."""

import json
from pathlib import Path

import pytest

from host_bridge.cli import main
from host_bridge.testbench.epu_sandbox import SandboxServer
from host_bridge.testbench.samples.generate import generate, seed_epu


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict], Path]:
    root = tmp_path_factory.mktemp("replay")
    manifest = generate(root / "s", 14, seed=9)
    seed_epu(root / "epu.sqlite", manifest)
    return root / "s", manifest, root / "epu.sqlite"


def test_replay_json_rows_carry_lookups_with_the_epu_state(samples, capsys: pytest.CaptureFixture) -> None:
    directory, manifest, db = samples
    with SandboxServer(db) as server:
        assert main(["replay", "--json", "--min-rate", "0.9", "--epu", server.url, str(directory)]) == 0
    rows = {Path(r["file"]).name: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    for entry in manifest:
        lookups = rows[entry["file"]]["lookups"]
        assert any(lk["kind"] == entry["kind"] for lk in lookups), entry["file"]
        if entry["kind"] == "ordonnance":
            assert lookups[0]["epu"]["state"] == entry["epu"]["state"]
        else:
            assert all("epu" not in lk for lk in lookups)


def test_replay_reports_accuracy_per_kind_and_gates_on_it(samples, capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    directory, manifest, _ = samples
    report = tmp_path / "r.json"
    assert main(["replay", "--min-rate", "0.9", "--report", str(report), str(directory)]) == 0
    out = capsys.readouterr().out
    assert "samples manifest" in out and "read, right kind, right fields" in out
    summary = json.loads(report.read_text())["manifests"][str(directory)]
    assert summary["images"] == len(manifest) and summary["ordonnance_as_other"] == 0
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json")
    assert main(["replay", str(broken)]) == 2
