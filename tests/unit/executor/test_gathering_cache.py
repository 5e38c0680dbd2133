"""debug verbosity, ansible.cfg's gathering policy and the jsonfile fact cache (Ansible's format)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fleet.executor.factcache import FactCache
from tests.unit.executor.conftest import Site, play

GATHER = "Gathering Facts"


def test_debug_below_its_verbosity_is_skipped(site: Site) -> None:
    text = play("""
        - name: loud
          debug: {msg: hi, verbosity: 2}
          register: r
        - name: show
          debug: var=r
    """, hosts="h1")
    quiet = site.run(text)
    assert quiet.status("h1", "loud") == "skipped"
    assert quiet.result("h1", "show").data["r"]["skipped_reason"] == "Verbosity threshold not met."  # Ansible's
    assert "skip_reason" not in quiet.result("h1", "show").data["r"]
    assert site.run(text, verbosity=2).result("h1", "loud").msg == "hi"


def _book(gather: str = "") -> str:
    return f"- hosts: h1\n{gather}  tasks:\n    - name: show\n      debug: msg={{{{ ansible_facts.system | default('none') }}}}\n"


def test_gathering_policies(site: Site) -> None:
    def gathered(text: str, **options: object) -> bool:
        return GATHER in site.run(text, **options).tasks("h1")

    assert gathered(_book()) and gathered(_book(), gathering="smart")
    assert not gathered(_book(), gathering="explicit")
    assert gathered(_book("  gather_facts: true\n"), gathering="explicit")
    assert not gathered(_book("  gather_facts: false\n"))
    two_plays = _book() + _book()
    run = site.run(two_plays, gathering="smart")  # smart: once per host and run
    assert run.tasks("h1").count(GATHER) == 1


def test_jsonfile_cache_round_trip(site: Site, tmp_path: Path) -> None:
    cache = FactCache(tmp_path / "cache", timeout=3600)
    text = _book("  gather_subset: [min]\n") + "    - set_fact: {mine: 42, cacheable: true}\n"
    first = site.run(text, gathering="smart", fact_cache=cache)
    assert GATHER in first.tasks("h1")
    plain, schema = tmp_path / "cache/h1", tmp_path / "cache/s1_h1"
    assert oct(plain.stat().st_mode & 0o777) == "0o600" and oct(schema.stat().st_mode & 0o777) == "0o600"
    data = json.loads(plain.read_text())
    assert data["_ansible_facts_gathered"] is True and data["mine"] == 42 and data["ansible_system"] == "Linux"
    assert json.loads(json.loads(schema.read_text())["__payload__"])["mine"] == 42
    later = site.run(_book() + "    - name: mine\n      debug: var=mine\n", gathering="smart", fact_cache=cache)
    assert GATHER not in later.tasks("h1")  # smart: the cache says the facts are there
    assert later.result("h1", "show").msg == "Linux" and later.result("h1", "mine").data["mine"] == 42
    os.utime(plain, (0, 0))
    os.utime(schema, (0, 0))  # older than the timeout: ignored
    assert GATHER in site.run(_book(), gathering="smart", fact_cache=cache).tasks("h1")


def test_ansible_reads_fleets_cache_and_fleet_reads_ansibles(site: Site, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    site.run(_book("  gather_subset: [min]\n") + "    - set_fact: {mine: 7, cacheable: true}\n",
             fact_cache=FactCache(cache_dir))
    book = tmp_path / "read.yml"
    book.write_text("- hosts: h1\n  gather_facts: false\n  tasks:\n    - debug: msg=\"{{ mine }}-{{ ansible_system }}\"\n"
                    "    - set_fact: {theirs: 9, cacheable: true}\n")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "ANSIBLE_CACHE_PLUGIN": "jsonfile",
           "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(cache_dir), "ANSIBLE_GATHERING": "smart"}
    out = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", "h1,", "-c", "local",
                          "-e", f"ansible_python_interpreter={sys.executable}", str(book)],
                         capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert '"msg": "7-Linux"' in out.stdout
    run = site.run(_book() + "    - name: theirs\n      debug: var=theirs\n", gathering="smart",
                   fact_cache=FactCache(cache_dir))
    assert run.result("h1", "theirs").data["theirs"] == 9 and GATHER not in run.tasks("h1")
