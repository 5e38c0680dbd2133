"""A file name a task run on the controller returned may name a controller file; one a remote
host sent may not (fleet/templating/unsafe.py). Ansible's copy target does exactly the first:
``mktemp -d`` delegated to localhost, then ``copy: src=<that dir>/foo.txt`` to the host."""

from __future__ import annotations

import json

from tests.conftest import fleet
from tests.e2e.conftest import Lab

PLAYBOOK = """
- hosts: h1
  gather_facts: false
  tasks:
    - name: a directory on the controller
      shell: mktemp -d {out}/tmp.XXXXXX
      register: local_tmp
      delegate_to: localhost
    - name: a file in it
      copy: {{content: "from the controller\\n", dest: "{{{{ local_tmp.stdout }}}}/foo.txt"}}
      delegate_to: localhost
    - name: copied from the controller's path
      copy: {{src: "{{{{ local_tmp.stdout }}}}/foo.txt", dest: "{{{{ root }}}}/fleet-copied"}}
    - name: a path the remote host names
      shell: echo {out}/secret.txt
      register: remote_path
      changed_when: false
    - name: copied from the host's path
      copy: {{src: "{{{{ remote_path.stdout }}}}", dest: "{{{{ root }}}}/fleet-stolen"}}
      ignore_errors: true
    - name: a path mixing both
      copy: {{src: "{{{{ local_tmp.stdout }}}}/{{{{ remote_path.stdout | basename }}}}", dest: "{{{{ root }}}}/fleet-mixed"}}
      ignore_errors: true
"""


def test_controller_results_may_name_files_remote_ones_may_not(lab: Lab) -> None:
    out = lab.workdir / "out"
    out.mkdir()
    (out / "secret.txt").write_text("controller secret\n")
    lab.roots["h1"].mkdir(parents=True, exist_ok=True)
    playbook = lab.workdir / "play" / "site.yml"  # out/ is outside the playbook's folder
    playbook.parent.mkdir()
    playbook.write_text(PLAYBOOK.format(out=out))
    report = lab.workdir / "report.json"
    done = fleet("apply", "-i", str(lab.inventory), str(playbook), "--json", str(report), cwd=lab.workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    results = {r["task"]: r for r in json.loads(report.read_text())["hosts"]["h1"]["results"]}
    assert results["copied from the controller's path"]["status"] == "changed"
    assert (lab.roots["h1"] / "fleet-copied").read_text() == "from the controller\n"
    for task in ("copied from the host's path", "a path mixing both"):
        assert results[task]["status"] == "failed", (task, results[task])
        assert "computed from data a host sent" in results[task]["msg"], results[task]
    assert not (lab.roots["h1"] / "fleet-stolen").exists()
    assert not (lab.roots["h1"] / "fleet-mixed").exists()
