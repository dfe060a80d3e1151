"""Harness results as JUnit XML, so a vendor's CI shows each replayed image as a test case."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Iterable

Row = dict[str, Any]


def verdicts(rows: Iterable[Row], manifest: dict[str, str]) -> Iterable[tuple[Row, str, str]]:
    """(row, status, message) per image: status is passed, failure, error or skipped (nothing to score).
    `manifest` maps the resolved path of each image a samples manifest scores to its verdict ("ok" or why not)."""
    for row in rows:
        verdict = manifest.get(str(Path(row["file"]).resolve()))
        read = ", ".join(repr(s["text"]) for s in row.get("symbols", [])) or "nothing"
        if verdict is not None:
            yield (row, "passed", "") if verdict == "ok" else (row, "failure", f"samples manifest: {verdict}; read {read}")
        elif row["ok"] is None:
            yield row, "skipped", "no expected text"
        elif row["ok"]:
            yield row, "passed", ""
        elif "error" in row:
            yield row, "error", row["error"]
        elif row.get("negative"):
            yield row, "failure", f"negative sample: expected no code, read {read}"
        else:
            yield row, "failure", f"expected {row['expected']!r}, read {read}"


def junit_xml(rows: list[Row], engine: str, manifest: dict[str, str] | None = None) -> bytes:
    """A <testsuites> document: one suite per directory, one case per image (time in seconds)."""
    suites: dict[str, ET.Element] = {}
    root = ET.Element("testsuites", name=f"electeur replay ({engine})")
    for row, status, message in verdicts(rows, manifest or {}):
        directory = str(Path(row["file"]).parent)
        suite = suites.get(directory)
        if suite is None:
            suite = suites[directory] = ET.SubElement(root, "testsuite", name=directory)
        case = ET.SubElement(suite, "testcase", classname=directory, name=Path(row["file"]).name,
                             time=f"{row.get('ms', 0) / 1000:.6f}")
        if status != "passed":
            ET.SubElement(case, status, message=message)
    for suite in [root, *suites.values()]:
        cases = suite.iter("testcase")
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for case in cases:
            counts["tests"] += 1
            for status, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
                counts[key] += case.find(status) is not None
        for key, value in counts.items():
            suite.set(key, str(value))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
