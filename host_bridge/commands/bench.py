"""`electeur bench NAME`: benchmarks are commands, not tests.

Each benchmark is a module in `host_bridge.testbench.benches` exposing `NAME`, `HELP`,
`register(parser)` and `run(args) -> int`; they are discovered, so adding one never edits this file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil

from host_bridge.testbench import benches


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run a benchmark (prints medians and ratios to a baseline of the same run)",
                       description="Run a benchmark. Figures are medians; each is compared with a baseline measured in the same run.")
    inner = p.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    for info in sorted(pkgutil.iter_modules(benches.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{benches.__name__}.{info.name}")
        q = inner.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.register(q)
        q.set_defaults(func=module.run)
