"""Framing between controller and agent: a fixed header, then a JSON payload.

Header: magic ``FL``, protocol version (1 byte), flags (1 byte; bit 0 = zlib), payload
length (4 bytes, big endian). Frames are size-bounded and version-checked so a corrupted
or truncated stream ends the session with a clear error instead of wrong results.
"""

import json
import struct
import zlib

MAGIC = b"FL"
VERSION = 1
HEADER = struct.Struct(">2sBBI")
FLAG_ZLIB = 1
MAX_FRAME = 256 * 1024 * 1024
COMPRESS_ABOVE = 16 * 1024


class FrameError(Exception):
    """The byte stream is not a valid frame sequence."""


def encode(message):
    """Serialise one message (a JSON-compatible dict) into a frame."""
    payload = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    flags = 0
    if len(payload) > COMPRESS_ABOVE:
        payload = zlib.compress(payload, 1)
        flags |= FLAG_ZLIB
    if len(payload) > MAX_FRAME:
        raise FrameError(f"frame of {len(payload)} bytes exceeds the {MAX_FRAME} byte limit")
    return HEADER.pack(MAGIC, VERSION, flags, len(payload)) + payload


def parse_header(header):
    """Validate a header; return ``(flags, length)``."""
    if len(header) != HEADER.size:
        raise FrameError(f"truncated frame header ({len(header)} bytes)")
    magic, version, flags, length = HEADER.unpack(header)
    if magic != MAGIC:
        raise FrameError(f"bad frame magic {magic!r} (stray output on the stream?)")
    if version != VERSION:
        raise FrameError(f"protocol version {version}, expected {VERSION}")
    if flags & ~FLAG_ZLIB:
        raise FrameError(f"unknown frame flags {flags:#x}")
    if length > MAX_FRAME:
        raise FrameError(f"frame of {length} bytes exceeds the {MAX_FRAME} byte limit")
    return flags, length


def decode_payload(flags, payload):
    """Turn a frame payload back into a message dict."""
    try:
        if flags & FLAG_ZLIB:
            payload = zlib.decompress(payload)
        message = json.loads(payload.decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, ValueError) as exc:
        raise FrameError(f"corrupt frame payload: {exc}") from None
    if not isinstance(message, dict):
        raise FrameError("frame payload is not an object")
    return message


def read_frame(stream):
    """Read one frame from a blocking binary stream; ``None`` on clean end of stream."""
    header = _read_exact(stream, HEADER.size)
    if not header:
        return None
    flags, length = parse_header(header)
    payload = _read_exact(stream, length)
    if len(payload) != length:
        raise FrameError(f"truncated frame: {len(payload)} of {length} bytes")
    return decode_payload(flags, payload)


def _read_exact(stream, size):
    chunks = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    data = b"".join(chunks)
    if data and len(data) < size and size == HEADER.size:
        raise FrameError(f"truncated frame header ({len(data)} bytes)")
    return data
