"""The compatibility harness's logic without hosts: corpus, skip rules, result parsing,
pairing, verdicts, the state diff, the table and the summary line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "bench"))

from compat import corpus, pairing, report, runs, snapshot, sources  # noqa: E402
from compat.item import ItemResult, skip_reason  # noqa: E402
from compat.runs import ApplyResult, TaskRecord  # noqa: E402

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def rec(task: str, status: str, play: int = 0, msg: str = "") -> TaskRecord:
    return TaskRecord(play, task, "copy", status, msg)


def applied(tool: str, *records: TaskRecord, error: str = "") -> ApplyResult:
    return ApplyResult(tool, 0, 1.0, list(records), error=error)


# -- pairing ------------------------------------------------------------------------------------
def test_pairs_by_name_and_occurrence_not_position() -> None:
    ansible = [rec("Gathering Facts", "ok"), rec("r : x", "changed"), rec("r : y", "ok"), rec("r : x", "ok")]
    fleet = [rec("Gathering Facts", "ok"), rec("r : y", "ok"), rec("r : x", "changed"), rec("r : x", "changed")]
    pairs = pairing.pair(ansible, fleet)
    assert [(p.ansible.task, p.ansible.status, p.fleet.status) for p in pairs if p.ansible and p.fleet] == [
        ("Gathering Facts", "ok", "ok"), ("r : x", "changed", "changed"), ("r : y", "ok", "ok"),
        ("r : x", "ok", "changed")]
    assert [p.reproduced for p in pairs] == [True, True, True, False]


def test_fqcn_prefix_and_play_matter() -> None:
    a = [rec("r : ansible.builtin.copy", "ok"), rec("t", "ok", play=1)]
    f = [rec("r : copy", "ok"), rec("t", "ok", play=0)]
    pairs = pairing.pair(a, f)
    assert pairs[0].reproduced
    assert pairs[1].ansible is None and pairs[1].fleet.play_index == 0  # fleet's, where it ran
    assert not pairs[2].reproduced and pairs[2].fleet is None


def test_a_name_part_that_did_not_render_pairs_in_either_form() -> None:
    a = [rec("r : own item << error 1 - 'item' is undefined >> here", "ok"), rec("r : format tar", "ok")]
    f = [rec("r : own item {{ item.name }} here", "ok"), rec("r : format {{ format }}", "ok")]
    pairs = pairing.pair(a, f)
    assert pairs[0].reproduced
    assert not pairs[1].reproduced  # a name Ansible rendered must be rendered by fleet too


def test_extra_fleet_results_stay_where_they_ran() -> None:
    pairs = pairing.pair([rec("a", "ok"), rec("c", "ok")], [rec("a", "ok"), rec("b", "changed"), rec("c", "ok")])
    assert [(p.ansible and p.ansible.task, p.fleet and p.fleet.task) for p in pairs] == [
        ("a", "a"), (None, "b"), ("c", "c")]


# -- verdicts -----------------------------------------------------------------------------------
def test_pass_needs_results_state_and_idempotence() -> None:
    a = [applied("ansible", rec("x", "changed")), applied("ansible", rec("x", "ok"))]
    f = [applied("fleet", rec("x", "changed")), applied("fleet", rec("x", "ok"))]
    verdict = pairing.judge(a, f, [])
    assert (verdict.status, verdict.reproduced, verdict.ansible_total, verdict.first_error) == ("PASS", 2, 2, "")


def test_first_error_is_the_first_task_difference() -> None:
    a = [applied("ansible", rec("x", "ok"), rec("y", "changed")), applied("ansible", rec("x", "ok"), rec("y", "ok"))]
    f = [applied("fleet", rec("x", "ok"), rec("y", "failed", msg="boom\n  here")),
         applied("fleet", rec("x", "ok"), rec("y", "ok"))]
    verdict = pairing.judge(a, f, ["files /etc/z: ansible 'missing', fleet 'dir 0755 root:root'"])
    assert verdict.status == "FAIL" and (verdict.reproduced, verdict.ansible_total) == (3, 4)
    assert verdict.first_error == "apply 1, task 'y': ansible changed, fleet failed (boom here)"
    assert verdict.differences[-1].startswith("final state: files /etc/z")


def test_state_difference_alone_fails() -> None:
    a = [applied("ansible", rec("x", "ok"))] * 2
    f = [applied("fleet", rec("x", "ok"))] * 2
    verdict = pairing.judge(a, f, ["packages nginx: ansible '1.0', fleet 'missing'"])
    assert verdict.status == "FAIL" and verdict.reproduced == verdict.ansible_total == 2
    assert verdict.first_error == "final state: packages nginx: ansible '1.0', fleet 'missing'"


def test_second_apply_changing_more_than_ansible_fails() -> None:
    a = [applied("ansible", rec("x", "changed"), rec("y", "changed")),
         applied("ansible", rec("x", "changed"), rec("y", "ok"))]
    f = [applied("fleet", rec("x", "changed"), rec("y", "changed")),
         applied("fleet", rec("x", "changed"), rec("y", "changed"))]
    verdict = pairing.judge(a, f, [])
    assert verdict.status == "FAIL"
    assert verdict.differences[-1] == "second apply: fleet changed 2 tasks, ansible 1"


def test_fleet_refusal_is_the_first_error_and_reproduces_nothing() -> None:
    message = "ERROR: roles/r/tasks/main.yml:3: unknown module 'get_url'"
    a = [applied("ansible", rec("Gathering Facts", "ok"), rec("r : get", "changed"))] * 2
    f = [applied("fleet", error=message)] * 2
    verdict = pairing.judge(a, f, [])
    assert verdict.status == "FAIL" and verdict.reproduced == 0 and verdict.ansible_total == 4
    assert verdict.first_error == f"apply 1: fleet: {message}"


def test_ansible_that_never_started_is_an_error() -> None:
    a = [applied("ansible", error="ERROR! the role 'x' was not found")] * 2
    f = [applied("fleet", rec("x", "ok"))] * 2
    verdict = pairing.judge(a, f, [])
    assert verdict.status == "ERROR" and verdict.first_error == "ansible: ERROR! the role 'x' was not found"


# -- parsing the tools' results ----------------------------------------------------------------
def test_fleet_report_records() -> None:
    report_data = {"hosts": {"testhost": {"results": [
        {"play": "", "task": "Gathering Facts", "module": "setup", "status": "ok"},
        {"play": "", "task": "r : include_tasks", "module": "include_tasks", "status": "ok"},
        {"play": "", "task": "r : include_tasks", "module": "ansible.builtin.include_tasks", "status": "failed",
         "msg": "unknown lookup"},
        {"play": "", "task": "r : x", "module": "command", "status": "failed", "ignored": True, "msg": "rc 1"},
        {"play": "second", "task": "y", "module": "ansible.builtin.copy", "status": "changed"}]}}}
    records = runs.fleet_records(report_data)
    assert [(r.play_index, r.task, r.action, r.status, r.ignored) for r in records] == [
        (0, "Gathering Facts", "setup", "ok", False), (0, "r : include_tasks", "include_tasks", "failed", False),
        (0, "r : x", "command", "failed", True), (1, "y", "copy", "changed", False)]


def test_callback_lines_records() -> None:
    lines = [json.dumps({"play": "testhost", "play_index": 0, "task": "r : x", "action": "ansible.builtin.shell",
                         "host": "testhost", "status": "changed", "msg": ""}),
             json.dumps({"play": "testhost", "play_index": 0, "task": "r : inc", "action": "include_tasks",
                         "host": "testhost", "status": "ok"}),
             json.dumps({"play": "testhost", "play_index": 0, "task": "r : x", "action": "shell",
                         "host": "other", "status": "ok"}),
             json.dumps({"stats": {"testhost": {"ok": 1}}})]
    assert [(r.task, r.action, r.status) for r in runs.ansible_records(lines)] == [("r : x", "shell", "changed")]


def test_first_error_line() -> None:
    assert runs.first_error_line("PLAY\nERROR: site.yml:3: unknown module 'x'\nmore") == \
        "ERROR: site.yml:3: unknown module 'x'"
    assert runs.first_error_line("ERROR! short\nthe reason\n") == "ERROR! short the reason"
    assert runs.first_error_line("a\nlast line\n") == "last line"


# -- the state diff ----------------------------------------------------------------------------
def test_state_diff_lists_each_difference_in_section_order() -> None:
    a = {"files": {"/etc/a": "file 0644 root:root 1", "/etc/b": "dir 0755 root:root"},
         "packages": {"nginx": "1.22"}, "units": {"nginx.service": "enabled active"}, "users": {}, "groups": {}}
    f = {"files": {"/etc/a": "file 0600 root:root 1", "/etc/c": "link -> /x"},
         "packages": {"nginx": "1.22"}, "units": {"nginx.service": "disabled inactive"}, "users": {}, "groups": {}}
    assert snapshot.diff(a, f) == [
        "files /etc/a: ansible 'file 0644 root:root 1', fleet 'file 0600 root:root 1'",
        "files /etc/b: ansible 'dir 0755 root:root', fleet 'missing'",
        "files /etc/c: ansible 'missing', fleet 'link -> /x'",
        "units nginx.service: ansible 'enabled active', fleet 'disabled inactive'"]
    assert snapshot.diff(a, a) == []


def test_state_diff_ignores_the_python_apt_ansible_installs_for_itself() -> None:
    fleet_state = {"packages": {"nginx": "1.22"}}
    ansible_state = {"packages": {"nginx": "1.22", "python3-apt": "2.6.0", "lsb-release": "12.0-1"}}
    assert snapshot.diff(ansible_state, fleet_state) == []
    assert snapshot.diff(fleet_state, ansible_state) == [  # fleet installing it is the item's doing
        "packages lsb-release: ansible 'missing', fleet '12.0-1'",
        "packages python3-apt: ansible 'missing', fleet '2.6.0'"]


def test_host_script_describes_a_tree_and_ignores_noise(tmp_path: Path) -> None:
    """hostsnap.py's file walk, run here on a temporary root (its ROOTS replaced)."""
    (tmp_path / "etc" / "ssh").mkdir(parents=True)
    (tmp_path / "etc" / "app.conf").write_text("x\n")
    (tmp_path / "etc" / "app.conf.1234.2026-01-02@03:04:05~").write_text("old\n")
    (tmp_path / "etc" / "hostname").write_text("h\n")
    (tmp_path / "etc" / "ssh" / "ssh_host_ed25519_key").write_text("k\n")
    source = (REPO / "bench" / "compat" / "hostsnap.py").read_text().replace("\nmain()\n", "\n")
    source = source.replace('"/tmp", ', "")  # the test's root is under /tmp, which hosts' snapshots skip
    source = source.replace('"/etc/hostname"', f'"{tmp_path}/etc/hostname"')
    source = source.replace('"/etc/ssh/ssh_host_"', f'"{tmp_path}/etc/ssh/ssh_host_"')
    code = source + f"\nROOTS[:] = [{str(tmp_path / 'etc')!r}]\nimport json\nprint(json.dumps(files()))\n"
    found = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                      check=True).stdout)
    etc = str(tmp_path / "etc")
    assert sorted(found) == [etc, f"{etc}/app.conf", f"{etc}/app.conf.BACKUP~", f"{etc}/ssh"]
    assert found[f"{etc}/app.conf"].startswith("file 0") and found[f"{etc}/app.conf"].endswith(
        __import__("hashlib").sha256(b"x\n").hexdigest()[:16])


def test_host_script_hashes_the_hosts_own_name_as_a_placeholder(tmp_path: Path) -> None:
    """Twins have different names: a file holding the host's name (root@FQDN) compares equal."""
    import socket

    name = socket.getfqdn()
    (tmp_path / "with-name").write_text(f"sender = root@{name}\n")
    (tmp_path / "with-other").write_text("sender = root@twin-number-two\n")
    source = (REPO / "bench" / "compat" / "hostsnap.py").read_text().replace("\nmain()\n", "\n")
    code = source + (f"\nprint(_digest({str(tmp_path / 'with-name')!r}), _digest({str(tmp_path / 'with-other')!r}))\n")
    named, other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  check=True).stdout.split()
    assert named == __import__("hashlib").sha256(b"sender = root@<host>\n").hexdigest()[:16]
    assert other != named


def test_host_script_leaves_out_the_header_crontab_writes(tmp_path: Path) -> None:
    """crontab(1) heads an installed table with its temporary file's name and the time: twins'
    tables with the same entries compare equal."""
    entries = "#Ansible: t\n* * * * * date\n"
    (tmp_path / "a").write_text("# DO NOT EDIT THIS FILE - edit the master and reinstall.\n"
                                "# (/tmp/crontab.Ab12Cd installed on Tue Dec  8 04:01:02 2026)\n"
                                "# (Cron version -- $Id: crontab.c,v 2.13 1994/01/17 03:20:37 vixie Exp $)\n"
                                + entries)
    (tmp_path / "b").write_text("# DO NOT EDIT THIS FILE - edit the master and reinstall.\n"
                                "# (/tmp/tmpx9 installed on Tue Dec  8 04:03:59 2026)\n"
                                "# (Cron version -- $Id: crontab.c,v 2.13 1994/01/17 03:20:37 vixie Exp $)\n"
                                + entries)
    (tmp_path / "c").write_text(entries.replace("date", "true"))
    source = (REPO / "bench" / "compat" / "hostsnap.py").read_text().replace("\nmain()\n", "\n")
    code = source + "".join(f"\nprint(_digest({str(tmp_path / n)!r}))" for n in "abc") + "\n"
    a, b, c = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert a == b == __import__("hashlib").sha256(entries.encode()).hexdigest()[:16]
    assert c != a


# -- corpus and skip rules ---------------------------------------------------------------------
def _corpus(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "corpus.toml"
    path.write_text(body)
    return path


def test_corpus_loads_and_selects(tmp_path: Path) -> None:
    path = _corpus(tmp_path, f'''
[[item]]
name = "file"
repo = "ansible/ansible"
commit = "{COMMIT}"
path = "test/integration/targets/file"
kind = "target"
ansible = "2.18"

[[item]]
name = "ns.role"
repo = "someone/collection"
commit = "{COMMIT}"
path = "roles/role"
kind = "role"
ansible = "current"
collection = "ns.coll"
vars = {{ a = 1 }}
''')
    items = corpus.load(path)
    assert [(i.name, i.role_name, i.roles_root) for i in items] == [
        ("file", "file", "test/integration/targets"), ("ns.role", "ns.role", "")]
    assert items[1].vars == {"a": 1} and items[1].collection == "ns.coll"
    assert [i.name for i in corpus.select(items, kind="role")] == ["ns.role"]
    with pytest.raises(corpus.CorpusError, match="not in the corpus: nope"):
        corpus.select(items, ["nope"])


@pytest.mark.parametrize(("field", "value", "message"), [
    ("commit", '"abc"', "not 40 lowercase hex"), ("kind", '"playbook"', "kind 'playbook'"),
    ("ansible", '"2.9"', "ansible '2.9'"), ("path", '"../x"', "leaves the repository"),
    ("colour", '"red"', "unknown field"), ("repo", '"noslash"', "not owner/name")])
def test_corpus_refuses_bad_items(tmp_path: Path, field: str, value: str, message: str) -> None:
    fields = {"name": '"x"', "repo": '"a/b"', "commit": f'"{COMMIT}"', "path": '"t/x"', "kind": '"target"',
              "ansible": '"2.18"', field: value}
    path = _corpus(tmp_path, "[[item]]\n" + "\n".join(f"{k} = {v}" for k, v in fields.items()))
    with pytest.raises(corpus.CorpusError, match=message):
        corpus.load(path)


def test_the_repository_corpus_loads() -> None:
    items = corpus.load(REPO / "bench" / "compat" / "corpus.toml")
    assert sum(i.kind == "role" for i in items) >= 15
    assert {i.ansible for i in items if i.repo == "ansible/ansible"} == {"2.18"}


def test_skip_reasons(tmp_path: Path) -> None:
    item = corpus.Item("t", "a/b", COMMIT, "targets/t", "target", "2.18")
    target = tmp_path / "t"
    (target / "tasks").mkdir(parents=True)
    (target / "tasks" / "main.yml").write_text("- ping:\n")
    (target / "aliases").write_text("shippable/posix/group1\ndestructive\nskip/macos\n")
    assert skip_reason(item, target) is None
    (target / "aliases").write_text("needs/root\nskip/docker  # no containers\n")
    assert skip_reason(item, target) == "alias skip/docker"
    (target / "aliases").write_text("needs/root\n")
    (target / "runme.sh").write_text("#!/bin/sh\n")
    assert skip_reason(item, target).startswith("runme.sh target")
    assert skip_reason(corpus.Item("t", "a/b", COMMIT, "targets/t", "target", "2.18", as_role=True), target) is None


def test_mirror_lookup(tmp_path: Path) -> None:
    bare = tmp_path / "owner+name" / "repo"
    (bare / "objects").mkdir(parents=True)
    (bare / "HEAD").write_text("ref: refs/heads/main\n")
    assert sources.mirror_git_dir(tmp_path, "owner/name") == bare
    assert sources.mirror_git_dir(tmp_path, "other/name") is None


# -- report ------------------------------------------------------------------------------------
def test_table_row_and_summary() -> None:
    item = corpus.Item("r", "a/b", COMMIT, "", "role", "current")
    passed = ItemResult(item, "PASS", "", 4, 4,
                        [applied("ansible", rec("x", "changed"), rec("y", "ok")), applied("ansible", rec("x", "ok"), rec("y", "ok"))],
                        [applied("fleet", rec("x", "changed"), rec("y", "ok")), applied("fleet", rec("x", "ok"), rec("y", "ok"))])
    failed = ItemResult(item, "FAIL", "apply 1: fleet: ERROR: x | y", 0, 6)
    skipped = ItemResult(item, "SKIP", "alias skip/docker")
    assert report.row(passed) == ("r", "role", "PASS", "1/1/0/0 / 1/1/0/0", "2/0/0/0 / 2/0/0/0", "4/4", "")
    assert report.row(skipped)[5] == ""
    assert report.summary([passed, failed, skipped]) == (
        "1 of 3 items PASS (1 FAIL, 0 ERROR, 1 SKIP); Ansible task results reproduced: 4 / 10 (40.0 %)")
    markdown = report.markdown([passed, failed])
    assert "| r | role | FAIL |  |  | 0/6 | apply 1: fleet: ERROR: x \\| y |" in markdown
    assert markdown.rstrip().endswith("**Summary: 1 of 2 items PASS (1 FAIL, 0 ERROR, 0 SKIP); "
                                      "Ansible task results reproduced: 4 / 10 (40.0 %)**")


def test_json_round_trip(tmp_path: Path) -> None:
    item = corpus.Item("r", "a/b", COMMIT, "", "role", "current")
    result = ItemResult(item, "FAIL", "apply 1, task 'x': ansible ok, fleet changed", 1, 2,
                        [applied("ansible", rec("x", "ok"), rec("y", "ok"))],
                        [applied("fleet", rec("x", "changed"), rec("y", "ok"))], ["d"], 3.0)
    report.write_json([result], tmp_path / "r.json")
    loaded = report.load_json(tmp_path / "r.json")
    assert report.markdown(loaded) == report.markdown([result])


def test_merge_keeps_the_newest_result_of_an_item_in_the_first_order() -> None:
    def result(name: str, status: str) -> ItemResult:
        return ItemResult(corpus.Item(name, "a/b", COMMIT, "", "role", "current"), status)

    merged = report.merge([[result("a", "FAIL"), result("b", "FAIL")], [result("c", "PASS"), result("a", "PASS")]])
    assert [(r.item.name, r.status) for r in merged] == [("a", "PASS"), ("b", "FAIL"), ("c", "PASS")]


def test_each_tool_gets_its_own_copy_of_the_roles(tmp_path: Path) -> None:
    """A task delegated to localhost writes into its role's files; the tools run at once, so
    neither may see the other's writes, nor write into the source cache."""
    from compat import workspace
    from compat.twins import Host

    targets = tmp_path / "src" / "targets"
    (targets / "t" / "tasks").mkdir(parents=True)
    (targets / "t" / "tasks" / "main.yml").write_text("- ping:\n")
    (targets / "setup_x" / "tasks").mkdir(parents=True)
    item = corpus.Item("t", "a/b", COMMIT, "targets/t", "target", "2.18")
    host = Host("127.0.0.1", "c", "root", "/k", "")
    ws = workspace.prepare(item, tmp_path / "src", targets / "t", tmp_path / "work", host, host)
    assert ws.fleet_playbook is not None and ws.fleet_playbook != ws.playbook
    ours, theirs = ws.playbook.parent / "roles", ws.fleet_playbook.parent / "roles"
    for roles in (ours, theirs):
        assert not roles.is_symlink() and (roles / "setup_x").is_dir()
    (ours / "t" / "files").mkdir()
    assert not (theirs / "t" / "files").exists() and not (targets / "t" / "files").exists()
