"""become over ssh on real hosts: a sudo user converges as root; a user without sudo fails alone."""

from __future__ import annotations

from pathlib import Path

from tests.integration.conftest import HOSTS, ITLab, output, report, run_fleet

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
