"""The fork server that runs Ansible's own modules on the host (issue 19).

Started by :mod:`fleet.agent.ansiblehost` as ``python -I -B -c <this source>`` on the first
bridged call (never at agent start), single-threaded so that forking it is safe. It keeps the
module payloads it was sent (AnsiballZ zips: the module and its ``module_utils``) in memory,
imports ``ansible.module_utils.basic`` from them once, then runs each task in a forked child:
a task costs a fork, not an interpreter start. Nothing is written to disk: the zips are read
through an in-memory importer (a module that respawns itself under another interpreter is the
one exception, see :func:`_respawn_hook`).

Protocol on stdin/stdout (the agent's pipes): frames of a 4-byte big-endian header length, a
JSON header, then the raw byte fields the header's ``sizes`` list.

* ``{"op": "zip", "sha": SHA}`` + zip bytes: keep a payload (bounded, least recently used).
* ``{"op": "run", "zip": SHA, "fqn": ..., "style": "ansiballz"|"legacy", "profile": ...,
  "extensions": {...}, "env": {...}, "timeout": S, "limit": BYTES}`` + JSON params: run one task;
  the answer is ``{"rc", "timed_out", "truncated", "cpu_child", "cpu_server", "missing"}`` + stdout +
  stderr (each at most ``limit`` bytes).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import io
import json
import os
import resource
import select
import signal
import struct
import sys
import time
import zipfile

LENGTH = struct.Struct(">I")
MAX_ZIPS = 64 * 1024 * 1024  # bytes of payloads kept; the agent keeps the same bound
FAKE_ROOT = "/nonexistent/fleet-ansible"  # prefix of __file__ paths: nothing is on disk
POLL = 0.1  # seconds between looks at a child whose pipes a grandchild keeps open


class ZipImporter(importlib.abc.MetaPathFinder, importlib.abc.InspectLoader):
    """Imports modules and packages from zips held in memory, the first zip that has a name
    winning. ``__file__`` is a path under :data:`FAKE_ROOT`; ``get_data`` reads those paths."""

    def __init__(self) -> None:
        self.zips: list = []  # (sha, ZipFile, names), most preferred first
        # Compiled code by (member, CRC-32, size): the server compiles a payload's files before
        # forking, so that children (which cannot keep anything) start from its code objects.
        self.codes: dict = {}

    def add(self, sha: str, data: bytes, first: bool = False) -> None:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entry = (sha, archive, set(archive.namelist()))
        if first:
            self.zips.insert(0, entry)
        else:
            self.zips.append(entry)

    def drop(self, sha: str) -> None:
        self.zips = [z for z in self.zips if z[0] != sha]

    def _locate(self, fullname: str):
        base = fullname.replace(".", "/")
        for sha, archive, names in self.zips:
            if base + "/__init__.py" in names:
                return sha, archive, base + "/__init__.py", True
            if base + ".py" in names:
                return sha, archive, base + ".py", False
        return None

    def find_spec(self, fullname, path=None, target=None):
        found = self._locate(fullname)
        if found is None:
            return None
        sha, _, member, package = found
        origin = f"{FAKE_ROOT}/{sha[:16]}/{member}"
        spec = importlib.machinery.ModuleSpec(fullname, self, origin=origin, is_package=package)
        spec.has_location = True
        if package:
            spec.submodule_search_locations = [origin.rsplit("/", 1)[0]]
        return spec

    def get_source(self, fullname):
        found = self._locate(fullname)
        if found is None:
            raise ImportError(fullname)
        return found[1].read(found[2]).decode("utf-8")

    def get_code(self, fullname):
        found = self._locate(fullname)
        if found is None:
            raise ImportError(fullname)
        return self._compiled(found[0], found[1], found[2])

    def _compiled(self, sha: str, archive, member: str):
        info = archive.getinfo(member)
        key = (member, info.CRC, info.file_size)
        code = self.codes.get(key)
        if code is None:
            origin = f"{FAKE_ROOT}/{sha[:16]}/{member}"
            code = self.codes[key] = compile(archive.read(member), origin, "exec", dont_inherit=True)
        return code

    def compile_all(self, sha: str) -> None:
        """Compile every Python file of payload ``sha`` (once per distinct file)."""
        for zsha, archive, names in self.zips:
            if zsha == sha:
                for member in names:
                    if member.endswith(".py"):
                        self._compiled(zsha, archive, member)
                return

    def is_package(self, fullname):
        found = self._locate(fullname)
        if found is None:
            raise ImportError(fullname)
        return found[3]

    def exec_module(self, module) -> None:
        exec(self.get_code(module.__name__), module.__dict__)

    def get_filename(self, fullname):
        found = self._locate(fullname)
        if found is None:
            raise ImportError(fullname)
        return f"{FAKE_ROOT}/{found[0][:16]}/{found[2]}"

    def get_data(self, path):
        prefix = FAKE_ROOT + "/"
        if path.startswith(prefix):
            short, _, member = path[len(prefix):].partition("/")
            for sha, archive, names in self.zips:
                if sha[:16] == short and member in names:
                    return archive.read(member)
        raise OSError("not in a payload: " + path)


class Server:
    """The payloads, the importer over them, and the loop that runs tasks."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd, self.write_fd = read_fd, write_fd
        self.payloads: dict = {}  # sha -> bytes, oldest first (dicts keep insertion order)
        self.size = 0
        self.importer = ZipImporter()
        self.basic = None  # ansible.module_utils.basic once imported

    def serve(self) -> None:
        while True:
            message = self.receive()
            if message is None:
                return
            header, fields = message
            if header.get("op") == "zip":
                self.keep(header["sha"], fields[0])
            elif header.get("op") == "run":
                started = resource.getrusage(resource.RUSAGE_SELF)
                header["_close"] = (self.read_fd, self.write_fd)  # not the child's to keep
                answer, out, err = self.run(header, fields[0])
                ended = resource.getrusage(resource.RUSAGE_SELF)
                answer["cpu_server"] = round(ended.ru_utime + ended.ru_stime - started.ru_utime - started.ru_stime, 6)
                self.send(answer, [out, err])

    def keep(self, sha: str, data: bytes) -> None:
        if sha in self.payloads:
            return
        self.payloads[sha] = data
        self.size += len(data)
        self.importer.add(sha, data)
        self.importer.compile_all(sha)
        while self.size > MAX_ZIPS and len(self.payloads) > 1:
            old = next(iter(self.payloads))
            self.size -= len(self.payloads.pop(old))
            self.importer.drop(old)

    def run(self, job: dict, params: bytes) -> tuple:
        sha = job.get("zip")
        if sha not in self.payloads:
            return {"rc": None, "missing": sha}, b"", b""
        self.payloads[sha] = self.payloads.pop(sha)  # most recently used last
        if self.basic is None:
            # Imported once here, so that every task's child starts with it loaded.
            sys.meta_path.insert(0, self.importer)
            from ansible.module_utils import basic

            self.basic = basic
        return supervise(job, params, self.payloads[sha], self.importer)

    def receive(self):
        head = _read(self.read_fd, LENGTH.size)
        if head is None:
            return None
        header = json.loads(_read(self.read_fd, LENGTH.unpack(head)[0]).decode("utf-8"))
        fields = [_read(self.read_fd, size) or b"" for size in header.get("sizes", [])]
        return header, fields

    def send(self, header: dict, fields: list) -> None:
        header["sizes"] = [len(f) for f in fields]
        body = json.dumps(header).encode("utf-8")
        os.write(self.write_fd, LENGTH.pack(len(body)) + body)
        for data in fields:
            view = memoryview(data)
            while view:
                view = view[os.write(self.write_fd, view):]


def _read(fd: int, size: int):
    """Exactly ``size`` bytes from ``fd``, or None at the end of the stream."""
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def supervise(job: dict, params: bytes, payload: bytes, importer: ZipImporter) -> tuple:
    """Fork a child for the task, collect its output within the limit and the deadline."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        os.close(out_r)
        os.close(err_r)
        _child(job, params, payload, importer, out_w, err_w)
    os.close(out_w)
    os.close(err_w)
    limit = int(job.get("limit") or MAX_ZIPS)
    timeout = job.get("timeout")
    deadline = time.monotonic() + float(timeout) if timeout else None
    buffers = {out_r: bytearray(), err_r: bytearray()}
    open_fds = [out_r, err_r]
    truncated, timed_out, status, usage = False, False, None, None
    while open_fds:
        wait = POLL if deadline is None or timed_out else max(0.0, min(POLL, deadline - time.monotonic()))
        ready, _, _ = select.select(open_fds, [], [], wait)
        for fd in ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                open_fds.remove(fd)
                os.close(fd)
                continue
            room = limit - len(buffers[fd])
            if len(chunk) > room:
                truncated = True
            buffers[fd] += chunk[:max(room, 0)]
        if ready:
            continue
        if deadline is not None and time.monotonic() >= deadline and status is None:
            timed_out = True
            _kill(pid)
        if status is None:
            reaped, status_, usage_ = os.wait4(pid, os.WNOHANG)
            if reaped:
                status, usage = status_, usage_
        if status is not None:  # a grandchild keeps the pipes open: take what is there
            for fd in open_fds:
                _drain(fd, buffers[fd], limit)
                os.close(fd)
            open_fds = []
    if status is None:
        if timed_out:
            _kill(pid)
        _, status, usage = os.wait4(pid, 0)
    rc = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else _exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime if usage is not None else 0.0
    answer = {"rc": rc, "timed_out": timed_out, "truncated": truncated, "cpu_child": round(cpu, 6)}
    return answer, bytes(buffers[out_r]), bytes(buffers[err_r])


def _exitcode(status: int) -> int:
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _drain(fd: int, buffer: bytearray, limit: int) -> None:
    os.set_blocking(fd, False)
    try:
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            buffer += chunk[:max(limit - len(buffer), 0)]
    except BlockingIOError:
        return


def _child(job: dict, params: bytes, payload: bytes, importer: ZipImporter, out_w: int, err_w: int) -> None:
    """Run the module as AnsiballZ would, then exit (never returns)."""
    code = 1
    try:
        os.setpgid(0, 0)  # the deadline kills the module and what it started
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGCHLD):
            signal.signal(number, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        for fd in (null, out_w, err_w, *job.get("_close", ())):
            if fd > 2:
                with contextlib.suppress(OSError):
                    os.close(fd)
        os.environ.update({str(k): str(v) for k, v in (job.get("env") or {}).items()})
        try:  # as AnsiballZ: a working directory the become user cannot reach -> home, else /
            os.getcwd()
        except OSError:
            try:
                os.chdir(os.path.expanduser("~"))
            except OSError:
                os.chdir("/")
        code = _run_module(job, params, payload, importer)
    except SystemExit as exc:
        code = _exit_code(exc)
    except BaseException:  # noqa: B036 - a child must never return into the server's loop
        try:
            import traceback

            traceback.print_exc()
        except BaseException:  # noqa: B036
            pass
    try:
        atexit._run_exitfuncs()  # basic's cleanup of its tmpdir, as at an interpreter's exit
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    sys.stderr.write(str(exc.code) + "\n")
    return 1


def _run_module(job: dict, params: bytes, payload: bytes, importer: ZipImporter) -> int:
    fqn = job["fqn"]
    importer.add(job["zip"], payload, first=True)  # the task's own zip wins over older ones
    names = importer.zips[0][2]
    modlib = "{}/{}/ansible_{}_payload.zip".format(FAKE_ROOT, job["zip"][:16], fqn.rsplit(".", 1)[-1])
    sys.argv = [""]  # as with pipelining: the wrapper came on stdin
    _respawn_hook(payload, names)
    try:
        if job.get("style") == "ansiballz":
            from ansible.module_utils._internal._ansiballz import _loader

            _loader.run_module(json_params=params, profile=job.get("profile") or "legacy", module_fqn=fqn,
                               modlib_path=modlib, extensions=job.get("extensions") or {})
        else:
            import runpy

            from ansible.module_utils import basic

            basic._ANSIBLE_ARGS = params
            runpy.run_module(mod_name=fqn, init_globals={"_module_fqn": fqn, "_modlib_path": modlib},
                             run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        return _exit_code(exc)
    sys.stderr.write("New-style module did not handle its own exit.\n")
    return 1


def _respawn_hook(payload: bytes, names) -> None:
    """A module that respawns itself under another Python (``respawn_module``: apt, dnf when
    this one lacks their bindings) needs the payload as a real file: only then it is written,
    to a private directory (0700) that is removed when the respawned module ends. Its probe for
    an interpreter with the bindings (``probe_interpreters_for_module``) looks for the bindings
    alone: ansible is not on this host's disk to be imported by the probe."""
    if "ansible/module_utils/common/respawn.py" not in names:
        return
    try:
        respawn = importlib.import_module("ansible.module_utils.common.respawn")
    except ImportError:
        return
    original = getattr(respawn, "respawn_module", None)
    if original is None or getattr(original, "_fleet", False):
        return

    def respawn_module(interpreter_path):
        import shutil
        import tempfile

        folder = tempfile.mkdtemp(prefix="fleet-ansible-respawn-")
        path = os.path.join(folder, "payload.zip")
        with open(path, "wb") as handle:
            handle.write(payload)
        sys.modules["__main__"]._modlib_path = path
        try:
            original(interpreter_path)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def probe_interpreters_for_module(interpreter_paths, module_name):
        # Ansible's probe also imports ansible from the payload's folder on disk; here it is
        # imported from memory, so only the bindings are probed (a respawn writes the payload)
        import subprocess

        for path in interpreter_paths:
            if os.path.exists(path) and subprocess.call(
                    [path, "-c", "import " + module_name], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL) == 0:
                return path
        return None

    respawn_module._fleet = True  # type: ignore[attr-defined]
    respawn.respawn_module = respawn_module  # type: ignore[attr-defined]
    respawn.probe_interpreters_for_module = probe_interpreters_for_module  # type: ignore[attr-defined]


def main() -> None:
    """Serve the agent on the pipes it gave: fd 0 in, fd 1 out (stdout goes to stderr)."""
    sys.dont_write_bytecode = True
    read_fd, write_fd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    os.close(null)
    Server(read_fd, write_fd).serve()


if __name__ == "__main__":
    main()
