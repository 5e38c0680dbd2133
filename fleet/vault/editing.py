"""Editing decrypted vault data with ``$EDITOR`` in a private place that nothing outlives.

The plaintext lives in a new 0700 directory (where editors also put their swap and backup
files), as a 0600 file named like the original (for syntax highlighting). The directory is
overwritten and removed whatever ends the edit: the editor's exit, an error, or a signal to
fleet. SIGTERM, SIGHUP, SIGINT and SIGQUIT are relayed to the editor (as sudo relays them to
its command); fleet waits a few seconds for it to exit (vim saves its swap file there first),
stops it with SIGKILL if it does not, removes the directory and ends with ``EditInterrupted``
(exit 128 + the signal's number). A signal the caller ignored (``nohup``, a background job's
SIGINT) stays ignored. What SIGKILL or a power cut leaves behind is removed by the next
``fleet vault`` edit of the same user: its directory names the process that made it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

from fleet.vault.errors import VaultError

SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT)
STOP_GRACE_S = 5.0  # how long an editor told to stop may take before SIGKILL
PREFIX = "fleet-vault-"
_LEFTOVER = re.compile(re.escape(PREFIX) + r"(\d+)-")


class EditInterrupted(VaultError):
    """A signal ended the edit: nothing was saved and the plaintext copy was removed."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}: nothing saved, "
                         "the decrypted copy was removed")


def editor_command(environ: dict[str, str] | None = None) -> list[str]:
    """``$EDITOR`` split as a shell would (``code --wait`` works), ``vi`` when unset."""
    value = (os.environ if environ is None else environ).get("EDITOR") or "vi"
    try:
        return shlex.split(value)
    except ValueError as exc:
        raise VaultError(f"cannot parse $EDITOR {value!r}: {exc}") from None


class _Guard:
    """Signal handlers for the time plaintext is on disk (see the module docstring).

    The first signal is recorded and relayed to the editor; it raises only out of the wait for
    the editor, never out of cleaning up. A second one kills the editor at once.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self.editor: subprocess.Popen[bytes] | None = None
        self.waiting = False

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        first = self.signum is None
        if first:
            self.signum = signum
        if self.editor is not None and self.editor.poll() is None:
            with contextlib.suppress(OSError):
                self.editor.send_signal(signum if first else signal.SIGKILL)
        if first and self.waiting:
            raise EditInterrupted(signum)

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # only the main thread may set handlers (fleet's CLI edits there)
            return
        previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
        for sig, handler in previous.items():
            if handler is not signal.SIG_IGN:
                signal.signal(sig, self.handle)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def run_editor(self, argv: list[str]) -> int:
        """Run the editor to its end; ``EditInterrupted`` if a signal came first."""
        if self.signum is not None:
            raise EditInterrupted(self.signum)
        try:
            self.editor = subprocess.Popen(argv)
        except OSError as exc:
            raise VaultError(f"cannot start the editor {argv[0]!r} ($EDITOR): {exc.strerror}") from None
        try:
            self.waiting = True
            if self.signum is None:  # else it came before the editor could be told: stop it now
                self.editor.wait()
        except EditInterrupted:
            pass
        finally:
            self.waiting = False
        if self.signum is not None:
            self._stop_editor(self.signum)
            raise EditInterrupted(self.signum)
        return self.editor.returncode

    def _stop_editor(self, signum: int) -> None:
        editor = self.editor
        if editor is None or editor.poll() is not None:
            return
        with contextlib.suppress(OSError):
            editor.send_signal(signum)
        try:
            editor.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            editor.kill()
            editor.wait()


def edit_in_private(content: bytes, name: str, note: Callable[[str], None] | None = None) -> bytes:
    """Let the user edit ``content`` with ``$EDITOR``; return what the file holds afterwards.

    See the module docstring for where the plaintext lives and how it is removed; ``note``
    hears about leftovers of earlier edits that were removed. ``EditInterrupted`` when a
    signal ended the edit.
    """
    command = editor_command()
    guard = _Guard()
    with guard.installed():
        for leftover in _remove_leftovers():
            if note is not None:
                note(f"removed {leftover}: a decrypted copy left by an edit that was killed")
        directory = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
        try:
            temp = os.path.join(directory, os.path.basename(name) or "vault")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(content)
            returncode = guard.run_editor([*command, temp])
            if returncode != 0:
                raise VaultError(f"the editor exited with status {returncode}: nothing saved")
            try:
                edited = Path(temp).read_bytes()
            except OSError as exc:
                raise VaultError(f"cannot read the edited file: {exc.strerror}") from None
        finally:
            _scrub(directory)
    if guard.signum is not None:  # it came after the editor ended: fleet still stops
        raise EditInterrupted(guard.signum)
    return edited


def _remove_leftovers() -> list[str]:
    """Scrub this user's edit directories whose fleet process is gone; their paths."""
    removed: list[str] = []
    base = tempfile.gettempdir()
    try:
        names = os.listdir(base)
    except OSError:
        return removed
    for entry in names:
        match = _LEFTOVER.match(entry)
        if not match:
            continue
        path = os.path.join(base, entry)
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or _alive(int(match.group(1))):
            continue
        _scrub(path)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process (EPERM): alive
    return True


def _scrub(directory: str) -> None:
    """Overwrite the regular files under ``directory`` with zeros, then remove it all."""
    for root, _dirs, names in os.walk(directory):
        for entry in names:
            path = os.path.join(root, entry)
            with contextlib.suppress(OSError):
                if os.path.isfile(path) and not os.path.islink(path):
                    size = os.path.getsize(path)
                    with open(path, "r+b") as handle:
                        handle.write(b"\0" * size)
                        handle.flush()
                        os.fsync(handle.fileno())
    shutil.rmtree(directory, ignore_errors=True)
