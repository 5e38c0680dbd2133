"""``fleet vault edit`` ended by a signal leaves no plaintext: a real ``fleet`` process whose
editor sleeps gets SIGTERM, SIGHUP or SIGINT; the editor is stopped (killed when it ignores the
signal), the decrypted copy is gone, the vault file is unchanged and the exit code is 128 + the
signal. A copy left by SIGKILL is removed by the next edit."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet.vault import VaultKeyring, VaultSecret
from tests.conftest import REPO

PLAINTEXT = "db_password: Plain-Text-On-Disk\n"
Started = list[subprocess.Popen[str] | tuple[int, str]]  # fleet processes, (editor pid, its EDIT_LOG)
EDITOR = """#!/bin/sh
# records where fleet put the plaintext and its own pid, then edits for a long time
{trap}
echo "$$ $1" > "$EDIT_LOG"
exec sleep 600
"""


def _setup(tmp_path: Path, ignore_signals: bool = False) -> tuple[Path, dict[str, str]]:
    password = tmp_path / "vault.pw"
    password.write_text("edit-pass\n")
    password.chmod(0o600)
    vault_file = tmp_path / "vault.yml"
    vault_file.write_text(VaultKeyring([VaultSecret("default", b"edit-pass")]).encrypt(PLAINTEXT))
    editor = tmp_path / "editor.sh"
    editor.write_text(EDITOR.format(trap="trap '' TERM HUP INT" if ignore_signals else ""))
    editor.chmod(0o755)
    private_tmp = tmp_path / "tmp"  # where fleet's edit directory goes: nobody else's
    private_tmp.mkdir()
    env = dict(os.environ, EDITOR=str(editor), EDIT_LOG=str(tmp_path / "edit.log"), TMPDIR=str(private_tmp),
               FLEET_VAULT_PASSWORD_FILE=str(password), NO_COLOR="1")
    return vault_file, env


@pytest.fixture
def started() -> Iterator[Started]:
    """What a test started: fleet processes, and editors as (pid, their EDIT_LOG). None may
    outlive the test, whatever it found; an editor pid is killed only while it is still ours."""
    processes: Started = []
    yield processes
    for process in processes:
        if isinstance(process, subprocess.Popen):
            if process.poll() is None:
                process.kill()
                process.wait()
            continue
        pid, log = process
        with contextlib.suppress(OSError):
            if f"EDIT_LOG={log}".encode() in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                os.kill(pid, signal.SIGKILL)


def _start_edit(vault_file: Path, env: dict[str, str], started: Started) -> tuple[subprocess.Popen[str], int, Path]:
    """``fleet vault edit`` as a foreground command would run (SIGINT not ignored), once its
    editor has the plaintext open: (process, editor pid, plaintext path)."""
    process = subprocess.Popen([sys.executable, "-m", "fleet", "vault", "edit", str(vault_file)], cwd=REPO,
                               env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    started.append(process)
    log = Path(env["EDIT_LOG"])
    deadline = time.monotonic() + 120
    while not (log.exists() and log.read_text().endswith("\n")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the editor never started"
        time.sleep(0.05)
    pid, path = log.read_text().split()
    started.append((int(pid), str(log)))
    plaintext = Path(path)
    assert plaintext.read_text() == PLAINTEXT  # the edit is under way
    return process, int(pid), plaintext


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_to_fleet_removes_the_plaintext(tmp_path: Path, signum: signal.Signals, started: Started) -> None:
    vault_file, env = _setup(tmp_path)
    before = vault_file.read_bytes()
    process, editor, plaintext = _start_edit(vault_file, env, started)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr
    assert f"interrupted by {signum.name}: nothing saved, the decrypted copy was removed" in stderr
    assert not plaintext.exists() and not plaintext.parent.exists()
    assert list(Path(env["TMPDIR"]).iterdir()) == []
    assert _gone(editor), "the editor outlived fleet"
    assert vault_file.read_bytes() == before


def test_an_editor_that_ignores_the_signal_is_killed(tmp_path: Path, started: Started) -> None:
    vault_file, env = _setup(tmp_path, ignore_signals=True)
    process, editor, plaintext = _start_edit(vault_file, env, started)
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert time.monotonic() - sent < 50  # the grace period, then SIGKILL
    assert not plaintext.parent.exists() and _gone(editor)


def test_a_copy_left_by_sigkill_is_removed_by_the_next_edit(tmp_path: Path, started: Started) -> None:
    vault_file, env = _setup(tmp_path)
    process, editor, plaintext = _start_edit(vault_file, env, started)
    process.kill()  # nothing can clean up after SIGKILL...
    process.wait(timeout=60)
    os.kill(editor, signal.SIGKILL)  # the orphaned editor holds fleet's output pipes open
    process.communicate(timeout=60)
    assert plaintext.read_text() == PLAINTEXT
    quick = tmp_path / "quick.sh"
    quick.write_text("#!/bin/sh\nexit 0\n")
    quick.chmod(0o755)
    again = subprocess.run([sys.executable, "-m", "fleet", "vault", "edit", str(vault_file)], cwd=REPO,
                           env=dict(env, EDITOR=str(quick)), capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
    assert again.returncode == 0, again.stderr
    assert f"removed {plaintext.parent}: a decrypted copy left by an edit that was killed" in again.stderr
    assert not plaintext.parent.exists()  # ...but the next edit does
