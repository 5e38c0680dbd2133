"""vars_prompt: answered before anything connects. -e skips the prompt; with no terminal the
default is the answer and a prompt without one is an error naming file:line and the -e that
answers it; on a terminal fleet asks (hidden when private, twice with confirm); encrypt hashes
the answer; answers are data (never rendered) and private ones are redacted."""

from __future__ import annotations

import asyncio
import os
import pty
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fleet import api
from fleet.errors import InputError
from fleet.executor.options import RunOptions
from fleet.playbook import terminal_asker
from fleet.result import RunReport

PLAY = """
- hosts: all
  gather_facts: false
  vars_prompt:
    - name: release
      prompt: Which release
      default: "1.0"
      private: false
    - name: secret_word
      prompt: The secret word
{extra}
  tasks:
    - ansible.builtin.copy:
        dest: "{{{{ out }}}}/answers.txt"
        content: "{{{{ release }}}} {{{{ secret_word }}}}\\n"
"""


def _site(tmp_path: Path, extra: str = "") -> tuple[Path, Path]:
    (tmp_path / "site.yml").write_text(textwrap.dedent(PLAY.format(extra=extra)))
    (tmp_path / "hosts.ini").write_text(f"h1 ansible_connection=local out={tmp_path} "
                                        f"ansible_python_interpreter={sys.executable}\n")
    return tmp_path / "site.yml", tmp_path / "hosts.ini"


def test_no_terminal_and_no_default_is_an_error_naming_the_prompt(tmp_path: Path) -> None:
    site, hosts = _site(tmp_path)
    with pytest.raises(InputError) as caught:
        api.prepare(site, [hosts], RunOptions())
    assert "vars_prompt 'secret_word'" in str(caught.value) and "-e secret_word=VALUE" in str(caught.value)
    assert caught.value.location is not None and caught.value.location.line == 9  # its entry


def test_extra_vars_answer_and_the_default_is_taken(tmp_path: Path) -> None:
    site, hosts = _site(tmp_path)
    asked: list[str] = []
    options = RunOptions(extra_vars={"secret_word": "given"}, ask=lambda prompt: asked.append(prompt.name) or "2.0")
    report = _apply(api.prepare(site, [hosts], options))
    assert report.exit_code() == 0
    assert asked == ["release"]  # -e answered the other one: not asked
    assert (tmp_path / "answers.txt").read_text() == "2.0 given\n"
    _apply(api.prepare(site, [hosts], RunOptions(extra_vars={"secret_word": "given"})))  # no one to ask
    assert (tmp_path / "answers.txt").read_text() == "1.0 given\n"


def _apply(prepared: api.Prepared) -> RunReport:
    return asyncio.run(api.apply_async(prepared))


def test_an_answer_is_data_and_a_private_one_is_redacted(tmp_path: Path) -> None:
    site, hosts = _site(tmp_path)
    answers = {"release": "{{ lookup('env', 'HOME') }}", "secret_word": "swordfish"}
    options = RunOptions(ask=lambda prompt: answers[prompt.name])
    report = _apply(api.prepare(site, [hosts], options))
    assert report.exit_code() == 0
    assert (tmp_path / "answers.txt").read_text() == "{{ lookup('env', 'HOME') }} swordfish\n"
    assert "swordfish" not in str(report.to_dict())


def test_encrypt_hashes_the_answer(tmp_path: Path) -> None:
    site, hosts = _site(tmp_path, "      encrypt: sha512_crypt\n      salt: abcdefgh")
    options = RunOptions(ask=lambda prompt: "1.0" if prompt.name == "release" else "pw")
    _apply(api.prepare(site, [hosts], options))
    written = (tmp_path / "answers.txt").read_text().split()
    assert written[1].startswith("$6$rounds=656000$abcdefgh$") and len(written[1]) > 80  # as ansible-core


def test_the_terminal_asker_prompts_as_ansible() -> None:
    calls: list[tuple[str, dict[str, object]]] = []

    def fake_prompt(text: str, **kwargs: object) -> str:
        calls.append((text, kwargs))
        return "x"

    from fleet.playbook.prompts import Prompt

    ask = terminal_asker(fake_prompt)
    assert ask(Prompt("pw", "Password", None, private=True, confirm=True)) == "x"  # type: ignore[arg-type]
    assert calls[0] == ("Password", {"default": None, "hide_input": True, "confirmation_prompt": True,
                                     "show_default": False})


def test_the_cli_asks_on_a_terminal(tmp_path: Path) -> None:
    site, hosts = _site(tmp_path)
    leader, follower = pty.openpty()
    fleet = Path(sys.executable).parent / "fleet"
    proc = subprocess.Popen([str(fleet), "apply", "-i", str(hosts), str(site), "--persist", "0"], stdin=follower,
                            stdout=follower, stderr=follower, cwd=tmp_path, close_fds=True)
    os.close(follower)
    seen = b""
    try:
        for answer in (b"\n", b"hunter2\n"):  # the default release, then the hidden word
            while b": " not in seen.rsplit(b"\n", 1)[-1]:
                chunk = os.read(leader, 1024)
                assert chunk, seen
                seen += chunk
            os.write(leader, answer)
            seen += b"\n"
        assert proc.wait(timeout=300) == 0
    finally:
        proc.kill()
        os.close(leader)
    assert b"Which release [1.0]: " in seen
    assert (tmp_path / "answers.txt").read_text() == "1.0 hunter2\n"
