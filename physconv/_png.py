"""A PNG's pixel data checked for completeness before Pillow decodes it.

Pillow decodes a PNG whose compressed stream ends cleanly but early (a file cut and
closed again, a writer that stopped) without complaint and fills the missing rows
with black. This module reads the header and the data chunks and checks that the
decompressed data holds every row the header promises (PNG specification, sections
7-8: one filter byte per row, each of the seven Adam7 passes for interlaced images).
"""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def expected_bytes(width: int, height: int, depth: int, colour: int, interlaced: bool) -> int:
    """Bytes of filtered pixel data: rows of ``ceil(w * depth * channels / 8)`` bytes plus a filter byte each."""
    bits = depth * CHANNELS.get(colour, 4)

    def rows(w, h):
        return 0 if w == 0 or h == 0 else h * (1 + (w * bits + 7) // 8)

    if not interlaced:
        return rows(width, height)
    return sum(rows((width - x0 + dx - 1) // dx if width > x0 else 0, (height - y0 + dy - 1) // dy if height > y0 else 0)
               for x0, y0, dx, dy in ADAM7)


def missing(path) -> str | None:
    """Why the PNG at ``path`` lacks pixel data (one sentence), or None when it is complete or not a PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(SIGNATURE):
        return None
    pos, header, stream = len(SIGNATURE), None, zlib.decompressobj()
    got = 0
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR" and len(body) >= 13:
            header = struct.unpack(">IIBBBBB", body[:13])
        elif kind == b"IDAT" and header is not None:
            try:
                got += len(stream.decompress(body, expected_bytes(*_dims(header)) + 1 - got))
            except zlib.error as exc:
                return f"its pixel data is damaged ({exc})"
        elif kind == b"IEND":
            break
    if header is None:
        return None
    need = expected_bytes(*_dims(header))
    if got < need:
        return f"its pixel data stops early ({got} of {need} bytes: {100 * got / need:.0f} %)"
    return None


def _dims(header):
    width, height, depth, colour, _, _, interlace = header
    return width, height, depth, colour, bool(interlace)
