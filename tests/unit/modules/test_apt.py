"""The apt module: parsers of dpkg-query / apt-cache policy / apt-get -s output, command plans,
the cache_valid_time decision, and whole runs (check, apply, re-apply) on a fake toolchain."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import pytest

from fleet.agent import dpkg, runner
from fleet.errors import InputError

from .apt_fakes import FakeApt
from .conftest import controller_params, load_module, unchecked_params


def fresh(data):
    """A deep copy of JSON-like test data (tests change their fake host's state)."""
    return json.loads(json.dumps(data))


apt = load_module("apt")

DPKG = (
    "less\tamd64\tinstall ok installed\t590-2.1~deb12u2\t\n"
    "mawk\tamd64\tinstall ok installed\t1.3.4.20200120-3.1\tawk\n"
    "exim4-daemon-light\tamd64\tinstall ok installed\t4.96-15+deb12u7\t"
    "mail-transport-agent, exim4-localscanner-abi-1 (= 1.0)\n"
    "nano\tamd64\tdeinstall ok config-files\t7.2-1+deb12u1\t\n"
    "tree\tamd64\tunknown ok not-installed\t\t\n"
    "libc6\ti386\tdeinstall ok config-files\t2.36-9+deb12u10\t\n"
    "libc6\tamd64\tinstall ok installed\t2.36-9+deb12u14\t\n"
    "man-db\tamd64\thold ok installed\t2.11.2-2\t\n"
    "systemd\tamd64\tinstall ok triggers-pending\t252.39-1~deb12u1\t\n"
)

POLICY = """tree:
  Installed: (none)
  Candidate: 2.1.0-1
  Version table:
     2.1.0-1 500
        500 http://mirror.invalid/debian bookworm/main amd64 Packages
openssl:
  Installed: 3.0.15-1~deb12u1
  Candidate: 3.0.17-1~deb12u2
  Version table:
     3.0.17-1~deb12u2 500
        500 http://mirror.invalid/debian bookworm/main amd64 Packages
        500 http://mirror.invalid/debian-security bookworm-security/main amd64 Packages
 *** 3.0.15-1~deb12u1 100
        100 /var/lib/dpkg/status
openssh-server:
  Installed: 1:9.2p1-2+deb12u6
  Candidate: 1:9.2p1-2+deb12u6
  Version table:
 *** 1:9.2p1-2+deb12u6 500
        500 http://mirror.invalid/debian bookworm/main amd64 Packages
        100 /var/lib/dpkg/status
     1:9.2p1-2+deb12u5 500
        500 http://mirror.invalid/debian-security bookworm-security/main amd64 Packages
mail-transport-agent:
  Installed: (none)
  Candidate: (none)
  Version table:
libc6:i386:
  Installed: (none)
  Candidate: 2.36-9+deb12u14
  Version table:
     2.36-9+deb12u14 500
        500 http://mirror.invalid/debian bookworm/main i386 Packages
"""

SIMULATION = """NOTE: This is only a simulation!
      apt-get needs root privileges for real execution.
      Keep also in mind that locking is deactivated,
      so don't depend on the relevance to the real current situation!
Reading package lists...
Building dependency tree...
Reading state information...
The following additional packages will be installed:
  libtree0
The following NEW packages will be installed:
  libtree0 tree
The following packages will be upgraded:
  openssl
The following packages will be DOWNGRADED:
  nginx
The following packages will be REMOVED:
  nano* vim-tiny
1 upgraded, 2 newly installed, 1 downgraded, 2 to remove and 104 not upgraded.
Remv vim-tiny [2:9.0.1378-2+deb12u2]
Purg nano [7.2-1+deb12u1]
Inst libtree0 (1.0-1 Debian:12.15/oldstable [amd64])
Inst tree (2.1.0-1 Debian:12.15/oldstable [amd64])
Inst openssl [3.0.15-1~deb12u1] (3.0.17-1~deb12u2 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])
Inst nginx [1.22.1-9+deb12u2] (1.22.1-9 Debian:12.15/oldstable [amd64])
Conf libtree0 (1.0-1 Debian:12.15/oldstable [amd64])
Conf tree (2.1.0-1 Debian:12.15/oldstable [amd64])
Conf openssl (3.0.17-1~deb12u2 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])
Conf nginx (1.22.1-9 Debian:12.15/oldstable [amd64])
"""

RECORD = "APT::Update::Post-Invoke-Success::=touch @STAMP@ 2>/dev/null || true"
OPTS = ["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
        "-o", "DPkg::Lock::Timeout=60"]


def params(**kw):
    return apt.Params(**controller_params("apt", kw))


# -- parsers ---------------------------------------------------------------------------


def test_dpkg_query_output_gives_status_version_and_provides() -> None:
    found = dpkg.parse_dpkg(DPKG)
    assert found["less"] == {"status": "installed", "version": "590-2.1~deb12u2", "provides": []}
    assert found["mawk"]["provides"] == ["awk"]
    assert found["exim4-daemon-light"]["provides"] == ["mail-transport-agent", "exim4-localscanner-abi-1"]
    assert found["nano"]["status"] == "config-files"
    assert found["tree"]["status"] == "not-installed"
    assert found["man-db"]["status"] == "installed"  # held packages are installed
    # the plain name is the installed architecture; name:arch is each one
    assert found["libc6"]["version"] == "2.36-9+deb12u14"
    assert found["libc6:i386"]["status"] == "config-files"
    assert found["libc6:amd64"]["status"] == "installed"


def test_apt_cache_policy_gives_installed_candidate_and_version_table() -> None:
    found = dpkg.parse_policy(POLICY)
    assert found["tree"] == {"installed": None, "candidate": "2.1.0-1", "versions": ["2.1.0-1"]}
    assert found["openssl"]["candidate"] == "3.0.17-1~deb12u2"
    assert found["openssl"]["versions"] == ["3.0.17-1~deb12u2", "3.0.15-1~deb12u1"]
    assert found["openssh-server"]["installed"] == "1:9.2p1-2+deb12u6"
    assert found["openssh-server"]["versions"] == ["1:9.2p1-2+deb12u6", "1:9.2p1-2+deb12u5"]
    assert found["mail-transport-agent"] == {"installed": None, "candidate": None, "versions": []}
    assert found["libc6:i386"]["candidate"] == "2.36-9+deb12u14"


def test_simulation_lists_installs_upgrades_downgrades_and_removals() -> None:
    assert apt.parse_simulation(SIMULATION) == {
        "install": ["libtree0", "tree"],
        "upgrade": ["openssl"],
        "downgrade": ["nginx"],
        "remove": ["vim-tiny", "nano"],
    }
    assert apt.parse_simulation("0 upgraded, 0 newly installed, 0 to remove\n") == {
        "install": [], "upgrade": [], "downgrade": [], "remove": []}


VERSIONS = [
    ("1.0", "1.0", 0),
    ("1.0", "1.00", 0),
    ("1.0", "1.0-1", -1),
    ("1.0~rc1", "1.0", -1),
    ("1.0~rc1-1", "1.0~rc1", 1),
    ("1.0a", "1.0", 1),
    ("1.0+b1", "1.0", 1),
    ("1:0.1", "9.9", 1),
    ("2.36-9+deb12u4", "2.36-9+deb12u14", -1),
    ("590-2.1~deb12u2", "590-2.1", -1),
    ("3.0.17-1~deb12u2", "3.0.15-1~deb12u1", 1),
    ("1.2.3-1ubuntu1", "1.2.3-1", 1),
    ("0:1.0", "1.0", 0),
    ("2:9.0.1378-2", "1:9.1-1", 1),
]


@pytest.mark.parametrize(("a", "b", "sign"), VERSIONS)
def test_versions_compare_in_dpkg_order(a: str, b: str, sign: int) -> None:
    result = dpkg.compare_versions(a, b)
    assert (result > 0) - (result < 0) == sign
    opposite = dpkg.compare_versions(b, a)
    assert (opposite > 0) - (opposite < 0) == -sign


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="no dpkg here to compare with")
def test_version_order_agrees_with_dpkg() -> None:
    for a, b, sign in VERSIONS:
        op = {-1: "lt", 0: "eq", 1: "gt"}[sign]
        assert subprocess.run(["dpkg", "--compare-versions", a, op, b]).returncode == 0, (a, op, b)


def test_package_specs() -> None:
    assert apt.parse_specs(["tree", "nginx=1.22*", "openssl>=3.0", "libc6:i386"]) == [
        ("tree", "", ""), ("nginx", "=", "1.22*"), ("openssl", ">=", "3.0"), ("libc6:i386", "", "")]
    assert apt.parse_specs("tree, less") == [("tree", "", ""), ("less", "", "")]
    assert apt.parse_specs(["tree", "tree"]) == [("tree", "", "")]
    for bad, msg in (("a=1=2", "invalid package spec"), ("-oFoo=bar", "invalid package spec"),
                     ("apt*", "wildcards are not supported")):
        with pytest.raises(apt.ModuleFailure, match=msg):
            apt.parse_specs([bad])
    with pytest.raises(apt.ModuleFailure, match="given twice"):
        apt.parse_specs(["tree=1", "tree=2"])


# -- what each package needs and the plans ----------------------------------------------


def _state(spec: str, p, dpkg_name: str | None = None, provided: bool = False) -> str:
    parsed = apt.parse_specs([spec])[0]
    policy = dpkg.parse_policy(POLICY)
    entry = dpkg.parse_dpkg(DPKG).get(dpkg_name or parsed[0])
    return apt.package_state(parsed, p, entry, policy.get(parsed[0]), provided)


def test_package_states_for_present() -> None:
    p = params(name="x")
    assert _state("less", p) == "present"
    assert _state("tree", p) == "absent"
    assert _state("nosuch", p) == "absent"
    assert _state("nano", p) == "config-files"
    assert _state("systemd", p) == "present"  # triggers pending: installed
    assert _state("less=590-*", p) == "=590-*"
    assert _state("less=600*", p) == "installed 590-2.1~deb12u2"
    assert _state("less>=590", p) == ">=590"
    assert _state("less>=591", p) == "installed 590-2.1~deb12u2"
    assert _state("mail-transport-agent", p, provided=True) == "present"  # virtual, provided
    assert _state("mail-transport-agent", p) == "absent"


def test_package_states_for_latest_and_absent() -> None:
    latest = params(name="x", state="latest")
    assert apt.package_state(("openssl", "", ""), latest,
                             {"status": "installed", "version": "3.0.15-1~deb12u1", "provides": []},
                             dpkg.parse_policy(POLICY)["openssl"]) == (
        "installed 3.0.15-1~deb12u1, candidate 3.0.17-1~deb12u2")
    assert apt.package_state(("openssh-server", "", ""), latest,
                             {"status": "installed", "version": "1:9.2p1-2+deb12u6", "provides": []},
                             dpkg.parse_policy(POLICY)["openssh-server"]) == "latest"
    assert _state("tree", latest) == "absent"
    assert _state("tree", params(name="x", state="latest", only_upgrade=True)) == "latest"
    absent = params(name="x", state="absent")
    assert _state("less", absent) == "installed 590-2.1~deb12u2"
    assert _state("tree", absent) == "absent"
    assert _state("nano", absent) == "absent"  # config files stay without purge
    assert _state("nano", params(name="x", state="absent", purge=True)) == "config-files"
    assert _state("less=600*", absent) == "absent"  # that version is not installed
    assert _state("less=600*", params(name="x", state="absent", purge=True)) == (
        "installed 590-2.1~deb12u2")  # purge: Ansible removes any version that has files


def test_install_tokens_name_the_version_apt_would_pick() -> None:
    policy = dpkg.parse_policy(POLICY)
    assert apt.install_token(("tree", "", ""), policy["tree"]) == "tree=2.1.0-1"
    assert apt.install_token(("openssh-server", "=1:9.2p1-2+deb12u5", ""), None) == "openssh-server"
    assert apt.install_token(("openssh-server", "=", "*u5"), policy["openssh-server"]) == (
        "openssh-server=1:9.2p1-2+deb12u5")
    assert apt.install_token(("openssl", "=", "3.0.1*"), policy["openssl"]) == (
        "openssl=3.0.17-1~deb12u2")  # newest match
    assert apt.install_token(("openssl", "=", "9*"), policy["openssl"]) == "openssl=9*"
    assert apt.install_token(("openssl", ">=", "3.0"), policy["openssl"]) == "openssl=3.0.17-1~deb12u2"
    assert apt.install_token(("mail-transport-agent", "", ""), policy["mail-transport-agent"]) == (
        "mail-transport-agent")


def test_command_plans() -> None:
    base = ["apt-get", "-y", "-q"] + OPTS
    assert apt.apt_command(params(name="x"), "install", ["tree=2.1.0-1"]) == (
        base + ["install", "tree=2.1.0-1"])
    assert apt.apt_command(params(name="x", state="absent"), "remove", ["less", "tree"]) == (
        base + ["remove", "less", "tree"])
    assert apt.apt_command(params(name="x", state="absent", purge=True, autoremove=True),
                           "remove", ["less"]) == base + ["--purge", "--auto-remove", "remove", "less"]
    assert apt.apt_command(params(autoremove=True, purge=True), "autoremove", []) == (
        base + ["--purge", "autoremove"])
    full = params(name="x", state="latest", install_recommends=False, default_release="bookworm-backports",
                  only_upgrade=True, fail_on_autoremove=True, allow_downgrade=True,
                  allow_unauthenticated=True, allow_change_held_packages=True,
                  dpkg_options="force-confnew", lock_timeout=5)
    assert apt.apt_command(full, "install", ["nginx"]) == [
        "apt-get", "-y", "-q", "-o", "Dpkg::Options::=--force-confnew", "-o", "DPkg::Lock::Timeout=5",
        "--only-upgrade", "--no-remove", "-t", "bookworm-backports",
        "-o", "APT::Install-Recommends=no", "--allow-unauthenticated", "--allow-downgrades",
        "--allow-change-held-packages", "install", "nginx"]
    assert "APT::Install-Recommends=yes" in apt.apt_command(
        params(name="x", install_recommends=True), "install", ["a"])
    assert not any("Install-Recommends" in a for a in apt.apt_command(params(name="x"), "install", ["a"]))


def test_aliases_follow_ansible() -> None:
    assert controller_params("apt", {"pkg": ["a"], "update-cache": True, "install-recommends": False,
                                     "allow_downgrades": True})["name"] == ["a"]
    assert controller_params("apt", {"package": "a"})["name"] == "a"
    with pytest.raises(Exception, match="state"):
        controller_params("apt", {"name": "a", "state": "installed"})  # Ansible's apt refuses it too


# -- cache_valid_time --------------------------------------------------------------------


def test_cache_time_is_the_stamp_else_the_lists_directory(tmp_path) -> None:
    stamp, lists = tmp_path / "periodic" / "update-success-stamp", tmp_path / "lists"
    assert apt.cache_mtime(str(stamp), str(lists)) == 0.0
    lists.mkdir()
    os.utime(lists, (1000, 1000))
    assert apt.cache_mtime(str(stamp), str(lists)) == 1000
    stamp.parent.mkdir()
    stamp.touch()
    os.utime(stamp, (2000, 2000))
    assert apt.cache_mtime(str(stamp), str(lists)) == 2000


def test_cache_valid_time_decision(tmp_path) -> None:
    now = time.time()
    stamp = tmp_path / "stamp"
    stamp.touch()
    os.utime(stamp, (now - 600, now - 600))
    mtime = apt.cache_mtime(str(stamp), str(tmp_path / "none"))
    assert apt.cache_is_valid(mtime, 3600, now)
    assert not apt.cache_is_valid(mtime, 300, now)
    assert not apt.cache_is_valid(mtime, 0, now)  # update_cache without a valid time: always
    assert not apt.cache_is_valid(0.0, 3600, now)  # never updated


# -- whole runs on the fake toolchain ---------------------------------------------------

PACKAGES = {
    "less": {"installed": "590-2", "versions": ["600-1", "590-2"]},
    "tree": {"installed": None, "versions": ["2.1.0-1"], "depends": ["libtree0"]},
    "libtree0": {"installed": None, "versions": ["1.0-1"]},
    "nano": {"config": "7.2-1", "versions": ["7.2-1"]},
    "mawk": {"installed": "1.3.4", "versions": ["1.3.4"], "provides": ["awk"]},
    "old-lib": {"installed": "0.9", "versions": ["0.9"], "orphan": True},
}


@pytest.fixture
def fake(tmp_path, monkeypatch):
    return FakeApt(tmp_path, monkeypatch, {"packages": fresh(PACKAGES)})


def run(fake: FakeApt, args: dict, check: bool = False, stamp: str | None = None) -> dict:
    module = load_module("apt")
    vars(module).update(STAMP=stamp or str(fake.stamp), LISTS=str(fake.lists))  # the fake's cache
    return runner.execute(module, controller_params("apt", args), check, True)


def test_install_check_mode_reports_and_writes_nothing_then_one_call_then_idempotent(fake) -> None:
    args = {"name": ["tree", "less", "nano"]}
    check = run(fake, args, check=True)
    assert check["status"] == "changed", check
    assert check["diff"]["before"] == {"tree": "absent", "nano": "config-files"}
    assert check["diff"]["after"] == {"tree": "present", "nano": "present"}
    assert check["data"]["transaction"]["install"] == ["libtree0", "tree", "nano"]
    assert fake.writes() == []
    assert fake.installed().get("tree") is None

    applied = run(fake, args)
    assert applied["status"] == "changed", applied
    installs = [c for c in fake.writes() if c[0] == "apt-get"]
    assert installs == [["apt-get", "-y", "-q"] + OPTS + ["install", "tree=2.1.0-1", "nano=7.2-1"]]
    assert fake.calls("apt-mark") == [["apt-mark", "manual", "less"]]
    assert fake.installed()["tree"] == "2.1.0-1" and fake.installed()["less"] == "590-2"
    assert applied["data"]["transaction"]["install"] == ["libtree0", "tree", "nano"]
    assert "Inst tree" in applied["data"]["stdout"]
    assert applied["data"]["cache_updated"] is False

    fake.clear_log()
    again = run(fake, args)
    assert again["status"] == "ok", again
    assert fake.writes() == []
    assert [c[0] for c in fake.calls()] == ["dpkg-query"]  # installed as asked: nothing else to ask


def test_latest_upgrades_to_the_candidate(fake) -> None:
    result = run(fake, {"name": "less", "state": "latest"})
    assert result["status"] == "changed", result
    assert result["diff"]["before"] == {"less": "installed 590-2, candidate 600-1"}
    assert [c for c in fake.writes() if c[0] == "apt-get"] == [
        ["apt-get", "-y", "-q"] + OPTS + ["install", "less=600-1"]]
    assert result["data"]["transaction"]["upgrade"] == ["less"]
    assert run(fake, {"name": "less", "state": "latest"})["status"] == "ok"


def test_pinned_version_downgrade(fake) -> None:
    result = run(fake, {"name": "less=600*"})
    assert result["status"] == "changed" and fake.installed()["less"] == "600-1"
    down = run(fake, {"name": "less=590-2", "allow_downgrade": True}, check=True)
    assert down["data"]["transaction"]["downgrade"] == ["less"]
    assert run(fake, {"name": "less=590-2", "allow_downgrade": True})["status"] == "changed"
    assert fake.installed()["less"] == "590-2"


def test_remove_and_purge(fake) -> None:
    result = run(fake, {"name": ["less", "tree", "nano"], "state": "absent"})
    assert result["status"] == "changed", result
    assert result["diff"]["before"] == {"less": "installed 590-2"}  # nano: config files stay
    assert [c for c in fake.writes() if c[0] == "apt-get"] == [
        ["apt-get", "-y", "-q"] + OPTS + ["remove", "less"]]
    assert "less" not in fake.installed()
    assert run(fake, {"name": ["less", "tree", "nano"], "state": "absent"})["status"] == "ok"
    purged = run(fake, {"name": ["less", "nano"], "state": "absent", "purge": True})
    assert purged["status"] == "changed", purged
    assert purged["data"]["transaction"]["remove"] == ["less", "nano"]
    assert "config" not in fake.state["packages"]["nano"]
    assert run(fake, {"name": ["less", "nano"], "state": "absent", "purge": True})["status"] == "ok"


def test_virtual_package_provided_by_an_installed_one_is_present(fake) -> None:
    assert run(fake, {"name": "awk"})["status"] == "ok"
    assert fake.writes() == []


def test_unknown_package_fails_in_check_mode_too(fake) -> None:
    for check in (True, False):
        result = run(fake, {"name": ["tree", "nosuch"]}, check=check)
        assert result["status"] == "failed"
        assert result["msg"] == "No package matching 'nosuch' is available"
    assert fake.writes() == []


def test_apt_get_failure_fails_the_task_with_its_error(fake) -> None:
    state = fake.state
    state["install_fails"] = "E: Sub-process /usr/bin/dpkg returned an error code (1)"
    fake.save(state)
    result = run(fake, {"name": "tree"})
    assert result["status"] == "failed"
    assert "install tree=2.1.0-1' failed: E: Sub-process /usr/bin/dpkg returned an error code (1)" in result["msg"]


def test_update_cache_alone_is_a_change_only_when_the_cache_was_updated(fake) -> None:
    fake.age_cache(7200)
    check = run(fake, {"update_cache": True, "cache_valid_time": 3600}, check=True)
    assert check["status"] == "changed" and check["data"]["cache_updated"] is True
    assert check["diff"]["before"] == {"apt_cache": "stale"}
    assert fake.writes() == []

    applied = run(fake, {"update_cache": True, "cache_valid_time": 3600})
    # as Ansible on Debian: the update fetched nothing new, the lists did not move: ok
    assert applied["status"] == "ok", applied
    assert applied["data"]["cache_updated"] is False
    assert abs(applied["data"]["cache_update_time"] - time.time()) < 5
    assert fake.writes() == [["apt-get", "update", "-q", "-o", RECORD.replace("@STAMP@", str(fake.stamp))]]
    assert fake.stamp.exists()  # Debian: the lists did not move, the module's hook wrote the stamp

    fake.clear_log()
    fresh = run(fake, {"update_cache": True, "cache_valid_time": 3600})
    assert fresh["status"] == "ok" and fresh["data"]["cache_updated"] is False
    assert fake.writes() == []
    # without a valid time the cache is always updated, as in Ansible; a change when the lists move
    fake.clear_log()
    assert run(fake, {"update_cache": True})["status"] == "ok"
    assert [c[1] for c in fake.writes()] == ["update"]
    fake.lists_move_on_update()
    moved = run(fake, {"update_cache": True})
    assert moved["status"] == "changed" and moved["data"]["cache_updated"] is True


def test_an_update_that_leaves_no_trace_is_reported_not_hidden(fake, tmp_path) -> None:
    fake.age_cache(7200)
    nowhere = str(tmp_path / "missing-dir" / "stamp")  # the hook cannot touch it
    result = run(fake, {"update_cache": True, "cache_valid_time": 3600}, stamp=nowhere)
    assert result["status"] == "ok", result
    assert result["warnings"] == [
        f"apt_cache: apt-get update succeeded but did not touch {nowhere} or {fake.lists}"]
    assert result["data"]["cache_updated"] is False  # as Ansible: the cache time did not move


def test_update_first_makes_new_packages_installable(fake) -> None:
    fake.age_cache(7200)
    state = fake.state
    state["after_update"] = {"htop": {"installed": None, "versions": ["3.2.2-2"]}}
    fake.save(state)
    args = {"name": ["htop", "less"], "update_cache": True, "cache_valid_time": 3600}
    check = run(fake, args, check=True)  # not known before the update: not simulated, not failed
    assert check["status"] == "changed", check
    assert check["diff"]["after"] == {"apt_cache": "fresh", "htop": "present"}
    assert fake.writes() == []
    applied = run(fake, args)
    assert applied["status"] == "changed", applied
    assert [c[1] if c[1] == "update" else c[-1] for c in fake.writes() if c[0] == "apt-get"] == [
        "update", "htop=3.2.2-2"]
    assert run(fake, args)["status"] == "ok"


def test_failed_update_fails_after_the_retries(fake) -> None:
    fake.age_cache(7200)
    state = fake.state
    state["update_fails"] = True
    fake.save(state)
    result = run(fake, {"name": "tree", "update_cache": True, "update_cache_retries": 1})
    assert result["status"] == "failed"
    assert result["msg"].startswith("Failed to update apt cache after 1 retries: E: Failed to fetch")
    assert "tree" not in fake.installed()


def test_an_update_that_fetched_nothing_fails_although_apt_get_exits_0(fake) -> None:
    fake.age_cache(7200)
    state = fake.state
    state["update_warns"] = True
    fake.save(state)
    result = run(fake, {"update_cache": True, "cache_valid_time": 3600, "update_cache_retries": 1})
    assert result["status"] == "failed", result
    assert result["msg"].startswith("Failed to update apt cache after 1 retries: W: Failed to fetch "
                                    "http://mirror.invalid/"), result["msg"]


def test_update_is_retried_with_ansibles_backoff(fake, monkeypatch) -> None:
    fake.age_cache(7200)
    state = fake.state
    state["update_fails"] = 2
    fake.save(state)
    fake.lists_move_on_update()
    slept: list = []
    monkeypatch.setattr(time, "sleep", slept.append)
    result = run(fake, {"update_cache": True, "update_cache_retry_max_delay": 1})
    assert result["status"] == "changed", result
    assert [c[1] for c in fake.writes()] == ["update", "update", "update"]
    assert len(slept) == 2 and all(1 <= s < 2 for s in slept)  # 2**n capped at the max, + jitter


def test_autoremove_alone(fake) -> None:
    check = run(fake, {"autoremove": True}, check=True)
    assert check["status"] == "changed" and check["diff"]["before"] == {"autoremove_pending": ["old-lib"]}
    assert "old-lib" in fake.installed()
    assert run(fake, {"autoremove": True})["status"] == "changed"
    assert "old-lib" not in fake.installed()
    assert run(fake, {"autoremove": True})["status"] == "ok"


def test_nothing_to_do_is_an_error() -> None:
    with pytest.raises(InputError, match="one of the following is required"):  # before connecting
        controller_params("apt", {})
    result = runner.execute(apt, unchecked_params("apt", {}), True, False)  # and on the host
    assert result["status"] == "failed" and "one of the following is required" in result["msg"]
