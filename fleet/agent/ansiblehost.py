"""Agent side of the Ansible bridge (issue 19): keep payloads, drive the fork server.

Sent by the controller like a module source, and only with the first bridged call: an agent
that never runs one of Ansible's modules never loads it. A bridged call carries, instead of
``module``/``params``::

    {"sha": <this file's hash>, "ansible": {"server": SHA, "zip": SHA, "core": "2.19.4",
     "fqn": ..., "style": "ansiballz"|"legacy", "profile": ..., "extensions": {...},
     "params": "<JSON of ANSIBLE_MODULE_ARGS>", "env": {...}}}

``server`` and ``zip`` name blobs of the request's ``blobs`` field (this or an earlier one):
the fork server's source (:mod:`fleet.agent.ansibleserver`) and the module's AnsiballZ zip.
The result is in fleet's shape, ``data`` being the module's JSON, and ``ansible`` holds what
the controller needs to shape it as Ansible does (rc, stderr, raw stdout when it was not
clean JSON, host CPU seconds).
"""

from __future__ import annotations

import binascii
import contextlib
import hashlib
import json
import struct
import subprocess
import sys
import time
from typing import Any

LENGTH = struct.Struct(">I")
MAX_BLOBS = 64 * 1024 * 1024  # bytes of payloads kept for the agent's life (the controller mirrors it)


class Blobs:
    """Payloads by sha256, least recently used dropped past :data:`MAX_BLOBS`. The controller
    keeps the same account of what it sent (``fleet.bridge.channel``) and sends again what
    this bound made the agent drop."""

    def __init__(self, limit: int = MAX_BLOBS) -> None:
        self.limit = limit
        self.data: dict = {}  # sha -> bytes, least recently used first
        self.size = 0

    def add(self, encoded: dict) -> list:
        """Keep the base64 blobs of a request; the shas whose content did not match."""
        bad = []
        for sha, text in (encoded or {}).items():
            raw = binascii.a2b_base64(text)
            if hashlib.sha256(raw).hexdigest() != sha:
                bad.append(sha)
                continue
            if sha in self.data:
                self.size -= len(self.data.pop(sha))
            self.data[sha] = raw
            self.size += len(raw)
        return bad

    def get(self, sha: str):
        """The blob, now the most recently used; past the bound, the least recently used
        others are dropped (only here, so that a request's own blobs are never dropped
        before its calls use them)."""
        raw = self.data.pop(sha, None)
        if raw is not None:
            self.data[sha] = raw
        while self.size > self.limit and len(self.data) > 1:
            old = next(iter(self.data))
            if old == sha:
                break
            self.size -= len(self.data.pop(old))
        return raw


class Bridge:
    """The agent's fork server (started on first use, restarted for another ansible-core)."""

    def __init__(self) -> None:
        self.blobs = Blobs()
        self.process: Any = None  # subprocess.Popen of the fork server
        self.key: Any = None  # (server sha, ansible-core version) the running server was started for
        self.given: set = set()  # zips the running server has

    def run(self, spec: dict, deadline, limit) -> dict:
        """Run one bridged call (check mode is in its params: ``_ansible_check_mode``) before
        ``deadline`` (monotonic), each output stream bounded to ``limit`` bytes; fleet's
        result shape."""
        started, clock = time.monotonic(), time.thread_time()
        zip_data = self.blobs.get(spec.get("zip", ""))
        if zip_data is None:
            return _failed("the payload of {} ({:.12}) was never sent to this agent".format(
                spec.get("fqn"), spec.get("zip", "")))
        timeout = None if deadline is None else max(deadline - time.monotonic(), 0.001)
        try:
            self._ensure(spec)
            if spec["zip"] not in self.given:
                self._send({"op": "zip", "sha": spec["zip"]}, [zip_data])
                self.given.add(spec["zip"])
            job = {key: spec.get(key) for key in ("zip", "fqn", "style", "profile", "extensions", "env")}
            job.update(op="run", timeout=timeout, limit=limit)
            self._send(job, [spec.get("params", "{}").encode("utf-8")])
            answer, fields = self._receive()
        except (OSError, ValueError, EOFError) as exc:
            self.stop()
            return _failed(f"the Ansible module runner on the host failed: {exc}")
        if answer.get("missing"):
            self.given.discard(answer["missing"])
            return _failed("the Ansible module runner lost the payload of {}".format(spec.get("fqn")))
        result = shape(answer, fields[0], fields[1], timeout)
        result["ansible"]["cpu"]["agent"] = round(time.thread_time() - clock, 6)
        result["duration_s"] = round(time.monotonic() - started, 6)
        return result

    def _ensure(self, spec: dict) -> None:
        key = (spec.get("server"), spec.get("core"))
        if self.process is not None and self.key == key and self.process.poll() is None:
            return
        self.stop()
        source = self.blobs.get(spec.get("server", ""))
        if source is None:
            raise ValueError("its source was never sent")
        # -I: nothing from the environment or the working directory in front of the stdlib
        # (this runs as the become user); -B: no bytecode written anywhere.
        self.process = subprocess.Popen([sys.executable, "-I", "-B", "-c", source.decode("utf-8")],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        self.key, self.given = key, set()

    def _send(self, header: dict, fields: list) -> None:
        header["sizes"] = [len(f) for f in fields]
        body = json.dumps(header).encode("utf-8")
        pipe = self.process.stdin
        pipe.write(LENGTH.pack(len(body)) + body)
        for data in fields:
            pipe.write(data)
        pipe.flush()

    def _receive(self) -> tuple:
        pipe = self.process.stdout
        head = pipe.read(LENGTH.size)
        if len(head) < LENGTH.size:
            raise EOFError(f"it stopped (exit status {self.process.wait()})")
        header = json.loads(pipe.read(LENGTH.unpack(head)[0]).decode("utf-8"))
        return header, [pipe.read(size) for size in header.get("sizes", [])]

    def stop(self) -> None:
        """End the fork server (it also ends by itself when the agent goes)."""
        if self.process is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            try:
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process, self.key, self.given = None, None, set()


def shape(answer: dict, stdout: bytes, stderr: bytes, timeout) -> dict:
    """The server's answer as a fleet result: status from the module's JSON, as Ansible
    reads it (first line starting with ``{`` to the last line ending with ``}``)."""
    out = stdout.decode("utf-8", "replace")
    err = stderr.decode("utf-8", "replace")
    info = {"rc": answer.get("rc"), "stderr": err, "cpu": {
        "module": answer.get("cpu_child", 0.0), "server": answer.get("cpu_server", 0.0)}}
    if answer.get("truncated"):
        info["truncated"] = True
    data, clean = _module_json(out)
    if data is None or not clean:
        info["stdout"] = out
    if answer.get("timed_out"):
        return {"status": "failed", "changed": False, "data": data or {}, "ansible": info,
                "msg": f"timed out after {timeout or 0:.0f} s: the module was killed"}
    if data is None:
        return {"status": "failed", "changed": False, "data": {}, "msg": "MODULE FAILURE", "ansible": info}
    changed = bool(data.get("changed"))
    if data.get("failed") or ("failed" not in data and data.get("rc") not in (None, 0, "0")):
        status = "failed"
    elif data.get("skipped"):
        status = "skipped"
    else:
        status = "changed" if changed else "ok"
    msg = data.get("msg") if isinstance(data.get("msg"), str) else ""
    return {"status": status, "changed": changed, "data": data, "msg": msg, "ansible": info}


def _module_json(text: str) -> tuple:
    """The module's JSON object and whether nothing but blank lines surrounded it."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("{")), None)
    if start is None:
        return None, False
    end = next((i for i in range(len(lines) - 1, start - 1, -1) if lines[i].strip().endswith("}")), None)
    if end is None:
        return None, False
    try:
        data = json.loads("\n".join(lines[start:end + 1]))
    except ValueError:
        return None, False
    if not isinstance(data, dict):
        return None, False
    clean = not any(line.strip() for line in lines[:start] + lines[end + 1:])
    return data, clean


def _failed(msg: str) -> dict:
    return {"status": "failed", "changed": False, "data": {}, "msg": msg}

