"""What a user or a playbook value can plant on a real host cannot turn fleet's root agent against
the host: a user's symlinked ``~/.ssh`` or ``authorized_keys`` is refused by name (``/etc`` and
``/etc/shadow`` keep owner, mode and content; nothing of shadow reaches the user), ``follow: true``
reaches only the user's own files; ``backup: true`` copies are never readable by anyone the source
keeps out, and a symlink planted at the backup name is not followed; a sysctl name that walks out
of /proc/sys and fstab fields with line breaks or tabs are refused before anything connects."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import ITLab, output, report, run_fleet

HOST = "itest1"
USER = "fleetmal"
HOME = f"/home/{USER}"
# A throwaway shadow entry whose hash must never leave /etc/shadow.
MARKER_USER = "fleetmarker"
MARKER_HASH = "$6$hostfsmarker$" + "Q" * 86
ROOT = "/srv/test-hostile-paths"


def _as_user(lab: ITLab, command: str) -> str:
    return lab.sh(HOST, f"su {USER} -s /bin/sh -c '{command}'")


def _etc_state(lab: ITLab) -> str:
    return lab.sh(HOST, "stat -c '%U %G %a' /etc /etc/shadow; md5sum /etc/shadow; ls -a /etc | md5sum")


@pytest.fixture
def mal(lab: ITLab) -> Iterator[ITLab]:
    """A user who owns a home to plant links in, and a marker hash in /etc/shadow.

    Whatever happens, /etc gets its owner and mode back (code before this fix chowned it to the
    user) and the users go.
    """
    lab.sh(HOST, f"userdel -r {USER} 2>/dev/null; userdel {MARKER_USER} 2>/dev/null; rm -rf {ROOT}; "
                 f"useradd -m -s /bin/sh {USER} && useradd -M -p '{MARKER_HASH}' {MARKER_USER}", check=False)
    try:
        yield lab
    finally:
        lab.sh(HOST, f"chown root:root /etc; chmod 0755 /etc; rm -f /etc/authorized_keys; "
                     f"userdel -r {USER}; userdel {MARKER_USER}; rm -rf {ROOT}", check=False)


def _key_play(tmp_path: Path) -> Path:
    play = tmp_path / "keys.yml"
    play.write_text(f"""- hosts: {HOST}
  gather_facts: false
  tasks:
    - name: the key
      authorized_key:
        user: {USER}
        key: "{{{{ pubkey }}}}"
        follow: "{{{{ follow | default(false) }}}}"
""")
    return play


def _keys(lab: ITLab, tmp_path: Path, mode: str, follow: bool = False) -> tuple[int, dict, str]:
    pub = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostilePathsTestKey0000000000000000000000 t@fleet"
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps({"pubkey": pub, "follow": follow}))
    out = tmp_path / f"{mode}-{follow}.json"
    result = run_fleet(mode, "-i", str(lab.inventory), str(_key_play(tmp_path)), "-e", f"@{extra}",
                       "--diff", "--json", str(out))
    text = output(result) + out.read_text()
    assert MARKER_HASH not in text, "a shadow hash reached the output or the report"
    return result.returncode, report(out)["hosts"][HOST]["results"][0], pub


def test_symlinked_ssh_dir_and_key_file_are_refused_and_follow_reaches_only_the_users_files(
        mal: ITLab, tmp_path: Path) -> None:
    lab = mal
    before = _etc_state(lab)

    _as_user(lab, "ln -s /etc ~/.ssh")
    for mode in ("check", "apply"):
        rc, result, _ = _keys(lab, tmp_path, mode)
        assert rc == 1 and result["status"] == "failed", result
        assert result["msg"].startswith(f"{HOME}/.ssh is a symlink to /etc: refusing to follow it"), result
        assert _etc_state(lab) == before  # /etc not chowned to the user nor chmodded, nothing added

    _as_user(lab, "rm ~/.ssh && mkdir -m 700 ~/.ssh && ln -s /etc/shadow ~/.ssh/authorized_keys")
    for mode in ("check", "apply"):
        rc, result, _ = _keys(lab, tmp_path, mode)
        assert rc == 1 and result["status"] == "failed", result
        assert result["msg"].startswith(
            f"{HOME}/.ssh/authorized_keys is a symlink to /etc/shadow: refusing to follow it"), result
    rc, result, _ = _keys(lab, tmp_path, "apply", follow=True)
    assert rc == 1 and "/etc/shadow, reached through a symlink, belongs to root, not fleetmal" in result["msg"]
    assert _etc_state(lab) == before
    assert lab.sh(HOST, f"find {HOME}/.ssh -mindepth 1 -printf '%P %y %l\\n'") == "authorized_keys l /etc/shadow\n"
    assert MARKER_HASH not in lab.sh(HOST, f"find {HOME} -type f -exec cat {{}} +")

    # follow: true through a link to a file of the user's own: written there, the link kept.
    _as_user(lab, "rm ~/.ssh/authorized_keys && mkdir ~/dotfiles && touch ~/dotfiles/keys && "
                  "ln -s ../dotfiles/keys ~/.ssh/authorized_keys")
    rc, result, pub = _keys(lab, tmp_path, "apply", follow=True)
    assert rc == 0 and result["status"] == "changed", result
    assert lab.sh(HOST, f"readlink {HOME}/.ssh/authorized_keys") == "../dotfiles/keys\n"
    assert lab.read(HOST, f"{HOME}/dotfiles/keys") == pub + "\n"
    assert lab.stat(HOST, f"{HOME}/dotfiles/keys") == ("0600", USER, USER)
    assert lab.stat(HOST, f"{HOME}/.ssh") == ("0700", USER, USER)
    rc, result, _ = _keys(lab, tmp_path, "apply", follow=True)
    assert rc == 0 and result["status"] == "ok", result
    assert _etc_state(lab) == before


BACKUP_PLAY = """- hosts: {host}
  gather_facts: false
  tasks:
    - name: the agent's pid
      shell: echo $PPID
      register: agent
    - name: links planted at every backup name of the next minute
      shell: |
        now=$(date +%s)
        for i in $(seq 0 60); do
          ln -s {root}/victim "{root}/secret.{{{{ agent.stdout }}}}.$(date -d @$((now + i)) +%Y-%m-%d@%H:%M:%S)~"
        done
    - name: the new content, the old one kept
      copy:
        dest: {root}/secret
        content: "new\\n"
        backup: true
      register: copied
    - name: where the backup went
      debug:
        msg: "{{{{ copied.backup_file }}}}"
"""

# Runs as nosudo: reports every backup file it could open while it watched.
WATCHER = """
import json, os, sys, time
root, out = sys.argv[1], sys.argv[2]
seen, leaked = set(), set()
open(out + ".ready", "w").close()
deadline = time.monotonic() + 600
while time.monotonic() < deadline and not os.path.exists(out + ".stop"):
    for name in os.listdir(root):
        if name.startswith("secret.") and name.endswith("~") and not os.path.islink(os.path.join(root, name)):
            seen.add(name)
            try:
                with open(os.path.join(root, name), "rb") as handle:
                    handle.read(1)
                leaked.add(name)
            except OSError:
                pass
with open(out, "w") as handle:
    json.dump([sorted(seen), sorted(leaked)], handle)
"""


def _wait_for(lab: ITLab, path: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not lab.exists(HOST, path):
        assert time.monotonic() < deadline, f"{path} did not appear on {HOST}"
        time.sleep(0.2)


def test_backup_is_never_readable_by_others_and_no_planted_symlink_is_followed(
        lab: ITLab, tmp_path: Path) -> None:
    watch = "/tmp/fleet-backup-watch"
    lab.sh(HOST, f"rm -rf {ROOT} {watch}*; mkdir -m 0755 {ROOT} && "
                 f"head -c 64M /dev/urandom > {ROOT}/secret && chown fleet:adm {ROOT}/secret && "
                 f"chmod 0640 {ROOT}/secret && echo precious > {ROOT}/victim && chmod 0600 {ROOT}/victim")
    try:
        old_sum = lab.sh(HOST, f"md5sum < {ROOT}/secret")
        lab.container(HOST).exec_run(["python3", "-c", WATCHER, ROOT, watch], user="nosudo", detach=True)
        _wait_for(lab, f"{watch}.ready")
        play = tmp_path / "backup.yml"
        play.write_text(BACKUP_PLAY.format(host=HOST, root=ROOT))
        result = run_fleet("apply", "-i", str(lab.inventory), str(play), "--json", str(tmp_path / "r.json"))
        lab.sh(HOST, f"touch {watch}.stop")
        _wait_for(lab, watch)
        assert result.returncode == 0, output(result)
        seen, leaked = json.loads(lab.read(HOST, watch))
        assert seen and not leaked, (seen, leaked)

        results = report(tmp_path / "r.json")["hosts"][HOST]["results"]
        assert results[2]["status"] == "changed", results
        backup = results[3]["msg"]
        assert backup.endswith(".1~"), backup  # the planted link holds the name the second gave
        assert lab.sh(HOST, f"stat -c '%F %U %G %a' {backup}") == "regular file fleet adm 640\n"
        assert lab.sh(HOST, f"md5sum < {backup}") == old_sum
        assert lab.read(HOST, f"{ROOT}/victim") == "precious\n"
        assert lab.stat(HOST, f"{ROOT}/victim") == ("0600", "root", "root")
        assert lab.sh(HOST, f"find {ROOT} -name 'secret.*~' -type l | wc -l").strip() == "61"
        assert lab.read(HOST, f"{ROOT}/secret") == "new\n"
    finally:
        lab.sh(HOST, f"touch {watch}.stop; sleep 0.5; rm -rf {ROOT} {watch}*", check=False)


def _preflight(lab: ITLab, tmp_path: Path, task: str, *extra: str) -> tuple[int, str, Path]:
    play = tmp_path / "bad.yml"
    play.write_text(f"- hosts: {HOST}\n  gather_facts: false\n  tasks:\n{task}")
    result = run_fleet("apply", "-i", str(lab.inventory), str(play), *extra)
    return result.returncode, output(result), play


def test_sysctl_name_out_of_proc_sys_is_refused_before_connecting(lab: ITLab, tmp_path: Path) -> None:
    victim = "/root/fleet-sysctl-victim"
    lab.sh(HOST, f"echo precious > {victim} && chmod 0600 {victim}; rm -rf {ROOT}")
    try:
        task = (f"    - name: walks out\n      sysctl:\n        name: kernel/../../..{victim}\n"
                f"        value: '1'\n        sysctl_file: {ROOT}/s.conf\n")
        rc, text, play = _preflight(lab, tmp_path, task)
        assert rc == 1, text
        assert text.startswith(f"ERROR: {play}:4: task 'walks out': module sysctl: invalid sysctl name "
                               f"'kernel/../../..{victim}'"), text
        assert "TASK" not in text and "RECAP" not in text  # no play started, nothing connected

        templated = task.replace(f"kernel/../../..{victim}", "'{{ key }}'")
        rc, text, _ = _preflight(lab, tmp_path, templated, "-e", f"key=kernel/../../..{victim}",
                                 "--json", str(tmp_path / "r.json"))
        assert rc == 1, text
        failed = report(tmp_path / "r.json")["hosts"][HOST]["results"][0]
        assert failed["status"] == "failed" and "invalid sysctl name" in failed["msg"], failed
        assert lab.read(HOST, victim) == "precious\n" and lab.stat(HOST, victim) == ("0600", "root", "root")
        assert not lab.exists(HOST, f"{ROOT}/s.conf")
    finally:
        lab.sh(HOST, f"rm -f {victim}; rm -rf {ROOT}", check=False)


@pytest.mark.parametrize(("field", "value"), [
    ("opts", "defaults\\ntmpfs /etc tmpfs defaults 0 0"),
    ("src", "tmpfs\\t/etc"),
    ("path", "/srv/fleet-mnt\\n/dev/sda1"),
])
def test_fstab_field_with_a_line_break_or_tab_is_refused_before_connecting(
        lab: ITLab, tmp_path: Path, field: str, value: str) -> None:
    fstab = f"{ROOT}/fstab"
    lab.sh(HOST, f"rm -rf {ROOT}; mkdir -p {ROOT} && echo 'proc /proc proc defaults 0 0' > {fstab}")
    try:
        args = {"path": "/srv/fleet-mnt", "src": "tmpfs", "fstype": "tmpfs", "opts": "size=1m",
                "state": "present", "fstab": fstab, field: value}
        lines = "".join(f'        {k}: "{v}"\n' for k, v in args.items())
        rc, text, play = _preflight(lab, tmp_path, f"    - name: entry\n      mount:\n{lines}")
        assert rc == 1, text
        assert text.startswith(f"ERROR: {play}:4: task 'entry': module mount: {field} must not contain a tab, "
                               "line break or other control character"), text
        assert lab.read(HOST, fstab) == "proc /proc proc defaults 0 0\n"
    finally:
        lab.sh(HOST, f"rm -rf {ROOT}", check=False)
