"""Decode engines on real photos and synthetic frames: what each reads, exact bytes, cascade fall-backs."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import segno
import zxingcpp

from host_bridge.decode.engines import ENGINES, CascadeEngine, get_engine
from host_bridge.decode.image import gray_from_raw, load_gray
from host_bridge.testbench.synthetic_frames import PRESCRIPTION, empty_scene, printed_code
from host_bridge.testbench.replay import expected_bytes

DATA = resources.files("host_bridge") / "data"
# Per corpus directory: the minimum count of expected texts each engine reads byte for byte (measured: docs/performance.md).
MINIMUM = {
    "zxing": {"qrcode-1": 20, "qrcode-2": 31, "qrcode-3": 42, "qrcode-5": 19, "datamatrix-1": 21},
    "zbar": {"qrcode-1": 20, "qrcode-2": 21, "qrcode-3": 42, "qrcode-5": 15, "datamatrix-1": 0},
    "cascade": {"qrcode-1": 20, "qrcode-2": 33, "qrcode-3": 42, "qrcode-5": 19, "datamatrix-1": 21},
}


def qr_gray(text: str, **save: object) -> np.ndarray:
    path = Path(__import__("tempfile").mkdtemp()) / "code.png"
    segno.make(text, error="m", micro=False).save(path, scale=4, border=4, **save)
    return load_gray(path)


@pytest.mark.parametrize("engine", sorted(MINIMUM))
def test_engine_reads_the_corpus(engine: str, corpus: Path) -> None:
    decoder = get_engine(engine)
    read: dict[str, int] = {}
    for image in sorted(corpus.rglob("*")):
        expected = expected_bytes(image) if image.suffix in (".png", ".jpg") else None
        if expected is None:
            continue
        symbols = decoder.decode(load_gray(image))
        read[image.parent.name] = read.get(image.parent.name, 0) + any(expected in (s.data, s.text.encode()) for s in symbols)
    for directory, minimum in MINIMUM[engine].items():
        assert read.get(directory, 0) >= minimum, (engine, directory, read)


def test_cascade_reads_at_least_what_the_best_single_engine_reads(corpus: Path) -> None:
    for directory in MINIMUM["cascade"]:
        assert MINIMUM["cascade"][directory] >= max(MINIMUM["zxing"][directory], MINIMUM["zbar"][directory])


def test_symbol_keeps_exact_bytes_and_json_shape() -> None:
    payload = "IS01\x1dDUPONT\x1dJEAN"  # GS bytes must survive
    [sym] = get_engine("zxing").decode(qr_gray(payload))
    assert sym.data == payload.encode() and sym.text == payload and sym.format == "QRCode" and sym.engine == "zxing"
    assert sym.ms > 0
    assert sym.to_json() == {"text": payload, "bytes_b64": "SVMwMR1EVVBPTlQdSkVBTg==", "format": "QRCode", "engine": "zxing"}


def test_zbar_reads_qr_and_reports_its_name() -> None:
    [sym] = get_engine("zbar").decode(qr_gray("apCV-token"))
    assert (sym.text, sym.format, sym.engine) == ("apCV-token", "QRCode", "zbar")


def test_cascade_falls_back_to_data_matrix() -> None:
    gray = load_gray(DATA / "demo-datamatrix.png")
    assert not zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    [sym] = get_engine("cascade").decode(gray)
    assert sym.format == "DataMatrix" and sym.text.startswith("AMC 12345678")
    assert get_engine("zbar").decode(gray) == []  # zbar has no Data Matrix


def test_cascade_reads_an_inverted_code() -> None:
    gray = qr_gray("dark-mode phone", dark="white", light="black")
    assert not zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode, try_invert=False)
    assert [s.text for s in get_engine("cascade").decode(gray)] == ["dark-mode phone"]


def test_cascade_preprocessing_reads_a_faded_print_both_engines_miss() -> None:
    gray = printed_code((640, 480), seed=1, contrast=0.1)
    assert get_engine("zxing").decode(gray) == [] and get_engine("zbar").decode(gray) == []
    # A generous budget: this test is about what preprocessing reads, not about timing on a loaded machine.
    assert [s.text for s in CascadeEngine(budget_ms=10_000).decode(gray)] == [PRESCRIPTION]


def test_cascade_reads_a_textured_artistic_code_every_single_engine_misses(corpus: Path) -> None:
    """qrcode-2/12.png: a photograph printed inside the modules; read at half size with one global threshold."""
    image = corpus / "zxing-qrcode" / "qrcode-2" / "12.png"
    gray = load_gray(image)
    assert get_engine("zxing").decode(gray) == [] and get_engine("zbar").decode(gray) == []
    assert [s.data for s in get_engine("cascade").decode(gray)] == [expected_bytes(image)]


def test_cascade_stops_at_its_time_budget() -> None:
    gray = printed_code((640, 480), seed=1, contrast=0.1)  # readable only after preprocessing
    assert CascadeEngine(budget_ms=0.0).decode(gray) == []


@pytest.mark.parametrize("size", [(320, 240), (1280, 720)])
def test_synthetic_frames_are_deterministic_and_readable(size: tuple[int, int]) -> None:
    frame = printed_code(size, seed=3)
    assert frame.shape == (size[1], size[0]) and np.array_equal(frame, printed_code(size, seed=3))
    assert [s.text for s in get_engine("cascade").decode(frame)] == [PRESCRIPTION]
    assert get_engine("cascade").decode(empty_scene(size, seed=3)) == []


def test_raw_gray_buffer_decodes_like_the_file() -> None:
    gray = qr_gray("raw frame")
    h, w = gray.shape
    raw = gray_from_raw(gray.tobytes(), w, h)
    assert [s.text for s in get_engine("cascade").decode(raw)] == ["raw frame"]


def test_get_engine_names_the_known_engines() -> None:
    with pytest.raises(KeyError, match="cascade, firmware, zbar, zxing"):
        get_engine("quirc")
    assert {"cascade", "zxing", "zbar"} <= set(ENGINES)


def test_firmware_engine_reads_the_on_board_decoders_bytes() -> None:
    """`--engine firmware` runs firmware.qr under CPython: same payload bytes, QR format, its own name."""
    [sym] = get_engine("firmware").decode(qr_gray("IS01\x1dDUPONT\x1dJEAN"))
    assert (sym.data, sym.text, sym.format, sym.engine) == (b"IS01\x1dDUPONT\x1dJEAN", "IS01\x1dDUPONT\x1dJEAN", "QRCode", "firmware")
    assert get_engine("firmware").decode(np.full((240, 320), 200, np.uint8)) == []
