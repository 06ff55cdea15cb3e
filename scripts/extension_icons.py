"""Draw the browser extension's icons (signagent/extension/icons/icon-<size>.png): a blue rounded square with a
white tick, the SignAgent mark. The PNG files are committed; this script is how they were made (standard library
only: run it again after changing the drawing).

    python3 scripts/extension_icons.py
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

SIZES = (16, 32, 48, 128)
BLUE = (26, 86, 219)
WHITE = (255, 255, 255)
SAMPLES = 4  # supersampling per axis: smooth edges without a drawing library
TICK = ((0.27, 0.53), (0.43, 0.69), (0.74, 0.35))  # the tick's polyline, in units of the icon's side
OUT = Path(__file__).resolve().parent.parent / "signagent" / "extension" / "icons"


def _in_rounded_square(x: float, y: float, radius: float = 0.2) -> bool:
    cx = min(max(x, radius), 1 - radius)
    cy = min(max(y, radius), 1 - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2


def _distance_to_segment(px: float, py: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def _on_tick(x: float, y: float, width: float = 0.075) -> bool:
    return min(_distance_to_segment(x, y, TICK[i], TICK[i + 1]) for i in range(len(TICK) - 1)) <= width


def _pixel(size: int, col: int, row: int) -> tuple[int, int, int, int]:
    square = tick = 0
    for sy in range(SAMPLES):
        for sx in range(SAMPLES):
            x = (col + (sx + 0.5) / SAMPLES) / size
            y = (row + (sy + 0.5) / SAMPLES) / size
            if _in_rounded_square(x, y):
                square += 1
                tick += _on_tick(x, y)
    if square == 0:
        return (0, 0, 0, 0)
    share = tick / square
    rgb = tuple(round(b * (1 - share) + w * share) for b, w in zip(BLUE, WHITE, strict=True))
    return (*rgb, round(255 * square / SAMPLES ** 2))


def _png(size: int) -> bytes:
    raw = b"".join(b"\x00" + b"".join(bytes(_pixel(size, c, r)) for c in range(size)) for r in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        (OUT / f"icon-{size}.png").write_bytes(_png(size))
        print(OUT / f"icon-{size}.png")


if __name__ == "__main__":
    main()
