"""Check mode: nothing written, would-change reported, commands skipped, --diff, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.executor.conftest import HOSTS, Site, play


def snapshot(root: Path) -> dict[str, tuple[int, int, bytes | str]]:
    """Every path under root with its mode, mtime (ns) and content (or link target)."""
    state: dict[str, tuple[int, int, bytes | str]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        body: bytes | str = str(path.readlink()) if path.is_symlink() else (
            path.read_bytes() if path.is_file() else b"")
        state[str(path.relative_to(root))] = (st.st_mode, st.st_mtime_ns, body)
    return state


TASKS = """
- name: dir
  file: path={{ root }}/etc state=directory mode=0755
- name: conf
  copy:
    dest: "{{ root }}/etc/app.conf"
    content: "port={{ port }}\\n"
    mode: "0640"
- name: line
  lineinfile: path={{ root }}/etc/extra.conf line="workers=4" create=true
- name: tpl
  template: src=motd.j2 dest={{ root }}/etc/motd
- name: link
  file: src={{ root }}/etc/app.conf dest={{ root }}/app.conf state=link
- name: gone
  file: path={{ root }}/old state=absent
- name: run
  command: touch {{ root }}/ran
- name: guarded
  command: touch {{ root }}/etc/app.conf
  args:
    creates: "{{ root }}/etc/app.conf"
- name: show
  debug: msg="check={{ ansible_check_mode }}"
"""


def _site(site: Site) -> None:
    site.group_vars = {"all": {"port": 80}}
    site.write("templates/motd.j2", "hello {{ inventory_hostname }}\n")


def test_check_on_a_fresh_tree_writes_nothing_and_reports_would_change(site: Site) -> None:
    _site(site)
    for host in HOSTS:  # what the later tasks need to exist (modules fail in check mode too)
        (site.root(host) / "etc").mkdir(parents=True)
        (site.root(host) / "etc/app.conf").write_text("old\n")
        (site.root(host) / "old").write_text("old")
    before = {h: snapshot(site.root(h)) for h in HOSTS}
    run = site.run(play(TASKS), check=True, diff=True)
    assert {h: snapshot(site.root(h)) for h in HOSTS} == before
    statuses = dict(run.statuses("h1"))
    assert statuses == {"dir": "ok", "conf": "changed", "line": "changed", "tpl": "changed",
                        "link": "changed", "gone": "changed", "run": "skipped", "guarded": "ok",
                        "show": "ok"}
    assert run.result("h1", "show").msg == "check=True"
    assert run.json["mode"] == "check"
    assert run.exit_code == 2


def test_check_after_apply_reports_nothing_and_exits_0_then_drift_gives_2_with_diff(site: Site) -> None:
    _site(site)
    apply = site.run(play(TASKS))
    assert apply.exit_code == 0 and apply.json["mode"] == "apply"
    assert site.read("h2", "etc/app.conf") == "port=80\n"
    assert site.read("h2", "etc/extra.conf") == "workers=4\n"
    quiet = site.cli("check", "-i", str(site.inventory), "site.yml", "--json", "r0.json")
    assert quiet.exit_code == 0, quiet.output  # the bare command is skipped in check: not pending
    report = json.loads((site.dir / "r0.json").read_text())
    pending = {(h, r["task"]) for h, d in report["hosts"].items() for r in d["results"] if r["changed"]}
    assert pending == set()
    assert report["summary"]["changed"] == 0


def test_check_exit_codes(site: Site) -> None:
    _site(site)
    converge = play("- copy: dest={{ root }}/f content=v1")
    site.run(converge)
    assert site.cli("check", "-i", str(site.inventory), "site.yml").exit_code == 0
    (site.root("h2") / "f").write_text("drift")
    before = snapshot(site.root("h2"))
    drift = site.cli("check", "-i", str(site.inventory), "site.yml", "--diff", "--json", "r.json")
    assert drift.exit_code == 2, drift.output
    assert "-drift" in drift.stdout and "+v1" in drift.stdout
    assert snapshot(site.root("h2")) == before
    report = json.loads((site.dir / "r.json").read_text())
    entry = report["hosts"]["h2"]["results"][0]
    assert entry["status"] == "changed" and entry["changed"] is True
    assert "drift" in json.dumps(entry["diff"]) and "v1" in json.dumps(entry["diff"])
    assert report["hosts"]["h1"]["results"][0]["status"] == "ok"
    site.playbook(play("- fail: msg=broken"))
    assert site.cli("check", "-i", str(site.inventory), "site.yml").exit_code == 1


def test_command_with_removes_or_creates_in_check(site: Site) -> None:
    site.run(play("- file: path={{ root }}/present state=touch"))
    run = site.run(play("""
        - name: would run
          command: rm {{ root }}/present
          args: {removes: "{{ root }}/present"}
        - name: would not run
          command: touch {{ root }}/present
          args: {creates: "{{ root }}/present"}
        - name: unguarded
          shell: touch {{ root }}/other
    """, hosts="h1"), check=True)
    # without creates/removes: skipped, in the words of Ansible's command module
    assert run.status("h1", "unguarded") == "skipped"
    assert run.result("h1", "unguarded").msg == "Command would have run if not in check mode"
    # as Ansible: creates/removes predict the outcome in check mode (changed or ok)
    assert run.status("h1", "would run") == "changed"
    assert run.result("h1", "would run").msg == "Command would have run if not in check mode"
    assert run.status("h1", "would not run") == "ok"
    assert run.result("h1", "would not run").msg == f"Did not run command since '{site.root('h1')}/present' exists"
    assert site.exists("h1", "present")


def test_check_mode_false_on_a_task_still_writes_nothing(site: Site) -> None:
    run = site.run(play("""
        - name: forced
          copy: dest={{ root }}/forced content=x
          check_mode: false
    """, hosts="h1"), check=True)
    assert not site.exists("h1", "forced")
    assert run.status("h1", "forced") == "changed"


def test_check_mode_true_on_one_task_of_an_apply_and_handlers_in_check(site: Site) -> None:
    run = site.run(play("""
        - name: dry
          copy: dest={{ root }}/dry content=x
          check_mode: true
          notify: h
        - name: real
          copy: dest={{ root }}/real content=x
    """, hosts="h1") + """
  handlers:
    - name: h
      copy: dest={{ root }}/handled content=x
""")
    assert run.status("h1", "dry") == "changed" and not site.exists("h1", "dry")
    assert site.exists("h1", "real") and site.exists("h1", "handled")
    checked = site.run(play("""
        - name: change
          copy: dest={{ root }}/new content=x
          notify: h
    """, hosts="h1") + """
  handlers:
    - name: h
      copy: dest={{ root }}/handled2 content=x
""", check=True)
    assert checked.status("h1", "h") == "changed"  # the handler runs, in check mode
    assert not site.exists("h1", "new") and not site.exists("h1", "handled2")
