"""The `electeur` command.

Subcommands live one per module in `host_bridge.commands`; each module exposes
`register(subparsers)`, so adding a command never edits this file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sqlite3
import sys
from typing import NoReturn, Sequence

from host_bridge import __version__, commands
from host_bridge.errors import UserError


class Parser(argparse.ArgumentParser):
    """Argument errors as one line on stderr, not usage plus traceback-like noise."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def build_parser() -> Parser:
    parser = Parser(prog="electeur", description="Open e-lecteur: reader firmware tools and host bridge.")
    parser.add_argument("--version", action="version", version=f"electeur {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"{commands.__name__}.{info.name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"electeur {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader of our stdout went away (e.g. `| head`): not an error worth a traceback.
        sys.stderr.close()
        return 0
    except OSError as exc:
        # A path the user gave (missing, unwritable, not a directory) or a port in use: one line, never a traceback.
        print(f"electeur {args.command}: {os_error(exc)}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:
        print(f"electeur {args.command}: database: {exc} (is it an SQLite file of this program?)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def os_error(exc: OSError) -> str:
    """`path: reason` as a user reads it, not Python's `[Errno 2] ...` wording."""
    where = exc.filename if exc.filename is not None else ""
    reason = exc.strerror or str(exc)
    return f"{where}: {reason}" if where else reason


if __name__ == "__main__":
    sys.exit(main())
