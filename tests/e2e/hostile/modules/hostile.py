"""Test module: a hostile host. It takes over its agent's output stream and sends what a
compromised agent could: ``progress`` -- ``mib`` progress frames of 1 MiB each (small on the
wire, 1 MiB inflated), as many as the request has calls; ``bomb`` -- one answer frame of a
few hundred KiB that inflates to ``mib`` MiB. The host's memory stays small: frames are
compressed piece by piece."""

from __future__ import annotations

import sys
import zlib
from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass
class Params:
    mode: str = "progress"
    mib: int = 1024


def _stream():
    """The agent's output stream and the id of the request under way (fleet.agent.main)."""
    frame = sys._getframe()
    while frame is not None:
        if "out" in frame.f_locals and "request" in frame.f_locals:
            return frame.f_locals["out"], frame.f_locals["request"]["id"]
        frame = frame.f_back
    raise RuntimeError("the agent's output stream was not found")


def _frame(wire, payload: bytes) -> bytes:
    head = wire.HEADER.pack(wire.MAGIC, wire.VERSION, wire.FLAG_ZLIB, len(payload), zlib.crc32(payload), 0)[:-4]
    return head + zlib.crc32(head).to_bytes(4, "big") + payload


def run(p: Params, host) -> dict:
    wire = sys.modules["fleet.agent.wire"]
    out, request_id = _stream()
    if p.mode == "progress":
        result = {"status": "ok", "changed": False, "msg": "", "data": {"x": "x" * MIB}}
        frame = wire.encode({"id": request_id, "progress": [result]})
        for _ in range(p.mib):
            out.write(frame)
    elif p.mode == "bomb":
        deflate = zlib.compressobj(9)
        parts = [deflate.compress(b'{"id": %d, "results": [{"status": "ok", "changed": false, "msg": "", '
                                  b'"data": {"x": "' % request_id)]
        block = b"x" * MIB
        parts += [deflate.compress(block) for _ in range(p.mib)]
        parts += [deflate.compress(b'"}}]}'), deflate.flush()]
        out.write(_frame(wire, b"".join(parts)))
    return {"changed": False}
