"""A become password over the real sshd and sudo: given where sudo does not ask (root's sudo to
nobody is NOPASSWD), it is never sent and the run works; it never shows in any output or report
in any form it could be printed in; a password file others can read draws a warning."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests import secretforms as secret_forms
from tests.conftest import fleet, require
from tests.e2e.conftest import Lab

# A backslash, both quotes, non-ASCII letters, a space: each escapes differently in repr/JSON.
PASSWORD = "Sudo\\pa\"ss'wörd ☃-x"


def assert_hidden(where: str, text: str) -> None:
    secret_forms.assert_hidden(PASSWORD, where, text)
    for fragment in ("wörd", "w\\xc3\\xb6rd", "w\\u00f6rd"):  # a part of it, in any encoding
        assert fragment not in text, f"the become password leaked into {where} ({fragment!r})"


def _password_file(lab: Lab, mode: int = 0o600, content: str = PASSWORD + "\n") -> Path:
    path = lab.workdir / "become-pass"
    path.write_text(content)
    path.chmod(mode)
    return path


def test_nopasswd_sudo_with_a_password_file_works_and_never_shows_it(lab: Lab, request: pytest.FixtureRequest
                                                                      ) -> None:
    require(shutil.which("sudo") is not None, "sudo is not installed")
    password = _password_file(lab)
    adhoc = fleet("run", "-i", str(lab.inventory), "h1", "-b", "--become-user", "nobody",
                  "--become-password-file", str(password), "-a", "id -un", "--json", "-")
    assert adhoc.returncode == 0, adhoc.stdout + adhoc.stderr
    report = json.loads(adhoc.stdout)
    assert report["hosts"]["h1"]["status"] == "changed"
    assert "nobody" in adhoc.stderr  # the ad-hoc output goes to stderr when --json is stdout
    assert_hidden("fleet run's output", adhoc.stdout + adhoc.stderr)

    shared = Path(tempfile.mkdtemp(prefix="fleet-become-pw-"))  # outside pytest's 0700 tree
    shared.chmod(0o1777)
    request.addfinalizer(lambda: shutil.rmtree(shared, ignore_errors=True))
    playbook = lab.workdir / "become.yml"
    playbook.write_text(
        "- hosts: h1\n  gather_facts: false\n  become: true\n  become_user: nobody\n  tasks:\n"
        f"    - copy: {{dest: {shared}/by-nobody, content: x}}\n"
        "    - command: id -un\n      register: who\n"
        "    - assert: {that: [\"who.stdout == 'nobody'\"]}\n")
    applied = fleet("apply", "-i", str(lab.inventory), str(playbook), "--become-password-file", str(password),
                    "-vvv", "--diff", "--json", str(lab.workdir / "apply.json"))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert (shared / "by-nobody").stat().st_uid == _uid("nobody")
    assert_hidden("fleet apply -vvv --diff", applied.stdout + applied.stderr)
    assert_hidden("the JSON report", (lab.workdir / "apply.json").read_text())


def test_ask_become_pass_on_a_terminal_with_nopasswd_sudo(lab: Lab) -> None:
    """-K: the password typed at the prompt, then the same as a password file."""
    require(shutil.which("sudo") is not None, "sudo is not installed")
    code, output = _on_terminal(["run", "-i", str(lab.inventory), "h1", "-b", "--become-user", "nobody", "-K",
                                 "-a", "id -un"], answer=PASSWORD)
    assert code == 0, output
    assert "BECOME password:" in output and "nobody" in output
    assert_hidden("the -K run's terminal", output)


def test_a_password_file_others_can_read_is_warned_about(lab: Lab) -> None:
    require(shutil.which("sudo") is not None, "sudo is not installed")
    password = _password_file(lab, 0o644, PASSWORD + "\nthe rest of the file is not read\n")
    done = fleet("run", "-i", str(lab.inventory), "h1", "-b", "--become-user", "nobody",
                 "--become-password-file", str(password), "-a", "id -un", "--json", str(lab.workdir / "r.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    warning = f"become password file {password} can be read by other users (mode 0644): chmod 600 {password}"
    assert warning in " ".join(done.stdout.split())  # the terminal may wrap it
    assert json.loads((lab.workdir / "r.json").read_text())["warnings"] == [warning]
    assert_hidden("the output", done.stdout + done.stderr)

    password.chmod(0o600)
    quiet = fleet("run", "-i", str(lab.inventory), "h1", "-b", "--become-user", "nobody",
                  "--become-password-file", str(password), "-a", "id -un")
    assert quiet.returncode == 0 and "can be read by other users" not in quiet.stdout + quiet.stderr

    password.write_text("\nsecond line\n")
    empty = fleet("run", "-i", str(lab.inventory), "h1", "-b", "--become-password-file", str(password),
                  "-a", "id -un")
    assert empty.returncode == 1
    assert f"--become-password-file {password}: the first line is empty" in empty.stderr, empty.stderr
    assert "Traceback" not in empty.stdout + empty.stderr


def _uid(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_uid


def _on_terminal(args: list[str], answer: str, timeout: float = 120) -> tuple[int, str]:
    """Run ``fleet ARGS`` on a pseudo-terminal, type ``answer`` at its password prompt; its exit
    code and everything it showed."""
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb")
    pid, fd = pty.fork()
    if pid == 0:  # the child: fleet, with the pty as its controlling terminal
        os.execvpe(sys.executable, [sys.executable, "-m", "fleet", *args], env)
    output, answered = b"", False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"BECOME password:" in output:
                os.write(fd, answer.encode() + b"\n")
                answered = True
        else:
            os.kill(pid, 9)
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode("utf-8", errors="replace")
