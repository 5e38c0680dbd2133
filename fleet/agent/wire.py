"""Framing between controller and agent: a fixed header, then a JSON payload.

Frame, protocol :data:`VERSION` 2 -- a 16-byte header: magic ``FL``, version (1 byte), flags
(1 byte; bit 0 = zlib), payload length (4 bytes, big endian), CRC-32 of the payload as sent,
CRC-32 of the 12 header bytes before it; then the payload: one JSON object in UTF-8,
zlib-compressed when flagged. The header's own checksum is verified before the payload is
read, so a corrupted length is refused at once instead of waiting for bytes that never come.

The hello the agent sends first keeps the layout of version 1 (8 bytes: no checksums) in every
protocol version: any controller or persistence daemon can read it and compare the ``version``
it carries with its own, so a mismatch is reported as such instead of as garbled frames.

Limits, the same on both sides: a payload on the wire is at most :data:`MAX_FRAME` bytes
(256 MiB: ``copy`` ships file contents inline), refused from the header before anything is
allocated or read; a compressed payload inflates to at most :data:`MAX_MESSAGE` bytes (1 GiB);
``encode`` refuses what the other side would refuse. A bad magic, version, flags, length,
checksum, compressed stream or JSON text is a :class:`FrameError`: the session ends and nothing
read from the frame is used.
"""

import json
import struct
import zlib

MAGIC = b"FL"
VERSION = 2
HELLO_VERSION = 1  # the hello frame's layout, fixed across protocol versions
PREFIX = struct.Struct(">2sBBI")  # magic, version, flags, length: the hello's whole header
HEADER = struct.Struct(">2sBBIII")  # ... payload CRC-32, header CRC-32: every other frame's
FLAG_ZLIB = 1
MAX_FRAME = 256 * 1024 * 1024
MAX_MESSAGE = 1024 * 1024 * 1024
COMPRESS_ABOVE = 16 * 1024


class FrameError(Exception):
    """The byte stream is not a valid frame sequence."""


class TooLarge(FrameError):
    """A compressed payload inflates past the limit it was read with."""


def _payload(message):
    try:  # UnicodeEncodeError: a lone surrogate (undecodable bytes kept by Python) in a string
        payload = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise FrameError(f"message cannot be sent: {exc}") from None
    if len(payload) > MAX_MESSAGE:
        raise FrameError(f"message of {len(payload)} bytes exceeds the {MAX_MESSAGE} byte limit")
    flags = 0
    if len(payload) > COMPRESS_ABOVE:
        payload = zlib.compress(payload, 1)
        flags |= FLAG_ZLIB
    if len(payload) > MAX_FRAME:
        raise FrameError(f"frame of {len(payload)} bytes exceeds the {MAX_FRAME} byte limit")
    return flags, payload


def encode(message):
    """Serialise one message (a JSON-compatible dict) into a frame; a hello (``op: hello``)
    gets the fixed hello layout."""
    flags, payload = _payload(message)
    if message.get("op") == "hello":
        return PREFIX.pack(MAGIC, HELLO_VERSION, flags, len(payload)) + payload
    head = HEADER.pack(MAGIC, VERSION, flags, len(payload), zlib.crc32(payload), 0)[:-4]
    return head + zlib.crc32(head).to_bytes(4, "big") + payload


def _check(magic, version, expected, flags, length, header=None, header_crc=None):
    if magic != MAGIC:
        raise FrameError(f"bad frame magic {magic!r} (stray output on the stream?)")
    if version != expected:
        raise FrameError(f"frame of protocol version {version}, expected {expected}")
    if header is not None and zlib.crc32(header[:-4]) != header_crc:
        raise FrameError("corrupt frame header: checksum mismatch")
    if flags & ~FLAG_ZLIB:
        raise FrameError(f"unknown frame flags {flags:#x}")
    if length > MAX_FRAME:
        raise FrameError(f"frame of {length} bytes exceeds the {MAX_FRAME} byte limit")


def parse_header(header):
    """Validate a frame header (:data:`HEADER`); return ``(flags, length, crc)``."""
    if len(header) != HEADER.size:
        raise FrameError(f"truncated frame header ({len(header)} bytes)")
    magic, version, flags, length, crc, header_crc = HEADER.unpack(header)
    _check(magic, version, VERSION, flags, length, header, header_crc)
    return flags, length, crc


def parse_hello_header(header):
    """Validate the hello's header (:data:`PREFIX`); return ``(flags, length)``."""
    if len(header) != PREFIX.size:
        raise FrameError(f"truncated hello header ({len(header)} bytes)")
    magic, version, flags, length = PREFIX.unpack(header)
    _check(magic, version, HELLO_VERSION, flags, length)
    return flags, length


def inflate(flags, payload, limit=None):
    """The payload's JSON text: inflated when flagged zlib, at most ``limit`` bytes (default
    :data:`MAX_MESSAGE`; :class:`TooLarge` past it; a caller with a smaller budget passes it)."""
    if not flags & FLAG_ZLIB:
        return payload
    limit = MAX_MESSAGE if limit is None else limit
    try:
        inflater = zlib.decompressobj()
        payload = inflater.decompress(payload, limit)
        if inflater.unconsumed_tail:
            raise TooLarge(f"compressed frame inflates past the {limit} byte limit")
        if not inflater.eof or inflater.unused_data:
            raise FrameError("corrupt frame payload: truncated or trailing compressed data")
    except zlib.error as exc:
        raise FrameError(f"corrupt frame payload: {exc}") from None
    return payload


def decode_payload(flags, payload, crc=None, limit=None):
    """Turn a frame payload back into a message dict (checking its CRC-32 when given)."""
    if crc is not None and zlib.crc32(payload) != crc:
        raise FrameError(f"corrupt frame: checksum mismatch on {len(payload)} bytes")
    return parse_json(inflate(flags, payload, limit))


def parse_json(text):
    """A payload's (inflated) JSON text as a message dict; FrameError if it is not one."""
    try:
        message = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FrameError(f"corrupt frame payload: {exc}") from None
    except RecursionError:
        raise FrameError("corrupt frame payload: JSON nested too deeply") from None
    if not isinstance(message, dict):
        raise FrameError("frame payload is not an object")
    return message


def read_frame(stream):
    """Read one frame from a blocking binary stream; ``None`` on clean end of stream."""
    header = _read_exact(stream, HEADER.size)
    if not header:
        return None
    if len(header) < HEADER.size:
        raise FrameError(f"truncated frame header ({len(header)} bytes)")
    flags, length, crc = parse_header(header)
    payload = _read_exact(stream, length)
    if len(payload) != length:
        raise FrameError(f"truncated frame: {len(payload)} of {length} bytes")
    return decode_payload(flags, payload, crc)


def _read_exact(stream, size):
    """Up to ``size`` bytes: fewer only at the end of the stream."""
    chunks = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
