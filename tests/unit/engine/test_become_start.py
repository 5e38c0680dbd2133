"""Starting a become agent: the password goes to sudo only after sudo's own prompt; the
bootstrap runs isolated; host output is shown with its control characters escaped."""

from __future__ import annotations

import asyncio

import pytest

from fleet.connection.agentstart import (
    READY,
    AgentStart,
    Become,
    agent_command,
    check_password,
    sudo_prompt,
)
from fleet.errors import ConnectionFailed
from fleet.report.controls import visible


class ScriptedSudo:
    """An agent process whose stdout/stderr follow a script: (stderr, stdout) steps, the next
    one released by each write (what sudo does after reading a password line)."""

    def __init__(self, first: tuple[str, bytes], after_write: list[tuple[str, bytes]]) -> None:
        self.err, self.out = first
        self.after_write = list(after_write)
        self.written: list[bytes] = []
        self.killed = False
        self._more = asyncio.Event()
        if self.out:
            self._more.set()

    async def write(self, data: bytes) -> None:
        self.written.append(data)
        if self.after_write:
            err, out = self.after_write.pop(0)
            self.err += err
            self.out += out
            if out:
                self._more.set()

    async def read_chunk(self, limit: int = 65536) -> bytes:
        await self._more.wait()
        data, self.out = self.out, b""
        self._more.clear()
        return data

    def stderr_text(self) -> str:
        return self.err

    def kill(self) -> None:
        self.killed = True


def through_sudo(process: ScriptedSudo, password: str, prompt: str) -> None:
    start = AgentStart(process, 1 << 20)  # type: ignore[arg-type]
    asyncio.run(asyncio.wait_for(start.through_sudo(Become("root", password), prompt), 10))


def test_sudo_that_does_not_ask_never_gets_the_password() -> None:
    process = ScriptedSudo(("", READY + b"\n"), [])
    through_sudo(process, "s3cret", sudo_prompt())
    assert process.written == []


def test_the_password_is_written_once_sudo_shows_this_starts_prompt() -> None:
    prompt = sudo_prompt()
    lookalike = ScriptedSudo(("[fleet sudo 0000] password: ", b""), [("", READY + b"\n")])
    with pytest.raises(TimeoutError):  # another prompt is not this start's: the password stays here
        asyncio.run(asyncio.wait_for(AgentStart(lookalike, 1 << 20).through_sudo(  # type: ignore[arg-type]
            Become("root", "s3cret"), prompt), 1.0))
    assert lookalike.written == []
    process = ScriptedSudo(("We trust you have received the usual lecture...\n" + prompt, b""),
                           [("", READY + b"\n")])
    through_sudo(process, "pa\\ss wörd", prompt)
    assert process.written == ["pa\\ss wörd\n".encode()]


def test_a_second_prompt_is_a_wrong_password() -> None:
    prompt = sudo_prompt()
    process = ScriptedSudo((prompt, b""), [("\nSorry, try again.\n" + prompt, b"")])
    with pytest.raises(ConnectionFailed, match="sudo to root refused the become password"):
        through_sudo(process, "wrong", prompt)
    assert process.killed and len(process.written) == 1


def test_command_line() -> None:
    assert " -I -c " in agent_command("python3", None)
    prompt = sudo_prompt()
    assert prompt != sudo_prompt() and prompt.endswith("password: ")
    with_password = agent_command("python3", Become("root", "x"), prompt)
    assert with_password.startswith("sudo -H -S -p ") and prompt in with_password and " -n " not in with_password
    assert agent_command("python3", Become("app"), "").startswith("sudo -H -S -n -u app -- python3 -I -c ")
    with pytest.raises(ConnectionFailed, match="line break"):
        check_password(Become("root", "first\nsecond"))
    assert "s3cret" not in repr(Become("root", "s3cret"))


def test_control_characters_are_shown_escaped() -> None:
    assert visible("a\x1b]0;t\x07b\x1b[2J\x9b\x7f\x00") == r"a\x1b]0;t\x07b\x1b[2J\x9b\x7f\x00"
    assert visible("tab\tnew\nline\r\nend\rover") == "tab\tnew\nline\r\nend\\rover"
    assert visible("plain ünïcode ☃") == "plain ünïcode ☃"


@pytest.mark.parametrize(("become", "err", "expected"), [
    (None, "", "agent did not start within 30 s"),
    (None, "loading...\n", "agent did not start within 30 s (last said: loading...)"),
    (Become("root"), "", "sudo to root did not start the agent within 30 s: with no become password it runs "
                         "as sudo -n, which never waits for one, so sudo or one of its PAM modules hung"),
    (Become("root", "pw"), "PROMPT", "sudo to root did not start the agent within 30 s after it was given the "
                                     "become password: sudo or a PAM module did not answer, or it asks for more "
                                     "than the password"),
    (Become("root", "pw"), "PROMPT\nVerification code: ", "sudo to root did not start the agent within 30 s "
                                                          "after it was given the become password (last said: "
                                                          "Verification code:)"),
    (Become("db", "pw"), "Please touch the device.\n", "sudo to db did not start the agent within 30 s: it waits at "
                                                       "'Please touch the device.', not at the password prompt "
                                                       "fleet answers (sudo -p)"),
    (Become("root", "pw"), "", "sudo to root did not start the agent within 30 s: sudo printed nothing and never "
                               "asked for the password"),
])
def test_a_start_timeout_says_what_sudo_was_doing(become: Become | None, err: str, expected: str) -> None:
    from fleet.connection.agentstart import start_timeout

    prompt = sudo_prompt()
    message = start_timeout(30.0, err.replace("PROMPT", prompt), become, prompt).message
    assert message.startswith(expected), message
    assert prompt not in message and "pw" not in message.replace("password", "")
