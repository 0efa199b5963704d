#!/usr/bin/env python3
"""Checks a report `sca report` wrote: every PNG decodes (our own decoder:
chunk CRCs, zlib stream, scanline filters) and has the expected pixel size,
and report.html embeds exactly those PNGs.

usage: check_report.py DIR NAME=WIDTHxHEIGHT ...
"""
import base64
import re
import struct
import sys
import zlib
from pathlib import Path

CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # PNG colour type -> samples per pixel


def decode_png(data):
    """(width, height) after decoding every scanline; raises on any defect."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("no PNG signature")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) != crc:
            raise ValueError(f"bad CRC in chunk {kind!r}")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        raise ValueError("no IHDR")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in CHANNELS or interlace:
        raise ValueError(f"unexpected format depth {depth} colour {colour} interlace {interlace}")
    raw = zlib.decompress(idat)
    stride = width * CHANNELS[colour]
    if len(raw) != height * (stride + 1):
        raise ValueError(f"{len(raw)} bytes of pixels for {width}x{height}")
    filters = set(raw[y * (stride + 1)] for y in range(height))
    if not filters <= {0, 1, 2, 3, 4}:
        raise ValueError(f"unknown scanline filters {filters}")
    return width, height


def main():
    root = Path(sys.argv[1])
    expected = {}
    for arg in sys.argv[2:]:
        name, size = arg.split("=")
        w, h = size.split("x")
        expected[name] = (int(w), int(h))
    pngs = {p.name: p for p in (root / "report").glob("*.png")}
    failures = []
    if set(pngs) != set(expected):
        failures.append(f"PNGs {sorted(pngs)} != expected {sorted(expected)}")
    for name, path in sorted(pngs.items()):
        try:
            size = decode_png(path.read_bytes())
        except Exception as e:  # noqa: BLE001
            failures.append(f"{name}: does not decode: {e}")
            continue
        if name in expected and size != expected[name]:
            failures.append(f"{name}: {size[0]}x{size[1]}, expected {expected[name][0]}x{expected[name][1]}")
    page = (root / "report.html").read_text()
    embedded = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"[^>]*data-file="([^"]+)"', page)
    if sorted(f for _, f in embedded) != sorted(pngs):
        failures.append(f"report.html embeds {sorted(f for _, f in embedded)}, beside it: {sorted(pngs)}")
    for b64, name in embedded:
        if name in pngs and base64.b64decode(b64) != pngs[name].read_bytes():
            failures.append(f"report.html's {name} differs from the file")
    if re.search(r'(src|href)="(?!data:|#)', page):
        failures.append("report.html refers to something outside itself")
    for f in failures:
        print("FAIL", f)
    print(f"{root}: {len(pngs)} PNGs, {len(embedded)} embedded, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
