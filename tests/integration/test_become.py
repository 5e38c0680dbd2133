"""become over ssh on real hosts: a sudo user converges as root; a user without sudo fails alone."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator
from pathlib import Path

from tests.integration.conftest import HOSTS, ITLab, output, report, run_fleet
from tests.secretforms import assert_hidden

PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: directory
      file: {path: /srv/test-become, state: directory, mode: "0700"}
    - name: file
      copy: {content: "secret\\n", dest: /srv/test-become/file, mode: "0600"}
    - name: who
      command: id -un
      register: who
    - name: record who ran
      copy: {content: "{{ who.stdout }}\\n", dest: /srv/test-become/who}
"""


def test_become_as_sudo_user_writes_root_owned_files(lab: ITLab, tmp_path: Path) -> None:
    for host in HOSTS:
        lab.reset(host, "/srv/test-become")
    inventory = lab.derived(tmp_path / "inv.yml", group_vars={"ansible_user": "fleet"})
    playbook = tmp_path / "become.yml"
    playbook.write_text(PLAYBOOK)

    result = run_fleet("apply", "-i", str(inventory), str(playbook), "-b", "--json", str(tmp_path / "r.json"))
    assert result.returncode == 0, output(result)
    assert report(tmp_path / "r.json")["summary"]["changed"] == len(HOSTS) * 4
    for host in HOSTS:
        assert lab.stat(host, "/srv/test-become") == ("0700", "root", "root")
        assert lab.stat(host, "/srv/test-become/file") == ("0600", "root", "root")
        assert lab.read(host, "/srv/test-become/who") == "root\n"

    # Without -b the same user cannot even look inside: a clear permission failure, not a crash.
    plain = run_fleet("apply", "-i", str(inventory), str(playbook), "--limit", "itest1")
    assert plain.returncode == 1
    assert "ermission denied" in plain.stdout, plain.stdout


def test_become_without_sudo_rights_fails_that_host_only(lab: ITLab, tmp_path: Path) -> None:
    for host in HOSTS:
        lab.reset(host, "/srv/test-become")
    inventory = lab.derived(tmp_path / "inv.yml", group_vars={"ansible_user": "fleet"},
                            host_vars={"itest3": {"ansible_user": "nosudo"}})
    playbook = tmp_path / "become.yml"
    playbook.write_text(PLAYBOOK)

    result = run_fleet("apply", "-i", str(inventory), str(playbook), "-b", "--json", str(tmp_path / "r.json"))
    assert result.returncode == 1, output(result)
    data = report(tmp_path / "r.json")
    assert data["hosts"]["itest1"]["status"] == data["hosts"]["itest2"]["status"] == "changed"
    bad = data["hosts"]["itest3"]
    assert bad["status"] in ("unreachable", "failed")
    message = bad["results"][0]["msg"]
    assert "sudo" in message and "password is required" in message, message
    assert "itest3" in result.stdout and "sudo" in result.stdout
    assert [r["task"] for r in bad["results"]] == ["directory"]  # nothing after the failure
    assert not lab.exists("itest3", "/srv/test-become")
    for host in ("itest1", "itest2"):
        assert lab.read(host, "/srv/test-become/who") == "root\n"


def test_become_with_a_sudo_password(lab: ITLab, tmp_path: Path) -> None:
    """-K / --become-password-file: the password is fed to sudo; a wrong one fails that host."""
    from fleet.lab.image import PWSUDO_PASSWORD

    inventory = lab.derived(tmp_path / "inv.yml", group_vars={"ansible_user": "pwsudo"})
    good = tmp_path / "good"
    good.write_text(PWSUDO_PASSWORD + "\n")
    result = run_fleet("run", "-i", str(inventory), "itest1", "-b", "--become-password-file", str(good),
                       "-a", "id -un")
    assert result.returncode == 0, output(result)
    assert "root" in result.stdout
    assert PWSUDO_PASSWORD not in result.stdout + result.stderr

    bad = tmp_path / "bad"
    bad.write_text("not-the-password\n")
    wrong = run_fleet("run", "-i", str(inventory), "itest1", "-b", "--become-password-file", str(bad),
                      "-a", "id -un")
    assert wrong.returncode == 1
    assert "sudo" in wrong.stdout and "not-the-password" not in wrong.stdout + wrong.stderr
    assert "Traceback" not in wrong.stdout + wrong.stderr

    none = run_fleet("run", "-i", str(inventory), "itest1", "-b", "-a", "id -un")
    assert none.returncode == 1 and "-K" in none.stdout


# A backslash, both quotes, non-ASCII letters, spaces: each is escaped differently by repr and JSON.
SPECIAL = "Lab\\pa\"ss'wörd ☃ x"
WRONG = "Wr\\ong \"pässwörd'"


@contextlib.contextmanager
def _sudo_user(lab: ITLab, host: str, name: str, password: str) -> Iterator[None]:
    """A login user on ``host`` (the lab key) whose sudo asks for ``password``; removed after."""
    login = base64.b64encode(f"{name}:{password}".encode()).decode()
    lab.sh(host, f"useradd -m -s /bin/bash {name} && echo {login} | base64 -d | chpasswd && "
                 f"echo '{name} ALL=(ALL) ALL' > /etc/sudoers.d/{name} && chmod 0440 /etc/sudoers.d/{name} && "
                 f"install -d -o {name} -g {name} -m 0700 /home/{name}/.ssh && "
                 f"install -o {name} -g {name} -m 0600 /home/pwsudo/.ssh/authorized_keys /home/{name}/.ssh/")
    try:
        yield
    finally:
        lab.sh(host, f"pkill -KILL -u {name}; userdel -r {name}; rm -f /etc/sudoers.d/{name}", check=False)


def _password_file(path: Path, content: str) -> Path:
    path.write_text(content)
    path.chmod(0o600)
    return path


def test_a_password_sudo_asks_for_is_sent_after_its_prompt_and_never_shown(lab: ITLab, tmp_path: Path) -> None:
    """Special characters in the password, a second line in its file (not part of it), a wrong one."""
    with _sudo_user(lab, "itest1", "fleetpwtest", SPECIAL):
        inventory = lab.derived(tmp_path / "inv.yml", host_vars={"itest1": {"ansible_user": "fleetpwtest"}})
        good = _password_file(tmp_path / "good", SPECIAL + "\nnot part of the password\n")
        result = run_fleet("run", "-i", str(inventory), "itest1", "-b", "--become-password-file", str(good),
                           "-a", "id -un", "-vvv", "--json", str(tmp_path / "r.json"))
        assert result.returncode == 0, output(result)
        assert "root" in result.stdout
        assert_hidden(SPECIAL, "the output", output(result))
        assert_hidden(SPECIAL, "the JSON report", (tmp_path / "r.json").read_text())

        bad = _password_file(tmp_path / "bad", WRONG + "\n")
        wrong = run_fleet("run", "-i", str(inventory), "itest1", "-b", "--become-password-file", str(bad),
                          "-a", "id -un", "-vvv", "--json", str(tmp_path / "wrong.json"))
        assert wrong.returncode == 1
        assert "sudo to root refused the become password (incorrect password)" in wrong.stdout, output(wrong)
        for secret in (WRONG, SPECIAL):
            assert_hidden(secret, "the output", output(wrong))
            assert_hidden(secret, "the JSON report", (tmp_path / "wrong.json").read_text())


def test_a_password_given_for_a_nopasswd_sudo_is_never_sent(lab: ITLab, tmp_path: Path) -> None:
    inventory = lab.derived(tmp_path / "inv.yml", group_vars={"ansible_user": "fleet"})
    password = _password_file(tmp_path / "pw", SPECIAL + "\n")
    result = run_fleet("run", "-i", str(inventory), "all", "-b", "--become-password-file", str(password),
                       "-a", "id -un", "--json", str(tmp_path / "r.json"))
    assert result.returncode == 0, output(result)
    assert report(tmp_path / "r.json")["summary"]["changed"] == len(HOSTS)
    assert result.stdout.count("root") >= len(HOSTS)
    assert_hidden(SPECIAL, "the output", output(result))


PLANTED = ("json", "zlib", "shlex")  # the bootstrap imports json and zlib, the command module shlex


def test_modules_planted_in_the_login_home_are_never_imported(lab: ITLab, tmp_path: Path) -> None:
    """python3 -c puts the working directory (the login user's home) first on sys.path; the
    agent must not import a json.py found there -- as root under become."""
    marker = "/tmp/fleet-planted"
    plant = " && ".join(
        f"printf '%s\\n' 'import os' 'open(\"{marker}-{name}-%d\" % os.getuid(), \"w\").close()' "
        f"> /home/fleet/{name}.py && chown fleet: /home/fleet/{name}.py" for name in PLANTED)
    lab.sh("itest1", f"rm -f {marker}-* && {plant}")
    try:
        inventory = lab.derived(tmp_path / "inv.yml", group_vars={"ansible_user": "fleet"})
        for become in (("-b",), ()):
            result = run_fleet("run", "-i", str(inventory), "itest1", *become, "-a", "id -un")
            assert result.returncode == 0, output(result)
            assert ("root" if become else "fleet") in result.stdout
        assert lab.sh("itest1", f"ls {marker}-* 2>/dev/null", check=False) == ""
    finally:
        lab.sh("itest1", f"rm -f {marker}-* " + " ".join(f"/home/fleet/{name}.py" for name in PLANTED), check=False)
