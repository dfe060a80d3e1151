"""One decoded 2D code: its exact payload bytes are kept, the text is a convenience."""

from __future__ import annotations

import base64
from dataclasses import dataclass


@dataclass(frozen=True)
class Symbol:
    """A code read from a frame. `data` is the payload byte for byte; `ms` the decode time of the frame."""

    text: str
    data: bytes
    format: str  # "QRCode" | "DataMatrix" | other zxing-cpp format names
    engine: str
    ms: float

    def to_json(self) -> dict[str, str]:
        """The v1 JSON shape of a symbol (docs/cli.md)."""
        return {"text": self.text, "bytes_b64": base64.b64encode(self.data).decode("ascii"),
                "format": self.format, "engine": self.engine}


def text_of(data: bytes, engine_text: str) -> str:
    """UTF-8 when the payload is valid UTF-8, else the engine's own transcoding (Shift_JIS, ECI...)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return engine_text
