"""The package module: manager detection, dnf and apk parsers and command plans, and whole runs
on fake toolchains; its apt path must build exactly the apt module's apt-get command."""

from __future__ import annotations

import json
import os
import sys

import pytest

from fleet.agent import runner

from .apt_fakes import FakeApt
from .conftest import controller_params, load_module


def fresh(data):
    """A deep copy of JSON-like test data (tests change their fake host's state)."""
    return json.loads(json.dumps(data))


package = load_module("package")
apt = load_module("apt")


def test_manager_detection_prefers_apt_then_dnf_then_apk() -> None:
    def only(*paths):
        return lambda path: path in paths

    assert package.detect_manager(only("/usr/bin/apt-get", "/usr/bin/dnf")) == "apt"
    assert package.detect_manager(only("/usr/bin/dnf")) == "dnf"
    assert package.detect_manager(only("/sbin/apk")) == "apk"
    assert package.detect_manager(only("/usr/bin/yum")) is None
    assert package.detect_manager(os.path.exists) in ("apt", "dnf", "apk", None)  # the real host


def test_states_as_each_manager_module_takes_them() -> None:
    assert package.backend_state("dnf", "installed") == "present"
    assert package.backend_state("apk", "removed") == "absent"
    assert package.backend_state("apt", "latest") == "latest"
    with pytest.raises(package.ModuleFailure, match="got: installed"):
        package.backend_state("apt", "installed")


def test_names() -> None:
    assert package.parse_names("tree, less,tree") == ["tree", "less"]
    assert package.parse_names(["nginx-1.20.1", "vim"]) == ["nginx-1.20.1", "vim"]
    with pytest.raises(package.ModuleFailure, match="invalid package name"):
        package.parse_names(["--nogpgcheck"])
    with pytest.raises(package.ModuleFailure, match="at least one"):
        package.parse_names([" "])


def test_state_defaults_to_present_as_ansible_runs_it() -> None:
    """Ansible documents ``state`` as required, but its package action hands the task to apt,
    whose default is present: ``package: name=bash`` is ``ok`` there (checked with
    ansible-playbook 2.19 on Debian)."""
    assert controller_params("package", {"name": "tree"})["state"] == "present"
    with pytest.raises(Exception, match="use"):
        controller_params("package", {"name": "tree", "state": "present", "use": "yum"})


# -- dnf -------------------------------------------------------------------------------

RPM_Q = """bash-5.2.26-3.fc40.x86_64
package tree is not installed
vim-enhanced-9.1.393-1.fc40.x86_64
package nginx-1.20.1 is not installed
"""

CHECK_UPDATE = """
bash.x86_64                          5.2.26-4.fc40                       updates
vim-enhanced.x86_64                  2:9.1.452-1.fc40                    updates
Obsoleting Packages
grub2-tools.x86_64                   1:2.06-121.fc40                     updates
    grub2-tools.x86_64               1:2.06-120.fc40                     @updates
"""


def test_rpm_q_and_check_update_output() -> None:
    names = ["bash", "tree", "vim-enhanced", "nginx-1.20.1"]
    assert package.parse_rpm_q(RPM_Q, names) == {"bash", "vim-enhanced"}
    assert package.parse_dnf_check_update(CHECK_UPDATE) == {"bash", "vim-enhanced"}
    assert package.parse_dnf_check_update("") == set()


def test_dnf_plans() -> None:
    names = ["bash", "tree", "vim"]
    installed, outdated = {"bash", "vim"}, {"bash"}
    assert package.dnf_plan("present", names, installed, outdated) == [["dnf", "-y", "install", "tree"]]
    assert package.dnf_plan("latest", names, installed, outdated) == [
        ["dnf", "-y", "install", "tree"], ["dnf", "-y", "upgrade", "bash"]]
    assert package.dnf_plan("latest", ["bash"], installed, {"*"}) == [["dnf", "-y", "upgrade", "bash"]]
    assert package.dnf_plan("absent", names, installed, outdated) == [["dnf", "-y", "remove", "bash", "vim"]]
    assert package.dnf_plan("present", ["bash"], installed, outdated) == []
    assert package.dnf_plan("absent", ["tree"], installed, outdated) == []


# -- apk -------------------------------------------------------------------------------

APK_VERSION = """Installed:                                Available:
busybox-1.36.1-r2                       < 1.36.1-r5
py3-setuptools-70.3.0-r0                < 70.3.0-r1
musl-1.2.5-r0                           = 1.2.5-r0
"""


def test_apk_version_output() -> None:
    assert package.parse_apk_version(APK_VERSION) == {"busybox", "py3-setuptools"}


def test_apk_plans() -> None:
    names = ["busybox", "curl", "musl"]
    installed, outdated = {"busybox", "musl"}, {"busybox"}
    assert package.apk_plan("present", names, installed, outdated) == [["apk", "add", "curl"]]
    assert package.apk_plan("latest", names, installed, outdated) == [
        ["apk", "add", "--upgrade", "busybox", "curl"]]
    assert package.apk_plan("absent", names, installed, outdated) == [
        ["apk", "del", "--purge", "busybox", "musl"]]
    assert package.apk_plan("latest", ["musl"], installed, outdated) == []


# -- whole runs: dnf and apk on a fake toolchain ---------------------------------------

FAKE = r'''
import json, os, sys
STATE, LOG = os.environ["FAKE_PKG_STATE"], os.environ["FAKE_PKG_LOG"]
tool, argv = os.path.basename(sys.argv[0]), sys.argv[1:]
with open(LOG, "a") as log:
    log.write(json.dumps([tool] + argv) + "\n")
with open(STATE) as f:
    state = json.load(f)
inst, upd = state["installed"], state["updates"]
names = [a for a in argv if not a.startswith("-") and a not in (
    "info", "version", "<", "add", "del", "install", "upgrade", "remove", "check-update")]
rc = 0
if tool == "rpm":
    for n in names:
        if n in inst:
            print("%s-%s.x86_64" % (n, inst[n]))
        else:
            print("package %s is not installed" % n)
            rc = 1
elif tool == "dnf" and "check-update" in argv:
    if state.get("no_cache"):
        print("Error: Cache-only enabled but no cache for 'fedora'", file=sys.stderr)
        sys.exit(1)
    for n in names:
        if n in upd:
            print("%s.x86_64    %s    updates" % (n, upd[n]))
            rc = 100
elif tool == "apk" and "info" in argv:
    print("\n".join(n for n in names if n in inst))
    rc = len([n for n in names if n not in inst])
elif tool == "apk" and "version" in argv:
    print("Installed:                                Available:")
    for n in names:
        if n in upd:
            old, new = inst[n].replace("-", "."), upd[n].replace("-", ".")
            print("%s-%s-r0                    < %s-r0" % (n, old, new))
else:
    for n in names:
        if "remove" in argv or "del" in argv:
            inst.pop(n, None)
        elif n in upd and ("upgrade" in argv or "--upgrade" in argv):
            inst[n] = upd.pop(n)
        elif n not in inst:
            inst[n] = state["available"][n]
    state["no_cache"] = False
    with open(STATE, "w") as f:
        json.dump(state, f)
    print("Complete!")
sys.exit(rc)
'''


class FakeManager:
    def __init__(self, root, monkeypatch, state: dict) -> None:
        bin_dir = root / "bin"
        bin_dir.mkdir()
        script = bin_dir / "fake-pkg"
        script.write_text(f"#!{sys.executable}\n{FAKE}")
        script.chmod(0o755)
        for tool in ("rpm", "dnf", "apk"):
            (bin_dir / tool).symlink_to(script)
        self.state_path, self.log = root / "state.json", root / "calls.log"
        self.state_path.write_text(json.dumps(state))
        self.log.write_text("")
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.setenv("FAKE_PKG_STATE", str(self.state_path))
        monkeypatch.setenv("FAKE_PKG_LOG", str(self.log))

    @property
    def installed(self) -> dict:
        return json.loads(self.state_path.read_text())["installed"]

    def writes(self) -> list:
        calls = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [c for c in calls if c[0] != "rpm" and not {"info", "version", "check-update"} & set(c)]


def run_package(args: dict, check: bool = False) -> dict:
    return runner.execute(package, controller_params("package", args), check, True)


STATE = {"installed": {"bash": "5.2.26-3", "vim": "9.1.393-1"}, "updates": {"bash": "5.2.26-4"},
         "available": {"tree": "2.1.1-1", "curl": "8.6.0-r0"}}


@pytest.mark.parametrize("manager", ["dnf", "apk"])
def test_latest_check_then_apply_then_idempotent(manager, tmp_path, monkeypatch) -> None:
    fake = FakeManager(tmp_path, monkeypatch, fresh(STATE))
    args = {"name": ["bash", "tree", "vim"], "state": "latest", "use": manager}
    check = run_package(args, check=True)
    assert check["status"] == "changed", check
    assert check["diff"]["before"] == {"bash": "installed, update available", "tree": "absent"}
    assert check["diff"]["after"] == {"bash": "latest", "tree": "latest"}
    assert fake.writes() == []
    applied = run_package(args)
    assert applied["status"] == "changed", applied
    expected = {"dnf": [["dnf", "-y", "install", "tree"], ["dnf", "-y", "upgrade", "bash"]],
                "apk": [["apk", "add", "--upgrade", "bash", "tree"]]}[manager]
    assert fake.writes() == expected
    assert fake.installed == {"bash": "5.2.26-4", "vim": "9.1.393-1", "tree": "2.1.1-1"}
    assert applied["data"] == {"manager": manager, "stdout": "Complete!\n" * len(expected), "stderr": ""}
    assert run_package(args)["status"] == "ok"


@pytest.mark.parametrize(("manager", "state"), [("dnf", "removed"), ("apk", "absent")])
def test_remove(manager, state, tmp_path, monkeypatch) -> None:
    fake = FakeManager(tmp_path, monkeypatch, fresh(STATE))
    args = {"name": ["vim", "tree"], "state": state, "use": manager}
    result = run_package(args)
    assert result["status"] == "changed" and result["diff"]["before"] == {"vim": "installed"}
    assert fake.writes() == [{"dnf": ["dnf", "-y", "remove", "vim"],
                              "apk": ["apk", "del", "--purge", "vim"]}[manager]]
    assert "vim" not in fake.installed
    assert run_package(args)["status"] == "ok"


def test_dnf_latest_without_a_metadata_cache_upgrades_and_says_so(tmp_path, monkeypatch) -> None:
    state = dict(fresh(STATE), no_cache=True)
    fake = FakeManager(tmp_path, monkeypatch, state)
    args = {"name": ["vim"], "state": "latest", "use": "dnf"}
    check = run_package(args, check=True)
    assert check["diff"]["before"] == {"vim": "installed (updates unknown)"}
    assert run_package(args)["status"] == "changed"
    assert fake.writes() == [["dnf", "-y", "upgrade", "vim"]]
    assert run_package(args)["status"] == "ok"


# -- the apt path: the apt module's behaviour, in small --------------------------------

PACKAGES = {
    "less": {"installed": "590-2", "versions": ["600-1", "590-2"]},
    "tree": {"installed": None, "versions": ["2.1.0-1"], "depends": ["libtree0"]},
    "libtree0": {"installed": None, "versions": ["1.0-1"]},
    "mawk": {"installed": "1.3.4", "versions": ["1.3.4"], "provides": ["awk"]},
}


def run_apt_module(fake: FakeApt, args: dict, check: bool = False) -> dict:
    module = load_module("apt")
    vars(module).update(STAMP=str(fake.stamp), LISTS=str(fake.lists))
    return runner.execute(module, controller_params("apt", args), check, True)


@pytest.mark.parametrize(("names", "state"), [
    (["tree", "less", "awk"], "present"),
    (["tree", "less=600*"], "present"),
    (["tree", "less"], "latest"),
    (["less", "tree"], "absent"),
])
def test_apt_path_behaves_as_the_apt_module(names, state, tmp_path, monkeypatch) -> None:
    results = {}
    for which in ("apt", "package"):
        fake = FakeApt(tmp_path / which, monkeypatch, {"packages": fresh(PACKAGES)})
        args = {"name": names, "state": state}
        if which == "apt":
            check = run_apt_module(fake, args, check=True)
            applied = run_apt_module(fake, args)
            again = run_apt_module(fake, args)
        else:
            args["use"] = "apt"  # the fake toolchain, wherever the tests run
            check = run_package(args, check=True)
            applied = run_package(args)
            again = run_package(args)
        results[which] = (check["status"], check["diff"], fake.writes(), applied["status"],
                          again["status"], fake.installed())
        assert applied["status"] == "changed" and again["status"] == "ok", (which, applied, again)
    assert results["package"] == results["apt"]


def test_apt_path_check_mode_writes_nothing_and_unknown_packages_fail(tmp_path, monkeypatch) -> None:
    fake = FakeApt(tmp_path, monkeypatch, {"packages": fresh(PACKAGES)})
    check = run_package({"name": ["tree"], "state": "present", "use": "apt"}, check=True)
    assert check["status"] == "changed" and check["data"] == {"manager": "apt"}
    assert fake.writes() == []
    for check_mode in (True, False):
        failed = run_package({"name": ["tree", "nosuch"], "state": "present", "use": "apt"},
                             check=check_mode)
        assert failed["status"] == "failed"
        assert failed["msg"] == "No package matching 'nosuch' is available"
    assert fake.writes() == []
    refused = run_package({"name": ["less>=1.0"], "state": "present", "use": "apt"})
    assert refused["status"] == "failed" and "use the apt module" in refused["msg"]


@pytest.mark.parametrize("name", ["apt", "package"])
def test_module_contract(name: str) -> None:
    """What test_module_contract checks for the core modules, for these two."""
    import ast
    import dataclasses

    from fleet.agent import AGENT_MODULES

    from .conftest import MODULES_DIR

    source = (MODULES_DIR / f"{name}.py").read_text("utf-8")
    assert len(source.splitlines()) <= 440, "keep a module to ~400 lines"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            imported = node.module or ""
            assert imported in {f"fleet.agent.{m}" for m in AGENT_MODULES} or (
                imported.split(".")[0] in sys.stdlib_module_names), imported
        elif isinstance(node, ast.Import):
            assert all(a.name.split(".")[0] in sys.stdlib_module_names for a in node.names)
    module = load_module(name)
    first = (module.__doc__ or "").strip().splitlines()[0]
    assert len(first) <= 100 and first.endswith(".")
    fields = {f.name for f in dataclasses.fields(module.Params)}
    assert all(t in fields and a not in fields for a, t in module.ALIASES.items())
    assert callable(module.observe) and callable(module.desired) and callable(module.apply)
