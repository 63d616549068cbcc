"""Turn Hyper-V's RGB565 thumbnails into PNG or PPM, with the standard library only.

``GetVirtualSystemThumbnailImage`` returns ``ImageData`` as little-endian 16-bit RGB565 pixels,
row after row.  libvirt widens each channel to 8 bits with the rounding formulas below and writes
a binary PPM (P6); aiohyperv does the same and can also write a PNG (zlib + struct), which is
what most callers want to save or show.
"""

from __future__ import annotations

import struct
import zlib
from typing import Literal

__all__ = ["ImageFormat", "rgb565_to_png", "rgb565_to_ppm", "rgb565_to_rgb888"]

ImageFormat = Literal["png", "ppm"]

# Lookup tables for 5- and 6-bit channel expansion (libvirt: (v * 527 + 23) >> 6 and
# (v * 259 + 33) >> 6, which round v * 255 / 31 and v * 255 / 63 to the nearest integer).
_FIVE = bytes(((v * 527 + 23) >> 6) for v in range(32))
_SIX = bytes(((v * 259 + 33) >> 6) for v in range(64))


def _check(data: bytes, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ValueError(f"image size {width}x{height} must be positive")
    expected = width * height * 2
    if len(data) < expected:
        raise ValueError(
            f"thumbnail has {len(data)} bytes, {width}x{height} RGB565 needs {expected}"
        )


def rgb565_to_rgb888(data: bytes, width: int, height: int) -> bytes:
    """Expand ``width * height`` little-endian RGB565 pixels to packed 8-bit RGB.

    Raises:
        ValueError: the buffer is shorter than the size says, or the size is not positive.
    """
    _check(data, width, height)
    count = width * height
    pixels = struct.unpack_from(f"<{count}H", data)
    out = bytearray(count * 3)
    five, six = _FIVE, _SIX
    i = 0
    for p in pixels:
        out[i] = five[p >> 11]
        out[i + 1] = six[(p >> 5) & 0x3F]
        out[i + 2] = five[p & 0x1F]
        i += 3
    return bytes(out)


def rgb565_to_ppm(data: bytes, width: int, height: int) -> bytes:
    """A binary PPM (``P6``), byte for byte what libvirt's screenshot writes."""
    return f"P6\n{width} {height}\n255\n".encode("ascii") + rgb565_to_rgb888(data, width, height)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def rgb565_to_png(data: bytes, width: int, height: int) -> bytes:
    """An 8-bit truecolour PNG (filter type 0 on every row, zlib level 6)."""
    rgb = rgb565_to_rgb888(data, width, height)
    stride = width * 3
    raw = bytearray()
    for row in range(height):
        raw.append(0)
        raw += rgb[row * stride : (row + 1) * stride]
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 6))
        + _chunk(b"IEND", b"")
    )


def convert(data: bytes, width: int, height: int, fmt: ImageFormat) -> bytes:
    """Dispatch to :func:`rgb565_to_png` or :func:`rgb565_to_ppm`."""
    if fmt == "png":
        return rgb565_to_png(data, width, height)
    if fmt == "ppm":
        return rgb565_to_ppm(data, width, height)
    raise ValueError(f"unknown image format {fmt!r}; expected 'png' or 'ppm'")
