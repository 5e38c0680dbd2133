"""``fleet modules NAME`` for modules only Ansible has (issue 19): what it shows is what
``ansible-doc -j NAME`` (the venv's ansible-core) documents for the same module; without
ansible-core it says how to get them; the list ends with how many Ansible's code provides."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fleet, require

MODULES = ["getent", "community.general.ini_file", "ansible.posix.acl", "ansible.builtin.apt_repository"]
HIDE = ("import sys\n"
        "class _Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'ansible' or name.startswith(('ansible.', 'ansible_collections')):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}')\n"
        "sys.meta_path.insert(0, _Hide())\n")


@pytest.fixture(scope="module")
def ansible_doc() -> Path:
    require(importlib.util.find_spec("ansible_collections.community.general") is not None,
            "the 'ansible' package (ansible-core and collections) is not installed (pip install '.[test]')")
    return Path(sys.executable).with_name("ansible-doc")


def _ansible_doc(tool: Path, name: str, tmp_path: Path) -> dict[str, Any]:
    done = subprocess.run([str(tool), "-j", name], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return next(iter(json.loads(done.stdout).values()))["doc"]


def _first_line(text: Any) -> str:
    return " ".join(str((text[0] if text else "") if isinstance(text, list) else text or "").split())


@pytest.mark.parametrize("name", MODULES)
def test_json_shows_what_ansible_doc_documents(ansible_doc: Path, tmp_path: Path, name: str) -> None:
    expected = _ansible_doc(ansible_doc, name, tmp_path)
    done = fleet("modules", name, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["path"] == expected["filename"] and shown["source"] == "ansible"
    assert shown["name"].endswith("." + name.rsplit(".", 1)[-1]) and shown["name"].count(".") == 2
    assert shown["doc"] == _first_line(expected["short_description"])
    support = expected.get("attributes", {}).get("check_mode", {}).get("support", "unknown")
    assert shown["check_mode"] == support
    params = shown["parameters"]
    options = expected["options"]
    assert set(params["properties"]) == set(options)
    assert set(params.get("required", [])) == {k for k, o in options.items() if o.get("required")}
    for key, option in options.items():
        prop = params["properties"][key]
        assert prop["ansible_type"] == option.get("type", "str"), key
        assert prop["description"] == _first_line(option.get("description")), key
        assert prop.get("default") == option.get("default"), key
        assert prop.get("enum") == (list(option["choices"]) if option.get("choices") is not None else None), key
        assert prop.get("aliases", []) == list(option.get("aliases", [])), key


def test_text_names_the_module_its_check_mode_and_each_option(ansible_doc: Path, tmp_path: Path) -> None:
    expected = _ansible_doc(ansible_doc, "community.general.ini_file", tmp_path)
    done = fleet("modules", "community.general.ini_file", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"community.general.ini_file — {expected['filename']}"
    assert f"check mode: {expected['attributes']['check_mode']['support']}" in lines
    assert _first_line(expected["short_description"]) in lines
    for key, option in expected["options"].items():
        row = next(line for line in lines if line.startswith(f"  {key} ("))
        assert f"({option.get('type', 'str')})" in row
        if option.get("required"):
            assert "required" in row
        for choice in option.get("choices") or ():
            assert str(choice) in row


def test_an_unknown_name_suggests_close_ones_over_fleet_and_ansible(ansible_doc: Path, tmp_path: Path) -> None:
    done = fleet("modules", "community.general.ini_fiel", cwd=tmp_path)
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1 and "community.general.ini_file" in errors[0], done.stderr


def test_the_list_ends_with_how_many_modules_ansible_provides(ansible_doc: Path, tmp_path: Path) -> None:
    done = fleet("modules", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("Ansible's modules: ")
    count = int(last.split()[2])
    listed = subprocess.run([str(ansible_doc), "-l", "-j", "ansible.builtin"], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    builtin = len(json.loads(listed.stdout))
    general = importlib.util.find_spec("ansible_collections.community.general.plugins.modules")
    assert general is not None and general.submodule_search_locations
    ours = sum(1 for folder in general.submodule_search_locations for p in Path(folder).rglob("*.py")
               if p.stem != "__init__")
    assert count >= builtin + ours


def test_without_ansible_core_it_says_how_to_install_it(tmp_path: Path) -> None:
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(HIDE)
    env = {"PYTHONPATH": str(hide)}
    done = fleet("modules", "getent", cwd=tmp_path, env=env)
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
    assert done.returncode != 0 and len(errors) == 1, done.stdout + done.stderr
    assert "getent" in errors[0] and "pip install 'fleet[ansible]'" in errors[0]
    listing = fleet("modules", cwd=tmp_path, env=env)
    assert listing.returncode == 0, listing.stderr
    assert "pip install 'fleet[ansible]'" in listing.stdout.strip().splitlines()[-1]
    native = fleet("modules", "copy", cwd=tmp_path, env=env)  # fleet's own modules as before
    assert native.returncode == 0 and native.stdout.startswith("copy")


def test_a_module_fleet_refuses_is_documented_with_why(ansible_doc: Path, tmp_path: Path) -> None:
    expected = _ansible_doc(ansible_doc, "ansible.posix.synchronize", tmp_path)
    done = fleet("modules", "ansible.posix.synchronize", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert set(shown["parameters"]["properties"]) == set(expected["options"])
    assert "action plugin ansible.posix.synchronize" in shown["refused"]
    text = fleet("modules", "ansible.posix.synchronize", cwd=tmp_path).stdout.splitlines()
    assert text[1].startswith("fleet does not run it:") and "action plugin" in text[1]
