"""Deterministic PEAK chunks: libsndfile stamps the wall-clock time into the PEAK chunk of float
WAV, RF64 and AIFF files, so the same samples written a second later gave other bytes. The
timestamp is set to 0 (the chunk's peaks, which describe the samples, stay)."""

from __future__ import annotations

import struct

_CONTAINERS = {b"RIFF": ("<", 12), b"RF64": ("<", 12), b"FORM": (">", 12)}


def zero_peak_timestamp(data: bytes) -> bytes:
    """`data` with the timestamp of its PEAK chunk zeroed (unchanged when it has none)."""
    layout = _CONTAINERS.get(data[:4])
    if layout is None:
        return data
    order, offset = layout
    while offset + 8 <= len(data):
        name = data[offset : offset + 4]
        (size,) = struct.unpack(order + "I", data[offset + 4 : offset + 8])
        if name == b"PEAK" and size >= 8 and offset + 16 <= len(data):
            stamp = offset + 12  # after the chunk header and the 4-byte version
            return data[:stamp] + b"\0\0\0\0" + data[stamp + 4 :]
        if name in (b"data", b"SSND") and size in (0, 0xFFFFFFFF):
            break  # a streamed length: nothing after it can be found
        offset += 8 + size + (size & 1)  # chunks are padded to an even length
    return data
