"""Every host logger sits under `electeur`, where `electeur run` installs the redaction filter."""

from __future__ import annotations

import importlib
import io
import logging
import pkgutil

import host_bridge
from firmware import protocol as P
from host_bridge.bridge.redact import Redactor, install
from host_bridge.link.reader_link import ReaderLink

NIR = "1 84 12 75 123 456 78"


def test_every_logger_the_host_package_creates_is_under_electeur():
    for mod in pkgutil.walk_packages(host_bridge.__path__, "host_bridge."):
        if mod.name.startswith("host_bridge.data."):     # scripts copied to boards, not host modules
            continue
        importlib.import_module(mod.name)
    outside = [name for name in logging.Logger.manager.loggerDict if name.startswith(("host_bridge", "firmware"))]
    assert outside == []


def test_the_reader_links_warnings_are_redacted():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger("electeur")
    root.addHandler(handler)
    install(root, Redactor())
    try:
        def refuse(reader, seq, payload, meta):
            raise RuntimeError(f"cannot take {payload.decode()}")
        ReaderLink(io.BytesIO(), refuse).feed(P.read(1, 1, f"NIR {NIR}".encode()))
    finally:
        root.removeHandler(handler)
    assert "not acknowledged" in out.getvalue() and "84 12 75" not in out.getvalue()
