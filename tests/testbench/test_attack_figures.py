"""`tools/reliability.py attacks` scenarios stay runnable: the quick ones, small."""

from __future__ import annotations

from host_bridge.testbench import attacks


def test_redirect_scenario_counts_nothing_followed():
    fig = attacks.redirects(n=1)
    assert fig["counted as failed deliveries"] == 5 and fig["redirects followed with credentials"] == 0


def test_tcp_junk_scenario_measures_both_streams():
    fig = attacks.tcp_junk(mb=0.5, before_mb=0.01)
    rate = {("now" if "now" in k else "before"): v for k, v in fig.items() if "throughput" in k}
    assert rate["now"] > 10 * rate["before"]
