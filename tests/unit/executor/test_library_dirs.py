"""Ansible's modules from ansible.cfg's ``library`` (ANSIBLE_LIBRARY) and their ``module_utils``
(ANSIBLE_MODULE_UTILS) run through the bridge, as ansible-playbook finds them there."""

from __future__ import annotations

import sys
from pathlib import Path

from fleet import api
from fleet.executor.options import RunOptions

MODULE = '''#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.fleet_cfg_words import shout


def main():
    module = AnsibleModule(argument_spec={"word": {"type": "str", "required": True}})
    module.exit_json(changed=False, said=shout(module.params["word"]))


if __name__ == "__main__":
    main()
'''


def test_a_module_from_the_configured_library(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "fleet_cfg_mod.py").write_text(MODULE)
    (tmp_path / "utils").mkdir()
    (tmp_path / "utils" / "fleet_cfg_words.py").write_text("def shout(word):\n    return word.upper() + '!'\n")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "hosts").write_text(f"h1 ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    (tmp_path / "site" / "site.yml").write_text(
        "- hosts: h1\n  gather_facts: false\n  tasks:\n"
        "    - fleet_cfg_mod: {word: hi}\n      register: r\n"
        f"    - copy: {{dest: '{tmp_path}/out.txt', content: '{{{{ r.said }}}}'}}\n")
    options = RunOptions(persist=0, library_dirs=[str(tmp_path / "lib")], module_utils_dirs=[str(tmp_path / "utils")])
    report = api.apply(tmp_path / "site" / "site.yml", [str(tmp_path / "site" / "hosts")], options)
    assert report.exit_code() == 0, [(r.task, r.msg) for h in report.hosts.values() for r in h.results]
    assert (tmp_path / "out.txt").read_text() == "HI!"
