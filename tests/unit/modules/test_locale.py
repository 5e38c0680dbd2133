"""locale (also ``locale_gen``): /etc/locale.gen edits on a temp file, ``locale -a`` name
normalisation, and whole runs through fake ``locale``/``locale-gen`` commands."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import load_module, run_module
from .fakes import LOCALE, install

mod = load_module("locale")

LOCALE_GEN = """\
# This file lists locales that you wish to have built.
# de_DE ISO-8859-1
# de_DE.UTF-8 UTF-8
# de_DE@euro ISO-8859-15
# en_GB.UTF-8 UTF-8
en_US.UTF-8 UTF-8
# fr_FR.UTF-8 UTF-8
"""


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fake = install(monkeypatch, tmp_path, {"locale": LOCALE, "locale-gen": LOCALE},
                   {"generated": ["en_US.utf8"]})
    (tmp_path / "locale.gen").write_text(LOCALE_GEN)
    monkeypatch.setenv("FAKE_LOCALE_GEN", str(tmp_path / "locale.gen"))
    return fake


def args(tmp_path: Path, **kw) -> dict:
    return {"locale_gen_file": str(tmp_path / "locale.gen"), **kw}


def gen_runs(host) -> int:
    return sum(1 for call in host.calls() if call[0] == "locale-gen")


@pytest.mark.parametrize(("name", "normal"), [
    ("en_US.UTF-8", "en_US.utf8"), ("en_US.utf8", "en_US.utf8"), ("de_DE@euro", "de_DE@euro"),
    ("en_US.ISO-8859-15", "en_US.iso885915"), ("ja_JP.EUC-JP", "ja_JP.eucjp"), ("C", "C"),
    ("sr_RS.UTF-8@latin", "sr_RS.utf8@latin"),
])
def test_normalise_like_glibc(name: str, normal: str) -> None:
    assert mod.normalise(name) == normal


def test_edit_uncomments_and_comments_only_the_named_lines() -> None:
    enabled = mod.edit(LOCALE_GEN, ["de_DE.UTF-8", "de_DE"], True)
    assert "\nde_DE.UTF-8 UTF-8\n" in enabled and "\nde_DE ISO-8859-1\n" in enabled
    assert "# de_DE@euro ISO-8859-15\n" in enabled  # a prefix of another name is not a match
    disabled = mod.edit(LOCALE_GEN, ["en_US.UTF-8"], False)
    assert "\n# en_US.UTF-8 UTF-8\n" in disabled
    assert mod.edit(disabled, ["en_US.UTF-8"], False) == disabled


def test_present_uncomments_and_generates_then_reapply_is_ok(host, tmp_path) -> None:
    host.clear()
    check = run_module("locale", args(tmp_path, name="de_DE.UTF-8"), check=True, diff=True)
    assert check["status"] == "changed" and gen_runs(host) == 0
    assert (tmp_path / "locale.gen").read_text() == LOCALE_GEN
    assert "+de_DE.UTF-8 UTF-8\n" in check["diff"]["unified"]["locale_gen"]
    first = run_module("locale", args(tmp_path, name="de_DE.UTF-8"))
    assert first["status"] == "changed" and gen_runs(host) == 1
    assert first["diff"]["before"]["present"] == [] and first["diff"]["after"]["present"] == ["de_DE.UTF-8"]
    assert "\nde_DE.UTF-8 UTF-8\n" in (tmp_path / "locale.gen").read_text()
    assert sorted(host.state["generated"]) == ["de_DE.utf8", "en_US.utf8"]
    assert first["data"] == {"name": ["de_DE.UTF-8"], "state": "present", "present": ["de_DE.UTF-8"]}
    again = run_module("locale", args(tmp_path, name="de_DE.UTF-8"))
    assert again["status"] == "ok" and gen_runs(host) == 1


def test_a_list_of_locales_is_one_locale_gen_run(host, tmp_path) -> None:
    result = run_module("locale", args(tmp_path, name=["fr_FR.UTF-8", "de_DE@euro", "en_US.UTF-8"]))
    assert result["status"] == "changed" and gen_runs(host) == 1
    assert sorted(host.state["generated"]) == ["de_DE@euro", "en_US.utf8", "fr_FR.utf8"]


def test_already_present_and_enabled_is_ok(host, tmp_path) -> None:
    result = run_module("locale", args(tmp_path, name="en_US.UTF-8"))
    assert result["status"] == "ok" and gen_runs(host) == 0


def test_compiled_but_commented_gets_its_line_without_locale_gen(host, tmp_path) -> None:
    host.state = {"generated": ["en_US.utf8", "en_GB.utf8"]}
    result = run_module("locale", args(tmp_path, name="en_GB.UTF-8"))
    assert result["status"] == "changed" and result["diff"]["fields"] == ["locale_gen"]
    assert gen_runs(host) == 0 and "\nen_GB.UTF-8 UTF-8\n" in (tmp_path / "locale.gen").read_text()


def test_absent_comments_out_and_regenerates(host, tmp_path) -> None:
    result = run_module("locale", args(tmp_path, name="en_US.UTF-8", state="absent"))
    assert result["status"] == "changed" and gen_runs(host) == 1
    assert host.state["generated"] == []
    assert "\n# en_US.UTF-8 UTF-8\n" in (tmp_path / "locale.gen").read_text()
    assert run_module("locale", args(tmp_path, name="en_US.UTF-8", state="absent"))["status"] == "ok"


def test_unknown_locale_fails_like_ansible(host, tmp_path) -> None:
    result = run_module("locale", args(tmp_path, name="xx_YY.UTF-8"), check=True)
    assert result["status"] == "failed"
    assert result["msg"] == ("The following locales you've entered are not available on your "
                             "system: xx_YY.UTF-8")


def test_builtin_locale_cannot_be_removed(host, tmp_path) -> None:
    result = run_module("locale", args(tmp_path, name="C.UTF-8", state="absent"))
    assert result["status"] == "failed" and "built into the C library" in result["msg"]


def test_without_the_locales_package(host, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}/usr/bin:/bin")
    (tmp_path / "bin" / "locale-gen").unlink()
    (tmp_path / "locale.gen").unlink()
    builtin = run_module("locale", args(tmp_path, name="C.UTF-8"))
    assert builtin["status"] == "ok"  # nothing to do: no package needed
    for check in (True, False):
        missing = run_module("locale", args(tmp_path, name="de_DE.UTF-8"), check=check)
        assert missing["status"] == "failed"
        assert "locale.gen is missing: install the locales package" in missing["msg"]


def test_locale_gen_command_missing_names_the_package(host, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}/usr/bin:/bin")
    (tmp_path / "bin" / "locale-gen").unlink()
    result = run_module("locale", args(tmp_path, name="de_DE.UTF-8"))
    assert result["status"] == "failed"
    assert result["msg"].startswith("locale-gen is not installed: install the locales package")
    assert (tmp_path / "locale.gen").read_text() == LOCALE_GEN  # nothing half done


def test_registry_serves_locale_gen() -> None:
    from fleet.registry import ModuleRegistry

    spec = ModuleRegistry(use_entry_points=False).find("community.general.locale_gen")
    assert spec is not None and spec.path.name == "locale.py"
