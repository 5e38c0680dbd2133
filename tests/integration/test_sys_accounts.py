"""Accounts on real hosts: group, user, authorized_key and sudoers converge; the new user logs in
over SSH with its key and gets root through sudo; re-apply changes nothing; check mode on drifted
hosts (an extra key, a user removed by hand) reports exactly that and changes nothing; a sudoers
rule visudo refuses installs nothing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.integration.conftest import HOSTS, ITLab, output, report, run_fleet

PLAYBOOKS = Path(__file__).parent / "playbooks"
USER, GROUP, UID = "fleetbob", "fleetops", 2501
HOME = "/srv/fleet-homes/fleetbob"
KEYS = f"{HOME}/.ssh/authorized_keys"
# SHA-512 crypt of a throwaway lab-only password (openssl passwd -6 -salt fleetsalt fleet-test-pw)
PW_HASH = "$6$fleetsalt$ymxk9GqAs4kP8OSfKgZQSx2cyoQEgVrsgAqz1.MNQDamf/nN9Ly6q8nx9xT.8vF51b7HFwl..M9kqFExknrND1"
INTRUDER = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIntruderKeyThatMustGoAway000000000000000 intruder"
TASKS = ["the group", "the user", "the key", "sudo rights"]


def _clean(lab: ITLab, host: str) -> None:
    lab.sh(host, f"userdel -r {USER} 2>/dev/null; groupdel {GROUP} 2>/dev/null; rm -rf /srv/fleet-homes "
                 f"/etc/sudoers.d/{USER} /etc/sudoers.d/fleetbroken", check=False)


def _keypair(tmp_path: Path) -> tuple[Path, str]:
    key = tmp_path / "bob_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bob@controller", "-f", str(key)],
                   check=True)
    return key, key.with_suffix(".pub").read_text().strip()


def _accounts(lab: ITLab, host: str) -> str:
    """What check mode must not touch: the account files and the home."""
    return lab.sh(host, "md5sum /etc/passwd /etc/group /etc/shadow /etc/gshadow; "
                        f"ls -la {HOME} {HOME}/.ssh 2>&1; cat {KEYS} 2>&1", check=False)


def _changed(data: dict) -> dict:
    return {(h, r["task"]): r for h, d in data["hosts"].items() for r in d["results"] if r["changed"]}


def test_accounts_converge_user_logs_in_with_key_and_sudo_then_drift_is_reported_and_fixed(
        lab: ITLab, tmp_path: Path) -> None:
    for host in HOSTS:
        _clean(lab, host)
    key, pub = _keypair(tmp_path)
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps({"pubkey": pub, "pw_hash": PW_HASH}))
    args = ["-i", str(lab.inventory), str(PLAYBOOKS / "sys_accounts.yml"), "-e", f"@{extra}"]

    first = run_fleet("apply", *args, "--diff", "--json", str(tmp_path / "first.json"))
    assert first.returncode == 0, output(first)
    data = report(tmp_path / "first.json")
    assert data["summary"]["changed"] == len(HOSTS) * len(TASKS), first.stdout
    # the hash is never shown: not in the diff output, not in the report
    assert PW_HASH not in output(first) and PW_HASH not in (tmp_path / "first.json").read_text()
    user_diff = data["hosts"]["itest1"]["results"][1]["diff"]
    assert user_diff["after"]["password"] == "********"

    for host in HOSTS:
        assert lab.sh(host, f"getent passwd {USER}").strip() == (
            f"{USER}:x:{UID}:{UID}:Fleet Bob:{HOME}:/bin/bash")
        assert lab.sh(host, f"getent group {GROUP}").strip() == f"{GROUP}:x:{UID}:"
        assert sorted(lab.sh(host, f"id -nG {USER}").split()) == ["adm", GROUP, "users"]
        assert lab.sh(host, f"getent shadow {USER}").split(":")[1] == PW_HASH
        assert lab.stat(host, HOME)[1:] == (USER, GROUP)
        assert lab.exists(host, f"{HOME}/.bashrc")  # made from /etc/skel
        assert lab.stat(host, f"{HOME}/.ssh") == ("0700", USER, GROUP)
        assert lab.stat(host, KEYS) == ("0600", USER, GROUP)
        assert lab.read(host, KEYS) == pub + "\n"
        assert lab.stat(host, f"/etc/sudoers.d/{USER}") == ("0440", "root", "root")
        assert lab.read(host, f"/etc/sudoers.d/{USER}") == f"{USER} ALL=NOPASSWD: ALL\n"
        assert lab.sh(host, f"su - {USER} -c 'sudo -n id -un'") == "root\n"

    # The new user logs in over the lab network with its key, and sudo works there too.
    bob = lab.derived(tmp_path / "bob.yml", group_vars={"ansible_user": USER,
                                                         "ansible_ssh_private_key_file": str(key)})
    who = run_fleet("run", "-i", str(bob), "all", "-m", "command", "-a", "id -un")
    assert who.returncode == 0, output(who)
    assert all(f"{host} | CHANGED | rc=0 >>\n{USER}\n" in who.stdout for host in HOSTS), who.stdout
    root = run_fleet("run", "-i", str(bob), "all", "-m", "command", "-a", "sudo -n id -un")
    assert root.returncode == 0, output(root)
    assert all(f"{host} | CHANGED | rc=0 >>\nroot\n" in root.stdout for host in HOSTS), root.stdout

    second = run_fleet("apply", *args, "--json", str(tmp_path / "second.json"))
    assert second.returncode == 0, output(second)
    assert report(tmp_path / "second.json")["summary"]["changed"] == 0, second.stdout

    # Drift: an extra key on itest1, the user removed by hand on itest2.
    lab.sh("itest1", f"echo '{INTRUDER}' >> {KEYS}")
    lab.sh("itest2", f"userdel -r {USER}")
    before = {host: _accounts(lab, host) for host in HOSTS}
    check = run_fleet("check", *args, "--diff", "--json", str(tmp_path / "check.json"))
    assert check.returncode == 2, output(check)
    assert PW_HASH not in output(check)
    changed = _changed(report(tmp_path / "check.json"))
    assert set(changed) == {("itest1", "the key"), ("itest2", "the user"), ("itest2", "the key")}
    key_diff = changed[("itest1", "the key")]["diff"]
    assert key_diff["fields"] == ["content"] and INTRUDER in key_diff["before"]["content"]
    assert INTRUDER not in key_diff["after"]["content"]
    assert changed[("itest2", "the user")]["diff"]["before"]["state"] == "absent"
    assert changed[("itest2", "the key")]["diff"]["after"] == {"user_exists": True}
    assert {host: _accounts(lab, host) for host in HOSTS} == before, "check mode changed a host"
    assert lab.sh("itest2", f"getent passwd {USER}", check=False) == ""
    assert not lab.exists("itest2", HOME)

    third = run_fleet("apply", *args, "--json", str(tmp_path / "third.json"))
    assert third.returncode == 0, output(third)
    assert set(_changed(report(tmp_path / "third.json"))) == set(changed)
    assert lab.read("itest1", KEYS) == pub + "\n"
    assert lab.read("itest2", KEYS) == pub + "\n"
    back = run_fleet("run", "-i", str(bob), "itest2", "-m", "command", "-a", "sudo -n id -un")
    assert back.returncode == 0, output(back)
    assert "itest2 | CHANGED | rc=0 >>\nroot\n" in back.stdout, back.stdout

    # And removed again: drop-in, user with its home, group; a second run has nothing to do.
    gone = ["-i", str(lab.inventory), str(PLAYBOOKS / "sys_accounts_absent.yml")]
    removed = run_fleet("apply", *gone, "--json", str(tmp_path / "removed.json"))
    assert removed.returncode == 0, output(removed)
    assert report(tmp_path / "removed.json")["summary"]["changed"] == len(HOSTS) * 3
    for host in HOSTS:
        assert lab.sh(host, f"getent passwd {USER}; getent group {GROUP}", check=False) == ""
        assert not lab.exists(host, HOME) and not lab.exists(host, f"/etc/sudoers.d/{USER}")
    again = run_fleet("apply", *gone, "--json", str(tmp_path / "again.json"))
    assert again.returncode == 0 and report(tmp_path / "again.json")["summary"]["changed"] == 0, output(again)


def test_sudoers_rule_refused_by_visudo_installs_nothing(lab: ITLab, tmp_path: Path) -> None:
    host = "itest1"
    good = f"{USER} ALL=NOPASSWD: ALL\n"
    lab.sh(host, f"rm -f /etc/sudoers.d/fleetbroken; printf '{good}' > /etc/sudoers.d/{USER}; "
                 f"chmod 0440 /etc/sudoers.d/{USER}")
    listing = lab.sh(host, "ls -la --time-style=full-iso /etc/sudoers.d")
    playbook = str(PLAYBOOKS / "sys_accounts_bad_sudoers.yml")
    for mode in ("check", "apply"):
        result = run_fleet(mode, "-i", str(lab.inventory), playbook, "--json", str(tmp_path / f"{mode}.json"))
        assert result.returncode == 1, output(result)
        results = report(tmp_path / f"{mode}.json")["hosts"][host]["results"]
        assert [r["status"] for r in results] == ["failed", "failed"], results
        assert results[0]["ignored"] is True
        assert all(r["msg"].startswith("Failed to validate sudoers rule:") and "syntax error" in r["msg"]
                   for r in results)
        assert lab.sh(host, "ls -la --time-style=full-iso /etc/sudoers.d") == listing  # no file, no temp file
        assert lab.read(host, f"/etc/sudoers.d/{USER}") == good
    assert lab.sh(host, "visudo -c >/dev/null && echo valid") == "valid\n"


HASH2 = "$6$othersalt$" + "x" * 86  # never a valid login: only compared


def test_user_changes_go_through_usermod_chage_and_groupmod(lab: ITLab, tmp_path: Path) -> None:
    user, home = "fleetcarl", "/home/fleetcarl"
    for host in HOSTS:
        lab.sh(host, f"userdel -r {user} 2>/dev/null; groupdel fleetdev 2>/dev/null", check=False)
    steps = [
        {"gid": 2601, "extra_groups": ["adm"], "append": False, "shell": "/bin/bash", "pw_hash": PW_HASH,
         "update_password": "always", "lock": False, "expires": -1, "max_days": 99999},
        # gid changed; users appended; password kept (on_create); locked; expiry and ageing set
        {"gid": 2602, "extra_groups": ["users"], "append": True, "shell": "/bin/sh", "pw_hash": HASH2,
         "update_password": "on_create", "lock": True, "expires": 1893456000, "max_days": 90},
        # groups replaced (no append); unlocked; expiry removed
        {"gid": 2602, "extra_groups": ["users"], "append": False, "shell": "/bin/sh", "pw_hash": PW_HASH,
         "update_password": "always", "lock": False, "expires": -1, "max_days": 90},
    ]
    expected = [
        ("2601", ["adm", "fleetdev"], "/bin/bash", PW_HASH, "", "99999"),
        ("2602", ["adm", "fleetdev", "users"], "/bin/sh", "!" + PW_HASH, "21915", "90"),
        ("2602", ["fleetdev", "users"], "/bin/sh", PW_HASH, "", "90"),
    ]
    for number, (values, (gid, groups, shell, hashed, expire, max_days)) in enumerate(zip(steps, expected, strict=True)):
        extra = tmp_path / f"step{number}.json"
        extra.write_text(json.dumps(values))
        args = ["-i", str(lab.inventory), str(PLAYBOOKS / "sys_accounts_changes.yml"), "-e", f"@{extra}"]
        applied = run_fleet("apply", *args, "--diff")
        assert applied.returncode == 0, output(applied)
        assert PW_HASH not in output(applied) and HASH2 not in output(applied)
        for host in HOSTS:
            assert lab.sh(host, f"id -g {user}").strip() == gid
            assert sorted(lab.sh(host, f"id -nG {user}").split()) == groups
            assert lab.sh(host, f"getent passwd {user}").strip().endswith(f":{home}:{shell}")
            shadow = lab.sh(host, f"getent shadow {user}").strip().split(":")
            assert (shadow[1], shadow[7], shadow[4]) == (hashed, expire, max_days), (number, shadow)
        again = run_fleet("apply", *args, "--json", str(tmp_path / f"again{number}.json"))
        assert again.returncode == 0, output(again)
        assert report(tmp_path / f"again{number}.json")["summary"]["changed"] == 0, again.stdout

    # A home removed by hand is a pending change (check creates nothing), then made again from /etc/skel.
    lab.sh("itest3", f"rm -rf {home}")
    check = run_fleet("check", *args, "--json", str(tmp_path / "check.json"))
    assert check.returncode == 2, output(check)
    changed = _changed(report(tmp_path / "check.json"))
    assert set(changed) == {("itest3", "the user")}
    assert changed[("itest3", "the user")]["diff"]["fields"] == ["home_exists"]
    assert not lab.exists("itest3", home)
    fixed = run_fleet("apply", *args)
    assert fixed.returncode == 0, output(fixed)
    assert lab.stat("itest3", home)[1:] == (user, "fleetdev")
    assert lab.stat("itest3", f"{home}/.bashrc")[1:] == (user, "fleetdev")
