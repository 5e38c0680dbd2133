"""Terminal control sequences in what a host sends (command output, file contents in diffs)
are printed as visible escapes: they cannot retitle the window, clear the screen or recolour
what follows, or send the cursor back over a line."""

from __future__ import annotations

from tests.conftest import fleet
from tests.e2e.conftest import Lab

RAW = "a\x1b]0;title\x07b\x1b[2Jc\x1b[31md\x9be"
SHOWN = r"a\x1b]0;title\x07b\x1b[2Jc\x1b[31md\x9be"


def _no_controls(text: str) -> None:
    bad = sorted({hex(ord(c)) for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7f <= ord(c) <= 0x9f})
    assert not bad, f"control characters reached the terminal: {bad}"


def test_command_output_prints_escaped(lab: Lab) -> None:
    command = "printf 'a\\033]0;title\\007b\\033[2Jc\\033[31md\\302\\233e\\rf'"  # \r: to column 0
    done = fleet("run", "-i", str(lab.inventory), "h1", "-a", command)
    assert done.returncode == 0, done.stdout + done.stderr
    assert SHOWN + r"\rf" in done.stdout, done.stdout
    _no_controls(done.stdout + done.stderr)


def test_a_diff_of_a_host_file_with_escape_sequences_prints_escaped(lab: Lab) -> None:
    root = lab.roots["h1"]
    root.mkdir(parents=True)
    (root / "motd").write_text(f"welcome {RAW}\n")
    playbook = lab.workdir / "motd.yml"
    playbook.write_text("- hosts: h1\n  gather_facts: false\n  tasks:\n"
                        "    - copy: {dest: \"{{ root }}/motd\", content: \"plain\\n\"}\n")
    done = fleet("apply", "-i", str(lab.inventory), str(playbook), "--diff")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"-welcome {SHOWN}" in done.stdout, done.stdout
    assert "+plain" in done.stdout
    _no_controls(done.stdout + done.stderr)
