"""``add_host`` over the loopback sshd (issue 15): a host the playbook adds, with its connection
variables (``ansible_host``, ``ansible_port``, ``ansible_user``, key and ssh options), is reached
over ssh by a later play; one whose ``ansible_port`` came from a host's reply is refused."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import fleet
from tests.e2e.conftest import Lab


def test_an_added_host_is_reached_with_its_connection_variables(lab: Lab, tmp_path: Path) -> None:
    root = lab.workdir / "hosts" / "newbox"
    root.mkdir(parents=True)
    connection = {**lab.sshd.host_vars(), "root": str(root)}
    play = [
        {"hosts": "h1", "gather_facts": False, "tasks": [
            {"name": "add", "add_host": {"name": "newbox", "groups": "fresh", **connection}},
            {"name": "port reply", "command": f"echo {connection['ansible_port']}", "register": "reply"},
            {"name": "from reply", "add_host": {"name": "other", "groups": "fresh",
                                                 "ansible_port": "{{ reply.stdout }}"},
             "ignore_errors": True}]},
        {"hosts": "fresh", "gather_facts": False, "tasks": [
            {"name": "write", "copy": {"content": "{{ inventory_hostname }} {{ group_names }}\n",
                                       "dest": "{{ root }}/written"}}]},
    ]
    playbook = lab.workdir / "site.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False))
    done = fleet("apply", "-i", str(lab.inventory), str(playbook), "--json", str(tmp_path / "r.json"), timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (root / "written").read_text() == "newbox ['fresh']\n"
    report = json.loads((tmp_path / "r.json").read_text())
    refused = next(r for r in report["hosts"]["h1"]["results"] if r["task"] == "from reply")
    assert refused["status"] == "failed" and "ansible_port comes from data a host sent" in refused["msg"]
    assert "other" not in report["hosts"]
