"""Bad images of every kind: a clear reason, bounded memory, never a crash."""

from __future__ import annotations

import io
import resource
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from host_bridge.decode.image import MAX_PIXELS, ImageError, gray_from_raw, load_gray


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A valid PNG header claiming width x height pixels, with a tiny compressed body."""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("fmt,suffix", [("PNG", ".png"), ("JPEG", ".jpg"), ("WEBP", ".webp"), ("PPM", ".pgm")])
def test_supported_formats_load_as_gray(tmp_path: Path, fmt: str, suffix: str) -> None:
    path = tmp_path / f"img{suffix}"
    Image.new("RGB" if fmt != "PPM" else "L", (40, 30), (200, 10, 10) if fmt != "PPM" else 77).save(path, fmt)
    gray = load_gray(path)
    assert gray.shape == (30, 40) and gray.dtype == np.uint8


@pytest.mark.parametrize("content,reason", [
    (b"", "empty file"),
    (b"this is not an image", "not a supported image"),
    (b"GIF89a" + b"\0" * 20, "not a supported image"),
    (b"P5\n0 0\n255\n", "empty image|not a supported image"),
])
def test_bad_files_give_a_clear_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(ImageError, match=reason):
        load_gray(path)


def test_truncated_png_and_jpeg(tmp_path: Path) -> None:
    for fmt in ("PNG", "JPEG"):
        buf = io.BytesIO()
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200), dtype=np.uint8)).save(buf, fmt)
        path = tmp_path / f"cut.{fmt.lower()}"
        path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
        with pytest.raises(ImageError, match="truncated|corrupt"):
            load_gray(path)


def test_huge_header_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_bomb(20000, 20000))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ImageError, match="too large"):
        load_gray(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB: no 400 MB allocation


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="no such file"):
        load_gray(tmp_path / "nope.png")
    with pytest.raises(ImageError, match="is a directory"):
        load_gray(tmp_path)


def test_raw_buffer_size_is_checked() -> None:
    assert gray_from_raw(bytes(range(6)), 3, 2).tolist() == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ImageError, match="expected 3x2 = 6"):
        gray_from_raw(b"\0" * 5, 3, 2)
    with pytest.raises(ImageError, match="empty image"):
        gray_from_raw(b"", 0, 10)
    with pytest.raises(ImageError, match="too large"):
        gray_from_raw(b"", MAX_PIXELS, 2)
