"""`electeur bench scan-cost`: the presence test keeps empty frames from the decoder, on the real scan loop."""

from __future__ import annotations

from host_bridge.cli import main


def test_scan_cost_reports_empty_frames_skipped_and_code_frames_read(capsys) -> None:
    assert main(["bench", "scan-cost", "--frames", "2", "--runtime", "cpython"]) == 0
    out = capsys.readouterr().out
    assert "1920 pixels read (2.5 % of the frame)" in out
    lines = {line[13:39].strip(): line for line in out.splitlines() if line.startswith("cpython")}
    assert "decoded 0/2, reads 0" in lines["empty, presence test on"]
    assert "decoded 2/2, reads 0" in lines["empty, presence test off"]
    assert "decoded 2/2, reads 2" in lines["code"]
