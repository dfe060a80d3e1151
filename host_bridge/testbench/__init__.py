"""The test bench: everything that stands in for the world around a counter, never imported by `electeur run`.

Simulated readers and their USB cable, synthetic frames and sample sets, the ePU sandbox, fault rigs,
the replay harness and its scoring, and the benchmarks. Runtime code (link, decode, payloads, epu
client, bridge) must not import from here; `tests/cli/test_runtime_imports.py` checks it.
"""
