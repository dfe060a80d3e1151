"""Identifiers never reach log output unless the config allows them."""

from __future__ import annotations

import io
import logging

import pytest

from host_bridge.bridge.redact import Redactor, install


@pytest.fixture
def log():
    stream = io.StringIO()
    logger = logging.getLogger(f"test-redact-{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(logging.StreamHandler(stream))
    return logger, stream


def test_nir_names_and_birth_dates_are_masked_in_log_output(log):
    logger, stream = log
    redactor = Redactor()
    install(logger, redactor)
    redactor.remember_lookup({"fields": {"patient_family_name": "DUPONT", "patient_given_names": "Marie Claire",
                                         "prescription_number": "RX12"}, "text": "RAW-PAYLOAD-TEXT"})
    logger.info("read %s", {"patient_birth_date": "1980-05-17", "x": 1})
    logger.info("NIR 1 80 05 75 123 456 78 and 280057512345678 born 17/05/1980")
    logger.info("patient DUPONT Marie Claire rx RX12 payload RAW-PAYLOAD-TEXT at 2026-11-23T10:00:00Z")
    logger.info('{"nom": "Martin", "prenom": "Luc"}')
    out = stream.getvalue()
    for secret in ("DUPONT", "Marie Claire", "1980-05-17", "17/05/1980", "80 05 75 123", "280057512345678",
                   "RAW-PAYLOAD-TEXT", "Martin", "Luc"):
        assert secret not in out, (secret, out)
    assert "RX12" in out and "2026-11-23T10:00:00Z" in out  # prescription numbers and timestamps stay useful
    assert out.count("<redacted>") >= 8


def test_config_can_allow_identifiers(log):
    logger, stream = log
    install(logger, Redactor(), allow_identifiers=True)
    logger.info("NIR 280057512345678")
    assert "280057512345678" in stream.getvalue()
