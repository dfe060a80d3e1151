"""The presence test before the decoder (firmware/presence.py `edges`): a changed frame with nothing code-like in it
is not decoded (on a Pico an empty QVGA frame cost a 388 ms decode), and no code of the corpus is judged empty."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from firmware import config
from firmware.presence import edges
from firmware.scan import ScanLoop
from host_bridge.decode.image import load_gray
from host_bridge.testbench.synthetic_frames import empty_scene, printed_code

IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".pbm")


class Camera:
    """Camera and counting decoder: each frame is new (change detector off), codes decode to their index."""

    name = "counting"

    def __init__(self, frames: list) -> None:
        self.frames = [(0, f.shape[1], f.shape[0], f.tobytes(), i * 5000) for i, f in enumerate(frames)]
        self.decoded: list[int] = []
        self.lights: list[bool] = []

    def capture(self):
        return self.frames.pop(0) if self.frames else None

    def set_light(self, on: bool) -> None:
        self.lights.append(on)

    def decode(self, frame) -> list:
        self.decoded.append(frame[4] // 5000)
        return []


class Silent:
    def poll(self) -> None:
        pass


def scan(frames: list, **cfg_keys) -> Camera:
    cam = Camera(frames)
    cfg = dict(config.defaults(), heartbeat_ms=0, decode="board", change_threshold=0, **cfg_keys)
    loop = ScanLoop(cfg, cam, cam, Silent(), feedback=None)

    async def run() -> None:
        while await loop.step():
            pass
    asyncio.run(run())
    return cam


def test_empty_frames_are_not_decoded_and_code_frames_are() -> None:
    frames = [empty_scene((320, 240), seed=s) for s in range(4)] + [printed_code((320, 240), seed=1)]
    assert scan(frames).decoded == [4]
    assert scan(frames, presence_edges=0).decoded == [0, 1, 2, 3, 4]     # 0: the test off, every frame decoded


def test_something_in_view_without_a_code_still_steps_the_light() -> None:
    """A washed-out phone screen shows no edges under the LED: the light steps as after a decode that read nothing."""
    cam = scan([empty_scene((320, 240), seed=s) for s in range(3)])
    assert cam.lights == [True, False, False, True]     # each miss steps to the next profile, round to the first


def test_no_code_image_of_the_corpus_is_judged_empty(corpus: Path) -> None:
    from PIL import Image
    threshold = config.defaults()["presence_edges"]
    images = [p for p in sorted(corpus.rglob("*")) if p.suffix.lower() in IMAGES]
    assert len(images) > 100
    for path in images:
        gray = load_gray(path)
        img = Image.fromarray(gray)
        k = min(320 / img.width, 240 / img.height)
        small = img.resize((max(1, round(img.width * k)), max(1, round(img.height * k))))
        qvga = Image.new("L", (320, 240), 128)
        qvga.paste(small, ((320 - small.width) // 2, (240 - small.height) // 2))
        for frame in (gray, qvga):
            h, w = frame.size[::-1] if isinstance(frame, Image.Image) else frame.shape
            data = frame.tobytes()
            assert edges((0, w, h, data)) >= threshold, path


@pytest.mark.parametrize("seed", range(20))
def test_an_empty_counter_is_judged_empty(seed: int) -> None:
    assert edges((0, 320, 240, empty_scene((320, 240), seed=seed).tobytes())) < config.defaults()["presence_edges"]
