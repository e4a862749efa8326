"""Make libsndfile's Ogg output reproducible.

libsndfile gives every Ogg stream a random serial number, so the same samples encode to different
bytes on each run. The serial only has to be unique among streams multiplexed in one file, so we
set a fixed one and recompute each page's checksum.
"""

from __future__ import annotations

import struct

SERIAL = 0x61756763  # "augc"
_CAPTURE = b"OggS"
_HEADER = 27  # bytes before the segment table
_SERIAL_AT, _CRC_AT, _SEGMENTS_AT = 14, 22, 26


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return table


_TABLE = _crc_table()


def page_crc(page: bytes | bytearray) -> int:
    """Ogg's CRC-32 (polynomial 0x04C11DB7, not reflected, initial value 0) of one page."""
    crc = 0
    table = _TABLE
    for byte in page:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[(crc >> 24) ^ byte]
    return crc


def fix_serial(data: bytes, serial: int = SERIAL) -> bytes:
    """Rewrite every page of a single-stream Ogg file to carry `serial`, with valid checksums."""
    out = bytearray(data)
    at = 0
    while at + _HEADER <= len(out) and out[at : at + 4] == _CAPTURE:
        segments = out[at + _SEGMENTS_AT]
        size = _HEADER + segments + sum(out[at + _HEADER : at + _HEADER + segments])
        struct.pack_into("<I", out, at + _SERIAL_AT, serial)
        struct.pack_into("<I", out, at + _CRC_AT, 0)
        struct.pack_into("<I", out, at + _CRC_AT, page_crc(out[at : at + size]))
        at += size
    return bytes(out)
